/*-------------------------------------------------------------------------
 *
 * dsl_compile.c
 *	  Compiler of measure definitions into SQL over the activity table:
 *	  cdp.compile_measure(definition, catalog).
 *
 * Every aggregate of the definition becomes a PostgreSQL aggregate over
 * the rows of one activity, restricted with FILTER (WHERE x.activity =
 * '<name>' AND <condition> AND <window>), so that all measures of all
 * customers can be computed in one scan of cdp.activity x grouped by
 * x.customer_id.  A column c of activity a is the column x."a.c" of the
 * rows the aggregates read: the compiled form lists those columns
 * ("columns": ref -> {activity, column, type}), and the caller reads
 * cdp.activity through a subquery that extracts each of them once per row
 * (cdp._activity_rows_sql), not once per aggregate; occurred_at is the
 * real column.
 * Windows are relative to the parameter $1 (timestamptz).  Functions and
 * operators around aggregates compile to the same SQL functions and
 * operators.  Names are checked against the catalog and types are checked
 * as the SQL would, so that a compiled measure does not fail to plan.
 *
 * The compiled form also describes every aggregate ("aggregates") and
 * the SQL around them ("parts"), so that the refresh can compute the simple
 * aggregates of all measures of an activity in one cdp.fused_measures call
 * (dsl_fused.c) and read them with cdp.fused_value.
 *
 * The value for a customer without any activity ("default") is the
 * definition evaluated with every aggregate replaced by its value over no
 * rows (0 for count, NULL for the others), folded where NULL propagates.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "common/md5.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "dsl.h"

PG_FUNCTION_INFO_V1(cdp_compile_measure);
PG_FUNCTION_INFO_V1(cdp_compile_segment);

/* type categories */
#define TC_NUMERIC 'N'
#define TC_TEXT 'S'
#define TC_BOOL 'B'
#define TC_TIME 'D'
#define TC_UNKNOWN 'U'			/* a string literal or NULL: fits anything */
#define TC_ARRAY 'A'
#define TC_INTERVAL 'I'

typedef struct SqlType
{
	const char *name;			/* SQL spelling */
	char		cat;
	int			rank;			/* numeric widening order */
} SqlType;

/* the column types a catalog may name, and types of results */
static const SqlType types[] = {
	{"smallint", TC_NUMERIC, 1},
	{"integer", TC_NUMERIC, 2},
	{"bigint", TC_NUMERIC, 3},
	{"numeric", TC_NUMERIC, 4},
	{"real", TC_NUMERIC, 5},
	{"double precision", TC_NUMERIC, 6},
	{"text", TC_TEXT, 0},
	{"boolean", TC_BOOL, 0},
	{"timestamptz", TC_TIME, 0},
	{"timestamp", TC_TIME, 0},
	{"date", TC_TIME, 0},
	{"interval", TC_INTERVAL, 0},
	{"unknown", TC_UNKNOWN, 0},
	{NULL, 0, 0}
};

/* other spellings accepted in a catalog */
static const char *const type_aliases[][2] = {
	{"int2", "smallint"}, {"int", "integer"}, {"int4", "integer"},
	{"int8", "bigint"}, {"decimal", "numeric"}, {"float4", "real"},
	{"float8", "double precision"}, {"float", "double precision"},
	{"bool", "boolean"}, {"varchar", "text"}, {"character varying", "text"},
	{"timestamp with time zone", "timestamptz"},
	{"timestamp without time zone", "timestamp"}, {NULL, NULL}
};

#define FUNCTION_HINT "Aggregates: count, sum, avg, min, max, first, last, argmax, argmin, top, exists; functions: days_since, now, coalesce, nullif, abs, round, least, greatest."

/* a compiled expression */
typedef struct CExpr
{
	char	   *sql;
	const SqlType *type;
	const char *array_of;		/* for TC_ARRAY: the element type name */
	char	   *dflt;			/* value over no rows; NULL means SQL NULL */
	bool		has_agg;
	DslNode    *literal;		/* the string literal it is, or NULL */
} CExpr;

typedef struct Compiler
{
	DslLexer	lex;			/* for errors */
	JsonbContainer *catalog;
	List	   *activities;		/* activity names in order of first use */
	const char *act;			/* activity of the aggregate being compiled */
	JsonbContainer *act_columns;	/* its columns (may be NULL) */
	List	   *columns;		/* ColumnRef of every detail column read */
	List	   *windows;		/* "N unit" of every window relative to $1 */
	bool		reference;		/* $1 used outside windows (days_since) */
	/* segments (cdp.compile_segment) */
	bool		segment;		/* compiling a segment predicate */
	JsonbContainer *attributes; /* unified attributes: name -> type */
	JsonbContainer *measures;	/* customer measures: name -> type */
	JsonbContainer *segments;	/* segments: name -> anything */
	char	   *entry;			/* SQL of the entry time ("since entry"), or NULL */
	List	   *aggs;			/* SQL of each aggregate, read as a."agg_<i>" */
	List	   *aggfilters;		/* the condition of each aggregate's rows */
	List	   *correlated;		/* exists() nodes compiled as EXISTS subqueries */
	bool		inline_columns; /* read detail columns from x.detail directly */
	bool		uses_attributes;	/* a unified attribute (or c.customer_id) is read */
	List	   *segrefs;		/* segment names referenced */
	bool		uses_measures;	/* a measure is read */
	bool		unwindowed;		/* an aggregate without a "within" window */
	/* measures: each aggregate described for cdp.fused_measures */
	bool		mark_aggs;		/* write aggregates as markers (see below) */
	List	   *aggdescs;		/* AggDesc of every aggregate, in order */
} Compiler;

/*
 * An aggregate of a measure, described so that the refresh can compute the
 * simple ones (count, sum, avg, min, max) for all measures of an activity
 * in one cdp.fused_measures call.  While compiling a measure, an aggregate
 * is written into the SQL as the marker AGG_MARK <index> AGG_MARK_END; the
 * compiled form then has "select" (markers replaced by the aggregates'
 * SQL) and "parts" (the SQL split at the markers).
 */
typedef struct AggDesc
{
	char	   *sql;			/* the aggregate with its FILTER */
	const char *call;			/* the aggregate without FILTER */
	const char *activity;
	const char *kind;			/* count, sum, avg, min, max; NULL: not fusable */
	char	   *value;			/* SQL of the value over x, NULL for count(*) */
	const char *type;			/* the value's SQL type */
	char	   *condition;		/* SQL condition besides activity and window */
	char	   *window;			/* "N unit" relative to $1, or NULL */
	const char *result;			/* the aggregate's SQL type */
} AggDesc;

#define AGG_MARK '\x01'
#define AGG_MARK_END '\x02'

/* a detail column read by the measure */
typedef struct ColumnRef
{
	char	   *ref;			/* its name in the rows read: "activity.column" */
	const char *activity;
	const char *column;
	const SqlType *type;
} ColumnRef;

static CExpr compile(Compiler *c, DslNode *n);
static CExpr compile_aggregate(Compiler *c, DslNode *n);
static CExpr compile_profile_name(Compiler *c, DslNode *n);
static char *key_list(JsonbContainer *obj, const char *extra);

/*
 * type_by_name
 *		The SqlType of a canonical name, or NULL.
 */
static const SqlType *
type_by_name(const char *name)
{
	int			i;

	for (i = 0; types[i].name; i++)
		if (strcmp(types[i].name, name) == 0)
			return &types[i];
	return NULL;
}

/*
 * error_at
 *		Raise an error at node n (see dsl_error).
 */
static void
error_at(Compiler *c, int sqlstate, DslNode *n, const char *message,
		 const char *detail, const char *hint)
{
	dsl_error(&c->lex, sqlstate, n->pos, n->bpos, message, detail, hint);
}

/* ---- the catalog ---- */

/*
 * bad_catalog
 *		Raise the error of a malformed catalog (22023).
 */
static void
bad_catalog(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid activity catalog"),
			 errdetail("%s", detail),
			 errhint("Describe activities as {\"purchase\": {\"type\": \"purchase\", \"columns\": {\"amount\": \"numeric\"}}}.")));
}

/*
 * object_get
 *		The value under key in a jsonb object container, or NULL.
 */
static JsonbValue *
object_get(JsonbContainer *obj, const char *key)
{
	if (obj == NULL || !JsonContainerIsObject(obj))
		return NULL;
	return getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);
}

/*
 * key_list
 *		The keys of a jsonb object as "a, b, c" (at most 30, then "...").
 */
