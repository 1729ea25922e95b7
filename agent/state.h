/*
 * state: the agent's state directory: its identity (identity.key 0600,
 * identity.crt, ca.crt) and agent.json (manager URL, GUID, configuration
 * received from the manager).  Every write is atomic; a missing agent.json
 * means "not activated".
 */
#ifndef VIGIL_AGENT_STATE_H
#define VIGIL_AGENT_STATE_H

#include <jansson.h>
#include <stdint.h>

#include "pki.h"

#define AGENT_DEFAULT_DIR "/var/lib/vigil-agent"
#define AGENT_STATE_MAX (256 * 1024)

struct agent_state {
	char dir[512];
	int activated;
	char manager_url[512];
	char guid[40];
	int64_t computer_id;
	char hostname[256];    /* override given at activation, or "" */
	char description[1025];
	char ca_fingerprint[PKI_FPR_LEN];
	int64_t activated_ms;
	int64_t heartbeat_interval; /* seconds, from the manager */
	int64_t reported_port;	    /* the agent port the manager was last told (0: none) */
	char config_fingerprint[PKI_FPR_LEN];
	json_t *config; /* owned */
	int deactivated; /* the manager said this computer is deactivated */
	char deactivated_reason[256];
};

void agent_state_init(struct agent_state *st, const char *dir);
void agent_state_clear(struct agent_state *st);
/* Loads agent.json; 0 (activated or not), -1 with a message when damaged. */
int agent_state_load(struct agent_state *st, const char **errstr_r);
int agent_state_save(const struct agent_state *st);
/* Paths of the identity files into out. */
int agent_state_path(const struct agent_state *st, const char *name, char *out, size_t outsize);

#endif
