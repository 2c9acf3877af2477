/*-------------------------------------------------------------------------
 *
 * dsl_fused.c
 *	  Fused measures: cdp.fused_measures(spec, reference, occurred_at,
 *	  VARIADIC values), one aggregate call per activity row that updates
 *	  every simple measure of that activity at once, and
 *	  cdp.fused_value(state, slot, type), which reads one measure out of the
 *	  result.
 *
 * A refresh computes many measures over the rows of one activity: counts,
 * sums, averages, minima and maxima, each with its own condition and time
 * window.  Written as one SQL aggregate per measure, every row pays for
 * every aggregate (a FILTER evaluation, a transition call, numeric
 * arithmetic on palloc'd values).  Here one transition call per row walks
 * the measures ("slots") of a specification and updates a compact state
 * of fixed-size slots in place.
 *
 * The specification is a text constant, "slot;slot;...", each slot
 * "kind,value,condition,window": kind is count, sum, avg, min or max;
 * value is the 1-based position of its value among the variadic
 * arguments (0: count(*)); condition the position of a boolean argument
 * that must be true for the row to count (0: none); window an interval
 * ("30 days") or empty: the row counts when reference - window <
 * occurred_at <= reference, as the measure language's "within" windows.
 * It is parsed once per query and checked against the argument types.
 *
 * Values: counts count rows (or non-NULL values); sums and averages take
 * smallint, integer, bigint or numeric; minima and maxima also date,
 * timestamp and timestamptz.  Results have PostgreSQL's types and values:
 * sum(smallint/integer) is bigint, sum(bigint/numeric) and avg are numeric
 * (avg = sum / count as numeric division, as PostgreSQL computes it), min
 * and max keep their type.  Numeric values are kept exactly as a 128-bit
 * integer with a decimal scale while they have at most 36 digits; a value
 * that does not fit (more digits, NaN, infinity) moves its slot to a
 * numeric kept after the slots, so results stay exact whatever the input.
 *
 * The state, cdp.fused_state, is a plain varlena (not "internal") with a
 * text and a binary form and a combine function, so the aggregate runs in
 * parallel workers; it is self-describing (each slot knows its kind and
 * value type), so combining and reading need no specification.
 *
 * Text form: slots separated by ";", each kind:type:n:value, where n is
 * the number of rows (count) or non-NULL values counted and value the
 * exact sum (sum, avg) or the minimum / maximum (numbers in decimal, dates
 * and timestamps as their internal integer), empty when n is 0 or for
 * count:  sum:numeric:3:123.45;count::5:;max:timestamptz:2:835488000000000
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "catalog/pg_type.h"
#include "common/int.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "nodes/primnodes.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "dsl.h"

#ifndef HAVE_INT128
#error "pg_cdp's fused measures need a compiler with a 128-bit integer type"
#endif

PG_FUNCTION_INFO_V1(cdp_fused_trans);
PG_FUNCTION_INFO_V1(cdp_fused_combine);
PG_FUNCTION_INFO_V1(cdp_fused_value);
PG_FUNCTION_INFO_V1(cdp_fused_state_in);
PG_FUNCTION_INFO_V1(cdp_fused_state_out);
PG_FUNCTION_INFO_V1(cdp_fused_state_recv);
PG_FUNCTION_INFO_V1(cdp_fused_state_send);

/* slot kinds; the numbers are part of the binary form */
#define FK_COUNT 1
#define FK_SUM 2
#define FK_AVG 3
#define FK_MIN 4
#define FK_MAX 5

/* value types; the numbers are part of the binary form */
#define FT_NONE 0				/* count(*) */
#define FT_INT2 1
#define FT_INT4 2
#define FT_INT8 3
#define FT_NUMERIC 4
#define FT_DATE 5
#define FT_TIMESTAMP 6
#define FT_TIMESTAMPTZ 7
#define FT_ANY 8				/* count(value) of any other type */

/* slot flag: the value is a numeric in the tail, acc its offset there */
#define FS_BIG 0x01

/* most slots in one state */
#define FUSED_MAX_SLOTS 1000

/* most decimal digits of a numeric kept as a 128-bit integer */
#define FIXED_MAX_DIGITS 36

static const char *const kind_names[] = {NULL, "count", "sum", "avg", "min", "max"};
static const char *const type_names[] = {"", "smallint", "integer", "bigint", "numeric",
"date", "timestamp", "timestamptz", "any"};

/* one measure of a state: 32 bytes */
typedef struct FusedSlot
{
	uint8		kind;
	uint8		type;
	uint8		flags;
	uint8		pad;
	int32		scale;			/* decimal scale of acc (numeric values) */
	int64		n;				/* rows (count) or non-NULL values counted */
	int128		acc;			/* sum, or minimum / maximum; with FS_BIG the
								 * offset of the numeric in the tail */
} FusedSlot;

/* the state: slots, then the numerics of FS_BIG slots (MAXALIGNed) */
typedef struct FusedState
{
	int32		vl_len_;
	uint16		nslots;
	uint16		version;
	int32		tailsize;		/* bytes after the slots */
	int32		pad;
	FusedSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} FusedState;

#define FUSED_VERSION 1
#define FUSED_TAIL(st) ((char *) &(st)->slots[(st)->nslots])
#define FUSED_SIZE(nslots, tail) (offsetof(FusedState, slots) + sizeof(FusedSlot) * (nslots) + (tail))

/* one slot of a parsed specification */
typedef struct SpecSlot
{
	uint8		kind;
	uint8		type;
	int			arg;			/* variadic value index (0-based), -1: none */
	int			cond;			/* boolean argument index, -1: none */
	int			win;			/* window index, -1: none */
} SpecSlot;

