/*
 * server: see server.h.
 *
 * Each connection is on exactly one timeout list: handshaking (must finish
 * TLS within handshake_timeout), requesting (a request started, or a
 * response is being written: request_timeout) or idle (kept alive between
 * requests: idle_timeout).  A list has one timeout, so appending at the
 * tail keeps it sorted and expiry only looks at the heads.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "mgr.h"
#include "pki.h"
#include "tickets.h"
#include "util.h"

enum { C_HANDSHAKE, C_OPEN };

#define READ_CHUNK 16384
#define OUT_MAX (2 * HTTP_BODY_MAX)
#define ACCEPT_BATCH 64
#define API_RESERVE 64
/* storage kept between responses, per server (larger is freed after use) */
#define SPARE_KEEP (64u * 1024)

static void conn_cb(struct loop_io *io, uint32_t events);
static void conn_read(struct conn *c);
static void conn_write(struct conn *c);

static void
list_remove(struct conn *c)
{
	struct conn_list *l = c->list;

	if (l == NULL)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
	c->list = NULL;
}

static void
list_move(struct conn *c, struct conn_list *l)
{
	list_remove(c);
	c->list = l;
	c->since = mono_ms();
	c->prev = l->tail;
	c->next = NULL;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
}

/* Where a connection waits between requests. */
static struct conn_list *
conn_idle_list(struct conn *c)
{
	if (c->srv->anon_idle && c->peer != PEER_VALID)
		return &c->srv->idle_anon;
	return &c->srv->idle;
}

static void
conn_free(struct conn *c)
{
	struct server *srv = c->srv;

	list_remove(c);
	if (c->hold != NULL)
		c->hold->conn = NULL; /* its answer has nowhere to go */
	loop_del(&srv->m->loop, &c->io);
	if (c->ssl != NULL) {
		/* a clean close keeps the TLS session resumable */
		if (c->state == C_OPEN && !SSL_in_init(c->ssl))
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		/*
		 * A close after a failed read (the peer's EOF is fatal to the
		 * TLS state) makes SSL_shutdown queue "shutdown while in init";
		 * left on the thread's error queue it would make the next
		 * SSL_get_error() of any other connection report a failure.
		 */
		ERR_clear_error();
	}
	close(c->io.fd);
	httpreq_clear(&c->req);
	buf_clear(&c->out);
	srv->nconns--;
	free(c);
}

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Unknown";
}

static void
json_escape_into(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			buf_printf(b, "\\%c", ch);
		else if (ch < 0x20)
			buf_printf(b, "\\u%04x", ch);
		else
			buf_append(b, s, 1);
	}
}

void
http_error(struct http_response *resp, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	resp->status = status;
	resp->content_type = "application/json";
	buf_reset(&resp->body);
	buf_puts(&resp->body, "{\"error\":{\"code\":\"");
	json_escape_into(&resp->body, code);
	buf_puts(&resp->body, "\",\"message\":\"");
	json_escape_into(&resp->body, msg);
	buf_puts(&resp->body, "\"}}\n");
}

