/* test_heartbeat_sched: the agent's schedule: jitter and back-off bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static void
test_clock_jump(void **state)
{
	int64_t base = 1000000 - 5000; /* wall - monotonic */

	/* time passing on both clocks is no change */
	assert_int_equal(hb_clock_jump(&base, 1000000, 5000, HB_CLOCK_JUMP_MS), 0);
	assert_int_equal(hb_clock_jump(&base, 1060000, 65000, HB_CLOCK_JUMP_MS), 0);
	/* drift within the threshold is not a change either */
	assert_int_equal(hb_clock_jump(&base, 1065000 + 4999, 70000, HB_CLOCK_JUMP_MS), 0);
	/* an hour forward, then back */
	assert_int_equal(hb_clock_jump(&base, 1070000 + 3600000, 75000, HB_CLOCK_JUMP_MS), 3600000);
	assert_int_equal(hb_clock_jump(&base, 1080000 + 3600000, 85000, HB_CLOCK_JUMP_MS), 0);
	assert_int_equal(hb_clock_jump(&base, 1090000, 95000, HB_CLOCK_JUMP_MS), -3600000);
}

static void
test_events_batch(void **state)
{
	char dir[] = "/tmp/vigil-test-batch-XXXXXX", path[64];
	struct evq q;
	const char *err = NULL;
	json_t *b;
	int i;
	char big[EVQ_MAX_DESC + 1];

	assert_non_null(mkdtemp(dir));
	assert_int_equal(evq_open(&q, dir, EVQ_DEFAULT_MAX_BYTES, EVQ_DEFAULT_MAX_EVENTS, &err), 0);
	b = hb_events_batch(&q, HB_MAX_BATCH_EVENTS, HB_MAX_BATCH_BYTES);
	assert_int_equal(json_array_size(b), 0);
	json_decref(b);
	/* times the manager would refuse are clamped to its range, never sent as they are */
	assert_int_equal(evq_push_nosync(&q, EVQ_EV_CLOCK_CHANGED, -5000, "before 1970"), 0);
	assert_int_equal(evq_push_nosync(&q, EVQ_EV_CLOCK_CHANGED, INT64_MAX, "after 9999"), 0);
	b = hb_events_batch(&q, HB_MAX_BATCH_EVENTS, HB_MAX_BATCH_BYTES);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(b, 0), "time_ms")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(b, 1), "time_ms")),
			 HB_MAX_TIME_MS);
	json_decref(b);
	assert_int_equal(evq_ack(&q, evq_peek(&q, 1)->seq), 0);
	for (i = 0; i < 600; i++)
		assert_int_equal(evq_push_nosync(&q, EVQ_EV_TEST, i, "x"), 0);
	/* bounded by count, oldest first */
	b = hb_events_batch(&q, HB_MAX_BATCH_EVENTS, HB_MAX_BATCH_BYTES);
	assert_int_equal(json_array_size(b), HB_MAX_BATCH_EVENTS);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(b, 0), "seq")),
	                 (json_int_t)evq_peek(&q, 0)->seq);
	json_decref(b);
	/* bounded by bytes: large descriptions, worst-case escaping */
	assert_int_equal(evq_ack(&q, evq_peek(&q, 599)->seq), 0);
	memset(big, '"', EVQ_MAX_DESC);
	big[EVQ_MAX_DESC] = '\0';
	for (i = 0; i < 100; i++)
		assert_int_equal(evq_push_nosync(&q, EVQ_EV_TEST, i, big), 0);
	b = hb_events_batch(&q, HB_MAX_BATCH_EVENTS, HB_MAX_BATCH_BYTES);
	assert_true(json_array_size(b) > 10 && json_array_size(b) < 100);
	{
		char *s = json_dumps(b, JSON_COMPACT);
		assert_true(strlen(s) <= HB_MAX_BATCH_BYTES);
		free(s);
	}
	json_decref(b);
	evq_close(&q);
	snprintf(path, sizeof(path), "%s/%s", dir, EVQ_FILE);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", dir, EVQ_SEQ_FILE);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_interval_jitter),        cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_activation_retry_delay), cmocka_unit_test(test_clock_jump),
	    cmocka_unit_test(test_events_batch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
