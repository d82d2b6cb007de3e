/*
 * diagnose.c — connections that failed waiting for the server (nothing came
 * back, the echoes stopped, or it closed them before echoing a byte), named
 * once for all of them, with what that points to.
 *
 * An echo server that frames differently from the client answers nothing, and
 * every connection fails the same way: printing each one ("conn 17: not echoed,
 * the server stalled?") fifty times blames the server for the client's flag.
 * What the byte stream shows, by framing pair (client -f -> server -f):
 *
 *   len32 -> line    the server waits for a '\n' a len32 message never holds:
 *                    nothing comes back, the connection stays open
 *   raw   -> line    the same
 *   line  -> len32   the server reads "c0 s" as a length of 1664098419 bytes,
 *   raw   -> len32   over its --max-frame: a protocol error, it closes at once
 *   any   -> raw     a raw server echoes any byte stream: no mismatch to see
 *
 * An iolab server says its framing in its telemetry header ("framing=line ..."),
 * found by port in /dev/shm: then the mismatch is certain.  Without telemetry
 * (--no-stats, another server) the symptom is all there is, and the text says so.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/telemetry.h"
#include "labs/tools/load/load.h"

/* The live iolab server listening on our port, as its telemetry header tells it. */
struct server_info {
	bool  found;
	pid_t pid;
	char  model[32];
	char  framing[32];            /* the framing= token of its options */
};

static void look_at_segment(const char *path, void *arg)
{
	struct server_info *si = arg;
	struct tm_reader rd;
	const char *f;

	if (si->found || tm_reader_open(&rd, path) != TM_OK)
		return;
	if (rd.hdr->kind == TM_KIND_SERVER && rd.hdr->port == opt.port && tm_reader_alive(&rd) &&
	    (!opt.server_pid || rd.hdr->pid == opt.server_pid)) {
		char options[sizeof(rd.hdr->options) + 1];

		memcpy(options, rd.hdr->options, sizeof(rd.hdr->options));
		options[sizeof(rd.hdr->options)] = '\0';
		f = strstr(options, "framing=");
		if (f) {
			si->found = true;
			si->pid = rd.hdr->pid;
			snprintf(si->model, sizeof(si->model), "%.*s", (int)sizeof(rd.hdr->model) - 1,
				 rd.hdr->model);
			snprintf(si->framing, sizeof(si->framing), "%.*s",
				 (int)strcspn(f + 8, " "), f + 8);
			/* "framing=fixed max-frame=N" is fixed:N (the frame size is its limit) */
			const char *mf = strstr(options, "max-frame=");
			if (!strcmp(si->framing, "fixed") && mf)
				snprintf(si->framing, sizeof(si->framing), "fixed:%.*s",
					 (int)strcspn(mf + 10, " "), mf + 10);
		}
	}
	tm_reader_close(&rd);
}

/* "conn 0, 1, 2 and 47 more" */
static void list_conns(char *buf, size_t len, enum no_reply kind, unsigned n)
{
	size_t used = 0;
	unsigned shown = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < nconns_all && shown < 3; i++) {
		if (conns[i].no_reply != kind)
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%u", shown ? ", " : "conn ", conns[i].id);
		shown++;
		if (used >= len)
			return;
	}
	if (n > shown)
		snprintf(buf + used, len - used, " and %u more", n - shown);
}

void diagnose(struct result *r)
{
	struct server_info si = { 0 };
	unsigned silent = 0, closed = 0, stuck = 0, working = 0;
	uint64_t missing = 0;
	char sent[32];
	char which[96];

	framing_spec(opt.framing, opt.frame_size, sent, sizeof(sent));
	for (size_t i = 0; i < nconns_all; i++) {
		silent += conns[i].no_reply == NR_SILENT;
		closed += conns[i].no_reply == NR_CLOSED;
		stuck += conns[i].no_reply == NR_STUCK;
		if (conns[i].no_reply == NR_STUCK)
			missing += conns[i].q_len;
		working += conns[i].role != ROLE_IDLE;
	}
	if (!silent && !closed && !stuck)
		return;
	if (silent) {
		list_conns(which, sizeof(which), NR_SILENT, silent);
		fprintf(stderr, PROG ": unanswered: %u of %u connection%s got not one byte back"
			" in %.1f s (%s): every byte was sent and nothing came back\n",
			silent, working, working == 1 ? "" : "s", opt.drain, which);
	}
	if (stuck) {
		list_conns(which, sizeof(which), NR_STUCK, stuck);
		fprintf(stderr, PROG ": unanswered: %u of %u connection%s stopped getting echoes,"
			" %" PRIu64 " message(s) missing, none came in the last %.1f s (%s):"
			" the server stalled?\n", stuck, working, working == 1 ? "" : "s", missing,
			opt.drain, which);
	}
	if (closed) {
		list_conns(which, sizeof(which), NR_CLOSED, closed);
		fprintf(stderr, PROG ": closed: the server closed %u of %u connection%s before"
			" echoing one byte (%s)\n", closed, working, working == 1 ? "" : "s", which);
	}

	tm_list(look_at_segment, &si);
	if (si.found && strcmp(si.framing, sent) != 0) {
		snprintf(r->diagnosis, sizeof(r->diagnosis),
			 "framing mismatch: the server (%s, pid %d) frames by %s and these messages"
			 " were %s: %s. Run with -f %s", si.model, (int)si.pid, si.framing, sent,
			 silent || stuck ? "it never sees where these frames end, so echoes stop"
					 : "it takes them for a protocol error and closes", si.framing);
	} else if (si.found) {
		snprintf(r->diagnosis, sizeof(r->diagnosis),
			 "the server (%s, pid %d) frames by %s as we do: not a framing mismatch;"
			 " %s", si.model, (int)si.pid, si.framing,
			 silent || stuck ? "it is stalled (stopped? busy with another client?)"
					 : "its log (stderr) says why it closed them");
	} else if (silent == working && opt.framing != FRAMING_LINE) {
		snprintf(r->diagnosis, sizeof(r->diagnosis),
			 "framing mismatch? a server that expects another framing than -f %s answers"
			 " nothing: one that frames by line waits for a '\\n' these messages never"
			 " hold. If it was started with -f line, run with -f line (no telemetry of"
			 " the server on port %u to be sure)", sent, opt.port);
	} else if (closed == working && opt.framing != FRAMING_LEN32) {
		snprintf(r->diagnosis, sizeof(r->diagnosis),
			 "framing mismatch? a server that expects another framing than -f %s closes"
			 " at once: one that frames by len32 reads the first bytes of these messages"
			 " (\"c0 s\") as a length over its --max-frame. If it was started with -f len32"
			 " (the default), run with -f len32 (no telemetry of the server on port %u to"
			 " be sure)", sent, opt.port);
	}
	if (r->diagnosis[0])
		fprintf(stderr, PROG ": %s\n", r->diagnosis);
}
