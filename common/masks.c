/*
 * masks.c — naming epoll bits, and translating the other models' readiness into them.
 */
#include "common/masks.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

const struct mask_name mask_names[] = {
	{ EPOLLIN,     "EPOLLIN" },      /* 0x001 */
	{ EPOLLPRI,    "EPOLLPRI" },     /* 0x002 */
	{ EPOLLOUT,    "EPOLLOUT" },     /* 0x004 */
	{ EPOLLERR,    "EPOLLERR" },     /* 0x008 */
	{ EPOLLHUP,    "EPOLLHUP" },     /* 0x010 */
	{ 0x020,       "EPOLLNVAL" },    /* POLLNVAL: poll only, never from epoll (no EPOLLNVAL in <sys/epoll.h>) */
	{ EPOLLRDNORM, "EPOLLRDNORM" },  /* 0x040 */
	{ EPOLLRDBAND, "EPOLLRDBAND" },  /* 0x080 */
	{ EPOLLWRNORM, "EPOLLWRNORM" },  /* 0x100 */
	{ EPOLLWRBAND, "EPOLLWRBAND" },  /* 0x200 */
	{ EPOLLMSG,    "EPOLLMSG" },     /* 0x400 */
	{ EPOLLRDHUP,  "EPOLLRDHUP" },   /* 0x2000 */
	{ EPOLLEXCLUSIVE, "EPOLLEXCLUSIVE" }, /* 1u<<28 */
	{ EPOLLWAKEUP, "EPOLLWAKEUP" },  /* 1u<<29 */
	{ EPOLLONESHOT,"EPOLLONESHOT" }, /* 1u<<30 */
	{ EPOLLET,     "EPOLLET" },      /* 1u<<31 */
};
const size_t mask_names_count = sizeof(mask_names) / sizeof(mask_names[0]);

char *mask_str(uint32_t mask, char *buf, size_t len, int shortnames)
{
	size_t off = 0;
	uint32_t left = mask;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (mask == 0) {
		snprintf(buf, len, "0");
		return buf;
	}
	for (size_t i = 0; i < mask_names_count; i++) {
		const char *name = mask_names[i].name;

		if (!(mask & mask_names[i].bit))
			continue;
		left &= ~mask_names[i].bit;
		if (shortnames)
			name += 5;              /* skip "EPOLL" */
		off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s", off ? "|" : "", name);
	}
	if (left)
		off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s0x%x", off ? "|" : "", left);
	return buf;
}

uint32_t mask_from_poll(short revents)
{
	uint32_t m = 0;

	if (revents & POLLIN)   m |= EPOLLIN;
	if (revents & POLLPRI)  m |= EPOLLPRI;
	if (revents & POLLOUT)  m |= EPOLLOUT;
	if (revents & POLLERR)  m |= EPOLLERR;
	if (revents & POLLHUP)  m |= EPOLLHUP;
	if (revents & POLLNVAL) m |= 0x020;  /* named EPOLLNVAL in mask_names[] */
	if (revents & POLLRDHUP) m |= EPOLLRDHUP;
	return m;
}

uint32_t mask_from_select(int rd, int wr, int ex)
{
	/* select cannot tell "readable" from "error" or "hangup": all three look readable. */
	return (rd ? EPOLLIN : 0) | (wr ? EPOLLOUT : 0) | (ex ? EPOLLPRI : 0);
}

uint32_t mask_from_band(long band)
{
	/* si_band carries POLL_* style bits (POLLIN|POLLRDNORM...), the same values poll uses. */
	return mask_from_poll((short)band) | ((uint32_t)band & (EPOLLRDNORM | EPOLLRDBAND | EPOLLWRNORM | EPOLLWRBAND | EPOLLMSG));
}

uint32_t mask_from_result(bool is_send, long res)
{
	uint32_t m = is_send ? EPOLLOUT : EPOLLIN;

	if (res < 0)
		m |= EPOLLERR;
	else if (res == 0 && !is_send)
		m |= EPOLLRDHUP;          /* a recv of 0: the peer half-closed */
	return m;
}
