-- The agent list (POST /ccms/v1/agents/query): a VDN's agents of one CTI status in the
-- order of the time their state began, so that a page sorted by time in state with a
-- status filter is read from the index without sorting, and its counts per status are
-- counted from the index alone.
CREATE INDEX agent_list ON agent (cc_id, vdn, cti_status, coalesce(status_at, created_at), work_no);
