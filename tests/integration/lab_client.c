/*
 * lab_client.c — client-side scenarios for the tests of labs 2, 3, 4, 5 and 6.
 *
 * A helper program, not a test: the t-lab3-*, t-lab5-* and t-lab6-* scripts run it
 * against a server they started, and decide pass or fail from its exit code and
 * output.  Every wait is bounded.  Talks len32 unless a command says otherwise.
 *
 *   echo PORT [CLIENTS [FRAMES [SIZE]]]   CLIENTS connections, FRAMES frames of SIZE each,
 *                                         every echo checked byte for byte (exit 0 = all good)
 *   ping PORT TIMEOUT_MS                  one frame; exit 0 if echoed in time, 1 if not
 *   hold PORT SECONDS partial|full        send half a frame (partial) or a frame and read its
 *                                         echo (full); print "ready"; keep the socket SECONDS
 *   stall PORT BYTES WAIT_MS              (raw framing) BYTES in one write; print how many came
 *                                         back within WAIT_MS; exit 0 all, 3 fewer
 *   fdfill PORT N                         one early client, then N more connections; classify
 *                                         each as echoed or closed by the server; exit 0 if the
 *                                         early client is still echoed at the end
 *   flood PORT MS LIGHTS                  one hog pipelining big frames (echoes read by another
 *                                         thread) while LIGHTS clients ping-pong small frames for
 *                                         MS ms; prints the light clients' worst latency
 *   reset PORT BYTES [halfclose]          send BYTES in 1 MiB frames, never read, (half-close,)
 *                                         then reset the connection (SO_LINGER 0) while the
 *                                         server is still writing the echo
 *   counters SEGMENT [NAME...]            print telemetry counters as "name value" lines
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/t_helpers.h"
#include "common/framing.h"
#include "common/net.h"
#include "common/telemetry.h"

#define IO_TIMEOUT_MS 5000   /* longest any single wait for the server may take */

static uint16_t port;

static long arg_long(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0)
		t_die("bad %s '%s'", what, s);
	return v;
}

