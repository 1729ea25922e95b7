/*
 * status: see status.h.
 */
#include "status.h"

#include <stdio.h>
#include <string.h>

#include "alerts.h"
#include "contact.h"
#include "events.h"
#include "license.h"
#include "log.h"
#include "mgr.h"
#include "policy.h"
#include "proto.h"
#include "util.h"
#include "buf.h"

int64_t
status_window_ms(const struct mgr *m, const struct computer *c)
{
	int64_t missed = policy_value(m, c, PS_MISSED_HEARTBEATS);

	if (missed == MISSED_UNLIMITED)
		return -1;
	return policy_value(m, c, PS_HEARTBEAT_INTERVAL) * 1000 * (missed + 1);
}

/*
 * Bidirectional with a known agent port: half an interval before the
 * deadline the manager calls the agent (status_tick); if it answers, the
 * computer is not offline, only its heartbeats are not arriving.
 */
static int
status_checks_first(const struct mgr *m, const struct computer *c)
{
	return policy_value(m, c, PS_DIRECTION) == DIR_BIDIRECTIONAL && contact_can_call(m, c);
}

static int64_t
status_half_interval(const struct mgr *m, const struct computer *c)
{
	return policy_value(m, c, PS_HEARTBEAT_INTERVAL) * 500;
}

/* Heartbeats from the agent itself are overdue (the manager's own calls aside). */
static int
status_agent_quiet(const struct mgr *m, const struct computer *c, int64_t now_mono)
{
	int64_t w = status_window_ms(m, c);

	return w >= 0 && now_mono - c->last_agent_hb_mono > w - status_half_interval(m, c);
}

static void
status_schedule(struct mgr *m, struct computer *c, int64_t from_mono)
{
	int64_t w = status_window_ms(m, c);

	/* a stopped VM is not offline unless the policy asks for it */
	if (w < 0 || c->state != COMPUTER_ACTIVATED ||
	    (c->power_stopped && !policy_value(m, c, PS_OFFLINE_STOPPED_VMS))) {
		deadline_remove(&m->deadlines, &c->deadline);
		return;
	}
	c->dl_early = w >= 0 && status_checks_first(m, c);
	if (c->dl_early)
		w -= status_half_interval(m, c);
	if (deadline_set(&m->deadlines, &c->deadline, from_mono + w) < 0)
		log_warn("status: cannot schedule the offline deadline of %s (out of memory)",
			 c->hostname);
}

void
status_start(struct mgr *m)
{
	int64_t now = mono_ms();
	size_t i;

	/*
	 * The manager was not listening while it was down, so silence during
	 * that time says nothing about the agents: every online computer gets
	 * a full window from now.  Offline ones stay offline until they call.
	 */
	for (i = 0; i < m->reg.n; i++) {
		struct computer *c = m->reg.byid[i];
		c->last_contact_mono = c->last_agent_hb_mono = now;
		if (c->state == COMPUTER_ACTIVATED && !c->offline)
			status_schedule(m, c, now);
	}
}

void
status_activated_seated(struct mgr *m, struct computer *c, int64_t now_wall, int64_t now_mono)
{
	c->state = COMPUTER_ACTIVATED;
	computer_set_str(&c->failure, "");
	c->last_contact_ms = now_wall;
	c->last_contact_mono = c->last_agent_hb_mono = now_mono;
	c->offline = 0;
	status_schedule(m, c, now_mono);
	/* manager-initiated: the polls start now */
	contact_reschedule(m, c);
}

void
status_activated(struct mgr *m, struct computer *c, int64_t now_wall, int64_t now_mono)
{
	c->state = COMPUTER_ACTIVATED;
	if (lic_holds_seat(c))
		lic_seat_change(m, c, +1);
	status_activated_seated(m, c, now_wall, now_mono);
}

static int
hb_set(char **field, const char *v)
{
	if (*v == '\0' || strcmp(*field, v) == 0)
		return 0;
	return computer_set_str(field, v) == 0;
}

/*
 * Clock change (734): the agent's clock is off the manager's by more than
 * max_clock_change, or jumped by more than that since the heartbeat before
 * (the offset moved).  One event per episode; the alert ends at a heartbeat
 * with the clocks in step again.
 */
