/*
 * listener: see listener.h.
 */
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "httpreq.h"
#include "log.h"
#include "pki.h"
#include "util.h"

static const struct http_limits listener_limits = {
    .max_url = 1024,
    .max_header_bytes = 8192,
    .max_body = LISTENER_MAX_BODY,
};

void
listener_init(struct agent_listener *l)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}

static int
listener_ctx(struct agent_listener *l, const struct agent_state *st, char *err, size_t errsize)
{
	char crt[PATH_MAX], key[PATH_MAX], ca[PATH_MAX];
	static const unsigned char sid[] = "vigil-agent-4118";

	if (agent_state_path(st, "identity.crt", crt, sizeof(crt)) < 0 ||
	    agent_state_path(st, "identity.key", key, sizeof(key)) < 0 ||
	    agent_state_path(st, "ca.crt", ca, sizeof(ca)) < 0) {
		snprintf(err, errsize, "state directory path too long");
		return -1;
	}
	l->ctx = SSL_CTX_new(TLS_server_method());
	if (l->ctx == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(l->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(l->ctx, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_session_id_context(l->ctx, sid, sizeof(sid) - 1);
	if (SSL_CTX_use_certificate_file(l->ctx, crt, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(l->ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(l->ctx, ca, NULL) != 1) {
		snprintf(err, errsize,
		         "cannot load the identity (identity.crt, identity.key, ca.crt)");
		goto fail;
	}
	/* only the manager: a certificate from the pinned CA, for a TLS client */
	SSL_CTX_set_verify(l->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_purpose(l->ctx, X509_PURPOSE_SSL_CLIENT);
	return 0;
fail:
	if (err[0] == '\0' || l->ctx == NULL)
		snprintf(err, errsize, "cannot set up TLS for the agent port");
	SSL_CTX_free(l->ctx);
	l->ctx = NULL;
	ERR_clear_error();
	return -1;
}

int
listener_open(struct agent_listener *l, const struct agent_state *st, const char *addr, int port,
              char *err, size_t errsize)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, fd = -1;

	err[0] = '\0';
	if (sockaddr_from_ip(addr, port, &ss, &sl) < 0) {
		snprintf(err, errsize, "--listen: \"%s\" is not an IP address", addr);
		return -1;
	}
	if (listener_ctx(l, st, err, errsize) < 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 16) < 0) {
		snprintf(err, errsize, "cannot listen on %s port %d: %s", addr, port,
		         strerror(errno));
		goto fail;
	}
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		goto fail;
	l->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                                        : ((struct sockaddr_in6 *)&ss)->sin6_port);
	l->fd = fd;
	return 0;
fail:
	if (err[0] == '\0')
		snprintf(err, errsize, "cannot listen on %s port %d: %s", addr, port,
		         strerror(errno));
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(l->ctx);
	l->ctx = NULL;
	return -1;
}

int
listener_pick_port(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, port = -1;

	if (sockaddr_from_ip(addr, 0, &ss, &sl) < 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, sl) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
		                                     : ((struct sockaddr_in6 *)&ss)->sin6_port);
	close(fd);
	return port;
}

void
listener_close(struct agent_listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	SSL_CTX_free(l->ctx);
	l->fd = -1;
	l->ctx = NULL;
	l->port = 0;
}

/* 1 when the verified peer is the manager (CN and purpose; the chain was checked). */
static int
listener_peer_ok(SSL *ssl, char *why, size_t whysize)
{
	X509 *peer = SSL_get1_peer_certificate(ssl);
	char cn[128];
	long vr = SSL_get_verify_result(ssl);
	int ok = 0;

	if (peer == NULL) {
		snprintf(why, whysize, "no client certificate");
	} else if (vr != X509_V_OK) {
		snprintf(why, whysize, "client certificate refused: %s",
		         X509_verify_cert_error_string(vr));
	} else if (pki_cert_cn(peer, cn, sizeof(cn)) < 0 || strcmp(cn, LISTENER_MANAGER_CN) != 0) {
		snprintf(why, whysize, "the certificate is not the manager's (CN \"%.64s\")",
		         pki_cert_cn(peer, cn, sizeof(cn)) < 0 ? "?" : cn);
	} else {
		ok = 1;
	}
	X509_free(peer);
	return ok;
}

static void
listener_write(SSL *ssl, int status, json_t *reply)
{
	char *body = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
	char head[256];
	size_t blen = body ? strlen(body) : 0;
	int n;

	n = snprintf(head, sizeof(head),
	             "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
	             "Connection: close\r\n\r\n",
	             status,
	             status == 200   ? "OK"
	             : status == 202 ? "Accepted"
	                             : "Error",
	             blen);
	if (SSL_write(ssl, head, n) > 0 && blen > 0)
		SSL_write(ssl, body, (int)blen);
	free(body);
}

static json_t *
listener_error(const char *code, const char *msg)
{
	return json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
}

void
listener_serve(struct agent_listener *l, listener_handler *h, void *ctx)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct timeval tv = {LISTENER_IO_TIMEOUT_S, 0};
	struct http_request req;
	char peer[64] = "?", why[256], buf[8192], path[512];
	json_t *reply = NULL;
	SSL *ssl = NULL;
	int fd, status = 500, rc = 0;
	size_t used;

	fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, peer, sizeof(peer));
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, peer, sizeof(peer));
	/* blocking, but never for long: the agent has one thread */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	httpreq_init(&req, &listener_limits);
	ssl = SSL_new(l->ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1)
		goto out;
	if (SSL_accept(ssl) != 1) {
		unsigned long e = ERR_peek_last_error();
		snprintf(l->last_error, sizeof(l->last_error), "%s: TLS handshake failed: %s", peer,
		         e ? ERR_reason_error_string(e) : "connection closed or timed out");
		l->refused++;
		log_warn("agent port: %s", l->last_error);
		goto out;
	}
	if (!listener_peer_ok(ssl, why, sizeof(why))) {
		snprintf(l->last_error, sizeof(l->last_error), "%s: %.180s", peer, why);
		l->refused++;
		log_warn("agent port: refused %s", l->last_error);
		listener_write(ssl, 403, reply = listener_error("not_the_manager", why));
		goto out;
	}
	for (;;) {
		int n = SSL_read(ssl, buf, sizeof(buf));
		if (n <= 0) {
			snprintf(l->last_error, sizeof(l->last_error),
			         "%s: the request was cut short or timed out", peer);
			goto out;
		}
		rc = httpreq_feed(&req, buf, (size_t)n, &used);
		if (rc != 0)
			break;
	}
	if (rc < 0) {
		listener_write(ssl, req.error_status ? req.error_status : 400,
		               reply = listener_error("bad_request",
		                                      req.error_msg ? req.error_msg : "malformed"));
		goto out;
	}
	if (httpreq_path(&req, path, sizeof(path)) < 0) {
		listener_write(ssl, 404, reply = listener_error("not_found", "no such resource"));
		goto out;
	}
	l->accepted++;
	l->last_manager_ms = now_ms();
	h(ctx, httpreq_method_name(&req), path, req.body.data ? req.body.data : "", req.body.len,
	  &status, &reply);
	listener_write(ssl, status, reply);
out:
	json_decref(reply);
	if (ssl != NULL) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	ERR_clear_error();
	httpreq_clear(&req);
	close(fd);
}
