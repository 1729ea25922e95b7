/*
 * vigil-agentctl: local control of the agent, like dsa_control.
 *   activate URL token:T [hostname:H] [description:D] [policy:P] [group:G]
 *   heartbeat        force a heartbeat now (dsa_control -m)
 *   status [--json]  activation, manager, GUID, last heartbeat
 *   reset            forget identity and configuration (dsa_control -r)
 *   health [--json]  Nagios-style health check (seed 001)
 *   diag-package [-o FILE] [--log FILE]   support archive (dsa_control -d)
 *   emit-test-events N   test aid: N events 4991 through the agent's queue
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "activate.h"
#include "client.h"
#include "heartbeat.h"
#include "hostinfo.h"
#include "retry.h"
#include "ctl.h"
#include "diagnose.h"
#include "diag.h"
#include "health.h"
#include "log.h"
#include "state.h"
#include "util.h"

static const char *state_dir = AGENT_DEFAULT_DIR;

static void
usage(FILE *fp)
{
	fprintf(fp,
		"usage: vigil-agentctl [-d DIR] COMMAND\n"
		"  activate https://MANAGER:4120/ token:TOKEN [hostname:NAME] [description:TEXT]\n"
		"           [policy:NAME|policyid:ID]\n"
		"           [--ca-fingerprint SHA256 | --yes] [--retry-interval S] [--max-retries N]\n"
		"                    activate this agent against the manager\n"
		"  heartbeat         send a heartbeat now\n"
		"  status [--json]   activation, manager, GUID and the last heartbeat\n"
		"  reset             forget the identity and configuration (dsa_control -r)\n"
		"  diagnose [--json] check, in order, everything between this agent and its manager\n"
		"                    (name, port 4120, TLS, certificate, clock, heartbeat, port 4118)\n"
		"                    and say the probable cause of the first failure\n"
		"  block-inbound | unblock-inbound\n"
		"                    test aid: close or reopen the agent port, as a firewall would\n"
		"  health [--json]   check the agent like a Nagios plugin (exit 0 OK, 1 WARNING,\n"
		"                    2 CRITICAL, 3 UNKNOWN)\n"
		"  diag-package [-o FILE] [--log FILE]\n"
		"                    write a support archive (tar.gz, 0600) without secrets\n"
		"  emit-test-events N  test aid: queue N test events (4991) in the running agent\n"
		"  -d DIR            the agent's state directory (default " AGENT_DEFAULT_DIR ")\n");
}

static int
ctl_path(char *out, size_t outsize)
{
	return path_join(out, outsize, state_dir, CTL_SOCKET);
}

/* Asks the daemon; NULL when it does not answer. */
static json_t *
ask_agent(const char *cmd, int timeout_s)
{
	char path[PATH_MAX];
	struct buf reply;
	json_error_t je;
	json_t *o = NULL;

	buf_init(&reply, CTL_MAX_REPLY);
	if (ctl_path(path, sizeof(path)) == 0 && ctl_call(path, cmd, &reply, timeout_s) == 0)
		o = json_loadb(reply.data ? reply.data : "", reply.len, 0, &je);
	buf_clear(&reply);
	return o;
}

