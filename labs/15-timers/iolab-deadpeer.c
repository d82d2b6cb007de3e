/*
 * iolab-deadpeer — a peer that dies without a word, and who notices (LESSONS.md §15).
 *
 * A TCP connection has no heartbeat of its own.  When the peer's machine loses power
 * or its cable is cut, no FIN and no RST ever arrive; the socket stays ESTABLISHED and
 * select/poll/epoll have nothing to report, for hours.  This program builds that
 * situation for real, in network namespaces it creates itself, and measures who
 * notices and when:
 *
 *   (a) silent     no keepalive, nothing to send: epoll reports nothing, ever.
 *   (b) keepalive  SO_KEEPALIVE with TCP_KEEPIDLE/INTVL/CNT = 1/1/3: after 1 s of
 *                  silence a probe, then one a second; the third unanswered one ends
 *                  it: EPOLLERR|EPOLLHUP and ETIMEDOUT about 4 s after the peer's
 *                  last packet.
 *   (d) busy       keepalive as (b), but the server has sent a byte the peer never
 *                  acknowledges: keepalive probes only an idle connection, so it stays
 *                  silent; retransmission owns the socket (and gives up after ~15 min).
 *   (c) stopped    the peer's process is stopped (SIGSTOP): its kernel still answers
 *                  the keepalive probes, so keepalive never fires; only an application
 *                  heartbeat (a byte every --heartbeat ms, the deadline kept in the
 *                  timing wheel of common/wheel.c) finds it.
 *
 * The set-up: this process enters a new network namespace ("here"), forks a peer that
 * enters another one ("there"), and joins them with a veth pair, 10.15.0.1 here and
 * 10.15.0.2 there.  The peer connects (a), (b) and (d); then the path is cut *inside
 * its namespace*: its address is removed, so what arrives for it is dropped and
 * nothing is sent back -- as when a cable is cut between two routers.  Peer (c) is a second process here, on loopback, stopped with
 * SIGSTOP at the same moment.  Nothing outside the two namespaces is touched (no
 * sysctl, no host link); they vanish when the processes exit.
 *
 * Usage:  iolab-deadpeer [--wait SECS] [--keepalive IDLE/INTVL/CNT] [--no-keepalive]
 *                        [--heartbeat MS] [--misses N] [--json]
 * Needs:  root or unprivileged user namespaces (to create network namespaces), veth,
 *         ip (iproute2).  Exit 77 with the reason when it cannot; 0 after observing.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/wheel.h"

#define ADDR_HERE   "10.15.0.1"
#define ADDR_THERE  "10.15.0.2"
#define VETH_HERE   "dp0"
#define VETH_THERE  "dp1"
#define MAC_HERE    "02:00:0a:0f:00:01"     /* fixed, so that "here" can know "there"'s */
#define MAC_THERE   "02:00:0a:0f:00:02"     /* without asking (see the neighbour entry) */
#define EXIT_SKIP   77

enum { C_SILENT, C_KEEPALIVE, C_BUSY, C_STOPPED, NCONN };

static const char *const conn_name[NCONN] = { "silent", "keepalive", "busy", "stopped" };
static const char conn_tag[NCONN] = { 'a', 'b', 'd', 'c' };    /* the peer's first byte */

struct conn {
	int fd;
	bool keepalive;             /* SO_KEEPALIVE set */
	double last_rx;             /* s: when its last byte arrived */
	double reported;            /* s after the cut at which epoll reported it; <0: never */
	uint32_t events;            /* what epoll said */
	int error;                  /* SO_ERROR then */
	struct timer heartbeat;     /* (c): the application's deadline */
	double hb_dead;             /* s after the cut the heartbeat deadline fired; <0: never */
};

static struct {
	double wait_s;
	int idle, intvl, cnt;
	bool keepalive;
	int hb_ms, misses;
	bool json;
} opt = { 6, 1, 1, 3, true, 200, 3, false };

