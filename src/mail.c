/*-------------------------------------------------------------------------
 *
 * mail.c
 *	  Delivery of e-mails and webhooks through libcurl, and the SQL
 *	  functions cdp._mail_send and cdp._mail_post that test a channel.
 *
 * A CdpMailer keeps one CURL easy handle, so libcurl keeps the connection
 * to the server open between messages.  Everything that runs during a
 * delivery (cdp_mailer_send, cdp_mailer_post_json and what they call)
 * uses malloc and reports every failure in a CdpSendResult: the journey
 * worker calls it outside any transaction, where ereport and palloc are
 * not allowed.
 *
 * SMTP: the message is a multipart/alternative MIME document built with
 * libcurl's MIME API (text and HTML parts, quoted-printable, UTF-8), with
 * Date, From, To, Subject (RFC 2047 encoded-words when not ASCII),
 * Message-ID, MIME-Version and, when asked, List-Unsubscribe and
 * List-Unsubscribe-Post (RFC 8058).  The server's reply lines are read
 * from libcurl's debug callback, and the commands sent tell how far the
 * transaction got, which decides the classification:
 *	- accepted: OK;
 *	- any failure before MAIL FROM (resolve, connect, TLS, EHLO, AUTH):
 *	  CHANNEL_ERROR;
 *	- a 5xx reply to MAIL, RCPT or DATA: PERMFAIL (bad_address when the
 *	  enhanced code is 5.1.x), except 530 (authentication required), which
 *	  says the channel lacks credentials: CHANNEL_ERROR;
 *	- a 4xx reply, a timeout or a broken connection after MAIL FROM:
 *	  TEMPFAIL.
 * A send on a kept connection that the server has closed meanwhile is
 * retried once on a new connection when the server answered nothing.
 *
 * HTTP: a JSON document is POSTed; 2xx is OK, 408, 429, 5xx and broken
 * connections are TEMPFAIL, 401 and 407 (credentials) and failures to
 * connect are CHANNEL_ERROR, other 4xx are PERMFAIL.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "mail.h"
#include "pg_cdp.h"

PG_FUNCTION_INFO_V1(cdp_mail_send);
PG_FUNCTION_INFO_V1(cdp_mail_post);

/* what the URL of a channel speaks */
typedef enum MailerKind
{
	KIND_NONE,					/* no URL, or an unsupported scheme */
	KIND_SMTP,
	KIND_HTTP
} MailerKind;

/* how far an SMTP transaction got: the last command sent */
typedef enum SmtpPhase
{
	PHASE_SESSION,				/* greeting, EHLO, STARTTLS, AUTH */
	PHASE_MAIL,
	PHASE_RCPT,
	PHASE_DATA
} SmtpPhase;

/* the largest part of an HTTP response body kept for the detail */
#define RESPONSE_KEEP 4096

struct CdpMailer
{
	CURL	   *curl;
	MailerKind	kind;
	char	   *url;
	char	   *username;
	char	   *password;
	char	   *tls;
	bool		verify_peer;
	char	   *ca_file;
	long		connect_timeout_ms;
	long		timeout_ms;
	char	   *http_headers;

	/* state of the transfer under way, filled by the callbacks */
	SmtpPhase	phase;
	bool		quitting;		/* QUIT sent: later replies do not count */
	int			replies;		/* reply lines received */
	long		last_code;
	char		last_line[512];
	char		last_enhanced[16];
	char		response[RESPONSE_KEEP + 1];	/* start of an HTTP body */
	size_t		response_len;
	char		errbuf[CURL_ERROR_SIZE];
	unsigned int sequence;		/* for made-up Message-IDs */
};

/* a growable byte buffer on malloc; "failed" once an allocation failed */
typedef struct MBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		failed;
} MBuf;

static bool curl_initialised = false;

/* ---- small helpers (no palloc, no ereport) ---- */

/*
 * mbuf_append: appends n bytes of s to b, growing it by doubling.  After a
 * failed allocation the buffer stays failed and further appends do nothing.
 */
static void
mbuf_append(MBuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (n >= SIZE_MAX / 2 - b->len)
	{
		b->failed = true;
		return;
	}
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 256;
		char	   *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->data, cap);
		if (p == NULL)
		{
			b->failed = true;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* mbuf_puts: appends the NUL-terminated string s to b */
static void
mbuf_puts(MBuf *b, const char *s)
{
	mbuf_append(b, s, strlen(s));
}

/* mbuf_free: releases the memory of b and empties it */
static void
mbuf_free(MBuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* mail_strdup: malloc'd copy of s (NULL for NULL); sets *failed on OOM */
static char *
mail_strdup(const char *s, bool *failed)
{
	char	   *c;

	if (s == NULL)
		return NULL;
	c = strdup(s);
	if (c == NULL)
		*failed = true;
	return c;
}

/*
 * utf8_seq_len: the length of the valid UTF-8 sequence starting at s
 * (n bytes available), or 0 when the bytes there are not valid UTF-8.
 */
static int
utf8_seq_len(const unsigned char *s, size_t n)
{
	int			len;
	int			i;

	if (s[0] < 0x80)
		return 1;
	else if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4;
	else
		return 0;
	if ((size_t) len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	/* overlong three-byte forms, surrogates, beyond U+10FFFF */
	if (s[0] == 0xE0 && s[1] < 0xA0)
		return 0;
	if (s[0] == 0xED && s[1] >= 0xA0)
		return 0;
	if (s[0] == 0xF0 && s[1] < 0x90)
		return 0;
	if (s[0] == 0xF4 && s[1] >= 0x90)
		return 0;
	return len;
}

/*
 * copy_clean: copies at most n bytes of src into dst (size dstsize, always
 * NUL-terminated) so that the text is safe for a log and for JSON: control
 * characters become spaces, bytes that are not valid UTF-8 become '?',
 * trailing white space is dropped and a multibyte character is never cut.
 */
static void
copy_clean(char *dst, size_t dstsize, const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *) src;
	size_t		i = 0;
	size_t		o = 0;

	while (i < n && o + 1 < dstsize)
	{
		int			l = utf8_seq_len(s + i, n - i);

		if (l == 0)
		{
			dst[o++] = '?';
			i++;
		}
		else if (l == 1)
		{
			dst[o++] = (s[i] < 0x20 || s[i] == 0x7F) ? ' ' : (char) s[i];
			i++;
		}
		else
		{
			if (o + l + 1 > dstsize)
				break;
			memcpy(dst + o, s + i, l);
			o += l;
			i += l;
		}
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

/* set_result: sets the status of r and its detail from a printf format */
static void
set_result(CdpSendResult *r, CdpSendStatus status, const char *fmt,...)
{
	char		buf[sizeof(r->detail)];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	r->status = status;
	copy_clean(r->detail, sizeof(r->detail), buf, strlen(buf));
}

/* has_line_break: whether s contains CR or LF */
static bool
has_line_break(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") != NULL;
}

/* has_any: whether s[0..n) contains one of the characters of set */
static bool
has_any(const char *s, size_t n, const char *set)
{
	size_t		i;

	for (i = 0; i < n; i++)
		if (strchr(set, s[i]) != NULL)
			return true;
	return false;
}

/* is_ascii_printable: whether s is only printable ASCII and spaces */
static bool
is_ascii_printable(const char *s, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] >= 0x7F)
			return false;
	return true;
}

/*
 * plausible_address: whether s[0..n) is one bare e-mail address
 * local@domain: one '@', a local part of 1-64 bytes, a domain of dotted
 * labels, no white space, controls or the characters that separate
 * addresses or start a display name.  UTF-8 (SMTPUTF8, IDN) is allowed.
 */
static bool
plausible_address(const char *s, size_t n)
{
	const char *at = NULL;
	size_t		i;
	size_t		local;

	if (n < 3 || n > 254)
		return false;
	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c <= 0x20 || c == 0x7F || strchr("<>(),;:\"[]\\", c) != NULL)
			return false;
		if (c == '@')
		{
			if (at != NULL)
				return false;
			at = s + i;
		}
	}
	if (at == NULL)
		return false;
	local = at - s;
	if (local == 0 || local > 64 || local == n - 1)
		return false;
	/* domain: no empty label */
	if (at[1] == '.' || s[n - 1] == '.')
		return false;
	for (i = local + 1; i + 1 < n; i++)
		if (s[i] == '.' && s[i + 1] == '.')
			return false;
	return true;
}

