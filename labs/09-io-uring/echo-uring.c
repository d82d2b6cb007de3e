/*
 * echo-uring.c — lab 9: a Proactor on io_uring (liburing).
 *
 * What it shows: we never ask "is this socket ready?".  We ask the kernel to *do*
 * the work -- accept, recv, send -- with submission entries (SQEs) in a ring shared
 * with it, and react to what it reports done: completion entries (CQEs) carrying
 * the result a read() or write() would have returned.  One io_uring_enter() both
 * submits a turn's work and waits for the next completion.  No EAGAIN anywhere: a
 * recv with nothing to take is parked by the kernel and finished later.  The price
 * is ownership: a buffer handed over with a recv or send is the kernel's until its
 * completion comes back, and a connection outlives its close until nothing of it is
 * in flight.
 *
 * What makes it cheap, one named step each (LESSONS.md §9 measures each one):
 *   1. Ring flags SINGLE_ISSUER + DEFER_TASKRUN (6.1+), else COOP_TASKRUN (5.19+):
 *      completions are posted inside our own io_uring_enter(), not by interrupting
 *      us.  --plain-ring turns this off.
 *   2. Multishot accept (5.19+): one SQE, a CQE per new connection.
 *   3. A provided-buffer ring (5.19+) and multishot recv (6.0+): one SQE per
 *      connection for its life; the kernel picks a buffer from a ring all share, so
 *      an idle connection holds none.  --oneshot: a recv per arrival; --no-bufring:
 *      a buffer per connection.
 *   4. Frames are cut straight from the kernel's buffer into the echo queue.
 *   5. The echo queue goes to the send by swapping buffers, never copied.
 * Each step falls back by itself where the kernel lacks it, and says so at start-up.
 *
 * Needs:   Linux 5.6+ (the steps above say which need more); liburing 2.3.  Where
 *          io_uring is switched off this program exits with status 3 and says why.
 * Try:     bin/echo-uring -f line -p 7000      then in two terminals: nc 127.0.0.1 7000
 *          bin/iolab-load -p 7000 -c 50        and compare wait_calls with lab 5
 * Lesson:  LESSONS.md §9
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/server.h"
#include "common/uring.h"

#define QUEUE_DEPTH   1024          /* SQ entries; the CQ gets twice as many */
#define MAX_CQES      256           /* most completions handled per turn */
#define RECV_SIZE     (16 * 1024)   /* bytes per recv (capped by --read-chunk) */
#define NBUFS         256           /* buffers in the provided-buffer ring (a power of two) */
#define BGID          1             /* our buffer group id */

static struct server srv;
static bool no_bufring, oneshot, plain_ring;
static void setup(struct server *s);
static void release(struct conn *c);

static const struct bug BUGS[] = {
	{ "no-sigpipe", "keep SIGPIPE's default action: writing to a reset peer kills the server" },
	{ "uring-dontwait", "recv with MSG_DONTWAIT: it completes -EAGAIN at once, and we poll again" },
	{ NULL, NULL },
};

static const struct model_option OPTIONS[] = {
	OPTION_HIGH_WATER(&srv),
	{ "no-bufring", OPTK_FLAG, &no_bufring, NULL, "plain recv into a buffer per connection (no provided buffers)", 0, 0 },
	{ "oneshot", OPTK_FLAG, &oneshot, NULL, "one recv SQE per arrival instead of a multishot recv", 0, 0 },
	{ "plain-ring", OPTK_FLAG, &plain_ring, NULL, "no ring set-up flags (no DEFER_TASKRUN/COOP_TASKRUN)", 0, 0 },
	OPTIONS_END,
};

static const struct model MODEL = {
	.name = "uring", .program = "echo-uring", .lesson = 9,
	.wait_call = "io_uring_enter", .options = OPTIONS, .bugs = BUGS,
	.setup = setup, .release = release,
	.summary = "io_uring Proactor: accept/recv/send submitted, completions drive each connection",
};

/* What a submission was, kept in its user_data next to the fd (like epoll's data.fd). */
enum op { OP_ACCEPT = 1, OP_RECV, OP_SEND, OP_CANCEL };
#define KEY(fd, op)   ((uint64_t)(uint32_t)(fd) | (uint64_t)(op) << 32)
#define KEY_FD(k)     ((int)(uint32_t)(k))
#define KEY_OP(k)     ((enum op)((k) >> 32))

