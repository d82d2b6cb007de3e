/*
 * iolab-close — what closing a TCP connection does to the other side, measured.
 *
 * Each case builds a fresh connected pair on loopback (a listener on port 0,
 * connect, accept), closes one end in one way, and records what the other end's
 * next calls return.  Writes that may raise SIGPIPE run in a child process with
 * the default action, so "killed by SIGPIPE" is an observation, not a crash.
 *
 *   rst        the peer resets (SO_LINGER {1,0} + close): write 1, write 2
 *              -- also with MSG_NOSIGNAL and with SIGPIPE ignored
 *   fin        the peer closes normally (FIN): write 1, write 2 (and MSG_NOSIGNAL)
 *   read       read() after the peer's RST and after its FIN: three reads each,
 *              SIGPIPE at its default action
 *   timewait   the active closer's socket: in TIME_WAIT, and its timer (as `ss -o`)
 *   linger0    SO_LINGER {1,0} then close(): the peer's read, and no TIME_WAIT
 *   halfclose  shutdown(SHUT_WR): the peer reads 0 and can still write back
 *   closewait  N clients close; the server reads EOF and closes (or, with
 *              --bug=forget-close, never does): sockets left in CLOSE_WAIT
 *
 * --serve is a small echo server for the lab: it prints every connection and
 * every EOF, and with --forget-close never calls close() after EOF, so the
 * sockets pile up in CLOSE_WAIT (`ss -tan state close-wait`).
 *
 * Usage:  iolab-close [--json] [--clients N] [--follow] [--bug=NAME] [CASE...]
 *         iolab-close --serve [-a ADDR] [-p PORT] [--forget-close]
 * Try:    bin/iolab-close                 every case, as a table
 *         bin/iolab-close --json rst fin  the same, one JSON object (for the lab checks)
 *         bin/iolab-close --serve -p 0 --forget-close   then nc to it and Ctrl-D
 * Needs:  Linux (sock_diag netlink for TIME_WAIT/CLOSE_WAIT counts), loopback.
 * LESSONS.md §16.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/errname.h"
#include "common/diag.h"
#include "common/net.h"
#include "common/telemetry.h"

#define SETTLE_MS     1000  /* longest wait for an RST or FIN to arrive on loopback */
#define MAX_CLIENTS   1000
#define FOLLOW_MAX_S  200   /* --follow gives up after this long */

/* --bug=NAME (repeatable): a deliberate mistake, so that the lab's check can be seen to fail. */
enum { BUG_FORGET_CLOSE = 1, BUG_NO_LINGER = 2 };   /* bits: 1 << index in bug_names */
static const char *const bug_names[] = { "forget-close", "no-linger", NULL };
static unsigned bugs;
static int      nclients = 5;
static bool     follow;

/* ------------------------------------------------------------------ small helpers */

static void die(const char *what)
{
	fprintf(stderr, "iolab-close: %s: %s\n", what, strerror(errno));
	tm_close();   /* --serve: remove the telemetry segment */
	exit(1);
}

/* A connected pair on loopback: *cli connected to *srv (the accepted end). */
static void make_pair(int *cli, int *srv)
{
	char err[128];
	int lfd = net_listen("127.0.0.1", 0, false, err, sizeof(err));

	if (lfd < 0) {
		fprintf(stderr, "iolab-close: %s\n", err);
		exit(1);
	}
	*cli = net_connect("127.0.0.1", net_local_port(lfd), err, sizeof(err));
	if (*cli < 0) {
		fprintf(stderr, "iolab-close: %s\n", err);
		exit(1);
	}
	*srv = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (*srv < 0)
		die("accept4");
	close(lfd);
}

static void close_with_rst(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	/* Linger on, time 0: close() discards unsent data and sends RST instead of FIN. */
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		die("setsockopt SO_LINGER");
	close(fd);
}

