/*
 * diag.c — count TCP sockets by state and port through sock_diag (what `ss` reads).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/diag.h"

int diag_tcp_count(unsigned states, uint16_t lport, uint16_t rport, struct diag_found *found)
{
	struct {
		struct nlmsghdr        nlh;
		struct inet_diag_req_v2 req;
	} msg;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	char buf[16384];
	int fd, err = 0, done = 0;

	memset(found, 0, sizeof(*found));
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -1;
	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.req.sdiag_family = AF_INET;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = states;
	/* A dump ignores the ports in req.id (only a bytecode filter would use them): filter below. */
	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0)
		goto fail;
	while (!done) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			const struct inet_diag_msg *d;

			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				err = e->error ? -e->error : EIO;
				done = 1;
				break;
			}
			d = NLMSG_DATA(h);
			if (lport && ntohs(d->id.idiag_sport) != lport)
				continue;
			if (rport && ntohs(d->id.idiag_dport) != rport)
				continue;
			if (found->count++ == 0) {
				found->expires_ms = d->idiag_expires;
				found->rqueue = d->idiag_rqueue;
				found->wqueue = d->idiag_wqueue;
			}
		}
	}
	close(fd);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}
