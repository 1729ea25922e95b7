/*
 * config: the manager's settings.  One table (config.c) gives every
 * setting's section, name, type, default, bounds and description; the INI
 * reader, the -n check mode and docs/CONFIG.md (vigil-manager --settings)
 * are all driven from it.
 */
#ifndef VIGIL_CONFIG_H
#define VIGIL_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MISSED_UNLIMITED (-1)

struct mgr_config {
	char state_dir[512];
	char listen_addr[64];
	int64_t agent_port;
	int64_t api_port;
	char tls_names[512];
	char public_address[256];
	int64_t probe_interval; /* seconds; 0: only with work */
	int64_t heartbeat_interval;	   /* seconds */
	int64_t missed_heartbeats_allowed; /* MISSED_UNLIMITED or >= 0 */
	int64_t max_clock_change;	   /* seconds */
	int64_t offline_errors_for_stopped_vms; /* 0 or 1 */
	int64_t max_connections;
	int64_t handshake_timeout;	/* seconds */
	int64_t request_timeout;	/* seconds */
	int64_t idle_timeout;		/* seconds, agent channel */
	int64_t api_idle_timeout;	/* seconds */
	int64_t max_body_unauth;	/* bytes */
	int64_t max_body_agent;		/* bytes */
	int64_t max_body_api;		/* bytes */
	int64_t contact_flush_interval; /* seconds */
	int64_t agent_cert_days;
	int64_t agent_cert_test_seconds; /* 0: agent_cert_days */
	int64_t activation_rate;  /* activations per second, sustained */
	int64_t activation_burst; /* activations at once */
	int64_t events_max_age_days;
	int64_t events_max_count;
	char log_level[16];
	int64_t metrics_require_key; /* 0 or 1 */
};

/* Fills cfg with every default. */
void config_defaults(struct mgr_config *cfg);
/*
 * Reads an INI file over the defaults.  Every problem is printed to errfp
 * as "PATH:LINE: message"; returns the number of problems.
 */
int config_load(struct mgr_config *cfg, const char *path, FILE *errfp);
/* The same from memory; name is used in the messages. */
int config_load_mem(struct mgr_config *cfg, const char *text, size_t len, const char *name,
		    FILE *errfp);
/* Cross-setting checks; prints problems, returns their number. */
int config_validate(const struct mgr_config *cfg, const char *path, FILE *errfp);
/* Writes the settings table as Markdown (for docs/CONFIG.md). */
void config_print_table(FILE *fp);
/* Writes the effective configuration as INI. */
void config_print_effective(const struct mgr_config *cfg, FILE *fp);

#endif
