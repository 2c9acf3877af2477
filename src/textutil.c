/*-------------------------------------------------------------------------
 *
 * textutil.c
 *	  Character handling shared by the pg_cdp kernels: seeing a text value
 *	  as characters rather than bytes, and folding letters to ASCII.
 *
 * Every kernel is multibyte-aware.  Pure-ASCII input, by far the common
 * case for customer data, is processed byte by byte without conversion;
 * anything else is decoded once into an array of pg_wchar.
 *
 * ASCII folding works on Unicode code points: input in a database whose
 * encoding is not UTF-8 is converted to UTF-8, folded, and converted back.
 * A character is folded by taking its compatibility decomposition (NFKD)
 * and dropping the combining marks; when that does not leave plain ASCII,
 * a short table covers the letters Unicode does not decompose (ß, Ø, Æ,
 * Ł, Đ, Þ...).  Characters with no ASCII spelling are kept.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/unicode_norm.h"
#include "mb/pg_wchar.h"

#include "pg_cdp.h"

/*
 * cdp_is_ascii
 *		True when the len bytes at s are all 7-bit ASCII.
 */
bool
cdp_is_ascii(const char *s, int len)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;

	/* eight bytes at a time while we can */
	while (p + sizeof(uint64) <= end)
	{
		uint64		chunk;

		memcpy(&chunk, p, sizeof(uint64));
		if (chunk & UINT64CONST(0x8080808080808080))
			return false;
		p += sizeof(uint64);
	}
	while (p < end)
	{
		if (*p & 0x80)
			return false;
		p++;
	}
	return true;
}

/*
 * cdp_string_init
 *		Describe the nbytes bytes at s as a string of characters.  Pure
 *		ASCII is left as bytes; otherwise the characters are decoded into
 *		pg_wchar (see cdp_string_force_wide).
 */
void
cdp_string_init(CdpString *str, const char *s, int nbytes)
{
	str->bytes = s;
	str->nbytes = nbytes;
	str->chars = NULL;
	str->len = nbytes;
	if (!cdp_is_ascii(s, nbytes))
		cdp_string_force_wide(str);
}

/*
 * cdp_strip_common_affixes
 *		Narrow two strings (*a, *la) and (*b, *lb) to what lies between
 *		their common prefix and common suffix, cut at character boundaries,
 *		without decoding them.  Only done where a byte tells whether it
 *		starts a character (UTF-8 and single-byte encodings); elsewhere the
 *		strings are left as they are.  Edit distances do not change.
 */
void
cdp_strip_common_affixes(const char **a, int *la, const char **b, int *lb)
{
	int			encoding = GetDatabaseEncoding();
	const char *pa = *a;
	const char *pb = *b;
	int			n = Min(*la, *lb);
	int			pre = 0;
	int			suf = 0;

	if (encoding != PG_UTF8 && pg_encoding_max_length(encoding) != 1)
		return;

	while (pre < n && pa[pre] == pb[pre])
		pre++;
	if (encoding == PG_UTF8)
	{
		/* back to the start of the character the strings differ in */
		while (pre > 0 &&
			   ((pre < *la && (pa[pre] & 0xC0) == 0x80) ||
				(pre < *lb && (pb[pre] & 0xC0) == 0x80)))
			pre--;
	}
	while (suf < n - pre && pa[*la - 1 - suf] == pb[*lb - 1 - suf])
		suf++;
	if (encoding == PG_UTF8)
	{
		/* forward to a character start (the same byte in both strings) */
		while (suf > 0 && (pa[*la - suf] & 0xC0) == 0x80)
			suf--;
	}
	*a = pa + pre;
	*b = pb + pre;
	*la -= pre + suf;
	*lb -= pre + suf;
}

/*
 * cdp_string_force_wide
 *		Make sure str->chars is filled, even for ASCII input, so that two
 *		strings can be compared through the same representation.  Short
 *		strings use the buffer inside the CdpString.
 */
