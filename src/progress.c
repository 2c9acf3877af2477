/*-------------------------------------------------------------------------
 *
 * progress.c
 *	  Progress of a unification run in shared memory: which run, which
 *	  phase, how much of it is done, since when.  The running backend
 *	  writes it (cdp._progress_begin, _progress_phase, _progress_done,
 *	  _progress_end and cdp_progress_set_done from C); any session reads it
 *	  with cdp.unify_progress().
 *
 * There is a single slot: only one run is active at a time (CALL
 * cdp.unify() takes a lock for that).  The slot is protected by a spinlock
 * and every access copies a few dozen bytes under it, nothing more.
 *
 * Where the slot lives.  When pg_cdp is in shared_preload_libraries the
 * space is requested from the postmaster with shmem_request_hook and set
 * up by shmem_startup_hook, the regular way.  When it is not preloaded
 * (CREATE EXTENSION alone, as in the TAP tests), the first backend that
 * needs the slot creates it with ShmemInitStruct under AddinShmemInitLock,
 * and later backends find it by name in the shared memory index.  That
 * works because PostgreSQL sizes its shared memory segment with about
 * 100 kB of slack beyond what it computes it needs, precisely so that
 * small late allocations like this one (well under 200 bytes) succeed.
 * Either way the slot is created zeroed, that is "no active run", and is
 * recreated after a crash restart, when the whole segment is.
 *
 * A run never leaves stale progress behind: _progress_begin registers a
 * transaction callback that clears the slot when the owning backend's
 * transaction ends, whether it commits, aborts (error, cancel, or a FATAL
 * exit, which aborts the transaction too) or is prepared.  If a backend
 * dies without running the callback (a crash resets shared memory anyway,
 * but to be safe), readers also check that the recorded process is still
 * a live backend and otherwise report no run.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "progress.h"

PG_FUNCTION_INFO_V1(cdp_unify_progress);
PG_FUNCTION_INFO_V1(cdp_progress_begin);
PG_FUNCTION_INFO_V1(cdp_progress_phase);
PG_FUNCTION_INFO_V1(cdp_progress_done);
PG_FUNCTION_INFO_V1(cdp_progress_end);

/* room for the phase name, including its terminating NUL */
#define PROGRESS_PHASE_LEN 64

/* name of the slot in the shared memory index */
#define PROGRESS_SHMEM_NAME "pg_cdp unify progress"

/* the shared slot; everything but the mutex is read and written under it */
typedef struct CdpProgress
{
	slock_t		mutex;
	bool		active;			/* a run is in progress */
	bool		has_total;		/* "total" is known for this phase */
	int			pid;			/* process id of the backend running it */
	int64		run_id;
	int64		done;
	int64		total;
	TimestampTz started_at;		/* when the run began */
	TimestampTz phase_started_at;	/* when the current phase began */
	char		phase[PROGRESS_PHASE_LEN];
} CdpProgress;

/* the slot, once this backend has found or created it */
static CdpProgress *progress = NULL;

/* this backend has begun the run in the slot (a cheap local test) */
static bool own_run = false;

/* the transaction callback is registered in this backend */
static bool xact_callback_registered = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/*
 * progress_attach
 *		Find the shared slot, creating it (zeroed, no run) if no process has
 *		yet.  Used by shmem_startup_hook in the postmaster when preloaded
 *		(the children inherit the pointer) and lazily by any backend
 *		otherwise.  Raises "out of shared memory" if there is no room left.
 */
static void
progress_attach(void)
{
	bool		found;

	if (progress != NULL)
		return;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	progress = ShmemInitStruct(PROGRESS_SHMEM_NAME, sizeof(CdpProgress), &found);
	if (!found)
	{
		memset(progress, 0, sizeof(CdpProgress));
		SpinLockInit(&progress->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * progress_shmem_request
 *		shmem_request_hook: ask the postmaster for the slot's space.
 */
static void
progress_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(CdpProgress)));
}

