/*-------------------------------------------------------------------------
 *
 * normalize.c
 *	  Normalisers that turn free text, e-mail addresses, person names,
 *	  postal addresses and organisation names into a canonical form, so
 *	  that records written differently compare equal.  This file holds the
 *	  machinery they share (declared in normalize.h) and normalize_text;
 *	  the others live in person_name.c, address.c and email.c.
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
#include "normalize.h"

PG_FUNCTION_INFO_V1(cdp_normalize_text);


/* ======================================================================
 * Character classes
 * ====================================================================== */

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
 * cdp_unicode_class
 *		Class of the non-ASCII code point cp (or BAD_CHAR, which is kept
 *		as a word character so that no byte is ever lost).
 */
CharClass
cdp_unicode_class(pg_wchar cp)
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
 * remember_fold
 *		Record in cache entry e what a folding just appended to out from
 *		offset start (ok = false: the character has no ASCII spelling).
 */
static void
remember_fold(FoldCacheEntry *e, bool ok, StringInfo out, int start)
{
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
}

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
	remember_fold(e, ok, out, start);
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
	remember_fold(e, ok, out, start);
	return ok;
}

/*
 * cdp_norm_input_init
 *		Prepare the len bytes at s (server encoding) for scanning.  ASCII is
 *		used in place.  Other text is converted to UTF-8 if the database is
 *		not UTF-8 (SQL_ASCII is scanned as UTF-8, with undecodable bytes
 *		kept as they are) and, when fold is true, folded to ASCII where
 *		possible.  Symbols are folded only when fold_symbols is true, so
 *		that a normaliser dropping symbols drops "™" rather than spelling
 *		it "TM".  When lower is true the result will be lowercased, and
 *		letters are folded through their lowercase form if need be.
 */
void
cdp_norm_input_init(NormInput *in, const char *s, int len, bool fold,
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
		if ((!fold_symbols && cdp_unicode_class(cp) == CC_SYMBOL) ||
			!(lower ? fold_char_lower(cp, &buf) : fold_char(cp, &buf)))
			appendBinaryStringInfo(&buf, (const char *) p, clen);
		p += clen;
	}
	in->s = (const unsigned char *) buf.data;
	in->len = buf.len;
}

/*
 * cdp_finish_output
 *		Turn a result built in UTF-8 (data, len bytes) into a palloc'd,
 *		NUL-terminated string in the server encoding, lowercasing it with
 *		the database's default collation when lower is true and it holds
 *		non-ASCII characters (ASCII letters were lowercased while building
 *		it).  The length goes to *outlen.
 */
char *
cdp_finish_output(char *data, int len, bool converted, bool lower, int *outlen)
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
 * cdp_check_table_sorted
 *		Make sure a table searched with bsearch is sorted by its first
 *		member, a string.  The tables are constants, so a failure is a
 *		programming error.
 */
void
cdp_check_table_sorted(const void *table, int n, Size stride, const char *name)
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
int
cdp_table_key_cmp(const void *key, const void *entry)
{
	return strcmp((const char *) key, *(const char *const *) entry);
}


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

/*
 * cdp_number_word_find
 *		The entry of the NUL-terminated lowercase word among the number
 *		words; NULL when absent.
 */
const NumberWord *
cdp_number_word_find(const char *word)
{
	return TABLE_FIND(word, number_words);
}

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
 * cdp_ordinal_suffix
 *		The English ordinal suffix ("st", "nd", "rd", "th") of the number
 *		written with the nd ASCII digits at d.
 */
const char *
cdp_ordinal_suffix(const unsigned char *d, int nd)
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
 * cdp_ordinal_digits
 *		If the n bytes at w are ASCII digits followed by an ordinal suffix
 *		(any case), return the number of digits; 0 otherwise.  When strict,
 *		the suffix must be the right one for the number ("1st", not "1th").
 */
int
cdp_ordinal_digits(const unsigned char *w, int n, bool strict)
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
		want = cdp_ordinal_suffix(w, nd);
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
	if ((nd = cdp_ordinal_digits(clean, cleanlen, true)) > 0)
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

	cdp_norm_input_init(&in, str, len, (opts & NT_UNICODE) != 0,
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

	return cdp_finish_output(o.buf.data, o.buf.len, in.converted,
						 (opts & NT_LOWERCASE) != 0, outlen);
}


/* ======================================================================
 * Tokens: the common ground of names, addresses and organisations
 * ====================================================================== */

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
 * cdp_tokenize
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
void
cdp_tokenize(const char *str, int len, int mode, TokenList *tl)
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

	cdp_norm_input_init(&in, str, len, true, false, true);
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
 * cdp_join_tokens
 *		Append the texts of tokens [from, to) of tl to out, one space
 *		between tokens (and before the first if out is not empty).
 */
void
cdp_join_tokens(StringInfo out, TokenList *tl, int from, int to)
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
 * SQL-callable functions
 * ====================================================================== */

static bool tables_checked = false;

/*
 * cdp_check_tables
 *		Verify once per backend that the dictionaries searched with bsearch
 *		are sorted.
 */
void
cdp_check_tables(void)
{
	if (tables_checked)
		return;
	cdp_check_table_sorted(number_words, lengthof(number_words),
					   sizeof(number_words[0]), "number_words");
	cdp_check_name_tables();
	cdp_check_address_tables();
	cdp_check_org_tables();
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
	cdp_check_tables();
	r = normalize_text_cstr(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), flags, &rlen);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(r, rlen));
}
