/*
 * policy: see policy.h.
 */
#include "policy.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mgr.h"
#include "util.h"

json_t *
policy_effective(const struct mgr *m, const struct computer *c)
{
	json_t *missed = m->cfg.missed_heartbeats_allowed == MISSED_UNLIMITED
				 ? json_string("unlimited")
				 : json_integer(m->cfg.missed_heartbeats_allowed);

	return json_pack("{s:s, s:I, s:o, s:I}", "policy", c->policy, "heartbeat_interval",
			 (json_int_t)m->cfg.heartbeat_interval, "missed_heartbeats_allowed", missed,
			 "max_clock_change", (json_int_t)m->cfg.max_clock_change);
}

int
policy_fingerprint(json_t *cfg, char out[PKI_FPR_LEN])
{
	unsigned char md[32];
	unsigned int n = 0;
	char *s = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	int ret = -1;

	if (s == NULL)
		return -1;
	if (EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL) == 1 && n == 32) {
		hex_encode(md, 32, out);
		ret = 0;
	}
	free(s);
	return ret;
}
