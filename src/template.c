/*-------------------------------------------------------------------------
 *
 * template.c
 *	  The e-mail template language of journeys: a small Liquid-like
 *	  language that renders personalised text from a jsonb context
 *	  (cdp.render_text), and what the journey code asks of a template when
 *	  it is created (cdp.template_check, cdp.template_paths,
 *	  cdp.template_coupons), plus per-recipient coupon codes
 *	  (cdp.coupon_code).
 *
 * A template is plain text with tags:
 *	 {{ operand | filter: arg | ... }}	 output (HTML-escaped in the HTML part)
 *	 {% if cond %} {% elsif cond %} {% else %} {% endif %}
 *	 {% for x in path limit: N %} ... {% else %} ... {% endfor %}
 *	 {# comment #}
 * "{{-", "{%-" remove the white space before a tag, "-}}", "-%}" the white
 * space after it.  Operands are context paths (first_name,
 * measure.top_categories.0, a loop variable, forloop.index), literals
 * ("text", 'text', 12, 3.5, true, false, null) and coupon "PREFIX".
 *
 * The parser (the first half of this file) turns a template into a tree
 * once; it needs only palloc, ereport and the multibyte helpers, so
 * fuzz/template_fuzz.c compiles it outside the server with
 * -DCDP_TEMPLATE_PARSER_ONLY.  The renderer and the SQL functions (the
 * second half) walk the tree over a jsonb context.  A parsed template is
 * cached in fn_extra, keyed by the template text, so that a batch that
 * renders one template for many recipients parses it once.
 *
 * Limits: a template of at most 1 MB, output of at most 10 MB and
 * 1,000,000 loop iterations per rendering (SQLSTATE 54000), blocks and
 * conditions nested at most 32 deep (54001); a loop runs at most 100 times
 * without "limit:", and a limit may not exceed 1000.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"

#ifndef CDP_TEMPLATE_PARSER_ONLY
#include "catalog/pg_collation_d.h"
#include "catalog/pg_type_d.h"
#include "common/hmac.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/formatting.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "pg_cdp.h"
#endif

#include "dsl.h"				/* dsl_clip_len, shared with the expression parser */

#define TPL_MAX_SOURCE		(1024 * 1024)	/* bytes of template */
#define TPL_MAX_OUTPUT		(10 * 1024 * 1024)	/* bytes of output */
#define TPL_MAX_DEPTH		32	/* nested blocks / conditions */
#define TPL_DEFAULT_LIMIT	100 /* loop iterations without limit: */
#define TPL_MAX_LIMIT		1000	/* largest limit: */
#define TPL_MAX_STEPS		1000000 /* loop iterations per rendering */
#define TPL_MAX_LITERAL		200 /* characters of a number literal */
#define TPL_MAX_PREFIX		32	/* characters of a coupon prefix */
#define TPL_COUPON_CHARS	8

#define EXCERPT_BEFORE		30	/* characters quoted before an error */
#define EXCERPT_TOTAL		60	/* characters quoted in all */

/* ---- the tree ---- */

typedef enum TExprKind
{
	TE_PATH,					/* a path into the context or a loop item */
	TE_STRING,
	TE_NUMBER,
	TE_TRUE,
	TE_FALSE,
	TE_NULL,
	TE_COUPON					/* coupon "PREFIX" */
} TExprKind;

/* where a path starts */
#define REF_CONTEXT		(-1)	/* the context object */
/* ref >= 0: the variable of loop number ref (0 = outermost) */
#define REF_FORLOOP_BASE 1000	/* ref >= this: forloop of loop ref - base */

typedef enum ForloopField
{
	FL_NONE,
	FL_INDEX,
	FL_INDEX0,
	FL_RINDEX,
	FL_FIRST,
	FL_LAST,
	FL_LENGTH
} ForloopField;

typedef struct TSegment
{
	const char *name;			/* in the template text, not NUL-terminated */
	int			len;
	int			index;			/* all digits: its value (capped); else -1 */
} TSegment;

typedef struct TExpr
{
	TExprKind	kind;
	int			bpos;			/* byte offset in the template */
	/* TE_PATH */
	char	   *path;			/* the path as written, NUL-terminated */
	int			ref;			/* REF_CONTEXT, a loop, or a forloop */
	ForloopField field;			/* for a forloop reference */
	int			nsegs;			/* segments after the loop variable or root */
	TSegment   *segs;
	/* TE_STRING, TE_NUMBER (its text), TE_COUPON (the prefix) */
	char	   *str;
	int			len;
	void	   *cached;			/* TE_NUMBER: its Numeric, made on first use */
} TExpr;

typedef enum TFilterKind
{
	TF_DEFAULT,
	TF_UPCASE,
	TF_DOWNCASE,
	TF_CAPITALIZE,
	TF_ROUND,
	TF_TRUNCATE,
	TF_DATE
} TFilterKind;

typedef struct TFilter
{
	TFilterKind kind;
	TExpr	   *arg;			/* default: the literal; date: the pattern */
	int			n;				/* round, truncate */
	struct TFilter *next;
} TFilter;

typedef enum TCondKind
{
	TC_TRUTHY,
	TC_NOT,
	TC_AND,
	TC_OR,
	TC_CMP
} TCondKind;

typedef enum TCmpOp
{
	OP_EQ,
	OP_NE,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE
} TCmpOp;

typedef struct TCond
{
	TCondKind	kind;
	struct TCond *l;			/* TC_NOT, TC_AND, TC_OR */
	struct TCond *r;
	TExpr	   *a;				/* TC_TRUTHY, TC_CMP */
	TExpr	   *b;				/* TC_CMP */
	TCmpOp		op;
} TCond;

typedef enum TNodeKind
{
	TN_TEXT,
	TN_OUTPUT,
	TN_IF,
	TN_FOR
} TNodeKind;

typedef struct TBranch
{
	TCond	   *cond;
	struct TNode *body;
	struct TBranch *next;
} TBranch;

typedef struct TNode
{
	TNodeKind	kind;
	struct TNode *next;
	/* TN_TEXT */
	const char *text;
	int			len;
	/* TN_OUTPUT */
	TExpr	   *expr;
	TFilter    *filters;
	/* TN_IF */
	TBranch    *branches;
	/* TN_IF, TN_FOR: the else part */
	struct TNode *else_body;
	/* TN_FOR */
	TExpr	   *list;
	int			limit;
	int			loop;			/* its loop number (nesting level) */
	struct TNode *body;
} TNode;

/* a parsed template */
typedef struct Template
{
	const char *src;			/* the text the tree points into */
	int			len;
	TNode	   *body;
	List	   *paths;			/* TExpr * of context paths, in order */
	List	   *coupons;		/* TExpr * of coupons, in order */
} Template;

/* exported for fuzz/template_fuzz.c */
extern Template *cdp_template_parse(const char *src, int len);
extern List *cdp_template_names(Template *tpl, bool coupons);

/* ---- the parser ---- */

typedef enum TTokKind
{
	TT_CLOSE,					/* }} or %} (or -}}, -%}) */
	TT_WORD,					/* an identifier or a dotted path */
	TT_STRING,
	TT_NUMBER,
	TT_OP,						/* == != < <= > >= */
	TT_LPAREN,
	TT_RPAREN,
	TT_PIPE,
	TT_COLON,
	TT_COMMA
} TTokKind;

typedef struct TToken
{
	TTokKind	kind;
	int			bpos;			/* byte offset */
	const char *text;			/* TT_WORD, TT_NUMBER: in the template */
	int			len;
	char	   *str;			/* TT_STRING: the decoded value */
	TCmpOp		op;
	bool		trim;			/* TT_CLOSE: -}} or -%} */
} TToken;

typedef struct TParser
{
	const char *src;
	int			len;
	int			pos;			/* next byte to read */
	bool		trim_next;		/* strip white space at the start of text */
	int			tag_start;		/* byte offset of the current tag's "{" */
	char		tag_close;		/* '}' in {{ }}, '%' in {% %} */
	TToken		tok;			/* the current token of a tag */
	int			nloops;			/* loops open around the current point */
	const char *loopvar[TPL_MAX_DEPTH + 1];
	int			loopvarlen[TPL_MAX_DEPTH + 1];
	int			depth;			/* blocks open */
	List	   *paths;
	List	   *coupons;
} TParser;

/* the block tags a body stops at */
typedef enum TEndTag
{
	END_EOF,
	END_ELSIF,
	END_ELSE,
	END_ENDIF,
	END_ENDFOR
} TEndTag;

static const char *const known_filters =
"Known filters: default: \"text\", upcase, downcase, capitalize, round: N, truncate: N, date: \"YYYY-MM-DD\".";
static const char *const known_tags =
"Tags are {% if cond %} ... {% elsif cond %} ... {% else %} ... {% endif %} and {% for x in path limit: N %} ... {% endfor %}; comments are {# ... #}.";
static const char *const output_hint =
"Write {{ path }}, {{ path | filter: arg }}, {{ \"text\" }} or {{ coupon \"PREFIX\" }}.";
static const char *const cond_hint =
"A condition is a path or literal, a comparison (==, !=, <, <=, >, >=) of two of them, or conditions combined with and, or, not and parentheses.";

/*
 * tpl_error
 *		Raise an error about the template: errmsg "<kind> in template at
 *		line L, column C: <message>", errdetail the sentence "detail" (may be
 *		NULL) then the line of the template around byte offset bpos (at most
 *		about 60 characters, cut at character boundaries) with a caret under
 *		that offset, errhint "hint" (may be NULL).  sqlstate is made with
 *		MAKE_SQLSTATE.  Does not return.
 */
