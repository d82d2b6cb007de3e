/*
 * iolab-wpath.c — lab 11: what a nonblocking write meets on its way out.
 *
 * Measures on the running kernel, over loopback TCP connections it makes itself:
 *
 *   fill   how many bytes a nonblocking send() accepts before the first EAGAIN.
 *          EAGAIN means "the send buffer is full", nothing else.  The buffer is
 *          not SO_SNDBUF's default (tcp_wmem's middle value): TCP sizes it itself
 *          (autotuning) from the path's segment size and congestion window, up to
 *          tcp_wmem's maximum -- on loopback (64 KiB segments) the maximum at once.
 *   lt     after that EAGAIN, the peer reads 64 KiB at a time; a level-triggered
 *          EPOLLOUT comes back only once enough room has opened (tcp_poll: free
 *          space at least half of what is queued), not at the first free byte.
 *   et     edge-triggered EPOLLOUT: the peer's ACKs free room, but an edge is
 *          reported only if a write hit EAGAIN first (the socket's "no space"
 *          flag); room freed after writes that all succeeded wakes nobody.
 *
 * and, with --never-read PORT, plays a peer that sends and never reads, against
 * an echo server: it reports when its writes stopped moving and whether (and when)
 * the server gave up on it (--send-timeout).
 *
 * Usage:  iolab-wpath [--json] [--hold SECS] [--no-stats]
 *         iolab-wpath --never-read PORT [--time SECS] [--json]
 * Kernel: any Linux; the figures are this kernel's.
 * Try:    bin/iolab-wpath --hold 30, then bin/iolab-view --pid PID (Events) while it holds.
 * Lesson: LESSONS.md §11
 */
#include <errno.h>
#include <getopt.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "common/errname.h"
#include "common/framing.h"
#include "common/telemetry.h"

#define CHUNK (64 * 1024)      /* bytes per send() and per peer read() */

static char chunk[CHUNK];
static volatile sig_atomic_t stop;

