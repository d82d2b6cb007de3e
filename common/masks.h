/*
 * masks.h — one table to name event masks, shared by servers, probe and viewer.
 *
 * Every model reports readiness in the kernel's epoll bit values; select, poll,
 * SIGIO's si_band and io_uring's poll results are translated into them here, so
 * that "0x19" means EPOLLIN|EPOLLERR|EPOLLHUP whichever model produced it.
 */
#ifndef IOLAB_MASKS_H
#define IOLAB_MASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mask_name {
	uint32_t    bit;
	const char *name;
};

/* The decoder table: every named epoll bit, in bit order. */
extern const struct mask_name mask_names[];
extern const size_t mask_names_count;

/*
 * "EPOLLIN|EPOLLERR|EPOLLHUP" into buf (unknown bits as 0x...); "0" for an empty mask.
 * Returns buf.  `shortnames` drops the "EPOLL" prefix (IN|ERR|HUP) for narrow columns.
 */
char *mask_str(uint32_t mask, char *buf, size_t len, int shortnames);

/* poll(2) revents -> epoll bits (the values coincide on Linux; kept explicit). */
uint32_t mask_from_poll(short revents);
/* select(2): which sets the fd was in. */
uint32_t mask_from_select(int rd, int wr, int ex);
/* SIGIO si_band (POLL_* bits, as poll's) -> epoll bits. */
uint32_t mask_from_band(long band);

/* A completion's result as a readiness mask: a recv/accept (or a send) that returned res:
 * EPOLLIN (EPOLLOUT), | EPOLLERR when res < 0, | EPOLLRDHUP for a recv of 0 (EOF). */
uint32_t mask_from_result(bool is_send, long res);

#endif
