/*
 * evlog.c — copy a server's event ring into the viewer (see evlog.h for the counts).
 */
#include "viewer/evlog.h"

#include <stdlib.h>

#include "viewer/sample.h"

#define LOG_BATCH 256                      /* events copied per tm_read_log() call */

static void log_append(struct log_ring *l, const struct tm_event *e)
{
	if (l->count == LOG_KEEP)
		l->dropped++;                      /* the oldest line makes room */
	l->ev[l->head] = *e;
	l->head = (l->head + 1) % LOG_KEEP;
	if (l->count < LOG_KEEP)
		l->count++;
	l->seq++;
}

/* Copy new events from the ring; a gap (overwritten before we read it) becomes a kind-0 line. */
void seg_poll_log(struct seg *g)
{
	struct tm_event batch[LOG_BATCH];
	struct log_ring *l = g->log;
	uint64_t missed;
	size_t n;

	if (!g->want_log || !g->rd.hdr) {
		if (l)
			l->started = false;   /* the next look starts afresh, not with a false gap */
		return;
	}
	if (!l) {
		l = g->log = calloc(1, sizeof(*l));
		if (!l)
			return;
	}
	if (!l->started) {
		uint64_t head = atomic_load(&g->rd.hdr->log_head);

		l->head = l->count = 0;
		l->missed_total = l->dropped = l->read_total = 0;
		/* Start at the oldest entry the ring still holds; older ones are gone for good. */
		l->cursor = head > g->rd.nlog ? head - g->rd.nlog : 0;
		l->before = l->cursor;
		l->started = true;
		l->seq++;
	}
	do {
		n = tm_read_log(&g->rd, &l->cursor, batch, LOG_BATCH, &missed);
		if (missed) {
			struct tm_event gap = { .kind = 0, .fd = -1, .value = (int64_t)missed };

			gap.t_ns = n ? batch[0].t_ns : 0;
			log_append(l, &gap);
			l->missed_total += missed;
		}
		for (size_t i = 0; i < n; i++)
			log_append(l, &batch[i]);
		l->read_total += n;
	} while (n == LOG_BATCH);
}

size_t seg_log_count(const struct seg *g)
{
	return g->log ? g->log->count : 0;
}

const struct tm_event *seg_log_at(const struct seg *g, size_t i)
{
	const struct log_ring *l = g->log;

	if (!l || i >= l->count)
		return NULL;
	return &l->ev[(l->head + LOG_KEEP - l->count + i) % LOG_KEEP];
}
