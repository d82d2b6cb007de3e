/* Description: unit tests for common/masks.c — the one table that names event
 * masks for servers, probe and viewer.  The table is checked against the
 * kernel's own constants from <sys/epoll.h> and <poll.h> (EPOLLIN == 0x1 ...),
 * mask_str() against known masks (0x19 is "EPOLLIN|EPOLLERR|EPOLLHUP"), unknown
 * bits, short names and small buffers, and the translations from poll revents,
 * select sets and SIGIO's si_band into epoll bits.
 *
 * Usage: bin/tests/test_masks
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "common/masks.h"

/* Every epoll bit the kernel defines, spelled from the system headers, not from masks.c. */
static const struct {
	uint32_t    bit;
	const char *name;
} kernel_bits[] = {
	{ EPOLLIN, "EPOLLIN" },         { EPOLLPRI, "EPOLLPRI" },       { EPOLLOUT, "EPOLLOUT" },
	{ EPOLLERR, "EPOLLERR" },       { EPOLLHUP, "EPOLLHUP" },       { EPOLLRDNORM, "EPOLLRDNORM" },
	{ EPOLLRDBAND, "EPOLLRDBAND" }, { EPOLLWRNORM, "EPOLLWRNORM" }, { EPOLLWRBAND, "EPOLLWRBAND" },
	{ EPOLLMSG, "EPOLLMSG" },       { EPOLLRDHUP, "EPOLLRDHUP" },   { EPOLLEXCLUSIVE, "EPOLLEXCLUSIVE" },
	{ EPOLLWAKEUP, "EPOLLWAKEUP" }, { EPOLLONESHOT, "EPOLLONESHOT" }, { EPOLLET, "EPOLLET" },
	{ POLLNVAL, "EPOLLNVAL" },      /* poll's bit, carried in the same place (no EPOLLNVAL in glibc) */
};
#define NKERNEL (sizeof(kernel_bits) / sizeof(kernel_bits[0]))

static const char *str(uint32_t mask, int shortnames)
{
	static char buf[512];

	memset(buf, 'X', sizeof(buf));
	return mask_str(mask, buf, sizeof(buf), shortnames);
}

/* The documented values, as the lab text quotes them. */
static void kernel_constants_have_the_documented_values(void **state)
{
	(void)state;
	assert_int_equal(EPOLLIN, 0x1);
	assert_int_equal(EPOLLPRI, 0x2);
	assert_int_equal(EPOLLOUT, 0x4);
	assert_int_equal(EPOLLERR, 0x8);
	assert_int_equal(EPOLLHUP, 0x10);
	assert_int_equal(EPOLLRDNORM, 0x40);
	assert_int_equal(EPOLLRDBAND, 0x80);
	assert_int_equal(EPOLLWRNORM, 0x100);
	assert_int_equal(EPOLLWRBAND, 0x200);
	assert_int_equal(EPOLLMSG, 0x400);
	assert_int_equal(EPOLLRDHUP, 0x2000);
	assert_int_equal((uint32_t)EPOLLEXCLUSIVE, 1u << 28);
	assert_int_equal((uint32_t)EPOLLWAKEUP, 1u << 29);
	assert_int_equal((uint32_t)EPOLLONESHOT, 1u << 30);
	assert_int_equal((uint32_t)EPOLLET, 1u << 31);
	/* poll and epoll share the low bits on Linux: what lets one table serve both. */
	assert_int_equal(POLLIN, EPOLLIN);
	assert_int_equal(POLLPRI, EPOLLPRI);
	assert_int_equal(POLLOUT, EPOLLOUT);
	assert_int_equal(POLLERR, EPOLLERR);
	assert_int_equal(POLLHUP, EPOLLHUP);
	assert_int_equal(POLLNVAL, 0x20);
	assert_int_equal(POLLRDHUP, EPOLLRDHUP);
}

/* Each table entry is one bit, names the kernel constant of that value, in bit order, once. */
static void table_matches_the_kernel_headers(void **state)
{
	(void)state;
	assert_int_equal(mask_names_count, NKERNEL);
	for (size_t i = 0; i < mask_names_count; i++) {
		uint32_t bit = mask_names[i].bit;
		bool found = false;

		assert_int_not_equal(bit, 0);
		assert_int_equal(bit & (bit - 1), 0);                 /* a single bit */
		assert_int_equal(strncmp(mask_names[i].name, "EPOLL", 5), 0);
		if (i > 0)
			assert_true(mask_names[i - 1].bit < bit);     /* bit order, no duplicates */
		for (size_t k = 0; k < NKERNEL; k++) {
			if (kernel_bits[k].bit != bit)
				continue;
			assert_string_equal(mask_names[i].name, kernel_bits[k].name);
			found = true;
		}
		if (!found)
			fail_msg("table bit 0x%x (%s) is not a kernel constant", bit, mask_names[i].name);
	}
	/* And the other way round: no kernel bit is missing from the table. */
	for (size_t k = 0; k < NKERNEL; k++)
		assert_string_equal(str(kernel_bits[k].bit, 0), kernel_bits[k].name);
}

static void known_masks_decode(void **state)
{
	(void)state;
	assert_string_equal(str(0x19, 0), "EPOLLIN|EPOLLERR|EPOLLHUP");
	assert_string_equal(str(EPOLLIN | EPOLLERR | EPOLLHUP, 0), "EPOLLIN|EPOLLERR|EPOLLHUP");
	assert_string_equal(str(0x14, 0), "EPOLLOUT|EPOLLHUP");
	assert_string_equal(str(0x4, 0), "EPOLLOUT");
	assert_string_equal(str(0x2001, 0), "EPOLLIN|EPOLLRDHUP");
	assert_string_equal(str(EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, 0), "EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET");
	assert_string_equal(str(0, 0), "0");
}

