/*
 * telemetry.h — what a running server publishes, and how others read it.
 *
 * Each server (and the connect probe) owns one POSIX shared-memory segment,
 * /dev/shm/<prefix>.<model>.<pid>, mode 0600 (prefix "iolab", or $IOLAB_SHM_PREFIX).
 * Layout (all offsets fixed by the header, checked by readers):
 *
 *   struct tm_header                      magic, version, sizes, who, where, options,
 *                                         global counters, log head/dropped
 *   struct tm_conn    slots[nslots]       one per connection, indexed by fd
 *   struct tm_event   log[nlog]           event ring, several writers
 *   struct tm_probe   probes[TM_NPROBE]   async-connect observations (probe only)
 *
 * Writers never make a system call to publish: counters are relaxed atomics, a
 * connection slot is written under its own sequence lock (single writer: the thread
 * that serves that fd), and the event ring takes an index with one fetch-add.
 * When telemetry is off (--no-stats) every call below returns at once.
 *
 * Masks everywhere use the kernel's epoll bit values (EPOLLIN 0x1, EPOLLPRI 0x2,
 * EPOLLOUT 0x4, EPOLLERR 0x8, EPOLLHUP 0x10, EPOLLRDHUP 0x2000, EPOLLET 1u<<31);
 * select, poll, SIGIO, AIO and io_uring translate into them (see masks.h).
 *
 * Times are CLOCK_MONOTONIC nanoseconds (tm_now()), comparable across processes.
 */
#ifndef IOLAB_TELEMETRY_H
#define IOLAB_TELEMETRY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TM_MAGIC     0x4c4d54424c4f49ULL   /* "IOLBTML" little-endian */
#define TM_VERSION   3                     /* 3: the loops[] part (lab 20) */
#define TM_NSLOTS    16384                 /* connection slots = highest fd tracked + 1 */
#define TM_NLOG      4096                  /* event ring entries (power of two) */
#define TM_NPROBE    64                    /* probe observation records */
#define TM_NLOOPS    16                    /* event loops with their own figures (lab 20) */

enum tm_kind { TM_KIND_SERVER = 1, TM_KIND_PROBE = 2 };

/* Global counters.  Keep tm_counter_names[] (telemetry.c) in the same order. */
enum tm_counter {
	TM_ACCEPTS,        /* connections accepted */
	TM_CLOSES,         /* connections closed */
	TM_ACTIVE,         /* connections open now (gauge) */
	TM_BYTES_IN,       /* bytes read from clients */
	TM_BYTES_OUT,      /* bytes written to clients */
	TM_FRAMES_IN,      /* complete frames decoded */
	TM_FRAMES_OUT,     /* frames fully queued for echo */
	TM_READ_CALLS,     /* read/recv/readv calls (or recv submissions) */
	TM_WRITE_CALLS,    /* write/send calls (or send submissions) */
	TM_EAGAIN_RD,      /* reads that returned EAGAIN */
	TM_EAGAIN_WR,      /* writes that returned EAGAIN (or were short) */
	TM_WAIT_CALLS,     /* calls of the model's waiting call (header.wait_call) */
	TM_EMPTY_WAKEUPS,  /* waits that returned but found nothing to do */
	TM_EVENTS,         /* readiness events / completions / signals delivered */
	TM_PROTO_ERRORS,   /* connections closed for a protocol error */
	TM_SPINS,          /* busy-loop turns (nonblocking model) */
	TM_SCANNED,        /* descriptors examined after a wakeup (select/poll/SIGIO fallback) */
	TM_REFUSED,        /* connections refused (e.g. fd >= FD_SETSIZE, no slot) */
	TM_ACCEPT_EMFILE,  /* accept hit the descriptor limit */
	TM_READ_PAUSED,    /* times reading was paused at the high-water mark */
	TM_SIGQ_OVERFLOW,  /* real-time signal queue overflowed (SIGIO fallback scans) */
	TM_SUBMITS,        /* AIO/io_uring submissions */
	TM_COMPLETIONS,    /* AIO/io_uring completions reaped */
	TM_BLOCKED_NS,     /* time spent blocked inside a call that should not block (aio --pread) */
	TM_SEND_TIMEOUTS,  /* connections closed: queued output did not move for --send-timeout */
	TM_IDLE_TIMEOUTS,  /* connections closed: nothing heard for --idle-timeout */
	TM_HEARTBEATS,     /* application heartbeats received (--heartbeat): empty frames, not echoed */
	TM_HB_TIMEOUTS,    /* connections closed: heartbeat not answered */
	TM_TIMERS_FIRED,   /* timer-wheel entries that expired */
	TM_REQUESTS,       /* HTTP requests answered (-f http) */
	TM_HTTP_ERRORS,    /* HTTP error responses sent (400, 413, 431, ...) */
	TM_TASKS,          /* tasks handed to another event loop (one loop per thread) */
	TM_TRUNCATED,      /* datagrams cut short by a small buffer (UDP, MSG_TRUNC) */
	TM_NCOUNTERS_USED,
	TM_NCOUNTERS = 48  /* room to grow without changing the layout */
};