static char *
key_list(JsonbContainer *obj, const char *extra)
{
	StringInfoData buf;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken r;
	int			n = 0;

	initStringInfo(&buf);
	if (extra)
	{
		appendStringInfoString(&buf, extra);
		n++;
	}
	if (obj == NULL || !JsonContainerIsObject(obj))
		return buf.data;
	it = JsonbIteratorInit(obj);
	while ((r = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (r != WJB_KEY)
			continue;
		if (extra && strlen(extra) == v.val.string.len &&
			memcmp(extra, v.val.string.val, v.val.string.len) == 0)
			continue;
		if (n == 30)
		{
			appendStringInfoString(&buf, ", ...");
			break;
		}
		if (n++ > 0)
			appendStringInfoString(&buf, ", ");
		appendBinaryStringInfo(&buf, v.val.string.val, v.val.string.len);
	}
	return buf.data;
}

/*
 * use_activity
 *		Look activity name up in the catalog (42703 when unknown, at node
 *		n) and make it the current aggregate's activity.
 */
static void
use_activity(Compiler *c, const char *name, DslNode *n)
{
	JsonbValue *a = object_get(c->catalog, name);
	JsonbValue *cols;
	ListCell   *lc;

	if (a == NULL)
		error_at(c, ERRCODE_UNDEFINED_COLUMN, n,
				 psprintf("unknown activity \"%s\"", name),
				 "The catalog does not describe this activity.",
				 psprintf("Known activities: %s.", key_list(c->catalog, NULL)));
	if (a->type != jbvBinary || !JsonContainerIsObject(a->val.binary.data))
		bad_catalog(psprintf("Activity \"%s\" is not described by an object.", name));
	cols = object_get(a->val.binary.data, "columns");
	if (cols != NULL && (cols->type != jbvBinary || !JsonContainerIsObject(cols->val.binary.data)))
		bad_catalog(psprintf("The columns of activity \"%s\" are not an object.", name));
	c->act = name;
	c->act_columns = cols ? cols->val.binary.data : NULL;
	foreach(lc, c->activities)
		if (strcmp(lfirst(lc), name) == 0)
			return;
	c->activities = lappend(c->activities, (char *) name);
}

/*
 * column_type
 *		The SqlType of column col of the current activity, or NULL when the
 *		catalog does not list it; a type the language does not know is a
 *		catalog error.
 */
static const SqlType *
column_type(Compiler *c, const char *col)
{
	JsonbValue *t = object_get(c->act_columns, col);
	char	   *name;
	int			i;
	const SqlType *st;

	if (t == NULL)
		return NULL;
	if (t->type != jbvString)
		bad_catalog(psprintf("The type of column \"%s\" of activity \"%s\" is not a string.", col, c->act));
	name = pnstrdup(t->val.string.val, t->val.string.len);
	for (i = 0; type_aliases[i][0]; i++)
		if (pg_strcasecmp(name, type_aliases[i][0]) == 0)
			name = pstrdup(type_aliases[i][1]);
	for (i = 0; name[i]; i++)
		name[i] = pg_tolower((unsigned char) name[i]);
	st = type_by_name(name);
	if (st == NULL || st->cat == TC_UNKNOWN)
		bad_catalog(psprintf("Column \"%s\" of activity \"%s\" has type \"%s\"; the language knows smallint, integer, bigint, numeric, real, double precision, text, boolean, timestamptz, timestamp and date.", col, c->act, name));
	return st;
}

/* ---- helpers ---- */

/*
 * cexpr
 *		A compiled expression.
 */
static CExpr
cexpr(char *sql, const SqlType *type, char *dflt, bool has_agg)
{
	CExpr		e;

	e.sql = sql;
	e.type = type;
	e.array_of = NULL;
	e.dflt = dflt;
	e.has_agg = has_agg;
	e.literal = NULL;
	return e;
}

/*
 * type_name
 *		The SQL name of an expression's type.
 */
static const char *
type_name(const CExpr *e)
{
	if (e->type->cat == TC_ARRAY)
		return psprintf("%s[]", e->array_of);
	return e->type->name;
}

/*
 * mismatch
 *		A 42804 error at node n: "<what> at position ..." with a hint.
 */
static void
mismatch(Compiler *c, DslNode *n, const char *what, const char *detail, const char *hint)
{
	error_at(c, ERRCODE_DATATYPE_MISMATCH, n, what, detail, hint);
}

static void check_literal(Compiler *c, const CExpr *lit, const SqlType *t);

/*
 * require_cat
 *		Check that e (compiled from n) has category cat; "role" names what
 *		it is used for.  An untyped literal (a string or NULL) must spell a
 *		value of that category and is cast to its usual type, so that the
 *		SQL does not meet an ambiguous function (abs(unknown)).
 */
static void
require_cat(Compiler *c, DslNode *n, CExpr *e, char cat, const char *role)
{
	static const char *const cat_names[] = {"a number", "text", "a boolean", "a timestamp"};
	const char *want;

	if (e->type->cat == cat)
		return;
	if (e->type->cat == TC_UNKNOWN)
	{
		const SqlType *t = type_by_name(cat == TC_NUMERIC ? "numeric" : cat == TC_TEXT ? "text" :
										cat == TC_BOOL ? "boolean" : "timestamptz");

		check_literal(c, e, t);
		e->sql = psprintf("%s::%s", e->sql, t->name);
		if (e->dflt)
			e->dflt = psprintf("%s::%s", e->dflt, t->name);
		e->type = t;
		e->literal = NULL;
		return;
	}
	want = cat == TC_NUMERIC ? cat_names[0] : cat == TC_TEXT ? cat_names[1] :
		cat == TC_BOOL ? cat_names[2] : cat_names[3];
	mismatch(c, n, psprintf("%s needs %s, not %s", role, want, type_name(e)),
			 psprintf("The expression here has type %s.", type_name(e)),
			 cat == TC_NUMERIC ? "sum, avg and arithmetic take numeric columns; count counts any column." :
			 cat == TC_BOOL ? "Conditions are comparisons such as category = 'shoes', joined with and, or, not." :
			 cat == TC_TIME ? "days_since takes a timestamp, e.g. days_since(max(purchase.occurred_at))." :
			 "like and ilike take text.");
}

static bool parse_date(const char *s, int *jd);

/*
 * valid_number
 *		Whether s is a number as SQL reads it: an optional sign, digits
 *		with an optional fraction, an optional exponent (at most 1000).
 */
static bool
valid_number(const char *s)
{
	int			digits = 0;

	while (*s == ' ')
		s++;
	if (*s == '+' || *s == '-')
		s++;
	while (isdigit((unsigned char) *s))
		s++, digits++;
	if (*s == '.')
		for (s++; isdigit((unsigned char) *s); s++)
			digits++;
	if (digits == 0)
		return false;
	if (*s == 'e' || *s == 'E')
	{
		int			e = 0;
		int			ed = 0;

		s++;
		if (*s == '+' || *s == '-')
			s++;
		for (; isdigit((unsigned char) *s); s++, ed++)
			if (e < 100000)
				e = e * 10 + (*s - '0');
		if (ed == 0 || e > 1000)
			return false;
	}
	while (*s == ' ')
		s++;
	return *s == '\0';
}

/*
 * valid_timestamp
 *		Whether s is 'YYYY-MM-DD', optionally followed by a time
 *		" HH:MM[:SS[.fraction]]" (or "T...") and a zone "Z" or "+HH[:MM]".
 */
static bool
valid_timestamp(const char *s)
{
	int			jd;
	char		date[11];

	if (strlen(s) < 10)
		return false;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (!parse_date(date, &jd))
		return false;
	s += 10;
	if (*s == '\0')
		return true;
	if ((*s != ' ' && *s != 'T') || !isdigit((unsigned char) s[1]) ||
		!isdigit((unsigned char) s[2]) || s[3] != ':' ||
		!isdigit((unsigned char) s[4]) || !isdigit((unsigned char) s[5]) ||
		(s[1] - '0') * 10 + (s[2] - '0') > 23 || (s[4] - '0') * 10 + (s[5] - '0') > 59)
		return false;
	s += 6;
	if (*s == ':')
	{
		if (!isdigit((unsigned char) s[1]) || !isdigit((unsigned char) s[2]) ||
			(s[1] - '0') * 10 + (s[2] - '0') > 59)
			return false;
		s += 3;
		if (*s == '.')
		{
			if (!isdigit((unsigned char) s[1]))
				return false;
			for (s++; isdigit((unsigned char) *s); s++)
				;
		}
	}
	if (*s == 'Z')
		s++;
	else if (*s == '+' || *s == '-')
	{
		if (!isdigit((unsigned char) s[1]) || !isdigit((unsigned char) s[2]) ||
			(s[1] - '0') * 10 + (s[2] - '0') > 15)
			return false;
		s += 3;
		if (*s == ':')
		{
			if (!isdigit((unsigned char) s[1]) || !isdigit((unsigned char) s[2]) ||
				(s[1] - '0') * 10 + (s[2] - '0') > 59)
				return false;
			s += 3;
		}
	}
	return *s == '\0';
}

/*
 * check_literal
 *		A string literal (lit, compiled from a DN_STRING) used as a value of
 *		type t must spell one: a number, a timestamp; text takes anything.
 *		Otherwise a 42804 error at the literal.
 */
static void
check_literal(Compiler *c, const CExpr *lit, const SqlType *t)
{
	DslNode    *n = lit->literal;

	if (n == NULL)
		return;
	if (t->cat == TC_NUMERIC && !valid_number(n->str))
		mismatch(c, n, "string is not a number",
				 psprintf("The string '%s' is compared with or used as %s.", dsl_clip(n->str, 40), t->name),
				 "Write numbers without quotes, e.g. amount > 10.");
	if (t->cat == TC_TIME && !valid_timestamp(n->str))
		mismatch(c, n, "string is not a date or timestamp",
				 psprintf("The string '%s' is compared with or used as %s.", dsl_clip(n->str, 40), t->name),
				 "Write dates as '2026-01-31' and timestamps as '2026-01-31 14:30:00+00'.");
	if (t->cat == TC_BOOL)
		mismatch(c, n, "string used as a boolean",
				 psprintf("The string '%s' is compared with or used as a boolean.", dsl_clip(n->str, 40)),
				 "Write true or false without quotes.");
}

/*
 * common_type
 *		The type two expressions compared or combined have in common, or
 *		a 42804 error at n.  A string literal must spell a value of the
 *		other side's type.
 */
static const SqlType *
common_type(Compiler *c, DslNode *n, const CExpr *a, const CExpr *b, const char *role)
{
	if (a->type->cat == TC_UNKNOWN)
	{
		check_literal(c, a, b->type);
		return b->type;
	}
	if (b->type->cat == TC_UNKNOWN)
	{
		check_literal(c, b, a->type);
		return a->type;
	}
	if (a->type->cat == TC_ARRAY || b->type->cat == TC_ARRAY)
		mismatch(c, n, psprintf("%s cannot use an array", role),
				 "top returns an array of values.",
				 "Use top only as a measure of its own.");
	if (a->type->cat != b->type->cat)
		mismatch(c, n, psprintf("%s mixes %s and %s", role, type_name(a), type_name(b)),
				 "Both sides must be numbers, texts, booleans or timestamps alike.",
				 "Compare a column with a value of its type, e.g. amount > 10 or category = 'shoes'.");
	if (a->type->cat == TC_NUMERIC)
		return (a->type->rank >= b->type->rank) ? a->type : b->type;
	if (a->type->cat == TC_TIME && a->type != b->type)
		return type_by_name("timestamptz");
	return a->type;
}

/*
 * number_type
 *		The type of a number literal: integer, bigint or numeric.
 */
static const SqlType *
number_type(const char *s)
{
	if (strspn(s, "0123456789") == strlen(s))
	{
		size_t		len = strlen(s);

		while (len > 1 && *s == '0')
		{
			s++;
			len--;
		}
		if (len < 10 || (len == 10 && strcmp(s, "2147483647") <= 0))
			return type_by_name("integer");
		if (len < 19 || (len == 19 && strcmp(s, "9223372036854775807") <= 0))
			return type_by_name("bigint");
	}
	return type_by_name("numeric");
}

/*
 * strict_default
 *		The default of an expression that is NULL when any operand is: NULL
 *		if one of d1, d2 is NULL, else the formatted text.
 */
static char *
strict_default(const char *fmt, const char *op, char *d1, char *d2, bool two)
{
	if (d1 == NULL || (two && d2 == NULL))
		return NULL;
	return two ? psprintf(fmt, d1, op, d2) : psprintf(fmt, op, d1);
}

/* ---- windows ---- */

/*
 * parse_date
 *		Read 'YYYY-MM-DD' into a Julian day; false if s is not a valid
 *		date in that form.
 */
static bool
parse_date(const char *s, int *jd)
{
	int			y,
				m,
				d,
				y2,
				m2,
				d2;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
		strspn(s, "0123456789") != 4 || strspn(s + 5, "0123456789") != 2 ||
		strspn(s + 8, "0123456789") != 2)
		return false;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > 31)
		return false;
	*jd = date2j(y, m, d);
	j2date(*jd, &y2, &m2, &d2);
	return y2 == y && m2 == m && d2 == d;
}