/* Writes v in decimal at p; returns the end. */
static char *
put_uint(char *p, size_t v)
{
	char tmp[24], *q = tmp + sizeof(tmp);

	do {
		*--q = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	memcpy(p, q, (size_t)(tmp + sizeof(tmp) - q));
	return p + (tmp + sizeof(tmp) - q);
}

#define PUT(p, text) (memcpy(p, text, sizeof(text) - 1), (p) + sizeof(text) - 1)

/*
 * c->out holds no storage while nothing waits to be written: a kept-alive
 * connection between heartbeats costs no buffer, and the next response takes
 * the server's spare storage back (no malloc per response).
 */
static void
out_take(struct conn *c)
{
	struct buf *spare = &c->srv->out_spare;

	if (c->out.data != NULL || spare->data == NULL)
		return;
	c->out.data = spare->data;
	c->out.cap = spare->cap;
	c->out.len = 0;
	spare->data = NULL;
	spare->cap = 0;
}

static void
out_give(struct conn *c)
{
	struct buf *spare = &c->srv->out_spare;

	if (spare->data == NULL && c->out.cap <= SPARE_KEEP) {
		spare->data = c->out.data;
		spare->cap = c->out.cap;
		c->out.data = NULL;
		c->out.len = c->out.cap = 0;
	} else
		buf_clear(&c->out);
	c->out_off = 0;
}

/* The status line and headers, then the body: memcpy and one integer, no printf. */
static int
conn_queue_response(struct conn *c, struct http_response *resp)
{
	struct buf *o = &c->out;
	const char *reason = http_reason(resp->status);
	const char *ctype = resp->content_type ? resp->content_type : "application/json";
	size_t rlen = strlen(reason), clen = strlen(ctype), hlen = strlen(resp->headers);
	char *p;

	out_take(c);
	/* the constant pieces, two numbers of at most 20 digits, the variable lines */
	if (buf_reserve(o, 160 + rlen + clen + hlen + resp->body.len) < 0)
		return -1;
	p = o->data + o->len;
	p = PUT(p, "HTTP/1.1 ");
	p = put_uint(p, resp->status > 0 ? (size_t)resp->status : 0);
	*p++ = ' ';
	memcpy(p, reason, rlen);
	p += rlen;
	p = PUT(p, "\r\nContent-Type: ");
	memcpy(p, ctype, clen);
	p += clen;
	p = PUT(p, "\r\nContent-Length: ");
	p = put_uint(p, resp->body.len);
	p = PUT(p, "\r\nCache-Control: no-store\r\n");
	if (resp->close)
		p = PUT(p, "Connection: close\r\n");
	memcpy(p, resp->headers, hlen);
	p += hlen;
	p = PUT(p, "\r\n");
	if (resp->body.len > 0)
		memcpy(p, resp->body.data, resp->body.len);
	p += resp->body.len;
	o->len = (size_t)(p - o->data);
	if (resp->close)
		c->close_after_write = 1;
	return 0;
}

static void
conn_respond_error(struct conn *c, int status, const char *msg)
{
	struct http_response resp;

	memset(&resp, 0, sizeof(resp));
	buf_init(&resp.body, 4096);
	http_error(&resp, status, status == 413 ? "body_too_large" : "bad_request", "%s%s",
		   status == 400 ? "malformed HTTP request: " : "", msg);
	resp.close = 1;
	conn_queue_response(c, &resp);
	buf_clear(&resp.body);
	c->srv->m->stats.bad_requests++;
	log_info("%s: %s: %d %s", c->srv->name, c->peer_ip, status, msg);
}

void
http_response_init(struct http_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	buf_init(&resp->body, HTTP_BODY_MAX);
	resp->status = 200;
	resp->content_type = "application/json";
}

void
http_response_clear(struct http_response *resp)
{
	buf_clear(&resp->body);
}

static void
conn_queue_or_500(struct conn *c, struct http_response *resp)
{
	if (conn_queue_response(c, resp) < 0) {
		buf_reset(&resp->body);
		http_error(resp, 500, "response_too_large", "response too large");
		resp->close = 1;
		conn_queue_response(c, resp);
	}
}

static void
conn_dispatch(struct conn *c)
{
	struct server *srv = c->srv;
	struct http_response resp;

	http_response_init(&resp);
	/* the body's storage is the server's, kept from one request to the next */
	resp.body = srv->body;
	buf_reset(&resp.body);
	srv->handler(srv->m, c, &c->req, &resp);
	if (resp.hold != NULL) {
		/* answered later (server_answer); nothing is read meanwhile */
		c->hold = resp.hold;
		c->hold->conn = c;
		c->hold_close = !c->req.keep_alive;
	} else {
		if (!c->req.keep_alive)
			resp.close = 1;
		conn_queue_or_500(c, &resp);
	}
	srv->body = resp.body;
	if (srv->body.cap > SPARE_KEEP)
		buf_clear(&srv->body); /* a large answer (an API listing) does not stay */
}

void
server_answer(struct conn_hold *h, struct http_response *resp)
{
	struct conn *c = h->conn;

	if (c == NULL)
		return;
	h->conn = NULL;
	c->hold = NULL;
	if (c->hold_close)
		resp->close = 1;
	conn_queue_or_500(c, resp);
	/* writes, then reads what the client sent next (or closes) */
	conn_write(c);
}

/* Sets the epoll interest from what the connection waits for. */
static void
conn_want(struct conn *c, int want_write)
{
	loop_mod(&c->srv->m->loop, &c->io, want_write ? EPOLLOUT : EPOLLIN);
}

static void
conn_check_peer(struct conn *c)
{
	X509 *peer = SSL_get0_peer_certificate(c->ssl);
	long vr;

	c->peer = PEER_NONE;
	if (peer == NULL)
		return;
	pki_cert_cn(peer, c->peer_cn, sizeof(c->peer_cn));
	pki_cert_serial(peer, c->peer_serial, sizeof(c->peer_serial));
	c->peer_not_after_ms = pki_cert_not_after(peer) * 1000;
	vr = SSL_get_verify_result(c->ssl);
	/*
	 * The CA is the only trust anchor of the agent context, so a verified
	 * chain (also the one a resumed session carries) is ours without a
	 * second signature check, one ECDSA verify per connection saved.  A
	 * failed one is checked, to tell an expired or revoked certificate of
	 * ours from a stranger's.
	 */
	c->peer_ours = c->srv->issuer != NULL &&
		       (vr == X509_V_OK || X509_verify(peer, c->srv->issuer) == 1);
	/* a failed verify leaves errors queued, and SSL_get_error() would read them */
	ERR_clear_error();
	if (vr == X509_V_OK && c->peer_ours) {
		c->peer = PEER_VALID;
		return;
	}
	if (vr == X509_V_OK)
		vr = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
	c->peer = PEER_INVALID;
	snprintf(c->peer_error, sizeof(c->peer_error), "%s", X509_verify_cert_error_string(vr));
}

static void
conn_handshake(struct conn *c)
{
	int r = SSL_do_handshake(c->ssl);

	if (r == 1) {
		c->state = C_OPEN;
		c->ticket_at = mono_ms();
		conn_check_peer(c);
		httpreq_init(&c->req, c->peer == PEER_VALID ? &c->srv->lim_auth : &c->srv->lim_unauth);
		list_move(c, conn_idle_list(c));
		conn_want(c, 0);
		conn_read(c);
		return;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		conn_want(c, 0);
		return;
	case SSL_ERROR_WANT_WRITE:
		conn_want(c, 1);
		return;
	default: {
		unsigned long e = ERR_get_error();
		log_debug("%s: %s: TLS handshake failed: %s", c->srv->name, c->peer_ip,
			  e ? ERR_reason_error_string(e) : "connection closed");
		ERR_clear_error();
		conn_free(c);
		return;
	}
	}
}

/*
 * A kept-alive connection can outlive its ticket (TICKET_LIFETIME_S): every
 * TICKET_REFRESH_S it gets a new one with its next answer, so that after a
 * manager restart the agent resumes instead of a full handshake.
 */
static void
conn_ticket_refresh(struct conn *c)
{
	int64_t now = mono_ms();

	if (now - c->ticket_at < (int64_t)TICKET_REFRESH_S * 1000 ||
	    SSL_version(c->ssl) < TLS1_3_VERSION)
		return;
	c->ticket_at = now;
	if (SSL_new_session_ticket(c->ssl) != 1)
		ERR_clear_error();
}

/* Parses what is in rd, dispatching every complete request. 0 or -1 (closed). */
static int
conn_feed(struct conn *c, const char *data, size_t len)
{
	while (len > 0) {
		size_t used = 0;
		int r;

		if (c->list == &c->srv->idle || c->list == &c->srv->idle_anon)
			list_move(c, &c->srv->requesting);
		r = httpreq_feed(&c->req, data, len, &used);
		if (r < 0) {
			conn_respond_error(c, c->req.error_status, c->req.error_msg);
			return -1;
		}
		if (r == 0)
			return 0;
		conn_ticket_refresh(c);
		conn_dispatch(c);
		httpreq_next(&c->req);
		if (c->close_after_write)
			return -1;
		data += used;
		len -= used;
		if (c->hold != NULL) {
			/* a request pipelined behind a held one is dropped: close after it */
			if (len > 0)
				c->hold_close = 1;
			return 0;
		}
	}
	return 0;
}

static void
conn_read(struct conn *c)
{
	char data[READ_CHUNK];

	for (;;) {
		int n, err;

		if (c->hold != NULL) {
			/* no events until the answer; a hang-up still comes (EPOLLHUP) */
			loop_mod(&c->srv->m->loop, &c->io, 0);
			return;
		}
		if (c->out.len > c->out_off || c->close_after_write) {
			conn_write(c);
			return;
		}
		n = SSL_read(c->ssl, data, sizeof(data));
		if (n > 0) {
			if (conn_feed(c, data, (size_t)n) < 0) {
				conn_write(c);
				return;
			}
			continue;
		}
		err = SSL_get_error(c->ssl, n);
		if (err == SSL_ERROR_WANT_READ) {
			if (c->out.len > c->out_off)
				conn_write(c);
			else
				conn_want(c, 0);
			return;
		}
		if (err == SSL_ERROR_WANT_WRITE) {
			conn_want(c, 1);
			return;
		}
		/* closed by the peer, or a TLS error */
		ERR_clear_error();
		conn_free(c);
		return;
	}
}

static void
conn_write(struct conn *c)
{
	while (c->out.len > c->out_off) {
		int n = SSL_write(c->ssl, c->out.data + c->out_off, (int)(c->out.len - c->out_off));
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		switch (SSL_get_error(c->ssl, n)) {
		case SSL_ERROR_WANT_WRITE:
			conn_want(c, 1);
			return;
		case SSL_ERROR_WANT_READ:
			conn_want(c, 0);
			return;
		default:
			ERR_clear_error();
			conn_free(c);
			return;
		}
	}
	out_give(c);
	if (c->close_after_write) {
		conn_free(c);
		return;
	}
	if (c->req.url.len == 0 && c->req.hdr.len == 0)
		list_move(c, conn_idle_list(c));
	conn_want(c, 0);
	/*
	 * data may already sit in the TLS buffer, decrypted or (read-ahead) a
	 * whole record not yet processed: epoll will not tell
	 */
	if (SSL_has_pending(c->ssl))
		conn_read(c);
}

static void
conn_cb(struct loop_io *io, uint32_t events)
{
	struct conn *c = (struct conn *)io;

	if (c->state == C_HANDSHAKE) {
		conn_handshake(c);
		return;
	}
	if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) {
		conn_free(c);
		return;
	}
	if (c->hold != NULL)
		return;
	if (c->out.len > c->out_off)
		conn_write(c);
	else
		conn_read(c);
}

