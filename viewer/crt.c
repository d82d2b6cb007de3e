/*
 * crt.c — curses set-up and teardown, colours by role, keys, signals.
 *
 * The terminal must come back sane however the viewer leaves: q, Ctrl-C (SIGINT
 * asks the main loop to quit, which then calls crt_done()), SIGTERM/SIGHUP (same),
 * exit() (atexit), and a crash signal (the handler restores the terminal and then
 * lets the signal do what it would have done: core dump, sanitizer report).
 */
#include "viewer/crt.h"

#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool crt_utf8;
bool crt_colors;

static volatile sig_atomic_t quit_signal;   /* set by SIGINT/SIGTERM/SIGHUP */
static volatile sig_atomic_t active;        /* curses is running: endwin() is due */
static SCREEN *screen;
static int role_attr[CR_NROLES];

static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
#define NCRASH (sizeof(crash_signals) / sizeof(crash_signals[0]))
static struct sigaction crash_old[NCRASH];   /* what was there before (default, or a sanitizer's) */

static void on_quit(int sig)
{
	(void)sig;
	quit_signal = 1;    /* the main loop notices: getch() returns at once (no SA_RESTART) */
}

static void on_crash(int sig, siginfo_t *si, void *ctx)
{
	static const char msg[] = "iolab-view: fatal signal, terminal restored\n";

	(void)ctx;
	/*
	 * endwin() is not async-signal-safe, but the process is dying and a terminal
	 * left in raw mode without echo is worse (htop makes the same trade).
	 */
	if (active) {
		active = 0;
		endwin();
	}
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing more we can do */
	}
	for (size_t i = 0; i < NCRASH; i++)
		if (crash_signals[i] == sig)
			sigaction(sig, &crash_old[i], NULL);
	/*
	 * Sent by kill() or raise() (si_code <= 0): send it again; it stays pending
	 * until we return, then meets the old action.  A real fault needs nothing:
	 * returning re-runs the faulting instruction, which faults again.
	 */
	if (si->si_code <= 0)
		raise(sig);
}

void crt_catch_quit(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_quit;            /* no SA_RESTART: a blocked getch() or sleep returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void install_signals(void)
{
	struct sigaction sa;

	crt_catch_quit();
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = on_crash;
	sa.sa_flags = SA_SIGINFO;
	for (size_t i = 0; i < NCRASH; i++)
		sigaction(crash_signals[i], &sa, &crash_old[i]);
}

/* Colour pairs per role when there are colours; plain attributes when there are not. */
static void setup_roles(bool want_color)
{
	static const struct { short fg, bg; int extra; int mono; } map[CR_NROLES] = {
		[CR_NORMAL]   = { -1, -1, 0, 0 },
		[CR_TITLE]    = { COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE },
		[CR_TAB]      = { COLOR_WHITE, COLOR_BLUE, A_BOLD, A_BOLD },
		[CR_HEADER]   = { COLOR_BLACK, COLOR_GREEN, 0, A_REVERSE },
		[CR_SORTED]   = { COLOR_BLACK, COLOR_CYAN, A_BOLD, A_BOLD | A_UNDERLINE },
		[CR_SELECTED] = { COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE | A_BOLD },
		[CR_STARVING] = { COLOR_RED, -1, A_BOLD, A_BOLD | A_UNDERLINE },
		[CR_EXITED]   = { COLOR_BLUE, -1, A_BOLD, A_DIM },
		[CR_NOTE]     = { COLOR_YELLOW, -1, A_BOLD, A_BOLD },
		[CR_SPARK]    = { COLOR_GREEN, -1, 0, 0 },
		[CR_KEY]      = { COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE },
		[CR_DIM]      = { COLOR_CYAN, -1, 0, A_DIM },
	};

	crt_colors = want_color && has_colors();
	if (crt_colors) {
		start_color();
		use_default_colors();          /* -1: keep the terminal's own background */
	}
	for (int r = 0; r < CR_NROLES; r++) {
		if (!crt_colors) {
			role_attr[r] = map[r].mono;
			continue;
		}
		init_pair((short)(r + 1), map[r].fg, map[r].bg);
		role_attr[r] = (int)COLOR_PAIR(r + 1) | map[r].extra;
	}
}

int crt_init(bool no_color, bool force_ascii, char *err, size_t errlen)
{
	const char *nc = getenv("NO_COLOR");   /* no-color.org: present and not empty */
	const char *term = getenv("TERM");

	setlocale(LC_ALL, "");
	crt_utf8 = !force_ascii && strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		snprintf(err, errlen, "not a terminal (use --batch for JSON lines)");
		return -1;
	}
	/* Our handlers first: ncurses then leaves SIGINT/SIGTERM alone (it only takes SIG_DFL ones). */
	install_signals();
	screen = newterm(NULL, stdout, stdin);
	if (!screen) {
		snprintf(err, errlen, "cannot start curses with TERM=%s (try TERM=xterm, or --batch)",
			 term ? term : "(unset)");
		return -1;
	}
	set_term(screen);
	{
		const char *cup = tigetstr("cup");

		/* TERM=dumb and friends cannot place the cursor: every frame would be garbage. */
		if (!cup || cup == (const char *)-1) {
			endwin();
			delscreen(screen);
			screen = NULL;
			snprintf(err, errlen, "TERM=%s cannot move the cursor (use a real terminal, or --batch)",
				 term ? term : "(unset)");
			return -1;
		}
	}
	active = 1;
	atexit(crt_done);
	cbreak();                 /* keys at once, but Ctrl-C still sends SIGINT */
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);     /* arrows, F1, Shift-Tab as KEY_* codes */
	set_escdelay(25);         /* a lone Esc is not the start of an arrow key after 25 ms */
	typeahead(-1);            /* paint whole frames: no polling for keys in the middle of
				     one (that flushed every line, a write() per cursor move) */
	curs_set(0);
	setup_roles(!no_color && !(nc && *nc));
	/*
	 * ncurses 6.4 flushes after every cursor movement until the screen has been
	 * suspended and resumed once (its "initial" state serves low-level terminfo
	 * users): some 40 write() calls a frame instead of one.  One endwin() and
	 * refresh() round trip, invisible at start-up, puts it in its running state.
	 */
	refresh();
	endwin();
	refresh();
	return 0;
}

