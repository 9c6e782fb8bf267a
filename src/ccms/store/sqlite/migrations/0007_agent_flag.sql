-- Flags in the change log (see docs/flags.md): a flag timer writes an entry when an
-- agent's flag is raised (its threshold crossed, with no event). The entry's flag is a
-- JSON array [name, level, since]; NULL for an agent change.
ALTER TABLE agent_change ADD COLUMN flag TEXT;

-- The moment each flag of an agent was last raised (one row per agent and flag name, at
-- most seven per agent): a flag is raised once per moment it is crossed, whichever
-- process or node asks. seq: the change-log entry that raised it (a process following
-- the file asks for the agents whose flags were raised after a number, as it does for
-- agent.change_seq).
CREATE TABLE agent_flag (
    cc_id INTEGER NOT NULL,
    vdn INTEGER NOT NULL,
    work_no INTEGER NOT NULL,
    flag TEXT NOT NULL,
    since INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (cc_id, vdn, work_no, flag)
) WITHOUT ROWID;
CREATE INDEX agent_flag_seq ON agent_flag (seq);
