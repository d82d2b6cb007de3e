/*
 * crt.h — everything curses: set-up, teardown, colours, keys (htop's CRT.c idea).
 *
 * No other file calls initscr()/endwin() or installs signal handlers; drawing code
 * asks for an attribute by role (crt_put(..., CR_STARVING, ...)) and never for a colour,
 * so NO_COLOR and monochrome terminals need no special cases anywhere else.
 */
#ifndef IOLAB_VIEW_CRT_H
#define IOLAB_VIEW_CRT_H

#include <stdbool.h>
#include <stddef.h>

#define MIN_COLS   80          /* below this the screen says so instead of drawing */
#define MIN_LINES  24

/*
 * Keys as crt_getkey() returns them: printable ASCII as itself, the rest as
 * these codes, so that no other file needs curses to understand a key.
 */
enum crt_key {
	K_NONE      = -1,      /* no key before the timeout (or a quit signal came) */
	K_TAB       = 9,
	K_ENTER     = '\n',    /* also Return, keypad Enter */
	K_CTRL_L    = 12,
	K_CTRL_U    = 21,
	K_ESC       = 27,
	K_BACKSPACE = 127,     /* also ^H and the terminal's backspace key */
	K_UP = 0x1000, K_DOWN, K_PGUP, K_PGDN, K_HOME, K_END,
	K_BTAB,                /* Shift-Tab */
	K_F1, K_F10,
	K_RESIZE,              /* the terminal changed size */
	K_OTHER,               /* a key the viewer has no use for */
};

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
/*
 * Only the quit handlers (SIGINT/SIGTERM/SIGHUP set crt_quit_requested()), no
 * terminal: for the batch path, which prints JSON and must end cleanly on Ctrl-C.
 */
void crt_catch_quit(void);
/* Ctrl-L: the next refresh repaints every cell. */
void crt_repaint(void);
/* A key (enum crt_key), or K_NONE after timeout_ms or when a quit signal came. */
int  crt_getkey(int timeout_ms);
/* SIGINT/SIGTERM/SIGHUP arrived: time to leave. */
bool crt_quit_requested(void);
/* Current size (after a K_RESIZE): what the layout step fits the screen to. */
int  crt_cols(void);
int  crt_lines(void);

/*
 * Text in at most maxw columns at (y, x), in the role's attribute.  Text that
 * does not fit is cut and ends with an ellipsis, so a cut is never mistaken for
 * the whole.  Returns the columns used.
 */
int  crt_put(int y, int x, int maxw, enum crt_role role, const char *s);
/* Fill columns x..x+w-1 of line y with spaces in a role (a bar). */
void crt_fill(int y, int x, int w, enum crt_role role);
/* Say that the terminal is too small, centred, in whatever space there is. */
void crt_too_small(void);

#endif