static struct conn conns[NCONN];
static double probe_at[16];     /* s after the cut at which (b) sent keepalive probe i+1 */
static int nprobes;
#define SAMPLE_MS 10            /* how often (b)'s probe count is read (TCP_INFO) */
static double t_cut;            /* monotonic s of the cut */
static pid_t peer_there = -1, peer_stopped = -1;
static volatile sig_atomic_t stop_requested, interrupted;

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t mono_ms(void)
{
	return (uint64_t)(mono_s() * 1000.0);
}

/* Print a line of the text report (nothing with --json). */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	if (opt.json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static void die(const char *what)
{
	fprintf(stderr, "iolab-deadpeer: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void skip(const char *why, const char *fix)
{
	printf("SKIP: %s (%s)\n", why, fix);
	fprintf(stderr, "iolab-deadpeer: SKIP: %s (%s)\n", why, fix);
	exit(EXIT_SKIP);
}

/* ------------------------------------------------------------------ namespaces */

/* Run `ip ARGS...` in the caller's namespace; its exit status (127: no ip). */
static int run_ip(const char *const *args)
{
	const char *argv[16] = { "ip" };
	int st, n = 1;
	pid_t pid;

	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char *av[16];               /* execvp() wants writable strings: copies */

		for (int i = 0; i <= n; i++)
			av[i] = argv[i] ? strdup(argv[i]) : NULL;
		execvp("ip", av);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

#define IP(...) run_ip((const char *const[]){ __VA_ARGS__, NULL })

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);

	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0) { /* reported by the unshare that follows */ }
		close(fd);
	}
}

/* Enter a new network namespace: as root directly, else inside a new user namespace
 * (where this process is root).  Skip when neither is allowed. */
static void enter_netns(void)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];

	if (unshare(CLONE_NEWNET) == 0)
		return;
	if (errno != EPERM)
		die("unshare(CLONE_NEWNET)");
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
		skip("cannot create a network namespace: unshare(CLONE_NEWNET) and "
		     "unshare(CLONE_NEWUSER|CLONE_NEWNET) are not permitted",
		     "run as root, or allow user namespaces: sysctl kernel.unprivileged_userns_clone=1, "
		     "and in a container --privileged or a seccomp profile that allows unshare");
	write_file("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	write_file("/proc/self/uid_map", map);
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	write_file("/proc/self/gid_map", map);
}

/* ------------------------------------------------------------------ the peers */

static void read_byte(int fd, char want)
{
	char c;

	for (;;) {
		ssize_t n = read(fd, &c, 1);

		if (n == 1 && c == want)
			return;
		if (n < 0 && errno == EINTR)
			continue;
		_exit(1);                           /* the parent is gone or confused */
	}
}

static int connect_to(const char *addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, addr, &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	return fd;
}

/* The peer "there": its own namespace, its end of the veth pair, connections (a),
 * (b), (d) -- then, told to, it cuts its link and waits to be killed.  Talks to the
 * parent over two pipes: `in` (commands), `out` (answers). */
static void peer_there_main(int in, int out, int port)
{
	int fds[3];
	const int which[3] = { C_SILENT, C_KEEPALIVE, C_BUSY };

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (unshare(CLONE_NEWNET) < 0)
		_exit(3);
	if (write(out, "r", 1) != 1)            /* ready: the parent can create the veth pair */
		_exit(1);
	read_byte(in, 'c');                     /* configure */
	if (IP("link", "set", "lo", "up") || IP("addr", "add", ADDR_THERE "/24", "dev", VETH_THERE) ||
	    IP("link", "set", VETH_THERE, "up"))
		_exit(4);
	for (int i = 0; i < 3; i++) {
		/* The link takes a moment to come up (carrier): retry for a second. */
		for (int tries = 0; (fds[i] = connect_to(ADDR_HERE, port)) < 0; tries++) {
			if (tries == 100)
				_exit(5);
			usleep(10000);
		}
		if (write(fds[i], &conn_tag[which[i]], 1) != 1)
			_exit(5);
	}
	if (write(out, "k", 1) != 1)
		_exit(1);
	read_byte(in, 'x');
	/* The cut: take the address away.  Packets for 10.15.0.2 still arrive here, but no
	 * longer for this host, which does not forward: dropped without a word (no RST, no
	 * ICMP).  Setting the link down would also cut it, but the other end would see its
	 * carrier go -- a local hint that a cut far away does not give. */
	if (IP("addr", "del", ADDR_THERE "/24", "dev", VETH_THERE))
		_exit(6);
	if (write(out, "d", 1) != 1)
		_exit(1);
	for (;;)
		pause();                            /* keep the sockets open: no FIN, no RST */
}

