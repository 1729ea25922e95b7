/*
 * ca: see ca.h.  Keys are written 0600 before anything else is created, so
 * a half-created state directory is completed, never overwritten.
 */
#include "ca.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/x509v3.h>

#include "buf.h"

#include "log.h"
#include "util.h"

#define CA_VALID_S (20LL * 365 * 86400)
#define SRV_VALID_S (5LL * 365 * 86400)

static int
ca_write_key(const char *dir, const char *name, EVP_PKEY *key)
{
	char path[PATH_MAX], *pem = pki_key_pem(key);
	int ret;

	if (pem == NULL || path_join(path, sizeof(path), dir, name) < 0) {
		free(pem);
		return -1;
	}
	ret = file_write_atomic(path, pem, strlen(pem), 0600);
	OPENSSL_cleanse(pem, strlen(pem));
	free(pem);
	return ret;
}

static int
ca_write_cert(const char *dir, const char *name, X509 *cert)
{
	char path[PATH_MAX], *pem = pki_cert_pem(cert);
	int ret;

	if (pem == NULL || path_join(path, sizeof(path), dir, name) < 0) {
		free(pem);
		return -1;
	}
	ret = file_write_atomic(path, pem, strlen(pem), 0644);
	free(pem);
	return ret;
}

/* "a,b,1.2.3.4" -> "DNS:a,DNS:b,IP:1.2.3.4" plus the host name. */
static void
ca_sans(const char *names, char *out, size_t outsize)
{
	char copy[512], host[256];
	char *save = NULL, *tok;
	struct buf b;

	buf_init(&b, outsize - 1);
	str_copy(copy, names, sizeof(copy));
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int is_ip = strspn(tok, "0123456789.") == strlen(tok) || strchr(tok, ':') != NULL;
		buf_printf(&b, "%s%s:%s", b.len ? "," : "", is_ip ? "IP" : "DNS", tok);
	}
	if (gethostname(host, sizeof(host)) == 0 && host[0] && strchr(host, ',') == NULL)
		buf_printf(&b, "%sDNS:%s", b.len ? "," : "", host);
	str_copy(out, b.data ? buf_cstr(&b) : "", outsize);
	buf_clear(&b);
}

/*
 * TLS 1.3 session tickets only where they can be used: a client that
 * resumes (it offers a PSK) or presents a certificate (ca_verify_accept).
 * The others are activations and CA fetches by agents that do not have
 * their identity yet: their next connection presents a certificate the
 * session would not carry.  Two tickets cost ~7 % of an activation.
 */
static int
ca_client_hello(SSL *ssl, int *alert, void *arg)
{
	const unsigned char *ext;
	size_t len;

	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_psk, &ext, &len) != 1)
		SSL_set_num_tickets(ssl, 0);
	return SSL_CLIENT_HELLO_SUCCESS;
}

static int
ca_verify_accept(int ok, X509_STORE_CTX *ctx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx());

	/* a client certificate: tickets as usual (ca_client_hello) */
	if (ssl != NULL)
		SSL_set_num_tickets(ssl, SSL_CTX_get_num_tickets(SSL_get_SSL_CTX(ssl)));
	/*
	 * Accept the handshake whatever the client certificate: server.c reads
	 * the verification result afterwards and refuses with an HTTP status, a
	 * reason and an event (771), instead of a bare TLS alert nobody sees.
	 */
	return 1;
}

static SSL_CTX *
ca_ssl_ctx(struct ca *ca, int client_certs)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	static const unsigned char sid[] = "vigil-agent-channel";

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	/*
	 * one read() for a record, not one for its header and one for the rest;
	 * server.c asks SSL_has_pending() for what the read-ahead buffered
	 */
	SSL_CTX_set_read_ahead(ctx, 1);
	if (SSL_CTX_use_certificate(ctx, ca->srv_cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, ca->srv_key) != 1 ||
	    SSL_CTX_add_extra_chain_cert(ctx, X509_dup(ca->cert)) != 1)
		goto fail;
	SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
	if (client_certs) {
		X509_STORE *store = SSL_CTX_get_cert_store(ctx);
		STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
		if (X509_STORE_add_cert(store, ca->cert) != 1 || names == NULL)
			goto fail;
		sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(ca->cert)));
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, ca_verify_accept);
		SSL_CTX_set_client_hello_cb(ctx, ca_client_hello, NULL);
		/* agent certificates must carry clientAuth */
		SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/*
 * The manager calling agents: its client certificate, the CA as the only
 * trust anchor.  Agent certificates are made for TLS clients (they call in),
 * so the purpose check is off here; agentlink.c checks that the CN is the
 * GUID of the computer called.
 */
static SSL_CTX *
ca_client_ctx(struct ca *ca)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate(ctx, ca->cli_cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, ca->srv_key) != 1 ||
	    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca->cert) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
	return ctx;
}

