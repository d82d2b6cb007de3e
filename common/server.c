/*
 * server.c — start-up and shut-down shared by every echo server: flags, listener,
 * telemetry, signals, logging.  The program side of the skeleton (see server.h).
 */
#include "common/server.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

_Atomic int server_stop;

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

static int stop_lfd = -1;     /* the listener, for on_stop_signal() */

/*
 * SIGINT/SIGTERM.  Setting the flag is enough wherever the signal can only arrive
 * inside the wait (srv.waitmask).  For a model that lets it in anywhere (a blocking
 * accept() in the blocking model), a signal that lands just before accept() would
 * be seen only at the next client: shutting the listener down makes that accept()
 * return at once (EINVAL), whenever it starts.  shutdown() is async-signal-safe.
 */
static void on_stop_signal(int sig)
{
	int saved = errno;

	(void)sig;
	server_stop = 1;
	if (stop_lfd >= 0)
		shutdown(stop_lfd, SHUT_RD);
	errno = saved;
}

void iolog_limited(struct ratelimit *rl, const char *fmt, ...)
{
	uint64_t now = tm_now();
	char line[400];
	va_list ap;

	if (rl->last_ns && now - rl->last_ns < 1000000000ull) {
		rl->suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (rl->suppressed)
		iolog("%s (and %lu more like it in the last second)", line, rl->suppressed);
	else
		iolog("%s", line);
	rl->last_ns = now;
	rl->suppressed = 0;
}

/* ------------------------------------------------------------------ a turn */

/* Work done by this thread: accepts, reads that returned something, writes, closes. */
_Thread_local uint64_t conn_progress;
static _Thread_local uint64_t turn_mark;

void turn_begin(int n)
{
	tm_add(TM_WAIT_CALLS, 1);
	if (n > 0)
		tm_add(TM_EVENTS, (uint64_t)n);
	turn_mark = conn_progress;
}

void turn_spin(void)
{
	tm_add(TM_SPINS, 1);
	turn_mark = conn_progress;
}

void turn_ready(int fd, uint32_t mask)
{
	tm_conn_ready(fd, mask);
	tm_log(EV_READY, fd, mask, mask);
}

void turn_events(const struct epoll_event *ev, int n)
{
	turn_begin(n);
	for (int i = 0; i < n; i++)
		turn_ready(ev[i].data.fd, ev[i].events);
}

void turn_completed(int fd, uint32_t mask, int64_t res)
{
	tm_conn_ready(fd, mask);
	tm_log(EV_COMPLETION, fd, mask, res);
}

void turn_moved(void)
{
	conn_progress++;
}

void turn_end(void)
{
	if (conn_progress == turn_mark)
		tm_add(TM_EMPTY_WAKEUPS, 1);
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
		"  -f, --framing MODE     len32 (default) | line | raw | fixed:N (frames of exactly N bytes) | http\n"
		"      --max-frame BYTES  largest frame accepted (default 1M); larger is a protocol error\n"
		"      --read-chunk BYTES cap on bytes per read call, to see partial frames (default: none)\n"
		"      --nagle            leave Nagle's algorithm on (default: TCP_NODELAY on every connection)\n"
		"      --send-timeout SECS close a connection whose unsent output has not moved for SECS\n"
		"                         (TCP_USER_TIMEOUT; counted as send_timeouts; default 0: never)\n"
		"      --no-stats         no telemetry (to measure what it costs)\n"
		"  -q, --quiet            do not log every connection on stderr\n",
		m->program, m->summary, m->lesson, m->lesson, DEFAULT_BIND);
	for (const struct model_option *o = m->options; o && o->name; o++) {
		char flag[40];

		snprintf(flag, sizeof(flag), "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "      %-18s %s\n", flag, o->help);
	}
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
		bad_flag(m, "%s: bad size '%s' (a number of bytes, K/M/G suffixes allowed)", flag, s);
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		bad_flag(m, "%s: bad size '%s' (a number of bytes, K/M/G suffixes allowed)", flag, s);
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	}
	if (*end || v > SIZE_MAX / mul)
		bad_flag(m, "%s: bad size '%s' (a number of bytes, K/M/G suffixes allowed)", flag, s);
	return (size_t)(v * mul);
}

static long parse_long(const struct model *m, const char *flag, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		bad_flag(m, "bad %s '%s' (%ld to %ld)", flag, s, min, max);
	return v;
}

enum { LO_MAX_FRAME = 1000, LO_READ_CHUNK, LO_NO_STATS, LO_NAGLE, LO_BUG, LO_SEND_TIMEOUT, LO_MODEL = 2000 };
#define MAX_MODEL_OPTIONS 16

