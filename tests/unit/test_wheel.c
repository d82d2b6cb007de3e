/* Description: unit tests for common/wheel.c, the hierarchical timing wheel --
 * edge cases (level boundaries 255/256, 65535/65536, 2^24, 2^32, a timer beyond the
 * top level, past ticks, re-arming, cancel from a callback, a timer cancelled at the
 * tick its slot cascades, adds from inside an expiry, periodic timers, slot indices
 * that wrap) and a property test that runs millions of random add / cancel / advance
 * operations against a reference (a binary min-heap) and checks every firing: the
 * right timer, at its exact tick, never one missed, never one early, and the count.
 *
 * Usage: bin/tests/test_wheel [PATTERN]           (PATTERN: a cmocka glob, e.g. 'edge_*')
 *        IOLAB_SEED=N bin/tests/test_wheel        (replay the random cases with seed N)
 *        IOLAB_WHEEL_OPS=N bin/tests/test_wheel   (random operations, default 4000000)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/rng.h"
#include "common/wheel.h"

static uint64_t seed;           /* printed once; every random case starts from it */
static struct rng rng;

/* ------------------------------------------------------------------ a recording timer */

#define LOG_MAX 64

/* A timer that writes (its id, the tick it fired at) into a log. */
struct rec {
	struct timer t;
	int id;
	int fired;
	uint64_t at;                /* the tick it last fired at */
};

static struct {
	int n;
	int id[LOG_MAX];
	uint64_t tick[LOG_MAX];
} logbook;

static void rec_fire(struct wheel *w, struct timer *t)
{
	struct rec *r = wheel_entry(t, struct rec, t);

	assert_false(timer_pending(t));         /* disarmed before its callback */
	r->fired++;
	r->at = wheel_now(w) - 1;               /* callbacks of tick T run with now == T+1 */
	if (logbook.n < LOG_MAX) {
		logbook.id[logbook.n] = r->id;
		logbook.tick[logbook.n] = r->at;
		logbook.n++;
	}
}

static void rec_init(struct rec *r, int id)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	timer_init(&r->t, rec_fire);
}

/* One timer at `start + ahead`: it fires exactly there, whether the clock jumps there
 * in one call or walks tick by tick (for the near ones), and never a tick early. */
static void one_timer_fires_at(uint64_t start, uint64_t ahead)
{
	static struct wheel w;
	struct rec r;

	rec_init(&r, 1);
	wheel_init(&w, start);
	wheel_add(&w, &r.t, start + ahead);
	assert_int_equal(wheel_count(&w), 1);
	assert_true(wheel_next_expiry(&w) <= start + ahead);
	if (ahead > 0)
		assert_int_equal(wheel_advance(&w, start + ahead - 1), 0);
	assert_int_equal(r.fired, 0);
	assert_int_equal(wheel_advance(&w, start + ahead), 1);
	assert_int_equal(r.fired, 1);
	assert_true(r.at == start + ahead);
	assert_int_equal(wheel_count(&w), 0);
	assert_true(wheel_next_expiry(&w) == WHEEL_NEVER);

	if (ahead < 70000) {                    /* tick by tick: every cascade on the way */
		rec_init(&r, 1);
		wheel_init(&w, start);
		wheel_add(&w, &r.t, start + ahead);
		for (uint64_t now = start; now < start + ahead; now++)
			assert_int_equal(wheel_advance(&w, now), 0);
		assert_int_equal(wheel_advance(&w, start + ahead), 1);
		assert_true(r.at == start + ahead);
	}

	/* In steps of random size, as an event loop does. */
	rec_init(&r, 1);
	wheel_init(&w, start);
	wheel_add(&w, &r.t, start + ahead);
	for (uint64_t now = start; r.fired == 0; ) {
		now += 1 + rng_below(&rng, ahead / 7 + 1);
		wheel_advance(&w, now);
		if (r.fired)
			assert_true(r.at == start + ahead);
		else
			assert_true(now < start + ahead);
	}
}

/* ------------------------------------------------------------------ edge cases */

