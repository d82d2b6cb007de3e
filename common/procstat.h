/*
 * procstat.h — what proc(5) says about a process: /proc/PID/stat and the
 * context-switch lines of /proc/PID/status (or of one thread's
 * /proc/PID/task/TID/status: the process file covers the main thread only).
 *
 * The one parser for the load generator (server CPU, "is it alive?") and the
 * viewer (CPU %).  Library code: returns false on failure, prints nothing.
 */
#ifndef IOLAB_PROCSTAT_H
#define IOLAB_PROCSTAT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Fields of /proc/PID/stat, numbered as in proc(5). */
struct proc_stat {
	char     state;        /* (3)  R running, S sleeping, D disk, Z zombie, X dead ... */
	uint64_t utime;        /* (14) user CPU, clock ticks (sysconf(_SC_CLK_TCK) a second) */
	uint64_t stime;        /* (15) system CPU, clock ticks */
	long     num_threads;  /* (20) */
	long     rss;          /* (24) resident set, pages */
};

/* Context switches from a status file: a thread gave up the CPU / was made to. */
struct proc_ctxt {
	uint64_t voluntary;     /* voluntary_ctxt_switches: it blocked (a read, a wait...) */
	uint64_t nonvoluntary;  /* nonvoluntary_ctxt_switches: preempted */
};

/* Parse the text of /proc/PID/stat (NUL-terminated). */
bool procstat_parse(const char *text, struct proc_stat *ps);

/* open() /proc/PID/stat, O_CLOEXEC: keep it open and re-read it with procstat_read_fd(). */
int  procstat_open(pid_t pid);
/* pread() from offset 0 and parse: one system call a sample; a dead process fails (ESRCH). */
bool procstat_read_fd(int fd, struct proc_stat *ps);
/* Open, read, close. */
bool procstat_read(pid_t pid, struct proc_stat *ps);

/* utime + stime in nanoseconds. */
int64_t procstat_cpu_ns(const struct proc_stat *ps);

/* Running or sleeping, not a zombie nor dead (a child nobody reaped is still "there" for kill). */
bool procstat_alive(const struct proc_stat *ps);

/* Parse the ctxt_switches lines of a status file's text. */
bool proc_ctxt_parse(const char *text, struct proc_ctxt *c);
/* /proc/PID/status when tid is 0, else /proc/PID/task/TID/status. */
bool proc_ctxt_read(pid_t pid, pid_t tid, struct proc_ctxt *c);

#endif
