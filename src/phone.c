/*-------------------------------------------------------------------------
 *
 * phone.c
 *	  Telephone numbers: cdp.normalize_phone turns a number as people write
 *	  it into its E.164 form (+14155550123), and cdp.phone_extension pulls
 *	  out the extension written after it.
 *
 * A number is read in two steps.  The text is first checked against a
 * small grammar:
 *
 *	  [tel:] [label...] [+] digits-and-separators [extension]
 *
 * A label is one of a few words such as "Tel:", "Phone", "Mobile", "Fax",
 * "Handy", "Portable", "Teléfono", "Тел", "電話" (up to three of them).
 * Separators are spaces, dots, dashes, slashes, commas, brackets and "~".
 * Vanity letters (1-800-FLOWERS) map to the telephone keypad; they must
 * come after at least three digits and number at least three, and must be
 * ASCII letters.  An extension is "x", "ext", "extn", "extension", "#",
 * ";ext=", "poste", "Durchwahl", "Dw", "Nebenstelle", "anexo", "interno"
 * or "ramal" followed by one to ten digits and nothing else.  Digits of
 * other scripts (fullwidth, Arabic-Indic, Devanagari...) count as digits;
 * accented letters are folded to ASCII.
 *
 * The digits are then placed in the E.164 numbering plan with the tables
 * of phone_regions.h: after "+", or after an international call prefix of
 * the default region ("00" everywhere, "011" in the NANP, "010" in Japan,
 * "810" in Russia...), they begin with a country calling code; otherwise
 * they are a national number of the default region, with its trunk prefix
 * or without it, or a local number of a region with a single area code.
 * A trunk prefix written after the country code by mistake ("+44 (0)20",
 * "+7 8 495") is dropped.
 *
 * A text is rejected (NULL) when:
 *	  - it is empty or longer than PHONE_MAX_INPUT bytes;
 *	  - it has words other than labels, vanity letters and an extension
 *		marker ("call me", "n/a", "unknown", "202 456 1111 after 6pm"), or
 *		other characters (letters of other scripts, emoji, "*", "@"...);
 *	  - it has a "+" anywhere but before the first digit, or two of them;
 *	  - the calling code after "+" or an international prefix is not
 *		assigned;
 *	  - the national significant number (NSN) has a length or a first
 *		digit that its calling code does not allow (E.164 numbers have at
 *		most 15 digits), or is one digit repeated (0000000000, 5555555555),
 *		or, in the NANP (+1), has an area code or exchange code that does
 *		not begin with 2-9 (1234567890, 202 056 1111);
 *	  - an extension marker has no digits, more than ten, or text after.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "pg_cdp.h"
#include "phone_regions.h"

PG_FUNCTION_INFO_V1(cdp_normalize_phone);
PG_FUNCTION_INFO_V1(cdp_phone_extension);

/* text longer than this (in bytes) is never taken for a phone number */
#define PHONE_MAX_INPUT		256

/* more digits than this cannot be a number with its prefixes */
#define PHONE_MAX_DIGITS	32

/* longest extension accepted, in digits */
#define PHONE_MAX_EXT		10

/* vanity letters: at least this many digits before them, this many letters */
#define PHONE_VANITY_MIN_DIGITS 3
#define PHONE_VANITY_MIN_LETTERS 3

/* what the grammar made of a text */
typedef struct PhoneParse
{
	bool		plus;			/* written with a leading "+" */
	int			ndigits;		/* digits of the number, vanity letters mapped */
	char		digits[PHONE_MAX_DIGITS + 1];
	int			next;			/* digits of the extension, 0 when none */
	char		ext[PHONE_MAX_EXT + 1];
} PhoneParse;

/* labels that may stand before a number, lower case, UTF-8 */
static const char *const phone_labels[] = {
	"cel", "cell", "cellphone", "celular", "direct", "f", "fax", "fijo",
	"fixe", "fon", "gsm", "handy", "home", "m", "main", "mob", "mobil",
	"mobile", "mobiltelefon", "movil", "no", "nr", "num", "number", "office",
	"p", "ph", "phone", "portable", "puh", "t", "tel", "tele", "telefon",
	"telefone", "telefono", "telefoon", "telephone", "telf", "tfn", "tfno",
	"tlf", "work",
	"моб", "тел", "телефон", "전화", "手机", "携帯", "电话", "電話"
};

