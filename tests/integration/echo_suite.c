/*
 * Description: the shared server suite.  Every case runs against every row of
 * tests/servers.tsv, so a new model is tested by adding one line there.
 *
 *   echo_suite --list
 *   echo_suite --case NAME -- bin/echo-epoll-lt [FLAGS...]
 *
 * Each case starts its own server on port 0 (reading the real port from its
 * "listening on" line), talks to it over loopback, stops it with SIGTERM and
 * checks that it exited 0 and removed its telemetry segment.  Exit 0 pass,
 * 1 fail, 77 skip.  Seeds are printed (IOLAB_SEED replays one).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include "tests/lib/t_helpers.h"
#include "common/framing.h"
#include "common/net.h"
#include "common/telemetry.h"

#define IO_TIMEOUT_S   15     /* no single socket call in a case may wait longer */
#define MIB            (1024u * 1024u)

static int failures;
static char **server_argv;
static int server_argc;
static uint64_t seed;

#define CHECK(cond, ...) do { if (!(cond)) { t_fail(__LINE__, __VA_ARGS__); } } while (0)

__attribute__((format(printf, 2, 3)))
static void t_fail(int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL (echo_suite.c:%d): ", line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
}

/* xorshift64*: small, fast, reproducible from the printed seed. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* ------------------------------------------------------------ the server */

struct srv {
	pid_t    pid;
	uint16_t port;
	int      out;            /* its stdout */
};

/* Start the server under test with extra flags (NULL-terminated). */
static int srv_start(struct srv *s, const char *const *extra, const char *env)
{
	char *argv[64], line[256];
	int pipefd[2], n = 0, len = 0, status = 0;
	uint64_t deadline;

	for (int i = 0; i < server_argc && n < 40; i++)
		argv[n++] = server_argv[i];
	argv[n++] = strdup("-p");
	argv[n++] = strdup("0");
	argv[n++] = strdup("-q");
	for (int i = 0; extra && extra[i] && n < 62; i++)
		argv[n++] = strdup(extra[i]);
	argv[n] = NULL;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	s->pid = fork();
	if (s->pid > 0)
		for (int i = server_argc; i < n; i++)
			free(argv[i]);        /* the strdup()s above: the child has its own copy */
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		dup2(pipefd[1], 1);
		if (env)
			putenv(strdup(env));
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	s->out = pipefd[0];
	deadline = t_now_ms() + 10000;
	while (t_now_ms() < deadline && len < (int)sizeof(line) - 1) {
		struct pollfd p = { .fd = s->out, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 100) <= 0)
			continue;
		r = read(s->out, line + len, 1);
		if (r <= 0)
			break;
		if (line[len++] == '\n') {
			unsigned port;
			char *colon;

			line[len] = '\0';
			colon = strrchr(line, ':');
			if (strncmp(line, "listening on ", 13) || !colon || sscanf(colon + 1, "%u", &port) != 1)
				break;
			s->port = (uint16_t)port;
			return 0;
		}
	}
	fprintf(stderr, "server did not print 'listening on ADDR:PORT' (got '%.*s')\n", len, line);
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &status, 0);
	/* Exit status 3: the model's kernel feature is unavailable (echo-uring without io_uring). */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
		fprintf(stderr, "SKIP: %s cannot run on this kernel (its message is above); see make doctor\n",
			argv[0]);
		exit(77);
	}
	return -1;
}

static bool srv_alive(const struct srv *s)
{
	return waitpid(s->pid, NULL, WNOHANG) == 0;
}

