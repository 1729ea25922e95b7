/*
 * client: see client.h.
 */
#include "client.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

int
client_init(struct http_client *cl)
{
	/* reference-counted by libcurl; the agent is single-threaded */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	memset(cl, 0, sizeof(*cl));
	cl->timeout_s = 20;
	cl->curl = curl_easy_init();
	return cl->curl ? 0 : -1;
}

void
client_clear(struct http_client *cl)
{
	if (cl->curl != NULL)
		curl_easy_cleanup(cl->curl);
	cl->curl = NULL;
}

void
client_result_init(struct client_result *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, CLIENT_MAX_RESPONSE);
}

void
client_result_clear(struct client_result *r)
{
	buf_clear(&r->body);
}

static size_t
cl_write(char *data, size_t size, size_t n, void *ctx)
{
	struct client_result *r = ctx;

	if (buf_append(&r->body, data, size * n) < 0)
		return 0; /* aborts: response larger than the limit */
	return size * n;
}

static size_t
cl_header(char *data, size_t size, size_t n, void *ctx)
{
	struct client_result *r = ctx;
	size_t len = size * n;
	char v[32];
	int64_t secs;

	if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		size_t vl = len - 12;
		const char *p = data + 12;
		while (vl > 0 && *p == ' ')
			p++, vl--;
		while (vl > 0 && (p[vl - 1] == '\r' || p[vl - 1] == '\n'))
			vl--;
		if (vl < sizeof(v)) {
			memcpy(v, p, vl);
			v[vl] = '\0';
			if (parse_i64(v, 0, 86400, &secs) == 0)
				r->retry_after_s = secs;
		}
	}
	return len;
}

const char *
client_stage_name(enum client_stage s)
{
	switch (s) {
	case CL_OK: return "ok";
	case CL_RESOLVE: return "resolve";
	case CL_CONNECT: return "connect";
	case CL_TLS: return "tls";
	case CL_TIMEOUT: return "timeout";
	case CL_HTTP: return "http";
	case CL_OTHER: return "other";
	}
	return "other";
}

int
client_request(struct http_client *cl, const char *base, const char *path, const char *body,
	       struct client_result *r)
{
	CURL *c = cl->curl;
	struct curl_slist *hdrs = NULL;
	char url[1024], errbuf[CURL_ERROR_SIZE] = "";
	size_t bl = strlen(base);
	CURLcode cc;

	buf_reset(&r->body);
	r->status = 0;
	r->retry_after_s = 0;
	r->error[0] = '\0';
	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	if (snprintf(url, sizeof(url), "%.*s%s", (int)bl, base, path) >= (int)sizeof(url)) {
		r->stage = CL_OTHER;
		snprintf(r->error, sizeof(r->error), "manager URL too long");
		return -1;
	}
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, cl->timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, cl->timeout_s < 10 ? cl->timeout_s : 10L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, cl_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, cl_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "vigil-agent/0.1.0");
	if (cl->insecure) {
		/* only to fetch the CA, whose fingerprint is then checked */
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	} else {
		curl_easy_setopt(c, CURLOPT_CAINFO, cl->ca);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
		/*
		 * The CA is this manager's own, pinned at activation, and it signs
		 * serverAuth only for the manager: the name in the URL need not be
		 * in the certificate (agents may use an address or an alias).
		 */
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (cl->cert[0]) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, cl->cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, cl->key);
	}
	if (body != NULL) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	cc = curl_easy_perform(c);
	curl_slist_free_all(hdrs);
	if (cc != CURLE_OK) {
		switch (cc) {
		case CURLE_COULDNT_RESOLVE_HOST:
			r->stage = CL_RESOLVE;
			break;
		case CURLE_COULDNT_CONNECT:
			r->stage = CL_CONNECT;
			break;
		case CURLE_OPERATION_TIMEDOUT:
			r->stage = CL_TIMEOUT;
			break;
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_CIPHER:
		case CURLE_SSL_ISSUER_ERROR:
		case CURLE_SSL_CRL_BADFILE:
		case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
			r->stage = CL_TLS;
			break;
		default:
			r->stage = CL_OTHER;
			break;
		}
		snprintf(r->error, sizeof(r->error), "%.200s: %.300s", url,
			 errbuf[0] ? errbuf : curl_easy_strerror(cc));
		return -1;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	r->stage = r->status >= 200 && r->status < 300 ? CL_OK : CL_HTTP;
	if (r->stage == CL_HTTP) {
		char msg[400];
		snprintf(r->error, sizeof(r->error), "HTTP %ld: %s", r->status,
			 client_error_message(r, msg, sizeof(msg)) ? msg : "(no message)");
	}
	return 0;
}

static json_t *
cl_error_obj(const struct client_result *r)
{
	json_error_t je;

	if (r->body.len == 0)
		return NULL;
	return json_loadb(r->body.data, r->body.len, 0, &je);
}

const char *
client_error_message(const struct client_result *r, char *out, size_t outsize)
{
	json_t *root = cl_error_obj(r);
	const char *m = json_string_value(json_object_get(json_object_get(root, "error"), "message"));
	const char *ret = NULL;

	if (m != NULL) {
		str_copy(out, m, outsize);
		ret = out;
	}
	json_decref(root);
	return ret;
}

const char *
client_error_code(const struct client_result *r, char *out, size_t outsize)
{
	json_t *root = cl_error_obj(r);
	const char *m = json_string_value(json_object_get(json_object_get(root, "error"), "code"));

	str_copy(out, m ? m : "", outsize);
	json_decref(root);
	return out;
}
