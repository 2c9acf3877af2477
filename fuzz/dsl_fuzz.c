/*-------------------------------------------------------------------------
 *
 * dsl_fuzz.c
 *	  libFuzzer target for the lexer and parser of the expression language
 *	  (src/dsl_lex.c, src/dsl_parse.c), built outside the server with the
 *	  stand-in backend of shim.c.  See fuzz/run.sh (make fuzz).
 *
 * Each input is one definition, as cdp.parse_expression would receive it:
 * text of a UTF-8 database, so inputs with a NUL byte or invalid UTF-8 are
 * rejected (returned -1: not run, not kept in the corpus).  So that the
 * fuzzer does not waste its time on those, a custom mutator runs libFuzzer's
 * own mutations (dictionary included) and then repairs the result into valid
 * UTF-8 without a NUL.
 *
 * The harness knows nothing of the grammar: it lexes and parses the input
 * and prints the tree with dsl_node_to_json, all under sigsetjmp so that an
 * ereport(ERROR) comes back here, then frees everything the input allocated.
 *
 * Besides what the sanitizers and libFuzzer catch (crashes, memory errors,
 * undefined behaviour, leaks, timeouts), the harness aborts on:
 * - an internal error (SQLSTATE class XX: elog's "cannot happen") or an
 *	 error without a message;
 * - a tree whose JSON is not valid JSON or not valid UTF-8 (jsonb_in
 *	 would refuse what cdp.parse_expression returns).
 * Error texts (message, detail, hint) that are not valid UTF-8 are counted
 * as text defects without stopping the run; the shortest such input is
 * written to $DSL_FUZZ_DEFECT_FILE, and the count is printed at exit.
 *
 * With DSL_FUZZ_PRINT=1 in the environment each input's JSON or error is
 * printed to stdout: `DSL_FUZZ_PRINT=1 fuzz/out/dsl_fuzz file...` shows what
 * a reproducer does.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"

#include "dsl.h"
#include "shim.h"

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t		LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
									unsigned int seed);
size_t		LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

#define MAX_SQLSTATES 32
#define JSON_MAX_DEPTH 10000

/* what the run did, printed at exit */
static struct
{
	uint64		inputs;			/* run (not rejected) */
	uint64		parsed;
	uint64		errors;
	uint64		rejected;		/* NUL byte or invalid UTF-8 */
	uint64		text_defects;
	int			nstates;
	int			states[MAX_SQLSTATES];
	uint64		state_count[MAX_SQLSTATES];
} stats;

static bool print_mode;
static const char *defect_file;
static size_t shortest_defect = SIZE_MAX;

/* ---- reporting ---- */

/*
 * sqlstate_text
 *		The five characters of a MAKE_SQLSTATE code, in buf (6 bytes).
 */
static char *
sqlstate_text(int code, char *buf)
{
	int			i;

	for (i = 0; i < 5; i++)
	{
		buf[i] = PGUNSIXBIT(code);
		code >>= 6;
	}
	buf[5] = '\0';
	return buf;
}

/*
 * print_input
 *		The input on stderr, bytes outside printable ASCII as \xNN, cut after
 *		600 bytes.
 */