/*
 * split_from: finds the address in a From value "Name <addr>" or "addr".
 * Sets *addr and *addrlen to the address and *name and *namelen to the display
 * name (namelen 0 when none), both pointing into from.
 */
static void
split_from(const char *from, const char **name, size_t *namelen,
		   const char **addr, size_t *addrlen)
{
	size_t		n = strlen(from);
	const char *lt = strrchr(from, '<');

	while (n > 0 && from[n - 1] == ' ')
		n--;
	if (lt != NULL && n > 0 && from[n - 1] == '>')
	{
		size_t		nl = lt - from;

		*addr = lt + 1;
		*addrlen = from + n - 1 - *addr;
		while (nl > 0 && from[nl - 1] == ' ')
			nl--;
		*name = from;
		while (nl > 0 && **name == ' ')
		{
			(*name)++;
			nl--;
		}
		*namelen = nl;
	}
	else
	{
		*name = from;
		*namelen = 0;
		*addr = from;
		while (n > 0 && **addr == ' ')
		{
			(*addr)++;
			n--;
		}
		*addrlen = n;
	}
}

/*
 * append_encoded_words: appends s[0..n) as RFC 2047 encoded-words
 * ("=?UTF-8?B?...?=", at most 75 characters each, never splitting a
 * character), separated by a folding line break, so that header lines
 * stay short whatever the length of s.
 */
static void
append_encoded_words(MBuf *b, const char *s, size_t n)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *u = (const unsigned char *) s;
	size_t		i = 0;
	bool		first = true;

	while (i < n || first)
	{
		size_t		chunk = 0;
		char		word[80];
		size_t		w = 0;
		size_t		j;

		/* at most 45 bytes (60 base64 characters), whole characters */
		while (i + chunk < n)
		{
			int			l = utf8_seq_len(u + i + chunk, n - i - chunk);

			if (l == 0)
				l = 1;
			if (chunk + l > 45)
				break;
			chunk += l;
		}
		memcpy(word, "=?UTF-8?B?", 10);
		w = 10;
		for (j = 0; j < chunk; j += 3)
		{
			uint32		v = (uint32) u[i + j] << 16;

			if (j + 1 < chunk)
				v |= (uint32) u[i + j + 1] << 8;
			if (j + 2 < chunk)
				v |= u[i + j + 2];
			word[w++] = b64[(v >> 18) & 63];
			word[w++] = b64[(v >> 12) & 63];
			word[w++] = j + 1 < chunk ? b64[(v >> 6) & 63] : '=';
			word[w++] = j + 2 < chunk ? b64[v & 63] : '=';
		}
		word[w++] = '?';
		word[w++] = '=';
		if (!first)
			mbuf_append(b, "\r\n ", 3);
		mbuf_append(b, word, w);
		i += chunk;
		first = false;
	}
}

/*
 * append_header_text: appends a header value as it is when it is short
 * printable ASCII that reads back the same (no "=?", no white space at
 * either end), else as encoded-words.
 */
static void
append_header_text(MBuf *b, const char *s, size_t n)
{
	if (n <= 900 && is_ascii_printable(s, n) &&
		(n == 0 || (s[0] != ' ' && s[n - 1] != ' ')) &&
		!(n >= 2 && memmem(s, n, "=?", 2) != NULL))
		mbuf_append(b, s, n);
	else
		append_encoded_words(b, s, n);
}

/* header_list_add: adds a copy of b's text to the list; false on OOM */
static bool
header_list_add(struct curl_slist **list, MBuf *b)
{
	struct curl_slist *l;

	if (b->failed)
		return false;
	l = curl_slist_append(*list, b->data);
	if (l == NULL)
		return false;
	*list = l;
	return true;
}

/*
 * valid_header_name: whether s[0..n) is a header field name (RFC 5322:
 * printable ASCII except ':' and space)
 */
static bool
valid_header_name(const char *s, size_t n)
{
	size_t		i;

	if (n == 0 || n > 76)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7F || s[i] == ':')
			return false;
	return true;
}

/*
 * for_each_header_line: checks "Name: value" lines separated by \n (empty
 * lines skipped) and calls fn(name, namelen, value, valuelen, arg) for each.
 * Returns NULL when all is well, else a static text saying what is wrong
 * (a CR, a line without a colon, a bad name) or fn's complaint.
 */
static const char *
for_each_header_line(const char *lines,
					 const char *(*fn) (const char *, size_t, const char *, size_t, void *),
					 void *arg)
{
	const char *p = lines;

	if (lines == NULL)
		return NULL;
	if (strchr(lines, '\r') != NULL)
		return "a header line contains a carriage return";
	while (*p)
	{
		const char *end = strchr(p, '\n');
		const char *colon;
		const char *v;
		size_t		linelen;
		const char *complaint;

		if (end == NULL)
			end = p + strlen(p);
		linelen = end - p;
		if (linelen > 0)
		{
			colon = memchr(p, ':', linelen);
			if (colon == NULL)
				return "a header line has no colon";
			if (!valid_header_name(p, colon - p))
				return "a header name is not printable ASCII without spaces";
			v = colon + 1;
			while (v < end && *v == ' ')
				v++;
			complaint = fn(p, colon - p, v, end - v, arg);
			if (complaint != NULL)
				return complaint;
		}
		p = *end ? end + 1 : end;
	}
	return NULL;
}

/* names of the headers that the message builder writes itself */
static const char *const own_headers[] = {
	"Date", "From", "To", "Cc", "Bcc", "Subject", "Message-ID", "MIME-Version",
	"Content-Type", "Content-Transfer-Encoding", "List-Unsubscribe",
	"List-Unsubscribe-Post", NULL
};

/* add_extra_smtp_header: for_each_header_line callback adding one header */
static const char *
add_extra_smtp_header(const char *name, size_t namelen,
					  const char *value, size_t valuelen, void *arg)
{
	struct curl_slist **list = arg;
	MBuf		b = {0};
	int			i;

	for (i = 0; own_headers[i] != NULL; i++)
		if (strlen(own_headers[i]) == namelen &&
			pg_strncasecmp(own_headers[i], name, namelen) == 0)
			return "extra headers may not set a header the message builder writes";
	mbuf_append(&b, name, namelen);
	mbuf_puts(&b, ": ");
	append_header_text(&b, value, valuelen);
	if (!header_list_add(list, &b))
	{
		mbuf_free(&b);
		return "out of memory";
	}
	mbuf_free(&b);
	return NULL;
}

/* add_plain_header: for_each_header_line callback copying a line as is */
static const char *
add_plain_header(const char *name, size_t namelen,
				 const char *value, size_t valuelen, void *arg)
{
	struct curl_slist **list = arg;
	MBuf		b = {0};

	if (!is_ascii_printable(value, valuelen))
		return "a header value is not printable ASCII";
	mbuf_append(&b, name, namelen);
	mbuf_puts(&b, ": ");
	mbuf_append(&b, value, valuelen);
	if (!header_list_add(list, &b))
	{
		mbuf_free(&b);
		return "out of memory";
	}
	mbuf_free(&b);
	return NULL;
}

/*
 * to_crlf: a malloc'd copy of s whose line breaks are CRLF (the canonical
 * form of text in mail, RFC 2049); NULL on out of memory.
 */
static char *
to_crlf(const char *s, size_t *outlen)
{
	MBuf		b = {0};
	const char *p = s;

	mbuf_append(&b, "", 0);
	while (*p)
	{
		const char *nl = strchr(p, '\n');

		if (nl == NULL)
		{
			mbuf_puts(&b, p);
			break;
		}
		if (nl > p && nl[-1] == '\r')
			mbuf_append(&b, p, nl - p + 1);
		else
		{
			mbuf_append(&b, p, nl - p);
			mbuf_append(&b, "\r\n", 2);
		}
		p = nl + 1;
	}
	if (b.failed)
	{
		mbuf_free(&b);
		return NULL;
	}
	*outlen = b.len;
	return b.data;
}

