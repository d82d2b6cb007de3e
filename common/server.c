/*
 * server.c — start-up and shut-down shared by every echo server: flags, listener,
 * telemetry, signals, logging.  The program side of the skeleton (see server.h).
 */
#include "common/server.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t server_stop;

static const char *progname = "iolab";
bool server_quiet;

void iolog(const char *fmt, ...)
{
	char line[512];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int off;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	off = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld %s: ", tm.tm_hour, tm.tm_min,
		       tm.tm_sec, ts.tv_nsec / 1000000, progname);
	va_start(ap, fmt);
	vsnprintf(line + off, sizeof(line) - (size_t)off, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

void die(const char *call)
{
	fprintf(stderr, "%s: %s: %s\n", progname, call, strerror(errno));
	exit(1);
}

static void on_stop_signal(int sig)
{
	(void)sig;
	server_stop = 1;
}

void server_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
}

static void usage(const struct model *m, FILE *f)
{
	fprintf(f,
		"usage: %s [options]\n"
		"%s\n"
		"(iolab lab %d, LESSONS.md section %d)\n\n"
		"options:\n"
		"  -p, --port PORT        port to listen on (default 0: pick a free one)\n"
		"  -b, --bind ADDR        address to bind (default %s; IPv6 literals work)\n"
		"  -f, --framing MODE     len32 (default) | line | raw | http\n"
		"      --max-frame BYTES  largest frame accepted (default 1M); larger is a protocol error\n"
		"      --read-chunk BYTES cap on bytes per read call, to see partial frames (default: none)\n"
		"      --no-stats         no telemetry (to measure what it costs)\n"
		"  -q, --quiet            do not log every connection on stderr\n",
		m->program, m->summary, m->lesson, m->lesson, DEFAULT_BIND);
	if (m->options & OPT_ITERATIVE)
		fprintf(f, "      --iterative        serve one connection at a time (no threads)\n");
	if (m->options & OPT_HIGH_WATER)
		fprintf(f, "      --high-water BYTES stop reading a peer with this much unsent output (default 4M)\n");
	if (m->options & OPT_SLEEP_US)
		fprintf(f, "      --sleep-us N       sleep N microseconds between turns of the loop (default 0)\n");
	if (m->options & OPT_BUDGET)
		fprintf(f, "      --budget BYTES     bytes read per connection per turn (default 64K; 0 = drain greedily)\n");
	if (m->options & OPT_PREAD)
		fprintf(f, "      --pread            submit IOCB_CMD_PREAD on sockets instead of IOCB_CMD_POLL\n");
	if (m->options & OPT_NO_BUFRING)
		fprintf(f, "      --no-bufring       plain recv with a buffer per connection, no provided buffers\n");
	if (m->bugs && m->bugs[0].name) {
		fprintf(f, "      --bug NAME         switch on a deliberate bug, for the lab:\n");
		for (const struct bug *b = m->bugs; b->name; b++)
			fprintf(f, "                           %-18s %s\n", b->name, b->what);
	}
	for (const char *const *b = http_bug_help; *b; b += 2)
		fprintf(f, "      --bug %-20s %s\n", b[0], b[1]);
	fprintf(f, "  -h, --help             this help\n\n"
		"Prints \"listening on ADDR:PORT\" on stdout when ready; logs go to stderr.\n"
		"Try it:  %s -f line -p 7000   then, in two other terminals:  nc 127.0.0.1 7000\n"
		"Telemetry: /dev/shm/%s.%s.<pid>, shown by bin/iolab-view.\n",
		m->program, tm_prefix(), m->name);
}

__attribute__((format(printf, 2, 3), noreturn))
static void bad_flag(const struct model *m, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", m->program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", m->program);
	exit(2);
}

