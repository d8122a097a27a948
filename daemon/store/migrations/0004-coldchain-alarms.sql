-- cold-chain alarms; kept with the sensor records they are about
CREATE TABLE alarms (
    id INTEGER PRIMARY KEY,
    cabinet TEXT NOT NULL,
    rule TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('warning', 'alarm')),
    opened_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    closed_at REAL,
    peak REAL,
    message TEXT NOT NULL,
    acked_at REAL,
    acked_by TEXT,
    ack_comment TEXT,
    expires_at REAL NOT NULL,
    CHECK (closed_at IS NULL OR closed_at >= opened_at),
    CHECK (acked_at IS NULL OR length(trim(ack_comment)) > 0)
);
CREATE INDEX alarms_open ON alarms (closed_at, cabinet, rule);
CREATE INDEX alarms_expires ON alarms (expires_at);