static void
tpl_error(const TParser *p, int sqlstate, int bpos, const char *message,
		  const char *detail, const char *hint)
{
	StringInfoData line;
	StringInfoData caret;
	StringInfoData det;
	int			lineno = 1;
	int			line_start = 0;
	int			col = 1;
	int			i;
	int			width = 0;
	int			shown = 0;

	bpos = Min(Max(bpos, 0), p->len);
	/* the line and its first byte */
	for (i = 0; i < bpos; i++)
		if (p->src[i] == '\n')
		{
			lineno++;
			line_start = i + 1;
		}
	/* the column in characters */
	for (i = line_start; i < bpos;)
	{
		i += Min(pg_mblen(p->src + i), p->len - i);
		col++;
	}

	initStringInfo(&line);
	initStringInfo(&caret);
	initStringInfo(&det);

	/* skip to the first character shown */
	i = line_start;
	{
		int			skip = col - 1 - EXCERPT_BEFORE;

		while (skip-- > 0)
			i += Min(pg_mblen(p->src + i), p->len - i);
		if (i > line_start)
		{
			appendStringInfoString(&line, "...");
			width = 3;
		}
	}
	/* up to the error, measuring the display width for the caret */
	while (i < bpos)
	{
		int			l = Min(pg_mblen(p->src + i), p->len - i);
		int			w;

		if ((unsigned char) p->src[i] < 0x20 || p->src[i] == 0x7f)
		{
			appendStringInfoChar(&line, ' ');
			w = 1;
		}
		else
		{
			appendBinaryStringInfo(&line, p->src + i, l);
			w = pg_dsplen(p->src + i);
			if (w < 0)
				w = 1;
		}
		width += w;
		i += l;
		shown++;
	}
	/* and the rest of the line, up to the total */
	while (i < p->len && p->src[i] != '\n' && shown < EXCERPT_TOTAL)
	{
		int			l = Min(pg_mblen(p->src + i), p->len - i);

		if ((unsigned char) p->src[i] < 0x20 || p->src[i] == 0x7f)
			appendStringInfoChar(&line, ' ');
		else
			appendBinaryStringInfo(&line, p->src + i, l);
		i += l;
		shown++;
	}
	if (i < p->len && p->src[i] != '\n')
		appendStringInfoString(&line, "...");
	appendStringInfoSpaces(&caret, width);
	appendStringInfoChar(&caret, '^');

	if (detail)
		appendStringInfo(&det, "%s\n", detail);
	appendStringInfo(&det, "%s\n%s", line.data, caret.data);

	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("%s in template at line %d, column %d: %s",
					sqlstate == ERRCODE_SYNTAX_ERROR ? "syntax error" : "limit exceeded",
					lineno, col, message),
			 errdetail_internal("%s", det.data),
			 hint ? errhint("%s", hint) : 0));
	pg_unreachable();
}

/*
 * syntax_error
 *		Shorthand for a 42601 error at byte offset bpos.
 */
static void
syntax_error(const TParser *p, int bpos, const char *message,
			 const char *detail, const char *hint)
{
	tpl_error(p, ERRCODE_SYNTAX_ERROR, bpos, message, detail, hint);
}

/*
 * token_desc
 *		The current token described for an error message ("\"foo\"",
 *		"number 12", "end of tag"), palloc'd.
 */
static char *
token_desc(const TToken *t)
{
	switch (t->kind)
	{
		case TT_CLOSE:
			return pstrdup("end of tag");
		case TT_WORD:
			return psprintf("\"%s\"", dsl_clip_len(t->text, t->len, 40));
		case TT_STRING:
			return psprintf("string \"%s\"", dsl_clip(t->str, 40));
		case TT_NUMBER:
			return psprintf("number %s", dsl_clip_len(t->text, t->len, 40));
		case TT_OP:
			return psprintf("\"%.*s\"", t->len, t->text);
		case TT_LPAREN:
			return pstrdup("\"(\"");
		case TT_RPAREN:
			return pstrdup("\")\"");
		case TT_PIPE:
			return pstrdup("\"|\"");
		case TT_COLON:
			return pstrdup("\":\"");
		case TT_COMMA:
			return pstrdup("\",\"");
	}
	return pstrdup("?");
}

/*
 * is_space
 *		White space between tokens and for trimming.
 */
static inline bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * is_word_start, is_word_char
 *		Identifiers: [A-Za-z_][A-Za-z0-9_]*; path segments after a dot may
 *		start with a digit.
 */
static inline bool
is_word_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static inline bool
is_word_char(char c)
{
	return is_word_start(c) || (c >= '0' && c <= '9');
}

/*
 * word_is
 *		Whether the current token is the word w exactly.
 */
static bool
word_is(const TToken *t, const char *w)
{
	int			l = strlen(w);

	return t->kind == TT_WORD && t->len == l && memcmp(t->text, w, l) == 0;
}

/*
 * next_token
 *		Read the next token of the current tag into p->tok.  The end of the
 *		template before the tag's closing delimiter is an error at the tag.
 */
static void
next_token(TParser *p)
{
	const char *s = p->src;
	TToken	   *t = &p->tok;
	char		c;

	while (p->pos < p->len && is_space(s[p->pos]))
		p->pos++;
	memset(t, 0, sizeof(*t));
	t->bpos = p->pos;
	if (p->pos >= p->len)
		syntax_error(p, p->tag_start,
					 p->tag_close == '}' ? "unclosed \"{{\"" : "unclosed \"{%\"",
					 "The template ends before the tag is closed.",
					 p->tag_close == '}' ? "Close the tag with }}." : "Close the tag with %}.");
	c = s[p->pos];

	/* the closing delimiter, possibly with a trim mark */
	if (c == '-' && p->pos + 2 < p->len + 0 && s[p->pos + 1] == p->tag_close && s[p->pos + 2] == '}')
	{
		t->kind = TT_CLOSE;
		t->trim = true;
		p->pos += 3;
		return;
	}
	if (c == p->tag_close && p->pos + 1 < p->len && s[p->pos + 1] == '}')
	{
		t->kind = TT_CLOSE;
		p->pos += 2;
		return;
	}

	if (is_word_start(c))
	{
		/* a word, or a dotted path: name(.segment)* */
		int			start = p->pos;

		while (p->pos < p->len && is_word_char(s[p->pos]))
			p->pos++;
		while (p->pos + 1 < p->len && s[p->pos] == '.' && is_word_char(s[p->pos + 1]))
		{
			p->pos++;
			while (p->pos < p->len && is_word_char(s[p->pos]))
				p->pos++;
		}
		if (p->pos < p->len && s[p->pos] == '.')
			syntax_error(p, p->pos, "a path cannot end with \".\"",
						 "After a dot comes a key (letters, digits, _) or an array index.",
						 "Write a path as name.key.0, e.g. measure.top_categories.0.");
		t->kind = TT_WORD;
		t->text = s + start;
		t->len = p->pos - start;
		return;
	}

	if ((c >= '0' && c <= '9') ||
		(c == '-' && p->pos + 1 < p->len && s[p->pos + 1] >= '0' && s[p->pos + 1] <= '9'))
	{
		int			start = p->pos;

		p->pos++;
		while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9')
			p->pos++;
		if (p->pos + 1 < p->len && s[p->pos] == '.' && s[p->pos + 1] >= '0' && s[p->pos + 1] <= '9')
		{
			p->pos++;
			while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9')
				p->pos++;
		}
		if (p->pos < p->len && (is_word_char(s[p->pos]) || s[p->pos] == '.'))
			syntax_error(p, p->pos, "malformed number",
						 "A number is digits with an optional sign and fraction, like -12 or 3.5.",
						 "Separate a number from what follows with a space.");
		if (p->pos - start > TPL_MAX_LITERAL)
			syntax_error(p, start, "number too long",
						 psprintf("A number in a template has at most %d characters.", TPL_MAX_LITERAL),
						 "Use a shorter number.");
		t->kind = TT_NUMBER;
		t->text = s + start;
		t->len = p->pos - start;
		return;
	}

	if (c == '"' || c == '\'')
	{
		StringInfoData buf;
		char		q = c;
		int			start = p->pos;

		initStringInfo(&buf);
		p->pos++;
		for (;;)
		{
			int			run = p->pos;

			/* copy a run of ordinary bytes at once */
			while (p->pos < p->len && s[p->pos] != q && s[p->pos] != '\\')
				p->pos++;
			appendBinaryStringInfo(&buf, s + run, p->pos - run);
			if (p->pos >= p->len)
				syntax_error(p, start, "unterminated string",
							 "The template ends inside a quoted string.",
							 "Close the string with the quote that opened it; write \\\" for a quote inside it.");
			if (s[p->pos] == q)
			{
				p->pos++;
				break;
			}
			/* a backslash: \\ \" \' */
			if (p->pos + 1 < p->len &&
				(s[p->pos + 1] == '\\' || s[p->pos + 1] == '"' || s[p->pos + 1] == '\''))
			{
				appendStringInfoChar(&buf, s[p->pos + 1]);
				p->pos += 2;
			}
			else
				syntax_error(p, p->pos, "invalid escape in string",
							 "Only \\\\, \\\" and \\' are escapes in a string.",
							 "Write \\\\ for a backslash.");
		}
		t->kind = TT_STRING;
		t->str = buf.data;
		t->len = buf.len;
		t->text = s + start;
		return;
	}

	t->text = s + p->pos;
	t->len = 1;
	switch (c)
	{
		case '(':
			t->kind = TT_LPAREN;
			break;
		case ')':
			t->kind = TT_RPAREN;
			break;
		case '|':
			t->kind = TT_PIPE;
			break;
		case ':':
			t->kind = TT_COLON;
			break;
		case ',':
			t->kind = TT_COMMA;
			break;
		case '=':
		case '!':
		case '<':
		case '>':
			{
				bool		eq = p->pos + 1 < p->len && s[p->pos + 1] == '=';

				t->kind = TT_OP;
				if (c == '=' || c == '!')
				{
					if (!eq)
						syntax_error(p, p->pos, c == '=' ? "\"=\" is not an operator" : "\"!\" is not an operator",
									 "Equality is written ==, inequality !=.",
									 "Compare with ==, !=, <, <=, > or >=; negate with not.");
					t->op = c == '=' ? OP_EQ : OP_NE;
				}
				else if (c == '<')
					t->op = eq ? OP_LE : OP_LT;
				else
					t->op = eq ? OP_GE : OP_GT;
				t->len = eq ? 2 : 1;
				break;
			}
		default:
			{
				int			l = Min(pg_mblen(s + p->pos), p->len - p->pos);

				syntax_error(p, p->pos,
							 psprintf("unexpected character \"%s\"", pnstrdup(s + p->pos, l)),
							 "Inside a tag only names, \"strings\", numbers, operators, |, : and parentheses are allowed.",
							 p->tag_close == '}' ? output_hint : known_tags);
			}
	}
	p->pos += t->len;
}

