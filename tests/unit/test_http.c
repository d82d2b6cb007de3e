/* Description: unit tests for common/http.c, the incremental HTTP/1.1 parser and
 * responder behind `-f http` — the routes; pipelined requests answered in order;
 * every error status (400, 411, 413, 414, 431, 501, 505) sent with "Connection:
 * close", the connection marked to close and what followed discarded; the limits
 * exactly at and one past; the keep-alive rules of HTTP/1.1 and 1.0; Expect:
 * 100-continue; the parse states; and property tests: a stream of requests cut at
 * every point, byte by byte and at random points gives the same responses.
 *
 * Usage: bin/tests/test_http [PATTERN]         (PATTERN: a cmocka glob, e.g. 'property_*')
 *        IOLAB_SEED=N bin/tests/test_http      (replay the random cuts with seed N)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/http.h"

#define TRIALS 500              /* random cuttings per property test */

static unsigned seed;

/* One connection's parser and its two buffers, as the server keeps them. */
struct peer {
	struct http_conn h;
	struct buf in, out;
	int answered;
};

static void peer_init(struct peer *p, size_t max_head, size_t max_body)
{
	http_conn_init(&p->h, -1, max_head, max_body);
	buf_init(&p->in);
	buf_init(&p->out);
	p->answered = 0;
}

static void peer_free(struct peer *p)
{
	buf_free(&p->in);
	buf_free(&p->out);
}

/* Bytes arrive: append them and let the parser answer what is complete. */
static int feed(struct peer *p, const char *s, size_t n)
{
	int r;

	assert_int_equal(buf_append(&p->in, s, n), 0);
	r = http_serve(&p->h, &p->in, &p->out);
	assert_true(r >= 0);
	p->answered += r;
	return r;
}

static int feed_str(struct peer *p, const char *s)
{
	return feed(p, s, strlen(s));
}

/* The output as a C string with every "Date: ...\r\n" line taken out (it changes each second). */
static char *output_without_date(const struct buf *b)
{
	size_t n = buf_len(b);
	const char *s = buf_peek(b);
	char *r = malloc(n + 1), *w = r;

	assert_non_null(r);
	for (size_t i = 0; i < n;) {
		if (n - i >= 6 && memcmp(s + i, "Date: ", 6) == 0 && (i == 0 || s[i - 1] == '\n')) {
			const char *nl = memchr(s + i, '\n', n - i);

			assert_non_null(nl);
			i = (size_t)(nl - s) + 1;
			continue;
		}
		*w++ = s[i++];
	}
	*w = 0;
	return r;
}

/* One parsed response: status, a header looked up by name, the body. */
struct resp {
	int status;
	char head[1024];
	const char *body;
	size_t body_len;
};

/* Parse the response at *off in the output; advance *off past it. */
static void next_response(const struct buf *b, size_t *off, struct resp *r)
{
	const char *s = buf_peek(b) + *off, *end;
	size_t n = buf_len(b) - *off, hl;
	const char *cl;

	end = memmem(s, n, "\r\n\r\n", 4);
	assert_non_null(end);
	hl = (size_t)(end - s) + 4;
	assert_true(hl < sizeof(r->head));
	memcpy(r->head, s, hl);
	r->head[hl] = 0;
	assert_int_equal(sscanf(r->head, "HTTP/1.1 %d ", &r->status), 1);
	cl = strstr(r->head, "Content-Length: ");
	r->body_len = cl ? strtoul(cl + 16, NULL, 10) : 0;
	if (r->status == 100)
		r->body_len = 0;
	assert_true(hl + r->body_len <= n);
	r->body = s + hl;
	*off += hl + r->body_len;
}

/* Where s occurs in the output (which is not NUL-terminated), or NULL. */
static const char *out_find(const struct buf *b, const char *s)
{
	return memmem(buf_peek(b), buf_len(b), s, strlen(s));
}

static bool has_header(const struct resp *r, const char *line)
{
	return strstr(r->head, line) != NULL;
}

/* ------------------------------------------------------------------- routes */

