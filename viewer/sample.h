/*
 * sample.h — the viewer's model: what the telemetry segments say, and the rates
 * derived from two successive looks at them.
 *
 * The htop pattern: sampler_sample() reads every segment into this model and
 * computes per-interval figures; the drawing code (draw.c) and the JSON printer
 * (batch.c) only read the model.  Nothing here knows about curses, so the model
 * can be unit-tested against segments a test writes itself.
 *
 * The viewer only ever maps segments read-only: it never writes telemetry.
 */
#ifndef IOLAB_VIEW_SAMPLE_H
#define IOLAB_VIEW_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/telemetry.h"
#include "viewer/counters.h"

#define HIST_LEN       240      /* samples of messages/s kept for the sparkline */
#define NOTES_MAX      8        /* most recent notes kept */
#define NOTE_LEN       160
#define MAX_PIDS       32       /* --pid may be given this many times */
#define EXIT_LINGER_NS (4ull * 1000000000ull)   /* an exited server stays on screen this long */

enum seg_status {
	SEG_LIVE,                 /* writer running */
	SEG_EXITED,               /* writer gone (or shutting down): shown greyed, then dropped */
};

/* Figures over the last interval.  NAN where a ratio has no denominator. */
struct rates {
	double   msgs_s;          /* frames decoded per second (TM_FRAMES_IN) */
	double   mb_in_s;         /* MB (10^6 bytes) read from clients per second */
	double   mb_out_s;        /* MB written back per second */
	double   eagain_rd_s;     /* reads that found nothing, per second */
	double   eagain_wr_s;     /* writes the socket refused (full send buffer), per second */
	double   waits_s;         /* calls of the model's waiting call per second */
	/*
	 * A "wakeup" is a return of the waiting call (wait_calls).  The busy loop has
	 * no waiting call: each turn (spins) plays that part, and per_spin says so.
	 */
	bool     per_spin;        /* the figures below are per loop turn (spins), not per wait */
	double   ev_per_wake;     /* events delivered per wakeup */
	double   empty_pct;       /* % of wakeups that found nothing to do */
	double   scanned_per_wake;/* descriptors examined per wakeup */
	double   compl_per_wait;  /* completions reaped per waiting call */
	double   cnt_s[TM_NCOUNTERS_USED];  /* every counter per second (NAN for a gauge) */
	double   sys_per_msg;     /* (read + write + wait calls) per frame */
	double   cpu_pct;         /* user+system CPU of the writer process, % of one core,
				     over the last second or more (see seg_cpu) */
	double   fairness;        /* Jain's index over per-connection bytes (1 = fair) */
	uint64_t starve_ns;       /* longest wait a ready connection is suffering right now */
	unsigned starving;        /* connections waiting longer than the threshold now */
	uint64_t max_wait_ns;     /* longest ready -> served wait ever, over the open connections */
};

/* A derived figure (enum derived) of a server's last interval; NAN when it has none. */
double rates_derived(const struct rates *r, int d);

/* One connection as sampled: a plain (non-atomic) copy of its slot plus derived figures. */
struct conn_row {
	int32_t  fd;
	uint32_t state, interest, ready;
	uint16_t peer_port;
	uint64_t bytes_in, bytes_out, frames_in;
	uint64_t eagain_rd, eagain_wr, queued;
	uint64_t partial;         /* parse_state: bytes of an incomplete frame held */
	uint64_t opened_ns;
	uint64_t wait_ns;         /* how long it has been ready and not served (0 = not waiting) */
	uint64_t max_wait_ns;     /* longest wait so far, including the current one */
	uint64_t d_bytes;         /* bytes in+out moved during the last interval */
	int64_t  expires_ns;      /* its timer (--idle-timeout/--heartbeat) is due in this long; -1 none */
	uint32_t parse_state;     /* -f http: the request parser's state (http_state_name) */
	int32_t  loop;            /* the event loop that owns it (lab 20), -1: the server has none */
	bool     starving;        /* wait_ns over the threshold */
};

