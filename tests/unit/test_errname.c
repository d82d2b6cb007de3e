/* Description: unit tests for common/errname.c — errno numbers print as the names
 * the man pages use (ECONNREFUSED, ECONNRESET, EINPROGRESS, EAGAIN for
 * EWOULDBLOCK too), 0 as "0", a negative value ("no call made") as "-", and a
 * number the C library does not know as "E?".
 *
 * Usage: bin/tests/test_errname
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "common/errname.h"

static void known_numbers_have_their_names(void **state)
{
	(void)state;
	assert_string_equal(errno_name(ECONNREFUSED), "ECONNREFUSED");
	assert_string_equal(errno_name(ECONNRESET), "ECONNRESET");
	assert_string_equal(errno_name(EINPROGRESS), "EINPROGRESS");
	assert_string_equal(errno_name(ETIMEDOUT), "ETIMEDOUT");
	assert_string_equal(errno_name(EPIPE), "EPIPE");
	assert_string_equal(errno_name(EWOULDBLOCK), "EAGAIN");   /* one number on Linux */
}

static void zero_negative_and_unknown(void **state)
{
	(void)state;
	assert_string_equal(errno_name(0), "0");
	assert_string_equal(errno_name(-1), "-");
	assert_string_equal(errno_name(4095), "E?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_numbers_have_their_names),
		cmocka_unit_test(zero_negative_and_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
