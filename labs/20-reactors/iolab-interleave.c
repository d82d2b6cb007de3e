/*
 * iolab-interleave — two threads write() to one TCP socket at once: what does the
 * reader get?  (lab 20, LESSONS.md §20: why a connection belongs to one loop)
 *
 * Thread a writes SIZE bytes of "abc...z" in ONE write() call; thread b writes
 * SIZE bytes of "ABC...Z" in one write() call, on the same socket, at the same
 * time.  The reader at the other end tells the two apart by case and reports the
 * runs: how many bytes of one writer came before the other's took over.
 *
 * What happens on Linux: a write() on a TCP socket copies its bytes into the send
 * buffer while holding the socket's lock.  When the buffer is full it waits for
 * room -- and lets go of the lock while it waits.  The other thread's write() takes
 * the lock and appends ITS bytes after what is there.  So one write() call's bytes
 * are split wherever the buffer filled, and the two writers' bytes arrive in
 * interleaved chunks.  Each writer's own bytes stay in order and none is lost;
 * what breaks is the boundary of a message, which a reader can no longer find.
 * (A write that fits in the free buffer space is copied whole, under the lock.)
 *
 * Usage:  iolab-interleave [--size BYTES] [--threads 1|2] [--json]
 * Exit:   0 all bytes arrived, each writer's in order; 1 otherwise; 2 bad flags.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/net.h"

#define DEFAULT_SIZE (8u << 20)    /* 8 MiB: more than a loopback socket's send buffer holds */
#define SHOW_RUNS    12            /* runs printed in the human output */

struct writer {
	int         fd;
	char        first;             /* 'a' or 'A' */
	size_t      size;
	pthread_barrier_t *go;
	ssize_t     wrote;             /* what the one write() call returned */
	int         err;
};

static void *write_once(void *arg)
{
	struct writer *w = arg;
	char *p = malloc(w->size);

	if (!p) {
		w->err = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < w->size; i++)
		p[i] = (char)(w->first + i % 26);
	pthread_barrier_wait(w->go);   /* both threads start their write() together (1 thread: no wait) */
	/* ONE call: a blocking socket takes all of it before returning (or fails). */
	w->wrote = write(w->fd, p, w->size);
	w->err = w->wrote < 0 ? errno : 0;
	free(p);
	return NULL;
}

/* --threads 1: one thread does both writes, one after the other. */
static void *write_both(void *arg)
{
	struct writer *w = arg;

	write_once(&w[0]);
	write_once(&w[1]);
	return NULL;
}

