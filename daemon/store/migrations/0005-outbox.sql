-- the notification outbox: a message is written with the alarm change it reports, in
-- the same transaction, and stays until it is delivered (or given up on, and shown)
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook', 'digest')),
    alarm_id INTEGER,
    created_at REAL NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT,
    sent_at REAL,
    failed_at REAL,
    digest_id INTEGER,
    expires_at REAL NOT NULL,
    CHECK (expires_at > created_at)
);
CREATE INDEX outbox_due ON outbox (sent_at, failed_at, next_attempt_at);
CREATE INDEX outbox_expires ON outbox (expires_at);
