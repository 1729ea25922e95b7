/* test_buf: the growable buffer and its named maximum size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void
test_append_up_to_max(void **state)
{
	struct buf b;

	buf_init(&b, 10);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_int_equal(buf_puts(&b, "12345"), 0);
	assert_int_equal(buf_append(&b, "67890", 5), 0);
	assert_int_equal(b.len, 10);
	/* one byte over: refused, and the buffer is unchanged */
	assert_int_equal(buf_puts(&b, "x"), -1);
	assert_int_equal(buf_append(&b, "xyz", 3), -1);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "1234567890", 10);
	/* a NUL still fits: the storage holds max + 1 bytes */
	assert_string_equal(buf_cstr(&b), "1234567890");
	assert_true(b.cap <= 11);
	assert_int_equal(buf_append(&b, "", 0), 0);
	buf_clear(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	/* the maximum survives a clear */
	assert_int_equal(buf_puts(&b, "12345678901"), -1);
	assert_int_equal(buf_puts(&b, "1234567890"), 0);
	buf_clear(&b);
}

static void
test_huge_append_refused(void **state)
{
	struct buf b;

	buf_init(&b, 100);
	assert_int_equal(buf_puts(&b, "abc"), 0);
	/* a length that would overflow len + extra must not wrap around */
	assert_int_equal(buf_reserve(&b, SIZE_MAX), -1);
	assert_int_equal(buf_reserve(&b, SIZE_MAX - 1), -1);
	assert_int_equal(buf_reserve(&b, 98), -1);
	assert_int_equal(buf_reserve(&b, 97), 0);
	assert_int_equal(b.len, 3);
	buf_clear(&b);
}

static void
test_growth_keeps_content(void **state)
{
	struct buf b;
	char expect[5000];
	size_t i;

	buf_init(&b, sizeof(expect));
	for (i = 0; i < sizeof(expect); i++) {
		char c = (char)('a' + i % 26);
		expect[i] = c;
		assert_int_equal(buf_append(&b, &c, 1), 0);
	}
	assert_int_equal(b.len, sizeof(expect));
	assert_memory_equal(b.data, expect, sizeof(expect));
	assert_int_equal(buf_append(&b, "z", 1), -1);
	/* capacity never exceeds what the maximum needs */
	assert_true(b.cap <= sizeof(expect) + 1);
	buf_clear(&b);
}

static void
test_printf(void **state)
{
	struct buf b;

	buf_init(&b, 16);
	assert_int_equal(buf_printf(&b, "%d-%s", 42, "ab"), 0);
	assert_string_equal(buf_cstr(&b), "42-ab");
	assert_int_equal(buf_printf(&b, "%05d", 7), 0);
	assert_string_equal(buf_cstr(&b), "42-ab00007");
	assert_int_equal(b.len, 10);
	/* 7 more bytes would make 17: refused whole, nothing partial written */
	assert_int_equal(buf_printf(&b, "%s", "1234567"), -1);
	assert_int_equal(b.len, 10);
	assert_string_equal(buf_cstr(&b), "42-ab00007");
	assert_int_equal(buf_printf(&b, "%s", "123456"), 0);
	assert_int_equal(b.len, 16);
	assert_string_equal(buf_cstr(&b), "42-ab00007123456");
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	buf_clear(&b);
}

static void
test_consume_and_reset(void **state)
{
	struct buf b;
	const char *keep;

	buf_init(&b, 64);
	assert_int_equal(buf_puts(&b, "GET / HTTP/1.1\r\n"), 0);
	buf_consume(&b, 0);
	assert_int_equal(b.len, 16);
	buf_consume(&b, 4);
	assert_string_equal(buf_cstr(&b), "/ HTTP/1.1\r\n");
	buf_consume(&b, 12);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(buf_puts(&b, "abc"), 0);
	buf_consume(&b, 1000); /* more than there is: empties */
	assert_int_equal(b.len, 0);
	/* consumed bytes make room again up to the maximum */
	assert_int_equal(buf_append(&b, "0123456789012345678901234567890123456789012345678901234567890123",
				    64),
			 0);
	buf_consume(&b, 60);
	assert_int_equal(buf_puts(&b, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"), 0);
	assert_string_equal(buf_cstr(&b), "0123ABCDEFGHIJKLMNOPQRSTUVWXYZ");
	/* reset keeps the storage */
	keep = b.data;
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.data, keep);
	assert_string_equal(buf_cstr(&b), "");
	buf_clear(&b);
	buf_clear(&b); /* twice is harmless */
}

static void
test_zero_max(void **state)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_int_equal(buf_puts(&b, "a"), -1);
	assert_int_equal(buf_printf(&b, "%c", 'a'), -1);
	assert_string_equal(buf_cstr(&b), "");
	buf_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_up_to_max),
		cmocka_unit_test(test_huge_append_refused),
		cmocka_unit_test(test_growth_keeps_content),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_consume_and_reset),
		cmocka_unit_test(test_zero_max),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
