/* fuzz_config: the manager's configuration file, through the settings table. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mgr_config cfg;
	FILE *devnull = fopen("/dev/null", "w");

	if (devnull == NULL)
		return 0;
	config_defaults(&cfg);
	config_load_mem(&cfg, (const char *)data, size, "fuzz.conf", devnull);
	config_validate(&cfg, "fuzz.conf", devnull);
	fclose(devnull);
	return 0;
}
