/*
 * wdreport: what an agent's watchdog tells the manager.  A heartbeat may
 * carry "watchdog": {"restarts","unreported","last_restart_ms","last_exit"}
 * (the agent's monitor restarted it); the manager keeps the totals on the
 * computer (shown as vigil.watchdogRestarts in the REST API, in memory
 * only) and records event 741 "Abnormal Restart Detected" for the restarts
 * it had not heard of.  The agent clears "unreported" after the heartbeat
 * succeeded, so a lost answer can repeat the event, never lose it.
 */
#ifndef VIGIL_WDREPORT_H
#define VIGIL_WDREPORT_H

#include <stddef.h>
#include <stdint.h>

struct mgr;
struct computer;

#define WDREPORT_MAX_EXIT 128

struct wdreport {
	int64_t restarts, unreported, last_restart_ms;
	char last_exit[WDREPORT_MAX_EXIT + 1];
};

/*
 * Reads the "watchdog" field of a heartbeat body: 1 found and valid, 0 not
 * there, -1 malformed (ignored: an old or broken field never refuses a
 * heartbeat).  The body has passed the heartbeat parser already.
 */
int wdreport_parse(const char *body, size_t len, struct wdreport *out);
/* Applies a heartbeat's watchdog report to c (event 741 when unreported). */
void wdreport_heartbeat(struct mgr *m, struct computer *c, const char *body, size_t len);

#endif