/* now_ms: a monotonic clock in milliseconds */
static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* ---- libcurl callbacks ---- */

/*
 * note_reply_line: records one server reply line "NNN[- ]text": its code,
 * the line, and its RFC 3463 enhanced code when it starts the text with
 * one of the same class (e.g. "550 5.1.1 ...").  HTTP status lines
 * ("HTTP/1.1 503 ...") are recorded as the line only.
 */
static void
note_reply_line(CdpMailer *m, const char *line, size_t n)
{
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		n--;
	if (n == 0)
		return;
	if (m->kind == KIND_HTTP)
	{
		if (n > 5 && memcmp(line, "HTTP/", 5) == 0)
			copy_clean(m->last_line, sizeof(m->last_line), line, n);
		return;
	}
	if (n < 3 || !isdigit((unsigned char) line[0]) ||
		!isdigit((unsigned char) line[1]) || !isdigit((unsigned char) line[2]) ||
		(n > 3 && line[3] != ' ' && line[3] != '-') || m->quitting)
		return;
	m->replies++;
	m->last_code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	copy_clean(m->last_line, sizeof(m->last_line), line, n);
	m->last_enhanced[0] = '\0';
	if (n > 4 && line[4] == line[0])
	{
		/* class.subject.detail, each 1-3 digits */
		size_t		i = 4;
		int			part;

		for (part = 0; part < 3; part++)
		{
			size_t		start = i;

			while (i < n && isdigit((unsigned char) line[i]) && i - start < 3)
				i++;
			if (i == start || (part == 0 && i - start != 1))
				break;
			if (part < 2)
			{
				if (i >= n || line[i] != '.')
					break;
				i++;
			}
			else if (i == n || line[i] == ' ')
			{
				memcpy(m->last_enhanced, line + 4, i - 4);
				m->last_enhanced[i - 4] = '\0';
			}
		}
	}
}

/*
 * debug_callback: libcurl's CURLOPT_DEBUGFUNCTION.  Server reply lines
 * (CURLINFO_HEADER_IN) are recorded; for SMTP the commands sent
 * (CURLINFO_HEADER_OUT) advance the phase; the reply to QUIT is ignored,
 * as the one that decides is the reply to the command that failed.  Nothing is logged, so
 * credentials sent in AUTH never leave libcurl.
 */
static int
debug_callback(CURL *handle, curl_infotype type, char *data, size_t size,
			   void *userp)
{
	CdpMailer  *m = userp;

	if (type == CURLINFO_HEADER_IN)
	{
		size_t		start = 0;
		size_t		i;

		for (i = 0; i < size; i++)
		{
			if (data[i] == '\n')
			{
				note_reply_line(m, data + start, i + 1 - start);
				start = i + 1;
			}
		}
		if (start < size)
			note_reply_line(m, data + start, size - start);
	}
	else if (type == CURLINFO_HEADER_OUT && m->kind == KIND_SMTP)
	{
		if (size >= 9 && pg_strncasecmp(data, "MAIL FROM", 9) == 0)
			m->phase = PHASE_MAIL;
		else if (size >= 7 && pg_strncasecmp(data, "RCPT TO", 7) == 0)
			m->phase = PHASE_RCPT;
		else if (size >= 4 && pg_strncasecmp(data, "DATA", 4) == 0)
			m->phase = PHASE_DATA;
		else if (size >= 4 && pg_strncasecmp(data, "QUIT", 4) == 0)
			m->quitting = true;
	}
	return 0;
}

/*
 * write_callback: libcurl's CURLOPT_WRITEFUNCTION; keeps the start of an
 * HTTP response body for the detail and drops the rest.
 */
static size_t
write_callback(char *data, size_t size, size_t nmemb, void *userp)
{
	CdpMailer  *m = userp;
	size_t		n = size * nmemb;
	size_t		room = RESPONSE_KEEP - m->response_len;
	size_t		take = n < room ? n : room;

	memcpy(m->response + m->response_len, data, take);
	m->response_len += take;
	m->response[m->response_len] = '\0';
	return n;
}

/* ---- the mailer ---- */

/*
 * cdp_mailer_create: a mailer for the channel described by config, with
 * copies of its strings (malloc).  Initialises libcurl the first time.
 * Returns NULL when libcurl cannot be initialised or memory runs out.
 */
CdpMailer *
cdp_mailer_create(const CdpChannelConfig *config)
{
	CdpMailer  *m;
	bool		failed = false;

	if (!curl_initialised)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		curl_initialised = true;
	}
	m = calloc(1, sizeof(CdpMailer));
	if (m == NULL)
		return NULL;
	m->url = mail_strdup(config->url, &failed);
	m->username = mail_strdup(config->username, &failed);
	m->password = mail_strdup(config->password, &failed);
	m->tls = mail_strdup(config->tls, &failed);
	m->ca_file = mail_strdup(config->ca_file, &failed);
	m->http_headers = mail_strdup(config->http_headers, &failed);
	m->verify_peer = config->verify_peer;
	m->connect_timeout_ms = config->connect_timeout_ms > 0 ? config->connect_timeout_ms : 10000;
	m->timeout_ms = config->timeout_ms > 0 ? config->timeout_ms : 30000;
	m->curl = failed ? NULL : curl_easy_init();
	if (m->curl == NULL)
	{
		cdp_mailer_destroy(m);
		return NULL;
	}
	if (m->url == NULL)
		m->kind = KIND_NONE;
	else if (pg_strncasecmp(m->url, "smtp://", 7) == 0 ||
			 pg_strncasecmp(m->url, "smtps://", 8) == 0)
		m->kind = KIND_SMTP;
	else if (pg_strncasecmp(m->url, "http://", 7) == 0 ||
			 pg_strncasecmp(m->url, "https://", 8) == 0)
		m->kind = KIND_HTTP;
	else
		m->kind = KIND_NONE;
	return m;
}

/*
 * cdp_mailer_destroy: closes the mailer's connection (SMTP: QUIT) and
 * frees it.  NULL is allowed.
 */
void
cdp_mailer_destroy(CdpMailer *mailer)
{
	if (mailer == NULL)
		return;
	if (mailer->curl != NULL)
		curl_easy_cleanup(mailer->curl);
	free(mailer->url);
	free(mailer->username);
	free(mailer->password);
	free(mailer->tls);
	free(mailer->ca_file);
	free(mailer->http_headers);
	free(mailer);
}

/*
 * prepare_transfer: resets the easy handle (the connection stays in its
 * cache) and sets what every transfer of this mailer shares: URL,
 * protocols, callbacks, timeouts, TLS and credentials.  Clears the state
 * the callbacks fill.
 */
static void
prepare_transfer(CdpMailer *m, const char *url, MailerKind kind)
{
	CURL	   *c = m->curl;

	curl_easy_reset(c);
	m->phase = PHASE_SESSION;
	m->quitting = false;
	m->replies = 0;
	m->last_code = 0;
	m->last_line[0] = '\0';
	m->last_enhanced[0] = '\0';
	m->response_len = 0;
	m->response[0] = '\0';
	m->errbuf[0] = '\0';

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, kind == KIND_SMTP ? "smtp,smtps" : "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, m->errbuf);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_callback);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, m);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_callback);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, m);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, m->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, m->timeout_ms);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, m->verify_peer ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, m->verify_peer ? 2L : 0L);
	if (m->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, m->ca_file);
	if (m->username != NULL)
	{
		curl_easy_setopt(c, CURLOPT_USERNAME, m->username);
		curl_easy_setopt(c, CURLOPT_PASSWORD, m->password ? m->password : "");
	}
	if (kind == KIND_SMTP)
	{
		long		use_ssl = CURLUSESSL_TRY;

		if (m->tls != NULL && strcmp(m->tls, "none") == 0)
			use_ssl = CURLUSESSL_NONE;
		else if (m->tls != NULL && strcmp(m->tls, "required") == 0)
			use_ssl = CURLUSESSL_ALL;
		curl_easy_setopt(c, CURLOPT_USE_SSL, use_ssl);
	}
}

