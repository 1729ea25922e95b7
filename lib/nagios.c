/*
 * nagios: see nagios.h.  Performance data follows the Nagios plugin
 * guidelines: 'label'=value[UOM];[warn];[crit];[min];[max], where a
 * threshold "30:" means "alert below 30".
 */
#include "nagios.h"

#include <sys/socket.h>

#include <poll.h>

#include <netinet/in.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "pki.h"
#include "util.h"

void
nagios_init(struct nagios_report *r, const char *service)
{
	memset(r, 0, sizeof(*r));
	str_copy(r->service, service, sizeof(r->service));
}

void
nagios_add(struct nagios_report *r, const char *name, enum nagios_state state, const char *fmt, ...)
{
	struct nagios_check *c;
	va_list ap;

	if (r->n >= NAGIOS_MAX_CHECKS)
		return;
	c = &r->checks[r->n++];
	str_copy(c->name, name, sizeof(c->name));
	c->state = state;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

void
nagios_perf(struct nagios_report *r, const char *label, int64_t value, const char *uom,
            int has_thresholds, int64_t warn, int64_t crit, int low_is_bad)
{
	struct nagios_perf *p;

	if (r->nperf >= NAGIOS_MAX_PERF)
		return;
	p = &r->perf[r->nperf++];
	str_copy(p->label, label, sizeof(p->label));
	str_copy(p->uom, uom ? uom : "", sizeof(p->uom));
	p->value = value;
	p->has_thresholds = has_thresholds;
	p->warn = warn;
	p->crit = crit;
	p->low_is_bad = low_is_bad;
}

static int
nagios_rank(enum nagios_state s)
{
	switch (s) {
	case NAGIOS_OK:
		return 0;
	case NAGIOS_UNKNOWN:
		return 1;
	case NAGIOS_WARNING:
		return 2;
	case NAGIOS_CRITICAL:
		return 3;
	}
	return 1;
}

enum nagios_state
nagios_worst(const struct nagios_report *r)
{
	enum nagios_state w = NAGIOS_OK;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (nagios_rank(r->checks[i].state) > nagios_rank(w))
			w = r->checks[i].state;
	return w;
}

const char *
nagios_state_name(enum nagios_state s)
{
	switch (s) {
	case NAGIOS_OK:
		return "OK";
	case NAGIOS_WARNING:
		return "WARNING";
	case NAGIOS_CRITICAL:
		return "CRITICAL";
	case NAGIOS_UNKNOWN:
		return "UNKNOWN";
	}
	return "UNKNOWN";
}

enum nagios_state
nagios_threshold_low(int64_t v, int64_t warn, int64_t crit)
{
	if (v < crit)
		return NAGIOS_CRITICAL;
	if (v < warn)
		return NAGIOS_WARNING;
	return NAGIOS_OK;
}

static int
nagios_summary(const struct nagios_report *r, struct buf *out)
{
	enum nagios_state w = nagios_worst(r);
	size_t i, problems = 0, first = r->n;
	int ret;

	for (i = 0; i < r->n; i++) {
		if (r->checks[i].state == NAGIOS_OK)
			continue;
		problems++;
		/* the first check in the worst state names the problem */
		if (first == r->n && r->checks[i].state == w)
			first = i;
	}
	if (w == NAGIOS_OK)
		ret = buf_printf(out, "%s OK - %zu check%s passed", r->service, r->n,
		                 r->n == 1 ? "" : "s");
	else if (problems > 1)
		ret = buf_printf(out, "%s %s - %s: %s (and %zu more problem%s)", r->service,
		                 nagios_state_name(w), r->checks[first].name,
		                 r->checks[first].detail, problems - 1, problems == 2 ? "" : "s");
	else
		ret = buf_printf(out, "%s %s - %s: %s", r->service, nagios_state_name(w),
		                 r->checks[first].name, r->checks[first].detail);
	if (ret < 0)
		return -1;
	if (r->nperf > 0 && buf_puts(out, " |") < 0)
		return -1;
	for (i = 0; i < r->nperf; i++) {
		const struct nagios_perf *p = &r->perf[i];
		if (buf_printf(out, " %s=%lld%s", p->label, (long long)p->value, p->uom) < 0)
			return -1;
		if (p->has_thresholds &&
		    buf_printf(out, ";%lld%s;%lld%s", (long long)p->warn, p->low_is_bad ? ":" : "",
		               (long long)p->crit, p->low_is_bad ? ":" : "") < 0)
			return -1;
	}
	return 0;
}

int
nagios_format(const struct nagios_report *r, struct buf *out)
{
	size_t i;

	if (nagios_summary(r, out) < 0 || buf_puts(out, "\n") < 0)
		return -1;
	for (i = 0; i < r->n; i++)
		if (buf_printf(out, "%s: %s: %s\n", nagios_state_name(r->checks[i].state),
		               r->checks[i].name, r->checks[i].detail) < 0)
			return -1;
	return 0;
}

json_t *
nagios_json(const struct nagios_report *r)
{
	struct buf sum;
	json_t *o, *checks = json_array(), *perf = json_object();
	enum nagios_state w = nagios_worst(r);
	size_t i;

	buf_init(&sum, NAGIOS_MAX_OUTPUT);
	if (nagios_summary(r, &sum) < 0 || checks == NULL || perf == NULL) {
		buf_clear(&sum);
		json_decref(checks);
		json_decref(perf);
		return NULL;
	}
	for (i = 0; i < r->n; i++)
		json_array_append_new(checks,
		                      json_pack("{s:s, s:s, s:s}", "name", r->checks[i].name,
		                                "state", nagios_state_name(r->checks[i].state),
		                                "detail", r->checks[i].detail));
	for (i = 0; i < r->nperf; i++) {
		const struct nagios_perf *p = &r->perf[i];
		json_t *v = json_pack("{s:I, s:s}", "value", (json_int_t)p->value, "uom", p->uom);
		if (v != NULL && p->has_thresholds) {
			json_object_set_new(v, "warn", json_integer(p->warn));
			json_object_set_new(v, "crit", json_integer(p->crit));
			json_object_set_new(v, "lower_is_worse", json_boolean(p->low_is_bad));
		}
		json_object_set_new(perf, p->label, v);
	}
	o = json_pack("{s:s, s:s, s:i, s:s, s:o, s:o}", "service", r->service, "state",
	              nagios_state_name(w), "exit_code", (int)w, "summary", buf_cstr(&sum),
	              "checks", checks, "perfdata", perf);
	buf_clear(&sum);
	return o;
}

enum nagios_state
nagios_check_cert(struct nagios_report *r, const char *name, const char *what, const char *path,
                  int64_t *days_r)
{
	X509 *x = pki_cert_load(path);
	int64_t left, days;
	enum nagios_state s;
	char when[40];

	*days_r = 0;
	if (x == NULL) {
		nagios_add(r, name, NAGIOS_CRITICAL, "%s: cannot read %s", what, path);
		return NAGIOS_CRITICAL;
	}
	left = pki_cert_not_after(x) - now_ms() / 1000;
	X509_free(x);
	/* floor division: -1 as soon as it has expired */
	days = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
	*days_r = days;
	fmt_time_ms((left + now_ms() / 1000) * 1000, when, sizeof(when));
	s = left <= 0 ? NAGIOS_CRITICAL : nagios_threshold_low(days, NAGIOS_CERT_WARN_DAYS, 0);
	if (s == NAGIOS_CRITICAL)
		nagios_add(r, name, s, "%s expired on %s (%s)", what, when, path);
	else if (s == NAGIOS_WARNING)
		nagios_add(r, name, s, "%s expires in %lld days, on %s (%s)", what, (long long)days,
		           when, path);
	else
		nagios_add(r, name, s, "%s valid for %lld more days, until %s", what,
		           (long long)days, when);
	return s;
}

enum nagios_state
nagios_check_disk(struct nagios_report *r, const char *name, const char *dir, int64_t *pct_r)
{
	struct statvfs sv;
	enum nagios_state s;
	int64_t pct, mb;

	*pct_r = 0;
	if (statvfs(dir, &sv) < 0 || sv.f_blocks == 0) {
		nagios_add(r, name, NAGIOS_UNKNOWN, "cannot read the free space of %s: %s", dir,
		           strerror(errno));
		return NAGIOS_UNKNOWN;
	}
	pct = (int64_t)((double)sv.f_bavail * 100.0 / (double)sv.f_blocks);
	mb = (int64_t)((double)sv.f_bavail * (double)sv.f_frsize / (1024.0 * 1024.0));
	*pct_r = pct;
	s = nagios_threshold_low(pct, NAGIOS_DISK_WARN_PCT, NAGIOS_DISK_CRIT_PCT);
	nagios_add(r, name, s, "%lld%% free (%lld MiB) on the file system of %s%s", (long long)pct,
	           (long long)mb, dir,
	           s == NAGIOS_CRITICAL  ? "; under the critical threshold of 5%"
	           : s == NAGIOS_WARNING ? "; under the warning threshold of 10%"
	                                 : "");
	return s;
}

int
nagios_process_running(int64_t pid, const char *name)
{
	char path[64], cmd[4096];
	size_t got = 0, i;
	ssize_t n;
	int fd;

	if (pid <= 0 || pid > INT32_MAX || (kill((pid_t)pid, 0) < 0 && errno != EPERM))
		return 0;
	snprintf(path, sizeof(path), "/proc/%lld/cmdline", (long long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	/* /proc files have no size: read until the end */
	while (got < sizeof(cmd) - 1 && (n = read(fd, cmd + got, sizeof(cmd) - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	for (i = 0; i < got; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	cmd[got] = '\0';
	return strstr(cmd, name) != NULL;
}

int
nagios_connect(const char *addr, int port, int timeout_ms, char *err, size_t errsize)
{
	struct sockaddr_storage ss;
	struct pollfd pfd;
	socklen_t len;
	int fd, e = 0, ret = -1;

	/* a wildcard listener is reached on loopback */
	if (strcmp(addr, "0.0.0.0") == 0)
		addr = "127.0.0.1";
	else if (strcmp(addr, "::") == 0)
		addr = "::1";
	if (sockaddr_from_ip(addr, port, &ss, &len) < 0) {
		snprintf(err, errsize, "\"%s\" is not an IP address", addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errsize, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		snprintf(err, errsize, "%s", strerror(errno));
		goto out;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, timeout_ms) <= 0) {
		snprintf(err, errsize, "no answer within %d ms", timeout_ms);
		goto out;
	}
	len = sizeof(e);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0 || e != 0) {
		snprintf(err, errsize, "%s", strerror(e ? e : errno));
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}
