/*
 * apibody: see apibody.h.
 */
#include "apibody.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
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

/* A string field of at most max bytes, printable ASCII and UTF-8 beyond. */
static int
ab_text(json_t *v, size_t max)
{
	const unsigned char *s;
	size_t n;

	if (!json_is_string(v))
		return 0;
	n = json_string_length(v);
	s = (const unsigned char *)json_string_value(v);
	if (n == 0 || n > max || strlen((const char *)s) != n)
		return 0;
	for (; *s; s++)
		if (*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int
ab_mac(const char *in, char out[18])
{
	int i;

	if (strlen(in) != 17)
		return -1;
	for (i = 0; i < 17; i++) {
		char c = in[i];
		if (i % 3 == 2) {
			if (c != ':' && c != '-')
				return -1;
			out[i] = ':';
		} else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
			out[i] = c;
		} else if (c >= 'A' && c <= 'F') {
			out[i] = (char)(c - 'A' + 'a');
		} else {
			return -1;
		}
	}
	out[17] = '\0';
	return 0;
}

static int
ab_id_cmp(const void *a, const void *b)
{
	return strcmp(((const struct inv_instance *const *)a)[0]->id,
		      ((const struct inv_instance *const *)b)[0]->id);
}

void
apibody_inventory_clear(struct inventory_req *r)
{
	free(r->inst);
	r->inst = NULL;
	r->n = 0;
}

int
apibody_inventory(const char *body, size_t len, struct inventory_req *out, char *err,
		  size_t errsize)
{
	json_t *root = jsonbody_object(body, len, err, errsize), *list, *it, *v, *mac;
	struct inv_instance **sorted = NULL;
	size_t i, j;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return -1;
	list = json_object_get(root, "instances");
	if (!json_is_array(list) || json_array_size(list) > INV_MAX_INSTANCES) {
		snprintf(err, errsize,
			 "field \"instances\" must be an array of at most %d instances (send larger "
			 "inventories in parts)",
			 INV_MAX_INSTANCES);
		goto out;
	}
	out->inst = calloc(json_array_size(list) + 1, sizeof(*out->inst));
	sorted = calloc(json_array_size(list) + 1, sizeof(*sorted));
	if (out->inst == NULL || sorted == NULL) {
		snprintf(err, errsize, "out of memory");
		goto out;
	}
	json_array_foreach(list, i, it)
	{
		struct inv_instance *in = &out->inst[i];
		const char *ps;

		if (!json_is_object(it)) {
			snprintf(err, errsize, "instance %zu is not an object", i + 1);
			goto out;
		}
		v = json_object_get(it, "id");
		if (!ab_text(v, INV_MAX_ID)) {
			snprintf(err, errsize,
				 "instance %zu: field \"id\" must be a string of 1 to %d bytes without "
				 "control characters",
				 i + 1, INV_MAX_ID);
			goto out;
		}
		str_copy(in->id, json_string_value(v), sizeof(in->id));
		ps = json_string_value(json_object_get(it, "power_state"));
		if (ps != NULL && strcmp(ps, "stopped") == 0)
			in->stopped = 1;
		else if (ps == NULL || strcmp(ps, "running") != 0) {
			snprintf(err, errsize,
				 "instance \"%s\": field \"power_state\" must be \"running\" or "
				 "\"stopped\"",
				 in->id);
			goto out;
		}
		v = json_object_get(it, "macs");
		if (v != NULL && !json_is_null(v)) {
			if (!json_is_array(v) || json_array_size(v) > INV_MAX_MACS) {
				snprintf(err, errsize,
					 "instance \"%s\": field \"macs\" must be an array of at most %d "
					 "MAC addresses",
					 in->id, INV_MAX_MACS);
				goto out;
			}
			json_array_foreach(v, j, mac)
			{
				if (!json_is_string(mac) ||
				    ab_mac(json_string_value(mac), in->macs[in->nmacs]) < 0) {
					snprintf(err, errsize,
						 "instance \"%s\": MAC %zu is not six hexadecimal octets "
						 "such as 52:54:00:12:34:56",
						 in->id, j + 1);
					goto out;
				}
				in->nmacs++;
			}
		}
		v = json_object_get(it, "hostname");
		if (v != NULL && !json_is_null(v)) {
			if (!ab_text(v, sizeof(in->hostname) - 1)) {
				snprintf(err, errsize,
					 "instance \"%s\": field \"hostname\" must be a string of 1 to "
					 "255 bytes without control characters",
					 in->id);
				goto out;
			}
			str_copy(in->hostname, json_string_value(v), sizeof(in->hostname));
		}
		sorted[i] = in;
	}
	out->n = json_array_size(list);
	/* one instance, one answer: the same id twice is a mistake of the sender */
	qsort(sorted, out->n, sizeof(*sorted), ab_id_cmp);
	for (i = 1; i < out->n; i++)
		if (strcmp(sorted[i - 1]->id, sorted[i]->id) == 0) {
			snprintf(err, errsize, "instance id \"%s\" appears more than once",
				 sorted[i]->id);
			goto out;
		}
	ret = 0;
out:
	free(sorted);
	json_decref(root);
	if (ret < 0)
		apibody_inventory_clear(out);
	return ret;
}