/*
 * expect_close
 *		The current token must end the tag; "what" names the tag in the
 *		error.  Remembers a trim mark for the text that follows.
 */
static void
expect_close(TParser *p, const char *what, const char *hint)
{
	if (p->tok.kind != TT_CLOSE)
		syntax_error(p, p->tok.bpos,
					 psprintf("unexpected %s in %s", token_desc(&p->tok), what),
					 p->tag_close == '}' ? "The tag should end here with }}." : "The tag should end here with %}.",
					 hint);
	p->trim_next = p->tok.trim;
}

/*
 * make_path
 *		A TE_PATH expression for the word token t: resolves a first segment
 *		that names an open loop's variable (innermost first) or "forloop"
 *		inside a loop, and records context paths for template_paths.
 */
static TExpr *
make_path(TParser *p, const TToken *t)
{
	TExpr	   *e = palloc0(sizeof(TExpr));
	int			n = 1;
	int			i;
	int			start;
	int			first_len;
	int			skip;

	e->kind = TE_PATH;
	e->bpos = t->bpos;
	e->path = pnstrdup(t->text, t->len);
	e->ref = REF_CONTEXT;
	for (i = 0; i < t->len; i++)
		if (t->text[i] == '.')
			n++;
	for (first_len = 0; first_len < t->len && t->text[first_len] != '.'; first_len++)
		;

	/* a loop variable, innermost first */
	for (i = p->nloops - 1; i >= 0; i--)
		if (p->loopvarlen[i] == first_len && memcmp(p->loopvar[i], t->text, first_len) == 0)
		{
			e->ref = i;
			break;
		}
	skip = e->ref == REF_CONTEXT ? 0 : 1;
	if (e->ref == REF_CONTEXT && p->nloops > 0 && first_len == 7 &&
		memcmp(t->text, "forloop", 7) == 0)
	{
		const char *f = t->text + 8;
		int			fl = t->len - 8;

		e->ref = REF_FORLOOP_BASE + p->nloops - 1;
		if (n == 2 && fl == 5 && memcmp(f, "index", 5) == 0)
			e->field = FL_INDEX;
		else if (n == 2 && fl == 6 && memcmp(f, "index0", 6) == 0)
			e->field = FL_INDEX0;
		else if (n == 2 && fl == 6 && memcmp(f, "rindex", 6) == 0)
			e->field = FL_RINDEX;
		else if (n == 2 && fl == 5 && memcmp(f, "first", 5) == 0)
			e->field = FL_FIRST;
		else if (n == 2 && fl == 4 && memcmp(f, "last", 4) == 0)
			e->field = FL_LAST;
		else if (n == 2 && fl == 6 && memcmp(f, "length", 6) == 0)
			e->field = FL_LENGTH;
		else
			syntax_error(p, t->bpos,
						 psprintf("unknown loop property \"%s\"", dsl_clip_len(t->text, t->len, 40)),
						 "Inside a loop, forloop describes the current iteration.",
						 "Use forloop.index, forloop.index0, forloop.rindex, forloop.first, forloop.last or forloop.length.");
		return e;
	}

	/* the segments after the root or the loop variable */
	e->nsegs = n - skip;
	e->segs = palloc0(sizeof(TSegment) * Max(e->nsegs, 1));
	start = 0;
	for (i = 0; i < n; i++)
	{
		int			end = start;

		while (end < t->len && t->text[end] != '.')
			end++;
		if (i >= skip)
		{
			TSegment   *sg = &e->segs[i - skip];
			int			k;

			sg->name = t->text + start;
			sg->len = end - start;
			sg->index = 0;
			for (k = start; k < end; k++)
			{
				if (t->text[k] < '0' || t->text[k] > '9')
				{
					sg->index = -1;
					break;
				}
				if (sg->index < 100000000)
					sg->index = sg->index * 10 + (t->text[k] - '0');
			}
		}
		start = end + 1;
	}
	if (e->ref == REF_CONTEXT)
		p->paths = lappend(p->paths, e);
	return e;
}

/*
 * parse_operand
 *		A path, a literal or (when allow_coupon) coupon "PREFIX" at the
 *		current token; leaves the token after it current.  "what" names
 *		the place for errors, hint is the syntax to show.
 */
static TExpr *
parse_operand(TParser *p, bool allow_coupon, const char *what, const char *hint)
{
	TToken	   *t = &p->tok;
	TExpr	   *e;

	if (t->kind == TT_WORD)
	{
		if (word_is(t, "true") || word_is(t, "false") || word_is(t, "null"))
		{
			e = palloc0(sizeof(TExpr));
			e->kind = word_is(t, "true") ? TE_TRUE : word_is(t, "false") ? TE_FALSE : TE_NULL;
			e->bpos = t->bpos;
			next_token(p);
			return e;
		}
		if (word_is(t, "and") || word_is(t, "or") || word_is(t, "not"))
			syntax_error(p, t->bpos, psprintf("unexpected %s in %s", token_desc(t), what),
						 "A value was expected here.", hint);
		if (allow_coupon && word_is(t, "coupon"))
		{
			int			bpos = t->bpos;
			int			i;

			next_token(p);
			if (t->kind != TT_STRING)
				syntax_error(p, t->bpos, "coupon needs a prefix",
							 "After coupon comes the code's prefix in quotes.",
							 "Write {{ coupon \"SPRING20\" }}.");
			if (t->len == 0 || t->len > TPL_MAX_PREFIX)
				syntax_error(p, t->bpos, "invalid coupon prefix",
							 psprintf("A coupon prefix has 1 to %d characters.", TPL_MAX_PREFIX),
							 "Write {{ coupon \"SPRING20\" }}.");
			for (i = 0; i < t->len; i++)
				if (!is_word_char(t->str[i]) && t->str[i] != '-')
					syntax_error(p, t->bpos, "invalid coupon prefix",
								 "A coupon prefix is made of ASCII letters, digits, _ and -.",
								 "Write {{ coupon \"SPRING20\" }}.");
			e = palloc0(sizeof(TExpr));
			e->kind = TE_COUPON;
			e->bpos = bpos;
			e->str = t->str;
			e->len = t->len;
			p->coupons = lappend(p->coupons, e);
			next_token(p);
			return e;
		}
		e = make_path(p, t);
		next_token(p);
		return e;
	}
	if (t->kind == TT_STRING || t->kind == TT_NUMBER)
	{
		e = palloc0(sizeof(TExpr));
		e->kind = t->kind == TT_STRING ? TE_STRING : TE_NUMBER;
		e->bpos = t->bpos;
		e->str = t->kind == TT_STRING ? t->str : pnstrdup(t->text, t->len);
		e->len = t->len;
		next_token(p);
		return e;
	}
	syntax_error(p, t->bpos, psprintf("unexpected %s in %s", token_desc(t), what),
				 "A path, \"text\", a number, true, false or null was expected here.", hint);
	return NULL;				/* not reached */
}

/*
 * int_argument
 *		The integer literal argument of a filter or limit at the current
 *		token, between lo and hi; "what" names it in errors.
 */
static int
int_argument(TParser *p, const char *what, int lo, int hi, const char *hint)
{
	TToken	   *t = &p->tok;
	int			v = 0;
	int			i;
	bool		neg;

	if (t->kind != TT_NUMBER || memchr(t->text, '.', t->len) != NULL)
		syntax_error(p, t->bpos, psprintf("%s needs a whole number", what),
					 psprintf("Found %s.", token_desc(t)), hint);
	neg = t->text[0] == '-';
	for (i = neg ? 1 : 0; i < t->len; i++)
	{
		v = v * 10 + (t->text[i] - '0');
		if (v > hi)
			break;
	}
	if (neg)
		v = -v;
	if (v < lo || v > hi)
		syntax_error(p, t->bpos,
					 psprintf("%s %s is out of range", what, dsl_clip_len(t->text, t->len, 40)),
					 psprintf("It must be between %d and %d.", lo, hi), hint);
	next_token(p);
	return v;
}

