/*
 * framing.c — incremental frame decoder for len32, line, raw and fixed (see framing.h).
 */
#include "common/framing.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void frame_decoder_init(struct frame_decoder *d, enum framing mode, size_t max_frame)
{
	d->mode = mode;
	d->max_frame = max_frame ? max_frame : FRAME_DEFAULT_MAX;
	d->scanned = 0;
	d->last_len = 0;
}

void len32_put(unsigned char hdr[LEN32_HDR], uint32_t len)
{
	hdr[0] = (unsigned char)(len >> 24);
	hdr[1] = (unsigned char)(len >> 16);
	hdr[2] = (unsigned char)(len >> 8);
	hdr[3] = (unsigned char)len;
}

uint32_t len32_get(const unsigned char hdr[LEN32_HDR])
{
	return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
}

enum frame_status frame_next(struct frame_decoder *d, const char *p, size_t n, size_t *len)
{
	const char *nl;
	uint32_t l;

	switch (d->mode) {
	case FRAMING_RAW:
		if (n == 0)
			return FRAME_NEED_MORE;
		*len = n;                   /* raw: all there is, no boundary to wait for */
		return FRAME_OK;

	case FRAMING_FIXED:
		if (n < d->max_frame)
			return FRAME_NEED_MORE;
		*len = d->max_frame;        /* whatever the bytes are: no way to tell a bad one */
		return FRAME_OK;

	case FRAMING_LEN32:
		if (n < LEN32_HDR)
			return FRAME_NEED_MORE;
		l = len32_get((const unsigned char *)p);
		if (l > d->max_frame) {     /* refuse before buffering a single payload byte */
			d->last_len = l;
			return FRAME_ERROR;
		}
		if (n - LEN32_HDR < l)
			return FRAME_NEED_MORE;
		*len = LEN32_HDR + (size_t)l;
		return FRAME_OK;

	case FRAMING_LINE:
		/* Search only the bytes not searched before: O(n) over any split. */
		if (d->scanned > n)
			d->scanned = 0;
		nl = memchr(p + d->scanned, '\n', n - d->scanned);
		if (!nl) {
			d->scanned = n;
			if (n > d->max_frame) {
				d->last_len = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
				return FRAME_ERROR;
			}
			return FRAME_NEED_MORE;
		}
		*len = (size_t)(nl - p) + 1;
		d->scanned = 0;             /* the caller consumes this line; start afresh after it */
		if (*len > d->max_frame) {
			d->last_len = (uint32_t)*len;
			return FRAME_ERROR;
		}
		return FRAME_OK;
	}
	return FRAME_ERROR;
}

int framing_parse(const char *name)
{
	if (!strcmp(name, "len32"))
		return FRAMING_LEN32;
	if (!strcmp(name, "line"))
		return FRAMING_LINE;
	if (!strcmp(name, "raw"))
		return FRAMING_RAW;
	return -1;
}

const char *framing_name(enum framing mode)
{
	switch (mode) {
	case FRAMING_LEN32: return "len32";
	case FRAMING_LINE:  return "line";
	case FRAMING_RAW:   return "raw";
	case FRAMING_FIXED: return "fixed";
	}
	return "?";
}

int framing_parse_spec(const char *spec, enum framing *mode, size_t *size)
{
	unsigned long long n;
	const char *digits;
	char *end;
	int m;

	if (strncmp(spec, "fixed:", 6) != 0) {
		if ((m = framing_parse(spec)) < 0)
			return -1;
		*mode = (enum framing)m;
		*size = 0;
		return 0;
	}
	digits = spec + 6;
	if (*digits < '0' || *digits > '9')         /* no sign, no space, no empty */
		return -1;
	errno = 0;
	n = strtoull(digits, &end, 10);
	if (errno || *end || n == 0 || n > FRAME_FIXED_MAX)
		return -1;
	*mode = FRAMING_FIXED;
	*size = (size_t)n;
	return 0;
}

char *framing_spec(enum framing mode, size_t size, char *buf, size_t len)
{
	if (mode == FRAMING_FIXED)
		snprintf(buf, len, "fixed:%zu", size);
	else
		snprintf(buf, len, "%s", framing_name(mode));
	return buf;
}
