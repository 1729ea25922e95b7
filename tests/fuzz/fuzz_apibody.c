/* fuzz_apibody: the JSON bodies of the REST API (licenses, power state). */
#include <stddef.h>
#include <stdint.h>

#include "apibody.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct license_req lr;
	char err[512];
	int stopped;

	(void)apibody_license((const char *)data, size, &lr, err, sizeof(err));
	(void)apibody_power((const char *)data, size, &stopped, err, sizeof(err));
	return 0;
}
