/*
 * fuzz_activation: the activation body an unauthenticated client sends, and
 * the reactivation body (the same without the token) of a clone.
 */
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct activation_req ar;
	char err[512];

	if (proto_parse_activation((const char *)data, size, &ar, err, sizeof(err)) == 0)
		proto_host_facts_clear(&ar.host);
	if (proto_parse_reactivation((const char *)data, size, &ar, err, sizeof(err)) == 0)
		proto_host_facts_clear(&ar.host);
	return 0;
}
