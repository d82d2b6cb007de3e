/*
 * iolab-load — the load generator: many connections, every echoed byte checked,
 * latency percentiles that a stalled server cannot hide.
 *
 * What it shows
 *   How an echo server behaves under load: messages per second, the latency
 *   distribution (p50 ... max), how fairly connections are served, and what each
 *   message costs in CPU on both sides.  Its modes recreate the situations the labs
 *   are about: a client that floods (hog), one that stops reading (slow), frames
 *   that arrive one byte at a time (tiny), connection churn, idle descriptors.
 *
 * Usage
 *   iolab-load [--host ADDR] -p PORT [-c CONNS] [-T THREADS] [-f len32|line|raw]
 *              [-s SIZE | --size-min A --size-max B] [-d DEPTH | -r RATE]
 *              [-t SECONDS | -n MESSAGES_PER_CONN] [-m echo|hog|slow|tiny|churn|idle]
 *              [--idle K] [--slow-after BYTES] [--server-pid PID] [--json] [--seed N]
 *   iolab-load --help            every flag, with its default
 *
 * Try it
 *   bin/echo-epoll-lt -p 7000 &
 *   bin/iolab-load -p 7000 -c 50 -t 3                         closed loop, 50 clients
 *   bin/iolab-load -p 7000 -c 50 -r 20000 -t 3                open loop, 20000 msg/s
 *   bin/iolab-load -p 7000 -c 10 -m hog -T 2                  one client floods
 *   bin/iolab-load -p 7000 --server-pid $! --json             server CPU per message too
 *
 * Two ways to apply load:
 *   closed loop  (-d DEPTH)  every connection keeps DEPTH messages in flight and sends
 *                the next one when an echo comes back.  Simple, but a server that
 *                stalls for a second also stops the clients for that second: the
 *                messages that would have waited are never sent, and the stall hides
 *                as one slow sample ("coordinated omission").
 *   open loop    (-r RATE)   messages are due on a fixed schedule, RATE per second in
 *                all, whatever the server does.  Latency is measured from the moment
 *                a message was DUE, not from when it could be written, so a stall
 *                shows in every message that should have gone out during it (the
 *                correction wrk2 made popular).
 *
 * What is sent (see load/payload.h for the details)
 *   message seq of connection conn, payload SIZE bytes:  "c<conn> s<seq> " + pattern
 *     len32: 4-byte big-endian SIZE, then the payload      line: payload + '\n'
 *     raw:   the payload, checked by its offset in the byte stream
 *   The pattern is pseudo-random letters and digits: no '\n', and a byte that is
 *   lost, repeated or swapped between connections is caught at once.  The echo must
 *   be the sent byte stream exactly; a mismatch, a short echo or an unexpected close
 *   is reported with the connection, the message and the byte offset, and counted.
 *
 * What is measured
 *   latency   per message, in a histogram with log buckets (load/hist.h): p50, p90,
 *             p99, p99.9 within 1 %, max and mean exact
 *   fairness  messages per connection: Jain's index (sum x)^2 / (n * sum x^2), 1 when
 *             even, 1/n when one connection got everything; and the least and most
 *             served connections against the fair share (total / n)
 *   cpu       this process (getrusage) and, with --server-pid, the server (its CPU
 *             clock, clock_getcpuclockid(); /proc/PID/stat if that fails), per message
 *   threads   -T N: N threads, one epoll each, connections dealt round-robin; in hog
 *             and slow mode with N >= 2 the flooder gets a thread of its own, so it
 *             does not steal the CPU that measures the others
 *
 * Output: a human summary, or with --json one JSON object on stdout (keys listed in
 * --help).  Exit status: 0 everything verified, 1 verification errors / refused
 * connection / server died / echoes missing, 2 bad flags.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/fairness.h"
#include "common/framing.h"
#include "common/json.h"
#include "common/net.h"
#include "common/procstat.h"
#include "common/telemetry.h"
#include "labs/tools/load/hist.h"
#include "labs/tools/load/payload.h"

#define PROG              "iolab-load"
#define MAX_EVENTS        256          /* events taken from one epoll_wait() call */
#define RBUF_SIZE         (64 * 1024)  /* one read() takes at most this much */
#define READS_PER_WAKEUP  8            /* then other ready connections get their turn */
#define FLOOD_BYTES       (64 * 1024)  /* hog/slow: keep this much generated ahead */
#define FLOOD_BUDGET      (1024 * 1024)/* hog/slow: bytes written per wakeup at most */
#define TICK_MS           10           /* how often threads look at the clock and phase */
#define CONNECT_TIMEOUT_MS 5000        /* a connect() the server never completes */
#define MAX_LOGGED_ERRORS 20           /* error lines printed; the rest are only counted */
#define DEFAULT_IDLE      1000         /* -m idle without --idle */
#define DEFAULT_SLOW_AFTER (64 * 1024) /* -m slow without --slow-after */
#define DEFAULT_DRAIN_S   3.0          /* how long to wait for echoes after the run */
#define STALL_NS          10000000000ull /* -n runs: no echo at all for this long = stuck */
#define STALL_TEXT        "10 s"

/* ---------------------------------------------------------------- options */

enum mode { MODE_ECHO, MODE_HOG, MODE_SLOW, MODE_TINY, MODE_CHURN, MODE_IDLE, MODE_N };
static const char *const mode_names[MODE_N] = { "echo", "hog", "slow", "tiny", "churn", "idle" };

struct opts {
	const char  *host;
	uint16_t     port;
	unsigned     conns;         /* workload connections (or churn slots) */
	unsigned     threads;
	enum framing framing;
	uint32_t     size_min, size_max;  /* payload size range (equal: fixed size) */
	unsigned     depth;         /* closed loop: messages in flight per connection */
	double       rate;          /* open loop: messages per second in total; 0 = closed loop */
	double       seconds;       /* run length (timed runs) */
	uint64_t     messages;      /* -n: messages per connection; 0 = timed run */
	enum mode    mode;
	unsigned     idle;          /* extra connections that never send */
	uint64_t     slow_after;    /* slow mode: stop reading after this many bytes */
	pid_t        server_pid;    /* 0 = unknown */
	bool         json;
	uint64_t     seed;
	double       drain;         /* seconds to wait for outstanding echoes at the end */
};

static struct opts opt = {
	.host = "127.0.0.1", .conns = 1, .threads = 1, .framing = FRAMING_LEN32,
	.size_min = 128, .size_max = 128, .depth = 1, .seconds = 5.0, .mode = MODE_ECHO,
	.seed = 1, .drain = DEFAULT_DRAIN_S,
};
static struct wire wire;    /* framing + seed: what msg_fill() needs */
static char server_addr[80];/* "127.0.0.1:7000" or "[::1]:7000", for messages */

/* ------------------------------------------------------------ connections */

/* What a connection does; the roles a mode hands out. */
enum role {
	ROLE_ECHO,     /* the normal workload: send, wait for the echo, check it */
	ROLE_HOG,      /* hog: sends as fast as the socket takes it, never waits */
	ROLE_SLOW,     /* slow: sends like the hog but stops reading after --slow-after bytes */
	ROLE_IDLE,     /* connected, never sends: only costs the server a descriptor */
};
static const char *const role_names[] = { "echo", "hog", "slow", "idle" };

enum cstate {
	CS_CONNECTING, /* churn: nonblocking connect() in progress */
	CS_OPEN,       /* connected and working */
	CS_DONE,       /* closed by us, nothing wrong */
	CS_FAILED,     /* closed after an error (counted and reported) */
};

