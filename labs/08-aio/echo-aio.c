/*
 * echo-aio.c — lab 8: Linux AIO (io_submit / io_getevents) on sockets.
 *
 * What it shows: Linux's native asynchronous I/O interface, called through raw
 * system calls (<linux/aio_abi.h>; no libaio).  We describe work in iocbs, hand
 * a batch of them to the kernel with one io_submit(), and collect what finished
 * with io_getevents().  The same loop shape as epoll, but what comes back is a
 * *completion* of something we submitted, not a readiness report.
 *
 * Default: IOCB_CMD_POLL (kernel 4.18+).  A poll iocb completes once, with the
 * ready mask as its result, when the socket becomes readable or writable: it
 * turns readiness into completions.  It is one-shot, so after each completion we
 * serve the socket (read once, like lab 5: a re-armed poll completes at once if
 * bytes are left) and submit a fresh one.  One iocb in flight per socket, and
 * all the re-arms of one turn go in a single io_submit().
 *
 * --pread: submit IOCB_CMD_PREAD on the sockets instead, the "real" asynchronous
 * read.  It is not: sockets have no asynchronous read path in Linux AIO, so
 * the read happens inside io_submit(), which blocks until the peer sends.  Time
 * spent inside io_submit() is counted (blocked_ns) and slow calls are logged
 * (blocked events); one idle client stalls everybody — that is the lesson.
 * (The sockets are blocking in this mode: on a nonblocking one the PREAD would just
 * complete with -EAGAIN.  Writes are plain blocking write() calls.)
 *
 * A peer that sends but never reads: past --high-water bytes queued we stop
 * asking for POLLIN (the poll iocb asks for POLLOUT only) until it drains.
 *
 * Usage:   echo-aio [-p PORT] [-b ADDR] [-f len32|line|raw] [--high-water BYTES] [--pread]
 * Needs:   Linux 4.18+ for IOCB_CMD_POLL; each running copy takes 4096 of fs.aio-max-nr (65536).
 * Try:     bin/echo-aio -f line -p 7000       then in two terminals: nc 127.0.0.1 7000
 *          bin/echo-aio --pread -f line -p 7000   connect one nc and type nothing:
 *          a second nc is not served until the first one sends a line
 * Lesson:  LESSONS.md §8
 */
#include <errno.h>
#include <linux/aio_abi.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/server.h"

#define AIO_DEPTH      4096      /* iocbs in flight at most: one per connection, so connections too */
#define MAX_EVENTS     256       /* most completions one io_getevents() returns */
#define READ_SIZE      (64 * 1024) /* --pread: bytes asked of each PREAD (capped by --read-chunk) */
#define BLOCKED_LOG_NS 1000000u  /* an io_submit() slower than 1 ms is logged as a blocked event */

/* glibc has no wrappers for these (libaio has others, returning -errno): call the kernel. */
static int sys_io_setup(unsigned nr, aio_context_t *ctx)
{
	return (int)syscall(SYS_io_setup, nr, ctx);
}
static int sys_io_destroy(aio_context_t ctx)
{
	return (int)syscall(SYS_io_destroy, ctx);
}
static int sys_io_submit(aio_context_t ctx, long n, struct iocb **iocbs)
{
	return (int)syscall(SYS_io_submit, ctx, n, iocbs);
}
static int sys_io_getevents(aio_context_t ctx, long min, long max, struct io_event *ev, struct timespec *tmo)
{
	return (int)syscall(SYS_io_getevents, ctx, min, max, ev, tmo);
}

static const struct bug BUGS[] = {
	{ "no-sigpipe", "keep SIGPIPE's default action: writing to a reset peer kills the server" },
	{ NULL, NULL },
};

static const struct model MODEL = {
	.name = "aio",
	.program = "echo-aio",
	.wait_call = "io_getevents",
	.summary = "Linux AIO: IOCB_CMD_POLL completions re-armed after each one (--pread: blocking PREAD)",
	.lesson = 8,
	.options = OPT_HIGH_WATER | OPT_PREAD,
	.bugs = BUGS,
};

static struct server srv;
static struct conn_table conns;
static aio_context_t ctx;
static bool did_work;        /* this wakeup moved bytes or accepted someone */
static size_t nconns;        /* open connections: each holds one iocb in flight */

/* iocbs prepared this turn, submitted together by submit_pending(). */
static struct iocb pending[MAX_EVENTS];
static struct iocb *pending_ptr[MAX_EVENTS];
static int npending;

/* aio_data names the connection by fd (like epoll's data.fd) and says which kind of iocb it was. */
#define KEY(fd, cmd)   ((uint64_t)(uint32_t)(fd) | (uint64_t)(cmd) << 32)
#define KEY_FD(k)      ((int)(uint32_t)(k))
#define KEY_CMD(k)     ((unsigned)((k) >> 32))

/* What a completion says, in epoll bits: a POLL's result is the ready mask, a PREAD's a byte count. */
static uint32_t completion_mask(const struct io_event *ev)
{
	if (KEY_CMD(ev->data) == IOCB_CMD_POLL)
		return ev->res >= 0 ? mask_from_poll((short)ev->res) : EPOLLERR;
	return EPOLLIN | (ev->res < 0 ? EPOLLERR : 0);
}

