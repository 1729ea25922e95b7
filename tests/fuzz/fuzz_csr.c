/*
 * fuzz_csr: the certificate request an unauthenticated client sends with an
 * activation (lib/pki.c decodes it with templates of its own, not
 * X509_REQ's).  An input that starts with '-' is taken as PEM; anything
 * else as the DER inside, wrapped here, so that the fuzzer reaches the
 * ASN.1 without having to learn base64.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
parse(const char *pem, size_t len)
{
	const char *err = NULL;
	struct pki_csr *csr = pki_csr_parse(pem, len, &err);

	if (csr == NULL && err == NULL)
		abort(); /* a refusal always says why */
	pki_csr_free(csr);
	ERR_clear_error();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char head[] = "-----BEGIN CERTIFICATE REQUEST-----\n",
	                  tail[] = "\n-----END CERTIFICATE REQUEST-----\n";
	char *pem;
	int n;

	if (size > 0 && data[0] == '-') {
		parse((const char *)data, size);
		return 0;
	}
	if (size > 8192)
		return 0;
	pem = malloc(sizeof(head) + (size + 2) / 3 * 4 + sizeof(tail) + 1);
	if (pem == NULL)
		return 0;
	memcpy(pem, head, sizeof(head) - 1);
	n = EVP_EncodeBlock((unsigned char *)pem + sizeof(head) - 1, data, (int)size);
	memcpy(pem + sizeof(head) - 1 + n, tail, sizeof(tail));
	parse(pem, strlen(pem));
	free(pem);
	return 0;
}