static int
cmd_activate(int argc, char **argv)
{
	struct activate_opts o;
	struct activate_outcome out;
	struct pending_activation pa;
	struct agent_state st;
	const char *errstr = NULL;
	char err[1024];
	int i;
	int64_t v, retry_interval = RETRY_DEFAULT_INTERVAL, max_retries = RETRY_DEFAULT_MAX;
	json_t *r;

	memset(&o, 0, sizeof(o));
	o.hostname = o.description = o.policy = "";
	/* dsa_control style words and options in any order */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((strcmp(a, "--ca-fingerprint") == 0 || strcmp(a, "--clock-offset") == 0 ||
		     strcmp(a, "--retry-interval") == 0 || strcmp(a, "--max-retries") == 0) &&
		    i + 1 == argc) {
			fprintf(stderr, "vigil-agentctl: %s needs a value\n", a);
			return 2;
		}
		if (strcmp(a, "--retry-interval") == 0) {
			if (parse_i64(argv[++i], 1, 3600, &retry_interval) < 0) {
				fprintf(stderr, "vigil-agentctl: --retry-interval: seconds from 1 to 3600\n");
				return 2;
			}
			continue;
		}
		if (strcmp(a, "--max-retries") == 0) {
			if (parse_i64(argv[++i], 0, 100, &max_retries) < 0) {
				fprintf(stderr, "vigil-agentctl: --max-retries: a number from 0 to 100\n");
				return 2;
			}
			continue;
		}
		if (strcmp(a, "--ca-fingerprint") == 0) {
			o.ca_fingerprint = argv[++i];
			continue;
		}
		if (strcmp(a, "--clock-offset") == 0) {
			if (parse_i64(argv[++i], -INT64_C(315360000000), INT64_C(315360000000), &v) < 0) {
				fprintf(stderr, "vigil-agentctl: --clock-offset: not a number of ms\n");
				return 2;
			}
			o.clock_offset_ms = v;
			continue;
		}
		if (strncmp(a, "https://", 8) == 0 || strncmp(a, "http://", 7) == 0)
			o.url = a;
		else if (strncmp(a, "token:", 6) == 0)
			o.token = a + 6;
		else if (strncmp(a, "hostname:", 9) == 0)
			o.hostname = a + 9;
		else if (strncmp(a, "description:", 12) == 0)
			o.description = a + 12;
		else if (strncmp(a, "policy:", 7) == 0)
			o.policy = a + 7;
		else if (strncmp(a, "policyid:", 9) == 0)
			o.policy = a + 9;
		else if (strncmp(a, "group:", 6) == 0)
			; /* accepted for dsa_control compatibility; groups are not built yet */
		else if (strncmp(a, "--ca-fingerprint=", 17) == 0)
			o.ca_fingerprint = a + 17;
		else if (strcmp(a, "--yes") == 0)
			o.assume_yes = 1;
		else {
			fprintf(stderr, "vigil-agentctl: activate: unexpected argument \"%s\"\n", a);
			return 2;
		}
	}
	if (o.url == NULL || o.token == NULL || *o.token == '\0') {
		fprintf(stderr, "vigil-agentctl: activate needs the manager URL and token:TOKEN\n");
		usage(stderr);
		return 2;
	}
	if (strlen(o.hostname) > 255 || strlen(o.description) > 1024 || strlen(o.token) > 128 ||
	    strlen(o.policy) > 128) {
		fprintf(stderr, "vigil-agentctl: hostname (255), description (1024), token or policy "
				"(128) too long\n");
		return 2;
	}
	umask(077);
	if (mkdir_p(state_dir, 0700) < 0) {
		fprintf(stderr, "vigil-agentctl: cannot create %s: %s\n", state_dir, strerror(errno));
		return 1;
	}
	agent_state_init(&st, state_dir);
	if (agent_state_load(&st, &errstr) == 0 && st.activated && !st.deactivated) {
		fprintf(stderr,
			"vigil-agentctl: already activated as %s with %s; run vigil-agentctl reset first\n",
			st.guid, st.manager_url);
		agent_state_clear(&st);
		return 1;
	}
	agent_state_clear(&st);
	agent_state_init(&st, state_dir);
	retry_remove(&st); /* a new activation replaces any pending one */
	/* the manager learns where to call the agent (manager-initiated needs it) */
	r = ask_agent("status", 5);
	o.agent_port = (int)json_integer_value(json_object_get(json_object_get(r, "agent_port"), "port"));
	json_decref(r);
	if (activate_run(&st, &o, &out, err, sizeof(err)) < 0) {
		fprintf(stderr, "vigil-agentctl: activation failed: %s\n", err);
		if (!out.retryable || max_retries == 0) {
			agent_state_clear(&st);
			return 1;
		}
		/* the agent retries by itself, also across its own restarts */
		memset(&pa, 0, sizeof(pa));
		str_copy(pa.url, o.url, sizeof(pa.url));
		str_copy(pa.token, o.token, sizeof(pa.token));
		str_copy(pa.hostname, o.hostname, sizeof(pa.hostname));
		str_copy(pa.description, o.description, sizeof(pa.description));
		str_copy(pa.policy, o.policy, sizeof(pa.policy));
		str_copy(pa.ca_fingerprint, out.trusted_fingerprint, sizeof(pa.ca_fingerprint));
		str_copy(pa.last_error, err, sizeof(pa.last_error));
		pa.retry_interval = retry_interval;
		pa.attempts_left = max_retries;
		/* the first retry after about 10 s, sooner when the interval is shorter */
		pa.next_at_ms = now_ms() + (retry_interval * 1000 < RETRY_FIRST_MS
						    ? retry_interval * 1000
						    : RETRY_FIRST_MS);
		/* a manager under a storm said when: not before, and spread out */
		if (out.retry_after_s > 0)
			pa.next_at_ms = now_ms() + retry_delay_ms(0, out.retry_after_s,
								  rand_below(UINT64_MAX));
		if (retry_save(&st, &pa) < 0) {
			fprintf(stderr, "vigil-agentctl: cannot write %s/%s; no retries\n", state_dir,
				RETRY_FILE);
			agent_state_clear(&st);
			return 1;
		}
		fprintf(stderr,
			"Operation failed, %lld attempts left; will retry in about %lld seconds, then "
			"every %lld seconds\n",
			(long long)max_retries, (long long)((pa.next_at_ms - now_ms() + 500) / 1000),
			(long long)retry_interval);
		r = ask_agent("reload", 5);
		if (r == NULL)
			fprintf(stderr, "note: vigil-agent is not running; the retries start when it does\n");
		json_decref(r);
		agent_state_clear(&st);
		return 1;
	}
	printf("activated: GUID %s, computer ID %lld, manager %s (CA sha256:%s)\n", st.guid,
	       (long long)st.computer_id, st.manager_url, st.ca_fingerprint);
	r = ask_agent("reload", 5);
	if (r == NULL)
		printf("note: the agent daemon is not running; it will heartbeat once started\n");
	json_decref(r);
	agent_state_clear(&st);
	return 0;
}

