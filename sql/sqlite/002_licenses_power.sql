-- 002: licenses and seats; a computer's power state (inventory) and the
-- reason of its last refused activation.
CREATE TABLE licenses (
	id BIGINT PRIMARY KEY,
	seats BIGINT NOT NULL,
	modules TEXT NOT NULL DEFAULT '',
	expires_ms BIGINT NOT NULL DEFAULT 0,
	created_ms BIGINT NOT NULL
);

ALTER TABLE computers ADD COLUMN power TEXT NOT NULL DEFAULT 'running';
ALTER TABLE computers ADD COLUMN failure TEXT NOT NULL DEFAULT '';
