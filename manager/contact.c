/*
 * contact: see contact.h.
 */
#include "contact.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentlink.h"
#include "events.h"
#include "log.h"
#include "mgr.h"
#include "policy.h"
#include "proto.h"
#include "registry.h"
#include "status.h"
#include "util.h"

enum contact_op { OP_HOSTINFO, OP_CONFIG, OP_DEACTIVATE };

#define CONTACT_RETRY_MS 1000 /* when every call slot is busy */

static struct computer *
contact_of(struct deadline_entry *e)
{
	return (struct computer *)((char *)e - offsetof(struct computer, contact_dl));
}

void
contacts_init(struct contacts *k)
{
	deadline_init(&k->due);
	k->next_task_id = 1;
}

static void
ctask_free_all(struct computer *c)
{
	struct ctask *t, *next;

	for (t = c->tasks; t != NULL; t = next) {
		next = t->next;
		free(t);
	}
	c->tasks = NULL;
}

void
contacts_clear(struct mgr *m)
{
	size_t i;

	for (i = 0; i < m->reg.n; i++) {
		ctask_free_all(m->reg.byid[i]);
		free(m->reg.byid[i]->reach_error);
		m->reg.byid[i]->reach_error = NULL;
	}
	deadline_clear(&m->contacts.due);
}

const char *
ctask_name(const struct ctask *t)
{
	int hb = t->state == TASK_PENDING_HEARTBEAT;

	if (t->kind == TASK_CHECK_STATUS)
		return hb                        ? "Check Status Pending (Heartbeat)"
		       : t->state == TASK_DONE   ? "Check Status"
		       : t->state == TASK_FAILED ? "Check Status Failed"
		                                 : "Checking Status";
	return hb                        ? "Update of Configuration Pending (Heartbeat)"
	       : t->state == TASK_DONE   ? "Send Policy"
	       : t->state == TASK_FAILED ? "Send Policy Failed"
	                                 : "Sending Policy";
}

static const char *
ctask_state_name(enum ctask_state s)
{
	switch (s) {
	case TASK_PENDING:
		return "pending";
	case TASK_PENDING_HEARTBEAT:
		return "pending-heartbeat";
	case TASK_RUNNING:
		return "running";
	case TASK_DONE:
		return "done";
	case TASK_FAILED:
		return "failed";
	}
	return "?";
}

static int
ctask_open(const struct ctask *t)
{
	return t->state == TASK_PENDING || t->state == TASK_PENDING_HEARTBEAT ||
	       t->state == TASK_RUNNING;
}

json_t *
contact_task_strings(const struct computer *c)
{
	json_t *a = json_array();
	const struct ctask *t;

	for (t = c->tasks; a != NULL && t != NULL; t = t->next)
		if (ctask_open(t))
			json_array_append_new(a, json_string(ctask_name(t)));
	return a;
}

json_t *
contact_tasks_json(const struct computer *c)
{
	json_t *a = json_array();
	const struct ctask *t;

	for (t = c->tasks; a != NULL && t != NULL; t = t->next)
		json_array_append_new(
		    a,
		    json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "ID", (json_int_t)t->id,
		              "type", t->kind == TASK_CHECK_STATUS ? "check-status" : "send-policy",
		              "state", ctask_state_name(t->state), "name", ctask_name(t), "created",
		              (json_int_t)t->created_ms, "changed", (json_int_t)t->updated_ms, "by",
		              t->by, "result", t->result));
	return a;
}

static int64_t
contact_direction(const struct mgr *m, const struct computer *c)
{
	return policy_value(m, c, PS_DIRECTION);
}

/* 1 when the manager may call c now: activated, a known port, a direction that allows it. */
static int
contact_may_call(const struct mgr *m, const struct computer *c)
{
	return c->state == COMPUTER_ACTIVATED && c->agent_port > 0 && c->last_ip[0] &&
	       contact_direction(m, c) != DIR_AGENT_INITIATED;
}

static void
contact_at(struct mgr *m, struct computer *c, int64_t when_mono)
{
	/* never later than a call already due sooner */
	if (c->contact_dl.heap_idx != DEADLINE_NONE && c->contact_dl.when <= when_mono)
		return;
	if (deadline_set(&m->contacts.due, &c->contact_dl, when_mono) < 0)
		log_warn("contact: cannot schedule a call to %s (out of memory)", c->hostname);
}

