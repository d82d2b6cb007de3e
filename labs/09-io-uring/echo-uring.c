/*
 * echo-uring.c — lab 9: a Proactor on io_uring (liburing).
 *
 * What it shows: we never ask "is this socket ready?".  We ask the kernel to *do*
 * the work — accept, recv, send — by putting submission entries (SQEs) in a
 * ring shared with it, and we react to what it reports done: completion entries
 * (CQEs) carrying the result, as a read() or write() would have returned it.  One
 * io_uring_enter() both submits everything queued in a turn and waits for the
 * next completion.  Completions drive each connection:
 *
 *   accept done  -> a new connection: submit its first recv
 *   recv done    -> take the bytes, cut frames, submit a send of the echo;
 *                   submit the next recv (unless over --high-water)
 *   send done    -> drop what was sent; a short send is resubmitted for the rest
 *
 * No EAGAIN anywhere: when a socket has nothing to give, the kernel parks the
 * recv and finishes it later.  The price is ownership: a buffer handed to the
 * kernel with a recv or send is the kernel's until the completion comes back —
 * see flush_output() for how the echo's buffer stays still while a send is in
 * flight, and close_conn() for why a connection outlives its close.
 *
 * Accept is multishot (one SQE, a CQE per connection; kernel 5.19+).  Receives
 * use provided buffers when the kernel has them: a ring of buffers shared by all
 * connections, so an idle connection ties up no receive buffer (5.19+);
 * --no-bufring (or an older kernel) uses a buffer per connection.  Both are
 * detected at run time and logged at start-up.
 *
 * Usage:   echo-uring [-p PORT] [-b ADDR] [-f len32|line|raw] [--high-water BYTES] [--no-bufring]
 * Needs:   Linux 5.6+ (5.19+ for multishot accept and the buffer ring); liburing 2.3 (Debian 12).
 *          io_uring can be switched off (sysctl kernel.io_uring_disabled, a container's
 *          seccomp profile): then this program exits with status 3 and says why.
 * Try:     bin/echo-uring -f line -p 7000      then in two terminals: nc 127.0.0.1 7000
 *          bin/iolab-load -p 7000 -c 50        and compare wait_calls with lab 5
 * Lesson:  LESSONS.md §9
 */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/server.h"

#define QUEUE_DEPTH   1024          /* SQ entries; the CQ gets twice as many */
#define MAX_CQES      256           /* most completions handled per turn */
#define RECV_SIZE     (16 * 1024)   /* bytes per recv (capped by --read-chunk) */
#define NBUFS         128           /* buffers in the provided-buffer ring (a power of two) */
#define BGID          1             /* our buffer group id */
#define SEND_MAX      (64 * 1024)   /* most bytes one send submission carries */
#define EXIT_NO_URING 3             /* exit status when io_uring cannot be set up */

static const struct bug BUGS[] = {
	{ "no-sigpipe", "keep SIGPIPE's default action: writing to a reset peer kills the server" },
	{ NULL, NULL },
};

static const struct model MODEL = {
	.name = "uring",
	.program = "echo-uring",
	.wait_call = "io_uring_enter",
	.summary = "io_uring Proactor: accept/recv/send submitted, completions drive each connection",
	.lesson = 9,
	.options = OPT_HIGH_WATER | OPT_NO_BUFRING,
	.bugs = BUGS,
};

/* What a submission was, kept in its user_data next to the fd (like epoll's data.fd). */
enum op { OP_ACCEPT = 1, OP_RECV, OP_SEND, OP_CANCEL };
#define KEY(fd, op)   ((uint64_t)(uint32_t)(fd) | (uint64_t)(op) << 32)
#define KEY_FD(k)     ((int)(uint32_t)(k))
#define KEY_OP(k)     ((enum op)((k) >> 32))

/* Per connection (c->model_data): what the kernel holds of ours right now. */
struct uconn {
	bool       recv_pending;  /* a recv is in flight (into rbuf, or a ring buffer) */
	bool       send_pending;  /* a send is in flight from `sending`: it must not move */
	bool       closing;       /* close_conn() ran; freed once nothing is in flight */
	int        reason;        /* why it is closing, for conn_free() */
	struct buf sending;       /* copy of the first bytes of c->out, being sent */
	char      *rbuf;          /* no buffer ring: this connection's receive buffer */
};

