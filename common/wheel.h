/*
 * wheel.h — a hierarchical timing wheel (LESSONS.md §15).
 *
 * A server with 10^5 connections has 10^5 idle deadlines.  It must arm one on every
 * accept, push it back on every read, drop it on every close, and ask before every
 * epoll_wait() "when is the next one due?".  A timing wheel does the first three in
 * O(1) and the last in a few instructions.
 *
 * The picture: a clock face with 256 slots, one per tick (a tick is whatever unit the
 * caller counts in: iolab's servers pass milliseconds of CLOCK_MONOTONIC).  A timer due
 * in 5 ticks goes into the slot 5 ahead of the hand; each tick the hand moves one slot
 * and fires what it finds there.  Adding is "compute the slot, link the timer in";
 * cancelling is "unlink it" -- neither looks at any other timer, so both are O(1)
 * whatever the number of timers (a binary heap pays O(log n) for both).
 *
 * One face covers only 256 ticks.  A later timer goes on a coarser face: level 1 has
 * 256 slots of 256 ticks each (65,536 ticks), level 2 slots of 65,536 ticks, level 3
 * slots of 2^24 ticks: four levels span 2^32 ticks, 49.7 days of milliseconds; a timer
 * further out waits in level 3 and is placed again when it comes down.  When the hand
 * of level 0 completes a turn, the next slot of level 1 is emptied and each of its
 * timers is added again: now less than 256 ticks away, it lands on level 0 in the slot
 * of its exact tick.  That re-placing is CASCADING.  It is how a coarse slot (256
 * ticks wide) turns into exact firing times, and it is the wheel's one cost that is
 * not O(1): the tick at which a slot cascades moves every timer in that slot.  A timer
 * cascades at most LEVELS-1 times in its life (one parked beyond 2^32 ticks: once more
 * per 2^32 ticks), so the cost per timer stays O(1); the cost of that one tick does not
 * (bench-wheel in labs/15-timers measures it).
 *
 * Intrusive: struct timer lives inside the caller's struct (a connection), as in the
 * Linux kernel and libuv; the wheel never allocates.  The callback gets the struct
 * timer back and recovers its container with wheel_entry().
 *
 *   struct conn { int fd; struct timer idle; ... };
 *   static void on_idle(struct wheel *w, struct timer *t)
 *   {
 *           struct conn *c = wheel_entry(t, struct conn, idle);
 *           conn_close(c);                               // may cancel or add timers
 *   }
 *   timer_init(&c->idle, on_idle);
 *   wheel_add(&w, &c->idle, now_ms + 30000);              // arm, or move if armed
 *   wheel_advance(&w, now_ms);                             // fire what is due, in order
 *   epoll_wait(ep, ev, n, wheel_timeout(&w, now_ms));     // sleep until the next one
 *
 * Library code: no allocation, no I/O, no clock of its own (the caller passes "now").
 * Not thread-safe: one wheel belongs to one event loop.
 */
#ifndef IOLAB_WHEEL_H
#define IOLAB_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WHEEL_BITS    8                      /* 256 slots a level */
#define WHEEL_SLOTS   (1u << WHEEL_BITS)
#define WHEEL_MASK    (WHEEL_SLOTS - 1)
#define WHEEL_LEVELS  4                      /* 4 x 8 bits: a timer up to 2^32 ticks ahead is
                                                placed directly; a later one is re-placed on
                                                its way down */
#define WHEEL_NEVER   UINT64_MAX             /* wheel_next_expiry() of an empty wheel */

struct wheel;

/* A list link; a slot is the head of a circular doubly-linked list of timers. */
struct wheel_link {
	struct wheel_link *next, *prev;
};

struct timer {
	struct wheel_link link;     /* in a slot's list; link.next == NULL: not armed */
	uint64_t expires;           /* the tick asked for in wheel_add() */
	void   (*fn)(struct wheel *w, struct timer *t);   /* run by wheel_advance() */
	uint8_t  level, slot;       /* where it is linked (cancel clears the slot's bit) */
};

struct wheel {
	uint64_t now;               /* the next tick to process: every tick < now is done */
	size_t   count;             /* armed timers */
	struct wheel_link slots[WHEEL_LEVELS][WHEEL_SLOTS];
	uint64_t busy[WHEEL_LEVELS][WHEEL_SLOTS / 64];  /* bit set = slot not empty */
};

/* The struct that contains timer pointer t as member m (container_of). */
#define wheel_entry(t, type, m) ((type *)(void *)((char *)(t) - offsetof(type, m)))

/* An empty wheel whose first unprocessed tick is `now`.  Ticks are 64-bit and must stay
 * below 2^63 (292 million years of milliseconds): the wheel never has to wrap them. */
void     wheel_init(struct wheel *w, uint64_t now);
/* A timer that is not armed; fn runs when it fires (it may be NULL for a timer that is
 * only ever polled with timer_pending()). */
void     timer_init(struct timer *t, void (*fn)(struct wheel *, struct timer *));
static inline bool timer_pending(const struct timer *t) { return t->link.next != NULL; }

/* Arm t to fire at tick `expires`; an armed t is moved (like the kernel's mod_timer).
 * A tick that is already processed (expires < wheel_now()) means "as soon as
 * possible": t fires at the next tick processed.  O(1). */
void     wheel_add(struct wheel *w, struct timer *t, uint64_t expires);
/* Disarm t.  true if it was armed.  Safe on a timer that is not armed and from inside
 * a callback, even for a timer due in the same tick (it then does not fire).  O(1). */
bool     wheel_cancel(struct wheel *w, struct timer *t);

/* Process every tick up to and including `now`: cascade, then run the callbacks of the
 * timers due, in order of their ticks (timers due in the same tick: in no set order).
 * A timer is disarmed before its callback runs; the callback may add or cancel any
 * timer, itself included.  While callbacks of tick T run, wheel_now() is T+1, so a
 * timer a callback adds for T or earlier fires at T+1 (in this same call if now > T).
 * Stretches of ticks with nothing in them are skipped, not walked.  Returns the number
 * of callbacks run.  Not reentrant: a callback must not call wheel_advance(). */
size_t   wheel_advance(struct wheel *w, uint64_t now);

/* The next tick at which the wheel has work: a timer due, or a slot to cascade.  Never
 * later than the earliest timer, so an event loop may sleep until then; it is earlier
 * only when a cascade comes first (then the loop wakes, advances, asks again: at most
 * LEVELS-1 such wakeups per timer).  WHEEL_NEVER when empty.  O(LEVELS): it reads the
 * slot bitmaps, never a list. */
uint64_t wheel_next_expiry(const struct wheel *w);

/* The timeout for epoll_wait()/poll() in ticks: -1 when the wheel is empty, 0 when
 * something is due at or before `now`, else the ticks until wheel_next_expiry()
 * (capped at INT_MAX). */
int      wheel_timeout(const struct wheel *w, uint64_t now);

static inline size_t   wheel_count(const struct wheel *w) { return w->count; }
static inline uint64_t wheel_now(const struct wheel *w)   { return w->now; }

#endif