static void
srv_accept_one(struct server *srv, int fd, const struct sockaddr_storage *ss)
{
	struct mgr *m = srv->m;
	struct conn *c;
	int one = 1;

	/*
	 * The last API_RESERVE connections are the API's: when agents fill the
	 * rest (a reconnect storm), operators can still look at it.
	 */
	int64_t limit = m->cfg.max_connections;

	if (srv != &m->api_srv)
		limit -= limit / 8 < API_RESERVE ? limit / 8 : API_RESERVE;
	if ((int64_t)(m->agent_srv.nconns + m->api_srv.nconns) >= limit) {
		m->stats.conns_refused++;
		if (m->stats.conns_refused % 1000 == 1)
			log_warn("%s: connection limit (%lld) reached; refusing new connections "
				 "(%llu so far)",
				 srv->name, (long long)limit,
				 (unsigned long long)m->stats.conns_refused);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->io.fd = fd;
	c->io.cb = conn_cb;
	c->srv = srv;
	c->state = C_HANDSHAKE;
	buf_init(&c->out, OUT_MAX);
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, c->peer_ip, sizeof(c->peer_ip));
		if (strncmp(c->peer_ip, "::ffff:", 7) == 0)
			memmove(c->peer_ip, c->peer_ip + 7, strlen(c->peer_ip + 7) + 1);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, c->peer_ip, sizeof(c->peer_ip));
	}
	/* httpreq is set up after the handshake, when the limits are known */
	httpreq_init(&c->req, &srv->lim_unauth);
	c->ssl = SSL_new(srv->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
		SSL_free(c->ssl);
		httpreq_clear(&c->req);
		close(fd);
		free(c);
		return;
	}
	SSL_set_accept_state(c->ssl);
	srv->nconns++;
	if (loop_add(&m->loop, &c->io, EPOLLIN) < 0) {
		c->state = C_HANDSHAKE;
		conn_free(c);
		return;
	}
	list_move(c, &srv->handshaking);
}

