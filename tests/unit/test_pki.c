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

#include "pki.h"

static void
test_csr_round_trip_and_issue(void **state)
{
	EVP_PKEY *ca_key = pki_key_new(), *key = pki_key_new();
	X509 *ca, *cert;
	X509_REQ *req;
	char *csr, serial[41], serial2[41], cn[64], fpr[PKI_FPR_LEN];
	const char *err = NULL;

	assert_non_null(ca_key);
	ca = pki_cert_issue(NULL, ca_key, ca_key, "Test CA", 3600, PKI_CA, NULL, NULL);
	assert_non_null(ca);
	csr = pki_csr_new(key, "web1");
	assert_non_null(csr);
	req = pki_csr_parse(csr, strlen(csr), &err);
	assert_non_null(req);
	cert = pki_cert_issue(ca, ca_key, X509_REQ_get0_pubkey(req), "guid-1", 3600, PKI_CLIENT,
			      "URI:urn:vigil:computer:guid-1", serial);
	assert_non_null(cert);
	assert_int_equal(X509_verify(cert, ca_key), 1);
	assert_int_equal(X509_check_private_key(cert, key), 1);
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
	X509_REQ_free(req);
	free(csr);
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
		cmocka_unit_test(test_csr_refusals),
		cmocka_unit_test(test_fingerprint_normalise),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
