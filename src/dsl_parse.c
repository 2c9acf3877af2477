/*-------------------------------------------------------------------------
 *
 * dsl_parse.c
 *	  Recursive-descent parser of the expression language of measures and
 *	  segments, the jsonb form of its syntax tree, and the SQL function
 *	  cdp.parse_expression.
 *
 * Grammar, precedence from low to high:
 *
 *	  expr	   := isect { (UNION | EXCEPT) isect }
 *	  isect	   := or_expr { INTERSECT or_expr }
 *	  or_expr  := and_expr { OR and_expr }
 *	  and_expr := not_expr { AND not_expr }
 *	  not_expr := NOT not_expr | cmp_expr
 *	  cmp_expr := add_expr [ (= | <> | != | < | <= | > | >=) add_expr
 *						   | [NOT] (LIKE | ILIKE) add_expr
 *						   | [NOT] IN ( expr { , expr } )
 *						   | [NOT] BETWEEN add_expr AND add_expr
 *						   | IS [NOT] NULL
 *						   | (BEFORE | AFTER) add_expr
 *						   | (CONTAINS | STARTS WITH | ENDS WITH) add_expr
 *						   | WITHIN (NEXT | LAST) integer unit ]
 *	  add_expr := mul_expr { (+ | -) mul_expr }
 *	  mul_expr := unary { (* | / | %) unary }
 *	  unary    := - unary | postfix
 *	  postfix  := primary [ window ]		(window only after an aggregate call)
 *	  window   := WITHIN integer unit | BETWEEN 'string' AND 'string'
 *	  primary  := number | 'string' | TRUE | FALSE | NULL
 *				| (DATE | INTERVAL | TIMESTAMP) 'string'
 *				| [IN] SEGMENT 'string'
 *				| EXISTS ( name [WHERE expr] [window] )
 *				| name [ . name ] | name ( [args] ) | ( expr )
 *	  args	   := [DISTINCT] expr [WHERE expr] { , expr }
 *
 * The words in capitals other than AND, BETWEEN, DISTINCT, FALSE, ILIKE,
 * IN, IS, LIKE, NOT, NULL, OR, TRUE, WHERE and WITHIN are not reserved:
 * they are keywords only where the grammar expects them (UNION after an
 * expression, SEGMENT before a string…), and names anywhere else.
 *
 * Comparisons do not chain (a = b = c is an error).  A BETWEEN right after
 * the closing parenthesis of an aggregate call is always its window; to
 * compare an aggregate with BETWEEN, parenthesise it: (count(x)) between 1
 * and 5.  Trees deeper than DSL_MAX_DEPTH are refused with 54001.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "dsl.h"

PG_FUNCTION_INFO_V1(cdp_parse_expression);

typedef struct DslParser
{
	DslLexer	lex;
	DslToken	tok;			/* the current token */
	int			depth;			/* recursion depth */
} DslParser;

static const char *const aggregate_names[] = {
	"count", "sum", "avg", "min", "max", "first", "last", "argmax", "argmin",
	"top", NULL
};

/* window units: spellings and their canonical plural */
static const char *const unit_names[][2] = {
	{"hour", "hours"}, {"hours", "hours"}, {"day", "days"}, {"days", "days"},
	{"week", "weeks"}, {"weeks", "weeks"}, {"month", "months"},
	{"months", "months"}, {"year", "years"}, {"years", "years"}, {NULL, NULL}
};

#define WINDOW_HINT "Write a window as \"within 30 days\" (hours, days, weeks, months, years) or \"between '2026-01-01' and '2026-06-30'\"."

static DslNode *parse_expr(DslParser *p);
static DslNode *parse_segment(DslParser *p);
static DslNode *parse_exists(DslParser *p);
static void parse_window(DslParser *p, DslNode *call);
static void parse_length(DslParser *p, DslNode *n, const char *hint);

/*
 * dsl_is_aggregate_name
 *		Whether name is one of the language's aggregates.
 */
bool
dsl_is_aggregate_name(const char *name)
{
	int			i;

	for (i = 0; aggregate_names[i]; i++)
		if (strcmp(name, aggregate_names[i]) == 0)
			return true;
	return false;
}

/* ---- token helpers ---- */

/*
 * advance
 *		Move to the next token.
 */
