/*
 * diagnose: see diagnose.h.
 */
#include "diagnose.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "heartbeat.h"
#include "nagios.h"
#include "pki.h"
#include "state.h"
#include "util.h"

struct dg {
	json_t *checks;
	int failed;
};

static void
dg_add(struct dg *d, const char *name, const char *state, const char *detail, const char *cause,
       const char *fix)
{
	json_t *c = json_pack("{s:s, s:s, s:s}", "check", name, "state", state, "detail", detail);

	if (c == NULL)
		return;
	if (strcmp(state, "fail") == 0) {
		/* the first failure carries the cause and the fix */
		if (!d->failed) {
			json_object_set_new(c, "cause", json_string(cause ? cause : detail));
			json_object_set_new(c, "fix", json_string(fix ? fix : ""));
		}
		d->failed++;
	}
	json_array_append_new(d->checks, c);
}

/* https://HOST[:PORT]/...: host (brackets removed) and port (4120 by default). */
static int
dg_parse_url(const char *url, char *host, size_t hostsize, int *port)
{
	const char *p = strncmp(url, "https://", 8) == 0 ? url + 8 : NULL, *end, *colon;
	int64_t v;

	*port = 4120;
	if (p == NULL)
		return -1;
	if (*p == '[') {
		end = strchr(p, ']');
		if (end == NULL || (size_t)(end - p - 1) >= hostsize)
			return -1;
		memcpy(host, p + 1, (size_t)(end - p - 1));
		host[end - p - 1] = '\0';
		colon = end[1] == ':' ? end + 1 : NULL;
	} else {
		end = p + strcspn(p, ":/");
		if ((size_t)(end - p) >= hostsize || end == p)
			return -1;
		memcpy(host, p, (size_t)(end - p));
		host[end - p] = '\0';
		colon = *end == ':' ? end : NULL;
	}
	if (colon != NULL) {
		char num[8];
		size_t n = strcspn(colon + 1, "/");
		if (n == 0 || n >= sizeof(num))
			return -1;
		memcpy(num, colon + 1, n);
		num[n] = '\0';
		if (parse_i64(num, 1, 65535, &v) < 0)
			return -1;
		*port = (int)v;
	}
	return 0;
}

/* What a refusal code of the heartbeat means, and what to do. */
static void
dg_refusal(const char *code, const char *msg, const char **cause, const char **fix)
{
	*fix = "";
	if (strcmp(code, "computer_deactivated") == 0 || strcmp(code, "certificate_revoked") == 0) {
		*cause = "the manager deactivated this computer: its certificate no longer works";
		*fix = "if it should be protected again: vigil-agentctl reset, then vigil-agentctl "
		       "activate";
	} else if (strcmp(code, "certificate_superseded") == 0) {
		*cause = "a later activation of this computer replaced this certificate (another "
		         "copy of this agent, or a reactivation)";
		*fix = "vigil-agentctl reset, then activate again";
	} else if (strcmp(code, "unknown_computer") == 0 ||
	           strcmp(code, "reactivate_required") == 0) {
		*cause = "the manager no longer lists this computer (it was deleted)";
		*fix = "vigil-agentctl reset and activate again, or turn on \"reactivate unknown "
		       "agents\" on the manager";
	} else if (strcmp(code, "clone_refused") == 0) {
		*cause = "this agent's identity was copied from another machine (a cloned VM or "
		         "state directory)";
		*fix = "vigil-agentctl reset on this machine, then activate it as a new computer";
	} else if (strcmp(code, "certificate_invalid") == 0) {
		*cause = "the manager refuses this agent's certificate (expired or not valid)";
		*fix = "vigil-agentctl reset, then activate again";
	} else {
		*cause = msg;
	}
}