void
cdp_string_force_wide(CdpString *str)
{
	if (str->chars != NULL)
		return;
	/* one pg_wchar per byte is always enough, plus the terminator */
	if (str->nbytes <= CDP_INLINE_CHARS)
		str->chars = str->inline_chars;
	else
		str->chars = (pg_wchar *) palloc((Size) (str->nbytes + 1) * sizeof(pg_wchar));
	str->len = pg_mb2wchar_with_len(str->bytes, str->chars, str->nbytes);
}

/* an open-addressing table from non-ASCII characters to symbols */
typedef struct SymSlot
{
	pg_wchar	ch;				/* 0: empty */
	uint32		sym;
} SymSlot;

#define SYM_SLOTS_ON_STACK 256

/*
 * encode_wide
 *		Encode len characters into out, numbering the non-ASCII ones through
 *		the hash table (mask + 1 slots) and *next.
 */
static void
encode_wide(const pg_wchar *chars, int len, uint32 *out, SymSlot *slots,
			uint32 mask, uint32 *next)
{
	int			i;

	for (i = 0; i < len; i++)
	{
		pg_wchar	c = chars[i];
		uint32		h;

		if (c < 128)
		{
			out[i] = c;
			continue;
		}
		h = (c * 2654435761U) & mask;
		while (slots[h].ch != 0 && slots[h].ch != c)
			h = (h + 1) & mask;
		if (slots[h].ch == 0)
		{
			slots[h].ch = c;
			slots[h].sym = (*next)++;
		}
		out[i] = slots[h].sym;
	}
}

/*
 * cdp_encode_pair
 *		Encode two strings as symbols (see SymPair).  ASCII characters keep
 *		their code; other characters are numbered from 128 on through a hash
 *		table, so the work is linear in the length.
 */
void
cdp_encode_pair(CdpString *a, CdpString *b, SymPair *out)
{
	uint32	   *sa = (a->len <= CDP_INLINE_CHARS) ? out->inline_a :
		palloc((Size) (a->len + 1) * sizeof(uint32));
	uint32	   *sb = (b->len <= CDP_INLINE_CHARS) ? out->inline_b :
		palloc((Size) (b->len + 1) * sizeof(uint32));
	int			i;

	if (a->chars == NULL && b->chars == NULL)
	{
		for (i = 0; i < a->len; i++)
			sa[i] = (unsigned char) a->bytes[i];
		for (i = 0; i < b->len; i++)
			sb[i] = (unsigned char) b->bytes[i];
		out->nsyms = 128;
	}
	else
	{
		SymSlot		stack_slots[SYM_SLOTS_ON_STACK];
		SymSlot    *slots = stack_slots;
		uint32		nslots = 16;
		uint32		next = 128;

		cdp_string_force_wide(a);
		cdp_string_force_wide(b);
		while (nslots < (uint32) 2 * (a->len + b->len))
			nslots <<= 1;
		if (nslots > SYM_SLOTS_ON_STACK)
			slots = palloc((Size) nslots * sizeof(SymSlot));
		memset(slots, 0, (Size) nslots * sizeof(SymSlot));
		encode_wide(a->chars, a->len, sa, slots, nslots - 1, &next);
		encode_wide(b->chars, b->len, sb, slots, nslots - 1, &next);
		if (slots != stack_slots)
			pfree(slots);
		out->nsyms = (int) next;
	}
	out->a.sym = sa;
	out->a.len = a->len;
	out->b.sym = sb;
	out->b.len = b->len;
}

/*
 * cdp_release_pair
 *		Free what cdp_encode_pair allocated.
 */
void
cdp_release_pair(SymPair *pair)
{
	if (pair->a.sym != pair->inline_a)
		pfree((void *) pair->a.sym);
	if (pair->b.sym != pair->inline_b)
		pfree((void *) pair->b.sym);
}

/*
 * Letters that have no canonical or compatibility decomposition into ASCII,
 * with the ASCII spelling commonly used for them in names and addresses.
 */
typedef struct FoldEntry
{
	pg_wchar	cp;
	const char *ascii;
} FoldEntry;

