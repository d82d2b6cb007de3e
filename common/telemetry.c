/*
 * telemetry.c — shared-memory counters, connection slots and event log.
 *
 * Writer side: one segment per process (tm_self), created with shm_open(O_EXCL),
 * mode 0600, sized once.  Reader side: maps any segment read-only and checks it
 * before trusting a single offset in it.
 *
 * Sequence locks (slots): the writer bumps seq to odd, stores the fields with
 * relaxed atomics, then bumps seq to even with release order.  A reader copies
 * the fields between two acquire loads of seq and retries if they differ or are
 * odd.  The relaxed atomic accesses keep this free of data races in the C11
 * sense (ThreadSanitizer agrees), and on x86 they compile to plain moves.
 */
#include "common/telemetry.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *const tm_counter_names[TM_NCOUNTERS_USED] = {
	[TM_ACCEPTS] = "accepts",           [TM_CLOSES] = "closes",
	[TM_ACTIVE] = "active",             [TM_BYTES_IN] = "bytes_in",
	[TM_BYTES_OUT] = "bytes_out",       [TM_FRAMES_IN] = "frames_in",
	[TM_FRAMES_OUT] = "frames_out",     [TM_READ_CALLS] = "read_calls",
	[TM_WRITE_CALLS] = "write_calls",   [TM_EAGAIN_RD] = "eagain_rd",
	[TM_EAGAIN_WR] = "eagain_wr",       [TM_WAIT_CALLS] = "wait_calls",
	[TM_EMPTY_WAKEUPS] = "empty_wakeups", [TM_EVENTS] = "events",
	[TM_PROTO_ERRORS] = "proto_errors", [TM_SPINS] = "spins",
	[TM_SCANNED] = "scanned",           [TM_REFUSED] = "refused",
	[TM_ACCEPT_EMFILE] = "accept_emfile", [TM_READ_PAUSED] = "read_paused",
	[TM_SIGQ_OVERFLOW] = "sigq_overflow", [TM_SUBMITS] = "submits",
	[TM_COMPLETIONS] = "completions",   [TM_BLOCKED_NS] = "blocked_ns",
	[TM_SEND_TIMEOUTS] = "send_timeouts", [TM_IDLE_TIMEOUTS] = "idle_timeouts",
	[TM_HEARTBEATS] = "heartbeats",     [TM_HB_TIMEOUTS] = "hb_timeouts",
	[TM_TIMERS_FIRED] = "timers_fired", [TM_REQUESTS] = "requests",
	[TM_HTTP_ERRORS] = "http_errors",   [TM_TASKS] = "tasks",
	[TM_TRUNCATED] = "truncated",
};

const char *const tm_state_names[CONN_NSTATES] = {
	[CONN_FREE] = "free",       [CONN_READING] = "reading",
	[CONN_WRITING] = "writing", [CONN_PAUSED] = "paused",
	[CONN_DRAINING] = "draining", [CONN_CLOSING] = "closing",
};

const char *const tm_event_names[EV_NKINDS] = {
	[0] = "?",
	[EV_READY] = "ready",         [EV_COMPLETION] = "completion",
	[EV_SIGNAL] = "signal",       [EV_ACCEPT] = "accept",
	[EV_CLOSE] = "close",         [EV_EAGAIN_RD] = "eagain-rd",
	[EV_EAGAIN_WR] = "eagain-wr", [EV_INTEREST] = "interest",
	[EV_PROTO_ERROR] = "proto-error", [EV_REFUSED] = "refused",
	[EV_PAUSE] = "pause",         [EV_RESUME] = "resume",
	[EV_OVERFLOW] = "overflow",   [EV_PROBE] = "probe",
	[EV_BLOCKED] = "blocked",
};

const char *const tm_loop_names[TL_NFIELDS_USED] = {
	[TL_WAIT_CALLS] = "wait_calls",     [TL_EVENTS] = "events",
	[TL_EMPTY_WAKEUPS] = "empty_wakeups", [TL_TASKS] = "tasks",
	[TL_ACCEPTS] = "accepts",           [TL_ACTIVE] = "active",
	[TL_FRAMES_IN] = "frames_in",       [TL_HANDOVER_NS] = "handover_ns",
	[TL_HANDOVER_MAX_NS] = "handover_max_ns",
};