/* The watchdog's line of "status", from watchdog.json as the daemon reports it. */
static void
print_watchdog(json_t *w)
{
	json_int_t pid = json_integer_value(json_object_get(w, "monitor_pid")),
		   n = json_integer_value(json_object_get(w, "restarts"));
	char t[40];

	if (w == NULL || pid == 0) {
		printf("watchdog:       none (start the agent with vigil-agent --monitor)\n");
		return;
	}
	if (n == 0) {
		printf("watchdog:       running (pid %lld), no restarts\n", (long long)pid);
		return;
	}
	fmt_time_ms(json_integer_value(json_object_get(w, "last_restart_ms")), t, sizeof(t));
	printf("watchdog:       running (pid %lld), %lld restart%s, the last at %s (%s)\n",
	       (long long)pid, (long long)n, n == 1 ? "" : "s", t,
	       json_string_value(json_object_get(w, "last_exit")));
}

static void
print_queue(json_t *q)
{
	if (q == NULL)
		return;
	printf("event queue:    %lld events, %lld bytes (limits %lld events, %lld bytes)\n",
	       (long long)json_integer_value(json_object_get(q, "depth")),
	       (long long)json_integer_value(json_object_get(q, "bytes")),
	       (long long)json_integer_value(json_object_get(q, "max_events")),
	       (long long)json_integer_value(json_object_get(q, "max_bytes")));
	printf("oldest unacked: %lld (next sequence %lld, acknowledged up to %lld)\n",
	       (long long)json_integer_value(json_object_get(q, "oldest_seq")),
	       (long long)json_integer_value(json_object_get(q, "next_seq")),
	       (long long)json_integer_value(json_object_get(q, "acked_seq")));
	printf("dropped:        %lld events (queue full)\n",
	       (long long)json_integer_value(json_object_get(q, "dropped")));
	if (json_string_value(json_object_get(q, "last_error")) != NULL &&
	    json_string_value(json_object_get(q, "last_error"))[0])
		printf("queue error:    %s\n", json_string_value(json_object_get(q, "last_error")));
}