static void
advance(DslParser *p)
{
	dsl_next_token(&p->lex, &p->tok);
}

/*
 * peek
 *		The token after the current one, without consuming anything.
 */
static void
peek(DslParser *p, DslToken *out)
{
	DslLexer	copy = p->lex;

	dsl_next_token(&copy, out);
}

/* whether the current token is keyword kw */
static inline bool
is_kw(const DslToken *t, const char *kw)
{
	return t->kind == DT_KEYWORD && strcmp(t->text, kw) == 0;
}

/* whether token t is the unquoted word w (a keyword only in context) */
static inline bool
is_word(const DslToken *t, const char *w)
{
	return t->kind == DT_IDENT && !t->quoted && strcmp(t->text, w) == 0;
}

/* whether the current token is operator op */
static inline bool
is_op(const DslToken *t, const char *op)
{
	return t->kind == DT_OP && strcmp(t->text, op) == 0;
}

/*
 * token_desc
 *		A short description of a token for error details.
 */
static char *
token_desc(const DslToken *t)
{
	switch (t->kind)
	{
		case DT_EOF:
			return pstrdup("the end of the definition");
		case DT_STRING:
			return psprintf("the string '%s'", dsl_clip(t->text, 40));
		case DT_IDENT:
			return psprintf("the name \"%s\"", dsl_clip(t->text, 40));
		case DT_NUMBER:
			return psprintf("the number %s", dsl_clip(t->text, 40));
		default:
			return psprintf("\"%s\"", t->text);
	}
}

/*
 * unexpected
 *		A syntax error at the current token: "Expected <what>, found <it>."
 */
static void
unexpected(DslParser *p, const char *what, const char *hint)
{
	dsl_error(&p->lex, ERRCODE_SYNTAX_ERROR, p->tok.pos, p->tok.bpos, "syntax error",
			  psprintf("Expected %s, found %s.", what, token_desc(&p->tok)),
			  hint ? hint : "See the grammar in the README, e.g. sum(purchase.amount where channel = 'web') within 30 days.");
}

/*
 * expect_op
 *		Consume operator op or raise a syntax error.
 */
static void
expect_op(DslParser *p, const char *op, const char *hint)
{
	if (!is_op(&p->tok, op))
		unexpected(p, psprintf("\"%s\"", op), hint);
	advance(p);
}

/* ---- nodes ---- */

/*
 * new_node
 *		A node of a kind at the position of token t.
 */
static DslNode *
new_node(DslKind kind, const DslToken *t)
{
	DslNode    *n = palloc0(sizeof(DslNode));

	n->kind = kind;
	n->pos = t->pos;
	n->bpos = t->bpos;
	n->height = 1;
	return n;
}

/*
 * set_height
 *		Compute n's height from its children; refuse trees deeper than
 *		DSL_MAX_DEPTH (54001).
 */
static DslNode *
set_height(DslParser *p, DslNode *n)
{
	int			h = 0;
	ListCell   *lc;

	if (n->left)
		h = Max(h, n->left->height);
	if (n->right)
		h = Max(h, n->right->height);
	if (n->third)
		h = Max(h, n->third->height);
	if (n->filter)
		h = Max(h, n->filter->height);
	foreach(lc, n->args)
		h = Max(h, ((DslNode *) lfirst(lc))->height);
	n->height = h + 1;
	if (n->height > DSL_MAX_DEPTH)
		dsl_error(&p->lex, ERRCODE_STATEMENT_TOO_COMPLEX, n->pos, n->bpos,
				  "expression too deeply nested",
				  psprintf("The syntax tree is deeper than %d levels here.", DSL_MAX_DEPTH),
				  "Split the definition into several measures, or write a long sum of terms with fewer levels.");
	return n;
}

/*
 * enter / leave
 *		Bound the recursion of the parser (54001 beyond DSL_MAX_DEPTH).
 */
static void
enter(DslParser *p)
{
	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	if (++p->depth > DSL_MAX_DEPTH)
		dsl_error(&p->lex, ERRCODE_STATEMENT_TOO_COMPLEX, p->tok.pos, p->tok.bpos,
				  "expression too deeply nested",
				  psprintf("Parentheses and operators are nested more than %d levels here.", DSL_MAX_DEPTH),
				  "Remove needless parentheses or split the definition.");
}