struct lconn {
	int         fd;
	uint32_t    id;            /* connection number, 0..; written into every payload */
	unsigned    worker;        /* index of the thread that drives it */
	enum role   role;
	enum cstate state;
	uint32_t    events;        /* epoll interest registered now */
	/* send side */
	uint64_t    next_seq;      /* number of the next message to generate */
	uint64_t    quota;         /* generate no message with seq >= quota (-n) */
	char       *out;           /* generated bytes not yet written: out[out_off..out_len) */
	size_t      out_off, out_len, out_cap;
	uint64_t    rng;           /* --size-min/--size-max draws */
	/* in flight: messages sent (or queued) and not yet fully echoed, oldest first */
	struct wmsg *q;
	size_t      q_head, q_len, q_cap;   /* ring; q_cap is a power of two */
	size_t      rx_in_msg;     /* bytes of the oldest message already received */
	uint64_t    rx_bytes;      /* bytes received on this connection (stream offset) */
	/* results */
	uint64_t    done;          /* messages echoed and verified */
	uint64_t    connect_ns;    /* churn: when connect() was called */
	bool        stopped_reading; /* slow: reached --slow-after */
};

/* ---------------------------------------------------------------- results */

enum err_kind { ERR_MISMATCH, ERR_SHORT, ERR_CLOSED, ERR_CONNECT, ERR_UNANSWERED, NERR };
static const char *const err_names[NERR] = { "mismatch", "short", "closed", "connect", "unanswered" };

struct stats {
	struct hist *lat;          /* echo latency of every message */
	struct hist *lat_others;   /* hog/slow modes: the connections that are not the hog */
	struct hist *lat_connect;  /* churn: connect() called -> connection established */
	uint64_t messages;         /* echoes verified, the drain included */
	uint64_t window_msgs;      /* ... of which completed before the end of the run */
	uint64_t window_bytes;     /* their wire bytes */
	uint64_t others_msgs;      /* hog/slow: window messages of the other connections */
	uint64_t bytes_rx, bytes_tx;
	uint64_t connects;         /* churn: connections established */
	uint64_t last_done_ns;     /* when the last echo completed */
	uint64_t err[NERR];
};

/* ---------------------------------------------------------------- threads */

struct worker {
	unsigned        idx;
	pthread_t       tid;
	int             ep;            /* this thread's epoll instance */
	int             tfd;           /* open loop: timerfd that fires when a message is due */
	struct lconn  **conn;          /* connections this thread drives */
	size_t          nconn;
	struct lconn  **sched;         /* open loop: connections that get the scheduled messages */
	size_t          nsched;
	uint64_t        ol_next;       /* open loop: this thread's next message number */
	uint64_t        ol_limit;      /* ... and how many it sends in all (UINT64_MAX: timed) */
	double          ol_interval;   /* ns between this thread's messages */
	uint64_t        ol_offset;     /* ns: this thread's phase in the global schedule */
	uint64_t        timer_due;     /* what the timerfd is armed for (0 = disarmed) */
	char           *rbuf;
	bool            stopping;      /* no new messages: the run is over, echoes drain */
	uint64_t        drain_until;   /* give up on missing echoes at this time (moves on
	                                  while echoes keep coming) */
	struct stats    st;
	_Atomic uint64_t progress;     /* echoes completed (main watches for a stall) */
	_Atomic bool    quiet;         /* no workload left: nothing to send, nothing in flight */
	_Atomic bool    finished;      /* thread has left its loop */
};

enum phase { PH_RUN, PH_DRAIN };        /* set by the main thread */
static _Atomic int      phase = PH_RUN;
static uint64_t         t0_ns;                  /* start of the measured run */
static _Atomic uint64_t deadline_ns;            /* end of the run (UINT64_MAX: -n run) */
static volatile sig_atomic_t interrupted;

static struct worker *workers;
static unsigned       nworkers;
static struct lconn  *conns;                    /* workload connections, then idle ones */
static size_t         nconns_all;

/* ---------------------------------------------------------------- errors */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned        logged;

static void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (try --help)\n");
	va_end(ap);
	exit(2);
}

static void die(const char *call) __attribute__((noreturn));
static void die(const char *call)
{
	fprintf(stderr, PROG ": %s: %s\n", call, strerror(errno));
	exit(1);
}

/* Count an error of one kind and print its first lines (any thread). */
static void report(struct stats *st, enum err_kind kind, uint64_t count, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void report(struct stats *st, enum err_kind kind, uint64_t count, const char *fmt, ...)
{
	va_list ap;

	st->err[kind] += count;
	pthread_mutex_lock(&log_lock);
	if (logged < MAX_LOGGED_ERRORS) {
		va_start(ap, fmt);
		fprintf(stderr, PROG ": %s: ", err_names[kind]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	} else if (logged == MAX_LOGGED_ERRORS) {
		fprintf(stderr, PROG ": more errors: counted, not shown\n");
	}
	logged++;
	pthread_mutex_unlock(&log_lock);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (!p)
		die("calloc");
	return p;
}

/* ------------------------------------------------------- per-connection state */

static uint64_t rng_next(uint64_t *s)      /* xorshift64*: payload sizes */
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static bool may_send(const struct worker *w, const struct lconn *c)
{
	return !w->stopping && c->next_seq < c->quota &&
	       (c->state == CS_OPEN || c->state == CS_CONNECTING);
}

static size_t out_pending(const struct lconn *c)
{
	return c->out_len - c->out_off;
}

static void q_push(struct lconn *c, const struct wmsg *m)
{
	if (c->q_len == c->q_cap) {              /* grow the ring, unwrapping it */
		size_t cap = c->q_cap ? c->q_cap * 2 : 16;
		struct wmsg *q = malloc(cap * sizeof(*q));
		if (!q)
			die("malloc");
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

static struct wmsg *q_front(struct lconn *c)
{
	return c->q_len ? &c->q[c->q_head] : NULL;
}

static void q_pop(struct lconn *c)
{
	c->q_head = (c->q_head + 1) & (c->q_cap - 1);
	c->q_len--;
}

/* Queue message next_seq: remember it as in flight, generate its bytes into out. */
static void gen_msg(struct lconn *c, uint64_t t_sched)
{
	uint32_t size = opt.size_min;
	if (opt.size_max > opt.size_min)
		size += (uint32_t)(rng_next(&c->rng) % ((uint64_t)opt.size_max - opt.size_min + 1));

	struct wmsg m = { .seq = c->next_seq++, .t_sched = t_sched, .size = size,
			  .wire = wire_size(&wire, size) };
	q_push(c, &m);

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
				die("realloc");
			c->out = p;
			c->out_cap = cap;
		}
	}
	msg_fill(&wire, c->id, &m, 0, c->out + c->out_len, m.wire);
	c->out_len += m.wire;
}

static void set_events(struct worker *w, struct lconn *c, uint32_t ev)
{
	if (c->events == ev)
		return;
	struct epoll_event e = { .events = ev, .data.ptr = c };
	if (epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &e) < 0)
		die("epoll_ctl(MOD)");
	c->events = ev;
}

/* What this connection should wait for now. */
static void update_events(struct worker *w, struct lconn *c)
{
	uint32_t ev = EPOLLRDHUP;
	if (!c->stopped_reading)
		ev |= EPOLLIN;
	if (out_pending(c) > 0 || ((c->role == ROLE_HOG || c->role == ROLE_SLOW) && may_send(w, c)))
		ev |= EPOLLOUT;                  /* flooders always want to write */
	set_events(w, c, ev);
}

static void conn_close(struct lconn *c, enum cstate st)
{
	if (c->fd >= 0)
		close(c->fd);                    /* also removes it from the epoll set */
	c->fd = -1;
	c->state = st;
}

/* An error on c: count it, say where, close the connection. */
static void conn_fail(struct worker *w, struct lconn *c, enum err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void conn_fail(struct worker *w, struct lconn *c, enum err_kind kind, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(&w->st, kind, 1, "conn %u (%s): %s", c->id, role_names[c->role], msg);
	conn_close(c, CS_FAILED);
}

/* ------------------------------------------------------------------ sending */

/*
 * Write what is generated.  Flooders (hog, slow) generate more as they go, until
 * the socket says EAGAIN or they have written FLOOD_BUDGET bytes this turn.
 * Tiny mode writes one byte per write() call: with TCP_NODELAY each one leaves
 * as its own segment, and the server sees every frame arrive in pieces.
 */
static void conn_flush(struct worker *w, struct lconn *c)
{
	bool flood = c->role == ROLE_HOG || c->role == ROLE_SLOW;
	size_t budget = FLOOD_BUDGET;

	for (;;) {
		while (flood && out_pending(c) < FLOOD_BYTES && may_send(w, c))
			gen_msg(c, tm_now());
		size_t n = out_pending(c);
		if (n == 0)
			break;
		if (opt.mode == MODE_TINY)
			n = 1;
		ssize_t k = write(c->fd, c->out + c->out_off, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;            /* a signal arrived: just retry */
			if (errno == EAGAIN)
				break;               /* send buffer full: EPOLLOUT says when there is room */
			conn_fail(w, c, ERR_CLOSED, "write: %s (the server closed the connection?)",
				  strerror(errno));
			return;
		}
		c->out_off += (size_t)k;
		w->st.bytes_tx += (uint64_t)k;
		if (flood) {
			budget = (size_t)k < budget ? budget - (size_t)k : 0;
			if (budget == 0)
				break;               /* let the other connections of this thread run */
		}
	}
	update_events(w, c);
}

/* ---------------------------------------------------------------- churn */

static void churn_connected(struct worker *w, struct lconn *c, uint64_t now);

/* Start a nonblocking connect for churn slot c; it completes with EPOLLOUT. */
static void churn_connect(struct worker *w, struct lconn *c)
{
	struct sockaddr_storage ss;
	socklen_t sl = net_sockaddr(opt.host, opt.port, &ss);
	int one = 1;

	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_fail(w, c, ERR_CONNECT, "socket: %s", strerror(errno));
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->state = CS_CONNECTING;
	c->connect_ns = tm_now();
	c->rx_in_msg = 0;
	c->out_off = c->out_len = 0;
	c->stopped_reading = false;
	if (connect(c->fd, (struct sockaddr *)&ss, sl) == 0) {
		c->events = 0;                   /* connected at once (it happens on loopback) */
		struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &e) < 0)
			die("epoll_ctl(ADD)");
		c->events = e.events;
		churn_connected(w, c, tm_now());
		return;
	}
	if (errno != EINPROGRESS) {          /* EINPROGRESS: the handshake goes on without us */
		conn_fail(w, c, ERR_CONNECT, "connect %s: %s", server_addr, strerror(errno));
		return;
	}
	struct epoll_event e = { .events = EPOLLOUT, .data.ptr = c };
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &e) < 0)
		die("epoll_ctl(ADD)");
	c->events = EPOLLOUT;
}

