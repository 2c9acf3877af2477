/*-------------------------------------------------------------------------
 *
 * merge.c
 *	  Merge-policy aggregates of unification: pick one value out of the
 *	  conflicting values several source records give for one attribute
 *	  (cdp.most_recent, cdp.least_recent, cdp.by_priority, cdp.most_filled,
 *	  cdp.longest, cdp.most_frequent), or collect them all (cdp.collect).
 *
 * Every aggregate uses the same transition type, cdp.merge_state, a plain
 * varlena (not "internal"), so the aggregates have a combine function and
 * run in parallel query and distributed (Citus) without serialisation
 * functions.  Values are kept as the text form of their type (its output
 * function) and turned back into the type by the final function with the
 * type's input function.
 *
 * The single-value policies keep a ranking key and the chosen value.  Rows
 * are ranked by (key present, key, text form of the value): a row with a
 * key beats one without, then the better key wins (latest or earliest
 * timestamp, smallest priority, most characters, most filled attributes),
 * and on a tie the text form that sorts first in byte order wins (memcmp,
 * the shorter first on a common prefix).  That is a total order, so taking
 * its best element is associative and commutative: the result does not
 * depend on the order of the rows or on how they are split between workers.
 *
 * most_frequent and collect keep a list of (text form, count) items: a
 * sorted part, without duplicates, followed by a pending part that the
 * transition function appends to.  When the pending part grows as large as
 * the sorted one it is sorted and merged in, so n rows cost O(n log n).  The
 * state carries spare room past its used bytes (doubled on growth) and is
 * modified in place inside the aggregate context, as array_agg does.
 *
 * Text form (merge_state_out / merge_state_in), documented in the README:
 *	  most_recent(2024-05-01 10:00:00+00,"value")	 key: a timestamptz
 *	  least_recent(null,"value")					 null: no key
 *	  by_priority(1,"value")  most_filled(7,"value")  key: an integer
 *	  longest("value")								 key: its length
 *	  most_frequent("a":3,"b":1)  collect("a","b")	 items and counts
 * Values are in double quotes, with " and \ escaped by a backslash.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pg_cdp.h"

PG_FUNCTION_INFO_V1(cdp_merge_state_in);
PG_FUNCTION_INFO_V1(cdp_merge_state_out);
PG_FUNCTION_INFO_V1(cdp_merge_state_recv);
PG_FUNCTION_INFO_V1(cdp_merge_state_send);
PG_FUNCTION_INFO_V1(cdp_merge_most_recent_trans);
PG_FUNCTION_INFO_V1(cdp_merge_least_recent_trans);
PG_FUNCTION_INFO_V1(cdp_merge_by_priority_trans);
PG_FUNCTION_INFO_V1(cdp_merge_most_filled_trans);
PG_FUNCTION_INFO_V1(cdp_merge_longest_trans);
PG_FUNCTION_INFO_V1(cdp_merge_most_frequent_trans);
PG_FUNCTION_INFO_V1(cdp_merge_collect_trans);
PG_FUNCTION_INFO_V1(cdp_merge_combine);
PG_FUNCTION_INFO_V1(cdp_merge_final);
PG_FUNCTION_INFO_V1(cdp_merge_final_array);

/* the policies; the numbers are part of the binary (send/recv) format */
typedef enum MergePolicy
{
	MP_MOST_RECENT = 1,
	MP_LEAST_RECENT,
	MP_BY_PRIORITY,
	MP_MOST_FILLED,
	MP_LONGEST,
	MP_MOST_FREQUENT,
	MP_COLLECT
} MergePolicy;

#define MP_FIRST MP_MOST_RECENT
#define MP_LAST MP_COLLECT

static const char *const policy_names[] = {
	NULL, "most_recent", "least_recent", "by_priority", "most_filled",
	"longest", "most_frequent", "collect"
};

#define IS_LIST_POLICY(p) ((p) == MP_MOST_FREQUENT || (p) == MP_COLLECT)

/* flags */
#define MS_KEY_NULL 0x01		/* the chosen row has no ranking key */

/*
 * The state.  VARSIZE is the allocated size; "used" bytes of it are
 * meaningful, the rest is room to grow in place.  The items follow the
 * header: each is a uint32 length, an int64 count and the bytes of the text
 * form, unaligned (read with memcpy).  The single-value policies have
 * exactly one item.
 */
