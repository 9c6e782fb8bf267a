-- The change log of the live stream (see docs/store.md): one row per applied change of an
-- agent, numbered by the change sequence (change_counter now counts changes, a batch takes
-- a block of consecutive numbers), written in the batch's transaction, kept for the
-- replay window (stream_window_s, stream_window_changes) and pruned after it.
-- Same design as SQLite's 0004_change_log.sql; prev and cur are JSON arrays of the
-- agent's fields in order, kept as text (written and read by ccms alone: no need for the
-- server to parse them on every insert).
CREATE TABLE agent_change (
    seq bigint PRIMARY KEY,
    logged_at bigint NOT NULL,
    at bigint NOT NULL,
    event_id text NOT NULL,
    cc_id integer NOT NULL,
    vdn integer NOT NULL,
    work_no integer NOT NULL,
    prev text,
    cur text NOT NULL
);
-- A VDN's changes after a number, without reading the other tenants' changes.
CREATE INDEX agent_change_tenant ON agent_change (cc_id, vdn, seq);

-- The newest change number pruned from the log: the log holds every change after it.
-- Existing stores start with an empty log after the changes they numbered so far.
CREATE TABLE change_window (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    pruned bigint NOT NULL
);
INSERT INTO change_window (id, pruned) SELECT true, seq FROM change_counter;

-- View tokens for browsers, by the sha256 hex of the token (never the token itself).
CREATE TABLE view_token (
    token_hash text COLLATE "C" PRIMARY KEY,
    ak text NOT NULL,
    cc_id integer,
    vdn integer,
    expires_at bigint NOT NULL
);
CREATE INDEX view_token_expiry ON view_token (expires_at);
