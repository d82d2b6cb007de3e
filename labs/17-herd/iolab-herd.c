/*
 * iolab-herd — the thundering herd: N worker processes wait for connections on one
 * port; one connection arrives; how many of them wake up, and who accepts it?
 *
 * The workers are processes (fork), as in a pre-forked server; they count into
 * shared memory.  A worker that wakes tries accept4() on the nonblocking listener;
 * a wakeup that accepts nothing (EAGAIN: another worker was first) is "empty".
 * Ways of waiting (--mode, default all of them, one after the other):
 *
 *   separate   every worker has its own epoll instance holding the listener (LT)
 *   shared-lt  one epoll instance, created before fork(), every worker in epoll_wait on it
 *   shared-et  the same with EPOLLET
 *   exclusive  own instances, the listener added with EPOLLEXCLUSIVE (Linux 4.5)
 *   lock       own instances, a process-shared mutex held around epoll_wait + accept
 *              (the study notes' remedy; nginx's accept_mutex)
 *   accept     no epoll: every worker blocks in accept() on the shared listener
 *   reuseport  one listener per worker on the same port (SO_REUSEPORT), blocking accept()
 *
 * Wakeups are counted twice: returns of the waiting call to the program ("wakeups"),
 * and the worker's voluntary context switches (/proc/PID/status), which also count
 * the times the kernel woke a worker that found nothing and put it back to sleep
 * without returning ("kernel_wakeups").
 *
 * The driver connects --connections times, one at a time: connect, read the byte
 * the accepting worker writes (its number), then wait until every worker is asleep
 * again and the counters are still (--settle ms) before the next one.
 *
 * Usage:  iolab-herd [--mode MODE] [-w WORKERS] [-n CONNECTIONS] [--json] [--bug=no-exclusive]
 *         iolab-herd --serve --mode MODE [-w WORKERS] [-p PORT]
 * Try:    bin/iolab-herd                        every mode, 8 workers, 10 connections
 *         bin/iolab-herd --mode separate --json
 *         bin/iolab-herd --serve --mode separate -p 0   then: nc -z 127.0.0.1 PORT
 * Needs:  Linux >= 4.5 (EPOLLEXCLUSIVE), >= 3.9 (SO_REUSEPORT).  LESSONS.md §17.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include "common/cli.h"
#include "common/net.h"
#include "common/telemetry.h"

#define MAX_WORKERS      64
#define MAX_CONNECTIONS  10000
#define DEFAULT_SETTLE_MS 40     /* counters must stay still this long between connections */
#define REPLY_TIMEOUT_MS  3000   /* a connection nobody accepts within this is an error */

enum mode { M_SEPARATE, M_SHARED_LT, M_SHARED_ET, M_EXCLUSIVE, M_LOCK, M_ACCEPT, M_REUSEPORT, NMODES };
static const char *const mode_names[NMODES] = {
	[M_SEPARATE] = "separate", [M_SHARED_LT] = "shared-lt", [M_SHARED_ET] = "shared-et",
	[M_EXCLUSIVE] = "exclusive", [M_LOCK] = "lock", [M_ACCEPT] = "accept",
	[M_REUSEPORT] = "reuseport",
};
/* The same names with '_' for JSON keys (jq paths cannot hold '-'). */
static const char *const mode_keys[NMODES] = {
	[M_SEPARATE] = "separate", [M_SHARED_LT] = "shared_lt", [M_SHARED_ET] = "shared_et",
	[M_EXCLUSIVE] = "exclusive", [M_LOCK] = "lock", [M_ACCEPT] = "accept",
	[M_REUSEPORT] = "reuseport",
};
static const char *const mode_what[NMODES] = {
	[M_SEPARATE]  = "an epoll instance per worker, level-triggered",
	[M_SHARED_LT] = "one shared epoll instance, level-triggered",
	[M_SHARED_ET] = "one shared epoll instance, edge-triggered",
	[M_EXCLUSIVE] = "an epoll instance per worker, EPOLLEXCLUSIVE",
	[M_LOCK]      = "an epoll instance per worker, a mutex around epoll_wait",
	[M_ACCEPT]    = "every worker blocked in accept()",
	[M_REUSEPORT] = "a listener per worker, SO_REUSEPORT",
};