const char *tm_state_name(unsigned state)
{
	return state < CONN_NSTATES ? tm_state_names[state] : "?";
}

const char *tm_event_name(unsigned kind)
{
	return kind < EV_NKINDS && tm_event_names[kind] ? tm_event_names[kind] : "?";
}

uint64_t tm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *tm_prefix(void)
{
	const char *p = getenv("IOLAB_SHM_PREFIX");

	return p && *p && !strchr(p, '/') ? p : "iolab";
}

/* Offsets of the five parts; identical for writer and reader. */
struct layout {
	size_t slots, log, probes, loops, total;
};

static struct layout layout_of(uint32_t nslots, uint32_t nlog, uint32_t nprobe)
{
	struct layout l;

	l.slots = (sizeof(struct tm_header) + 63) & ~(size_t)63;
	l.log = l.slots + (size_t)nslots * sizeof(struct tm_conn);
	l.log = (l.log + 63) & ~(size_t)63;
	l.probes = l.log + (size_t)nlog * sizeof(struct tm_event);
	l.loops = l.probes + (size_t)nprobe * sizeof(struct tm_probe);
	l.loops = (l.loops + 63) & ~(size_t)63;   /* each loop's entry on its own cache lines */
	l.total = l.loops + TM_NLOOPS * sizeof(struct tm_loop);
	return l;
}

/* ------------------------------------------------------------------ writer */

struct tm_writer *tm_self;
static struct tm_writer self_storage;

int tm_open(const struct tm_info *info)
{
	struct tm_writer *w = &self_storage;
	struct layout l = layout_of(TM_NSLOTS, TM_NLOG, TM_NPROBE);
	struct tm_header *h;
	int fd;

	if (tm_self)
		return 0;
	if (!info->model || !*info->model || strchr(info->model, '/')) {
		errno = EINVAL;
		return -1;
	}
	snprintf(w->name, sizeof(w->name), "/%s.%s.%d", tm_prefix(), info->model, (int)getpid());
	shm_unlink(w->name);                       /* a stale one from a recycled pid */
	fd = shm_open(w->name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)l.total) < 0)
		goto out_unlink;
	w->hdr = mmap(NULL, l.total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (w->hdr == MAP_FAILED)
		goto out_unlink;
	close(fd);
	w->size = l.total;
	w->slots = (struct tm_conn *)((char *)w->hdr + l.slots);
	w->log = (struct tm_event *)((char *)w->hdr + l.log);
	w->probes = (struct tm_probe *)((char *)w->hdr + l.probes);
	w->loops = (struct tm_loop *)((char *)w->hdr + l.loops);
	for (unsigned i = 0; i < TM_NSLOTS; i++)
		w->slots[i].fd = -1;

	h = w->hdr;
	h->version = TM_VERSION;
	h->kind = info->kind;
	h->total_size = l.total;
	h->header_size = sizeof(*h);
	h->slot_size = sizeof(struct tm_conn);
	h->event_size = sizeof(struct tm_event);
	h->probe_size = sizeof(struct tm_probe);
	h->nslots = TM_NSLOTS;
	h->nlog = TM_NLOG;
	h->nprobe = TM_NPROBE;
	h->ncounters = TM_NCOUNTERS;
	h->pid = (int32_t)getpid();
	h->port = info->port;
	snprintf(h->model, sizeof(h->model), "%s", info->model ? info->model : "?");
	snprintf(h->wait_call, sizeof(h->wait_call), "%s", info->wait_call ? info->wait_call : "");
	snprintf(h->addr, sizeof(h->addr), "%s", info->addr ? info->addr : "");
	snprintf(h->options, sizeof(h->options), "%s", info->options ? info->options : "");
	h->start_realtime_ns = realtime_ns();
	h->start_mono_ns = tm_now();
	/* Magic last: a reader that sees it sees a complete header. */
	atomic_thread_fence(memory_order_release);
	__atomic_store_n(&h->magic, TM_MAGIC, __ATOMIC_RELEASE);

	tm_self = w;
	return 0;

out_unlink: {
		int e = errno;
		close(fd);
		shm_unlink(w->name);
		errno = e;
		return -1;
	}
}

