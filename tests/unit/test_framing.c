/* Description: unit tests for common/framing.c, the incremental frame decoder —
 * len32, line, raw and fixed:N; limits (L > max refused before the payload arrives, L == max
 * and L == 0 accepted; lines longer than max refused, exactly max accepted); name
 * parsing; the len32 header; and property tests that cut random frame streams at
 * random points, feed the pieces through a struct buf the way a server does, and
 * require the decoded frames to equal the originals byte for byte.  fixed:N: the
 * spec parser ("fixed:128"; no "fixed", "fixed:0", "fixed:12x"), frames of exactly
 * N bytes over any split, and how it fails: a lost byte is never an error, it
 * shifts every later frame.
 *
 * Usage: bin/tests/test_framing [PATTERN]      (PATTERN: a cmocka glob, e.g. 'property_*')
 *        IOLAB_SEED=N bin/tests/test_framing   (replay the random cases with seed N)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/framing.h"

#define TRIALS 2000             /* random streams per property test */

static uint64_t seed;           /* printed once; every random case starts from it */
static uint64_t rng_state;

/* splitmix64: tiny, good enough, and the same sequence on every machine. */
static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t rng_below(size_t n)
{
	return n ? (size_t)(rng_next() % n) : 0;
}

/* Call frame_next() on exactly the n bytes at p (a heap copy of exactly n bytes, so
 * AddressSanitizer catches a decoder that looks one byte too far). */
static enum frame_status next_exact(struct frame_decoder *d, const char *p, size_t n, size_t *len)
{
	char *copy = malloc(n ? n : 1);
	enum frame_status st;

	assert_non_null(copy);
	if (n)
		memcpy(copy, p, n);
	st = frame_next(d, copy, n, len);
	free(copy);
	return st;
}

/* ------------------------------------------------------------------ names and header */

static void framing_parse_and_name_round_trip(void **state)
{
	const enum framing modes[] = { FRAMING_LEN32, FRAMING_LINE, FRAMING_RAW };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		const char *name = framing_name(modes[i]);

		assert_non_null(name);
		assert_int_equal(framing_parse(name), modes[i]);
	}
	assert_string_equal(framing_name(FRAMING_LEN32), "len32");
	assert_string_equal(framing_name(FRAMING_LINE), "line");
	assert_string_equal(framing_name(FRAMING_RAW), "raw");
	assert_int_equal(framing_parse("len32"), FRAMING_LEN32);
	assert_int_equal(framing_parse("line"), FRAMING_LINE);
	assert_int_equal(framing_parse("raw"), FRAMING_RAW);
}

static void framing_parse_unknown_names_fail(void **state)
{
	const char *bad[] = { "", "LEN32", "Line", "len", "len32 ", " raw", "lines", "raw\n", "json" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(framing_parse(bad[i]), -1);
	assert_string_equal(framing_name((enum framing)42), "?");
}

static void len32_put_get_round_trip(void **state)
{
	const uint32_t v[] = { 0, 1, 255, 256, 65535, 65536, 0x01020304, FRAME_DEFAULT_MAX,
			       0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff };
	unsigned char h[LEN32_HDR];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		len32_put(h, v[i]);
		assert_int_equal(len32_get(h), v[i]);
	}
	/* Big-endian on the wire, whatever the host is. */
	len32_put(h, 0x01020304);
	assert_memory_equal(h, "\x01\x02\x03\x04", 4);
	len32_put(h, 0xffffffff);
	assert_memory_equal(h, "\xff\xff\xff\xff", 4);
	len32_put(h, 0);
	assert_memory_equal(h, "\0\0\0\0", 4);
	/* High bytes must not sign-extend. */
	memcpy(h, "\x80\x00\x00\xff", 4);
	assert_int_equal(len32_get(h), 0x800000ffu);

	rng_state = seed;
	for (int i = 0; i < 10000; i++) {
		uint32_t x = (uint32_t)rng_next();

		len32_put(h, x);
		assert_int_equal(len32_get(h), x);
		assert_int_equal(h[0], x >> 24);
		assert_int_equal(h[3], x & 0xff);
	}
}

