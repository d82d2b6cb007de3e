/*
 * libuv-echo — the iolab echo protocol on libuv (Debian's libuv1), a yardstick for
 * make bench: how fast is an event loop that someone else tuned for years?
 *
 * Written the way a libuv user writes an echo server: one loop, uv_read_start with
 * one shared read buffer (each read is decoded before the next one lands), whole
 * frames echoed with uv_try_write, and only what the socket did not take copied
 * into a uv_write request.  A partial frame waits in the connection's own buffer.
 *
 * Usage: libuv-echo [-p PORT] [-b ADDR] [-f len32|line|raw] [--max-frame B]
 *                   [--high-water B] [-q]          (--help for the details)
 * Try it: bin/libuv-echo -p 7000 &  bin/iolab-load -p 7000 -c 50 -t 2
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/framing.h"
#include "labs/tools/bench/peer.h"

struct conn {
	uv_tcp_t             tcp;      /* first: a uv_handle_t* is a struct conn* */
	struct frame_decoder dec;
	char                *in;       /* bytes of a frame not complete yet */
	size_t               in_len, in_cap;
	bool                 paused;   /* unsent output over --high-water: not reading */
};

struct write_req {
	uv_write_t req;
	char       data[];             /* the part of an echo the socket did not take at once */
};

static struct peer_opt opt;
static uv_loop_t *loop;
static uv_tcp_t server;
static uv_signal_t sigint, sigterm;
static char rbuf[64 * 1024];           /* every read lands here and is decoded at once */

static void on_closed(uv_handle_t *h)
{
	struct conn *c = (struct conn *)h;

	free(c->in);
	free(c);
}

