/*-------------------------------------------------------------------------
 *
 * shim.c
 *	  The few backend functions the expression-language parser
 *	  (src/dsl_lex.c, src/dsl_parse.c) needs, implemented for a standalone
 *	  program so that the parser can be fuzzed outside the server.
 *
 * The parser is compiled unchanged against the server headers; what it
 * calls is supplied here:
 *
 * - memory: palloc and friends.  Every allocation is its own malloc block
 *	 (so AddressSanitizer sees each one's bounds), registered in a table and
 *	 freed by fuzz_end_input, like a memory-context reset after each input;
 *	 a block header sits before each allocation and is poisoned, so writes
 *	 just before an allocation are caught too.  repalloc always moves the
 *	 data, so a stale pointer to the old block is a use after free.
 * - errors: errstart / errcode / errmsg / errdetail / errhint / errfinish
 *	 record the error; an ERROR longjmps to PG_exception_stack (set by the
 *	 harness with sigsetjmp, as PG_TRY does), FATAL and above abort.
 * - check_stack_depth with a real limit (the server's default
 *	 max_stack_depth, 2 MB, measured from the harness's frame), the
 *	 interrupt flag and ProcessInterrupts.
 * - multibyte helpers for a UTF-8 database: lengths and display widths
 *	 come from libpgcommon's wchar.c (the server's own tables); before
 *	 calling it the bytes it will read are touched here, in instrumented
 *	 code, so a parser that hands it a pointer past its buffer is caught.
 * - escape_json, lists (lappend, lcons, list_concat, list_makeN),
 *	 DirectFunctionCall1Coll/2Coll/3Coll, and numeric_in /
 *	 numeric_out, which dsl_node_to_json uses to print numbers: they
 *	 validate and print a decimal number the way numeric_out(numeric_in(x))
 *	 does (same display scale, same "value overflows numeric format"
 *	 limits), without building a real numeric.
 * - stubs that abort for what only the SQL-callable cdp_parse_expression
 *	 uses (text_to_cstring, jsonb_in, pg_detoast_datum_packed).
 *
 * StringInfo, psprintf and pg's snprintf come from libpgcommon.a and
 * libpgport.a (their frontend build exits rather than raising an error on
 * a string over 1 GB, which 4 kB inputs cannot reach).  If the parser starts calling another backend function, the
 * link fails naming it: add it here.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sanitizer/asan_interface.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/memutils.h"

#include "shim.h"

/* ---- memory ---- */

#define CHUNK_MAGIC		UINT64CONST(0x70675f6364705f66)

/* what sits before every palloc'd block; 32 bytes keep malloc's alignment */
typedef struct ChunkHeader
{
	uint64		magic;
	size_t		size;			/* requested size */
	size_t		slot;			/* index in chunks[] */
	uint64		unused;
} ChunkHeader;

StaticAssertDecl(sizeof(ChunkHeader) % 16 == 0, "chunk header keeps alignment");

static ChunkHeader **chunks;	/* live blocks of this input; NULL = freed */
static size_t nchunks;			/* slots used */
static size_t chunks_cap;
static size_t nlive;

/*
 * fatal
 *		Report a broken invariant of the shim's contract and abort (libFuzzer
 *		then saves the input and prints the stack).
 */
static void
fatal(const char *what, const void *ptr)
{
	fprintf(stderr, "dsl_fuzz shim: %s (%p)\n", what, ptr);
	abort();
}

/*
 * header_of
 *		The header of a palloc'd pointer, unpoisoned and checked.
 */
static ChunkHeader *
header_of(void *pointer)
{
	ChunkHeader *h;

	if (pointer == NULL)
		fatal("pfree or repalloc of a NULL pointer", pointer);
	h = (ChunkHeader *) ((char *) pointer - sizeof(ChunkHeader));
	ASAN_UNPOISON_MEMORY_REGION(h, sizeof(ChunkHeader));
	if (h->magic != CHUNK_MAGIC || h->slot >= nchunks || chunks[h->slot] != h)
		fatal("pfree or repalloc of a pointer palloc did not return", pointer);
	return h;
}

