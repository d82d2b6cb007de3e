/*
 * draw.c — paint the model: title bar with the views as tabs, the view, a status
 * line and the key bar (htop's layout, so nobody has to learn a new one).
 *
 *   line 0           title bar: tabs, refresh period, PAUSED, clock
 *   lines 1..top-1   what the view is about (server, figures, sort, filter)
 *   top..LINES-3     the list (servers, connections, events, probes, commands)
 *   LINES-2          status: the newest note, or the selected row in full
 *   LINES-1          keys
 *
 * Drawing reads the model and never samples; it runs after a sample or a key,
 * not on a timer, and curses only sends the cells that changed.
 */
#include "viewer/ui.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "viewer/crt.h"
#include "viewer/text.h"

#define MAXCOLS 16

struct col {
	const char *title;
	int         width;     /* minimum width */
	int         prio;      /* 0 = always shown; the highest goes first when space is short */
	bool        left;      /* left-aligned (text) rather than right (numbers) */
	int         flex;      /* takes a share of spare width, up to flex columns more */
};

static const struct col ov_cols[OV_NCOLS] = {
	[OV_MODEL]  = { "MODEL",   11, 0, true,  0 },
	[OV_PID]    = { "PID",      7, 9, false, 0 },
	[OV_PORT]   = { "PORT",     5, 3, false, 0 },
	[OV_CONNS]  = { "CONN",     5, 1, false, 0 },
	[OV_MSGS]   = { "MSG/s",    5, 1, false, 0 },
	[OV_MB]     = { "MB/s",     5, 5, false, 0 },
	[OV_EAGRD]  = { "EAGr/s",   6, 4, false, 0 },
	[OV_EAGWR]  = { "EAGw/s",   6, 4, false, 0 },
	[OV_WAITS]  = { "WAIT/s",   6, 5, false, 0 },
	[OV_EVWAKE] = { "EV/WK",    5, 6, false, 0 },
	[OV_EMPTY]  = { "EMPT%",    5, 7, false, 0 },
	[OV_SYSMSG] = { "SYS/M",    5, 5, false, 0 },
	[OV_CPU]    = { "CPU%",     5, 2, false, 0 },
	[OV_FAIR]   = { "FAIR",     4, 3, false, 0 },
	[OV_STARVE] = { "STARVE",   6, 2, false, 0 },
	[OV_SPARK]  = { "MSG/s HISTORY", 6, 8, true, 200 },
};

static const struct col cn_cols[CN_NCOLS] = {
	[CN_FD]       = { "FD",        5, 0, false, 0 },
	[CN_PEER]     = { "PEER",      6, 6, true,  0 },
	[CN_STATE]    = { "STATE",     8, 1, true,  0 },
	[CN_INTEREST] = { "INTEREST",  6, 0, true,  30 },
	[CN_READY]    = { "LAST READY", 6, 0, true, 30 },
	[CN_IN]       = { "IN",        6, 2, false, 0 },
	[CN_OUT]      = { "OUT",       6, 2, false, 0 },
	[CN_EAGRD]    = { "EAGr",      5, 3, false, 0 },
	[CN_EAGWR]    = { "EAGw",      5, 3, false, 0 },
	[CN_QUEUED]   = { "QUEUED",    6, 4, false, 0 },
	[CN_WAIT]     = { "WAIT",      6, 1, false, 0 },
	[CN_MAXWAIT]  = { "MAXWAIT",   7, 1, false, 0 },
};

struct layout {
	int  x[MAXCOLS], w[MAXCOLS];
	bool shown[MAXCOLS];
	int  hidden;
};

/* Which columns fit in `avail`, at what x and width: drop by priority, then share the spare. */
static void layout_columns(const struct col *cols, int n, int avail, struct layout *l)
{
	int total = -1, nflex = 0, x = 0;

	memset(l, 0, sizeof(*l));
	for (int i = 0; i < n; i++) {
		l->shown[i] = true;
		l->w[i] = cols[i].width;
		total += cols[i].width + 1;
	}
	while (total > avail) {
		int drop = -1;

		for (int i = 0; i < n; i++)
			if (l->shown[i] && cols[i].prio > 0 && (drop < 0 || cols[i].prio >= cols[drop].prio))
				drop = i;
		if (drop < 0)
			break;
		l->shown[drop] = false;
		l->hidden++;
		total -= cols[drop].width + 1;
	}
	for (int i = 0; i < n; i++)
		nflex += l->shown[i] && cols[i].flex;
	for (int i = 0; i < n && nflex; i++) {
		int share = (avail - total) / nflex;

		if (!l->shown[i] || !cols[i].flex || share <= 0)
			continue;
		if (share > cols[i].flex)
			share = cols[i].flex;
		l->w[i] += share;
		total += share;
		nflex--;
	}
	for (int i = 0; i < n; i++) {
		l->x[i] = x;
		if (l->shown[i])
			x += l->w[i] + 1;
	}
}

