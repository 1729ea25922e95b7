/* test_proto: agent message validation: what is accepted and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"

static const char valid_activation[] =
	"{\"token\":\"t0k\",\"csr\":\"-----BEGIN CERTIFICATE REQUEST-----\\nAA\\n-----END CERTIFICATE REQUEST-----\\n\","
	"\"host\":{\"hostname\":\"web1\",\"description\":\"d\",\"platform\":\"Linux\",\"agent_version\":\"0.1.0\","
	"\"machine_id\":\"m\",\"clock_ms\":1795349166816,\"future_field\":1,"
	"\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"02:FC:00:00:00:01\",\"addresses\":[\"192.0.2.2\"]}]}}";

static void
test_valid_activation(void **state)
{
	struct activation_req ar;
	char err[256];

	assert_int_equal(proto_parse_activation(valid_activation, strlen(valid_activation), &ar, err,
						sizeof(err)),
			 0);
	assert_string_equal(ar.token, "t0k");
	assert_string_equal(ar.host.hostname, "web1");
	assert_int_equal(ar.host.clock_ms, 1795349166816LL);
	/* normalised: lower-case MAC, fixed field order */
	assert_string_equal(ar.host.interfaces_json,
			    "[{\"name\":\"eth0\",\"mac\":\"02:fc:00:00:00:01\",\"addresses\":[\"192.0.2.2\"]}]");
	proto_host_facts_clear(&ar.host);
}

static void
expect_activation_error(const char *body, const char *fragment)
{
	struct activation_req ar;
	char err[256];

	assert_int_equal(proto_parse_activation(body, strlen(body), &ar, err, sizeof(err)), -1);
	if (strstr(err, fragment) == NULL)
		fail_msg("error \"%s\" lacks \"%s\" for %s", err, fragment, body);
	assert_null(ar.host.interfaces_json);
}

static void
test_machine_fingerprint(void **state)
{
	struct heartbeat_req hb;
	struct activation_req ar;
	char err[256], body[256];
	const char *fpr = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

	snprintf(body, sizeof(body), "{\"machine_fingerprint\":\"%s\"}", fpr);
	assert_int_equal(proto_parse_heartbeat(body, strlen(body), &hb, err, sizeof(err)), 0);
	assert_string_equal(hb.host.machine_fingerprint, fpr);
	proto_heartbeat_clear(&hb);
	/* absent: "" (an older agent) */
	assert_int_equal(proto_parse_heartbeat("{}", 2, &hb, err, sizeof(err)), 0);
	assert_string_equal(hb.host.machine_fingerprint, "");
	/* upper case, short, long, not hex */
	snprintf(body, sizeof(body), "{\"machine_fingerprint\":\"%.63sF\"}", fpr);
	assert_int_equal(proto_parse_heartbeat(body, strlen(body), &hb, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "64 lowercase hexadecimal digits"));
	assert_int_equal(proto_parse_heartbeat("{\"machine_fingerprint\":\"abc\"}", 29, &hb, err,
						   sizeof(err)),
			 -1);
	snprintf(body, sizeof(body), "{\"machine_fingerprint\":\"%s0\"}", fpr);
	assert_int_equal(proto_parse_heartbeat(body, strlen(body), &hb, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "machine_fingerprint"));
	/* a reactivation is an activation without a token */
	snprintf(body, sizeof(body), "{\"csr\":\"x\",\"host\":{\"hostname\":\"h\",\"machine_fingerprint\":\"%s\"}}",
		 fpr);
	assert_int_equal(proto_parse_reactivation(body, strlen(body), &ar, err, sizeof(err)), 0);
	assert_string_equal(ar.host.machine_fingerprint, fpr);
	proto_host_facts_clear(&ar.host);
	assert_int_equal(proto_parse_activation(body, strlen(body), &ar, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"token\" is required"));
}