/* A model option's value, as the telemetry header and the start-up line show it. */
static int option_value(char *p, size_t n, const struct model_option *o)
{
	switch (o->kind) {
	case OPTK_FLAG: return *(bool *)o->ptr ? snprintf(p, n, " %s", o->name) : 0;
	case OPTK_SIZE: return snprintf(p, n, " %s=%zu", o->name, *(size_t *)o->ptr);
	case OPTK_LONG: return snprintf(p, n, " %s=%ld", o->name, *(long *)o->ptr);
	}
	return 0;
}

static void parse_flags(struct server *s, const struct model *m, int argc, char **argv)
{
	static const struct option common[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "framing", required_argument, NULL, 'f' },
		{ "max-frame", required_argument, NULL, LO_MAX_FRAME },
		{ "read-chunk", required_argument, NULL, LO_READ_CHUNK },
		{ "no-stats", no_argument, NULL, LO_NO_STATS },
		{ "nagle", no_argument, NULL, LO_NAGLE },
		{ "send-timeout", required_argument, NULL, LO_SEND_TIMEOUT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "bug", required_argument, NULL, LO_BUG },
		{ "help", no_argument, NULL, 'h' },
	};
	enum { NCOMMON = sizeof(common) / sizeof(common[0]) };
	struct option longopts[NCOMMON + MAX_MODEL_OPTIONS + 1];
	struct server_opts *o = &s->opt;
	const struct model_option *mo;
	size_t nl = 0, fixed_size = 0;
	int c;

	memcpy(longopts, common, sizeof(common));
	nl = NCOMMON;
	for (mo = m->options; mo && mo->name && nl < NCOMMON + MAX_MODEL_OPTIONS; mo++, nl++)
		longopts[nl] = (struct option){ mo->name, mo->kind == OPTK_FLAG ? no_argument : required_argument,
						NULL, LO_MODEL + (int)(mo - m->options) };
	longopts[nl] = (struct option){ NULL, 0, NULL, 0 };

	o->bind = DEFAULT_BIND;
	o->framing = FRAMING_LEN32;
	o->max_frame = FRAME_DEFAULT_MAX;
	o->high_water = DEFAULT_HIGH_WATER;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:b:f:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->port = (uint16_t)parse_long(m, "port", optarg, 0, 65535);
			break;
		case 'b':
			o->bind = optarg;
			break;
		case 'f': {
			size_t fixed;

			if ((o->http = strcmp(optarg, "http") == 0))
				break;    /* HTTP/1.1 requests and answers, not frames (common/http.h) */
			if (framing_parse_spec(optarg, &o->framing, &fixed) < 0)
				bad_flag(m, "unknown framing '%s' (len32, line, raw, fixed:N with N 1..%u, or http)",
					 optarg, FRAME_FIXED_MAX);
			if (o->framing == FRAMING_FIXED)
				fixed_size = fixed;   /* fixed:N: the frame size is the decoder's max_frame */
			break;
		}
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
		case LO_NAGLE:
			o->nagle = true;
			break;
		case LO_SEND_TIMEOUT:
			o->send_timeout = parse_long(m, "--send-timeout", optarg, 0, 24 * 3600);
			break;
		case 'q':
			server_quiet = true;
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
			if (c < LO_MODEL)
				bad_flag(m, "unknown option '%s' (see --help for what this model takes)", argv[optind - 1]);
			mo = &m->options[c - LO_MODEL];
			switch (mo->kind) {
			case OPTK_FLAG: *(bool *)mo->ptr = true; break;
			case OPTK_SIZE: *(size_t *)mo->ptr = parse_size(m, argv[optind - 1], optarg); break;
			case OPTK_LONG: *(long *)mo->ptr = parse_long(m, mo->name, optarg, mo->min, mo->max); break;
			}
		}
	}
	if (optind < argc)
		bad_flag(m, "unexpected argument '%s'", argv[optind]);
	if (o->framing == FRAMING_FIXED)
		o->max_frame = fixed_size;
}

bool server_bug(const struct server *s, const char *name)
{
	return s->opt.bug && !strcmp(s->opt.bug, name);
}