static int connect_server(void)
{
	char err[256];
	int fd = net_connect("127.0.0.1", port, err, sizeof(err));

	if (fd < 0)
		t_die("%s", err);
	return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
	const char *q = p;

	while (n) {
		ssize_t w = send(fd, q, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			t_die("send: %s", strerror(errno));
		q += w;
		n -= (size_t)w;
	}
}

/* Receive exactly n bytes within timeout_ms.  Returns n, or the bytes got before EOF/timeout/error. */
static size_t recv_upto(int fd, void *p, size_t n, int timeout_ms)
{
	uint64_t deadline = t_now_us() + (uint64_t)timeout_ms * 1000;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char *q = p;
	size_t got = 0;

	while (got < n) {
		uint64_t t = t_now_us();
		ssize_t r;

		if (t >= deadline)
			break;
		if (poll(&pfd, 1, (int)((deadline - t + 999) / 1000)) <= 0)
			continue;
		r = recv(fd, q + got, n - got, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static void fill_pattern(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 31 + i * 7);
}

/* Send one len32 frame of `size` pattern bytes; check the echo.  0 ok, 1 short, 2 differs. */
static int echo_frame(int fd, size_t size, unsigned seed, int timeout_ms)
{
	unsigned char *out = malloc(size + LEN32_HDR), *in = malloc(size + LEN32_HDR);
	int rc = 0;

	if (!out || !in)
		t_die("out of memory");
	len32_put(out, (uint32_t)size);
	fill_pattern(out + LEN32_HDR, size, seed);
	send_all(fd, out, size + LEN32_HDR);
	if (recv_upto(fd, in, size + LEN32_HDR, timeout_ms) != size + LEN32_HDR)
		rc = 1;
	else if (memcmp(in, out, size + LEN32_HDR))
		rc = 2;
	free(out);
	free(in);
	return rc;
}

/* ------------------------------------------------------------------ echo */

static int cmd_echo(int argc, char **argv)
{
	long clients = argc > 0 ? arg_long(argv[0], "client count") : 4;
	long frames = argc > 1 ? arg_long(argv[1], "frame count") : 10;
	long size = argc > 2 ? arg_long(argv[2], "frame size") : 100;
	int *fds = calloc((size_t)clients, sizeof(*fds));

	if (!fds)
		t_die("out of memory");
	for (long i = 0; i < clients; i++)
		fds[i] = connect_server();
	for (long f = 0; f < frames; f++)
		for (long i = 0; i < clients; i++) {
			int rc = echo_frame(fds[i], (size_t)size, (unsigned)(f * 1000 + i), IO_TIMEOUT_MS);

			if (rc)
				t_die("client %ld frame %ld: %s", i, f, rc == 1 ? "no full echo" : "echo differs");
		}
	for (long i = 0; i < clients; i++)
		close(fds[i]);
	free(fds);
	printf("echo ok: %ld clients x %ld frames of %ld bytes\n", clients, frames, size);
	return 0;
}

/* ------------------------------------------------------------------ ping / hold */

static int cmd_ping(int argc, char **argv)
{
	long timeout_ms = argc > 0 ? arg_long(argv[0], "timeout") : 1000;
	int fd = connect_server();
	uint64_t t0 = t_now_us();
	int rc = echo_frame(fd, 16, 1, (int)timeout_ms);

	if (rc == 0)
		printf("echoed in %llu us\n", (unsigned long long)(t_now_us() - t0));
	else
		printf("no echo within %ld ms\n", timeout_ms);
	close(fd);
	return rc ? 1 : 0;
}

static int cmd_hold(int argc, char **argv)
{
	long secs;
	unsigned char hdr[LEN32_HDR + 10];
	int fd;

	if (argc < 2)
		t_die("usage: hold PORT SECONDS partial|full");
	secs = arg_long(argv[0], "seconds");
	fd = connect_server();
	if (!strcmp(argv[1], "partial")) {
		len32_put(hdr, 100);              /* announces 100 bytes, sends 10 */
		memset(hdr + LEN32_HDR, 'p', 10);
		send_all(fd, hdr, sizeof(hdr));
	} else if (!strcmp(argv[1], "full")) {
		if (echo_frame(fd, 100, 7, IO_TIMEOUT_MS))
			t_die("hold: the first frame was not echoed");
	} else {
		t_die("hold: partial or full, not '%s'", argv[1]);
	}
	printf("ready\n");
	fflush(stdout);
	sleep((unsigned)secs);
	close(fd);
	return 0;
}

/* ------------------------------------------------------------------ stall */

static int cmd_stall(int argc, char **argv)
{
	long bytes, wait_ms;
	unsigned char *out, *in;
	size_t got;
	int fd;

	if (argc < 2)
		t_die("usage: stall PORT BYTES WAIT_MS");
	bytes = arg_long(argv[0], "byte count");
	wait_ms = arg_long(argv[1], "wait");
	out = malloc((size_t)bytes);
	in = malloc((size_t)bytes);
	if (!out || !in)
		t_die("out of memory");
	fill_pattern(out, (size_t)bytes, 3);
	fd = connect_server();
	send_all(fd, out, (size_t)bytes);        /* one write: one segment, one edge */
	got = recv_upto(fd, in, (size_t)bytes, (int)wait_ms);
	printf("sent %ld, echoed %zu within %ld ms\n", bytes, got, wait_ms);
	if (memcmp(in, out, got))
		t_die("stall: echoed bytes differ from what was sent");
	close(fd);
	free(out);
	free(in);
	return got == (size_t)bytes ? 0 : 3;
}

/* ------------------------------------------------------------------ fdfill */

static void raise_nofile(long need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		t_die("getrlimit: %s", strerror(errno));
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		t_die("setrlimit: %s", strerror(errno));
	if ((long)rl.rlim_cur < need)
		t_die("need %ld descriptors, the hard limit is %ld (raise it: ulimit -Hn)", need, (long)rl.rlim_cur);
}

static int cmd_fdfill(int argc, char **argv)
{
	long n = argc > 0 ? arg_long(argv[0], "connection count") : 1100;
	long echoed = 0, closed = 0;
	int early, *fds;

	raise_nofile(n + 64);
	fds = calloc((size_t)n, sizeof(*fds));
	if (!fds)
		t_die("out of memory");
	early = connect_server();
	if (echo_frame(early, 50, 1, IO_TIMEOUT_MS))
		t_die("fdfill: the early client got no echo before the others connected");
	for (long i = 0; i < n; i++)
		fds[i] = connect_server();
	/* Each one: echoed, or closed by the server (EOF or reset) instead of an echo. */
	for (long i = 0; i < n; i++) {
		int rc = echo_frame(fds[i], 20, (unsigned)i, IO_TIMEOUT_MS);

		if (rc == 0) {
			echoed++;
		} else {
			char b;
			ssize_t r = recv(fds[i], &b, 1, MSG_DONTWAIT);

			if (r == 0 || (r < 0 && (errno == ECONNRESET || errno == EPIPE)))
				closed++;
			else
				t_die("fdfill: connection %ld: neither echoed nor closed", i);
		}
	}
	if (echo_frame(early, 50, 2, IO_TIMEOUT_MS))
		t_die("fdfill: the early client is no longer echoed");
	printf("connections %ld echoed %ld closed %ld early ok\n", n, echoed, closed);
	for (long i = 0; i < n; i++)
		close(fds[i]);
	close(early);
	free(fds);
	return 0;
}

/* ------------------------------------------------------------------ flood */

#define HOG_FRAME   (256 * 1024)  /* bytes per hog frame: big, so each is many reads */
#define LIGHT_FRAME 32

static atomic_bool flood_stop;
static atomic_ullong hog_sent, hog_recvd;

struct light {
	pthread_t tid;
	int       fd;
	uint64_t  max_us, pings;
	int       failed;
};

static void *hog_writer(void *arg)
{
	int fd = *(int *)arg;
	unsigned char *frame = malloc(HOG_FRAME + LEN32_HDR);

	if (!frame)
		return NULL;
	len32_put(frame, HOG_FRAME);
	fill_pattern(frame + LEN32_HDR, HOG_FRAME, 9);
	while (!atomic_load(&flood_stop)) {
		ssize_t w = send(fd, frame, HOG_FRAME + LEN32_HDR, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;        /* shut down by main: done */
		atomic_fetch_add(&hog_sent, (unsigned long long)w);
	}
	free(frame);
	return NULL;
}

static void *hog_reader(void *arg)
{
	int fd = *(int *)arg;
	static char sink[256 * 1024];

	for (;;) {
		ssize_t r = recv(fd, sink, sizeof(sink), 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		atomic_fetch_add(&hog_recvd, (unsigned long long)r);
	}
	return NULL;
}

static void *light_client(void *arg)
{
	struct light *l = arg;

	while (!atomic_load(&flood_stop)) {
		uint64_t t0 = t_now_us(), dt;

		if (echo_frame(l->fd, LIGHT_FRAME, (unsigned)l->pings, IO_TIMEOUT_MS)) {
			l->failed = 1;
			break;
		}
		dt = t_now_us() - t0;
		if (dt > l->max_us)
			l->max_us = dt;
		l->pings++;
	}
	return NULL;
}

static int cmd_flood(int argc, char **argv)
{
	long ms = argc > 0 ? arg_long(argv[0], "duration") : 1000;
	long nlight = argc > 1 ? arg_long(argv[1], "light client count") : 4;
	struct light *lights = calloc((size_t)nlight, sizeof(*lights));
	pthread_t wr, rd;
	uint64_t worst = 0, pings = 0;
	int hog, failed = 0;

	if (!lights || nlight < 1)
		t_die("flood: need at least one light client");
	for (long i = 0; i < nlight; i++) {
		lights[i].fd = connect_server();
		if (echo_frame(lights[i].fd, LIGHT_FRAME, 0, IO_TIMEOUT_MS))
			t_die("flood: light client %ld not echoed before the flood", i);
	}
	hog = connect_server();
	pthread_create(&wr, NULL, hog_writer, &hog);
	pthread_create(&rd, NULL, hog_reader, &hog);
	usleep(100 * 1000);    /* let the hog fill the pipe first */
	for (long i = 0; i < nlight; i++)
		pthread_create(&lights[i].tid, NULL, light_client, &lights[i]);
	usleep((useconds_t)ms * 1000);
	atomic_store(&flood_stop, true);
	for (long i = 0; i < nlight; i++) {
		pthread_join(lights[i].tid, NULL);
		if (lights[i].max_us > worst)
			worst = lights[i].max_us;
		pings += lights[i].pings;
		failed |= lights[i].failed;
		close(lights[i].fd);
	}
	shutdown(hog, SHUT_RDWR);    /* wakes both hog threads wherever they sleep */
	pthread_join(wr, NULL);
	pthread_join(rd, NULL);
	close(hog);
	free(lights);
	printf("light_max_us %llu pings %llu hog_sent_mb %.1f hog_echoed_mb %.1f\n",
	       (unsigned long long)worst, (unsigned long long)pings,
	       (double)atomic_load(&hog_sent) / 1e6, (double)atomic_load(&hog_recvd) / 1e6);
	if (failed)
		t_die("flood: a light client got no echo within %d ms", IO_TIMEOUT_MS);
	return 0;
}

/* ------------------------------------------------------------------ reset */

static int cmd_reset(int argc, char **argv)
{
	long total = argc > 0 ? arg_long(argv[0], "byte count") : 8L << 20;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	size_t size = FRAME_DEFAULT_MAX;
	unsigned char *frame = malloc(size + LEN32_HDR);
	int fd, rcvbuf = 4096;

	if (!frame)
		t_die("out of memory");
	fd = connect_server();
	/* A small receive window: the echo backs up in the server, which keeps writing. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	for (long sent = 0; sent < total; sent += (long)size) {
		if ((long)size > total - sent)
			size = (size_t)(total - sent);
		len32_put(frame, (uint32_t)size);
		fill_pattern(frame + LEN32_HDR, size, 5);
		send_all(fd, frame, size + LEN32_HDR);
	}
	if (argc > 1 && !strcmp(argv[1], "halfclose"))
		shutdown(fd, SHUT_WR);      /* FIN first: the server's socket goes to CLOSE_WAIT */
	usleep(300 * 1000);             /* the server is writing the echo, we are not reading */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);                      /* unread data + linger 0: RST, not FIN */
	free(frame);
	return 0;
}

/* ------------------------------------------------------------------ counters */

static int cmd_counters(int argc, char **argv, const char *path)
{
	struct tm_reader r;
	uint64_t c[TM_NCOUNTERS];
	int rc = tm_reader_open(&r, path);

	if (rc != TM_OK)
		t_die("%s: %s", path, tm_open_strerror(rc));
	tm_read_counters(&r, c);
	for (int i = 0; i < TM_NCOUNTERS_USED; i++) {
		bool want = argc == 0;

		for (int j = 0; j < argc; j++)
			want |= !strcmp(argv[j], tm_counter_names[i]);
		if (want)
			printf("%s %llu\n", tm_counter_names[i], (unsigned long long)c[i]);
	}
	tm_reader_close(&r);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 3) {
		fprintf(stderr, "usage: lab_client COMMAND PORT|SEGMENT [ARGS...] (see the comment at the top)\n");
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "counters"))
		return cmd_counters(argc - 3, argv + 3, argv[2]);
	port = (uint16_t)arg_long(argv[2], "port");
	argc -= 3;
	argv += 3;
	if (!strcmp(cmd, "echo"))
		return cmd_echo(argc, argv);
	if (!strcmp(cmd, "ping"))
		return cmd_ping(argc, argv);
	if (!strcmp(cmd, "hold"))
		return cmd_hold(argc, argv);
	if (!strcmp(cmd, "stall"))
		return cmd_stall(argc, argv);
	if (!strcmp(cmd, "fdfill"))
		return cmd_fdfill(argc, argv);
	if (!strcmp(cmd, "flood"))
		return cmd_flood(argc, argv);
	if (!strcmp(cmd, "reset"))
		return cmd_reset(argc, argv);
	t_die("unknown command '%s'", cmd);
}
