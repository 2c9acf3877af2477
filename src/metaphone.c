/*-------------------------------------------------------------------------
 *
 * metaphone.c
 *	  Double Metaphone phonetic codes: cdp.double_metaphone(text).
 *
 * Lawrence Philips' Double Metaphone (C/C++ Users Journal, June 2000) maps
 * a name to a primary code and an alternate code of at most four
 * characters each, drawn from "0AFHJKLMNPRSTX" (0 stands for "th").  Names
 * that sound alike in English, or in the language the name comes from,
 * share a code, which makes the codes good blocking keys for record
 * linkage.  The rules below follow the published algorithm, including the
 * way it treats a multi-word input as one string and skips everything that
 * is not a letter; they were checked against the PostgreSQL contrib module
 * fuzzystrmatch on several thousand real names (see sql/metaphone.sql).
 *
 * The input is first folded to ASCII (Müller -> Muller, Çelik -> Celik) and
 * uppercased into one buffer; each character that has no ASCII spelling
 * becomes a single placeholder byte that no rule treats as a letter or a
 * space.  The buffer is followed by a few spaces so that the rules may look
 * past the end of the word without bounds checks, as the original does.
 * Short names use a buffer on the stack; nothing is allocated per
 * character.  Scanning stops as soon as both codes have four characters.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "pg_cdp.h"

PG_FUNCTION_INFO_V1(cdp_double_metaphone);

/* the standard length of a Double Metaphone code */
#define DM_CODE_LEN		4

/* spaces after the word: the rules look at most five characters ahead */
#define DM_PAD			8

/* what a character with no ASCII spelling becomes in the work buffer */
#define DM_OTHER		'\x7f'

/* inputs up to this many bytes are uppercased into a buffer on the stack */
#define DM_STACK_BUF	256

/* how many characters are scanned between checks for interrupts (2^k) */
#define DM_INTERRUPT_EVERY	65536

/*
 * The state of one coding: the uppercased word, where the scan is, and the
 * two codes built so far.
 */
typedef struct DmState
{
	const char *w;				/* uppercased word followed by DM_PAD spaces */
	int			len;			/* length of the word, without the padding */
	int			last;			/* index of its last character */
	int			slavo;			/* Slavic/Germanic word? -1 when not yet known */
	int			plen;			/* characters in primary */
	int			alen;			/* characters in alternate */
	char		primary[DM_CODE_LEN + 1];
	char		alternate[DM_CODE_LEN + 1];
} DmState;

/*
 * at_n
 *		True when the n characters at pos are exactly lit.  Nothing matches
 *		before the start of the word; the padding makes every position the
 *		rules look at (never more than four bytes past the word) readable.
 */
static inline bool
at_n(const DmState *st, int pos, const char *lit, int n)
{
	return pos >= 0 && memcmp(st->w + pos, lit, n) == 0;
}

/* AT(st, pos, "LIT"): does the word hold the literal LIT at pos? */
#define AT(st, pos, lit)	at_n((st), (pos), (lit), (int) sizeof(lit) - 1)

/*
 * is_vowel
 *		True when the character at pos is A, E, I, O, U or Y.
 */
static inline bool
is_vowel(const DmState *st, int pos)
{
	if (pos < 0)
		return false;
	switch (st->w[pos])
	{
		case 'A':
		case 'E':
		case 'I':
		case 'O':
		case 'U':
		case 'Y':
			return true;
		default:
			return false;
	}
}

/*
 * is_one_of
 *		True when the character at pos is one of the characters of set (pos
 *		before the start of the word never is).  A space in set matches the
 *		padding after the word too.
 */
static inline bool
is_one_of(const DmState *st, int pos, const char *set)
{
	return pos >= 0 && strchr(set, st->w[pos]) != NULL && st->w[pos] != '\0';
}

/*
 * slavo_germanic
 *		True when the word contains W, K or CZ, which marks it as Slavic or
 *		Germanic for a few rules.  Computed on first use.
 */