/* a parsed specification, cached in fn_extra */
typedef struct FusedSpec
{
	char	   *text;			/* the specification it was parsed from */
	int			textlen;
	Datum		datum;			/* the argument it was last checked against */
	bool		constant;		/* the aggregate's spec argument is a Const */
	int			nslots;
	SpecSlot   *slots;
	int			nargs;			/* variadic arguments */
	uint8	   *argtype;		/* FT_ of each argument (FT_ANY: other) */
	bool	   *argused;		/* read by some slot as a value */
	int			nwin;
	Interval   *wins;
	bool		have_ref;		/* bounds below are for ref */
	TimestampTz ref;
	TimestampTz *lo;			/* ref - window */
} FusedSpec;

/* a value of the current row, decoded once for all slots */
typedef struct RowValue
{
	bool		isnull;
	bool		fixed;			/* numeric: fval / fscale hold it */
	int64		ival;			/* integer, date or timestamp */
	int128		fval;
	int32		fscale;
	Datum		datum;			/* numeric: the detoasted value */
} RowValue;

/* 10^0 .. 10^38, filled on first use */
static int128 pow10_table[39];

/*
 * pow10_128
 *		10^e as a 128-bit integer, 0 <= e <= 38.
 */
static inline int128
pow10_128(int e)
{
	Assert(e >= 0 && e <= 38);
	if (unlikely(pow10_table[0] == 0))
	{
		int			i;

		pow10_table[0] = 1;
		for (i = 1; i <= 38; i++)
			pow10_table[i] = pow10_table[i - 1] * 10;
	}
	return pow10_table[e];
}

/* ---- numerics ---- */

/*
 * fixed_from_numeric
 *		Read a numeric (detoasted, short or long header) as value * 10^scale
 *		= *val with *scale its display scale.  False for NaN and infinities
 *		and for values of more than FIXED_MAX_DIGITS digits.  The numeric's
 *		stored form (base-10000 digits, weight, display scale; see
 *		numeric.c) is PostgreSQL's on-disk format.
 */
static bool
fixed_from_numeric(Datum d, int128 *val, int32 *scale)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	const char *p = VARDATA_ANY(v);
	int			len = VARSIZE_ANY_EXHDR(v);
	uint16		head;
	int			weight,
				dscale,
				ndigits,
				i;
	bool		neg;
	const char *digits;
	int128		acc = 0;

	if (len < 2)
		return false;
	memcpy(&head, p, sizeof(uint16));
	if ((head & 0xC000) == 0xC000)
		return false;			/* NaN or an infinity */
	if (head & 0x8000)
	{
		/* short form: sign, display scale and weight in the header */
		neg = (head & 0x2000) != 0;
		dscale = (head & 0x1F80) >> 7;
		weight = (head & 0x0040) ? (int) (int16) (0xFFC0 | (head & 0x003F)) : (head & 0x003F);
		digits = p + sizeof(uint16);
		ndigits = (len - sizeof(uint16)) / sizeof(int16);
	}
	else
	{
		int16		w;

		if (len < 4)
			return false;
		neg = (head & 0xC000) == 0x4000;
		dscale = head & 0x3FFF;
		memcpy(&w, p + sizeof(uint16), sizeof(int16));
		weight = w;
		digits = p + 2 * sizeof(uint16);
		ndigits = (len - 2 * sizeof(uint16)) / sizeof(int16);
	}
	if (dscale > FIXED_MAX_DIGITS || (weight >= 0 && (weight + 1) * 4 + dscale > FIXED_MAX_DIGITS))
		return false;
	for (i = 0; i < ndigits; i++)
	{
		int16		dig;
		int			e;

		memcpy(&dig, digits + i * sizeof(int16), sizeof(int16));
		if (dig == 0)
			continue;
		e = 4 * (weight - i) + dscale;
		if (e < 0)
		{
			/* only zeros may lie beyond the display scale */
			if (e < -3 || dig % (int) pow10_128(-e) != 0)
				return false;
			acc += dig / (int) pow10_128(-e);
		}
		else if (e > FIXED_MAX_DIGITS)
			return false;
		else
			acc += (int128) dig * pow10_128(e);
	}
	*val = neg ? -acc : acc;
	*scale = dscale;
	return true;
}

/*
 * int128_text
 *		Decimal text of val / 10^scale with exactly scale fraction digits.
 */
static char *
int128_text(int128 val, int32 scale)
{
	char		buf[64];
	char	   *p = buf + sizeof(buf) - 1;
	bool		neg = val < 0;
	uint128		u = neg ? -(uint128) val : (uint128) val;
	int			digits = 0;

	*p = '\0';
	do
	{
		*--p = '0' + (int) (u % 10);
		u /= 10;
		digits++;
		if (digits == scale)
			*--p = '.';
	} while (u != 0 || digits <= scale);
	if (*p == '.')
		*--p = '0';
	if (neg)
		*--p = '-';
	return pstrdup(p);
}

/*
 * numeric_from_fixed
 *		The numeric val / 10^scale, display scale "scale".
 */
