-- cdp._mail_send and cdp._mail_post (src/mail.c) without a mail server:
-- NULL handling, every argument error (SQLSTATE 22023 with its message),
-- messages refused before any connection (header injection, implausible
-- recipients, long and multibyte input), a server that is not listening,
-- and that the functions start revoked from PUBLIC.  Delivery to real
-- servers is tested in test/t/020_mail.pl.
SET extra_float_digits = 0;

-- NULL in, NULL out
SELECT cdp._mail_send(NULL, '{}') IS NULL AS send_null_config,
       cdp._mail_send('{}', NULL) IS NULL AS send_null_message,
       cdp._mail_post(NULL, 'http://x.test/', '{}') IS NULL AS post_null_config,
       cdp._mail_post('{}', 'http://x.test/', NULL) IS NULL AS post_null_body;

-- every argument error: (case, config, message, expected SQLSTATE and message)
CREATE TEMP TABLE mail_arg_case (n int, config jsonb, message jsonb, expected text);
INSERT INTO mail_arg_case VALUES
 (1, '[]', '{}', '22023: channel configuration must be a JSON object'),
 (2, '{"url": "smtp://127.0.0.1:1", "port": 25}', '{}', '22023: invalid channel key "port"'),
 (3, '{"url": 25}', '{}', '22023: invalid channel key "url"'),
 (4, '{"url": "ftp://x.test/"}', '{}', '22023: invalid channel key "url"'),
 (5, '{"url": "smtp://127.0.0.1:1", "tls": "maybe"}', '{}', '22023: invalid channel key "tls"'),
 (6, '{"url": "smtp://127.0.0.1:1", "verify_peer": "yes"}', '{}', '22023: invalid channel key "verify_peer"'),
 (7, '{"url": "smtp://127.0.0.1:1", "timeout_ms": -1}', '{}', '22023: invalid channel key "timeout_ms"'),
 (8, '{"url": "smtp://127.0.0.1:1", "connect_timeout_ms": "10"}', '{}', '22023: invalid channel key "connect_timeout_ms"'),
 (9, '{"url": "smtp://127.0.0.1:1", "headers": ["X-A: 1"]}', '{}', '22023: invalid channel key "headers"'),
 (10, '{"url": "smtp://127.0.0.1:1", "headers": {"X A": "1"}}', '{}', '22023: invalid header name "X A"'),
 (11, '{"url": "smtp://127.0.0.1:1", "headers": {"X-A": "1\r\nX-B: 2"}}', '{}', '22023: invalid value of header "X-A"'),
 (12, '{"url": "smtp://127.0.0.1:1", "headers": {"X-A": 1}}', '{}', '22023: invalid value of header "X-A"'),
 (13, '{"tls": "try"}', '{"from": "a@shop.test", "to": "b@x.test", "text": "x"}', '22023: channel configuration has no "url"'),
 (14, '{"url": "smtp://127.0.0.1:1"}', '"hello"', '22023: message must be a JSON object'),
 (15, '{"url": "smtp://127.0.0.1:1"}', '{"from": "a@shop.test", "to": "b@x.test", "text": "x", "cc": "c@x.test"}', '22023: invalid message key "cc"'),
 (16, '{"url": "smtp://127.0.0.1:1"}', '{"from": "a@shop.test", "text": "x"}', '22023: message has no "to"'),
 (17, '{"url": "smtp://127.0.0.1:1"}', '{"to": "b@x.test", "text": "x"}', '22023: message has no "from"'),
 (18, '{"url": "smtp://127.0.0.1:1"}', '{"from": "a@shop.test", "to": "b@x.test", "subject": "x"}', '22023: message has neither "text" nor "html"'),
 (19, '{"url": "smtp://127.0.0.1:1"}', '{"from": "a@shop.test", "to": "b@x.test", "text": ["x"]}', '22023: invalid message key "text"'),
 (20, '{"url": "smtp://127.0.0.1:1"}', '{"from": "a@shop.test", "to": "b@x.test", "text": "x", "headers": {"X-A": "a\nb"}}', '22023: invalid value of header "X-A"'),
 (21, '{"url": "smtp://127.0.0.1:1"}', '[{"from": "a@shop.test", "to": "b@x.test", "text": "x"}, 1]', '22023: message must be a JSON object'),
 (22, '{"url": "smtp://127.0.0.1:1"}', '[{"from": "a@shop.test", "to": "b@x.test", "text": "x"}, {"to": "c@x.test", "text": "x"}]', '22023: message has no "from"');
CREATE TEMP TABLE mail_arg_result (n int, actual text);
DO $$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT * FROM mail_arg_case ORDER BY n LOOP
    BEGIN
      PERFORM cdp._mail_send(c.config, c.message);
      INSERT INTO mail_arg_result VALUES (c.n, 'no error');
    EXCEPTION WHEN OTHERS THEN
      INSERT INTO mail_arg_result VALUES (c.n, SQLSTATE || ': ' || SQLERRM);
    END;
  END LOOP;
