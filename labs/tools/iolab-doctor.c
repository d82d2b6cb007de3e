/*
 * iolab-doctor — can this machine run every lab?  What to do when it cannot.
 *
 * Checks, each with a verdict and, for a problem, the fix:
 *   kernel             version (io_uring needs 5.1, the lab's echo-uring a recent 6.x)
 *   io_uring_disabled  /proc/sys/kernel/io_uring_disabled (6.6+): 0 all, 1 a group, 2 nobody
 *   seccomp            /proc/self/status "Seccomp:" -- containers often filter io_uring
 *   io_uring           io_uring_setup() really called (raw syscall, no liburing)   lab 9
 *   aio                io_setup() and one IOCB_CMD_POLL (raw syscalls)              lab 8
 *   nofile             RLIMIT_NOFILE soft/hard: how many connections a server may hold
 *   shm                /dev/shm: telemetry segments can be created (viewer, checks)
 *   loopback           127.0.0.1 accepts a listener on port 0
 *   nc                 netcat, which the lab instructions use as a client
 *
 * Usage:  iolab-doctor [--only CHECK] [-h]
 * Exit:   0 all good, 1 at least one problem (each printed with "fix:").
 * Try:    make doctor
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/aio_abi.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define NOFILE_TOO_FEW   1024   /* below this (hard limit) even the small labs run out */
#define NOFILE_FEW       4096   /* below this the many-connection runs hit EMFILE early */

static const char *only;        /* --only CHECK */
static int problems;

/* ------------------------------------------------------------ reporting */

static void verdict(const char *tag, const char *fmt, va_list ap)
{
	printf("  %-8s ", tag);
	vprintf(fmt, ap);
	putchar('\n');
}

static void ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void ok(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verdict("ok", fmt, ap);
	va_end(ap);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verdict("note", fmt, ap);
	va_end(ap);
}

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void problem(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verdict("PROBLEM", fmt, ap);
	va_end(ap);
	problems++;
}

/* The indented "fix:" line(s) under a problem or note. */
static void fix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fix(const char *fmt, ...)
{
	va_list ap;

	printf("  %-8s fix: ", "");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static bool wanted(const char *name)
{
	return !only || !strcmp(only, name);
}

/* First line of a small /proc file into buf; false if it cannot be read. */
static bool read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	bool got;

	if (!f)
		return false;
	got = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (got)
		buf[strcspn(buf, "\n")] = '\0';
	return got;
}

/* --------------------------------------------------------------- checks */

static void check_kernel(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) < 0) {
		problem("uname: %s", strerror(errno));
		return;
	}
	sscanf(u.release, "%d.%d", &major, &minor);
	if (major < 5 || (major == 5 && minor < 1)) {
		problem("kernel %s (%s): older than 5.1, so no io_uring at all", u.release, u.machine);
		fix("lab 9 needs a kernel >= 5.1 (better a current 6.x); labs 1-8 work");
	} else if (major < 6) {
		note("kernel %s (%s): io_uring exists, but features lab 9 may use came in 6.x",
		     u.release, u.machine);
	} else {
		ok("kernel %s (%s)", u.release, u.machine);
	}
}

static void check_io_uring_disabled(void)
{
	char v[32], group[32];

	if (!read_line("/proc/sys/kernel/io_uring_disabled", v, sizeof(v))) {
		ok("kernel.io_uring_disabled: no such setting (kernel before 6.6): io_uring not switched off");
		return;
	}
	switch (atoi(v)) {
	case 0:
		ok("kernel.io_uring_disabled = 0: io_uring allowed for every process");
		break;
	case 1:
		if (!read_line("/proc/sys/kernel/io_uring_group", group, sizeof(group)))
			snprintf(group, sizeof(group), "?");
		if (geteuid() == 0) {
			note("kernel.io_uring_disabled = 1: only root and group %s may use io_uring (you are root)",
			     group);
		} else {
			problem("kernel.io_uring_disabled = 1: only root and members of group %s (kernel.io_uring_group) may use io_uring",
				group);
			fix("sudo sysctl -w kernel.io_uring_disabled=0, or join group %s (lab 9 needs io_uring)",
			    group);
		}
		break;
	default:
		problem("kernel.io_uring_disabled = %s: io_uring is switched off for everyone", v);
		fix("sudo sysctl -w kernel.io_uring_disabled=0 (lab 9 needs io_uring)");
		break;
	}
}

