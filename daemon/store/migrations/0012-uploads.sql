-- research uploads. The ledger of every object sent to the chain's object storage: what
-- it holds (a clip or its events), its key, size and SHA-256, when it was sent and when
-- it was deleted there. delete_at is 30 days from the clip's first frame at most, like
-- the clip itself; the ledger row (no personal data) outlives it by a year, as proof.
CREATE TABLE uploads (
    id INTEGER PRIMARY KEY,
    media_id TEXT NOT NULL,
    part TEXT NOT NULL CHECK (part IN ('clip', 'events')),
    study_id INTEGER NOT NULL REFERENCES studies (id),
    object_key TEXT NOT NULL UNIQUE,
    recorded_at REAL NOT NULL,
    delete_at REAL NOT NULL CHECK (delete_at <= recorded_at + 2592000),
    key_id TEXT,
    size INTEGER,
    sha256 TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT,
    uploaded_at REAL,
    deleted_at REAL,
    expires_at REAL NOT NULL CHECK (expires_at > delete_at),
    UNIQUE (media_id, part)
);
CREATE INDEX uploads_due ON uploads (uploaded_at, next_attempt_at);
CREATE INDEX uploads_delete ON uploads (deleted_at, delete_at);
