/*
 * fuzz_heartbeat: the heartbeat body an authenticated agent sends.  The
 * parse (fast path, then jansson) is compared with the jansson-only parse:
 * the same verdict, the same refusal sentence, the same fields.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SAME_STR(f) (strcmp(a->f, b->f) == 0)

static int
hb_same(const struct heartbeat_req *a, const struct heartbeat_req *b)
{
	int64_t i;

	if (!SAME_STR(host.hostname) || !SAME_STR(host.description) || !SAME_STR(host.platform) ||
	    !SAME_STR(host.agent_version) || !SAME_STR(host.machine_id) ||
	    !SAME_STR(host.machine_fingerprint) || !SAME_STR(config_fingerprint) ||
	    !SAME_STR(last_error) || a->host.clock_ms != b->host.clock_ms ||
	    a->host.agent_port != b->host.agent_port || a->uptime_s != b->uptime_s ||
	    a->call_me != b->call_me || a->events_dropped != b->events_dropped ||
	    a->events_count != b->events_count)
		return 0;
	if ((a->host.interfaces_json == NULL) != (b->host.interfaces_json == NULL) ||
	    (a->host.interfaces_json != NULL &&
	     strcmp(a->host.interfaces_json, b->host.interfaces_json) != 0))
		return 0;
	for (i = 0; i < a->events_count; i++)
		if (a->events[i].seq != b->events[i].seq || a->events[i].id != b->events[i].id ||
		    a->events[i].time_ms != b->events[i].time_ms ||
		    strcmp(a->events[i].description, b->events[i].description) != 0)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct heartbeat_req hb, ref;
	char err[512], rerr[512];
	int r = proto_parse_heartbeat((const char *)data, size, &hb, err, sizeof(err));
	int rr = proto_parse_heartbeat_tree((const char *)data, size, &ref, rerr, sizeof(rerr));

	if (r != rr)
		abort();
	if (r < 0 && strcmp(err, rerr) != 0)
		abort();
	if (r == 0 && !hb_same(&hb, &ref))
		abort();
	if (r == 0)
		proto_heartbeat_clear(&hb);
	if (rr == 0)
		proto_heartbeat_clear(&ref);
	return 0;
}