/*
 * never_connected_error: whether a libcurl error means the channel itself
 * is unusable (name, connection, TLS, credentials, URL) rather than that
 * this transfer broke.
 */
static bool
channel_error_code(CURLcode rc)
{
	switch (rc)
	{
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_FAILED_INIT:
		case CURLE_URL_MALFORMAT:
		case CURLE_NOT_BUILT_IN:
		case CURLE_COULDNT_RESOLVE_PROXY:
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_CONNECT:
		case CURLE_REMOTE_ACCESS_DENIED:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_LOGIN_DENIED:
		case CURLE_SSL_ENGINE_NOTFOUND:
		case CURLE_SSL_ENGINE_SETFAILED:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_USE_SSL_FAILED:
		case CURLE_SSL_ENGINE_INITFAILED:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_SHUTDOWN_FAILED:
		case CURLE_SSL_CRL_BADFILE:
		case CURLE_SSL_ISSUER_ERROR:
		case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		case CURLE_SSL_INVALIDCERTSTATUS:
		case CURLE_AUTH_ERROR:
			return true;
		default:
			return false;
	}
}

/*
 * finish_result: fills reply_code, enhanced, bad_address and, when the
 * status has no detail yet, the detail (the server's last line, else
 * libcurl's error) from the transfer just done.
 */
static void
finish_result(CdpMailer *m, CURLcode rc, CdpSendResult *r)
{
	const char *err;

	r->reply_code = m->last_code;
	strlcpy(r->enhanced, m->last_enhanced, sizeof(r->enhanced));
	r->bad_address = r->status == CDP_SEND_PERMFAIL &&
		strncmp(r->enhanced, "5.1.", 4) == 0;
	err = m->errbuf[0] ? m->errbuf : curl_easy_strerror(rc);
	if (rc != CURLE_OK && (m->last_line[0] == '\0' || m->last_code < 400))
	{
		/* libcurl's own error says more than a positive reply */
		copy_clean(r->detail, sizeof(r->detail), err, strlen(err));
	}
	else
		strlcpy(r->detail, m->last_line, sizeof(r->detail));
}

/*
 * classify_smtp: the status of an SMTP transfer that ended with rc, from
 * the phase it reached and the last reply code.
 */
static CdpSendStatus
classify_smtp(CdpMailer *m, CURLcode rc)
{
	long		code = m->last_code;

	if (rc == CURLE_OK)
		return CDP_SEND_OK;
	if (m->phase == PHASE_SESSION || channel_error_code(rc))
		return CDP_SEND_CHANNEL_ERROR;
	if (code == 530)
		return CDP_SEND_CHANNEL_ERROR;	/* authentication required */
	if (code >= 500 && code < 600)
		return CDP_SEND_PERMFAIL;
	return CDP_SEND_TEMPFAIL;
}

/*
 * build_smtp_message: sets the envelope, headers and MIME body of msg on
 * the mailer's handle.  The lists and MIME structure it allocates are
 * returned for the caller to free after the transfer.  Returns NULL when
 * the message is acceptable, else why not (the result is then PERMFAIL).
 */
static const char *
build_smtp_message(CdpMailer *m, const CdpMailMessage *msg,
				   struct curl_slist **rcpt, struct curl_slist **headers,
				   curl_mime **mime, char **bodies)
{
	CURL	   *c = m->curl;
	const char *name;
	const char *addr;
	size_t		namelen;
	size_t		addrlen;
	const char *env;
	size_t		envlen;
	MBuf		b = {0};
	const char *complaint = NULL;
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t		now = time(NULL);
	struct tm	tm;
	char		line[128];
	curl_mimepart *part;
	size_t		len;
	int			nbodies = 0;

	/* header injection and plausibility */
	if (msg->to == NULL || msg->to[0] == '\0')
		return "the message has no recipient";
	if (msg->from == NULL || msg->from[0] == '\0')
		return "the message has no sender";
	if (msg->text_body == NULL && msg->html_body == NULL)
		return "the message has neither a text nor an HTML body";
	if (has_line_break(msg->from) || has_line_break(msg->envelope_from) ||
		has_line_break(msg->to) || has_line_break(msg->subject) ||
		has_line_break(msg->message_id) || has_line_break(msg->list_unsubscribe))
		return "header injection refused: a header value contains a line break";
	if (!plausible_address(msg->to, strlen(msg->to)))
		return "the recipient is not one plausible e-mail address";
	split_from(msg->from, &name, &namelen, &addr, &addrlen);
	if (!plausible_address(addr, addrlen))
		return "the sender (From) has no plausible e-mail address";
	if (msg->envelope_from != NULL)
	{
		env = msg->envelope_from;
		envlen = strlen(env);
		if (!plausible_address(env, envlen))
			return "the envelope sender is not a plausible e-mail address";
	}
	else
	{
		env = addr;
		envlen = addrlen;
	}
	if (msg->message_id != NULL &&
		(!is_ascii_printable(msg->message_id, strlen(msg->message_id)) ||
		 strchr(msg->message_id, '@') == NULL))
		return "the Message-ID is not printable ASCII with an @";
	if (msg->list_unsubscribe != NULL &&
		!is_ascii_printable(msg->list_unsubscribe, strlen(msg->list_unsubscribe)))
		return "the List-Unsubscribe URL is not printable ASCII";

	/* envelope */
	mbuf_puts(&b, "<");
	mbuf_append(&b, env, envlen);
	mbuf_puts(&b, ">");
	if (b.failed)
		goto oom;
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, b.data);
	b.len = 0;
	mbuf_puts(&b, "<");
	mbuf_puts(&b, msg->to);
	mbuf_puts(&b, ">");
	if (!header_list_add(rcpt, &b))
		goto oom;
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, *rcpt);

	/* headers */
	gmtime_r(&now, &tm);
	snprintf(line, sizeof(line), "Date: %s, %02d %s %04d %02d:%02d:%02d +0000",
			 days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
	b.len = 0;
	mbuf_puts(&b, line);
	if (!header_list_add(headers, &b))
		goto oom;

	b.len = 0;
	mbuf_puts(&b, "From: ");
	if (namelen > 0)
	{
		bool		quoted = namelen >= 2 && name[0] == '"' && name[namelen - 1] == '"';

		if (is_ascii_printable(name, namelen) && memmem(name, namelen, "=?", 2) == NULL &&
			(quoted || !has_any(name, namelen, "()<>[]:;@\\,.\"")))
			mbuf_append(&b, name, namelen);
		else if (is_ascii_printable(name, namelen) && memmem(name, namelen, "=?", 2) == NULL)
		{
			/* specials: a quoted-string */
			size_t		i;

			mbuf_append(&b, "\"", 1);
			for (i = 0; i < namelen; i++)
			{
				if (name[i] == '"' || name[i] == '\\')
					mbuf_append(&b, "\\", 1);
				mbuf_append(&b, name + i, 1);
			}
			mbuf_append(&b, "\"", 1);
		}
		else
		{
			/* an encoded-word may not be quoted: drop the quotes */
			if (namelen >= 2 && name[0] == '"' && name[namelen - 1] == '"')
			{
				name++;
				namelen -= 2;
			}
			append_encoded_words(&b, name, namelen);
		}
		mbuf_puts(&b, " <");
		mbuf_append(&b, addr, addrlen);
		mbuf_puts(&b, ">");
	}
	else
		mbuf_append(&b, addr, addrlen);
	if (!header_list_add(headers, &b))
		goto oom;

	b.len = 0;
	mbuf_puts(&b, "To: ");
	mbuf_puts(&b, msg->to);
	if (!header_list_add(headers, &b))
		goto oom;

	b.len = 0;
	mbuf_puts(&b, "Subject: ");
	if (msg->subject != NULL)
		append_header_text(&b, msg->subject, strlen(msg->subject));
	if (!header_list_add(headers, &b))
		goto oom;

	b.len = 0;
	mbuf_puts(&b, "Message-ID: ");
	if (msg->message_id != NULL)
		mbuf_puts(&b, msg->message_id);
	else
	{
		const char *at = memchr(env, '@', envlen);

		snprintf(line, sizeof(line), "<%ld.%d.%u@", (long) now, (int) getpid(),
				 ++m->sequence);
		mbuf_puts(&b, line);
		mbuf_append(&b, at + 1, env + envlen - at - 1);
		mbuf_puts(&b, ">");
	}
	if (!header_list_add(headers, &b))
		goto oom;

	b.len = 0;
	mbuf_puts(&b, "MIME-Version: 1.0");
	if (!header_list_add(headers, &b))
		goto oom;

	if (msg->list_unsubscribe != NULL)
	{
		b.len = 0;
		mbuf_puts(&b, "List-Unsubscribe: <");
		mbuf_puts(&b, msg->list_unsubscribe);
		mbuf_puts(&b, ">");
		if (!header_list_add(headers, &b))
			goto oom;
		b.len = 0;
		mbuf_puts(&b, "List-Unsubscribe-Post: List-Unsubscribe=One-Click");
		if (!header_list_add(headers, &b))
			goto oom;
	}

	complaint = for_each_header_line(msg->extra_headers, add_extra_smtp_header, headers);
	if (complaint != NULL)
	{
		mbuf_free(&b);
		return complaint;
	}

	b.len = 0;
	mbuf_puts(&b, "Content-Type: multipart/alternative");
	if (!header_list_add(headers, &b))
		goto oom;
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *headers);

	/* body: text first, HTML last (the preferred alternative) */
	*mime = curl_mime_init(c);
	if (*mime == NULL)
		goto oom;
	if (msg->text_body != NULL)
	{
		bodies[nbodies] = to_crlf(msg->text_body, &len);
		if (bodies[nbodies] == NULL || (part = curl_mime_addpart(*mime)) == NULL)
			goto oom;
		if (curl_mime_data(part, bodies[nbodies], len) != CURLE_OK ||
			curl_mime_type(part, "text/plain; charset=utf-8") != CURLE_OK ||
			curl_mime_encoder(part, "quoted-printable") != CURLE_OK)
			goto oom;
		nbodies++;
	}
	if (msg->html_body != NULL)
	{
		bodies[nbodies] = to_crlf(msg->html_body, &len);
		if (bodies[nbodies] == NULL || (part = curl_mime_addpart(*mime)) == NULL)
			goto oom;
		if (curl_mime_data(part, bodies[nbodies], len) != CURLE_OK ||
			curl_mime_type(part, "text/html; charset=utf-8") != CURLE_OK ||
			curl_mime_encoder(part, "quoted-printable") != CURLE_OK)
			goto oom;
		nbodies++;
	}
	curl_easy_setopt(c, CURLOPT_MIMEPOST, *mime);
	mbuf_free(&b);
	return NULL;

