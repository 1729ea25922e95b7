/* test_wdreport: the heartbeat's watchdog field and event 741. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "events.h"
#include "log.h"
#include "mgr.h"
#include "mgrfix.h"
#include "registry.h"
#include "status.h"
#include "util.h"
#include "wdreport.h"

static int
setup(void **state)
{
	struct mgrfix *f = mgrfix_new("wdreport", 10, 2);

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
test_parse(void **state)
{
	struct wdreport r;
	static const char ok[] = "{\"hostname\":\"a\",\"watchdog\":{\"restarts\":3,"
	                         "\"unreported\":1,\"last_restart_ms\":1796000000000,"
	                         "\"last_exit\":\"killed by signal 9 (SIGKILL)\"}}";

	assert_int_equal(wdreport_parse(ok, strlen(ok), &r), 1);
	assert_int_equal(r.restarts, 3);
	assert_int_equal(r.unreported, 1);
	assert_int_equal(r.last_restart_ms, 1796000000000);
	assert_string_equal(r.last_exit, "killed by signal 9 (SIGKILL)");
	assert_int_equal(wdreport_parse("{\"hostname\":\"a\"}", 16, &r), 0);
	assert_int_equal(wdreport_parse(NULL, 0, &r), 0);
}

static void
test_parse_rejects(void **state)
{
	static const char *const bad[] = {
	    "{\"watchdog\":3}",
	    "{\"watchdog\":{\"restarts\":-1}}",
	    "{\"watchdog\":{\"restarts\":\"3\"}}",
	    "{\"watchdog\":{\"restarts\":1,\"unreported\":2}}",
	    "{\"watchdog\":{\"restarts\":1,\"last_exit\":7}}",
	    "{\"watchdog\":{\"restarts\":10000000000}}",
	};
	struct wdreport r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(wdreport_parse(bad[i], strlen(bad[i]), &r), -1);
		assert_int_equal(r.restarts, 0);
	}
}

static void
test_exit_text_is_sanitised_and_bounded(void **state)
{
	struct wdreport r;
	char body[512];
	char longtext[WDREPORT_MAX_EXIT + 2];

	snprintf(body, sizeof(body),
	         "{\"watchdog\":{\"restarts\":1,\"unreported\":1,\"last_exit\":\"a\\u0007b\"}}");
	assert_int_equal(wdreport_parse(body, strlen(body), &r), 1);
	assert_string_equal(r.last_exit, "a?b");
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	snprintf(body, sizeof(body), "{\"watchdog\":{\"restarts\":1,\"last_exit\":\"%s\"}}",
	         longtext);
	assert_int_equal(wdreport_parse(body, strlen(body), &r), -1);
}

static void
test_heartbeat_records_741_once_per_report(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	struct computer *c = add_computer(m, "a", 100000);
	static const char one[] =
	    "{\"watchdog\":{\"restarts\":2,\"unreported\":1,"
	    "\"last_restart_ms\":1796000000000,\"last_exit\":\"exited with status 1\"}}";
	static const char none[] = "{\"watchdog\":{\"restarts\":2,\"unreported\":0,"
	                           "\"last_restart_ms\":1796000000000}}";

	wdreport_heartbeat(m, c, one, strlen(one));
	assert_int_equal(mgrfix_events(m, EV_ABNORMAL_RESTART), 1);
	assert_int_equal(c->watchdog_restarts, 2);
	assert_int_equal(c->watchdog_last_restart_ms, 1796000000000);
	/* nothing new to report: the totals stay, no second event */
	wdreport_heartbeat(m, c, none, strlen(none));
	assert_int_equal(mgrfix_events(m, EV_ABNORMAL_RESTART), 1);
	assert_int_equal(c->watchdog_restarts, 2);
	assert_non_null(evcat_find(EV_ABNORMAL_RESTART));
	assert_string_equal(evcat_find(EV_ABNORMAL_RESTART)->name, "Abnormal Restart Detected");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_exit_text_is_sanitised_and_bounded),
	    cmocka_unit_test_setup_teardown(test_heartbeat_records_741_once_per_report, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