static void edge_empty_wheel(void **state)
{
	static struct wheel w;

	wheel_init(&w, 1000);
	assert_int_equal(wheel_count(&w), 0);
	assert_true(wheel_next_expiry(&w) == WHEEL_NEVER);
	assert_int_equal(wheel_timeout(&w, 1000), -1);
	assert_int_equal(wheel_advance(&w, 5000000000ULL), 0);
	assert_true(wheel_now(&w) == 5000000001ULL);
}

static void edge_level_boundaries(void **state)
{
	const uint64_t aheads[] = {
		0, 1, 254, 255, 256, 257, 511, 512, 65535, 65536, 65537, 65791,
		(1ULL << 24) - 1, 1ULL << 24, (1ULL << 24) + 1,
		(1ULL << 32) - 1, 1ULL << 32, (1ULL << 32) + 1,   /* the last: beyond the top level */
		(1ULL << 40) + 12345,                             /* re-placed several times */
	};
	const uint64_t starts[] = { 0, 1, 255, 256, 1000, 65535, (1ULL << 32) - 3, 0x123456789aULL };

	rng.s = seed ^ 0x11;
	for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++)
		for (size_t a = 0; a < sizeof(aheads) / sizeof(aheads[0]); a++)
			one_timer_fires_at(starts[s], aheads[a]);
}

static void edge_past_tick_fires_at_next_advance(void **state)
{
	static struct wheel w;
	struct rec r;

	rec_init(&r, 1);
	wheel_init(&w, 500);
	wheel_advance(&w, 999);                 /* ticks up to 999 are done */
	wheel_add(&w, &r.t, 10);                /* long past */
	assert_true(wheel_next_expiry(&w) == 1000);
	assert_int_equal(wheel_timeout(&w, 999), 1);
	assert_int_equal(wheel_timeout(&w, 1000), 0);
	assert_int_equal(wheel_advance(&w, 1000), 1);
	assert_true(r.at == 1000);
	assert_true(r.t.expires == 10);         /* what was asked is kept */
}

static void edge_cancel_and_rearm(void **state)
{
	static struct wheel w;
	struct rec a, b;

	rec_init(&a, 1);
	rec_init(&b, 2);
	wheel_init(&w, 0);
	assert_false(wheel_cancel(&w, &a.t));   /* never armed */
	wheel_add(&w, &a.t, 300);
	wheel_add(&w, &b.t, 300);
	assert_true(wheel_cancel(&w, &a.t));
	assert_false(wheel_cancel(&w, &a.t));   /* twice: no-op */
	assert_int_equal(wheel_count(&w), 1);
	wheel_add(&w, &b.t, 70000);             /* armed: moved (level 1 -> level 1, other slot) */
	assert_int_equal(wheel_count(&w), 1);
	assert_int_equal(wheel_advance(&w, 69999), 0);
	assert_int_equal(wheel_advance(&w, 70000), 1);
	assert_int_equal(a.fired, 0);
	assert_true(b.at == 70000);
	/* Moving a timer between levels, and back. */
	wheel_add(&w, &a.t, 70010);
	wheel_add(&w, &a.t, 70000 + (1ULL << 33));
	wheel_add(&w, &a.t, 70005);
	assert_int_equal(wheel_advance(&w, 80000), 1);
	assert_true(a.at == 70005);
	assert_int_equal(wheel_count(&w), 0);
}

/* Several timers in one slot and neighbouring slots: all fire, by tick. */
static void edge_order_by_tick(void **state)
{
	static struct wheel w;
	struct rec r[8];
	const uint64_t due[8] = { 70000, 300, 300, 299, 65536, 65535, 70000, 256 };

	wheel_init(&w, 0);
	logbook.n = 0;
	for (int i = 0; i < 8; i++) {
		rec_init(&r[i], i);
		wheel_add(&w, &r[i].t, due[i]);
	}
	assert_int_equal(wheel_advance(&w, 100000), 8);
	assert_int_equal(logbook.n, 8);
	for (int i = 0; i < 8; i++) {
		assert_true(logbook.tick[i] == due[logbook.id[i]]);
		if (i)
			assert_true(logbook.tick[i - 1] <= logbook.tick[i]);
	}
}

