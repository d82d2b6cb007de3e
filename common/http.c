/*
 * http.c — incremental HTTP/1.1 request parser and responder (see http.h).
 *
 * Reads top to bottom: the state names, the head scanner (where is the blank line?),
 * the head parser (request line, header fields), the responses, and http_serve(),
 * which drives one connection's input through IDLE -> REQ_LINE -> HEADERS -> BODY.
 */
#include "common/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/telemetry.h"

static const char *const http_state_names[HTTP_NSTATES] = {
	[HTTP_IDLE]     = "idle",
	[HTTP_REQ_LINE] = "request-line",
	[HTTP_HEADERS]  = "headers",
	[HTTP_BODY]     = "body",
	[HTTP_CLOSING]  = "closing",
};

const char *http_state_name(unsigned state)
{
	return state < HTTP_NSTATES ? http_state_names[state] : "?";
}

const char *const http_bug_help[] = {
	"http-fake-keepalive", "-f http: close after every answer without \"Connection: close\"",
	"http-silent-error",   "-f http: close on a malformed request without answering 400",
	NULL,
};

enum http_bug http_bug_parse(const char *name)
{
	for (int i = 0; name && http_bug_help[i]; i += 2)
		if (strcmp(name, http_bug_help[i]) == 0)
			return (enum http_bug)(i / 2 + 1);   /* the table is in enum order */
	return HTTP_BUG_NONE;
}

enum { M_OTHER, M_GET, M_HEAD, M_POST };
enum { R_NONE, R_PAGE, R_BYTES, R_ECHO, R_NOT_FOUND, R_ONLY_GET, R_ONLY_POST, R_BAD_N };

static const char PAGE[] =
	"<!doctype html>\n<title>iolab</title>\n"
	"<p>Hello from an iolab server. Try /bytes/N and POST /echo.</p>\n";

void http_conn_init(struct http_conn *h, int fd, size_t max_head, size_t max_body)
{
	memset(h, 0, sizeof(*h));
	h->state = HTTP_IDLE;
	h->fd = fd;
	h->max_head = max_head ? max_head : HTTP_MAX_HEAD;
	h->max_body = max_body ? max_body : HTTP_MAX_BODY;
}

/* ------------------------------------------------------------- head scanner */

/*
 * Search the head for its end, from where the last call stopped.  A line ends at
 * '\n' (a '\r' before it is part of the ending; a bare '\n' is accepted, RFC 9112 2.2
 * allows it); the head ends at the first empty line after the request line.
 * Returns the head length, or 0 when it is not complete yet.
 */
static size_t scan_head(struct http_conn *h, const char *p, size_t n)
{
	const char *nl;

	while (h->scanned < n && (nl = memchr(p + h->scanned, '\n', n - h->scanned))) {
		size_t end = (size_t)(nl - p), len = end - h->line;

		h->scanned = end + 1;
		if (h->state == HTTP_REQ_LINE) {
			h->state = HTTP_HEADERS;
		} else if (len == 0 || (len == 1 && p[h->line] == '\r')) {
			return end + 1;       /* the blank line */
		}
		h->line = end + 1;
	}
	h->scanned = n;
	return 0;
}

/* ---------------------------------------------------------------- head parser */

/* tchar (RFC 9110 5.6.2): the characters of a method or a field name. */
static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Length of [p, end) without its line ending ("\r\n" or "\n"). */
static size_t line_len(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t len = (size_t)(nl - p);

	return len && p[len - 1] == '\r' ? len - 1 : len;
}

/* The start of the line after the one at p (every line of a complete head ends in '\n'). */
static const char *next_line(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl + 1;
}

/* Does [p, p+n) equal the C string s, ignoring case? */
static bool eq_nocase(const char *p, size_t n, const char *s)
{
	return strlen(s) == n && strncasecmp(p, s, n) == 0;
}