static void
status_clock(struct mgr *m, struct computer *c)
{
	int64_t max_ms = policy_value(m, c, PS_MAX_CLOCK_CHANGE) * 1000;
	int64_t off = c->clock_offset_ms, jump = off - c->last_clock_offset_ms;
	char msg[256];

	if (jump < 0)
		jump = -jump;
	c->last_clock_offset_ms = off;
	if ((off < 0 ? -off : off) > max_ms || jump > max_ms) {
		if ((off < 0 ? -off : off) > max_ms)
			snprintf(msg, sizeof(msg),
				 "the agent's clock is %lld s %s the manager's (the policy allows %lld s)",
				 (long long)(((off < 0 ? -off : off) + 500) / 1000),
				 off < 0 ? "behind" : "ahead of",
				 (long long)(max_ms / 1000));
		else
			snprintf(msg, sizeof(msg),
				 "the agent's clock jumped by %lld s since its last heartbeat (the policy "
				 "allows %lld s)",
				 (long long)(jump / 1000), (long long)(max_ms / 1000));
		if (alert_find_open(m, &alert_clock_change, c->id) == NULL || jump > max_ms)
			event_record(m, EV_CLOCK_CHANGE, c, "%s", msg);
		alert_raise(m, &alert_clock_change, c, msg);
	} else {
		alert_clear(m, &alert_clock_change, c);
	}
}

void
status_reach(struct mgr *m, struct computer *c, int ok, const char *why)
{
	int was_failed = c->reach_failed;

	c->reach_failed = !ok;
	if (ok) {
		c->last_reach_ms = now_ms();
		free(c->reach_error);
		c->reach_error = NULL;
		status_offline_refresh(m, c);
		if (c->comm_dir == 1) {
			c->comm_dir = 0;
			event_record(m, EV_COMM_RESOLVED, c, "the manager reached the agent on its port "
							     "again");
			alert_clear(m, &alert_comm_problem, c);
		}
		return;
	}
	if (c->reach_error == NULL || strcmp(c->reach_error, why) != 0)
		computer_set_str(&c->reach_error, why);
	status_offline_refresh(m, c);
	/*
	 * Bidirectional, and the heartbeats arrive: one direction works, the
	 * other does not.  That is a communications problem, not "offline";
	 * a computer that is silent both ways goes offline by its deadline.
	 */
	if (policy_value(m, c, PS_DIRECTION) == DIR_BIDIRECTIONAL && !c->offline &&
	    c->state == COMPUTER_ACTIVATED && c->comm_dir != 2 &&
	    !status_agent_quiet(m, c, mono_ms())) {
		char msg[512];
		snprintf(msg, sizeof(msg),
			 "heartbeats from %s arrive, but the manager cannot reach the agent on its "
			 "port: %.300s",
			 c->last_ip, why);
		if (!was_failed || alert_find_open(m, &alert_comm_problem, c->id) == NULL)
			event_record(m, EV_COMM_PROBLEM, c, "%s", msg);
		c->comm_dir = 1;
		alert_raise(m, &alert_comm_problem, c, msg);
	}
}

int
status_clear_warnings(struct mgr *m, struct computer *c, const char *by, char *out,
		      size_t outsize)
{
	static const struct alert_type *const gone_unless_true[] = {
		&alert_duplicate_computer, &alert_heartbeat_rejected, &alert_clock_change,
		&alert_comm_problem};
	struct buf b;
	size_t i;
	int n = 0;

	/*
	 * Re-evaluated: "offline" holds while the deadline is past (it is the
	 * deadline's to end), a communications problem while the last call to
	 * the agent failed, a clock change while the offset is beyond the
	 * policy; the rest (a clone dealt with, a rejected heartbeat) is
	 * cleared by the operator's word.
	 */
	buf_init(&b, outsize > 0 ? outsize - 1 : 0);
	for (i = 0; i < sizeof(gone_unless_true) / sizeof(gone_unless_true[0]); i++) {
		const struct alert_type *t = gone_unless_true[i];
		int64_t off = c->clock_offset_ms < 0 ? -c->clock_offset_ms : c->clock_offset_ms;
		if (alert_find_open(m, t, c->id) == NULL)
			continue;
		if ((t == &alert_comm_problem && c->reach_failed) ||
		    (t == &alert_clock_change &&
		     off > policy_value(m, c, PS_MAX_CLOCK_CHANGE) * 1000))
			continue;
		alert_clear(m, t, c);
		buf_printf(&b, "%s%s", n++ ? ", " : "", t->name);
	}
	event_record(m, EV_ALERTS_CLEARED, c, "warnings and errors cleared by %s: %s", by,
		     n ? buf_cstr(&b) : "nothing to clear (what is still open still holds)");
	str_copy(out, n && buf_cstr(&b) ? buf_cstr(&b) : "", outsize);
	buf_clear(&b);
	return n;
}

