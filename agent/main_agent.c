/*
 * vigil-agent: the agent daemon.  Heartbeats to its manager on the
 * interval the manager sets (with jitter), backs off with jitter while the
 * manager cannot be reached, and answers vigil-agentctl on its control
 * socket and, unless the policy says agent-initiated, the manager on the
 * agent port (listener.h).  In manager-initiated mode it never calls the
 * manager: it only answers.  Its own events (4011, 4012, 5004) and those of
 * later protection modules go through the durable queue (evq.h), which the
 * heartbeats drain.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "activate.h"
#include "client.h"
#include "ctl.h"
#include "evq.h"
#include "heartbeat.h"
#include "hostinfo.h"
#include "listener.h"
#include "log.h"
#include "monitor.h"
#include "retry.h"
#include "sdnotify.h"
#include "state.h"
#include "util.h"
#include "wdstate.h"

static volatile sig_atomic_t stop_requested, reload_requested;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = sig;
}

struct agent {
	struct agent_state st;
	struct http_client cl;
	struct hb_status hs;
	int64_t next_hb_mono; /* -1: none scheduled */
	int pending;	      /* an activation to retry (retry.h) */
	struct pending_activation pa;
	char retry_result[600]; /* the outcome of the last retry, for status */
	int64_t started_ms;
	char load_error[256];
	struct evq q;
	int64_t clock_base; /* wall - monotonic at the last check (5004) */
	struct agent_listener lis;
	char listen_addr[64];
	int listen_port;     /* configured; 0 picks one (tests) */
	int inbound_blocked; /* test aid: vigil-agentctl block-inbound */
	char listen_error[256];
	int wd_unreported; /* restarts by the watchdog the manager was not told of */
};

/*
 * The one way events enter the queue (the agent's own and, later, the
 * protection modules'): durable when it returns.
 */
