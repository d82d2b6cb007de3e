/*
 * iolab-view — watch every running iolab server (and the connect probe) live.
 *
 * What it shows: one row per server with the figures that tell the I/O models
 * apart (messages/s, EAGAIN/s, waiting calls/s, events per wakeup, empty
 * wakeups, system calls per message, CPU, fairness, starvation); a server's
 * connections with their interest and ready masks decoded; its event log; what
 * the probe saw of a nonblocking connect(); and the strace, ss and /proc
 * commands that show the same thing from outside.  It reads the servers' telemetry
 * segments (/dev/shm/iolab.<model>.<pid>, see common/telemetry.h) read-only.
 *
 * Usage:  iolab-view [--pid PID]... [--watch NAME,...] [--interval MS] [--starve MS] [--ascii] [--no-color]
 *         iolab-view --batch [--count N] [--interval MS] [--conns] [--pid PID]...
 *
 * Try:    bin/echo-epoll-lt -p 7000 &  bin/echo-blocking -p 7001 &  bin/iolab-view
 *         then load them from another terminal (bin/iolab-load -p 7000 -c 50 -t 60),
 *         press Enter on a server, Tab through the views, h for help.
 *         bin/iolab-view --batch --count 3 | jq .     JSON lines for scripts and tests
 * Needs:  a terminal of 80x24 or more (UTF-8 for braille sparklines, else ASCII).
 *
 * Keys are those of htop: q quits, h helps, Tab switches views, arrows select.
 * The code follows htop's split: sample.c reads segments into a model, ui.c
 * orders it and lays the screen out, draw.c and draw_server.c paint it, crt.c
 * owns the terminal; batch.c prints JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "viewer/batch.h"
#include "viewer/counters.h"
#include "viewer/crt.h"
#include "viewer/draw.h"
#include "viewer/sample.h"
#include "viewer/ui.h"

#define PROG                "iolab-view"
#define DEFAULT_INTERVAL_MS 1000      /* a projector audience reads at about this pace */
#define DEFAULT_STARVE_MS   100       /* ready and unserved this long: highlighted */
#define FIRST_SAMPLE_MS     250       /* the first rates come this soon after start */

struct options {
	bool   batch, conns, ascii, no_color;
	long   count;
	long   interval_ms;
	long   starve_ms;
	struct watch watch;
	struct sampler_opts so;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [options]\n"
		"Live view of the iolab servers' telemetry (/dev/shm/$IOLAB_SHM_PREFIX.*, default prefix iolab).\n"
		"\n"
		"  -b, --batch          no screen: one JSON object per line per snapshot (also when\n"
		"                       stdout is not a terminal)\n"
		"  -n, --count N        stop after N snapshots/refreshes (0 = never; default 0)\n"
		"  -i, --interval MS    time between snapshots (default %d; 10..60000)\n"
		"  -p, --pid PID        show only this server; repeat for more (up to %d)\n"
		"      --starve MS      highlight connections ready but unserved longer (default %d)\n"
		"  -w, --watch NAME,... show these counters on the Overview (total and per second) and\n"
		"                       highlight them in the server's views; names as in bin/iolab-stat\n"
		"                       (scanned, refused, sigq_overflow, submits, completions...) or\n"
		"                       scanned_per_wakeup, completions_per_wait, events_per_wakeup,\n"
		"                       empty_wakeup_pct; may be repeated\n"
		"      --conns          batch: include every connection of every server\n"
		"      --ascii          no UTF-8 (ASCII sparklines); automatic if the locale is not UTF-8\n"
		"      --no-color       no colours (also when NO_COLOR is set)\n"
		"  -h, --help           this text\n"
		"\n"
		"Keys: q quit, h help, Tab views, arrows select, Enter open, p pause, +/- rate,\n"
		"      s and </> sort, / filter, c counters, v verify commands.\n"
		"Try:  bin/echo-epoll-lt & bin/iolab-view        bin/iolab-view --batch -n 3 --interval 500\n"
		"      bin/echo-poll & bin/iolab-view --watch scanned,scanned_per_wakeup\n",
		DEFAULT_INTERVAL_MS, MAX_PIDS, DEFAULT_STARVE_MS);
}

static void bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A bad command line: say what, point at --help, exit 2. */
static void bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n" PROG ": try '" PROG " --help'\n");
	exit(2);
}