oom:
	mbuf_free(&b);
	return "out of memory while building the message";
}

/*
 * smtp_send: delivers msg over the mailer's SMTP connection and fills r.
 */
static void
smtp_send(CdpMailer *m, const CdpMailMessage *msg, CdpSendResult *r)
{
	int			attempt;

	for (attempt = 0; attempt < 2; attempt++)
	{
		struct curl_slist *rcpt = NULL;
		struct curl_slist *headers = NULL;
		curl_mime  *mime = NULL;
		char	   *bodies[2] = {NULL, NULL};
		const char *complaint;
		CURLcode	rc;
		long		connects = 1;

		prepare_transfer(m, m->url, KIND_SMTP);
		if (attempt > 0)
			curl_easy_setopt(m->curl, CURLOPT_FRESH_CONNECT, 1L);
		complaint = build_smtp_message(m, msg, &rcpt, &headers, &mime, bodies);
		if (complaint != NULL)
		{
			set_result(r, CDP_SEND_PERMFAIL, "%s", complaint);
			rc = CURLE_OK;
		}
		else
		{
			rc = curl_easy_perform(m->curl);
			curl_easy_getinfo(m->curl, CURLINFO_NUM_CONNECTS, &connects);
			r->status = classify_smtp(m, rc);
			finish_result(m, rc, r);
		}
		/* the handle must not keep pointers to what is freed now */
		curl_easy_setopt(m->curl, CURLOPT_MIMEPOST, NULL);
		curl_easy_setopt(m->curl, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(m->curl, CURLOPT_MAIL_RCPT, NULL);
		curl_mime_free(mime);
		curl_slist_free_all(headers);
		curl_slist_free_all(rcpt);
		free(bodies[0]);
		free(bodies[1]);
		if (complaint != NULL)
			return;

		/*
		 * A kept connection that the server closed meanwhile fails before
		 * any reply (or with 421 to MAIL FROM): nothing was accepted, so
		 * try once more on a new connection.
		 */
		if (rc != CURLE_OK && connects == 0 && attempt == 0 &&
			(m->replies == 0 || (m->last_code == 421 && m->phase <= PHASE_MAIL)))
			continue;
		return;
	}
}

/* json_string: appends s as a JSON string (UTF-8 kept, controls escaped) */
static void
json_string(MBuf *b, const char *s, size_t n)
{
	size_t		i;
	size_t		start = 0;

	mbuf_append(b, "\"", 1);
	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];
		const char *esc = NULL;
		char		u[8];

		if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\r')
			esc = "\\r";
		else if (c == '\t')
			esc = "\\t";
		else if (c == '\b')
			esc = "\\b";
		else if (c == '\f')
			esc = "\\f";
		else if (c < 0x20 || c == 0x7F)
		{
			snprintf(u, sizeof(u), "\\u%04x", c);
			esc = u;
		}
		if (esc != NULL)
		{
			mbuf_append(b, s + start, i - start);
			mbuf_puts(b, esc);
			start = i + 1;
		}
	}
	mbuf_append(b, s + start, n - start);
	mbuf_append(b, "\"", 1);
}

/* json_member: appends ,"key":"value" (or the first member without comma) */
static void
json_member(MBuf *b, bool *first, const char *key, const char *value, size_t n)
{
	if (!*first)
		mbuf_append(b, ",", 1);
	*first = false;
	json_string(b, key, strlen(key));
	mbuf_append(b, ":", 1);
	json_string(b, value, n);
}

/* add_json_header: for_each_header_line callback adding a member */
static const char *
add_json_header(const char *name, size_t namelen,
				const char *value, size_t valuelen, void *arg)
{
	MBuf	   *b = ((MBuf **) arg)[0];
	bool	   *first = ((bool **) arg)[1];

	if (!*first)
		mbuf_append(b, ",", 1);
	*first = false;
	json_string(b, name, namelen);
	mbuf_append(b, ":", 1);
	json_string(b, value, valuelen);
	return NULL;
}

/*
 * http_post: POSTs json (n bytes) to url with the channel's headers plus
 * the given ones, and fills r from the response.
 */
