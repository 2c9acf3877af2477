/*-------------------------------------------------------------------------
 *
 * normalize.c
 *	  Normalisers that turn free text, e-mail addresses, person names,
 *	  postal addresses and organisation names into a canonical form, so
 *	  that records written differently compare equal.
 *
 * All five normalisers share one way of looking at text.  Non-ASCII input
 * is decoded once (from the server encoding to UTF-8 when the database is
 * not UTF-8), optionally folded to ASCII character by character, and then
 * scanned a single time.  Every character falls into one class: a word
 * character (a letter, digit or combining mark of any script), white space,
 * an apostrophe, a hyphen, an invisible format character, or a symbol.
 * The classes are decided from Unicode code points with a small range
 * table, so the result does not depend on the locale of the database.
 * Pure-ASCII input, the common case, is never copied or decoded.
 *
 * normalize_text applies its options in one pass over the words and
 * separators of the text.  The name, address and organisation normalisers
 * cut the text into tokens (lowercased, with apostrophes joining and every
 * other symbol separating) and then apply their dictionaries to whole
 * tokens: titles and suffixes for names, USPS Publication 28 abbreviations
 * for addresses, legal forms for organisations.  normalize_email validates
 * the shape of an address and applies the sub-addressing rules of the big
 * mailbox providers.
 *
 * Lowercasing of letters outside ASCII uses PostgreSQL's lower() machinery
 * (str_tolower with the database's default collation), run once over the
 * finished result and only when it contains such letters.  When a result
 * is both folded and lowercased, a letter that has no ASCII spelling but
 * whose lowercase form has one is folded through that form, so that every
 * normaliser is idempotent: f(f(x)) = f(x).
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/memutils.h"

#include "pg_cdp.h"

PG_FUNCTION_INFO_V1(cdp_normalize_text);
PG_FUNCTION_INFO_V1(cdp_normalize_email);
PG_FUNCTION_INFO_V1(cdp_normalize_name);
PG_FUNCTION_INFO_V1(cdp_normalize_address);
PG_FUNCTION_INFO_V1(cdp_normalize_org);

static void check_tables(void);


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

/*
 * Code point ranges that are punctuation, symbols, controls or private
 * use, sorted.  Everything outside ASCII that is not listed here (and not
 * one of the spaces, apostrophes, hyphens and invisible characters tested
 * before the table) counts as a word character.  The list follows the
 * Unicode general categories P*, S*, Cc, Cf and Co of the blocks where
 * they occur in real text; scripts' letters, digits and marks are words.
 */
typedef struct CodeRange
{
	pg_wchar	lo;
	pg_wchar	hi;
} CodeRange;

static const CodeRange symbol_ranges[] = {
	{0x0080, 0x009F}, {0x00A1, 0x00A9}, {0x00AB, 0x00AC}, {0x00AE, 0x00B1},
	{0x00B6, 0x00B8}, {0x00BB, 0x00BB}, {0x00BF, 0x00BF}, {0x00D7, 0x00D7},
	{0x00F7, 0x00F7}, {0x02C2, 0x02C5}, {0x02D2, 0x02DF}, {0x02E5, 0x02EB},
	{0x02ED, 0x02ED}, {0x02EF, 0x02FF}, {0x037E, 0x037E}, {0x0384, 0x0385},
	{0x0387, 0x0387}, {0x03F6, 0x03F6}, {0x0482, 0x0482}, {0x055A, 0x055F},
	{0x0589, 0x058A}, {0x058D, 0x058F}, {0x05BE, 0x05BE}, {0x05C0, 0x05C0},
	{0x05C3, 0x05C3}, {0x05C6, 0x05C6}, {0x05F3, 0x05F4}, {0x0600, 0x060F},
	{0x061B, 0x061F}, {0x066A, 0x066D}, {0x06D4, 0x06D4}, {0x06DD, 0x06DE},
	{0x06E9, 0x06E9}, {0x0700, 0x070F}, {0x07F6, 0x07F9}, {0x0964, 0x0965},
	{0x0970, 0x0970}, {0x0E3F, 0x0E3F}, {0x0E4F, 0x0E4F}, {0x0E5A, 0x0E5B},
	{0x104A, 0x104F}, {0x10FB, 0x10FB}, {0x1360, 0x1368}, {0x166D, 0x166E},
	{0x169B, 0x169C}, {0x16EB, 0x16ED}, {0x17D4, 0x17D6}, {0x17D8, 0x17DB},
	{0x1800, 0x180A}, {0x2014, 0x2027}, {0x2030, 0x205E}, {0x2061, 0x206F},
	{0x207A, 0x207E}, {0x208A, 0x208E}, {0x20A0, 0x20CF}, {0x2100, 0x2101},
	{0x2103, 0x2106}, {0x2108, 0x2109}, {0x2114, 0x2114}, {0x2116, 0x2118},
	{0x211E, 0x2123}, {0x2125, 0x2125}, {0x2127, 0x2127}, {0x2129, 0x2129},
	{0x212E, 0x212E}, {0x213A, 0x213B}, {0x2140, 0x2144}, {0x214A, 0x214D},
	{0x214F, 0x214F}, {0x2190, 0x245F}, {0x2500, 0x2BFF}, {0x2CF9, 0x2CFC},
	{0x2CFE, 0x2CFF}, {0x2E00, 0x2E7F}, {0x2FF0, 0x2FFF}, {0x3001, 0x3004},
	{0x3008, 0x3020}, {0x3030, 0x3030}, {0x3036, 0x3037}, {0x303D, 0x303F},
	{0x309B, 0x309C}, {0x30A0, 0x30A0}, {0x30FB, 0x30FB}, {0x31C0, 0x31E3},
	{0x4DC0, 0x4DFF}, {0xA490, 0xA4C6}, {0xA4FE, 0xA4FF}, {0xA60D, 0xA60F},
	{0xA673, 0xA673}, {0xA67E, 0xA67E}, {0xA6F2, 0xA6F7}, {0xA700, 0xA716},
	{0xA720, 0xA721}, {0xA789, 0xA78A}, {0xA828, 0xA82B}, {0xA830, 0xA839},
	{0xA874, 0xA877}, {0xA8CE, 0xA8CF}, {0xA8F8, 0xA8FA}, {0xA8FC, 0xA8FC},
	{0xA92E, 0xA92F}, {0xA95F, 0xA95F}, {0xA9C1, 0xA9CD}, {0xA9DE, 0xA9DF},
	{0xAA5C, 0xAA5F}, {0xAADE, 0xAADF}, {0xAAF0, 0xAAF1}, {0xAB5B, 0xAB5B},
	{0xAB6A, 0xAB6B}, {0xABEB, 0xABEB}, {0xD800, 0xF8FF}, {0xFB29, 0xFB29},
	{0xFD3E, 0xFD3F}, {0xFDFC, 0xFDFD}, {0xFE00, 0xFE19}, {0xFE30, 0xFE6B},
	{0xFF01, 0xFF0F}, {0xFF1A, 0xFF20}, {0xFF3B, 0xFF40}, {0xFF5B, 0xFF65},
	{0xFFE0, 0xFFEE}, {0xFFF0, 0xFFFF}, {0x1D000, 0x1D24F}, {0x1D300, 0x1D35F},
	{0x1F000, 0x1FBEF}, {0xE0000, 0xE0FFF}, {0xF0000, 0x10FFFF}
};

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
 * unicode_class
 *		Class of the non-ASCII code point cp (or BAD_CHAR, which is kept
 *		as a word character so that no byte is ever lost).
 */
static CharClass
unicode_class(pg_wchar cp)
{
	int			lo,
				hi;

	/* Latin letters, the bulk of non-ASCII customer data */
	if (cp >= 0x00C0 && cp <= 0x024F)
		return (cp == 0x00D7 || cp == 0x00F7) ? CC_SYMBOL : CC_WORD;

	switch (cp)
	{
		case 0x0085:
		case 0x00A0:
		case 0x1680:
		case 0x2028:
		case 0x2029:
		case 0x202F:
		case 0x205F:
		case 0x3000:
			return CC_SPACE;
		case 0x00B4:			/* acute accent typed as an apostrophe */
		case 0x02BC:			/* modifier letter apostrophe */
		case 0x2018:
		case 0x2019:
		case 0xFF07:
			return CC_APOS;
		case 0x2010:
		case 0x2011:
		case 0x2012:
		case 0x2013:
		case 0x2212:
		case 0xFE63:
		case 0xFF0D:
			return CC_HYPHEN;
		case 0x00AD:			/* soft hyphen */
		case 0x034F:			/* combining grapheme joiner */
		case 0x180E:
		case 0x200B:			/* zero width space */
		case 0x2060:			/* word joiner */
		case 0xFEFF:			/* zero width no-break space */
			return CC_IGNORE;
		case 0x200C:			/* zero width (non-)joiners live inside words */
		case 0x200D:
			return CC_WORD;
		case BAD_CHAR:
			return CC_WORD;
	}
	if (cp >= 0x2000 && cp <= 0x200A)
		return CC_SPACE;

	lo = 0;
	hi = lengthof(symbol_ranges) - 1;
	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (cp < symbol_ranges[mid].lo)
			hi = mid - 1;
		else if (cp > symbol_ranges[mid].hi)
			lo = mid + 1;
		else
			return CC_SYMBOL;
	}
	return CC_WORD;
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
	return unicode_class(*cp);
}

/* char_at without the code point */
static inline CharClass
class_at(const unsigned char *s, int len, int pos, int *clen)
{
	pg_wchar	cp;

	return char_at(s, len, pos, clen, &cp);
}


/* ======================================================================
 * Input preparation: decoding and ASCII folding
 * ====================================================================== */

/*
 * ASCII folding is a pure function of the code point, but computing it
 * (a Unicode decomposition) allocates.  The answers for the code points
 * below U+3400, which cover every script with foldable letters, are
 * remembered per backend; blocks that never fold (CJK ideographs, Yi,
 * Hangul syllables) are skipped without asking.
 */
#define FOLD_CACHE_SIZE		0x3400
#define FOLD_UNKNOWN		0
#define FOLD_NONE			1
#define FOLD_SHORT			2
#define FOLD_LONG			3

typedef struct FoldCacheEntry
{
	uint8		state;			/* FOLD_* */
	uint8		len;			/* length of ascii[] when FOLD_SHORT */
	char		ascii[6];
} FoldCacheEntry;

static FoldCacheEntry fold_cache[FOLD_CACHE_SIZE];

/*
 * fold_char
 *		Append the ASCII spelling of the code point cp to out and return
 *		true, or return false (appending nothing) when it has none.
 */
static bool
fold_char(pg_wchar cp, StringInfo out)
{
	FoldCacheEntry *e;
	int			start;
	bool		ok;

	if (cp >= FOLD_CACHE_SIZE)
	{
		if ((cp >= 0x3400 && cp < 0xA700) || (cp >= 0xAC00 && cp < 0xD800) ||
			cp == BAD_CHAR)
			return false;
		return cdp_fold_codepoint(cp, out);
	}

	e = &fold_cache[cp];
	switch (e->state)
	{
		case FOLD_NONE:
			return false;
		case FOLD_SHORT:
			appendBinaryStringInfo(out, e->ascii, e->len);
			return true;
		case FOLD_LONG:
			return cdp_fold_codepoint(cp, out);
	}

	start = out->len;
	ok = cdp_fold_codepoint(cp, out);
	if (!ok)
		e->state = FOLD_NONE;
	else if (out->len - start <= (int) sizeof(e->ascii))
	{
		e->len = (uint8) (out->len - start);
		memcpy(e->ascii, out->data + start, e->len);
		e->state = FOLD_SHORT;
	}
	else
		e->state = FOLD_LONG;
	return ok;
}

/* fold_char of the lowercase form, for letters that do not fold themselves */
static FoldCacheEntry lower_fold_cache[FOLD_CACHE_SIZE];