/* Memory of one slot between samples, so bytes per interval can be told per connection. */
struct slot_mem {
	uint64_t opened_ns;       /* identifies the connection (fds are reused) */
	uint64_t bytes;           /* bytes_in + bytes_out at the last sample */
};

struct log_ring;   /* evlog.h */
struct bad_seg;    /* quarantine.h */

/* One telemetry segment: a server or the probe. */
struct seg {
	char             path[256];
	struct tm_reader rd;
	dev_t            dev;
	ino_t            ino;

	/* Header, copied once and made printable (a segment is never trusted blindly). */
	int              kind;           /* TM_KIND_SERVER / TM_KIND_PROBE */
	pid_t            pid;
	unsigned         port;
	char             model[32], wait_call[32], addr[64], options[256];
	uint64_t         start_mono_ns;

	enum seg_status  status;
	uint64_t         exited_ns;      /* when it was seen gone */
	const char      *exit_why;       /* "exited", "killed", ... */
	bool             seen;           /* found in the current directory scan */

	uint64_t         cnt[TM_NCOUNTERS], prev_cnt[TM_NCOUNTERS];
	uint64_t         t_ns, prev_t_ns;  /* when cnt / prev_cnt were read */
	int              stat_fd;        /* /proc/PID/stat, kept open */
	uint64_t         cpu_ticks;      /* utime+stime at cpu_read_ns */
	uint64_t         cpu_read_ns;
	bool             have_prev;
	bool             cpu_read_ok;    /* cpu_ticks is a real reading */
	uint64_t         log_dropped;    /* events writers gave up on (header) */
	uint64_t         log_head;
	struct rates     r;

	struct conn_row *conns;          /* live connections, in slot order */
	size_t           nconns, conns_cap;
	struct slot_mem *mem;            /* indexed by slot */
	size_t           mem_cap;

	float            hist[HIST_LEN]; /* messages/s, oldest first */
	unsigned         hist_len;

	/* A server with one loop per thread (lab 20): each loop's figures, and per second. */
	unsigned         nloops;
	uint64_t         loop_cnt[TM_NLOOPS][TL_NFIELDS_USED], prev_loop_cnt[TM_NLOOPS][TL_NFIELDS_USED];
	double           loop_s[TM_NLOOPS][TL_NFIELDS_USED];   /* NAN for the gauge and the maximum */

	struct tm_probe  probes[TM_NPROBE];  /* valid records only */
	unsigned         nprobes;

	bool             want_log;       /* set by the UI: keep reading the event ring */
	struct log_ring *log;
};

struct sampler_opts {
	pid_t    pids[MAX_PIDS];         /* --pid filter; npids == 0: everything */
	int      npids;
	uint64_t starve_ns;              /* highlight waits longer than this */
};

struct sampler {
	struct sampler_opts opt;
	struct seg   **segs;             /* sorted by model, then pid */
	size_t         nsegs, segs_cap;
	struct bad_seg *bad;
	size_t         nbad, bad_cap;
	char           notes[NOTES_MAX][NOTE_LEN];
	uint64_t       note_ns[NOTES_MAX];  /* when each was added */
	uint64_t       notes_total;      /* notes ever added; notes[(i) % NOTES_MAX] */
	uint64_t       now_ns, prev_ns;
	uint64_t       samples;
	long           clk_tck;
};

void sampler_init(struct sampler *s, const struct sampler_opts *opt);
void sampler_free(struct sampler *s);
/* Scan /dev/shm, read every segment, compute rates.  `now` is tm_now() (tests pass their own). */
void sampler_sample(struct sampler *s, uint64_t now);
/* The note added `back` notes ago (0 = newest), or NULL; *when (if not NULL) gets its time. */
const char *sampler_note(const struct sampler *s, unsigned back, uint64_t *when);

/* Add a note (printf-style; made printable), shown on the status line and in the JSON. */
void sampler_add_note(struct sampler *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