/* SIGTERM, then it must exit 0 within 5 s and leave no telemetry segment behind. */
static void srv_stop(struct srv *s)
{
	char pattern[128];
	glob_t g;
	int status = 0;
	pid_t r = 0;

	kill(s->pid, SIGTERM);
	for (int i = 0; i < 100 && (r = waitpid(s->pid, &status, WNOHANG)) == 0; i++)
		usleep(50000);
	if (r == 0) {
		t_fail(__LINE__, "server did not exit within 5 s of SIGTERM");
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &status, 0);
		return;
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "server should exit 0 on SIGTERM (status 0x%x%s)", status,
	      WIFSIGNALED(status) ? ", killed by a signal" : "");
	close(s->out);
	snprintf(pattern, sizeof(pattern), "/dev/shm/%s.*.%d", tm_prefix(), (int)s->pid);
	if (glob(pattern, 0, NULL, &g) == 0) {
		t_fail(__LINE__, "telemetry segment %s left behind", g.gl_pathv[0]);
		globfree(&g);
	}
}

static int srv_fd_count(const struct srv *s)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)s->pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

static long srv_rss_kib(const struct srv *s)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)s->pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Does the server run with AddressSanitizer's runtime (a SANITIZER=address build, or a
 * student's file linked against it by the grader)? */
static bool srv_has_asan(const struct srv *s)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)s->pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "libasan") != NULL;
	fclose(f);
	return found;
}

/* Map the server's telemetry segment; false if it has none. */
static bool srv_telemetry(const struct srv *s, struct tm_reader *r)
{
	char pattern[128];
	glob_t g;
	int rc;

	snprintf(pattern, sizeof(pattern), "/dev/shm/%s.*.%d", tm_prefix(), (int)s->pid);
	if (glob(pattern, 0, NULL, &g) != 0)
		return false;
	rc = tm_reader_open(r, g.gl_pathv[0]);
	globfree(&g);
	return rc == TM_OK;
}

/* ------------------------------------------------------------ the client */

static int client(const struct srv *s)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	char err[128];
	int fd = net_connect("127.0.0.1", s->port, err, sizeof(err));

	if (fd < 0) {
		t_fail(__LINE__, "%s", err);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Does the peer close within ms?  1 closed (EOF or reset), 0 not closed, data is an error. */
static int closed_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char b[4096];

	while (poll(&p, 1, ms) == 1) {
		ssize_t r = read(fd, b, sizeof(b));

		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return 1;
		if (r < 0)
			return 1;
	}
	return 0;
}

static void reset_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	/* SO_LINGER with timeout 0: close() sends RST instead of FIN. */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* A len32 frame of payload len, filled from the stream s. */
static size_t make_frame(char *buf, uint32_t len, uint64_t *s)
{
	len32_put((unsigned char *)buf, len);
	for (uint32_t i = 0; i < len; i++)
		buf[LEN32_HDR + i] = (char)rnd(s);
	return LEN32_HDR + (size_t)len;
}

/* Send one frame and check its echo byte for byte. */
static int echo_one(int fd, uint32_t len, uint64_t *s)
{
	size_t n;
	char *out = malloc(LEN32_HDR + (size_t)len), *in = malloc(LEN32_HDR + (size_t)len);
	int rc = -1;

	n = make_frame(out, len, s);
	if (t_write_all(fd, out, n) == 0 && t_read_exact(fd, in, n) == 0 && memcmp(out, in, n) == 0)
		rc = 0;
	free(out);
	free(in);
	return rc;
}

/* ------------------------------------------------------------ cases */

struct many_arg {
	const struct srv *s;
	int id;
};

static void *many_client(void *arg)
{
	struct many_arg *a = arg;
	uint64_t s = seed ^ ((uint64_t)a->id * 0x9e3779b97f4a7c15ull);
	int fd = client(a->s);

	if (fd < 0)
		return NULL;
	for (int i = 0; i < 200; i++) {
		uint32_t len = (uint32_t)(rnd(&s) % (64 * 1024 + 1));

		if (echo_one(fd, len, &s) < 0) {
			t_fail(__LINE__, "client %d frame %d (%u bytes): echo missing or wrong", a->id, i, len);
			break;
		}
	}
	close(fd);
	return NULL;
}

