-- visitor counts. People crossing a counting camera's line, per camera and 15 minutes:
-- in, out, and staff not counted. Numbers only: no picture, box, track or template.
CREATE TABLE visitor_counts (
    camera TEXT NOT NULL,
    bucket REAL NOT NULL,
    entered INTEGER NOT NULL DEFAULT 0 CHECK (entered >= 0),
    exited INTEGER NOT NULL DEFAULT 0 CHECK (exited >= 0),
    staff INTEGER NOT NULL DEFAULT 0 CHECK (staff >= 0),
    expires_at REAL NOT NULL,
    PRIMARY KEY (camera, bucket)
);
CREATE INDEX visitor_counts_expires ON visitor_counts (expires_at);