static void
print_status(json_t *s, int from_daemon)
{
	char t[40];
	json_t *hb = json_object_get(s, "last_heartbeat");

	if (!json_is_true(json_object_get(s, "activated"))) {
		json_t *p = json_object_get(s, "pending_activation");
		printf("activated:      no\n");
		if (p != NULL)
			printf("activation:     retrying with %s: %lld attempts left, next in about "
			       "%lld s (every %lld s)\n"
			       "last error:     %s\n",
			       json_string_value(json_object_get(p, "manager_url")),
			       (long long)json_integer_value(json_object_get(p, "attempts_left")),
			       (long long)(json_integer_value(json_object_get(p, "next_attempt_in_ms")) /
					   1000),
			       (long long)json_integer_value(json_object_get(p, "retry_interval")),
			       json_string_value(json_object_get(p, "last_error")));
		else if (json_object_get(s, "last_activation_retry") != NULL)
			printf("last retry:     %s\n",
			       json_string_value(json_object_get(s, "last_activation_retry")));
		return;
	}
	printf("activated:      %s\n", json_is_true(json_object_get(s, "deactivated"))
					      ? "no (deactivated by the manager)"
					      : "yes");
	printf("manager:        %s\n", json_string_value(json_object_get(s, "manager_url")));
	printf("GUID:           %s\n", json_string_value(json_object_get(s, "guid")));
	printf("computer ID:    %lld\n", (long long)json_integer_value(json_object_get(s, "computer_id")));
	printf("CA fingerprint: sha256:%s\n", json_string_value(json_object_get(s, "ca_fingerprint")));
	printf("heartbeat:      every %lld s\n",
	       (long long)json_integer_value(json_object_get(s, "heartbeat_interval")));
	if (!from_daemon) {
		printf("agent daemon:   not running\n");
		return;
	}
	{
		json_t *ap = json_object_get(s, "agent_port");
		const char *dir = json_string_value(json_object_get(ap, "direction"));
		if (json_is_true(json_object_get(ap, "listening")))
			printf("agent port:     %lld (%s; %lld calls from the manager)\n",
			       (long long)json_integer_value(json_object_get(ap, "port")), dir ? dir : "",
			       (long long)json_integer_value(json_object_get(ap, "accepted")));
		else
			printf("agent port:     closed (%s%s)\n", dir ? dir : "",
			       json_is_true(json_object_get(ap, "blocked")) ? ", blocked" : "");
	}
	if (json_integer_value(json_object_get(hb, "attempt_ms")) == 0) {
		printf("last heartbeat: none yet\n");
		return;
	}
	fmt_time_ms(json_integer_value(json_object_get(hb, "attempt_ms")), t, sizeof(t));
	if (json_is_true(json_object_get(hb, "ok")))
		printf("last heartbeat: %s ok (manager says %s)\n", t,
		       json_string_value(json_object_get(s, "manager_status")));
	else
		printf("last heartbeat: %s FAILED at %s: %s (%lld in a row)\n", t,
		       json_string_value(json_object_get(hb, "stage")),
		       json_string_value(json_object_get(hb, "message")),
		       (long long)json_integer_value(json_object_get(hb, "consecutive_failures")));
	fmt_time_ms(json_integer_value(json_object_get(hb, "success_ms")), t, sizeof(t));
	printf("last success:   %s\n", t);
	print_watchdog(json_object_get(s, "watchdog"));
	print_queue(json_object_get(s, "event_queue"));
}

static json_t *
status_from_files(void)
{
	struct pending_activation pa;
	struct agent_state st;
	const char *err = NULL;
	json_t *o;

	agent_state_init(&st, state_dir);
	if (agent_state_load(&st, &err) < 0) {
		agent_state_clear(&st);
		return json_pack("{s:b, s:s}", "activated", 0, "state_error", err);
	}
	o = json_pack("{s:b, s:b, s:s, s:s, s:I, s:s, s:I, s:b}", "activated", st.activated,
		      "deactivated", st.deactivated, "manager_url", st.manager_url, "guid", st.guid,
		      "computer_id", (json_int_t)st.computer_id, "ca_fingerprint", st.ca_fingerprint,
		      "heartbeat_interval", (json_int_t)st.heartbeat_interval, "daemon_running", 0);
	/* retries wait in a file: show them even while the daemon is down */
	if (o != NULL && retry_load(&st, &pa) == 1) {
		json_object_set_new(o, "pending_activation",
				    json_pack("{s:s, s:I, s:I, s:I, s:s}", "manager_url", pa.url,
					      "attempts_left", (json_int_t)pa.attempts_left,
					      "next_attempt_in_ms",
					      (json_int_t)(pa.next_at_ms - now_ms()),
					      "retry_interval", (json_int_t)pa.retry_interval,
					      "last_error", pa.last_error));
		OPENSSL_cleanse(pa.token, sizeof(pa.token));
	}
	agent_state_clear(&st);
	return o;
}