typedef struct MergeState
{
	int32		vl_len_;
	uint8		policy;
	uint8		flags;
	uint16		pad;
	int32		used;			/* bytes in use, header included */
	int32		nsorted;		/* sorted, distinct items first */
	int32		npending;		/* then items in arrival order */
	int64		key;			/* ranking key of the single-value policies */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} MergeState;

#define MS_HDRSZ offsetof(MergeState, data)
#define ITEM_HDRSZ (sizeof(uint32) + sizeof(int64))

/* one item seen through pointers */
typedef struct MergeItem
{
	const char *str;
	uint32		len;
	int64		count;
} MergeItem;

/* per-call cache of the element type's I/O functions (fn_extra) */
typedef struct MergeTypeCache
{
	Oid			typid;
	FmgrInfo	proc;			/* output (transition) or input (final) */
	Oid			ioparam;
	int16		typlen;
	bool		typbyval;
	char		typalign;
} MergeTypeCache;

/*
 * read_item
 *		Decode the item at p into *it; returns the address of the next one.
 */
static inline const char *
read_item(const char *p, MergeItem *it)
{
	memcpy(&it->len, p, sizeof(uint32));
	memcpy(&it->count, p + sizeof(uint32), sizeof(int64));
	it->str = p + ITEM_HDRSZ;
	return it->str + it->len;
}

/*
 * write_item
 *		Encode an item at p; returns the address just past it.
 */
static inline char *
write_item(char *p, const char *str, uint32 len, int64 count)
{
	memcpy(p, &len, sizeof(uint32));
	memcpy(p + sizeof(uint32), &count, sizeof(int64));
	memcpy(p + ITEM_HDRSZ, str, len);
	return p + ITEM_HDRSZ + len;
}

/*
 * bytes_cmp
 *		Byte order of two strings: memcmp, the shorter first on a common
 *		prefix.  The tie rule of every policy.
 */
static int
bytes_cmp(const char *a, uint32 la, const char *b, uint32 lb)
{
	int			c = memcmp(a, b, Min(la, lb));

	if (c != 0)
		return c;
	return (la < lb) ? -1 : (la > lb) ? 1 : 0;
}

/*
 * check_size
 *		Refuse a state that would not fit in a varlena.
 */
static Size
check_size(Size size)
{
	if (size > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("merge state too large"),
				 errdetail("The values collected need more than %zu bytes.",
						   (Size) MaxAllocSize),
				 errhint("Use cdp.collect and cdp.most_frequent on fewer distinct values.")));
	return size;
}

/*
 * state_new
 *		A fresh state of a policy with room for "room" bytes of items,
 *		palloc'd in the current memory context.
 */
static MergeState *
state_new(int policy, Size room)
{
	Size		size = check_size(MS_HDRSZ + room);
	MergeState *st = (MergeState *) palloc0(size);

	SET_VARSIZE(st, size);
	st->policy = policy;
	st->used = MS_HDRSZ;
	return st;
}

/*
 * state_grow
 *		Make room for "extra" more bytes of items.  When the state is the
 *		aggregate's own (in_place) and has the room, it is returned as is;
 *		otherwise a copy with at least twice the room is made in the current
 *		context (the executor moves it into the aggregate context).
 */
static MergeState *
state_grow(MergeState *st, Size extra, bool in_place)
{
	Size		need = (Size) st->used + extra;
	Size		size;
	MergeState *copy;

	if (in_place && need <= VARSIZE(st))
		return st;
	size = Max(need, Min((Size) st->used * 2, (Size) MaxAllocSize));
	size = Max(size, MS_HDRSZ + 64);
	copy = (MergeState *) palloc(check_size(size));
	memcpy(copy, st, st->used);
	SET_VARSIZE(copy, size);
	return copy;
}

/* qsort comparator of MergeItems */
static int
item_qsort_cmp(const void *a, const void *b)
{
	const MergeItem *x = (const MergeItem *) a;
	const MergeItem *y = (const MergeItem *) b;

	return bytes_cmp(x->str, x->len, y->str, y->len);
}

/*
 * state_normalize
 *		Sort the pending items and merge them into the sorted ones, adding
 *		the counts of equal items (collect keeps a count of 1).  Works in
 *		place: the result is never longer than the input.
 */