void tm_set_port(uint16_t port)
{
	if (tm_self)
		tm_self->hdr->port = port;
}

void tm_close(void)
{
	struct tm_writer *w = tm_self;

	if (!w || atomic_exchange(&w->hdr->exiting, 1))
		return;
	/*
	 * Unlink but keep the mapping: other threads (echo-blocking's workers) may still
	 * be writing to it; the memory goes away with the process.
	 */
	shm_unlink(w->name);
}

void tm_set_single_writer(bool single)
{
	if (tm_self)
		tm_self->single_writer = single;
}

void tm_log(enum tm_event_kind kind, int fd, uint32_t mask, int64_t value)
{
	struct tm_writer *w = tm_self;
	struct tm_event *e;
	uint64_t idx, seq;

	if (!w)
		return;
	if (w->single_writer) {
		/* Nobody else takes entries: no fetch-add, no compare-and-swap. */
		idx = atomic_load_explicit(&w->hdr->log_head, memory_order_relaxed);
		atomic_store_explicit(&w->hdr->log_head, idx + 1, memory_order_relaxed);
		e = &w->log[idx & (TM_NLOG - 1)];
		atomic_store_explicit(&e->seq, 2 * idx + 1, memory_order_relaxed);
		atomic_thread_fence(memory_order_release);
		goto fill;
	}
	idx = atomic_fetch_add_explicit(&w->hdr->log_head, 1, memory_order_relaxed);
	e = &w->log[idx & (TM_NLOG - 1)];
	seq = atomic_load_explicit(&e->seq, memory_order_relaxed);
	/*
	 * Odd: another writer, a whole lap away, is still filling this entry.
	 * Rather than wait (a writer must never block) give this event up and count it.
	 */
	if ((seq & 1) || seq > 2 * idx) {
		/* ...or a writer a lap ahead already filled it with a newer event: keep that one. */
		atomic_fetch_add_explicit(&w->hdr->log_dropped, 1, memory_order_relaxed);
		return;
	}
	if (!atomic_compare_exchange_strong_explicit(&e->seq, &seq, 2 * idx + 1,
						     memory_order_acquire, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&w->hdr->log_dropped, 1, memory_order_relaxed);
		return;
	}
fill:
	__atomic_store_n(&e->t_ns, tm_now(), __ATOMIC_RELAXED);
	__atomic_store_n(&e->fd, fd, __ATOMIC_RELAXED);
	__atomic_store_n(&e->kind, (uint16_t)kind, __ATOMIC_RELAXED);
	__atomic_store_n(&e->mask, mask, __ATOMIC_RELAXED);
	__atomic_store_n(&e->value, value, __ATOMIC_RELAXED);
	atomic_store_explicit(&e->seq, 2 * idx + 2, memory_order_release);
}

struct tm_conn *tm_slot(int fd)
{
	if (!tm_self || fd < 0 || fd >= TM_NSLOTS)
		return NULL;
	return &tm_self->slots[fd];
}

void tm_slot_begin(struct tm_conn *s)
{
	uint32_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);

	atomic_store_explicit(&s->seq, q + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

void tm_slot_end(struct tm_conn *s)
{
	uint32_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);

	atomic_store_explicit(&s->seq, q + 1, memory_order_release);
}

#define SET(field, v)  __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)
#define GET(field)     __atomic_load_n(&(field), __ATOMIC_RELAXED)

void tm_conn_open(int fd, uint16_t peer_port)
{
	struct tm_conn *s = tm_slot(fd);
	uint64_t now;
	uint32_t hwm;

	if (!s)
		return;
	now = tm_now();
	tm_slot_begin(s);
	SET(s->fd, fd);
	SET(s->state, (uint32_t)CONN_READING);
	SET(s->interest, 0u);
	SET(s->ready, 0u);
	SET(s->peer_port, peer_port);
	SET(s->loop, 0u);
	SET(s->parse_state, 0u);
	SET(s->deadline_ns, 0);
	SET(s->bytes_in, 0);
	SET(s->bytes_out, 0);
	SET(s->frames_in, 0);
	SET(s->eagain_rd, 0);
	SET(s->eagain_wr, 0);
	SET(s->queued, 0);
	SET(s->opened_ns, now);
	SET(s->ready_ns, 0);
	SET(s->served_ns, now);
	SET(s->max_wait_ns, 0);
	SET(s->waits, 0);
	SET(s->total_wait_ns, 0);
	tm_slot_end(s);
	hwm = atomic_load_explicit(&tm_self->hdr->slot_hwm, memory_order_relaxed);
	while (hwm < (uint32_t)fd + 1 &&
	       !atomic_compare_exchange_weak_explicit(&tm_self->hdr->slot_hwm, &hwm, (uint32_t)fd + 1,
						      memory_order_relaxed, memory_order_relaxed))
		;
}

