/*
 * text.c — short text for figures, masks, events and probe observations.
 *
 * Used by the screen (draw.c) and the JSON lines (batch.c), so both say the
 * same thing.  Mask names come from the one table in common/masks.c.
 */
#include "viewer/text.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "common/masks.h"

char *fmt_num(double v, char *buf, size_t len)
{
	static const char unit[] = " kMGTP";
	int u = 0;

	if (isnan(v) || v < 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (v == 0) {
		snprintf(buf, len, "0");
		return buf;
	}
	while (v >= 999.5 && u < 5) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, v < 9.995 ? "%.2f" : v < 99.95 ? "%.1f" : "%.0f", v);
	else
		snprintf(buf, len, v < 9.995 ? "%.2f%c" : v < 99.95 ? "%.1f%c" : "%.0f%c", v, unit[u]);
	return buf;
}

char *fmt_count(uint64_t n, char *buf, size_t len)
{
	if (n < 100000)
		snprintf(buf, len, "%u", (unsigned)n);
	else
		fmt_num((double)n, buf, len);
	return buf;
}

char *fmt_dur(uint64_t ns, char *buf, size_t len)
{
	double v = (double)ns;

	if (ns == 0)
		snprintf(buf, len, "0");
	else if (ns < 1000)
		snprintf(buf, len, "%uns", (unsigned)ns);
	else if (ns < 1000000)
		snprintf(buf, len, v < 9950 ? "%.1fus" : "%.0fus", v / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, v < 9.95e6 ? "%.1fms" : "%.0fms", v / 1e6);
	else if (ns < 60ull * 1000000000)
		snprintf(buf, len, v < 9.995e9 ? "%.2fs" : "%.1fs", v / 1e9);
	else if (ns < 3600ull * 1000000000)
		snprintf(buf, len, "%um%02us", (unsigned)(ns / 60000000000ull), (unsigned)(ns / 1000000000 % 60));
	else
		snprintf(buf, len, "%uh%02um", (unsigned)(ns / 3600000000000ull), (unsigned)(ns / 60000000000ull % 60));
	return buf;
}

char *fmt_bytes(uint64_t n, char *buf, size_t len)
{
	static const char unit[] = "BKMGTP";
	double v = (double)n;
	int u = 0;

	if (n < 1024) {
		snprintf(buf, len, "%u", (unsigned)n);
		return buf;
	}
	while (v >= 1023.5 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, v < 9.95 ? "%.1f%c" : "%.0f%c", v, unit[u]);
	return buf;
}

char *mask_text(uint32_t mask, enum mask_style style, char *buf, size_t len)
{
	char names[256];
	int n;

	n = snprintf(buf, len, "0x%x", mask);
	if (style == MASK_HEX || mask == 0 || n < 0 || (size_t)n >= len)
		return buf;
	mask_str(mask, names, sizeof(names), style == MASK_SHORT);
	snprintf(buf + n, len - (size_t)n, " %s", names);
	return buf;
}

char *mask_fit(uint32_t mask, int width, char *buf, size_t len)
{
	static const enum mask_style styles[] = { MASK_LONG, MASK_SHORT, MASK_HEX };

	for (size_t i = 0; i < sizeof(styles) / sizeof(styles[0]); i++) {
		mask_text(mask, styles[i], buf, len);
		if ((int)strlen(buf) <= width)
			break;
	}
	return buf;
}

char *event_detail(const struct tm_event *e, char *buf, size_t len)
{
	char m[160], d[32];

	switch (e->kind) {
	case 0:
		snprintf(buf, len, "%lld events lost: the ring wrapped before the viewer read them",
			 (long long)e->value);
		break;
	case EV_READY:
	case EV_INTEREST:
	case EV_PROBE:
		snprintf(buf, len, "%s", mask_text(e->mask ? e->mask : (uint32_t)e->value, MASK_LONG, m, sizeof(m)));
		break;
	case EV_COMPLETION:
		if (e->value < 0)
			snprintf(buf, len, "res %lld (%s)  %s", (long long)e->value, errno_name((int)-e->value),
				 e->mask ? mask_text(e->mask, MASK_LONG, m, sizeof(m)) : "");
		else
			snprintf(buf, len, "res %lld  %s", (long long)e->value,
				 e->mask ? mask_text(e->mask, MASK_LONG, m, sizeof(m)) : "");
		break;
	case EV_SIGNAL:
		snprintf(buf, len, "si_band 0x%llx  %s", (unsigned long long)e->value,
			 mask_text(e->mask, MASK_LONG, m, sizeof(m)));
		break;
	case EV_ACCEPT:
		snprintf(buf, len, "peer port %lld", (long long)e->value);
		break;
	case EV_CLOSE:
		if (e->value == 0)
			snprintf(buf, len, "EOF (orderly)");
		else if (e->value == -1)
			snprintf(buf, len, "protocol error");
		else
			snprintf(buf, len, "%s", errno_name((int)e->value));
		break;
	case EV_EAGAIN_RD:
		snprintf(buf, len, "read: nothing there (EAGAIN)");
		break;
	case EV_EAGAIN_WR:
		snprintf(buf, len, "write: send buffer full (EAGAIN)");
		break;
	case EV_PROTO_ERROR:
		snprintf(buf, len, "frame length %lld too big", (long long)e->value);
		break;
	case EV_REFUSED:
		snprintf(buf, len, "could not serve fd %lld", (long long)e->value);
		break;
	case EV_PAUSE:
		snprintf(buf, len, "reading paused, %s queued", fmt_bytes((uint64_t)e->value, d, sizeof(d)));
		break;
	case EV_RESUME:
		snprintf(buf, len, "reading resumed");
		break;
	case EV_OVERFLOW:
		snprintf(buf, len, "signal queue overflow: falling back to a scan");
		break;
	case EV_BLOCKED:
		snprintf(buf, len, "blocked %s", fmt_dur((uint64_t)e->value, d, sizeof(d)));
		break;
	default:
		snprintf(buf, len, "value %lld mask 0x%x", (long long)e->value, e->mask);
	}
	return buf;
}

