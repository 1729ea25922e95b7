/*
 * health: see health.h.
 */
#include "health.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "util.h"
#include "wdstate.h"

int64_t
health_queue_depth(json_t *status)
{
	json_t *d = json_object_get(json_object_get(status, "event_queue"), "depth");

	return json_is_integer(d) ? json_integer_value(d) : -1;
}

static void
health_process(struct nagios_report *r, const char *dir, json_t *status)
{
	if (status == NULL)
		nagios_add(r, "process", NAGIOS_CRITICAL,
		           "vigil-agent is not running (no answer on %s/%s)", dir, CTL_SOCKET);
	else
		nagios_add(r, "process", NAGIOS_OK, "vigil-agent is running (pid %lld)",
		           (long long)json_integer_value(json_object_get(status, "pid")));
}

static void
health_watchdog(struct nagios_report *r, const char *dir)
{
	struct wdstate w;
	int rc = wdstate_load(dir, &w);
	char when[40];

	if (rc <= 0 || w.monitor_pid == 0) {
		nagios_add(r, "watchdog", NAGIOS_WARNING,
		           "no watchdog: nothing restarts the agent if it dies (run vigil-agent "
		           "--monitor)");
		return;
	}
	if (!nagios_process_running(w.monitor_pid, "vigil-agent")) {
		nagios_add(r, "watchdog", NAGIOS_WARNING,
		           "the watchdog (pid %lld) is gone: nothing restarts the agent if it dies",
		           (long long)w.monitor_pid);
		return;
	}
	if (w.restarts == 0) {
		nagios_add(r, "watchdog", NAGIOS_OK,
		           "vigil-agent --monitor is running (pid %lld); no "
		           "restarts",
		           (long long)w.monitor_pid);
		return;
	}
	fmt_time_ms(w.last_restart_ms, when, sizeof(when));
	nagios_add(r, "watchdog", NAGIOS_OK,
	           "vigil-agent --monitor is running (pid %lld); %lld restart%s, the last at %s "
	           "(last exit: %s)",
	           (long long)w.monitor_pid, (long long)w.restarts, w.restarts == 1 ? "" : "s",
	           when, w.last_exit);
}

static void
health_heartbeat(struct nagios_report *r, json_t *status)
{
	json_t *hb = json_object_get(status, "last_heartbeat");

	if (status == NULL) {
		nagios_add(r, "heartbeat", NAGIOS_UNKNOWN, "unknown: the agent does not answer");
		return;
	}
	if (!json_is_true(json_object_get(status, "activated"))) {
		nagios_add(r, "heartbeat", NAGIOS_WARNING,
		           "not activated: no heartbeats (run vigil-agentctl activate)");
		return;
	}
	if (json_is_true(json_object_get(status, "deactivated"))) {
		nagios_add(r, "heartbeat", NAGIOS_CRITICAL,
		           "deactivated by the manager: no heartbeats until activated again");
		return;
	}
	if (json_integer_value(json_object_get(hb, "attempt_ms")) == 0) {
		nagios_add(r, "heartbeat", NAGIOS_OK, "no heartbeat sent yet");
		return;
	}
	if (json_is_true(json_object_get(hb, "ok")))
		nagios_add(r, "heartbeat", NAGIOS_OK, "the last heartbeat reached %s (it says %s)",
		           json_string_value(json_object_get(status, "manager_url")),
		           json_string_value(json_object_get(status, "manager_status")));
	else
		nagios_add(
		    r, "heartbeat", NAGIOS_CRITICAL,
		    "the manager %s cannot be reached: the last heartbeat failed at %s: %s "
		    "(%lld in a row)",
		    json_string_value(json_object_get(status, "manager_url")),
		    json_string_value(json_object_get(hb, "stage")),
		    json_string_value(json_object_get(hb, "message")),
		    (long long)json_integer_value(json_object_get(hb, "consecutive_failures")));
}