/* Wait until fd shows one of `events` (or SETTLE_MS passes); returns revents. */
static short wait_for(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	if (poll(&p, 1, SETTLE_MS) < 0)
		die("poll");
	return p.revents;
}

/* ------------------------------------------------------------------ write / read after close */

/* How the writer's process treats SIGPIPE. */
enum pipe_mode { PIPE_DEFAULT, PIPE_NOSIGNAL, PIPE_IGNORE };
static const char *const pipe_mode_names[] = { "default", "MSG_NOSIGNAL", "SIG_IGN" };

struct call {
	long ret;   /* what the call returned */
	int  err;   /* errno when ret < 0 */
};

struct attempt {
	struct call c[3];  /* the calls that returned (a call that killed the process is missing) */
	int  ncalls;       /* how many returned */
	int  signal;       /* the signal that killed the child, 0 = it exited */
	int  status;       /* its exit status when it exited */
};

/*
 * In a child process: make `ncalls` calls (writes, or reads if `reading`) on fd,
 * reporting each result through a pipe before the next, so that the parent knows
 * every call that returned even when a later one kills the child.  Between two
 * writes the child waits for the peer's RST (POLLERR), so write 2 sees it.
 */
static struct attempt try_calls(int fd, enum pipe_mode mode, bool reading, int ncalls)
{
	struct attempt a = { .ncalls = 0 };
	int pfd[2], st;
	pid_t pid;

	if (pipe(pfd) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(pfd[0]);
		signal(SIGPIPE, mode == PIPE_IGNORE ? SIG_IGN : SIG_DFL);
		for (int i = 0; i < ncalls; i++) {
			struct call c;
			char b[64];

			if (i > 0 && !reading)
				wait_for(fd, POLLERR);  /* write 1 made the closed peer answer RST */
			if (reading)
				c.ret = read(fd, b, sizeof(b));
			else
				c.ret = send(fd, "x", 1, mode == PIPE_NOSIGNAL ? MSG_NOSIGNAL : 0);
			c.err = c.ret < 0 ? errno : 0;
			if (write(pfd[1], &c, sizeof(c)) != (ssize_t)sizeof(c))
				_exit(3);
		}
		_exit(0);
	}
	close(pfd[1]);
	while (a.ncalls < 3 && read(pfd[0], &a.c[a.ncalls], sizeof(a.c[0])) == (ssize_t)sizeof(a.c[0]))
		a.ncalls++;
	close(pfd[0]);
	if (waitpid(pid, &st, 0) < 0)
		die("waitpid");
	a.signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	a.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return a;
}

/* The peer of our socket goes away by RST (rst=true) or FIN; then `fn` probes our socket. */
static struct attempt after_peer_close(bool rst, enum pipe_mode mode, bool reading, int ncalls)
{
	struct attempt a;
	int us, peer;

	make_pair(&us, &peer);
	if (rst) {
		close_with_rst(peer);
		wait_for(us, POLLERR);       /* the RST has arrived: sk_err = ECONNRESET */
	} else {
		close(peer);
		wait_for(us, POLLRDHUP);     /* the FIN has arrived: we are in CLOSE_WAIT */
	}
	a = try_calls(us, mode, reading, ncalls);
	close(us);
	return a;
}

/* ------------------------------------------------------------------ output */

static bool json;
static bool first_case = true;

static void case_begin(const char *name, const char *what)
{
	if (json)
		printf("%s\"%s\":{", first_case ? "" : ",", name);
	else
		printf("\n%s -- %s\n", name, what);
	first_case = false;
}

static void case_end(void)
{
	if (json)
		printf("}");
}

static void print_call(const char *label, const struct call *c, bool reading, bool last)
{
	if (json) {
		printf("\"%s\":{\"ret\":%ld,\"errno\":%d,\"error\":\"%s\"}%s",
		       label, c->ret, c->err, errno_name(c->err), last ? "" : ",");
		return;
	}
	if (c->ret >= 0)
		printf("  %-8s returned %ld%s\n", label, c->ret,
		       reading && c->ret == 0 ? " (end of file)" : "");
	else
		printf("  %-8s -1 %s (%s)\n", label, errno_name(c->err), strerror(c->err));
}

