/*
 * iolab-stat — print one telemetry segment (a server's or the probe's) for scripts.
 *
 * What bin/iolab-view draws for people, this prints for programs: the header
 * (model, pid, port, options...), every global counter, and the probe records.
 * labs/tools/run-lab reads it to check a lab's expectations ("srv.accepts >= 2").
 *
 * Usage:  iolab-stat [--json] [--probes] [--events] PID|PATH
 *           PID    the segment /dev/shm/<prefix>.<model>.PID (prefix: $IOLAB_SHM_PREFIX or iolab)
 *           PATH   a segment file, e.g. /dev/shm/iolab.epoll-lt.1234
 * Output: "name value" lines (model, pid, port, ..., then one line per counter:
 *         "accepts 3", then "loops N" and each event loop's own figures, lab 20:
 *         "loop0.wait_calls 12"), or with --json one JSON object.  --probes adds the probe
 *         records ("probe.N label|mech|registered|mask|so_error"); --events the
 *         event ring still held, oldest first ("event INDEX KIND FD 0xMASK VALUE"),
 *         so that a check can follow a sequence (lab 5: interest 0x5 then 0x1).
 * Exit:   0, or 1 when there is no such segment or it is not a valid one.
 * Try:    bin/echo-epoll-lt -p 0 & bin/iolab-stat $!
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/telemetry.h"

struct find {
	char suffix[32];   /* ".1234" */
	char path[300];    /* the segment found, or "" */
};

static void match_pid(const char *path, void *arg)
{
	struct find *f = arg;
	size_t n = strlen(path), m = strlen(f->suffix);

	if (n > m && !strcmp(path + n - m, f->suffix))
		snprintf(f->path, sizeof(f->path), "%s", path);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: iolab-stat [--json] [--probes] [--events] PID|PATH\n"
		"\n"
		"Prints a telemetry segment: its header and every counter as \"name value\"\n"
		"lines (or one JSON object with --json), then each event loop's own figures for a\n"
		"server with one loop per thread (\"loop0.wait_calls 12\").  PID finds /dev/shm/%s.*.PID.\n"
		"  --json      JSON instead of lines\n"
		"  --probes    also the async-connect probe's records (bin/iolab-probe)\n"
		"  --events    also the event ring, oldest first: \"event INDEX KIND FD 0xMASK VALUE\"\n"
		"  -h, --help  this text\n", tm_prefix());
}

/*
 * A server with one loop per thread (lab 20): each loop's own figures, as lines
 * "loop0.wait_calls 12" (so a check can say srv.loop0.wait_calls), or JSON.
 */
static void print_loops(const struct tm_reader *r, bool json)
{
	unsigned n = tm_read_nloops(r);
	uint64_t v[TL_NFIELDS_USED];

	if (!json)
		printf("loops %u\n", n);
	else
		printf(",\"loops\":[");
	for (unsigned i = 0; i < n; i++) {
		tm_read_loop(r, i, v);
		for (unsigned f = 0; f < TL_NFIELDS_USED; f++) {
			if (json)
				printf("%s\"%s\":%llu", f ? "," : i ? ",{" : "{", tm_loop_names[f],
				       (unsigned long long)v[f]);
			else
				printf("loop%u.%s %llu\n", i, tm_loop_names[f], (unsigned long long)v[f]);
		}
		if (json)
			printf("}");
	}
	if (json)
		printf("]");
}

static void print_lines(const struct tm_reader *r, const uint64_t *ctr, bool probes)
{
	const struct tm_header *h = r->hdr;

	printf("path %s\n", r->path);
	printf("kind %s\n", h->kind == TM_KIND_PROBE ? "probe" : "server");
	printf("model %.*s\n", (int)sizeof(h->model), h->model);
	printf("wait_call %.*s\n", (int)sizeof(h->wait_call), h->wait_call);
	printf("pid %d\n", (int)h->pid);
	printf("addr %.*s\n", (int)sizeof(h->addr), h->addr);
	printf("port %u\n", (unsigned)h->port);
	printf("options %.*s\n", (int)sizeof(h->options), h->options);
	printf("alive %d\n", tm_reader_alive(r) ? 1 : 0);
	printf("exiting %u\n", (unsigned)__atomic_load_n(&h->exiting, __ATOMIC_RELAXED));
	printf("uptime_ms %llu\n", (unsigned long long)((tm_now() - h->start_mono_ns) / 1000000));
	for (unsigned i = 0; i < TM_NCOUNTERS_USED; i++)
		printf("%s %llu\n", tm_counter_names[i], (unsigned long long)ctr[i]);
	print_loops(r, false);
	if (!probes)
		return;
	for (unsigned i = 0; i < h->nprobe; i++) {
		const struct tm_probe *p = &r->probes[i];

		if (!__atomic_load_n(&p->valid, __ATOMIC_ACQUIRE))
			continue;
		printf("probe.%u %.*s|%.*s|0x%x|0x%x|%d\n", i, (int)sizeof(p->label), p->label,
		       (int)sizeof(p->mech), p->mech, p->registered, p->mask, p->so_error);
	}
}