/* Peer (c): a process here, on loopback, that sends a heartbeat byte every hb_ms
 * until it is stopped. */
static void peer_stopped_main(int port)
{
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = connect_to("127.0.0.1", port);
	if (fd < 0 || write(fd, &conn_tag[C_STOPPED], 1) != 1)
		_exit(5);
	for (;;) {
		usleep((useconds_t)opt.hb_ms * 1000);
		if (write(fd, "h", 1) != 1)
			_exit(0);
	}
}

/* ------------------------------------------------------------------ the observer */

static void set_keepalive(int fd)
{
	int on = 1;

	/* The three knobs first, then SO_KEEPALIVE: without SO_KEEPALIVE they do nothing --
	 * keepalive is per socket and off by default; the system-wide two hours
	 * (net.ipv4.tcp_keepalive_time) is only the default TCP_KEEPIDLE of a socket that
	 * turns it on. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &opt.idle, sizeof(opt.idle)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &opt.intvl, sizeof(opt.intvl)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &opt.cnt, sizeof(opt.cnt)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) < 0)
		die("setsockopt(keepalive)");
}

static const char *errno_name(int e)
{
	switch (e) {
	case 0: return "0";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECONNRESET: return "ECONNRESET";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ENETUNREACH: return "ENETUNREACH";
	default: return strerror(e);
	}
}

static void on_heartbeat_missed(struct wheel *w, struct timer *t)
{
	struct conn *c = wheel_entry(t, struct conn, heartbeat);

	c->hb_dead = mono_s() - t_cut;
	say("t=%6.3f s  (c) stopped:   no heartbeat for %d ms (%d x %d ms): the application "
	    "declares the peer dead, %.3f s after its last byte\n", c->hb_dead,
	    opt.hb_ms * opt.misses, opt.misses, opt.hb_ms, mono_s() - c->last_rx);
}

/* A periodic timer: read (b)'s tcpi_probes (keepalive probes sent and not answered)
 * and note when it goes up; then re-arm -- a callback may add its own timer again. */
static void on_sample(struct wheel *w, struct timer *t)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (conns[C_KEEPALIVE].reported >= 0)
		return;                             /* it is over: stop sampling */
	if (getsockopt(conns[C_KEEPALIVE].fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
		while (ti.tcpi_probes > nprobes && nprobes < 16) {
			probe_at[nprobes++] = mono_s() - t_cut;
			say("t=%6.3f s  (b) keepalive: probe %d sent, unanswered (tcpi_probes %u)\n",
			    probe_at[nprobes - 1], nprobes, ti.tcpi_probes);
		}
	wheel_add(w, t, wheel_now(w) + SAMPLE_MS);
}

static void on_window_end(struct wheel *w, struct timer *t)
{
	stop_requested = 1;
}

static void on_signal(int sig)
{
	interrupted = stop_requested = 1;
}

static int parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: iolab-deadpeer [--wait SECS] [--keepalive IDLE/INTVL/CNT] [--no-keepalive]\n"
	      "                      [--heartbeat MS] [--misses N] [--json]\n"
	      "  In two network namespaces of its own, joined by a veth pair: a peer vanishes\n"
	      "  (its link is cut inside its namespace: no FIN, no RST) and another is stopped\n"
	      "  (SIGSTOP).  Prints who noticed and when:\n"
	      "    (a) silent     no keepalive: epoll reports nothing\n"
	      "    (b) keepalive  TCP keepalive IDLE/INTVL/CNT: ETIMEDOUT after ~IDLE+INTVL*CNT s\n"
	      "    (d) busy       keepalive, but unacknowledged data: keepalive stays silent\n"
	      "    (c) stopped    keepalive probes are answered; only the heartbeat finds it\n"
	      "  --wait SECS        how long to watch after the cut (default 6)\n"
	      "  --keepalive I/N/C  TCP_KEEPIDLE/TCP_KEEPINTVL/TCP_KEEPCNT in s, s, probes (default 1/1/3)\n"
	      "  --no-keepalive     the broken variant: (b) without SO_KEEPALIVE\n"
	      "  --heartbeat MS     peer (c) sends a byte every MS ms (default 200)\n"
	      "  --misses N         dead after N heartbeats missed (default 3)\n"
	      "  --json             one JSON object at the end instead of the text\n"
	      "  Needs root or user namespaces, veth and ip (iproute2); exit 77 (SKIP) without.\n"
	      "  LESSONS.md section 15.\n", f);
}