static void check_seccomp(void)
{
	char line[128];
	FILE *f = fopen("/proc/self/status", "r");
	int mode = -1;

	if (!f) {
		note("seccomp: cannot read /proc/self/status: %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	fclose(f);
	switch (mode) {
	case 0:
		ok("seccomp: no filter on this process");
		break;
	case -1:
		note("seccomp: not reported by this kernel");
		break;
	default:
		/* A filter alone is no problem; it is one when io_uring/aio below fail. */
		note("seccomp: mode %d (%s) -- a container profile may block io_uring or AIO (see below)",
		     mode, mode == 2 ? "filter" : "strict");
		break;
	}
}

static void check_io_uring(void)
{
	struct io_uring_params p;
	int fd;

	memset(&p, 0, sizeof(p));
	/* Raw syscall: what liburing's io_uring_queue_init() does first. */
	fd = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (fd >= 0) {
		ok("io_uring_setup(): works (features 0x%x%s)", p.features,
		   p.features & IORING_FEAT_FAST_POLL ? ", fast poll" : "");
		close(fd);
		return;
	}
	switch (errno) {
	case ENOSYS:
		problem("io_uring_setup(): ENOSYS -- kernel without CONFIG_IO_URING, or a seccomp filter");
		fix("lab 9 cannot run here; in a container, try --security-opt seccomp=unconfined");
		break;
	case EPERM:
		problem("io_uring_setup(): EPERM -- kernel.io_uring_disabled or a seccomp filter forbids it");
		fix("sudo sysctl -w kernel.io_uring_disabled=0; in a container: --security-opt seccomp=unconfined");
		break;
	case ENOMEM:
		problem("io_uring_setup(): ENOMEM -- the ring does not fit the locked-memory limit (ulimit -l)");
		fix("raise RLIMIT_MEMLOCK (ulimit -l 65536, or /etc/security/limits.conf memlock)");
		break;
	default:
		problem("io_uring_setup(): %s", strerror(errno));
		fix("lab 9 needs io_uring; see dmesg");
		break;
	}
}

/* io_setup() and one IOCB_CMD_POLL on a pipe: the two things echo-aio relies on. */
static void check_aio(void)
{
	aio_context_t ctx = 0;
	struct iocb cb, *cbs[1] = { &cb };
	struct io_event ev;
	struct timespec ts = { 1, 0 };
	char max[32] = "?", cur[32] = "?";
	int pfd[2];
	long n;

	if (syscall(__NR_io_setup, 8, &ctx) < 0) {
		int e = errno;

		read_line("/proc/sys/fs/aio-max-nr", max, sizeof(max));
		read_line("/proc/sys/fs/aio-nr", cur, sizeof(cur));
		if (e == EAGAIN) {
			problem("io_setup(): EAGAIN -- system-wide AIO limit reached (fs.aio-nr %s of fs.aio-max-nr %s)",
				cur, max);
			fix("sudo sysctl -w fs.aio-max-nr=1048576 (lab 8 needs Linux AIO)");
		} else if (e == ENOSYS) {
			problem("io_setup(): ENOSYS -- kernel without CONFIG_AIO, or a seccomp filter");
			fix("lab 8 cannot run here; in a container, try --security-opt seccomp=unconfined");
		} else {
			problem("io_setup(): %s", strerror(e));
			fix("lab 8 needs Linux AIO (io_setup)");
		}
		return;
	}
	if (pipe(pfd) < 0) {
		note("io_setup(): works; pipe: %s (IOCB_CMD_POLL not tried)", strerror(errno));
		syscall(__NR_io_destroy, ctx);
		return;
	}
	memset(&cb, 0, sizeof(cb));
	cb.aio_lio_opcode = IOCB_CMD_POLL;       /* Linux 4.18+ */
	cb.aio_fildes = (uint32_t)pfd[0];
	cb.aio_buf = POLLIN;                      /* for POLL, aio_buf carries the event mask */
	n = syscall(__NR_io_submit, ctx, 1, cbs);
	if (n == 1 && write(pfd[1], "x", 1) == 1)
		n = syscall(__NR_io_getevents, ctx, 1, 1, &ev, &ts);
	else
		n = -1;
	if (n == 1 && (ev.res & POLLIN)) {
		ok("io_setup(): works; IOCB_CMD_POLL completes (Linux AIO readiness)");
	} else {
		problem("io_setup() works, but IOCB_CMD_POLL does not (%s)", n < 0 ? strerror(errno) : "no completion");
		fix("echo-aio's default mode needs IOCB_CMD_POLL (Linux 4.18+); try its --pread mode");
	}
	close(pfd[0]);
	close(pfd[1]);
	syscall(__NR_io_destroy, ctx);
}

static void check_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		problem("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
		return;
	}
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < NOFILE_TOO_FEW) {
		problem("open files: soft %llu, hard %llu -- a server cannot hold %d connections",
			(unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, NOFILE_TOO_FEW);
		fix("raise the hard limit: /etc/security/limits.conf '* hard nofile 65536', then log in again");
	} else if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < NOFILE_FEW) {
		note("open files: soft %llu, hard %llu (servers raise soft to hard; big loads hit EMFILE sooner)",
		     (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	} else {
		ok("open files: soft %llu, hard %llu (servers raise the soft limit to the hard one)",
		   (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	}
}

static void check_shm(void)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "/iolab-doctor.%d", (int)getpid());
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		problem("/dev/shm: shm_open: %s -- servers run without telemetry, the viewer shows nothing",
			strerror(errno));
		fix("mount a tmpfs there: sudo mount -t tmpfs -o mode=1777 tmpfs /dev/shm");
		return;
	}
	close(fd);
	shm_unlink(name);
	ok("/dev/shm: telemetry segments can be created");
}

static void check_loopback(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
		problem("loopback: cannot listen on 127.0.0.1:0: %s", strerror(errno));
		fix("bring up lo: sudo ip link set lo up");
	} else {
		ok("loopback: 127.0.0.1 takes a listener");
	}
	if (fd >= 0)
		close(fd);
}

