/* fuzz_heartbeat: the heartbeat body an authenticated agent sends. */
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct heartbeat_req hb;
	char err[512];

	if (proto_parse_heartbeat((const char *)data, size, &hb, err, sizeof(err)) == 0)
		proto_heartbeat_clear(&hb);
	return 0;
}