void
status_heartbeat(struct mgr *m, struct computer *c, const struct heartbeat_req *hb,
		 const char *peer_ip, int64_t now_wall, int64_t now_mono, int from_agent)
{
	int changed = 0;

	if (strcmp(c->last_ip, peer_ip) != 0 ||
	    (hb->host.agent_port >= 0 && hb->host.agent_port != c->agent_port)) {
		/* where the manager calls the agent (an agent that does not say keeps its port) */
		if (hb->host.agent_port >= 0)
			c->agent_port = (int)hb->host.agent_port;
		str_copy(c->last_ip, peer_ip, sizeof(c->last_ip));
		store_mark_row(&m->store, c);
		deadline_remove(&m->contacts.due, &c->contact_dl);
	}
	c->last_contact_ms = now_wall;
	c->last_contact_mono = now_mono;
	if (hb->host.clock_ms) {
		c->clock_offset_ms = hb->host.clock_ms - now_wall;
		status_clock(m, c);
	}
	alert_clear(m, &alert_heartbeat_rejected, c);
	c->goodbye_ms = 0;
	/* what failed on the agent's side before this contact: kept for diagnosis */
	if (hb->last_error[0]) {
		if (c->agent_error == NULL || strcmp(c->agent_error, hb->last_error) != 0)
			computer_set_str(&c->agent_error, hb->last_error);
		c->agent_error_ms = now_wall;
	}
	/* the name index follows a renamed host (registry.h) */
	if (hb->host.hostname[0] && strcmp(c->hostname, hb->host.hostname) != 0)
		changed |= registry_set_hostname(&m->reg, c, hb->host.hostname) == 0;
	changed |= hb_set(&c->platform, hb->host.platform);
	changed |= hb_set(&c->agent_version, hb->host.agent_version);
	/* absent (NULL) means "unchanged", like the other host facts */
	if (hb->host.interfaces_json && strcmp(c->interfaces_json, hb->host.interfaces_json) != 0) {
		if (computer_set_str(&c->interfaces_json, hb->host.interfaces_json) == 0)
			store_mark_row(&m->store, c);
	}
	if (changed) {
		event_record(m, EV_COMPUTER_UPDATED, c, "host facts changed: %s, %s, agent %s",
			     c->hostname, c->platform, c->agent_version);
		store_mark_row(&m->store, c);
	}
	if (c->offline) {
		c->offline = 0;
		store_mark_row(&m->store, c);
		event_record(m, EV_BACK_ONLINE, c, "heartbeat received from %s", peer_ip);
		alert_clear(m, &alert_computer_offline, c);
	}
	if (from_agent) {
		c->last_agent_hb_mono = now_mono;
		if (c->comm_dir == 2) {
			c->comm_dir = 0;
			event_record(m, EV_COMM_RESOLVED, c, "the agent's heartbeats arrive again");
			alert_clear(m, &alert_comm_problem, c);
		}
	} else if (policy_value(m, c, PS_DIRECTION) == DIR_BIDIRECTIONAL &&
		   status_agent_quiet(m, c, now_mono) && c->comm_dir != 2) {
		char msg[512];
		/* the manager reaches the agent, the agent does not reach the manager */
		c->comm_dir = 2;
		snprintf(msg, sizeof(msg),
			 "the manager reaches the agent on its port, but its heartbeats have not "
			 "arrived for %lld s: the way from the agent to the manager's port is blocked, "
			 "or the agent cannot resolve or reach the manager's address; the manager "
			 "calls it meanwhile",
			 (long long)((now_mono - c->last_agent_hb_mono) / 1000));
		event_record(m, EV_COMM_PROBLEM, c, "%s", msg);
		alert_raise(m, &alert_comm_problem, c, msg);
	}
	store_mark_contact(&m->store, c);
	status_schedule(m, c, now_mono);
}

