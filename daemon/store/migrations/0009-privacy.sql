-- privacy operations. Each picture gets its own data key, wrapped by the media KEK
-- (kid), so erasing its row destroys the key; dek_next is the key a rotation is moving
-- it to. Shoppers' requests, disclosures, legal holds and breaches are registers kept
-- under the 'requests' class (3 years); deletions are counted for the retention report.
ALTER TABLE media ADD COLUMN kid TEXT;
ALTER TABLE media ADD COLUMN dek BLOB;
ALTER TABLE media ADD COLUMN dek_next BLOB;
ALTER TABLE media ADD COLUMN restricted_by INTEGER;
ALTER TABLE media ADD COLUMN hold_id INTEGER;
ALTER TABLE media ADD COLUMN note TEXT;
CREATE INDEX media_kid ON media (kid);
CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN
        ('access', 'rectification', 'erasure', 'restriction', 'objection', 'complaint')),
    received_at REAL NOT NULL,
    channel TEXT NOT NULL CHECK (length(channel) BETWEEN 1 AND 40),
    identity_check TEXT NOT NULL CHECK (length(identity_check) BETWEEN 1 AND 500),
    description TEXT NOT NULL CHECK (length(description) BETWEEN 1 AND 2000),
    cameras TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(cameras)),
    window_from REAL,
    window_to REAL,
    processing TEXT,
    correction TEXT,
    due_at REAL NOT NULL CHECK (due_at > received_at AND due_at <= received_at + 604800),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered', 'refused')),
    actions TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(actions)),
    reply TEXT,
    replied_at REAL,
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL CHECK (expires_at <= created_at + 94608000),
    CHECK (window_to IS NULL OR window_to > window_from),
    CHECK (status = 'open' OR length(trim(reply)) > 0)
);
CREATE INDEX requests_due ON requests (status, due_at);
CREATE TABLE objections (
    request_id INTEGER NOT NULL REFERENCES requests (id),
    processing TEXT NOT NULL,
    camera TEXT,
    window_from REAL NOT NULL,
    window_to REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX objections_processing ON objections (processing, window_from);
CREATE TABLE disclosures (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    recipient TEXT NOT NULL CHECK (length(trim(recipient)) BETWEEN 1 AND 200),
    legal_basis TEXT NOT NULL CHECK (length(trim(legal_basis)) BETWEEN 1 AND 300),
    purpose TEXT NOT NULL CHECK (length(trim(purpose)) BETWEEN 1 AND 500),
    items TEXT NOT NULL CHECK (json_valid(items)),
    request_id INTEGER REFERENCES requests (id),
    approved_by TEXT NOT NULL,
    valid_until REAL NOT NULL CHECK (valid_until > at),
    exports INTEGER NOT NULL DEFAULT 0,
    expires_at REAL NOT NULL CHECK (expires_at <= at + 94608000)
);
CREATE TABLE disclosed (
    disclosure_id INTEGER NOT NULL REFERENCES disclosures (id),
    item TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (disclosure_id, item)
);
CREATE INDEX disclosed_item ON disclosed (item);
CREATE TABLE legal_holds (
    id INTEGER PRIMARY KEY,
    class TEXT NOT NULL,
    camera TEXT,
    window_from REAL NOT NULL,
    window_to REAL NOT NULL CHECK (window_to > window_from),
    reason TEXT NOT NULL CHECK (length(trim(reason)) BETWEEN 1 AND 500),
    reference TEXT NOT NULL CHECK (length(trim(reference)) BETWEEN 1 AND 100),
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    until REAL NOT NULL CHECK (until > created_at),
    items INTEGER NOT NULL DEFAULT 0,
    lifted_at REAL,
    lifted_by TEXT,
    expires_at REAL NOT NULL CHECK (expires_at <= created_at + 94608000)
);
CREATE TABLE breaches (
    id INTEGER PRIMARY KEY,
    discovered_at REAL NOT NULL,
    recorded_at REAL NOT NULL,
    recorded_by TEXT NOT NULL,
    summary TEXT NOT NULL CHECK (length(trim(summary)) BETWEEN 1 AND 500),
    affected TEXT NOT NULL CHECK (length(trim(affected)) BETWEEN 1 AND 2000),
    decisions TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(decisions)),
    notified_at REAL,
    notified_ref TEXT,
    not_required TEXT,
    decided_by TEXT,
    expires_at REAL NOT NULL CHECK (expires_at <= recorded_at + 94608000),
    CHECK (notified_at IS NULL OR not_required IS NULL)
);
CREATE TABLE deletions (
    day TEXT NOT NULL,
    class TEXT NOT NULL,
    reason TEXT NOT NULL,
    count INTEGER NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (day, class, reason)
);
