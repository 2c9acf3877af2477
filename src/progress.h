/*-------------------------------------------------------------------------
 *
 * progress.h
 *	  Progress of a unification run, kept in shared memory so that other
 *	  sessions can watch it (cdp.unify_progress()).
 *
 * One run at a time owns the single progress slot.  C code that does a
 * long piece of a run (cluster.c) reports how far it got with
 * cdp_progress_set_done(); that call does nothing unless this backend owns
 * the active run, so the kernels may call it unconditionally.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_CDP_PROGRESS_H
#define PG_CDP_PROGRESS_H

#include "postgres.h"

/* from _PG_init: install the shared memory hooks when preloaded */
extern void cdp_progress_shmem_init(void);

/* record how much of the current phase is done (no-op without a run) */
extern void cdp_progress_set_done(int64 done);

#endif							/* PG_CDP_PROGRESS_H */
