/*-------------------------------------------------------------------------
 *
 * person_name.c
 *	  normalize_name: the normal form of a person's name, used by the name
 *	  matching of names.c through cdp_normalize_name_cstr.
 *
 * The name is cut into tokens by the tokenizer of normalize.c; titles and
 * honorifics are removed at the start, generational suffixes, degrees and
 * honours at the end, and "Last, First" is turned into "first last".
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "pg_cdp.h"
#include "normalize.h"

PG_FUNCTION_INFO_V1(cdp_normalize_name);


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

/*
 * cdp_check_name_tables
 *		Make sure the dictionaries of this file are sorted; called by
 *		cdp_check_tables.
 */
void
cdp_check_name_tables(void)
{
	cdp_check_table_sorted(name_titles, lengthof(name_titles),
					   sizeof(name_titles[0]), "name_titles");
	cdp_check_table_sorted(name_suffixes, lengthof(name_suffixes),
					   sizeof(name_suffixes[0]), "name_suffixes");
}

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

	cdp_check_tables();
	cdp_tokenize(s, len, TOKMODE_NAME, &tl);
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
			cdp_join_tokens(&out, &tl, gs, ge);
			cdp_join_tokens(&out, &tl, fs, fe);
		}
		else
			cdp_join_tokens(&out, &tl, fs, fe);
	}
	else
	{
		int			fs = strip_titles(&tl, pstart[0], pend[np - 1]);
		int			fe = strip_suffixes(&tl, fs, pend[np - 1]);

		cdp_join_tokens(&out, &tl, fs, fe);
	}

	/* nothing but titles and suffixes: keep them all */
	if (out.len == 0)
		cdp_join_tokens(&out, &tl, 0, tl.ntok);

	return cdp_finish_output(out.data, out.len, tl.converted, true, &outlen);
}


/* ======================================================================
 * SQL-callable functions
 * ====================================================================== */

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