/* sorted by code point: looked up with bsearch */
static const FoldEntry fold_special[] = {
	{0x00AB, "\""}, {0x00BB, "\""}, {0x00C6, "AE"}, {0x00D0, "D"},
	{0x00D7, "x"}, {0x00D8, "O"}, {0x00DE, "TH"}, {0x00DF, "ss"},
	{0x00E6, "ae"}, {0x00F0, "d"}, {0x00F7, "/"}, {0x00F8, "o"},
	{0x00FE, "th"}, {0x0110, "D"}, {0x0111, "d"}, {0x0126, "H"},
	{0x0127, "h"}, {0x0131, "i"}, {0x0138, "q"}, {0x013F, "L"},
	{0x0140, "l"}, {0x0141, "L"}, {0x0142, "l"}, {0x0149, "n"},
	{0x014A, "NG"}, {0x014B, "ng"}, {0x0152, "OE"}, {0x0153, "oe"},
	{0x0166, "T"}, {0x0167, "t"}, {0x0180, "b"}, {0x0181, "B"},
	{0x0187, "C"}, {0x0188, "c"}, {0x0189, "D"}, {0x018A, "D"},
	{0x0191, "F"}, {0x0192, "f"}, {0x0193, "G"}, {0x0197, "I"},
	{0x0198, "K"}, {0x0199, "k"}, {0x019A, "l"}, {0x019D, "N"},
	{0x019E, "n"}, {0x01A4, "P"}, {0x01A5, "p"}, {0x01AB, "t"},
	{0x01AC, "T"}, {0x01AD, "t"}, {0x01AE, "T"}, {0x01B2, "V"},
	{0x01B3, "Y"}, {0x01B4, "y"}, {0x01B5, "Z"}, {0x01B6, "z"},
	{0x01E4, "G"}, {0x01E5, "g"}, {0x0221, "d"}, {0x0234, "l"},
	{0x0235, "n"}, {0x0236, "t"}, {0x0237, "j"}, {0x023A, "A"},
	{0x023B, "C"}, {0x023C, "c"}, {0x023D, "L"}, {0x023E, "T"},
	{0x0243, "B"}, {0x0246, "E"}, {0x0247, "e"}, {0x0248, "J"},
	{0x0249, "j"}, {0x024C, "R"}, {0x024D, "r"}, {0x024E, "Y"},
	{0x024F, "y"}, {0x1E9E, "SS"}, {0x2010, "-"}, {0x2011, "-"},
	{0x2012, "-"}, {0x2013, "-"}, {0x2014, "-"}, {0x2015, "-"},
	{0x2018, "'"}, {0x2019, "'"}, {0x201A, "'"}, {0x201B, "'"},
	{0x201C, "\""}, {0x201D, "\""}, {0x201E, "\""}, {0x201F, "\""},
	{0x2032, "'"}, {0x2033, "\""}, {0x2044, "/"}, {0x2212, "-"}
};

/* bsearch comparator for fold_special */
static int
fold_entry_cmp(const void *key, const void *entry)
{
	pg_wchar	k = *(const pg_wchar *) key;
	pg_wchar	e = ((const FoldEntry *) entry)->cp;

	return (k > e) - (k < e);
}

/*
 * is_combining_mark
 *		True for the combining diacritical marks that folding drops.
 */
static inline bool
is_combining_mark(pg_wchar cp)
{
	return (cp >= 0x0300 && cp <= 0x036F) ||
		(cp >= 0x1AB0 && cp <= 0x1AFF) ||
		(cp >= 0x1DC0 && cp <= 0x1DFF) ||
		(cp >= 0x20D0 && cp <= 0x20FF) ||
		(cp >= 0xFE20 && cp <= 0xFE2F);
}

/*
 * cdp_fold_codepoint
 *		Append the ASCII spelling of the Unicode code point cp to out.
 *		Returns false, appending nothing, when it has none.  A combining
 *		mark has the empty spelling.
 */