/* What this connection should wait for, given its buffers. */
static uint32_t wanted(const struct conn *c)
{
	uint32_t want = 0;

	if (!c->paused && !c->rd_closed)
		want |= EPOLLIN;
	if (buf_len(&c->out))
		want |= EPOLLOUT;
	return want;
}

/* Hand everything prepared so far to the kernel, timing each io_submit(). */
static void submit_pending(void)
{
	int done = 0, n;
	uint64_t t0, dt;

	while (done < npending) {
		/* --pread: one iocb per call, so that the time blocked is charged to its connection. */
		long batch = srv.opt.pread ? 1 : npending - done;

		if (server_stop)
			break;    /* SIGINT/SIGTERM cut a blocking PREAD short (-EINTR): start no other */
		t0 = tm_now();
		n = sys_io_submit(ctx, batch, pending_ptr + done);
		dt = tm_now() - t0;
		tm_add(TM_BLOCKED_NS, dt);    /* should be microseconds: it only queues work */
		if (dt >= BLOCKED_LOG_NS)
			tm_log(EV_BLOCKED, (int)pending[done].aio_fildes, 0, (int64_t)dt);
		if (n < 0)
			die("io_submit");         /* EAGAIN would mean more than AIO_DEPTH in flight: a bug here */
		tm_add(TM_SUBMITS, (uint64_t)n);
		done += n;
	}
	npending = 0;
}

/* A zeroed iocb in this turn's batch (the batch goes out first if it is full). */
static struct iocb *new_iocb(void)
{
	struct iocb *cb;

	if (npending == MAX_EVENTS)
		submit_pending();
	cb = &pending[npending];
	memset(cb, 0, sizeof(*cb));
	pending_ptr[npending++] = cb;
	return cb;
}

/* One-shot POLL iocb for the listener: completes when a connection is waiting. */
static void arm_listener(void)
{
	struct iocb *cb = new_iocb();

	cb->aio_lio_opcode = IOCB_CMD_POLL;
	cb->aio_fildes = (uint32_t)srv.lfd;
	cb->aio_buf = POLLIN;
	cb->aio_data = KEY(srv.lfd, IOCB_CMD_POLL);
}

/* Submit this connection's next iocb: PREAD (--pread, when reading) or POLL for what it wants. */
static void arm(struct conn *c)
{
	uint32_t want = wanted(c);
	struct iocb *cb = new_iocb();
	size_t len = READ_SIZE;

	cb->aio_fildes = (uint32_t)c->fd;
	if (srv.opt.pread && (want & EPOLLIN)) {
		if (c->opt->read_chunk && c->opt->read_chunk < len)
			len = c->opt->read_chunk;
		cb->aio_lio_opcode = IOCB_CMD_PREAD;
		cb->aio_buf = (uint64_t)(uintptr_t)c->model_data;  /* ours again when the completion comes */
		cb->aio_nbytes = len;
		cb->aio_offset = 0;       /* sockets have no offset; anything else is ESPIPE */
		tm_add(TM_READ_CALLS, 1);
		want = EPOLLIN;
	} else {
		/* POLLIN/POLLOUT have the same values as EPOLLIN/EPOLLOUT; ERR and HUP always count. */
		cb->aio_lio_opcode = IOCB_CMD_POLL;
		cb->aio_buf = want;
	}
	cb->aio_data = KEY(c->fd, cb->aio_lio_opcode);
	if (want != c->interest) {
		c->interest = want;
		tm_conn_interest(c->fd, want);
		tm_log(EV_INTEREST, c->fd, want, want);
	}
}

static void close_conn(struct conn *c, int reason)
{
	/* Only called between its completion and the next arm(): no iocb of ours still names it. */
	conn_table_del(&conns, c->fd);
	free(c->model_data);
	conn_free(c, reason);
	nconns--;
}

static void accept_clients(void)
{
	struct conn *c;
	uint16_t port;
	int fd;

	for (;;) {
		/* --pread wants blocking sockets: that is where the lesson is. */
		fd = net_accept(srv.lfd, srv.opt.pread ? 0 : SOCK_NONBLOCK, &port);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;       /* backlog empty: the re-armed listener poll says when there is more */
			if (errno == EINTR || errno == ECONNABORTED)
				continue;     /* a signal, or a client that gave up while queued */
			if (errno == EMFILE || errno == ENFILE) {
				/* Out of descriptors: net_accept shed one client instead of spinning. */
				tm_add(TM_ACCEPT_EMFILE, 1);
				iolog("accept: out of descriptors, one connection refused");
				return;
			}
			die("accept4");
		}
		did_work = true;
		if (nconns + 1 >= AIO_DEPTH) {
			/* Every connection holds an iocb in flight: the context is full. */
			tm_add(TM_REFUSED, 1);
			tm_log(EV_REFUSED, fd, 0, fd);
			iolog("fd %d: %d connections, the AIO context's limit: refused", fd, AIO_DEPTH - 1);
			close(fd);
			continue;
		}
		c = conn_new(fd, port, &srv.opt);
		if (!c || conn_table_put(&conns, c) < 0 ||
		    (srv.opt.pread && !(c->model_data = malloc(READ_SIZE)))) {
			iolog("fd %d: out of memory, closing", fd);
			if (!c) {
				close(fd);
				continue;
			}
			conn_table_del(&conns, fd);
			conn_free(c, ENOMEM);
			continue;
		}
		nconns++;
		arm(c);
	}
}

