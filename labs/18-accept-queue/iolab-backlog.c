/*
 * iolab-backlog — the accept queue: what happens to connections nobody accepts.
 *
 * The measurements run in a network namespace of their own (unshare(CLONE_NEWNET)
 * at start), so that the sysctl net.ipv4.tcp_abort_on_overflow can be changed
 * without touching the host, and the kernel's counters (/proc/net/netstat, what
 * `nstat` prints) count only this program's connections.  Where namespaces are not
 * allowed the program says why and exits 77.
 *
 *   queue     listen(fd, N), never accept; clients connect one at a time.  How many
 *             complete the handshake; what the listener's Recv-Q/Send-Q say (as `ss
 *             -tln`); the next client's state and SYN retransmissions (TCP_INFO);
 *             TcpExtListenOverflows / TcpExtListenDrops.
 *   abort     the same with net.ipv4.tcp_abort_on_overflow=1
 *   late      a handshake that is still open when the queue fills up: its final ACK
 *             (held back with TCP_DEFER_ACCEPT until the client's first byte) finds
 *             the queue full -- with tcp_abort_on_overflow 0 and then 1
 *   emfile    the process is out of descriptors (RLIMIT_NOFILE) while clients wait:
 *             a level-triggered epoll loop with plain accept4(), and with the spare
 *             descriptor trick (common/net.c net_accept())
 *   aborted   a queued client gives up (RST, or FIN) before the server accepts: what
 *             accept() and the first read() return (ECONNABORTED?)
 *
 * --serve is the lab's listener: listen(fd, BACKLOG) on the host's loopback and accept
 * nothing (or one connection every --accept-every seconds), so that nc, ss and nstat
 * in other terminals can watch the queue.
 *
 * Usage:  iolab-backlog [--json] [-b BACKLOG] [--watch SECS] [--no-netns] [--bug=NAME] [CASE...]
 *         iolab-backlog --serve [-p PORT] [-b BACKLOG] [--accept-every SECS]
 * Needs:  Linux; root (or unprivileged user namespaces) for the namespace.  LESSONS.md §18.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "common/cli.h"
#include "common/errname.h"
#include "common/diag.h"
#include "common/net.h"

#define EXIT_SKIP        77
#define CONNECT_WAIT_MS  300   /* a loopback handshake that has not completed by then is not going to */
#define MAX_BACKLOG      64
#define EMFILE_SLACK     3     /* emfile: descriptors left for connections */
#define EMFILE_CLIENTS   6     /* emfile: clients, more than the slack */

/* --bug=NAME (repeatable): a deliberate mistake, so that the lab's check can be seen to fail. */
enum { BUG_ACCEPT = 1, BUG_NO_SPARE = 2 };   /* bits: 1 << index in bug_names */
static const char *const bug_names[] = { "accept", "no-spare", NULL };
static unsigned bugs;
static int  backlog = 2;
static double watch_s = 3.5;
static bool json, in_netns;
static bool first_case = true;

static void die(const char *what)
{
	fprintf(stderr, "iolab-backlog: %s: %s\n", what, strerror(errno));
	exit(1);
}

static const char *tcp_state_name(int st)
{
	static const char *const names[] = {
		"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
		"CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
	};

	return st > 0 && st < (int)(sizeof(names) / sizeof(names[0])) ? names[st] : "?";
}

/* ------------------------------------------------------------------ the namespace */

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/*
 * A network namespace of our own, with its loopback up.  As root: unshare(CLONE_NEWNET).
 * Otherwise a user namespace first (we become its root, which may change the sysctls
 * of a network namespace it owns).  Exits 77 with the reason where neither is allowed.
 */