bool
cdp_fold_codepoint(pg_wchar cp, StringInfo out)
{
	pg_wchar	one[2];
	pg_wchar   *decomposed;
	const FoldEntry *special;
	int			i;
	int			start;
	bool		ascii = true;

	if (cp < 0x80)
	{
		appendStringInfoChar(out, (char) cp);
		return true;
	}
	if (is_combining_mark(cp))
		return true;

	special = bsearch(&cp, fold_special, lengthof(fold_special),
					  sizeof(FoldEntry), fold_entry_cmp);
	if (special)
	{
		appendStringInfoString(out, special->ascii);
		return true;
	}

	/* compatibility decomposition, then keep it only if it is ASCII */
	one[0] = cp;
	one[1] = 0;
	decomposed = unicode_normalize(UNICODE_NFKD, one);
	if (decomposed == NULL)
		return false;
	for (i = 0; decomposed[i] != 0; i++)
	{
		if (decomposed[i] >= 0x80 && !is_combining_mark(decomposed[i]))
		{
			/* a decomposed piece may itself be a special letter */
			special = bsearch(&decomposed[i], fold_special,
							  lengthof(fold_special),
							  sizeof(FoldEntry), fold_entry_cmp);
			if (special == NULL)
			{
				ascii = false;
				break;
			}
		}
	}
	if (!ascii || (decomposed[0] == cp && decomposed[1] == 0))
	{
		pfree(decomposed);
		return false;
	}

	start = out->len;
	for (i = 0; decomposed[i] != 0; i++)
	{
		pg_wchar	d = decomposed[i];

		if (d < 0x80)
			appendStringInfoChar(out, (char) d);
		else if (!is_combining_mark(d))
			appendStringInfoString(out,
								   ((const FoldEntry *) bsearch(&d, fold_special,
																lengthof(fold_special),
																sizeof(FoldEntry),
																fold_entry_cmp))->ascii);
	}
	pfree(decomposed);
	/* a lone spacing mark such as U+00B4 decomposes to space + mark: drop it */
	if (out->len == start + 1 && out->data[start] == ' ' && cp != 0x00A0 &&
		!(cp >= 0x2000 && cp <= 0x200A) && cp != 0x3000 && cp != 0x202F &&
		cp != 0x205F)
	{
		out->len = start;
		out->data[start] = '\0';
	}
	return true;
}

/*
 * cdp_fold_ascii
 *		Fold the len bytes at s (server encoding) to ASCII where possible.
 *		Returns a palloc'd NUL-terminated string in the server encoding and
 *		stores its length in *outlen when outlen is not NULL.
 */
char *
cdp_fold_ascii(const char *s, int len, int *outlen)
{
	int			encoding = GetDatabaseEncoding();
	const unsigned char *utf8;
	const unsigned char *p;
	const unsigned char *end;
	StringInfoData out;
	char	   *result;

	if (cdp_is_ascii(s, len))
	{
		result = palloc(len + 1);
		memcpy(result, s, len);
		result[len] = '\0';
		if (outlen)
			*outlen = len;
		return result;
	}

	/*
	 * SQL_ASCII promises nothing about bytes above 127: fold them only when
	 * they happen to be valid UTF-8, otherwise leave the value as it is.
	 */
	if (encoding == PG_SQL_ASCII)
	{
		if (!pg_verify_mbstr(PG_UTF8, s, len, true))
		{
			result = palloc(len + 1);
			memcpy(result, s, len);
			result[len] = '\0';
			if (outlen)
				*outlen = len;
			return result;
		}
		encoding = PG_UTF8;
	}

	if (encoding == PG_UTF8)
		utf8 = (const unsigned char *) s;
	else
		utf8 = (const unsigned char *) pg_do_encoding_conversion((unsigned char *) s, len,
																 encoding, PG_UTF8);
	if ((const char *) utf8 != s)
		len = strlen((const char *) utf8);

	initStringInfo(&out);
	p = utf8;
	end = utf8 + len;
	while (p < end)
	{
		int			l = pg_utf_mblen(p);
		pg_wchar	cp;

		if (l <= 0 || p + l > end)
			l = 1;
		cp = utf8_to_unicode(p);
		if (!cdp_fold_codepoint(cp, &out))
			appendBinaryStringInfo(&out, (const char *) p, l);
		p += l;
	}

	if (encoding != PG_UTF8)
	{
		/* every kept character came from the input, so this cannot fail */
		result = (char *) pg_do_encoding_conversion((unsigned char *) out.data, out.len,
													PG_UTF8, encoding);
		if (outlen)
			*outlen = strlen(result);
	}
	else
	{
		result = out.data;
		if (outlen)
			*outlen = out.len;
	}
	return result;
}
