/*
 * quarantine.c — the list of segments not shown, and when to look at them again.
 */
#include "viewer/quarantine.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "viewer/sample.h"

const char *bad_reason(int err)
{
	switch (err) {
	case BAD_STALE:   return "its process is gone (killed?); make clean-shm removes it";
	case BAD_KIND:    return "unknown segment kind";
	case BAD_EXITING: return "shutting down";
	}
	return tm_open_strerror(err);
}

struct bad_seg *bad_find(struct sampler *s, const char *path)
{
	for (size_t i = 0; i < s->nbad; i++)
		if (strcmp(s->bad[i].path, path) == 0)
			return &s->bad[i];
	return NULL;
}

struct bad_seg *bad_add(struct sampler *s, const char *path, ino_t ino, int err, uint64_t now)
{
	struct bad_seg *b;

	if (s->nbad == s->bad_cap) {
		size_t cap = s->bad_cap ? 2 * s->bad_cap : 8;
		struct bad_seg *v = realloc(s->bad, cap * sizeof(*v));

		if (!v)
			return NULL;      /* out of memory: we will simply look at it again */
		s->bad = v;
		s->bad_cap = cap;
	}
	b = &s->bad[s->nbad++];
	memset(b, 0, sizeof(*b));
	snprintf(b->path, sizeof(b->path), "%s", path);
	b->ino = ino;
	b->err = err;
	b->first_ns = now;
	b->retry_ns = now + BAD_RETRY_NS;
	b->seen = true;
	/* A dead writer is certain at once; garbage might be a segment being created. */
	if (err == BAD_STALE) {
		sampler_add_note(s, "ignored %s: %s", path, bad_reason(err));
		b->noted = true;
	} else if (err == BAD_EXITING) {
		b->noted = true;   /* nothing worth saying */
	}
	return b;
}

bool bad_still(struct sampler *s, struct bad_seg *b)
{
	struct stat st;

	b->seen = true;
	if (s->now_ns < b->retry_ns)
		return true;
	/* A dead writer's segment stays dead unless someone replaced the file. */
	if (b->err == BAD_STALE && stat(b->path, &st) == 0 && st.st_ino == b->ino) {
		b->retry_ns = s->now_ns + BAD_RETRY_NS;
		return true;
	}
	return false;
}

void bad_again(struct sampler *s, struct bad_seg *b, ino_t ino, int rc)
{
	b->err = rc;
	b->ino = ino;
	b->retry_ns = s->now_ns + BAD_RETRY_NS;
	if (!b->noted && s->now_ns - b->first_ns >= BAD_NOTE_AFTER) {
		sampler_add_note(s, "ignored %s: %s", b->path, bad_reason(rc));
		b->noted = true;
	}
}

void bad_sweep(struct sampler *s)
{
	size_t j = 0;

	for (size_t i = 0; i < s->nbad; i++)
		if (s->bad[i].seen)
			s->bad[j++] = s->bad[i];
	s->nbad = j;
}