static void churn_connected(struct worker *w, struct lconn *c, uint64_t now)
{
	c->state = CS_OPEN;
	w->st.connects++;
	hist_add(w->st.lat_connect, now - c->connect_ns);
	gen_msg(c, now);                     /* one echo per connection */
	conn_flush(w, c);
}

/* The echo came back: close, and connect again unless the run is over. */
static void churn_cycle_done(struct worker *w, struct lconn *c)
{
	conn_close(c, CS_DONE);
	if (!w->stopping && c->next_seq < c->quota)
		churn_connect(w, c);
}

/* ---------------------------------------------------------------- receiving */

/* The oldest message of c is fully echoed and verified. */
static void msg_complete(struct worker *w, struct lconn *c, const struct wmsg *m, uint64_t now)
{
	uint64_t lat = now > m->t_sched ? now - m->t_sched : 0;

	hist_add(w->st.lat, lat);
	c->done++;
	w->st.messages++;
	w->st.last_done_ns = now;
	if (now <= atomic_load_explicit(&deadline_ns, memory_order_relaxed)) {
		w->st.window_msgs++;
		w->st.window_bytes += m->wire;
		if ((opt.mode == MODE_HOG || opt.mode == MODE_SLOW) && c->role == ROLE_ECHO)
			w->st.others_msgs++;
	}
	if ((opt.mode == MODE_HOG || opt.mode == MODE_SLOW) && c->role == ROLE_ECHO)
		hist_add(w->st.lat_others, lat);
	atomic_fetch_add_explicit(&w->progress, 1, memory_order_relaxed);
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
		struct wmsg *m = q_front(c);
		if (!m) {
			conn_fail(w, c, ERR_MISMATCH, "%zu unexpected bytes at stream offset %" PRIu64
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
			conn_fail(w, c, kind, "stream offset %" PRIu64 " (message %" PRIu64
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
			q_pop(c);
			c->rx_in_msg = 0;
			completed++;
			if (opt.mode == MODE_CHURN) {
				if (n > 0) {
					conn_fail(w, c, ERR_MISMATCH, "%zu bytes after the one echo", n);
					return false;
				}
				churn_cycle_done(w, c);
				return false;
			}
		}
	}
	/* Closed loop: each completed echo makes room for the next message. */
	if (completed && opt.rate == 0 && c->role == ROLE_ECHO) {
		for (uint64_t i = 0; i < completed && may_send(w, c); i++)
			gen_msg(c, now);
		conn_flush(w, c);
		return c->state == CS_OPEN;
	}
	return true;
}

/* The server closed c (read returned 0). */
static void conn_eof(struct worker *w, struct lconn *c)
{
	struct wmsg *m = q_front(c);

	if (m && c->rx_in_msg > 0)
		conn_fail(w, c, ERR_SHORT, "the server closed after %zu of the %u bytes"
			  " of message %" PRIu64 " (stream offset %" PRIu64 ")",
			  c->rx_in_msg, m->wire, m->seq, c->rx_bytes);
	else if (m && c->rx_bytes == 0)
		conn_fail(w, c, ERR_CLOSED, "the server closed the connection before echoing"
			  " anything (does it expect another framing than -f %s?)",
			  framing_name(opt.framing));
	else if (m)
		conn_fail(w, c, ERR_CLOSED, "the server closed the connection with %zu message(s)"
			  " unanswered (stream offset %" PRIu64 ")", c->q_len, c->rx_bytes);
	else
		conn_fail(w, c, ERR_CLOSED, "the server closed the connection (stream offset %"
			  PRIu64 ")", c->rx_bytes);
}

static void conn_readable(struct worker *w, struct lconn *c, uint64_t now)
{
	for (int i = 0; i < READS_PER_WAKEUP; i++) {
		size_t cap = RBUF_SIZE;
		if (c->role == ROLE_SLOW) {
			if (c->rx_bytes >= opt.slow_after) {
				/* Stop reading for good: the server's writes to us will hit EAGAIN,
				 * its queue for us grows to its high-water mark, and then it
				 * should stop reading from us too. */
				c->stopped_reading = true;
				update_events(w, c);
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
			conn_eof(w, c);
			return;
		}
		if (errno == EINTR)
			continue;                    /* a signal arrived: retry */
		if (errno == EAGAIN)
			return;                      /* nothing more for now */
		conn_fail(w, c, ERR_CLOSED, "read: %s (stream offset %" PRIu64 ", %zu message(s)"
			  " unanswered)", strerror(errno), c->rx_bytes, c->q_len);
		return;
	}
}

static void conn_event(struct worker *w, struct lconn *c, uint32_t ev, uint64_t now)
{
	if (c->state == CS_CONNECTING) {     /* churn: the handshake finished, one way or other */
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			conn_fail(w, c, ERR_CONNECT, "connect %s: %s", server_addr, strerror(err));
			return;
		}
		set_events(w, c, EPOLLIN | EPOLLRDHUP);
		churn_connected(w, c, now);
		return;
	}
	if (c->role == ROLE_IDLE) {
		if (ev & EPOLLIN) {
			char b;
			ssize_t n = recv(c->fd, &b, 1, MSG_PEEK);
			if (n > 0) {
				conn_fail(w, c, ERR_MISMATCH, "the server sent bytes on an idle connection");
				return;
			}
		}
		conn_fail(w, c, ERR_CLOSED, "the server closed an idle connection");
		return;
	}
	if (c->stopped_reading && (ev & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))) {
		conn_fail(w, c, ERR_CLOSED, "the server closed the slow reader");
		return;
	}
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
		conn_readable(w, c, now);        /* read() reports EOF and errors */
		if (c->state != CS_OPEN)
			return;
	}
	if (ev & EPOLLOUT)
		conn_flush(w, c);
}

