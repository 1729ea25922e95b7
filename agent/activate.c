/*
 * activate: see activate.h.  The identity files are written (key first,
 * 0600) before agent.json, whose presence means "activated": a crash in
 * between leaves an agent that simply is not activated yet.
 */
#include "activate.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "hostinfo.h"
#include "pki.h"
#include "util.h"

static int
act_confirm(const char *fpr)
{
	char line[16];

	fprintf(stderr,
		"The manager presents a CA with fingerprint\n  sha256:%s\n"
		"Compare it with the one vigil-manager printed at its first start.\n"
		"Trust this manager? [y/N] ",
		fpr);
	if (!isatty(STDIN_FILENO) || fgets(line, sizeof(line), stdin) == NULL)
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}

/*
 * Keeps the identity of a successful (re)activation: key, certificate,
 * then agent.json, whose presence means "activated".
 */
static int
act_keep(struct agent_state *st, json_t *resp, EVP_PKEY *key, const char *keypem,
	 const char *url, const char *hostname, const char *description, const char *ca_fpr,
	 char *err, size_t errsize)
{
	const char *guid, *certpem, *capem;
	char path[PATH_MAX];
	X509 *cert = NULL;
	int ret = -1;

	guid = json_string_value(json_object_get(resp, "guid"));
	certpem = json_string_value(json_object_get(resp, "certificate"));
	capem = json_string_value(json_object_get(resp, "ca_certificate"));
	if (guid == NULL || certpem == NULL || capem == NULL || strlen(guid) >= sizeof(st->guid) ||
	    (cert = pki_cert_parse(certpem, strlen(certpem))) == NULL ||
	    X509_check_private_key(cert, key) != 1) {
		snprintf(err, errsize, "the manager's answer lacks a valid GUID or certificate");
		goto out;
	}
	if (agent_state_path(st, "identity.key", path, sizeof(path)) < 0 ||
	    file_write_atomic(path, keypem, strlen(keypem), 0600) < 0 ||
	    agent_state_path(st, "identity.crt", path, sizeof(path)) < 0 ||
	    file_write_atomic(path, certpem, strlen(certpem), 0644) < 0) {
		snprintf(err, errsize, "cannot write the identity files in %s", st->dir);
		goto out;
	}
	str_copy(st->manager_url, url, sizeof(st->manager_url));
	str_copy(st->guid, guid, sizeof(st->guid));
	str_copy(st->hostname, hostname, sizeof(st->hostname));
	str_copy(st->description, description, sizeof(st->description));
	str_copy(st->ca_fingerprint, ca_fpr, sizeof(st->ca_fingerprint));
	st->computer_id = json_integer_value(json_object_get(resp, "computer_id"));
	st->activated_ms = now_ms();
	st->deactivated = 0;
	st->deactivated_reason[0] = '\0';
	json_decref(st->config);
	st->config = json_incref(json_object_get(resp, "config"));
	str_copy(st->config_fingerprint,
		 json_string_value(json_object_get(resp, "config_fingerprint"))
			 ? json_string_value(json_object_get(resp, "config_fingerprint"))
			 : "",
		 sizeof(st->config_fingerprint));
	{
		json_int_t iv = json_integer_value(
			json_object_get(json_object_get(resp, "config"), "heartbeat_interval"));
		st->heartbeat_interval = iv >= 1 && iv <= 86400 ? iv : 600;
	}
	if (agent_state_save(st) < 0) {
		snprintf(err, errsize, "cannot write %s/agent.json", st->dir);
		goto out;
	}
	st->activated = 1;
	ret = 0;
out:
	X509_free(cert);
	return ret;
}