/* The next routine call: a poll (manager-initiated) or a probe (bidirectional). */
static void
contact_routine(struct mgr *m, struct computer *c, int64_t from_mono)
{
	int64_t dir = contact_direction(m, c), every;

	if (!contact_may_call(m, c)) {
		deadline_remove(&m->contacts.due, &c->contact_dl);
		return;
	}
	if (dir == DIR_MANAGER_INITIATED)
		every = policy_value(m, c, PS_HEARTBEAT_INTERVAL) * 1000;
	else if (m->cfg.probe_interval > 0)
		every = m->cfg.probe_interval * 1000;
	else
		return;
	deadline_remove(&m->contacts.due, &c->contact_dl);
	contact_at(m, c, from_mono + every);
}

static struct ctask *
ctask_find_open(struct computer *c, enum ctask_kind kind)
{
	struct ctask *t;

	for (t = c->tasks; t != NULL; t = t->next)
		if (t->kind == kind && ctask_open(t))
			return t;
	return NULL;
}

static void ctask_set(struct ctask *t, enum ctask_state st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
ctask_set(struct ctask *t, enum ctask_state st, const char *fmt, ...)
{
	va_list ap;

	t->state = st;
	t->updated_ms = now_ms();
	va_start(ap, fmt);
	vsnprintf(t->result, sizeof(t->result), fmt, ap);
	va_end(ap);
}

/* Every open task of kind on c goes to st with the sentence. */
static void
ctask_settle(struct computer *c, enum ctask_kind kind, enum ctask_state st, const char *msg)
{
	struct ctask *t;

	for (t = c->tasks; t != NULL; t = t->next)
		if (t->kind == kind && ctask_open(t))
			ctask_set(t, st, "%s", msg);
}

static void contact_done(struct mgr *m, int64_t computer_id, int op, int status, const char *body,
                         size_t len, const char *err);

static int
contact_call(struct mgr *m, struct computer *c, int op, const char *body)
{
	static const char *const paths[] = {"/agent/v1/hostinfo", "/agent/v1/config",
	                                    "/agent/v1/deactivate"};
	char err[256];

	if (link_start(m, c, c->last_ip, c->agent_port, op, op == OP_HOSTINFO ? "GET" : "POST",
	               paths[op], body, contact_done, err, sizeof(err)) < 0) {
		if (m->links.n >= LINK_MAX_INFLIGHT)
			return 1; /* busy: try again soon */
		contact_done(m, c->id, op, 0, "", 0, err);
		return 0;
	}
	c->calling = 1;
	return 0;
}

static char *
contact_config_body(struct mgr *m, struct computer *c)
{
	char fpr[PKI_FPR_LEN];
	json_t *cfg = policy_effective(m, c), *o;
	char *s = NULL;

	if (cfg == NULL || policy_config_fpr(m, c, fpr) < 0) {
		json_decref(cfg);
		return NULL;
	}
	o = json_pack("{s:o, s:s, s:I}", "config", cfg, "config_fingerprint", fpr,
	              "heartbeat_interval", (json_int_t)policy_value(m, c, PS_HEARTBEAT_INTERVAL));
	if (o != NULL)
		s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* What to do for c now; 1 when the call must wait for a free slot. */
static int
contact_due(struct mgr *m, struct computer *c)
{
	struct ctask *t;

	if (!contact_may_call(m, c) || c->calling)
		return 0;
	if (c->push_config ||
	    ((t = ctask_find_open(c, TASK_SEND_POLICY)) != NULL && t->state == TASK_PENDING)) {
		char *body = contact_config_body(m, c);
		int busy;
		if (body == NULL)
			return 0;
		busy = contact_call(m, c, OP_CONFIG, body);
		free(body);
		if (!busy) {
			c->push_config = 0;
			for (t = c->tasks; t != NULL; t = t->next)
				if (t->kind == TASK_SEND_POLICY && t->state == TASK_PENDING)
					ctask_set(t, TASK_RUNNING, "sending on the agent port");
		}
		return busy;
	}
	for (t = c->tasks; t != NULL; t = t->next)
		if (t->kind == TASK_CHECK_STATUS && t->state == TASK_PENDING)
			ctask_set(t, TASK_RUNNING, "calling the agent port");
	return contact_call(m, c, OP_HOSTINFO, NULL);
}

void
contact_tick(struct mgr *m, int64_t now_mono)
{
	struct deadline_entry *e;

	while ((e = deadline_peek(&m->contacts.due)) != NULL && e->when <= now_mono) {
		struct computer *c = contact_of(e);
		deadline_remove(&m->contacts.due, e);
		if (contact_due(m, c)) {
			contact_at(m, c, now_mono + CONTACT_RETRY_MS);
			break;
		}
		/* the routine calls go on from now */
		if (!c->calling)
			contact_routine(m, c, now_mono);
	}
}

int64_t
contact_next(const struct mgr *m)
{
	const struct deadline_entry *e = deadline_peek(&m->contacts.due);

	return e ? e->when : -1;
}

void
contact_start(struct mgr *m)
{
	int64_t now = mono_ms();
	size_t i;

	for (i = 0; i < m->reg.n; i++) {
		struct computer *c = m->reg.byid[i];
		int64_t every;
		if (!contact_may_call(m, c))
			continue;
		/* spread over one interval: a restart must not call every agent at once */
		every = contact_direction(m, c) == DIR_MANAGER_INITIATED
		            ? policy_value(m, c, PS_HEARTBEAT_INTERVAL) * 1000
		            : m->cfg.probe_interval * 1000;
		if (every > 0)
			contact_at(m, c, now + (int64_t)rand_below((uint64_t)every));
	}
}

void
contact_reschedule(struct mgr *m, struct computer *c)
{
	if (!contact_may_call(m, c)) {
		deadline_remove(&m->contacts.due, &c->contact_dl);
		return;
	}
	if (c->contact_dl.heap_idx == DEADLINE_NONE)
		contact_routine(m, c, mono_ms());
}

void
contact_config_changed(struct mgr *m, struct computer *c)
{
	if (c->state != COMPUTER_ACTIVATED)
		return;
	/* agent-initiated: the fingerprint of the next heartbeat differs; nothing to do */
	if (!contact_may_call(m, c))
		return;
	c->push_config = 1;
	contact_at(m, c, mono_ms());
}

void
contact_heartbeat(struct mgr *m, struct computer *c, int config_sent)
{
	struct ctask *t;

	for (t = c->tasks; t != NULL; t = t->next) {
		if (!ctask_open(t) || t->state == TASK_RUNNING)
			continue;
		/* a heartbeat is a status check; its answer carries the configuration */
		if (t->kind == TASK_CHECK_STATUS) {
			ctask_set(t, TASK_DONE, "done by the agent's heartbeat");
		} else {
			ctask_set(t, TASK_DONE, "%s",
			          config_sent ? "sent in the answer to the agent's heartbeat"
			                      : "the agent already had this configuration");
			event_record(m, EV_POLICY_SENT, c, "configuration %s",
			             config_sent ? "sent in the answer to a heartbeat"
			                         : "already in place at the heartbeat");
		}
	}
	if (config_sent)
		c->push_config = 0;
	/* a first heartbeat, a new port, or now manager-initiated: calls start */
	if (contact_may_call(m, c) && c->contact_dl.heap_idx == DEADLINE_NONE && !c->calling) {
		if (contact_direction(m, c) == DIR_MANAGER_INITIATED)
			contact_at(m, c, mono_ms());
		else if (m->cfg.probe_interval > 0)
			contact_at(m, c,
			           mono_ms() +
			               (int64_t)rand_below((uint64_t)m->cfg.probe_interval * 1000));
	}
}

int
contact_can_call(const struct mgr *m, const struct computer *c)
{
	return contact_may_call(m, c);
}

void
contact_probe(struct mgr *m, struct computer *c)
{
	if (contact_may_call(m, c) && !c->calling)
		contact_at(m, c, mono_ms());
}

void
contact_deactivated(struct mgr *m, struct computer *c, const char *reason)
{
	char *body;
	json_t *o;

	ctask_settle(c, TASK_CHECK_STATUS, TASK_FAILED, "the computer was deactivated");
	ctask_settle(c, TASK_SEND_POLICY, TASK_FAILED, "the computer was deactivated");
	deadline_remove(&m->contacts.due, &c->contact_dl);
	c->push_config = 0;
	/* c->state is already deactivated: contact_may_call() says no, so check by hand */
	if (reason == NULL || c->agent_port <= 0 || !c->last_ip[0] ||
	    policy_value(m, c, PS_DIRECTION) == DIR_AGENT_INITIATED)
		return;
	o = json_pack("{s:s}", "reason", reason);
	body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (body != NULL) {
		char err[256];
		/* best effort: the agent also learns it at its next heartbeat */
		if (link_start(m, c, c->last_ip, c->agent_port, OP_DEACTIVATE, "POST",
		               "/agent/v1/deactivate", body, contact_done, err, sizeof(err)) < 0)
			log_info("contact: cannot tell %s it is deactivated: %s", c->hostname, err);
	}
	free(body);
}

void
contact_forget(struct mgr *m, struct computer *c)
{
	deadline_remove(&m->contacts.due, &c->contact_dl);
	ctask_free_all(c);
	free(c->reach_error);
	c->reach_error = NULL;
}

struct ctask *
contact_task(struct mgr *m, struct computer *c, enum ctask_kind kind, const char *by, char *err,
             size_t errsize)
{
	struct ctask *t, **pp;
	int n = 0;

	if (c->state != COMPUTER_ACTIVATED) {
		snprintf(err, errsize, "%s is not activated: there is no agent to ask",
		         c->hostname);
		return NULL;
	}
	/* the same task already waiting: no second one */
	if ((t = ctask_find_open(c, kind)) != NULL)
		return t;
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	t->id = m->contacts.next_task_id++;
	t->kind = kind;
	t->created_ms = t->updated_ms = now_ms();
	str_copy(t->by, by, sizeof(t->by));
	t->next = c->tasks;
	c->tasks = t;
	/* keep the newest few */
	for (pp = &c->tasks; *pp != NULL; pp = &(*pp)->next)
		if (++n == CONTACT_MAX_TASKS)
			break;
	if (*pp != NULL) {
		struct ctask *rest = (*pp)->next;
		(*pp)->next = NULL;
		while (rest != NULL) {
			struct ctask *next = rest->next;
			free(rest);
			rest = next;
		}
	}
	if (contact_may_call(m, c)) {
		ctask_set(t, TASK_PENDING, "the manager calls the agent now");
		contact_at(m, c, mono_ms());
	} else {
		ctask_set(t, TASK_PENDING_HEARTBEAT, "%s",
		          contact_direction(m, c) == DIR_AGENT_INITIATED
		              ? "the policy is agent-initiated: at the next heartbeat"
		              : "the agent's port is not known yet: at the next heartbeat");
	}
	return t;
}

/* The answer to a hostinfo call is a heartbeat's body: the status engine takes it. */
static int
contact_hostinfo(struct mgr *m, struct computer *c, const char *body, size_t len, char *err,
                 size_t errsize)
{
	struct heartbeat_req hb;
	char fpr[PKI_FPR_LEN];
	int64_t now = now_ms(), now_mono = mono_ms();

	if (proto_parse_heartbeat(body, len, &hb, err, errsize) < 0)
		return -1;
	status_heartbeat(m, c, &hb, c->last_ip, now, now_mono, 0);
	m->stats.heartbeats++;
	/* an agent that polls cannot pick the configuration up: bring it */
	if (policy_config_fpr(m, c, fpr) == 0 && strcmp(fpr, hb.config_fingerprint) != 0)
		c->push_config = 1;
	proto_heartbeat_clear(&hb);
	return 0;
}

static void
contact_done(struct mgr *m, int64_t computer_id, int op, int status, const char *body, size_t len,
             const char *err)
{
	struct computer *c = registry_by_id(&m->reg, computer_id);
	char why[400];
	int ok = status == 200;

	if (c == NULL)
		return; /* deleted meanwhile */
	c->calling = 0;
	if (op == OP_DEACTIVATE) {
		if (ok)
			log_info("contact: %s knows it is deactivated", c->hostname);
		return;
	}
	if (!ok && status != 0)
		snprintf(why, sizeof(why), "the agent answered HTTP %d: %.200s", status, body);
	else
		snprintf(why, sizeof(why), "%s", err ? err : "");
	if (ok && op == OP_HOSTINFO && contact_hostinfo(m, c, body, len, why, sizeof(why)) < 0) {
		ok = 0;
		status = 0;
	}
	status_reach(m, c, ok, ok ? NULL : why);
	if (op == OP_HOSTINFO) {
		if (ok) {
			ctask_settle(c, TASK_CHECK_STATUS, TASK_DONE,
			             "the agent answered on its port");
		} else {
			struct ctask *t = ctask_find_open(c, TASK_CHECK_STATUS);
			if (t != NULL)
				event_record(m, EV_CHECK_STATUS_FAILED, c, "%s", why);
			ctask_settle(c, TASK_CHECK_STATUS, TASK_PENDING_HEARTBEAT, why);
		}
	} else if (ok) {
		ctask_settle(c, TASK_SEND_POLICY, TASK_DONE, "sent on the agent port");
		event_record(m, EV_POLICY_SENT, c, "configuration sent on the agent port");
	} else {
		/* the next heartbeat (or poll) carries it */
		ctask_settle(c, TASK_SEND_POLICY, TASK_PENDING_HEARTBEAT, why);
		if (contact_direction(m, c) == DIR_MANAGER_INITIATED)
			c->push_config = 1;
	}
	/* the configuration found out of date by a poll goes at once */
	if (ok && c->push_config && contact_may_call(m, c)) {
		deadline_remove(&m->contacts.due, &c->contact_dl);
		contact_at(m, c, mono_ms());
		return;
	}
	contact_routine(m, c, mono_ms());
}
