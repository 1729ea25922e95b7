/*
 * alerts: see alerts.h.  Events 190/191/192 mark start, change and end.
 */
#include "alerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "license.h"
#include "log.h"
#include "mgr.h"
#include "util.h"

const struct alert_type alert_computer_offline = {
	"computer-offline", "Computer offline", ALERT_CRITICAL, 0,
	"The manager has not heard from the computer for more heartbeats than its policy allows."};

const struct alert_type alert_duplicate_computer = {
	"duplicate-computer", "Duplicate computer", ALERT_WARNING, 1,
	"Another machine used this computer's identity (a cloned VM or a copied agent state "
	"directory). The clone was reactivated as a new computer or refused, as the activation "
	"settings say; dismiss the alert once the clone is dealt with."};

const struct alert_type alert_comm_problem = {
	"communications-problem", "Communications problem", ALERT_WARNING, 0,
	"The agent's heartbeats arrive but the manager cannot reach the agent on its port (or the "
	"other way round): one direction of a bidirectional policy is broken, usually a firewall. "
	"The computer is not offline; work for it waits for its next heartbeat. Ends by itself when "
	"the manager reaches the agent again."};

const struct alert_type alert_clock_change = {
	"clock-change", "Clock change detected", ALERT_WARNING, 1,
	"The agent's clock differs from the manager's, or jumped between two heartbeats, by more "
	"than the policy's max_clock_change (event 734). Ends by itself at a heartbeat with the "
	"clocks in step."};

const struct alert_type alert_heartbeat_rejected = {
	"heartbeat-rejected", "Heartbeat rejected", ALERT_WARNING, 1,
	"The manager refused the computer's heartbeat (an expired or superseded certificate; event "
	"770), so the agent cannot report. Ends by itself with the next accepted heartbeat."};

static const struct alert_type *const alert_types[] = {
	&alert_computer_offline,
	&alert_duplicate_computer,
	&alert_comm_problem,
	&alert_clock_change,
	&alert_heartbeat_rejected,
	&alert_license_expiring,
	&alert_license_expired,
	&alert_seat_limit_exceeded,
};

void
alerts_init(struct alerts *a)
{
	a->open = NULL;
	a->wide = NULL;
	a->next_id = 1;
}

void
alert_free(struct alert *al)
{
	if (al == NULL)
		return;
	free(al->message);
	free(al);
}

void
alerts_clear(struct alerts *a)
{
	struct alert *al, *next;

	for (al = a->open; al; al = next) {
		next = al->next;
		alert_free(al);
	}
	a->open = NULL;
	a->wide = NULL;
}

const struct alert_type *
alert_type_find(const char *id)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(alert_types); i++)
		if (strcmp(alert_types[i]->id, id) == 0)
			return alert_types[i];
	return NULL;
}

const char *
alert_severity_name(enum alert_severity s)
{
	return s == ALERT_CRITICAL ? "critical" : "warning";
}

/*
 * Open alerts are on two lists: all of them (doubly linked, for listing and
 * O(1) removal) and those of one computer (struct computer.alerts) or of the
 * manager (alerts.wide), for the lookups of every heartbeat and activation,
 * which must not cost O(open alerts): with thousands of computers offline
 * they did.  alert_index() keeps the second list and the per-computer
 * counts ("Multiple Errors") as an alert opens (+1) or ends (-1).
 */
static void
alert_index(struct mgr *m, struct alert *al, int delta)
{
	struct computer *c = al->computer_id ? registry_by_id(&m->reg, al->computer_id) : NULL;
	struct alert **head, **pp;

	if (c != NULL) {
		if (al->type->severity == ALERT_CRITICAL)
			c->open_critical += delta;
		else
			c->open_warning += delta;
		head = &c->alerts;
	} else if (al->computer_id == 0) {
		head = &m->alerts.wide;
	} else {
		return; /* a computer no longer listed: on the list of all only */
	}
	if (delta > 0) {
		al->cnext = *head;
		*head = al;
		return;
	}
	for (pp = head; *pp; pp = &(*pp)->cnext)
		if (*pp == al) {
			*pp = al->cnext;
			break;
		}
	al->cnext = NULL;
}

void
alerts_adopt(struct mgr *m, struct alert *al)
{
	al->prev = NULL;
	al->next = m->alerts.open;
	if (al->next)
		al->next->prev = al;
	m->alerts.open = al;
	if (al->id >= m->alerts.next_id)
		m->alerts.next_id = al->id + 1;
	alert_index(m, al, 1);
}