/* words that introduce an extension, lower case */
static const char *const phone_ext_markers[] = {
	"anexo", "durchwahl", "dw", "ext", "extension", "extn", "interno",
	"nebenstelle", "poste", "ramal", "x"
};

/* the first code point of each block of decimal digits folded to 0-9 */
static const pg_wchar phone_digit_zeros[] = {
	0x0660,						/* Arabic-Indic */
	0x06F0,						/* Extended Arabic-Indic (Persian, Urdu) */
	0x07C0,						/* NKo */
	0x0966,						/* Devanagari */
	0x09E6,						/* Bengali */
	0x0A66,						/* Gurmukhi */
	0x0AE6,						/* Gujarati */
	0x0B66,						/* Oriya */
	0x0BE6,						/* Tamil */
	0x0C66,						/* Telugu */
	0x0CE6,						/* Kannada */
	0x0D66,						/* Malayalam */
	0x0E50,						/* Thai */
	0x0ED0,						/* Lao */
	0x0F20,						/* Tibetan */
	0x1040,						/* Myanmar */
	0x17E0,						/* Khmer */
	0x1810,						/* Mongolian */
	0xFF10						/* Fullwidth */
};

/* the telephone keypad: the digit of each letter A-Z */
static const char phone_keypad[26] = {
	'2', '2', '2', '3', '3', '3', '4', '4', '4', '5', '5', '5', '6', '6', '6',
	'7', '7', '7', '7', '8', '8', '8', '9', '9', '9', '9'
};

/*
 * phone_prepare_wide
 *		Rewrite a text containing non-ASCII characters into UTF-8 where
 *		every digit is an ASCII digit and every character with an ASCII
 *		spelling has it (fullwidth forms, dashes, non-breaking spaces,
 *		accented letters); Cyrillic capitals are lowered so that labels
 *		match.  s/len is in the server encoding (valid UTF-8 when that is
 *		SQL_ASCII).  Returns a palloc'd
 *		NUL-terminated string and its length in *outlen, and in *folded a
 *		palloc'd array with one entry per byte of the result, true where
 *		the byte comes from folding a non-ASCII character (such letters may
 *		spell a label or an extension marker, never vanity letters).
 */
static char *
phone_prepare_wide(const char *s, int len, int *outlen, bool **folded)
{
	const unsigned char *utf8;
	const unsigned char *p;
	const unsigned char *end;
	StringInfoData out;
	StringInfoData marks;

	if (GetDatabaseEncoding() == PG_UTF8 ||
		GetDatabaseEncoding() == PG_SQL_ASCII)
		utf8 = (const unsigned char *) s;
	else
	{
		utf8 = (const unsigned char *)
			pg_do_encoding_conversion((unsigned char *) s, len,
									  GetDatabaseEncoding(), PG_UTF8);
		if ((const char *) utf8 != s)
			len = strlen((const char *) utf8);
	}

	initStringInfo(&out);
	initStringInfo(&marks);
	p = utf8;
	end = utf8 + len;
	while (p < end)
	{
		int			l = pg_utf_mblen(p);
		pg_wchar	cp;
		int			i;
		bool		done = false;

		if (l <= 0 || p + l > end)
			l = 1;
		cp = (l == 1) ? *p : utf8_to_unicode(p);

		if (cp < 0x80)
		{
			appendStringInfoChar(&out, (char) cp);
			appendStringInfoChar(&marks, false);
			p += l;
			continue;
		}
		for (i = 0; i < lengthof(phone_digit_zeros); i++)
		{
			if (cp >= phone_digit_zeros[i] && cp <= phone_digit_zeros[i] + 9)
			{
				appendStringInfoChar(&out, (char) ('0' + (cp - phone_digit_zeros[i])));
				done = true;
				break;
			}
		}
		if (!done && cp == 0x30FC)
		{
			/* KATAKANA-HIRAGANA PROLONGED SOUND MARK, often typed as a dash */
			appendStringInfoChar(&out, '-');
			done = true;
		}
		if (!done && !cdp_fold_codepoint(cp, &out))
		{
			unsigned char buf[8];

			/* Cyrillic capitals to lower case, for the labels */
			if (cp >= 0x0410 && cp <= 0x042F)
				cp += 0x20;
			unicode_to_utf8(cp, buf);
			appendBinaryStringInfo(&out, (const char *) buf, pg_utf_mblen(buf));
		}
		while (marks.len < out.len)
			appendStringInfoChar(&marks, true);
		p += l;
	}
	*outlen = out.len;
	*folded = (bool *) marks.data;
	return out.data;
}