static void print_attempt(const struct attempt *a, bool reading, int ncalls)
{
	static const char *const wl[] = { "write1", "write2", "write3" };
	static const char *const rl[] = { "read1", "read2", "read3" };

	for (int i = 0; i < a->ncalls; i++)
		print_call(reading ? rl[i] : wl[i], &a->c[i], reading, false);
	if (json) {
		printf("\"calls_returned\":%d,\"killed_by\":%d,\"killed_by_sigpipe\":%s",
		       a->ncalls, a->signal, a->signal == SIGPIPE ? "true" : "false");
		return;
	}
	if (a->signal)
		printf("  %-8s never returned: the process was killed by %s (signal %d)\n",
		       (reading ? rl : wl)[a->ncalls], sigabbrev_np(a->signal) ? sigabbrev_np(a->signal) : "?",
		       a->signal);
	else if (a->ncalls == ncalls)
		printf("  the process lived on (no signal)\n");
}

/* ------------------------------------------------------------------ the cases */

/* Two writes after the peer's RST (rst) or FIN, with SIGPIPE as each of `modes` says. */
static void two_writes(bool rst, const enum pipe_mode *modes, const char *const *names, int n)
{
	for (int i = 0; i < n; i++) {
		char what[96];
		struct attempt a = after_peer_close(rst, modes[i], false, 2);

		snprintf(what, sizeof(what), "the peer %s; two writes, SIGPIPE %s",
			 rst ? "sent RST" : "closed (FIN)", pipe_mode_names[modes[i]]);
		case_begin(names[i], what);
		print_attempt(&a, false, 2);
		case_end();
	}
}

static void case_rst(void)
{
	static const enum pipe_mode modes[] = { PIPE_DEFAULT, PIPE_NOSIGNAL, PIPE_IGNORE };
	static const char *const names[] = { "rst", "rst_nosignal", "rst_sigign" };

	two_writes(true, modes, names, 3);
}

static void case_fin(void)
{
	static const enum pipe_mode modes[] = { PIPE_DEFAULT, PIPE_NOSIGNAL };
	static const char *const names[] = { "fin", "fin_nosignal" };

	two_writes(false, modes, names, 2);
}

static void case_read(void)
{
	struct attempt a = after_peer_close(true, PIPE_DEFAULT, true, 3);

	case_begin("read_rst", "the peer sent RST; three reads, SIGPIPE at its default action");
	print_attempt(&a, true, 3);
	case_end();
	a = after_peer_close(false, PIPE_DEFAULT, true, 3);
	case_begin("read_fin", "the peer closed (FIN); three reads, SIGPIPE at its default action");
	print_attempt(&a, true, 3);
	case_end();
}

