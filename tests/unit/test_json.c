/* Description: unit tests for common/json.c, the one JSON string escaper —
 * quotes, backslashes and control bytes escaped; valid UTF-8 passed through;
 * bytes that are not UTF-8 (stray continuations, overlongs, surrogates, a
 * sequence cut by the length limit) written as \u00XX; json_string_n stops at
 * max bytes or a NUL.  A property test escapes random byte strings and checks
 * that the output is a JSON string literal (no raw control byte, no raw byte
 * outside well-formed UTF-8, every escape one JSON knows) that decodes back to
 * the input.
 *
 * Usage: bin/tests/test_json
 *        IOLAB_SEED=N bin/tests/test_json   (replay the random cases with seed N)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"

#define TRIALS 5000

static char out[4096];

/* json_string_n(s, max) into out, NUL-terminated. */
static const char *esc_n(const char *s, size_t max)
{
	FILE *f = fmemopen(out, sizeof(out), "w");

	assert_non_null(f);
	json_string_n(f, s, max);
	assert_int_equal(fclose(f), 0);
	return out;
}

static const char *esc(const char *s)
{
	FILE *f = fmemopen(out, sizeof(out), "w");

	assert_non_null(f);
	json_string(f, s);
	assert_int_equal(fclose(f), 0);
	return out;
}

static void plain_text_is_quoted(void **state)
{
	(void)state;
	assert_string_equal(esc("echo-epoll-lt"), "\"echo-epoll-lt\"");
	assert_string_equal(esc(""), "\"\"");
}

static void quote_backslash_and_controls_are_escaped(void **state)
{
	(void)state;
	assert_string_equal(esc("a\"b\\c"), "\"a\\\"b\\\\c\"");
	assert_string_equal(esc("tab\there\nnl"), "\"tab\\u0009here\\u000anl\"");
	assert_string_equal(esc("\x01\x1f\x7f"), "\"\\u0001\\u001f\\u007f\"");
	assert_string_equal(esc("/"), "\"/\"");                  /* '/' may stay as it is */
}

static void valid_utf8_passes_through(void **state)
{
	(void)state;
	assert_string_equal(esc("0x5 \xe2\x86\x92 0x1"), "\"0x5 \xe2\x86\x92 0x1\"");   /* U+2192 */
	assert_string_equal(esc("\xc3\xa9"), "\"\xc3\xa9\"");                            /* U+00E9 */
	assert_string_equal(esc("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");            /* U+1F600 */
}

static void bytes_that_are_not_utf8_become_escapes(void **state)
{
	(void)state;
	assert_string_equal(esc("\x80"), "\"\\u0080\"");                   /* lone continuation */
	assert_string_equal(esc("\xc3("), "\"\\u00c3(\"");                 /* lead without continuation */
	assert_string_equal(esc("\xc0\xaf"), "\"\\u00c0\\u00af\"");        /* overlong '/' */
	assert_string_equal(esc("\xe0\x80\xaf"), "\"\\u00e0\\u0080\\u00af\"");   /* overlong, 3 bytes */
	assert_string_equal(esc("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\"");   /* surrogate U+D800 */
	assert_string_equal(esc("\xf4\x90\x80\x80"), "\"\\u00f4\\u0090\\u0080\\u0080\"");  /* > U+10FFFF */
	assert_string_equal(esc("\xff"), "\"\\u00ff\"");
}

static void n_variant_stops_at_max_or_nul(void **state)
{
	(void)state;
	assert_string_equal(esc_n("abcdef", 3), "\"abc\"");
	assert_string_equal(esc_n("ab\0cd", 5), "\"ab\"");
	assert_string_equal(esc_n("abc", 0), "\"\"");
	/* A fixed field that cuts a UTF-8 sequence: the partial bytes are escaped, never emitted raw. */
	assert_string_equal(esc_n("x\xe2\x86\x92", 3), "\"x\\u00e2\\u0086\"");
}

/* ---------------------------------------------------------------- property */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Length of the UTF-8 sequence that starts at s, from its lead byte. */
static size_t seq_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		return 2;
	if ((s[0] & 0xf0) == 0xe0)
		return 3;
	return 4;
}

/*
 * Check that lit is one JSON string literal and decode it: \u00XX escapes to
 * the byte XX, raw bytes as themselves.  Returns the decoded length, or -1.
 */
static long decode_literal(const char *lit, unsigned char *dst)
{
	const unsigned char *p = (const unsigned char *)lit;
	size_t len = strlen(lit);
	long n = 0;

	if (len < 2 || p[0] != '"' || p[len - 1] != '"')
		return -1;
	for (size_t i = 1; i < len - 1;) {
		if (p[i] == '\\') {
			if (p[i + 1] == '"' || p[i + 1] == '\\') {
				dst[n++] = p[i + 1];
				i += 2;
			} else if (p[i + 1] == 'u' && p[i + 2] == '0' && p[i + 3] == '0' &&
				   hexval((char)p[i + 4]) >= 0 && hexval((char)p[i + 5]) >= 0) {
				dst[n++] = (unsigned char)(hexval((char)p[i + 4]) << 4 | hexval((char)p[i + 5]));
				i += 6;
			} else
				return -1;
		} else if (p[i] == '"' || p[i] < 0x20) {
			return -1;                  /* raw quote or control byte: not JSON */
		} else if (p[i] >= 0x80) {
			/* A raw high byte must start a sequence with its continuation bytes. */
			size_t k = seq_len(p + i);
			for (size_t j = 1; j < k; j++)
				if ((p[i + j] & 0xc0) != 0x80)
					return -1;
			memcpy(dst + n, p + i, k);
			n += (long)k;
			i += k;
		} else
			dst[n++] = p[i++];
	}
	return n;
}

static void property_random_bytes_round_trip(void **state)
{
	const char *env = getenv("IOLAB_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
	unsigned char in[64], back[sizeof(out)];

	(void)state;
	printf("seed %llu (replay: IOLAB_SEED=%llu)\n", (unsigned long long)seed,
	       (unsigned long long)seed);
	srandom((unsigned)seed);                 /* glibc's random(): the same sequence for a seed */
	for (int t = 0; t < TRIALS; t++) {
		size_t n = (size_t)random() % (sizeof(in) - 1);

		for (size_t i = 0; i < n; i++) {
			in[i] = (unsigned char)(random() % 255 + 1);       /* no NUL inside */
			if (random() % 4 == 0 && i + 3 < n) {                /* plant valid UTF-8 too */
				memcpy(in + i, "\xe2\x86\x92", 3);
				i += 2;
			}
		}
		in[n] = 0;
		long m = decode_literal(esc((const char *)in), back);
		if (m != (long)n || memcmp(in, back, n) != 0) {
			print_error("trial %d: %s does not decode back to the %zu input bytes\n", t, out, n);
			fail();
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_text_is_quoted),
		cmocka_unit_test(quote_backslash_and_controls_are_escaped),
		cmocka_unit_test(valid_utf8_passes_through),
		cmocka_unit_test(bytes_that_are_not_utf8_become_escapes),
		cmocka_unit_test(n_variant_stops_at_max_or_nul),
		cmocka_unit_test(property_random_bytes_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