static struct server srv;
static struct conn_table conns;
static struct io_uring ring;
static bool did_work;        /* this wakeup moved bytes or accepted someone */
static bool multishot = true;/* multishot accept; off after an EINVAL (kernel < 5.19) */
static struct io_uring_buf_ring *br;   /* provided-buffer ring, NULL when not in use */
static char *bufs;                     /* its NBUFS buffers of RECV_SIZE bytes */

/* A free SQE; if the submission queue is full, submit it first (one extra io_uring_enter). */
static struct io_uring_sqe *get_sqe(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	int r;

	if (sqe)
		return sqe;
	r = io_uring_submit(&ring);
	if (r < 0) {
		errno = -r;
		die("io_uring_submit");
	}
	tm_add(TM_SUBMITS, (uint64_t)r);
	sqe = io_uring_get_sqe(&ring);
	if (!sqe)
		die("io_uring_get_sqe");
	return sqe;
}

/* Interest, for a Proactor: what is outstanding (recv -> EPOLLIN, send -> EPOLLOUT). */
static void update_interest(struct conn *c)
{
	const struct uconn *u = c->model_data;
	uint32_t want = (u->recv_pending ? EPOLLIN : 0) | (u->send_pending ? EPOLLOUT : 0);

	if (want == c->interest)
		return;
	c->interest = want;
	tm_conn_interest(c->fd, want);
	tm_log(EV_INTEREST, c->fd, want, want);
}

static void submit_accept(void)
{
	struct io_uring_sqe *sqe = get_sqe();

	/* No address wanted: new_conn() asks getpeername() for the peer's port. */
	if (multishot)
		io_uring_prep_multishot_accept(sqe, srv.lfd, NULL, NULL, SOCK_CLOEXEC);
	else
		io_uring_prep_accept(sqe, srv.lfd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, KEY(srv.lfd, OP_ACCEPT));
}

