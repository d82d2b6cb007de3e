/* Description: unit tests for common/buf.c, the byte buffer every server uses —
 * growth, compaction before growth, the prepend area, the readv() spill in
 * buf_read_fd(), short writes and EAGAIN in buf_write_fd(), the edge cases, and a
 * randomised comparison against a plain array (seed printed, IOLAB_SEED replays it).
 *
 * Usage: bin/tests/test_buf [PATTERN]      (PATTERN: a cmocka glob, e.g. 'read_fd*')
 *        IOLAB_SEED=N bin/tests/test_buf   (replay the random case with seed N)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"

static uint64_t seed;           /* printed once; every random case starts from it */
static uint64_t rng_state;

/* splitmix64: tiny, good enough, and the same sequence on every machine. */
static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t rng_below(size_t n)
{
	return n ? (size_t)(rng_next() % n) : 0;
}

/* Bytes whose value depends on their position, so a shifted copy never matches. */
static void fill_pattern(char *p, size_t n, size_t start)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)((start + i) * 131 + ((start + i) >> 8));
}

static char *pattern_alloc(size_t n)
{
	char *p = malloc(n ? n : 1);

	assert_non_null(p);
	fill_pattern(p, n, 0);
	return p;
}

/* Write all n bytes to a (nonblocking) fd that is known to have room. */
static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		assert_true(w > 0);
		p += w;
		n -= (size_t)w;
	}
}

