/*
 * sample.c — read every telemetry segment into the viewer's model, compute rates.
 *
 * One call of sampler_sample() per refresh:
 *
 *   1. list /dev/shm/<prefix>.*            new segments are opened (and checked:
 *                                          tm_reader_open refuses garbage), known
 *                                          ones are marked seen
 *   2. for each segment                    is the writer still there?  counters,
 *                                          /proc/PID/stat, connection slots up to
 *                                          slot_hwm, probe records, event ring
 *   3. rates = (now - before) / interval   per server and per connection
 *   4. drop servers that exited a while ago
 *
 * A segment is never trusted: strings are copied bounded and made printable,
 * slot_hwm is clamped to nslots, counters that go backwards count as zero, and a
 * file that shrinks under us is dropped before it is touched again (touching a
 * page past the end of a shrunk file is SIGBUS).
 *
 * Beside it: quarantine.c (segments not shown), evlog.c (the event ring);
 * /proc/PID/stat is read by common/procstat.c.
 */
#include "viewer/sample.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fairness.h"
#include "common/procstat.h"
#include "viewer/evlog.h"
#include "viewer/quarantine.h"

#define NS_PER_S        1000000000ull
#define CPU_WINDOW_NS   (1ull * NS_PER_S)  /* CPU % is measured over at least this long */

/* ------------------------------------------------------------------ helpers */

