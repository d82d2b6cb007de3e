/*
 * buf.h — the one byte buffer every iolab server uses (seed 002's design).
 *
 *   +-----------+--------------------+------------------+
 *   | prepend   |  readable bytes    |  writable space  |
 *   +-----------+--------------------+------------------+
 *   0        rd_idx              wr_idx               cap
 *
 * One contiguous allocation with a read index and a write index.  A small prepend
 * area (BUF_PREPEND bytes) in front lets a header be put before data without a copy.
 * When space runs out the buffer first compacts (moves the readable bytes back to
 * the front) and grows only if that is not enough.
 *
 * buf_read_fd() reads with readv() into the free space *and* a 64 KiB stack spill
 * area, so one call takes everything the kernel has even when the buffer is small;
 * what landed in the spill is appended afterwards.  buf_write_fd() writes the
 * readable bytes and reports what is left.
 *
 * Library code: returns a status, never exits, never prints.
 */
#ifndef IOLAB_BUF_H
#define IOLAB_BUF_H

#include <stddef.h>
#include <sys/types.h>

#define BUF_PREPEND   8             /* bytes kept free in front of the data */
#define BUF_INITIAL   1024          /* default first allocation (bytes after the prepend) */
#define BUF_SPILL     (64 * 1024)   /* stack spill area used by buf_read_fd() */

struct buf {
	char   *data;    /* the allocation, cap bytes; NULL until first use */
	size_t  cap;     /* size of data */
	size_t  rd;      /* first readable byte */
	size_t  wr;      /* first writable byte; readable = wr - rd */
};

void   buf_init(struct buf *b);                    /* empty, allocates lazily */
void   buf_free(struct buf *b);
static inline size_t buf_len(const struct buf *b)      { return b->wr - b->rd; }
static inline size_t buf_space(const struct buf *b)    { return b->cap > b->wr ? b->cap - b->wr : 0; }
static inline const char *buf_peek(const struct buf *b){ return b->data ? b->data + b->rd : ""; }
static inline char  *buf_tail(struct buf *b)           { return b->data + b->wr; }
/* Exchange two buffers, bytes and all, without copying a byte. */
static inline void   buf_swap(struct buf *a, struct buf *b) { struct buf t = *a; *a = *b; *b = t; }

/* Make room for n more bytes at the tail: compact first, grow only if needed. 0 or -1 (ENOMEM). */
int    buf_reserve(struct buf *b, size_t n);
int    buf_append(struct buf *b, const void *p, size_t n);
/* Put n bytes in front of the readable data, using the prepend area when it has room. */
int    buf_prepend(struct buf *b, const void *p, size_t n);
/* Mark n bytes written at buf_tail() (after buf_reserve()). */
void   buf_commit(struct buf *b, size_t n);
/* Drop n readable bytes from the front. */
void   buf_consume(struct buf *b, size_t n);
/* Drop everything; keeps the allocation. */
void   buf_reset(struct buf *b);
/* Release memory above `keep` bytes when the buffer is empty (after a burst). */
void   buf_shrink(struct buf *b, size_t keep);

/*
 * Read from fd: one readv() into [free space, 64 KiB stack spill], at most `max`
 * bytes (0 = no cap).  Returns bytes read, 0 at EOF, -1 with errno set (EAGAIN,
 * EINTR, ECONNRESET, ENOMEM...).
 */
ssize_t buf_read_fd(struct buf *b, int fd, size_t max);

/*
 * Write readable bytes to fd (at most `max`, 0 = all) with one write() call and
 * consume what was written.  Returns bytes written or -1 with errno set (EAGAIN,
 * EPIPE, ...); *left, if not NULL, gets the bytes still queued.
 */
ssize_t buf_write_fd(struct buf *b, int fd, size_t max, size_t *left);

#endif
