/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The pg_cdp background worker (worker.c).
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDP_WORKER_H
#define CDP_WORKER_H

extern void cdp_worker_init(void);

#endif							/* CDP_WORKER_H */
