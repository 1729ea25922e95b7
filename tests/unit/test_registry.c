/* test_registry: lookups by GUID, ID and name across rehashes; the name index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "registry.h"

static void
test_many(void **state)
{
	struct registry r;
	char guid[GUID_LEN], name[32];
	int i;

	registry_init(&r);
	for (i = 0; i < 5000; i++) {
		struct computer *c = registry_new_computer(&r);
		assert_int_equal(c->id, i + 1);
		snprintf(c->guid, sizeof(c->guid), "00000000-0000-4000-8000-%012d", i);
		snprintf(name, sizeof(name), "host%d", i);
		computer_set_str(&c->hostname, name);
		assert_int_equal(registry_add(&r, c), 0);
	}
	for (i = 0; i < 5000; i += 7) {
		snprintf(guid, sizeof(guid), "00000000-0000-4000-8000-%012d", i);
		assert_int_equal(registry_by_guid(&r, guid)->id, i + 1);
		assert_int_equal(registry_by_id(&r, i + 1)->id, i + 1);
	}
	snprintf(name, sizeof(name), "host%d", 4321);
	assert_int_equal(registry_by_name(&r, name)->id, 4322);
	assert_null(registry_by_guid(&r, "nope"));
	assert_null(registry_by_id(&r, 0));
	assert_null(registry_by_id(&r, 5001));
	assert_null(registry_by_name(&r, "nobody"));
	/* removal: gone by GUID and ID, neighbours intact, IDs not reused */
	{
		struct computer *c = registry_by_id(&r, 2500);
		registry_remove(&r, c);
		computer_free(c);
		assert_int_equal(r.n, 4999);
		assert_null(registry_by_id(&r, 2500));
		assert_null(registry_by_guid(&r, "00000000-0000-4000-8000-000000002499"));
		assert_int_equal(registry_by_id(&r, 2499)->id, 2499);
		assert_int_equal(registry_by_id(&r, 2501)->id, 2501);
		assert_int_equal(registry_by_guid(&r, "00000000-0000-4000-8000-000000002500")->id,
				 2501);
		c = registry_by_id(&r, 5000);
		registry_remove(&r, c);
		computer_free(c);
		assert_int_equal(r.next_id, 5001);
	}
	/* ids only grow */
	{
		struct computer *c = registry_new_computer(&r);
		c->id = 3;
		assert_int_equal(registry_add(&r, c), -1);
		computer_free(c);
	}
	registry_clear(&r);
}

/* The name index: duplicates, renames in and out of the registry, removal. */
static void
test_names(void **state)
{
	struct registry r;
	struct computer *c, *found[8];
	int i, n;

	registry_init(&r);
	for (i = 0; i < 600; i++) {
		c = registry_new_computer(&r);
		snprintf(c->guid, sizeof(c->guid), "00000000-0000-4000-8000-%012d", i);
		/* every third one is a clone named "template" */
		assert_int_equal(registry_set_hostname(&r, c, i % 3 == 0 && i < 12 ? "template" : "x"),
				 0);
		if (i >= 12) {
			char name[32];
			snprintf(name, sizeof(name), "h%d", i);
			assert_int_equal(registry_set_hostname(&r, c, name), 0);
		}
		assert_int_equal(registry_add(&r, c), 0);
	}
	n = 0;
	for (c = registry_name_first(&r, "template"); c; c = registry_name_next(c, "template"))
		found[n++] = c;
	assert_int_equal(n, 4);
	assert_int_equal(registry_by_name(&r, "template")->id, 1);
	/* renamed in the registry: found by the new name only */
	c = registry_by_name(&r, "h300");
	assert_int_equal(registry_set_hostname(&r, c, "renamed"), 0);
	assert_null(registry_by_name(&r, "h300"));
	assert_ptr_equal(registry_by_name(&r, "renamed"), c);
	/* removed: gone from the name index, the other clones stay */
	c = registry_by_id(&r, 1);
	registry_remove(&r, c);
	computer_free(c);
	assert_int_equal(registry_by_name(&r, "template")->id, 4);
	/* a rename of a computer outside the registry touches no index */
	c = registry_new_computer(&r);
	assert_int_equal(registry_set_hostname(&r, c, "template"), 0);
	assert_int_equal(registry_by_name(&r, "template")->id, 4);
	computer_free(c);
	(void)found;
	registry_clear(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_many), cmocka_unit_test(test_names)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
