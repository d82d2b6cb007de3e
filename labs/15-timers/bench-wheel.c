/*
 * bench-wheel — the timing wheel (common/wheel.c) against a binary heap, at 10^4, 10^5
 * and 10^6 timers (LESSONS.md §15).
 *
 * What it shows: add and cancel cost O(1) in the wheel and O(log n) in the heap; firing
 * costs the wheel one unlink per timer plus its cascades, the heap one pop (O(log n))
 * per timer; and the tick at which a wheel slot cascades is a spike -- it moves every
 * timer of that slot at once.  The study notes say "a tick with cascading is slower
 * than a heap"; the table compares that tick with the heap's work at the same tick.
 *
 * Method: N timers with due ticks spread at random over --spread ticks (default 60000:
 * one minute of milliseconds, like idle timeouts).  Each phase runs on the wheel and
 * then on the heap with the same timers, interleaved, --reps times; the best run of
 * each is kept (the least disturbed by the other programs on the machine):
 *   add      N adds, ns per add
 *   cancel   N cancels in random order, ns per cancel
 *   expire   advance tick by tick until all N fired, ns per fired timer
 *   tick     the same walk timed tick by tick (the two clock readings' own cost
 *            subtracted; the slowest 1% dropped as preempted): the mean of the ticks
 *            without a cascade, the mean of the ticks at which the wheel's level 1
 *            cascades (every 256th), and the slowest of those; for the heap, its own
 *            work at the same ticks
 * Both structures are checked: each timer fires once, at its tick.  The ratios
 * (heap/wheel: above 1, the wheel is faster) mean more than the ns, which depend on the
 * machine.  Nothing here is asserted about speed.
 *
 * Usage: bin/bench-wheel [--quick] [--sizes N,N,...] [--spread TICKS] [--reps R] [--json]
 *        flock /tmp/iolab-bench.lock bin/bench-wheel     (the real measurement)
 * --json: {"checked":true, "n10000":{"timers":10000, "add":{"wheel_ns","heap_ns","ratio"},
 *         "cancel":{...}, "expire", "tick_plain", "tick_cascade", "tick_worst",
 *         "cascade_vs_heap_tick"}, "n100000":{...}, ...} (a failed check exits 1, no JSON)
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rng.h"
#include "common/wheel.h"

#define MAX_SIZES 8

struct btimer {
	struct timer t;             /* the wheel's link */
	uint64_t due;               /* the heap's key */
	uint32_t hidx;              /* its index in the heap array */
	uint32_t fired;
};

static struct btimer *timers;
static uint32_t *order;         /* a random permutation: cancel order */
static size_t nfired;
static uint64_t clock_tick;     /* the tick being processed, to check firing times */
static bool bad_tick;

static uint32_t *dur_plain, *dur_casc;   /* per-tick durations of one walk, ns */
static double clock_cost;       /* median ns of two clock readings around nothing */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct rng rng = { 0x15aa15aa };     /* fixed: every run places the same timers */

/* ------------------------------------------------------------------ the binary heap */

/* The classic array heap with each timer's index stored in it, so that cancel is a
 * swap with the last element and one sift: O(log n), like add and pop. */
static struct btimer **heap;
static size_t heap_n;

static void heap_set(size_t i, struct btimer *t)
{
	heap[i] = t;
	t->hidx = (uint32_t)i;
}

static void heap_up(size_t i)
{
	struct btimer *t = heap[i];

	while (i > 0 && heap[(i - 1) / 2]->due > t->due) {
		heap_set(i, heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(i, t);
}

static void heap_down(size_t i)
{
	struct btimer *t = heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= heap_n)
			break;
		if (c + 1 < heap_n && heap[c + 1]->due < heap[c]->due)
			c++;
		if (heap[c]->due >= t->due)
			break;
		heap_set(i, heap[c]);
		i = c;
	}
	heap_set(i, t);
}

static void heap_add(struct btimer *t)
{
	heap[heap_n] = t;
	t->hidx = (uint32_t)heap_n++;
	heap_up(heap_n - 1);
}

static void heap_remove(struct btimer *t)
{
	size_t i = t->hidx;
	struct btimer *last = heap[--heap_n];

	if (i == heap_n)
		return;
	heap_set(i, last);
	if (i > 0 && heap[(i - 1) / 2]->due > last->due)
		heap_up(i);
	else
		heap_down(i);
}

