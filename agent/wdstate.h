/*
 * wdstate: the watchdog's record in the state directory (watchdog.json):
 * the monitor's pid, how many times it restarted the agent, why the agent
 * last died, and how many restarts the manager has not heard of yet.
 * The monitor writes it only while no agent runs (at its start and after
 * the agent died); the agent clears "unreported" after a heartbeat that
 * carried it, so the two never write at the same time.
 */
#ifndef VIGIL_WDSTATE_H
#define VIGIL_WDSTATE_H

#include <jansson.h>
#include <stdint.h>

#define WDSTATE_FILE "watchdog.json"
#define WDSTATE_MAX (16 * 1024)

struct wdstate {
	int64_t monitor_pid; /* 0: the monitor stopped */
	int64_t monitor_started_ms;
	int64_t restarts;        /* since the state directory was created */
	int64_t unreported;      /* restarts the manager was not told of */
	int64_t consecutive;     /* quick deaths in a row (the back-off step) */
	int64_t last_restart_ms; /* 0: never */
	char last_exit[128];     /* "killed by signal 9 (SIGKILL)" */
};

/* 1 loaded, 0 no file (w zeroed), -1 damaged (w zeroed). */
int wdstate_load(const char *dir, struct wdstate *w);
int wdstate_save(const char *dir, const struct wdstate *w);
/* The heartbeat's "watchdog" field, or NULL without restarts; caller owns. */
json_t *wdstate_report_json(const char *dir);
/* After a heartbeat that carried the report: nothing left unreported. */
int wdstate_ack(const char *dir);

#endif
