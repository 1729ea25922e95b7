/*
 * api: the REST API handler (port 4119), modelled on Deep Security API v1
 * (resource names, "api-secret-key" and "api-version: v1" headers, field
 * names such as computerStatus.agentStatusMessages).  Read-only for now:
 * computers, events, alerts, /healthz.  See docs/PROTOCOL.md.
 */
#ifndef VIGIL_API_H
#define VIGIL_API_H

#include "server.h"

void api_handle(struct mgr *m, struct conn *c, struct http_request *req,
		struct http_response *resp);

#endif
