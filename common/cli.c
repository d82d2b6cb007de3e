/*
 * cli.c — helpers shared by the lab programs (see cli.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cli.h"

bool cli_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool cli_parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))   /* !(>=) also rejects NaN */
		return false;
	*out = v;
	return true;
}

long cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void cli_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;   /* a signal cut it short: sleep the rest */
}

int cli_name_index(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

int cli_pick_cases(const struct cli_case *cases, size_t n, int argc, char **argv, int first,
		   bool *want, bool *any)
{
	*any = false;
	for (int i = first; i < argc; i++) {
		size_t k;

		for (k = 0; k < n && strcmp(argv[i], cases[k].name); k++)
			;
		if (k == n)
			return i;
		want[k] = *any = true;
	}
	return -1;
}
