/*
 * uring.c — io_uring plumbing for lab 9 (see uring.h).
 */
#include "common/uring.h"
#include "common/server.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int uring_setup(struct io_uring *ring, unsigned depth, bool plain)
{
	static const struct { unsigned flags; const char *what; } tries[] = {
		{ IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, "SINGLE_ISSUER|DEFER_TASKRUN" },
		{ IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN" },
		{ 0, "no set-up flags" },
	};
	struct io_uring_params p;
	int r = -EINVAL;

	/* EINVAL: this kernel does not know these flags; try the next, down to none. */
	for (size_t i = plain ? 2 : 0; i < 3 && r == -EINVAL; i++) {
		memset(&p, 0, sizeof(p));
		p.flags = tries[i].flags;
		if ((r = io_uring_queue_init_params(depth, ring, &p)) == 0 && !server_quiet)
			iolog("ring set up with %s", tries[i].what);
	}
	return r;
}

int uring_bufs_setup(struct io_uring *ring, struct uring_bufs *b, unsigned n, unsigned size, int bgid)
{
	struct io_uring_buf_reg reg = { .ring_entries = n, .bgid = (uint16_t)bgid };
	void *mem;
	int r;

	memset(b, 0, sizeof(*b));
	/* The ring of buffer descriptors is ours, page-aligned, registered with the kernel. */
	if (posix_memalign(&mem, (size_t)sysconf(_SC_PAGESIZE), n * sizeof(struct io_uring_buf)))
		return -ENOMEM;
	reg.ring_addr = (uint64_t)(uintptr_t)mem;
	if ((r = io_uring_register_buf_ring(ring, &reg, 0)) < 0 || !(b->mem = malloc((size_t)n * size))) {
		free(mem);
		return r < 0 ? r : -ENOMEM;
	}
	b->br = mem;
	b->n = n;
	b->size = size;
	io_uring_buf_ring_init(b->br);
	for (unsigned i = 0; i < n; i++)
		io_uring_buf_ring_add(b->br, uring_buf(b, i), size, (unsigned short)i,
				      io_uring_buf_ring_mask(n), (int)i);
	io_uring_buf_ring_advance(b->br, (int)n);
	return 0;
}

void uring_bufs_recycle(struct uring_bufs *b, unsigned bid)
{
	io_uring_buf_ring_add(b->br, uring_buf(b, bid), b->size, (unsigned short)bid,
			      io_uring_buf_ring_mask(b->n), 0);
	io_uring_buf_ring_advance(b->br, 1);
}

void uring_bufs_free(struct uring_bufs *b)
{
	free(b->br);
	free(b->mem);
	memset(b, 0, sizeof(*b));
}

void uring_explain(const char *prog, int err)
{
	fprintf(stderr, "%s: io_uring_setup: %s\n", prog, strerror(err));
	if (err == EPERM || err == EACCES)
		fprintf(stderr, "  io_uring is switched off for this process.  Likely causes:\n"
			"  - sysctl kernel.io_uring_disabled is 2 (or 1 and you are not in kernel.io_uring_group);\n"
			"    fix: sysctl -w kernel.io_uring_disabled=0\n"
			"  - a container's seccomp profile blocks io_uring_setup (Docker's default does);\n"
			"    fix: run the container with a profile that allows io_uring_setup/enter/register\n");
	else if (err == ENOSYS)
		fprintf(stderr, "  no io_uring here: a kernel older than 5.1 or built without CONFIG_IO_URING,\n"
			"  or a seccomp profile that answers ENOSYS for io_uring_setup\n");
	else if (err == ENOMEM)
		fprintf(stderr, "  out of locked memory for the rings (kernels before 5.12 count them\n"
			"  against RLIMIT_MEMLOCK: try ulimit -l unlimited)\n");
}

struct io_uring_sqe *uring_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	int r;

	if (sqe)
		return sqe;
	if ((r = io_uring_submit(ring)) < 0) {
		errno = -r;
		die("io_uring_submit");
	}
	tm_add(TM_SUBMITS, (uint64_t)r);
	if (!(sqe = io_uring_get_sqe(ring)))
		die("io_uring_get_sqe");
	return sqe;
}
