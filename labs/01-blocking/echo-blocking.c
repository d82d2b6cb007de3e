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
 * Usage:   echo-blocking [--iterative] [-p PORT] [-b ADDR] [-f len32|line|raw] ...
 * Needs:   nothing special.
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

static const struct model MODEL = {
	.name = "blocking",
	.program = "echo-blocking",
	.wait_call = "accept/read",
	.summary = "blocking I/O: a thread per connection, or one at a time with --iterative",
	.lesson = 1,
	.options = OPT_ITERATIVE,
	.bugs = NULL,
};

static struct server srv;

/* Write everything queued; a blocking write returns only once the kernel took some. */
static bool flush_output(struct conn *c)
{
	while (buf_len(&c->out)) {
		if (conn_write(c) > 0)
			continue;
		if (errno == EINTR && !server_stop)
			continue;         /* a signal interrupted the wait: nothing written, go on */
		return false;         /* EPIPE, ECONNRESET, or we are stopping */
	}
	return true;
}

/* Serve one client until it leaves.  The thread sleeps in read() between messages. */
static void serve(struct conn *c)
{
	ssize_t n;
	int reason = 0;

	for (;;) {
		n = conn_read(c);
		tm_add(TM_WAIT_CALLS, 1);
		if (n < 0) {
			if (errno == EINTR && !server_stop)
				continue;     /* interrupted by a signal that is not ours to act on */
			reason = errno;       /* ECONNRESET, or EINTR because we are stopping */
			break;
		}
		tm_add(TM_EVENTS, 1);
		tm_conn_ready(c->fd, n > 0 ? EPOLLIN : EPOLLIN | EPOLLRDHUP);  /* what epoll would have said */
		tm_conn_served(c->fd);
		if (n > 0 && conn_ingest(c) < 0) {
			reason = -1;
			break;
		}
		if (!flush_output(c)) {
			reason = errno;
			break;
		}
		if (conn_done(c))     /* EOF and everything echoed */
			break;
	}
	conn_free(c, reason);
}

static void *worker(void *arg)
{
	serve(arg);
	return NULL;
}

static void start_worker(struct conn *c)
{
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
		conn_free(c, err);
	}
}

int main(int argc, char **argv)
{
	sigset_t stop, old;
	struct conn *c;
	uint16_t port;
	int fd;

	server_start(&srv, &MODEL, argc, argv, false);
	/* Workers inherit this mask: SIGINT/SIGTERM always land on the main thread's accept(). */
	server_stop_signals(&stop);

	while (!server_stop) {
		fd = net_accept(srv.lfd, 0, &port);
		tm_add(TM_WAIT_CALLS, 1);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;     /* a signal (the loop checks server_stop), or a client gone already */
			if (errno == EMFILE || errno == ENFILE) {
				/* Out of descriptors: net_accept shed one client; wait a little rather than spin. */
				tm_add(TM_ACCEPT_EMFILE, 1);
				iolog("accept: out of descriptors, one connection refused");
				usleep(10000);
				continue;
			}
			die("accept");
		}
		tm_add(TM_EVENTS, 1);
		c = conn_new(fd, port, &srv.opt);
		if (!c) {
			close(fd);
			continue;
		}
		if (srv.opt.iterative) {
			serve(c);             /* nobody else is accepted until this client leaves */
			continue;
		}
		pthread_sigmask(SIG_BLOCK, &stop, &old);
		start_worker(c);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}

	/* Workers still in read() end with the process; their sockets close with it. */
	server_finish(&srv);
	return 0;
}
