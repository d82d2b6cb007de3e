/*
 * counters.c — counter meanings, kinds and the --watch names.
 *
 * counter_meanings[] follows enum tm_counter (common/telemetry.h): if you add a
 * counter there, add its line here (a missing one reads "(no description)").
 */
#include "viewer/counters.h"

#include <stdio.h>
#include <string.h>

#include "viewer/text.h"

const char *const derived_names[DV_N] = {
	[DV_EVENTS_PER_WAKEUP]    = "events_per_wakeup",
	[DV_EMPTY_PCT]            = "empty_wakeup_pct",
	[DV_SCANNED_PER_WAKEUP]   = "scanned_per_wakeup",
	[DV_COMPLETIONS_PER_WAIT] = "completions_per_wait",
};

static const char *const counter_meanings[TM_NCOUNTERS_USED] = {
	[TM_ACCEPTS]       = "connections accepted",
	[TM_CLOSES]        = "connections closed",
	[TM_ACTIVE]        = "connections open now (a level, not a count)",
	[TM_BYTES_IN]      = "bytes read from clients",
	[TM_BYTES_OUT]     = "bytes written to clients",
	[TM_FRAMES_IN]     = "complete frames (messages) decoded",
	[TM_FRAMES_OUT]    = "frames fully queued for echo",
	[TM_READ_CALLS]    = "read calls (or recv submissions)",
	[TM_WRITE_CALLS]   = "write calls (or send submissions)",
	[TM_EAGAIN_RD]     = "reads that returned EAGAIN: nothing there",
	[TM_EAGAIN_WR]     = "writes that returned EAGAIN or were short",
	[TM_WAIT_CALLS]    = "calls of the model's waiting call",
	[TM_EMPTY_WAKEUPS] = "wakeups (busy loop: turns) that found nothing to do",
	[TM_EVENTS]        = "readiness events / completions / signals delivered",
	[TM_PROTO_ERRORS]  = "connections closed for a protocol error",
	[TM_SPINS]         = "busy-loop turns (nonblocking model)",
	[TM_SCANNED]       = "descriptors examined after a wakeup (or per turn)",
	[TM_REFUSED]       = "connections refused (fd too big for select, no slot)",
	[TM_ACCEPT_EMFILE] = "accept() hit the descriptor limit (EMFILE)",
	[TM_READ_PAUSED]   = "times reading was paused at the high-water mark",
	[TM_SIGQ_OVERFLOW] = "real-time signal queue overflowed: fell back to a scan",
	[TM_SUBMITS]       = "AIO / io_uring submissions",
	[TM_COMPLETIONS]   = "AIO / io_uring completions reaped",
	[TM_BLOCKED_NS]    = "time blocked in a call that should not block (aio --pread)",
	[TM_SEND_TIMEOUTS] = "closed: queued output did not move for --send-timeout",
	[TM_IDLE_TIMEOUTS] = "closed: nothing heard for --idle-timeout",
	[TM_HEARTBEATS]    = "application heartbeats sent",
	[TM_HB_TIMEOUTS]   = "closed: heartbeat not answered",
	[TM_TIMERS_FIRED]  = "timer entries that expired",
	[TM_REQUESTS]      = "HTTP requests answered",
	[TM_HTTP_ERRORS]   = "HTTP error responses sent (400, 413, 431 ...)",
	[TM_TASKS]         = "tasks handed to another event loop",
	[TM_TRUNCATED]     = "datagrams cut short by a small buffer (MSG_TRUNC)",
};

enum counter_kind counter_kind(int c)
{
	if (c == TM_ACTIVE)
		return CK_GAUGE;
	if (c == TM_BLOCKED_NS)
		return CK_NS;
	return CK_COUNT;
}

const char *counter_meaning(int c)
{
	return c >= 0 && c < TM_NCOUNTERS_USED && counter_meanings[c] ? counter_meanings[c] : "(no description)";
}

/* The echo figures every model has are on the Overview already; these are the lessons. */
bool counter_is_model_specific(int c)
{
	return c == TM_EMPTY_WAKEUPS || c >= TM_SPINS;
}

const char *watch_name(int id)
{
	if (id >= 0 && id < TM_NCOUNTERS_USED)
		return tm_counter_names[id];
	if (id >= DERIVED_BASE && id < DERIVED_BASE + DV_N)
		return derived_names[id - DERIVED_BASE];
	return "?";
}

static int lookup(const char *name, size_t len)
{
	for (int i = 0; i < TM_NCOUNTERS_USED; i++)
		if (strlen(tm_counter_names[i]) == len && strncmp(tm_counter_names[i], name, len) == 0)
			return i;
	for (int d = 0; d < DV_N; d++)
		if (strlen(derived_names[d]) == len && strncmp(derived_names[d], name, len) == 0)
			return DERIVED_BASE + d;
	return -1;
}

static void valid_names(char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < TM_NCOUNTERS_USED + DV_N && o < len; i++) {
		int n = snprintf(buf + o, len - o, "%s%s", i ? " " : "",
				 i < TM_NCOUNTERS_USED ? tm_counter_names[i] : derived_names[i - TM_NCOUNTERS_USED]);

		if (n < 0)
			break;
		o += (size_t)n;
	}
}

int watch_parse(struct watch *w, const char *list, char *err, size_t errlen)
{
	const char *p = list;

	for (;;) {
		size_t len = strcspn(p, ",");
		int id, i;

		if (len == 0) {
			char names[1024];

			valid_names(names, sizeof(names));
			snprintf(err, errlen, "--watch needs counter names separated by commas, not '%s'; valid names: %s",
				 list, names);
			return -1;
		}
		id = lookup(p, len);
		if (id < 0) {
			char names[1024];

			valid_names(names, sizeof(names));
			snprintf(err, errlen, "--watch: unknown counter '%.*s'; valid names: %s", (int)len, p, names);
			return -1;
		}
		for (i = 0; i < w->n && w->id[i] != id; i++)
			;
		if (i == w->n) {
			if (w->n == MAX_WATCH) {
				snprintf(err, errlen, "--watch: at most %d names", MAX_WATCH);
				return -1;
			}
			w->id[w->n++] = id;
		}
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

char *counter_total_text(int c, uint64_t total, char *buf, size_t len)
{
	return counter_kind(c) == CK_NS ? fmt_dur(total, buf, len) : fmt_count(total, buf, len);
}

char *counter_rate_text(int c, double per_s, char *buf, size_t len)
{
	switch (counter_kind(c)) {
	case CK_GAUGE:
		snprintf(buf, len, "-");
		return buf;
	case CK_NS:                 /* ns per second: how much of each second went there */
		if (per_s != per_s || per_s < 0) {
			snprintf(buf, len, "-");
			return buf;
		}
		return fmt_dur((uint64_t)per_s, buf, len);
	case CK_COUNT:
		break;
	}
	return fmt_num(per_s, buf, len);
}