/* ------------------------------------------------------------ open loop */

static uint64_t ol_due(const struct worker *w, uint64_t k)
{
	return t0_ns + w->ol_offset + (uint64_t)((double)k * w->ol_interval);
}

static void arm_timer(struct worker *w)
{
	uint64_t due = 0;

	if (!w->stopping && w->ol_next < w->ol_limit) {
		due = ol_due(w, w->ol_next);
		if (due >= atomic_load(&deadline_ns))
			due = 0;                     /* nothing more is due within the run */
	}
	if (due == w->timer_due)
		return;
	struct itimerspec its = { .it_value = { (time_t)(due / 1000000000u), (long)(due % 1000000000u) } };
	if (timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)  /* zero disarms */
		die("timerfd_settime");
	w->timer_due = due;
}

/*
 * The timer fired: send every message whose time has come, each stamped with the
 * time it was due.  If this thread was late (the server, or we, stalled), the
 * backlog goes out at once and every message in it carries the delay.
 */
static void ol_send_due(struct worker *w, uint64_t now)
{
	uint64_t exp;
	if (read(w->tfd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		die("read(timerfd)");
	w->timer_due = 0;                    /* fired: no longer armed */

	uint64_t deadline = atomic_load(&deadline_ns);
	while (!w->stopping && w->ol_next < w->ol_limit) {
		uint64_t due = ol_due(w, w->ol_next);
		if (due > now || due >= deadline)
			break;
		struct lconn *c = w->sched[w->ol_next % w->nsched];
		w->ol_next++;
		if (c->state != CS_OPEN || !may_send(w, c))
			continue;                    /* a failed connection sends nothing */
		bool idle = out_pending(c) == 0;
		gen_msg(c, due);
		if (idle)
			conn_flush(w, c);            /* else EPOLLOUT is pending: it will go */
	}
	arm_timer(w);
}

/* ---------------------------------------------------------------- the loop */

/* Does c still have work: something to send or an echo to wait for? */
static bool busy(const struct worker *w, const struct lconn *c)
{
	if (c->state != CS_OPEN && c->state != CS_CONNECTING)
		return false;
	if (c->role == ROLE_IDLE)
		return false;
	if (c->role == ROLE_SLOW)            /* it floods until a timed run ends; never "done" */
		return !w->stopping && !opt.messages;
	if (opt.rate > 0 && c->role == ROLE_ECHO && !w->stopping)
		return w->ol_next < w->ol_limit || c->q_len > 0;
	return c->q_len > 0 || out_pending(c) > 0 || may_send(w, c);
}

static void begin_stop(struct worker *w, uint64_t now)
{
	w->stopping = true;
	w->drain_until = now + (uint64_t)(opt.drain * 1e9);
	arm_timer(w);                        /* disarms */
	for (size_t i = 0; i < w->nconn; i++) {
		struct lconn *c = w->conn[i];
		if (c->state == CS_CONNECTING)   /* churn: a cycle not started yet is not owed */
			conn_close(c, CS_DONE);
		else if (c->state == CS_OPEN && (c->role == ROLE_HOG || c->role == ROLE_SLOW))
			update_events(w, c);         /* stop flooding */
	}
}

/* The drain timed out: every echo still missing is an error. */
static void give_up(struct worker *w)
{
	for (size_t i = 0; i < w->nconn; i++) {
		struct lconn *c = w->conn[i];
		if (busy(w, c) && c->q_len > 0) {
			report(&w->st, ERR_UNANSWERED, c->q_len,
			       "conn %u (%s): %zu message(s) not echoed: none came in the last %.1f s"
			       " (stream offset %" PRIu64 "; the server stalled?)",
			       c->id, role_names[c->role], c->q_len, opt.drain, c->rx_bytes);
			conn_close(c, CS_FAILED);
		}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[MAX_EVENTS];
	uint64_t drained = 0;                /* bytes received when the drain clock was last reset */

	/* Closed loop: every connection starts with DEPTH messages in flight. */
	uint64_t now = tm_now();
	for (size_t i = 0; i < w->nconn; i++) {
		struct lconn *c = w->conn[i];
		if (opt.mode == MODE_CHURN && c->role == ROLE_ECHO) {
			churn_connect(w, c);
			continue;
		}
		if (c->state != CS_OPEN)
			continue;
		if (c->role == ROLE_ECHO && opt.rate == 0)
			for (unsigned d = 0; d < opt.depth && may_send(w, c); d++)
				gen_msg(c, now);
		if (c->role != ROLE_IDLE)
			conn_flush(w, c);
	}
	if (opt.rate > 0)
		arm_timer(w);

	for (;;) {
		int n = epoll_wait(w->ep, ev, MAX_EVENTS, TICK_MS);
		if (n < 0 && errno != EINTR)     /* EINTR: a signal; look at the clock and go on */
			die("epoll_wait");
		now = tm_now();
		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr == NULL) {
				ol_send_due(w, now);
				continue;
			}
			struct lconn *c = ev[i].data.ptr;
			if (c->state == CS_OPEN || c->state == CS_CONNECTING)
				conn_event(w, c, ev[i].events, now);
		}

		if (!w->stopping && (atomic_load(&phase) == PH_DRAIN || now >= atomic_load(&deadline_ns)))
			begin_stop(w, now);

		bool work = false;
		for (size_t i = 0; i < w->nconn && !work; i++)
			work = busy(w, w->conn[i]);
		atomic_store(&w->quiet, !work);
		if (w->stopping && !work)
			break;
		if (w->stopping && w->st.bytes_rx != drained) {
			drained = w->st.bytes_rx;   /* echoes still coming: the server is not stuck */
			w->drain_until = now + (uint64_t)(opt.drain * 1e9);
		}
		if (w->stopping && now >= w->drain_until) {
			give_up(w);
			break;
		}
	}
	atomic_store(&w->quiet, true);
	atomic_store(&w->finished, true);
	return NULL;
}

/* --------------------------------------------------------------- set-up */

/* Blocking connect with a timeout (set-up, main thread).  Returns fd or -1. */
static int connect_one(char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = net_sockaddr(opt.host, opt.port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s%s", strerror(errno),
			 errno == EMFILE ? " (too many descriptors: see ulimit -n)" : "");
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		if (errno != EINPROGRESS)
			goto fail;
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int r;
		while ((r = poll(&pfd, 1, CONNECT_TIMEOUT_MS)) < 0 && errno == EINTR && !interrupted)
			;
		if (r == 0) {
			errno = ETIMEDOUT;
			snprintf(err, errlen, "connect %s: no answer in %d s (the server's accept"
				 " queue is full, or it is stopped)", server_addr,
				 CONNECT_TIMEOUT_MS / 1000);
			close(fd);
			return -1;
		}
		if (r < 0)
			goto fail;
		int e = 0;
		socklen_t len = sizeof(e);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len);
		if (e) {
			errno = e;
			goto fail;
		}
	}
	return fd;