static void
print_input(const char *data, size_t size)
{
	size_t		i;

	fprintf(stderr, "input (%zu bytes): ", size);
	for (i = 0; i < size && i < 600; i++)
	{
		unsigned char c = (unsigned char) data[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fprintf(stderr, "%s\n", i < size ? "..." : "");
}

/*
 * failure
 *		A broken property of the parser: print it with the input and abort,
 *		so that libFuzzer keeps the input as a crash artifact.
 */
static void
failure(const char *what, const char *data, size_t size, const char *text)
{
	fprintf(stderr, "\ndsl_fuzz: FAILURE: %s\n", what);
	print_input(data, size);
	if (text)
		fprintf(stderr, "text: %.2000s\n", text);
	abort();
}

/*
 * print_stats
 *		At exit: what the inputs gave, on stderr, in one line.
 */
static void
print_stats(void)
{
	int			i;
	char		buf[6];

	fprintf(stderr, "dsl_fuzz: %llu inputs: %llu parsed, %llu errors (",
			(unsigned long long) stats.inputs, (unsigned long long) stats.parsed,
			(unsigned long long) stats.errors);
	for (i = 0; i < stats.nstates; i++)
		fprintf(stderr, "%s%s: %llu", i ? ", " : "",
				sqlstate_text(stats.states[i], buf),
				(unsigned long long) stats.state_count[i]);
	fprintf(stderr, "), %llu rejected (NUL or not UTF-8), %llu text defects, deepest stack %zu kB\n",
			(unsigned long long) stats.rejected,
			(unsigned long long) stats.text_defects,
			(fuzz_max_stack_depth() + 1023) / 1024);
}

/*
 * count_state
 *		Count an error's SQLSTATE.
 */
static void
count_state(int code)
{
	int			i;

	for (i = 0; i < stats.nstates; i++)
		if (stats.states[i] == code)
		{
			stats.state_count[i]++;
			return;
		}
	if (stats.nstates < MAX_SQLSTATES)
	{
		stats.states[stats.nstates] = code;
		stats.state_count[stats.nstates++] = 1;
	}
}

/* ---- checks ---- */

/*
 * valid_utf8
 *		Whether the NUL-terminated s is valid UTF-8 (as the server checks
 *		text input).
 */
static bool
valid_utf8(const char *s)
{
	int			len = (int) strlen(s);

	return pg_encoding_verifymbstr(PG_UTF8, s, len) == len;
}

typedef struct JsonCursor
{
	const char *p;
	const char *end;
} JsonCursor;

static bool json_value(JsonCursor *c, int depth);

/* skip JSON white space */
static void
json_space(JsonCursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/*
 * json_string
 *		A string at c->p (on its opening quote): no raw control characters,
 *		only the escapes JSON defines.
 */
static bool
json_string(JsonCursor *c)
{
	c->p++;
	while (c->p < c->end)
	{
		unsigned char ch = (unsigned char) *c->p++;

		if (ch == '"')
			return true;
		if (ch < 0x20)
			return false;
		if (ch == '\\')
		{
			int			i;

			if (c->p >= c->end)
				return false;
			ch = (unsigned char) *c->p++;
			if (ch == 'u')
			{
				for (i = 0; i < 4; i++)
					if (c->p >= c->end || !isxdigit((unsigned char) *c->p++))
						return false;
			}
			else if (strchr("\"\\/bfnrt", ch) == NULL || ch == '\0')
				return false;
		}
	}
	return false;
}

/*
 * json_digits
 *		One or more digits.
 */
static bool
json_digits(JsonCursor *c)
{
	const char *start = c->p;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	return c->p > start;
}

/*
 * json_number
 *		-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
 */
static bool
json_number(JsonCursor *c)
{
	if (*c->p == '-')
		c->p++;
	if (c->p < c->end && *c->p == '0')
		c->p++;
	else if (!json_digits(c))
		return false;
	if (c->p < c->end && *c->p == '.')
	{
		c->p++;
		if (!json_digits(c))
			return false;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E'))
	{
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (!json_digits(c))
			return false;
	}
	return true;
}

/*
 * json_word
 *		The literal w (true, false, null).
 */
static bool
json_word(JsonCursor *c, const char *w)
{
	size_t		l = strlen(w);

	if ((size_t) (c->end - c->p) < l || memcmp(c->p, w, l) != 0)
		return false;
	c->p += l;
	return true;
}

/*
 * json_container
 *		An object ({"k": v, ...}) or an array ([v, ...]) at c->p.
 */
static bool
json_container(JsonCursor *c, int depth)
{
	char		close = *c->p == '{' ? '}' : ']';
	bool		object = close == '}';

	c->p++;
	json_space(c);
	if (c->p < c->end && *c->p == close)
	{
		c->p++;
		return true;
	}
	for (;;)
	{
		if (object)
		{
			json_space(c);
			if (c->p >= c->end || *c->p != '"' || !json_string(c))
				return false;
			json_space(c);
			if (c->p >= c->end || *c->p++ != ':')
				return false;
		}
		if (!json_value(c, depth + 1))
			return false;
		json_space(c);
		if (c->p >= c->end)
			return false;
		if (*c->p == close)
		{
			c->p++;
			return true;
		}
		if (*c->p++ != ',')
			return false;
	}
}

/*
 * json_value
 *		Any JSON value at c->p, nested at most JSON_MAX_DEPTH deep.
 */
static bool
json_value(JsonCursor *c, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return false;
	json_space(c);
	if (c->p >= c->end)
		return false;
	switch (*c->p)
	{
		case '{':
		case '[':
			return json_container(c, depth);
		case '"':
			return json_string(c);
		case 't':
			return json_word(c, "true");
		case 'f':
			return json_word(c, "false");
		case 'n':
			return json_word(c, "null");
		default:
			return json_number(c);
	}
}

/*
 * valid_json
 *		Whether text (len bytes) is exactly one JSON value.
 */
static bool
valid_json(const char *text, int len)
{
	JsonCursor	c;

	c.p = text;
	c.end = text + len;
	if (!json_value(&c, 0))
		return false;
	json_space(&c);
	return c.p == c.end;
}

/*
 * check_error
 *		Properties of the error an input raised: a message, a SQLSTATE that
 *		is not an internal error, and texts in valid UTF-8 (a text defect
 *		otherwise, counted and saved, not fatal).
 */
static void
check_error(const FuzzError *e, const char *data, size_t size)
{
	char		buf[6];
	const char *bad = NULL;

	if (e->message == NULL)
		failure("an error without a message", data, size, NULL);
	if (ERRCODE_TO_CATEGORY(e->sqlerrcode) == ERRCODE_INTERNAL_ERROR)
	{
		fprintf(stderr, "\ndsl_fuzz: internal error %s at %s:%d (%s)\n",
				sqlstate_text(e->sqlerrcode, buf), e->filename, e->lineno, e->funcname);
		failure("an internal error (SQLSTATE class XX)", data, size, e->message);
	}
	if (!valid_utf8(e->message))
		bad = "errmsg";
	else if (e->detail && !valid_utf8(e->detail))
		bad = "errdetail";
	else if (e->hint && !valid_utf8(e->hint))
		bad = "errhint";
	if (bad == NULL)
		return;
	if (stats.text_defects++ == 0)
	{
		fprintf(stderr, "\ndsl_fuzz: text defect: the %s of error %s is not valid UTF-8 (%s:%d)\n",
				bad, sqlstate_text(e->sqlerrcode, buf), e->filename, e->lineno);
		print_input(data, size);
	}
	if (defect_file && size < shortest_defect)
	{
		FILE	   *f = fopen(defect_file, "wb");

		shortest_defect = size;
		if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
			fprintf(stderr, "dsl_fuzz: cannot write %s\n", defect_file);
	}
}

/*
 * print_result
 *		DSL_FUZZ_PRINT mode: the JSON, or the error's fields, on stdout.
 */
static void
print_result(const char *json, const FuzzError *e)
{
	char		buf[6];

	if (json)
		printf("OK %s\n", json);
	else
		printf("ERROR %s %s\nDETAIL %s\nHINT %s\n", sqlstate_text(e->sqlerrcode, buf),
			   e->message ? e->message : "(none)", e->detail ? e->detail : "(none)",
			   e->hint ? e->hint : "(none)");
	fflush(stdout);
}

/* ---- libFuzzer entry points ---- */

/*
 * LLVMFuzzerCustomMutator
 *		libFuzzer's mutation of data, then made valid UTF-8 in place: a NUL
 *		becomes a space, every byte that does not start a legal character
 *		loses its high bit (a space if nothing is left).  The size does not
 *		change.
 */
size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
						unsigned int seed)
{
	size_t		i = 0;

	size = LLVMFuzzerMutate(data, size, max_size);
	while (i < size)
	{
		int			l;

		if (data[i] < 0x80)
		{
			if (data[i] == 0)
				data[i] = ' ';
			i++;
			continue;
		}
		l = pg_utf_mblen(data + i);
		if (i + l <= size && pg_utf8_islegal(data + i, l))
		{
			i += l;
			continue;
		}
		data[i] &= 0x7f;
		if (data[i] == 0)
			data[i] = ' ';
		i++;
	}
	return size;
}

/*
 * LLVMFuzzerInitialize
 *		Read the environment, arrange for the statistics at exit.
 */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *p = getenv("DSL_FUZZ_PRINT");

	print_mode = p != NULL && strcmp(p, "1") == 0;
	defect_file = getenv("DSL_FUZZ_DEFECT_FILE");
	if (defect_file && defect_file[0] == '\0')
		defect_file = NULL;
	atexit(print_stats);
	return 0;
}

/*
 * LLVMFuzzerTestOneInput
 *		Lex, parse and print one definition; see the file header.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *bytes = (const char *) data;
	char	   *src;
	sigjmp_buf	jump;
	DslLexer	lex;
	DslNode    *tree;
	StringInfoData out;

	if (size > PG_INT32_MAX / 2 || memchr(bytes, '\0', size) != NULL ||
		pg_encoding_verifymbstr(PG_UTF8, bytes, (int) size) != (int) size)
	{
		stats.rejected++;
		return -1;
	}
	stats.inputs++;

	fuzz_begin_input();
	/* exactly size + 1 bytes, so reading past the NUL is caught */
	src = palloc(size + 1);
	memcpy(src, bytes, size);
	src[size] = '\0';

	if (sigsetjmp(jump, 0) == 0)
	{
		PG_exception_stack = &jump;
		dsl_lexer_init(&lex, src, (int) size, "expression");
		tree = dsl_parse(&lex);
		initStringInfo(&out);
		dsl_node_to_json(&out, tree);
		PG_exception_stack = NULL;

		stats.parsed++;
		if (!valid_json(out.data, out.len) || (int) strlen(out.data) != out.len)
			failure("the syntax tree's JSON is not valid JSON", bytes, size, out.data);
		if (!valid_utf8(out.data))
			failure("the syntax tree's JSON is not valid UTF-8", bytes, size, out.data);
		if (print_mode)
			print_result(out.data, NULL);
	}
	else
	{
		const FuzzError *e = fuzz_last_error();

		PG_exception_stack = NULL;
		stats.errors++;
		count_state(e->sqlerrcode);
		check_error(e, bytes, size);
		if (print_mode)
			print_result(NULL, e);
	}
	fuzz_end_input();
	return 0;
}