/* One worker's counters, in memory shared with the driver. */
struct worker {
	atomic_long wakeups;   /* the waiting call returned to the program */
	atomic_long accepts;   /* connections this worker accepted */
	atomic_long empty;     /* wakeups that accepted nothing */
	atomic_int  waiting;   /* 1 while inside the waiting call (or about to enter it) */
	pid_t       pid;
	long        ctxsw0;    /* voluntary context switches when the measurement began */
};

struct shared {
	pthread_mutex_t lock;  /* --mode lock: held around epoll_wait + accept (process-shared) */
	struct worker   w[MAX_WORKERS];
};

static struct shared *sh;
static int  nworkers = 8, nconns = 10, settle_ms = DEFAULT_SETTLE_MS;
static bool json;
static bool bug_no_exclusive;   /* --bug=no-exclusive: "exclusive" forgets EPOLLEXCLUSIVE */

static volatile sig_atomic_t stop;
static void on_signal(int sig) { stop = sig; }

static pid_t driver_pid;

static void die(const char *what)
{
	fprintf(stderr, "iolab-herd: %s: %s\n", what, strerror(errno));
	if (getpid() == driver_pid)
		tm_close();   /* --serve: remove the segment (a worker leaves it to the driver) */
	exit(1);
}

/* A listener on 127.0.0.1:port; SO_REUSEPORT for --mode reuseport. */
static int make_listener(uint16_t port, bool reuseport, bool nonblock)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Every socket on the port must set SO_REUSEPORT before bind(), or bind fails EADDRINUSE. */
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		die("setsockopt SO_REUSEPORT");
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("bind 127.0.0.1");
	if (listen(fd, NET_BACKLOG) < 0)
		die("listen");
	return fd;
}

static long read_ctxsw(pid_t pid)
{
	char path[64], line[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* ------------------------------------------------------------------ a worker */

/* Accept one connection (or, edge-triggered, all of them), answer with our number, close. */
static long take(struct worker *me, int lfd, int id, bool drain)
{
	long got = 0;
	unsigned char b = (unsigned char)id;

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			break;   /* EAGAIN: another worker took it (or, draining, the queue is empty) */
		}
		got++;
		atomic_fetch_add(&me->accepts, 1);
		tm_add(TM_ACCEPTS, 1);
		tm_add(TM_CLOSES, 1);
		if (write(fd, &b, 1) < 0) { /* the client left already: nothing to tell it */ }
		close(fd);
		if (!drain)
			break;   /* level-triggered: epoll reports the listener again if more wait */
	}
	return got;
}

static void worker_main(int id, enum mode mode, int lfd, int shared_ep, uint16_t port)
{
	struct worker *me = &sh->w[id];
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = shared_ep;

	prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive the driver */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);            /* Ctrl-C goes to the driver, which stops us */
	if (mode == M_REUSEPORT) {
		/*
		 * The driver's listener came with fork(): close our copy, or it stays in the
		 * port's group with nobody accepting, and the connections hashed to it wait forever.
		 */
		close(lfd);
		lfd = make_listener(port, true, false);   /* our own listener on the same port */
	} else if (mode == M_SEPARATE || mode == M_EXCLUSIVE || mode == M_LOCK) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0)
			die("epoll_create1");
		if (mode == M_EXCLUSIVE && !bug_no_exclusive)
			ev.events |= EPOLLEXCLUSIVE;  /* wake one (or a few) of the instances, not all */
		if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
			die("epoll_ctl ADD listener");
	}
	for (;;) {
		struct epoll_event out;
		long got;
		int n;

		if (mode == M_ACCEPT || mode == M_REUSEPORT) {
			/* Blocking accept(): the kernel queues the waiters exclusively, wakes one. */
			atomic_store(&me->waiting, 1);
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			atomic_store(&me->waiting, 0);
			atomic_fetch_add(&me->wakeups, 1);
			tm_add(TM_WAIT_CALLS, 1);
			if (fd < 0) {
				atomic_fetch_add(&me->empty, 1);
				tm_add(TM_EMPTY_WAKEUPS, 1);
				continue;
			}
			unsigned char b = (unsigned char)id;
			atomic_fetch_add(&me->accepts, 1);
			tm_add(TM_ACCEPTS, 1);
			tm_add(TM_CLOSES, 1);
			if (write(fd, &b, 1) < 0) { /* the client left already */ }
			close(fd);
			continue;
		}
		if (mode == M_LOCK) {
			atomic_store(&me->waiting, 1);
			pthread_mutex_lock(&sh->lock);   /* only the holder waits in epoll_wait */
		}
		atomic_store(&me->waiting, 1);
		n = epoll_wait(ep, &out, 1, -1);
		atomic_store(&me->waiting, 0);
		if (n <= 0) {
			if (mode == M_LOCK)
				pthread_mutex_unlock(&sh->lock);
			continue;   /* EINTR: no wakeup by a connection */
		}
		atomic_fetch_add(&me->wakeups, 1);
		tm_add(TM_WAIT_CALLS, 1);
		got = take(me, lfd, id, mode == M_SHARED_ET);
		if (mode == M_LOCK)
			pthread_mutex_unlock(&sh->lock);
		if (got == 0) {
			atomic_fetch_add(&me->empty, 1);
			tm_add(TM_EMPTY_WAKEUPS, 1);
		}
	}
}

