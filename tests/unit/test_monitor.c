/* test_monitor: the watchdog's back-off schedule and its record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "monitor.h"
#include "wdstate.h"

static void
test_backoff_doubles_up_to_the_bound(void **state)
{
	assert_int_equal(monitor_backoff_ms(1, 120000), 1000);
	assert_int_equal(monitor_backoff_ms(2, 120000), 2000);
	assert_int_equal(monitor_backoff_ms(3, 120000), 4000);
	assert_int_equal(monitor_backoff_ms(7, 120000), 64000);
	assert_int_equal(monitor_backoff_ms(8, 120000), 120000);
	assert_int_equal(monitor_backoff_ms(1000000, 120000), 120000);
	/* a bound below the first step wins */
	assert_int_equal(monitor_backoff_ms(1, 500), 500);
	assert_int_equal(monitor_backoff_ms(0, 120000), 1000);
}

static void
test_reset_after_stable(void **state)
{
	/* died quickly: one more step */
	assert_int_equal(monitor_next_consecutive(0, 10, 300000), 1);
	assert_int_equal(monitor_next_consecutive(4, 299999, 300000), 5);
	/* stayed up long enough: back to the first step */
	assert_int_equal(monitor_next_consecutive(9, 300000, 300000), 1);
}

static void
test_exit_text(void **state)
{
	char s[128];
	int ws;
	pid_t p;

	p = fork();
	if (p == 0)
		_exit(3);
	waitpid(p, &ws, 0);
	monitor_exit_text(ws, s, sizeof(s));
	assert_string_equal(s, "exited with status 3");
	p = fork();
	if (p == 0) {
		pause();
		_exit(0);
	}
	kill(p, SIGKILL);
	waitpid(p, &ws, 0);
	monitor_exit_text(ws, s, sizeof(s));
	assert_string_equal(s, "killed by signal 9 (SIGKILL)");
}

static void
test_wdstate_roundtrip_and_ack(void **state)
{
	char dir[] = "/tmp/test_monitor.XXXXXX", path[256];
	struct wdstate w, r;
	json_t *o;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(wdstate_load(dir, &r), 0);
	assert_null(wdstate_report_json(dir));
	memset(&w, 0, sizeof(w));
	w.monitor_pid = 77;
	w.restarts = 3;
	w.unreported = 2;
	w.last_restart_ms = 1796000000000;
	snprintf(w.last_exit, sizeof(w.last_exit), "killed by signal 9 (SIGKILL)");
	assert_int_equal(wdstate_save(dir, &w), 0);
	assert_int_equal(wdstate_load(dir, &r), 1);
	assert_int_equal(r.restarts, 3);
	assert_int_equal(r.unreported, 2);
	assert_string_equal(r.last_exit, w.last_exit);
	o = wdstate_report_json(dir);
	assert_int_equal(json_integer_value(json_object_get(o, "unreported")), 2);
	json_decref(o);
	assert_int_equal(wdstate_ack(dir), 0);
	assert_int_equal(wdstate_load(dir, &r), 1);
	assert_int_equal(r.unreported, 0);
	assert_int_equal(r.restarts, 3);
	snprintf(path, sizeof(path), "%s/%s", dir, WDSTATE_FILE);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backoff_doubles_up_to_the_bound),
	    cmocka_unit_test(test_reset_after_stable),
	    cmocka_unit_test(test_exit_text),
	    cmocka_unit_test(test_wdstate_roundtrip_and_ack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
