/* Description: unit tests for the viewer's model (viewer/sample.c), its text
 * (viewer/text.c) and its JSON lines (viewer/batch.c), against segments this test
 * writes itself with the telemetry writer API: counters become the right rates
 * (messages/s, MB/s, EAGAIN/s, events per wakeup, syscalls per message), Jain's
 * fairness and starvation over connection slots, fd reuse, the event ring and its
 * gaps, probe records, a server that exits (shown, then dropped), one that is
 * killed, the --pid filter, and garbage, truncated, unknown-kind and hostile
 * segments (ignored with a note, strings made printable, never a crash).
 *
 * The viewer's objects are linked into this test (all but main and the curses
 * ones: the Makefile's VIEW_TTY_OBJ); it calls what their headers declare.
 * Time is passed in: "two seconds later" is exact, whatever the machine does.
 *
 * Also the lab's figures: --watch names, columns that must survive 80x24, the
 * busy loop's per-spin figures, waits now vs ever, options per model, event filters.
 *
 * Usage: bin/tests/test_view_sample [PATTERN]
 * Segments: /dev/shm/iolabviewunit<pid>.* (IOLAB_SHM_PREFIX is set here), removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "viewer/batch.h"
#include "viewer/counters.h"
#include "viewer/evlog.h"
#include "viewer/layout.h"
#include "viewer/sample.h"
#include "viewer/text.h"
#include "viewer/ui.h"

#define SEC 1000000000ull

static char prefix[64];

/* ------------------------------------------------------------------ helpers */

static void open_server(void)
{
	struct tm_info info = { TM_KIND_SERVER, "unittest", "epoll_wait", "127.0.0.1", "framing=len32", 4321 };

	assert_int_equal(tm_open(&info), 0);
}

static struct sampler *new_sampler(pid_t only)
{
	struct sampler_opts o = { .starve_ns = 100 * 1000000ull };
	struct sampler *s = malloc(sizeof(*s));

	assert_non_null(s);
	if (only) {
		o.pids[0] = only;
		o.npids = 1;
	}
	sampler_init(s, &o);
	return s;
}

static void drop_sampler(struct sampler *s)
{
	sampler_free(s);
	free(s);
}

/* A server's segment in the model, by pid; NULL if it is not there. */
static struct seg *find_pid(const struct sampler *s, pid_t pid)
{
	for (size_t i = 0; i < s->nsegs; i++)
		if (s->segs[i]->pid == pid)
			return s->segs[i];
	return NULL;
}

static struct seg *my_seg(const struct sampler *s)
{
	return find_pid(s, getpid());
}

static bool notes_contain(const struct sampler *s, const char *what)
{
	for (unsigned i = 0; i < NOTES_MAX; i++) {
		const char *n = sampler_note(s, i, NULL);

		if (n && strstr(n, what))
			return true;
	}
	return false;
}

