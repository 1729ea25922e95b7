/*
 * ctl: the local control channel between vigil-agentctl and vigil-agent:
 * a Unix stream socket (mode 0600) in the state directory.  One request
 * line (a command word, at most CTL_MAX_REQUEST bytes) and one JSON answer,
 * then the connection closes.
 */
#ifndef VIGIL_CTL_H
#define VIGIL_CTL_H

#include "buf.h"

#define CTL_SOCKET "agent.sock"
#define CTL_MAX_REQUEST 256
#define CTL_MAX_REPLY (256 * 1024)

/* Listening socket at path; -1 with errno. */
int ctl_listen(const char *path);
/* Reads one request line from an accepted client into out; -1 on error. */
int ctl_read_request(int fd, char *out, size_t outsize);
/* Sends cmd and reads the whole answer; -1 when no agent answers. */
int ctl_call(const char *path, const char *cmd, struct buf *reply, int timeout_s);

#endif