/* "64K", "4M", "1G", "100": bytes.  Rejects junk, negatives and overflow. */
static size_t parse_size(const struct model *m, const char *flag, const char *s)
{
	unsigned long long v, mul = 1;
	char *end;

	errno = 0;
	if (*s == '-' || !*s)
		bad_flag(m, "bad size '%s' (a number of bytes, K/M/G suffixes allowed)", s);
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		bad_flag(m, "bad size '%s' (a number of bytes, K/M/G suffixes allowed)", s);
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	}
	if (*end || v > SIZE_MAX / mul)
		bad_flag(m, "bad size '%s' (a number of bytes, K/M/G suffixes allowed)", s);
	(void)flag;
	return (size_t)(v * mul);
}

enum {
	LO_MAX_FRAME = 1000, LO_READ_CHUNK, LO_NO_STATS, LO_ITERATIVE, LO_HIGH_WATER,
	LO_SLEEP_US, LO_BUDGET, LO_PREAD, LO_NO_BUFRING, LO_BUG,
};

static void need(const struct model *m, unsigned opt, const char *name)
{
	if (!(m->options & opt))
		bad_flag(m, "%s is not an option of this model (see --help)", name);
}

static void parse_flags(struct server *s, const struct model *m, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "framing", required_argument, NULL, 'f' },
		{ "max-frame", required_argument, NULL, LO_MAX_FRAME },
		{ "read-chunk", required_argument, NULL, LO_READ_CHUNK },
		{ "no-stats", no_argument, NULL, LO_NO_STATS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "iterative", no_argument, NULL, LO_ITERATIVE },
		{ "high-water", required_argument, NULL, LO_HIGH_WATER },
		{ "sleep-us", required_argument, NULL, LO_SLEEP_US },
		{ "budget", required_argument, NULL, LO_BUDGET },
		{ "pread", no_argument, NULL, LO_PREAD },
		{ "no-bufring", no_argument, NULL, LO_NO_BUFRING },
		{ "bug", required_argument, NULL, LO_BUG },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct server_opts *o = &s->opt;
	char *end;
	long v;
	int c;

	memset(o, 0, sizeof(*o));
	o->bind = DEFAULT_BIND;
	o->framing = FRAMING_LEN32;
	o->max_frame = FRAME_DEFAULT_MAX;
	o->high_water = DEFAULT_HIGH_WATER;
	o->budget = DEFAULT_BUDGET;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:b:f:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0 || v > 65535)
				bad_flag(m, "bad port '%s' (0-65535; 0 picks a free port)", optarg);
			o->port = (uint16_t)v;
			break;
		case 'b':
			o->bind = optarg;
			break;
		case 'f':
			if ((o->http = strcmp(optarg, "http") == 0))
				break;    /* HTTP/1.1 requests and answers, not frames (common/http.h) */
			if (framing_parse(optarg) < 0)
				bad_flag(m, "unknown framing '%s' (len32, line or raw)", optarg);
			o->framing = (enum framing)framing_parse(optarg);
			break;
		case LO_MAX_FRAME:
			o->max_frame = parse_size(m, "--max-frame", optarg);
			if (o->max_frame == 0 || o->max_frame > UINT32_MAX)
				bad_flag(m, "--max-frame '%s' must be between 1 and 4G-1", optarg);
			break;
		case LO_READ_CHUNK:
			o->read_chunk = parse_size(m, "--read-chunk", optarg);
			break;
		case LO_NO_STATS:
			o->no_stats = true;
			break;
		case 'q':
			server_quiet = true;
			break;
		case LO_ITERATIVE:
			need(m, OPT_ITERATIVE, "--iterative");
			o->iterative = true;
			break;
		case LO_HIGH_WATER:
			need(m, OPT_HIGH_WATER, "--high-water");
			o->high_water = parse_size(m, "--high-water", optarg);
			break;
		case LO_SLEEP_US:
			need(m, OPT_SLEEP_US, "--sleep-us");
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0 || v > 10000000)
				bad_flag(m, "bad --sleep-us '%s' (0 to 10000000)", optarg);
			o->sleep_us = v;
			break;
		case LO_BUDGET:
			need(m, OPT_BUDGET, "--budget");
			o->budget = parse_size(m, "--budget", optarg);
			break;
		case LO_PREAD:
			need(m, OPT_PREAD, "--pread");
			o->pread = true;
			break;
		case LO_NO_BUFRING:
			need(m, OPT_NO_BUFRING, "--no-bufring");
			o->no_bufring = true;
			break;
		case LO_BUG: {
			const struct bug *b = m->bugs;

			if (http_bug_parse(optarg) != HTTP_BUG_NONE) {
				o->bug = optarg;      /* an HTTP bug (lab 22): every model has them */
				break;
			}
			while (b && b->name && strcmp(b->name, optarg))
				b++;
			if (!b || !b->name)
				bad_flag(m, "no bug named '%s' in this model (see --help)", optarg);
			o->bug = b->name;
			break;
		}
		case 'h':
			usage(m, stdout);
			exit(0);
		case ':':
			bad_flag(m, "option '%s' needs a value", argv[optind - 1]);
			break;
		default:
			bad_flag(m, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_flag(m, "unexpected argument '%s'", argv[optind]);
}

