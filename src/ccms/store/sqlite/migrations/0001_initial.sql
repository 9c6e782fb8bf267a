-- Agents: current state, one row per (cc_id, vdn, work_no). Each attribute keeps the
-- time (ms) of the event that set it, so the newest event wins whatever the arrival order.
CREATE TABLE agent (
    cc_id INTEGER NOT NULL,
    vdn INTEGER NOT NULL,
    work_no INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    cti_status INTEGER NOT NULL,
    status_at INTEGER,
    status_event_at INTEGER,
    prev_status INTEGER,
    prev_duration_ms INTEGER,
    login_at INTEGER,
    reason INTEGER,
    reason_at INTEGER,
    name TEXT,
    name_at INTEGER,
    phone_number TEXT,
    phone_at INTEGER,
    media_type INTEGER NOT NULL,
    media_at INTEGER,
    skills TEXT NOT NULL,
    skills_at INTEGER,
    calls TEXT NOT NULL,
    calls_at INTEGER,
    PRIMARY KEY (cc_id, vdn, work_no)
) WITHOUT ROWID;

-- Every status event, applied to the current status or not (out of order), append-only.
CREATE TABLE status_history (
    id INTEGER PRIMARY KEY,
    cc_id INTEGER NOT NULL,
    vdn INTEGER NOT NULL,
    work_no INTEGER NOT NULL,
    at INTEGER NOT NULL,
    cti_status INTEGER NOT NULL,
    reason INTEGER,
    event_id TEXT NOT NULL,
    applied INTEGER NOT NULL
);
CREATE INDEX status_history_agent ON status_history (cc_id, vdn, work_no, at);

-- Event ids applied, for idempotency; pruned after event_id_retention_days.
CREATE TABLE applied_event (
    event_id TEXT PRIMARY KEY,
    applied_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX applied_event_time ON applied_event (applied_at);
