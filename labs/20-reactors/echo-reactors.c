/*
 * echo-reactors.c — lab 20: one event loop per thread (the multi-reactor of muduo and Kiwi).
 *
 * What it shows: how a server uses more than one core without a lock on any
 * connection.  The main thread is the acceptor: it waits on the listener alone,
 * accepts, and hands each new connection to one of N event-loop threads, in turn.
 * Each loop is lab 5's server: its own epoll instance, its own table of
 * connections, level-triggered, one read per report.  A connection belongs to the
 * loop it was handed to until it closes: only that thread ever reads, writes or
 * frees it, so nothing about a connection is shared and nothing is locked.
 *
 * The one thing threads share is the hand-over.  Each loop has a task queue (a
 * mutex guards the list, for a moment) and an eventfd in its epoll set: the
 * acceptor appends a task, then writes 1 to the eventfd, and the loop -- asleep in
 * epoll_wait() -- wakes at once, reads the eventfd and runs its tasks.  With
 * --no-eventfd nothing wakes it: a loop looks at its queue only when epoll_wait()
 * returns anyway, at the latest after --poll-ms.  The hand-over latency (posted ->
 * picked up) is in each loop's telemetry; the lab measures it both ways.
 *
 * Try:     bin/echo-reactors -f line -p 7000 --loops 2     then: nc 127.0.0.1 7000 (twice)
 *          bin/iolab-load -p 7000 -c 50 -T 2 -t 5          while bin/iolab-view shows the loops
 * Lesson:  LESSONS.md §20
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/server.h"

#define MAX_EVENTS 256       /* most events one epoll_wait() returns; the rest wait for the next call */
#define MAX_LOOPS  TM_NLOOPS /* each loop has its own figures in the telemetry segment */

static struct server srv;
static long nloops = 2;
static bool no_eventfd;
static long poll_ms = 100;

static const struct model_option OPTIONS[] = {
	{ "loops", OPTK_LONG, &nloops, "N", "event-loop threads the acceptor hands connections to (default 2)",
	  1, MAX_LOOPS },
	{ "no-eventfd", OPTK_FLAG, &no_eventfd, NULL,
	  "no wake-up: a loop finds its tasks only when its wait returns (--poll-ms)", 0, 0 },
	{ "poll-ms", OPTK_LONG, &poll_ms, "MS", "with --no-eventfd: the loops' wait timeout (default 100)",
	  1, 10000 },
	OPTION_HIGH_WATER(&srv),
	OPTIONS_END,
};

static void start_loops(struct server *s);

static const struct model MODEL = {
	.name = "reactors", .program = "echo-reactors", .lesson = 20,
	.wait_call = "epoll_wait", .options = OPTIONS, .threaded = true, .setup = start_loops,
	.summary = "one event loop per thread: an acceptor hands connections to N epoll loops",
};

/* server.c: this thread's "did anything move" count (turn_end() reads it). */
extern _Thread_local uint64_t conn_progress;

struct loop;

/* Work a loop must do in its own thread: muduo's runInLoop(), Kiwi's task. */
struct task {
	void        (*run)(struct loop *l, struct task *t);
	struct conn  *c;             /* adopt: the connection handed over */
	uint64_t      posted_ns;     /* when it was queued: the hand-over latency starts */
	struct task  *next;
};

struct loop {
	unsigned          id;
	pthread_t         thread;
	int               epfd;      /* this loop's own interest list */
	int               efd;       /* eventfd a poster writes to wake it; -1 with --no-eventfd */
	pthread_mutex_t   lock;      /* guards the task queue, and nothing else */
	struct task      *head, *tail;
	struct conn_table conns;     /* its connections, by fd: only this thread touches them */
	bool              stop;      /* set by the stop task, in this thread */
};

static struct loop loops[MAX_LOOPS];

static void watch(struct loop *l, int op, int fd, uint32_t interest)
{
	struct epoll_event ev = { .events = interest, .data.fd = fd };

	if (epoll_ctl(l->epfd, op, fd, &ev) < 0)
		die(op == EPOLL_CTL_ADD ? "epoll_ctl(EPOLL_CTL_ADD)" : "epoll_ctl(EPOLL_CTL_MOD)");
}

/* ------------------------------------------------------------ the task queue */

