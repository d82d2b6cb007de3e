/*
 * Description: libFuzzer harness for the frame decoder (common/framing.c).
 *
 * The fuzz input chooses everything: the framing, the frame limit, how the byte
 * stream is cut into reads, and the stream itself:
 *
 *   byte 0        framing: index into framings[] below (modulo its size)
 *   bytes 1-2     --max-frame, little-endian (0 = the decoder's default, 1 MiB);
 *                 for fixed:N, N
 *   byte 3        K: how many read sizes follow (K % 16)
 *   K bytes       read sizes, used in turn and again from the first: 0 = a call with
 *                 nothing new (a spurious wakeup), 255 = everything that is left
 *   the rest      the byte stream a client sent
 *
 * The harness feeds the reads to frame_next() the way a server does (append, then
 * take frames until it needs more, consume each one), handing it a heap copy of
 * exactly the unconsumed bytes so AddressSanitizer catches a read past them.  A
 * simple reference decoder reads the whole stream in one go; the two must agree:
 * the same frames, byte for byte, and the same protocol error after the same
 * number of frames.  Raw framing has no boundaries, so there its frames must be
 * exactly the non-empty reads.
 *
 * Adding a framing: one line in framings[] (and a ref_ function if it has rules).
 *
 * Build and run: make fuzz FUZZ_SECONDS=60  (or build/fuzz/fuzz_framing DIR -runs=N)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/framing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A reference decoder: given the whole stream from a frame boundary on (rest bytes),
 * say whether it starts with a frame (*len bytes), a protocol error, or too few bytes
 * to tell.  Written for clarity, not speed: it may look at everything every time.
 */
typedef enum frame_status (*ref_fn)(const uint8_t *s, size_t rest, size_t max, size_t *len);

static enum frame_status ref_len32(const uint8_t *s, size_t rest, size_t max, size_t *len)
{
	uint64_t l;

	if (rest < 4)
		return FRAME_NEED_MORE;
	l = (uint64_t)s[0] << 24 | (uint64_t)s[1] << 16 | (uint64_t)s[2] << 8 | s[3];
	if (l > max)                    /* refused as soon as the header is there */
		return FRAME_ERROR;
	if (rest - 4 < l)
		return FRAME_NEED_MORE;
	*len = 4 + (size_t)l;
	return FRAME_OK;
}

static enum frame_status ref_line(const uint8_t *s, size_t rest, size_t max, size_t *len)
{
	for (size_t i = 0; i < rest; i++) {
		if (s[i] == '\n') {
			*len = i + 1;
			return *len > max ? FRAME_ERROR : FRAME_OK;
		}
	}
	return rest > max ? FRAME_ERROR : FRAME_NEED_MORE;   /* no '\n' yet: too long already? */
}

static enum frame_status ref_fixed(const uint8_t *s, size_t rest, size_t max, size_t *len)
{
	if (rest < max)                 /* fixed:N passes N as max_frame; nothing is ever an error */
		return FRAME_NEED_MORE;
	*len = max;
	return FRAME_OK;
}

static const struct {
	enum framing mode;
	ref_fn       ref;               /* NULL: no boundaries, a frame is whatever one read brought */
} framings[] = {
	{ FRAMING_LEN32, ref_len32 },
	{ FRAMING_LINE,  ref_line },
	{ FRAMING_RAW,   NULL },
	{ FRAMING_FIXED, ref_fixed },
};
#define NFRAMINGS (sizeof(framings) / sizeof(framings[0]))

#define MAX_FRAMES 65536

/* What a decoder made of the stream: frames as (offset, length), then how it ended. */
struct outcome {
	size_t off[MAX_FRAMES], len[MAX_FRAMES];
	size_t n;
	int    error;                   /* a protocol error ended the stream */
};

static struct outcome got, want;

static void fail(const char *what, size_t i)
{
	fprintf(stderr, "fuzz_framing: %s (frame %zu)\n", what, i);
	abort();
}

static void add_frame(struct outcome *o, size_t off, size_t len)
{
	if (o->n == MAX_FRAMES)
		fail("too many frames", o->n);
	o->off[o->n] = off;
	o->len[o->n] = len;
	o->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_decoder d;
	const uint8_t *splits, *s;
	size_t nsplit, n, max, pos = 0, used = 0, k = 0;
	unsigned fi;

	if (size < 4)
		return 0;
	fi = data[0] % NFRAMINGS;
	max = (size_t)data[1] | (size_t)data[2] << 8;
	nsplit = data[3] % 16;
	if (size < 4 + nsplit)
		return 0;
	splits = data + 4;
	s = splits + nsplit;
	n = size - 4 - nsplit;

	frame_decoder_init(&d, framings[fi].mode, max);
	max = d.max_frame;              /* 0 became the default */

	/* The split decoder: reads of the chosen sizes, each frame consumed as it comes. */
	got.n = 0;
	got.error = 0;
	while (!got.error && (pos < n || k < nsplit)) {
		size_t r = nsplit ? splits[k % nsplit] : 255;

		if (r == 255 || r > n - pos)
			r = n - pos;
		if (nsplit && k >= nsplit && r == 0 && pos < n)
			r = 1;                  /* after one pass of the sizes, always make progress */
		size_t first = got.n;

		pos += r;
		k++;
		for (;;) {
			size_t avail = pos - used, len = 0;
			char *copy = malloc(avail ? avail : 1);   /* exactly the unconsumed bytes */
			enum frame_status st;

			if (!copy)
				abort();
			memcpy(copy, s + used, avail);
			st = frame_next(&d, copy, avail, &len);
			free(copy);
			if (st == FRAME_NEED_MORE)
				break;
			if (st == FRAME_ERROR) {
				if (d.last_len <= max)
					fail("error whose reported length is within the limit", got.n);
				got.error = 1;
				break;
			}
			if (st != FRAME_OK)
				fail("unknown status", got.n);
			if (len == 0 || len > avail)
				fail("frame length 0 or past the bytes given", got.n);
			add_frame(&got, used, len);
			used += len;
		}
		/* Raw: one read, one frame, all of it (nothing was left over from before). */
		if (!framings[fi].ref && (got.n - first != (r > 0) || (r > 0 && got.len[first] != r)))
			fail("a raw frame is not exactly what one read brought", first);
		if (pos == n && k >= nsplit)
			break;
	}

	/* The reference: the whole stream at once (raw: the reads themselves). */
	want.n = 0;
	want.error = 0;
	if (!framings[fi].ref) {
		size_t at = 0;

		for (size_t i = 0; i < got.n; i++) {
			if (got.off[i] != at)
				fail("raw frames are not contiguous", i);
			at += got.len[i];
		}
		if (got.error || at != n)
			fail("raw framing lost bytes or reported an error", got.n);
		return 0;
	}
	for (size_t at = 0;;) {
		size_t len = 0;
		enum frame_status st = framings[fi].ref(s + at, n - at, max, &len);

		if (st == FRAME_NEED_MORE)
			break;
		if (st == FRAME_ERROR) {
			want.error = 1;
			break;
		}
		add_frame(&want, at, len);
		at += len;
	}

	if (got.n != want.n)
		fail(got.n < want.n ? "the decoder found fewer frames than the reference"
				    : "the decoder found more frames than the reference", got.n < want.n ? got.n : want.n);
	for (size_t i = 0; i < got.n; i++)
		if (got.off[i] != want.off[i] || got.len[i] != want.len[i])
			fail("a frame differs from the reference's", i);
	if (got.error != want.error)
		fail(got.error ? "the decoder reported an error the reference did not"
			       : "the reference reported an error the decoder did not", got.n);
	return 0;
}
