/* test_actsettings: CIDR allow-lists and the settings' JSON round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actsettings.h"
#include "jsonbody.h"

static void
test_cidrs(void **state)
{
	struct act_settings s;
	struct act_cidr c;

	act_defaults(&s);
	assert_int_equal(act_cidr_parse("10.0.0.0/8", &s.cidrs[0]), 0);
	assert_int_equal(act_cidr_parse("192.0.2.1", &s.cidrs[1]), 0);
	assert_int_equal(act_cidr_parse("fd00::/8", &s.cidrs[2]), 0);
	assert_int_equal(act_cidr_parse("172.16.0.0/12", &s.cidrs[3]), 0);
	s.ncidrs = 4;
	assert_true(act_ip_allowed(&s, "10.255.1.2"));
	assert_false(act_ip_allowed(&s, "11.0.0.1"));
	assert_true(act_ip_allowed(&s, "192.0.2.1"));
	assert_false(act_ip_allowed(&s, "192.0.2.2"));
	assert_true(act_ip_allowed(&s, "fd12::1"));
	assert_false(act_ip_allowed(&s, "fe80::1"));
	assert_true(act_ip_allowed(&s, "172.31.255.255"));
	assert_false(act_ip_allowed(&s, "172.32.0.0"));
	assert_false(act_ip_allowed(&s, "not an address"));
	assert_int_equal(act_cidr_parse("10.0.0.0/33", &c), -1);
	assert_int_equal(act_cidr_parse("10.0.0/8", &c), -1);
	assert_int_equal(act_cidr_parse("/8", &c), -1);
	assert_int_equal(act_cidr_parse("::1/129", &c), -1);
	assert_int_equal(act_cidr_parse("10.0.0.0/x", &c), -1);
}

static void
test_json_round_trip(void **state)
{
	struct act_settings s, t;
	char err[256], *text;
	json_t *o;
	const char *in = "{\"allow\":\"iplist\",\"ipList\":[\"10.0.0.0/8\",\"::1\"],\"duplicate\":\"refuse\","
			 "\"reactivateUnknown\":true}";

	act_defaults(&s);
	o = jsonbody_object(in, strlen(in), err, sizeof(err));
	assert_int_equal(act_from_json(&s, o, err, sizeof(err)), 0);
	json_decref(o);
	assert_int_equal(s.allow, ACT_ALLOW_IPLIST);
	assert_int_equal(s.duplicate, ACT_DUP_REFUSE);
	assert_int_equal(s.reactivate_cloned, 1); /* the default, untouched */
	assert_int_equal(s.reactivate_unknown, 1);
	o = act_to_json(&s);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_string_equal(text, "{\"allow\":\"iplist\",\"ipList\":[\"10.0.0.0/8\",\"::1/128\"],"
				  "\"duplicate\":\"refuse\",\"reactivateCloned\":true,"
				  "\"reactivateUnknown\":true}");
	act_defaults(&t);
	o = jsonbody_object(text, strlen(text), err, sizeof(err));
	assert_int_equal(act_from_json(&t, o, err, sizeof(err)), 0);
	json_decref(o);
	free(text);
	assert_int_equal(t.ncidrs, 2);
	assert_int_equal(t.reactivate_unknown, 1);
	assert_memory_equal(&t.cidrs[1], &s.cidrs[1], sizeof(t.cidrs[1]));
	/* a refused change leaves the settings as they were */
	o = json_pack("{s:s}", "allow", "sometimes");
	assert_int_equal(act_from_json(&t, o, err, sizeof(err)), -1);
	json_decref(o);
	assert_int_equal(t.allow, ACT_ALLOW_IPLIST);
	o = json_pack("{s:s}", "reactivateCloned", "yes");
	assert_int_equal(act_from_json(&t, o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "reactivateCloned"));
	json_decref(o);
	assert_int_equal(t.reactivate_cloned, 1);
	o = json_pack("{s:s, s:[]}", "allow", "iplist", "ipList");
	assert_int_equal(act_from_json(&t, o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "needs at least one range"));
	json_decref(o);
	assert_int_equal(t.ncidrs, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_cidrs),
					   cmocka_unit_test(test_json_round_trip)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
