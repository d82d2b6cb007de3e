/*
 * peer.h — what the two benchmark peers (libuv-echo, libevent-echo) share: the
 * command line of an iolab server and the frame scan.  Everything else, the event
 * loop, the buffers and the writes, is each library's own.
 *
 * The peers speak exactly what the iolab servers speak: common/framing.c decides
 * where a frame ends, whole frames are echoed, a frame over --max-frame closes the
 * connection, a half-close is answered with what is left and then a close, and a
 * peer with --high-water bytes unsent is not read until half of it has gone.
 */
#ifndef IOLAB_BENCH_PEER_H
#define IOLAB_BENCH_PEER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/framing.h"

struct peer_opt {
	const char  *bind;         /* -b: 127.0.0.1 */
	int          port;         /* -p: 0 = a free port */
	enum framing framing;      /* -f: len32 */
	size_t       max_frame;    /* --max-frame: 1 MiB */
	size_t       high_water;   /* --high-water: stop reading with this much unsent (4 MiB) */
	bool         quiet;        /* -q: no line per connection */
};

/* Parse argv like an iolab server; --help prints and exits 0, a bad flag exits 2. */
void peer_parse(struct peer_opt *o, int argc, char **argv, const char *prog, const char *what);

/*
 * How many bytes at the front of p[0..n) are whole frames (to echo in one go).
 * *error is set when what follows them is a protocol error (close the connection).
 */
size_t peer_frames(struct frame_decoder *d, const char *p, size_t n, bool *error);

/* stderr, prefixed with the program name; unless -q for the per-connection lines. */
void peer_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern const char *peer_prog;

#endif
