/*
 * echo-epoll-lt.c — lab 5: one thread, level-triggered epoll.
 *
 * What it shows: the interest list moves into the kernel.  Each socket is
 * registered once (epoll_ctl), and epoll_wait() hands back only the ready ones:
 * no sets to build, nothing to scan, whatever the number of idle connections.
 * Level-triggered means "tell me again": as long as a socket still has unread
 * bytes (or room to write) every epoll_wait() reports it, so reading once per
 * event is enough.  The price: a system call whenever the interest changes.
 *
 * Writing: write the echo at once; only what the socket does not take waits for
 * EPOLLOUT, dropped again as soon as the output drains.  A socket is writable
 * almost all the time, so an EPOLLOUT left registered wakes us for nothing on
 * every turn (see --bug=lt-always-pollout and the empty_wakeups counter).
 *
 * Try:     bin/echo-epoll-lt -f line -p 7000      then in two terminals: nc 127.0.0.1 7000
 *          bin/iolab-load -p 7000 -c 50           while bin/iolab-view shows it
 * Lesson:  LESSONS.md §5
 */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/server.h"

#define MAX_EVENTS 256   /* most events one epoll_wait() returns; the rest wait for the next call */

static struct server srv;

static const struct model_option OPTIONS[] = {
	OPTION_HIGH_WATER(&srv),
	OPTION_TIMERS(&srv),
	OPTIONS_END,
};

static const struct bug BUGS[] = {
	{ "lt-always-pollout", "leave EPOLLOUT registered: every wakeup reports writable, nothing to do" },
	{ "no-sigpipe", "keep SIGPIPE's default action: writing to a reset peer kills the server" },
	{ NULL, NULL },
};

static const struct model MODEL = {
	.name = "epoll-lt", .program = "echo-epoll-lt", .lesson = 5,
	.wait_call = "epoll_wait", .options = OPTIONS, .bugs = BUGS,
	.summary = "level-triggered epoll: one thread, EPOLLOUT only while output is queued",
};

/* The interest list is in the kernel: add, change and remove entries with epoll_ctl(). */
static int epfd;

static void watch(int op, int fd, uint32_t interest)
{
	/* EXERCISE BEGIN interest: the interest list: what each socket waits for */
	struct epoll_event ev = { .events = interest, .data.fd = fd };   /* all 64 data bits set */

	if (epoll_ctl(epfd, op, fd, &ev) < 0)
		die(op == EPOLL_CTL_ADD ? "epoll_ctl(EPOLL_CTL_ADD)" : "epoll_ctl(EPOLL_CTL_MOD)");
	/* EXERCISE END interest */
}

/* Accept everyone waiting: each is registered once, for EPOLLIN. */
static void accept_clients(void)
{
	struct conn *c;

	while ((c = conn_accept(&srv, SOCK_NONBLOCK))) {
		watch(EPOLL_CTL_ADD, c->fd, EPOLLIN);
		conn_set_interest(c, EPOLLIN);
	}
	/* The backlog is empty (or we are out of descriptors): the listener will be reported again. */
}

int main(int argc, char **argv)
{
	struct epoll_event events[MAX_EVENTS];
	struct conn *c;
	uint32_t want;
	int n, fd;

	server_start(&srv, &MODEL, argc, argv);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	watch(EPOLL_CTL_ADD, srv.lfd, EPOLLIN);

	while (!server_stop) {
		/* EXERCISE BEGIN loop: the wait, and serving what it reports */
		/* Only room for the answer goes in: the kernel keeps the interest list. */
		n = epoll_pwait(epfd, events, MAX_EVENTS, server_wait_ms(), &srv.waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;     /* SIGINT/SIGTERM got in during the wait: the loop condition decides */
			die("epoll_wait");
		}
		/* The answer is a list of the ready ones: nothing to scan.  Pass 1 (turn_events):
		 * everything in it became ready now (the wait clock starts). */
		turn_events(events, n);
		/* Pass 2: serve them in order; the last one waited for all the others. */
		for (int i = 0; i < n; i++) {
			fd = events[i].data.fd;
			if (fd == srv.lfd) {
				accept_clients();
				continue;
			}
			if (!(c = conn_table_get(&srv.conns, fd)))
				continue;
			/* One read per report; what we leave behind, epoll reports again next turn.
			 * The reply is written at once; EPOLLOUT is only for what did not fit. */
			if (!conn_serve(c, events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				continue;     /* closed: close() took it out of the epoll set (no dup()s exist) */
			want = conn_wanted(c);
			if (server_bug(&srv, "lt-always-pollout"))
				want |= EPOLLOUT;     /* BUG lab 5: never dropped: every turn reports "writable" */
			if (want != c->interest)  /* a system call only when the interest changes */
				watch(EPOLL_CTL_MOD, fd, want);  /* 0 is allowed: ERR and HUP still come */
			conn_set_interest(c, want);
		}
		server_expire();   /* connections past --idle-timeout/--heartbeat */
		turn_end();
		/* EXERCISE END loop */
	}

	close(epfd);
	server_finish(&srv);
	return 0;
}