static void
http_post(CdpMailer *m, const char *url, const char *json, size_t n,
		  const char *extra, CdpSendResult *r)
{
	struct curl_slist *headers = NULL;
	struct curl_slist *l;
	const char *complaint;
	CURLcode	rc;
	long		status = 0;

	prepare_transfer(m, url, KIND_HTTP);
	l = curl_slist_append(NULL, "Content-Type: application/json");
	if (l != NULL)
		headers = l;
	l = l ? curl_slist_append(headers, "Expect:") : NULL;
	if (l == NULL)
	{
		curl_slist_free_all(headers);
		set_result(r, CDP_SEND_TEMPFAIL, "out of memory");
		return;
	}
	complaint = for_each_header_line(m->http_headers, add_plain_header, &headers);
	if (complaint != NULL)
	{
		curl_slist_free_all(headers);
		set_result(r, CDP_SEND_CHANNEL_ERROR, "channel headers: %s", complaint);
		return;
	}
	complaint = for_each_header_line(extra, add_plain_header, &headers);
	if (complaint != NULL)
	{
		curl_slist_free_all(headers);
		set_result(r, CDP_SEND_PERMFAIL, "request headers: %s", complaint);
		return;
	}
	curl_easy_setopt(m->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(m->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(m->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) n);
	curl_easy_setopt(m->curl, CURLOPT_POSTFIELDS, json);

	rc = curl_easy_perform(m->curl);
	curl_easy_getinfo(m->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(m->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(m->curl, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(headers);

	r->reply_code = status;
	if (rc != CURLE_OK)
	{
		curl_off_t	connect_time = 0;
		long		connects = 0;
		const char *err = m->errbuf[0] ? m->errbuf : curl_easy_strerror(rc);

		curl_easy_getinfo(m->curl, CURLINFO_CONNECT_TIME_T, &connect_time);
		curl_easy_getinfo(m->curl, CURLINFO_NUM_CONNECTS, &connects);
		/* never connected (and no kept connection used): the channel */
		if (channel_error_code(rc) || (connect_time == 0 && connects > 0 && status == 0))
			r->status = CDP_SEND_CHANNEL_ERROR;
		else
			r->status = CDP_SEND_TEMPFAIL;
		copy_clean(r->detail, sizeof(r->detail), err, strlen(err));
		return;
	}
	if (status >= 200 && status < 300)
		r->status = CDP_SEND_OK;
	else if (status == 408 || status == 429 || (status >= 500 && status < 600))
		r->status = CDP_SEND_TEMPFAIL;
	else if (status == 401 || status == 407)
		r->status = CDP_SEND_CHANNEL_ERROR;
	else if (status >= 400 && status < 500)
		r->status = CDP_SEND_PERMFAIL;
	else
		r->status = CDP_SEND_CHANNEL_ERROR;
	if (m->response_len > 0)
		copy_clean(r->detail, sizeof(r->detail), m->response, m->response_len);
	else
		strlcpy(r->detail, m->last_line, sizeof(r->detail));
}

/*
 * http_send: delivers msg through an HTTP e-mail API as the JSON document
 * {"from","to","subject","text","html","message_id","headers"} (absent
 * parts left out) and fills r.
 */
static void
http_send(CdpMailer *m, const CdpMailMessage *msg, CdpSendResult *r)
{
	MBuf		b = {0};
	bool		first = true;
	bool		hfirst = true;
	void	   *args[2];
	const char *complaint;

	if (msg->to == NULL || msg->to[0] == '\0')
	{
		set_result(r, CDP_SEND_PERMFAIL, "the message has no recipient");
		return;
	}
	if (!plausible_address(msg->to, strlen(msg->to)))
	{
		set_result(r, CDP_SEND_PERMFAIL, "the recipient is not one plausible e-mail address");
		return;
	}
	if (msg->text_body == NULL && msg->html_body == NULL)
	{
		set_result(r, CDP_SEND_PERMFAIL, "the message has neither a text nor an HTML body");
		return;
	}
	if (has_line_break(msg->from) || has_line_break(msg->envelope_from) ||
		has_line_break(msg->subject) || has_line_break(msg->message_id) ||
		has_line_break(msg->list_unsubscribe))
	{
		set_result(r, CDP_SEND_PERMFAIL, "header injection refused: a header value contains a line break");
		return;
	}
	mbuf_append(&b, "{", 1);
	if (msg->from)
		json_member(&b, &first, "from", msg->from, strlen(msg->from));
	if (msg->envelope_from)
		json_member(&b, &first, "envelope_from", msg->envelope_from, strlen(msg->envelope_from));
	json_member(&b, &first, "to", msg->to, strlen(msg->to));
	json_member(&b, &first, "subject", msg->subject ? msg->subject : "",
				msg->subject ? strlen(msg->subject) : 0);
	if (msg->text_body)
		json_member(&b, &first, "text", msg->text_body, strlen(msg->text_body));
	if (msg->html_body)
		json_member(&b, &first, "html", msg->html_body, strlen(msg->html_body));
	if (msg->message_id)
		json_member(&b, &first, "message_id", msg->message_id, strlen(msg->message_id));
	mbuf_puts(&b, ",\"headers\":{");
	if (msg->list_unsubscribe)
	{
		size_t		n = strlen(msg->list_unsubscribe);
		MBuf		v = {0};

		mbuf_puts(&v, "<");
		mbuf_append(&v, msg->list_unsubscribe, n);
		mbuf_puts(&v, ">");
		if (v.failed)
			b.failed = true;
		else
			json_member(&b, &hfirst, "List-Unsubscribe", v.data, v.len);
		mbuf_free(&v);
		json_member(&b, &hfirst, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click",
					strlen("List-Unsubscribe=One-Click"));
	}
	args[0] = &b;
	args[1] = &hfirst;
	complaint = for_each_header_line(msg->extra_headers, add_json_header, args);
	if (complaint != NULL)
	{
		mbuf_free(&b);
		set_result(r, CDP_SEND_PERMFAIL, "%s", complaint);
		return;
	}
	mbuf_puts(&b, "}}");
	if (b.failed)
	{
		mbuf_free(&b);
		set_result(r, CDP_SEND_TEMPFAIL, "out of memory while building the request");
		return;
	}
	http_post(m, m->url, b.data, b.len, NULL, r);
	mbuf_free(&b);
}

/*
 * cdp_mailer_send: delivers one message through the mailer's channel and
 * fills *result (status, reply code, enhanced code, detail, time taken).
 * Never ereports, pallocs or longjmps.
 */
void
cdp_mailer_send(CdpMailer *mailer, const CdpMailMessage *message,
				CdpSendResult *result)
{
	double		start = now_ms();

	memset(result, 0, sizeof(*result));
	if (mailer == NULL || mailer->curl == NULL)
		set_result(result, CDP_SEND_CHANNEL_ERROR, "no mailer (out of memory)");
	else if (mailer->kind == KIND_SMTP)
		smtp_send(mailer, message, result);
	else if (mailer->kind == KIND_HTTP)
		http_send(mailer, message, result);
	else
		set_result(result, CDP_SEND_CHANNEL_ERROR,
				   "the channel URL is missing or not smtp://, smtps://, http:// or https://");
	result->elapsed_ms = now_ms() - start;
}

/*
 * cdp_mailer_post_json: POSTs the JSON document json to url (NULL: the
 * channel's URL) with the channel's headers plus headers ("Name: value"
 * lines, may be NULL), classified like an HTTP e-mail API call.
 */
void
cdp_mailer_post_json(CdpMailer *mailer, const char *url, const char *json,
					 const char *headers, CdpSendResult *result)
{
	double		start = now_ms();

	memset(result, 0, sizeof(*result));
	if (url == NULL && mailer != NULL)
		url = mailer->url;
	if (mailer == NULL || mailer->curl == NULL)
		set_result(result, CDP_SEND_CHANNEL_ERROR, "no mailer (out of memory)");
	else if (url == NULL ||
			 (pg_strncasecmp(url, "http://", 7) != 0 &&
			  pg_strncasecmp(url, "https://", 8) != 0))
		set_result(result, CDP_SEND_CHANNEL_ERROR, "the webhook URL is missing or not http:// or https://");
	else if (json == NULL)
		set_result(result, CDP_SEND_PERMFAIL, "no JSON document to post");
	else
	{
		MailerKind	kind = mailer->kind;

		mailer->kind = KIND_HTTP;
		http_post(mailer, url, json, strlen(json), headers, result);
		mailer->kind = kind;
	}
	result->elapsed_ms = now_ms() - start;
}

/*
 * cdp_send_status_name: the name of a status as the SQL functions and the
 * outbox spell it.
 */
const char *
cdp_send_status_name(CdpSendStatus status)
{
	switch (status)
	{
		case CDP_SEND_OK:
			return "sent";
		case CDP_SEND_TEMPFAIL:
			return "tempfail";
		case CDP_SEND_PERMFAIL:
			return "permfail";
		case CDP_SEND_CHANNEL_ERROR:
			return "channel_error";
	}
	return "channel_error";
}

/* ---- configuration and the SQL functions (inside a transaction) ---- */

/*
 * key_error: ereports the 22023 error for a key of a jsonb argument.
 */
static void
key_error(const char *what, const char *key, const char *problem, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s key \"%s\"", what, key),
			 errdetail("%s", problem),
			 errhint("%s", hint)));
}

/*
 * jsonb_string_value: the palloc'd string of a jsonb scalar v for key, or
 * NULL when v is JSON null; ereports when v is not a string.  Strings are
 * converted from the server encoding to UTF-8.
 */
static char *
jsonb_string_value(const char *what, const char *key, JsonbValue *v,
				   const char *hint)
{
	char	   *s;

	if (v->type == jbvNull)
		return NULL;
	if (v->type != jbvString)
		key_error(what, key, "The value must be a string.", hint);
	s = pnstrdup(v->val.string.val, v->val.string.len);
	if (strlen(s) != (size_t) v->val.string.len)
		key_error(what, key, "The value contains a NUL character.", hint);
	return pg_server_to_any(s, strlen(s), PG_UTF8);
}

/*
 * jsonb_headers_value: the object v of header names to string values as
 * "Name: value" lines separated by \n (palloc'd), or NULL for JSON null.
 */
static char *
jsonb_headers_value(const char *what, const char *key, JsonbValue *v,
					const char *hint)
{
	StringInfoData buf;
	JsonbIterator *it;
	JsonbValue	hv;
	JsonbIteratorToken r;
	char	   *name = NULL;

	if (v->type == jbvNull)
		return NULL;
	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		key_error(what, key, "The value must be an object of header names and string values.", hint);
	initStringInfo(&buf);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((r = JsonbIteratorNext(&it, &hv, true)) != WJB_DONE)
	{
		if (r == WJB_KEY)
		{
			name = pnstrdup(hv.val.string.val, hv.val.string.len);
			if (!valid_header_name(name, strlen(name)))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid header name \"%s\"", name),
						 errdetail("A header name is 1 to 76 printable ASCII characters without spaces or colons."),
						 errhint("%s", hint)));
		}
		else if (r == WJB_VALUE)
		{
			char	   *value;

			if (hv.type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value of header \"%s\"", name),
						 errdetail("Header values must be strings."),
						 errhint("%s", hint)));
			value = pnstrdup(hv.val.string.val, hv.val.string.len);
			if (strpbrk(value, "\r\n") != NULL || strlen(value) != (size_t) hv.val.string.len)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value of header \"%s\"", name),
						 errdetail("Header values may not contain line breaks or NUL characters."),
						 errhint("%s", hint)));
			appendStringInfo(&buf, "%s%s: %s", buf.len > 0 ? "\n" : "", name,
							 pg_server_to_any(value, strlen(value), PG_UTF8));
		}
	}
	return buf.data;
}