static void
state_normalize(MergeState *st)
{
	int			ns = st->nsorted;
	int			np = st->npending;
	MergeItem  *sorted;
	MergeItem  *pending;
	const char *p = st->data;
	char	   *buf;
	char	   *out;
	int			i,
				j,
				n = 0;
	Size		len;

	if (np == 0)
		return;
	sorted = (MergeItem *) palloc(sizeof(MergeItem) * Max(ns, 1));
	pending = (MergeItem *) palloc(sizeof(MergeItem) * np);
	for (i = 0; i < ns; i++)
		p = read_item(p, &sorted[i]);
	for (i = 0; i < np; i++)
		p = read_item(p, &pending[i]);
	qsort(pending, np, sizeof(MergeItem), item_qsort_cmp);

	len = st->used - MS_HDRSZ;
	buf = palloc(Max(len, 1));
	out = buf;
	i = j = 0;
	while (i < ns || j < np)
	{
		const MergeItem *next;
		int64		count;
		int			c;

		if (i >= ns)
			c = 1;
		else if (j >= np)
			c = -1;
		else
			c = bytes_cmp(sorted[i].str, sorted[i].len, pending[j].str, pending[j].len);
		next = (c <= 0) ? &sorted[i] : &pending[j];
		count = next->count;
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
		if (c == 0)
			count += pending[j - 1].count;
		/* equal pending items after the first */
		while (j < np && bytes_cmp(next->str, next->len, pending[j].str, pending[j].len) == 0)
			count += pending[j++].count;
		if (st->policy == MP_COLLECT)
			count = 1;
		out = write_item(out, next->str, next->len, count);
		n++;
	}
	memcpy(st->data, buf, out - buf);
	st->used = MS_HDRSZ + (out - buf);
	st->nsorted = n;
	st->npending = 0;
	pfree(buf);
	pfree(sorted);
	pfree(pending);
}

/*
 * state_copy_normalized
 *		A normalised copy of a state (or the state itself when already
 *		normalised), for functions that must not modify their argument.
 */
static MergeState *
state_copy_normalized(MergeState *st)
{
	MergeState *copy;

	if (st->npending == 0)
		return st;
	copy = (MergeState *) palloc(st->used);
	memcpy(copy, st, st->used);
	SET_VARSIZE(copy, st->used);
	state_normalize(copy);
	return copy;
}

/*
 * single_better
 *		Whether the row (key, key_null, str) ranks before the one a
 *		single-value state holds: a key beats no key, then the better key,
 *		then the text form first in byte order.
 */
static bool
single_better(const MergeState *st, int64 key, bool key_null, const char *str, uint32 len)
{
	bool		st_null = (st->flags & MS_KEY_NULL) != 0;
	MergeItem	cur;

	if (key_null != st_null)
		return !key_null;
	if (!key_null && key != st->key)
	{
		if (st->policy == MP_LEAST_RECENT || st->policy == MP_BY_PRIORITY)
			return key < st->key;
		return key > st->key;
	}
	read_item(st->data, &cur);
	return bytes_cmp(str, len, cur.str, cur.len) < 0;
}

/*
 * single_set
 *		Put (key, key_null, str) into a single-value state, growing it when
 *		needed (in place only when allowed); returns the state.
 */
static MergeState *
single_set(MergeState *st, int64 key, bool key_null, const char *str, uint32 len,
		   bool in_place)
{
	st->used = MS_HDRSZ;
	st->nsorted = 0;
	st = state_grow(st, ITEM_HDRSZ + len, in_place);
	write_item(st->data, str, len, 1);
	st->used = MS_HDRSZ + ITEM_HDRSZ + len;
	st->nsorted = 1;
	st->key = key_null ? 0 : key;
	st->flags = key_null ? MS_KEY_NULL : 0;
	return st;
}

/*
 * value_text
 *		The text form of argument 1 (the value) of a transition function,
 *		with the element type's output function cached in fn_extra.
 */
static char *
value_text(FunctionCallInfo fcinfo)
{
	MergeTypeCache *cache = (MergeTypeCache *) fcinfo->flinfo->fn_extra;
	Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, 1);

	if (!OidIsValid(typid))
		elog(ERROR, "could not determine the type of the merged value");
	if (cache == NULL || cache->typid != typid)
	{
		Oid			outfn;
		bool		isvarlena;

		if (cache == NULL)
			cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(MergeTypeCache));
		getTypeOutputInfo(typid, &outfn, &isvarlena);
		fmgr_info_cxt(outfn, &cache->proc, fcinfo->flinfo->fn_mcxt);
		cache->typid = typid;
		fcinfo->flinfo->fn_extra = cache;
	}
	return OutputFunctionCall(&cache->proc, PG_GETARG_DATUM(1));
}

