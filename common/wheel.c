/*
 * wheel.c — a hierarchical timing wheel: 4 levels of 256 slots (see wheel.h for the
 * picture).  Read top to bottom: the list and bitmap helpers, where a timer goes
 * (place), add and cancel, the tick (cascade, then fire), and the question an event
 * loop asks (next expiry).
 *
 * The one invariant everything rests on: a timer due at tick e that sits on level k
 * (k >= 1) is in slot (e >> 8k) & 255, and that slot is cascaded at the tick
 * e rounded down to a multiple of 256^k -- which is never later than e and, because
 * the timer was placed less than 256^(k+1) ticks ahead, is the first time the hand
 * reaches that slot.  On level 0 a timer sits in slot e & 255 and is less than 256
 * ticks ahead, so its slot is reached exactly at tick e.
 */
#include "common/wheel.h"

#include <limits.h>

#define LEVEL_SHIFT(k)  ((unsigned)(k) * WHEEL_BITS)
/* The furthest a timer can be placed directly: 256^LEVELS - 1 ticks ahead. */
#define MAX_AHEAD       ((1ULL << LEVEL_SHIFT(WHEEL_LEVELS)) - 1)

/* ------------------------------------------------------------------ lists and bitmaps */

static void list_init(struct wheel_link *h)          { h->next = h->prev = h; }
static bool list_empty(const struct wheel_link *h)   { return h->next == h; }

