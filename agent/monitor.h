/*
 * monitor: the agent's watchdog (like Deep Security's ds_monitor), run as
 * "vigil-agent --monitor".  The monitor forks; the child goes on to be the
 * agent, the parent only waits for it.  When the agent dies the monitor
 * records it (log, watchdog.json: see wdstate.h) and starts it again after
 * an exponential back-off (1 s, 2 s, 4 s, ... up to a bound) that starts
 * over once an agent stayed up for the "stable" time.  SIGTERM or SIGINT
 * to the monitor stops the agent cleanly and the monitor with it; an agent
 * that exits with status 0 was stopped on purpose and is not restarted.
 */
#ifndef VIGIL_MONITOR_H
#define VIGIL_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#define MONITOR_DEFAULT_BACKOFF_MAX_S 120
#define MONITOR_DEFAULT_STABLE_S 300
#define MONITOR_STOP_GRACE_MS 20000
/* from this many quick deaths in a row the log says the agent crash-loops */
#define MONITOR_CRASH_LOOP 3

struct monitor_opts {
	const char *dir;
	int64_t backoff_max_ms;
	int64_t stable_ms;
};

/* The delay before restart number "consecutive" (1, 2, ...) of quick deaths. */
int64_t monitor_backoff_ms(int64_t consecutive, int64_t max_ms);
/* The back-off step after a death: 1 when the agent had been up for stable_ms. */
int64_t monitor_next_consecutive(int64_t consecutive, int64_t uptime_ms, int64_t stable_ms);
/* "killed by signal 9 (SIGKILL)", "exited with status 1" from a wait status. */
void monitor_exit_text(int wstatus, char *out, size_t outsize);
/*
 * Runs the monitor.  Returns 1 in the child, which must go on as the agent;
 * 0 in the monitor when it is done, with the exit code in *exit_code_r.
 */
int monitor_run(const struct monitor_opts *o, int *exit_code_r);

#endif
