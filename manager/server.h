/*
 * server: the HTTPS listeners (agent channel, REST API) and their
 * connections: accept, TLS handshake, HTTP/1.1 keep-alive with llhttp,
 * limits and timeouts.  Routing is the caller's: each server has one
 * handler that turns a complete request into a response.
 */
#ifndef VIGIL_SERVER_H
#define VIGIL_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "buf.h"
#include "httpreq.h"
#include "loop.h"

struct mgr;
struct conn;

/* the largest response body */
#define HTTP_BODY_MAX (32u * 1024 * 1024)

/*
 * A request answered later (group commit, agentsvc.c): the handler sets
 * http_response.hold; the connection then reads nothing more until
 * server_answer().  conn is NULL once the connection is gone.
 */
struct conn_hold {
	struct conn *conn;
};

struct http_response {
	int status;
	const char *content_type;
	struct buf body;
	char headers[256]; /* extra header lines, each ending in \r\n */
	int close;	   /* close the connection after this response */
	struct conn_hold *hold; /* set by the handler: no answer now, server_answer() later */
};

enum peer_auth {
	PEER_NONE,    /* no client certificate */
	PEER_VALID,   /* certificate issued by this manager's CA, verified */
	PEER_INVALID, /* a certificate that did not verify (peer_error says why) */
};

struct conn_list {
	struct conn *head, *tail;
	int64_t timeout_ms;
};

typedef void server_handler(struct mgr *m, struct conn *c, struct http_request *req,
			    struct http_response *resp);

struct server {
	struct loop_io io;
	struct mgr *m;
	const char *name; /* "agent" or "api" */
	SSL_CTX *ctx;
	int port;
	server_handler *handler;
	struct http_limits lim_unauth, lim_auth;
	/*
	 * idle_anon holds kept-alive connections without a valid client
	 * certificate when anon_idle is set (agent channel): they get the
	 * request timeout, not the long idle timeout of agents.
	 */
	struct conn_list handshaking, requesting, idle, idle_anon;
	int anon_idle;
	EVP_PKEY *issuer;
	size_t nconns;
	/* storage reused by every response (server.c): the body, and c->out's */
	struct buf body, out_spare;
};

struct conn {
	struct loop_io io;
	struct server *srv;
	SSL *ssl;
	int state;
	struct http_request req;
	struct buf out;
	size_t out_off;
	int close_after_write;
	char peer_ip[64];
	/* timeouts */
	struct conn_list *list;
	struct conn *prev, *next;
	int64_t since;
	int64_t ticket_at; /* monotonic ms of the last session ticket (tickets.h) */
	/* client certificate (agent channel) */
	enum peer_auth peer;
	int peer_ours; /* signed by this manager's CA, even if invalid otherwise */
	char peer_cn[64];
	char peer_serial[41];
	char peer_error[128];
	int64_t peer_not_after_ms;
	/* a request waiting for its answer (http_response.hold) */
	struct conn_hold *hold;
	int hold_close; /* close after that answer (no keep-alive, or bytes after it) */
};

/* Binds and listens; port 0 picks a free one (srv->port gets it). */
int server_open(struct server *srv, struct mgr *m, const char *name, const char *addr, int port,
		SSL_CTX *ctx, server_handler *handler, const char **errstr_r);
/* The CA whose signature marks a client certificate as "ours" (agent channel). */
void server_set_issuer(struct server *srv, EVP_PKEY *ca_pub);
void server_close(struct server *srv);
/* Closes connections whose time ran out; called by housekeeping. */
void server_expire(struct server *srv, int64_t now_mono);
/* A response to fill for server_answer(); http_response_clear() after. */
void http_response_init(struct http_response *resp);
void http_response_clear(struct http_response *resp);
/* Sends the answer to a held request (nothing when its connection is gone). */
void server_answer(struct conn_hold *h, struct http_response *resp);
/* Sets a JSON error body {"error":{"code":..,"message":..}}. */
void http_error(struct http_response *resp, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
const char *http_reason(int status);

#endif
