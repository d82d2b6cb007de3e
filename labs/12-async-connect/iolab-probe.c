/*
 * iolab-probe — what a nonblocking connect() looks like to epoll, poll and select.
 *
 * The study notes the labs grew from claim that epoll reports 0x14 (EPOLLOUT|EPOLLHUP) for
 * a socket registered before connect(), 0x19 (EPOLLIN|EPOLLERR|EPOLLHUP) when the
 * connect fails and 0x4 (EPOLLOUT) when it succeeds.  This program does not repeat
 * those numbers: it makes every one of those sockets now, on this kernel, and
 * prints what came back.
 *
 * Three cases, each on a fresh nonblocking TCP socket on loopback:
 *   before-connect   socket() only; connect() is never called
 *   refused          connect() to a port where nothing listens (RST -> ECONNREFUSED)
 *   connected        connect() to a port that listens (the handshake completes)
 * each watched with EPOLLIN, EPOLLOUT and EPOLLIN|EPOLLOUT, by four mechanisms:
 *   epoll-lt, epoll-et (registered before connect(), as in the notes), poll, select.
 * After the first wait the probe waits once more at once (timeout 0), which shows
 * level- against edge-triggered, and then reads SO_ERROR (reading it clears it).
 *
 * The observations are also published in telemetry (a /dev/shm segment of kind
 * "probe") so that bin/iolab-view can show them beside the servers.
 *
 * Usage:  iolab-probe [--json] [--hold SECONDS] [--timeout MS] [--no-stats]
 * Try:    bin/iolab-probe                   the table, then waits for Ctrl-C (on a terminal)
 *         bin/iolab-probe --json --hold 0   one JSON observation per line, exit at once
 *         bin/iolab-view --pid PID          while the probe holds its segment
 * Needs:  Linux (epoll), loopback.  LESSONS.md §12 (async connect: the masks).
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "common/errname.h"
#include "common/masks.h"
#include "common/telemetry.h"

#define DEFAULT_TIMEOUT_MS 200  /* how long a wait may take; loopback answers in microseconds */
#define HOLD_UNSET         (-1) /* --hold not given: decide from whether stdout is a terminal */
#define HOLD_FOREVER       (-2) /* hold until Ctrl-C */

enum probe_case { CASE_BEFORE_CONNECT, CASE_REFUSED, CASE_CONNECTED, NCASES };
enum mech { MECH_EPOLL_LT, MECH_EPOLL_ET, MECH_POLL, MECH_SELECT, NMECHS };

static const struct {
	const char *id;     /* in --json and in the tests */
	const char *label;  /* in the table and in telemetry (tm_probe.label) */
	const char *what;
} cases[NCASES] = {
	[CASE_BEFORE_CONNECT] = { "before-connect", "registered before connect",
				  "socket() only, connect() never called" },
	[CASE_REFUSED]        = { "refused", "refused connect",
				  "connect() to a loopback port where nothing listens" },
	[CASE_CONNECTED]      = { "connected", "successful connect",
				  "connect() to a loopback port that listens" },
};

static const char *const mech_names[NMECHS] = {
	[MECH_EPOLL_LT] = "epoll-lt", [MECH_EPOLL_ET] = "epoll-et",
	[MECH_POLL] = "poll",         [MECH_SELECT] = "select",
};

/* What is registered: the interest mask, in epoll bits, whatever the mechanism. */
static const uint32_t interests[] = { EPOLLIN, EPOLLOUT, EPOLLIN | EPOLLOUT };
#define NINTERESTS (sizeof(interests) / sizeof(interests[0]))

/* One measurement. */
static bool bug_trust_out;   /* --bug trust-out: never read SO_ERROR (lab 12's broken variant) */

struct obs {
	enum probe_case pcase;
	enum mech       mech;
	uint32_t        registered;  /* interest (epoll bits, without EPOLLET) */
	int             connect_rc;  /* errno of connect(): 0 = at once, EINPROGRESS...; -1 = not called */
	uint32_t        mask;        /* what the first wait returned (epoll bits); 0 = timed out */
	bool            timed_out;
	uint32_t        again;       /* a second wait straight after, timeout 0 */
	int             so_error;    /* getsockopt(SO_ERROR) after both waits */
};

struct probe {
	int             timeout_ms;
	int             listen_fd;   /* listens: connects to it succeed */
	int             closed_fd;   /* bound, never listening: connects to it are refused */
	struct sockaddr_in listen_addr, closed_addr;
	struct obs      obs[NCASES * NMECHS * NINTERESTS];
	unsigned        nobs;
};

