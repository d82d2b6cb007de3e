/*
 * payload.h — what bin/iolab-load sends, and how it checks every echoed byte
 * (the pattern table and its set-up are in payload.c).
 *
 * Message `seq` of connection `conn`, with a payload of `size` bytes, is on the wire:
 *
 *   len32   [4-byte big-endian size] [payload]
 *   line    [payload] '\n'                      (the payload never contains '\n')
 *   raw     [payload]                           (no boundaries: checked by stream offset)
 *   fixed:N [payload of exactly N bytes]        (the boundary is the count)
 *
 *   payload = the first `size` bytes of   "c<conn> s<seq> " <pattern...>
 *             e.g. "c7 s42 Qm3xV0b..."   readable in tcpdump or nc
 *
 * The pattern is a fixed 64 KiB table of letters and digits (pseudo-random, so a
 * dropped, repeated or shifted byte is caught at once), read from a start offset
 * hashed from (seed, conn, seq): two messages rarely share their bytes, so an
 * echo that went to the wrong connection, or an old message replayed, mismatches.
 *
 * Nothing is kept after sending: any byte of any message can be generated again
 * from (conn, seq, size, offset).  The echo is checked by generating what it must
 * be and comparing.  An echo server sends back exactly the byte stream it got, in
 * every framing, so "echo stream == sent stream" is the whole rule; the framing
 * only says where one message ends (a short echo, a '\n' too early, a length field
 * that shrank).
 */
#ifndef IOLAB_LOAD_PAYLOAD_H
#define IOLAB_LOAD_PAYLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/framing.h"

#define PAT_LEN 65536          /* pattern table bytes (a power of two) */

extern char pat_table[PAT_LEN];   /* payload.c */

static inline uint64_t mix64(uint64_t x)     /* splitmix64's finaliser: a good cheap hash */
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* Fill pat_table (payload.c): once, before any message is generated. */
void pattern_init(void);

/* One message in flight. */
struct wmsg {
	uint64_t seq;              /* per-connection message number, from 0 */
	uint64_t t_sched;          /* ns: when it was due (open loop) or queued (closed loop) */
	uint32_t size;             /* payload bytes */
	uint32_t wire;             /* bytes on the wire: size + framing (4 for len32, 1 for line) */
};

/* Everything that decides a message's bytes besides the message itself. */
struct wire {
	enum framing framing;
	uint64_t     seed;
};

static inline uint32_t wire_size(const struct wire *w, uint32_t size)
{
	switch (w->framing) {
	case FRAMING_LEN32: return size + LEN32_HDR;
	case FRAMING_LINE:  return size + 1;
	default:            return size;
	}
}

/*
 * Bytes [off, off+n) of the wire form of message m of connection conn, into dst.
 * The framing header, the text "c<conn> s<seq> ", the pattern and the '\n' are
 * segments of the wire message; copy the part of each one that overlaps the range.
 */
static inline void msg_fill(const struct wire *w, uint32_t conn, const struct wmsg *m,
			    size_t off, char *dst, size_t n)
{
	unsigned char hdr[LEN32_HDR];
	char text[48];
	size_t hlen = w->framing == FRAMING_LEN32 ? LEN32_HDR : 0;
	int tl = snprintf(text, sizeof(text), "c%u s%llu ", conn, (unsigned long long)m->seq);
	size_t tlen = (size_t)tl < m->size ? (size_t)tl : m->size;   /* may be cut short */
	size_t pstart = (size_t)(mix64(w->seed ^ ((uint64_t)conn << 40) ^ m->seq) % PAT_LEN);
	size_t end = off + n;

	if (hlen)
		len32_put(hdr, m->size);
	while (off < end) {
		size_t k;                                   /* bytes copied this turn */
		if (off < hlen) {                           /* the length field */
			k = hlen - off < end - off ? hlen - off : end - off;
			memcpy(dst, hdr + off, k);
		} else if (off < hlen + tlen) {             /* "c7 s42 " */
			size_t t = off - hlen;
			k = tlen - t < end - off ? tlen - t : end - off;
			memcpy(dst, text + t, k);
		} else if (off < hlen + m->size) {          /* the pattern */
			size_t p = (pstart + off - hlen - tlen) % PAT_LEN;
			k = hlen + m->size - off;
			if (k > end - off)
				k = end - off;
			if (k > PAT_LEN - p)
				k = PAT_LEN - p;                    /* wrap around the table */
			memcpy(dst, pat_table + p, k);
		} else {                                    /* line: the terminator */
			k = 1;
			*dst = '\n';
		}
		dst += k;
		off += k;
	}
}

/*
 * Do the n received bytes at p equal bytes [off, off+n) of message m?  On a
 * mismatch, *bad gets the index of the first differing byte and *want the byte
 * that should have been there.
 */
static inline bool msg_check(const struct wire *w, uint32_t conn, const struct wmsg *m,
			     size_t off, const char *p, size_t n, size_t *bad, char *want)
{
	char exp[2048];

	for (size_t done = 0; done < n; ) {
		size_t k = n - done < sizeof(exp) ? n - done : sizeof(exp);
		msg_fill(w, conn, m, off + done, exp, k);
		if (memcmp(exp, p + done, k) != 0) {
			size_t i = 0;
			while (exp[i] == p[done + i])
				i++;
			*bad = done + i;
			*want = exp[i];
			return false;
		}
		done += k;
	}
	return true;
}

#endif
