/*
 * layout.h — which columns fit, where, and how wide: computed once per frame from
 * the terminal's size, before anything is drawn (htop sets a panel's geometry at
 * resize; drawing only reads it).
 *
 * A column has a priority: when the terminal is too narrow, the highest number
 * goes first; 0 is never dropped for a narrower one (the figures a lab is about:
 * PID, EV/WK, EMPT%, the interest masks, the --watch columns).  A column is shown
 * whole or not at all: a number is never cut into a different number.
 */
#ifndef IOLAB_VIEW_LAYOUT_H
#define IOLAB_VIEW_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "viewer/counters.h"

/* Overview columns (also the sort keys).  A watched figure i has keys OV_WATCH + 2i (total), + 2i + 1 (rate). */
enum ov_col {
	OV_MODEL, OV_PID, OV_PORT, OV_CONNS, OV_MSGS, OV_MB, OV_EAGRD, OV_EAGWR, OV_WAITS,
	OV_EVWAKE, OV_EMPTY, OV_SYSMSG, OV_CPU, OV_FAIR, OV_STARVE, OV_SPARK, OV_NFIXED,
	OV_WATCH = 64
};
/* Connection columns of the server detail view. */
enum cn_col {
	CN_FD, CN_PEER, CN_STATE, CN_INTEREST, CN_READY, CN_IN, CN_OUT, CN_EAGRD, CN_EAGWR,
	CN_QUEUED, CN_WAIT, CN_MAXWAIT, CN_PARTIAL, CN_EXPIRES, CN_PARSE, CN_NCOLS
};

#define MAXCOLS   (OV_NFIXED + 2 * MAX_WATCH)
#define TITLE_LEN 32

struct col {
	int   key;                 /* enum ov_col / cn_col, or a watch key */
	char  title[TITLE_LEN];
	int   width;               /* minimum width */
	int   prio;                /* 0 = never dropped; the highest goes first */
	bool  left;                /* text (left-aligned) rather than a number */
	int   flex;                /* takes up to this many more columns of spare width */
};

struct layout {
	int        n;              /* columns, left to right */
	struct col c[MAXCOLS];
	int        x[MAXCOLS], w[MAXCOLS];
	bool       shown[MAXCOLS];
	int        hidden;         /* columns that did not fit */
};

/* The Overview's columns for these watched figures, fitted into `avail` columns. */
void layout_overview(struct layout *l, const struct watch *w, int avail);
/* The Connections view's columns. */
void layout_conns(struct layout *l, int avail);
/* Index of the column with this key, or -1. */
int  layout_find(const struct layout *l, int key);
/* A watched figure's index from an Overview key, or -1 (is_rate: the /s column). */
int  ov_watch_index(int key, bool *is_rate);

/* Display columns of a UTF-8 string (every character we print is one column wide). */
int  text_cols(const char *s);
/* s in at most `width` columns: whole, or its head and tail around an ellipsis. */
char *ellipsize(const char *s, int width, bool utf8, char *buf, size_t len);

#endif
