/*
 * echo-nonblocking.c — lab 2: one thread, every socket O_NONBLOCK, no waiting call.
 *
 * What it shows: with O_NONBLOCK a call that would sleep returns EAGAIN at once
 * instead.  That lets one thread juggle every client, but only by asking each one,
 * over and over: anyone connecting?  anything to read?  room to write?  Each turn
 * of the loop tries accept() on the listener and read()/write() on every
 * connection, and nearly every answer is EAGAIN.  Nothing ever sleeps, so the
 * server burns a whole core with no client at all: watch spins, eagain_rd and the
 * CPU column of top.
 *
 * --sleep-us N sleeps N microseconds after a turn that found nothing to do: the
 * CPU bill drops, and a message that arrives during the nap waits for it to end.
 * Labs 3-6 get out of this trade-off with a waiting call that sleeps exactly until
 * the kernel has something for us.
 *
 * Counters: spins = turns of the loop; empty_wakeups = turns that found nothing;
 * wait_calls = usleep() calls (0 without --sleep-us); scanned = descriptors tried.
 *
 * Usage:   echo-nonblocking [-p PORT] [-b ADDR] [-f len32|line|raw] [--sleep-us N] [--high-water BYTES]
 * Needs:   nothing special.
 * Try:     bin/echo-nonblocking -f line -p 7000 &  top -p $!        100% CPU, no client at all
 *          bin/echo-nonblocking -f line -p 7000 --sleep-us 1000      ~0% CPU; nc 127.0.0.1 7000
 * Lesson:  LESSONS.md §2
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>   /* only for the mask bit values telemetry uses */
#include <unistd.h>

#include "common/server.h"

static const struct model MODEL = {
	.name = "nonblocking",
	.program = "echo-nonblocking",
	.wait_call = "none (busy loop)",
	.summary = "nonblocking busy loop: one thread tries every socket every turn, and burns a core",
	.lesson = 2,
	.options = OPT_HIGH_WATER | OPT_SLEEP_US,
	.bugs = NULL,
};

static struct server srv;
static struct conn_table conns;
static bool did_work;        /* this turn moved bytes or accepted someone */

/* What this connection should be tried for, given its buffers. */
static uint32_t wanted(const struct conn *c)
{
	uint32_t want = 0;

	if (!c->paused && !c->rd_closed)
		want |= EPOLLIN;
	if (buf_len(&c->out))
		want |= EPOLLOUT;
	return want;
}

/* Nothing to tell the kernel: the loop itself tries what c->interest says, every turn. */
static void update_interest(struct conn *c)
{
	uint32_t want = wanted(c);

	if (want == c->interest)
		return;
	c->interest = want;
	tm_conn_interest(c->fd, want);
	tm_log(EV_INTEREST, c->fd, want, want);
}

static void close_conn(struct conn *c, int reason)
{
	conn_table_del(&conns, c->fd);
	conn_free(c, reason);
}

static void accept_clients(void)
{
	struct conn *c;
	uint16_t port;
	int fd;

	for (;;) {
		fd = net_accept(srv.lfd, SOCK_NONBLOCK, &port);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;       /* nobody in the backlog: ask again next turn */
			if (errno == EINTR || errno == ECONNABORTED)
				continue;     /* a signal, or a client that gave up while queued */
			if (errno == EMFILE || errno == ENFILE) {
				/* Out of descriptors: net_accept shed one client instead of spinning. */
				tm_add(TM_ACCEPT_EMFILE, 1);
				iolog("accept: out of descriptors, one connection refused");
				return;
			}
			die("accept4");
		}
		did_work = true;
		c = conn_new(fd, port, &srv.opt);
		if (!c || conn_table_put(&conns, c) < 0) {
			iolog("fd %d: out of memory, closing", fd);
			if (c)
				conn_free(c, ENOMEM);
			else
				close(fd);
			continue;
		}
		c->interest = EPOLLIN;
		tm_conn_interest(fd, EPOLLIN);
	}
}

/* Write what is queued until it is gone or the socket is full.  false: connection closed. */
static bool flush_output(struct conn *c)
{
	while (buf_len(&c->out)) {
		if (conn_write(c) > 0) {
			did_work = true;
			continue;         /* all of it, or a short write: offer the rest */
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;      /* socket buffer full: the rest goes next turn, or the one after */
		if (errno == EINTR)
			continue;         /* a signal arrived mid-call: nothing was written, try again */
		close_conn(c, errno); /* EPIPE, ECONNRESET: the peer is gone */
		return false;
	}
	return true;
}

/* Try one connection: read if it may send, echo what is queued.  Every turn, whatever happened. */
static void serve(struct conn *c)
{
	ssize_t n;

	if (c->interest & EPOLLIN) {
		n = conn_read(c);
		if (n >= 0) {
			/* The read itself found the readiness: seen and served in the same instant. */
			tm_add(TM_EVENTS, 1);
			tm_conn_ready(c->fd, n > 0 ? EPOLLIN : EPOLLIN | EPOLLRDHUP);
			tm_log(EV_READY, c->fd, n > 0 ? EPOLLIN : EPOLLIN | EPOLLRDHUP, n);
			tm_conn_served(c->fd);
			did_work = true;      /* n == 0 is a half-close: echo what we have, then close */
		}
		if (n > 0) {
			if (conn_ingest(c) < 0) {
				close_conn(c, CLOSE_PROTOCOL);
				return;
			}
		} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			close_conn(c, errno); /* ECONNRESET: only this connection goes */
			return;
		}
		/* EAGAIN: nothing has arrived.  The answer to almost every read here; we ask again next turn. */
	}
	if (!flush_output(c))
		return;
	if (conn_done(c)) {
		close_conn(c, CLOSE_EOF);
		return;
	}
	conn_check_pause(c);
	update_interest(c);
}

int main(int argc, char **argv)
{
	struct conn *c;

	server_start(&srv, &MODEL, argc, argv, true);

	while (!server_stop) {
		tm_add(TM_SPINS, 1);
		did_work = false;
		/* No waiting call: ask the listener, then every connection, whether anything happened. */
		accept_clients();
		tm_add(TM_SCANNED, 1);
		for (size_t fd = 0; fd < conns.n; fd++) {
			c = conn_table_get(&conns, (int)fd);
			if (!c)
				continue;
			tm_add(TM_SCANNED, 1);
			serve(c);
		}
		if (did_work)
			continue;         /* something moved: there may be more, go straight on */
		tm_add(TM_EMPTY_WAKEUPS, 1);
		if (srv.opt.sleep_us) {
			/* The lab's knob: less CPU, more latency.  SIGINT cuts the nap short (EINTR). */
			usleep((useconds_t)srv.opt.sleep_us);
			tm_add(TM_WAIT_CALLS, 1);
		}
	}

	conn_table_free_all(&conns);
	server_finish(&srv);
	return 0;
}
