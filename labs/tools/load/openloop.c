/*
 * openloop.c — -r RATE: messages are due on a fixed schedule whatever the
 * server does; a timerfd per thread fires when the next one is due.
 */
#include <errno.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "labs/tools/load/load.h"

static uint64_t ol_due(const struct worker *w, uint64_t k)
{
	return t0_ns + w->ol_offset + (uint64_t)((double)k * w->ol_interval);
}

void ol_arm_timer(struct worker *w)
{
	uint64_t due = 0;

	if (!w->stopping && w->ol_next < w->ol_limit) {
		due = ol_due(w, w->ol_next);
		if (due >= atomic_load(&deadline_ns))
			due = 0;                     /* nothing more is due within the run */
	}
	if (due == w->timer_due)
		return;
	struct itimerspec its = { .it_value = { (time_t)(due / 1000000000u), (long)(due % 1000000000u) } };
	if (timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)  /* zero disarms */
		load_die("timerfd_settime");
	w->timer_due = due;
}

/*
 * The timer fired: send every message whose time has come, each stamped with the
 * time it was due.  If this thread was late (the server, or we, stalled), the
 * backlog goes out at once and every message in it carries the delay.
 */
void ol_send_due(struct worker *w, uint64_t now)
{
	uint64_t exp;
	if (read(w->tfd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		load_die("read(timerfd)");
	w->timer_due = 0;                    /* fired: no longer armed */

	uint64_t deadline = atomic_load(&deadline_ns);
	while (!w->stopping && w->ol_next < w->ol_limit) {
		uint64_t due = ol_due(w, w->ol_next);
		if (due > now || due >= deadline)
			break;
		struct lconn *c = w->sched[w->ol_next % w->nsched];
		w->ol_next++;
		if (c->state != CS_OPEN || !lc_may_send(w, c))
			continue;                    /* a failed connection sends nothing */
		bool idle = lc_out_pending(c) == 0;
		lc_gen_msg(c, due);
		if (idle || opt.coalesce > 1)
			lc_flush(w, c);            /* else EPOLLOUT is pending: it will go */
	}
	ol_arm_timer(w);
}