/* 50 clients x 200 frames of random sizes 0-64 KiB, every byte checked. */
static void case_many_clients(const struct srv *s)
{
	pthread_t t[50];
	struct many_arg a[50];

	for (int i = 0; i < 50; i++) {
		a[i] = (struct many_arg){ s, i };
		if (pthread_create(&t[i], NULL, many_client, &a[i]))
			t_fail(__LINE__, "pthread_create");
	}
	for (int i = 0; i < 50; i++)
		pthread_join(t[i], NULL);
}

/* Frames written one byte at a time still come back whole. */
static void case_one_byte_writes(const struct srv *s)
{
	char out[64 * 1024], in[64 * 1024];
	uint64_t st = seed;
	size_t n = 0;
	int fd = client(s);

	if (fd < 0)
		return;
	for (int i = 0; i < 20; i++)
		n += make_frame(out + n, (uint32_t)(rnd(&st) % 300), &st);
	for (size_t i = 0; i < n; i++)
		CHECK(t_write_all(fd, out + i, 1) == 0, "write of byte %zu failed", i);
	CHECK(t_read_exact(fd, in, n) == 0, "echo of %zu bytes written singly did not come back", n);
	CHECK(memcmp(out, in, n) == 0, "echo differs from what was sent");
	close(fd);
}

/* 1000 frames in one write come back, in order. */
static void case_coalesced(const struct srv *s)
{
	static char out[200 * 1000], in[200 * 1000];
	uint64_t st = seed;
	size_t n = 0;
	int fd = client(s);

	if (fd < 0)
		return;
	for (int i = 0; i < 1000; i++)
		n += make_frame(out + n, (uint32_t)(rnd(&st) % 100), &st);
	CHECK(t_write_all(fd, out, n) == 0, "write failed");
	CHECK(t_read_exact(fd, in, n) == 0, "not all of %zu coalesced bytes came back", n);
	CHECK(memcmp(out, in, n) == 0, "coalesced echo differs");
	close(fd);
}

/* A frame of exactly the maximum size (1 MiB payload) is echoed whole. */
static void case_big_frame(const struct srv *s)
{
	uint64_t st = seed;
	int fd = client(s);

	if (fd < 0)
		return;
	CHECK(echo_one(fd, FRAME_DEFAULT_MAX, &st) == 0, "1 MiB frame not echoed intact");
	close(fd);
}

/* An oversize frame closes that client only; the others go on. */
static void case_oversize_isolated(const struct srv *s)
{
	unsigned char hdr[LEN32_HDR];
	struct tm_reader r;
	uint64_t c[TM_NCOUNTERS], st = seed;
	int good = client(s), bad;

	if (good < 0)
		return;
	CHECK(echo_one(good, 100, &st) == 0, "first echo failed");
	bad = client(s);
	if (bad < 0)
		return;
	len32_put(hdr, FRAME_DEFAULT_MAX + 1);
	CHECK(t_write_all(bad, hdr, sizeof(hdr)) == 0, "write failed");
	CHECK(closed_within(bad, 5000) == 1, "a frame of 1 MiB + 1 should close the connection");
	CHECK(echo_one(good, 1000, &st) == 0, "the other client was hurt by the oversize frame");
	CHECK(srv_alive(s), "server died");
	if (srv_telemetry(s, &r)) {
		tm_read_counters(&r, c);
		CHECK(c[TM_PROTO_ERRORS] == 1, "proto_errors = %llu, want 1", (unsigned long long)c[TM_PROTO_ERRORS]);
		tm_reader_close(&r);
	}
	close(bad);
	close(good);
}

