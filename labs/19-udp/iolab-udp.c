/*
 * iolab-udp.c — lab 19: a UDP client for echo-udp, checking what comes back.
 *
 * Two workloads, one datagram of -s bytes each (a counter and a pattern, so a
 * cut or mixed-up echo is seen):
 *
 *   echo (default)  send one, wait for its echo (up to --wait-ms), again, for -t
 *                   seconds or -n datagrams: latency, and how many came back whole,
 *                   cut short (the server's buffer was smaller) or never (lost).
 *   --burst N       send N as fast as sendmmsg() can, reading echoes in between,
 *                   then wait --wait-ms for stragglers: how many were lost, and the
 *                   kernel's Udp RcvbufErrors (/proc/net/snmp) over the same time --
 *                   the only place a datagram dropped at a full buffer is counted.
 *
 * Every receive must return exactly one datagram: `whole` counts those of exactly
 * -s bytes, `short` those cut, and nothing is ever "half a datagram, rest later".
 *
 * Usage:  iolab-udp -p PORT [-s BYTES] [-t SECS | -n N | --burst N] [--json]
 * Lesson: LESSONS.md §19
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "common/net.h"

#define MAX_DGRAM 65507        /* the largest UDP payload over IPv4 */
#define BATCH     64           /* datagrams per sendmmsg() in a burst */

struct opts {
	const char *host;
	uint16_t    port;
	size_t      size;
	double      secs;
	long        count, burst;
	int         wait_ms;
	bool        json;
};

struct stats {
	long   sent, recv_calls, whole, cut, mixed, lost;
	long   refused;           /* ECONNREFUSED: an ICMP port unreachable came back */
	long   rcvbuf_errors;     /* burst: the kernel's count over the run; -1 unknown */
	double lat_sum_us, lat_max_us;
};

static volatile sig_atomic_t stop;
static char sbuf[MAX_DGRAM], rbuf[MAX_DGRAM + 1];

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *call)
{
	fprintf(stderr, "iolab-udp: %s: %s\n", call, strerror(errno));
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Udp: RcvbufErrors from /proc/net/snmp (this network namespace), or -1. */
static long rcvbuf_errors(void)
{
	char names[512], values[512];
	long v = -1;
	FILE *f = fopen("/proc/net/snmp", "r");

	if (!f)
		return -1;
	while (fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f)) {
		char *np, *vp, *n = strtok_r(names, " \n", &np), *x = strtok_r(values, " \n", &vp);

		if (!n || strcmp(n, "Udp:"))
			continue;
		while ((n = strtok_r(NULL, " \n", &np)) && (x = strtok_r(NULL, " \n", &vp)))
			if (!strcmp(n, "RcvbufErrors"))
				v = atol(x);
		break;
	}
	fclose(f);
	return v;
}

/* Datagram number seq: its first 8 bytes carry seq, the rest a pattern derived from it. */
static void fill(char *p, size_t n, uint64_t seq)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)('a' + (seq + i) % 26);
	memcpy(p, &seq, n < sizeof(seq) ? n : sizeof(seq));
}

/* Judge one received datagram of n bytes. */
static void judge(struct stats *st, const struct opts *o, ssize_t n)
{
	uint64_t seq = 0;

	st->recv_calls++;
	memcpy(&seq, rbuf, (size_t)n < sizeof(seq) ? (size_t)n : sizeof(seq));
	fill(sbuf, (size_t)n, seq);
	if (memcmp(sbuf, rbuf, (size_t)n))
		st->mixed++;                   /* not the start of one datagram we sent */
	else if ((size_t)n == o->size)
		st->whole++;                   /* exactly one datagram, all of it */
	else
		st->cut++;                     /* the start of one: the rest was dropped */
}

