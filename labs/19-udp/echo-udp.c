/*
 * echo-udp.c — lab 19: an echo server over UDP, on the same skeleton as the TCP ones.
 *
 * What it shows: a datagram socket keeps message boundaries.  Each receive returns
 * exactly one datagram, never part of one and never two; there is no framing to
 * do, so -f is ignored here.  A datagram longer than the buffer is cut and the rest
 * is gone (MSG_TRUNC says how long it really was: counted as `truncated`), where TCP
 * would keep the rest for the next read.  There is no connection: no accept, no EOF,
 * no half-close, one socket for every client, and the peer's address comes with each
 * datagram.  What the receive buffer cannot hold is dropped without a word to anyone:
 * only the kernel counts it (/proc/net/snmp, Udp: RcvbufErrors).
 *
 *   --read-chunk BYTES   the receive buffer per datagram (default 65536, the largest)
 *   --mmsg N             recvmmsg()/sendmmsg(): up to N datagrams per system call
 *   --rcvbuf BYTES       SO_RCVBUF, to make a burst overflow it
 *   --pause-ms MS        sleep after each wakeup (a busy server): datagrams pile up
 *
 * Try:     bin/echo-udp -p 7000      then: nc -u 127.0.0.1 7000   (each line is a datagram)
 *          bin/iolab-udp -p 7000 -s 512 -t 3        while bin/iolab-view shows it
 * Lesson:  LESSONS.md §19
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/server.h"

#define MAX_DGRAM  65536   /* larger than any UDP payload (65507 over IPv4) */
#define MAX_MMSG   1024    /* UIO_MAXIOV: the kernel's cap on one recvmmsg() */
#define BUDGET     64      /* receive calls per wakeup before polling again */

static struct server srv;
static long mmsg = 1;
static long pause_ms;
static size_t rcvbuf;

static const struct model_option OPTIONS[] = {
	{ "mmsg", OPTK_LONG, &mmsg, "N", "up to N datagrams per recvmmsg()/sendmmsg() (default 1: recvmsg/sendmsg)",
	  1, MAX_MMSG },
	{ "rcvbuf", OPTK_SIZE, &rcvbuf, "BYTES", "SO_RCVBUF (default: net.core.rmem_default)", 0, 0 },
	{ "pause-ms", OPTK_LONG, &pause_ms, "MS", "sleep MS after each wakeup, as if busy: datagrams pile up (default 0)",
	  0, 1000 },
	OPTIONS_END,
};

static void setup(struct server *s);

static const struct model MODEL = {
	.name = "udp",
	.program = "echo-udp",
	.wait_call = "ppoll",
	.summary = "UDP echo: one socket, one datagram per receive, boundaries kept, losses silent",
	.lesson = 19,
	.datagram = true,
	.options = OPTIONS,
	.setup = setup,
};

/* One slot per datagram of a batch: its buffer, its sender, its length. */
static struct mmsghdr *msgs;
static struct iovec *iov;
static struct sockaddr_storage *peers;
static char *bufs;
static size_t bufsize;

static void setup(struct server *s)
{
	int v = (int)rcvbuf;

	/* Flags of the byte-stream servers that mean nothing here: said once, not refused. */
	if (s->opt.framing != FRAMING_LEN32 || s->opt.nagle || s->opt.send_timeout)
		iolog("-f, --nagle and --send-timeout do not apply to UDP: a datagram is its own frame,"
		      " and nothing is queued for a peer");
	bufsize = s->opt.read_chunk ? s->opt.read_chunk : MAX_DGRAM;
	if (bufsize > MAX_DGRAM)
		bufsize = MAX_DGRAM;
	/* The kernel doubles the value (bookkeeping overhead) and clamps it to rmem_max. */
	if (rcvbuf && setsockopt(s->lfd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) < 0)
		die("setsockopt(SO_RCVBUF)");
	msgs = calloc((size_t)mmsg, sizeof(*msgs));
	iov = calloc((size_t)mmsg, sizeof(*iov));
	peers = calloc((size_t)mmsg, sizeof(*peers));
	bufs = malloc((size_t)mmsg * bufsize);
	if (!msgs || !iov || !peers || !bufs)
		die("malloc");
}