/* Resets mid-frame and mid-echo close only those connections (and SIGPIPE kills nobody). */
static void case_reset_isolated(const struct srv *s)
{
	char *big = malloc(LEN32_HDR + MIB);
	uint64_t st = seed;
	int good = client(s), fd;
	size_t n;

	if (good < 0 || !big)
		return;
	CHECK(echo_one(good, 10, &st) == 0, "first echo failed");
	/* Half a frame, then RST. */
	fd = client(s);
	n = make_frame(big, 1000, &st);
	CHECK(t_write_all(fd, big, n / 2) == 0, "write failed");
	usleep(100000);
	reset_close(fd);
	/* A whole 1 MiB frame whose echo we never read, then RST while the server writes it. */
	for (int i = 0; i < 3; i++) {
		fd = client(s);
		n = make_frame(big, MIB, &st);
		CHECK(t_write_all(fd, big, n) == 0, "write failed");
		usleep(200000);
		reset_close(fd);
	}
	usleep(200000);
	CHECK(srv_alive(s), "server died after clients reset (SIGPIPE?)");
	CHECK(echo_one(good, 5000, &st) == 0, "the other client was hurt by the resets");
	fd = client(s);
	CHECK(fd >= 0 && echo_one(fd, 5000, &st) == 0, "a new client is not served after the resets");
	close(fd);
	close(good);
	free(big);
}

/* Half-close: everything sent is echoed, then the server closes. */
static void case_half_close(const struct srv *s)
{
	char out[20 * 1100], in[20 * 1100];
	uint64_t st = seed;
	size_t n = 0;
	int fd = client(s);

	if (fd < 0)
		return;
	for (int i = 0; i < 20; i++)
		n += make_frame(out + n, (uint32_t)(rnd(&st) % 1000), &st);
	CHECK(t_write_all(fd, out, n) == 0, "write failed");
	shutdown(fd, SHUT_WR);
	CHECK(t_read_exact(fd, in, n) == 0, "echo after half-close incomplete");
	CHECK(memcmp(out, in, n) == 0, "echo after half-close differs");
	CHECK(closed_within(fd, 5000) == 1, "server did not close after echoing a half-closed peer");
	close(fd);
}

/* After a mix of clean closes, resets, oversize frames and half-closes, descriptors return. */
static void case_no_fd_leak(const struct srv *s)
{
	unsigned char hdr[LEN32_HDR];
	uint64_t st = seed;
	int base, now = -1, fd;

	/*
	 * "listening on" comes before the model sets up its own descriptors (epoll,
	 * io_uring...): serve one client first, then take the count once it holds still.
	 */
	fd = client(s);
	CHECK(fd >= 0 && echo_one(fd, 10, &st) == 0, "warm-up echo failed");
	close(fd);
	base = srv_fd_count(s);
	for (int same = 0, i = 0; same < 4 && i < 100; i++) {
		usleep(50000);
		now = srv_fd_count(s);
		same = now == base ? same + 1 : 0;
		base = now;
	}

	for (int i = 0; i < 30; i++) {
		fd = client(s);
		if (fd < 0)
			return;
		switch (i % 4) {
		case 0:
			CHECK(echo_one(fd, 100, &st) == 0, "echo failed");
			close(fd);
			break;
		case 1:
			CHECK(t_write_all(fd, "\0\0\1\0abc", 7) == 0, "write failed");
			usleep(20000);
			reset_close(fd);
			break;
		case 2:
			len32_put(hdr, FRAME_DEFAULT_MAX + 1);
			CHECK(t_write_all(fd, hdr, 4) == 0, "write failed");
			closed_within(fd, 5000);
			close(fd);
			break;
		case 3:
			CHECK(echo_one(fd, 10, &st) == 0, "echo failed");
			shutdown(fd, SHUT_WR);
			closed_within(fd, 5000);
			close(fd);
			break;
		}
	}
	for (int i = 0; i < 100; i++) {
		now = srv_fd_count(s);
		if (now == base)
			break;
		usleep(50000);
	}
	CHECK(now == base, "server had %d descriptors at start, %d after all clients left", base, now);
	if (now != base) {
		char cmd[96];

		snprintf(cmd, sizeof(cmd), "ls -l /proc/%d/fd >&2; ss -tanp | grep 'pid=%d,' >&2", (int)s->pid, (int)s->pid);
		if (system(cmd) < 0)
			perror("system");
	}
}

