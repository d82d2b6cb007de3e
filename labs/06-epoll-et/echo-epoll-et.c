/*
 * echo-epoll-et.c — lab 6: one thread, edge-triggered epoll, a ready list.
 *
 * What it shows: with EPOLLET, epoll_wait() reports a socket when something
 * changes (new bytes arrived, room appeared), not for as long as a condition
 * holds.  So after an event we must read until read() says EAGAIN: bytes left in
 * the socket are not reported again until more arrive (--bug=et-no-drain shows the
 * stall).  That needs nonblocking sockets, or the read that should say EAGAIN
 * sleeps instead, and the whole server with it (--bug=et-blocking).
 *
 * Each socket is registered once, EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET, and never
 * modified: no epoll_ctl() per message, which is what ET buys.  EPOLLOUT is
 * harmless here: its edge comes only after a write found the socket full.
 *
 * Draining greedily lets one flooding peer keep the thread for as long as it keeps
 * sending (seed 001: starvation).  So reading goes through a ready list, seed 001's
 * queue of ready descriptors: each turn every connection on it reads at most
 * --budget bytes; one that is still readable goes back to the tail, and while the
 * list is not empty epoll_wait() is called with timeout 0, so new events join the
 * queue without anyone sleeping.  --budget 0 drains greedily, to see the difference.
 *
 * Usage:   echo-epoll-et [-p PORT] [-b ADDR] [-f len32|line|raw] [--budget BYTES] [--high-water BYTES] [--bug NAME]
 * Needs:   Linux (epoll); nothing special.
 * Try:     bin/echo-epoll-et -f line -p 7000      then in two terminals: nc 127.0.0.1 7000
 *          bin/echo-epoll-et -f raw -p 7000 --read-chunk 100 --bug et-no-drain
 *              then: (head -c 1000 /dev/zero; sleep 3) | timeout 2 nc 127.0.0.1 7000 | wc -c   (100, not 1000)
 * Lesson:  LESSONS.md §6
 */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/server.h"

#define MAX_EVENTS 256   /* most events one epoll_wait() returns; the rest wait for the next call */

/* Registered once per connection, never changed. */
#define ET_EVENTS (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)

static struct server srv;
static int epfd;
static size_t budget = 64 * 1024;   /* --budget: bytes read per connection per turn, 0 = drain */

static const struct bug BUGS[] = {
	{ "et-no-drain", "one read per event, not until EAGAIN: what is left is never reported again" },
	{ "et-blocking", "blocking sockets with EPOLLET: the read that should say EAGAIN sleeps" },
	{ NULL, NULL },
};

static const struct model_option OPTIONS[] = {
	OPTION_HIGH_WATER(&srv),
	{ "budget", OPTK_SIZE, &budget, "BYTES", "bytes read per connection per turn (default 64K; 0 = drain greedily)", 0, 0 },
	OPTIONS_END,
};

static const struct model MODEL = {
	.name = "epoll-et",
	.program = "echo-epoll-et",
	.wait_call = "epoll_wait",
	.summary = "edge-triggered epoll: one thread, drain until EAGAIN, a ready list with a read budget",
	.lesson = 6,
	.options = OPTIONS,
	.bugs = BUGS,
};

/* The ready list: connections that may have input we have not read, oldest first. */
static struct conn *ready_head, *ready_tail;
static size_t ready_len;

static void ready_push(struct conn *c)
{
	if (c->on_list)
		return;
	c->on_list = true;
	c->next = NULL;
	if (ready_tail)
		ready_tail->next = c;
	else
		ready_head = c;
	ready_tail = c;
	ready_len++;
}

static struct conn *ready_pop(void)
{
	struct conn *c = ready_head;

	ready_head = c->next;
	if (!ready_head)
		ready_tail = NULL;
	c->next = NULL;
	c->on_list = false;
	ready_len--;
	return c;
}

/* Accept until EAGAIN (an edge-triggered listener says nothing more about those still queued);
 * register each socket once, for everything, for its whole life: the ET way is no EPOLL_CTL_MOD. */