json_t *
diagnose_run(const char *state_dir, json_t *daemon_status, json_t *(*ask_status)(void))
{
	struct agent_state st;
	struct dg d = {json_array(), 0};
	struct http_client cl;
	struct client_result r;
	struct hb_status hs;
	struct addrinfo hints, *ai = NULL;
	char host[256], ip[64] = "", msg[1024], code[64] = "", path[PATH_MAX], t[40];
	const char *err = NULL, *cause, *fix;
	json_t *ap = json_object_get(daemon_status, "agent_port"), *resp = NULL, *req, *report;
	int port, rc, hb_ok = 0, cl_ready = 0, tls_ok = 0;
	int64_t rtt = 0, t0, skew = 0, max_skew = 600;
	json_error_t je;
	X509 *cert = NULL;

	agent_state_init(&st, state_dir);
	memset(&hs, 0, sizeof(hs));
	client_result_init(&r);
	if (agent_state_load(&st, &err) < 0 || !st.activated) {
		dg_add(&d, "activation", "fail", err ? err : "this agent is not activated",
		       err ? err : "the agent is not activated, so it has no manager to talk to",
		       "vigil-agentctl activate https://MANAGER:4120/ token:TOKEN --ca-fingerprint "
		       "SHA256");
		goto out;
	}
	if (st.deactivated) {
		snprintf(msg, sizeof(msg), "deactivated by the manager: %s", st.deactivated_reason);
		dg_add(&d, "activation", "fail", msg,
		       "the manager deactivated this computer; the agent stopped heartbeating",
		       "if it should be protected again: vigil-agentctl reset, then vigil-agentctl "
		       "activate");
		goto out;
	}
	/* 0. the daemon */
	if (daemon_status != NULL) {
		snprintf(msg, sizeof(msg), "vigil-agent is running (pid %lld)",
		         (long long)json_integer_value(json_object_get(daemon_status, "pid")));
		dg_add(&d, "agent daemon", "ok", msg, NULL, NULL);
		hs.clock_offset_ms =
		    json_integer_value(json_object_get(daemon_status, "clock_offset_ms"));
		/* what the daemon reports in its own heartbeats (a blocked port too) */
		hs.listen_port = json_is_true(json_object_get(ap, "listening")) ||
		                         json_is_true(json_object_get(ap, "blocked"))
		                     ? (int)json_integer_value(json_object_get(ap, "port"))
		                     : 0;
	} else {
		dg_add(
		    &d, "agent daemon", "fail", "vigil-agent does not answer on its control socket",
		    "the agent daemon is not running: it sends no heartbeats and nothing answers "
		    "on its port, so the manager shows it offline",
		    "start it (systemctl start vigil-agent, or vigil-agent -d DIR); vigil-agent "
		    "--monitor restarts it whenever it dies");
	}
	/* 1. name resolution */
	if (dg_parse_url(st.manager_url, host, sizeof(host), &port) < 0) {
		snprintf(msg, sizeof(msg), "the manager URL \"%.200s\" in agent.json is malformed",
		         st.manager_url);
		dg_add(&d, "manager address", "fail", msg, msg,
		       "vigil-agentctl reset, then activate with https://MANAGER:4120/");
		goto out;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &ai);
	if (rc != 0 || ai == NULL) {
		snprintf(msg, sizeof(msg), "%s does not resolve: %s", host, gai_strerror(rc));
		dg_add(&d, "name resolution", "fail", msg,
		       "the manager's name does not resolve on this host, so the agent cannot find "
		       "it",
		       "fix the DNS record or /etc/resolv.conf (or add it to /etc/hosts); or "
		       "reactivate the agent with the manager's IP address");
		goto out;
	}
	if (ai->ai_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, ip, sizeof(ip));
	else if (ai->ai_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, ip,
		          sizeof(ip));
	snprintf(msg, sizeof(msg), "%s is %s", host, ip);
	dg_add(&d, "name resolution", "ok", msg, NULL, NULL);
	/* 2. TCP */
	if (nagios_connect(ip, port, 3000, msg, sizeof(msg)) < 0) {
		char detail[300];
		int refused = strstr(msg, "refused") != NULL;
		snprintf(detail, sizeof(detail), "connecting to %s port %d: %.200s", ip, port, msg);
		dg_add(
		    &d, "connect to the manager", "fail", detail,
		    refused ? "nothing listens on the manager's agent port: vigil-manager is down, "
		              "or listens on another port"
		            : "no answer from the manager's agent port: a firewall drops the "
		              "traffic, or the manager's host is down",
		    refused ? "start vigil-manager (systemctl status vigil-manager) and check its "
		              "[listen] agent_port"
		            : "open TCP to the manager's agent port (4120) from this host; check "
		              "that the manager's host is up");
		goto out;
	}
	snprintf(msg, sizeof(msg), "%s port %d accepts connections", ip, port);
	dg_add(&d, "connect to the manager", "ok", msg, NULL, NULL);
	/* 3. TLS against the pinned CA */
	if (client_init(&cl) < 0 || agent_state_path(&st, "ca.crt", cl.ca, sizeof(cl.ca)) < 0) {
		dg_add(&d, "TLS handshake", "fail", "cannot set up the HTTPS client", NULL, NULL);
		goto out;
	}
	cl_ready = 1;
	cl.timeout_s = 10;
	if (client_request(&cl, st.manager_url, "/agent/v1/ca", NULL, &r) < 0) {
		snprintf(msg, sizeof(msg), "%s: %s", client_stage_name(r.stage), r.error);
		dg_add(&d, "TLS handshake", "fail", msg,
		       r.stage == CL_TLS
		           ? "the server at that address does not present a certificate of this "
		             "agent's manager (the CA pinned at activation): another server took "
		             "the address, or a TLS-intercepting proxy is in the way"
		           : msg,
		       r.stage == CL_TLS
		           ? "point the agent at its manager (vigil-agentctl reset and "
		             "activate); do not intercept TLS on port 4120"
		           : "");
		goto out;
	}
	tls_ok = 1;
	snprintf(msg, sizeof(msg),
	         "the manager's certificate verifies against the pinned CA sha256:%.16s...",
	         st.ca_fingerprint);
	dg_add(&d, "TLS handshake", "ok", msg, NULL, NULL);
	/* the heartbeat now: its answer tells the certificate's, the clock's and the port's story
	 */
	client_result_clear(&r);
	client_result_init(&r);
	if (agent_state_path(&st, "identity.crt", cl.cert, sizeof(cl.cert)) == 0 &&
	    agent_state_path(&st, "identity.key", cl.key, sizeof(cl.key)) == 0 &&
	    (req = hb_request_json(&st, &hs)) != NULL) {
		char *body;
		json_object_set_new(req, "call_me", json_true());
		/* the daemon's port is the daemon's to report: not known here when it is down */
		if (daemon_status == NULL)
			json_object_del(req, "agent_port");
		body = json_dumps(req, JSON_COMPACT);
		json_decref(req);
		t0 = mono_ms();
		if (body != NULL &&
		    client_request(&cl, st.manager_url, "/agent/v1/heartbeat", body, &r) == 0) {
			rtt = mono_ms() - t0;
			if (r.status == 200)
				resp = json_loadb(r.body.data, r.body.len, 0, &je);
			else
				client_error_code(&r, code, sizeof(code));
		}
		free(body);
	}
	hb_ok = resp != NULL;
	/* 4. own certificate */
	if (agent_state_path(&st, "identity.crt", path, sizeof(path)) < 0 ||
	    (cert = pki_cert_load(path)) == NULL) {
		dg_add(&d, "agent certificate", "fail", "identity.crt is missing or unreadable",
		       "the agent's identity is damaged",
		       "vigil-agentctl reset, then activate again");
		goto out;
	}
	fmt_time_ms(pki_cert_not_after(cert) * 1000, t, sizeof(t));
	if (pki_cert_not_after(cert) * 1000 < now_ms()) {
		snprintf(msg, sizeof(msg), "identity.crt expired at %s", t);
		dg_add(&d, "agent certificate", "fail", msg,
		       "the agent's certificate expired: the manager refuses its heartbeats",
		       "vigil-agentctl reset, then activate again (the new certificate gets the "
		       "manager's [ca] agent_cert_days)");
		goto out;
	}
	if (!hb_ok && code[0] && strcmp(code, "rate_limited") != 0 &&
	    (strncmp(code, "certificate", 11) == 0 || strcmp(code, "computer_deactivated") == 0 ||
	     strcmp(code, "unknown_computer") == 0 || strcmp(code, "clone_refused") == 0 ||
	     strcmp(code, "reactivate_required") == 0)) {
		char m2[512];
		client_error_message(&r, m2, sizeof(m2));
		dg_refusal(code, m2, &cause, &fix);
		snprintf(msg, sizeof(msg),
		         "valid until %s, but the manager refuses it (%s): %.300s", t, code, m2);
		dg_add(&d, "agent certificate", "fail", msg, cause, fix);
		goto out;
	}
	snprintf(msg, sizeof(msg), "valid until %s%s", t, hb_ok ? ", accepted by the manager" : "");
	dg_add(&d, "agent certificate", "ok", msg, NULL, NULL);
	/* 5. clock */
	if (hb_ok && json_integer_value(json_object_get(resp, "manager_clock_ms")) > 0) {
		int64_t mine = now_ms() - rtt / 2 + hs.clock_offset_ms;
		json_t *mc = json_object_get(st.config, "max_clock_change");
		skew = mine - json_integer_value(json_object_get(resp, "manager_clock_ms"));
		if (json_is_integer(mc))
			max_skew = json_integer_value(mc);
		snprintf(msg, sizeof(msg),
		         "this host's clock is %lld s %s the manager's (the policy "
		         "allows %lld s)",
		         (long long)((skew < 0 ? -skew : skew) + 500) / 1000,
		         skew < 0 ? "behind" : "ahead of", (long long)max_skew);
		if ((skew < 0 ? -skew : skew) > max_skew * 1000)
			dg_add(&d, "clock", "fail", msg,
			       "this host's clock is off: the manager reports a clock change, and "
			       "certificates can look expired or not yet valid",
			       "synchronise the clock with NTP (timedatectl set-ntp true; chronyc "
			       "tracking)");
		else
			dg_add(&d, "clock", "ok", msg, NULL, NULL);
	} else {
		dg_add(&d, "clock", "skip", "not compared: the heartbeat got no answer", NULL,
		       NULL);
	}
	/* 6. heartbeat */
	if (hb_ok) {
		snprintf(msg, sizeof(msg), "the manager answered in %lld ms: %s", (long long)rtt,
		         json_string_value(json_object_get(resp, "status"))
		             ? json_string_value(json_object_get(resp, "status"))
		             : "?");
		dg_add(&d, "heartbeat", "ok", msg, NULL, NULL);
	} else {
		char m2[512] = "";
		if (r.status > 0)
			client_error_message(&r, m2, sizeof(m2));
		snprintf(msg, sizeof(msg), "%s: %s",
		         r.status > 0 ? "refused" : client_stage_name(r.stage),
		         r.status > 0 ? m2 : r.error);
		dg_refusal(code, msg, &cause, &fix);
		dg_add(&d, "heartbeat", "fail", msg, cause, fix);
		goto out;
	}
	/* 7. the way back: can the manager reach this agent's port? */
	{
		json_t *chk = json_object_get(resp, "agent_port_check");
		const char *dir = json_string_value(json_object_get(chk, "direction"));
		const char *merr = json_string_value(json_object_get(chk, "error"));
		int64_t before = json_integer_value(json_object_get(ap, "accepted")), waited;
		int p = (int)json_integer_value(json_object_get(ap, "port"));

		if (dir != NULL && strcmp(dir, "agent-initiated") == 0) {
			dg_add(&d, "manager reaches this agent", "skip",
			       "not used: the policy is agent-initiated, the manager never calls",
			       NULL, NULL);
		} else if (daemon_status == NULL ||
		           !json_is_true(json_object_get(ap, "listening"))) {
			snprintf(msg, sizeof(msg), "the agent port %d is closed (%s)", p,
			         daemon_status == NULL ? "the daemon is not running"
			         : json_is_true(json_object_get(ap, "blocked")) ? "blocked"
			         : json_string_value(json_object_get(ap, "last_error"))
			             ? json_string_value(json_object_get(ap, "last_error"))
			             : "not listening");
			dg_add(
			    &d, "manager reaches this agent", "fail", msg,
			    "the manager cannot reach this agent's port (one-way: this agent "
			    "reaches "
			    "the manager, not the other way), so work waits for heartbeats and the "
			    "manager reports a communications problem",
			    daemon_status == NULL
			        ? "start the agent daemon"
			        : "open TCP to the agent port from the manager (host firewall, "
			          "security group), or make the policy agent-initiated");
		} else {
			json_t *now_st = NULL;
			int called = 0;
			for (waited = 0; waited < DIAG_CALLBACK_WAIT_MS && !called; waited += 200) {
				struct timespec ts = {0, 200 * 1000000L};
				json_decref(now_st);
				now_st = ask_status ? ask_status() : NULL;
				called = json_integer_value(json_object_get(
				             json_object_get(now_st, "agent_port"), "accepted")) >
				         before;
				if (!called)
					nanosleep(&ts, NULL);
			}
			json_decref(now_st);
			if (called) {
				snprintf(msg, sizeof(msg),
				         "the manager called this agent on port %d", p);
				dg_add(&d, "manager reaches this agent", "ok", msg, NULL, NULL);
			} else {
				snprintf(msg, sizeof(msg),
				         "no call from the manager on port %d within %d s%s%.300s",
				         p, DIAG_CALLBACK_WAIT_MS / 1000,
				         merr && *merr ? "; the manager's last attempt: " : "",
				         merr ? merr : "");
				dg_add(
				    &d, "manager reaches this agent", "fail", msg,
				    "this agent reaches the manager, but the manager cannot reach "
				    "this "
				    "agent's port (one-way: a firewall or NAT in front of this "
				    "host)",
				    "open TCP to the agent port from the manager (host firewall, "
				    "security group), or make the policy agent-initiated");
			}
		}
	}
out:
	X509_free(cert);
	if (ai != NULL)
		freeaddrinfo(ai);
	json_decref(resp);
	client_result_clear(&r);
	if (cl_ready)
		client_clear(&cl);
	(void)tls_ok;
	report = json_pack("{s:b, s:s, s:o}", "ok", d.failed == 0, "manager_url", st.manager_url,
	                   "checks", d.checks);
	agent_state_clear(&st);
	return report;
}

void
diagnose_print(const json_t *report, FILE *fp)
{
	json_t *checks = json_object_get(report, "checks"), *c, *first = NULL;
	size_t i;

	fprintf(fp, "diagnosis of this agent and its manager %s\n",
	        json_string_value(json_object_get(report, "manager_url")));
	json_array_foreach (checks, i, c) {
		const char *s = json_string_value(json_object_get(c, "state"));
		fprintf(fp, "  [%-4s] %s: %s\n",
		        strcmp(s, "ok") == 0     ? " ok "
		        : strcmp(s, "fail") == 0 ? "FAIL"
		                                 : "skip",
		        json_string_value(json_object_get(c, "check")),
		        json_string_value(json_object_get(c, "detail")));
		if (first == NULL && json_object_get(c, "cause") != NULL)
			first = c;
	}
	if (first == NULL) {
		fprintf(fp, "Every check passed.\n");
		return;
	}
	fprintf(fp, "Probable cause: %s\n", json_string_value(json_object_get(first, "cause")));
	if (*json_string_value(json_object_get(first, "fix")))
		fprintf(fp, "Fix: %s\n", json_string_value(json_object_get(first, "fix")));
}
