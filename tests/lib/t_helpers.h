/*
 * t_helpers.h — what the C test programs share (liburing's test/helpers.c habit):
 * whole reads and writes, a clock, and dying with a message.  Linked into every
 * program under tests/ (Makefile: TEST_HELPERS).
 */
#ifndef IOLAB_T_HELPERS_H
#define IOLAB_T_HELPERS_H

#include <stddef.h>
#include <stdint.h>

/* Write all n bytes (EINTR retried): 0, or -1 on an error or a zero write. */
int      t_write_all(int fd, const void *p, size_t n);
/* Read exactly n bytes (EINTR retried): 0, or -1 on EOF, an error or a timeout. */
int      t_read_exact(int fd, void *p, size_t n);
/* CLOCK_MONOTONIC in milliseconds and microseconds. */
uint64_t t_now_ms(void);
uint64_t t_now_us(void);
/* Print "PROGRAM: message" on stderr and exit 1 (a failed check). */
void     t_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
