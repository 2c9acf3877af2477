/*-------------------------------------------------------------------------
 *
 * mail.h
 *	  Delivery of e-mails and webhooks through libcurl: SMTP (smtp://,
 *	  smtps://) and HTTP e-mail APIs (http://, https://).
 *
 * A CdpMailer is one reusable connection: a CURL easy handle with copies
 * of its channel's settings.  cdp_mailer_send and cdp_mailer_post_json
 * never ereport, never palloc and never longjmp, so that the journey
 * worker can call them outside any transaction; every failure is reported
 * in the CdpSendResult.  cdp_channel_config_from_jsonb is the only
 * function here that needs a transaction.
 *
 * Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_CDP_MAIL_H
#define PG_CDP_MAIL_H

#include "postgres.h"

#include "utils/jsonb.h"

typedef enum CdpSendStatus
{
	CDP_SEND_OK,				/* accepted by the server */
	CDP_SEND_TEMPFAIL,			/* 4xx, or the connection broke after the
								 * message was started: retry later */
	CDP_SEND_PERMFAIL,			/* 5xx for this message/recipient (HTTP 4xx
								 * except 408/429): do not retry */
	CDP_SEND_CHANNEL_ERROR		/* could not connect / TLS / authentication /
								 * bad URL: the channel is broken, retry
								 * later */
} CdpSendStatus;

typedef struct CdpChannelConfig
{
	const char *url;			/* smtp://host[:port], smtps://host[:port],
								 * http://…, https://… */
	const char *username;		/* NULL: no authentication */
	const char *password;
	const char *tls;			/* "none", "try" (STARTTLS when offered),
								 * "required" (NULL: "try") */
	bool		verify_peer;	/* verify the TLS certificate and host name */
	const char *ca_file;		/* NULL: system CAs */
	long		connect_timeout_ms; /* 0: 10 s */
	long		timeout_ms;		/* 0: 30 s for the whole transfer */
	const char *http_headers;	/* HTTP only: extra request headers, "Name:
								 * value" lines separated by \n */
} CdpChannelConfig;

typedef struct CdpMailMessage
{
	const char *from;			/* header From, e.g. "Shop <news@shop.test>" */
	const char *envelope_from;	/* MAIL FROM address; NULL: taken from from */
	const char *to;				/* exactly one recipient address */
	const char *subject;		/* UTF-8 */
	const char *text_body;		/* may be NULL */
	const char *html_body;		/* may be NULL (at least one of the two) */
	const char *message_id;		/* "<…@…>"; NULL: one is made up */
	const char *list_unsubscribe;	/* https URL for List-Unsubscribe (and
									 * List-Unsubscribe-Post, RFC 8058);
									 * NULL: none */
	const char *extra_headers;	/* "Name: value" lines separated by \n, or
								 * NULL */
} CdpMailMessage;

typedef struct CdpSendResult
{
	CdpSendStatus status;
	long		reply_code;		/* last SMTP reply code or HTTP status; 0 when
								 * none */
	char		enhanced[16];	/* RFC 3463 enhanced status code such as
								 * "5.1.1", else "" */
	bool		bad_address;	/* permanent failure with an enhanced code 5.1.x */
	char		detail[512];	/* the server's last reply line or libcurl's
								 * error text, for the log */
	double		elapsed_ms;
} CdpSendResult;

/* one reusable connection: a CURL easy handle and copies of the config */
typedef struct CdpMailer CdpMailer;

extern CdpMailer *cdp_mailer_create(const CdpChannelConfig *config);
extern void cdp_mailer_send(CdpMailer *mailer, const CdpMailMessage *message,
							CdpSendResult *result);
extern void cdp_mailer_post_json(CdpMailer *mailer, const char *url,
								 const char *json, const char *headers,
								 CdpSendResult *result);
extern void cdp_mailer_destroy(CdpMailer *mailer);
extern void cdp_channel_config_from_jsonb(Jsonb *config, CdpChannelConfig *out);

/* the name of a status as the SQL functions spell it ("sent", "tempfail"…) */
extern const char *cdp_send_status_name(CdpSendStatus status);

#endif							/* PG_CDP_MAIL_H */
