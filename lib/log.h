/*
 * log: the one logger of every Vigil program.  Lines go to stderr (which
 * systemd captures) with a level and the program name; nothing else.
 * Secrets must never be passed to these functions.
 */
#ifndef VIGIL_LOG_H
#define VIGIL_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *progname, enum log_level level);
void log_set_level(enum log_level level);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start-up and configuration failures only; lib/ never calls these. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define BUG_ON(cond)                                                               \
	do {                                                                       \
		if (cond)                                                          \
			log_bug(__FILE__, __LINE__, #cond);                        \
	} while (0)
void log_bug(const char *file, int line, const char *expr) __attribute__((noreturn));

#endif