static bool
slavo_germanic(DmState *st)
{
	if (st->slavo < 0)
	{
		const char *p = st->w;
		const char *end = st->w + st->len;

		st->slavo = 0;
		for (; p < end; p++)
		{
			if (*p == 'W' || *p == 'K' || (*p == 'C' && p[1] == 'Z'))
			{
				st->slavo = 1;
				break;
			}
		}
	}
	return st->slavo == 1;
}

/*
 * add
 *		Append p to the primary code and a to the alternate code, keeping
 *		at most DM_CODE_LEN characters in each.
 */
static void
add(DmState *st, const char *p, const char *a)
{
	for (; *p && st->plen < DM_CODE_LEN; p++)
		st->primary[st->plen++] = *p;
	for (; *a && st->alen < DM_CODE_LEN; a++)
		st->alternate[st->alen++] = *a;
}

/* add the same sound to both codes */
#define ADD(st, s)	add((st), (s), (s))

/*
 * germanic_start
 *		True when the word begins with "VAN ", "VON " or "SCH", the starts
 *		after which CH, G and TH keep their Germanic hard sound.
 */
static inline bool
germanic_start(const DmState *st)
{
	return AT(st, 0, "VAN ") || AT(st, 0, "VON ") || AT(st, 0, "SCH");
}

/*
 * code_ch
 *		Code the CH at i (C is at i, H at i + 1).  Returns the number of
 *		characters consumed.
 */
static int
code_ch(DmState *st, int i)
{
	/* "michael": K, or X as in "Mikhail" pronounced the other way */
	if (i > 0 && AT(st, i, "CHAE"))
	{
		add(st, "K", "X");
		return 2;
	}

	/* Greek roots at the start: "chorus", "character", "charisma", "chemistry" */
	if (i == 0 &&
		(AT(st, 1, "HARAC") || AT(st, 1, "HARIS") ||
		 AT(st, 1, "HOR") || AT(st, 1, "HYM") || AT(st, 1, "HIA") ||
		 AT(st, 1, "HEM")) &&
		!AT(st, 0, "CHORE"))
	{
		ADD(st, "K");
		return 2;
	}

	/*
	 * Germanic names, "orchestra", "architect", "orchid", CH before T or S,
	 * and CH between a vowel (or the start) and a consonant or word end:
	 * all hard.
	 */
	if (germanic_start(st) ||
		AT(st, i - 2, "ORCHES") || AT(st, i - 2, "ARCHIT") ||
		AT(st, i - 2, "ORCHID") ||
		is_one_of(st, i + 2, "TS") ||
		((i == 0 || is_one_of(st, i - 1, "AOUE")) &&
		 is_one_of(st, i + 2, "LRNMBHFVW ")))
	{
		ADD(st, "K");
		return 2;
	}

	if (i == 0)
		ADD(st, "X");
	else if (AT(st, 0, "MC"))
		ADD(st, "K");			/* "McHugh" */
	else
		add(st, "X", "K");
	return 2;
}

/*
 * code_c
 *		Code the C at i.  Returns the number of characters consumed.
 */
