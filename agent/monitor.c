/*
 * monitor: see monitor.h.  The parent blocks its signals and takes them
 * with sigtimedwait(), so a SIGTERM that arrives while it starts a child
 * or sleeps through a back-off is never lost, and it uses no CPU between
 * events.
 */
#include "monitor.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "wdstate.h"

int64_t
monitor_backoff_ms(int64_t consecutive, int64_t max_ms)
{
	int64_t d = 1000;

	while (consecutive-- > 1 && d < max_ms)
		d *= 2;
	return d < max_ms ? d : max_ms;
}

int64_t
monitor_next_consecutive(int64_t consecutive, int64_t uptime_ms, int64_t stable_ms)
{
	return uptime_ms >= stable_ms ? 1 : consecutive + 1;
}

void
monitor_exit_text(int wstatus, char *out, size_t outsize)
{
	if (WIFSIGNALED(wstatus)) {
		int sig = WTERMSIG(wstatus);
		const char *name = sigabbrev_np(sig);
		snprintf(out, outsize, "killed by signal %d (SIG%s)%s", sig, name ? name : "?",
		         WCOREDUMP(wstatus) ? ", core dumped" : "");
	} else if (WIFEXITED(wstatus)) {
		snprintf(out, outsize, "exited with status %d", WEXITSTATUS(wstatus));
	} else {
		snprintf(out, outsize, "ended (wait status %d)", wstatus);
	}
}

/* Waits for a signal of set for at most ms (-1: forever); the signal, or 0. */
static int
monitor_wait_signal(const sigset_t *set, int64_t ms)
{
	struct timespec ts;
	int sig;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	do
		sig = sigtimedwait(set, NULL, ms < 0 ? NULL : &ts);
	while (sig < 0 && errno == EINTR);
	return sig < 0 ? 0 : sig;
}

/* Reaps child if it exited: 1 with its status, 0 still running. */
static int
monitor_reap(pid_t child, int *wstatus)
{
	pid_t p;

	do
		p = waitpid(child, wstatus, WNOHANG);
	while (p < 0 && errno == EINTR);
	return p == child;
}

/* Stops the agent: SIGTERM, then SIGKILL after the grace time. */
static void
monitor_stop_child(pid_t child, const sigset_t *set)
{
	int64_t deadline = mono_ms() + MONITOR_STOP_GRACE_MS;
	int ws;

	kill(child, SIGTERM);
	while (!monitor_reap(child, &ws)) {
		int64_t left = deadline - mono_ms();
		if (left <= 0) {
			log_warn("the agent (pid %d) did not stop within %d s; killing it",
			         (int)child, MONITOR_STOP_GRACE_MS / 1000);
			kill(child, SIGKILL);
			waitpid(child, &ws, 0);
			return;
		}
		monitor_wait_signal(set, left);
	}
}

/* The agent may have reported earlier restarts meanwhile: keep its ack. */
static void
monitor_reload_unreported(const char *dir, struct wdstate *w)
{
	struct wdstate cur;

	if (wdstate_load(dir, &cur) == 1)
		w->unreported = cur.unreported;
}

/* A restart, before the agent starts again: the agent reports it (wdstate.h). */
static void
monitor_record_restart(const char *dir, struct wdstate *w)
{
	monitor_reload_unreported(dir, w);
	w->restarts++;
	w->unreported++;
	w->last_restart_ms = now_ms();
	if (wdstate_save(dir, w) < 0)
		log_warn("cannot write %s/%s: this restart will not be reported", dir,
		         WDSTATE_FILE);
	log_info("restart %lld of the agent", (long long)w->restarts);
}

