/*
 * vigil-sim: a load simulator for the agent channel.  One process, one
 * epoll loop and non-blocking OpenSSL (like the manager) drive N simulated
 * agents, each with its own P-256 key and client certificate.
 *
 * Phases, in order, each optional:
 *   1. identities: --load FILE reads key/certificate pairs written by --save,
 *      or --activate N activates N new agents through POST /agent/v1/activate
 *      with the activation token (a new server-authenticated TLS connection
 *      per activation, as a real agent does);
 *   2. heartbeats for --duration seconds, kept alive (--mode keepalive) or a
 *      new mutual-TLS connection per heartbeat with TLS session resumption
 *      (--mode reconnect), every --interval ms with +-jitter, or as fast as
 *      the server answers (--interval 0: a closed loop, for throughput).
 *
 * It reports one JSON object on stdout: throughput, latency percentiles,
 * errors by kind, and the CPU time and resident memory of the processes
 * named by --pid, read from /proc.  Every loop ends by itself: activation
 * stops after --activate-timeout seconds, heartbeats after --duration.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "hbsched.h"
#include "pki.h"
#include "util.h"

#define SIM_IN_MAX 65536   /* largest response we accept */
#define SIM_OUT_MAX 262144 /* largest request we build */
#define SIM_MAX_PIDS 8
#define SIM_MAX_SAMPLES (16 * 1024 * 1024)
#define SIM_TIMEOUT_US (10 * 1000000LL)
#define SIM_MAX_EVENTS_PER_HB 500

enum st { ST_IDLE, ST_CONNECT, ST_HANDSHAKE, ST_WRITE, ST_READ, ST_DONE };
enum err {
	E_CONNECT,
	E_TLS,
	E_IO,
	E_TIMEOUT,
	E_HTTP_PARSE,
	E_HTTP_4XX,
	E_HTTP_429,
	E_HTTP_5XX,
	E_ACT_PARSE,
	E_NKINDS
};
static const char *err_names[E_NKINDS] = {"connect",  "tls_handshake", "io_or_reset",
                                          "timeout",  "http_parse",    "http_4xx",
                                          "http_429", "http_5xx",      "activation_response"};

struct agent {
	int fd;
	SSL *ssl;
	EVP_PKEY *key;
	X509 *cert;
	SSL_SESSION *sess;
	enum st state;
	int activated;
	int down;     /* last attempt failed: not yet back (reconnect storm) */
	int failures; /* in a row: the agent's back-off (hbsched.h) */
	int64_t due;  /* the one timer: next start, or the in-flight deadline */
	int64_t sent; /* when the current request started (monotonic us) */
	int heap_pos; /* -1: not in the heap */
	char *out;    /* the request being written */
	size_t outlen, outoff;
	char *act_req;  /* the activation request, made before the timed part */
	char *cert_pem; /* the certificate received, parsed after the timed part */
	size_t act_reqlen;
	char *in; /* allocated while a connection is open */
	size_t inlen;
	uint64_t seq;     /* next event sequence */
	double ev_credit; /* events owed since the last heartbeat */
	uint32_t idx;
};

struct sim {
	const char *host;
	int port;
	const char *ca_file;
	const char *token;
	const char *path;
	const char *save, *load;
	int mode_reconnect;
	int64_t n_activate;
	int concurrency;
	double interval_ms, jitter, duration_s, warmup_s, event_rate;
	double activate_timeout_s;
	int pids[SIM_MAX_PIDS], npids;
	int no_keep;
	int source_ips;
	int64_t skip;       /* identities passed over when loading */
	const char *policy;      /* sent with activations: a name or ID */
	const char *name_prefix; /* host names are PREFIX-0000000... */
	int64_t max_agents, n_stop;
	double stop_after_s, ramp_s;
	const char *stop_file;

	SSL_CTX *ctx;
	int ep;
	struct agent *a;
	size_t na;
	struct agent **heap;
	size_t nheap;
	int activating;   /* phase 1 (activation) or phase 2 (heartbeats) */
	int64_t act_next; /* next agent index to activate */
	int64_t act_done, act_inflight;
	int64_t t0, t_measure, t_end; /* monotonic us */
	int stopping;
	/* statistics of the phase being measured */
	uint64_t ok, ok_total, errs_warmup, errs[E_NKINDS], handshakes, resumed, server_closes,
	    events_sent;
	uint32_t *lat;
	size_t nlat;
	size_t resp_bytes_last;
	int64_t first_down, last_up; /* reconnect storm */
	size_t ndown;
	int64_t recovery_us;
};

static volatile sig_atomic_t sim_interrupted;
static struct sim *sim_global; /* for on_new_session */

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double
rnd01(void)
{
	return (double)random() / ((double)RAND_MAX + 1.0);
}

/* ---- timers: one binary min-heap of agents on their due time ---- */

static void
heap_swap(struct sim *s, size_t i, size_t j)
{
	struct agent *t = s->heap[i];

	s->heap[i] = s->heap[j];
	s->heap[j] = t;
	s->heap[i]->heap_pos = (int)i;
	s->heap[j]->heap_pos = (int)j;
}

