/* options.c — the flags of iolab-load, --help, and the checks that they fit together. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/net.h"
#include "labs/tools/load/load.h"

const char *const mode_names[MODE_N] = { "echo", "hog", "slow", "tiny", "churn", "idle" };

struct opts opt = {
	.host = "127.0.0.1", .conns = 1, .threads = 1, .framing = FRAMING_LEN32,
	.size_min = 128, .size_max = 128, .depth = 1, .seconds = 5.0, .mode = MODE_ECHO,
	.seed = 1, .drain = DEFAULT_DRAIN_S,
};
struct wire wire;           /* framing + seed: what msg_fill() needs */
char server_addr[80];       /* "127.0.0.1:7000" or "[::1]:7000", for messages */

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (try --help)\n");
	va_end(ap);
	exit(2);
}

static void usage(void)
{
	printf(
"usage: " PROG " [--host ADDR] -p PORT [options]\n"
"\n"
"Load an iolab echo server with many connections, check every echoed byte, and\n"
"report throughput, latency percentiles, fairness and CPU per message.\n"
"\n"
"  -H, --host ADDR        server address, an IPv4/IPv6 literal (default 127.0.0.1)\n"
"  -p, --port PORT        server port (required)\n"
"  -c, --conns N          connections doing the workload (default 1)\n"
"  -T, --threads N        client threads, each with its own epoll (default 1)\n"
"  -f, --framing F        len32 | line | raw | fixed:N (default len32);\n"
"                         fixed:N sends frames of exactly N bytes (no -s needed)\n"
"  -s, --size BYTES       payload bytes per message (default 128)\n"
"      --size-min A, --size-max B   payload sizes drawn uniformly from [A, B]\n"
"  -d, --depth D          closed loop: messages in flight per connection (default 1)\n"
"  -r, --rate R           open loop: R messages per second in total; latency counts\n"
"                         from when each message was due (no coordinated omission)\n"
"  -t, --time SECONDS     run length, fractions allowed (default 5)\n"
"  -n, --messages N       instead of a time: N messages per connection\n"
"  -m, --mode MODE        echo   the normal workload (default)\n"
"                         hog    connection 0 floods without waiting; the others'\n"
"                                latency is reported separately (use -T 2)\n"
"                         slow   connection 0 floods and stops reading after\n"
"                                --slow-after bytes: the server hits EAGAIN and its\n"
"                                high-water mark; the others are reported separately\n"
"                         tiny   every frame written one byte per write()\n"
"                         churn  connect, one echo, close, again (-c parallel slots)\n"
"                         idle   echo plus --idle connections (default %d) that never send\n"
"      --idle K           K extra connections that connect first and never send\n"
"      --slow-after BYTES slow mode: bytes read before reading stops (default %d)\n"
"      --server-pid PID   report the server's CPU time per message; notice if it dies\n"
"      --warmup SECONDS   run the workload this long first, verified but not measured\n"
"                         (latency, throughput, fairness and CPU count after it)\n"
"      --drain SECONDS    at the end, give up on missing echoes after this long\n"
"                         without one arriving (default %.0f)\n"
"      --nagle            leave Nagle's algorithm on (TCP_NODELAY off).  Default:\n"
"                         TCP_NODELAY on, a small write is never held back\n"
"      --split HOW        cut the byte stream into write() calls: header (each\n"
"                         message in two writes, its first 4 bytes then the rest:\n"
"                         write-write-read), random (at random points), or N\n"
"                         (N bytes per write; -m tiny is --split 1).\n"
"                         Default: all pending bytes in one write\n"
"      --writev           with --split header: both parts in one writev() call\n"
"      --coalesce N       hold messages until N are queued, then one write for\n"
"                         all of them (closed loop: needs -d N or more)\n"
"      --seed N           payload, size and --split random randomness (default 1)\n"
"      --json             one JSON object on stdout instead of the summary\n"
"  -h, --help             this text\n"
"\n"
"JSON keys: ok mode conns idle threads framing size loop depth rate nagle split\n"
"  writev coalesce write_calls warmup_s duration_s\n"
"  messages window_messages bytes msgs_per_s mb_per_s errors{mismatch short closed\n"
"  connect unanswered} latency_us{p50 p90 p99 p999 max mean count} fairness{jain\n"
"  min_share max_share} client_cpu_us_per_msg [server_cpu_us_per_msg server_died]\n"
"  [others_latency_us others_msgs_per_s: hog, slow] [connects connect_us: churn] [error]\n"
"  [diagnosis: why connections got nothing back, e.g. a framing mismatch]\n"
"  msgs_per_s counts echoes completed within the run; messages also counts the drain.\n"
"  Shares are relative to the fair share (1.0 = total / conns).\n"
"\n"
"A refused connect is tried again for up to 1 s (the server may still be starting).\n"
"\n"
"Exit status: 0 all verified, 1 errors (mismatch, short echo, closed, refused,\n"
"server died, echoes missing), 2 bad flags.\n"
"\n"
"Example: bin/echo-epoll-lt -p 7000 &  " PROG " -p 7000 -c 50 -t 3 --server-pid $!\n",
	       DEFAULT_IDLE, DEFAULT_SLOW_AFTER, DEFAULT_DRAIN_S);
}

