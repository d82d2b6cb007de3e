/*
 * load.h — what the parts of bin/iolab-load share: its options, a connection,
 * a thread, the results, and the functions each part offers the others.
 *
 *   iolab-load.c   main: start the threads, watch them (clock, Ctrl-C, the server)
 *   options.c      the flags and --help
 *   errors.c       error counting and the first lines of each
 *   send.c         per-connection state: messages in flight, generating, writing
 *   writes.c       how the stream is cut into write calls: --split, --writev, --coalesce
 *   recv.c         reading and checking every echoed byte; a connection's events
 *   churn.c        -m churn: connect, one echo, close, again
 *   openloop.c     -r: messages due on a fixed schedule (timerfd)
 *   worker.c       a thread's loop, the stop and the drain
 *   setup.c        threads, roles, connecting before the clock starts
 *   cpu.c          CPU time of both sides, "is the server alive?"
 *   diagnose.c     connections that got no byte back: a framing mismatch?
 *   report.c       the summary and --json
 *   payload.c      the pattern table (payload.h says what is sent)
 */
#ifndef IOLAB_LOAD_H
#define IOLAB_LOAD_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/framing.h"
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
extern const char *const mode_names[MODE_N];

/* --split: how the byte stream is cut into write() calls (see writes.c). */
enum split {
	SPLIT_NONE,    /* everything pending in one write (default) */
	SPLIT_HEADER,  /* each message in two writes: its first SPLIT_HEADER_BYTES, then the rest */
	SPLIT_BYTES,   /* every split_bytes bytes a write (-m tiny is --split 1) */
	SPLIT_RANDOM,  /* cut at random points of the stream */
};
#define SPLIT_HEADER_BYTES LEN32_HDR   /* len32's length field; the first 4 bytes otherwise */

struct opts {
	const char  *host;
	uint16_t     port;
	unsigned     conns;         /* workload connections (or churn slots) */
	unsigned     threads;
	enum framing framing;
	size_t       frame_size;    /* -f fixed:N: N (the payload size too) */
	uint32_t     size_min, size_max;  /* payload size range (equal: fixed size) */
	unsigned     depth;         /* closed loop: messages in flight per connection */
	double       rate;          /* open loop: messages per second in total; 0 = closed loop */
	double       seconds;       /* run length (timed runs) */
	double       warmup;        /* --warmup: seconds run before the measured window; 0 = none */
	uint64_t     messages;      /* -n: messages per connection; 0 = timed run */
	enum mode    mode;
	unsigned     idle;          /* extra connections that never send */
	uint64_t     slow_after;    /* slow mode: stop reading after this many bytes */
	pid_t        server_pid;    /* 0 = unknown */
	bool         json;
	uint64_t     seed;
	double       drain;         /* seconds to wait for outstanding echoes at the end */
	bool         nagle;         /* --nagle: leave TCP_NODELAY off (default: on) */
	enum split   split;
	size_t       split_bytes;   /* SPLIT_BYTES: bytes per write */
	bool         writev;        /* --writev: a message's two parts in one writev() */
	unsigned     coalesce;      /* --coalesce N: N messages per write (0, 1: as they come) */
};

/* ------------------------------------------------------------ connections */

/* What a connection does; the roles a mode hands out. */
enum role {
	ROLE_ECHO,     /* the normal workload: send, wait for the echo, check it */
	ROLE_HOG,      /* hog: sends as fast as the socket takes it, never waits */
	ROLE_SLOW,     /* slow: sends like the hog but stops reading after --slow-after bytes */
	ROLE_IDLE,     /* connected, never sends: only costs the server a descriptor */
};
extern const char *const role_names[];

enum cstate {
	CS_CONNECTING, /* churn: nonblocking connect() in progress */
	CS_OPEN,       /* connected and working */
	CS_DONE,       /* closed by us, nothing wrong */
	CS_FAILED,     /* closed after an error (counted and reported) */
};

/* A connection that failed waiting for the server: named once, for all (diagnose.c). */
enum no_reply {
	NR_NONE,       /* got bytes back, or did not fail that way */
	NR_SILENT,     /* the drain ran out: the server took our bytes and sent nothing */
	NR_CLOSED,     /* the server closed it without sending anything */
	NR_STUCK,      /* the drain ran out after some echoes: the rest never came */
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
	uint64_t    done;          /* messages echoed and verified (after the warm-up) */
	uint64_t    connect_ns;    /* churn: when connect() was called */
	bool        stopped_reading; /* slow: reached --slow-after */
	uint64_t    tx_bytes;      /* bytes written on this connection */
	enum no_reply no_reply;    /* how it failed waiting for the server (diagnose.c) */
	/* how writes are cut (writes.c) */
	uint64_t    wr_seq;        /* --split header: the message being written ... */
	size_t      wr_off;        /* ... and how many of its bytes are written */
	uint64_t    cut_rng;       /* --split random */
	unsigned    unsent;        /* --coalesce: messages generated and not yet written */
	bool        partial;       /* --coalesce: a write left bytes behind: finish them first */
};

