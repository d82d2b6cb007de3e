/* fairness.c — see fairness.h. */
#include "common/fairness.h"

#include <math.h>

void jain_add(struct jain *j, double x)
{
	j->sum += x;
	j->sumsq += x * x;
	j->n++;
}

double jain_index(const struct jain *j)
{
	if (j->n == 0 || j->sumsq <= 0)
		return NAN;
	return j->sum * j->sum / ((double)j->n * j->sumsq);
}

double jain_share(const struct jain *j, double x)
{
	if (j->n == 0 || j->sum <= 0)
		return NAN;
	return x / (j->sum / (double)j->n);
}
