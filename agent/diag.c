/*
 * diag: see diag.h.  Everything is first written to a private temporary
 * directory (0700) under $TMPDIR, then archived and removed.
 */
#include "diag.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/x509.h>

#include "buf.h"
#include "hostinfo.h"
#include "pki.h"
#include "retry.h"
#include "util.h"
#include "wdstate.h"

#define DIAG_NAME "vigil-agent-diag"

int
diag_is_secret_key(const char *name)
{
	static const char *const words[] = {"token", "key", "secret", "password", "passwd"};
	size_t i, n = strlen(name), j, w;

	for (i = 0; i < ARRAY_SIZE(words); i++) {
		w = strlen(words[i]);
		for (j = 0; j + w <= n; j++)
			if (strncasecmp(name + j, words[i], w) == 0)
				return 1;
	}
	return 0;
}

json_t *
diag_redact(json_t *o)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(o)) {
		json_object_foreach (o, k, v) {
			if (diag_is_secret_key(k) && !json_is_null(v))
				json_object_set_new(o, k, json_string("REDACTED"));
			else
				diag_redact(v);
		}
	} else if (json_is_array(o)) {
		json_array_foreach (o, i, v)
			diag_redact(v);
	}
	return o;
}

static int
diag_write(const char *tmp, const char *name, const char *data, size_t len)
{
	char path[PATH_MAX];

	if (path_join(path, sizeof(path), tmp, name) < 0)
		return -1;
	return file_write_atomic(path, data, len, 0600);
}

static int
diag_write_json(const char *tmp, const char *name, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	int ret;

	if (s == NULL)
		return -1;
	ret = diag_write(tmp, name, s, strlen(s));
	free(s);
	return ret;
}

/* A JSON state file, redacted; 0 also when it does not exist. */
static int
diag_state_file(const char *dir, const char *tmp, const char *name, struct buf *manifest)
{
	char path[PATH_MAX], out[300];
	json_error_t je;
	json_t *o;
	int ret;

	if (path_join(path, sizeof(path), dir, name) < 0)
		return -1;
	if (access(path, F_OK) != 0)
		return 0;
	o = json_load_file(path, 0, &je);
	snprintf(out, sizeof(out), "%s.redacted", name);
	if (o == NULL) {
		buf_printf(manifest, "%s: unreadable or not JSON (%s); not included\n", name,
		           je.text);
		return 0;
	}
	ret = diag_write_json(tmp, out, diag_redact(o));
	json_decref(o);
	if (ret == 0)
		buf_printf(manifest, "%s: %s with secrets replaced by REDACTED\n", out, name);
	return ret;
}

static void
diag_cert(struct buf *b, const char *dir, const char *name)
{
	char path[PATH_MAX], fpr[PKI_FPR_LEN], serial[80], t[40];
	X509 *x;
	BIO *mem;
	char *p;
	long n;

	if (path_join(path, sizeof(path), dir, name) < 0)
		return;
	x = pki_cert_load(path);
	if (x == NULL) {
		buf_printf(b, "%s: %s\n\n", name, access(path, F_OK) == 0 ? "unreadable" : "none");
		return;
	}
	buf_printf(b, "%s:\n", name);
	mem = BIO_new(BIO_s_mem());
	if (mem != NULL) {
		BIO_puts(mem, "  subject:    ");
		X509_NAME_print_ex(mem, X509_get_subject_name(x), 0, XN_FLAG_ONELINE);
		BIO_puts(mem, "\n  issuer:     ");
		X509_NAME_print_ex(mem, X509_get_issuer_name(x), 0, XN_FLAG_ONELINE);
		BIO_puts(mem, "\n");
		n = BIO_get_mem_data(mem, &p);
		if (n > 0)
			buf_append(b, p, (size_t)n);
		BIO_free(mem);
	}
	if (pki_cert_serial(x, serial, sizeof(serial)) == 0)
		buf_printf(b, "  serial:     %s\n", serial);
	fmt_time_ms(pki_cert_not_after(x) * 1000, t, sizeof(t));
	buf_printf(b, "  not after:  %s (%s)\n", t,
	           pki_cert_not_after(x) * 1000 < now_ms() ? "EXPIRED" : "valid");
	if (pki_cert_fingerprint(x, fpr) == 0)
		buf_printf(b, "  sha256:     %s\n", fpr);
	buf_puts(b, "\n");
	X509_free(x);
}

/* The log's last DIAG_MAX_LOG bytes, with the activation token blanked out. */
static int
diag_log(const struct diag_input *in, const char *tmp, struct buf *manifest)
{
	char path[PATH_MAX], *data = NULL, *hit, token[129] = "";
	struct pending_activation pa;
	struct agent_state st;
	struct stat sb;
	size_t len = 0, tl;
	FILE *fp;
	int ret = -1;

	if (in->log_path != NULL)
		str_copy(path, in->log_path, sizeof(path));
	else if (path_join(path, sizeof(path), in->dir, "agent.log") < 0)
		return -1;
	if (stat(path, &sb) < 0) {
		buf_printf(manifest,
		           "agent.log: no log at %s (the agent logs to stderr: under "
		           "systemd, see journalctl -u vigil-agent)\n",
		           path);
		return 0;
	}
	fp = fopen(path, "r");
	if (fp == NULL) {
		buf_printf(manifest, "agent.log: cannot read %s: %s\n", path, strerror(errno));
		return 0;
	}
	if (sb.st_size > DIAG_MAX_LOG)
		fseeko(fp, sb.st_size - DIAG_MAX_LOG, SEEK_SET);
	data = malloc(DIAG_MAX_LOG + 1);
	if (data != NULL)
		len = fread(data, 1, DIAG_MAX_LOG, fp);
	fclose(fp);
	if (data == NULL)
		return -1;
	agent_state_init(&st, in->dir);
	if (retry_load(&st, &pa) == 1)
		str_copy(token, pa.token, sizeof(token));
	tl = strlen(token);
	/* no log line carries a secret; this makes sure */
	while (tl >= 8 && (hit = memmem(data, len, token, tl)) != NULL)
		memset(hit, '*', tl);
	ret = diag_write(tmp, "agent.log", data, len);
	if (ret == 0)
		buf_printf(manifest, "agent.log: the last %zu bytes of %s\n", len, path);
	memset(token, 0, sizeof(token));
	memset(&pa, 0, sizeof(pa));
	free(data);
	return ret;
}

