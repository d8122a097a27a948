-- stock monitoring. The catalogue (products, each fridge camera's facings) is the
-- store's own data, kept until changed; checks of stills and each facing's state in them
-- are records (retention class stock_records), never pictures.
CREATE TABLE products (
    sku TEXT PRIMARY KEY CHECK (length(sku) BETWEEN 1 AND 64),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    brand TEXT NOT NULL DEFAULT '',
    authorised INTEGER NOT NULL DEFAULT 1 CHECK (authorised IN (0, 1)),
    image BLOB,
    updated_at REAL NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE TABLE facings (
    id INTEGER PRIMARY KEY,
    camera TEXT NOT NULL,
    shelf INTEGER NOT NULL CHECK (shelf BETWEEN 1 AND 20),
    position INTEGER NOT NULL CHECK (position BETWEEN 1 AND 100),
    sku TEXT NOT NULL REFERENCES products (sku) ON UPDATE CASCADE,
    capacity INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 24),
    polygon TEXT NOT NULL CHECK (json_valid(polygon)),
    UNIQUE (camera, shelf, position)
);
CREATE TABLE stock_checks (
    id INTEGER PRIMARY KEY,
    media_id TEXT NOT NULL UNIQUE,
    camera TEXT NOT NULL,
    at REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'rejected')),
    reason TEXT NOT NULL DEFAULT '',
    fill REAL,
    compliance REAL,
    purity REAL,
    facings_seen INTEGER,
    summary TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(summary)),
    analysis_ms REAL,
    expires_at REAL NOT NULL,
    CHECK (expires_at > at),
    CHECK (status = 'ok' OR fill IS NULL)
);
CREATE INDEX stock_checks_camera_time ON stock_checks (camera, at);
CREATE INDEX stock_checks_expires ON stock_checks (expires_at);
CREATE TABLE facing_states (
    check_id INTEGER NOT NULL REFERENCES stock_checks (id) ON DELETE CASCADE,
    facing_id INTEGER NOT NULL,
    camera TEXT NOT NULL,
    sku TEXT NOT NULL,
    at REAL NOT NULL,
    state TEXT NOT NULL
        CHECK (state IN ('full', 'partial', 'empty', 'wrong_product', 'unknown')),
    fill REAL CHECK (fill IS NULL OR fill BETWEEN 0 AND 1),
    confidence REAL NOT NULL,
    seen_sku TEXT,
    reason TEXT NOT NULL DEFAULT '',
    expires_at REAL NOT NULL,
    PRIMARY KEY (check_id, facing_id)
);
CREATE INDEX facing_states_time ON facing_states (camera, at);
CREATE INDEX facing_states_sku ON facing_states (sku, at);
CREATE INDEX facing_states_expires ON facing_states (expires_at);
