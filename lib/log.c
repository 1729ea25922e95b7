/*
 * log: formats one line per message on stderr:
 *   2026-11-22T10:00:00.123Z vigil-manager[123]: warning: text
 * The logger is one of the two kinds of file-scope state allowed (the other
 * being signal flags).
 */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "vigil";
static enum log_level log_lvl = LOG_LVL_INFO;

void
log_init(const char *progname, enum log_level level)
{
	log_prog = progname;
	log_lvl = level;
}

void
log_set_level(enum log_level level)
{
	log_lvl = level;
}

static void
log_vwrite(enum log_level lvl, const char *fmt, va_list ap)
{
	static const char *names[] = {"error", "warning", "info", "debug"};
	char line[2048], ts[32];
	struct timeval tv;
	struct tm tm;
	int n;

	if (lvl > log_lvl)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03dZ %s[%d]: %s: ", ts, (int)(tv.tv_usec / 1000),
		     log_prog, (int)getpid(), names[lvl]);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	/* one write per line so lines from several processes do not interleave */
	n = (int)strlen(line);
	if (n < (int)sizeof(line) - 1)
		line[n++] = '\n';
	else
		line[sizeof(line) - 2] = '\n', n = sizeof(line) - 1;
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

#define LOG_FN(name, lvl)                                                          \
	void name(const char *fmt, ...)                                            \
	{                                                                          \
		va_list ap;                                                        \
		va_start(ap, fmt);                                                 \
		log_vwrite(lvl, fmt, ap);                                          \
		va_end(ap);                                                        \
	}
LOG_FN(log_error, LOG_LVL_ERROR)
LOG_FN(log_warn, LOG_LVL_WARN)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_bug(const char *file, int line, const char *expr)
{
	log_error("BUG at %s:%d: %s", file, line, expr);
	abort();
}