/* The events still in the ring, oldest first: lines, or a JSON array's items. */
static void print_events(const struct tm_reader *r, bool json)
{
	static struct tm_event ev[TM_NLOG];
	uint64_t cursor = 0, missed = 0;
	size_t n = tm_read_log(r, &cursor, ev, TM_NLOG, &missed);

	for (size_t i = 0; i < n; i++) {
		uint64_t index = (cursor - n) + i;

		if (json)
			printf("%s{\"index\":%llu,\"kind\":\"%s\",\"fd\":%d,\"mask\":%u,\"value\":%lld}",
			       i ? "," : "", (unsigned long long)index, tm_event_name(ev[i].kind),
			       (int)ev[i].fd, ev[i].mask, (long long)ev[i].value);
		else
			printf("event %llu %s %d 0x%x %lld\n", (unsigned long long)index,
			       tm_event_name(ev[i].kind), (int)ev[i].fd, ev[i].mask, (long long)ev[i].value);
	}
}

static void print_json(const struct tm_reader *r, const uint64_t *ctr, bool probes, bool events)
{
	const struct tm_header *h = r->hdr;
	bool first = true;

	printf("{\"path\":");
	json_string_n(stdout, r->path, sizeof(r->path));
	printf(",\"kind\":\"%s\",\"model\":", h->kind == TM_KIND_PROBE ? "probe" : "server");
	json_string_n(stdout, h->model, sizeof(h->model));
	printf(",\"wait_call\":");
	json_string_n(stdout, h->wait_call, sizeof(h->wait_call));
	printf(",\"pid\":%d,\"addr\":", (int)h->pid);
	json_string_n(stdout, h->addr, sizeof(h->addr));
	printf(",\"port\":%u,\"options\":", (unsigned)h->port);
	json_string_n(stdout, h->options, sizeof(h->options));
	printf(",\"alive\":%s,\"counters\":{", tm_reader_alive(r) ? "true" : "false");
	for (unsigned i = 0; i < TM_NCOUNTERS_USED; i++)
		printf("%s\"%s\":%llu", i ? "," : "", tm_counter_names[i], (unsigned long long)ctr[i]);
	printf("}");
	print_loops(r, true);
	if (probes) {
		printf(",\"probes\":[");
		for (unsigned i = 0; i < h->nprobe; i++) {
			const struct tm_probe *p = &r->probes[i];

			if (!__atomic_load_n(&p->valid, __ATOMIC_ACQUIRE))
				continue;
			printf("%s{\"index\":%u,\"label\":", first ? "" : ",", i);
			json_string_n(stdout, p->label, sizeof(p->label));
			printf(",\"mech\":");
			json_string_n(stdout, p->mech, sizeof(p->mech));
			printf(",\"registered\":%u,\"mask\":%u,\"so_error\":%d}",
			       p->registered, p->mask, p->so_error);
			first = false;
		}
		printf("]");
	}
	if (events) {
		printf(",\"events\":[");
		print_events(r, true);
		printf("]");
	}
	printf("}\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help",   no_argument, NULL, 'h' },
		{ "json",   no_argument, NULL, 'j' },
		{ "probes", no_argument, NULL, 'P' },
		{ "events", no_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t ctr[TM_NCOUNTERS];
	struct tm_reader r;
	struct find f;
	bool json = false, probes = false, events = false;
	const char *arg, *path;
	char *end;
	long pid;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return 0;
		case 'j': json = true; break;
		case 'P': probes = true; break;
		case 'E': events = true; break;
		default:  usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	arg = argv[optind];
	path = arg;
	errno = 0;
	pid = strtol(arg, &end, 10);
	if (!errno && *arg && !*end) {
		if (pid <= 0) {
			fprintf(stderr, "iolab-stat: '%s' is not a pid\n", arg);
			return 2;
		}
		memset(&f, 0, sizeof(f));
		snprintf(f.suffix, sizeof(f.suffix), ".%ld", pid);
		tm_list(match_pid, &f);
		if (!f.path[0]) {
			fprintf(stderr, "iolab-stat: no telemetry segment for pid %ld in /dev/shm/%s.*"
				" (not running, or started with --no-stats?)\n", pid, tm_prefix());
			return 1;
		}
		path = f.path;
	}
	rc = tm_reader_open(&r, path);
	if (rc != TM_OK) {
		fprintf(stderr, "iolab-stat: %s: %s%s%s\n", path, tm_open_strerror(rc),
			rc == TM_ERR_OPEN ? ": " : "", rc == TM_ERR_OPEN ? strerror(errno) : "");
		return 1;
	}
	tm_read_counters(&r, ctr);
	if (json) {
		print_json(&r, ctr, probes, events);
	} else {
		print_lines(&r, ctr, probes);
		if (events)
			print_events(&r, false);
	}
	tm_reader_close(&r);
	return 0;
}