static Numeric
numeric_from_fixed(int128 val, int32 scale)
{
	if (val >= PG_INT64_MIN && val <= PG_INT64_MAX && scale <= 18)
		return int64_div_fast_to_numeric((int64) val, scale);
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(int128_text(val, scale)),
											   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

/*
 * cmp_fixed
 *		Order of a / 10^sa and b / 10^sb.
 */
static int
cmp_fixed(int128 a, int32 sa, int128 b, int32 sb)
{
	int128		t;

	if (sa < sb)
	{
		if (__builtin_mul_overflow(a, pow10_128(sb - sa), &t))
			return a > 0 ? 1 : -1;
		a = t;
	}
	else if (sb < sa)
	{
		if (__builtin_mul_overflow(b, pow10_128(sa - sb), &t))
			return b > 0 ? -1 : 1;
		b = t;
	}
	return (a < b) ? -1 : (a > b) ? 1 : 0;
}

/*
 * add_fixed
 *		*acc / 10^*scale += val / 10^scale; false (nothing changed) when the
 *		sum would not fit.
 */
static bool
add_fixed(int128 *acc, int32 *ascale, int128 val, int32 scale)
{
	int128		a = *acc;
	int32		s = *ascale;
	int128		r;

	if (scale > s)
	{
		if (__builtin_mul_overflow(a, pow10_128(scale - s), &a))
			return false;
		s = scale;
	}
	else if (scale < s)
	{
		if (__builtin_mul_overflow(val, pow10_128(s - scale), &val))
			return false;
	}
	if (__builtin_add_overflow(a, val, &r) || r > pow10_128(38) || r < -pow10_128(38))
		return false;
	*acc = r;
	*ascale = s;
	return true;
}

/* ---- the state ---- */

/*
 * state_new
 *		A state of nslots empty slots (kinds and types from spec, if any).
 */
static FusedState *
state_new(int nslots, const FusedSpec *spec)
{
	Size		size = FUSED_SIZE(nslots, 0);
	FusedState *st = palloc0(size);
	int			i;

	SET_VARSIZE(st, size);
	st->nslots = nslots;
	st->version = FUSED_VERSION;
	if (spec)
		for (i = 0; i < nslots; i++)
		{
			st->slots[i].kind = spec->slots[i].kind;
			st->slots[i].type = spec->slots[i].type;
		}
	return st;
}

/*
 * state_copy
 *		A palloc'd copy of a state.
 */
static FusedState *
state_copy(const FusedState *st)
{
	FusedState *c = palloc(VARSIZE(st));

	memcpy(c, st, VARSIZE(st));
	return c;
}

/*
 * bad_state
 *		Raise the error of an inconsistent state (only a hand-made one).
 */
static void
bad_state(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("invalid cdp.fused_state"),
			 errdetail("%s", detail),
			 errhint("Use the states cdp.fused_measures makes.")));
}

/*
 * get_state
 *		Argument argno as a state (detoasted) after checking its header.
 */
static FusedState *
get_state(FunctionCallInfo fcinfo, int argno)
{
	FusedState *st = (FusedState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(argno));

	if (VARSIZE(st) < offsetof(FusedState, slots) || st->version != FUSED_VERSION ||
		st->tailsize < 0 || VARSIZE(st) != FUSED_SIZE(st->nslots, st->tailsize))
		bad_state("The header does not match the size.");
	return st;
}

/*
 * slot_numeric
 *		The numeric of an FS_BIG slot.
 */
static Numeric
slot_numeric(const FusedState *st, const FusedSlot *s)
{
	return (Numeric) (FUSED_TAIL(st) + (Size) s->acc);
}

/*
 * slot_value_numeric
 *		A slot's sum or minimum / maximum as a numeric (integer values at
 *		scale 0).
 */
static Numeric
slot_value_numeric(const FusedState *st, const FusedSlot *s)
{
	if (s->flags & FS_BIG)
		return slot_numeric(st, s);
	return numeric_from_fixed(s->acc, s->type == FT_NUMERIC ? s->scale : 0);
}

/*
 * state_set_big
 *		A new state like st where slot i holds the numeric num (FS_BIG); the
 *		tail is rebuilt.
 */
static FusedState *
state_set_big(const FusedState *st, int i, Numeric num)
{
	Size		tail = 0;
	int			j;
	FusedState *n;
	char	   *p;

	for (j = 0; j < st->nslots; j++)
	{
		if (j == i)
			tail += MAXALIGN(VARSIZE(num));
		else if (st->slots[j].flags & FS_BIG)
			tail += MAXALIGN(VARSIZE(slot_numeric(st, &st->slots[j])));
	}
	if (FUSED_SIZE(st->nslots, tail) > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("fused measure state too large"),
				 errdetail("The numeric values kept need more than %zu bytes.", (Size) MaxAllocSize),
				 errhint("Compute fewer measures of huge numbers at once.")));
	n = palloc0(FUSED_SIZE(st->nslots, tail));
	SET_VARSIZE(n, FUSED_SIZE(st->nslots, tail));
	n->nslots = st->nslots;
	n->version = FUSED_VERSION;
	n->tailsize = tail;
	memcpy(n->slots, st->slots, sizeof(FusedSlot) * st->nslots);
	p = FUSED_TAIL(n);
	for (j = 0; j < st->nslots; j++)
	{
		Numeric		v = NULL;

		if (j == i)
			v = num;
		else if (st->slots[j].flags & FS_BIG)
			v = slot_numeric(st, &st->slots[j]);
		if (v == NULL)
			continue;
		memcpy(p, v, VARSIZE(v));
		n->slots[j].flags |= FS_BIG;
		n->slots[j].acc = p - FUSED_TAIL(n);
		n->slots[j].scale = 0;
		p += MAXALIGN(VARSIZE(v));
	}
	return n;
}

/*
 * clipped
 *		s for an error message: at most 100 bytes (whole characters), with
 *		"..." when cut.
 */
static char *
clipped(const char *s)
{
	char	   *c = dsl_clip(s, 100);

	return strlen(c) < strlen(s) ? psprintf("%s...", c) : c;
}

/* ---- the specification ---- */

/*
 * bad_spec
 *		Raise the error of a malformed specification.
 */
static void
bad_spec(const char *spec, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid fused measure specification \"%s\"", clipped(spec)),
			 errdetail("%s", detail),
			 errhint("Write slots as kind,value,condition,window separated by \";\", e.g. \"count,0,0,;sum,1,2,30 days\"; kinds are count, sum, avg, min and max.")));
}

/*
 * type_code
 *		The FT_ code of a value type (FT_ANY for types only count takes).
 */
