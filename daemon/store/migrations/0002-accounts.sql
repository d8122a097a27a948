-- web UI accounts and sessions; at most two active administrators per site
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE
        CHECK (length(username) BETWEEN 3 AND 32 AND username NOT GLOB '*[^a-z0-9._-]*'),
    role TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'technician', 'auditor')),
    password_hash TEXT NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    password_changed_at REAL NOT NULL,
    must_change INTEGER NOT NULL DEFAULT 0 CHECK (must_change IN (0, 1)),
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until REAL,
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at REAL NOT NULL
);
CREATE TRIGGER users_two_admins_insert BEFORE INSERT ON users
WHEN NEW.role = 'admin' AND NEW.disabled = 0
    AND (SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0) >= 2
BEGIN
    SELECT RAISE(ABORT, 'at most two administrators per site');
END;
CREATE TRIGGER users_two_admins_update BEFORE UPDATE OF role, disabled ON users
WHEN NEW.role = 'admin' AND NEW.disabled = 0 AND (OLD.role != 'admin' OR OLD.disabled = 1)
    AND (SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0) >= 2
BEGIN
    SELECT RAISE(ABORT, 'at most two administrators per site');
END;

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    last_seen REAL NOT NULL,
    csrf TEXT NOT NULL,
    ip TEXT,
    agent TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
