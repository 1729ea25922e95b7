/*
 * client: the agent's HTTPS client to the manager (libcurl).  One easy
 * handle per client, reused, so kept-alive connections and TLS sessions
 * survive between heartbeats.  Errors are classified so that status,
 * logs and diagnosis can say which step failed.
 */
#ifndef VIGIL_CLIENT_H
#define VIGIL_CLIENT_H

#include <limits.h>

#include "buf.h"

#define CLIENT_MAX_RESPONSE (4 * 1024 * 1024)

enum client_stage {
	CL_OK,
	CL_RESOLVE,  /* the manager's name does not resolve */
	CL_CONNECT,  /* nothing answers on the port */
	CL_TLS,	     /* handshake or certificate problem */
	CL_TIMEOUT,  /* no answer in time */
	CL_HTTP,     /* the manager answered with an error status */
	CL_OTHER,
};

struct http_client {
	void *curl;
	char cert[PATH_MAX];
	char key[PATH_MAX];
	char ca[PATH_MAX]; /* "" with insecure=1 only for fetching the CA */
	int insecure;
	long timeout_s;
};

struct client_result {
	long status;
	struct buf body;
	enum client_stage stage;
	char error[512];   /* a sentence for a person */
	long retry_after_s; /* from Retry-After, or 0 */
};

int client_init(struct http_client *cl);
void client_clear(struct http_client *cl);
void client_result_init(struct client_result *r);
void client_result_clear(struct client_result *r);
/* body may be NULL (GET).  Returns 0 when an HTTP answer came (any status). */
int client_request(struct http_client *cl, const char *base_url, const char *path,
		   const char *body, struct client_result *r);
const char *client_stage_name(enum client_stage s);
/* The error message of a JSON error body {"error":{"message":..}}, or NULL. */
const char *client_error_message(const struct client_result *r, char *out, size_t outsize);
/* The error code of a JSON error body, or "" */
const char *client_error_code(const struct client_result *r, char *out, size_t outsize);

#endif