static void list_append(struct wheel_link *h, struct wheel_link *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static void list_unlink(struct wheel_link *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = NULL;           /* NULL next: "not armed" */
}

/* Move every entry of `from` to the (empty) list `to`: O(1), however many there are. */
static void list_splice(struct wheel_link *from, struct wheel_link *to)
{
	if (list_empty(from)) {
		list_init(to);
		return;
	}
	to->next = from->next;
	to->prev = from->prev;
	to->next->prev = to;
	to->prev->next = to;
	list_init(from);
}

static void bit_set(uint64_t *bm, unsigned i)   { bm[i / 64] |= 1ULL << (i % 64); }
static void bit_clear(uint64_t *bm, unsigned i) { bm[i / 64] &= ~(1ULL << (i % 64)); }

/* Distance d in [0, 255] of the first set bit at or after `from`, going round the
 * circle (slot (from + d) & 255), or -1 if all 256 bits are clear.  Five words read at
 * most: this is why wheel_next_expiry() never walks a list. */
static int next_busy(const uint64_t bm[WHEEL_SLOTS / 64], unsigned from)
{
	unsigned word = from / 64, bit = from % 64;
	uint64_t w = bm[word] & (~0ULL << bit);     /* this word, from `from` on */

	for (unsigned i = 0; i <= WHEEL_SLOTS / 64; i++) {
		if (w) {
			unsigned at = (word * 64 + (unsigned)__builtin_ctzll(w)) & WHEEL_MASK;
			return (int)((at - from) & WHEEL_MASK);
		}
		word = (word + 1) % (WHEEL_SLOTS / 64);
		w = bm[word];
		if (i + 1 == WHEEL_SLOTS / 64)      /* back at the first word: its low bits */
			w &= bit ? ~(~0ULL << bit) : 0;
	}
	return -1;
}

/* ------------------------------------------------------------------ placing a timer */

void wheel_init(struct wheel *w, uint64_t now)
{
	w->now = now;
	w->count = 0;
	for (unsigned k = 0; k < WHEEL_LEVELS; k++) {
		for (unsigned s = 0; s < WHEEL_SLOTS; s++)
			list_init(&w->slots[k][s]);
		for (unsigned i = 0; i < WHEEL_SLOTS / 64; i++)
			w->busy[k][i] = 0;
	}
}

void timer_init(struct timer *t, void (*fn)(struct wheel *, struct timer *))
{
	t->link.next = t->link.prev = NULL;
	t->expires = 0;
	t->fn = fn;
	t->level = t->slot = 0;
}

/* Link t into the slot for its tick, seen from w->now.  The level is the number of
 * whole bytes in the distance: less than 256 ticks ahead -> level 0, less than 65,536
 * -> level 1, and so on; the slot is that byte of the due tick.  Two shifts and a
 * compare per level: O(1). */
static void place(struct wheel *w, struct timer *t)
{
	/* EXERCISE BEGIN place: where a timer goes: its level and its slot */
	uint64_t due = t->expires < w->now ? w->now : t->expires;   /* past: next tick */
	uint64_t ahead = due - w->now;
	unsigned k = 0;

	if (ahead > MAX_AHEAD)              /* beyond the top level: park it as far out as the
	                                       wheel reaches; it is re-placed when that slot
	                                       cascades, with its real tick */
		due = w->now + MAX_AHEAD, ahead = MAX_AHEAD;
	while (k + 1 < WHEEL_LEVELS && ahead >> LEVEL_SHIFT(k + 1))
		k++;
	t->level = (uint8_t)k;
	t->slot = (uint8_t)((due >> LEVEL_SHIFT(k)) & WHEEL_MASK);
	list_append(&w->slots[k][t->slot], &t->link);
	bit_set(w->busy[k], t->slot);
	/* EXERCISE END place */
}

void wheel_add(struct wheel *w, struct timer *t, uint64_t expires)
{
	/* EXERCISE BEGIN add: arm a timer, or move an armed one */
	if (timer_pending(t))               /* re-arm: a connection that read data pushes its
	                                       idle deadline back; one unlink, one link */
		wheel_cancel(w, t);
	t->expires = expires;
	place(w, t);
	w->count++;
	/* EXERCISE END add */
}

bool wheel_cancel(struct wheel *w, struct timer *t)
{
	/* EXERCISE BEGIN cancel: disarm a timer in O(1) */
	struct wheel_link *head;

	if (!timer_pending(t))
		return false;
	head = &w->slots[t->level][t->slot];
	list_unlink(&t->link);
	/* t may sit in the private list of timers being fired this tick (see run_tick)
	 * rather than in its slot: look at the slot itself, not at t's neighbours. */
	if (list_empty(head))
		bit_clear(w->busy[t->level], t->slot);
	w->count--;
	return true;
	/* EXERCISE END cancel */
}

/* ------------------------------------------------------------------ one tick */

/* Empty slot s of level k and place each of its timers again, seen from the current
 * tick: they are now less than 256^k ticks away, so they go at least one level down,
 * into slots of finer grain.  The only loop over timers outside of firing them. */
static void cascade(struct wheel *w, unsigned k, unsigned s)
{
	/* EXERCISE BEGIN cascade: empty a coarse slot into the finer levels */
	struct wheel_link moving;

	list_splice(&w->slots[k][s], &moving);
	bit_clear(w->busy[k], s);
	while (!list_empty(&moving)) {
		struct timer *t = wheel_entry(moving.next, struct timer, link);

		list_unlink(&t->link);
		place(w, t);                    /* count unchanged: it never stopped being armed */
	}
	/* EXERCISE END cascade */
}

/* Process tick w->now: first the cascades due at it (level 1 when level 0's hand is
 * back at slot 0, level 2 when level 1's hand is also at 0, ...), so that timers due
 * at this very tick come down in time; then fire level 0's slot. */
static size_t run_tick(struct wheel *w)
{
	/* EXERCISE BEGIN tick: one tick: the cascades due, then fire the slot under the hand */
	uint64_t tick = w->now;
	unsigned s0 = tick & WHEEL_MASK;
	struct wheel_link due;
	size_t fired = 0;

	for (unsigned k = 1; k < WHEEL_LEVELS; k++) {
		if (tick & ((1ULL << LEVEL_SHIFT(k)) - 1))
			break;                      /* the hand below did not just come round */
		cascade(w, k, (tick >> LEVEL_SHIFT(k)) & WHEEL_MASK);
	}

	/* Take the slot's timers into a private list and move the clock on BEFORE running
	 * any callback: a callback that adds a timer for this tick then gets the next one
	 * (not this slot, which the hand would next reach 256 ticks later), and one that
	 * cancels a timer still waiting in `due` simply unlinks it from there. */
	list_splice(&w->slots[0][s0], &due);
	bit_clear(w->busy[0], s0);
	w->now = tick + 1;
	while (!list_empty(&due)) {
		struct timer *t = wheel_entry(due.next, struct timer, link);

		list_unlink(&t->link);          /* disarmed before its callback: it may re-add */
		w->count--;
		fired++;
		if (t->fn)
			t->fn(w, t);
	}
	return fired;
	/* EXERCISE END tick */
}

size_t wheel_advance(struct wheel *w, uint64_t now)
{
	size_t fired = 0;

	while (w->now <= now) {
		uint64_t next = wheel_next_expiry(w);

		if (next > now) {               /* nothing to do up to `now`: jump there */
			w->now = now + 1;
			break;
		}
		w->now = next;                  /* skip the empty ticks in between */
		fired += run_tick(w);
	}
	return fired;
}

/* ------------------------------------------------------------------ the next expiry */

uint64_t wheel_next_expiry(const struct wheel *w)
{
	uint64_t best = WHEEL_NEVER;
	int d;

	if (w->count == 0)
		return WHEEL_NEVER;
	/* Level 0: the first busy slot from the hand on is the exact next tick. */
	d = next_busy(w->busy[0], w->now & WHEEL_MASK);
	if (d >= 0)
		best = w->now + (uint64_t)d;
	/* Level k: its slots are cascaded at multiples of 256^k, the first at `at` below
	 * (w->now rounded up), then one slot every 256^k ticks.  Its first busy slot from
	 * there gives the tick of its next cascade -- a lower bound for its timers. */
	for (unsigned k = 1; k < WHEEL_LEVELS; k++) {
		uint64_t span = 1ULL << LEVEL_SHIFT(k);
		uint64_t at = (w->now + span - 1) & ~(span - 1);

		if (at >= best)                 /* higher levels start later still */
			break;
		d = next_busy(w->busy[k], (at >> LEVEL_SHIFT(k)) & WHEEL_MASK);
		if (d >= 0 && at + (uint64_t)d * span < best)
			best = at + (uint64_t)d * span;
	}
	return best;
}

int wheel_timeout(const struct wheel *w, uint64_t now)
{
	uint64_t next = wheel_next_expiry(w);

	if (next == WHEEL_NEVER)
		return -1;                      /* no timer: block until I/O */
	if (next <= now)
		return 0;
	return next - now > INT_MAX ? INT_MAX : (int)(next - now);
}
