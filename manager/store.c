/*
 * store: see store.h.  All SQL of the manager is here, portable ("?"
 * placeholders, no engine-specific functions), so a PostgreSQL driver
 * needs no change outside db_pgsql.c.
 */
#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "alerts.h"
#include "log.h"
#include "mgr.h"
#include "policy.h"
#include "registry.h"
#include "util.h"

#define D(s) ((s)->h.drv)

static const char sql_contact[] =
	"UPDATE computers SET last_contact_ms = ?, last_ip = ? WHERE id = ?";
static const char sql_row[] =
	"UPDATE computers SET hostname = ?, description = ?, platform = ?, agent_version = ?, "
	"machine_id = ?, policy_id = ?, cert_serial = ?, cert_not_after_ms = ?, state = ?, offline = ?, "
	"last_contact_ms = ?, last_ip = ?, interfaces = ?, clock_offset_ms = ?, power = ?, "
	"failure = ?, activated_ms = ?, machine_fingerprint = ?, inventory_id = ?, overrides = ?, "
	"agent_port = ?, agent_seq = ?, agent_dropped = ? WHERE id = ?";
static const char sql_insert[] =
	"INSERT INTO computers (id, guid, hostname, description, platform, agent_version, "
	"machine_id, policy_id, cert_serial, cert_not_after_ms, state, offline, created_ms, "
	"activated_ms, last_contact_ms, last_ip, interfaces, clock_offset_ms, power, failure, "
	"machine_fingerprint, inventory_id, overrides, agent_port) "
	"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
/* a resent agent event (same computer and sequence) is already there: nothing to do */
static const char sql_event[] =
    "INSERT INTO events (id, time_ms, event_id, computer_id, target, description, agent_seq, "
    "agent_time_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (computer_id, agent_seq) DO NOTHING";
static const char sql_alert_ins[] =
	"INSERT INTO alerts (id, type, severity, dismissible, computer_id, message, "
	"first_raised_ms, last_changed_ms, cleared_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_alert_upd[] =
	"UPDATE alerts SET message = ?, last_changed_ms = ?, cleared_ms = ? WHERE id = ?";

static const char *
state_name(enum computer_state st)
{
	switch (st) {
	case COMPUTER_DEACTIVATED:
		return "deactivated";
	case COMPUTER_ACTIVATION_FAILED:
		return "activation_failed";
	case COMPUTER_ACTIVATED:
		break;
	}
	return "activated";
}

static enum computer_state
state_parse(const char *s)
{
	if (strcmp(s, "deactivated") == 0)
		return COMPUTER_DEACTIVATED;
	if (strcmp(s, "activation_failed") == 0)
		return COMPUTER_ACTIVATION_FAILED;
	return COMPUTER_ACTIVATED;
}

int
store_open(struct store *s, const char *path, const char **errstr_r)
{
	struct db_stmt *st;

	memset(s, 0, sizeof(*s));
	if (db_open(&s->h, &db_driver_sqlite, path, errstr_r) < 0)
		return -1;
	if (db_migrate(&s->h, errstr_r) < 0)
		return -1;
	s->st_contact = D(s)->prepare(s->h.db, sql_contact);
	s->st_row = D(s)->prepare(s->h.db, sql_row);
	s->st_insert = D(s)->prepare(s->h.db, sql_insert);
	s->st_event = D(s)->prepare(s->h.db, sql_event);
	s->st_alert_ins = D(s)->prepare(s->h.db, sql_alert_ins);
	s->st_alert_upd = D(s)->prepare(s->h.db, sql_alert_upd);
	if (!s->st_contact || !s->st_row || !s->st_insert || !s->st_event || !s->st_alert_ins ||
	    !s->st_alert_upd) {
		*errstr_r = D(s)->errmsg(s->h.db);
		return -1;
	}
	s->next_event_id = 1;
	st = D(s)->prepare(s->h.db, "SELECT MAX(id) FROM events");
	if (st != NULL && D(s)->step(st) == 1)
		s->next_event_id = D(s)->col_int(st, 0) + 1;
	D(s)->finalize(st);
	return 0;
}

void
store_close(struct store *s)
{
	size_t i;

	if (s->h.db == NULL)
		return;
	D(s)->finalize(s->st_contact);
	D(s)->finalize(s->st_row);
	D(s)->finalize(s->st_insert);
	D(s)->finalize(s->st_event);
	D(s)->finalize(s->st_alert_ins);
	D(s)->finalize(s->st_alert_upd);
	for (i = 0; i < s->nevents; i++) {
		free(s->events[i].target);
		free(s->events[i].description);
	}
	free(s->events);
	db_close(&s->h);
}

