/*
 * wdreport: see wdreport.h.  Most heartbeats carry no watchdog field: a
 * memmem() finds that out without a second JSON parse.
 */
#include "wdreport.h"

#include <jansson.h>
#include <string.h>

#include "events.h"
#include "mgr.h"
#include "util.h"

#define WDREPORT_MAX_COUNT INT64_C(1000000000)

static int
wd_count(json_t *o, const char *name, int64_t max, int64_t *out)
{
	json_t *v = json_object_get(o, name);

	if (v == NULL) {
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

int
wdreport_parse(const char *body, size_t len, struct wdreport *out)
{
	json_error_t je;
	json_t *root, *wd, *ex;
	const char *s;
	size_t i;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (body == NULL || memmem(body, len, "\"watchdog\"", 10) == NULL)
		return 0;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	wd = json_object_get(root, "watchdog");
	if (wd == NULL) {
		ret = 0;
		goto out;
	}
	if (!json_is_object(wd) ||
	    wd_count(wd, "restarts", WDREPORT_MAX_COUNT, &out->restarts) < 0 ||
	    wd_count(wd, "unreported", WDREPORT_MAX_COUNT, &out->unreported) < 0 ||
	    wd_count(wd, "last_restart_ms", INT64_MAX / 2, &out->last_restart_ms) < 0 ||
	    out->unreported > out->restarts)
		goto out;
	ex = json_object_get(wd, "last_exit");
	if (ex != NULL) {
		if (!json_is_string(ex) || json_string_length(ex) > WDREPORT_MAX_EXIT)
			goto out;
		s = json_string_value(ex);
		/* printable ASCII only: it goes into events and logs */
		for (i = 0; s[i]; i++)
			out->last_exit[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
		out->last_exit[i] = '\0';
	}
	ret = 1;
out:
	if (ret < 0)
		memset(out, 0, sizeof(*out));
	json_decref(root);
	return ret;
}

void
wdreport_heartbeat(struct mgr *m, struct computer *c, const char *body, size_t len)
{
	struct wdreport r;
	char when[40];

	if (wdreport_parse(body, len, &r) != 1)
		return;
	c->watchdog_restarts = r.restarts;
	c->watchdog_last_restart_ms = r.last_restart_ms;
	if (r.unreported == 0)
		return;
	fmt_time_ms(r.last_restart_ms, when, sizeof(when));
	event_record(m, EV_ABNORMAL_RESTART, c,
	             "the agent's watchdog restarted it %lld time%s since the last heartbeat (%lld "
	             "in all); the last time at %s (last exit: %s)",
	             (long long)r.unreported, r.unreported == 1 ? "" : "s", (long long)r.restarts,
	             when, r.last_exit[0] ? r.last_exit : "unknown");
}