/*
 * merge_trans
 *		The transition function of every policy.  Arguments: the state
 *		(NULL at first), the value, and for the ranked policies the key
 *		(argument 2).  NULL values are skipped; a NULL key ranks last.
 *		Returns the state, modified in place inside an aggregate.
 */
static Datum
merge_trans(FunctionCallInfo fcinfo, int policy)
{
	MemoryContext aggcxt;
	bool		in_place = AggCheckCallContext(fcinfo, &aggcxt) != 0;
	MergeState *st = PG_ARGISNULL(0) ? NULL : (MergeState *) PG_GETARG_POINTER(0);
	char	   *str;
	Size		len;
	int64		key = 0;
	bool		key_null = false;

	if (PG_ARGISNULL(1))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	if (st != NULL && VARATT_IS_EXTENDED(st))
	{
		st = (MergeState *) PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(0));
		in_place = true;		/* a private copy */
	}
	else if (st != NULL && !in_place)
	{
		/* outside an aggregate the argument must not be changed */
		MergeState *copy = (MergeState *) palloc(VARSIZE(st));

		memcpy(copy, st, VARSIZE(st));
		st = copy;
		in_place = true;
	}
	if (st != NULL && st->policy != policy)
		elog(ERROR, "merge state of policy %d given to the %s aggregate",
			 st->policy, policy_names[policy]);

	str = value_text(fcinfo);
	len = strlen(str);
	if (len > MaxAllocSize)
		check_size(len);

	switch (policy)
	{
		case MP_MOST_RECENT:
		case MP_LEAST_RECENT:
			key_null = PG_ARGISNULL(2);
			if (!key_null)
				key = PG_GETARG_TIMESTAMPTZ(2);
			break;
		case MP_BY_PRIORITY:
		case MP_MOST_FILLED:
			key_null = PG_ARGISNULL(2);
			if (!key_null)
				key = PG_GETARG_INT32(2);
			break;
		case MP_LONGEST:
			key = pg_mbstrlen_with_len(str, (int) len);
			break;
		default:
			break;
	}

	if (IS_LIST_POLICY(policy))
	{
		if (st == NULL)
			st = state_new(policy, Max(ITEM_HDRSZ + len, 64));
		else
			st = state_grow(st, ITEM_HDRSZ + len, in_place);
		write_item((char *) st + st->used, str, (uint32) len, 1);
		st->used += ITEM_HDRSZ + len;
		st->npending++;
		/* merge when the pending part is as large as the sorted one */
		if (st->npending >= Max(st->nsorted, 32))
			state_normalize(st);
	}
	else if (st == NULL)
	{
		st = state_new(policy, ITEM_HDRSZ + len);
		st = single_set(st, key, key_null, str, (uint32) len, true);
	}
	else if (single_better(st, key, key_null, str, (uint32) len))
		st = single_set(st, key, key_null, str, (uint32) len, in_place);

	PG_RETURN_POINTER(st);
}

Datum
cdp_merge_most_recent_trans(PG_FUNCTION_ARGS)
{
	return merge_trans(fcinfo, MP_MOST_RECENT);
}

Datum
cdp_merge_least_recent_trans(PG_FUNCTION_ARGS)
{
	return merge_trans(fcinfo, MP_LEAST_RECENT);
}

Datum
cdp_merge_by_priority_trans(PG_FUNCTION_ARGS)
{
	return merge_trans(fcinfo, MP_BY_PRIORITY);
}

Datum
cdp_merge_most_filled_trans(PG_FUNCTION_ARGS)
{
	return merge_trans(fcinfo, MP_MOST_FILLED);
}

Datum
cdp_merge_longest_trans(PG_FUNCTION_ARGS)
{
	return merge_trans(fcinfo, MP_LONGEST);
}

Datum
cdp_merge_most_frequent_trans(PG_FUNCTION_ARGS)
{
	return merge_trans(fcinfo, MP_MOST_FREQUENT);
}