static const char *
col_str(struct store *s, struct db_stmt *st, int col)
{
	const char *v = D(s)->col_text(st, col);

	return v ? v : "";
}

/* c's overrides as stored: a JSON object, "{}" when none; malloc'd */
static char *
store_overrides_text(const struct computer *c)
{
	json_t *o = policy_values_json(c->ov);
	char *t = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(o);
	return t;
}

static int
store_overrides_load(struct computer *c, const char *text)
{
	struct policy_values pv;
	json_error_t je;
	json_t *o;
	char err[256];

	if (strcmp(text, "{}") == 0 || text[0] == '\0')
		return 0;
	o = json_loads(text, 0, &je);
	if (o == NULL || policy_values_parse(o, &pv, NULL, err, sizeof(err)) < 0) {
		log_warn("store: computer %lld has unreadable setting overrides; ignored",
			 (long long)c->id);
		json_decref(o);
		return 0;
	}
	json_decref(o);
	if (pv.set == 0)
		return 0;
	c->ov = malloc(sizeof(*c->ov));
	if (c->ov == NULL)
		return -1;
	*c->ov = pv;
	return 0;
}

int
store_load_computers(struct store *s, struct registry *r,
		     struct policy *(*pol_of)(void *ctx, int64_t id), void *ctx)
{
	struct db_stmt *st;
	int rc, ret = -1;

	st = D(s)->prepare(s->h.db,
			   "SELECT id, guid, hostname, description, platform, agent_version, "
			   "machine_id, policy_id, cert_serial, cert_not_after_ms, state, offline, "
			   "created_ms, activated_ms, last_contact_ms, last_ip, interfaces, "
			   "clock_offset_ms, power, failure, machine_fingerprint, inventory_id, overrides, "
			   "agent_port, agent_seq, agent_dropped FROM computers ORDER BY id");
	if (st == NULL)
		return -1;
	while ((rc = D(s)->step(st)) == 1) {
		struct computer *c = registry_new_computer(r);
		if (c == NULL)
			goto out;
		c->id = D(s)->col_int(st, 0);
		str_copy(c->guid, col_str(s, st, 1), sizeof(c->guid));
		if (computer_set_str(&c->hostname, col_str(s, st, 2)) < 0 ||
		    computer_set_str(&c->description, col_str(s, st, 3)) < 0 ||
		    computer_set_str(&c->platform, col_str(s, st, 4)) < 0 ||
		    computer_set_str(&c->agent_version, col_str(s, st, 5)) < 0 ||
		    computer_set_str(&c->machine_id, col_str(s, st, 6)) < 0 ||
		    computer_set_str(&c->interfaces_json, col_str(s, st, 16)) < 0 ||
		    computer_set_str(&c->failure, col_str(s, st, 19)) < 0 ||
		    computer_set_str(&c->inventory_id, col_str(s, st, 21)) < 0 ||
		    store_overrides_load(c, col_str(s, st, 22)) < 0) {
			computer_free(c);
			goto out;
		}
		/* an unknown policy ID (a damaged row) falls back to the base values */
		c->pol = pol_of ? pol_of(ctx, D(s)->col_int(st, 7)) : NULL;
		str_copy(c->cert_serial, col_str(s, st, 8), sizeof(c->cert_serial));
		c->cert_not_after_ms = D(s)->col_int(st, 9);
		c->state = state_parse(col_str(s, st, 10));
		c->power_stopped = strcmp(col_str(s, st, 18), "stopped") == 0;
		c->offline = (int)D(s)->col_int(st, 11);
		c->created_ms = D(s)->col_int(st, 12);
		c->activated_ms = D(s)->col_int(st, 13);
		c->last_contact_ms = D(s)->col_int(st, 14);
		str_copy(c->last_ip, col_str(s, st, 15), sizeof(c->last_ip));
		c->clock_offset_ms = D(s)->col_int(st, 17);
		c->last_clock_offset_ms = c->clock_offset_ms;
		c->agent_port = (int)D(s)->col_int(st, 23);
		str_copy(c->machine_fpr, col_str(s, st, 20), sizeof(c->machine_fpr));
		c->agent_seq = c->agent_seq_stored = D(s)->col_int(st, 24);
		c->agent_dropped = D(s)->col_int(st, 25);
		if (registry_add(r, c) < 0) {
			computer_free(c);
			goto out;
		}
	}
	ret = rc < 0 ? -1 : 0;
out:
	D(s)->finalize(st);
	return ret;
}