bool server_bug(const struct server *s, const char *name)
{
	return s->opt.bug && !strcmp(s->opt.bug, name);
}

void server_start(struct server *s, const struct model *m, int argc, char **argv, bool nonblock)
{
	struct sigaction sa;
	char err[256], options[256];
	struct tm_info info;

	progname = m->program;
	s->model = m;
	parse_flags(s, m, argc, argv);

	net_raise_nofile();
	net_reserve_fd();
	/* A write to a peer that reset would raise SIGPIPE and kill us; we want EPIPE instead. */
	if (!server_bug(s, "no-sigpipe"))
		net_ignore_sigpipe();

	/* No SA_RESTART: a blocked wait returns EINTR so the loop sees server_stop. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	s->lfd = net_listen(s->opt.bind, s->opt.port, nonblock, err, sizeof(err));
	if (s->lfd < 0) {
		fprintf(stderr, "%s: %s\n", m->program, err);
		exit(1);
	}
	s->port = net_local_port(s->lfd);

	if (!s->opt.no_stats) {
		snprintf(options, sizeof(options),
			 "framing=%s max-frame=%zu read-chunk=%zu high-water=%zu%s%s%s budget=%zu sleep-us=%ld%s%s%s",
			 framing_name(s->opt.framing), s->opt.max_frame, s->opt.read_chunk,
			 s->opt.high_water, s->opt.iterative ? " iterative" : "",
			 s->opt.pread ? " pread" : "", s->opt.no_bufring ? " no-bufring" : "",
			 s->opt.budget, s->opt.sleep_us,
			 s->opt.bug ? " bug=" : "", s->opt.bug ? s->opt.bug : "", "");
		info = (struct tm_info){ TM_KIND_SERVER, m->name, m->wait_call, s->opt.bind, options, s->port };
		if (tm_open(&info) < 0)
			iolog("telemetry off: shm_open: %s", strerror(errno));
		else
			atexit(tm_close);
	}

	printf("listening on %s:%u\n", s->opt.bind, s->port);
	fflush(stdout);
	if (!server_quiet)
		iolog("%s, framing %s, pid %d%s%s", m->summary, framing_name(s->opt.framing),
		      (int)getpid(), s->opt.bug ? ", BUG ON: " : "", s->opt.bug ? s->opt.bug : "");
}

void server_finish(struct server *s)
{
	uint64_t acc = 0, frames = 0;

	if (tm_self) {
		acc = atomic_load(&tm_self->hdr->counters[TM_ACCEPTS]);
		frames = atomic_load(&tm_self->hdr->counters[TM_FRAMES_IN]);
	}
	if (s->lfd >= 0)
		close(s->lfd);
	s->lfd = -1;
	if (!server_quiet && tm_self)
		iolog("stopping: %llu connections, %llu frames echoed",
		      (unsigned long long)acc, (unsigned long long)frames);
	tm_close();
}
