/* errname.c — see errname.h.  glibc 2.32+ has the table: strerrorname_np(3). */
#include "common/errname.h"

#include <string.h>

const char *errno_name(int e)
{
	const char *name;

	if (e == 0)
		return "0";
	if (e < 0)
		return "-";
	name = strerrorname_np(e);
	return name ? name : "E?";
}
