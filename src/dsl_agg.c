/*-------------------------------------------------------------------------
 *
 * dsl_agg.c
 *	  Aggregates the measure compiler needs beyond PostgreSQL's own:
 *	  cdp.argmax(value, key) and cdp.argmin(value, key) (the value of the
 *	  row with the largest / smallest key; first and last of the language
 *	  are argmin / argmax by occurred_at), and cdp.top(value, k) (the k most
 *	  frequent values).
 *
 * Ties are broken by the value's own order: the smallest value wins, and
 * top lists values of equal frequency in ascending order.  Orders are the
 * default btree order of the type, text in byte order (collation "C"), so
 * results do not depend on the row order, the locale or how rows are split
 * between parallel workers.  Rows whose value or key is NULL are skipped.
 *
 * All three share one transition type, cdp.dsl_agg_state, a plain varlena
 * (not "internal") with text and binary forms, so they have a combine
 * function and run in parallel.  The state keeps datum images: a by-value
 * datum as its Datum, a fixed-length by-reference one as its bytes, a
 * varlena detoasted, each at a MAXALIGNed offset so that it can be compared
 * in place with the type's comparison function.  top keeps (value, count)
 * items: a sorted distinct run followed by items appended in arrival order;
 * when the appended part grows as large as the sorted one everything is
 * sorted and equal values merged, so n rows cost O(n log n).
 *
 * Text form: argmax(<key type oid>,<value type oid>;"key","value"),
 * argmax(...;) when empty; top(<value type oid>,<k>;"value":count,...).
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(cdp_dsl_agg_state_in);
PG_FUNCTION_INFO_V1(cdp_dsl_agg_state_out);
PG_FUNCTION_INFO_V1(cdp_dsl_agg_state_recv);
PG_FUNCTION_INFO_V1(cdp_dsl_agg_state_send);
PG_FUNCTION_INFO_V1(cdp_argmax_trans);
PG_FUNCTION_INFO_V1(cdp_argmin_trans);
PG_FUNCTION_INFO_V1(cdp_top_trans);
PG_FUNCTION_INFO_V1(cdp_dsl_agg_combine);
PG_FUNCTION_INFO_V1(cdp_pick_final);
PG_FUNCTION_INFO_V1(cdp_top_final);
PG_FUNCTION_INFO_V1(cdp_count_distinct_trans);
PG_FUNCTION_INFO_V1(cdp_count_distinct_final);

/* kinds; the numbers are part of the binary format */
#define DA_ARGMAX 1
#define DA_ARGMIN 2
#define DA_TOP 3

#define TOP_MAX_K 10000

static const char *const kind_names[] = {NULL, "argmax", "argmin", "top"};

/*
 * The state.  VARSIZE is the allocated size, "used" bytes are meaningful.
 * Items start at DA_HDRSZ; an item of argmax/argmin is the key image then
 * the value image; an item of top is an int64 count then the value image.
 * An image is an int32 length, padding to MAXALIGN, then the bytes padded
 * to MAXALIGN.
 */
typedef struct DslAggState
{
	int32		vl_len_;
	uint8		kind;
	uint8		pad1;
	uint16		pad2;
	int32		k;				/* top: how many values */
	Oid			keytype;		/* argmax/argmin: type of the key */
	Oid			valtype;		/* type of the value */
	int32		used;			/* bytes in use, header included */
	int32		nitems;			/* items in all */
	int32		nsorted;		/* of which sorted and distinct (top) */
} DslAggState;

#define DA_HDRSZ MAXALIGN(sizeof(DslAggState))
#define IMG_HDRSZ MAXALIGN(sizeof(int32))

/* what the functions need to know about a type (cached in fn_extra) */
typedef struct TypeInfo
{
	Oid			typid;
	int16		typlen;
	bool		typbyval;
	FmgrInfo	cmp;			/* btree comparison */
} TypeInfo;

typedef struct AggCache
{
	TypeInfo	val;
	TypeInfo	key;
	bool		args_known;		/* argval / argkey are set */
	Oid			argval;			/* the call's argument types */
	Oid			argkey;
} AggCache;

/* one item seen through pointers */
typedef struct TopItem
{
	Datum		value;
	int64		count;
	const char *image;			/* the value image (length header first) */
} TopItem;

/*
 * type_info
 *		Fill ti for type typid (if not already), with its btree comparison;
 *		a type without one is refused (42883).
 */
