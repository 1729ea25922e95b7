/*
 * loop: see loop.h.
 */
#include "loop.h"

#include <errno.h>
#include <unistd.h>

#define LOOP_BATCH 256

int
loop_init(struct loop *l)
{
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -1 : 0;
}

void
loop_clear(struct loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

int
loop_add(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};

	io->events = events;
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev);
}

int
loop_mod(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};

	if (io->events == events)
		return 0;
	io->events = events;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev);
}

void
loop_del(struct loop *l, struct loop_io *io)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

int
loop_run_once(struct loop *l, int timeout_ms)
{
	struct epoll_event evs[LOOP_BATCH];
	int n, i;

	n = epoll_wait(l->epfd, evs, LOOP_BATCH, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (i = 0; i < n; i++) {
		struct loop_io *io = evs[i].data.ptr;
		io->cb(io, evs[i].events);
	}
	return n;
}
