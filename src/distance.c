/*-------------------------------------------------------------------------
 *
 * distance.c
 *	  Edit distances between strings: Levenshtein, optimal string
 *	  alignment (restricted Damerau-Levenshtein) and the unrestricted
 *	  Damerau-Levenshtein distance.
 *
 * All distances count characters, not bytes.  Levenshtein uses the
 * bit-parallel algorithm of Myers (1999) in Hyyrö's formulation: one
 * machine word per 64 characters of the shorter string, so a pair of
 * names costs a few dozen word operations per character of the longer
 * one.  Patterns longer than 64 characters run the blocked version over
 * as many words as needed; with a small max_distance a banded dynamic
 * program (Ukkonen) is used instead, and both stop as soon as the result
 * is known to exceed the limit.  Memory is linear in the input.
 *
 * The optimal string alignment distance uses Hyyrö's (2002) bit-parallel
 * extension of the same algorithm for up to 64 characters and a three-row
 * dynamic program beyond.  The unrestricted distance needs the full matrix
 * (Lowrance and Wagner, 1975) and refuses inputs whose matrix would exceed
 * CDP_MAX_MATRIX_CELLS cells.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "pg_cdp.h"

PG_FUNCTION_INFO_V1(cdp_levenshtein);
PG_FUNCTION_INFO_V1(cdp_levenshtein_max);
PG_FUNCTION_INFO_V1(cdp_osa_distance);
PG_FUNCTION_INFO_V1(cdp_damerau_levenshtein);

/*
 * myers_column
 *		Advance Myers' bit vectors by one column of the distance matrix for
 *		a pattern of at most 64 symbols.  eq has the pattern positions that
 *		equal the text character; last is the bit of the pattern's last
 *		row.  Returns the change (-1, 0 or +1) of the distance in that row.
 */
static inline int
myers_column(uint64 eq, uint64 *vp, uint64 *vn, uint64 last)
{
	uint64		d0 = (((eq & *vp) + *vp) ^ *vp) | eq | *vn;
	uint64		hp = *vn | ~(d0 | *vp);
	uint64		hn = *vp & d0;
	uint64		x = (hp << 1) | 1;

	*vn = x & d0;
	*vp = (hn << 1) | ~(x | d0);
	return (hp & last) ? 1 : ((hn & last) ? -1 : 0);
}

/*
 * myers_short
 *		Levenshtein distance for a pattern of 1..64 symbols against a text,
 *		one machine word per column.  peq[s] holds the positions of symbol
 *		s in the pattern.  Stops early, returning max_distance + 1, once
 *		the distance cannot come back under max_distance (< 0: no limit).
 */
static int
myers_short(const uint64 *peq, int m, const uint32 *text, int n, int max_distance)
{
	uint64		vp = (m == 64) ? ~UINT64CONST(0) : ((UINT64CONST(1) << m) - 1);
	uint64		vn = 0;
	uint64		last = UINT64CONST(1) << (m - 1);
	int			score = m;
	int			j;

	for (j = 0; j < n; j++)
	{
		score += myers_column(peq[text[j]], &vp, &vn, last);
		/* each remaining column can lower the score by at most one */
		if (max_distance >= 0 && score - (n - j - 1) > max_distance)
			return max_distance + 1;
	}
	return score;
}

/*
 * myers_blocked
 *		Levenshtein distance for a pattern of any length, in blocks of 64
 *		rows (Myers' block-based algorithm).  peq holds nblocks words per
 *		symbol.
 */
