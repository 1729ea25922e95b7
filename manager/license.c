/*
 * license: see license.h.
 */
#include "license.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "events.h"
#include "log.h"
#include "mgr.h"
#include "util.h"

const struct alert_type alert_license_expiring = {
	"license-expiring", "License expiring soon", ALERT_WARNING, 0,
	"A license expires within 60 days; new activations will be refused after that."};
const struct alert_type alert_license_expired = {
	"license-expired", "License expired", ALERT_CRITICAL, 0,
	"Every license has expired: new activations are refused; running protection continues."};
const struct alert_type alert_seat_limit_exceeded = {
	"seat-limit-exceeded", "License seat limit exceeded", ALERT_WARNING, 0,
	"More computers hold a seat than the licenses provide (a stopped VM was started again while "
	"no seat was free); they stay protected."};

void
lic_init(struct licenses *l)
{
	memset(l, 0, sizeof(*l));
	l->next_id = 1;
}

void
lic_clear(struct licenses *l)
{
	struct license *x, *next;

	for (x = l->list; x; x = next) {
		next = x->next;
		free(x->modules);
		free(x);
	}
	lic_init(l);
}

static struct license *
lic_append(struct licenses *ls, const struct license *src)
{
	struct license *l = calloc(1, sizeof(*l)), **pp;

	if (l == NULL || (l->modules = strdup(src->modules)) == NULL) {
		free(l);
		return NULL;
	}
	l->id = src->id;
	l->seats = src->seats;
	l->expires_ms = src->expires_ms;
	l->created_ms = src->created_ms;
	for (pp = &ls->list; *pp; pp = &(*pp)->next)
		;
	*pp = l;
	if (l->id >= ls->next_id)
		ls->next_id = l->id + 1;
	return l;
}

static int
lic_load_cb(void *ctx, const struct license *l)
{
	return lic_append(ctx, l) ? 0 : -1;
}

int
lic_load(struct mgr *m)
{
	return store_load_licenses(&m->store, lic_load_cb, &m->lic);
}

int
lic_add(struct mgr *m, int64_t seats, const char *modules, int64_t expires_ms,
	struct license **out_r)
{
	struct license l = {m->lic.next_id, seats, (char *)modules, expires_ms, now_ms(), NULL};
	struct license *added;
	char when[40];

	if (store_license_insert(&m->store, &l) < 0)
		return -1;
	added = lic_append(&m->lic, &l);
	if (added == NULL)
		return -1;
	if (expires_ms)
		fmt_time_ms(expires_ms, when, sizeof(when));
	event_record(m, EV_LICENSE_CHANGED, NULL, "license %lld added: %lld seats, modules %s, %s%s",
		     (long long)l.id, (long long)seats, *modules ? modules : "all",
		     expires_ms ? "expires " : "no expiry", expires_ms ? when : "");
	lic_evaluate(m, now_ms());
	*out_r = added;
	return 0;
}

int64_t
lic_seats_total(const struct mgr *m, int64_t now)
{
	const struct license *l;
	int64_t total = 0;

	if (m->lic.list == NULL)
		return -1;
	for (l = m->lic.list; l; l = l->next)
		if (l->expires_ms == 0 || l->expires_ms > now)
			total += l->seats;
	return total;
}

int
lic_all_expired(const struct mgr *m, int64_t now, int64_t *when_r)
{
	const struct license *l;
	int64_t latest = 0;

	if (m->lic.list == NULL)
		return 0;
	for (l = m->lic.list; l; l = l->next) {
		if (l->expires_ms == 0 || l->expires_ms > now)
			return 0;
		if (l->expires_ms > latest)
			latest = l->expires_ms;
	}
	*when_r = latest;
	return 1;
}

int
lic_holds_seat(const struct computer *c)
{
	return c->state == COMPUTER_ACTIVATED && !c->power_stopped;
}

void
lic_recount(struct mgr *m)
{
	size_t i;

	m->lic.seats_used = 0;
	for (i = 0; i < m->reg.n; i++)
		m->lic.seats_used += lic_holds_seat(m->reg.byid[i]);
}

void
lic_seat_change(struct mgr *m, struct computer *c, int delta)
{
	m->lic.seats_used += delta;
	BUG_ON(m->lic.seats_used < 0);
	lic_evaluate(m, now_ms());
}

void
lic_evaluate(struct mgr *m, int64_t now)
{
	const struct license *l;
	int64_t total = lic_seats_total(m, now), when = 0, soonest = 0;
	char msg[256], t[40];

	if (total >= 0 && m->lic.seats_used > total) {
		snprintf(msg, sizeof(msg), "%lld computers hold a seat, the licenses provide %lld",
			 (long long)m->lic.seats_used, (long long)total);
		alert_raise(m, &alert_seat_limit_exceeded, NULL, msg);
	} else {
		alert_clear(m, &alert_seat_limit_exceeded, NULL);
	}
	if (lic_all_expired(m, now, &when)) {
		fmt_time_ms(when, t, sizeof(t));
		snprintf(msg, sizeof(msg), "every license has expired (the last on %s)", t);
		alert_raise(m, &alert_license_expired, NULL, msg);
	} else {
		alert_clear(m, &alert_license_expired, NULL);
	}
	for (l = m->lic.list; l; l = l->next)
		if (l->expires_ms > now && l->expires_ms - now <= LIC_EXPIRY_WARNING_MS &&
		    (soonest == 0 || l->expires_ms < soonest))
			soonest = l->expires_ms;
	if (soonest) {
		fmt_time_ms(soonest, t, sizeof(t));
		snprintf(msg, sizeof(msg), "a license expires on %s", t);
		alert_raise(m, &alert_license_expiring, NULL, msg);
	} else {
		alert_clear(m, &alert_license_expiring, NULL);
	}
}