/*
 * register_chunk
 *		Put a new block h of size bytes in slot (a new slot if slot is
 *		SIZE_MAX) and return its user pointer, with the header poisoned.
 */
static void *
register_chunk(ChunkHeader *h, size_t size, size_t slot)
{
	if (slot == SIZE_MAX)
	{
		if (nchunks == chunks_cap)
		{
			size_t		newcap = chunks_cap ? chunks_cap * 2 : 1024;
			ChunkHeader **n = realloc(chunks, newcap * sizeof(ChunkHeader *));

			if (n == NULL)
				fatal("out of memory for the allocation table", NULL);
			chunks = n;
			chunks_cap = newcap;
		}
		slot = nchunks++;
		nlive++;
	}
	h->magic = CHUNK_MAGIC;
	h->size = size;
	h->slot = slot;
	h->unused = 0;
	chunks[slot] = h;
	ASAN_POISON_MEMORY_REGION(h, sizeof(ChunkHeader));
	return (char *) h + sizeof(ChunkHeader);
}

/*
 * new_chunk
 *		malloc a block of size bytes with its header, raising the server's
 *		errors for an invalid size or a failed allocation.
 */
static ChunkHeader *
new_chunk(Size size)
{
	ChunkHeader *h;

	if (!AllocSizeIsValid(size))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	h = malloc(sizeof(ChunkHeader) + size);
	if (h == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Failed on request of size %zu.", size)));
	return h;
}

/*
 * palloc
 *		size bytes, uninitialised (AddressSanitizer fills them with 0xbe).
 */
void *
palloc(Size size)
{
	return register_chunk(new_chunk(size), size, SIZE_MAX);
}

/*
 * palloc0
 *		size bytes, zeroed.
 */
void *
palloc0(Size size)
{
	void	   *p = palloc(size);

	memset(p, 0, size);
	return p;
}

/*
 * palloc_extended
 *		palloc with flags: MCXT_ALLOC_ZERO zeroes, MCXT_ALLOC_NO_OOM returns
 *		NULL instead of failing, MCXT_ALLOC_HUGE allows more than 1 GB.
 */
void *
palloc_extended(Size size, int flags)
{
	ChunkHeader *h;

	if ((flags & MCXT_ALLOC_HUGE) ? !AllocHugeSizeIsValid(size) : !AllocSizeIsValid(size))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	h = malloc(sizeof(ChunkHeader) + size);
	if (h == NULL)
	{
		if (flags & MCXT_ALLOC_NO_OOM)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Failed on request of size %zu.", size)));
	}
	if (flags & MCXT_ALLOC_ZERO)
		memset((char *) h + sizeof(ChunkHeader), 0, size);
	return register_chunk(h, size, SIZE_MAX);
}

/*
 * repalloc
 *		Resize a block; the data always moves to a new block.
 */
void *
repalloc(void *pointer, Size size)
{
	ChunkHeader *old = header_of(pointer);
	size_t		oldsize = old->size;
	size_t		slot = old->slot;
	ChunkHeader *h;

	/* keep the old block registered (and poisoned) until the new one exists */
	ASAN_POISON_MEMORY_REGION(old, sizeof(ChunkHeader));
	h = new_chunk(size);
	memcpy((char *) h + sizeof(ChunkHeader), pointer, Min(oldsize, size));
	ASAN_UNPOISON_MEMORY_REGION(old, sizeof(ChunkHeader));
	old->magic = 0;
	free(old);
	return register_chunk(h, size, slot);
}

/*
 * pfree
 *		Free a block now.
 */
void
pfree(void *pointer)
{
	ChunkHeader *h = header_of(pointer);

	chunks[h->slot] = NULL;
	nlive--;
	h->magic = 0;
	free(h);
}

/*
 * pstrdup
 *		A palloc'd copy of a NUL-terminated string.
 */
char *
pstrdup(const char *in)
{
	size_t		len = strlen(in);
	char	   *out = palloc(len + 1);

	memcpy(out, in, len + 1);
	return out;
}

/*
 * pnstrdup
 *		A palloc'd copy of at most len bytes of in, NUL-terminated.
 */
char *
pnstrdup(const char *in, Size len)
{
	char	   *out;

	len = strnlen(in, len);
	out = palloc(len + 1);
	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

/* ---- errors ---- */

sigjmp_buf *PG_exception_stack = NULL;
ErrorContextCallback *error_context_stack = NULL;

#define ERROR_STACK_SIZE 5		/* as the server's ERRORDATA_STACK_SIZE */

static FuzzError errors[ERROR_STACK_SIZE];
static int	nerrors;			/* ereports being built */
static int	saved_errno;
static FuzzError last_error;

/*
 * current_error
 *		The ereport being built; aborts when called outside one.
 */
static FuzzError *
current_error(const char *func)
{
	if (nerrors == 0)
	{
		fprintf(stderr, "dsl_fuzz shim: %s called outside ereport\n", func);
		abort();
	}
	return &errors[nerrors - 1];
}

/*
 * format_message
 *		A palloc'd string formatted from fmt and args, with errno as it
 *		was at errstart (for %m).
 */
static char *
format_message(const char *fmt, va_list args)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (;;)
	{
		va_list		copy;
		int			needed;

		errno = saved_errno;
		va_copy(copy, args);
		needed = appendStringInfoVA(&buf, fmt, copy);
		va_end(copy);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	return buf.data;
}

/* store the formatted varargs message into field of the current error */
#define SET_FIELD(field, fmt) \
	do { \
		FuzzError  *e_ = current_error(__func__); \
		va_list		args_; \
		va_start(args_, fmt); \
		e_->field = format_message(fmt, args_); \
		va_end(args_); \
	} while (0)

/*
 * errstart
 *		Begin an ereport at elevel.  Always true: messages below ERROR are
 *		formatted too (so their arguments are exercised) and then dropped.
 */
bool
errstart(int elevel, const char *domain)
{
	FuzzError  *e;

	if (nerrors >= ERROR_STACK_SIZE)
	{
		fprintf(stderr, "dsl_fuzz shim: ERRORDATA_STACK_SIZE exceeded (ereport inside ereport)\n");
		abort();
	}
	if (nerrors == 0)
		saved_errno = errno;
	e = &errors[nerrors++];
	memset(e, 0, sizeof(FuzzError));
	e->elevel = elevel;
	if (elevel >= ERROR)
		e->sqlerrcode = ERRCODE_INTERNAL_ERROR;
	else if (elevel >= WARNING)
		e->sqlerrcode = ERRCODE_WARNING;
	else
		e->sqlerrcode = ERRCODE_SUCCESSFUL_COMPLETION;
	return true;
}

/*
 * errstart_cold
 *		errstart for levels known at compile time to be ERROR or above.
 */
bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

/*
 * errfinish
 *		End an ereport: below ERROR it returns; an ERROR is kept as the last
 *		error and longjmps to PG_exception_stack; FATAL and PANIC abort.
 */
void
errfinish(const char *filename, int lineno, const char *funcname)
{
	FuzzError  *e = current_error(__func__);

	e->filename = filename;
	e->lineno = lineno;
	e->funcname = funcname;
	nerrors--;
	if (e->elevel < ERROR)
		return;
	last_error = *e;
	nerrors = 0;
	if (e->elevel >= FATAL || PG_exception_stack == NULL)
	{
		fprintf(stderr, "dsl_fuzz shim: %s outside the harness's sigsetjmp: %s (%s:%d)\n",
				e->elevel >= FATAL ? "FATAL" : "ERROR",
				e->message ? e->message : "(no message)", filename, lineno);
		abort();
	}
	siglongjmp(*PG_exception_stack, 1);
}

/*
 * pg_re_throw
 *		Raise the last error again (PG_RE_THROW in a PG_CATCH block).
 */
void
pg_re_throw(void)
{
	if (PG_exception_stack == NULL)
	{
		fprintf(stderr, "dsl_fuzz shim: PG_RE_THROW outside a PG_TRY\n");
		abort();
	}
	siglongjmp(*PG_exception_stack, 1);
}

/* errcode: the SQLSTATE of the current error */
int
errcode(int sqlerrcode)
{
	current_error(__func__)->sqlerrcode = sqlerrcode;
	return 0;
}

/* errmsg: the primary message */
int
errmsg(const char *fmt,...)
{
	SET_FIELD(message, fmt);
	return 0;
}

/* errmsg_internal: the primary message, not translated */
int
errmsg_internal(const char *fmt,...)
{
	SET_FIELD(message, fmt);
	return 0;
}

/* errdetail: the detail */
int
errdetail(const char *fmt,...)
{
	SET_FIELD(detail, fmt);
	return 0;
}

/* errdetail_internal: the detail, not translated */
int
errdetail_internal(const char *fmt,...)
{
	SET_FIELD(detail, fmt);
	return 0;
}

/* errhint: the hint */
int
errhint(const char *fmt,...)
{
	SET_FIELD(hint, fmt);
	return 0;
}

/*
 * fuzz_last_error
 *		The last error raised (valid until fuzz_end_input frees its text).
 */
const FuzzError *
fuzz_last_error(void)
{
	return &last_error;
}

/* ---- stack depth and interrupts ---- */

/* the server's default max_stack_depth (2MB) */
#define MAX_STACK_DEPTH_KB 2048

static char *stack_base;
static size_t max_depth_seen;

/*
 * stack_is_too_deep
 *		Whether the stack below the harness's frame is deeper than
 *		MAX_STACK_DEPTH_KB; also keeps the deepest depth seen.
 */
bool
stack_is_too_deep(void)
{
	char	   *here = __builtin_frame_address(0);
	size_t		depth;

	if (stack_base == NULL)
		return false;
	depth = here < stack_base ? (size_t) (stack_base - here) : (size_t) (here - stack_base);
	if (depth > max_depth_seen)
		max_depth_seen = depth;
	return depth > (size_t) MAX_STACK_DEPTH_KB * 1024;
}

/*
 * check_stack_depth
 *		The server's 54001 error when the stack is too deep.
 */
void
check_stack_depth(void)
{
	if (stack_is_too_deep())
		ereport(ERROR,
				(errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
				 errmsg("stack depth limit exceeded"),
				 errhint("Increase the configuration parameter \"max_stack_depth\" (currently %dkB), "
						 "after ensuring the platform's stack depth limit is adequate.",
						 MAX_STACK_DEPTH_KB)));
}

/*
 * fuzz_max_stack_depth
 *		The deepest stack check_stack_depth saw, in bytes.
 */
size_t
fuzz_max_stack_depth(void)
{
	return max_depth_seen;
}

volatile sig_atomic_t InterruptPending = false;

/*
 * ProcessInterrupts
 *		A pending interrupt is a query cancel, as in a backend.
 */
void
ProcessInterrupts(void)
{
	if (!InterruptPending)
		return;
	InterruptPending = false;
	ereport(ERROR,
			(errcode(ERRCODE_QUERY_CANCELED),
			 errmsg("canceling statement due to user request")));
}

/* ---- the input's life ---- */

/*
 * fuzz_begin_input
 *		Called by the harness before an input: the stack is measured from
 *		here, and no ereport is in progress.
 */
void
fuzz_begin_input(void)
{
	stack_base = __builtin_frame_address(0);
	nerrors = 0;
	memset(&last_error, 0, sizeof(last_error));
	InterruptPending = false;
}

/*
 * fuzz_end_input
 *		Free every block palloc'd since the last call (the memory-context
 *		reset of the input).
 */
void
fuzz_end_input(void)
{
	size_t		i;

	for (i = 0; i < nchunks; i++)
	{
		ChunkHeader *h = chunks[i];

		if (h == NULL)
			continue;
		ASAN_UNPOISON_MEMORY_REGION(h, sizeof(ChunkHeader));
		h->magic = 0;
		free(h);
	}
	nchunks = 0;
	nlive = 0;
	memset(&last_error, 0, sizeof(last_error));
	stack_base = NULL;
}

/*
 * fuzz_live_allocations
 *		Blocks palloc'd and not yet freed in this input.
 */
size_t
fuzz_live_allocations(void)
{
	return nlive;
}

/* ---- multibyte helpers (database encoding UTF-8) ---- */

/*
 * touch
 *		Read n bytes at s in instrumented code, so that AddressSanitizer
 *		checks them before uninstrumented libpgcommon code reads them.
 */
static void
touch(const char *s, int n)
{
	volatile char sink;
	int			i;

	for (i = 0; i < n; i++)
		sink = s[i];
	(void) sink;
}

/*
 * report_invalid_utf8
 *		The server's 22021 error for a character cut short at len bytes.
 */
static void
report_invalid_utf8(const char *s, int len)
{
	char		bytes[8 * 5 + 1];
	char	   *p = bytes;
	int			i;

	for (i = 0; i < len && i < 8; i++)
	{
		sprintf(p, "0x%02x", (unsigned char) s[i]);
		p += 4;
		if (i < len - 1 && i < 7)
			*p++ = ' ';
	}
	*p = '\0';
	ereport(ERROR,
			(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
			 errmsg("invalid byte sequence for encoding \"%s\": %s", "UTF8", bytes)));
}

/* pg_mblen: bytes of the character at s, from its first byte */
int
pg_mblen(const char *mbstr)
{
	touch(mbstr, 1);
	return pg_encoding_mblen(PG_UTF8, mbstr);
}

/* pg_mblen_unbounded: the same as pg_mblen */
int
pg_mblen_unbounded(const char *mbstr)
{
	return pg_mblen(mbstr);
}

/* pg_mblen_with_len: pg_mblen, an error if the character exceeds limit bytes */
int
pg_mblen_with_len(const char *mbstr, int limit)
{
	int			len = pg_mblen(mbstr);

	if (len > limit)
		report_invalid_utf8(mbstr, limit);
	touch(mbstr, len);
	return len;
}

/* pg_mblen_range: pg_mblen, an error if the character runs past end */
int
pg_mblen_range(const char *mbstr, const char *end)
{
	return pg_mblen_with_len(mbstr, (int) (end - mbstr));
}

/* pg_mblen_cstr: pg_mblen, an error if the character contains the NUL */
int
pg_mblen_cstr(const char *mbstr)
{
	int			len = pg_mblen(mbstr);
	int			i;

	for (i = 1; i < len; i++)
		if (mbstr[i] == '\0')
			report_invalid_utf8(mbstr, i);
	return len;
}

/* pg_dsplen: display width of the character at s (wide, combining...) */
int
pg_dsplen(const char *mbstr)
{
	touch(mbstr, pg_encoding_mblen(PG_UTF8, mbstr));
	return pg_encoding_dsplen(PG_UTF8, mbstr);
}

/* pg_mbstrlen_with_len: characters in the first len bytes (stops at NUL) */
int
pg_mbstrlen_with_len(const char *mbstr, int len)
{
	int			n = 0;

	while (len > 0 && *mbstr)
	{
		int			l = pg_mblen(mbstr);

		len -= l;
		mbstr += l;
		n++;
	}
	return n;
}

/* pg_mbstrlen: characters in a NUL-terminated string */
int
pg_mbstrlen(const char *mbstr)
{
	int			n = 0;

	while (*mbstr)
	{
		mbstr += pg_mblen(mbstr);
		n++;
	}
	return n;
}

/*
 * pg_mbcliplen
 *		The byte length of the longest prefix of whole characters of mbstr
 *		(len bytes, stopping at a NUL) that fits in limit bytes.
 */
int
pg_mbcliplen(const char *mbstr, int len, int limit)
{
	int			clen = 0;

	while (len > 0 && *mbstr)
	{
		int			l = pg_mblen(mbstr);

		if (clen + l > limit)
			break;
		clen += l;
		if (clen == limit)
			break;
		len -= l;
		mbstr += l;
	}
	return clen;
}

/* GetDatabaseEncoding: the fuzzed database is UTF-8 */
int
GetDatabaseEncoding(void)
{
	return PG_UTF8;
}

/* GetDatabaseEncodingName: "UTF8" */
const char *
GetDatabaseEncodingName(void)
{
	return "UTF8";
}

/* pg_database_encoding_max_length: 4 bytes in UTF-8 */
int
pg_database_encoding_max_length(void)
{
	return pg_encoding_max_length(PG_UTF8);
}

/* ---- JSON, lists ---- */

/*
 * escape_json
 *		Append str as a JSON string literal: quotes, backslash escapes for
 *		" \ and the control characters (\b \f \n \r \t, others \u00XX).
 */
void
escape_json(StringInfo buf, const char *str)
{
	const char *p;

	appendStringInfoChar(buf, '"');
	for (p = str; *p; p++)
	{
		unsigned char c = (unsigned char) *p;

		switch (c)
		{
			case '"':
				appendStringInfoString(buf, "\\\"");
				break;
			case '\\':
				appendStringInfoString(buf, "\\\\");
				break;
			case '\b':
				appendStringInfoString(buf, "\\b");
				break;
			case '\f':
				appendStringInfoString(buf, "\\f");
				break;
			case '\n':
				appendStringInfoString(buf, "\\n");
				break;
			case '\r':
				appendStringInfoString(buf, "\\r");
				break;
			case '\t':
				appendStringInfoString(buf, "\\t");
				break;
			default:
				if (c < 0x20)
					appendStringInfo(buf, "\\u%04x", c);
				else
					appendStringInfoChar(buf, (char) c);
				break;
		}
	}
	appendStringInfoChar(buf, '"');
}

/*
 * append_cell
 *		Append a cell to a List of type t (NIL makes a new one), in the
 *		server's List layout; the cell array doubles when full and always
 *		lives in its own block, so a pointer kept into the old array is
 *		caught.
 */
static List *
append_cell(List *list, NodeTag t, ListCell cell)
{
	if (list == NIL)
	{
		list = palloc(offsetof(List, initial_elements));
		list->type = t;
		list->length = 0;
		list->max_length = 4;
		list->elements = palloc(4 * sizeof(ListCell));
	}
	else if (list->type != t)
		fatal("a list operation on a list of another type", list);
	else if (list->length >= list->max_length)
	{
		if (list->max_length > (int) (MaxAllocSize / sizeof(ListCell) / 2))
			elog(ERROR, "list too long");
		list->max_length *= 2;
		list->elements = repalloc(list->elements, list->max_length * sizeof(ListCell));
	}
	list->elements[list->length++] = cell;
	return list;
}

/* lappend: append a pointer */
List *
lappend(List *list, void *datum)
{
	ListCell	c;

	c.ptr_value = datum;
	return append_cell(list, T_List, c);
}

/* lcons: prepend a pointer */
List *
lcons(void *datum, List *list)
{
	ListCell	c;

	c.ptr_value = datum;
	list = append_cell(list, T_List, c);
	memmove(&list->elements[1], &list->elements[0], (list->length - 1) * sizeof(ListCell));
	list->elements[0] = c;
	return list;
}

/* list_concat: append the cells of list2 to list1 */
List *
list_concat(List *list1, const List *list2)
{
	int			i;

	if (list2 == NIL)
		return list1;
	for (i = 0; i < list2->length; i++)
		list1 = append_cell(list1, list2->type, list2->elements[i]);
	return list1;
}

/* list_make1_impl .. list_make4_impl: the list_makeN macros */
List *
list_make1_impl(NodeTag t, ListCell datum1)
{
	return append_cell(NIL, t, datum1);
}

List *
list_make2_impl(NodeTag t, ListCell datum1, ListCell datum2)
{
	return append_cell(list_make1_impl(t, datum1), t, datum2);
}

List *
list_make3_impl(NodeTag t, ListCell datum1, ListCell datum2, ListCell datum3)
{
	return append_cell(list_make2_impl(t, datum1, datum2), t, datum3);
}

List *
list_make4_impl(NodeTag t, ListCell datum1, ListCell datum2, ListCell datum3,
				ListCell datum4)
{
	return append_cell(list_make3_impl(t, datum1, datum2, datum3), t, datum4);
}

/* ---- fmgr ---- */

/*
 * call_direct
 *		Call a V1 function with n non-null arguments; a NULL result is the
 *		server's internal error.
 */
static Datum
call_direct(PGFunction func, Oid collation, int n, Datum a1, Datum a2, Datum a3)
{
	LOCAL_FCINFO(fcinfo, 3);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, NULL, n, collation, NULL, NULL);
	fcinfo->args[0].value = a1;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = a2;
	fcinfo->args[1].isnull = false;
	fcinfo->args[2].value = a3;
	fcinfo->args[2].isnull = false;
	result = (*func) (fcinfo);
	if (fcinfo->isnull)
		elog(ERROR, "function %p returned NULL", (void *) func);
	return result;
}

/* DirectFunctionCall1Coll: func(arg1) */
Datum
DirectFunctionCall1Coll(PGFunction func, Oid collation, Datum arg1)
{
	return call_direct(func, collation, 1, arg1, (Datum) 0, (Datum) 0);
}

/* DirectFunctionCall2Coll: func(arg1, arg2) */
Datum
DirectFunctionCall2Coll(PGFunction func, Oid collation, Datum arg1, Datum arg2)
{
	return call_direct(func, collation, 2, arg1, arg2, (Datum) 0);
}

/* DirectFunctionCall3Coll: func(arg1, arg2, arg3) */
Datum
DirectFunctionCall3Coll(PGFunction func, Oid collation, Datum arg1, Datum arg2,
						Datum arg3)
{
	return call_direct(func, collation, 3, arg1, arg2, arg3);
}

/* ---- numeric_in / numeric_out ---- */

#define NUMERIC_DSCALE_LIMIT 0x3FFF /* 14 bits of display scale */

/* the special values numeric_in accepts, longest spelling first */
static const struct
{
	const char *spelling;
	const char *value;
}			specials[] =
{
	{"NaN", "NaN"}, {"Infinity", "Infinity"}, {"+Infinity", "Infinity"},
	{"-Infinity", "-Infinity"}, {"inf", "Infinity"}, {"+inf", "Infinity"},
	{"-inf", "-Infinity"}, {NULL, NULL}
};

/*
 * numeric_syntax_error
 *		The server's 22P02 error for text that is not a number.
 */
static void
numeric_syntax_error(const char *str)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", "numeric", str)));
}

