/* test_status: the offline rule, its events and its alert, on a real store. */
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
#include "mgrfix.h"
#include "alerts.h"
#include "license.h"
#include "log.h"
#include "proto.h"
#include "status.h"
#include "util.h"

static int
setup(void **state)
{
	struct mgrfix *f = mgrfix_new("status", 10, 2);

	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	mgrfix_free(*state);
	return 0;
}

static struct computer *
add_computer(struct mgr *m, const char *name, int64_t t0)
{
	return mgrfix_computer(m, name, NULL, 1000, t0);
}

static void
test_offline_exactly_at_the_deadline(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	struct computer *c = add_computer(m, "a", 100000);

	/* 10 s interval, 2 missed allowed: offline after 30 s of silence */
	assert_int_equal(status_window_ms(m, c), 30000);
	assert_int_equal(status_next_deadline(m), 130000);
	assert_int_equal(status_tick(m, 129999), 0);
	assert_string_equal(status_text(c), "Managed (Online)");
	assert_string_equal(status_agent_status(c), "active");
	assert_int_equal(status_tick(m, 130000), 1);
	assert_string_equal(status_text(c), "Managed (Offline)");
	assert_string_equal(status_agent_status(c), "error");
	assert_int_equal(mgrfix_events(m, 730), 1);
	assert_int_equal(mgrfix_events(m, 190), 1);
	assert_non_null(alert_find_open(m, &alert_computer_offline, c->id));
	assert_int_equal(c->open_critical, 1);
	/* nothing more to expire, no second event */
	assert_int_equal(status_next_deadline(m), -1);
	assert_int_equal(status_tick(m, 200000), 0);
	assert_int_equal(mgrfix_events(m, 730), 1);
}

static void
test_heartbeat_moves_deadline_and_clears(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	struct computer *c = add_computer(m, "b", 0);
	struct heartbeat_req hb;

	memset(&hb, 0, sizeof(hb));
	status_heartbeat(m, c, &hb, "127.0.0.1", 2000, 20000, 1);
	assert_int_equal(status_next_deadline(m), 50000);
	assert_int_equal(status_tick(m, 49999), 0);
	assert_int_equal(status_tick(m, 50000), 1);
	status_heartbeat(m, c, &hb, "127.0.0.1", 3000, 60000, 1);
	assert_string_equal(status_text(c), "Managed (Online)");
	assert_int_equal(mgrfix_events(m, 731), 1);
	assert_int_equal(mgrfix_events(m, 192), 1);
	assert_null(alert_find_open(m, &alert_computer_offline, c->id));
	assert_int_equal(c->open_critical, 0);
	assert_int_equal(c->last_contact_ms, 3000);
	assert_int_equal(status_next_deadline(m), 90000);
}

static void
test_many_computers_expire_in_order(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	struct computer *cs[100];
	struct heartbeat_req hb;
	int i;

	memset(&hb, 0, sizeof(hb));
	for (i = 0; i < 100; i++)
		cs[i] = add_computer(m, "many", 0);
	/* computer i last heard from at i*100 ms */
	for (i = 0; i < 100; i++)
		status_heartbeat(m, cs[i], &hb, "127.0.0.1", 1, i * 100, 1);
	for (i = 0; i < 100; i++) {
		assert_int_equal(status_next_deadline(m), 30000 + i * 100);
		assert_int_equal(status_tick(m, 30000 + i * 100), 1);
		assert_true(cs[i]->offline);
		if (i + 1 < 100)
			assert_false(cs[i + 1]->offline);
	}
}

static void
test_unlimited_never_offline(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	struct policy_values pv;
	struct computer *c;
	char err[256];

	/* through the Default policy, as vigilctl policy set would */
	memset(&pv, 0, sizeof(pv));
	pv.set = 1u << PS_MISSED_HEARTBEATS;
	pv.v[PS_MISSED_HEARTBEATS] = MISSED_UNLIMITED;
	assert_int_equal(policy_update(m, policy_by_id(m, POLICY_DEFAULT_ID), &pv, 0, -1, NULL,
				       "test", err, sizeof(err)),
			 0);
	c = add_computer(m, "laptop", 0);
	assert_int_equal(status_window_ms(m, c), -1);
	assert_int_equal(status_next_deadline(m), -1);
	assert_int_equal(status_tick(m, INT64_C(1) << 50), 0);
	assert_string_equal(status_text(c), "Managed (Online)");
	assert_int_equal(status_deadline_wall_ms(m, c), 0);
}

static void
test_deactivated_text(void **state)
{
	struct mgrfix *f = *state;
	struct computer *c = add_computer(&f->m, "gone", 0);

	c->state = COMPUTER_DEACTIVATED;
	assert_string_equal(status_text(c), "Deactivated");
	assert_string_equal(status_agent_status(c), "inactive");
	/* a deactivated computer's deadline passing changes nothing */
	assert_int_equal(status_tick(&f->m, 30000), 0);
	assert_false(c->offline);
}