void sampler_add_note(struct sampler *s, const char *fmt, ...)
{
	char *note = s->notes[s->notes_total % NOTES_MAX];
	va_list ap;

	s->note_ns[s->notes_total % NOTES_MAX] = s->now_ns;
	va_start(ap, fmt);
	vsnprintf(note, NOTE_LEN, fmt, ap);
	va_end(ap);
	/* File names come from readdir(): keep escape sequences off the terminal. */
	for (char *p = note; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	s->notes_total++;
}

const char *sampler_note(const struct sampler *s, unsigned back, uint64_t *when)
{
	uint64_t i;

	if (back >= NOTES_MAX || back >= s->notes_total)
		return NULL;
	i = (s->notes_total - 1 - back) % NOTES_MAX;
	if (when)
		*when = s->note_ns[i];
	return s->notes[i];
}

/* Copy at most srclen bytes of a string that may lack its NUL, replacing anything unprintable. */
static void copy_printable(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t i;

	for (i = 0; i + 1 < dstlen && i < srclen && src[i]; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[i] = '\0';
}

/* The pid at the end of "<prefix>.<model>.<pid>", or 0. */
static pid_t pid_from_path(const char *path)
{
	const char *dot = strrchr(path, '.');
	char *end;
	long v;

	if (!dot || !dot[1])
		return 0;
	v = strtol(dot + 1, &end, 10);
	return *end == '\0' && v > 0 && v < (1L << 30) ? (pid_t)v : 0;
}

static bool pid_wanted(const struct sampler *s, pid_t pid)
{
	if (s->opt.npids == 0)
		return true;
	for (int i = 0; i < s->opt.npids; i++)
		if (s->opt.pids[i] == pid)
			return true;
	return false;
}

static uint64_t delta(uint64_t now, uint64_t before)
{
	return now >= before ? now - before : 0;   /* a counter going back: new writer, count 0 */
}

static double ratio(uint64_t num, uint64_t den)
{
	return den ? (double)num / (double)den : NAN;
}

/* No figures yet (or any more): zeros for amounts, NAN for ratios. */
static void rates_none(struct rates *r)
{
	memset(r, 0, sizeof(*r));
	r->ev_per_wake = r->empty_pct = r->sys_per_msg = NAN;
	r->scanned_per_wake = r->compl_per_wait = NAN;
	r->cpu_pct = r->fairness = NAN;
	for (int i = 0; i < TM_NCOUNTERS_USED; i++)
		r->cnt_s[i] = NAN;
}

double rates_derived(const struct rates *r, int d)
{
	switch (d) {
	case DV_EVENTS_PER_WAKEUP:    return r->ev_per_wake;
	case DV_EMPTY_PCT:            return r->empty_pct;
	case DV_SCANNED_PER_WAKEUP:   return r->scanned_per_wake;
	case DV_COMPLETIONS_PER_WAIT: return r->compl_per_wait;
	}
	return NAN;
}

/* --------------------------------------------------------------- segments */

static int seg_cmp(const void *a, const void *b)
{
	const struct seg *x = *(struct seg *const *)a, *y = *(struct seg *const *)b;
	int c = strcmp(x->model, y->model);

	return c ? c : (x->pid > y->pid) - (x->pid < y->pid);
}

static void seg_free(struct seg *g)
{
	if (g->stat_fd >= 0)
		close(g->stat_fd);
	tm_reader_close(&g->rd);
	free(g->conns);
	free(g->mem);
	free(g->log);
	free(g);
}

/*
 * Map one segment and check it is something we can show.  Returns 0 and the new
 * segment in *out, or an error (tm_open_result or BAD_*) and *ino for the bad list.
 */
static int seg_open(const char *path, struct seg **out, ino_t *ino)
{
	struct seg *g;
	struct stat st;
	int rc;

	memset(&st, 0, sizeof(st));               /* gone already: dev/ino 0, seen as replaced later */
	*ino = stat(path, &st) == 0 ? st.st_ino : 0;
	g = calloc(1, sizeof(*g));
	if (!g)
		return TM_ERR_OPEN;
	g->stat_fd = -1;
	rc = tm_reader_open(&g->rd, path);
	if (rc == TM_OK && g->rd.hdr->kind != TM_KIND_SERVER && g->rd.hdr->kind != TM_KIND_PROBE)
		rc = BAD_KIND;
	else if (rc == TM_OK && atomic_load(&g->rd.hdr->exiting))
		rc = BAD_EXITING;
	else if (rc == TM_OK && !tm_reader_alive(&g->rd))
		rc = BAD_STALE;
	if (rc != TM_OK) {
		seg_free(g);
		return rc;
	}
	snprintf(g->path, sizeof(g->path), "%s", path);
	g->dev = st.st_dev;
	g->ino = *ino;
	g->kind = (int)g->rd.hdr->kind;
	g->pid = g->rd.hdr->pid;
	g->stat_fd = procstat_open(g->pid);
	g->start_mono_ns = g->rd.hdr->start_mono_ns;
	copy_printable(g->model, sizeof(g->model), g->rd.hdr->model, sizeof(g->rd.hdr->model));
	copy_printable(g->wait_call, sizeof(g->wait_call), g->rd.hdr->wait_call, sizeof(g->rd.hdr->wait_call));
	copy_printable(g->addr, sizeof(g->addr), g->rd.hdr->addr, sizeof(g->rd.hdr->addr));
	copy_printable(g->options, sizeof(g->options), g->rd.hdr->options, sizeof(g->rd.hdr->options));
	g->status = SEG_LIVE;
	rates_none(&g->r);
	*out = g;
	return TM_OK;
}

static void seg_add(struct sampler *s, struct seg *g)
{
	if (s->nsegs == s->segs_cap) {
		size_t cap = s->segs_cap ? 2 * s->segs_cap : 16;
		struct seg **v = realloc(s->segs, cap * sizeof(*v));

		if (!v) {
			seg_free(g);
			return;
		}
		s->segs = v;
		s->segs_cap = cap;
	}
	s->segs[s->nsegs++] = g;
	qsort(s->segs, s->nsegs, sizeof(*s->segs), seg_cmp);
}

static struct seg *seg_find(const struct sampler *s, const char *path)
{
	for (size_t i = 0; i < s->nsegs; i++)
		if (strcmp(s->segs[i]->path, path) == 0)
			return s->segs[i];
	return NULL;
}

/* Try (again) to open a path that tm_list() reported. */
static void try_open(struct sampler *s, const char *path, struct bad_seg *b)
{
	struct seg *g;
	ino_t ino;
	int rc = seg_open(path, &g, &ino);

	if (rc == TM_OK) {
		if (b)
			b->seen = false;       /* swept out below */
		seg_add(s, g);
		return;
	}
	if (!b)
		bad_add(s, path, ino, rc, s->now_ns);
	else
		bad_again(s, b, ino, rc);
}

/* tm_list() callback: one path under /dev/shm with our prefix. */
static void on_path(const char *path, void *arg)
{
	struct sampler *s = arg;
	struct seg *g = seg_find(s, path);
	struct bad_seg *b;

	if (g) {
		g->seen = true;
		return;
	}
	if (!pid_wanted(s, pid_from_path(path)))
		return;
	b = bad_find(s, path);
	if (!b) {
		try_open(s, path, NULL);
		return;
	}
	if (!bad_still(s, b))
		try_open(s, path, b);
}

/* ------------------------------------------------------------ one segment */

/* Is the writer still there, and the file still the one we mapped?  Sets status. */
static void seg_check_alive(struct sampler *s, struct seg *g)
{
	struct stat st;
	const char *why = NULL;

	if (stat(g->path, &st) < 0)
		why = "exited";                       /* tm_close() unlinked it */
	else if (st.st_ino != g->ino || st.st_dev != g->dev)
		why = "exited (segment replaced)";
	else if ((uint64_t)st.st_size < g->rd.size) {
		why = "segment truncated";
		tm_reader_close(&g->rd);              /* touching it now could be SIGBUS */
	} else if (atomic_load(&g->rd.hdr->exiting))
		why = "exited";
	else if (!tm_reader_alive(&g->rd))
		why = "killed";
	if (!why)
		return;
	g->status = SEG_EXITED;
	g->exited_ns = s->now_ns;
	g->exit_why = why;
	rates_none(&g->r);
	g->nconns = 0;
	sampler_add_note(s, "%s pid %d %s", g->model, (int)g->pid, why);
}

static bool mem_reserve(struct seg *g, size_t n)
{
	struct slot_mem *v;

	if (n <= g->mem_cap)
		return true;
	v = realloc(g->mem, n * sizeof(*v));
	if (!v)
		return false;
	memset(v + g->mem_cap, 0, (n - g->mem_cap) * sizeof(*v));
	g->mem = v;
	g->mem_cap = n;
	return true;
}

static struct conn_row *conn_push(struct seg *g)
{
	if (g->nconns == g->conns_cap) {
		size_t cap = g->conns_cap ? 2 * g->conns_cap : 64;
		struct conn_row *v = realloc(g->conns, cap * sizeof(*v));

		if (!v)
			return NULL;
		g->conns = v;
		g->conns_cap = cap;
	}
	return &g->conns[g->nconns++];
}

/* A plain copy of one slot, with how long it has waited and what it moved since the last look. */
static void row_from_slot(const struct sampler *s, struct conn_row *row, const struct tm_conn *c,
			  struct slot_mem *mem, bool g_has_loops, bool http)
{
	uint64_t bytes = c->bytes_in + c->bytes_out;

	row->fd = c->fd;
	row->state = c->state;
	row->interest = c->interest;
	row->ready = c->ready;
	row->peer_port = c->peer_port;
	row->bytes_in = c->bytes_in;
	row->bytes_out = c->bytes_out;
	row->frames_in = c->frames_in;
	row->eagain_rd = c->eagain_rd;
	row->eagain_wr = c->eagain_wr;
	row->queued = c->queued;
	/* One field, two meanings: an HTTP parser's state + 1, or a frame decoder's bytes held. */
	row->partial = http ? 0 : c->parse_state;
	row->opened_ns = c->opened_ns;
	row->loop = g_has_loops ? (int32_t)c->loop : -1;
	/* ready_ns is the writer's clock reading; CLOCK_MONOTONIC is the same in every process. */
	row->wait_ns = c->ready_ns && c->ready_ns < s->now_ns ? s->now_ns - c->ready_ns : 0;
	row->max_wait_ns = c->max_wait_ns > row->wait_ns ? c->max_wait_ns : row->wait_ns;
	row->starving = row->wait_ns > s->opt.starve_ns;
	row->expires_ns = c->deadline_ns ? (int64_t)(c->deadline_ns - s->now_ns) : -1;
	row->parse_state = http ? c->parse_state : 0;
	/* The same fd may be a new connection: opened_ns tells them apart. */
	row->d_bytes = mem->opened_ns == c->opened_ns ? delta(bytes, mem->bytes) : bytes;
	mem->opened_ns = c->opened_ns;
	mem->bytes = bytes;
}

/*
 * Copy the live connection slots (0 .. slot_hwm) and derive the server-wide
 * figures that need every connection: starvation and fairness.
 */
static void seg_read_slots(struct sampler *s, struct seg *g)
{
	uint32_t hwm = atomic_load_explicit(&g->rd.hdr->slot_hwm, memory_order_acquire);
	struct jain fair = { 0 };

	if (hwm > g->rd.hdr->nslots)
		hwm = g->rd.hdr->nslots;          /* a lying header: never past the mapping */
	g->nconns = 0;
	g->r.starve_ns = 0;
	g->r.starving = 0;
	g->r.max_wait_ns = 0;
	if (!mem_reserve(g, hwm))
		return;
	for (uint32_t i = 0; i < hwm; i++) {
		struct tm_conn c;
		struct conn_row *row;

		if (!tm_read_slot(&g->rd, i, &c)) {
			g->mem[i].opened_ns = 0;
			continue;
		}
		row = conn_push(g);
		if (!row)
			break;
		row_from_slot(s, row, &c, &g->mem[i], g->nloops > 0, !strncmp(g->options, "framing=http", 12));
		if (row->wait_ns > g->r.starve_ns)
			g->r.starve_ns = row->wait_ns;
		g->r.starving += row->starving;
		if (row->max_wait_ns > g->r.max_wait_ns)
			g->r.max_wait_ns = row->max_wait_ns;
		/*
		 * Fairness counts the connections that wanted service: those that moved
		 * bytes, and those waiting right now (a starved one moved nothing).  An
		 * idle client is not treated unfairly by being idle.
		 */
		if (row->d_bytes || row->wait_ns)
			jain_add(&fair, (double)row->d_bytes);
	}
	g->r.fairness = g->have_prev ? jain_index(&fair) : NAN;
}

static void seg_read_probes(struct seg *g)
{
	unsigned n = g->rd.hdr->nprobe < TM_NPROBE ? g->rd.hdr->nprobe : TM_NPROBE;

	g->nprobes = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct tm_probe *p = &g->rd.probes[i];
		struct tm_probe *d = &g->probes[g->nprobes];

		if (__atomic_load_n(&p->valid, __ATOMIC_ACQUIRE) != 1)
			continue;
		copy_printable(d->label, sizeof(d->label), p->label, sizeof(p->label));
		copy_printable(d->mech, sizeof(d->mech), p->mech, sizeof(p->mech));
		d->registered = p->registered;
		d->mask = p->mask;
		d->so_error = p->so_error;
		d->valid = 1;
		g->nprobes++;
	}
}

/* Per-interval figures from two counter readings. */
static void seg_rates(struct sampler *s, struct seg *g)
{
	const uint64_t *c = g->cnt, *p = g->prev_cnt;
	double dt = (double)(g->t_ns - g->prev_t_ns) / 1e9;
	uint64_t frames, waits, wakeups, spins, calls;

	if (!g->have_prev || dt <= 0)
		return;
	/* Messages: frames echoed, or HTTP requests answered (a server counts one or the other). */
	frames = delta(c[TM_FRAMES_IN], p[TM_FRAMES_IN]) + delta(c[TM_REQUESTS], p[TM_REQUESTS]);
	waits = delta(c[TM_WAIT_CALLS], p[TM_WAIT_CALLS]);
	spins = delta(c[TM_SPINS], p[TM_SPINS]);
	calls = delta(c[TM_READ_CALLS], p[TM_READ_CALLS]) + delta(c[TM_WRITE_CALLS], p[TM_WRITE_CALLS]) + waits;
	/*
	 * The busy loop (nonblocking) never waits: wait_calls counts only its optional
	 * naps, while empty_wakeups and scanned are counted per turn.  Per nap, its
	 * "empty %" would be over 100 and mean nothing; per turn it is the lesson
	 * (almost every turn finds nothing).  Any model that counts spins is such a loop.
	 */
	g->r.per_spin = spins > 0 || (c[TM_SPINS] > 0 && waits == 0);
	wakeups = g->r.per_spin ? spins : waits;

	g->r.msgs_s = (double)frames / dt;
	g->r.mb_in_s = (double)delta(c[TM_BYTES_IN], p[TM_BYTES_IN]) / dt / 1e6;
	g->r.mb_out_s = (double)delta(c[TM_BYTES_OUT], p[TM_BYTES_OUT]) / dt / 1e6;
	g->r.eagain_rd_s = (double)delta(c[TM_EAGAIN_RD], p[TM_EAGAIN_RD]) / dt;
	g->r.eagain_wr_s = (double)delta(c[TM_EAGAIN_WR], p[TM_EAGAIN_WR]) / dt;
	g->r.waits_s = (double)waits / dt;
	g->r.ev_per_wake = ratio(delta(c[TM_EVENTS], p[TM_EVENTS]), wakeups);
	g->r.empty_pct = wakeups ? 100.0 * ratio(delta(c[TM_EMPTY_WAKEUPS], p[TM_EMPTY_WAKEUPS]), wakeups) : NAN;
	g->r.scanned_per_wake = c[TM_SCANNED] ? ratio(delta(c[TM_SCANNED], p[TM_SCANNED]), wakeups) : NAN;
	g->r.compl_per_wait = c[TM_COMPLETIONS] ? ratio(delta(c[TM_COMPLETIONS], p[TM_COMPLETIONS]), waits) : NAN;
	g->r.sys_per_msg = ratio(calls, frames);
	for (int i = 0; i < TM_NCOUNTERS_USED; i++)
		g->r.cnt_s[i] = counter_kind(i) == CK_GAUGE ? NAN : (double)delta(c[i], p[i]) / dt;
	for (unsigned i = 0; i < g->nloops; i++) {
		const uint64_t *lc = g->loop_cnt[i], *lp = g->prev_loop_cnt[i];

		for (int f = 0; f < TL_NFIELDS_USED; f++)
			g->loop_s[i][f] = f == TL_ACTIVE || f == TL_HANDOVER_MAX_NS ? NAN : (double)delta(lc[f], lp[f]) / dt;
	}

	if (g->hist_len == HIST_LEN)
		memmove(g->hist, g->hist + 1, (HIST_LEN - 1) * sizeof(g->hist[0]));
	else
		g->hist_len++;
	g->hist[g->hist_len - 1] = (float)g->r.msgs_s;
}

/*
 * CPU % from utime+stime, over at least CPU_WINDOW_NS: the kernel counts in
 * clock ticks (10 ms), so a 100 ms window could only say 0, 10 or 20 %; and
 * /proc/PID/stat sums every thread (1000 of them in echo-blocking), the
 * dearest read the viewer makes.  In between, the last figure stands.
 */
static void seg_cpu(struct sampler *s, struct seg *g)
{
	struct proc_stat ps;
	uint64_t ticks = 0;
	bool ok;

	if (g->cpu_read_ns && s->now_ns - g->cpu_read_ns < CPU_WINDOW_NS)
		return;
	ok = procstat_read_fd(g->stat_fd, &ps);
	if (ok)
		ticks = ps.utime + ps.stime;
	if (ok && g->cpu_read_ok && s->clk_tck > 0)
		g->r.cpu_pct = 100.0 * (double)delta(ticks, g->cpu_ticks) / (double)s->clk_tck /
			       ((double)(s->now_ns - g->cpu_read_ns) / 1e9);
	g->cpu_read_ok = ok;
	g->cpu_ticks = ticks;
	g->cpu_read_ns = s->now_ns;
}

static void seg_sample(struct sampler *s, struct seg *g)
{
	if (g->status != SEG_LIVE)
		return;
	seg_check_alive(s, g);
	if (g->status != SEG_LIVE)
		return;
	memcpy(g->prev_cnt, g->cnt, sizeof(g->cnt));
	g->prev_t_ns = g->t_ns;
	tm_read_counters(&g->rd, g->cnt);
	memcpy(g->prev_loop_cnt, g->loop_cnt, sizeof(g->loop_cnt));
	g->nloops = tm_read_nloops(&g->rd);
	for (unsigned i = 0; i < g->nloops; i++)
		tm_read_loop(&g->rd, i, g->loop_cnt[i]);
	g->t_ns = s->now_ns;
	seg_cpu(s, g);
	g->port = __atomic_load_n(&g->rd.hdr->port, __ATOMIC_RELAXED);  /* set after bind */
	g->log_dropped = atomic_load(&g->rd.hdr->log_dropped);
	g->log_head = atomic_load(&g->rd.hdr->log_head);

	seg_read_slots(s, g);
	if (g->kind == TM_KIND_PROBE)
		seg_read_probes(g);
	seg_poll_log(g);
	seg_rates(s, g);
	g->have_prev = true;
}

/* Drop servers that exited more than EXIT_LINGER_NS ago (a killed one's file stays: remember it). */
static void sweep_exited(struct sampler *s)
{
	size_t j = 0;

	for (size_t i = 0; i < s->nsegs; i++) {
		struct seg *g = s->segs[i];
		struct stat st;

		if (g->status == SEG_EXITED && s->now_ns - g->exited_ns >= EXIT_LINGER_NS) {
			if (stat(g->path, &st) == 0 && st.st_ino == g->ino && !bad_find(s, g->path)) {
				struct bad_seg *b = bad_add(s, g->path, g->ino, BAD_STALE, s->now_ns);

				if (b)
					b->noted = true;      /* already said "killed" */
			}
			seg_free(g);
			continue;
		}
		s->segs[j++] = g;
	}
	s->nsegs = j;
}

/* ------------------------------------------------------------------ public */

void sampler_init(struct sampler *s, const struct sampler_opts *opt)
{
	memset(s, 0, sizeof(*s));
	if (opt)
		s->opt = *opt;
	s->clk_tck = sysconf(_SC_CLK_TCK);
}

void sampler_free(struct sampler *s)
{
	for (size_t i = 0; i < s->nsegs; i++)
		seg_free(s->segs[i]);
	free(s->segs);
	free(s->bad);
	memset(s, 0, sizeof(*s));
}

void sampler_sample(struct sampler *s, uint64_t now)
{
	s->prev_ns = s->now_ns;
	s->now_ns = now;
	for (size_t i = 0; i < s->nsegs; i++)
		s->segs[i]->seen = false;
	for (size_t i = 0; i < s->nbad; i++)
		s->bad[i].seen = false;

	tm_list(on_path, s);

	for (size_t i = 0; i < s->nsegs; i++)
		seg_sample(s, s->segs[i]);
	sweep_exited(s);
	bad_sweep(s);
	s->samples++;
}
