/*
 * activate: agent-initiated activation (vigil-agentctl activate).  Fetches
 * the manager's CA and checks its fingerprint against the pinned one (or
 * shows it for confirmation), creates a P-256 key and a CSR, sends them
 * with the token and the host facts, and keeps the identity it gets.
 */
#ifndef VIGIL_ACTIVATE_H
#define VIGIL_ACTIVATE_H

#include "client.h"
#include "pki.h"
#include "state.h"

struct activate_opts {
	const char *url;
	const char *token;
	const char *hostname;	 /* "" or override */
	const char *description;
	const char *policy;	    /* a policy name or ID, or "" for the manager's choice */
	int agent_port;		    /* the daemon's agent port, 0 when unknown */
	const char *ca_fingerprint; /* pinned, or NULL */
	int assume_yes;		    /* trust the shown fingerprint without asking */
	int64_t clock_offset_ms;
};

struct activate_outcome {
	int retryable; /* the manager refused or could not be reached: try again later */
	char trusted_fingerprint[PKI_FPR_LEN]; /* the CA to pin for the retries */
	long http_status;
	char code[64];	    /* the manager's error code, or "" */
	long retry_after_s; /* the manager's Retry-After (429), or 0 */
};

/* 0 on success; -1 with a sentence in err and what to do next in out. */
int activate_run(struct agent_state *st, const struct activate_opts *o,
		 struct activate_outcome *out, char *err, size_t errsize);

/*
 * Reactivation as a new computer, when the manager answered a heartbeat
 * with "reactivate_required" (this agent is a clone, or its computer was
 * deleted): a new key and CSR, authenticated by the current identity; the
 * new GUID and certificate replace it.  0, or -1 with a sentence in err.
 */
int reactivate_run(struct agent_state *st, char *err, size_t errsize);

#endif