static void
type_info(TypeInfo *ti, Oid typid)
{
	TypeCacheEntry *tc;

	if (ti->typid == typid)
		return;
	tc = lookup_type_cache(typid, TYPECACHE_CMP_PROC_FINFO);
	if (!OidIsValid(tc->cmp_proc_finfo.fn_oid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("could not identify a comparison function for type %s",
						format_type_be(typid)),
				 errdetail("argmax, argmin and top order values with the type's default btree order."),
				 errhint("Use a column of a type with an order, such as numeric, text or timestamptz.")));
	if (tc->typlen == -2)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("type %s is not supported by argmax, argmin and top",
						format_type_be(typid)),
				 errdetail("Values of C-string types cannot be kept in the state."),
				 errhint("Cast the value to text.")));
	ti->typlen = tc->typlen;
	ti->typbyval = tc->typbyval;
	ti->cmp = tc->cmp_proc_finfo;
	ti->typid = typid;
}

/*
 * get_cache
 *		The per-call cache of fn_extra, for value type valtype and key type
 *		keytype (InvalidOid for none).
 */
static AggCache *
get_cache(FunctionCallInfo fcinfo, Oid valtype, Oid keytype)
{
	AggCache   *c = (AggCache *) fcinfo->flinfo->fn_extra;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(AggCache));
		fcinfo->flinfo->fn_extra = c;
	}
	type_info(&c->val, valtype);
	if (OidIsValid(keytype))
		type_info(&c->key, keytype);
	return c;
}

/*
 * call_arg_types
 *		The types of arguments 1 and 2 of a transition call (the value and
 *		the key), looked up once per call site and kept in fn_extra.
 */
static void
call_arg_types(FunctionCallInfo fcinfo, Oid *valtype, Oid *keytype)
{
	AggCache   *c = (AggCache *) fcinfo->flinfo->fn_extra;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(AggCache));
		fcinfo->flinfo->fn_extra = c;
	}
	if (!c->args_known)
	{
		c->argval = get_fn_expr_argtype(fcinfo->flinfo, 1);
		c->argkey = keytype ? get_fn_expr_argtype(fcinfo->flinfo, 2) : InvalidOid;
		c->args_known = true;
	}
	*valtype = c->argval;
	if (keytype)
		*keytype = c->argkey;
}

/*
 * compare
 *		Order of two datums of a type: <0, 0, >0 (collation "C").
 */
static inline int
compare(TypeInfo *ti, Datum a, Datum b)
{
	return DatumGetInt32(FunctionCall2Coll(&ti->cmp, C_COLLATION_OID, a, b));
}

/*
 * compare_total
 *		compare, with values that are equal but stored differently (numeric
 *		3.0 and 3) ordered by their bytes, so that which one is kept does
 *		not depend on the order of the rows.
 */
static int
compare_total(TypeInfo *ti, Datum a, Datum b)
{
	int			r = compare(ti, a, b);
	Size		la,
				lb;
	int			m;

	if (r != 0)
		return r;
	if (ti->typbyval)
		return (a < b) ? -1 : (a > b) ? 1 : 0;
	la = ti->typlen > 0 ? ti->typlen : VARSIZE(DatumGetPointer(a));
	lb = ti->typlen > 0 ? ti->typlen : VARSIZE(DatumGetPointer(b));
	m = memcmp(DatumGetPointer(a), DatumGetPointer(b), Min(la, lb));
	if (m != 0)
		return m;
	return (la < lb) ? -1 : (la > lb) ? 1 : 0;
}

/* ---- images ---- */

/*
 * image_size
 *		Bytes the image of datum d takes, header and padding included; for
 *		a varlena d must already be detoasted.
 */
static Size
image_size(TypeInfo *ti, Datum d)
{
	Size		len;

	if (ti->typbyval)
		len = sizeof(Datum);
	else if (ti->typlen > 0)
		len = ti->typlen;
	else
		len = VARSIZE(DatumGetPointer(d));
	return IMG_HDRSZ + MAXALIGN(len);
}

/*
 * image_write
 *		Write the image of d at p; returns the address past it.
 */
static char *
image_write(char *p, TypeInfo *ti, Datum d)
{
	int32		len;

	if (ti->typbyval)
	{
		len = sizeof(Datum);
		memcpy(p + IMG_HDRSZ, &d, sizeof(Datum));
	}
	else
	{
		len = (ti->typlen > 0) ? ti->typlen : VARSIZE(DatumGetPointer(d));
		memcpy(p + IMG_HDRSZ, DatumGetPointer(d), len);
	}
	memcpy(p, &len, sizeof(int32));
	return p + IMG_HDRSZ + MAXALIGN(len);
}

/*
 * image_read
 *		The datum of the image at p (pointing into the image for by-ref
 *		types); *next is set past the image.
 */