/* ------------------------------------------------------------------ the driver */

struct result {
	long wakeups, accepts, empty, ctxsw, failed;
	long w_wakeups[MAX_WORKERS], w_accepts[MAX_WORKERS], w_empty[MAX_WORKERS], w_ctxsw[MAX_WORKERS];
	int  port;
};

static long total(atomic_long *(*field)(struct worker *))
{
	long t = 0;

	for (int i = 0; i < nworkers; i++)
		t += atomic_load(field(&sh->w[i]));
	return t;
}
static atomic_long *f_wakeups(struct worker *w) { return &w->wakeups; }
static atomic_long *f_accepts(struct worker *w) { return &w->accepts; }

/* Wait until every worker is back in its waiting call and no counter moves for settle_ms. */
static void settle(void)
{
	long last = -1, still_since = cli_now_ms(), deadline = cli_now_ms() + 5000;

	while (!stop && cli_now_ms() < deadline) {
		long sum = total(f_wakeups) * 1000003 + total(f_accepts);
		bool all_waiting = true;

		for (int i = 0; i < nworkers; i++)
			all_waiting &= atomic_load(&sh->w[i].waiting) == 1;
		if (sum != last || !all_waiting) {
			last = sum;
			still_since = cli_now_ms();
		} else if (cli_now_ms() - still_since >= settle_ms) {
			return;
		}
		cli_sleep_ms(2);
	}
}

/* Start the workers for one mode; returns the port. */
static uint16_t start_workers(enum mode mode, uint16_t want_port, int *lfd_out)
{
	int lfd = -1, ep = -1;
	uint16_t port;
	pthread_mutexattr_t ma;

	memset(sh, 0, sizeof(*sh));
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&sh->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	if (mode == M_REUSEPORT) {
		/* A first listener picks the port; the workers add theirs to the same port. */
		lfd = make_listener(want_port, true, false);
		port = net_local_port(lfd);
		/* This one must not take connections: close it once the workers listen. */
	} else {
		lfd = make_listener(want_port, false, mode != M_ACCEPT);
		port = net_local_port(lfd);
	}
	if (mode == M_SHARED_LT || mode == M_SHARED_ET) {
		struct epoll_event ev = { .events = EPOLLIN | (mode == M_SHARED_ET ? EPOLLET : 0) };

		ep = epoll_create1(0);   /* inherited by every worker: one instance, shared */
		if (ep < 0)
			die("epoll_create1");
		if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
			die("epoll_ctl ADD listener");
	}
	fflush(stdout);
	for (int i = 0; i < nworkers; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			worker_main(i, mode, lfd, ep, port);
			_exit(0);
		}
		sh->w[i].pid = pid;
	}
	if (ep >= 0)
		close(ep);
	/* Wait for every worker to sit in its waiting call. */
	for (long t0 = cli_now_ms(); cli_now_ms() - t0 < 5000;) {
		bool all = true;

		for (int i = 0; i < nworkers; i++)
			all &= atomic_load(&sh->w[i].waiting) == 1;
		if (all)
			break;
		cli_sleep_ms(2);
	}
	if (mode == M_REUSEPORT) {
		close(lfd);   /* only the workers' listeners remain in the port's group */
		lfd = -1;
	}
	cli_sleep_ms(settle_ms);
	for (int i = 0; i < nworkers; i++)
		sh->w[i].ctxsw0 = read_ctxsw(sh->w[i].pid);
	*lfd_out = lfd;
	return port;
}

