/* test_httpresp: the answers the manager reads from agents' ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "httpresp.h"

static int
parse(const char *s, int eof, int *status, const char **body, size_t *blen)
{
	return httpresp_parse(s, strlen(s), eof, 1024, status, body, blen);
}

static void
test_complete_and_partial(void **state)
{
	const char *ok =
	    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
	    "\r\n{}";
	const char *body;
	size_t blen, cut;
	int status;

	assert_int_equal(parse(ok, 0, &status, &body, &blen), 1);
	assert_int_equal(status, 200);
	assert_int_equal(blen, 2);
	assert_memory_equal(body, "{}", 2);
	/* every shorter prefix needs more, and is malformed once the peer closed */
	for (cut = 0; cut < strlen(ok); cut++) {
		assert_int_equal(httpresp_parse(ok, cut, 0, 1024, &status, &body, &blen), 0);
		assert_int_equal(httpresp_parse(ok, cut, 1, 1024, &status, &body, &blen), -1);
	}
	/* header names in any case */
	assert_int_equal(
	    parse("HTTP/1.1 403 Error\r\ncontent-length: 4\r\n\r\nnope", 0, &status, &body, &blen),
	    1);
	assert_int_equal(status, 403);
	assert_int_equal(blen, 4);
	/* no length: the body runs to the end of the connection */
	assert_int_equal(parse("HTTP/1.0 202 Accepted\r\n\r\nabc", 0, &status, &body, &blen), 0);
	assert_int_equal(parse("HTTP/1.0 202 Accepted\r\n\r\nabc", 1, &status, &body, &blen), 1);
	assert_int_equal(blen, 3);
}

static void
test_refusals(void **state)
{
	const char *body;
	size_t blen;
	int status;

	assert_int_equal(parse("SSH-2.0-OpenSSH_9.2\r\n\r\n", 0, &status, &body, &blen), -1);
	assert_int_equal(parse("HTTP/1.1 20 OK\r\n\r\n", 0, &status, &body, &blen), -1);
	assert_int_equal(parse("HTTP/1.1 999 OK\r\n\r\n", 0, &status, &body, &blen), -1);
	assert_int_equal(
	    parse("HTTP/1.1 200 OK\r\nContent-Length: 2048\r\n\r\n", 0, &status, &body, &blen),
	    -1); /* more than the caller's limit */
	assert_int_equal(
	    parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, &status, &body, &blen), -1);
	assert_int_equal(
	    parse("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", 0, &status, &body, &blen), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_complete_and_partial),
	    cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
