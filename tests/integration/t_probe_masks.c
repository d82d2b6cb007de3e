/*
 * Description: bin/iolab-probe reports what the running kernel reports.
 *
 * The test runs `iolab-probe --json --hold 0 --no-stats`, then makes every one of
 * the probe's sockets again with its own code (same case, same mechanism, same
 * registered mask) and compares the masks and SO_ERROR it gets with the probe's.
 * It also checks that the probe's output holds together: all 36 combinations once,
 * EPOLLERR set exactly when SO_ERROR is not 0 (epoll, poll), ECONNREFUSED in the
 * refused case only, no bit outside what was registered (plus ERR/HUP, which epoll
 * and poll always report), level-triggered waits repeat, names are mask_str()'s.
 * Nothing is compared with a typed-in table: the kernel is the reference.
 *
 * Exit 0 pass, 1 fail.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/masks.h"

#define MAX_OBS 64

struct obs {
	char     pcase[32], mech[16], connect[24], names[96], so_name[32];
	unsigned registered, mask, again;
	int      so_error;
	bool     timed_out;
};

static int failures;

#define CHECK(cond, ...) do {                                   \
	if (!(cond)) {                                          \
		fprintf(stderr, "FAIL: " __VA_ARGS__);          \
		fputc('\n', stderr);                            \
		failures++;                                     \
	}                                                       \
} while (0)

/* ---------------------------------------------------- reading the JSON */

/* The text after "key": in a one-line JSON object, up to , or } (quotes removed). */
static bool field(const char *line, const char *key, char *out, size_t len)
{
	char pat[48];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(line, pat);
	if (!p)
		return false;
	p += strlen(pat);
	if (*p == '"') {
		e = strchr(++p, '"');
	} else {
		e = p + strcspn(p, ",}");
	}
	if (!e || (size_t)(e - p) >= len)
		return false;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return true;
}

static bool parse_obs(const char *line, struct obs *o)
{
	char v[32];

	memset(o, 0, sizeof(*o));
	if (!field(line, "case", o->pcase, sizeof(o->pcase)) ||
	    !field(line, "mech", o->mech, sizeof(o->mech)) ||
	    !field(line, "connect", o->connect, sizeof(o->connect)) ||
	    !field(line, "names", o->names, sizeof(o->names)) ||
	    !field(line, "so_error_name", o->so_name, sizeof(o->so_name)))
		return false;
	if (!field(line, "registered", v, sizeof(v)))
		return false;
	o->registered = (unsigned)strtoul(v, NULL, 10);
	if (!field(line, "mask", v, sizeof(v)))
		return false;
	o->mask = (unsigned)strtoul(v, NULL, 10);
	if (!field(line, "again", v, sizeof(v)))
		return false;
	o->again = (unsigned)strtoul(v, NULL, 10);
	if (!field(line, "so_error", v, sizeof(v)))
		return false;
	o->so_error = atoi(v);
	if (!field(line, "timed_out", v, sizeof(v)))
		return false;
	o->timed_out = !strcmp(v, "true");
	return true;
}

/* ----------------------------------------- doing it again, independently */

struct ports {
	struct sockaddr_in listening, refusing;
	int lfd, rfd;
};