Datum
cdp_merge_collect_trans(PG_FUNCTION_ARGS)
{
	return merge_trans(fcinfo, MP_COLLECT);
}

/*
 * cdp_merge_combine
 *		Combine two states of the same policy (strict: the executor handles
 *		NULLs).  The single-value policies keep the better row by the same
 *		ranking as the transition; the list policies merge their sorted
 *		lists, adding counts.  Returns the first state when it wins, else a
 *		new state.
 */
Datum
cdp_merge_combine(PG_FUNCTION_ARGS)
{
	MergeState *a = (MergeState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	MergeState *b = (MergeState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(1));
	MergeState *res;
	MergeItem	ia = {0},
				ib = {0};
	const char *pa,
			   *pb,
			   *enda,
			   *endb;
	char	   *out;

	if (a->policy != b->policy)
		elog(ERROR, "cannot combine merge states of policies %d and %d",
			 a->policy, b->policy);
	if (!IS_LIST_POLICY(a->policy))
	{
		read_item(b->data, &ib);
		if (single_better(a, b->key, (b->flags & MS_KEY_NULL) != 0, ib.str, ib.len))
			PG_RETURN_POINTER(b);	/* the executor copies it */
		PG_RETURN_POINTER(a);
	}

	a = state_copy_normalized(a);
	b = state_copy_normalized(b);
	res = state_new(a->policy, check_size((Size) a->used + b->used));
	out = res->data;
	pa = a->data;
	pb = b->data;
	enda = (const char *) a + a->used;
	endb = (const char *) b + b->used;
	if (pa < enda)
		read_item(pa, &ia);
	if (pb < endb)
		read_item(pb, &ib);
	while (pa < enda || pb < endb)
	{
		int			c;

		if (pa >= enda)
			c = 1;
		else if (pb >= endb)
			c = -1;
		else
			c = bytes_cmp(ia.str, ia.len, ib.str, ib.len);
		if (c < 0)
			out = write_item(out, ia.str, ia.len, ia.count);
		else if (c > 0)
			out = write_item(out, ib.str, ib.len, ib.count);
		else
			out = write_item(out, ia.str, ia.len,
							 a->policy == MP_COLLECT ? 1 : ia.count + ib.count);
		res->nsorted++;
		if (c <= 0)
		{
			pa = ia.str + ia.len;
			if (pa < enda)
				read_item(pa, &ia);
		}
		if (c >= 0)
		{
			pb = ib.str + ib.len;
			if (pb < endb)
				read_item(pb, &ib);
		}
	}
	res->used = out - (char *) res;
	PG_RETURN_POINTER(res);
}

/*
 * final_cache
 *		The element type's input function and storage, from argument 1 of
 *		a final function (FINALFUNC_EXTRA), cached in fn_extra.
 */
static MergeTypeCache *
final_cache(FunctionCallInfo fcinfo)
{
	MergeTypeCache *cache = (MergeTypeCache *) fcinfo->flinfo->fn_extra;
	Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, 1);

	if (!OidIsValid(typid))
		elog(ERROR, "could not determine the type of the merged value");
	if (cache == NULL || cache->typid != typid)
	{
		Oid			infn;

		if (cache == NULL)
			cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(MergeTypeCache));
		getTypeInputInfo(typid, &infn, &cache->ioparam);
		fmgr_info_cxt(infn, &cache->proc, fcinfo->flinfo->fn_mcxt);
		get_typlenbyvalalign(typid, &cache->typlen, &cache->typbyval, &cache->typalign);
		cache->typid = typid;
		fcinfo->flinfo->fn_extra = cache;
	}
	return cache;
}

/* a value of the element type from a text form */
static Datum
item_value(MergeTypeCache *cache, const MergeItem *it)
{
	char	   *s = pnstrdup(it->str, it->len);

	return InputFunctionCall(&cache->proc, s, cache->ioparam, -1);
}

/*
 * cdp_merge_final
 *		The value a state chose, in the element type (the type of argument
 *		1, always NULL: FINALFUNC_EXTRA).  For most_frequent, the item with
 *		the highest count, the first in byte order among equal counts.
 *		NULL for a NULL state (only NULL values were seen).
 */