static void stop_workers(int lfd)
{
	for (int i = 0; i < nworkers; i++)
		if (sh->w[i].pid > 0)
			kill(sh->w[i].pid, SIGKILL);
	for (int i = 0; i < nworkers; i++)
		if (sh->w[i].pid > 0)
			waitpid(sh->w[i].pid, NULL, 0);
	if (lfd >= 0)
		close(lfd);
}

static void collect(struct result *r)
{
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < nworkers; i++) {
		struct worker *w = &sh->w[i];
		long cs = read_ctxsw(w->pid);

		r->w_wakeups[i] = atomic_load(&w->wakeups);
		r->w_accepts[i] = atomic_load(&w->accepts);
		r->w_empty[i] = atomic_load(&w->empty);
		r->w_ctxsw[i] = cs >= 0 && w->ctxsw0 >= 0 ? cs - w->ctxsw0 : 0;
		r->wakeups += r->w_wakeups[i];
		r->accepts += r->w_accepts[i];
		r->empty += r->w_empty[i];
		r->ctxsw += r->w_ctxsw[i];
	}
}

/* One connection: connect, wait for the accepting worker's byte.  Returns its number or -1. */
static int one_connection(uint16_t port)
{
	char err[128];
	unsigned char b;
	int fd = net_connect("127.0.0.1", port, err, sizeof(err));
	struct pollfd p;
	int who = -1;

	if (fd < 0) {
		fprintf(stderr, "iolab-herd: %s\n", err);
		return -1;
	}
	p.fd = fd;
	p.events = POLLIN;
	if (poll(&p, 1, REPLY_TIMEOUT_MS) == 1 && read(fd, &b, 1) == 1)
		who = b;
	close(fd);
	return who;
}

static void measure(enum mode mode, struct result *r)
{
	int lfd;
	uint16_t port = start_workers(mode, 0, &lfd);
	long failed = 0;

	for (int i = 0; i < nconns && !stop; i++) {
		if (one_connection(port) < 0)
			failed++;
		settle();
	}
	collect(r);
	r->failed = failed;
	r->port = port;
	stop_workers(lfd);
}

static int workers_that_accepted(const struct result *r)
{
	int k = 0;

	for (int i = 0; i < nworkers; i++)
		k += r->w_accepts[i] > 0;
	return k;
}

