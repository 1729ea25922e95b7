/*
 * retry: a refused or failed activation that the agent retries by itself,
 * like dsa_control's --max-dsm-retries / --dsm-retry-interval: the first
 * retry about 10 s later, then every retry_interval, up to max_retries.
 * Kept in activation.pending (0600, it holds the token) so that retries
 * survive a restart of the agent.
 */
#ifndef VIGIL_RETRY_H
#define VIGIL_RETRY_H

#include <stdint.h>

#include "pki.h"
#include "state.h"

#define RETRY_FILE "activation.pending"
#define RETRY_FIRST_MS 10000
#define RETRY_DEFAULT_INTERVAL 300
#define RETRY_DEFAULT_MAX 30

struct pending_activation {
	char url[512];
	char token[129];
	char hostname[256];
	char description[1025];
	char policy[129];
	char ca_fingerprint[PKI_FPR_LEN]; /* the CA seen and trusted at the first attempt */
	int64_t retry_interval;		  /* seconds */
	int64_t attempts_left;
	int64_t next_at_ms; /* wall clock */
	char last_error[512];
};

/* 1 loaded, 0 none, -1 damaged (the file is removed). */
int retry_load(const struct agent_state *st, struct pending_activation *p);
int retry_save(const struct agent_state *st, const struct pending_activation *p);
void retry_remove(const struct agent_state *st);
/*
 * The delay before the next retry: the interval, +-10 %, but never before
 * the manager's Retry-After (plus up to half of it again, so that a storm
 * of refused agents does not come back all at once).
 */
int64_t retry_delay_ms(int64_t interval_s, long retry_after_s, uint64_t rnd);

#endif
