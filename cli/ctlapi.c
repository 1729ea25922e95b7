/*
 * ctlapi: see ctlapi.h.
 */
#include "ctlapi.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"

#define CTLAPI_USER_AGENT "vigilctl/0.1.0"

static void ctlapi_fail(struct ctlapi_err *err, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
ctlapi_fail(struct ctlapi_err *err, int exit_code, const char *fmt, ...)
{
	va_list ap;

	err->exit_code = exit_code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

int
ctlapi_init(struct ctlapi *api)
{
	memset(api, 0, sizeof(*api));
	api->verify_name = 1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	api->curl = curl_easy_init();
	return api->curl ? 0 : -1;
}

void
ctlapi_clear(struct ctlapi *api)
{
	if (api->curl != NULL)
		curl_easy_cleanup(api->curl);
	api->curl = NULL;
	explicit_bzero(api->key, sizeof(api->key));
	curl_global_cleanup();
}

/* Printable ASCII without blanks: what a URL or a key may hold. */
static int
ctlapi_is_token(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

int
ctlapi_set_url(struct ctlapi *api, const char *url, struct ctlapi_err *err)
{
	CURLU *u = NULL;
	char *host = NULL, *port = NULL, *query = NULL, *frag = NULL, *user = NULL;
	size_t len = strlen(url);
	int64_t p;
	int ret = -1;

	if (!ctlapi_is_token(url)) {
		ctlapi_fail(err, CTLAPI_EXIT_USAGE,
			    "the manager URL must not contain blanks or control characters");
		goto out;
	}
	if (strncasecmp(url, "http://", 7) == 0) {
		ctlapi_fail(err, CTLAPI_EXIT_USAGE,
			    "the manager's API speaks HTTPS only: use https:// in \"%.200s\"", url);
		goto out;
	}
	if (strncasecmp(url, "https://", 8) != 0) {
		ctlapi_fail(err, CTLAPI_EXIT_USAGE,
			    "the manager URL \"%.200s\" must start with https:// "
			    "(for example https://127.0.0.1:4119)",
			    url);
		goto out;
	}
	while (len > 8 && url[len - 1] == '/')
		len--;
	/* room for the longest path vigilctl appends */
	if (len + 512 > sizeof(api->url)) {
		ctlapi_fail(err, CTLAPI_EXIT_USAGE, "the manager URL is longer than %zu characters",
			    sizeof(api->url) - 512);
		goto out;
	}
	u = curl_url();
	if (u == NULL) {
		ctlapi_fail(err, CTLAPI_EXIT_USAGE, "out of memory");
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    parse_i64(port, 1, 65535, &p) < 0) {
		ctlapi_fail(err, CTLAPI_EXIT_USAGE,
			    "the manager URL \"%.200s\" is not valid (expected https://HOST:PORT)",
			    url);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK) {
		ctlapi_fail(err, CTLAPI_EXIT_USAGE,
			    "the manager URL must be https://HOST:PORT, without a user, "
			    "a query or a fragment");
		goto out;
	}
	if (str_copy(api->host, host, sizeof(api->host)) < 0) {
		ctlapi_fail(err, CTLAPI_EXIT_USAGE, "the manager's host name is too long");
		goto out;
	}
	memcpy(api->url, url, len);
	api->url[len] = '\0';
	api->port = (long)p;
	ret = 0;
out:
	curl_free(host);
	curl_free(port);
	curl_free(query);
	curl_free(frag);
	curl_free(user);
	curl_url_cleanup(u);
	return ret;
}

int
ctlapi_set_ca(struct ctlapi *api, const char *path, struct ctlapi_err *err)
{
	if (str_copy(api->ca, path, sizeof(api->ca)) < 0) {
		ctlapi_fail(err, CTLAPI_EXIT_USAGE, "the CA file path is too long");
		return -1;
	}
	if (access(path, R_OK) < 0) {
		ctlapi_fail(err, CTLAPI_EXIT_USAGE,
			    "cannot read the manager's CA certificate %.400s: %s "
			    "(give it with --ca FILE or VIGIL_CA; it is ca.crt in the manager's "
			    "state directory)",
			    path, strerror(errno));
		return -1;
	}
	return 0;
}

int
ctlapi_set_key(struct ctlapi *api, const char *key, const char *origin, struct ctlapi_err *err)
{
	size_t len = strlen(key);

	/* a key pasted with its newline still works */
	while (len > 0 && (key[len - 1] == '\n' || key[len - 1] == '\r' || key[len - 1] == ' ' ||
			   key[len - 1] == '\t'))
		len--;
	if (len == 0) {
		ctlapi_fail(err, CTLAPI_EXIT_USAGE, "the API key from %s is empty", origin);
		return -1;
	}
	if (len > CTLAPI_MAX_KEY) {
		ctlapi_fail(err, CTLAPI_EXIT_USAGE,
			    "the API key from %s is longer than %d characters", origin,
			    CTLAPI_MAX_KEY);
		return -1;
	}
	memcpy(api->key, key, len);
	api->key[len] = '\0';
	/* it goes into a header line: no room for blanks or control bytes */
	if (!ctlapi_is_token(api->key)) {
		explicit_bzero(api->key, sizeof(api->key));
		ctlapi_fail(err, CTLAPI_EXIT_USAGE,
			    "the API key from %s contains blanks or control characters", origin);
		return -1;
	}
	snprintf(api->key_origin, sizeof(api->key_origin), "%s", origin);
	return 0;
}

int
ctlapi_load_key_file(struct ctlapi *api, const char *path, const char *origin,
		     struct ctlapi_err *err)
{
	char *data = NULL, where[PATH_MAX + 64];
	size_t len = 0;
	int ret = -1;

	if (file_read_all(path, CTLAPI_MAX_KEY_FILE, &data, &len) < 0) {
		ctlapi_fail(err, CTLAPI_EXIT_USAGE, "cannot read the API key file %.400s (%s): %s",
			    path, origin,
			    errno == EFBIG ? "larger than 4 KiB, so not an API key file"
					   : strerror(errno));
		goto out;
	}
	if (strlen(data) != len) {
		ctlapi_fail(err, CTLAPI_EXIT_USAGE, "the API key file %.400s contains a NUL byte",
			    path);
		goto out;
	}
	snprintf(where, sizeof(where), "%s %s", origin, path);
	ret = ctlapi_set_key(api, data, where, err);
out:
	if (data != NULL)
		explicit_bzero(data, len);
	free(data);
	return ret;
}

struct ctlapi_body {
	struct buf b;
	int too_large;
};

static size_t
ctlapi_write(char *data, size_t size, size_t n, void *ctx)
{
	struct ctlapi_body *body = ctx;

	if (buf_append(&body->b, data, size * n) < 0) {
		body->too_large = 1;
		return 0; /* aborts the transfer */
	}
	return size * n;
}

/* curl's own sentence for a failure, without its trailing newline. */
static const char *
ctlapi_curl_text(CURLcode cc, char *errbuf)
{
	size_t n = strlen(errbuf);

	while (n > 0 && (errbuf[n - 1] == '\n' || errbuf[n - 1] == '.'))
		errbuf[--n] = '\0';
	return n ? errbuf : curl_easy_strerror(cc);
}

/* Turns a transfer that got no HTTP answer into the step that failed. */
static void
ctlapi_fail_transfer(struct ctlapi *api, CURLcode cc, char *errbuf, int too_large,
		     struct ctlapi_err *err)
{
	CURL *c = api->curl;
	const char *why = ctlapi_curl_text(cc, errbuf);
	curl_off_t connected = 0, handshaken = 0;
	long oserr = 0;

	if (too_large || cc == CURLE_FILESIZE_EXCEEDED) {
		ctlapi_fail(err, CTLAPI_EXIT_API,
			    "the manager's answer is larger than %d MiB; ask for less (--limit, "
			    "--since)",
			    CTLAPI_MAX_RESPONSE / (1024 * 1024));
		return;
	}
	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
	curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connected);
	curl_easy_getinfo(c, CURLINFO_APPCONNECT_TIME_T, &handshaken);
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		ctlapi_fail(err, CTLAPI_EXIT_UNREACHABLE,
			    "cannot reach the manager at %s: name resolution failed: "
			    "the host name \"%s\" is unknown",
			    api->url, api->host);
		return;
	case CURLE_COULDNT_CONNECT:
		if (oserr == ECONNREFUSED)
			ctlapi_fail(err, CTLAPI_EXIT_UNREACHABLE,
				    "cannot reach the manager at %s: connection refused: nothing "
				    "listens on %s port %ld (is vigil-manager running, and is %ld "
				    "its API port?)",
				    api->url, api->host, api->port, api->port);
		else
			ctlapi_fail(err, CTLAPI_EXIT_UNREACHABLE,
				    "cannot reach the manager at %s: cannot connect to %s port %ld: %s",
				    api->url, api->host, api->port,
				    oserr ? strerror((int)oserr) : why);
		return;
	case CURLE_OPERATION_TIMEDOUT:
		/* curl 7.88 leaves the connect time at 0 until TLS is done too */
		if (strstr(why, "SSL") == NULL && connected == 0)
			ctlapi_fail(err, CTLAPI_EXIT_UNREACHABLE,
				    "cannot reach the manager at %s: timeout: no TCP connection to %s "
				    "port %ld within %ld s",
				    api->url, api->host, api->port, CTLAPI_CONNECT_TIMEOUT_S);
		else if (handshaken == 0)
			ctlapi_fail(err, CTLAPI_EXIT_UNREACHABLE,
				    "cannot reach the manager at %s: timeout: %s port %ld accepted "
				    "the connection but no TLS handshake finished within %ld s (is "
				    "%ld the manager's API port?)",
				    api->url, api->host, api->port, CTLAPI_CONNECT_TIMEOUT_S,
				    api->port);
		else
			ctlapi_fail(err, CTLAPI_EXIT_UNREACHABLE,
				    "the manager at %s did not answer within %ld s (timeout)",
				    api->url, CTLAPI_TIMEOUT_S);
		return;
	case CURLE_PEER_FAILED_VERIFICATION:
		if (strstr(why, "subject name") != NULL || strstr(why, "does not match") != NULL)
			ctlapi_fail(err, CTLAPI_EXIT_UNREACHABLE,
				    "cannot reach the manager at %s: TLS certificate problem: the "
				    "manager's certificate, though signed by the CA in %s, is not "
				    "issued for the name \"%s\" (it names localhost, 127.0.0.1, ::1 "
				    "and the manager's host name); use one of those in the URL, or "
				    "--no-verify-name",
				    api->url, api->ca, api->host);
		else
			ctlapi_fail(err, CTLAPI_EXIT_UNREACHABLE,
				    "cannot reach the manager at %s: TLS certificate problem: the "
				    "manager's certificate cannot be verified with the CA file %s "
				    "(%s); is that file the ca.crt of this manager?",
				    api->url, api->ca, why);
		return;
	case CURLE_SSL_CACERT_BADFILE:
		ctlapi_fail(err, CTLAPI_EXIT_UNREACHABLE,
			    "cannot reach the manager at %s: TLS certificate problem: the CA file "
			    "%s cannot be loaded (%s); it must be the manager's ca.crt in PEM",
			    api->url, api->ca, why);
		return;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_USE_SSL_FAILED:
		ctlapi_fail(err, CTLAPI_EXIT_UNREACHABLE,
			    "cannot reach the manager at %s: TLS handshake failed (%s); is %ld "
			    "the manager's API port (not its agent port), and does it speak "
			    "HTTPS? (CA file %s)",
			    api->url, why, api->port, api->ca);
		return;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		ctlapi_fail(err, CTLAPI_EXIT_UNREACHABLE,
			    "the connection to the manager at %s broke before a full answer "
			    "came (%s)",
			    api->url, why);
		return;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_HTTP2:
		ctlapi_fail(err, CTLAPI_EXIT_UNREACHABLE,
			    "cannot reach the manager at %s: the server there does not answer in "
			    "HTTP (%s); is %ld the manager's API port?",
			    api->url, why, api->port);
		return;
	case CURLE_URL_MALFORMAT:
		ctlapi_fail(err, CTLAPI_EXIT_USAGE, "the manager URL %s is not valid (%s)",
			    api->url, why);
		return;
	case CURLE_OUT_OF_MEMORY:
		ctlapi_fail(err, CTLAPI_EXIT_API, "out of memory");
		return;
	default:
		ctlapi_fail(err, CTLAPI_EXIT_UNREACHABLE, "cannot reach the manager at %s: %s",
			    api->url, why);
		return;
	}
}

/* The error object of a non-2xx answer, as a sentence. */
static void
ctlapi_fail_http(struct ctlapi *api, long status, json_t *body, struct ctlapi_err *err)
{
	json_t *e = json_object_get(body, "error");
	const char *msg = json_string_value(json_object_get(e, "message"));
	const char *code = json_string_value(json_object_get(e, "code"));

	err->http_status = status;
	snprintf(err->code, sizeof(err->code), "%s", code ? code : "");
	if (msg == NULL || *msg == '\0') {
		ctlapi_fail(err, CTLAPI_EXIT_API,
			    "the manager at %s answered HTTP %ld without an error message", api->url,
			    status);
		return;
	}
	/* the agent port answers too, with 404 to everything vigilctl asks */
	if (status == 404 && strcmp(err->code, "not_found") == 0)
		ctlapi_fail(err, CTLAPI_EXIT_API,
			    "%.600s (HTTP 404, not_found); is %ld the manager's API port and not "
			    "its agent port?",
			    msg, api->port);
	else if (status == 401 && api->key_origin[0] != '\0')
		ctlapi_fail(err, CTLAPI_EXIT_API, "%.600s (HTTP %ld, %s; the key came from %s)",
			    msg, status, err->code, api->key_origin);
	else
		ctlapi_fail(err, CTLAPI_EXIT_API, "%.600s (HTTP %ld%s%s)", msg, status,
			    err->code[0] ? ", " : "", err->code);
}

/* Headers hold the key: wipe them before they go back to the heap. */
static void
ctlapi_free_headers(struct curl_slist *h)
{
	struct curl_slist *p;

	for (p = h; p != NULL; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

static int ctlapi_request(struct ctlapi *api, const char *custom, const char *path,
			  const char *post_body, int auth, json_t **json_r, struct ctlapi_err *err);

int
ctlapi_get(struct ctlapi *api, const char *path, int auth, json_t **json_r,
	   struct ctlapi_err *err)
{
	return ctlapi_request(api, NULL, path, NULL, auth, json_r, err);
}

int
ctlapi_post(struct ctlapi *api, const char *path, const char *post_body, int auth,
	    json_t **json_r, struct ctlapi_err *err)
{
	return ctlapi_request(api, NULL, path, post_body, auth, json_r, err);
}

char *
ctlapi_escape(struct ctlapi *api, const char *s)
{
	char *e = curl_easy_escape(api->curl, s, 0), *out;

	if (e == NULL)
		return NULL;
	out = strdup(e);
	curl_free(e);
	return out;
}

int
ctlapi_delete(struct ctlapi *api, const char *path, json_t **json_r, struct ctlapi_err *err)
{
	return ctlapi_request(api, "DELETE", path, NULL, 1, json_r, err);
}

/* custom: a method other than GET/POST (the handle is reused: NULL resets it) */
static int
ctlapi_request(struct ctlapi *api, const char *custom, const char *path, const char *post_body,
	       int auth, json_t **json_r, struct ctlapi_err *err)
{
	static const char *const fixed[] = {"api-version: v1", "Accept: application/json"};
	CURL *c = api->curl;
	struct curl_slist *hdrs = NULL, *h;
	struct ctlapi_body body;
	char url[CTLAPI_MAX_URL + 1024], errbuf[CURL_ERROR_SIZE] = "", line[CTLAPI_MAX_KEY + 32];
	json_error_t je;
	json_t *o = NULL;
	long status = 0;
	CURLcode cc;
	size_t i;
	int ret = -1;

	memset(err, 0, sizeof(*err));
	*json_r = NULL;
	buf_init(&body.b, CTLAPI_MAX_RESPONSE);
	body.too_large = 0;
	if (snprintf(url, sizeof(url), "%s%s", api->url, path) >= (int)sizeof(url)) {
		ctlapi_fail(err, CTLAPI_EXIT_USAGE, "the request URL is too long");
		goto out;
	}
	if (auth) {
		if (api->key[0] == '\0') {
			ctlapi_fail(err, CTLAPI_EXIT_USAGE,
				    "no API key: give a file holding it with --api-key-file FILE, "
				    "or set VIGIL_API_KEY_FILE or VIGIL_API_KEY");
			goto out;
		}
		snprintf(line, sizeof(line), "api-secret-key: %s", api->key);
		h = curl_slist_append(hdrs, line);
		explicit_bzero(line, sizeof(line));
		if (h == NULL) {
			ctlapi_fail(err, CTLAPI_EXIT_API, "out of memory");
			goto out;
		}
		hdrs = h;
	}
	for (i = 0; i < ARRAY_SIZE(fixed); i++) {
		if ((h = curl_slist_append(hdrs, fixed[i])) == NULL) {
			ctlapi_fail(err, CTLAPI_EXIT_API, "out of memory");
			goto out;
		}
		hdrs = h;
	}

	curl_easy_setopt(c, CURLOPT_URL, url);
	if (post_body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post_body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(post_body));
		if ((h = curl_slist_append(hdrs, "Content-Type: application/json")) == NULL) {
			ctlapi_fail(err, CTLAPI_EXIT_API, "out of memory");
			goto out;
		}
		hdrs = h;
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, custom);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CTLAPI_CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, CTLAPI_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CTLAPI_MAX_RESPONSE);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ctlapi_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_USERAGENT, CTLAPI_USER_AGENT);
	/* the manager's own CA only, never the system's store */
	curl_easy_setopt(c, CURLOPT_CAINFO, api->ca);
	curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, api->verify_name ? 2L : 0L);

	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		ctlapi_fail_transfer(api, cc, errbuf, body.too_large, err);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	err->http_status = status;
	o = json_loadb(body.b.data ? body.b.data : "", body.b.len, JSON_REJECT_DUPLICATES, &je);
	if (status < 200 || status > 299) {
		ctlapi_fail_http(api, status, o, err);
		goto out;
	}
	if (o == NULL || !json_is_object(o)) {
		ctlapi_fail(err, CTLAPI_EXIT_API,
			    "the manager at %s answered HTTP %ld with something that is not a "
			    "JSON object (%s); is this a Vigil manager?",
			    api->url, status, o == NULL ? je.text : "another JSON type");
		goto out;
	}
	*json_r = o;
	o = NULL;
	ret = 0;
out:
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	ctlapi_free_headers(hdrs);
	json_decref(o);
	buf_clear(&body.b);
	return ret;
}