/* A callback that cancels its victim, adds its extra for "now" and re-arms itself. */
struct actor {
	struct rec r;
	struct rec *victim;
	struct rec *extra;
	uint64_t period;
};

static void actor_fire(struct wheel *w, struct timer *t)
{
	struct actor *a = wheel_entry(t, struct actor, r.t);
	uint64_t tick = wheel_now(w) - 1;

	rec_fire(w, t);
	if (a->victim)
		assert_true(wheel_cancel(w, &a->victim->t));
	if (a->extra)
		wheel_add(w, &a->extra->t, tick);       /* due this very tick: fires at tick+1 */
	if (a->period)
		wheel_add(w, t, tick + a->period);
}

static void actor_init(struct actor *a, int id)
{
	memset(a, 0, sizeof(*a));
	rec_init(&a->r, id);
	a->r.t.fn = actor_fire;
}

static void edge_callback_cancels_a_timer_of_the_same_tick(void **state)
{
	static struct wheel w;
	struct actor a;
	struct rec v;

	actor_init(&a, 1);
	rec_init(&v, 2);
	a.victim = &v;
	wheel_init(&w, 0);
	wheel_add(&w, &a.r.t, 400);         /* both in level 1 slot 1, then level 0 slot 144 */
	wheel_add(&w, &v.t, 400);           /* linked after the actor: it would fire next */
	assert_int_equal(wheel_advance(&w, 1000), 1);
	assert_int_equal(a.r.fired, 1);
	assert_int_equal(v.fired, 0);
	assert_int_equal(wheel_count(&w), 0);
	assert_true(wheel_next_expiry(&w) == WHEEL_NEVER);
}

/* The cascade tick: timers come down from level 1 (and 2) to level 0 at the tick that
 * is a multiple of 256 (65,536); a callback firing at that same tick cancels one that
 * has just come down, and the one that comes down and is due there fires there. */
static void edge_cancel_in_a_cascading_slot(void **state)
{
	static struct wheel w;
	struct actor a;
	struct rec v, same, far;

	actor_init(&a, 1);
	rec_init(&v, 2);
	rec_init(&same, 3);
	rec_init(&far, 4);
	a.victim = &v;
	wheel_init(&w, 10);
	wheel_add(&w, &a.r.t, 65536);       /* level 1 (65526 ahead), slot 0: cascades at 65536 */
	wheel_add(&w, &v.t, 65536 + 40);    /* level 2 slot 1: comes down at 65536 */
	wheel_add(&w, &same.t, 65536);      /* level 1 too, due at the cascade tick itself */
	wheel_add(&w, &far.t, 65536 + 300); /* level 2: comes down to level 1 at 65536 */
	assert_int_equal(wheel_advance(&w, 65535), 0);
	assert_int_equal(wheel_count(&w), 4);
	assert_int_equal(wheel_advance(&w, 65536), 2);      /* the actor and `same` */
	assert_true(a.r.at == 65536 && same.at == 65536);
	assert_int_equal(wheel_count(&w), 1);              /* v cancelled after it came down */
	assert_int_equal(wheel_advance(&w, 70000), 1);
	assert_int_equal(v.fired, 0);
	assert_true(far.at == 65536 + 300);

	/* Cancel one tick before its slot cascades, from outside: nothing is left behind. */
	rec_init(&v, 2);
	wheel_init(&w, 0);
	wheel_add(&w, &v.t, 1000);          /* level 1, slot 3, cascades at 768 */
	wheel_advance(&w, 767);
	assert_true(wheel_cancel(&w, &v.t));
	assert_true(wheel_next_expiry(&w) == WHEEL_NEVER);
	assert_int_equal(wheel_advance(&w, 2000), 0);
}