/* Decimal digits only, no sign, no overflow past `max`.  -1 on anything else, -2 over max. */
static int parse_size(const char *p, size_t n, size_t max, size_t *v)
{
	size_t x = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (x > (max - (size_t)(p[i] - '0')) / 10)
			return -2;
		x = x * 10 + (size_t)(p[i] - '0');
	}
	*v = x;
	return 0;
}

/* Does the comma-separated list [p, p+n) contain the token `tok` (any case)? */
static bool list_has(const char *p, size_t n, const char *tok)
{
	size_t i = 0;

	while (i < n) {
		size_t s, e;

		while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
			i++;
		s = i;
		while (i < n && p[i] != ',')
			i++;
		e = i;
		while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t'))
			e--;
		if (e > s && eq_nocase(p + s, e - s, tok))
			return true;
	}
	return false;
}

/* The last element of a comma-separated list is `tok`? (Transfer-Encoding: gzip, chunked) */
static bool list_ends_with(const char *p, size_t n, const char *tok)
{
	size_t e = n, s;

	while (e > 0 && (p[e - 1] == ' ' || p[e - 1] == '\t'))
		e--;
	s = e;
	while (s > 0 && p[s - 1] != ',')
		s--;
	while (s < e && (p[s] == ' ' || p[s] == '\t'))
		s++;
	return eq_nocase(p + s, e - s, tok);
}

/* What the head said, for choosing the response. */
struct head {
	bool http10;
	bool expect_continue;
	const char *target;
	size_t target_len;
};

/* The route for a method and a target; sets h->arg for /bytes/N. */
static int route(struct http_conn *h, const char *t, size_t n)
{
	bool get = h->method == M_GET || h->method == M_HEAD;

	if (n == 1 && t[0] == '/')
		return get ? R_PAGE : R_ONLY_GET;
	if (n == 5 && memcmp(t, "/echo", 5) == 0)
		return h->method == M_POST ? R_ECHO : R_ONLY_POST;
	if (n > 7 && memcmp(t, "/bytes/", 7) == 0) {
		int r = parse_size(t + 7, n - 7, (size_t)HTTP_BYTES_MAX, &h->arg);

		if (r == -1)
			return R_NOT_FOUND;
		if (!get)
			return R_ONLY_GET;
		return r == -2 ? R_BAD_N : R_BYTES;
	}
	return R_NOT_FOUND;
}

/*
 * Parse a complete head [p, p+n).  Returns 0 and fills h (method, route, body_len,
 * keep_alive) and *hd, or the status of the error that ends the connection.
 */
