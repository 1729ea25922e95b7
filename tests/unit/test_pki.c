/* test_pki: keys, CSRs, issuing, fingerprints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki.h"

static void
test_csr_round_trip_and_issue(void **state)
{
	EVP_PKEY *ca_key = pki_key_new(), *key = pki_key_new();
	X509 *ca, *cert;
	struct pki_issuer *is;
	struct pki_csr *req;
	char *csr, serial[41], serial2[41], cn[64], fpr[PKI_FPR_LEN];
	const char *err = NULL;

	assert_non_null(ca_key);
	ca = pki_cert_issue(NULL, ca_key, ca_key, "Test CA", 3600, PKI_CA, NULL, NULL);
	assert_non_null(ca);
	csr = pki_csr_new(key, "web1");
	assert_non_null(csr);
	req = pki_csr_parse(csr, strlen(csr), &err);
	assert_non_null(req);
	is = pki_issuer_new(ca, ca_key);
	assert_non_null(is);
	cert = pki_issue_client(is, req, "guid-1", 3600, "urn:vigil:computer:guid-1", serial);
	assert_non_null(cert);
	assert_int_equal(X509_verify(cert, ca_key), 1);
	{
		/* as the agent gets it: PEM */
		char *pem = pki_cert_pem(cert);
		X509 *back = pki_cert_parse(pem, strlen(pem));
		assert_non_null(back);
		assert_int_equal(X509_check_private_key(back, key), 1);
		X509_free(back);
		free(pem);
	}
	assert_int_equal(pki_cert_cn(cert, cn, sizeof(cn)), 0);
	assert_string_equal(cn, "guid-1");
	assert_int_equal(pki_cert_serial(cert, serial2, sizeof(serial2)), 0);
	assert_string_equal(serial, serial2);
	assert_int_equal(pki_cert_fingerprint(cert, fpr), 0);
	assert_int_equal(strlen(fpr), 64);
	assert_true(pki_cert_not_after(cert) > 0);
	/* the CA's own signature is not an agent's */
	assert_int_not_equal(X509_verify(cert, key), 1);
	X509_free(cert);
	pki_csr_free(req);
	pki_issuer_free(is);
	free(csr);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
}

/* DER of c's extension with this NID; caller frees */
static int
ext_der(X509 *c, int nid, unsigned char **der, int *crit)
{
	int i = X509_get_ext_by_NID(c, nid, -1);
	X509_EXTENSION *e;

	assert_true(i >= 0);
	e = X509_get_ext(c, i);
	*crit = X509_EXTENSION_get_critical(e);
	return i2d_ASN1_OCTET_STRING(X509_EXTENSION_get_data(e), der);
}

/*
 * The issuer's fast path makes the certificate the generic one makes: the
 * same key, the same extensions in the same order, the same criticality.
 */
static void
test_issue_client_matches_generic(void **state)
{
	EVP_PKEY *ca_key = pki_key_new(), *key = pki_key_new();
	X509 *ca = pki_cert_issue(NULL, ca_key, ca_key, "Test CA", 3600, PKI_CA, NULL, NULL);
	struct pki_issuer *is = pki_issuer_new(ca, ca_key);
	char *csr = pki_csr_new(key, "web1");
	const char *err = NULL;
	struct pki_csr *req = pki_csr_parse(csr, strlen(csr), &err);
	static const int nids[] = {NID_subject_key_identifier, NID_authority_key_identifier,
	                           NID_basic_constraints,      NID_key_usage,
	                           NID_ext_key_usage,          NID_subject_alt_name};
	X509 *a, *b;
	unsigned char *da = NULL, *db = NULL;
	int la, lb, ca_, cb_, i;

	assert_non_null(is);
	assert_non_null(req);
	a = pki_cert_issue(ca, ca_key, key, "guid-2", 3600, PKI_CLIENT,
	                   "URI:urn:vigil:computer:guid-2", NULL);
	b = pki_issue_client(is, req, "guid-2", 3600, "urn:vigil:computer:guid-2", NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(X509_get_ext_count(a), X509_get_ext_count(b));
	for (i = 0; i < (int)(sizeof(nids) / sizeof(nids[0])); i++) {
		assert_int_equal(X509_get_ext_by_NID(a, nids[i], -1), i);
		assert_int_equal(X509_get_ext_by_NID(b, nids[i], -1), i);
		la = ext_der(a, nids[i], &da, &ca_);
		lb = ext_der(b, nids[i], &db, &cb_);
		assert_int_equal(la, lb);
		assert_memory_equal(da, db, (size_t)la);
		assert_int_equal(ca_, cb_);
		OPENSSL_free(da);
		OPENSSL_free(db);
		da = db = NULL;
	}
	la = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(a), &da);
	lb = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(b), &db);
	assert_int_equal(la, lb);
	assert_memory_equal(da, db, (size_t)la);
	OPENSSL_free(da);
	OPENSSL_free(db);
	assert_int_equal(X509_verify(b, ca_key), 1);
	assert_int_equal(X509_cmp(a, b) != 0, 1); /* serials differ */
	{
		/* as the agent presents it: a client certificate of this CA, for this key */
		char *pem = pki_cert_pem(b);
		X509 *back = pki_cert_parse(pem, strlen(pem));
		X509_STORE *st = X509_STORE_new();
		X509_STORE_CTX *sc = X509_STORE_CTX_new();
		assert_non_null(back);
		assert_int_equal(X509_check_private_key(back, key), 1);
		assert_int_equal(X509_STORE_add_cert(st, ca), 1);
		assert_int_equal(X509_STORE_CTX_init(sc, st, back, NULL), 1);
		X509_STORE_CTX_set_purpose(sc, X509_PURPOSE_SSL_CLIENT);
		assert_int_equal(X509_verify_cert(sc), 1);
		X509_STORE_CTX_free(sc);
		X509_STORE_free(st);
		X509_free(back);
		free(pem);
	}
	X509_free(a);
	X509_free(b);
	pki_csr_free(req);
	free(csr);
	pki_issuer_free(is);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
}