static void accept_clients(void)
{
	/* BUG lab 6 (et-blocking): without SOCK_NONBLOCK, "read until EAGAIN" sleeps in read(). */
	int flags = server_bug(&srv, "et-blocking") ? 0 : SOCK_NONBLOCK;
	struct epoll_event ev;
	struct conn *c;

	while ((c = conn_accept(&srv, flags)) || errno == EMFILE) {
		if (!c)
			continue;         /* out of descriptors: one client shed, the next may fit */
		ev = (struct epoll_event){ .events = ET_EVENTS, .data.fd = c->fd };
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
			die("epoll_ctl(EPOLL_CTL_ADD)");
		conn_set_interest(c, ET_EVENTS);
	}
}

/*
 * A connection from the ready list: write what waits, then read until EAGAIN, or
 * until this turn's budget is spent (then back to the tail of the list).
 */
static void serve(struct conn *c)
{
	size_t used = 0;
	ssize_t n;

	tm_conn_served(c->fd);
	if (conn_flush(c) == FLUSH_CLOSED)
		return;
	/* Back under the mark after a pause?  Then read: the bytes that came meanwhile brought
	 * their edge while we were not reading, and will bring no other. */
	conn_check_pause(c);
	while (!c->paused && !c->rd_closed) {
		if (budget && used >= budget) {
			/* Budget spent, not drained: to the tail, the others go first; we come back
			 * without waiting for an edge (there will be none for these bytes). */
			ready_push(c);
			tm_conn_ready(c->fd, EPOLLIN);
			return;
		}
		n = conn_read(c);
		if (n > 0) {
			used += (size_t)n;
			if (conn_ingest(c) < 0) {
				conn_close(c, CLOSE_PROTOCOL);
				return;
			}
			if (conn_flush(c) == FLUSH_CLOSED) /* echo as we go: output stays small */
				return;
			conn_check_pause(c);
			if (server_bug(&srv, "et-no-drain"))
				break;    /* BUG lab 6: one read per event; the rest is never reported again */
			continue;
		}
		if (n == 0)
			break;        /* half-close: echo what we have, then close */
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;        /* drained: we have seen everything; new bytes bring a new edge */
		if (errno == EINTR && !server_stop)
			continue;     /* a blocking read (--bug=et-blocking) cut short by another signal */
		conn_close(c, errno == EINTR ? CLOSE_STOPPING : errno); /* ECONNRESET: only this one */
		return;
	}
	if (conn_done(c))
		conn_close(c, CLOSE_EOF);
}

int main(int argc, char **argv)
{
	struct epoll_event events[MAX_EVENTS], ev;
	struct conn *c;
	uint32_t e;
	int n;

	server_start(&srv, &MODEL, argc, argv);
	if (server_bug(&srv, "et-blocking"))
		server_signals_anywhere(&srv);  /* a read may sleep anywhere: let SIGINT cut it short */

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	/* The listener is edge-triggered too: accept_clients() accepts until EAGAIN. */
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLET, .data.fd = srv.lfd };  /* all 64 data bits set */
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, srv.lfd, &ev) < 0)
		die("epoll_ctl(listener)");

	while (!server_stop) {
		/* Someone still has unread bytes: collect new events, but do not sleep. */
		n = epoll_pwait(epfd, events, MAX_EVENTS, ready_head ? 0 : -1, &srv.waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;     /* SIGINT/SIGTERM got in during the wait: the loop condition decides */
			die("epoll_wait");
		}
		turn_begin(n);
		/* Pass 1: everything in this batch became ready now (the wait clock starts). */
		for (int i = 0; i < n; i++)
			turn_ready(events[i].data.fd, events[i].events);
		/* Pass 2: accept at once; queue connections on the ready list. */
		for (int i = 0; i < n; i++) {
			if (events[i].data.fd == srv.lfd) {
				accept_clients();
				continue;
			}
			c = conn_table_get(&srv.conns, events[i].data.fd);
			if (!c)
				continue;
			e = events[i].events;
			/* EPOLLHUP/EPOLLERR: read() will tell what happened (0 = EOF, -1 = the error). */
			if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR) || buf_len(&c->out))
				ready_push(c);
			else
				tm_conn_served(c->fd);   /* room to write, nothing to write: every socket's first event */
		}
		/* Pass 3: one round of the list, each connection at most its budget.  Those
		 * still readable were pushed back to the tail and wait for the next round. */
		for (size_t k = ready_len; k > 0 && ready_head; k--)
			serve(ready_pop());
		turn_end();
	}

	close(epfd);
	server_finish(&srv);
	return 0;
}
