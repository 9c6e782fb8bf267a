-- Agents: current state, one row per (cc_id, vdn, work_no). Each attribute keeps the
-- time (ms) of the event that set it, so the newest event wins whatever the arrival order.
-- Same design as SQLite's 0001_initial.sql; times are bigint ms since the epoch.
CREATE TABLE agent (
    cc_id integer NOT NULL,
    vdn integer NOT NULL,
    work_no integer NOT NULL,
    created_at bigint NOT NULL,
    cti_status smallint NOT NULL,
    status_at bigint,
    status_event_at bigint,
    prev_status smallint,
    prev_duration_ms bigint,
    login_at bigint,
    reason integer,
    reason_at bigint,
    name text,
    name_at bigint,
    phone_number text,
    phone_at bigint,
    media_type integer NOT NULL,
    media_at bigint,
    skills integer[] NOT NULL,
    skills_at bigint,
    calls text[] NOT NULL,
    calls_at bigint,
    PRIMARY KEY (cc_id, vdn, work_no)
);

-- Every status event, applied to the current status or not (out of order), append-only.
CREATE TABLE status_history (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cc_id integer NOT NULL,
    vdn integer NOT NULL,
    work_no integer NOT NULL,
    at bigint NOT NULL,
    cti_status smallint NOT NULL,
    reason integer,
    event_id text NOT NULL,
    applied boolean NOT NULL
);
CREATE INDEX status_history_agent ON status_history (cc_id, vdn, work_no, at);

-- Event ids applied, for idempotency across nodes; pruned after event_id_retention_days.
CREATE TABLE applied_event (
    event_id text COLLATE "C" PRIMARY KEY,
    applied_at bigint NOT NULL
);
CREATE INDEX applied_event_time ON applied_event (applied_at);