static void
test_csr_refusals(void **state)
{
	EVP_PKEY *rsa = EVP_RSA_gen(2048);
	const char *err = NULL;
	char *csr = pki_csr_new(rsa, "x");

	assert_null(pki_csr_parse(csr, strlen(csr), &err));
	assert_string_equal(err, "csr key must be ECDSA P-256");
	free(csr);
	EVP_PKEY_free(rsa);
	assert_null(pki_csr_parse("hello", 5, &err));
	assert_string_equal(err, "csr is not a PEM certificate request");
	assert_null(pki_csr_parse("", 0, &err));

	/* a flipped byte in the signature */
	{
		EVP_PKEY *k = pki_key_new();
		char *p = pki_csr_new(k, "y");
		char *end = strstr(p, "-----END");
		/* change a base64 character near the end of the body (signature) */
		end[-6] = end[-6] == 'A' ? 'B' : 'A';
		assert_null(pki_csr_parse(p, strlen(p), &err));
		assert_string_equal(err, "csr signature does not verify");
		free(p);
		EVP_PKEY_free(k);
	}
	/* another curve */
	{
		EVP_PKEY *k = EVP_EC_gen("P-384");
		char *p = pki_csr_new(k, "z");
		assert_null(pki_csr_parse(p, strlen(p), &err));
		assert_string_equal(err, "csr key must be ECDSA P-256");
		free(p);
		EVP_PKEY_free(k);
	}
	/* a certificate is not a request */
	{
		EVP_PKEY *k = pki_key_new();
		X509 *c = pki_cert_issue(NULL, k, k, "c", 60, PKI_CA, NULL, NULL);
		char *p = pki_cert_pem(c);
		assert_null(pki_csr_parse(p, strlen(p), &err));
		assert_string_equal(err, "csr is not a PEM certificate request");
		free(p);
		X509_free(c);
		EVP_PKEY_free(k);
	}
	/* the old PEM label still reads */
	{
		EVP_PKEY *k = pki_key_new();
		char *p = pki_csr_new(k, "old"), *q = malloc(strlen(p) + 16), *body;
		struct pki_csr *r;
		body = strchr(p, '\n');
		snprintf(q, strlen(p) + 16,
		         "-----BEGIN NEW CERTIFICATE REQUEST-----%.*s"
		         "-----END NEW CERTIFICATE REQUEST-----\n",
		         (int)(strstr(p, "-----END") - body), body);
		r = pki_csr_parse(q, strlen(q), &err);
		assert_non_null(r);
		pki_csr_free(r);
		free(q);
		free(p);
		EVP_PKEY_free(k);
	}
}

static void
test_fingerprint_normalise(void **state)
{
	char out[PKI_FPR_LEN];
	const char *hex = "62bf86789933aeff8de7b7598babb5bc3cdc62705db80c87229672051398f455";

	assert_int_equal(pki_fpr_normalise(hex, out), 0);
	assert_string_equal(out, hex);
	assert_int_equal(pki_fpr_normalise("sha256:62:BF:86:78:99:33:AE:FF:8D:E7:B7:59:8B:AB:B5:BC:"
					   "3C:DC:62:70:5D:B8:0C:87:22:96:72:05:13:98:F4:55",
					   out),
			 0);
	assert_string_equal(out, hex);
	assert_int_equal(pki_fpr_normalise("abc", out), -1);
	assert_int_equal(pki_fpr_normalise("zz", out), -1);
	assert_int_equal(pki_fpr_normalise("62bf86789933aeff8de7b7598babb5bc3cdc62705db80c87229672051398f45500", out), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csr_round_trip_and_issue),
	    cmocka_unit_test(test_issue_client_matches_generic),
	    cmocka_unit_test(test_csr_refusals),
	    cmocka_unit_test(test_fingerprint_normalise),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