static void t_bind_loopback(int *fd, struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (*fd < 0 || bind(*fd, (struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    getsockname(*fd, (struct sockaddr *)sa, &len) < 0) {
		perror("t_probe_masks: socket/bind");
		exit(1);
	}
}

/* One wait on fd by mechanism `mech`; returns the epoll-bit mask, 0 on timeout. */
static unsigned t_wait(const char *mech, int fd, int ep, unsigned reg, int ms, bool *timed_out)
{
	unsigned mask = 0;
	int n;

	if (!strncmp(mech, "epoll", 5)) {
		struct epoll_event ev;

		n = epoll_wait(ep, &ev, 1, ms);
		if (n > 0)
			mask = ev.events;
	} else if (!strcmp(mech, "poll")) {
		struct pollfd pfd = { .fd = fd };

		if (reg & EPOLLIN)
			pfd.events |= POLLIN;
		if (reg & EPOLLOUT)
			pfd.events |= POLLOUT;
		n = poll(&pfd, 1, ms);
		if (n > 0)
			mask = mask_from_poll(pfd.revents);
	} else {
		struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
		fd_set r, w;

		FD_ZERO(&r);
		FD_ZERO(&w);
		if (reg & EPOLLIN)
			FD_SET(fd, &r);
		if (reg & EPOLLOUT)
			FD_SET(fd, &w);
		n = select(fd + 1, &r, &w, NULL, &tv);
		if (n > 0)
			mask = mask_from_select(FD_ISSET(fd, &r), FD_ISSET(fd, &w), 0);
	}
	if (n < 0) {
		perror("t_probe_masks: wait");
		exit(1);
	}
	if (timed_out)
		*timed_out = n == 0;
	return mask;
}

static void t_measure(const struct ports *pt, const struct obs *want, int ms, struct obs *got)
{
	socklen_t len = sizeof(got->so_error);
	int fd, ep = -1, afd;

	*got = *want;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		perror("t_probe_masks: socket");
		exit(1);
	}
	if (!strncmp(want->mech, "epoll", 5)) {
		struct epoll_event ev = { .events = want->registered, .data.fd = fd };

		if (!strcmp(want->mech, "epoll-et"))
			ev.events |= EPOLLET;
		ep = epoll_create1(0);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			perror("t_probe_masks: epoll");
			exit(1);
		}
	}
	if (!strcmp(want->pcase, "refused"))
		connect(fd, (const struct sockaddr *)&pt->refusing, sizeof(pt->refusing));
	else if (!strcmp(want->pcase, "connected"))
		connect(fd, (const struct sockaddr *)&pt->listening, sizeof(pt->listening));
	got->mask = t_wait(want->mech, fd, ep, want->registered, ms, &got->timed_out);
	got->again = t_wait(want->mech, fd, ep, want->registered, 0, NULL);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &got->so_error, &len);
	if (ep >= 0)
		close(ep);
	close(fd);
	while ((afd = accept(pt->lfd, NULL, NULL)) >= 0)
		close(afd);
}

/* ------------------------------------------------------------- the checks */

static void check_consistent(const struct obs *o)
{
	bool is_select = !strcmp(o->mech, "select");
	bool is_et = !strcmp(o->mech, "epoll-et");
	unsigned allowed = o->registered | (is_select ? 0 : EPOLLERR | EPOLLHUP);
	char names[96];

	mask_str(o->mask, names, sizeof(names), 0);
	CHECK(!strcmp(names, o->names), "%s/%s/0x%x: names \"%s\", mask_str says \"%s\"",
	      o->pcase, o->mech, o->registered, o->names, names);
	CHECK((o->mask & ~allowed) == 0, "%s/%s/0x%x: mask 0x%x has bits outside 0x%x",
	      o->pcase, o->mech, o->registered, o->mask, allowed);
	CHECK(o->timed_out == (o->mask == 0), "%s/%s/0x%x: timed_out %d but mask 0x%x",
	      o->pcase, o->mech, o->registered, o->timed_out, o->mask);
	if (!strcmp(o->pcase, "refused"))
		CHECK(o->so_error == ECONNREFUSED || !strcmp(o->connect, "ECONNREFUSED"),
		      "%s/%s/0x%x: refused connect, but SO_ERROR %d and connect() %s",
		      o->pcase, o->mech, o->registered, o->so_error, o->connect);
	else
		CHECK(o->so_error == 0, "%s/%s/0x%x: SO_ERROR %d (%s), want 0",
		      o->pcase, o->mech, o->registered, o->so_error, o->so_name);
	/* The probe's own invariant: SO_ERROR == ECONNREFUSED <=> EPOLLERR (select cannot show ERR). */
	if (!is_select)
		CHECK((o->so_error == ECONNREFUSED) == !!(o->mask & EPOLLERR),
		      "%s/%s/0x%x: SO_ERROR %s but mask 0x%x", o->pcase, o->mech, o->registered,
		      o->so_name, o->mask);
	/* Level-triggered (and poll, select) report the state again; edge-triggered at most once more. */
	if (!is_et)
		CHECK(o->again == o->mask, "%s/%s/0x%x: level-triggered second wait 0x%x != first 0x%x",
		      o->pcase, o->mech, o->registered, o->again, o->mask);
	else
		CHECK((o->again & ~o->mask) == 0, "%s/%s/0x%x: edge-triggered second wait 0x%x not within 0x%x",
		      o->pcase, o->mech, o->registered, o->again, o->mask);
}

