/*
 * pki: see pki.h.  OpenSSL 3 EVP API only.
 */
#include "pki.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
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

/*
 * A certificate request, decoded with OpenSSL's own ASN.1 templates but not
 * X509_REQ's: that one decodes the public key through OSSL_DECODER, which in
 * OpenSSL 3.0 looks up every provider's decoders and key managers on each
 * call (about 40 % of the CPU of an activation, docs/BENCHMARKS.md).  The
 * same structure (RFC 2986) without the key decoding; the P-256 point is
 * imported directly (EVP_PKEY_fromdata checks that it is on the curve).
 */
/* clang-format off */
typedef struct {
	X509_ALGOR *algor;
	ASN1_BIT_STRING *public_key;
} PKI_SPKI;

ASN1_SEQUENCE(PKI_SPKI) = {
	ASN1_SIMPLE(PKI_SPKI, algor, X509_ALGOR),
	ASN1_SIMPLE(PKI_SPKI, public_key, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(PKI_SPKI)

/* keeps its encoding: the signature is checked over the bytes received */
typedef struct {
	ASN1_ENCODING enc;
	ASN1_INTEGER *version;
	X509_NAME *subject;
	PKI_SPKI *pubkey;
	STACK_OF(X509_ATTRIBUTE) *attributes;
} PKI_CRI;

ASN1_SEQUENCE_enc(PKI_CRI, enc, NULL) = {
	ASN1_SIMPLE(PKI_CRI, version, ASN1_INTEGER),
	ASN1_SIMPLE(PKI_CRI, subject, X509_NAME),
	ASN1_SIMPLE(PKI_CRI, pubkey, PKI_SPKI),
	/* optional as in OpenSSL's X509_REQ_INFO: some requests leave it out */
	ASN1_IMP_SET_OF_OPT(PKI_CRI, attributes, X509_ATTRIBUTE, 0),
} static_ASN1_SEQUENCE_END_ref(PKI_CRI, PKI_CRI)

typedef struct {
	PKI_CRI *info;
	X509_ALGOR *sig_alg;
	ASN1_BIT_STRING *signature;
} PKI_REQ;

ASN1_SEQUENCE(PKI_REQ) = {
	ASN1_SIMPLE(PKI_REQ, info, PKI_CRI),
	ASN1_SIMPLE(PKI_REQ, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(PKI_REQ, signature, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(PKI_REQ)

struct pki_csr {
	PKI_REQ *req;
};
/* clang-format on */

void
pki_csr_free(struct pki_csr *csr)
{
	if (csr == NULL)
		return;
	ASN1_item_free((ASN1_VALUE *)csr->req, ASN1_ITEM_rptr(PKI_REQ));
	free(csr);
}

/* The request's key as an EVP_PKEY, when it is a named-curve P-256 point. */
static EVP_PKEY *
pki_csr_key(const PKI_SPKI *spki)
{
	const ASN1_OBJECT *alg = NULL, *curve;
	const void *pval = NULL;
	int ptype = 0;
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM params[3];
	char group[] = SN_X9_62_prime256v1;

	X509_ALGOR_get0(&alg, &ptype, &pval, spki->algor);
	if (OBJ_obj2nid(alg) != NID_X9_62_id_ecPublicKey || ptype != V_ASN1_OBJECT)
		return NULL;
	curve = pval;
	if (OBJ_obj2nid(curve) != NID_X9_62_prime256v1 || spki->public_key->length <= 0)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, spki->public_key->data, (size_t)spki->public_key->length);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

struct pki_csr *
pki_csr_parse(const char *pem, size_t len, const char **errstr_r)
{
	struct pki_csr *csr = NULL;
	PKI_REQ *req = NULL;
	EVP_PKEY *pub = NULL;
	BIO *bio = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	char *name = NULL;
	long dlen = 0;

	if (len == 0 || len > PKI_MAX_PEM) {
		*errstr_r = "csr is empty or longer than 16384 bytes";
		return NULL;
	}
	/* "CERTIFICATE REQUEST", or "NEW CERTIFICATE REQUEST" as PEM_read_bio_X509_REQ allows */
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL ||
	    PEM_bytes_read_bio(&der, &dlen, &name, PEM_STRING_X509_REQ, bio, NULL, NULL) != 1 ||
	    (p = der, req = (PKI_REQ *)ASN1_item_d2i(NULL, &p, dlen, ASN1_ITEM_rptr(PKI_REQ))) ==
	        NULL) {
		*errstr_r = "csr is not a PEM certificate request";
		goto fail;
	}
	pub = pki_csr_key(req->info->pubkey);
	if (pub == NULL) {
		*errstr_r = "csr key must be ECDSA P-256";
		goto fail;
	}
	/* proof of possession: the request is signed with the key it names */
	if (ASN1_item_verify(ASN1_ITEM_rptr(PKI_CRI), req->sig_alg, req->signature, req->info,
	                     pub) != 1) {
		*errstr_r = "csr signature does not verify";
		goto fail;
	}
	csr = malloc(sizeof(*csr));
	if (csr == NULL) {
		*errstr_r = "out of memory";
		goto fail;
	}
	csr->req = req;
	req = NULL;
fail:
	/* a refused request leaves nothing queued for the next TLS call to trip on */
	if (csr == NULL)
		ERR_clear_error();
	ASN1_item_free((ASN1_VALUE *)req, ASN1_ITEM_rptr(PKI_REQ));
	EVP_PKEY_free(pub);
	OPENSSL_free(der);
	OPENSSL_free(name);
	BIO_free(bio);
	return csr;
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

/*
 * A new certificate with everything but the key, the extensions and the
 * signature: a random 128-bit serial, validity from an hour ago (clock
 * skew) for valid_s seconds, CN=cn, the issuer's name (its own for a
 * self-signed one).
 */
static X509 *
pki_cert_start(X509 *ca_cert, const char *cn, int64_t valid_s, char *serial_hex_r)
{
	X509 *cert = X509_new();
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
	ok = 1;
out:
	BN_free(bn);
	if (!ok) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

X509 *
pki_cert_issue(X509 *ca_cert, EVP_PKEY *ca_key, EVP_PKEY *pubkey, const char *cn, int64_t valid_s,
               enum pki_usage usage, const char *sans, char *serial_hex_r)
{
	X509 *cert = pki_cert_start(ca_cert, cn, valid_s, serial_hex_r);
	X509 *issuer;
	int ok = 0;

	if (cert == NULL)
		return NULL;
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
	if (!ok) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

/*
 * What every client certificate of one CA shares: the extensions that do
 * not depend on the subject, built once (from the same strings as
 * pki_cert_issue, so the certificates are the same), and SHA-1 for the
 * subject key identifier, fetched once.
 */
enum { PKI_EXT_AKID, PKI_EXT_BC, PKI_EXT_KU, PKI_EXT_EKU, PKI_EXT_N };

struct pki_issuer {
	X509 *ca_cert;
	EVP_PKEY *ca_key;
	X509_EXTENSION *ext[PKI_EXT_N];
	EVP_MD *sha1;
};

struct pki_issuer *
pki_issuer_new(X509 *ca_cert, EVP_PKEY *ca_key)
{
	static const struct {
		int nid;
		const char *value;
	} exts[PKI_EXT_N] = {
	    [PKI_EXT_AKID] = {NID_authority_key_identifier, "keyid:always"},
	    [PKI_EXT_BC] = {NID_basic_constraints, "critical,CA:FALSE"},
	    [PKI_EXT_KU] = {NID_key_usage, "critical,digitalSignature"},
	    [PKI_EXT_EKU] = {NID_ext_key_usage, "clientAuth"},
	};
	struct pki_issuer *is = calloc(1, sizeof(*is));
	X509V3_CTX ctx;
	size_t i;

	if (is == NULL)
		return NULL;
	if (X509_up_ref(ca_cert) != 1) {
		free(is);
		return NULL;
	}
	is->ca_cert = ca_cert;
	if (EVP_PKEY_up_ref(ca_key) != 1)
		goto fail;
	is->ca_key = ca_key;
	X509V3_set_ctx(&ctx, ca_cert, NULL, NULL, NULL, 0);
	for (i = 0; i < PKI_EXT_N; i++) {
		is->ext[i] = X509V3_EXT_conf_nid(NULL, &ctx, exts[i].nid, exts[i].value);
		if (is->ext[i] == NULL)
			goto fail;
	}
	is->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	if (is->sha1 == NULL)
		goto fail;
	return is;
fail:
	pki_issuer_free(is);
	return NULL;
}

void
pki_issuer_free(struct pki_issuer *is)
{
	size_t i;

	if (is == NULL)
		return;
	for (i = 0; i < PKI_EXT_N; i++)
		X509_EXTENSION_free(is->ext[i]);
	EVP_MD_free(is->sha1);
	EVP_PKEY_free(is->ca_key);
	X509_free(is->ca_cert);
	free(is);
}

/* subjectAltName with one URI */
static int
pki_add_san_uri(X509 *cert, const char *uri)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
	int ok = 0;

	if (gens == NULL || gn == NULL || ia5 == NULL ||
	    ASN1_STRING_set(ia5, uri, (int)strlen(uri)) != 1)
		goto out;
	GENERAL_NAME_set0_value(gn, GEN_URI, ia5);
	ia5 = NULL;
	if (sk_GENERAL_NAME_push(gens, gn) <= 0)
		goto out;
	gn = NULL;
	ok = X509_add1_ext_i2d(cert, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
out:
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gens);
	return ok ? 0 : -1;
}

X509 *
pki_issue_client(struct pki_issuer *is, const struct pki_csr *csr, const char *cn, int64_t valid_s,
                 const char *san_uri, char *serial_hex_r)
{
	const ASN1_BIT_STRING *pk = csr->req->info->pubkey->public_key;
	X509 *cert = pki_cert_start(is->ca_cert, cn, valid_s, serial_hex_r);
	ASN1_OCTET_STRING *skid = NULL;
	unsigned char *point = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i;
	int ok = 0;

	if (cert == NULL)
		return NULL;
	/*
	 * The key as the request carried it (pki_csr_parse checked it is a
	 * P-256 point), without X509_set_pubkey's round trip through an
	 * encoder and a decoder.
	 */
	point = OPENSSL_memdup(pk->data, (size_t)pk->length);
	if (point == NULL ||
	    X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert),
	                           OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
	                           OBJ_nid2obj(NID_X9_62_prime256v1), point, pk->length) != 1)
		goto out;
	point = NULL;
	/* "hash" of RFC 5280 4.2.1.2 (1), as pki_add_ext() makes it */
	if (EVP_Digest(pk->data, (size_t)pk->length, md, &mdlen, is->sha1, NULL) != 1 ||
	    (skid = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(skid, md, (int)mdlen) != 1 ||
	    X509_add1_ext_i2d(cert, NID_subject_key_identifier, skid, 0, X509V3_ADD_DEFAULT) != 1)
		goto out;
	for (i = 0; i < PKI_EXT_N; i++)
		if (X509_add_ext(cert, is->ext[i], -1) != 1)
			goto out;
	if (san_uri != NULL && pki_add_san_uri(cert, san_uri) < 0)
		goto out;
	if (X509_sign(cert, is->ca_key, EVP_sha256()) <= 0)
		goto out;
	ok = 1;
out:
	OPENSSL_free(point);
	ASN1_OCTET_STRING_free(skid);
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
