/*
 * diag: "vigil-agentctl diag-package [-o FILE]", like dsa_control -d: one
 * tar.gz (mode 0600) for a support case with the agent's status and health,
 * its state files with every secret replaced by "REDACTED", the
 * certificates' subjects and expiry (never a private key), the watchdog's
 * record, queue statistics and the agent's log when there is one.  The
 * archive is made by tar(1) (fork/exec): it is on every system that runs
 * the agent, and a home-made tar and gzip writer would be more code to
 * trust than it saves.
 */
#ifndef VIGIL_DIAG_H
#define VIGIL_DIAG_H

#include <jansson.h>
#include <stddef.h>

#define DIAG_MAX_LOG (8 * 1024 * 1024) /* the log's last bytes that are kept */
#define DIAG_MAX_FILE (1024 * 1024)

struct diag_input {
	const char *dir;      /* the agent's state directory */
	const char *out_path; /* the archive to write */
	const char *log_path; /* the agent's log, or NULL */
	json_t *status;       /* status --json (the daemon's answer or from the files) */
	const char *health_text;
	json_t *health_json;
};

/*
 * 1 when a key of that name holds a secret: token, key, secret, password,
 * passwd (any case, anywhere in the name).
 */
int diag_is_secret_key(const char *name);
/* Replaces the values of secret keys in o, recursively; returns o. */
json_t *diag_redact(json_t *o);
/* Writes the archive; 0, or -1 with a message in err. */
int diag_package(const struct diag_input *in, char *err, size_t errsize);

#endif
