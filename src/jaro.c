/*-------------------------------------------------------------------------
 *
 * jaro.c
 *	  Similarity scores in [0, 1]: Jaro, Jaro-Winkler, the normalised edit
 *	  similarity and the order-independent token similarity.
 *
 * Jaro and Jaro-Winkler follow Winkler's reference conventions:
 *	- two characters match when equal and at most
 *	  max(floor(max(|a|, |b|) / 2) - 1, 0) positions apart, each character
 *	  of a taking the first unmatched equal character of b in its window;
 *	- t is the number of matched positions whose characters differ when the
 *	  matched characters of both strings are read in order, halved by
 *	  integer division;
 *	- jaro = (m/|a| + m/|b| + (m - t)/m) / 3, or 0 when m = 0;
 *	- jaro_winkler = jaro + l * p * (1 - jaro), l being the length of the
 *	  common prefix counted up to 4 characters, applied only when
 *	  jaro > 0.7;
 *	- two empty strings score 1, one empty string scores 0.
 *
 * Strings of up to 64 characters are matched with bit masks: the
 * first unmatched equal character in the window is the lowest set bit of
 * (positions of the character in b) & ~(matched) & (window).  Longer
 * strings use per-character position lists, which makes the matching
 * linear: a window only moves right, so positions that fall behind it are
 * never looked at again.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/builtins.h"

#include "pg_cdp.h"

PG_FUNCTION_INFO_V1(cdp_jaro);
PG_FUNCTION_INFO_V1(cdp_jaro_winkler);
PG_FUNCTION_INFO_V1(cdp_edit_similarity);
PG_FUNCTION_INFO_V1(cdp_token_similarity);

/* Winkler's constants */
#define JW_PREFIX_MAX		4
#define JW_BOOST_THRESHOLD	0.7

/*
 * jaro_score
 *		Combine the match count m and the halved transposition count t.
 */
static inline double
jaro_score(int m, int t, int la, int lb)
{
	if (m == 0)
		return 0.0;
	return ((double) m / la + (double) m / lb + (double) (m - t) / m) / 3.0;
}

/*
 * jaro_window
 *		The match window of two strings of la and lb characters.
 */
static inline int
jaro_window(int la, int lb)
{
	int			w = Max(la, lb) / 2 - 1;

	return Max(w, 0);
}

/*
 * jaro_short_impl
 *		Jaro similarity of two non-empty strings of at most 64 characters
 *		each, with bit masks and no allocation.  The characters are either
 *		ASCII bytes (bytes = true) or symbols of a SymPair (fewer than 256
 *		distinct ones); the function is inlined into one copy for each.
 */
#define JARO_AT(p, i) (bytes ? (uint32) ((const unsigned char *) (p))[i] : ((const uint32 *) (p))[i])

static pg_attribute_always_inline double
jaro_short_impl(const void *a, int la, const void *b, int lb, bool bytes)
{
	uint64		peq[128 + 2 * CDP_INLINE_CHARS];
	uint64		matched_a = 0;
	uint64		matched_b = 0;
	int			w = jaro_window(la, lb);
	int			m = 0;
	int			t = 0;
	int			i;

	/* clear only the entries that will be read, rather than all of them */
	for (i = 0; i < la; i++)
		peq[JARO_AT(a, i)] = 0;
	for (i = 0; i < lb; i++)
		peq[JARO_AT(b, i)] = 0;
	for (i = 0; i < lb; i++)
		peq[JARO_AT(b, i)] |= UINT64CONST(1) << i;

	for (i = 0; i < la; i++)
	{
		int			lo = i - w;
		int			hi = i + w;
		uint64		window;
		uint64		cand;

		if (lo < 0)
			lo = 0;
		if (hi >= lb)
			hi = lb - 1;
		if (lo > hi)
			continue;
		window = ((hi == 63) ? ~UINT64CONST(0) : ((UINT64CONST(1) << (hi + 1)) - 1)) &
			~((UINT64CONST(1) << lo) - 1);
		cand = peq[JARO_AT(a, i)] & ~matched_b & window;
		if (cand)
		{
			matched_b |= cand & (~cand + 1);	/* lowest set bit */
			matched_a |= UINT64CONST(1) << i;
			m++;
		}
	}
	if (m == 0)
		return 0.0;

	while (matched_a)
	{
		int			i2 = pg_rightmost_one_pos64(matched_a);
		int			j2 = pg_rightmost_one_pos64(matched_b);

		if (JARO_AT(a, i2) != JARO_AT(b, j2))
			t++;
		matched_a &= matched_a - 1;
		matched_b &= matched_b - 1;
	}
	return jaro_score(m, t / 2, la, lb);
}

