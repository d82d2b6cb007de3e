/*
 * iolab-handover — how long a new connection waits to be served by a server that
 * hands connections from an acceptor to event-loop threads (lab 20, LESSONS.md §20).
 *
 * It connects N times, one connection at a time, with a pause before each (so the
 * server is idle and its loops are asleep), sends one line and times connect() ->
 * the echo.  Most of that time is the hand-over: the acceptor accepts and queues a
 * task for a loop; the loop must wake up to see it.  Woken by an eventfd, it sees
 * it in microseconds; left to its poll timeout (echo-reactors --no-eventfd), the
 * connection waits for whatever is left of that timeout: up to --poll-ms.
 *
 * Usage:  iolab-handover [-H ADDR] -p PORT [-n N] [--gap-ms MS] [--json]
 * Try:    bin/echo-reactors -f line -p 7000 &   bin/iolab-handover -p 7000
 *         bin/echo-reactors -f line -p 7001 --no-eventfd &   bin/iolab-handover -p 7001
 * The server must speak line framing (-f line).
 * Exit:   0 every connection was echoed, 1 one was not, 2 bad flags.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/net.h"
#include "common/telemetry.h"

#define MAX_SAMPLES 1000
#define TIMEOUT_MS  5000     /* an echo later than this is a failure, not a sample */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: iolab-handover [-H ADDR] -p PORT [-n N] [--gap-ms MS] [--json]\n"
		"\n"
		"Connects N times, one at a time, to an idle line-framed echo server, sends a line\n"
		"and times connect() -> its echo: the time a new connection waits to be served.\n"
		"Against bin/echo-reactors that is mostly the hand-over from the acceptor to a loop.\n"
		"  -H, --host ADDR   server address (default 127.0.0.1)\n"
		"  -p, --port PORT   server port (required)\n"
		"  -n, --count N     connections (default 20, at most %d)\n"
		"      --gap-ms MS   idle time before each, drawn from [MS, 2*MS] (default 30),\n"
		"                    so that the samples do not keep step with a poll timeout\n"
		"      --json        one JSON object: samples min_us p50_us p90_us max_us mean_us\n"
		"  -h, --help        this text\n"
		"Exit: 0 every connection was echoed, 1 one was not (or could not connect), 2 bad flags.\n",
		MAX_SAMPLES);
}

static long number(const char *flag, const char *s, long min, long max)
{
	long v;

	if (!cli_parse_long(s, min, max, &v)) {
		fprintf(stderr, "iolab-handover: bad %s '%s' (%ld to %ld)\nTry 'iolab-handover --help'.\n",
			flag, s, min, max);
		exit(2);
	}
	return v;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One connection: connect, send a line, wait for it to come back.  ns, or 0 on failure. */
static uint64_t one(const char *host, uint16_t port)
{
	static const char line[] = "handover\n";
	struct timeval tv = { TIMEOUT_MS / 1000, 0 };
	char got[sizeof(line)], err[256];
	size_t have = 0;
	uint64_t t0 = tm_now(), t1;
	ssize_t n;
	int fd;

	fd = net_connect(host, port, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "iolab-handover: %s\n", err);
		return 0;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (write(fd, line, sizeof(line) - 1) != (ssize_t)sizeof(line) - 1) {
		fprintf(stderr, "iolab-handover: write: %s\n", strerror(errno));
		close(fd);
		return 0;
	}
	while (have < sizeof(line) - 1) {
		n = read(fd, got + have, sizeof(line) - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "iolab-handover: no echo: %s\n",
				n == 0 ? "the server closed the connection" :
				errno == EAGAIN ? "nothing within 5 s" : strerror(errno));
			close(fd);
			return 0;
		}
		have += (size_t)n;
	}
	t1 = tm_now();
	close(fd);
	if (memcmp(got, line, sizeof(line) - 1)) {
		fprintf(stderr, "iolab-handover: the echo differs from the line sent\n");
		return 0;
	}
	return t1 > t0 ? t1 - t0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'n' },
		{ "gap-ms", required_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static uint64_t ns[MAX_SAMPLES];
	const char *host = "127.0.0.1";
	long port = -1, count = 20, gap = 30;
	bool json = false;
	uint64_t sum = 0;
	int c;

	while ((c = getopt_long(argc, argv, "H:p:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'H': host = optarg; break;
		case 'p': port = number("port", optarg, 1, 65535); break;
		case 'n': count = number("count", optarg, 1, MAX_SAMPLES); break;
		case 'g': gap = number("gap-ms", optarg, 0, 10000); break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default:  usage(stderr); return 2;
		}
	}
	if (optind < argc || port < 0) {
		fprintf(stderr, "iolab-handover: %s\nTry 'iolab-handover --help'.\n",
			port < 0 ? "-p PORT is required" : "unexpected argument");
		return 2;
	}
	srand(1);
	for (long i = 0; i < count; i++) {
		cli_sleep_ms(gap + (gap ? rand() % (gap + 1) : 0));
		if (!(ns[i] = one(host, (uint16_t)port)))
			return 1;
		sum += ns[i];
		if (!json)
			printf("connection %2ld: echoed after %8.1f us\n", i + 1, ns[i] / 1e3);
	}
	qsort(ns, (size_t)count, sizeof(ns[0]), cmp_u64);
#define US(i) (ns[(i)] / 1000.0)
	if (json)
		printf("{\"samples\":%ld,\"min_us\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,\"max_us\":%.1f,"
		       "\"mean_us\":%.1f}\n", count, US(0), US(count / 2), US(count * 9 / 10), US(count - 1),
		       sum / 1e3 / (double)count);
	else
		printf("%ld connections: min %.1f us, median %.1f us, p90 %.1f us, max %.1f us\n",
		       count, US(0), US(count / 2), US(count * 9 / 10), US(count - 1));
	return 0;
}
