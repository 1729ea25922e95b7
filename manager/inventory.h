/*
 * inventory: what a hypervisor or cloud connector pushes (POST
 * /api/inventory): instances with an id, a power state and MACs.  Each is
 * matched to one computer (by the instance id recorded at an earlier push,
 * else by a MAC the agent reported, else by host name) and its power state
 * goes through the status engine, so that a stopped VM frees its seat.
 */
#ifndef VIGIL_INVENTORY_H
#define VIGIL_INVENTORY_H

#include <jansson.h>

#include "apibody.h"

struct mgr;

/*
 * Applies the instances (by: who pushed, for the events) and answers, per
 * instance, the computer it matched (or that none or several did) and
 * whether anything changed.  NULL when out of memory.
 */
json_t *inventory_apply(struct mgr *m, const struct inventory_req *req, const char *by);

#endif