/* Write a file under /dev/shm with our prefix: name "<prefix>.<middle>". */
static void write_shm(const char *middle, const void *data, size_t len, char *path, size_t pathlen)
{
	int fd;

	snprintf(path, pathlen, "/dev/shm/%s.%s", prefix, middle);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* A byte copy of our own live segment, to be made hostile. */
static void *copy_of_self(size_t *len)
{
	char path[300];
	struct stat st;
	void *buf;
	int fd;

	snprintf(path, sizeof(path), "/dev/shm%s", tm_self->name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static pid_t dead_pid(void)
{
	for (pid_t p = 4000000; p > 300000; p -= 7919)
		if (kill(p, 0) < 0 && errno == ESRCH)
			return p;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	open_server();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	tm_close();
	/*
	 * tm_close() unlinks but keeps the writer (a server's other threads may still
	 * write); forget it so that the next case's tm_open() makes a fresh segment.
	 */
	tm_self = NULL;
	/* Crafted files of this test (all carry our prefix). */
	snprintf(cmd, sizeof(cmd), "rm -f /dev/shm/%s.*", prefix);
	if (system(cmd) != 0)
		return -1;
	return 0;
}

/* -------------------------------------------------------------------- rates */

static void counters_become_rates(void **state)
{
	struct sampler *s = new_sampler(0);
	uint64_t t0 = tm_now();
	struct seg *g;

	(void)state;
	sampler_sample(s, t0);
	g = my_seg(s);
	assert_non_null(g);
	assert_string_equal(g->model, "unittest");
	assert_string_equal(g->wait_call, "epoll_wait");
	assert_int_equal(g->port, 4321);
	assert_int_equal(g->kind, TM_KIND_SERVER);
	assert_true(isnan(g->r.fairness));              /* one look is not an interval */

	tm_add(TM_FRAMES_IN, 1000);
	tm_add(TM_BYTES_IN, 2000000);
	tm_add(TM_BYTES_OUT, 4000000);
	tm_add(TM_EAGAIN_RD, 30);
	tm_add(TM_EAGAIN_WR, 50);
	tm_add(TM_WAIT_CALLS, 100);
	tm_add(TM_EVENTS, 400);
	tm_add(TM_EMPTY_WAKEUPS, 10);
	tm_add(TM_READ_CALLS, 300);
	tm_add(TM_WRITE_CALLS, 200);
	tm_add(TM_ACTIVE, 3);
	sampler_sample(s, t0 + 2 * SEC);
	g = my_seg(s);
	assert_non_null(g);
	assert_true(fabs(g->r.msgs_s - 500) < 1e-9);
	assert_true(fabs(g->r.mb_in_s - 1.0) < 1e-9);
	assert_true(fabs(g->r.mb_out_s - 2.0) < 1e-9);
	assert_true(fabs(g->r.eagain_rd_s - 15) < 1e-9);
	assert_true(fabs(g->r.eagain_wr_s - 25) < 1e-9);
	assert_true(fabs(g->r.waits_s - 50) < 1e-9);
	assert_true(fabs(g->r.ev_per_wake - 4) < 1e-9);
	assert_true(fabs(g->r.empty_pct - 10) < 1e-9);
	assert_true(fabs(g->r.sys_per_msg - 0.6) < 1e-9);   /* (300 + 200 + 100) / 1000 */
	assert_true(g->r.cpu_pct >= 0);                   /* our own /proc/PID/stat */
	assert_int_equal(g->cnt[TM_ACTIVE], 3);
	assert_int_equal(g->hist_len, 1);
	assert_true(fabs(g->hist[0] - 500) < 1e-3);
	drop_sampler(s);
}

static void ratios_without_denominator_are_nan(void **state)
{
	struct sampler *s = new_sampler(0);
	uint64_t t0 = tm_now();
	struct seg *g;

	(void)state;
	sampler_sample(s, t0);
	sampler_sample(s, t0 + SEC);
	g = my_seg(s);
	assert_non_null(g);
	assert_true(g->r.msgs_s == 0);
	assert_true(isnan(g->r.ev_per_wake));
	assert_true(isnan(g->r.empty_pct));
	assert_true(isnan(g->r.sys_per_msg));
	assert_true(isnan(g->r.fairness));
	drop_sampler(s);
}

static void counter_going_back_counts_zero(void **state)
{
	struct sampler *s = new_sampler(0);
	uint64_t t0 = tm_now();

	(void)state;
	tm_add(TM_FRAMES_IN, 500);
	sampler_sample(s, t0);
	tm_sub(TM_FRAMES_IN, 400);
	sampler_sample(s, t0 + SEC);
	assert_true(my_seg(s)->r.msgs_s == 0);
	drop_sampler(s);
}

/* -------------------------------------------------------------- connections */

static void fairness_and_starvation_from_slots(void **state)
{
	struct sampler *s = new_sampler(0);
	uint64_t t0 = tm_now();
	struct seg *g;
	double want;

	(void)state;
	tm_conn_open(5, 40005);
	tm_conn_open(6, 40006);
	tm_conn_open(7, 40007);
	tm_conn_open(8, 40008);                         /* idle: never ready, never moves a byte */
	tm_conn_interest(5, EPOLLIN | EPOLLRDHUP);
	sampler_sample(s, t0);
	tm_conn_io(5, 100, 100, 1, 0, 0, 0);
	tm_conn_io(6, 100, 100, 1, 0, 3, 4096);
	tm_conn_ready(5, EPOLLIN);
	tm_conn_served(5);
	tm_conn_ready(7, EPOLLIN | EPOLLERR | EPOLLHUP); /* ready, never served: starving */
	sampler_sample(s, t0 + SEC);
	g = my_seg(s);
	assert_int_equal(g->nconns, 4);
	assert_int_equal(g->conns[0].fd, 5);
	assert_int_equal(g->conns[0].peer_port, 40005);
	assert_int_equal(g->conns[0].interest, EPOLLIN | EPOLLRDHUP);
	assert_int_equal(g->conns[0].d_bytes, 200);
	assert_int_equal(g->conns[1].eagain_wr, 3);
	assert_int_equal(g->conns[1].queued, 4096);
	assert_int_equal(g->conns[2].ready, 0x19);
	assert_true(g->conns[2].wait_ns > SEC / 2);     /* sampled about a second after it became ready */
	assert_true(g->conns[2].starving);
	assert_false(g->conns[0].starving);
	assert_int_equal(g->r.starving, 1);
	assert_true(g->r.starve_ns == g->conns[2].wait_ns);
	assert_true(g->conns[2].max_wait_ns >= g->conns[2].wait_ns);
	/* Jain over {200, 200, 0}: the idle fd 8 is left out, the starving fd 7 counts. */
	want = 400.0 * 400.0 / (3 * (200.0 * 200.0 * 2));
	assert_true(fabs(g->r.fairness - want) < 1e-9);

	tm_conn_served(7);
	tm_conn_io(5, 50, 50, 0, 0, 0, 0);
	tm_conn_io(6, 50, 50, 0, 0, 0, 0);
	tm_conn_io(7, 50, 50, 0, 0, 0, 0);
	sampler_sample(s, t0 + 2 * SEC);
	g = my_seg(s);
	assert_true(fabs(g->r.fairness - 1.0) < 1e-9);  /* equal shares */
	assert_int_equal(g->r.starving, 0);
	assert_true(g->conns[2].max_wait_ns > 0);       /* the wait it suffered is remembered */
	drop_sampler(s);
}

static void reused_fd_is_a_new_connection(void **state)
{
	struct sampler *s = new_sampler(0);
	uint64_t t0 = tm_now();
	struct seg *g;

	(void)state;
	tm_conn_open(9, 1);
	tm_conn_io(9, 5000, 5000, 0, 0, 0, 0);
	sampler_sample(s, t0);
	tm_conn_close(9);
	usleep(1000);                                   /* a different opened_ns */
	tm_conn_open(9, 2);
	tm_conn_io(9, 10, 0, 0, 0, 0, 0);
	sampler_sample(s, t0 + SEC);
	g = my_seg(s);
	assert_int_equal(g->nconns, 1);
	assert_int_equal(g->conns[0].peer_port, 2);
	assert_int_equal(g->conns[0].d_bytes, 10);      /* not 10 - 10000 */
	tm_conn_close(9);
	sampler_sample(s, t0 + 2 * SEC);
	assert_int_equal(my_seg(s)->nconns, 0);
	drop_sampler(s);
}

/* --------------------------------------------------------------- event log */

static void event_log_is_read_and_gaps_are_counted(void **state)
{
	struct sampler *s = new_sampler(0);
	uint64_t t0 = tm_now();
	struct seg *g;

	(void)state;
	sampler_sample(s, t0);
	g = my_seg(s);
	assert_int_equal(seg_log_count(g), 0);          /* nobody asked for it */
	g->want_log = true;
	seg_poll_log(g);
	for (int i = 0; i < 10; i++)
		tm_log(EV_READY, 100 + i, EPOLLIN, EPOLLIN);
	sampler_sample(s, t0 + SEC);
	assert_int_equal(seg_log_count(g), 10);
	assert_int_equal(seg_log_at(g, 0)->fd, 100);
	assert_int_equal(seg_log_at(g, 9)->fd, 109);
	assert_int_equal(seg_log_at(g, 9)->kind, EV_READY);
	assert_null(seg_log_at(g, 10));

	for (int i = 0; i < TM_NLOG + 904; i++)       /* laps the ring while the viewer sleeps */
		tm_log(EV_EAGAIN_WR, 7, 0, 0);
	sampler_sample(s, t0 + 2 * SEC);
	assert_int_equal(g->log->missed_total, 904);
	assert_int_equal(seg_log_count(g), LOG_KEEP);
	/* 10 + one gap line + 4096 read into a buffer of 4096: 11 pushed out, and said so. */
	assert_int_equal(g->log->dropped, 11);
	assert_int_equal(g->log->read_total, 10 + TM_NLOG);
	assert_int_equal(seg_log_at(g, LOG_KEEP - 1)->kind, EV_EAGAIN_WR);

	g->want_log = false;                            /* view closed: the next look starts afresh */
	sampler_sample(s, t0 + 3 * SEC);
	assert_false(g->log->started);
	drop_sampler(s);
}

/* ------------------------------------------------------------------ probes */

static void probe_records_are_read(void **state)
{
	struct tm_info info = { TM_KIND_PROBE, "probe", "", "127.0.0.1", "timeout-ms=200", 0 };
	struct tm_probe p = { .label = "refused connect", .mech = "epoll-lt", .registered = EPOLLOUT,
			      .mask = EPOLLIN | EPOLLERR | EPOLLHUP, .so_error = ECONNREFUSED, .valid = 1 };
	struct sampler *s = new_sampler(0);
	struct seg *g;

	(void)state;
	tm_close();
	tm_self = NULL;                                 /* see teardown() */
	assert_int_equal(tm_open(&info), 0);
	tm_probe_record(3, &p);
	sampler_sample(s, tm_now());
	g = my_seg(s);
	assert_non_null(g);
	assert_int_equal(g->kind, TM_KIND_PROBE);
	assert_int_equal(g->nprobes, 1);
	assert_string_equal(g->probes[0].label, "refused connect");
	assert_int_equal(g->probes[0].mask, 0x19);
	assert_non_null(strstr(probe_explain(&g->probes[0]), "ECONNREFUSED"));
	drop_sampler(s);
}

/* ------------------------------------------------------- servers come and go */

static void exited_server_is_shown_then_dropped(void **state)
{
	struct sampler *s = new_sampler(0);
	uint64_t t0 = tm_now();
	struct seg *g;

	(void)state;
	sampler_sample(s, t0);
	assert_int_equal(my_seg(s)->status, SEG_LIVE);
	tm_close();                                     /* what a server does on SIGINT */
	sampler_sample(s, t0 + SEC);
	g = my_seg(s);
	assert_non_null(g);
	assert_int_equal(g->status, SEG_EXITED);
	assert_string_equal(g->exit_why, "exited");
	assert_true(notes_contain(s, "unittest pid"));
	sampler_sample(s, t0 + SEC + EXIT_LINGER_NS);
	assert_null(my_seg(s));
	sampler_sample(s, t0 + 3 * SEC + EXIT_LINGER_NS);
	assert_null(my_seg(s));
	drop_sampler(s);
}

static void killed_server_is_marked_and_not_reopened(void **state)
{
	struct sampler *s = new_sampler(0);
	uint64_t t0 = tm_now();
	int ready[2];
	pid_t child;
	char c;

	(void)state;
	assert_int_equal(pipe(ready), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {                               /* a "server" that will be SIGKILLed */
		struct tm_info info = { TM_KIND_SERVER, "victim", "poll", "127.0.0.1", "", 1 };

		tm_self = NULL;                         /* the parent's writer is not ours */
		if (tm_open(&info) < 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	sampler_sample(s, t0);
	assert_non_null(find_pid(s, child));
	assert_int_equal(find_pid(s, child)->status, SEG_LIVE);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	sampler_sample(s, t0 + SEC);
	assert_int_equal(find_pid(s, child)->status, SEG_EXITED);
	assert_string_equal(find_pid(s, child)->exit_why, "killed");
	sampler_sample(s, t0 + SEC + EXIT_LINGER_NS);
	assert_null(find_pid(s, child));
	sampler_sample(s, t0 + 5 * SEC + EXIT_LINGER_NS);   /* its file is still there: not back */
	assert_null(find_pid(s, child));

	/* A new viewer meets the left-behind file: ignored at once, with a note. */
	drop_sampler(s);
	s = new_sampler(0);
	sampler_sample(s, t0);
	assert_null(find_pid(s, child));
	assert_true(notes_contain(s, "process is gone"));
	close(ready[0]);
	close(ready[1]);
	drop_sampler(s);
}

static void pid_filter_shows_only_those(void **state)
{
	struct sampler *s = new_sampler(1);             /* pid 1 has no segment of ours */

	(void)state;
	sampler_sample(s, tm_now());
	assert_null(my_seg(s));
	assert_int_equal(s->nsegs, 0);
	drop_sampler(s);
	s = new_sampler(getpid());
	sampler_sample(s, tm_now());
	assert_non_null(my_seg(s));
	drop_sampler(s);
}

/* ------------------------------------------------------- garbage segments */

static void garbage_segments_are_ignored_with_a_note(void **state)
{
	struct sampler *s = new_sampler(0);
	uint64_t t0 = tm_now();
	char path[300], name[64], junk[8192];
	size_t len;
	void *copy;
	struct tm_header *h;
	pid_t gone = dead_pid();

	(void)state;
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	snprintf(name, sizeof(name), "garbage.%d", (int)getpid());
	write_shm(name, junk, sizeof(junk), path, sizeof(path));
	write_shm("empty.1", "", 0, path, sizeof(path));

	copy = copy_of_self(&len);
	h = copy;
	write_shm("truncated.1", copy, len / 2, path, sizeof(path));
	h->kind = 77;
	write_shm("oddkind.1", copy, len, path, sizeof(path));
	h->kind = TM_KIND_SERVER;
	h->pid = gone;
	snprintf(name, sizeof(name), "stale.%d", (int)gone);
	write_shm(name, copy, len, path, sizeof(path));
	free(copy);

	sampler_sample(s, t0);
	assert_int_equal(s->nsegs, 1);                  /* only our real segment */
	assert_non_null(my_seg(s));
	assert_true(notes_contain(s, "process is gone"));   /* certain at once */
	assert_false(notes_contain(s, "bad magic"));    /* could be a segment being created */
	sampler_sample(s, t0 + 2 * SEC);
	assert_int_equal(s->nsegs, 1);
	assert_true(notes_contain(s, "garbage"));
	assert_true(notes_contain(s, "bad magic"));
	assert_true(notes_contain(s, "truncated"));
	assert_true(notes_contain(s, "unknown segment kind"));
	sampler_sample(s, t0 + 4 * SEC);                /* noted once, not every time */
	assert_int_equal(s->nsegs, 1);
	drop_sampler(s);
}

/* A segment that passes every check but lies: the viewer clamps and cleans. */
static void hostile_header_is_clamped(void **state)
{
	struct sampler *s = new_sampler(0);
	char path[300];
	size_t len;
	void *copy = copy_of_self(&len);
	struct tm_header *h = copy;
	struct seg *g = NULL;

	(void)state;
	memset(h->model, 'A', sizeof(h->model));        /* no NUL */
	memcpy(h->model, "\x1b[2J", 4);                 /* an escape sequence */
	memset(h->options, '\x07', sizeof(h->options));
	atomic_store(&h->slot_hwm, 0xffffffffu);
	write_shm("hostile.1", copy, len, path, sizeof(path));
	free(copy);

	sampler_sample(s, tm_now());
	sampler_sample(s, tm_now() + SEC);
	for (size_t i = 0; i < s->nsegs; i++)
		if (strcmp(s->segs[i]->path, path) == 0)
			g = s->segs[i];
	assert_non_null(g);
	assert_int_equal(strlen(g->model), sizeof(h->model) - 1);
	for (const char *p = g->model; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
	assert_int_equal(g->options[0], '?');
	assert_int_equal(g->nconns, 0);                 /* scanned nslots, not 4 billion */
	assert_int_equal(g->mem_cap, TM_NSLOTS);
	drop_sampler(s);
}

/* ------------------------------------------------------------------- text */

static void numbers_and_durations_are_short(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(fmt_num(0, b, sizeof(b)), "0");
	assert_string_equal(fmt_num(NAN, b, sizeof(b)), "-");
	assert_string_equal(fmt_num(3.14159, b, sizeof(b)), "3.14");
	assert_string_equal(fmt_num(42.42, b, sizeof(b)), "42.4");
	assert_string_equal(fmt_num(999.4, b, sizeof(b)), "999");
	assert_string_equal(fmt_num(1234, b, sizeof(b)), "1.23k");
	assert_string_equal(fmt_num(45600, b, sizeof(b)), "45.6k");
	assert_string_equal(fmt_num(2e6, b, sizeof(b)), "2.00M");
	assert_string_equal(fmt_dur(0, b, sizeof(b)), "0");
	assert_string_equal(fmt_dur(950, b, sizeof(b)), "950ns");
	assert_string_equal(fmt_dur(1500, b, sizeof(b)), "1.5us");
	assert_string_equal(fmt_dur(2500000, b, sizeof(b)), "2.5ms");
	assert_string_equal(fmt_dur(1200000000, b, sizeof(b)), "1.20s");
	assert_string_equal(fmt_dur(125 * SEC, b, sizeof(b)), "2m05s");
	assert_string_equal(fmt_count(3, b, sizeof(b)), "3");
	assert_string_equal(fmt_count(99999, b, sizeof(b)), "99999");
	assert_string_equal(fmt_count(236738, b, sizeof(b)), "237k");
	assert_string_equal(fmt_bytes(512, b, sizeof(b)), "512");
	assert_string_equal(fmt_bytes(4 * 1024 * 1024, b, sizeof(b)), "4.0M");
}

static void masks_fit_their_column(void **state)
{
	char b[128];

	(void)state;
	assert_string_equal(mask_text(0x19, MASK_LONG, b, sizeof(b)), "0x19 EPOLLIN|EPOLLERR|EPOLLHUP");
	assert_string_equal(mask_text(0x19, MASK_SHORT, b, sizeof(b)), "0x19 IN|ERR|HUP");
	assert_string_equal(mask_text(0, MASK_LONG, b, sizeof(b)), "0x0");
	assert_string_equal(mask_fit(0x19, 40, b, sizeof(b)), "0x19 EPOLLIN|EPOLLERR|EPOLLHUP");
	assert_string_equal(mask_fit(0x19, 20, b, sizeof(b)), "0x19 IN|ERR|HUP");
	assert_string_equal(mask_fit(0x19, 6, b, sizeof(b)), "0x19");
}

static void events_and_probes_are_explained(void **state)
{
	struct tm_event e = { .kind = EV_READY, .fd = 7, .mask = 0x19 };
	struct tm_probe p = { .mech = "epoll-lt", .mask = EPOLLOUT };
	char b[256];

	(void)state;
	assert_string_equal(event_detail(&e, b, sizeof(b)), "0x19 EPOLLIN|EPOLLERR|EPOLLHUP");
	e.kind = EV_CLOSE;
	e.value = ECONNRESET;
	assert_string_equal(event_detail(&e, b, sizeof(b)), "ECONNRESET");
	e.value = 0;
	assert_non_null(strstr(event_detail(&e, b, sizeof(b)), "EOF"));
	e.kind = 0;
	e.value = 904;
	assert_non_null(strstr(event_detail(&e, b, sizeof(b)), "904 events lost"));
	snprintf(p.label, sizeof(p.label), "successful connect");
	assert_non_null(strstr(probe_explain(&p), "connected: writable"));
	p.registered = EPOLLIN;
	p.mask = 0;
	assert_non_null(strstr(probe_explain(&p), "only IN was asked"));
	snprintf(p.label, sizeof(p.label), "registered before connect");
	p.mask = EPOLLOUT | EPOLLHUP;
	assert_non_null(strstr(probe_explain(&p), "never connected"));
	snprintf(p.mech, sizeof(p.mech), "select");
	p.mask = EPOLLOUT;
	assert_non_null(strstr(probe_explain(&p), "select has no HUP"));
	snprintf(p.label, sizeof(p.label), "refused connect");
	p.mask = EPOLLIN | EPOLLOUT;
	p.so_error = ECONNREFUSED;
	assert_non_null(strstr(probe_explain(&p), "select has no ERR"));
	assert_non_null(strstr(strace_filter("epoll_wait"), "epoll_pwait"));
	assert_non_null(strstr(strace_filter("epoll_wait"), "readv"));
	/* blocking and nonblocking: their I/O is what shows (readv/write are not in %network) */
	assert_non_null(strstr(strace_filter("accept/read"), "readv,write"));
	assert_non_null(strstr(strace_filter("none (busy loop)"), "readv,write"));
	assert_null(strstr(strace_filter("none (busy loop)"), "%network"));
	assert_string_equal(strace_filter("x; rm -rf /"), "%network,accept4,readv,write");
	assert_string_equal(errno_name(ECONNREFUSED), "ECONNREFUSED");
}

/* ------------------------------------------------------------------- JSON */

static void batch_line_has_the_figures(void **state)
{
	struct sampler *s = new_sampler(0);
	uint64_t t0 = tm_now(), seen = 0;
	char *out = NULL, want[64];
	size_t outlen = 0;
	FILE *f;

	(void)state;
	tm_conn_open(5, 1);
	sampler_sample(s, t0);
	tm_add(TM_FRAMES_IN, 1000);
	tm_add(TM_EAGAIN_WR, 7);
	sampler_sample(s, t0 + 2 * SEC);
	f = open_memstream(&out, &outlen);
	assert_non_null(f);
	batch_print(f, s, true, &seen);
	fclose(f);
	snprintf(want, sizeof(want), "\"pid\":%d,", (int)getpid());
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "\"model\":\"unittest\""));
	assert_non_null(strstr(out, "\"msgs_s\":500.000"));
	assert_non_null(strstr(out, "\"eagain_wr\":7"));
	assert_non_null(strstr(out, "\"syscalls_per_msg\":0.000"));
	assert_non_null(strstr(out, "\"events_per_wakeup\":null"));
	assert_non_null(strstr(out, "\"connections\":[{\"fd\":5,"));
	assert_non_null(strstr(out, "\"interval_s\":2.000"));
	assert_int_equal(out[outlen - 1], '\n');
	assert_null(strchr(out, '\n') + 1 < out + outlen ? strchr(strchr(out, '\n') + 1, '\n') : NULL);
	free(out);
	drop_sampler(s);
}

/* ---------------------------------------------------- lab counters and layout */

static void watch_names_are_telemetry_names(void **state)
{
	struct watch w = { 0 };
	char err[2048];

	(void)state;
	assert_int_equal(watch_parse(&w, "scanned,sigq_overflow", err, sizeof(err)), 0);
	assert_int_equal(watch_parse(&w, "scanned,completions_per_wait", err, sizeof(err)), 0);
	assert_int_equal(w.n, 3);                          /* scanned once */
	assert_int_equal(w.id[0], TM_SCANNED);
	assert_int_equal(w.id[1], TM_SIGQ_OVERFLOW);
	assert_int_equal(w.id[2], DERIVED_BASE + DV_COMPLETIONS_PER_WAIT);
	assert_string_equal(watch_name(w.id[1]), "sigq_overflow");
	/* Every name the telemetry has is accepted, by exactly that name. */
	for (int c = 0; c < TM_NCOUNTERS_USED; c++) {
		struct watch one = { 0 };

		assert_int_equal(watch_parse(&one, tm_counter_names[c], err, sizeof(err)), 0);
		assert_int_equal(one.id[0], c);
		assert_true(strcmp(counter_meaning(c), "(no description)") != 0);
	}
	assert_int_equal(watch_parse(&w, "scanned,scaned", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown counter 'scaned'"));
	assert_non_null(strstr(err, " sigq_overflow "));
	assert_non_null(strstr(err, "completions_per_wait"));
	assert_int_equal(watch_parse(&w, "", err, sizeof(err)), -1);
	assert_int_equal(watch_parse(&w, "a,", err, sizeof(err)), -1);
}

static bool shown(const struct layout *l, int key, int avail)
{
	int i = layout_find(l, key);

	return i >= 0 && l->shown[i] && l->x[i] + l->w[i] <= avail;
}

static void lab_columns_survive_80_columns(void **state)
{
	struct watch w = { 0 };
	struct layout l;
	char err[512], buf[64];
	int i;

	(void)state;
	assert_int_equal(watch_parse(&w, "scanned,sigq_overflow", err, sizeof(err)), 0);
	layout_overview(&l, &w, 80);
	for (int key = OV_WATCH; key < OV_WATCH + 4; key++)
		assert_true(shown(&l, key, 80));
	assert_true(shown(&l, OV_MODEL, 80) && shown(&l, OV_PID, 80));
	assert_true(shown(&l, OV_EVWAKE, 80) && shown(&l, OV_EMPTY, 80));
	assert_true(l.hidden > 0);                          /* the others made room, and it is said */
	for (i = 0; i < l.n; i++)
		assert_true(!l.shown[i] || l.x[i] + l.w[i] <= 80);   /* nothing is cut at the edge */
	assert_string_equal(l.c[layout_find(&l, OV_WATCH)].title, "scanned");
	assert_string_equal(l.c[layout_find(&l, OV_WATCH + 1)].title, "/s");

	/* Lab 9's five names at 80 columns: the rates make room, every name is on screen. */
	{
		struct watch w9 = { 0 };

		assert_int_equal(watch_parse(&w9, "submits,completions,wait_calls,eagain_rd,eagain_wr", err, sizeof(err)), 0);
		layout_overview(&l, &w9, 80);
		for (int j = 0; j < 5; j++)
			assert_true(shown(&l, OV_WATCH + 2 * j, 80));
		assert_true(shown(&l, OV_MODEL, 80) && shown(&l, OV_PID, 80));
	}

	/* More than fits (six names): every rate goes, then EV/WK and EMPT%, then the last
	 * names go whole; nothing hangs over the edge. */
	assert_int_equal(watch_parse(&w, "submits,completions,completions_per_wait,blocked_ns", err, sizeof(err)), 0);
	layout_overview(&l, &w, 80);
	for (i = 0; i < l.n; i++)
		assert_true(!l.shown[i] || l.x[i] + l.w[i] <= 80);
	assert_true(shown(&l, OV_PID, 80));
	for (int j = 0; j < 5; j++)                         /* scanned ... completions_per_wait */
		assert_true(shown(&l, OV_WATCH + 2 * j, 80));
	for (int j = 0; j < 6; j++)
		assert_false(shown(&l, OV_WATCH + 2 * j + 1, 80));

	/* Connections at 80: the interest mask of an ET socket is whole. */
	layout_conns(&l, 80);
	i = layout_find(&l, CN_INTEREST);
	assert_true(l.shown[i] && l.w[i] >= 10);
	assert_string_equal(mask_fit(0x80002005, l.w[i], buf, sizeof(buf)), "0x80002005");
	assert_true(shown(&l, CN_READY, 80) && shown(&l, CN_MAXWAIT, 80));

	/* A name cut keeps its head and tail around an ellipsis. */
	assert_string_equal(ellipsize("completions_per_wait", 11, false, buf, sizeof(buf)), "compl~_wait");
	assert_string_equal(ellipsize("scanned", 11, true, buf, sizeof(buf)), "scanned");
}

static void busy_loop_figures_are_per_spin(void **state)
{
	struct sampler *s = new_sampler(0);
	uint64_t t0 = tm_now();
	struct seg *g;

	(void)state;
	sampler_sample(s, t0);
	tm_add(TM_SPINS, 1000);                  /* the busy loop: turns, no waiting call */
	tm_add(TM_EMPTY_WAKEUPS, 990);
	tm_add(TM_EVENTS, 10);
	tm_add(TM_SCANNED, 4000);
	sampler_sample(s, t0 + SEC);
	g = my_seg(s);
	assert_true(g->r.per_spin);
	assert_true(fabs(g->r.empty_pct - 99) < 1e-9);      /* not "-" as per wait_calls */
	assert_true(fabs(g->r.ev_per_wake - 0.01) < 1e-9);
	assert_true(fabs(g->r.scanned_per_wake - 4) < 1e-9);
	assert_true(fabs(g->r.cnt_s[TM_SPINS] - 1000) < 1e-9);
	assert_true(isnan(g->r.cnt_s[TM_ACTIVE]));          /* a level has no rate */
	assert_true(isnan(g->r.compl_per_wait));
	assert_true(fabs(rates_derived(&g->r, DV_EMPTY_PCT) - 99) < 1e-9);
	drop_sampler(s);
}

static void completions_per_wait_and_waits_ever(void **state)
{
	struct sampler *s = new_sampler(0);
	uint64_t t0 = tm_now();
	struct seg *g;

	(void)state;
	tm_conn_open(6, 40006);
	sampler_sample(s, t0);
	tm_add(TM_WAIT_CALLS, 10);
	tm_add(TM_COMPLETIONS, 77);
	tm_add(TM_SUBMITS, 80);
	tm_add(TM_BLOCKED_NS, 500000000);
	tm_conn_ready(6, EPOLLIN);
	usleep(30000);
	tm_conn_served(6);                       /* waited 30 ms once; not waiting now */
	sampler_sample(s, t0 + 2 * SEC);
	g = my_seg(s);
	assert_false(g->r.per_spin);
	assert_true(fabs(g->r.compl_per_wait - 7.7) < 1e-9);
	assert_true(fabs(g->r.cnt_s[TM_SUBMITS] - 40) < 1e-9);
	assert_true(fabs(g->r.cnt_s[TM_BLOCKED_NS] - 250000000) < 1e-3);
	assert_int_equal(g->r.starving, 0);
	assert_int_equal(g->r.starve_ns, 0);                /* now: nobody waits */
	assert_true(g->r.max_wait_ns >= 30000000);          /* ever: the 30 ms wait */
	drop_sampler(s);
}

static void options_and_events_as_shown(void **state)
{
	struct tm_event close_rst = { .kind = EV_CLOSE, .fd = 9, .value = ECONNRESET };
	struct tm_event refused = { .kind = EV_REFUSED, .fd = 1030, .value = 1030 };
	struct tm_event gap = { .kind = 0, .fd = -1, .value = 5 };

	(void)state;

	assert_true(ui_event_matches(&refused, "refused"));     /* lab 3's refusals, by kind */
	assert_true(ui_event_matches(&refused, "1030"));
	assert_true(ui_event_matches(&close_rst, "ECONNRESET")); /* by what the detail says */
	assert_false(ui_event_matches(&close_rst, "refused"));
	assert_true(ui_event_matches(&gap, ""));
	assert_false(ui_event_matches(&gap, "refused"));        /* a gap line matches no filter */
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(counters_become_rates, setup, teardown),
		cmocka_unit_test_setup_teardown(ratios_without_denominator_are_nan, setup, teardown),
		cmocka_unit_test_setup_teardown(counter_going_back_counts_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(fairness_and_starvation_from_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(reused_fd_is_a_new_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(event_log_is_read_and_gaps_are_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(probe_records_are_read, setup, teardown),
		cmocka_unit_test_setup_teardown(exited_server_is_shown_then_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(killed_server_is_marked_and_not_reopened, setup, teardown),
		cmocka_unit_test_setup_teardown(pid_filter_shows_only_those, setup, teardown),
		cmocka_unit_test_setup_teardown(garbage_segments_are_ignored_with_a_note, setup, teardown),
		cmocka_unit_test_setup_teardown(hostile_header_is_clamped, setup, teardown),
		cmocka_unit_test(numbers_and_durations_are_short),
		cmocka_unit_test(masks_fit_their_column),
		cmocka_unit_test(events_and_probes_are_explained),
		cmocka_unit_test_setup_teardown(batch_line_has_the_figures, setup, teardown),
		cmocka_unit_test(watch_names_are_telemetry_names),
		cmocka_unit_test(lab_columns_survive_80_columns),
		cmocka_unit_test_setup_teardown(busy_loop_figures_are_per_spin, setup, teardown),
		cmocka_unit_test_setup_teardown(completions_per_wait_and_waits_ever, setup, teardown),
		cmocka_unit_test(options_and_events_as_shown),
	};

	snprintf(prefix, sizeof(prefix), "iolabviewunit%d", (int)getpid());
	setenv("IOLAB_SHM_PREFIX", prefix, 1);
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