static void decoder_init_defaults_max_frame(void **state)
{
	struct frame_decoder d;

	frame_decoder_init(&d, FRAMING_LEN32, 0);
	assert_int_equal(d.mode, FRAMING_LEN32);
	assert_int_equal(d.max_frame, FRAME_DEFAULT_MAX);
	assert_int_equal(d.scanned, 0);
	frame_decoder_init(&d, FRAMING_LINE, 77);
	assert_int_equal(d.max_frame, 77);
}

/* ------------------------------------------------------------------ fixed */

static void fixed_spec_parses_and_prints(void **state)
{
	enum framing mode = FRAMING_RAW;
	size_t size = 99;
	char buf[32];

	assert_int_equal(framing_parse_spec("fixed:128", &mode, &size), 0);
	assert_int_equal(mode, FRAMING_FIXED);
	assert_int_equal(size, 128);
	assert_string_equal(framing_spec(mode, size, buf, sizeof(buf)), "fixed:128");
	assert_int_equal(framing_parse_spec("fixed:1", &mode, &size), 0);
	assert_int_equal(size, 1);
	assert_int_equal(framing_parse_spec("fixed:67108864", &mode, &size), 0);
	assert_int_equal(size, FRAME_FIXED_MAX);
	/* The other framings go through the same door, with size 0. */
	assert_int_equal(framing_parse_spec("line", &mode, &size), 0);
	assert_int_equal(mode, FRAMING_LINE);
	assert_int_equal(size, 0);
	assert_string_equal(framing_spec(FRAMING_LEN32, 0, buf, sizeof(buf)), "len32");
	assert_string_equal(framing_name(FRAMING_FIXED), "fixed");
}

static void fixed_spec_refuses_bad_sizes(void **state)
{
	const char *bad[] = { "fixed", "fixed:", "fixed:0", "fixed:-1", "fixed:+5", "fixed: 5",
			      "fixed:12x", "fixed:67108865", "fixed:99999999999999999999",
			      "FIXED:5", "fixed:5 ", "fixed;5", "len32:4", "" };
	enum framing mode = FRAMING_RAW;
	size_t size = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (framing_parse_spec(bad[i], &mode, &size) != -1) {
			print_error("framing_parse_spec accepted '%s'\n", bad[i]);
			fail();
		}
	}
	assert_int_equal(mode, FRAMING_RAW);     /* untouched on failure */
	assert_int_equal(size, 7);
	/* The bare name means nothing without a size. */
	assert_int_equal(framing_parse("fixed"), -1);
}

static void fixed_waits_for_exactly_n_bytes(void **state)
{
	struct frame_decoder d;
	char two[10] = "abcdeFGHIJ";
	size_t len = 0;

	frame_decoder_init(&d, FRAMING_FIXED, 5);
	for (size_t n = 0; n < 5; n++)
		assert_int_equal(next_exact(&d, two, n, &len), FRAME_NEED_MORE);
	assert_int_equal(next_exact(&d, two, 5, &len), FRAME_OK);
	assert_int_equal(len, 5);
	/* Two frames coalesced: one at a time, five bytes each. */
	assert_int_equal(frame_next(&d, two, 10, &len), FRAME_OK);
	assert_int_equal(len, 5);
	assert_int_equal(frame_next(&d, two + 5, 5, &len), FRAME_OK);
	assert_int_equal(len, 5);
	/* fixed:1 is every byte a frame. */
	frame_decoder_init(&d, FRAMING_FIXED, 1);
	assert_int_equal(frame_next(&d, two, 10, &len), FRAME_OK);
	assert_int_equal(len, 1);
}

/*
 * How fixed framing fails: frame i is N copies of the byte i.  Drop one byte of
 * frame 2: the decoder never reports an error (it cannot), and from frame 2 on
 * every frame straddles two originals.
 */