int
store_load_alerts(struct store *s, struct mgr *m)
{
	struct db_stmt *st;
	int rc, ret = -1;
	int64_t maxid = 0;

	st = D(s)->prepare(s->h.db, "SELECT id, type, computer_id, message, first_raised_ms, "
				    "last_changed_ms, cleared_ms FROM alerts ORDER BY id");
	if (st == NULL)
		return -1;
	while ((rc = D(s)->step(st)) == 1) {
		int64_t id = D(s)->col_int(st, 0);
		const struct alert_type *t;
		struct alert *al;

		if (id > maxid)
			maxid = id;
		if (D(s)->col_text(st, 6) != NULL)
			continue; /* cleared */
		t = alert_type_find(col_str(s, st, 1));
		if (t == NULL) {
			log_warn("store: open alert %lld has unknown type %s; ignored", (long long)id,
				 col_str(s, st, 1));
			continue;
		}
		al = calloc(1, sizeof(*al));
		if (al == NULL || computer_set_str(&al->message, col_str(s, st, 3)) < 0) {
			free(al);
			goto out;
		}
		al->id = id;
		al->type = t;
		al->computer_id = D(s)->col_int(st, 2);
		al->first_raised_ms = D(s)->col_int(st, 4);
		al->last_changed_ms = D(s)->col_int(st, 5);
		alerts_adopt(m, al);
	}
	if (maxid >= m->alerts.next_id)
		m->alerts.next_id = maxid + 1;
	ret = rc < 0 ? -1 : 0;
out:
	D(s)->finalize(st);
	return ret;
}

static int
store_bind_row(struct store *s, struct db_stmt *st, struct computer *c)
{
	char *ov = store_overrides_text(c);
	int e = ov == NULL;

	e |= D(s)->bind_text(st, 1, c->hostname);
	e |= D(s)->bind_text(st, 2, c->description);
	e |= D(s)->bind_text(st, 3, c->platform);
	e |= D(s)->bind_text(st, 4, c->agent_version);
	e |= D(s)->bind_text(st, 5, c->machine_id);
	e |= D(s)->bind_int(st, 6, c->pol ? c->pol->id : POLICY_DEFAULT_ID);
	e |= D(s)->bind_text(st, 7, c->cert_serial);
	e |= D(s)->bind_int(st, 8, c->cert_not_after_ms);
	e |= D(s)->bind_text(st, 9, state_name(c->state));
	e |= D(s)->bind_int(st, 10, c->offline);
	e |= D(s)->bind_int(st, 11, c->last_contact_ms);
	e |= D(s)->bind_text(st, 12, c->last_ip);
	e |= D(s)->bind_text(st, 13, c->interfaces_json);
	e |= D(s)->bind_int(st, 14, c->clock_offset_ms);
	e |= D(s)->bind_text(st, 15, c->power_stopped ? "stopped" : "running");
	e |= D(s)->bind_text(st, 16, c->failure);
	e |= D(s)->bind_int(st, 17, c->activated_ms);
	e |= D(s)->bind_text(st, 18, c->machine_fpr);
	e |= D(s)->bind_text(st, 19, c->inventory_id);
	e |= D(s)->bind_text(st, 20, ov ? ov : "{}");
	e |= D(s)->bind_int(st, 21, c->agent_port);
	e |= D(s)->bind_int(st, 22, c->agent_seq);
	e |= D(s)->bind_int(st, 23, c->agent_dropped);
	e |= D(s)->bind_int(st, 24, c->id);
	free(ov);
	return e ? -1 : 0;
}

static int
store_bind_insert(struct store *s, struct db_stmt *st, struct computer *c)
{
	char *ov = store_overrides_text(c);
	int e = ov == NULL;

	e |= D(s)->bind_int(st, 1, c->id);
	e |= D(s)->bind_text(st, 2, c->guid);
	e |= D(s)->bind_text(st, 3, c->hostname);
	e |= D(s)->bind_text(st, 4, c->description);
	e |= D(s)->bind_text(st, 5, c->platform);
	e |= D(s)->bind_text(st, 6, c->agent_version);
	e |= D(s)->bind_text(st, 7, c->machine_id);
	e |= D(s)->bind_int(st, 8, c->pol ? c->pol->id : POLICY_DEFAULT_ID);
	e |= D(s)->bind_text(st, 9, c->cert_serial);
	e |= D(s)->bind_int(st, 10, c->cert_not_after_ms);
	e |= D(s)->bind_text(st, 11, state_name(c->state));
	e |= D(s)->bind_int(st, 12, c->offline);
	e |= D(s)->bind_int(st, 13, c->created_ms);
	e |= D(s)->bind_int(st, 14, c->activated_ms);
	e |= D(s)->bind_int(st, 15, c->last_contact_ms);
	e |= D(s)->bind_text(st, 16, c->last_ip);
	e |= D(s)->bind_text(st, 17, c->interfaces_json);
	e |= D(s)->bind_int(st, 18, c->clock_offset_ms);
	e |= D(s)->bind_text(st, 19, c->power_stopped ? "stopped" : "running");
	e |= D(s)->bind_text(st, 20, c->failure);
	e |= D(s)->bind_text(st, 21, c->machine_fpr);
	e |= D(s)->bind_text(st, 22, c->inventory_id);
	e |= D(s)->bind_text(st, 23, ov ? ov : "{}");
	e |= D(s)->bind_int(st, 24, c->agent_port);
	free(ov);
	return e ? -1 : 0;
}