static int
code_c(DmState *st, int i)
{
	char		next = st->w[i + 1];

	/* Germanic "-ach-" not before I or E: "Bacher", "Macher" stay hard */
	if (i > 1 && !is_vowel(st, i - 2) && AT(st, i - 1, "ACH") &&
		st->w[i + 2] != 'I' &&
		(st->w[i + 2] != 'E' ||
		 AT(st, i - 2, "BACHER") || AT(st, i - 2, "MACHER")))
	{
		ADD(st, "K");
		return 2;
	}

	/* "Caesar" */
	if (i == 0 && AT(st, 0, "CAESAR"))
	{
		ADD(st, "S");
		return 2;
	}

	/* Italian "Chianti" */
	if (AT(st, i, "CHIA"))
	{
		ADD(st, "K");
		return 2;
	}

	if (next == 'H')
		return code_ch(st, i);

	/* Polish CZ, but not in "-wicz" */
	if (next == 'Z' && !AT(st, i - 2, "WICZ"))
	{
		add(st, "S", "X");
		return 2;
	}

	/* Italian "-cia-" */
	if (AT(st, i + 1, "CIA"))
	{
		ADD(st, "X");
		return 3;
	}

	/* double C, except in "McClellan" */
	if (next == 'C' && !(i == 1 && st->w[0] == 'M'))
	{
		/* "Bellocchio" but not "Bacchus" */
		if (is_one_of(st, i + 2, "IEH") && !AT(st, i + 2, "HU"))
		{
			/* "accident", "accede", "succeed": KS; "bacci", "bertucci": X */
			if ((i == 1 && st->w[0] == 'A') ||
				AT(st, i - 1, "UCCEE") || AT(st, i - 1, "UCCES"))
				ADD(st, "KS");
			else
				ADD(st, "X");
			return 3;
		}
		/* Pierce's rule */
		ADD(st, "K");
		return 2;
	}

	if (next == 'K' || next == 'G' || next == 'Q')
	{
		ADD(st, "K");
		return 2;
	}

	/* soft C; Italian "-cio-", "-cie-", "-cia-" may be X */
	if (next == 'I' || next == 'E' || next == 'Y')
	{
		if (AT(st, i, "CIO") || AT(st, i, "CIE") || AT(st, i, "CIA"))
			add(st, "S", "X");
		else
			ADD(st, "S");
		return 2;
	}

	ADD(st, "K");
	/* "Mac Caffrey", "Mac Gregor": the next word's C, Q or G is silent */
	if (AT(st, i + 1, " C") || AT(st, i + 1, " Q") || AT(st, i + 1, " G"))
		return 3;
	if (is_one_of(st, i + 1, "CKQ") &&
		!AT(st, i + 1, "CE") && !AT(st, i + 1, "CI"))
		return 2;
	return 1;
}

/*
 * code_gh
 *		Code the GH at i (G at i, H at i + 1).  Returns the number of
 *		characters consumed.
 */
static int
code_gh(DmState *st, int i)
{
	/* after a consonant: hard, as in "Afghan" */
	if (i > 0 && !is_vowel(st, i - 1))
	{
		ADD(st, "K");
		return 2;
	}

	/* at the start: "Ghislane" J, "Ghana" K */
	if (i == 0)
	{
		ADD(st, st->w[2] == 'I' ? "J" : "K");
		return 2;
	}

	/* Parker's rule: silent after B, H or D nearby, as in "Hugh", "bough" */
	if ((i > 1 && is_one_of(st, i - 2, "BHD")) ||
		(i > 2 && is_one_of(st, i - 3, "BHD")) ||
		(i > 3 && is_one_of(st, i - 4, "BH")))
		return 2;

	/* "laugh", "McLaughlin", "cough", "rough", "tough": F */
	if (i > 2 && st->w[i - 1] == 'U' && is_one_of(st, i - 3, "CGLRT"))
		ADD(st, "F");
	else if (st->w[i - 1] != 'I')
		ADD(st, "K");
	return 2;
}

/*
 * code_g
 *		Code the G at i.  Returns the number of characters consumed.
 */
