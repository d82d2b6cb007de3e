/* Description: unit tests for common/procstat.c, the one reader of /proc/PID/stat
 * and of the context-switch lines of /proc/PID[/task/TID]/status — a stat line
 * whose command name holds spaces and ')' parses by the last ')'; our own stat
 * says running, one thread, some resident pages and the CPU time our CPU clock
 * says; an unreaped child reads as a zombie (not alive); a pid that is gone
 * fails; and the status file of the process counts the main thread only: a
 * worker thread's switches are in /proc/PID/task/TID/status.
 *
 * Usage: bin/tests/test_procstat
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/procstat.h"

static void parse_takes_fields_after_the_last_paren(void **state)
{
	/* comm "a) b (c" with spaces and parens; fields 3.. as proc(5) numbers them. */
	const char *line = "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
			   "37 12 0 0 20 0 3 0 5000 12345678 321 18446744073709551615\n";
	struct proc_stat ps;

	(void)state;
	assert_true(procstat_parse(line, &ps));
	assert_int_equal(ps.state, 'S');
	assert_int_equal(ps.utime, 37);
	assert_int_equal(ps.stime, 12);
	assert_int_equal(ps.num_threads, 3);
	assert_int_equal(ps.rss, 321);
}

static void parse_refuses_garbage(void **state)
{
	struct proc_stat ps;

	(void)state;
	assert_false(procstat_parse("", &ps));
	assert_false(procstat_parse("4242 no paren S 1 2 3", &ps));
	assert_false(procstat_parse("4242 (x) S 1 2", &ps));          /* cut short */
}

static double cpu_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void own_stat_is_running_with_cpu_time(void **state)
{
	struct proc_stat ps;
	int fd;

	(void)state;
	/* Burn 200 ms of CPU so the tick-based counters have something to show. */
	double t0 = cpu_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	while (cpu_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - t0 < 200e6)
		;
	double clock_ns = cpu_clock_ns(CLOCK_PROCESS_CPUTIME_ID);

	fd = procstat_open(getpid());
	assert_true(fd >= 0);
	assert_true(procstat_read_fd(fd, &ps));
	assert_int_equal(ps.state, 'R');                 /* reading its own stat, it runs */
	assert_int_equal(ps.num_threads, 1);
	assert_true(ps.rss > 0);
	assert_true(procstat_alive(&ps));
	/* The kernel's tick accounting and the CPU clock agree to within a few ticks. */
	double got = (double)procstat_cpu_ns(&ps);
	if (got < clock_ns - 60e6 || got > clock_ns + 60e6) {
		print_error("stat says %.0f ms of CPU, the CPU clock %.0f ms\n", got / 1e6, clock_ns / 1e6);
		fail();
	}
	/* The same descriptor reads again (pread from 0), no reopen needed. */
	assert_true(procstat_read_fd(fd, &ps));
	close(fd);
	assert_false(procstat_read_fd(-1, &ps));
}

static void unreaped_child_is_a_zombie_and_reaped_one_is_gone(void **state)
{
	struct proc_stat ps;
	pid_t pid;
	int st;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	/* Until we wait(), the dead child stays a zombie; kill(pid, 0) would still succeed. */
	for (int i = 0; i < 500; i++) {
		assert_true(procstat_read(pid, &ps));
		if (ps.state == 'Z')
			break;
		usleep(2000);
	}
	assert_int_equal(ps.state, 'Z');
	assert_false(procstat_alive(&ps));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_false(procstat_read(pid, &ps));
}

static void ctxt_parse_reads_both_lines(void **state)
{
	const char *text = "Name:\tx\nThreads:\t1\nvoluntary_ctxt_switches:\t17\n"
			   "nonvoluntary_ctxt_switches:\t4\n";
	struct proc_ctxt c;

	(void)state;
	assert_true(proc_ctxt_parse(text, &c));
	assert_int_equal(c.voluntary, 17);
	assert_int_equal(c.nonvoluntary, 4);
	assert_false(proc_ctxt_parse("Name:\tx\nvoluntary_ctxt_switches:\t1\n", &c));
	/* "nonvoluntary_..." must not be taken for "voluntary_...": the match is at a line start. */
	assert_true(proc_ctxt_parse("nonvoluntary_ctxt_switches:\t9\nvoluntary_ctxt_switches:\t2\n", &c));
	assert_int_equal(c.voluntary, 2);
	assert_int_equal(c.nonvoluntary, 9);
}

#define NAPS 30

static int to_main[2], to_worker[2];
static pid_t worker_tid;

static void *napper(void *arg)
{
	char b = 0;

	(void)arg;
	worker_tid = gettid();
	for (int i = 0; i < NAPS; i++)
		usleep(1000);                    /* each nap blocks: one voluntary switch */
	assert_int_equal(write(to_main[1], &b, 1), 1);
	assert_int_equal(read(to_worker[0], &b, 1), 1);   /* stay alive while main looks */
	return NULL;
}

static void status_of_process_is_main_thread_only(void **state)
{
	struct proc_ctxt main0, main1, worker;
	pthread_t th;
	char b = 0;

	(void)state;
	assert_int_equal(pipe(to_main), 0);
	assert_int_equal(pipe(to_worker), 0);
	assert_true(proc_ctxt_read(getpid(), 0, &main0));
	assert_int_equal(pthread_create(&th, NULL, napper, NULL), 0);
	assert_int_equal(read(to_main[0], &b, 1), 1);      /* main blocks once here */
	assert_true(proc_ctxt_read(getpid(), 0, &main1));
	assert_true(proc_ctxt_read(getpid(), worker_tid, &worker));
	assert_int_equal(write(to_worker[1], &b, 1), 1);
	pthread_join(th, NULL);
	for (int i = 0; i < 2; i++) {
		close(to_main[i]);
		close(to_worker[i]);
	}
	if (worker.voluntary < NAPS || main1.voluntary - main0.voluntary >= NAPS) {
		print_error("worker %llu voluntary switches (want >= %d); main thread +%llu (want < %d)\n",
			    (unsigned long long)worker.voluntary, NAPS,
			    (unsigned long long)(main1.voluntary - main0.voluntary), NAPS);
		fail();
	}
	assert_false(proc_ctxt_read(getpid(), 1, &worker));    /* tid 1 is not one of ours */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_takes_fields_after_the_last_paren),
		cmocka_unit_test(parse_refuses_garbage),
		cmocka_unit_test(own_stat_is_running_with_cpu_time),
		cmocka_unit_test(unreaped_child_is_a_zombie_and_reaped_one_is_gone),
		cmocka_unit_test(ctxt_parse_reads_both_lines),
		cmocka_unit_test(status_of_process_is_main_thread_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