void
status_config_changed(struct mgr *m, struct computer *c)
{
	/*
	 * The window may have changed: the deadline follows from the last
	 * contact, so a shorter window can make the computer offline at the
	 * next tick, and "unlimited" removes the deadline.
	 */
	if (c->state == COMPUTER_ACTIVATED && !c->offline)
		status_schedule(m, c, c->last_contact_mono);
	/* a VM now allowed to be silent while stopped is not offline */
	if (c->offline && c->power_stopped && !policy_value(m, c, PS_OFFLINE_STOPPED_VMS)) {
		c->offline = 0;
		store_mark_row(&m->store, c);
		alert_clear(m, &alert_computer_offline, c);
	}
	if (c->offline && status_window_ms(m, c) < 0) {
		c->offline = 0;
		store_mark_row(&m->store, c);
		alert_clear(m, &alert_computer_offline, c);
	}
	/* the direction may have changed too: the calls follow */
	contact_reschedule(m, c);
	contact_config_changed(m, c);
	/* agent-initiated now: a broken way back is no problem any more */
	if (policy_value(m, c, PS_DIRECTION) != DIR_BIDIRECTIONAL) {
		c->comm_dir = 0;
		alert_clear(m, &alert_comm_problem, c);
	}
}

void
status_deactivate(struct mgr *m, struct computer *c, const char *by, const char *from,
		  int tell_agent)
{
	int held = lic_holds_seat(c);

	c->state = COMPUTER_DEACTIVATED;
	if (held)
		lic_seat_change(m, c, -1);
	c->offline = 0;
	deadline_remove(&m->deadlines, &c->deadline);
	/* a computer that is no longer managed cannot be "offline" */
	alert_clear(m, &alert_computer_offline, c);
	alert_clear(m, &alert_comm_problem, c);
	store_mark_row(&m->store, c);
	event_record(m, EV_DEACTIVATED, c, "deactivated %s %s; certificate %s revoked", by, from,
		     c->cert_serial);
	{
		char why[256];
		snprintf(why, sizeof(why), "deactivated %s %s", by, from);
		contact_deactivated(m, c, tell_agent ? why : NULL);
	}
}

int
status_delete(struct mgr *m, struct computer *c, const char *by)
{
	/* revoked for good: a deactivated computer's agent must not come back */
	const char *revoke = c->state == COMPUTER_DEACTIVATED ? "deactivated, then deleted" : NULL;

	if (store_computer_delete(&m->store, c, revoke, m->reg.next_id - 1) < 0)
		return -1;
	if (lic_holds_seat(c))
		lic_seat_change(m, c, -1);
	deadline_remove(&m->deadlines, &c->deadline);
	contact_forget(m, c);
	alerts_clear_computer(m, c, "the computer was deleted");
	event_record(m, EV_COMPUTER_DELETED, c, "%s (GUID %s, %s) deleted by %s%s", c->hostname,
		     c->guid, status_text(c), by,
		     c->state == COMPUTER_ACTIVATED
			     ? "; its agent comes back as a new computer only if reactivating "
			       "unknown agents is on"
			     : "");
	registry_remove(&m->reg, c);
	computer_free(c);
	return 0;
}

void
status_clone_seen(struct mgr *m, struct computer *c, const char *peer_ip, const char *fpr)
{
	struct alert *al = alert_find_open(m, &alert_duplicate_computer, c->id);
	char msg[512];

	snprintf(msg, sizeof(msg),
		 "another machine (%s, machine fingerprint %.12s...) uses the identity of %s: a "
		 "cloned VM or a copied agent state directory; %s",
		 peer_ip, fpr, c->hostname,
		 m->act.reactivate_cloned ? "it is reactivated as a new computer"
					  : "its heartbeats are refused (reactivate cloned agents is off)");
	/* one event per clone seen, not per heartbeat */
	if (al != NULL && strcmp(al->message, msg) == 0)
		return;
	event_record(m, EV_DUPLICATE_COMPUTER, c, "%s", msg);
	alert_raise(m, &alert_duplicate_computer, c, msg);
}

void
status_activation_failed(struct mgr *m, struct computer *c, const char *code, const char *why)
{
	c->state = COMPUTER_ACTIVATION_FAILED;
	computer_set_str(&c->failure, why);
	deadline_remove(&m->deadlines, &c->deadline);
	store_mark_row(&m->store, c);
	event_record(m, EV_ACTIVATION_FAILED, c, "activation refused (%s): %s", code, why);
}