int
activate_run(struct agent_state *st, const struct activate_opts *o,
	     struct activate_outcome *out, char *err, size_t errsize)
{
	struct http_client cl;
	struct client_result r;
	EVP_PKEY *key = NULL;
	X509 *ca = NULL;
	char fpr[PKI_FPR_LEN], pin[PKI_FPR_LEN], path[PATH_MAX];
	char *csr = NULL, *keypem = NULL, *body = NULL;
	json_t *req = NULL, *host = NULL, *resp = NULL;
	json_error_t je;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	client_result_init(&r);
	if (client_init(&cl) < 0) {
		snprintf(err, errsize, "cannot initialise libcurl");
		goto out;
	}
	if (strncmp(o->url, "https://", 8) != 0) {
		snprintf(err, errsize, "the manager URL must start with https:// (got \"%s\")", o->url);
		goto out;
	}
	if (o->ca_fingerprint && pki_fpr_normalise(o->ca_fingerprint, pin) < 0) {
		snprintf(err, errsize,
			 "--ca-fingerprint: expected 64 hexadecimal digits (sha256), colons allowed");
		goto out;
	}
	/* 1. the manager's CA, fetched without trust and then checked */
	cl.insecure = 1;
	if (client_request(&cl, o->url, "/agent/v1/ca", NULL, &r) < 0 || r.status != 200) {
		snprintf(err, errsize, "cannot fetch the manager's CA certificate: %s", r.error);
		/* with a pin there is nothing to confirm: a later try may reach it */
		if (o->ca_fingerprint) {
			out->retryable = 1;
			str_copy(out->trusted_fingerprint, pin, sizeof(out->trusted_fingerprint));
		}
		goto out;
	}
	ca = pki_cert_parse(r.body.data, r.body.len);
	if (ca == NULL || pki_cert_fingerprint(ca, fpr) < 0) {
		snprintf(err, errsize, "the manager's CA certificate is not valid PEM");
		goto out;
	}
	if (o->ca_fingerprint) {
		if (strcmp(fpr, pin) != 0) {
			snprintf(err, errsize,
				 "the manager's CA fingerprint sha256:%s does not match the pinned sha256:%s; "
				 "not activating (wrong manager, or someone in between)",
				 fpr, pin);
			goto out;
		}
	} else if (!o->assume_yes && !act_confirm(fpr)) {
		snprintf(err, errsize,
			 "the manager's CA (sha256:%s) was not confirmed; pass --ca-fingerprint to pin it",
			 fpr);
		goto out;
	}
	if (agent_state_path(st, "ca.crt", path, sizeof(path)) < 0 ||
	    file_write_atomic(path, r.body.data, r.body.len, 0644) < 0) {
		snprintf(err, errsize, "cannot write %s/ca.crt", st->dir);
		goto out;
	}
	/* 2. key and CSR */
	key = pki_key_new();
	keypem = key ? pki_key_pem(key) : NULL;
	csr = key ? pki_csr_new(key, o->hostname[0] ? o->hostname : "vigil-agent") : NULL;
	if (keypem == NULL || csr == NULL) {
		snprintf(err, errsize, "cannot create a key and a certificate request");
		goto out;
	}
	/* 3. the request, now verifying the manager against its CA */
	host = json_object();
	if (host == NULL || hostinfo_fill(host, o->hostname, o->clock_offset_ms, st->dir) < 0) {
		snprintf(err, errsize, "out of memory");
		goto out;
	}
	json_object_set_new(host, "description", json_string(o->description));
	if (o->agent_port > 0)
		json_object_set_new(host, "agent_port", json_integer(o->agent_port));
	req = json_pack("{s:s, s:s, s:O}", "token", o->token, "csr", csr, "host", host);
	if (req != NULL && o->policy != NULL && o->policy[0])
		json_object_set_new(req, "policy", json_string(o->policy));
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	if (body == NULL) {
		snprintf(err, errsize, "out of memory");
		goto out;
	}
	cl.insecure = 0;
	str_copy(cl.ca, path, sizeof(cl.ca));
	/* from here on every failure is worth another try with this CA pinned */
	str_copy(out->trusted_fingerprint, fpr, sizeof(out->trusted_fingerprint));
	out->retryable = 1;
	if (client_request(&cl, o->url, "/agent/v1/activate", body, &r) < 0) {
		snprintf(err, errsize, "cannot reach the manager: %s", r.error);
		goto out;
	}
	if (r.status != 200) {
		char msg[512];
		out->http_status = r.status;
		out->retry_after_s = r.retry_after_s;
		client_error_code(&r, out->code, sizeof(out->code));
		snprintf(err, errsize, "%s (HTTP %ld, %s)",
			 client_error_message(&r, msg, sizeof(msg)) ? msg : "activation refused",
			 r.status, out->code);
		/*
		 * A wrong token or a request the manager cannot read stays wrong
		 * on every retry; seats, settings and storms can change.
		 */
		if (r.status == 400 || strcmp(out->code, "bad_token") == 0)
			out->retryable = 0;
		goto out;
	}
	resp = json_loadb(r.body.data, r.body.len, 0, &je);
	if (resp == NULL) {
		snprintf(err, errsize, "the manager's answer is not JSON");
		goto out;
	}
	/* 4. keep the identity; the manager now knows the agent port too */
	st->reported_port = o->agent_port;
	if (act_keep(st, resp, key, keypem, o->url, o->hostname, o->description, fpr, err,
		     errsize) < 0)
		goto out;
	out->retryable = 0;
	ret = 0;
out:
	if (keypem != NULL) {
		OPENSSL_cleanse(keypem, strlen(keypem));
		free(keypem);
	}
	free(csr);
	free(body);
	json_decref(req);
	json_decref(host);
	json_decref(resp);
	EVP_PKEY_free(key);
	X509_free(ca);
	client_result_clear(&r);
	client_clear(&cl);
	return ret;
}