static volatile sig_atomic_t stop;   /* SIGINT/SIGTERM seen */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *call)
{
	fprintf(stderr, "iolab-probe: %s: %s\n", call, strerror(errno));
	tm_close();
	exit(1);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: iolab-probe [--json] [--hold SECONDS] [--timeout MS] [--no-stats]\n"
		"\n"
		"Makes nonblocking TCP sockets on loopback -- one never connected, one whose\n"
		"connect() is refused, one whose connect() succeeds -- and shows what epoll\n"
		"(level- and edge-triggered), poll and select report for each, with EPOLLIN,\n"
		"EPOLLOUT and EPOLLIN|EPOLLOUT registered, and what SO_ERROR says.  Every mask\n"
		"is measured on the running kernel; nothing is taken from a table.\n"
		"\n"
		"  --json           one JSON object, one observation per line (for scripts and tests)\n"
		"  --hold SECONDS   keep the telemetry segment published this long, so that\n"
		"                   bin/iolab-view can show it (0 = exit at once).  Default: until\n"
		"                   Ctrl-C when stdout is a terminal, otherwise exit at once\n"
		"                   (with --no-stats there is nothing to hold)\n"
		"  --timeout MS     longest wait for an event (default %d); a wait that times\n"
		"                   out is shown as 0 (nothing to report)\n"
		"  --no-stats       do not publish telemetry\n"
		"  --bug trust-out  a deliberate bug (lab 12): never read SO_ERROR, take OUT for connected\n"
		"  -h, --help       this text\n"
		"\n"
		"Try: bin/iolab-probe, then in another terminal bin/iolab-view --pid PID.\n"
		"LESSONS.md section 12 (async connect: the masks).\n", DEFAULT_TIMEOUT_MS);
}

/* ------------------------------------------------------------------ names */

/* Short mask names for the table ("IN|OUT|HUP"); the decoder table is masks.c's. */
static const char *short_mask(uint32_t m, char *buf, size_t len)
{
	return mask_str(m, buf, len, 1);
}

/* -------------------------------------------------------------- the ports */

/* A loopback address on port 0 -> the kernel picks a free port. */
static int bound_socket(struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int fd;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa->sin_port = 0;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket");
	if (bind(fd, (struct sockaddr *)sa, sizeof(*sa)) < 0)
		die("bind 127.0.0.1:0");
	if (getsockname(fd, (struct sockaddr *)sa, &len) < 0)
		die("getsockname");
	return fd;
}

static void open_ports(struct probe *p)
{
	p->listen_fd = bound_socket(&p->listen_addr);
	if (listen(p->listen_fd, 64) < 0)
		die("listen");
	/*
	 * The closed port: bound but never listening.  A SYN to it finds no listener,
	 * so the kernel answers RST and connect() fails with ECONNREFUSED.  Keeping it
	 * bound (rather than closing it) means no other program can take the port
	 * while we are probing it.
	 */
	p->closed_fd = bound_socket(&p->closed_addr);
}

/* Accept and close whatever the connected case left in the listen queue. */
static void drain_listener(int lfd)
{
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(fd);
}

/* ------------------------------------------------------------- the waits */

/*
 * Each wait_* returns the mask (epoll bits), 0 on a timeout, or -1 (errno set,
 * EINTR when Ctrl-C arrived).  The socket was registered (epoll) before connect().
 */
static int wait_epoll(int ep, int timeout_ms, uint32_t *mask)
{
	struct epoll_event ev;
	int n = epoll_wait(ep, &ev, 1, timeout_ms);

	if (n < 0)
		return -1;
	*mask = n ? ev.events : 0;
	return n;
}

static int wait_poll(int fd, uint32_t interest, int timeout_ms, uint32_t *mask)
{
	/* POLLERR and POLLHUP need not be asked for: poll always reports them. */
	struct pollfd pfd = {
		.fd = fd,
		.events = (short)((interest & EPOLLIN ? POLLIN : 0) | (interest & EPOLLOUT ? POLLOUT : 0)),
	};
	int n = poll(&pfd, 1, timeout_ms);

	if (n < 0)
		return -1;
	*mask = n ? mask_from_poll(pfd.revents) : 0;
	return n;
}

