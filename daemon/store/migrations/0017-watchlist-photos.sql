-- watchlist photos. The registration photos of an entry, kept only when the registering
-- administrator chooses to, for review: each sealed with the site's template key (AES-GCM,
-- bound to its entry and number). They go when the entry is refused or removed (expiry is
-- a removal), by the trigger.
CREATE TABLE watchlist_photos (
    id INTEGER PRIMARY KEY,
    entry_id INTEGER NOT NULL REFERENCES watchlist (id),
    n INTEGER NOT NULL CHECK (n BETWEEN 1 AND 5),
    sealed BLOB NOT NULL,
    UNIQUE (entry_id, n)
);
CREATE TRIGGER watchlist_photos_gone AFTER UPDATE OF state ON watchlist
WHEN new.state IN ('refused', 'removed')
BEGIN
    DELETE FROM watchlist_photos WHERE entry_id = new.id;
END;