static int
myers_blocked(const uint64 *peq, int m, int nblocks, const uint32 *text, int n,
			  int max_distance)
{
	uint64	   *vp = palloc((Size) nblocks * sizeof(uint64));
	uint64	   *vn = palloc0((Size) nblocks * sizeof(uint64));
	int			lastbits = m - (nblocks - 1) * 64;
	uint64		last = UINT64CONST(1) << (lastbits - 1);
	int			score = m;
	int			j,
				b;

	for (b = 0; b < nblocks; b++)
		vp[b] = ~UINT64CONST(0);

	for (j = 0; j < n; j++)
	{
		const uint64 *eqs = peq + (Size) text[j] * nblocks;
		int			hcarry = 1; /* the top row grows by one per column */

		for (b = 0; b < nblocks; b++)
		{
			uint64		eq = eqs[b];
			uint64		pv = vp[b];
			uint64		mv = vn[b];
			uint64		xv = eq | mv;
			uint64		xh;
			uint64		ph;
			uint64		mh;
			uint64		high = (b == nblocks - 1) ? last : (UINT64CONST(1) << 63);
			int			hout;

			if (hcarry < 0)
				eq |= 1;
			xh = (((eq & pv) + pv) ^ pv) | eq;
			ph = mv | ~(xh | pv);
			mh = pv & xh;
			hout = (ph & high) ? 1 : ((mh & high) ? -1 : 0);
			ph <<= 1;
			mh <<= 1;
			if (hcarry < 0)
				mh |= 1;
			else if (hcarry > 0)
				ph |= 1;
			vp[b] = mh | ~(xv | ph);
			vn[b] = ph & xv;
			hcarry = hout;
		}
		score += hcarry;

		if (max_distance >= 0 && score - (n - j - 1) > max_distance)
		{
			score = max_distance + 1;
			break;
		}
		if ((j & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(vp);
	pfree(vn);
	return score;
}

/*
 * banded_levenshtein
 *		Levenshtein distance bounded by k >= 0 (Ukkonen's band): only the
 *		cells within k of the diagonal are computed.  Returns k + 1 when the
 *		distance exceeds k.  The caller guarantees |m - n| <= k.
 */
static int
banded_levenshtein(const uint32 *a, int m, const uint32 *b, int n, int k)
{
	int			big = k + 1;
	int		   *prev = palloc((Size) (m + 1) * sizeof(int));
	int		   *cur = palloc((Size) (m + 1) * sizeof(int));
	int			i,
				j;
	int			result;

	for (i = 0; i <= m; i++)
		prev[i] = (i <= k) ? i : big;

	for (j = 1; j <= n; j++)
	{
		int			lo = Max(1, j - k);
		int			hi = Min(m, j + k);
		int			rowmin = big;
		int		   *tmp;

		cur[lo - 1] = (lo == 1) ? ((j <= k) ? j : big) : big;
		for (i = lo; i <= hi; i++)
		{
			int			v = prev[i - 1] + (a[i - 1] != b[j - 1]);
			int			ins = cur[i - 1] + 1;
			/* prev[i] lies outside the previous band when i == j - 1 + k + 1 */
			int			del = (i <= j - 1 + k) ? prev[i] + 1 : big;

			if (ins < v)
				v = ins;
			if (del < v)
				v = del;
			if (v > big)
				v = big;
			cur[i] = v;
			if (v < rowmin)
				rowmin = v;
		}
		if (hi < m)
			cur[hi + 1] = big;
		if (lo == 1 && cur[0] < rowmin)
			rowmin = cur[0];
		if (rowmin > k)
		{
			pfree(prev);
			pfree(cur);
			return big;
		}
		tmp = prev;
		prev = cur;
		cur = tmp;
		if ((j & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	result = Min(prev[m], big);
	pfree(prev);
	pfree(cur);
	return result;
}

/*
 * plain_levenshtein
 *		Two-row dynamic program, used only when the bit-vector tables of a
 *		long pattern with a large alphabet would not fit in memory.
 */
static int
plain_levenshtein(const uint32 *a, int m, const uint32 *b, int n, int max_distance)
{
	int		   *prev = palloc((Size) (m + 1) * sizeof(int));
	int		   *cur = palloc((Size) (m + 1) * sizeof(int));
	int			i,
				j;
	int			result;

	for (i = 0; i <= m; i++)
		prev[i] = i;
	for (j = 1; j <= n; j++)
	{
		int		   *tmp;
		int			rowmin;

		cur[0] = j;
		rowmin = j;
		for (i = 1; i <= m; i++)
		{
			int			v = prev[i - 1] + (a[i - 1] != b[j - 1]);

			if (prev[i] + 1 < v)
				v = prev[i] + 1;
			if (cur[i - 1] + 1 < v)
				v = cur[i - 1] + 1;
			cur[i] = v;
			if (v < rowmin)
				rowmin = v;
		}
		tmp = prev;
		prev = cur;
		cur = tmp;
		if (max_distance >= 0 && rowmin > max_distance)
		{
			pfree(prev);
			pfree(cur);
			return max_distance + 1;
		}
		CHECK_FOR_INTERRUPTS();
	}
	result = prev[m];
	pfree(prev);
	pfree(cur);
	return result;
}

/*
 * levenshtein_ascii_short
 *		The common case: two ASCII strings, the shorter (pattern) of 1..64
 *		characters.  No allocation at all.
 */
static int
levenshtein_ascii_short(const char *p, int m, const char *t, int n, int max_distance)
{
	uint64		peq[128];
	uint64		vp = (m == 64) ? ~UINT64CONST(0) : ((UINT64CONST(1) << m) - 1);
	uint64		vn = 0;
	uint64		last = UINT64CONST(1) << (m - 1);
	int			score = m;
	int			i,
				j;

	memset(peq, 0, sizeof(peq));
	for (i = 0; i < m; i++)
		peq[(unsigned char) p[i]] |= UINT64CONST(1) << i;

	for (j = 0; j < n; j++)
	{
		score += myers_column(peq[(unsigned char) t[j]], &vp, &vn, last);
		if (max_distance >= 0 && score - (n - j - 1) > max_distance)
			return max_distance + 1;
	}
	return score;
}

/* symbol tables of at most this many entries live on the stack */
#define PEQ_ON_STACK 512

/*
 * build_peq
 *		The bit table of a pattern of 1..64 symbols (ps, m) for a text (ts,
 *		n) over nsyms symbols: entry s has bit i set when ps[i] = s.  Uses
 *		stack_peq (PEQ_ON_STACK entries) when the symbols fit, clearing only
 *		the entries the pattern and the text will touch; otherwise returns a
 *		palloc'd table.
 */
static uint64 *
build_peq(const uint32 *ps, int m, const uint32 *ts, int n, int nsyms,
		  uint64 *stack_peq)
{
	uint64	   *peq;
	int			i;

	if (nsyms <= PEQ_ON_STACK)
	{
		peq = stack_peq;
		for (i = 0; i < n; i++)
			peq[ts[i]] = 0;
		for (i = 0; i < m; i++)
			peq[ps[i]] = 0;
	}
	else
		peq = palloc0((Size) nsyms * sizeof(uint64));
	for (i = 0; i < m; i++)
		peq[ps[i]] |= UINT64CONST(1) << i;
	return peq;
}

/*
 * cdp_levenshtein_str
 *		Levenshtein distance between two strings, in characters.  With
 *		max_distance >= 0 the result is capped at max_distance + 1, and the
 *		work stops as soon as that is known.
 */
int
cdp_levenshtein_str(CdpString *a, CdpString *b, int max_distance)
{
	SymPair		pair;
	const uint32 *ps,
			   *ts;
	int			m,
				n;
	int			result;

	/* ASCII: strip the common prefix and suffix, which never change the distance */
	if (a->chars == NULL && b->chars == NULL)
	{
		const char *pa = a->bytes;
		const char *pb = b->bytes;
		int			la = a->len;
		int			lb = b->len;

		while (la > 0 && lb > 0 && *pa == *pb)
			pa++, pb++, la--, lb--;
		while (la > 0 && lb > 0 && pa[la - 1] == pb[lb - 1])
			la--, lb--;
		if (la > lb)
		{
			const char *tp = pa;
			int			tl = la;

			pa = pb;
			la = lb;
			pb = tp;
			lb = tl;
		}
		/* now la <= lb */
		if (max_distance >= 0 && lb - la > max_distance)
			return max_distance + 1;
		if (la == 0)
			return (max_distance >= 0 && lb > max_distance) ? max_distance + 1 : lb;
		if (la <= 64)
			return levenshtein_ascii_short(pa, la, pb, lb, max_distance);
	}

	/* general case: symbols, shorter string as the pattern */
	cdp_encode_pair(a, b, &pair);
	{
		SymString  *p = &pair.a;
		SymString  *t = &pair.b;
		int			pre = 0;

		if (p->len > t->len)
		{
			p = &pair.b;
			t = &pair.a;
		}
		ps = p->sym;
		ts = t->sym;
		m = p->len;
		n = t->len;
		while (pre < m && ps[pre] == ts[pre])
			pre++;
		ps += pre;
		ts += pre;
		m -= pre;
		n -= pre;
		while (m > 0 && ps[m - 1] == ts[n - 1])
			m--, n--;
	}

	if (max_distance >= 0 && n - m > max_distance)
		result = max_distance + 1;
	else if (m == 0)
		result = (max_distance >= 0 && n > max_distance) ? max_distance + 1 : n;
	else if (m <= 64)
	{
		uint64		stack_peq[PEQ_ON_STACK];
		uint64	   *peq = build_peq(ps, m, ts, n, pair.nsyms, stack_peq);

		result = myers_short(peq, m, ts, n, max_distance);
		if (peq != stack_peq)
			pfree(peq);
	}
	else if (max_distance >= 0 && max_distance < 32)
		result = banded_levenshtein(ps, m, ts, n, max_distance);
	else
	{
		int			nblocks = (m + 63) / 64;

		if ((Size) pair.nsyms * nblocks > ((Size) 1 << 24))
			result = plain_levenshtein(ps, m, ts, n, max_distance);
		else
		{
			uint64	   *peq = palloc0((Size) pair.nsyms * nblocks * sizeof(uint64));
			int			i;

			for (i = 0; i < m; i++)
				peq[(Size) ps[i] * nblocks + i / 64] |= UINT64CONST(1) << (i % 64);
			result = myers_blocked(peq, m, nblocks, ts, n, max_distance);
			pfree(peq);
		}
	}
	cdp_release_pair(&pair);
	return result;
}

/*
 * osa_short
 *		Optimal string alignment distance for a pattern of 1..64 symbols:
 *		Hyyrö's bit-parallel algorithm, Myers' recurrence plus a vector of
 *		the positions where an adjacent transposition ends.
 */
static int
osa_short(const uint64 *peq, int m, const uint32 *text, int n)
{
	uint64		vp = (m == 64) ? ~UINT64CONST(0) : ((UINT64CONST(1) << m) - 1);
	uint64		vn = 0;
	uint64		d0 = 0;
	uint64		prev_eq = 0;
	uint64		last = UINT64CONST(1) << (m - 1);
	int			score = m;
	int			j;

	for (j = 0; j < n; j++)
	{
		uint64		eq = peq[text[j]];
		uint64		tr = (((~d0) & eq) << 1) & prev_eq;
		uint64		hp,
					hn,
					x;

		d0 = (((eq & vp) + vp) ^ vp) | eq | vn | tr;
		hp = vn | ~(d0 | vp);
		hn = vp & d0;
		if (hp & last)
			score++;
		else if (hn & last)
			score--;
		x = (hp << 1) | 1;
		vn = x & d0;
		vp = (hn << 1) | ~(x | d0);
		prev_eq = eq;
	}
	return score;
}

/*
 * osa_dp
 *		Optimal string alignment distance by the three-row dynamic program.
 */
static int
osa_dp(const uint32 *a, int m, const uint32 *b, int n)
{
	int		   *r0 = palloc((Size) (m + 1) * sizeof(int));	/* row j - 2 */
	int		   *r1 = palloc((Size) (m + 1) * sizeof(int));	/* row j - 1 */
	int		   *r2 = palloc((Size) (m + 1) * sizeof(int));	/* row j */
	int			i,
				j;
	int			result;

	for (i = 0; i <= m; i++)
		r1[i] = i;
	for (j = 1; j <= n; j++)
	{
		int		   *tmp;

		r2[0] = j;
		for (i = 1; i <= m; i++)
		{
			int			v = r1[i - 1] + (a[i - 1] != b[j - 1]);

			if (r1[i] + 1 < v)
				v = r1[i] + 1;
			if (r2[i - 1] + 1 < v)
				v = r2[i - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
				r0[i - 2] + 1 < v)
				v = r0[i - 2] + 1;
			r2[i] = v;
		}
		tmp = r0;
		r0 = r1;
		r1 = r2;
		r2 = tmp;
		CHECK_FOR_INTERRUPTS();
	}
	result = r1[m];
	pfree(r0);
	pfree(r1);
	pfree(r2);
	return result;
}

/*
 * osa_distance_str
 *		Optimal string alignment distance between two strings.
 */
static int
osa_distance_str(CdpString *a, CdpString *b)
{
	SymPair		pair;
	SymString  *p,
			   *t;
	int			result;

	cdp_encode_pair(a, b, &pair);
	p = &pair.a;
	t = &pair.b;
	if (p->len > t->len)
	{
		p = &pair.b;
		t = &pair.a;
	}
	if (p->len == 0)
		result = t->len;
	else if (p->len <= 64)
	{
		uint64		stack_peq[PEQ_ON_STACK];
		uint64	   *peq = build_peq(p->sym, p->len, t->sym, t->len, pair.nsyms,
									stack_peq);

		result = osa_short(peq, p->len, t->sym, t->len);
		if (peq != stack_peq)
			pfree(peq);
	}
	else
		result = osa_dp(p->sym, p->len, t->sym, t->len);
	cdp_release_pair(&pair);
	return result;
}

/* distance matrices of up to 64 x 64 characters live on the stack */
#define DL_CELLS_ON_STACK (66 * 66)

/*
 * damerau_str
 *		Unrestricted Damerau-Levenshtein distance (Lowrance-Wagner): any
 *		number of edits may fall between the two characters of a
 *		transposition, so 'CA' -> 'ABC' costs 2.  Needs (m+2)(n+2) cells.
 */
static int
damerau_str(CdpString *a, CdpString *b)
{
	SymPair		pair;
	const uint32 *s,
			   *t;
	int			m,
				n;
	int		   *d;
	int		   *da;
	int			stack_d[DL_CELLS_ON_STACK];
	int			stack_da[PEQ_ON_STACK];
	int			maxdist;
	int			cols;
	int			i,
				j;
	int			result;

	cdp_encode_pair(a, b, &pair);
	s = pair.a.sym;
	t = pair.b.sym;
	m = pair.a.len;
	n = pair.b.len;
	if (m == 0 || n == 0)
	{
		result = m + n;
		goto done;
	}
	if ((Size) (m + 2) * (Size) (n + 2) > CDP_MAX_MATRIX_CELLS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("strings too long for damerau_levenshtein"),
				 errdetail("The unrestricted distance of strings of %d and %d characters needs %zu matrix cells; the limit is %zu.",
						   m, n, (Size) (m + 2) * (Size) (n + 2),
						   (Size) CDP_MAX_MATRIX_CELLS),
				 errhint("Use cdp.osa_distance or cdp.levenshtein, which need linear memory.")));

	cols = n + 2;
	d = ((Size) (m + 2) * cols <= DL_CELLS_ON_STACK) ? stack_d :
		palloc((Size) (m + 2) * cols * sizeof(int));
	if (pair.nsyms <= PEQ_ON_STACK)
	{
		/* only the symbols of the two strings are ever looked up */
		da = stack_da;
		for (i = 0; i < m; i++)
			da[s[i]] = 0;
		for (j = 0; j < n; j++)
			da[t[j]] = 0;
	}
	else
		da = palloc0((Size) pair.nsyms * sizeof(int));
	maxdist = m + n;
#define D(i, j) d[(Size) (i) * cols + (j)]
	D(0, 0) = maxdist;
	for (i = 0; i <= m; i++)
	{
		D(i + 1, 0) = maxdist;
		D(i + 1, 1) = i;
	}
	for (j = 0; j <= n; j++)
	{
		D(0, j + 1) = maxdist;
		D(1, j + 1) = j;
	}
	for (i = 1; i <= m; i++)
	{
		int			db = 0;

		for (j = 1; j <= n; j++)
		{
			int			k = da[t[j - 1]];
			int			l = db;
			int			cost = 1;
			int			v;

			if (s[i - 1] == t[j - 1])
			{
				cost = 0;
				db = j;
			}
			v = D(i, j) + cost;
			if (D(i + 1, j) + 1 < v)
				v = D(i + 1, j) + 1;
			if (D(i, j + 1) + 1 < v)
				v = D(i, j + 1) + 1;
			if (D(k, l) + (i - k - 1) + 1 + (j - l - 1) < v)
				v = D(k, l) + (i - k - 1) + 1 + (j - l - 1);
			D(i + 1, j + 1) = v;
		}
		da[s[i - 1]] = i;
		CHECK_FOR_INTERRUPTS();
	}
	result = D(m + 1, n + 1);
#undef D
	if (d != stack_d)
		pfree(d);
	if (da != stack_da)
		pfree(da);
done:
	cdp_release_pair(&pair);
	return result;
}

/*
 * levenshtein_args
 *		The Levenshtein distance of the first two (text) arguments, their
 *		common prefix and suffix cut off before they are decoded.
 */
static int
levenshtein_args(FunctionCallInfo fcinfo, int max_distance)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	text	   *b = PG_GETARG_TEXT_PP(1);
	const char *pa = VARDATA_ANY(a);
	const char *pb = VARDATA_ANY(b);
	int			la = VARSIZE_ANY_EXHDR(a);
	int			lb = VARSIZE_ANY_EXHDR(b);
	CdpString	sa,
				sb;

	cdp_strip_common_affixes(&pa, &la, &pb, &lb);
	cdp_string_init(&sa, pa, la);
	cdp_string_init(&sb, pb, lb);
	return cdp_levenshtein_str(&sa, &sb, max_distance);
}

/*
 * cdp_levenshtein(a text, b text) -> int
 *		The Levenshtein distance in characters.
 */
Datum
cdp_levenshtein(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(levenshtein_args(fcinfo, -1));
}

/*
 * cdp_levenshtein_max(a text, b text, max_distance int) -> int
 *		The Levenshtein distance, or max_distance + 1 when it is larger.
 */
Datum
cdp_levenshtein_max(PG_FUNCTION_ARGS)
{
	int32		max_distance = PG_GETARG_INT32(2);

	if (max_distance < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_distance must not be negative"),
				 errdetail("The value given was %d.", max_distance),
				 errhint("Pass 0 or more, or call cdp.levenshtein(a, b) for no limit.")));
	if (max_distance == PG_INT32_MAX)
		max_distance = PG_INT32_MAX - 1;	/* so that max_distance + 1 fits */
	PG_RETURN_INT32(levenshtein_args(fcinfo, max_distance));
}

/*
 * cdp_osa_distance(a text, b text) -> int
 *		The optimal string alignment (restricted Damerau-Levenshtein)
 *		distance: insertions, deletions, substitutions and transpositions
 *		of adjacent characters, no substring edited twice.
 */
Datum
cdp_osa_distance(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	text	   *b = PG_GETARG_TEXT_PP(1);
	CdpString	sa,
				sb;

	cdp_string_from_text(&sa, a);
	cdp_string_from_text(&sb, b);
	PG_RETURN_INT32(osa_distance_str(&sa, &sb));
}

/*
 * cdp_damerau_levenshtein(a text, b text) -> int
 *		The unrestricted Damerau-Levenshtein distance.
 */
Datum
cdp_damerau_levenshtein(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	text	   *b = PG_GETARG_TEXT_PP(1);
	CdpString	sa,
				sb;

	cdp_string_from_text(&sa, a);
	cdp_string_from_text(&sb, b);
	PG_RETURN_INT32(damerau_str(&sa, &sb));
}
