/* worker.c — one client thread: its epoll loop, the end of the run, and the drain. */
#include <errno.h>
#include <sys/epoll.h>

#include "common/telemetry.h"

#include "labs/tools/load/load.h"

/* Does c still have work: something to send or an echo to wait for? */
static bool busy(const struct worker *w, const struct lconn *c)
{
	if (c->state != CS_OPEN && c->state != CS_CONNECTING)
		return false;
	if (c->role == ROLE_IDLE)
		return false;
	if (c->role == ROLE_SLOW)            /* it floods until a timed run ends; never "done" */
		return !w->stopping && !opt.messages;
	if (opt.rate > 0 && c->role == ROLE_ECHO && !w->stopping)
		return w->ol_next < w->ol_limit || c->q_len > 0;
	return c->q_len > 0 || lc_out_pending(c) > 0 || lc_may_send(w, c);
}

static void begin_stop(struct worker *w, uint64_t now)
{
	w->stopping = true;
	w->drain_until = now + (uint64_t)(opt.drain * 1e9);
	ol_arm_timer(w);                        /* disarms */
	for (size_t i = 0; i < w->nconn; i++) {
		struct lconn *c = w->conn[i];
		if (c->state == CS_CONNECTING)   /* churn: a cycle not started yet is not owed */
			lc_close(c, CS_DONE);
		else if (c->state == CS_OPEN && (c->role == ROLE_HOG || c->role == ROLE_SLOW))
			lc_update_events(w, c);         /* stop flooding */
	}
}

/* The drain timed out: every echo still missing is an error. */
static void give_up(struct worker *w)
{
	for (size_t i = 0; i < w->nconn; i++) {
		struct lconn *c = w->conn[i];
		if (busy(w, c) && c->q_len > 0) {
			/* One line for all of them, and why, at the end: diagnose(). */
			w->st.err[ERR_UNANSWERED] += c->q_len;
			c->no_reply = c->rx_bytes == 0 && c->tx_bytes > 0 ? NR_SILENT : NR_STUCK;
			lc_close(c, CS_FAILED);      /* q_len stays: the count of messages missing */
		}
	}
}

void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[MAX_EVENTS];
	uint64_t drained = 0;                /* bytes received when the drain clock was last reset */

	/* Closed loop: every connection starts with DEPTH messages in flight. */
	uint64_t now = tm_now();
	for (size_t i = 0; i < w->nconn; i++) {
		struct lconn *c = w->conn[i];
		if (opt.mode == MODE_CHURN && c->role == ROLE_ECHO) {
			churn_connect(w, c);
			continue;
		}
		if (c->state != CS_OPEN)
			continue;
		if (c->role == ROLE_ECHO && opt.rate == 0)
			for (unsigned d = 0; d < opt.depth && lc_may_send(w, c); d++)
				lc_gen_msg(c, now);
		if (c->role != ROLE_IDLE)
			lc_flush(w, c);
	}
	if (opt.rate > 0)
		ol_arm_timer(w);

	for (;;) {
		int n = epoll_wait(w->ep, ev, MAX_EVENTS, TICK_MS);
		if (n < 0 && errno != EINTR)     /* EINTR: a signal; look at the clock and go on */
			load_die("epoll_wait");
		now = tm_now();
		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr == NULL) {
				ol_send_due(w, now);
				continue;
			}
			struct lconn *c = ev[i].data.ptr;
			if (c->state == CS_OPEN || c->state == CS_CONNECTING)
				lc_event(w, c, ev[i].events, now);
		}

		if (!w->stopping && (atomic_load(&phase) == PH_DRAIN || now >= atomic_load(&deadline_ns)))
			begin_stop(w, now);

		bool work = false;
		for (size_t i = 0; i < w->nconn && !work; i++)
			work = busy(w, w->conn[i]);
		atomic_store(&w->quiet, !work);
		if (w->stopping && !work)
			break;
		if (w->stopping && w->st.bytes_rx != drained) {
			drained = w->st.bytes_rx;   /* echoes still coming: the server is not stuck */
			w->drain_until = now + (uint64_t)(opt.drain * 1e9);
		}
		if (w->stopping && now >= w->drain_until) {
			give_up(w);
			break;
		}
	}
	atomic_store(&w->quiet, true);
	atomic_store(&w->finished, true);
	return NULL;
}
