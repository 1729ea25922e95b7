/*
 * agentlink: see agentlink.h.
 */
#include "agentlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "httpresp.h"
#include "log.h"
#include "mgr.h"
#include "pki.h"
#include "util.h"

enum link_state { LK_CONNECTING, LK_HANDSHAKE, LK_WRITING, LK_READING };

void
links_init(struct links *l, SSL_CTX *ctx)
{
	memset(l, 0, sizeof(*l));
	l->ctx = ctx;
}

static void
link_free(struct mgr *m, struct link *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		m->links.head = k->next;
	if (k->next)
		k->next->prev = k->prev;
	m->links.n--;
	if (k->io.fd >= 0) {
		loop_del(&m->loop, &k->io);
		close(k->io.fd);
	}
	SSL_free(k->ssl);
	buf_clear(&k->out);
	buf_clear(&k->in);
	free(k);
}

/* Ends k: the callback with the answer (status > 0) or the reason. */
static void
link_finish(struct link *k, int status, const char *body, size_t len, const char *err)
{
	struct mgr *m = k->m;
	link_done_cb *done = k->done;
	int64_t id = k->computer_id;
	int op = k->op;
	char why[320];

	if (status == 0) {
		m->links.failed++;
		snprintf(why, sizeof(why), "%s: %s", k->where, err);
		err = why;
	}
	/* the callback may start another request: free this one first */
	if (body != NULL) {
		char *copy = malloc(len + 1);
		if (copy != NULL) {
			memcpy(copy, body, len);
			copy[len] = '\0';
		}
		link_free(m, k);
		done(m, id, op, copy ? status : 0, copy ? copy : "", copy ? len : 0,
		     copy ? err : "out of memory");
		free(copy);
		return;
	}
	link_free(m, k);
	done(m, id, op, status, "", 0, err);
}

static void
link_want(struct link *k, int want_write)
{
	loop_mod(&k->m->loop, &k->io, want_write ? EPOLLOUT : EPOLLIN);
}

/* The agent's certificate must name the computer we meant to call. */
static int
link_peer_ok(struct link *k, char *why, size_t whysize)
{
	X509 *peer = SSL_get1_peer_certificate(k->ssl);
	long vr = SSL_get_verify_result(k->ssl);
	char cn[64];
	int ok = 0;

	if (peer == NULL)
		snprintf(why, whysize, "the agent presented no certificate");
	else if (vr != X509_V_OK)
		snprintf(why, whysize, "the agent's certificate is not valid: %s",
		         X509_verify_cert_error_string(vr));
	else if (pki_cert_cn(peer, cn, sizeof(cn)) < 0 || strcmp(cn, k->guid) != 0)
		snprintf(why, whysize,
		         "another computer answered (certificate for %.40s, not %s): the address "
		         "belongs to someone else now",
		         pki_cert_cn(peer, cn, sizeof(cn)) < 0 ? "?" : cn, k->guid);
	else
		ok = 1;
	X509_free(peer);
	return ok;
}

/* A complete answer in k->in?  1 with status and body; 0 need more; -1 malformed. */
static int
link_parse(struct link *k, int eof, int *status, const char **body, size_t *blen)
{
	return httpresp_parse(k->in.data, k->in.len, eof, LINK_MAX_ANSWER, status, body, blen);
}

