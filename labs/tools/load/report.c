/* report.c — the results: fairness, the human summary, and --json. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "common/fairness.h"
#include "common/json.h"

#include "labs/tools/load/load.h"

void result_fairness(struct result *r)
{
	struct jain j = { 0 };
	double min = INFINITY, max = -1;

	for (size_t i = 0; i < opt.conns; i++) {
		double x = (double)conns[i].done;

		jain_add(&j, x);
		if (x < min) {
			min = x;
			r->min_conn = (uint32_t)i;
		}
		if (x > max) {
			max = x;
			r->max_conn = (uint32_t)i;
		}
	}
	if (isnan(jain_index(&j))) {
		r->jain = r->min_share = r->max_share = 0;
		return;
	}
	r->jain = jain_index(&j);                /* 1 = perfectly even, 1/n = one takes all */
	r->min_share = jain_share(&j, min);      /* 1.0 = exactly its fair share */
	r->max_share = jain_share(&j, max);
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static void json_hist(const char *key, const struct hist *h)
{
	printf(",\"%s\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,"
	       "\"mean\":%.1f,\"count\":%" PRIu64 "}", key,
	       us(hist_quantile(h, 0.50)), us(hist_quantile(h, 0.90)), us(hist_quantile(h, 0.99)),
	       us(hist_quantile(h, 0.999)), us(h->count ? h->max : 0), hist_mean(h) / 1000.0,
	       h->count);
}

bool result_ok(const struct result *r)
{
	for (int k = 0; k < NERR; k++)
		if (r->all.err[k])
			return false;
	return !r->server_died && !r->error[0];
}

static double per_msg_us(int64_t ns, uint64_t msgs)
{
	return msgs ? (double)ns / 1000.0 / (double)msgs : 0;
}

/* "none", "header", "random", "64" */
static const char *split_text(char *buf, size_t len)
{
	static const char *const names[] = { "none", "header", "bytes", "random" };

	if (opt.split == SPLIT_BYTES)
		snprintf(buf, len, "%zu", opt.split_bytes);
	else
		snprintf(buf, len, "%s", names[opt.split]);
	return buf;
}

void print_json(const struct result *r)
{
	const struct stats *s = &r->all;
	double d = r->duration_s > 0 ? r->duration_s : 1;
	char spec[32], split[32];

	printf("{\"ok\":%s,\"mode\":\"%s\",\"conns\":%u,\"idle\":%u,\"threads\":%u,"
	       "\"framing\":\"%s\",\"size\":%u,\"size_min\":%u,\"size_max\":%u,"
	       "\"loop\":\"%s\",\"depth\":%u,\"rate\":%.1f,\"nagle\":%s,\"split\":\"%s\","
	       "\"writev\":%s,\"coalesce\":%u,\"write_calls\":%" PRIu64 ",\"host\":",
	       result_ok(r) ? "true" : "false", mode_names[opt.mode], opt.conns, opt.idle,
	       nworkers, framing_spec(opt.framing, opt.frame_size, spec, sizeof(spec)), opt.size_max,
	       opt.size_min, opt.size_max, opt.rate > 0 ? "open" : "closed", opt.depth, opt.rate,
	       opt.nagle ? "true" : "false", split_text(split, sizeof(split)),
	       opt.writev ? "true" : "false", opt.coalesce, s->writes);
	json_string(stdout, opt.host);
	printf(",\"port\":%u,\"warmup_s\":%.3f,\"duration_s\":%.3f,\"messages\":%" PRIu64
	       ",\"window_messages\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"msgs_per_s\":%.1f,\"mb_per_s\":%.3f",
	       opt.port, opt.warmup, r->duration_s, s->messages, s->window_msgs, s->bytes_rx,
	       (double)s->window_msgs / d, (double)s->window_bytes / d / 1e6);
	printf(",\"connect_retries\":%" PRIu64, connect_retries);
	printf(",\"errors\":{");
	for (int k = 0; k < NERR; k++)
		printf("%s\"%s\":%" PRIu64, k ? "," : "", err_names[k], s->err[k]);
	printf("}");
	json_hist("latency_us", s->lat);
	printf(",\"fairness\":{\"jain\":%.4f,\"min_share\":%.4f,\"max_share\":%.4f,"
	       "\"min_conn\":%u,\"max_conn\":%u}", r->jain, r->min_share, r->max_share,
	       r->min_conn, r->max_conn);
	if (opt.mode == MODE_HOG || opt.mode == MODE_SLOW) {
		json_hist("others_latency_us", s->lat_others);
		printf(",\"others_msgs_per_s\":%.1f", (double)s->others_msgs / d);
	}
	if (opt.mode == MODE_CHURN) {
		printf(",\"connects\":%" PRIu64, s->connects);
		json_hist("connect_us", s->lat_connect);
	}
	printf(",\"client_cpu_us_per_msg\":%.3f", per_msg_us(r->client_cpu_ns, s->window_msgs));
	if (opt.server_pid) {
		printf(",\"server_pid\":%d,\"server_died\":%s", (int)opt.server_pid,
		       r->server_died ? "true" : "false");
		if (r->server_cpu_ns >= 0)
			printf(",\"server_cpu_us_per_msg\":%.3f",
			       per_msg_us(r->server_cpu_ns, s->window_msgs));
	}
	if (r->error[0]) {
		printf(",\"error\":");
		json_string(stdout, r->error);
	}
	if (r->diagnosis[0]) {
		printf(",\"diagnosis\":");
		json_string(stdout, r->diagnosis);
	}
	printf("}\n");
}

