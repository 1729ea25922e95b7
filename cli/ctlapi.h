/*
 * ctlapi: vigilctl's HTTPS client to the manager's REST API (libcurl and
 * jansson).  It owns the connection settings (URL, API key, CA file) and
 * one curl handle, reused so that pages of one command share a connection.
 * Answers are bounded in size and time.  Every failure becomes one sentence
 * for the operator and the exit status vigilctl returns for it.  The API
 * key never appears in a message.
 */
#ifndef VIGIL_CTLAPI_H
#define VIGIL_CTLAPI_H

#include <limits.h>

#include <jansson.h>

#define CTLAPI_MAX_RESPONSE (64 * 1024 * 1024)
#define CTLAPI_CONNECT_TIMEOUT_S 10L
#define CTLAPI_TIMEOUT_S 60L
#define CTLAPI_MAX_KEY 512
#define CTLAPI_MAX_KEY_FILE 4096
#define CTLAPI_MAX_URL 1024

/* vigilctl's exit statuses */
#define CTLAPI_EXIT_OK 0
#define CTLAPI_EXIT_API 1	  /* the manager said no, or answered nonsense */
#define CTLAPI_EXIT_USAGE 2	  /* the command line or the local settings */
#define CTLAPI_EXIT_UNREACHABLE 3 /* no answer from the manager */

struct ctlapi {
	void *curl;
	char url[CTLAPI_MAX_URL]; /* https://host:port[/prefix], no trailing '/' */
	char host[256];		  /* for messages */
	long port;
	char ca[PATH_MAX];
	char key[CTLAPI_MAX_KEY + 1]; /* "" for none; never printed */
	char key_origin[PATH_MAX + 32]; /* "--api-key-file F", "VIGIL_API_KEY", ... */
	int verify_name;
};

struct ctlapi_err {
	int exit_code;
	long http_status; /* 0 when no HTTP answer came */
	char code[64];	  /* the API's error code, or "" */
	char msg[1536];	  /* one sentence, without the program name */
};

int ctlapi_init(struct ctlapi *api);
/* Wipes the key and closes the connection. */
void ctlapi_clear(struct ctlapi *api);
int ctlapi_set_url(struct ctlapi *api, const char *url, struct ctlapi_err *err);
/* Checks that the file can be read, so that a typo is named before connecting. */
int ctlapi_set_ca(struct ctlapi *api, const char *path, struct ctlapi_err *err);
/* origin says where the key came from, for messages ("VIGIL_API_KEY"). */
int ctlapi_set_key(struct ctlapi *api, const char *key, const char *origin,
		   struct ctlapi_err *err);
int ctlapi_load_key_file(struct ctlapi *api, const char *path, const char *origin,
			 struct ctlapi_err *err);

/*
 * GET path (with its query) under the URL; with auth the API key is sent.
 * On a 2xx answer holding a JSON object, *json_r is that object, which the
 * caller owns (json_decref).  Otherwise -1 with *err filled in.
 */
int ctlapi_get(struct ctlapi *api, const char *path, int auth, json_t **json_r,
	       struct ctlapi_err *err);
/* The same with a POST of post_body (JSON); NULL makes it a GET. */
int ctlapi_post(struct ctlapi *api, const char *path, const char *post_body, int auth,
		json_t **json_r, struct ctlapi_err *err);
/* s percent-encoded for a query string; malloc'd, NULL when out of memory. */
char *ctlapi_escape(struct ctlapi *api, const char *s);
/* DELETE path, with the API key. */
int ctlapi_delete(struct ctlapi *api, const char *path, json_t **json_r, struct ctlapi_err *err);

#endif
