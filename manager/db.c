/*
 * db: driver-independent helpers: transactions and numbered migrations.
 * Migration N is recorded in schema_migrations in the same transaction
 * that applies it, so a crash never leaves a half-applied step.
 */
#include "db.h"

#include <stddef.h>

#include "log.h"

int
db_open(struct db_handle *h, const struct db_driver *drv, const char *target,
	const char **errstr_r)
{
	h->drv = drv;
	h->db = drv->open(target, errstr_r);
	return h->db ? 0 : -1;
}

void
db_close(struct db_handle *h)
{
	if (h->db != NULL)
		h->drv->close(h->db);
	h->db = NULL;
}

int
db_exec(struct db_handle *h, const char *sql)
{
	return h->drv->exec(h->db, sql);
}

int
db_begin(struct db_handle *h)
{
	return db_exec(h, "BEGIN");
}

int
db_commit(struct db_handle *h)
{
	return db_exec(h, "COMMIT");
}

int
db_rollback(struct db_handle *h)
{
	return db_exec(h, "ROLLBACK");
}

int
db_schema_version(struct db_handle *h)
{
	struct db_stmt *st;
	int v = 0;

	st = h->drv->prepare(h->db, "SELECT MAX(version) FROM schema_migrations");
	if (st == NULL)
		return 0; /* table absent: empty database */
	if (h->drv->step(st) == 1)
		v = (int)h->drv->col_int(st, 0);
	h->drv->finalize(st);
	return v;
}

int
db_migrate(struct db_handle *h, const char **errstr_r)
{
	struct db_stmt *st;
	int v, i;

	if (db_exec(h, "CREATE TABLE IF NOT EXISTS schema_migrations ("
		       "version INTEGER PRIMARY KEY, applied_ms BIGINT NOT NULL)") < 0) {
		*errstr_r = h->drv->errmsg(h->db);
		return -1;
	}
	v = db_schema_version(h);
	if (v > h->drv->nmigrations) {
		*errstr_r = "the database schema is newer than this program; upgrade vigil-manager";
		return -1;
	}
	for (i = v; i < h->drv->nmigrations; i++) {
		if (db_begin(h) < 0)
			goto fail;
		if (db_exec(h, h->drv->migrations[i]) < 0)
			goto fail_rollback;
		st = h->drv->prepare(h->db, "INSERT INTO schema_migrations (version, applied_ms) "
					    "VALUES (?, ?)");
		if (st == NULL)
			goto fail_rollback;
		h->drv->bind_int(st, 1, i + 1);
		h->drv->bind_int(st, 2, 0);
		if (h->drv->step(st) < 0) {
			h->drv->finalize(st);
			goto fail_rollback;
		}
		h->drv->finalize(st);
		if (db_commit(h) < 0)
			goto fail_rollback;
		log_info("database migrated to schema version %d", i + 1);
	}
	return 0;
fail_rollback:
	*errstr_r = h->drv->errmsg(h->db);
	db_rollback(h);
	return -1;
fail:
	*errstr_r = h->drv->errmsg(h->db);
	return -1;
}
