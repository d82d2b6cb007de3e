/*
 * libevent-echo — the iolab echo protocol on libevent 2.1 (Debian's libevent), the
 * second yardstick for make bench.
 *
 * Written the way a libevent user writes an echo server: an evconnlistener, one
 * bufferevent per connection, whole frames moved from its input evbuffer to its
 * output evbuffer with evbuffer_remove_buffer (chains change hands, bytes are not
 * copied when a chain holds only whole frames).  Backpressure with the write
 * watermark: over --high-water unsent, reading stops until half of it has gone.
 *
 * Usage: libevent-echo [-p PORT] [-b ADDR] [-f len32|line|raw] [--max-frame B]
 *                      [--high-water B] [-q]       (--help for the details)
 * Try it: bin/libevent-echo -p 7000 &  bin/iolab-load -p 7000 -c 50 -t 2
 */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/framing.h"
#include "labs/tools/bench/peer.h"

struct conn {
	struct bufferevent  *bev;
	struct frame_decoder dec;
	bool                 paused;   /* unsent output over --high-water: not reading */
	bool                 eof;      /* peer half-closed: close once the output is sent */
	struct conn         *prev, *next;   /* every open connection, freed at exit */
};

static struct peer_opt opt;
static struct event_base *base;
static struct conn *conns;

static void conn_free(struct conn *c, const char *why)
{
	if (!opt.quiet)
		peer_log("connection closed: %s", why);
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);          /* BEV_OPT_CLOSE_ON_FREE: closes the socket */
	free(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev), *out = bufferevent_get_output(bev);
	size_t n = evbuffer_get_length(in), whole;
	const char *p;
	bool bad;

	/* frame_next() wants the bytes in one piece: usually they already are (no copy). */
	p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
	if (!p)
		return;
	whole = peer_frames(&c->dec, p, n, &bad);
	if (whole && evbuffer_remove_buffer(in, out, whole) != (int)whole) {
		conn_free(c, "out of memory");
		return;
	}
	if (bad) {
		conn_free(c, "protocol error (frame over --max-frame)");
		return;
	}
	if (opt.high_water && evbuffer_get_length(out) > opt.high_water) {
		c->paused = true;               /* the peer does not read: stop reading it */
		bufferevent_disable(bev, EV_READ);
		bufferevent_setwatermark(bev, EV_WRITE, opt.high_water / 2, 0);
	}
}

/* The output drained to the write low-watermark (0 unless paused). */
static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->eof && evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		conn_free(c, "end of stream");
		return;
	}
	if (c->paused) {
		c->paused = false;
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		bufferevent_enable(bev, EV_READ);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (what & BEV_EVENT_ERROR) {
		conn_free(c, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	} else if (what & BEV_EVENT_EOF) {
		/* Half-close: send what is queued, then close (a partial frame is dropped). */
		c->eof = true;
		c->paused = false;
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_free(c, "end of stream");
	}
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct conn *c = calloc(1, sizeof(*c));
	int one = 1;

	if (!c || !(c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE))) {
		peer_log("accept: out of memory");
		free(c);
		evutil_closesocket(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* libevent 2.1 reads at most 4096 bytes per call by default: a 4 KiB frame and its
	 * header would take two reads.  64 KiB, like libuv's read buffer and the iolab servers. */
	bufferevent_set_max_single_read(c->bev, 64 * 1024);
	frame_decoder_init(&c->dec, opt.framing, opt.max_frame);
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (!opt.quiet)
		peer_log("connection accepted");
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
	peer_log("accept: %s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(base);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct evconnlistener *l;
	struct event *sigint, *sigterm;
	char host[INET6_ADDRSTRLEN];
	int slen = sizeof(ss);
	char spec[128];
	unsigned port;

	peer_parse(&opt, argc, argv, "libevent-echo", "the iolab echo server on libevent (a benchmark peer)");
	signal(SIGPIPE, SIG_IGN);              /* a reset peer is an error from write, not a death */

	/* evutil parses "1.2.3.4" and "[::1]" alike (it refuses port 0: the port is set after). */
	snprintf(spec, sizeof(spec), strchr(opt.bind, ':') ? "[%s]" : "%s", opt.bind);
	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &slen) < 0) {
		fprintf(stderr, "libevent-echo: bad address '%s' (try --help)\n", opt.bind);
		return 2;
	}
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)opt.port);
	else
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)opt.port);
	if (!(base = event_base_new())) {
		fprintf(stderr, "libevent-echo: event_base_new failed\n");
		return 1;
	}
	l = evconnlistener_new_bind(base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
				    4096, (struct sockaddr *)&ss, slen);
	if (!l) {
		fprintf(stderr, "libevent-echo: listen on %s:%d: %s\n", opt.bind, opt.port,
			evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		event_base_free(base);
		return 1;
	}
	evconnlistener_set_error_cb(l, on_accept_error);
	sigint = evsignal_new(base, SIGINT, on_signal, NULL);
	sigterm = evsignal_new(base, SIGTERM, on_signal, NULL);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);

	getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &len);
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	printf("listening on %s:%u\n", host, port);
	fflush(stdout);

	event_base_dispatch(base);

	while (conns)
		conn_free(conns, "shutting down");
	event_free(sigint);
	event_free(sigterm);
	evconnlistener_free(l);
	event_base_free(base);
	return 0;
}
