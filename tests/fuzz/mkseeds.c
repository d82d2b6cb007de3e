/*
 * Description: writes the seed corpora of the fuzz harnesses (tests/fuzz/corpus/).
 *
 *   framing/    small streams for fuzz_framing: each framing with frames that fit,
 *               frames over the limit, a truncated last frame, odd read sizes
 *   telemetry/  small but valid segments (1-4 slots, 1-8 log entries, 0-2 probes,
 *               events lapped, still being written, cursors near 2^64), and ones a
 *               reader must refuse (short, bad magic, version, sizes, counts)
 *
 * Usage: build/fuzz/mkseeds DIR    (make fuzz-seeds writes tests/fuzz/corpus/)
 * Rerun it when struct tm_header or the layout changes, and commit the result.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/framing.h"
#include "common/telemetry.h"

static const char *outdir;

static void put(const char *sub, const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, sub);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, sub, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* ----------------------------------------------------------------- framing */

/* fuzz_framing's input: framing index, max-frame (LE16), K, K read sizes, stream. */
static void framing_seed(const char *name, unsigned fi, unsigned max, const char *splits,
			 const void *stream, size_t n)
{
	unsigned char b[4096];
	size_t k = strlen(splits), len = 4 + k + n;

	if (len > sizeof(b))
		exit(1);
	b[0] = (unsigned char)fi;
	b[1] = (unsigned char)max;
	b[2] = (unsigned char)(max >> 8);
	b[3] = (unsigned char)k;
	for (size_t i = 0; i < k; i++)      /* splits: '0'..'9' = 0..9 bytes, 'z' = the rest */
		b[4 + i] = splits[i] == 'z' ? 255 : (unsigned char)(splits[i] - '0');
	memcpy(b + 4 + k, stream, n);
	put("framing", name, b, len);
}

/* A len32 stream of the given payload lengths (payload bytes: a counting pattern). */
static size_t len32_stream(unsigned char *out, const unsigned *lens, size_t nlens)
{
	size_t n = 0;

	for (size_t i = 0; i < nlens; i++) {
		len32_put(out + n, lens[i]);
		n += LEN32_HDR;
		for (unsigned j = 0; j < lens[i]; j++)
			out[n++] = (unsigned char)('a' + j % 26);
	}
	return n;
}

static void framing_seeds(void)
{
	unsigned char s[2048];
	size_t n;
	static const unsigned l1[] = { 5, 0, 12 }, l2[] = { 200, 1, 300 }, l3[] = { 3, 40 };

	n = len32_stream(s, l1, 3);
	framing_seed("len32-three", FRAMING_LEN32, 0, "z", s, n);
	framing_seed("len32-split137", FRAMING_LEN32, 0, "137", s, n);
	framing_seed("len32-bytewise", FRAMING_LEN32, 0, "1", s, n);
	framing_seed("len32-spurious", FRAMING_LEN32, 64, "02", s, n);
	n = len32_stream(s, l2, 3);
	framing_seed("len32-big", FRAMING_LEN32, 1024, "9z", s, n);
	framing_seed("len32-over", FRAMING_LEN32, 250, "45", s, n);   /* 300 > 250: error after two */
	n = len32_stream(s, l3, 2);
	framing_seed("len32-truncated", FRAMING_LEN32, 0, "z", s, n - 7);
	framing_seed("len32-exact", FRAMING_LEN32, 40, "8", s, n);
	memcpy(s, "\xff\xff\xff\xff" "abc", 7);
	framing_seed("len32-huge", FRAMING_LEN32, 0, "2", s, 7);

	framing_seed("line-three", FRAMING_LINE, 0, "z", "abc\ndef\n\n", 9);
	framing_seed("line-split2", FRAMING_LINE, 0, "2", "abc\ndef\n\nxyz", 12);
	framing_seed("line-bytewise", FRAMING_LINE, 16, "1", "hello\nworld\n", 12);
	framing_seed("line-exact", FRAMING_LINE, 4, "3", "abc\nab\nabcd\n", 12);  /* 5 > 4 */
	framing_seed("line-long-nonl", FRAMING_LINE, 8, "5", "0123456789abcdef", 16);
	framing_seed("line-spurious", FRAMING_LINE, 32, "0301", "one\r\ntwo\r\nthree", 15);
	framing_seed("line-crlf", FRAMING_LINE, 0, "z", "GET / HTTP/1.0\r\nHost: x\r\n\r\n", 27);

	framing_seed("fixed-4", FRAMING_FIXED, 4, "z", "abcdefghij", 10);
	framing_seed("fixed-1-split", FRAMING_FIXED, 1, "3", "abcdef", 6);
	framing_seed("fixed-7-spurious", FRAMING_FIXED, 7, "0502", "0123456789abcdefghijklmnop", 26);
	n = len32_stream(s, l2, 3);
	framing_seed("fixed-300", FRAMING_FIXED, 300, "9z", s, n);

	framing_seed("raw-one", FRAMING_RAW, 0, "z", "anything at all", 15);
	framing_seed("raw-reads", FRAMING_RAW, 0, "1503z", "abcdefghijklmnopqrstuvwxyz", 26);
	framing_seed("raw-empty", FRAMING_RAW, 0, "", "", 0);
	framing_seed("raw-binary", FRAMING_RAW, 4, "7", "\0\n\xff\0\0\0\x05hello", 13);
}