static int
code_g(DmState *st, int i)
{
	char		next = st->w[i + 1];

	if (next == 'H')
		return code_gh(st, i);

	if (next == 'N')
	{
		if (i == 1 && is_vowel(st, 0) && !slavo_germanic(st))
			add(st, "KN", "N");
		else if (!AT(st, i + 2, "EY") && !slavo_germanic(st))
			add(st, "N", "KN");	/* but not "Cagney" */
		else
			ADD(st, "KN");
		return 2;
	}

	/* "tagliaro" */
	if (AT(st, i + 1, "LI") && !slavo_germanic(st))
	{
		add(st, "KL", "L");
		return 2;
	}

	/* initial "ges-", "gep-", "gy-" ... may be soft */
	if (i == 0 &&
		(next == 'Y' ||
		 AT(st, 1, "ES") || AT(st, 1, "EP") || AT(st, 1, "EB") ||
		 AT(st, 1, "EL") || AT(st, 1, "EY") || AT(st, 1, "IB") ||
		 AT(st, 1, "IL") || AT(st, 1, "IN") || AT(st, 1, "IE") ||
		 AT(st, 1, "EI") || AT(st, 1, "ER")))
	{
		add(st, "K", "J");
		return 2;
	}

	/* "-ger-", "-gy-", but not "danger", "ranger", "manger", "-rgy", "-ogy" */
	if ((AT(st, i + 1, "ER") || next == 'Y') &&
		!AT(st, 0, "DANGER") && !AT(st, 0, "RANGER") && !AT(st, 0, "MANGER") &&
		!is_one_of(st, i - 1, "EI") &&
		!AT(st, i - 1, "RGY") && !AT(st, i - 1, "OGY"))
	{
		add(st, "K", "J");
		return 2;
	}

	/* Italian "biaggi" and G before E, I, Y */
	if (next == 'E' || next == 'I' || next == 'Y' ||
		AT(st, i - 1, "AGGI") || AT(st, i - 1, "OGGI"))
	{
		if (germanic_start(st) || AT(st, i + 1, "ET"))
			ADD(st, "K");		/* Germanic, and "-get" */
		else if (AT(st, i + 1, "IER "))
			ADD(st, "J");		/* French ending */
		else
			add(st, "J", "K");
		return 2;
	}

	ADD(st, "K");
	return next == 'G' ? 2 : 1;
}

/*
 * code_j
 *		Code the J at i.  Returns the number of characters consumed.
 */
static int
code_j(DmState *st, int i)
{
	bool		jose = AT(st, i, "JOSE");

	/* Spanish "Jose", "San Jacinto" */
	if (jose || AT(st, 0, "SAN "))
	{
		if ((i == 0 && st->w[i + 4] == ' ') || AT(st, 0, "SAN "))
			ADD(st, "H");
		else
			add(st, "J", "H");
		return 1;
	}

	if (i == 0)
		add(st, "J", "A");		/* "Yankelovich" / "Jankelowicz" */
	else if (is_vowel(st, i - 1) && !slavo_germanic(st) &&
			 (st->w[i + 1] == 'A' || st->w[i + 1] == 'O'))
		add(st, "J", "H");		/* Spanish pronunciation of "bajador" */
	else if (i == st->last)
		add(st, "J", "");
	else if (!is_one_of(st, i + 1, "LTKSNMBZ") && !is_one_of(st, i - 1, "SKL"))
		ADD(st, "J");

	return st->w[i + 1] == 'J' ? 2 : 1;
}

/*
 * code_s
 *		Code the S at i.  Returns the number of characters consumed.
 */
static int
code_s(DmState *st, int i)
{
	char		next = st->w[i + 1];

	/* silent in "island", "isle", "carlisle", "carlysle" */
	if (AT(st, i - 1, "ISL") || AT(st, i - 1, "YSL"))
		return 1;

	/* "sugar-" */
	if (i == 0 && AT(st, 0, "SUGAR"))
	{
		add(st, "X", "S");
		return 1;
	}

	if (next == 'H')
	{
		/* Germanic "-sheim", "-shoek", "-sholm", "-sholz" */
		if (AT(st, i + 1, "HEIM") || AT(st, i + 1, "HOEK") ||
			AT(st, i + 1, "HOLM") || AT(st, i + 1, "HOLZ"))
			ADD(st, "S");
		else
			ADD(st, "X");
		return 2;
	}

	/* Italian and Armenian "-sio-", "-sia-", "-sian" */
	if (AT(st, i, "SIO") || AT(st, i, "SIA"))
	{
		if (slavo_germanic(st))
			ADD(st, "S");
		else
			add(st, "S", "X");
		return 3;
	}

	/*
	 * German and anglicised: "Smith" matches "Schmidt", "Snider" matches
	 * "Schneider"; Slavic SZ.
	 */
	if ((i == 0 && is_one_of(st, 1, "MNLW")) || next == 'Z')
	{
		add(st, "S", "X");
		return next == 'Z' ? 2 : 1;
	}

	if (next == 'C')
	{
		/* Schlesinger's rule */
		if (st->w[i + 2] == 'H')
		{
			/* Dutch "school", "schooner", "Schermerhorn", "Schenker" */
			if (AT(st, i + 3, "OO") || AT(st, i + 3, "UY") ||
				AT(st, i + 3, "ED") || AT(st, i + 3, "EM"))
				ADD(st, "SK");
			else if (AT(st, i + 3, "ER") || AT(st, i + 3, "EN"))
				add(st, "X", "SK");
			else if (i == 0 && !is_vowel(st, 3) && st->w[3] != 'W')
				add(st, "X", "S");	/* "Schmidt", "Schneider" */
			else
				ADD(st, "X");
			return 3;
		}
		if (is_one_of(st, i + 2, "IEY"))
			ADD(st, "S");
		else
			ADD(st, "SK");
		return 3;
	}

	/* French "Resnais", "Artois": silent final S */
	if (i == st->last && (AT(st, i - 2, "AI") || AT(st, i - 2, "OI")))
		add(st, "", "S");
	else
		ADD(st, "S");
	return (next == 'S' || next == 'Z') ? 2 : 1;
}