static void parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "wait", required_argument, NULL, 'w' }, { "keepalive", required_argument, NULL, 'k' },
		{ "no-keepalive", no_argument, NULL, 'K' }, { "heartbeat", required_argument, NULL, 'b' },
		{ "misses", required_argument, NULL, 'm' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { 0 }
	};
	int c, secs;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (parse_int(optarg, 1, 600, &secs))
				goto bad;
			opt.wait_s = secs;
			break;
		case 'k':
			if (sscanf(optarg, "%d/%d/%d", &opt.idle, &opt.intvl, &opt.cnt) != 3 ||
			    opt.idle < 1 || opt.intvl < 1 || opt.cnt < 1 ||
			    opt.idle > 32767 || opt.intvl > 32767 || opt.cnt > 127)
				goto bad;
			break;
		case 'K': opt.keepalive = false; break;
		case 'b':
			if (parse_int(optarg, 10, 10000, &opt.hb_ms))
				goto bad;
			break;
		case 'm':
			if (parse_int(optarg, 1, 100, &opt.misses))
				goto bad;
			break;
		case 'j': opt.json = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iolab-deadpeer: unexpected argument '%s' (try --help)\n", argv[optind]);
		exit(2);
	}
	return;
bad:
	fprintf(stderr, "iolab-deadpeer: --%s '%s': out of range or not a number (try --help)\n",
		c == 'w' ? "wait" : c == 'k' ? "keepalive" : c == 'b' ? "heartbeat" : "misses", optarg);
	exit(2);
}

/* The listening socket on every address of this namespace, port chosen by the kernel. */
static int listen_any(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		die("listen");
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Accept the four connections and tell them apart by their first byte. */
static void accept_all(int lfd)
{
	for (int got = 0; got < NCONN; got++) {
		int fd = accept(lfd, NULL, NULL);
		char tag;
		int i;

		if (fd < 0)
			die("accept");
		if (read(fd, &tag, 1) != 1)
			die("read(first byte)");
		for (i = 0; i < NCONN && conn_tag[i] != tag; i++)
			;
		if (i == NCONN || conns[i].fd >= 0) {
			fprintf(stderr, "iolab-deadpeer: unexpected first byte '%c'\n", tag);
			exit(1);
		}
		conns[i].fd = fd;
		conns[i].last_rx = mono_s();
	}
}

static unsigned long keepalive_probes_sent(void)
{
	/* TcpExt TCPKeepAlive of *this* namespace: the probes sent here, by any socket. */
	FILE *f = fopen("/proc/net/netstat", "r");
	char names[4096], values[4096];
	unsigned long v = 0;

	if (!f)
		return 0;
	while (fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f)) {
		char *sn, *sv, *n, *x;

		if (strncmp(names, "TcpExt:", 7))
			continue;
		n = strtok_r(names, " \n", &sn);
		x = strtok_r(values, " \n", &sv);
		while (n && x) {
			if (!strcmp(n, "TCPKeepAlive"))
				v = strtoul(x, NULL, 10);
			n = strtok_r(NULL, " \n", &sn);
			x = strtok_r(NULL, " \n", &sv);
		}
	}
	fclose(f);
	return v;
}