static inline void
leave(DslParser *p)
{
	p->depth--;
}

/*
 * binary
 *		A node with two operands, at the position of the left one.
 */
static DslNode *
binary(DslParser *p, DslKind kind, const char *op, DslNode *l, DslNode *r)
{
	DslNode    *n = palloc0(sizeof(DslNode));

	n->kind = kind;
	n->pos = l->pos;
	n->bpos = l->bpos;
	n->str = pstrdup(op);
	n->left = l;
	n->right = r;
	return set_height(p, n);
}

/* ---- grammar ---- */

/*
 * parse_length
 *		"n unit" of a window (1 <= n <= 100000) into n->wn and n->wunit.
 */
static void
parse_length(DslParser *p, DslNode *n, const char *hint)
{
	int			i;
	char	   *end;
	long		v;

	if (p->tok.kind != DT_NUMBER || strspn(p->tok.text, "0123456789") != strlen(p->tok.text))
		unexpected(p, "a whole number of time units after \"within\"", hint);
	errno = 0;
	v = strtol(p->tok.text, &end, 10);
	if (errno != 0 || v < 1 || v > 100000)
		dsl_error(&p->lex, ERRCODE_SYNTAX_ERROR, p->tok.pos, p->tok.bpos, "syntax error",
				  "The length of a window must be between 1 and 100000 units.", hint);
	n->wn = v;
	advance(p);
	if (p->tok.kind == DT_IDENT && !p->tok.quoted)
		for (i = 0; unit_names[i][0]; i++)
			if (strcmp(p->tok.text, unit_names[i][0]) == 0)
			{
				n->wunit = pstrdup(unit_names[i][1]);
				break;
			}
	if (n->wunit == NULL)
		unexpected(p, "a time unit (hours, days, weeks, months, years)", hint);
	advance(p);
}

/*
 * parse_window
 *		After an aggregate call: "within n unit" or "between 'a' and 'b'",
 *		the current token being within or between.
 */
static void
parse_window(DslParser *p, DslNode *call)
{
	call->has_window = true;
	call->wpos = p->tok.pos;
	call->wbpos = p->tok.bpos;
	if (is_kw(&p->tok, "within"))
	{
		advance(p);
		parse_length(p, call, WINDOW_HINT);
		return;
	}
	if (is_word(&p->tok, "since"))
	{
		advance(p);
		if (!is_word(&p->tok, "entry"))
			unexpected(p, "\"entry\" after \"since\"",
					   "Write \"since entry\": the activities since the customer entered the journey (journey conditions only).");
		call->wsince = true;
		advance(p);
		return;
	}
	/* between 'from' and 'to' */
	advance(p);
	if (p->tok.kind != DT_STRING)
		unexpected(p, "a date string: a \"between\" right after an aggregate call is its window",
				   "Write a window as \"between '2026-01-01' and '2026-06-30'\"; to compare an aggregate, parenthesise it: (count(purchase)) between 1 and 5.");
	call->wfrom = p->tok.text;
	advance(p);
	if (!is_kw(&p->tok, "and"))
		unexpected(p, "\"and\" in a window", WINDOW_HINT);
	advance(p);
	if (p->tok.kind != DT_STRING)
		unexpected(p, "a date string", WINDOW_HINT);
	call->wto = p->tok.text;
	advance(p);
}

/*
 * parse_call
 *		The argument list of a call to name (node n already made), the
 *		current token being the opening parenthesis.
 */
static void
parse_call(DslParser *p, DslNode *n)
{
	advance(p);					/* ( */
	if (is_op(&p->tok, ")"))
	{
		advance(p);
		return;
	}
	if (is_kw(&p->tok, "distinct"))
	{
		n->distinct = true;
		advance(p);
	}
	n->args = lappend(n->args, parse_expr(p));
	if (is_kw(&p->tok, "where"))
	{
		advance(p);
		n->filter = parse_expr(p);
	}
	while (is_op(&p->tok, ","))
	{
		advance(p);
		n->args = lappend(n->args, parse_expr(p));
	}
	if (!is_op(&p->tok, ")"))
		unexpected(p, "\",\" or \")\" in the arguments of a call",
				   "Write a call as f(x), an aggregate as sum(purchase.amount where category = 'shoes').");
	advance(p);
}

/*
 * parse_segment
 *		"segment 'name'", the current token being the word segment.
 */
