/*-------------------------------------------------------------------------
 *
 * template_fuzz.c
 *	  libFuzzer target for the parser of the e-mail template language
 *	  (src/template.c compiled with -DCDP_TEMPLATE_PARSER_ONLY), built
 *	  outside the server with the stand-in backend of shim.c.  See
 *	  fuzz/run.sh (FUZZ_TARGET=template make fuzz).
 *
 * The shim cannot host jsonb (the renderer walks jsonb containers and
 * prints numerics with the server's numeric code), so this target fuzzes
 * the parser only: each input is parsed into the tree, the context paths
 * and coupon prefixes are listed as cdp.template_paths and
 * cdp.template_coupons would return them, and everything the input
 * allocated is freed.  Inputs are text of a UTF-8 database, so inputs with
 * a NUL byte or invalid UTF-8 are rejected (returned -1); a custom mutator
 * repairs libFuzzer's mutations into valid UTF-8 without a NUL so that
 * little time is spent on those.
 *
 * Besides what the sanitizers and libFuzzer catch (crashes, memory errors,
 * undefined behaviour, leaks, timeouts), the harness aborts on:
 * - an error without a message, or with a SQLSTATE other than 42601
 *	 (syntax), 54000 (too long) and 54001 (nested too deeply);
 * - a listed path that is not a dotted path of ASCII names, or a coupon
 *	 prefix that is not 1 to 32 of [A-Za-z0-9_-].
 * Error texts that are not valid UTF-8 are counted as text defects without
 * stopping the run; the shortest such input is written to
 * $TEMPLATE_FUZZ_DEFECT_FILE, and the count is printed at exit.
 *
 * With TEMPLATE_FUZZ_PRINT=1 each input's lists or error are printed to
 * stdout: `TEMPLATE_FUZZ_PRINT=1 fuzz/out/template_fuzz file...`.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/pg_list.h"

#include "shim.h"

/* from src/template.c */
typedef struct Template Template;
extern Template *cdp_template_parse(const char *src, int len);
extern List *cdp_template_names(Template *tpl, bool coupons);

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t		LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
									unsigned int seed);
size_t		LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

/* what the run did, printed at exit */
static struct
{
	uint64		inputs;			/* run (not rejected) */
	uint64		parsed;
	uint64		rejected;		/* NUL byte or invalid UTF-8 */
	uint64		text_defects;
	uint64		by_state[3];	/* 42601, 54000, 54001 */
	uint64		paths;			/* listed, in all */
	uint64		coupons;
} stats;

static bool print_mode;
static const char *defect_file;
static size_t shortest_defect = SIZE_MAX;

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
	fprintf(stderr, "\ntemplate_fuzz: FAILURE: %s\n", what);
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
	fprintf(stderr, "template_fuzz: %llu inputs: %llu parsed (%llu paths, %llu coupons listed), "
			"errors 42601: %llu, 54000: %llu, 54001: %llu, %llu rejected (NUL or not UTF-8), "
			"%llu text defects, deepest stack %zu kB\n",
			(unsigned long long) stats.inputs, (unsigned long long) stats.parsed,
			(unsigned long long) stats.paths, (unsigned long long) stats.coupons,
			(unsigned long long) stats.by_state[0], (unsigned long long) stats.by_state[1],
			(unsigned long long) stats.by_state[2], (unsigned long long) stats.rejected,
			(unsigned long long) stats.text_defects,
			(fuzz_max_stack_depth() + 1023) / 1024);
}

/*
 * valid_utf8
 *		Whether the NUL-terminated s is valid UTF-8.
 */
static bool
valid_utf8(const char *s)
{
	int			len = (int) strlen(s);

	return pg_encoding_verifymbstr(PG_UTF8, s, len) == len;
}

/*
 * valid_path
 *		name(.segment)*: name [A-Za-z_][A-Za-z0-9_]*, segments
 *		[A-Za-z0-9_]+.
 */
static bool
valid_path(const char *s)
{
	bool		seg_start = true;
	bool		first = true;

	if (*s == '\0')
		return false;
	for (; *s; s++)
	{
		char		c = *s;
		bool		word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			(c >= '0' && c <= '9');

		if (c == '.')
		{
			if (seg_start)
				return false;
			seg_start = true;
			first = false;
			continue;
		}
		if (!word || (first && seg_start && c >= '0' && c <= '9'))
			return false;
		seg_start = false;
	}
	return !seg_start;
}

/*
 * valid_prefix
 *		1 to 32 of [A-Za-z0-9_-].
 */