static Datum
image_read(const char *p, TypeInfo *ti, const char **next)
{
	int32		len;
	Datum		d;

	memcpy(&len, p, sizeof(int32));
	if (ti->typbyval)
		memcpy(&d, p + IMG_HDRSZ, sizeof(Datum));
	else
		d = PointerGetDatum(p + IMG_HDRSZ);
	*next = p + IMG_HDRSZ + MAXALIGN(len);
	return d;
}

/*
 * check_size
 *		Refuse a state beyond what a varlena can hold.
 */
static Size
check_size(Size size)
{
	if (size > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("aggregate state too large"),
				 errdetail("The values kept need more than %zu bytes.", (Size) MaxAllocSize),
				 errhint("Use cdp.top on fewer distinct values.")));
	return size;
}

/*
 * state_new
 *		An empty state with room for "room" bytes of items, in the current
 *		memory context.
 */
static DslAggState *
state_new(int kind, Oid valtype, Oid keytype, int k, Size room)
{
	Size		size = check_size(DA_HDRSZ + room);
	DslAggState *st = palloc0(size);

	SET_VARSIZE(st, size);
	st->kind = kind;
	st->valtype = valtype;
	st->keytype = keytype;
	st->k = k;
	st->used = DA_HDRSZ;
	return st;
}

/*
 * in_agg_context
 *		Whether we are called as an aggregate and st is the state the
 *		executor keeps (so it may be modified in place).
 */
static bool
in_agg_context(FunctionCallInfo fcinfo)
{
	return AggCheckCallContext(fcinfo, NULL) != 0;
}

/*
 * get_state
 *		Argument argno as a state (detoasted); *own is set when it is the
 *		executor's own copy that may be modified in place.
 */
static DslAggState *
get_state(FunctionCallInfo fcinfo, int argno, bool *own)
{
	Datum		d = PG_GETARG_DATUM(argno);
	DslAggState *st = (DslAggState *) PG_DETOAST_DATUM(d);

	if (own)
		*own = (Pointer) st == DatumGetPointer(d) && in_agg_context(fcinfo);
	if (st->kind < DA_ARGMAX || st->kind > DA_TOP)
		elog(ERROR, "corrupt cdp.dsl_agg_state");
	return st;
}

/*
 * wrong_state
 *		Raise the error of a state that belongs to another aggregate or to
 *		other argument types (possible only when the functions are called
 *		by hand).
 */
static void
wrong_state(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("cdp.dsl_agg_state of another aggregate or other argument types"),
			 errdetail("A state is made by one aggregate for one value type and one key type."),
			 errhint("Call the aggregates cdp.argmax, cdp.argmin and cdp.top rather than their support functions.")));
}

/* ---- argmax / argmin ---- */

/*
 * pick_better
 *		Whether (key, value) beats the item of a non-empty pick state.
 */
static bool
pick_better(DslAggState *st, AggCache *c, Datum key, Datum value)
{
	const char *p = (const char *) st + DA_HDRSZ;
	Datum		skey = image_read(p, &c->key, &p);
	Datum		sval = image_read(p, &c->val, &p);
	int			r = compare(&c->key, key, skey);

	if (r != 0)
		return (st->kind == DA_ARGMAX) ? r > 0 : r < 0;
	r = compare_total(&c->val, value, sval);
	if (r != 0)
		return r < 0;
	return compare_total(&c->key, key, skey) < 0;
}

/*
 * pick_set
 *		A state holding (key, value): st itself when allowed (own) and big
 *		enough, else a new one.
 */
static DslAggState *
pick_set(DslAggState *st, bool own, AggCache *c, Datum key, Datum value)
{
	Size		need = DA_HDRSZ + image_size(&c->key, key) + image_size(&c->val, value);
	char	   *p;

	if (!own || need > VARSIZE(st))
	{
		DslAggState *n = state_new(st->kind, st->valtype, st->keytype, 0,
								   Max(need, (Size) DA_HDRSZ + 64) - DA_HDRSZ);

		st = n;
	}
	p = (char *) st + DA_HDRSZ;
	p = image_write(p, &c->key, key);
	p = image_write(p, &c->val, value);
	st->used = p - (char *) st;
	st->nitems = 1;
	st->nsorted = 1;
	return st;
}

/*
 * pick_trans
 *		Transition of argmax (kind DA_ARGMAX) and argmin: arguments state,
 *		value, key.  Rows with a NULL value or key are skipped.
 */
