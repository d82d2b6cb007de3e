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
#include "viewer/draw.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "viewer/crt.h"
#include "viewer/paint.h"
#include "viewer/text.h"

/* ------------------------------------------------------------- the frame */

static void draw_title(const struct ui *u)
{
	char right[64], clock[16];
	time_t t = time(NULL);
	struct tm tm;
	int x;

	crt_fill(0, 0, u->cols, CR_TITLE);
	x = crt_put(0, 0, u->cols, CR_TITLE, " iolab-view ");
	for (int v = 0; v < NVIEWS; v++) {
		char tab[32];

		snprintf(tab, sizeof(tab), " %s ", view_names[v]);
		x += crt_put(0, x, u->cols - x, v == (int)u->view ? CR_TAB : CR_TITLE, tab);
	}
	localtime_r(&t, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	snprintf(right, sizeof(right), "%s every %.1fs  %s ", u->paused ? "PAUSED " : "",
		 u->interval_ms / 1000.0, clock);
	if (u->cols - (int)strlen(right) > x)
		crt_put(0, u->cols - (int)strlen(right), (int)strlen(right), u->paused ? CR_TAB : CR_TITLE, right);
	else if (u->paused)
		crt_put(0, u->cols - 7, 7, CR_TAB, "PAUSED ");   /* the clock may go; PAUSED may not */
}

static void draw_keys(const struct ui *u)
{
	static const char *const keys[][2] = {
		{ "F1", "Help" }, { "Tab", "View" }, { "Enter", "Open" }, { "p", "Pause" },
		{ "+-", "Rate" }, { "<>", "Sort" }, { "/", "Filter" }, { "c", "Counters" }, { "v", "Verify" },
		{ "q", "Quit" },
	};
	int y = u->lines - 1, x = 0;

	crt_fill(y, 0, u->cols, CR_NORMAL);
	if (u->editing) {
		char line[96];

		snprintf(line, sizeof(line), "%s filter (Enter apply, Esc cancel, empty = none): %s_",
			 view_names[u->view], u->edit);
		crt_put(y, 0, u->cols, CR_KEY, line);
		return;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && x < u->cols; i++) {
		x += crt_put(y, x, u->cols - x, CR_KEY, keys[i][0]);
		x += crt_put(y, x, u->cols - x, CR_NORMAL, keys[i][1]);
		x += crt_put(y, x, u->cols - x, CR_NORMAL, " ");
	}
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

/* A figure per wakeup: "1.23", or "1.23*" when the wakeups are the busy loop's turns. */
static void per_wake(double v, bool per_spin, char *buf, size_t len)
{
	char n[16];

	fmt_num(v, n, sizeof(n));
	snprintf(buf, len, "%s%s", n, per_spin && !isnan(v) ? "*" : "");
}

/* The text of one Overview cell. */
static void ov_cell(const struct ui *u, const struct seg *g, int key, char *b, size_t len)
{
	const struct rates *r = &g->r;
	bool rate;
	int w = ov_watch_index(key, &rate), id = w >= 0 && w < u->watch.n ? u->watch.id[w] : -1;

	switch (key) {
	case OV_MODEL:  snprintf(b, len, "%s", g->model); return;
	case OV_PID:    snprintf(b, len, "%d", (int)g->pid); return;
	case OV_PORT:   snprintf(b, len, "%u", g->port); return;
	case OV_CONNS:  fmt_count(g->cnt[TM_ACTIVE], b, len); return;
	case OV_MSGS:   fmt_num(r->msgs_s, b, len); return;
	case OV_MB:     fmt_num(r->mb_in_s, b, len); return;
	case OV_EAGRD:  fmt_num(r->eagain_rd_s, b, len); return;
	case OV_EAGWR:  fmt_num(r->eagain_wr_s, b, len); return;
	case OV_WAITS:  fmt_num(r->waits_s, b, len); return;
	case OV_EVWAKE: per_wake(r->ev_per_wake, r->per_spin, b, len); return;
	case OV_EMPTY:  per_wake(r->empty_pct, r->per_spin, b, len); return;
	case OV_SYSMSG: fmt_num(r->sys_per_msg, b, len); return;
	case OV_CPU:    fmt_num(r->cpu_pct, b, len); return;
	case OV_FAIR:
		if (isnan(r->fairness))
			snprintf(b, len, "-");
		else
			snprintf(b, len, "%.2f", r->fairness);
		return;
	case OV_STARVE: fmt_dur(r->starve_ns, b, len); return;
	}
	if (id >= DERIVED_BASE)
		per_wake(rates_derived(r, id - DERIVED_BASE), r->per_spin && id != DERIVED_BASE + DV_COMPLETIONS_PER_WAIT,
			 b, len);
	else if (id >= 0 && rate)
		counter_rate_text(id, r->cnt_s[id], b, len);
	else if (id >= 0)
		counter_total_text(id, g->cnt[id], b, len);
	else
		snprintf(b, len, "?");
}

static void ov_row(const struct ui *u, const struct seg *g, int y, bool sel)
{
	const struct layout *l = &u->ov_l;
	enum crt_role base = sel ? CR_SELECTED : g->status != SEG_LIVE ? CR_EXITED : CR_NORMAL;
	char b[64], spark[1024];

	if (sel)
		crt_fill(y, 0, u->cols, CR_SELECTED);
	for (int i = 0; i < l->n; i++) {
		int key = l->c[i].key;

		if (!l->shown[i])
			continue;
		if (key != OV_MODEL && key != OV_PID && key != OV_PORT &&
		    (g->status != SEG_LIVE || g->kind == TM_KIND_PROBE)) {
			char msg[128];

			/* An exited server or the probe: one message instead of figures. */
			if (g->status != SEG_LIVE)
				snprintf(msg, sizeof(msg), "%s %.1fs ago", g->exit_why ? g->exit_why : "exited",
					 (double)(tm_now() - g->exited_ns) / 1e9);
			else
				snprintf(msg, sizeof(msg), "probe: %u observation%s (Enter or Tab to Probes)",
					 g->nprobes, g->nprobes == 1 ? "" : "s");
			crt_put(y, l->x[i], u->cols - l->x[i], sel ? CR_SELECTED : g->status != SEG_LIVE ? CR_EXITED : CR_DIM, msg);
			return;
		}
		if (key == OV_SPARK) {
			sparkline(g, l->w[i], spark, sizeof(spark));
			crt_put(y, l->x[i], l->w[i], sel ? CR_SELECTED : CR_SPARK, spark);
			continue;
		}
		ov_cell(u, g, key, b, sizeof(b));
		paint_cell(y, l, i, key == OV_STARVE && g->r.starve_ns > u->starve_ns && !sel ? CR_STARVING : base, b);
	}
}

static void draw_overview(const struct ui *u, const struct sampler *s)
{
	const struct layout *l = &u->ov_l;
	unsigned nsrv = 0, nprobe = 0;
	char line[512], hid[64] = "", busy[64] = "";
	bool any_spin = false, any_rate = false, is_rate;

	for (int i = 0; i < l->n; i++)          /* at 80 columns the watched rates go first */
		any_rate |= l->shown[i] && ov_watch_index(l->c[i].key, &is_rate) >= 0 && is_rate;
	for (size_t i = 0; i < s->nsegs; i++) {
		s->segs[i]->kind == TM_KIND_PROBE ? nprobe++ : nsrv++;
		any_spin |= s->segs[i]->r.per_spin;
	}
	/* Most important first: a cut line loses its end. */
	if (l->hidden)
		snprintf(hid, sizeof(hid), "  %d column%s hidden (widen)", l->hidden, l->hidden > 1 ? "s" : "");
	if (any_spin)
		snprintf(busy, sizeof(busy), "  *=per loop turn (no waiting call)");
	snprintf(line, sizeof(line), "%u server%s, %u probe%s%s%s%s%s%s  in /dev/shm/%s.*",
		 nsrv, nsrv == 1 ? "" : "s", nprobe, nprobe == 1 ? "" : "s", hid,
		 u->filter[VIEW_OVERVIEW][0] ? "  filter: " : "", u->filter[VIEW_OVERVIEW],
		 !u->watch.n ? "" : any_rate ? "  watched: total, /s" : "  watched: totals", busy, tm_prefix());
	crt_put(1, 0, u->cols, CR_NORMAL, line);
	paint_header(2, u, l, u->ov_sort, u->ov_desc);

	if (u->nov == 0) {
		const char *msg = s->nsegs ? "Nothing matches the filter (/ then Enter on an empty line clears it)."
			: "No iolab server is running.  Start one in another terminal, e.g. bin/echo-epoll-lt";
		crt_put(u->top + 1, 2, u->cols - 2, CR_DIM, msg);
		if (s->opt.npids)
			crt_put(u->top + 2, 2, u->cols - 2, CR_DIM, "(showing only the pids given with --pid)");
		paint_status(u, s, NULL, CR_NORMAL);
		return;
	}
	for (size_t i = u->ov_top; i < u->nov && (int)(i - u->ov_top) < u->rows; i++)
		ov_row(u, u->ov[i], u->top + (int)(i - u->ov_top), i == u->ov_sel);
	snprintf(line, sizeof(line), "starving = ready but unserved > %.0fms;  c: all counters of the selected server",
		 (double)u->starve_ns / 1e6);
	paint_status(u, s, paint_recent_note(s) ? NULL : line, CR_DIM);
}

/* ------------------------------------------------------------------ probes */

static void draw_probes(const struct ui *u, const struct sampler *s)
{
	int got_w = u->cols - 70 > 14 ? u->cols - 70 : 14;
	size_t line_no = 0;
	char line[512], m1[160], m2[160];
	const char *f = u->filter[VIEW_PROBES];

	crt_put(1, 0, u->cols, CR_NORMAL, "What a nonblocking connect() looks like, as the probe saw it (masks in epoll bits)");
	crt_fill(2, 0, u->cols, CR_HEADER);
	snprintf(line, sizeof(line), "%-9s %-25s %-14s %-*s %s", "MECH", "CASE", "ASKED", got_w, "GOT", "SO_ERROR");
	crt_put(2, 0, u->cols, CR_HEADER, line);
#define EMIT(role, text) do { \
		if (line_no >= u->pr_top && (int)(line_no - u->pr_top) < u->rows) \
			crt_put(u->top + (int)(line_no - u->pr_top), 0, u->cols, role, text); \
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
			/* The GOT mask is whole: mask_fit picks the longest form that fits its width. */
			snprintf(line, sizeof(line), "%-9s %-25s %-14s %-*s %s", p->mech, p->label,
				 mask_text(p->registered, MASK_SHORT, m1, sizeof(m1)), got_w,
				 mask_fit(p->mask, got_w, m2, sizeof(m2)), errno_name(p->so_error));
			EMIT(CR_NORMAL, line);
			snprintf(line, sizeof(line), "          %s %s", crt_utf8 ? "\xe2\x86\x92" : "->", probe_explain(p));
			EMIT(CR_DIM, line);
		}
	}
#undef EMIT
	if (line_no == 0) {
		crt_put(u->top + 1, 2, u->cols - 2, CR_DIM, "No probe is running.  bin/iolab-probe shows what a nonblocking connect()");
		crt_put(u->top + 2, 2, u->cols - 2, CR_DIM, "looks like to epoll, poll and select; start it in another terminal.");
	}
	paint_status(u, s, NULL, CR_NORMAL);
}