static void
test_activation_refusals(void **state)
{
	char big[600];

	expect_activation_error("", "malformed JSON at line 1");
	expect_activation_error("[1]", "must be a JSON object");
	expect_activation_error("{\"csr\":\"x\",\"host\":{\"hostname\":\"h\"}}", "\"token\" is required");
	expect_activation_error("{\"token\":1,\"csr\":\"x\",\"host\":{}}", "\"token\" must be a string");
	expect_activation_error("{\"token\":\"a\",\"token\":\"b\"}", "duplicate");
	expect_activation_error("{\"token\":\"a\",\"csr\":\"x\"}", "\"host\" must be an object");
	expect_activation_error("{\"token\":\"a\",\"csr\":\"x\",\"host\":{\"hostname\":\"\"}}",
				"\"hostname\" must not be empty");
	expect_activation_error("{\"token\":\"a\",\"csr\":\"x\",\"host\":{\"hostname\":\"a\\u001bb\"}}",
				"\"hostname\" contains control characters");
	expect_activation_error("{\"token\":\"a\",\"csr\":\"x\",\"host\":{\"hostname\":\"a\\u202eb\"}}",
				"\"hostname\" contains control characters");
	expect_activation_error("{\"token\":\"a\",\"csr\":\"x\",\"host\":{\"hostname\":\"a\\u0000b\"}}",
				"NUL");
	snprintf(big, sizeof(big), "{\"token\":\"a\",\"csr\":\"x\",\"host\":{\"hostname\":\"%0300d\"}}", 0);
	expect_activation_error(big, "\"hostname\" is longer than 255 bytes");
	expect_activation_error("{\"token\":\"a\",\"csr\":\"x\",\"host\":{\"hostname\":\"h\",\"clock_ms\":-5}}",
				"\"clock_ms\" must be a whole number");
	expect_activation_error("{\"token\":\"a\",\"csr\":\"x\",\"host\":{\"hostname\":\"h\",\"interfaces\":"
				"[{\"name\":\"e\",\"mac\":\"zz:zz\"}]}}",
				"malformed mac");
	expect_activation_error("{\"token\":\"a\",\"csr\":\"x\",\"host\":{\"hostname\":\"h\",\"interfaces\":[1]}}",
				"must be an object");
	expect_activation_error("{\"token\":\"a\",\"csr\":\"x\",\"host\":{\"hostname\":\"h\",\"interfaces\":"
				"[{\"mac\":\"\"}]}}",
				"\"name\" is required");
}