/* The active closer (the side that calls close() first) keeps its port in TIME_WAIT. */
static void case_timewait(void)
{
	struct diag_found active, passive;
	int cli, srv;
	uint16_t cport, sport;
	char b[8];
	long t0, gone_ms = -1;

	make_pair(&cli, &srv);
	cport = net_local_port(cli);
	sport = net_local_port(srv);
	close(cli);                            /* the client closes first: the active closer */
	if (read(srv, b, sizeof(b)) != 0)      /* the server sees EOF ... */
		die("read (expected end of file)");
	close(srv);                            /* ... and closes: the passive closer (LAST_ACK) */
	t0 = cli_now_ms();
	usleep(100 * 1000);                    /* let the last ACK land */
	if (diag_tcp_count(DIAG_STATE(TCP_TIME_WAIT), cport, sport, &active) < 0 ||
	    diag_tcp_count(~0u, sport, cport, &passive) < 0)
		die("sock_diag");
	if (follow) {
		struct diag_found f = active;

		if (!json)
			fprintf(stderr, "(--follow: waiting for port %u to leave TIME_WAIT, about a minute)\n", cport);
		while (f.count > 0 && cli_now_ms() - t0 < FOLLOW_MAX_S * 1000L) {
			usleep(200 * 1000);
			if (diag_tcp_count(DIAG_STATE(TCP_TIME_WAIT), cport, sport, &f) < 0)
				die("sock_diag");
		}
		gone_ms = f.count ? -1 : cli_now_ms() - t0;
	}
	case_begin("timewait", "the client closes first, then the server");
	if (json) {
		printf("\"active_port\":%u,\"time_wait\":%d,\"expires_ms\":%u,\"passive_sockets\":%d",
		       cport, active.count, active.expires_ms, passive.count);
		if (follow)
			printf(",\"lifetime_ms\":%ld", gone_ms);
	} else {
		printf("  active closer 127.0.0.1:%u: %d socket(s) in TIME_WAIT, timer %.1f s left\n",
		       cport, active.count, active.expires_ms / 1000.0);
		printf("  passive closer 127.0.0.1:%u: %d socket(s) left\n", sport, passive.count);
		/* Both ports: on a busy machine another connection may reuse this ephemeral port. */
		printf("  see it:  ss -tano state time-wait '( sport = :%u and dport = :%u )'\n", cport, sport);
		if (follow)
			printf("  TIME_WAIT lasted %.1f s\n", gone_ms / 1000.0);
	}
	case_end();
}

/* SO_LINGER {1,0}: close() sends RST, the peer's read fails, no TIME_WAIT anywhere. */
static void case_linger0(void)
{
	struct diag_found tw;
	struct call c;
	int cli, srv;
	uint16_t cport, sport;
	char b[8];

	make_pair(&cli, &srv);
	cport = net_local_port(cli);
	sport = net_local_port(srv);
	if (bugs & BUG_NO_LINGER)
		close(cli);                    /* the bug: a plain close(), FIN and TIME_WAIT */
	else
		close_with_rst(cli);
	wait_for(srv, POLLIN | POLLERR);
	c.ret = read(srv, b, sizeof(b));
	c.err = c.ret < 0 ? errno : 0;
	close(srv);
	usleep(100 * 1000);
	if (diag_tcp_count(DIAG_STATE(TCP_TIME_WAIT), cport, sport, &tw) < 0)
		die("sock_diag");
	case_begin("linger0", "the client sets SO_LINGER {1,0} and closes");
	print_call("peer_read", &c, true, false);
	if (json)
		printf("\"time_wait\":%d", tw.count);
	else
		printf("  TIME_WAIT sockets on the closer's port %u: %d\n", cport, tw.count);
	case_end();
}

/* shutdown(SHUT_WR): the peer reads end-of-file, yet its replies still arrive. */
static void case_halfclose(void)
{
	struct call peer_read, peer_write, our_read, our_eof;
	int cli, srv;
	char b[16];

	make_pair(&cli, &srv);
	if (shutdown(cli, SHUT_WR) < 0)        /* FIN: "I have nothing more to send" */
		die("shutdown");
	peer_read.ret = read(srv, b, sizeof(b));
	peer_read.err = peer_read.ret < 0 ? errno : 0;
	peer_write.ret = write(srv, "reply", 5);   /* the other direction is still open */
	peer_write.err = peer_write.ret < 0 ? errno : 0;
	our_read.ret = read(cli, b, sizeof(b));
	our_read.err = our_read.ret < 0 ? errno : 0;
	close(srv);
	our_eof.ret = read(cli, b, sizeof(b));
	our_eof.err = our_eof.ret < 0 ? errno : 0;
	close(cli);
	case_begin("halfclose", "the client calls shutdown(SHUT_WR), the server answers");
	print_call("peer_read", &peer_read, true, false);
	print_call("peer_write", &peer_write, false, false);
	print_call("our_read", &our_read, true, false);
	print_call("our_eof", &our_eof, true, true);
	case_end();
}