/*
 * window_sql
 *		The condition of an aggregate's window.
 */
static char *
window_sql(Compiler *c, DslNode *n)
{
	int			from,
				to,
				y,
				m,
				d;

	if (n->wsince)
	{
		if (c->entry == NULL)
			dsl_error(&c->lex, ERRCODE_SYNTAX_ERROR, n->wpos, n->wbpos, "\"since entry\" is only valid in journey conditions",
					  "Only a journey member has an entry time.",
					  "Use a window such as \"within 30 days\" here.");
		return psprintf("x.occurred_at >= (%s) AND x.occurred_at <= $1", c->entry);
	}
	if (n->wunit)
	{
		char	   *w = psprintf(INT64_FORMAT " %s", n->wn, n->wunit);
		ListCell   *lc;

		foreach(lc, c->windows)
			if (strcmp(lfirst(lc), w) == 0)
				break;
		if (lc == NULL)
			c->windows = lappend(c->windows, w);
		return psprintf("x.occurred_at > $1 - interval '%s' AND x.occurred_at <= $1", w);
	}
	if (!parse_date(n->wfrom, &from) || !parse_date(n->wto, &to))
		dsl_error(&c->lex, ERRCODE_SYNTAX_ERROR, n->wpos, n->wbpos, "invalid window",
				  "The bounds of a window are dates written as 'YYYY-MM-DD'.",
				  "Write a window as \"between '2026-01-01' and '2026-06-30'\" (both days included).");
	if (from > to)
		dsl_error(&c->lex, ERRCODE_SYNTAX_ERROR, n->wpos, n->wbpos, "invalid window",
				  "The window ends before it starts.",
				  "Write the earlier date first: between '2026-01-01' and '2026-06-30'.");
	j2date(to + 1, &y, &m, &d);
	return psprintf("x.occurred_at >= date '%s' AND x.occurred_at < date '%04d-%02d-%02d'",
					n->wfrom, y, m, d);
}

/* ---- aggregates ---- */

/*
 * find_activity
 *		The first qualifier of a column reference under n (not descending
 *		into calls' filters), or NULL.
 */
static DslNode *
find_activity(DslNode *n)
{
	ListCell   *lc;
	DslNode    *r;

	if (n == NULL)
		return NULL;
	if (n->kind == DN_COLUMN)
		return n->qualifier ? n : NULL;
	if ((r = find_activity(n->left)) != NULL || (r = find_activity(n->right)) != NULL ||
		(r = find_activity(n->third)) != NULL)
		return r;
	foreach(lc, n->args)
		if ((r = find_activity(lfirst(lc))) != NULL)
			return r;
	return NULL;
}

/*
 * segment_aggregate
 *		In a segment, an aggregate is computed per customer in a grouped
 *		subquery "a" (c->aggs) and read as a."agg_<i>", with its value over no
 *		rows for customers the subquery does not have.  Equal aggregates
 *		are computed once.  The condition of its rows ("filter") is kept
 *		too, so that the grouped subquery reads only rows some aggregate
 *		uses.
 */
static CExpr
segment_aggregate(Compiler *c, CExpr r, const char *filter)
{
	ListCell   *lc;
	int			i = -1;
	char	   *col;

	foreach(lc, c->aggs)
		if (strcmp(lfirst(lc), r.sql) == 0)
		{
			i = foreach_current_index(lc);
			break;
		}
	if (i < 0)
	{
		c->aggs = lappend(c->aggs, r.sql);
		c->aggfilters = lappend(c->aggfilters, pstrdup(filter));
		i = list_length(c->aggs) - 1;
	}
	col = psprintf("a.agg_%d", i + 1);
	r.sql = r.dflt ? psprintf("coalesce(%s, %s)", col, r.dflt) : col;
	r.has_agg = true;
	return r;
}

/*
 * compile_exists
 *		exists(activity [where condition] [window]): whether the customer
 *		has such a row, i.e. count(...) > 0.
 */
static CExpr
compile_exists(Compiler *c, DslNode *n)
{
	DslNode		count = *n;
	CExpr		r;

	if (list_member_ptr(c->correlated, n))
	{
		/* a probe of the customer's activities (index on customer_id) */
		DslNode    *a = linitial(n->args);
		StringInfoData buf;

		if (c->act != NULL)
			error_at(c, ERRCODE_SYNTAX_ERROR, n, "aggregate inside an aggregate",
					 "exists is used inside the condition of another aggregate.",
					 "Combine aggregates with operators instead.");
		use_activity(c, a->str, a);
		c->uses_attributes = true;	/* the probe starts from c.customer_id */
		initStringInfo(&buf);
		appendStringInfo(&buf, "EXISTS (SELECT 1 FROM cdp.activity x WHERE x.customer_id = c.customer_id "
						 "AND x.activity = %s", quote_literal_cstr(c->act));
		c->inline_columns = true;
		if (n->filter)
		{
			CExpr		f = compile(c, n->filter);

			require_cat(c, n->filter, &f, TC_BOOL, "a condition");
			appendStringInfo(&buf, " AND %s", f.sql);
		}
		if (n->has_window)
			appendStringInfo(&buf, " AND %s", window_sql(c, n));
		appendStringInfoChar(&buf, ')');
		c->inline_columns = false;
		c->act = NULL;
		c->act_columns = NULL;
		return cexpr(buf.data, type_by_name("boolean"), NULL, false);
	}

	count.str = "count";
	r = compile_aggregate(c, &count);
	return cexpr(psprintf("(%s > 0)", r.sql), type_by_name("boolean"),
				 r.dflt ? psprintf("(%s > 0)", r.dflt) : NULL, r.has_agg);
}

/*
 * compile_aggregate
 *		An aggregate call: the activity, its arguments, the condition and
 *		the window into "agg(...) FILTER (WHERE ...)".
 */