/* Per connection (c->model_data): what the kernel holds of ours right now. */
struct uconn {
	bool       recv_armed;    /* a recv (multishot or not) is in flight */
	bool       recv_cancel;   /* ...and we asked the kernel to cancel it */
	bool       send_pending;  /* a send is in flight from `sending`: it must not move */
	bool       closing;       /* close_conn() ran; freed once nothing is in flight */
	int        reason;        /* why it is closing */
	struct buf sending;       /* the echo being sent (swapped out of c->out) */
	char      *rbuf;          /* --no-bufring: this connection's receive buffer */
};

static struct io_uring ring;
static bool multishot_accept = true;   /* off after an EINVAL (kernel < 5.19) */
static bool multishot_recv;            /* step 3: on when the buffer ring is */
static struct uring_bufs bufs;         /* step 3: provided buffers; bufs.br NULL when not in use */

static void submit_accept(void)
{
	struct io_uring_sqe *sqe = uring_sqe(&ring);

	/* No address wanted: the new connection asks getpeername() for the peer's port. */
	if (multishot_accept)
		io_uring_prep_multishot_accept(sqe, srv.lfd, NULL, NULL, SOCK_CLOEXEC);
	else
		io_uring_prep_accept(sqe, srv.lfd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, KEY(srv.lfd, OP_ACCEPT));
}

static void submit_recv(struct conn *c)
{
	/* EXERCISE BEGIN recv: queue a recv SQE (multishot, from the provided-buffer ring when there is one) */
	struct uconn *u = c->model_data;
	struct io_uring_sqe *sqe = uring_sqe(&ring);
	size_t len = c->opt->read_chunk && c->opt->read_chunk < RECV_SIZE ? c->opt->read_chunk : RECV_SIZE;
	/* BUG lab 9 (uring-dontwait): "do not park it, answer now" brings EAGAIN back. */
	int flags = server_bug(&srv, "uring-dontwait") ? MSG_DONTWAIT : 0;

	if (!bufs.br) {
		io_uring_prep_recv(sqe, c->fd, u->rbuf, len, flags);
	} else {
		/* No buffer named: the kernel picks one from group BGID when bytes arrive.
		 * Multishot: this one SQE keeps producing a CQE per arrival (len 0 = whole buffer). */
		if (multishot_recv && !c->opt->read_chunk)
			io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
		else
			io_uring_prep_recv(sqe, c->fd, NULL, len, flags);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = BGID;
	}
	io_uring_sqe_set_data64(sqe, KEY(c->fd, OP_RECV));
	u->recv_armed = true;
	tm_add(TM_READ_CALLS, 1);
	/* EXERCISE END recv */
}

/* Cancel by key.  It cannot hit a newer connection that got the same fd: the fd is
 * closed only after every completion of this one came back. */
static void cancel(int fd, enum op op)
{
	struct io_uring_sqe *sqe = uring_sqe(&ring);

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
		if (u->recv_armed)
			cancel(c->fd, OP_RECV);
		if (u->send_pending)
			cancel(c->fd, OP_SEND);
	}
	if (u->recv_armed || u->send_pending)
		return;               /* their completions (-ECANCELED, or done anyway) call us again */
	conn_close(c, reason);        /* release() frees what u holds */
}

/* conn_close() calls this (MODEL.release): the kernel holds nothing of c any more. */
static void release(struct conn *c)
{
	struct uconn *u = c->model_data;

	buf_free(&u->sending);
	free(u->rbuf);
	free(u);
}

/*
 * Send the queued echo, if no send is in flight.  The kernel reads those bytes later,
 * while we go on appending the next frames: so the send gets a buffer of its own —
 * c->out itself, swapped with the empty `sending` (step 5), not a copy of it.
 */
static void flush_output(struct conn *c)
{
	struct uconn *u = c->model_data;
	struct io_uring_sqe *sqe;

	if (u->send_pending)
		return;
	if (buf_len(&u->sending) == 0) {
		if (buf_len(&c->out) == 0)
			return;
		buf_swap(&u->sending, &c->out);
	}
	/* Else a short send left the rest in `sending`: resubmit that. */
	sqe = uring_sqe(&ring);
	io_uring_prep_send(sqe, c->fd, buf_peek(&u->sending), buf_len(&u->sending), 0);
	io_uring_sqe_set_data64(sqe, KEY(c->fd, OP_SEND));
	u->send_pending = true;
	tm_add(TM_WRITE_CALLS, 1);
}

