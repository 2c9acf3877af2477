/*-------------------------------------------------------------------------
 *
 * pg_cdp.h
 *	  Declarations shared between the C files of pg_cdp.
 *
 * The kernels (distance.c, jaro.c, the normalisers normalize.c,
 * person_name.c, address.c and email.c, phone.c, metaphone.c) are pure
 * functions of their arguments; names.c adds the nickname knowledge, which
 * lives in the table cdp.nickname and is cached per backend.  What the
 * normalisers share among themselves is in normalize.h.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_CDP_H
#define PG_CDP_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"

/*
 * Upper bound on the number of cells a quadratic-memory algorithm (the
 * unrestricted Damerau-Levenshtein distance) may allocate.  Inputs beyond
 * it are refused with SQLSTATE 54000 rather than allocating without bound.
 */
#define CDP_MAX_MATRIX_CELLS	((Size) 1 << 24)

/* ---- textutil.c: character handling shared by every kernel ---- */

/*
 * A string seen as characters.  For pure-ASCII input "bytes" points at the
 * original data and "chars" is NULL (every byte is one character); otherwise
 * "chars" holds one pg_wchar per character.  Kernels compare characters only
 * for equality, so the pg_wchar code of any server encoding works; code that
 * needs Unicode code points (ASCII folding) converts to UTF-8 first.
 */
#define CDP_INLINE_CHARS 64

typedef struct CdpString
{
	const char *bytes;			/* data in the server encoding */
	int			nbytes;			/* its length in bytes */
	int			len;			/* its length in characters */
	pg_wchar   *chars;			/* NULL when the string is pure ASCII */
	pg_wchar	inline_chars[CDP_INLINE_CHARS + 1]; /* chars of short strings */
} CdpString;

extern bool cdp_is_ascii(const char *s, int len);
extern void cdp_string_init(CdpString *str, const char *s, int nbytes);

/* a text argument (detoasted, possibly short-header) as a CdpString */
static inline void
cdp_string_from_text(CdpString *str, text *t)
{
	cdp_string_init(str, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}
extern void cdp_string_force_wide(CdpString *str);
extern void cdp_strip_common_affixes(const char **a, int *la, const char **b, int *lb);

/*
 * A pair of strings reduced to small integer symbols, so that equal
 * characters get equal symbols: an ASCII character is its own code, any
 * other character gets 128 + a number in order of first appearance.  Short
 * strings are encoded into the pair's own buffers (no allocation); a SymPair
 * must therefore not be copied.  Release it with cdp_release_pair.
 */
typedef struct SymString
{
	const uint32 *sym;
	int			len;
} SymString;

typedef struct SymPair
{
	SymString	a;
	SymString	b;
	int			nsyms;			/* symbols are < nsyms; 128 for ASCII */
	uint32		inline_a[CDP_INLINE_CHARS];
	uint32		inline_b[CDP_INLINE_CHARS];
} SymPair;

extern void cdp_encode_pair(CdpString *a, CdpString *b, SymPair *out);
extern void cdp_release_pair(SymPair *pair);

/*
 * ASCII folding.  Letters with diacritics, ligatures and compatibility forms
 * become their ASCII spelling (é -> e, ß -> ss, Ø -> O, ﬁ -> fi); characters
 * with no ASCII spelling are kept as they are.  Case is preserved.  The
 * result is palloc'd, NUL-terminated and in the server encoding.
 */
extern char *cdp_fold_ascii(const char *s, int len, int *outlen);

/* Append the ASCII folding of a single Unicode code point; false if none. */
extern bool cdp_fold_codepoint(pg_wchar cp, StringInfo out);

/* ---- jaro.c ---- */
extern double cdp_jaro_bytes(const char *a, int la, const char *b, int lb);
extern double cdp_jaro_winkler_bytes(const char *a, int la, const char *b, int lb,
									 double prefix_scale);
extern double cdp_jaro_str(CdpString *a, CdpString *b);
extern double cdp_jaro_winkler_str(CdpString *a, CdpString *b, double prefix_scale);

/* ---- distance.c ---- */
extern int	cdp_levenshtein_str(CdpString *a, CdpString *b, int max_distance);

/* ---- person_name.c ---- */

/*
 * The normal form of a person's name used by name matching: lowercase
 * ASCII, titles and suffixes removed, "Last, First" reordered to
 * "first last", punctuation dropped, hyphens turned into spaces, one space
 * between tokens.  Returns a palloc'd string, "" when nothing is left.
 */
extern char *cdp_normalize_name_cstr(const char *s, int len);

/* ---- names.c ---- */
extern void cdp_nickname_invalidate(Datum arg, Oid relid);
extern void cdp_define_gucs(void);

#endif							/* PG_CDP_H */