/* true for the characters that may separate the groups of a number */
static inline bool
phone_is_separator(char c)
{
	switch (c)
	{
		case ' ':
		case '\t':
		case '\n':
		case '\r':
		case '.':
		case '-':
		case '/':
		case ',':
		case '(':
		case ')':
		case '[':
		case ']':
		case '~':
			return true;
		default:
			return false;
	}
}

/* true for an ASCII letter */
static inline bool
phone_is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * phone_word_in
 *		True when the len bytes at w, ASCII letters compared without case,
 *		are one of the n words of list.
 */
static bool
phone_word_in(const char *w, int len, const char *const *list, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		if ((int) strlen(list[i]) == len && pg_strncasecmp(w, list[i], len) == 0)
			return true;
	}
	return false;
}

/*
 * phone_parse_extension
 *		Read an extension starting at b[i]: optional punctuation (". : = -"
 *		and spaces), then 1 to PHONE_MAX_EXT digits, then only separators
 *		to the end.  Stores the digits in pp and returns true, or returns
 *		false when the rest of the text is not an extension.
 */
static bool
phone_parse_extension(const char *b, int n, int i, PhoneParse *pp)
{
	while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '.' ||
					 b[i] == ':' || b[i] == '=' || b[i] == '-'))
		i++;
	pp->next = 0;
	while (i < n && b[i] >= '0' && b[i] <= '9')
	{
		if (pp->next == PHONE_MAX_EXT)
			break;
		pp->ext[pp->next++] = b[i++];
	}
	while (i < n && phone_is_separator(b[i]))
		i++;
	if (pp->next == 0 || i < n)
	{
		pp->next = 0;
		pp->ext[0] = '\0';
		return false;
	}
	pp->ext[pp->next] = '\0';
	return true;
}

/*
 * phone_parse
 *		Check the n bytes at b (ASCII, or UTF-8 prepared by
 *		phone_prepare_wide with its folded marks, NULL for ASCII) against
 *		the grammar of a written phone number and collect its digits and
 *		extension into *pp.  Returns false when the text is not a phone
 *		number.
 */
static bool
phone_parse(const char *b, int n, const bool *folded, PhoneParse *pp)
{
	int			i = 0;
	int			nlabels = 0;
	int			nletters = 0;

	pp->plus = false;
	pp->ndigits = 0;
	pp->next = 0;
	pp->ext[0] = '\0';

	/* an RFC 3966 URI, or up to three label words ("Tel. mobile:") */
	while (i < n && (b[i] == ' ' || b[i] == '\t'))
		i++;
	if (n - i >= 4 && pg_strncasecmp(b + i, "tel:", 4) == 0)
		i += 4;
	else
	{
		while (nlabels < 3)
		{
			int			j = i;
			int			start;

			while (j < n && (phone_is_separator(b[j]) || b[j] == ':'))
				j++;
			start = j;
			while (j < n && (phone_is_letter(b[j]) || (unsigned char) b[j] >= 0x80))
				j++;
			if (j == start ||
				!phone_word_in(b + start, j - start, phone_labels, lengthof(phone_labels)))
				break;
			/* the label and what ends it: "Tel.:", "Tél. :" */
			while (j < n && (b[j] == '.' || b[j] == ':' || b[j] == ' ' || b[j] == '\t'))
				j++;
			i = j;
			nlabels++;
		}
	}

	while (i < n)
	{
		char		c = b[i];

		if (c >= '0' && c <= '9')
		{
			if (pp->ndigits == PHONE_MAX_DIGITS)
				return false;
			pp->digits[pp->ndigits++] = c;
			i++;
		}
		else if (phone_is_separator(c))
			i++;
		else if (c == '+')
		{
			if (pp->plus || pp->ndigits > 0)
				return false;
			pp->plus = true;
			i++;
		}
		else if (phone_is_letter(c))
		{
			int			start = i;
			int			k;

			while (i < n && phone_is_letter(b[i]))
				i++;
			if (pp->ndigits > 0 &&
				phone_word_in(b + start, i - start, phone_ext_markers,
							  lengthof(phone_ext_markers)) &&
				phone_parse_extension(b, n, i, pp))
				break;
			/* vanity letters: only after a numeric prefix */
			if (pp->ndigits < PHONE_VANITY_MIN_DIGITS)
				return false;
			for (k = start; k < i; k++)
			{
				if (pp->ndigits == PHONE_MAX_DIGITS || (folded && folded[k]))
					return false;
				pp->digits[pp->ndigits++] =
					phone_keypad[pg_ascii_tolower((unsigned char) b[k]) - 'a'];
				nletters++;
			}
		}
		else if (c == '#' && pp->ndigits > 0)
		{
			if (!phone_parse_extension(b, n, i + 1, pp))
				return false;
			break;
		}
		else if (c == ';' && pp->ndigits > 0 && n - i >= 5 &&
				 pg_strncasecmp(b + i, ";ext=", 5) == 0)
		{
			if (!phone_parse_extension(b, n, i + 5, pp))
				return false;
			break;
		}
		else
			return false;
	}
	pp->digits[pp->ndigits] = '\0';

	/* one or two letters among digits are a typo, not a vanity number */
	if (nletters > 0 && nletters < PHONE_VANITY_MIN_LETTERS)
		return false;
	return pp->ndigits > 0;
}

