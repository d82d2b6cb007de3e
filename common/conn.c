/*
 * conn.c — the echo work on one connection, identical in every model:
 * read into its buffer, cut complete frames, queue them as the echo, write.
 * Every call is counted in telemetry here, so the models only say *when*.
 */
#include "common/server.h"

#include <errno.h>
#include <stdatomic.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define BUF_KEEP (64 * 1024)   /* after a burst, free buffers above this when they empty */

static bool trace_states;               /* IOLAB_TRACE: set once by server_start() */
extern _Thread_local uint64_t conn_progress;   /* server.c: the turn's "did anything move" */
static atomic_size_t nopen;
void (*conn_release)(struct conn *c);          /* set by server_start(): the model's release */
bool conn_trim_when_empty;                      /* set by server_start() for one-thread servers */                     /* connections open now, every thread */

void conn_trace_init(void)
{
	trace_states = getenv("IOLAB_TRACE") != NULL;
}

size_t conn_count(void)
{
	return atomic_load_explicit(&nopen, memory_order_relaxed);
}

struct conn *conn_accept(struct server *s, int flags)
{
	static struct ratelimit emfile_rl, refuse_rl;
	struct conn *c;
	uint16_t port;
	int fd;

	for (;;) {
		fd = net_accept(s->lfd, flags, &port);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;     /* a signal, or a client that gave up while queued */
			if (errno == EMFILE || errno == ENFILE) {
				/* Out of descriptors: net_accept shed one client instead of spinning. */
				tm_add(TM_ACCEPT_EMFILE, 1);
				iolog_limited(&emfile_rl, "accept: out of descriptors, one connection refused");
				errno = EMFILE;
			} else if (errno != EAGAIN && errno != EWOULDBLOCK && !server_stop) {
				die("accept4");
			}
			return NULL;          /* EAGAIN: the backlog is empty (EINVAL: stopping) */
		}
		if ((s->max_fd && fd >= s->max_fd) || (s->max_conns && conn_count() >= s->max_conns)) {
			conn_progress++;
			tm_add(TM_REFUSED, 1);
			tm_log(EV_REFUSED, fd, 0, fd);
			iolog_limited(&refuse_rl, "fd %d (port %u): refused: %s", fd, port, s->refuse_why);
			close(fd);
			continue;
		}
		if ((c = conn_open(s, fd, port)))
			return c;
	}
}

struct conn *conn_open(struct server *s, int fd, uint16_t port)
{
	static struct ratelimit nomem_rl;
	struct conn *c = conn_new(fd, port, &s->opt);

	/* A blocking model's connection belongs to the thread serving it: no shared table. */
	if (!c || (!s->model->blocking && conn_table_put(&s->conns, c) < 0)) {
		iolog_limited(&nomem_rl, "fd %d: out of memory, closing", fd);
		if (c)
			conn_close(c, ENOMEM);
		else
			close(fd);
		return NULL;
	}
	if (!s->model->blocking)
		c->table = &s->conns;
	return c;
}

/*
 * Connection timers (--idle-timeout, --heartbeat): one timer per connection in a
 * timing wheel (common/wheel.h), one wheel per thread, ticks of 1 ms.  A read only
 * notes the time; the timer is not moved on every read.  When it fires, it works out
 * the real deadline from those notes: still ahead, it is armed again for then; passed,
 * the connection is closed (ETIMEDOUT) and counted.
 */
#define HB_MISSES 3                      /* heartbeats missed before a peer is dead */
static _Thread_local struct wheel timers;
static _Thread_local bool timers_on;

static uint64_t now_ms(void)
{
	return tm_now() / 1000000;
}

/* The deadline that applies to c: the earlier of idle and heartbeat; *why its counter. */
static uint64_t conn_deadline(const struct conn *c, enum tm_counter *why)
{
	uint64_t d = UINT64_MAX, h;

	if (c->opt->idle_timeout_ms) {
		d = c->last_data_ms + (uint64_t)c->opt->idle_timeout_ms;
		*why = TM_IDLE_TIMEOUTS;
	}
	if (c->opt->heartbeat_ms) {
		h = c->last_rx_ms + (uint64_t)c->opt->heartbeat_ms * HB_MISSES;
		if (h < d) {
			d = h;
			*why = TM_HB_TIMEOUTS;
		}
	}
	return d;
}

