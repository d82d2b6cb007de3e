/*
 * fairness.h — Jain's fairness index over per-connection shares.
 *
 *   J = (sum x)^2 / (n * sum x^2)
 *
 * 1 when every connection got the same, 1/n when one got everything.  Add the
 * shares one at a time (the caller decides which connections count).
 */
#ifndef IOLAB_FAIRNESS_H
#define IOLAB_FAIRNESS_H

#include <stddef.h>

struct jain {
	double sum;     /* sum of x */
	double sumsq;   /* sum of x^2 */
	size_t n;       /* how many x */
};

void jain_add(struct jain *j, double x);

/* The index, or NaN when there is nothing to judge (no shares, or all zero). */
double jain_index(const struct jain *j);

/* x as a multiple of the fair share sum/n (1.0 = exactly fair); NaN if sum is 0. */
double jain_share(const struct jain *j, double x);

#endif