static uint8
type_code(Oid typid)
{
	switch (typid)
	{
		case INT2OID:
			return FT_INT2;
		case INT4OID:
			return FT_INT4;
		case INT8OID:
			return FT_INT8;
		case NUMERICOID:
			return FT_NUMERIC;
		case DATEOID:
			return FT_DATE;
		case TIMESTAMPOID:
			return FT_TIMESTAMP;
		case TIMESTAMPTZOID:
			return FT_TIMESTAMPTZ;
		default:
			return FT_ANY;
	}
}

/*
 * parse_index
 *		A non-negative decimal number at *p (at most 6 digits) up to the
 *		next ','; advances *p past the comma.
 */
static int
parse_index(const char **p, const char *spec)
{
	int			v = 0;
	int			digits = 0;

	while (**p >= '0' && **p <= '9')
	{
		if (++digits > 6)
			bad_spec(spec, "A value or condition position is too large.");
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	if (digits == 0 || **p != ',')
		bad_spec(spec, "Each slot has four fields separated by commas: kind, value, condition, window.");
	(*p)++;
	return v;
}

/*
 * get_spec
 *		The parsed specification of argument 1, cached in fn_extra (parsed
 *		again only when the text differs); checked against the argument
 *		types.
 */
static FusedSpec *
get_spec(FunctionCallInfo fcinfo)
{
	FusedSpec  *fs = (FusedSpec *) fcinfo->flinfo->fn_extra;
	text	   *t;
	char	   *spec;
	int			len;
	MemoryContext old;
	const char *p;
	int			i,
				n;
	int			nargs = PG_NARGS() - 4;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("fused measure specification is null"),
				 errdetail("cdp.fused_measures needs to know which measures to compute."),
				 errhint("Pass a specification such as \"count,0,0,\".")));
	/* a constant specification is the same datum on every row */
	if (fs != NULL && fs->constant && fs->datum == PG_GETARG_DATUM(1))
		return fs;
	t = PG_GETARG_TEXT_PP(1);
	len = VARSIZE_ANY_EXHDR(t);
	if (fs != NULL && fs->textlen == len && memcmp(fs->text, VARDATA_ANY(t), len) == 0)
	{
		fs->datum = PG_GETARG_DATUM(1);
		return fs;
	}

	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	fs = palloc0(sizeof(FusedSpec));
	fs->text = pnstrdup(VARDATA_ANY(t), len);
	fs->textlen = len;
	spec = fs->text;
	if (nargs < 0)
		elog(ERROR, "cdp.fused_measures called with %d arguments", PG_NARGS());
	fs->nargs = nargs;
	fs->argtype = palloc0(Max(nargs, 1));
	fs->argused = palloc0(Max(nargs, 1) * sizeof(bool));
	for (i = 0; i < nargs; i++)
	{
		Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, 4 + i);

		if (!OidIsValid(typid))
			elog(ERROR, "could not determine the argument types of cdp.fused_measures");
		fs->argtype[i] = (typid == BOOLOID) ? FT_ANY : type_code(typid);
	}
	n = 1;
	for (p = spec; *p; p++)
		if (*p == ';')
			n++;
	if (len == 0)
		bad_spec(spec, "The specification is empty.");
	if (n > FUSED_MAX_SLOTS)
		bad_spec(spec, psprintf("At most %d slots are allowed.", FUSED_MAX_SLOTS));
	fs->slots = palloc0(sizeof(SpecSlot) * n);
	fs->wins = palloc0(sizeof(Interval) * n);
	fs->lo = palloc0(sizeof(TimestampTz) * n);
	p = spec;
	for (i = 0; i < n; i++)
	{
		SpecSlot   *s = &fs->slots[i];
		int			k,
					arg,
					cond;
		const char *w;

		for (k = FK_COUNT; k <= FK_MAX; k++)
			if (strncmp(p, kind_names[k], strlen(kind_names[k])) == 0 && p[strlen(kind_names[k])] == ',')
				break;
		if (k > FK_MAX)
			bad_spec(spec, psprintf("Slot %d has an unknown kind.", i + 1));
		s->kind = k;
		p += strlen(kind_names[k]) + 1;
		arg = parse_index(&p, spec);
		cond = parse_index(&p, spec);
		if (arg > nargs || cond > nargs)
			bad_spec(spec, psprintf("Slot %d names argument %d, but only %d values follow the specification.",
									i + 1, Max(arg, cond), nargs));
		if (arg == 0 && k != FK_COUNT)
			bad_spec(spec, psprintf("Slot %d (%s) needs a value.", i + 1, kind_names[k]));
		s->arg = arg - 1;
		s->cond = cond - 1;
		if (cond > 0 && get_fn_expr_argtype(fcinfo->flinfo, 4 + cond - 1) != BOOLOID)
			bad_spec(spec, psprintf("The condition of slot %d, argument %d, is not a boolean.", i + 1, cond));
		s->type = arg > 0 ? fs->argtype[arg - 1] : FT_NONE;
		if (arg > 0)
			fs->argused[arg - 1] = true;
		if ((k == FK_SUM || k == FK_AVG) && !(s->type >= FT_INT2 && s->type <= FT_NUMERIC))
			bad_spec(spec, psprintf("Slot %d: %s takes smallint, integer, bigint or numeric values.", i + 1, kind_names[k]));
		if ((k == FK_MIN || k == FK_MAX) && s->type == FT_ANY)
			bad_spec(spec, psprintf("Slot %d: %s takes numbers, dates and timestamps.", i + 1, kind_names[k]));
		w = p;
		while (*p && *p != ';')
			p++;
		s->win = -1;
		if (p > w)
		{
			char	   *wt = pnstrdup(w, p - w);
			Interval   *iv;
			int			j;

			iv = DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(wt),
													   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
			for (j = 0; j < fs->nwin; j++)
				if (memcmp(&fs->wins[j], iv, sizeof(Interval)) == 0)
					break;
			if (j == fs->nwin)
				fs->wins[fs->nwin++] = *iv;
			s->win = j;
		}
		if (*p == ';')
			p++;
	}
	fs->nslots = n;
	fs->datum = PG_GETARG_DATUM(1);
	{
		Aggref	   *ar = AggGetAggref(fcinfo);

		fs->constant = ar != NULL && ar->args != NIL &&
			IsA(((TargetEntry *) linitial(ar->args))->expr, Const);
	}
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = fs;
	return fs;
}

