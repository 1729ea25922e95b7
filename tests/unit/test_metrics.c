/* test_metrics: the Prometheus text format of GET /metrics. */
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
#include "metrics.h"

static int
setup(void **state)
{
	struct mgrfix *f = mgrfix_new("metrics", 10, 2);

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

static char *
render(struct mgr *m)
{
	struct buf b;
	char *s;

	buf_init(&b, METRICS_MAX_OUTPUT);
	assert_int_equal(metrics_render(m, &b), 0);
	s = strdup(buf_cstr(&b));
	buf_clear(&b);
	return s;
}

static void
test_escape(void **state)
{
	char out[32];

	assert_int_equal(metrics_escape("Managed (Online)", out, sizeof(out)), 0);
	assert_string_equal(out, "Managed (Online)");
	assert_int_equal(metrics_escape("a\\b\"c\nd", out, sizeof(out)), 0);
	assert_string_equal(out, "a\\\\b\\\"c\\nd");
	assert_int_equal(metrics_escape("0123456789", out, 10), -1);
	assert_int_equal(metrics_escape("012345678", out, 10), 0);
}

static void
test_refusals_by_reason(void **state)
{
	struct metrics mt;
	int i;

	memset(&mt, 0, sizeof(mt));
	metrics_activation_refused(&mt, "no_seat");
	metrics_activation_refused(&mt, "bad_token");
	metrics_activation_refused(&mt, "no_seat");
	assert_int_equal(mt.nrefused, 2);
	assert_string_equal(mt.refused[0].code, "no_seat");
	assert_int_equal(mt.refused[0].n, 2);
	/* a bounded table: more reasons than slots are not remembered */
	for (i = 0; i < 40; i++) {
		char code[16];
		snprintf(code, sizeof(code), "r%d", i);
		metrics_activation_refused(&mt, code);
	}
	assert_int_equal(mt.nrefused, METRICS_MAX_REASONS);
}

static void
test_render(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	char *s;

	add_computer(m, "a", 100000);
	add_computer(m, "b", 100000);
	m->stats.heartbeats = 7;
	m->stats.activations = 2;
	m->stats.activations_refused = 3;
	metrics_activation_refused(&m->metrics, "no_seat");
	metrics_activation_refused(&m->metrics, "no_seat");
	metrics_loop_lag(&m->metrics, 12);
	metrics_loop_lag(&m->metrics, 3);
	m->started_ms = 1796000000123;
	store_flush(&m->store, 1);
	s = render(m);
	assert_non_null(strstr(s, "# TYPE vigil_computers gauge\n"));
	assert_non_null(strstr(s, "vigil_computers{status=\"Managed (Online)\"} 2\n"));
	assert_non_null(strstr(s, "vigil_computers{status=\"Managed (Offline)\"} 0\n"));
	assert_non_null(strstr(s, "# TYPE vigil_heartbeats_received_total counter\n"
	                          "vigil_heartbeats_received_total 7\n"));
	assert_non_null(strstr(s, "vigil_activations_accepted_total 2\n"));
	assert_non_null(strstr(s, "vigil_activations_refused_total{reason=\"no_seat\"} 2\n"));
	/* the refusals not counted by reason show as "other" */
	assert_non_null(strstr(s, "vigil_activations_refused_total{reason=\"other\"} 1\n"));
	assert_non_null(strstr(s, "# TYPE vigil_store_flush_duration_seconds histogram\n"));
	assert_non_null(strstr(s, "vigil_store_flush_duration_seconds_bucket{le=\"+Inf\"} "));
	assert_non_null(strstr(s, "vigil_event_loop_lag_seconds 0.003\n"));
	assert_non_null(strstr(s, "vigil_event_loop_lag_max_seconds 0.012\n"));
	assert_non_null(strstr(s, "process_start_time_seconds 1796000000\n"));
	/* every line is a comment or "name[{labels}] value" */
	{
		char *line, *save = NULL;
		for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			assert_true(line[0] == '#' || strchr(line, ' ') != NULL);
	}
	free(s);
}

static void
test_histogram_is_cumulative(void **state)
{
	struct mgrfix *f = *state;
	struct mgr *m = &f->m;
	char *s, *p;
	unsigned long long prev = 0, v;
	int buckets = 0;

	m->store.flush_hist[0] = 2;
	m->store.flush_hist[3] = 1;
	m->store.flush_hist[STORE_FLUSH_BUCKETS] = 4;
	s = render(m);
	for (p = strstr(s, "_bucket{le="); p; p = strstr(p + 1, "_bucket{le=")) {
		char *sp = strchr(p, ' ');
		int64_t x;
		char num[32];
		size_t n = strcspn(sp + 1, "\n");
		assert_true(n < sizeof(num));
		memcpy(num, sp + 1, n);
		num[n] = '\0';
		assert_int_equal(parse_i64(num, 0, INT64_MAX, &x), 0);
		v = (unsigned long long)x;
		assert_true(v >= prev);
		prev = v;
		buckets++;
	}
	assert_int_equal(buckets, STORE_FLUSH_BUCKETS + 1);
	assert_int_equal(prev, 7);
	assert_non_null(strstr(s, "vigil_store_flush_duration_seconds_count 7\n"));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_refusals_by_reason),
	    cmocka_unit_test_setup_teardown(test_render, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_histogram_is_cumulative, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
