/*
 * ui.h — what the user is looking at: view, selection, sorting, filters, pause.
 *
 * The loop is htop's: sample (sample.c), then ui_prepare() orders and filters
 * the model for the current view, then draw_screen() (draw.c) paints it; keys go
 * to ui_key().  Nothing in here calls curses except through crt.h key codes.
 */
#ifndef IOLAB_VIEW_UI_H
#define IOLAB_VIEW_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "viewer/sample.h"
#include "viewer/verify.h"

enum view { VIEW_OVERVIEW, VIEW_CONNS, VIEW_EVENTS, VIEW_PROBES, VIEW_VERIFY, NVIEWS };
extern const char *const view_names[NVIEWS];

/* Overview columns, left to right (also the sort keys). */
enum ov_col {
	OV_MODEL, OV_PID, OV_PORT, OV_CONNS, OV_MSGS, OV_MB, OV_EAGRD, OV_EAGWR, OV_WAITS,
	OV_EVWAKE, OV_EMPTY, OV_SYSMSG, OV_CPU, OV_FAIR, OV_STARVE, OV_SPARK, OV_NCOLS
};
/* Connection columns of the server detail view. */
enum cn_col {
	CN_FD, CN_PEER, CN_STATE, CN_INTEREST, CN_READY, CN_IN, CN_OUT, CN_EAGRD, CN_EAGWR,
	CN_QUEUED, CN_WAIT, CN_MAXWAIT, CN_NCOLS
};

#define FILTER_LEN 32

struct ui {
	enum view  view;
	bool       help;              /* the help screen is over the view */
	bool       paused;
	bool       quit;
	bool       repaint;           /* Ctrl-L: repaint every cell */
	int        interval_ms;       /* refresh period */
	uint64_t   starve_ns;         /* highlight threshold */

	/* Overview: the segments shown, in order. */
	struct seg **ov;
	size_t     nov, ov_cap;
	size_t     ov_sel;            /* selected row */
	pid_t      sel_pid;           /* ... remembered by pid, so re-sorting keeps it */
	int        ov_sort;           /* enum ov_col */
	bool       ov_desc;

	/* Connections of the selected server: indices into seg->conns. */
	size_t    *cn;
	size_t     ncn, cn_cap;
	size_t     cn_sel, cn_top;
	int32_t    sel_fd;
	pid_t      cn_pid;            /* whose connections these are */
	int        cn_sort;           /* enum cn_col */
	bool       cn_desc;

	/* Events of the selected server: indices into its log. */
	size_t    *ev;
	size_t     nev, ev_cap;
	size_t     ev_top;
	bool       ev_follow;         /* keep the newest at the bottom */
	uint64_t   ev_anchor;         /* scrolled back: ring sequence of the top event */

	size_t     pr_top;            /* first probe line shown */
	size_t     pr_lines;          /* probe lines there are (set by draw) */

	char       filter[NVIEWS][FILTER_LEN];
	bool       editing;           /* typing a filter */
	char       edit[FILTER_LEN];

	struct verify_info vi;
};

void ui_init(struct ui *u, int interval_ms, uint64_t starve_ns);
void ui_free(struct ui *u);
/* Order and filter the model for the current view; keep the selection. */
void ui_prepare(struct ui *u, struct sampler *s, uint64_t now);
/* The selected server, or NULL. */
struct seg *ui_selected(const struct ui *u);
/* Act on a key.  Returns true if the screen needs drawing again. */
bool ui_key(struct ui *u, struct sampler *s, int key);

/* draw.c: paint everything; how many list rows the current view has. */
void draw_screen(struct ui *u, const struct sampler *s);
int  draw_list_rows(const struct ui *u);

#endif
