/*
 * test_hbanswer: the heartbeat answer written as text (proto_heartbeat_answer,
 * jsonw) against the object that jansson builds and dumps, as handle_heartbeat
 * did before: the same bytes, for every shape of the answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jsonw.h"
#include "mgr.h"
#include "mgrfix.h"
#include "policy.h"
#include "proto.h"
#include "status.h"

static int
setup(void **state)
{
	*state = mgrfix_new("hbanswer", 600, 2);
	return 0;
}

static int
teardown(void **state)
{
	mgrfix_free(*state);
	return 0;
}

/* The answer as handle_heartbeat built it with jansson (the reference); NULL if it failed. */
static char *
ref_answer(const struct hb_answer *a, json_t *policy)
{
	json_t *out =
	    json_pack("{s:s, s:I, s:I, s:s, s:I, s:[]}", "status", a->status, "manager_clock_ms",
	              (json_int_t)a->manager_clock_ms, "heartbeat_interval",
	              (json_int_t)a->heartbeat_interval, "config_fingerprint",
	              a->config_fingerprint, "ack_seq", (json_int_t)a->ack_seq, "tasks");
	char *s, *r;

	if (out != NULL && policy != NULL)
		json_object_set(out, "config", policy);
	if (out != NULL && a->port_check)
		json_object_set_new(out, "agent_port_check",
		                    json_pack("{s:i, s:I, s:s, s:s}", "port", a->port, "last_ok_ms",
		                              (json_int_t)a->last_ok_ms, "error", a->port_error,
		                              "direction", a->direction));
	s = out ? json_dumps(out, JSON_COMPACT) : NULL;
	json_decref(out);
	if (s == NULL)
		return NULL;
	r = malloc(strlen(s) + 2);
	assert_non_null(r);
	snprintf(r, strlen(s) + 2, "%s\n", s);
	free(s);
	return r;
}

/* Template and reference agree byte for byte, and the text parses to the same object. */
static void
expect_same(const struct hb_answer *a, json_t *policy)
{
	char *ref = ref_answer(a, policy);
	struct buf b;
	json_t *x, *y;

	buf_init(&b, 1 << 20);
	assert_non_null(ref);
	assert_int_equal(proto_heartbeat_answer(&b, a), 0);
	assert_non_null(buf_cstr(&b));
	assert_string_equal(b.data, ref);
	x = json_loads(ref, 0, NULL);
	y = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(y);
	assert_true(json_equal(x, y));
	json_decref(x);
	json_decref(y);
	free(ref);
	buf_clear(&b);
}

static void
base_answer(struct hb_answer *a)
{
	memset(a, 0, sizeof(*a));
	a->status = "Managed (Online)";
	a->manager_clock_ms = 1795349166816;
	a->heartbeat_interval = 600;
	a->config_fingerprint = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	a->ack_seq = 0;
}

static void
test_plain_and_acks(void **state)
{
	static const int64_t acks[] = {0, 1, 9, 10, 99, 12345, INT64_C(1) << 62};
	struct hb_answer a;
	size_t i;

	base_answer(&a);
	expect_same(&a, NULL);
	/* events acknowledged up to a sequence */
	for (i = 0; i < sizeof(acks) / sizeof(acks[0]); i++) {
		a.ack_seq = acks[i];
		expect_same(&a, NULL);
	}
	/* the number edges jansson prints with %lld */
	a.manager_clock_ms = INT64_MAX;
	a.heartbeat_interval = INT64_MIN;
	a.ack_seq = -1;
	expect_same(&a, NULL);
	/* every status the manager shows; an empty fingerprint */
	a.status = "Multiple Errors";
	a.config_fingerprint = "";
	expect_same(&a, NULL);
	a.status = "Managed (VM Stopped)";
	expect_same(&a, NULL);
}

