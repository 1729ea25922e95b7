/*
 * events: the catalogue and the recording path.  Numbers follow Deep
 * Security's where the meaning matches (docs/EVENTS.md).
 */
#include "events.h"

#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "mgr.h"
#include "util.h"

static const struct event_def ev_catalogue[] = {
	{EV_MANAGER_STARTED, "Manager Started", EV_INFO, "The manager started and is accepting agents."},
	{EV_LICENSE_CHANGED, "License Changed", EV_INFO, "A license was added; the description gives its seats, modules and expiry."},
	{EV_SETTINGS_CHANGED, "System Settings Changed", EV_INFO, "The activation settings were changed; the description gives the new values."},
	{EV_MANAGER_SHUTDOWN, "Manager Shutdown", EV_INFO, "The manager stopped cleanly."},
	{EV_ALERT_STARTED, "Alert Started", EV_INFO, "An alert was raised."},
	{EV_ALERT_CHANGED, "Alert Changed", EV_INFO, "An open alert changed (message or affected computer)."},
	{EV_ALERT_ENDED, "Alert Ended", EV_INFO, "An alert was cleared because its condition ended."},
	{EV_COMPUTER_CREATED, "Computer Created", EV_INFO, "A computer was added to the manager (by activation, a refused activation, or the reactivation of a cloned or unknown agent)."},
	{EV_COMPUTER_DELETED, "Computer Deleted", EV_INFO, "The operator deleted the computer; its events stay. Unless it was deactivated first, its agent can come back as a new computer when \"reactivate unknown agents\" is on."},
	{EV_COMPUTER_UPDATED, "Computer Updated", EV_INFO, "A computer's host facts (host name, platform, agent version) changed."},
	{EV_POLICY_ASSIGNED, "Policy Assigned to Computer", EV_INFO, "The computer was put under another policy; the description names both and who did it."},
	{EV_SEND_POLICY_REQUESTED, "Send Policy Requested", EV_INFO, "The operator asked to send the computer its configuration now; the task list shows how it goes."},
	{EV_ALERTS_CLEARED, "Warnings/Errors Cleared", EV_INFO, "The operator cleared the computer's warnings and errors: the manager re-evaluated them and ended those that no longer hold; the description lists them."},
	{EV_CHECK_STATUS, "Check Status Requested", EV_INFO, "The operator asked the manager to contact the agent now (or at its next heartbeat when the manager may not connect)."},
	{EV_DUPLICATE_COMPUTER, "Duplicate Computer", EV_WARNING, "A heartbeat carried this computer's identity from another machine (a cloned VM or a copied agent state directory). With \"reactivate cloned agents\" on, the clone becomes a new computer; otherwise it is refused."},
	{EV_POLICY_CREATED, "Policy Created", EV_INFO, "A policy was created; the description gives its parent."},
	{EV_POLICY_UPDATED, "Policy Updated", EV_INFO, "A policy's settings, parent or description changed; its computers get the new configuration at their next contact."},
	{EV_ACTIVATED, "Agent Activated", EV_INFO, "The agent was activated and received its identity."},
	{EV_ACTIVATION_FAILED, "Activation Failed", EV_ERROR, "An activation was refused (no free license seat, expired license); the computer is listed as Activation Failed with the reason, and the agent retries."},
	{EV_DEACTIVATED, "Agent Deactivated", EV_INFO, "The computer was deactivated (by the operator, or by a reset on the host); its certificate no longer works."},
	{EV_POLICY_SENT, "Policy Sent", EV_INFO, "The agent received its new configuration, on its port or in a heartbeat's answer; the description says which."},
	{EV_OFFLINE, "Offline", EV_ERROR, "More heartbeats were missed than the policy allows. The agent keeps protecting the host with its last configuration."},
	{EV_BACK_ONLINE, "Back Online", EV_INFO, "A heartbeat arrived from a computer that was offline."},
	{EV_CLOCK_CHANGE, "Computer Clock Change", EV_WARNING, "The agent's clock differs from the manager's, or jumped between two heartbeats, by more than the policy allows (max_clock_change)."},
	{EV_CHECK_STATUS_FAILED, "Check Status Failed", EV_ERROR, "The manager could not contact the agent on its port for a check status; the description says why."},
	{EV_ABNORMAL_RESTART, "Abnormal Restart Detected", EV_WARNING, "The agent's watchdog (vigil-agent --monitor) restarted the agent after it died; reported at the agent's next heartbeat, the description says how often and why."},
	{EV_COMM_PROBLEM, "Communications Problem", EV_WARNING, "Heartbeats arrive but the manager cannot reach the agent on its port (bidirectional policy): one direction works, the other does not."},
	{EV_COMM_RESOLVED, "Communications Problem Resolved", EV_INFO, "The manager reached the agent on its port again."},
	{EV_EVENTS_TRUNCATED, "Events Truncated", EV_WARNING, "The agent's event queue was full and it dropped its oldest events; the description gives how many since the last report and in all."},
	{EV_HEARTBEAT_REJECTED, "Agent Heartbeat Rejected", EV_WARNING, "A heartbeat was refused (revoked, expired or superseded certificate, deactivated computer); the description says why."},
	{EV_UNRECOGNIZED_CLIENT, "Contact by Unrecognized Client", EV_WARNING, "A client presented a certificate not issued by this manager, or one for a computer it does not know."},
	{EV_AIA_REQUESTED, "Agent-Initiated Activation Requested", EV_INFO, "An agent asked to be activated."},
	{EV_AIA_FAILED, "Agent-Initiated Activation Failure", EV_WARNING, "An agent-initiated activation was refused; the description says why."},
	{EV_ALERT_DISMISSED, "Alert Dismissed", EV_INFO, "The operator dismissed an alert; the description names it and who dismissed it."},
	{EV_ERROR_DISMISSED, "Error Dismissed", EV_INFO, "The operator dismissed a critical alert; the description names it and who dismissed it."},
	{EV_AGENT_STOPPED, "Agent Stopped", EV_INFO, "The agent said it was stopping (the host shut down, or the agent was stopped cleanly); an offline computer with this event was shut down, not lost. Deep Security's agent event number."},
	{EV_POWER_CHANGED, "Computer Power State Changed", EV_INFO, "The inventory (or the operator) reported the VM stopped or running; a stopped VM holds no license seat."},
	{EV_DEPLOY_SCRIPT, "Agent Deployment Script Generated", EV_INFO, "A deployment script (which holds the deployment token) was handed out; the description says to whom. A Vigil number."},
	{EV_AGENT_CONTACT_FAILED, "Failure to Contact Manager", EV_WARNING, "Agent event: the agent could not reach the manager (first failure of a run, then every 10th); sent once it can again."},
	{EV_AGENT_HEARTBEAT_FAILED, "Heartbeat Failed", EV_WARNING, "Agent event: one heartbeat failed; the description gives the stage (connect, tls, timeout, resolve, http, other) and the error."},
	{EV_AGENT_QUEUE_DAMAGED, "Agent Event Queue Damaged", EV_WARNING, "Agent event: the agent found its event queue file damaged at start; the good prefix was kept and the file set aside. A Vigil number."},
	{EV_AGENT_TEST, "Agent Test Event", EV_INFO, "Agent event made by vigil-agentctl emit-test-events, a test aid. A Vigil number."},
	{EV_AGENT_CLOCK_CHANGED, "Clock Changed", EV_WARNING, "Agent event: the system clock of the agent's host was changed by more than 5 s against its monotonic clock."},
};

