/* setup.c — before the clock starts: threads, who drives which connection, connecting. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/net.h"
#include "common/telemetry.h"
#include "labs/tools/load/load.h"

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (!p)
		load_die("calloc");
	return p;
}

/* Blocking connect with a timeout (set-up, main thread).  Returns fd or -1. */
static int connect_one(char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = net_sockaddr(opt.host, opt.port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s%s", strerror(errno),
			 errno == EMFILE ? " (too many descriptors: see ulimit -n)" : "");
		return -1;
	}
	if (!opt.nagle)                      /* Nagle off: small writes leave at once */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		if (errno != EINPROGRESS)
			goto fail;
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int r;
		while ((r = poll(&pfd, 1, CONNECT_TIMEOUT_MS)) < 0 && errno == EINTR && !interrupted)
			;
		if (r == 0) {
			errno = ETIMEDOUT;
			snprintf(err, errlen, "connect %s: no answer in %d s (the server's accept"
				 " queue is full, or it is stopped)", server_addr,
				 CONNECT_TIMEOUT_MS / 1000);
			close(fd);
			return -1;
		}
		if (r < 0)
			goto fail;
		int e = 0;
		socklen_t len = sizeof(e);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len);
		if (e) {
			errno = e;
			goto fail;
		}
	}
	return fd;
fail:
	snprintf(err, errlen, "connect %s: %s%s", server_addr, strerror(errno),
		 errno == ECONNREFUSED ? " (is the server running, on that port?)" :
		 errno == EADDRNOTAVAIL ? " (out of local ports: too many connections in TIME_WAIT?)" : "");
	int saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * A refused connect is tried again, every 20 ms for a second: the server may still be
 * starting (`bin/echo-poll -p 7000 & bin/iolab-load -p 7000`), and on this busy 2-core
 * machine a refusal from a server that had already printed "listening on" was seen
 * now and then in benchmark runs.  Counted ("connect_retries" in --json); a server that
 * is really not there still fails after the second.
 */
uint64_t connect_retries;

static int connect_retrying(char *err, size_t errlen)
{
	uint64_t until = tm_now() + 1000000000ull;
	int fd;

	while ((fd = connect_one(err, errlen)) < 0 && errno == ECONNREFUSED && !interrupted && tm_now() < until) {
		connect_retries++;
		usleep(20000);
	}
	return fd;
}

/*
 * Roles and threads.  Connection 0 is the hog or the slow reader in those modes;
 * with two threads or more it gets the last thread to itself, so its flooding
 * does not steal the client CPU that measures the others.  Idle connections are
 * spread over every thread (they only need to be watched).
 */
static void assign(void)
{
	unsigned special = (opt.mode == MODE_HOG || opt.mode == MODE_SLOW);
	unsigned nwork = special && nworkers > 1 ? nworkers - 1 : nworkers;

	for (size_t i = 0; i < nconns_all; i++) {
		struct lconn *c = &conns[i];
		unsigned t;
		if (i < opt.conns) {
			c->role = ROLE_ECHO;
			if (special && i == 0)
				c->role = opt.mode == MODE_HOG ? ROLE_HOG : ROLE_SLOW;
			if (special && i == 0 && nworkers > 1)
				t = nworkers - 1;
			else
				t = (unsigned)((special && nworkers > 1 ? i - 1 : i) % nwork);
		} else {
			c->role = ROLE_IDLE;
			t = (unsigned)(i % nworkers);
		}
		struct worker *w = &workers[t];
		w->conn[w->nconn++] = c;
		c->worker = t;
		c->state = CS_DONE;          /* until connected */
		if (c->role == ROLE_ECHO && opt.rate > 0)
			w->sched[w->nsched++] = c;
		c->id = (uint32_t)i;
		c->fd = -1;
		c->quota = opt.messages ? opt.messages : UINT64_MAX;
		c->rng = mix64(opt.seed * 0x9e3779b97f4a7c15ULL + i + 1);
		c->cut_rng = mix64(c->rng ^ 0xc07c07c07ULL) | 1;   /* xorshift state: never 0 */
		wr_reset(c);
	}
	/* Open loop: thread t sends every nworkers-th slot of the global schedule. */
	double period = 1e9 / (opt.rate > 0 ? opt.rate : 1);
	unsigned ol_threads = 0;
	for (unsigned t = 0; t < nworkers; t++)
		ol_threads += workers[t].nsched > 0;
	for (unsigned t = 0, k = 0; t < nworkers; t++) {
		struct worker *w = &workers[t];
		w->ol_limit = 0;
		if (w->nsched == 0)
			continue;
		w->ol_interval = period * ol_threads;
		w->ol_offset = (uint64_t)(period * k++);
		w->ol_limit = opt.messages ? opt.messages * w->nsched : UINT64_MAX;
	}
}

static void register_conn(struct worker *w, struct lconn *c)
{
	struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &e) < 0)
		load_die("epoll_ctl(ADD)");
	c->events = e.events;
	c->state = CS_OPEN;
}

/* Threads, their epoll sets and histograms; then who drives which connection. */
void setup_workers(void)
{
	nworkers = opt.threads;
	workers = xcalloc(nworkers, sizeof(*workers));
	conns = xcalloc(nconns_all, sizeof(*conns));
	for (unsigned t = 0; t < nworkers; t++) {
		struct worker *w = &workers[t];
		w->idx = t;
		w->conn = xcalloc(nconns_all, sizeof(*w->conn));
		w->sched = xcalloc(opt.conns, sizeof(*w->sched));
		w->rbuf = xcalloc(1, RBUF_SIZE);
		w->st.lat = xcalloc(1, sizeof(struct hist));
		w->st.lat_others = xcalloc(1, sizeof(struct hist));
		w->st.lat_connect = xcalloc(1, sizeof(struct hist));
		hist_init(w->st.lat);
		hist_init(w->st.lat_others);
		hist_init(w->st.lat_connect);
		if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
			load_die("epoll_create1");
		if ((w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0)
			load_die("timerfd_create");
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };   /* NULL: the timer */
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->tfd, &e) < 0)
			load_die("epoll_ctl(ADD timerfd)");
	}
	assign();
}

/*
 * Connect everything before the clock starts.  Idle connections first, so in the
 * server they hold the low descriptors and select()/poll() must scan past them to
 * reach the active ones.  false (with r->error set) if one fails.
 */
bool connect_all(struct result *r)
{
	char err[256];

	for (size_t k = 0; k < nconns_all; k++) {
		size_t i = k < opt.idle ? opt.conns + k : k - opt.idle;
		struct lconn *c = &conns[i];
		if (opt.mode == MODE_CHURN && c->role == ROLE_ECHO)
			continue;                    /* churn slots connect in the loop */
		if (interrupted) {
			snprintf(r->error, sizeof(r->error), "interrupted while connecting");
			return false;
		}
		c->fd = connect_retrying(err, sizeof(err));
		if (c->fd < 0) {
			load_report(&workers[0].st, ERR_CONNECT, 1, "conn %zu: %s", i, err);
			snprintf(r->error, sizeof(r->error), "%s", err);
			return false;
		}
		register_conn(&workers[c->worker], c);
	}
	return true;
}