/* Any thread: queue t for loop l and wake it. */
static void post(struct loop *l, struct task *t)
{
	static const uint64_t one = 1;

	/* EXERCISE BEGIN post: queue the task for loop l, then wake l */
	t->posted_ns = tm_now();
	t->next = NULL;
	pthread_mutex_lock(&l->lock);
	if (l->tail)
		l->tail->next = t;
	else
		l->head = t;
	l->tail = t;
	pthread_mutex_unlock(&l->lock);
	tm_add(TM_TASKS, 1);
	/* The eventfd's counter goes up by one: it is readable, and epoll_wait() in l returns. */
	if (l->efd >= 0 && write(l->efd, &one, sizeof(one)) != sizeof(one))
		die("write(eventfd)");   /* EAGAIN only at a counter of 2^64-2: cannot happen here */
	/* EXERCISE END post */
}

/* The loop's thread: take the whole queue under the lock, run it without. */
static void run_tasks(struct loop *l)
{
	/* EXERCISE BEGIN drain: take the whole queue under the lock, run it without */
	struct task *t, *next;
	uint64_t now, wait;

	pthread_mutex_lock(&l->lock);
	t = l->head;
	l->head = l->tail = NULL;
	pthread_mutex_unlock(&l->lock);
	for (; t; t = next) {
		next = t->next;
		now = tm_now();
		wait = now > t->posted_ns ? now - t->posted_ns : 0;
		tm_loop_add(l->id, TL_TASKS, 1);
		tm_loop_add(l->id, TL_HANDOVER_NS, wait);
		tm_loop_max(l->id, TL_HANDOVER_MAX_NS, wait);
		conn_progress++;             /* a task run is work: this wakeup was not empty */
		t->run(l, t);
		free(t);
	}
	/* EXERCISE END drain */
}

/* Task: a new connection for l.  From here on only l's thread touches c. */
static void adopt(struct loop *l, struct task *t)
{
	struct conn *c = t->c;

	if (conn_table_put(&l->conns, c) < 0) {
		conn_close(c, ENOMEM);
		return;
	}
	c->table = &l->conns;
	tm_conn_loop(c->fd, l->id);
	tm_loop_add(l->id, TL_ACCEPTS, 1);
	tm_loop_add(l->id, TL_ACTIVE, 1);
	/* Level-triggered: bytes the client sent before this ADD are reported at once. */
	watch(l, EPOLL_CTL_ADD, c->fd, EPOLLIN);
	conn_set_interest(c, EPOLLIN);
}

/* Task: leave the loop (the acceptor is stopping). */
static void stop(struct loop *l, struct task *t)
{
	l->stop = true;
}

static void post_new(struct loop *l, void (*run)(struct loop *, struct task *), struct conn *c)
{
	struct task *t = calloc(1, sizeof(*t));

	if (!t) {
		if (c)
			conn_close(c, ENOMEM);
		else
			die("calloc");       /* a loop we cannot stop: give up loudly */
		return;
	}
	t->run = run;
	t->c = c;
	post(l, t);
}

/* ------------------------------------------------------------------ a loop */