void tm_conn_close(int fd)
{
	struct tm_conn *s = tm_slot(fd);

	if (!s)
		return;
	tm_slot_begin(s);
	SET(s->fd, -1);
	SET(s->state, (uint32_t)CONN_FREE);
	SET(s->ready_ns, 0);
	tm_slot_end(s);
}

void tm_conn_state(int fd, enum tm_state st)
{
	struct tm_conn *s = tm_slot(fd);

	if (!s)
		return;
	tm_slot_begin(s);
	SET(s->state, (uint32_t)st);
	tm_slot_end(s);
}

void tm_conn_interest(int fd, uint32_t mask)
{
	struct tm_conn *s = tm_slot(fd);

	if (!s)
		return;
	tm_slot_begin(s);
	SET(s->interest, mask);
	tm_slot_end(s);
}

void tm_conn_ready(int fd, uint32_t mask)
{
	struct tm_conn *s = tm_slot(fd);

	if (!s)
		return;
	tm_slot_begin(s);
	SET(s->ready, mask);
	if (GET(s->ready_ns) == 0)
		SET(s->ready_ns, tm_now());
	tm_slot_end(s);
}

void tm_conn_served(int fd)
{
	struct tm_conn *s = tm_slot(fd);
	uint64_t now, since, wait;

	if (!s)
		return;
	now = tm_now();
	since = GET(s->ready_ns);
	tm_slot_begin(s);
	if (since) {
		wait = now > since ? now - since : 0;
		if (wait > GET(s->max_wait_ns))
			SET(s->max_wait_ns, wait);
		SET(s->waits, GET(s->waits) + 1);
		SET(s->total_wait_ns, GET(s->total_wait_ns) + wait);
		SET(s->ready_ns, 0);
	}
	SET(s->served_ns, now);
	tm_slot_end(s);
}

void tm_conn_io(int fd, uint64_t in, uint64_t out, uint64_t frames,
		uint64_t eagain_rd, uint64_t eagain_wr, uint64_t queued)
{
	struct tm_conn *s = tm_slot(fd);

	if (!s)
		return;
	tm_slot_begin(s);
	SET(s->bytes_in, GET(s->bytes_in) + in);
	SET(s->bytes_out, GET(s->bytes_out) + out);
	SET(s->frames_in, GET(s->frames_in) + frames);
	SET(s->eagain_rd, GET(s->eagain_rd) + eagain_rd);
	SET(s->eagain_wr, GET(s->eagain_wr) + eagain_wr);
	SET(s->queued, queued);
	tm_slot_end(s);
}

void tm_conn_parse(int fd, uint32_t held)
{
	struct tm_conn *s = tm_slot(fd);

	if (!s)
		return;
	tm_slot_begin(s);
	SET(s->parse_state, held);
	tm_slot_end(s);
}

void tm_set_loops(unsigned n)
{
	if (tm_self)
		tm_self->hdr->nloops = (uint16_t)(n < TM_NLOOPS ? n : TM_NLOOPS);
}

void tm_conn_loop(int fd, unsigned loop)
{
	struct tm_conn *s = tm_slot(fd);

	if (!s)
		return;
	tm_slot_begin(s);
	SET(s->loop, loop);
	tm_slot_end(s);
}

uint64_t tm_conn_frames(int fd)
{
	struct tm_conn *s = tm_slot(fd);

	return s ? GET(s->frames_in) : 0;
}