/* jaro_short_impl for ASCII bytes */
static double
jaro_short_bytes(const char *a, int la, const char *b, int lb)
{
	return jaro_short_impl(a, la, b, lb, true);
}

/* jaro_short_impl for symbols */
static double
jaro_short_syms(const uint32 *a, int la, const uint32 *b, int lb)
{
	return jaro_short_impl(a, la, b, lb, false);
}

/*
 * jaro_symbols
 *		Jaro similarity of two non-empty strings of symbols < nsyms, in time
 *		linear in their lengths and nsyms.
 */
static double
jaro_symbols(const uint32 *a, int la, const uint32 *b, int lb, int nsyms)
{
	int			w = jaro_window(la, lb);
	int		   *start = palloc0((Size) (nsyms + 1) * sizeof(int));
	int		   *next = palloc((Size) nsyms * sizeof(int));
	int		   *pos = palloc((Size) lb * sizeof(int));
	bool	   *fa = palloc0((Size) la);
	bool	   *fb = palloc0((Size) lb);
	int			m = 0;
	int			t = 0;
	int			i,
				j;
	double		result;

	/* counting sort of b's positions by symbol, increasing within each */
	for (j = 0; j < lb; j++)
		start[b[j] + 1]++;
	for (i = 0; i < nsyms; i++)
		start[i + 1] += start[i];
	memcpy(next, start, (Size) nsyms * sizeof(int));
	for (j = 0; j < lb; j++)
		pos[next[b[j]]++] = j;
	memcpy(next, start, (Size) nsyms * sizeof(int));

	for (i = 0; i < la; i++)
	{
		uint32		s = a[i];
		int			p = next[s];
		int			end = start[s + 1];

		while (p < end && pos[p] < i - w)
			p++;
		if (p < end && pos[p] <= i + w)
		{
			fa[i] = true;
			fb[pos[p]] = true;
			m++;
			p++;
		}
		next[s] = p;
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}

	if (m > 0)
	{
		j = 0;
		for (i = 0; i < la; i++)
		{
			if (!fa[i])
				continue;
			while (!fb[j])
				j++;
			if (a[i] != b[j])
				t++;
			j++;
		}
	}
	result = jaro_score(m, t / 2, la, lb);
	pfree(start);
	pfree(next);
	pfree(pos);
	pfree(fa);
	pfree(fb);
	return result;
}

/*
 * cdp_jaro_str
 *		Jaro similarity of two strings of characters.
 */
double
cdp_jaro_str(CdpString *a, CdpString *b)
{
	SymPair		pair;
	double		result;

	if (a->len == 0 && b->len == 0)
		return 1.0;
	if (a->len == 0 || b->len == 0)
		return 0.0;
	if (a->len <= CDP_INLINE_CHARS && b->len <= CDP_INLINE_CHARS &&
		a->chars == NULL && b->chars == NULL)
		return jaro_short_bytes(a->bytes, a->len, b->bytes, b->len);

	cdp_encode_pair(a, b, &pair);
	if (a->len <= CDP_INLINE_CHARS && b->len <= CDP_INLINE_CHARS)
		result = jaro_short_syms(pair.a.sym, pair.a.len, pair.b.sym, pair.b.len);
	else
		result = jaro_symbols(pair.a.sym, pair.a.len, pair.b.sym, pair.b.len,
							  pair.nsyms);
	cdp_release_pair(&pair);
	return result;
}

/*
 * common_prefix
 *		Number of equal leading characters of a and b, at most JW_PREFIX_MAX.
 */
