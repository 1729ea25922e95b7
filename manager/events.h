/*
 * events: the event catalogue (one table: ID, name, severity, description;
 * docs/EVENTS.md is generated from it) and event recording.  Events are
 * immutable; recording queues them for the store's next batch.
 */
#ifndef VIGIL_EVENTS_H
#define VIGIL_EVENTS_H

#include <stdint.h>
#include <stdio.h>

struct mgr;
struct computer;

enum ev_severity { EV_INFO, EV_WARNING, EV_ERROR };

struct event_def {
	int id;
	const char *name;
	enum ev_severity severity;
	const char *description;
};

#define EV_MANAGER_STARTED 100
#define EV_LICENSE_CHANGED 101
#define EV_SETTINGS_CHANGED 102
#define EV_MANAGER_SHUTDOWN 117
#define EV_ALERT_STARTED 190
#define EV_ALERT_CHANGED 191
#define EV_ALERT_ENDED 192
#define EV_COMPUTER_CREATED 250
#define EV_COMPUTER_DELETED 251
#define EV_COMPUTER_UPDATED 252
#define EV_POLICY_ASSIGNED 253
#define EV_POLICY_CREATED 400
#define EV_POLICY_UPDATED 402
#define EV_SEND_POLICY_REQUESTED 256
#define EV_ALERTS_CLEARED 266
#define EV_CHECK_STATUS 267
#define EV_DUPLICATE_COMPUTER 275
#define EV_POWER_CHANGED 960
#define EV_DEPLOY_SCRIPT 965
#define EV_ACTIVATED 704
#define EV_ACTIVATION_FAILED 705
#define EV_DEACTIVATED 708
#define EV_POLICY_SENT 720
#define EV_OFFLINE 730
#define EV_BACK_ONLINE 731
#define EV_CLOCK_CHANGE 734
#define EV_CHECK_STATUS_FAILED 737
#define EV_ABNORMAL_RESTART 741
#define EV_COMM_PROBLEM 742
#define EV_COMM_RESOLVED 743
#define EV_HEARTBEAT_REJECTED 770
#define EV_UNRECOGNIZED_CLIENT 771
#define EV_AIA_REQUESTED 790
#define EV_AIA_FAILED 791
#define EV_AGENT_STOPPED 5003
#define EV_ALERT_DISMISSED 800
#define EV_ERROR_DISMISSED 801
#define EV_EVENTS_TRUNCATED 745
/* sent by agents from their queue (agent/evq.h has the same numbers) */
#define EV_AGENT_CONTACT_FAILED 4011
#define EV_AGENT_HEARTBEAT_FAILED 4012
#define EV_AGENT_QUEUE_DAMAGED 4990
#define EV_AGENT_TEST 4991
#define EV_AGENT_CLOCK_CHANGED 5004

const struct event_def *evcat_find(int id);
const char *evcat_severity_name(enum ev_severity s);
/* Writes the catalogue as a Markdown table. */
void evcat_print_table(FILE *fp);

/* Records event id about computer c (may be NULL) with a description. */
void event_record(struct mgr *m, int id, const struct computer *c, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Same, for a target that is not a known computer (e.g. a peer address). */
void event_record_target(struct mgr *m, int id, const char *target, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
