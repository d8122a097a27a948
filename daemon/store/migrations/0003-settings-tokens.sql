-- web UI settings and machine tokens for the JSON API
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    changed_at REAL NOT NULL,
    changed_by TEXT NOT NULL
);
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('manager', 'technician', 'auditor')),
    created_at REAL NOT NULL,
    created_by TEXT NOT NULL
);
