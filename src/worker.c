/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The background worker: one process per database named in
 *	  cdp.database, started by the postmaster when pg_cdp is in
 *	  shared_preload_libraries and restarted by it after a crash.
 *
 * Every cdp.worker_naptime it runs, each in a transaction of its own:
 * scheduled refreshes (cdp._due_schedules, cdp._run_refresh_step), the
 * segments whose schedule is due, one pass of the journey engine
 * (cdp.run_journeys), then delivery.  Delivery claims a batch of messages
 * (cdp._claim_messages) and commits before any network call; it hands the
 * messages to their channel one at a time, in claim order, through
 * mail.c, outside any transaction, and records each outcome
 * (cdp._record_delivery) in a transaction of its own before the next send.
 * So after a crash only the first unconfirmed message of a batch can have
 * reached the server (cdp._recover_claims, run when the worker starts).
 *
 * Errors in a step are reported to the server log and the worker goes on
 * with the next step; SIGHUP reloads settings, SIGTERM stops it between two
 * messages (the rest of the batch goes back to the queue).
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "mail.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(cdp_worker_status);

/* at most this many databases in cdp.database */
#define CDP_MAX_WORKERS 16
#define CDP_DOING_LEN 96

/* settings */
static char *cdp_databases = NULL;
static int	cdp_worker_naptime = 1000;	/* ms */
static int	cdp_max_messages_per_second = 0;	/* 0: no limit */
static int	cdp_worker_batch_size = 100;

/* one slot per worker, in shared memory */
typedef struct CdpWorkerSlot
{
	slock_t		mutex;
	Oid			database;
	int			pid;
	TimestampTz started_at;
	TimestampTz last_tick;
	int64		sent;
	int64		failed;
	char		doing[CDP_DOING_LEN];
} CdpWorkerSlot;

static CdpWorkerSlot *cdp_worker_slots = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static int	my_slot = -1;

/* a channel's mailer, kept between batches while its configuration holds */
typedef struct MailerEntry
{
	char	   *channel;		/* malloc'd */
	char	   *config;			/* malloc'd JSON text of the configuration */
	CdpMailer  *mailer;
	double		rate;			/* messages per second, 0: no limit */
	TimestampTz next_send;		/* rate limit */
	struct MailerEntry *next;
} MailerEntry;

static MailerEntry *mailers = NULL;
static CdpMailer *webhook_mailer = NULL;

/* a claimed message, copied out of the claim's transaction */
typedef struct Claimed
{
	int64		message_id;
	char	   *kind;
	char	   *channel;
	char	   *to;
	char	   *from;
	char	   *subject;
	char	   *html;
	char	   *text;
	char	   *header_id;
	char	   *unsubscribe;
	char	   *url;
	char	   *payload;
	double		rate;
} Claimed;

PGDLLEXPORT void cdp_worker_main(Datum arg);

/* ---------------------------------------------------------------- shmem */

/*
 * worker_shmem_request
 *		Reserves room for the worker slots (shmem_request_hook).
 */
static void
worker_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(CdpWorkerSlot) * CDP_MAX_WORKERS));
}

/*
 * worker_shmem_startup
 *		Creates or attaches the worker slots (shmem_startup_hook).
 */