/*
 * parse_filters
 *		Zero or more "| name" or "| name: argument" at the current token,
 *		up to the end of the output tag.
 */
static TFilter *
parse_filters(TParser *p)
{
	TFilter    *head = NULL;
	TFilter   **tail = &head;
	TToken	   *t = &p->tok;

	while (t->kind == TT_PIPE)
	{
		TFilter    *f = palloc0(sizeof(TFilter));
		char	   *name;
		bool		has_arg;
		bool		wants_arg;

		next_token(p);
		if (t->kind != TT_WORD)
			syntax_error(p, t->bpos, psprintf("unexpected %s after \"|\"", token_desc(t)),
						 "A filter name was expected here.", known_filters);
		if (word_is(t, "default"))
			f->kind = TF_DEFAULT;
		else if (word_is(t, "upcase"))
			f->kind = TF_UPCASE;
		else if (word_is(t, "downcase"))
			f->kind = TF_DOWNCASE;
		else if (word_is(t, "capitalize"))
			f->kind = TF_CAPITALIZE;
		else if (word_is(t, "round"))
			f->kind = TF_ROUND;
		else if (word_is(t, "truncate"))
			f->kind = TF_TRUNCATE;
		else if (word_is(t, "date"))
			f->kind = TF_DATE;
		else
			syntax_error(p, t->bpos,
						 psprintf("unknown filter \"%s\"", dsl_clip_len(t->text, t->len, 40)),
						 "The template language has no filter of that name.", known_filters);
		name = pnstrdup(t->text, t->len);
		wants_arg = f->kind == TF_DEFAULT || f->kind == TF_TRUNCATE ||
			f->kind == TF_DATE || f->kind == TF_ROUND;
		next_token(p);
		has_arg = t->kind == TT_COLON;
		if (has_arg && !wants_arg)
			syntax_error(p, t->bpos,
						 psprintf("filter %s takes no argument", name),
						 "Only default, round, truncate and date take an argument after a colon.", known_filters);
		if (!has_arg && f->kind != TF_ROUND && wants_arg)
			syntax_error(p, t->bpos,
						 psprintf("filter %s needs an argument", name),
						 "The argument follows the filter's name after a colon.", known_filters);
		if (has_arg)
		{
			next_token(p);
			switch (f->kind)
			{
				case TF_DEFAULT:
					if (t->kind == TT_WORD && !word_is(t, "true") && !word_is(t, "false") &&
						!word_is(t, "null"))
						syntax_error(p, t->bpos, "the argument of default must be a literal",
									 "The default value is written in the template, e.g. \"there\" or 0.",
									 "Write {{ first_name | default: \"there\" }}.");
					f->arg = parse_operand(p, false, "a filter", known_filters);
					break;
				case TF_ROUND:
					f->n = int_argument(p, "round", 0, 20, "Write {{ value | round: 2 }}.");
					break;
				case TF_TRUNCATE:
					f->n = int_argument(p, "truncate", 0, 100000, "Write {{ value | truncate: 40 }}.");
					break;
				case TF_DATE:
					if (t->kind != TT_STRING || t->len == 0 || t->len > 200)
						syntax_error(p, t->bpos, "date needs a pattern",
									 "The pattern is a non-empty to_char pattern of at most 200 bytes in quotes.",
									 "Write {{ signup_date | date: \"DD/MM/YYYY\" }}.");
					f->arg = parse_operand(p, false, "a filter", known_filters);
					break;
				default:
					break;
			}
			if (t->kind == TT_COMMA)
				syntax_error(p, t->bpos, "a filter takes one argument",
							 "A comma after a filter's argument starts a second argument, which no filter has.", known_filters);
		}
		*tail = f;
		tail = &f->next;
	}
	return head;
}

static TCond *parse_or(TParser *p, int depth);

/*
 * parse_unary
 *		not cond | ( cond ) | operand [op operand], nested at most
 *		TPL_MAX_DEPTH deep together with the enclosing blocks.
 */
static TCond *
parse_unary(TParser *p, int depth)
{
	TToken	   *t = &p->tok;
	TCond	   *c = palloc0(sizeof(TCond));

	if (depth > TPL_MAX_DEPTH)
		tpl_error(p, ERRCODE_STATEMENT_TOO_COMPLEX, t->bpos, "condition nested too deeply",
				  psprintf("Blocks and conditions nest at most %d deep.", TPL_MAX_DEPTH),
				  "Simplify the condition.");
	CHECK_FOR_INTERRUPTS();
	if (word_is(t, "not"))
	{
		next_token(p);
		c->kind = TC_NOT;
		c->l = parse_unary(p, depth + 1);
		return c;
	}
	if (t->kind == TT_LPAREN)
	{
		int			open = t->bpos;

		next_token(p);
		c = parse_or(p, depth + 1);
		if (t->kind != TT_RPAREN)
			syntax_error(p, t->bpos, psprintf("unexpected %s in a condition", token_desc(t)),
						 psprintf("The parenthesis at byte %d is not closed.", open + 1), cond_hint);
		next_token(p);
		return c;
	}
	c->a = parse_operand(p, false, "a condition", cond_hint);
	if (t->kind == TT_OP)
	{
		c->kind = TC_CMP;
		c->op = t->op;
		next_token(p);
		c->b = parse_operand(p, false, "a condition", cond_hint);
	}
	else
		c->kind = TC_TRUTHY;
	return c;
}

/*
 * parse_and
 *		unary (and unary)*
 */
static TCond *
parse_and(TParser *p, int depth)
{
	TCond	   *l = parse_unary(p, depth);

	while (word_is(&p->tok, "and"))
	{
		TCond	   *c = palloc0(sizeof(TCond));

		next_token(p);
		c->kind = TC_AND;
		c->l = l;
		c->r = parse_unary(p, depth);
		l = c;
	}
	return l;
}

/*
 * parse_or
 *		and_cond (or and_cond)*: and binds tighter than or.
 */
static TCond *
parse_or(TParser *p, int depth)
{
	TCond	   *l = parse_and(p, depth);

	while (word_is(&p->tok, "or"))
	{
		TCond	   *c = palloc0(sizeof(TCond));

		next_token(p);
		c->kind = TC_OR;
		c->l = l;
		c->r = parse_and(p, depth);
		l = c;
	}
	return l;
}

/*
 * parse_condition
 *		A whole condition ending the tag; "tag" names it for errors.
 */
static TCond *
parse_condition(TParser *p, const char *tag)
{
	TCond	   *c;

	if (p->tok.kind == TT_CLOSE)
		syntax_error(p, p->tok.bpos, psprintf("%s without a condition", tag),
					 "The tag ends where its condition should be.", cond_hint);
	c = parse_or(p, p->depth);
	expect_close(p, psprintf("the condition of %s", tag), cond_hint);
	return c;
}

/*
 * open_tag
 *		At "{{" or "{%" at p->pos (the byte after "{" is '{' or '%'): enter
 *		the tag and read its first token.
 */
static void
open_tag(TParser *p)
{
	p->tag_start = p->pos;
	p->tag_close = p->src[p->pos + 1] == '{' ? '}' : '%';
	p->pos += 2;
	if (p->pos < p->len && p->src[p->pos] == '-')
		p->pos++;
	next_token(p);
}

/*
 * rtrim_text
 *		Remove trailing white space from the last text node of a list
 *		(for "{{-" and "{%-").
 */
static void
rtrim_text(TNode *last)
{
	if (last && last->kind == TN_TEXT)
		while (last->len > 0 && is_space(last->text[last->len - 1]))
			last->len--;
}

static TNode *parse_body(TParser *p, TEndTag *end, int *end_bpos);

/*
 * enter_block
 *		Count one more open block (the one whose tag starts at bpos);
 *		54001 beyond TPL_MAX_DEPTH.
 */
static void
enter_block(TParser *p, int bpos)
{
	if (++p->depth > TPL_MAX_DEPTH)
		tpl_error(p, ERRCODE_STATEMENT_TOO_COMPLEX, bpos, "blocks nested too deeply",
				  psprintf("Blocks and conditions nest at most %d deep.", TPL_MAX_DEPTH),
				  "Move part of the template into fewer nested {% if %} and {% for %}.");
}

/*
 * parse_if
 *		The rest of {% if cond %} (the current token is after "if"): its
 *		branches up to {% endif %}.
 */
static TNode *
parse_if(TParser *p, int if_bpos)
{
	TNode	   *n = palloc0(sizeof(TNode));
	TBranch   **tail = &n->branches;
	TEndTag		end;
	int			end_bpos;

	n->kind = TN_IF;
	enter_block(p, if_bpos);
	for (;;)
	{
		TBranch    *b = palloc0(sizeof(TBranch));

		b->cond = parse_condition(p, "{% if %}");
		b->body = parse_body(p, &end, &end_bpos);
		*tail = b;
		tail = &b->next;
		if (end != END_ELSIF)
			break;
	}
	if (end == END_ELSE)
	{
		n->else_body = parse_body(p, &end, &end_bpos);
		if (end == END_ELSIF || end == END_ELSE)
			syntax_error(p, end_bpos,
						 end == END_ELSE ? "a second {% else %} in {% if %}" : "{% elsif %} after {% else %}",
						 "{% else %} is the last branch of an {% if %}.",
						 "Write {% if cond %} ... {% elsif cond %} ... {% else %} ... {% endif %}.");
	}
	if (end != END_ENDIF)
		syntax_error(p, end == END_EOF ? if_bpos : end_bpos,
					 end == END_EOF ? "unclosed \"{% if %}\"" : "{% endfor %} closes an {% if %}",
					 end == END_EOF ? "The template ends before the {% if %} that starts here is closed." :
					 "The innermost open block is an {% if %}.",
					 "Close it with {% endif %}.");
	p->depth--;
	return n;
}