static int
cmd_status(int argc, char **argv)
{
	int as_json = argc > 1 && strcmp(argv[1], "--json") == 0;
	json_t *s = ask_agent("status", 5);
	int from_daemon = s != NULL;

	if (s == NULL)
		s = status_from_files();
	else
		json_object_set_new(s, "daemon_running", json_true());
	if (as_json) {
		char *t = json_dumps(s, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("%s\n", t ? t : "{}");
		free(t);
	} else {
		print_status(s, from_daemon);
	}
	{
		/* 0 only for an agent that may heartbeat: activated and not deactivated */
		int ok = json_is_true(json_object_get(s, "activated")) &&
			 !json_is_true(json_object_get(s, "deactivated"));
		json_decref(s);
		return ok ? 0 : 1;
	}
}

/*
 * Tells the manager (which deactivates the computer: event 708), then
 * wipes the identity and the configuration so that the agent can be
 * activated again.  A manager that cannot be reached does not stop the
 * reset: the operator is told to deactivate the computer there.
 */
static int
cmd_reset(void)
{
	static const char *const files[] = {"agent.json", "identity.key", "identity.crt", "ca.crt",
					    RETRY_FILE};
	char path[PATH_MAX];
	size_t i;
	int failed = 0;
	json_t *r;
	struct agent_state st;
	const char *err = NULL;

	/* tell the manager first, while the identity still exists */
	agent_state_init(&st, state_dir);
	if (agent_state_load(&st, &err) == 0 && st.activated && !st.deactivated) {
		struct http_client cl;
		struct client_result res;

		char fpr[65], body[128], code[64] = "";

		/* the fingerprint: a clone's reset must not deactivate the original */
		hostinfo_fingerprint(state_dir, fpr);
		snprintf(body, sizeof(body), "{\"machine_fingerprint\":\"%s\"}", fpr);
		client_result_init(&res);
		if (client_init(&cl) == 0 && hb_client_setup(&st, &cl) == 0) {
			cl.timeout_s = 10;
			if (client_request(&cl, st.manager_url, "/agent/v1/deactivate", body, &res) == 0 &&
			    res.status == 200) {
				printf("reset: the manager %s deactivated computer %s\n", st.manager_url,
				       st.guid);
			} else if (res.status == 409 &&
				   strcmp(client_error_code(&res, code, sizeof(code)), "clone_refused") ==
					   0) {
				printf("reset: this agent was a clone of computer %s; the manager keeps "
				       "the original activated and only this copy is reset\n",
				       st.guid);
			} else {
				fprintf(stderr,
					"vigil-agentctl: could not tell the manager (%s); deactivate computer %s there\n",
					res.error[0] ? res.error : "no answer", st.guid);
			}
		}
		client_clear(&cl);
		client_result_clear(&res);
	}
	agent_state_clear(&st);
	/*
	 * The daemon forgets first: it answers between heartbeats, so once it
	 * has, no heartbeat in flight can write agent.json back behind us.
	 */
	r = ask_agent("forget", 60);
	json_decref(r);
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		if (path_join(path, sizeof(path), state_dir, files[i]) < 0)
			return 1;
		if (unlink(path) < 0 && errno != ENOENT) {
			fprintf(stderr, "vigil-agentctl: cannot remove %s: %s\n", path, strerror(errno));
			failed = 1;
		}
	}
	if (failed)
		return 1;
	r = ask_agent("reload", 5);
	json_decref(r);
	printf("reset: identity and configuration removed from %s; the agent can be activated again\n",
	       state_dir);
	return 0;
}