static void get_root_gives_the_page_and_keeps_the_connection(void **state)
{
	struct peer p;
	struct resp r;
	size_t off = 0;

	peer_init(&p, 0, 0);
	assert_int_equal(feed_str(&p, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 1);
	next_response(&p.out, &off, &r);
	assert_int_equal(r.status, 200);
	assert_true(has_header(&r, "Content-Type: text/html\r\n"));
	assert_true(has_header(&r, "\r\nDate: "));
	assert_false(has_header(&r, "Connection:"));   /* 1.1: keep-alive is the default, unsaid */
	assert_non_null(memmem(r.body, r.body_len, "iolab", 5));
	assert_int_equal(off, buf_len(&p.out));
	assert_false(p.h.close_after);
	assert_int_equal(p.h.state, HTTP_IDLE);
	assert_int_equal(buf_len(&p.in), 0);
	peer_free(&p);
}

static void get_bytes_gives_n_pattern_bytes(void **state)
{
	static const size_t sizes[] = { 0, 1, 26, 27, 1663, 1664, 1665, 100000 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct peer p;
		struct resp r;
		size_t off = 0;
		char req[100];

		peer_init(&p, 0, 0);
		snprintf(req, sizeof(req), "GET /bytes/%zu HTTP/1.1\r\nHost: x\r\n\r\n", sizes[i]);
		assert_int_equal(feed_str(&p, req), 1);
		next_response(&p.out, &off, &r);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.body_len, sizes[i]);
		for (size_t k = 0; k < r.body_len; k++)
			if (r.body[k] != (char)('a' + k % 26))
				fail_msg("/bytes/%zu: byte %zu is '%c'", sizes[i], k, r.body[k]);
		peer_free(&p);
	}
}