Datum
cdp_merge_final(PG_FUNCTION_ARGS)
{
	MergeState *st;
	MergeTypeCache *cache = final_cache(fcinfo);
	MergeItem	it,
				best;
	const char *p,
			   *end;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (MergeState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	if (st->policy == MP_COLLECT)
		elog(ERROR, "cdp.merge_final cannot finish a collect state");
	st = state_copy_normalized(st);
	if (st->nsorted == 0)
		PG_RETURN_NULL();
	p = read_item(st->data, &best);
	end = (const char *) st + st->used;
	/* items are sorted, so the first of equal counts is kept */
	while (p < end)
	{
		p = read_item(p, &it);
		if (it.count > best.count)
			best = it;
	}
	PG_RETURN_DATUM(item_value(cache, &best));
}

/*
 * cdp_merge_final_array
 *		The distinct values a collect state holds, sorted by the byte order
 *		of their text forms, as an array of the element type (argument 1).
 *		NULL for a NULL state.
 */
Datum
cdp_merge_final_array(PG_FUNCTION_ARGS)
{
	MergeState *st;
	MergeTypeCache *cache = final_cache(fcinfo);
	Datum	   *elems;
	const char *p;
	int			i;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (MergeState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	if (st->policy != MP_COLLECT)
		elog(ERROR, "cdp.merge_final_array can only finish a collect state");
	st = state_copy_normalized(st);
	if (st->nsorted == 0)
		PG_RETURN_NULL();
	elems = (Datum *) palloc(sizeof(Datum) * st->nsorted);
	p = st->data;
	for (i = 0; i < st->nsorted; i++)
	{
		MergeItem	it;

		CHECK_FOR_INTERRUPTS();
		p = read_item(p, &it);
		elems[i] = item_value(cache, &it);
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, st->nsorted, cache->typid,
										  cache->typlen, cache->typbyval,
										  cache->typalign));
}

/* ---- text and binary forms ---- */

/* append a value in double quotes, escaping " and \ */
static void
append_quoted(StringInfo buf, const char *s, uint32 len)
{
	uint32		i;

	appendStringInfoChar(buf, '"');
	for (i = 0; i < len; i++)
	{
		if (s[i] == '"' || s[i] == '\\')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, s[i]);
	}
	appendStringInfoChar(buf, '"');
}

/*
 * cdp_merge_state_out
 *		The text form of a state (see the file header), e.g.
 *		most_recent(2024-05-01 10:00:00+00,"Ann"); timestamps in UTC.
 */
Datum
cdp_merge_state_out(PG_FUNCTION_ARGS)
{
	MergeState *st = state_copy_normalized((MergeState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0)));
	StringInfoData buf;
	const char *p = st->data;
	int			i;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s(", policy_names[st->policy]);
	if (!IS_LIST_POLICY(st->policy) && st->policy != MP_LONGEST)
	{
		if (st->flags & MS_KEY_NULL)
			appendStringInfoString(&buf, "null");
		else if (st->policy == MP_MOST_RECENT || st->policy == MP_LEAST_RECENT)
		{
			char		tbuf[MAXDATELEN + 1];

			if (TIMESTAMP_NOT_FINITE(st->key))
				EncodeSpecialTimestamp(st->key, tbuf);
			else
			{
				struct pg_tm tm;
				fsec_t		fsec;

				if (timestamp2tm(st->key, NULL, &tm, &fsec, NULL, NULL) != 0)
					ereport(ERROR,
							(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
							 errmsg("timestamp out of range")));
				EncodeDateTime(&tm, fsec, false, 0, NULL, USE_ISO_DATES, tbuf);
				strcat(tbuf, "+00");
			}
			appendStringInfoString(&buf, tbuf);
		}
		else
			appendStringInfo(&buf, INT64_FORMAT, st->key);
		appendStringInfoChar(&buf, ',');
	}
	for (i = 0; i < st->nsorted; i++)
	{
		MergeItem	it;

		p = read_item(p, &it);
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		append_quoted(&buf, it.str, it.len);
		if (st->policy == MP_MOST_FREQUENT)
			appendStringInfo(&buf, ":" INT64_FORMAT, it.count);
	}
	appendStringInfoChar(&buf, ')');
	PG_RETURN_CSTRING(buf.data);
}