static int
common_prefix(CdpString *a, CdpString *b)
{
	int			n = Min(Min(a->len, b->len), JW_PREFIX_MAX);
	int			l = 0;

	if (a->chars == NULL && b->chars == NULL)
	{
		while (l < n && a->bytes[l] == b->bytes[l])
			l++;
	}
	else
	{
		cdp_string_force_wide(a);
		cdp_string_force_wide(b);
		while (l < n && a->chars[l] == b->chars[l])
			l++;
	}
	return l;
}

/*
 * cdp_jaro_winkler_str
 *		Jaro-Winkler similarity with the given prefix scale (0..0.25).
 */
double
cdp_jaro_winkler_str(CdpString *a, CdpString *b, double prefix_scale)
{
	double		j = cdp_jaro_str(a, b);

	if (j > JW_BOOST_THRESHOLD)
		j += common_prefix(a, b) * prefix_scale * (1.0 - j);
	return j;
}

/*
 * cdp_jaro_bytes, cdp_jaro_winkler_bytes
 *		The same on raw strings in the server encoding.
 */
double
cdp_jaro_bytes(const char *a, int la, const char *b, int lb)
{
	CdpString	sa,
				sb;

	cdp_string_init(&sa, a, la);
	cdp_string_init(&sb, b, lb);
	return cdp_jaro_str(&sa, &sb);
}

double
cdp_jaro_winkler_bytes(const char *a, int la, const char *b, int lb,
					   double prefix_scale)
{
	CdpString	sa,
				sb;

	cdp_string_init(&sa, a, la);
	cdp_string_init(&sb, b, lb);
	return cdp_jaro_winkler_str(&sa, &sb, prefix_scale);
}

/*
 * cdp_jaro(a text, b text) -> float8
 */
Datum
cdp_jaro(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	text	   *b = PG_GETARG_TEXT_PP(1);

	PG_RETURN_FLOAT8(cdp_jaro_bytes(VARDATA_ANY(a), VARSIZE_ANY_EXHDR(a),
									VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b)));
}

/*
 * cdp_jaro_winkler(a text, b text, prefix_scale float8) -> float8
 *		prefix_scale must lie in [0, 0.25], beyond which the score could
 *		exceed 1.
 */
Datum
cdp_jaro_winkler(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	text	   *b = PG_GETARG_TEXT_PP(1);
	float8		p = PG_GETARG_FLOAT8(2);

	if (!(p >= 0.0 && p <= 0.25))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("prefix_scale must be between 0 and 0.25"),
				 errdetail("The value given was %g.", p),
				 errhint("Winkler's standard value is 0.1; above 0.25 scores could exceed 1.")));
	PG_RETURN_FLOAT8(cdp_jaro_winkler_bytes(VARDATA_ANY(a), VARSIZE_ANY_EXHDR(a),
											VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), p));
}

/*
 * cdp_edit_similarity(a text, b text) -> float8
 *		1 - levenshtein(a, b) / max(length(a), length(b)); 1 for two empty
 *		strings.
 */
Datum
cdp_edit_similarity(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	text	   *b = PG_GETARG_TEXT_PP(1);
	CdpString	sa,
				sb;
	int			longest;

	cdp_string_from_text(&sa, a);
	cdp_string_from_text(&sb, b);
	longest = Max(sa.len, sb.len);
	if (longest == 0)
		PG_RETURN_FLOAT8(1.0);
	PG_RETURN_FLOAT8(1.0 - (double) cdp_levenshtein_str(&sa, &sb, -1) / longest);
}

/*
 * A token of a multi-word value: an offset and length into a lowercased,
 * ASCII-folded copy of the value.
 */
typedef struct Token
{
	int			off;
	int			len;
} Token;

#define TOKENS_ON_STACK 32

/* bound on the word pairs one token_similarity call scores (about a second) */
#define TOKEN_MAX_PAIRS (1 << 24)

/*
 * tokenize
 *		Lowercase and fold s to ASCII into *buf and split it into tokens:
 *		maximal runs of ASCII letters and digits and of characters outside
 *		ASCII (letters of other scripts).  Everything else separates
 *		tokens.  Returns the number of tokens; *tokens is either the
 *		caller's stack array (when they fit) or palloc'd.
 */