static void enter_netns(void)
{
	struct ifreq ifr;
	int fd, e;

	if (unshare(CLONE_NEWNET) < 0) {
		uid_t uid = getuid();
		gid_t gid = getgid();
		char map[64];

		e = errno;
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
			printf("SKIP: cannot create a network namespace: unshare(CLONE_NEWNET): %s; "
			       "with a user namespace: %s.  Run as root, or allow unprivileged user "
			       "namespaces (sysctl kernel.unprivileged_userns_clone=1)\n",
			       strerror(e), strerror(errno));
			exit(EXIT_SKIP);
		}
		write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		write_file("/proc/self/uid_map", map);
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		write_file("/proc/self/gid_map", map);
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		die("SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP;   /* a new namespace's loopback starts down */
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		die("SIOCSIFFLAGS lo up");
	close(fd);
	in_netns = true;
}

/* net.ipv4.tcp_abort_on_overflow, in our namespace only. */
static void set_abort_on_overflow(int on)
{
	if (!in_netns) {
		fprintf(stderr, "iolab-backlog: refusing to change net.ipv4.tcp_abort_on_overflow outside a namespace (--no-netns)\n");
		exit(2);
	}
	if (write_file("/proc/sys/net/ipv4/tcp_abort_on_overflow", on ? "1\n" : "0\n") < 0)
		die("write /proc/sys/net/ipv4/tcp_abort_on_overflow");
}

/* A TcpExt counter from /proc/net/netstat (what `nstat -az TcpExtNAME` prints). */
static long tcpext(const char *name)
{
	char names[8192], values[8192];
	FILE *f = fopen("/proc/net/netstat", "r");
	long v = -1;

	if (!f)
		return -1;
	while (fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f)) {
		char *sn, *sv, *n, *val;

		if (strncmp(names, "TcpExt:", 7))
			continue;
		n = strtok_r(names, " \n", &sn);
		val = strtok_r(values, " \n", &sv);
		while ((n = strtok_r(NULL, " \n", &sn)) && (val = strtok_r(NULL, " \n", &sv)))
			if (!strcmp(n, name)) {
				v = atol(val);
				break;
			}
		break;
	}
	fclose(f);
	return v;
}

/* ------------------------------------------------------------------ helpers */

static int listener(int n, bool defer)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int secs = 10;

	if (fd < 0)
		die("socket");
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("bind 127.0.0.1:0");
	/* TCP_DEFER_ACCEPT: the server ignores the bare final ACK and waits for data. */
	if (defer && setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs)) < 0)
		die("setsockopt TCP_DEFER_ACCEPT");
	if (listen(fd, n) < 0)
		die("listen");
	return fd;
}

/* Start a nonblocking connect to port; the handshake runs on its own. */
static int start_connect(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS)
		die("connect");
	return fd;
}

/* Wait for a nonblocking connect: 0 connected, an errno, or -1 still in progress. */
static int connect_result(int fd, int wait_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);

	if (poll(&p, 1, wait_ms) == 0)
		return -1;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return err;
}

static struct tcp_info tcpinfo(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		die("getsockopt TCP_INFO");
	return ti;
}

static void case_begin(const char *name, const char *what)
{
	if (json)
		printf("%s\"%s\":{", first_case ? "" : ",", name);
	else
		printf("\n%s -- %s\n", name, what);
	first_case = false;
}

static void case_end(void)
{
	if (json)
		printf("}");
	fflush(stdout);
}

/* ------------------------------------------------------------------ queue / abort */