static void __attribute__((format(printf, 3, 4)))
agent_event(struct agent *a, int id, const char *fmt, ...)
{
	char desc[EVQ_MAX_DESC + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	if (evq_push(&a->q, id, now_ms() + a->hs.clock_offset_ms, desc) < 0)
		log_warn("event %d not queued: %s", id, a->q.last_error);
}

/* The agent port is open when activated and the policy lets the manager call. */
static void
agent_listener_sync(struct agent *a)
{
	int want = a->st.activated && !a->st.deactivated && !a->inbound_blocked &&
		   strcmp(hb_direction(&a->st), "agent-initiated") != 0;

	if (want && a->lis.fd < 0) {
		if (listener_open(&a->lis, &a->st, a->listen_addr, a->listen_port, a->listen_error,
				  sizeof(a->listen_error)) < 0) {
			log_error("agent port: %s", a->listen_error);
		} else {
			a->listen_error[0] = '\0';
			log_info("agent port: listening on %s port %d for the manager", a->listen_addr,
				 a->lis.port);
		}
	} else if (!want && a->lis.fd >= 0) {
		log_info("agent port: closed (%s)", a->inbound_blocked ? "blocked for a test"
						    : !a->st.activated || a->st.deactivated
							    ? "not activated"
							    : "the policy says agent-initiated");
		listener_close(&a->lis);
	}
	/* blocked for a test, it still reports its port, as behind a firewall */
	a->hs.listen_port = a->lis.fd >= 0 ? a->lis.port : a->inbound_blocked ? a->listen_port : 0;
}

/*
 * manager-initiated: the manager polls and the agent never calls in, except
 * to tell the manager a port it does not know yet (the first start after
 * activation, a new --listen-port): without it the manager could not poll.
 */
static int
agent_calls_in(const struct agent *a)
{
	return strcmp(hb_direction(&a->st), "manager-initiated") != 0 ||
	       (a->lis.fd >= 0 && a->lis.port != a->st.reported_port);
}

static void
agent_reload(struct agent *a)
{
	const char *err = NULL;
	char dir[512];

	str_copy(dir, a->st.dir, sizeof(dir));
	agent_state_clear(&a->st);
	agent_state_init(&a->st, dir);
	a->load_error[0] = '\0';
	if (agent_state_load(&a->st, &err) < 0) {
		str_copy(a->load_error, err, sizeof(a->load_error));
		log_error("%s", err);
	}
	hb_client_setup(&a->st, &a->cl);
	client_clear(&a->cl);
	if (client_init(&a->cl) < 0)
		log_error("cannot initialise libcurl");
	hb_client_setup(&a->st, &a->cl);
	memset(&a->hs.last_message, 0, sizeof(a->hs.last_message));
	a->hs.failures = 0;
	a->pending = !a->st.activated && retry_load(&a->st, &a->pa) == 1;
	if (a->pending)
		log_info("activation pending: %lld attempts left, next in about %lld s",
			 (long long)a->pa.attempts_left,
			 (long long)((a->pa.next_at_ms - now_ms()) / 1000));
	/* a new identity (activation, reactivation, reset) needs a new TLS context */
	listener_close(&a->lis);
	agent_listener_sync(a);
	if (a->st.activated && !a->st.deactivated && !agent_calls_in(a)) {
		a->next_hb_mono = -1;
		log_info("activated as %s with manager %s; manager-initiated: waiting for its calls",
			 a->st.guid, a->st.manager_url);
	} else if (a->st.activated && !a->st.deactivated) {
		a->next_hb_mono = mono_ms(); /* first heartbeat at once */
		log_info("activated as %s with manager %s; heartbeat every %lld s", a->st.guid,
			 a->st.manager_url, (long long)a->st.heartbeat_interval);
	} else {
		a->next_hb_mono = -1;
		log_info(a->st.deactivated ? "deactivated by the manager: waiting for a new activation"
					   : "not activated: waiting for vigil-agentctl activate");
	}
}

/*
 * The manager says this agent must become a new computer (it is a clone,
 * or its computer was deleted).  0 when it now has a new identity.
 */
static int
agent_reactivate(struct agent *a)
{
	char err[1024], old[40];

	str_copy(old, a->st.guid, sizeof(old));
	log_warn("the manager asks for a reactivation: %s", a->hs.last_message);
	if (reactivate_run(&a->st, err, sizeof(err)) < 0) {
		log_error("reactivation failed: %s; trying again at the next heartbeat", err);
		/* the heartbeat back-off applies: the failures keep counting */
		snprintf(a->hs.last_message, sizeof(a->hs.last_message), "reactivation failed: %.480s",
			 err);
		return -1;
	}
	snprintf(a->retry_result, sizeof(a->retry_result),
		 "reactivated as a new computer: GUID %s (was %s)", a->st.guid, old);
	log_info("reactivated as a new computer: GUID %s, computer %lld (was %s)", a->st.guid,
		 (long long)a->st.computer_id, old);
	agent_reload(a);
	return 0;
}

static void
agent_heartbeat(struct agent *a)
{
	int64_t delay;

	if (!a->st.activated || a->st.deactivated) {
		a->next_hb_mono = -1;
		return;
	}
	if (hb_send(&a->st, &a->cl, &a->hs, &a->q) < 0 &&
	    strcmp(a->hs.last_code, "reactivate_required") == 0 && agent_reactivate(a) == 0)
		return; /* the new identity heartbeats at once */
	if (a->hs.last_ok) {
		if (a->hs.drain) {
			/* a backlog: the next batch soon, not a whole interval later */
			delay = HB_DRAIN_DELAY_MS / 2 + (int64_t)rand_below(HB_DRAIN_DELAY_MS / 2 + 1);
			log_debug("heartbeat ok, %zu events still queued; next in %lld ms",
				  evq_depth(&a->q), (long long)delay);
		} else {
			delay = hb_next_delay_ms(a->st.heartbeat_interval, rand_below(UINT64_MAX));
			log_debug("heartbeat ok; next in %lld ms", (long long)delay);
		}
		/* the heartbeat carried the watchdog's report (hostinfo.c) */
		if (a->wd_unreported && wdstate_ack(a->st.dir) == 0)
			a->wd_unreported = 0;
	} else {
		delay = hb_backoff_ms(a->hs.failures, a->st.heartbeat_interval,
				      rand_below(UINT64_MAX));
		if (!a->st.deactivated)
			agent_event(a, EVQ_EV_HEARTBEAT_FAILED, "heartbeat failed (%s): %s",
				    a->hs.last_stage == CL_HTTP ? "http"
								: client_stage_name(a->hs.last_stage),
				    a->hs.last_message);
		if (a->hs.failures == 1 || a->hs.failures % 10 == 0) {
			log_warn("event 4011 failure to contact manager (%d in a row); next try in %lld ms",
				 a->hs.failures, (long long)delay);
			if (!a->st.deactivated)
				agent_event(a, EVQ_EV_CONTACT_FAILED,
					    "failure to contact manager %s (%d in a row); next try in "
					    "%lld ms",
					    a->st.manager_url, a->hs.failures, (long long)delay);
		}
	}
	a->next_hb_mono = a->st.deactivated ? -1 : mono_ms() + delay;
	/* the answer may have changed the direction */
	agent_listener_sync(a);
	if (!agent_calls_in(a))
		a->next_hb_mono = -1;
}

/*
 * The manager on the agent port (listener.h):
 *   GET  /agent/v1/hostinfo   what a heartbeat carries (check status, manager-initiated polls)
 *   POST /agent/v1/config     a new configuration (send policy)
 *   POST /agent/v1/heartbeat  heartbeat now (answered 202; sent right after)
 *   POST /agent/v1/deactivate the manager deactivated this computer
 */
static void
agent_port_handler(void *ctx, const char *method, const char *path, const char *body,
		   size_t len, int *status, json_t **reply)
{
	struct agent *a = ctx;
	json_error_t je;
	json_t *msg = NULL;

	*status = 200;
	if (strcmp(path, "/agent/v1/hostinfo") == 0 && strcmp(method, "GET") == 0) {
		*reply = hb_request_json(&a->st, &a->hs);
		if (*reply == NULL)
			*status = 500;
		return;
	}
	if (strcmp(method, "POST") != 0 ||
	    (strcmp(path, "/agent/v1/config") != 0 && strcmp(path, "/agent/v1/heartbeat") != 0 &&
	     strcmp(path, "/agent/v1/deactivate") != 0)) {
		*status = 404;
		*reply = json_pack("{s:{s:s, s:s}}", "error", "code", "not_found", "message",
				   "no such command on the agent port");
		return;
	}
	if (len > 0 && (msg = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		*status = 400;
		*reply = json_pack("{s:{s:s, s:s}}", "error", "code", "bad_request", "message",
				   je.text);
		return;
	}
	if (strcmp(path, "/agent/v1/config") == 0) {
		int changed = hb_apply_config(&a->st, msg);
		*reply = json_pack("{s:b, s:s}", "changed", changed, "config_fingerprint",
				   a->st.config_fingerprint);
		/* the direction may have changed: heartbeats and the port follow */
		if (agent_calls_in(a) && a->next_hb_mono < 0 && !a->st.deactivated)
			a->next_hb_mono = mono_ms();
		if (!agent_calls_in(a))
			a->next_hb_mono = -1;
	} else if (strcmp(path, "/agent/v1/heartbeat") == 0) {
		*status = 202;
		*reply = json_pack("{s:b}", "heartbeat", agent_calls_in(a));
		if (agent_calls_in(a))
			a->next_hb_mono = mono_ms();
	} else {
		const char *why = json_string_value(json_object_get(msg, "reason"));
		a->st.deactivated = 1;
		snprintf(a->st.deactivated_reason, sizeof(a->st.deactivated_reason), "%.250s",
			 why ? why : "deactivated by the manager");
		agent_state_save(&a->st);
		a->next_hb_mono = -1;
		*reply = json_pack("{s:b}", "deactivated", 1);
		log_warn("the manager deactivated this computer on the agent port: %s",
			 a->st.deactivated_reason);
	}
	json_decref(msg);
}

/*
 * Stopping cleanly (SIGTERM, a host shutdown): tell the manager, so that an
 * offline computer reads "shut down", not "lost".  Best effort, a few
 * seconds at most: shutdown must not wait for an unreachable manager.
 */
static void
agent_goodbye(struct agent *a, int sig)
{
	struct client_result r;
	char body[96];

	if (!a->st.activated || a->st.deactivated || strcmp(hb_direction(&a->st), "manager-initiated") == 0)
		return;
	snprintf(body, sizeof(body), "{\"reason\":\"the agent is stopping (signal %d)\"}", sig);
	client_result_init(&r);
	a->cl.timeout_s = 3;
	if (client_request(&a->cl, a->st.manager_url, "/agent/v1/goodbye", body, &r) < 0 ||
	    r.status != 200)
		log_info("could not tell the manager that the agent stops: %s",
			 r.error[0] ? r.error : "refused");
	client_result_clear(&r);
}

/* One retry of a refused activation (the schedule lives in the file). */
static void
agent_retry_activation(struct agent *a)
{
	struct activate_opts o;
	struct activate_outcome out;
	char err[1024];

	memset(&o, 0, sizeof(o));
	o.url = a->pa.url;
	o.token = a->pa.token;
	o.hostname = a->pa.hostname;
	o.description = a->pa.description;
	o.policy = a->pa.policy;
	o.agent_port = a->listen_port;
	o.ca_fingerprint = a->pa.ca_fingerprint;
	o.clock_offset_ms = a->hs.clock_offset_ms;
	a->pa.attempts_left--;
	if (activate_run(&a->st, &o, &out, err, sizeof(err)) == 0) {
		retry_remove(&a->st);
		snprintf(a->retry_result, sizeof(a->retry_result), "activated on a retry as %s",
			 a->st.guid);
		log_info("activation retry succeeded: GUID %s", a->st.guid);
		agent_reload(a);
		return;
	}
	str_copy(a->pa.last_error, err, sizeof(a->pa.last_error));
	if (!out.retryable || a->pa.attempts_left <= 0) {
		snprintf(a->retry_result, sizeof(a->retry_result),
			 "activation failed for good: %.500s", err);
		log_error("activation failed: %s; no attempts left, giving up "
			  "(run vigil-agentctl activate again)",
			  err);
		retry_remove(&a->st);
		a->pending = 0;
		return;
	}
	a->pa.next_at_ms = now_ms() + retry_delay_ms(a->pa.retry_interval, out.retry_after_s,
						     rand_below(UINT64_MAX));
	snprintf(a->retry_result, sizeof(a->retry_result), "%.500s", err);
	log_warn("activation failed: %s; %lld attempts left; will retry in about %lld seconds", err,
		 (long long)a->pa.attempts_left, (long long)a->pa.retry_interval);
	if (retry_save(&a->st, &a->pa) < 0)
		log_error("cannot write %s/%s: the retries stop at the next restart", a->st.dir,
			  RETRY_FILE);
}

static json_t *
agent_status_json(struct agent *a)
{
	json_t *o = json_pack(
		"{s:s, s:b, s:b, s:s, s:s, s:I, s:s, s:I, s:I, s:{s:I, s:I, s:b, s:s, s:I, s:s, s:i}, "
		"s:s, s:I, s:s, s:I}",
		"agent_version", AGENT_VERSION, "activated", a->st.activated, "deactivated",
		a->st.deactivated, "manager_url", a->st.manager_url, "guid", a->st.guid, "computer_id",
		(json_int_t)a->st.computer_id, "ca_fingerprint", a->st.ca_fingerprint,
		"heartbeat_interval", (json_int_t)a->st.heartbeat_interval, "activated_ms",
		(json_int_t)a->st.activated_ms, "last_heartbeat", "attempt_ms",
		(json_int_t)a->hs.last_attempt_ms, "success_ms", (json_int_t)a->hs.last_success_ms,
		"ok", a->hs.last_ok, "stage", client_stage_name(a->hs.last_stage), "http_status",
		(json_int_t)a->hs.last_http_status, "message", a->hs.last_message,
		"consecutive_failures", a->hs.failures, "manager_status", a->hs.manager_status,
		"next_heartbeat_in_ms",
		(json_int_t)(a->next_hb_mono < 0 ? -1 : a->next_hb_mono - mono_ms()), "state_error",
		a->load_error, "pid", (json_int_t)getpid());

	if (o != NULL)
		json_object_set_new(
			o, "event_queue",
			json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s}", "depth",
				  (json_int_t)evq_depth(&a->q), "bytes", (json_int_t)a->q.bytes,
				  "oldest_seq",
				  (json_int_t)(evq_depth(&a->q) ? evq_peek(&a->q, 0)->seq : 0),
				  "next_seq", (json_int_t)a->q.next_seq, "acked_seq",
				  (json_int_t)a->q.acked, "dropped", (json_int_t)a->q.dropped,
				  "max_bytes", (json_int_t)a->q.max_bytes, "max_events",
				  (json_int_t)a->q.max_events, "file", a->q.path, "last_error",
				  a->q.last_error));

	if (o != NULL && a->st.deactivated)
		json_object_set_new(o, "deactivated_reason", json_string(a->st.deactivated_reason));
	if (o != NULL && a->pending)
		json_object_set_new(o, "pending_activation",
				    json_pack("{s:s, s:I, s:I, s:I, s:s}", "manager_url", a->pa.url,
					      "attempts_left", (json_int_t)a->pa.attempts_left,
					      "next_attempt_in_ms",
					      (json_int_t)(a->pa.next_at_ms - now_ms()),
					      "retry_interval", (json_int_t)a->pa.retry_interval,
					      "last_error", a->pa.last_error));
	/* the test option, so that diagnose compares the clock the manager sees */
	if (o != NULL && a->hs.clock_offset_ms)
		json_object_set_new(o, "clock_offset_ms", json_integer(a->hs.clock_offset_ms));
	if (o != NULL)
		json_object_set_new(
			o, "agent_port",
			json_pack("{s:b, s:i, s:s, s:s, s:I, s:I, s:I, s:s, s:b}", "listening",
				  a->lis.fd >= 0, "port", a->listen_port, "address", a->listen_addr,
				  "direction", hb_direction(&a->st), "accepted",
				  (json_int_t)a->lis.accepted, "refused", (json_int_t)a->lis.refused,
				  "last_manager_ms", (json_int_t)a->lis.last_manager_ms, "last_error",
				  a->listen_error[0] ? a->listen_error : a->lis.last_error, "blocked",
				  a->inbound_blocked));
	if (o != NULL && a->retry_result[0])
		json_object_set_new(o, "last_activation_retry", json_string(a->retry_result));
	if (o != NULL) {
		struct wdstate w;
		if (wdstate_load(a->st.dir, &w) == 1)
			json_object_set_new(
				o, "watchdog",
				json_pack("{s:I, s:I, s:I, s:I, s:s}", "monitor_pid",
					  (json_int_t)w.monitor_pid, "restarts", (json_int_t)w.restarts,
					  "unreported", (json_int_t)w.unreported, "last_restart_ms",
					  (json_int_t)w.last_restart_ms, "last_exit", w.last_exit));
	}
	return o;
}

