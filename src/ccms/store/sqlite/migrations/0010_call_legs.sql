-- The call's track (docs/calls.md): every step of a call (one row per call event
-- applied: what happened, when, the queue, agent and reasons it names), from which the
-- legs of vdn/querycalltracedetail follow (ccms.domain.calltrace). Kept as long as its
-- call (call_record_days; pruned with the calls). kind: the index of the event's kind in
-- ccms.domain.calltrace.KINDS.
CREATE TABLE call_step (
    cc_id INTEGER NOT NULL,
    vdn INTEGER NOT NULL,
    call_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    skill_id INTEGER,
    work_no INTEGER,
    leave_reason INTEGER,
    release_cause INTEGER,
    PRIMARY KEY (cc_id, vdn, call_id, event_id)
) WITHOUT ROWID;
