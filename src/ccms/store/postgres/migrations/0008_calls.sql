-- Calls (docs/calls.md): the live calls and the call records of the days kept
-- (call_record_days), one row per call (same design as SQLite's 0009_calls.sql).
CREATE TABLE call (
    cc_id integer NOT NULL,
    vdn integer NOT NULL,
    call_id text NOT NULL,
    arrived_at bigint NOT NULL,
    caller_no text NOT NULL,
    callee_no text NOT NULL,
    access_code text NOT NULL,
    media_type smallint NOT NULL,
    sub_media_type smallint NOT NULL,
    call_type smallint NOT NULL,
    call_in boolean NOT NULL,
    attrs_at bigint,
    state smallint NOT NULL,
    state_at bigint NOT NULL,
    last_at bigint NOT NULL,
    skill_id integer,
    work_no integer,
    enter_reason smallint NOT NULL,
    devices integer NOT NULL,
    queued_at bigint,
    offered_at bigint,
    answered_at bigint,
    ended_at bigint,
    leave_reason smallint,
    release_cause integer,
    -- the latest moment of the call (ccms.domain.queues.moved_at)
    moved_at bigint NOT NULL,
    PRIMARY KEY (cc_id, vdn, call_id)
);
CREATE INDEX call_record ON call (cc_id, vdn, call_in, arrived_at, call_id COLLATE "C", ended_at)
    WHERE ended_at IS NOT NULL;
-- The figures of skill queues over a window (skill/currentcallstateinfo): the calls of
-- each queue that moved in it.
CREATE INDEX call_queue ON call (cc_id, vdn, skill_id, moved_at);
CREATE INDEX call_ended ON call (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX call_live ON call (cc_id, vdn, last_at) WHERE ended_at IS NULL;
