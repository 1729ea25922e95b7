/*
 * apibody: parsing and validation of the JSON bodies the REST API accepts
 * (licenses, power state).  Pure functions, unit-tested and fuzzed; every
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

#endif