static DslNode *
parse_segment(DslParser *p)
{
	DslNode    *n = new_node(DN_SEGMENT, &p->tok);

	advance(p);
	if (p->tok.kind != DT_STRING)
		unexpected(p, "the name of a segment as a string", "Write a segment reference as segment 'vip'.");
	if (p->tok.text[0] == '\0')
		dsl_error(&p->lex, ERRCODE_SYNTAX_ERROR, p->tok.pos, p->tok.bpos, "syntax error",
				  "The name of a segment is empty.", "Write a segment reference as segment 'vip'.");
	n->str = p->tok.text;
	advance(p);
	return n;
}

/*
 * parse_exists
 *		"exists(activity [where condition] [window])", the current token
 *		being the word exists: a call named exists whose one argument is
 *		the activity.
 */
static DslNode *
parse_exists(DslParser *p)
{
	DslNode    *n = new_node(DN_CALL, &p->tok);
	DslNode    *a;

	n->str = pstrdup("exists");
	advance(p);					/* exists */
	advance(p);					/* ( */
	enter(p);
	if (p->tok.kind != DT_IDENT)
		unexpected(p, "the name of an activity", "Write exists(purchase within 7 days) or exists(page_view where url like '%/cart%').");
	a = new_node(DN_COLUMN, &p->tok);
	a->str = p->tok.text;
	n->args = list_make1(a);
	advance(p);
	if (is_kw(&p->tok, "where"))
	{
		advance(p);
		n->filter = parse_expr(p);
	}
	if (is_kw(&p->tok, "within") || is_kw(&p->tok, "between") || is_word(&p->tok, "since"))
		parse_window(p, n);
	leave(p);
	if (!is_op(&p->tok, ")"))
		unexpected(p, "\")\" after the activity of exists", "Write exists(purchase within 7 days) or exists(page_view where url like '%/cart%').");
	advance(p);
	return set_height(p, n);
}

/*
 * parse_primary
 *		A literal, a name, a call or a parenthesised expression, with the
 *		window of an aggregate call.
 */
static DslNode *
parse_primary(DslParser *p)
{
	DslToken	t = p->tok;
	DslNode    *n;

	switch (t.kind)
	{
		case DT_NUMBER:
			n = new_node(DN_NUMBER, &t);
			n->str = t.text;
			advance(p);
			return n;
		case DT_STRING:
			n = new_node(DN_STRING, &t);
			n->str = t.text;
			advance(p);
			return n;
		case DT_KEYWORD:
			if (is_kw(&t, "true") || is_kw(&t, "false"))
			{
				n = new_node(DN_BOOL, &t);
				n->str = t.text;
				advance(p);
				return n;
			}
			if (is_kw(&t, "null"))
			{
				n = new_node(DN_NULL, &t);
				advance(p);
				return n;
			}
			if (is_kw(&t, "in"))
			{
				/* in segment 'name' */
				advance(p);
				if (!is_word(&p->tok, "segment"))
					unexpected(p, "\"segment\" after \"in\" at the start of a condition",
							   "Write a segment reference as in segment 'vip'.");
				n = parse_segment(p);
				n->pos = t.pos;
				n->bpos = t.bpos;
				return n;
			}
			unexpected(p, "a value, a name or \"(\"",
					   psprintf("\"%s\" is a reserved word; to use it as a name, write it in double quotes: \"%s\".", t.text, t.text));
			break;
		case DT_IDENT:
			if (!t.quoted)
			{
				DslToken	next;

				peek(p, &next);
				if (next.kind == DT_STRING &&
					(is_word(&t, "date") || is_word(&t, "interval") || is_word(&t, "timestamp")))
				{
					n = new_node(DN_TYPED, &t);
					n->qualifier = t.text;
					n->str = next.text;
					advance(p);
					advance(p);
					return n;
				}
				if (next.kind == DT_STRING && is_word(&t, "segment"))
					return parse_segment(p);
				if (is_word(&t, "exists") && next.kind == DT_OP && strcmp(next.text, "(") == 0)
					return parse_exists(p);
			}
			advance(p);
			if (is_op(&p->tok, "("))
			{
				n = new_node(DN_CALL, &t);
				n->str = t.text;
				enter(p);
				parse_call(p, n);
				leave(p);
				if (dsl_is_aggregate_name(n->str) &&
					(is_kw(&p->tok, "within") || is_kw(&p->tok, "between") ||
					 is_word(&p->tok, "since")))
					parse_window(p, n);
				else if (is_kw(&p->tok, "within"))
					dsl_error(&p->lex, ERRCODE_UNDEFINED_FUNCTION, n->pos, n->bpos,
							  psprintf("unknown aggregate \"%s\"", n->str),
							  "Only an aggregate call takes a window.",
							  "Aggregates: count, sum, avg, min, max, first, last, argmax, argmin, top.");
				return set_height(p, n);
			}
			n = new_node(DN_COLUMN, &t);
			n->str = t.text;
			if (is_op(&p->tok, "."))
			{
				advance(p);
				if (p->tok.kind != DT_IDENT)
					unexpected(p, "a column name after \".\"",
							   "Write a column of an activity as activity.column, e.g. purchase.amount.");
				n->qualifier = n->str;
				n->str = p->tok.text;
				advance(p);
			}
			return n;
		case DT_OP:
			if (is_op(&t, "("))
			{
				advance(p);
				n = parse_expr(p);
				expect_op(p, ")", "Close every \"(\" with a \")\".");
				return n;
			}
			break;
		default:
			break;
	}
	unexpected(p, "a value, a name or \"(\"", NULL);
	return NULL;				/* keep the compiler quiet */
}

