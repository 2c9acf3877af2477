/*-------------------------------------------------------------------------
 *
 * shim.h
 *	  What the fuzz harness (dsl_fuzz.c) asks of the stand-in backend
 *	  (shim.c): the per-input memory discipline and the last error raised.
 *
 * The parser itself sees only the ordinary backend API (palloc, ereport,
 * check_stack_depth, pg_mblen...); these few functions are for the harness.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FUZZ_SHIM_H
#define FUZZ_SHIM_H

#include "postgres.h"

/* the error that ereport(ERROR) raised last, kept until the next input */
typedef struct FuzzError
{
	int			elevel;
	int			sqlerrcode;		/* MAKE_SQLSTATE form */
	char	   *message;		/* errmsg, or NULL if none was given */
	char	   *detail;
	char	   *hint;
	const char *filename;		/* where the ereport is */
	int			lineno;
	const char *funcname;
} FuzzError;

/* start an input: stack base for check_stack_depth, no allocation live */
extern void fuzz_begin_input(void);

/* end an input: free every allocation made since fuzz_begin_input */
extern void fuzz_end_input(void);

/* number of allocations still live (for the harness's own checks) */
extern size_t fuzz_live_allocations(void);

/* the last error raised by ereport(ERROR) */
extern const FuzzError *fuzz_last_error(void);

/* deepest stack seen by check_stack_depth, in bytes */
extern size_t fuzz_max_stack_depth(void);

#endif							/* FUZZ_SHIM_H */