/* Connection states, memcached style: a documented enum with a name table. */
enum tm_state {
	CONN_FREE = 0,     /* slot unused */
	CONN_READING,      /* waiting for / reading request bytes */
	CONN_WRITING,      /* output queued, waiting for the socket to take it */
	CONN_PAUSED,       /* output over the high-water mark: not reading from this peer */
	CONN_DRAINING,     /* peer half-closed: echoing what is left, then closing */
	CONN_CLOSING,      /* being torn down */
	CONN_NSTATES
};

/* Event kinds in the ring.  Keep tm_event_names[] in the same order. */
enum tm_event_kind {
	EV_READY = 1,      /* readiness reported (value = mask) */
	EV_COMPLETION,     /* AIO/io_uring completion (value = result, mask in `mask`) */
	EV_SIGNAL,         /* SIGIO-style signal (value = si_band) */
	EV_ACCEPT,         /* value = peer port */
	EV_CLOSE,          /* value = reason (0 EOF, errno, -1 protocol) */
	EV_EAGAIN_RD,
	EV_EAGAIN_WR,
	EV_INTEREST,       /* interest mask changed (value = new mask) */
	EV_PROTO_ERROR,    /* value = offending length */
	EV_REFUSED,        /* value = fd that could not be served */
	EV_PAUSE,          /* reading paused at high-water mark (value = queued bytes) */
	EV_RESUME,
	EV_OVERFLOW,       /* signal queue overflow */
	EV_PROBE,          /* probe observation (value = mask, see probes[]) */
	EV_BLOCKED,        /* value = ns spent blocked in a call */
	EV_NKINDS
};

struct tm_conn {
	_Atomic uint32_t seq;      /* sequence lock: odd while being written */
	int32_t  fd;               /* -1 when the slot is free */
	uint32_t state;            /* enum tm_state */
	uint32_t interest;         /* what the server waits for (epoll bits) */
	uint32_t ready;            /* last ready mask seen (epoll bits) */
	uint16_t peer_port;
	uint16_t _pad;
	uint32_t parse_state;      /* 0: no parser; else the decoder state + 1 (http: http_state_name) */
	uint32_t loop;             /* the event loop that owns it (one loop per thread), else 0 */
	uint64_t deadline_ns;      /* next timer on this connection (idle/heartbeat/send); 0 = none */
	uint64_t bytes_in, bytes_out;
	uint64_t frames_in;
	uint64_t eagain_rd, eagain_wr;
	uint64_t queued;           /* output bytes waiting to be written */
	uint64_t opened_ns;        /* when accepted */
	uint64_t ready_ns;         /* when it became ready and is not yet served; 0 = not waiting */
	uint64_t served_ns;        /* when it was last served */
	uint64_t max_wait_ns;      /* longest ready -> served wait so far (starvation) */
	uint64_t waits;            /* ready -> served episodes counted */
	uint64_t total_wait_ns;    /* sum of those waits */
};

struct tm_event {
	_Atomic uint64_t seq;      /* 2*index+2 when entry `index` is complete */
	uint64_t t_ns;
	int32_t  fd;
	uint16_t kind;             /* enum tm_event_kind */
	uint16_t _pad;
	uint32_t mask;             /* epoll bits, where it applies */
	uint32_t _pad2;
	int64_t  value;            /* mask, result, band, bytes... per kind */
};

/*
 * One event loop's own figures, for a server with one loop per thread (lab 20).
 * The global counters add up every loop; these say which loop did what.  Only
 * the loop's own thread writes its entry; each entry has its own cache lines, so
 * two loops counting never fight over one line.  Keep tm_loop_names[] in step.
 */
enum tm_loop_field {
	TL_WAIT_CALLS,     /* its epoll_wait returns */
	TL_EVENTS,         /* events they reported */
	TL_EMPTY_WAKEUPS,  /* returns that found nothing to do */
	TL_TASKS,          /* tasks it ran (handed over by the acceptor) */
	TL_ACCEPTS,        /* connections handed to it */
	TL_ACTIVE,         /* connections it owns now (gauge) */
	TL_FRAMES_IN,      /* messages it echoed */
	TL_HANDOVER_NS,    /* sum over its tasks of posted -> picked up */
	TL_HANDOVER_MAX_NS,/* the longest of those */
	TL_NFIELDS_USED,
	TL_NFIELDS = 16    /* 128 bytes: two cache lines per loop */
};
struct tm_loop {
	_Atomic uint64_t v[TL_NFIELDS];
};

