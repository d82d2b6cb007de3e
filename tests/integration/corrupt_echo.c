/*
 * corrupt_echo — an echo server that is honest by default and broken on request,
 * for testing the load generator (the tests that use it: tests/integration/t-load-*.sh).
 * It is a helper, not a test: the suite does not run it by itself.
 *
 * One thread per connection, blocking I/O: the simplest server that is obviously
 * right when no fault is asked for.  Faults are counted per connection and apply
 * to the echo stream:
 *
 *   --corrupt-every N   flip a bit of every Nth echoed byte (stream offsets N-1, 2N-1, ...)
 *   --short-every K     cut every Kth frame short by one payload byte (len32: the length
 *                       field says so too; line: the byte before '\n' goes)
 *   --close-after B     close the connection after echoing B bytes
 *   --exit-after F      the whole process exits (status 3) when frame F arrives, unechoed
 *   --delay-every K     hold every Kth frame for --delay-us microseconds before echoing
 *   --stall-after F     once, when frame F (all connections) arrives, stall that
 *                       connection for --stall-ms milliseconds
 *
 * Usage: corrupt_echo [-p PORT] [-f len32|line|raw] [FAULTS...]
 * Prints "listening on 127.0.0.1:PORT" like every iolab server; SIGTERM/SIGINT end it (0).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/framing.h"
#include "common/net.h"

static enum framing framing = FRAMING_LEN32;
static uint64_t corrupt_every, short_every, close_after, exit_after;
static uint64_t delay_every, delay_us, stall_after, stall_ms;
static _Atomic uint64_t frames_total;       /* frames seen, all connections */

struct client {
	int      fd;
	uint64_t out;                            /* bytes echoed so far */
	uint64_t frames;                         /* frames seen so far */
};

static void sleep_us(uint64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Echo n bytes, applying --corrupt-every and --close-after.  false: stop. */
static bool send_out(struct client *c, const char *p, size_t n)
{
	char buf[65536];

	while (n > 0) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);
		if (close_after && c->out + k > close_after)
			k = (size_t)(close_after - c->out);
		memcpy(buf, p, k);
		for (size_t i = 0; corrupt_every && i < k; i++)
			if ((c->out + i + 1) % corrupt_every == 0)
				buf[i] ^= 0x04;
		for (size_t done = 0; done < k; ) {
			ssize_t w = write(c->fd, buf + done, k - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return false;
			done += (size_t)w;
		}
		c->out += k;
		p += k;
		n -= k;
		if (close_after && c->out >= close_after)
			return false;
	}
	return true;
}

/* One complete frame (or, raw, one chunk) arrived: echo it, with the faults asked for. */
static bool echo_frame(struct client *c, const char *p, size_t n)
{
	uint64_t total = atomic_fetch_add(&frames_total, 1) + 1;

	c->frames++;
	if (exit_after && total >= exit_after) {
		fprintf(stderr, "corrupt_echo: --exit-after %llu: exiting\n",
			(unsigned long long)exit_after);
		_exit(3);                            /* dies like a crash: no goodbye */
	}
	if (stall_after && total == stall_after)
		sleep_us(stall_ms * 1000);
	if (delay_every && c->frames % delay_every == 0)
		sleep_us(delay_us);
	if (short_every && c->frames % short_every == 0 && framing != FRAMING_RAW) {
		if (framing == FRAMING_LEN32 && n > LEN32_HDR) {
			unsigned char hdr[LEN32_HDR];
			len32_put(hdr, (uint32_t)(n - LEN32_HDR - 1));
			return send_out(c, (const char *)hdr, LEN32_HDR) &&
			       send_out(c, p + LEN32_HDR, n - LEN32_HDR - 1);
		}
		if (framing == FRAMING_LINE && n > 1)
			return send_out(c, p, n - 2) && send_out(c, "\n", 1);
	}
	return send_out(c, p, n);
}