/*
 * parse_for
 *		The rest of {% for x in path limit: N %} (the current token is
 *		after "for"): the body up to {% endfor %}.
 */
static TNode *
parse_for(TParser *p, int for_bpos)
{
	const char *hint = "Write {% for item in path %} ... {% endfor %} or {% for item in path limit: 3 %}.";
	TNode	   *n = palloc0(sizeof(TNode));
	TToken	   *t = &p->tok;
	TEndTag		end;
	int			end_bpos;
	const char *var;
	int			varlen;

	n->kind = TN_FOR;
	if (t->kind != TT_WORD || memchr(t->text, '.', t->len) != NULL ||
		word_is(t, "in") || word_is(t, "and") || word_is(t, "or") || word_is(t, "not") ||
		word_is(t, "true") || word_is(t, "false") || word_is(t, "null") || word_is(t, "forloop"))
		syntax_error(p, t->bpos, psprintf("unexpected %s in {%% for %%}", token_desc(t)),
					 "The name of the loop variable was expected here.", hint);
	var = t->text;
	varlen = t->len;
	next_token(p);
	if (!word_is(t, "in"))
		syntax_error(p, t->bpos, psprintf("unexpected %s in {%% for %%}", token_desc(t)),
					 "\"in\" was expected here.", hint);
	next_token(p);
	if (t->kind != TT_WORD || word_is(t, "true") || word_is(t, "false") ||
		word_is(t, "null") || word_is(t, "limit"))
		syntax_error(p, t->bpos, psprintf("unexpected %s in {%% for %%}", token_desc(t)),
					 "The path of a list was expected here.", hint);
	n->list = make_path(p, t);
	next_token(p);
	n->limit = TPL_DEFAULT_LIMIT;
	if (word_is(t, "limit"))
	{
		next_token(p);
		if (t->kind != TT_COLON)
			syntax_error(p, t->bpos, psprintf("unexpected %s in {%% for %%}", token_desc(t)),
						 "\":\" was expected after limit.", hint);
		next_token(p);
		n->limit = int_argument(p, "limit", 0, TPL_MAX_LIMIT, hint);
	}
	expect_close(p, "{% for %}", hint);

	enter_block(p, for_bpos);
	n->loop = p->nloops;
	p->loopvar[p->nloops] = var;
	p->loopvarlen[p->nloops] = varlen;
	p->nloops++;
	n->body = parse_body(p, &end, &end_bpos);
	p->nloops--;
	if (end == END_ELSE)
		n->else_body = parse_body(p, &end, &end_bpos);
	if (end != END_ENDFOR)
		syntax_error(p, end == END_EOF ? for_bpos : end_bpos,
					 end == END_EOF ? "unclosed \"{% for %}\"" :
					 end == END_ELSE ? "a second {% else %} in {% for %}" :
					 end == END_ELSIF ? "{% elsif %} inside {% for %}" : "{% endif %} closes a {% for %}",
					 end == END_EOF ? "The template ends before the {% for %} that starts here is closed." :
					 "The innermost open block is a {% for %}.",
					 "Close it with {% endfor %}.");
	p->depth--;
	return n;
}

/*
 * parse_body
 *		Text and tags from p->pos up to a block tag that ends a body
 *		({% elsif %}, {% else %}, {% endif %}, {% endfor %}) or the end of
 *		the template; *end says which, *end_bpos where its tag starts.  The
 *		tag's tokens are consumed, up to the condition of an elsif.
 */
static TNode *
parse_body(TParser *p, TEndTag *end, int *end_bpos)
{
	TNode	   *head = NULL;
	TNode	   *last = NULL;
	const char *s = p->src;


	for (;;)
	{
		int			start = p->pos;
		int			i = p->pos;
		TNode	   *n = NULL;

		CHECK_FOR_INTERRUPTS();
		/* plain text up to the next "{{", "{%" or "{#" */
		for (;;)
		{
			const char *q = memchr(s + i, '{', p->len - i);

			if (q == NULL)
			{
				i = p->len;
				break;
			}
			i = q - s;
			if (i + 1 < p->len && (s[i + 1] == '{' || s[i + 1] == '%' || s[i + 1] == '#'))
				break;
			i++;
		}
		if (p->trim_next)
		{
			while (start < i && is_space(s[start]))
				start++;
			/* a comment keeps the trim for the text after it */
			if (start < i || i >= p->len || s[i + 1] != '#')
				p->trim_next = false;
		}
		if (i > start)
		{
			n = palloc0(sizeof(TNode));
			n->kind = TN_TEXT;
			n->text = s + start;
			n->len = i - start;
			if (last)
				last->next = n;
			else
				head = n;
			last = n;
		}
		p->pos = i;
		if (i >= p->len)
		{
			*end = END_EOF;
			*end_bpos = i;
			return head;
		}
		if (n != NULL && i + 2 < p->len && s[i + 2] == '-')
			rtrim_text(n);

		if (s[i + 1] == '#')
		{
			/* a comment: skip to "#}" */
			const char *c = s + i + 2;
			const char *e = s + p->len;

			while (c + 1 < e && !(c[0] == '#' && c[1] == '}'))
			{
				c = memchr(c + 1, '#', e - c - 1);
				if (c == NULL)
				{
					c = e;
					break;
				}
			}
			if (c + 1 >= e)
			{
				p->tag_start = i;
				syntax_error(p, i, "unclosed \"{#\"",
							 "The template ends before the comment that starts here is closed.",
							 "Close a comment with #}.");
			}
			p->pos = (c - s) + 2;
			continue;
		}

		open_tag(p);
		if (p->tag_close == '}')
		{
			if (p->tok.kind == TT_CLOSE)
				syntax_error(p, p->tok.bpos, "empty {{ }}", "An output tag names what to print.", output_hint);
			n = palloc0(sizeof(TNode));
			n->kind = TN_OUTPUT;
			n->expr = parse_operand(p, true, "{{ }}", output_hint);
			n->filters = parse_filters(p);
			expect_close(p, "{{ }}", output_hint);
		}
		else
		{
			TToken	   *t = &p->tok;
			int			tag_bpos = p->tag_start;

			if (word_is(t, "if"))
			{
				next_token(p);
				n = parse_if(p, tag_bpos);
			}
			else if (word_is(t, "for"))
			{
				next_token(p);
				n = parse_for(p, tag_bpos);
			}
			else if (word_is(t, "elsif"))
			{
				next_token(p);
				*end = END_ELSIF;
				*end_bpos = tag_bpos;
				return head;
			}
			else if (word_is(t, "else") || word_is(t, "endif") || word_is(t, "endfor"))
			{
				const char *what = word_is(t, "else") ? "{% else %}" :
				word_is(t, "endif") ? "{% endif %}" : "{% endfor %}";

				*end = word_is(t, "else") ? END_ELSE : word_is(t, "endif") ? END_ENDIF : END_ENDFOR;
				*end_bpos = tag_bpos;
				next_token(p);
				expect_close(p, what, known_tags);
				return head;
			}
			else if (t->kind == TT_CLOSE)
				syntax_error(p, t->bpos, "empty {% %}",
							 "A tag starts with its name.", known_tags);
			else
				syntax_error(p, t->bpos,
							 t->kind == TT_WORD ?
							 psprintf("unknown tag \"%s\"", dsl_clip_len(t->text, t->len, 40)) :
							 psprintf("unexpected %s at the start of a tag", token_desc(t)),
							 "A tag starts with its name: if, elsif, else, endif, for or endfor.", known_tags);
		}
		if (last)
			last->next = n;
		else
			head = n;
		last = n;
	}
}

/*
 * cdp_template_parse
 *		Parse a template (src, len bytes; need not be NUL-terminated) into
 *		a tree allocated in the current memory context, pointing into src.
 *		Raises the syntax error (42601) or limit error (54000, 54001).
 */
Template *
cdp_template_parse(const char *src, int len)
{
	TParser		p;
	Template   *tpl = palloc0(sizeof(Template));
	TEndTag		end;
	int			end_bpos;

	if (len > TPL_MAX_SOURCE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("template is too long"),
				 errdetail("The template has %d bytes; at most %d are allowed.", len, TPL_MAX_SOURCE),
				 errhint("Shorten the template.")));
	memset(&p, 0, sizeof(p));
	p.src = src;
	p.len = len;
	tpl->src = src;
	tpl->len = len;
	tpl->body = parse_body(&p, &end, &end_bpos);
	if (end != END_EOF)
	{
		const char *what = end == END_ELSIF ? "elsif" : end == END_ELSE ? "else" :
		end == END_ENDIF ? "endif" : "endfor";

		syntax_error(&p, end_bpos, psprintf("{%% %s %%} outside a block", what),
					 end == END_ENDFOR ? "No {% for %} is open here." : "No {% if %} is open here.",
					 known_tags);
	}
	tpl->paths = p.paths;
	tpl->coupons = p.coupons;
	return tpl;
}

/*
 * name_cmp
 *		qsort order of (name, sequence) pairs: by name, then by sequence.
 */
typedef struct NameSeq
{
	const char *name;
	int			len;
	int			seq;
	bool		keep;
} NameSeq;

