/*
 * policy: see policy.h.
 */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "events.h"
#include "log.h"
#include "mgr.h"
#include "proto.h"
#include "registry.h"
#include "status.h"
#include "util.h"

void
policies_init(struct policies *p)
{
	memset(p, 0, sizeof(*p));
	p->next_id = POLICY_DEFAULT_ID + 1;
}

static void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->description);
	free(p->cfg_json);
	free(p);
}

void
policies_clear(struct policies *p)
{
	struct policy *q, *next;

	for (q = p->list; q != NULL; q = next) {
		next = q->next;
		policy_free(q);
	}
	p->list = NULL;
	p->n = 0;
}

struct policy *
policy_by_id(const struct mgr *m, int64_t id)
{
	struct policy *p;

	for (p = m->pol.list; p != NULL; p = p->next)
		if (p->id == id)
			return p;
	return NULL;
}

struct policy *
policy_find(const struct mgr *m, const char *ref)
{
	struct policy *p;
	int64_t id;

	for (p = m->pol.list; p != NULL; p = p->next)
		if (strcmp(p->name, ref) == 0)
			return p;
	if (parse_i64(ref, 1, INT64_MAX, &id) == 0)
		return policy_by_id(m, id);
	return NULL;
}

/* Resolves p's values from its ancestors; -1 on a cycle or a missing parent. */
static int
policy_resolve_one(struct mgr *m, struct policy *p)
{
	struct policy *chain[POLICY_MAX_DEPTH], *q = p;
	int depth = 0, i, ps;

	while (q != NULL) {
		if (depth == POLICY_MAX_DEPTH)
			return -1;
		chain[depth++] = q;
		q = q->parent_id ? policy_by_id(m, q->parent_id) : NULL;
		if (q == NULL && chain[depth - 1]->parent_id)
			return -1;
	}
	for (ps = 0; ps < PS_COUNT; ps++) {
		p->eff[ps] = m->pol.base[ps];
		p->eff_from[ps] = 0;
		for (i = 0; i < depth; i++)
			if (chain[i]->own.set & (1u << ps)) {
				p->eff[ps] = chain[i]->own.v[ps];
				p->eff_from[ps] = chain[i]->id;
				break;
			}
	}
	return 0;
}

static json_t *
policy_config_json(const char *name, int64_t id, const int64_t v[PS_COUNT])
{
	json_t *cfg = json_object(), *mods = json_object();
	int ps;

	if (cfg == NULL || mods == NULL) {
		json_decref(cfg);
		json_decref(mods);
		return NULL;
	}
	json_object_set_new(cfg, "policy", json_string(name));
	json_object_set_new(cfg, "policy_id", json_integer(id));
	for (ps = 0; ps < PS_FIRST_MODULE; ps++)
		json_object_set_new(cfg, ps_table[ps].name, ps_json(ps, v[ps]));
	for (ps = PS_FIRST_MODULE; ps < PS_COUNT; ps++)
		json_object_set_new(mods, ps_table[ps].name, ps_json(ps, v[ps]));
	json_object_set_new(cfg, "modules", mods);
	return cfg;
}

/* Resolves every policy again and refreshes the fingerprints. */
static int
policies_resolve(struct mgr *m)
{
	struct policy *p;
	int ret = 0;

	for (p = m->pol.list; p != NULL; p = p->next) {
		json_t *cfg;
		if (policy_resolve_one(m, p) < 0) {
			ret = -1;
			continue;
		}
		cfg = policy_config_json(p->name, p->id, p->eff);
		if (cfg == NULL || policy_fingerprint(cfg, p->fpr) < 0)
			ret = -1;
		/* the heartbeat answer sends this text: no tree, no dump per heartbeat */
		free(p->cfg_json);
		p->cfg_json = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
		json_decref(cfg);
	}
	return ret;
}

