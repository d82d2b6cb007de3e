/*
 * echo-sigio.c — lab 7: signal-driven I/O, with a real-time signal as the event queue.
 *
 * What it shows: the kernel tells us which socket became ready by sending a
 * signal.  Each socket gets F_SETOWN (signal this process), F_SETSIG (send
 * SIGRTMIN instead of SIGIO) and O_ASYNC (switch it on).  A real-time signal is
 * queued once per event, and carries the descriptor (si_fd) and what happened
 * (si_band: POLL_* bits, translated with mask_from_band).  Every signal stays
 * blocked and we take them one at a time with sigwaitinfo(): no handler runs, so
 * there is no async-signal-safety to worry about — the signal queue *is* our
 * event queue, and SIGINT/SIGTERM arrive through it like everything else.
 *
 * A signal says "something happened", once: it is edge-like.  Nothing repeats it
 * for bytes we leave unread, so serve() reads until EAGAIN (compare lab 6).
 *
 * The queue is finite: RLIMIT_SIGPENDING (`ulimit -i`) signals per user.  When it
 * is full the kernel sends plain SIGIO instead, which names no descriptor: events
 * were lost.  We then drop the queued signals and fall back to one poll() over
 * every descriptor (counted as sigq_overflow, logged as an overflow event).
 *
 * A peer that sends but never reads: past --high-water bytes queued we stop
 * reading it; the POLL_OUT signal that comes when its socket drains brings us back.
 *
 * Usage:   echo-sigio [-p PORT] [-b ADDR] [-f len32|line|raw] [--high-water BYTES]
 * Needs:   Linux (F_SETSIG and si_fd are Linux-specific); nothing else special.
 * Try:     bin/echo-sigio -f line -p 7000      then in two terminals: nc 127.0.0.1 7000
 *          prlimit --sigpending=N bin/echo-sigio -p 7000   and   bin/iolab-load -p 7000 -c 50
 *          (watch sigq_overflow and scanned climb in bin/iolab-view; the limit counts every
 *          signal queued for your user, see SigQ in /proc/self/status: take N a few above it)
 * Lesson:  LESSONS.md §7
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/server.h"

#define SIG_IO SIGRTMIN   /* our "socket ready" signal: real-time, so queued one per event */

static const struct bug BUGS[] = {
	{ "no-sigpipe", "keep SIGPIPE's default action: writing to a reset peer kills the server" },
	{ NULL, NULL },
};

static const struct model MODEL = {
	.name = "sigio",
	.program = "echo-sigio",
	.wait_call = "sigwaitinfo",
	.summary = "signal-driven I/O: O_ASYNC + F_SETSIG, signals taken with sigwaitinfo",
	.lesson = 7,
	.options = OPT_HIGH_WATER,
	.bugs = BUGS,
};

static struct server srv;
static struct conn_table conns;
static sigset_t sigs;        /* SIG_IO, SIGIO (queue overflow), SIGINT, SIGTERM: all blocked */
static bool did_work;        /* this wakeup moved bytes or accepted someone */

/* What this connection would act on (the kernel signals every event regardless). */
static uint32_t wanted(const struct conn *c)
{
	uint32_t want = 0;

	if (!c->paused && !c->rd_closed)
		want |= EPOLLIN;
	if (buf_len(&c->out))
		want |= EPOLLOUT;
	return want;
}

static void update_interest(struct conn *c)
{
	uint32_t want = wanted(c);

	if (want == c->interest)
		return;
	/* No system call: O_ASYNC cannot be told what to report, only what we will do about it. */
	c->interest = want;
	tm_conn_interest(c->fd, want);
	tm_log(EV_INTEREST, c->fd, want, want);
}

/* Ask for SIG_IO on every event of fd. */
static void set_async(int fd)
{
	int fl;

	/* Owner and signal first, O_ASYNC last: the very first signal is already the queued one. */
	if (fcntl(fd, F_SETOWN, getpid()) < 0)
		die("fcntl(F_SETOWN)");
	if (fcntl(fd, F_SETSIG, SIG_IO) < 0)
		die("fcntl(F_SETSIG)");
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_ASYNC | O_NONBLOCK) < 0)
		die("fcntl(F_SETFL, O_ASYNC)");
}

static void close_conn(struct conn *c, int reason)
{
	/* Signals already queued for this fd stay queued: dispatch() finds no connection, or a new one. */
	conn_table_del(&conns, c->fd);
	conn_free(c, reason);
}

static void serve(struct conn *c);

static void accept_clients(void)
{
	struct conn *c;
	uint16_t port;
	int fd;

	/* One signal may stand for several connections: accept until EAGAIN. */
	for (;;) {
		fd = net_accept(srv.lfd, SOCK_NONBLOCK, &port);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;       /* backlog empty: the next connection raises a new signal */
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
		set_async(fd);
		c->interest = EPOLLIN;
		tm_conn_interest(fd, EPOLLIN);
		/* Signal race: bytes that arrived before O_ASYNC raised no signal; look now. */
		serve(c);
	}
}