/* N clients close; the server reads EOF and closes -- unless it forgets. */
static void case_closewait(void)
{
	struct diag_found cw, fw2;
	int cfd[MAX_CLIENTS], sfd[MAX_CLIENTS];
	char err[128], b[8];
	int lfd = net_listen("127.0.0.1", 0, false, err, sizeof(err));
	uint16_t port;

	if (lfd < 0) {
		fprintf(stderr, "iolab-close: %s\n", err);
		exit(1);
	}
	port = net_local_port(lfd);
	for (int i = 0; i < nclients; i++) {
		cfd[i] = net_connect("127.0.0.1", port, err, sizeof(err));
		if (cfd[i] < 0) {
			fprintf(stderr, "iolab-close: %s\n", err);
			exit(1);
		}
		sfd[i] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (sfd[i] < 0)
			die("accept4");
	}
	for (int i = 0; i < nclients; i++)
		close(cfd[i]);                       /* every client leaves (FIN) */
	for (int i = 0; i < nclients; i++) {
		if (read(sfd[i], b, sizeof(b)) != 0)  /* the server sees end of file ... */
			die("read (expected end of file)");
		if (!(bugs & BUG_FORGET_CLOSE))
			close(sfd[i]);               /* ... and closes: FIN back, LAST_ACK, gone */
		/* (the bug: no close(): the socket stays in CLOSE_WAIT as long as the fd lives) */
	}
	usleep(100 * 1000);
	if (diag_tcp_count(DIAG_STATE(TCP_CLOSE_WAIT), port, 0, &cw) < 0 ||
	    diag_tcp_count(DIAG_STATE(TCP_FIN_WAIT2), 0, port, &fw2) < 0)
		die("sock_diag");
	case_begin("closewait", bugs & BUG_FORGET_CLOSE ? "clients close; the server forgets close()"
							: "clients close; the server reads EOF and closes");
	if (json)
		printf("\"clients\":%d,\"close_wait\":%d,\"fin_wait2\":%d,\"forgot_close\":%s",
		       nclients, cw.count, fw2.count, bugs & BUG_FORGET_CLOSE ? "true" : "false");
	else {
		printf("  server port %u: %d of %d sockets in CLOSE_WAIT; clients in FIN_WAIT2: %d\n",
		       port, cw.count, nclients, fw2.count);
		if (cw.count)                        /* this program closes them next: ss would find none */
			printf("  (they last until this program closes them, which it does now: to look at\n"
			       "   CLOSE_WAIT with ss, use the server of make lab-16)\n");
	}
	case_end();
	if (bugs & BUG_FORGET_CLOSE)
		for (int i = 0; i < nclients; i++)
			close(sfd[i]);
	close(lfd);
}

/* ------------------------------------------------------------------ --serve */

static volatile sig_atomic_t stop;
static void on_signal(int sig) { stop = sig; }

#define SERVE_MAX 256