int
monitor_run(const struct monitor_opts *o, int *exit_code_r)
{
	struct wdstate w;
	sigset_t set, old;
	int64_t started_mono = 0, delay = 0;
	char why[128];
	pid_t child = -1;
	int ws, sig, died;

	*exit_code_r = 0;
	log_init("vigil-monitor", LOG_LVL_INFO);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);
	if (mkdir_p(o->dir, 0700) < 0) {
		log_error("cannot create state directory %s: %s", o->dir, strerror(errno));
		*exit_code_r = 1;
		return 0;
	}
	if (wdstate_load(o->dir, &w) < 0)
		log_warn("%s/%s is damaged; restart counts start again", o->dir, WDSTATE_FILE);
	w.monitor_pid = getpid();
	w.monitor_started_ms = now_ms();
	w.consecutive = 0;
	if (wdstate_save(o->dir, &w) < 0)
		log_warn("cannot write %s/%s: restarts will not be reported", o->dir, WDSTATE_FILE);
	log_info("watching the agent in %s (back-off up to %lld s, reset after %lld s up)", o->dir,
	         (long long)(o->backoff_max_ms / 1000), (long long)(o->stable_ms / 1000));

	for (;;) {
		died = 0;
		child = fork();
		if (child < 0) {
			/* not a restart: nothing ran, nothing to report */
			log_error("cannot start the agent: fork: %s", strerror(errno));
			delay = monitor_backoff_ms(++w.consecutive, o->backoff_max_ms);
		} else if (child == 0) {
			char pid[24];
			/* systemd's watchdog pings now come from the agent */
			if (getenv("WATCHDOG_USEC") != NULL) {
				snprintf(pid, sizeof(pid), "%d", (int)getpid());
				setenv("WATCHDOG_PID", pid, 1);
			}
			sigprocmask(SIG_SETMASK, &old, NULL);
			return 1;
		} else {
			started_mono = mono_ms();
			log_info("started the agent (pid %d)", (int)child);
			/* wait for the agent to die, or for a signal meant for the monitor */
			for (;;) {
				sig = monitor_wait_signal(&set, -1);
				if (sig == SIGTERM || sig == SIGINT) {
					log_info("signal %d: stopping the agent (pid %d)", sig,
					         (int)child);
					monitor_stop_child(child, &set);
					goto stop;
				}
				if (sig == SIGHUP) {
					kill(child, SIGHUP);
					continue;
				}
				if (monitor_reap(child, &ws))
					break;
			}
			monitor_exit_text(ws, why, sizeof(why));
			if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
				log_info(
				    "the agent (pid %d) stopped by itself (exit status 0); not "
				    "restarting it",
				    (int)child);
				goto stop;
			}
			died = 1;
			w.consecutive = monitor_next_consecutive(
			    w.consecutive, mono_ms() - started_mono, o->stable_ms);
			delay = monitor_backoff_ms(w.consecutive, o->backoff_max_ms);
			str_copy(w.last_exit, why, sizeof(w.last_exit));
			log_warn("the agent (pid %d) %s after %lld s up; restarting it in %lld ms",
			         (int)child, why, (long long)((mono_ms() - started_mono) / 1000),
			         (long long)delay);
			if (w.consecutive >= MONITOR_CRASH_LOOP)
				log_warn(
				    "the agent keeps dying: %lld times in a row within %lld s of "
				    "its start; backing off (next try in %lld s, at most every "
				    "%lld s)",
				    (long long)w.consecutive, (long long)(o->stable_ms / 1000),
				    (long long)(delay / 1000),
				    (long long)(o->backoff_max_ms / 1000));
		}
		/* the back-off: only a stop request cuts it short */
		{
			int64_t until = mono_ms() + delay;
			while (mono_ms() < until) {
				sig = monitor_wait_signal(&set, until - mono_ms());
				if (sig == SIGTERM || sig == SIGINT) {
					log_info("signal %d during the back-off: stopping", sig);
					goto stop;
				}
			}
		}
		if (died)
			monitor_record_restart(o->dir, &w);
	}
stop:
	monitor_reload_unreported(o->dir, &w);
	w.monitor_pid = 0;
	if (wdstate_save(o->dir, &w) < 0)
		log_warn("cannot write %s/%s", o->dir, WDSTATE_FILE);
	log_info("stopped");
	return 0;
}
