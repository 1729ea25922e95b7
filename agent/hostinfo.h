/*
 * hostinfo: the host facts an agent reports: host name, platform, machine
 * id and network interfaces (name, MAC, addresses).
 */
#ifndef VIGIL_HOSTINFO_H
#define VIGIL_HOSTINFO_H

#include <jansson.h>

#define AGENT_VERSION "0.1.0"

/* Fills obj with hostname (unless override given), platform, agent_version,
 * machine_id, clock_ms and interfaces.  -1 on allocation failure. */
int hostinfo_fill(json_t *obj, const char *hostname_override, int64_t clock_offset_ms);
/* The interfaces as [{"name","mac","addresses":[..]}]; caller owns it. */
json_t *hostinfo_interfaces(void);

#endif