static void submit_recv(struct conn *c)
{
	struct uconn *u = c->model_data;
	struct io_uring_sqe *sqe = get_sqe();
	size_t len = RECV_SIZE;

	if (c->opt->read_chunk && c->opt->read_chunk < len)
		len = c->opt->read_chunk;
	if (br) {
		/* No buffer named: the kernel picks one from group BGID when bytes arrive. */
		io_uring_prep_recv(sqe, c->fd, NULL, len, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = BGID;
	} else {
		io_uring_prep_recv(sqe, c->fd, u->rbuf, len, 0);
	}
	io_uring_sqe_set_data64(sqe, KEY(c->fd, OP_RECV));
	u->recv_pending = true;
	tm_add(TM_READ_CALLS, 1);
}

/* Give a ring buffer back to the kernel once its bytes are copied out. */
static void recycle_buffer(unsigned bid)
{
	io_uring_buf_ring_add(br, bufs + (size_t)bid * RECV_SIZE, RECV_SIZE, (unsigned short)bid,
			      io_uring_buf_ring_mask(NBUFS), 0);
	io_uring_buf_ring_advance(br, 1);
}

/*
 * Cancel by key.  It cannot hit a newer connection that got the same fd: that
 * one's first recv is submitted a turn after its accept, long after this cancel ran.
 */
static void cancel(int fd, enum op op)
{
	struct io_uring_sqe *sqe = get_sqe();

	io_uring_prep_cancel64(sqe, KEY(fd, op), 0);
	io_uring_sqe_set_data64(sqe, KEY(fd, OP_CANCEL));
}

/*
 * Closing is a request too.  A recv or send still in flight holds the socket and
 * writes into (or reads from) our buffers, so we may not free them, nor even close
 * the fd (a new connection could get its number while old completions are due).
 * Cancel what is in flight; the connection really goes when the last one is back.
 */
static void close_conn(struct conn *c, int reason)
{
	struct uconn *u = c->model_data;

	if (!u->closing) {
		u->closing = true;
		u->reason = reason;
		conn_set_state(c, CONN_CLOSING);
		if (u->recv_pending)
			cancel(c->fd, OP_RECV);
		if (u->send_pending)
			cancel(c->fd, OP_SEND);
	}
	if (u->recv_pending || u->send_pending)
		return;               /* their completions (-ECANCELED, or done anyway) call us again */
	reason = u->reason;
	conn_table_del(&conns, c->fd);
	buf_free(&u->sending);
	free(u->rbuf);
	free(u);
	conn_free(c, reason);
}

static void new_conn(int fd)
{
	struct conn *c = conn_new(fd, net_peer_port(fd), &srv.opt);
	struct uconn *u = calloc(1, sizeof(*u));

	did_work = true;
	if (!c || !u || conn_table_put(&conns, c) < 0 || (!br && !(u->rbuf = malloc(RECV_SIZE)))) {
		iolog("fd %d: out of memory, closing", fd);
		free(u);
		if (!c) {
			close(fd);
			return;
		}
		conn_table_del(&conns, fd);
		conn_free(c, ENOMEM);
		return;
	}
	buf_init(&u->sending);
	c->model_data = u;
	submit_recv(c);
	update_interest(c);
}

/* An accept completion: res is the new fd, or -errno. */
static void accept_clients(const struct io_uring_cqe *cqe)
{
	uint16_t port;
	int fd;

	if (cqe->res >= 0) {
		new_conn(cqe->res);
	} else if (cqe->res == -EINVAL && multishot) {
		/* Kernel < 5.19: no multishot accept.  One accept per submission from now on. */
		multishot = false;
		iolog("multishot accept not supported here (kernel 5.19+): one accept per submission");
	} else if (cqe->res == -EMFILE || cqe->res == -ENFILE) {
		/* Out of descriptors: shed one pending client (net_accept's spare fd) instead of spinning. */
		tm_add(TM_ACCEPT_EMFILE, 1);
		iolog("accept: out of descriptors, one connection refused");
		fd = net_accept(srv.lfd, 0, &port);
		if (fd >= 0)
			new_conn(fd);     /* a descriptor came free meanwhile: serve it after all */
	} else if (cqe->res != -EINTR && cqe->res != -ECONNABORTED && cqe->res != -EAGAIN) {
		errno = -cqe->res;    /* EINTR/ECONNABORTED/EAGAIN: a signal or a client that gave up: re-arm */
		die("accept");
	}
	/* F_MORE: the multishot accept is still armed.  Without it (an error, or single-shot): re-arm. */
	if (!(cqe->flags & IORING_CQE_F_MORE))
		submit_accept();
}

/*
 * Start a send of queued output, if none is in flight.  false: connection closed.
 *
 * The kernel reads the bytes later, while we go on, and meanwhile c->out may be
 * appended to (the next recv's frames) — which can move its bytes (compaction) or
 * reallocate it.  So the send never points into c->out: it goes from `sending`, a
 * copy of c->out's first bytes that nothing touches until the completion.
 * conn_sent() then drops the same count from c->out's front, which is where those
 * bytes still are (c->out is only ever appended to while a send is in flight).
 */
static bool flush_output(struct conn *c)
{
	struct uconn *u = c->model_data;
	struct io_uring_sqe *sqe;
	size_t n = buf_len(&c->out);

	if (u->send_pending || n == 0)
		return true;
	if (buf_len(&u->sending) == 0) {
		if (n > SEND_MAX)
			n = SEND_MAX;
		if (buf_append(&u->sending, buf_peek(&c->out), n) < 0) {
			close_conn(c, ENOMEM);
			return false;
		}
	}
	/* Else a short send left the rest in `sending`: resubmit that. */
	sqe = get_sqe();
	io_uring_prep_send(sqe, c->fd, buf_peek(&u->sending), buf_len(&u->sending), 0);
	io_uring_sqe_set_data64(sqe, KEY(c->fd, OP_SEND));
	u->send_pending = true;
	tm_add(TM_WRITE_CALLS, 1);
	return true;
}

/* After a completion: submit whatever the connection can do now. */
static void serve(struct conn *c)
{
	struct uconn *u = c->model_data;

	if (!flush_output(c))
		return;
	if (conn_done(c)) {
		close_conn(c, CLOSE_EOF);     /* half-closed and all echoed (nothing in flight either) */
		return;
	}
	/* Over the high-water mark: no new recv until the sends bring it down. */
	if (!conn_check_pause(c) && !c->rd_closed && !u->recv_pending)
		submit_recv(c);
	update_interest(c);
}

static void recv_done(struct conn *c, const struct io_uring_cqe *cqe)
{
	struct uconn *u = c->model_data;
	const char *data = u->rbuf;
	unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	int res = cqe->res;

	u->recv_pending = false;
	/* F_BUFFER: the kernel picked ring buffer `bid` for this recv. */
	if (cqe->flags & IORING_CQE_F_BUFFER)
		data = bufs + (size_t)bid * RECV_SIZE;
	if (!u->closing && res > 0 && conn_received(c, data, (size_t)res) < 0)
		res = -ENOMEM;
	/* Copied out (or there was nothing): the kernel may fill that buffer again. */
	if (cqe->flags & IORING_CQE_F_BUFFER)
		recycle_buffer(bid);
	if (u->closing) {
		close_conn(c, u->reason);
		return;
	}
	tm_conn_served(c->fd);
	if (res > 0) {
		did_work = true;
		if (conn_ingest(c) < 0) {
			close_conn(c, CLOSE_PROTOCOL);
			return;
		}
	} else if (res == 0) {
		did_work = true;
		c->rd_closed = true;      /* half-close: echo what we have, then close */
	} else if (res != -ENOBUFS && res != -EINTR && res != -EAGAIN) {
		close_conn(c, -res);      /* ECONNRESET (or ENOMEM just above): only this connection goes */
		return;
	}
	/* ENOBUFS: every ring buffer was taken; they come back as we handle completions: ask again. */
	serve(c);
}

static void send_done(struct conn *c, const struct io_uring_cqe *cqe)
{
	struct uconn *u = c->model_data;

	u->send_pending = false;
	if (u->closing) {
		close_conn(c, u->reason);
		return;
	}
	tm_conn_served(c->fd);
	if (cqe->res > 0) {
		did_work = true;
		conn_sent(c, (size_t)cqe->res);
		buf_consume(&u->sending, (size_t)cqe->res);
		if (buf_len(&u->sending)) {
			/* Short send: the socket took only part.  Counted like a short write(). */
			tm_add(TM_EAGAIN_WR, 1);
			tm_conn_io(c->fd, 0, 0, 0, 0, 1, buf_len(&c->out));
			tm_log(EV_EAGAIN_WR, c->fd, 0, (int64_t)buf_len(&u->sending));
		} else {
			buf_shrink(&u->sending, SEND_MAX);
		}
	} else if (cqe->res != -EINTR && cqe->res != -EAGAIN) {
		close_conn(c, -cqe->res); /* EPIPE, ECONNRESET: the peer is gone */
		return;
	}
	/* EINTR/EAGAIN: nothing was sent; flush_output() below submits the same bytes again. */
	serve(c);
}

/* What a completion says, in epoll bits: recv -> EPOLLIN, send -> EPOLLOUT; EPOLLERR on an error. */
static uint32_t completion_mask(const struct io_uring_cqe *cqe)
{
	uint32_t m = 0;

	switch (KEY_OP(cqe->user_data)) {
	case OP_ACCEPT:
	case OP_RECV:   m = EPOLLIN; break;
	case OP_SEND:   m = EPOLLOUT; break;
	case OP_CANCEL: return 0;
	}
	if (cqe->res < 0)
		m |= EPOLLERR;
	else if (cqe->res == 0 && KEY_OP(cqe->user_data) == OP_RECV)
		m |= EPOLLRDHUP;          /* a recv of 0: the peer half-closed */
	return m;
}

/* Provided buffers (kernel 5.19+): one ring of NBUFS buffers that every recv draws from. */
static void setup_bufring(void)
{
	struct io_uring_buf_reg reg;
	void *mem;
	int r;

	if (srv.opt.no_bufring) {
		iolog("--no-bufring: plain recv into a %d-byte buffer per connection", RECV_SIZE);
		return;
	}
	if (posix_memalign(&mem, (size_t)sysconf(_SC_PAGESIZE), NBUFS * sizeof(struct io_uring_buf)))
		die("posix_memalign");
	bufs = malloc((size_t)NBUFS * RECV_SIZE);
	if (!bufs)
		die("malloc");
	br = mem;
	io_uring_buf_ring_init(br);
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)br;
	reg.ring_entries = NBUFS;
	reg.bgid = BGID;
	r = io_uring_register_buf_ring(&ring, &reg, 0);
	if (r < 0) {
		iolog("no provided-buffer ring here (%s; needs kernel 5.19+): plain recv into a buffer per connection",
		      strerror(-r));
		free(br);
		free(bufs);
		br = NULL;
		bufs = NULL;
		return;
	}
	for (unsigned i = 0; i < NBUFS; i++)
		io_uring_buf_ring_add(br, bufs + (size_t)i * RECV_SIZE, RECV_SIZE, (unsigned short)i,
				      io_uring_buf_ring_mask(NBUFS), (int)i);
	io_uring_buf_ring_advance(br, NBUFS);
	if (!server_quiet)
		iolog("provided buffers: a ring of %d x %d bytes shared by all connections", NBUFS, RECV_SIZE);
}

