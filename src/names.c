/*-------------------------------------------------------------------------
 *
 * names.c
 *	  Person names: nickname knowledge (cdp.nickname) and the person-name
 *	  similarity score.
 *
 * The nickname table is read once per backend into a hash table that maps
 * every name to the formal names it stands for: a formal name stands for
 * itself, a nickname for every formal name it is listed under.  Two given
 * names are equivalent when they stand for a common formal name, so Bob,
 * Robert and Rob are all equivalent.  The cache is dropped by relcache
 * invalidation: a statement-level trigger on cdp.nickname invalidates the
 * table's relcache entry, which every backend sees once the change commits
 * (and the changing backend at its next command).
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "pg_cdp.h"

PG_FUNCTION_INFO_V1(cdp_nickname_changed);
PG_FUNCTION_INFO_V1(cdp_names_equivalent);
PG_FUNCTION_INFO_V1(cdp_name_variants);
PG_FUNCTION_INFO_V1(cdp_name_similarity);

/* names longer than this are never in the cache (and never equivalent) */
#define NICK_KEYLEN		64

/* token scores of name_similarity, documented in the README */
#define NAME_NICKNAME_SCORE		0.95
#define NAME_INITIAL_SCORE		0.85
#define NAME_EXTRA_TOKEN_WEIGHT	0.25

/* bounds on the work of one name_similarity call */
#define NAME_MAX_PAIRED_WORDS	64
#define NAME_MAX_WORD_PAIRS		(1 << 22)

typedef struct NickEntry
{
	char		key[NICK_KEYLEN];	/* normalised name, the hash key */
	List	   *ids;			/* integer ids of the formal names it stands for */
} NickEntry;

static MemoryContext nick_cxt = NULL;
static HTAB *nick_hash = NULL;
static List **nick_members = NULL;	/* per formal-name id: list of char * names */
static int	nick_nids = 0;
static Oid	nick_relid = InvalidOid;
static bool nick_valid = false;
static uint64 nick_inval_count = 0;

/*
 * cdp_nickname_invalidate
 *		Relcache callback: forget the cache when cdp.nickname (or every
 *		relation) is invalidated.
 */
void
cdp_nickname_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == nick_relid)
	{
		nick_valid = false;
		nick_inval_count++;
	}
}

/*
 * cdp_nickname_changed
 *		Statement-level trigger on cdp.nickname: have every backend drop
 *		its nickname cache once this transaction commits.
 */