/* 812 us, 1.02 ms, 3.10 s: three significant digits in a sensible unit. */
static const char *fmt_ns(char *buf, size_t len, uint64_t ns)
{
	double v = (double)ns;
	if (v < 1e3)
		snprintf(buf, len, "%.0f ns", v);
	else if (v < 1e6)
		snprintf(buf, len, "%.*f us", v < 1e4 ? 2 : v < 1e5 ? 1 : 0, v / 1e3);
	else if (v < 1e9)
		snprintf(buf, len, "%.*f ms", v < 1e7 ? 2 : v < 1e8 ? 1 : 0, v / 1e6);
	else
		snprintf(buf, len, "%.2f s", v / 1e9);
	return buf;
}

static void print_hist_line(const char *label, const struct hist *h)
{
	char a[5][24], mean[24];

	if (h->count == 0) {
		printf("  %-11s no echoes\n", label);
		return;
	}
	printf("  %-11s p50 %s   p90 %s   p99 %s   p99.9 %s   max %s   (mean %s)\n", label,
	       fmt_ns(a[0], 24, hist_quantile(h, 0.5)), fmt_ns(a[1], 24, hist_quantile(h, 0.9)),
	       fmt_ns(a[2], 24, hist_quantile(h, 0.99)), fmt_ns(a[3], 24, hist_quantile(h, 0.999)),
	       fmt_ns(a[4], 24, h->max), fmt_ns(mean, 24, (uint64_t)hist_mean(h)));
}

void print_human(const struct result *r)
{
	const struct stats *s = &r->all;
	double d = r->duration_s > 0 ? r->duration_s : 1;
	char size[64], spec[32], split[32];

	if (opt.size_min == opt.size_max)
		snprintf(size, sizeof(size), "%u B", opt.size_max);
	else
		snprintf(size, sizeof(size), "%u..%u B", opt.size_min, opt.size_max);
	printf(PROG ": %s mode, %u connection%s", mode_names[opt.mode], opt.conns,
	       opt.conns == 1 ? "" : "s");
	if (opt.idle)
		printf(" + %u idle", opt.idle);
	printf(" to %s over %u thread%s, %s messages of %s, ", server_addr, nworkers,
	       nworkers == 1 ? "" : "s", framing_spec(opt.framing, opt.frame_size, spec, sizeof(spec)), size);
	if (opt.mode == MODE_CHURN)
		printf("one echo per connection\n");
	else if (opt.rate > 0)
		printf("open loop at %.0f msg/s\n", opt.rate);
	else
		printf("closed loop, depth %u\n", opt.depth);
	if (opt.nagle || opt.split != SPLIT_NONE || opt.coalesce > 1)
		printf("  writes      Nagle %s, split %s%s, coalesce %u: %" PRIu64 " write calls\n",
		       opt.nagle ? "on (--nagle)" : "off (TCP_NODELAY)", split_text(split, sizeof(split)),
		       opt.writev ? " (writev)" : "", opt.coalesce ? opt.coalesce : 1, s->writes);

	printf("  throughput  %" PRIu64 " messages in %.2f s: %.0f msg/s, %.2f MB/s echoed\n",
	       s->window_msgs, r->duration_s, (double)s->window_msgs / d,
	       (double)s->window_bytes / d / 1e6);
	print_hist_line("latency", s->lat);
	if ((opt.mode == MODE_HOG || opt.mode == MODE_SLOW) && opt.conns > 1) {
		printf("  others      %.0f msg/s: the %u connection%s beside the %s\n",
		       (double)s->others_msgs / d, opt.conns - 1, opt.conns == 2 ? "" : "s",
		       opt.mode == MODE_HOG ? "hog" : "slow reader");
		print_hist_line("others", s->lat_others);
	}
	if (opt.mode == MODE_CHURN) {
		printf("  connects    %" PRIu64 " (%.0f/s)\n", s->connects, (double)s->connects / d);
		print_hist_line("connect", s->lat_connect);
	}
	if (opt.conns > 1 && s->messages > 0)
		printf("  fairness    Jain index %.3f; least served conn %u got %.2fx its fair share,"
		       " most served conn %u %.2fx\n", r->jain, r->min_conn, r->min_share,
		       r->max_conn, r->max_share);
	printf("  cpu         client %.2f us/msg", per_msg_us(r->client_cpu_ns, s->window_msgs));
	if (opt.server_pid && r->server_cpu_ns >= 0)
		printf(", server %.2f us/msg (pid %d)", per_msg_us(r->server_cpu_ns, s->window_msgs),
		       (int)opt.server_pid);
	printf("\n");
	if (result_ok(r)) {
		printf("  verified    every echoed byte (%" PRIu64 " bytes)\n", s->bytes_rx);
	} else {
		printf("  FAILED      ");
		for (int k = 0; k < NERR; k++)
			printf("%s%" PRIu64 " %s", k ? ", " : "", s->err[k], err_names[k]);
		printf("%s%s\n", r->error[0] ? "; " : "", r->error);
	}
	if (r->diagnosis[0])
		printf("  diagnosis   %s\n", r->diagnosis);
}