static int wait_select(int fd, uint32_t interest, int timeout_ms, uint32_t *mask)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	fd_set rd, wr;
	int n;

	/* select has no "error" or "hangup" set: those make a socket readable/writable. */
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	if (interest & EPOLLIN)
		FD_SET(fd, &rd);
	if (interest & EPOLLOUT)
		FD_SET(fd, &wr);
	n = select(fd + 1, &rd, &wr, NULL, &tv);
	if (n < 0)
		return -1;
	*mask = mask_from_select(FD_ISSET(fd, &rd), FD_ISSET(fd, &wr), 0);
	return n;
}

static int wait_once(const struct obs *o, int fd, int ep, int timeout_ms, uint32_t *mask)
{
	tm_add(TM_WAIT_CALLS, 1);
	switch (o->mech) {
	case MECH_EPOLL_LT:
	case MECH_EPOLL_ET:
		return wait_epoll(ep, timeout_ms, mask);
	case MECH_POLL:
		return wait_poll(fd, o->registered, timeout_ms, mask);
	case MECH_SELECT:
	case NMECHS:
		break;
	}
	return wait_select(fd, o->registered, timeout_ms, mask);
}

/* ------------------------------------------------------------ one probe */

/* Make the socket, register it, connect it (or not), wait twice, read SO_ERROR. */
static void observe(struct probe *p, struct obs *o)
{
	struct epoll_event ev = { 0 };
	socklen_t len = sizeof(o->so_error);
	int fd, ep = -1, n;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	if (o->mech == MECH_EPOLL_LT || o->mech == MECH_EPOLL_ET) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0)
			die("epoll_create1");
		ev.events = o->registered | (o->mech == MECH_EPOLL_ET ? EPOLLET : 0);
		ev.data.fd = fd;
		/* Registered before connect(), as in the notes: epoll looks at the socket now. */
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			die("epoll_ctl(EPOLL_CTL_ADD)");
	}

	o->connect_rc = -1;
	if (o->pcase != CASE_BEFORE_CONNECT) {
		const struct sockaddr_in *to = o->pcase == CASE_REFUSED ? &p->closed_addr : &p->listen_addr;

		/* Nonblocking: the usual answer is EINPROGRESS -- the handshake goes on without us. */
		o->connect_rc = connect(fd, (const struct sockaddr *)to, sizeof(*to)) == 0 ? 0 : errno;
	}

	n = wait_once(o, fd, ep, p->timeout_ms, &o->mask);
	if (n < 0) {
		if (errno == EINTR && stop)
			goto out_close;
		die(o->mech >= MECH_POLL ? mech_names[o->mech] : "epoll_wait");
	}
	o->timed_out = n == 0;
	tm_add(TM_EVENTS, n > 0);     /* select counts 2 when a socket is in both sets */
	/* Ask again at once: level-triggered reports the state again, edge-triggered only a change. */
	if (wait_once(o, fd, ep, 0, &o->again) < 0 && !(errno == EINTR && stop))
		die("second wait");
	/* Last: reading SO_ERROR clears it, and with it the EPOLLERR bit.  BUG lab 12
	 * (--bug trust-out): take "writable" for "connected" and never ask. */
	if (!bug_trust_out && getsockopt(fd, SOL_SOCKET, SO_ERROR, &o->so_error, &len) < 0)
		die("getsockopt(SO_ERROR)");

out_close:
	if (ep >= 0)
		close(ep);
	close(fd);
	if (o->pcase == CASE_CONNECTED)
		drain_listener(p->listen_fd);
}

/* Publish one observation for the viewer: a probe record and an event in the ring. */
static void publish(unsigned i, const struct obs *o)
{
	struct tm_probe rec;

	memset(&rec, 0, sizeof(rec));
	snprintf(rec.label, sizeof(rec.label), "%s", cases[o->pcase].label);
	snprintf(rec.mech, sizeof(rec.mech), "%s", mech_names[o->mech]);
	rec.registered = o->registered;
	rec.mask = o->mask;
	rec.so_error = o->so_error;
	rec.valid = 1;
	tm_probe_record(i, &rec);
	/* The socket is closed by now: the fd field carries the index of the record in probes[]. */
	tm_log(EV_PROBE, (int)i, o->mask, o->mask);
}