/* bsearch comparator for cdp_phone_regions: key is an upper-case code */
static int
phone_region_cmp(const void *key, const void *entry)
{
	return strcmp((const char *) key, ((const CdpPhoneRegion *) entry)->iso);
}

/* bsearch comparator for cdp_calling_codes: key is an int */
static int
phone_code_cmp(const void *key, const void *entry)
{
	int			k = *(const int *) key;
	int			e = ((const CdpCallingCode *) entry)->cc;

	return (k > e) - (k < e);
}

#ifdef USE_ASSERT_CHECKING
/*
 * phone_check_tables
 *		Check once per backend, in assert-enabled builds, what the lookups
 *		rely on: both tables sorted on their keys without duplicates, the
 *		calling codes a prefix code, every region's code present.
 */
static void
phone_check_tables(void)
{
	static bool checked = false;
	int			i;
	int			j;

	if (checked)
		return;
	for (i = 1; i < lengthof(cdp_phone_regions); i++)
		Assert(strcmp(cdp_phone_regions[i - 1].iso, cdp_phone_regions[i].iso) < 0);
	for (i = 1; i < lengthof(cdp_calling_codes); i++)
		Assert(cdp_calling_codes[i - 1].cc < cdp_calling_codes[i].cc);
	for (i = 0; i < lengthof(cdp_calling_codes); i++)
	{
		for (j = 0; j < lengthof(cdp_calling_codes); j++)
		{
			int			a = cdp_calling_codes[i].cc;
			int			b = cdp_calling_codes[j].cc;

			/* no code is another code followed by more digits */
			while (b > a)
				b /= 10;
			Assert(i == j || b != a);
		}
	}
	for (i = 0; i < lengthof(cdp_phone_regions); i++)
	{
		int			cc = cdp_phone_regions[i].cc;

		Assert(bsearch(&cc, cdp_calling_codes, lengthof(cdp_calling_codes),
					   sizeof(CdpCallingCode), phone_code_cmp) != NULL);
	}
	checked = true;
}
#endif

/*
 * phone_lookup_region
 *		The region named by the ISO 3166-1 alpha-2 code in the text t (any
 *		case; "UK" is taken for GB).  Raises an error for an unknown code.
 */
static const CdpPhoneRegion *
phone_lookup_region(text *t)
{
	const char *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);
	const CdpPhoneRegion *r = NULL;

#ifdef USE_ASSERT_CHECKING
	phone_check_tables();
#endif
	if (len == 2 && phone_is_letter(s[0]) && phone_is_letter(s[1]))
	{
		char		key[3];

		key[0] = pg_ascii_toupper((unsigned char) s[0]);
		key[1] = pg_ascii_toupper((unsigned char) s[1]);
		key[2] = '\0';
		if (strcmp(key, "UK") == 0)
			strcpy(key, "GB");
		r = bsearch(key, cdp_phone_regions, lengthof(cdp_phone_regions),
					sizeof(CdpPhoneRegion), phone_region_cmp);
	}
	if (r == NULL)
	{
		int			shown = pg_mbcliplen(s, len, 32);

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown region \"%.*s%s\"", shown, s,
						shown < len ? "..." : ""),
				 errdetail("The default region must be an ISO 3166-1 alpha-2 country code of a region with a telephone country calling code."),
				 errhint("Use a two-letter code such as 'US', 'GB' or 'DE', or write the number with its country code, as in '+44 20 7946 0018'.")));
	}
	return r;
}