static void fixed_lost_byte_shifts_every_later_frame(void **state)
{
	enum { N = 8, FRAMES = 6 };
	char stream[N * FRAMES];
	struct frame_decoder d;
	size_t off = 0, len = 0, lost = 2 * N + 3, got = 0;

	for (int i = 0; i < FRAMES; i++)
		memset(stream + i * N, 'A' + i, N);
	memmove(stream + lost, stream + lost + 1, sizeof(stream) - lost - 1);   /* one byte lost */
	frame_decoder_init(&d, FRAMING_FIXED, N);
	while (frame_next(&d, stream + off, sizeof(stream) - 1 - off, &len) == FRAME_OK) {
		const char *f = stream + off;
		bool whole = memchr(f, f[0] + 1, N) == NULL;   /* one original frame's bytes only */

		if (got < 2)
			assert_true(whole);                    /* before the loss: intact */
		else
			assert_false(whole);                   /* after it: every frame shifted */
		off += len;
		got++;
	}
	assert_int_equal(got, FRAMES - 1);                     /* and the last frame waits for a byte */
	assert_int_equal(frame_next(&d, stream + off, sizeof(stream) - 1 - off, &len), FRAME_NEED_MORE);
}

/* ------------------------------------------------------------------ len32 */

static void len32_waits_for_header_then_payload(void **state)
{
	char frame[LEN32_HDR + 5];
	struct frame_decoder d;
	size_t len = 0;

	len32_put((unsigned char *)frame, 5);
	memcpy(frame + LEN32_HDR, "hello", 5);
	frame_decoder_init(&d, FRAMING_LEN32, 100);
	for (size_t n = 0; n < sizeof(frame); n++)
		assert_int_equal(next_exact(&d, frame, n, &len), FRAME_NEED_MORE);
	assert_int_equal(next_exact(&d, frame, sizeof(frame), &len), FRAME_OK);
	assert_int_equal(len, sizeof(frame));
}

static void len32_zero_length_frames(void **state)
{
	char stream[3 * LEN32_HDR + 1];
	struct frame_decoder d;
	size_t len = 0;

	memset(stream, 0, sizeof(stream));
	stream[3 * LEN32_HDR] = 'x';                /* part of a 4th header */
	frame_decoder_init(&d, FRAMING_LEN32, 10);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(next_exact(&d, stream + i * LEN32_HDR,
					    sizeof(stream) - (size_t)i * LEN32_HDR, &len), FRAME_OK);
		assert_int_equal(len, LEN32_HDR);   /* a header with no payload is a frame */
	}
	assert_int_equal(next_exact(&d, stream + 3 * LEN32_HDR, 1, &len), FRAME_NEED_MORE);
}

static void len32_oversize_refused_before_payload(void **state)
{
	unsigned char h[LEN32_HDR];
	struct frame_decoder d;
	size_t len = 0;

	frame_decoder_init(&d, FRAMING_LEN32, 100);
	len32_put(h, 101);                          /* one over: refused on the header alone */
	assert_int_equal(next_exact(&d, (char *)h, LEN32_HDR, &len), FRAME_ERROR);
	assert_int_equal(d.last_len, 101);

	frame_decoder_init(&d, FRAMING_LEN32, 100);
	len32_put(h, 0xffffffff);
	assert_int_equal(next_exact(&d, (char *)h, LEN32_HDR, &len), FRAME_ERROR);
	assert_int_equal(d.last_len, 0xffffffff);

	/* The default limit: 1 MiB is fine, 1 MiB + 1 is not. */
	frame_decoder_init(&d, FRAMING_LEN32, 0);
	len32_put(h, FRAME_DEFAULT_MAX);
	assert_int_equal(next_exact(&d, (char *)h, LEN32_HDR, &len), FRAME_NEED_MORE);
	len32_put(h, FRAME_DEFAULT_MAX + 1);
	assert_int_equal(next_exact(&d, (char *)h, LEN32_HDR, &len), FRAME_ERROR);
	assert_int_equal(d.last_len, FRAME_DEFAULT_MAX + 1);
}

static void len32_exactly_max_is_accepted(void **state)
{
	const size_t max = 1000;
	char *frame = malloc(LEN32_HDR + max);
	struct frame_decoder d;
	size_t len = 0;

	assert_non_null(frame);
	len32_put((unsigned char *)frame, (uint32_t)max);
	memset(frame + LEN32_HDR, 'm', max);
	frame_decoder_init(&d, FRAMING_LEN32, max);
	assert_int_equal(next_exact(&d, frame, LEN32_HDR, &len), FRAME_NEED_MORE);
	assert_int_equal(next_exact(&d, frame, LEN32_HDR + max - 1, &len), FRAME_NEED_MORE);
	assert_int_equal(next_exact(&d, frame, LEN32_HDR + max, &len), FRAME_OK);
	assert_int_equal(len, LEN32_HDR + max);
	free(frame);
}

