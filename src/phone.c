/*
 * phone.c
 *	  Placeholder: being written.
 */
#include "postgres.h"

#include "pg_cdp.h"
