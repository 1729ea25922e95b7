/*
 * apibody: see apibody.h.
 */
#include "apibody.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "license.h"
#include "jsonbody.h"
#include "util.h"

static const char *const known_modules[] = {
	"antimalware", "webreputation", "firewall", "intrusionprevention", "integritymonitoring",
	"loginspection",
};

static int
ab_module_known(const char *m)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(known_modules); i++)
		if (strcmp(known_modules[i], m) == 0)
			return 1;
	return 0;
}

int
apibody_license(const char *body, size_t len, struct license_req *out, char *err,
		size_t errsize)
{
	json_t *root = jsonbody_object(body, len, err, errsize), *v, *mod;
	size_t i, used = 0;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return -1;
	v = json_object_get(root, "seats");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > LIC_MAX_SEATS) {
		snprintf(err, errsize, "field \"seats\" must be a whole number from 1 to %d",
			 LIC_MAX_SEATS);
		goto out;
	}
	out->seats = json_integer_value(v);
	v = json_object_get(root, "modules");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_array(v)) {
			snprintf(err, errsize, "field \"modules\" must be an array of module names");
			goto out;
		}
		json_array_foreach(v, i, mod)
		{
			const char *name = json_string_value(mod);
			size_t nl;
			if (name == NULL || !ab_module_known(name)) {
				snprintf(err, errsize,
					 "field \"modules\": entry %zu is not one of antimalware, "
					 "webreputation, firewall, intrusionprevention, "
					 "integritymonitoring, loginspection",
					 i + 1);
				goto out;
			}
			nl = strlen(name);
			if (used + nl + 2 > sizeof(out->modules)) {
				snprintf(err, errsize, "field \"modules\" is too long");
				goto out;
			}
			if (used)
				out->modules[used++] = ',';
			memcpy(out->modules + used, name, nl + 1);
			used += nl;
		}
	}
	v = json_object_get(root, "expires");
	if (v != NULL && !json_is_null(v)) {
		if (json_is_integer(v) && json_integer_value(v) > 0)
			out->expires_ms = json_integer_value(v);
		else if (!json_is_string(v) ||
			 parse_time_ms(json_string_value(v), &out->expires_ms) < 0 ||
			 out->expires_ms <= 0) {
			snprintf(err, errsize,
				 "field \"expires\" must be epoch milliseconds or an ISO 8601 UTC time "
				 "such as 2027-01-01T00:00:00Z");
			goto out;
		}
	}
	ret = 0;
out:
	json_decref(root);
	return ret;
}

int
apibody_power(const char *body, size_t len, int *stopped_r, char *err, size_t errsize)
{
	json_t *root = jsonbody_object(body, len, err, errsize);
	const char *st;
	int ret = -1;

	if (root == NULL)
		return -1;
	st = json_string_value(json_object_get(root, "state"));
	if (st != NULL && strcmp(st, "stopped") == 0)
		*stopped_r = 1, ret = 0;
	else if (st != NULL && strcmp(st, "running") == 0)
		*stopped_r = 0, ret = 0;
	else
		snprintf(err, errsize, "field \"state\" must be \"stopped\" or \"running\"");
	json_decref(root);
	return ret;
}
