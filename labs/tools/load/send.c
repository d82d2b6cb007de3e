/*
 * send.c — a connection's send side: the messages in flight (a ring, oldest
 * first), generating their bytes, the epoll interest, and writing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/telemetry.h"
#include "labs/tools/load/load.h"

static uint64_t rng_next(uint64_t *s)      /* xorshift64*: payload sizes */
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

bool lc_may_send(const struct worker *w, const struct lconn *c)
{
	return !w->stopping && c->next_seq < c->quota &&
	       (c->state == CS_OPEN || c->state == CS_CONNECTING);
}

size_t lc_out_pending(const struct lconn *c)
{
	return c->out_len - c->out_off;
}

static void lc_q_push(struct lconn *c, const struct wmsg *m)
{
	if (c->q_len == c->q_cap) {              /* grow the ring, unwrapping it */
		size_t cap = c->q_cap ? c->q_cap * 2 : 16;
		struct wmsg *q = malloc(cap * sizeof(*q));
		if (!q)
			load_die("malloc");
		for (size_t i = 0; i < c->q_len; i++)
			q[i] = c->q[(c->q_head + i) & (c->q_cap - 1)];
		free(c->q);
		c->q = q;
		c->q_cap = cap;
		c->q_head = 0;
	}
	c->q[(c->q_head + c->q_len) & (c->q_cap - 1)] = *m;
	c->q_len++;
}

struct wmsg *lc_q_front(struct lconn *c)
{
	return c->q_len ? &c->q[c->q_head] : NULL;
}

/* The in-flight message number seq, or NULL (seqs in the ring are consecutive). */
struct wmsg *lc_q_find(struct lconn *c, uint64_t seq)
{
	struct wmsg *front = lc_q_front(c);

	if (!front || seq < front->seq || seq - front->seq >= c->q_len)
		return NULL;
	return &c->q[(c->q_head + (size_t)(seq - front->seq)) & (c->q_cap - 1)];
}

void lc_q_pop(struct lconn *c)
{
	c->q_head = (c->q_head + 1) & (c->q_cap - 1);
	c->q_len--;
}

/* Queue message next_seq: remember it as in flight, generate its bytes into out. */
void lc_gen_msg(struct lconn *c, uint64_t t_sched)
{
	uint32_t size = opt.size_min;
	if (opt.size_max > opt.size_min)
		size += (uint32_t)(rng_next(&c->rng) % ((uint64_t)opt.size_max - opt.size_min + 1));

	struct wmsg m = { .seq = c->next_seq++, .t_sched = t_sched, .size = size,
			  .wire = wire_size(&wire, size) };
	lc_q_push(c, &m);

	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_cap - c->out_len < m.wire) {
		if (c->out_off > 0) {            /* compact before growing */
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap - c->out_len < m.wire)
			cap *= 2;
		if (cap != c->out_cap) {
			char *p = realloc(c->out, cap);
			if (!p)
				load_die("realloc");
			c->out = p;
			c->out_cap = cap;
		}
	}
	msg_fill(&wire, c->id, &m, 0, c->out + c->out_len, m.wire);
	c->out_len += m.wire;
	c->unsent++;
}

void lc_set_events(struct worker *w, struct lconn *c, uint32_t ev)
{
	if (c->events == ev)
		return;
	struct epoll_event e = { .events = ev, .data.ptr = c };
	if (epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &e) < 0)
		load_die("epoll_ctl(MOD)");
	c->events = ev;
}

/* What this connection should wait for now. */
void lc_update_events(struct worker *w, struct lconn *c)
{
	uint32_t ev = EPOLLRDHUP;
	if (!c->stopped_reading)
		ev |= EPOLLIN;
	if ((lc_out_pending(c) > 0 && !wr_hold(c)) ||
	    ((c->role == ROLE_HOG || c->role == ROLE_SLOW) && lc_may_send(w, c)))
		ev |= EPOLLOUT;                  /* flooders always want to write */
	lc_set_events(w, c, ev);
}

void lc_close(struct lconn *c, enum cstate st)
{
	if (c->fd >= 0)
		close(c->fd);                    /* also removes it from the epoll set */
	c->fd = -1;
	c->state = st;
}

/* An error on c: count it, say where, close the connection. */
void lc_fail(struct worker *w, struct lconn *c, enum err_kind kind, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	load_report(&w->st, kind, 1, "conn %u (%s): %s", c->id, role_names[c->role], msg);
	lc_close(c, CS_FAILED);
}

/* ------------------------------------------------------------------ sending */

/*
 * Write what is generated.  Flooders (hog, slow) generate more as they go, until
 * the socket says EAGAIN or they have written FLOOD_BUDGET bytes this turn.
 * How much one call writes is writes.c's business (--split, --writev,
 * --coalesce; -m tiny writes one byte per call: with TCP_NODELAY each one
 * leaves as its own segment, and the server sees every frame arrive in pieces).
 */
void lc_flush(struct worker *w, struct lconn *c)
{
	bool flood = c->role == ROLE_HOG || c->role == ROLE_SLOW;
	size_t budget = FLOOD_BUDGET;

	for (;;) {
		while (flood && lc_out_pending(c) < FLOOD_BYTES && lc_may_send(w, c))
			lc_gen_msg(c, tm_now());
		size_t n = lc_out_pending(c);
		if (n == 0 || wr_hold(c))
			break;                   /* --coalesce: an echo to come will bring more */
		ssize_t k = wr_write(c, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;            /* not on a nonblocking socket (it never sleeps); harmless */
			if (errno == EAGAIN)
				break;               /* send buffer full: EPOLLOUT says when there is room */
			lc_fail(w, c, ERR_CLOSED, "write: %s (the server closed the connection?)",
				  strerror(errno));
			return;
		}
		c->out_off += (size_t)k;
		wr_wrote(c, (size_t)k);
		w->st.bytes_tx += (uint64_t)k;
		w->st.writes++;
		c->tx_bytes += (uint64_t)k;
		if (flood) {
			budget = (size_t)k < budget ? budget - (size_t)k : 0;
			if (budget == 0)
				break;               /* let the other connections of this thread run */
		}
	}
	lc_update_events(w, c);
}