/*
 * parse_unary
 *		Unary minus (right-recursive) over a primary.
 */
static DslNode *
parse_unary(DslParser *p)
{
	if (is_op(&p->tok, "-"))
	{
		DslNode    *n = new_node(DN_UNARY, &p->tok);

		n->str = pstrdup("-");
		advance(p);
		enter(p);
		n->left = parse_unary(p);
		leave(p);
		return set_height(p, n);
	}
	return parse_primary(p);
}

/*
 * A level of left-associative binary operators: the tokens that join its
 * operands (operators, reserved words or words in context), the kind of
 * node they make, and the level below.
 */
typedef struct ChainLevel
{
	DslTokenKind token;			/* DT_OP, DT_KEYWORD or DT_IDENT (a word) */
	const char *const *ops;		/* spellings, NULL-terminated */
	DslKind		kind;
	DslNode    *(*operand) (DslParser *p);
} ChainLevel;

/*
 * chain_op
 *		The spelling of level's operator at the current token, or NULL.
 */
static const char *
chain_op(DslParser *p, const ChainLevel *level)
{
	int			i;

	if (p->tok.kind != level->token || (level->token == DT_IDENT && p->tok.quoted))
		return NULL;
	for (i = 0; level->ops[i]; i++)
		if (strcmp(p->tok.text, level->ops[i]) == 0)
			return level->ops[i];
	return NULL;
}

/*
 * parse_chain
 *		operand { op operand } for one level, left-associative.
 */
static DslNode *
parse_chain(DslParser *p, const ChainLevel *level)
{
	DslNode    *n = level->operand(p);
	const char *op;

	while ((op = chain_op(p, level)) != NULL)
	{
		advance(p);
		n = binary(p, level->kind, op, n, level->operand(p));
	}
	return n;
}

static const char *const mul_ops[] = {"*", "/", "%", NULL};
static const char *const add_ops[] = {"+", "-", NULL};
static const char *const and_ops[] = {"and", NULL};
static const char *const or_ops[] = {"or", NULL};
static const char *const intersect_ops[] = {"intersect", NULL};

/* products: * / % */
static DslNode *
parse_mul(DslParser *p)
{
	static const ChainLevel level = {DT_OP, mul_ops, DN_BINARY, parse_unary};

	return parse_chain(p, &level);
}

/* sums: + - */
static DslNode *
parse_add(DslParser *p)
{
	static const ChainLevel level = {DT_OP, add_ops, DN_BINARY, parse_mul};

	return parse_chain(p, &level);
}


/*
 * parse_cmp
 *		An optional comparison after a sum: =, <>, like, in, between, is
 *		null and their negations.  Comparisons do not chain.
 */