static int parse_head(struct http_conn *h, const char *p, size_t n, struct head *hd)
{
	const char *end = p + n, *sp1, *sp2, *v;
	size_t len = line_len(p, end), m, hosts = 0;
	bool have_cl = false, te = false, te_chunked = false, conn_close = false, conn_ka = false;

	/* request-line = method SP request-target SP HTTP-version */
	sp1 = memchr(p, ' ', len);
	if (!sp1 || sp1 == p)
		return 400;
	m = (size_t)(sp1 - p);
	for (size_t i = 0; i < m; i++)
		if (!is_tchar((unsigned char)p[i]))
			return 400;
	sp2 = memchr(sp1 + 1, ' ', len - m - 1);
	if (!sp2 || sp2 == sp1 + 1)
		return 400;
	hd->target = sp1 + 1;
	hd->target_len = (size_t)(sp2 - hd->target);
	for (size_t i = 0; i < hd->target_len; i++)
		if ((unsigned char)hd->target[i] <= ' ' || hd->target[i] == 0x7f)
			return 400;
	if (hd->target[0] != '/')
		return 400;           /* only origin-form: no absolute URI, no "*" */
	v = sp2 + 1;
	if ((size_t)(p + len - v) != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' ||
	    v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
		return 400;
	if (v[5] != '1')
		return 505;           /* HTTP/2.0 or 0.9 spelled as text: not this protocol */
	hd->http10 = v[7] == '0';
	h->method = m == 3 && !memcmp(p, "GET", 3) ? M_GET : m == 4 && !memcmp(p, "HEAD", 4) ? M_HEAD :
		    m == 4 && !memcmp(p, "POST", 4) ? M_POST : M_OTHER;

	/* field-line = field-name ":" OWS field-value OWS */
	for (p = next_line(p, end); p < end; p = next_line(p, end)) {
		const char *colon, *val, *vend;

		len = line_len(p, end);
		if (len == 0)
			break;            /* the blank line */
		if (p[0] == ' ' || p[0] == '\t')
			return 400;   /* obs-fold: a recipient MAY reject it; we do */
		colon = memchr(p, ':', len);
		if (!colon || colon == p)
			return 400;
		for (const char *q = p; q < colon; q++)
			if (!is_tchar((unsigned char)*q))
				return 400;   /* includes "Name :" (RFC 9112 5.1: MUST reject) */
		val = colon + 1;
		vend = p + len;
		for (const char *q = val; q < vend; q++)
			if (((unsigned char)*q < ' ' && *q != '\t') || *q == 0x7f)
				return 400;   /* a bare CR or NUL in a value */
		while (val < vend && (*val == ' ' || *val == '\t'))
			val++;
		while (vend > val && (vend[-1] == ' ' || vend[-1] == '\t'))
			vend--;
		m = (size_t)(colon - p);
		if (eq_nocase(p, m, "content-length")) {
			size_t cl = 0;
			int r = parse_size(val, (size_t)(vend - val), SIZE_MAX, &cl);

			if (r == -1 || (have_cl && cl != h->body_len))
				return 400;   /* not a number, or two that disagree */
			if (r == -2)
				return 413;
			have_cl = true;
			h->body_len = cl;
		} else if (eq_nocase(p, m, "transfer-encoding")) {
			te = true;
			te_chunked = list_ends_with(val, (size_t)(vend - val), "chunked");
		} else if (eq_nocase(p, m, "connection")) {
			conn_close |= list_has(val, (size_t)(vend - val), "close");
			conn_ka |= list_has(val, (size_t)(vend - val), "keep-alive");
		} else if (eq_nocase(p, m, "host")) {
			hosts++;
		} else if (eq_nocase(p, m, "expect")) {
			hd->expect_continue = eq_nocase(val, (size_t)(vend - val), "100-continue");
		}
	}
	if (hosts > 1 || (hosts == 0 && !hd->http10))
		return 400;           /* RFC 9112 3.2: MUST answer 400 */
	if (te)
		return te_chunked ? 411 : 501;
	if (h->body_len > h->max_body)
		return 413;
	h->keep_alive = hd->http10 ? conn_ka && !conn_close : !conn_close;
	h->route = (uint8_t)route(h, hd->target, hd->target_len);
	return 0;
}

/* ------------------------------------------------------------------ responses */

static const char *reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 505: return "HTTP Version Not Supported";
	default:  return "Unknown";
	}
}

/* "Sun, 06 Nov 1994 08:49:37 GMT", formatted once a second per thread (the blocking
 * model serves from many threads).  time() is a vDSO call here: no syscall. */
static const char *http_date(void)
{
	static _Thread_local time_t last;
	static _Thread_local char text[40];
	time_t now = time(NULL);
	struct tm tm;

	if (now != last) {
		gmtime_r(&now, &tm);
		strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		last = now;
	}
	return text;
}

/*
 * Append a status line and headers for a body of `len` bytes.  conn: "close",
 * "keep-alive" (an HTTP/1.0 client that asked for it) or NULL (the 1.1 default).
 */
