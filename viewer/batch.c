/*
 * batch.c — JSON lines for scripts, lab checks and tests.
 *
 * One object per snapshot, the same figures as the overview:
 *
 *   {"time":1700000000.123,"interval_s":1.000,"servers":[{"model":"epoll-lt","pid":4242,
 *    "port":40001,...,"msgs_s":1234.5,...,"counters":{"accepts":3,...},
 *    "counter_rates":{"accepts":0.5,...}}],"notes":[...]}
 *
 * Ratios without a denominator (no wakeups, no messages) are null, not 0.
 */
#include "viewer/batch.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "common/masks.h"
#include "viewer/text.h"

static void json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else
		fprintf(f, "%.3f", v);
}

static void json_mask(FILE *f, const char *key, uint32_t mask)
{
	char buf[256];

	fprintf(f, ",\"%s\":\"0x%x\",\"%s_names\":", key, mask, key);
	json_string(f, mask_str(mask, buf, sizeof(buf), 0));
}

static void print_conns(FILE *f, const struct seg *g)
{
	fputs(",\"connections\":[", f);
	for (size_t i = 0; i < g->nconns; i++) {
		const struct conn_row *c = &g->conns[i];

		fprintf(f, "%s{\"fd\":%d,\"peer_port\":%u,", i ? "," : "", c->fd, c->peer_port);
		if (c->loop >= 0)
			fprintf(f, "\"loop\":%d,", (int)c->loop);
		fputs("\"state\":", f);
		json_string(f, tm_state_name(c->state));
		json_mask(f, "interest", c->interest);
		json_mask(f, "ready", c->ready);
		fprintf(f, ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64 ",\"frames_in\":%" PRIu64
			",\"eagain_rd\":%" PRIu64 ",\"eagain_wr\":%" PRIu64 ",\"queued\":%" PRIu64
			",\"partial\":%" PRIu64 ",\"wait_ms\":%.3f,\"max_wait_ms\":%.3f,\"starving\":%s}",
			c->bytes_in, c->bytes_out, c->frames_in, c->eagain_rd, c->eagain_wr, c->queued,
			c->partial, (double)c->wait_ns / 1e6, (double)c->max_wait_ns / 1e6, c->starving ? "true" : "false");
	}
	fputc(']', f);
}

/* A server with one loop per thread (lab 20): each loop's totals and rates. */
static void print_loops(FILE *f, const struct seg *g)
{
	fputs(",\"loops\":[", f);
	for (unsigned i = 0; i < g->nloops; i++) {
		fprintf(f, "%s{\"loop\":%u", i ? "," : "", i);
		for (int k = 0; k < TL_NFIELDS_USED; k++)
			fprintf(f, ",\"%s\":%" PRIu64, tm_loop_names[k], g->loop_cnt[i][k]);
		fputs(",\"msgs_s\":", f);        json_num(f, g->loop_s[i][TL_FRAMES_IN]);
		fputs(",\"wakeups_s\":", f);     json_num(f, g->loop_s[i][TL_WAIT_CALLS]);
		fputc('}', f);
	}
	fputc(']', f);
}

static void print_probes(FILE *f, const struct seg *g)
{
	fputs(",\"probes\":[", f);
	for (unsigned i = 0; i < g->nprobes; i++) {
		const struct tm_probe *p = &g->probes[i];

		fprintf(f, "%s{\"label\":", i ? "," : "");
		json_string(f, p->label);
		fputs(",\"mech\":", f);
		json_string(f, p->mech);
		json_mask(f, "registered", p->registered);
		json_mask(f, "mask", p->mask);
		fprintf(f, ",\"so_error\":%d,\"so_error_name\":", p->so_error);
		json_string(f, errno_name(p->so_error));
		fputs(",\"explain\":", f);
		json_string(f, probe_explain(p));
		fputc('}', f);
	}
	fputc(']', f);
}