/* seed 001 watches 4118: open when the policy lets the manager call, and answering */
static void
health_agent_port(struct nagios_report *r, json_t *status)
{
	json_t *ap = json_object_get(status, "agent_port");
	const char *dir = json_string_value(json_object_get(ap, "direction"));
	const char *addr = json_string_value(json_object_get(ap, "address"));
	const char *lerr = json_string_value(json_object_get(ap, "last_error"));
	int port = (int)json_integer_value(json_object_get(ap, "port"));
	char err[128];

	if (ap == NULL) {
		nagios_add(r, "agent port", NAGIOS_UNKNOWN, "the agent daemon does not answer");
		return;
	}
	if (!json_is_true(json_object_get(status, "activated")) ||
	    json_is_true(json_object_get(status, "deactivated"))) {
		nagios_add(r, "agent port", NAGIOS_OK, "closed: the agent is not activated");
		return;
	}
	if (dir != NULL && strcmp(dir, "agent-initiated") == 0) {
		nagios_add(r, "agent port", NAGIOS_OK,
		           "closed: the policy is agent-initiated (the manager never calls)");
		return;
	}
	if (!json_is_true(json_object_get(ap, "listening"))) {
		nagios_add(r, "agent port", NAGIOS_CRITICAL,
		           "port %d is not open although the policy is %s: %s", port, dir ? dir : "?",
		           json_is_true(json_object_get(ap, "blocked")) ? "blocked (block-inbound)"
		           : lerr && *lerr                              ? lerr
		                                                        : "unknown reason");
		return;
	}
	if (nagios_connect(addr ? addr : "127.0.0.1", port, 2000, err, sizeof(err)) < 0) {
		nagios_add(r, "agent port", NAGIOS_CRITICAL, "port %d does not accept connections: %s",
		           port, err);
		return;
	}
	nagios_add(r, "agent port", NAGIOS_OK, "listening on port %d (%s; %lld calls from the manager)",
	           port, dir ? dir : "?",
	           (long long)json_integer_value(json_object_get(ap, "accepted")));
}

void
health_run(const char *dir, json_t *status, struct nagios_report *r)
{
	char path[PATH_MAX];
	int64_t days = 0, pct, depth;

	nagios_init(r, "VIGIL-AGENT");
	health_process(r, dir, status);
	health_watchdog(r, dir);
	health_agent_port(r, status);
	health_heartbeat(r, status);
	if (path_join(path, sizeof(path), dir, "identity.crt") == 0) {
		if (access(path, F_OK) == 0) {
			nagios_check_cert(r, "certificate", "the agent's identity certificate",
			                  path, &days);
			nagios_perf(r, "cert_days", days, "", 1, NAGIOS_CERT_WARN_DAYS, 0, 1);
		} else {
			nagios_add(r, "certificate", NAGIOS_WARNING,
			           "no identity certificate: the agent is not activated");
		}
	}
	nagios_check_disk(r, "disk", dir, &pct);
	nagios_perf(r, "disk_free_pct", pct, "%", 1, NAGIOS_DISK_WARN_PCT, NAGIOS_DISK_CRIT_PCT, 1);
	depth = health_queue_depth(status);
	{
		json_t *q = json_object_get(status, "event_queue");
		int64_t dropped = json_integer_value(json_object_get(q, "dropped"));
		const char *qerr = json_string_value(json_object_get(q, "last_error"));
		if (depth < 0)
			nagios_add(r, "queue", NAGIOS_UNKNOWN,
			           "the event queue is not known: the agent daemon does not answer");
		else if (qerr != NULL && *qerr)
			nagios_add(r, "queue", NAGIOS_WARNING,
			           "%lld events waiting; the queue file cannot be written (%s): events "
			           "are kept in memory only",
			           (long long)depth, qerr);
		else if (dropped > 0)
			nagios_add(r, "queue", NAGIOS_WARNING,
			           "%lld events waiting; the full queue dropped %lld events so far",
			           (long long)depth, (long long)dropped);
		else
			nagios_add(r, "queue", NAGIOS_OK, "%lld events waiting for the manager",
			           (long long)depth);
	}
	nagios_perf(r, "queue_depth", depth < 0 ? 0 : depth, "", 0, 0, 0, 0);
}
