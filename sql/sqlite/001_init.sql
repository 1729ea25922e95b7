-- 001: computers, events, alerts, settings.
-- IDs are assigned by the manager (single writer), never by the engine, so
-- the same statements run on PostgreSQL.
CREATE TABLE settings (
	name TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE computers (
	id BIGINT PRIMARY KEY,
	guid TEXT NOT NULL UNIQUE,
	hostname TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	platform TEXT NOT NULL DEFAULT '',
	agent_version TEXT NOT NULL DEFAULT '',
	machine_id TEXT NOT NULL DEFAULT '',
	policy TEXT NOT NULL DEFAULT 'Default',
	cert_serial TEXT NOT NULL,
	cert_not_after_ms BIGINT NOT NULL,
	state TEXT NOT NULL,
	offline INTEGER NOT NULL DEFAULT 0,
	created_ms BIGINT NOT NULL,
	activated_ms BIGINT NOT NULL,
	last_contact_ms BIGINT NOT NULL DEFAULT 0,
	last_ip TEXT NOT NULL DEFAULT '',
	interfaces TEXT NOT NULL DEFAULT '[]',
	clock_offset_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX computers_hostname ON computers (hostname);

CREATE TABLE events (
	id BIGINT PRIMARY KEY,
	time_ms BIGINT NOT NULL,
	event_id INTEGER NOT NULL,
	computer_id BIGINT,
	target TEXT NOT NULL DEFAULT '',
	description TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_time ON events (time_ms);
CREATE INDEX events_computer ON events (computer_id, time_ms);
CREATE INDEX events_event ON events (event_id, time_ms);

CREATE TABLE alerts (
	id BIGINT PRIMARY KEY,
	type TEXT NOT NULL,
	severity TEXT NOT NULL,
	dismissible INTEGER NOT NULL,
	computer_id BIGINT,
	message TEXT NOT NULL,
	first_raised_ms BIGINT NOT NULL,
	last_changed_ms BIGINT NOT NULL,
	cleared_ms BIGINT
);
CREATE INDEX alerts_open ON alerts (cleared_ms);