void tm_probe_record(unsigned i, const struct tm_probe *p)
{
	struct tm_probe *d;

	if (!tm_self || i >= TM_NPROBE)
		return;
	d = &tm_self->probes[i];
	memcpy(d->label, p->label, sizeof(d->label));
	memcpy(d->mech, p->mech, sizeof(d->mech));
	d->registered = p->registered;
	d->mask = p->mask;
	d->so_error = p->so_error;
	atomic_thread_fence(memory_order_release);
	__atomic_store_n(&d->valid, 1, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------------ reader */

const char *tm_open_strerror(int result)
{
	switch (result) {
	case TM_OK:          return "ok";
	case TM_ERR_OPEN:    return "cannot open or map";
	case TM_ERR_SHORT:   return "truncated segment";
	case TM_ERR_MAGIC:   return "bad magic (not an iolab segment)";
	case TM_ERR_VERSION: return "layout version mismatch";
	case TM_ERR_LAYOUT:  return "layout sizes do not match this build";
	}
	return "unknown error";
}

int tm_reader_open(struct tm_reader *r, const char *path)
{
	struct tm_header h;
	struct layout l;
	struct stat st;
	int fd, rc;

	memset(r, 0, sizeof(*r));
	snprintf(r->path, sizeof(r->path), "%s", path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);  /* a FIFO must not hang us */
	if (fd < 0)
		return TM_ERR_OPEN;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return TM_ERR_OPEN;
	}
	/* Never map (and so never touch) a byte the file does not have: read the header with pread. */
	if ((size_t)st.st_size < sizeof(h) || pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		close(fd);
		return TM_ERR_SHORT;
	}
	rc = TM_OK;
	if (h.magic != TM_MAGIC)
		rc = TM_ERR_MAGIC;
	else if (h.version != TM_VERSION)
		rc = TM_ERR_VERSION;
	else if (h.header_size != sizeof(struct tm_header) || h.slot_size != sizeof(struct tm_conn) ||
		 h.event_size != sizeof(struct tm_event) || h.probe_size != sizeof(struct tm_probe) ||
		 h.ncounters != TM_NCOUNTERS || h.nslots == 0 || h.nslots > (1u << 20) ||
		 h.nlog == 0 || (h.nlog & (h.nlog - 1)) || h.nlog > (1u << 20) || h.nprobe > 4096)
		rc = TM_ERR_LAYOUT;
	else {
		l = layout_of(h.nslots, h.nlog, h.nprobe);
		if (h.total_size != l.total)
			rc = TM_ERR_LAYOUT;
		else if ((uint64_t)st.st_size < l.total)
			rc = TM_ERR_SHORT;
	}
	if (rc != TM_OK) {
		close(fd);
		return rc;
	}
	r->map = mmap(NULL, l.total, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return TM_ERR_OPEN;
	}
	r->size = l.total;
	r->nslots = h.nslots;               /* our validated copies: the writer cannot change them */
	r->nlog = h.nlog;
	r->nprobe = h.nprobe;
	r->hdr = r->map;
	r->slots = (struct tm_conn *)((char *)r->map + l.slots);
	r->log = (struct tm_event *)((char *)r->map + l.log);
	r->probes = (struct tm_probe *)((char *)r->map + l.probes);
	r->loops = (struct tm_loop *)((char *)r->map + l.loops);
	return TM_OK;
}

void tm_reader_close(struct tm_reader *r)
{
	if (r->map)
		munmap(r->map, r->size);
	r->map = NULL;
	r->hdr = NULL;
}

bool tm_reader_alive(const struct tm_reader *r)
{
	pid_t pid = r->hdr ? r->hdr->pid : 0;

	if (pid <= 0)
		return false;
	return kill(pid, 0) == 0 || errno != ESRCH;
}

void tm_read_counters(const struct tm_reader *r, uint64_t out[TM_NCOUNTERS])
{
	if (!r->hdr) {
		memset(out, 0, sizeof(uint64_t) * TM_NCOUNTERS);
		return;
	}
	for (unsigned i = 0; i < TM_NCOUNTERS; i++)
		out[i] = atomic_load_explicit(&r->hdr->counters[i],
					      memory_order_relaxed);
}

bool tm_read_slot(const struct tm_reader *r, unsigned i, struct tm_conn *out)
{
	struct tm_conn *s;

	if (!r->hdr || i >= r->nslots)
		return false;
	s = &r->slots[i];
	for (int tries = 0; tries < 64; tries++) {
		uint32_t q1 = atomic_load_explicit(&s->seq, memory_order_acquire);

		if (q1 & 1)
			continue;
		out->fd = GET(s->fd);
		out->state = GET(s->state);
		out->interest = GET(s->interest);
		out->ready = GET(s->ready);
		out->peer_port = GET(s->peer_port);
		out->parse_state = GET(s->parse_state);
		out->deadline_ns = GET(s->deadline_ns);
		out->bytes_in = GET(s->bytes_in);
		out->bytes_out = GET(s->bytes_out);
		out->frames_in = GET(s->frames_in);
		out->eagain_rd = GET(s->eagain_rd);
		out->eagain_wr = GET(s->eagain_wr);
		out->queued = GET(s->queued);
		out->opened_ns = GET(s->opened_ns);
		out->ready_ns = GET(s->ready_ns);
		out->served_ns = GET(s->served_ns);
		out->max_wait_ns = GET(s->max_wait_ns);
		out->waits = GET(s->waits);
		out->total_wait_ns = GET(s->total_wait_ns);
		out->loop = GET(s->loop);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&s->seq, memory_order_relaxed) == q1) {
			atomic_store_explicit(&out->seq, q1, memory_order_relaxed);
			return out->fd >= 0 && out->state != CONN_FREE;
		}
	}
	return false;
}

