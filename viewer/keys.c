/*
 * keys.c — what each key does to the ui: move, sort, filter, switch views, pause.
 *
 * Keys arrive as crt.h's codes (enum crt_key), never as curses' own.
 */
#include <stdint.h>
#include <string.h>

#include "viewer/crt.h"
#include "viewer/evlog.h"
#include "viewer/ui.h"

/* Refresh periods offered by + and - (ms). */
static const int intervals[] = { 100, 200, 250, 500, 1000, 2000, 5000 };
#define NINTERVALS (int)(sizeof(intervals) / sizeof(intervals[0]))

/* Names and identities read best smallest first; amounts biggest first; fairness worst first. */
static bool ov_natural_desc(int col)
{
	return col != OV_MODEL && col != OV_PID && col != OV_PORT && col != OV_FAIR;
}

static bool cn_natural_desc(int col)
{
	return col > CN_READY;
}

static void move_sel(size_t *sel, size_t n, long by)
{
	long v = (long)*sel + by;

	if (n == 0) {
		*sel = 0;
		return;
	}
	if (v < 0)
		v = 0;
	if (v >= (long)n)
		v = (long)n - 1;
	*sel = (size_t)v;
}

/* Ring sequence number of the first real event at or after row i of the event view. */
static uint64_t ev_seq_at(const struct ui *u, const struct seg *g, size_t i)
{
	for (; g && i < u->nev; i++) {
		const struct tm_event *e = seg_log_at(g, u->ev[i]);

		if (e->kind != 0)                  /* "events lost" lines carry no sequence */
			return atomic_load_explicit(&e->seq, memory_order_relaxed);
	}
	return UINT64_MAX;
}

/* Arrows, j/k, PgUp/PgDn, Home/End: move the selection (or scroll) in the current view. */
static bool key_move(struct ui *u, int key)
{
	long page = u->rows > 1 ? u->rows - 1 : 1;
	size_t rows = (size_t)u->rows;
	long by;

	switch (key) {
	case K_UP:    case 'k': by = -1; break;
	case K_DOWN:  case 'j': by = 1; break;
	case K_PGUP:            by = -page; break;
	case K_PGDN:            by = page; break;
	case K_HOME:  case 'g': by = -(1L << 30); break;
	case K_END:   case 'G': by = 1L << 30; break;
	default: return false;
	}
	switch (u->view) {
	case VIEW_OVERVIEW:
		move_sel(&u->ov_sel, u->nov, by);
		u->sel_pid = u->nov ? u->ov[u->ov_sel]->pid : 0;
		break;
	case VIEW_CONNS:
		move_sel(&u->cn_sel, u->ncn, by);
		u->sel_fd = -2;                 /* "take whatever is at cn_sel" on the next prepare */
		break;
	case VIEW_COUNTERS:
		move_sel(&u->ct_top, (u->nct > rows ? u->nct - rows : 0) + 1, by);
		break;
	case VIEW_EVENTS: {
		size_t max = u->nev > rows ? u->nev - rows : 0;

		move_sel(&u->ev_top, max + 1, by);
		u->ev_follow = u->ev_top >= max;   /* at the bottom again: follow new events */
		u->ev_anchor = ev_seq_at(u, ui_selected(u), u->ev_top);
		break;
	}
	case VIEW_PROBES:
		move_sel(&u->pr_top, (u->pr_lines > rows ? u->pr_lines - rows : 0) + 1, by);
		break;
	default:
		break;
	}
	return true;
}

static void key_sort(struct ui *u, int key)
{
	int step = key == '<' ? -1 : 1;

	if (u->view == VIEW_OVERVIEW) {
		if (key == 'r') {
			u->ov_desc = !u->ov_desc;
			return;
		}
		/* The next column on screen (the sparkline is not a key). */
		const struct layout *l = &u->ov_l;
		int i = layout_find(l, u->ov_sort);

		for (int tries = 0; tries < l->n; tries++) {
			i = ((i < 0 ? 0 : i) + step + l->n) % l->n;
			if (l->c[i].key != OV_SPARK)
				break;
		}
		if (l->n)
			u->ov_sort = l->c[i].key;
		u->ov_desc = ov_natural_desc(u->ov_sort);
	} else if (u->view == VIEW_CONNS) {
		if (key == 'r') {
			u->cn_desc = !u->cn_desc;
			return;
		}
		u->cn_sort = (u->cn_sort + step + CN_NCOLS) % CN_NCOLS;
		u->cn_desc = cn_natural_desc(u->cn_sort);
	}
}

static void key_rate(struct ui *u, int dir)
{
	int i = 0;

	while (i < NINTERVALS - 1 && intervals[i] < u->interval_ms)
		i++;
	i += dir;
	if (i < 0)
		i = 0;
	if (i >= NINTERVALS)
		i = NINTERVALS - 1;
	u->interval_ms = intervals[i];
}

/* Typing a filter: letters go into it, Enter applies, Esc cancels. */
static void key_edit(struct ui *u, int key)
{
	size_t len = strlen(u->edit);

	if (key == K_ESC) {
		u->editing = false;
	} else if (key == K_ENTER) {
		memcpy(u->filter[u->view], u->edit, sizeof(u->edit));
		u->editing = false;
		u->ev_follow = true;
	} else if (key == K_BACKSPACE) {
		if (len)
			u->edit[len - 1] = '\0';
	} else if (key == K_CTRL_U) {      /* clear, as in a shell */
		u->edit[0] = '\0';
	} else if (key >= 0x20 && key < 0x7f && len + 1 < sizeof(u->edit)) {
		u->edit[len] = (char)key;
		u->edit[len + 1] = '\0';
	}
}

bool ui_key(struct ui *u, struct sampler *s, int key)
{
	(void)s;
	if (key == K_NONE)
		return false;
	if (key == K_RESIZE)
		return true;
	if (u->editing) {
		key_edit(u, key);
		return true;
	}
	if (u->help) {                     /* any key closes help; q still quits */
		u->help = false;
		if (key == 'q' || key == K_F10)
			u->quit = true;
		return true;
	}
	if (key_move(u, key))
		return true;
	switch (key) {
	case 'q': case 'Q': case K_F10:
		u->quit = true;
		break;
	case K_ESC:                        /* back to the overview; from there, quit */
		if (u->view == VIEW_OVERVIEW)
			u->quit = true;
		else
			u->view = VIEW_OVERVIEW;
		break;
	case 'h': case '?': case K_F1:
		u->help = true;
		break;
	case K_TAB:
		u->view = (enum view)((u->view + 1) % NVIEWS);
		break;
	case K_BTAB:
		u->view = (enum view)((u->view + NVIEWS - 1) % NVIEWS);
		break;
	case K_ENTER:
		if (u->view == VIEW_OVERVIEW && u->nov)
			u->view = u->ov[u->ov_sel]->kind == TM_KIND_PROBE ? VIEW_PROBES : VIEW_CONNS;
		break;
	case 'p': case ' ':
		u->paused = !u->paused;
		break;
	case '+': case '=':
		key_rate(u, -1);               /* faster */
		break;
	case '-': case '_':
		key_rate(u, 1);
		break;
	case 's': case '>': case '<': case 'r':
		key_sort(u, key);
		break;
	case '/':
		u->editing = true;
		memcpy(u->edit, u->filter[u->view], sizeof(u->edit));
		break;
	case 'v':
		u->view = VIEW_VERIFY;
		break;
	case 'c':
		u->view = VIEW_COUNTERS;
		break;
	case K_CTRL_L:
		u->repaint = true;
		break;
	default:
		return false;
	}
	return true;
}