static DslNode *
parse_cmp(DslParser *p)
{
	DslNode    *l = parse_add(p);
	DslNode    *n;
	bool		negated = false;
	DslToken	next;

	if (p->tok.kind == DT_OP &&
		(is_op(&p->tok, "=") || is_op(&p->tok, "<>") || is_op(&p->tok, "!=") ||
		 is_op(&p->tok, "<") || is_op(&p->tok, "<=") || is_op(&p->tok, ">") ||
		 is_op(&p->tok, ">=")))
	{
		const char *op = is_op(&p->tok, "!=") ? "<>" : p->tok.text;

		advance(p);
		return binary(p, DN_COMPARE, op, l, parse_add(p));
	}
	if (is_word(&p->tok, "before") || is_word(&p->tok, "after"))
	{
		const char *op = is_word(&p->tok, "before") ? "<" : ">";

		advance(p);
		return binary(p, DN_COMPARE, op, l, parse_add(p));
	}
	if (is_word(&p->tok, "contains"))
	{
		advance(p);
		return binary(p, DN_TEXTOP, "contains", l, parse_add(p));
	}
	if (is_word(&p->tok, "starts") || is_word(&p->tok, "ends"))
	{
		const char *op = is_word(&p->tok, "starts") ? "starts with" : "ends with";

		peek(p, &next);
		if (is_word(&next, "with"))
		{
			advance(p);
			advance(p);
			return binary(p, DN_TEXTOP, op, l, parse_add(p));
		}
	}
	if (is_kw(&p->tok, "within"))
	{
		/* a date or time: within next|last n unit */
		advance(p);
		if (!is_word(&p->tok, "next") && !is_word(&p->tok, "last"))
			unexpected(p, "\"next\" or \"last\" after \"within\"",
					   "Only an aggregate call takes a window (count(purchase) within 7 days); a date takes \"within next 14 days\" or \"within last 30 days\".");
		n = binary(p, DN_DATEWIN, p->tok.text, l, NULL);
		advance(p);
		parse_length(p, n, "Write birth_date within next 14 days or signup_date within last 30 days.");
		return n;
	}
	if (is_kw(&p->tok, "is"))
	{
		advance(p);
		n = binary(p, DN_ISNULL, "is", l, NULL);
		n->str = NULL;
		if (is_kw(&p->tok, "not"))
		{
			n->negated = true;
			advance(p);
		}
		if (!is_kw(&p->tok, "null"))
			unexpected(p, "\"null\" after \"is\"", "Write \"x is null\" or \"x is not null\".");
		advance(p);
		return n;
	}
	if (is_kw(&p->tok, "not"))
	{
		peek(p, &next);
		if (!(is_kw(&next, "like") || is_kw(&next, "ilike") || is_kw(&next, "in") ||
			  is_kw(&next, "between")))
			return l;			/* the caller reports the stray "not" */
		negated = true;
		advance(p);
	}
	if (is_kw(&p->tok, "like") || is_kw(&p->tok, "ilike"))
	{
		char	   *op = p->tok.text;

		advance(p);
		n = binary(p, DN_LIKE, op, l, parse_add(p));
		n->negated = negated;
		return n;
	}
	if (is_kw(&p->tok, "in"))
	{
		advance(p);
		n = binary(p, DN_IN, "in", l, NULL);
		n->str = NULL;
		n->negated = negated;
		expect_op(p, "(", "Write a list as x in ('a', 'b').");
		enter(p);
		n->args = lappend(n->args, parse_expr(p));
		while (is_op(&p->tok, ","))
		{
			advance(p);
			n->args = lappend(n->args, parse_expr(p));
		}
		leave(p);
		expect_op(p, ")", "Write a list as x in ('a', 'b').");
		return set_height(p, n);
	}
	if (is_kw(&p->tok, "between"))
	{
		DslNode    *low;

		advance(p);
		low = parse_add(p);
		if (!is_kw(&p->tok, "and"))
			unexpected(p, "\"and\" in \"between ... and ...\"", "Write \"x between 1 and 5\".");
		advance(p);
		n = binary(p, DN_BETWEEN, "between", l, low);
		n->str = NULL;
		n->negated = negated;
		n->third = parse_add(p);
		return set_height(p, n);
	}
	return l;
}

/*
 * parse_not
 *		Negation (right-recursive) over a comparison.
 */
