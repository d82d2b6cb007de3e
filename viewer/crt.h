/*
 * crt.h — everything curses: set-up, teardown, colours, keys (htop's CRT.c idea).
 *
 * No other file calls initscr()/endwin() or installs signal handlers; drawing code
 * asks for an attribute by role (crt_attr(CR_STARVING)) and never for a colour,
 * so NO_COLOR and monochrome terminals need no special cases anywhere else.
 */
#ifndef IOLAB_VIEW_CRT_H
#define IOLAB_VIEW_CRT_H

#include <stdbool.h>
#include <stddef.h>

#define MIN_COLS   80          /* below this the screen says so instead of drawing */
#define MIN_LINES  24

#define KEY_ESCAPE 27
#define KEY_TABKEY 9
#define KEY_CTRL_L 12
#define KEY_CTRL_C 3

/* What a piece of text is, not what colour it gets. */
enum crt_role {
	CR_NORMAL,
	CR_TITLE,        /* top bar */
	CR_TAB,          /* the current view's name in the top bar */
	CR_HEADER,       /* column titles */
	CR_SORTED,       /* the column the table is sorted by */
	CR_SELECTED,     /* the selected row */
	CR_STARVING,     /* a connection (or server) waiting past the threshold */
	CR_EXITED,       /* a server that has gone */
	CR_NOTE,         /* notes: garbage segment ignored, server exited... */
	CR_SPARK,        /* the messages/s sparkline */
	CR_KEY,          /* a key name in the footer */
	CR_DIM,          /* secondary text: explanations */
	CR_NROLES
};

extern bool crt_utf8;      /* the terminal takes UTF-8 (braille sparklines, arrows) */
extern bool crt_colors;    /* colours in use (not NO_COLOR, terminal has them) */

/*
 * Start curses on the terminal.  Returns 0, or -1 with a message in err (no
 * terminal, unknown TERM).  Installs the handlers that restore the terminal on
 * SIGINT/SIGTERM/SIGHUP (by asking the main loop to quit) and on a crash signal.
 */
int  crt_init(bool no_color, bool force_ascii, char *err, size_t errlen);
/* Restore the terminal (idempotent). */
void crt_done(void);
/* A key, or ERR after timeout_ms (KEY_RESIZE on resize).  Also ERR when a quit signal came. */
int  crt_getkey(int timeout_ms);
/* SIGINT/SIGTERM/SIGHUP arrived: time to leave. */
bool crt_quit_requested(void);
/* Current size (after a KEY_RESIZE). */
int  crt_cols(void);
int  crt_lines(void);
int  crt_attr(enum crt_role role);

/* Clipped text: at most maxw columns of s at (y, x) in the role's attribute. Returns columns used. */
int  crt_put(int y, int x, int maxw, enum crt_role role, const char *s);
/* Fill columns x..x+w-1 of line y with spaces in a role (a bar). */
void crt_fill(int y, int x, int w, enum crt_role role);
/* Say that the terminal is too small, centred, in whatever space there is. */
void crt_too_small(void);

#endif