/* Fire everything due at or before `tick`. */
static void heap_expire(uint64_t tick)
{
	while (heap_n > 0 && heap[0]->due <= tick) {
		struct btimer *t = heap[0];

		heap_remove(t);
		t->fired++;
		nfired++;
		bad_tick |= t->due != tick;
	}
}

/* ------------------------------------------------------------------ the runs */

static void on_fire(struct wheel *w, struct timer *t)
{
	struct btimer *b = wheel_entry(t, struct btimer, t);

	b->fired++;
	nfired++;
	bad_tick |= b->due != clock_tick;
}

struct result {
	double add, cancel, expire;         /* ns per operation */
	double tick_plain, tick_cascade;    /* ns per tick: ticks without / with a cascade */
	double tick_worst;                  /* ns: the slowest cascading tick */
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The mean of the fastest 99% of v: a tick during which the scheduler ran another
 * program is an outlier of milliseconds that would swamp a plain mean. */
static double trimmed_mean(uint32_t *v, size_t n)
{
	size_t keep = n - n / 100;
	double sum = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u32);
	for (size_t i = 0; i < keep; i++)
		sum += v[i];
	return sum / (double)keep;
}

/* Time one walk over every tick from start to start + spread: `step` processes a tick.
 * Ticks that are multiples of 256 (the wheel's level-1 cascades) are kept apart. */
static void time_ticks(void (*step)(uint64_t), uint64_t start, uint64_t spread, struct result *r)
{
	size_t na = 0, nc = 0;
	uint32_t worst = 0;

	for (uint64_t tick = start; tick <= start + spread; tick++) {
		uint64_t a = now_ns(), d;

		step(tick);
		d = now_ns() - a;
		if (d > UINT32_MAX)
			d = UINT32_MAX;
		if ((tick & WHEEL_MASK) == 0) {
			dur_casc[nc++] = (uint32_t)d;
			if (d > worst)
				worst = (uint32_t)d;
		} else {
			dur_plain[na++] = (uint32_t)d;
		}
	}
	/* What a tick costs beyond the two clock readings around it. */
	r->tick_plain = trimmed_mean(dur_plain, na) - clock_cost;
	r->tick_cascade = trimmed_mean(dur_casc, nc) - clock_cost;
	r->tick_worst = worst - clock_cost;
	if (r->tick_plain < 0)
		r->tick_plain = 0;
	if (r->tick_cascade < 0)
		r->tick_cascade = 0;
}

static void no_step(uint64_t tick)
{
	(void)tick;
}

static void keep_best(struct result *best, const struct result *r, bool first)
{
	double *b = &best->add;
	const double *x = &r->add;

	for (size_t i = 0; i < sizeof(*r) / sizeof(double); i++)
		if (first || x[i] < b[i])
			b[i] = x[i];
}

static void reset_fired(size_t n)
{
	for (size_t i = 0; i < n; i++)
		timers[i].fired = 0;
	nfired = 0;
	bad_tick = false;
}

static int check_fired(size_t n, const char *who)
{
	size_t once = 0;

	for (size_t i = 0; i < n; i++)
		once += timers[i].fired == 1;
	if (once != n || nfired != n || bad_tick) {
		fprintf(stderr, "bench-wheel: %s: %zu of %zu timers fired exactly once%s\n",
			who, once, n, bad_tick ? ", some at the wrong tick" : "");
		return -1;
	}
	return 0;
}

static struct wheel *the_wheel;

static void wheel_step(uint64_t tick)
{
	clock_tick = tick;
	wheel_advance(the_wheel, tick);
}

static void heap_step(uint64_t tick)
{
	heap_expire(tick);
}

/* After the timed walk every timer has fired twice (once per walk). */
static int check_fired2(size_t n, const char *who)
{
	for (size_t i = 0; i < n; i++)
		if (timers[i].fired != 2 || bad_tick) {
			fprintf(stderr, "bench-wheel: %s: timer %zu fired %u times in two walks\n",
				who, i, timers[i].fired);
			return -1;
		}
	return 0;
}

