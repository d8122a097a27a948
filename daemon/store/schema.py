"""Numbered migrations; ``PRAGMA user_version`` records how far a database has come.

Caps are literal numbers here on purpose: a migration is history and must not
change when code does. ``tests/daemon/store/test_schema.py`` checks they match
``veilcam.retention``.
"""

from __future__ import annotations

import sqlite3

from veilcam.errors import StoreError

MIGRATIONS: list[str] = [
    # 1: pictures, sensor records, audit log, health snapshot
    """
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
    """,
    # 2: web UI accounts and sessions; at most two active administrators per site
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE
            CHECK (length(username) BETWEEN 3 AND 32 AND username NOT GLOB '*[^a-z0-9._-]*'),
        role TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'technician', 'auditor')),
        password_hash TEXT NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
        password_changed_at REAL NOT NULL,
        must_change INTEGER NOT NULL DEFAULT 0 CHECK (must_change IN (0, 1)),
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until REAL,
        disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
        created_at REAL NOT NULL
    );
    CREATE TRIGGER users_two_admins_insert BEFORE INSERT ON users
    WHEN NEW.role = 'admin' AND NEW.disabled = 0
        AND (SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0) >= 2
    BEGIN
        SELECT RAISE(ABORT, 'at most two administrators per site');
    END;
    CREATE TRIGGER users_two_admins_update BEFORE UPDATE OF role, disabled ON users
    WHEN NEW.role = 'admin' AND NEW.disabled = 0 AND (OLD.role != 'admin' OR OLD.disabled = 1)
        AND (SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0) >= 2
    BEGIN
        SELECT RAISE(ABORT, 'at most two administrators per site');
    END;

    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at REAL NOT NULL,
        last_seen REAL NOT NULL,
        csrf TEXT NOT NULL,
        ip TEXT,
        agent TEXT
    );
    CREATE INDEX sessions_user ON sessions (user_id);
    """,
    # 3: web UI settings and machine tokens for the JSON API
    """
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
    """,
    # 4: cold-chain alarms; kept with the sensor records they are about
    """
    CREATE TABLE alarms (
        id INTEGER PRIMARY KEY,
        cabinet TEXT NOT NULL,
        rule TEXT NOT NULL,
        level TEXT NOT NULL CHECK (level IN ('warning', 'alarm')),
        opened_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        closed_at REAL,
        peak REAL,
        message TEXT NOT NULL,
        acked_at REAL,
        acked_by TEXT,
        ack_comment TEXT,
        expires_at REAL NOT NULL,
        CHECK (closed_at IS NULL OR closed_at >= opened_at),
        CHECK (acked_at IS NULL OR length(trim(ack_comment)) > 0)
    );
    CREATE INDEX alarms_open ON alarms (closed_at, cabinet, rule);
    CREATE INDEX alarms_expires ON alarms (expires_at);
    """,
    # 5: the notification outbox: a message is written with the alarm change it reports, in
    # the same transaction, and stays until it is delivered (or given up on, and shown)
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook', 'digest')),
        alarm_id INTEGER,
        created_at REAL NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        last_error TEXT,
        sent_at REAL,
        failed_at REAL,
        digest_id INTEGER,
        expires_at REAL NOT NULL,
        CHECK (expires_at > created_at)
    );
    CREATE INDEX outbox_due ON outbox (sent_at, failed_at, next_attempt_at);
    CREATE INDEX outbox_expires ON outbox (expires_at);
    """,
    # 6: hardening. Machine tokens expire and can be revoked (a token made before this
    # expires 90 days after it was made); a user name must not hide a NUL byte, which
    # SQLite's length() and GLOB stop at.
    """
    ALTER TABLE api_tokens ADD COLUMN expires_at REAL;
    UPDATE api_tokens SET expires_at = created_at + 7776000;
    ALTER TABLE api_tokens ADD COLUMN revoked_at REAL;
    ALTER TABLE api_tokens ADD COLUMN revoked_by TEXT;
    ALTER TABLE api_tokens ADD COLUMN last_used_at REAL;
    CREATE TRIGGER users_name_bytes BEFORE INSERT ON users
    WHEN length(CAST(NEW.username AS BLOB)) != length(NEW.username)
    BEGIN
        SELECT RAISE(ABORT, 'a user name may only hold a-z, 0-9, ., _ and -');
    END;
    """,
    # 7: one alerts table for every source: cold chain, stock, and later privacy deadlines,
    # the watchlist and the fleet. An alarm is about a subject (a cabinet, a fridge).
    """
    ALTER TABLE alarms RENAME COLUMN cabinet TO subject;
    ALTER TABLE alarms ADD COLUMN source TEXT NOT NULL DEFAULT 'coldchain';
    DROP INDEX alarms_open;
    CREATE INDEX alarms_open ON alarms (closed_at, source, subject, rule);
    """,
    # 8: stock monitoring. The catalogue (products, each fridge camera's facings) is the
    # store's own data, kept until changed; checks of stills and each facing's state in them
    # are records (retention class stock_records), never pictures.
    """
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
    """,
    # 9: privacy operations. Each picture gets its own data key, wrapped by the media KEK
    # (kid), so erasing its row destroys the key; dek_next is the key a rotation is moving
    # it to. Shoppers' requests, disclosures, legal holds and breaches are registers kept
    # under the 'requests' class (3 years); deletions are counted for the retention report.
    """
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
    """,
    # 10: credentials and feature gates. An account's earlier password hashes (the last
    # four, with the current one five) so a password cannot come back; and the decisions
    # that open a feature processing people beyond redaction: proposed by one administrator
    # with its legal basis, purpose, impact assessment and signage, approved by the other.
    """
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
    """,
]


def _newer(version: int) -> StoreError:
    return StoreError(
        f"database schema version {version} is newer than this veilcam "
        f"({len(MIGRATIONS)}); upgrade veilcam instead of downgrading"
    )


def check_version(conn: sqlite3.Connection) -> None:
    """For a process that reads beside the daemon: the schema must be this veilcam's."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise _newer(version)
    if version < len(MIGRATIONS):
        raise StoreError(
            f"database schema version {version} is older than this veilcam "
            f"({len(MIGRATIONS)}); start the daemon once (veilcam run) to upgrade it"
        )


def migrate(conn: sqlite3.Connection) -> int:
    """Apply pending migrations, each in its own transaction; return the new version."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise _newer(version)
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        # executescript commits first; BEGIN..COMMIT inside makes each migration atomic.
        conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    return len(MIGRATIONS)
