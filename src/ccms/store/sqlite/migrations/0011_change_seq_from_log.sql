-- The agents changed after a number are read from the change log while it holds every
-- change after that number (docs/store.md, The change feed), so agent.change_seq needs
-- no index: a batch no longer moves an entry of it per agent changed. A number older
-- than the log reads change_seq by scanning the agents (a client far behind).
DROP INDEX agent_change_seq;