static CExpr
compile_aggregate(Compiler *c, DslNode *n)
{
	const char *name = n->str;
	int			nargs = list_length(n->args);
	DslNode    *first = nargs > 0 ? linitial(n->args) : NULL;
	DslNode    *actnode;
	CExpr		v = {0},
				k = {0},
				r;
	StringInfoData filt;
	StringInfoData cond;
	char	   *wname = NULL;
	const char *agg_sql = NULL;
	const char *fkind = NULL;	/* its kind for cdp.fused_measures */
	bool		count_rows = false;
	int			want_args = (strcmp(name, "argmax") == 0 || strcmp(name, "argmin") == 0 ||
							 strcmp(name, "top") == 0) ? 2 : 1;

	if (c->act != NULL)
		error_at(c, ERRCODE_SYNTAX_ERROR, n, "aggregate inside an aggregate",
				 psprintf("%s is used inside the arguments or the condition of another aggregate.", name),
				 "Combine aggregates with operators instead, e.g. sum(loyalty.points_earned) - sum(loyalty.points_redeemed).");
	if (nargs != want_args)
		error_at(c, ERRCODE_UNDEFINED_FUNCTION, n,
				 psprintf("%s takes %d argument%s, not %d", name, want_args, want_args == 1 ? "" : "s", nargs),
				 "The number of arguments does not match the aggregate.",
				 want_args == 1 ? psprintf("Write e.g. %s(purchase.amount).", name) :
				 strcmp(name, "top") == 0 ? "Write e.g. top(purchase.category, 3)." :
				 psprintf("Write e.g. %s(purchase.product, purchase.amount).", name));
	if (n->distinct && strcmp(name, "count") != 0)
		error_at(c, ERRCODE_SYNTAX_ERROR, n, "distinct is only allowed in count",
				 psprintf("%s(distinct ...) is not part of the language.", name),
				 "Write count(distinct purchase.product).");

	/* the activity: count(activity) or the first qualified column */
	if (strcmp(name, "count") == 0 && first->kind == DN_COLUMN && first->qualifier == NULL)
	{
		if (n->distinct)
			error_at(c, ERRCODE_SYNTAX_ERROR, first, "count(distinct) needs a column",
					 "count(distinct activity) would count one row per activity.",
					 "Write count(distinct purchase.product).");
		use_activity(c, first->str, first);
		count_rows = true;
	}
	else
	{
		actnode = find_activity(first);
		if (actnode == NULL)
			error_at(c, ERRCODE_SYNTAX_ERROR, first, "aggregate without an activity",
					 psprintf("The argument of %s names no activity.", name),
					 psprintf("Qualify the column with its activity, e.g. %s(purchase.amount).", name));
		use_activity(c, actnode->qualifier, actnode);
		v = compile(c, first);
		if (want_args == 2)
		{
			DslNode    *second = lsecond(n->args);

			if (strcmp(name, "top") == 0)
			{
				long		kv;
				char	   *end;

				if (second->kind != DN_NUMBER || strspn(second->str, "0123456789") != strlen(second->str) ||
					(errno = 0, kv = strtol(second->str, &end, 10), errno != 0) || kv < 1 || kv > 10000)
					error_at(c, ERRCODE_SYNTAX_ERROR, second, "invalid count of top values",
							 "The second argument of top is a whole number from 1 to 10000.",
							 "Write e.g. top(purchase.category, 3).");
				k = cexpr(second->str, type_by_name("integer"), second->str, false);
			}
			else
			{
				k = compile(c, second);
				if (k.type->cat == TC_ARRAY || k.type->cat == TC_UNKNOWN)
					mismatch(c, second, psprintf("%s needs a key with an order", name),
							 psprintf("The key has type %s.", type_name(&k)),
							 psprintf("Write e.g. %s(purchase.product, purchase.amount).", name));
			}
		}
	}

	/* the condition */
	initStringInfo(&filt);
	initStringInfo(&cond);
	appendStringInfo(&filt, "x.activity = %s", quote_literal_cstr(c->act));
	if (n->filter)
	{
		CExpr		f = compile(c, n->filter);

		require_cat(c, n->filter, &f, TC_BOOL, "a condition");
		appendStringInfo(&filt, " AND %s", f.sql);
		appendStringInfoString(&cond, f.sql);
	}
	if (n->has_window)
	{
		char	   *w = window_sql(c, n);

		appendStringInfo(&filt, " AND %s", w);
		if (n->wunit && !n->wsince)
			wname = psprintf(INT64_FORMAT " %s", n->wn, n->wunit);
		else
			appendStringInfo(&cond, "%s%s", cond.len ? " AND " : "", w);
	}

	if (!count_rows && (v.type->cat == TC_ARRAY || v.type->cat == TC_UNKNOWN))
		mismatch(c, first, psprintf("%s needs a column, not %s", name, type_name(&v)),
				 psprintf("The argument has type %s.", type_name(&v)),
				 psprintf("Write e.g. %s(purchase.amount).", name));

	if (strcmp(name, "count") == 0)
	{
		agg_sql = count_rows ? "count(*)" :
			n->distinct ? psprintf("cdp.count_distinct(%s)", v.sql) :
			psprintf("count(%s)", v.sql);
		if (!n->distinct)
			fkind = "count";
		r = cexpr(NULL, type_by_name("bigint"), "0", true);
	}
	else if (strcmp(name, "sum") == 0 || strcmp(name, "avg") == 0)
	{
		const char *rt;

		require_cat(c, first, &v, TC_NUMERIC, name);
		if (strcmp(name, "sum") == 0)
			rt = v.type->rank <= 2 ? "bigint" : v.type->rank <= 4 ? "numeric" : v.type->name;
		else
			rt = v.type->rank <= 4 ? "numeric" : "double precision";
		agg_sql = psprintf("%s(%s)", name, v.sql);
		if (v.type->rank <= 4)
			fkind = name;
		r = cexpr(NULL, type_by_name(rt), NULL, true);
	}
	else if (strcmp(name, "min") == 0 || strcmp(name, "max") == 0)
	{
		if (v.type->cat == TC_BOOL)
			mismatch(c, first, psprintf("%s cannot take a boolean", name),
					 "PostgreSQL has no min or max of booleans.",
					 "Count the true rows instead: count(activity where flag = true).");
		agg_sql = psprintf("%s(%s)", name, v.sql);
		if ((v.type->cat == TC_NUMERIC && v.type->rank <= 4) || v.type->cat == TC_TIME)
			fkind = name;
		r = cexpr(NULL, v.type, NULL, true);
	}
	else if (strcmp(name, "first") == 0 || strcmp(name, "last") == 0)
	{
		if (strcmp(v.sql, "x.occurred_at") == 0)
		{
			/* the time of the first / last row: a plain min / max */
			fkind = strcmp(name, "first") == 0 ? "min" : "max";
			agg_sql = psprintf("%s(x.occurred_at)", fkind);
		}
		else
			agg_sql = psprintf("cdp.%s(%s, x.occurred_at)",
							   strcmp(name, "first") == 0 ? "argmin" : "argmax", v.sql);
		r = cexpr(NULL, v.type, NULL, true);
	}
	else if (strcmp(name, "argmax") == 0 || strcmp(name, "argmin") == 0)
	{
		agg_sql = psprintf("cdp.%s(%s, %s)", name, v.sql, k.sql);
		r = cexpr(NULL, v.type, NULL, true);
	}
	else						/* top */
	{
		static const SqlType array_type = {"array", TC_ARRAY, 0};

		agg_sql = psprintf("cdp.top(%s, %s)", v.sql, k.sql);
		r = cexpr(NULL, &array_type, NULL, true);
		r.array_of = v.type->name;
	}
	r.sql = psprintf("%s FILTER (WHERE %s)", agg_sql, filt.data);
	if (c->mark_aggs)
	{
		AggDesc    *d = palloc0(sizeof(AggDesc));

		d->sql = r.sql;
		d->call = agg_sql;
		d->activity = c->act;
		d->kind = fkind;
		d->value = count_rows ? NULL : v.sql;
		d->type = count_rows ? NULL : v.type->name;
		d->condition = cond.len ? cond.data : NULL;
		d->window = wname;
		d->result = type_name(&r);
		c->aggdescs = lappend(c->aggdescs, d);
		r.sql = psprintf("%c%d%c", AGG_MARK, list_length(c->aggdescs) - 1, AGG_MARK_END);
	}
	c->act = NULL;
	c->act_columns = NULL;
	if (!(n->has_window && n->wunit))
		c->unwindowed = true;
	if (c->segment)
		r = segment_aggregate(c, r, filt.data);
	return r;
}

/* ---- functions ---- */

/*
 * compile_function
 *		days_since, coalesce, nullif, abs, round, least, greatest.
 */
static CExpr
compile_function(Compiler *c, DslNode *n)
{
	const char *name = n->str;
	int			nargs = list_length(n->args);
	CExpr	   *a;
	ListCell   *lc;
	int			i = 0;
	bool		has_agg = false;
	StringInfoData sql;
	StringInfoData dflt;
	int			ndflt = 0;
	const SqlType *t;
	int			minargs,
				maxargs;

	if (strcmp(name, "now") == 0)
		minargs = maxargs = 0;
	else if (strcmp(name, "days_since") == 0 || strcmp(name, "abs") == 0)
		minargs = maxargs = 1;
	else if (strcmp(name, "round") == 0)
		minargs = 1, maxargs = 2;
	else if (strcmp(name, "nullif") == 0)
		minargs = maxargs = 2;
	else if (strcmp(name, "coalesce") == 0 || strcmp(name, "least") == 0 ||
			 strcmp(name, "greatest") == 0)
		minargs = 1, maxargs = 100;
	else
		error_at(c, ERRCODE_UNDEFINED_FUNCTION, n,
				 psprintf("unknown function \"%s\"", name),
				 "The language has no function or aggregate of this name.",
				 FUNCTION_HINT);
	if (nargs < minargs || nargs > maxargs)
		error_at(c, ERRCODE_UNDEFINED_FUNCTION, n,
				 psprintf("%s takes %d%s argument%s, not %d", name, minargs,
						  maxargs > minargs ? (maxargs == 2 ? " or 2" : " or more") : "",
						  maxargs == 1 ? "" : "s", nargs),
				 "The number of arguments does not match the function.",
				 FUNCTION_HINT);
	if (n->distinct || n->filter)
		error_at(c, ERRCODE_SYNTAX_ERROR, n,
				 psprintf("%s is not an aggregate", name),
				 "Only aggregates take distinct or a where condition.",
				 "Put distinct and the condition inside the aggregate: count(distinct purchase.product where channel = 'web').");

	if (nargs == 0)
	{
		/* now(): the reference time */
		c->reference = true;
		return cexpr(pstrdup("$1::timestamptz"), type_by_name("timestamptz"), pstrdup("$1::timestamptz"), false);
	}
	a = palloc(sizeof(CExpr) * nargs);
	foreach(lc, n->args)
	{
		a[i] = compile(c, lfirst(lc));
		has_agg |= a[i].has_agg;
		i++;
	}
	initStringInfo(&sql);
	initStringInfo(&dflt);

	if (strcmp(name, "days_since") == 0)
	{
		require_cat(c, linitial(n->args), &a[0], TC_TIME, "days_since");
		c->reference = true;
		return cexpr(psprintf("floor(extract(epoch FROM $1 - (%s)::timestamptz) / 86400)::integer", a[0].sql),
					 type_by_name("integer"),
					 a[0].dflt ? psprintf("floor(extract(epoch FROM $1 - (%s)::timestamptz) / 86400)::integer", a[0].dflt) : NULL,
					 has_agg);
	}
	if (strcmp(name, "abs") == 0)
	{
		require_cat(c, linitial(n->args), &a[0], TC_NUMERIC, "abs");
		t = a[0].type->cat == TC_UNKNOWN ? type_by_name("numeric") : a[0].type;
		return cexpr(psprintf("abs(%s)", a[0].sql), t,
					 a[0].dflt ? psprintf("abs(%s)", a[0].dflt) : NULL, has_agg);
	}
	if (strcmp(name, "round") == 0)
	{
		require_cat(c, linitial(n->args), &a[0], TC_NUMERIC, "round");
		if (nargs == 1)
			return cexpr(psprintf("round(%s)", a[0].sql),
						 a[0].type->rank >= 5 ? a[0].type : type_by_name("numeric"),
						 a[0].dflt ? psprintf("round(%s)", a[0].dflt) : NULL, has_agg);
		if (a[1].type->cat != TC_NUMERIC || a[1].type->rank > 3)
			mismatch(c, lsecond(n->args), "round needs a whole number of digits",
					 psprintf("The second argument has type %s.", type_name(&a[1])),
					 "Write e.g. round(avg(purchase.amount), 2).");
		return cexpr(psprintf("round((%s)::numeric, %s)", a[0].sql, a[1].sql),
					 type_by_name("numeric"),
					 (a[0].dflt && a[1].dflt) ? psprintf("round((%s)::numeric, %s)", a[0].dflt, a[1].dflt) : NULL,
					 has_agg);
	}

	/* coalesce, nullif, least, greatest: a common type */
	t = a[0].type;
	for (i = 1; i < nargs; i++)
	{
		CExpr		tmp = a[0];

		tmp.type = t;
		t = common_type(c, list_nth(n->args, i), &tmp, &a[i], name);
	}
	if (t->cat == TC_ARRAY)
		mismatch(c, n, psprintf("%s cannot use an array", name), "top returns an array of values.",
				 "Use top only as a measure of its own.");
	appendStringInfo(&sql, "%s(", name);
	appendStringInfo(&dflt, "%s(", name);
	for (i = 0; i < nargs; i++)
	{
		appendStringInfo(&sql, "%s%s", i ? ", " : "", a[i].sql);
		if (strcmp(name, "nullif") == 0)
			appendStringInfo(&dflt, "%s%s", i ? ", " : "", a[i].dflt ? a[i].dflt : "NULL");
		else if (a[i].dflt)
			appendStringInfo(&dflt, "%s%s", ndflt++ ? ", " : "", a[i].dflt);
	}
	appendStringInfoChar(&sql, ')');
	appendStringInfoChar(&dflt, ')');
	if (strcmp(name, "nullif") == 0)
		return cexpr(sql.data, a[0].type->cat == TC_UNKNOWN ? t : a[0].type,
					 a[0].dflt ? dflt.data : NULL, has_agg);
	/* coalesce, least, greatest ignore NULL arguments */
	if (ndflt == 1)
	{
		for (i = 0; i < nargs; i++)
			if (a[i].dflt)
				return cexpr(sql.data, t, a[i].dflt, has_agg);
	}
	return cexpr(sql.data, t, ndflt == 0 ? NULL : dflt.data, has_agg);
}

