/*
 * wheel-ops — how much work a timing wheel does per operation, counted rather than
 * timed: lab 15's model checks (labs/tools/grade builds and runs it; make does not).
 *
 * The grader compiles the wheel under test (common/wheel.c, or a student's copy of it)
 * with -fsanitize-coverage=trace-pc: gcc then calls __sanitizer_cov_trace_pc() at the
 * start of every basic block of that file, and this program counts the calls.  The
 * count is the wheel's own work in basic blocks executed -- the same on every run and
 * every machine, whatever else the machine is doing, which a time would not be.
 *
 * For n = 1,000 and n = 100,000 armed timers, due at random over the next 60,000 ticks
 * (a minute of milliseconds, like idle timeouts), per operation:
 *   add     wheel_add() of 1,000 more timers (due in the same minute), n armed
 *   cancel  wheel_cancel() of those 1,000, in random order
 *   tick    the walk that fires all n: wheel_advance() to every tick in turn, its blocks
 *           divided by (ticks walked + timers fired) -- per-tick and per-timer work
 *           together, cascades included
 * An O(1) wheel costs about the same at both sizes; a wheel that looks at timers that
 * are not due (a scan, a sorted insert) costs about 100 times more at 100,000.
 * It also checks the firing: each timer once, at its own tick (exit 1 if not).
 *
 * Usage: wheel-ops         one JSON line:
 *        {"checked":true,"n1000":{"add":A,"cancel":C,"tick":T},"n100000":{...}}
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "common/wheel.h"

#define SPREAD   60000          /* ticks over which the timers are due */
#define EXTRA    1000           /* timers added and cancelled for the add/cancel figures */

/* Called by the instrumented wheel at every basic block; this file is not instrumented. */
void __sanitizer_cov_trace_pc(void);
static uint64_t blocks;
void __sanitizer_cov_trace_pc(void) { blocks++; }

struct ptimer {
	struct timer t;
	uint64_t due;
	int fired;
};

static uint64_t nbad;           /* timers fired twice, or at another tick than theirs */

static void on_fire(struct wheel *w, struct timer *t)
{
	struct ptimer *p = wheel_entry(t, struct ptimer, t);

	if (p->fired++ || p->due != wheel_now(w) - 1)
		nbad++;
}

struct figures {
	double add, cancel, tick;
};

/* One size: arm n, measure EXTRA adds and cancels, then the walk. */
static bool measure(size_t n, struct figures *f)
{
	static struct wheel w;
	struct ptimer *p = calloc(n + EXTRA, sizeof(*p));
	uint32_t *order = calloc(EXTRA, sizeof(*order));
	struct rng rng = { 0x15c0de };
	const uint64_t start = 1000;
	uint64_t b, fired = 0, ticks = 0;

	if (!p || !order) {
		perror("wheel-ops: calloc");
		exit(2);
	}
	wheel_init(&w, start);
	for (size_t i = 0; i < n + EXTRA; i++) {
		timer_init(&p[i].t, on_fire);
		p[i].due = start + 1 + rng_below(&rng, SPREAD);
	}
	for (size_t i = 0; i < n; i++)
		wheel_add(&w, &p[i].t, p[i].due);

	b = blocks;
	for (size_t i = n; i < n + EXTRA; i++)
		wheel_add(&w, &p[i].t, p[i].due);
	f->add = (double)(blocks - b) / EXTRA;

	for (uint32_t i = 0; i < EXTRA; i++)
		order[i] = i;
	for (uint32_t i = EXTRA - 1; i > 0; i--) {     /* a random order: not the order of adding */
		uint32_t j = (uint32_t)rng_below(&rng, i + 1), x = order[i];

		order[i] = order[j];
		order[j] = x;
	}
	b = blocks;
	for (uint32_t i = 0; i < EXTRA; i++)
		if (!wheel_cancel(&w, &p[n + order[i]].t))
			nbad++;
	f->cancel = (double)(blocks - b) / EXTRA;

	b = blocks;
	for (uint64_t now = start; now <= start + SPREAD + 1; now++, ticks++)
		fired += wheel_advance(&w, now);
	f->tick = (double)(blocks - b) / (double)(ticks + fired);

	for (size_t i = 0; i < n; i++)
		if (p[i].fired != 1)
			nbad++;
	for (size_t i = n; i < n + EXTRA; i++)
		if (p[i].fired)
			nbad++;              /* cancelled, yet fired */
	free(p);
	free(order);
	return fired == n && wheel_count(&w) == 0;
}

int main(int argc, char **argv)
{
	const size_t sizes[] = { 1000, 100000 };
	struct figures f[2];
	bool ok = true;

	if (argc > 1) {
		fprintf(stderr, "usage: wheel-ops   (no options; see the comment at the top of wheel-ops.c)\n");
		return strcmp(argv[1], "--help") && strcmp(argv[1], "-h") ? 2 : 0;
	}
	for (int i = 0; i < 2; i++)
		ok &= measure(sizes[i], &f[i]);
	ok &= nbad == 0;
	printf("{\"checked\":%s", ok ? "true" : "false");
	for (int i = 0; i < 2; i++)
		printf(",\"n%zu\":{\"add\":%.1f,\"cancel\":%.1f,\"tick\":%.1f}", sizes[i], f[i].add, f[i].cancel,
		       f[i].tick);
	printf(",\"blocks\":%llu}\n", (unsigned long long)blocks);
	if (!blocks)
		fprintf(stderr, "wheel-ops: no basic block counted: the wheel was not built with -fsanitize-coverage=trace-pc\n");
	return ok && blocks ? 0 : 1;
}
