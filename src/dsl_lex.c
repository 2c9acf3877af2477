/*-------------------------------------------------------------------------
 *
 * dsl_lex.c
 *	  Lexer of the expression language of measures and segments, and the
 *	  error reporting every stage of the language shares.
 *
 * Tokens: numbers (digits, an optional fraction, an optional exponent),
 * 'strings' ('' is a quote), words (keywords case-insensitively, other
 * words are identifiers folded to lowercase as in SQL), "quoted
 * identifiers" (exact, "" is a quote), and the operators = <> != < <= > >=
 * + - * / % ( ) , .  "--" starts a comment that runs to the end of the
 * line.  Outside strings, quoted identifiers and comments only ASCII is
 * allowed.  The lexer keeps the character position of every token, counting
 * multibyte characters, so errors point where the user sees the problem.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "miscadmin.h"

#include "dsl.h"

/* the reserved words; anything else is an identifier */
static const char *const keywords[] = {
	"and", "between", "distinct", "false", "ilike", "in", "is", "like",
	"not", "null", "or", "true", "where", "within", NULL
};

#define EXCERPT_BEFORE 30		/* characters shown before the error */
#define EXCERPT_AFTER 40		/* and after it */

/*
 * dsl_lexer_init
 *		Start lexing src (len bytes, NUL-terminated); "what" names the
 *		definition in error messages ("expression", "measure definition").
 */
void
dsl_lexer_init(DslLexer *lex, const char *src, int len, const char *what)
{
	lex->src = src;
	lex->len = len;
	lex->what = what;
	lex->bpos = 0;
	lex->pos = 1;
}

/*
 * dsl_clip
 *		At most maxbytes bytes of the string s, cut at a character boundary
 *		(so that a message quoting part of a definition stays valid text),
 *		palloc'd.
 */
char *
dsl_clip(const char *s, int maxbytes)
{
	return dsl_clip_len(s, strlen(s), maxbytes);
}

/*
 * dsl_clip_len
 *		The same for the len bytes at s (not NUL-terminated); the template
 *		parser quotes its tokens with it too.
 */
char *
dsl_clip_len(const char *s, int len, int maxbytes)
{
	int			b = 0;

	while (b < len)
	{
		int			l = pg_mblen(s + b);

		if (b + l > maxbytes)
			break;
		b += Min(l, len - b);
	}
	return pnstrdup(s, b);
}

/*
 * dsl_error
 *		Raise an error about the definition being lexed: errmsg is
 *		"<message> at position <pos> in <what>", errdetail the sentence
 *		"detail" (may be NULL) followed by an excerpt of the definition and
 *		a caret line under byte offset bpos, errhint "hint" (may be NULL).
 *		sqlstate is made with MAKE_SQLSTATE.  Does not return.
 */
void
dsl_error(const DslLexer *lex, int sqlstate, int pos, int bpos,
		  const char *message, const char *detail, const char *hint)
{
	StringInfoData line;
	StringInfoData caret;
	StringInfoData det;
	int			start_char = Max(pos - 1 - EXCERPT_BEFORE, 0);
	int			i = 0;
	int			c = 0;
	int			width = 0;
	int			shown = 0;

	initStringInfo(&line);
	initStringInfo(&caret);
	initStringInfo(&det);
	bpos = Min(Max(bpos, 0), lex->len);

	/* skip to the first character of the excerpt */
	while (i < lex->len && c < start_char)
	{
		i += pg_mblen(lex->src + i);
		c++;
	}
	if (i > 0)
	{
		appendStringInfoString(&line, "...");
		width = 3;
	}
	/* copy up to the error position, measuring the display width */
	while (i < lex->len && i < bpos)
	{
		int			l = pg_mblen(lex->src + i);
		int			w;

		if ((unsigned char) lex->src[i] < 0x20 || lex->src[i] == 0x7f)
		{
			appendStringInfoChar(&line, ' ');
			w = 1;
		}
		else
		{
			appendBinaryStringInfo(&line, lex->src + i, Min(l, lex->len - i));
			w = pg_dsplen(lex->src + i);
			if (w < 0)
				w = 1;
		}
		width += w;
		i += l;
	}
	/* and a little after it */
	while (i < lex->len && shown < EXCERPT_AFTER)
	{
		int			l = pg_mblen(lex->src + i);

		if ((unsigned char) lex->src[i] < 0x20 || lex->src[i] == 0x7f)
			appendStringInfoChar(&line, ' ');
		else
			appendBinaryStringInfo(&line, lex->src + i, Min(l, lex->len - i));
		i += l;
		shown++;
	}
	if (i < lex->len)
		appendStringInfoString(&line, "...");
	appendStringInfoSpaces(&caret, width);
	appendStringInfoChar(&caret, '^');

	if (detail)
		appendStringInfo(&det, "%s\n", detail);
	appendStringInfo(&det, "%s\n%s", line.data, caret.data);

	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("%s at position %d in %s", message, pos, lex->what),
			 errdetail_internal("%s", det.data),
			 hint ? errhint("%s", hint) : 0));
	pg_unreachable();
}

