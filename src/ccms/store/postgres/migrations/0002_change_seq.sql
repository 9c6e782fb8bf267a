-- Change notification across nodes (LISTEN/NOTIFY, see docs/store.md).
-- One counter row: a batch that changes agents updates it late in its transaction and
-- holds its lock until the commit, so numbers are gap-free and in commit order.
CREATE TABLE change_counter (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq bigint NOT NULL
);
INSERT INTO change_counter (id, seq) VALUES (true, 0);

-- The change number of an agent's last change: a listener that lost its connection asks
-- for the agents with change_seq above the last number it saw.
ALTER TABLE agent ADD COLUMN change_seq bigint NOT NULL DEFAULT 0;
CREATE INDEX agent_change_seq ON agent (change_seq);
