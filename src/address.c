/*-------------------------------------------------------------------------
 *
 * address.c
 *	  normalize_address and normalize_org: the whole-word dictionary
 *	  normalisers of postal addresses and organisation names.
 *
 * Both cut the text into tokens with the tokenizer of normalize.c, merge
 * runs of single letters glued by '.' or '/' into words ("P.O." -> "po"),
 * and then apply their dictionary to whole words: the abbreviations of
 * USPS Publication 28 and ordinals written as digits for addresses, a
 * leading "the" and the legal forms at the end for organisations.
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
#include "normalize.h"

PG_FUNCTION_INFO_V1(cdp_normalize_address);
PG_FUNCTION_INFO_V1(cdp_normalize_org);


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

/*
 * cdp_check_address_tables
 *		Make sure the dictionary of addresses is sorted; called by
 *		cdp_check_tables.
 */
void
cdp_check_address_tables(void)
{
	cdp_check_table_sorted(address_words, lengthof(address_words),
					   sizeof(address_words[0]), "address_words");
}

/* append the ordinal "21st" of value */
static void
out_ordinal(StringInfo out, int value)
{
	char		buf[16];
	int			n = snprintf(buf, sizeof(buf), "%d", value);

	snprintf(buf + n, sizeof(buf) - n, "%s",
			 cdp_ordinal_suffix((const unsigned char *) buf, n));
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

	cdp_check_tables();
	cdp_tokenize(s, len, TOKMODE_ADDRESS, &tl);
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
			n1 = cdp_number_word_find(word);
		if (n1 != NULL && n1->kind == NW_TENS && !n1->ordinal && i + 1 < nw &&
			(n2 = cdp_number_word_find(w[i + 1].s)) != NULL &&
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
		if ((nd = cdp_ordinal_digits((const unsigned char *) word, wl, false)) > 0)
		{
			out_word(&out, word, nd);
			appendStringInfoString(&out,
								   cdp_ordinal_suffix((const unsigned char *) word, nd));
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

	return cdp_finish_output(out.data, out.len, tl.converted, true, outlen);
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

/*
 * cdp_check_org_tables
 *		Make sure the dictionary of organisations is sorted; called by
 *		cdp_check_tables.
 */
void
cdp_check_org_tables(void)
{
	cdp_check_table_sorted(org_legal_forms, lengthof(org_legal_forms),
					   sizeof(org_legal_forms[0]), "org_legal_forms");
}

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

	cdp_check_tables();
	cdp_tokenize(s, len, TOKMODE_ORG, &tl);
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

	return cdp_finish_output(out.data, out.len, tl.converted, true, outlen);
}


/* ======================================================================
 * SQL-callable functions
 * ====================================================================== */

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