fail:
	snprintf(err, errlen, "connect %s: %s%s", server_addr, strerror(errno),
		 errno == ECONNREFUSED ? " (is the server running, on that port?)" :
		 errno == EADDRNOTAVAIL ? " (out of local ports: too many connections in TIME_WAIT?)" : "");
	close(fd);
	return -1;
}

/*
 * Roles and threads.  Connection 0 is the hog or the slow reader in those modes;
 * with two threads or more it gets the last thread to itself, so its flooding
 * does not steal the client CPU that measures the others.  Idle connections are
 * spread over every thread (they only need to be watched).
 */
static void assign(void)
{
	unsigned special = (opt.mode == MODE_HOG || opt.mode == MODE_SLOW);
	unsigned nwork = special && nworkers > 1 ? nworkers - 1 : nworkers;

	for (size_t i = 0; i < nconns_all; i++) {
		struct lconn *c = &conns[i];
		unsigned t;
		if (i < opt.conns) {
			c->role = ROLE_ECHO;
			if (special && i == 0)
				c->role = opt.mode == MODE_HOG ? ROLE_HOG : ROLE_SLOW;
			if (special && i == 0 && nworkers > 1)
				t = nworkers - 1;
			else
				t = (unsigned)((special && nworkers > 1 ? i - 1 : i) % nwork);
		} else {
			c->role = ROLE_IDLE;
			t = (unsigned)(i % nworkers);
		}
		struct worker *w = &workers[t];
		w->conn[w->nconn++] = c;
		c->worker = t;
		c->state = CS_DONE;          /* until connected */
		if (c->role == ROLE_ECHO && opt.rate > 0)
			w->sched[w->nsched++] = c;
		c->id = (uint32_t)i;
		c->fd = -1;
		c->quota = opt.messages ? opt.messages : UINT64_MAX;
		c->rng = mix64(opt.seed * 0x9e3779b97f4a7c15ULL + i + 1);
	}
	/* Open loop: thread t sends every nworkers-th slot of the global schedule. */
	double period = 1e9 / (opt.rate > 0 ? opt.rate : 1);
	unsigned ol_threads = 0;
	for (unsigned t = 0; t < nworkers; t++)
		ol_threads += workers[t].nsched > 0;
	for (unsigned t = 0, k = 0; t < nworkers; t++) {
		struct worker *w = &workers[t];
		w->ol_limit = 0;
		if (w->nsched == 0)
			continue;
		w->ol_interval = period * ol_threads;
		w->ol_offset = (uint64_t)(period * k++);
		w->ol_limit = opt.messages ? opt.messages * w->nsched : UINT64_MAX;
	}
}

static void register_conn(struct worker *w, struct lconn *c)
{
	struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &e) < 0)
		die("epoll_ctl(ADD)");
	c->events = e.events;
	c->state = CS_OPEN;
}

/* ------------------------------------------------------------- CPU time */

/* CPU time (user + system, ns) of process pid: its CPU clock, or /proc/PID/stat. */
static int64_t proc_cpu_ns(pid_t pid)
{
	clockid_t clk;
	struct timespec ts;
	struct proc_stat ps;

	if (clock_getcpuclockid(pid, &clk) == 0 && clock_gettime(clk, &ts) == 0)
		return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	return procstat_read(pid, &ps) ? procstat_cpu_ns(&ps) : -1;
}

static int64_t self_cpu_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* Alive and not a zombie (a dead child of the shell that has not been reaped). */
static bool proc_alive(pid_t pid)
{
	struct proc_stat ps;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return false;
	return !procstat_read(pid, &ps) || procstat_alive(&ps);   /* no /proc: kill() said it exists */
}

/* ------------------------------------------------------------- reporting */

struct result {
	struct stats all;                    /* every worker's stats merged */
	double   duration_s;                 /* the measured window */
	double   jain, min_share, max_share; /* fairness over the workload connections */
	uint32_t min_conn, max_conn;
	int64_t  client_cpu_ns, server_cpu_ns;   /* over the window; server -1 = unknown */
	bool     server_died;
	char     error[256];                 /* why the run failed, "" if it did not fail outright */
};

