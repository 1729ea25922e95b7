/*
 * contact: when and why the manager calls an agent on its port (4118), by
 * the computer's communication direction (DESIGN 2):
 *   - bidirectional: work (a policy change, send policy, check status) is
 *     delivered at once; a probe every [agents] probe_interval checks the
 *     way back; if the call fails, the work waits for the next heartbeat;
 *   - agent-initiated: never; work waits for the next heartbeat and shows
 *     the "(Heartbeat)" suffix;
 *   - manager-initiated: a poll every heartbeat interval is the heartbeat
 *     (the offline rule applies to polls), and configuration goes the same
 *     way.
 * Owns the per-computer tasks (struct ctask) and the heap of next calls;
 * every outcome goes to the status engine (status_reach, status_heartbeat).
 */
#ifndef VIGIL_CONTACT_H
#define VIGIL_CONTACT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "deadline.h"
#include "model.h"

struct mgr;
struct heartbeat_req;

#define CONTACT_MAX_TASKS 8 /* kept per computer, newest first */

struct contacts {
	struct deadline_heap due; /* computers by their next call (contact_dl) */
	int64_t next_task_id;
};

void contacts_init(struct contacts *k);
void contacts_clear(struct mgr *m);
/* After loading: schedules polls and first probes, spread over their interval. */
void contact_start(struct mgr *m);
/* Calls what is due (as many as agentlink allows); the loop calls it every turn. */
void contact_tick(struct mgr *m, int64_t now_mono);
/* Monotonic ms of the next due call, or -1. */
int64_t contact_next(const struct mgr *m);
/* c's configuration changed: deliver it as its direction allows. */
void contact_config_changed(struct mgr *m, struct computer *c);
/* c's direction, port or address may have changed: reschedule. */
void contact_reschedule(struct mgr *m, struct computer *c);
/* A heartbeat arrived (config_sent: its answer carries the configuration). */
void contact_heartbeat(struct mgr *m, struct computer *c, int config_sent);
/* 1 when the manager may call c now (activated, a known port, not agent-initiated). */
int contact_can_call(const struct mgr *m, const struct computer *c);
/* Calls c's port soon (a probe), when the direction allows: after it went quiet, or on request. */
void contact_probe(struct mgr *m, struct computer *c);
/* c is deactivated: tell the agent at once when the manager may call (reason not NULL). */
void contact_deactivated(struct mgr *m, struct computer *c, const char *reason);
/* c goes away: its tasks and calls with it. */
void contact_forget(struct mgr *m, struct computer *c);
/*
 * Operator tasks (events 267, 256): check status, send policy.  Returns the
 * task (owned by c), or NULL when c is not activated (err says so).
 */
struct ctask *contact_task(struct mgr *m, struct computer *c, enum ctask_kind kind, const char *by,
                           char *err, size_t errsize);
/* Deep Security's Task(s) column strings of c's open tasks, as a JSON array. */
json_t *contact_task_strings(const struct computer *c);
/* Every task of c as JSON objects. */
json_t *contact_tasks_json(const struct computer *c);
const char *ctask_name(const struct ctask *t);

#endif