void
store_insert_later(struct store *s, struct computer *c)
{
	if (c->insert_pending)
		return;
	c->insert_pending = 1;
	c->next_insert = NULL;
	if (s->inserts == NULL)
		s->inserts_tail = &s->inserts;
	*s->inserts_tail = c;
	s->inserts_tail = &c->next_insert;
}

void
store_insert_cancel(struct store *s, struct computer *c)
{
	struct computer **pp;

	if (!c->insert_pending)
		return;
	for (pp = &s->inserts; *pp != c; pp = &(*pp)->next_insert)
		;
	*pp = c->next_insert;
	if (s->inserts_tail == &c->next_insert)
		s->inserts_tail = pp;
	c->insert_pending = 0;
	c->next_insert = NULL;
}

int
store_computer_insert(struct store *s, struct computer *c)
{
	store_insert_later(s, c);
	if (store_flush(s, 0) < 0) {
		/* the caller frees c: nothing of it may stay queued */
		store_insert_cancel(s, c);
		return -1;
	}
	return 0;
}

int
store_computer_write(struct store *s, struct computer *c)
{
	store_mark_row(s, c);
	return store_flush(s, 0);
}

int
store_license_insert(struct store *s, const struct license *l)
{
	struct db_stmt *st = D(s)->prepare(s->h.db, "INSERT INTO licenses (id, seats, modules, "
						    "expires_ms, created_ms) VALUES (?, ?, ?, ?, ?)");
	int e = 0;

	if (st == NULL)
		return -1;
	e |= D(s)->bind_int(st, 1, l->id);
	e |= D(s)->bind_int(st, 2, l->seats);
	e |= D(s)->bind_text(st, 3, l->modules);
	e |= D(s)->bind_int(st, 4, l->expires_ms);
	e |= D(s)->bind_int(st, 5, l->created_ms);
	if (e == 0)
		e = D(s)->step(st) < 0;
	D(s)->finalize(st);
	return e ? -1 : 0;
}

int
store_load_licenses(struct store *s, int (*cb)(void *ctx, const struct license *l), void *ctx)
{
	struct db_stmt *st = D(s)->prepare(s->h.db, "SELECT id, seats, modules, expires_ms, "
						    "created_ms FROM licenses ORDER BY id");
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = D(s)->step(st)) == 1) {
		struct license l;
		l.id = D(s)->col_int(st, 0);
		l.seats = D(s)->col_int(st, 1);
		l.modules = (char *)col_str(s, st, 2);
		l.expires_ms = D(s)->col_int(st, 3);
		l.created_ms = D(s)->col_int(st, 4);
		l.next = NULL;
		if (cb(ctx, &l) < 0) {
			rc = -1;
			break;
		}
	}
	D(s)->finalize(st);
	return rc < 0 ? -1 : 0;
}

void
store_mark_contact(struct store *s, struct computer *c)
{
	if (c->dirty_contact)
		return;
	c->dirty_contact = 1;
	c->next_contact = s->dirty_contacts;
	s->dirty_contacts = c;
	s->ndirty_contacts++;
}

void
store_mark_row(struct store *s, struct computer *c)
{
	if (c->dirty_row)
		return;
	c->dirty_row = 1;
	c->next_dirty = s->dirty_rows;
	s->dirty_rows = c;
}

void
store_mark_alert(struct store *s, struct alert *al)
{
	if (al->dirty)
		return;
	al->dirty = 1;
	al->next_dirty = s->dirty_alerts;
	s->dirty_alerts = al;
}

int
store_event_add(struct store *s, int64_t time_ms, int event_id, int64_t computer_id,
		const char *target, const char *description)
{
	return store_agent_event_add(s, time_ms, event_id, computer_id, target, description, 0, 0);
}

