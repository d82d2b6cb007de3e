/*
 * ui.c — views, selection, sorting, filtering, and the screen's geometry (keys: keys.c).
 *
 * Selections are remembered by identity (a server's pid, a connection's fd), not
 * by row number, so a table that re-sorts itself every refresh does not move the
 * highlight to another server under the student's eyes.
 */
#include "viewer/ui.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "viewer/evlog.h"
#include "viewer/text.h"

const char *const view_names[NVIEWS] = {
	[VIEW_OVERVIEW] = "Overview", [VIEW_CONNS] = "Connections", [VIEW_COUNTERS] = "Counters",
	[VIEW_EVENTS] = "Events",     [VIEW_PROBES] = "Probes",     [VIEW_VERIFY] = "Verify",
};

/* Where each view's list starts: the lines above it say what the list is about. */
static const int list_top[NVIEWS] = {
	[VIEW_OVERVIEW] = 3,   /* 1 what is watched, 2 header */
	[VIEW_CONNS]    = 6,   /* 1-2 the server, 3 starvation now and ever, 4 its counters, 5 header */
	[VIEW_COUNTERS] = 5,   /* 1-2 the server, 3 derived figures, 4 header */
	[VIEW_EVENTS]   = 4,   /* 1 the ring, 2 what the viewer holds of it, 3 header */
	[VIEW_PROBES]   = 3,
	[VIEW_VERIFY]   = 3,
};

#define VERIFY_EVERY_NS 2000000000ull   /* re-read /proc/PID/fd at most this often */

void ui_init(struct ui *u, int interval_ms, uint64_t starve_ns, const struct watch *w)
{
	memset(u, 0, sizeof(*u));
	if (w)
		u->watch = *w;
	u->interval_ms = interval_ms;
	u->starve_ns = starve_ns;
	u->ov_sort = OV_MODEL;
	u->cn_sort = CN_FD;
	u->sel_fd = -1;
	u->ev_follow = true;
	u->vi.pid = -1;
}

void ui_free(struct ui *u)
{
	free(u->ov);
	free(u->cn);
	free(u->ev);
}

/* Room for `need` elements (at least one): the array, possibly moved, or NULL (old one kept). */
static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 64;
	void *v;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	v = realloc(p, c * elem);
	if (v)
		*cap = c;
	return v;
}

/* A filter that is all digits is a number (an fd, a pid, a port); otherwise text. */
static bool filter_number(const char *f, long *n)
{
	char *end;

	if (!*f || !isdigit((unsigned char)*f))
		return false;
	*n = strtol(f, &end, 10);
	return *end == '\0';
}

/* ---------------------------------------------------------------- sorting */

