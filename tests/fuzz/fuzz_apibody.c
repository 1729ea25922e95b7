/*
 * fuzz_apibody: the JSON bodies of the REST API (licenses, power, activation
 * settings, inventory).
 */
#include <stddef.h>
#include <stdint.h>

#include "actsettings.h"
#include "apibody.h"
#include "jsonbody.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct license_req lr;
	char err[512];
	int stopped;

	(void)apibody_license((const char *)data, size, &lr, err, sizeof(err));
	(void)apibody_power((const char *)data, size, &stopped, err, sizeof(err));
	{
		struct inventory_req inv;
		if (apibody_inventory((const char *)data, size, &inv, err, sizeof(err)) == 0)
			apibody_inventory_clear(&inv);
	}
	{
		struct act_settings s;
		json_t *o = jsonbody_object((const char *)data, size, err, sizeof(err));
		act_defaults(&s);
		if (o != NULL) {
			if (act_from_json(&s, o, err, sizeof(err)) == 0) {
				json_t *back = act_to_json(&s);
				json_decref(back);
			}
			json_decref(o);
		}
	}
	return 0;
}