static int
policy_load_cb(void *ctx, const struct policy_row *row)
{
	struct mgr *m = ctx;
	struct policy *p = calloc(1, sizeof(*p)), **tail;
	json_error_t je;
	json_t *o;
	char err[256];

	if (p == NULL || computer_set_str(&p->name, row->name) < 0 ||
	    computer_set_str(&p->description, row->description) < 0) {
		policy_free(p);
		return -1;
	}
	p->id = row->id;
	p->parent_id = row->parent_id;
	p->created_ms = row->created_ms;
	p->changed_ms = row->changed_ms;
	o = json_loads(row->settings, 0, &je);
	if (o == NULL || policy_values_parse(o, &p->own, NULL, err, sizeof(err)) < 0) {
		/* keep the policy; a damaged row must not stop the manager */
		log_warn("policy: policy %lld (%s) has unreadable settings (%s); using inherited "
		         "values",
		         (long long)p->id, p->name, o == NULL ? je.text : err);
		memset(&p->own, 0, sizeof(p->own));
	}
	json_decref(o);
	for (tail = &m->pol.list; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = p;
	m->pol.n++;
	if (p->id >= m->pol.next_id)
		m->pol.next_id = p->id + 1;
	return 0;
}

int
policies_load(struct mgr *m, const char **errstr_r)
{
	struct policies *pol = &m->pol;
	struct policy *p;

	pol->base[PS_HEARTBEAT_INTERVAL] = m->cfg.heartbeat_interval;
	pol->base[PS_MISSED_HEARTBEATS] = m->cfg.missed_heartbeats_allowed;
	pol->base[PS_MAX_CLOCK_CHANGE] = m->cfg.max_clock_change;
	pol->base[PS_OFFLINE_STOPPED_VMS] = m->cfg.offline_errors_for_stopped_vms;
	pol->base[PS_DIRECTION] = DIR_BIDIRECTIONAL;
	if (store_load_policies(&m->store, policy_load_cb, m) < 0) {
		*errstr_r = "cannot read the policies from the database";
		return -1;
	}
	if (policy_by_id(m, POLICY_DEFAULT_ID) == NULL) {
		*errstr_r = "the database has no Default policy (ID 1)";
		return -1;
	}
	if (policies_resolve(m) < 0) {
		/* a broken parent link: cut it rather than refuse to start */
		for (p = pol->list; p != NULL; p = p->next)
			if (policy_resolve_one(m, p) < 0) {
				log_warn(
				    "policy: %s has a missing or circular parent; it now inherits "
				    "from the configuration",
				    p->name);
				p->parent_id = 0;
			}
		policies_resolve(m);
	}
	return 0;
}

static int
policy_name_ok(const char *name, char *err, size_t errsize)
{
	int64_t id;
	size_t n = strlen(name);

	if (n == 0 || n > POLICY_MAX_NAME || !proto_text_ok(name)) {
		snprintf(
		    err, errsize,
		    "a policy name is 1 to %d printable characters, without control characters",
		    POLICY_MAX_NAME);
		return -1;
	}
	/* a name that reads as a number would be taken for an ID */
	if (parse_i64(name, 0, INT64_MAX, &id) == 0) {
		snprintf(err, errsize, "a policy name cannot be a number (\"%s\" reads as an ID)",
		         name);
		return -1;
	}
	return 0;
}

static int
policy_write(struct mgr *m, struct policy *p, int insert)
{
	json_t *o = policy_values_json(&p->own);
	char *settings = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	struct policy_row row;
	int ret = -1;

	json_decref(o);
	if (settings == NULL)
		return -1;
	row.id = p->id;
	row.name = p->name;
	row.description = p->description;
	row.parent_id = p->parent_id;
	row.settings = settings;
	row.created_ms = p->created_ms;
	row.changed_ms = p->changed_ms;
	ret = store_policy_write(&m->store, &row, insert);
	free(settings);
	return ret;
}

/*
 * After a change: every computer under a policy whose configuration moved
 * follows it.  The policies are compared once (few), then one pass over the
 * computers (many) reads a flag: O(computers + policies^2), not their product.
 */
static void
policies_apply(struct mgr *m, const char *prev_fprs, size_t nprev)
{
	const size_t rec = sizeof(int64_t) + PKI_FPR_LEN;
	struct policy *p;
	size_t i, k;

	for (p = m->pol.list; p != NULL; p = p->next) {
		/* prev_fprs holds (id, fingerprint) records of every policy before the change */
		p->moved = 1;
		for (k = 0; k + rec <= nprev; k += rec) {
			int64_t id;
			memcpy(&id, prev_fprs + k, sizeof(id));
			if (id == p->id) {
				p->moved = strcmp(prev_fprs + k + sizeof(id), p->fpr) != 0;
				break;
			}
		}
	}
	for (i = 0; i < m->reg.n; i++) {
		struct computer *c = m->reg.byid[i];
		if (c->pol != NULL && c->pol->moved)
			status_config_changed(m, c);
	}
}

/* Snapshot of (id, fingerprint) of every policy; malloc'd. */
static char *
policies_snapshot(struct mgr *m, size_t *len_r)
{
	size_t rec = sizeof(int64_t) + PKI_FPR_LEN, k = 0;
	char *s = malloc(rec * (m->pol.n + 1));
	struct policy *p;

	*len_r = 0;
	if (s == NULL)
		return NULL;
	for (p = m->pol.list; p != NULL; p = p->next, k += rec) {
		memcpy(s + k, &p->id, sizeof(p->id));
		memcpy(s + k + sizeof(p->id), p->fpr, PKI_FPR_LEN);
	}
	*len_r = k;
	return s;
}

struct policy *
policy_create(struct mgr *m, const char *name, const char *description, int64_t parent_id,
              const char *by, char *err, size_t errsize)
{
	struct policy *p, **tail;

	if (policy_name_ok(name, err, errsize) < 0)
		return NULL;
	if (description == NULL)
		description = "";
	if (strlen(description) > POLICY_MAX_DESCRIPTION || !proto_text_ok(description)) {
		snprintf(err, errsize, "the description is at most %d printable characters",
		         POLICY_MAX_DESCRIPTION);
		return NULL;
	}
	if (policy_find(m, name) != NULL) {
		snprintf(err, errsize, "a policy named \"%s\" already exists", name);
		return NULL;
	}
	if (parent_id && policy_by_id(m, parent_id) == NULL) {
		snprintf(err, errsize, "no parent policy with ID %lld", (long long)parent_id);
		return NULL;
	}
	if (m->pol.n >= POLICY_MAX_COUNT) {
		snprintf(err, errsize, "this manager already has %d policies, the most it keeps",
		         POLICY_MAX_COUNT);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL || computer_set_str(&p->name, name) < 0 ||
	    computer_set_str(&p->description, description) < 0) {
		policy_free(p);
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	p->id = m->pol.next_id;
	p->parent_id = parent_id;
	p->created_ms = p->changed_ms = now_ms();
	if (policy_write(m, p, 1) < 0) {
		policy_free(p);
		snprintf(err, errsize,
		         "the manager cannot write its database; nothing was created");
		return NULL;
	}
	m->pol.next_id++;
	for (tail = &m->pol.list; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = p;
	m->pol.n++;
	policies_resolve(m);
	event_record(m, EV_POLICY_CREATED, NULL, "policy %s (ID %lld) created by %s%s%s", p->name,
	             (long long)p->id, by, parent_id ? ", child of " : "",
	             parent_id ? policy_by_id(m, parent_id)->name : "");
	return p;
}

/* 1 when making parent_id the parent of p would close a loop. */
static int
policy_would_loop(struct mgr *m, const struct policy *p, int64_t parent_id)
{
	int depth = 0;

	while (parent_id && depth++ <= POLICY_MAX_DEPTH) {
		const struct policy *q = policy_by_id(m, parent_id);
		if (q == NULL)
			return 0;
		if (q == p)
			return 1;
		parent_id = q->parent_id;
	}
	return depth > POLICY_MAX_DEPTH;
}

int
policy_update(struct mgr *m, struct policy *p, const struct policy_values *vals, uint32_t unset,
              int64_t parent_id, const char *description, const char *by, char *err, size_t errsize)
{
	struct policy_values old_own = p->own;
	int64_t old_parent = p->parent_id, old_changed = p->changed_ms;
	char *old_desc = NULL, *snap;
	size_t nsnap;
	int ps;

	if (parent_id >= 0 && parent_id != p->parent_id) {
		if (parent_id && policy_by_id(m, parent_id) == NULL) {
			snprintf(err, errsize, "no parent policy with ID %lld",
			         (long long)parent_id);
			return -1;
		}
		if (policy_would_loop(m, p, parent_id)) {
			snprintf(
			    err, errsize,
			    "policy %lld cannot be the parent of %s: it would be its own ancestor "
			    "(or the chain would be deeper than %d)",
			    (long long)parent_id, p->name, POLICY_MAX_DEPTH);
			return -1;
		}
	}
	if (description != NULL &&
	    (strlen(description) > POLICY_MAX_DESCRIPTION || !proto_text_ok(description))) {
		snprintf(err, errsize, "the description is at most %d printable characters",
		         POLICY_MAX_DESCRIPTION);
		return -1;
	}
	snap = policies_snapshot(m, &nsnap);
	if (snap == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	for (ps = 0; ps < PS_COUNT; ps++) {
		if (unset & (1u << ps))
			p->own.set &= ~(1u << ps);
		if (vals != NULL && (vals->set & (1u << ps))) {
			p->own.set |= 1u << ps;
			p->own.v[ps] = vals->v[ps];
		}
	}
	if (parent_id >= 0)
		p->parent_id = parent_id;
	if (description != NULL) {
		old_desc = p->description;
		p->description = strdup(description);
		if (p->description == NULL) {
			p->description = old_desc;
			old_desc = NULL;
			goto fail_mem;
		}
	}
	p->changed_ms = now_ms();
	if (policy_write(m, p, 0) < 0) {
		snprintf(err, errsize,
		         "the manager cannot write its database; nothing was changed");
		goto undo;
	}
	free(old_desc);
	policies_resolve(m);
	{
		json_t *o = policy_values_json(&p->own);
		char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		event_record(m, EV_POLICY_UPDATED, NULL, "policy %s (ID %lld) changed by %s: %s",
		             p->name, (long long)p->id, by, s ? s : "");
		free(s);
		json_decref(o);
	}
	policies_apply(m, snap, nsnap);
	free(snap);
	return 0;
fail_mem:
	snprintf(err, errsize, "out of memory");
undo:
	p->own = old_own;
	p->parent_id = old_parent;
	p->changed_ms = old_changed;
	if (old_desc != NULL) {
		free(p->description);
		p->description = old_desc;
	}
	free(snap);
	return -1;
}

void
policy_assign(struct mgr *m, struct computer *c, struct policy *p, const char *by)
{
	struct policy *old = c->pol;

	if (old == p)
		return;
	c->pol = p;
	store_mark_row(&m->store, c);
	event_record(m, EV_POLICY_ASSIGNED, c, "policy %s assigned (was %s) by %s", p->name,
	             old ? old->name : "none", by);
	status_config_changed(m, c);
}

int
policy_override(struct mgr *m, struct computer *c, const struct policy_values *vals, uint32_t unset,
                const char *by, char *err, size_t errsize)
{
	struct policy_values nv;
	json_t *o;
	char *s;
	int ps;

	memset(&nv, 0, sizeof(nv));
	if (c->ov != NULL)
		nv = *c->ov;
	for (ps = 0; ps < PS_COUNT; ps++) {
		if (unset & (1u << ps))
			nv.set &= ~(1u << ps);
		if (vals != NULL && (vals->set & (1u << ps))) {
			nv.set |= 1u << ps;
			nv.v[ps] = vals->v[ps];
		}
	}
	if (nv.set == 0) {
		free(c->ov);
		c->ov = NULL;
	} else {
		if (c->ov == NULL && (c->ov = malloc(sizeof(*c->ov))) == NULL) {
			snprintf(err, errsize, "out of memory");
			return -1;
		}
		*c->ov = nv;
	}
	store_mark_row(&m->store, c);
	o = policy_values_json(c->ov);
	s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	event_record(m, EV_COMPUTER_UPDATED, c, "settings overridden on the computer by %s: %s", by,
	             s ? s : "{}");
	free(s);
	json_decref(o);
	status_config_changed(m, c);
	return 0;
}

int64_t
policy_value(const struct mgr *m, const struct computer *c, int ps)
{
	const struct policy *p;

	if (c->ov != NULL && (c->ov->set & (1u << ps)))
		return c->ov->v[ps];
	p = c->pol;
	return p ? p->eff[ps] : m->pol.base[ps];
}

const char *
policy_value_source(const struct mgr *m, const struct computer *c, int ps)
{
	const struct policy *p, *from;

	if (c->ov != NULL && (c->ov->set & (1u << ps)))
		return "computer";
	p = c->pol;
	if (p == NULL || p->eff_from[ps] == 0)
		return "configuration";
	from = policy_by_id(m, p->eff_from[ps]);
	return from ? from->name : "configuration";
}

json_t *
policy_effective(const struct mgr *m, const struct computer *c)
{
	const struct policy *p = c->pol;
	int64_t v[PS_COUNT];
	int ps;

	for (ps = 0; ps < PS_COUNT; ps++)
		v[ps] = policy_value(m, c, ps);
	return policy_config_json(p ? p->name : "Default", p ? p->id : POLICY_DEFAULT_ID, v);
}

int
policy_config_fpr(const struct mgr *m, const struct computer *c, char out[PKI_FPR_LEN])
{
	const struct policy *p = c->pol;
	json_t *cfg;
	int ret;

	if (p != NULL && c->ov == NULL) {
		memcpy(out, p->fpr, PKI_FPR_LEN);
		return 0;
	}
	cfg = policy_effective(m, c);
	ret = cfg ? policy_fingerprint(cfg, out) : -1;
	json_decref(cfg);
	return ret;
}

const char *
policy_config_text(const struct mgr *m, const struct computer *c, char **owned)
{
	const struct policy *p = c->pol;
	json_t *cfg;

	*owned = NULL;
	if (p != NULL && c->ov == NULL && p->cfg_json != NULL)
		return p->cfg_json;
	cfg = policy_effective(m, c);
	*owned = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
	json_decref(cfg);
	return *owned;
}