/* Display columns of a UTF-8 string (every character we print is one column wide). */
static int text_cols(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* One cell: text aligned in its column (padding counted in columns, not bytes). */
static void put_cell(int y, const struct layout *l, int i, bool left, enum crt_role role, const char *text)
{
	char buf[512];
	int pad;

	if (!l->shown[i])
		return;
	pad = l->w[i] - text_cols(text);
	if (pad < 0)
		pad = 0;
	if (left)
		snprintf(buf, sizeof(buf), "%s%*s", text, pad, "");
	else
		snprintf(buf, sizeof(buf), "%*s%s", pad, "", text);
	crt_put(y, l->x[i], l->w[i], role, buf);
}

static void put_header(int y, const struct col *cols, int n, const struct layout *l, int sorted, bool desc)
{
	const char *arrow = crt_utf8 ? (desc ? "\xe2\x96\xbc" : "\xe2\x96\xb2") : (desc ? "v" : "^");

	crt_fill(y, 0, COLS, CR_HEADER);
	for (int i = 0; i < n; i++) {
		const char *title = cols[i].title;
		char t[64];

		if (!l->shown[i])
			continue;
		if ((int)strlen(title) > l->w[i] && strrchr(title, ' '))
			title = strrchr(title, ' ') + 1;     /* "MSG/s HISTORY" -> "HISTORY" when narrow */
		/* No room for the arrow: it takes the title's last letter ("MSG/s" -> "MSG/v"). */
		if (i == sorted && text_cols(title) >= l->w[i])
			snprintf(t, sizeof(t), "%.*s%s", l->w[i] - 1, title, arrow);
		else
			snprintf(t, sizeof(t), "%s%s", title, i == sorted ? arrow : "");
		put_cell(y, l, i, cols[i].left, i == sorted ? CR_SORTED : CR_HEADER, t);
	}
}

/* Text: "12.3k" / "-" for NAN. */
static const char *num(double v, char *buf, size_t len)
{
	return fmt_num(v, buf, len);
}

/* ------------------------------------------------------------- the frame */

static int list_top(enum view v)
{
	return v == VIEW_CONNS ? 4 : 3;
}

int draw_list_rows(const struct ui *u)
{
	int rows = LINES - 2 - list_top(u->view);

	return rows > 0 ? rows : 0;
}

static void draw_title(const struct ui *u)
{
	char right[64], clock[16];
	time_t t = time(NULL);
	struct tm tm;
	int x;

	crt_fill(0, 0, COLS, CR_TITLE);
	x = crt_put(0, 0, COLS, CR_TITLE, " iolab-view ");
	for (int v = 0; v < NVIEWS; v++) {
		char tab[32];

		snprintf(tab, sizeof(tab), " %s ", view_names[v]);
		x += crt_put(0, x, COLS - x, v == (int)u->view ? CR_TAB : CR_TITLE, tab);
	}
	localtime_r(&t, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	snprintf(right, sizeof(right), "%s every %.1fs  %s ", u->paused ? "PAUSED " : "",
		 u->interval_ms / 1000.0, clock);
	if (COLS - (int)strlen(right) > x)
		crt_put(0, COLS - (int)strlen(right), (int)strlen(right), u->paused ? CR_TAB : CR_TITLE, right);
}

static void draw_keys(const struct ui *u)
{
	static const char *const keys[][2] = {
		{ "F1", "Help" }, { "Tab", "View" }, { "Enter", "Open" }, { "p", "Pause" },
		{ "+-", "Rate" }, { "<>", "Sort" }, { "/", "Filter" }, { "v", "Verify" }, { "q", "Quit" },
	};
	int y = LINES - 1, x = 0;

	crt_fill(y, 0, COLS, CR_NORMAL);
	if (u->editing) {
		char line[96];

		snprintf(line, sizeof(line), "%s filter (Enter apply, Esc cancel, empty = none): %s_",
			 view_names[u->view], u->edit);
		crt_put(y, 0, COLS, CR_KEY, line);
		return;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && x < COLS; i++) {
		x += crt_put(y, x, COLS - x, CR_KEY, keys[i][0]);
		x += crt_put(y, x, COLS - x, CR_NORMAL, keys[i][1]);
		x += crt_put(y, x, COLS - x, CR_NORMAL, " ");
	}
}

#define NOTE_SHOW_NS (20ull * 1000000000ull)   /* a note stays on the status line this long */

static void draw_status(const struct sampler *s, const char *text, enum crt_role role)
{
	uint64_t when = 0;
	const char *note = sampler_note(s, 0, &when);

	if (!text && note && s->now_ns - when < NOTE_SHOW_NS) {
		text = note;
		role = CR_NOTE;
	}
	if (text)
		crt_put(LINES - 2, 0, COLS, role, text);
}

/* ---------------------------------------------------------------- overview */

/* The last `width` columns of messages/s history, scaled to its own peak. */
static void sparkline(const struct seg *g, int width, char *buf, size_t len)
{
	static const char ascii[] = " .:-=+*#";
	static const unsigned char left[] = { 0, 0x40, 0x44, 0x46, 0x47 };   /* braille dots 7,3,2,1 */
	static const unsigned char right[] = { 0, 0x80, 0xa0, 0xb0, 0xb8 };  /* dots 8,6,5,4 */
	int per = crt_utf8 ? 2 : 1;          /* samples per column */
	int n = (int)g->hist_len < width * per ? (int)g->hist_len : width * per;
	const float *h = g->hist + g->hist_len - n;
	size_t o = 0;
	float max = 0;

	for (int i = 0; i < n; i++)
		if (h[i] > max)
			max = h[i];
	/* Right-aligned: the newest sample is always at the right edge. */
	for (int c = 0; c < width - (n + per - 1) / per && o + 1 < len; c++)
		buf[o++] = ' ';
	for (int i = (n % per ? -1 : 0); i < n && o + 4 < len; i += per) {
		if (!crt_utf8) {
			buf[o++] = h[i] > 0 ? ascii[1 + (int)(h[i] / max * 6.999f)] : ' ';
			continue;
		}
		{
			int a = i >= 0 && h[i] > 0 ? 1 + (int)(h[i] / max * 3.999f) : 0;
			int b = h[i + 1] > 0 ? 1 + (int)(h[i + 1] / max * 3.999f) : 0;
			unsigned bits = left[a] | right[b];

			buf[o++] = (char)0xe2;        /* U+2800 + bits, in UTF-8 */
			buf[o++] = (char)(0xa0 + (bits >> 6));
			buf[o++] = (char)(0x80 + (bits & 0x3f));
		}
	}
	buf[o] = '\0';
}

static void ov_row(const struct ui *u, const struct seg *g, int y, const struct layout *l, bool sel)
{
	const struct rates *r = &g->r;
	enum crt_role base = sel ? CR_SELECTED : g->status != SEG_LIVE ? CR_EXITED : CR_NORMAL;
	char b[OV_NCOLS][48], spark[1024];

	if (sel)
		crt_fill(y, 0, COLS, CR_SELECTED);
	snprintf(b[OV_MODEL], sizeof(b[0]), "%s", g->model);
	snprintf(b[OV_PID], sizeof(b[0]), "%d", (int)g->pid);
	snprintf(b[OV_PORT], sizeof(b[0]), "%u", g->port);
	put_cell(y, l, OV_MODEL, true, base, b[OV_MODEL]);
	put_cell(y, l, OV_PID, false, base, b[OV_PID]);
	put_cell(y, l, OV_PORT, false, base, b[OV_PORT]);
	if (g->status != SEG_LIVE || g->kind == TM_KIND_PROBE) {
		char msg[128];

		if (g->status != SEG_LIVE)
			snprintf(msg, sizeof(msg), "%s %.1fs ago", g->exit_why ? g->exit_why : "exited",
				 (double)(tm_now() - g->exited_ns) / 1e9);
		else
			snprintf(msg, sizeof(msg), "probe: %u observation%s (Enter or Tab to Probes)",
				 g->nprobes, g->nprobes == 1 ? "" : "s");
		crt_put(y, l->x[OV_CONNS], COLS - l->x[OV_CONNS], sel ? CR_SELECTED : g->status != SEG_LIVE ? CR_EXITED : CR_DIM, msg);
		return;
	}
	fmt_count(g->cnt[TM_ACTIVE], b[OV_CONNS], sizeof(b[0]));
	num(r->msgs_s, b[OV_MSGS], sizeof(b[0]));
	num(r->mb_in_s, b[OV_MB], sizeof(b[0]));
	num(r->eagain_rd_s, b[OV_EAGRD], sizeof(b[0]));
	num(r->eagain_wr_s, b[OV_EAGWR], sizeof(b[0]));
	num(r->waits_s, b[OV_WAITS], sizeof(b[0]));
	num(r->ev_per_wake, b[OV_EVWAKE], sizeof(b[0]));
	num(r->empty_pct, b[OV_EMPTY], sizeof(b[0]));
	num(r->sys_per_msg, b[OV_SYSMSG], sizeof(b[0]));
	num(r->cpu_pct, b[OV_CPU], sizeof(b[0]));
	if (isnan(r->fairness))
		snprintf(b[OV_FAIR], sizeof(b[0]), "-");
	else
		snprintf(b[OV_FAIR], sizeof(b[0]), "%.2f", r->fairness);
	fmt_dur(r->starve_ns, b[OV_STARVE], sizeof(b[0]));
	for (int i = OV_CONNS; i < OV_SPARK; i++)
		put_cell(y, l, i, false, base, b[i]);
	if (r->starve_ns > u->starve_ns && !sel)
		put_cell(y, l, OV_STARVE, false, CR_STARVING, b[OV_STARVE]);
	if (l->shown[OV_SPARK]) {
		sparkline(g, l->w[OV_SPARK], spark, sizeof(spark));
		crt_put(y, l->x[OV_SPARK], l->w[OV_SPARK], sel ? CR_SELECTED : CR_SPARK, spark);
	}
}

static void draw_overview(struct ui *u, const struct sampler *s)
{
	struct layout l;
	unsigned nsrv = 0, nprobe = 0;
	char line[256], hid[64] = "";
	int top = list_top(VIEW_OVERVIEW), rows = draw_list_rows(u);
	size_t first;

	for (size_t i = 0; i < s->nsegs; i++)
		s->segs[i]->kind == TM_KIND_PROBE ? nprobe++ : nsrv++;
	layout_columns(ov_cols, OV_NCOLS, COLS, &l);
	if (l.hidden)
		snprintf(hid, sizeof(hid), "  (%d column%s hidden: widen the terminal)", l.hidden, l.hidden > 1 ? "s" : "");
	snprintf(line, sizeof(line), "%u server%s, %u probe%s in /dev/shm/%s.*   starving = ready but unserved > %.0fms%s%s%s",
		 nsrv, nsrv == 1 ? "" : "s", nprobe, nprobe == 1 ? "" : "s", tm_prefix(),
		 (double)u->starve_ns / 1e6, u->filter[VIEW_OVERVIEW][0] ? "   filter: " : "",
		 u->filter[VIEW_OVERVIEW], hid);
	crt_put(1, 0, COLS, CR_NORMAL, line);
	put_header(2, ov_cols, OV_NCOLS, &l, u->ov_sort, u->ov_desc);

	if (u->nov == 0) {
		const char *msg = s->nsegs ? "Nothing matches the filter (/ then Enter on an empty line clears it)."
			: "No iolab server is running.  Start one in another terminal, e.g. bin/echo-epoll-lt";
		crt_put(top + 1, 2, COLS - 2, CR_DIM, msg);
		if (s->opt.npids)
			crt_put(top + 2, 2, COLS - 2, CR_DIM, "(showing only the pids given with --pid)");
		draw_status(s, NULL, CR_NORMAL);
		return;
	}
	first = u->ov_sel >= (size_t)rows ? u->ov_sel - (size_t)rows + 1 : 0;
	for (size_t i = first; i < u->nov && (int)(i - first) < rows; i++)
		ov_row(u, u->ov[i], top + (int)(i - first), &l, i == u->ov_sel);
	draw_status(s, NULL, CR_NORMAL);
}

/* ------------------------------------------------------------- connections */

/* "42s", "3m05s", "2h07m": how long a server has been up. */
static char *fmt_uptime(uint64_t ns, char *buf, size_t len)
{
	unsigned long long sec = ns / 1000000000ull;

	if (sec < 60)
		snprintf(buf, len, "%llus", sec);
	else if (sec < 3600)
		snprintf(buf, len, "%llum%02llus", sec / 60, sec % 60);
	else
		snprintf(buf, len, "%lluh%02llum", sec / 3600, sec / 60 % 60);
	return buf;
}

static void draw_server_info(const struct seg *g, const struct ui *u)
{
	char line[512], up[24], d1[16], d2[16], fair[16], st[128];
	uint64_t now = tm_now();
	int x;

	fmt_uptime(g->start_mono_ns && now > g->start_mono_ns ? now - g->start_mono_ns : 0, up, sizeof(up));
	snprintf(line, sizeof(line), "%s  pid %d  %s:%u  waits in %s  up %s   %s", g->model, (int)g->pid,
		 g->addr, g->port, g->wait_call[0] ? g->wait_call : "?", up, g->options);
	crt_put(1, 0, COLS, CR_NORMAL, line);
	if (g->status != SEG_LIVE) {
		snprintf(line, sizeof(line), "this server has %s; it leaves the list in a few seconds",
			 g->exit_why ? g->exit_why : "exited");
		crt_put(2, 0, COLS, CR_EXITED, line);
		return;
	}
	if (isnan(g->r.fairness))
		snprintf(fair, sizeof(fair), "-");
	else
		snprintf(fair, sizeof(fair), "%.2f", g->r.fairness);
	snprintf(line, sizeof(line), "%llu connections  %s msg/s  %.2f MB/s  CPU %s%%  fairness %s  ",
		 (unsigned long long)g->cnt[TM_ACTIVE], fmt_num(g->r.msgs_s, d1, sizeof(d1)), g->r.mb_in_s,
		 fmt_num(g->r.cpu_pct, d2, sizeof(d2)), fair);
	x = crt_put(2, 0, COLS, CR_NORMAL, line);
	snprintf(st, sizeof(st), "%u starving (ready, unserved > %.0fms); longest now %s",
		 g->r.starving, (double)u->starve_ns / 1e6, fmt_dur(g->r.starve_ns, d1, sizeof(d1)));
	crt_put(2, x, COLS - x, g->r.starving ? CR_STARVING : CR_NORMAL, st);
}

static void cn_row(const struct conn_row *c, int y, const struct layout *l, bool sel)
{
	enum crt_role base = sel ? CR_SELECTED : c->starving ? CR_STARVING : CR_NORMAL;
	char b[CN_NCOLS][256];

	if (sel)
		crt_fill(y, 0, COLS, CR_SELECTED);
	snprintf(b[CN_FD], sizeof(b[0]), "%d", c->fd);
	snprintf(b[CN_PEER], sizeof(b[0]), ":%u", c->peer_port);
	snprintf(b[CN_STATE], sizeof(b[0]), "%s", tm_state_name(c->state));
	mask_fit(c->interest, l->w[CN_INTEREST], b[CN_INTEREST], sizeof(b[0]));
	mask_fit(c->ready, l->w[CN_READY], b[CN_READY], sizeof(b[0]));
	fmt_bytes(c->bytes_in, b[CN_IN], sizeof(b[0]));
	fmt_bytes(c->bytes_out, b[CN_OUT], sizeof(b[0]));
	fmt_count(c->eagain_rd, b[CN_EAGRD], sizeof(b[0]));
	fmt_count(c->eagain_wr, b[CN_EAGWR], sizeof(b[0]));
	fmt_bytes(c->queued, b[CN_QUEUED], sizeof(b[0]));
	fmt_dur(c->wait_ns, b[CN_WAIT], sizeof(b[0]));
	fmt_dur(c->max_wait_ns, b[CN_MAXWAIT], sizeof(b[0]));
	for (int i = 0; i < CN_NCOLS; i++)
		put_cell(y, l, i, cn_cols[i].left, base, b[i]);
}

static void draw_conns(struct ui *u, const struct sampler *s)
{
	const struct seg *g = ui_selected(u);
	int top = list_top(VIEW_CONNS), rows = draw_list_rows(u);
	struct layout l;
	char line[512], m1[160], m2[160];

	if (!g || g->kind == TM_KIND_PROBE) {
		crt_put(2, 2, COLS - 2, CR_DIM, g ? "This is the connect probe: its observations are in the Probes view (Tab)."
			: "No server selected: pick one in the Overview (Esc, then Up/Down and Enter).");
		draw_status(s, NULL, CR_NORMAL);
		return;
	}
	draw_server_info(g, u);
	if (g->status != SEG_LIVE) {            /* its last figures are above; no slots to show */
		draw_status(s, NULL, CR_NORMAL);
		return;
	}
	layout_columns(cn_cols, CN_NCOLS, COLS, &l);
	put_header(3, cn_cols, CN_NCOLS, &l, u->cn_sort, u->cn_desc);
	if (u->ncn == 0) {
		crt_put(top + 1, 2, COLS - 2, CR_DIM, u->filter[VIEW_CONNS][0] ? "No connection matches the filter."
			: "No connections.  Connect a client, e.g. bin/iolab-load or nc 127.0.0.1 PORT");
		draw_status(s, NULL, CR_NORMAL);
		return;
	}
	/* Keep the selected connection on screen. */
	if (u->cn_sel < u->cn_top)
		u->cn_top = u->cn_sel;
	if (rows > 0 && u->cn_sel >= u->cn_top + (size_t)rows)
		u->cn_top = u->cn_sel - (size_t)rows + 1;
	for (size_t i = u->cn_top; i < u->ncn && (int)(i - u->cn_top) < rows; i++)
		cn_row(&g->conns[u->cn[i]], top + (int)(i - u->cn_top), &l, i == u->cn_sel);
	{
		const struct conn_row *c = &g->conns[u->cn[u->cn_sel]];

		snprintf(line, sizeof(line), "fd %d  interest %s   last ready %s%s%s", c->fd,
			 mask_text(c->interest, MASK_LONG, m1, sizeof(m1)), mask_text(c->ready, MASK_LONG, m2, sizeof(m2)),
			 u->filter[VIEW_CONNS][0] ? "   filter: " : "", u->filter[VIEW_CONNS]);
		draw_status(s, line, CR_NORMAL);
	}
}

/* ------------------------------------------------------------------ events */

static void draw_events(struct ui *u, const struct sampler *s)
{
	const struct seg *g = ui_selected(u);
	int top = list_top(VIEW_EVENTS), rows = draw_list_rows(u);
	uint64_t missed;
	char line[512], detail[320];

	if (!g) {
		crt_put(2, 2, COLS - 2, CR_DIM, "No server selected: pick one in the Overview.");
		draw_status(s, NULL, CR_NORMAL);
		return;
	}
	missed = g->log ? g->log->missed_total : 0;
	snprintf(line, sizeof(line), "events of %s pid %d: %llu written, ring of %u; writers dropped %llu, viewer missed %llu%s%s",
		 g->model, (int)g->pid, (unsigned long long)g->log_head, g->rd.hdr ? g->rd.hdr->nlog : 0,
		 (unsigned long long)g->log_dropped, (unsigned long long)missed,
		 u->filter[VIEW_EVENTS][0] ? "   filter: " : "", u->filter[VIEW_EVENTS]);
	crt_put(1, 0, COLS, missed || g->log_dropped ? CR_NOTE : CR_NORMAL, line);
	crt_fill(2, 0, COLS, CR_HEADER);
	crt_put(2, 0, COLS, CR_HEADER, "      TIME(s)     FD  KIND         DETAIL");
	for (size_t i = u->ev_top; i < u->nev && (int)(i - u->ev_top) < rows; i++) {
		const struct tm_event *e = seg_log_at(g, u->ev[i]);
		double t = e->t_ns > g->start_mono_ns ? (double)(e->t_ns - g->start_mono_ns) / 1e9 : 0;
		int y = top + (int)(i - u->ev_top);

		event_detail(e, detail, sizeof(detail));
		if (e->kind == 0) {
			snprintf(line, sizeof(line), "  --- %s ---", detail);
			crt_put(y, 0, COLS, CR_NOTE, line);
			continue;
		}
		snprintf(line, sizeof(line), "%13.6f  %5d  %-11s  %s", t, e->fd, tm_event_name(e->kind), detail);
		crt_put(y, 0, COLS, e->kind == EV_EAGAIN_WR || e->kind == EV_CLOSE ? CR_DIM : CR_NORMAL, line);
	}
	if (u->nev == 0)
		crt_put(top + 1, 2, COLS - 2, CR_DIM, "No events yet (they appear as the server works).");
	draw_status(s, u->ev_follow ? "following the newest events (Up/PgUp to scroll back)"
		    : "scrolled back: End (or G) follows the newest again", CR_DIM);
}

/* ------------------------------------------------------------------ probes */

/* The probe view is a list of lines: a title per probe, then two lines per record. */
static void draw_probes(struct ui *u, const struct sampler *s)
{
	int top = list_top(VIEW_PROBES), rows = draw_list_rows(u), got_w;
	size_t line_no = 0;
	char line[512], m1[160], m2[160];
	const char *f = u->filter[VIEW_PROBES];

	got_w = COLS - 70 > 14 ? COLS - 70 : 14;
	crt_put(1, 0, COLS, CR_NORMAL, "What a nonblocking connect() looks like, as the probe saw it (masks in epoll bits)");
	crt_fill(2, 0, COLS, CR_HEADER);
	snprintf(line, sizeof(line), "%-9s %-25s %-14s %-*s %s", "MECH", "CASE", "ASKED", got_w, "GOT", "SO_ERROR");
	crt_put(2, 0, COLS, CR_HEADER, line);
#define EMIT(role, text) do { \
		if (line_no >= u->pr_top && (int)(line_no - u->pr_top) < rows) \
			crt_put(top + (int)(line_no - u->pr_top), 0, COLS, role, text); \
		line_no++; \
	} while (0)
	for (size_t i = 0; i < s->nsegs; i++) {
		const struct seg *g = s->segs[i];

		if (g->kind != TM_KIND_PROBE)
			continue;
		snprintf(line, sizeof(line), "probe pid %d%s  %s", (int)g->pid,
			 g->status != SEG_LIVE ? " (exited)" : "", g->options);
		EMIT(CR_NOTE, line);
		for (unsigned j = 0; j < g->nprobes; j++) {
			const struct tm_probe *p = &g->probes[j];

			if (*f && !strstr(p->mech, f) && !strstr(p->label, f))
				continue;
			snprintf(line, sizeof(line), "%-9s %-25s %-14s %-*s %s", p->mech, p->label,
				 mask_text(p->registered, MASK_SHORT, m1, sizeof(m1)), got_w,
				 mask_fit(p->mask, got_w, m2, sizeof(m2)), errno_name(p->so_error));
			EMIT(CR_NORMAL, line);
			snprintf(line, sizeof(line), "          %s %s", crt_utf8 ? "\xe2\x86\x92" : "->", probe_explain(p));
			EMIT(CR_DIM, line);
		}
	}
#undef EMIT
	u->pr_lines = line_no;
	if (line_no == 0) {
		crt_put(top + 1, 2, COLS - 2, CR_DIM, "No probe is running.  bin/iolab-probe shows what a nonblocking connect()");
		crt_put(top + 2, 2, COLS - 2, CR_DIM, "looks like to epoll, poll and select; start it in another terminal.");
	}
	draw_status(s, NULL, CR_NORMAL);
}

/* ------------------------------------------------------------------ verify */

static void draw_verify(struct ui *u, const struct sampler *s)
{
	const struct seg *g = ui_selected(u);
	struct verify_cmd cmds[VERIFY_MAX_CMDS];
	char line[512];
	int y = 3, n;

	if (!g) {
		crt_put(2, 2, COLS - 2, CR_DIM, "No server selected: pick one in the Overview.");
		draw_status(s, NULL, CR_NORMAL);
		return;
	}
	snprintf(line, sizeof(line), "Verify %s (pid %d, port %u) from outside: run these in another terminal", g->model,
		 (int)g->pid, g->port);
	crt_put(1, 0, COLS, CR_NORMAL, line);
	n = verify_commands(g, &u->vi, cmds);
	for (int i = 0; i < n && y < LINES - 3; i++) {
		crt_put(y++, 2, COLS - 2, CR_NOTE, cmds[i].cmd);
		crt_put(y++, 6, COLS - 6, CR_DIM, cmds[i].why);
	}
	if (u->vi.fd_ok && y < LINES - 3) {
		int fd = u->vi.epoll_fd >= 0 ? u->vi.epoll_fd : u->vi.uring_fd;
		const char *p = u->vi.fdinfo;

		snprintf(line, sizeof(line), "/proc/%d/fd: %d descriptors, %d sockets%s", (int)g->pid,
			 u->vi.nfds, u->vi.nsockets, fd >= 0 ? "; its fdinfo now:" : "");
		crt_put(++y, 0, COLS, CR_NORMAL, line);
		y++;
		while (fd >= 0 && *p && y < LINES - 2) {
			size_t len = strcspn(p, "\n");

			snprintf(line, sizeof(line), "  %.*s", (int)(len < 400 ? len : 400), p);
			crt_put(y++, 0, COLS, CR_DIM, line);
			p += len + (p[len] == '\n');
		}
	} else if (!u->vi.fd_ok) {
		crt_put(++y, 0, COLS, CR_NOTE, "cannot read /proc/PID/fd (another user's process? run as the same user)");
	}
	draw_status(s, NULL, CR_NORMAL);
}

/* -------------------------------------------------------------------- help */

static void draw_help(const struct ui *u)
{
	static const char *const keys[] = {
		"q, Esc        quit  (Esc in another view goes back to the Overview)",
		"h, ?, F1      this help; any key closes it",
		"Tab, S-Tab    next / previous view: Overview Connections Events Probes Verify",
		"Up Down j k   select;  PgUp PgDn, Home End (g G) jump",
		"Enter         open the selected server: its connections",
		"p, space      pause / resume (the figures freeze; keys still work)",
		"+ -           refresh faster / slower",
		"s > <, r      sort by the next / previous column; r reverses",
		"/             filter: model/pid/port, fd/state, fd/event kind",
		"v             verify it yourself: strace, ss, /proc for this server",
		"Ctrl-L        redraw everything",
	};
	static const char *const cols[] = {
		"CONN    connections open now",   "MSG/s   messages echoed per second",
		"MB/s    megabytes read per s",   "EAGr/s  reads that found nothing",
		"EAGw/s  writes refused (full)",  "WAIT/s  waiting calls per second",
		"EV/WK   events per wakeup",      "EMPT%   wakeups that found nothing",
		"SYS/M   syscalls per message",   "CPU%    of one core (/proc stat)",
		"FAIR    Jain's index, 1 = fair", "STARVE  longest wait of a ready conn",
		"HISTORY MSG/s, scaled to its row's peak", "Connections: masks in hex and by name",
	};
	char line[128];
	int y = 1, half = COLS / 2;

	erase();
	crt_fill(0, 0, COLS, CR_TITLE);
	crt_put(0, 0, COLS, CR_TITLE, " iolab-view help: the I/O models live, from their telemetry in /dev/shm");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && y < LINES - 1; i++)
		crt_put(y++, 1, COLS - 1, CR_NORMAL, keys[i]);
	snprintf(line, sizeof(line), "Refresh every %.1fs.  Red rows/cells: ready but unserved longer than %.0fms.",
		 u->interval_ms / 1000.0, (double)u->starve_ns / 1e6);
	crt_put(y++, 1, COLS - 1, CR_NOTE, line);
	crt_put(y++, 1, COLS - 1, CR_HEADER, " Overview columns (rates over the last refresh interval) ");
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]) && y < LINES - 1; i += 2, y++) {
		crt_put(y, 1, half - 1, CR_NORMAL, cols[i]);
		crt_put(y, half, COLS - half, CR_NORMAL, cols[i + 1]);
	}
	crt_put(LINES - 1, 0, COLS, CR_KEY, " any key: back ");
}

/* ------------------------------------------------------------------ entry */

void draw_screen(struct ui *u, const struct sampler *s)
{
	if (u->repaint) {
		clearok(curscr, TRUE);       /* Ctrl-L: repaint every cell, whatever the terminal shows */
		u->repaint = false;
	}
	if (COLS < MIN_COLS || LINES < MIN_LINES) {
		crt_too_small();
		return;
	}
	if (u->help) {
		draw_help(u);
		refresh();
		return;
	}
	erase();
	draw_title(u);
	switch (u->view) {
	case VIEW_OVERVIEW: draw_overview(u, s); break;
	case VIEW_CONNS:    draw_conns(u, s); break;
	case VIEW_EVENTS:   draw_events(u, s); break;
	case VIEW_PROBES:   draw_probes(u, s); break;
	case VIEW_VERIFY:   draw_verify(u, s); break;
	case NVIEWS:        break;
	}
	draw_keys(u);
	refresh();
}