static bool
valid_prefix(const char *s)
{
	size_t		n = strlen(s);
	size_t		i;

	if (n == 0 || n > 32)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			  (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/*
 * check_error
 *		Properties of the error an input raised: a message, one of the
 *		three SQLSTATEs the parser documents, texts in valid UTF-8 (a text
 *		defect otherwise, counted and saved, not fatal).
 */
static void
check_error(const FuzzError *e, const char *data, size_t size)
{
	char		buf[6];
	const char *bad = NULL;

	if (e->message == NULL)
		failure("an error without a message", data, size, NULL);
	if (e->sqlerrcode == ERRCODE_SYNTAX_ERROR)
		stats.by_state[0]++;
	else if (e->sqlerrcode == ERRCODE_PROGRAM_LIMIT_EXCEEDED)
		stats.by_state[1]++;
	else if (e->sqlerrcode == ERRCODE_STATEMENT_TOO_COMPLEX)
		stats.by_state[2]++;
	else
	{
		fprintf(stderr, "\ntemplate_fuzz: error %s at %s:%d (%s)\n",
				sqlstate_text(e->sqlerrcode, buf), e->filename, e->lineno, e->funcname);
		failure("an error with an undocumented SQLSTATE", data, size, e->message);
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
		fprintf(stderr, "\ntemplate_fuzz: text defect: the %s of error %s is not valid UTF-8 (%s:%d)\n",
				bad, sqlstate_text(e->sqlerrcode, buf), e->filename, e->lineno);
		print_input(data, size);
	}
	if (defect_file && size < shortest_defect)
	{
		FILE	   *f = fopen(defect_file, "wb");

		shortest_defect = size;
		if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
			fprintf(stderr, "template_fuzz: cannot write %s\n", defect_file);
	}
}

/*
 * check_names
 *		Every listed name must pass "valid"; counts them into *count and
 *		prints them in print mode.
 */
static void
check_names(List *names, bool (*valid) (const char *), const char *what,
			uint64 *count, const char *data, size_t size)
{
	ListCell   *lc;

	if (print_mode)
		printf("%s:", what);
	foreach(lc, names)
	{
		const char *s = lfirst(lc);

		if (!valid(s))
			failure(psprintf("a listed %s is malformed", what), data, size, s);
		if (print_mode)
			printf(" %s", s);
		(*count)++;
	}
	if (print_mode)
		printf("\n");
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
	const char *p = getenv("TEMPLATE_FUZZ_PRINT");

	print_mode = p != NULL && strcmp(p, "1") == 0;
	defect_file = getenv("TEMPLATE_FUZZ_DEFECT_FILE");
	if (defect_file && defect_file[0] == '\0')
		defect_file = NULL;
	atexit(print_stats);
	return 0;
}

/*
 * LLVMFuzzerTestOneInput
 *		Parse one template and list its paths and coupons; see the file
 *		header.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *bytes = (const char *) data;
	char	   *src;
	sigjmp_buf	jump;

	if (size > PG_INT32_MAX / 2 || memchr(bytes, '\0', size) != NULL ||
		pg_encoding_verifymbstr(PG_UTF8, bytes, (int) size) != (int) size)
	{
		stats.rejected++;
		return -1;
	}
	stats.inputs++;

	fuzz_begin_input();
	/* exactly size bytes, not NUL-terminated: text data is not */
	src = palloc(size > 0 ? size : 1);
	memcpy(src, bytes, size);

	if (sigsetjmp(jump, 0) == 0)
	{
		Template   *tpl;
		List	   *paths;
		List	   *coupons;

		PG_exception_stack = &jump;
		tpl = cdp_template_parse(src, (int) size);
		paths = cdp_template_names(tpl, false);
		coupons = cdp_template_names(tpl, true);
		PG_exception_stack = NULL;

		stats.parsed++;
		if (print_mode)
			printf("OK\n");
		check_names(paths, valid_path, "path", &stats.paths, bytes, size);
		check_names(coupons, valid_prefix, "coupon", &stats.coupons, bytes, size);
	}
	else
	{
		const FuzzError *e = fuzz_last_error();

		PG_exception_stack = NULL;
		check_error(e, bytes, size);
		if (print_mode)
		{
			char		buf[6];

			printf("ERROR %s %s\nDETAIL %s\nHINT %s\n", sqlstate_text(e->sqlerrcode, buf),
				   e->message, e->detail ? e->detail : "(none)", e->hint ? e->hint : "(none)");
		}
	}
	if (print_mode)
		fflush(stdout);
	fuzz_end_input();
	return 0;
}
