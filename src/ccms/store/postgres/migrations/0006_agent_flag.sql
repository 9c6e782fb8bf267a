-- Flags in the change log (see docs/flags.md): a flag timer writes an entry when an
-- agent's flag is raised (its threshold crossed, with no event). The entry's flag is a
-- JSON array [name, level, since] in text; NULL for an agent change. Same design as
-- SQLite's 0007_agent_flag.sql.
ALTER TABLE agent_change ADD COLUMN flag text;

-- The moment each flag of an agent was last raised (one row per agent and flag name, at
-- most seven per agent): a flag is raised once per moment it is crossed, whichever node
-- asks (the timer's transaction locks the agent's row first, as a batch does). seq: the
-- change-log entry that raised it (a node that catches up asks for the agents whose
-- flags were raised after a number, as it does for agent.change_seq).
CREATE TABLE agent_flag (
    cc_id integer NOT NULL,
    vdn integer NOT NULL,
    work_no integer NOT NULL,
    flag text COLLATE "C" NOT NULL,
    since bigint NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (cc_id, vdn, work_no, flag)
);
CREATE INDEX agent_flag_seq ON agent_flag (seq);
