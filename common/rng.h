/*
 * rng.h — splitmix64, the small random generator of iolab's property tests and
 * benchmarks: a 64-bit state, the same sequence on every machine, so that a seed
 * printed by a failing run replays it exactly.
 *
 *   struct rng r = { rng_seed("IOLAB_SEED") };    // $IOLAB_SEED, or time ^ pid
 *   uint64_t x = rng_next(&r), d = rng_below(&r, 6);
 *
 * Header only; not for anything secret.
 */
#ifndef IOLAB_RNG_H
#define IOLAB_RNG_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number in [0, n); 0 when n is 0.  (The modulo bias is negligible for test sizes.) */
static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
	return n ? rng_next(r) % n : 0;
}

/* The seed in environment variable `var` (any strtoull base), else one from the clock
 * and the pid: print it, so that the run can be replayed. */
static inline uint64_t rng_seed(const char *var)
{
	const char *s = getenv(var);

	if (s && *s)
		return strtoull(s, NULL, 0);
	return (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
}

#endif