/* lab 5's loop, on this loop's connections only. */
static void serve(struct loop *l, int fd, uint32_t events)
{
	struct conn *c = conn_table_get(&l->conns, fd);
	uint64_t frames = tm_conn_frames(fd);
	uint32_t want;

	if (!c)
		return;
	if (!conn_serve(c, events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		tm_loop_add(l->id, TL_ACTIVE, (uint64_t)-1);   /* closed (its last read was EOF or an error) */
		return;
	}
	tm_loop_add(l->id, TL_FRAMES_IN, tm_conn_frames(fd) - frames);
	want = conn_wanted(c);
	if (want != c->interest)
		watch(l, EPOLL_CTL_MOD, fd, want);
	conn_set_interest(c, want);
}

static void *loop_main(void *arg)
{
	struct loop *l = arg;
	struct epoll_event events[MAX_EVENTS];
	uint64_t mark, count;
	bool tasks;
	int n;

	/* SIGINT/SIGTERM stay blocked here (inherited): only the acceptor waits for them. */
	while (!l->stop) {
		/* With the eventfd a loop can sleep for ever: a poster wakes it. */
		n = epoll_wait(l->epfd, events, MAX_EVENTS, l->efd >= 0 ? -1 : (int)poll_ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;     /* no signal is let in here, but a debugger's stop is */
			die("epoll_wait");
		}
		turn_begin(n);
		tm_loop_add(l->id, TL_WAIT_CALLS, 1);
		tm_loop_add(l->id, TL_EVENTS, (uint64_t)n);
		mark = conn_progress;
		for (int i = 0; i < n; i++)
			turn_ready(events[i].data.fd, events[i].events);
		/* EXERCISE BEGIN wake: the loop's side: the eventfd's event means tasks are waiting */
		/* Without the eventfd, nothing says a task is waiting: look on every return. */
		tasks = l->efd < 0;
		for (int i = 0; i < n; i++) {
			if (events[i].data.fd == l->efd) {
				/* Reading resets the counter to 0: one read however many posts came. */
				if (read(l->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
					die("read(eventfd)");
				tasks = true;
				continue;
			}
			serve(l, events[i].data.fd, events[i].events);
		}
		if (tasks)
			run_tasks(l);
		/* EXERCISE END wake */
		if (conn_progress == mark)
			tm_loop_add(l->id, TL_EMPTY_WAKEUPS, 1);
		turn_end();
	}
	for (size_t i = 0; i < l->conns.n; i++)
		if (l->conns.v[i])
			tm_loop_add(l->id, TL_ACTIVE, (uint64_t)-1);
	conn_table_free_all(&l->conns);   /* the connections it owns: closed in their own thread */
	return NULL;
}

/* model.setup: the loops run before the server says it is listening. */
static void start_loops(struct server *s)
{
	struct loop *l;
	char name[16];
	int err;

	tm_set_loops((unsigned)nloops);
	/*
	 * conn_close() calls malloc_trim() when the last connection goes.  glibc sets its
	 * allocator up on that first call if no malloc() has (under ASan, which brings its
	 * own malloc, none has), and two loops making that first call at once race in it.
	 * Make it here, once, before there are loops.
	 */
	malloc_trim(0);
	for (unsigned i = 0; i < (unsigned)nloops; i++) {
		l = &loops[i];
		l->id = i;
		l->efd = -1;
		pthread_mutex_init(&l->lock, NULL);
		if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
			die("epoll_create1");
		/* EXERCISE BEGIN eventfd: each loop's eventfd, in its own epoll set */
		if (!no_eventfd) {
			/* Nonblocking: a read after a reset finds EAGAIN rather than waiting. */
			if ((l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
				die("eventfd");
			watch(l, EPOLL_CTL_ADD, l->efd, EPOLLIN);
		}
		/* EXERCISE END eventfd */
		if ((err = pthread_create(&l->thread, NULL, loop_main, l)) != 0) {
			errno = err;
			die("pthread_create");
		}
		snprintf(name, sizeof(name), "loop%u", i);
		pthread_setname_np(l->thread, name);   /* ps -L, top -H: which thread is which loop */
	}
}

int main(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned next = 0;
	struct conn *c;
	int epfd, n;

	server_start(&srv, &MODEL, argc, argv);
	/* The acceptor's own epoll set holds the listener alone. */
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	ev.data.fd = srv.lfd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, srv.lfd, &ev) < 0)
		die("epoll_ctl(EPOLL_CTL_ADD)");

	while (!server_stop) {
		n = epoll_pwait(epfd, &ev, 1, -1, &srv.waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;     /* SIGINT/SIGTERM got in during the wait: the loop condition decides */
			die("epoll_wait");
		}
		turn_begin(n);
		while ((c = conn_accept(&srv, SOCK_NONBLOCK))) {
			/* conn_accept() filed it in the acceptor's table: it is the loop's now. */
			conn_table_del(&srv.conns, c->fd);
			c->table = NULL;
			/* Round robin, as muduo's getNextLoop(): the next loop in turn, busy or not. */
			post_new(&loops[next++ % (unsigned)nloops], adopt, c);
		}
		turn_end();
	}

	/* Each loop leaves when it runs its stop task, after every task posted before it. */
	for (unsigned i = 0; i < (unsigned)nloops; i++)
		post_new(&loops[i], stop, NULL);
	for (unsigned i = 0; i < (unsigned)nloops; i++) {
		pthread_join(loops[i].thread, NULL);
		close(loops[i].epfd);
		if (loops[i].efd >= 0)
			close(loops[i].efd);
		pthread_mutex_destroy(&loops[i].lock);
	}
	close(epfd);
	server_finish(&srv);
	return 0;
}