/* the 22P02 error of a malformed text form */
static void
bad_text(const char *input, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type cdp.merge_state: \"%s\"", input),
			 errdetail("%s", detail),
			 errhint("Write policy(key,\"value\") as in most_recent(2024-05-01 10:00:00+00,\"Ann\"), by_priority(1,\"Ann\") or longest(\"Ann\"), or policy(\"value\":count,...) as in most_frequent(\"a\":3,\"b\":1) or collect(\"a\",\"b\").")));
}

/*
 * parse_quoted
 *		Parse a double-quoted value at *pp into buf; advances *pp.
 */
static void
parse_quoted(const char *input, const char **pp, StringInfo buf)
{
	const char *p = *pp;

	if (*p != '"')
		bad_text(input, "A value must be in double quotes.");
	p++;
	resetStringInfo(buf);
	for (;;)
	{
		if (*p == '\0')
			bad_text(input, "A quoted value is not closed.");
		if (*p == '"')
			break;
		if (*p == '\\')
		{
			p++;
			if (*p == '\0')
				bad_text(input, "A quoted value is not closed.");
		}
		appendStringInfoChar(buf, *p);
		p++;
	}
	*pp = p + 1;
}

/*
 * parse_timestamp_key
 *		The timestamptz key of a text form, parsed like timestamptz input
 *		but with a 22P02 error for anything that is not a timestamp.
 */
static TimestampTz
parse_timestamp_key(const char *input, const char *keytext)
{
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf,
				dtype,
				tz,
				dterr;
	struct pg_tm tm;
	fsec_t		fsec;
	TimestampTz result = 0;

	dterr = ParseDateTime(keytext, workbuf, sizeof(workbuf), field, ftype,
						  MAXDATEFIELDS, &nf);
	if (dterr == 0)
		dterr = DecodeDateTime(field, ftype, nf, &dtype, &tm, &fsec, &tz);
	if (dterr != 0)
		bad_text(input, "The key must be a timestamp with time zone or null.");
	switch (dtype)
	{
		case DTK_DATE:
			if (tm2timestamp(&tm, fsec, &tz, &result) != 0)
				bad_text(input, "The timestamp key is out of range.");
			break;
		case DTK_EPOCH:
			result = SetEpochTimestamp();
			break;
		case DTK_LATE:
			TIMESTAMP_NOEND(result);
			break;
		case DTK_EARLY:
			TIMESTAMP_NOBEGIN(result);
			break;
		default:
			bad_text(input, "The key must be a timestamp with time zone or null.");
	}
	return result;
}

/*
 * cdp_merge_state_in
 *		Parse the text form of a state (see the file header).  Items of the
 *		list policies may come in any order; equal ones are added up.
 *		Malformed text is an error with SQLSTATE 22P02.
 */
Datum
cdp_merge_state_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	const char *p = input;
	int			policy = 0;
	int			i;
	MergeState *st;
	StringInfoData val;
	int64		key = 0;
	bool		key_null = false;

	while (*p == ' ')
		p++;
	for (i = MP_FIRST; i <= MP_LAST; i++)
	{
		size_t		n = strlen(policy_names[i]);

		if (strncmp(p, policy_names[i], n) == 0 && p[n] == '(')
		{
			policy = i;
			p += n + 1;
			break;
		}
	}
	if (policy == 0)
		bad_text(input, "It must start with a policy name (most_recent, least_recent, by_priority, most_filled, longest, most_frequent, collect) and \"(\".");

	initStringInfo(&val);
	if (policy != MP_LONGEST && !IS_LIST_POLICY(policy))
	{
		const char *comma = strchr(p, ',');
		char	   *keytext;

		if (comma == NULL)
			bad_text(input, "The key must be followed by a comma and the value.");
		keytext = pnstrdup(p, comma - p);
		if (strcmp(keytext, "null") == 0)
			key_null = true;
		else if (policy == MP_MOST_RECENT || policy == MP_LEAST_RECENT)
		{
			if (keytext[0] == '\0')
				bad_text(input, "The key is missing.");
			key = parse_timestamp_key(input, keytext);
		}
		else
		{
			char	   *endp;
			long		v;

			errno = 0;
			v = strtol(keytext, &endp, 10);
			if (keytext[0] == '\0' || *endp != '\0' || errno != 0 ||
				v < PG_INT32_MIN || v > PG_INT32_MAX)
				bad_text(input, "The key must be an integer or null.");
			key = v;
		}
		p = comma + 1;
	}

	if (!IS_LIST_POLICY(policy))
	{
		parse_quoted(input, &p, &val);
		pg_verifymbstr(val.data, val.len, false);
		if (policy == MP_LONGEST)
			key = pg_mbstrlen_with_len(val.data, val.len);
		st = state_new(policy, ITEM_HDRSZ + val.len);
		st = single_set(st, key, key_null, val.data, val.len, true);
	}
	else
	{
		st = state_new(policy, 64);
		while (*p != ')')
		{
			int64		count = 1;

			if (st->npending > 0)
			{
				if (*p != ',')
					bad_text(input, "Values must be separated by commas.");
				p++;
			}
			parse_quoted(input, &p, &val);
			pg_verifymbstr(val.data, val.len, false);
			if (*p == ':')
			{
				char	   *endp;

				errno = 0;
				count = strtoll(p + 1, &endp, 10);
				if (endp == p + 1 || errno != 0 || count < 1)
					bad_text(input, "A count must be a positive integer.");
				p = endp;
			}
			st = state_grow(st, ITEM_HDRSZ + val.len, true);
			write_item((char *) st + st->used, val.data, val.len, count);
			st->used += ITEM_HDRSZ + val.len;
			st->npending++;
		}
		if (st->npending == 0)
			bad_text(input, "At least one value is needed.");
		state_normalize(st);
	}
	if (*p != ')')
		bad_text(input, "The value must be followed by \")\".");
	p++;
	while (*p == ' ')
		p++;
	if (*p != '\0')
		bad_text(input, "Nothing may follow the closing \")\".");
	SET_VARSIZE(st, st->used);
	PG_RETURN_POINTER(st);
}