/* A configuration change: the cached text of the policy against policy_effective(). */
static void
test_config_change(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	struct computer *c = mgrfix_computer(m, "cfg1", NULL, 1000, 1000);
	struct policy *p;
	struct policy_values pv;
	struct hb_answer a;
	char err[256], *owned;
	json_t *ref;

	base_answer(&a);
	a.config_json = policy_config_text(m, c, &owned);
	assert_non_null(a.config_json);
	assert_null(owned); /* the cached text of Default */
	ref = policy_effective(m, c);
	expect_same(&a, ref);
	json_decref(ref);

	/* a policy whose name needs escaping, with a changed setting */
	p = policy_create(m, "Web \"front\" \\ caf\xc3\xa9 \xe2\x9c\x93 /x", "", 0, "test", err,
	                  sizeof(err));
	assert_non_null(p);
	memset(&pv, 0, sizeof(pv));
	pv.set = 1u << PS_HEARTBEAT_INTERVAL;
	pv.v[PS_HEARTBEAT_INTERVAL] = 30;
	assert_int_equal(policy_update(m, p, &pv, 0, -1, NULL, "test", err, sizeof(err)), 0);
	policy_assign(m, c, p, "test");
	a.config_json = policy_config_text(m, c, &owned);
	assert_null(owned);
	assert_non_null(strstr(a.config_json, "\"heartbeat_interval\":30"));
	ref = policy_effective(m, c);
	expect_same(&a, ref);
	json_decref(ref);

	/* a computer with its own values: text made for it */
	pv.v[PS_HEARTBEAT_INTERVAL] = 45;
	assert_int_equal(policy_override(m, c, &pv, 0, "test", err, sizeof(err)), 0);
	a.config_json = policy_config_text(m, c, &owned);
	assert_non_null(owned);
	assert_non_null(strstr(a.config_json, "\"heartbeat_interval\":45"));
	ref = policy_effective(m, c);
	a.ack_seq = 77;
	expect_same(&a, ref);
	json_decref(ref);
	free(owned);
}

/* vigil-agentctl diagnose: agent_port_check, with strings that need escaping. */
static void
test_agent_port_check(void **state)
{
	static const char *errors[] = {
	    "",
	    "connection refused",
	    "quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f",
	    "\x01\x02\x1f\x7f controls and DEL",
	    "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80 (2, 3 and 4 bytes)",
	};
	struct hb_answer a;
	size_t i;

	base_answer(&a);
	a.port_check = 1;
	a.port = 4119;
	a.last_ok_ms = 1795349166000;
	a.direction = "bidirectional";
	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		a.port_error = errors[i];
		expect_same(&a, NULL);
	}
	/* with a configuration as well, and the other directions */
	a.config_json = "{\"policy\":\"Default\",\"policy_id\":1}";
	a.direction = "agent_initiated";
	a.port = -1;
	a.last_ok_ms = 0;
	{
		json_t *cfg = json_loads(a.config_json, 0, NULL);
		expect_same(&a, cfg);
		json_decref(cfg);
	}
}

/* Text that is not UTF-8: jansson leaves agent_port_check out; so does the template. */
static void
test_not_utf8(void **state)
{
	static const char *bad[] = {
	    "\xff", "\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\x80",
	};
	struct hb_answer a;
	struct buf b;
	size_t i;

	base_answer(&a);
	a.port_check = 1;
	a.direction = "bidirectional";
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a.port_error = bad[i];
		expect_same(&a, NULL);
		assert_false(jsonw_utf8_ok(bad[i], strlen(bad[i])));
	}
	/* a status that is not UTF-8 fails the whole answer, as json_pack does */
	buf_init(&b, 4096);
	a.status = "\xff";
	assert_null(ref_answer(&a, NULL));
	assert_int_equal(proto_heartbeat_answer(&b, &a), -1);
	assert_int_equal(b.len, 0);
	/* a full buffer: nothing half-written */
	a.status = "Managed (Online)";
	buf_clear(&b);
	buf_init(&b, 40);
	assert_int_equal(proto_heartbeat_answer(&b, &a), -1);
	assert_int_equal(b.len, 0);
	buf_clear(&b);
}

/* jsonw against jansson for every single byte and for the integers' edges. */
static void
test_jsonw_against_jansson(void **state)
{
	static const int64_t nums[] = {0, 1, -1, 9, 10, -10, 1234567890123, INT64_MAX, INT64_MIN};
	struct buf b;
	char s[8], *ref;
	int ch;
	size_t i;

	buf_init(&b, 4096);
	for (ch = 1; ch < 0x80; ch++) {
		json_t *j;

		snprintf(s, sizeof(s), "a%cb", ch);
		j = json_string(s);
		ref = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		buf_reset(&b);
		assert_int_equal(jsonw_str(&b, s), 0);
		assert_non_null(buf_cstr(&b));
		assert_string_equal(b.data, ref);
		free(ref);
		json_decref(j);
	}
	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		json_t *j = json_integer(nums[i]);

		ref = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		buf_reset(&b);
		assert_int_equal(jsonw_i64(&b, nums[i]), 0);
		assert_non_null(buf_cstr(&b));
		assert_string_equal(b.data, ref);
		free(ref);
		json_decref(j);
	}
	buf_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_and_acks),
	    cmocka_unit_test_setup_teardown(test_config_change, setup, teardown),
	    cmocka_unit_test(test_agent_port_check),
	    cmocka_unit_test(test_not_utf8),
	    cmocka_unit_test(test_jsonw_against_jansson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