/* One observation of the async-connect probe. */
struct tm_probe {
	char     label[48];        /* e.g. "refused connect" */
	char     mech[16];         /* "epoll-lt", "epoll-et", "poll", "select" */
	uint32_t registered;       /* interest mask registered (epoll bits) */
	uint32_t mask;             /* what came back (epoll bits) */
	int32_t  so_error;         /* getsockopt(SO_ERROR) after the wait */
	int32_t  valid;            /* 1 once filled in */
};

struct tm_header {
	uint64_t magic;
	uint32_t version;
	uint32_t kind;             /* enum tm_kind */
	uint64_t total_size;       /* bytes in the segment */
	uint32_t header_size, slot_size, event_size, probe_size;
	uint32_t nslots, nlog, nprobe, ncounters;
	int32_t  pid;
	uint16_t port;
	uint16_t nloops;           /* loops[] in use (0: one loop, or not this kind of server) */
	char     model[32];        /* "epoll-lt" */
	char     wait_call[32];    /* "epoll_wait" */
	char     addr[64];         /* bind address */
	char     options[256];     /* "framing=len32 max-frame=1048576 ..." */
	uint64_t start_realtime_ns;
	uint64_t start_mono_ns;
	_Atomic uint32_t exiting;  /* set when the server begins to shut down */
	_Atomic uint32_t slot_hwm; /* highest slot index ever used + 1 (readers scan up to it) */
	_Atomic uint64_t log_head; /* events ever written */
	_Atomic uint64_t log_dropped; /* events a writer gave up on (slot still being written) */
	_Atomic uint64_t counters[TM_NCOUNTERS];
};

extern const char *const tm_counter_names[TM_NCOUNTERS_USED];
extern const char *const tm_state_names[CONN_NSTATES];
extern const char *const tm_event_names[EV_NKINDS];
extern const char *const tm_loop_names[TL_NFIELDS_USED];
const char *tm_state_name(unsigned state);
const char *tm_event_name(unsigned kind);

uint64_t tm_now(void);                     /* CLOCK_MONOTONIC in ns */

/* ------------------------------------------------------------------ writer */

struct tm_writer {
	struct tm_header *hdr;
	struct tm_conn   *slots;
	struct tm_event  *log;
	struct tm_probe  *probes;
	struct tm_loop   *loops;
	size_t            size;
	char              name[96];            /* shm name, "/iolab.epoll-lt.1234" */
	bool              single_writer;       /* one thread writes: no locked instructions */
};

/* The process-wide writer; NULL when telemetry is off.  Servers have one. */
extern struct tm_writer *tm_self;

struct tm_info {
	enum tm_kind kind;
	const char  *model, *wait_call, *addr, *options;
	uint16_t     port;
};

/* Create and map this process's segment and make it tm_self. 0 or -1 with errno. */
int  tm_open(const struct tm_info *info);
/* Fill in the port once it is known (port 0 -> real port). */
void tm_set_port(uint16_t port);
/* Mark exiting and unlink; the mapping stays until exit (idempotent; atexit-safe). */
void tm_close(void);

/*
 * Only this process's threads write its counters.  With one writer thread a relaxed
 * load and store is enough (readers see each value whole, never torn); a read-modify-
 * write would cost a locked instruction on every count for nothing.  Several writer
 * threads (the blocking model) need the atomic add.
 */
void tm_set_single_writer(bool single);
static inline void tm_add(enum tm_counter c, uint64_t n)
{
	_Atomic uint64_t *p;

	if (!tm_self)
		return;
	p = &tm_self->hdr->counters[c];
	if (tm_self->single_writer)
		atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + n, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(p, n, memory_order_relaxed);
}
static inline void tm_sub(enum tm_counter c, uint64_t n)
{
	tm_add(c, -n);   /* unsigned wrap-around: adding 2^64 - n subtracts n */
}

/* Append an event to the ring (any thread). */
void tm_log(enum tm_event_kind kind, int fd, uint32_t mask, int64_t value);

/*
 * Connection slots, indexed by fd (fd >= TM_NSLOTS is simply not tracked).
 * Only the thread serving the fd writes its slot.  Begin/end bracket a write.
 */