static size_t parse_size(const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	if (errno || end == s || *end || *s == '-' || v == 0 || v > (256ull << 20)) {
		fprintf(stderr, "iolab-interleave: bad --size '%s' (1 to 256M, K/M suffixes)\n"
			"Try 'iolab-interleave --help'.\n", s);
		exit(2);
	}
	return (size_t)v;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: iolab-interleave [--size BYTES] [--threads 1|2] [--json]\n"
		"\n"
		"Two threads each write() SIZE bytes to one TCP socket (loopback) at the same time,\n"
		"in one call each: a-z from one, A-Z from the other.  The reader reports the runs\n"
		"(how the two writers' bytes alternate) and checks nothing was lost or reordered.\n"
		"  --size BYTES  bytes per write() call (default 8M; K/M suffixes)\n"
		"  --threads N   2 (default): the race; 1: one writer does both writes, one after\n"
		"                the other (what one owning loop per connection gives)\n"
		"  --json        one JSON object: size writers bytes_a bytes_b runs split_writes\n"
		"                in_order min_run max_run first_runs\n"
		"  -h, --help    this text\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char buf[1 << 16];
	struct writer w[2];
	pthread_barrier_t go;
	pthread_t th[2];
	size_t size = DEFAULT_SIZE, got[2] = { 0, 0 }, run = 0, nruns = 0, min_run = SIZE_MAX, max_run = 0;
	size_t shown[SHOW_RUNS];
	char shown_who[SHOW_RUNS], err[256];
	int threads = 2, cur = -1, lfd, cfd, sfd, c;
	struct timespec pause = { 0, 50 * 1000000L };
	bool json = false, in_order = true;
	ssize_t n;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': size = parse_size(optarg); break;
		case 't':
			if (strcmp(optarg, "1") && strcmp(optarg, "2")) {
				fprintf(stderr, "iolab-interleave: --threads is 1 or 2, not '%s'\n", optarg);
				return 2;
			}
			threads = atoi(optarg);
			break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default:  usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iolab-interleave: unexpected argument '%s'\nTry 'iolab-interleave --help'.\n",
			argv[optind]);
		return 2;
	}

	/* One TCP connection on loopback: the writers share cfd, the reader reads sfd. */
	if ((lfd = net_listen("127.0.0.1", 0, false, err, sizeof(err))) < 0 ||
	    (cfd = net_connect("127.0.0.1", net_local_port(lfd), err, sizeof(err))) < 0) {
		fprintf(stderr, "iolab-interleave: %s\n", err);
		return 1;
	}
	if ((sfd = net_accept(lfd, 0, NULL)) < 0) {
		perror("iolab-interleave: accept");
		return 1;
	}
	close(lfd);

	pthread_barrier_init(&go, NULL, (unsigned)threads);
	for (int i = 0; i < 2; i++)
		w[i] = (struct writer){ .fd = cfd, .first = i ? 'A' : 'a', .size = size, .go = &go };
	for (int i = 0; i < (threads == 2 ? 2 : 1); i++) {
		void *(*fn)(void *) = threads == 2 ? write_once : write_both;

		if ((errno = pthread_create(&th[i], NULL, fn, threads == 2 ? (void *)&w[i] : (void *)w)) != 0) {
			perror("iolab-interleave: pthread_create");
			return 1;
		}
	}

	/* Let both writers fill the send buffer and block in write() before reading a byte. */
	nanosleep(&pause, NULL);
	setsockopt(sfd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ 10, 0 }, sizeof(struct timeval));
	while (got[0] + got[1] < 2 * size) {
		n = read(sfd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "iolab-interleave: read: %s\n", n ? strerror(errno) : "end of stream");
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			int who = buf[i] >= 'a';          /* 1: thread a's lower case, 0: thread b's */
			int k = who ? 0 : 1;
			char want = (char)(w[k].first + got[k] % 26);

			if (buf[i] != want)
				in_order = false;          /* a byte of this writer lost, doubled or moved */
			got[k]++;
			if (k != cur && cur >= 0) {
				if (nruns < SHOW_RUNS) {
					shown[nruns] = run;
					shown_who[nruns] = w[cur].first;
				}
				nruns++;
				min_run = run < min_run ? run : min_run;
				max_run = run > max_run ? run : max_run;
				run = 0;
			}
			cur = k;
			run++;
		}
	}
	if (run) {   /* the last run */
		if (nruns < SHOW_RUNS) {
			shown[nruns] = run;
			shown_who[nruns] = w[cur].first;
		}
		nruns++;
		min_run = run < min_run ? run : min_run;
		max_run = run > max_run ? run : max_run;
	}
	for (int i = 0; i < (threads == 2 ? 2 : 1); i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	close(cfd);
	close(sfd);

	/* Two whole writes make two runs; every run beyond that is a write() cut in pieces. */
	if (json) {
		printf("{\"size\":%zu,\"writers\":%d,\"bytes_a\":%zu,\"bytes_b\":%zu,\"runs\":%zu,"
		       "\"split_writes\":%s,\"in_order\":%s,\"min_run\":%zu,\"max_run\":%zu,\"first_runs\":[",
		       size, threads, got[0], got[1], nruns, nruns > 2 ? "true" : "false",
		       in_order ? "true" : "false", nruns ? min_run : 0, max_run);
		for (size_t i = 0; i < nruns && i < SHOW_RUNS; i++)
			printf("%s\"%c%zu\"", i ? "," : "", shown_who[i], shown[i]);
		printf("]}\n");
	} else {
		printf("%d writer thread%s, one write() of %zu bytes each (a-z and A-Z) on one socket\n",
		       threads, threads == 2 ? "s" : "", size);
		printf("the reader got %zu + %zu bytes in %zu runs (smallest %zu, largest %zu)%s\n",
		       got[0], got[1], nruns, nruns ? min_run : 0, max_run,
		       nruns > 2 ? ": the writes were cut and interleaved" : ": each write() arrived whole");
		printf("first runs:");
		for (size_t i = 0; i < nruns && i < SHOW_RUNS; i++)
			printf(" %c x %zu", shown_who[i], shown[i]);
		printf("%s\n", nruns > SHOW_RUNS ? " ..." : "");
		printf("each writer's bytes in order, none lost: %s\n", in_order ? "yes" : "NO");
	}
	for (int i = 0; i < 2; i++)
		if (w[i].err)
			fprintf(stderr, "iolab-interleave: write (%c...): %s\n", w[i].first, strerror(w[i].err));
	return in_order && got[0] == size && got[1] == size ? 0 : 1;
}
