/*
 * peer.c — command line and frame scan shared by the benchmark peers (see peer.h).
 */
#include "labs/tools/bench/peer.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_HIGH_WATER (4u * 1024 * 1024)   /* as the iolab servers */

const char *peer_prog = "peer";

static void usage(FILE *f, const char *what)
{
	fprintf(f,
		"usage: %s [options]\n"
		"%s\n"
		"(a peer for make bench: speaks the iolab echo protocol, see labs/tools/bench/bench)\n\n"
		"options:\n"
		"  -p, --port PORT        port to listen on (default 0: pick a free one)\n"
		"  -b, --bind ADDR        address to bind (default 127.0.0.1; IPv6 literals work)\n"
		"  -f, --framing MODE     len32 (default) | line | raw | fixed:N\n"
		"      --max-frame BYTES  largest frame accepted (default 1M); larger closes the connection\n"
		"      --high-water BYTES stop reading a peer with this much unsent output (default 4M)\n"
		"  -q, --quiet            do not log every connection on stderr\n"
		"  -h, --help             this help\n\n"
		"Prints \"listening on ADDR:PORT\" on stdout when ready; SIGINT/SIGTERM stop it (exit 0).\n"
		"Try it:  %s -p 7000   then:  bin/iolab-load -p 7000 -c 50 -t 2\n",
		peer_prog, what, peer_prog);
}

static void bad_flag(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void bad_flag(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", peer_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try --help)\n");
	exit(2);
}

/* "64K", "4M", "100": bytes, like the iolab servers' parse_size. */
static size_t parse_size(const char *s)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-')
		bad_flag("bad size '%s' (a number of bytes, K/M/G suffixes allowed)", s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		bad_flag("bad size '%s' (a number of bytes, K/M/G suffixes allowed)", s);
	switch (*end) {
	case 'K': case 'k': v <<= 10; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case 'G': case 'g': v <<= 30; end++; break;
	}
	if (*end || v > (1ull << 32))
		bad_flag("bad size '%s' (a number of bytes up to 4G, K/M/G suffixes allowed)", s);
	return (size_t)v;
}

void peer_parse(struct peer_opt *o, int argc, char **argv, const char *prog, const char *what)
{
	enum { OPT_MAX_FRAME = 256, OPT_HIGH_WATER };
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "framing", required_argument, NULL, 'f' },
		{ "max-frame", required_argument, NULL, OPT_MAX_FRAME },
		{ "high-water", required_argument, NULL, OPT_HIGH_WATER },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	size_t fixed = 0;             /* N of fixed:N */
	long v;
	int c;

	peer_prog = prog;
	*o = (struct peer_opt){ .bind = "127.0.0.1", .framing = FRAMING_LEN32,
				.max_frame = FRAME_DEFAULT_MAX, .high_water = DEFAULT_HIGH_WATER };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:b:f:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0 || v > 65535)
				bad_flag("bad port '%s' (0-65535; 0 = any free port)", optarg);
			o->port = (int)v;
			break;
		case 'b':
			o->bind = optarg;
			break;
		case 'f':
			if (framing_parse_spec(optarg, &o->framing, &fixed) < 0)
				bad_flag("unknown framing '%s' (len32, line, raw or fixed:N)", optarg);
			break;
		case OPT_MAX_FRAME:
			o->max_frame = parse_size(optarg);
			if (o->max_frame == 0)
				bad_flag("--max-frame %s: must be at least 1", optarg);
			break;
		case OPT_HIGH_WATER:
			o->high_water = parse_size(optarg);
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout, what);
			exit(0);
		case ':':
			bad_flag("%s needs a value", argv[optind - 1]);
			break;
		default:
			bad_flag("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_flag("unexpected argument '%s'", argv[optind]);
	if (o->framing == FRAMING_FIXED)
		o->max_frame = fixed;         /* the decoder takes N as its max_frame */
}

size_t peer_frames(struct frame_decoder *d, const char *p, size_t n, bool *error)
{
	size_t off = 0, len;
	enum frame_status st;

	*error = false;
	while ((st = frame_next(d, p + off, n - off, &len)) == FRAME_OK) {
		off += len;
		if (d->mode == FRAMING_RAW)   /* raw: the one "frame" is everything there is */
			break;
	}
	*error = st == FRAME_ERROR;
	return off;
}

void peer_log(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", peer_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
