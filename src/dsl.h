/*-------------------------------------------------------------------------
 *
 * dsl.h
 *	  The expression language of measures and segments: tokens, the syntax
 *	  tree, and the entry points shared by the lexer (dsl_lex.c), the parser
 *	  (dsl_parse.c) and the compiler (dsl_compile.c).
 *
 * A definition is lexed and parsed in one pass into a tree of DslNodes,
 * every node remembering where it starts (character position for users,
 * byte offset for error excerpts).  Errors are raised through dsl_error,
 * which shows the definition with a caret under the faulty position.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DSL_H
#define DSL_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

/* deepest syntax tree accepted (54001 beyond) */
#define DSL_MAX_DEPTH 200

typedef enum DslTokenKind
{
	DT_EOF,
	DT_NUMBER,
	DT_STRING,
	DT_IDENT,					/* unquoted (folded to lowercase) or quoted */
	DT_KEYWORD,					/* reserved word, text is lowercase */
	DT_OP,						/* operator or punctuation, text is its spelling */
} DslTokenKind;

typedef struct DslToken
{
	DslTokenKind kind;
	char	   *text;			/* palloc'd; string value for DT_STRING */
	int			pos;			/* 1-based character position */
	int			bpos;			/* 0-based byte offset */
	bool		quoted;			/* a "double-quoted" identifier */
} DslToken;

/* the lexer's state over one definition */
typedef struct DslLexer
{
	const char *src;			/* the definition, NUL-terminated */
	int			len;			/* its length in bytes */
	const char *what;			/* "expression" or "measure definition" */
	int			bpos;			/* next byte to read */
	int			pos;			/* its 1-based character position */
} DslLexer;

typedef enum DslKind
{
	DN_NUMBER,
	DN_STRING,
	DN_BOOL,
	DN_NULL,
	DN_COLUMN,
	DN_UNARY,					/* op "-" */
	DN_NOT,
	DN_LOGICAL,					/* op "and" / "or" */
	DN_BINARY,					/* op + - * / % */
	DN_COMPARE,					/* op = <> < <= > >= */
	DN_LIKE,					/* op like / ilike, negated */
	DN_IN,						/* negated, list */
	DN_BETWEEN,					/* negated, low, high */
	DN_ISNULL,					/* negated */
	DN_CALL,
	DN_TYPED,					/* date / interval / timestamp 'literal':
								 * str the text, qualifier the type */
	DN_SEGMENT,					/* [in] segment 'name': str the name */
	DN_SETOP,					/* op union / intersect / except */
	DN_DATEWIN,					/* left within next|last n unit: str is
								 * "next" or "last", wn and wunit */
	DN_TEXTOP					/* op contains / starts with / ends with */
} DslKind;

typedef struct DslNode DslNode;

struct DslNode
{
	DslKind		kind;
	int			pos;			/* 1-based character position */
	int			bpos;			/* 0-based byte offset */
	int			height;			/* 1 + height of the tallest child */
	char	   *str;			/* number text, string value, bool text,
								 * column name, operator, function name */
	char	   *qualifier;		/* column qualifier, or NULL */
	bool		negated;		/* not like / not in / not between / is not */
	bool		distinct;		/* call: count(distinct x) */
	DslNode    *left;			/* operand; unary/not/isnull/like/in/between
								 * keep theirs here */
	DslNode    *right;			/* second operand; like pattern; between low */
	DslNode    *third;			/* between high */
	DslNode    *filter;			/* call: the "where" condition */
	List	   *args;			/* call arguments, in list */
	/* call window: "within n unit" or "between from and to" */
	bool		has_window;
	int			wpos;			/* window position (character, byte) */
	int			wbpos;
	int64		wn;				/* within n */
	char	   *wunit;			/* canonical plural unit, NULL for a range */
	char	   *wfrom;
	char	   *wto;
	bool		wsince;			/* "since entry" (journey conditions) */
};

/* dsl_lex.c */
extern void dsl_lexer_init(DslLexer *lex, const char *src, int len, const char *what);
extern void dsl_next_token(DslLexer *lex, DslToken *tok);
extern char *dsl_clip(const char *s, int maxbytes);
extern char *dsl_clip_len(const char *s, int len, int maxbytes);
extern void dsl_error(const DslLexer *lex, int sqlstate, int pos, int bpos,
					  const char *message, const char *detail, const char *hint)
			pg_attribute_noreturn();

/* dsl_parse.c */
extern DslNode *dsl_parse(DslLexer *lex);
extern bool dsl_is_aggregate_name(const char *name);
extern void dsl_node_to_json(StringInfo out, const DslNode *node);

#endif							/* DSL_H */