static DslNode *
parse_not(DslParser *p)
{
	if (is_kw(&p->tok, "not"))
	{
		DslNode    *n = new_node(DN_NOT, &p->tok);

		advance(p);
		enter(p);
		n->left = parse_not(p);
		leave(p);
		return set_height(p, n);
	}
	return parse_cmp(p);
}

/* conjunctions */
static DslNode *
parse_and(DslParser *p)
{
	static const ChainLevel level = {DT_KEYWORD, and_ops, DN_LOGICAL, parse_not};

	return parse_chain(p, &level);
}

/* disjunctions */
static DslNode *
parse_or(DslParser *p)
{
	static const ChainLevel level = {DT_KEYWORD, or_ops, DN_LOGICAL, parse_and};

	return parse_chain(p, &level);
}

/* intersections of conditions or segments */
static DslNode *
parse_intersect(DslParser *p)
{
	static const ChainLevel level = {DT_IDENT, intersect_ops, DN_SETOP, parse_or};

	return parse_chain(p, &level);
}

/*
 * parse_expr
 *		A full expression: unions and differences (lowest precedence,
 *		left-associative) of intersections.
 */
static DslNode *
parse_expr(DslParser *p)
{
	DslNode    *n;

	enter(p);
	n = parse_intersect(p);
	while (is_word(&p->tok, "union") || is_word(&p->tok, "except"))
	{
		const char *op = p->tok.text;

		advance(p);
		n = binary(p, DN_SETOP, op, n, parse_intersect(p));
	}
	leave(p);
	return n;
}

/*
 * dsl_parse
 *		Parse the whole definition of an initialised lexer; returns the
 *		tree.  Anything after the expression is a syntax error.
 */
DslNode *
dsl_parse(DslLexer *lex)
{
	DslParser	p;
	DslNode    *n;

	p.lex = *lex;
	p.depth = 0;
	advance(&p);
	if (p.tok.kind == DT_EOF)
		dsl_error(&p.lex, ERRCODE_SYNTAX_ERROR, p.tok.pos, p.tok.bpos, "syntax error",
				  "The definition is empty.",
				  "Write an expression, e.g. sum(purchase.amount) within 365 days.");
	n = parse_expr(&p);
	if (p.tok.kind != DT_EOF)
		unexpected(&p, "an operator or the end of the definition", NULL);
	*lex = p.lex;
	return n;
}

/* ---- jsonb form ---- */

/*
 * json_str
 *		Append "key": "value" (escaped) and a comma.
 */
static void
json_str(StringInfo out, const char *key, const char *value)
{
	appendStringInfo(out, ",\"%s\":", key);
	if (value)
		escape_json(out, value);
	else
		appendStringInfoString(out, "null");
}

/*
 * dsl_node_to_json
 *		Append the JSON text of a syntax tree: an object per node with
 *		"kind" and "pos" and the fields of its kind (see the README).
 */