/*
 * progress_shmem_startup
 *		shmem_startup_hook: create the slot in the freshly made segment.
 *		The pointer is reset first, because after a crash restart the
 *		segment is new and the one inherited from before is gone.
 */
static void
progress_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	progress = NULL;
	progress_attach();
}

/*
 * cdp_progress_shmem_init
 *		Called from _PG_init.  When the library is being preloaded, install
 *		the hooks that reserve and create the slot at server start;
 *		otherwise do nothing (the slot is created lazily, see the file
 *		header).
 */
void
cdp_progress_shmem_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = progress_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = progress_shmem_startup;
}

/*
 * progress_clear_if_owned
 *		Mark the slot free if it holds a run of this backend, and forget
 *		that we own one.
 */
static void
progress_clear_if_owned(void)
{
	own_run = false;
	if (progress == NULL)
		return;
	SpinLockAcquire(&progress->mutex);
	if (progress->active && progress->pid == MyProcPid)
	{
		progress->active = false;
		progress->pid = 0;
	}
	SpinLockRelease(&progress->mutex);
}

/*
 * progress_xact_callback
 *		Transaction callback: when the transaction of the backend that owns
 *		the run ends in any way, the run is over (see the file header).
 */
static void
progress_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			if (own_run)
				progress_clear_if_owned();
			break;
		default:
			break;
	}
}

/*
 * cdp_progress_set_done
 *		Record that "done" units of the current phase are finished.  Does
 *		nothing when this backend does not own the active run, so kernels
 *		called outside a run pay one test of a local flag.
 */
void
cdp_progress_set_done(int64 done)
{
	if (!own_run || progress == NULL)
		return;
	SpinLockAcquire(&progress->mutex);
	if (progress->active && progress->pid == MyProcPid)
		progress->done = done;
	SpinLockRelease(&progress->mutex);
}

/*
 * cdp_progress_begin
 *		cdp._progress_begin(run_id bigint) → void.  Mark run "run_id" active
 *		for this backend, phase 'starting', nothing done, started now (clock
 *		time).  The slot is cleared again when this transaction ends.  It is
 *		an error if another live backend holds the slot; a slot left by a
 *		process that is gone is taken over.
 */
Datum
cdp_progress_begin(PG_FUNCTION_ARGS)
{
	int64		run_id;
	TimestampTz now;
	int			checked_pid = 0;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("run id must not be null"),
				 errdetail("A unification run is identified by a non-null bigint."),
				 errhint("Pass the id of the run being started.")));
	run_id = PG_GETARG_INT64(0);

	progress_attach();
	if (!xact_callback_registered)
	{
		RegisterXactCallback(progress_xact_callback, NULL);
		xact_callback_registered = true;
	}

	now = GetCurrentTimestamp();
	for (;;)
	{
		int			other_pid = 0;

		SpinLockAcquire(&progress->mutex);
		if (!progress->active || progress->pid == MyProcPid ||
			progress->pid == checked_pid)
		{
			progress->active = true;
			progress->pid = MyProcPid;
			progress->run_id = run_id;
			progress->done = 0;
			progress->total = 0;
			progress->has_total = false;
			progress->started_at = now;
			progress->phase_started_at = now;
			strlcpy(progress->phase, "starting", PROGRESS_PHASE_LEN);
		}
		else
			other_pid = progress->pid;
		SpinLockRelease(&progress->mutex);

		if (other_pid == 0)
			break;

		/* the slot is held by someone else: refuse if that process lives */
		if (BackendPidGetProc(other_pid) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("another unification run is in progress"),
					 errdetail("The backend with process id %d holds the progress slot.",
							   other_pid),
					 errhint("Wait for that run to finish, or see cdp.unify_progress().")));
		checked_pid = other_pid;
	}
	own_run = true;

	PG_RETURN_VOID();
}

/*
 * cdp_progress_phase
 *		cdp._progress_phase(phase text, total bigint DEFAULT NULL) → void.
 *		Start a new phase of this backend's run: its name (cut to 63 bytes
 *		on a character boundary), its total if known, done = 0, started now
 *		(clock time).  Does nothing when this backend has no active run.
 */
