/*
 * nagios: a health report in the Nagios plugin format, shared by
 * "vigil-agentctl health" and "vigil-manager health": named checks with a
 * state and a sentence, performance data, one summary line
 *   VIGIL-AGENT OK - 7 checks passed | cert_days=364;30:;0: ...
 * followed by one line per check, or the same as JSON; the exit code is
 * the worst state (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).  Also the
 * checks both programs make: certificate expiry and free disk space.
 */
#ifndef VIGIL_NAGIOS_H
#define VIGIL_NAGIOS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"

enum nagios_state { NAGIOS_OK = 0, NAGIOS_WARNING = 1, NAGIOS_CRITICAL = 2, NAGIOS_UNKNOWN = 3 };

#define NAGIOS_MAX_CHECKS 16
#define NAGIOS_MAX_PERF 8
#define NAGIOS_MAX_OUTPUT 8192
#define NAGIOS_CERT_WARN_DAYS 30
#define NAGIOS_DISK_WARN_PCT 10
#define NAGIOS_DISK_CRIT_PCT 5

struct nagios_check {
	char name[32];
	enum nagios_state state;
	char detail[320];
};

/* label=value[uom];warn;crit with "lower is worse" ranges ("30:") when low_is_bad */
struct nagios_perf {
	char label[32];
	int64_t value;
	char uom[4];
	int64_t warn, crit;
	int has_thresholds, low_is_bad;
};

struct nagios_report {
	char service[32]; /* VIGIL-AGENT, VIGIL-MANAGER */
	struct nagios_check checks[NAGIOS_MAX_CHECKS];
	size_t n;
	struct nagios_perf perf[NAGIOS_MAX_PERF];
	size_t nperf;
};

void nagios_init(struct nagios_report *r, const char *service);
/* Adds a check; beyond NAGIOS_MAX_CHECKS it is dropped (a BUG in the caller). */
void nagios_add(struct nagios_report *r, const char *name, enum nagios_state state, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));
void nagios_perf(struct nagios_report *r, const char *label, int64_t value, const char *uom,
                 int has_thresholds, int64_t warn, int64_t crit, int low_is_bad);
/* CRITICAL outranks WARNING, which outranks UNKNOWN: a known problem is shown first. */
enum nagios_state nagios_worst(const struct nagios_report *r);
const char *nagios_state_name(enum nagios_state s);
/* The state of a value where lower is worse: v < crit critical, v < warn warning. */
enum nagios_state nagios_threshold_low(int64_t v, int64_t warn, int64_t crit);
/* Summary line, then one "STATE: name: detail" line per check.  0 or -1. */
int nagios_format(const struct nagios_report *r, struct buf *out);
/* {"service","state","exit_code","summary","checks":[...],"perfdata":{...}}; caller owns. */
json_t *nagios_json(const struct nagios_report *r);

/*
 * Checks the certificate at path: days left (floor; negative once
 * expired) into *days_r, CRITICAL when expired or unreadable, WARNING
 * under NAGIOS_CERT_WARN_DAYS.  Adds the check named name.
 */
enum nagios_state nagios_check_cert(struct nagios_report *r, const char *name, const char *what,
                                    const char *path, int64_t *days_r);
/*
 * 1 when pid is alive and its command line contains name (/proc; without
 * /proc, alive is enough).
 */
int nagios_process_running(int64_t pid, const char *name);
/* 0 when a TCP connection to addr:port (a wildcard means loopback) opens within timeout_ms. */
int nagios_connect(const char *addr, int port, int timeout_ms, char *err, size_t errsize);
/* Free space of the file system holding dir, in percent, as check name. */
enum nagios_state nagios_check_disk(struct nagios_report *r, const char *name, const char *dir,
                                    int64_t *pct_r);

#endif
