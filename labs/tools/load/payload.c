/* payload.c — the pattern table every payload is cut from (payload.h says how). */
#include "labs/tools/load/payload.h"

char pat_table[PAT_LEN];

void pattern_init(void)
{
	static const char alnum[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	uint64_t s = 0x10ab10ab;

	for (size_t i = 0; i < PAT_LEN; i++) {
		s = mix64(s + i);
		pat_table[i] = alnum[s % (sizeof(alnum) - 1)];
	}
}