static int
diag_tar(const char *parent, const char *out, char *err, size_t errsize)
{
	char tmpout[PATH_MAX];
	pid_t pid;
	int ws;

	if (snprintf(tmpout, sizeof(tmpout), "%s.tmp", out) >= (int)sizeof(tmpout)) {
		snprintf(err, errsize, "output path too long");
		return -1;
	}
	unlink(tmpout);
	pid = fork();
	if (pid < 0) {
		snprintf(err, errsize, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
		}
		umask(077);
		execlp("tar", "tar", "--owner=0", "--group=0", "-czf", tmpout, "-C", parent,
		       DIAG_NAME, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
		unlink(tmpout);
		snprintf(err, errsize, "tar failed (%s)",
		         WIFEXITED(ws) && WEXITSTATUS(ws) == 127 ? "tar is not installed"
		                                                 : "see its message above");
		return -1;
	}
	if (chmod(tmpout, 0600) < 0 || rename(tmpout, out) < 0) {
		snprintf(err, errsize, "cannot write %s: %s", out, strerror(errno));
		unlink(tmpout);
		return -1;
	}
	return 0;
}

static void
diag_rmtree(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if (path_join(path, sizeof(path), dir, de->d_name) == 0 &&
			    unlink(path) < 0 && errno == EISDIR)
				diag_rmtree(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

int
diag_package(const struct diag_input *in, char *err, size_t errsize)
{
	static const char *const state_files[] = {"agent.json", RETRY_FILE, WDSTATE_FILE};
	char parent[PATH_MAX], tmp[PATH_MAX], t[40];
	const char *base = getenv("TMPDIR");
	struct buf manifest, certs;
	struct utsname u;
	json_t *q;
	size_t i;
	int ret = -1;

	buf_init(&manifest, DIAG_MAX_FILE);
	buf_init(&certs, DIAG_MAX_FILE);
	if (snprintf(parent, sizeof(parent), "%s/vigil-diag-XXXXXX",
	             base && *base ? base : "/tmp") >= (int)sizeof(parent) ||
	    mkdtemp(parent) == NULL) {
		snprintf(err, errsize, "cannot create a temporary directory: %s", strerror(errno));
		goto out_nodir;
	}
	if (path_join(tmp, sizeof(tmp), parent, DIAG_NAME) < 0 || mkdir(tmp, 0700) < 0) {
		snprintf(err, errsize, "cannot create %s/%s", parent, DIAG_NAME);
		goto out;
	}
	fmt_time_ms(now_ms(), t, sizeof(t));
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	buf_printf(&manifest,
	           "vigil-agent %s diagnostic package, made %s on %s (%s %s %s)\n"
	           "state directory: %s\n"
	           "Secrets are never included: no identity.key, the activation token and any "
	           "other secret value replaced by REDACTED.\n\n",
	           AGENT_VERSION, t, u.nodename, u.sysname, u.release, u.machine, in->dir);
	if (diag_write_json(tmp, "status.json", diag_redact(in->status)) == 0)
		buf_puts(&manifest, "status.json: vigil-agentctl status --json\n");
	if (in->health_text != NULL &&
	    diag_write(tmp, "health.txt", in->health_text, strlen(in->health_text)) == 0)
		buf_puts(&manifest, "health.txt: vigil-agentctl health\n");
	if (in->health_json != NULL && diag_write_json(tmp, "health.json", in->health_json) == 0)
		buf_puts(&manifest, "health.json: vigil-agentctl health --json\n");
	for (i = 0; i < ARRAY_SIZE(state_files); i++)
		if (diag_state_file(in->dir, tmp, state_files[i], &manifest) < 0) {
			snprintf(err, errsize, "cannot copy %s", state_files[i]);
			goto out;
		}
	diag_cert(&certs, in->dir, "identity.crt");
	diag_cert(&certs, in->dir, "ca.crt");
	if (diag_write(tmp, "certificates.txt", certs.data ? certs.data : "", certs.len) == 0)
		buf_puts(&manifest, "certificates.txt: subject, issuer, serial and expiry of "
		                    "identity.crt and ca.crt (identity.key is never included)\n");
	q = json_pack("{s:s, s:I}", "queue", "none: this agent has no event queue yet", "depth",
	              (json_int_t)0);
	if (diag_write_json(tmp, "queue.json", q) == 0)
		buf_puts(&manifest, "queue.json: event queue statistics\n");
	json_decref(q);
	if (diag_log(in, tmp, &manifest) < 0) {
		snprintf(err, errsize, "cannot copy the agent's log");
		goto out;
	}
	if (diag_write(tmp, "MANIFEST.txt", manifest.data, manifest.len) < 0) {
		snprintf(err, errsize, "cannot write the manifest");
		goto out;
	}
	ret = diag_tar(parent, in->out_path, err, errsize);
out:
	diag_rmtree(parent);
out_nodir:
	buf_clear(&manifest);
	buf_clear(&certs);
	return ret;
}