const struct event_def *
evcat_find(int id)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ev_catalogue); i++)
		if (ev_catalogue[i].id == id)
			return &ev_catalogue[i];
	return NULL;
}

const char *
evcat_severity_name(enum ev_severity s)
{
	switch (s) {
	case EV_INFO:
		return "Info";
	case EV_WARNING:
		return "Warning";
	case EV_ERROR:
		return "Error";
	}
	return "Info";
}

void
evcat_print_table(FILE *fp)
{
	size_t i;

	fprintf(fp, "| ID | name | severity | description |\n|---|---|---|---|\n");
	for (i = 0; i < ARRAY_SIZE(ev_catalogue); i++)
		fprintf(fp, "| %d | %s | %s | %s |\n", ev_catalogue[i].id, ev_catalogue[i].name,
			evcat_severity_name(ev_catalogue[i].severity), ev_catalogue[i].description);
}

static void
ev_vrecord(struct mgr *m, int id, int64_t computer_id, const char *target, const char *fmt,
	   va_list ap)
{
	const struct event_def *d = evcat_find(id);
	char desc[1024];

	BUG_ON(d == NULL);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	log_info("event %d %s: %s: %s", id, d->name, target, desc);
	if (store_event_add(&m->store, now_ms(), id, computer_id, target, desc) < 0)
		log_warn("event %d for %s dropped: %llu events are waiting for the database already "
			 "(or out of memory)",
			 id, target, (unsigned long long)m->store.nevents);
}

void
event_record(struct mgr *m, int id, const struct computer *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ev_vrecord(m, id, c ? c->id : 0, c ? c->hostname : "manager", fmt, ap);
	va_end(ap);
}

void
event_record_target(struct mgr *m, int id, const char *target, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ev_vrecord(m, id, 0, target, fmt, ap);
	va_end(ap);
}