static void conn_arm(struct conn *c)
{
	enum tm_counter why = TM_IDLE_TIMEOUTS;
	uint64_t d = conn_deadline(c, &why);
	struct tm_conn *slot = tm_slot(c->fd);

	wheel_add(&timers, &c->timer, d);
	if (slot) {
		tm_slot_begin(slot);
		__atomic_store_n(&slot->deadline_ns, d * 1000000, __ATOMIC_RELAXED);
		tm_slot_end(slot);
	}
}

static void conn_timer_fired(struct wheel *w, struct timer *t)
{
	struct conn *c = wheel_entry(t, struct conn, timer);
	enum tm_counter why = TM_IDLE_TIMEOUTS;
	uint64_t now = wheel_now(w) - 1;

	(void)w;
	/* Still ahead (it read since), or on a ready list (it has unread bytes): later. */
	if (conn_deadline(c, &why) > now || c->on_list) {
		if (c->on_list)
			c->last_rx_ms = c->last_data_ms = now;
		conn_arm(c);
		return;
	}
	tm_add(why, 1);
	if (!server_quiet)
		iolog("fd %d: %s", c->fd, why == TM_IDLE_TIMEOUTS ? "idle for --idle-timeout" :
		      "no heartbeat for 3 x --heartbeat: the peer is gone");
	conn_close(c, ETIMEDOUT);
}

int server_wait_ms(void)
{
	return timers_on ? wheel_timeout(&timers, now_ms()) : -1;
}

void server_expire(void)
{
	if (timers_on)
		wheel_advance(&timers, now_ms());
}

/*
 * --send-timeout: the send timer is the kernel's.  TCP_USER_TIMEOUT bounds how long
 * sent data may stay unacknowledged -- and, since Linux 5.11, how long the peer's
 * window may stay zero while we have data for it (a peer that never reads: its
 * zero-window probes are answered, yet the connection is aborted).  The socket then
 * reports an error (EPOLLERR in every model's wait) and the next read or write
 * fails with ETIMEDOUT: each model closes it as it closes any failed connection,
 * with no timer of its own in the wait.  Best effort: a kernel without it keeps
 * the connection (the lab's check then fails).
 */
static void conn_set_send_timeout(int fd, long secs)
{
	unsigned int ms = (unsigned int)secs * 1000;

	if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms)) < 0 && !server_quiet)
		iolog("fd %d: setsockopt(TCP_USER_TIMEOUT): %s", fd, strerror(errno));
}

struct conn *conn_new(int fd, uint16_t peer_port, const struct server_opts *opt)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	c->peer_port = peer_port;
	c->state = CONN_READING;
	c->opt = opt;
	buf_init(&c->in);
	buf_init(&c->out);
	frame_decoder_init(&c->dec, opt->framing, opt->max_frame);
	http_conn_init(&c->http, fd, 0, opt->max_frame);
	c->http.bug = http_bug_parse(opt->bug);
	if (!opt->nagle)
		net_set_nodelay(fd);      /* an echo is small and wanted now: no Nagle delay */
	if (opt->send_timeout)
		conn_set_send_timeout(fd, opt->send_timeout);
	conn_progress++;
	atomic_fetch_add_explicit(&nopen, 1, memory_order_relaxed);

	tm_conn_open(fd, peer_port);
	tm_add(TM_ACCEPTS, 1);
	tm_add(TM_ACTIVE, 1);
	tm_log(EV_ACCEPT, fd, 0, peer_port);
	if (!server_quiet)
		iolog("fd %d: accepted from port %u", fd, peer_port);
	if (opt->idle_timeout_ms || opt->heartbeat_ms) {
		if (!timers_on)
			wheel_init(&timers, now_ms());
		timers_on = true;
		c->last_rx_ms = c->last_data_ms = now_ms();
		timer_init(&c->timer, conn_timer_fired);
		conn_arm(c);
	}
	return c;
}

static const char *reason_str(int reason)
{
	if (reason == 0)
		return "closed by peer";
	if (reason == CLOSE_PROTOCOL)
		return "protocol error";
	if (reason == CLOSE_STOPPING)
		return "server stopping";
	return strerror(reason);
}