static int
tokenize(const char *s, int len, char **buf, Token **tokens, Token *stack)
{
	char	   *t;
	int			tlen;
	int			n = 0;
	int			cap = TOKENS_ON_STACK;
	Token	   *tok = stack;
	int			i = 0;

	t = cdp_fold_ascii(s, len, &tlen);
	for (i = 0; i < tlen; i++)
		if (t[i] >= 'A' && t[i] <= 'Z')
			t[i] += 'a' - 'A';

	i = 0;
	while (i < tlen)
	{
		int			startpos;

		while (i < tlen && IS_HIGHBIT_SET(t[i]) == false &&
			   !((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9')))
			i++;
		if (i >= tlen)
			break;
		startpos = i;
		while (i < tlen && (IS_HIGHBIT_SET(t[i]) ||
							(t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9')))
			i++;
		if (n == cap)
		{
			Token	   *bigger = palloc((Size) cap * 2 * sizeof(Token));

			memcpy(bigger, tok, (Size) cap * sizeof(Token));
			if (tok != stack)
				pfree(tok);
			tok = bigger;
			cap *= 2;
		}
		tok[n].off = startpos;
		tok[n].len = i - startpos;
		n++;
	}
	*buf = t;
	*tokens = tok;
	return n;
}

/*
 * cdp_token_similarity(a text, b text) -> float8
 *		Order-independent similarity of multi-word values.  Both values are
 *		lowercased, folded to ASCII and split into tokens (runs of letters
 *		and digits).  Every token is paired with its most similar token of
 *		the other value by Jaro-Winkler; the score is the mean, over both
 *		directions, of the average best score of each token (a symmetric
 *		Monge-Elkan similarity):
 *
 *		  score = ( avg_i max_j jw(a_i, b_j) + avg_j max_i jw(a_i, b_j) ) / 2
 *
 *		Two values without tokens score 1, one without tokens scores 0.
 */
Datum
cdp_token_similarity(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	text	   *b = PG_GETARG_TEXT_PP(1);
	Token		stack_a[TOKENS_ON_STACK];
	Token		stack_b[TOKENS_ON_STACK];
	double		stack_best_b[TOKENS_ON_STACK];
	Token	   *ta,
			   *tb;
	char	   *bufa,
			   *bufb;
	int			na,
				nb;
	double	   *best_b;
	double		sum_a = 0.0;
	double		sum_b = 0.0;
	int			i,
				j;

	na = tokenize(VARDATA_ANY(a), VARSIZE_ANY_EXHDR(a), &bufa, &ta, stack_a);
	nb = tokenize(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), &bufb, &tb, stack_b);
	if (na == 0 || nb == 0)
		PG_RETURN_FLOAT8((na == 0 && nb == 0) ? 1.0 : 0.0);
	if ((Size) na * (Size) nb > TOKEN_MAX_PAIRS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("values have too many words for token_similarity"),
				 errdetail("The values have %d and %d words, %zu pairs to score; the limit is %d.",
						   na, nb, (Size) na * (Size) nb, TOKEN_MAX_PAIRS),
				 errhint("Compare shorter values, or one long value with a short one.")));

	best_b = (nb <= TOKENS_ON_STACK) ? stack_best_b :
		palloc((Size) nb * sizeof(double));
	for (j = 0; j < nb; j++)
		best_b[j] = 0.0;

	for (i = 0; i < na; i++)
	{
		double		best_a = 0.0;

		for (j = 0; j < nb; j++)
		{
			double		s;

			if (ta[i].len == tb[j].len &&
				memcmp(bufa + ta[i].off, bufb + tb[j].off, ta[i].len) == 0)
				s = 1.0;
			else
				s = cdp_jaro_winkler_bytes(bufa + ta[i].off, ta[i].len,
										   bufb + tb[j].off, tb[j].len, 0.1);
			if (s > best_a)
				best_a = s;
			if (s > best_b[j])
				best_b[j] = s;
		}
		sum_a += best_a;
		if ((i & 255) == 255)
			CHECK_FOR_INTERRUPTS();
	}
	for (j = 0; j < nb; j++)
		sum_b += best_b[j];

	PG_RETURN_FLOAT8((sum_a / na + sum_b / nb) / 2.0);
}