void
status_power(struct mgr *m, struct computer *c, int stopped, const char *by)
{
	int held = lic_holds_seat(c);

	if (c->power_stopped == stopped)
		return;
	c->power_stopped = stopped;
	store_mark_row(&m->store, c);
	event_record(m, EV_POWER_CHANGED, c, "VM %s (%s)%s", stopped ? "stopped" : "running", by,
		     c->state != COMPUTER_ACTIVATED ? ""
		     : stopped			     ? "; its license seat is free"
						     : "; it holds a license seat again");
	if (held != lic_holds_seat(c))
		lic_seat_change(m, c, held ? -1 : +1);
	if (stopped) {
		c->offline = c->offline && policy_value(m, c, PS_OFFLINE_STOPPED_VMS);
		if (!c->offline)
			alert_clear(m, &alert_computer_offline, c);
	}
	/* running again: a full window from now, the agent is booting */
	c->last_contact_mono = mono_ms();
	if (!c->offline)
		status_schedule(m, c, c->last_contact_mono);
}

void
status_probable_cause(const struct mgr *m, const struct computer *c, char *out, size_t outsize)
{
	int64_t now = now_ms();
	int64_t off = c->clock_offset_ms < 0 ? -c->clock_offset_ms : c->clock_offset_ms;
	int64_t dir = policy_value(m, c, PS_DIRECTION);
	char t[40];

	if (c->goodbye_ms > 0) {
		fmt_time_ms(c->goodbye_ms, t, sizeof(t));
		snprintf(out, outsize,
			 "the agent said at %s that it was stopping: the host was shut down or the "
			 "agent stopped cleanly",
			 t);
	} else if (c->cert_not_after_ms > 0 && c->cert_not_after_ms < now) {
		fmt_time_ms(c->cert_not_after_ms, t, sizeof(t));
		snprintf(out, outsize,
			 "its certificate expired at %s: the manager refuses its heartbeats; run "
			 "vigil-agentctl reset and activate it again",
			 t);
	} else if (dir != DIR_AGENT_INITIATED && c->reach_failed && c->reach_error != NULL) {
		/* the manager tried the agent's port after it went quiet */
		if (strstr(c->reach_error, "refused") != NULL)
			snprintf(out, outsize,
				 "nothing answers on its agent port either (%.200s): the agent is not "
				 "running, or the host is down",
				 c->reach_error);
		else if (strstr(c->reach_error, "TLS") != NULL ||
			 strstr(c->reach_error, "did not answer") != NULL)
			snprintf(out, outsize,
				 "the host accepts connections on the agent port but the agent does not "
				 "answer (%.200s): the agent hangs or is stopped",
				 c->reach_error);
		else
			snprintf(out, outsize,
				 "the manager cannot reach the agent's port either (%.200s): the host "
				 "is down or unreachable",
				 c->reach_error);
	} else if (dir != DIR_AGENT_INITIATED && !c->reach_failed && c->last_reach_ms > c->last_contact_ms) {
		snprintf(out, outsize,
			 "the manager reaches the agent on its port, but its heartbeats do not arrive: "
			 "the way from the agent to the manager's port is blocked, or the agent "
			 "cannot resolve or reach the manager's address");
	} else if (off > policy_value(m, c, PS_MAX_CLOCK_CHANGE) * 1000) {
		snprintf(out, outsize, "its clock was %lld s off the manager's at its last contact",
			 (long long)(off / 1000));
	} else if (dir == DIR_AGENT_INITIATED) {
		snprintf(out, outsize,
			 "unknown: the policy is agent-initiated, so the manager cannot look; run "
			 "vigil-agentctl diagnose on the host");
	} else {
		snprintf(out, outsize, "unknown yet: the manager is checking the agent's port");
	}
	if (c->agent_error != NULL && strlen(out) + 40 < outsize) {
		size_t n = strlen(out);
		snprintf(out + n, outsize - n, "; the agent's last reported error: %.200s",
			 c->agent_error);
	}
}

