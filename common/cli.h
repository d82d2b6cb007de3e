/*
 * cli.h — small helpers the lab programs share (iolab-close, iolab-herd, iolab-backlog):
 * numbers from the command line, a case list chosen by name, milliseconds, errno names.
 *
 * Library code: returns a status; never exits or prints (the program says what is wrong).
 */
#ifndef IOLAB_CLI_H
#define IOLAB_CLI_H

#include <stdbool.h>
#include <stddef.h>

/* s as a whole decimal number (a fraction too, for cli_parse_double) within lo..hi. */
bool cli_parse_long(const char *s, long lo, long hi, long *out);
bool cli_parse_double(const char *s, double lo, double hi, double *out);

long cli_now_ms(void);           /* CLOCK_MONOTONIC, milliseconds */
void cli_sleep_ms(long ms);      /* sleeps the whole time, through EINTR */

/* The index of s in names (a NULL-terminated list), or -1: for --bug=NAME and the like. */
int cli_name_index(const char *const *names, const char *s);

/* A program's cases, chosen by name on its command line (none named = all). */
struct cli_case {
	const char *name;
	void (*run)(void);
};

/*
 * Mark want[k] for every argv[first..argc-1] that names cases[k].  Returns -1, or the
 * index in argv of a word that names no case.  *any: whether any case was named.
 */
int cli_pick_cases(const struct cli_case *cases, size_t n, int argc, char **argv, int first,
		   bool *want, bool *any);

#endif