/* One run of every phase on the wheel; `start` is the first tick. */
static int run_wheel(struct wheel *w, size_t n, uint64_t start, uint64_t spread, struct result *r)
{
	uint64_t t0;

	wheel_init(w, start);
	t0 = now_ns();
	for (size_t i = 0; i < n; i++)
		wheel_add(w, &timers[i].t, timers[i].due);
	r->add = (double)(now_ns() - t0) / (double)n;

	t0 = now_ns();
	for (size_t i = 0; i < n; i++)
		wheel_cancel(w, &timers[order[i]].t);
	r->cancel = (double)(now_ns() - t0) / (double)n;
	if (wheel_count(w) != 0)
		return -1;

	for (size_t i = 0; i < n; i++)
		wheel_add(w, &timers[i].t, timers[i].due);
	reset_fired(n);
	t0 = now_ns();
	for (clock_tick = start; clock_tick <= start + spread; clock_tick++)
		wheel_advance(w, clock_tick);
	r->expire = (double)(now_ns() - t0) / (double)n;
	if (check_fired(n, "wheel"))
		return -1;

	/* The same walk again, a clock reading around each tick. */
	wheel_init(w, start);
	for (size_t i = 0; i < n; i++)
		wheel_add(w, &timers[i].t, timers[i].due);
	the_wheel = w;
	time_ticks(wheel_step, start, spread, r);
	return check_fired2(n, "wheel");
}

