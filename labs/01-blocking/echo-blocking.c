/*
 * echo-blocking.c — lab 1: blocking I/O, a thread per connection (or none).
 *
 * What it shows: every call waits.  accept() sleeps until a client arrives,
 * read() sleeps until that client sends, write() sleeps until the kernel takes
 * the reply.  A thread that is asleep in read() for one client cannot serve
 * another, so:
 *   --iterative   one thread serves one connection at a time: a second client
 *                 connects (the kernel completes the handshake and queues it in
 *                 the listen backlog) but gets no echo until the first leaves.
 *   default       one thread per connection: everyone is served, at the price of
 *                 a stack and a kernel task per client, and a context switch per
 *                 message.
 * The waiting calls (TM_WAIT_CALLS) here are accept() and read() themselves.
 *
 * Try:     bin/echo-blocking --iterative -f line -p 7000
 *          then nc 127.0.0.1 7000 in two terminals: type in both, see who is echoed
 * Lesson:  LESSONS.md §1
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>   /* only for the mask bit values telemetry uses */
#include <unistd.h>

#include "common/server.h"

#define THREAD_STACK (256 * 1024)  /* a worker needs little: the 64 KiB read spill is the most */

static struct server srv;
static bool iterative;       /* --iterative: no threads, one connection at a time */

static const struct model_option OPTIONS[] = {
	{ "iterative", OPTK_FLAG, &iterative, NULL, "serve one connection at a time (no threads)", 0, 0 },
	OPTIONS_END,
};

static const struct model MODEL = {
	.name = "blocking", .program = "echo-blocking", .lesson = 1,
	.wait_call = "accept/read", .blocking = true, .options = OPTIONS,
	.summary = "blocking I/O: a thread per connection, or one at a time with --iterative",
};

/* Serve one client until it leaves.  The thread sleeps in read() between messages. */
static void serve(struct conn *c)
{
	ssize_t n;

	for (;;) {
		n = conn_read(c);
		tm_add(TM_WAIT_CALLS, 1);
		if (n < 0 && errno == EINTR && !server_stop)
			continue;         /* interrupted by a signal that is not ours to act on */
		if (n < 0) {
			conn_close(c, errno == EINTR ? CLOSE_STOPPING : errno);  /* ECONNRESET */
			return;
		}
		tm_add(TM_EVENTS, 1);
		turn_ready(c->fd, n > 0 ? EPOLLIN : EPOLLIN | EPOLLRDHUP);  /* what epoll would have said */
		if (n > 0 && conn_ingest(c) < 0) {
			conn_close(c, CLOSE_PROTOCOL);
			return;
		}
		/* The read is done: conn_serve() only replies, with a write that returns once the
		 * kernel took it all, and closes after EOF and the last echo. */
		if (!conn_serve(c, false))
			return;
	}
}

static void *worker(void *arg)
{
	serve(arg);
	return NULL;
}

static void start_worker(struct conn *c)
{
	/* EXERCISE BEGIN thread: start a detached worker thread for one connection */
	pthread_attr_t attr;
	pthread_t tid;
	int err;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	err = pthread_create(&tid, &attr, worker, c);
	pthread_attr_destroy(&attr);
	if (err) {
		iolog("fd %d: pthread_create: %s, closing", c->fd, strerror(err));
		conn_close(c, err);
	}
	/* EXERCISE END thread */
}

int main(int argc, char **argv)
{
	sigset_t blocked;
	struct conn *c;

	server_start(&srv, &MODEL, argc, argv);
	/* Workers are created with SIGINT/SIGTERM blocked, as server_start() left them, so they
	 * always land on this thread; its accept() and read() are its waits: let them in here.
	 * The handler also shuts the listener down, so an accept() that starts after it returns. */
	pthread_sigmask(SIG_SETMASK, NULL, &blocked);
	server_signals_anywhere(&srv);

	while (!server_stop) {
		/* EXERCISE BEGIN accept: accept a client, then serve it here (--iterative) or in its own thread */
		c = conn_accept(&srv, 0);
		tm_add(TM_WAIT_CALLS, 1);
		if (!c) {
			if (errno == EMFILE)
				usleep(10000);    /* out of descriptors: one client shed; wait rather than spin */
			continue;             /* stopping (accept said EINVAL): the loop condition decides */
		}
		tm_add(TM_EVENTS, 1);
		if (iterative) {
			serve(c);             /* nobody else is accepted until this client leaves */
			continue;
		}
		pthread_sigmask(SIG_SETMASK, &blocked, NULL);
		start_worker(c);
		server_signals_anywhere(&srv);
		/* EXERCISE END accept */
	}

	/* Workers still in read() end with the process; their sockets close with it. */
	server_finish(&srv);
	return 0;
}