int
store_agent_event_add(struct store *s, int64_t time_ms, int event_id, int64_t computer_id,
                      const char *target, const char *description, int64_t agent_seq,
                      int64_t agent_time_ms)
{
	struct pending_event *e;

	/* while the database refuses writes, memory must not grow without bound */
	if (s->nevents >= STORE_MAX_PENDING_EVENTS) {
		s->events_dropped++;
		return -1;
	}
	if (s->nevents == s->events_cap) {
		size_t cap = s->events_cap ? s->events_cap * 2 : 64;
		struct pending_event *v = realloc(s->events, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		s->events = v;
		s->events_cap = cap;
	}
	e = &s->events[s->nevents];
	e->target = strdup(target);
	e->description = strdup(description);
	if (e->target == NULL || e->description == NULL) {
		free(e->target);
		free(e->description);
		return -1;
	}
	e->id = s->next_event_id++;
	e->time_ms = time_ms;
	e->event_id = event_id;
	e->computer_id = computer_id;
	e->agent_seq = agent_seq;
	e->agent_time_ms = agent_time_ms;
	s->nevents++;
	return 0;
}

static int
store_write_alert(struct store *s, struct alert *al, int is_new)
{
	struct db_stmt *st;
	int e = 0;

	if (is_new) {
		st = s->st_alert_ins;
		e |= D(s)->bind_int(st, 1, al->id);
		e |= D(s)->bind_text(st, 2, al->type->id);
		e |= D(s)->bind_text(st, 3, alert_severity_name(al->type->severity));
		e |= D(s)->bind_int(st, 4, al->type->dismissible);
		e |= D(s)->bind_int(st, 5, al->computer_id);
		e |= D(s)->bind_text(st, 6, al->message);
		e |= D(s)->bind_int(st, 7, al->first_raised_ms);
		e |= D(s)->bind_int(st, 8, al->last_changed_ms);
		if (al->cleared_ms)
			e |= D(s)->bind_int(st, 9, al->cleared_ms);
		else
			e |= D(s)->bind_text(st, 9, NULL);
	} else {
		st = s->st_alert_upd;
		e |= D(s)->bind_text(st, 1, al->message);
		e |= D(s)->bind_int(st, 2, al->last_changed_ms);
		if (al->cleared_ms)
			e |= D(s)->bind_int(st, 3, al->cleared_ms);
		else
			e |= D(s)->bind_text(st, 3, NULL);
		e |= D(s)->bind_int(st, 4, al->id);
	}
	if (e == 0)
		e = D(s)->step(st) < 0;
	D(s)->reset(st);
	return e ? -1 : 0;
}

static int
store_alert_exists(struct store *s, int64_t id)
{
	struct db_stmt *st = D(s)->prepare(s->h.db, "SELECT 1 FROM alerts WHERE id = ?");
	int found = 0;

	if (st == NULL)
		return -1;
	D(s)->bind_int(st, 1, id);
	found = D(s)->step(st) == 1;
	D(s)->finalize(st);
	return found;
}

/* from half a millisecond (an idle batch) to a second (a stalled disk) */
const int64_t store_flush_bucket_us[STORE_FLUSH_BUCKETS] = {
	500, 1000, 2500, 5000, 10000, 25000, 100000, 250000, 1000000,
};

static int64_t
store_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
store_flush(struct store *s, int with_contacts)
{
	struct computer *c, *next;
	struct alert *al, *anext;
	int64_t t0 = store_now_us();
	size_t i;
	int err = 0;

	if (s->nevents == 0 && s->inserts == NULL && s->dirty_rows == NULL &&
	    s->dirty_alerts == NULL && (!with_contacts || s->dirty_contacts == NULL))
		return 0;
	if (db_begin(&s->h) < 0)
		return -1;
	/* new computers first: rows and events of this transaction may refer to them */
	for (c = s->inserts; c && !err; c = c->next_insert) {
		if (store_bind_insert(s, s->st_insert, c) < 0 || D(s)->step(s->st_insert) < 0)
			err = 1;
		D(s)->reset(s->st_insert);
	}
	for (c = s->dirty_rows; c && !err; c = c->next_dirty) {
		if (store_bind_row(s, s->st_row, c) < 0 || D(s)->step(s->st_row) < 0)
			err = 1;
		D(s)->reset(s->st_row);
	}
	if (with_contacts)
		for (c = s->dirty_contacts; c && !err; c = c->next_contact) {
			struct db_stmt *st = s->st_contact;
			if (D(s)->bind_int(st, 1, c->last_contact_ms) < 0 ||
			    D(s)->bind_text(st, 2, c->last_ip) < 0 || D(s)->bind_int(st, 3, c->id) < 0 ||
			    D(s)->step(st) < 0)
				err = 1;
			D(s)->reset(st);
		}
	for (al = s->dirty_alerts; al && !err; al = al->next_dirty) {
		int exists = store_alert_exists(s, al->id);
		if (exists < 0 || store_write_alert(s, al, !exists) < 0)
			err = 1;
	}
	for (i = 0; i < s->nevents && !err; i++) {
		struct pending_event *e = &s->events[i];
		struct db_stmt *st = s->st_event;
		int b = 0;
		b |= D(s)->bind_int(st, 1, e->id);
		b |= D(s)->bind_int(st, 2, e->time_ms);
		b |= D(s)->bind_int(st, 3, e->event_id);
		if (e->computer_id)
			b |= D(s)->bind_int(st, 4, e->computer_id);
		else
			b |= D(s)->bind_text(st, 4, NULL);
		b |= D(s)->bind_text(st, 5, e->target);
		b |= D(s)->bind_text(st, 6, e->description);
		if (e->agent_seq) {
			b |= D(s)->bind_int(st, 7, e->agent_seq);
			b |= D(s)->bind_int(st, 8, e->agent_time_ms);
		} else {
			b |= D(s)->bind_text(st, 7, NULL);
			b |= D(s)->bind_text(st, 8, NULL);
		}
		if (b || D(s)->step(st) < 0)
			err = 1;
		D(s)->reset(st);
	}
	if (err || db_commit(&s->h) < 0) {
		/* keep everything pending; the next flush retries */
		db_rollback(&s->h);
		s->flush_errors++;
		log_warn("store: flush failed: %s; will retry", D(s)->errmsg(s->h.db));
		return -1;
	}
	for (c = s->inserts; c; c = next) {
		next = c->next_insert;
		c->insert_pending = 0;
		c->next_insert = NULL;
	}
	s->inserts = NULL;
	s->inserts_tail = &s->inserts;
	for (c = s->dirty_rows; c; c = next) {
		next = c->next_dirty;
		c->dirty_row = 0;
		c->next_dirty = NULL;
	}
	s->dirty_rows = NULL;
	if (with_contacts) {
		for (c = s->dirty_contacts; c; c = next) {
			next = c->next_contact;
			c->dirty_contact = 0;
			c->next_contact = NULL;
		}
		s->dirty_contacts = NULL;
		s->ndirty_contacts = 0;
	}
	for (al = s->dirty_alerts; al; al = anext) {
		anext = al->next_dirty;
		al->dirty = 0;
		al->next_dirty = NULL;
		if (al->cleared_ms)
			alert_free(al); /* no longer in the open list */
	}
	s->dirty_alerts = NULL;
	for (i = 0; i < s->nevents; i++) {
		free(s->events[i].target);
		free(s->events[i].description);
	}
	s->nevents = 0;
	s->flushes++;
	s->last_flush_us = store_now_us() - t0;
	s->flush_sum_us += s->last_flush_us;
	for (i = 0; i < STORE_FLUSH_BUCKETS && s->last_flush_us > store_flush_bucket_us[i]; i++)
		;
	s->flush_hist[i]++;
	return 0;
}

int
store_events_prune(struct store *s, int64_t min_time_ms, int64_t max_count)
{
	struct db_stmt *st;
	int err = 0;

	st = D(s)->prepare(s->h.db, "DELETE FROM events WHERE time_ms < ?");
	if (st == NULL)
		return -1;
	D(s)->bind_int(st, 1, min_time_ms);
	err |= D(s)->step(st) < 0;
	D(s)->finalize(st);
	st = D(s)->prepare(s->h.db, "DELETE FROM events WHERE id <= "
				    "(SELECT MAX(id) FROM events) - ?");
	if (st == NULL)
		return -1;
	D(s)->bind_int(st, 1, max_count);
	err |= D(s)->step(st) < 0;
	D(s)->finalize(st);
	return err ? -1 : 0;
}

int
store_events_query(struct store *s, const struct event_filter *f,
		   int (*cb)(void *ctx, const struct event_row *row), void *ctx)
{
	char sql[640];
	struct db_stmt *st;
	int rc, idx = 1;

	/* the same statement text for every filter: unused ones are disabled by value */
	snprintf(sql, sizeof(sql),
	         "SELECT id, time_ms, event_id, computer_id, target, description, agent_seq, "
	         "agent_time_ms FROM events "
	         "WHERE (? = 0 OR computer_id = ?) AND (? = 0 OR event_id = ?) "
	         "AND time_ms >= ? AND time_ms <= ? AND %s "
	         "ORDER BY id %s LIMIT ?",
	         f->descending ? "(? = 0 OR id < ?)" : "id > ?", f->descending ? "DESC" : "ASC");
	st = D(s)->prepare(s->h.db, sql);
	if (st == NULL)
		return -1;
	D(s)->bind_int(st, idx++, f->computer_id);
	D(s)->bind_int(st, idx++, f->computer_id);
	D(s)->bind_int(st, idx++, f->event_id);
	D(s)->bind_int(st, idx++, f->event_id);
	D(s)->bind_int(st, idx++, f->since_ms);
	D(s)->bind_int(st, idx++, f->until_ms ? f->until_ms : INT64_MAX);
	if (f->descending)
		D(s)->bind_int(st, idx++, f->after_id);
	D(s)->bind_int(st, idx++, f->after_id);
	D(s)->bind_int(st, idx++, f->limit);
	while ((rc = D(s)->step(st)) == 1) {
		struct event_row row;
		row.id = D(s)->col_int(st, 0);
		row.time_ms = D(s)->col_int(st, 1);
		row.event_id = (int)D(s)->col_int(st, 2);
		row.computer_id = D(s)->col_int(st, 3);
		row.target = col_str(s, st, 4);
		row.description = col_str(s, st, 5);
		row.agent_seq = D(s)->col_int(st, 6);
		row.agent_time_ms = D(s)->col_int(st, 7);
		if (cb(ctx, &row) < 0) {
			rc = -1;
			break;
		}
	}
	D(s)->finalize(st);
	return rc < 0 ? -1 : 0;
}

int
store_alerts_query(struct store *s, int include_cleared, int64_t computer_id,
		   int (*cb)(void *ctx, const struct alert_row *row), void *ctx)
{
	struct db_stmt *st;
	int rc;

	st = D(s)->prepare(s->h.db,
			   "SELECT id, type, severity, dismissible, computer_id, message, "
			   "first_raised_ms, last_changed_ms, cleared_ms FROM alerts "
			   "WHERE (? = 1 OR cleared_ms IS NULL) AND (? = 0 OR computer_id = ?) "
			   "ORDER BY id");
	if (st == NULL)
		return -1;
	D(s)->bind_int(st, 1, include_cleared ? 1 : 0);
	D(s)->bind_int(st, 2, computer_id);
	D(s)->bind_int(st, 3, computer_id);
	while ((rc = D(s)->step(st)) == 1) {
		struct alert_row row;
		row.id = D(s)->col_int(st, 0);
		row.type = col_str(s, st, 1);
		row.severity = col_str(s, st, 2);
		row.dismissible = (int)D(s)->col_int(st, 3);
		row.computer_id = D(s)->col_int(st, 4);
		row.message = col_str(s, st, 5);
		row.first_raised_ms = D(s)->col_int(st, 6);
		row.last_changed_ms = D(s)->col_int(st, 7);
		row.cleared_ms = D(s)->col_text(st, 8) ? D(s)->col_int(st, 8) : 0;
		if (cb(ctx, &row) < 0) {
			rc = -1;
			break;
		}
	}
	D(s)->finalize(st);
	return rc < 0 ? -1 : 0;
}

/* Runs one statement with the given binds (int64 or text, by fmt: 'i'/'s'). */
static int
store_exec(struct store *s, const char *sql, const char *fmt, ...)
{
	struct db_stmt *st = D(s)->prepare(s->h.db, sql);
	va_list ap;
	int e = 0, i;

	if (st == NULL)
		return -1;
	va_start(ap, fmt);
	for (i = 0; fmt[i]; i++) {
		if (fmt[i] == 'i')
			e |= D(s)->bind_int(st, i + 1, va_arg(ap, int64_t));
		else
			e |= D(s)->bind_text(st, i + 1, va_arg(ap, const char *));
	}
	va_end(ap);
	if (e == 0)
		e = D(s)->step(st) < 0;
	D(s)->finalize(st);
	return e ? -1 : 0;
}

int
store_cert_revoke(struct store *s, const char *serial, const char *guid, int64_t not_after_ms,
		  const char *reason)
{
	if (serial[0] == '\0')
		return 0;
	return store_exec(s,
			  "INSERT INTO revoked_certificates (serial, guid, not_after_ms, revoked_ms, "
			  "reason) VALUES (?, ?, ?, ?, ?) ON CONFLICT (serial) DO NOTHING",
			  "ssiis", serial, guid, not_after_ms, now_ms(), reason);
}

int
store_cert_revoked(struct store *s, const char *serial)
{
	struct db_stmt *st =
		D(s)->prepare(s->h.db, "SELECT 1 FROM revoked_certificates WHERE serial = ?");
	int rc;

	if (st == NULL)
		return -1;
	if (D(s)->bind_text(st, 1, serial) < 0) {
		D(s)->finalize(st);
		return -1;
	}
	rc = D(s)->step(st);
	D(s)->finalize(st);
	return rc < 0 ? -1 : rc == 1;
}

int
store_certs_prune(struct store *s, int64_t now)
{
	return store_exec(s, "DELETE FROM revoked_certificates WHERE not_after_ms < ?", "i", now);
}

int
store_computer_delete(struct store *s, const struct computer *c, const char *revoke_reason,
		      int64_t id_floor)
{
	char idbuf[24];

	/* nothing of c may stay in the pending lists */
	if (store_flush(s, 1) < 0 || db_begin(&s->h) < 0)
		return -1;
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id_floor);
	if (store_exec(s, "DELETE FROM computers WHERE id = ?", "i", c->id) < 0 ||
	    (revoke_reason != NULL && c->cert_serial[0] &&
	     store_exec(s,
			"INSERT INTO revoked_certificates (serial, guid, not_after_ms, revoked_ms, "
			"reason) VALUES (?, ?, ?, ?, ?) ON CONFLICT (serial) DO NOTHING",
			"ssiis", c->cert_serial, c->guid, c->cert_not_after_ms, now_ms(),
			revoke_reason) < 0) ||
	    /* IDs are never reused: events of the deleted computer keep pointing at it */
	    store_exec(s, "DELETE FROM settings WHERE name = 'computer_id_floor'", "") < 0 ||
	    store_exec(s, "INSERT INTO settings (name, value) VALUES ('computer_id_floor', ?)", "s",
		       idbuf) < 0 ||
	    db_commit(&s->h) < 0) {
		db_rollback(&s->h);
		return -1;
	}
	return 0;
}