/* ------------------------------------------------------------------ verify */

/*
 * Text over as many lines as it needs from (y, x), broken after a ',' or ' '
 * where possible, continuation lines indented.  Returns the next free line.
 */
static int put_wrapped(const struct ui *u, int y, int x, enum crt_role role, const char *text)
{
	int indent = 0;

	while (*text && y < u->lines - 2) {
		int w = u->cols - x - indent, n = (int)strlen(text);

		if (n > w && w > 10) {
			int cut = w;

			while (cut > w / 2 && text[cut - 1] != ',' && text[cut - 1] != ' ')
				cut--;
			n = cut > w / 2 ? cut : w;
		}
		{
			char part[512];

			snprintf(part, sizeof(part), "%.*s", n, text);
			crt_put(y++, x + indent, u->cols - x - indent, role, part);
		}
		text += n;
		indent = 4;
	}
	return y;
}

static void draw_verify(const struct ui *u, const struct sampler *s)
{
	const struct seg *g = ui_selected(u);
	struct verify_cmd cmds[VERIFY_MAX_CMDS];
	char line[512];
	int y = 3, n;

	if (!g) {
		crt_put(2, 2, u->cols - 2, CR_DIM, "No server selected: pick one in the Overview.");
		paint_status(u, s, NULL, CR_NORMAL);
		return;
	}
	snprintf(line, sizeof(line), "Verify %s (pid %d, port %u) from outside, in another terminal:", g->model,
		 (int)g->pid, g->port);
	crt_put(1, 0, u->cols, CR_NORMAL, line);
	n = verify_commands(g, &u->vi, cmds);
	for (int i = 0; i < n && y < u->lines - 3; i++) {
		y = put_wrapped(u, y, 2, CR_NOTE, cmds[i].cmd);   /* a command is whole, to be copied */
		crt_put(y++, 6, u->cols - 6, CR_DIM, cmds[i].why);
	}
	if (u->vi.fd_ok && y < u->lines - 3) {
		int fd = u->vi.epoll_fd >= 0 ? u->vi.epoll_fd : u->vi.uring_fd;
		const char *p = u->vi.fdinfo;

		snprintf(line, sizeof(line), "/proc/%d/fd: %d descriptors, %d sockets%s", (int)g->pid,
			 u->vi.nfds, u->vi.nsockets, fd >= 0 ? "; its fdinfo now:" : "");
		crt_put(++y, 0, u->cols, CR_NORMAL, line);
		y++;
		while (fd >= 0 && *p && y < u->lines - 2) {
			size_t len = strcspn(p, "\n");

			snprintf(line, sizeof(line), "  %.*s", (int)(len < 400 ? len : 400), p);
			crt_put(y++, 0, u->cols, CR_DIM, line);
			p += len + (p[len] == '\n');
		}
	} else if (!u->vi.fd_ok) {
		crt_put(++y, 0, u->cols, CR_NOTE, "cannot read /proc/PID/fd (another user's process? run as the same user)");
	}
	paint_status(u, s, NULL, CR_NORMAL);
}