/*
 * code_t
 *		Code the T at i.  Returns the number of characters consumed.
 */
static int
code_t(DmState *st, int i)
{
	char		next = st->w[i + 1];

	if (AT(st, i, "TION") || AT(st, i, "TIA") || AT(st, i, "TCH"))
	{
		ADD(st, "X");
		return 3;
	}

	if (next == 'H' || AT(st, i, "TTH"))
	{
		/* "Thomas", "Thames" and Germanic names: T */
		if (AT(st, i + 2, "OM") || AT(st, i + 2, "AM") || germanic_start(st))
			ADD(st, "T");
		else
			add(st, "0", "T");
		return 2;
	}

	ADD(st, "T");
	return (next == 'T' || next == 'D') ? 2 : 1;
}

/*
 * code_w
 *		Code the W at i.  Returns the number of characters consumed.
 */
static int
code_w(DmState *st, int i)
{
	/* WR sounds R, also inside a word */
	if (st->w[i + 1] == 'R')
	{
		ADD(st, "R");
		return 2;
	}

	/* initial W before a vowel or H: "Wasserman" matches "Vasserman" */
	if (i == 0 && (is_vowel(st, 1) || st->w[1] == 'H'))
	{
		if (is_vowel(st, 1))
			add(st, "A", "F");
		else
			ADD(st, "A");
	}

	/* "Arnow" matches "Arnoff"; Polish "-ewski"; Germanic names */
	if ((i == st->last && is_vowel(st, i - 1)) ||
		AT(st, i - 1, "EWSKI") || AT(st, i - 1, "EWSKY") ||
		AT(st, i - 1, "OWSKI") || AT(st, i - 1, "OWSKY") ||
		AT(st, 0, "SCH"))
	{
		add(st, "", "F");
		return 1;
	}

	/* Polish "Filipowicz" */
	if (AT(st, i, "WICZ") || AT(st, i, "WITZ"))
	{
		add(st, "TS", "FX");
		return 4;
	}

	return 1;
}

/*
 * code_word
 *		Run Double Metaphone over st->w, filling st->primary and
 *		st->alternate (NUL-terminated, at most DM_CODE_LEN characters).
 */
