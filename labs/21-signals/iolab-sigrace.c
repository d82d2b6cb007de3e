/*
 * iolab-sigrace — the shutdown window of `while (!stop) wait()`, hit every time, and
 * the four ways to close it, side by side.
 *
 * A loop whose signal handler only sets a flag:
 *
 *     while (!stop)                        <- the flag is checked here ...
 *             epoll_wait(ep, ev, n, -1);   <- ... and the loop sleeps here.
 *
 * A signal that lands between the check and the wait runs the handler, sets the
 * flag, and is gone: the wait starts after it and sleeps until the next event.  In
 * a real loop that window is a few instructions wide and is hit once in a long
 * while.  Here it is widened ON PURPOSE so it is hit every time: after the check,
 * the loop wakes a helper thread, which sends the signal (pthread_kill, to the
 * looping thread); the loop goes on to its wait only once the helper says it has
 * sent it, and --window MS later.  The race is therefore deterministic: every mode
 * gets its signal exactly inside the window, every round.
 *
 * The modes (the same loop, the same window; only the wait differs):
 *   naive        epoll_wait(); the handler sets the flag.  Stuck until --timeout.
 *   self_pipe    the handler also writes a byte to a pipe whose read end is in the
 *                epoll set: the byte outlives the window and wakes the wait.
 *   pselect      the signal is blocked outside the wait; pselect() unblocks it
 *   ppoll        atomically for the wait only, so it is delivered inside the call
 *   epoll_pwait  (the handler runs, the call returns EINTR, the loop sees the flag).
 *   signalfd     the signal is blocked for good and read as an event: a signalfd
 *                in the epoll set is readable while the signal is pending.
 * Each wait also watches a pipe nobody writes to: the event that never comes.
 *
 * The demo sends SIGUSR1 (standing for SIGINT), so that Ctrl-C still ends it.
 *
 * Usage:  iolab-sigrace [--mode LIST] [--rounds N] [--window MS] [--timeout MS]
 *                       [--bug naive-as-fix] [--json] [-h]
 * Try:    bin/iolab-sigrace                 the table: naive waits out the 2 s timeout
 *         bin/iolab-sigrace --json          the same as one JSON object
 *         strace -f -e trace=epoll_wait,epoll_pwait,ppoll,pselect6,write bin/iolab-sigrace
 * Needs:  Linux (epoll, signalfd).  LESSONS.md §21.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#define STOP_SIGNAL        SIGUSR1 /* stands for SIGINT; Ctrl-C keeps its default action */
#define DEFAULT_WINDOW_MS  10      /* the widened window: check done, wait not yet begun */
#define DEFAULT_TIMEOUT_MS 2000    /* bounds the naive wait, so the demo ends */
#define MAX_ROUNDS         1000

enum mode { NAIVE, SELF_PIPE, PSELECT, PPOLL, EPOLL_PWAIT, SIGNALFD, NMODES };

static const struct {
	const char *name;
	const char *how;     /* one line for the table */
} modes[NMODES] = {
	[NAIVE]       = { "naive",       "handler sets a flag; epoll_wait()" },
	[SELF_PIPE]   = { "self_pipe",   "handler also writes a byte to a pipe in the epoll set" },
	[PSELECT]     = { "pselect",     "blocked outside; pselect() unblocks it for the wait" },
	[PPOLL]       = { "ppoll",       "blocked outside; ppoll() unblocks it for the wait" },
	[EPOLL_PWAIT] = { "epoll_pwait", "blocked outside; epoll_pwait() unblocks it for the wait" },
	[SIGNALFD]    = { "signalfd",    "blocked always; a signalfd in the epoll set" },
};

static struct {
	bool     want[NMODES];
	int      rounds;
	int      window_ms;
	int      timeout_ms;
	bool     naive_as_fix;   /* --bug naive-as-fix: every mode waits like the naive one */
	bool     json;
} opt = { .rounds = 1, .window_ms = DEFAULT_WINDOW_MS, .timeout_ms = DEFAULT_TIMEOUT_MS };

/* One round's outcome. */
struct round {
	double      exit_ms;     /* signal sent -> loop left (includes the widened window) */
	double      wait_ms;     /* time spent in the wait(s) after the window */
	const char *woken_by;    /* what ended the last wait: timeout, EINTR, event */
	const char *handler;     /* where the handler ran: window, wait, never (signalfd) */
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *call)
{
	fprintf(stderr, "iolab-sigrace: %s: %s\n", call, strerror(errno));
	exit(1);
}

/* --- the handler --------------------------------------------------------------- */