/*
 * jsonb_ms_value: a non-negative number of milliseconds (at most one day)
 * from v; 0 for JSON null.
 */
static long
jsonb_ms_value(const char *what, const char *key, JsonbValue *v, const char *hint)
{
	Datum		d;
	double		ms;

	if (v->type == jbvNull)
		return 0;
	if (v->type != jbvNumeric)
		key_error(what, key, "The value must be a number of milliseconds.", hint);
	d = DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric));
	ms = DatumGetFloat8(d);
	if (!(ms >= 0 && ms <= 86400000))
		key_error(what, key, "The value must be between 0 and 86400000 milliseconds.", hint);
	return (long) ms;
}

#define CONFIG_HINT "Channel settings are url, username, password, tls (none, try, required), verify_peer, ca_file, connect_timeout_ms, timeout_ms and headers."

/*
 * cdp_channel_config_from_jsonb: fills *out from a jsonb object with the
 * keys url, username, password, tls, verify_peer, ca_file,
 * connect_timeout_ms, timeout_ms and headers (object of name -> value).
 * Strings are palloc'd in the current memory context, in UTF-8.  Ereports
 * 22023 on unknown keys, wrong types or values out of range.
 */
void
cdp_channel_config_from_jsonb(Jsonb *config, CdpChannelConfig *out)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken r;
	char	   *key = NULL;

	memset(out, 0, sizeof(*out));
	out->verify_peer = true;
	if (!JB_ROOT_IS_OBJECT(config) || JB_ROOT_IS_SCALAR(config))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("channel configuration must be a JSON object"),
				 errdetail("The configuration given is not an object."),
				 errhint(CONFIG_HINT)));
	it = JsonbIteratorInit(&config->root);
	while ((r = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (r == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (r != WJB_VALUE)
			continue;
		if (strcmp(key, "url") == 0)
		{
			out->url = jsonb_string_value("channel", key, &v, CONFIG_HINT);
			if (out->url != NULL &&
				pg_strncasecmp(out->url, "smtp://", 7) != 0 &&
				pg_strncasecmp(out->url, "smtps://", 8) != 0 &&
				pg_strncasecmp(out->url, "http://", 7) != 0 &&
				pg_strncasecmp(out->url, "https://", 8) != 0)
				key_error("channel", key, "The URL must start with smtp://, smtps://, http:// or https://.", CONFIG_HINT);
		}
		else if (strcmp(key, "username") == 0)
			out->username = jsonb_string_value("channel", key, &v, CONFIG_HINT);
		else if (strcmp(key, "password") == 0)
			out->password = jsonb_string_value("channel", key, &v, CONFIG_HINT);
		else if (strcmp(key, "tls") == 0)
		{
			out->tls = jsonb_string_value("channel", key, &v, CONFIG_HINT);
			if (out->tls != NULL && strcmp(out->tls, "none") != 0 &&
				strcmp(out->tls, "try") != 0 && strcmp(out->tls, "required") != 0)
				key_error("channel", key, "The value must be \"none\", \"try\" or \"required\".", CONFIG_HINT);
		}
		else if (strcmp(key, "verify_peer") == 0)
		{
			if (v.type != jbvBool)
				key_error("channel", key, "The value must be true or false.", CONFIG_HINT);
			out->verify_peer = v.val.boolean;
		}
		else if (strcmp(key, "ca_file") == 0)
			out->ca_file = jsonb_string_value("channel", key, &v, CONFIG_HINT);
		else if (strcmp(key, "connect_timeout_ms") == 0)
			out->connect_timeout_ms = jsonb_ms_value("channel", key, &v, CONFIG_HINT);
		else if (strcmp(key, "timeout_ms") == 0)
			out->timeout_ms = jsonb_ms_value("channel", key, &v, CONFIG_HINT);
		else if (strcmp(key, "headers") == 0)
			out->http_headers = jsonb_headers_value("channel", key, &v, CONFIG_HINT);
		else
			key_error("channel", key, "This key is not a channel setting.", CONFIG_HINT);
	}
}

#define MESSAGE_HINT "Message keys are from, envelope_from, to, subject, text, html, message_id, list_unsubscribe and headers; to, from and text or html are required."

/*
 * message_from_jsonb: fills *out from a message object (keys from,
 * envelope_from, to, subject, text, html, message_id, list_unsubscribe,
 * headers); ereports 22023 on unknown keys, wrong types, or a missing
 * recipient, sender or body.
 */
static void
message_from_jsonb(JsonbContainer *msg, CdpMailMessage *out)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken r;
	char	   *key = NULL;

	memset(out, 0, sizeof(*out));
	if (!JsonContainerIsObject(msg) || JsonContainerIsScalar(msg))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("message must be a JSON object"),
				 errdetail("The message given is not an object."),
				 errhint(MESSAGE_HINT)));
	it = JsonbIteratorInit(msg);
	while ((r = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (r == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (r != WJB_VALUE)
			continue;
		if (strcmp(key, "from") == 0)
			out->from = jsonb_string_value("message", key, &v, MESSAGE_HINT);
		else if (strcmp(key, "envelope_from") == 0)
			out->envelope_from = jsonb_string_value("message", key, &v, MESSAGE_HINT);
		else if (strcmp(key, "to") == 0)
			out->to = jsonb_string_value("message", key, &v, MESSAGE_HINT);
		else if (strcmp(key, "subject") == 0)
			out->subject = jsonb_string_value("message", key, &v, MESSAGE_HINT);
		else if (strcmp(key, "text") == 0)
			out->text_body = jsonb_string_value("message", key, &v, MESSAGE_HINT);
		else if (strcmp(key, "html") == 0)
			out->html_body = jsonb_string_value("message", key, &v, MESSAGE_HINT);
		else if (strcmp(key, "message_id") == 0)
			out->message_id = jsonb_string_value("message", key, &v, MESSAGE_HINT);
		else if (strcmp(key, "list_unsubscribe") == 0)
			out->list_unsubscribe = jsonb_string_value("message", key, &v, MESSAGE_HINT);
		else if (strcmp(key, "headers") == 0)
			out->extra_headers = jsonb_headers_value("message", key, &v, MESSAGE_HINT);
		else
			key_error("message", key, "This key is not a message field.", MESSAGE_HINT);
	}
	if (out->to == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("message has no \"to\""),
				 errdetail("Every message needs exactly one recipient address."),
				 errhint(MESSAGE_HINT)));
	if (out->from == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("message has no \"from\""),
				 errdetail("Every message needs a sender."),
				 errhint(MESSAGE_HINT)));
	if (out->text_body == NULL && out->html_body == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("message has neither \"text\" nor \"html\""),
				 errdetail("A message needs a text body, an HTML body or both."),
				 errhint(MESSAGE_HINT)));
}

