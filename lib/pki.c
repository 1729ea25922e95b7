/*
 * pki: see pki.h.  OpenSSL 3 EVP API only.
 */
#include "pki.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "util.h"

EVP_PKEY *
pki_key_new(void)
{
	return EVP_EC_gen("P-256");
}

static char *
pki_bio_string(BIO *bio)
{
	char *data, *s;
	long n = BIO_get_mem_data(bio, &data);

	if (n <= 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (s == NULL)
		return NULL;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	return s;
}

char *
pki_key_pem(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (bio == NULL)
		return NULL;
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1)
		s = pki_bio_string(bio);
	BIO_free(bio);
	return s;
}

char *
pki_cert_pem(X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (bio == NULL)
		return NULL;
	if (PEM_write_bio_X509(bio, cert) == 1)
		s = pki_bio_string(bio);
	BIO_free(bio);
	return s;
}

EVP_PKEY *
pki_key_load(const char *path)
{
	EVP_PKEY *k = NULL;
	char *data = NULL;
	size_t len = 0;
	BIO *bio;

	if (file_read_all(path, PKI_MAX_PEM, &data, &len) < 0)
		return NULL;
	bio = BIO_new_mem_buf(data, (int)len);
	if (bio != NULL)
		k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	OPENSSL_cleanse(data, len);
	free(data);
	return k;
}

X509 *
pki_cert_parse(const char *pem, size_t len)
{
	X509 *c = NULL;
	BIO *bio;

	if (len > PKI_MAX_PEM)
		return NULL;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio != NULL)
		c = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return c;
}

X509 *
pki_cert_load(const char *path)
{
	X509 *c;
	char *data = NULL;
	size_t len = 0;

	if (file_read_all(path, PKI_MAX_PEM, &data, &len) < 0)
		return NULL;
	c = pki_cert_parse(data, len);
	free(data);
	return c;
}

char *
pki_csr_new(EVP_PKEY *key, const char *cn)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name;
	BIO *bio = NULL;
	char *s = NULL;

	if (req == NULL)
		goto out;
	name = X509_REQ_get_subject_name(req);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
				       -1, 0) != 1)
		goto out;
	if (X509_REQ_set_pubkey(req, key) != 1 || X509_REQ_sign(req, key, EVP_sha256()) <= 0)
		goto out;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || PEM_write_bio_X509_REQ(bio, req) != 1)
		goto out;
	s = pki_bio_string(bio);
out:
	BIO_free(bio);
	X509_REQ_free(req);
	return s;
}

X509_REQ *
pki_csr_parse(const char *pem, size_t len, const char **errstr_r)
{
	X509_REQ *req = NULL;
	EVP_PKEY *pub;
	BIO *bio = NULL;
	char group[32];
	size_t glen = 0;

	if (len == 0 || len > PKI_MAX_PEM) {
		*errstr_r = "csr is empty or longer than 16384 bytes";
		return NULL;
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL || (req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL)) == NULL) {
		*errstr_r = "csr is not a PEM certificate request";
		goto fail;
	}
	pub = X509_REQ_get0_pubkey(req);
	if (pub == NULL || !EVP_PKEY_is_a(pub, "EC") ||
	    EVP_PKEY_get_utf8_string_param(pub, "group", group, sizeof(group), &glen) != 1 ||
	    strcmp(group, "prime256v1") != 0) {
		*errstr_r = "csr key must be ECDSA P-256";
		goto fail;
	}
	if (X509_REQ_verify(req, pub) != 1) {
		*errstr_r = "csr signature does not verify";
		goto fail;
	}
	BIO_free(bio);
	return req;
fail:
	BIO_free(bio);
	X509_REQ_free(req);
	return NULL;
}

static int
pki_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

