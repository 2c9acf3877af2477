/*-------------------------------------------------------------------------
 *
 * email.c
 *	  normalize_email: the lowercase form of an e-mail address, NULL when
 *	  the text is not one, with the sub-addressing rules of the big mailbox
 *	  providers applied on request.
 *
 * The shape of the address is validated on the decoded text (character
 * classes from normalize.c); invisible characters and white space around
 * it are trimmed.
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

PG_FUNCTION_INFO_V1(cdp_normalize_email);


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

	cdp_norm_input_init(&in, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), false, false, false);
	r = normalize_email_utf8(in.s, in.len, rules, &rlen);
	if (r == NULL)
		PG_RETURN_NULL();
	r = cdp_finish_output(r, rlen, in.converted, true, &rlen);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(r, rlen));
}