/*
 * lower_codepoint
 *		The lowercase form of the code point cp by the database's default
 *		collation, or cp itself when it has none that is a single code
 *		point.  cp comes from the input, so the server encoding has it.
 */
static pg_wchar
lower_codepoint(pg_wchar cp)
{
	unsigned char utf8[8];
	int			encoding = GetDatabaseEncoding();
	char	   *s;
	char	   *low;
	pg_wchar	result;
	int			len;

	unicode_to_utf8(cp, utf8);
	len = pg_utf_mblen(utf8);
	utf8[len] = '\0';
	s = (char *) utf8;
	if (encoding != PG_UTF8 && encoding != PG_SQL_ASCII)
		s = (char *) pg_do_encoding_conversion(utf8, len, PG_UTF8, encoding);
	low = str_tolower(s, strlen(s), DEFAULT_COLLATION_OID);
	if (encoding != PG_UTF8 && encoding != PG_SQL_ASCII)
		low = (char *) pg_do_encoding_conversion((unsigned char *) low,
												 strlen(low), encoding, PG_UTF8);
	len = strlen(low);
	if (len == 0 ||
		decode_utf8((unsigned char *) low, (unsigned char *) low + len,
					&result) != len)
		result = cp;
	return result;
}

/*
 * fold_char_lower
 *		fold_char, except that a letter with no ASCII spelling of its own is
 *		folded through its lowercase form when that has one (U+0220 "Ƞ" is
 *		"n", as its lowercase U+019E is).  Without this, lowercasing after
 *		folding would leave letters that a second pass would fold.  Only
 *		code points below U+3400 have such forms.
 */
static bool
fold_char_lower(pg_wchar cp, StringInfo out)
{
	FoldCacheEntry *e;
	pg_wchar	low;
	int			start;
	bool		ok;

	if (fold_char(cp, out))
		return true;
	if (cp >= FOLD_CACHE_SIZE)
		return false;

	e = &lower_fold_cache[cp];
	switch (e->state)
	{
		case FOLD_NONE:
			return false;
		case FOLD_SHORT:
			appendBinaryStringInfo(out, e->ascii, e->len);
			return true;
		case FOLD_LONG:
			return fold_char(lower_codepoint(cp), out);
	}

	low = lower_codepoint(cp);
	start = out->len;
	ok = (low != cp && fold_char(low, out));
	if (!ok)
		e->state = FOLD_NONE;
	else if (out->len - start <= (int) sizeof(e->ascii))
	{
		e->len = (uint8) (out->len - start);
		memcpy(e->ascii, out->data + start, e->len);
		e->state = FOLD_SHORT;
	}
	else
		e->state = FOLD_LONG;
	return ok;
}

/*
 * The text a normaliser scans: UTF-8 (or plain ASCII), possibly folded.
 */
typedef struct NormInput
{
	const unsigned char *s;
	int			len;
	bool		converted;		/* decoded from a non-UTF-8 server encoding */
} NormInput;

/*
 * norm_input_init
 *		Prepare the len bytes at s (server encoding) for scanning.  ASCII is
 *		used in place.  Other text is converted to UTF-8 if the database is
 *		not UTF-8 (SQL_ASCII is scanned as UTF-8, with undecodable bytes
 *		kept as they are) and, when fold is true, folded to ASCII where
 *		possible.  Symbols are folded only when fold_symbols is true, so
 *		that a normaliser dropping symbols drops "™" rather than spelling
 *		it "TM".  When lower is true the result will be lowercased, and
 *		letters are folded through their lowercase form if need be.
 */
static void
norm_input_init(NormInput *in, const char *s, int len, bool fold,
				bool fold_symbols, bool lower)
{
	int			encoding;
	const unsigned char *p;
	const unsigned char *end;
	StringInfoData buf;

	in->converted = false;
	in->s = (const unsigned char *) s;
	in->len = len;
	if (cdp_is_ascii(s, len))
		return;

	encoding = GetDatabaseEncoding();
	if (encoding != PG_UTF8 && encoding != PG_SQL_ASCII)
	{
		in->s = pg_do_encoding_conversion((unsigned char *) s, len,
										  encoding, PG_UTF8);
		if ((const char *) in->s != s)
			in->len = strlen((const char *) in->s);
		in->converted = true;
	}
	if (!fold)
		return;

	initStringInfo(&buf);
	enlargeStringInfo(&buf, in->len);
	p = in->s;
	end = in->s + in->len;
	while (p < end)
	{
		const unsigned char *q = p;
		pg_wchar	cp;
		int			clen;

		/* copy runs of ASCII at once */
		while (q < end && *q < 0x80)
			q++;
		if (q > p)
		{
			appendBinaryStringInfo(&buf, (const char *) p, q - p);
			p = q;
			continue;
		}
		clen = decode_utf8(p, end, &cp);
		if ((!fold_symbols && unicode_class(cp) == CC_SYMBOL) ||
			!(lower ? fold_char_lower(cp, &buf) : fold_char(cp, &buf)))
			appendBinaryStringInfo(&buf, (const char *) p, clen);
		p += clen;
	}
	in->s = (const unsigned char *) buf.data;
	in->len = buf.len;
}

/*
 * finish_output
 *		Turn a result built in UTF-8 (data, len bytes) into a palloc'd,
 *		NUL-terminated string in the server encoding, lowercasing it with
 *		the database's default collation when lower is true and it holds
 *		non-ASCII characters (ASCII letters were lowercased while building
 *		it).  The length goes to *outlen.
 */
static char *
finish_output(char *data, int len, bool converted, bool lower, int *outlen)
{
	char	   *res = data;

	if (cdp_is_ascii(data, len))
	{
		*outlen = len;
		return data;
	}
	if (converted)
	{
		/* every non-ASCII character came from the input: this cannot fail */
		res = (char *) pg_do_encoding_conversion((unsigned char *) data, len,
												 PG_UTF8,
												 GetDatabaseEncoding());
		if (res != data)
			len = strlen(res);
	}
	if (lower)
	{
		res = str_tolower(res, len, DEFAULT_COLLATION_OID);
		len = strlen(res);
	}
	*outlen = len;
	return res;
}

/*
 * check_table_sorted
 *		Make sure a table searched with bsearch is sorted by its first
 *		member, a string.  The tables are constants, so a failure is a
 *		programming error.
 */
static void
check_table_sorted(const void *table, int n, Size stride, const char *name)
{
	int			i;

	for (i = 1; i < n; i++)
	{
		const char *prev = (const char *) table + (i - 1) * stride;
		const char *cur = (const char *) table + i * stride;
		const char *a = *(const char *const *) prev;
		const char *b = *(const char *const *) cur;

		if (strcmp(a, b) >= 0)
			elog(ERROR, "pg_cdp: table %s is not sorted at \"%s\"", name, b);
	}
}

/* bsearch comparator: a string against an entry whose first member is one */
static int
table_key_cmp(const void *key, const void *entry)
{
	return strcmp((const char *) key, *(const char *const *) entry);
}

/*
 * table_find
 *		Look the NUL-terminated word up in a sorted table of n entries of
 *		stride bytes whose first member is the key; NULL when absent.
 */
static inline const void *
table_find(const char *word, const void *table, int n, Size stride)
{
	return bsearch(word, table, n, stride, table_key_cmp);
}

#define TABLE_FIND(word, table) \
	table_find((word), (table), lengthof(table), sizeof((table)[0]))


/* ======================================================================
 * normalize_text
 * ====================================================================== */

/* the options, in the order they are applied */
#define NT_UNICODE		0x01
#define NT_NUMERALS		0x02
#define NT_SYMBOLS		0x04
#define NT_LOWERCASE	0x08
#define NT_WHITESPACE	0x10

typedef struct TextOption
{
	const char *name;
	int			flag;
} TextOption;

/* listed in the order they are applied; matched case-insensitively */
static const TextOption text_options[] = {
	{"unicode", NT_UNICODE},
	{"numerals", NT_NUMERALS},
	{"symbols", NT_SYMBOLS},
	{"lowercase", NT_LOWERCASE},
	{"whitespace", NT_WHITESPACE}
};

#define TEXT_OPTIONS_HINT \
	"Valid options are whitespace, symbols, lowercase, unicode and numerals; " \
	"an empty array leaves the text unchanged."

/* the parsed options of the last array seen by this call site */
#define TEXT_OPTIONS_CACHE_MAX	1024

typedef struct TextOptionsCache
{
	int			flags;
	Size		size;
	char		bytes[FLEXIBLE_ARRAY_MEMBER];
} TextOptionsCache;

/*
 * parse_text_options
 *		Turn the options array into NT_* flags.  Unknown names, NULL
 *		elements and multidimensional arrays are errors.
 */
static int
parse_text_options(ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	int			flags = 0;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("normalization options must be a one-dimensional array"),
				 errdetail("The array given has %d dimensions.", ARR_NDIM(arr)),
				 errhint(TEXT_OPTIONS_HINT)));

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (i = 0; i < n; i++)
	{
		char	   *name;
		int			j;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("normalization options must not contain nulls"),
					 errdetail("Element %d of the options array is NULL.", i + 1),
					 errhint(TEXT_OPTIONS_HINT)));
		name = TextDatumGetCString(elems[i]);
		for (j = 0; j < lengthof(text_options); j++)
		{
			if (pg_strcasecmp(name, text_options[j].name) == 0)
				break;
		}
		if (j == lengthof(text_options))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown normalization option \"%s\"", name),
					 errdetail("The options array may only name normalization steps."),
					 errhint(TEXT_OPTIONS_HINT)));
		flags |= text_options[j].flag;
		pfree(name);
	}
	return flags;
}

/*
 * text_options_cached
 *		parse_text_options, remembered in fn_extra: the same array (almost
 *		always the default) is parsed once per query, not once per row.
 */
static int
text_options_cached(FunctionCallInfo fcinfo, ArrayType *arr)
{
	TextOptionsCache *cache = (TextOptionsCache *) fcinfo->flinfo->fn_extra;
	Size		size = VARSIZE(arr);
	int			flags;

	if (cache != NULL && cache->size == size &&
		memcmp(cache->bytes, arr, size) == 0)
		return cache->flags;

	flags = parse_text_options(arr);
	if (size <= TEXT_OPTIONS_CACHE_MAX)
	{
		if (cache == NULL)
		{
			cache = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt,
									   offsetof(TextOptionsCache, bytes) +
									   TEXT_OPTIONS_CACHE_MAX);
			fcinfo->flinfo->fn_extra = cache;
		}
		cache->size = size;
		cache->flags = flags;
		memcpy(cache->bytes, arr, size);
	}
	return flags;
}

/* ---- number words ---- */

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

