/*
 * agentsvc: the agent channel's request handler (port 4120): the CA
 * certificate, activation, heartbeats.  It checks who is speaking (the
 * client certificate is the computer's identity), parses through proto.c,
 * and reports facts to the status engine.  See docs/PROTOCOL.md.
 */
#ifndef VIGIL_AGENTSVC_H
#define VIGIL_AGENTSVC_H

#include "server.h"

void agentsvc_handle(struct mgr *m, struct conn *c, struct http_request *req,
		     struct http_response *resp);
/*
 * The group commit of activations: one transaction (one fsync) for every
 * new computer activated since the last call, then their answers — the
 * 200 with the identity, or, when the commit failed, the same 503 for
 * each, with the computers gone again.  Called after every event-loop
 * iteration, and before anything else may look at a computer still in the
 * batch (the REST API, an activation of the same host).
 */
void agentsvc_commit(struct mgr *m);
/* SHA-256 hex of a secret (tokens and API keys are stored only hashed). */
void secret_hash(const char *secret, char out[65]);
/* Constant-time comparison of the hash of secret with a stored hash. */
int secret_check(const char *secret, const char *stored_hash);

#endif
