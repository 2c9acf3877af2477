/*-------------------------------------------------------------------------
 *
 * normalize.h
 *	  Internal declarations shared by the normalisers: normalize.c (the
 *	  common machinery and normalize_text), person_name.c, address.c
 *	  (addresses and organisations) and email.c.
 *
 * The normalisers look at text the same way: a character class for every
 * character, input decoded to UTF-8 and optionally folded to ASCII, output
 * converted back to the server encoding and lowercased, dictionaries
 * searched with bsearch, and (for names, addresses and organisations) one
 * tokenizer.  This header declares that common ground; it is not part of
 * the interface of the other C files, which is pg_cdp.h.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NORMALIZE_H
#define NORMALIZE_H

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"


/* ======================================================================
 * Character classes
 * ====================================================================== */

typedef enum CharClass
{
	CC_WORD,					/* letter, digit or mark of any script */
	CC_SPACE,					/* white space */
	CC_APOS,					/* apostrophe: joins the letters around it */
	CC_HYPHEN,					/* hyphen or dash used as a hyphen */
	CC_IGNORE,					/* invisible format character (soft hyphen) */
	CC_SYMBOL					/* any other punctuation, symbol or control */
} CharClass;

/* a byte that is not part of valid UTF-8 (possible in SQL_ASCII) */
#define BAD_CHAR	((pg_wchar) 0xFFFFFFFF)

extern CharClass cdp_unicode_class(pg_wchar cp);

/*
 * ascii_class
 *		Class of the 7-bit character c.
 */
static inline CharClass
ascii_class(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9'))
		return CC_WORD;
	if (c == ' ' || (c >= '\t' && c <= '\r'))
		return CC_SPACE;
	if (c == '\'' || c == '`')
		return CC_APOS;
	if (c == '-')
		return CC_HYPHEN;
	return CC_SYMBOL;
}

/*
 * decode_utf8
 *		Decode the UTF-8 character at p (before end) into *cp and return its
 *		length in bytes.  An ill-formed sequence yields BAD_CHAR and length
 *		1, so that SQL_ASCII data with arbitrary bytes is scanned safely.
 */