static Datum
pick_trans(FunctionCallInfo fcinfo, int kind)
{
	Oid			valtype;
	Oid			keytype;
	DslAggState *st;
	AggCache   *c;
	Datum		value,
				key;
	bool		own = false;

	call_arg_types(fcinfo, &valtype, &keytype);

	if (!OidIsValid(valtype) || !OidIsValid(keytype))
		elog(ERROR, "could not determine the argument types of %s", kind_names[kind]);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	c = get_cache(fcinfo, valtype, keytype);
	value = PG_GETARG_DATUM(1);
	key = PG_GETARG_DATUM(2);
	if (c->val.typlen == -1)
		value = PointerGetDatum(PG_DETOAST_DATUM(value));
	if (c->key.typlen == -1)
		key = PointerGetDatum(PG_DETOAST_DATUM(key));

	if (PG_ARGISNULL(0))
		st = state_new(kind, valtype, keytype, 0, 0);
	else
	{
		st = get_state(fcinfo, 0, &own);
		if (st->kind != kind || st->valtype != valtype || st->keytype != keytype)
			wrong_state();
		if (st->nitems > 0 && !pick_better(st, c, key, value))
			PG_RETURN_POINTER(st);
	}
	PG_RETURN_POINTER(pick_set(st, own, c, key, value));
}

/* transition of cdp.argmax */
Datum
cdp_argmax_trans(PG_FUNCTION_ARGS)
{
	return pick_trans(fcinfo, DA_ARGMAX);
}

/* transition of cdp.argmin */
Datum
cdp_argmin_trans(PG_FUNCTION_ARGS)
{
	return pick_trans(fcinfo, DA_ARGMIN);
}

/*
 * cdp_pick_final
 *		Final function of argmax/argmin: the chosen value, NULL when no row
 *		counted.
 */
Datum
cdp_pick_final(PG_FUNCTION_ARGS)
{
	DslAggState *st;
	AggCache   *c;
	const char *p;
	Datum		v;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = get_state(fcinfo, 0, NULL);
	if (st->nitems == 0)
		PG_RETURN_NULL();
	c = get_cache(fcinfo, st->valtype, st->keytype);
	p = (const char *) st + DA_HDRSZ;
	image_read(p, &c->key, &p);
	v = image_read(p, &c->val, &p);
	PG_RETURN_DATUM(datumCopy(v, c->val.typbyval, c->val.typlen));
}

/* ---- top ---- */

/*
 * top_items
 *		The items of a top state as an array (palloc'd), *n their number.
 */
static TopItem *
top_items(DslAggState *st, AggCache *c)
{
	TopItem    *items = palloc(sizeof(TopItem) * Max(st->nitems, 1));
	const char *p = (const char *) st + DA_HDRSZ;
	int			i;

	for (i = 0; i < st->nitems; i++)
	{
		memcpy(&items[i].count, p, sizeof(int64));
		p += MAXALIGN(sizeof(int64));
		items[i].image = p;
		items[i].value = image_read(p, &c->val, &p);
	}
	return items;
}

/* qsort_arg comparator of TopItems by value */
static int
top_value_cmp(const void *a, const void *b, void *arg)
{
	return compare_total((TypeInfo *) arg, ((const TopItem *) a)->value,
						 ((const TopItem *) b)->value);
}

/*
 * top_normalize
 *		Sort all items of st by value and merge equal ones, adding their
 *		counts; rewrites st in place (never longer).
 */
static void
top_normalize(DslAggState *st, AggCache *c)
{
	TopItem    *items;
	char	   *buf;
	char	   *out;
	int			i,
				n = 0;

	if (st->nsorted == st->nitems)
		return;
	items = top_items(st, c);
	qsort_arg(items, st->nitems, sizeof(TopItem), top_value_cmp, &c->val);
	buf = palloc(st->used - DA_HDRSZ + 1);
	out = buf;
	for (i = 0; i < st->nitems;)
	{
		int64		count = items[i].count;
		int			j = i + 1;
		int32		len;

		while (j < st->nitems && compare(&c->val, items[i].value, items[j].value) == 0)
			count += items[j++].count;
		memcpy(out, &count, sizeof(int64));
		out += MAXALIGN(sizeof(int64));
		memcpy(&len, items[i].image, sizeof(int32));
		memcpy(out, items[i].image, IMG_HDRSZ + MAXALIGN(len));
		out += IMG_HDRSZ + MAXALIGN(len);
		n++;
		i = j;
	}
	memcpy((char *) st + DA_HDRSZ, buf, out - buf);
	st->used = DA_HDRSZ + (out - buf);
	st->nitems = n;
	st->nsorted = n;
	pfree(buf);
	pfree(items);
}

/*
 * top_append
 *		Append (value image or datum, count) to st, growing it (a copy in
 *		the current context unless own and roomy).  Returns the state.
 */
