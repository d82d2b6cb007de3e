/*
 * iolab-load — the load generator: many connections, every echoed byte checked,
 * latency percentiles that a stalled server cannot hide.
 *
 * What it shows
 *   How an echo server behaves under load: messages per second, the latency
 *   distribution (p50 ... max), how fairly connections are served, and what each
 *   message costs in CPU on both sides.  Its modes recreate the situations the labs
 *   are about: a client that floods (hog), one that stops reading (slow), frames
 *   that arrive one byte at a time (tiny), connection churn, idle descriptors;
 *   and how the client cuts its writes (--split, --writev, --coalesce, --nagle),
 *   which decides what Nagle's algorithm does to latency (LESSONS.md §10).
 *
 * Usage
 *   iolab-load [--host ADDR] -p PORT [-c CONNS] [-T THREADS] [-f len32|line|raw|fixed:N]
 *              [-s SIZE | --size-min A --size-max B] [-d DEPTH | -r RATE]
 *              [-t SECONDS | -n MESSAGES_PER_CONN] [-m echo|hog|slow|tiny|churn|idle]
 *              [--idle K] [--slow-after BYTES] [--server-pid PID] [--json] [--seed N]
 *              [--nagle] [--split header|random|N] [--writev] [--coalesce N]
 *   iolab-load --help            every flag, with its default
 *
 * Try it
 *   bin/echo-epoll-lt -p 7000 &
 *   bin/iolab-load -p 7000 -c 50 -t 3                         closed loop, 50 clients
 *   bin/iolab-load -p 7000 -c 50 -r 20000 -t 3                open loop, 20000 msg/s
 *   bin/iolab-load -p 7000 -c 10 -m hog -T 2                  one client floods
 *   bin/iolab-load -p 7000 --server-pid $! --json             server CPU per message too
 *   bin/iolab-load -p 7000 --nagle --split header -t 3         write-write-read: ~40 ms stalls
 *
 * Two ways to apply load:
 *   closed loop  (-d DEPTH)  every connection keeps DEPTH messages in flight and sends
 *                the next one when an echo comes back.  Simple, but a server that
 *                stalls for a second also stops the clients for that second: the
 *                messages that would have waited are never sent, and the stall hides
 *                as one slow sample ("coordinated omission").
 *   open loop    (-r RATE)   messages are due on a fixed schedule, RATE per second in
 *                all, whatever the server does.  Latency is measured from the moment
 *                a message was DUE, not from when it could be written, so a stall
 *                shows in every message that should have gone out during it (the
 *                correction wrk2 made popular).
 *
 * What is sent (see load/payload.h for the details)
 *   message seq of connection conn, payload SIZE bytes:  "c<conn> s<seq> " + pattern
 *     len32: 4-byte big-endian SIZE, then the payload      line: payload + '\n'
 *     raw:   the payload, checked by its offset in the byte stream
 *   The pattern is pseudo-random letters and digits: no '\n', and a byte that is
 *   lost, repeated or swapped between connections is caught at once.  The echo must
 *   be the sent byte stream exactly; a mismatch, a short echo or an unexpected close
 *   is reported with the connection, the message and the byte offset, and counted.
 *
 * What is measured
 *   latency   per message, in a histogram with log buckets (load/hist.h): p50, p90,
 *             p99, p99.9 within 1 %, max and mean exact
 *   fairness  messages per connection: Jain's index (sum x)^2 / (n * sum x^2), 1 when
 *             even, 1/n when one connection got everything; and the least and most
 *             served connections against the fair share (total / n)
 *   cpu       this process (getrusage) and, with --server-pid, the server (its CPU
 *             clock, clock_getcpuclockid(); /proc/PID/stat if that fails), per message
 *   threads   -T N: N threads, one epoll each, connections dealt round-robin; in hog
 *             and slow mode with N >= 2 the flooder gets a thread of its own, so it
 *             does not steal the CPU that measures the others
 *
 * The parts are in labs/tools/load/ (load.h lists them); this file starts the
 * threads and watches them.
 *
 * Output: a human summary, or with --json one JSON object on stdout (keys listed in
 * --help).  Exit status: 0 everything verified, 1 verification errors / refused
 * connection / server died / echoes missing, 2 bad flags.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/net.h"
#include "common/telemetry.h"
#include "labs/tools/load/load.h"

_Atomic int      phase = PH_RUN;
uint64_t         t0_ns;                  /* start of the measured run */
_Atomic uint64_t measure_ns;             /* start of the measured window: t0_ns + --warmup */
_Atomic uint64_t deadline_ns;            /* end of the run (UINT64_MAX: -n run) */
volatile sig_atomic_t interrupted;