/* English number words, sorted; "fourty" is the common misspelling */
static const NumberWord number_words[] = {
	{"and", NW_AND, false, 0},
	{"eight", NW_UNIT, false, 8},
	{"eighteen", NW_UNIT, false, 18},
	{"eighteenth", NW_UNIT, true, 18},
	{"eighth", NW_UNIT, true, 8},
	{"eightieth", NW_TENS, true, 80},
	{"eighty", NW_TENS, false, 80},
	{"eleven", NW_UNIT, false, 11},
	{"eleventh", NW_UNIT, true, 11},
	{"fifteen", NW_UNIT, false, 15},
	{"fifteenth", NW_UNIT, true, 15},
	{"fifth", NW_UNIT, true, 5},
	{"fiftieth", NW_TENS, true, 50},
	{"fifty", NW_TENS, false, 50},
	{"first", NW_UNIT, true, 1},
	{"five", NW_UNIT, false, 5},
	{"fortieth", NW_TENS, true, 40},
	{"forty", NW_TENS, false, 40},
	{"four", NW_UNIT, false, 4},
	{"fourteen", NW_UNIT, false, 14},
	{"fourteenth", NW_UNIT, true, 14},
	{"fourth", NW_UNIT, true, 4},
	{"fourty", NW_TENS, false, 40},
	{"hundred", NW_HUNDRED, false, 100},
	{"hundredth", NW_HUNDRED, true, 100},
	{"nine", NW_UNIT, false, 9},
	{"nineteen", NW_UNIT, false, 19},
	{"nineteenth", NW_UNIT, true, 19},
	{"ninetieth", NW_TENS, true, 90},
	{"ninety", NW_TENS, false, 90},
	{"ninth", NW_UNIT, true, 9},
	{"one", NW_UNIT, false, 1},
	{"second", NW_UNIT, true, 2},
	{"seven", NW_UNIT, false, 7},
	{"seventeen", NW_UNIT, false, 17},
	{"seventeenth", NW_UNIT, true, 17},
	{"seventh", NW_UNIT, true, 7},
	{"seventieth", NW_TENS, true, 70},
	{"seventy", NW_TENS, false, 70},
	{"six", NW_UNIT, false, 6},
	{"sixteen", NW_UNIT, false, 16},
	{"sixteenth", NW_UNIT, true, 16},
	{"sixth", NW_UNIT, true, 6},
	{"sixtieth", NW_TENS, true, 60},
	{"sixty", NW_TENS, false, 60},
	{"ten", NW_UNIT, false, 10},
	{"tenth", NW_UNIT, true, 10},
	{"third", NW_UNIT, true, 3},
	{"thirteen", NW_UNIT, false, 13},
	{"thirteenth", NW_UNIT, true, 13},
	{"thirtieth", NW_TENS, true, 30},
	{"thirty", NW_TENS, false, 30},
	{"thousand", NW_THOUSAND, false, 1000},
	{"thousandth", NW_THOUSAND, true, 1000},
	{"three", NW_UNIT, false, 3},
	{"twelfth", NW_UNIT, true, 12},
	{"twelve", NW_UNIT, false, 12},
	{"twentieth", NW_TENS, true, 20},
	{"twenty", NW_TENS, false, 20},
	{"two", NW_UNIT, false, 2},
	{"zero", NW_UNIT, false, 0},
	{"zeroth", NW_UNIT, true, 0}
};

#define NUMBER_WORD_MAX 12		/* longer than any entry */

/*
 * lookup_number_word
 *		Find the word s[pos..end) among the number words, ignoring case and
 *		apostrophes or invisible characters inside it.  NULL when it is not
 *		a number word.
 */
static const NumberWord *
lookup_number_word(const unsigned char *s, int pos, int end)
{
	char		buf[NUMBER_WORD_MAX + 1];
	int			n = 0;

	while (pos < end)
	{
		unsigned char c = s[pos];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		{
			if (n == NUMBER_WORD_MAX)
				return NULL;
			buf[n++] = pg_ascii_tolower(c);
			pos++;
		}
		else if (c == '\'' || c == '`')
			pos++;
		else if (c >= 0x80)
		{
			int			clen;
			CharClass	cls = class_at(s, end, pos, &clen);

			if (cls != CC_APOS && cls != CC_IGNORE)
				return NULL;
			pos += clen;
		}
		else
			return NULL;
	}
	if (n < 3)
		return NULL;
	buf[n] = '\0';
	return (const NumberWord *) TABLE_FIND(buf, number_words);
}

/*
 * The value of a phrase of number words, built word by word:
 *   small    := unit | tens [unit 1-9]
 *   group    := small | [small] "hundred" [["and"] small]
 *   number   := group | [group] "thousand" [["and"] group]
 * An ordinal word ("first", "twentieth", "hundredth") or "zero" ends it.
 */
typedef struct NumState
{
	int64		high;			/* value of the part before "thousand" */
	int64		group;			/* hundreds of the current group */
	int64		small;			/* the part below one hundred */
	int			sstate;			/* 0 nothing, 1 after tens, 2 small closed */
	bool		hundred;		/* "hundred" seen in the current group */
	bool		thousand;		/* "thousand" seen */
	bool		after_and;		/* "and" seen: only a small number may follow */
	bool		done;			/* the phrase cannot grow */
	int			nwords;
} NumState;

/*
 * num_accept
 *		Extend the phrase in st with the number word w; false (st unchanged)
 *		when w cannot continue it.
 */
static bool
num_accept(NumState *st, const NumberWord *w)
{
	int64		v;

	if (st->done)
		return false;
	switch (w->kind)
	{
		case NW_UNIT:
			if (w->value == 0)
			{
				/* "zero" stands alone */
				if (st->nwords > 0)
					return false;
				st->small = 0;
				st->sstate = 2;
				st->done = true;
			}
			else if (st->sstate == 0)
			{
				st->small = w->value;
				st->sstate = 2;
			}
			else if (st->sstate == 1 && w->value <= 9)
			{
				st->small += w->value;
				st->sstate = 2;
			}
			else
				return false;
			break;
		case NW_TENS:
			if (st->sstate != 0)
				return false;
			st->small = w->value;
			st->sstate = 1;
			break;
		case NW_HUNDRED:
			if (st->hundred || st->after_and)
				return false;
			if (st->sstate != 0)
				st->group = st->small * 100;
			else if (st->nwords == 0)
				st->group = 100;
			else
				return false;
			st->small = 0;
			st->sstate = 0;
			st->hundred = true;
			break;
		case NW_THOUSAND:
			if (st->thousand || st->after_and)
				return false;
			v = st->group + st->small;
			if (st->nwords == 0)
				v = 1;
			else if (v == 0)
				return false;
			st->high = v * 1000;
			st->group = 0;
			st->small = 0;
			st->sstate = 0;
			st->hundred = false;
			st->thousand = true;
			break;
		default:
			return false;
	}
	if (w->ordinal)
		st->done = true;
	st->nwords++;
	return true;
}

/*
 * roman_value
 *		If the n bytes at w are an uppercase Roman numeral made of I, V and
 *		X in canonical form, two letters or more (II .. XXXIX), store its
 *		value and return true.
 */
static bool
roman_value(const unsigned char *w, int n, int64 *value)
{
	static const char *const units[10] = {
		"", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"
	};
	int			tens = 0;
	int			u;

	if (n < 2 || n > 7)
		return false;
	while (tens < n && tens < 3 && w[tens] == 'X')
		tens++;
	for (u = 0; u < 10; u++)
	{
		int			ul = strlen(units[u]);

		if (ul == n - tens && memcmp(w + tens, units[u], ul) == 0)
		{
			*value = tens * 10 + u;
			return true;
		}
	}
	return false;
}

/*
 * ordinal_suffix
 *		The English ordinal suffix ("st", "nd", "rd", "th") of the number
 *		written with the nd ASCII digits at d.
 */
static const char *
ordinal_suffix(const unsigned char *d, int nd)
{
	int			last = d[nd - 1] - '0';

	if (nd >= 2 && d[nd - 2] == '1')
		return "th";
	switch (last)
	{
		case 1:
			return "st";
		case 2:
			return "nd";
		case 3:
			return "rd";
	}
	return "th";
}

/*
 * ordinal_digits
 *		If the n bytes at w are ASCII digits followed by an ordinal suffix
 *		(any case), return the number of digits; 0 otherwise.  When strict,
 *		the suffix must be the right one for the number ("1st", not "1th").
 */
static int
ordinal_digits(const unsigned char *w, int n, bool strict)
{
	int			nd = 0;
	char		s0,
				s1;
	const char *want;

	while (nd < n && w[nd] >= '0' && w[nd] <= '9')
		nd++;
	if (nd == 0 || n - nd != 2)
		return 0;
	s0 = pg_ascii_tolower(w[nd]);
	s1 = pg_ascii_tolower(w[nd + 1]);
	if (strict)
	{
		want = ordinal_suffix(w, nd);
		return (s0 == want[0] && s1 == want[1]) ? nd : 0;
	}
	if ((s0 == 's' && s1 == 't') || (s0 == 'n' && s1 == 'd') ||
		(s0 == 'r' && s1 == 'd') || (s0 == 't' && s1 == 'h'))
		return nd;
	return 0;
}

/* ---- the scanner ---- */

/*
 * word_end
 *		End of the word that starts at pos: a run of word characters, with
 *		invisible characters inside it and single apostrophes between two
 *		word characters ("o'brien") counted as part of it.
 */
static int
word_end(const unsigned char *s, int len, int pos)
{
	while (pos < len)
	{
		int			clen;
		int			nlen;
		CharClass	cls = class_at(s, len, pos, &clen);

		if (cls == CC_WORD || cls == CC_IGNORE)
			pos += clen;
		else if (cls == CC_APOS && pos + clen < len &&
				 class_at(s, len, pos + clen, &nlen) == CC_WORD)
			pos += clen;
		else
			break;
	}
	return pos;
}

/*
 * phrase_sep_end
 *		If s[pos..] starts with a separator allowed inside a number phrase
 *		(a run of white space, or one hyphen), return its end and set
 *		*hyphen; otherwise -1.
 */
static int
phrase_sep_end(const unsigned char *s, int len, int pos, bool *hyphen)
{
	int			clen;
	CharClass	cls;

	if (pos >= len)
		return -1;
	cls = class_at(s, len, pos, &clen);
	if (cls == CC_HYPHEN)
	{
		*hyphen = true;
		return pos + clen;
	}
	if (cls != CC_SPACE)
		return -1;
	*hyphen = false;
	while (pos < len && class_at(s, len, pos, &clen) == CC_SPACE)
		pos += clen;
	return pos;
}

/*
 * word_letters
 *		A palloc'd copy of the word s[pos..end) without its apostrophes and
 *		invisible characters; its length goes to *outlen.
 */
static const unsigned char *
word_letters(const unsigned char *s, int pos, int end, int *outlen)
{
	unsigned char *buf = palloc(end - pos + 1);
	int			n = 0;

	while (pos < end)
	{
		int			clen;
		CharClass	cls = class_at(s, end, pos, &clen);

		if (cls != CC_APOS && cls != CC_IGNORE)
		{
			memcpy(buf + n, s + pos, clen);
			n += clen;
		}
		pos += clen;
	}
	buf[n] = '\0';
	*outlen = n;
	return buf;
}

/* where normalize_text writes */
typedef struct TextOut
{
	StringInfoData buf;
	bool		pending_space;	/* a space is due before the next output */
} TextOut;

/* write the pending space, unless nothing was written yet (trimming) */
static inline void
flush_space(TextOut *o)
{
	if (o->pending_space)
	{
		if (o->buf.len > 0)
			appendStringInfoChar(&o->buf, ' ');
		o->pending_space = false;
	}
}

/* write a number in decimal */
static void
emit_number(TextOut *o, int64 value)
{
	char		digits[32];

	flush_space(o);
	snprintf(digits, sizeof(digits), INT64_FORMAT, value);
	appendStringInfoString(&o->buf, digits);
}

/*
 * emit_numeral
 *		If the word s[pos..wend) starts a numeral (a Roman numeral, digits
 *		with an ordinal suffix, or a phrase of number words), write its
 *		value and return the end of the text it covers; -1 otherwise.
 */