void
dsl_node_to_json(StringInfo out, const DslNode *n)
{
	static const char *const kinds[] = {
		"number", "string", "bool", "null", "column", "unary", "not", "logical",
		"binary", "compare", "like", "in", "between", "isnull", "call",
		"typed", "segment", "setop", "datewindow", "textop"
	};
	ListCell   *lc;
	bool		first = true;

	check_stack_depth();
	appendStringInfo(out, "{\"kind\":\"%s\",\"pos\":%d", kinds[n->kind], n->pos);
	switch (n->kind)
	{
		case DN_NUMBER:
			/* a valid JSON number: digits, no leading zero issues matter */
			appendStringInfoString(out, ",\"value\":");
			{
				Datum		num = DirectFunctionCall3(numeric_in, CStringGetDatum(n->str),
													  ObjectIdGetDatum(InvalidOid),
													  Int32GetDatum(-1));

				appendStringInfoString(out, DatumGetCString(DirectFunctionCall1(numeric_out, num)));
			}
			break;
		case DN_STRING:
			json_str(out, "value", n->str);
			break;
		case DN_BOOL:
			appendStringInfo(out, ",\"value\":%s", n->str);
			break;
		case DN_NULL:
			break;
		case DN_COLUMN:
			json_str(out, "name", n->str);
			if (n->qualifier)
				json_str(out, "qualifier", n->qualifier);
			break;
		case DN_UNARY:
		case DN_NOT:
			if (n->kind == DN_UNARY)
				json_str(out, "op", n->str);
			appendStringInfoString(out, ",\"arg\":");
			dsl_node_to_json(out, n->left);
			break;
		case DN_TYPED:
			json_str(out, "type", n->qualifier);
			json_str(out, "value", n->str);
			break;
		case DN_SEGMENT:
			json_str(out, "name", n->str);
			break;
		case DN_DATEWIN:
			json_str(out, "direction", n->str);
			appendStringInfo(out, ",\"n\":" INT64_FORMAT ",\"unit\":\"%s\",\"arg\":", n->wn, n->wunit);
			dsl_node_to_json(out, n->left);
			break;
		case DN_SETOP:
		case DN_TEXTOP:
		case DN_LOGICAL:
		case DN_BINARY:
		case DN_COMPARE:
			json_str(out, "op", n->str);
			appendStringInfoString(out, ",\"left\":");
			dsl_node_to_json(out, n->left);
			appendStringInfoString(out, ",\"right\":");
			dsl_node_to_json(out, n->right);
			break;
		case DN_LIKE:
			json_str(out, "op", n->str);
			appendStringInfo(out, ",\"negated\":%s,\"arg\":", n->negated ? "true" : "false");
			dsl_node_to_json(out, n->left);
			appendStringInfoString(out, ",\"pattern\":");
			dsl_node_to_json(out, n->right);
			break;
		case DN_IN:
			appendStringInfo(out, ",\"negated\":%s,\"arg\":", n->negated ? "true" : "false");
			dsl_node_to_json(out, n->left);
			appendStringInfoString(out, ",\"list\":[");
			foreach(lc, n->args)
			{
				if (!first)
					appendStringInfoChar(out, ',');
				first = false;
				dsl_node_to_json(out, lfirst(lc));
			}
			appendStringInfoChar(out, ']');
			break;
		case DN_BETWEEN:
			appendStringInfo(out, ",\"negated\":%s,\"arg\":", n->negated ? "true" : "false");
			dsl_node_to_json(out, n->left);
			appendStringInfoString(out, ",\"low\":");
			dsl_node_to_json(out, n->right);
			appendStringInfoString(out, ",\"high\":");
			dsl_node_to_json(out, n->third);
			break;
		case DN_ISNULL:
			appendStringInfo(out, ",\"negated\":%s,\"arg\":", n->negated ? "true" : "false");
			dsl_node_to_json(out, n->left);
			break;
		case DN_CALL:
			json_str(out, "name", n->str);
			appendStringInfo(out, ",\"distinct\":%s,\"args\":[", n->distinct ? "true" : "false");
			foreach(lc, n->args)
			{
				if (!first)
					appendStringInfoChar(out, ',');
				first = false;
				dsl_node_to_json(out, lfirst(lc));
			}
			appendStringInfoString(out, "],\"filter\":");
			if (n->filter)
				dsl_node_to_json(out, n->filter);
			else
				appendStringInfoString(out, "null");
			appendStringInfoString(out, ",\"window\":");
			if (!n->has_window)
				appendStringInfoString(out, "null");
			else if (n->wsince)
				appendStringInfo(out, "{\"pos\":%d,\"since\":\"entry\"}", n->wpos);
			else if (n->wunit)
				appendStringInfo(out, "{\"pos\":%d,\"n\":" INT64_FORMAT ",\"unit\":\"%s\"}",
								 n->wpos, n->wn, n->wunit);
			else
			{
				appendStringInfo(out, "{\"pos\":%d", n->wpos);
				json_str(out, "from", n->wfrom);
				json_str(out, "to", n->wto);
				appendStringInfoChar(out, '}');
			}
			break;
	}
	appendStringInfoChar(out, '}');
}

/*
 * cdp_parse_expression
 *		SQL function cdp.parse_expression(definition text) returns jsonb:
 *		the syntax tree of a definition.  Syntax errors are 42601, trees
 *		too deep 54001.
 */
Datum
cdp_parse_expression(PG_FUNCTION_ARGS)
{
	text	   *def = PG_GETARG_TEXT_PP(0);
	char	   *src = text_to_cstring(def);
	DslLexer	lex;
	DslNode    *tree;
	StringInfoData out;

	dsl_lexer_init(&lex, src, strlen(src), "expression");
	tree = dsl_parse(&lex);
	initStringInfo(&out);
	dsl_node_to_json(&out, tree);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}