static int put_head(struct buf *out, int status, const char *type, size_t len,
		    const char *conn, const char *extra)
{
	char *p;
	int n;

	if (buf_reserve(out, 512) < 0)
		return -1;
	p = buf_tail(out);
	n = snprintf(p, 512, "HTTP/1.1 %d %s\r\nServer: iolab\r\nDate: %s\r\n"
		     "Content-Length: %zu\r\n%s%s%s%s%s%s\r\n",
		     status, reason(status), http_date(), len,
		     type ? "Content-Type: " : "", type ? type : "", type ? "\r\n" : "",
		     conn ? "Connection: " : "", conn ? conn : "", conn ? "\r\n" : "");
	if (n < 0 || n >= 512)
		return -1;
	buf_commit(out, (size_t)n);
	/* Extra header lines go before the blank line: back up over it. */
	if (extra) {
		out->wr -= 2;
		if (buf_append(out, extra, strlen(extra)) < 0 || buf_append(out, "\r\n\r\n", 4) < 0)
			return -1;
	}
	return 0;
}

/* N bytes of "abcdefghijklmnopqrstuvwxyz" repeated, written by doubling a first copy. */
static int put_pattern(struct buf *out, size_t n)
{
	char *d;
	size_t have;

	if (buf_reserve(out, n) < 0)
		return -1;
	d = buf_tail(out);
	for (have = 0; have < n && have < 26 * 64; have++)
		d[have] = (char)('a' + have % 26);
	while (have < n) {            /* `have` stays a multiple of 26: the pattern continues */
		size_t k = have < n - have ? have : n - have;

		memcpy(d + have, d, k);
		have += k;
	}
	buf_commit(out, n);
	return 0;
}

/* An error that ends the connection: a short text body, "Connection: close". */
static int put_error(struct buf *out, int status)
{
	char body[80];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, reason(status));

	if (put_head(out, status, "text/plain", (size_t)n, "close", NULL) < 0)
		return -1;
	return buf_append(out, body, (size_t)n);
}

/* The response to a complete, well-framed request (body at `body`). */
static int respond(struct http_conn *h, struct buf *out, const char *body)
{
	const char *conn = !h->keep_alive ? "close" : h->http10 ? "keep-alive" : NULL;
	bool head = h->method == M_HEAD;
	char msg[80];
	int n;

	switch (h->route) {
	case R_PAGE:
		if (put_head(out, 200, "text/html", sizeof(PAGE) - 1, conn, NULL) < 0)
			return -1;
		return head ? 0 : buf_append(out, PAGE, sizeof(PAGE) - 1);
	case R_BYTES:
		if (put_head(out, 200, "application/octet-stream", h->arg, conn, NULL) < 0)
			return -1;
		return head ? 0 : put_pattern(out, h->arg);
	case R_ECHO:
		if (put_head(out, 200, "application/octet-stream", h->body_len, conn, NULL) < 0)
			return -1;
		return buf_append(out, body, h->body_len);
	case R_ONLY_GET:
	case R_ONLY_POST:
		n = snprintf(msg, sizeof(msg), "405 %s\n", reason(405));
		if (put_head(out, 405, "text/plain", (size_t)n, conn,
			     h->route == R_ONLY_POST ? "Allow: POST" : "Allow: GET, HEAD") < 0)
			return -1;
		return head ? 0 : buf_append(out, msg, (size_t)n);
	case R_BAD_N:
		n = snprintf(msg, sizeof(msg), "400 /bytes/N: N is at most %u\n", HTTP_BYTES_MAX);
		break;
	default:
		n = snprintf(msg, sizeof(msg), "404 %s\n", reason(404));
		break;
	}
	if (put_head(out, h->route == R_BAD_N ? 400 : 404, "text/plain", (size_t)n, conn, NULL) < 0)
		return -1;
	return head ? 0 : buf_append(out, msg, (size_t)n);
}

/* ------------------------------------------------------------------- driver */