static void
link_io(struct loop_io *io, uint32_t events)
{
	struct link *k = (struct link *)io;
	char why[256], tmp[4096];
	int r, e;

	switch (k->state) {
	case LK_CONNECTING: {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (getsockopt(k->io.fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
			snprintf(why, sizeof(why), "cannot connect: %s",
			         strerror(soerr ? soerr : errno));
			link_finish(k, 0, NULL, 0, why);
			return;
		}
		k->state = LK_HANDSHAKE;
	}
		/* fall through */
	case LK_HANDSHAKE:
		r = SSL_connect(k->ssl);
		if (r != 1) {
			e = SSL_get_error(k->ssl, r);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
				link_want(k, e == SSL_ERROR_WANT_WRITE);
				return;
			}
			{
				unsigned long oe = ERR_get_error();
				snprintf(why, sizeof(why), "TLS handshake failed: %s",
				         oe ? ERR_reason_error_string(oe)
				            : "the agent closed the connection (it refused this "
				              "manager's "
				              "certificate?)");
			}
			ERR_clear_error();
			link_finish(k, 0, NULL, 0, why);
			return;
		}
		if (!link_peer_ok(k, why, sizeof(why))) {
			link_finish(k, 0, NULL, 0, why);
			return;
		}
		k->state = LK_WRITING;
		/* fall through */
	case LK_WRITING:
		while (k->out_off < k->out.len) {
			r = SSL_write(k->ssl, k->out.data + k->out_off,
			              (int)(k->out.len - k->out_off));
			if (r <= 0) {
				e = SSL_get_error(k->ssl, r);
				if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
					link_want(k, e == SSL_ERROR_WANT_WRITE);
					return;
				}
				ERR_clear_error();
				link_finish(k, 0, NULL, 0, "the connection broke while sending");
				return;
			}
			k->out_off += (size_t)r;
		}
		k->state = LK_READING;
		link_want(k, 0);
		/* fall through */
	case LK_READING:
		for (;;) {
			const char *body;
			size_t blen;
			int status, eof = 0, p;
			r = SSL_read(k->ssl, tmp, sizeof(tmp));
			if (r > 0) {
				if (buf_append(&k->in, tmp, (size_t)r) < 0) {
					link_finish(k, 0, NULL, 0,
					            "the answer is larger than 1 MiB");
					return;
				}
			} else {
				e = SSL_get_error(k->ssl, r);
				if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
					if (e == SSL_ERROR_WANT_WRITE)
						link_want(k, 1);
					/* maybe complete already (Content-Length) */
					p = link_parse(k, 0, &status, &body, &blen);
					if (p == 1)
						link_finish(k, status, body, blen, NULL);
					return;
				}
				ERR_clear_error();
				eof = 1;
			}
			p = link_parse(k, eof, &status, &body, &blen);
			if (p == 1) {
				link_finish(k, status, body, blen, NULL);
				return;
			}
			if (p < 0) {
				link_finish(k, 0, NULL, 0, "the agent's answer is not HTTP");
				return;
			}
		}
	}
	(void)events;
}

int
link_start(struct mgr *m, const struct computer *c, const char *addr, int port, int op,
           const char *method, const char *path, const char *body, link_done_cb *done, char *err,
           size_t errsize)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct link *k;
	size_t blen = body ? strlen(body) : 0;
	int fd;

	if (m->links.n >= LINK_MAX_INFLIGHT) {
		snprintf(err, errsize, "%d calls to agents are running already", LINK_MAX_INFLIGHT);
		return -1;
	}
	if (sockaddr_from_ip(addr, port, &ss, &sl) < 0) {
		snprintf(err, errsize, "no address known for the agent (\"%.64s\")", addr);
		return -1;
	}
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	k->io.fd = -1;
	k->io.cb = link_io;
	k->m = m;
	k->computer_id = c->id;
	k->op = op;
	k->done = done;
	str_copy(k->guid, c->guid, sizeof(k->guid));
	snprintf(k->where, sizeof(k->where), "%s port %d", addr, port);
	buf_init(&k->out, 64 * 1024 + 1024);
	buf_init(&k->in, LINK_MAX_ANSWER + 4096);
	k->next = m->links.head;
	if (k->next)
		k->next->prev = k;
	m->links.head = k;
	m->links.n++;
	if (buf_printf(&k->out,
	               "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: vigil-manager\r\n"
	               "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	               "Connection: close\r\n\r\n",
	               method, path, addr, blen) < 0 ||
	    (blen && buf_append(&k->out, body, blen) < 0)) {
		snprintf(err, errsize, "the request is too large");
		goto fail;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errsize, "cannot create a socket: %s", strerror(errno));
		goto fail;
	}
	k->io.fd = fd;
	k->ssl = SSL_new(m->links.ctx);
	if (k->ssl == NULL || SSL_set_fd(k->ssl, fd) != 1) {
		snprintf(err, errsize, "cannot set up TLS");
		goto fail;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		snprintf(err, errsize, "%s: cannot connect: %s", k->where, strerror(errno));
		goto fail;
	}
	k->state = LK_CONNECTING;
	k->deadline_mono = mono_ms() + LINK_TIMEOUT_MS;
	if (loop_add(&m->loop, &k->io, EPOLLOUT) < 0) {
		snprintf(err, errsize, "cannot watch the socket");
		goto fail;
	}
	m->links.started++;
	return 0;
fail:
	if (k->io.fd >= 0) {
		close(k->io.fd);
		k->io.fd = -1;
	}
	link_free(m, k);
	return -1;
}

void
links_expire(struct mgr *m, int64_t now_mono)
{
	struct link *k = m->links.head, *next;

	for (; k != NULL; k = next) {
		next = k->next;
		if (now_mono >= k->deadline_mono) {
			/* the callback may start a new request, at the head: next stays valid */
			link_finish(k, 0, NULL, 0,
			            k->state == LK_CONNECTING
			                ? "no answer to the connection (timed out)"
			                : "the agent did not answer in time");
		}
	}
}

void
links_clear(struct mgr *m)
{
	while (m->links.head != NULL) {
		struct link *k = m->links.head;
		link_free(m, k);
	}
}