/* After a completion: submit whatever the connection can do now. */
static void serve(struct conn *c)
{
	struct uconn *u = c->model_data;

	flush_output(c);
	if (conn_done(c) && !u->send_pending) {
		close_conn(c, CLOSE_EOF);     /* half-closed and all echoed */
		return;
	}
	/* Over the high-water mark: stop receiving until the sends bring it down.  A
	 * multishot recv would go on by itself, so it is cancelled (its last CQE says so). */
	if (conn_check_pause(c) || c->rd_closed) {
		if (u->recv_armed && multishot_recv && !c->rd_closed && !u->recv_cancel) {
			cancel(c->fd, OP_RECV);
			u->recv_cancel = true;
		}
	} else if (!u->recv_armed) {
		submit_recv(c);
	}
	/* Interest, for a Proactor: what is outstanding (recv -> EPOLLIN, send -> EPOLLOUT). */
	conn_set_interest(c, (u->recv_armed ? EPOLLIN : 0) | (u->send_pending ? EPOLLOUT : 0));
}

/* A new connection (NULL: none, or no memory for it, already closed): its first recv. */
static void new_conn(struct conn *c)
{
	struct uconn *u;

	if (!c)
		return;
	if (!(u = calloc(1, sizeof(*u))) || (!bufs.br && !(u->rbuf = malloc(RECV_SIZE)))) {
		free(u);
		conn_close(c, ENOMEM);
		return;
	}
	buf_init(&u->sending);
	c->model_data = u;
	serve(c);
}

/* An accept completion: res is the new fd, or -errno. */
static void accept_done(const struct io_uring_cqe *cqe)
{
	if (cqe->res >= 0) {
		new_conn(conn_open(&srv, cqe->res, net_peer_port(cqe->res)));
	} else if (cqe->res == -EINVAL && multishot_accept && !server_stop) {
		/* Kernel < 5.19: no multishot accept.  One accept per submission from now on. */
		multishot_accept = false;
		iolog("multishot accept not supported here (kernel 5.19+): one accept per submission");
	} else if (cqe->res == -EMFILE || cqe->res == -ENFILE) {
		/* Out of descriptors: conn_accept() sheds one pending client (the spare fd),
		 * counted and logged, instead of spinning; if a descriptor came free, it is served. */
		new_conn(conn_accept(&srv, 0));
	} else if (cqe->res != -EINTR && cqe->res != -ECONNABORTED && cqe->res != -EAGAIN && !server_stop) {
		errno = -cqe->res;  /* (EINTR, ECONNABORTED, EAGAIN: a signal, a client gone: re-armed below) */
		die("accept");
	}
	/* F_MORE: the multishot accept is still armed.  Without it (an error, or single-shot): re-arm. */
	if (!(cqe->flags & IORING_CQE_F_MORE) && !server_stop)
		submit_accept();
}

static void recv_done(struct conn *c, const struct io_uring_cqe *cqe)
{
	struct uconn *u = c->model_data;
	unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	const char *data = cqe->flags & IORING_CQE_F_BUFFER ? uring_buf(&bufs, bid) : u->rbuf;
	int res = cqe->res;

	/* F_MORE: the multishot recv stays armed and will complete again. */
	if (!(cqe->flags & IORING_CQE_F_MORE))
		u->recv_armed = u->recv_cancel = false;
	/* Step 4: frames go from the kernel's buffer straight to the echo queue. */
	if (!u->closing && res > 0 && conn_take(c, data, (size_t)res) < 0)
		res = -EPROTO;
	if (cqe->flags & IORING_CQE_F_BUFFER)
		uring_bufs_recycle(&bufs, bid);  /* copied out: the kernel may fill it again */
	if (u->closing) {
		close_conn(c, u->reason);
		return;
	}
	tm_conn_served(c->fd);
	if (res == 0)
		conn_eof(c);          /* half-close: echo what we have, then close */
	if (res == -EINVAL && multishot_recv) {
		multishot_recv = false;   /* kernel < 6.0: one recv per arrival from now on */
		iolog("multishot recv not supported here (kernel 6.0+): one recv per arrival");
	} else if (res == -EAGAIN) {
		tm_add(TM_EAGAIN_RD, 1);  /* only with MSG_DONTWAIT (the bug): nothing to take yet */
	} else if (res < 0 && res != -ENOBUFS && res != -ECANCELED && res != -EINTR) {
		close_conn(c, res == -EPROTO ? CLOSE_PROTOCOL : -res);  /* ECONNRESET: this one only */
		return;
	}
	/* ENOBUFS: every ring buffer was taken; they come back as we handle completions.
	 * ECANCELED: paused at the high-water mark.  EINTR: nothing was read.  serve() re-arms. */
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
		conn_sent(c, (size_t)cqe->res);
		buf_consume(&u->sending, (size_t)cqe->res);
		if (buf_len(&u->sending)) {
			/* Short send: the socket took only part.  Counted like a short write(). */
			tm_add(TM_EAGAIN_WR, 1);
			tm_log(EV_EAGAIN_WR, c->fd, 0, (int64_t)buf_len(&u->sending));
		}
	} else if (cqe->res != -EINTR && cqe->res != -EAGAIN) {
		close_conn(c, -cqe->res); /* EPIPE, ECONNRESET: the peer is gone */
		return;
	}
	serve(c);                     /* EINTR, EAGAIN: nothing was sent; the same bytes go again */
}

