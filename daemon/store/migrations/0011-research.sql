-- research. A study (dates, cameras, the area on each camera's view) under an open
-- research gate; its redacted clips are media of kind 'clip' (30 days from recording at
-- most, like the study's own promise), with their length and blanked-frame count; the
-- movement events of each clip, without identity, go with the clip. SQLite cannot
-- change a CHECK in place, so media is rebuilt with the new kind.
CREATE TABLE media_new (
    id TEXT PRIMARY KEY,
    camera TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('fridge', 'floor', 'evidence', 'clip')),
    trigger TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    legal_hold TEXT,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    redaction TEXT NOT NULL,
    blank_reason TEXT,
    kid TEXT,
    dek BLOB,
    dek_next BLOB,
    restricted_by INTEGER,
    hold_id INTEGER,
    note TEXT,
    study_id INTEGER,
    duration REAL,
    frames INTEGER,
    blank_frames INTEGER,
    CHECK (expires_at > created_at),
    CHECK (legal_hold IS NULL OR kind = 'evidence'),
    CHECK (kind != 'fridge' OR expires_at <= created_at + 2592000),
    CHECK (kind != 'floor' OR expires_at <= created_at + 2592000),
    CHECK (kind != 'clip' OR expires_at <= created_at + 2592000),
    CHECK (kind != 'evidence' OR expires_at <= created_at
           + CASE WHEN legal_hold IS NULL THEN 259200 ELSE 2592000 END),
    CHECK ((kind = 'clip') = (study_id IS NOT NULL))
);
INSERT INTO media_new (id, camera, kind, trigger, created_at, expires_at, legal_hold, width,
    height, bytes, redaction, blank_reason, kid, dek, dek_next, restricted_by, hold_id, note)
SELECT id, camera, kind, trigger, created_at, expires_at, legal_hold, width,
    height, bytes, redaction, blank_reason, kid, dek, dek_next, restricted_by, hold_id, note
FROM media;
DROP TABLE media;
ALTER TABLE media_new RENAME TO media;
CREATE INDEX media_expires ON media (expires_at);
CREATE INDEX media_camera_time ON media (camera, created_at);
CREATE INDEX media_kid ON media (kid);
CREATE INDEX media_study ON media (study_id) WHERE study_id IS NOT NULL;
CREATE TABLE studies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 100),
    purpose TEXT NOT NULL CHECK (length(trim(purpose)) BETWEEN 1 AND 500),
    legal_basis TEXT NOT NULL CHECK (length(trim(legal_basis)) BETWEEN 1 AND 300),
    starts_at REAL NOT NULL,
    ends_at REAL NOT NULL CHECK (ends_at > starts_at AND ends_at <= starts_at + 7948800),
    cameras TEXT NOT NULL CHECK (json_valid(cameras) AND json_array_length(cameras) > 0),
    areas TEXT NOT NULL CHECK (json_valid(areas)),
    zones TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(zones)),
    gate_id INTEGER NOT NULL REFERENCES gates (id),
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    stopped_at REAL,
    stopped_by TEXT,
    stop_reason TEXT
);
CREATE TABLE research_events (
    id INTEGER PRIMARY KEY,
    clip_id TEXT NOT NULL,
    study_id INTEGER NOT NULL REFERENCES studies (id),
    track INTEGER NOT NULL CHECK (track >= 0),
    at REAL NOT NULL CHECK (at >= 0),
    kind TEXT NOT NULL CHECK (kind IN ('enter', 'dwell', 'reach', 'take')),
    zone TEXT,
    x REAL,
    y REAL,
    depth_mm REAL,
    duration REAL,
    expires_at REAL NOT NULL
);
CREATE INDEX research_events_clip ON research_events (clip_id);
CREATE TRIGGER media_clip_events AFTER DELETE ON media WHEN old.kind = 'clip'
BEGIN
    DELETE FROM research_events WHERE clip_id = old.id;
END;