static void short_names_drop_the_prefix(void **state)
{
	(void)state;
	assert_string_equal(str(0x19, 1), "IN|ERR|HUP");
	assert_string_equal(str(EPOLLOUT | EPOLLET, 1), "OUT|ET");
	assert_string_equal(str(0, 1), "0");
	assert_string_equal(str(0x800, 1), "0x800");
}

static void unknown_bits_are_shown_in_hex(void **state)
{
	(void)state;
	assert_string_equal(str(0x800, 0), "0x800");                 /* bit 11: no name */
	assert_string_equal(str(0x1800, 0), "0x1800");               /* bits 11 and 12 together */
	assert_string_equal(str(EPOLLIN | 0x800, 0), "EPOLLIN|0x800");
	assert_string_equal(str(EPOLLOUT | 0x4000 | 0x8000000, 0), "EPOLLOUT|0x8004000");
}

static void small_buffers_stay_terminated(void **state)
{
	const char *full = "EPOLLIN|EPOLLERR|EPOLLHUP";
	char buf[32];

	(void)state;
	for (size_t len = 1; len <= strlen(full) + 1; len++) {
		memset(buf, 'X', sizeof(buf));
		mask_str(0x19, buf, len, 0);
		assert_true(strlen(buf) < len);
		assert_memory_equal(buf, full, strlen(buf));          /* a prefix of the whole text */
		assert_int_equal(buf[len], 'X');                      /* nothing written past len */
	}
	memset(buf, 'X', sizeof(buf));
	mask_str(0x19, buf, 0, 0);                                    /* len 0: untouched */
	assert_int_equal(buf[0], 'X');
	mask_str(0x19 | 0x800, buf, 10, 0);
	assert_true(strlen(buf) < 10);
}

static void poll_revents_translate(void **state)
{
	(void)state;
	assert_int_equal(mask_from_poll(POLLIN), EPOLLIN);
	assert_int_equal(mask_from_poll(POLLPRI), EPOLLPRI);
	assert_int_equal(mask_from_poll(POLLOUT), EPOLLOUT);
	assert_int_equal(mask_from_poll(POLLERR | POLLHUP), EPOLLERR | EPOLLHUP);
	assert_int_equal(mask_from_poll(POLLIN | POLLERR | POLLHUP), 0x19);
	assert_int_equal(mask_from_poll(POLLRDHUP), EPOLLRDHUP);
	assert_int_equal(mask_from_poll(POLLNVAL), 0x20);
	assert_string_equal(str(mask_from_poll(POLLNVAL), 0), "EPOLLNVAL");
	assert_int_equal(mask_from_poll(0), 0);
}

static void select_sets_translate(void **state)
{
	(void)state;
	assert_int_equal(mask_from_select(0, 0, 0), 0);
	assert_int_equal(mask_from_select(1, 0, 0), EPOLLIN);
	assert_int_equal(mask_from_select(0, 1, 0), EPOLLOUT);
	assert_int_equal(mask_from_select(0, 0, 1), EPOLLPRI);
	assert_int_equal(mask_from_select(1, 1, 0), EPOLLIN | EPOLLOUT);
	assert_int_equal(mask_from_select(7, 7, 7), EPOLLIN | EPOLLOUT | EPOLLPRI);  /* any true value */
	/* select has no ERR or HUP: a failed connect shows as readable and writable */
	assert_int_equal(mask_from_select(1, 1, 0) & (EPOLLERR | EPOLLHUP), 0);
}

/* si_band values the kernel sends with SIGIO (fs/fcntl.c band_table), in poll bits. */
static void sigio_bands_translate(void **state)
{
	(void)state;
	assert_int_equal(mask_from_band(POLLIN | POLLRDNORM), EPOLLIN | EPOLLRDNORM);                 /* POLL_IN */
	assert_int_equal(mask_from_band(POLLOUT | POLLWRNORM | POLLWRBAND),
			 EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND);                                       /* POLL_OUT */
	assert_int_equal(mask_from_band(POLLIN | POLLRDNORM | POLLMSG), EPOLLIN | EPOLLRDNORM | EPOLLMSG); /* POLL_MSG */
	assert_int_equal(mask_from_band(POLLERR), EPOLLERR);                                          /* POLL_ERR */
	assert_int_equal(mask_from_band(POLLPRI | POLLRDBAND), EPOLLPRI | EPOLLRDBAND);               /* POLL_PRI */
	assert_int_equal(mask_from_band(POLLHUP | POLLERR), EPOLLHUP | EPOLLERR);                     /* POLL_HUP */
	assert_string_equal(str(mask_from_band(POLLIN | POLLRDNORM), 0), "EPOLLIN|EPOLLRDNORM");
	assert_int_equal(mask_from_band(0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kernel_constants_have_the_documented_values),
		cmocka_unit_test(table_matches_the_kernel_headers),
		cmocka_unit_test(known_masks_decode),
		cmocka_unit_test(short_names_drop_the_prefix),
		cmocka_unit_test(unknown_bits_are_shown_in_hex),
		cmocka_unit_test(small_buffers_stay_terminated),
		cmocka_unit_test(poll_revents_translate),
		cmocka_unit_test(select_sets_translate),
		cmocka_unit_test(sigio_bands_translate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