void conn_close(struct conn *c, int reason)
{
	if (!c)
		return;
	if (conn_release && c->model_data)
		conn_release(c);      /* the model's own per-connection state first */
	conn_progress++;
	atomic_fetch_sub_explicit(&nopen, 1, memory_order_relaxed);
	if (timers_on)
		wheel_cancel(&timers, &c->timer);
	if (c->table)
		conn_table_del(c->table, c->fd);
	conn_set_state(c, CONN_CLOSING);
	tm_conn_close(c->fd);
	tm_add(TM_CLOSES, 1);
	tm_sub(TM_ACTIVE, 1);
	tm_log(EV_CLOSE, c->fd, 0, reason);
	if (reason == ETIMEDOUT && c->opt->send_timeout) {
		/* The kernel gave up on a peer that took nothing for --send-timeout seconds. */
		tm_add(TM_SEND_TIMEOUTS, 1);
		iolog("fd %d: output stuck for %lds (--send-timeout), %zu bytes still queued here: closing",
		      c->fd, c->opt->send_timeout, buf_len(&c->out));
	} else if (reason == CLOSE_EOF && c->opt->http && c->http.close_after) {
		if (!server_quiet)        /* we chose to close (an error, or Connection: close) */
			iolog("fd %d: HTTP response sent, closing as it said", c->fd);
	} else if (!server_quiet || reason == CLOSE_PROTOCOL) {
		iolog("fd %d: %s, closing", c->fd, reason_str(reason));
	}
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
	/* The last one gone: hand the memory malloc kept for reuse back to the system,
	 * so a server's RSS after a crowd has left is what it was before.  One-thread
	 * servers only: glibc's malloc_trim() races with threads that are exiting. */
	if (conn_trim_when_empty && conn_count() == 0)
		malloc_trim(0);
}

void conn_set_state(struct conn *c, enum tm_state st)
{
	if (c->state == st)
		return;
	if (trace_states)
		iolog("fd %d: going from %s to %s", c->fd, tm_state_name(c->state), tm_state_name(st));
	c->state = st;
	tm_conn_state(c->fd, st);
}

/* The state that describes a connection's buffers right now. */
static void conn_settle_state(struct conn *c)
{
	if (c->paused)
		conn_set_state(c, CONN_PAUSED);
	else if (c->rd_closed)
		conn_set_state(c, CONN_DRAINING);
	else if (buf_len(&c->out))
		conn_set_state(c, CONN_WRITING);
	else
		conn_set_state(c, CONN_READING);
}

ssize_t conn_read(struct conn *c)
{
	ssize_t n = buf_read_fd(&c->in, c->fd, c->opt->read_chunk);
	int e = errno;

	tm_add(TM_READ_CALLS, 1);
	if (n >= 0)
		conn_progress++;
	if (n > 0 && timers_on)
		c->last_rx_ms = tm_now() / 1000000;
	if (n > 0) {
		tm_add(TM_BYTES_IN, (uint64_t)n);
		tm_conn_io(c->fd, (uint64_t)n, 0, 0, 0, 0, buf_len(&c->out));
	} else if (n == 0) {
		conn_eof(c);
	} else if (e == EAGAIN || e == EWOULDBLOCK) {   /* nothing to read now: counted, the model decides */
		tm_add(TM_EAGAIN_RD, 1);
		tm_conn_io(c->fd, 0, 0, 0, 1, 0, buf_len(&c->out));
		tm_log(EV_EAGAIN_RD, c->fd, 0, 0);
	}
	errno = e;
	return n;
}

void conn_eof(struct conn *c)
{
	c->rd_closed = true;              /* half-close: echo what we have, then close */
	conn_settle_state(c);
}

/*
 * Cut every complete frame from p[0..n) and queue it on c->out.  *used: the bytes
 * taken (complete frames).  Returns frames queued, or -1 (protocol error, logged and
 * counted, or out of memory).
 */
/* --heartbeat: an empty frame (a len32 header of length 0, or "\n") is a heartbeat. */
static bool is_heartbeat(const struct conn *c, size_t len)
{
	return c->opt->heartbeat_ms &&
	       ((c->dec.mode == FRAMING_LEN32 && len == LEN32_HDR) || (c->dec.mode == FRAMING_LINE && len == 1));
}

