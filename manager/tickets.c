/*
 * tickets: see tickets.h.
 */
#include "tickets.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "ca.h"

static int
tickets_derive(const struct ticket_keys *tk, const char *what, int64_t period,
               unsigned char out[32])
{
	char msg[96];
	unsigned int len = 0;

	snprintf(msg, sizeof(msg), "vigil session ticket %s %s %lld", tk->label, what,
	         (long long)period);
	return HMAC(EVP_sha256(), tk->secret, sizeof(tk->secret), (const unsigned char *)msg,
	            strlen(msg), out, &len) != NULL &&
	               len == 32
	           ? 0
	           : -1;
}

static int
tickets_fill(struct ticket_keys *tk, struct ticket_slot *s, int64_t period)
{
	unsigned char name[32];

	if (tickets_derive(tk, "name", period, name) < 0 ||
	    tickets_derive(tk, "aes", period, s->aes) < 0 ||
	    tickets_derive(tk, "mac", period, s->mac) < 0) {
		s->period = -1;
		return -1;
	}
	memcpy(s->name, name, sizeof(s->name));
	s->period = period;
	return 0;
}

/* The three slots around now; recomputed only when the period changes. */
static int
tickets_refresh(struct ticket_keys *tk, int64_t now_s)
{
	int64_t cur = now_s / TICKET_PERIOD_S;
	int i;

	if (tk->slot[1].period == cur)
		return 0;
	for (i = 0; i < 3; i++) {
		int64_t p = cur - 1 + i;
		int j;

		/* keep what is already derived */
		for (j = 0; j < 3; j++)
			if (tk->slot[j].period == p && j != i) {
				struct ticket_slot t = tk->slot[i];
				tk->slot[i] = tk->slot[j];
				tk->slot[j] = t;
				break;
			}
		if (tk->slot[i].period != p && tickets_fill(tk, &tk->slot[i], p) < 0)
			return -1;
	}
	return 0;
}

int
tickets_slot_for(struct ticket_keys *tk, int64_t wall_s, struct ticket_slot *out)
{
	if (tickets_refresh(tk, wall_s) < 0)
		return -1;
	*out = tk->slot[1];
	return 0;
}

static int
tickets_mac_key(EVP_MAC_CTX *hctx, unsigned char *key)
{
	OSSL_PARAM params[3];

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key, 32);
	params[2] = OSSL_PARAM_construct_end();
	return EVP_MAC_CTX_set_params(hctx, params);
}

/*
 * OpenSSL's ticket callback.  Encrypting: 1 (a ticket) or -1.  Decrypting:
 * 2 (good, and issue a new ticket under the current key), 0 (not ours: a
 * full handshake) or -1.
 */
static int
tickets_cb(SSL *ssl, unsigned char key_name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
           EVP_MAC_CTX *hctx, int enc)
{
	struct ticket_keys *tk = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	int i;

	if (tk == NULL || tickets_refresh(tk, (int64_t)time(NULL)) < 0)
		return -1;
	if (enc) {
		struct ticket_slot *s = &tk->slot[1];

		if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(tk->cipher)) != 1 ||
		    EVP_EncryptInit_ex2(cctx, tk->cipher, s->aes, iv, NULL) != 1 ||
		    tickets_mac_key(hctx, s->mac) != 1)
			return -1;
		memcpy(key_name, s->name, sizeof(s->name));
		tk->issued++;
		return 1;
	}
	for (i = 0; i < 3; i++) {
		struct ticket_slot *s = &tk->slot[i];

		if (s->period < 0 || CRYPTO_memcmp(key_name, s->name, sizeof(s->name)) != 0)
			continue;
		if (tickets_mac_key(hctx, s->mac) != 1 ||
		    EVP_DecryptInit_ex2(cctx, tk->cipher, s->aes, iv, NULL) != 1)
			return -1;
		/*
		 * Always 2: OpenSSL sends a TLS 1.3 connection that resumed on
		 * a "1" no new ticket, and the agent would have to use its old
		 * one again next time.
		 */
		if (i == 1)
			tk->resumed++;
		else
			tk->renewed++;
		return 2;
	}
	tk->unknown++;
	return 0;
}

int
tickets_init(struct ticket_keys *tk, EVP_PKEY *ca_key, const char *label)
{
	int i;

	memset(tk, 0, sizeof(*tk));
	for (i = 0; i < 3; i++)
		tk->slot[i].period = -1;
	snprintf(tk->label, sizeof(tk->label), "%s", label);
	if (ca_derive(ca_key, "vigil session ticket secret v1", tk->secret) < 0)
		return -1;
	tk->cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	if (tk->cipher == NULL || tickets_refresh(tk, (int64_t)time(NULL)) < 0) {
		tickets_clear(tk);
		return -1;
	}
	return 0;
}

void
tickets_clear(struct ticket_keys *tk)
{
	EVP_CIPHER_free(tk->cipher);
	OPENSSL_cleanse(tk, sizeof(*tk));
	tk->cipher = NULL;
}

int
tickets_attach(struct ticket_keys *tk, SSL_CTX *ctx)
{
	SSL_CTX_set_app_data(ctx, tk);
	SSL_CTX_set_timeout(ctx, TICKET_LIFETIME_S);
	/* one ticket per handshake: an agent resumes with its latest only */
	SSL_CTX_set_num_tickets(ctx, 1);
	return SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tickets_cb) == 1 ? 0 : -1;
}
