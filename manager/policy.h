/*
 * policy: a computer's effective configuration and its fingerprint.  One
 * built-in policy ("Default", from [policy] in the configuration) until
 * named policies arrive; callers already go through this module.
 */
#ifndef VIGIL_POLICY_H
#define VIGIL_POLICY_H

#include <jansson.h>

#include "pki.h"

struct mgr;
struct computer;

/* The effective settings of c as a JSON object; caller owns the reference. */
json_t *policy_effective(const struct mgr *m, const struct computer *c);
/* SHA-256 of the canonical (sorted, compact) JSON of cfg, in hex. */
int policy_fingerprint(json_t *cfg, char out[PKI_FPR_LEN]);

#endif
