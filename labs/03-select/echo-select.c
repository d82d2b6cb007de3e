/*
 * echo-select.c — lab 3: one thread, select().
 *
 * What it shows: one thread sleeps in select() until any of its sockets is ready,
 * so an idle server uses no CPU (compare lab 2).  The price is in the interface:
 *   - the fd_sets are in/out parameters: select() overwrites them with its answer,
 *     so every turn builds them again from scratch (FD_ZERO, FD_SET...);
 *   - the answer is a count, not a list: finding who is ready means testing every
 *     descriptor up to the highest (the `scanned` counter), and the kernel tested
 *     them all too, even if only one of 1000 connections spoke;
 *   - an fd_set is a bitmap of FD_SETSIZE (1024) bits: FD_SET() on a higher
 *     descriptor writes past its end, so such a connection is refused (closed,
 *     logged, counted in `refused`), however high the descriptor limit is.
 * "Readable" may be data, EOF or an error: select() cannot tell, the read says which.
 *
 * Try:     bin/echo-select -f line -p 7000      then in two terminals: nc 127.0.0.1 7000
 *          bin/iolab-load -p 7000 -c 1100       the connections past fd 1023 are refused
 * Lesson:  LESSONS.md §3
 */
#include <errno.h>
#include <sys/epoll.h>   /* only for the mask bit values telemetry uses */
#include <sys/select.h>
#include <unistd.h>

#include "common/server.h"

static struct server srv;

static const struct model_option OPTIONS[] = {
	OPTION_HIGH_WATER(&srv),
	OPTION_TIMERS(&srv),
	OPTIONS_END,
};

static const struct model MODEL = {
	.name = "select", .program = "echo-select", .lesson = 3,
	.wait_call = "select", .options = OPTIONS,
	.summary = "select(): one thread, fd_sets rebuilt every turn, descriptors below FD_SETSIZE only",
};

/* The interest list is the two fd_sets, built again from c->interest before every wait. */
static fd_set rd, wr;
static int maxfd;

static void build_sets(void)
{
	struct conn *c;

	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(srv.lfd, &rd);
	maxfd = srv.lfd;
	for (size_t fd = 0; fd < srv.conns.n; fd++) {
		if (!(c = conn_table_get(&srv.conns, (int)fd)))
			continue;
		if (c->interest & EPOLLIN)
			FD_SET(c->fd, &rd);
		if (c->interest & EPOLLOUT)
			FD_SET(c->fd, &wr);
		if (c->fd > maxfd)
			maxfd = c->fd;
	}
}

/* Accept everyone waiting: the next turn's sets watch them, for reading. */
static void accept_clients(void)
{
	struct conn *c;

	while ((c = conn_accept(&srv, SOCK_NONBLOCK)))
		conn_set_interest(c, EPOLLIN);
	/* The backlog is empty (or we are out of descriptors): the listener will be reported again. */
}

int main(int argc, char **argv)
{
	struct timespec ts;
	struct conn *c;
	int n;

	server_start(&srv, &MODEL, argc, argv);
	srv.max_fd = FD_SETSIZE;       /* conn_accept() refuses descriptors FD_SET() cannot hold */
	srv.refuse_why = "select() can only watch descriptors below FD_SETSIZE (1024); poll and epoll have no such limit";

	while (!server_stop) {
		/* select() overwrote the sets with its last answer: build them again, every turn. */
		build_sets();
		n = pselect(maxfd + 1, &rd, &wr, NULL, server_wait_ts(&ts), &srv.waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;     /* SIGINT/SIGTERM got in during the wait: the loop condition decides */
			die("select");
		}
		/* n counts the bits set in both sets: a socket readable and writable counts twice. */
		turn_begin(n);
		/* The answer is a count: find who is ready by testing every descriptor up to maxfd. */
		tm_add(TM_SCANNED, (uint64_t)maxfd + 1);
		/* Pass 1: everything in this answer became ready now (the wait clock starts). */
		for (int fd = 0; fd <= maxfd; fd++)
			if (FD_ISSET(fd, &rd) || FD_ISSET(fd, &wr))
				turn_ready(fd, mask_from_select(FD_ISSET(fd, &rd), FD_ISSET(fd, &wr), 0));
		/* Pass 2: serve them in order; the last one waited for all the others. */
		for (int fd = 0; fd <= maxfd; fd++) {
			if (!FD_ISSET(fd, &rd) && !FD_ISSET(fd, &wr))
				continue;
			if (fd == srv.lfd) {
				accept_clients();
				continue;
			}
			if (!(c = conn_table_get(&srv.conns, fd)))
				continue;
			/* One read per report; what we leave behind, select() reports again next turn.
			 * The reply is written at once; the write set is only for what did not fit. */
			if (conn_serve(c, FD_ISSET(fd, &rd)))
				conn_set_interest(c, conn_wanted(c));  /* the next build_sets() reads it */
			/* Closed: nothing to deregister, the next sets simply leave it out. */
		}
		server_expire();   /* connections past --idle-timeout/--heartbeat */
		turn_end();
	}

	server_finish(&srv);
	return 0;
}
