/* test_heartbeat_sched: the agent's schedule: jitter and back-off bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "heartbeat.h"
#include "retry.h"
#include "util.h"

static void
test_interval_jitter(void **state)
{
	int i;

	for (i = 0; i < 10000; i++) {
		int64_t d = hb_next_delay_ms(600, rand_below(UINT64_MAX));
		assert_true(d >= 540000 && d <= 660000);
		d = hb_next_delay_ms(1, rand_below(UINT64_MAX));
		assert_true(d >= 900 && d <= 1100);
	}
	assert_int_equal(hb_next_delay_ms(600, 0), 540000);
}

static void
test_backoff(void **state)
{
	int f, i;

	/* steps of 1, 2, 4, ... s, 50-100% of the step, capped at min(interval, 300 s) */
	for (f = 1; f <= 20; f++) {
		int64_t step = (int64_t)1000 << (f - 1 < 12 ? f - 1 : 12);
		if (step > 300000)
			step = 300000;
		for (i = 0; i < 1000; i++) {
			int64_t d = hb_backoff_ms(f, 600, rand_below(UINT64_MAX));
			assert_true(d >= step / 2 && d <= step);
		}
	}
	/* a short interval caps the back-off at the interval */
	for (i = 0; i < 1000; i++) {
		int64_t d = hb_backoff_ms(10, 1, rand_below(UINT64_MAX));
		assert_true(d >= 500 && d <= 1000);
		d = hb_backoff_ms(10, 20, rand_below(UINT64_MAX));
		assert_true(d >= 10000 && d <= 20000);
	}
}

static void
test_activation_retry_delay(void **state)
{
	int i;

	for (i = 0; i < 10000; i++) {
		int64_t d = retry_delay_ms(300, 0, rand_below(UINT64_MAX));
		assert_true(d >= 270000 && d <= 330000);
		/* Retry-After wins when longer, spread over up to half of it again */
		d = retry_delay_ms(1, 4, rand_below(UINT64_MAX));
		assert_true(d >= 4000 && d <= 6000);
		/* and is ignored when the interval is longer anyway */
		d = retry_delay_ms(60, 4, rand_below(UINT64_MAX));
		assert_true(d >= 54000 && d <= 66000);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interval_jitter),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_activation_retry_delay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
