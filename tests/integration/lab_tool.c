/*
 * lab_tool.c — client and telemetry helper for the tests of labs 7-9
 * (t-lab7-*.sh, t-lab8-*.sh, t-lab9-*.sh).  Not a test itself.
 *
 *   lab_tool counters PID            every counter of the server's segment, "name value"
 *   lab_tool events PID              the event log by kind: "kind count=N min=A max=B or=0xM"
 *   lab_tool slots PID               live connection slots: "fd=F port=P state=S interest=0xI ready=0xR"
 *   lab_tool flood PORT N F SIZE     N clients at once, each writes F frames of SIZE bytes
 *                                        (one write per frame), then checks every echoed byte
 *   lab_tool stall PORT IDLE_MS      client A connects and idles IDLE_MS before its frame;
 *                                        client B connects 200 ms in and sends at once.
 *                                        Prints "b_wait_ms=W": how long B waited for its echo
 *   lab_tool slow-reader PORT SIZE RCVBUF [FRAMES]   FRAMES (default 1) different frames
 *                                        of SIZE bytes, written by one thread while another reads
 *                                        the echo back in small reads through an RCVBUF receive buffer
 *   lab_tool hog PORT SIZE MS        a SIZE-byte frame through a 4 KiB SO_RCVBUF, then MS
 *                                        milliseconds of not reading its echo, then close
 *   lab_tool uring-probe             exit 0 if io_uring_setup works here, else 77 + reason
 *   lab_tool no-uring ERRNO PROG ARGS...   run PROG with io_uring_setup failing with
 *                                        ERRNO (EPERM or ENOSYS) through a seccomp filter
 *
 * Exit 0 on success, 1 on a failed check (with a message), 2 on bad usage.
 */
#include <errno.h>
#include <glob.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include "tests/lib/t_helpers.h"
#include "common/framing.h"
#include "common/net.h"
#include "common/telemetry.h"

#define IO_TIMEOUT_S 10   /* no socket call here waits longer */

static uint16_t port;

