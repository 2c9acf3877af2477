/*
 * names.c
 *	  Placeholder: being written.
 */
#include "postgres.h"

#include "pg_cdp.h"

void
cdp_nickname_invalidate(Datum arg, Oid relid)
{
}
