/* test_contact: tasks by communication direction, and when the manager calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "contact.h"
#include "log.h"
#include "mgr.h"
#include "mgrfix.h"
#include "policy.h"
#include "status.h"
#include "util.h"

static int
setup(void **state)
{
	struct mgrfix *f = mgrfix_new("contact", 600, 2);
	f->m.cfg.probe_interval = 60;
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
add_computer(struct mgr *m, const char *name, const char *direction, int port)
{
	struct computer *c = registry_new_computer(&m->reg);
	struct policy *p;
	char err[256];

	snprintf(c->guid, sizeof(c->guid), "00000000-0000-4000-8000-%012lld", (long long)c->id);
	computer_set_str(&c->hostname, name);
	p = policy_find(m, direction);
	if (p == NULL) {
		struct policy_values pv;
		p = policy_create(m, direction, NULL, POLICY_DEFAULT_ID, "test", err, sizeof(err));
		assert_non_null(p);
		memset(&pv, 0, sizeof(pv));
		pv.set = 1u << PS_DIRECTION;
		assert_int_equal(
		    ps_parse(PS_DIRECTION, direction, &pv.v[PS_DIRECTION], err, sizeof(err)), 0);
		assert_int_equal(policy_update(m, p, &pv, 0, -1, NULL, "test", err, sizeof(err)),
		                 0);
	}
	c->pol = p;
	c->agent_port = port;
	str_copy(c->last_ip, "127.0.0.1", sizeof(c->last_ip));
	assert_int_equal(registry_add(&m->reg, c), 0);
	status_activated(m, c, now_ms(), mono_ms());
	return c;
}

static void
test_agent_initiated_waits_for_the_heartbeat(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	struct computer *c = add_computer(m, "ai", "agent-initiated", 4118);
	struct ctask *t;
	char err[256];
	json_t *j;

	/* never called: no poll, no probe, and work waits */
	assert_int_equal(contact_next(m), -1);
	t = contact_task(m, c, TASK_CHECK_STATUS, "test", err, sizeof(err));
	assert_non_null(t);
	assert_string_equal(ctask_name(t), "Check Status Pending (Heartbeat)");
	t = contact_task(m, c, TASK_SEND_POLICY, "test", err, sizeof(err));
	assert_string_equal(ctask_name(t), "Update of Configuration Pending (Heartbeat)");
	/* the same task twice is one task */
	assert_ptr_equal(contact_task(m, c, TASK_SEND_POLICY, "test", err, sizeof(err)), t);
	assert_int_equal(contact_next(m), -1);
	j = contact_task_strings(c);
	assert_int_equal(json_array_size(j), 2);
	json_decref(j);
	contact_heartbeat(m, c, 1);
	j = contact_task_strings(c);
	assert_int_equal(json_array_size(j), 0); /* nothing open any more */
	json_decref(j);
	assert_string_equal(ctask_name(t), "Send Policy");
	assert_non_null(strstr(t->result, "heartbeat"));
}

static void
test_bidirectional_calls_at_once_and_probes(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	struct computer *c = add_computer(m, "bi", "bidirectional", 4118), *nc;
	char err[256];
	int64_t now = mono_ms();

	/* the first heartbeat schedules a probe within probe_interval */
	contact_heartbeat(m, c, 0);
	assert_true(contact_next(m) >= now && contact_next(m) <= mono_ms() + 60000);
	/* work is due now */
	assert_string_equal(
	    ctask_name(contact_task(m, c, TASK_CHECK_STATUS, "t", err, sizeof(err))),
	    "Checking Status");
	assert_true(contact_next(m) <= mono_ms());
	/* a computer whose port is not known waits for its heartbeat */
	nc = add_computer(m, "noport", "bidirectional", 0);
	assert_string_equal(
	    ctask_name(contact_task(m, nc, TASK_CHECK_STATUS, "t", err, sizeof(err))),
	    "Check Status Pending (Heartbeat)");
	/* a deactivated computer takes no task */
	status_deactivate(m, nc, "by a test", "here", 0);
	assert_null(contact_task(m, nc, TASK_SEND_POLICY, "t", err, sizeof(err)));
	assert_non_null(strstr(err, "not activated"));
}

static void
test_manager_initiated_polls_and_task_history_is_bounded(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	struct computer *c = add_computer(m, "mi", "manager-initiated", 4118);
	char err[256];
	json_t *j;
	int i;

	/* the polls start at activation */
	assert_true(contact_next(m) >= 0);
	for (i = 0; i < 3 * CONTACT_MAX_TASKS; i++) {
		struct ctask *t = contact_task(m, c, i % 2 ? TASK_CHECK_STATUS : TASK_SEND_POLICY,
		                               "t", err, sizeof(err));
		assert_non_null(t);
		t->state = TASK_DONE; /* so that the next one is a new task */
	}
	j = contact_tasks_json(c);
	assert_int_equal(json_array_size(j), CONTACT_MAX_TASKS);
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_agent_initiated_waits_for_the_heartbeat, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_bidirectional_calls_at_once_and_probes, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        test_manager_initiated_polls_and_task_history_is_bounded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