static void publish(const struct http_conn *h, uint64_t answered, uint64_t errors)
{
	struct tm_conn *s;

	if (h->fd < 0)
		return;
	tm_add(TM_REQUESTS, answered);
	tm_add(TM_HTTP_ERRORS, errors);
	if ((s = tm_slot(h->fd))) {
		tm_slot_begin(s);
		s->parse_state = (uint32_t)h->state + 1;   /* 0 stays "no parser" */
		tm_slot_end(s);
	}
}

/* Queue the error response that ends the connection. */
static int fail(struct http_conn *h, struct buf *in, struct buf *out, int status)
{
	h->error = status;
	h->state = HTTP_CLOSING;
	h->close_after = true;
	buf_consume(in, buf_len(in));  /* nothing after a request we could not frame is trusted */
	if (h->bug == HTTP_BUG_SILENT_ERROR)
		return 0;             /* BUG lab 22: the client sees EOF, not why */
	return put_error(out, status);
}

int http_serve(struct http_conn *h, struct buf *in, struct buf *out)
{
	uint64_t answered = 0, errors = 0;
	int rc = 0;

	for (;;) {
		const char *p = buf_peek(in);
		size_t n = buf_len(in);

		switch (h->state) {
		case HTTP_CLOSING:
			buf_consume(in, n);   /* after the last response: read and dropped */
			goto out;
		case HTTP_IDLE:
			/* A server SHOULD ignore empty lines before a request-line (RFC 9112 2.2):
			 * some clients send CRLF after a POST body. */
			if (n >= 1 && p[0] == '\n') {
				buf_consume(in, 1);
				continue;
			}
			if (n >= 2 && p[0] == '\r' && p[1] == '\n') {
				buf_consume(in, 2);
				continue;
			}
			if (n == 0 || (n == 1 && p[0] == '\r'))
				goto out;     /* nothing yet, or half an empty line */
			h->state = HTTP_REQ_LINE;
			h->scanned = h->line = 0;
			h->body_len = 0;
			continue;
		case HTTP_REQ_LINE:
		case HTTP_HEADERS: {
			struct head hd = { 0 };
			int status;

			h->head_len = scan_head(h, p, n < h->max_head ? n : h->max_head);
			if (!h->head_len) {
				if (n < h->max_head)
					goto out;   /* need more */
				/* The limit is reached with no blank line: say which part is too long. */
				rc = fail(h, in, out, h->state == HTTP_REQ_LINE ? 414 : 431);
				errors++, answered++;
				goto out;
			}
			status = parse_head(h, p, h->head_len, &hd);
			if (status) {
				rc = fail(h, in, out, status);
				errors++, answered++;
				goto out;
			}
			h->state = HTTP_BODY;
			h->http10 = hd.http10;
			/* The client waits for "100 Continue" before it sends a body it announced
			 * with Expect (curl does, for large POSTs): say it, unless the body is here. */
			if (hd.expect_continue && !hd.http10 && h->body_len > n - h->head_len &&
			    buf_append(out, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0) {
				rc = -1;
				goto out;
			}
			continue;
		}
		case HTTP_BODY:
			if (n - h->head_len < h->body_len)
				goto out;     /* need more */
			if (respond(h, out, p + h->head_len) < 0) {
				rc = -1;
				goto out;
			}
			answered++;
			if (h->route != R_PAGE && h->route != R_BYTES && h->route != R_ECHO)
				errors++;
			buf_consume(in, h->head_len + h->body_len);
			h->state = HTTP_IDLE;
			if (!h->keep_alive)
				h->state = HTTP_CLOSING;   /* "Connection: close" said in the answer */
			else if (h->bug == HTTP_BUG_FAKE_KEEPALIVE)
				h->state = HTTP_CLOSING;   /* BUG lab 22: the answer said nothing, yet we close */
			h->close_after = h->state == HTTP_CLOSING;
			continue;
		default:
			goto out;
		}
	}
out:
	h->requests += answered;
	publish(h, answered, errors);
	return rc < 0 ? -1 : (int)answered;
}
