/* test_util: lib/util: numbers, times, strings, files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"

static void
test_parse_i64_bounds(void **state)
{
	int64_t v = 0;

	assert_int_equal(parse_i64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_i64("0", 0, 100, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_i64("100", 0, 100, &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(parse_i64("-7", -7, 7, &v), 0);
	assert_int_equal(v, -7);
	/* one outside either bound; the output is left alone */
	v = 5;
	assert_int_equal(parse_i64("-1", 0, 100, &v), -1);
	assert_int_equal(parse_i64("101", 0, 100, &v), -1);
	assert_int_equal(parse_i64("-8", -7, 7, &v), -1);
	assert_int_equal(v, 5);
	/* the whole int64_t range, and one past it */
	assert_int_equal(parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(parse_i64("-9223372036854775809", INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(parse_i64("99999999999999999999", 0, INT64_MAX, &v), -1);
}

static void
test_parse_i64_junk(void **state)
{
	static const char *const junk[] = {
		"", "4x", "x4", "4 ", " 4", "\t4", "\n4", "+4", "--4", "-", "+", "0x10", "1e3",
		"4.0", "4,0", "four", "4\n",
	};
	int64_t v = 77;
	size_t i;

	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		if (parse_i64(junk[i], INT64_MIN, INT64_MAX, &v) != -1)
			fail_msg("parse_i64 accepted \"%s\"", junk[i]);
	assert_int_equal(v, 77);
	assert_int_equal(parse_i64(NULL, 0, 1, &v), -1);
	/* leading zeros are still decimal, not octal */
	assert_int_equal(parse_i64("010", 0, 100, &v), 0);
	assert_int_equal(v, 10);
}

static void
test_parse_time_iso_and_epoch(void **state)
{
	int64_t ms = 0;

	assert_int_equal(parse_time_ms("2026-11-22T10:00:00Z", &ms), 0);
	assert_int_equal(ms, 1795341600000LL);
	assert_int_equal(parse_time_ms("1970-01-01T00:00:00Z", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(parse_time_ms("1970-01-01T00:00:01.5Z", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(parse_time_ms("2026-11-22T10:00:00.25Z", &ms), 0);
	assert_int_equal(ms, 1795341600250LL);
	assert_int_equal(parse_time_ms("2026-11-22T10:00:00.250Z", &ms), 0);
	assert_int_equal(ms, 1795341600250LL);
	/* digits beyond milliseconds are dropped, not rounded */
	assert_int_equal(parse_time_ms("2026-11-22T10:00:00.2509Z", &ms), 0);
	assert_int_equal(ms, 1795341600250LL);
	/* a leap day exists in leap years */
	assert_int_equal(parse_time_ms("2028-02-29T00:00:00Z", &ms), 0);
	assert_int_equal(ms, 1835395200000LL);
	assert_int_equal(parse_time_ms("2000-02-29T00:00:00Z", &ms), 0);
	assert_int_equal(parse_time_ms("2026-12-31T23:59:59Z", &ms), 0);
	assert_int_equal(ms, 1798761599000LL);
	/* epoch milliseconds */
	assert_int_equal(parse_time_ms("1795341600000", &ms), 0);
	assert_int_equal(ms, 1795341600000LL);
	assert_int_equal(parse_time_ms("0", &ms), 0);
	assert_int_equal(ms, 0);
}

static void
test_parse_time_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"yesterday",
		"-5",
		" 1795341600000",
		"2026-11-22",
		"2026-11-22T10:00:00",
		"2026-11-22T10:00:00z",
		"2026-11-22 10:00:00Z",
		"2026/11/22T10:00:00Z",
		"2026-11-22T10:00:00+01:00",
		"2026-11-22T10:00:00.Z",
		"2026-11-22T10:00:00.1x",
		"2026-11-22T10:00:00Zjunk",
		"2026-13-22T10:00:00Z",
		"2026-00-22T10:00:00Z",
		"2026-11-00T10:00:00Z",
		"2026-11-32T10:00:00Z",
		"2026-11-22T24:00:00Z",
		"2026-11-22T10:60:00Z",
		"2026-11-22T10:00:61Z",
		"2026-1a-22T10:00:00Z",
		/* days that the month does not have */
		"2026-02-29T00:00:00Z",
		"2026-02-30T00:00:00Z",
		"2026-04-31T00:00:00Z",
		"2100-02-29T00:00:00Z",
	};
	int64_t ms = 123;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse_time_ms(bad[i], &ms) != -1)
			fail_msg("parse_time_ms accepted \"%s\"", bad[i]);
	assert_int_equal(ms, 123);
}

static void
test_fmt_time(void **state)
{
	char out[40], small[8];
	int64_t back = 0;

	fmt_time_ms(1795341600250LL, out, sizeof(out));
	assert_string_equal(out, "2026-11-22T10:00:00.250Z");
	fmt_time_ms(1795341600007LL, out, sizeof(out));
	assert_string_equal(out, "2026-11-22T10:00:00.007Z");
	fmt_time_ms(1, out, sizeof(out));
	assert_string_equal(out, "1970-01-01T00:00:00.001Z");
	/* zero (never happened) and nonsense read "never" */
	fmt_time_ms(0, out, sizeof(out));
	assert_string_equal(out, "never");
	fmt_time_ms(-1000, out, sizeof(out));
	assert_string_equal(out, "never");
	/* what is printed parses back to the same instant */
	fmt_time_ms(1835395199999LL, out, sizeof(out));
	assert_string_equal(out, "2028-02-28T23:59:59.999Z");
	assert_int_equal(parse_time_ms(out, &back), 0);
	assert_int_equal(back, 1835395199999LL);
	/* a short buffer is cut and terminated */
	fmt_time_ms(1795341600250LL, small, sizeof(small));
	assert_string_equal(small, "2026-11");
}

static void
test_str_copy(void **state)
{
	char four[4], one[1];

	memset(four, 'x', sizeof(four));
	assert_int_equal(str_copy(four, "abc", sizeof(four)), 0);
	assert_string_equal(four, "abc");
	assert_int_equal(str_copy(four, "", sizeof(four)), 0);
	assert_string_equal(four, "");
	assert_int_equal(str_copy(four, "abcd", sizeof(four)), -1);
	assert_string_equal(four, "abc"); /* cut, terminated */
	assert_int_equal(str_copy(four, "abcdefgh", sizeof(four)), -1);
	assert_string_equal(four, "abc");
	assert_int_equal(str_copy(one, "a", sizeof(one)), -1);
	assert_string_equal(one, "");
	assert_int_equal(str_copy(one, "", sizeof(one)), 0);
	assert_int_equal(str_copy(four, "a", 0), -1);
}

static void
test_hex_and_random(void **state)
{
	unsigned char raw[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	unsigned char r1[32], r2[32];
	char hex[2 * sizeof(raw) + 1], one[1];
	int i, seen[5] = {0};

	hex_encode(raw, sizeof(raw), hex);
	assert_string_equal(hex, "00017f80abff");
	hex_encode(raw, 0, one);
	assert_string_equal(one, "");
	assert_int_equal(rand_below(0), 0);
	assert_int_equal(rand_below(1), 0);
	for (i = 0; i < 1000; i++) {
		uint64_t x = rand_below(5);
		assert_true(x < 5);
		seen[x]++;
	}
	for (i = 0; i < 5; i++)
		assert_true(seen[i] > 0);
	assert_int_equal(rand_bytes(r1, sizeof(r1)), 0);
	assert_int_equal(rand_bytes(r2, sizeof(r2)), 0);
	assert_memory_not_equal(r1, r2, sizeof(r1));
}

static void
test_clocks(void **state)
{
	int64_t a = mono_ms(), b = mono_ms(), w = now_ms();

	assert_true(b >= a);
	assert_true(w > 1700000000000LL); /* after 2023 */
}

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_files(void **state)
{
	char dir[] = "/tmp/vigil-test-util-XXXXXX", path[128], sub[128], missing[128];
	char *data = NULL, big[5000];
	size_t len = 0;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(path_join(path, sizeof(path), dir, "f"), 0);
	assert_int_equal(file_write_atomic(path, "hello", 5, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* no temporary file is left beside it */
	assert_int_equal(count_entries(dir), 1);
	assert_int_equal(file_read_all(path, 100, &data, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(data, "hello"); /* terminated for the caller */
	free(data);
	data = NULL;
	/* maxlen is inclusive */
	assert_int_equal(file_read_all(path, 5, &data, &len), 0);
	free(data);
	data = NULL;
	assert_int_equal(file_read_all(path, 4, &data, &len), -1);
	assert_null(data);
	/* rewriting replaces the whole content and applies the new mode */
	memset(big, 'b', sizeof(big));
	assert_int_equal(file_write_atomic(path, big, sizeof(big), 0644), 0);
	assert_int_equal(file_write_atomic(path, "x", 1, 0640), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(file_read_all(path, 100, &data, NULL), 0);
	assert_string_equal(data, "x");
	free(data);
	data = NULL;
	/* an empty file is a zero-length string */
	assert_int_equal(file_write_atomic(path, "", 0, 0600), 0);
	assert_int_equal(file_read_all(path, 0, &data, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
	free(data);
	data = NULL;
	assert_int_equal(count_entries(dir), 1);
	/* failures */
	assert_int_equal(path_join(missing, sizeof(missing), dir, "no/such/file"), 0);
	assert_int_equal(file_read_all(missing, 100, &data, &len), -1);
	assert_int_equal(file_write_atomic(missing, "x", 1, 0600), -1);
	assert_int_equal(count_entries(dir), 1);
	/* mkdir_p and path_join */
	assert_int_equal(path_join(sub, sizeof(sub), dir, "a/b/c"), 0);
	assert_int_equal(mkdir_p(sub, 0700), 0);
	assert_int_equal(mkdir_p(sub, 0700), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(path_join(big, 8, dir, "toolong"), -1);
	assert_int_equal(path_join(big, sizeof(big), "d", "n"), 0);
	assert_string_equal(big, "d/n");
	rmdir(sub);
	assert_int_equal(path_join(sub, sizeof(sub), dir, "a/b"), 0);
	rmdir(sub);
	assert_int_equal(path_join(sub, sizeof(sub), dir, "a"), 0);
	rmdir(sub);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_i64_bounds),
		cmocka_unit_test(test_parse_i64_junk),
		cmocka_unit_test(test_parse_time_iso_and_epoch),
		cmocka_unit_test(test_parse_time_rejects),
		cmocka_unit_test(test_fmt_time),
		cmocka_unit_test(test_str_copy),
		cmocka_unit_test(test_hex_and_random),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
