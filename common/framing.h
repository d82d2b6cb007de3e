/*
 * framing.h — the iolab wire protocol, decoded incrementally.
 *
 *   len32  4-byte big-endian length L, then L payload bytes.  L = 0 is a frame.
 *          L > max_frame is a protocol error.  (default)
 *   line   the bytes up to and including '\n'; longer than max_frame is an error.
 *   raw    whatever bytes are there form one "frame"; no boundaries at all.
 *   fixed  every frame is exactly N bytes ("fixed:N"; N is passed as max_frame).
 *          No header, no delimiter, nothing to check: a lost or extra byte is not
 *          an error, it shifts every later frame (the stream is silently misread).
 *
 * frame_next() looks at the readable bytes of a buffer and says: need more, here is
 * a frame of *len bytes (header included, starting at the first byte), or protocol
 * error.  It keeps only O(1) state between calls (how far a line was already scanned),
 * so it is correct for any split of the byte stream and any coalescing of frames,
 * and never rescans bytes it has seen.  The caller consumes *len bytes after each
 * FRAME_OK and calls again.
 */
#ifndef IOLAB_FRAMING_H
#define IOLAB_FRAMING_H

#include <stddef.h>
#include <stdint.h>

enum framing { FRAMING_LEN32, FRAMING_LINE, FRAMING_RAW, FRAMING_FIXED };

#define FRAME_DEFAULT_MAX  (1024 * 1024)   /* --max-frame default: 1 MiB of payload */
#define FRAME_FIXED_MAX    (64u << 20)      /* largest N of fixed:N */
#define LEN32_HDR          4

enum frame_status {
	FRAME_NEED_MORE = 0,   /* no complete frame yet: read more */
	FRAME_OK        = 1,   /* *len bytes at the front form one frame */
	FRAME_ERROR     = -1,  /* protocol error: close this connection */
};

struct frame_decoder {
	enum framing mode;
	size_t       max_frame;   /* payload limit (len32), line limit incl. '\n' (line),
	                             the frame size (fixed) */
	size_t       scanned;     /* line mode: bytes already searched for '\n' */
	uint32_t     last_len;    /* len32: the length field that caused FRAME_ERROR (for the log) */
};

void frame_decoder_init(struct frame_decoder *d, enum framing mode, size_t max_frame);
enum frame_status frame_next(struct frame_decoder *d, const char *p, size_t n, size_t *len);

/*
 * "len32" / "line" / "raw" <-> enum; returns -1 for an unknown name.  "fixed" is
 * refused here: it means nothing without its size (use framing_parse_spec).
 */
int         framing_parse(const char *name);
const char *framing_name(enum framing mode);       /* FRAMING_FIXED: "fixed" */

/*
 * A framing as a flag spells it: "len32", "line", "raw" or "fixed:N" (N bytes,
 * 1..FRAME_FIXED_MAX, decimal).  Sets *mode and *size (N, or 0 for the others).
 * Returns 0, or -1 for anything else ("fixed", "fixed:0", "fixed:12x").
 */
int   framing_parse_spec(const char *spec, enum framing *mode, size_t *size);
/* The spec back into buf: "len32", "fixed:128". Returns buf. */
char *framing_spec(enum framing mode, size_t size, char *buf, size_t len);

/* Encode a len32 header. */
void len32_put(unsigned char hdr[LEN32_HDR], uint32_t len);
uint32_t len32_get(const unsigned char hdr[LEN32_HDR]);

#endif