static void run_all(struct probe *p)
{
	for (unsigned c = 0; c < NCASES; c++)
		for (unsigned m = 0; m < NMECHS; m++)
			for (unsigned k = 0; k < NINTERESTS && !stop; k++) {
				struct obs *o = &p->obs[p->nobs];

				memset(o, 0, sizeof(*o));
				o->pcase = (enum probe_case)c;
				o->mech = (enum mech)m;
				o->registered = interests[k];
				observe(p, o);
				if (stop)
					return;
				publish(p->nobs, o);
				p->nobs++;
			}
}

static const struct obs *find(const struct probe *p, enum probe_case c, enum mech m, uint32_t reg)
{
	for (unsigned i = 0; i < p->nobs; i++)
		if (p->obs[i].pcase == c && p->obs[i].mech == m && p->obs[i].registered == reg)
			return &p->obs[i];
	return NULL;
}

/* ----------------------------------------------------------- text output */

static void print_table(const struct probe *p, const char *kernel)
{
	char reg[32], got[64], again[16];

	printf("iolab-probe: a nonblocking connect() as epoll, poll and select see it\n"
	       "kernel %s: every mask below was measured just now\n"
	       "(a wait gives up after %d ms and then shows 0, \"timed out\").\n"
	       "IN = EPOLLIN 0x1, OUT = EPOLLOUT 0x4, ERR = EPOLLERR 0x8, HUP = EPOLLHUP 0x10.\n"
	       "\"again\" = a second wait at once: level-triggered repeats the state,\n"
	       "edge-triggered reported only the change.\n",
	       kernel, p->timeout_ms);
	for (unsigned c = 0; c < NCASES; c++) {
		printf("\n%u. %s -- %s\n", c + 1, cases[c].label, cases[c].what);
		printf("   %-9s %-10s %-12s %-5s %-16s %-13s %s\n",
		       "mech", "registered", "connect()", "got", "names", "SO_ERROR", "again");
		for (unsigned i = 0; i < p->nobs; i++) {
			const struct obs *o = &p->obs[i];

			if (o->pcase != c)
				continue;
			short_mask(o->mask, got, sizeof(got));
			if (o->timed_out)
				snprintf(got, sizeof(got), "(timed out)");
			snprintf(again, sizeof(again), "0x%x", o->again);
			printf("   %-9s %-10s %-12s 0x%-3x %-16s %-13s %s\n", mech_names[o->mech],
			       short_mask(o->registered, reg, sizeof(reg)), errno_name(o->connect_rc),
			       o->mask, got, errno_name(o->so_error), again);
		}
	}
}

/* The notes' three numbers next to what epoll-et gave here (they used edge-triggered). */
static void print_notes_check(const struct probe *p)
{
	static const struct {
		enum probe_case pcase;
		uint32_t claimed;      /* the value the notes state: a claim, not a result */
	} notes[] = {
		{ CASE_BEFORE_CONNECT, EPOLLOUT | EPOLLHUP },
		{ CASE_REFUSED,        EPOLLIN | EPOLLERR | EPOLLHUP },
		{ CASE_CONNECTED,      EPOLLOUT },
	};
	char names[96], reg[32];

	printf("\nThe study notes' claims against epoll-et on this kernel:\n");
	for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++) {
		int same = 0;

		printf("   %s: the notes say 0x%x %s\n", cases[notes[i].pcase].label, notes[i].claimed,
		       mask_str(notes[i].claimed, names, sizeof(names), 0));
		for (unsigned k = 0; k < NINTERESTS; k++) {
			const struct obs *o = find(p, notes[i].pcase, MECH_EPOLL_ET, interests[k]);

			if (!o)
				continue;
			printf("      %-7s 0x%-3x %-34s %s\n", short_mask(interests[k], reg, sizeof(reg)),
			       o->mask, o->timed_out ? "(nothing: timed out)" :
			       mask_str(o->mask, names, sizeof(names), 0),
			       o->mask == notes[i].claimed ? "same" : "differs");
			same += o->mask == notes[i].claimed;
		}
		if (!same)
			printf("      no registration gave the notes' value here\n");
	}
}

/*
 * What to conclude, counted from the observations of this run: is "writable" enough
 * to know that connect() worked, does SO_ERROR agree with EPOLLERR, what do
 * level- and edge-triggered do on the second wait.
 */
