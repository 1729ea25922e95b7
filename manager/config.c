/*
 * config: the table of settings and the INI glue.  A setting that is not in
 * the table is an error, so a typo never silently falls back to a default.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "ini.h"
#include "log.h"
#include "util.h"

enum cfg_type { CFG_INT, CFG_STR, CFG_MISSED, CFG_LOGLEVEL };

struct cfg_setting {
	const char *section;
	const char *name;
	enum cfg_type type;
	size_t off;
	size_t size; /* CFG_STR: buffer size */
	const char *def;
	int64_t min, max;
	const char *unit;
	const char *desc;
};

#define OFF(f) offsetof(struct mgr_config, f)
#define SZ(f) sizeof(((struct mgr_config *)0)->f)

static const struct cfg_setting cfg_table[] = {
	{"manager", "state_dir", CFG_STR, OFF(state_dir), SZ(state_dir), "/var/lib/vigil", 1, 0,
	 "", "Directory of the database, the certificate authority and the keys; created on first start (mode 0700)."},
	{"manager", "log_level", CFG_LOGLEVEL, OFF(log_level), SZ(log_level), "info", 0, 0, "",
	 "One of error, warning, info, debug."},
	{"listen", "address", CFG_STR, OFF(listen_addr), SZ(listen_addr), "0.0.0.0", 1, 0, "",
	 "IPv4 or IPv6 address that both listeners bind to."},
	{"listen", "agent_port", CFG_INT, OFF(agent_port), 0, "4120", 0, 65535, "",
	 "Agent channel: activation and heartbeats (HTTPS, mutual TLS after activation). 0 picks a free port (tests)."},
	{"listen", "api_port", CFG_INT, OFF(api_port), 0, "4119", 0, 65535, "",
	 "REST API and /healthz (HTTPS). 0 picks a free port (tests)."},
	{"listen", "tls_names", CFG_STR, OFF(tls_names), SZ(tls_names), "localhost,127.0.0.1,::1", 0, 0,
	 "", "Comma-separated DNS names and IP addresses put in the manager certificate when it is first created (the host name is added)."},
	{"listen", "public_address", CFG_STR, OFF(public_address), SZ(public_address), "", 0, 0, "",
	 "Name or address agents use to reach the agent channel, put in deployment scripts; empty: this host's name."},
	{"agents", "probe_interval", CFG_INT, OFF(probe_interval), 0, "3600", 0, 86400, "s",
	 "How often the manager checks that it can reach each bidirectional agent on its port (a communications problem otherwise); 0: only when it has work for the agent. Spread over the interval."},
	{"listen", "max_connections", CFG_INT, OFF(max_connections), 0, "10000", 16, 1000000, "",
	 "Connections held at once on both ports together; beyond it new connections are closed at once."},
	{"listen", "handshake_timeout", CFG_INT, OFF(handshake_timeout), 0, "10", 1, 300, "s",
	 "Time a new connection has to complete its TLS handshake."},
	{"listen", "request_timeout", CFG_INT, OFF(request_timeout), 0, "10", 1, 300, "s",
	 "Time a client has to send a whole request once it started one."},
	{"listen", "idle_timeout", CFG_INT, OFF(idle_timeout), 0, "1800", 1, 86400, "s",
	 "Idle kept-alive agent connections are closed after this; keep it above the heartbeat interval."},
	{"listen", "api_idle_timeout", CFG_INT, OFF(api_idle_timeout), 0, "60", 1, 86400, "s",
	 "Idle kept-alive API connections are closed after this."},
	{"limits", "max_body_unauthenticated", CFG_INT, OFF(max_body_unauth), 0, "32768", 1024, 1048576, "bytes",
	 "Largest request body from a client without a client certificate (activation)."},
	{"limits", "max_body_agent", CFG_INT, OFF(max_body_agent), 0, "1048576", 4096, 67108864, "bytes",
	 "Largest request body from an activated agent (heartbeats with events)."},
	{"limits", "max_body_api", CFG_INT, OFF(max_body_api), 0, "1048576", 4096, 67108864, "bytes",
	 "Largest REST API request body."},
	{"policy", "heartbeat_interval", CFG_INT, OFF(heartbeat_interval), 0, "600", 1, 86400, "s",
	 "Default policy: seconds between agent heartbeats."},
	{"policy", "missed_heartbeats_allowed", CFG_MISSED, OFF(missed_heartbeats_allowed), 0, "2", 0, 1000, "",
	 "Default policy: heartbeats that may be missed before the computer is offline; \"unlimited\" never raises the offline alert."},
	{"policy", "max_clock_change", CFG_INT, OFF(max_clock_change), 0, "600", 1, 86400 * 365, "s",
	 "Default policy: largest difference between the agent's and the manager's clock before a clock change is reported."},
	{"policy", "offline_errors_for_stopped_vms", CFG_INT, OFF(offline_errors_for_stopped_vms), 0, "0", 0, 1, "",
	 "Default policy: 1 raises the offline error for a VM the inventory reports stopped; 0 (the default) shows it Managed (VM Stopped) instead."},
	{"store", "contact_flush_interval", CFG_INT, OFF(contact_flush_interval), 0, "5", 1, 300, "s",
	 "Last-contact times are kept in memory and written to the database in one batch this often."},
	{"store", "events_max_age_days", CFG_INT, OFF(events_max_age_days), 0, "90", 1, 36500, "days",
	 "Events older than this are deleted."},
	{"store", "events_max_count", CFG_INT, OFF(events_max_count), 0, "1000000", 1000, 1000000000, "",
	 "At most this many events are kept; the oldest go first."},
	{"activation", "rate", CFG_INT, OFF(activation_rate), 0, "500", 1, 1000000, "per s",
	 "Activations accepted per second, sustained; beyond it (and the burst) agents get 429 with Retry-After and retry with jitter."},
	{"activation", "burst", CFG_INT, OFF(activation_burst), 0, "1000", 1, 1000000, "",
	 "Activations accepted at once before the rate applies (a token bucket of this size)."},
	{"api", "metrics_require_key", CFG_INT, OFF(metrics_require_key), 0, "1", 0, 1, "",
	 "1: GET /metrics needs the API key (api-secret-key header, or Authorization: Bearer KEY as Prometheus sends it); 0: anyone who reaches the API port may scrape it."},
	{"ca", "agent_cert_test_seconds", CFG_INT, OFF(agent_cert_test_seconds), 0, "0", 0, 86400, "s",
	 "Test option: agent certificates valid for this many seconds instead of agent_cert_days (to test expiry); 0, the default, uses agent_cert_days."},
	{"ca", "agent_cert_days", CFG_INT, OFF(agent_cert_days), 0, "825", 1, 3650, "days",
	 "Validity of the client certificates issued to agents at activation."},
};