/* ------------------------------------------------------------------ line */

static void line_frames_include_the_newline(void **state)
{
	const char *s = "abc\n\nxy";
	struct frame_decoder d;
	size_t len = 0;

	frame_decoder_init(&d, FRAMING_LINE, 100);
	assert_int_equal(next_exact(&d, s, 0, &len), FRAME_NEED_MORE);
	assert_int_equal(next_exact(&d, s, 3, &len), FRAME_NEED_MORE);
	assert_int_equal(next_exact(&d, s, strlen(s), &len), FRAME_OK);
	assert_int_equal(len, 4);
	s += len;
	assert_int_equal(next_exact(&d, s, strlen(s), &len), FRAME_OK);   /* an empty line */
	assert_int_equal(len, 1);
	s += len;
	assert_int_equal(next_exact(&d, s, strlen(s), &len), FRAME_NEED_MORE);
	/* Bytes other than '\n' are payload, even NUL and '\r'. */
	frame_decoder_init(&d, FRAMING_LINE, 100);
	assert_int_equal(next_exact(&d, "a\0\r\n", 4, &len), FRAME_OK);
	assert_int_equal(len, 4);
}

static void line_of_exactly_max_is_accepted(void **state)
{
	char line[8] = "1234567\n";             /* 8 bytes including the newline */
	struct frame_decoder d;
	size_t len = 0;

	frame_decoder_init(&d, FRAMING_LINE, sizeof(line));
	assert_int_equal(next_exact(&d, line, 7, &len), FRAME_NEED_MORE);
	assert_int_equal(next_exact(&d, line, 8, &len), FRAME_OK);
	assert_int_equal(len, 8);
}

static void line_longer_than_max_is_refused(void **state)
{
	char s[32];
	struct frame_decoder d;
	size_t len = 0;

	/* No newline, more than max bytes: refused without waiting for the newline. */
	memset(s, 'a', sizeof(s));
	frame_decoder_init(&d, FRAMING_LINE, 8);
	assert_int_equal(next_exact(&d, s, 9, &len), FRAME_ERROR);
	assert_int_equal(d.last_len, 9);

	/* The newline is there but one byte too late (9 bytes with the newline). */
	memcpy(s, "12345678\n", 9);
	frame_decoder_init(&d, FRAMING_LINE, 8);
	assert_int_equal(next_exact(&d, s, 9, &len), FRAME_ERROR);
	assert_int_equal(d.last_len, 9);

	/* Byte by byte: fine up to max, refused at max + 1. */
	memset(s, 'b', sizeof(s));
	frame_decoder_init(&d, FRAMING_LINE, 8);
	for (size_t n = 1; n <= 8; n++)
		assert_int_equal(next_exact(&d, s, n, &len), FRAME_NEED_MORE);
	assert_int_equal(next_exact(&d, s, 9, &len), FRAME_ERROR);

	/* A good line first is still delivered; the long one after it is refused. */
	memcpy(s, "ok\n", 3);
	frame_decoder_init(&d, FRAMING_LINE, 8);
	assert_int_equal(next_exact(&d, s, 20, &len), FRAME_OK);
	assert_int_equal(len, 3);
	assert_int_equal(next_exact(&d, s + 3, 17, &len), FRAME_ERROR);
}

static void line_scans_each_byte_once(void **state)
{
	char s[64];
	struct frame_decoder d;
	size_t len = 0;

	memset(s, 'z', sizeof(s));
	s[50] = '\n';
	frame_decoder_init(&d, FRAMING_LINE, 100);
	for (size_t n = 1; n <= 50; n++) {
		assert_int_equal(next_exact(&d, s, n, &len), FRAME_NEED_MORE);
		assert_int_equal(d.scanned, n);     /* remembers how far it looked */
	}
	assert_int_equal(next_exact(&d, s, sizeof(s), &len), FRAME_OK);
	assert_int_equal(len, 51);
	assert_int_equal(d.scanned, 0);             /* starts afresh after a frame */

	/* A shorter buffer than last time (the caller dropped bytes): no stale offset used. */
	assert_int_equal(next_exact(&d, s, 40, &len), FRAME_NEED_MORE);
	assert_int_equal(next_exact(&d, "x\n", 2, &len), FRAME_OK);
	assert_int_equal(len, 2);
}

