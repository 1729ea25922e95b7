/*
 * vigil-agent: the agent daemon.  Heartbeats to its manager on the
 * interval the manager sets (with jitter), backs off with jitter while the
 * manager cannot be reached, and answers vigil-agentctl on its control
 * socket.  Protection modules, the event queue and the 4118 channel come
 * with later issues.
 */
#include <errno.h>
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

#include "client.h"
#include "ctl.h"
#include "heartbeat.h"
#include "hostinfo.h"
#include "log.h"
#include "state.h"
#include "util.h"

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
	int64_t started_ms;
	char load_error[256];
};

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
	if (a->st.activated && !a->st.deactivated) {
		a->next_hb_mono = mono_ms(); /* first heartbeat at once */
		log_info("activated as %s with manager %s; heartbeat every %lld s", a->st.guid,
			 a->st.manager_url, (long long)a->st.heartbeat_interval);
	} else {
		a->next_hb_mono = -1;
		log_info(a->st.deactivated ? "deactivated by the manager: waiting for a new activation"
					   : "not activated: waiting for vigil-agentctl activate");
	}
}

static void
agent_heartbeat(struct agent *a)
{
	int64_t delay;

	if (!a->st.activated || a->st.deactivated) {
		a->next_hb_mono = -1;
		return;
	}
	if (hb_send(&a->st, &a->cl, &a->hs) == 0) {
		delay = hb_next_delay_ms(a->st.heartbeat_interval, rand_below(UINT64_MAX));
		log_debug("heartbeat ok; next in %lld ms", (long long)delay);
	} else {
		delay = hb_backoff_ms(a->hs.failures, a->st.heartbeat_interval,
				      rand_below(UINT64_MAX));
		if (a->hs.failures == 1 || a->hs.failures % 10 == 0)
			log_warn("event 4011 failure to contact manager (%d in a row); next try in %lld ms",
				 a->hs.failures, (long long)delay);
	}
	a->next_hb_mono = a->st.deactivated ? -1 : mono_ms() + delay;
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

	if (o != NULL && a->st.deactivated)
		json_object_set_new(o, "deactivated_reason", json_string(a->st.deactivated_reason));
	return o;
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
		else {
			agent_heartbeat(a);
			reply = agent_status_json(a);
		}
	} else if (strcmp(req, "reload") == 0) {
		agent_reload(a);
		reply = json_pack("{s:b}", "ok", 1);
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
	fprintf(fp, "usage: vigil-agent [-d DIR] [-v] [--clock-offset MS]\n"
		    "  -d DIR              state directory (default " AGENT_DEFAULT_DIR ")\n"
		    "  -v                  debug logging\n"
		    "  --clock-offset MS   test option: report the clock shifted by MS milliseconds\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {{"clock-offset", required_argument, NULL, 'C'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	struct agent a;
	const char *dir = AGENT_DEFAULT_DIR;
	char sock[PATH_MAX];
	int ch, lfd;
	int64_t v;

	memset(&a, 0, sizeof(a));
	while ((ch = getopt_long(argc, argv, "d:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'v': log_set_level(LOG_LVL_DEBUG); break;
		case 'C':
			if (parse_i64(optarg, -INT64_C(315360000000), INT64_C(315360000000), &v) < 0) {
				fprintf(stderr, "--clock-offset: not a number of milliseconds\n");
				return 2;
			}
			a.hs.clock_offset_ms = v;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	log_init("vigil-agent", LOG_LVL_INFO);
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
	agent_state_init(&a.st, dir);
	if (client_init(&a.cl) < 0)
		fatal("cannot initialise libcurl");
	agent_reload(&a);
	log_info("vigil-agent %s started; state in %s", AGENT_VERSION, dir);

	while (!stop_requested) {
		struct pollfd pfd = {.fd = lfd, .events = POLLIN};
		int64_t now = mono_ms();
		int timeout = 1000;

		if (a.next_hb_mono >= 0) {
			int64_t d = a.next_hb_mono - now;
			timeout = d < 0 ? 0 : d > 1000 ? 1000 : (int)d;
		}
		if (poll(&pfd, 1, timeout) > 0)
			agent_ctl(&a, lfd);
		if (reload_requested) {
			reload_requested = 0;
			agent_reload(&a);
		}
		if (a.next_hb_mono >= 0 && mono_ms() >= a.next_hb_mono)
			agent_heartbeat(&a);
	}
	log_info("stopping (signal %d)", (int)stop_requested);
	close(lfd);
	unlink(sock);
	client_clear(&a.cl);
	agent_state_clear(&a.st);
	return 0;
}
