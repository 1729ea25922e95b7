/*
 * deploy: agent deployment scripts (vigilctl deploy-script, GET
 * /api/agentdeploymentscripts) and the deployment token they carry.
 *
 * The manager keeps only the SHA-256 of the activation token, so it cannot
 * put that token in a script.  It derives a second token instead:
 * HMAC-SHA256, keyed by a digest of the CA's private key, of the activation
 * token's hash.  Activations accept either token; rotating the activation
 * token (vigil-manager new-activation-token, then SIGHUP) rotates the
 * deployment token with it, so old scripts stop working.  Reading the
 * database alone does not give the token; reading ca.key does, but that
 * key signs every agent certificate anyway.
 */
#ifndef VIGIL_DEPLOY_H
#define VIGIL_DEPLOY_H

#include <stddef.h>
#include <stdint.h>

struct mgr;

#define DEPLOY_TOKEN_LEN 48

struct deploy_opts {
	const char *policy;	/* NULL or "" for the default */
	const char *group;	/* NULL or "" for none */
	int64_t retry_interval; /* seconds, 1-3600 */
	int64_t max_retries;	/* 0-100 */
};

/* The current deployment token (48 hex digits and a NUL); -1 on failure. */
int deploy_token(const struct mgr *m, char out[DEPLOY_TOKEN_LEN + 1]);
/* 1 when token is the current deployment token (constant time). */
int deploy_token_check(const struct mgr *m, const char *token);
/*
 * The POSIX shell script that activates an agent against this manager;
 * malloc'd.  NULL with a sentence in err (bad option, out of memory).
 */
char *deploy_script(const struct mgr *m, const struct deploy_opts *o, char *err, size_t errsize);

#endif