static void fairness(struct result *r)
{
	struct jain j = { 0 };
	double min = INFINITY, max = -1;

	for (size_t i = 0; i < opt.conns; i++) {
		double x = (double)conns[i].done;

		jain_add(&j, x);
		if (x < min) {
			min = x;
			r->min_conn = (uint32_t)i;
		}
		if (x > max) {
			max = x;
			r->max_conn = (uint32_t)i;
		}
	}
	if (isnan(jain_index(&j))) {
		r->jain = r->min_share = r->max_share = 0;
		return;
	}
	r->jain = jain_index(&j);                /* 1 = perfectly even, 1/n = one takes all */
	r->min_share = jain_share(&j, min);      /* 1.0 = exactly its fair share */
	r->max_share = jain_share(&j, max);
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static void json_hist(const char *key, const struct hist *h)
{
	printf(",\"%s\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,"
	       "\"mean\":%.1f,\"count\":%" PRIu64 "}", key,
	       us(hist_quantile(h, 0.50)), us(hist_quantile(h, 0.90)), us(hist_quantile(h, 0.99)),
	       us(hist_quantile(h, 0.999)), us(h->count ? h->max : 0), hist_mean(h) / 1000.0,
	       h->count);
}

static bool result_ok(const struct result *r)
{
	for (int k = 0; k < NERR; k++)
		if (r->all.err[k])
			return false;
	return !r->server_died && !r->error[0];
}

static double per_msg_us(int64_t ns, uint64_t msgs)
{
	return msgs ? (double)ns / 1000.0 / (double)msgs : 0;
}

static void print_json(const struct result *r)
{
	const struct stats *s = &r->all;
	double d = r->duration_s > 0 ? r->duration_s : 1;

	printf("{\"ok\":%s,\"mode\":\"%s\",\"conns\":%u,\"idle\":%u,\"threads\":%u,"
	       "\"framing\":\"%s\",\"size\":%u,\"size_min\":%u,\"size_max\":%u,"
	       "\"loop\":\"%s\",\"depth\":%u,\"rate\":%.1f,\"host\":",
	       result_ok(r) ? "true" : "false", mode_names[opt.mode], opt.conns, opt.idle,
	       nworkers, framing_name(opt.framing), opt.size_max, opt.size_min, opt.size_max,
	       opt.rate > 0 ? "open" : "closed", opt.depth, opt.rate);
	json_string(stdout, opt.host);
	printf(",\"port\":%u,\"duration_s\":%.3f,\"messages\":%" PRIu64 ",\"window_messages\":%"
	       PRIu64 ",\"bytes\":%" PRIu64 ",\"msgs_per_s\":%.1f,\"mb_per_s\":%.3f",
	       opt.port, r->duration_s, s->messages, s->window_msgs, s->bytes_rx,
	       (double)s->window_msgs / d, (double)s->window_bytes / d / 1e6);
	printf(",\"errors\":{");
	for (int k = 0; k < NERR; k++)
		printf("%s\"%s\":%" PRIu64, k ? "," : "", err_names[k], s->err[k]);
	printf("}");
	json_hist("latency_us", s->lat);
	printf(",\"fairness\":{\"jain\":%.4f,\"min_share\":%.4f,\"max_share\":%.4f,"
	       "\"min_conn\":%u,\"max_conn\":%u}", r->jain, r->min_share, r->max_share,
	       r->min_conn, r->max_conn);
	if (opt.mode == MODE_HOG || opt.mode == MODE_SLOW) {
		json_hist("others_latency_us", s->lat_others);
		printf(",\"others_msgs_per_s\":%.1f", (double)s->others_msgs / d);
	}
	if (opt.mode == MODE_CHURN) {
		printf(",\"connects\":%" PRIu64, s->connects);
		json_hist("connect_us", s->lat_connect);
	}
	printf(",\"client_cpu_us_per_msg\":%.3f", per_msg_us(r->client_cpu_ns, s->window_msgs));
	if (opt.server_pid) {
		printf(",\"server_pid\":%d,\"server_died\":%s", (int)opt.server_pid,
		       r->server_died ? "true" : "false");
		if (r->server_cpu_ns >= 0)
			printf(",\"server_cpu_us_per_msg\":%.3f",
			       per_msg_us(r->server_cpu_ns, s->window_msgs));
	}
	if (r->error[0]) {
		printf(",\"error\":");
		json_string(stdout, r->error);
	}
	printf("}\n");
}

/* 812 us, 1.02 ms, 3.10 s: three significant digits in a sensible unit. */
static const char *fmt_ns(char *buf, size_t len, uint64_t ns)
{
	double v = (double)ns;
	if (v < 1e3)
		snprintf(buf, len, "%.0f ns", v);
	else if (v < 1e6)
		snprintf(buf, len, "%.*f us", v < 1e4 ? 2 : v < 1e5 ? 1 : 0, v / 1e3);
	else if (v < 1e9)
		snprintf(buf, len, "%.*f ms", v < 1e7 ? 2 : v < 1e8 ? 1 : 0, v / 1e6);
	else
		snprintf(buf, len, "%.2f s", v / 1e9);
	return buf;
}

static void print_hist_line(const char *label, const struct hist *h)
{
	char a[5][24], mean[24];

	if (h->count == 0) {
		printf("  %-11s no echoes\n", label);
		return;
	}
	printf("  %-11s p50 %s   p90 %s   p99 %s   p99.9 %s   max %s   (mean %s)\n", label,
	       fmt_ns(a[0], 24, hist_quantile(h, 0.5)), fmt_ns(a[1], 24, hist_quantile(h, 0.9)),
	       fmt_ns(a[2], 24, hist_quantile(h, 0.99)), fmt_ns(a[3], 24, hist_quantile(h, 0.999)),
	       fmt_ns(a[4], 24, h->max), fmt_ns(mean, 24, (uint64_t)hist_mean(h)));
}

static void print_human(const struct result *r)
{
	const struct stats *s = &r->all;
	double d = r->duration_s > 0 ? r->duration_s : 1;
	char size[64];

	if (opt.size_min == opt.size_max)
		snprintf(size, sizeof(size), "%u B", opt.size_max);
	else
		snprintf(size, sizeof(size), "%u..%u B", opt.size_min, opt.size_max);
	printf(PROG ": %s mode, %u connection%s", mode_names[opt.mode], opt.conns,
	       opt.conns == 1 ? "" : "s");
	if (opt.idle)
		printf(" + %u idle", opt.idle);
	printf(" to %s over %u thread%s, %s messages of %s, ", server_addr, nworkers,
	       nworkers == 1 ? "" : "s", framing_name(opt.framing), size);
	if (opt.mode == MODE_CHURN)
		printf("one echo per connection\n");
	else if (opt.rate > 0)
		printf("open loop at %.0f msg/s\n", opt.rate);
	else
		printf("closed loop, depth %u\n", opt.depth);

	printf("  throughput  %" PRIu64 " messages in %.2f s: %.0f msg/s, %.2f MB/s echoed\n",
	       s->window_msgs, r->duration_s, (double)s->window_msgs / d,
	       (double)s->window_bytes / d / 1e6);
	print_hist_line("latency", s->lat);
	if ((opt.mode == MODE_HOG || opt.mode == MODE_SLOW) && opt.conns > 1) {
		printf("  others      %.0f msg/s: the %u connection%s beside the %s\n",
		       (double)s->others_msgs / d, opt.conns - 1, opt.conns == 2 ? "" : "s",
		       opt.mode == MODE_HOG ? "hog" : "slow reader");
		print_hist_line("others", s->lat_others);
	}
	if (opt.mode == MODE_CHURN) {
		printf("  connects    %" PRIu64 " (%.0f/s)\n", s->connects, (double)s->connects / d);
		print_hist_line("connect", s->lat_connect);
	}
	if (opt.conns > 1 && s->messages > 0)
		printf("  fairness    Jain index %.3f; least served conn %u got %.2fx its fair share,"
		       " most served conn %u %.2fx\n", r->jain, r->min_conn, r->min_share,
		       r->max_conn, r->max_share);
	printf("  cpu         client %.2f us/msg", per_msg_us(r->client_cpu_ns, s->window_msgs));
	if (opt.server_pid && r->server_cpu_ns >= 0)
		printf(", server %.2f us/msg (pid %d)", per_msg_us(r->server_cpu_ns, s->window_msgs),
		       (int)opt.server_pid);
	printf("\n");
	if (result_ok(r)) {
		printf("  verified    every echoed byte (%" PRIu64 " bytes)\n", s->bytes_rx);
	} else {
		printf("  FAILED      ");
		for (int k = 0; k < NERR; k++)
			printf("%s%" PRIu64 " %s", k ? ", " : "", s->err[k], err_names[k]);
		printf("%s%s\n", r->error[0] ? "; " : "", r->error);
	}
}

/* ---------------------------------------------------------------- flags */

static void usage(void)
{
	printf(
"usage: " PROG " [--host ADDR] -p PORT [options]\n"
"\n"
"Load an iolab echo server with many connections, check every echoed byte, and\n"
"report throughput, latency percentiles, fairness and CPU per message.\n"
"\n"
"  -H, --host ADDR        server address, an IPv4/IPv6 literal (default 127.0.0.1)\n"
"  -p, --port PORT        server port (required)\n"
"  -c, --conns N          connections doing the workload (default 1)\n"
"  -T, --threads N        client threads, each with its own epoll (default 1)\n"
"  -f, --framing F        len32 | line | raw (default len32)\n"
"  -s, --size BYTES       payload bytes per message (default 128)\n"
"      --size-min A, --size-max B   payload sizes drawn uniformly from [A, B]\n"
"  -d, --depth D          closed loop: messages in flight per connection (default 1)\n"
"  -r, --rate R           open loop: R messages per second in total; latency counts\n"
"                         from when each message was due (no coordinated omission)\n"
"  -t, --time SECONDS     run length, fractions allowed (default 5)\n"
"  -n, --messages N       instead of a time: N messages per connection\n"
"  -m, --mode MODE        echo   the normal workload (default)\n"
"                         hog    connection 0 floods without waiting; the others'\n"
"                                latency is reported separately (use -T 2)\n"
"                         slow   connection 0 floods and stops reading after\n"
"                                --slow-after bytes: the server hits EAGAIN and its\n"
"                                high-water mark; the others are reported separately\n"
"                         tiny   every frame written one byte per write()\n"
"                         churn  connect, one echo, close, again (-c parallel slots)\n"
"                         idle   echo plus --idle connections (default %d) that never send\n"
"      --idle K           K extra connections that connect first and never send\n"
"      --slow-after BYTES slow mode: bytes read before reading stops (default %d)\n"
"      --server-pid PID   report the server's CPU time per message; notice if it dies\n"
"      --drain SECONDS    at the end, give up on missing echoes after this long\n"
"                         without one arriving (default %.0f)\n"
"      --seed N           payload and size randomness (default 1)\n"
"      --json             one JSON object on stdout instead of the summary\n"
"  -h, --help             this text\n"
"\n"
"JSON keys: ok mode conns idle threads framing size loop depth rate duration_s\n"
"  messages window_messages bytes msgs_per_s mb_per_s errors{mismatch short closed\n"
"  connect unanswered} latency_us{p50 p90 p99 p999 max mean count} fairness{jain\n"
"  min_share max_share} client_cpu_us_per_msg [server_cpu_us_per_msg server_died]\n"
"  [others_latency_us others_msgs_per_s: hog, slow] [connects connect_us: churn] [error]\n"
"  msgs_per_s counts echoes completed within the run; messages also counts the drain.\n"
"  Shares are relative to the fair share (1.0 = total / conns).\n"
"\n"
"Exit status: 0 all verified, 1 errors (mismatch, short echo, closed, refused,\n"
"server died, echoes missing), 2 bad flags.\n"
"\n"
"Example: bin/echo-epoll-lt -p 7000 &  " PROG " -p 7000 -c 50 -t 3 --server-pid $!\n",
	       DEFAULT_IDLE, DEFAULT_SLOW_AFTER, DEFAULT_DRAIN_S);
}

static uint64_t parse_u64(const char *flag, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		usage_error("%s: '%s' is not a whole number in %" PRIu64 "..%" PRIu64,
			    flag, s, min, max);
	return v;
}

static double parse_pos(const char *flag, const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || !isfinite(v))
		usage_error("%s: '%s' is not a positive number", flag, s);
	return v;
}