/* ---- transition ---- */

/*
 * slot_add_numeric
 *		Add the numeric num to a FS_BIG sum (or make the slot big with its
 *		current sum plus num); returns the (possibly new) state.
 */
static FusedState *
slot_add_numeric(FusedState *st, int i, Numeric num)
{
	FusedSlot  *s = &st->slots[i];
	Numeric		cur = slot_value_numeric(st, s);
	Numeric		sum;

	if (s->n == 0)
		sum = num;
	else
		sum = DatumGetNumeric(DirectFunctionCall2(numeric_add, NumericGetDatum(cur), NumericGetDatum(num)));
	return state_set_big(st, i, sum);
}

/*
 * slot_pick_numeric
 *		Minimum / maximum of a slot against the numeric num, kept as a
 *		numeric; returns the (possibly new) state.
 */
static FusedState *
slot_pick_numeric(FusedState *st, int i, Numeric num)
{
	FusedSlot  *s = &st->slots[i];
	int			c;

	if (s->n > 0)
	{
		c = DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(num),
											  NumericGetDatum(slot_value_numeric(st, s))));
		if ((s->kind == FK_MIN) ? c >= 0 : c <= 0)
			return st;			/* the kept value stays */
	}
	return state_set_big(st, i, num);
}

/*
 * slot_update
 *		Count the row value v in slot i of st; returns the state (a new one
 *		when a numeric had to move to the tail).
 */
static FusedState *
slot_update(FusedState *st, int i, const RowValue *v)
{
	FusedSlot  *s = &st->slots[i];

	switch (s->kind)
	{
		case FK_COUNT:
			s->n++;
			return st;
		case FK_SUM:
		case FK_AVG:
			if (s->flags & FS_BIG)
				break;
			if (s->type != FT_NUMERIC)
			{
				int128		r;

				if (!__builtin_add_overflow(s->acc, (int128) v->ival, &r))
				{
					s->acc = r;
					s->n++;
					return st;
				}
			}
			else if (v->fixed && add_fixed(&s->acc, &s->scale, v->fval, v->fscale))
			{
				s->n++;
				return st;
			}
			break;
		case FK_MIN:
		case FK_MAX:
			if (s->flags & FS_BIG)
				break;
			if (s->type != FT_NUMERIC)
			{
				if (s->n == 0 || (s->kind == FK_MIN ? v->ival < s->acc : v->ival > s->acc))
					s->acc = v->ival;
				s->n++;
				return st;
			}
			if (v->fixed)
			{
				int			c = s->n == 0 ? 0 : cmp_fixed(v->fval, v->fscale, s->acc, s->scale);

				/* equal values: the larger display scale, whatever the order */
				if (s->n == 0 || (s->kind == FK_MIN ? c < 0 : c > 0) || (c == 0 && v->fscale > s->scale))
				{
					s->acc = v->fval;
					s->scale = v->fscale;
				}
				s->n++;
				return st;
			}
			break;
	}

	/* the numeric path: a value or a result that does not fit */
	{
		Numeric		num;
		int64		n = s->n;

		if (s->type == FT_NUMERIC)
			num = DatumGetNumeric(v->datum);
		else
			num = int64_to_numeric(v->ival);
		if (s->kind == FK_SUM || s->kind == FK_AVG)
			st = slot_add_numeric(st, i, num);
		else
			st = slot_pick_numeric(st, i, num);
		st->slots[i].n = n + 1;
		return st;
	}
}

/*
 * cdp_fused_trans
 *		Transition of cdp.fused_measures(spec, reference, occurred_at,
 *		VARIADIC values): count the row in every slot whose condition is
 *		true and whose window holds occurred_at.  The state is changed in
 *		place when the executor owns it.
 */
Datum
cdp_fused_trans(PG_FUNCTION_ARGS)
{
	FusedSpec  *fs = get_spec(fcinfo);
	FusedState *st;
	MemoryContext aggctx;
	RowValue	vals[64];
	RowValue   *rv = fs->nargs <= 64 ? vals : palloc(sizeof(RowValue) * fs->nargs);
	bool		have_at = !PG_ARGISNULL(3);
	TimestampTz at = have_at ? PG_GETARG_TIMESTAMPTZ(3) : 0;
	int			i;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cdp.fused_trans called outside an aggregate"),
				 errdetail("It is the transition function of cdp.fused_measures."),
				 errhint("Call the aggregate cdp.fused_measures.")));

	if (PG_ARGISNULL(0))
		st = state_new(fs->nslots, fs);
	else
	{
		Datum		d = PG_GETARG_DATUM(0);

		st = get_state(fcinfo, 0);
		if (st->nslots != fs->nslots)
			bad_state("The state has another number of slots than the specification.");
		/* a state that is not the executor's own (detoasted) is copied */
		if ((Pointer) st != DatumGetPointer(d))
			st = state_copy(st);
	}

	/* the windows' lower bounds for this reference time */
	if (fs->nwin > 0 && !PG_ARGISNULL(2) &&
		(!fs->have_ref || fs->ref != PG_GETARG_TIMESTAMPTZ(2)))
	{
		TimestampTz ref = PG_GETARG_TIMESTAMPTZ(2);

		for (i = 0; i < fs->nwin; i++)
			fs->lo[i] = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
																TimestampTzGetDatum(ref),
																IntervalPGetDatum(&fs->wins[i])));
		fs->ref = ref;
		fs->have_ref = true;
	}

	/* decode the values of this row once */
	for (i = 0; i < fs->nargs; i++)
	{
		RowValue   *v = &rv[i];

		if (!fs->argused[i])
			continue;
		v->isnull = PG_ARGISNULL(4 + i);
		if (v->isnull)
			continue;
		switch (fs->argtype[i])
		{
			case FT_INT2:
				v->ival = PG_GETARG_INT16(4 + i);
				break;
			case FT_INT4:
				v->ival = PG_GETARG_INT32(4 + i);
				break;
			case FT_DATE:
				v->ival = PG_GETARG_DATEADT(4 + i);
				break;
			case FT_INT8:
			case FT_TIMESTAMP:
			case FT_TIMESTAMPTZ:
				v->ival = PG_GETARG_INT64(4 + i);
				break;
			case FT_NUMERIC:
				v->datum = PointerGetDatum(PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(4 + i)));
				v->fixed = fixed_from_numeric(v->datum, &v->fval, &v->fscale);
				if (!v->fixed)
					v->datum = PointerGetDatum(PG_DETOAST_DATUM(PG_GETARG_DATUM(4 + i)));
				break;
			default:
				break;
		}
	}

	for (i = 0; i < fs->nslots; i++)
	{
		const SpecSlot *s = &fs->slots[i];

		if (s->cond >= 0 && (PG_ARGISNULL(4 + s->cond) || !PG_GETARG_BOOL(4 + s->cond)))
			continue;
		if (s->win >= 0 && (!fs->have_ref || PG_ARGISNULL(2) || !have_at ||
							at <= fs->lo[s->win] || at > fs->ref))
			continue;
		if (s->arg >= 0 && rv[s->arg].isnull)
			continue;
		st = slot_update(st, i, s->arg >= 0 ? &rv[s->arg] : NULL);
	}
	PG_RETURN_POINTER(st);
}