Datum
cdp_progress_phase(PG_FUNCTION_ARGS)
{
	text	   *phase;
	char		name[PROGRESS_PHASE_LEN];
	int			len;
	bool		has_total = !PG_ARGISNULL(1);
	int64		total = has_total ? PG_GETARG_INT64(1) : 0;
	TimestampTz now;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("phase must not be null"),
				 errdetail("Every phase of a unification run has a name."),
				 errhint("Pass the name of the phase, for example 'clustering'.")));
	if (has_total && total < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("phase total must not be negative"),
				 errdetail("The total given was " INT64_FORMAT ".", total),
				 errhint("Pass the number of units the phase will process, or NULL if unknown.")));

	phase = PG_GETARG_TEXT_PP(0);
	len = VARSIZE_ANY_EXHDR(phase);
	if (len > PROGRESS_PHASE_LEN - 1)
		len = pg_mbcliplen(VARDATA_ANY(phase), len, PROGRESS_PHASE_LEN - 1);
	memcpy(name, VARDATA_ANY(phase), len);
	name[len] = '\0';

	if (!own_run || progress == NULL)
		PG_RETURN_VOID();

	now = GetCurrentTimestamp();
	SpinLockAcquire(&progress->mutex);
	if (progress->active && progress->pid == MyProcPid)
	{
		memcpy(progress->phase, name, len + 1);
		progress->done = 0;
		progress->total = total;
		progress->has_total = has_total;
		progress->phase_started_at = now;
	}
	SpinLockRelease(&progress->mutex);

	PG_RETURN_VOID();
}

/*
 * cdp_progress_done
 *		cdp._progress_done(done bigint) → void (STRICT).  Record how much of
 *		the current phase is done; does nothing without an active run.
 */
Datum
cdp_progress_done(PG_FUNCTION_ARGS)
{
	int64		done = PG_GETARG_INT64(0);

	if (done < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("progress count must not be negative"),
				 errdetail("The count given was " INT64_FORMAT ".", done),
				 errhint("Pass the number of units of the phase finished so far.")));
	cdp_progress_set_done(done);
	PG_RETURN_VOID();
}

/*
 * cdp_progress_end
 *		cdp._progress_end() → void.  End this backend's run: the slot is
 *		cleared if this backend owns it, and left alone otherwise.
 */
Datum
cdp_progress_end(PG_FUNCTION_ARGS)
{
	progress_clear_if_owned();
	PG_RETURN_VOID();
}

/*
 * cdp_unify_progress
 *		cdp.unify_progress() → TABLE(run_id bigint, pid integer, phase text,
 *		done bigint, total bigint, started_at timestamptz, phase_started_at
 *		timestamptz).  One row describing the active run, or no row when no
 *		run is active or the process that began it is no longer a live
 *		backend.  total is NULL when the phase did not give one.
 */
Datum
cdp_unify_progress(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CdpProgress snap;
	Datum		values[7];
	bool		nulls[7];

	InitMaterializedSRF(fcinfo, 0);
	progress_attach();

	SpinLockAcquire(&progress->mutex);
	memcpy(&snap, progress, sizeof(CdpProgress));
	SpinLockRelease(&progress->mutex);

	if (!snap.active)
		PG_RETURN_VOID();
	if (snap.pid != MyProcPid && BackendPidGetProc(snap.pid) == NULL)
		PG_RETURN_VOID();

	snap.phase[PROGRESS_PHASE_LEN - 1] = '\0';
	memset(nulls, 0, sizeof(nulls));
	values[0] = Int64GetDatum(snap.run_id);
	values[1] = Int32GetDatum(snap.pid);
	values[2] = CStringGetTextDatum(snap.phase);
	values[3] = Int64GetDatum(snap.done);
	values[4] = Int64GetDatum(snap.total);
	nulls[4] = !snap.has_total;
	values[5] = TimestampTzGetDatum(snap.started_at);
	values[6] = TimestampTzGetDatum(snap.phase_started_at);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);

	PG_RETURN_VOID();
}