/* ---- expressions ---- */

/*
 * column_ref
 *		The name under which column col of the current activity is read,
 *		recorded in c->columns: "activity.column", or, when that would not
 *		fit in an identifier, "d." followed by an MD5 of the two names.
 */
static const char *
column_ref(Compiler *c, const char *col, const SqlType *t)
{
	ListCell   *lc;
	ColumnRef  *r;
	char	   *ref = psprintf("%s.%s", c->act, col);

	if (strlen(ref) >= NAMEDATALEN)
	{
		char		hex[33];
		const char *errstr = NULL;
		char	   *both = psprintf("%s%c%s", c->act, '\x1f', col);

		if (!pg_md5_hash(both, strlen(both), hex, &errstr))
			elog(ERROR, "could not compute an MD5 hash: %s", errstr);
		ref = psprintf("d.%s", hex);
	}
	foreach(lc, c->columns)
	{
		r = lfirst(lc);
		if (strcmp(r->ref, ref) == 0)
			return r->ref;
	}
	r = palloc(sizeof(ColumnRef));
	r->ref = ref;
	r->activity = c->act;
	r->column = pstrdup(col);
	r->type = t;
	c->columns = lappend(c->columns, r);
	return ref;
}

/*
 * edit_distance
 *		Levenshtein distance of two short names (bytes), for suggestions.
 */
