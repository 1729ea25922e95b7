/*
 * status: the status engine.  Every decision about a computer's status,
 * and the events and alerts that follow from it, is made here and nowhere
 * else: handlers report facts (a heartbeat came, a deadline passed), this
 * module decides.
 *
 * Offline rule: a computer is offline when
 *   now > last_contact + heartbeat_interval * (missed_heartbeats_allowed + 1)
 * Deadlines live in a min-heap (deadline.c); status_tick() expires only
 * what is due, and the event loop sleeps until the next deadline.
 */
#ifndef VIGIL_STATUS_H
#define VIGIL_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct mgr;
struct heartbeat_req;

/* The offline window in ms for c's policy, or -1 for "unlimited". */
int64_t status_window_ms(const struct mgr *m, const struct computer *c);
/* After loading: online computers get a full window from now. */
void status_start(struct mgr *m);
/*
 * A computer was just activated (first contact now).  It held no seat
 * before: it is new, was refused, or was deactivated.
 */
void status_activated(struct mgr *m, struct computer *c, int64_t now_wall, int64_t now_mono);
/*
 * The same when the caller took its license seat already: activations
 * take it before the group commit, so that the next activation of the
 * same batch counts it (agentsvc.c).
 */
void status_activated_seated(struct mgr *m, struct computer *c, int64_t now_wall, int64_t now_mono);
/* An authenticated heartbeat from c. */
void status_heartbeat(struct mgr *m, struct computer *c, const struct heartbeat_req *hb,
		      const char *peer_ip, int64_t now_wall, int64_t now_mono, int from_agent);
/*
 * The outcome of a call to c's agent port (contact.c): 1 ok, or 0 and why.
 * Bidirectional and online, a failure is a communications problem (742,
 * the alert); the next success ends it (743).
 */
void status_reach(struct mgr *m, struct computer *c, int ok, const char *why);
/*
 * Why c is probably quiet, in a sentence, from what the manager knows: a
 * clean shutdown notice, an expired certificate, its agent port (refused,
 * hanging, or answering while heartbeats do not come), its clock, the
 * error the agent reported at its last contact.  Shown in the offline
 * alert and as vigil.probableCause.
 */
void status_probable_cause(const struct mgr *m, const struct computer *c, char *out,
			   size_t outsize);
/* The offline alert follows what the manager learnt since (191 when the cause changed). */
void status_offline_refresh(struct mgr *m, struct computer *c);
/* The agent says it is stopping (POST /agent/v1/goodbye): a clean shutdown. */
void status_goodbye(struct mgr *m, struct computer *c, const char *why);
/*
 * "Clear warnings and errors" (event 266): ends c's alerts whose condition
 * no longer holds and the dismissible ones; names them in out.  Returns
 * how many.
 */
int status_clear_warnings(struct mgr *m, struct computer *c, const char *by, char *out,
			  size_t outsize);
/*
 * c's effective configuration changed (its policy, an ancestor, its
 * overrides): the offline deadline follows the new window at once; the
 * agent gets the configuration at its next contact (the fingerprint differs).
 */
void status_config_changed(struct mgr *m, struct computer *c);
/*
 * Deactivates c: its certificate stops working at once (heartbeats are
 * refused with 770), its deadline and offline alert go, event 708 records
 * who did it ("<by> <from>"); with tell_agent the manager also tells the
 * agent on its port at once, when the direction allows.
 */
void status_deactivate(struct mgr *m, struct computer *c, const char *by, const char *from,
		       int tell_agent);
/*
 * Deletes c (durably first; -1 and nothing changed when the database
 * cannot be written): seat, deadline and alerts go, event 251.  c is freed.
 */
int status_delete(struct mgr *m, struct computer *c, const char *by);
/*
 * A heartbeat with c's identity came from another machine (fingerprint
 * fpr): event 275 and the "Duplicate computer" alert, once per clone.
 */
void status_clone_seen(struct mgr *m, struct computer *c, const char *peer_ip, const char *fpr);
/* An activation of c was refused (no seat, expired license): event 705. */
void status_activation_failed(struct mgr *m, struct computer *c, const char *code,
			      const char *why);
/* The inventory says c's VM is stopped (1) or running (0); seats follow. */
void status_power(struct mgr *m, struct computer *c, int stopped, const char *by);
/* Expires due deadlines; returns the number of computers that went offline. */
int status_tick(struct mgr *m, int64_t now_mono);
/* The wall-clock time at which c goes offline if silent, or 0 when it cannot. */
int64_t status_deadline_wall_ms(const struct mgr *m, const struct computer *c);
/* Monotonic ms of the next deadline, or -1 when none. */
int64_t status_next_deadline(const struct mgr *m);
/* The status string shown to operators, e.g. "Managed (Online)". */
const char *status_text(const struct computer *c);
/* Deep Security's agentStatus enum: active, warning, error, inactive. */
const char *status_agent_status(const struct computer *c);

#endif