static int
emit_numeral(TextOut *o, const unsigned char *s, int len, int pos, int wend)
{
	const NumberWord *w;
	NumState	st;
	int64		value;
	int			nd;
	int			end;
	const unsigned char *clean = s + pos;
	int			cleanlen = wend - pos;
	int			i;

	/* judge the word without its apostrophes and invisible characters */
	for (i = pos; i < wend; i++)
	{
		if (s[i] == '\'' || s[i] == '`' || s[i] >= 0x80)
		{
			clean = word_letters(s, pos, wend, &cleanlen);
			break;
		}
	}

	if (roman_value(clean, cleanlen, &value))
	{
		emit_number(o, value);
		return wend;
	}
	if ((nd = ordinal_digits(clean, cleanlen, true)) > 0)
	{
		flush_space(o);
		appendBinaryStringInfo(&o->buf, (const char *) clean, nd);
		return wend;
	}

	w = lookup_number_word(s, pos, wend);
	if (w == NULL)
		return -1;
	memset(&st, 0, sizeof(st));
	if (!num_accept(&st, w))
		return -1;
	end = wend;

	while (!st.done)
	{
		bool		hyphen;
		int			clen;
		int			q = phrase_sep_end(s, len, end, &hyphen);
		int			qend;

		if (q < 0 || q >= len || class_at(s, len, q, &clen) != CC_WORD)
			break;
		qend = word_end(s, len, q);
		w = lookup_number_word(s, q, qend);
		if (w == NULL)
			break;
		if (w->kind == NW_AND)
		{
			/* "and" joins a small number to hundred/thousand: "one hundred and five" */
			int			r;
			int			rend;
			bool		hyphen2;
			const NumberWord *w2;

			if (hyphen || !(st.hundred || st.thousand) || st.sstate != 0 ||
				st.after_and)
				break;
			r = phrase_sep_end(s, len, qend, &hyphen2);
			if (r < 0 || hyphen2 || r >= len ||
				class_at(s, len, r, &clen) != CC_WORD)
				break;
			rend = word_end(s, len, r);
			w2 = lookup_number_word(s, r, rend);
			if (w2 == NULL || (w2->kind != NW_UNIT && w2->kind != NW_TENS) ||
				w2->value == 0)
				break;
			st.after_and = true;
			if (!num_accept(&st, w2))
				break;
			end = rend;
		}
		else
		{
			if (!num_accept(&st, w))
				break;
			end = qend;
		}
	}
	emit_number(o, st.high + st.group + st.small);
	return end;
}

/*
 * emit_word
 *		Write the word s[pos..wend), lowercasing ASCII letters and dropping
 *		its apostrophes and invisible characters as the options say.
 */
static void
emit_word(TextOut *o, const unsigned char *s, int len, int pos, int wend,
		  int opts)
{
	char	   *dst;
	bool		lower = (opts & NT_LOWERCASE) != 0;
	bool		drop = (opts & NT_SYMBOLS) != 0;

	flush_space(o);
	enlargeStringInfo(&o->buf, wend - pos);
	dst = o->buf.data + o->buf.len;
	while (pos < wend)
	{
		unsigned char c = s[pos];

		if (c < 0x80)
		{
			if (!(drop && (c == '\'' || c == '`')))
				*dst++ = lower ? pg_ascii_tolower(c) : (char) c;
			pos++;
		}
		else
		{
			int			clen;
			CharClass	cls = class_at(s, len, pos, &clen);

			if (!(drop && (cls == CC_APOS || cls == CC_IGNORE)))
			{
				memcpy(dst, s + pos, clen);
				dst += clen;
			}
			pos += clen;
		}
	}
	o->buf.len = dst - o->buf.data;
	o->buf.data[o->buf.len] = '\0';
}

/*
 * emit_sep
 *		Write the separator s[pos..send) (everything between two words).
 *		With "whitespace", runs of white space become one pending space;
 *		with "symbols", symbols are dropped, and a separator made only of
 *		symbols that stands between two words becomes a space so that the
 *		words stay apart.
 */
static void
emit_sep(TextOut *o, const unsigned char *s, int len, int pos, int send,
		 int opts, bool between_words)
{
	bool		ws = (opts & NT_WHITESPACE) != 0;
	bool		drop = (opts & NT_SYMBOLS) != 0;
	bool		saw_space = false;
	bool		dropped = false;

	while (pos < send)
	{
		int			clen;
		CharClass	cls = class_at(s, len, pos, &clen);

		if (cls == CC_SPACE)
		{
			saw_space = true;
			if (ws)
				o->pending_space = true;
			else
				appendBinaryStringInfo(&o->buf, (const char *) s + pos, clen);
		}
		else if (drop)
		{
			if (cls != CC_IGNORE)
				dropped = true;
		}
		else
		{
			flush_space(o);
			appendBinaryStringInfo(&o->buf, (const char *) s + pos, clen);
		}
		pos += clen;
	}
	if (dropped && !saw_space && between_words)
	{
		if (ws)
			o->pending_space = true;
		else
			appendStringInfoChar(&o->buf, ' ');
	}
}

/*
 * normalize_text_cstr
 *		normalize_text on the len bytes at str (server encoding) with the
 *		NT_* options in opts.  Returns a palloc'd string in the server
 *		encoding; its length goes to *outlen.
 */
static char *
normalize_text_cstr(const char *str, int len, int opts, int *outlen)
{
	NormInput	in;
	TextOut		o;
	const unsigned char *s;
	int			n;
	int			pos = 0;
	bool		prev_word = false;

	norm_input_init(&in, str, len, (opts & NT_UNICODE) != 0,
					(opts & NT_SYMBOLS) == 0, (opts & NT_LOWERCASE) != 0);
	s = in.s;
	n = in.len;

	initStringInfo(&o.buf);
	enlargeStringInfo(&o.buf, n);
	o.pending_space = false;

	while (pos < n)
	{
		int			clen;
		CharClass	cls = class_at(s, n, pos, &clen);

		CHECK_FOR_INTERRUPTS();
		if (cls == CC_WORD)
		{
			int			wend = word_end(s, n, pos);
			int			next = -1;

			if (opts & NT_NUMERALS)
				next = emit_numeral(&o, s, n, pos, wend);
			if (next < 0)
			{
				emit_word(&o, s, n, pos, wend, opts);
				next = wend;
			}
			pos = next;
			prev_word = true;
		}
		else
		{
			int			send = pos + clen;

			while (send < n && class_at(s, n, send, &clen) != CC_WORD)
				send += clen;
			emit_sep(&o, s, n, pos, send, opts, prev_word && send < n);
			pos = send;
			prev_word = false;
		}
	}

	return finish_output(o.buf.data, o.buf.len, in.converted,
						 (opts & NT_LOWERCASE) != 0, outlen);
}


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

/*
 * token_new
 *		Append an empty token (in comma part "part", with flags) to tl and
 *		return it.
 */
static Token *
token_new(TokenList *tl, int part, int flags)
{
	Token	   *t;

	if (tl->ntok == tl->maxtok)
	{
		if ((Size) tl->maxtok * 2 > MaxAllocSize / sizeof(Token))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("text too long to normalize"),
					 errdetail("The text has more than %d words.", tl->maxtok),
					 errhint("Normalize shorter values.")));
		tl->maxtok *= 2;
		tl->tok = repalloc(tl->tok, tl->maxtok * sizeof(Token));
	}
	t = &tl->tok[tl->ntok++];
	t->start = tl->text.len;
	t->len = 0;
	t->part = part;
	t->flags = flags;
	return t;
}

/* finish the last token's text */
static inline void
token_close(TokenList *tl)
{
	Token	   *t = &tl->tok[tl->ntok - 1];

	t->len = tl->text.len - t->start;
	appendStringInfoChar(&tl->text, '\0');
}

/*
 * tokenize
 *		Cut the len bytes at s (server encoding) into lowercase tokens after
 *		folding them to ASCII.  A token is a run of word characters; an
 *		apostrophe between two word characters is dropped and joins them
 *		("O'Brien" -> "obrien"), invisible characters are dropped, and
 *		every other character separates tokens.  Commas are counted (each
 *		token knows how many precede it).  A single '.' (or, except for
 *		names, '/') directly between two tokens marks the second as glued
 *		to the first, for abbreviations such as "Ph.D.", "S.A." or "A/S".
 *		In address mode '#' becomes a token of its own; in organisation
 *		mode '&' becomes the token "and".
 */
