/*
 * echo-nonblocking.c — lab 2: one thread, every socket O_NONBLOCK, no waiting call.
 *
 * What it shows: with O_NONBLOCK a call that would sleep returns EAGAIN at once
 * instead.  That lets one thread juggle every client, but only by asking each one,
 * over and over: anyone connecting?  anything to read?  room to write?  Each turn
 * of the loop tries accept() on the listener and read()/write() on every
 * connection, and nearly every answer is EAGAIN.  Nothing ever sleeps, so the
 * server burns a whole core with no client at all: watch spins, eagain_rd and the
 * CPU column of top.
 *
 * --sleep-us N sleeps N microseconds after a turn that found nothing to do: the
 * CPU bill drops, and a message that arrives during the nap waits for it to end.
 * Labs 3-6 get out of this trade-off with a waiting call that sleeps exactly until
 * the kernel has something for us.
 *
 * Counters: spins = turns of the loop; empty_wakeups = turns that found nothing;
 * wait_calls = naps taken (0 without --sleep-us); scanned = descriptors tried.
 *
 * Try:     bin/echo-nonblocking -f line -p 7000 &  top -p $!        100% CPU, no client at all
 *          bin/echo-nonblocking -f line -p 7000 --sleep-us 1000      ~0% CPU; nc 127.0.0.1 7000
 * Lesson:  LESSONS.md §2
 */
#include <errno.h>
#include <sys/epoll.h>   /* only for the mask bit values telemetry uses */
#include <time.h>
#include <unistd.h>

#include "common/server.h"

static struct server srv;
static long sleep_us;        /* --sleep-us: nap after a turn that found nothing */

static const struct model_option OPTIONS[] = {
	OPTION_HIGH_WATER(&srv),
	OPTION_TIMERS(&srv),
	{ "sleep-us", OPTK_LONG, &sleep_us, "N", "sleep N microseconds after an empty turn (default 0)", 0, 10000000 },
	OPTIONS_END,
};

static const struct model MODEL = {
	.name = "nonblocking", .program = "echo-nonblocking", .lesson = 2,
	.wait_call = "none (busy loop)", .options = OPTIONS,
	.summary = "nonblocking busy loop: one thread tries every socket every turn, and burns a core",
};

/* Accept everyone waiting; the loop tries each of them for reading from the next turn. */
static void accept_clients(void)
{
	struct conn *c;

	while ((c = conn_accept(&srv, SOCK_NONBLOCK)))
		conn_set_interest(c, EPOLLIN);
	/* EAGAIN: nobody in the backlog.  We ask again next turn, and the turn after. */
}

int main(int argc, char **argv)
{
	struct timespec nap;
	struct conn *c;

	server_start(&srv, &MODEL, argc, argv);
	/* Nothing here waits for long: let SIGINT/SIGTERM in anywhere, the loop looks every turn. */
	server_signals_anywhere(&srv);
	nap = (struct timespec){ sleep_us / 1000000, sleep_us % 1000000 * 1000 };

	while (!server_stop) {
		turn_spin();
		/* No waiting call: ask the listener, then every connection, whether anything happened. */
		accept_clients();
		tm_add(TM_SCANNED, 1);
		for (size_t fd = 0; fd < srv.conns.n; fd++) {
			if (!(c = conn_table_get(&srv.conns, (int)fd)))
				continue;
			tm_add(TM_SCANNED, 1);
			/* Try a read if it may send (nearly always EAGAIN: nothing has arrived), echo
			 * what is queued.  Every connection, every turn, whatever happened. */
			if (conn_serve(c, c->interest & EPOLLIN))
				conn_set_interest(c, conn_wanted(c));
		}
		server_expire();   /* connections past --idle-timeout/--heartbeat */
		turn_end();
		if (!sleep_us)
			continue;     /* straight on: the next turn asks everyone again */
		/* The lab's knob: less CPU, more latency.  A signal cuts the nap short (EINTR). */
		tm_add(TM_WAIT_CALLS, 1);
		nanosleep(&nap, NULL);
	}

	server_finish(&srv);
	return 0;
}
