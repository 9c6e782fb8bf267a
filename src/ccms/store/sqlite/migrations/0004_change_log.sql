-- The change log of the live stream (see docs/store.md): one row per applied change of an
-- agent, numbered by the change sequence (change_counter now counts changes, a batch takes
-- a block of consecutive numbers), written in the batch's transaction, kept for the
-- replay window (stream_window_s, stream_window_changes) and pruned after it.
CREATE TABLE agent_change (
    seq INTEGER PRIMARY KEY,
    logged_at INTEGER NOT NULL,
    at INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    cc_id INTEGER NOT NULL,
    vdn INTEGER NOT NULL,
    work_no INTEGER NOT NULL,
    prev TEXT,
    cur TEXT NOT NULL
);
-- A VDN's changes after a number, without reading the other tenants' changes.
CREATE INDEX agent_change_tenant ON agent_change (cc_id, vdn, seq);

-- The newest change number pruned from the log: the log holds every change after it.
-- Existing stores start with an empty log after the changes they numbered so far.
CREATE TABLE change_window (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pruned INTEGER NOT NULL
);
INSERT INTO change_window (id, pruned) SELECT 1, seq FROM change_counter;

-- View tokens for browsers, by the sha256 hex of the token (never the token itself).
CREATE TABLE view_token (
    token_hash TEXT PRIMARY KEY,
    ak TEXT NOT NULL,
    cc_id INTEGER,
    vdn INTEGER,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX view_token_expiry ON view_token (expires_at);
