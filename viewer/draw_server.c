/*
 * draw_server.c — one server's detail views: its connections (with its own
 * counters above them), all its counters, and its event log.
 *
 *   Connections  1-2 who it is and its headline figures, 3 starvation now and
 *                ever, 4 the counters the lab is about, 5 header, then one row
 *                per connection
 *   Counters     1-2 as above, 3 figures per wakeup, 4 header, one row per counter
 *   Events       1 the server's ring, 2 what the viewer holds of it and what it
 *                does not (and why), 3 header, then the events
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/http.h"
#include "viewer/draw.h"
#include "viewer/evlog.h"
#include "viewer/paint.h"
#include "viewer/text.h"

/* "scanned 12.3k 450/s" (or "scanned 12.3k" without the rate), or, for a derived figure, "scanned_per_wakeup 12.0". */
static void figure_text(const struct seg *g, int id, bool rate, char *buf, size_t len)
{
	char t[16], r[16];

	if (id >= DERIVED_BASE) {
		fmt_num(rates_derived(&g->r, id - DERIVED_BASE), t, sizeof(t));
		snprintf(buf, len, "%s %s", watch_name(id), t);
		return;
	}
	counter_total_text(id, g->cnt[id], t, sizeof(t));
	counter_rate_text(id, g->r.cnt_s[id], r, sizeof(r));
	if (counter_kind(id) == CK_GAUGE || !rate)
		snprintf(buf, len, "%s %s", watch_name(id), t);
	else
		snprintf(buf, len, "%s %s %s/s", watch_name(id), t, r);
}

/*
 * Line 4 of the Connections view: the figures --watch names (highlighted), or
 * else this model's own counters that have moved, by their telemetry names.
 * Whole items only: when the watched ones do not all fit with their rates
 * (80 columns, four or five names), they go without the rates; one that still
 * does not fit is left for the Counters view.
 */
static void counter_strip(const struct ui *u, const struct seg *g, int y)
{
	char item[96];
	int x = 0, shown = 0, left = 0;
	bool rate = true;

	for (int i = 0; i < u->watch.n; i++) {
		figure_text(g, u->watch.id[i], true, item, sizeof(item));
		x += text_cols(item) + 2;
	}
	if (x - 2 > u->cols - 14)
		rate = false;
	x = 0;
	for (int pass = 0; pass < 2; pass++) {
		int n = pass == 0 ? u->watch.n : TM_NCOUNTERS_USED;

		for (int i = 0; i < n; i++) {
			int id = pass == 0 ? u->watch.id[i] : i;

			if (pass == 1 && (u->watch.n || !g->cnt[id] || !counter_is_model_specific(id)))
				continue;
			figure_text(g, id, pass == 1 || rate, item, sizeof(item));
			if (x + text_cols(item) > u->cols - 14) {
				left++;
				continue;
			}
			x += crt_put(y, x, u->cols - x, pass == 0 ? CR_NOTE : CR_NORMAL, item) + 2;
			shown++;
		}
	}
	if (left) {
		snprintf(item, sizeof(item), "+%d more: c", left);
		crt_put(y, x, u->cols - x, CR_DIM, item);
	} else if (!shown) {
		crt_put(y, 0, u->cols, CR_DIM, "this model's own counters have not moved yet (c: all counters)");
	}
}