/* A pipe that can hold `need` bytes without a reader (F_SETPIPE_SZ). */
static void big_pipe(int fds[2], size_t need)
{
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	if (fcntl(fds[1], F_SETPIPE_SZ, (int)need) < (int)need) {
		print_message("SKIP: cannot grow a pipe to %zu bytes (F_SETPIPE_SZ: %s); "
			      "raise /proc/sys/fs/pipe-max-size\n", need, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		skip();
	}
	assert_int_equal(fcntl(fds[1], F_SETFL, O_NONBLOCK), 0);
}

/* ------------------------------------------------------------------ basics */

static void init_is_empty_and_allocates_lazily(void **state)
{
	struct buf b;

	buf_init(&b);
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
	assert_int_equal(buf_len(&b), 0);
	assert_non_null(buf_peek(&b));          /* "" rather than NULL: safe to hand to memcmp */
	assert_int_equal(buf_peek(&b)[0], '\0');
	buf_consume(&b, 10);                    /* on an empty, unallocated buffer: no effect */
	assert_null(b.data);
	assert_int_equal(buf_len(&b), 0);
	buf_free(&b);                           /* free of a never-used buffer is fine */
	buf_free(&b);                           /* and idempotent */
	assert_null(b.data);
}

/* An unallocated buffer (new, freed, or shrunk) has no free space, not SIZE_MAX - 7. */
static void space_is_zero_without_an_allocation(void **state)
{
	struct buf b;
	size_t space;

	buf_init(&b);
	space = buf_space(&b);
	if (space != 0)
		print_message("error: buf_space() of a new buffer is %zu: cap 0 - wr %d wrapped around\n",
			      space, BUF_PREPEND);
	assert_int_equal(space, 0);

	assert_int_equal(buf_append(&b, "x", 1), 0);
	buf_free(&b);
	assert_int_equal(buf_space(&b), 0);

	assert_int_equal(buf_append(&b, "x", 1), 0);
	buf_consume(&b, 1);
	buf_shrink(&b, 0);
	assert_null(b.data);
	assert_int_equal(buf_space(&b), 0);
}

static void zero_length_append_changes_nothing(void **state)
{
	struct buf b;

	buf_init(&b);
	assert_int_equal(buf_append(&b, NULL, 0), 0);
	assert_null(b.data);                    /* no allocation for nothing */
	assert_int_equal(buf_len(&b), 0);

	assert_int_equal(buf_append(&b, "abc", 3), 0);
	char *data = b.data;
	size_t cap = b.cap;
	assert_int_equal(buf_append(&b, "xyz", 0), 0);
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	assert_int_equal(buf_len(&b), 3);
	assert_memory_equal(buf_peek(&b), "abc", 3);
	buf_free(&b);
}

static void empty_buffer_peek_after_consume(void **state)
{
	struct buf b;

	buf_init(&b);
	assert_int_equal(buf_append(&b, "hello", 5), 0);
	buf_consume(&b, 5);
	assert_int_equal(buf_len(&b), 0);
	assert_non_null(buf_peek(&b));
	/* Consuming everything resets the indexes: the whole allocation is free again. */
	assert_int_equal(b.rd, BUF_PREPEND);
	assert_int_equal(b.wr, BUF_PREPEND);
	assert_int_equal(buf_space(&b), b.cap - BUF_PREPEND);
	buf_free(&b);
}

static void consume_more_than_available_empties(void **state)
{
	struct buf b;

	buf_init(&b);
	assert_int_equal(buf_append(&b, "0123456789", 10), 0);
	buf_consume(&b, 3);
	assert_int_equal(buf_len(&b), 7);
	assert_memory_equal(buf_peek(&b), "3456789", 7);
	buf_consume(&b, 1000);
	assert_int_equal(buf_len(&b), 0);
	assert_int_equal(b.rd, BUF_PREPEND);
	buf_consume(&b, (size_t)-1);            /* SIZE_MAX must not wrap the indexes */
	assert_int_equal(buf_len(&b), 0);
	assert_int_equal(buf_append(&b, "ab", 2), 0);
	assert_memory_equal(buf_peek(&b), "ab", 2);
	buf_free(&b);
}

static void reserve_commit_writes_at_tail(void **state)
{
	struct buf b;

	buf_init(&b);
	assert_int_equal(buf_append(&b, "head:", 5), 0);
	assert_int_equal(buf_reserve(&b, 3000), 0);
	assert_true(buf_space(&b) >= 3000);
	char *big = pattern_alloc(3000);
	memcpy(buf_tail(&b), big, 3000);
	buf_commit(&b, 3000);
	assert_int_equal(buf_len(&b), 3005);
	assert_memory_equal(buf_peek(&b), "head:", 5);
	assert_memory_equal(buf_peek(&b) + 5, big, 3000);
	free(big);
	buf_free(&b);
}

static void reserve_refuses_sizes_that_overflow(void **state)
{
	struct buf b;

	buf_init(&b);
	errno = 0;
	assert_int_equal(buf_reserve(&b, SIZE_MAX), -1);
	assert_int_equal(errno, ENOMEM);
	assert_null(b.data);

	assert_int_equal(buf_append(&b, "abcdef", 6), 0);
	errno = 0;
	/* prepend + 6 readable + n wraps around SIZE_MAX: must be caught, not allocated small. */
	assert_int_equal(buf_reserve(&b, SIZE_MAX - 4), -1);
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(buf_len(&b), 6);
	assert_memory_equal(buf_peek(&b), "abcdef", 6);
	buf_free(&b);
}

/* ------------------------------------------------------------------ growth and compaction */

static void growth_keeps_bytes_and_doubles(void **state)
{
	const size_t total = 1 << 20;
	char *src = pattern_alloc(total);
	size_t off = 0, prev_cap = 0;
	int grows = 0;
	struct buf b;

	buf_init(&b);
	while (off < total) {
		size_t n = 1 + (off * 7 % 4093);    /* odd-sized chunks */

		if (n > total - off)
			n = total - off;
		assert_int_equal(buf_append(&b, src + off, n), 0);
		off += n;
		assert_true(b.cap >= BUF_PREPEND + buf_len(&b));
		if (b.cap != prev_cap) {
			/* Geometric growth: each new capacity at least doubles the last one. */
			if (prev_cap)
				assert_true(b.cap >= 2 * prev_cap);
			prev_cap = b.cap;
			grows++;
		}
	}
	assert_int_equal(buf_len(&b), total);
	assert_memory_equal(buf_peek(&b), src, total);
	/* 1 MiB from a 1 KiB start: about 10 doublings, never one per append. */
	assert_in_range(grows, 2, 16);
	assert_int_equal(b.rd, BUF_PREPEND);        /* the prepend area survived every realloc */
	free(src);
	buf_free(&b);
}

static void reserve_compacts_before_growing(void **state)
{
	const size_t fill = BUF_INITIAL - 24;       /* nearly full first allocation */
	char *src = pattern_alloc(2 * BUF_INITIAL);
	struct buf b;

	buf_init(&b);
	assert_int_equal(buf_append(&b, src, fill), 0);
	char *data = b.data;
	size_t cap = b.cap;
	assert_int_equal(cap, BUF_PREPEND + BUF_INITIAL);

	buf_consume(&b, fill - 100);                /* 100 bytes left, near the end */
	assert_true(buf_space(&b) < 800);           /* the tail alone is too small ... */
	assert_int_equal(buf_append(&b, src + fill, 800), 0);   /* ... but the front is free */

	assert_ptr_equal(b.data, data);             /* no realloc */
	assert_int_equal(b.cap, cap);               /* no growth */
	assert_int_equal(b.rd, BUF_PREPEND);        /* compacted to just after the prepend area */
	assert_int_equal(buf_len(&b), 900);
	assert_memory_equal(buf_peek(&b), src + fill - 100, 900);
	free(src);
	buf_free(&b);
}

static void reserve_grows_when_compaction_is_not_enough(void **state)
{
	char *src = pattern_alloc(4 * BUF_INITIAL);
	struct buf b;

	buf_init(&b);
	assert_int_equal(buf_append(&b, src, 1000), 0);
	size_t cap = b.cap;
	buf_consume(&b, 100);                       /* 900 left; 124 free after compaction */
	assert_int_equal(buf_append(&b, src + 1000, 500), 0);
	assert_true(b.cap > cap);
	assert_int_equal(buf_len(&b), 1400);
	assert_memory_equal(buf_peek(&b), src + 100, 1400);
	assert_int_equal(b.rd, BUF_PREPEND);
	free(src);
	buf_free(&b);
}

/* ------------------------------------------------------------------ prepend */

static void prepend_uses_prepend_area_without_copying(void **state)
{
	unsigned char hdr[4] = { 0, 0, 0, 7 };
	struct buf b;

	buf_init(&b);
	assert_int_equal(buf_append(&b, "payload", 7), 0);
	char *data = b.data;
	size_t cap = b.cap, wr = b.wr;

	assert_int_equal(buf_prepend(&b, hdr, sizeof(hdr)), 0);
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	assert_int_equal(b.wr, wr);                 /* the payload did not move */
	assert_int_equal(b.rd, BUF_PREPEND - sizeof(hdr));
	assert_int_equal(buf_len(&b), 11);
	assert_memory_equal(buf_peek(&b), "\0\0\0\7payload", 11);

	/* The rest of the area: exactly BUF_PREPEND bytes fit in front in total. */
	assert_int_equal(buf_prepend(&b, "ABCD", BUF_PREPEND - sizeof(hdr)), 0);
	assert_int_equal(b.rd, 0);
	assert_int_equal(b.wr, wr);
	assert_memory_equal(buf_peek(&b), "ABCD\0\0\0\7payload", 15);
	buf_free(&b);
}

static void prepend_without_room_shifts_the_data(void **state)
{
	char big[BUF_PREPEND + 5];
	struct buf b;

	memset(big, 'H', sizeof(big));
	buf_init(&b);
	assert_int_equal(buf_append(&b, "data", 4), 0);
	assert_int_equal(buf_prepend(&b, big, sizeof(big)), 0);   /* more than the area holds */
	assert_int_equal(buf_len(&b), sizeof(big) + 4);
	assert_memory_equal(buf_peek(&b), big, sizeof(big));
	assert_memory_equal(buf_peek(&b) + sizeof(big), "data", 4);

	/* Area already used up: a second prepend has to shift too. */
	assert_int_equal(buf_prepend(&b, "xy", 2), 0);
	assert_memory_equal(buf_peek(&b), "xy", 2);
	assert_memory_equal(buf_peek(&b) + 2, big, sizeof(big));
	assert_memory_equal(buf_peek(&b) + 2 + sizeof(big), "data", 4);
	buf_free(&b);
}

static void prepend_on_empty_and_after_consume(void **state)
{
	struct buf b;

	buf_init(&b);
	assert_int_equal(buf_prepend(&b, "abc", 3), 0);         /* never allocated before */
	assert_int_equal(buf_len(&b), 3);
	assert_memory_equal(buf_peek(&b), "abc", 3);
	buf_free(&b);

	/* Consumed bytes in front are reusable prepend room. */
	char *src = pattern_alloc(200);
	buf_init(&b);
	assert_int_equal(buf_append(&b, src, 200), 0);
	buf_consume(&b, 150);
	size_t wr = b.wr;
	assert_int_equal(buf_prepend(&b, "0123456789012345678901234567890123456789", 40), 0);
	assert_int_equal(b.wr, wr);
	assert_int_equal(buf_len(&b), 90);
	assert_memory_equal(buf_peek(&b), "0123456789012345678901234567890123456789", 40);
	assert_memory_equal(buf_peek(&b) + 40, src + 150, 50);
	free(src);
	buf_free(&b);
}

/*
 * The prepend area in use (rd < BUF_PREPEND) on a full buffer, then more data: the
 * bytes must stay inside the allocation.  This is what a len32 echo does (payload
 * in, header prepended, next frame appended).  Run in a child process, because on a
 * buffer that writes past its allocation the heap is no longer trustworthy.
 */
static void prepend_then_append_on_a_full_buffer_stays_in_bounds(void **state)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *src = malloc(3 * BUF_INITIAL), out[16];
		struct buf b;

		if (!src)
			_exit(10);
		fill_pattern(src, 3 * BUF_INITIAL, 0);
		buf_init(&b);
		if (buf_append(&b, src + 4, BUF_INITIAL) < 0 || buf_space(&b) != 0)
			_exit(11);                      /* exactly full: cap = prepend + data */
		if (buf_prepend(&b, src, 4) < 0 || b.rd != BUF_PREPEND - 4)
			_exit(12);                      /* header went into the prepend area */
		if (buf_append(&b, src + 4 + BUF_INITIAL, 100) < 0)
			_exit(13);
		if (b.wr > b.cap || b.rd > b.wr)
			_exit(14);                      /* indexes past the allocation */
		if (buf_len(&b) != BUF_INITIAL + 104 || memcmp(buf_peek(&b), src, buf_len(&b)))
			_exit(15);
		/* Same with reserve + commit instead of append. */
		buf_free(&b);
		if (buf_append(&b, src + 4, BUF_INITIAL) < 0 || buf_prepend(&b, src, 4) < 0)
			_exit(16);
		if (buf_reserve(&b, 8) < 0 || buf_space(&b) < 8 || b.wr > b.cap)
			_exit(17);
		memcpy(out, src + 4 + BUF_INITIAL, 8);
		memcpy(buf_tail(&b), out, 8);
		buf_commit(&b, 8);
		if (b.wr > b.cap || memcmp(buf_peek(&b), src, BUF_INITIAL + 12))
			_exit(18);
		buf_free(&b);
		free(src);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		print_message("error: child died of signal %d: buf_reserve() wrote past the allocation "
			      "(rd < BUF_PREPEND makes cap - BUF_PREPEND - len wrap)\n", WTERMSIG(status));
	else if (WEXITSTATUS(status) == 14 || WEXITSTATUS(status) == 17 || WEXITSTATUS(status) == 18)
		print_message("error: buf_append()/buf_reserve() after a prepend on a full buffer left wr past "
			      "cap (check %d): the \"compact\" moved the data beyond the allocation\n",
			      WEXITSTATUS(status));
	else if (WEXITSTATUS(status) && WEXITSTATUS(status) < 10)
		print_message("error: child stopped by a sanitizer (exit %d): see its report above\n",
			      WEXITSTATUS(status));
	else if (WEXITSTATUS(status))
		print_message("error: child failed check %d (see the _exit() codes)\n", WEXITSTATUS(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ------------------------------------------------------------------ shrink */

static void shrink_releases_memory_only_when_empty(void **state)
{
	char *src = pattern_alloc(256 * 1024);
	struct buf b;

	buf_init(&b);
	assert_int_equal(buf_append(&b, src, 256 * 1024), 0);
	size_t cap = b.cap;

	buf_shrink(&b, 4096);                       /* not empty: must keep everything */
	assert_int_equal(b.cap, cap);
	assert_int_equal(buf_len(&b), 256 * 1024);
	assert_memory_equal(buf_peek(&b), src, 256 * 1024);

	buf_consume(&b, 256 * 1024);
	buf_shrink(&b, 4096);                       /* empty after a burst: released */
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
	assert_int_equal(buf_len(&b), 0);

	assert_int_equal(buf_append(&b, "again", 5), 0);  /* usable afterwards */
	assert_memory_equal(buf_peek(&b), "again", 5);
	buf_consume(&b, 5);
	cap = b.cap;
	buf_shrink(&b, cap);                        /* small enough already: kept */
	assert_int_equal(b.cap, cap);
	assert_non_null(b.data);
	free(src);
	buf_free(&b);
}

/* ------------------------------------------------------------------ buf_read_fd */

static void read_fd_spill_takes_everything_in_one_call(void **state)
{
	const size_t small = 20000;
	char *src = pattern_alloc(small);
	struct buf b;
	int fds[2];

	big_pipe(fds, 256 * 1024);
	write_all(fds[1], src, small);

	buf_init(&b);
	assert_int_equal(buf_reserve(&b, 1), 0);
	size_t space = buf_space(&b);
	assert_true(space < small);                 /* the buffer alone could not take it */

	assert_int_equal(buf_read_fd(&b, fds[0], 0), (ssize_t)small);
	assert_int_equal(buf_len(&b), small);
	assert_memory_equal(buf_peek(&b), src, small);

	/* Nothing left in the pipe: one call really took all of it. */
	assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	errno = 0;
	assert_int_equal(buf_read_fd(&b, fds[0], 0), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(buf_len(&b), small);       /* EAGAIN leaves the buffer alone */

	close(fds[0]);
	close(fds[1]);
	free(src);
	buf_free(&b);
}

static void read_fd_spill_is_bounded_by_free_space_plus_64k(void **state)
{
	const size_t total = 100000;                /* more than free space + BUF_SPILL */
	char *src = pattern_alloc(total);
	struct buf b;
	int fds[2];

	big_pipe(fds, 256 * 1024);
	write_all(fds[1], src, total);

	buf_init(&b);
	assert_int_equal(buf_reserve(&b, 1), 0);
	size_t space = buf_space(&b);
	assert_true(space + BUF_SPILL < total);

	ssize_t n1 = buf_read_fd(&b, fds[0], 0);
	assert_int_equal(n1, (ssize_t)(space + BUF_SPILL));
	ssize_t n2 = buf_read_fd(&b, fds[0], 0);
	assert_int_equal(n2, (ssize_t)(total - space - BUF_SPILL));
	assert_int_equal(buf_len(&b), total);
	assert_memory_equal(buf_peek(&b), src, total);

	close(fds[1]);
	assert_int_equal(buf_read_fd(&b, fds[0], 0), 0);          /* EOF */
	assert_int_equal(buf_len(&b), total);
	close(fds[0]);
	free(src);
	buf_free(&b);
}

static void read_fd_respects_max(void **state)
{
	const size_t total = 200000;
	char *src = pattern_alloc(total);
	size_t got = 0;
	struct buf b;
	int fds[2];

	big_pipe(fds, 256 * 1024);
	write_all(fds[1], src, total);
	buf_init(&b);
	assert_int_equal(buf_reserve(&b, 1), 0);
	size_t space = buf_space(&b);

	/* max below the free space: no spill at all. */
	assert_int_equal(buf_read_fd(&b, fds[0], 300), 300);
	got += 300;
	/* max above the free space: free space + spill, exactly max. */
	space = buf_space(&b);
	assert_true(space < 5000);
	assert_int_equal(buf_read_fd(&b, fds[0], 5000), 5000);
	got += 5000;
	/* max above free space + spill: the spill size is the limit. */
	space = buf_space(&b);
	assert_int_equal(buf_read_fd(&b, fds[0], total), (ssize_t)(space + BUF_SPILL));
	got += space + BUF_SPILL;
	/* max = 1: one byte. */
	assert_int_equal(buf_read_fd(&b, fds[0], 1), 1);
	got += 1;

	assert_int_equal(buf_len(&b), got);
	assert_memory_equal(buf_peek(&b), src, got);
	close(fds[0]);
	close(fds[1]);
	free(src);
	buf_free(&b);
}

static void read_fd_into_a_full_buffer_spills(void **state)
{
	char *src = pattern_alloc(3000);
	struct buf b;
	int fds[2];

	big_pipe(fds, 64 * 1024);
	buf_init(&b);
	assert_int_equal(buf_append(&b, src, BUF_INITIAL), 0);  /* exactly full */
	assert_int_equal(buf_space(&b), 0);
	write_all(fds[1], src + BUF_INITIAL, 3000 - BUF_INITIAL);
	assert_int_equal(buf_read_fd(&b, fds[0], 0), (ssize_t)(3000 - BUF_INITIAL));
	assert_int_equal(buf_len(&b), 3000);
	assert_memory_equal(buf_peek(&b), src, 3000);
	close(fds[0]);
	close(fds[1]);
	free(src);
	buf_free(&b);
}

/* ------------------------------------------------------------------ buf_write_fd */

/* A unix stream pair whose sending side takes little at a time and never blocks. */
static void small_socketpair(int sv[2])
{
	int sz = 4096;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
}

/* Read everything the peer has queued right now; returns the byte count. */
static size_t drain(int fd, char *out, size_t room)
{
	size_t got = 0;

	while (got < room) {
		ssize_t r = read(fd, out + got, room - got);

		if (r > 0) {
			got += (size_t)r;
			assert_true(got <= room);
			continue;
		}
		assert_int_equal(r, -1);
		assert_true(errno == EAGAIN || errno == EINTR);
		if (errno == EAGAIN)
			break;
	}
	return got;
}

static void write_fd_short_write_reports_left(void **state)
{
	const size_t total = 512 * 1024;
	char *src = pattern_alloc(total);
	char *dst = malloc(total);
	size_t left = 12345, written = 0, got = 0;
	struct buf b;
	int sv[2], i;

	assert_non_null(dst);
	small_socketpair(sv);
	buf_init(&b);
	assert_int_equal(buf_append(&b, src, total), 0);

	ssize_t n = buf_write_fd(&b, sv[0], 0, &left);
	assert_true(n > 0);
	assert_true((size_t)n < total);            /* the small send buffer cut it short */
	written += (size_t)n;
	assert_int_equal(left, total - written);
	assert_int_equal(buf_len(&b), left);
	assert_memory_equal(buf_peek(&b), src + written, left);

	/* Keep writing until the socket says EAGAIN; what is left must stay queued. */
	for (i = 0; i < 1000; i++) {
		errno = 0;
		n = buf_write_fd(&b, sv[0], 0, &left);
		if (n < 0)
			break;
		written += (size_t)n;
		assert_int_equal(left, total - written);
	}
	assert_int_equal(n, -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(left, total - written);
	assert_int_equal(buf_len(&b), left);
	assert_true(left > 0);

	/* The peer got exactly the prefix, in order; then finish the job in turns. */
	got = drain(sv[1], dst, total);
	assert_int_equal(got, written);
	assert_memory_equal(dst, src, got);
	for (i = 0; i < 100000 && buf_len(&b); i++) {
		n = buf_write_fd(&b, sv[0], 0, &left);
		assert_true(n > 0 || (n < 0 && errno == EAGAIN));
		got += drain(sv[1], dst + got, total - got);
	}
	assert_int_equal(left, 0);
	got += drain(sv[1], dst + got, total - got);
	assert_int_equal(got, total);
	assert_memory_equal(dst, src, total);

	close(sv[0]);
	close(sv[1]);
	free(src);
	free(dst);
	buf_free(&b);
}

static void write_fd_max_empty_and_epipe(void **state)
{
	char out[16];
	size_t left = 99;
	struct buf b;
	int sv[2];

	small_socketpair(sv);
	buf_init(&b);

	/* Empty buffer: nothing to do, 0 written, nothing left. */
	assert_int_equal(buf_write_fd(&b, sv[0], 0, &left), 0);
	assert_int_equal(left, 0);

	assert_int_equal(buf_append(&b, "0123456789abcdef", 16), 0);
	assert_int_equal(buf_write_fd(&b, sv[0], 10, &left), 10);       /* max honoured */
	assert_int_equal(left, 6);
	assert_memory_equal(buf_peek(&b), "abcdef", 6);
	assert_int_equal(read(sv[1], out, sizeof(out)), 10);
	assert_memory_equal(out, "0123456789", 10);
	assert_int_equal(buf_write_fd(&b, sv[0], 0, NULL), 6);          /* left may be NULL */
	assert_int_equal(buf_len(&b), 0);
	assert_int_equal(read(sv[1], out, sizeof(out)), 6);

	/* Peer gone: -1/EPIPE (SIGPIPE is ignored in main), bytes still queued. */
	close(sv[1]);
	assert_int_equal(buf_append(&b, "lost?", 5), 0);
	errno = 0;
	assert_int_equal(buf_write_fd(&b, sv[0], 0, &left), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(left, 5);
	assert_memory_equal(buf_peek(&b), "lost?", 5);
	close(sv[0]);
	buf_free(&b);
}

/* ------------------------------------------------------------------ random model check */

/*
 * Random appends, consumes, prepends, reserve+commit, resets and shrinks, each
 * mirrored on a plain array; after every step the two must hold the same bytes and
 * the indexes must be sane.  Also checks "compact before grow" on every append.
 */
static void random_operations_match_a_plain_array(void **state)
{
	const size_t limit = 256 * 1024;
	char *model = malloc(limit + 8192), *tmp = malloc(8192);
	size_t mlen = 0, counter = 0;
	struct buf b;

	assert_non_null(model);
	assert_non_null(tmp);
	rng_state = seed;
	buf_init(&b);
	for (int step = 0; step < 20000; step++) {
		unsigned op = (unsigned)rng_below(100);
		size_t n;

		if (op < 40) {                                  /* append */
			n = rng_below(8) ? rng_below(300) : rng_below(8192);
			if (mlen + n > limit)
				n = 0;
			fill_pattern(tmp, n, counter);
			counter += n;
			size_t cap = b.cap;
			char *data = b.data;
			size_t len = buf_len(&b);
			bool fits = data && cap - BUF_PREPEND >= len && cap - BUF_PREPEND - len >= n;
			assert_int_equal(buf_append(&b, tmp, n), 0);
			if (fits) {                             /* compaction had to be enough */
				assert_int_equal(b.cap, cap);
				assert_ptr_equal(b.data, data);
			}
			memcpy(model + mlen, tmp, n);
			mlen += n;
		} else if (op < 75) {                           /* consume, sometimes too much */
			n = rng_below(mlen + 20);
			buf_consume(&b, n);
			if (n > mlen)
				n = mlen;
			memmove(model, model + n, mlen - n);
			mlen -= n;
		} else if (op < 85) {                           /* prepend */
			n = rng_below(3 * BUF_PREPEND);
			if (mlen + n > limit)
				n = 0;
			fill_pattern(tmp, n, counter);
			counter += n;
			assert_int_equal(buf_prepend(&b, tmp, n), 0);
			memmove(model + n, model, mlen);
			memcpy(model, tmp, n);
			mlen += n;
		} else if (op < 95) {                           /* reserve + commit part of it */
			n = rng_below(2000);
			if (mlen + n > limit)
				n = 0;
			assert_int_equal(buf_reserve(&b, n), 0);
			assert_true(b.data != NULL && buf_space(&b) >= n);
			size_t k = rng_below(n + 1);
			fill_pattern(tmp, k, counter);
			counter += k;
			if (k)
				memcpy(buf_tail(&b), tmp, k);
			buf_commit(&b, k);
			memcpy(model + mlen, tmp, k);
			mlen += k;
		} else if (op < 98) {                           /* drop everything */
			buf_reset(&b);
			mlen = 0;
		} else {                                        /* shrink (only acts when empty) */
			buf_shrink(&b, rng_below(4096));
		}

		assert_true(b.rd <= b.wr);
		assert_true(b.wr <= b.cap || (b.data == NULL && b.cap == 0));
		assert_true(b.data != NULL || b.cap == 0);
		assert_int_equal(buf_len(&b), mlen);
		if (mlen)
			assert_memory_equal(buf_peek(&b), model, mlen);
	}
	free(model);
	free(tmp);
	buf_free(&b);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_is_empty_and_allocates_lazily),
		cmocka_unit_test(space_is_zero_without_an_allocation),
		cmocka_unit_test(zero_length_append_changes_nothing),
		cmocka_unit_test(empty_buffer_peek_after_consume),
		cmocka_unit_test(consume_more_than_available_empties),
		cmocka_unit_test(reserve_commit_writes_at_tail),
		cmocka_unit_test(reserve_refuses_sizes_that_overflow),
		cmocka_unit_test(growth_keeps_bytes_and_doubles),
		cmocka_unit_test(reserve_compacts_before_growing),
		cmocka_unit_test(reserve_grows_when_compaction_is_not_enough),
		cmocka_unit_test(prepend_uses_prepend_area_without_copying),
		cmocka_unit_test(prepend_without_room_shifts_the_data),
		cmocka_unit_test(prepend_on_empty_and_after_consume),
		cmocka_unit_test(prepend_then_append_on_a_full_buffer_stays_in_bounds),
		cmocka_unit_test(shrink_releases_memory_only_when_empty),
		cmocka_unit_test(read_fd_spill_takes_everything_in_one_call),
		cmocka_unit_test(read_fd_spill_is_bounded_by_free_space_plus_64k),
		cmocka_unit_test(read_fd_respects_max),
		cmocka_unit_test(read_fd_into_a_full_buffer_spills),
		cmocka_unit_test(write_fd_short_write_reports_left),
		cmocka_unit_test(write_fd_max_empty_and_epipe),
		cmocka_unit_test(random_operations_match_a_plain_array),
	};
	const char *s = getenv("IOLAB_SEED");

	seed = s && *s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
	print_message("seed=%llu (replay: IOLAB_SEED=%llu %s)\n",
		      (unsigned long long)seed, (unsigned long long)seed, argv[0]);
	signal(SIGPIPE, SIG_IGN);                   /* buf_write_fd to a closed peer: EPIPE, not death */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