static volatile sig_atomic_t stop;
static volatile sig_atomic_t phase;     /* where the loop is: PH_WINDOW or PH_WAIT */
static volatile sig_atomic_t ran_in;    /* where the handler ran: PH_NONE until it runs */
static int wake_fd = -1;   /* the self-pipe's write end while mode self_pipe runs */

enum { PH_NONE, PH_WINDOW, PH_WAIT };
static const char *const phase_names[] = { "never", "window", "wait" };

static void on_stop_signal(int sig)
{
	int saved = errno;

	(void)sig;
	stop = 1;
	ran_in = phase;
	if (wake_fd >= 0)
		(void)!write(wake_fd, "x", 1);  /* nonblocking: a full pipe already wakes the wait */
	errno = saved;
}

/* --- the helper that sends the signal inside the window ------------------------ */

static struct {
	pthread_t target;        /* the looping thread */
	sem_t     now;           /* the loop -> helper: "I have checked the flag" */
	sem_t     sent;          /* the helper -> loop: "the signal is sent" */
	double    sent_ms;
} helper;

static void *helper_main(void *arg)
{
	(void)arg;
	while (sem_wait(&helper.now) < 0)
		;                                /* EINTR: not ours to take (signals are blocked here) */
	helper.sent_ms = now_ms();
	pthread_kill(helper.target, STOP_SIGNAL);
	sem_post(&helper.sent);
	return NULL;
}

/* The window: tell the helper, wait until it has sent the signal, then --window ms more. */
static void window(void)
{
	struct timespec until;

	sem_post(&helper.now);
	while (sem_wait(&helper.sent) < 0)
		;                                /* EINTR: the handler ran here, in the window */
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += (long)opt.window_ms * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
		;                                /* absolute time: an interruption does not stretch it */
}

/* --- one wait per mode ---------------------------------------------------------- */

struct waiter {
	int      ep;          /* epoll set: the quiet pipe, plus the self-pipe or signalfd */
	int      quiet[2];    /* a pipe nobody writes to: the event that never comes */
	int      self[2];     /* self_pipe mode */
	int      sfd;         /* signalfd mode */
	sigset_t waitmask;    /* the mask during pselect/ppoll/epoll_pwait: the signal let in */
};

/* Wait once; returns what ended it: "timeout", "EINTR" or "event". */
static const char *wait_once(enum mode m, struct waiter *w)
{
	struct epoll_event ev[4];
	struct timespec ts = { opt.timeout_ms / 1000, (long)(opt.timeout_ms % 1000) * 1000000L };
	const char *call;
	int n;

	switch (m) {
	case PSELECT: {
		fd_set rd;

		FD_ZERO(&rd);
		FD_SET(w->quiet[0], &rd);
		n = pselect(w->quiet[0] + 1, &rd, NULL, NULL, &ts, &w->waitmask);
		call = "pselect";
		break;
	}
	case PPOLL: {
		struct pollfd p = { .fd = w->quiet[0], .events = POLLIN };

		n = ppoll(&p, 1, &ts, &w->waitmask);
		call = "ppoll";
		break;
	}
	case EPOLL_PWAIT:
		n = epoll_pwait(w->ep, ev, 4, opt.timeout_ms, &w->waitmask);
		call = "epoll_pwait";
		break;
	default:   /* naive, self_pipe, signalfd: a plain epoll_wait() */
		n = epoll_wait(w->ep, ev, 4, opt.timeout_ms);
		call = "epoll_wait";
		break;
	}
	if (n < 0 && errno == EINTR)
		return "EINTR";                  /* the handler ran inside the call */
	if (n < 0)
		die(call);
	if (n == 0)
		return "timeout";                /* nothing came: the signal was spent before we slept */
	for (int i = 0; i < n && m != PSELECT && m != PPOLL; i++) {
		char buf[64];

		if (ev[i].data.fd == w->self[0]) {
			while (read(w->self[0], buf, sizeof(buf)) > 0)
				;                /* drain: one byte per signal, the flag says the rest */
		} else if (ev[i].data.fd == w->sfd) {
			struct signalfd_siginfo si;

			if (read(w->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) && si.ssi_signo == STOP_SIGNAL)
				stop = 1;        /* no handler in this mode: the read is the handler */
		}
	}
	return "event";
}

static void watch(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl");
}

/* One round of one mode: set up, loop until the flag, tear down. */
static struct round run_round(enum mode m)
{
	struct waiter w = { .self = { -1, -1 }, .sfd = -1 };
	struct sigaction sa = { .sa_handler = on_stop_signal };   /* no SA_RESTART */
	sigset_t only, all, old;
	pthread_t tid;
	struct round r = { 0 };
	double t_wait = 0, t_end;
	bool first = true;

