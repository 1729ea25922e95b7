/*
 * sdnotify: systemd's service notification protocol done by hand: one
 * datagram to the Unix socket named by $NOTIFY_SOCKET (a path, or
 * "@name" for the abstract namespace).  Enough for Type=notify (READY=1,
 * STOPPING=1) and WatchdogSec= (WATCHDOG=1) without linking libsystemd.
 */
#ifndef VIGIL_SDNOTIFY_H
#define VIGIL_SDNOTIFY_H

#include <stdint.h>

/* Sends state ("READY=1", ...): 1 sent, 0 no $NOTIFY_SOCKET, -1 error. */
int sdnotify_send(const char *state);
/*
 * The watchdog period in ms from $WATCHDOG_USEC when it is meant for this
 * process ($WATCHDOG_PID absent or ours); 0 when no watchdog is asked for.
 * Ping at half of it.
 */
int64_t sdnotify_watchdog_ms(void);

#endif