/* ------------------------------------------------------------------ raw */

static void raw_returns_all_bytes(void **state)
{
	static char big[100000];
	struct frame_decoder d;
	size_t len = 0;

	frame_decoder_init(&d, FRAMING_RAW, 10);
	assert_int_equal(next_exact(&d, "", 0, &len), FRAME_NEED_MORE);
	assert_int_equal(next_exact(&d, "a", 1, &len), FRAME_OK);
	assert_int_equal(len, 1);
	assert_int_equal(next_exact(&d, "a\nb\0\n", 5, &len), FRAME_OK);
	assert_int_equal(len, 5);
	/* No limit and no boundaries in raw mode: all of it, even past max_frame. */
	memset(big, '\n', sizeof(big));
	assert_int_equal(next_exact(&d, big, sizeof(big), &len), FRAME_OK);
	assert_int_equal(len, sizeof(big));
}

/* ------------------------------------------------------------------ property tests */

struct stream {
	char   *bytes;          /* the concatenated wire bytes */
	size_t  len;
	size_t  nframes;
	size_t *off, *flen;     /* each frame's offset and length on the wire */
	size_t  bad;            /* index of the oversize frame, or nframes if none */
};

static void stream_free(struct stream *s)
{
	free(s->bytes);
	free(s->off);
	free(s->flen);
	memset(s, 0, sizeof(*s));
}

/* A payload length: often tiny, sometimes 0, sometimes exactly the limit. */
static size_t random_len(size_t max)
{
	switch (rng_below(8)) {
	case 0:  return 0;
	case 1:  return max;
	case 2:  return rng_below(max + 1);
	default: return rng_below(max < 40 ? max + 1 : 40);
	}
}

/*
 * Build a random stream of nframes frames.  With `bad` < nframes, frame `bad` is
 * oversize (len32: L = max + 1 .. max + 100; line: max + 1 .. max + 100 bytes with
 * no newline among the first max + 1).
 */
static void stream_make(struct stream *s, enum framing mode, size_t max, size_t nframes, size_t bad)
{
	size_t cap = nframes * (max + 200) + 16;

	s->bytes = malloc(cap);
	s->off = calloc(nframes + 1, sizeof(size_t));
	s->flen = calloc(nframes + 1, sizeof(size_t));
	assert_non_null(s->bytes);
	assert_non_null(s->off);
	assert_non_null(s->flen);
	s->len = 0;
	s->nframes = nframes;
	s->bad = bad;
	for (size_t i = 0; i < nframes; i++) {
		char *p = s->bytes + s->len;
		size_t n;

		s->off[i] = s->len;
		if (mode == FRAMING_FIXED) {
			n = max;                /* no frame can be bad: every N bytes are one */
			for (size_t k = 0; k < n; k++)
				p[k] = (char)rng_next();
		} else if (mode == FRAMING_LEN32) {
			n = i == bad ? max + 1 + rng_below(100) : random_len(max);
			len32_put((unsigned char *)p, (uint32_t)n);
			for (size_t k = 0; k < n; k++)
				p[LEN32_HDR + k] = (char)rng_next();
			n += LEN32_HDR;
		} else {
			/* line: the limit counts the '\n'; payload bytes are anything else */
			n = i == bad ? max + 1 + rng_below(100) : random_len(max - 1) + 1;
			for (size_t k = 0; k + 1 < n; k++) {
				do
					p[k] = (char)rng_next();
				while (p[k] == '\n');
			}
			p[n - 1] = '\n';
		}
		assert_true(s->len + n <= cap);
		s->flen[i] = n;
		s->len += n;
	}
}