static DslAggState *
top_append(DslAggState *st, bool own, AggCache *c, Datum value, int64 count)
{
	Size		need = MAXALIGN(sizeof(int64)) + image_size(&c->val, value);
	char	   *p;

	if (!own || st->used + need > VARSIZE(st))
	{
		Size		size = Max((Size) st->used + need, (Size) st->used * 2);
		DslAggState *n;

		size = Max(size, DA_HDRSZ + 256);
		if (size > MaxAllocSize && (Size) st->used + need <= MaxAllocSize)
			size = MaxAllocSize;
		n = palloc(check_size(size));
		memcpy(n, st, st->used);
		SET_VARSIZE(n, size);
		st = n;
	}
	p = (char *) st + st->used;
	memcpy(p, &count, sizeof(int64));
	p += MAXALIGN(sizeof(int64));
	p = image_write(p, &c->val, value);
	st->used = p - (char *) st;
	st->nitems++;
	return st;
}

/*
 * top_count_value
 *		The transition shared by cdp.top and cdp.count_distinct: count the
 *		value of argument 1 in a DA_TOP state.  A new state takes k from
 *		argument 2 (1..TOP_MAX_K) when read_k, else 1 (count_distinct has no
 *		k).  NULL values leave the state as it is.
 */
static Datum
top_count_value(FunctionCallInfo fcinfo, bool read_k, const char *aggname)
{
	Oid			valtype;
	DslAggState *st;
	AggCache   *c;
	Datum		value;
	bool		own = false;

	call_arg_types(fcinfo, &valtype, NULL);

	if (!OidIsValid(valtype))
		elog(ERROR, "could not determine the argument type of %s", aggname);
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	c = get_cache(fcinfo, valtype, InvalidOid);
	value = PG_GETARG_DATUM(1);
	if (c->val.typlen == -1)
		value = PointerGetDatum(PG_DETOAST_DATUM(value));
	if (PG_ARGISNULL(0))
	{
		int32		k = 1;

		if (read_k && (PG_ARGISNULL(2) || (k = PG_GETARG_INT32(2)) < 1 || k > TOP_MAX_K))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("top needs k between 1 and %d", TOP_MAX_K),
					 errdetail("k is how many of the most frequent values to return."),
					 errhint("Write e.g. top(purchase.category, 3).")));
		st = state_new(DA_TOP, valtype, InvalidOid, k, 0);
	}
	else
	{
		st = get_state(fcinfo, 0, &own);
		if (st->kind != DA_TOP || st->valtype != valtype)
			wrong_state();
	}
	st = top_append(st, own, c, value, 1);
	if (st->nitems - st->nsorted >= Max(st->nsorted, 64))
		top_normalize(st, c);
	PG_RETURN_POINTER(st);
}

/*
 * cdp_top_trans
 *		Transition of cdp.top(value, k): count the value.  k (1..10000) is
 *		taken from the first row.
 */
Datum
cdp_top_trans(PG_FUNCTION_ARGS)
{
	return top_count_value(fcinfo, true, "top");
}

/*
 * cdp_count_distinct_trans
 *		Transition of cdp.count_distinct(value): the values with their
 *		counts, in cdp.top's state (k is not used), so that parallel workers
 *		can count distinct values and the leader merge them.
 */
Datum
cdp_count_distinct_trans(PG_FUNCTION_ARGS)
{
	return top_count_value(fcinfo, false, "count_distinct");
}

/*
 * top_normalized
 *		A final function's view of a DA_TOP state with every value once:
 *		the state itself when it is already normalised, else a normalised
 *		copy (a final function must not change its input state).
 */
static DslAggState *
top_normalized(FunctionCallInfo fcinfo, DslAggState *st)
{
	DslAggState *copy;

	if (st->nsorted == st->nitems)
		return st;
	copy = palloc(st->used);
	memcpy(copy, st, st->used);
	SET_VARSIZE(copy, st->used);
	top_normalize(copy, get_cache(fcinfo, copy->valtype, InvalidOid));
	return copy;
}

/*
 * cdp_count_distinct_final
 *		Final function of cdp.count_distinct: the number of distinct values
 *		(0 when no row counted, as count(DISTINCT ...) gives).
 */
Datum
cdp_count_distinct_final(PG_FUNCTION_ARGS)
{
	DslAggState *st;

	if (PG_ARGISNULL(0))
		PG_RETURN_INT64(0);
	st = get_state(fcinfo, 0, NULL);
	if (st->nitems == 0)
		PG_RETURN_INT64(0);
	PG_RETURN_INT64((int64) top_normalized(fcinfo, st)->nitems);
}

/*
 * top_count_cmp
 *		qsort comparator of the items of a normalised state: descending
 *		count, then the image address, which follows the value order.
 */
static int
top_count_cmp(const void *a, const void *b)
{
	const TopItem *x = (const TopItem *) a;
	const TopItem *y = (const TopItem *) b;

	if (x->count != y->count)
		return (x->count > y->count) ? -1 : 1;
	return (x->image < y->image) ? -1 : (x->image > y->image) ? 1 : 0;
}