static void queue_case(const char *name, int abort_on_overflow)
{
	int cfd[MAX_BACKLOG + 3], nc = backlog + 3, established = 0, stuck = -1, stuck2 = -1;
	int accepted_late = 0;
	long of0 = tcpext("ListenOverflows"), dr0 = tcpext("ListenDrops");
	struct diag_found q;
	struct tcp_info ti, ti2;
	int lfd, r1 = -1;
	uint16_t port;
	char what[128];

	if (in_netns)
		set_abort_on_overflow(abort_on_overflow);
	lfd = listener(backlog, false);
	port = net_local_port(lfd);
	for (int i = 0; i < nc; i++) {
		int r;

		cfd[i] = start_connect(port);
		r = connect_result(cfd[i], CONNECT_WAIT_MS);
		if (bugs & BUG_ACCEPT) {
			/* The bug: a server that does accept() -- the queue never fills. */
			struct pollfd lp = { .fd = lfd, .events = POLLIN };
			int fd;

			while (poll(&lp, 1, 0) == 1 && (fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
				accepted_late++;
				close(fd);
			}
		}
		if (r == 0)
			established++;
		else if (stuck < 0)
			stuck = i, r1 = r;
		else if (stuck2 < 0)
			stuck2 = i;
	}
	/* What `ss -tln` shows for the listener: Recv-Q = completed and waiting, Send-Q = backlog. */
	if (diag_tcp_count(DIAG_STATE(TCP_LISTEN), port, 0, &q) < 0)
		die("sock_diag");
	cli_sleep_ms((long)(watch_s * 1000));
	ti = tcpinfo(cfd[stuck >= 0 ? stuck : 0]);
	ti2 = tcpinfo(cfd[stuck2 >= 0 ? stuck2 : 0]);
	if (stuck >= 0 && r1 < 0) {
		r1 = connect_result(cfd[stuck], 0);
	}
	snprintf(what, sizeof(what), "listen(fd, %d), no accept(), %d clients one at a time, tcp_abort_on_overflow=%d",
		 backlog, nc, abort_on_overflow);
	case_begin(name, what);
	{
		long of = tcpext("ListenOverflows") - of0, dr = tcpext("ListenDrops") - dr0;
		int st = stuck >= 0 ? ti.tcpi_state : 0;
		int err = stuck >= 0 ? (r1 > 0 ? r1 : 0) : 0;

		if (json) {
			printf("\"backlog\":%d,\"clients\":%d,\"established\":%d,\"recv_q\":%u,\"send_q\":%u,"
			       "\"abort_on_overflow\":%d,\"watch_ms\":%ld,\"next_state\":\"%s\",\"next_syn_sent\":%s,"
			       "\"next_retransmits\":%u,\"next_error\":\"%s\",\"next_refused_or_reset\":%s,"
			       "\"second_state\":\"%s\",\"second_retransmits\":%u,"
			       "\"listen_overflows\":%ld,\"listen_drops\":%ld,\"netns\":%s",
			       backlog, nc, established, q.rqueue, q.wqueue, abort_on_overflow, (long)(watch_s * 1000),
			       stuck >= 0 ? tcp_state_name(st) : "none", st == TCP_SYN_SENT ? "true" : "false",
			       stuck >= 0 ? ti.tcpi_total_retrans : 0, errno_name(err),
			       err == ECONNREFUSED || err == ECONNRESET ? "true" : "false",
			       stuck2 >= 0 ? tcp_state_name(ti2.tcpi_state) : "none",
			       stuck2 >= 0 ? ti2.tcpi_total_retrans : 0, of, dr, in_netns ? "true" : "false");
		} else {
			printf("  %d of %d clients completed the handshake (backlog %d)\n", established, nc, backlog);
			printf("  the listener, as ss -tln shows it: Recv-Q %u  Send-Q %u\n", q.rqueue, q.wqueue);
			if (stuck >= 0)
				printf("  client %d after %.1f s: %s, %u SYN retransmission(s)%s%s\n", stuck + 1, watch_s,
				       tcp_state_name(st), ti.tcpi_total_retrans, err ? ", connect error " : "",
				       err ? errno_name(err) : "");
			if (stuck2 >= 0)
				printf("  client %d after %.1f s: %s, %u SYN retransmission(s)\n", stuck2 + 1, watch_s,
				       tcp_state_name(ti2.tcpi_state), ti2.tcpi_total_retrans);
			printf("  TcpExtListenOverflows +%ld  TcpExtListenDrops +%ld%s\n", of, dr,
			       in_netns ? "" : "  (host-wide: other programs count too)");
			if (accepted_late)
				printf("  (--bug=accept: the server accepted %d)\n", accepted_late);
		}
	}
	case_end();
	for (int i = 0; i < nc; i++)
		close(cfd[i]);
	close(lfd);
}

static void case_queue(void) { queue_case("queue", 0); }

/* --no-netns: a case that changes a sysctl is reported as skipped.  Returns true then. */
static bool skipped_without_netns(const char *name)
{
	if (in_netns)
		return false;
	case_begin(name, "skipped: --no-netns (changing the sysctl needs our own namespace)");
	if (json)
		printf("\"skipped\":true");
	case_end();
	return true;
}

static void case_abort(void)
{
	if (!skipped_without_netns("abort"))
		queue_case("abort", 1);
}

/* ------------------------------------------------------------------ late */

/*
 * Client X completes its handshake first, but the server holds back its final ACK
 * (TCP_DEFER_ACCEPT: a bare ACK does not create the connection, data does).  Then
 * backlog+1 clients connect and send a byte: the queue is full.  Then X sends its
 * byte: the connection is created only now, and finds the queue full.
 */
static void late_one(int abort_on_overflow, bool first)
{
	int x, others[MAX_BACKLOG + 1], lfd, st, rerr = 0;
	long of0, of;
	uint16_t port;
	struct tcp_info ti;
	struct diag_found q;
	ssize_t r;
	char b;

	set_abort_on_overflow(abort_on_overflow);
	of0 = tcpext("ListenOverflows");
	lfd = listener(backlog, true);
	port = net_local_port(lfd);
	x = start_connect(port);
	if (connect_result(x, CONNECT_WAIT_MS) != 0)
		die("late: client X did not connect");
	for (int i = 0; i < backlog + 1; i++) {
		others[i] = start_connect(port);
		if (connect_result(others[i], CONNECT_WAIT_MS) != 0 || write(others[i], "o", 1) != 1)
			die("late: a client did not connect");
	}
	for (long t0 = cli_now_ms(); cli_now_ms() - t0 < 1000; cli_sleep_ms(5))
		if (diag_tcp_count(DIAG_STATE(TCP_LISTEN), port, 0, &q) == 0 && (int)q.rqueue >= backlog + 1)
			break;
	if (write(x, "x", 1) != 1)   /* X's first byte: now the server creates X's connection */
		die("late: write X");
	cli_sleep_ms((long)(watch_s * 1000 / 2));
	ti = tcpinfo(x);
	st = ti.tcpi_state;
	r = recv(x, &b, 1, MSG_DONTWAIT);
	rerr = r < 0 ? errno : 0;
	of = tcpext("ListenOverflows") - of0;
	if (json)
		printf("%s\"abort%d\":{\"state\":\"%s\",\"reset\":%s,\"read_errno\":%d,\"read_error\":\"%s\","
		       "\"retransmits\":%u,\"listen_overflows\":%ld,\"queued\":%u}",
		       first ? "" : ",", abort_on_overflow, tcp_state_name(st), rerr == ECONNRESET ? "true" : "false",
		       rerr, errno_name(rerr), ti.tcpi_total_retrans, of, q.rqueue);
	else
		printf("  tcp_abort_on_overflow=%d: X is %s, its read: %s, %u retransmission(s) of its byte, "
		       "ListenOverflows +%ld (queue held %u)\n",
		       abort_on_overflow, tcp_state_name(st), rerr ? errno_name(rerr) : "nothing yet (EAGAIN)",
		       ti.tcpi_total_retrans, of, q.rqueue);
	close(x);
	for (int i = 0; i < backlog + 1; i++)
		close(others[i]);
	close(lfd);
}

static void case_late(void)
{
	if (skipped_without_netns("late"))
		return;
	case_begin("late", "the final ACK of a handshake arrives when the queue is full");
	late_one(0, true);
	late_one(1, false);
	case_end();
}

/* ------------------------------------------------------------------ emfile */

/*
 * The server (this process) may open only a few more descriptors; a child process
 * connects EMFILE_CLIENTS clients and reports how many the server closed at once.
 * The server runs a level-triggered epoll loop for one second, keeping every
 * connection it accepts.
 */
static void emfile_one(const char *name, bool spare, bool first)
{
	int lfd, ep, pfd[2], shed = -1;
	struct epoll_event ev = { .events = EPOLLIN };
	struct rlimit old, lim;
	long emfile = 0, waits = 0, accepted = 0, t0;
	uint16_t port;
	int kept[64], nkept = 0;
	pid_t pid;

	lfd = listener(64, false);
	net_set_nonblock(lfd, true);
	port = net_local_port(lfd);
	if (pipe(pfd) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		/* The clients: connect, then see who is closed by the server within 1.5 s. */
		int c[EMFILE_CLIENTS], n = 0;

		close(pfd[0]);
		for (int i = 0; i < EMFILE_CLIENTS; i++) {
			c[i] = start_connect(port);
			connect_result(c[i], CONNECT_WAIT_MS);
		}
		cli_sleep_ms(1500);
		for (int i = 0; i < EMFILE_CLIENTS; i++) {
			char b;

			if (recv(c[i], &b, 1, MSG_DONTWAIT) == 0)
				n++;   /* end of file: the server accepted and closed it */
		}
		if (write(pfd[1], &n, sizeof(n)) != (ssize_t)sizeof(n))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		die("epoll");
	if (spare)
		net_reserve_fd();
	/* Room for EMFILE_SLACK more descriptors, no more. */
	getrlimit(RLIMIT_NOFILE, &old);
	{
		int top = fcntl(0, F_DUPFD, 0);   /* the lowest free descriptor number */

		close(top);
		lim = old;
		lim.rlim_cur = (rlim_t)top + EMFILE_SLACK;
	}
	if (setrlimit(RLIMIT_NOFILE, &lim) < 0)
		die("setrlimit");
	for (t0 = cli_now_ms(); cli_now_ms() - t0 < 1000;) {
		struct epoll_event out;
		int n = epoll_wait(ep, &out, 1, 100), fd;

		waits++;
		if (n <= 0)
			continue;
		fd = spare ? net_accept(lfd, SOCK_NONBLOCK, NULL) : accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		if (fd >= 0) {
			accepted++;
			if (nkept < 64)
				kept[nkept++] = fd;
			continue;
		}
		if (errno == EMFILE)
			emfile++;   /* plain accept4: the connection stays queued, the listener stays
				     * readable, and level-triggered epoll reports it again at once */
	}
	setrlimit(RLIMIT_NOFILE, &old);
	if (read(pfd[0], &shed, sizeof(shed)) != (ssize_t)sizeof(shed))
		shed = -1;
	waitpid(pid, NULL, 0);
	close(pfd[0]);
	if (json)
		printf("%s\"%s\":{\"accepted\":%ld,\"emfile_errors\":%ld,\"wait_calls\":%ld,\"clients\":%d,\"clients_closed\":%d}",
		       first ? "" : ",", name, accepted, emfile, waits, EMFILE_CLIENTS, shed);
	else
		printf("  %-26s accepted %ld, EMFILE %ld times, %ld epoll_wait calls in 1 s; "
		       "%d of %d clients were closed by the server, the rest still wait\n",
		       spare ? "net_accept (spare fd):" : "plain accept4:", accepted, emfile, waits,
		       shed, EMFILE_CLIENTS);
	for (int i = 0; i < nkept; i++)
		close(kept[i]);
	close(ep);
	close(lfd);
}

static void case_emfile(void)
{
	case_begin("emfile", "out of descriptors while clients wait, level-triggered epoll, 1 s");
	emfile_one("plain", false, true);
	emfile_one("spare", !(bugs & BUG_NO_SPARE), false);   /* the bug: no spare here either */
	case_end();
}

/* ------------------------------------------------------------------ aborted */

static void aborted_one(bool rst, bool first)
{
	int lfd = listener(backlog, false), c, fd, aerr = 0, rerr = 0;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	uint16_t port = net_local_port(lfd);
	ssize_t r = 0;
	char b;

	c = start_connect(port);
	if (connect_result(c, CONNECT_WAIT_MS) != 0)
		die("aborted: connect");
	if (rst)
		setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c);                 /* the client gives up while queued */
	cli_sleep_ms(50);
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	if (fd < 0)
		aerr = errno;
	else {
		r = read(fd, &b, 1);
		rerr = r < 0 ? errno : 0;
		close(fd);
	}
	if (json)
		printf("%s\"%s\":{\"accept_ret\":%d,\"accept_errno\":%d,\"accept_error\":\"%s\",\"econnaborted\":%s,"
		       "\"read_ret\":%zd,\"read_error\":\"%s\"}",
		       first ? "" : ",", rst ? "rst" : "fin", fd < 0 ? -1 : 0, aerr, errno_name(aerr),
		       aerr == ECONNABORTED ? "true" : "false", r, errno_name(rerr));
	else
		printf("  client closed with %s before accept(): accept() %s%s; read() %s%s\n",
		       rst ? "RST" : "FIN", fd < 0 ? "-1 " : "returned a socket",
		       fd < 0 ? errno_name(aerr) : "", fd < 0 ? "not called" : (r == 0 ? "returned 0 (end of file)" : "-1 "),
		       fd >= 0 && r < 0 ? errno_name(rerr) : "");
	close(lfd);
}

static void case_aborted(void)
{
	case_begin("aborted", "a queued client gives up before accept()");
	aborted_one(true, true);
	aborted_one(false, false);
	case_end();
}

/* ------------------------------------------------------------------ --serve */

static volatile sig_atomic_t stop;
static void on_signal(int sig) { stop = sig; }

static int serve(uint16_t port, double every)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sigaction sa = { .sa_handler = on_signal };
	int one = 1, lfd, held[1024], nheld = 0;
	long next = cli_now_ms() + (long)(every * 1000);

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("bind 127.0.0.1");
	if (listen(lfd, backlog) < 0)
		die("listen");
	printf("listening on 127.0.0.1:%u\n", net_local_port(lfd));
	fflush(stdout);
	fprintf(stderr, "iolab-backlog --serve: listen(fd, %d) and %s; pid %d\n", backlog,
		every > 0 ? "accept one connection now and then" : "never accept()", (int)getpid());
	while (!stop) {
		cli_sleep_ms(100);
		if (every > 0 && cli_now_ms() >= next) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			uint16_t pp = fd >= 0 ? net_peer_port(fd) : 0;

			next = cli_now_ms() + (long)(every * 1000);
			if (fd >= 0 && nheld < 1024) {
				held[nheld++] = fd;   /* kept open (not read): the client stays connected */
				fprintf(stderr, "accepted the connection from port %u (%d so far)\n", pp, nheld);
			} else if (fd >= 0) {
				close(fd);
			}
		}
	}
	for (int i = 0; i < nheld; i++)
		close(held[i]);
	close(lfd);
	fprintf(stderr, "iolab-backlog --serve: %s, exiting\n", stop == SIGINT ? "SIGINT" : "SIGTERM");
	return 0;
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: iolab-backlog [--json] [-b BACKLOG] [--watch SECS] [--no-netns] [--bug=NAME] [CASE...]\n"
		"       iolab-backlog --serve [-p PORT] [-b BACKLOG] [--accept-every SECS]\n"
		"\n"
		"What happens to connections nobody accepts, measured in a network namespace of\n"
		"its own (so that sysctls and counters are its own).  Cases (default: all):\n"
		"  queue    listen(fd, BACKLOG), no accept(): handshakes completed, Recv-Q/Send-Q,\n"
		"           the next client's state and SYN retransmissions, ListenOverflows/Drops\n"
		"  abort    the same with net.ipv4.tcp_abort_on_overflow=1 (in the namespace)\n"
		"  late     a final ACK that finds the queue full, abort_on_overflow 0 and 1\n"
		"  emfile   out of descriptors while clients wait: plain accept4 vs the spare fd\n"
		"  aborted  a queued client leaves (RST, FIN) before accept(): ECONNABORTED?\n"
		"\n"
		"Options:\n"
		"  --json           one JSON object (case -> results) on stdout\n"
		"  -b, --backlog N  listen() backlog (1..%d, default 2)\n"
		"  --watch SECS     how long to watch the client that did not get in (default 3.5)\n"
		"  --no-netns       stay in this network namespace (abort and late are then skipped;\n"
		"                   the counters are host-wide)\n"
		"  --bug=NAME       accept (queue/abort: the server drains the queue) or\n"
		"                   no-spare (emfile: the second server also has no spare descriptor); repeatable\n"
		"  --serve          listen on the host's loopback (prints 'listening on ADDR:PORT') and\n"
		"                   accept nothing, until SIGINT/SIGTERM\n"
		"  -p PORT          --serve: port (default 0: a free one)\n"
		"  --accept-every SECS  --serve: accept (and keep) one connection every SECS seconds\n"
		"  -h, --help       this text\n"
		"Exit: 0 done, 1 a system call failed, 2 usage, 77 no network namespace allowed.\n"
		"LESSONS.md section 18.\n", MAX_BACKLOG);
}

