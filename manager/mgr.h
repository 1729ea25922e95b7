/*
 * mgr: the manager's one context struct, passed explicitly to every
 * subsystem.  Only main.c creates it.
 */
#ifndef VIGIL_MGR_H
#define VIGIL_MGR_H

#include <stdint.h>

#include <openssl/ssl.h>

#include "actsettings.h"
#include "agentlink.h"
#include "alerts.h"
#include "ca.h"
#include "config.h"
#include "contact.h"
#include "deadline.h"
#include "license.h"
#include "loop.h"
#include "metrics.h"
#include "policy.h"
#include "registry.h"
#include "server.h"
#include "store.h"

struct mgr_stats {
	uint64_t heartbeats;
	uint64_t heartbeats_rejected;
	uint64_t activations;
	uint64_t activations_refused;
	uint64_t bad_requests;
	uint64_t conns_refused;
};

/*
 * agentsvc.c: activations of new computers waiting for the group commit
 * (agentsvc_commit): in the registry, their row queued in the store, the
 * answer held until the row is durable.
 */
#define ACT_BATCH_MAX 256
struct act_pending {
	struct conn_hold hold;
	struct computer *comp;
	char *cert_pem;
	int64_t now_ms;
	char created_why[512];
};

/* agentsvc.c: when a refusal was last recorded as an event, per address and reason */
#define REFUSAL_SLOTS 256
struct refusal_slot {
	uint64_t key;
	int64_t at;
};

struct mgr {
	struct mgr_config cfg;
	struct loop loop;
	struct store store;
	struct registry reg;
	struct deadline_heap deadlines;
	struct alerts alerts;
	struct licenses lic;
	struct policies pol;
	struct contacts contacts;
	struct links links;
	struct act_settings act;
	struct ca ca;
	struct server agent_srv;
	struct server api_srv;
	char api_key_hash[65];
	char token_hash[65];
	int64_t started_ms;
	int64_t started_mono;
	int64_t last_contact_flush;
	struct mgr_stats stats;
	struct metrics metrics;
	struct refusal_slot refusals[REFUSAL_SLOTS];
	/* agentsvc.c: the activation token bucket */
	double act_tokens;
	int64_t act_refill_mono;
	struct act_pending *act_batch[ACT_BATCH_MAX];
	size_t act_nbatch;
	uint64_t act_commits; /* group commits that answered activations (metrics) */
};

#endif