/* --------------------------------------------------------------- telemetry */

/* The layout tm_reader_open() expects (as layout_of() in telemetry.c computes it). */
static size_t align64(size_t x) { return (x + 63) & ~(size_t)63; }

static struct tm_header writer_header;   /* what tm_open() wrote, copied once */

struct seg {
	unsigned char *p;
	size_t size, slots, log, probes;
	unsigned nslots, nlog, nprobe;
};

static struct seg seg_new(unsigned nslots, unsigned nlog, unsigned nprobe)
{
	struct seg s = { .nslots = nslots, .nlog = nlog, .nprobe = nprobe };
	struct tm_header *h;

	s.slots = align64(sizeof(struct tm_header));
	s.log = align64(s.slots + nslots * sizeof(struct tm_conn));
	s.probes = s.log + nlog * sizeof(struct tm_event);
	s.size = align64(s.probes + nprobe * sizeof(struct tm_probe)) + TM_NLOOPS * sizeof(struct tm_loop);
	s.p = calloc(1, s.size + 256);    /* room for a file longer than the layout */
	if (!s.p)
		exit(1);
	/* The header a real writer fills in, resized to these counts. */
	memcpy(s.p, &writer_header, sizeof(writer_header));
	h = (struct tm_header *)s.p;
	h->total_size = s.size;
	h->nslots = nslots;
	h->nlog = nlog;
	h->nprobe = nprobe;
	h->pid = 1;
	h->port = 7000;
	for (unsigned i = 0; i < TM_NCOUNTERS_USED; i++)
		atomic_store(&h->counters[i], i * 3u);
	return s;
}

static struct tm_header *hdr(struct seg *s) { return (struct tm_header *)s->p; }

static void seg_slot(struct seg *s, unsigned i, uint32_t seq, int fd, unsigned state)
{
	struct tm_conn *c = (struct tm_conn *)(s->p + s->slots) + i;

	atomic_store(&c->seq, seq);
	c->fd = fd;
	c->state = state;
	c->interest = 0x1;
	c->bytes_in = 100 + i;
	c->queued = i;
}

/* Events with index [first, head): slot idx & (nlog-1) holds event idx, seq 2*idx+2. */
static void seg_events(struct seg *s, uint64_t first, uint64_t head)
{
	struct tm_event *ev = (struct tm_event *)(s->p + s->log);

	for (uint64_t idx = first; idx < head; idx++) {
		struct tm_event *e = &ev[idx & (s->nlog - 1)];

		atomic_store(&e->seq, 2 * idx + 2);
		e->t_ns = 1000 * idx;
		e->fd = 5;
		e->kind = (uint16_t)(1 + idx % (EV_NKINDS - 1));
		e->value = (int64_t)idx;
	}
	atomic_store(&hdr(s)->log_head, head);
}

static void seg_put(struct seg *s, const char *name, size_t size)
{
	put("telemetry", name, s->p, size);
	free(s->p);
}

