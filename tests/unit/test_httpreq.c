/* test_httpreq: request parsing, limits, pipelining, queries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "httpreq.h"

static const struct http_limits lim = {128, 512, 64};

static int
feed_all(struct http_request *r, const char *s, size_t *used)
{
	return httpreq_feed(r, s, strlen(s), used);
}

static void
test_get_with_headers(void **state)
{
	struct http_request r;
	size_t used;
	char path[64], v[32];
	const char *req = "GET /api/events?computer=web%201&id=730&x=a+b HTTP/1.1\r\n"
			  "Host: x\r\nAPI-Secret-Key: k1\r\nEmpty:\r\n\r\n";

	httpreq_init(&r, &lim);
	assert_int_equal(feed_all(&r, req, &used), 1);
	assert_int_equal(used, strlen(req));
	assert_string_equal(httpreq_method_name(&r), "GET");
	assert_string_equal(httpreq_header(&r, "api-secret-key"), "k1");
	assert_string_equal(httpreq_header(&r, "HOST"), "x");
	assert_string_equal(httpreq_header(&r, "empty"), "");
	assert_null(httpreq_header(&r, "missing"));
	assert_int_equal(httpreq_path(&r, path, sizeof(path)), 0);
	assert_string_equal(path, "/api/events");
	assert_int_equal(httpreq_query(&r, "computer", v, sizeof(v)), 0);
	assert_string_equal(v, "web 1");
	assert_int_equal(httpreq_query(&r, "id", v, sizeof(v)), 0);
	assert_string_equal(v, "730");
	assert_int_equal(httpreq_query(&r, "x", v, sizeof(v)), 0);
	assert_string_equal(v, "a b");
	assert_int_equal(httpreq_query(&r, "i", v, sizeof(v)), -1);
	assert_int_equal(httpreq_query(&r, "computer", v, 3), -2); /* too long */
	assert_true(r.keep_alive);
	httpreq_clear(&r);
}

static void
test_bad_query_escape(void **state)
{
	struct http_request r;
	size_t used;
	char v[32];

	httpreq_init(&r, &lim);
	assert_int_equal(feed_all(&r, "GET /?a=%zz&b=%00 HTTP/1.1\r\n\r\n", &used), 1);
	assert_int_equal(httpreq_query(&r, "a", v, sizeof(v)), -2);
	assert_int_equal(httpreq_query(&r, "b", v, sizeof(v)), -2);
	httpreq_clear(&r);
}

static void
test_post_body_byte_by_byte(void **state)
{
	const char *req = "POST /agent/v1/heartbeat HTTP/1.1\r\nContent-Length: 11\r\n\r\n{\"a\":\"bc\"}\n";
	struct http_request r;
	size_t i, used;
	int rc = 0;

	httpreq_init(&r, &lim);
	for (i = 0; i < strlen(req); i++) {
		rc = httpreq_feed(&r, req + i, 1, &used);
		if (i + 1 < strlen(req))
			assert_int_equal(rc, 0);
	}
	assert_int_equal(rc, 1);
	assert_int_equal(r.body.len, 11);
	assert_memory_equal(r.body.data, "{\"a\":\"bc\"}\n", 11);
	httpreq_clear(&r);
}

static void
test_chunked_body(void **state)
{
	const char *req = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
	struct http_request r;
	size_t used;

	httpreq_init(&r, &lim);
	assert_int_equal(feed_all(&r, req, &used), 1);
	assert_int_equal(r.body.len, 5);
	assert_memory_equal(r.body.data, "abcde", 5);
	httpreq_clear(&r);
}

static void
test_pipelined(void **state)
{
	const char *two = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nX: 1\r\n\r\n";
	struct http_request r;
	size_t used, used2;
	char path[16];

	httpreq_init(&r, &lim);
	assert_int_equal(feed_all(&r, two, &used), 1);
	assert_int_equal(used, strlen("GET /a HTTP/1.1\r\n\r\n"));
	httpreq_path(&r, path, sizeof(path));
	assert_string_equal(path, "/a");
	httpreq_next(&r);
	assert_int_equal(httpreq_feed(&r, two + used, strlen(two) - used, &used2), 1);
	assert_int_equal(used + used2, strlen(two));
	httpreq_path(&r, path, sizeof(path));
	assert_string_equal(path, "/b");
	assert_string_equal(httpreq_header(&r, "x"), "1");
	httpreq_clear(&r);
}

static void
expect_error(const char *req, int status)
{
	struct http_request r;
	size_t used;

	httpreq_init(&r, &lim);
	assert_int_equal(feed_all(&r, req, &used), -1);
	assert_int_equal(r.error_status, status);
	assert_non_null(r.error_msg);
	/* once failed, it stays failed */
	assert_int_equal(feed_all(&r, "GET / HTTP/1.1\r\n\r\n", &used), -1);
	httpreq_clear(&r);
}

static void
test_limits_and_garbage(void **state)
{
	char big[1024];

	expect_error("POST / HTTP/1.1\r\nContent-Length: 65\r\n\r\n", 413);
	expect_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "41\r\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n0\r\n\r\n",
		     413);
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	memcpy(big + 300, " HTTP/1.1\r\n\r\n", 14);
	expect_error(big, 414);
	memset(big, 'h', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	memcpy(big + 700, "\r\n\r\n", 5);
	expect_error(big, 431);
	expect_error("\x01\x02 not http\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400);
}

static void
test_too_many_headers(void **state)
{
	static const struct http_limits wide = {128, 100000, 64};
	char req[8192];
	size_t n = 0, used;
	struct http_request r;
	int i;

	n += (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n");
	for (i = 0; i < HTTPREQ_MAX_HEADERS + 1; i++)
		n += (size_t)snprintf(req + n, sizeof(req) - n, "H%d: v\r\n", i);
	snprintf(req + n, sizeof(req) - n, "\r\n");
	httpreq_init(&r, &wide);
	assert_int_equal(feed_all(&r, req, &used), -1);
	assert_int_equal(r.error_status, 431);
	httpreq_clear(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_with_headers),
		cmocka_unit_test(test_bad_query_escape),
		cmocka_unit_test(test_post_body_byte_by_byte),
		cmocka_unit_test(test_chunked_body),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_limits_and_garbage),
		cmocka_unit_test(test_too_many_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
