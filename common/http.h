/*
 * http.h — a small HTTP/1.1 server side: parse requests incrementally, queue responses.
 *
 * What a server with `-f http` does with the bytes of one connection:
 *
 *   [CRLF...] request-line CRLF *( header-field CRLF ) CRLF [ body: Content-Length bytes ]
 *
 * http_serve() looks at what has arrived in `in`, answers every complete request
 * there (pipelined requests included) by appending its response to `out`, and
 * consumes it.  Between calls it keeps O(1) state: the parse state below, how far
 * the head was already searched for its blank line, and the parsed Content-Length.
 * So any split of the stream and any coalescing of requests give the same
 * responses, and no byte of a head is searched twice.  The head (request line and
 * headers) stays in `in` until it is complete; it is then parsed in one pass.
 *
 * Routes:   GET|HEAD /          a small fixed page
 *           GET|HEAD /bytes/N   N bytes "abc...zabc..." (N <= HTTP_BYTES_MAX)
 *           POST /echo          the request body back
 *           anything else       404, or 405 with Allow for a known path
 *
 * Errors that end the connection (the request cannot be framed, so nothing after it
 * can be trusted): 400 malformed, 411 chunked body, 413 body over the limit,
 * 414 request line over the limit, 431 head over the limit, 501 other transfer
 * coding, 505 HTTP major version other than 1.  The response says "Connection:
 * close", is queued like any other, and h->close_after asks the caller to read no
 * more and close once `out` has drained.
 *
 * Chunked request bodies are refused with 411 Length Required, not 501: the coding
 * is understood (a recipient MUST understand chunked to be HTTP/1.1, RFC 9112 7),
 * this server only declines to de-chunk, and 411 tells the client the fix (send
 * Content-Length), which a client that knows its body size can apply and retry.
 * Any other Transfer-Encoding gets 501 Not Implemented (RFC 9112 6.1).
 *
 * Keep-alive: HTTP/1.1 keeps the connection unless the request says
 * "Connection: close"; HTTP/1.0 closes unless it says "Connection: keep-alive".
 *
 * Library code: returns a status, never exits, never prints.  It counts requests
 * and errors in telemetry (TM_REQUESTS, TM_HTTP_ERRORS) and publishes the parse
 * state in the connection's slot (struct tm_conn.parse_state) when fd >= 0.
 */
#ifndef IOLAB_HTTP_H
#define IOLAB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define HTTP_MAX_HEAD   (8 * 1024)          /* request line + headers + blank line */
#define HTTP_MAX_BODY   (1024 * 1024)       /* default Content-Length limit (-> 413) */
#define HTTP_BYTES_MAX  (16u * 1024 * 1024) /* GET /bytes/N: largest N */

/* The parse state, as struct tm_conn.parse_state shows it.  Keep http_state_names[] in step. */
enum http_state {
	HTTP_IDLE = 0,     /* between requests: no byte of the next one yet */
	HTTP_REQ_LINE,     /* some of the request line, no end of line yet */
	HTTP_HEADERS,      /* request line complete, headers until the blank line */
	HTTP_BODY,         /* head parsed, waiting for Content-Length body bytes */
	HTTP_CLOSING,      /* last response queued: read no more, close once it is sent */
	HTTP_NSTATES
};

/* Deliberate bugs, for lab 22's broken variant: `--bug=NAME` on any model with -f http. */
enum http_bug {
	HTTP_BUG_NONE = 0,
	HTTP_BUG_FAKE_KEEPALIVE,   /* "http-fake-keepalive": close after every answer, yet not say so */
	HTTP_BUG_SILENT_ERROR,     /* "http-silent-error": on a malformed request, close without the 4xx */
};

struct http_conn {
	enum http_state state;
	enum http_bug bug;      /* HTTP_BUG_NONE unless a lab switched one on */
	int      fd;            /* telemetry slot to publish into, or -1 */
	size_t   max_head;      /* head limit (431/414 beyond) */
	size_t   max_body;      /* Content-Length limit (413 beyond) */
	size_t   scanned;       /* REQ_LINE/HEADERS: head bytes already searched for '\n' */
	size_t   line;          /* REQ_LINE/HEADERS: offset where the current line starts */
	size_t   head_len;      /* BODY: bytes of the head, blank line included */
	size_t   body_len;      /* BODY: Content-Length */
	uint8_t  route;         /* BODY: what to answer (internal) */
	uint8_t  method;        /* BODY: GET, HEAD, POST, other (internal) */
	size_t   arg;           /* BODY: N of /bytes/N */
	bool     http10;        /* BODY: an HTTP/1.0 request */
	bool     keep_alive;    /* BODY: this request lets the connection stay open */
	bool     close_after;   /* read no more; close when the queued output is sent */
	int      error;         /* status of the error that closes the connection, else 0 */
	uint64_t requests;      /* responses queued so far (errors included) */
};

/* fd: the connection's telemetry slot, or -1.  max_head/max_body: 0 = the defaults. */
void http_conn_init(struct http_conn *h, int fd, size_t max_head, size_t max_body);

/*
 * Answer every complete request at the front of `in`: append each response to `out`
 * and consume the request.  Returns the responses queued by this call (>= 0; an
 * error response counts), or -1 when out of memory (close at once).  After the call
 * h->close_after says the connection is finished: stop reading, close once `out`
 * has drained (input that arrives meanwhile is discarded).
 */
int http_serve(struct http_conn *h, struct buf *in, struct buf *out);

/* "http-fake-keepalive" -> HTTP_BUG_FAKE_KEEPALIVE ...; HTTP_BUG_NONE for NULL or another name. */
enum http_bug http_bug_parse(const char *name);
/* The bug names and what each does, for --help: {name, what} pairs, NULL-terminated. */
extern const char *const http_bug_help[];

/* "idle", "request-line", "headers", "body", "closing"; "?" out of range. */
const char *http_state_name(unsigned state);

#endif