static void post_echo_returns_the_body(void **state)
{
	struct peer p;
	struct resp r;
	size_t off = 0;

	peer_init(&p, 0, 0);
	assert_int_equal(feed_str(&p, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello\r\n\0ab"), 0);
	/* strlen stopped at the NUL: the body is incomplete, nothing answered yet */
	assert_int_equal(p.h.state, HTTP_BODY);
	assert_int_equal(feed(&p, "\0ab", 3), 1);
	next_response(&p.out, &off, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 10);
	assert_memory_equal(r.body, "hello\r\n\0ab", 10);
	peer_free(&p);
}

static void head_has_the_get_length_and_no_body(void **state)
{
	struct peer p;
	struct resp r;
	size_t off = 0;

	peer_init(&p, 0, 0);
	assert_int_equal(feed_str(&p, "HEAD /bytes/500 HTTP/1.1\r\nHost: x\r\n\r\n"
				      "GET /bytes/3 HTTP/1.1\r\nHost: x\r\n\r\n"), 2);
	/* HEAD's Content-Length describes the GET body; no body follows it. */
	assert_non_null(out_find(&p.out, "Content-Length: 500\r\n"));
	off = (size_t)(out_find(&p.out, "\r\n\r\n") - buf_peek(&p.out)) + 4;
	next_response(&p.out, &off, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 3);
	assert_memory_equal(r.body, "abc", 3);
	peer_free(&p);
}

static void unknown_path_404_wrong_method_405_keep_the_connection(void **state)
{
	struct peer p;
	struct resp r;
	size_t off = 0;

	peer_init(&p, 0, 0);
	assert_int_equal(feed_str(&p,
		"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
		"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
		"DELETE /bytes/5 HTTP/1.1\r\nHost: x\r\n\r\n"
		"GET /bytes/x HTTP/1.1\r\nHost: x\r\n\r\n"
		"GET /bytes/99999999999999999999999 HTTP/1.1\r\nHost: x\r\n\r\n"
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 7);
	next_response(&p.out, &off, &r);
	assert_int_equal(r.status, 404);
	next_response(&p.out, &off, &r);
	assert_int_equal(r.status, 405);
	assert_true(has_header(&r, "Allow: POST\r\n"));
	next_response(&p.out, &off, &r);
	assert_int_equal(r.status, 405);
	assert_true(has_header(&r, "Allow: GET, HEAD\r\n"));
	next_response(&p.out, &off, &r);
	assert_int_equal(r.status, 405);
	next_response(&p.out, &off, &r);
	assert_int_equal(r.status, 404);
	next_response(&p.out, &off, &r);
	assert_int_equal(r.status, 400);           /* N over HTTP_BYTES_MAX: the request was framed fine */
	assert_false(has_header(&r, "Connection: close"));
	next_response(&p.out, &off, &r);
	assert_int_equal(r.status, 200);
	assert_false(p.h.close_after);
	peer_free(&p);
}

/* --------------------------------------------------------------- pipelining */

static void pipelined_requests_are_answered_in_order(void **state)
{
	struct peer p;
	struct resp r;
	size_t off = 0;

	peer_init(&p, 0, 0);
	assert_int_equal(feed_str(&p,
		"GET /bytes/1 HTTP/1.1\r\nHost: x\r\n\r\n"
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz"
		"GET /bytes/2 HTTP/1.1\r\nHost: x\r\n\r\n"
		"GET /bytes/4 HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/7 HT"), 4);
	next_response(&p.out, &off, &r);
	assert_memory_equal(r.body, "a", 1);
	next_response(&p.out, &off, &r);
	assert_memory_equal(r.body, "xyz", 3);
	next_response(&p.out, &off, &r);
	assert_memory_equal(r.body, "ab", 2);
	next_response(&p.out, &off, &r);
	assert_memory_equal(r.body, "abcd", 4);
	assert_int_equal(off, buf_len(&p.out));
	/* The fifth is half there: kept, in the request line. */
	assert_int_equal(p.h.state, HTTP_REQ_LINE);
	assert_int_equal(buf_len(&p.in), strlen("GET /bytes/7 HT"));
	assert_int_equal(feed_str(&p, "TP/1.1\r\nHost: x\r\n\r\n"), 1);
	next_response(&p.out, &off, &r);
	assert_int_equal(r.body_len, 7);
	assert_int_equal(p.h.requests, 5);
	peer_free(&p);
}

static void empty_lines_before_a_request_are_ignored(void **state)
{
	struct peer p;

	peer_init(&p, 0, 0);
	assert_int_equal(feed_str(&p, "\r\n\n\r"), 0);
	assert_int_equal(p.h.state, HTTP_IDLE);       /* half an empty line: wait */
	assert_int_equal(feed_str(&p, "\nGET / HTTP/1.1\nHost: x\n\n"), 1);   /* bare LF lines too */
	assert_int_equal(strncmp(buf_peek(&p.out), "HTTP/1.1 200 OK\r\n", 17), 0);
	peer_free(&p);
}

/* ------------------------------------------------------------ error statuses */

struct bad_case {
	const char *req;
	int status;
};

static const struct bad_case bad_cases[] = {
	{ "GARBAGE\r\n\r\n", 400 },
	{ "GET /\r\nHost: x\r\n\r\n", 400 },                            /* no version */
	{ "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400 },                  /* two spaces */
	{ "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400 },
	{ "GET x HTTP/1.1\r\nHost: x\r\n\r\n", 400 },                   /* not origin-form */
	{ "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400 },                   /* not a token */
	{ "GET / HTTX/1.1\r\nHost: x\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\n\r\n", 400 },                              /* 1.1 without Host */
	{ "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400 },        /* two Hosts */
	{ "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400 },                  /* space before ':' */
	{ "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", 400 },         /* bare CR in a value */
	{ "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400 },
	{ "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", 400 },
	{ "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400 },
	{ "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 411 },
	{ "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 411 },
	{ "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501 },
	{ "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n", 413 },
	{ "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413 },
	{ "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505 },
	{ "GET / HTTP/0.9\r\n\r\n", 505 },
};

#define SMALL_HEAD 256
#define SMALL_BODY 1024

/* Check an error answer: status, "Connection: close", the connection closing,
 * and a request that followed it never answered. */
static void expect_fatal(struct peer *p, int status)
{
	struct resp r;
	size_t off = 0;

	next_response(&p->out, &off, &r);
	if (r.status != status)
		fail_msg("expected %d, got %d", status, r.status);
	assert_true(has_header(&r, "Connection: close\r\n"));
	assert_int_equal(off, buf_len(&p->out));
	assert_true(p->h.close_after);
	assert_int_equal(p->h.error, status);
	assert_int_equal(p->h.state, HTTP_CLOSING);
	assert_int_equal(buf_len(&p->in), 0);
	/* Whatever comes after is read and dropped. */
	assert_int_equal(feed_str(p, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
	assert_int_equal(buf_len(&p->in), 0);
	assert_int_equal(off, buf_len(&p->out));
}

static void each_error_status_closes_after_its_response(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct peer p;
		char *two;

		/* Alone, and with a good request pipelined after it (never answered). */
		peer_init(&p, SMALL_HEAD, SMALL_BODY);
		assert_int_equal(feed_str(&p, bad_cases[i].req), 1);
		expect_fatal(&p, bad_cases[i].status);
		peer_free(&p);

		assert_true(asprintf(&two, "%sGET / HTTP/1.1\r\nHost: x\r\n\r\n", bad_cases[i].req) > 0);
		peer_init(&p, SMALL_HEAD, SMALL_BODY);
		assert_int_equal(feed_str(&p, two), 1);
		expect_fatal(&p, bad_cases[i].status);
		peer_free(&p);
		free(two);
	}
}

static void good_request_then_bad_one_answers_both(void **state)
{
	struct peer p;
	struct resp r;
	size_t off = 0;

	peer_init(&p, 0, 0);
	assert_int_equal(feed_str(&p, "GET /bytes/2 HTTP/1.1\r\nHost: x\r\n\r\nBAD\r\n\r\n"), 2);
	next_response(&p.out, &off, &r);
	assert_int_equal(r.status, 200);
	next_response(&p.out, &off, &r);
	assert_int_equal(r.status, 400);
	assert_true(p.h.close_after);
	peer_free(&p);
}

/* ------------------------------------------------------------------- limits */

/* A request whose head is exactly `len` bytes (padded with an X-Pad header). */
static char *head_of(size_t len)
{
	const char *a = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ", *z = "\r\n\r\n";
	size_t fixed = strlen(a) + strlen(z);
	char *s = malloc(len + 1);

	assert_true(len > fixed);
	assert_non_null(s);
	strcpy(s, a);
	memset(s + strlen(a), 'p', len - fixed);
	strcpy(s + len - strlen(z), z);
	return s;
}

static void head_of_exactly_max_is_accepted_one_more_is_431(void **state)
{
	struct peer p;
	char *s = head_of(SMALL_HEAD);

	peer_init(&p, SMALL_HEAD, SMALL_BODY);
	assert_int_equal(feed_str(&p, s), 1);
	assert_int_equal(strncmp(buf_peek(&p.out), "HTTP/1.1 200", 12), 0);
	peer_free(&p);
	free(s);

	/* One byte more, sent a byte at a time: refused when the max-th byte arrives and
	 * the head has not ended (it can no longer end within the limit). */
	s = head_of(SMALL_HEAD + 1);
	peer_init(&p, SMALL_HEAD, SMALL_BODY);
	for (size_t i = 0; i < SMALL_HEAD - 1; i++)
		assert_int_equal(feed(&p, s + i, 1), 0);
	assert_int_equal(p.h.state, HTTP_HEADERS);
	assert_int_equal(feed(&p, s + SMALL_HEAD - 1, 1), 1);
	expect_fatal(&p, 431);
	peer_free(&p);
	free(s);
}

static void long_request_line_is_414(void **state)
{
	struct peer p;
	char s[SMALL_HEAD + 2];

	memset(s, 'a', sizeof(s) - 1);
	memcpy(s, "GET /", 5);
	s[sizeof(s) - 1] = 0;
	peer_init(&p, SMALL_HEAD, SMALL_BODY);
	assert_int_equal(feed_str(&p, s), 1);
	expect_fatal(&p, 414);
	peer_free(&p);
}

static void body_of_exactly_max_is_accepted_one_more_is_413(void **state)
{
	struct peer p;
	struct resp r;
	size_t off = 0;
	char req[100], body[SMALL_BODY];

	memset(body, 'b', sizeof(body));
	snprintf(req, sizeof(req), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", SMALL_BODY);
	peer_init(&p, SMALL_HEAD, SMALL_BODY);
	assert_int_equal(feed_str(&p, req), 0);
	assert_int_equal(feed(&p, body, sizeof(body)), 1);
	next_response(&p.out, &off, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, SMALL_BODY);
	peer_free(&p);

	/* 413 is sent as soon as the head is complete: the body is not waited for. */
	snprintf(req, sizeof(req), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", SMALL_BODY + 1);
	peer_init(&p, SMALL_HEAD, SMALL_BODY);
	assert_int_equal(feed_str(&p, req), 1);
	expect_fatal(&p, 413);
	peer_free(&p);
}

static void bytes_limit_is_exact(void **state)
{
	struct peer p;
	struct resp r;
	size_t off = 0;
	char req[100];

	snprintf(req, sizeof(req), "GET /bytes/%u HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/%u HTTP/1.1\r\nHost: x\r\n\r\n",
		 HTTP_BYTES_MAX, HTTP_BYTES_MAX + 1);
	peer_init(&p, 0, 0);
	assert_int_equal(feed_str(&p, req), 2);
	next_response(&p.out, &off, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, HTTP_BYTES_MAX);
	assert_int_equal(r.body[HTTP_BYTES_MAX - 1], 'a' + (HTTP_BYTES_MAX - 1) % 26);
	next_response(&p.out, &off, &r);
	assert_int_equal(r.status, 400);
	peer_free(&p);
}

/* --------------------------------------------------------------- keep-alive */

struct ka_case {
	const char *req;
	bool keep;
	const char *conn_header;   /* what the response must say, or NULL: no Connection header */
};

static const struct ka_case ka_cases[] = {
	{ "GET / HTTP/1.1\r\nHost: x\r\n\r\n", true, NULL },
	{ "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false, "Connection: close" },
	{ "GET / HTTP/1.1\r\nHost: x\r\nconnection: Upgrade, CLOSE\r\n\r\n", false, "Connection: close" },
	{ "GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n", true, NULL },
	{ "GET / HTTP/1.0\r\n\r\n", false, "Connection: close" },
	{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true, "Connection: keep-alive" },
	{ "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true, "Connection: keep-alive" },
	{ "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false, "Connection: close" },
	{ "GET / HTTP/1.2\r\nHost: x\r\n\r\n", true, NULL },    /* a later 1.x minor is 1.1 to us */
};

static void keep_alive_rules_of_1_1_and_1_0(void **state)
{
	for (size_t i = 0; i < sizeof(ka_cases) / sizeof(ka_cases[0]); i++) {
		const struct ka_case *k = &ka_cases[i];
		struct peer p;
		struct resp r;
		size_t off = 0;

		peer_init(&p, 0, 0);
		assert_int_equal(feed_str(&p, k->req), 1);
		next_response(&p.out, &off, &r);
		assert_int_equal(r.status, 200);
		if (p.h.close_after == k->keep)
			fail_msg("case %zu: close_after %d", i, p.h.close_after);
		if (k->conn_header)
			assert_non_null(strstr(r.head, k->conn_header));
		else
			assert_null(strstr(r.head, "Connection:"));
		/* A second request: answered only when the connection was kept. */
		assert_int_equal(feed_str(&p, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), k->keep ? 1 : 0);
		assert_int_equal(p.h.state, k->keep ? HTTP_IDLE : HTTP_CLOSING);
		assert_int_equal(p.h.error, 0);
		peer_free(&p);
	}
}

/* ------------------------------------------------------- 100-continue, states */

static void expect_100_continue_before_the_body(void **state)
{
	struct peer p;
	struct resp r;
	size_t off = 0;

	peer_init(&p, 0, 0);
	assert_int_equal(feed_str(&p, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
				      "Content-Length: 4\r\n\r\n"), 0);
	next_response(&p.out, &off, &r);
	assert_int_equal(r.status, 100);
	assert_int_equal(off, buf_len(&p.out));
	assert_int_equal(feed_str(&p, "abcd"), 1);
	next_response(&p.out, &off, &r);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body, "abcd", 4);
	peer_free(&p);

	/* The body came with the head: no 100, straight to the answer. */
	peer_init(&p, 0, 0);
	off = 0;
	assert_int_equal(feed_str(&p, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
				      "Content-Length: 4\r\n\r\nabcd"), 1);
	next_response(&p.out, &off, &r);
	assert_int_equal(r.status, 200);
	peer_free(&p);
}

static void parse_states_follow_the_bytes(void **state)
{
	struct peer p;

	peer_init(&p, 0, 0);
	assert_int_equal(p.h.state, HTTP_IDLE);
	feed_str(&p, "PO");
	assert_int_equal(p.h.state, HTTP_REQ_LINE);
	feed_str(&p, "ST /echo HTTP/1.1\r\n");
	assert_int_equal(p.h.state, HTTP_HEADERS);
	feed_str(&p, "Host: x\r\nContent-Length: 2\r\n\r");
	assert_int_equal(p.h.state, HTTP_HEADERS);
	feed_str(&p, "\n");
	assert_int_equal(p.h.state, HTTP_BODY);
	feed_str(&p, "o");
	assert_int_equal(p.h.state, HTTP_BODY);
	assert_int_equal(feed_str(&p, "k"), 1);
	assert_int_equal(p.h.state, HTTP_IDLE);
	feed_str(&p, "BAD\r\n\r\n");
	assert_int_equal(p.h.state, HTTP_CLOSING);

	assert_string_equal(http_state_name(HTTP_IDLE), "idle");
	assert_string_equal(http_state_name(HTTP_REQ_LINE), "request-line");
	assert_string_equal(http_state_name(HTTP_HEADERS), "headers");
	assert_string_equal(http_state_name(HTTP_BODY), "body");
	assert_string_equal(http_state_name(HTTP_CLOSING), "closing");
	assert_string_equal(http_state_name(HTTP_NSTATES), "?");
	peer_free(&p);
}

/* The head is searched once: a byte-by-byte head scans each byte once in total. */
static void head_bytes_are_scanned_once(void **state)
{
	const char *req = "GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n";
	struct peer p;
	size_t last = 0;

	peer_init(&p, 0, 0);
	for (size_t i = 0; req[i]; i++) {
		feed(&p, req + i, 1);
		/* scanned never goes back: every call starts where the last stopped */
		assert_true(p.h.scanned >= last);
		assert_int_equal(p.h.scanned, i + 1);
		last = p.h.scanned;
	}
	peer_free(&p);
}

/* The broken variant's bugs do what --help says, and only when switched on. */
static void bugs_break_what_they_name(void **state)
{
	struct peer p;

	assert_int_equal(http_bug_parse("http-fake-keepalive"), HTTP_BUG_FAKE_KEEPALIVE);
	assert_int_equal(http_bug_parse("http-silent-error"), HTTP_BUG_SILENT_ERROR);
	assert_int_equal(http_bug_parse("et-no-drain"), HTTP_BUG_NONE);
	assert_int_equal(http_bug_parse(NULL), HTTP_BUG_NONE);

	peer_init(&p, 0, 0);
	p.h.bug = HTTP_BUG_FAKE_KEEPALIVE;
	assert_int_equal(feed_str(&p, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 1);
	assert_null(out_find(&p.out, "Connection:"));   /* says nothing ... */
	assert_true(p.h.close_after);                           /* ... and closes */
	peer_free(&p);

	peer_init(&p, 0, 0);
	p.h.bug = HTTP_BUG_SILENT_ERROR;
	assert_int_equal(feed_str(&p, "BAD\r\n\r\n"), 1);
	assert_int_equal(buf_len(&p.out), 0);                   /* no 400 */
	assert_true(p.h.close_after);
	assert_int_equal(p.h.error, 400);
	peer_free(&p);
}

/* --------------------------------------------------------------- properties */

/* Requests of every kind, pipelined, ending with a Connection: close and junk after it. */
static const char STREAM[] =
	"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789"
	"\r\n"
	"GET /bytes/100 HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n"
	"HEAD / HTTP/1.1\nHost: a\n\n"
	"GET /missing HTTP/1.1\r\nHost: a\r\n\r\n"
	"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"
	"POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\n\r\n\n"
	"GET /bytes/3000 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
	"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
#define STREAM_ANSWERS 8

/* Ends with a malformed request: the answers up to it, then 400, then nothing. */
static const char BAD_STREAM[] =
	"GET /bytes/5 HTTP/1.1\r\nHost: a\r\n\r\n"
	"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd"
	"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n"
	"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
#define BAD_STREAM_ANSWERS 3

/* Feed `s` in the pieces given by cuts[0..ncuts) (ascending offsets); return the output. */
static char *feed_cut(const char *s, size_t n, const size_t *cuts, size_t ncuts, int *answered,
		      bool *closed)
{
	struct peer p;
	size_t from = 0;
	char *r;

	peer_init(&p, 0, 0);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : n;

		feed(&p, s + from, to - from);
		from = to;
	}
	r = output_without_date(&p.out);
	*answered = p.answered;
	*closed = p.h.close_after;
	peer_free(&p);
	return r;
}

static void check_all_cuttings(const char *s, size_t n, int answers)
{
	int whole_n, k;
	bool whole_closed, closed;
	char *whole = feed_cut(s, n, NULL, 0, &whole_n, &whole_closed), *got;
	size_t cuts[64];

	assert_int_equal(whole_n, answers);
	assert_true(whole_closed);
	/* Every single cut point. */
	for (size_t c = 0; c <= n; c++) {
		got = feed_cut(s, n, &c, 1, &k, &closed);
		if (strcmp(got, whole) != 0 || k != whole_n || !closed)
			fail_msg("cut at %zu gives other responses", c);
		free(got);
	}
	/* One byte at a time. */
	{
		size_t *all = malloc(n * sizeof(*all));

		assert_non_null(all);
		for (size_t i = 0; i < n; i++)
			all[i] = i;
		got = feed_cut(s, n, all, n, &k, &closed);
		assert_string_equal(got, whole);
		free(got);
		free(all);
	}
	/* Random cuttings into up to 64 pieces. */
	for (int t = 0; t < TRIALS; t++) {
		size_t m = (size_t)rand_r(&seed) % 64, prev = 0;

		for (size_t i = 0; i < m; i++) {
			cuts[i] = prev + (size_t)rand_r(&seed) % (n - prev + 1);
			prev = cuts[i];
		}
		got = feed_cut(s, n, cuts, m, &k, &closed);
		if (strcmp(got, whole) != 0 || k != whole_n)
			fail_msg("random cutting (trial %d, %zu cuts) gives other responses", t, m);
		free(got);
	}
	free(whole);
}

static void property_every_cutting_gives_the_same_responses(void **state)
{
	check_all_cuttings(STREAM, sizeof(STREAM) - 1, STREAM_ANSWERS);
}

static void property_every_cutting_of_a_bad_stream_stops_at_the_400(void **state)
{
	int n;
	bool closed;
	size_t off = 0;
	struct buf b;
	char *out = feed_cut(BAD_STREAM, sizeof(BAD_STREAM) - 1, NULL, 0, &n, &closed);
	struct resp r;

	/* What the whole stream gives: 200, 200, 400 and nothing for the last request. */
	buf_init(&b);
	assert_int_equal(buf_append(&b, out, strlen(out)), 0);
	for (int i = 0; i < 3; i++)
		next_response(&b, &off, &r);
	assert_int_equal(r.status, 400);
	assert_int_equal(off, buf_len(&b));
	buf_free(&b);
	free(out);
	check_all_cuttings(BAD_STREAM, sizeof(BAD_STREAM) - 1, BAD_STREAM_ANSWERS);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(get_root_gives_the_page_and_keeps_the_connection),
		cmocka_unit_test(get_bytes_gives_n_pattern_bytes),
		cmocka_unit_test(post_echo_returns_the_body),
		cmocka_unit_test(head_has_the_get_length_and_no_body),
		cmocka_unit_test(unknown_path_404_wrong_method_405_keep_the_connection),
		cmocka_unit_test(pipelined_requests_are_answered_in_order),
		cmocka_unit_test(empty_lines_before_a_request_are_ignored),
		cmocka_unit_test(each_error_status_closes_after_its_response),
		cmocka_unit_test(good_request_then_bad_one_answers_both),
		cmocka_unit_test(head_of_exactly_max_is_accepted_one_more_is_431),
		cmocka_unit_test(long_request_line_is_414),
		cmocka_unit_test(body_of_exactly_max_is_accepted_one_more_is_413),
		cmocka_unit_test(bytes_limit_is_exact),
		cmocka_unit_test(keep_alive_rules_of_1_1_and_1_0),
		cmocka_unit_test(expect_100_continue_before_the_body),
		cmocka_unit_test(parse_states_follow_the_bytes),
		cmocka_unit_test(head_bytes_are_scanned_once),
		cmocka_unit_test(bugs_break_what_they_name),
		cmocka_unit_test(property_every_cutting_gives_the_same_responses),
		cmocka_unit_test(property_every_cutting_of_a_bad_stream_stops_at_the_400),
	};
	const char *s = getenv("IOLAB_SEED");

	seed = s && *s ? (unsigned)strtoul(s, NULL, 0) : (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
	print_message("seed=%u (replay: IOLAB_SEED=%u %s)\n", seed, seed, argv[0]);
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