/*
 * numeric_overflow
 *		The server's 22003 error for a value numeric cannot store.
 */
static void
numeric_overflow(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("value overflows numeric format")));
}

/*
 * canonical_numeric
 *		What numeric_out(numeric_in(str)) prints, or the errors numeric_in
 *		raises: optional spaces, NaN / Infinity / inf with a sign, or
 *		[sign] digits [. digits] [e [sign] digits]; the display scale is the
 *		digits after the point minus the exponent (not below 0); a base-10000
 *		weight beyond int16 or a display scale beyond 0x3FFF overflows.
 */
static char *
canonical_numeric(const char *str)
{
	const char *cp = str;
	bool		negative = false;
	char	   *digits;
	int			ndigits = 0;
	int			intdigits = 0;
	bool		seen_point = false;
	long		exponent = 0;
	long		point;
	long		dscale;
	int			first;
	StringInfoData out;
	long		i;

	while (*cp && isspace((unsigned char) *cp))
		cp++;
	for (i = 0; specials[i].spelling; i++)
	{
		size_t		l = strlen(specials[i].spelling);

		if (pg_strncasecmp(cp, specials[i].spelling, l) != 0)
			continue;
		cp += l;
		while (*cp && isspace((unsigned char) *cp))
			cp++;
		if (*cp)
			numeric_syntax_error(str);
		return pstrdup(specials[i].value);
	}

	if (*cp == '+' || *cp == '-')
		negative = (*cp++ == '-');
	digits = palloc(strlen(cp) + 1);
	for (;; cp++)
	{
		if (*cp >= '0' && *cp <= '9')
		{
			digits[ndigits++] = *cp;
			if (!seen_point)
				intdigits++;
		}
		else if (*cp == '.' && !seen_point)
			seen_point = true;
		else
			break;
	}
	if (ndigits == 0)
		numeric_syntax_error(str);
	if (*cp == 'e' || *cp == 'E')
	{
		bool		eneg = false;
		bool		any = false;

		cp++;
		while (*cp && isspace((unsigned char) *cp))
			cp++;
		if (*cp == '+' || *cp == '-')
			eneg = (*cp++ == '-');
		for (; *cp >= '0' && *cp <= '9'; cp++)
		{
			any = true;
			if (exponent < PG_INT32_MAX)
				exponent = exponent * 10 + (*cp - '0');
		}
		if (!any)
			numeric_syntax_error(str);
		if (exponent >= PG_INT32_MAX / 2)
			numeric_overflow();
		if (eneg)
			exponent = -exponent;
	}
	while (*cp && isspace((unsigned char) *cp))
		cp++;
	if (*cp)
		numeric_syntax_error(str);

	/* the decimal point sits before digits[point]; point may be outside */
	point = intdigits + exponent;
	dscale = Max((long) (ndigits - intdigits) - exponent, 0);
	for (first = 0; first < ndigits && digits[first] == '0'; first++)
		;
	if (first < ndigits)
	{
		long		e10 = point - 1 - first;	/* power of ten of that digit */
		long		weight = e10 >= 0 ? e10 / 4 : -((-e10 + 3) / 4);

		if (weight > PG_INT16_MAX || weight < PG_INT16_MIN)
			numeric_overflow();
	}
	if (dscale > NUMERIC_DSCALE_LIMIT)
		numeric_overflow();

	initStringInfo(&out);
	if (negative && first < ndigits)
		appendStringInfoChar(&out, '-');
	if (first >= ndigits || point <= first)
		appendStringInfoChar(&out, '0');
	else
		for (i = first; i < point; i++)
			appendStringInfoChar(&out, i < ndigits ? digits[i] : '0');
	if (dscale > 0)
	{
		appendStringInfoChar(&out, '.');
		for (i = point; i < point + dscale; i++)
			appendStringInfoChar(&out, i >= 0 && i < ndigits ? digits[i] : '0');
	}
	pfree(digits);
	return out.data;
}