/*
 * cdp_top_final
 *		Final function of cdp.top: an array of the k most frequent values,
 *		by descending count then ascending value; NULL when no row counted.
 */
Datum
cdp_top_final(PG_FUNCTION_ARGS)
{
	DslAggState *st;
	AggCache   *c;
	TopItem    *items;
	Datum	   *values;
	int			i,
				n;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = get_state(fcinfo, 0, NULL);
	if (st->nitems == 0)
		PG_RETURN_NULL();
	c = get_cache(fcinfo, st->valtype, InvalidOid);
	st = top_normalized(fcinfo, st);
	items = top_items(st, c);
	n = Min(st->nitems, st->k);
	/* by descending count; equal counts keep value order (image order) */
	qsort(items, st->nitems, sizeof(TopItem), top_count_cmp);
	values = palloc(sizeof(Datum) * Max(n, 1));
	for (i = 0; i < n; i++)
		values[i] = items[i].value;
	get_typlenbyvalalign(st->valtype, &typlen, &typbyval, &typalign);
	PG_RETURN_ARRAYTYPE_P(construct_array(values, n, st->valtype, typlen, typbyval, typalign));
}

/* ---- combine ---- */

/*
 * cdp_dsl_agg_combine
 *		Combine two states of the same aggregate: the better pick, or the
 *		items of both tops.
 */
Datum
cdp_dsl_agg_combine(PG_FUNCTION_ARGS)
{
	DslAggState *a,
			   *b;
	AggCache   *c;
	bool		own;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	b = get_state(fcinfo, 1, NULL);
	if (PG_ARGISNULL(0))
		PG_RETURN_POINTER(b);
	a = get_state(fcinfo, 0, &own);
	if (a->kind != b->kind || a->valtype != b->valtype || a->keytype != b->keytype)
		wrong_state();
	if (b->nitems == 0)
		PG_RETURN_POINTER(a);
	if (a->nitems == 0)
		PG_RETURN_POINTER(b);
	c = get_cache(fcinfo, a->valtype, a->keytype);
	if (a->kind != DA_TOP)
	{
		const char *p = (const char *) b + DA_HDRSZ;
		Datum		key = image_read(p, &c->key, &p);
		Datum		val = image_read(p, &c->val, &p);

		PG_RETURN_POINTER(pick_better(a, c, key, val) ? b : a);
	}
	else
	{
		TopItem    *items = top_items(b, c);
		int			i;

		for (i = 0; i < b->nitems; i++)
		{
			a = top_append(a, own, c, items[i].value, items[i].count);
			own = true;			/* a copy of ours from now on */
			if ((i & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
		}
		top_normalize(a, c);
		PG_RETURN_POINTER(a);
	}
}

/* ---- text and binary forms ---- */

/*
 * append_quoted
 *		Append s in double quotes, " and \ escaped with a backslash.
 */
static void
append_quoted(StringInfo out, const char *s)
{
	appendStringInfoChar(out, '"');
	for (; *s; s++)
	{
		if (*s == '"' || *s == '\\')
			appendStringInfoChar(out, '\\');
		appendStringInfoChar(out, *s);
	}
	appendStringInfoChar(out, '"');
}

/*
 * datum_text
 *		The text form of d of type typid.
 */
static char *
datum_text(Oid typid, Datum d)
{
	Oid			outfn;
	bool		isvarlena;

	getTypeOutputInfo(typid, &outfn, &isvarlena);
	return OidOutputFunctionCall(outfn, d);
}

/*
 * cdp_dsl_agg_state_out
 *		Text form of a state (items of top sorted by value).
 */
Datum
cdp_dsl_agg_state_out(PG_FUNCTION_ARGS)
{
	DslAggState *st = get_state(fcinfo, 0, NULL);
	StringInfoData out;
	AggCache   *c;
	int			i;

	initStringInfo(&out);
	c = get_cache(fcinfo, st->valtype, st->kind == DA_TOP ? InvalidOid : st->keytype);
	if (st->kind == DA_TOP)
	{
		TopItem    *items;

		if (st->nsorted != st->nitems)
		{
			DslAggState *copy = palloc(st->used);

			memcpy(copy, st, st->used);
			SET_VARSIZE(copy, st->used);
			st = copy;
			top_normalize(st, c);
		}
		items = top_items(st, c);
		appendStringInfo(&out, "top(%u,%d;", st->valtype, st->k);
		for (i = 0; i < st->nitems; i++)
		{
			if (i > 0)
				appendStringInfoChar(&out, ',');
			append_quoted(&out, datum_text(st->valtype, items[i].value));
			appendStringInfo(&out, ":" INT64_FORMAT, items[i].count);
		}
	}
	else
	{
		appendStringInfo(&out, "%s(%u,%u;", kind_names[st->kind], st->keytype, st->valtype);
		if (st->nitems > 0)
		{
			const char *p = (const char *) st + DA_HDRSZ;
			Datum		key = image_read(p, &c->key, &p);
			Datum		val = image_read(p, &c->val, &p);

			append_quoted(&out, datum_text(st->keytype, key));
			appendStringInfoChar(&out, ',');
			append_quoted(&out, datum_text(st->valtype, val));
		}
	}
	appendStringInfoChar(&out, ')');
	PG_RETURN_CSTRING(out.data);
}

/*
 * bad_state_text
 *		Raise the error of malformed text for cdp.dsl_agg_state.
 */
static void
bad_state_text(const char *s)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type cdp.dsl_agg_state: \"%s\"", s),
			 errdetail("The text form is argmax(keytype,valuetype;\"key\",\"value\") or top(valuetype,k;\"value\":count,...)."),
			 errhint("Use the text that the output function produced.")));
}