static void edge_add_from_an_expiry(void **state)
{
	static struct wheel w;
	struct actor a;
	struct rec extra;

	actor_init(&a, 1);
	rec_init(&extra, 2);
	a.extra = &extra;
	wheel_init(&w, 0);
	wheel_add(&w, &a.r.t, 255);         /* the last slot of level 0: extra goes to slot 0 */
	assert_int_equal(wheel_advance(&w, 255), 1);
	assert_int_equal(extra.fired, 0);   /* added for tick 255 while 255 ran: due at 256 */
	assert_true(wheel_next_expiry(&w) == 256);
	assert_int_equal(wheel_advance(&w, 256), 1);
	assert_true(extra.at == 256);

	/* In one call: the extra added at tick 255 fires in the same advance, at 256. */
	actor_init(&a, 1);
	a.extra = &extra;
	rec_init(&extra, 2);
	wheel_init(&w, 0);
	wheel_add(&w, &a.r.t, 255);
	assert_int_equal(wheel_advance(&w, 1000), 2);
	assert_true(extra.at == 256);
}

static void edge_periodic_timer(void **state)
{
	static struct wheel w;
	struct actor a;

	actor_init(&a, 1);
	a.period = 1000;
	wheel_init(&w, 0);
	wheel_add(&w, &a.r.t, 1000);
	assert_int_equal(wheel_advance(&w, 100500), 100);   /* 1000, 2000, ..., 100000 */
	assert_true(a.r.at == 100000);
	assert_true(timer_pending(&a.r.t));
	assert_true(wheel_cancel(&w, &a.r.t));
}

/* wheel_next_expiry() is a lower bound that is reached in at most LEVELS wakeups. */
static void edge_next_expiry_wakeups(void **state)
{
	static struct wheel w;
	struct rec r;
	const uint64_t aheads[] = { 5, 300, 70000, 20000000, 5000000000ULL };

	for (size_t i = 0; i < sizeof(aheads) / sizeof(aheads[0]); i++) {
		int wakeups = 0;

		rec_init(&r, 1);
		wheel_init(&w, 777);
		wheel_add(&w, &r.t, 777 + aheads[i]);
		while (!r.fired) {
			uint64_t next = wheel_next_expiry(&w);

			assert_true(next >= wheel_now(&w));
			assert_true(next <= 777 + aheads[i]);
			wheel_advance(&w, next);
			wakeups++;
		}
		assert_true(r.at == 777 + aheads[i]);
		/* Beyond 2^32 the timer is parked and re-placed once more: one more level. */
		assert_true(wakeups <= WHEEL_LEVELS + (aheads[i] > 0xffffffffULL));
	}
}

/* ------------------------------------------------------------------ the property test */

#define POOL 4096

/* The reference: a binary min-heap of (tick, id, generation).  A cancelled or re-armed
 * timer's old entries are left in and skipped (their generation is stale). */
struct ref_entry {
	uint64_t tick;
	uint32_t id, gen;
};

static struct {
	struct ref_entry *e;
	size_t n, cap;
} heap;

struct ptimer {
	struct timer t;
	uint32_t id;
	uint32_t gen;               /* bumped at every add, cancel, firing */
	bool armed;                 /* in the reference */
	uint64_t tick;              /* the tick it must fire at */
};

static struct ptimer pool[POOL];
static struct wheel pw;
static size_t ref_armed;
static size_t fired_seen;
static uint64_t advance_to;     /* the `now` of the wheel_advance() running */
static int in_advance;

static bool entry_less(const struct ref_entry *a, const struct ref_entry *b)
{
	return a->tick < b->tick;
}

static void heap_push(uint64_t tick, uint32_t id, uint32_t gen)
{
	size_t i;

	if (heap.n == heap.cap) {
		heap.cap = heap.cap ? heap.cap * 2 : 1024;
		heap.e = realloc(heap.e, heap.cap * sizeof(heap.e[0]));
		assert_non_null(heap.e);
	}
	i = heap.n++;
	heap.e[i] = (struct ref_entry){ tick, id, gen };
	while (i > 0 && entry_less(&heap.e[i], &heap.e[(i - 1) / 2])) {
		struct ref_entry tmp = heap.e[i];

		heap.e[i] = heap.e[(i - 1) / 2];
		heap.e[(i - 1) / 2] = tmp;
		i = (i - 1) / 2;
	}
}

static void heap_sift_down(size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct ref_entry tmp;

		if (l < heap.n && entry_less(&heap.e[l], &heap.e[m]))
			m = l;
		if (r < heap.n && entry_less(&heap.e[r], &heap.e[m]))
			m = r;
		if (m == i)
			return;
		tmp = heap.e[i];
		heap.e[i] = heap.e[m];
		heap.e[m] = tmp;
		i = m;
	}
}