/* NAN sorts below every number: "no figure" goes to the end of a descending table. */
static int cmp_double(double a, double b)
{
	if (isnan(a))
		return isnan(b) ? 0 : -1;
	if (isnan(b))
		return 1;
	return (a > b) - (a < b);
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

static int ov_cmp(const void *pa, const void *pb, void *arg)
{
	const struct seg *a = *(struct seg *const *)pa, *b = *(struct seg *const *)pb;
	const struct ui *u = arg;
	int c = 0;

	switch (u->ov_sort) {
	case OV_MODEL:  c = strcmp(a->model, b->model); break;
	case OV_PID:    break;
	case OV_PORT:   c = cmp_u64(a->port, b->port); break;
	case OV_CONNS:  c = cmp_u64(a->cnt[TM_ACTIVE], b->cnt[TM_ACTIVE]); break;
	case OV_SPARK:
	case OV_MSGS:   c = cmp_double(a->r.msgs_s, b->r.msgs_s); break;
	case OV_MB:     c = cmp_double(a->r.mb_in_s, b->r.mb_in_s); break;
	case OV_EAGRD:  c = cmp_double(a->r.eagain_rd_s, b->r.eagain_rd_s); break;
	case OV_EAGWR:  c = cmp_double(a->r.eagain_wr_s, b->r.eagain_wr_s); break;
	case OV_WAITS:  c = cmp_double(a->r.waits_s, b->r.waits_s); break;
	case OV_EVWAKE: c = cmp_double(a->r.ev_per_wake, b->r.ev_per_wake); break;
	case OV_EMPTY:  c = cmp_double(a->r.empty_pct, b->r.empty_pct); break;
	case OV_SYSMSG: c = cmp_double(a->r.sys_per_msg, b->r.sys_per_msg); break;
	case OV_CPU:    c = cmp_double(a->r.cpu_pct, b->r.cpu_pct); break;
	case OV_FAIR:   c = cmp_double(a->r.fairness, b->r.fairness); break;
	case OV_STARVE: c = cmp_u64(a->r.starve_ns, b->r.starve_ns); break;
	default: {
		bool rate;
		int i = ov_watch_index(u->ov_sort, &rate), id = i >= 0 ? u->watch.id[i] : -1;

		if (id >= DERIVED_BASE)
			c = cmp_double(rates_derived(&a->r, id - DERIVED_BASE), rates_derived(&b->r, id - DERIVED_BASE));
		else if (id >= 0 && rate)
			c = cmp_double(a->r.cnt_s[id], b->r.cnt_s[id]);
		else if (id >= 0)
			c = cmp_u64(a->cnt[id], b->cnt[id]);
		break;
	}
	}
	if (c == 0)
		c = (a->pid > b->pid) - (a->pid < b->pid);
	return u->ov_desc ? -c : c;
}

struct cn_ctx {
	const struct ui  *u;
	const struct seg *g;
};

static int cn_cmp(const void *pa, const void *pb, void *arg)
{
	const struct cn_ctx *x = arg;
	const struct conn_row *a = &x->g->conns[*(const size_t *)pa], *b = &x->g->conns[*(const size_t *)pb];
	int c = 0;

	switch (x->u->cn_sort) {
	case CN_FD:       break;
	case CN_PEER:     c = cmp_u64(a->peer_port, b->peer_port); break;
	case CN_STATE:    c = strcmp(tm_state_name(a->state), tm_state_name(b->state)); break;
	case CN_INTEREST: c = cmp_u64(a->interest, b->interest); break;
	case CN_READY:    c = cmp_u64(a->ready, b->ready); break;
	case CN_IN:       c = cmp_u64(a->bytes_in, b->bytes_in); break;
	case CN_OUT:      c = cmp_u64(a->bytes_out, b->bytes_out); break;
	case CN_EAGRD:    c = cmp_u64(a->eagain_rd, b->eagain_rd); break;
	case CN_EAGWR:    c = cmp_u64(a->eagain_wr, b->eagain_wr); break;
	case CN_QUEUED:   c = cmp_u64(a->queued, b->queued); break;
	case CN_WAIT:     c = cmp_u64(a->wait_ns, b->wait_ns); break;
	case CN_MAXWAIT:  c = cmp_u64(a->max_wait_ns, b->max_wait_ns); break;
	case CN_EXPIRES:  c = (a->expires_ns > b->expires_ns) - (a->expires_ns < b->expires_ns); break;
	case CN_PARSE:    c = cmp_u64(a->parse_state, b->parse_state); break;
	case CN_PARTIAL:  c = cmp_u64(a->partial, b->partial); break;
	}
	if (c == 0)
		c = (a->fd > b->fd) - (a->fd < b->fd);
	return x->u->cn_desc ? -c : c;
}

/* ------------------------------------------------------------- preparing */

static bool ov_match(const struct seg *g, const char *f)
{
	long n;

	if (!*f)
		return true;
	if (filter_number(f, &n))
		return g->pid == n || g->port == (unsigned long)n;
	return strstr(g->model, f) != NULL;
}

static void prepare_overview(struct ui *u, struct sampler *s)
{
	struct seg **v = grow(u->ov, &u->ov_cap, s->nsegs + 1, sizeof(*u->ov));
	bool found = false;

	u->nov = 0;
	if (!v)
		return;
	u->ov = v;
	for (size_t i = 0; i < s->nsegs; i++)
		if (ov_match(s->segs[i], u->filter[VIEW_OVERVIEW]))
			u->ov[u->nov++] = s->segs[i];
	qsort_r(u->ov, u->nov, sizeof(*u->ov), ov_cmp, u);

	/* Follow the selected server wherever sorting put it; if it is gone, stay on the row. */
	for (size_t i = 0; i < u->nov; i++)
		if (u->ov[i]->pid == u->sel_pid) {
			u->ov_sel = i;
			found = true;
		}
	/* Its details were on screen: do not slide silently to another server's. */
	if (!found && u->sel_pid && u->view != VIEW_OVERVIEW && u->view != VIEW_PROBES)
		u->view = VIEW_OVERVIEW;
	if (u->ov_sel >= u->nov)
		u->ov_sel = u->nov ? u->nov - 1 : 0;
	u->sel_pid = u->nov ? u->ov[u->ov_sel]->pid : 0;
	u->ov_top = u->rows > 0 && u->ov_sel >= (size_t)u->rows ? u->ov_sel - (size_t)u->rows + 1 : 0;
}

struct seg *ui_selected(const struct ui *u)
{
	return u->nov ? u->ov[u->ov_sel] : NULL;
}

static bool cn_match(const struct conn_row *c, const char *f)
{
	long n;

	if (!*f)
		return true;
	if (filter_number(f, &n))
		return c->fd == n || c->peer_port == n;
	return strstr(tm_state_name(c->state), f) != NULL;
}

static void prepare_conns(struct ui *u, const struct seg *g)
{
	struct cn_ctx ctx = { u, g };
	size_t *v;

	u->ncn = 0;
	if (!g)
		return;
	if (g->pid != u->cn_pid) {          /* another server: start at its top */
		u->cn_pid = g->pid;
		u->cn_sel = u->cn_top = 0;
		u->sel_fd = -1;
		u->ev_follow = true;
	}
	v = grow(u->cn, &u->cn_cap, g->nconns + 1, sizeof(*u->cn));
	if (!v)
		return;
	u->cn = v;
	for (size_t i = 0; i < g->nconns; i++)
		if (cn_match(&g->conns[i], u->filter[VIEW_CONNS]))
			u->cn[u->ncn++] = i;
	qsort_r(u->cn, u->ncn, sizeof(*u->cn), cn_cmp, &ctx);
	for (size_t i = 0; i < u->ncn; i++)
		if (g->conns[u->cn[i]].fd == u->sel_fd)
			u->cn_sel = i;
	if (u->cn_sel >= u->ncn)
		u->cn_sel = u->ncn ? u->ncn - 1 : 0;
	u->sel_fd = u->ncn ? g->conns[u->cn[u->cn_sel]].fd : -1;
	/* Keep the selected connection on screen. */
	if (u->cn_sel < u->cn_top)
		u->cn_top = u->cn_sel;
	if (u->rows > 0 && u->cn_sel >= u->cn_top + (size_t)u->rows)
		u->cn_top = u->cn_sel - (size_t)u->rows + 1;
	if (u->cn_top >= u->ncn)
		u->cn_top = 0;
}

/* A number is an fd; text is found in the kind ("refused") or the decoded detail ("ECONNRESET"). */
bool ui_event_matches(const struct tm_event *e, const char *f)
{
	char detail[320];
	long n;

	if (!*f)
		return true;
	if (e->kind == 0)              /* "events lost" lines: only with no filter */
		return false;
	if (filter_number(f, &n))
		return e->fd == n;
	if (strstr(tm_event_name(e->kind), f))
		return true;
	return strstr(event_detail(e, detail, sizeof(detail)), f) != NULL;
}

static void prepare_events(struct ui *u, const struct seg *g)
{
	size_t n = g ? seg_log_count(g) : 0;
	size_t rows = (size_t)u->rows;
	size_t *v = grow(u->ev, &u->ev_cap, n + 1, sizeof(*u->ev));

	u->nev = 0;
	if (!v)
		return;
	u->ev = v;
	for (size_t i = 0; i < n; i++)
		if (ui_event_matches(seg_log_at(g, i), u->filter[VIEW_EVENTS]))
			u->ev[u->nev++] = i;
	if (!u->ev_follow) {
		/*
		 * Scrolled back: stay on the same event while new ones arrive and the
		 * oldest fall out of the viewer's ring (ring sequence numbers never repeat).
		 */
		size_t i = 0;

		while (i < u->nev &&
		       atomic_load_explicit(&seg_log_at(g, u->ev[i])->seq, memory_order_relaxed) < u->ev_anchor)
			i++;
		u->ev_top = i;
	}
	if (u->ev_follow || u->ev_top + rows > u->nev)
		u->ev_top = u->nev > rows ? u->nev - rows : 0;
}

bool ui_watched(const struct ui *u, int id)
{
	for (int i = 0; i < u->watch.n; i++)
		if (u->watch.id[i] == id)
			return true;
	return false;
}

/* Watched first, then the model's own counters that moved, the other nonzero ones, the zeros. */
static int ct_rank(const struct ui *u, const struct seg *g, int c)
{
	if (ui_watched(u, c))
		return 0;
	if (g->cnt[c] && counter_is_model_specific(c))
		return 1;
	return g->cnt[c] ? 2 : 3;
}

static void prepare_counters(struct ui *u, const struct seg *g)
{
	const char *f = u->filter[VIEW_COUNTERS];

	u->nct = 0;
	if (!g)
		return;
	for (int rank = 0; rank < 4; rank++)
		for (int c = 0; c < TM_NCOUNTERS_USED; c++)
			if (ct_rank(u, g, c) == rank && (!*f || strstr(tm_counter_names[c], f)))
				u->ct[u->nct++] = c;
	if (u->ct_top + (size_t)u->rows > u->nct)
		u->ct_top = u->nct > (size_t)u->rows ? u->nct - (size_t)u->rows : 0;
}

/* The probe view is a list of lines: a title per probe, then two lines per record shown. */
static void prepare_probes(struct ui *u, const struct sampler *s)
{
	const char *f = u->filter[VIEW_PROBES];

	u->pr_lines = 0;
	for (size_t i = 0; i < s->nsegs; i++) {
		const struct seg *g = s->segs[i];

		if (g->kind != TM_KIND_PROBE)
			continue;
		u->pr_lines++;
		for (unsigned j = 0; j < g->nprobes; j++)
			if (!*f || strstr(g->probes[j].mech, f) || strstr(g->probes[j].label, f))
				u->pr_lines += 2;
	}
	if (u->pr_top + (size_t)u->rows > u->pr_lines)
		u->pr_top = u->pr_lines > (size_t)u->rows ? u->pr_lines - (size_t)u->rows : 0;
}

void ui_prepare(struct ui *u, struct sampler *s, uint64_t now, int cols, int lines)
{
	struct seg *g;

	/* Geometry first: the lists below need to know how many rows there are. */
	u->cols = cols;
	u->lines = lines;
	u->top = list_top[u->view];
	u->rows = lines - 2 - u->top > 0 ? lines - 2 - u->top : 0;   /* status and key lines below */
	layout_overview(&u->ov_l, &u->watch, cols);
	layout_conns(&u->cn_l, cols);

	prepare_overview(u, s);
	g = ui_selected(u);
	/* A server with one loop per thread: a line per loop above its connections. */
	if (u->view == VIEW_CONNS && g && g->nloops) {
		u->top += (int)(g->nloops < LOOP_LINES ? g->nloops : LOOP_LINES);
		u->rows = lines - 2 - u->top > 0 ? lines - 2 - u->top : 0;
	}
	/* Read the event ring only for the server whose events are on screen. */
	for (size_t i = 0; i < s->nsegs; i++) {
		struct seg *x = s->segs[i];
		bool want = u->view == VIEW_EVENTS && x == g;

		if (want && !x->want_log) {
			x->want_log = true;
			seg_poll_log(x);
		}
		x->want_log = want;
	}
	/* Sorting 1000 connections ten times a second is wasted when they are not on screen. */
	if (u->view == VIEW_CONNS)
		prepare_conns(u, g);
	if (u->view == VIEW_COUNTERS)
		prepare_counters(u, g);
	if (u->view == VIEW_EVENTS)
		prepare_events(u, g);
	if (u->view == VIEW_PROBES)
		prepare_probes(u, s);
	if (u->view == VIEW_VERIFY && g &&
	    (u->vi.pid != g->pid || now - u->vi.when_ns >= VERIFY_EVERY_NS))
		verify_scan(g->pid, &u->vi, now);
}