static void cn_row(const struct ui *u, const struct conn_row *c, int y, bool sel)
{
	const struct layout *l = &u->cn_l;
	enum crt_role base = sel ? CR_SELECTED : c->starving ? CR_STARVING : CR_NORMAL;
	char b[256];

	if (sel)
		crt_fill(y, 0, u->cols, CR_SELECTED);
	for (int i = 0; i < l->n; i++) {
		if (!l->shown[i])
			continue;
		switch (l->c[i].key) {
		case CN_FD:       snprintf(b, sizeof(b), "%d", c->fd); break;
		case CN_PEER:     snprintf(b, sizeof(b), ":%u", c->peer_port); break;
		case CN_STATE:    snprintf(b, sizeof(b), "%s", tm_state_name(c->state)); break;
		/* The column is at least as wide as any mask in hex: mask_fit never cuts the number. */
		case CN_INTEREST: mask_fit(c->interest, l->w[i], b, sizeof(b)); break;
		case CN_READY:    mask_fit(c->ready, l->w[i], b, sizeof(b)); break;
		case CN_IN:       fmt_bytes(c->bytes_in, b, sizeof(b)); break;
		case CN_OUT:      fmt_bytes(c->bytes_out, b, sizeof(b)); break;
		case CN_EAGRD:    fmt_count(c->eagain_rd, b, sizeof(b)); break;
		case CN_EAGWR:    fmt_count(c->eagain_wr, b, sizeof(b)); break;
		case CN_QUEUED:   fmt_bytes(c->queued, b, sizeof(b)); break;
		case CN_WAIT:     fmt_dur(c->wait_ns, b, sizeof(b)); break;
		case CN_MAXWAIT:  fmt_dur(c->max_wait_ns, b, sizeof(b)); break;
		case CN_EXPIRES:  if (c->expires_ns < 0) snprintf(b, sizeof(b), "-");
				  else fmt_dur((uint64_t)c->expires_ns, b, sizeof(b));
				  break;
		case CN_PARSE:    snprintf(b, sizeof(b), "%s", c->parse_state ? http_state_name(c->parse_state - 1) : "-"); break;
		case CN_PARTIAL:  fmt_bytes(c->partial, b, sizeof(b)); break;
		default:          b[0] = '\0';
		}
		paint_cell(y, l, i, base, b);
	}
}

/*
 * Lines 5.. of the Connections view for a server with one loop per thread (lab 20):
 * what each loop owns and does -- its connections, messages, wakeups (and how many
 * found nothing), the tasks handed to it and how long each waited to be picked up.
 */
static void loop_lines(const struct ui *u, const struct seg *g, int y)
{
	char line[256], m[16], w[16], mean[16], mx[16];

	for (unsigned i = 0; i < g->nloops && i < LOOP_LINES; i++) {
		const uint64_t *v = g->loop_cnt[i];
		const double *r = g->loop_s[i];
		double wk = r[TL_WAIT_CALLS];

		fmt_num(r[TL_FRAMES_IN], m, sizeof(m));
		fmt_num(wk, w, sizeof(w));
		fmt_dur(v[TL_TASKS] ? v[TL_HANDOVER_NS] / v[TL_TASKS] : 0, mean, sizeof(mean));
		fmt_dur(v[TL_HANDOVER_MAX_NS], mx, sizeof(mx));
		snprintf(line, sizeof(line), "loop %u: %3llu conns  %7s msg/s  %7s wakeups/s (%3.0f%% empty)  "
			 "tasks %llu, hand-over mean %s max %s", i, (unsigned long long)v[TL_ACTIVE], m, w,
			 wk > 0 ? 100.0 * r[TL_EMPTY_WAKEUPS] / wk : 0.0, (unsigned long long)v[TL_TASKS], mean, mx);
		crt_put(y + (int)i, 0, u->cols, CR_NORMAL, line);
	}
}

/* The status line for a connection: both masks whole, named as fully as the width allows. */
static void conn_status(const struct ui *u, const struct sampler *s, const struct conn_row *c)
{
	static const enum mask_style styles[] = { MASK_LONG, MASK_SHORT, MASK_HEX };
	char line[512], m1[160], m2[160], on_loop[24] = "";

	if (c->loop >= 0)
		snprintf(on_loop, sizeof(on_loop), " (loop %d)", (int)c->loop);

	for (size_t i = 0; i < sizeof(styles) / sizeof(styles[0]); i++) {
		snprintf(line, sizeof(line), "fd %d%s  interest %s   last ready %s%s%s", c->fd, on_loop, mask_text(c->interest, styles[i], m1, sizeof(m1)), mask_text(c->ready, styles[i], m2, sizeof(m2)),
			 u->filter[VIEW_CONNS][0] ? "   filter: " : "", u->filter[VIEW_CONNS]);
		if (text_cols(line) <= u->cols)
			break;
	}
	paint_status(u, s, line, CR_NORMAL);
}