int
reactivate_run(struct agent_state *st, char *err, size_t errsize)
{
	struct http_client cl;
	struct client_result r;
	EVP_PKEY *key = NULL;
	char *csr = NULL, *keypem = NULL, *body = NULL;
	char url[sizeof(st->manager_url)], hostname[sizeof(st->hostname)];
	char description[sizeof(st->description)], ca_fpr[sizeof(st->ca_fingerprint)];
	json_t *host = NULL, *req = NULL, *resp = NULL;
	json_error_t je;
	int ret = -1;

	client_result_init(&r);
	if (client_init(&cl) < 0) {
		snprintf(err, errsize, "cannot initialise libcurl");
		goto out;
	}
	/* the copied (or orphaned) identity still authenticates this request */
	if (agent_state_path(st, "identity.crt", cl.cert, sizeof(cl.cert)) < 0 ||
	    agent_state_path(st, "identity.key", cl.key, sizeof(cl.key)) < 0 ||
	    agent_state_path(st, "ca.crt", cl.ca, sizeof(cl.ca)) < 0) {
		snprintf(err, errsize, "state directory path too long");
		goto out;
	}
	key = pki_key_new();
	keypem = key ? pki_key_pem(key) : NULL;
	csr = key ? pki_csr_new(key, st->hostname[0] ? st->hostname : "vigil-agent") : NULL;
	host = json_object();
	if (keypem == NULL || csr == NULL || host == NULL ||
	    hostinfo_fill(host, st->hostname, 0, st->dir) < 0 ||
	    json_object_set_new(host, "description", json_string(st->description)) < 0 ||
	    (req = json_pack("{s:s, s:O}", "csr", csr, "host", host)) == NULL ||
	    (body = json_dumps(req, JSON_COMPACT)) == NULL) {
		snprintf(err, errsize, "cannot create a key and a certificate request");
		goto out;
	}
	if (client_request(&cl, st->manager_url, "/agent/v1/reactivate", body, &r) < 0) {
		snprintf(err, errsize, "cannot reach the manager: %s", r.error);
		goto out;
	}
	if (r.status != 200) {
		char msg[512], code[64];
		client_error_code(&r, code, sizeof(code));
		snprintf(err, errsize, "%s (HTTP %ld, %s)",
			 client_error_message(&r, msg, sizeof(msg)) ? msg : "reactivation refused",
			 r.status, code);
		goto out;
	}
	resp = json_loadb(r.body.data, r.body.len, 0, &je);
	if (resp == NULL) {
		snprintf(err, errsize, "the manager's answer is not JSON");
		goto out;
	}
	/* act_keep() overwrites st: keep what it is given apart */
	str_copy(url, st->manager_url, sizeof(url));
	str_copy(hostname, st->hostname, sizeof(hostname));
	str_copy(description, st->description, sizeof(description));
	str_copy(ca_fpr, st->ca_fingerprint, sizeof(ca_fpr));
	ret = act_keep(st, resp, key, keypem, url, hostname, description, ca_fpr, err, errsize);
out:
	if (keypem != NULL) {
		OPENSSL_cleanse(keypem, strlen(keypem));
		free(keypem);
	}
	free(csr);
	free(body);
	json_decref(req);
	json_decref(host);
	json_decref(resp);
	EVP_PKEY_free(key);
	client_result_clear(&r);
	client_clear(&cl);
	return ret;
}
