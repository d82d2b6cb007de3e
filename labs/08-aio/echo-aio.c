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
 * Needs:   Linux 4.18+ for IOCB_CMD_POLL; fs.aio-max-nr headroom (see above).
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

#define AIO_DEPTH_MAX  65536     /* iocbs in flight at most: one per connection, so connections too */
#define AIO_DEPTH_MIN  64
#define MAX_EVENTS     256       /* most completions one io_getevents() returns */
#define READ_SIZE      (64 * 1024) /* --pread: bytes asked of each PREAD (capped by --read-chunk) */
#define BLOCKED_LOG_NS 1000000u  /* an io_submit() slower than 1 ms is logged as a blocked event */

/* glibc has no wrappers for these (libaio has others, returning -errno): call the kernel. */
static int sys_io_setup(unsigned nr, aio_context_t *ctx) { return (int)syscall(SYS_io_setup, nr, ctx); }
static int sys_io_destroy(aio_context_t ctx) { return (int)syscall(SYS_io_destroy, ctx); }
static int sys_io_submit(aio_context_t ctx, long n, struct iocb **v) { return (int)syscall(SYS_io_submit, ctx, n, v); }
/* io_getevents with a signal mask for the wait, like epoll_pwait (4.18+). */
static int sys_io_pgetevents(aio_context_t ctx, long min, long max, struct io_event *ev,
			     const sigset_t *mask)
{
	struct { const sigset_t *mask; size_t size; } sig = { mask, _NSIG / 8 };

	return (int)syscall(SYS_io_pgetevents, ctx, min, max, ev, NULL, &sig);
}

static struct server srv;
static void release(struct conn *c);
static bool pread_mode;      /* --pread */
static aio_context_t ctx;

static const struct bug BUGS[] = {
	{ "no-sigpipe", "keep SIGPIPE's default action: writing to a reset peer kills the server" },
	{ NULL, NULL },
};

static const struct model_option OPTIONS[] = {
	OPTION_HIGH_WATER(&srv),
	{ "pread", OPTK_FLAG, &pread_mode, NULL, "submit IOCB_CMD_PREAD on sockets instead of IOCB_CMD_POLL", 0, 0 },
	OPTIONS_END,
};

static const struct model MODEL = {
	.name = "aio", .program = "echo-aio", .lesson = 8,
	.wait_call = "io_getevents", .options = OPTIONS, .bugs = BUGS, .release = release,
	.summary = "Linux AIO: IOCB_CMD_POLL completions re-armed after each one (--pread: blocking PREAD)",
};

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

