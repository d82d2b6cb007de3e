/*
 * server.h — the skeleton every iolab echo server is built on.
 *
 * A model file (labs/NN-name/echo-NAME.c) is its model and nothing else:
 *
 *   static struct server srv;
 *   static const struct model MODEL = { .name = "epoll-lt", ..., .options = OPTIONS };
 *   int main(int argc, char **argv)
 *   {
 *       server_start(&srv, &MODEL, argc, argv);      flags, listener, telemetry, signals,
 *                                                     prints "listening on ADDR:PORT"
 *       while (!server_stop) {
 *           n = <the model's wait>(..., &srv.waitmask);   SIGINT/SIGTERM get in only here
 *           turn_begin(n);
 *           ... conn_accept / conn_serve / conn_flush / conn_set_interest ...
 *           turn_end();
 *       }
 *       conn_table_free_all(&srv.conns);
 *       server_finish(&srv);                          close everything, remove telemetry
 *   }
 *
 * Everything that is the same in every model lives here and in conn.c: option
 * parsing (the model lists its own options in a table), accepting with its error
 * ladder, the echo work on a connection (read, cut frames, queue, write), closing,
 * interest bookkeeping, counting, and deciding whether a wakeup found work.  So
 * `diff` between two model files shows the model and nothing else.
 *
 * This is the program side of common/: server_start() may print and exit (bad
 * flags, cannot listen).  buf, framing, net and telemetry never do.
 */
#ifndef IOLAB_SERVER_H
#define IOLAB_SERVER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/buf.h"
#include "common/framing.h"
#include "common/http.h"
#include "common/masks.h"
#include "common/net.h"
#include "common/telemetry.h"
#include "common/wheel.h"

#define DEFAULT_BIND        "127.0.0.1"
#define DEFAULT_HIGH_WATER  (4u * 1024 * 1024)  /* stop reading a peer with this much unsent */

/* ------------------------------------------------------------------ options */

/* A model's own flag: the skeleton parses it into *ptr and lists it in --help. */
enum opt_kind {
	OPTK_FLAG,                 /* --name            bool */
	OPTK_SIZE,                 /* --name BYTES      size_t, K/M/G suffixes */
	OPTK_LONG,                 /* --name N          long, min..max */
};

struct model_option {
	const char   *name;        /* "budget" for --budget */
	enum opt_kind kind;
	void         *ptr;         /* bool *, size_t * or long * */
	const char   *arg;         /* "BYTES" in --help */
	const char   *help;        /* one line, with the default */
	long          min, max;    /* OPTK_LONG only */
};
#define OPTIONS_END { NULL, OPTK_FLAG, NULL, NULL, NULL, 0, 0 }
/* Every model that can stop reading a peer lists this one. */
#define OPTION_HIGH_WATER(srv) \
	{ "high-water", OPTK_SIZE, &(srv)->opt.high_water, "BYTES", \
	  "stop reading a peer with this much unsent output (default 4M; 0 = never)", 0, 0 }

struct server;

/* Models whose wait takes server_wait_ms() and that call server_expire() list these. */
#define OPTION_TIMERS(srv) \
	{ "idle-timeout", OPTK_LONG, &(srv)->opt.idle_timeout_ms, "MS", \
	  "close a connection that sent no data for MS milliseconds (idle_timeouts)", 1, 86400000 }, \
	{ "heartbeat", OPTK_LONG, &(srv)->opt.heartbeat_ms, "MS", \
	  "peers send an empty frame at least every MS ms (counted, not echoed); 3 missed: closed (hb_timeouts)", 1, 86400000 }

struct bug {
	const char *name;          /* --bug=NAME */
	const char *what;          /* one line for --help */
};

struct conn;

