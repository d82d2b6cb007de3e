/*
 * errname.h — "ECONNRESET" rather than "Connection reset by peer": the name a
 * student finds in the man page's ERRORS section and greps for.
 */
#ifndef IOLAB_ERRNAME_H
#define IOLAB_ERRNAME_H

/* "0" for 0, "-" for a negative value (no call made), "E?" for an unknown number. */
const char *errno_name(int e);

#endif
