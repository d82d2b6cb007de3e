/*
 * recv.c — a connection's receive side: read what came back, check every byte
 * against what was sent (payload.h), complete messages, name what went wrong;
 * and the dispatch of a connection's epoll events.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "labs/tools/load/load.h"

/* The oldest message of c is fully echoed and verified. */
static void msg_complete(struct worker *w, struct lconn *c, const struct wmsg *m, uint64_t now)
{
	uint64_t lat = now > m->t_sched ? now - m->t_sched : 0;

	w->st.messages++;
	w->st.last_done_ns = now;
	atomic_fetch_add_explicit(&w->progress, 1, memory_order_relaxed);
	if (now < atomic_load_explicit(&measure_ns, memory_order_relaxed))
		return;                      /* --warmup: verified, not measured */
	hist_add(w->st.lat, lat);
	c->done++;
	if (now <= atomic_load_explicit(&deadline_ns, memory_order_relaxed)) {
		w->st.window_msgs++;
		w->st.window_bytes += m->wire;
		if ((opt.mode == MODE_HOG || opt.mode == MODE_SLOW) && c->role == ROLE_ECHO)
			w->st.others_msgs++;
	}
	if ((opt.mode == MODE_HOG || opt.mode == MODE_SLOW) && c->role == ROLE_ECHO)
		hist_add(w->st.lat_others, lat);
}

/*
 * A mismatch inside the framing (a len32 length field, a line's '\n') means the
 * server cut the echo short: say so, rather than "byte 2 differs".  The mismatch is
 * at byte off of message m; p holds the n received bytes from there on.  The bytes
 * of the length field before off were verified, so they equal what was sent.
 */
static enum err_kind classify(const struct wmsg *m, size_t off, const char *p, size_t n,
			      char want, char *why, size_t whylen)
{
	if (wire.framing == FRAMING_LEN32 && off < LEN32_HDR) {
		unsigned char sent[LEN32_HDR], got[LEN32_HDR];
		len32_put(sent, m->size);
		size_t have = off + n < LEN32_HDR ? off + n : LEN32_HDR;
		if (have == LEN32_HDR) {
			memcpy(got, sent, off);
			memcpy(got + off, p, LEN32_HDR - off);
			uint32_t len = len32_get(got);
			if (len < m->size) {
				snprintf(why, whylen, "the echo's length field says %u bytes, %u were sent",
					 len, m->size);
				return ERR_SHORT;
			}
		}
	}
	if (wire.framing == FRAMING_LINE && *p == '\n' && want != '\n') {
		snprintf(why, whylen, "the echoed line ends after %zu of %u payload bytes",
			 off, m->size);
		return ERR_SHORT;
	}
	why[0] = 0;
	return ERR_MISMATCH;
}

static void show_byte(char *dst, size_t len, char b)
{
	unsigned char u = (unsigned char)b;
	if (u >= 0x20 && u < 0x7f)
		snprintf(dst, len, "0x%02x '%c'", u, u);
	else
		snprintf(dst, len, "0x%02x", u);
}

/*
 * n bytes arrived on c: they must continue the stream we sent.  Walk the
 * in-flight messages, oldest first, checking each byte.  Returns false when c was
 * closed (an error, or a churn cycle that ended).
 */
static bool consume(struct worker *w, struct lconn *c, const char *p, size_t n, uint64_t now)
{
	uint64_t completed = 0;

	while (n > 0) {
		struct wmsg *m = lc_q_front(c);
		if (!m) {
			lc_fail(w, c, ERR_MISMATCH, "%zu unexpected bytes at stream offset %" PRIu64
				  " (nothing was waiting for an echo)", n, c->rx_bytes);
			return false;
		}
		size_t take = m->wire - c->rx_in_msg;
		if (take > n)
			take = n;
		size_t bad;
		char want;
		if (!msg_check(&wire, c->id, m, c->rx_in_msg, p, take, &bad, &want)) {
			char why[128], wb[16], gb[16];
			enum err_kind kind = classify(m, c->rx_in_msg + bad, p + bad, n - bad, want,
						      why, sizeof(why));
			show_byte(wb, sizeof(wb), want);
			show_byte(gb, sizeof(gb), p[bad]);
			lc_fail(w, c, kind, "stream offset %" PRIu64 " (message %" PRIu64
				  ", byte %zu of %u): expected %s, got %s%s%s",
				  c->rx_bytes + bad, m->seq, c->rx_in_msg + bad, m->wire, wb, gb,
				  why[0] ? ": " : "", why);
			return false;
		}
		c->rx_in_msg += take;
		c->rx_bytes += take;
		w->st.bytes_rx += take;
		p += take;
		n -= take;
		if (c->rx_in_msg == m->wire) {
			msg_complete(w, c, m, now);
			lc_q_pop(c);
			c->rx_in_msg = 0;
			completed++;
			if (opt.mode == MODE_CHURN) {
				if (n > 0) {
					lc_fail(w, c, ERR_MISMATCH, "%zu bytes after the one echo", n);
					return false;
				}
				churn_cycle_done(w, c);
				return false;
			}
		}
	}
	/* Closed loop: each completed echo makes room for the next message. */
	if (completed && opt.rate == 0 && c->role == ROLE_ECHO) {
		for (uint64_t i = 0; i < completed && lc_may_send(w, c); i++)
			lc_gen_msg(c, now);
		lc_flush(w, c);
		return c->state == CS_OPEN;
	}
	/* --coalesce in the open loop: held messages go when nothing else is in flight. */
	if (completed && opt.coalesce > 1 && lc_out_pending(c) > 0 && !wr_hold(c)) {
		lc_flush(w, c);
		return c->state == CS_OPEN;
	}
	return true;
}

