/*-------------------------------------------------------------------------
 *
 * pg_cdp.c
 *	  Module entry point of pg_cdp: the magic block and _PG_init.
 *
 * The library works whether or not it is listed in
 * shared_preload_libraries: every SQL function is usable after a plain
 * CREATE EXTENSION.  Preloading only becomes necessary for the background
 * worker that runs journeys.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"
#include "utils/inval.h"

#include "pg_cdp.h"
#include "progress.h"
#include "worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * _PG_init
 *		Define the cdp.* settings, reserve the "cdp." settings prefix and hook the nickname cache into
 *		relcache invalidation, so that changes to cdp.nickname made in any
 *		session are seen by every backend after they commit.
 */
void
_PG_init(void)
{
	cdp_define_gucs();
	cdp_worker_init();
	MarkGUCPrefixReserved("cdp");
	CacheRegisterRelcacheCallback(cdp_nickname_invalidate, (Datum) 0);
	cdp_progress_shmem_init();
}
