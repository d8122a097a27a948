-- hardening. Machine tokens expire and can be revoked (a token made before this
-- expires 90 days after it was made); a user name must not hide a NUL byte, which
-- SQLite's length() and GLOB stop at.
ALTER TABLE api_tokens ADD COLUMN expires_at REAL;
UPDATE api_tokens SET expires_at = created_at + 7776000;
ALTER TABLE api_tokens ADD COLUMN revoked_at REAL;
ALTER TABLE api_tokens ADD COLUMN revoked_by TEXT;
ALTER TABLE api_tokens ADD COLUMN last_used_at REAL;
CREATE TRIGGER users_name_bytes BEFORE INSERT ON users
WHEN length(CAST(NEW.username AS BLOB)) != length(NEW.username)
BEGIN
    SELECT RAISE(ABORT, 'a user name may only hold a-z, 0-9, ., _ and -');
END;