/* The server closed c (read returned 0). */
static void lc_eof(struct worker *w, struct lconn *c)
{
	struct wmsg *m = lc_q_front(c);

	if (m && c->rx_in_msg > 0)
		lc_fail(w, c, ERR_SHORT, "the server closed after %zu of the %u bytes"
			  " of message %" PRIu64 " (stream offset %" PRIu64 ")",
			  c->rx_in_msg, m->wire, m->seq, c->rx_bytes);
	else if (m && c->rx_bytes == 0) {
		w->st.err[ERR_CLOSED]++;         /* one line for all of these: diagnose() */
		c->no_reply = NR_CLOSED;
		lc_close(c, CS_FAILED);
	}
	else if (m)
		lc_fail(w, c, ERR_CLOSED, "the server closed the connection with %zu message(s)"
			  " unanswered (stream offset %" PRIu64 ")", c->q_len, c->rx_bytes);
	else
		lc_fail(w, c, ERR_CLOSED, "the server closed the connection (stream offset %"
			  PRIu64 ")", c->rx_bytes);
}

static void lc_readable(struct worker *w, struct lconn *c, uint64_t now)
{
	for (int i = 0; i < READS_PER_WAKEUP; i++) {
		size_t cap = RBUF_SIZE;
		if (c->role == ROLE_SLOW) {
			if (c->rx_bytes >= opt.slow_after) {
				/* Stop reading for good: the server's writes to us will hit EAGAIN,
				 * its queue for us grows to its high-water mark, and then it
				 * should stop reading from us too. */
				c->stopped_reading = true;
				lc_update_events(w, c);
				return;
			}
			if (cap > opt.slow_after - c->rx_bytes)
				cap = (size_t)(opt.slow_after - c->rx_bytes);
		}
		ssize_t n = read(c->fd, w->rbuf, cap);
		if (n > 0) {
			if (!consume(w, c, w->rbuf, (size_t)n, now))
				return;
			if ((size_t)n < cap)
				return;                  /* took everything there was */
			continue;
		}
		if (n == 0) {
			lc_eof(w, c);
			return;
		}
		if (errno == EINTR)
			continue;                    /* a signal arrived: retry */
		if (errno == EAGAIN)
			return;                      /* nothing more for now */
		lc_fail(w, c, ERR_CLOSED, "read: %s (stream offset %" PRIu64 ", %zu message(s)"
			  " unanswered)", strerror(errno), c->rx_bytes, c->q_len);
		return;
	}
}

void lc_event(struct worker *w, struct lconn *c, uint32_t ev, uint64_t now)
{
	if (c->state == CS_CONNECTING) {     /* churn: the handshake finished, one way or other */
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			lc_fail(w, c, ERR_CONNECT, "connect %s: %s", server_addr, strerror(err));
			return;
		}
		lc_set_events(w, c, EPOLLIN | EPOLLRDHUP);
		churn_connected(w, c, now);
		return;
	}
	if (c->role == ROLE_IDLE) {
		if (ev & EPOLLIN) {
			char b;
			ssize_t n = recv(c->fd, &b, 1, MSG_PEEK);
			if (n > 0) {
				lc_fail(w, c, ERR_MISMATCH, "the server sent bytes on an idle connection");
				return;
			}
		}
		lc_fail(w, c, ERR_CLOSED, "the server closed an idle connection");
		return;
	}
	if (c->stopped_reading && (ev & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))) {
		lc_fail(w, c, ERR_CLOSED, "the server closed the slow reader");
		return;
	}
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
		lc_readable(w, c, now);        /* read() reports EOF and errors */
		if (c->state != CS_OPEN)
			return;
	}
	if (ev & EPOLLOUT)
		lc_flush(w, c);
}
