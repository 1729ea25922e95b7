/*
 * apibody: parsing and validation of the JSON bodies the REST API accepts
 * (licenses, power state, inventory).  Pure functions, unit-tested and fuzzed; every
 * refusal is a sentence naming the field.
 */
#ifndef VIGIL_APIBODY_H
#define VIGIL_APIBODY_H

#include <stddef.h>
#include <stdint.h>

#define APIBODY_MAX_MODULES 256

struct license_req {
	int64_t seats;
	char modules[APIBODY_MAX_MODULES + 1]; /* "a,b", "" for all */
	int64_t expires_ms;		       /* 0: never */
};

/* {"seats": N, "modules": ["antimalware", ...], "expires": "2027-01-01T00:00:00Z" | ms} */
int apibody_license(const char *body, size_t len, struct license_req *out, char *err,
		    size_t errsize);
/* {"state": "stopped" | "running"} -> *stopped_r */
int apibody_power(const char *body, size_t len, int *stopped_r, char *err, size_t errsize);

#define INV_MAX_INSTANCES 10000
#define INV_MAX_ID 128
#define INV_MAX_MACS 32

struct inv_instance {
	char id[INV_MAX_ID + 1];
	int stopped;
	char macs[INV_MAX_MACS][18]; /* lower case */
	int nmacs;
	char hostname[256]; /* "" when not given */
};

struct inventory_req {
	struct inv_instance *inst; /* owned: apibody_inventory_clear() */
	size_t n;
};

/*
 * {"instances": [{"id": "vm-42", "power_state": "running"|"stopped",
 *  "macs": ["52:54:00:12:34:56"], "hostname": "web1"}, ...]}: at most
 * INV_MAX_INSTANCES, ids unique and printable, MACs six hex octets.
 */
int apibody_inventory(const char *body, size_t len, struct inventory_req *out, char *err,
		      size_t errsize);
void apibody_inventory_clear(struct inventory_req *r);

#endif
