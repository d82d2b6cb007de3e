/*
 * batch.h — the viewer without a screen: one JSON object per line per snapshot.
 */
#ifndef IOLAB_VIEW_BATCH_H
#define IOLAB_VIEW_BATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "viewer/sample.h"

struct batch_opts {
	long count;            /* snapshots to print; 0 = until interrupted */
	long interval_ms;      /* between snapshots */
	bool conns;            /* include every connection */
	bool (*stop)(void);    /* true when it is time to end (a signal came); NULL = never */
};

/* Print one snapshot line (the figures of the last interval).  *notes_seen: notes already printed. */
void batch_print(FILE *f, const struct sampler *s, bool conns, uint64_t *notes_seen);
/* Sample, wait, sample, print ... count times.  Returns the exit status. */
int  batch_run(struct sampler *s, const struct batch_opts *o);

#endif