struct alert *
alert_find_open(struct mgr *m, const struct alert_type *t, int64_t computer_id)
{
	struct alert *al;

	if (computer_id == 0) {
		for (al = m->alerts.wide; al; al = al->cnext)
			if (al->type == t)
				return al;
		return NULL;
	} else {
		struct computer *c = registry_by_id(&m->reg, computer_id);
		if (c != NULL) {
			for (al = c->alerts; al; al = al->cnext)
				if (al->type == t)
					return al;
			return NULL;
		}
	}
	/* a computer no longer listed */
	for (al = m->alerts.open; al; al = al->next)
		if (al->type == t && al->computer_id == computer_id)
			return al;
	return NULL;
}

void
alert_raise(struct mgr *m, const struct alert_type *t, struct computer *c, const char *message)
{
	int64_t cid = c ? c->id : 0;
	struct alert *al = alert_find_open(m, t, cid);
	int64_t now = now_ms();

	if (al != NULL) {
		if (strcmp(al->message, message) == 0)
			return;
		if (computer_set_str(&al->message, message) < 0)
			return;
		al->last_changed_ms = now;
		store_mark_alert(&m->store, al);
		event_record(m, EV_ALERT_CHANGED, c, "%s: %s", t->name, message);
		return;
	}
	al = calloc(1, sizeof(*al));
	if (al == NULL || computer_set_str(&al->message, message) < 0) {
		log_warn("alert %s for %s dropped: out of memory", t->id, c ? c->hostname : "manager");
		free(al);
		return;
	}
	al->id = m->alerts.next_id++;
	al->type = t;
	al->computer_id = cid;
	al->first_raised_ms = al->last_changed_ms = now;
	alerts_adopt(m, al);
	store_mark_alert(&m->store, al);
	event_record(m, EV_ALERT_STARTED, c, "%s (%s): %s", t->name, alert_severity_name(t->severity),
		     message);
}

/* Takes al out of the open list; the store writes it and frees it later. */
static void
alert_end(struct mgr *m, struct alert *al)
{
	if (al->prev)
		al->prev->next = al->next;
	else
		m->alerts.open = al->next;
	if (al->next)
		al->next->prev = al->prev;
	al->next = al->prev = NULL;
	alert_index(m, al, -1);
	al->cleared_ms = al->last_changed_ms = now_ms();
	store_mark_alert(&m->store, al);
}

void
alert_clear(struct mgr *m, const struct alert_type *t, struct computer *c)
{
	struct alert *al = alert_find_open(m, t, c ? c->id : 0);

	if (al == NULL)
		return;
	event_record(m, EV_ALERT_ENDED, c, "%s: condition ended", t->name);
	alert_end(m, al);
}

void
alerts_clear_computer(struct mgr *m, struct computer *c, const char *why)
{
	struct alert *al;

	while ((al = c->alerts) != NULL) {
		event_record(m, EV_ALERT_ENDED, c, "%s: %s", al->type->name, why);
		alert_end(m, al);
		/* c may be out of the registry already: alert_index could not unlink */
		if (c->alerts == al) {
			c->alerts = al->cnext;
			al->cnext = NULL;
		}
	}
}

struct alert *
alert_by_id(struct mgr *m, int64_t id)
{
	struct alert *al;

	for (al = m->alerts.open; al; al = al->next)
		if (al->id == id)
			return al;
	return NULL;
}

int
alert_dismiss(struct mgr *m, int64_t id, const char *by, char *err, size_t errsize)
{
	struct alert *al = alert_by_id(m, id);

	if (al == NULL) {
		snprintf(err, errsize, "no open alert with ID %lld", (long long)id);
		return -1;
	}
	if (!al->type->dismissible) {
		snprintf(err, errsize,
			 "alert %lld (%s) cannot be dismissed; it ends by itself when its condition "
			 "no longer holds",
			 (long long)id, al->type->name);
		return -2;
	}
	event_record(m, al->type->severity == ALERT_CRITICAL ? EV_ERROR_DISMISSED : EV_ALERT_DISMISSED,
		     al->computer_id ? registry_by_id(&m->reg, al->computer_id) : NULL,
		     "%s (alert %lld) dismissed by %s", al->type->name, (long long)id, by);
	alert_end(m, al);
	return 0;
}