static void print_conclusions(const struct probe *p)
{
	unsigned refused_out = 0, refused_out_of = 0, err_agree = 0, err_total = 0;
	unsigned conn_only_out = 0, conn_out_of = 0, in_only_timeouts = 0, in_only = 0;
	unsigned hup_before = 0, hup_before_of = 0, lt_same = 0, lt_of = 0, et_zero = 0, et_of = 0;
	const struct obs *sel = find(p, CASE_REFUSED, MECH_SELECT, EPOLLIN | EPOLLOUT);
	const struct obs *sel_ref = find(p, CASE_REFUSED, MECH_SELECT, EPOLLOUT);
	const struct obs *sel_ok = find(p, CASE_CONNECTED, MECH_SELECT, EPOLLOUT);
	char names[64];

	for (unsigned i = 0; i < p->nobs; i++) {
		const struct obs *o = &p->obs[i];

		if (o->pcase == CASE_REFUSED && (o->registered & EPOLLOUT)) {
			refused_out_of++;
			refused_out += !!(o->mask & EPOLLOUT);
		}
		if (o->pcase == CASE_CONNECTED && (o->registered & EPOLLOUT)) {
			conn_out_of++;
			conn_only_out += o->mask == EPOLLOUT;
		}
		if (o->pcase == CASE_CONNECTED && o->registered == EPOLLIN) {
			in_only++;
			in_only_timeouts += o->timed_out;
		}
		if (o->mech == MECH_SELECT)
			continue;              /* select cannot show ERR or HUP */
		if (o->pcase == CASE_BEFORE_CONNECT) {
			hup_before_of++;
			hup_before += !!(o->mask & EPOLLHUP);
		} else {
			err_total++;
			err_agree += !!(o->mask & EPOLLERR) == (o->so_error != 0);
		}
		if (o->mech == MECH_EPOLL_LT && !o->timed_out) {
			lt_of++;
			lt_same += o->again == o->mask;
		}
		if (o->mech == MECH_EPOLL_ET && !o->timed_out) {
			et_of++;
			et_zero += o->again == 0;
		}
	}
	printf("\nWhat this run shows (counted from the tables above):\n");
	printf(" - never connected: HUP in %u of %u epoll/poll waits.  A fresh TCP socket is\n"
	       "   closed (TCP_CLOSE), and the kernel reports a closed socket as hung up.\n",
	       hup_before, hup_before_of);
	printf(" - refused, OUT registered: OUT set in %u of %u waits.%s\n",
	       refused_out, refused_out_of,
	       refused_out ? "\n   \"Writable\" does not mean \"connected\"." : "");
	printf(" - connected, OUT registered: exactly OUT in %u of %u waits.\n",
	       conn_only_out, conn_out_of);
	printf(" - connected, only IN registered: %u of %u waits timed out (nothing to read yet):\n"
	       "   a program that waits only for IN never learns that it connected.\n",
	       in_only_timeouts, in_only);
	printf(" - epoll and poll: ERR set exactly when SO_ERROR was not 0 in %u of %u waits.\n",
	       err_agree, err_total);
	if (sel)
		printf(" - select, refused, IN|OUT registered: %s.  select has no ERR or HUP set:\n"
		       "   an error or a hangup makes the socket readable and writable.\n",
		       short_mask(sel->mask, names, sizeof(names)));
	if (sel_ref && sel_ok)
		printf(" - select, only the write set: refused gave 0x%x, connected gave 0x%x%s\n",
		       sel_ref->mask, sel_ok->mask,
		       sel_ref->mask == sel_ok->mask ? " --\n   the same: only SO_ERROR tells them apart." : ".");
	printf(" - second wait: epoll-lt repeated the mask in %u of %u waits,\n"
	       "   epoll-et returned nothing in %u of %u (an edge is reported once).\n",
	       lt_same, lt_of, et_zero, et_of);
	printf(" So: after EINPROGRESS, wait for OUT, then read SO_ERROR once: 0 means\n"
	       " connected, anything else is connect()'s errno (reading it clears it).\n");
}

/* ----------------------------------------------------------- JSON output */

static void print_json(const struct probe *p, const char *kernel)
{
	char reg[96], got[96], again[96];

	printf("{\"program\":\"iolab-probe\",\"kernel\":\"%s\",\"timeout_ms\":%d,\"observations\":[\n",
	       kernel, p->timeout_ms);
	for (unsigned i = 0; i < p->nobs; i++) {
		const struct obs *o = &p->obs[i];

		printf("{\"case\":\"%s\",\"mech\":\"%s\",\"registered\":%u,\"registered_names\":\"%s\","
		       "\"connect\":\"%s\",\"mask\":%u,\"mask_hex\":\"0x%x\",\"names\":\"%s\","
		       "\"timed_out\":%s,\"again\":%u,\"again_names\":\"%s\","
		       "\"so_error\":%d,\"so_error_name\":\"%s\"}%s\n",
		       cases[o->pcase].id, mech_names[o->mech], o->registered,
		       mask_str(o->registered, reg, sizeof(reg), 0), errno_name(o->connect_rc),
		       o->mask, o->mask, mask_str(o->mask, got, sizeof(got), 0),
		       o->timed_out ? "true" : "false", o->again, mask_str(o->again, again, sizeof(again), 0),
		       o->so_error, errno_name(o->so_error), i + 1 < p->nobs ? "," : "");
	}
	printf("]}\n");
}

