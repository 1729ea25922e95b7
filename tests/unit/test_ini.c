/* test_ini: the INI reader's grammar, limits and line numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ini.h"
#include "util.h"

/* Every handler call and error, in order, as "LINE:section.key=value;" and "ELINE:msg;". */
struct seen {
	char log[16384];
};

static void
seen_add(struct seen *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
seen_add(struct seen *s, const char *fmt, ...)
{
	size_t n = strlen(s->log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->log + n, sizeof(s->log) - n, fmt, ap);
	va_end(ap);
}

static int
handler(void *ctx, const char *section, const char *key, const char *value, int line,
	char *errbuf, size_t errsize)
{
	struct seen *s = ctx;

	seen_add(s, "%d:%s.%s=%s;", line, section, key, value);
	if (strcmp(key, "refuse") == 0) {
		snprintf(errbuf, errsize, "refused %s", value);
		return -1;
	}
	if (strcmp(key, "silent") == 0)
		return -1; /* no message: the parser supplies one */
	return 0;
}

static void
on_error(void *ctx, int line, const char *msg)
{
	seen_add(ctx, "E%d:%s;", line, msg);
}

static int
parse(struct seen *s, const char *text)
{
	s->log[0] = '\0';
	return ini_parse_mem(text, strlen(text), handler, on_error, s);
}

static void
test_sections_comments_and_blanks(void **state)
{
	struct seen s;

	assert_int_equal(parse(&s, "# top comment\n"
				   "; other comment\n"
				   "\n"
				   "   \t\n"
				   "[ sec ]\n"
				   "k=v\n"
				   "  # indented comment\n"
				   "  k2  =  spaced value  \r\n"
				   "[sec.two-3_x]\n"
				   "a = b = c\n"
				   "empty =\n"
				   "hash = not # a comment\n"
				   "last = no newline"),
			 0);
	assert_string_equal(s.log, "6:sec.k=v;8:sec.k2=spaced value;10:sec.two-3_x.a=b = c;"
				   "11:sec.two-3_x.empty=;12:sec.two-3_x.hash=not # a comment;"
				   "13:sec.two-3_x.last=no newline;");
	assert_int_equal(parse(&s, ""), 0);
	assert_string_equal(s.log, "");
	assert_int_equal(parse(&s, "\n\n\n"), 0);
}

static void
test_keys_outside_sections(void **state)
{
	struct seen s;

	/* the reader passes them with an empty section: the caller decides */
	assert_int_equal(parse(&s, "a = 1\n[s]\nb = 2\n"), 0);
	assert_string_equal(s.log, "1:.a=1;3:s.b=2;");
}

static void
test_quotes(void **state)
{
	struct seen s;

	assert_int_equal(parse(&s, "[q]\n"
				   "a = \"  x \"\n"
				   "b = \"\"\n"
				   "c = \"in \"side\"\n"
				   "d = not \"quoted\"\n"
				   "e = \"crlf\"\r\n"),
			 0);
	assert_string_equal(s.log, "2:q.a=  x ;3:q.b=;4:q.c=in \"side;5:q.d=not \"quoted\";"
				   "6:q.e=crlf;");
	assert_int_equal(parse(&s, "[q]\na = \"open\nb = \"\nc = ok\n"), 2);
	assert_string_equal(s.log, "E2:unterminated quoted value;E3:unterminated quoted value;"
				   "4:q.c=ok;");
}

static void
test_errors_with_their_lines(void **state)
{
	struct seen s;

	assert_int_equal(parse(&s, "[sec]\n"	       /* 1 */
				   "refuse = 9\n"      /* 2 */
				   "[bad\n"	       /* 3 */
				   "noeq\n"	       /* 4 */
				   "b@d = 1\n"	       /* 5 */
				   "[]\n"	       /* 6 */
				   "[a b]\n"	       /* 7 */
				   "[x] trailing\n"    /* 8 */
				   " = novalue\n"      /* 9 */
				   "silent = 1\n"      /* 10 */
				   "ok = 1\n"),	       /* 11 */
			 9);
	assert_string_equal(s.log, "2:sec.refuse=9;E2:refused 9;"
				   "E3:section header must be [name] alone on its line;"
				   "E4:expected \"key = value\";"
				   "E5:invalid key name;"
				   "E6:invalid section name;"
				   "E7:invalid section name;"
				   "E8:section header must be [name] alone on its line;"
				   "E9:invalid key name;"
				   "10:sec.silent=1;E10:invalid setting;"
				   "11:sec.ok=1;");
}

static void
test_overlong_line(void **state)
{
	struct seen s;
	size_t n = INI_MAX_LINE + 10, at = 0;
	char *text = malloc(2 * INI_MAX_LINE + 100);

	/* line 1: too long; line 2: exactly the limit is fine; line 3 counts on */
	memcpy(text, "k = ", 4);
	memset(text + 4, 'a', n - 4);
	at = n;
	text[at++] = '\n';
	memcpy(text + at, "m = ", 4);
	memset(text + at + 4, 'b', INI_MAX_LINE - 4);
	at += INI_MAX_LINE;
	text[at++] = '\n';
	memcpy(text + at, "z = 1\n", 6);
	at += 6;
	s.log[0] = '\0';
	assert_int_equal(ini_parse_mem(text, at, handler, on_error, &s), 1);
	{
		const char *want = "E1:line too long (limit 4096 bytes);2:.m=bbb";
		assert_int_equal(strncmp(s.log, want, strlen(want)), 0);
	}
	assert_non_null(strstr(s.log, ";3:.z=1;"));
	/* the last line, without a newline, too long */
	s.log[0] = '\0';
	assert_int_equal(ini_parse_mem(text, n, handler, on_error, &s), 1);
	assert_string_equal(s.log, "E1:line too long (limit 4096 bytes);");
	free(text);
}

static void
test_nul_byte(void **state)
{
	struct seen s;
	const char text[] = "a = 1\nk = a\0b\nc = 3\n";

	s.log[0] = '\0';
	assert_int_equal(ini_parse_mem(text, sizeof(text) - 1, handler, on_error, &s), 1);
	assert_string_equal(s.log, "1:.a=1;E2:line contains a NUL byte;3:.c=3;");
	/* the length given is what is read: a NUL after it does not count */
	s.log[0] = '\0';
	assert_int_equal(ini_parse_mem(text, 6, handler, on_error, &s), 0);
	assert_string_equal(s.log, "1:.a=1;");
}

static void
test_file(void **state)
{
	char dir[] = "/tmp/vigil-test-ini-XXXXXX", path[128];
	struct seen s;
	char *big;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(path_join(path, sizeof(path), dir, "x.conf"), 0);
	assert_int_equal(file_write_atomic(path, "[f]\nk = v\n", 10, 0600), 0);
	s.log[0] = '\0';
	assert_int_equal(ini_parse_file(path, handler, on_error, &s), 0);
	assert_string_equal(s.log, "2:f.k=v;");
	/* over the file limit: one error, line 0, nothing parsed */
	big = malloc(INI_MAX_FILE + 1);
	memset(big, '#', INI_MAX_FILE + 1);
	assert_int_equal(file_write_atomic(path, big, INI_MAX_FILE + 1, 0600), 0);
	free(big);
	s.log[0] = '\0';
	assert_int_equal(ini_parse_file(path, handler, on_error, &s), 1);
	assert_non_null(strstr(s.log, "E0:cannot read "));
	assert_non_null(strstr(s.log, "file larger than 1 MiB"));
	unlink(path);
	s.log[0] = '\0';
	assert_int_equal(ini_parse_file("/nonexistent/vigil.conf", handler, on_error, &s), 1);
	assert_string_equal(s.log, "E0:cannot read /nonexistent/vigil.conf: No such file or directory;");
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections_comments_and_blanks),
		cmocka_unit_test(test_keys_outside_sections),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_errors_with_their_lines),
		cmocka_unit_test(test_overlong_line),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
