-- Event ids per tenant (docs/intake.md): an id is applied once per call center and VDN,
-- so one tenant's ids never make another tenant's events duplicates.
CREATE TABLE applied_event_tenant (
    cc_id INTEGER NOT NULL,
    vdn INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    applied_at INTEGER NOT NULL,
    PRIMARY KEY (cc_id, vdn, event_id)
) WITHOUT ROWID;

-- The ids applied before, in the tenant of their status history...
INSERT OR IGNORE INTO applied_event_tenant (cc_id, vdn, event_id, applied_at)
    SELECT history.cc_id, history.vdn, applied.event_id, applied.applied_at
    FROM status_history AS history JOIN applied_event AS applied USING (event_id);

-- ...and those of events without a status (no history) as ids of every tenant, until
-- they expire: call center 0, VDN 0, which no event has.
INSERT INTO applied_event_tenant (cc_id, vdn, event_id, applied_at)
    SELECT 0, 0, event_id, applied_at FROM applied_event
    WHERE event_id NOT IN (SELECT event_id FROM applied_event_tenant);

DROP TABLE applied_event;
ALTER TABLE applied_event_tenant RENAME TO applied_event;
CREATE INDEX applied_event_time ON applied_event (applied_at);
