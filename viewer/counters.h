/*
 * counters.h — the telemetry counters by name, what each means, and the figures
 * derived from them (scanned per wakeup ...), for the screen, --watch and JSON.
 *
 * Names are the ones in common/telemetry.c (tm_counter_names), which LESSONS.md
 * and bin/iolab-stat use: a lab that says "watch `scanned`" finds a column or a
 * line headed `scanned`, never a renamed abbreviation.
 */
#ifndef IOLAB_VIEW_COUNTERS_H
#define IOLAB_VIEW_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/telemetry.h"

/* Figures computed from two counters over the last interval (struct rates). */
enum derived {
	DV_EVENTS_PER_WAKEUP,     /* events / wakeups */
	DV_EMPTY_PCT,             /* empty_wakeups / wakeups, % */
	DV_SCANNED_PER_WAKEUP,    /* scanned / wakeups */
	DV_COMPLETIONS_PER_WAIT,  /* completions / wait_calls */
	DV_N
};

/* A watched figure: a counter (0 .. TM_NCOUNTERS_USED-1) or DERIVED_BASE + enum derived. */
#define DERIVED_BASE   1000
#define MAX_WATCH      8

struct watch {
	int n;
	int id[MAX_WATCH];
};

enum counter_kind {
	CK_COUNT,                 /* events counted: total and per second */
	CK_GAUGE,                 /* a level (active): no rate */
	CK_NS,                    /* nanoseconds: shown as a duration, its rate as time per second */
};

extern const char *const derived_names[DV_N];

enum counter_kind counter_kind(int c);
/* One line: what the counter counts. */
const char *counter_meaning(int c);
/* Is this counter about one model's mechanism (not the shared echo figures)? */
bool counter_is_model_specific(int c);

/* A watched id's name ("scanned", "scanned_per_wakeup"). */
const char *watch_name(int id);
/*
 * Parse "scanned,refused": 0, or -1 with a message naming the bad name and listing
 * the valid ones in err.  Names may repeat across calls (appended, duplicates ignored).
 */
int  watch_parse(struct watch *w, const char *list, char *err, size_t errlen);

/* A counter's total and per-second rate as short text ("12.3k", "450", "1.20s", "-"). */
char *counter_total_text(int c, uint64_t total, char *buf, size_t len);
char *counter_rate_text(int c, double per_s, char *buf, size_t len);

#endif