struct tm_conn *tm_slot(int fd);           /* NULL when off or out of range */
void tm_slot_begin(struct tm_conn *s);
void tm_slot_end(struct tm_conn *s);
void tm_conn_open(int fd, uint16_t peer_port);
void tm_conn_close(int fd);
void tm_conn_state(int fd, enum tm_state st);
void tm_conn_interest(int fd, uint32_t mask);
/* Readiness seen for fd: records the mask and, if not already waiting, when. */
void tm_conn_ready(int fd, uint32_t mask);
/* fd is being served now: closes the ready->served wait, updates the longest wait. */
void tm_conn_served(int fd);
/* Add to the per-connection byte/frame/EAGAIN figures and set the queued bytes. */
/* The decoder's state: bytes of an incomplete frame held (parse_state, the viewer's PART). */
void tm_conn_parse(int fd, uint32_t held);
void tm_conn_io(int fd, uint64_t in, uint64_t out, uint64_t frames,
		uint64_t eagain_rd, uint64_t eagain_wr, uint64_t queued);

/*
 * Event loops (one loop per thread): say how many there are (the header's nloops),
 * then each loop's thread adds to its own entry only.  tm_conn_loop() records which
 * loop owns fd; tm_conn_frames() is fd's messages so far (for a loop's own count).
 */
void tm_set_loops(unsigned n);
void tm_conn_loop(int fd, unsigned loop);
uint64_t tm_conn_frames(int fd);
static inline void tm_loop_add(unsigned loop, enum tm_loop_field f, uint64_t n)
{
	_Atomic uint64_t *p;

	if (!tm_self || loop >= TM_NLOOPS)
		return;
	p = &tm_self->loops[loop].v[f];
	atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + n, memory_order_relaxed);
}
static inline void tm_loop_max(unsigned loop, enum tm_loop_field f, uint64_t n)
{
	_Atomic uint64_t *p;

	if (!tm_self || loop >= TM_NLOOPS)
		return;
	p = &tm_self->loops[loop].v[f];
	if (n > atomic_load_explicit(p, memory_order_relaxed))
		atomic_store_explicit(p, n, memory_order_relaxed);
}

/* Probe records (probe process only). */
void tm_probe_record(unsigned i, const struct tm_probe *p);

/* ------------------------------------------------------------------ reader */

struct tm_reader {
	char    path[256];          /* /dev/shm/... */
	void   *map;
	size_t  size;
	uint32_t nslots, nlog, nprobe;  /* validated at open; use these, not the header's */
	/* Not const only because C11 atomics cannot load through const; the map is PROT_READ. */
	struct tm_header *hdr;
	struct tm_conn   *slots;
	struct tm_event  *log;
	struct tm_probe  *probes;
	struct tm_loop   *loops;    /* hdr->nloops of them in use (at most TM_NLOOPS) */
};

enum tm_open_result {
	TM_OK = 0,
	TM_ERR_OPEN = -1,       /* cannot open/stat/map (errno set) */
	TM_ERR_SHORT = -2,      /* smaller than a header, or than the header says */
	TM_ERR_MAGIC = -3,
	TM_ERR_VERSION = -4,
	TM_ERR_LAYOUT = -5,     /* sizes/counts disagree with this build */
};
const char *tm_open_strerror(int result);

/* Map a segment read-only (path under /dev/shm or a plain file), validating it. */
int  tm_reader_open(struct tm_reader *r, const char *path);
void tm_reader_close(struct tm_reader *r);
/* Is the writer of this segment still alive?  (kill(pid, 0) != ESRCH) */
bool tm_reader_alive(const struct tm_reader *r);
/* A consistent copy of one counter set / slot.  Slot: false if free or unstable. */
void tm_read_counters(const struct tm_reader *r, uint64_t out[TM_NCOUNTERS]);
bool tm_read_slot(const struct tm_reader *r, unsigned i, struct tm_conn *out);
/* The event loops in use (0..TM_NLOOPS) and one loop's figures. */
unsigned tm_read_nloops(const struct tm_reader *r);
void tm_read_loop(const struct tm_reader *r, unsigned i, uint64_t out[TL_NFIELDS_USED]);
/*
 * Copy events with index >= *cursor into out[] (at most max), oldest first.
 * *cursor advances past what was returned; *missed gets how many were
 * overwritten before they could be read.  Returns the number copied.
 */
size_t tm_read_log(const struct tm_reader *r, uint64_t *cursor,
		   struct tm_event *out, size_t max, uint64_t *missed);

/*
 * List segment paths in /dev/shm whose names start with the prefix.
 * Calls fn(path, arg) for each; returns how many were found.
 */
int  tm_list(void (*fn)(const char *path, void *arg), void *arg);
const char *tm_prefix(void);               /* "iolab" or $IOLAB_SHM_PREFIX */

#endif