/* The detail views need a live server; say why there is none. */
static bool need_server(const struct ui *u, const struct sampler *s, const struct seg *g)
{
	/* Only the connect probe has nothing here; another probe (iolab-wpath) has counters too. */
	if (g && (g->kind != TM_KIND_PROBE || strcmp(g->model, "probe") != 0))
		return true;
	crt_put(2, 2, u->cols - 2, CR_DIM, g ? "This is the connect probe: its observations are in the Probes view (Tab)."
		: "No server selected: pick one in the Overview (Esc, then Up/Down and Enter).");
	paint_status(u, s, NULL, CR_NORMAL);
	return false;
}

void draw_conns(const struct ui *u, const struct sampler *s)
{
	const struct seg *g = ui_selected(u);
	char line[512], d1[16], d2[16];

	if (!need_server(u, s, g))
		return;
	paint_server_info(u, g);
	if (g->status != SEG_LIVE) {            /* its last figures are above; no slots to show */
		paint_status(u, s, NULL, CR_NORMAL);
		return;
	}
	/* Two different questions: is anyone starving now, and what is the worst wait so far. */
	snprintf(line, sizeof(line), "now: %u starving (ready, unserved >%.0fms), longest wait %s;  ever: %s (MAXWAIT)",
		 g->r.starving, (double)u->starve_ns / 1e6, fmt_dur(g->r.starve_ns, d1, sizeof(d1)),
		 fmt_dur(g->r.max_wait_ns, d2, sizeof(d2)));
	crt_put(3, 0, u->cols, g->r.starving ? CR_STARVING : CR_NORMAL, line);
	counter_strip(u, g, 4);
	loop_lines(u, g, 5);
	paint_header(u->top - 1, u, &u->cn_l, u->cn_sort, u->cn_desc);
	if (u->ncn == 0) {
		crt_put(u->top + 1, 2, u->cols - 2, CR_DIM, u->filter[VIEW_CONNS][0] ? "No connection matches the filter."
			: "No connections.  Connect a client, e.g. bin/iolab-load or nc 127.0.0.1 PORT");
		paint_status(u, s, NULL, CR_NORMAL);
		return;
	}
	for (size_t i = u->cn_top; i < u->ncn && (int)(i - u->cn_top) < u->rows; i++)
		cn_row(u, &g->conns[u->cn[i]], u->top + (int)(i - u->cn_top), i == u->cn_sel);
	conn_status(u, s, &g->conns[u->cn[u->cn_sel]]);
}

/* ---------------------------------------------------------------- counters */

void draw_counters(const struct ui *u, const struct sampler *s)
{
	const struct seg *g = ui_selected(u);
	char line[512], d[DV_N][16];

	if (!need_server(u, s, g))
		return;
	paint_server_info(u, g);
	for (int i = 0; i < DV_N; i++)
		fmt_num(rates_derived(&g->r, i), d[i], sizeof(d[i]));
	if (!isnan(g->r.empty_pct))
		strcat(d[DV_EMPTY_PCT], "%");
	/* What a "wakeup" is, said where the figures are: the busy loop has no waiting call. */
	snprintf(line, sizeof(line), "per %s: events %s  scanned %s  empty %s;  completions per %s call %s",
		 g->r.per_spin ? "loop turn (spins: no waiting call)" : "wakeup", d[DV_EVENTS_PER_WAKEUP],
		 d[DV_SCANNED_PER_WAKEUP], d[DV_EMPTY_PCT], g->wait_call[0] ? g->wait_call : "waiting",
		 d[DV_COMPLETIONS_PER_WAIT]);
	crt_put(3, 0, u->cols, CR_NORMAL, line);
	crt_fill(4, 0, u->cols, CR_HEADER);
	crt_put(4, 0, u->cols, CR_HEADER, "  COUNTER           TOTAL   PER SEC  MEANING  (* = --watch)");
	for (size_t i = u->ct_top; i < u->nct && (int)(i - u->ct_top) < u->rows; i++) {
		int c = u->ct[i];
		bool w = ui_watched(u, c);
		char t[16], r[16];

		counter_total_text(c, g->cnt[c], t, sizeof(t));
		counter_rate_text(c, g->r.cnt_s[c], r, sizeof(r));
		snprintf(line, sizeof(line), "%s %-14s %8s %9s  %s", w ? "*" : " ", tm_counter_names[c], t, r,
			 counter_meaning(c));
		crt_put(u->top + (int)(i - u->ct_top), 0, u->cols, w ? CR_NOTE : g->cnt[c] ? CR_NORMAL : CR_DIM, line);
	}
	if (u->nct == 0)
		crt_put(u->top + 1, 2, u->cols - 2, CR_DIM, "No counter name matches the filter.");
	paint_status(u, s, "counters by their telemetry names (bin/iolab-stat prints the same); rates per second", CR_DIM);
}

