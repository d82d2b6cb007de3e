/*
 * ui.h — what the user is looking at: view, selection, sorting, filters, pause,
 * and the screen's geometry.
 *
 * The loop is htop's: sample (sample.c); then ui_prepare() orders and filters
 * the model for the current view and lays the screen out for its size (which
 * columns fit, how many rows, which rows are on screen); then draw_screen()
 * (draw.h) paints it, reading both and changing neither.  Keys go to ui_key().
 * Nothing in here calls curses: keys arrive as crt.h's codes.
 */
#ifndef IOLAB_VIEW_UI_H
#define IOLAB_VIEW_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "viewer/counters.h"
#include "viewer/layout.h"
#include "viewer/sample.h"
#include "viewer/verify.h"

enum view { VIEW_OVERVIEW, VIEW_CONNS, VIEW_COUNTERS, VIEW_EVENTS, VIEW_PROBES, VIEW_VERIFY, NVIEWS };
extern const char *const view_names[NVIEWS];

#define FILTER_LEN 32
#define LOOP_LINES 8       /* Connections view: one line per event loop (lab 20), at most this many */

struct ui {
	enum view  view;
	bool       help;              /* the help screen is over the view */
	bool       paused;
	bool       quit;
	bool       repaint;           /* Ctrl-L: the main loop has every cell repainted */
	int        interval_ms;       /* refresh period */
	uint64_t   starve_ns;         /* highlight threshold */
	struct watch watch;           /* --watch: figures the lab is about */

	/* Geometry, set by ui_prepare() for the terminal's size. */
	int        cols, lines;
	int        top, rows;         /* first line of the current view's list; lines it has */
	struct layout ov_l, cn_l;     /* the Overview's and the Connections' columns */

	/* Overview: the segments shown, in order. */
	struct seg **ov;
	size_t     nov, ov_cap;
	size_t     ov_sel, ov_top;    /* selected row; first row on screen */
	pid_t      sel_pid;           /* ... remembered by pid, so re-sorting keeps it */
	int        ov_sort;           /* a column key (enum ov_col or a watch key) */
	bool       ov_desc;

	/* Connections of the selected server: indices into seg->conns. */
	size_t    *cn;
	size_t     ncn, cn_cap;
	size_t     cn_sel, cn_top;
	int32_t    sel_fd;
	pid_t      cn_pid;            /* whose connections these are */
	int        cn_sort;           /* enum cn_col */
	bool       cn_desc;

	/* Counters of the selected server, in the order shown (watched, nonzero, zero). */
	int        ct[TM_NCOUNTERS_USED];
	size_t     nct, ct_top;

	/* Events of the selected server: indices into its log. */
	size_t    *ev;
	size_t     nev, ev_cap;
	size_t     ev_top;
	bool       ev_follow;         /* keep the newest at the bottom */
	uint64_t   ev_anchor;         /* scrolled back: ring sequence of the top event */

	size_t     pr_top;            /* first probe line shown */
	size_t     pr_lines;          /* probe lines there are */

	char       filter[NVIEWS][FILTER_LEN];
	bool       editing;           /* typing a filter */
	char       edit[FILTER_LEN];

	struct verify_info vi;
};

void ui_init(struct ui *u, int interval_ms, uint64_t starve_ns, const struct watch *w);
void ui_free(struct ui *u);
/* Order and filter the model for the current view, lay out a cols x lines screen, keep the selection. */
void ui_prepare(struct ui *u, struct sampler *s, uint64_t now, int cols, int lines);
/* The selected server, or NULL. */
struct seg *ui_selected(const struct ui *u);
/* Is this counter (or derived figure) one of --watch's? */
bool ui_watched(const struct ui *u, int id);
/* Does an event match the Events filter?  (kind name, fd, or its decoded detail) */
bool ui_event_matches(const struct tm_event *e, const char *filter);
/* Act on a key (enum crt_key).  Returns true if the screen needs drawing again. */
bool ui_key(struct ui *u, struct sampler *s, int key);

#endif
