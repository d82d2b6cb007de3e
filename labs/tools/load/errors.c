/* errors.c — count every error by kind; print the first MAX_LOGGED_ERRORS lines (any thread). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labs/tools/load/load.h"

const char *const err_names[NERR] = { "mismatch", "short", "closed", "connect", "unanswered" };
const char *const role_names[] = { "echo", "hog", "slow", "idle" };

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned        logged;

void load_die(const char *call)
{
	fprintf(stderr, PROG ": %s: %s\n", call, strerror(errno));
	exit(1);
}

/* Count an error of one kind and print its first lines (any thread). */
void load_report(struct stats *st, enum err_kind kind, uint64_t count, const char *fmt, ...)
{
	va_list ap;

	st->err[kind] += count;
	pthread_mutex_lock(&log_lock);
	if (logged < MAX_LOGGED_ERRORS) {
		va_start(ap, fmt);
		fprintf(stderr, PROG ": %s: ", err_names[kind]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	} else if (logged == MAX_LOGGED_ERRORS) {
		fprintf(stderr, PROG ": more errors: counted, not shown\n");
	}
	logged++;
	pthread_mutex_unlock(&log_lock);
}
