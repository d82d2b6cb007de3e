/*
 * uring.h — io_uring plumbing for echo-uring (lab 9): setting up the ring with the
 * cheapest flags this kernel takes, a provided-buffer ring, and saying why io_uring
 * is not there.  The model file keeps the lesson (what to submit, what a completion
 * means); this is the part any io_uring program writes the same way.
 * Needs liburing; only programs that call it link it.
 */
#ifndef IOLAB_URING_H
#define IOLAB_URING_H

#include <liburing.h>
#include <stdbool.h>

/*
 * io_uring_queue_init with SINGLE_ISSUER|DEFER_TASKRUN (6.1+), else COOP_TASKRUN
 * (5.19+), else no flags (plain: straight to no flags).  Returns 0 (and logs which
 * flags it got, unless -q) or -errno.
 */
int uring_setup(struct io_uring *ring, unsigned depth, bool plain);

/* A ring of n provided buffers of `size` bytes in group bgid (5.19+). */
struct uring_bufs {
	struct io_uring_buf_ring *br;
	char     *mem;
	unsigned  n, size;
};
/* 0, or -errno (the kernel has no buffer rings: then b is left empty). */
int  uring_bufs_setup(struct io_uring *ring, struct uring_bufs *b, unsigned n, unsigned size, int bgid);
/* Buffer `bid` is free again: hand it back to the kernel. */
void uring_bufs_recycle(struct uring_bufs *b, unsigned bid);
static inline char *uring_buf(const struct uring_bufs *b, unsigned bid)
{
	return b->mem + (size_t)bid * b->size;
}
void uring_bufs_free(struct uring_bufs *b);

/* A free SQE; when the submission queue is full, submit it first (counted in `submits`). */
struct io_uring_sqe *uring_sqe(struct io_uring *ring);

/* io_uring_setup failed with err: print why it probably did, and the fix, on stderr. */
void uring_explain(const char *prog, int err);

#endif