static void
worker_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	cdp_worker_slots = ShmemInitStruct("pg_cdp worker slots",
									   sizeof(CdpWorkerSlot) * CDP_MAX_WORKERS, &found);
	if (!found)
	{
		memset(cdp_worker_slots, 0, sizeof(CdpWorkerSlot) * CDP_MAX_WORKERS);
		for (int i = 0; i < CDP_MAX_WORKERS; i++)
			SpinLockInit(&cdp_worker_slots[i].mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * set_doing
 *		Publishes what the worker does: in its slot (cdp.worker_status) and
 *		in pg_stat_activity.
 */
static void
set_doing(const char *what)
{
	if (my_slot >= 0)
	{
		CdpWorkerSlot *s = &cdp_worker_slots[my_slot];

		SpinLockAcquire(&s->mutex);
		strlcpy(s->doing, what, CDP_DOING_LEN);
		SpinLockRelease(&s->mutex);
	}
	pgstat_report_activity(strcmp(what, "idle") == 0 ? STATE_IDLE : STATE_RUNNING, what);
}

/*
 * count_outcome
 *		Adds one sent or failed message to the slot's counters.
 */
static void
count_outcome(bool sent)
{
	CdpWorkerSlot *s;

	if (my_slot < 0)
		return;
	s = &cdp_worker_slots[my_slot];
	SpinLockAcquire(&s->mutex);
	if (sent)
		s->sent++;
	else
		s->failed++;
	SpinLockRelease(&s->mutex);
}

/*
 * release_slot
 *		Clears the slot when the worker exits (before_shmem_exit).
 */
static void
release_slot(int code, Datum arg)
{
	CdpWorkerSlot *s = &cdp_worker_slots[DatumGetInt32(arg)];

	SpinLockAcquire(&s->mutex);
	s->pid = 0;
	strlcpy(s->doing, "stopped", CDP_DOING_LEN);
	SpinLockRelease(&s->mutex);
}

/* ---------------------------------------------------------------- setup */

/*
 * cdp_worker_init
 *		Called by _PG_init: defines the worker's settings and, while
 *		shared_preload_libraries is being processed, reserves shared memory
 *		and registers one worker per database of cdp.database.
 */
void
cdp_worker_init(void)
{
	List	   *names;
	ListCell   *lc;
	char	   *raw;
	int			i = 0;

	DefineCustomStringVariable("cdp.database",
							   "Databases the pg_cdp background worker serves (comma-separated).",
							   "One worker process per database; needs pg_cdp in shared_preload_libraries "
							   "and takes effect at server start.",
							   &cdp_databases,
							   "postgres",
	/* a postmaster setting can only be created while preloading */
							   process_shared_preload_libraries_in_progress ? PGC_POSTMASTER : PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("cdp.worker_naptime",
							"Time between two passes of the pg_cdp background worker.",
							"Each pass runs due refreshes, the journey engine and delivery.",
							&cdp_worker_naptime,
							1000, 10, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS | GUC_SUPERUSER_ONLY,
							NULL, NULL, NULL);
	DefineCustomIntVariable("cdp.max_messages_per_second",
							"Most messages one pg_cdp worker hands to servers per second (0: no limit).",
							"Channels can set a lower rate of their own (rate_per_second).",
							&cdp_max_messages_per_second,
							0, 0, 1000000,
							PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							NULL, NULL, NULL);
	DefineCustomIntVariable("cdp.worker_batch_size",
							"Messages the pg_cdp worker claims at a time.",
							"A claimed batch is committed before the first message is sent.",
							&cdp_worker_batch_size,
							100, 1, 10000,
							PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							NULL, NULL, NULL);

	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = worker_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = worker_shmem_startup;

	raw = pstrdup(cdp_databases ? cdp_databases : "");
	if (!SplitIdentifierString(raw, ',', &names))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid list syntax in parameter \"cdp.database\""),
				 errhint("List database names separated by commas, e.g. 'shop, loyalty'.")));
	foreach(lc, names)
	{
		BackgroundWorker worker;
		char	   *db = lfirst(lc);

		if (i >= CDP_MAX_WORKERS)
		{
			ereport(WARNING,
					(errmsg("pg_cdp serves at most %d databases; \"%s\" and later names in cdp.database are ignored",
							CDP_MAX_WORKERS, db)));
			break;
		}
		memset(&worker, 0, sizeof(worker));
		worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
		worker.bgw_restart_time = 5;
		strlcpy(worker.bgw_library_name, "pg_cdp", BGW_MAXLEN);
		strlcpy(worker.bgw_function_name, "cdp_worker_main", BGW_MAXLEN);
		snprintf(worker.bgw_name, BGW_MAXLEN, "pg_cdp worker for %s", db);
		strlcpy(worker.bgw_type, "pg_cdp worker", BGW_MAXLEN);
		worker.bgw_main_arg = Int32GetDatum(i);
		strlcpy(worker.bgw_extra, db, BGW_EXTRALEN);
		RegisterBackgroundWorker(&worker);
		i++;
	}
}

/* ---------------------------------------------------------------- SQL steps */

