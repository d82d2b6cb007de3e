/*
 * diag.h — what `ss` sees, from inside a program: TCP sockets by state and port,
 * read through the kernel's sock_diag netlink interface (NETLINK_SOCK_DIAG,
 * inet_diag), the same source `ss -tan` prints.
 *
 * Library code: returns a status and sets errno; never exits or prints.
 */
#ifndef IOLAB_DIAG_H
#define IOLAB_DIAG_H

#include <stdint.h>

/* Bit for one TCP state (TCP_ESTABLISHED... from <netinet/tcp.h>) in a states mask. */
#define DIAG_STATE(s) (1u << (s))

struct diag_found {
	int      count;        /* sockets that matched */
	uint32_t expires_ms;   /* the first match's timer: time left (TIME_WAIT: the 60 s timer), ms */
	uint32_t rqueue;       /* the first match's Recv-Q (a listener: connections waiting for accept) */
	uint32_t wqueue;       /* the first match's Send-Q (a listener: its backlog) */
};

/*
 * Count the IPv4 TCP sockets in this network namespace whose state is in `states`
 * and whose local port is lport (0 = any) and remote port rport (0 = any).
 * Returns 0 and fills *found, or -1 with errno.
 */
int diag_tcp_count(unsigned states, uint16_t lport, uint16_t rport, struct diag_found *found);

#endif
