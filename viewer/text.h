/*
 * text.h — turning figures, masks and events into short text (screen and JSON alike).
 */
#ifndef IOLAB_VIEW_TEXT_H
#define IOLAB_VIEW_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "common/errname.h"
#include "common/telemetry.h"

/* 0, 3.25, 45.1, 812, 1.23k, 45.6M ... at most 5 characters; NAN -> "-". */
char *fmt_num(double v, char *buf, size_t len);
/* A count: exact up to 99999, then 123k, 4.56M (never wider than 5). */
char *fmt_count(uint64_t n, char *buf, size_t len);
/* A duration: 0, 950ns, 120us, 4.5ms, 1.20s, 3m05s. */
char *fmt_dur(uint64_t ns, char *buf, size_t len);
/* Bytes: 512, 12.3K, 4.0M, 1.2G (binary multiples). */
char *fmt_bytes(uint64_t n, char *buf, size_t len);

/* How much of the mask's name fits: */
enum mask_style {
	MASK_HEX,          /* 0x19 */
	MASK_SHORT,        /* 0x19 IN|ERR|HUP */
	MASK_LONG,         /* 0x19 EPOLLIN|EPOLLERR|EPOLLHUP */
};
/* "0x19 EPOLLIN|EPOLLERR|EPOLLHUP" (names from common/masks.c). */
char *mask_text(uint32_t mask, enum mask_style style, char *buf, size_t len);
/* The longest style whose text fits in `width` columns. */
char *mask_fit(uint32_t mask, int width, char *buf, size_t len);

/* What an event's value/mask mean, decoded: "0x1 EPOLLIN", "peer :40312", "EOF"... */
char *event_detail(const struct tm_event *e, char *buf, size_t len);
/* One line that explains an async-connect observation to a student. */
const char *probe_explain(const struct tm_probe *p);
/* strace -e trace=... for a model (by its waiting call): the wait and the calls that move bytes. */
const char *strace_filter(const char *wait_call);
/* The header's options string without those that belong to another model. */

#endif