X509 *
pki_cert_issue(X509 *ca_cert, EVP_PKEY *ca_key, EVP_PKEY *pubkey, const char *cn,
	       int64_t valid_s, enum pki_usage usage, const char *sans, char *serial_hex_r)
{
	X509 *cert = X509_new();
	X509 *issuer;
	X509_NAME *name;
	BIGNUM *bn = NULL;
	unsigned char serial[16];
	int ok = 0;

	if (cert == NULL)
		return NULL;
	if (rand_bytes(serial, sizeof(serial)) < 0)
		goto out;
	serial[0] &= 0x7f; /* positive */
	serial[0] |= 0x40; /* fixed length, no leading zero */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == NULL)
		goto out;
	if (serial_hex_r != NULL)
		hex_encode(serial, sizeof(serial), serial_hex_r);
	if (X509_set_version(cert, 2) != 1)
		goto out;
	if (X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(cert), (long)valid_s) == NULL)
		goto out;
	name = X509_get_subject_name(cert);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
				       -1, 0) != 1)
		goto out;
	if (X509_set_issuer_name(cert, ca_cert ? X509_get_subject_name(ca_cert) : name) != 1)
		goto out;
	if (X509_set_pubkey(cert, pubkey) != 1)
		goto out;
	issuer = ca_cert ? ca_cert : cert;
	if (pki_add_ext(cert, issuer, NID_subject_key_identifier, "hash") < 0)
		goto out;
	if (ca_cert != NULL && pki_add_ext(cert, issuer, NID_authority_key_identifier,
					   "keyid:always") < 0)
		goto out;
	switch (usage) {
	case PKI_CA:
		if (pki_add_ext(cert, issuer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") <
			    0 ||
		    pki_add_ext(cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign") < 0)
			goto out;
		break;
	case PKI_SERVER:
	case PKI_CLIENT:
		if (pki_add_ext(cert, issuer, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
		    pki_add_ext(cert, issuer, NID_key_usage, "critical,digitalSignature") < 0 ||
		    pki_add_ext(cert, issuer, NID_ext_key_usage,
				usage == PKI_SERVER ? "serverAuth" : "clientAuth") < 0)
			goto out;
		break;
	}
	if (sans != NULL && *sans != '\0' &&
	    pki_add_ext(cert, issuer, NID_subject_alt_name, sans) < 0)
		goto out;
	if (X509_sign(cert, ca_key, EVP_sha256()) <= 0)
		goto out;
	ok = 1;
out:
	BN_free(bn);
	if (!ok) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

int
pki_cert_fingerprint(X509 *cert, char out[PKI_FPR_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (X509_digest(cert, EVP_sha256(), md, &n) != 1 || n != 32)
		return -1;
	hex_encode(md, n, out);
	return 0;
}

int
pki_fpr_normalise(const char *in, char out[PKI_FPR_LEN])
{
	size_t o = 0;

	if (strncasecmp(in, "sha256:", 7) == 0)
		in += 7;
	for (; *in; in++) {
		char c = *in;
		if (c == ':' || c == ' ')
			continue;
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		if (o == 64)
			return -1;
		out[o++] = c;
	}
	if (o != 64)
		return -1;
	out[o] = '\0';
	return 0;
}

int
pki_cert_cn(X509 *cert, char *out, size_t outsize)
{
	int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, out,
					  (int)outsize);

	return n > 0 && (size_t)n < outsize ? 0 : -1;
}

int
pki_cert_serial(X509 *cert, char *out, size_t outsize)
{
	const ASN1_INTEGER *ai = X509_get0_serialNumber(cert);
	BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
	unsigned char bin[20];
	int n, ret = -1;

	if (bn == NULL)
		return -1;
	n = BN_num_bytes(bn);
	if (n > 0 && n <= (int)sizeof(bin) && (size_t)n * 2 + 1 <= outsize) {
		BN_bn2bin(bn, bin);
		hex_encode(bin, (size_t)n, out);
		ret = 0;
	}
	BN_free(bn);
	return ret;
}

int64_t
pki_cert_not_after(X509 *cert)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}