/* Hand everything prepared so far to the kernel, timing each io_submit(). */
static void submit_pending(void)
{
	int done = 0, n;
	uint64_t t0, dt;

	while (done < npending) {
		/* --pread: one iocb per call, so that the time blocked is charged to its connection. */
		long batch = pread_mode ? 1 : npending - done;

		if (server_stop)
			break;    /* SIGINT/SIGTERM cut a blocking PREAD short (-EINTR): start no other */
		t0 = tm_now();
		n = sys_io_submit(ctx, batch, pending_ptr + done);
		dt = tm_now() - t0;
		tm_add(TM_BLOCKED_NS, dt);    /* should be microseconds: it only queues work */
		if (dt >= BLOCKED_LOG_NS)
			tm_log(EV_BLOCKED, (int)pending[done].aio_fildes, 0, (int64_t)dt);
		if (n < 0)
			die("io_submit");         /* EAGAIN would mean more in flight than the context holds: a bug */
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

/* Submit the next iocb of a connection (c NULL: the listener's, for a client waiting):
 * PREAD (--pread, when reading) or a one-shot POLL for what it wants. */
static void arm(struct conn *c)
{
	/* EXERCISE BEGIN arm: prepare the next iocb: a one-shot POLL (or a PREAD with --pread) */
	uint32_t want = c ? conn_wanted(c) : EPOLLIN;
	struct iocb *cb = new_iocb();
	size_t len = READ_SIZE;

	cb->aio_fildes = (uint32_t)(c ? c->fd : srv.lfd);
	if (c && pread_mode && (want & EPOLLIN)) {
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
	cb->aio_data = KEY(cb->aio_fildes, cb->aio_lio_opcode);
	if (c)
		conn_set_interest(c, want);
	/* EXERCISE END arm */
}

/* conn_close() calls this (MODEL.release) for a --pread connection's buffer.  Every close
 * comes between a completion and the next arm(): no iocb of ours still names it. */
static void release(struct conn *c)
{
	free(c->model_data);
}

/* Accept everyone waiting, each with its first iocb. */
static void accept_clients(void)
{
	struct conn *c;

	/* --pread wants blocking sockets: that is where the lesson is. */
	while ((c = conn_accept(&srv, pread_mode ? 0 : SOCK_NONBLOCK))) {
		if (pread_mode && !(c->model_data = malloc(READ_SIZE))) {
			conn_close(c, ENOMEM);
			continue;
		}
		arm(c);
	}
	/* Backlog empty (or out of descriptors): the re-armed listener poll says when there is more. */
}

static void serve(struct conn *c, const struct io_event *ev, uint32_t ready)
{
	if (KEY_CMD(ev->data) == IOCB_CMD_PREAD) {
		/* PREAD already read: the bytes are in our buffer and the result is the count. */
		if (ev->res > 0 && conn_take(c, c->model_data, (size_t)ev->res) < 0) {
			conn_close(c, CLOSE_PROTOCOL);
			return;
		}
		if (ev->res == 0)
			conn_eof(c);          /* half-close: echo what we have, then close */
		/* -EINTR: a signal cut the read inside io_submit() short; nothing was read. */
		if (ev->res < 0 && ev->res != -EINTR) {
			conn_close(c, (int)-ev->res);  /* ECONNRESET */
			return;
		}
		ready = 0;                /* the read is done: conn_serve() only replies */
	}
	/* POLL said "readable" (or POLLHUP/POLLERR): ONE read says what happened, like lab 5;
	 * a re-armed poll completes at once if bytes are left.  The reply is written at once. */
	if (conn_serve(c, ready & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		arm(c);               /* one-shot: nothing more comes for this socket until we re-arm */
}

/*
 * One context for every iocb in flight: one per connection, plus the listener's.  Ask
 * for as many as we may have descriptors; halve while io_setup() says EAGAIN (the AIO
 * headroom fs.aio-max-nr - fs.aio-nr, shared by every process, is smaller).  Clients
 * beyond it are refused (counted in `refused`).
 */
static unsigned setup_context(void)
{
	long fds = net_raise_nofile();
	unsigned depth = fds > 0 && fds < AIO_DEPTH_MAX ? (unsigned)fds : AIO_DEPTH_MAX;

	while (sys_io_setup(depth, &ctx) < 0) {
		if (errno != EAGAIN || depth / 2 < AIO_DEPTH_MIN)
			die("io_setup (see sysctl fs.aio-max-nr and fs.aio-nr)");
		depth /= 2;
	}
	if (!server_quiet)
		iolog("AIO context for %u iocbs in flight: up to %u connections", depth, depth - 1);
	return depth;
}

int main(int argc, char **argv)
{
	struct io_event events[MAX_EVENTS];
	struct conn *c;
	int n, fd;

	server_start(&srv, &MODEL, argc, argv);
	if (pread_mode)
		server_signals_anywhere(&srv);  /* io_submit() may sleep in a read: let SIGINT cut it short */
	srv.max_conns = setup_context() - 1;
	srv.refuse_why = "every connection holds an iocb in flight and the AIO context is full";
	arm(NULL);

	while (!server_stop) {
		/* EXERCISE BEGIN loop: submit the armed iocbs, wait for completions, serve and re-arm each */
		submit_pending();         /* every iocb armed last turn, in one io_submit() */
		n = sys_io_pgetevents(ctx, 1, MAX_EVENTS, events, &srv.waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;     /* SIGINT/SIGTERM got in during the wait: the loop condition decides */
			die("io_getevents");
		}
		turn_begin(n);
		tm_add(TM_COMPLETIONS, (uint64_t)n);
		/* Pass 1: log every completion with its result; the wait clock starts. */
		for (int i = 0; i < n; i++)
			turn_completed(KEY_FD(events[i].data), completion_mask(&events[i]), events[i].res);
		/* Pass 2: serve them in order; the last one waited for all the others. */
		for (int i = 0; i < n; i++) {
			fd = KEY_FD(events[i].data);
			if (fd == srv.lfd) {
				accept_clients();
				arm(NULL);
				continue;
			}
			c = conn_table_get(&srv.conns, fd);
			if (c)
				serve(c, &events[i], completion_mask(&events[i]));
		}
		turn_end();
		/* EXERCISE END loop */
	}

	/* Cancels the poll iocbs still in flight and waits for them: then the fds can go. */
	sys_io_destroy(ctx);
	server_finish(&srv);
	return 0;
}