Datum
cdp_nickname_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("cdp.nickname_changed() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

/*
 * normalise_given_name
 *		Fold a given name to lowercase ASCII and trim it, into out (at most
 *		NICK_KEYLEN - 1 bytes).  Returns false when it does not fit.
 */
static bool
normalise_given_name(const char *s, int len, char *out)
{
	int			flen;
	char	   *f = cdp_fold_ascii(s, len, &flen);
	int			start = 0;
	int			i;

	while (start < flen && f[start] == ' ')
		start++;
	while (flen > start && f[flen - 1] == ' ')
		flen--;
	if (flen - start >= NICK_KEYLEN)
	{
		pfree(f);
		return false;
	}
	for (i = start; i < flen; i++)
		out[i - start] = pg_ascii_tolower((unsigned char) f[i]);
	out[flen - start] = '\0';
	pfree(f);
	return true;
}

/*
 * nick_lookup
 *		The cache entry of a normalised name, creating it if asked.
 */
static NickEntry *
nick_lookup(const char *key, bool create)
{
	bool		found;
	NickEntry  *e;

	e = hash_search(nick_hash, key, create ? HASH_ENTER : HASH_FIND, &found);
	if (create && !found)
		e->ids = NIL;
	return e;
}

/*
 * nickname_cache_load
 *		Make sure the cache reflects cdp.nickname.  fn_oid is the calling
 *		SQL function, whose schema is where the table lives.
 */
static void
nickname_cache_load(Oid fn_oid)
{
	uint64		gen;
	Oid			nsp;
	char	   *query;
	HASHCTL		ctl;
	MemoryContext oldcxt;
	uint64		i;
	HTAB	   *formal;			/* formal name -> id, while loading */

	if (nick_valid && nick_hash != NULL)
		return;

	if (nick_cxt == NULL)
		nick_cxt = AllocSetContextCreate(CacheMemoryContext, "pg_cdp nicknames",
										 ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(nick_cxt);
	nick_hash = NULL;
	nick_members = NULL;
	nick_nids = 0;

	nsp = get_func_namespace(fn_oid);
	nick_relid = get_relname_relid("nickname", nsp);
	if (!OidIsValid(nick_relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"nickname\" of pg_cdp is missing"),
				 errhint("Reinstall the extension: DROP EXTENSION pg_cdp; CREATE EXTENSION pg_cdp.")));
	gen = nick_inval_count;

	query = psprintf("SELECT name, nickname FROM %s.nickname",
					 quote_identifier(get_namespace_name(nsp)));

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = NICK_KEYLEN;
	ctl.entrysize = sizeof(NickEntry);
	ctl.hcxt = nick_cxt;
	nick_hash = hash_create("pg_cdp nicknames", 4096, &ctl,
							HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	ctl.entrysize = sizeof(NickEntry);
	formal = hash_create("pg_cdp formal names", 1024, &ctl,
						 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(query, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", query);

	oldcxt = MemoryContextSwitchTo(nick_cxt);
	nick_members = palloc0(sizeof(List *) * (SPI_processed + 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *name = SPI_getvalue(tup, desc, 1);
		char	   *nick = SPI_getvalue(tup, desc, 2);
		char		nkey[NICK_KEYLEN];
		char		kkey[NICK_KEYLEN];
		NickEntry  *f;
		NickEntry  *e;
		bool		found;
		int			id;

		if (name == NULL || nick == NULL ||
			!normalise_given_name(name, strlen(name), nkey) ||
			!normalise_given_name(nick, strlen(nick), kkey) ||
			nkey[0] == '\0' || kkey[0] == '\0')
			continue;

		/* the formal name's id, its own entry standing for itself */
		f = hash_search(formal, nkey, HASH_ENTER, &found);
		if (!found)
		{
			f->ids = list_make1_int(nick_nids);
			nick_members[nick_nids] = list_make1(pstrdup(nkey));
			e = nick_lookup(nkey, true);
			e->ids = list_append_unique_int(e->ids, nick_nids);
			nick_nids++;
		}
		id = linitial_int(f->ids);

		e = nick_lookup(kkey, true);
		if (!list_member_int(e->ids, id))
		{
			e->ids = lappend_int(e->ids, id);
			nick_members[id] = lappend(nick_members[id], pstrdup(kkey));
		}
	}
	MemoryContextSwitchTo(oldcxt);
	hash_destroy(formal);
	SPI_finish();
	pfree(query);

	/* an invalidation that arrived while loading means: load again next time */
	nick_valid = (gen == nick_inval_count);
}

/*
 * nick_entry_of
 *		The cache entry of the normalised given name w (len bytes), or NULL
 *		when the nickname table does not know it.
 */
static NickEntry *
nick_entry_of(const char *w, int len)
{
	char		key[NICK_KEYLEN];

	if (len >= NICK_KEYLEN)
		return NULL;
	memcpy(key, w, len);
	key[len] = '\0';
	return nick_lookup(key, false);
}

/*
 * nick_entries_equivalent
 *		True when two known names stand for a common formal name.
 */
static bool
nick_entries_equivalent(NickEntry *ea, NickEntry *eb)
{
	ListCell   *lc;

	if (ea == NULL || eb == NULL)
		return false;
	foreach(lc, ea->ids)
	{
		if (list_member_int(eb->ids, lfirst_int(lc)))
			return true;
	}
	return false;
}

/*
 * given_names_equivalent
 *		True when the normalised given names a and b are equal or stand for
 *		a common formal name.
 */
static bool
given_names_equivalent(const char *a, int la, const char *b, int lb)
{
	if (la == lb && memcmp(a, b, la) == 0)
		return true;
	return nick_entries_equivalent(nick_entry_of(a, la), nick_entry_of(b, lb));
}

/*
 * A name split into tokens: offsets into a normalised, space-separated
 * string.
 */
typedef struct NameTokens
{
	char	   *str;
	int			n;
	int		   *off;
	int		   *len;
	bool	   *initial;		/* the token is one character */
	NickEntry **nick;			/* its nickname cache entry, or NULL */
} NameTokens;

/*
 * split_name
 *		Normalise a person's name (see cdp_normalize_name_cstr) and split it
 *		at spaces.
 */
static void
split_name(text *t, NameTokens *out)
{
	char	   *s = cdp_normalize_name_cstr(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	int			slen = strlen(s);
	int			cap = 8;
	int			i = 0;

	out->str = s;
	out->n = 0;
	out->off = palloc(cap * sizeof(int));
	out->len = palloc(cap * sizeof(int));
	while (i < slen)
	{
		int			start;

		while (i < slen && s[i] == ' ')
			i++;
		if (i >= slen)
			break;
		start = i;
		while (i < slen && s[i] != ' ')
			i++;
		if (out->n == cap)
		{
			cap *= 2;
			out->off = repalloc(out->off, cap * sizeof(int));
			out->len = repalloc(out->len, cap * sizeof(int));
		}
		out->off[out->n] = start;
		out->len[out->n] = i - start;
		out->n++;
	}

	/* what the pair scores need of each token, worked out once */
	out->initial = palloc(Max(out->n, 1) * sizeof(bool));
	out->nick = palloc(Max(out->n, 1) * sizeof(NickEntry *));
	for (i = 0; i < out->n; i++)
	{
		const char *w = s + out->off[i];
		int			len = out->len[i];

		/* an initial is one character, which may take several bytes */
		out->initial[i] = (len == 1) ||
			(len <= MAX_MULTIBYTE_CHAR_LEN && pg_mblen(w) == len);
		out->nick[i] = out->initial[i] ? NULL : nick_entry_of(w, len);
	}
}

/*
 * token_pair_score
 *		Similarity of token i of ta and token j of tb: 1 when equal,
 *		NAME_INITIAL_SCORE for an initial and a name it begins,
 *		NAME_NICKNAME_SCORE for nickname equivalents, otherwise their
 *		Jaro-Winkler similarity.
 */
static double
token_pair_score(NameTokens *ta, int i, NameTokens *tb, int j)
{
	const char *a = ta->str + ta->off[i];
	const char *b = tb->str + tb->off[j];
	int			la = ta->len[i];
	int			lb = tb->len[j];

	if (la == lb && memcmp(a, b, la) == 0)
		return 1.0;
	if (ta->initial[i] || tb->initial[j])
	{
		int			first = pg_mblen(a);

		if (first <= la && first <= lb && pg_mblen(b) == first &&
			memcmp(a, b, first) == 0)
			return NAME_INITIAL_SCORE;
		return 0.0;
	}
	if (nick_entries_equivalent(ta->nick[i], tb->nick[j]))
		return NAME_NICKNAME_SCORE;
	return cdp_jaro_winkler_bytes(a, la, b, lb, 0.1);
}

/*
 * cdp_name_similarity(a text, b text) -> float8
 *		Similarity of two person names in [0, 1]; see the README for the
 *		formula.
 */
Datum
cdp_name_similarity(PG_FUNCTION_ARGS)
{
	NameTokens	ta,
				tb;
	int			k,
				kmax;
	double	   *score;
	bool	   *used_a;
	bool	   *used_b;
	double		sum = 0.0;
	double		result;
	int			i,
				j,
				step;

	nickname_cache_load(fcinfo->flinfo->fn_oid);
	split_name(PG_GETARG_TEXT_PP(0), &ta);
	split_name(PG_GETARG_TEXT_PP(1), &tb);

	if (ta.n == 0 || tb.n == 0)
		PG_RETURN_FLOAT8((ta.n == 0 && tb.n == 0) ? 1.0 : 0.0);
	if (Min(ta.n, tb.n) > NAME_MAX_PAIRED_WORDS ||
		(Size) ta.n * (Size) tb.n > NAME_MAX_WORD_PAIRS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("names have too many words for name_similarity"),
				 errdetail("The names have %d and %d words; at most %d words can be paired and %d pairs scored.",
						   ta.n, tb.n, NAME_MAX_PAIRED_WORDS, NAME_MAX_WORD_PAIRS),
				 errhint("Compare person names, or use cdp.token_similarity for long texts.")));

	score = palloc((Size) ta.n * tb.n * sizeof(double));
	used_a = palloc0(ta.n);
	used_b = palloc0(tb.n);
	for (i = 0; i < ta.n; i++)
	{
		for (j = 0; j < tb.n; j++)
			score[i * tb.n + j] = token_pair_score(&ta, i, &tb, j);
		CHECK_FOR_INTERRUPTS();
	}

	/* greedy one-to-one pairing, best pair first; ties to the earlier tokens */
	k = Min(ta.n, tb.n);
	kmax = Max(ta.n, tb.n);
	for (step = 0; step < k; step++)
	{
		double		best = -1.0;
		int			bi = -1,
					bj = -1;

		for (i = 0; i < ta.n; i++)
		{
			if (used_a[i])
				continue;
			for (j = 0; j < tb.n; j++)
			{
				if (!used_b[j] && score[i * tb.n + j] > best)
				{
					best = score[i * tb.n + j];
					bi = i;
					bj = j;
				}
			}
		}
		used_a[bi] = true;
		used_b[bj] = true;
		sum += best;
		CHECK_FOR_INTERRUPTS();
	}
	result = sum / (k + NAME_EXTRA_TOKEN_WEIGHT * (kmax - k));

	/* names split differently ("Mary Ann" / "Maryann"): compare them joined */
	if (ta.n != tb.n)
	{
		StringInfoData ja,
					jb;
		double		joined;

		initStringInfo(&ja);
		initStringInfo(&jb);
		for (i = 0; i < ta.n; i++)
			appendBinaryStringInfo(&ja, ta.str + ta.off[i], ta.len[i]);
		for (j = 0; j < tb.n; j++)
			appendBinaryStringInfo(&jb, tb.str + tb.off[j], tb.len[j]);
		joined = cdp_jaro_winkler_bytes(ja.data, ja.len, jb.data, jb.len, 0.1);
		if (joined > result)
			result = joined;
	}
	PG_RETURN_FLOAT8(result);
}

/*
 * cdp_names_equivalent(a text, b text) -> boolean
 *		True when two names, normalised, have the same number of words and
 *		each word equals or is a nickname equivalent of the word at the same
 *		place in the other.
 */
Datum
cdp_names_equivalent(PG_FUNCTION_ARGS)
{
	NameTokens	ta,
				tb;
	int			i;

	nickname_cache_load(fcinfo->flinfo->fn_oid);
	split_name(PG_GETARG_TEXT_PP(0), &ta);
	split_name(PG_GETARG_TEXT_PP(1), &tb);
	if (ta.n != tb.n)
		PG_RETURN_BOOL(false);
	for (i = 0; i < ta.n; i++)
	{
		if (!given_names_equivalent(ta.str + ta.off[i], ta.len[i],
									tb.str + tb.off[i], tb.len[i]))
			PG_RETURN_BOOL(false);
	}
	PG_RETURN_BOOL(true);
}

/* qsort comparator for C strings */
static int
cstring_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * cdp_name_variants(name text) -> text[]
 *		The given name (normalised) and every name equivalent to it: the
 *		formal names it stands for and all their nicknames.  Sorted,
 *		without duplicates; '{}' when the name is empty.
 */
Datum
cdp_name_variants(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	char	   *norm;
	char		key[NICK_KEYLEN];
	NickEntry  *e = NULL;
	char	  **names;
	int			n = 0;
	int			cap = 16;
	int			i,
				out;
	Datum	   *datums;
	ListCell   *lc;

	nickname_cache_load(fcinfo->flinfo->fn_oid);
	norm = cdp_normalize_name_cstr(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	if (norm[0] == '\0')
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(TEXTOID));

	names = palloc(cap * sizeof(char *));
	names[n++] = norm;
	if (strlen(norm) < NICK_KEYLEN)
	{
		strcpy(key, norm);
		e = nick_lookup(key, false);
	}
	if (e != NULL)
	{
		foreach(lc, e->ids)
		{
			ListCell   *mc;

			foreach(mc, nick_members[lfirst_int(lc)])
			{
				if (n == cap)
				{
					cap *= 2;
					names = repalloc(names, cap * sizeof(char *));
				}
				names[n++] = (char *) lfirst(mc);
			}
		}
	}
	qsort(names, n, sizeof(char *), cstring_cmp);
	datums = palloc(n * sizeof(Datum));
	out = 0;
	for (i = 0; i < n; i++)
	{
		if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
			continue;
		datums[out++] = CStringGetTextDatum(names[i]);
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(datums, out, TEXTOID, -1, false, TYPALIGN_INT));
}