static void die(const char *call)
{
	fprintf(stderr, "iolab-wpath: %s: %s\n", call, strerror(errno));
	exit(1);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A connected loopback pair: *snd (nonblocking) writes, *rcv (blocking) reads. */
static void tcp_pair(int *snd, int *rcv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &al) < 0)
		die("listen");
	if ((*rcv = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(*rcv, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	if ((*snd = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
		die("accept4");
	close(l);
}

static int outq(int fd)          /* bytes in the send queue, not yet acknowledged */
{
	int n = 0;

	if (ioctl(fd, SIOCOUTQ, &n) < 0)
		die("ioctl(SIOCOUTQ)");
	return n;
}

static int sndbuf(int fd)
{
	int v = 0;
	socklen_t l = sizeof(v);

	getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &l);
	return v;
}

/* send() until EAGAIN: the bytes the kernel took.  Counted and logged in telemetry. */
static long fill(int fd)
{
	long total = 0;
	ssize_t n;

	for (;;) {
		n = send(fd, chunk, CHUNK, MSG_NOSIGNAL);
		tm_add(TM_WRITE_CALLS, 1);
		if (n < 0) {
			if (errno != EAGAIN)
				die("send");
			tm_add(TM_EAGAIN_WR, 1);    /* the send buffer is full: the only reason here */
			tm_log(EV_EAGAIN_WR, fd, 0, total);
			return total;
		}
		tm_add(TM_BYTES_OUT, (uint64_t)n);
		total += n;
	}
}

/* One read of at most CHUNK bytes by the peer; its ACK frees room on the sender. */
static long peer_read(int fd)
{
	ssize_t n = read(fd, chunk, CHUNK);

	if (n <= 0)
		die("read");
	return n;
}

/* epoll_wait(ms): 1 when fd was reported writable (counted and logged), 0 if not. */
static int wait_out(int ep, int ms)
{
	struct epoll_event ev;
	int n = epoll_wait(ep, &ev, 1, ms);

	tm_add(TM_WAIT_CALLS, 1);
	if (n < 0 && errno != EINTR)
		die("epoll_wait");
	if (n <= 0)
		return 0;
	tm_add(TM_EVENTS, 1);
	tm_log(EV_READY, ev.data.fd, ev.events, ev.events);
	return (ev.events & EPOLLOUT) != 0;
}

static int watch(int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll");
	return ep;
}

struct result {
	long wmem_max, sndbuf_before, sndbuf_after, fill;
	long lt_queued, lt_read, lt_empty_waits;     /* at the first level-triggered EPOLLOUT */
	int  et_edges_no_eagain, et_edges_after_eagain;
};

static long wmem_max(void)
{
	long a, b, c = -1;
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");

	if (f && fscanf(f, "%ld %ld %ld", &a, &b, &c) != 3)
		c = -1;
	if (f)
		fclose(f);
	return c;
}

static void run_fill_and_lt(struct result *r)
{
	int snd, rcv, ep;

	tcp_pair(&snd, &rcv);
	r->sndbuf_before = sndbuf(snd);
	r->fill = fill(snd);
	r->sndbuf_after = sndbuf(snd);
	/* Level-triggered: registered now, while full.  Not writable yet. */
	ep = watch(snd, EPOLLOUT);
	while (!wait_out(ep, 0)) {
		r->lt_empty_waits++;
		r->lt_read += peer_read(rcv);  /* each read frees room and ACKs... */
		usleep(1000);                  /* ...the ACK is processed (loopback softirq) */
	}
	r->lt_queued = outq(snd);              /* what was still queued when EPOLLOUT came */
	close(ep);
	close(snd);
	close(rcv);
}

/* Edges counted while the peer drains what is queued: one wait after each read. */
static int drain_and_count(int ep, int snd, int rcv)
{
	int edges = 0;

	while (outq(snd) > 0) {
		peer_read(rcv);
		edges += wait_out(ep, 1);
	}
	return edges + wait_out(ep, 100);
}

static void run_et(struct result *r)
{
	int snd, rcv, ep;
	long sent = 0;

	/* (a) Writes that all succeed: register, take the initial edge, write 1 MiB, drain. */
	tcp_pair(&snd, &rcv);
	ep = watch(snd, EPOLLOUT | EPOLLET);
	wait_out(ep, 100);                     /* adding a writable socket reports one edge */
	while (sent < 1024 * 1024) {
		ssize_t n = send(snd, chunk, CHUNK, MSG_NOSIGNAL);

		tm_add(TM_WRITE_CALLS, 1);
		if (n < 0)
			die("send (1 MiB must fit without EAGAIN)");
		sent += n;
	}
	r->et_edges_no_eagain = drain_and_count(ep, snd, rcv);
	close(ep);
	close(snd);
	close(rcv);

	/* (b) The same after a write hit EAGAIN. */
	tcp_pair(&snd, &rcv);
	ep = watch(snd, EPOLLOUT | EPOLLET);
	wait_out(ep, 100);
	fill(snd);
	r->et_edges_after_eagain = drain_and_count(ep, snd, rcv);
	close(ep);
	close(snd);
	close(rcv);
}

/* ------------------------------------------------------------ --never-read */

struct never {
	long   sent;
	double stuck_ms;           /* from the last write that moved to the end */
	double closed_ms;          /* from the last write that moved to the error; -1: none */
	int    err;
};

/* Send len32 frames to PORT and never read: the echo piles up until the server gives up. */
static void never_read(uint16_t port, double secs, struct never *r)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	double t_end = now_ms() + secs * 1000, last = now_ms();
	size_t off = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	len32_put((unsigned char *)chunk, CHUNK - LEN32_HDR);   /* one frame per chunk */
	r->closed_ms = -1;
	while (!stop && now_ms() < t_end) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t n;

		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			die("poll");
		if (!(p.revents & (POLLOUT | POLLERR | POLLHUP)))
			continue;          /* the server stopped reading us: our writes are stuck */
		n = send(fd, chunk + off, CHUNK - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0) {               /* ECONNRESET, EPIPE: the server closed on us */
			r->err = errno;
			r->closed_ms = now_ms() - last;
			break;
		}
		r->sent += n;
		off = (off + (size_t)n) % CHUNK;
		last = now_ms();
	}
	r->stuck_ms = now_ms() - last;
	close(fd);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: iolab-wpath [--json] [--hold SECS] [--no-stats]\n"
		"       iolab-wpath --never-read PORT [--time SECS] [--json]\n\n"
		"Measures the write path on loopback TCP: bytes a nonblocking send() takes before\n"
		"EAGAIN (fill), how much is still queued when level-triggered EPOLLOUT returns (lt),\n"
		"and edge-triggered EPOLLOUT edges with and without an EAGAIN first (et).\n\n"
		"  --json             one JSON object on stdout\n"
		"  --hold SECS        keep the telemetry published SECS seconds (bin/iolab-view)\n"
		"  --no-stats         no telemetry\n"
		"  --never-read PORT  be a client of the echo server on PORT that sends len32\n"
		"                     frames and never reads; report when the server gave up\n"
		"  --time SECS        how long --never-read keeps trying (default 10)\n"
		"  -h, --help         this text\n\n"
		"LESSONS.md section 11.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "hold", required_argument, NULL, 'H' },
		{ "no-stats", no_argument, NULL, 'n' }, { "never-read", required_argument, NULL, 'N' },
		{ "time", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, no_stats = false;
	double hold = 0, secs = 10;
	long port = -1;
	struct result r = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'n': no_stats = true; break;
		case 'H': case 't': case 'N':
			errno = 0;
			double v = strtod(optarg, &end);
			if (errno || *end || end == optarg || v < 0 || (c != 'N' && v > 3600) ||
			    (c == 'N' && (v < 1 || v > 65535 || v != (long)v))) {
				fprintf(stderr, "iolab-wpath: bad value '%s' for --%s\nTry 'iolab-wpath --help'.\n",
					optarg, c == 'H' ? "hold" : c == 't' ? "time" : "never-read");
				return 2;
			}
			if (c == 'H') hold = v; else if (c == 't') secs = v; else port = (long)v;
			break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "Try 'iolab-wpath --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iolab-wpath: unexpected argument '%s'\nTry 'iolab-wpath --help'.\n", argv[optind]);
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (port > 0) {
		struct never nv = { 0 };

		never_read((uint16_t)port, secs, &nv);
		if (json)
			printf("{\"sent\":%ld,\"stuck_ms\":%.0f,\"closed\":%s,\"closed_after_stuck_ms\":%.0f,"
			       "\"error\":\"%s\"}\n", nv.sent, nv.stuck_ms, nv.closed_ms >= 0 ? "true" : "false",
			       nv.closed_ms, errno_name(nv.err));
		else
			printf("sent %ld bytes, never read; writes stuck for the last %.0f ms; %s\n", nv.sent,
			       nv.stuck_ms, nv.closed_ms >= 0 ? "the server closed the connection" :
			       "the connection is still open");
		return 0;
	}

	if (!no_stats) {
		struct tm_info info = { .kind = TM_KIND_PROBE, .model = "wpath", .wait_call = "epoll_wait",
					.addr = "127.0.0.1", .options = "chunk=65536", .port = 0 };

		if (tm_open(&info) < 0)
			fprintf(stderr, "iolab-wpath: telemetry off: shm_open: %s\n", strerror(errno));
	}
	r.wmem_max = wmem_max();
	run_fill_and_lt(&r);
	run_et(&r);

	if (json) {
		printf("{\"wmem_max\":%ld,\"sndbuf_before\":%ld,\"sndbuf_after\":%ld,\"fill\":%ld,"
		       "\"lt_queued\":%ld,\"lt_queued_pct\":%.0f,\"lt_read\":%ld,\"lt_empty_waits\":%ld,"
		       "\"et_edges_no_eagain\":%d,\"et_edges_after_eagain\":%d}\n",
		       r.wmem_max, r.sndbuf_before, r.sndbuf_after, r.fill, r.lt_queued,
		       100.0 * r.lt_queued / r.fill, r.lt_read, r.lt_empty_waits,
		       r.et_edges_no_eagain, r.et_edges_after_eagain);
	} else {
		printf("fill: send() took %ld bytes before the first EAGAIN (SO_SNDBUF %ld -> %ld;"
		       " tcp_wmem max %ld)\n", r.fill, r.sndbuf_before, r.sndbuf_after, r.wmem_max);
		printf("lt:   level-triggered EPOLLOUT came back after the peer read %ld bytes in %ld reads;"
		       " %ld bytes (%.0f%%) were still queued\n", r.lt_read, r.lt_empty_waits, r.lt_queued,
		       100.0 * r.lt_queued / r.fill);
		printf("et:   edge-triggered EPOLLOUT edges while the peer drained: %d after writes that all"
		       " succeeded, %d after a write hit EAGAIN\n", r.et_edges_no_eagain, r.et_edges_after_eagain);
	}
	fflush(stdout);
	if (hold > 0 && !no_stats)  /* the viewer has no counters view for a probe: its events are the trace */
		fprintf(stderr, "iolab-wpath: pid %d holds its telemetry %g s: bin/iolab-view lists it as a"
			" probe (wpath); select it, Tab to Events\n", (int)getpid(), hold);
	for (double t = 0; t < hold && !stop; t += 0.1)
		usleep(100000);
	tm_close();
	return 0;
}
