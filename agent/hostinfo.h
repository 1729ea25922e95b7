/*
 * hostinfo: the host facts an agent reports: host name, platform, machine
 * id and network interfaces (name, MAC, addresses).
 */
#ifndef VIGIL_HOSTINFO_H
#define VIGIL_HOSTINFO_H

#include <jansson.h>
#include <stdint.h>

#define AGENT_VERSION "0.1.0"

/* Fills obj with hostname (unless override given), platform, agent_version,
 * machine_id, machine_fingerprint (of state_dir), clock_ms and interfaces.
 * -1 on allocation failure. */
int hostinfo_fill(json_t *obj, const char *hostname_override, int64_t clock_offset_ms,
		  const char *state_dir);
/*
 * The machine fingerprint: SHA-256 (hex) of the machine id, the firmware
 * UUID (/sys/class/dmi/id/product_uuid, readable by root) and the real path
 * of the agent's state directory.  A cloned VM (new firmware UUID) or a
 * state directory copied elsewhere gets another one, so the manager sees a
 * clone even though the identity files are the same.
 */
void hostinfo_fingerprint(const char *state_dir, char out[65]);
/* The interfaces as [{"name","mac","addresses":[..]}]; caller owns it. */
json_t *hostinfo_interfaces(void);

#endif