int
store_setting_get(struct store *s, const char *name, char *out, size_t outsize)
{
	struct db_stmt *st = D(s)->prepare(s->h.db, "SELECT value FROM settings WHERE name = ?");
	int ret = -1;

	if (st == NULL)
		return -1;
	D(s)->bind_text(st, 1, name);
	if (D(s)->step(st) == 1 && str_copy(out, col_str(s, st, 0), outsize) == 0)
		ret = 0;
	D(s)->finalize(st);
	return ret;
}

int
store_setting_set(struct store *s, const char *name, const char *value)
{
	struct db_stmt *st;
	int err = 0;

	st = D(s)->prepare(s->h.db, "DELETE FROM settings WHERE name = ?");
	if (st == NULL)
		return -1;
	D(s)->bind_text(st, 1, name);
	err |= D(s)->step(st) < 0;
	D(s)->finalize(st);
	st = D(s)->prepare(s->h.db, "INSERT INTO settings (name, value) VALUES (?, ?)");
	if (st == NULL)
		return -1;
	D(s)->bind_text(st, 1, name);
	D(s)->bind_text(st, 2, value);
	err |= D(s)->step(st) < 0;
	D(s)->finalize(st);
	return err ? -1 : 0;
}

int
store_load_policies(struct store *s, int (*cb)(void *ctx, const struct policy_row *row), void *ctx)
{
	struct db_stmt *st = D(s)->prepare(s->h.db, "SELECT id, name, description, parent_id, "
						    "settings, created_ms, changed_ms FROM policies "
						    "ORDER BY id");
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = D(s)->step(st)) == 1) {
		struct policy_row row;
		row.id = D(s)->col_int(st, 0);
		row.name = col_str(s, st, 1);
		row.description = col_str(s, st, 2);
		row.parent_id = D(s)->col_text(st, 3) ? D(s)->col_int(st, 3) : 0;
		row.settings = col_str(s, st, 4);
		row.created_ms = D(s)->col_int(st, 5);
		row.changed_ms = D(s)->col_int(st, 6);
		if (cb(ctx, &row) < 0) {
			rc = -1;
			break;
		}
	}
	D(s)->finalize(st);
	return rc < 0 ? -1 : 0;
}

int
store_policy_write(struct store *s, const struct policy_row *row, int insert)
{
	struct db_stmt *st = D(s)->prepare(
		s->h.db, insert ? "INSERT INTO policies (name, description, parent_id, settings, "
				  "created_ms, changed_ms, id) VALUES (?, ?, ?, ?, ?, ?, ?)"
				: "UPDATE policies SET name = ?, description = ?, parent_id = ?, "
				  "settings = ?, created_ms = ?, changed_ms = ? WHERE id = ?");
	int e = 0;

	if (st == NULL)
		return -1;
	e |= D(s)->bind_text(st, 1, row->name);
	e |= D(s)->bind_text(st, 2, row->description);
	if (row->parent_id)
		e |= D(s)->bind_int(st, 3, row->parent_id);
	else
		e |= D(s)->bind_text(st, 3, NULL);
	e |= D(s)->bind_text(st, 4, row->settings);
	e |= D(s)->bind_int(st, 5, row->created_ms);
	e |= D(s)->bind_int(st, 6, row->changed_ms);
	e |= D(s)->bind_int(st, 7, row->id);
	if (e == 0)
		e = D(s)->step(st) < 0;
	D(s)->finalize(st);
	return e ? -1 : 0;
}