/* The ring first, so that "listening on" means the server works. */
static void setup(struct server *s)
{
	int r;

	/* Step 1: the cheapest completion delivery this kernel offers (EINVAL: try the next). */
	if ((r = uring_setup(&ring, QUEUE_DEPTH, plain_ring)) < 0) {
		uring_explain(s->model->program, -r);
		exit(3);              /* the status that means "no io_uring here" (tests skip on it) */
	}
	/* Step 3: one ring of buffers that every recv draws from, so an idle connection holds none. */
	if (no_bufring)
		iolog("--no-bufring: plain recv into a %d-byte buffer per connection", RECV_SIZE);
	else if ((r = uring_bufs_setup(&ring, &bufs, NBUFS, RECV_SIZE, BGID)) < 0)
		iolog("no provided-buffer ring here (%s; needs 5.19+): a buffer per connection", strerror(-r));
	multishot_recv = bufs.br && !oneshot && !server_bug(&srv, "uring-dontwait");
	if (bufs.br && !server_quiet)
		iolog("provided buffers: a ring of %d x %d bytes shared by all connections; %s recv",
		      NBUFS, RECV_SIZE, multishot_recv ? "multishot" : "one-shot");
}

int main(int argc, char **argv)
{
	struct io_uring_cqe *cqes[MAX_CQES], *cqe;
	struct conn *c;
	unsigned n, queued;
	enum op op;
	int r;

	server_start(&srv, &MODEL, argc, argv);   /* calls setup() before "listening on" */
	submit_accept();

	while (!server_stop) {
		/* EXERCISE BEGIN loop: submit and wait in one io_uring_enter(), then act on each completion */
		/* Submit what the last turn queued and wait for a completion: one io_uring_enter(),
		 * with SIGINT/SIGTERM let in only while it waits. */
		queued = io_uring_sq_ready(&ring);
		r = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, NULL, &srv.waitmask);
		if (r < 0 && r != -EINTR && r != -ETIME) {   /* EINTR: SIGINT/SIGTERM; the loop decides */
			errno = -r;
			die("io_uring_enter");
		}
		tm_add(TM_SUBMITS, queued);
		n = io_uring_peek_batch_cqe(&ring, cqes, MAX_CQES);
		turn_begin((int)n);
		tm_add(TM_COMPLETIONS, n);
		/* Pass 1: log every completion with its result; the wait clock starts. */
		for (unsigned i = 0; i < n; i++)      /* (a cancel's target completes too, -ECANCELED) */
			if ((op = KEY_OP(cqes[i]->user_data)) != OP_CANCEL)
				turn_completed(KEY_FD(cqes[i]->user_data),
					       mask_from_result(op == OP_SEND, cqes[i]->res), cqes[i]->res);
		/* Pass 2: act on them in order; each queues its follow-up submissions. */
		for (unsigned i = 0; i < n; i++) {
			c = conn_table_get(&srv.conns, KEY_FD(cqes[i]->user_data));
			switch (KEY_OP(cqes[i]->user_data)) {
			case OP_ACCEPT: accept_done(cqes[i]); break;
			case OP_RECV:   if (c) recv_done(c, cqes[i]); break;
			case OP_SEND:   if (c) send_done(c, cqes[i]); break;
			case OP_CANCEL: break;
			}
		}
		io_uring_cq_advance(&ring, n);
		turn_end();
		/* EXERCISE END loop */
	}

	/* Closing the ring cancels whatever is still in flight; then our buffers are ours
	 * again, and server_finish() closes the connections left (release() frees each). */
	io_uring_queue_exit(&ring);
	uring_bufs_free(&bufs);
	server_finish(&srv);
	return 0;
}