/*
 * tx_begin, tx_commit, tx_abort
 *		A transaction of its own around one step, with SPI and a snapshot;
 *		tx_abort (in PG_CATCH) logs the error and rolls back, leaving the
 *		worker in oldcxt.  The statement time is set first, so now() is
 *		the time of this step (a background worker has no statements).
 */
static void
tx_begin(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
}

static void
tx_commit(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

static void
tx_abort(MemoryContext oldcxt)
{
	MemoryContextSwitchTo(oldcxt);
	EmitErrorReport();
	AbortCurrentTransaction();
	FlushErrorState();
}

/*
 * extension_ready
 *		Whether pg_cdp is installed in this database (in a transaction).
 */
static bool
extension_ready(void)
{
	bool		ok;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	ok = OidIsValid(get_extension_oid("pg_cdp", true));
	CommitTransactionCommand();
	return ok;
}

/*
 * run_sql
 *		Runs one statement in a transaction of its own; an error is
 *		reported to the log and false returned (the worker goes on).
 */
static bool
run_sql(const char *what, const char *sql, int nargs, Oid *types, Datum *values)
{
	volatile bool ok = true;
	MemoryContext oldcxt = CurrentMemoryContext;

	set_doing(what);
	PG_TRY();
	{
		int			rc;

		tx_begin();
		rc = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0);
		if (rc < 0)
			elog(ERROR, "pg_cdp worker: SPI_execute_with_args failed for \"%s\": %s", what, SPI_result_code_string(rc));
		tx_commit();
	}
	PG_CATCH();
	{
		tx_abort(oldcxt);
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	pgstat_report_stat(false);
	return ok;
}

/*
 * run_schedules
 *		Runs the steps of every due refresh schedule, each step in a
 *		transaction of its own (cdp._run_refresh_step logs it).
 */
static void
run_schedules(void)
{
	List	   *volatile due = NIL;
	ListCell   *lc;
	MemoryContext oldcxt = CurrentMemoryContext;

	set_doing("checking refresh schedules");
	PG_TRY();
	{
		tx_begin();
		if (SPI_execute("SELECT d.name, s.step FROM cdp._due_schedules() d, unnest(d.steps) WITH ORDINALITY s(step, i) ORDER BY d.name, s.i",
						false, 0) == SPI_OK_SELECT)
		{
			for (uint64 r = 0; r < SPI_processed; r++)
			{
				char	   *name = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);
				char	   *step = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2);
				MemoryContext spicxt = MemoryContextSwitchTo(TopMemoryContext);

				due = lappend(due, list_make2(pstrdup(name), pstrdup(step)));
				MemoryContextSwitchTo(spicxt);
			}
		}
		tx_commit();
	}
	PG_CATCH();
	{
		tx_abort(oldcxt);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);

	foreach(lc, due)
	{
		List	   *item = lfirst(lc);
		Oid			types[2] = {TEXTOID, TEXTOID};
		Datum		values[2];
		char		what[CDP_DOING_LEN];

		CHECK_FOR_INTERRUPTS();
		snprintf(what, sizeof(what), "refresh %s: %s", (char *) linitial(item), (char *) lsecond(item));
		values[0] = CStringGetTextDatum(linitial(item));
		values[1] = CStringGetTextDatum(lsecond(item));
		run_sql(what, "SELECT cdp._run_refresh_step($1, $2)", 2, types, values);
	}
	list_free_deep(due);
}

/* ---------------------------------------------------------------- delivery */

/*
 * mstrdup
 *		malloc'd copy of a string (NULL stays NULL); exits the worker when
 *		memory runs out.
 */
