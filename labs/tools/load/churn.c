/* churn.c — -m churn: each slot connects (nonblocking), does one echo, closes, and again. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "common/net.h"
#include "common/telemetry.h"

#include "labs/tools/load/load.h"

/* Start a nonblocking connect for churn slot c; it completes with EPOLLOUT. */
void churn_connect(struct worker *w, struct lconn *c)
{
	struct sockaddr_storage ss;
	socklen_t sl = net_sockaddr(opt.host, opt.port, &ss);
	int one = 1;

	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		lc_fail(w, c, ERR_CONNECT, "socket: %s", strerror(errno));
		return;
	}
	if (!opt.nagle)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->state = CS_CONNECTING;
	c->connect_ns = tm_now();
	c->rx_in_msg = 0;
	c->out_off = c->out_len = 0;
	wr_reset(c);
	c->stopped_reading = false;
	if (connect(c->fd, (struct sockaddr *)&ss, sl) == 0) {
		c->events = 0;                   /* connected at once (it happens on loopback) */
		struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &e) < 0)
			load_die("epoll_ctl(ADD)");
		c->events = e.events;
		churn_connected(w, c, tm_now());
		return;
	}
	if (errno != EINPROGRESS) {          /* EINPROGRESS: the handshake goes on without us */
		lc_fail(w, c, ERR_CONNECT, "connect %s: %s", server_addr, strerror(errno));
		return;
	}
	struct epoll_event e = { .events = EPOLLOUT, .data.ptr = c };
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &e) < 0)
		load_die("epoll_ctl(ADD)");
	c->events = EPOLLOUT;
}

void churn_connected(struct worker *w, struct lconn *c, uint64_t now)
{
	c->state = CS_OPEN;
	w->st.connects++;
	hist_add(w->st.lat_connect, now - c->connect_ns);
	lc_gen_msg(c, now);                     /* one echo per connection */
	lc_flush(w, c);
}

/* The echo came back: close, and connect again unless the run is over. */
void churn_cycle_done(struct worker *w, struct lconn *c)
{
	lc_close(c, CS_DONE);
	if (!w->stopping && c->next_seq < c->quota)
		churn_connect(w, c);
}