/*
 * Test aid (vigil-agentctl emit-test-events N): N events 4991 through the
 * same queue as every other event, synced once at the end.
 */
static json_t *
agent_emit_test_events(struct agent *a, const char *arg)
{
	int64_t n, i;
	uint64_t first = a->q.next_seq;

	if (parse_i64(arg, 1, 1000000, &n) < 0)
		return json_pack("{s:b, s:s}", "ok", 0, "error",
				 "emit-test-events: N must be a whole number from 1 to 1000000");
	for (i = 1; i <= n; i++) {
		char desc[64];
		snprintf(desc, sizeof(desc), "test event %lld of %lld", (long long)i, (long long)n);
		if (evq_push_nosync(&a->q, EVQ_EV_TEST, now_ms() + a->hs.clock_offset_ms, desc) < 0)
			return json_pack("{s:b, s:s}", "ok", 0, "error", a->q.last_error);
	}
	if (evq_sync(&a->q) < 0)
		return json_pack("{s:b, s:s}", "ok", 0, "error", a->q.last_error);
	log_info("queued %lld test events (sequences %" PRIu64 " to %" PRIu64 ")", (long long)n,
		 first, a->q.next_seq - 1);
	return json_pack("{s:b, s:I, s:I, s:I}", "ok", 1, "queued", (json_int_t)n, "first_seq",
			 (json_int_t)first, "last_seq", (json_int_t)(a->q.next_seq - 1));
}