static int serve(const char *addr, uint16_t port, bool forget)
{
	struct pollfd p[SERVE_MAX + 1];
	int nfd = 1, forgotten = 0;
	char err[160];
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	net_ignore_sigpipe();
	p[0].fd = net_listen(addr, port, false, err, sizeof(err));
	if (p[0].fd < 0) {
		fprintf(stderr, "iolab-close: %s\n", err);
		return 1;
	}
	p[0].events = POLLIN;
	{
		/* Telemetry: bin/iolab-view shows accepts, closes and the connections left open. */
		struct tm_info info = { TM_KIND_SERVER, forget ? "close-forget" : "close", "poll", addr,
					forget ? "--forget-close" : "", net_local_port(p[0].fd) };

		if (tm_open(&info) < 0)
			fprintf(stderr, "iolab-close: telemetry off: shm_open: %s\n", strerror(errno));
	}
	printf("listening on %s:%u\n", addr, net_local_port(p[0].fd));
	fprintf(stderr, "iolab-close --serve: echo server%s; pid %d\n",
		forget ? " that FORGETS close() after end of file (CLOSE_WAIT bug)" : "", (int)getpid());
	fflush(stdout);
	while (!stop) {
		int n = poll(p, nfd, -1);

		tm_add(TM_WAIT_CALLS, 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;  /* SIGTERM/SIGINT: the loop test sees stop */
			die("poll");
		}
		if ((p[0].revents & POLLIN) && nfd <= SERVE_MAX) {
			uint16_t pp = 0;
			int fd = net_accept(p[0].fd, 0, &pp);

			if (fd >= 0) {
				p[nfd].fd = fd;
				p[nfd].events = POLLIN;
				p[nfd].revents = 0;
				nfd++;
				tm_add(TM_ACCEPTS, 1);
				tm_add(TM_ACTIVE, 1);
				tm_conn_open(fd, pp);
				tm_log(EV_ACCEPT, fd, 0, pp);
				fprintf(stderr, "fd %d: connection from port %u\n", fd, pp);
			}
		}
		for (int i = 1; i < nfd; i++) {
			char b[4096];
			ssize_t r;

			if (!(p[i].revents & (POLLIN | POLLERR | POLLHUP)))
				continue;
			r = read(p[i].fd, b, sizeof(b));
			tm_add(TM_READ_CALLS, 1);
			if (r > 0) {
				tm_add(TM_BYTES_IN, (uint64_t)r);
				if (write(p[i].fd, b, r) < 0)
					fprintf(stderr, "fd %d: write: %s\n", p[i].fd, strerror(errno));
				else
					tm_add(TM_BYTES_OUT, (uint64_t)r);
				tm_conn_io(p[i].fd, (uint64_t)r, (uint64_t)r, 0, 0, 0, 0);
				continue;
			}
			if (forget) {
				/* The bug: the peer is gone, we stop watching the fd but never close it. */
				fprintf(stderr, "fd %d: end of file -- and no close(): CLOSE_WAIT until this process exits (%d so far)\n",
					p[i].fd, ++forgotten);
				tm_conn_state(p[i].fd, CONN_DRAINING);   /* peer gone, still "active" here */
			} else {
				fprintf(stderr, "fd %d: %s -- close()\n", p[i].fd, r == 0 ? "end of file" : strerror(errno));
				tm_log(EV_CLOSE, p[i].fd, 0, r == 0 ? 0 : errno);
				tm_conn_close(p[i].fd);
				tm_add(TM_CLOSES, 1);
				tm_sub(TM_ACTIVE, 1);
				close(p[i].fd);
			}
			p[i--] = p[--nfd];
		}
	}
	fprintf(stderr, "iolab-close --serve: %s, exiting\n", stop == SIGINT ? "SIGINT" : "SIGTERM");
	tm_close();
	return 0;  /* exit() closes every descriptor, forgotten ones too */
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: iolab-close [--json] [--clients N] [--follow] [--bug=NAME] [CASE...]\n"
		"       iolab-close --serve [-a ADDR] [-p PORT] [--forget-close]\n"
		"\n"
		"Closes a loopback TCP connection in each way and shows what the other end's next\n"
		"calls return.  Cases (default: all):\n"
		"  rst        the peer resets: write 1, write 2 (default SIGPIPE, MSG_NOSIGNAL, SIG_IGN)\n"
		"  fin        the peer closes with FIN: write 1, write 2 (default, MSG_NOSIGNAL)\n"
		"  read       read() after RST and after FIN, SIGPIPE at its default action\n"
		"  timewait   the active closer's socket in TIME_WAIT and its timer\n"
		"  linger0    SO_LINGER {1,0} + close(): RST, and no TIME_WAIT\n"
		"  halfclose  shutdown(SHUT_WR): the peer reads 0 and can still answer\n"
		"  closewait  --clients N clients close; sockets the server leaves in CLOSE_WAIT\n"
		"\n"
		"Options:\n"
		"  --json          one JSON object (case -> results) on stdout\n"
		"  --clients N     closewait: how many clients (1..%d, default 5)\n"
		"  --follow        timewait: wait until TIME_WAIT ends and report its lifetime (~60 s)\n"
		"  --bug=NAME      forget-close (closewait never closes), no-linger (linger0 closes plainly);\n"
		"                  repeatable\n"
		"  --serve         run an echo server (prints 'listening on ADDR:PORT') until SIGINT/SIGTERM\n"
		"  -a ADDR         --serve: address (default 127.0.0.1)\n"
		"  -p PORT         --serve: port (default 0: a free one)\n"
		"  --forget-close  --serve: never close() a connection after its end of file\n"
		"  -h, --help      this text\n"
		"Exit: 0 done, 1 a system call failed, 2 usage.  LESSONS.md section 16.\n",
		MAX_CLIENTS);
}