void crt_done(void)
{
	if (!active)
		return;
	active = 0;
	curs_set(1);
	endwin();
	delscreen(screen);
	screen = NULL;
}

/* curses' key codes to ours (enum crt_key). */
static int translate(int ch)
{
	switch (ch) {
	case ERR:           return K_NONE;
	case KEY_UP:        return K_UP;
	case KEY_DOWN:      return K_DOWN;
	case KEY_PPAGE:     return K_PGUP;
	case KEY_NPAGE:     return K_PGDN;
	case KEY_HOME:      return K_HOME;
	case KEY_END:       return K_END;
	case KEY_BTAB:      return K_BTAB;
	case KEY_F(1):      return K_F1;
	case KEY_F(10):     return K_F10;
	case KEY_RESIZE:    return K_RESIZE;
	case KEY_ENTER:
	case '\r':          return K_ENTER;
	case KEY_BACKSPACE:
	case 8:             return K_BACKSPACE;
	}
	return ch >= 0 && ch < 0x80 ? ch : K_OTHER;
}

int crt_getkey(int timeout_ms)
{
	int ch;

	if (quit_signal)
		return K_NONE;
	timeout(timeout_ms < 0 ? 0 : timeout_ms);
	ch = getch();
	return quit_signal ? K_NONE : translate(ch);
}

bool crt_quit_requested(void)
{
	return quit_signal != 0;
}

int crt_cols(void)  { return COLS; }
int crt_lines(void) { return LINES; }

void crt_repaint(void)
{
	clearok(curscr, TRUE);       /* every cell is sent again, whatever the terminal shows */
}

int crt_put(int y, int x, int maxw, enum crt_role role, const char *s)
{
	size_t bytes = 0;
	int cols = 0;

	if (y < 0 || y >= LINES || x < 0 || x >= COLS || maxw <= 0)
		return 0;
	if (maxw > COLS - x)
		maxw = COLS - x;
	/* Count columns, not bytes: every multibyte character we print is one column wide. */
	while (s[bytes] && cols < maxw) {
		bytes++;
		while ((s[bytes] & 0xc0) == 0x80)
			bytes++;
		cols++;
	}
	attrset(role_attr[role]);
	if (s[bytes] && cols > 0) {
		/* More than fits: the end becomes an ellipsis ("..." in ASCII), never a silent cut. */
		const char *dots = crt_utf8 ? "\xe2\x80\xa6" : cols >= 3 ? "..." : ".";
		int ndots = crt_utf8 ? 1 : (int)strlen(dots);
		size_t keep = bytes;

		for (int i = 0; i < ndots; i++) {
			do
				keep--;
			while (keep > 0 && (s[keep] & 0xc0) == 0x80);
		}
		move(y, x);
		if (keep)
			addnstr(s, (int)keep);
		addstr(dots);
	} else {
		mvaddnstr(y, x, s, (int)bytes);
	}
	attrset(A_NORMAL);
	return cols;
}

void crt_fill(int y, int x, int w, enum crt_role role)
{
	if (y < 0 || y >= LINES || x < 0 || x >= COLS)
		return;
	if (w > COLS - x)
		w = COLS - x;
	attrset(role_attr[role]);
	mvhline(y, x, ' ', w);
	attrset(A_NORMAL);
}

void crt_too_small(void)
{
	char l1[64], l3[64];
	const char *lines[3];
	int y0;

	snprintf(l1, sizeof(l1), "Terminal too small: %dx%d", COLS, LINES);
	snprintf(l3, sizeof(l3), "iolab-view needs %dx%d: enlarge it, or q to quit", MIN_COLS, MIN_LINES);
	lines[0] = l1;
	lines[1] = "";
	lines[2] = l3;
	erase();
	y0 = LINES > 3 ? LINES / 2 - 1 : 0;
	for (int i = 0; i < 3; i++) {
		int len = (int)strlen(lines[i]);
		int x = COLS > len ? (COLS - len) / 2 : 0;

		crt_put(y0 + i, x, COLS - x, i == 0 ? CR_NOTE : CR_NORMAL, lines[i]);
	}
	refresh();
}
