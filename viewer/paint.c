/*
 * paint.c — pieces every view uses: a table's cells and header, the status line,
 * and the two lines that say which server a detail view is about.  They read the
 * ui and the model and change neither.
 */
#include "viewer/paint.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "viewer/text.h"

void paint_cell(int y, const struct layout *l, int i, enum crt_role role, const char *text)
{
	char buf[512];
	int pad;

	if (i < 0 || !l->shown[i])
		return;
	pad = l->w[i] - text_cols(text);
	if (pad < 0)
		pad = 0;
	if (l->c[i].left)
		snprintf(buf, sizeof(buf), "%s%*s", text, pad, "");
	else
		snprintf(buf, sizeof(buf), "%*s%s", pad, "", text);
	crt_put(y, l->x[i], l->w[i], role, buf);
}

void paint_header(int y, const struct ui *u, const struct layout *l, int sorted, bool desc)
{
	const char *arrow = crt_utf8 ? (desc ? "\xe2\x96\xbc" : "\xe2\x96\xb2") : (desc ? "v" : "^");

	crt_fill(y, 0, u->cols, CR_HEADER);
	for (int i = 0; i < l->n; i++) {
		const char *title = l->c[i].title;
		bool is_sorted = l->c[i].key == sorted;
		int room = l->w[i] - (is_sorted ? 1 : 0);
		char t[80], cut[64];

		if (!l->shown[i])
			continue;
		if ((int)strlen(title) > room && strrchr(title, ' '))
			title = strrchr(title, ' ') + 1;     /* "MSG/s HISTORY" -> "HISTORY" when narrow */
		/* A name that does not fit keeps its head and tail around an ellipsis; the arrow stays. */
		ellipsize(title, room, crt_utf8, cut, sizeof(cut));
		snprintf(t, sizeof(t), "%s%s", cut, is_sorted ? arrow : "");
		paint_cell(y, l, i, is_sorted ? CR_SORTED : CR_HEADER, t);
	}
}

#define NOTE_SHOW_NS (20ull * 1000000000ull)   /* a note stays on the status line this long */

bool paint_recent_note(const struct sampler *s)
{
	uint64_t when = 0;

	return sampler_note(s, 0, &when) && s->now_ns - when < NOTE_SHOW_NS;
}

void paint_status(const struct ui *u, const struct sampler *s, const char *text, enum crt_role role)
{
	uint64_t when = 0;
	const char *note = sampler_note(s, 0, &when);

	if (!text && note && s->now_ns - when < NOTE_SHOW_NS) {
		text = note;
		role = CR_NOTE;
	}
	if (text)
		crt_put(u->lines - 2, 0, u->cols, role, text);
}

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

void paint_server_info(const struct ui *u, const struct seg *g)
{
	char line[640], up[24], d1[16], d2[16], fair[16];
	uint64_t now = tm_now();

	fmt_uptime(g->start_mono_ns && now > g->start_mono_ns ? now - g->start_mono_ns : 0, up, sizeof(up));
	snprintf(line, sizeof(line), "%s  pid %d  %s:%u  waits in %s  up %s  %s", g->model, (int)g->pid,
		 g->addr, g->port, g->wait_call[0] ? g->wait_call : "?", up,
		 g->options);   /* the server publishes only the options that apply to its model */
	crt_put(1, 0, u->cols, CR_NORMAL, line);
	if (g->status != SEG_LIVE) {
		snprintf(line, sizeof(line), "this server has %s; it leaves the list in a few seconds",
			 g->exit_why ? g->exit_why : "exited");
		crt_put(2, 0, u->cols, CR_EXITED, line);
		return;
	}
	if (isnan(g->r.fairness))
		snprintf(fair, sizeof(fair), "-");
	else
		snprintf(fair, sizeof(fair), "%.2f", g->r.fairness);
	snprintf(line, sizeof(line), "%llu connection%s  %s msg/s  %.2f MB/s  CPU %s%%  fairness %s",
		 (unsigned long long)g->cnt[TM_ACTIVE], g->cnt[TM_ACTIVE] == 1 ? "" : "s", fmt_num(g->r.msgs_s, d1, sizeof(d1)), g->r.mb_in_s,
		 fmt_num(g->r.cpu_pct, d2, sizeof(d2)), fair);
	crt_put(2, 0, u->cols, CR_NORMAL, line);
}