/*
 * numeric_in
 *		Stand-in for the numeric type's input: the datum is the canonical
 *		text (a C string), which only numeric_out below reads.
 */
Datum
numeric_in(PG_FUNCTION_ARGS)
{
	return CStringGetDatum(canonical_numeric(PG_GETARG_CSTRING(0)));
}

/*
 * numeric_out
 *		The canonical text of a datum made by numeric_in above.
 */
Datum
numeric_out(PG_FUNCTION_ARGS)
{
	return CStringGetDatum(pstrdup(DatumGetCString(PG_GETARG_DATUM(0))));
}

/* ---- used only by the SQL-callable cdp_parse_expression ---- */

/*
 * not_available
 *		Abort: a server-only function was reached from the fuzzed code.
 */
static void
not_available(const char *name)
{
	fprintf(stderr, "dsl_fuzz shim: %s is not available outside the server\n", name);
	abort();
}

/* text_to_cstring: not available */
char *
text_to_cstring(const text *t)
{
	not_available("text_to_cstring");
	return NULL;
}

/* pg_detoast_datum_packed: not available */
struct varlena *
pg_detoast_datum_packed(struct varlena *datum)
{
	not_available("pg_detoast_datum_packed");
	return NULL;
}

/* jsonb_in: not available */
Datum
jsonb_in(PG_FUNCTION_ARGS)
{
	not_available("jsonb_in");
	return (Datum) 0;
}