/* ------------------------------------------------------------------ events */

void draw_events(const struct ui *u, const struct sampler *s)
{
	const struct seg *g = ui_selected(u);
	const struct log_ring *l;
	char line[512], detail[320], n1[16], n2[16], n3[16], n4[16], n5[16];

	if (!g) {
		crt_put(2, 2, u->cols - 2, CR_DIM, "No server selected: pick one in the Overview.");
		paint_status(u, s, NULL, CR_NORMAL);
		return;
	}
	l = g->log;
	snprintf(line, sizeof(line), "%s pid %d: %s events written, its ring keeps %u, writers dropped %s%s%s",
		 g->model, (int)g->pid, fmt_count(g->log_head, n1, sizeof(n1)), g->rd.hdr ? g->rd.nlog : 0,
		 fmt_count(g->log_dropped, n2, sizeof(n2)), u->filter[VIEW_EVENTS][0] ? "  filter: " : "",
		 u->filter[VIEW_EVENTS]);
	crt_put(1, 0, u->cols, g->log_dropped ? CR_NOTE : CR_NORMAL, line);
	if (l) {
		/* Three ways an event is not here, each counted apart. */
		snprintf(line, sizeof(line), "here %s of %s read; gone: %s before, %s overwritten unread, %s pushed out",
			 fmt_count(l->count, n1, sizeof(n1)), fmt_count(l->read_total, n2, sizeof(n2)),
			 fmt_count(l->before, n3, sizeof(n3)), fmt_count(l->missed_total, n4, sizeof(n4)),
			 fmt_count(l->dropped, n5, sizeof(n5)));
		crt_put(2, 0, u->cols, l->missed_total ? CR_NOTE : CR_DIM, line);
	}
	crt_fill(3, 0, u->cols, CR_HEADER);
	crt_put(3, 0, u->cols, CR_HEADER, "      TIME(s)     FD  KIND         DETAIL");
	for (size_t i = u->ev_top; i < u->nev && (int)(i - u->ev_top) < u->rows; i++) {
		const struct tm_event *e = seg_log_at(g, u->ev[i]);
		double t = e->t_ns > g->start_mono_ns ? (double)(e->t_ns - g->start_mono_ns) / 1e9 : 0;
		int y = u->top + (int)(i - u->ev_top);

		event_detail(e, detail, sizeof(detail));
		if (e->kind == 0) {
			snprintf(line, sizeof(line), "  --- %s ---", detail);
			crt_put(y, 0, u->cols, CR_NOTE, line);
			continue;
		}
		snprintf(line, sizeof(line), "%13.6f  %5d  %-11s  %s", t, e->fd, tm_event_name(e->kind), detail);
		crt_put(y, 0, u->cols, e->kind == EV_EAGAIN_WR || e->kind == EV_CLOSE ? CR_DIM : CR_NORMAL, line);
	}
	if (u->nev == 0 && u->filter[VIEW_EVENTS][0] && seg_log_count(g)) {
		snprintf(line, sizeof(line), "No event matches '%s' (of %zu held: kind, fd or detail text).  / then Enter clears it.",
			 u->filter[VIEW_EVENTS], seg_log_count(g));
		crt_put(u->top + 1, 2, u->cols - 2, CR_DIM, line);
	} else if (u->nev == 0) {
		crt_put(u->top + 1, 2, u->cols - 2, CR_DIM, "No events yet (they appear as the server works).");
	}
	paint_status(u, s, u->ev_follow ? "following the newest events (Up/PgUp to scroll back)"
		     : "scrolled back: End (or G) follows the newest again", CR_DIM);
}