/* Telemetry counters after a known workload equal what was sent. */
static void case_telemetry(const struct srv *s)
{
	enum { K = 5, F = 20 };
	uint64_t c[TM_NCOUNTERS], st = seed, bytes = 0, mine = 0;
	struct tm_reader r;
	struct tm_conn slot;
	int fds[K];
	bool found = false;

	if (!srv_telemetry(s, &r)) {
		t_fail(__LINE__, "no telemetry segment for pid %d under prefix %s", (int)s->pid, tm_prefix());
		return;
	}
	CHECK(r.hdr->pid == s->pid, "header pid %d, want %d", r.hdr->pid, (int)s->pid);
	CHECK(r.hdr->port == s->port, "header port %u, want %u", r.hdr->port, s->port);
	CHECK(r.hdr->model[0] && r.hdr->wait_call[0], "header names no model or waiting call");
	/* One client at a time, so an iterative server passes too. */
	for (int k = 0; k < K; k++) {
		fds[k] = client(s);
		if (fds[k] < 0)
			return;
		for (int f = 0; f < F; f++) {
			uint32_t len = (uint32_t)(rnd(&st) % 2000);

			CHECK(echo_one(fds[k], len, &st) == 0, "echo failed");
			bytes += LEN32_HDR + len;
			if (k == 0)
				mine += LEN32_HDR + len;
		}
		if (k > 0) {
			close(fds[k]);
			continue;
		}
		/*
		 * While connected: the slot of client 0 (found by its port) shows its bytes.
		 * The server counts a write after write() returns, and we may have read the
		 * echo before that: give it a moment to publish.
		 */
		for (int tries = 0; tries < 40; tries++) {
			found = false;
			for (unsigned i = 0; i < r.hdr->slot_hwm && !found; i++)
				found = tm_read_slot(&r, i, &slot) && slot.peer_port == net_local_port(fds[0]);
			if (found && slot.bytes_out == mine)
				break;
			usleep(50000);
		}
		if (found) {
			CHECK(slot.bytes_in == mine && slot.bytes_out == mine,
			      "slot bytes in/out %llu/%llu, want %llu", (unsigned long long)slot.bytes_in,
			      (unsigned long long)slot.bytes_out, (unsigned long long)mine);
			CHECK(slot.frames_in == F, "slot frames %llu, want %d",
			      (unsigned long long)slot.frames_in, F);
			CHECK(slot.state < CONN_NSTATES && slot.state != CONN_FREE, "slot state %u", slot.state);
		}
		CHECK(found, "no connection slot with the client's port %u", net_local_port(fds[0]));
		close(fds[0]);
	}
	for (int i = 0; i < 100; i++) {
		tm_read_counters(&r, c);
		if (c[TM_CLOSES] == K)
			break;
		usleep(50000);
	}
#define EQ(ctr, want) CHECK(c[ctr] == (uint64_t)(want), "%s = %llu, want %llu", tm_counter_names[ctr], \
			    (unsigned long long)c[ctr], (unsigned long long)(want))
	EQ(TM_ACCEPTS, K);
	EQ(TM_CLOSES, K);
	EQ(TM_ACTIVE, 0);
	EQ(TM_FRAMES_IN, K * F);
	EQ(TM_FRAMES_OUT, K * F);
	EQ(TM_BYTES_IN, bytes);
	EQ(TM_BYTES_OUT, bytes);
	EQ(TM_PROTO_ERRORS, 0);
	/* The busy loop (lab 2) has no waiting call: its turns are counted as spins instead. */
	CHECK(c[TM_WAIT_CALLS] > 0 || c[TM_SPINS] > 0, "neither wait_calls nor spins counted");
	CHECK(c[TM_READ_CALLS] > 0 || c[TM_COMPLETIONS] > 0, "neither read calls nor completions counted");
	tm_reader_close(&r);
}