static void
tokenize(const char *str, int len, int mode, TokenList *tl)
{
	NormInput	in;
	const unsigned char *s;
	int			n;
	int			pos = 0;
	bool		open = false;
	int			sep_len = 0;
	unsigned char sep_char = 0;
	int			part = 0;
	int			count = 0;

	norm_input_init(&in, str, len, true, false, true);
	s = in.s;
	n = in.len;

	initStringInfo(&tl->text);
	enlargeStringInfo(&tl->text, n + 16);
	tl->maxtok = 16;
	tl->tok = palloc(tl->maxtok * sizeof(Token));
	tl->ntok = 0;
	tl->ncommas = 0;
	tl->converted = in.converted;

	while (pos < n)
	{
		unsigned char c = s[pos];
		int			clen;
		int			nlen;
		CharClass	cls;

		if ((++count & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();

		if (c < 0x80)
		{
			clen = 1;
			cls = ascii_class(c);
		}
		else
			cls = class_at(s, n, pos, &clen);

		if (cls == CC_WORD)
		{
			if (!open)
			{
				bool		glued = tl->ntok > 0 && sep_len == 1 &&
					(sep_char == '.' || (sep_char == '/' && mode != TOKMODE_NAME));

				token_new(tl, part, glued ? TOK_GLUED : 0);
				open = true;
			}
			if (c < 0x80)
				appendStringInfoChar(&tl->text, pg_ascii_tolower(c));
			else
			{
				appendBinaryStringInfo(&tl->text, (const char *) s + pos, clen);
				tl->tok[tl->ntok - 1].flags |= TOK_NONASCII;
			}
		}
		else if (cls == CC_IGNORE)
		{
			/* invisible: neither part of a token nor a separator */
		}
		else if (cls == CC_APOS && open && pos + clen < n &&
				 class_at(s, n, pos + clen, &nlen) == CC_WORD)
		{
			/* an apostrophe inside a word joins its two halves */
		}
		else
		{
			if (open)
			{
				token_close(tl);
				open = false;
				sep_len = 0;
			}
			sep_len++;
			sep_char = c;
			if (c == ',')
			{
				part++;
				tl->ncommas++;
			}
			else if ((c == '#' && mode == TOKMODE_ADDRESS) ||
					 (c == '&' && mode == TOKMODE_ORG))
			{
				token_new(tl, part, c == '#' ? TOK_HASH : TOK_AMP);
				appendStringInfoString(&tl->text, c == '#' ? "#" : "and");
				token_close(tl);
				sep_len = 2;	/* never glue to a marker */
			}
		}
		pos += clen;
	}
	if (open)
		token_close(tl);
}

/*
 * join_tokens
 *		Append the texts of tokens [from, to) of tl to out, one space
 *		between tokens (and before the first if out is not empty).
 */
static void
join_tokens(StringInfo out, TokenList *tl, int from, int to)
{
	int			i;

	for (i = from; i < to; i++)
	{
		if (out->len > 0)
			appendStringInfoChar(out, ' ');
		appendBinaryStringInfo(out, TOKTEXT(tl, i), tl->tok[i].len);
	}
}


/* ======================================================================
 * normalize_name
 * ====================================================================== */

/*
 * Titles and honorifics, removed only at the start of a name (or of the
 * given names after "Last, First"): English, Spanish (sr, sra, srta),
 * German (herr, frau), French (mme, mlle...), Dutch (dhr, mevr) forms and
 * common military, clerical and academic ones.  Words that are also
 * common given names or surnames as a first token (don, hon, col, maj) are
 * left out.
 */
static const char *const name_titles[] = {
	"capt", "captain", "cmdr", "dame", "dhr", "doctor", "dr", "fr", "frau",
	"fraulein", "herr", "lady", "lord", "lt", "madame", "mademoiselle",
	"messrs", "mevr", "miss", "mlle", "mme", "monsieur", "mr", "mrs", "ms",
	"mstr", "mx", "pastor", "prof", "professor", "rabbi", "rev", "revd",
	"reverend", "sgt", "sir", "sr", "sra", "srta"
};

/*
 * Generational suffixes, degrees and honours, removed only at the end.
 * "dotted" marks those also recognised when written with dots between
 * their letters ("Ph.D.", "M.D."); "J.R." stays two initials.
 */
typedef struct NameSuffix
{
	const char *word;
	bool		dotted;
} NameSuffix;

static const NameSuffix name_suffixes[] = {
	{"2nd", false}, {"3rd", false}, {"bsc", true}, {"cbe", true},
	{"cpa", true}, {"dbe", true}, {"dds", true}, {"dmd", true},
	{"dvm", true}, {"esq", false}, {"esquire", false}, {"ii", false},
	{"iii", false}, {"iv", false}, {"jd", true}, {"jnr", false},
	{"jr", false}, {"kbe", true}, {"kc", true}, {"llb", true},
	{"llm", true}, {"mba", true}, {"mbe", true}, {"md", true},
	{"mp", true}, {"msc", true}, {"obe", true}, {"phd", true},
	{"qc", true}, {"ret", false}, {"retd", false}, {"rn", true},
	{"snr", false}, {"sr", false}
};

static bool tables_checked = false;

/* ASCII tokens only can be titles, suffixes or dictionary words */
#define TOK_ASCII(tl, i)	(((tl)->tok[(i)].flags & TOK_NONASCII) == 0)


/* is token i a title? */
static bool
is_title(TokenList *tl, int i)
{
	return TOK_ASCII(tl, i) && TABLE_FIND(TOKTEXT(tl, i), name_titles) != NULL;
}

/* is w a suffix (when dotted, one that may be written with dots)? */
static bool
is_suffix_word(const char *w, bool dotted)
{
	const NameSuffix *sfx = TABLE_FIND(w, name_suffixes);

	return sfx != NULL && (!dotted || sfx->dotted);
}

/*
 * strip_suffixes
 *		Return the end of tokens [start, end) once the suffixes at their end
 *		are removed.  Tokens glued by dots are tried together first
 *		("Ph.D."), then the last token alone.
 */
static int
strip_suffixes(TokenList *tl, int start, int end)
{
	while (end > start)
	{
		int			g = end - 1;

		while (g > start && (tl->tok[g].flags & TOK_GLUED))
			g--;
		if (end - g >= 2)
		{
			char		buf[16];
			int			blen = 0;
			int			k;

			for (k = g; k < end; k++)
			{
				if (!TOK_ASCII(tl, k) || blen + tl->tok[k].len >= (int) sizeof(buf))
					break;
				memcpy(buf + blen, TOKTEXT(tl, k), tl->tok[k].len);
				blen += tl->tok[k].len;
			}
			if (k == end)
			{
				buf[blen] = '\0';
				if (is_suffix_word(buf, true))
				{
					end = g;
					continue;
				}
			}
		}
		if (TOK_ASCII(tl, end - 1) && is_suffix_word(TOKTEXT(tl, end - 1), false))
		{
			end--;
			continue;
		}
		break;
	}
	return end;
}

/*
 * strip_titles
 *		Return the start of tokens [start, end) once the titles at their
 *		start are removed ("Mr and Mrs" counts as titles).
 */
static int
strip_titles(TokenList *tl, int start, int end)
{
	int			i = start;

	while (i < end)
	{
		if (is_title(tl, i))
			i++;
		else if (i > start && i + 1 < end && TOK_ASCII(tl, i) &&
				 strcmp(TOKTEXT(tl, i), "and") == 0 && is_title(tl, i + 1))
			i += 2;
		else
			break;
	}
	return i;
}


/*
 * cdp_normalize_name_cstr
 *		The normal form of the person's name in the len bytes at s (server
 *		encoding): lowercase ASCII tokens, titles at the start and suffixes
 *		at the end removed, "Last, First" turned into "first last".
 *		Returns a palloc'd string in the server encoding, "" when the name
 *		has no letters or digits.  See the contract in pg_cdp.h.
 *
 *		Commas: trailing comma-separated parts made only of suffixes are
 *		dropped ("John Smith, Jr., PhD").  If exactly two parts remain they
 *		are "last, first" and are swapped; with three or more parts the
 *		order is kept.  When removing titles and suffixes would leave
 *		nothing ("Dr", "Mr Jr"), all the tokens are kept instead.
 */
char *
cdp_normalize_name_cstr(const char *s, int len)
{
	TokenList	tl;
	StringInfoData out;
	int		   *pstart;
	int		   *pend;
	int			np = 0;
	int			i;
	int			outlen;

	check_tables();
	tokenize(s, len, TOKMODE_NAME, &tl);
	initStringInfo(&out);
	if (tl.ntok == 0)
		return out.data;

	/* the non-empty comma-separated parts */
	pstart = palloc(tl.ntok * sizeof(int));
	pend = palloc(tl.ntok * sizeof(int));
	for (i = 0; i < tl.ntok; i++)
	{
		if (i == 0 || tl.tok[i].part != tl.tok[i - 1].part)
			pstart[np++] = i;
		pend[np - 1] = i + 1;
	}

	/* "John Smith, Jr., PhD": drop the parts that are only suffixes */
	while (np >= 2 &&
		   strip_suffixes(&tl, pstart[np - 1], pend[np - 1]) == pstart[np - 1])
		np--;

	if (np == 2)
	{
		/* "Last, First": the given names come first */
		int			gs = strip_titles(&tl, pstart[1], pend[1]);
		int			ge = strip_suffixes(&tl, gs, pend[1]);
		int			fe = strip_suffixes(&tl, pstart[0], pend[0]);
		int			fs = strip_titles(&tl, pstart[0], fe);

		if (ge > gs)
		{
			/* a surname that is only a title word ("Herr, Trude") is kept */
			if (fs == fe)
				fs = pstart[0];
			join_tokens(&out, &tl, gs, ge);
			join_tokens(&out, &tl, fs, fe);
		}
		else
			join_tokens(&out, &tl, fs, fe);
	}
	else
	{
		int			fs = strip_titles(&tl, pstart[0], pend[np - 1]);
		int			fe = strip_suffixes(&tl, fs, pend[np - 1]);

		join_tokens(&out, &tl, fs, fe);
	}

	/* nothing but titles and suffixes: keep them all */
	if (out.len == 0)
		join_tokens(&out, &tl, 0, tl.ntok);

	return finish_output(out.data, out.len, tl.converted, true, &outlen);
}


/* ======================================================================
 * Words: tokens with single letters glued by '.' or '/' merged
 * ====================================================================== */

typedef struct WordRef
{
	const char *s;				/* NUL-terminated, lowercase */
	int			len;
	int			flags;			/* TOK_* of its first token */
} WordRef;

/* is token i a single ASCII letter? */
static inline bool
single_letter(TokenList *tl, int i)
{
	char		c = TOKTEXT(tl, i)[0];

	return tl->tok[i].len == 1 && c >= 'a' && c <= 'z' &&
		(tl->tok[i].flags & (TOK_HASH | TOK_AMP)) == 0;
}

/*
 * merge_letter_groups
 *		Store the tokens of tl as words in *words, merging runs of single
 *		letters glued by '.' or '/' into one word ("P.O." -> "po", "N.E."
 *		-> "ne", "S.p.A." -> "spa", "A/S" -> "as").  Returns the number of
 *		words.
 */
static int
merge_letter_groups(TokenList *tl, WordRef **words)
{
	WordRef    *w = palloc((tl->ntok + 1) * sizeof(WordRef));
	char	   *buf = NULL;
	int			used = 0;
	int			nw = 0;
	int			i = 0;

	while (i < tl->ntok)
	{
		int			j = i + 1;

		if (single_letter(tl, i))
		{
			while (j < tl->ntok && (tl->tok[j].flags & TOK_GLUED) &&
				   single_letter(tl, j))
				j++;
		}
		if (j - i >= 2)
		{
			/* k letters took 2k bytes of token text: the merge fits */
			char	   *m;
			int			k;

			if (buf == NULL)
				buf = palloc(tl->text.len + 1);
			m = buf + used;
			for (k = i; k < j; k++)
				m[k - i] = TOKTEXT(tl, k)[0];
			m[j - i] = '\0';
			w[nw].s = m;
			w[nw].len = j - i;
			used += j - i + 1;
		}
		else
		{
			w[nw].s = TOKTEXT(tl, i);
			w[nw].len = tl->tok[i].len;
		}
		w[nw].flags = tl->tok[i].flags;
		nw++;
		i = j;
	}
	*words = w;
	return nw;
}

/* append a word to out, after a space unless out is empty */
static void
out_word(StringInfo out, const char *w, int len)
{
	if (out->len > 0)
		appendStringInfoChar(out, ' ');
	appendBinaryStringInfo(out, w, len);
}


/* ======================================================================
 * normalize_address
 * ====================================================================== */

#define A_TYPE		0			/* street type (USPS Publication 28, C1) */
#define A_DIR		1			/* directional (C7) */
#define A_UNIT		2			/* secondary unit designator (C2) */

typedef struct AddressWord
{
	const char *word;
	const char *abbr;
	int			kind;			/* A_* */
} AddressWord;

/*
 * Street types with their common spellings (USPS Publication 28, Appendix
 * C1), directionals (C7) and secondary unit designators (C2), each mapped
 * to the standard abbreviation; every abbreviation maps to itself.  Added:
 * German "strasse" -> "st" (as "str" is a USPS spelling of street), "saint"
 * -> "st" (written "St." as often as not), "sainte" -> "ste", "harbour" and
 * "centre".  Sorted by word.
 */
static const AddressWord address_words[] = {
	{"allee", "aly", A_TYPE}, {"alley", "aly", A_TYPE},
	{"ally", "aly", A_TYPE}, {"aly", "aly", A_TYPE}, {"anex", "anx", A_TYPE},
	{"annex", "anx", A_TYPE}, {"annx", "anx", A_TYPE}, {"anx", "anx", A_TYPE},
	{"apartment", "apt", A_UNIT}, {"apt", "apt", A_UNIT},
	{"arc", "arc", A_TYPE}, {"arcade", "arc", A_TYPE}, {"av", "ave", A_TYPE},
	{"ave", "ave", A_TYPE}, {"aven", "ave", A_TYPE}, {"avenu", "ave", A_TYPE},
	{"avenue", "ave", A_TYPE}, {"avn", "ave", A_TYPE},
	{"avnue", "ave", A_TYPE}, {"basement", "bsmt", A_UNIT},
	{"bayoo", "byu", A_TYPE}, {"bayou", "byu", A_TYPE}, {"bch", "bch", A_TYPE},
	{"beach", "bch", A_TYPE}, {"bend", "bnd", A_TYPE},
	{"bldg", "bldg", A_UNIT}, {"blf", "blf", A_TYPE}, {"bluf", "blf", A_TYPE},
	{"bluff", "blf", A_TYPE}, {"blvd", "blvd", A_TYPE}, {"bnd", "bnd", A_TYPE},
	{"bot", "btm", A_TYPE}, {"bottm", "btm", A_TYPE},
	{"bottom", "btm", A_TYPE}, {"boul", "blvd", A_TYPE},
	{"boulevard", "blvd", A_TYPE}, {"boulv", "blvd", A_TYPE},
	{"br", "br", A_TYPE}, {"branch", "br", A_TYPE}, {"brdge", "brg", A_TYPE},
	{"brg", "brg", A_TYPE}, {"bridge", "brg", A_TYPE}, {"brk", "brk", A_TYPE},
	{"brnch", "br", A_TYPE}, {"brook", "brk", A_TYPE},
	{"bsmt", "bsmt", A_UNIT}, {"btm", "btm", A_TYPE},
	{"building", "bldg", A_UNIT}, {"byp", "byp", A_TYPE},
	{"bypa", "byp", A_TYPE}, {"bypas", "byp", A_TYPE},
	{"bypass", "byp", A_TYPE}, {"byps", "byp", A_TYPE}, {"byu", "byu", A_TYPE},
	{"canyn", "cyn", A_TYPE}, {"canyon", "cyn", A_TYPE},
	{"causeway", "cswy", A_TYPE}, {"causwa", "cswy", A_TYPE},
	{"cen", "ctr", A_TYPE}, {"cent", "ctr", A_TYPE}, {"center", "ctr", A_TYPE},
	{"centr", "ctr", A_TYPE}, {"centre", "ctr", A_TYPE},
	{"cir", "cir", A_TYPE}, {"circ", "cir", A_TYPE}, {"circl", "cir", A_TYPE},
	{"circle", "cir", A_TYPE}, {"clb", "clb", A_TYPE}, {"clf", "clf", A_TYPE},
	{"cliff", "clf", A_TYPE}, {"club", "clb", A_TYPE},
	{"cnter", "ctr", A_TYPE}, {"cntr", "ctr", A_TYPE}, {"cnyn", "cyn", A_TYPE},
	{"cor", "cor", A_TYPE}, {"corner", "cor", A_TYPE},
	{"course", "crse", A_TYPE}, {"court", "ct", A_TYPE},
	{"cove", "cv", A_TYPE}, {"crcl", "cir", A_TYPE}, {"crcle", "cir", A_TYPE},
	{"creek", "crk", A_TYPE}, {"cres", "cres", A_TYPE},
	{"crescent", "cres", A_TYPE}, {"crk", "crk", A_TYPE},
	{"crossing", "xing", A_TYPE}, {"crse", "crse", A_TYPE},
	{"crsent", "cres", A_TYPE}, {"crsnt", "cres", A_TYPE},
	{"crssng", "xing", A_TYPE}, {"crt", "ct", A_TYPE},
	{"cswy", "cswy", A_TYPE}, {"ct", "ct", A_TYPE}, {"ctr", "ctr", A_TYPE},
	{"cv", "cv", A_TYPE}, {"cyn", "cyn", A_TYPE},
	{"department", "dept", A_UNIT}, {"dept", "dept", A_UNIT},
	{"dr", "dr", A_TYPE}, {"driv", "dr", A_TYPE}, {"drive", "dr", A_TYPE},
	{"drv", "dr", A_TYPE}, {"east", "e", A_DIR}, {"est", "est", A_TYPE},
	{"estate", "est", A_TYPE}, {"exp", "expy", A_TYPE},
	{"expr", "expy", A_TYPE}, {"express", "expy", A_TYPE},
	{"expressway", "expy", A_TYPE}, {"expw", "expy", A_TYPE},
	{"expy", "expy", A_TYPE}, {"ext", "ext", A_TYPE},
	{"extension", "ext", A_TYPE}, {"extn", "ext", A_TYPE},
	{"extnsn", "ext", A_TYPE}, {"falls", "fls", A_TYPE},
	{"ferry", "fry", A_TYPE}, {"field", "fld", A_TYPE},
	{"fields", "flds", A_TYPE}, {"fl", "fl", A_UNIT}, {"fld", "fld", A_TYPE},
	{"flds", "flds", A_TYPE}, {"floor", "fl", A_UNIT}, {"flr", "fl", A_UNIT},
	{"fls", "fls", A_TYPE}, {"fork", "frk", A_TYPE}, {"fort", "ft", A_TYPE},
	{"freeway", "fwy", A_TYPE}, {"freewy", "fwy", A_TYPE},
	{"frk", "frk", A_TYPE}, {"frry", "fry", A_TYPE}, {"frt", "ft", A_TYPE},
	{"frway", "fwy", A_TYPE}, {"frwy", "fwy", A_TYPE}, {"fry", "fry", A_TYPE},
	{"ft", "ft", A_TYPE}, {"fwy", "fwy", A_TYPE}, {"garden", "gdn", A_TYPE},
	{"gardens", "gdns", A_TYPE}, {"gardn", "gdn", A_TYPE},
	{"gateway", "gtwy", A_TYPE}, {"gatewy", "gtwy", A_TYPE},
	{"gatway", "gtwy", A_TYPE}, {"gdn", "gdn", A_TYPE},
	{"gdns", "gdns", A_TYPE}, {"glen", "gln", A_TYPE}, {"gln", "gln", A_TYPE},
	{"grden", "gdn", A_TYPE}, {"grdn", "gdn", A_TYPE},
	{"grdns", "gdns", A_TYPE}, {"green", "grn", A_TYPE},
	{"grn", "grn", A_TYPE}, {"grov", "grv", A_TYPE}, {"grove", "grv", A_TYPE},
	{"grv", "grv", A_TYPE}, {"gtway", "gtwy", A_TYPE},
	{"gtwy", "gtwy", A_TYPE}, {"harb", "hbr", A_TYPE},
	{"harbor", "hbr", A_TYPE}, {"harbour", "hbr", A_TYPE},
	{"harbr", "hbr", A_TYPE}, {"hbr", "hbr", A_TYPE},
	{"heights", "hts", A_TYPE}, {"highway", "hwy", A_TYPE},
	{"highwy", "hwy", A_TYPE}, {"hill", "hl", A_TYPE},
	{"hills", "hls", A_TYPE}, {"hiway", "hwy", A_TYPE},
	{"hiwy", "hwy", A_TYPE}, {"hl", "hl", A_TYPE}, {"hllw", "holw", A_TYPE},
	{"hls", "hls", A_TYPE}, {"hollow", "holw", A_TYPE},
	{"hollows", "holw", A_TYPE}, {"holw", "holw", A_TYPE},
	{"holws", "holw", A_TYPE}, {"hrbor", "hbr", A_TYPE}, {"ht", "hts", A_TYPE},
	{"hts", "hts", A_TYPE}, {"hway", "hwy", A_TYPE}, {"hwy", "hwy", A_TYPE},
	{"is", "is", A_TYPE}, {"island", "is", A_TYPE}, {"islnd", "is", A_TYPE},
	{"jct", "jct", A_TYPE}, {"jction", "jct", A_TYPE}, {"jctn", "jct", A_TYPE},
	{"junction", "jct", A_TYPE}, {"junctn", "jct", A_TYPE},
	{"juncton", "jct", A_TYPE}, {"lake", "lk", A_TYPE},
	{"lakes", "lks", A_TYPE}, {"landing", "lndg", A_TYPE},
	{"lane", "ln", A_TYPE}, {"lk", "lk", A_TYPE}, {"lks", "lks", A_TYPE},
	{"ln", "ln", A_TYPE}, {"lndg", "lndg", A_TYPE}, {"lndng", "lndg", A_TYPE},
	{"manor", "mnr", A_TYPE}, {"mdw", "mdw", A_TYPE}, {"mdws", "mdws", A_TYPE},
	{"meadow", "mdw", A_TYPE}, {"meadows", "mdws", A_TYPE},
	{"medows", "mdws", A_TYPE}, {"mnr", "mnr", A_TYPE}, {"mnt", "mt", A_TYPE},
	{"mntain", "mtn", A_TYPE}, {"motorway", "mtwy", A_TYPE},
	{"mount", "mt", A_TYPE}, {"mountain", "mtn", A_TYPE},
	{"mountin", "mtn", A_TYPE}, {"mt", "mt", A_TYPE}, {"mtin", "mtn", A_TYPE},
	{"mtn", "mtn", A_TYPE}, {"mtwy", "mtwy", A_TYPE}, {"north", "n", A_DIR},
	{"northeast", "ne", A_DIR}, {"northwest", "nw", A_DIR},
	{"ofc", "ofc", A_UNIT}, {"office", "ofc", A_UNIT},
	{"orch", "orch", A_TYPE}, {"orchard", "orch", A_TYPE},
	{"orchrd", "orch", A_TYPE}, {"parkway", "pkwy", A_TYPE},
	{"parkwy", "pkwy", A_TYPE}, {"penthouse", "ph", A_UNIT},
	{"ph", "ph", A_UNIT}, {"pkway", "pkwy", A_TYPE}, {"pkwy", "pkwy", A_TYPE},
	{"pky", "pkwy", A_TYPE}, {"pl", "pl", A_TYPE}, {"place", "pl", A_TYPE},
	{"plaza", "plz", A_TYPE}, {"plz", "plz", A_TYPE}, {"plza", "plz", A_TYPE},
	{"point", "pt", A_TYPE}, {"port", "prt", A_TYPE}, {"prt", "prt", A_TYPE},
	{"pt", "pt", A_TYPE}, {"ranch", "rnch", A_TYPE},
	{"ranches", "rnch", A_TYPE}, {"rd", "rd", A_TYPE}, {"rdg", "rdg", A_TYPE},
	{"rdge", "rdg", A_TYPE}, {"ridge", "rdg", A_TYPE}, {"riv", "riv", A_TYPE},
	{"river", "riv", A_TYPE}, {"rivr", "riv", A_TYPE}, {"rm", "rm", A_UNIT},
	{"rnch", "rnch", A_TYPE}, {"rnchs", "rnch", A_TYPE},
	{"road", "rd", A_TYPE}, {"room", "rm", A_UNIT}, {"route", "rte", A_TYPE},
	{"rte", "rte", A_TYPE}, {"rvr", "riv", A_TYPE}, {"saint", "st", A_TYPE},
	{"sainte", "ste", A_UNIT}, {"shoar", "shr", A_TYPE},
	{"shore", "shr", A_TYPE}, {"shr", "shr", A_TYPE}, {"smt", "smt", A_TYPE},
	{"south", "s", A_DIR}, {"southeast", "se", A_DIR},
	{"southwest", "sw", A_DIR}, {"spg", "spg", A_TYPE},
	{"spgs", "spgs", A_TYPE}, {"spng", "spg", A_TYPE},
	{"spngs", "spgs", A_TYPE}, {"spring", "spg", A_TYPE},
	{"springs", "spgs", A_TYPE}, {"sprng", "spg", A_TYPE},
	{"sprngs", "spgs", A_TYPE}, {"sq", "sq", A_TYPE}, {"sqr", "sq", A_TYPE},
	{"sqre", "sq", A_TYPE}, {"squ", "sq", A_TYPE}, {"square", "sq", A_TYPE},
	{"st", "st", A_TYPE}, {"sta", "sta", A_TYPE}, {"station", "sta", A_TYPE},
	{"statn", "sta", A_TYPE}, {"ste", "ste", A_UNIT}, {"stn", "sta", A_TYPE},
	{"str", "st", A_TYPE}, {"strasse", "st", A_TYPE},
	{"stream", "strm", A_TYPE}, {"street", "st", A_TYPE},
	{"streme", "strm", A_TYPE}, {"strm", "strm", A_TYPE},
	{"strt", "st", A_TYPE}, {"suite", "ste", A_UNIT}, {"sumit", "smt", A_TYPE},
	{"sumitt", "smt", A_TYPE}, {"summit", "smt", A_TYPE},
	{"ter", "ter", A_TYPE}, {"terr", "ter", A_TYPE},
	{"terrace", "ter", A_TYPE}, {"tpke", "tpke", A_TYPE},
	{"trace", "trce", A_TYPE}, {"traces", "trce", A_TYPE},
	{"trail", "trl", A_TYPE}, {"trails", "trl", A_TYPE},
	{"trce", "trce", A_TYPE}, {"trl", "trl", A_TYPE}, {"trls", "trl", A_TYPE},
	{"trnpk", "tpke", A_TYPE}, {"tunel", "tunl", A_TYPE},
	{"tunl", "tunl", A_TYPE}, {"tunls", "tunl", A_TYPE},
	{"tunnel", "tunl", A_TYPE}, {"tunnels", "tunl", A_TYPE},
	{"tunnl", "tunl", A_TYPE}, {"turnpike", "tpke", A_TYPE},
	{"turnpk", "tpke", A_TYPE}, {"unit", "unit", A_UNIT},
	{"valley", "vly", A_TYPE}, {"vally", "vly", A_TYPE},
	{"view", "vw", A_TYPE}, {"vill", "vlg", A_TYPE}, {"villag", "vlg", A_TYPE},
	{"village", "vlg", A_TYPE}, {"villg", "vlg", A_TYPE},
	{"villiage", "vlg", A_TYPE}, {"vis", "vis", A_TYPE},
	{"vist", "vis", A_TYPE}, {"vista", "vis", A_TYPE}, {"vlg", "vlg", A_TYPE},
	{"vlly", "vly", A_TYPE}, {"vly", "vly", A_TYPE}, {"vst", "vis", A_TYPE},
	{"vsta", "vis", A_TYPE}, {"vw", "vw", A_TYPE}, {"west", "w", A_DIR},
	{"xing", "xing", A_TYPE}
};

/* append the ordinal "21st" of value */
static void
out_ordinal(StringInfo out, int value)
{
	char		buf[16];
	int			n = snprintf(buf, sizeof(buf), "%d", value);

	snprintf(buf + n, sizeof(buf) - n, "%s",
			 ordinal_suffix((const unsigned char *) buf, n));
	out_word(out, buf, strlen(buf));
}

/* is w one of the two strings a, b? */
static inline bool
word_is(const char *w, const char *a, const char *b)
{
	return strcmp(w, a) == 0 || (b != NULL && strcmp(w, b) == 0);
}

/*
 * normalize_address_cstr
 *		The normal form of the postal address in the len bytes at s (server
 *		encoding); see the comment of the SQL function.  Returns a palloc'd
 *		string in the server encoding and its length in *outlen.
 */
static char *
normalize_address_cstr(const char *s, int len, int *outlen)
{
	TokenList	tl;
	WordRef    *w;
	StringInfoData out;
	int			nw;
	int			i = 0;
	bool		prev_unit = false;

	check_tables();
	tokenize(s, len, TOKMODE_ADDRESS, &tl);
	nw = merge_letter_groups(&tl, &w);
	initStringInfo(&out);

	while (i < nw)
	{
		const char *word = w[i].s;
		int			wl = w[i].len;
		const NumberWord *n1 = NULL;
		const NumberWord *n2;
		const AddressWord *aw;
		int			nd;

		if ((i & 0xFFF) == 0)
			CHECK_FOR_INTERRUPTS();

		if (w[i].flags & TOK_HASH)
		{
			/* "#4" is "apt 4", but "Suite #4" is "ste 4" */
			if (!prev_unit)
				out_word(&out, "apt", 3);
			prev_unit = true;
			i++;
			continue;
		}
		prev_unit = false;
		if ((w[i].flags & TOK_NONASCII) || wl > 16)
		{
			out_word(&out, word, wl);
			i++;
			continue;
		}

		/* "north east", "south-west" */
		if (i + 1 < nw && word_is(word, "north", "south") &&
			word_is(w[i + 1].s, "east", "west"))
		{
			char		d[2];

			d[0] = word[0];
			d[1] = w[i + 1].s[0];
			out_word(&out, d, 2);
			i += 2;
			continue;
		}

		/* "Post Office Box", "P O Box" ("P.O. Box" was merged already) */
		if (i + 2 < nw && strcmp(w[i + 2].s, "box") == 0 &&
			((strcmp(word, "post") == 0 && strcmp(w[i + 1].s, "office") == 0) ||
			 (strcmp(word, "p") == 0 && strcmp(w[i + 1].s, "o") == 0)))
		{
			out_word(&out, "po", 2);
			i += 2;
			continue;
		}

		/* ordinals: "fifth" -> "5th", "twenty-first" -> "21st" */
		if (wl <= NUMBER_WORD_MAX)
			n1 = TABLE_FIND(word, number_words);
		if (n1 != NULL && n1->kind == NW_TENS && !n1->ordinal && i + 1 < nw &&
			(n2 = TABLE_FIND(w[i + 1].s, number_words)) != NULL &&
			n2->kind == NW_UNIT && n2->ordinal && n2->value >= 1 &&
			n2->value <= 9)
		{
			out_ordinal(&out, n1->value + n2->value);
			i += 2;
			continue;
		}
		if (n1 != NULL && n1->ordinal && n1->value > 0 &&
			(n1->kind == NW_UNIT || n1->kind == NW_TENS))
		{
			out_ordinal(&out, n1->value);
			i++;
			continue;
		}

		/* "5TH", "2th": digits with the right suffix */
		if ((nd = ordinal_digits((const unsigned char *) word, wl, false)) > 0)
		{
			out_word(&out, word, nd);
			appendStringInfoString(&out,
								   ordinal_suffix((const unsigned char *) word, nd));
		}
		/* German compounds: "Hauptstrasse" (and "Hauptstraße") -> "hauptstr" */
		else if (wl > 7 && strcmp(word + wl - 7, "strasse") == 0)
		{
			out_word(&out, word, wl - 7);
			appendStringInfoString(&out, "str");
		}
		else if ((aw = TABLE_FIND(word, address_words)) != NULL)
		{
			out_word(&out, aw->abbr, strlen(aw->abbr));
			prev_unit = (aw->kind == A_UNIT);
		}
		else
			out_word(&out, word, wl);
		i++;
	}

	return finish_output(out.data, out.len, tl.converted, true, outlen);
}


/* ======================================================================
 * normalize_org
 * ====================================================================== */

/*
 * Legal forms removed from the end of an organisation name: English
 * (inc, ltd, llc, plc...), German (gmbh, ag, kg, kgaa, ohg), French (sa,
 * sas, sasu, sarl), Italian (spa, srl), Spanish (sl), Mexican (sab, sapi,
 * with "de cv"), Portuguese (lda, ltda), Dutch and Belgian (bv, nv, cv,
 * sprl), Nordic (ab, as, asa, aps,
 * oy, oyj), Central European (sro, kft, zrt), European (se), Asian (kk,
 * pte, pvt, pty, sdn, bhd).  Sorted.
 */
static const char *const org_legal_forms[] = {
	"ab", "ag", "aktiengesellschaft", "aps", "as", "asa", "bhd", "bv", "co",
	"company", "corp", "corporation", "cv", "gmbh", "inc", "incorporated",
	"kft", "kg", "kgaa", "kk", "lda", "limited", "llc", "llp", "lp", "ltd",
	"ltda", "nv", "ohg", "oy", "oyj", "plc", "pllc", "pte", "pty", "pvt",
	"sa", "sab", "sapi", "sarl", "sas", "sasu", "sdn", "se", "sl", "spa",
	"sprl", "srl", "sro", "zrt"
};

/* is word i a legal form? */
static inline bool
is_legal_form(WordRef *w, int i)
{
	return (w[i].flags & (TOK_NONASCII | TOK_AMP)) == 0 &&
		TABLE_FIND(w[i].s, org_legal_forms) != NULL;
}

/*
 * normalize_org_cstr
 *		The normal form of the organisation name in the len bytes at s
 *		(server encoding); see the comment of the SQL function.  Returns a
 *		palloc'd string in the server encoding and its length in *outlen.
 */
static char *
normalize_org_cstr(const char *s, int len, int *outlen)
{
	TokenList	tl;
	WordRef    *w;
	StringInfoData out;
	int			nw;
	int			start = 0;
	int			end;
	bool		after_form = false;
	int			i;

	check_tables();
	tokenize(s, len, TOKMODE_ORG, &tl);
	nw = merge_letter_groups(&tl, &w);
	end = nw;

	/* a leading "The" */
	while (start < end && strcmp(w[start].s, "the") == 0)
		start++;

	/*
	 * Legal forms at the end, with the words that join them: "& Co",
	 * "GmbH & Co. KG", "Private Limited", "S.A. de C.V.".
	 */
	while (end > start)
	{
		const char *x = w[end - 1].s;

		if (is_legal_form(w, end - 1))
		{
			end--;
			after_form = true;
		}
		else if (after_form && word_is(x, "and", "private"))
		{
			end--;
			after_form = false;
		}
		else if (after_form && strcmp(x, "de") == 0 && end - 2 >= start &&
				 is_legal_form(w, end - 2))
		{
			end--;
			after_form = false;
		}
		else
			break;
	}

	/* "The Company": nothing but noise words, keep them */
	if (end == start)
	{
		start = 0;
		end = nw;
	}

	initStringInfo(&out);
	for (i = start; i < end; i++)
		out_word(&out, w[i].s, w[i].len);

	return finish_output(out.data, out.len, tl.converted, true, outlen);
}


/* ======================================================================
 * normalize_email
 * ====================================================================== */

#define EP_PLUS			0x01	/* "+tag" in the local part is dropped */
#define EP_DOTS			0x02	/* dots in the local part do not count */
#define EP_SUBDOMAIN	0x04	/* tag@user.domain is user@domain */

typedef struct EmailProvider
{
	const char *domain;			/* a domain, or "name.*" (see below) */
	int			rules;			/* EP_* */
	const char *canonical;		/* the domain written instead, or NULL */
} EmailProvider;

/*
 * Mailbox providers whose addressing rules are documented:
 *
 * - Gmail ignores dots in the local part and delivers user+tag to user;
 *   googlemail.com is the same service under its older name.
 * - Microsoft (Outlook.com, Hotmail, Live, MSN), Apple iCloud (icloud.com,
 *   me.com, mac.com), Fastmail and Proton deliver user+tag to user.  None
 *   of them allows '+' in a mailbox name, so dropping the tag cannot merge
 *   two mailboxes.  Fastmail also delivers tag@user.fastmail.com to user.
 * - Yandex delivers user+tag to user, and every Yandex mailbox is reachable
 *   under all its domains (yandex.ru, yandex.com, ya.ru...), written here as
 *   yandex.ru.  Yandex logins are made of letters, digits, '-' and '.'.
 *
 * Yahoo is not listed: its disposable addresses are "basename-keyword",
 * where the base name is chosen separately from the account name, so
 * cutting at '-' yields a name that is not the user's mailbox (and '-' is
 * common in ordinary local parts).  GMX, mail.com and others are not listed
 * for want of documentation.
 *
 * "name.*" stands for name followed by a country or generic suffix: one
 * label of two or three letters ("hotmail.fr", "live.com") or "co." or
 * "com." and a two-letter country code ("hotmail.co.uk", "live.com.au").
 * Sorted by domain.
 */
static const EmailProvider email_providers[] = {
	{"fastmail.com", EP_PLUS | EP_SUBDOMAIN, NULL},
	{"fastmail.fm", EP_PLUS | EP_SUBDOMAIN, NULL},
	{"gmail.com", EP_PLUS | EP_DOTS, NULL},
	{"googlemail.com", EP_PLUS | EP_DOTS, "gmail.com"},
	{"hotmail.*", EP_PLUS, NULL},
	{"icloud.com", EP_PLUS, NULL},
	{"live.*", EP_PLUS, NULL},
	{"mac.com", EP_PLUS, NULL},
	{"me.com", EP_PLUS, NULL},
	{"msn.com", EP_PLUS, NULL},
	{"outlook.*", EP_PLUS, NULL},
	{"pm.me", EP_PLUS, NULL},
	{"proton.me", EP_PLUS, NULL},
	{"protonmail.ch", EP_PLUS, NULL},
	{"protonmail.com", EP_PLUS, NULL},
	{"ya.ru", EP_PLUS, "yandex.ru"},
	{"yandex.by", EP_PLUS, "yandex.ru"},
	{"yandex.com", EP_PLUS, "yandex.ru"},
	{"yandex.kz", EP_PLUS, "yandex.ru"},
	{"yandex.ru", EP_PLUS, NULL},
	{"yandex.ua", EP_PLUS, "yandex.ru"}
};

/* lowercase ASCII letters only? (n bytes at s, n >= lo and <= hi) */
static bool
all_ascii_letters(const char *s, int n, int lo, int hi)
{
	int			i;

	if (n < lo || n > hi)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 'a' || s[i] > 'z')
			return false;
	return true;
}

/*
 * country_suffix
 *		True when s is a country or generic suffix as "name.*" in
 *		email_providers means it.
 */
static bool
country_suffix(const char *s)
{
	int			n = strlen(s);

	if (all_ascii_letters(s, n, 2, 3))
		return true;
	if (strncmp(s, "co.", 3) == 0)
		return all_ascii_letters(s + 3, n - 3, 2, 2);
	if (strncmp(s, "com.", 4) == 0)
		return all_ascii_letters(s + 4, n - 4, 2, 2);
	return false;
}

/*
 * find_provider
 *		The entry of email_providers for the lowercase domain, or NULL.
 */
static const EmailProvider *
find_provider(const char *domain)
{
	int			i;

	for (i = 0; i < lengthof(email_providers); i++)
	{
		const char *d = email_providers[i].domain;
		int			n = strlen(d);

		if (d[n - 1] == '*')
		{
			if (strncmp(domain, d, n - 1) == 0 && country_suffix(domain + n - 1))
				return &email_providers[i];
		}
		else if (strcmp(domain, d) == 0)
			return &email_providers[i];
	}
	return NULL;
}

/*
 * apply_provider_rules
 *		Rewrite the lowercase address in out (local part of local_len bytes,
 *		'@', domain) by the rules of its mailbox provider, if it has any.
 */
static void
apply_provider_rules(StringInfo out, int local_len)
{
	const char *local = out->data;
	const char *domain = out->data + local_len + 1;
	const EmailProvider *p = find_provider(domain);
	StringInfoData r;
	int			l = local_len;
	int			i;

	if (p == NULL)
	{
		/* Fastmail's subdomain addressing: tag@user.fastmail.com */
		const char *dot = strchr(domain, '.');

		if (dot == NULL || dot == domain)
			return;
		p = find_provider(dot + 1);
		if (p == NULL || !(p->rules & EP_SUBDOMAIN) ||
			!cdp_is_ascii(domain, dot - domain))
			return;
		initStringInfo(&r);
		appendBinaryStringInfo(&r, domain, dot - domain);
		appendStringInfoChar(&r, '@');
		appendStringInfoString(&r, dot + 1);
		pfree(out->data);
		*out = r;
		return;
	}

	if (p->rules & EP_PLUS)
	{
		const char *plus = memchr(local, '+', l);

		/* "+tag@gmail.com" has no mailbox name left: keep it whole */
		if (plus != NULL && plus > local)
			l = plus - local;
	}
	initStringInfo(&r);
	for (i = 0; i < l; i++)
	{
		if (local[i] != '.' || !(p->rules & EP_DOTS))
			appendStringInfoChar(&r, local[i]);
	}
	appendStringInfoChar(&r, '@');
	appendStringInfoString(&r, p->canonical ? p->canonical : domain);
	pfree(out->data);
	*out = r;
}

/* is the character at s[pos] white space or invisible (for trimming)? */
static inline bool
trimmable_at(const unsigned char *s, int len, int pos, int *clen)
{
	CharClass	cls = class_at(s, len, pos, clen);

	return cls == CC_SPACE || cls == CC_IGNORE;
}

/*
 * email_trim
 *		Move *start and *end inward over white space and invisible
 *		characters.
 */
static void
email_trim(const unsigned char *s, int *start, int *end)
{
	int			clen;

	while (*start < *end && trimmable_at(s, *end, *start, &clen))
		*start += clen;
	while (*end > *start)
	{
		/* step back to the first byte of the last character */
		int			p = *end - 1;

		while (p > *start && (s[p] & 0xC0) == 0x80 && *end - p < 4)
			p--;
		if (!trimmable_at(s, *end, p, &clen) || p + clen != *end)
			break;
		*end = p;
	}
}

/* ASCII characters allowed in a local part besides letters, digits and '.' */
#define EMAIL_ATEXT "!#$%&'*+-/=?^_`{|}~"

/*
 * normalize_email_utf8
 *		The normal form of the e-mail address in the len bytes of UTF-8 at
 *		s, as a palloc'd UTF-8 string with ASCII lowercased (length in
 *		*outlen), or NULL when it is not an address.  See the comment of the
 *		SQL function for what is accepted.
 */
static char *
normalize_email_utf8(const unsigned char *s, int len, bool rules,
					 int *outlen)
{
	int			start = 0;
	int			end = len;
	int			at = -1;
	int			pos;
	int			nchars = 0;
	int			local_len;
	int			label_chars = 0;
	int			label_start;
	int			nlabels = 0;
	bool		prev_dot = true;
	bool		prev_hyphen = false;
	StringInfoData out;
	int			i;

	email_trim(s, &start, &end);

	/* "Name <user@example.com>" */
	if (end > start && s[end - 1] == '>')
	{
		int			lt = -1;

		for (i = end - 2; i >= start; i--)
		{
			if (s[i] == '<')
			{
				lt = i;
				break;
			}
		}
		if (lt < 0)
			return NULL;
		start = lt + 1;
		end--;
		email_trim(s, &start, &end);
	}

	/* "mailto:user@example.com?subject=..." */
	if (end - start >= 7 &&
		pg_strncasecmp((const char *) s + start, "mailto:", 7) == 0)
	{
		start += 7;
		for (i = start; i < end; i++)
		{
			if (s[i] == '?')
			{
				end = i;
				break;
			}
		}
		email_trim(s, &start, &end);
	}

	/* 254 characters take at most 4 bytes each */
	if (end - start > 254 * 4)
		return NULL;

	for (i = start; i < end; i++)
	{
		if (s[i] == '@')
		{
			if (at >= 0)
				return NULL;
			at = i;
		}
	}
	if (at <= start || at >= end - 1)
		return NULL;

	initStringInfo(&out);
	enlargeStringInfo(&out, end - start);

	/* the local part: atext characters and letters of any script, dot-separated */
	for (pos = start; pos < at;)
	{
		unsigned char c = s[pos];

		if (c < 0x80)
		{
			if (c == '.')
			{
				if (prev_dot)
					return NULL;
				prev_dot = true;
			}
			else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
					 (c >= '0' && c <= '9') || strchr(EMAIL_ATEXT, c) != NULL)
				prev_dot = false;
			else
				return NULL;
			appendStringInfoChar(&out, pg_ascii_tolower(c));
			pos++;
		}
		else
		{
			pg_wchar	cp;
			int			clen;

			if (char_at(s, at, pos, &clen, &cp) != CC_WORD || cp == BAD_CHAR)
				return NULL;
			appendBinaryStringInfo(&out, (const char *) s + pos, clen);
			prev_dot = false;
			pos += clen;
		}
		if (++nchars > 64)
			return NULL;
	}
	if (prev_dot)
		return NULL;
	local_len = out.len;
	appendStringInfoChar(&out, '@');
	nchars++;

	/*
	 * The domain: labels of letters (any script), digits and hyphens,
	 * separated by dots (ideographic full stops count as dots).
	 */
	label_start = out.len;
	for (pos = at + 1; pos <= end;)
	{
		pg_wchar	cp = '.';
		int			clen = 1;
		CharClass	cls = CC_SYMBOL;

		if (pos < end)
			cls = char_at(s, end, pos, &clen, &cp);
		if (pos == end || cp == '.' || cp == 0x3002 || cp == 0xFF0E ||
			cp == 0xFF61)
		{
			/* end of a label */
			if (label_chars == 0 || label_chars > 63 || prev_hyphen)
				return NULL;
			nlabels++;
			if (pos == end)
				break;
			appendStringInfoChar(&out, '.');
			label_start = out.len;
			label_chars = 0;
		}
		else if (cp == '-')
		{
			if (label_chars == 0)
				return NULL;
			appendStringInfoChar(&out, '-');
			label_chars++;
			prev_hyphen = true;
		}
		else if (cls == CC_WORD && cp != BAD_CHAR)
		{
			if (cp < 0x80)
				appendStringInfoChar(&out, pg_ascii_tolower((unsigned char) cp));
			else
				appendBinaryStringInfo(&out, (const char *) s + pos, clen);
			label_chars++;
			prev_hyphen = false;
		}
		else
			return NULL;
		nchars++;
		pos += clen;
	}
	if (nlabels < 2 || nchars > 254)
		return NULL;

	/* the top-level domain: two letters or more, or an IDNA "xn--" label */
	if (!(out.len - label_start > 4 &&
		  strncmp(out.data + label_start, "xn--", 4) == 0))
	{
		if (label_chars < 2)
			return NULL;
		for (i = label_start; i < out.len; i++)
		{
			unsigned char c = out.data[i];

			if (c < 0x80 && !(c >= 'a' && c <= 'z'))
				return NULL;
		}
	}

	if (rules)
		apply_provider_rules(&out, local_len);
	*outlen = out.len;
	return out.data;
}


