/*
 * net.c — listening, accepting, connecting; the socket options every server sets.
 */
#include "common/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

socklen_t net_sockaddr(const char *addr, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (!strcmp(addr, "localhost"))
		addr = "127.0.0.1";
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		return sizeof(*in4);
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		return sizeof(*in6);
	}
	return 0;
}

int net_listen(const char *addr, uint16_t port, bool nonblock, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = net_sockaddr(addr, port, &ss);
	int fd, one = 1;

	if (!len) {
		snprintf(err, errlen, "bind address '%s' is not an IPv4 or IPv6 literal", addr);
		errno = EINVAL;
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* Restarting a server must not wait out TIME_WAIT on its port. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		snprintf(err, errlen, "setsockopt(SO_REUSEADDR): %s", strerror(errno));
		goto out_close_fd;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		snprintf(err, errlen, "bind %s:%u: %s", addr, port, strerror(errno));
		goto out_close_fd;
	}
	if (listen(fd, NET_BACKLOG) < 0) {
		snprintf(err, errlen, "listen: %s", strerror(errno));
		goto out_close_fd;
	}
	return fd;

out_close_fd: {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

uint16_t net_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	return port_of(&ss);
}

uint16_t net_peer_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	return port_of(&ss);
}

static int spare_fd = -1;

int net_reserve_fd(void)
{
	if (spare_fd < 0)
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return spare_fd;
}

int net_accept(int lfd, int flags, uint16_t *peer_port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd;

	fd = accept4(lfd, (struct sockaddr *)&ss, &len, flags | SOCK_CLOEXEC);
	if (fd >= 0) {
		if (peer_port)
			*peer_port = port_of(&ss);
		return fd;
	}
	if ((errno == EMFILE || errno == ENFILE) && spare_fd >= 0) {
		/*
		 * Out of descriptors.  The pending connection stays in the backlog and the
		 * listener stays readable, so a level-triggered loop would spin here forever.
		 * Free the spare, take the connection and close it at once, then re-arm.
		 */
		close(spare_fd);
		spare_fd = -1;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		errno = EMFILE;
	}
	return -1;
}

int net_set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

int net_set_nodelay(int fd)
{
	int one = 1;

	/* Echo replies are small and must leave now, not wait for Nagle's timer. */
	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

long net_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return -1;
	}
	return (long)rl.rlim_cur;
}

int net_ignore_sigpipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

int net_connect(const char *addr, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = net_sockaddr(addr, port, &ss);
	int fd;

	if (!len) {
		snprintf(err, errlen, "address '%s' is not an IPv4 or IPv6 literal", addr);
		errno = EINVAL;
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		int e = errno;

		snprintf(err, errlen, "connect %s:%u: %s", addr, port, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	net_set_nodelay(fd);
	return fd;
}