static void
agent_ctl(struct agent *a, int lfd)
{
	char req[CTL_MAX_REQUEST];
	json_t *reply = NULL;
	char *s;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (ctl_read_request(fd, req, sizeof(req)) < 0) {
		close(fd);
		return;
	}
	if (strcmp(req, "status") == 0) {
		reply = agent_status_json(a);
	} else if (strcmp(req, "heartbeat") == 0) {
		if (!a->st.activated || a->st.deactivated)
			reply = json_pack("{s:b, s:s}", "ok", 0, "error",
					  a->st.deactivated ? "this computer was deactivated by the manager; activate it again"
							    : "the agent is not activated");
		else if (!agent_calls_in(a))
			reply = json_pack("{s:b, s:s}", "ok", 0, "error",
					  "the policy is manager-initiated: this agent never calls the "
					  "manager and waits for its next poll on the agent port");
		else {
			agent_heartbeat(a);
			reply = agent_status_json(a);
		}
	} else if (strncmp(req, "emit-test-events ", 17) == 0) {
		reply = agent_emit_test_events(a, req + 17);
	} else if (strcmp(req, "reload") == 0) {
		agent_reload(a);
		reply = json_pack("{s:b}", "ok", 1);
	} else if (strcmp(req, "forget") == 0) {
		/* vigil-agentctl reset is about to remove the files: stop using them */
		char d[512];
		str_copy(d, a->st.dir, sizeof(d));
		agent_state_clear(&a->st);
		agent_state_init(&a->st, d);
		a->pending = 0;
		a->next_hb_mono = -1;
		agent_listener_sync(a);
		reply = json_pack("{s:b}", "ok", 1);
	} else if (strcmp(req, "block-inbound") == 0 || strcmp(req, "unblock-inbound") == 0) {
		/* test aid: the agent port as if a firewall dropped it */
		a->inbound_blocked = req[0] == 'b';
		agent_listener_sync(a);
		reply = json_pack("{s:b, s:i}", "ok", 1, "agent_port", a->hs.listen_port);
	} else {
		reply = json_pack("{s:b, s:s}", "ok", 0, "error", "unknown command");
	}
	s = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
	if (s != NULL)
		(void)!write(fd, s, strlen(s));
	free(s);
	json_decref(reply);
	close(fd);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
		"usage: vigil-agent [-d DIR] [-v] [--listen-address A] [--listen-port N]\n"
		"                   [--monitor [--restart-max S] [--stable-after S]]\n"
		"                   [--queue-max-bytes N] [--queue-max-events N] [--clock-offset MS]\n"
		"  -d DIR                state directory (default " AGENT_DEFAULT_DIR ")\n"
		"  -v                    debug logging\n"
		"  --listen-address A    address of the agent port for the manager (default 0.0.0.0)\n"
		"  --listen-port N       the agent port (default 4118; 0 picks a free one)\n"
		"  --monitor             run under a watchdog that restarts the agent when it dies\n"
		"  --restart-max S       longest back-off between restarts (default 120, 1-3600)\n"
		"  --stable-after S      up this long, the back-off starts over (default 300)\n"
		"  --queue-max-bytes N   event queue limit in bytes (%d to %lld, default %d)\n"
		"  --queue-max-events N  event queue limit in events (%d to %d, default %d)\n"
		"  --clock-offset MS     test option: report the clock shifted by MS milliseconds\n",
		EVQ_MIN_MAX_BYTES, (long long)EVQ_MAX_MAX_BYTES, EVQ_DEFAULT_MAX_BYTES,
		EVQ_MIN_MAX_EVENTS, EVQ_MAX_MAX_EVENTS, EVQ_DEFAULT_MAX_EVENTS);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {{"clock-offset", required_argument, NULL, 'C'},
						 {"listen-address", required_argument, NULL, 'A'},
						 {"listen-port", required_argument, NULL, 'P'},
						 {"monitor", no_argument, NULL, 'M'},
						 {"restart-max", required_argument, NULL, 'R'},
						 {"stable-after", required_argument, NULL, 'T'},
						 {"queue-max-bytes", required_argument, NULL, 'B'},
						 {"queue-max-events", required_argument, NULL, 'E'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	struct monitor_opts mo = {NULL, MONITOR_DEFAULT_BACKOFF_MAX_S * 1000,
				  MONITOR_DEFAULT_STABLE_S * 1000};
	int64_t wd_ping_ms, next_wd_ping = 0;
	int monitor = 0, verbose = 0;
	struct wdstate w;
	struct agent a;
	const char *dir = AGENT_DEFAULT_DIR;
	char sock[PATH_MAX];
	int ch, lfd;
	int64_t v, qbytes = EVQ_DEFAULT_MAX_BYTES, qevents = EVQ_DEFAULT_MAX_EVENTS;
	const char *err = NULL;

	memset(&a, 0, sizeof(a));
	listener_init(&a.lis);
	str_copy(a.listen_addr, "0.0.0.0", sizeof(a.listen_addr));
	a.listen_port = LISTENER_DEFAULT_PORT;
	while ((ch = getopt_long(argc, argv, "d:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'v': verbose = 1; break;
		case 'C':
			if (parse_i64(optarg, -INT64_C(315360000000), INT64_C(315360000000), &v) < 0) {
				fprintf(stderr, "--clock-offset: not a number of milliseconds\n");
				return 2;
			}
			a.hs.clock_offset_ms = v;
			break;
		case 'A':
			if (strlen(optarg) >= sizeof(a.listen_addr)) {
				fprintf(stderr, "--listen-address: too long\n");
				return 2;
			}
			str_copy(a.listen_addr, optarg, sizeof(a.listen_addr));
			break;
		case 'P':
			if (parse_i64(optarg, 0, 65535, &v) < 0) {
				fprintf(stderr, "--listen-port: a port from 0 to 65535\n");
				return 2;
			}
			a.listen_port = (int)v;
			break;
		case 'M': monitor = 1; break;
		case 'R':
		case 'T':
			if (parse_i64(optarg, 1, ch == 'R' ? 3600 : 86400, &v) < 0) {
				fprintf(stderr, "--%s: seconds from 1 to %d\n",
					ch == 'R' ? "restart-max" : "stable-after", ch == 'R' ? 3600 : 86400);
				return 2;
			}
			*(ch == 'R' ? &mo.backoff_max_ms : &mo.stable_ms) = v * 1000;
			break;
		case 'B':
			if (parse_i64(optarg, EVQ_MIN_MAX_BYTES, EVQ_MAX_MAX_BYTES, &qbytes) < 0) {
				fprintf(stderr, "--queue-max-bytes: a whole number from %d to %lld\n",
					EVQ_MIN_MAX_BYTES, (long long)EVQ_MAX_MAX_BYTES);
				return 2;
			}
			break;
		case 'E':
			if (parse_i64(optarg, EVQ_MIN_MAX_EVENTS, EVQ_MAX_MAX_EVENTS, &qevents) < 0) {
				fprintf(stderr, "--queue-max-events: a whole number from %d to %d\n",
					EVQ_MIN_MAX_EVENTS, EVQ_MAX_MAX_EVENTS);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (monitor) {
		int rc;
		mo.dir = dir;
		if (monitor_run(&mo, &rc) == 0)
			return rc;
		/* the child: the agent itself */
	}
	/* after the options: log_init() sets the level, so -v must come through it */
	log_init("vigil-agent", verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	umask(077);
	if (mkdir_p(dir, 0700) < 0)
		fatal("cannot create state directory %s: %s", dir, strerror(errno));
	if (path_join(sock, sizeof(sock), dir, CTL_SOCKET) < 0)
		fatal("state directory path too long");
	lfd = ctl_listen(sock);
	if (lfd < 0)
		fatal("cannot listen on control socket %s: %s", sock, strerror(errno));
	a.started_ms = now_ms();
	if (evq_open(&a.q, dir, qbytes, qevents, &err) < 0)
		log_error("event queue: %s; events are kept in memory only", err);
	if (a.q.damage[0])
		agent_event(&a, EVQ_EV_QUEUE_DAMAGED, "the event queue file was damaged: %s",
			    a.q.damage);
	a.clock_base = now_ms() - mono_ms();
	agent_state_init(&a.st, dir);
	if (client_init(&a.cl) < 0)
		fatal("cannot initialise libcurl");
	if (a.listen_port == 0 && (a.listen_port = listener_pick_port(a.listen_addr)) <= 0)
		fatal("--listen-port 0: cannot find a free port on %s", a.listen_addr);
	agent_reload(&a);
	log_info("vigil-agent %s started; state in %s", AGENT_VERSION, dir);
	if (wdstate_load(dir, &w) == 1 && w.unreported > 0) {
		a.wd_unreported = 1;
		log_warn("started again by the watchdog (restart %lld; last exit: %s); the manager "
			 "hears of it at the next heartbeat",
			 (long long)w.restarts, w.last_exit);
	}
	/* systemd (Type=notify): ready once the control socket answers */
	if (sdnotify_send("READY=1") < 0)
		log_warn("cannot notify systemd on $NOTIFY_SOCKET: %s", strerror(errno));
	wd_ping_ms = sdnotify_watchdog_ms() / 2;

	while (!stop_requested) {
		struct pollfd pfd[2] = {{.fd = lfd, .events = POLLIN}, {.fd = a.lis.fd, .events = POLLIN}};
		int64_t now = mono_ms();
		int timeout = 1000;

		if (a.next_hb_mono >= 0) {
			int64_t d = a.next_hb_mono - now;
			timeout = d < 0 ? 0 : d > 1000 ? 1000 : (int)d;
		}
		if (a.pending) {
			int64_t d = a.pa.next_at_ms - now_ms();
			if (d < timeout)
				timeout = d < 0 ? 0 : (int)d;
		}
		/* a WatchdogSec= under 2 s needs pings more often than once a second */
		if (wd_ping_ms > 0 && next_wd_ping - now < timeout)
			timeout = next_wd_ping - now < 0 ? 0 : (int)(next_wd_ping - now);
		if (poll(pfd, a.lis.fd >= 0 ? 2 : 1, timeout) > 0) {
			if (pfd[0].revents & POLLIN)
				agent_ctl(&a, lfd);
			if (a.lis.fd >= 0 && a.lis.fd == pfd[1].fd && (pfd[1].revents & POLLIN)) {
				listener_serve(&a.lis, agent_port_handler, &a);
				agent_listener_sync(&a);
			}
		}
		{
			int64_t step =
				hb_clock_jump(&a.clock_base, now_ms(), mono_ms(), HB_CLOCK_JUMP_MS);
			if (step != 0) {
				log_warn("event 5004 clock changed: the system clock moved %lld ms "
					 "against the monotonic clock",
					 (long long)step);
				agent_event(&a, EVQ_EV_CLOCK_CHANGED,
					    "the system clock was changed by %+lld ms (%s)",
					    (long long)step, step > 0 ? "forward" : "back");
			}
		}
		if (reload_requested) {
			reload_requested = 0;
			agent_reload(&a);
		}
		if (a.next_hb_mono >= 0 && mono_ms() >= a.next_hb_mono)
			agent_heartbeat(&a);
		if (a.pending && now_ms() >= a.pa.next_at_ms)
			agent_retry_activation(&a);
		if (wd_ping_ms > 0 && mono_ms() >= next_wd_ping) {
			sdnotify_send("WATCHDOG=1");
			next_wd_ping = mono_ms() + wd_ping_ms;
		}
	}
	sdnotify_send("STOPPING=1");
	log_info("stopping (signal %d)", (int)stop_requested);
	agent_goodbye(&a, (int)stop_requested);
	listener_close(&a.lis);
	close(lfd);
	unlink(sock);
	client_clear(&a.cl);
	agent_state_clear(&a.st);
	evq_close(&a.q);
	return 0;
}