static int
cmd_heartbeat(void)
{
	json_t *s = ask_agent("heartbeat", 60), *hb;
	int ok;

	if (s == NULL) {
		fprintf(stderr, "vigil-agentctl: the agent daemon does not answer on %s/%s; is vigil-agent running?\n",
			state_dir, CTL_SOCKET);
		return 1;
	}
	if (json_object_get(s, "error") != NULL) {
		fprintf(stderr, "vigil-agentctl: heartbeat not sent: %s\n",
			json_string_value(json_object_get(s, "error")));
		json_decref(s);
		return 1;
	}
	hb = json_object_get(s, "last_heartbeat");
	ok = json_is_true(json_object_get(hb, "ok"));
	if (ok)
		printf("heartbeat sent: the manager says %s\n",
		       json_string_value(json_object_get(s, "manager_status")));
	else
		fprintf(stderr, "vigil-agentctl: heartbeat failed at %s: %s\n",
			json_string_value(json_object_get(hb, "stage")),
			json_string_value(json_object_get(hb, "message")));
	json_decref(s);
	return ok ? 0 : 1;
}

static json_t *
diag_ask_status(void)
{
	return ask_agent("status", 5);
}

/* diagnose [--json]: seed 003's checklist, run here; exit 1 at the first failure */
static int
cmd_diagnose(int argc, char **argv)
{
	int as_json = argc > 1 && strcmp(argv[1], "--json") == 0, ok;
	json_t *st, *rep;

	if (argc > 2 || (argc == 2 && !as_json)) {
		usage(stderr);
		return 2;
	}
	st = ask_agent("status", 5);
	rep = diagnose_run(state_dir, st, diag_ask_status);
	json_decref(st);
	if (rep == NULL) {
		fprintf(stderr, "vigil-agentctl: diagnose: out of memory\n");
		return 1;
	}
	if (as_json) {
		char *s = json_dumps(rep, JSON_INDENT(2));
		printf("%s\n", s ? s : "{}");
		free(s);
	} else {
		diagnose_print(rep, stdout);
	}
	ok = json_is_true(json_object_get(rep, "ok"));
	json_decref(rep);
	return ok ? 0 : 1;
}

/* Test aid: closes (or reopens) the agent port, as a firewall would. */
static int
cmd_block(const char *what)
{
	json_t *s = ask_agent(what, 5);
	int ok = s != NULL && json_is_true(json_object_get(s, "ok"));

	if (s == NULL)
		fprintf(stderr, "vigil-agentctl: the agent daemon does not answer on %s/%s\n",
			state_dir, CTL_SOCKET);
	else
		printf("agent port %s\n", what[0] == 'b' ? "blocked (closed until unblock-inbound)"
						       : "unblocked");
	json_decref(s);
	return ok ? 0 : 1;
}

/* The health report, as text and as JSON (either may be NULL). */
static enum nagios_state
health_report(char **text_r, json_t **json_r)
{
	struct nagios_report r;
	struct buf out;
	json_t *s = ask_agent("status", 5);

	health_run(state_dir, s, &r);
	json_decref(s);
	if (text_r != NULL) {
		buf_init(&out, NAGIOS_MAX_OUTPUT);
		*text_r = nagios_format(&r, &out) == 0 ? strdup(buf_cstr(&out)) : NULL;
		buf_clear(&out);
	}
	if (json_r != NULL)
		*json_r = nagios_json(&r);
	return nagios_worst(&r);
}

static int
cmd_health(int argc, char **argv)
{
	int as_json = argc > 1 && strcmp(argv[1], "--json") == 0;
	enum nagios_state st;
	char *text = NULL, *s;
	json_t *o = NULL;

	if (argc > 2 || (argc == 2 && !as_json)) {
		usage(stderr);
		return NAGIOS_UNKNOWN;
	}
	st = health_report(as_json ? NULL : &text, as_json ? &o : NULL);
	if (as_json) {
		s = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
		printf("%s\n", s ? s : "{}");
		free(s);
		json_decref(o);
	} else {
		fputs(text ? text : "VIGIL-AGENT UNKNOWN - out of memory\n", stdout);
		free(text);
	}
	return (int)st;
}

