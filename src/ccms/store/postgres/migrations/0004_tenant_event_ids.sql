-- Event ids per tenant (docs/intake.md): an id is applied once per call center and VDN,
-- so one tenant's ids never make another tenant's events duplicates.
-- Call center 0, VDN 0 (which no event has) holds ids of every tenant: those applied
-- before, whose tenant the history does not tell, until they expire; and, during a rolling
-- upgrade, those that nodes of an earlier version still write without a tenant.
LOCK TABLE applied_event IN EXCLUSIVE MODE;
CREATE TABLE applied_event_tenant (
    cc_id integer NOT NULL DEFAULT 0,
    vdn integer NOT NULL DEFAULT 0,
    event_id text COLLATE "C" NOT NULL,
    applied_at bigint NOT NULL,
    CONSTRAINT applied_event_tenant_key PRIMARY KEY (cc_id, vdn, event_id)
);

-- The ids applied before, in the tenant of their status history...
INSERT INTO applied_event_tenant (cc_id, vdn, event_id, applied_at)
    SELECT DISTINCT history.cc_id, history.vdn, applied.event_id, applied.applied_at
    FROM status_history AS history JOIN applied_event AS applied USING (event_id);

-- ...and those of events without a status (no history) as ids of every tenant.
INSERT INTO applied_event_tenant (cc_id, vdn, event_id, applied_at)
    SELECT 0, 0, applied.event_id, applied.applied_at FROM applied_event AS applied
    WHERE NOT EXISTS (SELECT FROM status_history AS h WHERE h.event_id = applied.event_id);

DROP TABLE applied_event;
ALTER TABLE applied_event_tenant RENAME TO applied_event;
ALTER INDEX applied_event_tenant_key RENAME TO applied_event_pkey;
CREATE INDEX applied_event_time ON applied_event (applied_at);