/* ---- combine ---- */

/*
 * cdp_fused_combine
 *		Combine two states of the same specification: counts and sums
 *		added, the smaller minimum and the larger maximum kept.
 */
Datum
cdp_fused_combine(PG_FUNCTION_ARGS)
{
	FusedState *a,
			   *b;
	int			i;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	b = get_state(fcinfo, 1);
	if (PG_ARGISNULL(0))
		PG_RETURN_POINTER(state_copy(b));
	a = get_state(fcinfo, 0);
	if (!AggCheckCallContext(fcinfo, NULL) || (Pointer) a != DatumGetPointer(PG_GETARG_DATUM(0)))
		a = state_copy(a);
	if (a->nslots != b->nslots)
		bad_state("The two states have different numbers of slots.");
	for (i = 0; i < a->nslots; i++)
	{
		FusedSlot  *x = &a->slots[i];
		const FusedSlot *y = &b->slots[i];
		int64		n;

		if (x->kind != y->kind || x->type != y->type)
			bad_state("The two states have different measures.");
		if (y->n == 0)
			continue;
		if (pg_add_s64_overflow(x->n, y->n, &n))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("bigint out of range")));
		if (x->kind != FK_COUNT && x->n == 0)
		{
			/* this slot's first values: take the other state's */
			if (y->flags & FS_BIG)
				a = state_set_big(a, i, slot_numeric(b, y));
			else
			{
				x->acc = y->acc;
				x->scale = y->scale;
			}
		}
		else switch (x->kind)
		{
			case FK_COUNT:
				break;
			case FK_SUM:
			case FK_AVG:
				if ((x->flags & FS_BIG) || (y->flags & FS_BIG) ||
					!add_fixed(&x->acc, &x->scale, y->acc, y->scale))
					a = slot_add_numeric(a, i, slot_value_numeric(b, y));
				break;
			case FK_MIN:
			case FK_MAX:
				if ((x->flags & FS_BIG) || (y->flags & FS_BIG))
					a = slot_pick_numeric(a, i, slot_value_numeric(b, y));
				else if (x->type == FT_NUMERIC)
				{
					int			c = cmp_fixed(y->acc, y->scale, x->acc, x->scale);

					if ((x->kind == FK_MIN ? c < 0 : c > 0) || (c == 0 && y->scale > x->scale))
					{
						x->acc = y->acc;
						x->scale = y->scale;
					}
				}
				else if (x->kind == FK_MIN ? y->acc < x->acc : y->acc > x->acc)
					x->acc = y->acc;
				break;
		}
		a->slots[i].n = n;
	}
	PG_RETURN_POINTER(a);
}

/* ---- reading a measure ---- */

/*
 * result_type
 *		The SQL type of a slot's value.
 */
static Oid
result_type(const FusedSlot *s)
{
	static const Oid minmax[] = {InvalidOid, INT2OID, INT4OID, INT8OID, NUMERICOID,
	DATEOID, TIMESTAMPOID, TIMESTAMPTZOID, InvalidOid};

	switch (s->kind)
	{
		case FK_COUNT:
			return INT8OID;
		case FK_SUM:
			return (s->type == FT_INT2 || s->type == FT_INT4) ? INT8OID : NUMERICOID;
		case FK_AVG:
			return NUMERICOID;
		default:
			return minmax[s->type];
	}
}

/*
 * cdp_fused_value
 *		cdp.fused_value(state, slot, type): the value of measure slot (1-based)
 *		of a cdp.fused_measures result, as the type of the third argument
 *		(which must be the slot's type).  A NULL state (the aggregate saw
 *		no row) gives NULL: the SQL that reads a count wraps it in
 *		coalesce(..., 0), as count over no rows is 0.
 */