static bool stale(const struct ref_entry *e)
{
	return !pool[e->id].armed || pool[e->id].gen != e->gen;
}

/* The earliest armed tick in the reference, or WHEEL_NEVER. */
static uint64_t ref_min(void)
{
	while (heap.n > 0 && stale(&heap.e[0])) {
		heap.e[0] = heap.e[--heap.n];
		heap_sift_down(0);
	}
	if (heap.n > 4 * ref_armed + 4096) {    /* too many stale entries: rebuild */
		size_t k = 0;

		for (size_t i = 0; i < heap.n; i++)
			if (!stale(&heap.e[i]))
				heap.e[k++] = heap.e[i];
		heap.n = k;
		for (size_t i = heap.n / 2; i-- > 0; )
			heap_sift_down(i);
	}
	return heap.n ? heap.e[0].tick : WHEEL_NEVER;
}

/* How far ahead a random timer goes: mostly near, some on every level, a few beyond
 * the top level, a few in the past. */
static uint64_t random_due(uint64_t now)
{
	uint64_t r = rng_below(&rng, 100);

	if (r < 5)
		return now - rng_below(&rng, now < 1000 ? now + 1 : 1000);
	if (r < 45)
		return now + rng_below(&rng, 256);
	if (r < 70)
		return now + rng_below(&rng, 65536);
	if (r < 85)
		return now + rng_below(&rng, 1ULL << 24);
	if (r < 97)
		return now + rng_below(&rng, 1ULL << 32);
	return now + (1ULL << 32) + rng_below(&rng, 1ULL << 36);
}

static void p_add(uint32_t id, uint64_t due)
{
	struct ptimer *p = &pool[id];
	uint64_t now = wheel_now(&pw);

	if (!p->armed)
		ref_armed++;
	p->armed = true;
	p->gen++;
	p->tick = due < now ? now : due;        /* the wheel's rule: past -> next tick */
	heap_push(p->tick, id, p->gen);
	wheel_add(&pw, &p->t, due);
}

static void p_cancel(uint32_t id)
{
	struct ptimer *p = &pool[id];

	assert_int_equal(wheel_cancel(&pw, &p->t), p->armed);
	if (p->armed)
		ref_armed--;
	p->armed = false;
	p->gen++;
}

static void p_fire(struct wheel *w, struct timer *t)
{
	struct ptimer *p = wheel_entry(t, struct ptimer, t);
	uint64_t tick = wheel_now(w) - 1;

	assert_true(in_advance);
	assert_true(p->armed);                  /* not cancelled, not fired twice */
	assert_true(p->tick == tick);           /* at its exact tick ... */
	assert_true(ref_min() == tick);         /* ... and nothing earlier was skipped */
	assert_true(tick <= advance_to);
	p->armed = false;
	p->gen++;
	ref_armed--;
	fired_seen++;

	/* Work from inside an expiry, as a server's idle handler does. */
	switch (rng_below(&rng, 10)) {
	case 0: case 1:                         /* re-arm itself: a periodic heartbeat */
		p_add(p->id, tick + rng_below(&rng, 3) * rng_below(&rng, 300));
		break;
	case 2: case 3:                         /* cancel another (may be due this same tick,
	                                           may have just cascaded down) */
		p_cancel((uint32_t)rng_below(&rng, POOL));
		break;
	case 4:                                 /* arm another, maybe for now or the past */
		p_add((uint32_t)rng_below(&rng, POOL),
		      (tick >= 2 ? tick - rng_below(&rng, 3) : tick) + rng_below(&rng, 2) * rng_below(&rng, 70000));
		break;
	default:
		break;
	}
}

static void p_check(void)
{
	uint64_t next = wheel_next_expiry(&pw), min = ref_min();

	assert_int_equal(wheel_count(&pw), ref_armed);
	if (min == WHEEL_NEVER) {
		assert_true(next == WHEEL_NEVER);
	} else {
		assert_true(next <= min);
		assert_true(next >= wheel_now(&pw));
	}
}