/* Line mode: lines split anywhere and coalesced; an overlong line closes only its client. */
static void case_line_mode(const struct srv *s_unused)
{
	static const char *const extra[] = { "-f", "line", "--max-frame", "100", NULL };
	const char *msg = "hello\nworld, this is a line\n\nlast\n";
	char in[4096], out[4096], big[300];
	struct srv s;
	size_t n = strlen(msg), m = 0;
	int fd, other;

	(void)s_unused;
	if (srv_start(&s, extra, NULL) < 0) {
		t_fail(__LINE__, "server would not start with -f line");
		return;
	}
	fd = client(&s);
	for (size_t i = 0; i < n; i += 3)
		CHECK(t_write_all(fd, msg + i, i + 3 <= n ? 3 : n - i) == 0, "write failed");
	CHECK(t_read_exact(fd, in, n) == 0 && memcmp(in, msg, n) == 0, "split lines not echoed exactly");
	for (int i = 0; i < 50; i++)
		m += (size_t)snprintf(out + m, sizeof(out) - m, "line %d\n", i);
	CHECK(t_write_all(fd, out, m) == 0 && t_read_exact(fd, in, m) == 0 && memcmp(in, out, m) == 0,
	      "coalesced lines not echoed exactly");
	memset(big, 'x', sizeof(big));
	CHECK(t_write_all(fd, big, sizeof(big)) == 0, "write failed");
	CHECK(closed_within(fd, 5000) == 1, "a 300-byte line with --max-frame 100 should close the client");
	/* Connected only now, so an iterative server can serve it. */
	other = client(&s);
	CHECK(t_write_all(other, "still here\n", 11) == 0 && t_read_exact(other, in, 11) == 0 &&
	      memcmp(in, "still here\n", 11) == 0, "the next client was not served");
	close(fd);
	close(other);
	srv_stop(&s);
}

/* Raw mode: bytes come back as they went, whatever the chunking. */
static void case_raw_mode(const struct srv *s_unused)
{
	static const char *const extra[] = { "-f", "raw", NULL };
	enum { N = 256 * 1024 };
	char *out = malloc(N), *in = malloc(N);
	uint64_t st = seed;
	struct srv s;
	size_t off = 0;
	int fd;

	(void)s_unused;
	if (srv_start(&s, extra, NULL) < 0) {
		t_fail(__LINE__, "server would not start with -f raw");
		return;
	}
	fd = client(&s);
	for (size_t i = 0; i < N; i++)
		out[i] = (char)rnd(&st);
	/* Small enough chunks that neither side's buffers fill before we read. */
	while (off < N) {
		size_t chunk = 1 + rnd(&st) % 8192;

		if (chunk > N - off)
			chunk = N - off;
		CHECK(t_write_all(fd, out + off, chunk) == 0, "write failed");
		CHECK(t_read_exact(fd, in + off, chunk) == 0, "raw echo short at offset %zu", off);
		off += chunk;
	}
	CHECK(memcmp(in, out, N) == 0, "raw echo differs");
	close(fd);
	srv_stop(&s);
	free(out);
	free(in);
}

/* --iterative: a second client is accepted by the kernel but not served until the first leaves. */
static void case_iterative_waits(const struct srv *s)
{
	struct pollfd p;
	uint64_t st = seed;
	char out[64], in[64];
	size_t n;
	int a = client(s), b = client(s);

	if (a < 0 || b < 0)
		return;
	CHECK(echo_one(a, 10, &st) == 0, "first client not served");
	n = make_frame(out, 20, &st);
	CHECK(t_write_all(b, out, n) == 0, "second client's connect/write failed (the backlog should take it)");
	p = (struct pollfd){ .fd = b, .events = POLLIN };
	CHECK(poll(&p, 1, 700) == 0, "second client was served while the first is still connected");
	CHECK(echo_one(a, 10, &st) == 0, "first client no longer served");
	close(a);
	CHECK(t_read_exact(b, in, n) == 0 && memcmp(in, out, n) == 0,
	      "second client not served after the first left");
	close(b);
}