/* the calling code entry for cc, or NULL when cc is not assigned */
static const CdpCallingCode *
phone_lookup_code(int cc)
{
	return bsearch(&cc, cdp_calling_codes, lengthof(cdp_calling_codes),
				   sizeof(CdpCallingCode), phone_code_cmp);
}

/*
 * phone_nsn_valid
 *		True when the len digits at nsn can be a national significant
 *		number after the calling code cc: a valid length and first digit,
 *		not one digit repeated, and in the NANP an area code and an
 *		exchange code beginning with 2-9.
 */
static bool
phone_nsn_valid(const CdpCallingCode *cc, const char *nsn, int len)
{
	int			i;

	if (len <= 0 || len > 31 || (cc->lengths & PH_LEN(len)) == 0)
		return false;
	if (strchr(cc->first, nsn[0]) == NULL)
		return false;
	for (i = 1; i < len; i++)
	{
		if (nsn[i] != nsn[0])
			break;
	}
	if (i == len)
		return false;
	if (cc->cc == 1 && (nsn[3] < '2' || nsn[3] > '9'))
		return false;
	return true;
}

/*
 * phone_alt_next
 *		Step through a '|'-separated list of alternatives: *list points at
 *		the next one; stores its start and length and advances *list.
 *		Returns false at the end of the list.
 */
static bool
phone_alt_next(const char **list, const char **alt, int *len)
{
	const char *p = *list;
	const char *bar;

	if (*p == '\0')
		return false;
	bar = strchr(p, '|');
	*alt = p;
	*len = bar ? (int) (bar - p) : (int) strlen(p);
	*list = bar ? bar + 1 : p + *len;
	return true;
}

/*
 * phone_e164
 *		Write "+", the calling code and the NSN (len digits) into out
 *		(at least 17 bytes).
 */
static void
phone_e164(char *out, const CdpCallingCode *cc, const char *nsn, int len)
{
	int			n = snprintf(out, 8, "+%d", (int) cc->cc);

	memcpy(out + n, nsn, len);
	out[n + len] = '\0';
}

/*
 * phone_after_code
 *		The len digits at nsn follow the calling code cc.  Drops a trunk
 *		prefix written after the code by mistake when the number is not
 *		valid with it and is without it.  On success writes the E.164 form
 *		into out and returns true.
 */
static bool
phone_after_code(const CdpCallingCode *cc, const char *nsn, int len, char *out)
{
	if (!phone_nsn_valid(cc, nsn, len))
	{
		const char *list = cc->trunk;
		const char *alt;
		int			alen;
		bool		found = false;

		while (phone_alt_next(&list, &alt, &alen))
		{
			if (alen < len && memcmp(nsn, alt, alen) == 0 &&
				phone_nsn_valid(cc, nsn + alen, len - alen))
			{
				nsn += alen;
				len -= alen;
				found = true;
				break;
			}
		}
		if (!found)
			return false;
	}
	phone_e164(out, cc, nsn, len);
	return true;
}

/*
 * phone_international
 *		The len digits at d begin with a country calling code (they came
 *		after "+" or an international prefix).  On success writes the E.164
 *		form into out and returns true.
 */
static bool
phone_international(const char *d, int len, char *out)
{
	int			code = 0;
	int			k;

	if (len < 2 || d[0] == '0')
		return false;
	for (k = 1; k <= 3 && k < len; k++)
	{
		const CdpCallingCode *cc;

		code = code * 10 + (d[k - 1] - '0');
		cc = phone_lookup_code(code);
		if (cc != NULL)
			return phone_after_code(cc, d + k, len - k, out);
	}
	return false;
}

/*
 * phone_prefix_matches
 *		True when the digits at d (len of them) begin with the prefix alt
 *		(alen characters, 'X' matching any digit) and go on after it.
 */
static bool
phone_prefix_matches(const char *d, int len, const char *alt, int alen)
{
	int			i;

	if (alen >= len)
		return false;
	for (i = 0; i < alen; i++)
	{
		if (alt[i] != 'X' && alt[i] != d[i])
			return false;
	}
	return true;
}