static int cut_frames(struct conn *c, const char *p, size_t n, size_t *used)
{
	size_t off = 0, start = 0, len;
	int frames = 0;
	enum frame_status st;

	/* Frames are contiguous: find where the last complete one ends, then copy once. */
	while ((st = frame_next(&c->dec, p + off, n - off, &len)) == FRAME_OK) {
		if (is_heartbeat(c, len)) {
			/* Counted, not echoed: copy what came before it, skip it. */
			if (off > start && buf_append(&c->out, p + start, off - start) < 0)
				return -1;
			tm_add(TM_HEARTBEATS, 1);
			start = off + len;
		}
		off += len;
		frames++;
		if (c->dec.mode == FRAMING_RAW)
			break;
	}
	*used = off;
	if (off > start && c->opt->idle_timeout_ms)
		c->last_data_ms = tm_now() / 1000000;   /* data, not only heartbeats: not idle */
	if (off) {
		if (off > start && buf_append(&c->out, p + start, off - start) < 0)
			return -1;
		tm_add(TM_FRAMES_IN, (uint64_t)frames);
		tm_add(TM_FRAMES_OUT, (uint64_t)frames);
		tm_conn_io(c->fd, 0, 0, (uint64_t)frames, 0, 0, buf_len(&c->out));
	}
	if (st == FRAME_ERROR) {
		tm_add(TM_PROTO_ERRORS, 1);
		tm_log(EV_PROTO_ERROR, c->fd, 0, c->dec.last_len);
		iolog("fd %d: protocol error: %s of %u bytes is over the %zu-byte limit (--max-frame)",
		      c->fd, c->dec.mode == FRAMING_LINE ? "line" : "frame", c->dec.last_len,
		      c->dec.max_frame);
		return -1;
	}
	if (frames)
		conn_settle_state(c);
	return frames;
}

/* The decoder's state on screen: the bytes of a frame still incomplete (0: on a boundary). */
static void conn_show_partial(const struct conn *c)
{
	size_t held = buf_len(&c->in);

	tm_conn_parse(c->fd, held > UINT32_MAX ? UINT32_MAX : (uint32_t)held);
}

int conn_ingest(struct conn *c)
{
	size_t used;
	int frames;

	if (c->opt->http) {
		/* -f http: requests in, responses out (common/http.c), not frames echoed. */
		if ((frames = http_serve(&c->http, &c->in, &c->out)) < 0)
			return -1;                /* out of memory */
		if (c->http.close_after && !c->rd_closed && c->http.error)
			iolog("fd %d: HTTP %d: answered, closing", c->fd, c->http.error);
		if (c->http.close_after)
			c->rd_closed = true;      /* read no more: close once the answer is sent */
		tm_conn_io(c->fd, 0, 0, (uint64_t)frames, 0, 0, buf_len(&c->out));
		conn_settle_state(c);
		return frames;
	}
	frames = cut_frames(c, buf_peek(&c->in), buf_len(&c->in), &used);
	buf_consume(&c->in, used);
	conn_show_partial(c);
	return frames;
}

int conn_take(struct conn *c, const void *p, size_t n)
{
	size_t used = 0;
	int frames = 0;

	conn_progress++;
	tm_add(TM_BYTES_IN, n);
	tm_conn_io(c->fd, n, 0, 0, 0, 0, buf_len(&c->out));
	if (buf_len(&c->in) == 0 && !c->opt->http) {
		/* Nothing pending: cut the frames straight from p, keep only a partial one. */
		frames = cut_frames(c, p, n, &used);
		if (frames < 0)
			return -1;
		if (used < n && buf_append(&c->in, (const char *)p + used, n - used) < 0)
			return -1;
		conn_show_partial(c);
		return frames;
	}
	if (buf_append(&c->in, p, n) < 0)
		return -1;
	return conn_ingest(c);
}

ssize_t conn_write(struct conn *c)
{
	size_t left;
	ssize_t n = buf_write_fd(&c->out, c->fd, 0, &left);
	int e = errno;

	tm_add(TM_WRITE_CALLS, 1);
	if (n >= 0) {
		conn_progress++;
		tm_add(TM_BYTES_OUT, (uint64_t)n);
		tm_conn_io(c->fd, 0, (uint64_t)n, 0, 0, 0, left);
		if (left == 0) {
			buf_shrink(&c->out, BUF_KEEP);
			if (buf_len(&c->in) == 0)
				buf_shrink(&c->in, BUF_KEEP);
		}
		conn_settle_state(c);
	} else if (e == EAGAIN || e == EWOULDBLOCK) {   /* send buffer full: counted, what is left stays queued */
		tm_add(TM_EAGAIN_WR, 1);
		tm_conn_io(c->fd, 0, 0, 0, 0, 1, left);
		tm_log(EV_EAGAIN_WR, c->fd, 0, (int64_t)left);
	}
	errno = e;
	return n;
}

void conn_sent(struct conn *c, size_t n)
{
	conn_progress++;
	tm_add(TM_BYTES_OUT, n);
	tm_conn_io(c->fd, 0, n, 0, 0, 0, buf_len(&c->out));
	conn_settle_state(c);
}

