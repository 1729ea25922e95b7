/*
 * mhealth: see mhealth.h.
 */
#include "mhealth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "store.h"
#include "util.h"

/* manager.json: the running manager's pid and ports (0 when absent). */
static void
mhealth_runfile(const struct mgr_config *cfg, int64_t *pid, int64_t *agent_port, int64_t *api_port)
{
	char path[PATH_MAX], *data = NULL;
	size_t len;
	json_error_t je;
	json_t *o;

	*pid = 0;
	*agent_port = cfg->agent_port;
	*api_port = cfg->api_port;
	if (path_join(path, sizeof(path), cfg->state_dir, "manager.json") < 0 ||
	    file_read_all(path, 4096, &data, &len) < 0)
		return;
	o = json_loadb(data, len, 0, &je);
	free(data);
	*pid = json_integer_value(json_object_get(o, "pid"));
	/* port 0 in the file picks a free port: only the run file knows which */
	if (json_integer_value(json_object_get(o, "agent_port")) > 0)
		*agent_port = json_integer_value(json_object_get(o, "agent_port"));
	if (json_integer_value(json_object_get(o, "api_port")) > 0)
		*api_port = json_integer_value(json_object_get(o, "api_port"));
	json_decref(o);
}

static void
mhealth_port(struct nagios_report *r, const char *name, const char *what,
             const struct mgr_config *cfg, int64_t port)
{
	char err[128];

	if (port <= 0) {
		nagios_add(r, name, NAGIOS_UNKNOWN,
		           "%s: port 0 in the configuration and no manager.json to say which",
		           what);
		return;
	}
	if (nagios_connect(cfg->listen_addr, (int)port, 3000, err, sizeof(err)) < 0)
		nagios_add(r, name, NAGIOS_CRITICAL, "%s port %lld is not listening on %s: %s",
		           what, (long long)port, cfg->listen_addr, err);
	else
		nagios_add(r, name, NAGIOS_OK, "%s port %lld is listening on %s", what,
		           (long long)port, cfg->listen_addr);
}

static void
mhealth_database(struct nagios_report *r, const struct mgr_config *cfg)
{
	char dbpath[PATH_MAX], now[24];
	const char *errstr = NULL;
	struct store s;

	if (path_join(dbpath, sizeof(dbpath), cfg->state_dir, "vigil.db") < 0 ||
	    access(dbpath, F_OK) != 0) {
		nagios_add(r, "database", NAGIOS_CRITICAL, "no database at %s/vigil.db",
		           cfg->state_dir);
		return;
	}
	memset(&s, 0, sizeof(s));
	if (store_open(&s, dbpath, &errstr) < 0) {
		nagios_add(r, "database", NAGIOS_CRITICAL, "cannot open %s: %s", dbpath, errstr);
		return;
	}
	snprintf(now, sizeof(now), "%lld", (long long)now_ms());
	if (store_setting_set(&s, "last_health_check_ms", now) < 0)
		nagios_add(r, "database", NAGIOS_CRITICAL, "%s is not writable", dbpath);
	else
		nagios_add(r, "database", NAGIOS_OK, "%s is writable", dbpath);
	store_close(&s);
}

void
mhealth_run(const struct mgr_config *cfg, struct nagios_report *r)
{
	int64_t pid, agent_port, api_port, days, pct;
	char path[PATH_MAX];

	nagios_init(r, "VIGIL-MANAGER");
	mhealth_runfile(cfg, &pid, &agent_port, &api_port);
	if (nagios_process_running(pid, "vigil-manager"))
		nagios_add(r, "process", NAGIOS_OK, "vigil-manager is running (pid %lld)",
		           (long long)pid);
	else if (pid > 0)
		nagios_add(r, "process", NAGIOS_CRITICAL,
		           "vigil-manager is not running (pid %lld of %s/manager.json is gone)",
		           (long long)pid, cfg->state_dir);
	else
		nagios_add(r, "process", NAGIOS_CRITICAL,
		           "vigil-manager is not running (no %s/manager.json)", cfg->state_dir);
	mhealth_port(r, "agent port", "agent channel", cfg, agent_port);
	mhealth_port(r, "api port", "REST API", cfg, api_port);
	mhealth_database(r, cfg);
	if (path_join(path, sizeof(path), cfg->state_dir, "ca.crt") == 0) {
		nagios_check_cert(r, "ca certificate", "the CA certificate", path, &days);
		nagios_perf(r, "ca_cert_days", days, "", 1, NAGIOS_CERT_WARN_DAYS, 0, 1);
	}
	if (path_join(path, sizeof(path), cfg->state_dir, "manager.crt") == 0) {
		nagios_check_cert(r, "server certificate", "the manager's server certificate", path,
		                  &days);
		nagios_perf(r, "server_cert_days", days, "", 1, NAGIOS_CERT_WARN_DAYS, 0, 1);
	}
	nagios_check_disk(r, "disk", cfg->state_dir, &pct);
	nagios_perf(r, "disk_free_pct", pct, "%", 1, NAGIOS_DISK_WARN_PCT, NAGIOS_DISK_CRIT_PCT, 1);
}