/* Is PROG an executable somewhere on $PATH? */
static bool on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char dir[4096], full[4200];

	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(dir, sizeof(dir), "%.*s", (int)n, path);
		snprintf(full, sizeof(full), "%s/%s", n ? dir : ".", prog);
		if (access(full, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

static void check_nc(void)
{
	if (on_path("nc")) {
		ok("nc: found (the labs' instructions connect with it)");
		return;
	}
	problem("nc (netcat) not found: the labs tell you to connect with 'nc 127.0.0.1 PORT'");
	fix("sudo apt-get install netcat-openbsd   (meanwhile: bash -c 'exec 3<>/dev/tcp/127.0.0.1/PORT; cat <&3 & cat >&3')");
}

/* ------------------------------------------------------------------ main */

static const struct {
	const char *name;
	void (*fn)(void);
} checks[] = {
	{ "kernel", check_kernel },
	{ "io_uring_disabled", check_io_uring_disabled },
	{ "seccomp", check_seccomp },
	{ "io_uring", check_io_uring },
	{ "aio", check_aio },
	{ "nofile", check_nofile },
	{ "shm", check_shm },
	{ "loopback", check_loopback },
	{ "nc", check_nc },
};
#define NCHECKS (sizeof(checks) / sizeof(checks[0]))

static void usage(FILE *f)
{
	fprintf(f,
		"usage: iolab-doctor [--only CHECK]\n"
		"\n"
		"Checks what the labs need on this machine and says what to do about each problem.\n"
		"Exit 0 when all is well, 1 when something needs fixing.\n"
		"  --only CHECK   run one check:");
	for (size_t i = 0; i < NCHECKS; i++)
		fprintf(f, " %s", checks[i].name);
	fprintf(f, "\n  -h, --help     this text\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument,       NULL, 'h' },
		{ "only", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	bool known = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return 0;
		case 'o': only = optarg; break;
		default:  usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iolab-doctor: unexpected argument '%s' (try --help)\n", argv[optind]);
		return 2;
	}
	for (size_t i = 0; i < NCHECKS; i++)
		known |= wanted(checks[i].name);
	if (!known) {
		fprintf(stderr, "iolab-doctor: no check named '%s' (try --help)\n", only);
		return 2;
	}
	if (!only)
		printf("iolab doctor: what the labs need, on this machine\n\n");
	for (size_t i = 0; i < NCHECKS; i++)
		if (wanted(checks[i].name))
			checks[i].fn();
	if (!only) {
		if (problems)
			printf("\n%d problem%s: see the \"fix:\" line%s above.\n", problems,
			       problems == 1 ? "" : "s", problems == 1 ? "" : "s");
		else
			printf("\nAll good: every lab can run here.\n");
	}
	return problems ? 1 : 0;
}