static void run_echo(int fd, const struct opts *o, struct stats *st)
{
	double t_end = now_us() + o->secs * 1e6;

	while (!stop && (o->count ? st->sent < o->count : now_us() < t_end)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double t0 = now_us(), lat;
		ssize_t n;

		fill(sbuf, o->size, (uint64_t)st->sent);
		if (send(fd, sbuf, o->size, 0) < 0) {
			if (errno == ECONNREFUSED) {
				st->refused++; /* an ICMP port unreachable for an earlier datagram */
				continue;
			}
			die("send");
		}
		st->sent++;
		if (poll(&p, 1, o->wait_ms) <= 0) {
			st->lost++;            /* no echo in time: UDP does not say why */
			continue;
		}
		if ((n = recv(fd, rbuf, sizeof(rbuf), 0)) < 0) {
			if (errno == ECONNREFUSED) {
				st->lost++;    /* nobody listens on the port */
				st->refused++;
				continue;
			}
			die("recv");
		}
		lat = now_us() - t0;
		st->lat_sum_us += lat;
		if (lat > st->lat_max_us)
			st->lat_max_us = lat;
		judge(st, o, n);
	}
}

static void drain(int fd, const struct opts *o, struct stats *st)
{
	ssize_t n;

	for (;;) {
		if ((n = recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT)) >= 0)
			judge(st, o, n);
		else if (errno == ECONNREFUSED)
			st->refused++;         /* reading the error clears it: go on draining */
		else
			break;                 /* EAGAIN: nothing more for now */
	}
}

static void run_burst(int fd, const struct opts *o, struct stats *st)
{
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	static char bufs[BATCH][MAX_DGRAM];
	long before = rcvbuf_errors();
	double t_end;

	while (!stop && st->sent < o->burst) {
		int k = (int)(o->burst - st->sent < BATCH ? o->burst - st->sent : BATCH), n;

		for (int i = 0; i < k; i++) {
			fill(bufs[i], o->size, (uint64_t)(st->sent + i));
			iov[i] = (struct iovec){ bufs[i], o->size };
			m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
		}
		if ((n = sendmmsg(fd, m, (unsigned)k, 0)) < 0) {
			if (errno == ECONNREFUSED) {
				st->refused++; /* the ICMP error of an earlier datagram, reported once */
				continue;
			}
			die("sendmmsg");
		}
		st->sent += n;
		drain(fd, o, st);              /* keep our own buffer from overflowing too */
	}
	for (t_end = now_us() + o->wait_ms * 1e3; !stop && now_us() < t_end; ) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 10) > 0)
			drain(fd, o, st);
	}
	st->lost = st->sent - st->whole - st->cut - st->mixed;
	st->rcvbuf_errors = before < 0 ? -1 : rcvbuf_errors() - before;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: iolab-udp -p PORT [options]\n\n"
		"A UDP client for echo-udp: every datagram carries a counter and a pattern, and\n"
		"each echo is judged whole, cut short, mixed up, or lost.\n\n"
		"  -H, --host ADDR     server address, IPv4/IPv6 literal (default 127.0.0.1)\n"
		"  -p, --port PORT     server port (required)\n"
		"  -s, --size BYTES    datagram payload, 8..%d (default 512)\n"
		"  -t, --time SECS     echo mode: run this long (default 3)\n"
		"  -n, --messages N    echo mode: N datagrams instead of a time\n"
		"      --burst N       send N datagrams back to back, then count what came back and\n"
		"                      the kernel's Udp RcvbufErrors over the same time\n"
		"      --wait-ms MS    echo: wait this long for each echo; burst: for stragglers\n"
		"                      (default 200)\n"
		"      --json          one JSON object on stdout\n"
		"  -h, --help          this text\n\n"
		"Calls that fail with ECONNREFUSED (an ICMP port unreachable: nothing listens on\n"
		"the port) are counted and named (\"refused\" in --json).\n\n"
		"Exit: 0 every datagram came back whole, 1 some were lost, cut or mixed, 2 bad flags.\n"
		"LESSONS.md section 19.\n", MAX_DGRAM);
}

