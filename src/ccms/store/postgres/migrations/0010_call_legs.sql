-- The call's track (docs/calls.md): every step of a call, one row per call event applied
-- (same design as SQLite's 0010_call_legs.sql).
CREATE TABLE call_step (
    cc_id integer NOT NULL,
    vdn integer NOT NULL,
    call_id text NOT NULL,
    event_id text NOT NULL,
    at bigint NOT NULL,
    kind smallint NOT NULL,
    skill_id integer,
    work_no integer,
    leave_reason smallint,
    release_cause integer,
    PRIMARY KEY (cc_id, vdn, call_id, event_id)
);
