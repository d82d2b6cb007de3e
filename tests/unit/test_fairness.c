/* Description: unit tests for common/fairness.c, Jain's index
 * (sum x)^2 / (n * sum x^2) — 1 when all shares are equal, 1/n when one
 * connection gets everything, k/n when k of n share equally, scale-free, NaN
 * when there is nothing to judge; and each share as a multiple of the fair one.
 *
 * Usage: bin/tests/test_fairness
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "common/fairness.h"

static double jain_of(const double *x, size_t n)
{
	struct jain j = { 0 };

	for (size_t i = 0; i < n; i++)
		jain_add(&j, x[i]);
	return jain_index(&j);
}

static void equal_shares_are_fair(void **state)
{
	const double x[] = { 200, 200, 200, 200 };

	(void)state;
	assert_float_equal(jain_of(x, 4), 1.0, 1e-12);
}

static void one_takes_all_is_one_over_n(void **state)
{
	const double x[] = { 0, 0, 900, 0, 0 };

	(void)state;
	assert_float_equal(jain_of(x, 5), 0.2, 1e-12);
}

static void k_equal_of_n_is_k_over_n(void **state)
{
	const double x[] = { 7, 7, 7, 0, 0, 0, 0, 0 };
	const double y[] = { 7000, 7000, 7000, 0, 0, 0, 0, 0 };

	(void)state;
	assert_float_equal(jain_of(x, 8), 3.0 / 8, 1e-12);
	assert_float_equal(jain_of(y, 8), jain_of(x, 8), 1e-12);   /* units do not matter */
}

static void uneven_pair(void **state)
{
	const double x[] = { 1, 3 };

	(void)state;
	assert_float_equal(jain_of(x, 2), 16.0 / (2 * 10), 1e-12);   /* (1+3)^2 / (2 * (1+9)) */
}

static void nothing_to_judge_is_nan(void **state)
{
	const double zeros[] = { 0, 0, 0 };

	(void)state;
	assert_true(isnan(jain_of(zeros, 0)));
	assert_true(isnan(jain_of(zeros, 3)));
}

static void shares_are_multiples_of_the_fair_share(void **state)
{
	struct jain j = { 0 };
	struct jain empty = { 0 };

	(void)state;
	jain_add(&j, 100);
	jain_add(&j, 300);
	assert_float_equal(jain_share(&j, 100), 0.5, 1e-12);
	assert_float_equal(jain_share(&j, 300), 1.5, 1e-12);
	assert_true(isnan(jain_share(&empty, 1)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(equal_shares_are_fair),
		cmocka_unit_test(one_takes_all_is_one_over_n),
		cmocka_unit_test(k_equal_of_n_is_k_over_n),
		cmocka_unit_test(uneven_pair),
		cmocka_unit_test(nothing_to_judge_is_nan),
		cmocka_unit_test(shares_are_multiples_of_the_fair_share),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