/*
 * read_quoted
 *		Read a double-quoted string at *p (backslash escapes) into a
 *		palloc'd string; advances *p.
 */
static char *
read_quoted(const char **p, const char *whole)
{
	StringInfoData buf;
	const char *s = *p;

	if (*s != '"')
		bad_state_text(whole);
	s++;
	initStringInfo(&buf);
	while (*s && *s != '"')
	{
		if (*s == '\\' && s[1])
			s++;
		appendStringInfoChar(&buf, *s++);
	}
	if (*s != '"')
		bad_state_text(whole);
	*p = s + 1;
	return buf.data;
}

/*
 * datum_from_text
 *		The datum of type typid read from its text form.
 */
static Datum
datum_from_text(Oid typid, char *s)
{
	Oid			infn;
	Oid			ioparam;

	getTypeInputInfo(typid, &infn, &ioparam);
	return OidInputFunctionCall(infn, s, ioparam, -1);
}

/*
 * cdp_dsl_agg_state_in
 *		Parse the text form of a state.
 */
Datum
cdp_dsl_agg_state_in(PG_FUNCTION_ARGS)
{
	const char *whole = PG_GETARG_CSTRING(0);
	const char *p = whole;
	DslAggState *st;
	AggCache   *c;
	int			kind = 0;
	int			i;
	char	   *end;
	unsigned long a,
				b;

	for (i = DA_ARGMAX; i <= DA_TOP; i++)
		if (strncmp(p, kind_names[i], strlen(kind_names[i])) == 0 &&
			p[strlen(kind_names[i])] == '(')
		{
			kind = i;
			p += strlen(kind_names[i]) + 1;
			break;
		}
	if (kind == 0)
		bad_state_text(whole);
	errno = 0;
	a = strtoul(p, &end, 10);
	if (end == p || *end != ',' || errno != 0)
		bad_state_text(whole);
	p = end + 1;
	b = strtoul(p, &end, 10);
	if (end == p || *end != ';' || errno != 0)
		bad_state_text(whole);
	p = end + 1;

	if (kind == DA_TOP)
	{
		if (b < 1 || b > TOP_MAX_K || !OidIsValid((Oid) a))
			bad_state_text(whole);
		st = state_new(DA_TOP, (Oid) a, InvalidOid, (int) b, 0);
		c = get_cache(fcinfo, (Oid) a, InvalidOid);
		while (*p && *p != ')')
		{
			char	   *s = read_quoted(&p, whole);
			long long	count;
			Datum		v;

			if (*p != ':')
				bad_state_text(whole);
			p++;
			errno = 0;
			count = strtoll(p, &end, 10);
			if (end == p || errno != 0 || count < 1)
				bad_state_text(whole);
			p = end;
			v = datum_from_text((Oid) a, s);
			if (c->val.typlen == -1)
				v = PointerGetDatum(PG_DETOAST_DATUM(v));
			st = top_append(st, false, c, v, (int64) count);
			if (*p == ',')
				p++;
			else if (*p != ')')
				bad_state_text(whole);
		}
		top_normalize(st, c);
	}
	else
	{
		if (!OidIsValid((Oid) a) || !OidIsValid((Oid) b))
			bad_state_text(whole);
		st = state_new(kind, (Oid) b, (Oid) a, 0, 0);
		c = get_cache(fcinfo, (Oid) b, (Oid) a);
		if (*p != ')')
		{
			char	   *ks = read_quoted(&p, whole);
			char	   *vs;
			Datum		k,
						v;

			if (*p++ != ',')
				bad_state_text(whole);
			vs = read_quoted(&p, whole);
			k = datum_from_text((Oid) a, ks);
			v = datum_from_text((Oid) b, vs);
			if (c->key.typlen == -1)
				k = PointerGetDatum(PG_DETOAST_DATUM(k));
			if (c->val.typlen == -1)
				v = PointerGetDatum(PG_DETOAST_DATUM(v));
			st = pick_set(st, false, c, k, v);
		}
	}
	if (*p != ')' || p[1] != '\0')
		bad_state_text(whole);
	PG_RETURN_POINTER(st);
}

