/* test_policy: inheritance, overrides, parsing, persistence, and the deadline that follows. */
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
#include "mgr.h"
#include "mgrfix.h"
#include "policy.h"
#include "status.h"
#include "util.h"

static int
setup(void **state)
{
	*state = mgrfix_new("policy", 600, 2);
	return 0;
}

static int
teardown(void **state)
{
	mgrfix_free(*state);
	return 0;
}

static struct computer *
add_computer(struct mgr *m, const char *name, struct policy *p, int64_t t0)
{
	return mgrfix_computer(m, name, p, 1000, t0);
}

/* one setting given as text, as vigilctl policy set NAME KEY=VALUE does */
static int
set1(struct mgr *m, struct policy *p, const char *key, const char *val)
{
	struct policy_values pv;
	char err[256];
	int ps = ps_lookup(key);

	assert_true(ps >= 0);
	memset(&pv, 0, sizeof(pv));
	if (ps_parse(ps, val, &pv.v[ps], err, sizeof(err)) < 0)
		return -1;
	pv.set = 1u << ps;
	return policy_update(m, p, &pv, 0, -1, NULL, "test", err, sizeof(err));
}

static void
test_inheritance_and_sources(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	struct policy *def = policy_by_id(m, POLICY_DEFAULT_ID), *web, *edge;
	struct computer *c1, *c2;
	char err[256];

	assert_non_null(def);
	assert_string_equal(def->name, "Default");
	web = policy_create(m, "Web servers", "front ends", def->id, "test", err, sizeof(err));
	assert_non_null(web);
	edge = policy_create(m, "Edge", NULL, web->id, "test", err, sizeof(err));
	assert_non_null(edge);
	c1 = add_computer(m, "web1", web, 0);
	c2 = add_computer(m, "edge1", edge, 0);
	/* nothing set: the configuration file's values */
	assert_int_equal(policy_value(m, c2, PS_HEARTBEAT_INTERVAL), 600);
	assert_string_equal(policy_value_source(m, c2, PS_HEARTBEAT_INTERVAL), "configuration");
	/* set at the grandparent: inherited by both */
	assert_int_equal(set1(m, def, "heartbeat_interval", "300"), 0);
	assert_int_equal(policy_value(m, c2, PS_HEARTBEAT_INTERVAL), 300);
	assert_string_equal(policy_value_source(m, c2, PS_HEARTBEAT_INTERVAL), "Default");
	/* the parent wins over the grandparent, the child over both */
	assert_int_equal(set1(m, web, "platformSettingHeartbeatInterval", "120"), 0);
	assert_int_equal(set1(m, edge, "heartbeat_interval", "60"), 0);
	assert_int_equal(policy_value(m, c1, PS_HEARTBEAT_INTERVAL), 120);
	assert_int_equal(policy_value(m, c2, PS_HEARTBEAT_INTERVAL), 60);
	assert_string_equal(policy_value_source(m, c2, PS_HEARTBEAT_INTERVAL), "Edge");
	/* unset at the child: back to the parent's */
	assert_int_equal(policy_update(m, edge, NULL, 1u << PS_HEARTBEAT_INTERVAL, -1, NULL, "test",
	                               err, sizeof(err)),
	                 0);
	assert_int_equal(policy_value(m, c2, PS_HEARTBEAT_INTERVAL), 120);
	/* a computer override beats every policy */
	{
		struct policy_values pv;
		memset(&pv, 0, sizeof(pv));
		pv.set = 1u << PS_DIRECTION;
		pv.v[PS_DIRECTION] = DIR_AGENT_INITIATED;
		assert_int_equal(policy_override(m, c2, &pv, 0, "test", err, sizeof(err)), 0);
	}
	assert_int_equal(policy_value(m, c2, PS_DIRECTION), DIR_AGENT_INITIATED);
	assert_string_equal(policy_value_source(m, c2, PS_DIRECTION), "computer");
	assert_int_equal(policy_value(m, c1, PS_DIRECTION), DIR_BIDIRECTIONAL);
	/* removing the last override frees it */
	assert_int_equal(policy_override(m, c2, NULL, 1u << PS_DIRECTION, "test", err, sizeof(err)),
	                 0);
	assert_null(c2->ov);
}