/* The offline alert's message: the facts, then the probable cause. */
static void
status_offline_msg(const struct mgr *m, const struct computer *c, int64_t now_mono, char *msg,
		   size_t msgsize)
{
	char last[40], cause[600];
	int64_t silent_s = (now_mono - c->last_contact_mono) / 1000;

	fmt_time_ms(c->last_contact_ms, last, sizeof(last));
	status_probable_cause(m, c, cause, sizeof(cause));
	snprintf(msg, msgsize,
		 "no heartbeat for %lld s (last contact %s; policy %s: every %lld s, %lld may be "
		 "missed); probable cause: %s",
		 (long long)silent_s, last, c->pol ? c->pol->name : "(none)",
		 (long long)policy_value(m, c, PS_HEARTBEAT_INTERVAL),
		 (long long)policy_value(m, c, PS_MISSED_HEARTBEATS), cause);
}

static void
status_go_offline(struct mgr *m, struct computer *c, int64_t now_mono)
{
	char msg[1024];

	c->offline = 1;
	store_mark_row(&m->store, c);
	status_offline_msg(m, c, now_mono, msg, sizeof(msg));
	event_record(m, EV_OFFLINE, c, "%s", msg);
	alert_raise(m, &alert_computer_offline, c, msg);
	/* look at the agent's port now: it tells a dead host from a blocked path */
	contact_probe(m, c);
}

void
status_offline_refresh(struct mgr *m, struct computer *c)
{
	struct alert *al = alert_find_open(m, &alert_computer_offline, c->id);
	char msg[1024];

	if (al == NULL || !c->offline)
		return;
	status_offline_msg(m, c, mono_ms(), msg, sizeof(msg));
	/* the same cause: no 191 for the silence growing */
	if (strstr(al->message, "probable cause: ") != NULL && strstr(msg, "probable cause: ") != NULL &&
	    strcmp(strstr(al->message, "probable cause: "), strstr(msg, "probable cause: ")) == 0)
		return;
	alert_raise(m, &alert_computer_offline, c, msg);
}

void
status_goodbye(struct mgr *m, struct computer *c, const char *why)
{
	c->goodbye_ms = now_ms();
	log_info("status: %s says it is stopping (%s)", c->hostname, why);
	event_record(m, EV_AGENT_STOPPED, c, "the agent said it is stopping: %s", why);
}

int
status_tick(struct mgr *m, int64_t now_mono)
{
	struct deadline_entry *e;
	int n = 0;

	while ((e = deadline_peek(&m->deadlines)) != NULL && e->when <= now_mono) {
		struct computer *c = (struct computer *)e; /* deadline is the first member */
		deadline_remove(&m->deadlines, e);
		if (c->state == COMPUTER_ACTIVATED && !c->offline && c->dl_early) {
			/* half an interval left: ask the agent's port before calling it offline */
			c->dl_early = 0;
			if (deadline_set(&m->deadlines, &c->deadline,
					 e->when + status_half_interval(m, c)) == 0) {
				contact_probe(m, c);
				continue;
			}
		}
		if (c->state == COMPUTER_ACTIVATED && !c->offline) {
			status_go_offline(m, c, now_mono);
			n++;
		}
	}
	return n;
}

int64_t
status_deadline_wall_ms(const struct mgr *m, const struct computer *c)
{
	if (c->deadline.heap_idx == DEADLINE_NONE)
		return 0;
	/* the time it goes offline, not the check half an interval before */
	return now_ms() + (c->deadline.when - mono_ms()) +
	       (c->dl_early ? status_half_interval(m, c) : 0);
}

int64_t
status_next_deadline(const struct mgr *m)
{
	const struct deadline_entry *e = deadline_peek(&m->deadlines);

	return e ? e->when : -1;
}

const char *
status_text(const struct computer *c)
{
	if (c->state == COMPUTER_DEACTIVATED)
		return "Deactivated";
	if (c->state == COMPUTER_ACTIVATION_FAILED)
		return "Activation Failed";
	if (c->open_critical > 1)
		return "Multiple Errors";
	if (c->open_warning > 1)
		return "Multiple Warnings";
	if (c->offline)
		return "Managed (Offline)";
	return c->power_stopped ? "Managed (VM Stopped)" : "Managed (Online)";
}

const char *
status_agent_status(const struct computer *c)
{
	if (c->state == COMPUTER_DEACTIVATED)
		return "inactive";
	if (c->state == COMPUTER_ACTIVATION_FAILED || c->offline || c->open_critical > 0)
		return "error";
	if (c->open_warning > 0)
		return "warning";
	return "active";
}
