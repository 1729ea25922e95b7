/* test_util: lib/util and lib/buf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "util.h"

static void
test_parse_i64(void **state)
{
	int64_t v;

	assert_int_equal(parse_i64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_i64("-1", 0, 100, &v), -1);
	assert_int_equal(parse_i64("101", 0, 100, &v), -1);
	assert_int_equal(parse_i64("4x", 0, 100, &v), -1);
	assert_int_equal(parse_i64("", 0, 100, &v), -1);
	assert_int_equal(parse_i64("99999999999999999999", 0, INT64_MAX, &v), -1);
}

static void
test_times(void **state)
{
	int64_t ms;
	char out[40];

	assert_int_equal(parse_time_ms("2026-11-22T10:00:00Z", &ms), 0);
	assert_int_equal(ms, 1795341600000LL);
	assert_int_equal(parse_time_ms("2026-11-22T10:00:00.25Z", &ms), 0);
	assert_int_equal(ms, 1795341600250LL);
	assert_int_equal(parse_time_ms("1795341600000", &ms), 0);
	assert_int_equal(ms, 1795341600000LL);
	assert_int_equal(parse_time_ms("2026-13-22T10:00:00Z", &ms), -1);
	assert_int_equal(parse_time_ms("2026-11-22 10:00:00Z", &ms), -1);
	assert_int_equal(parse_time_ms("2026-11-22T10:00:00+01:00", &ms), -1);
	assert_int_equal(parse_time_ms("yesterday", &ms), -1);
	fmt_time_ms(1795341600250LL, out, sizeof(out));
	assert_string_equal(out, "2026-11-22T10:00:00.250Z");
	fmt_time_ms(0, out, sizeof(out));
	assert_string_equal(out, "never");
}

static void
test_strings(void **state)
{
	char small[4], hex[7];
	unsigned char raw[3] = {0x00, 0xab, 0xff};

	assert_int_equal(str_copy(small, "abc", sizeof(small)), 0);
	assert_int_equal(str_copy(small, "abcd", sizeof(small)), -1);
	assert_string_equal(small, "abc");
	hex_encode(raw, 3, hex);
	assert_string_equal(hex, "00abff");
	assert_true(rand_below(10) < 10);
	assert_int_equal(rand_below(1), 0);
}

static void
test_files(void **state)
{
	char dir[] = "/tmp/vigil-test-util-XXXXXX", path[128], sub[128];
	char *data = NULL;
	size_t len = 0;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(path_join(path, sizeof(path), dir, "f"), 0);
	assert_int_equal(file_write_atomic(path, "hello", 5, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(file_read_all(path, 100, &data, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(data, "hello");
	free(data);
	assert_int_equal(file_read_all(path, 4, &data, &len), -1); /* over the limit */
	assert_int_equal(path_join(sub, sizeof(sub), dir, "a/b/c"), 0);
	assert_int_equal(mkdir_p(sub, 0700), 0);
	assert_int_equal(mkdir_p(sub, 0700), 0);
	assert_int_equal(path_join(path, 8, dir, "toolong"), -1);
	unlink(path);
	rmdir(sub);
	assert_int_equal(path_join(sub, sizeof(sub), dir, "a/b"), 0);
	rmdir(sub);
	assert_int_equal(path_join(sub, sizeof(sub), dir, "a"), 0);
	rmdir(sub);
	assert_int_equal(path_join(path, sizeof(path), dir, "f"), 0);
	unlink(path);
	rmdir(dir);
}

static void
test_buf_limits(void **state)
{
	struct buf b;

	buf_init(&b, 10);
	assert_int_equal(buf_puts(&b, "12345"), 0);
	assert_int_equal(buf_printf(&b, "%d", 67890), 0);
	assert_int_equal(b.len, 10);
	assert_int_equal(buf_puts(&b, "x"), -1);
	assert_int_equal(b.len, 10); /* unchanged by the refused append */
	assert_string_equal(buf_cstr(&b), "1234567890");
	buf_consume(&b, 4);
	assert_string_equal(buf_cstr(&b), "567890");
	buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_printf(&b, "%s", "01234567890"), -1);
	buf_clear(&b);
	assert_null(b.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_i64), cmocka_unit_test(test_times),
		cmocka_unit_test(test_strings),	  cmocka_unit_test(test_files),
		cmocka_unit_test(test_buf_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