/* How many bytes arrive next: mostly small pieces, now and then a big lump. */
static size_t random_chunk(size_t left)
{
	size_t n;

	switch (rng_below(10)) {
	case 0:  n = left; break;                       /* everything at once: full coalescing */
	case 1:
	case 2:  n = 1 + rng_below(4096); break;
	case 3:
	case 4:  n = 1 + rng_below(64); break;
	default: n = 1 + rng_below(8); break;           /* split headers and lines byte-wise */
	}
	return n < left ? n : left;
}

/*
 * Feed the stream through a struct buf in random chunks and decode it as a server
 * does: after each arrival, take frames until NEED_MORE.  Checks every frame against
 * the original.  When FRAME_ERROR comes, *before and *after get how many bytes had
 * arrived before and after the arrival that triggered it.
 */
static void feed_and_check(const struct stream *s, enum framing mode, size_t max, bool exact,
			   size_t *before, size_t *after)
{
	struct frame_decoder d;
	struct buf b;
	size_t fed = 0, next = 0, consumed = 0, flen = 0;
	enum frame_status st = FRAME_NEED_MORE;

	buf_init(&b);
	frame_decoder_init(&d, mode, max);
	while (fed < s->len) {
		size_t n = random_chunk(s->len - fed);

		assert_int_equal(buf_append(&b, s->bytes + fed, n), 0);
		*before = fed;
		fed += n;
		*after = fed;
		for (;;) {
			st = exact ? next_exact(&d, buf_peek(&b), buf_len(&b), &flen)
				   : frame_next(&d, buf_peek(&b), buf_len(&b), &flen);
			if (st != FRAME_OK)
				break;
			assert_true(next < s->nframes);
			assert_true(next != s->bad);
			assert_int_equal(flen, s->flen[next]);
			assert_int_equal(consumed, s->off[next]);
			assert_memory_equal(buf_peek(&b), s->bytes + s->off[next], flen);
			buf_consume(&b, flen);
			consumed += flen;
			next++;
		}
		if (st == FRAME_ERROR)
			break;
	}
	if (s->bad < s->nframes) {
		assert_int_equal(st, FRAME_ERROR);
		assert_int_equal(next, s->bad);     /* every frame before the bad one, no more */
		buf_free(&b);
		return;
	}
	assert_int_equal(st, FRAME_NEED_MORE);
	assert_int_equal(next, s->nframes);
	assert_int_equal(buf_len(&b), 0);
	buf_free(&b);
}

/*
 * TRIALS random streams of framing `mode`, each cut at random points and decoded:
 * every frame must come out whole and equal.  The limit (len32, line) or the frame
 * size (fixed) is mostly up to `small`, now and then up to 5000.
 */
static void random_splits(enum framing mode, uint64_t salt, size_t small)
{
	rng_state = seed ^ salt;
	for (int t = 0; t < TRIALS; t++) {
		size_t max = rng_below(4) ? 1 + rng_below(small) : 1 + rng_below(5000);
		size_t before, after;
		struct stream s;

		stream_make(&s, mode, max, 1 + rng_below(40), SIZE_MAX);
		feed_and_check(&s, mode, max, t & 1, &before, &after);
		stream_free(&s);
	}
}

static void property_len32_random_splits(void **state)
{
	random_splits(FRAMING_LEN32, 0, 300);
}

static void property_line_random_splits(void **state)
{
	random_splits(FRAMING_LINE, 0x11, 300);
}

/* fixed:N: whatever the split, frames of exactly N bytes, each equal to what was sent. */
static void property_fixed_random_splits(void **state)
{
	random_splits(FRAMING_FIXED, 0x44, 64);
}

