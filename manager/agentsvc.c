/*
 * agentsvc: see agentsvc.h.
 *
 * Refusals are recorded as events (770 heartbeat rejected for a known
 * computer, 771 unrecognized client), but at most once per minute per
 * address and reason, so a misbehaving client cannot flood the event table.
 */
#include "agentsvc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "deploy.h"
#include "events.h"
#include "jsonbody.h"
#include "license.h"
#include "log.h"
#include "mgr.h"
#include "policy.h"
#include "proto.h"
#include "status.h"
#include "util.h"
#include "wdreport.h"

#define REFUSAL_QUIET_MS 60000

void
secret_hash(const char *secret, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_Digest(secret, strlen(secret), md, &n, EVP_sha256(), NULL);
	hex_encode(md, 32, out);
}

int
secret_check(const char *secret, const char *stored_hash)
{
	char h[65];

	if (strlen(stored_hash) != 64)
		return 0;
	secret_hash(secret, h);
	return CRYPTO_memcmp(h, stored_hash, 64) == 0;
}

/* 1 when this (address, reason) was not recorded in the last minute. */
static int
refusal_should_record(struct mgr *m, const char *ip, const char *code)
{
	struct refusal_slot *slots = m->refusals;
	uint64_t h = 1469598103934665603ULL;
	const char *p;
	int64_t now = mono_ms();
	size_t i;

	for (p = ip; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (p = code; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	i = h % REFUSAL_SLOTS;
	if (slots[i].key == h && now - slots[i].at < REFUSAL_QUIET_MS)
		return 0;
	slots[i].key = h;
	slots[i].at = now;
	return 1;
}

static void
reply_json(struct http_response *resp, int status, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);

	resp->status = status;
	resp->content_type = "application/json";
	buf_reset(&resp->body);
	if (s == NULL || buf_puts(&resp->body, s) < 0 || buf_puts(&resp->body, "\n") < 0)
		http_error(resp, 500, "internal", "cannot encode the response");
	free(s);
	json_decref(obj);
}

static void
make_guid(char out[GUID_LEN])
{
	unsigned char b[16];
	char hex[33];

	rand_bytes(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	hex_encode(b, 16, hex);
	snprintf(out, GUID_LEN, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
		 hex + 20);
}

static void
activation_refuse(struct mgr *m, struct conn *c, struct http_response *resp, int status,
		  const char *code, const char *hostname, const char *msg)
{
	m->stats.activations_refused++;
	metrics_activation_refused(&m->metrics, code);
	http_error(resp, status, code, "activation refused: %s", msg);
	if (refusal_should_record(m, c->peer_ip, code))
		event_record_target(m, EV_AIA_FAILED, hostname[0] ? hostname : c->peer_ip,
				    "activation from %s refused (%s): %s", c->peer_ip, code, msg);
}

/*
 * The newest computer with the same identity (host name and machine id) in
 * the given state, or in any state when state < 0; NULL when none.
 */
static struct computer *
activation_find_same(struct mgr *m, const struct host_facts *h, int state)
{
	struct computer *c, *best = NULL;

	/* the newest computer of that name and machine (the name index) */
	for (c = registry_name_first(&m->reg, h->hostname); c;
	     c = registry_name_next(c, h->hostname))
		if ((state < 0 || (int)c->state == state) &&
		    strcmp(c->machine_id, h->machine_id) == 0 && (best == NULL || c->id > best->id))
			best = c;
	if (best != NULL && best->insert_pending) {
		/* activated a moment ago, not yet committed: decide on what is durable */
		agentsvc_commit(m);
		return activation_find_same(m, h, state);
	}
	return best;
}

static struct computer *
activation_find_failed(struct mgr *m, const struct host_facts *h)
{
	return activation_find_same(m, h, COMPUTER_ACTIVATION_FAILED);
}

/*
 * The activation settings: who may activate, and which listed computer (if
 * any) this activation becomes.  -1 when refused (answered in resp).
 */
static int
activation_check_settings(struct mgr *m, struct conn *conn, struct http_response *resp,
			  const struct activation_req *ar, struct computer **reuse_r)
{
	struct computer *same = activation_find_same(m, &ar->host, -1);
	char why[256];

	*reuse_r = NULL;
	if (m->act.allow == ACT_ALLOW_IPLIST && !act_ip_allowed(&m->act, conn->peer_ip)) {
		snprintf(why, sizeof(why),
			 "agent-initiated activation is not allowed from %s (not in the allow-list)",
			 conn->peer_ip);
		activation_refuse(m, conn, resp, 403, "not_allowed", ar->host.hostname, why);
		return -1;
	}
	if (m->act.allow == ACT_ALLOW_EXISTING && same == NULL) {
		activation_refuse(m, conn, resp, 403, "not_allowed", ar->host.hostname,
				  "agent-initiated activation is allowed only for computers already "
				  "listed on the manager");
		return -1;
	}
	if (same == NULL || same->state == COMPUTER_ACTIVATION_FAILED) {
		*reuse_r = same;
		return 0;
	}
	switch (m->act.duplicate) {
	case ACT_DUP_REFUSE:
		snprintf(why, sizeof(why),
			 "a computer with this identity already exists (%s, ID %lld); deactivate it "
			 "or change the duplicate setting",
			 same->hostname, (long long)same->id);
		activation_refuse(m, conn, resp, 409, "duplicate", ar->host.hostname, why);
		return -1;
	case ACT_DUP_NEW:
		return 0;
	case ACT_DUP_REACTIVATE:
		*reuse_r = same;
		return 0;
	}
	return 0;
}

/*
 * Refuses the activation (and lists the computer as Activation Failed with
 * the reason) when no seat is free or every license expired.  -1 when
 * refused, with the answer in resp.
 */
static int
activation_check_license(struct mgr *m, struct conn *conn, struct http_response *resp,
			 const struct activation_req *ar)
{
	int64_t now = now_ms(), total = lic_seats_total(m, now), when = 0;
	struct computer *c;
	const char *code;
	char why[256], t[40];

	if (lic_all_expired(m, now, &when)) {
		fmt_time_ms(when, t, sizeof(t));
		code = "license_expired";
		snprintf(why, sizeof(why), "the license expired on %s", t);
	} else if (total >= 0 && m->lic.seats_used >= total) {
		code = "no_seat";
		snprintf(why, sizeof(why), "all %lld license seats are in use", (long long)total);
	} else {
		return 0;
	}
	activation_refuse(m, conn, resp, 403, code, ar->host.hostname, why);
	c = activation_find_failed(m, &ar->host);
	if (c == NULL) {
		c = registry_new_computer(&m->reg);
		if (c == NULL)
			return -1;
		make_guid(c->guid);
		c->state = COMPUTER_ACTIVATION_FAILED;
		c->created_ms = c->last_contact_ms = now;
		if (registry_set_hostname(&m->reg, c, ar->host.hostname) < 0 ||
		    computer_set_str(&c->description, ar->host.description) < 0 ||
		    computer_set_str(&c->platform, ar->host.platform) < 0 ||
		    computer_set_str(&c->agent_version, ar->host.agent_version) < 0 ||
		    computer_set_str(&c->machine_id, ar->host.machine_id) < 0 ||
		    computer_set_str(&c->failure, why) < 0 ||
		    store_computer_insert(&m->store, c) < 0 || registry_add(&m->reg, c) < 0) {
			computer_free(c);
			return -1;
		}
		event_record(m, EV_COMPUTER_CREATED, c, "listed after a refused activation from %s",
			     conn->peer_ip);
	}
	c->last_contact_ms = now;
	str_copy(c->last_ip, conn->peer_ip, sizeof(c->last_ip));
	status_activation_failed(m, c, code, why);
	return -1;
}

/*
 * The activation token bucket: [activation] burst at once, rate per second
 * after that.  0 when this activation may go on; else the seconds a client
 * should wait (Retry-After), at least 1.
 */
static int64_t
activation_rate_wait(struct mgr *m)
{
	int64_t now = mono_ms();
	double rate = (double)m->cfg.activation_rate, burst = (double)m->cfg.activation_burst;

	if (m->act_refill_mono == 0) {
		m->act_tokens = burst;
		m->act_refill_mono = now;
	}
	m->act_tokens += (double)(now - m->act_refill_mono) * rate / 1000.0;
	if (m->act_tokens > burst)
		m->act_tokens = burst;
	m->act_refill_mono = now;
	if (m->act_tokens >= 1.0) {
		m->act_tokens -= 1.0;
		return 0;
	}
	{
		int64_t wait = (int64_t)((1.0 - m->act_tokens) / rate + 0.999);
		return wait < 1 ? 1 : wait;
	}
}

/* The answer to an accepted activation, and what is recorded of it. */
static void
activation_done(struct mgr *m, struct http_response *resp, struct computer *comp,
                const char *cert_pem, int64_t now, const char *created_why)
{
	char fpr[PKI_FPR_LEN];
	json_t *policy;

	status_activated_seated(m, comp, now, mono_ms());
	if (created_why != NULL)
		event_record(m, EV_COMPUTER_CREATED, comp, "%s", created_why);
	event_record(m, EV_ACTIVATED, comp, "activated; GUID %s, certificate valid until %lld",
	             comp->guid, (long long)(comp->cert_not_after_ms / 1000));
	m->stats.activations++;
	policy = policy_effective(m, comp);
	if (policy == NULL || policy_config_fpr(m, comp, fpr) < 0) {
		/* activated and durable: the agent retries and is reactivated */
		json_decref(policy);
		http_error(resp, 500, "internal",
		           "activation failed: internal error (out of memory)");
		return;
	}
	reply_json(resp, 200,
	           json_pack("{s:s, s:I, s:s, s:s, s:s, s:o, s:s, s:I}", "guid", comp->guid,
	                     "computer_id", (json_int_t)comp->id, "hostname", comp->hostname,
	                     "certificate", cert_pem, "ca_certificate", m->ca.cert_pem, "config",
	                     policy, "config_fingerprint", fpr, "manager_clock_ms",
	                     (json_int_t)now));
}

static void
activation_store_failed(struct http_response *resp)
{
	http_error(resp, 503, "store_unavailable",
	           "activation failed: the manager cannot write its database; try again");
}

void
agentsvc_commit(struct mgr *m)
{
	struct act_pending *batch[ACT_BATCH_MAX];
	struct http_response resp;
	size_t i, n = m->act_nbatch;
	int ok;

	if (n == 0)
		return;
	/* everything pending, the batch's rows first: one transaction */
	ok = store_flush(&m->store, 0) == 0;
	/*
	 * A copy: answering writes, and a request the client sent behind
	 * (pipelined) may be dispatched from there and start the next batch.
	 */
	memcpy(batch, m->act_batch, n * sizeof(batch[0]));
	m->act_nbatch = 0;
	m->act_commits++;
	for (i = 0; i < n; i++) {
		struct act_pending *p = batch[i];
		struct computer *comp = p->comp;

		http_response_init(&resp);
		/* an earlier flush of this iteration (a heartbeat's, say) may have committed it */
		if (ok || !comp->insert_pending) {
			activation_done(m, &resp, comp, p->cert_pem, p->now_ms, p->created_why);
		} else {
			/* not on disk, so not in memory either: as if never activated */
			store_insert_cancel(&m->store, comp);
			lic_seat_change(m, comp, -1);
			registry_remove(&m->reg, comp);
			computer_free(comp);
			activation_store_failed(&resp);
		}
		server_answer(&p->hold, &resp);
		http_response_clear(&resp);
		free(p->cert_pem);
		free(p);
	}
}

/*
 * Gives a computer its identity: a listed one (reuse: refused before, or
 * the same identity being reactivated; its old certificate is superseded)
 * or a new one, and answers with the GUID, the certificate and the
 * configuration.  The computer is durable before the answer is sent: a
 * reused one is written now (its old certificate revoked in the same
 * go); a new one joins the batch of the group commit (agentsvc_commit),
 * which answers it.  On any failure a reused computer is put back as it
 * was and a new one is gone.
 */
static void
activation_issue(struct mgr *m, struct conn *c, struct http_response *resp,
                 const struct host_facts *h, struct pki_csr *csr, struct computer *reuse,
                 struct policy *pol, const char *created_why)
{
	struct computer *comp;
	struct policy *prev_pol = NULL;
	enum computer_state prev_state = COMPUTER_ACTIVATION_FAILED;
	int prev_held = 0;
	char prev_serial[SERIAL_LEN] = "", prev_fpr[FPR_HEX_LEN + 1] = "";
	int64_t prev_not_after = 0;
	char *cert_pem = NULL;
	struct act_pending *p = NULL;
	int64_t now = now_ms();

	if (reuse != NULL) {
		/* what a failure below puts back */
		prev_state = reuse->state;
		prev_pol = reuse->pol;
		prev_held = lic_holds_seat(reuse);
		str_copy(prev_serial, reuse->cert_serial, sizeof(prev_serial));
		str_copy(prev_fpr, reuse->machine_fpr, sizeof(prev_fpr));
		prev_not_after = reuse->cert_not_after_ms;
	} else if (m->act_nbatch == ACT_BATCH_MAX) {
		agentsvc_commit(m); /* a full batch goes now */
	}
	comp = reuse ? reuse : registry_new_computer(&m->reg);
	if (comp == NULL)
		goto fail;
	if (reuse == NULL)
		make_guid(comp->guid);
	if (registry_set_hostname(&m->reg, comp, h->hostname) < 0 ||
	    computer_set_str(&comp->description, h->description) < 0 ||
	    computer_set_str(&comp->platform, h->platform) < 0 ||
	    computer_set_str(&comp->agent_version, h->agent_version) < 0 ||
	    computer_set_str(&comp->machine_id, h->machine_id) < 0 ||
	    computer_set_str(&comp->interfaces_json, h->interfaces_json) < 0)
		goto fail;
	str_copy(comp->machine_fpr, h->machine_fingerprint, sizeof(comp->machine_fpr));
	comp->agent_port = h->agent_port > 0 ? (int)h->agent_port : 0;
	/* the policy asked for, else the one it had, else Default */
	if (pol != NULL)
		comp->pol = pol;
	else if (comp->pol == NULL)
		comp->pol = policy_by_id(m, POLICY_DEFAULT_ID);
	cert_pem = ca_issue_agent(&m->ca, csr, comp->guid,
				  m->cfg.agent_cert_test_seconds > 0 ? m->cfg.agent_cert_test_seconds
								     : m->cfg.agent_cert_days * 86400,
				  comp->cert_serial, &comp->cert_not_after_ms);
	if (cert_pem == NULL)
		goto fail;
	comp->state = COMPUTER_ACTIVATED;
	if (reuse == NULL)
		comp->created_ms = now;
	comp->activated_ms = comp->last_contact_ms = now;
	str_copy(comp->last_ip, c->peer_ip, sizeof(comp->last_ip));
	if (h->clock_ms)
		comp->clock_offset_ms = comp->last_clock_offset_ms = h->clock_ms - now;
	if (reuse == NULL) {
		p = calloc(1, sizeof(*p));
		if (p == NULL || registry_add(&m->reg, comp) < 0)
			goto fail;
		/*
		 * Listed and holding its seat from now on, so that the next
		 * activation of this batch sees both; durable at the commit,
		 * answered after it.
		 */
		lic_seat_change(m, comp, +1);
		store_insert_later(&m->store, comp);
		p->comp = comp;
		p->cert_pem = cert_pem;
		p->now_ms = now;
		str_copy(p->created_why, created_why, sizeof(p->created_why));
		m->act_batch[m->act_nbatch++] = p;
		resp->hold = &p->hold;
		return;
	}
	/* durable before the agent learns its identity */
	if (store_computer_write(&m->store, comp) < 0 ||
	    (prev_serial[0] && store_cert_revoke(&m->store, prev_serial, comp->guid, prev_not_after,
	                                         "superseded by a reactivation") < 0)) {
		activation_store_failed(resp);
		goto out;
	}
	if (!prev_held && lic_holds_seat(comp))
		lic_seat_change(m, comp, +1);
	activation_done(m, resp, comp, cert_pem, now, NULL);
	comp = NULL;
	goto out;
fail:
	http_error(resp, 500, "internal", "activation failed: internal error (out of memory)");
out:
	if (comp != NULL && comp == reuse) {
		/* not activated after all: the listed computer stays as it was */
		comp->state = prev_state;
		comp->pol = prev_pol;
		str_copy(comp->cert_serial, prev_serial, sizeof(comp->cert_serial));
		str_copy(comp->machine_fpr, prev_fpr, sizeof(comp->machine_fpr));
		comp->cert_not_after_ms = prev_not_after;
	} else {
		computer_free(comp);
	}
	free(p);
	free(cert_pem);
}

/* 1 (answered with 429) when the activation bucket is empty. */
static int
activation_rate_limited(struct mgr *m, struct conn *c, struct http_response *resp)
{
	int64_t wait = activation_rate_wait(m);

	if (wait == 0)
		return 0;
	m->stats.activations_refused++;
	metrics_activation_refused(&m->metrics, "rate_limited");
	http_error(resp, 429, "rate_limited",
		   "activation refused: too many activations at once; retry in %lld s",
		   (long long)wait);
	snprintf(resp->headers, sizeof(resp->headers), "Retry-After: %lld\r\n", (long long)wait);
	if (refusal_should_record(m, c->peer_ip, "rate_limited"))
		event_record_target(m, EV_AIA_FAILED, c->peer_ip,
				    "activations from %s refused (rate_limited): more than %lld per "
				    "second",
				    c->peer_ip, (long long)m->cfg.activation_rate);
	return 1;
}

static void
handle_activate(struct mgr *m, struct conn *c, struct http_request *req,
		struct http_response *resp)
{
	struct activation_req ar;
	struct computer *reuse = NULL;
	struct pki_csr *csr = NULL;
	struct policy *pol = NULL;
	const char *errstr = NULL;
	char err[512], why[128];

	/* before any work: a storm costs a 429, not a CSR check and a signature */
	if (activation_rate_limited(m, c, resp))
		return;
	if (proto_parse_activation(req->body.data ? req->body.data : "", req->body.len, &ar, err,
				   sizeof(err)) < 0) {
		m->stats.activations_refused++;
		metrics_activation_refused(&m->metrics, "bad_request");
		http_error(resp, 400, "bad_request", "%s", err);
		return;
	}
	/* the activation token, or the deployment token of the scripts (deploy.h) */
	if (!secret_check(ar.token, m->token_hash) && !deploy_token_check(m, ar.token)) {
		activation_refuse(m, c, resp, 403, "bad_token", ar.host.hostname,
				  "the activation token is not valid for this manager");
		goto out;
	}
	/* recorded only with a valid token: anonymous clients cannot fill the table */
	event_record_target(m, EV_AIA_REQUESTED, ar.host.hostname, "activation requested from %s%s%s",
			    c->peer_ip, ar.policy[0] ? " with policy " : "", ar.policy);
	/* a misspelt policy must not put a host under the wrong rules */
	if (ar.policy[0] && (pol = policy_find(m, ar.policy)) == NULL) {
		snprintf(err, sizeof(err), "there is no policy \"%s\" on this manager", ar.policy);
		activation_refuse(m, c, resp, 400, "unknown_policy", ar.host.hostname, err);
		goto out;
	}
	if (activation_check_settings(m, c, resp, &ar, &reuse) < 0)
		goto out;
	/* reactivating a computer that holds a seat needs no new one */
	if ((reuse == NULL || !lic_holds_seat(reuse)) && activation_check_license(m, c, resp, &ar) < 0)
		goto out;
	csr = pki_csr_parse(ar.csr, strlen(ar.csr), &errstr);
	if (csr == NULL) {
		activation_refuse(m, c, resp, 400, "bad_csr", ar.host.hostname, errstr);
		goto out;
	}
	/* a host refused before (Activation Failed) becomes the activated computer */
	if (reuse == NULL)
		reuse = activation_find_failed(m, &ar.host);
	snprintf(why, sizeof(why), "created by activation from %s", c->peer_ip);
	activation_issue(m, c, resp, &ar.host, csr, reuse, pol, why);
out:
	pki_csr_free(csr);
	proto_host_facts_clear(&ar.host);
	OPENSSL_cleanse(ar.token, sizeof(ar.token));
}

static void
heartbeat_refuse(struct mgr *m, struct conn *c, struct http_response *resp, int status,
		 const char *code, struct computer *comp, const char *msg)
{
	m->stats.heartbeats_rejected++;
	http_error(resp, status, code, "heartbeat refused: %s", msg);
	/* a deactivated computer's agent is expected to be refused: no alert for it */
	if (comp != NULL && comp->state == COMPUTER_ACTIVATED &&
	    strcmp(code, "computer_deactivated") != 0)
		alert_raise(m, &alert_heartbeat_rejected, comp, msg);
	if (!refusal_should_record(m, c->peer_ip, code))
		return;
	if (comp != NULL)
		event_record(m, EV_HEARTBEAT_REJECTED, comp, "heartbeat from %s refused (%s): %s",
			     c->peer_ip, code, msg);
	else
		event_record_target(m, EV_UNRECOGNIZED_CLIENT, c->peer_ip,
				    "contact from %s refused (%s): %s", c->peer_ip, code, msg);
}

/*
 * A valid certificate of this manager that names no listed computer: the
 * computer was deleted (or lost with a database restore).  A heartbeat is
 * told to reactivate when "reactivate unknown agents" is on and the
 * certificate was never revoked; anything else is refused with the reason.
 */
static void
unknown_refuse(struct mgr *m, struct conn *c, struct http_response *resp, int is_heartbeat)
{
	int revoked = store_cert_revoked(&m->store, c->peer_serial);

	if (revoked < 0) {
		m->stats.heartbeats_rejected++;
		http_error(resp, 503, "store_unavailable",
			   "heartbeat refused: the manager cannot read its database; try again");
	} else if (revoked) {
		heartbeat_refuse(m, c, resp, 403, "certificate_revoked", NULL,
				 "the certificate was revoked (its computer was deactivated or "
				 "reactivated, then deleted); run vigil-agentctl reset and activate "
				 "the agent again");
	} else if (is_heartbeat && m->act.reactivate_unknown) {
		m->stats.heartbeats_rejected++;
		http_error(resp, 409, "reactivate_required",
			   "heartbeat refused: computer %s is no longer listed on the manager; "
			   "reactivate it as a new computer (POST /agent/v1/reactivate)",
			   c->peer_cn);
	} else {
		heartbeat_refuse(m, c, resp, 403, "unknown_computer", NULL,
				 "the certificate names a computer this manager does not know "
				 "(deleted, or lost with a database restore) and reactivating unknown "
				 "agents is off; run vigil-agentctl reset and activate the agent again");
	}
}

/*
 * The computer speaking on c, or NULL after answering with a refusal.
 * With unknown_r, a valid certificate of ours naming no listed computer
 * gives NULL, *unknown_r = 1 and no answer yet.
 */
static struct computer *
authenticate_agent(struct mgr *m, struct conn *c, struct http_response *resp, int *unknown_r,
		   int is_heartbeat)
{
	struct computer *comp;
	char msg[256];

	switch (c->peer) {
	case PEER_NONE:
		m->stats.heartbeats_rejected++;
		http_error(resp, 401, "client_certificate_required",
			   "this call needs the client certificate issued at activation; activate the agent first");
		return NULL;
	case PEER_INVALID:
		/*
		 * Blame a computer (770) only when the certificate really is ours
		 * (an expired one, say); anything else is an unrecognized client
		 * (771), whatever name it claims.
		 */
		comp = c->peer_ours ? registry_by_guid(&m->reg, c->peer_cn) : NULL;
		snprintf(msg, sizeof(msg), "client certificate not accepted: %s", c->peer_error);
		heartbeat_refuse(m, c, resp, 403,
				 comp ? "certificate_invalid" : "certificate_not_from_this_manager",
				 comp, msg);
		return NULL;
	case PEER_VALID:
		break;
	}
	comp = registry_by_guid(&m->reg, c->peer_cn);
	if (comp == NULL) {
		if (unknown_r != NULL)
			*unknown_r = 1;
		else
			unknown_refuse(m, c, resp, is_heartbeat);
		return NULL;
	}
	if (comp->state == COMPUTER_DEACTIVATED) {
		heartbeat_refuse(m, c, resp, 403, "computer_deactivated", comp,
				 "this computer was deactivated; activate the agent again");
		return NULL;
	}
	if (strcmp(comp->cert_serial, c->peer_serial) != 0) {
		heartbeat_refuse(m, c, resp, 403, "certificate_superseded", comp,
				 "the certificate was replaced by a later activation");
		return NULL;
	}
	/* a kept-alive connection or a resumed session outlives the handshake check */
	if (c->peer_not_after_ms < now_ms()) {
		heartbeat_refuse(m, c, resp, 403, "certificate_invalid", comp,
				 "client certificate not accepted: certificate has expired");
		return NULL;
	}
	return comp;
}

/*
 * The machine fingerprint in a heartbeat against the one the computer was
 * activated with: another one means the identity was copied to another
 * machine (a clone).  The original keeps its identity; the clone is told to
 * reactivate as a new computer, or refused.  -1 when answered.
 */
static int
heartbeat_check_clone(struct mgr *m, struct conn *c, struct http_response *resp,
		      struct computer *comp, const char *fpr)
{
	if (fpr[0] == '\0' || strcmp(comp->machine_fpr, fpr) == 0)
		return 0;
	if (comp->machine_fpr[0] == '\0') {
		/* activated before fingerprints: the first one seen is the original */
		str_copy(comp->machine_fpr, fpr, sizeof(comp->machine_fpr));
		store_mark_row(&m->store, comp);
		return 0;
	}
	status_clone_seen(m, comp, c->peer_ip, fpr);
	if (m->act.reactivate_cloned) {
		m->stats.heartbeats_rejected++;
		http_error(resp, 409, "reactivate_required",
			   "heartbeat refused: this agent is a clone of %s (ID %lld) on another "
			   "machine; reactivate it as a new computer (POST /agent/v1/reactivate)",
			   comp->hostname, (long long)comp->id);
	} else {
		char msg[512];
		snprintf(msg, sizeof(msg),
			 "this agent uses the identity of %s (ID %lld) from another machine (a cloned "
			 "VM or a copied state directory) and reactivating cloned agents is off; run "
			 "vigil-agentctl reset on this machine and activate it again",
			 comp->hostname, (long long)comp->id);
		heartbeat_refuse(m, c, resp, 403, "clone_refused", NULL, msg);
	}
	return -1;
}

/*
 * POST /agent/v1/reactivate: a clone, or the agent of a deleted computer,
 * becomes a new computer with its own GUID and certificate, without a
 * token: its certificate from this manager vouches for it.  Only when the
 * activation settings allow it; the license and the IP allow-list apply.
 */
static void
handle_reactivate(struct mgr *m, struct conn *c, struct http_request *req,
		  struct http_response *resp)
{
	struct activation_req ar;
	struct computer *orig;
	struct pki_csr *csr = NULL;
	const char *errstr = NULL;
	char err[512], why[512];
	int unknown = 0;

	orig = authenticate_agent(m, c, resp, &unknown, 0);
	if (orig == NULL && !unknown)
		return;
	if (activation_rate_limited(m, c, resp))
		return;
	if (proto_parse_reactivation(req->body.data ? req->body.data : "", req->body.len, &ar, err,
				     sizeof(err)) < 0) {
		m->stats.activations_refused++;
		http_error(resp, 400, "bad_request", "%s", err);
		return;
	}
	if (unknown) {
		int revoked = store_cert_revoked(&m->store, c->peer_serial);
		if (revoked != 0 || !m->act.reactivate_unknown) {
			unknown_refuse(m, c, resp, 0);
			goto out;
		}
		snprintf(why, sizeof(why),
			 "created by the reactivation of an unknown agent from %s (its computer, "
			 "GUID %s, was no longer listed)",
			 c->peer_ip, c->peer_cn);
	} else {
		if (ar.host.machine_fingerprint[0] == '\0' || orig->machine_fpr[0] == '\0' ||
		    strcmp(ar.host.machine_fingerprint, orig->machine_fpr) == 0) {
			http_error(resp, 409, "not_a_clone",
				   "reactivation refused: this agent is %s (ID %lld) itself, not a "
				   "clone; nothing to reactivate",
				   orig->hostname, (long long)orig->id);
			goto out;
		}
		if (!m->act.reactivate_cloned) {
			heartbeat_check_clone(m, c, resp, orig, ar.host.machine_fingerprint);
			goto out;
		}
		snprintf(why, sizeof(why),
			 "created by the reactivation of a clone of %s (ID %lld, GUID %s) from %s",
			 orig->hostname, (long long)orig->id, orig->guid, c->peer_ip);
	}
	if (m->act.allow == ACT_ALLOW_IPLIST && !act_ip_allowed(&m->act, c->peer_ip)) {
		snprintf(err, sizeof(err),
			 "agent-initiated activation is not allowed from %s (not in the allow-list)",
			 c->peer_ip);
		activation_refuse(m, c, resp, 403, "not_allowed", ar.host.hostname, err);
		goto out;
	}
	{
		int64_t now = now_ms(), total = lic_seats_total(m, now), when = 0;
		if (lic_all_expired(m, now, &when)) {
			char t[40];
			fmt_time_ms(when, t, sizeof(t));
			snprintf(err, sizeof(err), "the license expired on %s", t);
			activation_refuse(m, c, resp, 403, "license_expired", ar.host.hostname, err);
			goto out;
		}
		if (total >= 0 && m->lic.seats_used >= total) {
			snprintf(err, sizeof(err), "all %lld license seats are in use", (long long)total);
			activation_refuse(m, c, resp, 403, "no_seat", ar.host.hostname, err);
			goto out;
		}
	}
	csr = pki_csr_parse(ar.csr, strlen(ar.csr), &errstr);
	if (csr == NULL) {
		activation_refuse(m, c, resp, 400, "bad_csr", ar.host.hostname, errstr);
		goto out;
	}
	activation_issue(m, c, resp, &ar.host, csr, NULL, orig ? orig->pol : NULL, why);
out:
	pki_csr_free(csr);
	proto_host_facts_clear(&ar.host);
}

/*
 * The events of the agent's queue: each (computer, sequence) is taken once;
 * a resend of one already accepted is skipped.  The answer's ack_seq is the
 * highest sequence durably committed: a heartbeat that brought something
 * new is answered after a flush (store.md says why), one that brought
 * nothing costs no transaction.
 */
static int64_t
heartbeat_events(struct mgr *m, struct computer *comp, const struct heartbeat_req *hb, int64_t now)
{
	int64_t i, accepted = 0;
	int changed = 0;

	for (i = 0; i < hb->events_count; i++) {
		const struct hb_event *e = &hb->events[i];

		if (e->seq <= comp->agent_seq)
			continue; /* a resend: stored already, or waiting for the next flush */
		if (store_agent_event_add(&m->store, now, e->id, comp->id, comp->hostname,
		                          e->description, e->seq, e->time_ms) < 0)
			break; /* not taken: the agent sends it again */
		comp->agent_seq = e->seq;
		accepted++;
	}
	if (accepted > 0) {
		log_debug("heartbeat: %s: %lld events stored (up to sequence %lld)", comp->hostname,
		          (long long)accepted, (long long)comp->agent_seq);
		changed = 1;
	}
	if (hb->events_dropped > comp->agent_dropped) {
		event_record(m, EV_EVENTS_TRUNCATED, comp,
		             "the agent's event queue was full: %lld events dropped (%lld in all)",
		             (long long)(hb->events_dropped - comp->agent_dropped),
		             (long long)hb->events_dropped);
		comp->agent_dropped = hb->events_dropped;
		changed = 1;
	}
	if (changed)
		store_mark_row(&m->store, comp); /* committed with the events, in one transaction */
	if (comp->agent_seq > comp->agent_seq_stored || changed) {
		if (store_flush(&m->store, 0) == 0)
			comp->agent_seq_stored = comp->agent_seq;
		/* else: ack what is committed; the housekeeping flush retries the rest */
	}
	return comp->agent_seq_stored;
}

static void
handle_heartbeat(struct mgr *m, struct conn *c, struct http_request *req,
		 struct http_response *resp)
{
	struct heartbeat_req hb;
	struct computer *comp;
	char err[512], fpr[PKI_FPR_LEN], *cfg_owned = NULL;
	struct hb_answer ans;
	int64_t ack;
	/* read together: the deadline (monotonic) and the shown time (wall) agree */
	int64_t now = now_ms(), now_mono = mono_ms();

	comp = authenticate_agent(m, c, resp, NULL, 1);
	if (comp == NULL)
		return;
	if (proto_parse_heartbeat(req->body.data ? req->body.data : "", req->body.len, &hb, err,
				  sizeof(err)) < 0) {
		m->stats.heartbeats_rejected++;
		http_error(resp, 400, "bad_request", "%s", err);
		return;
	}
	if (heartbeat_check_clone(m, c, resp, comp, hb.host.machine_fingerprint) < 0) {
		proto_heartbeat_clear(&hb);
		return;
	}
	status_heartbeat(m, comp, &hb, c->peer_ip, now, now_mono, 1);
	wdreport_heartbeat(m, comp, req->body.data, req->body.len);
	m->stats.heartbeats++;
	ack = heartbeat_events(m, comp, &hb, now);
	/*
	 * The fingerprint and the configuration's text are cached per policy;
	 * the answer is written as text, without a JSON tree (proto.h).
	 */
	memset(&ans, 0, sizeof(ans));
	if (policy_config_fpr(m, comp, fpr) < 0 ||
	    (strcmp(fpr, hb.config_fingerprint) != 0 &&
	     (ans.config_json = policy_config_text(m, comp, &cfg_owned)) == NULL)) {
		proto_heartbeat_clear(&hb);
		http_error(resp, 500, "internal", "cannot build the policy");
		return;
	}
	ans.status = status_text(comp);
	ans.manager_clock_ms = now;
	ans.heartbeat_interval = policy_value(m, comp, PS_HEARTBEAT_INTERVAL);
	ans.config_fingerprint = fpr;
	ans.ack_seq = ack;
	contact_heartbeat(m, comp, ans.config_json != NULL);
	/* diagnose (only: not on every heartbeat): what the manager last saw of the port, and a call */
	if (hb.call_me) {
		ans.port_check = 1;
		ans.port = comp->agent_port;
		ans.last_ok_ms = comp->last_reach_ms;
		ans.port_error = comp->reach_error ? comp->reach_error : "";
		ans.direction = dir_name(policy_value(m, comp, PS_DIRECTION));
	}
	resp->status = 200;
	resp->content_type = "application/json";
	buf_reset(&resp->body);
	if (proto_heartbeat_answer(&resp->body, &ans) < 0)
		http_error(resp, 500, "internal", "cannot encode the response");
	if (hb.call_me)
		contact_probe(m, comp);
	free(cfg_owned);
	proto_heartbeat_clear(&hb);
}

/*
 * POST /agent/v1/goodbye {"reason": "..."}: the agent is stopping (SIGTERM,
 * a host shutdown).  If it then goes offline, the cause is known.
 */
static void
handle_goodbye(struct mgr *m, struct conn *c, struct http_request *req,
	       struct http_response *resp)
{
	struct computer *comp = authenticate_agent(m, c, resp, NULL, 0);
	char err[256], why[129] = "";
	json_t *o, *r;

	if (comp == NULL)
		return;
	o = jsonbody_object(req->body.data ? req->body.data : "{}",
			    req->body.len ? req->body.len : 2, err, sizeof(err));
	if (o == NULL) {
		http_error(resp, 400, "bad_request", "%s", err);
		return;
	}
	r = json_object_get(o, "reason");
	if (json_is_string(r) && json_string_length(r) < sizeof(why) &&
	    proto_text_ok(json_string_value(r)))
		str_copy(why, json_string_value(r), sizeof(why));
	json_decref(o);
	status_goodbye(m, comp, why[0] ? why : "no reason given");
	reply_json(resp, 200, json_pack("{s:b}", "ok", 1));
}

/* vigil-agentctl reset tells the manager before it forgets its identity. */
static void
handle_deactivate(struct mgr *m, struct conn *c, struct http_request *req,
		  struct http_response *resp)
{
	struct computer *comp = authenticate_agent(m, c, resp, NULL, 0);
	struct heartbeat_req hb;
	char err[512];

	if (comp == NULL)
		return;
	/* the body (optional) carries the machine fingerprint, as a heartbeat does */
	if (req->body.len > 0 && proto_parse_heartbeat(req->body.data, req->body.len, &hb, err,
						       sizeof(err)) < 0) {
		http_error(resp, 400, "bad_request", "%s", err);
		return;
	}
	if (req->body.len > 0) {
		int clone = hb.host.machine_fingerprint[0] && comp->machine_fpr[0] &&
			    strcmp(hb.host.machine_fingerprint, comp->machine_fpr) != 0;
		proto_heartbeat_clear(&hb);
		if (clone) {
			/* a clone's reset must not deactivate the original */
			http_error(resp, 409, "clone_refused",
				   "not deactivated: this agent is a clone of %s (ID %lld); the "
				   "original keeps its identity",
				   comp->hostname, (long long)comp->id);
			return;
		}
	}
	/* the agent asked: no need to call it back */
	status_deactivate(m, comp, "by a reset on the host, from", c->peer_ip, 0);
	reply_json(resp, 200, json_pack("{s:s, s:s}", "status", status_text(comp), "guid", comp->guid));
}

void
agentsvc_handle(struct mgr *m, struct conn *c, struct http_request *req,
		struct http_response *resp)
{
	char path[256];
	const char *method = httpreq_method_name(req);

	if (httpreq_path(req, path, sizeof(path)) < 0) {
		http_error(resp, 404, "not_found", "no such endpoint");
		return;
	}
	if (strcmp(path, "/agent/v1/ca") == 0) {
		if (strcmp(method, "GET") != 0) {
			http_error(resp, 405, "method_not_allowed", "use GET");
			return;
		}
		resp->content_type = "application/x-pem-file";
		buf_puts(&resp->body, m->ca.cert_pem);
		return;
	}
	if (strcmp(path, "/agent/v1/activate") == 0 || strcmp(path, "/agent/v1/heartbeat") == 0 ||
	    strcmp(path, "/agent/v1/deactivate") == 0 || strcmp(path, "/agent/v1/reactivate") == 0 ||
	    strcmp(path, "/agent/v1/goodbye") == 0) {
		if (strcmp(method, "POST") != 0) {
			http_error(resp, 405, "method_not_allowed", "use POST");
			return;
		}
		if (strcmp(path, "/agent/v1/activate") == 0)
			handle_activate(m, c, req, resp);
		else if (strcmp(path, "/agent/v1/heartbeat") == 0)
			handle_heartbeat(m, c, req, resp);
		else if (strcmp(path, "/agent/v1/reactivate") == 0)
			handle_reactivate(m, c, req, resp);
		else if (strcmp(path, "/agent/v1/goodbye") == 0)
			handle_goodbye(m, c, req, resp);
		else
			handle_deactivate(m, c, req, resp);
		return;
	}
	http_error(resp, 404, "not_found", "no such endpoint: %s %s", method, path);
}