/*
 * The probe's cases are told apart by their labels (iolab-probe: "registered
 * before connect", "refused connect", "successful connect"), the mechanisms by
 * name: select has neither ERR nor HUP, so its answers need their own words.
 */
const char *probe_explain(const struct tm_probe *p)
{
	uint32_t m = p->mask;
	bool before = strstr(p->label, "before") != NULL;
	bool success = strstr(p->label, "success") != NULL;

	if (m & POLLNVAL)          /* 0x20, the same bit in our epoll-valued masks */
		return "the descriptor was not open (POLLNVAL)";
	if (strcmp(p->mech, "select") == 0) {
		if (p->so_error)
			return "select has no ERR: a failed connect looks readable and writable; only SO_ERROR tells";
		if (before && m)
			return "select has no HUP: a socket that never connected looks readable and writable";
		if (m & EPOLLOUT)
			return "connected: writable with SO_ERROR 0 is the sure sign";
		if (m & EPOLLIN)
			return "readable: data (or a FIN) arrived";
		return "no event within the timeout: nothing that was asked for happened";
	}
	if (m == 0)
		return success && !(p->registered & EPOLLOUT)
			? "connected, but only IN was asked and nothing arrived: no event"
			: "no event within the timeout: nothing that was asked for happened";
	if ((m & EPOLLERR) && p->so_error == ECONNREFUSED)
		return "refused: the peer answered RST; ERR+HUP, SO_ERROR = ECONNREFUSED";
	if ((m & EPOLLERR) && p->so_error == ETIMEDOUT)
		return "timed out: no SYN-ACK came; ERR+HUP, SO_ERROR = ETIMEDOUT";
	if (m & EPOLLERR)
		return "failed: ERR is set; getsockopt(SO_ERROR) says why";
	if ((m & EPOLLHUP) && before)
		return (p->registered & EPOLLOUT)
			? "never connected: a socket without a connection reports HUP and OUT, no error"
			: "never connected: a socket without a connection reports HUP, no error";
	if (m & EPOLLHUP)
		return "HUP without ERR: both directions are closed";
	if ((m & EPOLLOUT) && p->so_error)
		return "writable but SO_ERROR is set: writable alone does not mean connected";
	if ((m & EPOLLOUT) && (m & (EPOLLIN | EPOLLRDHUP)))
		return "connected, and the peer already sent data or its FIN";
	if (m & EPOLLOUT)
		return "connected: writable with SO_ERROR 0 is the sure sign";
	if (m & EPOLLRDHUP)
		return "the peer shut its sending side (RDHUP): reads return 0 after the data";
	if (m & EPOLLIN)
		return "readable: data (or a FIN) arrived";
	return "an unusual mask: see the table in common/masks.c";
}

/*
 * What to trace for a model: its waiting call and the calls that move its bytes.
 * The echo skeleton reads with readv() and writes with write() (common/buf.c),
 * accepts with accept4(); none of those is in strace's %network class, so a
 * trace of %network alone prints nothing while a server echoes.  AIO and
 * io_uring move bytes inside the kernel: their submit and reap calls are the I/O.
 */
const char *strace_filter(const char *wait_call)
{
#define IO "accept4,readv,write"
	static const struct { const char *call, *filter; } map[] = {
		{ "accept/read",      IO },                                  /* blocking: these are the waits */
		{ "none (busy loop)", IO ",clock_nanosleep" },               /* the nap of --sleep-us */
		{ "epoll_wait",       "epoll_wait,epoll_pwait,epoll_pwait2,epoll_ctl," IO },
		{ "epoll_pwait",      "epoll_wait,epoll_pwait,epoll_pwait2,epoll_ctl," IO },
		{ "select",           "select,pselect6," IO },
		{ "pselect",          "select,pselect6," IO },
		{ "poll",             "poll,ppoll," IO },
		{ "ppoll",            "poll,ppoll," IO },
		{ "sigwaitinfo",      "rt_sigtimedwait," IO },
		{ "sigtimedwait",     "rt_sigtimedwait," IO },
		{ "io_getevents",     "io_submit,io_getevents,io_pgetevents,accept4" },
		{ "io_uring_enter",   "io_uring_enter,io_uring_setup" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (wait_call && strcmp(wait_call, map[i].call) == 0)
			return map[i].filter;
	if (!wait_call || !*wait_call || strspn(wait_call, "abcdefghijklmnopqrstuvwxyz0123456789_,") != strlen(wait_call))
		return "%network," IO;  /* unknown (or odd characters): the network class and the I/O */
	return wait_call;
#undef IO
}