/*
 * syntax_error
 *		Shorthand for a 42601 error at (pos, bpos) with a detail sentence
 *		and a hint.
 */
static void
syntax_error(const DslLexer *lex, int pos, int bpos, const char *detail,
			 const char *hint)
{
	dsl_error(lex, ERRCODE_SYNTAX_ERROR, pos, bpos, "syntax error", detail, hint);
}

/*
 * is_word_char
 *		Whether c may continue an unquoted word.
 */
static inline bool
is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_';
}

/*
 * advance
 *		Move the lexer n single-byte (ASCII) characters forward.
 */
static inline void
advance(DslLexer *lex, int n)
{
	lex->bpos += n;
	lex->pos += n;
}

/*
 * lex_quoted
 *		Read a quoted string or identifier starting at the quote character
 *		q; a doubled quote stands for itself.  Fills tok->text with the
 *		content.  An unterminated quote is a syntax error at its opening.
 */
static void
lex_quoted(DslLexer *lex, DslToken *tok, char q)
{
	StringInfoData buf;
	const char *s = lex->src;

	initStringInfo(&buf);
	advance(lex, 1);
	for (;;)
	{
		int			l;

		if (lex->bpos >= lex->len)
			syntax_error(lex, tok->pos, tok->bpos,
						 q == '\'' ? "The string is not closed." :
						 "The quoted identifier is not closed.",
						 q == '\'' ? "Close a string with a quote; write a quote inside it as two: 'it''s'." :
						 "Close a quoted identifier with a double quote; write one inside it as two.");
		if (s[lex->bpos] == q)
		{
			if (lex->bpos + 1 < lex->len && s[lex->bpos + 1] == q)
			{
				appendStringInfoChar(&buf, q);
				advance(lex, 2);
				continue;
			}
			advance(lex, 1);
			break;
		}
		l = pg_mblen(s + lex->bpos);
		l = Min(l, lex->len - lex->bpos);
		appendBinaryStringInfo(&buf, s + lex->bpos, l);
		lex->bpos += l;
		lex->pos++;
		/* long strings: stay cancellable */
		if ((lex->pos & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	tok->text = buf.data;
	if (q == '"')
	{
		tok->kind = DT_IDENT;
		tok->quoted = true;
		if (buf.len == 0)
			syntax_error(lex, tok->pos, tok->bpos, "A quoted identifier is empty.",
						 "Write a name between the double quotes, e.g. \"Amount\".");
	}
	else
		tok->kind = DT_STRING;
}

/*
 * lex_number
 *		Read a number: digits, optionally a fraction and an exponent.
 */
static void
lex_number(DslLexer *lex, DslToken *tok)
{
	const char *s = lex->src;
	int			start = lex->bpos;
	int			b = lex->bpos;

	while (b < lex->len && s[b] >= '0' && s[b] <= '9')
		b++;
	if (b < lex->len && s[b] == '.' && b + 1 < lex->len && s[b + 1] >= '0' && s[b + 1] <= '9')
	{
		b++;
		while (b < lex->len && s[b] >= '0' && s[b] <= '9')
			b++;
	}
	if (b < lex->len && (s[b] == 'e' || s[b] == 'E'))
	{
		int			e = b + 1;
		int			ndigits = 0;
		int			value = 0;

		if (e < lex->len && (s[e] == '+' || s[e] == '-'))
			e++;
		while (e < lex->len && s[e] >= '0' && s[e] <= '9')
		{
			if (value < 100000)
				value = value * 10 + (s[e] - '0');
			e++;
			ndigits++;
		}
		if (ndigits == 0)
			syntax_error(lex, tok->pos, tok->bpos, "The exponent of a number has no digits.",
						 "Write numbers as 42, 3.5 or 1.5e3.");
		if (value > 1000)
			syntax_error(lex, tok->pos, tok->bpos, "The exponent of a number is out of range.",
						 "Write exponents between -1000 and 1000.");
		b = e;
	}
	if (b < lex->len && is_word_char(s[b]))
	{
		lex->pos += b - start;
		lex->bpos = b;
		syntax_error(lex, lex->pos, lex->bpos, "A number runs into a word.",
					 "Separate a number from the next word with a space, e.g. \"within 30 days\".");
	}
	tok->kind = DT_NUMBER;
	tok->text = pnstrdup(s + start, b - start);
	advance(lex, b - start);
}

/*
 * dsl_next_token
 *		Read the next token into *tok (DT_EOF at the end).  Raises a syntax
 *		error for characters the language does not use.
 */
void
dsl_next_token(DslLexer *lex, DslToken *tok)
{
	const char *s = lex->src;
	char		c;

	/* white space and -- comments (to the end of the line) */
	for (;;)
	{
		while (lex->bpos < lex->len &&
			   (s[lex->bpos] == ' ' || s[lex->bpos] == '\t' || s[lex->bpos] == '\n' ||
				s[lex->bpos] == '\r' || s[lex->bpos] == '\f' || s[lex->bpos] == '\v'))
			advance(lex, 1);
		if (lex->bpos + 1 < lex->len && s[lex->bpos] == '-' && s[lex->bpos + 1] == '-')
		{
			while (lex->bpos < lex->len && s[lex->bpos] != '\n')
			{
				int			l = pg_mblen(s + lex->bpos);

				l = Min(l, lex->len - lex->bpos);
				lex->bpos += l;
				lex->pos++;
			}
			continue;
		}
		break;
	}

	tok->pos = lex->pos;
	tok->bpos = lex->bpos;
	tok->quoted = false;
	tok->text = NULL;
	if (lex->bpos >= lex->len)
	{
		tok->kind = DT_EOF;
		tok->text = "end of input";
		return;
	}
	c = s[lex->bpos];

	if (c == '\'' || c == '"')
	{
		lex_quoted(lex, tok, c);
		return;
	}
	if (c >= '0' && c <= '9')
	{
		lex_number(lex, tok);
		return;
	}
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
	{
		int			b = lex->bpos;
		char	   *w;
		int			i;

		while (b < lex->len && is_word_char(s[b]))
			b++;
		w = pnstrdup(s + lex->bpos, b - lex->bpos);
		for (i = 0; w[i]; i++)
			if (w[i] >= 'A' && w[i] <= 'Z')
				w[i] += 'a' - 'A';
		advance(lex, b - lex->bpos);
		tok->text = w;
		tok->kind = DT_IDENT;
		for (i = 0; keywords[i]; i++)
			if (strcmp(w, keywords[i]) == 0)
			{
				tok->kind = DT_KEYWORD;
				break;
			}
		return;
	}

	/* operators and punctuation */
	tok->kind = DT_OP;
	if (lex->bpos + 1 < lex->len)
	{
		char		d = s[lex->bpos + 1];

		if ((c == '<' && (d == '=' || d == '>')) || (c == '>' && d == '=') ||
			(c == '!' && d == '='))
		{
			tok->text = pnstrdup(s + lex->bpos, 2);
			advance(lex, 2);
			return;
		}
	}
	if (c != '\0' && strchr("=<>+-*/%(),.", c) != NULL)
	{
		tok->text = pnstrdup(s + lex->bpos, 1);
		advance(lex, 1);
		return;
	}
	syntax_error(lex, tok->pos, tok->bpos, "This character is not part of the language.",
				 "Quote text as 'text' and names as \"name\"; operators are = <> != < <= > >= + - * / %.");
}