static inline int
decode_utf8(const unsigned char *p, const unsigned char *end, pg_wchar *cp)
{
	unsigned char c = p[0];
	pg_wchar	v;

	if (c < 0x80)
	{
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c < 0xE0 && end - p >= 2 && (p[1] & 0xC0) == 0x80)
	{
		*cp = ((pg_wchar) (c & 0x1F) << 6) | (p[1] & 0x3F);
		return 2;
	}
	if (c >= 0xE0 && c < 0xF0 && end - p >= 3 &&
		(p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80)
	{
		v = ((pg_wchar) (c & 0x0F) << 12) | ((pg_wchar) (p[1] & 0x3F) << 6) |
			(p[2] & 0x3F);
		if (v >= 0x800 && (v < 0xD800 || v > 0xDFFF))
		{
			*cp = v;
			return 3;
		}
	}
	else if (c >= 0xF0 && c < 0xF5 && end - p >= 4 &&
			 (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80 &&
			 (p[3] & 0xC0) == 0x80)
	{
		v = ((pg_wchar) (c & 0x07) << 18) | ((pg_wchar) (p[1] & 0x3F) << 12) |
			((pg_wchar) (p[2] & 0x3F) << 6) | (p[3] & 0x3F);
		if (v >= 0x10000 && v <= 0x10FFFF)
		{
			*cp = v;
			return 4;
		}
	}
	*cp = BAD_CHAR;
	return 1;
}

/*
 * char_at
 *		Class of the character at s[pos] (s has len bytes); its length in
 *		bytes goes to *clen and its code point to *cp.
 */
static inline CharClass
char_at(const unsigned char *s, int len, int pos, int *clen, pg_wchar *cp)
{
	unsigned char c = s[pos];

	if (c < 0x80)
	{
		*clen = 1;
		*cp = c;
		return ascii_class(c);
	}
	*clen = decode_utf8(s + pos, s + len, cp);
	return cdp_unicode_class(*cp);
}

/* char_at without the code point */
static inline CharClass
class_at(const unsigned char *s, int len, int pos, int *clen)
{
	pg_wchar	cp;

	return char_at(s, len, pos, clen, &cp);
}


/* ======================================================================
 * Input preparation and output
 * ====================================================================== */

/*
 * The text a normaliser scans: UTF-8 (or plain ASCII), possibly folded.
 */
typedef struct NormInput
{
	const unsigned char *s;
	int			len;
	bool		converted;		/* decoded from a non-UTF-8 server encoding */
} NormInput;

extern void cdp_norm_input_init(NormInput *in, const char *s, int len, bool fold,
							bool fold_symbols, bool lower);
extern char *cdp_finish_output(char *data, int len, bool converted, bool lower,
						   int *outlen);


/* ======================================================================
 * Sorted dictionaries
 * ====================================================================== */

extern void cdp_check_table_sorted(const void *table, int n, Size stride,
							   const char *name);
extern int	cdp_table_key_cmp(const void *key, const void *entry);

/*
 * table_find
 *		Look the NUL-terminated word up in a sorted table of n entries of
 *		stride bytes whose first member is the key; NULL when absent.
 */
static inline const void *
table_find(const char *word, const void *table, int n, Size stride)
{
	return bsearch(word, table, n, stride, cdp_table_key_cmp);
}

#define TABLE_FIND(word, table) \
	table_find((word), (table), lengthof(table), sizeof((table)[0]))

/*
 * Verify once per backend that every dictionary of the normalisers is
 * sorted (cdp_check_tables, in normalize.c), one file's tables at a time.
 */
extern void cdp_check_tables(void);
extern void cdp_check_name_tables(void);
extern void cdp_check_address_tables(void);
extern void cdp_check_org_tables(void);


/* ======================================================================
 * Number words and ordinals (normalize.c)
 * ====================================================================== */

#define NW_UNIT			0		/* zero .. nineteen */
#define NW_TENS			1		/* twenty .. ninety */
#define NW_HUNDRED		2
#define NW_THOUSAND		3
#define NW_AND			4

typedef struct NumberWord
{
	const char *word;
	uint8		kind;			/* NW_* */
	bool		ordinal;
	int16		value;
} NumberWord;

#define NUMBER_WORD_MAX 12		/* longer than any entry */

extern const NumberWord *cdp_number_word_find(const char *word);
extern const char *cdp_ordinal_suffix(const unsigned char *d, int nd);
extern int	cdp_ordinal_digits(const unsigned char *w, int n, bool strict);


/* ======================================================================
 * Tokens: the common ground of names, addresses and organisations
 * ====================================================================== */

#define TOKMODE_NAME		0
#define TOKMODE_ADDRESS		1
#define TOKMODE_ORG			2

#define TOK_GLUED		0x01	/* joined to the previous token by one '.' or '/' */
#define TOK_HASH		0x02	/* a '#' (addresses) */
#define TOK_AMP			0x04	/* a '&' (organisations), text "and" */
#define TOK_NONASCII	0x08	/* has non-ASCII characters */

typedef struct Token
{
	int			start;			/* offset of its NUL-terminated text */
	int			len;			/* length in bytes */
	int			part;			/* number of commas before it */
	int			flags;			/* TOK_* */
} Token;

typedef struct TokenList
{
	StringInfoData text;		/* the tokens' texts, each NUL-terminated */
	Token	   *tok;
	int			ntok;
	int			maxtok;
	int			ncommas;
	bool		converted;		/* the input was not UTF-8 */
} TokenList;

#define TOKTEXT(tl, i)	((tl)->text.data + (tl)->tok[(i)].start)

extern void cdp_tokenize(const char *str, int len, int mode, TokenList *tl);
extern void cdp_join_tokens(StringInfo out, TokenList *tl, int from, int to);

#endif							/* NORMALIZE_H */
