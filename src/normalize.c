/*
 * normalize.c
 *	  Placeholder: being written.
 */
#include "postgres.h"

#include "pg_cdp.h"

/* placeholder until the real normaliser lands */
char *
cdp_normalize_name_cstr(const char *s, int len)
{
	char	   *r = cdp_fold_ascii(s, len, NULL);
	char	   *p;

	for (p = r; *p; p++)
		*p = pg_ascii_tolower((unsigned char) *p);
	return r;
}
