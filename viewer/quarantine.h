/*
 * quarantine.h — segments the viewer will not show (garbage, truncated, a dead
 * writer's, one shutting down): remembered, noted once, looked at again now and
 * then, so a bad file costs neither a crash nor a re-read every refresh.
 */
#ifndef IOLAB_VIEW_QUARANTINE_H
#define IOLAB_VIEW_QUARANTINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct sampler;

#define BAD_RETRY_NS    1000000000ull      /* look at a refused segment again after this */
#define BAD_NOTE_AFTER  1000000000ull      /* garbage this old is worth a note (a new
					      segment is all zeros for a moment) */
/* bad_seg.err, besides the tm_open_result values (all negative): */
#define BAD_STALE       1                  /* the writer is dead */
#define BAD_KIND        2                  /* unknown kind */
#define BAD_EXITING     3                  /* shutting down already */

struct bad_seg {
	char     path[256];
	ino_t    ino;
	int      err;                    /* tm_open_result, or BAD_* */
	uint64_t first_ns, retry_ns;
	bool     noted;
	bool     seen;                   /* found in the current directory scan */
};

const char     *bad_reason(int err);
struct bad_seg *bad_find(struct sampler *s, const char *path);
/* Quarantine a path; a dead writer is noted at once, garbage only if it stays garbage. */
struct bad_seg *bad_add(struct sampler *s, const char *path, ino_t ino, int err, uint64_t now);
/* A path tm_list() reported again: true if it is quarantined (and stays so for now). */
bool            bad_still(struct sampler *s, struct bad_seg *b);
/* It was looked at again and is still bad (rc): maybe note it now. */
void            bad_again(struct sampler *s, struct bad_seg *b, ino_t ino, int rc);
/* Forget paths that were not in the last scan. */
void            bad_sweep(struct sampler *s);

#endif
