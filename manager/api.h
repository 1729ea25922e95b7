/*
 * api: the REST API handler (port 4119), modelled on Deep Security API v1
 * (resource names, "api-secret-key" and "api-version: v1" headers, field
 * names such as computerStatus.agentStatusMessages).  Computers,
 * events, alerts, licenses, policies, settings, inventory, /healthz.  See docs/PROTOCOL.md.
 */
#ifndef VIGIL_API_H
#define VIGIL_API_H

#include <jansson.h>

#include "server.h"

void api_handle(struct mgr *m, struct conn *c, struct http_request *req,
		struct http_response *resp);

/* Shared by the API's files. */
struct computer;
/* Answers 200 with obj as the JSON body (takes the reference); 500 when NULL. */
void api_reply(struct http_response *resp, json_t *obj);
/* api_policy.c: /api/policies[/...]; rest is what follows "/api/policies". */
void api_policies(struct mgr *m, struct conn *conn, const char *method, const char *rest,
		  struct http_request *req, struct http_response *resp);
/* api_policy.c: /api/computers/{ID}/settings and .../policy (what). */
void api_computer_policy(struct mgr *m, struct conn *conn, const char *method, struct computer *c,
			 const char *what, struct http_request *req, struct http_response *resp);

#endif
