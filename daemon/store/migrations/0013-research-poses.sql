-- research poses. Each person's body landmarks per frame of a research clip, under the
-- clip's own track id (never linked across clips): shoulders, elbows, wrists, fingertips,
-- hips, knees and ankles as fractions of the picture, never the face's landmarks. They go
-- with their clip (the trigger) and expire with it.
CREATE TABLE research_poses (
    id INTEGER PRIMARY KEY,
    clip_id TEXT NOT NULL,
    study_id INTEGER NOT NULL REFERENCES studies (id),
    track INTEGER NOT NULL CHECK (track >= 0),
    at REAL NOT NULL CHECK (at >= 0),
    points TEXT NOT NULL CHECK (json_valid(points)),
    expires_at REAL NOT NULL
);
CREATE INDEX research_poses_clip ON research_poses (clip_id);
DROP TRIGGER media_clip_events;
CREATE TRIGGER media_clip_events AFTER DELETE ON media WHEN old.kind = 'clip'
BEGIN
    DELETE FROM research_events WHERE clip_id = old.id;
    DELETE FROM research_poses WHERE clip_id = old.id;
END;
