-- watchlist. A loss-prevention entry: only its face template is kept, transformed by the
-- site's keyed rotation and sealed with the site's template key (key_id names the key
-- generation), with the incident reference, category, who registered and who approved it
-- (never the same administrator: the CHECK), and an expiry of three years at most.
-- Registration photos are not kept.
CREATE TABLE watchlist (
    id INTEGER PRIMARY KEY,
    reference TEXT NOT NULL CHECK (length(trim(reference)) BETWEEN 1 AND 100),
    category TEXT NOT NULL CHECK (category IN ('theft', 'violence', 'fraud', 'other')),
    gate_id INTEGER NOT NULL REFERENCES gates (id),
    model_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    template BLOB NOT NULL,
    photos INTEGER NOT NULL CHECK (photos BETWEEN 1 AND 5),
    proposed_by TEXT NOT NULL,
    proposed_at REAL NOT NULL,
    approved_by TEXT CHECK (approved_by IS NULL OR approved_by != proposed_by),
    approved_at REAL,
    state TEXT NOT NULL DEFAULT 'proposed'
        CHECK (state IN ('proposed', 'active', 'refused', 'removed')),
    reason TEXT,
    expires_at REAL NOT NULL CHECK (expires_at <= proposed_at + 94608000),
    CHECK (state != 'active' OR approved_by IS NOT NULL)
);
CREATE INDEX watchlist_state ON watchlist (state, expires_at);