Datum
cdp_fused_value(PG_FUNCTION_ARGS)
{
	FusedState *st;
	const FusedSlot *s;
	int32		slot;
	Oid			want;

	/* the wanted type, looked up once per call site */
	if (fcinfo->flinfo->fn_extra == NULL)
	{
		Oid		   *w = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(Oid));

		*w = get_fn_expr_argtype(fcinfo->flinfo, 2);
		fcinfo->flinfo->fn_extra = w;
	}
	want = *(Oid *) fcinfo->flinfo->fn_extra;

	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	slot = PG_GETARG_INT32(1);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();		/* no row: the caller coalesces counts to 0 */
	st = get_state(fcinfo, 0);
	if (slot < 1 || slot > st->nslots)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fused measure slot %d does not exist", slot),
				 errdetail("The state has %d slots.", st->nslots),
				 errhint("Slots are numbered from 1 in the order of the specification.")));
	s = &st->slots[slot - 1];
	if (OidIsValid(want) && want != result_type(s))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("fused measure slot %d is of type %s, not %s", slot,
						format_type_be(result_type(s)), format_type_be(want)),
				 errdetail("The third argument names the type of the value read."),
				 errhint("Pass NULL::%s.", format_type_be(result_type(s)))));
	if (s->kind == FK_COUNT)
		PG_RETURN_INT64(s->n);
	if (s->n == 0)
		PG_RETURN_NULL();
	switch (s->kind)
	{
		case FK_SUM:
			if (s->type == FT_INT2 || s->type == FT_INT4)
			{
				if (s->acc < PG_INT64_MIN || s->acc > PG_INT64_MAX)
					ereport(ERROR,
							(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
							 errmsg("bigint out of range")));
				PG_RETURN_INT64((int64) s->acc);
			}
			PG_RETURN_NUMERIC(slot_value_numeric(st, s));
		case FK_AVG:
			PG_RETURN_DATUM(DirectFunctionCall2(numeric_div,
												NumericGetDatum(slot_value_numeric(st, s)),
												NumericGetDatum(int64_to_numeric(s->n))));
		default:
			switch (s->type)
			{
				case FT_INT2:
					PG_RETURN_INT16((int16) s->acc);
				case FT_INT4:
					PG_RETURN_INT32((int32) s->acc);
				case FT_DATE:
					PG_RETURN_DATEADT((DateADT) s->acc);
				case FT_NUMERIC:
					PG_RETURN_NUMERIC(slot_value_numeric(st, s));
				default:
					PG_RETURN_INT64((int64) s->acc);
			}
	}
}

/* ---- text and binary forms ---- */

/*
 * slot_value_text
 *		The text of a slot's value (see the file header), or NULL when it
 *		has none.
 */
static char *
slot_value_text(const FusedState *st, const FusedSlot *s)
{
	if (s->kind == FK_COUNT || s->n == 0)
		return NULL;
	if (s->flags & FS_BIG)
		return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(slot_numeric(st, s))));
	return int128_text(s->acc, s->type == FT_NUMERIC ? s->scale : 0);
}

/*
 * bad_text
 *		Raise the error of malformed text for cdp.fused_state.
 */
static void
bad_text(const char *whole, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type cdp.fused_state: \"%s\"", clipped(whole)),
			 errdetail("%s", detail),
			 errhint("Write slots as kind:type:n:value separated by \";\", e.g. \"count::5:;sum:numeric:3:123.45\".")));
}

/*
 * number_syntax
 *		Whether s is a decimal number (an optional minus sign, digits, an
 *		optional fraction), NaN, Infinity or -Infinity: the values the
 *		output function writes.
 */
