-- The change feed (see docs/store.md): a store-wide, gap-free change sequence.
-- One counter row: a batch that changes agents increments it inside its write transaction
-- (BEGIN IMMEDIATE), so numbers are gap-free and in commit order, whichever process writes.
CREATE TABLE change_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO change_counter (id, seq) VALUES (1, 0);

-- The change number of an agent's last change (0: before the sequence existed): a process
-- that follows the file asks for the agents with change_seq above the last number it saw.
ALTER TABLE agent ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX agent_change_seq ON agent (change_seq);
