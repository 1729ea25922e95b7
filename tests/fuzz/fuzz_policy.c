/*
 * fuzz_policy: policy settings as the REST API and the database give them
 * ({"name": value, ...}, psettings.c).  What parses must print and parse
 * back to the same values.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonbody.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_values pv, back;
	uint32_t unset;
	char err[512];
	json_t *o = jsonbody_object((const char *)data, size, err, sizeof(err)), *j;

	if (o == NULL)
		return 0;
	if (policy_values_parse(o, &pv, &unset, err, sizeof(err)) == 0) {
		int ps;
		j = policy_values_json(&pv);
		if (j == NULL || policy_values_parse(j, &back, NULL, err, sizeof(err)) != 0 ||
		    back.set != pv.set)
			abort();
		for (ps = 0; ps < PS_COUNT; ps++)
			if ((pv.set & (1u << ps)) && back.v[ps] != pv.v[ps])
				abort();
		json_decref(j);
	}
	json_decref(o);
	return 0;
}
