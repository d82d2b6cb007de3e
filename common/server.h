/*
 * server.h — the skeleton every iolab echo server is built on.
 *
 * A model file (labs/NN-name/echo-NAME.c) does three things:
 *
 *   static const struct model MODEL = { "epoll-lt", "echo-epoll-lt", "epoll_wait", ... };
 *   int main(int argc, char **argv)
 *   {
 *       struct server srv;
 *       server_start(&srv, &MODEL, argc, argv);     flags, listener, telemetry, signals,
 *                                                    prints "listening on ADDR:PORT"
 *       ... the model: wait, then conn_read / conn_ingest / conn_write ...
 *       server_finish(&srv);                          close everything, remove telemetry
 *   }
 *
 * Everything that is the same in every model lives here and in conn.c: option
 * parsing, the echo work on a connection (read into its buffer, cut frames, queue
 * the echo, write), counting, and naming states.  So `diff` between two model files
 * shows the model and nothing else.
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

#include "common/buf.h"
#include "common/framing.h"
#include "common/http.h"
#include "common/masks.h"
#include "common/net.h"
#include "common/telemetry.h"

#define DEFAULT_BIND        "127.0.0.1"
#define DEFAULT_HIGH_WATER  (4u * 1024 * 1024)  /* stop reading a peer with this much unsent */
#define DEFAULT_BUDGET      (64u * 1024)        /* epoll-et: bytes read per connection per turn */

/* Model-specific flags a model accepts (struct model.options). */
enum {
	OPT_ITERATIVE  = 1 << 0,   /* --iterative        blocking: one connection at a time */
	OPT_HIGH_WATER = 1 << 1,   /* --high-water BYTES stop reading a peer with this much queued */
	OPT_SLEEP_US   = 1 << 2,   /* --sleep-us N       nonblocking: sleep between turns */
	OPT_BUDGET     = 1 << 3,   /* --budget BYTES     epoll-et: read budget per turn (0 = drain) */
	OPT_PREAD      = 1 << 4,   /* --pread            aio: IOCB_CMD_PREAD instead of POLL */
	OPT_NO_BUFRING = 1 << 5,   /* --no-bufring       io_uring: plain recv, no provided buffers */
};

struct bug {
	const char *name;          /* --bug=NAME */
	const char *what;          /* one line for --help */
};

struct model {
	const char *name;          /* "epoll-lt": telemetry model name */
	const char *program;       /* "echo-epoll-lt" */
	const char *wait_call;     /* "epoll_wait": what TM_WAIT_CALLS counts */
	const char *summary;       /* one line: what it demonstrates */
	int         lesson;        /* LESSONS.md section */
	unsigned    options;       /* OPT_* accepted */
	const struct bug *bugs;    /* {NULL, NULL}-terminated, or NULL */
};

struct server_opts {
	const char  *bind;         /* -b/--bind, default 127.0.0.1 */
	uint16_t     port;         /* -p/--port, 0 = pick a free port */
	enum framing framing;      /* -f/--framing len32|line|raw */
	bool         http;         /* -f http: answer HTTP requests (common/http.h) instead of echoing */
	size_t       max_frame;    /* --max-frame BYTES */
	size_t       read_chunk;   /* --read-chunk BYTES: cap per read call, 0 = none */
	bool         no_stats;     /* --no-stats: telemetry off */
	bool         iterative;
	size_t       high_water;
	long         sleep_us;
	size_t       budget;
	bool         pread;
	bool         no_bufring;
	const char  *bug;          /* --bug=NAME or NULL */
};

struct server {
	const struct model *model;
	struct server_opts  opt;
	int                 lfd;       /* listening socket */
	uint16_t            port;      /* real port */
};

/* Set by SIGINT/SIGTERM (handlers installed without SA_RESTART: waits return EINTR). */
extern volatile sig_atomic_t server_stop;
/* -q/--quiet: no per-connection log lines. */
extern bool server_quiet;

/*
 * Parse flags (exit 2 with a message on a bad one, 0 after --help), raise the
 * descriptor limit, ignore SIGPIPE (unless --bug=no-sigpipe), catch SIGINT/SIGTERM,
 * listen (nonblocking when `nonblock`), open telemetry, print the one line
 * "listening on ADDR:PORT" on stdout and flush it.
 */
void server_start(struct server *s, const struct model *m, int argc, char **argv, bool nonblock);
void server_finish(struct server *s);
/* Is --bug=NAME in force? */
bool server_bug(const struct server *s, const char *name);
/* Die naming the failed call: "echo-epoll-lt: epoll_ctl: Bad file descriptor", exit 1. */
void die(const char *call) __attribute__((noreturn));
/* One line on stderr, prefixed with the program name. */
void iolog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Signals to keep out of worker threads / to wait for with sigwaitinfo. */
void server_stop_signals(sigset_t *set);

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
	uint32_t             interest;  /* what the model has registered (epoll bits) */
	uint64_t             budget_used; /* epoll-et: bytes read this turn */
	void                *model_data;/* whatever the model needs per connection */
	const struct server_opts *opt;
	struct conn         *next;      /* for the model's own lists (ready list...) */
	bool                 on_list;
};

/* A connection for an accepted fd (telemetry slot opened, state READING). */
struct conn *conn_new(int fd, uint16_t peer_port, const struct server_opts *opt);
/*
 * Close the fd and free.  reason: CLOSE_EOF (orderly: EOF, drained), an errno value,
 * CLOSE_PROTOCOL or CLOSE_STOPPING.  Counts the close and logs it.
 */
enum { CLOSE_EOF = 0, CLOSE_PROTOCOL = -1, CLOSE_STOPPING = -2 };
void conn_free(struct conn *c, int reason);
/* The peer half-closed (read returned 0, or a completion said so). */
void conn_eof(struct conn *c);
void conn_set_state(struct conn *c, enum tm_state st);

/*
 * One read into c->in (capped by --read-chunk).  Returns bytes, 0 at EOF (and sets
 * rd_closed), or -1 with errno; EAGAIN and EINTR are counted/left to the caller.
 */
ssize_t conn_read(struct conn *c);
/* Bytes that arrived by other means (a completion's buffer): append and count. */
int     conn_received(struct conn *c, const void *p, size_t n);
/*
 * Cut every complete frame out of c->in and queue it on c->out.
 * Returns frames queued (>= 0), or -1 on a protocol error (already logged/counted).
 */
int     conn_ingest(struct conn *c);
/*
 * One write of queued output.  Returns bytes written or -1 with errno
 * (EAGAIN counted).  Queued bytes left: buf_len(&c->out).
 */
ssize_t conn_write(struct conn *c);
/* Account for bytes sent by other means (a send completion): consume and count. */
void    conn_sent(struct conn *c, size_t n);
/* Should reading stop (out over the high-water mark)?  Updates paused/state and logs. */
bool    conn_check_pause(struct conn *c);
/* Peer half-closed and everything echoed: time to close. */
static inline bool conn_done(const struct conn *c)
{
	return c->rd_closed && buf_len(&c->out) == 0;
}
/* Record how many bytes are queued, for the slot (call after a write). */
void    conn_publish(const struct conn *c);

/* fd -> conn table (grows as needed). */
struct conn_table {
	struct conn **v;
	size_t        n;
};
int          conn_table_put(struct conn_table *t, struct conn *c);
struct conn *conn_table_get(const struct conn_table *t, int fd);
void         conn_table_del(struct conn_table *t, int fd);
void         conn_table_free_all(struct conn_table *t);   /* closes every conn */

#endif