static double parse_num(const char *opt, const char *s, double lo, double hi, bool whole)
{
	long l;
	double v;

	if (whole ? !cli_parse_long(s, (long)lo, (long)hi, &l) : !cli_parse_double(s, lo, hi, &v)) {
		fprintf(stderr, "iolab-backlog: %s: '%s' is not a %snumber from %g to %g (try --help)\n",
			opt, s, whole ? "whole " : "", lo, hi);
		exit(2);
	}
	return whole ? (double)l : v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "backlog", required_argument, NULL, 'b' },
		{ "watch", required_argument, NULL, 'W' },
		{ "no-netns", no_argument, NULL, 'N' },
		{ "bug", required_argument, NULL, 'B' },
		{ "serve", no_argument, NULL, 'S' },
		{ "accept-every", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct cli_case cases[] = {
		{ "queue", case_queue }, { "abort", case_abort }, { "late", case_late },
		{ "emfile", case_emfile }, { "aborted", case_aborted },
	};
	const size_t ncases = sizeof(cases) / sizeof(cases[0]);
	bool want[sizeof(cases) / sizeof(cases[0])] = { false }, any = false, netns = true, do_serve = false;
	double every = 0;
	uint16_t port = 0;
	int c;

	while ((c = getopt_long(argc, argv, "hb:p:", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'b': backlog = (int)parse_num("--backlog", optarg, 1, MAX_BACKLOG, true); break;
		case 'W': watch_s = parse_num("--watch", optarg, 0.1, 120, false); break;
		case 'N': netns = false; break;
		case 'S': do_serve = true; break;
		case 'e': every = parse_num("--accept-every", optarg, 0, 3600, false); break;
		case 'p': port = (uint16_t)parse_num("-p", optarg, 0, 65535, true); break;
		case 'B':
			if (cli_name_index(bug_names, optarg) < 0) {
				fprintf(stderr, "iolab-backlog: --bug: unknown bug '%s' (accept, no-spare)\n", optarg);
				return 2;
			}
			bugs |= 1u << cli_name_index(bug_names, optarg);
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (do_serve) {
		if (optind < argc) {
			fprintf(stderr, "iolab-backlog: --serve takes no cases ('%s')\n", argv[optind]);
			return 2;
		}
		return serve(port, every);
	}
	c = cli_pick_cases(cases, ncases, argc, argv, optind, want, &any);
	if (c >= 0) {
		fprintf(stderr, "iolab-backlog: unknown case '%s' (queue abort late emfile aborted)\n", argv[c]);
		return 2;
	}
	if (netns)
		enter_netns();
	signal(SIGPIPE, SIG_IGN);
	if (json)
		printf("{\"bug_accept\":%s,\"bug_no_spare\":%s,\"netns\":%s,", bugs & BUG_ACCEPT ? "true" : "false",
		       bugs & BUG_NO_SPARE ? "true" : "false", in_netns ? "true" : "false");
	else
		printf("iolab-backlog: the accept queue (pid %d, %s)%s%s\n", (int)getpid(),
		       in_netns ? "in a network namespace of its own" : "host network namespace",
		       bugs & BUG_ACCEPT ? ", --bug=accept" : "", bugs & BUG_NO_SPARE ? ", --bug=no-spare" : "");
	fflush(stdout);
	for (size_t k = 0; k < ncases; k++) {
		if (any && !want[k])
			continue;
		cases[k].run();
	}
	if (json)
		printf("}\n");
	return 0;
}
