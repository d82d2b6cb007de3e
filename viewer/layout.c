/*
 * layout.c — the column tables and the fitting of columns into a width.
 */
#include "viewer/layout.h"

#include <stdio.h>
#include <string.h>

/* The Overview's fixed columns, in display order; the watched ones go after EMPT%. */
static const struct col ov_fixed[OV_NFIXED] = {
	{ OV_MODEL,  "MODEL",   11, 0, true,  0 },
	{ OV_PID,    "PID",      7, 0, false, 0 },
	{ OV_PORT,   "PORT",     5, 3, false, 0 },
	{ OV_CONNS,  "CONN",     5, 2, false, 0 },
	{ OV_MSGS,   "MSG/s",    5, 2, false, 0 },
	{ OV_MB,     "MB/s",     5, 6, false, 0 },
	{ OV_EAGRD,  "EAGr/s",   6, 5, false, 0 },
	{ OV_EAGWR,  "EAGw/s",   6, 5, false, 0 },
	{ OV_WAITS,  "WAIT/s",   6, 4, false, 0 },
	/* Priority 1, the last to go: given up (after the watched rates) only when
	 * the lab's watched names would not fit otherwise. */
	{ OV_EVWAKE, "EV/WK",    6, 1, false, 0 },   /* "1.23k*": * = per loop turn */
	{ OV_EMPTY,  "EMPT%",    6, 1, false, 0 },
	{ OV_SYSMSG, "SYS/M",    5, 5, false, 0 },
	{ OV_CPU,    "CPU%",     5, 2, false, 0 },
	{ OV_FAIR,   "FAIR",     4, 3, false, 0 },
	{ OV_STARVE, "STARVE",   6, 2, false, 0 },
	{ OV_SPARK,  "MSG/s HISTORY", 6, 7, true, 200 },
};

static const struct col cn_table[CN_NCOLS] = {
	{ CN_FD,       "FD",         5, 0, false, 0 },
	{ CN_PEER,     "PEER",       6, 6, true,  0 },
	{ CN_STATE,    "STATE",      8, 1, true,  0 },
	/* Wide enough for any 32-bit mask in hex (0x80002005): whole, or the column is gone. */
	{ CN_INTEREST, "INTEREST",  10, 0, true,  30 },
	{ CN_READY,    "LAST READY", 10, 0, true, 30 },
	{ CN_IN,       "IN",         6, 2, false, 0 },
	{ CN_OUT,      "OUT",        6, 2, false, 0 },
	{ CN_EAGRD,    "EAGr",       5, 3, false, 0 },
	{ CN_EAGWR,    "EAGw",       5, 3, false, 0 },
	{ CN_QUEUED,   "QUEUED",     6, 4, false, 0 },
	{ CN_WAIT,     "WAIT",       6, 1, false, 0 },
	{ CN_MAXWAIT,  "MAXWAIT",    7, 1, false, 0 },
	{ CN_PARTIAL,  "PART",       5, 3, false, 0 },   /* bytes of an incomplete frame held */
	{ CN_EXPIRES,  "EXPIRES",    7, 7, false, 0 },   /* --idle-timeout/--heartbeat: due in */
	{ CN_PARSE,    "PARSE",      8, 8, true,  0 },   /* -f http: the parser's state */
};

#define WATCH_MIN   6          /* a watched total: "12.3k", "3m05s" */
#define WATCH_NAME  13         /* every counter name fits whole; longer (derived) names get an ellipsis unless there is room */
#define RATE_WIDTH  5

int text_cols(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

char *ellipsize(const char *s, int width, bool utf8, char *buf, size_t len)
{
	const char *dots = utf8 ? "\xe2\x80\xa6" : "~";
	int n = (int)strlen(s), head, tail;

	if (n <= width || width < 3) {          /* names are ASCII: bytes = columns */
		snprintf(buf, len, "%.*s", width < 0 ? 0 : width, s);
		return buf;
	}
	head = (width - 1 + 1) / 2;             /* the start names it, the end tells it apart */
	tail = width - 1 - head;
	snprintf(buf, len, "%.*s%s%s", head, s, dots, s + n - tail);
	return buf;
}

/* Which columns fit in `avail`, at what x and width: drop by priority, then share the spare. */
static void fit(struct layout *l, int avail)
{
	int total = -1, nflex = 0, x = 0;

	l->hidden = 0;
	for (int i = 0; i < l->n; i++) {
		l->shown[i] = true;
		l->w[i] = l->c[i].width;
		total += l->c[i].width + 1;
	}
	while (total > avail) {
		int drop = -1;

		for (int i = 0; i < l->n; i++)
			if (l->shown[i] && l->c[i].prio > 0 && (drop < 0 || l->c[i].prio >= l->c[drop].prio))
				drop = i;
		if (drop < 0)
			break;
		l->shown[drop] = false;
		l->hidden++;
		total -= l->c[drop].width + 1;
	}
	for (int i = 0; i < l->n; i++)
		nflex += l->shown[i] && l->c[i].flex;
	for (int i = 0; i < l->n && nflex; i++) {
		int share;

		if (!l->shown[i] || !l->c[i].flex)
			continue;
		share = (avail - total) / nflex--;
		if (share <= 0)
			continue;
		if (share > l->c[i].flex)
			share = l->c[i].flex;
		l->w[i] += share;
		total += share;
	}
	for (int i = 0; i < l->n; i++) {
		l->x[i] = x;
		if (!l->shown[i])
			continue;
		/* Even the never-dropped ones: a column that would be cut is not shown at all. */
		if (x + l->w[i] > avail) {
			l->shown[i] = false;
			l->hidden++;
			continue;
		}
		x += l->w[i] + 1;
	}
}

static void add(struct layout *l, const struct col *c)
{
	if (l->n < MAXCOLS)
		l->c[l->n++] = *c;
}

void layout_overview(struct layout *l, const struct watch *w, int avail)
{
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < OV_NFIXED; i++) {
		add(l, &ov_fixed[i]);
		if (ov_fixed[i].key != OV_EMPTY)
			continue;
		for (int j = 0; w && j < w->n; j++) {
			const char *name = watch_name(w->id[j]);
			int len = (int)strlen(name), width = len < WATCH_MIN ? WATCH_MIN : len > WATCH_NAME ? WATCH_NAME : len;
			struct col c = { OV_WATCH + 2 * j, "", width, 0, false, len > width ? len - width : 0 };

			snprintf(c.title, sizeof(c.title), "%s", name);
			add(l, &c);
			if (w->id[j] >= DERIVED_BASE)
				continue;                  /* a ratio has no total: one column */
			/* A watched name is never dropped; its rate is of priority 1, dropped
			 * rightmost first, so that at 80 columns every name stays on screen. */
			c = (struct col){ OV_WATCH + 2 * j + 1, "/s", RATE_WIDTH, 1, false, 0 };
			add(l, &c);
		}
	}
	fit(l, avail);
}

void layout_conns(struct layout *l, int avail)
{
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < CN_NCOLS; i++)
		add(l, &cn_table[i]);
	fit(l, avail);
}

int layout_find(const struct layout *l, int key)
{
	for (int i = 0; i < l->n; i++)
		if (l->c[i].key == key)
			return i;
	return -1;
}

int ov_watch_index(int key, bool *is_rate)
{
	if (key < OV_WATCH || key >= OV_WATCH + 2 * MAX_WATCH)
		return -1;
	if (is_rate)
		*is_rate = (key - OV_WATCH) % 2;
	return (key - OV_WATCH) / 2;
}