static void print_seg(FILE *f, const struct sampler *s, const struct seg *g, bool conns)
{
	const struct rates *r = &g->r;

	fputs("{\"model\":", f);
	json_string(f, g->model);
	fprintf(f, ",\"kind\":\"%s\",\"pid\":%d,\"port\":%u,\"addr\":",
		g->kind == TM_KIND_PROBE ? "probe" : "server", (int)g->pid, g->port);
	json_string(f, g->addr);
	fputs(",\"wait_call\":", f);
	json_string(f, g->wait_call);
	fputs(",\"status\":", f);
	json_string(f, g->status == SEG_LIVE ? "live" : g->exit_why ? g->exit_why : "exited");
	fprintf(f, ",\"uptime_s\":%.3f,\"conns\":%" PRIu64 ",\"conn_slots\":%zu",
		g->start_mono_ns && s->now_ns > g->start_mono_ns ? (double)(s->now_ns - g->start_mono_ns) / 1e9 : 0.0,
		g->cnt[TM_ACTIVE], g->nconns);
	fputs(",\"msgs_s\":", f);            json_num(f, r->msgs_s);
	fputs(",\"mb_s\":", f);              json_num(f, r->mb_in_s);
	fputs(",\"mb_out_s\":", f);          json_num(f, r->mb_out_s);
	fputs(",\"eagain_rd_s\":", f);       json_num(f, r->eagain_rd_s);
	fputs(",\"eagain_wr_s\":", f);       json_num(f, r->eagain_wr_s);
	fputs(",\"waits_s\":", f);           json_num(f, r->waits_s);
	fputs(",\"events_per_wakeup\":", f); json_num(f, r->ev_per_wake);
	fputs(",\"empty_wakeups_pct\":", f); json_num(f, r->empty_pct);
	fputs(",\"scanned_per_wakeup\":", f); json_num(f, r->scanned_per_wake);
	fputs(",\"completions_per_wait\":", f); json_num(f, r->compl_per_wait);
	fprintf(f, ",\"per_spin\":%s", r->per_spin ? "true" : "false");   /* wakeups are busy-loop turns */
	fputs(",\"syscalls_per_msg\":", f);  json_num(f, r->sys_per_msg);
	fputs(",\"cpu_pct\":", f);           json_num(f, r->cpu_pct);
	fputs(",\"fairness\":", f);          json_num(f, r->fairness);
	fprintf(f, ",\"max_wait_ms\":%.3f", (double)r->max_wait_ns / 1e6);
	fprintf(f, ",\"starve_ms\":%.3f,\"starving\":%u,\"log_head\":%" PRIu64 ",\"log_dropped\":%" PRIu64,
		(double)r->starve_ns / 1e6, r->starving, g->log_head, g->log_dropped);
	fputs(",\"counters\":{", f);
	for (int i = 0; i < TM_NCOUNTERS_USED; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", tm_counter_names[i], g->cnt[i]);
	fputc('}', f);
	fputs(",\"counter_rates\":{", f);    /* per second over the interval; null for a level */
	for (int i = 0; i < TM_NCOUNTERS_USED; i++) {
		fprintf(f, "%s\"%s\":", i ? "," : "", tm_counter_names[i]);
		json_num(f, r->cnt_s[i]);
	}
	fputc('}', f);
	if (g->nloops)
		print_loops(f, g);
	if (g->kind == TM_KIND_PROBE)
		print_probes(f, g);
	if (conns)
		print_conns(f, g);
	fputc('}', f);
}

void batch_print(FILE *f, const struct sampler *s, bool conns, uint64_t *notes_seen)
{
	struct timespec ts;
	uint64_t first;

	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(f, "{\"time\":%.3f,\"interval_s\":%.3f,\"servers\":[",
		(double)ts.tv_sec + (double)ts.tv_nsec / 1e9,
		s->prev_ns ? (double)(s->now_ns - s->prev_ns) / 1e9 : 0.0);
	for (size_t i = 0; i < s->nsegs; i++) {
		if (i)
			fputc(',', f);
		print_seg(f, s, s->segs[i], conns);
	}
	fputs("],\"notes\":[", f);
	/* Notes that arrived since the last line (those still in the ring of NOTES_MAX). */
	first = s->notes_total > NOTES_MAX ? s->notes_total - NOTES_MAX : 0;
	if (*notes_seen > first)
		first = *notes_seen;
	for (uint64_t i = first; i < s->notes_total; i++) {
		if (i > first)
			fputc(',', f);
		json_string(f, s->notes[i % NOTES_MAX]);
	}
	*notes_seen = s->notes_total;
	fputs("]}\n", f);
	fflush(f);
}

/*
 * Sleep until an absolute CLOCK_MONOTONIC time; false if it is time to stop.
 * The caller's quit handler has no SA_RESTART: a signal ends the sleep with EINTR.
 */
static bool sleep_until(uint64_t t_ns, bool (*stop)(void))
{
	struct timespec ts = { .tv_sec = (time_t)(t_ns / 1000000000u), .tv_nsec = (long)(t_ns % 1000000000u) };

	while (!(stop && stop())) {
		int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);

		if (rc == 0)
			return true;
		if (rc != EINTR)
			return false;
	}
	return false;
}

int batch_run(struct sampler *s, const struct batch_opts *o)
{
	uint64_t next, notes_seen = 0;

	next = tm_now();
	sampler_sample(s, next);            /* the "before" of the first interval */
	for (long i = 0; o->count == 0 || i < o->count; i++) {
		next += (uint64_t)o->interval_ms * 1000000u;
		if (!sleep_until(next, o->stop))
			break;
		sampler_sample(s, tm_now());
		batch_print(stdout, s, o->conns, &notes_seen);
		if (ferror(stdout))
			return 1;               /* e.g. the reader went away */
	}
	return 0;
}