struct model {
	const char *name;          /* "epoll-lt": telemetry model name */
	const char *program;       /* "echo-epoll-lt" */
	const char *wait_call;     /* "epoll_wait": what TM_WAIT_CALLS counts */
	const char *summary;       /* one line: what it demonstrates */
	int         lesson;        /* LESSONS.md section */
	bool        blocking;      /* accepted sockets and the listener stay blocking; a thread each */
	bool        threaded;      /* several threads serve connections (telemetry: several writers) */
	bool        datagram;      /* UDP: s->lfd is a bound SOCK_DGRAM socket (nonblocking), no listen() */
	const struct model_option *options;  /* OPTIONS_END-terminated, or NULL */
	const struct bug *bugs;    /* {NULL, NULL}-terminated, or NULL */
	/* Set-up that must work before the server says it is listening (flags are parsed). */
	void      (*setup)(struct server *s);
	/* conn_close() calls it first when c->model_data is set: free what that holds. */
	void      (*release)(struct conn *c);
};

/* What every model takes (-p, -b, -f, --max-frame, --read-chunk, --no-stats, --nagle,
 * --send-timeout, -q). */
struct server_opts {
	const char  *bind;         /* -b/--bind, default 127.0.0.1 */
	uint16_t     port;         /* -p/--port, 0 = pick a free port */
	enum framing framing;      /* -f/--framing len32|line|raw */
	bool         http;         /* -f http: answer HTTP requests (common/http.h) instead of echoing */
	size_t       max_frame;    /* --max-frame BYTES */
	size_t       read_chunk;   /* --read-chunk BYTES: cap per read call, 0 = none */
	bool         no_stats;     /* --no-stats: telemetry off */
	bool         nagle;        /* --nagle: leave Nagle's algorithm on (no TCP_NODELAY) */
	size_t       high_water;   /* OPTION_HIGH_WATER; 0 = off */
	long         idle_timeout_ms; /* OPTION_TIMERS: close after this long with no data */
	long         heartbeat_ms;    /* OPTION_TIMERS: close after 3 x this with no byte at all */
	long         send_timeout; /* --send-timeout SECS: close when output is stuck that long; 0 = off */
	const char  *bug;          /* --bug=NAME or NULL */
};

struct conn;
struct server;

/* fd -> conn table (grows as needed). */
struct conn_table {
	struct conn **v;
	size_t        n;
};

struct server {
	const struct model *model;
	struct server_opts  opt;
	int                 lfd;       /* listening socket */
	uint16_t            port;      /* real port */
	struct conn_table   conns;     /* the open connections, by fd */
	sigset_t            waitmask;  /* the signal mask to wait with: SIGINT/SIGTERM open */
	/* Limits conn_accept() enforces by refusing (counted as `refused`): 0 = none. */
	int                 max_fd;    /* refuse fd >= max_fd (select: FD_SETSIZE) */
	size_t              max_conns; /* refuse beyond this many open (aio: its context) */
	const char         *refuse_why;/* one line for the log */
};

/*
 * Set by SIGINT/SIGTERM.  server_start() blocks both: they get in only where a model
 * waits with srv.waitmask (epoll_pwait, ppoll, pselect, io_uring_enter's sigmask...),
 * so one that lands between the `while (!server_stop)` check and the wait is not lost.
 */
extern _Atomic int server_stop;   /* atomic: the handler writes it, every thread reads it */
/* -q/--quiet: no per-connection log lines. */
extern bool server_quiet;

/*
 * Parse flags (exit 2 with a message on a bad one, 0 after --help), raise the
 * descriptor limit, ignore SIGPIPE (unless --bug=no-sigpipe), block SIGINT/SIGTERM
 * and catch them, listen, open telemetry, print the one line "listening on ADDR:PORT"
 * on stdout and flush it.
 */
