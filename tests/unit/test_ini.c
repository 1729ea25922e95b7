/* test_ini: the INI reader's grammar, limits and line numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ini.h"

struct seen {
	char log[2048];
};

static int
handler(void *ctx, const char *section, const char *key, const char *value, int line,
	char *errbuf, size_t errsize)
{
	struct seen *s = ctx;
	size_t n = strlen(s->log);

	snprintf(s->log + n, sizeof(s->log) - n, "%d:%s.%s=%s;", line, section, key, value);
	if (strcmp(key, "refuse") == 0) {
		snprintf(errbuf, errsize, "refused %s", value);
		return -1;
	}
	return 0;
}

static void
on_error(void *ctx, int line, const char *msg)
{
	struct seen *s = ctx;
	size_t n = strlen(s->log);

	snprintf(s->log + n, sizeof(s->log) - n, "E%d:%s;", line, msg);
}

static void
test_grammar(void **state)
{
	struct seen s = {""};
	const char text[] = "a = 1\n# c\n; c\n\n[ sec ]\nk=v\n  k2  =  spaced value  \r\nq = \"  x \"\n"
			    "refuse = 9\n[bad\nnoeq\nb@d = 1\n";

	assert_int_equal(ini_parse_mem(text, strlen(text), handler, on_error, &s), 4);
	assert_string_equal(s.log, "1:.a=1;6:sec.k=v;7:sec.k2=spaced value;8:sec.q=  x ;"
				   "9:sec.refuse=9;E9:refused 9;"
				   "E10:section header must be [name] alone on its line;"
				   "E11:expected \"key = value\";E12:invalid key name;");
}

static void
test_limits(void **state)
{
	struct seen s = {""};
	char *big = malloc(INI_MAX_LINE + 20);

	memset(big, 'a', INI_MAX_LINE + 10);
	memcpy(big, "k = ", 4);
	big[INI_MAX_LINE + 10] = '\n';
	assert_int_equal(ini_parse_mem(big, INI_MAX_LINE + 11, handler, on_error, &s), 1);
	assert_non_null(strstr(s.log, "E1:line too long"));
	free(big);
	s.log[0] = '\0';
	assert_int_equal(ini_parse_mem("k = a\0b\n", 8, handler, on_error, &s), 1);
	assert_non_null(strstr(s.log, "E1:line contains a NUL byte"));
	s.log[0] = '\0';
	assert_int_equal(ini_parse_file("/nonexistent/vigil.conf", handler, on_error, &s), 1);
	assert_non_null(strstr(s.log, "E0:cannot read /nonexistent/vigil.conf"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_grammar), cmocka_unit_test(test_limits)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