static void
test_fingerprint_follows_every_change(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	struct policy *def = policy_by_id(m, POLICY_DEFAULT_ID), *child;
	struct computer *c;
	char a[PKI_FPR_LEN], b[PKI_FPR_LEN], x[PKI_FPR_LEN], err[256];
	json_t *cfg;

	child = policy_create(m, "Child", NULL, def->id, "test", err, sizeof(err));
	c = add_computer(m, "c", child, 0);
	assert_int_equal(policy_config_fpr(m, c, a), 0);
	/* the cached fingerprint is the one of the JSON the agent gets */
	cfg = policy_effective(m, c);
	assert_int_equal(policy_fingerprint(cfg, x), 0);
	assert_string_equal(a, x);
	assert_string_equal(json_string_value(json_object_get(cfg, "policy")), "Child");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(cfg, "modules"), "firewall")), "off");
	json_decref(cfg);
	/* a change at the parent reaches the child's computers */
	assert_int_equal(set1(m, def, "firewall", "on"), 0);
	assert_int_equal(policy_config_fpr(m, c, b), 0);
	assert_string_not_equal(a, b);
	/* an override too, and the JSON still matches */
	assert_int_equal(set1(m, child, "max_clock_change", "30"), 0);
	{
		struct policy_values pv;
		memset(&pv, 0, sizeof(pv));
		pv.set = 1u << PS_MISSED_HEARTBEATS;
		pv.v[PS_MISSED_HEARTBEATS] = MISSED_UNLIMITED;
		assert_int_equal(policy_override(m, c, &pv, 0, "test", err, sizeof(err)), 0);
	}
	assert_int_equal(policy_config_fpr(m, c, a), 0);
	cfg = policy_effective(m, c);
	assert_int_equal(policy_fingerprint(cfg, x), 0);
	assert_string_equal(a, x);
	assert_string_equal(json_string_value(json_object_get(cfg, "missed_heartbeats_allowed")),
	                    "unlimited");
	json_decref(cfg);
}

static void
test_deadline_follows_the_policy(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	struct policy *def = policy_by_id(m, POLICY_DEFAULT_ID);
	struct computer *c = add_computer(m, "c", def, 0);

	assert_int_equal(status_window_ms(m, c), 600 * 3 * 1000);
	assert_int_equal(status_next_deadline(m), 1800000);
	/* shorter: the deadline comes closer at once, from the last contact */
	assert_int_equal(set1(m, def, "heartbeat_interval", "10"), 0);
	assert_int_equal(status_next_deadline(m), 30000);
	assert_int_equal(status_tick(m, 30001), 1);
	assert_string_equal(status_text(c), "Managed (Offline)");
	/* unlimited: no deadline, and no longer offline */
	assert_int_equal(set1(m, def, "missed_heartbeats_allowed", "unlimited"), 0);
	assert_int_equal(status_next_deadline(m), -1);
	assert_string_equal(status_text(c), "Managed (Online)");
}