static long max_of(const long *v)
{
	long m = 0;

	for (int i = 0; i < nworkers; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

/* "name":[v0,v1,...] and then `after`. */
static void print_array(const char *name, const long *v, const char *after)
{
	printf("\"%s\":[", name);
	for (int i = 0; i < nworkers; i++)
		printf("%s%ld", i ? "," : "", v[i]);
	printf("]%s", after);
}

static void print_json(enum mode mode, const struct result *r, bool first)
{
	printf("%s\"%s\":{\"mode\":\"%s\",\"wakeups\":%ld,\"accepts\":%ld,\"empty\":%ld,"
	       "\"kernel_wakeups\":%ld,\"failed\":%ld,\"wakeups_per_connection\":%.2f,"
	       "\"workers_that_accepted\":%d,\"max_accepts\":%ld,\"per_worker\":{",
	       first ? "" : ",", mode_keys[mode], mode_names[mode], r->wakeups, r->accepts, r->empty,
	       r->ctxsw, r->failed, nconns ? (double)r->wakeups / nconns : 0.0,
	       workers_that_accepted(r), max_of(r->w_accepts));
	print_array("wakeups", r->w_wakeups, ",");
	print_array("accepts", r->w_accepts, ",");
	print_array("empty", r->w_empty, ",");
	print_array("kernel_wakeups", r->w_ctxsw, "}}");
}

static void print_row(enum mode mode, const struct result *r)
{
	printf("%-10s %7ld %7ld %7ld %9ld %8.1f   ", mode_names[mode], r->wakeups, r->accepts,
	       r->empty, r->ctxsw, nconns ? (double)r->wakeups / nconns : 0.0);
	for (int i = 0; i < nworkers; i++)
		printf("%s%ld", i ? " " : "", r->w_accepts[i]);
	printf("%s\n", r->failed ? "   (some connections were never accepted)" : "");
}

/* ------------------------------------------------------------------ --serve */

static int serve(enum mode mode, uint16_t want_port)
{
	int lfd, conn = 0;
	uint16_t port;
	long acc0 = 0;
	struct result prev, now;
	char options[64];
	struct tm_info info = { TM_KIND_SERVER, "herd", mode == M_ACCEPT || mode == M_REUSEPORT ? "accept" : "epoll_wait",
				"127.0.0.1", options, want_port };

	/*
	 * Telemetry before fork(): the workers inherit the shared mapping and count into it
	 * (wait_calls = wakeups that returned, empty_wakeups, accepts) for bin/iolab-view.
	 */
	snprintf(options, sizeof(options), "--mode %s -w %d", mode_names[mode], nworkers);
	if (tm_open(&info) < 0)
		fprintf(stderr, "iolab-herd: telemetry off: shm_open: %s\n", strerror(errno));
	port = start_workers(mode, want_port, &lfd);
	tm_set_port(port);

	printf("listening on 127.0.0.1:%u\n", port);
	fflush(stdout);
	fprintf(stderr, "iolab-herd --serve: %d workers, %s (%s); pids", nworkers, mode_names[mode], mode_what[mode]);
	for (int i = 0; i < nworkers; i++)
		fprintf(stderr, " %d", (int)sh->w[i].pid);
	fprintf(stderr, "\nconnect with: nc -z 127.0.0.1 %u   (one line per connection below)\n", port);
	collect(&prev);
	while (!stop) {
		cli_sleep_ms(20);
		if (total(f_accepts) == acc0)
			continue;
		settle();
		collect(&now);
		acc0 = now.accepts;
		conn = (int)now.accepts;
		fprintf(stderr, "connection %d: %ld worker(s) woke up (%ld empty), %ld kernel wakeups; accepted by worker",
			conn, now.wakeups - prev.wakeups, now.empty - prev.empty, now.ctxsw - prev.ctxsw);
		for (int i = 0; i < nworkers; i++)
			if (now.w_accepts[i] > prev.w_accepts[i])
				fprintf(stderr, " %d", i);
		fprintf(stderr, "   [totals: wakeups %ld, empty %ld, accepts %ld]\n", now.wakeups, now.empty, now.accepts);
		prev = now;
	}
	stop_workers(lfd);
	fprintf(stderr, "iolab-herd --serve: %s, workers stopped\n", stop == SIGINT ? "SIGINT" : "SIGTERM");
	tm_close();
	return 0;
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: iolab-herd [--mode MODE] [-w WORKERS] [-n CONNECTIONS] [--settle MS] [--json] [--bug=no-exclusive]\n"
		"       iolab-herd --serve --mode MODE [-w WORKERS] [-p PORT]\n"
		"\n"
		"WORKERS processes wait for connections on one port; the program connects CONNECTIONS\n"
		"times, one at a time, and counts how many workers woke for each and who accepted.\n"
		"Modes (default: all, in this order):\n");
	for (int m = 0; m < NMODES; m++)
		fprintf(f, "  %-10s %s\n", mode_names[m], mode_what[m]);
	fprintf(f,
		"\nOptions:\n"
		"  --mode MODE       one mode (or 'all')\n"
		"  -w, --workers N   worker processes (1..%d, default 8)\n"
		"  -n, --connections N  connections, one at a time (1..%d, default 10)\n"
		"  --settle MS       counters must stay still this long between connections (default %d)\n"
		"  --json            one JSON object: mode -> wakeups, empty, accepts, per_worker...\n"
		"  --bug=no-exclusive  'exclusive' registers the listener without EPOLLEXCLUSIVE\n"
		"  --serve           keep the workers waiting (prints 'listening on ADDR:PORT') and print\n"
		"                    one line per connection from outside, until SIGINT/SIGTERM\n"
		"  -p PORT           --serve: port (default 0: a free one)\n"
		"  -h, --help        this text\n"
		"Exit: 0 done, 1 a system call failed or a connection was never accepted, 2 usage.\n"
		"LESSONS.md section 17.\n", MAX_WORKERS, MAX_CONNECTIONS, DEFAULT_SETTLE_MS);
}

static int parse_int(const char *opt, const char *s, long lo, long hi)
{
	long v;

	if (!cli_parse_long(s, lo, hi, &v)) {
		fprintf(stderr, "iolab-herd: %s: '%s' is not a number from %ld to %ld (try --help)\n", opt, s, lo, hi);
		exit(2);
	}
	return (int)v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "workers", required_argument, NULL, 'w' },
		{ "connections", required_argument, NULL, 'n' },
		{ "settle", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "bug", required_argument, NULL, 'B' },
		{ "serve", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c, only = -1;
	bool do_serve = false;
	uint16_t port = 0;
	struct sigaction sa = { .sa_handler = on_signal };
	long failed = 0;

	while ((c = getopt_long(argc, argv, "hw:n:p:", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "all"))
				break;
			for (only = 0; only < NMODES && strcmp(optarg, mode_names[only]); only++)
				;
			if (only == NMODES) {
				fprintf(stderr, "iolab-herd: --mode: unknown mode '%s' (try --help)\n", optarg);
				return 2;
			}
			break;
		case 'w': nworkers = parse_int("--workers", optarg, 1, MAX_WORKERS); break;
		case 'n': nconns = parse_int("--connections", optarg, 1, MAX_CONNECTIONS); break;
		case 's': settle_ms = parse_int("--settle", optarg, 1, 10000); break;
		case 'p': port = (uint16_t)parse_int("-p", optarg, 0, 65535); break;
		case 'j': json = true; break;
		case 'S': do_serve = true; break;
		case 'B':
			if (strcmp(optarg, "no-exclusive")) {
				fprintf(stderr, "iolab-herd: --bug: unknown bug '%s' (no-exclusive)\n", optarg);
				return 2;
			}
			bug_no_exclusive = true;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iolab-herd: unexpected argument '%s' (try --help)\n", argv[optind]);
		return 2;
	}
	if (do_serve && only < 0) {
		fprintf(stderr, "iolab-herd: --serve needs one --mode (try --help)\n");
		return 2;
	}
	driver_pid = getpid();
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (do_serve)
		return serve((enum mode)only, port);

	if (json)
		printf("{\"workers\":%d,\"connections\":%d,\"bug\":\"%s\",\"modes\":{",
		       nworkers, nconns, bug_no_exclusive ? "no-exclusive" : "none");
	else
		printf("%d workers, %d connections one at a time%s\n"
		       "mode       wakeups accepts   empty  kernel_wk  wk/conn   accepts per worker\n",
		       nworkers, nconns, bug_no_exclusive ? " (--bug=no-exclusive)" : "");
	fflush(stdout);
	for (int m = 0, first = 1; m < NMODES && !stop; m++) {
		struct result r;

		if (only >= 0 && m != only)
			continue;
		measure((enum mode)m, &r);
		failed += r.failed;
		if (json)
			print_json((enum mode)m, &r, first);
		else
			print_row((enum mode)m, &r);
		first = 0;
		fflush(stdout);
	}
	if (json)
		printf("}}\n");
	if (failed)
		fprintf(stderr, "iolab-herd: %ld connection(s) were not accepted within %d ms\n", failed, REPLY_TIMEOUT_MS);
	return failed ? 1 : stop ? 130 : 0;
}