/* A datagram model's socket: bound, nonblocking, no listen() -- there is nothing to accept. */
static int bind_datagram(const char *addr, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = net_sockaddr(addr, port, &ss);
	int fd;

	if (!len) {
		snprintf(err, errlen, "bind address '%s' is not an IPv4 or IPv6 literal", addr);
		return -1;
	}
	if ((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket(SOCK_DGRAM): %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		snprintf(err, errlen, "bind %s:%u (udp): %s", addr, port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void server_start(struct server *s, const struct model *m, int argc, char **argv)
{
	char err[256], options[256];
	struct sigaction sa;
	struct tm_info info;
	sigset_t stop;
	int off;

	progname = m->program;
	s->model = m;
	parse_flags(s, m, argc, argv);

	net_raise_nofile();
	net_reserve_fd();
	/* A write to a peer that reset would raise SIGPIPE and kill us; we want EPIPE instead. */
	if (!server_bug(s, "no-sigpipe"))
		net_ignore_sigpipe();

	/* Blocked from here on; the model lets them in only inside its wait (s->waitmask). */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, &s->waitmask);
	sigdelset(&s->waitmask, SIGINT);
	sigdelset(&s->waitmask, SIGTERM);
	/* No SA_RESTART: a blocking read(), write() or accept() they interrupt returns EINTR
	 * (lab 1, aio --pread, --bug=et-blocking).  epoll_wait, poll, select, io_getevents and
	 * sigwaitinfo return EINTR whatever SA_RESTART says (signal(7)). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	conn_trim_when_empty = !m->blocking && !m->threaded;
	conn_release = m->release;
	conn_trace_init();
	if (m->datagram)
		s->lfd = bind_datagram(s->opt.bind, s->opt.port, err, sizeof(err));
	else
		s->lfd = net_listen(s->opt.bind, s->opt.port, !m->blocking, err, sizeof(err));
	if (s->lfd < 0) {
		fprintf(stderr, "%s: %s\n", m->program, err);
		exit(1);
	}
	s->port = net_local_port(s->lfd);
	stop_lfd = s->lfd;

	if (!s->opt.no_stats) {
		/* Only what applies to this model: the common options, then its own. */
		off = snprintf(options, sizeof(options), "framing=%s max-frame=%zu read-chunk=%zu%s",
			       s->opt.http ? "http" : framing_name(s->opt.framing), s->opt.max_frame, s->opt.read_chunk,
			       s->opt.nagle ? " nagle" : "");
		if (s->opt.send_timeout)
			off += snprintf(options + off, sizeof(options) - (size_t)off, " send-timeout=%ld",
					s->opt.send_timeout);
		for (const struct model_option *o = m->options; o && o->name && off < (int)sizeof(options); o++)
			off += option_value(options + off, sizeof(options) - (size_t)off, o);
		if (s->opt.bug && off < (int)sizeof(options))
			snprintf(options + off, sizeof(options) - (size_t)off, " bug=%s", s->opt.bug);
		info = (struct tm_info){ TM_KIND_SERVER, m->name, m->wait_call, s->opt.bind, options, s->port };
		if (tm_open(&info) < 0)
			iolog("telemetry off: shm_open: %s", strerror(errno));
		else
			atexit(tm_close);
		tm_set_single_writer(!m->blocking && !m->threaded);
	}

	if (m->setup)
		m->setup(s);
	printf("listening on %s:%u\n", s->opt.bind, s->port);
	fflush(stdout);
	if (!server_quiet)
		iolog("%s, %s %s, pid %d%s%s", m->summary, m->datagram ? "datagrams" : "framing",
		      m->datagram ? "whole" : s->opt.http ? "http" : framing_name(s->opt.framing),
		      (int)getpid(), s->opt.bug ? ", BUG ON: " : "", s->opt.bug ? s->opt.bug : "");
}

struct timespec *server_wait_ts(struct timespec *ts)
{
	int ms = server_wait_ms();

	if (ms < 0)
		return NULL;
	ts->tv_sec = ms / 1000;
	ts->tv_nsec = (long)(ms % 1000) * 1000000;
	return ts;
}

void server_signals_anywhere(struct server *s)
{
	pthread_sigmask(SIG_SETMASK, &s->waitmask, NULL);
}

void server_finish(struct server *s)
{
	uint64_t acc = 0, frames = 0;

	if (tm_self) {
		acc = atomic_load(&tm_self->hdr->counters[TM_ACCEPTS]);
		frames = atomic_load(&tm_self->hdr->counters[s->opt.http ? TM_REQUESTS : TM_FRAMES_IN]);
	}
	conn_table_free_all(&s->conns);
	stop_lfd = -1;
	if (s->lfd >= 0)
		close(s->lfd);
	s->lfd = -1;
	if (!server_quiet && tm_self && s->model->datagram)
		iolog("stopping: %llu datagram%s echoed", (unsigned long long)frames, frames == 1 ? "" : "s");
	else if (!server_quiet && tm_self)
		iolog("stopping: %llu connection%s, %llu %s%s %s", (unsigned long long)acc, acc == 1 ? "" : "s",
		      (unsigned long long)frames, s->opt.http ? "request" : "frame", frames == 1 ? "" : "s",
		      s->opt.http ? "answered" : "echoed");
	tm_close();
}
