/*
 * deploy: see deploy.h.
 */
#include "deploy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/x509.h>

#include "buf.h"
#include "mgr.h"
#include "util.h"

#define DEPLOY_MAX_SCRIPT 16384

int
deploy_token(const struct mgr *m, char out[DEPLOY_TOKEN_LEN + 1])
{
	unsigned char mac[32];
	char msg[128];

	snprintf(msg, sizeof(msg), "vigil deployment token v1\n%s", m->token_hash);
	if (ca_derive(m->ca.key, msg, mac) < 0)
		return -1;
	hex_encode(mac, DEPLOY_TOKEN_LEN / 2, out);
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

int
deploy_token_check(const struct mgr *m, const char *token)
{
	char want[DEPLOY_TOKEN_LEN + 1];
	int ok;

	if (strlen(token) != DEPLOY_TOKEN_LEN || deploy_token(m, want) < 0)
		return 0;
	ok = CRYPTO_memcmp(want, token, DEPLOY_TOKEN_LEN) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

/* host:port as a URL authority: an IPv6 address goes in brackets. */
static void
deploy_authority(const struct mgr *m, char *out, size_t outsize)
{
	char host[256];

	if (m->cfg.public_address[0])
		str_copy(host, m->cfg.public_address, sizeof(host));
	else if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
		str_copy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	if (strchr(host, ':') != NULL && host[0] != '[')
		snprintf(out, outsize, "[%s]:%d", host, m->agent_srv.port);
	else
		snprintf(out, outsize, "%s:%d", host, m->agent_srv.port);
}

/*
 * Every value in the script is single-quoted; none may hold a quote or a
 * line break (they come from the configuration and the CA, all checked).
 */
static int
deploy_safe(const char *s)
{
	return strpbrk(s, "'\n\r\\") == NULL;
}

static const char script_body[] =
    "if [ \"$(id -u)\" -ne 0 ] && [ \"${VIGIL_DEPLOY_ALLOW_NON_ROOT:-}\" != 1 ]; then\n"
    "\techo \"vigil-deploy: run this script as root (it activates the Vigil agent of this "
    "host)\" >&2\n"
    "\texit 2\n"
    "fi\n"
    "AGENTCTL=${VIGIL_AGENTCTL:-$(command -v vigil-agentctl || true)}\n"
    "if [ -z \"$AGENTCTL\" ] || [ ! -x \"$AGENTCTL\" ]; then\n"
    "\techo \"vigil-deploy: vigil-agentctl not found: install the Vigil agent first\" >&2\n"
    "\texit 2\n"
    "fi\n"
    "set --\n"
    "if [ -n \"${VIGIL_AGENT_DIR:-}\" ]; then set -- -d \"$VIGIL_AGENT_DIR\"; fi\n"
    "if ! \"$AGENTCTL\" \"$@\" status --json 2>/dev/null | grep -q '\"daemon_running\": true'; "
    "then\n"
    "\tif command -v systemctl >/dev/null 2>&1 && systemctl cat vigil-agent.service >/dev/null "
    "2>&1; then\n"
    "\t\techo \"vigil-deploy: starting vigil-agent\"\n"
    "\t\tsystemctl start vigil-agent.service || echo \"vigil-deploy: systemctl start "
    "vigil-agent failed; the activation still happens and the agent retries once it runs\" >&2\n"
    "\telse\n"
    "\t\techo \"vigil-deploy: vigil-agent is not running; the activation still happens, and "
    "refused attempts are retried once the agent runs\" >&2\n"
    "\tfi\n"
    "fi\n"
    "echo \"vigil-deploy: activating this host against $MANAGER_URL (CA sha256:$CA_FINGERPRINT)\"\n"
    "\"$AGENTCTL\" \"$@\" activate \"$MANAGER_URL\" \"token:$TOKEN\" --ca-fingerprint "
    "\"$CA_FINGERPRINT\" \\\n"
    "\t--retry-interval \"$RETRY_INTERVAL\" --max-retries \"$MAX_RETRIES\" ${POLICY:+\"$POLICY\"}\n"
    "rc=$?\n"
    "if [ \"$rc\" -eq 0 ]; then\n"
    "\techo \"vigil-deploy: activated\"\n"
    "\t\"$AGENTCTL\" \"$@\" status || true\n"
    "\texit 0\n"
    "fi\n"
    "if \"$AGENTCTL\" \"$@\" status --json 2>/dev/null | grep -q '\"pending_activation\"'; then\n"
    "\techo \"vigil-deploy: not activated yet: the agent retries every $RETRY_INTERVAL s, up to "
    "$MAX_RETRIES times (vigil-agentctl status shows how it goes)\" >&2\n"
    "\texit 1\n"
    "fi\n"
    "echo \"vigil-deploy: activation failed (see above); nothing will be retried\" >&2\n"
    "exit 1\n";

char *
deploy_script(const struct mgr *m, const struct deploy_opts *o, char *err, size_t errsize)
{
	char token[DEPLOY_TOKEN_LEN + 1], auth[300], when[40], polarg[40] = "";
	struct policy *pol = NULL;
	struct buf b;
	char *out;
	int ok;

	if (o->policy != NULL && o->policy[0] && (pol = policy_find(m, o->policy)) == NULL) {
		snprintf(err, errsize, "no policy named \"%.64s\" (vigilctl policy list)",
		         o->policy);
		return NULL;
	}
	if (o->group != NULL && o->group[0]) {
		snprintf(err, errsize, "computer groups are not built yet: leave the group out");
		return NULL;
	}
	if (o->retry_interval < 1 || o->retry_interval > 3600 || o->max_retries < 0 ||
	    o->max_retries > 100) {
		snprintf(err, errsize,
		         "the retry interval is 1 to 3600 seconds and the retries 0 to 100");
		return NULL;
	}
	/* by ID: a number needs no quoting and survives a rename */
	if (pol != NULL)
		snprintf(polarg, sizeof(polarg), "policyid:%lld", (long long)pol->id);
	deploy_authority(m, auth, sizeof(auth));
	if (deploy_token(m, token) < 0 || !deploy_safe(auth)) {
		snprintf(err, errsize, "cannot derive the deployment token");
		return NULL;
	}
	fmt_time_ms(now_ms(), when, sizeof(when));
	buf_init(&b, DEPLOY_MAX_SCRIPT);
	ok = buf_printf(
	         &b,
	         "#!/bin/sh\n"
	         "# Vigil agent deployment script, made by vigil-manager at %s.\n"
	         "# Run it as root on a host where the Vigil agent (vigil-agent, vigil-agentctl)\n"
	         "# is installed: it activates the agent against this manager, with the manager's\n"
	         "# CA pinned. It holds a deployment token: keep it as secret as the activation\n"
	         "# token; vigil-manager new-activation-token (and SIGHUP) makes it stop working.\n"
	         "# Environment: VIGIL_AGENTCTL (path), VIGIL_AGENT_DIR (state directory),\n"
	         "# VIGIL_DEPLOY_ALLOW_NON_ROOT=1 (tests).\n"
	         "MANAGER_URL='https://%s/'\n"
	         "CA_FINGERPRINT='%s'\n"
	         "TOKEN='%s'\n"
	         "RETRY_INTERVAL=%lld\n"
	         "MAX_RETRIES=%lld\n"
	         "POLICY='%s'\n",
	         when, auth, m->ca.fingerprint, token, (long long)o->retry_interval,
	         (long long)o->max_retries, polarg) >= 0 &&
	     buf_puts(&b, script_body) >= 0;
	OPENSSL_cleanse(token, sizeof(token));
	out = ok ? strdup(buf_cstr(&b)) : NULL;
	if (b.data != NULL)
		OPENSSL_cleanse(b.data, b.len);
	buf_clear(&b);
	if (out == NULL)
		snprintf(err, errsize, "out of memory");
	return out;
}
