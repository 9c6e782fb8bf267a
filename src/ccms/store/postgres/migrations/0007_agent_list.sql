-- The agent list (POST /ccms/v1/agents/query): a VDN's agents of one CTI status in the
-- order of the time their state began (same index as SQLite's 0008_agent_list.sql).
CREATE INDEX agent_list ON agent (cc_id, vdn, cti_status, (coalesce(status_at, created_at)), work_no);
