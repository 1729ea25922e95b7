-- 006: events sent by agents from their durable queue.
-- agent_seq is the agent's own sequence number, agent_time_ms its clock
-- when the event happened (time_ms stays the manager's receive time).
-- Events the manager records itself have neither (NULL).  The unique
-- index makes a resent event harmless: it is the same (computer, sequence)
-- and is not stored twice (NULLs never collide, here and in PostgreSQL).
ALTER TABLE events ADD COLUMN agent_seq BIGINT;
ALTER TABLE events ADD COLUMN agent_time_ms BIGINT;
CREATE UNIQUE INDEX events_agent_seq ON events (computer_id, agent_seq);

-- Per computer: the highest agent sequence stored (what the heartbeat
-- answers as ack_seq) and the agent's count of dropped events last
-- reported (event 745 records each increase once).  Written in the same
-- transaction as the events they describe.
ALTER TABLE computers ADD COLUMN agent_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE computers ADD COLUMN agent_dropped BIGINT NOT NULL DEFAULT 0;