/* Write what is queued until it is gone or the socket is full.  false: connection closed. */
static bool flush_output(struct conn *c)
{
	while (buf_len(&c->out)) {
		if (conn_write(c) > 0) {
			did_work = true;
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;      /* socket buffer full: a POLL_OUT signal comes when it drains */
		if (errno == EINTR)
			continue;         /* a signal arrived mid-call: nothing was written, try again */
		close_conn(c, errno); /* EPIPE, ECONNRESET: the peer is gone */
		return false;
	}
	return true;
}

/*
 * Edge-like: one signal may stand for many bytes, and none comes for what we
 * leave behind.  So read until EAGAIN, echoing as we go, unless paused.
 */
static void serve(struct conn *c)
{
	ssize_t n;

	tm_conn_served(c->fd);
	for (;;) {
		if (!flush_output(c))
			return;
		if (conn_done(c)) {
			close_conn(c, CLOSE_EOF);
			return;
		}
		/* Paused: the POLL_OUT signal after the peer reads brings us back here, to resume. */
		if (conn_check_pause(c) || c->rd_closed)
			break;
		n = conn_read(c);
		if (n > 0) {
			did_work = true;
			if (conn_ingest(c) < 0) {
				close_conn(c, CLOSE_PROTOCOL);
				return;
			}
		} else if (n == 0) {
			did_work = true;      /* half-close: echo what we have, then close */
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			break;                /* drained: the next bytes to arrive raise a new signal */
		} else if (errno != EINTR) {  /* EINTR: nothing was read; the loop reads again */
			close_conn(c, errno); /* ECONNRESET: only this connection goes */
			return;
		}
	}
	update_interest(c);
}

/* One queued SIG_IO: si_fd is the descriptor, si_band what happened. */
static void dispatch(const siginfo_t *si)
{
	uint32_t mask = mask_from_band(si->si_band);
	struct conn *c;

	tm_log(EV_SIGNAL, si->si_fd, mask, si->si_band);
	if (si->si_fd == srv.lfd) {
		tm_conn_ready(si->si_fd, mask);
		accept_clients();
		return;
	}
	c = conn_table_get(&conns, si->si_fd);
	if (!c)
		return;   /* queued before that connection closed: nothing to do (a reused fd just reads EAGAIN) */
	tm_conn_ready(c->fd, mask);
	serve(c);
}

/*
 * Plain SIGIO: the real-time queue was full, so some events were never queued.
 * Drop what is queued (it is all stale hints now, and the room lets new events
 * queue again), then ask poll() about every descriptor and serve what is ready.
 */
static void overflow_scan(void)
{
	static struct pollfd *pfd;
	static size_t cap;
	struct timespec zero = { 0, 0 };
	sigset_t io;
	siginfo_t si;
	size_t n = 0;
	struct conn *c;

	tm_add(TM_SIGQ_OVERFLOW, 1);
	tm_log(EV_OVERFLOW, -1, 0, 0);
	sigemptyset(&io);
	sigaddset(&io, SIG_IO);
	while (sigtimedwait(&io, &si, &zero) > 0)
		tm_add(TM_EVENTS, 1);  /* discarded: the scan below covers whatever it announced */

	if (cap < conns.n + 1) {
		struct pollfd *p = realloc(pfd, (conns.n + 1) * sizeof(*p));

		if (!p)
			die("realloc(pollfd)");
		pfd = p;
		cap = conns.n + 1;
	}
	pfd[n++] = (struct pollfd){ .fd = srv.lfd, .events = POLLIN };
	for (size_t i = 0; i < conns.n; i++)
		if ((c = conns.v[i]))
			pfd[n++] = (struct pollfd){ .fd = c->fd, .events = (short)wanted(c) };
	/* Timeout 0: a look, not a wait (and every signal we use is blocked: no EINTR). */
	if (poll(pfd, n, 0) < 0)
		die("poll");
	tm_add(TM_SCANNED, n);
	for (size_t i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		tm_conn_ready(pfd[i].fd, mask_from_poll(pfd[i].revents));
		tm_log(EV_READY, pfd[i].fd, mask_from_poll(pfd[i].revents), mask_from_poll(pfd[i].revents));
		if (pfd[i].fd == srv.lfd)
			accept_clients();
		else if ((c = conn_table_get(&conns, pfd[i].fd)))
			serve(c);
	}
}

int main(int argc, char **argv)
{
	siginfo_t si;
	int n;

	server_start(&srv, &MODEL, argc, argv, true);

	/* Blocked, never delivered to a handler: sigwaitinfo() takes them off the queue. */
	server_stop_signals(&sigs);
	sigaddset(&sigs, SIG_IO);
	sigaddset(&sigs, SIGIO);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0)
		die("sigprocmask");
	set_async(srv.lfd);
	accept_clients();    /* signal race: clients that connected before O_ASYNC raised no signal */

	while (!server_stop) {
		n = sigwaitinfo(&sigs, &si);
		tm_add(TM_WAIT_CALLS, 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;     /* a signal outside the set (SIGCONT after SIGSTOP): wait again */
			die("sigwaitinfo");
		}
		tm_add(TM_EVENTS, 1);
		did_work = false;
		if (si.si_signo == SIGINT || si.si_signo == SIGTERM)
			server_stop = 1;  /* taken from the queue like any event: the loop condition decides */
		else if (si.si_signo == SIGIO)
			overflow_scan();
		else
			dispatch(&si);
		if (!did_work && !server_stop)
			tm_add(TM_EMPTY_WAKEUPS, 1);
	}

	conn_table_free_all(&conns);
	server_finish(&srv);
	return 0;
}