static void
srv_accept_cb(struct loop_io *io, uint32_t events)
{
	struct server *srv = (struct server *)io;
	int i;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(srv->io.fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				srv->m->stats.conns_refused++;
				if (srv->m->stats.conns_refused % 1000 == 1)
					log_warn("%s: out of file descriptors; refusing connections "
						 "(raise LimitNOFILE or lower max_connections)",
						 srv->name);
			}
			return;
		}
		srv_accept_one(srv, fd, &ss);
	}
}

int
server_open(struct server *srv, struct mgr *m, const char *name, const char *addr, int port,
	    SSL_CTX *ctx, server_handler *handler, const char **errstr_r)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = -1, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1) {
			*errstr_r = "listen.address is not a valid IPv6 address";
			return -1;
		}
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1) {
			*errstr_r = "listen.address is not a valid IPv4 address";
			return -1;
		}
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*errstr_r = strerror(errno);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 4096) < 0) {
		*errstr_r = strerror(errno);
		close(fd);
		return -1;
	}
	sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						   : ((struct sockaddr_in *)&ss)->sin_port);
	srv->io.fd = fd;
	srv->io.cb = srv_accept_cb;
	srv->m = m;
	srv->name = name;
	srv->ctx = ctx;
	srv->handler = handler;
	buf_init(&srv->body, HTTP_BODY_MAX);
	buf_init(&srv->out_spare, OUT_MAX);
	if (loop_add(&m->loop, &srv->io, EPOLLIN) < 0) {
		*errstr_r = strerror(errno);
		close(fd);
		return -1;
	}
	return 0;
}