static void report_event(struct conn *c, int i, uint32_t ev)
{
	socklen_t len = sizeof(c->error);
	const double at = mono_s();

	c->events = ev;
	c->reported = at - t_cut;
	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &c->error, &len);
	say("t=%6.3f s  (%c) %-10s epoll: %s%s%s; SO_ERROR %s -- %.3f s after the peer's last byte\n",
	    c->reported, conn_tag[i], conn_name[i],
	    ev & EPOLLIN ? "EPOLLIN " : "", ev & EPOLLERR ? "EPOLLERR " : "",
	    ev & EPOLLHUP ? "EPOLLHUP" : "", errno_name(c->error), at - c->last_rx);
}

int main(int argc, char **argv)
{
	int lfd, port, ep, to_there[2], from_there[2];
	static struct wheel w;
	struct timer window, sample;
	struct utsname un;
	char ans;
	unsigned long probes0;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (int i = 0; i < NCONN; i++) {
		conns[i].fd = -1;
		conns[i].reported = conns[i].hb_dead = -1;
	}

	enter_netns();
	if (IP("link", "set", "lo", "up") == 127)
		skip("ip (iproute2) is not installed", "apt-get install iproute2, or make deps");
	lfd = listen_any(&port);
	if (pipe(to_there) < 0 || pipe(from_there) < 0)
		die("pipe");
	peer_there = fork();
	if (peer_there < 0)
		die("fork");
	if (peer_there == 0) {
		close(to_there[1]);
		close(from_there[0]);
		peer_there_main(to_there[0], from_there[1], port);
	}
	close(to_there[0]);
	close(from_there[1]);
	if (read(from_there[0], &ans, 1) != 1 || ans != 'r')
		skip("the peer could not enter a network namespace of its own", "run as root");
	{
		char pidbuf[16];

		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)peer_there);
		if (IP("link", "add", VETH_HERE, "address", MAC_HERE, "type", "veth", "peer", "name",
		       VETH_THERE, "address", MAC_THERE, "netns", pidbuf)) {
			kill(peer_there, SIGKILL);
			skip("cannot create a veth pair (ip link add ... type veth failed)",
			     "load the module: modprobe veth");
		}
	}
	/* A permanent neighbour entry: after the cut, ARP for the peer would go unanswered,
	 * the entry would fail and the kernel would tell our sockets "host unreachable" -- a
	 * hint a real cut far away never gives.  With it, packets leave and simply vanish. */
	if (IP("addr", "add", ADDR_HERE "/24", "dev", VETH_HERE) || IP("link", "set", VETH_HERE, "up") ||
	    IP("neigh", "replace", ADDR_THERE, "lladdr", MAC_THERE, "dev", VETH_HERE, "nud", "permanent"))
		die("ip addr/link/neigh (here)");
	if (write(to_there[1], "c", 1) != 1)
		die("write(peer)");
	peer_stopped = fork();
	if (peer_stopped < 0)
		die("fork");
	if (peer_stopped == 0)
		peer_stopped_main(port);

	accept_all(lfd);
	if (read(from_there[0], &ans, 1) != 1 || ans != 'k') {
		fprintf(stderr, "iolab-deadpeer: the peer could not set up its side\n");
		interrupted = 1;
		goto out;
	}

	uname(&un);
	say("iolab-deadpeer: peers that die without a FIN or RST (kernel %s)\n", un.release);
	say("here %s (this process) <-veth-> there %s (the peer, its own namespace)\n",
	    ADDR_HERE, ADDR_THERE);
	conns[C_KEEPALIVE].keepalive = opt.keepalive;
	conns[C_BUSY].keepalive = conns[C_STOPPED].keepalive = true;
	for (int i = 0; i < NCONN; i++)
		if (conns[i].keepalive)
			set_keepalive(conns[i].fd);
	say("  (a) silent     from there, no keepalive\n");
	if (opt.keepalive)
		say("  (b) keepalive  from there, SO_KEEPALIVE, TCP_KEEPIDLE/INTVL/CNT = %d/%d/%d\n",
		    opt.idle, opt.intvl, opt.cnt);
	else
		say("  (b) keepalive  from there, SO_KEEPALIVE NOT set (--no-keepalive)\n");
	say("  (d) busy       from there, keepalive %d/%d/%d, and one byte sent to it after the cut\n",
	    opt.idle, opt.intvl, opt.cnt);
	say("  (c) stopped    a process here on 127.0.0.1, keepalive %d/%d/%d, sends a heartbeat "
	    "byte every %d ms\n", opt.idle, opt.intvl, opt.cnt, opt.hb_ms);

	/* The event loop: epoll for the sockets, the wheel for the deadlines. */
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	for (int i = 0; i < NCONN; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)i };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) < 0)
			die("epoll_ctl");
	}
	wheel_init(&w, mono_ms());
	timer_init(&conns[C_STOPPED].heartbeat, on_heartbeat_missed);

	/* The cut: the peer there sets its link down; peer (c) is stopped. */
	if (write(to_there[1], "x", 1) != 1 || read(from_there[0], &ans, 1) != 1 || ans != 'd') {
		fprintf(stderr, "iolab-deadpeer: the peer could not cut its link\n");
		interrupted = 1;
		goto out;
	}
	kill(peer_stopped, SIGSTOP);
	t_cut = mono_s();
	/* (c)'s deadline starts now, as if a heartbeat had just arrived: armed earlier, a
	 * heartbeat late on a busy machine could "kill" the peer before the experiment. */
	wheel_add(&w, &conns[C_STOPPED].heartbeat,
		  mono_ms() + (uint64_t)opt.hb_ms * (uint64_t)opt.misses);
	probes0 = keepalive_probes_sent();
	if (write(conns[C_BUSY].fd, "x", 1) != 1)
		die("write(busy)");
	say("t= 0.000 s  the path is cut (%s removed inside the peer's namespace); (c) is stopped "
	    "(SIGSTOP); watching for %.0f s\n", ADDR_THERE, opt.wait_s);
	timer_init(&window, on_window_end);
	wheel_add(&w, &window, mono_ms() + (uint64_t)(opt.wait_s * 1000));
	timer_init(&sample, on_sample);
	wheel_add(&w, &sample, mono_ms() + SAMPLE_MS);

	while (!stop_requested) {
		struct epoll_event evs[NCONN];
		int n = epoll_wait(ep, evs, NCONN, wheel_timeout(&w, mono_ms()));

		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (int k = 0; k < n; k++) {
			int i = (int)evs[k].data.u32;
			struct conn *c = &conns[i];
			char buf[256];

			if (i == C_STOPPED && !(evs[k].events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))) {
				ssize_t r = read(c->fd, buf, sizeof(buf));

				if (r > 0) {                /* a heartbeat: push the deadline back */
					c->last_rx = mono_s();
					wheel_add(&w, &c->heartbeat, mono_ms() +
						  (uint64_t)opt.hb_ms * (uint64_t)opt.misses);
					continue;
				}
			}
			report_event(c, i, evs[k].events);
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);  /* reported once is enough */
		}
		wheel_advance(&w, mono_ms());
	}

	{
		const double watched = mono_s() - t_cut;
		unsigned long probes = keepalive_probes_sent() - probes0;
		struct tcp_info ti;
		socklen_t len = sizeof(ti);
		unsigned last_data = 0, last_ack = 0, retrans = 0;

		if (getsockopt(conns[C_STOPPED].fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
			last_data = ti.tcpi_last_data_recv, last_ack = ti.tcpi_last_ack_recv;
		len = sizeof(ti);
		if (getsockopt(conns[C_BUSY].fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
			retrans = ti.tcpi_total_retrans;
		/* The same question asked with poll() and select(), at the end: nothing either. */
		struct pollfd pfd = { .fd = conns[C_SILENT].fd, .events = POLLIN | POLLRDHUP };
		fd_set rd;
		struct timeval tv0 = { 0, 0 };
		int poll_n, select_n;

		poll_n = poll(&pfd, 1, 0);
		FD_ZERO(&rd);
		FD_SET(conns[C_SILENT].fd, &rd);
		select_n = select(conns[C_SILENT].fd + 1, &rd, NULL, NULL, &tv0);
		if (conns[C_SILENT].reported < 0)
			say("t=%6.3f s  (a) silent:    no event in %.1f s -- and there never will be "
			    "(poll: %d ready, revents 0x%x; select: %d readable)\n",
			    watched, watched, poll_n, pfd.revents, select_n);
		if (conns[C_KEEPALIVE].reported < 0)
			say("t=%6.3f s  (b) keepalive: no event in %.1f s%s\n", watched, watched,
			    opt.keepalive ? "" : " -- without SO_KEEPALIVE nothing probes the peer");
		if (conns[C_BUSY].reported < 0)
			say("t=%6.3f s  (d) busy:      no event in %.1f s: data in flight, so no keepalive "
			    "probe; %u retransmissions instead\n", watched, watched, retrans);
		if (conns[C_STOPPED].reported < 0)
			say("t=%6.3f s  (c) stopped:   keepalive never fired in %.1f s: last data %u ms ago, "
			    "last ACK %u ms ago -- its kernel answers the probes\n", watched, watched,
			    last_data, last_ack);
		say("keepalive probes sent in this namespace during the watch: %lu (TcpExt TCPKeepAlive)\n",
		    probes);
		if (opt.json)
			printf("{\"kernel\":\"%s\",\"wait_s\":%.1f,\"watched_s\":%.3f,"
			       "\"keepalive\":\"%d/%d/%d\",\"keepalive_set\":%s,"
			       "\"silent_reported\":%s,\"silent_s\":%.3f,"
			       "\"silent_poll_ready\":%d,\"silent_select_ready\":%d,"
			       "\"keepalive_reported\":%s,\"keepalive_s\":%.3f,\"keepalive_error\":\"%s\",\"keepalive_errno\":%d,"
			       "\"busy_reported\":%s,\"busy_s\":%.3f,\"busy_retransmits\":%u,"
			       "\"stopped_reported\":%s,\"stopped_s\":%.3f,"
			       "\"stopped_last_ack_ms\":%u,\"stopped_last_data_ms\":%u,"
			       "\"heartbeat_ms\":%d,\"misses\":%d,\"heartbeat_detected\":%s,\"heartbeat_s\":%.3f,"
			       "\"probes\":%lu,\"keepalive_probes_seen\":%d,\"first_probe_s\":%.3f}\n",
			       un.release, opt.wait_s, watched, opt.idle, opt.intvl, opt.cnt,
			       opt.keepalive ? "true" : "false",
			       conns[C_SILENT].reported >= 0 ? "true" : "false", conns[C_SILENT].reported,
			       poll_n, select_n,
			       conns[C_KEEPALIVE].reported >= 0 ? "true" : "false", conns[C_KEEPALIVE].reported,
			       errno_name(conns[C_KEEPALIVE].error), conns[C_KEEPALIVE].error,
			       conns[C_BUSY].reported >= 0 ? "true" : "false", conns[C_BUSY].reported, retrans,
			       conns[C_STOPPED].reported >= 0 ? "true" : "false", conns[C_STOPPED].reported,
			       last_ack, last_data, opt.hb_ms, opt.misses,
			       conns[C_STOPPED].hb_dead >= 0 ? "true" : "false", conns[C_STOPPED].hb_dead,
			       probes, nprobes, nprobes ? probe_at[0] : -1.0);
	}
out:
	/* SIGKILL works on a stopped process too; the namespaces go with the processes. */
	if (peer_stopped > 0) {
		kill(peer_stopped, SIGKILL);
		waitpid(peer_stopped, NULL, 0);
	}
	if (peer_there > 0) {
		kill(peer_there, SIGKILL);
		waitpid(peer_there, NULL, 0);
	}
	return interrupted ? 130 : 0;
}
