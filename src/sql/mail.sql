
-- ---------------------------------------------------------------------------
-- mail.sql: delivery of e-mails and webhooks through libcurl (src/mail.c).
-- The journey worker calls the C functions directly; these wrappers send
-- through a channel configuration given as jsonb, for tests and for "send a
-- test e-mail".  They reach the network, so they start revoked from PUBLIC.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@._mail_send(config jsonb, message jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'cdp_mail_send'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@._mail_send(jsonb, jsonb) IS
  'Sends one e-mail (message object: from, envelope_from, to, subject, text, html, message_id, list_unsubscribe, headers), or an array of them over one connection, through a channel {"url": "smtp://…"|"https://…", username, password, tls, verify_peer, ca_file, connect_timeout_ms, timeout_ms, headers}; returns {"status": "sent"|"tempfail"|"permfail"|"channel_error", "reply_code", "enhanced", "bad_address", "detail", "ms"} (an array for an array)';
REVOKE EXECUTE ON FUNCTION @extschema@._mail_send(jsonb, jsonb) FROM PUBLIC;

CREATE FUNCTION @extschema@._mail_post(config jsonb, url text, body jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'cdp_mail_post'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@._mail_post(jsonb, text, jsonb) IS
  'POSTs a JSON document to a webhook URL (NULL: the channel''s url) with the channel''s headers and timeouts; returns {"status", "reply_code", "enhanced", "bad_address", "detail", "ms"} like cdp._mail_send (NULL when config or body is NULL)';
REVOKE EXECUTE ON FUNCTION @extschema@._mail_post(jsonb, text, jsonb) FROM PUBLIC;