unsigned tm_read_nloops(const struct tm_reader *r)
{
	unsigned n = r->hdr ? __atomic_load_n(&r->hdr->nloops, __ATOMIC_RELAXED) : 0;

	return n < TM_NLOOPS ? n : TM_NLOOPS;   /* the writer's word is not trusted past the array */
}

void tm_read_loop(const struct tm_reader *r, unsigned i, uint64_t out[TL_NFIELDS_USED])
{
	for (unsigned f = 0; f < TL_NFIELDS_USED; f++)
		out[f] = r->hdr && i < TM_NLOOPS ?
			 atomic_load_explicit(&r->loops[i].v[f], memory_order_relaxed) : 0;
}

size_t tm_read_log(const struct tm_reader *r, uint64_t *cursor,
		   struct tm_event *out, size_t max, uint64_t *missed)
{
	struct tm_header *h = r->hdr;
	uint64_t head, start, idx;
	size_t n = 0, nlog;

	if (missed)
		*missed = 0;
	if (!h)
		return 0;
	nlog = r->nlog;
	head = atomic_load_explicit(&h->log_head, memory_order_acquire);
	start = *cursor;
	if (start > head)
		start = head;
	if (head - start > nlog) {              /* overwritten before we got to them */
		if (missed)
			*missed = head - start - nlog;
		start = head - nlog;
	}
	for (idx = start; idx < head && n < max; idx++) {
		struct tm_event *e = &r->log[idx & (nlog - 1)];
		uint64_t want = 2 * idx + 2;

		if (atomic_load_explicit(&e->seq, memory_order_acquire) != want) {
			/*
			 * Lapped, or given up by its writer (log_dropped), or — near the head —
			 * still being written.  Only the last case is worth waiting for.
			 */
			if (idx + nlog < head || atomic_load_explicit(&e->seq, memory_order_relaxed) > want ||
			    head - idx > 64) {
				if (missed)
					(*missed)++;
				continue;
			}
			break;                          /* still being written: stop here, retry later */
		}
		out[n].t_ns = GET(e->t_ns);
		out[n].fd = GET(e->fd);
		out[n].kind = GET(e->kind);
		out[n].mask = GET(e->mask);
		out[n].value = GET(e->value);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&e->seq, memory_order_relaxed) != want) {
			if (missed)
				(*missed)++;
			continue;
		}
		atomic_store_explicit(&out[n].seq, want, memory_order_relaxed);
		n++;
	}
	*cursor = idx;
	return n;
}

int tm_list(void (*fn)(const char *path, void *arg), void *arg)
{
	const char *prefix = tm_prefix();
	size_t plen = strlen(prefix);
	char path[300];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	dir = opendir("/dev/shm");
	if (!dir)
		return 0;
	while ((d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, prefix, plen) != 0 || d->d_name[plen] != '.')
			continue;
		snprintf(path, sizeof(path), "/dev/shm/%s", d->d_name);
		n++;
		if (fn)
			fn(path, arg);
	}
	closedir(dir);
	return n;
}