void server_start(struct server *s, const struct model *m, int argc, char **argv);
void server_finish(struct server *s);
/* Is --bug=NAME in force? */
bool server_bug(const struct server *s, const char *name);
/* Let SIGINT/SIGTERM in everywhere, for a model whose calls block outside its wait. */
void server_signals_anywhere(struct server *s);
/* Die naming the failed call: "echo-epoll-lt: epoll_ctl: Bad file descriptor", exit 1. */
void die(const char *call) __attribute__((noreturn));
/* One line on stderr, prefixed with the time and the program name. */
void iolog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * The same, at most one line a second per call site `last`: lines that would come
 * faster are counted and the next one printed says how many were suppressed.
 */
struct ratelimit { uint64_t last_ns; unsigned long suppressed; };
void iolog_limited(struct ratelimit *rl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------ a turn */

/*
 * A wakeup of the model's wait: turn_begin(n) counts the wait call and its n events
 * (n < 0: the wait failed, counted as a call only), turn_ready() marks what it reported
 * ready (the starvation clock starts), turn_end() counts an empty wakeup when nothing
 * was accepted, read, written or closed since turn_begin().  Per thread.
 */
void turn_begin(int n);
void turn_spin(void);              /* a busy loop's turn: counts a spin, no wait call */
void turn_ready(int fd, uint32_t mask);
struct epoll_event;
void turn_events(const struct epoll_event *ev, int n);   /* turn_begin(n), turn_ready() each */
void turn_completed(int fd, uint32_t mask, int64_t res);  /* turn_ready() for a completion */
void turn_end(void);
/* Work done outside the conn_* calls (a datagram read or sent): this turn was not empty. */
void turn_moved(void);

/*
 * Connection timers (--idle-timeout, --heartbeat; OPTION_TIMERS).  The wait's timeout:
 * ms until the next one is due, -1 for none (pass it to epoll_wait/poll; server_wait_ts()
 * for the calls that take a timespec); after each wakeup server_expire() closes the
 * connections whose time is up (conn_close(c, ETIMEDOUT), counted in idle_timeouts or
 * hb_timeouts).  Per thread.
 */
int  server_wait_ms(void);
struct timespec *server_wait_ts(struct timespec *ts);   /* NULL: wait for ever */
void server_expire(void);

/* ------------------------------------------------------------- connections */

struct conn {
	int                  fd;
	uint16_t             peer_port;
	enum tm_state        state;     /* CONN_READING ... see telemetry.h */
	struct buf           in;        /* bytes read, not yet a whole frame */
	struct buf           out;       /* echo waiting to be written */
	struct frame_decoder dec;
	struct http_conn     http;      /* -f http: the request parser's state */
	bool                 rd_closed; /* peer half-closed: read returned 0 */
	bool                 paused;    /* out over the high-water mark: not reading */
	uint32_t             interest;  /* what the model waits for (epoll bits): conn_set_interest() */
	void                *model_data;/* whatever the model needs per connection */
	const struct server_opts *opt;
	struct conn_table   *table;     /* the table it is in, or NULL */
	struct conn         *next;      /* for the model's own lists (ready list...) */
	struct timer         timer;     /* --idle-timeout/--heartbeat deadline (server_expire) */
	uint64_t             last_rx_ms, last_data_ms;  /* when a byte / a data frame last came */
	bool                 on_list;
};

/*
 * Take one waiting client from the listener as a new connection in s->conns (not for a
 * blocking model: its threads own their connections).  flags: SOCK_NONBLOCK or 0.
 * NULL when there is none to take now, errno:
 *   EAGAIN  the backlog is empty
 *   EMFILE  out of descriptors: one client was shed (net_accept's spare fd), counted
 * EINTR, ECONNABORTED (a client gone while queued), refusals (s->max_fd, s->max_conns)
 * and out of memory are dealt with here, and the next client is tried.
 */
struct conn *conn_accept(struct server *s, int flags);
/* A descriptor the model accepted itself (a completion's result): the same, from the
 * new connection on.  NULL when out of memory (the fd is closed, the line logged). */
struct conn *conn_open(struct server *s, int fd, uint16_t port);
/* A connection for an accepted fd (telemetry slot opened, state READING); NULL: no memory. */
struct conn *conn_new(int fd, uint16_t peer_port, const struct server_opts *opt);
/*
 * Out of its table, close the fd, free.  reason: CLOSE_EOF (orderly: EOF, drained),
 * an errno value, CLOSE_PROTOCOL or CLOSE_STOPPING.  Counts the close and logs it.
 */
enum { CLOSE_EOF = 0, CLOSE_PROTOCOL = -1, CLOSE_STOPPING = -2 };
void conn_close(struct conn *c, int reason);
/* One-thread servers give freed memory back when the last connection closes. */
extern bool conn_trim_when_empty;
extern void (*conn_release)(struct conn *c);   /* the model's release (struct model) */
/* Read IOLAB_TRACE (log every state change) once, before any thread starts. */
void conn_trace_init(void);
/* Connections open now (all threads). */
size_t conn_count(void);
/* The peer half-closed (read returned 0, or a completion said so). */
void conn_eof(struct conn *c);
void conn_set_state(struct conn *c, enum tm_state st);

/*
 * One read into c->in (capped by --read-chunk).  Returns bytes, 0 at EOF (and sets
 * rd_closed), or -1 with errno; EAGAIN is counted, the caller decides.
 */
ssize_t conn_read(struct conn *c);
/*
 * Cut every complete frame out of c->in and queue it on c->out.
 * Returns frames queued (>= 0), or -1 on a protocol error (already logged/counted).
 */
int     conn_ingest(struct conn *c);
/*
 * Bytes that arrived by other means (a completion's buffer): count them and cut frames,
 * straight from p when nothing is pending in c->in (only a partial frame is kept).
 * Returns frames queued, or -1 (protocol error, logged and counted, or out of memory).
 */
int     conn_take(struct conn *c, const void *p, size_t n);
/* One write of queued output.  Returns bytes written or -1 with errno (EAGAIN counted). */
ssize_t conn_write(struct conn *c);
/* Count bytes sent by other means (a send completion) from a buffer the model owns. */
void    conn_sent(struct conn *c, size_t n);

/* Write what is queued until it is gone, the socket is full, or the peer is gone. */
enum flush { FLUSH_DONE, FLUSH_BLOCKED, FLUSH_CLOSED };
enum flush conn_flush(struct conn *c);   /* FLUSH_CLOSED: c was closed and freed */
/*
 * The echo on one readiness report: if `readable`, ONE read (data, EOF or the error),
 * cut frames; then reply at once (conn_flush), close when the peer half-closed and all
 * is echoed, pause/resume at the high-water mark.  false: c was closed and freed.
 */
bool    conn_serve(struct conn *c, bool readable);
/* Should reading stop (out over the high-water mark)?  Updates paused/state and logs. */
bool    conn_check_pause(struct conn *c);
/* Peer half-closed and everything echoed: time to close. */
static inline bool conn_done(const struct conn *c)
{
	return c->rd_closed && buf_len(&c->out) == 0;
}
/* What c needs now, in epoll bits: EPOLLIN unless paused or half-closed, EPOLLOUT while output waits. */
uint32_t conn_wanted(const struct conn *c);
/* Record what the model now waits for on c (telemetry, event log).  true: it changed. */
bool    conn_set_interest(struct conn *c, uint32_t mask);

/* A FIFO of connections linked through c->next (a ready list); each on one at most once. */
struct conn_list {
	struct conn *head, *tail;
	size_t       len;
};
void         conn_list_push(struct conn_list *l, struct conn *c);  /* no-op if already on it */
struct conn *conn_list_pop(struct conn_list *l);                   /* NULL when empty */

int          conn_table_put(struct conn_table *t, struct conn *c);
struct conn *conn_table_get(const struct conn_table *t, int fd);
void         conn_table_del(struct conn_table *t, int fd);
void         conn_table_free_all(struct conn_table *t);   /* closes every conn */

#endif
