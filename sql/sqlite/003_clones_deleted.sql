-- 003: clone detection and deleted computers.
-- machine_fingerprint: what the agent reported at activation (or at its
-- first heartbeat after this migration); a heartbeat with the same GUID and
-- another fingerprint comes from a clone.
ALTER TABLE computers ADD COLUMN machine_fingerprint TEXT NOT NULL DEFAULT '';

-- Certificates that must never come back, even once their computer is
-- deleted: those of deactivated computers and those a reactivation
-- superseded.  Kept until they expire.
CREATE TABLE revoked_certificates (
	serial TEXT PRIMARY KEY,
	guid TEXT NOT NULL,
	not_after_ms BIGINT NOT NULL,
	revoked_ms BIGINT NOT NULL,
	reason TEXT NOT NULL
);
CREATE INDEX revoked_certificates_expiry ON revoked_certificates (not_after_ms);
