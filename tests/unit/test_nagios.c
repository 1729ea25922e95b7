/* test_nagios: the summary line, performance data, thresholds and states. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nagios.h"

static char *
format(const struct nagios_report *r)
{
	struct buf b;
	char *s;

	buf_init(&b, NAGIOS_MAX_OUTPUT);
	assert_int_equal(nagios_format(r, &b), 0);
	s = strdup(buf_cstr(&b));
	buf_clear(&b);
	return s;
}

static void
test_all_ok(void **state)
{
	struct nagios_report r;
	char *s;

	nagios_init(&r, "VIGIL-AGENT");
	nagios_add(&r, "process", NAGIOS_OK, "running (pid %d)", 42);
	nagios_add(&r, "disk", NAGIOS_OK, "53%% free");
	nagios_perf(&r, "cert_days", 364, "", 1, 30, 0, 1);
	nagios_perf(&r, "disk_free_pct", 53, "%", 1, 10, 5, 1);
	nagios_perf(&r, "queue_depth", 0, "", 0, 0, 0, 0);
	assert_int_equal(nagios_worst(&r), NAGIOS_OK);
	s = format(&r);
	assert_string_equal(s, "VIGIL-AGENT OK - 2 checks passed | cert_days=364;30:;0: "
	                       "disk_free_pct=53%;10:;5: queue_depth=0\n"
	                       "OK: process: running (pid 42)\n"
	                       "OK: disk: 53% free\n");
	free(s);
}

static void
test_worst_names_the_problem(void **state)
{
	struct nagios_report r;
	char *s;

	nagios_init(&r, "VIGIL-MANAGER");
	nagios_add(&r, "process", NAGIOS_OK, "running");
	nagios_add(&r, "disk", NAGIOS_WARNING, "8%% free");
	nagios_add(&r, "api port", NAGIOS_CRITICAL, "port 4119 is not listening");
	nagios_add(&r, "cert", NAGIOS_UNKNOWN, "cannot tell");
	assert_int_equal(nagios_worst(&r), NAGIOS_CRITICAL);
	s = format(&r);
	assert_non_null(strstr(s, "VIGIL-MANAGER CRITICAL - api port: port 4119 is not listening "
	                          "(and 2 more problems)\n"));
	assert_non_null(strstr(s, "WARNING: disk: 8% free\n"));
	free(s);
}

static void
test_state_order(void **state)
{
	struct nagios_report r;

	/* a known warning outranks an unknown */
	nagios_init(&r, "X");
	nagios_add(&r, "a", NAGIOS_UNKNOWN, "?");
	nagios_add(&r, "b", NAGIOS_WARNING, "w");
	assert_int_equal(nagios_worst(&r), NAGIOS_WARNING);
	nagios_init(&r, "X");
	nagios_add(&r, "a", NAGIOS_UNKNOWN, "?");
	assert_int_equal(nagios_worst(&r), NAGIOS_UNKNOWN);
	nagios_init(&r, "X");
	assert_int_equal(nagios_worst(&r), NAGIOS_OK);
}

static void
test_thresholds(void **state)
{
	assert_int_equal(nagios_threshold_low(364, 30, 0), NAGIOS_OK);
	assert_int_equal(nagios_threshold_low(30, 30, 0), NAGIOS_OK);
	assert_int_equal(nagios_threshold_low(29, 30, 0), NAGIOS_WARNING);
	assert_int_equal(nagios_threshold_low(0, 30, 0), NAGIOS_WARNING);
	assert_int_equal(nagios_threshold_low(-1, 30, 0), NAGIOS_CRITICAL);
	assert_int_equal(nagios_threshold_low(9, 10, 5), NAGIOS_WARNING);
	assert_int_equal(nagios_threshold_low(4, 10, 5), NAGIOS_CRITICAL);
}

static void
test_too_many_checks_dropped(void **state)
{
	struct nagios_report r;
	int i;

	nagios_init(&r, "X");
	for (i = 0; i < NAGIOS_MAX_CHECKS + 5; i++)
		nagios_add(&r, "c", NAGIOS_OK, "%d", i);
	assert_int_equal(r.n, NAGIOS_MAX_CHECKS);
	for (i = 0; i < NAGIOS_MAX_PERF + 5; i++)
		nagios_perf(&r, "p", i, "", 0, 0, 0, 0);
	assert_int_equal(r.nperf, NAGIOS_MAX_PERF);
}

static void
test_json(void **state)
{
	struct nagios_report r;
	json_t *o;

	nagios_init(&r, "VIGIL-AGENT");
	nagios_add(&r, "heartbeat", NAGIOS_CRITICAL, "the manager cannot be reached");
	nagios_perf(&r, "queue_depth", 3, "", 0, 0, 0, 0);
	o = nagios_json(&r);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "CRITICAL");
	assert_int_equal(json_integer_value(json_object_get(o, "exit_code")), 2);
	assert_string_equal(json_string_value(json_object_get(o, "summary")),
	                    "VIGIL-AGENT CRITICAL - heartbeat: the manager cannot be reached | "
	                    "queue_depth=3");
	assert_int_equal(json_array_size(json_object_get(o, "checks")), 1);
	assert_int_equal(
	    json_integer_value(json_object_get(
	        json_object_get(json_object_get(o, "perfdata"), "queue_depth"), "value")),
	    3);
	json_decref(o);
}

static void
test_cert_missing_is_critical(void **state)
{
	struct nagios_report r;
	int64_t days;

	nagios_init(&r, "X");
	assert_int_equal(nagios_check_cert(&r, "cert", "the cert", "/nonexistent/x.crt", &days),
	                 NAGIOS_CRITICAL);
	assert_non_null(strstr(r.checks[0].detail, "cannot read /nonexistent/x.crt"));
}

static void
test_disk(void **state)
{
	struct nagios_report r;
	int64_t pct;

	nagios_init(&r, "X");
	nagios_check_disk(&r, "disk", "/", &pct);
	assert_true(pct >= 0 && pct <= 100);
	nagios_init(&r, "X");
	assert_int_equal(nagios_check_disk(&r, "disk", "/nonexistent/dir", &pct), NAGIOS_UNKNOWN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_ok),
	    cmocka_unit_test(test_worst_names_the_problem),
	    cmocka_unit_test(test_state_order),
	    cmocka_unit_test(test_thresholds),
	    cmocka_unit_test(test_too_many_checks_dropped),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_cert_missing_is_critical),
	    cmocka_unit_test(test_disk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
