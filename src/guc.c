/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  The cdp.* settings of unification and activities.
 *
 * They are defined when the library is loaded; the SQL side reads them with
 * current_setting(name, true) and falls back to the same defaults, so a
 * session that has not loaded the library yet behaves the same.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"

#include "pg_cdp.h"

static int	cdp_max_cluster_size = 100;
static int	cdp_max_block_size = 1000;
static char *cdp_default_region = NULL;
static int	cdp_session_timeout = 1800;
static int	cdp_max_dwell = 600;

/*
 * cdp_define_gucs
 *		Define the settings; called from _PG_init.
 */
void
cdp_define_gucs(void)
{
	DefineCustomIntVariable("cdp.max_cluster_size",
							"Largest cluster cdp.unify() merges into one customer.",
							"Larger clusters usually come from a value shared by unrelated "
							"records; they are reported and left unmerged.",
							&cdp_max_cluster_size,
							100, 2, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("cdp.max_block_size",
							"Largest number of records sharing a blocking key that cdp.unify() compares.",
							"Key values shared by more records are left out of blocking and "
							"reported in cdp.unify_run.skipped_blocks.",
							&cdp_max_block_size,
							1000, 2, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("cdp.session_timeout",
							"Inactivity that ends a web session.",
							"Page views of one visitor more than this apart belong to different sessions.",
							&cdp_session_timeout,
							1800, 1, 86400 * 7,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("cdp.max_dwell",
							"Longest time counted on one page view.",
							"The time to the next click of the session, at most this.",
							&cdp_max_dwell,
							600, 1, 86400,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomStringVariable("cdp.default_region",
							   "Region of phone numbers written without a country code, when the source mapping names none.",
							   "An ISO 3166-1 alpha-2 code such as US or GB.",
							   &cdp_default_region,
							   "US",
							   PGC_USERSET, 0,
							   NULL, NULL, NULL);
}
