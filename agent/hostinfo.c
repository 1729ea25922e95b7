/*
 * hostinfo: see hostinfo.h.  getifaddrs() gives both the link layer
 * (AF_PACKET: the MAC) and the addresses of each interface.
 */
#include "hostinfo.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "util.h"
#include "wdstate.h"

static json_t *
hi_find(json_t *arr, const char *name)
{
	size_t i;
	json_t *it;

	json_array_foreach(arr, i, it)
	{
		if (strcmp(json_string_value(json_object_get(it, "name")), name) == 0)
			return it;
	}
	it = json_pack("{s:s, s:s, s:[]}", "name", name, "mac", "", "addresses");
	json_array_append_new(arr, it);
	return it;
}

json_t *
hostinfo_interfaces(void)
{
	struct ifaddrs *ifa = NULL, *p;
	json_t *arr = json_array();

	if (arr == NULL || getifaddrs(&ifa) < 0)
		return arr;
	for (p = ifa; p; p = p->ifa_next) {
		json_t *it;
		char addr[INET6_ADDRSTRLEN + 8];

		if (p->ifa_addr == NULL || (p->ifa_flags & IFF_LOOPBACK) || strlen(p->ifa_name) > 63)
			continue;
		if (json_array_size(arr) >= 64)
			break;
		it = hi_find(arr, p->ifa_name);
		if (p->ifa_addr->sa_family == AF_PACKET) {
			const struct sockaddr_ll *ll = (const struct sockaddr_ll *)p->ifa_addr;
			char mac[18];
			if (ll->sll_halen == 6) {
				snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
					 ll->sll_addr[0], ll->sll_addr[1], ll->sll_addr[2],
					 ll->sll_addr[3], ll->sll_addr[4], ll->sll_addr[5]);
				json_object_set_new(it, "mac", json_string(mac));
			}
		} else if (p->ifa_addr->sa_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)p->ifa_addr)->sin_addr, addr,
				  sizeof(addr));
			if (json_array_size(json_object_get(it, "addresses")) < 32)
				json_array_append_new(json_object_get(it, "addresses"), json_string(addr));
		} else if (p->ifa_addr->sa_family == AF_INET6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr, addr,
				  sizeof(addr));
			if (json_array_size(json_object_get(it, "addresses")) < 32)
				json_array_append_new(json_object_get(it, "addresses"), json_string(addr));
		}
	}
	freeifaddrs(ifa);
	return arr;
}

static void hi_read_line(const char *path, char *out, size_t outsize);

static void
hi_machine_id(char *out, size_t outsize)
{
	hi_read_line("/etc/machine-id", out, outsize);
	if (out[0] == '\0')
		hi_read_line("/var/lib/dbus/machine-id", out, outsize);
}

static void
hi_read_line(const char *path, char *out, size_t outsize)
{
	char *data = NULL;
	size_t len = 0;

	out[0] = '\0';
	if (file_read_all(path, 256, &data, &len) < 0)
		return;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' '))
		data[--len] = '\0';
	str_copy(out, data, outsize);
	free(data);
}

void
hostinfo_fingerprint(const char *state_dir, char out[65])
{
	char mid[129], uuid[129], real[PATH_MAX], buf[PATH_MAX + 300];
	unsigned char md[32];
	unsigned int n = 0;
	int len;

	hi_machine_id(mid, sizeof(mid));
	hi_read_line("/sys/class/dmi/id/product_uuid", uuid, sizeof(uuid));
	if (realpath(state_dir, real) == NULL)
		str_copy(real, state_dir, sizeof(real));
	len = snprintf(buf, sizeof(buf), "vigil machine fingerprint v1\n%s\n%s\n%s\n", mid, uuid,
		       real);
	if (len < 0 || (size_t)len >= sizeof(buf))
		len = (int)strlen(buf);
	EVP_Digest(buf, (size_t)len, md, &n, EVP_sha256(), NULL);
	hex_encode(md, 32, out);
}

int
hostinfo_fill(json_t *obj, const char *hostname_override, int64_t clock_offset_ms,
	      const char *state_dir)
{
	struct utsname u;
	char host[256] = "", platform[300], mid[129], fpr[65];

	if (hostname_override != NULL && *hostname_override)
		str_copy(host, hostname_override, sizeof(host));
	else if (gethostname(host, sizeof(host)) < 0)
		str_copy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	if (uname(&u) == 0)
		snprintf(platform, sizeof(platform), "%s %s %s", u.sysname, u.release, u.machine);
	else
		str_copy(platform, "unknown", sizeof(platform));
	platform[255] = '\0';
	hi_machine_id(mid, sizeof(mid));
	hostinfo_fingerprint(state_dir, fpr);
	if (json_object_set_new(obj, "machine_fingerprint", json_string(fpr)) < 0 ||
	    json_object_set_new(obj, "hostname", json_string(host)) < 0 ||
	    json_object_set_new(obj, "platform", json_string(platform)) < 0 ||
	    json_object_set_new(obj, "agent_version", json_string(AGENT_VERSION)) < 0 ||
	    json_object_set_new(obj, "machine_id", json_string(mid)) < 0 ||
	    json_object_set_new(obj, "clock_ms", json_integer(now_ms() + clock_offset_ms)) < 0 ||
	    json_object_set_new(obj, "interfaces", hostinfo_interfaces()) < 0)
		return -1;
	{
		/* restarts by the watchdog, until a heartbeat delivered them (wdstate.h) */
		json_t *wd = wdstate_report_json(state_dir);
		if (wd != NULL && json_object_set_new(obj, "watchdog", wd) < 0)
			return -1;
	}
	return 0;
}