static char *
mstrdup(const char *s)
{
	char	   *r;

	if (s == NULL)
		return NULL;
	r = strdup(s);
	if (r == NULL)
		ereport(FATAL, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	return r;
}

/*
 * get_mailer
 *		The mailer of a channel, created or recreated from its
 *		configuration (JSON text read in the claim's transaction).
 *		Called inside a transaction: config parsing may ereport.
 */
static MailerEntry *
get_mailer(const char *channel, const char *config, double rate)
{
	MailerEntry *e;
	CdpChannelConfig cfg;
	Jsonb	   *jb;

	for (e = mailers; e != NULL; e = e->next)
		if (strcmp(e->channel, channel) == 0)
			break;
	if (e != NULL && strcmp(e->config, config) == 0)
	{
		e->rate = rate;
		return e;
	}
	if (e == NULL)
	{
		e = calloc(1, sizeof(MailerEntry));
		if (e == NULL)
			ereport(FATAL, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		e->channel = mstrdup(channel);
		e->next = mailers;
		mailers = e;
	}
	else
	{
		cdp_mailer_destroy(e->mailer);
		e->mailer = NULL;
		free(e->config);
	}
	e->config = mstrdup(config);
	e->rate = rate;
	jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(config)));
	memset(&cfg, 0, sizeof(cfg));
	cdp_channel_config_from_jsonb(jb, &cfg);
	e->mailer = cdp_mailer_create(&cfg);
	if (e->mailer == NULL)
		ereport(FATAL, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	return e;
}

/*
 * claim_batch
 *		Claims up to cdp.worker_batch_size messages and commits; fills
 *		*out (palloc'd in cxt) and prepares the mailers of their channels.
 *		Returns the number claimed (0 on error).
 */
static int
claim_batch(MemoryContext cxt, Claimed **out)
{
	volatile int n = 0;
	MemoryContext oldcxt = CurrentMemoryContext;

	set_doing("claiming messages");
	PG_TRY();
	{
		Oid			types[1] = {INT4OID};
		Datum		values[1];

		tx_begin();
		values[0] = Int32GetDatum(cdp_worker_batch_size);
		if (SPI_execute_with_args("SELECT c.*, cdp._channel_config(c.channel)::text FROM cdp._claim_messages($1) c",
								  1, types, values, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "pg_cdp worker: claiming messages failed");
		if (SPI_processed > 0)
		{
			Claimed    *c = MemoryContextAllocZero(cxt, sizeof(Claimed) * SPI_processed);
			TupleDesc	td = SPI_tuptable->tupdesc;

			for (uint64 r = 0; r < SPI_processed; r++)
			{
				HeapTuple	t = SPI_tuptable->vals[r];
				MemoryContext spicxt = MemoryContextSwitchTo(cxt);
				char	   *rate;
				char	   *config;

				/* libcurl and the servers get UTF-8 whatever the database encoding */
#define COPY(i) (SPI_getvalue(t, td, (i)) ? pg_server_to_any(SPI_getvalue(t, td, (i)), strlen(SPI_getvalue(t, td, (i))), PG_UTF8) : NULL)
				c[r].message_id = strtoll(SPI_getvalue(t, td, 1), NULL, 10);
				c[r].kind = COPY(2);
				c[r].channel = COPY(3);
				c[r].to = COPY(4);
				c[r].from = COPY(5);
				c[r].subject = COPY(6);
				c[r].html = COPY(7);
				c[r].text = COPY(8);
				c[r].header_id = COPY(9);
				c[r].unsubscribe = COPY(10);
				c[r].url = COPY(11);
				c[r].payload = COPY(12);
				rate = SPI_getvalue(t, td, 13);
				c[r].rate = rate ? strtod(rate, NULL) : 0;
				config = SPI_getvalue(t, td, 14);
#undef COPY
				MemoryContextSwitchTo(spicxt);
				if (c[r].channel && config)
					get_mailer(c[r].channel, config, c[r].rate);
			}
			*out = c;
			n = (int) SPI_processed;
		}
		tx_commit();
	}
	PG_CATCH();
	{
		tx_abort(oldcxt);
		n = 0;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	return n;
}

/*
 * record
 *		Records one outcome in a transaction of its own.
 */
static void
record(int64 message_id, const char *status, const CdpSendResult *res)
{
	Oid			types[6] = {INT8OID, TEXTOID, INT4OID, TEXTOID, TEXTOID, BOOLOID};
	Datum		values[6];

	values[0] = Int64GetDatum(message_id);
	values[1] = CStringGetTextDatum(status);
	values[2] = Int32GetDatum(res ? (int32) res->reply_code : 0);
	values[3] = CStringGetTextDatum(res ? res->enhanced : "");
	values[4] = CStringGetTextDatum(res ? res->detail : "");
	values[5] = BoolGetDatum(res ? res->bad_address : false);
	run_sql("recording a delivery", "SELECT cdp._record_delivery($1, $2, $3, $4, $5, $6)", 6, types, values);
}

/*
 * pace
 *		Waits until a message may be sent under the worker's and the
 *		channel's rate limits; false when the worker must stop.
 */
static bool
pace(TimestampTz *next_global, MailerEntry *e)
{
	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		TimestampTz until = *next_global;
		long		ms;

		if (e && e->next_send > until)
			until = e->next_send;
		if (now >= until)
			break;
		ms = (long) ((until - now + 999) / 1000);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (ProcDiePending)
			return false;
	}
	/*
	 * Evenly spaced, without bursts: the next message may go one interval
	 * after the later of this one's slot and now.
	 */
	if (cdp_max_messages_per_second > 0)
		*next_global = Max(*next_global, GetCurrentTimestamp()) + 1000000 / cdp_max_messages_per_second;
	if (e && e->rate > 0)
		e->next_send = Max(e->next_send, GetCurrentTimestamp()) + (TimestampTz) (1000000 / e->rate);
	return true;
}

/*
 * deliver
 *		Claims and sends batches until the queue has nothing due, the
 *		worker must stop, or a naptime has passed with work left (so the
 *		engine and schedules get their turn).
 */
static void
deliver(void)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "pg_cdp delivery", ALLOCSET_DEFAULT_SIZES);
	TimestampTz start = GetCurrentTimestamp();
	TimestampTz next_global = 0;

	for (;;)
	{
		Claimed    *batch = NULL;
		int			n;
		char	   *broken = NULL;	/* a channel that failed in this batch */
		int			i;

		if (ProcDiePending || ConfigReloadPending)
			break;
		MemoryContextReset(cxt);
		n = claim_batch(cxt, &batch);
		if (n == 0)
			break;
		for (i = 0; i < n; i++)
		{
			Claimed    *m = &batch[i];
			MailerEntry *e = NULL;
			CdpSendResult res;
			const char *status;
			char		what[CDP_DOING_LEN];

			/*
			 * From here to the recorded outcome, a SIGTERM waits: stopping
			 * between the send and its record would make a clean shutdown
			 * look like a crash (and the message a possible duplicate).
			 */
			HOLD_INTERRUPTS();
			if (m->channel)
				for (e = mailers; e != NULL; e = e->next)
					if (strcmp(e->channel, m->channel) == 0)
						break;
			if (ProcDiePending || (broken && m->channel && strcmp(broken, m->channel) == 0) ||
				(m->channel && e == NULL) || (e == NULL && strcmp(m->kind, "email") == 0) ||
				!pace(&next_global, e))
			{
				/* not attempted: back to the queue, no attempt charged */
				record(m->message_id, "released", NULL);
				RESUME_INTERRUPTS();
				continue;
			}
			snprintf(what, sizeof(what), "sending message %lld (%d of %d)", (long long) m->message_id, i + 1, n);
			set_doing(what);
			memset(&res, 0, sizeof(res));
			if (strcmp(m->kind, "webhook") == 0)
			{
				if (e == NULL)
				{
					if (webhook_mailer == NULL)
					{
						CdpChannelConfig cfg;

						memset(&cfg, 0, sizeof(cfg));
						cfg.url = "http://localhost/";
						cfg.verify_peer = true;
						webhook_mailer = cdp_mailer_create(&cfg);
						if (webhook_mailer == NULL)
							ereport(FATAL, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
					}
					cdp_mailer_post_json(webhook_mailer, m->url, m->payload ? m->payload : "{}", NULL, &res);
				}
				else
					cdp_mailer_post_json(e->mailer, m->url, m->payload ? m->payload : "{}", NULL, &res);
			}
			else
			{
				CdpMailMessage msg;

				memset(&msg, 0, sizeof(msg));
				msg.from = m->from;
				msg.to = m->to;
				msg.subject = m->subject;
				msg.text_body = m->text;
				msg.html_body = m->html;
				msg.message_id = m->header_id;
				msg.list_unsubscribe = m->unsubscribe;
				cdp_mailer_send(e->mailer, &msg, &res);
			}
			switch (res.status)
			{
				case CDP_SEND_OK:
					status = "sent";
					break;
				case CDP_SEND_TEMPFAIL:
					status = "tempfail";
					break;
				case CDP_SEND_PERMFAIL:
					status = "permfail";
					break;
				default:
					status = "channel_error";
					if (m->channel)
						broken = m->channel;
					break;
			}
			count_outcome(res.status == CDP_SEND_OK);
			record(m->message_id, status, &res);
			RESUME_INTERRUPTS();
		}
		if (GetCurrentTimestamp() - start > (TimestampTz) cdp_worker_naptime * 1000 * 10)
			break;
	}
	MemoryContextDelete(cxt);
}

/* ---------------------------------------------------------------- main */

/*
 * cdp_worker_main
 *		Entry point of a worker; arg is its slot (the position of its
 *		database in cdp.database), the database name is in bgw_extra.
 */
void
cdp_worker_main(Datum arg)
{
	char		dbname[BGW_EXTRALEN];
	bool		recovered = false;
	CdpWorkerSlot *s;

	my_slot = DatumGetInt32(arg);
	strlcpy(dbname, MyBgworkerEntry->bgw_extra, sizeof(dbname));

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	/* libcurl runs with CURLOPT_NOSIGNAL: a closed socket must not kill us */
	pqsignal(SIGPIPE, SIG_IGN);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(dbname, NULL, 0);
	pgstat_report_appname("pg_cdp worker");

	s = &cdp_worker_slots[my_slot];
	SpinLockAcquire(&s->mutex);
	s->database = MyDatabaseId;
	s->pid = MyProcPid;
	s->started_at = GetCurrentTimestamp();
	s->last_tick = 0;
	s->sent = 0;
	s->failed = 0;
	SpinLockRelease(&s->mutex);
	before_shmem_exit(release_slot, Int32GetDatum(my_slot));

	ereport(LOG, (errmsg("pg_cdp worker started for database \"%s\"", dbname)));

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (extension_ready())
		{
			if (!recovered)
				recovered = run_sql("recovering claimed messages", "SELECT cdp._recover_claims()", 0, NULL, NULL);
			if (recovered)
			{
				run_schedules();
				CHECK_FOR_INTERRUPTS();
				run_sql("refreshing due segments",
						"SELECT cdp.refresh_segments(due_only => true) WHERE EXISTS (SELECT 1 FROM cdp.segment WHERE schedule IS NOT NULL)",
						0, NULL, NULL);
				CHECK_FOR_INTERRUPTS();
				run_sql("running journeys", "SELECT cdp.run_journeys()", 0, NULL, NULL);
				CHECK_FOR_INTERRUPTS();
				deliver();
			}
		}
		SpinLockAcquire(&s->mutex);
		s->last_tick = GetCurrentTimestamp();
		SpinLockRelease(&s->mutex);
		set_doing("idle");
		if (!ProcDiePending && !ConfigReloadPending)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 cdp_worker_naptime, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
}

/*
 * cdp_worker_status
 *		SQL: cdp.worker_status() — whether a worker serves this database,
 *		and what it is doing.
 */
Datum
cdp_worker_status(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7];
	CdpWorkerSlot copy;
	bool		found = false;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	memset(nulls, true, sizeof(nulls));
	if (cdp_worker_slots != NULL)
	{
		for (int i = 0; i < CDP_MAX_WORKERS && !found; i++)
		{
			CdpWorkerSlot *s = &cdp_worker_slots[i];

			SpinLockAcquire(&s->mutex);
			if (s->pid != 0 && s->database == MyDatabaseId)
			{
				memcpy(&copy, s, sizeof(copy));
				found = true;
			}
			SpinLockRelease(&s->mutex);
		}
	}
	values[0] = BoolGetDatum(found);
	nulls[0] = false;
	if (found)
	{
		values[1] = Int32GetDatum(copy.pid);
		values[2] = TimestampTzGetDatum(copy.started_at);
		values[3] = TimestampTzGetDatum(copy.last_tick);
		values[4] = CStringGetTextDatum(copy.doing);
		values[5] = Int64GetDatum(copy.sent);
		values[6] = Int64GetDatum(copy.failed);
		memset(nulls, false, sizeof(nulls));
		nulls[3] = copy.last_tick == 0;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