static void p_advance(uint64_t to)
{
	size_t before = fired_seen, n;

	advance_to = to;
	in_advance = 1;
	n = wheel_advance(&pw, to);
	in_advance = 0;
	assert_int_equal(n, fired_seen - before);
	if (wheel_now(&pw) <= to)               /* a target in the past: nothing to do */
		fail_msg("wheel_now %llu after advance to %llu",
			 (unsigned long long)wheel_now(&pw), (unsigned long long)to);
	assert_true(ref_min() > to);            /* everything due was fired */
}

static void property_random_against_heap(void **state)
{
	const char *s = getenv("IOLAB_WHEEL_OPS");
	const unsigned long total = s && *s ? strtoul(s, NULL, 0) : 4000000;
	/* Starts chosen to cross boundaries: 0, just before 2^16, 2^32, and a random one. */
	const uint64_t starts[4] = { 0, 65536 - 100, (1ULL << 32) - 5000, 0 };
	unsigned long adds = 0, cancels = 0, advances = 0, far = 0;

	rng.s = seed ^ 0x22;
	for (int round = 0; round < 4; round++) {
		uint64_t start = round == 3 ? rng_below(&rng, 1ULL << 44) : starts[round];

		wheel_init(&pw, start);
		heap.n = 0;
		ref_armed = 0;
		for (uint32_t i = 0; i < POOL; i++) {
			memset(&pool[i], 0, sizeof(pool[i]));
			pool[i].id = i;
			timer_init(&pool[i].t, p_fire);
		}
		for (unsigned long op = 0; op < total / 4; op++) {
			uint64_t now = wheel_now(&pw), r = rng_below(&rng, 100);

			if (r < 45) {
				uint64_t due = random_due(now);

				far += due - now > 0xffffffffULL && due > now;
				p_add((uint32_t)rng_below(&rng, POOL), due);
				adds++;
			} else if (r < 65) {
				p_cancel((uint32_t)rng_below(&rng, POOL));
				cancels++;
			} else {
				r = rng_below(&rng, 100);
				if (r < 50)
					p_advance(now + rng_below(&rng, 4) - (now > 0));   /* now-1: no tick at all */
				else if (r < 75)
					p_advance(now + rng_below(&rng, 300));
				else if (r < 90)
					p_advance(now + rng_below(&rng, 70000));
				else if (r < 97 && wheel_next_expiry(&pw) != WHEEL_NEVER)
					p_advance(wheel_next_expiry(&pw));   /* as an event loop does */
				else
					p_advance(now + rng_below(&rng, 1ULL << 34));
				advances++;
			}
			p_check();
		}
		/* Drain: everything still armed fires, in order, and the wheel ends empty. */
		while (wheel_count(&pw) > 0) {
			p_advance(wheel_now(&pw) + (1ULL << 36));
			p_check();
		}
		assert_int_equal(ref_armed, 0);
	}
	print_message("%lu adds (%lu beyond 2^32 ticks), %lu cancels, %lu advances, %zu fired\n",
		      adds, far, cancels, advances, fired_seen);
	assert_true(fired_seen > total / 10);   /* the test did exercise firing */
	free(heap.e);
	heap.e = NULL;
	heap.cap = heap.n = 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(edge_empty_wheel),
		cmocka_unit_test(edge_level_boundaries),
		cmocka_unit_test(edge_past_tick_fires_at_next_advance),
		cmocka_unit_test(edge_cancel_and_rearm),
		cmocka_unit_test(edge_order_by_tick),
		cmocka_unit_test(edge_callback_cancels_a_timer_of_the_same_tick),
		cmocka_unit_test(edge_cancel_in_a_cascading_slot),
		cmocka_unit_test(edge_add_from_an_expiry),
		cmocka_unit_test(edge_periodic_timer),
		cmocka_unit_test(edge_next_expiry_wakeups),
		cmocka_unit_test(property_random_against_heap),
	};
	seed = rng_seed("IOLAB_SEED");
	print_message("seed=%llu (replay: IOLAB_SEED=%llu %s)\n",
		      (unsigned long long)seed, (unsigned long long)seed, argv[0]);
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
