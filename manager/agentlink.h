/*
 * agentlink: one HTTPS request from the manager to an agent's port (4118),
 * on the manager's event loop: non-blocking connect, TLS with the
 * manager's client certificate, one request, the answer, close.  The agent
 * must present a certificate from this manager's CA whose CN is the GUID of
 * the computer called, so a host that took over an address cannot answer
 * for another computer.  Owns struct link; says nothing about what the
 * answer means (contact.c decides).
 */
#ifndef VIGIL_AGENTLINK_H
#define VIGIL_AGENTLINK_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "buf.h"
#include "loop.h"
#include "model.h"

struct mgr;

#define LINK_MAX_INFLIGHT 256
#define LINK_TIMEOUT_MS 10000
#define LINK_MAX_ANSWER (1024 * 1024)

struct link;

/*
 * Called once per request.  status is the agent's HTTP status, or 0 when
 * no answer came (err says why: refused, timed out, TLS, wrong identity);
 * body is the answer's body (NUL-terminated, may be empty).
 */
typedef void link_done_cb(struct mgr *m, int64_t computer_id, int op, int status, const char *body,
                          size_t len, const char *err);

struct link {
	struct loop_io io;
	struct mgr *m;
	int64_t computer_id;
	int op; /* the caller's */
	char guid[GUID_LEN];
	char where[80]; /* "ADDRESS port N", for messages */
	SSL *ssl;
	int state;
	struct buf out, in;
	size_t out_off;
	int64_t deadline_mono;
	link_done_cb *done;
	struct link *prev, *next;
};

struct links {
	SSL_CTX *ctx; /* the manager as a TLS client (ca.c) */
	struct link *head;
	int n;
	uint64_t started, failed;
};

void links_init(struct links *l, SSL_CTX *ctx);
/* Ends every request (their callbacks say "the manager is stopping"). */
void links_clear(struct mgr *m);
/*
 * Starts method path (body: JSON or NULL) to addr:port for computer c.
 * -1 when LINK_MAX_INFLIGHT are running or the socket fails at once (the
 * callback is not called then; err says why).
 */
int link_start(struct mgr *m, const struct computer *c, const char *addr, int port, int op,
               const char *method, const char *path, const char *body, link_done_cb *done,
               char *err, size_t errsize);
/* Ends requests older than LINK_TIMEOUT_MS; housekeeping calls it. */
void links_expire(struct mgr *m, int64_t now_mono);

#endif
