-- credentials and feature gates. An account's earlier password hashes (the last
-- four, with the current one five) so a password cannot come back; and the decisions
-- that open a feature processing people beyond redaction: proposed by one administrator
-- with its legal basis, purpose, impact assessment and signage, approved by the other.
CREATE TABLE password_history (
    user_id INTEGER NOT NULL REFERENCES users (id),
    password_hash TEXT NOT NULL,
    replaced_at REAL NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, replaced_at);
CREATE TABLE gates (
    id INTEGER PRIMARY KEY,
    feature TEXT NOT NULL CHECK (feature IN
        ('research', 'watchlist', 'counting_dedup', 'uploads')),
    legal_basis TEXT NOT NULL CHECK (length(trim(legal_basis)) BETWEEN 1 AND 300),
    purpose TEXT NOT NULL CHECK (length(trim(purpose)) BETWEEN 1 AND 500),
    dpia_ref TEXT NOT NULL CHECK (length(trim(dpia_ref)) BETWEEN 1 AND 100),
    signage TEXT NOT NULL CHECK (length(trim(signage)) BETWEEN 1 AND 300),
    proposed_by TEXT NOT NULL,
    proposed_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'proposed'
        CHECK (state IN ('proposed', 'open', 'refused', 'closed')),
    decided_by TEXT CHECK (decided_by IS NULL OR decided_by != proposed_by),
    decided_at REAL,
    closed_by TEXT,
    closed_at REAL,
    reason TEXT,
    CHECK (state = 'proposed' OR decided_at IS NOT NULL OR state = 'closed'),
    CHECK (state != 'open' OR decided_by IS NOT NULL)
);
CREATE UNIQUE INDEX gates_live ON gates (feature) WHERE state IN ('proposed', 'open');
