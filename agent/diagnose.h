/*
 * diagnose: vigil-agentctl diagnose, seed 003's "why is this agent
 * offline?" checklist run by the agent itself, in order:
 *   agent daemon, manager name resolution, TCP connect to the agent
 *   channel, TLS handshake against the pinned CA, own certificate (valid,
 *   not expired, not revoked), clock difference with the manager, a
 *   heartbeat round trip, and whether the manager can reach this agent on
 *   its port.
 * Each check says what it saw; the first failure also says the probable
 * cause and the fix in plain words.  The result is a JSON object that
 * vigil-agentctl prints as text or as is.
 */
#ifndef VIGIL_DIAGNOSE_H
#define VIGIL_DIAGNOSE_H

#include <jansson.h>

#define DIAG_CALLBACK_WAIT_MS 8000 /* for the manager's call to the agent port */

/*
 * daemon_status: the running agent's status object (NULL when it does
 * not answer); ask_status is called again while waiting for the manager's
 * call.  Returns the report (caller owns it); its "ok" says whether every
 * check passed.
 */
json_t *diagnose_run(const char *state_dir, json_t *daemon_status, json_t *(*ask_status)(void));
/* The report as text for a person. */
void diagnose_print(const json_t *report, FILE *fp);

#endif