static void
code_word(DmState *st)
{
	const char *w = st->w;
	int			i = 0;
	int			since_check = 0;

	/* silent first letter of GN, KN, PN, WR, PS */
	if (AT(st, 0, "GN") || AT(st, 0, "KN") || AT(st, 0, "PN") ||
		AT(st, 0, "WR") || AT(st, 0, "PS"))
		i = 1;

	/* initial X sounds S: "Xavier" */
	if (w[0] == 'X')
	{
		ADD(st, "S");
		i = 1;
	}

	while (i < st->len &&
		   (st->plen < DM_CODE_LEN || st->alen < DM_CODE_LEN))
	{
		char		c = w[i];
		char		next = w[i + 1];

		if (++since_check >= DM_INTERRUPT_EVERY)
		{
			CHECK_FOR_INTERRUPTS();
			since_check = 0;
		}

		switch (c)
		{
			case 'A':
			case 'E':
			case 'I':
			case 'O':
			case 'U':
			case 'Y':
				/* only an initial vowel is coded, always as A */
				if (i == 0)
					ADD(st, "A");
				i++;
				break;

			case 'B':
				ADD(st, "P");
				i += (next == 'B') ? 2 : 1;
				break;

			case 'C':
				i += code_c(st, i);
				break;

			case 'D':
				if (next == 'G')
				{
					/* "edge" J; "Edgar" TK */
					if (is_one_of(st, i + 2, "IEY"))
					{
						ADD(st, "J");
						i += 3;
					}
					else
					{
						ADD(st, "TK");
						i += 2;
					}
				}
				else
				{
					ADD(st, "T");
					i += (next == 'T' || next == 'D') ? 2 : 1;
				}
				break;

			case 'F':
			case 'V':
				/* a doubled letter is one sound */
				ADD(st, "F");
				i += (next == c) ? 2 : 1;
				break;

			case 'K':
			case 'Q':
				ADD(st, "K");
				i += (next == c) ? 2 : 1;
				break;

			case 'N':
				ADD(st, "N");
				i += (next == 'N') ? 2 : 1;
				break;

			case 'G':
				i += code_g(st, i);
				break;

			case 'H':
				/* H is sounded only between a vowel (or the start) and a vowel */
				if ((i == 0 || is_vowel(st, i - 1)) && is_vowel(st, i + 1))
				{
					ADD(st, "H");
					i += 2;
				}
				else
					i++;
				break;

			case 'J':
				i += code_j(st, i);
				break;

			case 'L':
				if (next == 'L')
				{
					/* Spanish "Cabrillo", "Gallegos": the LL may be silent */
					if ((i == st->len - 3 &&
						 (AT(st, i - 1, "ILLO") || AT(st, i - 1, "ILLA") ||
						  AT(st, i - 1, "ALLE"))) ||
						((AT(st, st->last - 1, "AS") || AT(st, st->last - 1, "OS") ||
						  is_one_of(st, st->last, "AO")) &&
						 AT(st, i - 1, "ALLE")))
						add(st, "L", "");
					else
						ADD(st, "L");
					i += 2;
				}
				else
				{
					ADD(st, "L");
					i++;
				}
				break;

			case 'M':
				ADD(st, "M");
				/* "dumb", "thumb", "dumber": the B is silent */
				if ((AT(st, i - 1, "UMB") &&
					 (i + 1 == st->last || AT(st, i + 2, "ER"))) ||
					next == 'M')
					i += 2;
				else
					i++;
				break;

			case 'P':
				if (next == 'H')
				{
					ADD(st, "F");
					i += 2;
				}
				else
				{
					ADD(st, "P");
					i += (next == 'P' || next == 'B') ? 2 : 1;
				}
				break;

			case 'R':
				/* French final "-ier": silent, except after "me" or "ma" */
				if (i == st->last && !slavo_germanic(st) &&
					AT(st, i - 2, "IE") &&
					!AT(st, i - 4, "ME") && !AT(st, i - 4, "MA"))
					add(st, "", "R");
				else
					ADD(st, "R");
				i += (next == 'R') ? 2 : 1;
				break;

			case 'S':
				i += code_s(st, i);
				break;

			case 'T':
				i += code_t(st, i);
				break;

			case 'W':
				i += code_w(st, i);
				break;

			case 'X':
				/* French final "-eaux", "-iaux", "-aux", "-oux": silent */
				if (!(i == st->last &&
					  (AT(st, i - 3, "IAU") || AT(st, i - 3, "EAU") ||
					   AT(st, i - 2, "AU") || AT(st, i - 2, "OU"))))
					ADD(st, "KS");
				i += (next == 'C' || next == 'X') ? 2 : 1;
				break;

			case 'Z':
				if (next == 'H')
				{
					/* Chinese pinyin "Zhao" */
					ADD(st, "J");
					i += 2;
					break;
				}
				if (AT(st, i + 1, "ZO") || AT(st, i + 1, "ZI") ||
					AT(st, i + 1, "ZA") ||
					(slavo_germanic(st) && i > 0 && w[i - 1] != 'T'))
					add(st, "S", "TS");
				else
					ADD(st, "S");
				i += (next == 'Z') ? 2 : 1;
				break;

			default:
				/* not a letter: skipped */
				i++;
				break;
		}
	}

	st->primary[st->plen] = '\0';
	st->alternate[st->alen] = '\0';
}