/* io_uring_queue_init() failed: say why it probably did, and exit EXIT_NO_URING. */
static void no_uring(int err)
{
	fprintf(stderr, "%s: io_uring_setup: %s\n", MODEL.program, strerror(err));
	if (err == EPERM || err == EACCES)
		fprintf(stderr, "%s: io_uring is switched off for this process.  Likely causes:\n"
			"  - sysctl kernel.io_uring_disabled is 2 (or 1 and you are not in kernel.io_uring_group);\n"
			"    fix: sysctl -w kernel.io_uring_disabled=0\n"
			"  - a container's seccomp profile blocks io_uring_setup (Docker's default does);\n"
			"    fix: run the container with a profile that allows io_uring_setup/enter/register\n",
			MODEL.program);
	else if (err == ENOSYS)
		fprintf(stderr, "%s: no io_uring here: a kernel older than 5.1 or built without CONFIG_IO_URING,\n"
			"  or a seccomp profile that answers ENOSYS for io_uring_setup\n", MODEL.program);
	else if (err == ENOMEM)
		fprintf(stderr, "%s: out of locked memory for the rings (kernels before 5.12 count them\n"
			"  against RLIMIT_MEMLOCK: try ulimit -l unlimited)\n", MODEL.program);
	exit(EXIT_NO_URING);
}