static int
name_cmp(const void *a, const void *b)
{
	const NameSeq *x = a;
	const NameSeq *y = b;
	int			c = memcmp(x->name, y->name, Min(x->len, y->len));

	if (c != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->seq - y->seq;
}

static int
seq_cmp(const void *a, const void *b)
{
	return ((const NameSeq *) a)->seq - ((const NameSeq *) b)->seq;
}

/*
 * cdp_template_names
 *		The distinct context paths (or coupon prefixes) a parsed template
 *		uses, in order of first use, as a List of palloc'd C strings.
 *		Sorting keeps it O(n log n) for templates with many paths.
 */
List *
cdp_template_names(Template *tpl, bool coupons)
{
	List	   *src = coupons ? tpl->coupons : tpl->paths;
	int			n = list_length(src);
	NameSeq    *v;
	List	   *result = NIL;
	ListCell   *lc;
	int			i = 0;

	if (n == 0)
		return NIL;
	v = palloc(sizeof(NameSeq) * n);
	foreach(lc, src)
	{
		TExpr	   *e = lfirst(lc);

		v[i].name = coupons ? e->str : e->path;
		v[i].len = strlen(v[i].name);
		v[i].seq = i;
		i++;
	}
	qsort(v, n, sizeof(NameSeq), name_cmp);
	for (i = 0; i < n; i++)
		v[i].keep = i == 0 || v[i].len != v[i - 1].len ||
			memcmp(v[i].name, v[i - 1].name, v[i].len) != 0;
	qsort(v, n, sizeof(NameSeq), seq_cmp);
	for (i = 0; i < n; i++)
		if (v[i].keep)
			result = lappend(result, pstrdup(v[i].name));
	pfree(v);
	return result;
}

#ifndef CDP_TEMPLATE_PARSER_ONLY

/* ---- values ---- */

/* the 32 characters of coupon codes: no 0/O nor 1/I look-alikes */
static const char coupon_alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

typedef enum TValKind
{
	TV_MISSING,
	TV_NULL,
	TV_BOOL,
	TV_NUMBER,
	TV_STRING,
	TV_CONTAINER				/* a JSON array or object */
} TValKind;

typedef struct TVal
{
	TValKind	kind;
	bool		b;
	Numeric		num;
	const char *str;			/* TV_STRING; not NUL-terminated */
	int			len;
	JsonbContainer *jc;			/* TV_CONTAINER */
} TVal;

typedef struct LoopFrame
{
	TVal		item;
	int			index;			/* 0-based */
	int			length;
} LoopFrame;

typedef struct TRender
{
	StringInfo	out;
	bool		html;
	Jsonb	   *context;
	LoopFrame	frames[TPL_MAX_DEPTH + 1];
	int64		steps;
	MemoryContext tree_cxt;		/* where number literals are cached */
} TRender;

/*
 * jsonb_to_tval
 *		A TVal for a JsonbValue (strings point into the jsonb).
 */
static void
jsonb_to_tval(const JsonbValue *jv, TVal *v)
{
	memset(v, 0, sizeof(*v));
	switch (jv->type)
	{
		case jbvNull:
			v->kind = TV_NULL;
			break;
		case jbvString:
			v->kind = TV_STRING;
			v->str = jv->val.string.val;
			v->len = jv->val.string.len;
			break;
		case jbvNumeric:
			v->kind = TV_NUMBER;
			v->num = jv->val.numeric;
			break;
		case jbvBool:
			v->kind = TV_BOOL;
			v->b = jv->val.boolean;
			break;
		case jbvBinary:
			v->kind = TV_CONTAINER;
			v->jc = jv->val.binary.data;
			break;
		default:
			v->kind = TV_MISSING;
			break;
	}
}

/*
 * walk_segments
 *		Follow path segments from v: object keys, or array indexes for
 *		segments of digits.  Anything else gives TV_MISSING.
 */
static void
walk_segments(TVal *v, const TSegment *segs, int nsegs)
{
	int			i;

	for (i = 0; i < nsegs && v->kind != TV_MISSING; i++)
	{
		JsonbValue	jv;
		JsonbValue *r = NULL;

		if (v->kind != TV_CONTAINER)
		{
			v->kind = TV_MISSING;
			break;
		}
		if (JsonContainerIsObject(v->jc))
			r = getKeyJsonValueFromContainer(v->jc, segs[i].name, segs[i].len, &jv);
		else if (JsonContainerIsArray(v->jc) && segs[i].index >= 0 &&
				 segs[i].index < (int) JsonContainerSize(v->jc))
			r = getIthJsonbValueFromContainer(v->jc, segs[i].index);
		if (r == NULL)
			v->kind = TV_MISSING;
		else
			jsonb_to_tval(r, v);
	}
}

/*
 * eval_expr
 *		The value of an operand.  Coupons are printed by the caller.
 */
static void
eval_expr(TRender *r, TExpr *e, TVal *v)
{
	memset(v, 0, sizeof(*v));
	switch (e->kind)
	{
		case TE_PATH:
			if (e->ref >= REF_FORLOOP_BASE)
			{
				LoopFrame  *f = &r->frames[e->ref - REF_FORLOOP_BASE];

				v->kind = TV_NUMBER;
				switch (e->field)
				{
					case FL_INDEX:
						v->num = int64_to_numeric(f->index + 1);
						break;
					case FL_INDEX0:
						v->num = int64_to_numeric(f->index);
						break;
					case FL_RINDEX:
						v->num = int64_to_numeric(f->length - f->index);
						break;
					case FL_LENGTH:
						v->num = int64_to_numeric(f->length);
						break;
					case FL_FIRST:
						v->kind = TV_BOOL;
						v->b = f->index == 0;
						break;
					case FL_LAST:
						v->kind = TV_BOOL;
						v->b = f->index == f->length - 1;
						break;
					default:
						v->kind = TV_MISSING;
				}
				return;
			}
			if (e->ref >= 0)
				*v = r->frames[e->ref].item;
			else
			{
				v->kind = TV_CONTAINER;
				v->jc = &r->context->root;
			}
			walk_segments(v, e->segs, e->nsegs);
			return;
		case TE_STRING:
			v->kind = TV_STRING;
			v->str = e->str;
			v->len = e->len;
			return;
		case TE_NUMBER:
			if (e->cached == NULL)
			{
				MemoryContext old = MemoryContextSwitchTo(r->tree_cxt);

				e->cached = DatumGetNumeric(DirectFunctionCall3(numeric_in,
																CStringGetDatum(e->str),
																ObjectIdGetDatum(InvalidOid),
																Int32GetDatum(-1)));
				MemoryContextSwitchTo(old);
			}
			v->kind = TV_NUMBER;
			v->num = (Numeric) e->cached;
			return;
		case TE_TRUE:
		case TE_FALSE:
			v->kind = TV_BOOL;
			v->b = e->kind == TE_TRUE;
			return;
		case TE_NULL:
			v->kind = TV_NULL;
			return;
		case TE_COUPON:
			elog(ERROR, "coupon evaluated as a value");
	}
}

/*
 * tval_text
 *		The printed form of a value, palloc'd or pointing into the value
 *		(*len bytes; not NUL-terminated).  Missing and null print as "".
 */
static const char *
tval_text(const TVal *v, int *len)
{
	char	   *s;

	switch (v->kind)
	{
		case TV_STRING:
			*len = v->len;
			return v->str;
		case TV_NUMBER:
			s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->num)));
			*len = strlen(s);
			return s;
		case TV_BOOL:
			*len = v->b ? 4 : 5;
			return v->b ? "true" : "false";
		case TV_CONTAINER:
			s = JsonbToCString(NULL, v->jc, -1);
			*len = strlen(s);
			return s;
		default:
			*len = 0;
			return "";
	}
}

/*
 * numeric_is_zero
 *		Whether a (non-NaN) numeric is zero.
 */
static bool
tv_numeric_is_zero(Numeric n)
{
	static Numeric zero = NULL;

	if (zero == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		zero = int64_to_numeric(0);
		MemoryContextSwitchTo(old);
	}
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(n),
											 NumericGetDatum(zero))) == 0;
}

/*
 * truthy
 *		Missing, null, false, "", 0 and [] are false; everything else true.
 */
static bool
truthy(const TVal *v)
{
	switch (v->kind)
	{
		case TV_MISSING:
		case TV_NULL:
			return false;
		case TV_BOOL:
			return v->b;
		case TV_STRING:
			return v->len > 0;
		case TV_NUMBER:
			return !tv_numeric_is_zero(v->num);
		case TV_CONTAINER:
			return !(JsonContainerIsArray(v->jc) && JsonContainerSize(v->jc) == 0);
	}
	return false;
}

/*
 * compare
 *		a op b: numbers numerically, strings by bytes (code point order in
 *		UTF-8), otherwise only == and != (values of different kinds differ;
 *		missing equals null).
 */
static bool
compare(const TVal *a, const TVal *b, TCmpOp op)
{
	int			c;
	TValKind	ka = a->kind == TV_MISSING ? TV_NULL : a->kind;
	TValKind	kb = b->kind == TV_MISSING ? TV_NULL : b->kind;

	if (ka == TV_NUMBER && kb == TV_NUMBER)
		c = DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(a->num),
											  NumericGetDatum(b->num)));
	else if (ka == TV_STRING && kb == TV_STRING)
	{
		c = memcmp(a->str, b->str, Min(a->len, b->len));
		if (c == 0)
			c = a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
	}
	else
	{
		bool		eq;

		if (ka != kb)
			eq = false;
		else if (ka == TV_NULL)
			eq = true;
		else if (ka == TV_BOOL)
			eq = a->b == b->b;
		else
			eq = compareJsonbContainers(a->jc, b->jc) == 0;
		return op == OP_EQ ? eq : op == OP_NE ? !eq : false;
	}
	switch (op)
	{
		case OP_EQ:
			return c == 0;
		case OP_NE:
			return c != 0;
		case OP_LT:
			return c < 0;
		case OP_LE:
			return c <= 0;
		case OP_GT:
			return c > 0;
		case OP_GE:
			return c >= 0;
	}
	return false;
}