END
$$;
SELECT c.n, c.expected, r.actual, c.expected = r.actual AS ok
  FROM mail_arg_case c JOIN mail_arg_result r USING (n) ORDER BY n;

-- the full text of some errors, with their detail and hint
\set VERBOSITY default
SELECT cdp._mail_send('{"url": "smtp://127.0.0.1:1", "port": 25}', '{}');
SELECT cdp._mail_send('{"url": "smtp://127.0.0.1:1"}', '{"from": "a@shop.test", "text": "x"}');
SELECT cdp._mail_post('{}', 'smtp://127.0.0.1:1', '{}');
SELECT cdp._mail_post('{"url": "smtp://127.0.0.1:1"}', NULL, '{}');

-- messages refused before any connection is tried: (case, message, expected
-- status, expected start of the detail).  Port 1 on loopback does not
-- listen, so what passes the checks ends as channel_error.
CREATE TEMP TABLE mail_refused (n int, message jsonb, status text, detail text);
INSERT INTO mail_refused VALUES
 (1, '{"from": "a@shop.test", "to": "b@x.test", "subject": "Hi\r\nBcc: v@x.test", "text": "x"}', 'permfail', 'header injection refused'),
 (2, '{"from": "a@shop.test", "to": "b@x.test", "subject": "Hi\nBcc: v@x.test", "text": "x"}', 'permfail', 'header injection refused'),
 (3, '{"from": "a@shop.test\nBcc: v@x.test", "to": "b@x.test", "text": "x"}', 'permfail', 'header injection refused'),
 (4, '{"from": "a@shop.test", "to": "b@x.test\r\n", "text": "x"}', 'permfail', 'header injection refused'),
 (5, '{"from": "a@shop.test", "to": "b@x.test", "message_id": "<a@b>\rX: y", "text": "x"}', 'permfail', 'header injection refused'),
 (6, '{"from": "a@shop.test", "to": "b@x.test", "list_unsubscribe": "https://u.test/\n", "text": "x"}', 'permfail', 'header injection refused'),
 (7, '{"from": "a@shop.test", "to": "b@x.test, c@x.test", "text": "x"}', 'permfail', 'the recipient is not one plausible'),
 (8, '{"from": "a@shop.test", "to": "Bob <b@x.test>", "text": "x"}', 'permfail', 'the recipient is not one plausible'),
 (9, '{"from": "a@shop.test", "to": "", "text": "x"}', 'permfail', 'the message has no recipient'),
 (10, '{"from": "a@shop.test", "to": "b@", "text": "x"}', 'permfail', 'the recipient is not one plausible'),
 (11, '{"from": "a@shop.test", "to": "b@x..test", "text": "x"}', 'permfail', 'the recipient is not one plausible'),
 (12, '{"from": "a@shop.test", "to": "b c@x.test", "text": "x"}', 'permfail', 'the recipient is not one plausible'),
 (13, '{"from": "", "to": "b@x.test", "text": "x"}', 'permfail', 'the message has no sender'),
 (14, '{"from": "Shop", "to": "b@x.test", "text": "x"}', 'permfail', 'the sender (From) has no plausible'),
 (15, '{"from": "a@shop.test", "envelope_from": "bounces", "to": "b@x.test", "text": "x"}', 'permfail', 'the envelope sender is not'),
 (16, '{"from": "a@shop.test", "to": "b@x.test", "message_id": "no-at-sign", "text": "x"}', 'permfail', 'the Message-ID is not'),
 (17, '{"from": "a@shop.test", "to": "b@x.test", "text": "x", "headers": {"Subject": "again"}}', 'permfail', 'extra headers may not set'),
 (18, '{"from": "a@shop.test", "to": "b@x.test", "text": "x", "headers": {"content-type": "text/x"}}', 'permfail', 'extra headers may not set'),
 -- plausible: multibyte addresses and names, empty subject and body
 (19, '{"from": "Jürgen Müller <jürgen@bücher.test>", "to": "анна@пример.test", "subject": "Grüße 日本 🎉", "text": "é"}', 'channel_error', 'Failed to connect'),
 (20, '{"from": "a@shop.test", "to": "b@x.test", "subject": "", "text": ""}', 'channel_error', 'Failed to connect'),
 (21, '{"from": "\"Shop, Inc.\" <a@shop.test>", "to": "b.c+tag@x.test", "html": "<p>x</p>"}', 'channel_error', 'Failed to connect');
SELECT n, status, detail,
       r->>'status' AS actual_status,
       r->>'status' = status AND starts_with(r->>'detail', detail) AS ok
  FROM mail_refused,
       LATERAL cdp._mail_send('{"url": "smtp://127.0.0.1:1", "connect_timeout_ms": 2000}', message) r
 ORDER BY n;