static long number(const char *flag, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max) {
		fprintf(stderr, "iolab-udp: bad %s '%s' (%ld to %ld)\nTry 'iolab-udp --help'.\n", flag, s, min, max);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "host", required_argument, NULL, 'H' }, { "port", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 's' }, { "time", required_argument, NULL, 't' },
		{ "messages", required_argument, NULL, 'n' }, { "burst", required_argument, NULL, 'B' },
		{ "wait-ms", required_argument, NULL, 'w' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct opts o = { .host = "127.0.0.1", .size = 512, .secs = 3, .wait_ms = 200 };
	struct stats st = { .rcvbuf_errors = -1 };
	struct sockaddr_storage ss;
	struct sigaction sa = { .sa_handler = on_signal };
	socklen_t len;
	long port = -1;
	int c, fd, big = 4 << 20;

	while ((c = getopt_long(argc, argv, "H:p:s:t:n:h", lo, NULL)) != -1) {
		switch (c) {
		case 'H': o.host = optarg; break;
		case 'p': port = number("port", optarg, 1, 65535); break;
		case 's': o.size = (size_t)number("size", optarg, 8, MAX_DGRAM); break;
		case 't': o.secs = (double)number("time", optarg, 1, 3600); break;
		case 'n': o.count = number("messages", optarg, 1, 100000000); break;
		case 'B': o.burst = number("burst", optarg, 1, 10000000); break;
		case 'w': o.wait_ms = (int)number("wait-ms", optarg, 1, 60000); break;
		case 'j': o.json = true; break;
		case 'h': usage(stdout); return 0;
		default: fprintf(stderr, "Try 'iolab-udp --help'.\n"); return 2;
		}
	}
	if (optind < argc || port < 0) {
		fprintf(stderr, "iolab-udp: %s\nTry 'iolab-udp --help'.\n",
			port < 0 ? "-p PORT is required" : "unexpected argument");
		return 2;
	}
	if (!(len = net_sockaddr(o.host, (uint16_t)port, &ss))) {
		fprintf(stderr, "iolab-udp: '%s' is not an IPv4 or IPv6 literal\n", o.host);
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* connect() on UDP only fixes the peer: send() needs no address, recv() takes only its datagrams. */
	if ((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&ss, len) < 0)
		die("socket/connect");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));   /* our side should not drop */

	if (o.burst)
		run_burst(fd, &o, &st);
	else
		run_echo(fd, &o, &st);

	if (o.json)
		printf("{\"mode\":\"%s\",\"size\":%zu,\"sent\":%ld,\"recv_calls\":%ld,\"whole\":%ld,\"short\":%ld,"
		       "\"mixed\":%ld,\"lost\":%ld,\"refused\":%ld,\"lat_us_mean\":%.1f,\"lat_us_max\":%.1f,"
		       "\"rcvbuf_errors\":%ld,\"ok\":%s}\n", o.burst ? "burst" : "echo", o.size, st.sent,
		       st.recv_calls, st.whole, st.cut, st.mixed, st.lost, st.refused, st.recv_calls ? st.lat_sum_us / (double)st.recv_calls : 0,
		       st.lat_max_us, st.rcvbuf_errors, st.whole == st.sent ? "true" : "false");
	else
		printf("%s: %ld datagrams of %zu bytes sent; %ld receives: %ld whole, %ld cut short, %ld mixed up;"
		       " %ld lost%s", o.burst ? "burst" : "echo", st.sent, o.size, st.recv_calls, st.whole, st.cut,
		       st.mixed, st.lost, o.burst ? "" : "\n");
	if (!o.json && o.burst)
		printf(" (kernel Udp RcvbufErrors +%ld)\n", st.rcvbuf_errors);
	if (!o.json && st.refused)
		printf("%ld calls failed with ECONNREFUSED: an ICMP port unreachable came back, nothing listens"
		       " on port %ld\n(a connected UDP socket keeps one pending error: the ICMPs that arrive"
		       " between two calls count once)\n", st.refused, port);
	close(fd);
	return st.whole == st.sent ? 0 : 1;
}