static void
test_too_many_interfaces_and_addresses(void **state)
{
	char body[8192];
	size_t n;
	int i;

	n = (size_t)snprintf(body, sizeof(body),
			     "{\"token\":\"a\",\"csr\":\"x\",\"host\":{\"hostname\":\"h\",\"interfaces\":[");
	for (i = 0; i < 65; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%s{\"name\":\"e%d\"}", i ? "," : "", i);
	snprintf(body + n, sizeof(body) - n, "]}}");
	expect_activation_error(body, "more than 64 entries");
	n = (size_t)snprintf(body, sizeof(body),
			     "{\"token\":\"a\",\"csr\":\"x\",\"host\":{\"hostname\":\"h\",\"interfaces\":"
			     "[{\"name\":\"e\",\"addresses\":[");
	for (i = 0; i < 33; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%s\"10.0.0.%d\"", i ? "," : "", i);
	snprintf(body + n, sizeof(body) - n, "]}]}}");
	expect_activation_error(body, "at most 32");
}

static void
test_heartbeat(void **state)
{
	struct heartbeat_req hb;
	char err[256];
	const char *ok = "{\"hostname\":\"web1\",\"uptime_s\":12,\"config_fingerprint\":\"ab\","
	                 "\"last_error\":\"\",\"events_dropped\":7,\"events\":["
	                 "{\"seq\":5,\"id\":4012,\"time_ms\":1795349361699,\"description\":\"x\"},"
	                 "{\"seq\":6,\"id\":4011},{\"seq\":9,\"id\":5004,\"description\":\"\"}]}";
	const char *bad_events = "{\"events\":{}}";

	assert_int_equal(proto_parse_heartbeat(ok, strlen(ok), &hb, err, sizeof(err)), 0);
	assert_string_equal(hb.host.hostname, "web1");
	assert_int_equal(hb.uptime_s, 12);
	assert_int_equal(hb.events_count, 3);
	assert_int_equal(hb.events[0].seq, 5);
	assert_int_equal(hb.events[0].id, 4012);
	assert_int_equal(hb.events[0].time_ms, 1795349361699);
	assert_string_equal(hb.events[0].description, "x");
	assert_string_equal(hb.events[1].description, "");
	assert_int_equal(hb.events[2].seq, 9);
	assert_int_equal(hb.events_dropped, 7);
	/* interfaces absent: unchanged, not emptied */
	assert_null(hb.host.interfaces_json);
	proto_heartbeat_clear(&hb);
	assert_int_equal(proto_parse_heartbeat("{}", 2, &hb, err, sizeof(err)), 0);
	assert_string_equal(hb.host.hostname, "");
	assert_int_equal(proto_parse_heartbeat(bad_events, strlen(bad_events), &hb, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"events\" must be an array"));
	assert_int_equal(proto_parse_heartbeat("{\"uptime_s\":-1}", 15, &hb, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "uptime_s"));
}

static void
expect_hb_error(const char *body, const char *fragment)
{
	struct heartbeat_req hb;
	char err[256];

	assert_int_equal(proto_parse_heartbeat(body, strlen(body), &hb, err, sizeof(err)), -1);
	if (strstr(err, fragment) == NULL)
		fail_msg("error \"%s\" lacks \"%s\" for %s", err, fragment, body);
}

static void
test_heartbeat_events(void **state)
{
	static char body[200000];
	size_t n;
	int i;

	expect_hb_error("{\"events\":[1]}", "every entry of \"events\" must be an object");
	expect_hb_error("{\"events\":[{\"id\":4012}]}", "\"seq\" and \"id\" are required");
	expect_hb_error("{\"events\":[{\"seq\":1}]}", "\"seq\" and \"id\" are required");
	expect_hb_error("{\"events\":[{\"seq\":0,\"id\":1}]}", "field \"seq\"");
	expect_hb_error("{\"events\":[{\"seq\":4611686018427387905,\"id\":1}]}", "field \"seq\"");
	expect_hb_error("{\"events\":[{\"seq\":1,\"id\":100000}]}", "field \"id\"");
	expect_hb_error("{\"events\":[{\"seq\":1,\"id\":1.5}]}", "field \"id\"");
	expect_hb_error("{\"events\":[{\"seq\":1,\"id\":1,\"time_ms\":-1}]}", "time_ms");
	expect_hb_error("{\"events\":[{\"seq\":1,\"id\":1,\"description\":\"a\\u001bb\"}]}",
	                "control characters");
	expect_hb_error("{\"events\":[{\"seq\":2,\"id\":1},{\"seq\":2,\"id\":1}]}",
	                "must be above the previous one");
	expect_hb_error("{\"events_dropped\":-1}", "events_dropped");
	/* a description of 1025 bytes */
	n = (size_t)snprintf(body, sizeof(body),
	                     "{\"events\":[{\"seq\":1,\"id\":1,\"description\":\"");
	memset(body + n, 'a', 1025);
	n += 1025;
	snprintf(body + n, sizeof(body) - n, "\"}]}");
	expect_hb_error(body, "longer than 1024 bytes");
	/* more than PROTO_MAX_EVENTS entries */
	n = (size_t)snprintf(body, sizeof(body), "{\"events\":[");
	for (i = 1; i <= PROTO_MAX_EVENTS + 1; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%s{\"seq\":%d,\"id\":1}",
		                      i > 1 ? "," : "", i);
	snprintf(body + n, sizeof(body) - n, "]}");
	expect_hb_error(body, "more than 1000 entries");
}

/* The fast path and the jansson parse: the same verdict, sentence and fields. */
static void
expect_same_parse(const char *body, int want)
{
	struct heartbeat_req a, b;
	char ea[512], eb[512];
	int ra = proto_parse_heartbeat(body, strlen(body), &a, ea, sizeof(ea));
	int rb = proto_parse_heartbeat_tree(body, strlen(body), &b, eb, sizeof(eb));

	if (ra != want || rb != want)
		fail_msg("%s: %d and %d, wanted %d (%s / %s)", body, ra, rb, want, ra ? ea : "",
		         rb ? eb : "");
	if (ra < 0) {
		assert_string_equal(ea, eb);
		return;
	}
	assert_string_equal(a.host.hostname, b.host.hostname);
	assert_string_equal(a.host.description, b.host.description);
	assert_string_equal(a.host.platform, b.host.platform);
	assert_string_equal(a.host.agent_version, b.host.agent_version);
	assert_string_equal(a.host.machine_id, b.host.machine_id);
	assert_string_equal(a.host.machine_fingerprint, b.host.machine_fingerprint);
	assert_string_equal(a.config_fingerprint, b.config_fingerprint);
	assert_string_equal(a.last_error, b.last_error);
	assert_int_equal(a.host.clock_ms, b.host.clock_ms);
	assert_int_equal(a.host.agent_port, b.host.agent_port);
	assert_int_equal(a.uptime_s, b.uptime_s);
	assert_int_equal(a.events_dropped, b.events_dropped);
	assert_int_equal(a.call_me, b.call_me);
	assert_int_equal(a.events_count, b.events_count);
	assert_true((a.host.interfaces_json == NULL) == (b.host.interfaces_json == NULL));
	proto_heartbeat_clear(&a);
	proto_heartbeat_clear(&b);
}

static void
test_heartbeat_fast_path(void **state)
{
	static const char *ok[] = {
	    "{}",
	    " { } ",
	    "{\"hostname\":\"sim-0000001\",\"platform\":\"vigil-sim\",\"agent_version\":\"0.1.0\","
	    "\"clock_ms\":1795349166816,\"uptime_s\":12345}",
	    "{\n\t\"hostname\" : \"caf\xc3\xa9\" ,\r\n\"agent_port\":0,\"call_me\":true}",
	    "{\"agent_port\":65535,\"call_me\":false,\"events_dropped\":4611686018427387904}",
	    "{\"machine_fingerprint\":"
	    "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"}",
	    "{\"clock_ms\":253402300799000,\"uptime_s\":1099511627776,\"last_error\":\"timeout\"}",
	    /* not on the fast path, still the same result */
	    "{\"hostname\":\"a\\\"b\",\"future\":[1,{\"x\":null}]}",
	    "{\"agent_port\":null,\"hostname\":null}",
	    "{\"call_me\":\"yes\"}",
	    "{\"clock_ms\":-0}",
	    "{\"watchdog\":{\"restarts\":1}}",
	    "{\"interfaces\":[]}",
	};
	static const char *bad[] = {
	    "",
	    "{",
	    "[]",
	    "{\"hostname\":\"a\",\"hostname\":\"b\"}",
	    "{\"clock_ms\":01}",
	    "{\"uptime_s\":1.5}",
	    "{\"uptime_s\":1e3}",
	    "{\"uptime_s\":-1}",
	    "{\"agent_port\":65536}",
	    "{\"clock_ms\":253402300799001}",
	    "{\"events_dropped\":4611686018427387905}",
	    "{\"uptime_s\":1234567890123456789012}",
	    "{\"hostname\":\"a\tb\"}",
	    "{\"hostname\":\"a\x01\"}",
	    "{\"hostname\":\"\xff\"}",
	    "{\"hostname\":\"\xe2\x80\xae\"}",
	    "{\"hostname\":1}",
	    "{\"agent_version\":"
	    "\"12345678901234567890123456789012345678901234567890123456789012345\"}",
	    "{\"machine_fingerprint\":\"abc\"}",
	    "{\"machine_fingerprint\":"
	    "\"9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\"}",
	    "{\"call_me\":true,}",
	    "{\"hostname\":\"a\"} x",
	    "{\"hostname\" \"a\"}",
	    "{\"uptime_s\":true}",
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_same_parse(ok[i], 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_same_parse(bad[i], -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_activation),
	    cmocka_unit_test(test_activation_refusals),
	    cmocka_unit_test(test_machine_fingerprint),
	    cmocka_unit_test(test_too_many_interfaces_and_addresses),
	    cmocka_unit_test(test_heartbeat),
	    cmocka_unit_test(test_heartbeat_events),
	    cmocka_unit_test(test_heartbeat_fast_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