int main(int argc, char **argv)
{
	struct io_uring_cqe *cqes[MAX_CQES];
	struct conn *c;
	unsigned n;
	int r, fd;

	/*
	 * The ring first, so that "listening on" means the server works.  Only --help
	 * gets through without one (then server_start() prints it and exits).
	 */
	r = io_uring_queue_init(QUEUE_DEPTH, &ring, 0);
	for (int i = 1; r < 0 && i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			server_start(&srv, &MODEL, argc, argv, true);
	if (r < 0)
		no_uring(-r);
	/* Nonblocking listener: net_accept() sheds a client on EMFILE without waiting. */
	server_start(&srv, &MODEL, argc, argv, true);
	setup_bufring();
	submit_accept();

	while (!server_stop) {
		/* Submit what the last turn queued and wait for a completion: one io_uring_enter(). */
		r = io_uring_submit_and_wait(&ring, 1);
		tm_add(TM_WAIT_CALLS, 1);
		if (r < 0) {
			if (r == -EINTR)
				continue;     /* SIGINT/SIGTERM: the loop condition decides */
			errno = -r;
			die("io_uring_enter");
		}
		tm_add(TM_SUBMITS, (uint64_t)r);
		n = io_uring_peek_batch_cqe(&ring, cqes, MAX_CQES);
		tm_add(TM_EVENTS, n);
		tm_add(TM_COMPLETIONS, n);
		did_work = false;
		/* Pass 1: log every completion with its result; the wait clock starts. */
		for (unsigned i = 0; i < n; i++) {
			fd = KEY_FD(cqes[i]->user_data);
			if (KEY_OP(cqes[i]->user_data) == OP_CANCEL)
				continue;
			tm_log(EV_COMPLETION, fd, completion_mask(cqes[i]), cqes[i]->res);
			tm_conn_ready(fd, completion_mask(cqes[i]));
		}
		/* Pass 2: act on them in order; each queues its follow-up submissions. */
		for (unsigned i = 0; i < n; i++) {
			fd = KEY_FD(cqes[i]->user_data);
			c = conn_table_get(&conns, fd);
			switch (KEY_OP(cqes[i]->user_data)) {
			case OP_ACCEPT: accept_clients(cqes[i]); break;
			case OP_RECV:   if (c) recv_done(c, cqes[i]); break;
			case OP_SEND:   if (c) send_done(c, cqes[i]); break;
			case OP_CANCEL: break;   /* its target's own completion (-ECANCELED) is what counts */
			}
		}
		io_uring_cq_advance(&ring, n);
		if (!did_work)
			tm_add(TM_EMPTY_WAKEUPS, 1);
	}

	/* Closing the ring cancels whatever is still in flight; then our buffers are ours again. */
	io_uring_queue_exit(&ring);
	for (size_t i = 0; i < conns.n; i++) {
		struct uconn *u;

		if (!(c = conns.v[i]))
			continue;
		u = c->model_data;
		u->recv_pending = u->send_pending = false;
		close_conn(c, CLOSE_EOF);
	}
	conn_table_free_all(&conns);
	free(br);
	free(bufs);
	server_finish(&srv);
	return 0;
}