/* Write what is queued until it is gone or the socket is full.  false: connection closed. */
static bool flush_output(struct conn *c)
{
	/* server_stop: with --pread the socket blocks, and only a signal gets a stuck write() out. */
	while (buf_len(&c->out) && !server_stop) {
		if (conn_write(c) > 0) {
			did_work = true;
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;      /* socket buffer full: a POLLOUT iocb will say when there is room */
		if (errno == EINTR)
			continue;         /* a signal arrived mid-call: nothing was written, try again */
		close_conn(c, errno); /* EPIPE, ECONNRESET: the peer is gone */
		return false;
	}
	return true;
}

/*
 * The input half.  POLL said "readable": read() now.  PREAD already read: the
 * bytes are in our buffer and the result is the count.  Same returns as conn_read().
 */
static ssize_t take_input(struct conn *c, const struct io_event *ev)
{
	if (KEY_CMD(ev->data) == IOCB_CMD_POLL)
		return conn_read(c);
	if (ev->res > 0) {
		if (conn_received(c, c->model_data, (size_t)ev->res) < 0) {
			errno = ENOMEM;
			return -1;
		}
		return ev->res;
	}
	if (ev->res == 0)
		c->rd_closed = true;      /* half-close: echo what we have, then close */
	errno = (int)-ev->res;        /* EINTR: a signal interrupted the read inside io_submit() */
	return ev->res == 0 ? 0 : -1;
}

static void serve(struct conn *c, const struct io_event *ev, uint32_t ready)
{
	ssize_t n;

	tm_conn_served(c->fd);
	/* POLLHUP/POLLERR: let read() tell us what happened (0 = EOF, -1 = the error). */
	if (ready & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		n = take_input(c, ev);
		if (n > 0) {
			did_work = true;
			if (conn_ingest(c) < 0) {
				close_conn(c, CLOSE_PROTOCOL);
				return;
			}
		} else if (n == 0) {
			did_work = true;      /* half-close: echo what we have, then close */
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			close_conn(c, errno); /* ECONNRESET: only this connection goes */
			return;
		}
		/* EAGAIN here: poll saw bytes that were gone by the read (or a spurious wakeup): re-arm. */
	}
	/* Reply at once; a POLLOUT iocb is only for what the socket would not take. */
	if (!flush_output(c))
		return;
	if (conn_done(c)) {
		close_conn(c, CLOSE_EOF);
		return;
	}
	conn_check_pause(c);
	arm(c);                       /* one-shot: nothing more comes for this socket until we re-arm */
}

int main(int argc, char **argv)
{
	struct io_event events[MAX_EVENTS];
	struct conn *c;
	uint32_t mask;
	int n, fd;

	server_start(&srv, &MODEL, argc, argv, true);

	if (sys_io_setup(AIO_DEPTH, &ctx) < 0) {
		if (errno == EAGAIN)
			iolog("io_setup: %d events is over the system limit (sysctl fs.aio-max-nr, fs.aio-nr)",
			      AIO_DEPTH);
		die("io_setup");
	}
	arm_listener();

	while (!server_stop) {
		submit_pending();         /* every iocb armed last turn, in one io_submit() */
		n = sys_io_getevents(ctx, 1, MAX_EVENTS, events, NULL);
		tm_add(TM_WAIT_CALLS, 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;     /* SIGINT/SIGTERM: the loop condition decides */
			die("io_getevents");
		}
		tm_add(TM_EVENTS, (uint64_t)n);
		tm_add(TM_COMPLETIONS, (uint64_t)n);
		did_work = false;
		/* Pass 1: log every completion with its result; the wait clock starts. */
		for (int i = 0; i < n; i++) {
			fd = KEY_FD(events[i].data);
			mask = completion_mask(&events[i]);
			tm_log(EV_COMPLETION, fd, mask, events[i].res);
			tm_conn_ready(fd, mask);
		}
		/* Pass 2: serve them in order; the last one waited for all the others. */
		for (int i = 0; i < n; i++) {
			fd = KEY_FD(events[i].data);
			if (fd == srv.lfd) {
				accept_clients();
				arm_listener();
				continue;
			}
			c = conn_table_get(&conns, fd);
			if (c)
				serve(c, &events[i], completion_mask(&events[i]));
		}
		if (!did_work)
			tm_add(TM_EMPTY_WAKEUPS, 1);
	}

	/* Cancels the poll iocbs still in flight and waits for them: then the fds can go. */
	sys_io_destroy(ctx);
	for (size_t i = 0; i < conns.n; i++)
		if (conns.v[i])
			close_conn(conns.v[i], 0);
	conn_table_free_all(&conns);
	server_finish(&srv);
	return 0;
}
