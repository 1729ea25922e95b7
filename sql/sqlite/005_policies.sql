-- 005: named policies with inheritance, and per-computer overrides.
-- settings: the values a policy sets itself, as a JSON object
-- {"heartbeat_interval": 60, ...}; the others are inherited from the parent
-- (parent_id) or, at the root, from the configuration file's [policy].
CREATE TABLE policies (
	id BIGINT PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL DEFAULT '',
	parent_id BIGINT,
	settings TEXT NOT NULL DEFAULT '{}',
	created_ms BIGINT NOT NULL,
	changed_ms BIGINT NOT NULL
);
INSERT INTO policies (id, name, description, parent_id, settings, created_ms, changed_ms)
	VALUES (1, 'Default', 'The policy of new computers; its unset values come from the configuration file.', NULL, '{}', 0, 0);

-- computers.policy (the name) is no longer read: policy_id replaces it.
ALTER TABLE computers ADD COLUMN policy_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE computers ADD COLUMN overrides TEXT NOT NULL DEFAULT '{}';

-- The agent's port (4118 by default) as it last reported it; 0 when it does
-- not listen (agent-initiated).  With last_ip it is where the manager calls.
ALTER TABLE computers ADD COLUMN agent_port INTEGER NOT NULL DEFAULT 0;