static int run_heap(size_t n, uint64_t start, uint64_t spread, struct result *r)
{
	uint64_t t0;

	heap_n = 0;
	t0 = now_ns();
	for (size_t i = 0; i < n; i++)
		heap_add(&timers[i]);
	r->add = (double)(now_ns() - t0) / (double)n;

	t0 = now_ns();
	for (size_t i = 0; i < n; i++)
		heap_remove(&timers[order[i]]);
	r->cancel = (double)(now_ns() - t0) / (double)n;
	if (heap_n != 0)
		return -1;

	for (size_t i = 0; i < n; i++)
		heap_add(&timers[i]);
	reset_fired(n);
	t0 = now_ns();
	for (uint64_t tick = start; tick <= start + spread; tick++)
		heap_expire(tick);
	r->expire = (double)(now_ns() - t0) / (double)n;
	if (check_fired(n, "heap"))
		return -1;

	for (size_t i = 0; i < n; i++)
		heap_add(&timers[i]);
	time_ticks(heap_step, start, spread, r);
	return check_fired2(n, "heap");
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f)
{
	fputs("usage: bench-wheel [--quick] [--sizes N,N,...] [--spread TICKS] [--reps R] [--json]\n"
	      "  The timing wheel (common/wheel.c) against a binary heap: add, cancel, expire,\n"
	      "  and the cost of one tick (plain, cascading, worst), at each size.\n"
	      "  --sizes   timers per run (default 10000,100000,1000000; --quick: 1000,10000)\n"
	      "  --spread  due ticks are spread at random over this many ticks (default 60000)\n"
	      "  --reps    interleaved runs; the best of each is shown (default 3; --quick: 1)\n"
	      "  --json    one JSON object instead of the table\n"
	      "  Measure under the lock: flock /tmp/iolab-bench.lock bin/bench-wheel\n", f);
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' }, { "sizes", required_argument, NULL, 's' },
		{ "spread", required_argument, NULL, 'S' }, { "reps", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }, { 0 }
	};
	uint64_t sizes[MAX_SIZES] = { 10000, 100000, 1000000 }, spread = 60000, reps = 0, v;
	size_t nsizes = 3, maxn = 0;
	bool quick = false, json = false, sizes_given = false;
	static struct wheel w;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'q': quick = true; break;
		case 'j': json = true; break;
		case 'S':
			if (parse_u64(optarg, 256, 1ULL << 31, &spread)) {
				fprintf(stderr, "bench-wheel: --spread '%s': a number of ticks, 256..2^31\n", optarg);
				return 2;
			}
			break;
		case 'r':
			if (parse_u64(optarg, 1, 100, &reps)) {
				fprintf(stderr, "bench-wheel: --reps '%s': a number 1..100\n", optarg);
				return 2;
			}
			break;
		case 's': {
			char *copy = strdup(optarg), *save = NULL;

			nsizes = 0;
			for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (nsizes == MAX_SIZES || parse_u64(tok, 1, 50000000, &v)) {
					fprintf(stderr, "bench-wheel: --sizes '%s': up to %d numbers 1..5e7, comma-separated\n",
						optarg, MAX_SIZES);
					free(copy);
					return 2;
				}
				sizes[nsizes++] = v;
			}
			free(copy);
			if (nsizes == 0) {
				fprintf(stderr, "bench-wheel: --sizes: no size given\n");
				return 2;
			}
			sizes_given = true;
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bench-wheel: unexpected argument '%s' (try --help)\n", argv[optind]);
		return 2;
	}
	if (quick && !sizes_given) {
		sizes[0] = 1000, sizes[1] = 10000;
		nsizes = 2;
	}
	if (!reps)
		reps = quick ? 1 : 3;
	for (size_t i = 0; i < nsizes; i++)
		if (sizes[i] > maxn)
			maxn = sizes[i];
	timers = calloc(maxn, sizeof(*timers));
	order = calloc(maxn, sizeof(*order));
	heap = calloc(maxn, sizeof(*heap));
	dur_plain = calloc(spread + 1, sizeof(*dur_plain));
	dur_casc = calloc(spread / WHEEL_SLOTS + 2, sizeof(*dur_casc));
	if (!timers || !order || !heap || !dur_plain || !dur_casc) {
		fprintf(stderr, "bench-wheel: out of memory for %zu timers\n", maxn);
		return 1;
	}

	{
		struct result r;

		clock_cost = 0;
		time_ticks(no_step, 0, spread, &r);
		clock_cost = r.tick_plain;
	}
	if (json)
		printf("{\"clock_ns\":%.1f,\"spread\":%llu,\"reps\":%llu,\"checked\":true", clock_cost, (unsigned long long)spread,
		       (unsigned long long)reps);
	else
		printf("bench-wheel: timing wheel (%d levels x %u slots) vs binary heap; due ticks spread\n"
		       "over %llu ticks; best of %llu interleaved runs; heap/wheel > 1: the wheel is faster\n"
		       "(tick times: %.0f ns of clock reading subtracted)\n\n"
		       "%9s  %-22s %12s %12s %11s\n", WHEEL_LEVELS, WHEEL_SLOTS,
		       (unsigned long long)spread, (unsigned long long)reps, clock_cost,
		       "timers", "operation", "wheel ns", "heap ns", "heap/wheel");
	for (size_t s = 0; s < nsizes; s++) {
		size_t n = sizes[s];
		uint64_t start = 1000 + (rng_next(&rng) & 0xffff);   /* not aligned to a slot turn */
		struct result bw, bh, rw, rh;
		static const char *const names[] = {
			"add (per timer)", "cancel (per timer)", "expire (per timer)",
			"tick without cascade", "tick with cascade", "slowest cascading tick",
		};
		static const char *const keys[] = {
			"add", "cancel", "expire", "tick_plain", "tick_cascade", "tick_worst",
		};

		for (size_t i = 0; i < n; i++) {
			timer_init(&timers[i].t, on_fire);
			timers[i].due = start + 1 + rng_next(&rng) % spread;
			order[i] = (uint32_t)i;
		}
		for (size_t i = n; i > 1; i--) {            /* Fisher-Yates: cancel order */
			size_t j = rng_next(&rng) % i;
			uint32_t tmp = order[i - 1];

			order[i - 1] = order[j];
			order[j] = tmp;
		}
		for (uint64_t r = 0; r < reps; r++) {
			if (run_wheel(&w, n, start, spread, &rw) || run_heap(n, start, spread, &rh))
				return 1;
			keep_best(&bw, &rw, r == 0);
			keep_best(&bh, &rh, r == 0);
		}
		const double *a = &bw.add, *b = &bh.add;

		if (json) {
			printf(",\"n%zu\":{\"timers\":%zu", n, n);
			for (size_t i = 0; i < 6; i++)
				printf(",\"%s\":{\"wheel_ns\":%.1f,\"heap_ns\":%.1f,\"ratio\":%.2f}",
				       keys[i], a[i], b[i], b[i] / (a[i] > 1 ? a[i] : 1));
			printf(",\"cascade_vs_heap_tick\":%.2f}", a[4] / (b[4] > 1 ? b[4] : 1));
			continue;
		}
		for (size_t i = 0; i < 6; i++)
			printf("%9zu  %-22s %12.1f %12.1f %11.2f\n", n, names[i], a[i], b[i],
			       b[i] / (a[i] > 1 ? a[i] : 1));
		/* Ratios against a tick of under 1 ns are taken against 1 ns. */
		printf("%9zu  the wheel's cascading tick costs %.1fx a tick without and %.1fx the heap at the same ticks\n\n",
		       n, a[4] / (a[3] > 1 ? a[3] : 1), a[4] / (b[4] > 1 ? b[4] : 1));
	}
	if (json)
		printf("}\n");
	else
		printf("checked: in every run each timer fired exactly once, at its tick, in both.\n");
	free(timers);
	free(order);
	free(heap);
	free(dur_plain);
	free(dur_casc);
	return 0;
}
