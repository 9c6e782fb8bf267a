-- Calls (docs/calls.md): the live calls and the call records of the days kept
-- (call_record_days), one row per call, keyed by its call center, VDN and call id.
-- Times are ms since the epoch; NULL: not yet (or never) reached.
CREATE TABLE call (
    cc_id INTEGER NOT NULL,
    vdn INTEGER NOT NULL,
    call_id TEXT NOT NULL,
    arrived_at INTEGER NOT NULL,
    caller_no TEXT NOT NULL,
    callee_no TEXT NOT NULL,
    access_code TEXT NOT NULL,
    media_type INTEGER NOT NULL,
    sub_media_type INTEGER NOT NULL,
    call_type INTEGER NOT NULL,
    call_in INTEGER NOT NULL,
    attrs_at INTEGER,
    state INTEGER NOT NULL,
    state_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    skill_id INTEGER,
    work_no INTEGER,
    enter_reason INTEGER NOT NULL,
    devices INTEGER NOT NULL,
    queued_at INTEGER,
    offered_at INTEGER,
    answered_at INTEGER,
    ended_at INTEGER,
    leave_reason INTEGER,
    release_cause INTEGER,
    -- the latest moment of the call (ccms.domain.queues.moved_at)
    moved_at INTEGER NOT NULL,
    PRIMARY KEY (cc_id, vdn, call_id)
) WITHOUT ROWID;
-- The call records of a VDN (vdn/querycalls): ended calls by direction, in the order they
-- began, so that a page of a time range is read in index order and counted from the
-- index alone (ended_at, last, makes it covering for the count).
CREATE INDEX call_record ON call (cc_id, vdn, call_in, arrived_at, call_id, ended_at)
    WHERE ended_at IS NOT NULL;
-- Pruning: ended calls past the days kept, and live calls not heard of since then.
-- The figures of skill queues over a window (skill/currentcallstateinfo): the calls of
-- each queue that moved in it.
CREATE INDEX call_queue ON call (cc_id, vdn, skill_id, moved_at);
CREATE INDEX call_ended ON call (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX call_live ON call (cc_id, vdn, last_at) WHERE ended_at IS NULL;