/*
 * phone_normalize_digits
 *		Place the digits of a parsed number in the numbering plan, reading
 *		a number without "+" or international prefix as a national number
 *		of region.  On success writes the E.164 form into out (at least 17
 *		bytes) and returns true.
 */
static bool
phone_normalize_digits(const PhoneParse *pp, const CdpPhoneRegion *region,
					   char *out)
{
	const char *d = pp->digits;
	int			len = pp->ndigits;
	const CdpCallingCode *cc;
	const char *list;
	const char *alt;
	int			alen;

	if (pp->plus)
		return phone_international(d, len, out);

	/* the region's international prefixes, longest first, then "00" */
	list = region->intl;
	while (phone_alt_next(&list, &alt, &alen))
	{
		if (phone_prefix_matches(d, len, alt, alen) &&
			phone_international(d + alen, len - alen, out))
			return true;
	}
	if (phone_prefix_matches(d, len, "00", 2) &&
		phone_international(d + 2, len - 2, out))
		return true;

	/* a national number, with its trunk prefix or without */
	cc = phone_lookup_code(region->cc);
	if (cc == NULL)
		elog(ERROR, "calling code %d of region %s is missing", region->cc, region->iso);
	list = cc->trunk;
	while (phone_alt_next(&list, &alt, &alen))
	{
		if (alen < len && memcmp(d, alt, alen) == 0 &&
			phone_nsn_valid(cc, d + alen, len - alen))
		{
			phone_e164(out, cc, d + alen, len - alen);
			return true;
		}
	}
	if (phone_nsn_valid(cc, d, len))
	{
		phone_e164(out, cc, d, len);
		return true;
	}

	/* a local number of a region with a single area code */
	if (region->area[0] != '\0')
	{
		char		nsn[PHONE_MAX_DIGITS * 2 + 1];
		int			alen2 = strlen(region->area);

		memcpy(nsn, region->area, alen2);
		memcpy(nsn + alen2, d, len);
		if (phone_nsn_valid(cc, nsn, alen2 + len))
		{
			phone_e164(out, cc, nsn, alen2 + len);
			return true;
		}
	}
	return false;
}

/*
 * phone_read
 *		Parse the text t as a written phone number into *pp.  Returns false
 *		when it is not one.
 */
static bool
phone_read(text *t, PhoneParse *pp)
{
	const char *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);

	if (len == 0 || len > PHONE_MAX_INPUT)
		return false;
	if (!cdp_is_ascii(s, len))
	{
		int			plen;
		bool	   *folded;
		char	   *prepared;
		bool		ok;

		/*
		 * In a SQL_ASCII database, bytes that are not UTF-8 have no known
		 * meaning: only their ASCII characters can be part of a number.
		 */
		if (GetDatabaseEncoding() == PG_SQL_ASCII &&
			!pg_verify_mbstr(PG_UTF8, s, len, true))
			return phone_parse(s, len, NULL, pp);
		prepared = phone_prepare_wide(s, len, &plen, &folded);
		ok = phone_parse(prepared, plen, folded, pp);

		pfree(prepared);
		pfree(folded);
		return ok;
	}
	return phone_parse(s, len, NULL, pp);
}

/*
 * cdp_normalize_phone
 *		cdp.normalize_phone(phone text, default_region text) -> text
 *		The E.164 form of a written phone number, NULL when the text cannot
 *		be one; the extension is dropped.  A number written without "+" or
 *		an international prefix is read as a national number of
 *		default_region (ISO 3166-1 alpha-2; an unknown code is an error).
 */
Datum
cdp_normalize_phone(PG_FUNCTION_ARGS)
{
	text	   *phone = PG_GETARG_TEXT_PP(0);
	const CdpPhoneRegion *region = phone_lookup_region(PG_GETARG_TEXT_PP(1));
	PhoneParse	pp;
	char		out[24];

	if (!phone_read(phone, &pp) || !phone_normalize_digits(&pp, region, out))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(out));
}

/*
 * cdp_phone_extension
 *		cdp.phone_extension(phone text) -> text
 *		The digits of the extension written after a phone number ("x123",
 *		"ext. 123", "#123", ";ext=123", "poste 12"...), NULL when there is
 *		none or the text is not a phone number.
 */
Datum
cdp_phone_extension(PG_FUNCTION_ARGS)
{
	PhoneParse	pp;

	if (!phone_read(PG_GETARG_TEXT_PP(0), &pp) || pp.next == 0)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(pp.ext, pp.next));
}
