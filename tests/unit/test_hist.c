/*
 * Description: the load generator's latency histogram (labs/tools/load/hist.h):
 * bucket bounds, quantiles within 1 % of the exact ones on known distributions,
 * rank boundaries of a bimodal distribution, merging, the empty histogram.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#include <cmocka.h>

#include "labs/tools/load/hist.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)   /* xorshift64*: deterministic, so a failure reproduces */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* The exact q-quantile with the same definition as hist_quantile(): rank ceil(q*n). */
static uint64_t exact_quantile(const uint64_t *sorted, size_t n, double q)
{
	double want = q * (double)n;
	size_t rank = (size_t)want;
	if ((double)rank < want)
		rank++;
	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

static struct hist *new_hist(void)
{
	struct hist *h = malloc(sizeof(*h));
	assert_non_null(h);
	hist_init(h);
	return h;
}

static void check_quantiles(const struct hist *h, uint64_t *v, size_t n)
{
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999, 1.0 };

	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		double want = (double)exact_quantile(v, n, qs[i]);
		double got = (double)hist_quantile(h, qs[i]);
		double err = want > 0 ? fabs(got - want) / want : fabs(got);
		if (err > 0.01)
			fail_msg("q=%g: histogram says %.0f, exact %.0f (error %.2f %%)",
				 qs[i], got, want, err * 100);
	}
	assert_int_equal(hist_quantile(h, 1.0), v[n - 1]);      /* max is exact */
}

static void test_bucket_bounds(void **state)
{
	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint64_t v = rng() >> (rng() % 64);          /* every magnitude */
		unsigned b = hist_index(v);
		assert_true(b < HIST_NBUCKETS);
		uint64_t lo = hist_bucket_lo(b), w = hist_bucket_width(b);
		assert_true(lo <= v);
		assert_true(v - lo < w);
		if (b >= HIST_SUB)
			assert_true(w * HIST_SUB <= lo);         /* width <= 1/128 of the value */
	}
	assert_int_equal(hist_index(0), 0);
	assert_int_equal(hist_index(127), 127);
	assert_int_equal(hist_index(128), 128);
	assert_int_equal(hist_index(UINT64_MAX), HIST_NBUCKETS - 1);
	/* Consecutive buckets tile the line without gaps. */
	for (unsigned b = 0; b + 1 < HIST_NBUCKETS; b++)
		assert_true(hist_bucket_lo(b) + hist_bucket_width(b) == hist_bucket_lo(b + 1));
}

static void test_small_values_exact(void **state)
{
	(void)state;
	struct hist *h = new_hist();
	for (uint64_t v = 0; v < 100; v++)
		hist_add(h, v);
	assert_int_equal(hist_quantile(h, 0.5), 49);
	assert_int_equal(hist_quantile(h, 0.9), 89);
	assert_int_equal(hist_quantile(h, 0.99), 98);
	assert_int_equal(hist_quantile(h, 1.0), 99);
	assert_true(fabs(hist_mean(h) - 49.5) < 1e-9);
	free(h);
}

/* Log-uniform from 1 us to 1 s in ns: every bucket size gets exercised. */
static void test_log_uniform(void **state)
{
	(void)state;
	enum { N = 200000 };
	uint64_t *v = malloc(N * sizeof(*v));
	struct hist *h = new_hist();
	assert_non_null(v);
	for (size_t i = 0; i < N; i++) {
		double u = (double)(rng() >> 11) / 9007199254740992.0;   /* [0,1) */
		v[i] = (uint64_t)(1000.0 * pow(1e6, u));
		hist_add(h, v[i]);
	}
	check_quantiles(h, v, N);
	free(v);
	free(h);
}

/* Exponential (a queue's service times), mean 250 us. */
static void test_exponential(void **state)
{
	(void)state;
	enum { N = 100000 };
	uint64_t *v = malloc(N * sizeof(*v));
	struct hist *h = new_hist();
	assert_non_null(v);
	for (size_t i = 0; i < N; i++) {
		double u = ((double)(rng() >> 11) + 1.0) / 9007199254740993.0;   /* (0,1] */
		v[i] = (uint64_t)(-250000.0 * log(u));
		hist_add(h, v[i]);
	}
	check_quantiles(h, v, N);
	double mean = 0;
	for (size_t i = 0; i < N; i++)
		mean += (double)v[i];
	mean /= N;
	assert_true(fabs(hist_mean(h) - mean) < 1e-6 * mean);   /* the mean is exact */
	free(v);
	free(h);
}

/* 99 % fast, 1 % slow: p99 must still be fast and p99.9 slow (rank boundaries). */
static void test_bimodal(void **state)
{
	(void)state;
	struct hist *h = new_hist();
	for (int i = 0; i < 99000; i++)
		hist_add(h, 100000);                     /* 100 us */
	for (int i = 0; i < 1000; i++)
		hist_add(h, 10000000);                   /* 10 ms */
	double p99 = (double)hist_quantile(h, 0.99), p999 = (double)hist_quantile(h, 0.999);
	assert_true(fabs(p99 - 100000) <= 1000);
	assert_true(fabs(p999 - 10000000) <= 100000);
	assert_true(fabs((double)hist_quantile(h, 0.5) - 100000) <= 1000);
	assert_int_equal(h->max, 10000000);
	free(h);
}

static void test_merge(void **state)
{
	(void)state;
	struct hist *a = new_hist(), *b = new_hist(), *all = new_hist();
	for (int i = 0; i < 50000; i++) {
		uint64_t v = rng() % 5000000;
		hist_add(i % 3 ? a : b, v);
		hist_add(all, v);
	}
	hist_merge(a, b);
	assert_int_equal(a->count, all->count);
	assert_int_equal(a->sum, all->sum);
	assert_int_equal(a->min, all->min);
	assert_int_equal(a->max, all->max);
	assert_memory_equal(a->b, all->b, sizeof(a->b));
	free(a);
	free(b);
	free(all);
}

static void test_empty(void **state)
{
	(void)state;
	struct hist *h = new_hist();
	assert_int_equal(hist_quantile(h, 0.5), 0);
	assert_int_equal(hist_quantile(h, 1.0), 0);
	assert_true(hist_mean(h) == 0.0);
	struct hist *e = new_hist();
	hist_add(h, 42);
	hist_merge(h, e);                               /* merging an empty one changes nothing */
	assert_int_equal(h->min, 42);
	assert_int_equal(hist_quantile(h, 0.5), 42);
	free(h);
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_bounds),
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_log_uniform),
		cmocka_unit_test(test_exponential),
		cmocka_unit_test(test_bimodal),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