bool conn_check_pause(struct conn *c)
{
	size_t q = buf_len(&c->out), hw = c->opt->high_water;

	if (!hw)
		return false;
	if (!c->paused && q >= hw) {
		/* The peer is not reading: stop reading from it, so our memory stays bounded. */
		c->paused = true;
		tm_add(TM_READ_PAUSED, 1);
		tm_log(EV_PAUSE, c->fd, 0, (int64_t)q);
		if (!server_quiet)
			iolog("fd %d: %zu bytes unsent (high-water %zu): not reading until it drains", c->fd, q, hw);
	} else if (c->paused && q <= hw / 2) {
		/* Resume at half the mark, not at the mark: no flapping on every write. */
		c->paused = false;
		tm_log(EV_RESUME, c->fd, 0, (int64_t)q);
	}
	conn_settle_state(c);
	return c->paused;
}

enum flush conn_flush(struct conn *c)
{
	while (buf_len(&c->out)) {
		if (server_stop)
			return FLUSH_BLOCKED;   /* a blocking socket would keep us here: stopping wins */
		if (conn_write(c) >= 0)
			continue;         /* all of it, or a short write: offer the rest */
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return FLUSH_BLOCKED;   /* the socket's send buffer is full */
		if (errno == EINTR && !server_stop)
			continue;         /* a blocking write cut short by a signal we do not stop for */
		conn_close(c, errno == EINTR ? CLOSE_STOPPING : errno);  /* EPIPE, ECONNRESET: gone */
		return FLUSH_CLOSED;
	}
	return FLUSH_DONE;
}

bool conn_serve(struct conn *c, bool readable)
{
	ssize_t n;

	tm_conn_served(c->fd);
	if (readable) {
		n = conn_read(c);     /* data, 0 = EOF (half-close: echo what we have, then close) */
		if (n > 0 && conn_ingest(c) < 0) {
			conn_close(c, CLOSE_PROTOCOL);
			return false;
		}
		/* EAGAIN: the readiness was stale (another read took the bytes) or spurious;
		 * EINTR: a blocking read cut short.  Nothing was read: reply with what is queued. */
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			conn_close(c, errno); /* ECONNRESET: only this connection goes */
			return false;
		}
	}
	if (conn_flush(c) == FLUSH_CLOSED)
		return false;
	if (conn_done(c)) {
		conn_close(c, CLOSE_EOF);
		return false;
	}
	conn_check_pause(c);
	return true;
}

uint32_t conn_wanted(const struct conn *c)
{
	uint32_t want = 0;

	if (!c->paused && !c->rd_closed)
		want |= EPOLLIN;
	if (buf_len(&c->out))
		want |= EPOLLOUT;
	return want;
}

bool conn_set_interest(struct conn *c, uint32_t mask)
{
	if (mask == c->interest)
		return false;
	c->interest = mask;
	tm_conn_interest(c->fd, mask);
	tm_log(EV_INTEREST, c->fd, mask, mask);
	return true;
}

void conn_list_push(struct conn_list *l, struct conn *c)
{
	if (c->on_list)
		return;
	c->on_list = true;
	c->next = NULL;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	l->len++;
}

struct conn *conn_list_pop(struct conn_list *l)
{
	struct conn *c = l->head;

	if (!c)
		return NULL;
	l->head = c->next;
	if (!l->head)
		l->tail = NULL;
	c->next = NULL;
	c->on_list = false;
	l->len--;
	return c;
}

int conn_table_put(struct conn_table *t, struct conn *c)
{
	if ((size_t)c->fd >= t->n) {
		size_t n = t->n ? t->n : 64;
		struct conn **v;

		while (n <= (size_t)c->fd)
			n *= 2;
		v = realloc(t->v, n * sizeof(*v));
		if (!v)
			return -1;
		memset(v + t->n, 0, (n - t->n) * sizeof(*v));
		t->v = v;
		t->n = n;
	}
	t->v[c->fd] = c;
	return 0;
}

struct conn *conn_table_get(const struct conn_table *t, int fd)
{
	return fd >= 0 && (size_t)fd < t->n ? t->v[fd] : NULL;
}

void conn_table_del(struct conn_table *t, int fd)
{
	if (fd >= 0 && (size_t)fd < t->n)
		t->v[fd] = NULL;
}

void conn_table_free_all(struct conn_table *t)
{
	/* conn_close() removes each from t as it goes. */
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i])
			conn_close(t->v[i], CLOSE_STOPPING);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}