/*
 * cdp_merge_state_send
 *		Binary form: policy (int8), flags (int8), key (int64), item count
 *		(int32), then per item its count (int64) and its text form
 *		(int32 length, bytes in the server encoding).
 */
Datum
cdp_merge_state_send(PG_FUNCTION_ARGS)
{
	MergeState *st = state_copy_normalized((MergeState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0)));
	StringInfoData buf;
	const char *p = st->data;
	int			i;

	pq_begintypsend(&buf);
	pq_sendint8(&buf, st->policy);
	pq_sendint8(&buf, st->flags);
	pq_sendint64(&buf, st->key);
	pq_sendint32(&buf, st->nsorted);
	for (i = 0; i < st->nsorted; i++)
	{
		MergeItem	it;

		p = read_item(p, &it);
		pq_sendint64(&buf, it.count);
		pq_sendint32(&buf, it.len);
		pq_sendbytes(&buf, it.str, it.len);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * cdp_merge_state_recv
 *		Read the binary form written by cdp_merge_state_send, checking it.
 */
Datum
cdp_merge_state_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			policy = pq_getmsgint(buf, 1);
	int			flags = pq_getmsgint(buf, 1);
	int64		key = pq_getmsgint64(buf);
	int			n = pq_getmsgint(buf, 4);
	MergeState *st;
	int			i;

	if (policy < MP_FIRST || policy > MP_LAST || (flags & ~MS_KEY_NULL) != 0 ||
		n < 1 || (!IS_LIST_POLICY(policy) && n != 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary data for type cdp.merge_state")));
	st = state_new(policy, 64);
	for (i = 0; i < n; i++)
	{
		int64		count = pq_getmsgint64(buf);
		int			len = pq_getmsgint(buf, 4);
		const char *s;

		if (len < 0 || len > buf->len - buf->cursor || count < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid binary data for type cdp.merge_state")));
		s = pq_getmsgbytes(buf, len);
		pg_verifymbstr(s, len, false);
		st = state_grow(st, ITEM_HDRSZ + len, true);
		write_item((char *) st + st->used, s, len, count);
		st->used += ITEM_HDRSZ + len;
		st->npending++;
	}
	if (IS_LIST_POLICY(policy))
		state_normalize(st);
	else
	{
		st->nsorted = 1;
		st->npending = 0;
		st->flags = flags;
		st->key = (flags & MS_KEY_NULL) ? 0 : key;
		if (policy == MP_LONGEST)
		{
			MergeItem	it;

			read_item(st->data, &it);
			st->key = pg_mbstrlen_with_len(it.str, it.len);
		}
	}
	SET_VARSIZE(st, st->used);
	PG_RETURN_POINTER(st);
}