static int
cfg_set(struct mgr_config *cfg, const struct cfg_setting *s, const char *value, char *err,
	size_t errsize)
{
	char *base = (char *)cfg;
	int64_t v;

	switch (s->type) {
	case CFG_INT:
		if (parse_i64(value, s->min, s->max, &v) < 0) {
			snprintf(err, errsize, "%s.%s: \"%s\" is not a whole number from %lld to %lld",
				 s->section, s->name, value, (long long)s->min, (long long)s->max);
			return -1;
		}
		*(int64_t *)(base + s->off) = v;
		return 0;
	case CFG_MISSED:
		if (strcmp(value, "unlimited") == 0) {
			*(int64_t *)(base + s->off) = MISSED_UNLIMITED;
			return 0;
		}
		if (parse_i64(value, s->min, s->max, &v) < 0) {
			snprintf(err, errsize,
				 "%s.%s: \"%s\" is neither \"unlimited\" nor a whole number from %lld to %lld",
				 s->section, s->name, value, (long long)s->min, (long long)s->max);
			return -1;
		}
		*(int64_t *)(base + s->off) = v;
		return 0;
	case CFG_LOGLEVEL:
		if (strcmp(value, "error") && strcmp(value, "warning") && strcmp(value, "info") &&
		    strcmp(value, "debug")) {
			snprintf(err, errsize, "%s.%s: \"%s\" is not one of error, warning, info, debug",
				 s->section, s->name, value);
			return -1;
		}
		/* FALLTHROUGH */
	case CFG_STR:
		if (s->min > 0 && *value == '\0') {
			snprintf(err, errsize, "%s.%s: must not be empty", s->section, s->name);
			return -1;
		}
		if (str_copy(base + s->off, value, s->size) < 0) {
			snprintf(err, errsize, "%s.%s: longer than %zu bytes", s->section, s->name,
				 s->size - 1);
			return -1;
		}
		return 0;
	}
	return -1;
}

void
config_defaults(struct mgr_config *cfg)
{
	char err[256];
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < ARRAY_SIZE(cfg_table); i++)
		if (cfg_set(cfg, &cfg_table[i], cfg_table[i].def, err, sizeof(err)) < 0)
			log_bug(__FILE__, __LINE__, err);
}

struct cfg_load_ctx {
	struct mgr_config *cfg;
	const char *path;
	FILE *errfp;
	unsigned char seen[ARRAY_SIZE(cfg_table)];
};

static int
cfg_ini_handler(void *vctx, const char *section, const char *key, const char *value, int line,
		char *errbuf, size_t errsize)
{
	struct cfg_load_ctx *ctx = vctx;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cfg_table); i++) {
		const struct cfg_setting *s = &cfg_table[i];
		if (strcmp(s->section, section) != 0 || strcmp(s->name, key) != 0)
			continue;
		if (ctx->seen[i]) {
			snprintf(errbuf, errsize, "%s.%s is set twice", section, key);
			return -1;
		}
		ctx->seen[i] = 1;
		return cfg_set(ctx->cfg, s, value, errbuf, errsize);
	}
	if (*section == '\0')
		snprintf(errbuf, errsize, "\"%s\" is outside any [section]", key);
	else
		snprintf(errbuf, errsize, "unknown setting %s.%s (see vigil-manager --settings)",
			 section, key);
	return -1;
}

