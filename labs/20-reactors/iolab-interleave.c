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
 * Usage:  iolab-interleave [--size BYTES] [--threads 1|2] [--repeat N] [--json]
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

#include "common/cli.h"
#include "common/net.h"

#define DEFAULT_SIZE (8u << 20)    /* 8 MiB: more than a loopback socket's send buffer holds */
#define SHOW_RUNS    12            /* runs printed in the human output */
#define MAX_REPEAT   100

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

/* What the reader saw in one round. */
struct round {
	size_t got[2];                 /* bytes of writer a, of writer b */
	size_t nruns, min_run, max_run;
	size_t shown[SHOW_RUNS];       /* the first runs: length ... */
	char   who[SHOW_RUNS];         /* ... and whose ('a' or 'A') */
	bool   in_order;               /* each writer's bytes in order, none lost */
};

static void end_run(struct round *r, size_t run, char who)
{
	if (r->nruns < SHOW_RUNS) {
		r->shown[r->nruns] = run;
		r->who[r->nruns] = who;
	}
	r->nruns++;
	r->min_run = run < r->min_run ? run : r->min_run;
	r->max_run = run > r->max_run ? run : r->max_run;
}

/* One round on a fresh loopback connection: the writers share cfd, the reader reads sfd. */
static int one_round(size_t size, int threads, struct round *r)
{
	static char buf[1 << 16];
	struct timespec pause = { 0, 50 * 1000000L };
	struct timeval tmo = { 10, 0 };
	struct writer w[2];
	pthread_barrier_t go;
	pthread_t th[2];
	size_t run = 0;
	int cur = -1, lfd, cfd, sfd, nth = threads == 2 ? 2 : 1;
	char err[256];
	ssize_t n;

	*r = (struct round){ .min_run = SIZE_MAX, .in_order = true };
	if ((lfd = net_listen("127.0.0.1", 0, false, err, sizeof(err))) < 0 ||
	    (cfd = net_connect("127.0.0.1", net_local_port(lfd), err, sizeof(err))) < 0) {
		fprintf(stderr, "iolab-interleave: %s\n", err);
		return -1;
	}
	if ((sfd = net_accept(lfd, 0, NULL)) < 0) {
		perror("iolab-interleave: accept");
		return -1;
	}
	close(lfd);

	pthread_barrier_init(&go, NULL, (unsigned)nth);
	for (int i = 0; i < 2; i++)
		w[i] = (struct writer){ .fd = cfd, .first = i ? 'A' : 'a', .size = size, .go = &go };
	for (int i = 0; i < nth; i++) {
		void *(*fn)(void *) = nth == 2 ? write_once : write_both;

		if ((errno = pthread_create(&th[i], NULL, fn, nth == 2 ? (void *)&w[i] : (void *)w)) != 0) {
			perror("iolab-interleave: pthread_create");
			exit(1);
		}
	}

	/* Let the writers fill the send buffer and block in write() before reading a byte. */
	nanosleep(&pause, NULL);
	setsockopt(sfd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	while (r->got[0] + r->got[1] < 2 * size) {
		n = read(sfd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "iolab-interleave: read: %s\n", n ? strerror(errno) : "end of stream");
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			int k = buf[i] >= 'a' ? 0 : 1;    /* lower case: writer a; upper case: writer b */

			if (buf[i] != (char)(w[k].first + r->got[k] % 26))
				r->in_order = false;      /* a byte of this writer lost, doubled or moved */
			r->got[k]++;
			if (k != cur && cur >= 0) {
				end_run(r, run, w[cur].first);
				run = 0;
			}
			cur = k;
			run++;
		}
	}
	if (run)
		end_run(r, run, w[cur].first);
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	close(cfd);
	close(sfd);
	for (int i = 0; i < 2; i++)
		if (w[i].err)
			fprintf(stderr, "iolab-interleave: write (%c...): %s\n", w[i].first, strerror(w[i].err));
	return r->in_order && r->got[0] == size && r->got[1] == size ? 0 : -1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: iolab-interleave [--size BYTES] [--threads 1|2] [--repeat N] [--json]\n"
		"\n"
		"Two threads each write() SIZE bytes to one TCP socket (loopback) at the same time,\n"
		"in one call each: a-z from one, A-Z from the other.  The reader reports the runs\n"
		"(how the two writers' bytes alternate) and checks nothing was lost or reordered.\n"
		"  --size BYTES  bytes per write() call (default 8M; K/M suffixes)\n"
		"  --threads N   2 (default): the race; 1: one writer does both writes, one after\n"
		"                the other (what one owning loop per connection gives)\n"
		"  --repeat N    N rounds, each on a new connection (default 1, at most %d)\n"
		"  --json        one JSON object: size writers rounds in_order interleaved (rounds\n"
		"                with more than 2 runs: a write was cut) runs (per round) min_run\n"
		"                max_run first_runs (of the first round)\n"
		"  -h, --help    this text\n"
		"Exit: 0 every byte arrived, each writer's in order; 1 not; 2 bad flags.\n", MAX_REPEAT);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct round rs[MAX_REPEAT];
	size_t size = DEFAULT_SIZE, min_run = SIZE_MAX, max_run = 0;
	int threads = 2, repeat = 1, interleaved = 0, c;
	bool json = false, ok = true;
	long v;

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
		case 'r':
			if (!cli_parse_long(optarg, 1, MAX_REPEAT, &v)) {
				fprintf(stderr, "iolab-interleave: bad --repeat '%s' (1 to %d)\n", optarg, MAX_REPEAT);
				return 2;
			}
			repeat = (int)v;
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

	for (int i = 0; i < repeat; i++) {
		struct round *r = &rs[i];

		if (one_round(size, threads, r) < 0)
			ok = false;
		/* Two whole writes make two runs; more runs means a write() was cut in pieces. */
		interleaved += r->nruns > 2;
		min_run = r->min_run < min_run ? r->min_run : min_run;
		max_run = r->max_run > max_run ? r->max_run : max_run;
		if (json)
			continue;
		printf("round %d: %d writer thread%s, one write() of %zu bytes each (a-z, A-Z), one socket:\n",
		       i + 1, threads, threads == 2 ? "s" : "", size);
		printf("  the reader got %zu + %zu bytes in %zu runs%s\n  runs:", r->got[0], r->got[1], r->nruns,
		       r->nruns > 2 ? ": the writes were cut and interleaved" : ": each write() arrived whole");
		for (size_t k = 0; k < r->nruns && k < SHOW_RUNS; k++)
			printf(" %c x %zu", r->who[k], r->shown[k]);
		printf("%s\n  each writer's bytes in order, none lost: %s\n", r->nruns > SHOW_RUNS ? " ..." : "",
		       r->in_order ? "yes" : "NO");
	}
	if (json) {
		printf("{\"size\":%zu,\"writers\":%d,\"rounds\":%d,\"in_order\":%s,\"interleaved\":%d,\"runs\":[",
		       size, threads, repeat, ok ? "true" : "false", interleaved);
		for (int i = 0; i < repeat; i++)
			printf("%s%zu", i ? "," : "", rs[i].nruns);
		printf("],\"min_run\":%zu,\"max_run\":%zu,\"first_runs\":[", min_run == SIZE_MAX ? 0 : min_run, max_run);
		for (size_t k = 0; k < rs[0].nruns && k < SHOW_RUNS; k++)
			printf("%s\"%c%zu\"", k ? "," : "", rs[0].who[k], rs[0].shown[k]);
		printf("]}\n");
	} else if (repeat > 1) {
		printf("%d of %d rounds interleaved\n", interleaved, repeat);
	}
	return ok ? 0 : 1;
}