void
server_set_issuer(struct server *srv, EVP_PKEY *ca_pub)
{
	srv->issuer = ca_pub;
	srv->anon_idle = 1;
}

void
server_close(struct server *srv)
{
	struct conn_list *lists[] = {&srv->handshaking, &srv->requesting, &srv->idle,
				     &srv->idle_anon};
	size_t i;

	if (srv->m == NULL)
		return;
	for (i = 0; i < ARRAY_SIZE(lists); i++)
		while (lists[i]->head != NULL)
			conn_free(lists[i]->head);
	loop_del(&srv->m->loop, &srv->io);
	close(srv->io.fd);
	buf_clear(&srv->body);
	buf_clear(&srv->out_spare);
	srv->m = NULL;
}

void
server_expire(struct server *srv, int64_t now)
{
	struct conn_list *lists[] = {&srv->handshaking, &srv->requesting, &srv->idle,
				     &srv->idle_anon};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(lists); i++) {
		struct conn_list *l = lists[i];
		while (l->head != NULL && now - l->head->since >= l->timeout_ms) {
			struct conn *c = l->head;
			if (l == &srv->requesting)
				log_info("%s: %s: request not completed within %lld s; closed",
					 srv->name, c->peer_ip, (long long)(l->timeout_ms / 1000));
			else if (l == &srv->handshaking)
				log_debug("%s: %s: TLS handshake not completed in time; closed",
					  srv->name, c->peer_ip);
			conn_free(c);
		}
	}
}
