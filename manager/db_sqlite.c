/*
 * db_sqlite: the SQLite driver of db.h.  WAL journal, synchronous=FULL
 * (writes are batched, so commits are few), foreign keys on, and a busy
 * timeout for the CLI tools that may read the same file.
 */
#include <sqlite3.h>
#include <stdlib.h>

#include "db.h"
#include "log.h"
#include "migrations.h"

struct db {
	sqlite3 *conn;
};

struct db_stmt {
	sqlite3_stmt *st;
	struct db *db;
};

static struct db *
sq_open(const char *path, const char **errstr_r)
{
	struct db *db = calloc(1, sizeof(*db));

	if (db == NULL) {
		*errstr_r = "out of memory";
		return NULL;
	}
	if (sqlite3_open_v2(path, &db->conn,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		*errstr_r = db->conn ? sqlite3_errmsg(db->conn) : "cannot open database";
		/* the message lives in the handle; keep it until exit */
		return NULL;
	}
	sqlite3_busy_timeout(db->conn, 5000);
	if (sqlite3_exec(db->conn,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
			 "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;",
			 NULL, NULL, NULL) != SQLITE_OK) {
		*errstr_r = sqlite3_errmsg(db->conn);
		return NULL;
	}
	return db;
}

static void
sq_close(struct db *db)
{
	sqlite3_close(db->conn);
	free(db);
}

static int
sq_exec(struct db *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db->conn, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warn("sqlite: %s", err ? err : "error");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static struct db_stmt *
sq_prepare(struct db *db, const char *sql)
{
	struct db_stmt *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if (sqlite3_prepare_v2(db->conn, sql, -1, &s->st, NULL) != SQLITE_OK) {
		free(s);
		return NULL;
	}
	s->db = db;
	return s;
}

static int
sq_bind_int(struct db_stmt *s, int idx, int64_t v)
{
	return sqlite3_bind_int64(s->st, idx, v) == SQLITE_OK ? 0 : -1;
}

static int
sq_bind_text(struct db_stmt *s, int idx, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s->st, idx) == SQLITE_OK ? 0 : -1;
	return sqlite3_bind_text(s->st, idx, v, -1, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -1;
}

static int
sq_step(struct db_stmt *s)
{
	int rc = sqlite3_step(s->st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	log_warn("sqlite: %s", sqlite3_errmsg(s->db->conn));
	return -1;
}

static int64_t
sq_col_int(struct db_stmt *s, int col)
{
	return sqlite3_column_int64(s->st, col);
}

static const char *
sq_col_text(struct db_stmt *s, int col)
{
	return (const char *)sqlite3_column_text(s->st, col);
}

static int
sq_reset(struct db_stmt *s)
{
	sqlite3_clear_bindings(s->st);
	return sqlite3_reset(s->st) == SQLITE_OK ? 0 : -1;
}

static void
sq_finalize(struct db_stmt *s)
{
	if (s == NULL)
		return;
	sqlite3_finalize(s->st);
	free(s);
}

static const char *
sq_errmsg(struct db *db)
{
	return sqlite3_errmsg(db->conn);
}

const struct db_driver db_driver_sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.exec = sq_exec,
	.prepare = sq_prepare,
	.bind_int = sq_bind_int,
	.bind_text = sq_bind_text,
	.step = sq_step,
	.col_int = sq_col_int,
	.col_text = sq_col_text,
	.reset = sq_reset,
	.finalize = sq_finalize,
	.errmsg = sq_errmsg,
	.migrations = sqlite_migrations,
	.nmigrations = SQLITE_NMIGRATIONS,
};