	if (opt.naive_as_fix)
		m = NAIVE;             /* the broken variant: the "fix" is the naive loop */

	sigemptyset(&only);
	sigaddset(&only, STOP_SIGNAL);
	sigemptyset(&sa.sa_mask);
	if (sigaction(STOP_SIGNAL, &sa, NULL) < 0)
		die("sigaction");
	if ((w.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	if (pipe2(w.quiet, O_CLOEXEC) < 0)
		die("pipe2");
	watch(w.ep, w.quiet[0]);

	/* The helper starts with every signal blocked: the signal is for the loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	helper.target = pthread_self();
	sem_init(&helper.now, 0, 0);
	sem_init(&helper.sent, 0, 0);
	if ((errno = pthread_create(&tid, NULL, helper_main, NULL)) != 0)
		die("pthread_create");
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	switch (m) {
	case SELF_PIPE:
		if (pipe2(w.self, O_NONBLOCK | O_CLOEXEC) < 0)
			die("pipe2");
		watch(w.ep, w.self[0]);
		wake_fd = w.self[1];
		break;
	case PSELECT:
	case PPOLL:
	case EPOLL_PWAIT:
		/* Blocked from here on; the wait's own mask lets it in, atomically. */
		pthread_sigmask(SIG_BLOCK, &only, &w.waitmask);
		sigdelset(&w.waitmask, STOP_SIGNAL);
		break;
	case SIGNALFD:
		/* Blocked for good: never delivered to a handler, only read from the fd. */
		pthread_sigmask(SIG_BLOCK, &only, NULL);
		if ((w.sfd = signalfd(-1, &only, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
			die("signalfd");
		watch(w.ep, w.sfd);
		break;
	default:
		break;
	}

	stop = 0;
	ran_in = PH_NONE;
	while (!stop) {
		if (first) {
			phase = PH_WINDOW;
			window();        /* checked, not yet waiting: the signal is sent now */
			first = false;
			t_wait = now_ms();
			phase = PH_WAIT;
		}
		r.woken_by = wait_once(m, &w);
	}
	r.handler = phase_names[ran_in];
	t_end = now_ms();
	r.exit_ms = t_end - helper.sent_ms;
	r.wait_ms = t_end - t_wait;

	pthread_join(tid, NULL);
	sem_destroy(&helper.now);
	sem_destroy(&helper.sent);
	wake_fd = -1;
	pthread_sigmask(SIG_UNBLOCK, &only, NULL);
	for (int i = 0; i < 2; i++) {
		close(w.quiet[i]);
		if (w.self[i] >= 0)
			close(w.self[i]);
	}
	if (w.sfd >= 0)
		close(w.sfd);
	close(w.ep);
	return r;
}

/* --- command line and report ---------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: iolab-sigrace [options]\n"
"\n"
"The race between `while (!stop)` and the wait, made deterministic: a helper thread\n"
"sends the stop signal (SIGUSR1) exactly after the loop checked the flag and before it\n"
"waits (the window is held open until the signal is sent, then --window ms more).\n"
"Each mode runs the same loop with a different wait; it prints how long the loop took\n"
"to leave after the signal.  The naive loop sleeps until its timeout.\n"
"\n"
"  --mode LIST     modes to run, comma-separated (default all): naive, self_pipe,\n"
"                  pselect, ppoll, epoll_pwait, signalfd\n"
"  --rounds N      rounds per mode (default 1); the report gives the worst\n"
"  --window MS     the widened window after the signal is sent (default %d)\n"
"  --timeout MS    every wait's timeout, which ends the naive loop (default %d)\n"
"  --bug naive-as-fix   every mode waits like the naive one (the lab's broken\n"
"                  variant: the \"fixes\" must then be as late as naive)\n"
"  --json          one JSON object: {\"modes\":{\"naive\":{\"exit_ms\":...,\"wait_ms\":...,\n"
"                  \"woken_by\":...,\"handler_ran\":...,\"late\":...},...},...}\n"
"  -h, --help      this text\n"
"\n"
"A round is \"late\" when its wait ran into the timeout (the signal was lost).\n"
"Exit status: 0, or 2 for bad flags.  LESSONS.md section 21.\n",
		DEFAULT_WINDOW_MS, DEFAULT_TIMEOUT_MS);
}

static int parse_int(const char *s, const char *flag, int lo, int hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "iolab-sigrace: %s: a whole number from %d to %d, not '%s'\n", flag, lo, hi, s);
		exit(2);
	}
	return (int)v;
}

static void parse_modes(char *list)
{
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		int m;

		if (strcmp(tok, "all") == 0) {
			for (m = 0; m < NMODES; m++)
				opt.want[m] = true;
			continue;
		}
		for (m = 0; m < NMODES && strcmp(tok, modes[m].name) != 0; m++)
			;
		if (m == NMODES) {
			fprintf(stderr, "iolab-sigrace: --mode: no mode '%s' (naive, self_pipe, pselect, "
				"ppoll, epoll_pwait, signalfd, all)\n", tok);
			exit(2);
		}
		opt.want[m] = true;
	}
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },   { "rounds", required_argument, NULL, 'r' },
		{ "window", required_argument, NULL, 'w' }, { "timeout", required_argument, NULL, 't' },
		{ "bug", required_argument, NULL, 'b' },    { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	bool any = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': parse_modes(optarg); any = true; break;
		case 'r': opt.rounds = parse_int(optarg, "--rounds", 1, MAX_ROUNDS); break;
		case 'w': opt.window_ms = parse_int(optarg, "--window", 0, 10000); break;
		case 't': opt.timeout_ms = parse_int(optarg, "--timeout", 1, 60000); break;
		case 'j': opt.json = true; break;
		case 'b':
			if (strcmp(optarg, "naive-as-fix") != 0) {
				fprintf(stderr, "iolab-sigrace: --bug: the only bug is naive-as-fix\n");
				exit(2);
			}
			opt.naive_as_fix = true;
			break;
		case 'h': usage(stdout); exit(0);
		default:  usage(stderr); exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iolab-sigrace: unexpected argument '%s' (try --help)\n", argv[optind]);
		exit(2);
	}
	if (!any)
		for (int m = 0; m < NMODES; m++)
			opt.want[m] = true;
}

int main(int argc, char **argv)
{
	struct round worst[NMODES];
	int late[NMODES] = { 0 };
	bool first = true;

	parse_args(argc, argv);
	for (int m = 0; m < NMODES; m++) {
		if (!opt.want[m])
			continue;
		worst[m] = (struct round){ -1, -1, "-", "-" };
		for (int i = 0; i < opt.rounds; i++) {
			struct round r = run_round((enum mode)m);

			if (strcmp(r.woken_by, "timeout") == 0)
				late[m]++;
			if (r.exit_ms > worst[m].exit_ms)
				worst[m] = r;
		}
	}

	if (opt.json) {
		printf("{\"signal\":\"SIGUSR1\",\"window_ms\":%d,\"timeout_ms\":%d,\"rounds\":%d,"
		       "\"bug\":%s,\"modes\":{", opt.window_ms, opt.timeout_ms, opt.rounds,
		       opt.naive_as_fix ? "\"naive-as-fix\"" : "null");
		for (int m = 0; m < NMODES; m++) {
			if (!opt.want[m])
				continue;
			printf("%s\"%s\":{\"exit_ms\":%.3f,\"wait_ms\":%.3f,\"woken_by\":\"%s\","
			       "\"handler_ran\":\"%s\",\"late\":%d}", first ? "" : ",", modes[m].name,
			       worst[m].exit_ms, worst[m].wait_ms, worst[m].woken_by, worst[m].handler, late[m]);
			first = false;
		}
		printf("}}\n");
		return 0;
	}
	printf("The stop signal is sent after `while (!stop)` has been checked and before the wait\n"
	       "(window widened to %d ms on purpose); every wait times out after %d ms.%s\n\n",
	       opt.window_ms, opt.timeout_ms,
	       opt.naive_as_fix ? "\nBUG ON (naive-as-fix): every mode waits like the naive one." : "");
	printf("%-12s %-56s %-8s %-8s %12s %12s %s\n", "mode", "how the signal reaches the loop",
	       "handler", "woken by", "signal->exit", "in the wait", opt.rounds > 1 ? "late rounds" : "");
	for (int m = 0; m < NMODES; m++) {
		if (!opt.want[m])
			continue;
		printf("%-12s %-56s %-8s %-8s %9.1f ms %9.2f ms", modes[m].name, modes[m].how,
		       worst[m].handler, worst[m].woken_by, worst[m].exit_ms, worst[m].wait_ms);
		if (opt.rounds > 1)
			printf(" %d of %d", late[m], opt.rounds);
		printf("\n");
	}
	if (opt.rounds > 1)
		printf("\n(worst of %d rounds per mode)\n", opt.rounds);
	return 0;
}