static void
test_refusals(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	struct policy *def = policy_by_id(m, POLICY_DEFAULT_ID), *a, *b;
	char err[256];
	int64_t v;

	assert_null(policy_create(m, "Default", NULL, 0, "test", err, sizeof(err)));
	assert_non_null(strstr(err, "already exists"));
	assert_null(policy_create(m, "", NULL, 0, "test", err, sizeof(err)));
	assert_null(policy_create(m, "42", NULL, 0, "test", err, sizeof(err)));
	assert_non_null(strstr(err, "cannot be a number"));
	assert_null(policy_create(m, "bad\x1b[31m", NULL, 0, "test", err, sizeof(err)));
	assert_null(policy_create(m, "orphan", NULL, 999, "test", err, sizeof(err)));
	assert_non_null(strstr(err, "no parent policy with ID 999"));
	a = policy_create(m, "A", NULL, def->id, "test", err, sizeof(err));
	b = policy_create(m, "B", NULL, a->id, "test", err, sizeof(err));
	assert_non_null(b);
	/* no loops: A under B when B is under A */
	assert_int_equal(policy_update(m, a, NULL, 0, b->id, NULL, "test", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "its own ancestor"));
	assert_int_equal(policy_update(m, a, NULL, 0, a->id, NULL, "test", err, sizeof(err)), -1);
	assert_int_equal(a->parent_id, def->id);
	/* values */
	assert_int_equal(ps_parse(PS_HEARTBEAT_INTERVAL, "0", &v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "from 1 to 86400"));
	assert_int_equal(ps_parse(PS_HEARTBEAT_INTERVAL, "unlimited", &v, err, sizeof(err)), -1);
	assert_int_equal(ps_parse(PS_MISSED_HEARTBEATS, "unlimited", &v, err, sizeof(err)), 0);
	assert_int_equal(v, MISSED_UNLIMITED);
	assert_int_equal(ps_parse(PS_DIRECTION, "manager-initiated", &v, err, sizeof(err)), 0);
	assert_int_equal(v, DIR_MANAGER_INITIATED);
	assert_int_equal(ps_parse(PS_DIRECTION, "sideways", &v, err, sizeof(err)), -1);
	assert_int_equal(ps_parse(PS_FIREWALL, "maybe", &v, err, sizeof(err)), -1);
	assert_int_equal(ps_lookup("no_such_setting"), -1);
	{
		json_error_t je;
		json_t *o = json_loads("{\"heartbeat_interval\": 60, \"firewall\": \"inherited\", "
		                       "\"platformSettingAgentCommunicationsDirection\": "
		                       "\"agent-initiated\"}",
		                       0, &je);
		struct policy_values pv;
		uint32_t unset;
		assert_int_equal(policy_values_parse(o, &pv, &unset, err, sizeof(err)), 0);
		assert_int_equal(pv.set, (1u << PS_HEARTBEAT_INTERVAL) | (1u << PS_DIRECTION));
		assert_int_equal(unset, 1u << PS_FIREWALL);
		json_decref(o);
		o = json_loads("{\"heartbeat_interval\": true}", 0, &je);
		assert_int_equal(policy_values_parse(o, &pv, &unset, err, sizeof(err)), -1);
		json_decref(o);
		o = json_loads("{\"nope\": 1}", 0, &je);
		assert_int_equal(policy_values_parse(o, &pv, &unset, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "no policy setting named \"nope\""));
		json_decref(o);
	}
}

static void
test_policies_survive_a_restart(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	struct policy *def = policy_by_id(m, POLICY_DEFAULT_ID), *web;
	char err[256], fpr[PKI_FPR_LEN];

	web = policy_create(m, "Web", "desc", def->id, "test", err, sizeof(err));
	assert_int_equal(set1(m, web, "communication_direction", "agent-initiated"), 0);
	assert_int_equal(set1(m, def, "missed_heartbeats_allowed", "5"), 0);
	memcpy(fpr, web->fpr, sizeof(fpr));
	mgrfix_reopen(f);
	m = &f->m;
	web = policy_find(m, "Web");
	assert_non_null(web);
	assert_string_equal(web->description, "desc");
	assert_int_equal(web->eff[PS_DIRECTION], DIR_AGENT_INITIATED);
	assert_int_equal(web->eff[PS_MISSED_HEARTBEATS], 5);
	assert_string_equal(web->fpr, fpr);
	assert_ptr_equal(policy_find(m, "2"), web); /* by ID too */
	/* IDs go on after the highest */
	assert_int_equal(policy_create(m, "Next", NULL, 0, "test", err, sizeof(err))->id, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_inheritance_and_sources, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fingerprint_follows_every_change, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deadline_follows_the_policy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policies_survive_a_restart, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
