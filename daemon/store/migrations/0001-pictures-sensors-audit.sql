-- pictures, sensor records, audit log, health snapshot
CREATE TABLE media (
    id TEXT PRIMARY KEY,
    camera TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('fridge', 'floor', 'evidence')),
    trigger TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    legal_hold TEXT,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    redaction TEXT NOT NULL,
    blank_reason TEXT,
    CHECK (expires_at > created_at),
    CHECK (legal_hold IS NULL OR kind = 'evidence'),
    CHECK (kind != 'fridge' OR expires_at <= created_at + 2592000),
    CHECK (kind != 'floor' OR expires_at <= created_at + 2592000),
    CHECK (kind != 'evidence' OR expires_at <= created_at
           + CASE WHEN legal_hold IS NULL THEN 259200 ELSE 2592000 END)
);
CREATE INDEX media_expires ON media (expires_at);
CREATE INDEX media_camera_time ON media (camera, created_at);

CREATE TABLE temperature_readings (
    id INTEGER PRIMARY KEY,
    received_at REAL NOT NULL,
    seq INTEGER NOT NULL,
    uptime_ms INTEGER NOT NULL,
    probe TEXT NOT NULL,
    centi_c INTEGER NOT NULL CHECK (centi_c BETWEEN -5500 AND 12500),
    expires_at REAL NOT NULL CHECK (expires_at > received_at)
);
CREATE INDEX temperature_probe_time ON temperature_readings (probe, received_at);
CREATE INDEX temperature_expires ON temperature_readings (expires_at);

CREATE TABLE door_events (
    id INTEGER PRIMARY KEY,
    received_at REAL NOT NULL,
    seq INTEGER NOT NULL,
    uptime_ms INTEGER NOT NULL,
    door TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    expires_at REAL NOT NULL CHECK (expires_at > received_at)
);
CREATE INDEX door_time ON door_events (door, received_at);
CREATE INDEX door_expires ON door_events (expires_at);

CREATE TABLE sensor_faults (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    expires_at REAL NOT NULL CHECK (expires_at > at)
);
CREATE INDEX fault_expires ON sensor_faults (expires_at);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    ip TEXT,
    agent TEXT,
    action TEXT NOT NULL,
    object TEXT,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    expires_at REAL NOT NULL,
    CHECK (expires_at > at AND expires_at <= at + 15811200)
);
CREATE INDEX audit_expires ON audit_log (expires_at);

CREATE TABLE health (
    component TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('ok', 'warning', 'error', 'stopped')),
    message TEXT NOT NULL,
    since REAL NOT NULL,
    updated_at REAL NOT NULL
);
