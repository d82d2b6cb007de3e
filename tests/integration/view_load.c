/*
 * view_load — a small, exact load client for the viewer's tests (not a benchmark:
 * bin/iolab-load is the real load generator).
 *
 * Known workload (default): CONNS connections, each sends FRAMES len32 frames of
 * SIZE payload bytes and reads every echo back (one frame in flight, so nothing
 * can deadlock), checks it byte for byte, prints
 *     done conns=C frames=F bytes=B
 * and keeps the connections open until SIGTERM/SIGINT, so that a snapshot sees
 * them.  B = C * F * (4 + SIZE): what the server's bytes_in must say.
 *
 * --slow BYTES adds one connection that sends up to BYTES and never reads: the
 * server's writes to it hit EAGAIN once the socket buffers are full.  Prints
 *     slow sent=S stuck=1
 * when sending made no progress for 300 ms (stuck=0 if BYTES went through).
 *
 * --rate R keeps CONNS connections busy with R frames per second in total
 * (round robin, ping-pong) for --time SECONDS (0 = until killed).
 *
 * Usage:  view_load -p PORT [-c CONNS] [-n FRAMES] [-s SIZE] [--slow BYTES]
 *         view_load -p PORT -c CONNS --rate R [--time SECONDS] [-s SIZE]
 * Exit: 0 done (or killed by SIGTERM/SIGINT while holding), 1 error, 2 bad flags.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/t_helpers.h"
#include "common/framing.h"
#include "common/net.h"

#define MAX_CONNS  4096
#define STUCK_MS   300        /* --slow: no progress for this long = the server stopped reading */

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "view_load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int read_all(int fd, unsigned char *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR && !stop)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* One frame out, its echo back, compared. */
static void ping(int fd, const unsigned char *frame, unsigned char *echo, size_t len)
{
	if (t_write_all(fd, frame, len) < 0)
		die("write");
	if (read_all(fd, echo, len) < 0) {
		if (stop)
			exit(0);
		die("read echo");
	}
	if (memcmp(frame, echo, len) != 0) {
		fprintf(stderr, "view_load: echo differs from what was sent\n");
		exit(1);
	}
}

static unsigned char *make_frame(size_t size, int seed)
{
	unsigned char *f = malloc(LEN32_HDR + size);

	if (!f)
		die("malloc");
	len32_put(f, (uint32_t)size);
	for (size_t i = 0; i < size; i++)
		f[LEN32_HDR + i] = (unsigned char)(i * 31 + (size_t)seed);
	return f;
}

/* Send up to `bytes` on a connection that never reads; stop when the kernel stops taking it. */
static void slow_reader(uint16_t port, size_t bytes, size_t size)
{
	unsigned char *frame = make_frame(size, 7);
	size_t sent = 0, off = 0, flen = LEN32_HDR + size;
	char err[128];
	int fd = net_connect("127.0.0.1", port, err, sizeof(err)), stuck = 0;

	if (fd < 0) {
		fprintf(stderr, "view_load: %s\n", err);
		exit(1);
	}
	net_set_nonblock(fd, true);
	while (sent < bytes && !stop) {
		ssize_t w = write(fd, frame + off, flen - off);

		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			if (poll(&p, 1, STUCK_MS) == 0) {
				stuck = 1;              /* the server's echo filled our receive buffer */
				break;
			}
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die("slow write");
		sent += (size_t)w;
		off = (off + (size_t)w) % flen;
	}
	printf("slow sent=%zu stuck=%d\n", sent, stuck);
	fflush(stdout);
	/* fd stays open, unread, until we are killed */
}

static void paced(const int *fds, int n, double rate, double seconds, size_t size)
{
	unsigned char *frame = make_frame(size, 1), *echo = malloc(LEN32_HDR + size);
	struct timespec t0, due;
	uint64_t k = 0;

	if (!echo)
		die("malloc");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop) {
		double at = (double)k / rate;

		if (seconds > 0 && at >= seconds)
			break;
		due.tv_sec = t0.tv_sec + (time_t)at;
		due.tv_nsec = t0.tv_nsec + (long)((at - (double)(time_t)at) * 1e9);
		if (due.tv_nsec >= 1000000000L) {
			due.tv_sec++;
			due.tv_nsec -= 1000000000L;
		}
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
			continue;
		ping(fds[k % (uint64_t)n], frame, echo, LEN32_HDR + size);
		k++;
	}
	free(frame);
	free(echo);
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "port", required_argument, NULL, 'p' }, { "conns", required_argument, NULL, 'c' },
		{ "frames", required_argument, NULL, 'n' }, { "size", required_argument, NULL, 's' },
		{ "slow", required_argument, NULL, 'S' }, { "rate", required_argument, NULL, 'r' },
		{ "time", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long port = 0, conns = 1, frames = 10, size = 100, slow = 0;
	double rate = 0, seconds = 0;
	static int fds[MAX_CONNS];
	struct sigaction sa;
	char err[128];
	int c;

	while ((c = getopt_long(argc, argv, "p:c:n:s:r:t:h", longs, NULL)) != -1) {
		switch (c) {
		case 'p': port = strtol(optarg, NULL, 10); break;
		case 'c': conns = strtol(optarg, NULL, 10); break;
		case 'n': frames = strtol(optarg, NULL, 10); break;
		case 's': size = strtol(optarg, NULL, 10); break;
		case 'S': slow = strtol(optarg, NULL, 10); break;
		case 'r': rate = strtod(optarg, NULL); break;
		case 't': seconds = strtod(optarg, NULL); break;
		case 'h':
			printf("usage: view_load -p PORT [-c CONNS] [-n FRAMES] [-s SIZE] [--slow BYTES]\n"
			       "       view_load -p PORT -c CONNS --rate R [--time SECONDS] [-s SIZE]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (port <= 0 || port > 65535 || conns < 1 || conns > MAX_CONNS || frames < 0 || size < 0 ||
	    size > FRAME_DEFAULT_MAX || slow < 0 || rate < 0) {
		fprintf(stderr, "view_load: bad arguments (try --help)\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (long i = 0; i < conns; i++) {
		fds[i] = net_connect("127.0.0.1", (uint16_t)port, err, sizeof(err));
		if (fds[i] < 0) {
			fprintf(stderr, "view_load: %s\n", err);
			return 1;
		}
	}
	if (rate > 0) {
		paced(fds, (int)conns, rate, seconds, (size_t)size);
	} else {
		unsigned char *frame = make_frame((size_t)size, 3), *echo = malloc(LEN32_HDR + (size_t)size);

		if (!echo)
			die("malloc");
		for (long f = 0; f < frames; f++)
			for (long i = 0; i < conns; i++)
				ping(fds[i], frame, echo, LEN32_HDR + (size_t)size);
		printf("done conns=%ld frames=%ld bytes=%ld\n", conns, conns * frames,
		       conns * frames * (LEN32_HDR + size));
		fflush(stdout);
		free(frame);
		free(echo);
		if (slow)
			slow_reader((uint16_t)port, (size_t)slow, 64 * 1024);
	}
	while (!stop && rate == 0)
		pause();                               /* hold the connections for the snapshot */
	return 0;
}
