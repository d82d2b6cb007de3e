/*
 * evlog.h — the viewer's copy of one server's event ring, with honest counts of
 * what it does not hold.
 *
 * The server's ring (TM_NLOG entries) is overwritten as it goes; the viewer
 * copies new entries each refresh while the Events view is open, into a buffer of
 * LOG_KEEP.  Three different things can be missing from the screen, and the
 * view names each:
 *   before     written before the viewer started reading (older than the ring then)
 *   overwritten the ring lapped the viewer between two reads (a gap line marks where)
 *   dropped    read, then pushed out of the viewer's own buffer by newer events
 */
#ifndef IOLAB_VIEW_EVLOG_H
#define IOLAB_VIEW_EVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/telemetry.h"

#define LOG_KEEP       TM_NLOG  /* the viewer keeps as many events as the ring holds */

struct seg;

/* A line of the event log: a copied event, or (kind 0) a note that `value` events were lost. */
struct log_ring {
	uint64_t        cursor;          /* next ring index to read (tm_read_log) */
	bool            started;
	struct tm_event ev[LOG_KEEP];
	size_t          head, count;     /* oldest is ev[(head + LOG_KEEP - count) % LOG_KEEP] */
	uint64_t        before;          /* events written before the first read that were gone already */
	uint64_t        read_total;      /* events copied from the ring since the view opened */
	uint64_t        missed_total;    /* events the ring overwrote before the viewer read them */
	uint64_t        dropped;         /* lines pushed out of ev[] by newer ones */
	uint64_t        seq;             /* bumped whenever something is appended */
};

/* Copy new events now if g->want_log (sampling does it too; this is for a view just opened). */
void seg_poll_log(struct seg *g);
/* Event log of one segment, oldest first: i in [0, count). */
const struct tm_event *seg_log_at(const struct seg *g, size_t i);
size_t seg_log_count(const struct seg *g);

#endif