/*
 * dm_upper
 *		The ASCII uppercase of c; any other byte unchanged.
 */
static inline char
dm_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? c - ('a' - 'A') : c;
}

/*
 * upper_into
 *		Copy the len bytes of ASCII text at s into buf, uppercased, followed
 *		by DM_PAD spaces and a NUL.  buf must hold len + DM_PAD + 1 bytes.
 */
static void
upper_into(char *buf, const char *s, int len)
{
	int			k;

	for (k = 0; k < len; k++)
	{
		if ((k & (DM_INTERRUPT_EVERY - 1)) == DM_INTERRUPT_EVERY - 1)
			CHECK_FOR_INTERRUPTS();
		buf[k] = dm_upper(s[k]);
	}
	memset(buf + len, ' ', DM_PAD);
	buf[len + DM_PAD] = '\0';
}

/*
 * collapse_into
 *		Copy the len bytes of server-encoded text at s into buf: ASCII
 *		uppercased, every other character replaced by one DM_OTHER byte,
 *		followed by DM_PAD spaces and a NUL.  buf must hold len + DM_PAD + 1
 *		bytes.  Returns the number of characters written before the padding.
 */
static int
collapse_into(char *buf, const char *s, int len)
{
	const char *p = s;
	const char *end = s + len;
	int			n = 0;

	while (p < end)
	{
		if ((n & (DM_INTERRUPT_EVERY - 1)) == DM_INTERRUPT_EVERY - 1)
			CHECK_FOR_INTERRUPTS();
		if (IS_HIGHBIT_SET(*p))
		{
			int			l = pg_mblen(p);

			buf[n++] = DM_OTHER;
			p += (l > 0 ? l : 1);
		}
		else
			buf[n++] = dm_upper(*p++);
	}
	memset(buf + n, ' ', DM_PAD);
	buf[n + DM_PAD] = '\0';
	return n;
}

/*
 * cdp_double_metaphone
 *		SQL function cdp.double_metaphone(t text) returns text[].
 *
 *		Returns ARRAY[primary, alternate], the Double Metaphone codes of t
 *		(at most four characters each; the alternate equals the primary
 *		when the name has no second pronunciation).  Accented letters are
 *		folded to ASCII first; a text with no letters gives '{"",""}'.
 */
Datum
cdp_double_metaphone(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);
	char		stackbuf[DM_STACK_BUF + DM_PAD + 1];
	char	   *buf;
	DmState		st;
	Datum		codes[2];

	if (cdp_is_ascii(s, len))
	{
		buf = (len <= DM_STACK_BUF) ? stackbuf : palloc((Size) len + DM_PAD + 1);
		upper_into(buf, s, len);
	}
	else
	{
		int			flen;
		char	   *folded = cdp_fold_ascii(s, len, &flen);

		/* collapsing never lengthens the folded text */
		buf = (flen <= DM_STACK_BUF) ? stackbuf : palloc((Size) flen + DM_PAD + 1);
		len = collapse_into(buf, folded, flen);
		pfree(folded);
	}

	st.w = buf;
	st.len = len;
	st.last = len - 1;
	st.slavo = -1;
	st.plen = 0;
	st.alen = 0;
	code_word(&st);

	if (buf != stackbuf)
		pfree(buf);

	codes[0] = PointerGetDatum(cstring_to_text_with_len(st.primary, st.plen));
	codes[1] = PointerGetDatum(cstring_to_text_with_len(st.alternate, st.alen));
	PG_RETURN_ARRAYTYPE_P(construct_array(codes, 2, TEXTOID, -1, false,
										  TYPALIGN_INT));
}