static bool
number_syntax(const char *s)
{
	int			digits = 0;

	if (strcmp(s, "NaN") == 0 || strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0)
		return true;
	if (*s == '-')
		s++;
	for (; *s >= '0' && *s <= '9'; s++)
		digits++;
	if (digits == 0)
		return false;
	if (*s == '.')
	{
		s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0' && digits <= 1000;
}

/*
 * set_slot_value
 *		Set slot i of *st from the text of its value (kind, type and n
 *		already set); *st may be replaced.
 */
static void
set_slot_value(FusedState **st, int i, const char *value, const char *whole)
{
	FusedSlot  *s = &(*st)->slots[i];
	Numeric		num;
	int128		v;
	int32		scale;

	if (!number_syntax(value))
		bad_text(whole, psprintf("Slot %d has the value \"%s\", which is not a number.", i + 1, value));
	num = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(value),
											  ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	if (!fixed_from_numeric(NumericGetDatum(num), &v, &scale))
	{
		if (s->type != FT_NUMERIC && s->kind != FK_SUM && s->kind != FK_AVG)
			bad_text(whole, psprintf("Slot %d has a value out of the range of its type.", i + 1));
		*st = state_set_big(*st, i, num);
		return;
	}
	if (s->type != FT_NUMERIC)
	{
		if (scale != 0)
			bad_text(whole, psprintf("Slot %d has a fraction, but its values are whole.", i + 1));
		if ((s->kind == FK_MIN || s->kind == FK_MAX) &&
			(v < PG_INT64_MIN || v > PG_INT64_MAX ||
			 (s->type == FT_INT2 && (v < PG_INT16_MIN || v > PG_INT16_MAX)) ||
			 ((s->type == FT_INT4 || s->type == FT_DATE) && (v < PG_INT32_MIN || v > PG_INT32_MAX))))
			bad_text(whole, psprintf("Slot %d has a value out of the range of its type.", i + 1));
	}
	s->acc = v;
	s->scale = s->type == FT_NUMERIC ? scale : 0;
}

/*
 * kind_type_valid
 *		Whether a slot of this kind may hold values of this type.
 */
static bool
kind_type_valid(int kind, int type)
{
	switch (kind)
	{
		case FK_COUNT:
			return type == FT_NONE || (type >= FT_INT2 && type <= FT_ANY);
		case FK_SUM:
		case FK_AVG:
			return type >= FT_INT2 && type <= FT_NUMERIC;
		case FK_MIN:
		case FK_MAX:
			return type >= FT_INT2 && type <= FT_TIMESTAMPTZ;
	}
	return false;
}

/*
 * cdp_fused_state_out
 *		Text form of a state.
 */
Datum
cdp_fused_state_out(PG_FUNCTION_ARGS)
{
	FusedState *st = get_state(fcinfo, 0);
	StringInfoData out;
	int			i;

	initStringInfo(&out);
	for (i = 0; i < st->nslots; i++)
	{
		const FusedSlot *s = &st->slots[i];
		char	   *v;

		if (s->kind < FK_COUNT || s->kind > FK_MAX || s->type > FT_ANY)
			bad_state("A slot has an unknown kind or type.");
		v = slot_value_text(st, s);
		appendStringInfo(&out, "%s%s:%s:" INT64_FORMAT ":%s", i ? ";" : "", kind_names[s->kind],
						 type_names[s->type], s->n, v ? v : "");
	}
	PG_RETURN_CSTRING(out.data);
}

/*
 * cdp_fused_state_in
 *		Read the text form of a state.
 */
Datum
cdp_fused_state_in(PG_FUNCTION_ARGS)
{
	const char *whole = PG_GETARG_CSTRING(0);
	const char *p = whole;
	FusedState *st;
	int			n = 1,
				i;

	if (*whole == '\0')
		bad_text(whole, "A state has at least one slot.");
	for (p = whole; *p; p++)
		if (*p == ';')
			n++;
	if (n > FUSED_MAX_SLOTS)
		bad_text(whole, psprintf("A state has at most %d slots.", FUSED_MAX_SLOTS));
	st = state_new(n, NULL);
	p = whole;
	for (i = 0; i < n; i++)
	{
		const char *end = strchr(p, ';');
		char	   *field = end ? pnstrdup(p, end - p) : pstrdup(p);
		char	   *parts[4];
		int			np = 0,
					k,
					t;
		char	   *q = field;
		char	   *e;
		long long	cnt;

		parts[np++] = q;
		for (; *q && np <= 4; q++)
			if (*q == ':')
			{
				*q = '\0';
				if (np < 4)
					parts[np] = q + 1;
				np++;
			}
		if (np != 4)
			bad_text(whole, psprintf("Slot %d does not have the four fields kind:type:n:value.", i + 1));
		for (k = FK_COUNT; k <= FK_MAX; k++)
			if (strcmp(parts[0], kind_names[k]) == 0)
				break;
		for (t = FT_NONE; t <= FT_ANY; t++)
			if (strcmp(parts[1], type_names[t]) == 0)
				break;
		if (k > FK_MAX)
			bad_text(whole, psprintf("Slot %d has the unknown kind \"%s\".", i + 1, parts[0]));
		if (t > FT_ANY || !kind_type_valid(k, t))
			bad_text(whole, psprintf("Slot %d (%s) cannot hold values of type \"%s\".", i + 1, parts[0], parts[1]));
		errno = 0;
		cnt = strtoll(parts[2], &e, 10);
		if (e == parts[2] || *e != '\0' || errno != 0 || cnt < 0)
			bad_text(whole, psprintf("Slot %d has the count \"%s\"; counts are whole numbers from 0.", i + 1, parts[2]));
		st->slots[i].kind = k;
		st->slots[i].type = t;
		st->slots[i].n = cnt;
		if (k == FK_COUNT || cnt == 0)
		{
			if (*parts[3] != '\0')
				bad_text(whole, psprintf("Slot %d has a value but %s.", i + 1,
										 k == FK_COUNT ? "counts have none" : "counted no value"));
		}
		else
		{
			if (*parts[3] == '\0')
				bad_text(whole, psprintf("Slot %d counted values but has none.", i + 1));
			set_slot_value(&st, i, parts[3], whole);
		}
		p = end ? end + 1 : p + strlen(p);
	}
	PG_RETURN_POINTER(st);
}

/*
 * cdp_fused_state_send
 *		Binary form: the number of slots, then per slot its kind, type and
 *		count, and its value as text (length -1: none).
 */
Datum
cdp_fused_state_send(PG_FUNCTION_ARGS)
{
	FusedState *st = get_state(fcinfo, 0);
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, st->nslots);
	for (i = 0; i < st->nslots; i++)
	{
		const FusedSlot *s = &st->slots[i];
		char	   *v = slot_value_text(st, s);

		pq_sendbyte(&buf, s->kind);
		pq_sendbyte(&buf, s->type);
		pq_sendint64(&buf, s->n);
		if (v == NULL)
			pq_sendint32(&buf, -1);
		else
		{
			pq_sendint32(&buf, strlen(v));
			pq_sendbytes(&buf, v, strlen(v));
		}
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * cdp_fused_state_recv
 *		Read the binary form.
 */
Datum
cdp_fused_state_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			n = pq_getmsgint(buf, 2);
	FusedState *st;
	int			i;

	if (n < 1 || n > FUSED_MAX_SLOTS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary cdp.fused_state"),
				 errdetail("It claims %d slots.", n)));
	st = state_new(n, NULL);
	for (i = 0; i < n; i++)
	{
		int			k = pq_getmsgbyte(buf);
		int			t = pq_getmsgbyte(buf);
		int64		cnt = pq_getmsgint64(buf);
		int32		len = pq_getmsgint(buf, 4);

		if (k < FK_COUNT || k > FK_MAX || t > FT_ANY || !kind_type_valid(k, t) || cnt < 0 ||
			len < -1 || len > buf->len - buf->cursor ||
			((k == FK_COUNT || cnt == 0) != (len == -1)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid binary cdp.fused_state"),
					 errdetail("Slot %d is inconsistent.", i + 1)));
		st->slots[i].kind = k;
		st->slots[i].type = t;
		st->slots[i].n = cnt;
		if (len >= 0)
		{
			char	   *v = palloc(len + 1);

			memcpy(v, pq_getmsgbytes(buf, len), len);
			v[len] = '\0';
			set_slot_value(&st, i, v, "(binary form)");
		}
	}
	PG_RETURN_POINTER(st);
}
