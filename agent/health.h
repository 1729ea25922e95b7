/*
 * health: "vigil-agentctl health [--json]", seed 001's checklist for the
 * agent as a Nagios plugin: the agent process, its watchdog, the 4118
 * listener (not configured: the agent has none yet), the last heartbeat,
 * the identity certificate, free disk space of the state directory and the
 * event queue's depth.
 */
#ifndef VIGIL_HEALTH_H
#define VIGIL_HEALTH_H

#include <jansson.h>
#include <stdint.h>

#include "nagios.h"

/* Events waiting for the manager's acknowledgement (the daemon's status); -1 when unknown. */
int64_t health_queue_depth(json_t *status);
/*
 * Fills r.  status is the daemon's "status" answer, NULL when it does not
 * answer (then the process check is critical).
 */
void health_run(const char *dir, json_t *status, struct nagios_report *r);

#endif