static void
test_deactivate_clears_deadline_and_alert(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	struct computer *c = add_computer(m, "retire", 0);

	assert_int_equal(status_tick(m, 30000), 1);
	assert_non_null(alert_find_open(m, &alert_computer_offline, c->id));
	status_deactivate(m, c, "by a test from", "here", 0);
	assert_string_equal(status_text(c), "Deactivated");
	assert_null(alert_find_open(m, &alert_computer_offline, c->id));
	assert_int_equal(mgrfix_events(m, 708), 1);
	assert_int_equal(mgrfix_events(m, 192), 1);
	/* and no new deadline: a live one is removed too */
	c = add_computer(m, "retire2", 0);
	status_deactivate(m, c, "by a test from", "here", 0);
	assert_int_equal(status_next_deadline(m), -1);
	assert_int_equal(status_tick(m, 1000000), 0);
}

static void
test_seats_follow_power_and_deactivation(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	struct computer *a, *b;
	struct license *l;

	lic_init(&m->lic);
	assert_int_equal(lic_seats_total(m, 1000), -1); /* no license: unlimited */
	assert_int_equal(lic_add(m, 1, "", 0, &l), 0);
	a = add_computer(m, "a", 0);
	assert_int_equal(m->lic.seats_used, 1);
	b = add_computer(m, "b", 0); /* an operator-made overcommit, e.g. a VM started again */
	assert_int_equal(m->lic.seats_used, 2);
	assert_non_null(alert_find_open(m, &alert_seat_limit_exceeded, 0));
	status_power(m, b, 1, "test");
	assert_string_equal(status_text(b), "Managed (VM Stopped)");
	assert_int_equal(m->lic.seats_used, 1);
	assert_null(alert_find_open(m, &alert_seat_limit_exceeded, 0));
	/* a stopped VM has no offline deadline; a's stays */
	assert_int_equal(status_tick(m, 30000), 1);
	assert_true(a->offline);
	assert_false(b->offline);
	status_power(m, b, 0, "test");
	assert_int_equal(m->lic.seats_used, 2);
	status_deactivate(m, a, "by", "test", 0);
	assert_int_equal(m->lic.seats_used, 1);
	status_deactivate(m, b, "by", "test", 0);
	assert_int_equal(m->lic.seats_used, 0);
	lic_clear(&m->lic);
}


/* The open alerts of one computer are found and ended without touching another's. */
static void
test_alert_lists(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	struct computer *a = mgrfix_computer(m, "al-a", NULL, now_ms(), mono_ms());
	struct computer *b = mgrfix_computer(m, "al-b", NULL, now_ms(), mono_ms());
	struct alert *al;
	int n = 0;

	alert_raise(m, &alert_comm_problem, a, "one way");
	alert_raise(m, &alert_clock_change, a, "clock");
	alert_raise(m, &alert_comm_problem, b, "one way");
	alert_raise(m, &alert_clock_change, NULL, "manager-wide");
	/* raising again refreshes, never duplicates */
	alert_raise(m, &alert_comm_problem, a, "one way");
	for (al = m->alerts.open; al; al = al->next)
		n++;
	assert_int_equal(n, 4);
	assert_int_equal(a->open_warning + a->open_critical, 2);
	assert_non_null(alert_find_open(m, &alert_comm_problem, a->id));
	assert_non_null(alert_find_open(m, &alert_clock_change, 0));
	assert_null(alert_find_open(m, &alert_clock_change, b->id));
	alert_clear(m, &alert_comm_problem, a);
	assert_null(alert_find_open(m, &alert_comm_problem, a->id));
	assert_non_null(alert_find_open(m, &alert_clock_change, a->id));
	assert_non_null(alert_find_open(m, &alert_comm_problem, b->id));
	alert_clear(m, &alert_comm_problem, a); /* not open: nothing */
	alerts_clear_computer(m, a, "deleted");
	assert_null(a->alerts);
	assert_int_equal(a->open_warning + a->open_critical, 0);
	n = 0;
	for (al = m->alerts.open; al; al = al->next) {
		assert_true(al->next == NULL || al->next->prev == al);
		n++;
	}
	assert_int_equal(n, 2);
	/* comm problem is not dismissible; clock change is */
	al = alert_find_open(m, &alert_comm_problem, b->id);
	assert_int_equal(alert_dismiss(m, al->id, "test", (char[128]){0}, 128), -2);
	alert_raise(m, &alert_clock_change, b, "clock");
	al = alert_find_open(m, &alert_clock_change, b->id);
	assert_int_equal(alert_dismiss(m, al->id, "test", (char[128]){0}, 128), 0);
	assert_null(alert_find_open(m, &alert_clock_change, b->id));
	assert_non_null(alert_find_open(m, &alert_comm_problem, b->id));
	alert_clear(m, &alert_comm_problem, b);
	assert_null(b->alerts);
	/* the manager-wide one has a list of its own */
	assert_non_null(m->alerts.wide);
	alert_clear(m, &alert_clock_change, NULL);
	assert_null(alert_find_open(m, &alert_clock_change, 0));
	assert_null(m->alerts.wide);
	assert_null(m->alerts.open);
	store_flush(&m->store, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_offline_exactly_at_the_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alert_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat_moves_deadline_and_clears, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_computers_expire_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlimited_never_offline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deactivated_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deactivate_clears_deadline_and_alert, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_seats_follow_power_and_deactivation, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