/* ======================================================================
 * SQL-callable functions
 * ====================================================================== */

/*
 * check_tables
 *		Verify once per backend that the dictionaries searched with bsearch
 *		are sorted.
 */
static void
check_tables(void)
{
	if (tables_checked)
		return;
	check_table_sorted(number_words, lengthof(number_words),
					   sizeof(number_words[0]), "number_words");
	check_table_sorted(name_titles, lengthof(name_titles),
					   sizeof(name_titles[0]), "name_titles");
	check_table_sorted(name_suffixes, lengthof(name_suffixes),
					   sizeof(name_suffixes[0]), "name_suffixes");
	check_table_sorted(address_words, lengthof(address_words),
					   sizeof(address_words[0]), "address_words");
	check_table_sorted(org_legal_forms, lengthof(org_legal_forms),
					   sizeof(org_legal_forms[0]), "org_legal_forms");
	tables_checked = true;
}

/*
 * cdp_normalize_text
 *		normalize_text(t text, options text[]) returns text.  The options
 *		are applied in a fixed order: unicode (fold to ASCII), numerals
 *		(number words, ordinals and Roman numerals to digits), symbols
 *		(drop punctuation and symbols), lowercase, whitespace (trim and
 *		collapse).  An empty array returns the text unchanged.
 */
