/*
 * net.h — sockets for iolab servers and tools.
 *
 * Library code: every function returns a status (and sets errno) and writes a
 * message into the caller's buffer where that helps; none exits or prints.
 */
#ifndef IOLAB_NET_H
#define IOLAB_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NET_BACKLOG 1024   /* listen() backlog; the kernel caps it at net.core.somaxconn */

/*
 * Listen on addr:port (IPv4 or IPv6 literal; port 0 = pick a free one), with
 * SO_REUSEADDR.  Nonblocking if asked.  Returns the fd, or -1 with a message
 * in err ("bind 127.0.0.1:80: Permission denied").
 */
int  net_listen(const char *addr, uint16_t port, bool nonblock, char *err, size_t errlen);
/* The port a socket is bound to (after port 0), or 0 on error. */
uint16_t net_local_port(int fd);
/* Peer port of a connected socket, or 0. */
uint16_t net_peer_port(int fd);

/*
 * accept4() that survives EMFILE/ENFILE without spinning: it keeps one spare
 * descriptor (net_reserve_fd()), and when the process runs out it closes the
 * spare, accepts and immediately closes the connection (the client sees a close
 * instead of hanging in the backlog forever), then takes the spare back.
 * Returns the new fd, or -1 with errno (EAGAIN when nothing is pending, EMFILE
 * after shedding one connection, EINTR...).  flags as accept4 (SOCK_NONBLOCK...).
 * *peer_port, if not NULL, gets the client's port.
 */
int  net_accept(int lfd, int flags, uint16_t *peer_port);
int  net_reserve_fd(void);   /* open the spare descriptor (call once at start-up) */

int  net_set_nonblock(int fd, bool on);
int  net_set_nodelay(int fd);
/* Raise RLIMIT_NOFILE to its hard limit; returns the new soft limit. */
long net_raise_nofile(void);
/* SIGPIPE -> ignored, so a write to a reset peer returns EPIPE instead of killing us. */
int  net_ignore_sigpipe(void);

/* Client side (tools and tests): blocking connect to addr:port, TCP_NODELAY set. */
int  net_connect(const char *addr, uint16_t port, char *err, size_t errlen);
/* Fill a sockaddr for addr:port; returns its length or 0 if addr is not a literal. */
socklen_t net_sockaddr(const char *addr, uint16_t port, struct sockaddr_storage *ss);

#endif
