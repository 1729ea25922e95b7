/* test_apibody: REST bodies for licenses and power state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "apibody.h"
#include "buf.h"

static void
test_license(void **state)
{
	struct license_req lr;
	char err[256];
	const char *ok = "{\"seats\":5,\"modules\":[\"antimalware\",\"firewall\"],"
			 "\"expires\":\"2027-01-01T00:00:00Z\"}";

	assert_int_equal(apibody_license(ok, strlen(ok), &lr, err, sizeof(err)), 0);
	assert_int_equal(lr.seats, 5);
	assert_string_equal(lr.modules, "antimalware,firewall");
	assert_int_equal(lr.expires_ms, 1798761600000LL);
	assert_int_equal(apibody_license("{\"seats\":1}", 11, &lr, err, sizeof(err)), 0);
	assert_string_equal(lr.modules, "");
	assert_int_equal(lr.expires_ms, 0);
	assert_int_equal(apibody_license("{\"seats\":0}", 11, &lr, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"seats\" must be a whole number from 1"));
	assert_int_equal(apibody_license("{\"seats\":\"5\"}", 13, &lr, err, sizeof(err)), -1);
	assert_int_equal(
		apibody_license("{\"seats\":2,\"modules\":[\"coffee\"]}", 32, &lr, err, sizeof(err)),
		-1);
	assert_non_null(strstr(err, "entry 1 is not one of"));
	assert_int_equal(apibody_license("{\"seats\":2,\"expires\":\"soon\"}", 28, &lr, err,
					 sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "\"expires\""));
	assert_int_equal(apibody_license("[", 1, &lr, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "malformed JSON"));
}

static void
test_power(void **state)
{
	char err[256];
	int stopped = -1;

	assert_int_equal(apibody_power("{\"state\":\"stopped\"}", 19, &stopped, err, sizeof(err)), 0);
	assert_int_equal(stopped, 1);
	assert_int_equal(apibody_power("{\"state\":\"running\"}", 19, &stopped, err, sizeof(err)), 0);
	assert_int_equal(stopped, 0);
	assert_int_equal(apibody_power("{\"state\":\"off\"}", 15, &stopped, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"state\" must be"));
}

static void
expect_inventory_error(const char *body, const char *fragment)
{
	struct inventory_req r;
	char err[256];

	assert_int_equal(apibody_inventory(body, strlen(body), &r, err, sizeof(err)), -1);
	if (strstr(err, fragment) == NULL)
		fail_msg("error \"%s\" lacks \"%s\" for %s", err, fragment, body);
	assert_null(r.inst);
}

static void
test_inventory(void **state)
{
	struct inventory_req r;
	char err[256];
	const char *ok = "{\"instances\":[{\"id\":\"vm-1\",\"power_state\":\"stopped\","
			 "\"macs\":[\"52:54:00:AB:cd:01\",\"52-54-00-00-00-02\"],\"hostname\":\"web1\"},"
			 "{\"id\":\"vm-2\",\"power_state\":\"running\"}]}";

	assert_int_equal(apibody_inventory(ok, strlen(ok), &r, err, sizeof(err)), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.inst[0].id, "vm-1");
	assert_int_equal(r.inst[0].stopped, 1);
	assert_int_equal(r.inst[0].nmacs, 2);
	/* normalised: lower case, colons */
	assert_string_equal(r.inst[0].macs[0], "52:54:00:ab:cd:01");
	assert_string_equal(r.inst[0].macs[1], "52:54:00:00:00:02");
	assert_string_equal(r.inst[0].hostname, "web1");
	assert_int_equal(r.inst[1].stopped, 0);
	assert_int_equal(r.inst[1].nmacs, 0);
	apibody_inventory_clear(&r);
	assert_int_equal(apibody_inventory("{\"instances\":[]}", 16, &r, err, sizeof(err)), 0);
	assert_int_equal(r.n, 0);
	apibody_inventory_clear(&r);

	expect_inventory_error("{}", "\"instances\" must be an array");
	expect_inventory_error("{\"instances\":[1]}", "instance 1 is not an object");
	expect_inventory_error("{\"instances\":[{\"power_state\":\"running\"}]}", "\"id\" must be");
	expect_inventory_error("{\"instances\":[{\"id\":\"\",\"power_state\":\"running\"}]}",
			       "\"id\" must be");
	expect_inventory_error("{\"instances\":[{\"id\":\"a\\nb\",\"power_state\":\"running\"}]}",
			       "without control characters");
	expect_inventory_error("{\"instances\":[{\"id\":\"a\",\"power_state\":\"off\"}]}",
			       "instance \"a\": field \"power_state\"");
	expect_inventory_error("{\"instances\":[{\"id\":\"a\",\"power_state\":\"running\","
			       "\"macs\":[\"52:54:00:12:34\"]}]}",
			       "MAC 1 is not six hexadecimal octets");
	expect_inventory_error("{\"instances\":[{\"id\":\"a\",\"power_state\":\"running\","
			       "\"macs\":\"52:54:00:12:34:56\"}]}",
			       "\"macs\" must be an array");
	expect_inventory_error("{\"instances\":[{\"id\":\"a\",\"power_state\":\"running\"},"
			       "{\"id\":\"a\",\"power_state\":\"stopped\"}]}",
			       "\"a\" appears more than once");
	{
		/* the limits: INV_MAX_INSTANCES + 1 instances, INV_MAX_ID + 1 bytes of id */
		struct buf b;
		char id[INV_MAX_ID + 2];
		int i;
		buf_init(&b, 1 << 24);
		buf_puts(&b, "{\"instances\":[");
		for (i = 0; i <= INV_MAX_INSTANCES; i++)
			buf_printf(&b, "%s{\"id\":\"i%d\",\"power_state\":\"running\"}", i ? "," : "", i);
		buf_puts(&b, "]}");
		expect_inventory_error(buf_cstr(&b), "at most 10000 instances");
		buf_clear(&b);
		memset(id, 'x', sizeof(id) - 1);
		id[sizeof(id) - 1] = '\0';
		buf_init(&b, 1 << 24);
		buf_printf(&b, "{\"instances\":[{\"id\":\"%s\",\"power_state\":\"running\"}]}", id);
		expect_inventory_error(buf_cstr(&b), "1 to 128 bytes");
		buf_clear(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_license), cmocka_unit_test(test_power),
					   cmocka_unit_test(test_inventory)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