/* -------------------------------------------------------------------- help */

static void draw_help(const struct ui *u)
{
	static const char *const keys[] = {
		"q, Esc        quit  (Esc in another view goes back to the Overview)",
		"h, ?, F1      this help; any key closes it",
		"Tab, S-Tab    next / previous view (the tabs at the top)",
		"Up Down j k   select;  PgUp PgDn, Home End (g G) jump",
		"Enter         open the selected server: its connections;  c its counters",
		"p, space      pause / resume (the figures freeze; keys still work)",
		"+ -           refresh faster / slower",
		"s > <, r      sort by the next / previous column; r reverses",
		"/             filter: model/pid/port, fd/state, counter, fd/event kind/text",
		"v             verify it yourself: strace, ss, /proc for this server",
		"Ctrl-L        redraw everything",
	};
	static const char *const cols[] = {
		"CONN    connections open now",   "MSG/s   messages echoed per second",
		"MB/s    megabytes read per s",   "EAGr/s  reads that found nothing",
		"EAGw/s  writes refused (full)",  "WAIT/s  waiting calls per second",
		"EV/WK   events per wakeup",      "EMPT%   wakeups that found nothing",
		"  *     busy loop: per spin",    "SYS/M   syscalls per message",
		"CPU%    of one core (/proc stat)", "FAIR    Jain's index, 1 = fair",
		"STARVE  longest wait now (ready conn)", "HISTORY MSG/s, scaled to its peak",
		"--watch NAME: total, then /s",   "Connections: masks in hex and by name",
	};
	char line[128];
	int y = 1, half = u->cols / 2;

	erase();
	crt_fill(0, 0, u->cols, CR_TITLE);
	crt_put(0, 0, u->cols, CR_TITLE, " iolab-view help: the I/O models live, from their telemetry in /dev/shm");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && y < u->lines - 1; i++)
		crt_put(y++, 1, u->cols - 1, CR_NORMAL, keys[i]);
	snprintf(line, sizeof(line), "Refresh every %.1fs.  Red: ready but unserved longer than %.0fms.",
		 u->interval_ms / 1000.0, (double)u->starve_ns / 1e6);
	crt_put(y++, 1, u->cols - 1, CR_NOTE, line);
	crt_put(y++, 1, u->cols - 1, CR_HEADER, " Overview columns (rates over the last refresh interval) ");
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]) && y < u->lines - 1; i += 2, y++) {
		crt_put(y, 1, half - 1, CR_NORMAL, cols[i]);
		crt_put(y, half, u->cols - half, CR_NORMAL, cols[i + 1]);
	}
	crt_put(u->lines - 1, 0, u->cols, CR_KEY, " any key: back ");
}

/* ------------------------------------------------------------------ entry */

void draw_screen(const struct ui *u, const struct sampler *s)
{
	if (u->cols < MIN_COLS || u->lines < MIN_LINES) {
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
	case VIEW_COUNTERS: draw_counters(u, s); break;
	case VIEW_EVENTS:   draw_events(u, s); break;
	case VIEW_PROBES:   draw_probes(u, s); break;
	case VIEW_VERIFY:   draw_verify(u, s); break;
	case NVIEWS:        break;
	}
	draw_keys(u);
	refresh();
}