Datum
cdp_normalize_text(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	ArrayType  *options = PG_GETARG_ARRAYTYPE_P(1);
	int			flags;
	char	   *r;
	int			rlen;

	flags = text_options_cached(fcinfo, options);
	if (flags == 0)
		PG_RETURN_TEXT_P(t);
	check_tables();
	r = normalize_text_cstr(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), flags, &rlen);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(r, rlen));
}

/*
 * cdp_normalize_email
 *		normalize_email(email text, provider_rules boolean) returns text:
 *		the lowercase address, with the mailbox providers' rules applied
 *		when provider_rules is true, or NULL when the text is not an
 *		address.
 */
Datum
cdp_normalize_email(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	bool		rules = PG_GETARG_BOOL(1);
	NormInput	in;
	char	   *r;
	int			rlen;

	norm_input_init(&in, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), false, false, false);
	r = normalize_email_utf8(in.s, in.len, rules, &rlen);
	if (r == NULL)
		PG_RETURN_NULL();
	r = finish_output(r, rlen, in.converted, true, &rlen);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(r, rlen));
}

/*
 * cdp_normalize_name
 *		normalize_name(name text) returns text; see cdp_normalize_name_cstr.
 */
Datum
cdp_normalize_name(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	PG_RETURN_TEXT_P(cstring_to_text(cdp_normalize_name_cstr(VARDATA_ANY(t),
															 VARSIZE_ANY_EXHDR(t))));
}

/*
 * cdp_normalize_address
 *		normalize_address(address text) returns text: lowercase ASCII
 *		tokens with street types, directionals and unit designators
 *		abbreviated as USPS Publication 28 does, "#" read as "apt" and
 *		ordinals written as digits with their suffix.
 */
Datum
cdp_normalize_address(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	char	   *r;
	int			rlen;

	r = normalize_address_cstr(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &rlen);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(r, rlen));
}

/*
 * cdp_normalize_org
 *		normalize_org(name text) returns text: lowercase ASCII tokens
 *		without a leading "the" and without legal forms at the end.
 */
Datum
cdp_normalize_org(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	char	   *r;
	int			rlen;

	r = normalize_org_cstr(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &rlen);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(r, rlen));
}