static int parse_int(const char *opt, const char *s, long lo, long hi)
{
	long v;

	if (!cli_parse_long(s, lo, hi, &v)) {
		fprintf(stderr, "iolab-close: %s: '%s' is not a number from %ld to %ld (try --help)\n", opt, s, lo, hi);
		exit(2);
	}
	return (int)v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "clients", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'F' },
		{ "bug", required_argument, NULL, 'B' },
		{ "serve", no_argument, NULL, 'S' },
		{ "forget-close", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct cli_case cases[] = {
		{ "rst", case_rst },           { "fin", case_fin },
		{ "read", case_read },         { "timewait", case_timewait },
		{ "linger0", case_linger0 },   { "halfclose", case_halfclose },
		{ "closewait", case_closewait },
	};
	const size_t ncases = sizeof(cases) / sizeof(cases[0]);
	bool want[sizeof(cases) / sizeof(cases[0])] = { false }, any = false, do_serve = false, forget = false;
	const char *addr = "127.0.0.1";
	uint16_t port = 0;
	int c;

	while ((c = getopt_long(argc, argv, "ha:p:", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'n': nclients = parse_int("--clients", optarg, 1, MAX_CLIENTS); break;
		case 'F': follow = true; break;
		case 'S': do_serve = true; break;
		case 'f': forget = true; break;
		case 'a': addr = optarg; break;
		case 'p': port = (uint16_t)parse_int("-p", optarg, 0, 65535); break;
		case 'B':
			if (cli_name_index(bug_names, optarg) < 0) {
				fprintf(stderr, "iolab-close: --bug: unknown bug '%s' (forget-close, no-linger)\n", optarg);
				return 2;
			}
			bugs |= 1u << cli_name_index(bug_names, optarg);
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (do_serve) {
		if (optind < argc) {
			fprintf(stderr, "iolab-close: --serve takes no cases ('%s')\n", argv[optind]);
			return 2;
		}
		return serve(addr, port, forget || (bugs & BUG_FORGET_CLOSE));
	}
	c = cli_pick_cases(cases, ncases, argc, argv, optind, want, &any);
	if (c >= 0) {
		fprintf(stderr, "iolab-close: unknown case '%s' (rst fin read timewait linger0 halfclose closewait)\n",
			argv[c]);
		return 2;
	}
	if (json)
		printf("{\"forget_close\":%s,\"no_linger\":%s,", bugs & BUG_FORGET_CLOSE ? "true" : "false",
		       bugs & BUG_NO_LINGER ? "true" : "false");
	else
		printf("iolab-close: kernel behaviour on close (pid %d)%s%s\n", (int)getpid(),
		       bugs & BUG_FORGET_CLOSE ? ", --bug=forget-close" : "",
		       bugs & BUG_NO_LINGER ? ", --bug=no-linger" : "");
	fflush(stdout);   /* the children of fork() must not print it again */
	for (size_t k = 0; k < ncases; k++) {
		if (any && !want[k])
			continue;
		cases[k].run();
		fflush(stdout);
	}
	if (json)
		printf("}\n");
	return 0;
}
