/* test_deadline: the min-heap against a brute-force reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "deadline.h"

#define N 2000

static int64_t
ref_min(struct deadline_entry *e, int n)
{
	int64_t m = INT64_MAX;
	int i;

	for (i = 0; i < n; i++)
		if (e[i].heap_idx != DEADLINE_NONE && e[i].when < m)
			m = e[i].when;
	return m;
}

static void
test_random_operations(void **state)
{
	static struct deadline_entry e[N];
	struct deadline_heap h;
	unsigned seed = 12345;
	int i, step;

	deadline_init(&h);
	for (i = 0; i < N; i++) {
		e[i].heap_idx = DEADLINE_NONE;
		assert_int_equal(deadline_set(&h, &e[i], rand_r(&seed) % 100000), 0);
	}
	for (step = 0; step < 20000; step++) {
		struct deadline_entry *x = &e[rand_r(&seed) % N];
		switch (rand_r(&seed) % 3) {
		case 0: /* move earlier or later */
			deadline_set(&h, x, rand_r(&seed) % 100000);
			break;
		case 1:
			deadline_remove(&h, x);
			assert_int_equal(x->heap_idx, DEADLINE_NONE);
			break;
		default: /* pop the minimum */
			if (deadline_peek(&h) != NULL) {
				assert_int_equal(deadline_peek(&h)->when, ref_min(e, N));
				deadline_remove(&h, deadline_peek(&h));
			}
		}
		if (deadline_peek(&h) != NULL)
			assert_int_equal(deadline_peek(&h)->when, ref_min(e, N));
	}
	/* draining yields non-decreasing deadlines */
	{
		int64_t last = INT64_MIN;
		while (deadline_peek(&h) != NULL) {
			assert_true(deadline_peek(&h)->when >= last);
			last = deadline_peek(&h)->when;
			deadline_remove(&h, deadline_peek(&h));
		}
	}
	deadline_clear(&h);
}

static void
test_remove_absent_is_harmless(void **state)
{
	struct deadline_heap h;
	struct deadline_entry a = {0, DEADLINE_NONE};

	deadline_init(&h);
	deadline_remove(&h, &a);
	assert_null(deadline_peek(&h));
	deadline_set(&h, &a, 5);
	deadline_clear(&h);
	assert_int_equal(a.heap_idx, DEADLINE_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_operations),
		cmocka_unit_test(test_remove_absent_is_harmless),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