enum { O_SIZE_MIN = 256, O_SIZE_MAX, O_IDLE, O_SLOW_AFTER, O_SERVER_PID, O_JSON, O_SEED, O_DRAIN };

static void parse_flags(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "conns", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 'T' },
		{ "framing", required_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 's' },
		{ "size-min", required_argument, NULL, O_SIZE_MIN },
		{ "size-max", required_argument, NULL, O_SIZE_MAX },
		{ "depth", required_argument, NULL, 'd' },
		{ "rate", required_argument, NULL, 'r' },
		{ "time", required_argument, NULL, 't' },
		{ "messages", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "idle", required_argument, NULL, O_IDLE },
		{ "slow-after", required_argument, NULL, O_SLOW_AFTER },
		{ "server-pid", required_argument, NULL, O_SERVER_PID },
		{ "json", no_argument, NULL, O_JSON },
		{ "seed", required_argument, NULL, O_SEED },
		{ "drain", required_argument, NULL, O_DRAIN },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	bool have_port = false, have_time = false, have_size = false, have_idle = false;
	bool have_min = false, have_max = false, have_depth = false, have_slow = false;
	int ch, f;

	opterr = 0;                          /* we word the errors ourselves */
	while ((ch = getopt_long(argc, argv, ":H:p:c:T:f:s:d:r:t:n:m:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'H': opt.host = strcmp(optarg, "localhost") ? optarg : "127.0.0.1"; break;
		case 'p': opt.port = (uint16_t)parse_u64("-p", optarg, 1, 65535); have_port = true; break;
		case 'c': opt.conns = (unsigned)parse_u64("-c", optarg, 1, 100000); break;
		case 'T': opt.threads = (unsigned)parse_u64("-T", optarg, 1, 256); break;
		case 'f':
			if ((f = framing_parse(optarg)) < 0)
				usage_error("-f: unknown framing '%s' (len32, line or raw)", optarg);
			opt.framing = (enum framing)f;
			break;
		case 's':
			opt.size_min = opt.size_max = (uint32_t)parse_u64("-s", optarg, 0, 64u << 20);
			have_size = true;
			break;
		case O_SIZE_MIN: opt.size_min = (uint32_t)parse_u64("--size-min", optarg, 0, 64u << 20); have_min = true; break;
		case O_SIZE_MAX: opt.size_max = (uint32_t)parse_u64("--size-max", optarg, 0, 64u << 20); have_max = true; break;
		case 'd': opt.depth = (unsigned)parse_u64("-d", optarg, 1, 100000); have_depth = true; break;
		case 'r': opt.rate = parse_pos("-r", optarg); break;
		case 't': opt.seconds = parse_pos("-t", optarg); have_time = true; break;
		case 'n': opt.messages = parse_u64("-n", optarg, 1, UINT64_MAX / 2); break;
		case 'm':
			for (f = 0; f < MODE_N && strcmp(optarg, mode_names[f]); f++)
				;
			if (f == MODE_N)
				usage_error("-m: unknown mode '%s' (echo, hog, slow, tiny, churn or idle)", optarg);
			opt.mode = (enum mode)f;
			break;
		case O_IDLE: opt.idle = (unsigned)parse_u64("--idle", optarg, 0, 1000000); have_idle = true; break;
		case O_SLOW_AFTER: opt.slow_after = parse_u64("--slow-after", optarg, 0, UINT64_MAX / 2); have_slow = true; break;
		case O_SERVER_PID: opt.server_pid = (pid_t)parse_u64("--server-pid", optarg, 1, INT_MAX); break;
		case O_JSON: opt.json = true; break;
		case O_SEED: opt.seed = parse_u64("--seed", optarg, 0, UINT64_MAX); break;
		case O_DRAIN: opt.drain = parse_pos("--drain", optarg); break;
		case 'h': usage(); exit(0);
		case ':': usage_error("%s needs a value", argv[optind - 1]);
		default:
			if (optopt)
				usage_error("unknown flag -%c", optopt);
			usage_error("unknown flag %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!have_port)
		usage_error("-p PORT is required (the server prints it: 'listening on ADDR:PORT')");
	struct sockaddr_storage ss;
	if (net_sockaddr(opt.host, opt.port, &ss) == 0)
		usage_error("--host: '%s' is not an IPv4 or IPv6 address", opt.host);
	snprintf(server_addr, sizeof(server_addr), strchr(opt.host, ':') ? "[%s]:%u" : "%s:%u",
		 opt.host, opt.port);
	if (have_time && opt.messages)
		usage_error("-t and -n exclude each other: a run is timed or counted");
	if (have_size && (have_min || have_max))
		usage_error("-s and --size-min/--size-max exclude each other");
	if (have_min != have_max)
		usage_error("--size-min and --size-max go together");
	if (opt.size_min > opt.size_max)
		usage_error("--size-min %u is larger than --size-max %u", opt.size_min, opt.size_max);
	if (opt.framing == FRAMING_RAW && opt.size_min == 0)
		usage_error("raw framing needs messages of at least 1 byte");
	if (opt.rate > 0 && have_depth)
		usage_error("-d is for the closed loop, -r for the open loop: choose one");
	if (opt.mode == MODE_CHURN && (opt.rate > 0 || have_depth))
		usage_error("churn does one echo per connection: no -r or -d");
	if (opt.mode == MODE_IDLE && !have_idle)
		opt.idle = DEFAULT_IDLE;
	if (have_slow && opt.mode != MODE_SLOW)
		usage_error("--slow-after only applies to -m slow");
	if (opt.mode == MODE_SLOW && !have_slow)
		opt.slow_after = DEFAULT_SLOW_AFTER;
	if (opt.threads > opt.conns)
		opt.threads = opt.conns;         /* a thread without connections has nothing to do */
}

/* ---------------------------------------------------------------- main */

static void on_signal(int sig)
{
	interrupted = 1;
	signal(sig, SIG_DFL);                /* a second Ctrl-C ends it at once */
}

static void cleanup(void)
{
	for (size_t i = 0; i < nconns_all; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
}

/* Threads, their epoll sets and histograms; then who drives which connection. */
static void setup_workers(void)
{
	nworkers = opt.threads;
	workers = xcalloc(nworkers, sizeof(*workers));
	conns = xcalloc(nconns_all, sizeof(*conns));
	for (unsigned t = 0; t < nworkers; t++) {
		struct worker *w = &workers[t];
		w->idx = t;
		w->conn = xcalloc(nconns_all, sizeof(*w->conn));
		w->sched = xcalloc(opt.conns, sizeof(*w->sched));
		w->rbuf = xcalloc(1, RBUF_SIZE);
		w->st.lat = xcalloc(1, sizeof(struct hist));
		w->st.lat_others = xcalloc(1, sizeof(struct hist));
		w->st.lat_connect = xcalloc(1, sizeof(struct hist));
		hist_init(w->st.lat);
		hist_init(w->st.lat_others);
		hist_init(w->st.lat_connect);
		if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
			die("epoll_create1");
		if ((w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0)
			die("timerfd_create");
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };   /* NULL: the timer */
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->tfd, &e) < 0)
			die("epoll_ctl(ADD timerfd)");
	}
	assign();
}

/*
 * Connect everything before the clock starts.  Idle connections first, so in the
 * server they hold the low descriptors and select()/poll() must scan past them to
 * reach the active ones.  false (with r->error set) if one fails.
 */
static bool connect_all(struct result *r)
{
	char err[256];

	for (size_t k = 0; k < nconns_all; k++) {
		size_t i = k < opt.idle ? opt.conns + k : k - opt.idle;
		struct lconn *c = &conns[i];
		if (opt.mode == MODE_CHURN && c->role == ROLE_ECHO)
			continue;                    /* churn slots connect in the loop */
		if (interrupted) {
			snprintf(r->error, sizeof(r->error), "interrupted while connecting");
			return false;
		}
		c->fd = connect_one(err, sizeof(err));
		if (c->fd < 0) {
			report(&workers[0].st, ERR_CONNECT, 1, "conn %zu: %s", i, err);
			snprintf(r->error, sizeof(r->error), "%s", err);
			return false;
		}
		register_conn(&workers[c->worker], c);
	}
	return true;
}

/* The run is over (deadline, all done, or trouble): note CPU times, start the drain. */
static uint64_t end_window(struct result *r, uint64_t now, int64_t cpu0, int64_t srv0)
{
	uint64_t dl = atomic_load(&deadline_ns);
	uint64_t end = now < dl ? now : dl;

	atomic_store(&deadline_ns, end);
	r->client_cpu_ns = self_cpu_ns() - cpu0;
	if (srv0 >= 0) {
		int64_t s1 = proc_cpu_ns(opt.server_pid);
		r->server_cpu_ns = s1 >= 0 ? s1 - srv0 : -1;
	}
	atomic_store(&phase, PH_DRAIN);
	return end;
}

/*
 * Start the threads and watch them: the clock, Ctrl-C, the server's pid, a stall.
 * Returns when every thread has finished; the result is the end of the window.
 */
static uint64_t run(struct result *r)
{
	sigset_t all, old;
	uint64_t window_end = 0, last_progress = 0, last_progress_ns;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);      /* signals go to the main thread */
	int64_t cpu0 = self_cpu_ns();
	int64_t srv0 = opt.server_pid ? proc_cpu_ns(opt.server_pid) : -1;
	t0_ns = last_progress_ns = tm_now();
	atomic_store(&deadline_ns, opt.messages ? UINT64_MAX : t0_ns + (uint64_t)(opt.seconds * 1e9));
	for (unsigned t = 0; t < nworkers; t++) {
		int e = pthread_create(&workers[t].tid, NULL, worker_main, &workers[t]);
		if (e) {
			errno = e;
			die("pthread_create");
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	for (;;) {
		bool quiet = true, finished = true;
		uint64_t progress = 0;
		for (unsigned t = 0; t < nworkers; t++) {
			quiet &= atomic_load(&workers[t].quiet);
			finished &= atomic_load(&workers[t].finished);
			progress += atomic_load_explicit(&workers[t].progress, memory_order_relaxed);
		}
		/* The clock after the flags: a worker that went quiet because it saw
		 * the deadline did so before this moment. */
		uint64_t now = tm_now();
		if (progress != last_progress) {
			last_progress = progress;
			last_progress_ns = now;
		}
		const char *why = NULL;
		if (interrupted)
			why = "interrupted: partial results";
		else if (opt.server_pid && !r->server_died && !proc_alive(opt.server_pid)) {
			r->server_died = true;
			why = "the server died during the run";
		} else if (!window_end && quiet && !opt.messages && now < atomic_load(&deadline_ns))
			why = "every connection failed before the end of the run";
		else if (!window_end && opt.messages && now - last_progress_ns > STALL_NS)
			why = "no echo for " STALL_TEXT ": the server is stuck";
		if (why && !r->error[0])
			snprintf(r->error, sizeof(r->error), "%s", why);
		if (!window_end && (why || quiet || now >= atomic_load(&deadline_ns)))
			window_end = end_window(r, now, cpu0, srv0);
		if (finished)
			break;
		struct timespec ts = { 0, TICK_MS * 1000000L };
		uint64_t dl = atomic_load(&deadline_ns);
		if (!window_end && dl > now && dl - now < (uint64_t)ts.tv_nsec)
			ts.tv_nsec = (long)(dl - now);   /* wake up right at the deadline */
		nanosleep(&ts, NULL);
	}
	for (unsigned t = 0; t < nworkers; t++)
		pthread_join(workers[t].tid, NULL);
	if (opt.server_pid && !r->server_died && !proc_alive(opt.server_pid)) {
		r->server_died = true;
		snprintf(r->error, sizeof(r->error), "the server died during the run");
	}
	return window_end;
}

/* Add up the threads' results into r->all. */
static void merge(struct result *r)
{
	r->all = workers[0].st;
	for (unsigned t = 1; t < nworkers; t++) {
		const struct stats *s = &workers[t].st;
		hist_merge(r->all.lat, s->lat);
		hist_merge(r->all.lat_others, s->lat_others);
		hist_merge(r->all.lat_connect, s->lat_connect);
		r->all.messages += s->messages;
		r->all.window_msgs += s->window_msgs;
		r->all.window_bytes += s->window_bytes;
		r->all.others_msgs += s->others_msgs;
		r->all.bytes_rx += s->bytes_rx;
		r->all.bytes_tx += s->bytes_tx;
		r->all.connects += s->connects;
		if (s->last_done_ns > r->all.last_done_ns)
			r->all.last_done_ns = s->last_done_ns;
		for (int k = 0; k < NERR; k++)
			r->all.err[k] += s->err[k];
	}
}

int main(int argc, char **argv)
{
	struct result r = { .server_cpu_ns = -1 };

	parse_flags(argc, argv);
	if (opt.server_pid && !proc_alive(opt.server_pid)) {
		fprintf(stderr, PROG ": --server-pid %d: no such process\n", (int)opt.server_pid);
		return 2;
	}
	nconns_all = (size_t)opt.conns + opt.idle;
	long limit = net_raise_nofile();
	if (limit > 0 && (long)nconns_all + 32 > limit) {
		fprintf(stderr, PROG ": %zu connections need more descriptors than the limit %ld"
			" (ulimit -Hn; raise it as root or in /etc/security/limits.conf)\n",
			nconns_all, limit);
		return 2;
	}
	pattern_init();
	wire.framing = opt.framing;
	wire.seed = opt.seed;
	net_ignore_sigpipe();                /* a write to a closed connection: EPIPE, not death */
	setup_workers();

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	bool connected = connect_all(&r);
	if (connected) {
		uint64_t window_end = run(&r);
		merge(&r);
		/* A counted run lasts until its last echo; a timed one until its deadline. */
		if (opt.messages && !r.error[0] && r.all.last_done_ns > t0_ns)
			window_end = r.all.last_done_ns;
		r.duration_s = (double)(window_end - t0_ns) / 1e9;
	} else {
		merge(&r);                           /* nothing ran: the connect error, no echoes */
	}

	fairness(&r);
	if (opt.json)
		print_json(&r);
	else
		print_human(&r);
	fflush(stdout);
	if (r.error[0] && connected)         /* (a connect error was printed as it happened) */
		warnx("%s", r.error);
	cleanup();
	return result_ok(&r) ? 0 : 1;
}
