-- The skill-queue index: one row per (agent, skill queue it is signed in to), kept equal
-- to agent.skills by every batch that changes an agent's skills, so the skill-queue views
-- find a queue's agents without reading every agent of the VDN.
CREATE TABLE agent_skill (
    cc_id INTEGER NOT NULL,
    vdn INTEGER NOT NULL,
    skill_id INTEGER NOT NULL,
    work_no INTEGER NOT NULL,
    PRIMARY KEY (cc_id, vdn, skill_id, work_no)
) WITHOUT ROWID;

-- Existing agents: their skills as the agent rows hold them.
INSERT OR IGNORE INTO agent_skill (cc_id, vdn, skill_id, work_no)
    SELECT agent.cc_id, agent.vdn, skill.value, agent.work_no
    FROM agent, json_each(agent.skills) AS skill;
