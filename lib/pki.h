/*
 * pki: the small certificate authority toolkit shared by the manager (CA,
 * issuing) and the agent (keys, CSRs): P-256 keys, PEM in and out,
 * SHA-256 fingerprints.  Every parse of foreign data has a length limit.
 */
#ifndef VIGIL_PKI_H
#define VIGIL_PKI_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define PKI_MAX_PEM 16384
#define PKI_FPR_LEN 65 /* 64 hex digits and a NUL */

/* A new ECDSA P-256 key; caller frees with EVP_PKEY_free. */
EVP_PKEY *pki_key_new(void);
/* PEM of a private key or certificate; caller frees the string. */
char *pki_key_pem(EVP_PKEY *key);
char *pki_cert_pem(X509 *cert);
EVP_PKEY *pki_key_load(const char *path);
X509 *pki_cert_load(const char *path);
X509 *pki_cert_parse(const char *pem, size_t len);

/* A CSR for key with subject CN=cn, in PEM; caller frees. */
char *pki_csr_new(EVP_PKEY *key, const char *cn);
/* A parsed certificate request whose signature verified (opaque). */
struct pki_csr;
/* Parses and checks a CSR (signature valid, P-256 key); caller frees (pki_csr_free). */
struct pki_csr *pki_csr_parse(const char *pem, size_t len, const char **errstr_r);
void pki_csr_free(struct pki_csr *csr);

enum pki_usage { PKI_CA, PKI_SERVER, PKI_CLIENT };

/*
 * Issues a certificate for pubkey with subject CN=cn, valid from now-1h for
 * valid_s seconds, signed by ca_cert/ca_key (NULL for self-signed).
 * sans: comma-separated "DNS:x,IP:y,URI:z" or NULL.  serial_hex_r (33 bytes)
 * receives the serial.  Caller frees the certificate.
 */
X509 *pki_cert_issue(X509 *ca_cert, EVP_PKEY *ca_key, EVP_PKEY *pubkey, const char *cn,
		     int64_t valid_s, enum pki_usage usage, const char *sans, char *serial_hex_r);

/*
 * Issuing client certificates from CSRs, many times over for one CA: what
 * they share is built once.  pki_issuer_new takes a reference on ca_cert
 * and ca_key; free with pki_issuer_free.
 */
struct pki_issuer;
struct pki_issuer *pki_issuer_new(X509 *ca_cert, EVP_PKEY *ca_key);
void pki_issuer_free(struct pki_issuer *is);
/*
 * The certificate pki_cert_issue(ca_cert, ca_key, <csr's key>, cn, valid_s,
 * PKI_CLIENT, "URI:<san_uri>", serial_hex_r) makes, the same extensions in
 * the same order, but a few times cheaper.  Caller frees.  Its key is
 * not decoded (X509_get0_pubkey gives NULL): it is made to be encoded and
 * sent; parse the encoding to inspect it.
 */
X509 *pki_issue_client(struct pki_issuer *is, const struct pki_csr *csr, const char *cn,
                       int64_t valid_s, const char *san_uri, char *serial_hex_r);

/* SHA-256 of the DER certificate in lower-case hex. */
int pki_cert_fingerprint(X509 *cert, char out[PKI_FPR_LEN]);
/* Normalises a user-typed fingerprint (colons, case, "sha256:" prefix). */
int pki_fpr_normalise(const char *in, char out[PKI_FPR_LEN]);
/* The subject CN into out. */
int pki_cert_cn(X509 *cert, char *out, size_t outsize);
/* The serial in lower-case hex into out (>= 41 bytes). */
int pki_cert_serial(X509 *cert, char *out, size_t outsize);
/* notAfter as epoch seconds. */
int64_t pki_cert_not_after(X509 *cert);

#endif