static void
cfg_ini_error(void *vctx, int line, const char *msg)
{
	struct cfg_load_ctx *ctx = vctx;

	if (line > 0)
		fprintf(ctx->errfp, "%s:%d: %s\n", ctx->path, line, msg);
	else
		fprintf(ctx->errfp, "%s: %s\n", ctx->path, msg);
}

int
config_load(struct mgr_config *cfg, const char *path, FILE *errfp)
{
	struct cfg_load_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.path = path;
	ctx.errfp = errfp;
	return ini_parse_file(path, cfg_ini_handler, cfg_ini_error, &ctx);
}

int
config_load_mem(struct mgr_config *cfg, const char *text, size_t len, const char *name,
		FILE *errfp)
{
	struct cfg_load_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.path = name;
	ctx.errfp = errfp;
	return ini_parse_mem(text, len, cfg_ini_handler, cfg_ini_error, &ctx);
}

int
config_validate(const struct mgr_config *cfg, const char *path, FILE *errfp)
{
	int n = 0;
	int64_t window;

	if (cfg->agent_port != 0 && cfg->agent_port == cfg->api_port) {
		fprintf(errfp, "%s: listen.agent_port and listen.api_port are both %lld\n", path,
			(long long)cfg->agent_port);
		n++;
	}
	/* it goes into deployment scripts and URLs: a host name or an address only */
	if (strspn(cfg->public_address, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789.-:[]") != strlen(cfg->public_address)) {
		fprintf(errfp,
			"%s: listen.public_address \"%s\" must be a host name or an IP address "
			"(letters, digits, '.', '-', ':', '[', ']')\n",
			path, cfg->public_address);
		n++;
	}
	if (cfg->missed_heartbeats_allowed != MISSED_UNLIMITED) {
		window = cfg->heartbeat_interval * (cfg->missed_heartbeats_allowed + 1);
		if (cfg->idle_timeout <= cfg->heartbeat_interval)
			fprintf(errfp,
				"%s: warning: listen.idle_timeout (%lld s) is not above policy.heartbeat_interval (%lld s): agents will reconnect for every heartbeat\n",
				path, (long long)cfg->idle_timeout, (long long)cfg->heartbeat_interval);
		(void)window;
	}
	return n;
}

void
config_print_table(FILE *fp)
{
	size_t i;

	fprintf(fp, "| section | setting | default | bounds | description |\n");
	fprintf(fp, "|---|---|---|---|---|\n");
	for (i = 0; i < ARRAY_SIZE(cfg_table); i++) {
		const struct cfg_setting *s = &cfg_table[i];
		char bounds[96];

		switch (s->type) {
		case CFG_INT:
			snprintf(bounds, sizeof(bounds), "%lld–%lld%s%s", (long long)s->min,
				 (long long)s->max, *s->unit ? " " : "", s->unit);
			break;
		case CFG_MISSED:
			snprintf(bounds, sizeof(bounds), "%lld–%lld or `unlimited`", (long long)s->min,
				 (long long)s->max);
			break;
		case CFG_LOGLEVEL:
			snprintf(bounds, sizeof(bounds), "error, warning, info, debug");
			break;
		default:
			snprintf(bounds, sizeof(bounds), "text, at most %zu bytes", s->size - 1);
			break;
		}
		fprintf(fp, "| `[%s]` | `%s` | `%s` | %s | %s |\n", s->section, s->name, s->def, bounds,
			s->desc);
	}
}

void
config_print_effective(const struct mgr_config *cfg, FILE *fp)
{
	const char *cur = "";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cfg_table); i++) {
		const struct cfg_setting *s = &cfg_table[i];
		const char *base = (const char *)cfg;

		if (strcmp(cur, s->section) != 0) {
			fprintf(fp, "%s[%s]\n", i ? "\n" : "", s->section);
			cur = s->section;
		}
		switch (s->type) {
		case CFG_INT:
			fprintf(fp, "%s = %lld\n", s->name, (long long)*(const int64_t *)(base + s->off));
			break;
		case CFG_MISSED: {
			int64_t v = *(const int64_t *)(base + s->off);
			if (v == MISSED_UNLIMITED)
				fprintf(fp, "%s = unlimited\n", s->name);
			else
				fprintf(fp, "%s = %lld\n", s->name, (long long)v);
			break;
		}
		default:
			fprintf(fp, "%s = %s\n", s->name, base + s->off);
			break;
		}
	}
}