static void
heap_up(struct sim *s, size_t i)
{
	while (i > 0 && s->heap[(i - 1) / 2]->due > s->heap[i]->due) {
		heap_swap(s, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(struct sim *s, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < s->nheap && s->heap[l]->due < s->heap[m]->due)
			m = l;
		if (r < s->nheap && s->heap[r]->due < s->heap[m]->due)
			m = r;
		if (m == i)
			return;
		heap_swap(s, i, m);
		i = m;
	}
}

static void
heap_remove(struct sim *s, struct agent *a)
{
	size_t i;

	if (a->heap_pos < 0)
		return;
	i = (size_t)a->heap_pos;
	a->heap_pos = -1;
	if (i == --s->nheap)
		return;
	s->heap[i] = s->heap[s->nheap];
	s->heap[i]->heap_pos = (int)i;
	heap_up(s, i);
	heap_down(s, (size_t)s->heap[i]->heap_pos);
}

static void
timer_set(struct sim *s, struct agent *a, int64_t due)
{
	heap_remove(s, a);
	a->due = due;
	a->heap_pos = (int)s->nheap;
	s->heap[s->nheap++] = a;
	heap_up(s, (size_t)a->heap_pos);
}

/* ---- /proc ---- */

static double
proc_cpu_s(int pid)
{
	char path[64], buf[2048], *p, *end;
	unsigned long long v, ticks = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the command name may hold spaces; field 3 (state) follows its ')' */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return -1;
	p += 2;
	for (int field = 3; field <= 15; field++) {
		if (field == 3) {
			p = strchr(p, ' ');
			if (p == NULL)
				return -1;
			continue;
		}
		v = strtoull(p, &end, 10);
		if (end == p)
			return -1;
		if (field >= 14)
			ticks += v; /* utime, stime */
		p = end;
	}
	return (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

/* VmRSS (or another "Name:" line) of /proc/PID/status in kB, -1 if unknown. */
static long long
proc_status_kb(int pid, const char *name)
{
	char path[64], line[256];
	size_t nl = strlen(name);
	long long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
			kb = strtoll(line + nl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

static double
pids_cpu_s(struct sim *s)
{
	double t = 0;

	for (int i = 0; i < s->npids; i++) {
		double v = proc_cpu_s(s->pids[i]);

		if (v > 0)
			t += v;
	}
	return t;
}

/* ---- requests ---- */

/*
 * The activation request: a new key and CSR, as a real agent makes them.
 * phase_activate() makes every agent's before it starts the clock, so that
 * the figure is the manager's (an agent's key generation is the agent's
 * cost, and it shares this machine's cores with the manager).
 */
static int
prepare_activate(struct sim *s, struct agent *a)
{
	char *csr, *body;
	json_t *o;
	char host[64];
	size_t bl;

	if (a->act_req != NULL)
		return 0;
	if (a->key == NULL && (a->key = pki_key_new()) == NULL)
		return -1;
	csr = pki_csr_new(a->key, "vigil-sim");
	snprintf(host, sizeof(host), "%.40s-%07u", s->name_prefix, a->idx);
	o = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "token", s->token, "csr", csr ? csr : "",
	              "host", "hostname", host, "platform", "vigil-sim", "agent_version", "0.1.0");
	if (o != NULL && s->policy != NULL)
		json_object_set_new(o, "policy", json_string(s->policy));
	body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	free(csr);
	if (body == NULL)
		return -1;
	bl = strlen(body);
	a->act_req = malloc(bl + 256);
	if (a->act_req != NULL)
		a->act_reqlen =
		    (size_t)snprintf(a->act_req, bl + 256,
		                     "POST /agent/v1/activate HTTP/1.1\r\nHost: %s\r\n"
		                     "Content-Type: application/json\r\n"
		                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		                     s->host, bl, body);
	free(body);
	return a->act_req ? 0 : -1;
}

static void
build_activate(struct sim *s, struct agent *a)
{
	if (prepare_activate(s, a) < 0) {
		a->out = NULL;
		a->outlen = a->outoff = 0;
		return;
	}
	a->out = malloc(a->act_reqlen);
	a->outlen = a->out ? a->act_reqlen : 0;
	if (a->out != NULL)
		memcpy(a->out, a->act_req, a->act_reqlen);
	a->outoff = 0;
}

static void
build_heartbeat(struct sim *s, struct agent *a)
{
	char *p;
	size_t cap = SIM_OUT_MAX, len = 0, hdr;
	int nev, i;
	char body[SIM_OUT_MAX - 512];
	int64_t now = wall_ms();

	nev = (int)a->ev_credit;
	if (nev > SIM_MAX_EVENTS_PER_HB)
		nev = SIM_MAX_EVENTS_PER_HB;
	a->ev_credit -= nev;
	len = (size_t)snprintf(body, sizeof(body),
	                       "{\"hostname\":\"sim-%07u\",\"platform\":\"vigil-sim\","
	                       "\"agent_version\":\"0.1.0\",\"clock_ms\":%" PRId64
	                       ",\"uptime_s\":%" PRId64,
	                       a->idx, now, (now / 1000) % 100000);
	if (nev > 0) {
		len += (size_t)snprintf(body + len, sizeof(body) - len, ",\"events\":[");
		for (i = 0; i < nev && len < sizeof(body) - 200; i++)
			len += (size_t)snprintf(body + len, sizeof(body) - len,
			                        "%s{\"seq\":%" PRIu64
			                        ",\"id\":4000,\"time_ms\":%" PRId64
			                        ",\"description\":\"simulated event\"}",
			                        i ? "," : "", a->seq++, now);
		len += (size_t)snprintf(body + len, sizeof(body) - len, "]");
		s->events_sent += (uint64_t)i;
	}
	len += (size_t)snprintf(body + len, sizeof(body) - len, "}");
	p = malloc(cap);
	hdr = (size_t)snprintf(p, cap,
	                       "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
	                       "Content-Length: %zu\r\n%s\r\n",
	                       s->path, s->host, len,
	                       s->mode_reconnect ? "Connection: close\r\n" : "");
	memcpy(p + hdr, body, len);
	a->out = p;
	a->outlen = hdr + len;
	a->outoff = 0;
}

/* ---- connections ---- */

/*
 * A session ticket arrived: the agent resumes with it next time.  Never an
 * activation's session: it has no client certificate, so a heartbeat on it
 * would be anonymous.  1: the reference is kept.
 */
static int
on_new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct agent *a = SSL_get_app_data(ssl);

	if (a == NULL || sim_global == NULL || sim_global->activating ||
	    !SSL_SESSION_is_resumable(sess))
		return 0;
	SSL_SESSION_free(a->sess);
	a->sess = sess;
	return 1;
}

static void
conn_close(struct sim *s, struct agent *a, int clean)
{
	if (a->ssl) {
		/* keep the session resumable: SSL_free without a sent
		 * close_notify marks it bad (the tickets are kept by
		 * on_new_session) */
		if (clean)
			SSL_shutdown(a->ssl);
		SSL_free(a->ssl);
		a->ssl = NULL;
	}
	if (a->fd >= 0) {
		close(a->fd);
		a->fd = -1;
	}
	free(a->in);
	a->in = NULL;
	a->inlen = 0;
}

static void
req_free(struct agent *a)
{
	free(a->out);
	a->out = NULL;
}

static int64_t
next_delay_us(struct sim *s)
{
	double d = s->interval_ms * 1000.0;

	if (d <= 0)
		return 0;
	d *= 1.0 + s->jitter * (2.0 * rnd01() - 1.0);
	return (int64_t)d;
}

static uint64_t
rnd64(void)
{
	return ((uint64_t)random() << 33) ^ ((uint64_t)random() << 11) ^ (uint64_t)random();
}

/* The policy interval the agents' back-off is capped by (whole seconds). */
static int64_t
interval_s(const struct sim *s)
{
	int64_t i = (int64_t)(s->interval_ms / 1000);

	return i < 1 ? 1 : i;
}

static void
count_err(struct sim *s, struct agent *a, enum err e, int64_t now)
{
	if (now >= s->t_measure || s->activating)
		s->errs[e]++;
	else
		s->errs_warmup++;
	if (!a->down) {
		a->down = 1;
		s->ndown++;
		if (s->first_down == 0)
			s->first_down = now;
	}
}

static void
fail(struct sim *s, struct agent *a, enum err e)
{
	int64_t now = mono_us();
	int64_t retry;

	count_err(s, a, e, now);
	conn_close(s, a, 0);
	req_free(a);
	if (s->activating) {
		s->act_inflight--;
		a->state = ST_IDLE;
		/* the manager asks for 1 s; retry with jitter as agents do */
		timer_set(s, a, now + 500000 + (int64_t)(rnd01() * 1000000));
		return;
	}
	a->state = ST_IDLE;
	/* back off as vigil-agent does: exponential with jitter (hbsched.h) */
	a->failures++;
	retry = hb_backoff_ms(a->failures, interval_s(s), rnd64()) * 1000;
	timer_set(s, a, now + retry);
}

static void start_request(struct sim *s, struct agent *a);

/*
 * One address of 127.0.0.1-127.0.0.N per agent: one source address has
 * about 28 000 ephemeral ports, so 100 000 connections to one port need
 * several.  The port is picked at connect().
 */
static int
source_bind(struct sim *s, struct agent *a)
{
	struct sockaddr_in src;
	int one = 1;

	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(0x7f000001u + a->idx % (uint32_t)s->source_ips);
	setsockopt(a->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	return bind(a->fd, (struct sockaddr *)&src, sizeof(src));
}

static void
record_ok(struct sim *s, struct agent *a, int64_t now)
{
	s->ok_total++;
	a->failures = 0;
	if (a->down) {
		a->down = 0;
		s->ndown--;
		s->last_up = now;
		if (s->ndown == 0 && s->first_down)
			s->recovery_us = now - s->first_down;
	}
	if (now < s->t_measure)
		return;
	s->ok++;
	if (s->lat && s->nlat < SIM_MAX_SAMPLES) {
		int64_t l = now - a->sent;

		s->lat[s->nlat++] = l > UINT32_MAX ? UINT32_MAX : (uint32_t)l;
	}
}

static int
activation_result(struct sim *s, struct agent *a, const char *body, size_t len)
{
	json_error_t jerr;
	json_t *o = json_loadb(body, len, 0, &jerr);
	const char *pem = NULL;
	int rc = -1;

	if (o == NULL || json_unpack(o, "{s:s}", "certificate", &pem) < 0 ||
	    strncmp(pem, "-----BEGIN CERTIFICATE-----", 27) != 0)
		goto out;
	/* parsed after the timed part (phase_activate): decoding it is the agent's cost */
	free(a->cert_pem);
	a->cert_pem = strdup(pem);
	if (a->cert_pem == NULL)
		goto out;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* A complete response is in a->in: hdr bytes of head, then the body. */
static void
response(struct sim *s, struct agent *a, int status, int closes, size_t hdr, size_t blen)
{
	int64_t now = mono_us();
	enum err e = E_HTTP_4XX;

	s->resp_bytes_last = blen;
	if (status != 200) {
		if (status == 429)
			e = E_HTTP_429;
		else if (status >= 500)
			e = E_HTTP_5XX;
		if (getenv("VIGIL_SIM_DEBUG"))
			fprintf(stderr, "vigil-sim: HTTP %d: %.*s\n", status, (int)blen,
			        a->in + hdr);
		fail(s, a, e);
		return;
	}
	if (s->activating) {
		if (activation_result(s, a, a->in + hdr, blen) < 0) {
			fail(s, a, E_ACT_PARSE);
			return;
		}
		record_ok(s, a, now);
		a->activated = 1;
		s->act_done++;
		s->act_inflight--;
		conn_close(s, a, 1);
		req_free(a);
		free(a->act_req);
		a->act_req = NULL;
		a->state = ST_DONE;
		heap_remove(s, a);
		if (s->no_keep) {
			free(a->cert_pem);
			a->cert_pem = NULL;
			EVP_PKEY_free(a->key);
			a->key = NULL;
		}
		return;
	}
	record_ok(s, a, now);
	req_free(a);
	a->inlen = 0;
	if (s->mode_reconnect || closes) {
		conn_close(s, a, 1);
	}
	/* 100 000 idle connections must not hold 64 KiB each */
	free(a->in);
	a->in = NULL;
	a->state = ST_IDLE;
	if (s->interval_ms <= 0 && !s->stopping) {
		start_request(s, a);
		return;
	}
	timer_set(s, a, now + next_delay_us(s));
}

/* Parses the head in a->in; 1 when a whole response is there. */
static int
parse_response(struct sim *s, struct agent *a)
{
	char *end, *p, *line;
	int status, closes = 0;
	long long clen = -1;
	size_t hdr;

	a->in[a->inlen] = '\0';
	if ((end = strstr(a->in, "\r\n\r\n")) == NULL)
		return a->inlen >= SIM_IN_MAX - 1 ? -1 : 0;
	hdr = (size_t)(end - a->in) + 4;
	if (strncmp(a->in, "HTTP/1.1 ", 9) != 0 && strncmp(a->in, "HTTP/1.0 ", 9) != 0)
		return -1;
	status = (int)strtol(a->in + 9, NULL, 10);
	for (line = strstr(a->in, "\r\n") + 2; line < end; line = strstr(line, "\r\n") + 2) {
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			clen = strtoll(line + 15, NULL, 10);
		else if (strncasecmp(line, "Connection:", 11) == 0) {
			for (p = line + 11; *p == ' '; p++)
				;
			if (strncasecmp(p, "close", 5) == 0)
				closes = 1;
		}
	}
	if (clen < 0 || clen > SIM_IN_MAX - 1 - (long long)hdr)
		return -1;
	if (a->inlen < hdr + (size_t)clen)
		return 0;
	response(s, a, status, closes, hdr, (size_t)clen);
	return 1;
}

static int
ssl_want(struct sim *s, struct agent *a, int r, enum err e)
{
	int se = SSL_get_error(a->ssl, r);

	if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE)
		return 0;
	if (getenv("VIGIL_SIM_DEBUG")) {
		char buf[256];

		ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
		fprintf(stderr, "vigil-sim: agent %u: %s: ssl error %d: %s\n", a->idx, err_names[e],
		        se, buf);
	}
	ERR_clear_error();
	fail(s, a, e);
	return -1;
}

/* Runs a's state machine until it would block. */
static void
agent_io(struct sim *s, struct agent *a, uint32_t events)
{
	int r, soerr;
	socklen_t sl = sizeof(soerr);

	switch (a->state) {
	case ST_IDLE:
		/* kept-alive connection closed by the server while idle, or a
		 * session ticket: drain quietly */
		if (a->ssl && (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
			int64_t now = mono_us();

			s->server_closes++;
			/* the manager said close_notify: answering it keeps the
			 * session resumable (an unclean SSL_free marks it bad),
			 * as libcurl does when it drops a dead connection */
			conn_close(s, a, 1);
			/* a manager restart: the agent is cut off until it is
			 * back.  Like vigil-agent (libcurl finds the kept-alive
			 * connection dead when it next uses it), it reconnects at
			 * its next heartbeat, already on the timer. */
			if (!a->down) {
				a->down = 1;
				s->ndown++;
				if (s->first_down == 0)
					s->first_down = now;
			}
			if (!s->stopping && !s->activating && a->heap_pos < 0)
				timer_set(s, a, now + next_delay_us(s));
		}
		return;
	case ST_DONE:
		return;
	case ST_CONNECT:
		if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
			fail(s, a, E_CONNECT);
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		a->ssl = SSL_new(s->ctx);
		SSL_set_fd(a->ssl, a->fd);
		SSL_set_app_data(a->ssl, a);
		if (!s->activating) {
			SSL_use_certificate(a->ssl, a->cert);
			SSL_use_PrivateKey(a->ssl, a->key);
			if (a->sess)
				SSL_set_session(a->ssl, a->sess);
		}
		SSL_set_connect_state(a->ssl);
		a->state = ST_HANDSHAKE;
		/* fall through */
	case ST_HANDSHAKE:
		r = SSL_do_handshake(a->ssl);
		if (r != 1) {
			ssl_want(s, a, r, E_TLS);
			return;
		}
		if (mono_us() >= s->t_measure) {
			s->handshakes++;
			if (SSL_session_reused(a->ssl))
				s->resumed++;
		}
		a->state = ST_WRITE;
		/* fall through */
	case ST_WRITE:
		while (a->outoff < a->outlen) {
			r = SSL_write(a->ssl, a->out + a->outoff, (int)(a->outlen - a->outoff));
			if (r <= 0) {
				ssl_want(s, a, r, E_IO);
				return;
			}
			a->outoff += (size_t)r;
		}
		a->state = ST_READ;
		a->inlen = 0;
		/* fall through */
	case ST_READ:
		for (;;) {
			r = SSL_read(a->ssl, a->in + a->inlen, (int)(SIM_IN_MAX - 1 - a->inlen));
			if (r <= 0) {
				ssl_want(s, a, r, E_IO);
				return;
			}
			a->inlen += (size_t)r;
			r = parse_response(s, a);
			if (r < 0) {
				fail(s, a, E_HTTP_PARSE);
				return;
			}
			if (r > 0)
				return;
		}
	}
}

static void
start_request(struct sim *s, struct agent *a)
{
	struct sockaddr_in sin;
	int one = 1;

	if (s->activating) {
		build_activate(s, a);
		s->act_inflight++;
	} else {
		a->ev_credit +=
		    s->event_rate * (s->interval_ms > 0 ? s->interval_ms / 1000.0 : 0.01);
		build_heartbeat(s, a);
	}
	a->sent = mono_us();
	timer_set(s, a, a->sent + SIM_TIMEOUT_US);
	if (a->in == NULL)
		a->in = malloc(SIM_IN_MAX);
	a->inlen = 0;
	if (a->ssl) {
		a->state = ST_WRITE;
		agent_io(s, a, EPOLLOUT);
		return;
	}
	a->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd < 0) {
		fail(s, a, E_CONNECT);
		return;
	}
	setsockopt(a->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (s->source_ips > 1 && source_bind(s, a) < 0) {
		fail(s, a, E_CONNECT);
		return;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)s->port);
	inet_pton(AF_INET, s->host, &sin.sin_addr);
	a->state = ST_CONNECT;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
	                         .data.ptr = a};
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, a->fd, &ev) < 0) {
		fail(s, a, E_CONNECT);
		return;
	}
	if (connect(a->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS) {
		fail(s, a, E_CONNECT);
		return;
	}
}

/* ---- identities on disk ---- */

static int
ids_save(struct sim *s)
{
	FILE *f = fopen(s->save, "w");
	size_t n = 0;

	if (f == NULL)
		return -1;
	for (size_t i = 0; i < s->na; i++) {
		if (!s->a[i].activated || !s->a[i].cert)
			continue;
		PEM_write_PrivateKey(f, s->a[i].key, NULL, NULL, 0, NULL, NULL);
		PEM_write_X509(f, s->a[i].cert);
		n++;
	}
	fclose(f);
	return (int)n;
}

static int
ids_load(struct sim *s)
{
	FILE *f = fopen(s->load, "r");
	size_t cap = 1024;

	if (f == NULL)
		return -1;
	s->a = calloc(cap, sizeof(*s->a));
	for (;;) {
		EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		X509 *c;

		if (k == NULL)
			break;
		if ((c = PEM_read_X509(f, NULL, NULL, NULL)) == NULL) {
			EVP_PKEY_free(k);
			break;
		}
		if (s->skip > 0) {
			s->skip--;
			EVP_PKEY_free(k);
			X509_free(c);
			continue;
		}
		if (s->max_agents && (int64_t)s->na >= s->max_agents) {
			EVP_PKEY_free(k);
			X509_free(c);
			break;
		}
		if (s->na == cap) {
			cap *= 2;
			s->a = realloc(s->a, cap * sizeof(*s->a));
		}
		memset(&s->a[s->na], 0, sizeof(s->a[0]));
		s->a[s->na].key = k;
		s->a[s->na].cert = c;
		s->a[s->na].activated = 1;
		s->na++;
	}
	ERR_clear_error();
	fclose(f);
	return 0;
}

/* ---- the loop ---- */

static void
loop_once(struct sim *s, int64_t max_wait_us)
{
	struct epoll_event evs[512];
	int64_t now = mono_us(), wait;
	int n;

	while (s->nheap > 0 && s->heap[0]->due <= now) {
		struct agent *a = s->heap[0];

		if (a->state != ST_IDLE) {
			fail(s, a,
			     a->state == ST_CONNECT     ? E_CONNECT
			     : a->state == ST_HANDSHAKE ? E_TLS
			                                : E_TIMEOUT);
			continue;
		}
		if (s->stopping || (s->activating && s->act_inflight >= s->concurrency)) {
			heap_remove(s, a);
			if (s->activating && !s->stopping)
				timer_set(s, a, now + 1000);
			continue;
		}
		start_request(s, a);
	}
	wait = max_wait_us;
	if (s->nheap > 0 && s->heap[0]->due - now < wait)
		wait = s->heap[0]->due - now;
	if (wait < 0)
		wait = 0;
	n = epoll_wait(s->ep, evs, 512, (int)((wait + 999) / 1000));
	for (int i = 0; i < n; i++)
		agent_io(s, evs[i].data.ptr, evs[i].events);
}

static void
on_signal(int sig)
{
	(void)sig;
	sim_interrupted = 1;
}

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

static double
pct(struct sim *s, double p)
{
	size_t i;

	if (s->nlat == 0)
		return 0;
	i = (size_t)(p * (double)(s->nlat - 1) + 0.5);
	return s->lat[i] / 1000.0;
}

static json_t *
stats_json(struct sim *s, double wall_s, double cpu0, double cpu1)
{
	json_t *o = json_object(), *e = json_object();
	uint64_t total_err = 0;

	qsort(s->lat, s->nlat, sizeof(*s->lat), cmp_u32);
	for (int i = 0; i < E_NKINDS; i++) {
		json_object_set_new(e, err_names[i], json_integer((json_int_t)s->errs[i]));
		total_err += s->errs[i];
	}
	json_object_set_new(o, "ok", json_integer((json_int_t)s->ok));
	json_object_set_new(o, "seconds", json_real(wall_s));
	json_object_set_new(o, "per_s", json_real(wall_s > 0 ? (double)s->ok / wall_s : 0));
	json_object_set_new(o, "p50_ms", json_real(pct(s, 0.50)));
	json_object_set_new(o, "p99_ms", json_real(pct(s, 0.99)));
	json_object_set_new(o, "p999_ms", json_real(pct(s, 0.999)));
	json_object_set_new(o, "max_ms", json_real(s->nlat ? s->lat[s->nlat - 1] / 1000.0 : 0));
	json_object_set_new(o, "errors", json_integer((json_int_t)total_err));
	json_object_set_new(o, "errors_by_kind", e);
	json_object_set_new(o, "errors_in_warmup", json_integer((json_int_t)s->errs_warmup));
	json_object_set_new(o, "handshakes", json_integer((json_int_t)s->handshakes));
	json_object_set_new(o, "resumed", json_integer((json_int_t)s->resumed));
	json_object_set_new(o, "server_closes_idle", json_integer((json_int_t)s->server_closes));
	json_object_set_new(o, "events_sent", json_integer((json_int_t)s->events_sent));
	json_object_set_new(o, "response_body_bytes", json_integer((json_int_t)s->resp_bytes_last));
	if (s->npids) {
		double cpu = cpu1 - cpu0;
		long long rss = 0, hwm = 0;

		for (int i = 0; i < s->npids; i++) {
			rss += proc_status_kb(s->pids[i], "VmRSS");
			hwm += proc_status_kb(s->pids[i], "VmHWM");
		}
		json_object_set_new(o, "server_cpu_s", json_real(cpu));
		json_object_set_new(o, "server_cores", json_real(wall_s > 0 ? cpu / wall_s : 0));
		json_object_set_new(o, "per_server_core_s",
		                    json_real(cpu > 0 ? (double)s->ok / cpu : 0));
		json_object_set_new(o, "server_rss_kb", json_integer(rss));
		json_object_set_new(o, "server_hwm_kb", json_integer(hwm));
	}
	return o;
}

static void
stats_reset(struct sim *s)
{
	s->errs_warmup = 0;
	s->ok = s->handshakes = s->resumed = s->server_closes = s->events_sent = 0;
	memset(s->errs, 0, sizeof(s->errs));
	s->nlat = 0;
}

static json_t *
phase_activate(struct sim *s)
{
	int64_t p0 = mono_us(), t0, deadline;
	double cpu0, cpu1;
	size_t started = 0, k, bad = 0;
	json_t *o;

	/* keys and CSRs first: the clock measures the manager, not key generation */
	for (k = 0; k < s->na && !sim_interrupted; k++)
		if (prepare_activate(s, &s->a[k]) < 0)
			fprintf(stderr, "vigil-sim: agent %zu: cannot make the key and CSR\n", k);
	t0 = mono_us();
	deadline = t0 + (int64_t)(s->activate_timeout_s * 1e6);
	cpu0 = pids_cpu_s(s);

	s->activating = 1;
	s->t_measure = t0;
	stats_reset(s);
	while ((size_t)s->act_done < s->na && !sim_interrupted && mono_us() < deadline) {
		/* keep `concurrency` activations in flight */
		while (started < s->na && s->act_inflight < s->concurrency) {
			struct agent *a = &s->a[started++];

			start_request(s, a);
		}
		loop_once(s, 100000);
	}
	cpu1 = pids_cpu_s(s);
	o = stats_json(s, (mono_us() - t0) / 1e6, cpu0, cpu1);
	json_object_set_new(o, "activated", json_integer((json_int_t)s->act_done));
	json_object_set_new(o, "prepare_s", json_real((t0 - p0) / 1e6));
	for (k = 0; k < s->na; k++) {
		struct agent *a = &s->a[k];
		if (a->cert_pem == NULL)
			continue;
		a->cert = pki_cert_parse(a->cert_pem, strlen(a->cert_pem));
		free(a->cert_pem);
		a->cert_pem = NULL;
		if (a->cert == NULL) {
			a->activated = 0;
			bad++;
		}
	}
	json_object_set_new(o, "bad_certificates", json_integer((json_int_t)bad));
	s->stopping = 1;
	for (size_t i = 0; i < s->na; i++) {
		if (s->a[i].state != ST_DONE && s->a[i].state != ST_IDLE) {
			conn_close(s, &s->a[i], 0);
			req_free(&s->a[i]);
		}
		heap_remove(s, &s->a[i]);
		s->a[i].state = ST_IDLE;
	}
	s->stopping = 0;
	s->activating = 0;
	return o;
}

/* The last n_stop agents go silent at once (no goodbye): offline detection. */
static void
stop_agents(struct sim *s)
{
	FILE *f = s->stop_file ? fopen(s->stop_file, "w") : NULL;
	int64_t t = wall_ms();
	char cn[64];

	for (size_t i = s->na > (size_t)s->n_stop ? s->na - (size_t)s->n_stop : 0; i < s->na; i++) {
		struct agent *a = &s->a[i];

		if (a->state == ST_DONE || !a->cert)
			continue;
		conn_close(s, a, 0);
		req_free(a);
		heap_remove(s, a);
		if (a->down) {
			a->down = 0;
			s->ndown--;
		}
		a->state = ST_DONE;
		if (f && pki_cert_cn(a->cert, cn, sizeof(cn)) == 0)
			fprintf(f, "%s %" PRId64 "\n", cn, t);
	}
	if (f)
		fclose(f);
}

static json_t *
phase_heartbeat(struct sim *s)
{
	int64_t t0 = mono_us(), tend;
	double cpu0 = 0, cpu1;
	int measuring = 0, stopped = 0;
	json_t *o;
	size_t n = 0;

	stats_reset(s);
	s->t_measure = t0 + (int64_t)(s->warmup_s * 1e6);
	tend = s->t_measure + (int64_t)(s->duration_s * 1e6);
	s->ndown = 0;
	s->first_down = 0;
	s->recovery_us = 0;
	for (size_t i = 0; i < s->na; i++) {
		struct agent *a = &s->a[i];

		if (!a->activated || !a->cert)
			continue;
		a->state = ST_IDLE;
		a->down = 0;
		a->seq = (uint64_t)wall_ms() * 1000;
		/* spread the first connections over --ramp, else one interval
		 * (or half the warm-up): full handshakes cost the server ~1 ms */
		timer_set(s, a,
		          t0 + (int64_t)(rnd01() * (s->ramp_s > 0        ? s->ramp_s * 1e6
		                                    : s->interval_ms > 0 ? s->interval_ms * 1000.0
		                                                         : s->warmup_s * 5e5)));
		n++;
	}
	while (!sim_interrupted) {
		int64_t now = mono_us();

		if (!measuring && now >= s->t_measure) {
			measuring = 1;
			cpu0 = pids_cpu_s(s);
			/* recovery is timed from the first agent cut off in the
			 * measured phase (a restart), not from a warm-up failure */
			s->first_down = s->ndown ? now : 0;
			s->recovery_us = 0;
		}
		if (now >= tend)
			break;
		if (s->n_stop && !stopped &&
		    now >= s->t_measure + (int64_t)(s->stop_after_s * 1e6)) {
			stop_agents(s);
			stopped = 1;
		}
		loop_once(s, 50000);
	}
	cpu1 = pids_cpu_s(s);
	o = stats_json(s, (mono_us() - s->t_measure) / 1e6, cpu0, cpu1);
	json_object_set_new(o, "agents", json_integer((json_int_t)n));
	json_object_set_new(o, "mode", json_string(s->mode_reconnect ? "reconnect" : "keepalive"));
	json_object_set_new(o, "agents_down_at_end", json_integer((json_int_t)s->ndown));
	json_object_set_new(o, "recovery_ms", json_real(s->recovery_us / 1000.0));
	/* let in-flight requests finish (2 s at most), then close everything */
	s->stopping = 1;
	for (int64_t end = mono_us() + 2000000; mono_us() < end;) {
		int busy = 0;

		for (size_t i = 0; i < s->na && !busy; i++)
			busy = s->a[i].state != ST_IDLE && s->a[i].state != ST_DONE;
		if (!busy)
			break;
		loop_once(s, 10000);
	}
	for (size_t i = 0; i < s->na; i++) {
		conn_close(s, &s->a[i], 1);
		req_free(&s->a[i]);
		heap_remove(s, &s->a[i]);
	}
	return o;
}

static void
usage(void)
{
	fprintf(stderr,
	        "usage: vigil-sim --port PORT --ca CA.crt [options]\n"
	        "  --host IP            the manager (127.0.0.1)\n"
	        "  --activate N         activate N new agents (needs --token)\n"
	        "  --token TOKEN        activation token\n"
	        "  --concurrency C      activations in flight at once (64)\n"
	        "  --activate-timeout S give up activating after S seconds (120)\n"
	        "  --no-keep            forget identities after activation (memory runs)\n"
	        "  --save FILE | --load FILE   identities (PEM key + certificate per agent)\n"
	        "  --duration S         heartbeat phase length (0: none)\n"
	        "  --warmup S           not measured, before the duration (1)\n"
	        "  --mode keepalive|reconnect\n"
	        "  --interval MS        between heartbeats of one agent; 0: as fast as answered\n"
	        "  --jitter F           +-F of the interval (0.1)\n"
	        "  --events R           events per second per agent, sent with heartbeats (0)\n"
	        "  --path PATH          heartbeat path (/agent/v1/heartbeat)\n"
	        "  --ramp S             first connections spread over S s (one interval)\n"
	        "  --agents N           use only the first N identities loaded\n"
	        "  --skip K             pass over the first K identities of --load\n"
	        "  --policy P           activate with policy P (a name or ID)\n"
	        "  --name-prefix P      host names P-0000000, P-0000001... (sim)\n"
	        "  --stop K --stop-after S --stop-file FILE\n"
	        "                       K agents stop S s into the measured heartbeats;\n"
	        "                       FILE gets their GUID and stop time (epoch ms)\n"
	        "  --pid PID            process to read CPU and memory of (repeatable)\n"
	        "  --source-ips N       connect from 127.0.0.1-127.0.0.N (1; about 28 000\n"
	        "                       connections per address)\n");
	exit(2);
}

/* Everything the run allocated: so that a sanitizer build finds real leaks, not these. */
static void
sim_free(struct sim *s)
{
	size_t i;

	for (i = 0; s->a != NULL && i < s->na; i++) {
		struct agent *a = &s->a[i];
		if (a->fd >= 0)
			close(a->fd);
		SSL_free(a->ssl);
		SSL_SESSION_free(a->sess);
		EVP_PKEY_free(a->key);
		X509_free(a->cert);
		free(a->out);
		free(a->act_req);
		free(a->cert_pem);
		free(a->in);
	}
	free(s->a);
	free(s->heap);
	free(s->lat);
	SSL_CTX_free(s->ctx);
	if (s->ep >= 0)
		close(s->ep);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {{"host", 1, 0, 'H'},
	                                     {"port", 1, 0, 'p'},
	                                     {"ca", 1, 0, 'c'},
	                                     {"activate", 1, 0, 'a'},
	                                     {"token", 1, 0, 't'},
	                                     {"concurrency", 1, 0, 'C'},
	                                     {"save", 1, 0, 's'},
	                                     {"load", 1, 0, 'l'},
	                                     {"duration", 1, 0, 'd'},
	                                     {"warmup", 1, 0, 'w'},
	                                     {"mode", 1, 0, 'm'},
	                                     {"interval", 1, 0, 'i'},
	                                     {"jitter", 1, 0, 'j'},
	                                     {"events", 1, 0, 'e'},
	                                     {"path", 1, 0, 'P'},
	                                     {"pid", 1, 0, 'x'},
	                                     {"agents", 1, 0, 'n'},
	                                     {"stop", 1, 0, 'k'},
	                                     {"stop-after", 1, 0, 'A'},
	                                     {"stop-file", 1, 0, 'F'},
	                                     {"ramp", 1, 0, 'R'},
	                                     {"no-keep", 0, 0, 'K'},
	                                     {"source-ips", 1, 0, 'Q'},
	                                     {"skip", 1, 0, 'S'},
	                                     {"policy", 1, 0, 'Y'},
	                                     {"name-prefix", 1, 0, 'N'},
	                                     {"activate-timeout", 1, 0, 'T'},
	                                     {0, 0, 0, 0}};
	struct sim sim = {.host = "127.0.0.1",
	                  .name_prefix = "sim",
	                  .path = "/agent/v1/heartbeat",
	                  .concurrency = 64,
	                  .jitter = 0.1,
	                  .warmup_s = 1,
	                  .activate_timeout_s = 120};
	struct sim *s = &sim;
	json_t *out = json_object();
	int c;
	int64_t v;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			s->host = optarg;
			break;
		case 'p':
			if (parse_i64(optarg, 1, 65535, &v) < 0)
				usage();
			s->port = (int)v;
			break;
		case 'c':
			s->ca_file = optarg;
			break;
		case 'a':
			if (parse_i64(optarg, 0, 10000000, &s->n_activate) < 0)
				usage();
			break;
		case 't':
			s->token = optarg;
			break;
		case 'C':
			if (parse_i64(optarg, 1, 10000, &v) < 0)
				usage();
			s->concurrency = (int)v;
			break;
		case 's':
			s->save = optarg;
			break;
		case 'l':
			s->load = optarg;
			break;
		case 'd':
			s->duration_s = strtod(optarg, NULL);
			break;
		case 'w':
			s->warmup_s = strtod(optarg, NULL);
			break;
		case 'm':
			s->mode_reconnect = strcmp(optarg, "reconnect") == 0;
			if (!s->mode_reconnect && strcmp(optarg, "keepalive") != 0)
				usage();
			break;
		case 'i':
			s->interval_ms = strtod(optarg, NULL);
			break;
		case 'j':
			s->jitter = strtod(optarg, NULL);
			break;
		case 'e':
			s->event_rate = strtod(optarg, NULL);
			break;
		case 'P':
			s->path = optarg;
			break;
		case 'x':
			if (s->npids == SIM_MAX_PIDS || parse_i64(optarg, 1, 1 << 30, &v) < 0)
				usage();
			s->pids[s->npids++] = (int)v;
			break;
		case 'n':
			if (parse_i64(optarg, 1, 10000000, &s->max_agents) < 0)
				usage();
			break;
		case 'k':
			if (parse_i64(optarg, 0, 10000000, &s->n_stop) < 0)
				usage();
			break;
		case 'A':
			s->stop_after_s = strtod(optarg, NULL);
			break;
		case 'F':
			s->stop_file = optarg;
			break;
		case 'R':
			s->ramp_s = strtod(optarg, NULL);
			break;
		case 'S':
			s->skip = atoll(optarg);
			break;
		case 'Y':
			s->policy = optarg;
			break;
		case 'N':
			s->name_prefix = optarg;
			break;
		case 'Q':
			s->source_ips = atoi(optarg);
			if (s->source_ips < 1 || s->source_ips > 250)
				usage();
			break;
		case 'K':
			s->no_keep = 1;
			break;
		case 'T':
			s->activate_timeout_s = strtod(optarg, NULL);
			break;
		default:
			usage();
		}
	}
	if (s->port == 0 || s->ca_file == NULL || (s->n_activate && !s->token) ||
	    (!s->n_activate && !s->load))
		usage();
	if (s->duration_s > 3600 || s->duration_s < 0)
		usage();

	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	srandom((unsigned)getpid() ^ (unsigned)mono_us());
	{
		/* a process holding many agents needs more than 1024 descriptors */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}

	s->ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
	if (SSL_CTX_load_verify_locations(s->ctx, s->ca_file, NULL) != 1) {
		fprintf(stderr, "vigil-sim: cannot load %s\n", s->ca_file);
		return 1;
	}
	/* like vigil-agent: the chain is verified, the host name is not (PROTOCOL.md 1.3) */
	SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(s->ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
	/* keep every ticket the manager sends, at any time, as libcurl does */
	sim_global = s;
	SSL_CTX_sess_set_new_cb(s->ctx, on_new_session);
	SSL_CTX_set_mode(s->ctx, SSL_MODE_RELEASE_BUFFERS);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->lat = malloc(SIM_MAX_SAMPLES * sizeof(*s->lat));

	if (s->load) {
		if (ids_load(s) < 0) {
			fprintf(stderr, "vigil-sim: cannot read %s\n", s->load);
			return 1;
		}
	} else {
		s->na = (size_t)s->n_activate;
		s->a = calloc(s->na ? s->na : 1, sizeof(*s->a));
	}
	s->heap = calloc(s->na ? s->na : 1, sizeof(*s->heap));
	for (size_t i = 0; i < s->na; i++) {
		s->a[i].fd = -1;
		s->a[i].heap_pos = -1;
		s->a[i].idx = (uint32_t)i;
	}
	if (s->n_activate) {
		json_object_set_new(out, "activation", phase_activate(s));
		if (s->save)
			json_object_set_new(out, "saved", json_integer(ids_save(s)));
	}
	if (s->duration_s > 0 && !sim_interrupted)
		json_object_set_new(out, "heartbeat", phase_heartbeat(s));
	{
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		json_object_set_new(out, "sim_cpu_s",
		                    json_real(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		                              (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6));
		json_object_set_new(out, "sim_maxrss_kb", json_integer(ru.ru_maxrss));
	}
	json_dumpf(out, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	json_decref(out);
	sim_free(s);
	return 0;
}