int
ca_open(struct ca *ca, const char *dir, const char *tls_names, int *created_r,
	const char **errstr_r)
{
	char kpath[PATH_MAX], cpath[PATH_MAX], skpath[PATH_MAX], scpath[PATH_MAX], sans[1024];

	memset(ca, 0, sizeof(*ca));
	*created_r = 0;
	if (path_join(kpath, sizeof(kpath), dir, "ca.key") < 0 ||
	    path_join(cpath, sizeof(cpath), dir, "ca.crt") < 0 ||
	    path_join(skpath, sizeof(skpath), dir, "manager.key") < 0 ||
	    path_join(scpath, sizeof(scpath), dir, "manager.crt") < 0) {
		*errstr_r = "state directory path too long";
		return -1;
	}
	if (access(kpath, F_OK) != 0) {
		ca->key = pki_key_new();
		if (ca->key == NULL || ca_write_key(dir, "ca.key", ca->key) < 0) {
			*errstr_r = "cannot create the CA key (ca.key)";
			return -1;
		}
		*created_r = 1;
	} else if ((ca->key = pki_key_load(kpath)) == NULL) {
		*errstr_r = "cannot read the CA key (ca.key)";
		return -1;
	}
	if (access(cpath, F_OK) != 0) {
		ca->cert = pki_cert_issue(NULL, ca->key, ca->key, "Vigil Manager CA", CA_VALID_S,
					  PKI_CA, NULL, NULL);
		if (ca->cert == NULL || ca_write_cert(dir, "ca.crt", ca->cert) < 0) {
			*errstr_r = "cannot create the CA certificate (ca.crt)";
			return -1;
		}
		*created_r = 1;
	} else if ((ca->cert = pki_cert_load(cpath)) == NULL) {
		*errstr_r = "cannot read the CA certificate (ca.crt)";
		return -1;
	}
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		*errstr_r = "ca.key does not belong to ca.crt";
		return -1;
	}
	if (access(skpath, F_OK) != 0) {
		ca->srv_key = pki_key_new();
		if (ca->srv_key == NULL || ca_write_key(dir, "manager.key", ca->srv_key) < 0) {
			*errstr_r = "cannot create the manager key (manager.key)";
			return -1;
		}
	} else if ((ca->srv_key = pki_key_load(skpath)) == NULL) {
		*errstr_r = "cannot read the manager key (manager.key)";
		return -1;
	}
	if (access(scpath, F_OK) != 0) {
		ca_sans(tls_names, sans, sizeof(sans));
		ca->srv_cert = pki_cert_issue(ca->cert, ca->key, ca->srv_key, "vigil-manager",
					      SRV_VALID_S, PKI_SERVER, sans, NULL);
		if (ca->srv_cert == NULL || ca_write_cert(dir, "manager.crt", ca->srv_cert) < 0) {
			*errstr_r = "cannot create the manager certificate (manager.crt)";
			return -1;
		}
	} else if ((ca->srv_cert = pki_cert_load(scpath)) == NULL) {
		*errstr_r = "cannot read the manager certificate (manager.crt)";
		return -1;
	}
	ca->cert_pem = pki_cert_pem(ca->cert);
	if (ca->cert_pem == NULL || pki_cert_fingerprint(ca->cert, ca->fingerprint) < 0) {
		*errstr_r = "cannot encode the CA certificate";
		return -1;
	}
	ca->issuer = pki_issuer_new(ca->cert, ca->key);
	if (ca->issuer == NULL) {
		*errstr_r = "cannot set up issuing agent certificates";
		return -1;
	}
	ca->agent_ctx = ca_ssl_ctx(ca, 1);
	ca->api_ctx = ca_ssl_ctx(ca, 0);
	if (ca->agent_ctx == NULL || ca->api_ctx == NULL ||
	    tickets_init(&ca->agent_tk, ca->key, "agent") < 0 ||
	    tickets_init(&ca->api_tk, ca->key, "api") < 0 ||
	    tickets_attach(&ca->agent_tk, ca->agent_ctx) < 0 ||
	    tickets_attach(&ca->api_tk, ca->api_ctx) < 0) {
		*errstr_r = "cannot set up TLS session tickets";
		return -1;
	}
	ca->cli_cert = pki_cert_issue(ca->cert, ca->key, ca->srv_key, "vigil-manager", SRV_VALID_S,
				      PKI_CLIENT, "URI:urn:vigil:manager", NULL);
	ca->out_ctx = ca->cli_cert ? ca_client_ctx(ca) : NULL;
	if (ca->agent_ctx == NULL || ca->api_ctx == NULL || ca->out_ctx == NULL) {
		*errstr_r = "cannot set up TLS with the manager certificate";
		return -1;
	}
	return 0;
}

void
ca_close(struct ca *ca)
{
	SSL_CTX_free(ca->agent_ctx);
	SSL_CTX_free(ca->api_ctx);
	SSL_CTX_free(ca->out_ctx);
	tickets_clear(&ca->agent_tk);
	tickets_clear(&ca->api_tk);
	X509_free(ca->cli_cert);
	pki_issuer_free(ca->issuer);
	EVP_PKEY_free(ca->key);
	EVP_PKEY_free(ca->srv_key);
	X509_free(ca->cert);
	X509_free(ca->srv_cert);
	free(ca->cert_pem);
	memset(ca, 0, sizeof(*ca));
}

int
ca_derive(EVP_PKEY *ca_key, const char *label, unsigned char out[32])
{
	unsigned char *der = NULL, key[32];
	unsigned int klen = 0, mlen = 0;
	int n, ret = -1;

	n = i2d_PrivateKey(ca_key, &der);
	if (n <= 0)
		return -1;
	if (EVP_Digest(der, (size_t)n, key, &klen, EVP_sha256(), NULL) == 1 &&
	    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)label, strlen(label), out,
		 &mlen) != NULL &&
	    mlen == 32)
		ret = 0;
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_clear_free(der, (size_t)n);
	return ret;
}

char *
ca_issue_agent(struct ca *ca, const struct pki_csr *csr, const char *guid, int64_t valid_s,
               char serial_r[41], int64_t *not_after_ms_r)
{
	char san[96];
	X509 *cert;
	char *pem;

	snprintf(san, sizeof(san), "urn:vigil:computer:%s", guid);
	cert = pki_issue_client(ca->issuer, csr, guid, valid_s, san, serial_r);
	if (cert == NULL)
		return NULL;
	*not_after_ms_r = pki_cert_not_after(cert) * 1000;
	pem = pki_cert_pem(cert);
	X509_free(cert);
	return pem;
}