/* Point slot i at its buffer and sender address again (the kernel rewrites the lengths). */
static void arm(int i)
{
	iov[i] = (struct iovec){ bufs + (size_t)i * bufsize, bufsize };
	msgs[i].msg_hdr = (struct msghdr){ .msg_name = &peers[i], .msg_namelen = sizeof(peers[i]),
					   .msg_iov = &iov[i], .msg_iovlen = 1 };
	msgs[i].msg_len = 0;
}

/* Receive up to mmsg datagrams: how many, 0 when none is waiting. */
static int receive(void)
{
	int n;

	for (int i = 0; i < mmsg; i++)
		arm(i);
	if (mmsg == 1) {
		/* MSG_TRUNC in msg_flags: the datagram did not fit; the rest of it is gone. */
		ssize_t r = recvmsg(srv.lfd, &msgs[0].msg_hdr, MSG_DONTWAIT);

		n = r < 0 ? -1 : 1;
		if (r >= 0)
			msgs[0].msg_len = (unsigned)r;
	} else {
		n = recvmmsg(srv.lfd, msgs, (unsigned)mmsg, MSG_DONTWAIT, NULL);
	}
	tm_add(TM_READ_CALLS, 1);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			tm_add(TM_EAGAIN_RD, 1);   /* the queue is empty: back to ppoll() */
			return 0;
		}
		if (errno == EINTR)
			return 0;
		die(mmsg == 1 ? "recvmsg" : "recvmmsg");
	}
	turn_moved();
	for (int i = 0; i < n; i++) {
		tm_add(TM_BYTES_IN, msgs[i].msg_len);
		if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			tm_add(TM_TRUNCATED, 1);
			tm_log(EV_PROTO_ERROR, srv.lfd, 0, (int64_t)msgs[i].msg_len);
		}
	}
	tm_add(TM_FRAMES_IN, (uint64_t)n);   /* a datagram is a frame: nothing to cut */
	return n;
}

/* Echo datagrams 0..n-1 to their senders.  A full send buffer drops the echo: UDP promises nothing. */
static void echo(int n)
{
	int sent;

	for (int i = 0; i < n; i++)
		iov[i].iov_len = msgs[i].msg_len;   /* only what arrived (a cut datagram: its first part) */
	if (mmsg == 1)
		sent = sendmsg(srv.lfd, &msgs[0].msg_hdr, MSG_DONTWAIT) < 0 ? -1 : 1;
	else
		sent = sendmmsg(srv.lfd, msgs, (unsigned)n, MSG_DONTWAIT);
	tm_add(TM_WRITE_CALLS, 1);
	if (sent < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			tm_add(TM_EAGAIN_WR, 1);   /* no room: this echo is lost, nobody waits for it */
		else if (errno != ECONNREFUSED && errno != EINTR)
			die(mmsg == 1 ? "sendmsg" : "sendmmsg");
		return;                            /* ECONNREFUSED: an earlier echo hit a closed port */
	}
	turn_moved();
	for (int i = 0; i < sent; i++)
		tm_add(TM_BYTES_OUT, msgs[i].msg_len);
	tm_add(TM_FRAMES_OUT, (uint64_t)sent);
}

int main(int argc, char **argv)
{
	struct pollfd pfd;
	int n;

	server_start(&srv, &MODEL, argc, argv);
	pfd = (struct pollfd){ .fd = srv.lfd, .events = POLLIN };

	while (!server_stop) {
		n = ppoll(&pfd, 1, NULL, &srv.waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;     /* SIGINT/SIGTERM got in during the wait: the loop condition decides */
			die("ppoll");
		}
		turn_begin(n);
		turn_ready(srv.lfd, (uint32_t)pfd.revents);
		if (pause_ms)
			usleep((useconds_t)pause_ms * 1000);   /* busy elsewhere: the queue grows meanwhile */
		/* One socket for every client: read until it is empty (or the budget is spent). */
		for (int i = 0; i < BUDGET && (n = receive()) > 0; i++)
			echo(n);
		turn_end();
	}

	free(msgs);
	free(iov);
	free(peers);
	free(bufs);
	server_finish(&srv);
	return 0;
}