static int
edit_distance(const char *a, const char *b)
{
	int			la = Min(strlen(a), 100);
	int			lb = Min(strlen(b), 100);
	int			row[101];
	int			i,
				j;

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++)
	{
		int			diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++)
		{
			int			up = row[j];
			int			best = diag + (a[i - 1] == b[j - 1] ? 0 : 1);

			best = Min(best, up + 1);
			best = Min(best, row[j - 1] + 1);
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/*
 * closest_in
 *		Update *best / *bestd with the key of obj closest to name.
 */
static void
closest_in(JsonbContainer *obj, const char *name, char **best, int *bestd)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken r;

	if (obj == NULL || !JsonContainerIsObject(obj))
		return;
	it = JsonbIteratorInit(obj);
	while ((r = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *k;
		int			d;

		if (r != WJB_KEY)
			continue;
		k = pnstrdup(v.val.string.val, v.val.string.len);
		d = edit_distance(name, k);
		if (d < *bestd || (d == *bestd && *best && strcmp(k, *best) < 0))
		{
			*bestd = d;
			*best = k;
		}
	}
}

/*
 * suggestion
 *		A hint naming the known name closest to name among attributes,
 *		measures, activities and segments (or listing what is known).
 */
static char *
suggestion(Compiler *c, const char *name)
{
	char	   *best = NULL;
	int			bestd = INT_MAX;

	closest_in(c->attributes, name, &best, &bestd);
	closest_in(c->measures, name, &best, &bestd);
	closest_in(c->catalog, name, &best, &bestd);
	closest_in(c->segments, name, &best, &bestd);
	if (best != NULL && bestd <= Max(2, (int) strlen(name) / 3))
		return psprintf("Did you mean \"%s\"? Names are unified attributes (%s), measures (%s), activities in aggregates, and segment 'name'.",
						best, key_list(c->attributes, NULL), key_list(c->measures, NULL));
	return psprintf("Names are unified attributes (%s), measures (%s), activities in aggregates, and segment 'name'.",
					key_list(c->attributes, NULL), key_list(c->measures, NULL));
}

/*
 * catalog_type
 *		The SqlType of a catalog entry (a type name string), or a catalog
 *		error naming what.
 */
static const SqlType *
catalog_type(JsonbValue *t, const char *what)
{
	char	   *name;
	int			i;
	const SqlType *st;

	if (t->type != jbvString)
		bad_catalog(psprintf("The type of %s is not a string.", what));
	name = pnstrdup(t->val.string.val, t->val.string.len);
	for (i = 0; name[i]; i++)
		name[i] = pg_tolower((unsigned char) name[i]);
	for (i = 0; type_aliases[i][0]; i++)
		if (strcmp(name, type_aliases[i][0]) == 0)
			name = pstrdup(type_aliases[i][1]);
	st = type_by_name(name);
	if (st == NULL || st->cat == TC_UNKNOWN)
		return NULL;
	return st;
}

/*
 * compile_profile_name
 *		In a segment, a name outside aggregates: a unified attribute
 *		(c."name") or a customer measure (m."name"); anything else is a
 *		42703 error suggesting the closest known name.
 */
static CExpr
compile_profile_name(Compiler *c, DslNode *n)
{
	JsonbValue *t;
	const SqlType *st;
	static const SqlType array_type = {"array", TC_ARRAY, 0};

	if ((t = object_get(c->attributes, n->str)) != NULL)
	{
		c->uses_attributes = true;
		st = catalog_type(t, psprintf("attribute \"%s\"", n->str));
		if (st == NULL)
		{
			/* an attribute of a type the language does not know (arrays…) */
			CExpr		e = cexpr(psprintf("c.%s", quote_identifier(n->str)), &array_type, NULL, false);

			e.array_of = "text";
			return e;
		}
		return cexpr(psprintf("c.%s", quote_identifier(n->str)), st, NULL, false);
	}
	if ((t = object_get(c->measures, n->str)) != NULL)
	{
		char	   *tn;

		c->uses_measures = true;
		if (t->type == jbvString && t->val.string.len > 2 &&
			strncmp(t->val.string.val + t->val.string.len - 2, "[]", 2) == 0)
		{
			CExpr		e = cexpr(psprintf("m.%s", quote_identifier(n->str)), &array_type, NULL, false);

			tn = pnstrdup(t->val.string.val, t->val.string.len - 2);
			e.array_of = tn;
			return e;
		}
		st = catalog_type(t, psprintf("measure \"%s\"", n->str));
		if (st == NULL)
			bad_catalog(psprintf("Measure \"%s\" has a type the language does not know.", n->str));
		return cexpr(psprintf("m.%s", quote_identifier(n->str)), st, NULL, false);
	}
	if (object_get(c->catalog, n->str) != NULL)
		error_at(c, ERRCODE_UNDEFINED_COLUMN, n,
				 psprintf("activity \"%s\" outside an aggregate", n->str),
				 "Activities are read through aggregates.",
				 psprintf("Write e.g. count(%s) within 30 days >= 1 or exists(%s within 7 days).", n->str, n->str));
	error_at(c, ERRCODE_UNDEFINED_COLUMN, n,
			 psprintf("unknown name \"%s\"", n->str),
			 "It is not a unified attribute, a measure or an activity.",
			 suggestion(c, n->str));
	return cexpr(NULL, NULL, NULL, false);	/* keep the compiler quiet */
}

/*
 * valid_interval
 *		Whether s is an interval the language accepts: one or more
 *		"<whole number> <unit>" (seconds … years, singular or plural).
 */
static bool
valid_interval(const char *s)
{
	static const char *const units[] = {
		"second", "seconds", "minute", "minutes", "hour", "hours", "day", "days",
		"week", "weeks", "month", "months", "year", "years", NULL
	};
	int			parts = 0;

	for (;;)
	{
		const char *w;
		int			i,
					len,
					digits = 0;

		while (*s == ' ')
			s++;
		if (*s == '\0')
			return parts > 0;
		while (isdigit((unsigned char) *s))
			s++, digits++;
		if (digits == 0 || digits > 6 || *s != ' ')
			return false;
		while (*s == ' ')
			s++;
		w = s;
		while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
			s++;
		len = s - w;
		for (i = 0; units[i]; i++)
			if ((int) strlen(units[i]) == len && pg_strncasecmp(w, units[i], len) == 0)
				break;
		if (units[i] == NULL)
			return false;
		parts++;
	}
}

/*
 * compile_typed
 *		date 'YYYY-MM-DD', timestamp '...', interval 'n unit ...': a
 *		checked, quoted and cast constant.
 */
static CExpr
compile_typed(Compiler *c, DslNode *n)
{
	int			jd;

	if (strcmp(n->qualifier, "date") == 0)
	{
		if (!parse_date(n->str, &jd))
			mismatch(c, n, "invalid date", psprintf("'%s' is not a date.", dsl_clip(n->str, 40)),
					 "Write a date as date '2026-01-31'.");
		return cexpr(psprintf("%s::date", quote_literal_cstr(n->str)), type_by_name("date"),
					 psprintf("%s::date", quote_literal_cstr(n->str)), false);
	}
	if (strcmp(n->qualifier, "timestamp") == 0)
	{
		if (!valid_timestamp(n->str))
			mismatch(c, n, "invalid timestamp", psprintf("'%s' is not a timestamp.", dsl_clip(n->str, 40)),
					 "Write a timestamp as timestamp '2026-01-31 14:30:00+00'.");
		return cexpr(psprintf("%s::timestamptz", quote_literal_cstr(n->str)), type_by_name("timestamptz"),
					 psprintf("%s::timestamptz", quote_literal_cstr(n->str)), false);
	}
	if (!valid_interval(n->str))
		mismatch(c, n, "invalid interval", psprintf("'%s' is not an interval the language knows.", dsl_clip(n->str, 40)),
				 "Write an interval as interval '180 days' or interval '1 year 6 months' (seconds to years).");
	return cexpr(psprintf("%s::interval", quote_literal_cstr(n->str)), type_by_name("interval"),
				 psprintf("%s::interval", quote_literal_cstr(n->str)), false);
}

/*
 * compile_column
 *		A column reference inside an aggregate.
 */
static CExpr
compile_column(Compiler *c, DslNode *n)
{
	const SqlType *t;

	if (c->act == NULL && c->segment && n->qualifier == NULL)
		return compile_profile_name(c, n);
	if (c->act == NULL && c->segment && object_get(c->catalog, n->qualifier) == NULL)
		error_at(c, ERRCODE_UNDEFINED_COLUMN, n,
				 psprintf("unknown name \"%s.%s\"", n->qualifier, n->str),
				 psprintf("\"%s\" is not an activity; outside aggregates a definition names unified attributes and measures.", n->qualifier),
				 suggestion(c, n->qualifier));
	if (c->act == NULL)
		error_at(c, ERRCODE_UNDEFINED_COLUMN, n,
				 psprintf("column \"%s%s%s\" outside an aggregate", n->qualifier ? n->qualifier : "",
						  n->qualifier ? "." : "", n->str),
				 "Activities are read only through aggregates.",
				 "Wrap the column in an aggregate, e.g. sum(purchase.amount) or last(email.status).");
	if (n->qualifier && strcmp(n->qualifier, c->act) != 0)
		error_at(c, ERRCODE_UNDEFINED_COLUMN, n,
				 psprintf("column of activity \"%s\" in an aggregate over \"%s\"", n->qualifier, c->act),
				 "One aggregate reads the rows of one activity.",
				 psprintf("Use columns of %s here, or a separate aggregate for %s.", c->act, n->qualifier));
	if (strcmp(n->str, "occurred_at") == 0)
		return cexpr(pstrdup("x.occurred_at"), type_by_name("timestamptz"), NULL, false);
	t = column_type(c, n->str);
	if (t == NULL)
		error_at(c, ERRCODE_UNDEFINED_COLUMN, n,
				 psprintf("unknown column \"%s\" of activity \"%s\"", n->str, c->act),
				 "The catalog does not list this column for the activity.",
				 psprintf("Columns of %s: %s.", c->act, key_list(c->act_columns, "occurred_at")));
	if (c->inline_columns)
	{
		if (t->cat == TC_TEXT)
			return cexpr(psprintf("(x.detail ->> %s)", quote_literal_cstr(n->str)), t, NULL, false);
		return cexpr(psprintf("(x.detail ->> %s)::%s", quote_literal_cstr(n->str), t->name), t, NULL, false);
	}
	return cexpr(psprintf("x.%s", quote_identifier(column_ref(c, n->str, t))), t, NULL, false);
}

/*
 * compile
 *		Compile the expression at n.
 */
static CExpr
compile(Compiler *c, DslNode *n)
{
	CExpr		l,
				r,
				h;
	const SqlType *t;
	ListCell   *lc;
	StringInfoData buf;
	const char *not = n->negated ? "NOT " : "";

	check_stack_depth();
	switch (n->kind)
	{
		case DN_NUMBER:
			return cexpr(n->str, number_type(n->str), n->str, false);
		case DN_STRING:
			{
				char	   *q = quote_literal_cstr(n->str);

				l = cexpr(q, type_by_name("unknown"), q, false);
				l.literal = n;
				return l;
			}
		case DN_BOOL:
			return cexpr(n->str, type_by_name("boolean"), n->str, false);
		case DN_NULL:
			return cexpr("NULL", type_by_name("unknown"), NULL, false);
		case DN_COLUMN:
			return compile_column(c, n);
		case DN_UNARY:
			l = compile(c, n->left);
			require_cat(c, n->left, &l, TC_NUMERIC, "unary minus");
			return cexpr(psprintf("(- %s)", l.sql),
						 l.type->cat == TC_UNKNOWN ? type_by_name("numeric") : l.type,
						 strict_default("(%s %s)", "-", l.dflt, NULL, false), l.has_agg);
		case DN_NOT:
			l = compile(c, n->left);
			require_cat(c, n->left, &l, TC_BOOL, "not");
			return cexpr(psprintf("(NOT %s)", l.sql), type_by_name("boolean"),
						 l.dflt ? psprintf("(NOT %s)", l.dflt) : NULL, l.has_agg);
		case DN_LOGICAL:
			l = compile(c, n->left);
			r = compile(c, n->right);
			require_cat(c, n->left, &l, TC_BOOL, n->str);
			require_cat(c, n->right, &r, TC_BOOL, n->str);
			return cexpr(psprintf("(%s %s %s)", l.sql, strcmp(n->str, "and") == 0 ? "AND" : "OR", r.sql),
						 type_by_name("boolean"),
						 psprintf("(%s %s %s)", l.dflt ? l.dflt : "NULL",
								  strcmp(n->str, "and") == 0 ? "AND" : "OR", r.dflt ? r.dflt : "NULL"),
						 l.has_agg || r.has_agg);
		case DN_BINARY:
			l = compile(c, n->left);
			r = compile(c, n->right);
			if ((strcmp(n->str, "+") == 0 || strcmp(n->str, "-") == 0) &&
				((l.type->cat == TC_TIME && r.type->cat == TC_INTERVAL) ||
				 (strcmp(n->str, "+") == 0 && l.type->cat == TC_INTERVAL && r.type->cat == TC_TIME)))
			{
				/* a time moved by an interval */
				return cexpr(psprintf("((%s)::timestamptz %s %s)", l.sql, n->str, r.sql),
							 type_by_name("timestamptz"),
							 (l.dflt && r.dflt) ? psprintf("((%s)::timestamptz %s %s)", l.dflt, n->str, r.dflt) : NULL,
							 l.has_agg || r.has_agg);
			}
			require_cat(c, n->left, &l, TC_NUMERIC, psprintf("operator %s", n->str));
			require_cat(c, n->right, &r, TC_NUMERIC, psprintf("operator %s", n->str));
			t = common_type(c, n, &l, &r, psprintf("operator %s", n->str));
			if (t->cat == TC_UNKNOWN)
				t = type_by_name("numeric");
			if (strcmp(n->str, "/") == 0 && t->rank <= 3)
			{
				/* integer division would truncate: divide as numeric */
				t = type_by_name("numeric");
				return cexpr(psprintf("(%s::numeric / %s)", l.sql, r.sql), t,
							 strict_default("(%s::numeric %s %s)", "/", l.dflt, r.dflt, true),
							 l.has_agg || r.has_agg);
			}
			return cexpr(psprintf("(%s %s %s)", l.sql, n->str, r.sql), t,
						 strict_default("(%s %s %s)", n->str, l.dflt, r.dflt, true),
						 l.has_agg || r.has_agg);
		case DN_COMPARE:
			l = compile(c, n->left);
			r = compile(c, n->right);
			common_type(c, n, &l, &r, psprintf("comparison %s", n->str));
			return cexpr(psprintf("(%s %s %s)", l.sql, n->str, r.sql), type_by_name("boolean"),
						 strict_default("(%s %s %s)", n->str, l.dflt, r.dflt, true),
						 l.has_agg || r.has_agg);
		case DN_LIKE:
			l = compile(c, n->left);
			r = compile(c, n->right);
			require_cat(c, n->left, &l, TC_TEXT, n->str);
			require_cat(c, n->right, &r, TC_TEXT, n->str);
			{
				char	   *op = psprintf("%s%s", not, strcmp(n->str, "like") == 0 ? "LIKE" : "ILIKE");

				return cexpr(psprintf("(%s %s %s)", l.sql, op, r.sql), type_by_name("boolean"),
							 strict_default("(%s %s %s)", op, l.dflt, r.dflt, true),
							 l.has_agg || r.has_agg);
			}
		case DN_IN:
			{
				StringInfoData dflt;
				bool		dnull = false;
				bool		has_agg;

				l = compile(c, n->left);
				has_agg = l.has_agg;
				initStringInfo(&buf);
				initStringInfo(&dflt);
				appendStringInfo(&buf, "(%s %sIN (", l.sql, not);
				appendStringInfo(&dflt, "(%s %sIN (", l.dflt ? l.dflt : "NULL", not);
				dnull = (l.dflt == NULL);
				foreach(lc, n->args)
				{
					CExpr		e = compile(c, lfirst(lc));

					common_type(c, lfirst(lc), &l, &e, "in");
					has_agg |= e.has_agg;
					appendStringInfo(&buf, "%s%s", foreach_current_index(lc) ? ", " : "", e.sql);
					appendStringInfo(&dflt, "%s%s", foreach_current_index(lc) ? ", " : "",
									 e.dflt ? e.dflt : "NULL");
				}
				appendStringInfoString(&buf, "))");
				appendStringInfoString(&dflt, "))");
				return cexpr(buf.data, type_by_name("boolean"), dnull ? NULL : dflt.data, has_agg);
			}
		case DN_BETWEEN:
			l = compile(c, n->left);
			r = compile(c, n->right);
			h = compile(c, n->third);
			common_type(c, n->right, &l, &r, "between");
			common_type(c, n->third, &l, &h, "between");
			return cexpr(psprintf("(%s %sBETWEEN %s AND %s)", l.sql, not, r.sql, h.sql),
						 type_by_name("boolean"),
						 (l.dflt && r.dflt && h.dflt) ?
						 psprintf("(%s %sBETWEEN %s AND %s)", l.dflt, not, r.dflt, h.dflt) : NULL,
						 l.has_agg || r.has_agg || h.has_agg);
		case DN_ISNULL:
			l = compile(c, n->left);
			return cexpr(psprintf("(%s IS %sNULL)", l.sql, not), type_by_name("boolean"),
						 psprintf("(%s IS %sNULL)", l.dflt ? l.dflt : "NULL", not),
						 l.has_agg);
		case DN_CALL:
			if (strcmp(n->str, "exists") == 0)
				return compile_exists(c, n);
			if (dsl_is_aggregate_name(n->str))
				return compile_aggregate(c, n);
			return compile_function(c, n);
		case DN_TYPED:
			return compile_typed(c, n);
		case DN_SEGMENT:
			{
				ListCell   *lc2;

				if (!c->segment)
					error_at(c, ERRCODE_SYNTAX_ERROR, n, "segment reference in a measure",
							 "Only segment definitions can refer to segments.",
							 "Use segment 'name' in cdp.create_segment definitions.");
				if (c->act != NULL)
					error_at(c, ERRCODE_SYNTAX_ERROR, n, "segment reference inside an aggregate",
							 "An aggregate's condition reads the columns of its activity.",
							 "Combine the segment with the aggregate condition: in segment 'vip' and count(purchase) > 2.");
				if (object_get(c->segments, n->str) == NULL)
					error_at(c, ERRCODE_UNDEFINED_TABLE, n,
							 psprintf("unknown segment \"%s\"", n->str),
							 "No segment of this name exists.",
							 *key_list(c->segments, NULL) ? psprintf("Segments: %s.", key_list(c->segments, NULL)) :
							 "No segment exists yet; create one with cdp.create_segment.");
				foreach(lc2, c->segrefs)
					if (strcmp(lfirst(lc2), n->str) == 0)
						break;
				if (lc2 == NULL)
					c->segrefs = lappend(c->segrefs, n->str);
				return cexpr(psprintf("EXISTS (SELECT 1 FROM cdp.segment_member sm WHERE sm.segment = %s "
									  "AND sm.customer_id = c.customer_id AND sm.exited_at IS NULL)",
									  quote_literal_cstr(n->str)),
							 type_by_name("boolean"), NULL, false);
			}
		case DN_SETOP:
			l = compile(c, n->left);
			r = compile(c, n->right);
			require_cat(c, n->left, &l, TC_BOOL, n->str);
			require_cat(c, n->right, &r, TC_BOOL, n->str);
			/* a customer is a member when the condition is true, so
			 * "except" removes only those for whom it is true */
			if (strcmp(n->str, "union") == 0)
				return cexpr(psprintf("(%s OR %s)", l.sql, r.sql), type_by_name("boolean"), NULL,
							 l.has_agg || r.has_agg);
			if (strcmp(n->str, "intersect") == 0)
				return cexpr(psprintf("(%s AND %s)", l.sql, r.sql), type_by_name("boolean"), NULL,
							 l.has_agg || r.has_agg);
			if (n->right->kind == DN_SEGMENT)
				/* EXISTS is never NULL; and bare, it can become an anti-join */
				return cexpr(psprintf("(%s AND NOT %s)", l.sql, r.sql), type_by_name("boolean"),
							 NULL, l.has_agg || r.has_agg);
			return cexpr(psprintf("(%s AND NOT coalesce(%s, false))", l.sql, r.sql), type_by_name("boolean"),
						 NULL, l.has_agg || r.has_agg);
		case DN_DATEWIN:
			l = compile(c, n->left);
			require_cat(c, n->left, &l, TC_TIME, psprintf("within %s", n->str));
			c->reference = true;
			if (strcmp(n->str, "next") == 0)
				/* the next anniversary (today or later) before the end */
				return cexpr(psprintf("(cdp.next_anniversary((%s)::date, ($1::timestamptz)::date) < ($1::timestamptz)::date + interval '" INT64_FORMAT " %s')",
									  l.sql, n->wn, n->wunit),
							 type_by_name("boolean"), NULL, l.has_agg);
			return cexpr(psprintf("((%s)::timestamptz > $1::timestamptz - interval '" INT64_FORMAT " %s' AND (%s)::timestamptz <= $1::timestamptz)",
								  l.sql, n->wn, n->wunit, l.sql),
						 type_by_name("boolean"), NULL, l.has_agg);
		case DN_TEXTOP:
			l = compile(c, n->left);
			r = compile(c, n->right);
			if (strcmp(n->str, "contains") == 0 && l.type->cat == TC_ARRAY)
			{
				if (r.type->cat == TC_UNKNOWN)
				{
					r.sql = psprintf("%s::%s", r.sql, l.array_of);
					r.type = type_by_name(l.array_of) ? type_by_name(l.array_of) : r.type;
				}
				else if (r.type->cat == TC_ARRAY ||
						 (type_by_name(l.array_of) && type_by_name(l.array_of)->cat != r.type->cat))
					mismatch(c, n->right, "contains mixes an array and another type",
							 psprintf("The list holds %s, the value has type %s.", l.array_of, type_name(&r)),
							 "Write e.g. top_categories contains 'shoes'.");
				return cexpr(psprintf("(%s = ANY (%s))", r.sql, l.sql), type_by_name("boolean"), NULL,
							 l.has_agg || r.has_agg);
			}
			require_cat(c, n->left, &l, TC_TEXT, n->str);
			require_cat(c, n->right, &r, TC_TEXT, n->str);
			if (strcmp(n->str, "contains") == 0)
				return cexpr(psprintf("(strpos(%s, %s) > 0)", l.sql, r.sql), type_by_name("boolean"),
							 NULL, l.has_agg || r.has_agg);
			if (strcmp(n->str, "starts with") == 0)
				return cexpr(psprintf("starts_with(%s, %s)", l.sql, r.sql), type_by_name("boolean"),
							 NULL, l.has_agg || r.has_agg);
			return cexpr(psprintf("(right(%1$s, length(%2$s)) = %2$s)", l.sql, r.sql), type_by_name("boolean"),
						 NULL, l.has_agg || r.has_agg);
	}
	elog(ERROR, "unknown node kind %d", (int) n->kind);
	return l;					/* keep the compiler quiet */
}

/*
 * append_strings
 *		Append ,"key":[...] with the strings of list.
 */
static void
append_strings(StringInfo out, const char *key, List *list)
{
	ListCell   *lc;

	appendStringInfo(out, ",\"%s\":[", key);
	foreach(lc, list)
	{
		if (foreach_current_index(lc) > 0)
			appendStringInfoChar(out, ',');
		escape_json(out, lfirst(lc));
	}
	appendStringInfoChar(out, ']');
}

/*
 * append_reads
 *		Append to a compiled form what the expression reads:
 *		,"activities":[...],"columns":{...},"windows":[...],"reference":b
 */
static void
append_reads(StringInfo out, Compiler *c)
{
	ListCell   *lc;

	append_strings(out, "activities", c->activities);
	appendStringInfoString(out, ",\"columns\":{");
	foreach(lc, c->columns)
	{
		ColumnRef  *r = lfirst(lc);

		if (foreach_current_index(lc) > 0)
			appendStringInfoChar(out, ',');
		escape_json(out, r->ref);
		appendStringInfoString(out, ":{\"activity\":");
		escape_json(out, r->activity);
		appendStringInfoString(out, ",\"column\":");
		escape_json(out, r->column);
		appendStringInfoString(out, ",\"type\":");
		escape_json(out, r->type->name);
		appendStringInfoChar(out, '}');
	}
	appendStringInfoChar(out, '}');
	append_strings(out, "windows", c->windows);
	appendStringInfo(out, ",\"reference\":%s", c->reference ? "true" : "false");
}

/*
 * append_member
 *		Append "key":"value" (null for NULL), after a comma when comma.
 */
static void
append_member(StringInfo out, const char *key, const char *value, bool comma)
{
	if (comma)
		appendStringInfoChar(out, ',');
	escape_json(out, key);
	appendStringInfoChar(out, ':');
	if (value)
		escape_json(out, value);
	else
		appendStringInfoString(out, "null");
}

/*
 * unmark
 *		The SQL of a measure compiled with aggregate markers: with parts ==
 *		NULL, the SQL with every marker replaced by its aggregate's SQL;
 *		else appended to parts as a JSON array of the SQL between markers
 *		(strings) and the aggregates' indexes (numbers).
 */
static char *
unmark(Compiler *c, const char *sql, StringInfo parts)
{
	StringInfoData buf;
	const char *p = sql;
	bool		first = true;

	if (!c->mark_aggs)
		return pstrdup(sql);
	initStringInfo(&buf);
	if (parts)
		appendStringInfoChar(parts, '[');
	for (;;)
	{
		const char *m = strchr(p, AGG_MARK);
		const char *end;
		int			i;

		if (m == NULL)
			m = p + strlen(p);
		if (parts && m > p)
		{
			if (!first)
				appendStringInfoChar(parts, ',');
			escape_json(parts, pnstrdup(p, m - p));
			first = false;
		}
		else if (!parts)
			appendBinaryStringInfo(&buf, p, m - p);
		if (*m == '\0')
			break;
		i = (int) strtol(m + 1, (char **) &end, 10);
		if (*end != AGG_MARK_END || i < 0 || i >= list_length(c->aggdescs))
			elog(ERROR, "malformed aggregate marker in compiled measure");
		if (parts)
		{
			appendStringInfo(parts, "%s%d", first ? "" : ",", i);
			first = false;
		}
		else
			appendStringInfoString(&buf, ((AggDesc *) list_nth(c->aggdescs, i))->sql);
		p = end + 1;
	}
	if (parts)
		appendStringInfoChar(parts, ']');
	return buf.data;
}

/*
 * cdp_compile_measure
 *		SQL function cdp.compile_measure(definition text, catalog jsonb)
 *		returns jsonb {"sql_type", "activities", "columns", "windows",
 *		"reference", "select", "parts", "aggregates", "default"}: "windows"
 *		lists the windows relative to the reference time ("30 days"),
 *		"reference" tells whether the value depends on the reference time
 *		otherwise (days_since), which decides what an incremental refresh
 *		recomputes.  "parts" is "select" split around its aggregates (an
 *		array of SQL strings and indexes into "aggregates"), each aggregate
 *		described by activity, kind (count, sum, avg, min, max, or null when
 *		cdp.fused_measures cannot compute it), value, type, condition,
 *		window, result type, call (without FILTER) and sql; both are left
 *		out for a definition holding the marker bytes \x01 or \x02.
 */
Datum
cdp_compile_measure(PG_FUNCTION_ARGS)
{
	text	   *def = PG_GETARG_TEXT_PP(0);
	Jsonb	   *catalog = PG_GETARG_JSONB_P(1);
	char	   *src = text_to_cstring(def);
	Compiler	c;
	DslNode    *tree;
	CExpr		e;
	StringInfoData out;

	if (!JB_ROOT_IS_OBJECT(catalog))
		bad_catalog("The catalog is not a JSON object.");
	memset(&c, 0, sizeof(c));
	dsl_lexer_init(&c.lex, src, strlen(src), "measure definition");
	tree = dsl_parse(&c.lex);
	c.catalog = &catalog->root;
	/* markers cannot be told from a definition's own control characters */
	c.mark_aggs = strchr(src, AGG_MARK) == NULL && strchr(src, AGG_MARK_END) == NULL;
	e = compile(&c, tree);
	if (!e.has_agg)
		error_at(&c, ERRCODE_SYNTAX_ERROR, tree, "measure without an aggregate",
				 "A measure summarises activities, so it needs at least one aggregate.",
				 "Write e.g. count(purchase) or sum(purchase.amount) within 365 days.");

	initStringInfo(&out);
	appendStringInfoString(&out, "{\"sql_type\":");
	escape_json(&out, type_name(&e));
	append_reads(&out, &c);
	appendStringInfoString(&out, ",\"select\":");
	escape_json(&out, unmark(&c, e.sql, NULL));
	if (c.mark_aggs)
	{
		ListCell   *lc;

		appendStringInfoString(&out, ",\"parts\":");
		unmark(&c, e.sql, &out);
		appendStringInfoString(&out, ",\"aggregates\":[");
		foreach(lc, c.aggdescs)
		{
			AggDesc    *d = lfirst(lc);

			appendStringInfoString(&out, foreach_current_index(lc) ? ",{" : "{");
			append_member(&out, "activity", d->activity, false);
			append_member(&out, "kind", d->kind, true);
			append_member(&out, "value", d->value, true);
			append_member(&out, "type", d->type, true);
			append_member(&out, "condition", d->condition, true);
			append_member(&out, "window", d->window, true);
			append_member(&out, "result", d->result, true);
			append_member(&out, "call", d->call, true);
			append_member(&out, "sql", d->sql, true);
			appendStringInfoChar(&out, '}');
		}
		appendStringInfoChar(&out, ']');
	}
	appendStringInfoString(&out, ",\"default\":");
	if (e.dflt)
		escape_json(&out, e.dflt);
	else
		appendStringInfoString(&out, "null");
	appendStringInfoChar(&out, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}

/*
 * object_member
 *		The object under key of the top-level catalog object, or NULL when
 *		absent; a non-object is a catalog error.
 */
static JsonbContainer *
object_member(JsonbContainer *root, const char *key)
{
	JsonbValue *v = object_get(root, key);

	if (v == NULL)
		return NULL;
	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		bad_catalog(psprintf("\"%s\" of the catalog is not an object.", key));
	return v->val.binary.data;
}

/*
 * reads_activities
 *		Whether the subtree at n has an aggregate or exists().
 */
static bool
reads_activities(DslNode *n)
{
	ListCell   *lc;

	if (n == NULL)
		return false;
	check_stack_depth();
	if (n->kind == DN_CALL && (dsl_is_aggregate_name(n->str) || strcmp(n->str, "exists") == 0))
		return true;
	if (reads_activities(n->left) || reads_activities(n->right) || reads_activities(n->third))
		return true;
	foreach(lc, n->args)
		if (reads_activities(lfirst(lc)))
			return true;
	return false;
}

/*
 * conjuncts
 *		The terms of the top-level "and" chain at n.
 */
static List *
conjuncts(DslNode *n, List *out)
{
	check_stack_depth();
	if (n->kind == DN_LOGICAL && strcmp(n->str, "and") == 0)
		return conjuncts(n->right, conjuncts(n->left, out));
	return lappend(out, n);
}

/*
 * mark_correlated
 *		When the definition is an "and" of conditions some of which read no
 *		activity (city = 'Paris', total_spend > 1000), its exists(...) and
 *		not exists(...) terms become EXISTS subqueries over the customer's
 *		activities: the planner can then probe only the customers the other
 *		terms keep, instead of grouping every matching activity.
 */
static void
mark_correlated(Compiler *c, DslNode *tree)
{
	List	   *terms = conjuncts(tree, NIL);
	ListCell   *lc;
	bool		profile = false;

	foreach(lc, terms)
		if (!reads_activities(lfirst(lc)))
			profile = true;
	if (!profile)
		return;
	foreach(lc, terms)
	{
		DslNode    *t = lfirst(lc);

		if (t->kind == DN_NOT)
			t = t->left;
		if (t->kind == DN_CALL && strcmp(t->str, "exists") == 0)
			c->correlated = lappend(c->correlated, t);
	}
}

/*
 * set_query
 *		For a definition made only of segment references joined by union,
 *		intersect, except, or and and: the same as one set operation over
 *		the current members in cdp.segment_member (every open membership
 *		belongs to an existing customer).  NULL for anything else.
 */
static char *
set_query(DslNode *n)
{
	char	   *l,
			   *r;
	const char *op;

	check_stack_depth();
	if (n->kind == DN_SEGMENT)
		return psprintf("SELECT customer_id FROM cdp.segment_member WHERE segment = %s AND exited_at IS NULL",
						quote_literal_cstr(n->str));
	if (n->kind != DN_SETOP && n->kind != DN_LOGICAL)
		return NULL;
	if ((l = set_query(n->left)) == NULL || (r = set_query(n->right)) == NULL)
		return NULL;
	op = (strcmp(n->str, "union") == 0 || strcmp(n->str, "or") == 0) ? "UNION" :
		(strcmp(n->str, "except") == 0) ? "EXCEPT" : "INTERSECT";
	return psprintf("(%s) %s (%s)", l, op, r);
}

/*
 * cdp_compile_segment
 *		SQL function cdp.compile_segment(definition text, catalog jsonb)
 *		returns jsonb: the definition of a segment compiled against a
 *		catalog {"attributes": {name: type}, "measures": {name: type},
 *		"activities": {as for measures}, "segments": {name: ...}}.
 *		The result: "predicate", a boolean SQL expression over c (a row of
 *		cdp.customer), m (its row of cdp.customer_measure, when "measures"
 *		is true) and a (its row of the grouped aggregates: "aggregates"[i]
 *		is the SQL of a."agg_<i+1>" over the activity rows x, "filters"[i]
 *		the condition of its rows), "segments" it refers to, "attributes"
 *		(whether it reads one, or probes activities from c.customer_id),
 *		"default" (its value, as SQL, for a customer
 *		without activity when it reads no attribute or measure),
 *		"all_windowed" (every aggregate has a "within" window, so rows
 *		older than the longest can be skipped), "set_query" (for a
 *		definition made only of segments: one set operation over their
 *		members), and what it reads as for measures.  $1 is the reference
 *		time.
 */
Datum
cdp_compile_segment(PG_FUNCTION_ARGS)
{
	text	   *def = PG_GETARG_TEXT_PP(0);
	Jsonb	   *catalog = PG_GETARG_JSONB_P(1);
	char	   *src = text_to_cstring(def);
	Compiler	c;
	DslNode    *tree;
	CExpr		e;
	StringInfoData out;
	static JsonbContainer empty_object;

	if (!JB_ROOT_IS_OBJECT(catalog))
		bad_catalog("The catalog is not a JSON object.");
	memset(&c, 0, sizeof(c));
	dsl_lexer_init(&c.lex, src, strlen(src), "segment definition");
	tree = dsl_parse(&c.lex);
	c.segment = true;
	c.catalog = object_member(&catalog->root, "activities");
	if (c.catalog == NULL)
	{
		/* an empty object: no activities */
		empty_object.header = JB_FOBJECT;
		c.catalog = &empty_object;
	}
	c.attributes = object_member(&catalog->root, "attributes");
	c.measures = object_member(&catalog->root, "measures");
	c.segments = object_member(&catalog->root, "segments");
	{
		JsonbValue *e = object_get(&catalog->root, "entry");

		if (e != NULL)
		{
			if (e->type != jbvString)
				bad_catalog("\"entry\" of the catalog is not a string (the SQL of the entry time).");
			c.entry = pnstrdup(e->val.string.val, e->val.string.len);
		}
	}
	mark_correlated(&c, tree);
	e = compile(&c, tree);
	require_cat(&c, tree, &e, TC_BOOL, "a segment definition");

	initStringInfo(&out);
	appendStringInfoString(&out, "{\"predicate\":");
	escape_json(&out, e.sql);
	append_strings(&out, "aggregates", c.aggs);
	append_strings(&out, "segments", c.segrefs);
	append_strings(&out, "filters", c.aggfilters);
	appendStringInfoString(&out, ",\"default\":");
	if (e.dflt)
		escape_json(&out, e.dflt);
	else
		appendStringInfoString(&out, "null");
	appendStringInfo(&out, ",\"measures\":%s,\"attributes\":%s,\"all_windowed\":%s",
					 c.uses_measures ? "true" : "false",
					 c.uses_attributes ? "true" : "false",
					 (c.aggs != NIL && !c.unwindowed) ? "true" : "false");
	appendStringInfoString(&out, ",\"set_query\":");
	{
		char	   *q = set_query(tree);

		if (q)
			escape_json(&out, q);
		else
			appendStringInfoString(&out, "null");
	}
	append_reads(&out, &c);
	appendStringInfoChar(&out, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}