-- the same checks for an HTTP API channel
SELECT r->>'status' AS status, r->>'detail' AS detail
  FROM cdp._mail_send('{"url": "http://127.0.0.1:1/send"}',
                      '{"from": "a@shop.test", "to": "b@x.test", "subject": "a\nb", "text": "x"}') r;
SELECT r->>'status' AS status, r->>'reply_code' AS reply_code
  FROM cdp._mail_send('{"url": "http://127.0.0.1:1/send"}',
                      '{"from": "a@shop.test", "to": "b@x.test", "text": "x"}') r;
SELECT r->>'status' AS status, r->>'reply_code' AS reply_code
  FROM cdp._mail_post('{}', 'http://127.0.0.1:1/hook', '{"event": "x"}') r;

-- an array of messages gives an array of results, in order
SELECT jsonb_path_query_array(
         cdp._mail_send('{"url": "smtp://127.0.0.1:1"}',
                        '[{"from": "a@shop.test", "to": "b@x.test", "text": "x"},
                          {"from": "a@shop.test", "to": "bad", "text": "x"},
                          {"from": "a@shop.test", "to": "c@x.test", "html": "x"}]'),
         '$[*].status') AS statuses;
SELECT cdp._mail_send('{"url": "smtp://127.0.0.1:1"}', '[]') AS empty_array;

-- the result has exactly these keys, and no reply for a refused message
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(r) k) AS keys,
       r->'reply_code' AS reply_code, r->'enhanced' AS enhanced, r->'bad_address' AS bad_address,
       jsonb_typeof(r->'ms') AS ms_type
  FROM cdp._mail_send('{"url": "smtp://127.0.0.1:1"}',
                      '{"from": "a@shop.test", "to": "x", "text": "x"}') r;

-- 1 MB inputs: a subject with a line break at its end is refused, a 1 MB
-- subject and body are encoded (then the connection fails), a 1 MB
-- recipient is implausible
SELECT r->>'status' AS status, left(r->>'detail', 24) AS detail
  FROM cdp._mail_send('{"url": "smtp://127.0.0.1:1"}',
                      jsonb_build_object('from', 'a@shop.test', 'to', 'b@x.test',
                                         'subject', repeat('ab', 500000) || E'\n', 'text', 'x')) r;
SELECT r->>'status' AS status, left(r->>'detail', 17) AS detail
  FROM cdp._mail_send('{"url": "smtp://127.0.0.1:1"}',
                      jsonb_build_object('from', 'a@shop.test', 'to', 'b@x.test',
                                         'subject', repeat('ab', 500000),
                                         'text', repeat('ü', 500000))) r;
SELECT r->>'status' AS status, r->>'detail' AS detail
  FROM cdp._mail_send('{"url": "smtp://127.0.0.1:1"}',
                      jsonb_build_object('from', 'a@shop.test', 'to', repeat('ab', 500000) || '@x.test',
                                         'text', 'x')) r;

-- random recipients, subjects and names (ASCII, punctuation, digits,
-- accented letters, CJK, emoji; 0..300 characters) never raise an error,
-- and every result is one of the four statuses; a recipient with a space,
-- a comma or angle brackets is never tried
WITH chars AS (
  SELECT string_to_array('a b c x y z A Z 0 1 9 @ @ . . - _ + , ; : < > " '' ( ) [ ] \ / ! ? = é ü ß Ø ﬁ 日 本 語 한 🎉 😀', ' ') AS c
), fuzz AS (
  SELECT i,
         (SELECT string_agg(c[1 + floor(random() * array_length(c, 1))::int + g * 0], '')
            FROM generate_series(1, (random() * 300)::int + i * 0) g) AS s,
         (SELECT string_agg(c[1 + floor(random() * array_length(c, 1))::int + g * 0], '')
            FROM generate_series(1, (random() * 30)::int + i * 0) g) AS t
    FROM chars, generate_series(1, 2000) i
), sent AS (
  SELECT s, t,
         cdp._mail_send('{"url": "smtp://127.0.0.1:1", "connect_timeout_ms": 2000}',
                        jsonb_build_object('from', coalesce(t, '') || ' <a@shop.test>',
                                           'to', coalesce(t, '') || '@x.test',
                                           'subject', coalesce(s, ''), 'text', coalesce(s, ''))) r
    FROM fuzz
)
SELECT count(*) AS messages,
       count(*) FILTER (WHERE r->>'status' NOT IN ('permfail', 'channel_error')) AS unexpected_status,
       count(*) FILTER (WHERE t ~ '[ ,<>]' AND r->>'status' <> 'permfail') AS implausible_tried
  FROM sent;

-- revoked from PUBLIC
CREATE ROLE regress_mail_user;
SELECT has_function_privilege('regress_mail_user', 'cdp._mail_send(jsonb, jsonb)', 'EXECUTE') AS can_send,
       has_function_privilege('regress_mail_user', 'cdp._mail_post(jsonb, text, jsonb)', 'EXECUTE') AS can_post;
DROP ROLE regress_mail_user;
