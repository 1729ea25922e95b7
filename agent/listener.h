/*
 * listener: the agent's manager-initiated channel (4118, Deep Security's
 * agent port), HTTPS with mutual TLS.  The agent presents its own
 * identity certificate; the peer must present a certificate issued by the
 * CA pinned at activation (ca.crt) with the CN "vigil-manager" and the
 * clientAuth purpose.  The CA only ever signs that name for the manager
 * itself (agents' certificates carry their GUID), so another agent of the
 * same manager cannot pose as it.
 *
 * One request per connection, served in the agent's single thread with
 * socket timeouts (LISTENER_IO_TIMEOUT_S): the manager calls rarely, and a
 * stalled client costs at most that long.  The commands themselves are
 * the caller's (a handler); this module owns the socket, TLS, HTTP
 * parsing, limits and the peer check.
 */
#ifndef VIGIL_LISTENER_H
#define VIGIL_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "state.h"

#define LISTENER_DEFAULT_PORT 4118
#define LISTENER_IO_TIMEOUT_S 5
#define LISTENER_MAX_BODY (256 * 1024)
#define LISTENER_MANAGER_CN "vigil-manager"

struct agent_listener {
	int fd; /* -1 when closed */
	int port;
	SSL_CTX *ctx;
	uint64_t accepted, refused; /* connections served; refused peers */
	int64_t last_manager_ms;    /* last request from the manager (wall clock) */
	char last_error[256];       /* the last refused peer or failed request */
};

/*
 * A handler answers one authenticated request: sets *status and *reply
 * (owned by the listener afterwards; NULL for an empty body).
 */
typedef void listener_handler(void *ctx, const char *method, const char *path, const char *body,
                              size_t len, int *status, json_t **reply);

void listener_init(struct agent_listener *l);
/*
 * Binds addr:port (port 0 picks one; l->port gets it) with the identity
 * in st.  -1 with a sentence in err.
 */
int listener_open(struct agent_listener *l, const struct agent_state *st, const char *addr,
                  int port, char *err, size_t errsize);
void listener_close(struct agent_listener *l);
/* A free TCP port on addr (for --listen-port 0), or -1. */
int listener_pick_port(const char *addr);
/* Accepts and serves one connection (call when l->fd is readable). */
void listener_serve(struct agent_listener *l, listener_handler *h, void *ctx);

#endif