/*
 * eval_cond
 *		The truth of a condition (and, or short-circuit).
 */
static bool
eval_cond(TRender *r, TCond *c)
{
	TVal		a;
	TVal		b;

	switch (c->kind)
	{
		case TC_TRUTHY:
			eval_expr(r, c->a, &a);
			return truthy(&a);
		case TC_NOT:
			return !eval_cond(r, c->l);
		case TC_AND:
			return eval_cond(r, c->l) && eval_cond(r, c->r);
		case TC_OR:
			return eval_cond(r, c->l) || eval_cond(r, c->r);
		case TC_CMP:
			eval_expr(r, c->a, &a);
			eval_expr(r, c->b, &b);
			return compare(&a, &b, c->op);
	}
	return false;
}

/*
 * emit
 *		Append len bytes of s to the output, HTML-escaped when escape is
 *		set; raise 54000 when the output would pass its limit.
 */
static void
emit(TRender *r, const char *s, int len, bool escape)
{
	StringInfo	out = r->out;
	int			i;
	int			run = 0;

	if ((int64) out->len + len > TPL_MAX_OUTPUT)
		goto too_long;
	if (!escape)
	{
		appendBinaryStringInfo(out, s, len);
		return;
	}
	for (i = 0; i < len; i++)
	{
		const char *rep;

		switch (s[i])
		{
			case '&':
				rep = "&amp;";
				break;
			case '<':
				rep = "&lt;";
				break;
			case '>':
				rep = "&gt;";
				break;
			case '"':
				rep = "&quot;";
				break;
			case '\'':
				rep = "&#39;";
				break;
			default:
				continue;
		}
		appendBinaryStringInfo(out, s + run, i - run);
		appendStringInfoString(out, rep);
		run = i + 1;
		if (out->len > TPL_MAX_OUTPUT)
			goto too_long;
	}
	appendBinaryStringInfo(out, s + run, len - run);
	if (out->len <= TPL_MAX_OUTPUT)
		return;
too_long:
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("rendered template is too long"),
			 errdetail("The output of a template is limited to %d bytes.", TPL_MAX_OUTPUT),
			 errhint("Limit the loops of the template or shorten the values it prints.")));
}

/*
 * coupon_code
 *		The code for a prefix and a seed: the prefix, "-", and 8 characters
 *		of coupon_alphabet taken 5 bits at a time from HMAC-SHA256 keyed
 *		with the seed over the prefix.  Appends to buf.
 */
static void
coupon_code(StringInfo buf, const char *prefix, int plen, const char *seed, int slen)
{
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	uint64		bits = 0;
	int			i;

	if (ctx == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (pg_hmac_init(ctx, (const uint8 *) seed, slen) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) prefix, plen) < 0 ||
		pg_hmac_final(ctx, digest, sizeof(digest)) < 0)
	{
		const char *msg = pg_hmac_error(ctx);

		pg_hmac_free(ctx);
		elog(ERROR, "could not compute a coupon code: %s", msg);
	}
	pg_hmac_free(ctx);
	for (i = 0; i < 5; i++)
		bits = (bits << 8) | digest[i];
	appendBinaryStringInfo(buf, prefix, plen);
	appendStringInfoChar(buf, '-');
	for (i = TPL_COUPON_CHARS - 1; i >= 0; i--)
		appendStringInfoChar(buf, coupon_alphabet[(bits >> (5 * i)) & 31]);
}

/*
 * check_prefix
 *		Refuse a coupon prefix that a template could not contain (22023).
 */
static void
check_prefix(const char *s, int len)
{
	int			i;
	bool		ok = len > 0 && len <= TPL_MAX_PREFIX;

	for (i = 0; ok && i < len; i++)
		ok = is_word_char(s[i]) || s[i] == '-';
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid coupon prefix \"%s\"", dsl_clip_len(s, len, 40)),
				 errdetail("A coupon prefix has 1 to %d ASCII letters, digits, _ or -.", TPL_MAX_PREFIX),
				 errhint("Use the prefix written in the template, e.g. SPRING20.")));
}

/*
 * render_coupon
 *		The coupon code of prefix e->str for the context's coupon_seed, as
 *		a string value (palloc'd).  No usable seed is an error (22023).
 */
static void
render_coupon(TRender *r, TExpr *e, TVal *v)
{
	JsonbValue	jv;
	JsonbValue *seed = getKeyJsonValueFromContainer(&r->context->root, "coupon_seed", 11, &jv);
	StringInfoData buf;
	const char *s = NULL;
	int			slen = 0;

	if (seed && seed->type == jbvString)
	{
		s = seed->val.string.val;
		slen = seed->val.string.len;
	}
	else if (seed && seed->type == jbvNumeric)
	{
		s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(seed->val.numeric)));
		slen = strlen(s);
	}
	if (slen == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("template uses coupon \"%s\" but the context has no coupon_seed", e->str),
				 errdetail("A coupon code is derived from the recipient's coupon_seed, a non-empty string in the context."),
				 errhint("The journey supplies coupon_seed for every recipient; when calling cdp.render_text directly, add \"coupon_seed\" to the context.")));
	initStringInfo(&buf);
	coupon_code(&buf, e->str, e->len, s, slen);
	v->kind = TV_STRING;
	v->str = buf.data;
	v->len = buf.len;
}

/*
 * parse_iso_timestamp
 *		A date or timestamp written YYYY-MM-DD[(T| )HH:MM[:SS[.ffffff]]]
 *		[Z|(+|-)HH[:MM]] (the offset is accepted and ignored) as a
 *		timestamp; false if s is not one or is not a real date.
 */
