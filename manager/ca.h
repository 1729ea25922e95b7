/*
 * ca: the manager's certificate authority.  Owns ca.key/ca.crt and the
 * manager's own TLS key and certificate in the state directory, creates
 * them on first start, issues agent client certificates from CSRs, and
 * builds the TLS contexts of both listeners.
 */
#ifndef VIGIL_CA_H
#define VIGIL_CA_H

#include <stdint.h>

#include <openssl/ssl.h>

#include "pki.h"
#include "tickets.h"

struct ca {
	EVP_PKEY *key;
	X509 *cert;
	char *cert_pem;
	char fingerprint[PKI_FPR_LEN];
	EVP_PKEY *srv_key;
	X509 *srv_cert;
	SSL_CTX *agent_ctx; /* client certificates requested and verified */
	SSL_CTX *api_ctx;
	/*
	 * The manager as a TLS client of its agents' ports: a clientAuth
	 * certificate, CN "vigil-manager", issued in memory at every start
	 * (agents check the CA and the name, not this certificate itself).
	 */
	X509 *cli_cert;
	SSL_CTX *out_ctx;
	/* session tickets that a restart keeps valid (tickets.h) */
	struct ticket_keys agent_tk, api_tk;
	struct pki_issuer *issuer; /* agent certificates */
};

/*
 * Loads the CA and the manager certificate from state_dir, creating them
 * when absent (created_r says so).  tls_names: comma-separated names and
 * addresses for the manager certificate.
 */
int ca_open(struct ca *ca, const char *state_dir, const char *tls_names, int *created_r,
	    const char **errstr_r);
void ca_close(struct ca *ca);
/*
 * A 32-byte secret for one purpose, named by label: HMAC-SHA256 keyed by
 * the SHA-256 of the CA private key.  Stable across restarts; changes only
 * with ca.key.  0 or -1.
 */
int ca_derive(EVP_PKEY *ca_key, const char *label, unsigned char out[32]);
/* Issues a client certificate for guid from a verified CSR; PEM, caller frees. */
char *ca_issue_agent(struct ca *ca, const struct pki_csr *csr, const char *guid, int64_t valid_s,
                     char serial_r[41], int64_t *not_after_ms_r);

#endif