static void *serve(void *arg)
{
	struct client c = { .fd = (int)(intptr_t)arg };
	struct frame_decoder d;
	size_t cap = 2 * FRAME_DEFAULT_MAX + 64, len = 0;
	char *buf = malloc(cap);

	frame_decoder_init(&d, framing, FRAME_DEFAULT_MAX);
	while (buf) {
		ssize_t n = read(c.fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;                           /* EOF or error: done with this client */
		len += (size_t)n;
		size_t off = 0, flen;
		enum frame_status st;
		bool ok = true;
		while (ok && (st = frame_next(&d, buf + off, len - off, &flen)) == FRAME_OK) {
			ok = echo_frame(&c, buf + off, flen);
			off += flen;
		}
		if (!ok || st == FRAME_ERROR)
			break;
		memmove(buf, buf + off, len - off);
		len -= off;
	}
	free(buf);
	close(c.fd);
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
	_exit(0);
}

static uint64_t num(const char *flag, const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || *end) {
		fprintf(stderr, "corrupt_echo: %s: '%s' is not a number\n", flag, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "framing", required_argument, NULL, 'f' },
		{ "corrupt-every", required_argument, NULL, 'C' },
		{ "short-every", required_argument, NULL, 'S' },
		{ "close-after", required_argument, NULL, 'X' },
		{ "exit-after", required_argument, NULL, 'E' },
		{ "delay-every", required_argument, NULL, 'D' },
		{ "delay-us", required_argument, NULL, 'U' },
		{ "stall-after", required_argument, NULL, 'A' },
		{ "stall-ms", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	uint16_t port = 0;
	int ch, f;
	char err[256];

	while ((ch = getopt_long(argc, argv, "p:f:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'p': port = (uint16_t)num("-p", optarg); break;
		case 'f':
			if ((f = framing_parse(optarg)) < 0) {
				fprintf(stderr, "corrupt_echo: -f: len32, line or raw\n");
				return 2;
			}
			framing = (enum framing)f;
			break;
		case 'C': corrupt_every = num("--corrupt-every", optarg); break;
		case 'S': short_every = num("--short-every", optarg); break;
		case 'X': close_after = num("--close-after", optarg); break;
		case 'E': exit_after = num("--exit-after", optarg); break;
		case 'D': delay_every = num("--delay-every", optarg); break;
		case 'U': delay_us = num("--delay-us", optarg); break;
		case 'A': stall_after = num("--stall-after", optarg); break;
		case 'M': stall_ms = num("--stall-ms", optarg); break;
		case 'h':
			printf("usage: corrupt_echo [-p PORT] [-f len32|line|raw] [--corrupt-every N]\n"
			       "  [--short-every K] [--close-after BYTES] [--exit-after FRAMES]\n"
			       "  [--delay-every K --delay-us US] [--stall-after FRAMES --stall-ms MS]\n");
			return 0;
		default:
			return 2;
		}
	}

	signal(SIGPIPE, SIG_IGN);                    /* a client gone: EPIPE, not death */
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	net_raise_nofile();
	net_reserve_fd();                            /* accept survives EMFILE */
	int lfd = net_listen("127.0.0.1", port, false, err, sizeof(err));
	if (lfd < 0) {
		fprintf(stderr, "corrupt_echo: %s\n", err);
		return 1;
	}
	printf("listening on 127.0.0.1:%u\n", net_local_port(lfd));
	fflush(stdout);

	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (;;) {
		int fd = net_accept(lfd, 0, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == EMFILE || errno == ECONNABORTED)
				continue;
			perror("corrupt_echo: accept");
			return 1;
		}
		net_set_nodelay(fd);                 /* like the iolab servers: no Nagle delay */
		pthread_t t;
		if (pthread_create(&t, &attr, serve, (void *)(intptr_t)fd) != 0)
			close(fd);                       /* out of threads: refuse this one */
	}
}