struct worker *workers;
unsigned       nworkers;
struct lconn  *conns;                    /* workload connections, then idle ones */
size_t         nconns_all;

static void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---------------------------------------------------------------- main */

static void on_signal(int sig)
{
	interrupted = 1;
	signal(sig, SIG_DFL);                /* a second Ctrl-C ends it at once */
}

static void cleanup(void)
{
	for (size_t i = 0; i < nconns_all; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
}

/* The run is over (deadline, all done, or trouble): note CPU times, start the drain. */
static uint64_t end_window(struct result *r, uint64_t now, int64_t cpu0, int64_t srv0)
{
	uint64_t dl = atomic_load(&deadline_ns);
	uint64_t end = now < dl ? now : dl;

	atomic_store(&deadline_ns, end);
	r->client_cpu_ns = self_cpu_ns() - cpu0;
	if (srv0 >= 0) {
		int64_t s1 = proc_cpu_ns(opt.server_pid);
		r->server_cpu_ns = s1 >= 0 ? s1 - srv0 : -1;
	}
	atomic_store(&phase, PH_DRAIN);
	return end;
}

/*
 * Start the threads and watch them: the clock, Ctrl-C, the server's pid, a stall.
 * Returns when every thread has finished; the result is the end of the window.
 */
static uint64_t run(struct result *r)
{
	sigset_t all, old;
	uint64_t window_end = 0, last_progress = 0, last_progress_ns;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);      /* signals go to the main thread */
	int64_t cpu0 = self_cpu_ns();
	int64_t srv0 = opt.server_pid ? proc_cpu_ns(opt.server_pid) : -1;
	bool warm = opt.warmup > 0;          /* still warming up: CPU times are taken at its end */
	t0_ns = last_progress_ns = tm_now();
	atomic_store(&measure_ns, t0_ns + (uint64_t)(opt.warmup * 1e9));
	atomic_store(&deadline_ns, opt.messages ? UINT64_MAX : atomic_load(&measure_ns) + (uint64_t)(opt.seconds * 1e9));
	for (unsigned t = 0; t < nworkers; t++) {
		int e = pthread_create(&workers[t].tid, NULL, worker_main, &workers[t]);
		if (e) {
			errno = e;
			load_die("pthread_create");
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	for (;;) {
		bool quiet = true, finished = true;
		uint64_t progress = 0;
		for (unsigned t = 0; t < nworkers; t++) {
			quiet &= atomic_load(&workers[t].quiet);
			finished &= atomic_load(&workers[t].finished);
			progress += atomic_load_explicit(&workers[t].progress, memory_order_relaxed);
		}
		/* The clock after the flags: a worker that went quiet because it saw
		 * the deadline did so before this moment. */
		uint64_t now = tm_now();
		if (warm && now >= atomic_load(&measure_ns)) {
			/* The warm-up is over: first connections' costs, page faults, caches and
			 * the CPU's clock are behind us; the window starts now. */
			warm = false;
			cpu0 = self_cpu_ns();
			srv0 = opt.server_pid ? proc_cpu_ns(opt.server_pid) : -1;
		}
		if (progress != last_progress) {
			last_progress = progress;
			last_progress_ns = now;
		}
		const char *why = NULL;
		if (interrupted)
			why = "interrupted: partial results";
		else if (opt.server_pid && !r->server_died && !proc_alive(opt.server_pid)) {
			r->server_died = true;
			why = "the server died during the run";
		} else if (!window_end && quiet && !opt.messages && now < atomic_load(&deadline_ns))
			why = "every connection failed before the end of the run";
		else if (!window_end && opt.messages && now - last_progress_ns > STALL_NS)
			why = "no echo for " STALL_TEXT ": the server is stuck";
		if (why && !r->error[0])
			snprintf(r->error, sizeof(r->error), "%s", why);
		if (!window_end && (why || quiet || now >= atomic_load(&deadline_ns)))
			window_end = end_window(r, now, cpu0, srv0);
		if (finished)
			break;
		struct timespec ts = { 0, TICK_MS * 1000000L };
		uint64_t dl = warm ? atomic_load(&measure_ns) : atomic_load(&deadline_ns);
		if (!window_end && dl > now && dl - now < (uint64_t)ts.tv_nsec)
			ts.tv_nsec = (long)(dl - now);   /* wake up right at the deadline (or warm-up's end) */
		nanosleep(&ts, NULL);
	}
	for (unsigned t = 0; t < nworkers; t++)
		pthread_join(workers[t].tid, NULL);
	if (opt.server_pid && !r->server_died && !proc_alive(opt.server_pid)) {
		r->server_died = true;
		snprintf(r->error, sizeof(r->error), "the server died during the run");
	}
	return window_end;
}

/* Add up the threads' results into r->all. */
static void merge(struct result *r)
{
	r->all = workers[0].st;
	for (unsigned t = 1; t < nworkers; t++) {
		const struct stats *s = &workers[t].st;
		hist_merge(r->all.lat, s->lat);
		hist_merge(r->all.lat_others, s->lat_others);
		hist_merge(r->all.lat_connect, s->lat_connect);
		r->all.messages += s->messages;
		r->all.window_msgs += s->window_msgs;
		r->all.window_bytes += s->window_bytes;
		r->all.others_msgs += s->others_msgs;
		r->all.bytes_rx += s->bytes_rx;
		r->all.bytes_tx += s->bytes_tx;
		r->all.writes += s->writes;
		r->all.connects += s->connects;
		if (s->last_done_ns > r->all.last_done_ns)
			r->all.last_done_ns = s->last_done_ns;
		for (int k = 0; k < NERR; k++)
			r->all.err[k] += s->err[k];
	}
}

int main(int argc, char **argv)
{
	struct result r = { .server_cpu_ns = -1 };

	parse_flags(argc, argv);
	if (opt.server_pid && !proc_alive(opt.server_pid)) {
		fprintf(stderr, PROG ": --server-pid %d: no such process\n", (int)opt.server_pid);
		return 2;
	}
	nconns_all = (size_t)opt.conns + opt.idle;
	long limit = net_raise_nofile();
	if (limit > 0 && (long)nconns_all + 32 > limit) {
		fprintf(stderr, PROG ": %zu connections need more descriptors than the limit %ld"
			" (ulimit -Hn; raise it as root or in /etc/security/limits.conf)\n",
			nconns_all, limit);
		return 2;
	}
	pattern_init();
	wire.framing = opt.framing;
	wire.seed = opt.seed;
	net_ignore_sigpipe();                /* a write to a closed connection: EPIPE, not death */
	setup_workers();

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	bool connected = connect_all(&r);
	if (connected) {
		uint64_t window_end = run(&r);
		merge(&r);
		/* A counted run lasts until its last echo; a timed one until its deadline. */
		if (opt.messages && !r.error[0] && r.all.last_done_ns > t0_ns)
			window_end = r.all.last_done_ns;
		r.duration_s = (double)(window_end - atomic_load(&measure_ns)) / 1e9;
		diagnose(&r);                        /* connections that got nothing back: why */
	} else {
		merge(&r);                           /* nothing ran: the connect error, no echoes */
	}

	result_fairness(&r);
	if (opt.json)
		print_json(&r);
	else
		print_human(&r);
	fflush(stdout);
	if (r.error[0] && connected)         /* (a connect error was printed as it happened) */
		warnx("%s", r.error);
	cleanup();
	return result_ok(&r) ? 0 : 1;
}

