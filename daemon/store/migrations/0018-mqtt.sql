-- the MQTT outbox. Every message to the chain's broker is written here first (an alarm in
-- the same transaction as the alarm change it reports) and delivered in id order with
-- QoS 1. Telemetry is deleted when the broker acknowledges it; alarms and audit heads are
-- kept, marked sent, until expires_at, as the record of what left the box and when.
-- While the broker is away only telemetry is dropped, oldest first, past the configured
-- limit; mqtt_dropped counts what was.
CREATE TABLE mqtt_outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('telemetry', 'alarm', 'audit', 'state')),
    topic TEXT NOT NULL CHECK (length(topic) BETWEEN 1 AND 400),
    payload BLOB NOT NULL CHECK (length(payload) <= 4194304),
    retain INTEGER NOT NULL DEFAULT 0 CHECK (retain IN (0, 1)),
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at REAL,
    expires_at REAL NOT NULL,
    CHECK (expires_at > created_at)
);
CREATE INDEX mqtt_outbox_waiting ON mqtt_outbox (sent_at, id);
CREATE INDEX mqtt_outbox_telemetry ON mqtt_outbox (kind, sent_at, id);
CREATE INDEX mqtt_outbox_expires ON mqtt_outbox (expires_at);
CREATE TABLE mqtt_dropped (
    kind TEXT PRIMARY KEY,
    dropped INTEGER NOT NULL DEFAULT 0,
    last_at REAL
);
-- commands from head office: each nonce once. Kept until the command's expiry (at most a
-- day ahead), after which the expiry alone refuses it.
CREATE TABLE mqtt_nonces (
    nonce TEXT PRIMARY KEY,
    seen_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX mqtt_nonces_expires ON mqtt_nonces (expires_at);