static void check_same(const struct obs *probe, const struct obs *mine)
{
	CHECK(probe->mask == mine->mask, "%s/%s/0x%x: the probe says 0x%x, the kernel gave this test 0x%x",
	      probe->pcase, probe->mech, probe->registered, probe->mask, mine->mask);
	CHECK(probe->so_error == mine->so_error || !strcmp(probe->connect, "ECONNREFUSED"),
	      "%s/%s/0x%x: the probe's SO_ERROR %d, this test's %d",
	      probe->pcase, probe->mech, probe->registered, probe->so_error, mine->so_error);
	if (strcmp(probe->mech, "epoll-et"))
		CHECK(probe->again == mine->again, "%s/%s/0x%x: second wait: probe 0x%x, test 0x%x",
		      probe->pcase, probe->mech, probe->registered, probe->again, mine->again);
}

int main(void)
{
	static const char *const cases[] = { "before-connect", "refused", "connected" };
	static const char *const mechs[] = { "epoll-lt", "epoll-et", "poll", "select" };
	static const unsigned regs[] = { EPOLLIN, EPOLLOUT, EPOLLIN | EPOLLOUT };
	static struct obs obs[MAX_OBS];
	const char *bin = getenv("IOLAB_BIN");
	char cmd[512], line[1024], v[16];
	struct ports pt;
	int n = 0, timeout_ms = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s/iolab-probe --json --hold 0 --no-stats", bin ? bin : "bin");
	f = popen(cmd, "r");
	if (!f) {
		perror("t_probe_masks: popen");
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "\"program\":\"iolab-probe\"") && field(line, "timeout_ms", v, sizeof(v)))
			timeout_ms = atoi(v);
		if (strncmp(line, "{\"case\":", 8))
			continue;
		if (n == MAX_OBS || !parse_obs(line, &obs[n])) {
			fprintf(stderr, "FAIL: cannot read observation: %s", line);
			return 1;
		}
		n++;
	}
	if (pclose(f) != 0) {
		fprintf(stderr, "FAIL: '%s' did not exit 0\n", cmd);
		return 1;
	}
	CHECK(timeout_ms > 0, "no timeout_ms in the probe's JSON header");
	CHECK(n == 36, "%d observations, want 3 cases x 4 mechanisms x 3 registrations = 36", n);
	if (failures)
		return 1;

	t_bind_loopback(&pt.lfd, &pt.listening);
	if (listen(pt.lfd, 64) < 0) {
		perror("t_probe_masks: listen");
		return 1;
	}
	t_bind_loopback(&pt.rfd, &pt.refusing);     /* bound, never listening: refuses */

	for (size_t c = 0; c < 3; c++)
		for (size_t m = 0; m < 4; m++)
			for (size_t r = 0; r < 3; r++) {
				const struct obs *o = NULL;
				struct obs mine;
				int seen = 0;

				for (int i = 0; i < n; i++)
					if (!strcmp(obs[i].pcase, cases[c]) && !strcmp(obs[i].mech, mechs[m]) &&
					    obs[i].registered == regs[r]) {
						o = &obs[i];
						seen++;
					}
				CHECK(seen == 1, "%s/%s/0x%x appears %d times", cases[c], mechs[m], regs[r], seen);
				if (!o)
					continue;
				check_consistent(o);
				t_measure(&pt, o, timeout_ms, &mine);
				check_same(o, &mine);
				printf("%-15s %-9s reg 0x%-2x  probe 0x%-3x test 0x%-3x  SO_ERROR %s\n",
				       o->pcase, o->mech, o->registered, o->mask, mine.mask, o->so_name);
			}
	close(pt.lfd);
	close(pt.rfd);
	if (failures) {
		fprintf(stderr, "FAIL: %d check(s) failed\n", failures);
		return 1;
	}
	printf("PASS: the probe's 36 observations match this kernel and each other\n");
	return 0;
}