/* ---------------------------------------------------------------- results */

enum err_kind { ERR_MISMATCH, ERR_SHORT, ERR_CLOSED, ERR_CONNECT, ERR_UNANSWERED, NERR };
extern const char *const err_names[NERR];

struct stats {
	struct hist *lat;          /* echo latency of every message */
	struct hist *lat_others;   /* hog/slow modes: the connections that are not the hog */
	struct hist *lat_connect;  /* churn: connect() called -> connection established */
	uint64_t messages;         /* echoes verified, the drain included */
	uint64_t window_msgs;      /* ... of which completed before the end of the run */
	uint64_t window_bytes;     /* their wire bytes */
	uint64_t others_msgs;      /* hog/slow: window messages of the other connections */
	uint64_t bytes_rx, bytes_tx;
	uint64_t writes;           /* write()/writev() calls that wrote something */
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
extern _Atomic int      phase;
extern uint64_t         t0_ns;                  /* start of the measured run */
extern _Atomic uint64_t measure_ns;             /* start of the measured window (after --warmup) */
extern _Atomic uint64_t deadline_ns;            /* end of the run (UINT64_MAX: -n run) */
extern volatile sig_atomic_t interrupted;

extern struct worker *workers;
extern unsigned       nworkers;
extern struct lconn  *conns;                    /* workload connections, then idle ones */
extern size_t         nconns_all;

extern struct opts opt;
extern struct wire wire;          /* framing + seed: what msg_fill() needs */
extern uint64_t    connect_retries;   /* refused connects tried again (setup.c) */
extern char        server_addr[80];   /* "127.0.0.1:7000" or "[::1]:7000", for messages */

struct result {
	struct stats all;                    /* every worker's stats merged */
	double   duration_s;                 /* the measured window */
	double   jain, min_share, max_share; /* fairness over the workload connections */
	uint32_t min_conn, max_conn;
	int64_t  client_cpu_ns, server_cpu_ns;   /* over the window; server -1 = unknown */
	bool     server_died;
	char     error[256];                 /* why the run failed, "" if it did not fail outright */
	char     diagnosis[400];             /* what the failures point to, "" if nothing */
};

/* options.c */
void parse_flags(int argc, char **argv);

/* errors.c: load_die names the failing call and exits 1; load_report counts and prints */
void load_die(const char *call) __attribute__((noreturn));
void load_report(struct stats *st, enum err_kind kind, uint64_t count, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* send.c */
bool         lc_may_send(const struct worker *w, const struct lconn *c);
size_t       lc_out_pending(const struct lconn *c);
struct wmsg *lc_q_front(struct lconn *c);
struct wmsg *lc_q_find(struct lconn *c, uint64_t seq);
void         lc_q_pop(struct lconn *c);
void         lc_gen_msg(struct lconn *c, uint64_t t_sched);
void         lc_set_events(struct worker *w, struct lconn *c, uint32_t ev);
void         lc_update_events(struct worker *w, struct lconn *c);
void         lc_close(struct lconn *c, enum cstate st);
void         lc_fail(struct worker *w, struct lconn *c, enum err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void         lc_flush(struct worker *w, struct lconn *c);

/* writes.c */
bool    wr_hold(const struct lconn *c);
ssize_t wr_write(struct lconn *c, size_t pending);
void    wr_wrote(struct lconn *c, size_t k);
void    wr_reset(struct lconn *c);

/* recv.c */
void lc_event(struct worker *w, struct lconn *c, uint32_t ev, uint64_t now);

/* churn.c */
void churn_connect(struct worker *w, struct lconn *c);
void churn_connected(struct worker *w, struct lconn *c, uint64_t now);
void churn_cycle_done(struct worker *w, struct lconn *c);

/* openloop.c */
void ol_arm_timer(struct worker *w);
void ol_send_due(struct worker *w, uint64_t now);

/* worker.c */
void *worker_main(void *arg);

/* setup.c */
void setup_workers(void);
bool connect_all(struct result *r);

/* cpu.c */
int64_t proc_cpu_ns(pid_t pid);
int64_t self_cpu_ns(void);
bool    proc_alive(pid_t pid);

/* diagnose.c */
void diagnose(struct result *r);

/* report.c */
void result_fairness(struct result *r);
bool result_ok(const struct result *r);
void print_json(const struct result *r);
void print_human(const struct result *r);

#endif
