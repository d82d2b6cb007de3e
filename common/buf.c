/*
 * buf.c — the growable byte buffer (see buf.h for the picture).
 */
#include "common/buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

void buf_init(struct buf *b)
{
	b->data = NULL;
	b->cap = 0;
	b->rd = b->wr = BUF_PREPEND;
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void buf_reset(struct buf *b)
{
	b->rd = b->wr = BUF_PREPEND;
}

/* Move the readable bytes back to just after the prepend area. */
static void buf_compact(struct buf *b)
{
	size_t len = buf_len(b);

	if (b->rd == BUF_PREPEND)
		return;
	if (len)
		memmove(b->data + BUF_PREPEND, b->data + b->rd, len);
	b->rd = BUF_PREPEND;
	b->wr = BUF_PREPEND + len;
}

int buf_reserve(struct buf *b, size_t n)
{
	size_t len = buf_len(b), room, need, cap;
	char *p;

	if (b->data && buf_space(b) >= n)
		return 0;
	/*
	 * Compact before growing: the space in front of rd is free too.  (After a
	 * buf_prepend() rd may be below BUF_PREPEND, so len can exceed cap - BUF_PREPEND.)
	 */
	room = b->cap > BUF_PREPEND ? b->cap - BUF_PREPEND : 0;
	if (b->data && room >= len && room - len >= n) {
		buf_compact(b);
		return 0;
	}
	need = BUF_PREPEND + len + n;
	if (need < n) {                     /* overflow */
		errno = ENOMEM;
		return -1;
	}
	cap = b->cap ? b->cap : BUF_PREPEND + BUF_INITIAL;
	while (cap < need)
		cap = cap * 2 > cap ? cap * 2 : need;
	p = realloc(b->data, cap);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	if (!b->data)
		b->rd = b->wr = BUF_PREPEND;
	b->data = p;
	b->cap = cap;
	buf_compact(b);                     /* now that there is room for the data at the front */
	return 0;
}

void buf_commit(struct buf *b, size_t n)
{
	b->wr += n;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (buf_reserve(b, n) < 0)
		return -1;
	memcpy(b->data + b->wr, p, n);
	b->wr += n;
	return 0;
}

int buf_prepend(struct buf *b, const void *p, size_t n)
{
	if (b->data && n <= b->rd) {
		b->rd -= n;
		memcpy(b->data + b->rd, p, n);
		return 0;
	}
	/* No room in front: make room by shifting the data up. */
	if (buf_reserve(b, n) < 0)
		return -1;
	memmove(b->data + b->rd + n, b->data + b->rd, buf_len(b));
	memcpy(b->data + b->rd, p, n);
	b->wr += n;
	return 0;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= buf_len(b))
		buf_reset(b);               /* empty: start again at the front, no memmove later */
	else
		b->rd += n;
}

void buf_shrink(struct buf *b, size_t keep)
{
	if (buf_len(b) == 0 && b->cap > BUF_PREPEND + keep) {
		free(b->data);
		buf_init(b);
	}
}

ssize_t buf_read_fd(struct buf *b, int fd, size_t max)
{
	char spill[BUF_SPILL];
	struct iovec iov[2];
	size_t space;
	ssize_t n;
	int iovcnt;

	if (!b->data && buf_reserve(b, BUF_INITIAL) < 0)
		return -1;
	space = buf_space(b);
	if (max && space > max)
		space = max;
	iov[0].iov_base = b->data + b->wr;
	iov[0].iov_len = space;
	iov[1].iov_base = spill;
	iov[1].iov_len = max ? max - space : sizeof(spill);
	if (iov[1].iov_len > sizeof(spill))
		iov[1].iov_len = sizeof(spill);
	iovcnt = iov[1].iov_len ? 2 : 1;
	n = readv(fd, iov, iovcnt);
	if (n <= 0)
		return n;
	if ((size_t)n <= space) {
		b->wr += (size_t)n;
	} else {
		/* The kernel had more than our free space: the rest sits in the spill area. */
		b->wr += space;
		if (buf_append(b, spill, (size_t)n - space) < 0)
			return -1;
	}
	return n;
}

ssize_t buf_write_fd(struct buf *b, int fd, size_t max, size_t *left)
{
	size_t len = buf_len(b);
	ssize_t n;

	if (max && len > max)
		len = max;
	n = len ? write(fd, b->data + b->rd, len) : 0;
	if (n > 0)
		buf_consume(b, (size_t)n);
	if (left)
		*left = buf_len(b);
	return n;
}