/* ------------------------------------------------------------------ main */

static void hold(int seconds)
{
	char path[128];

	if (!tm_self || seconds == 0)
		return;
	snprintf(path, sizeof(path), "/dev/shm%s", tm_self->name);
	if (seconds == HOLD_FOREVER)
		fprintf(stderr, "\niolab-probe: published in %s (pid %d).\n"
			"iolab-probe: look at it with: bin/iolab-view --pid %d    Ctrl-C here to exit.\n",
			path, (int)getpid(), (int)getpid());
	else
		fprintf(stderr, "iolab-probe: published in %s (pid %d) for %d s.\n",
			path, (int)getpid(), seconds);
	/* sleep() returns early when a signal arrives; the handler sets `stop`. */
	for (int left = seconds; !stop && (seconds == HOLD_FOREVER || left > 0); left--)
		sleep(1);
}

static int parse_int(const char *s, const char *what, int min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > 1000000) {
		fprintf(stderr, "iolab-probe: %s: '%s' is not a number >= %d\n", what, s, min);
		exit(2);
	}
	return (int)v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help",     no_argument,       NULL, 'h' },
		{ "json",     no_argument,       NULL, 'j' },
		{ "hold",     required_argument, NULL, 'H' },
		{ "timeout",  required_argument, NULL, 't' },
		{ "no-stats", no_argument,       NULL, 'n' },
		{ "bug",      required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	static struct probe p;   /* static: the observations array is not small */
	struct sigaction sa;
	struct utsname uts;
	bool json = false, no_stats = false;
	int hold_s = HOLD_UNSET, c;
	char options[128];

	p.timeout_ms = DEFAULT_TIMEOUT_MS;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return 0;
		case 'j': json = true; break;
		case 'H': hold_s = parse_int(optarg, "--hold", 0); break;
		case 't': p.timeout_ms = parse_int(optarg, "--timeout", 1); break;
		case 'n': no_stats = true; break;
		case 'b':
			if (strcmp(optarg, "trust-out") != 0) {
				fprintf(stderr, "iolab-probe: no bug named '%s' (the one there is: trust-out)\n", optarg);
				return 2;
			}
			bug_trust_out = true;
			break;
		default:  usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iolab-probe: unexpected argument '%s' (try --help)\n", argv[optind]);
		return 2;
	}
	if (hold_s == HOLD_UNSET)
		hold_s = isatty(STDOUT_FILENO) ? HOLD_FOREVER : 0;
	if (uname(&uts) < 0)
		die("uname");

	/* No SA_RESTART: Ctrl-C interrupts a wait (EINTR) or the hold's sleep(). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	open_ports(&p);
	if (!no_stats) {
		struct tm_info info = {
			.kind = TM_KIND_PROBE, .model = "probe", .wait_call = "epoll_wait/poll/select",
			.addr = "127.0.0.1", .options = options, .port = ntohs(p.listen_addr.sin_port),
		};

		snprintf(options, sizeof(options), "timeout-ms=%d listening-port=%u refused-port=%u",
			 p.timeout_ms, ntohs(p.listen_addr.sin_port), ntohs(p.closed_addr.sin_port));
		if (tm_open(&info) < 0)
			fprintf(stderr, "iolab-probe: telemetry off: shm_open: %s\n", strerror(errno));
	}

	run_all(&p);
	if (stop) {
		fprintf(stderr, "iolab-probe: interrupted after %u observations\n", p.nobs);
		tm_close();
		return 130;
	}
	if (json) {
		print_json(&p, uts.release);
	} else {
		print_table(&p, uts.release);
		print_notes_check(&p);
		print_conclusions(&p);
	}
	fflush(stdout);
	hold(hold_s);

	tm_close();
	close(p.listen_fd);
	close(p.closed_fd);
	return 0;
}