static uint64_t parse_u64(const char *flag, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		usage_error("%s: '%s' is not a whole number in %" PRIu64 "..%" PRIu64,
			    flag, s, min, max);
	return v;
}

static double parse_pos(const char *flag, const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || !isfinite(v))
		usage_error("%s: '%s' is not a positive number", flag, s);
	return v;
}

enum { O_SIZE_MIN = 256, O_SIZE_MAX, O_IDLE, O_SLOW_AFTER, O_SERVER_PID, O_JSON, O_SEED, O_DRAIN,
       O_NAGLE, O_SPLIT, O_WRITEV, O_COALESCE, O_WARMUP };

/* --split header | random | N */
static void parse_split(const char *s)
{
	if (!strcmp(s, "header"))
		opt.split = SPLIT_HEADER;
	else if (!strcmp(s, "random"))
		opt.split = SPLIT_RANDOM;
	else if (*s >= '0' && *s <= '9') {
		opt.split = SPLIT_BYTES;
		opt.split_bytes = (size_t)parse_u64("--split", s, 1, 64u << 20);
	} else
		usage_error("--split: '%s' is not header, random or a byte count", s);
}

void parse_flags(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "conns", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 'T' },
		{ "framing", required_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 's' },
		{ "size-min", required_argument, NULL, O_SIZE_MIN },
		{ "size-max", required_argument, NULL, O_SIZE_MAX },
		{ "depth", required_argument, NULL, 'd' },
		{ "rate", required_argument, NULL, 'r' },
		{ "time", required_argument, NULL, 't' },
		{ "messages", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "idle", required_argument, NULL, O_IDLE },
		{ "slow-after", required_argument, NULL, O_SLOW_AFTER },
		{ "server-pid", required_argument, NULL, O_SERVER_PID },
		{ "json", no_argument, NULL, O_JSON },
		{ "seed", required_argument, NULL, O_SEED },
		{ "drain", required_argument, NULL, O_DRAIN },
		{ "warmup", required_argument, NULL, O_WARMUP },
		{ "nagle", no_argument, NULL, O_NAGLE },
		{ "split", required_argument, NULL, O_SPLIT },
		{ "writev", no_argument, NULL, O_WRITEV },
		{ "coalesce", required_argument, NULL, O_COALESCE },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	bool have_port = false, have_time = false, have_size = false, have_idle = false;
	bool have_min = false, have_max = false, have_depth = false, have_slow = false;
	int ch, f;

	opterr = 0;                          /* we word the errors ourselves */
	while ((ch = getopt_long(argc, argv, ":H:p:c:T:f:s:d:r:t:n:m:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'H': opt.host = strcmp(optarg, "localhost") ? optarg : "127.0.0.1"; break;
		case 'p': opt.port = (uint16_t)parse_u64("-p", optarg, 1, 65535); have_port = true; break;
		case 'c': opt.conns = (unsigned)parse_u64("-c", optarg, 1, 100000); break;
		case 'T': opt.threads = (unsigned)parse_u64("-T", optarg, 1, 256); break;
		case 'f':
			if (framing_parse_spec(optarg, &opt.framing, &opt.frame_size) < 0)
				usage_error("-f: unknown framing '%s' (len32, line, raw or fixed:N with"
					    " N from 1 to %u)", optarg, FRAME_FIXED_MAX);
			break;
		case 's':
			opt.size_min = opt.size_max = (uint32_t)parse_u64("-s", optarg, 0, 64u << 20);
			have_size = true;
			break;
		case O_SIZE_MIN: opt.size_min = (uint32_t)parse_u64("--size-min", optarg, 0, 64u << 20); have_min = true; break;
		case O_SIZE_MAX: opt.size_max = (uint32_t)parse_u64("--size-max", optarg, 0, 64u << 20); have_max = true; break;
		case 'd': opt.depth = (unsigned)parse_u64("-d", optarg, 1, 100000); have_depth = true; break;
		case 'r': opt.rate = parse_pos("-r", optarg); break;
		case 't': opt.seconds = parse_pos("-t", optarg); have_time = true; break;
		case 'n': opt.messages = parse_u64("-n", optarg, 1, UINT64_MAX / 2); break;
		case 'm':
			for (f = 0; f < MODE_N && strcmp(optarg, mode_names[f]); f++)
				;
			if (f == MODE_N)
				usage_error("-m: unknown mode '%s' (echo, hog, slow, tiny, churn or idle)", optarg);
			opt.mode = (enum mode)f;
			break;
		case O_IDLE: opt.idle = (unsigned)parse_u64("--idle", optarg, 0, 1000000); have_idle = true; break;
		case O_SLOW_AFTER: opt.slow_after = parse_u64("--slow-after", optarg, 0, UINT64_MAX / 2); have_slow = true; break;
		case O_SERVER_PID: opt.server_pid = (pid_t)parse_u64("--server-pid", optarg, 1, INT_MAX); break;
		case O_JSON: opt.json = true; break;
		case O_SEED: opt.seed = parse_u64("--seed", optarg, 0, UINT64_MAX); break;
		case O_DRAIN: opt.drain = parse_pos("--drain", optarg); break;
		case O_WARMUP: opt.warmup = parse_pos("--warmup", optarg); break;
		case O_NAGLE: opt.nagle = true; break;
		case O_SPLIT: parse_split(optarg); break;
		case O_WRITEV: opt.writev = true; break;
		case O_COALESCE: opt.coalesce = (unsigned)parse_u64("--coalesce", optarg, 1, 100000); break;
		case 'h': usage(); exit(0);
		case ':': usage_error("%s needs a value", argv[optind - 1]);
		default:
			if (optopt)
				usage_error("unknown flag -%c", optopt);
			usage_error("unknown flag %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!have_port)
		usage_error("-p PORT is required (the server prints it: 'listening on ADDR:PORT')");
	struct sockaddr_storage ss;
	if (net_sockaddr(opt.host, opt.port, &ss) == 0)
		usage_error("--host: '%s' is not an IPv4 or IPv6 address", opt.host);
	snprintf(server_addr, sizeof(server_addr), strchr(opt.host, ':') ? "[%s]:%u" : "%s:%u",
		 opt.host, opt.port);
	if (have_time && opt.messages)
		usage_error("-t and -n exclude each other: a run is timed or counted");
	if (opt.warmup > 0 && opt.messages)
		usage_error("--warmup needs a timed run (-t), not -n");
	if (have_size && (have_min || have_max))
		usage_error("-s and --size-min/--size-max exclude each other");
	if (have_min != have_max)
		usage_error("--size-min and --size-max go together");
	if (opt.framing == FRAMING_FIXED) {
		if (have_min)
			usage_error("-f fixed:%zu sends frames of exactly %zu bytes: no --size-min/--size-max",
				    opt.frame_size, opt.frame_size);
		if (have_size && opt.size_max != opt.frame_size)
			usage_error("-f fixed:%zu: the payload is the frame, -s %u does not fit",
				    opt.frame_size, opt.size_max);
		opt.size_min = opt.size_max = (uint32_t)opt.frame_size;
	}
	if (opt.size_min > opt.size_max)
		usage_error("--size-min %u is larger than --size-max %u", opt.size_min, opt.size_max);
	if (opt.framing == FRAMING_RAW && opt.size_min == 0)
		usage_error("raw framing needs messages of at least 1 byte");
	if (opt.rate > 0 && have_depth)
		usage_error("-d is for the closed loop, -r for the open loop: choose one");
	if (opt.mode == MODE_CHURN && (opt.rate > 0 || have_depth))
		usage_error("churn does one echo per connection: no -r or -d");
	if (opt.mode == MODE_IDLE && !have_idle)
		opt.idle = DEFAULT_IDLE;
	if (have_slow && opt.mode != MODE_SLOW)
		usage_error("--slow-after only applies to -m slow");
	if (opt.mode == MODE_SLOW && !have_slow)
		opt.slow_after = DEFAULT_SLOW_AFTER;
	if (opt.writev && opt.split != SPLIT_HEADER)
		usage_error("--writev joins the two parts of --split header: add --split header");
	if (opt.split != SPLIT_NONE && opt.mode == MODE_TINY)
		usage_error("-m tiny already writes one byte per call: no --split");
	if (opt.coalesce > 1 && (opt.split != SPLIT_NONE || opt.mode == MODE_TINY))
		usage_error("--coalesce puts whole messages in one write: not with --split or -m tiny");
	if (opt.coalesce > 1 && opt.rate == 0 && opt.depth < opt.coalesce)
		usage_error("--coalesce %u needs -d %u or more: with fewer messages in flight there"
			    " are never %u to write at once", opt.coalesce, opt.coalesce, opt.coalesce);
	if (opt.threads > opt.conns)
		opt.threads = opt.conns;         /* a thread without connections has nothing to do */
}