/* A peer that never reads cannot grow the server past the high-water mark (+ slack). */
static void case_high_water(const struct srv *s_unused)
{
	static const char *const extra[] = { "--high-water", "4M", NULL };
	const size_t total = 64 * MIB, frame = 64 * 1024;
	long slack_kib = 12 * 1024;           /* buffers round up to powers of two, plus socket spill */
	char *out = malloc(LEN32_HDR + frame), *in = malloc(1 << 20);
	uint64_t st = seed, c[TM_NCOUNTERS], sent = 0, got = 0, cmp_st;
	long base, rss, peak = 0, samples = 0;
	char asan_env[512];
	struct tm_reader r;
	struct srv s;
	int fd;

	(void)s_unused;
	/* ASan keeps freed memory in quarantine; keep that small so RSS means what it says. */
	snprintf(asan_env, sizeof(asan_env), "ASAN_OPTIONS=%s%squarantine_size_mb=4",
		 getenv("ASAN_OPTIONS") ? getenv("ASAN_OPTIONS") : "", getenv("ASAN_OPTIONS") ? ":" : "");
	if (srv_start(&s, extra, asan_env) < 0) {
		t_fail(__LINE__, "server would not start with --high-water 4M");
		return;
	}
	usleep(100000);
	/* Under ASan every heap byte also costs shadow memory and redzones, and the quarantine
	 * holds 4 MiB of freed buffers: RSS still has a ceiling, a higher one. */
	if (srv_has_asan(&s)) {
		slack_kib += 8 * 1024;
		fprintf(stderr, "AddressSanitizer runtime in the server: 8 MiB more allowed\n");
	}
	base = srv_rss_kib(&s);
	fd = client(&s);
	net_set_nonblock(fd, true);
	/* Every frame has the same payload so the echo can be checked as it streams back. */
	make_frame(out, (uint32_t)frame, &st);
	cmp_st = 0;
	/* Push until the connection stalls for a second: the server stopped reading us. */
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		size_t off = sent % (LEN32_HDR + frame);
		ssize_t w;

		if (sent >= total)
			break;
		w = write(fd, out + off, LEN32_HDR + frame - off);
		if (w > 0) {
			sent += (uint64_t)w;
			continue;
		}
		if (poll(&p, 1, 1000) == 0)
			break;
	}
	usleep(200000);
	rss = srv_rss_kib(&s);
	peak = rss;
	fprintf(stderr, "pushed %llu MiB before stalling; server RSS %ld KiB at start, %ld KiB stalled\n",
		(unsigned long long)(sent / MIB), base, rss);
	CHECK(sent < total, "all 64 MiB went in without the server ever stopping to read");
	CHECK(rss - base < 4 * 1024 + slack_kib, "server RSS grew by %ld KiB with a 4 MiB high-water mark",
	      rss - base);
	if (srv_telemetry(&s, &r)) {
		tm_read_counters(&r, c);
		CHECK(c[TM_READ_PAUSED] >= 1, "read_paused = 0: the server never paused reading");
		tm_reader_close(&r);
	}
	/* Now read everything back while sending the rest: all of it must arrive intact. */
	while (got < total) {
		struct pollfd p = { .fd = fd, .events = POLLIN | (sent < total ? POLLOUT : 0) };
		ssize_t k;

		if (poll(&p, 1, IO_TIMEOUT_S * 1000) <= 0) {
			t_fail(__LINE__, "stalled after the reader woke up: %llu of %llu echoed",
			       (unsigned long long)got, (unsigned long long)total);
			break;
		}
		if ((p.revents & POLLOUT) && sent < total) {
			size_t off = sent % (LEN32_HDR + frame);
			ssize_t w = write(fd, out + off, LEN32_HDR + frame - off);

			if (w > 0)
				sent += (uint64_t)w;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			k = read(fd, in, 1 << 20);
			if (k <= 0 && !(k < 0 && errno == EAGAIN)) {
				t_fail(__LINE__, "connection closed after %llu bytes echoed", (unsigned long long)got);
				break;
			}
			for (ssize_t i = 0; i < k; i++, cmp_st++)
				if (in[i] != out[cmp_st % (LEN32_HDR + frame)]) {
					t_fail(__LINE__, "echo differs at offset %llu", (unsigned long long)cmp_st);
					goto out;
				}
			got += k > 0 ? (uint64_t)k : 0;
		}
		if (++samples % 64 == 0 && (rss = srv_rss_kib(&s)) > peak)
			peak = rss;
	}
	fprintf(stderr, "echoed %llu MiB; server RSS peak %ld KiB (+%ld KiB over start)\n",
		(unsigned long long)(got / MIB), peak, peak - base);
	CHECK(peak - base < 4 * 1024 + slack_kib, "server RSS peaked %ld KiB over start", peak - base);
