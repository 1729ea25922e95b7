/*
 * mgrfix: see mgrfix.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "mgrfix.h"
#include "status.h"
#include "util.h"

static void
mgrfix_open(struct mgrfix *f)
{
	const char *err = NULL;

	memset(&f->m, 0, sizeof(f->m));
	config_defaults(&f->m.cfg);
	f->m.cfg.heartbeat_interval = f->interval;
	f->m.cfg.missed_heartbeats_allowed = f->missed;
	assert_int_equal(store_open(&f->m.store, f->db, &err), 0);
	registry_init(&f->m.reg);
	deadline_init(&f->m.deadlines);
	alerts_init(&f->m.alerts);
	policies_init(&f->m.pol);
	contacts_init(&f->m.contacts);
	assert_int_equal(policies_load(&f->m, &err), 0);
}

static void
mgrfix_close(struct mgrfix *f)
{
	store_flush(&f->m.store, 1);
	store_close(&f->m.store);
	contacts_clear(&f->m);
	alerts_clear(&f->m.alerts);
	deadline_clear(&f->m.deadlines);
	registry_clear(&f->m.reg);
	policies_clear(&f->m.pol);
}

struct mgrfix *
mgrfix_new(const char *name, int64_t interval, int64_t missed)
{
	struct mgrfix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/vigil-test-%.20s-XXXXXX", name);
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/vigil.db", f->dir);
	f->interval = interval;
	f->missed = missed;
	log_set_level(LOG_LVL_WARN);
	mgrfix_open(f);
	return f;
}

void
mgrfix_reopen(struct mgrfix *f)
{
	mgrfix_close(f);
	mgrfix_open(f);
}

void
mgrfix_free(struct mgrfix *f)
{
	const char *suffix[] = {"", "-wal", "-shm"};
	char p[160];
	size_t i;

	mgrfix_close(f);
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", f->db, suffix[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
}

struct computer *
mgrfix_computer(struct mgr *m, const char *name, struct policy *p, int64_t wall, int64_t mono)
{
	struct computer *c = registry_new_computer(&m->reg);

	assert_non_null(c);
	snprintf(c->guid, sizeof(c->guid), "00000000-0000-4000-8000-%012lld", (long long)c->id);
	computer_set_str(&c->hostname, name);
	c->pol = p ? p : policy_by_id(m, POLICY_DEFAULT_ID);
	assert_int_equal(registry_add(&m->reg, c), 0);
	status_activated(m, c, wall, mono);
	return c;
}

static int
mgrfix_count_cb(void *ctx, const struct event_row *row)
{
	(*(int *)ctx)++;
	return 0;
}

int
mgrfix_events(struct mgr *m, int id)
{
	struct event_filter f;
	int n = 0;

	memset(&f, 0, sizeof(f));
	f.event_id = id;
	f.limit = 1000;
	assert_int_equal(store_flush(&m->store, 0), 0);
	assert_int_equal(store_events_query(&m->store, &f, mgrfix_count_cb, &n), 0);
	return n;
}
