/*
 * db: the one SQL interface of the manager.  Callers write portable SQL
 * with "?" placeholders; a driver (db_sqlite.c now, PostgreSQL later) maps
 * it to its engine.  Prepared statements with bound parameters only.
 */
#ifndef VIGIL_DB_H
#define VIGIL_DB_H

#include <stdint.h>

struct db;
struct db_stmt;

struct db_driver {
	const char *name;
	struct db *(*open)(const char *target, const char **errstr_r);
	void (*close)(struct db *db);
	int (*exec)(struct db *db, const char *sql);
	struct db_stmt *(*prepare)(struct db *db, const char *sql);
	int (*bind_int)(struct db_stmt *st, int idx, int64_t v);
	int (*bind_text)(struct db_stmt *st, int idx, const char *s); /* NULL binds NULL */
	int (*step)(struct db_stmt *st); /* 1 row, 0 done, -1 error */
	int64_t (*col_int)(struct db_stmt *st, int col);
	const char *(*col_text)(struct db_stmt *st, int col); /* NULL for NULL */
	int (*reset)(struct db_stmt *st);
	void (*finalize)(struct db_stmt *st);
	const char *(*errmsg)(struct db *db);
	/* Numbered migrations of this driver, in order. */
	const char *const *migrations;
	int nmigrations;
};

extern const struct db_driver db_driver_sqlite;

struct db_handle {
	const struct db_driver *drv;
	struct db *db;
};

int db_open(struct db_handle *h, const struct db_driver *drv, const char *target,
	    const char **errstr_r);
void db_close(struct db_handle *h);
/* Applies the migrations not yet applied; returns -1 with a message. */
int db_migrate(struct db_handle *h, const char **errstr_r);
int db_exec(struct db_handle *h, const char *sql);
int db_begin(struct db_handle *h);
int db_commit(struct db_handle *h);
int db_rollback(struct db_handle *h);
/* The current schema version (0 for an empty database). */
int db_schema_version(struct db_handle *h);

#endif
