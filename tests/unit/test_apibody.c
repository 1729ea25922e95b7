/* test_apibody: REST bodies for licenses and power state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "apibody.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_license), cmocka_unit_test(test_power)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