static int
cmd_diag(int argc, char **argv)
{
	struct diag_input in;
	char name[PATH_MAX], host[256] = "host", t[32], err[512], *htext = NULL;
	struct tm tm;
	time_t now = time(NULL);
	int i, ret;

	memset(&in, 0, sizeof(in));
	in.dir = state_dir;
	for (i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--log") == 0) && i + 1 < argc) {
			if (argv[i][1] == 'o')
				in.out_path = argv[++i];
			else
				in.log_path = argv[++i];
		} else {
			fprintf(stderr, "vigil-agentctl: diag-package: unexpected argument \"%s\"\n",
				argv[i]);
			return 2;
		}
	}
	if (in.out_path == NULL) {
		gethostname(host, sizeof(host) - 1);
		gmtime_r(&now, &tm);
		strftime(t, sizeof(t), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(name, sizeof(name), "vigil-agent-diag-%s-%s.tar.gz", host, t);
		in.out_path = name;
	}
	in.status = ask_agent("status", 5);
	if (in.status == NULL)
		in.status = status_from_files();
	else
		json_object_set_new(in.status, "daemon_running", json_true());
	health_report(&htext, &in.health_json);
	in.health_text = htext;
	ret = diag_package(&in, err, sizeof(err));
	if (ret == 0)
		printf("diagnostic package written to %s (mode 0600; no private key, no token)\n",
		       in.out_path);
	else
		fprintf(stderr, "vigil-agentctl: diag-package: %s\n", err);
	json_decref(in.status);
	json_decref(in.health_json);
	free(htext);
	return ret == 0 ? 0 : 1;
}

/* Test aid: the daemon queues N events 4991 through its one queue API. */
static int
cmd_emit_test_events(int argc, char **argv)
{
	char cmd[64];
	int64_t n;
	json_t *r;
	int ok;

	if (argc < 2 || parse_i64(argv[1], 1, 1000000, &n) < 0) {
		fprintf(stderr, "vigil-agentctl: emit-test-events N (1 to 1000000)\n");
		return 2;
	}
	snprintf(cmd, sizeof(cmd), "emit-test-events %lld", (long long)n);
	r = ask_agent(cmd, 120);
	if (r == NULL) {
		fprintf(stderr,
		        "vigil-agentctl: the agent daemon does not answer on %s/%s; is vigil-agent "
		        "running?\n",
		        state_dir, CTL_SOCKET);
		return 1;
	}
	ok = json_is_true(json_object_get(r, "ok"));
	if (ok)
		printf("queued %lld test events: sequences %lld to %lld\n", (long long)n,
		       (long long)json_integer_value(json_object_get(r, "first_seq")),
		       (long long)json_integer_value(json_object_get(r, "last_seq")));
	else
		fprintf(stderr, "vigil-agentctl: %s\n",
		        json_string_value(json_object_get(r, "error")));
	json_decref(r);
	return ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
	int i = 1;

	log_init("vigil-agentctl", LOG_LVL_WARN);
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			state_dir = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[i], "activate") == 0)
		return cmd_activate(argc - i, argv + i);
	if (strcmp(argv[i], "status") == 0)
		return cmd_status(argc - i, argv + i);
	if (strcmp(argv[i], "heartbeat") == 0)
		return cmd_heartbeat();
	if (strcmp(argv[i], "reset") == 0)
		return cmd_reset();
	if (strcmp(argv[i], "block-inbound") == 0 || strcmp(argv[i], "unblock-inbound") == 0)
		return cmd_block(argv[i]);
	if (strcmp(argv[i], "diagnose") == 0)
		return cmd_diagnose(argc - i, argv + i);
	if (strcmp(argv[i], "health") == 0)
		return cmd_health(argc - i, argv + i);
	if (strcmp(argv[i], "diag-package") == 0)
		return cmd_diag(argc - i, argv + i);
	if (strcmp(argv[i], "emit-test-events") == 0)
		return cmd_emit_test_events(argc - i, argv + i);
	fprintf(stderr, "vigil-agentctl: unknown command \"%s\"\n", argv[i]);
	usage(stderr);
	return 2;
}