out:
	close(fd);
	srv_stop(&s);
	free(out);
	free(in);
}

struct test_case {
	const char *name;
	void (*fn)(const struct srv *s);
	bool own_server;           /* starts its own server with special flags */
};

static const struct test_case cases[] = {
	{ "many-clients", case_many_clients, false },
	{ "one-byte-writes", case_one_byte_writes, false },
	{ "coalesced", case_coalesced, false },
	{ "big-frame", case_big_frame, false },
	{ "oversize-isolated", case_oversize_isolated, false },
	{ "reset-isolated", case_reset_isolated, false },
	{ "half-close", case_half_close, false },
	{ "no-fd-leak", case_no_fd_leak, false },
	{ "telemetry", case_telemetry, false },
	{ "line-mode", case_line_mode, true },
	{ "raw-mode", case_raw_mode, true },
	{ "iterative-waits", case_iterative_waits, false },
	{ "high-water", case_high_water, true },
};

int main(int argc, char **argv)
{
	const struct test_case *tc = NULL;
	const char *name = NULL, *env;
	struct srv s;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
			printf("%s\n", cases[k].name);
		return 0;
	}
	if (argc < 5 || strcmp(argv[1], "--case") || strcmp(argv[3], "--")) {
		fprintf(stderr, "usage: echo_suite --list | echo_suite --case NAME -- SERVER [FLAGS...]\n");
		return 2;
	}
	name = argv[2];
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		if (!strcmp(cases[k].name, name))
			tc = &cases[k];
	if (!tc) {
		fprintf(stderr, "echo_suite: no case named '%s' (--list)\n", name);
		return 2;
	}
	server_argv = argv + 4;
	server_argc = argc - 4;
	env = getenv("IOLAB_SEED");
	seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
	if (!seed)
		seed = 1;
	fprintf(stderr, "case %s, server %s, seed=%llu\n", name, server_argv[0], (unsigned long long)seed);
	signal(SIGPIPE, SIG_IGN);
	alarm(170);                 /* a hung case fails loudly before the runner's timeout */

	if (tc->own_server) {
		/* The server under test with the row's flags, for cases that add their own. */
		tc->fn(NULL);
	} else {
		if (srv_start(&s, NULL, NULL) < 0)
			return 1;
		tc->fn(&s);
		CHECK(srv_alive(&s), "server died during the case");
		srv_stop(&s);
	}
	if (failures) {
		fprintf(stderr, "%s: %d check(s) failed (seed=%llu)\n", name, failures, (unsigned long long)seed);
		return 1;
	}
	fprintf(stderr, "PASS %s\n", name);
	return 0;
}
