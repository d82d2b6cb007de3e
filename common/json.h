/*
 * json.h — write a string as a JSON string literal.
 *
 * The one escaper for every program that prints JSON (iolab-load --json,
 * iolab-stat --json, iolab-view --batch).  Strings may come from another
 * process's shared memory, so the output is valid JSON whatever the bytes:
 * '"' and '\' are escaped, control bytes become \u00XX, and so does any byte
 * that is not part of well-formed UTF-8 (read as Latin-1).  Valid UTF-8
 * passes through unchanged.
 */
#ifndef IOLAB_JSON_H
#define IOLAB_JSON_H

#include <stddef.h>
#include <stdio.h>

/* The quoted, escaped string s to f. */
void json_string(FILE *f, const char *s);

/* The same for at most max bytes of s (stops at a NUL): fixed-size fields. */
void json_string_n(FILE *f, const char *s, size_t max);

#endif
