/*
 * view_fake — a telemetry segment with no server behind it, for measuring and
 * testing the viewer at a scale the machine could not otherwise serve.
 *
 * It opens one segment (kind server, model --model), fills --conns connection
 * slots, and --hz times a second moves bytes on every connection, counts frames,
 * waits and EAGAINs, and leaves every 50th connection ready and unserved for a
 * while (so starvation shows).  It does no I/O at all: the figures are made up,
 * the segment is real.  Prints "ready pid=PID" when the segment exists, runs
 * until SIGTERM/SIGINT (or --time) and removes its segment on the way out.
 *
 * Usage:  view_fake [--model NAME] [--conns N] [--hz H] [--time SECONDS] [--port P]
 * Try:    for i in 1 2 3; do view_fake --conns 1000 & done; bin/iolab-view -i 100
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "common/telemetry.h"

#define FIRST_FD 5            /* fds 0..4: stdio, listener, epoll, as in a real server */

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/* One tick: every connection moved some bytes; a few are left waiting. */
static void tick(int conns, unsigned long n)
{
	uint64_t frames = 0;

	for (int i = 0; i < conns; i++) {
		int fd = FIRST_FD + i;
		uint64_t bytes = 100 + (uint64_t)((i * 7 + (int)n) % 13) * 10;

		if (i % 50 == 0 && n % 20 < 10) {
			tm_conn_ready(fd, EPOLLIN);      /* ready, not served for half a second */
			continue;
		}
		tm_conn_ready(fd, EPOLLIN);
		tm_conn_served(fd);
		tm_conn_io(fd, bytes, bytes, 1, 0, i % 10 == 0, 0);
		frames++;
	}
	tm_add(TM_FRAMES_IN, frames);
	tm_add(TM_FRAMES_OUT, frames);
	tm_add(TM_BYTES_IN, frames * 150);
	tm_add(TM_BYTES_OUT, frames * 150);
	tm_add(TM_READ_CALLS, frames * 2);
	tm_add(TM_WRITE_CALLS, frames);
	tm_add(TM_EAGAIN_RD, frames);
	tm_add(TM_WAIT_CALLS, 1);
	tm_add(TM_EVENTS, frames);
	tm_log(EV_READY, FIRST_FD, EPOLLIN, EPOLLIN);
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "model", required_argument, NULL, 'm' }, { "conns", required_argument, NULL, 'c' },
		{ "hz", required_argument, NULL, 'z' },    { "time", required_argument, NULL, 't' },
		{ "port", required_argument, NULL, 'p' },  { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tm_info info = { TM_KIND_SERVER, "fake", "epoll_wait", "127.0.0.1", "fake=1", 0 };
	long conns = 1000, hz = 10, port = 0;
	double seconds = 0;
	struct timespec ts;
	struct sigaction sa;
	unsigned long n = 0;
	int c;

	while ((c = getopt_long(argc, argv, "m:c:z:t:p:h", longs, NULL)) != -1) {
		switch (c) {
		case 'm': info.model = optarg; break;
		case 'c': conns = strtol(optarg, NULL, 10); break;
		case 'z': hz = strtol(optarg, NULL, 10); break;
		case 't': seconds = strtod(optarg, NULL); break;
		case 'p': port = strtol(optarg, NULL, 10); break;
		case 'h':
			printf("usage: view_fake [--model NAME] [--conns N] [--hz H] [--time SECONDS] [--port P]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (conns < 0 || conns > TM_NSLOTS - FIRST_FD || hz < 1 || hz > 1000 || port < 0 || port > 65535) {
		fprintf(stderr, "view_fake: bad arguments (try --help)\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	info.port = (uint16_t)(port ? port : 20000 + getpid() % 20000);
	if (tm_open(&info) < 0) {
		perror("view_fake: tm_open");
		return 1;
	}
	for (int i = 0; i < conns; i++) {
		tm_conn_open(FIRST_FD + i, (uint16_t)(40000 + i));
		tm_conn_interest(FIRST_FD + i, EPOLLIN | EPOLLRDHUP);
	}
	tm_add(TM_ACCEPTS, (uint64_t)conns);
	tm_add(TM_ACTIVE, (uint64_t)conns);
	printf("ready pid=%d\n", (int)getpid());
	fflush(stdout);

	while (!stop && (seconds <= 0 || (double)n / (double)hz < seconds)) {
		tick((int)conns, n++);
		ts.tv_sec = 0;
		ts.tv_nsec = 1000000000L / hz;
		nanosleep(&ts, NULL);
	}
	tm_close();
	return 0;
}