static long num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || end == s || v < 0) {
		fprintf(stderr, "lab_tool: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

/* ------------------------------------------------------------ telemetry */

static void open_segment(struct tm_reader *r, const char *pid)
{
	char pattern[160];
	glob_t g;
	int rc;

	snprintf(pattern, sizeof(pattern), "/dev/shm/%s.*.%s", tm_prefix(), pid);
	if (glob(pattern, 0, NULL, &g) != 0)
		t_die("no telemetry segment %s", pattern);
	rc = tm_reader_open(r, g.gl_pathv[0]);
	if (rc != TM_OK)
		t_die("%s: %s", g.gl_pathv[0], tm_open_strerror(rc));
	globfree(&g);
}

static int cmd_counters(const char *pid)
{
	struct tm_reader r;
	uint64_t c[TM_NCOUNTERS];

	open_segment(&r, pid);
	tm_read_counters(&r, c);
	printf("model %s\nwait_call %s\n", r.hdr->model, r.hdr->wait_call);
	for (int i = 0; i < TM_NCOUNTERS_USED; i++)
		printf("%s %llu\n", tm_counter_names[i], (unsigned long long)c[i]);
	tm_reader_close(&r);
	return 0;
}

static int cmd_events(const char *pid)
{
	struct { uint64_t n; int64_t min, max; uint64_t or; } k[EV_NKINDS];
	struct tm_event ev[256];
	struct tm_reader r;
	uint64_t cursor = 0, missed = 0, lost = 0;
	size_t n;

	memset(k, 0, sizeof(k));
	open_segment(&r, pid);
	while ((n = tm_read_log(&r, &cursor, ev, 256, &missed)) > 0 || missed) {
		lost += missed;
		missed = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned kind = ev[i].kind < EV_NKINDS ? ev[i].kind : 0;

			if (!k[kind].n || ev[i].value < k[kind].min)
				k[kind].min = ev[i].value;
			if (!k[kind].n || ev[i].value > k[kind].max)
				k[kind].max = ev[i].value;
			k[kind].or |= (uint64_t)ev[i].value;
			k[kind].n++;
		}
	}
	for (unsigned i = 0; i < EV_NKINDS; i++)
		if (k[i].n)
			printf("%s count=%llu min=%lld max=%lld or=0x%llx\n", tm_event_name(i),
			       (unsigned long long)k[i].n, (long long)k[i].min, (long long)k[i].max,
			       (unsigned long long)k[i].or);
	printf("overwritten %llu\n", (unsigned long long)lost);
	tm_reader_close(&r);
	return 0;
}

static int cmd_slots(const char *pid)
{
	struct tm_reader r;
	struct tm_conn s;
	unsigned hwm;

	open_segment(&r, pid);
	hwm = atomic_load(&r.hdr->slot_hwm);
	for (unsigned i = 0; i < hwm; i++)
		if (tm_read_slot(&r, i, &s))
			printf("fd=%d port=%u state=%s interest=0x%x ready=0x%x waits=%llu\n", s.fd, s.peer_port,
			       tm_state_name(s.state), s.interest, s.ready, (unsigned long long)s.waits);
	tm_reader_close(&r);
	return 0;
}

/* ------------------------------------------------------------ clients */

static int connect_client(int rcvbuf)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	struct sockaddr_storage ss;
	socklen_t len = net_sockaddr("127.0.0.1", port, &ss);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		t_die("socket: %s", strerror(errno));
	/* Before connect(), so that the window offered to the server is small from the start. */
	if (rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
		t_die("setsockopt(SO_RCVBUF): %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		t_die("connect 127.0.0.1:%u: %s", port, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static void write_all(int fd, const char *p, size_t n)
{
	if (t_write_all(fd, p, n) < 0)
		t_die("write: %s", strerror(errno));
}

/* Read n bytes in reads of at most `step` (0 = all at once); fail on EOF/timeout. */
static void read_exact(int fd, char *p, size_t n, size_t step, useconds_t pause)
{
	while (n) {
		ssize_t r = read(fd, p, step && step < n ? step : n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			t_die("read: %s with %zu bytes still expected", r < 0 ? strerror(errno) : "EOF", n);
		p += r;
		n -= (size_t)r;
		if (pause)
			usleep(pause);
	}
}

/* A frame whose payload depends on (id, len): the echo can be checked exactly. */
static size_t make_frame(char *buf, uint32_t len, unsigned id)
{
	len32_put((unsigned char *)buf, len);
	for (uint32_t i = 0; i < len; i++)
		buf[LEN32_HDR + i] = (char)(i * 31 + id * 7 + (i >> 8));
	return LEN32_HDR + (size_t)len;
}

struct flood {
	pthread_barrier_t *go;
	unsigned id, frames;
	uint32_t size;
};

static void *flood_client(void *arg)
{
	struct flood *f = arg;
	size_t one = LEN32_HDR + f->size, total = one * f->frames;
	char *out = malloc(total), *in = malloc(total);
	int fd;

	if (!out || !in)
		t_die("out of memory");
	for (unsigned i = 0; i < f->frames; i++)
		make_frame(out + i * one, f->size, f->id + i);
	fd = connect_client(0);
	pthread_barrier_wait(f->go);
	/* One write per frame: with TCP_NODELAY each is its own segment, its own wakeup. */
	for (unsigned i = 0; i < f->frames; i++)
		write_all(fd, out + i * one, one);
	read_exact(fd, in, total, 0, 0);
	if (memcmp(in, out, total))
		t_die("client %u: echo differs from what was sent", f->id);
	close(fd);
	free(out);
	free(in);
	return NULL;
}

static int cmd_flood(unsigned n, unsigned frames, uint32_t size)
{
	pthread_barrier_t go;
	pthread_t *t = calloc(n, sizeof(*t));
	struct flood *f = calloc(n, sizeof(*f));

	if (!t || !f || n == 0)
		t_die("bad client count");
	pthread_barrier_init(&go, NULL, n);
	for (unsigned i = 0; i < n; i++) {
		f[i] = (struct flood){ &go, i, frames, size };
		if (pthread_create(&t[i], NULL, flood_client, &f[i]))
			t_die("pthread_create");
	}
	for (unsigned i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("flood: %u clients x %u frames of %u bytes echoed intact\n", n, frames, size);
	free(t);
	free(f);
	return 0;
}

/* Send one frame on fd and check its echo. */
static void echo_frame(int fd, uint32_t len, unsigned id)
{
	char out[LEN32_HDR + 256], in[LEN32_HDR + 256];
	size_t n = make_frame(out, len, id);

	write_all(fd, out, n);
	read_exact(fd, in, n, 0, 0);
	if (memcmp(in, out, n))
		t_die("client %u: echo differs", id);
}

static void *idle_client(void *arg)
{
	long idle_ms = *(long *)arg;
	int fd = connect_client(0);

	usleep((useconds_t)idle_ms * 1000);
	echo_frame(fd, 100, 1);
	close(fd);
	return NULL;
}

static int cmd_stall(long idle_ms)
{
	pthread_t a;
	uint64_t t0;
	int fd;

	if (pthread_create(&a, NULL, idle_client, &idle_ms))
		t_die("pthread_create");
	usleep(200000);
	fd = connect_client(0);
	t0 = t_now_ms();
	echo_frame(fd, 100, 2);
	printf("b_wait_ms=%llu\n", (unsigned long long)(t_now_ms() - t0));
	close(fd);
	pthread_join(a, NULL);
	return 0;
}

struct writer {
	int fd;
	const char *p;
	size_t n;
};

static void *writer(void *arg)
{
	struct writer *w = arg;

	write_all(w->fd, w->p, w->n);
	return NULL;
}

static int cmd_slow_reader(uint32_t size, int rcvbuf, unsigned frames)
{
	size_t one = LEN32_HDR + (size_t)size, n = one * frames;
	char *out = malloc(n), *in = malloc(n);
	struct writer w;
	pthread_t t;

	if (!out || !in || frames == 0)
		t_die("out of memory");
	for (unsigned i = 0; i < frames; i++)
		make_frame(out + i * one, size, 3 + i);
	w = (struct writer){ connect_client(rcvbuf), out, n };
	/* Writing goes on while we read: the server keeps appending echo behind its sends. */
	if (pthread_create(&t, NULL, writer, &w))
		t_die("pthread_create");
	/* Small reads with a pause: the server's sends find room a little at a time. */
	read_exact(w.fd, in, n, 4096, 500);
	pthread_join(t, NULL);
	for (unsigned i = 0; i < frames; i++)
		if (memcmp(in + i * one, out + i * one, one))
			t_die("slow reader: echo of frame %u of %u differs", i, frames);
	printf("slow-reader: %u x %zu bytes echoed intact through SO_RCVBUF %d\n", frames, one, rcvbuf);
	close(w.fd);
	free(out);
	free(in);
	return 0;
}

static int cmd_hog(uint32_t size, long ms)
{
	char *out = malloc(LEN32_HDR + (size_t)size);
	int fd;

	if (!out)
		t_die("out of memory");
	fd = connect_client(4096);
	write_all(fd, out, make_frame(out, size, 5));
	usleep((useconds_t)ms * 1000);
	close(fd);
	free(out);
	return 0;
}

/* ------------------------------------------------------------ io_uring */

/* The same first step as echo-uring: io_uring_setup() (liburing's queue_init calls it). */
static int cmd_uring_probe(void)
{
	struct io_uring_params p;
	int fd;

	memset(&p, 0, sizeof(p));
	fd = (int)syscall(__NR_io_uring_setup, 8, &p);
	if (fd >= 0) {
		close(fd);
		printf("io_uring available\n");
		return 0;
	}
	printf("io_uring unavailable: io_uring_setup: %s (sysctl kernel.io_uring_disabled, or a "
	       "seccomp profile; see bin/echo-uring's message)\n", strerror(errno));
	return 77;
}

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

static int cmd_no_uring(const char *err, char **argv)
{
#ifdef NATIVE_ARCH
	int e = !strcmp(err, "EPERM") ? EPERM : !strcmp(err, "ENOSYS") ? ENOSYS : 0;
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)e),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (!e) {
		fprintf(stderr, "lab_tool: no-uring wants EPERM or ENOSYS\n");
		return 2;
	}
	/* What a container runtime does: unprivileged filters need no_new_privs. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		printf("seccomp filter not installable: %s\n", strerror(errno));
		return 77;
	}
	execv(argv[0], argv);
	t_die("exec %s: %s", argv[0], strerror(errno));
#else
	(void)err;
	(void)argv;
	printf("no seccomp architecture constant for this machine\n");
	return 77;
#endif
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && !strcmp(argv[1], "counters"))
		return cmd_counters(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "events"))
		return cmd_events(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "slots"))
		return cmd_slots(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "uring-probe"))
		return cmd_uring_probe();
	if (argc >= 4 && !strcmp(argv[1], "no-uring"))
		return cmd_no_uring(argv[2], argv + 3);
	if (argc >= 3)
		port = (uint16_t)num(argv[2]);
	if (argc == 6 && !strcmp(argv[1], "flood"))
		return cmd_flood((unsigned)num(argv[3]), (unsigned)num(argv[4]), (uint32_t)num(argv[5]));
	if (argc == 4 && !strcmp(argv[1], "stall"))
		return cmd_stall(num(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "hog"))
		return cmd_hog((uint32_t)num(argv[3]), num(argv[4]));
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "slow-reader"))
		return cmd_slow_reader((uint32_t)num(argv[3]), (int)num(argv[4]), argc == 6 ? (unsigned)num(argv[5]) : 1);
	fprintf(stderr, "usage: see the comment at the top of tests/integration/lab_tool.c\n");
	return 2;
}
