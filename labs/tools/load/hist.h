/*
 * hist.h — a latency histogram with logarithmic buckets (header-only; used by
 * bin/iolab-load, tested by tests/unit/test_hist.c).
 *
 * Values are unsigned 64-bit (iolab-load records nanoseconds).  Values below 128
 * have a bucket each; above that, every power of two [2^e, 2^(e+1)) is cut into
 * 128 equal sub-buckets.  A bucket's width is therefore at most 1/128 of its lower
 * bound, and reporting the bucket's midpoint is off by at most 1/256 (0.4 %) of the
 * true value: the "1 % relative error" promise with room to spare.  The same
 * scheme as HdrHistogram's, reduced to what a load generator needs:
 *
 *    value            bucket index
 *    0..127           the value itself                       (exact)
 *    [2^e, 2^(e+1))   128 + (e-7)*128 + (v >> (e-7)) - 128    (e = 7..63)
 *
 * 7424 buckets of 8 bytes = 58 KiB, whatever the range: recording is one
 * count-leading-zeros and one increment, so it never disturbs what it measures.
 * Count, sum, min and max are kept exactly beside the buckets.  Histograms of
 * different threads merge by adding buckets.
 */
#ifndef IOLAB_LOAD_HIST_H
#define IOLAB_LOAD_HIST_H

#include <stdint.h>
#include <string.h>

#define HIST_SUB_BITS 7
#define HIST_SUB      (1u << HIST_SUB_BITS)            /* sub-buckets per power of two */
#define HIST_NBUCKETS (HIST_SUB + (64 - HIST_SUB_BITS) * HIST_SUB)

struct hist {
	uint64_t count;              /* values recorded */
	uint64_t sum;                /* their sum (for the mean) */
	uint64_t min, max;           /* exact extremes; min = UINT64_MAX while empty */
	uint64_t b[HIST_NBUCKETS];   /* counts per bucket */
};

static inline void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

/* Which bucket holds v. */
static inline unsigned hist_index(uint64_t v)
{
	if (v < HIST_SUB)
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v);     /* 2^e <= v < 2^(e+1), e >= 7 */
	unsigned shift = e - HIST_SUB_BITS;
	return HIST_SUB + shift * HIST_SUB + (unsigned)(v >> shift) - HIST_SUB;
}

/* Smallest value of bucket i, and how many values it spans. */
static inline uint64_t hist_bucket_lo(unsigned i)
{
	if (i < HIST_SUB)
		return i;
	unsigned shift = (i - HIST_SUB) / HIST_SUB;
	uint64_t top = HIST_SUB + (i - HIST_SUB) % HIST_SUB;  /* 128..255 */
	return top << shift;
}

static inline uint64_t hist_bucket_width(unsigned i)
{
	return i < HIST_SUB ? 1 : (uint64_t)1 << ((i - HIST_SUB) / HIST_SUB);
}

static inline void hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

static inline void hist_merge(struct hist *dst, const struct hist *src)
{
	for (unsigned i = 0; i < HIST_NBUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

/*
 * The q-quantile (0 < q <= 1): the smallest recorded value v such that at least
 * ceil(q * count) values are <= v, estimated as the midpoint of v's bucket and
 * clamped to [min, max]; the first and last ranks give the exact min and max.  0 when empty.
 */
static inline uint64_t hist_quantile(const struct hist *h, double q)
{
	if (h->count == 0)
		return 0;
	double want = q * (double)h->count;
	uint64_t rank = (uint64_t)want;
	if ((double)rank < want)
		rank++;                                     /* ceil */
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;

	if (rank == h->count)
		return h->max;                              /* exact, not a bucket midpoint */
	if (rank == 1)
		return h->min;

	uint64_t seen = 0;
	for (unsigned i = 0; i < HIST_NBUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t v = hist_bucket_lo(i) + hist_bucket_width(i) / 2;
			if (v < h->min)
				v = h->min;
			if (v > h->max)
				v = h->max;
			return v;
		}
	}
	return h->max;
}

static inline double hist_mean(const struct hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

#endif
