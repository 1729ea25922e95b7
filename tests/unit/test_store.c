/* test_store: SQLite store: migrations, computers, batched writes, queries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mgr.h"
#include "store.h"
#include "util.h"

struct fixture {
	char dir[64];
	char db[128];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	str_copy(f->dir, "/tmp/vigil-test-store-XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/vigil.db", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];
	const char *suffix[] = {"", "-wal", "-shm"};
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", f->db, suffix[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct computer *
new_computer(struct registry *r, const char *name, const char *guid)
{
	struct computer *c = registry_new_computer(r);

	assert_non_null(c);
	str_copy(c->guid, guid, sizeof(c->guid));
	computer_set_str(&c->hostname, name);
	str_copy(c->cert_serial, "abcdef", sizeof(c->cert_serial));
	c->created_ms = c->activated_ms = c->last_contact_ms = 1000;
	return c;
}

static int
count_cb(void *ctx, const struct event_row *row)
{
	(*(int *)ctx)++;
	return 0;
}

static int
count_events(struct store *s, const struct event_filter *f)
{
	int n = 0;

	assert_int_equal(store_events_query(s, f, count_cb, &n), 0);
	return n;
}

static void
test_schema_and_computers_survive_reopen(void **state)
{
	struct fixture *f = *state;
	struct store s;
	struct registry r, r2;
	struct computer *c;
	const char *err = NULL;

	assert_int_equal(store_open(&s, f->db, &err), 0);
	/* every numbered migration is applied */
	assert_int_equal(db_schema_version(&s.h), s.h.drv->nmigrations);
	assert_true(s.h.drv->nmigrations >= 2);
	registry_init(&r);
	c = new_computer(&r, "web1", "11111111-1111-4111-8111-111111111111");
	assert_int_equal(store_computer_insert(&s, c), 0);
	assert_int_equal(registry_add(&r, c), 0);
	/* a contact is only in memory until the batch with contacts is written */
	c->last_contact_ms = 5000;
	str_copy(c->last_ip, "127.0.0.9", sizeof(c->last_ip));
	store_mark_contact(&s, c);
	store_mark_contact(&s, c); /* marking twice queues once */
	assert_int_equal(s.ndirty_contacts, 1);
	assert_int_equal(store_flush(&s, 0), 0);
	assert_int_equal(s.ndirty_contacts, 1);
	assert_int_equal(store_flush(&s, 1), 0);
	assert_int_equal(s.ndirty_contacts, 0);
	c->offline = 1;
	store_mark_row(&s, c);
	assert_int_equal(store_flush(&s, 0), 0);
	store_close(&s);

	assert_int_equal(store_open(&s, f->db, &err), 0);
	registry_init(&r2);
	assert_int_equal(store_load_computers(&s, &r2, NULL, NULL), 0);
	assert_int_equal(r2.n, 1);
	c = registry_by_guid(&r2, "11111111-1111-4111-8111-111111111111");
	assert_non_null(c);
	assert_string_equal(c->hostname, "web1");
	assert_int_equal(c->last_contact_ms, 5000);
	assert_string_equal(c->last_ip, "127.0.0.9");
	assert_int_equal(c->offline, 1);
	assert_int_equal(r2.next_id, c->id + 1);
	store_close(&s);
	registry_clear(&r);
	registry_clear(&r2);
}

