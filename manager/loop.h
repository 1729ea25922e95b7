/*
 * loop: a small epoll event loop.  Level-triggered; each registered object
 * embeds a struct loop_io whose callback gets the ready events.  Timers
 * are not here: the caller passes the time until its next deadline.
 */
#ifndef VIGIL_LOOP_H
#define VIGIL_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

struct loop_io;
typedef void loop_cb(struct loop_io *io, uint32_t events);

struct loop_io {
	int fd;
	uint32_t events;
	loop_cb *cb;
};

struct loop {
	int epfd;
};

int loop_init(struct loop *l);
void loop_clear(struct loop *l);
int loop_add(struct loop *l, struct loop_io *io, uint32_t events);
int loop_mod(struct loop *l, struct loop_io *io, uint32_t events);
void loop_del(struct loop *l, struct loop_io *io);
/* Waits at most timeout_ms (-1: forever) and dispatches; -1 on error. */
int loop_run_once(struct loop *l, int timeout_ms);

#endif