static void telemetry_seeds(void)
{
	struct seg s;
	struct tm_probe *pr;

	s = seg_new(1, 1, 0);
	seg_put(&s, "valid-1-1-0", s.size);

	s = seg_new(2, 4, 1);
	seg_slot(&s, 0, 2, 0, CONN_READING);
	seg_slot(&s, 1, 3, 1, CONN_WRITING);          /* odd seq: being written */
	seg_events(&s, 0, 3);
	pr = (struct tm_probe *)(s.p + s.probes);
	snprintf(pr->label, sizeof(pr->label), "refused connect");
	snprintf(pr->mech, sizeof(pr->mech), "epoll-lt");
	pr->mask = 0x18;
	pr->valid = 1;
	atomic_store(&hdr(&s)->slot_hwm, 2);
	seg_put(&s, "valid-2-4-1", s.size);

	s = seg_new(4, 8, 2);
	for (unsigned i = 0; i < 4; i++)
		seg_slot(&s, i, 2 * i, (int)i + 4, i % CONN_NSTATES);
	seg_events(&s, 12, 20);                       /* lapped: 20 written, 8 kept */
	atomic_store(&hdr(&s)->slot_hwm, 1000);       /* a lying high-water mark */
	seg_put(&s, "valid-4-8-2-lapped", s.size);

	s = seg_new(3, 2, 0);
	seg_events(&s, 0, 2);
	atomic_store(&hdr(&s)->log_head, 5);          /* head ahead of what was written */
	seg_put(&s, "valid-3-2-0-ahead", s.size);

	s = seg_new(1, 4, 0);
	seg_events(&s, UINT64_MAX / 2 - 6, UINT64_MAX / 2 - 2);
	atomic_store(&hdr(&s)->log_head, UINT64_MAX);
	seg_put(&s, "valid-head-max", s.size);

	s = seg_new(2, 2, 0);
	hdr(&s)->kind = TM_KIND_PROBE;
	hdr(&s)->pid = -1;
	memset(hdr(&s)->model, 'x', sizeof(hdr(&s)->model));   /* no NUL */
	seg_put(&s, "valid-probe-nonul", s.size + 100);          /* longer file than the layout: fine */

	/* Refused ones. */
	s = seg_new(2, 4, 1);
	seg_put(&s, "short-layout", s.size - 1);
	s = seg_new(1, 1, 0);
	seg_put(&s, "short-header", sizeof(struct tm_header) - 1);
	s = seg_new(1, 1, 0);
	hdr(&s)->magic ^= 1;
	seg_put(&s, "bad-magic", s.size);
	s = seg_new(1, 1, 0);
	hdr(&s)->version = TM_VERSION + 1;
	seg_put(&s, "bad-version", s.size);
	s = seg_new(1, 3, 0);
	seg_put(&s, "bad-nlog-not-pow2", s.size);
	s = seg_new(1, 1, 0);
	hdr(&s)->total_size += 8;
	seg_put(&s, "bad-total", s.size);
	s = seg_new(1, 1, 0);
	hdr(&s)->nslots = 0;
	seg_put(&s, "bad-nslots-zero", s.size);
	s = seg_new(1, 1, 0);
	hdr(&s)->nslots = 1u << 30;
	seg_put(&s, "bad-nslots-huge", s.size);
	s = seg_new(1, 1, 0);
	hdr(&s)->slot_size = 8;
	seg_put(&s, "bad-slot-size", s.size);
	s = seg_new(1, 1, 0);
	hdr(&s)->ncounters = TM_NCOUNTERS + 1;
	seg_put(&s, "bad-ncounters", s.size);
	put("telemetry", "empty", "", 0);
}

int main(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: mkseeds DIR   (writes DIR/framing/ and DIR/telemetry/)\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) < 0 && errno != EEXIST) {
		perror(outdir);
		return 1;
	}
	/* Let the writer fill in a header (in a segment of our own prefix), then drop it. */
	setenv("IOLAB_SHM_PREFIX", "iolabseeds", 1);
	if (tm_open(&(struct tm_info){ .kind = TM_KIND_SERVER, .model = "epoll-lt", .wait_call = "epoll_wait",
				       .addr = "127.0.0.1", .options = "framing=len32 max-frame=1048576" }) < 0) {
		perror("tm_open");
		return 1;
	}
	memcpy(&writer_header, tm_self->hdr, sizeof(writer_header));
	tm_close();
	writer_header.start_realtime_ns = writer_header.start_mono_ns = 1000000000;  /* same seeds every time */
	framing_seeds();
	telemetry_seeds();
	return 0;
}