static void
test_events_filters(void **state)
{
	struct fixture *f = *state;
	struct event_filter flt;
	struct store s;
	const char *err = NULL;
	int i;

	assert_int_equal(store_open(&s, f->db, &err), 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(store_event_add(&s, 1000 + i * 100, i % 2 ? 730 : 731, i % 3 ? 1 : 2,
						 "t", "d"),
				 0);
	assert_int_equal(store_flush(&s, 0), 0);
	memset(&flt, 0, sizeof(flt));
	flt.limit = 100;
	assert_int_equal(count_events(&s, &flt), 10);
	flt.event_id = 730;
	assert_int_equal(count_events(&s, &flt), 5);
	flt.event_id = 0;
	flt.computer_id = 2; /* i = 0, 3, 6, 9 */
	assert_int_equal(count_events(&s, &flt), 4);
	flt.computer_id = 0;
	flt.since_ms = 1500;
	flt.until_ms = 1700;
	assert_int_equal(count_events(&s, &flt), 3);
	flt.since_ms = flt.until_ms = 0;
	flt.after_id = 8;
	assert_int_equal(count_events(&s, &flt), 2);
	flt.after_id = 0;
	flt.limit = 4;
	assert_int_equal(count_events(&s, &flt), 4);
	/* prune by count keeps the newest */
	assert_int_equal(store_events_prune(&s, 0, 3), 0);
	flt.limit = 100;
	assert_int_equal(count_events(&s, &flt), 3);
	/* and by age */
	assert_int_equal(store_events_prune(&s, 1950, 1000), 0);
	assert_int_equal(count_events(&s, &flt), 0);
	store_close(&s);
}

static void
test_settings(void **state)
{
	struct fixture *f = *state;
	struct store s;
	const char *err = NULL;
	char v[65];

	assert_int_equal(store_open(&s, f->db, &err), 0);
	assert_int_equal(store_setting_get(&s, "k", v, sizeof(v)), -1);
	assert_int_equal(store_setting_set(&s, "k", "one"), 0);
	assert_int_equal(store_setting_set(&s, "k", "two"), 0);
	assert_int_equal(store_setting_get(&s, "k", v, sizeof(v)), 0);
	assert_string_equal(v, "two");
	store_close(&s);
}

static void
test_delete_and_revocations(void **state)
{
	struct fixture *f = *state;
	struct store s;
	struct registry r, r2;
	struct computer *a, *b;
	const char *err = NULL;
	char v[32];

	assert_int_equal(store_open(&s, f->db, &err), 0);
	registry_init(&r);
	a = new_computer(&r, "a", "11111111-1111-4111-8111-111111111111");
	str_copy(a->machine_fpr, "ab", sizeof(a->machine_fpr));
	assert_int_equal(store_computer_insert(&s, a), 0);
	assert_int_equal(registry_add(&r, a), 0);
	b = new_computer(&r, "b", "22222222-2222-4222-8222-222222222222");
	str_copy(b->cert_serial, "b0b", sizeof(b->cert_serial));
	b->cert_not_after_ms = 5000;
	assert_int_equal(store_computer_insert(&s, b), 0);
	assert_int_equal(registry_add(&r, b), 0);
	/* pending writes of b must not resurrect its row after the delete */
	store_mark_row(&s, b);
	store_mark_contact(&s, b);
	assert_int_equal(store_cert_revoked(&s, "b0b"), 0);
	assert_int_equal(store_computer_delete(&s, b, "deactivated, then deleted", r.next_id - 1), 0);
	assert_null(s.dirty_rows);
	assert_int_equal(s.ndirty_contacts, 0);
	registry_remove(&r, b);
	computer_free(b);
	assert_null(registry_by_guid(&r, "22222222-2222-4222-8222-222222222222"));
	assert_int_equal(store_cert_revoked(&s, "b0b"), 1);
	/* revoking twice is harmless; an empty serial is nothing to revoke */
	assert_int_equal(store_cert_revoke(&s, "b0b", "x", 5000, "again"), 0);
	assert_int_equal(store_cert_revoke(&s, "", "x", 5000, "none"), 0);
	assert_int_equal(store_cert_revoke(&s, "c0c", "y", 9000, "superseded"), 0);
	/* expired ones are forgotten */
	assert_int_equal(store_certs_prune(&s, 6000), 0);
	assert_int_equal(store_cert_revoked(&s, "b0b"), 0);
	assert_int_equal(store_cert_revoked(&s, "c0c"), 1);
	/* the highest ID given is remembered, so that IDs are never reused */
	assert_int_equal(store_setting_get(&s, "computer_id_floor", v, sizeof(v)), 0);
	assert_string_equal(v, "2");
	store_close(&s);

	assert_int_equal(store_open(&s, f->db, &err), 0);
	registry_init(&r2);
	assert_int_equal(store_load_computers(&s, &r2, NULL, NULL), 0);
	assert_int_equal(r2.n, 1);
	assert_string_equal(r2.byid[0]->machine_fpr, "ab");
	store_close(&s);
	registry_clear(&r);
	registry_clear(&r2);
}

static int
agent_cb(void *ctx, const struct event_row *row)
{
	int64_t *v = ctx;

	v[0]++;
	v[1] += row->agent_seq;
	v[2] = row->agent_time_ms;
	return 0;
}

/* A resent agent event (same computer and sequence) is stored once. */
static void
test_agent_events_are_idempotent(void **state)
{
	struct fixture *f = *state;
	struct event_filter flt;
	struct store s;
	struct registry r, r2;
	struct computer *c;
	const char *err = NULL;
	int64_t v[3] = {0, 0, 0};

	assert_int_equal(store_open(&s, f->db, &err), 0);
	registry_init(&r);
	c = new_computer(&r, "agent1", "22222222-2222-4222-8222-222222222222");
	assert_int_equal(store_computer_insert(&s, c), 0);
	assert_int_equal(registry_add(&r, c), 0);
	assert_int_equal(store_agent_event_add(&s, 5000, 4012, c->id, "agent1", "a", 7, 4000), 0);
	assert_int_equal(store_agent_event_add(&s, 5000, 4012, c->id, "agent1", "b", 8, 4001), 0);
	c->agent_seq = 8;
	c->agent_dropped = 3;
	store_mark_row(&s, c);
	assert_int_equal(store_flush(&s, 0), 0);
	/* the same sequences again, in a later batch, and one new */
	assert_int_equal(store_agent_event_add(&s, 6000, 4012, c->id, "agent1", "a", 7, 4000), 0);
	assert_int_equal(store_agent_event_add(&s, 6000, 4012, c->id, "agent1", "c", 9, 4002), 0);
	/* manager events (no sequence) never collide */
	assert_int_equal(store_event_add(&s, 6000, 731, c->id, "agent1", "x"), 0);
	assert_int_equal(store_event_add(&s, 6000, 731, c->id, "agent1", "y"), 0);
	assert_int_equal(store_flush(&s, 0), 0);
	memset(&flt, 0, sizeof(flt));
	flt.limit = 100;
	flt.event_id = 4012;
	assert_int_equal(store_events_query(&s, &flt, agent_cb, v), 0);
	assert_int_equal(v[0], 3);
	assert_int_equal(v[1], 7 + 8 + 9);
	assert_int_equal(v[2], 4002);
	flt.event_id = 731;
	assert_int_equal(count_events(&s, &flt), 2);
	store_close(&s);
	/* the acknowledged sequence and the dropped count come back with the computer */
	assert_int_equal(store_open(&s, f->db, &err), 0);
	registry_init(&r2);
	assert_int_equal(store_load_computers(&s, &r2, NULL, NULL), 0);
	c = registry_by_guid(&r2, "22222222-2222-4222-8222-222222222222");
	assert_non_null(c);
	assert_int_equal(c->agent_seq, 8);
	assert_int_equal(c->agent_seq_stored, 8);
	assert_int_equal(c->agent_dropped, 3);
	store_close(&s);
	registry_clear(&r);
	registry_clear(&r2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_schema_and_computers_survive_reopen, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_events_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_agent_events_are_idempotent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_and_revocations, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