static bool
parse_iso_timestamp(const char *s, int len, Timestamp *out)
{
	struct pg_tm tm;
	fsec_t		fsec = 0;
	int			i = 0;

#define DIGITS(n, dst) \
	do { int k_; (dst) = 0; \
		for (k_ = 0; k_ < (n); k_++, i++) { \
			if (i >= len || s[i] < '0' || s[i] > '9') return false; \
			(dst) = (dst) * 10 + (s[i] - '0'); } } while (0)

	memset(&tm, 0, sizeof(tm));
	DIGITS(4, tm.tm_year);
	if (i >= len || s[i++] != '-')
		return false;
	DIGITS(2, tm.tm_mon);
	if (i >= len || s[i++] != '-')
		return false;
	DIGITS(2, tm.tm_mday);
	if (tm.tm_year < 1 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
		tm.tm_mday > day_tab[isleap(tm.tm_year)][tm.tm_mon - 1])
		return false;
	if (i < len && (s[i] == 'T' || s[i] == ' '))
	{
		i++;
		DIGITS(2, tm.tm_hour);
		if (i >= len || s[i++] != ':')
			return false;
		DIGITS(2, tm.tm_min);
		if (i < len && s[i] == ':')
		{
			i++;
			DIGITS(2, tm.tm_sec);
			if (i < len && s[i] == '.')
			{
				int			scale = 100000;

				i++;
				if (i >= len || s[i] < '0' || s[i] > '9')
					return false;
				while (i < len && s[i] >= '0' && s[i] <= '9')
				{
					fsec += (s[i] - '0') * scale;
					scale /= 10;
					i++;
				}
			}
		}
		if (tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
			return false;
		if (i < len && s[i] == 'Z')
			i++;
		else if (i < len && (s[i] == '+' || s[i] == '-'))
		{
			int			oh,
						om = 0;

			i++;
			DIGITS(2, oh);
			if (i < len && s[i] == ':')
				i++;
			if (i < len)
				DIGITS(2, om);
			if (oh > 15 || om > 59)
				return false;
		}
	}
#undef DIGITS
	if (i != len)
		return false;
	return tm2timestamp(&tm, fsec, NULL, out) == 0;
}

/*
 * apply_filter
 *		v | f, in place.
 */
static void
apply_filter(TRender *r, TFilter *f, TVal *v)
{
	const char *s;
	int			len;
	char	   *res;

	switch (f->kind)
	{
		case TF_DEFAULT:
			if (v->kind == TV_MISSING || v->kind == TV_NULL ||
				(v->kind == TV_STRING && v->len == 0))
				eval_expr(r, f->arg, v);
			return;
		case TF_ROUND:
			if (v->kind == TV_NUMBER && !numeric_is_nan(v->num))
				v->num = DatumGetNumeric(DirectFunctionCall2(numeric_round,
															 NumericGetDatum(v->num),
															 Int32GetDatum(f->n)));
			return;
		case TF_DATE:
			{
				Timestamp	ts;
				text	   *t;

				if (v->kind != TV_STRING || !parse_iso_timestamp(v->str, v->len, &ts))
					return;
				t = DatumGetTextPP(DirectFunctionCall2(timestamp_to_char,
													   TimestampGetDatum(ts),
													   PointerGetDatum(cstring_to_text(f->arg->str))));
				v->str = VARDATA_ANY(t);
				v->len = VARSIZE_ANY_EXHDR(t);
				return;
			}
		default:
			break;
	}

	/* the text filters work on the printed form */
	if (v->kind == TV_MISSING || v->kind == TV_NULL)
		return;
	s = tval_text(v, &len);
	switch (f->kind)
	{
		case TF_UPCASE:
			res = str_toupper(s, len, DEFAULT_COLLATION_OID);
			break;
		case TF_DOWNCASE:
			res = str_tolower(s, len, DEFAULT_COLLATION_OID);
			break;
		case TF_CAPITALIZE:
			{
				int			l = len > 0 ? Min(pg_mblen(s), len) : 0;
				char	   *first = str_toupper(s, l, DEFAULT_COLLATION_OID);
				char	   *rest = str_tolower(s + l, len - l, DEFAULT_COLLATION_OID);

				res = psprintf("%s%s", first, rest);
				break;
			}
		case TF_TRUNCATE:
			{
				int			b = 0;
				int			n = 0;

				/* the byte offset after f->n characters */
				if (cdp_is_ascii(s, Min(len, f->n + 1)))
					b = Min(len, f->n);
				else
					while (b < len && n < f->n)
					{
						b += Min(pg_mblen(s + b), len - b);
						n++;
					}
				if (b >= len)
				{
					res = pnstrdup(s, len);
					break;
				}
				res = palloc(b + 4);
				memcpy(res, s, b);
				if (GetDatabaseEncoding() == PG_UTF8)
					memcpy(res + b, "\xE2\x80\xA6", 4);
				else
					memcpy(res + b, "...", 4);
				break;
			}
		default:
			elog(ERROR, "unknown template filter %d", (int) f->kind);
			return;
	}
	v->kind = TV_STRING;
	v->str = res;
	v->len = strlen(res);
}

/*
 * render_nodes
 *		Append the output of a list of nodes.
 */
static void
render_nodes(TRender *r, TNode *n)
{
	for (; n; n = n->next)
	{
		switch (n->kind)
		{
			case TN_TEXT:
				emit(r, n->text, n->len, false);
				break;
			case TN_OUTPUT:
				{
					TVal		v;
					TFilter    *f;
					const char *s;
					int			len;

					if (n->expr->kind == TE_COUPON)
						render_coupon(r, n->expr, &v);
					else
						eval_expr(r, n->expr, &v);
					for (f = n->filters; f; f = f->next)
						apply_filter(r, f, &v);
					s = tval_text(&v, &len);
					emit(r, s, len, r->html);
					break;
				}
			case TN_IF:
				{
					TBranch    *b;

					for (b = n->branches; b; b = b->next)
						if (eval_cond(r, b->cond))
							break;
					if (b)
						render_nodes(r, b->body);
					else
						render_nodes(r, n->else_body);
					break;
				}
			case TN_FOR:
				{
					TVal		list;
					LoopFrame  *f = &r->frames[n->loop];
					int			count = 0;
					int			i;

					eval_expr(r, n->list, &list);
					if (list.kind == TV_CONTAINER && JsonContainerIsArray(list.jc))
						count = Min((int) JsonContainerSize(list.jc), n->limit);
					if (count == 0)
					{
						render_nodes(r, n->else_body);
						break;
					}
					f->length = count;
					for (i = 0; i < count; i++)
					{
						JsonbValue *jv;

						CHECK_FOR_INTERRUPTS();
						if (++r->steps > TPL_MAX_STEPS)
							ereport(ERROR,
									(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
									 errmsg("template runs too many loop iterations"),
									 errdetail("A rendering runs at most %d loop iterations in all.", TPL_MAX_STEPS),
									 errhint("Lower the limit: of nested loops.")));
						jv = getIthJsonbValueFromContainer(list.jc, i);
						jsonb_to_tval(jv, &f->item);
						pfree(jv);	/* the value points into the context */
						f->index = i;
						render_nodes(r, n->body);
					}
					break;
				}
		}
	}
}

/* ---- SQL functions ---- */

/* the parsed template kept in fn_extra between calls */
typedef struct TemplateCache
{
	MemoryContext cxt;			/* holds the copy of the text and the tree */
	char	   *src;
	int			len;
	Template   *tpl;
} TemplateCache;

/*
 * get_template
 *		The parsed template of a text argument, from the cache in fn_extra
 *		when the text is the one parsed last time by this call site;
 *		*cxt is where the tree lives.
 */
static Template *
get_template(FunctionCallInfo fcinfo, text *t, MemoryContext *cxt)
{
	TemplateCache *c = fcinfo->flinfo->fn_extra;
	const char *src = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);
	MemoryContext newcxt;
	MemoryContext old;
	char	   *copy;
	Template   *tpl;

	if (c && c->tpl && c->len == len && memcmp(c->src, src, len) == 0)
	{
		*cxt = c->cxt;
		return c->tpl;
	}
	if (c == NULL)
		c = fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(TemplateCache));

	/* parse into a new context; it replaces the old one only on success */
	newcxt = AllocSetContextCreate(CurrentMemoryContext, "cdp template",
								   ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(newcxt);
	copy = palloc(len + 1);
	memcpy(copy, src, len);
	copy[len] = '\0';
	tpl = cdp_template_parse(copy, len);
	MemoryContextSwitchTo(old);

	if (c->cxt)
		MemoryContextDelete(c->cxt);
	MemoryContextSetParent(newcxt, fcinfo->flinfo->fn_mcxt);
	c->cxt = newcxt;
	c->src = copy;
	c->len = len;
	c->tpl = tpl;
	*cxt = newcxt;
	return tpl;
}

PG_FUNCTION_INFO_V1(cdp_render_text);

/*
 * cdp_render_text
 *		cdp.render_text(template text, context jsonb, html boolean): the
 *		template rendered for the context, values HTML-escaped when html.
 */
Datum
cdp_render_text(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	Jsonb	   *ctx = PG_GETARG_JSONB_P(1);
	bool		html = PG_GETARG_BOOL(2);
	TRender		r;
	StringInfoData out;
	Template   *tpl;

	if (!JB_ROOT_IS_OBJECT(ctx))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("template context must be a JSON object"),
				 errdetail("The context is a JSON %s.",
						   JB_ROOT_IS_SCALAR(ctx) ? "scalar" : "array"),
				 errhint("Pass an object such as {\"first_name\": \"Zoë\"}.")));
	memset(&r, 0, sizeof(r));
	tpl = get_template(fcinfo, t, &r.tree_cxt);
	initStringInfo(&out);
	r.out = &out;
	r.html = html;
	r.context = ctx;
	render_nodes(&r, tpl->body);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
}

PG_FUNCTION_INFO_V1(cdp_template_check);

/*
 * cdp_template_check
 *		cdp.template_check(template text): raises the template's parse
 *		error, if any; returns void.
 */
Datum
cdp_template_check(PG_FUNCTION_ARGS)
{
	MemoryContext cxt;

	(void) get_template(fcinfo, PG_GETARG_TEXT_PP(0), &cxt);
	PG_RETURN_VOID();
}

/*
 * names_array
 *		A List of C strings as a text[].
 */
static ArrayType *
names_array(List *names)
{
	int			n = list_length(names);
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	ListCell   *lc;
	int			i = 0;

	foreach(lc, names)
		d[i++] = PointerGetDatum(cstring_to_text(lfirst(lc)));
	return construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT);
}

PG_FUNCTION_INFO_V1(cdp_template_paths);

/*
 * cdp_template_paths
 *		cdp.template_paths(template text): the distinct context paths the
 *		template reads (not loop variables nor forloop), in order of first
 *		use, as text[].
 */
Datum
cdp_template_paths(PG_FUNCTION_ARGS)
{
	MemoryContext cxt;
	Template   *tpl = get_template(fcinfo, PG_GETARG_TEXT_PP(0), &cxt);

	PG_RETURN_ARRAYTYPE_P(names_array(cdp_template_names(tpl, false)));
}

PG_FUNCTION_INFO_V1(cdp_template_coupons);

/*
 * cdp_template_coupons
 *		cdp.template_coupons(template text): the distinct coupon prefixes
 *		the template prints, in order of first use, as text[].
 */
Datum
cdp_template_coupons(PG_FUNCTION_ARGS)
{
	MemoryContext cxt;
	Template   *tpl = get_template(fcinfo, PG_GETARG_TEXT_PP(0), &cxt);

	PG_RETURN_ARRAYTYPE_P(names_array(cdp_template_names(tpl, true)));
}

PG_FUNCTION_INFO_V1(cdp_coupon_code);

/*
 * cdp_coupon_code
 *		cdp.coupon_code(prefix text, seed text): the code {{ coupon "prefix" }}
 *		prints for a context whose coupon_seed is seed.
 */
Datum
cdp_coupon_code(PG_FUNCTION_ARGS)
{
	text	   *prefix = PG_GETARG_TEXT_PP(0);
	text	   *seed = PG_GETARG_TEXT_PP(1);
	StringInfoData buf;

	check_prefix(VARDATA_ANY(prefix), VARSIZE_ANY_EXHDR(prefix));
	if (VARSIZE_ANY_EXHDR(seed) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("coupon seed must not be empty"),
				 errdetail("A coupon code is derived from a non-empty per-recipient seed."),
				 errhint("Pass the recipient's coupon_seed.")));
	initStringInfo(&buf);
	coupon_code(&buf, VARDATA_ANY(prefix), VARSIZE_ANY_EXHDR(prefix),
				VARDATA_ANY(seed), VARSIZE_ANY_EXHDR(seed));
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}

#endif							/* CDP_TEMPLATE_PARSER_ONLY */
