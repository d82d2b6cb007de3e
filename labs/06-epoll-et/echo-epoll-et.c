/*
 * echo-epoll-et.c — lab 6: one thread, edge-triggered epoll, a ready list.
 *
 * What it shows: with EPOLLET, epoll_wait() reports a socket when something
 * changes (new bytes arrived, room appeared), not for as long as a condition
 * holds.  So after an event we read until read() says EAGAIN: bytes left in the
 * socket are not reported again until more arrive (--bug=et-no-drain shows the
 * stall).  That needs nonblocking sockets, or the read that should say EAGAIN
 * sleeps instead, and the whole server with it (--bug=et-blocking).
 *
 * Draining greedily lets one flooding peer keep the thread for as long as it
 * keeps sending: starvation.  So reading goes through a ready list: each turn
 * every connection on it reads at most --budget bytes; one still readable goes
 * back to the tail, and while the list is not empty epoll_wait() does not sleep.
 *
 * Try:     bin/echo-epoll-et -f raw -p 7000 --read-chunk 100 --bug et-no-drain
 *              then: (head -c 1000 /dev/zero; sleep 3) | timeout 2 nc 127.0.0.1 7000 | wc -c   (100, not 1000)
 * Lesson:  LESSONS.md §6
 */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/server.h"

#define MAX_EVENTS 256   /* most events one epoll_wait() returns; the rest wait for the next call */
/* Registered once, for everything, never changed: no epoll_ctl() per message is what ET buys. */
#define ET_EVENTS  (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)

static struct server srv;
static size_t budget = 64 * 1024;   /* --budget: bytes read per connection per turn, 0 = drain */

static const struct model_option OPTIONS[] = {
	OPTION_HIGH_WATER(&srv),
	OPTION_TIMERS(&srv),
	{ "budget", OPTK_SIZE, &budget, "BYTES", "bytes read per connection per turn (default 64K; 0 = drain greedily)", 0, 0 },
	OPTIONS_END,
};

static const struct bug BUGS[] = {
	{ "et-no-drain", "one read per event, not until EAGAIN: what is left is never reported again" },
	{ "et-blocking", "blocking sockets with EPOLLET: the read that should say EAGAIN sleeps" },
	{ NULL, NULL },
};

static const struct model MODEL = {
	.name = "epoll-et", .program = "echo-epoll-et", .lesson = 6,
	.wait_call = "epoll_wait", .options = OPTIONS, .bugs = BUGS,
	.summary = "edge-triggered epoll: one thread, drain until EAGAIN, a ready list with a read budget",
};

/* The interest list is in the kernel; the ready list is ours: who may have unread bytes. */
static int epfd;
static struct conn_list ready;

static void watch(int op, int fd, uint32_t interest)
{
	struct epoll_event ev = { .events = interest, .data.fd = fd };   /* all 64 data bits set */

	if (epoll_ctl(epfd, op, fd, &ev) < 0)
		die(op == EPOLL_CTL_ADD ? "epoll_ctl(EPOLL_CTL_ADD)" : "epoll_ctl(EPOLL_CTL_MOD)");
}

/* Accept everyone waiting, until EAGAIN: the listener's edge does not come again for them. */
static void accept_clients(void)
{
	/* BUG lab 6 (et-blocking): without SOCK_NONBLOCK, "read until EAGAIN" sleeps in read(). */
	int flags = server_bug(&srv, "et-blocking") ? 0 : SOCK_NONBLOCK;
	struct conn *c;

	while ((c = conn_accept(&srv, flags)) || errno == EMFILE) {
		if (!c)
			continue;     /* out of descriptors: one client shed; the next may fit */
		watch(EPOLL_CTL_ADD, c->fd, ET_EVENTS);
		conn_set_interest(c, ET_EVENTS);
	}
}

/* A connection from the ready list: write what waits, then read until EAGAIN or the budget. */
static void serve(struct conn *c)
{
	size_t used = 0;
	ssize_t n;

	tm_conn_served(c->fd);
	/* Back under the mark after a pause?  Then read: the bytes that came meanwhile
	 * brought their edge while we were not reading, and will bring no other. */
	if (conn_flush(c) == FLUSH_CLOSED || conn_check_pause(c))
		return;
	/* EXERCISE BEGIN drain: read until EAGAIN (or the budget: back on the ready list) */
	while (!c->rd_closed) {
		if (budget && used >= budget) {
			/* Not drained: to the tail, the others first.  We come back without an edge. */
			conn_list_push(&ready, c);
			tm_conn_ready(c->fd, EPOLLIN);
			return;
		}
		n = conn_read(c);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;        /* drained: we have it all; the next bytes bring a new edge */
		if (n < 0 && errno == EINTR && !server_stop)
			continue;     /* a blocking read (--bug=et-blocking) cut short by another signal */
		if (n < 0) {
			conn_close(c, errno == EINTR ? CLOSE_STOPPING : errno);  /* ECONNRESET */
			return;
		}
		used += (size_t)n;
		if (n > 0 && conn_ingest(c) < 0) {
			conn_close(c, CLOSE_PROTOCOL);
			return;
		}
		/* Echo as we go (n == 0: half-close, echo the rest): output stays small. */
		if (!conn_serve(c, false) || c->paused)
			return;
		if (server_bug(&srv, "et-no-drain"))
			break;        /* BUG lab 6: one read per event; the rest is never reported again */
	}
	/* EXERCISE END drain */
	if (conn_done(c))
		conn_close(c, CLOSE_EOF);
}

int main(int argc, char **argv)
{
	struct epoll_event events[MAX_EVENTS];
	struct conn *c;
	int n, fd;

	server_start(&srv, &MODEL, argc, argv);
	if (server_bug(&srv, "et-blocking"))
		server_signals_anywhere(&srv);   /* a read may sleep anywhere: let SIGINT cut it short */
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	watch(EPOLL_CTL_ADD, srv.lfd, EPOLLIN | EPOLLET);

	while (!server_stop) {
		/* EXERCISE BEGIN loop: the wait, and serving what it reports */
		/* Someone on the ready list still has unread bytes: collect new events, do not sleep. */
		n = epoll_pwait(epfd, events, MAX_EVENTS, ready.head ? 0 : server_wait_ms(), &srv.waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;     /* SIGINT/SIGTERM got in during the wait: the loop condition decides */
			die("epoll_wait");
		}
		/* The answer is a list of what changed: nothing to scan.  Pass 1 (turn_events):
		 * everything in it became ready now (the wait clock starts). */
		turn_events(events, n);
		/* Pass 2: accept at once; queue connections on the ready list. */
		for (int i = 0; i < n; i++) {
			fd = events[i].data.fd;
			if (fd == srv.lfd) {
				accept_clients();
				continue;
			}
			if (!(c = conn_table_get(&srv.conns, fd)))
				continue;
			/* HUP/ERR: the read will tell (0 = EOF, -1 = the error).  A first EPOLLOUT
			 * with nothing to write (every socket gets one) needs no service. */
			if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR) || buf_len(&c->out))
				conn_list_push(&ready, c);
			else
				tm_conn_served(fd);
		}
		/* Pass 3: one round of the list, each at most its budget; those still readable
		 * went back to the tail, for the next round. */
		for (size_t k = ready.len; k > 0 && (c = conn_list_pop(&ready)); k--)
			serve(c);
		server_expire();   /* connections past --idle-timeout/--heartbeat */
		turn_end();
		/* EXERCISE END loop */
	}

	close(epfd);
	server_finish(&srv);
	return 0;
}