static long parse_long(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		bad_usage("%s must be a number from %ld to %ld, not '%s'", what, min, max, s);
	return v;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_STARVE = 256, OPT_CONNS, OPT_ASCII, OPT_NO_COLOR };
	char err[2048];
	static const struct option longs[] = {
		{ "batch", no_argument, NULL, 'b' },      { "count", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' }, { "pid", required_argument, NULL, 'p' },
		{ "starve", required_argument, NULL, OPT_STARVE }, { "conns", no_argument, NULL, OPT_CONNS },
		{ "ascii", no_argument, NULL, OPT_ASCII }, { "no-color", no_argument, NULL, OPT_NO_COLOR },
		{ "no-colour", no_argument, NULL, OPT_NO_COLOR }, { "help", no_argument, NULL, 'h' },
		{ "watch", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->interval_ms = DEFAULT_INTERVAL_MS;
	o->starve_ms = DEFAULT_STARVE_MS;
	opterr = 0;                               /* our own messages, with exit 2 */
	while ((c = getopt_long(argc, argv, ":bn:i:p:w:h", longs, NULL)) != -1) {
		switch (c) {
		case 'b': o->batch = true; break;
		case 'n': o->count = parse_long(optarg, 0, LONG_MAX, "--count"); break;
		case 'i': o->interval_ms = parse_long(optarg, 10, 60000, "--interval"); break;
		case 'p':
			if (o->so.npids == MAX_PIDS)
				bad_usage("too many --pid options (at most %d)", MAX_PIDS);
			o->so.pids[o->so.npids++] = (pid_t)parse_long(optarg, 1, INT_MAX, "--pid");
			break;
		case 'w':
			if (watch_parse(&o->watch, optarg, err, sizeof(err)) < 0)
				bad_usage("%s", err);
			break;
		case OPT_STARVE: o->starve_ms = parse_long(optarg, 0, 3600000, "--starve"); break;
		case OPT_CONNS: o->conns = true; break;
		case OPT_ASCII: o->ascii = true; break;
		case OPT_NO_COLOR: o->no_color = true; break;
		case 'h': usage(stdout); exit(0);
		case ':': bad_usage("option '%s' needs a value", argv[optind - 1]); break;
		default:  bad_usage("unknown option '%s'", argv[optind - 1]); break;
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	o->so.starve_ns = (uint64_t)o->starve_ms * 1000000u;
	if (!isatty(STDOUT_FILENO))
		o->batch = true;                  /* piped or redirected: JSON lines, never escape codes */
}

/*
 * The interactive loop: sample when the period is up (unless paused), prepare
 * and draw after a sample or a key, wait for a key until the next sample is due.
 */
static int run_interactive(struct sampler *s, const struct options *o)
{
	struct ui u;
	char err[160];
	uint64_t now, next;
	long refreshes = 0;
	bool dirty = true, last = false;

	if (crt_init(o->no_color, o->ascii, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	ui_init(&u, (int)o->interval_ms, o->so.starve_ns, &o->watch);
	now = tm_now();
	sampler_sample(s, now);
	next = now + (uint64_t)(o->interval_ms < FIRST_SAMPLE_MS ? o->interval_ms : FIRST_SAMPLE_MS) * 1000000u;
	while (!u.quit && !crt_quit_requested()) {
		long wait_ms;
		int key;

		now = tm_now();
		if (!u.paused && now >= next) {
			sampler_sample(s, now);
			next = now + (uint64_t)u.interval_ms * 1000000u;
			dirty = true;
			last = o->count && ++refreshes >= o->count;
		}
		if (dirty) {
			/* htop's order: the model is sampled, laid out for this size, then drawn. */
			ui_prepare(&u, s, now, crt_cols(), crt_lines());
			if (u.repaint) {
				crt_repaint();
				u.repaint = false;
			}
			draw_screen(&u, s);
			dirty = false;
		}
		if (last)
			break;                        /* --count N: the Nth refresh was the last */
		wait_ms = u.paused ? 1000 : (long)((next > now ? next - now : 0) / 1000000u) + 1;
		key = crt_getkey((int)(wait_ms > 1000 ? 1000 : wait_ms));
		if (ui_key(&u, s, key))
			dirty = true;
		if (u.paused && next < now)
			next = now;                   /* resume samples at once */
	}
	crt_done();
	ui_free(&u);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct sampler s;
	int rc;

	parse_args(argc, argv, &o);
	sampler_init(&s, &o.so);
	if (o.batch) {
		struct batch_opts bo = { .count = o.count, .interval_ms = o.interval_ms, .conns = o.conns,
					 .stop = crt_quit_requested };

		crt_catch_quit();                   /* Ctrl-C ends the run cleanly (exit 0) */
		rc = batch_run(&s, &bo);
	} else {
		rc = run_interactive(&s, &o);
	}
	sampler_free(&s);
	return rc;
}
