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

static struct server srv;
static sigset_t sigs;        /* SIG_IO, SIGIO (queue overflow), SIGINT, SIGTERM: all blocked */

static const struct bug BUGS[] = {
	{ "no-sigpipe", "keep SIGPIPE's default action: writing to a reset peer kills the server" },
	{ "sigq-no-scan", "on a queue overflow, drop the queue but do not scan: lost events stall clients" },
	{ NULL, NULL },
};

static const struct model_option OPTIONS[] = {
	OPTION_HIGH_WATER(&srv),
	OPTION_TIMERS(&srv),
	OPTIONS_END,
};

static const struct model MODEL = {
	.name = "sigio", .program = "echo-sigio", .lesson = 7,
	.wait_call = "sigwaitinfo", .options = OPTIONS, .bugs = BUGS,
	.summary = "signal-driven I/O: O_ASYNC + F_SETSIG, signals taken with sigwaitinfo",
};

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

static void serve(struct conn *c);

/* One signal may stand for several connections: accept until EAGAIN. */
static void accept_clients(void)
{
	struct conn *c;

	while ((c = conn_accept(&srv, SOCK_NONBLOCK))) {
		set_async(c->fd);
		conn_set_interest(c, EPOLLIN);
		/* Signal race: bytes that arrived before O_ASYNC raised no signal; look now. */
		serve(c);
	}
	/* Backlog empty (or out of descriptors): the next connection raises a new signal. */
}

/*
 * Edge-like: one signal may stand for many bytes, and none comes for what we
 * leave behind.  So read until EAGAIN, echoing as we go, unless paused.
 * Signals already queued for a connection closed here stay queued: dispatch()
 * finds no connection, or a new one on the same fd (which just reads EAGAIN).
 */
static void serve(struct conn *c)
{
	ssize_t n;

	tm_conn_served(c->fd);
	for (;;) {
		if (conn_flush(c) == FLUSH_CLOSED)
			return;
		if (conn_done(c)) {
			conn_close(c, CLOSE_EOF);
			return;
		}
		/* Paused: the POLL_OUT signal after the peer reads brings us back here, to resume. */
		if (conn_check_pause(c) || c->rd_closed)
			break;
		n = conn_read(c);
		if (n > 0 && conn_ingest(c) < 0) {
			conn_close(c, CLOSE_PROTOCOL);
			return;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;                /* drained: the next bytes to arrive raise a new signal */
		if (n < 0) {
			conn_close(c, errno); /* ECONNRESET: only this connection goes */
			return;
		}
		/* n == 0: half-close; the next round echoes what we have, then closes. */
	}
	/* Nothing to tell the kernel: O_ASYNC cannot be told what to report, only what we will do. */
	conn_set_interest(c, conn_wanted(c));
}

/* One queued SIG_IO: si_fd is the descriptor, si_band what happened. */
static void dispatch(const siginfo_t *si)
{
	uint32_t mask = mask_from_band(si->si_band);
	struct conn *c;

	tm_log(EV_SIGNAL, si->si_fd, mask, si->si_band);
	tm_conn_ready(si->si_fd, mask);
	if (si->si_fd == srv.lfd)
		accept_clients();
	else if ((c = conn_table_get(&srv.conns, si->si_fd)))
		serve(c);
	/* No connection: queued before it closed, nothing to do. */
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

	if (server_bug(&srv, "sigq-no-scan"))
		return;   /* BUG lab 7: the events that were never queued are lost for good */
	if (cap < srv.conns.n + 1) {
		struct pollfd *p = realloc(pfd, (srv.conns.n + 1) * sizeof(*p));

		if (!p)
			die("realloc(pollfd)");
		pfd = p;
		cap = srv.conns.n + 1;
	}
	pfd[n++] = (struct pollfd){ .fd = srv.lfd, .events = POLLIN };
	for (size_t i = 0; i < srv.conns.n; i++)
		if ((c = srv.conns.v[i]))
			pfd[n++] = (struct pollfd){ .fd = c->fd, .events = (short)conn_wanted(c) };
	/* Timeout 0: a look, not a wait (and every signal we use is blocked: no EINTR). */
	if (poll(pfd, n, 0) < 0)
		die("poll");
	tm_add(TM_SCANNED, n);
	for (size_t i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		turn_ready(pfd[i].fd, mask_from_poll(pfd[i].revents));
		if (pfd[i].fd == srv.lfd)
			accept_clients();
		else if ((c = conn_table_get(&srv.conns, pfd[i].fd)))
			serve(c);
	}
}

int main(int argc, char **argv)
{
	struct timespec ts;
	siginfo_t si;
	int n;

	server_start(&srv, &MODEL, argc, argv);

	/* Blocked, never delivered to a handler: sigwaitinfo() takes them off the queue,
	 * SIGINT/SIGTERM included, so a stop request waits in the queue like any event. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIG_IO);
	sigaddset(&sigs, SIGIO);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0)
		die("sigprocmask");
	set_async(srv.lfd);
	accept_clients();    /* signal race: clients that connected before O_ASYNC raised no signal */

	while (!server_stop) {
		n = sigtimedwait(&sigs, &si, server_wait_ts(&ts));
		if (n < 0 && errno == EAGAIN) {
			server_expire();  /* the timeout: connections past --idle-timeout/--heartbeat */
			continue;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;     /* a signal outside the set (SIGCONT after SIGSTOP): wait again */
			die("sigwaitinfo");
		}
		turn_begin(1);
		if (si.si_signo == SIGINT || si.si_signo == SIGTERM)
			server_stop = 1;  /* taken from the queue like any event: the loop condition decides */
		else if (si.si_signo == SIGIO)
			overflow_scan();
		else
			dispatch(&si);
		server_expire();
		if (!server_stop)
			turn_end();
	}

	server_finish(&srv);
	return 0;
}