/* raw: whatever the split, the bytes come out once each, in order, as they arrive. */
static void property_raw_random_splits(void **state)
{
	rng_state = seed ^ 0x22;
	for (int t = 0; t < TRIALS / 4; t++) {
		struct frame_decoder d;
		struct stream s;
		struct buf b;
		size_t fed = 0, flen = 0;
		char *out;

		stream_make(&s, FRAMING_LEN32, 1 + rng_below(1000), 1 + rng_below(40), SIZE_MAX);
		out = malloc(s.len);
		assert_non_null(out);
		buf_init(&b);
		frame_decoder_init(&d, FRAMING_RAW, 1 + rng_below(100));
		while (fed < s.len) {
			size_t n = random_chunk(s.len - fed);

			assert_int_equal(buf_append(&b, s.bytes + fed, n), 0);
			assert_int_equal(frame_next(&d, buf_peek(&b), buf_len(&b), &flen), FRAME_OK);
			assert_int_equal(flen, buf_len(&b));
			memcpy(out + fed, buf_peek(&b), flen);
			buf_consume(&b, flen);
			fed += n;
			assert_int_equal(frame_next(&d, buf_peek(&b), buf_len(&b), &flen), FRAME_NEED_MORE);
		}
		assert_memory_equal(out, s.bytes, s.len);
		free(out);
		buf_free(&b);
		stream_free(&s);
	}
}

/* len32: an oversize header is refused as soon as its 4 bytes are in, whatever the split. */
static void property_len32_oversize_detected_on_header(void **state)
{
	rng_state = seed ^ 0x33;
	for (int t = 0; t < TRIALS / 2; t++) {
		size_t max = 1 + rng_below(300), nframes = 1 + rng_below(20);
		size_t bad = rng_below(nframes);
		size_t before, after, hdr_end;
		struct stream s;

		stream_make(&s, FRAMING_LEN32, max, nframes, bad);
		feed_and_check(&s, FRAMING_LEN32, max, t & 1, &before, &after);
		/* Refused in the very arrival that completed the bad header, payload or not. */
		hdr_end = s.off[bad] + LEN32_HDR;
		assert_true(before < hdr_end);
		assert_true(after >= hdr_end);
		stream_free(&s);
	}
}

/* line: a line longer than max is refused exactly when more than max of its bytes are in. */
static void property_line_oversize_detected_at_max(void **state)
{
	rng_state = seed ^ 0x44;
	for (int t = 0; t < TRIALS / 2; t++) {
		size_t max = 1 + rng_below(300), nframes = 1 + rng_below(20);
		size_t bad = rng_below(nframes);
		size_t before, after;
		struct stream s;

		stream_make(&s, FRAMING_LINE, max, nframes, bad);
		feed_and_check(&s, FRAMING_LINE, max, t & 1, &before, &after);
		/* Refused in the arrival that brought its (max + 1)th byte, not before or later. */
		assert_true(before <= s.off[bad] + max);
		assert_true(after > s.off[bad] + max);
		stream_free(&s);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(framing_parse_and_name_round_trip),
		cmocka_unit_test(framing_parse_unknown_names_fail),
		cmocka_unit_test(len32_put_get_round_trip),
		cmocka_unit_test(decoder_init_defaults_max_frame),
		cmocka_unit_test(len32_waits_for_header_then_payload),
		cmocka_unit_test(len32_zero_length_frames),
		cmocka_unit_test(len32_oversize_refused_before_payload),
		cmocka_unit_test(len32_exactly_max_is_accepted),
		cmocka_unit_test(line_frames_include_the_newline),
		cmocka_unit_test(line_of_exactly_max_is_accepted),
		cmocka_unit_test(line_longer_than_max_is_refused),
		cmocka_unit_test(line_scans_each_byte_once),
		cmocka_unit_test(raw_returns_all_bytes),
		cmocka_unit_test(property_len32_random_splits),
		cmocka_unit_test(property_line_random_splits),
		cmocka_unit_test(property_raw_random_splits),
		cmocka_unit_test(property_fixed_random_splits),
		cmocka_unit_test(fixed_spec_parses_and_prints),
		cmocka_unit_test(fixed_spec_refuses_bad_sizes),
		cmocka_unit_test(fixed_waits_for_exactly_n_bytes),
		cmocka_unit_test(fixed_lost_byte_shifts_every_later_frame),
		cmocka_unit_test(property_len32_oversize_detected_on_header),
		cmocka_unit_test(property_line_oversize_detected_at_max),
	};
	const char *s = getenv("IOLAB_SEED");

	seed = s && *s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
	print_message("seed=%llu (replay: IOLAB_SEED=%llu %s)\n",
		      (unsigned long long)seed, (unsigned long long)seed, argv[0]);
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