static void conn_close(struct conn *c, const char *why)
{
	if (uv_is_closing((uv_handle_t *)&c->tcp))
		return;
	if (!opt.quiet)
		peer_log("connection closed: %s", why);
	uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	buf->base = rbuf;
	buf->len = sizeof(rbuf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void on_written(uv_write_t *req, int status)
{
	struct conn *c = req->handle->data;

	free(req);
	if (status < 0) {
		conn_close(c, uv_strerror(status));
		return;
	}
	/* Drained to half the high-water mark: read this peer again. */
	if (c->paused && c->tcp.write_queue_size <= opt.high_water / 2) {
		c->paused = false;
		uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	}
}

/* Echo n bytes: straight to the socket if nothing is queued, the rest in a request. */
static int echo(struct conn *c, char *p, size_t n)
{
	uv_buf_t b = uv_buf_init(p, (unsigned)n);
	struct write_req *w;
	int r;

	if (c->tcp.write_queue_size == 0) {
		r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
		if (r >= 0) {
			p += r;
			n -= (size_t)r;
		} else if (r != UV_EAGAIN) {
			return r;
		}
		if (n == 0)
			return 0;
	}
	w = malloc(sizeof(*w) + n);
	if (!w)
		return UV_ENOMEM;
	memcpy(w->data, p, n);
	b = uv_buf_init(w->data, (unsigned)n);
	r = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written);
	if (r < 0) {
		free(w);
		return r;
	}
	if (opt.high_water && c->tcp.write_queue_size > opt.high_water) {
		c->paused = true;               /* the peer does not read: stop reading it */
		uv_read_stop((uv_stream_t *)&c->tcp);
	}
	return 0;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	struct conn *c = req->handle->data;

	free(req);
	conn_close(c, "end of stream");
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	char *p;
	size_t len, whole;
	bool bad;
	int r;

	if (n == 0)
		return;                         /* EAGAIN: libuv reports it as 0 */
	if (n < 0) {
		uv_shutdown_t *req;

		if (n != UV_EOF || !(req = malloc(sizeof(*req)))) {
			conn_close(c, n == UV_EOF ? "out of memory" : uv_strerror((int)n));
			return;
		}
		/* Half-close: what is queued is still sent, then FIN, then close. */
		uv_read_stop(s);
		if (uv_shutdown(req, s, on_shutdown) < 0) {
			free(req);
			conn_close(c, "end of stream");
		}
		return;
	}
	if (c->in_len == 0) {
		p = buf->base;                  /* the common case: decode in place */
		len = (size_t)n;
	} else {
		if (c->in_len + (size_t)n > c->in_cap) {
			size_t cap = c->in_cap ? c->in_cap : 4096;
			char *q;

			while (cap < c->in_len + (size_t)n)
				cap *= 2;
			if (!(q = realloc(c->in, cap))) {
				conn_close(c, "out of memory");
				return;
			}
			c->in = q;
			c->in_cap = cap;
		}
		memcpy(c->in + c->in_len, buf->base, (size_t)n);
		c->in_len += (size_t)n;
		p = c->in;
		len = c->in_len;
	}
	whole = peer_frames(&c->dec, p, len, &bad);
	if (whole && (r = echo(c, p, whole)) < 0) {
		conn_close(c, uv_strerror(r));
		return;
	}
	if (bad) {
		conn_close(c, "protocol error (frame over --max-frame)");
		return;
	}
	/* Keep the partial frame for the next read. */
	len -= whole;
	if (p == c->in) {
		memmove(c->in, c->in + whole, len);
		c->in_len = len;
	} else if (len) {
		if (len > c->in_cap) {
			char *q = realloc(c->in, len > 4096 ? len : 4096);

			if (!q) {
				conn_close(c, "out of memory");
				return;
			}
			c->in = q;
			c->in_cap = len > 4096 ? len : 4096;
		}
		memcpy(c->in, p + whole, len);
		c->in_len = len;
	}
}

static void on_connection(uv_stream_t *srv, int status)
{
	struct conn *c;

	if (status < 0) {
		peer_log("accept: %s", uv_strerror(status));
		return;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		peer_log("accept: out of memory");
		return;
	}
	uv_tcp_init(loop, &c->tcp);
	c->tcp.data = c;
	frame_decoder_init(&c->dec, opt.framing, opt.max_frame);
	if (uv_accept(srv, (uv_stream_t *)&c->tcp) < 0) {
		uv_close((uv_handle_t *)&c->tcp, on_closed);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	if (!opt.quiet)
		peer_log("connection accepted");
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void close_any(uv_handle_t *h, void *arg)
{
	if (uv_is_closing(h))
		return;
	uv_close(h, h->data ? on_closed : NULL);   /* connections carry their struct conn */
}

/* SIGINT/SIGTERM: close every handle; the loop then runs out of work and returns. */
static void on_signal(uv_signal_t *sig, int signum)
{
	uv_walk(loop, close_any, NULL);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	char host[64];
	int len = sizeof(ss), r;

	peer_parse(&opt, argc, argv, "libuv-echo", "the iolab echo server on libuv (a benchmark peer)");
	signal(SIGPIPE, SIG_IGN);              /* a reset peer is an error from write, not a death */
	loop = uv_default_loop();

	if (strchr(opt.bind, ':'))
		r = uv_ip6_addr(opt.bind, opt.port, (struct sockaddr_in6 *)&ss);
	else
		r = uv_ip4_addr(opt.bind, opt.port, (struct sockaddr_in *)&ss);
	if (r < 0) {
		fprintf(stderr, "libuv-echo: bad address '%s': %s (try --help)\n", opt.bind, uv_strerror(r));
		return 2;
	}
	uv_tcp_init(loop, &server);
	if ((r = uv_tcp_bind(&server, (struct sockaddr *)&ss, 0)) < 0 ||
	    (r = uv_listen((uv_stream_t *)&server, 4096, on_connection)) < 0) {
		fprintf(stderr, "libuv-echo: listen on %s:%d: %s\n", opt.bind, opt.port, uv_strerror(r));
		return 1;
	}
	uv_tcp_getsockname(&server, (struct sockaddr *)&ss, &len);
	if (ss.ss_family == AF_INET6)
		uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof(host));
	else
		uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof(host));
	uv_signal_init(loop, &sigint);
	uv_signal_init(loop, &sigterm);
	uv_signal_start(&sigint, on_signal, SIGINT);
	uv_signal_start(&sigterm, on_signal, SIGTERM);

	printf("listening on %s:%u\n", host,
	       ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port));
	fflush(stdout);
	uv_run(loop, UV_RUN_DEFAULT);
	r = uv_loop_close(loop);
	if (r < 0)
		fprintf(stderr, "libuv-echo: uv_loop_close: %s\n", uv_strerror(r));
	return r < 0 ? 1 : 0;
}