/*
 * send_datum / recv_datum
 *		A datum in the binary form of its type, length-prefixed.
 */
static void
send_datum(StringInfo buf, Oid typid, Datum d)
{
	Oid			sendfn;
	bool		isvarlena;
	bytea	   *b;

	getTypeBinaryOutputInfo(typid, &sendfn, &isvarlena);
	b = OidSendFunctionCall(sendfn, d);
	pq_sendint32(buf, VARSIZE(b) - VARHDRSZ);
	pq_sendbytes(buf, VARDATA(b), VARSIZE(b) - VARHDRSZ);
}

static Datum
recv_datum(StringInfo buf, Oid typid)
{
	Oid			recvfn;
	Oid			ioparam;
	int32		len = pq_getmsgint(buf, 4);
	StringInfoData part;
	Datum		d;

	if (len < 0 || len > buf->len - buf->cursor)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary cdp.dsl_agg_state"),
				 errdetail("A value claims %d bytes.", len)));
	initStringInfo(&part);
	appendBinaryStringInfo(&part, pq_getmsgbytes(buf, len), len);
	getTypeBinaryInputInfo(typid, &recvfn, &ioparam);
	d = OidReceiveFunctionCall(recvfn, &part, ioparam, -1);
	return d;
}

/*
 * cdp_dsl_agg_state_send
 *		Binary form: kind, k, key type, value type, item count, then per
 *		item the key (argmax/argmin) or the count (top) and the value.
 */
Datum
cdp_dsl_agg_state_send(PG_FUNCTION_ARGS)
{
	DslAggState *st = get_state(fcinfo, 0, NULL);
	AggCache   *c = get_cache(fcinfo, st->valtype, st->kind == DA_TOP ? InvalidOid : st->keytype);
	StringInfoData buf;
	const char *p = (const char *) st + DA_HDRSZ;
	int			i;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, st->kind);
	pq_sendint32(&buf, st->k);
	pq_sendint32(&buf, st->keytype);
	pq_sendint32(&buf, st->valtype);
	pq_sendint32(&buf, st->nitems);
	for (i = 0; i < st->nitems; i++)
	{
		if (st->kind == DA_TOP)
		{
			int64		count;

			memcpy(&count, p, sizeof(int64));
			p += MAXALIGN(sizeof(int64));
			pq_sendint64(&buf, count);
		}
		else
			send_datum(&buf, st->keytype, image_read(p, &c->key, &p));
		send_datum(&buf, st->valtype, image_read(p, &c->val, &p));
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * cdp_dsl_agg_state_recv
 *		Read the binary form.
 */
Datum
cdp_dsl_agg_state_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			kind = pq_getmsgbyte(buf);
	int32		k = pq_getmsgint(buf, 4);
	Oid			keytype = pq_getmsgint(buf, 4);
	Oid			valtype = pq_getmsgint(buf, 4);
	int32		n = pq_getmsgint(buf, 4);
	DslAggState *st;
	AggCache   *c;
	int			i;

	if (kind < DA_ARGMAX || kind > DA_TOP || n < 0 || (kind != DA_TOP && n > 1) ||
		(kind == DA_TOP && (k < 1 || k > TOP_MAX_K)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary cdp.dsl_agg_state"),
				 errdetail("The header is inconsistent.")));
	st = state_new(kind, valtype, keytype, k, 0);
	c = get_cache(fcinfo, valtype, kind == DA_TOP ? InvalidOid : keytype);
	for (i = 0; i < n; i++)
	{
		Datum		key = (Datum) 0;
		Datum		v;
		int64		count = 1;

		if (kind == DA_TOP)
			count = pq_getmsgint64(buf);
		else
		{
			key = recv_datum(buf, keytype);
			if (c->key.typlen == -1)
				key = PointerGetDatum(PG_DETOAST_DATUM(key));
		}
		v = recv_datum(buf, valtype);
		if (c->val.typlen == -1)
			v = PointerGetDatum(PG_DETOAST_DATUM(v));
		if (kind == DA_TOP)
			st = top_append(st, false, c, v, count);
		else
			st = pick_set(st, false, c, key, v);
	}
	if (kind == DA_TOP)
		top_normalize(st, c);
	PG_RETURN_POINTER(st);
}
