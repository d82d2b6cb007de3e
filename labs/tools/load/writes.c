/*
 * writes.c — how the byte stream is cut into write calls.  TCP keeps no record
 * of them: the server may read one message in many pieces or many messages in
 * one read whatever we do.  But how we write decides what Nagle's algorithm
 * sees, and so when the bytes leave (LESSONS.md §10).
 *
 *   (default)        everything pending in one write()
 *   -m tiny          one byte per write()
 *   --split N        N bytes per write()
 *   --split random   a random cut: often a few bytes, sometimes all there is
 *   --split header   each message in two write()s: its first 4 bytes (len32's
 *                    length field), then the rest: "write-write-read"
 *   --writev         with --split header: the same two parts in one writev()
 *   --coalesce N     hold messages until N are queued, then one write() for all
 *
 * With Nagle on (--nagle) and a write-write-read client, the body waits in our
 * send queue until the header is ACKed, and the server delays that ACK because
 * it has nothing to send back yet (it waits for the rest of the frame): a stall
 * of about 40 ms an exchange, the delayed-ACK timer.  TCP_NODELAY (the default
 * here) or one writev() removes it.
 */
#include <sys/uio.h>
#include <unistd.h>

#include "labs/tools/load/load.h"

static uint64_t cut_next(uint64_t *s)      /* xorshift64*: random cuts */
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* --coalesce N: wait for more messages?  Never when nothing is in flight (no echo would come to bring more). */
bool wr_hold(const struct lconn *c)
{
	return opt.coalesce > 1 && !c->partial && c->unsent < opt.coalesce && c->q_len > c->unsent;
}

/* --split header: bytes left of the message being written, and how many of them are its header. */
static size_t header_piece(struct lconn *c, size_t *hdr_left)
{
	const struct wmsg *m = lc_q_find(c, c->wr_seq);
	size_t hdr;

	if (!m) {                             /* cannot happen: pending bytes belong to queued messages */
		*hdr_left = 0;
		return lc_out_pending(c);
	}
	hdr = m->wire > SPLIT_HEADER_BYTES ? SPLIT_HEADER_BYTES : 0;   /* a tiny message: one part */
	*hdr_left = c->wr_off < hdr ? hdr - c->wr_off : 0;
	return m->wire - c->wr_off;
}

/* One write call for the next piece of the pending bytes; returns what write()/writev() did. */
ssize_t wr_write(struct lconn *c, size_t pending)
{
	char *p = c->out + c->out_off;
	size_t n = pending, hdr_left, msg_left;

	if (opt.mode == MODE_TINY)
		n = 1;
	switch (opt.split) {
	case SPLIT_NONE:
		break;
	case SPLIT_BYTES:
		n = opt.split_bytes < pending ? opt.split_bytes : pending;
		break;
	case SPLIT_RANDOM: {
		uint64_t r = cut_next(&c->cut_rng);
		size_t most = r & 1 ? pending : (pending < 16 ? pending : 16);   /* half of them small */

		n = 1 + (size_t)((r >> 1) % most);
		break;
	}
	case SPLIT_HEADER:
		msg_left = header_piece(c, &hdr_left);
		if (msg_left > pending)
			msg_left = pending;
		if (opt.writev && hdr_left && hdr_left < msg_left) {
			/* Two buffers, one call: both parts go down in one segment. */
			struct iovec iov[2] = {
				{ p, hdr_left },
				{ p + hdr_left, msg_left - hdr_left },
			};
			return writev(c->fd, iov, 2);
		}
		n = hdr_left ? hdr_left : msg_left;
		break;
	}
	return write(c->fd, p, n);
}

/* k bytes were written: move the --split header and --coalesce bookkeeping on. */
void wr_wrote(struct lconn *c, size_t k)
{
	c->unsent = 0;                        /* whatever was queued has started to go */
	c->partial = lc_out_pending(c) > 0;
	if (opt.split != SPLIT_HEADER)
		return;
	c->wr_off += k;
	for (const struct wmsg *m; (m = lc_q_find(c, c->wr_seq)) && c->wr_off >= m->wire;) {
		c->wr_off -= m->wire;
		c->wr_seq++;
	}
}

/* A fresh connection (set-up, or churn's next cycle): nothing written yet. */
void wr_reset(struct lconn *c)
{
	c->wr_seq = c->next_seq;
	c->wr_off = 0;
	c->unsent = 0;
	c->partial = false;
}