/*
 * append_result_json: appends a send result as a JSON object
 * {"status", "reply_code", "enhanced", "bad_address", "detail", "ms"}.
 * The detail (UTF-8) is converted to the server encoding; what cannot be
 * converted becomes '?'.
 */
static void
append_result_json(StringInfo out, const CdpSendResult *r)
{
	char	   *detail = (char *) r->detail;

	if (GetDatabaseEncoding() != PG_UTF8 && !cdp_is_ascii(detail, strlen(detail)))
	{
		char	   *d = pstrdup(detail);
		char	   *p;

		for (p = d; *p; p++)
			if ((unsigned char) *p >= 0x80)
				*p = '?';
		detail = d;
	}
	appendStringInfo(out, "{\"status\": \"%s\", \"reply_code\": %ld, \"enhanced\": ",
					 cdp_send_status_name(r->status), r->reply_code);
	escape_json(out, r->enhanced);
	appendStringInfo(out, ", \"bad_address\": %s, \"detail\": ",
					 r->bad_address ? "true" : "false");
	escape_json(out, detail);
	appendStringInfo(out, ", \"ms\": %.3f}", r->elapsed_ms);
}

/*
 * mailer_or_error: a mailer for config, or an ereport when none can be made
 */
static CdpMailer *
mailer_or_error(const CdpChannelConfig *config)
{
	CdpMailer  *m = cdp_mailer_create(config);

	if (m == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not create a mailer"),
				 errdetail("libcurl could not be initialised or memory ran out.")));
	return m;
}

/*
 * cdp._mail_send(config jsonb, message jsonb) RETURNS jsonb: sends one
 * message (an object), or several through one connection (an array of
 * objects), and returns the result object, or an array of them.
 */
Datum
cdp_mail_send(PG_FUNCTION_ARGS)
{
	Jsonb	   *config = PG_GETARG_JSONB_P(0);
	Jsonb	   *message = PG_GETARG_JSONB_P(1);
	CdpChannelConfig cfg;
	CdpMailMessage *msgs;
	int			nmsgs;
	bool		is_array = JB_ROOT_IS_ARRAY(message) && !JB_ROOT_IS_SCALAR(message);
	CdpMailer  *volatile mailer;
	StringInfoData out;
	CdpSendResult *results;

	cdp_channel_config_from_jsonb(config, &cfg);
	if (cfg.url == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("channel configuration has no \"url\""),
				 errdetail("A channel needs an smtp://, smtps://, http:// or https:// URL."),
				 errhint(CONFIG_HINT)));

	/* every message is checked before anything is sent */
	if (is_array)
	{
		JsonbIterator *it = JsonbIteratorInit(&message->root);
		JsonbValue	v;
		JsonbIteratorToken r;
		int			i = 0;

		nmsgs = JB_ROOT_COUNT(message);
		if (nmsgs > 100000)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("too many messages in one call"),
					 errdetail("The array has %d messages; at most 100000 are sent in one call.", nmsgs),
					 errhint("Send them in several calls.")));
		msgs = palloc0(sizeof(CdpMailMessage) * Max(nmsgs, 1));
		while ((r = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			if (r != WJB_ELEM)
				continue;
			if (v.type != jbvBinary)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("message must be a JSON object"),
						 errdetail("Element %d of the array is not an object.", i + 1),
						 errhint(MESSAGE_HINT)));
			message_from_jsonb(v.val.binary.data, &msgs[i++]);
		}
	}
	else
	{
		nmsgs = 1;
		msgs = palloc0(sizeof(CdpMailMessage));
		message_from_jsonb(&message->root, &msgs[0]);
	}
	results = palloc0(sizeof(CdpSendResult) * Max(nmsgs, 1));

	mailer = mailer_or_error(&cfg);
	PG_TRY();
	{
		int			i;

		for (i = 0; i < nmsgs; i++)
		{
			CHECK_FOR_INTERRUPTS();
			cdp_mailer_send(mailer, &msgs[i], &results[i]);
		}
	}
	PG_FINALLY();
	{
		cdp_mailer_destroy(mailer);
	}
	PG_END_TRY();

	initStringInfo(&out);
	if (is_array)
	{
		int			i;

		appendStringInfoChar(&out, '[');
		for (i = 0; i < nmsgs; i++)
		{
			if (i > 0)
				appendStringInfoString(&out, ", ");
			append_result_json(&out, &results[i]);
		}
		appendStringInfoChar(&out, ']');
	}
	else
		append_result_json(&out, &results[0]);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}

/*
 * cdp._mail_post(config jsonb, url text, body jsonb) RETURNS jsonb: POSTs
 * body to url (NULL: the channel's URL) with the channel's headers, and
 * returns the result object.  NULL config or body gives NULL.
 */
Datum
cdp_mail_post(PG_FUNCTION_ARGS)
{
	CdpChannelConfig cfg;
	char	   *url = NULL;
	char	   *body;
	CdpMailer  *mailer;
	CdpSendResult result;
	StringInfoData out;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	cdp_channel_config_from_jsonb(PG_GETARG_JSONB_P(0), &cfg);
	if (!PG_ARGISNULL(1))
	{
		url = text_to_cstring(PG_GETARG_TEXT_PP(1));
		if (pg_strncasecmp(url, "http://", 7) != 0 &&
			pg_strncasecmp(url, "https://", 8) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid webhook URL \"%s\"", url),
					 errdetail("A webhook URL starts with http:// or https://."),
					 errhint("Give an http:// or https:// URL, or NULL to use the channel's URL.")));
		url = pg_server_to_any(url, strlen(url), PG_UTF8);
	}
	else if (cfg.url == NULL ||
			 (pg_strncasecmp(cfg.url, "http://", 7) != 0 &&
			  pg_strncasecmp(cfg.url, "https://", 8) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no webhook URL"),
				 errdetail("The url argument is NULL and the channel has no http:// or https:// URL."),
				 errhint("Give the URL as the second argument or as the channel's url.")));
	body = JsonbToCString(NULL, &PG_GETARG_JSONB_P(2)->root, VARSIZE(PG_GETARG_JSONB_P(2)));
	body = pg_server_to_any(body, strlen(body), PG_UTF8);

	mailer = mailer_or_error(&cfg);
	cdp_mailer_post_json(mailer, url, body, NULL, &result);
	cdp_mailer_destroy(mailer);

	initStringInfo(&out);
	append_result_json(&out, &result);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}
