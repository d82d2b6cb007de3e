/*
 * Description: libFuzzer harness for the telemetry reader (common/telemetry.c).
 *
 * iolab-view maps segments that other processes wrote, so to the reader a segment
 * is untrusted input.  Here the fuzz input is the whole segment file: it is written
 * to a scratch file, and tm_reader_open() must either refuse it or map it so that
 * every read the viewer does stays inside the mapping: all counters, every slot,
 * the event log from several cursors, the probe records.  A crash, a hang or a
 * read out of bounds fails the run.  A mapping is whole pages, so a read a little
 * past the validated size (or past the end of the file) would land in the zero-filled
 * tail of the last page and go unnoticed: the build links with
 * -Wl,--wrap=mmap,--wrap=munmap, and the wrappers below poison that tail for
 * AddressSanitizer.
 *
 * The scratch file is /dev/shm/iolab-fuzz-tm.<pid> (not "iolab.<...>", so no viewer
 * lists it), removed at exit.
 *
 * Build and run: make fuzz FUZZ_SECONDS=60  (or build/fuzz/fuzz_telemetry DIR -runs=N)
 */
#include <fcntl.h>
#include <sanitizer/asan_interface.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/telemetry.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_munmap(void *addr, size_t len);
int __wrap_munmap(void *addr, size_t len);

static size_t page_round(size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (len + pg - 1) & ~(pg - 1);
}

/*
 * mmap for telemetry.c: the bytes past the length asked for, and past the end of the
 * file (SIGBUS beyond its last page, silent zeros within it), up to the page end are
 * poisoned.
 */
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = __real_mmap(addr, len, prot, flags, fd, off);
	size_t valid = len;
	struct stat st;

	if (p == MAP_FAILED)
		return p;
	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size - off < (off_t)len)
		valid = st.st_size > off ? (size_t)(st.st_size - off) : 0;
	ASAN_POISON_MEMORY_REGION((char *)p + valid, page_round(len) - valid);
	return p;
}

int __wrap_munmap(void *addr, size_t len)
{
	ASAN_UNPOISON_MEMORY_REGION(addr, page_round(len));
	return __real_munmap(addr, len);
}

static char path[128];

static void remove_scratch(void)
{
	unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(path, sizeof(path), "%s/iolab-fuzz-tm.%d", dir, (int)getpid());
	atexit(remove_scratch);
	return 0;
}

static void write_file(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0) {
		perror(path);
		abort();
	}
	while (size > 0) {
		ssize_t w = write(fd, data, size);

		if (w <= 0) {
			perror("write");
			abort();
		}
		data += w;
		size -= (size_t)w;
	}
	close(fd);
}

/* Touch every byte of a copied-out record so MSan/ASan/UBSan see it used. */
static volatile uint64_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tm_event ev[256];
	uint64_t counters[TM_NCOUNTERS];
	struct tm_reader r;
	struct tm_conn c;
	uint64_t cursor, missed, head;
	int rc;

	write_file(data, size);
	rc = tm_reader_open(&r, path);
	if (rc != TM_OK) {
		if (r.map)
			abort();                /* refused, yet something is mapped */
		if (tm_open_strerror(rc) == NULL)
			abort();
		return 0;
	}
	if (!r.map || r.nslots == 0 || r.nlog == 0 || (r.nlog & (r.nlog - 1)))
		abort();                        /* accepted, but not what open promises */

	tm_read_counters(&r, counters);
	for (unsigned i = 0; i < TM_NCOUNTERS; i++)
		sink += counters[i];
	(void)tm_reader_alive(&r);          /* kill(pid, 0): sends nothing */

	/* Every slot (and a few past the end, which must be refused). */
	for (unsigned i = 0; i < r.nslots + 4; i++) {
		if (tm_read_slot(&r, i, &c)) {
			if (i >= r.nslots)
				abort();
			sink += c.bytes_in + (uint64_t)c.fd + tm_state_name(c.state)[0];
		}
	}

	/* The event log from the start, from the writer's head, and from a far cursor. */
	head = atomic_load_explicit(&r.hdr->log_head, memory_order_relaxed);
	const uint64_t starts[] = { 0, head > 8 ? head - 8 : 0, head, head + 1, UINT64_MAX - 1 };
	for (unsigned s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
		size_t n, got = 0;

		cursor = starts[s];
		for (int rounds = 0; rounds < 8; rounds++) {    /* a reader polls again and again */
			n = tm_read_log(&r, &cursor, ev, sizeof(ev) / sizeof(ev[0]), &missed);
			if (n > sizeof(ev) / sizeof(ev[0]))
				abort();
			for (size_t i = 0; i < n; i++)
				sink += ev[i].value + (uint64_t)tm_event_name(ev[i].kind)[0];
			got += n;
			if (n == 0)
				break;
		}
		if (got > (size_t)8 * (sizeof(ev) / sizeof(ev[0])))
			abort();
	}

	/* Probe records: only up to the validated count. */
	for (unsigned i = 0; i < r.nprobe; i++)
		sink += r.probes[i].mask + (uint64_t)r.probes[i].label[sizeof(r.probes[i].label) - 1];

	/* Event loops: the header's count is the writer's word, clamped by the reader. */
	for (unsigned i = 0, n = tm_read_nloops(&r); i < n; i++) {
		uint64_t v[TL_NFIELDS_USED];

		if (n > TM_NLOOPS)
			abort();
		tm_read_loop(&r, i, v);
		sink += v[TL_WAIT_CALLS];
	}

	tm_reader_close(&r);
	if (r.map || r.hdr)
		abort();
	return 0;
}
