--
-- journey: issue 6, the SQL side of journeys, driven by hand at simulated
-- times (the regression instance's worker serves another database, so
-- nothing is delivered by itself; delivery outcomes are simulated with the
-- worker's own functions).  Covers: every error of the settings, channels,
-- templates, journey definitions (_journey_check), publishing, state
-- changes, e-mail events and refresh schedules, with SQLSTATE and message;
-- versions (draft edited in place, v1 closed when v2 is published, its
-- members go on); the engine: enrolment new/all, one walk at a time,
-- re-entry never/always/after, waits by duration and until, branches on
-- "since entry" and on an opened e-mail, a split with a holdout arm, update
-- and webhook steps, segment exit and goal, pause/resume/stop, quiet hours
-- in each customer's time zone, the frequency cap across journeys,
-- customers without an address; delivery bookkeeping (claim order,
-- consent and suppression, sent, back-off, give-up, bounce, channel error,
-- release, crash recovery); statistics and funnel; preview; unsubscribe;
-- the refresh log.  Every printed value was worked out by hand; the
-- reasoning is in the comments above each query.
--
SET timezone = 'UTC';
\set VERBOSITY default
\set SHOW_CONTEXT never

-- start from an empty customer base whatever earlier tests left behind
SET client_min_messages = error;
\o /dev/null
SELECT cdp.drop_measure(name) FROM cdp.measure;
SELECT cdp.drop_activity(name) FROM cdp.activity_def WHERE NOT link ? 'journey';
SELECT cdp.drop_match_rule(name) FROM cdp.match_rule;
SELECT cdp.drop_source(name) FROM cdp.source;
CALL cdp.unify();
\o
DELETE FROM cdp.unify_run;
DELETE FROM cdp.customer_id_history;
SELECT setval('cdp.customer_id_seq', 1, false) IS NOT NULL AS ids_reset;
RESET client_min_messages;

-- errors: SQLSTATE and message (and hint) of a statement, or 00000
CREATE FUNCTION pg_temp.err(stmt text, OUT state text, OUT message text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  state := '00000';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
END $$;
-- a table of (case, expected SQLSTATE, statement): prints the outcome and
-- whether the SQLSTATE is the expected one
CREATE TEMP TABLE errcase (n serial, expected text, stmt text);
CREATE FUNCTION pg_temp.run_errors() RETURNS TABLE (n int, ok boolean, state text, message text)
LANGUAGE sql AS $$
  SELECT e.n, r.state = e.expected, r.state, r.message
    FROM pg_temp.errcase e, LATERAL pg_temp.err(e.stmt) r ORDER BY e.n
$$;

-- ---------------------------------------------------------------- data
-- six customers of the "core" group: ann (Paris), bob (no zone: UTC), cat
-- (no consent; leaves the segment during the main journey), dan (consent
-- unknown), eve (no address), fay (an invalid zone, an address in capitals
-- that will bounce); 200 customers of the "split" group; gus, who arrives
-- later.
CREATE SCHEMA jr;
CREATE TABLE jr.shop (id text PRIMARY KEY, first_name text, email text, email_consent boolean, time_zone text, grp text);
INSERT INTO jr.shop VALUES
  ('c1', 'Ann', 'ann@x.test', true,  'Europe/Paris', 'core'),
  ('c2', 'Bob', 'bob@x.test', true,  NULL,           'core'),
  ('c3', 'Cat', 'cat@x.test', false, NULL,           'core'),
  ('c4', 'Dan', 'dan@x.test', NULL,  NULL,           'core'),
  ('c5', 'Eve', NULL,         true,  NULL,           'core'),
  ('c6', 'Fay', 'FAY@x.test', true,  'Mars/Olympus', 'core');
INSERT INTO jr.shop SELECT 's' || lpad(i::text, 3, '0'), 'S' || i, 's' || i || '@x.test', true, NULL, 'split'
  FROM generate_series(1, 200) i;
SELECT cdp.add_source('shop', 'jr.shop', 'id', '{"first_name": "first_name", "email": "email",
  "email_consent": {"column": "email_consent", "type": "boolean"}, "time_zone": {"column": "time_zone", "type": "text"}, "grp": {"column": "grp", "type": "text"}}');
\o /dev/null
CALL cdp.unify();
\o
SELECT customer_id, first_name, email, email_consent, time_zone, grp FROM cdp.customer WHERE grp = 'core' ORDER BY customer_id;
SELECT count(*) AS split_customers FROM cdp.customer WHERE grp = 'split';

-- orders at simulated times (all in 2024), loaded once: the engine and
-- "since entry" only see those up to the journey time
CREATE TABLE jr.orders (order_id int PRIMARY KEY, customer text, at timestamptz, amount numeric);
INSERT INTO jr.orders VALUES
  -- re-entry: Bob buys four times
  (1, 'c2', '2024-02-01 01:00+00', 10),
  (2, 'c2', '2024-02-01 03:00+00', 10),
  (3, 'c2', '2024-02-04 00:00+00', 10),
  (4, 'c2', '2024-02-09 00:00+00', 10),
  -- the main journey starts 2024-03-01 10:00: Ann bought before, Bob after
  (5, 'c1', '2024-02-28 12:00+00', 99),
  (6, 'c2', '2024-03-02 09:00+00', 30),
  (7, 'c2', '2024-03-20 09:00+00', 5);
SELECT cdp.add_activity('purchase', 'jr.orders', 'at', '{"source": "shop", "column": "customer"}', '{"amount": "amount"}', 'purchase');
\o /dev/null
CALL cdp.refresh_activities();
\o
SELECT count(*) AS purchases FROM cdp.activity WHERE activity = 'purchase';
SELECT cdp.create_measure('spend', 'sum(purchase.amount)');
\o /dev/null
CALL cdp.refresh_measures('2024-01-01 00:00+00');
\o
SELECT cdp.create_segment('core', $$grp = 'core'$$);
SELECT cdp.create_segment('splitters', $$grp = 'split'$$);
SELECT cdp.create_segment('late', $$grp in ('core', 'late')$$);
SELECT * FROM cdp.refresh_segments('2024-01-01 00:00+00');

SELECT cdp.create_channel('mail', 'smtp://127.0.0.1:9', '{"from": "Shop <news@shop.test>", "tls": "none"}');
SELECT cdp.create_channel('mail2', 'smtp://127.0.0.1:9', '{"from": "news@shop2.test", "consent_default": true}');
SELECT cdp.create_channel('api', 'https://api.test/send', '{"from": "news@shop.test", "headers": {"Authorization": "Bearer x"}}');
SELECT name, kind, url, options FROM cdp.channel ORDER BY name;
SELECT channel, username, password, headers FROM cdp.channel_secret ORDER BY channel;
SELECT cdp.create_template('hello', 'Hello {{ first_name }}', '<p>Hi {{ first_name }} & co</p>',
                           'Hi {{ first_name }}, spent {{ measure.spend | default: 0 }}. Stop: {{ unsubscribe_url }}');
SELECT cdp.create_template('plain', 'News for {{ first_name }}', NULL, 'Hello {{ first_name }}');
SELECT name, paths, coupons FROM cdp.template ORDER BY name;

-- ---------------------------------------------------------------- 1. errors
INSERT INTO errcase (expected, stmt) VALUES
  -- settings
  ('42704', $$SELECT cdp.set_journey_setting('no_such', '1')$$),
  ('22023', $$SELECT cdp.set_journey_setting('unsubscribe_url', '"ftp://x/{token}"')$$),
  ('22023', $$SELECT cdp.set_journey_setting('unsubscribe_url', '"https://x.test/u"')$$),
  ('22023', $$SELECT cdp.set_journey_setting('unsubscribe_url', '42')$$),
  ('22023', $$SELECT cdp.set_journey_setting('frequency_cap', '{"max": 3}')$$),
  ('22023', $$SELECT cdp.set_journey_setting('frequency_cap', '{"max": -1, "per": "1 day"}')$$),
  ('22023', $$SELECT cdp.set_journey_setting('frequency_cap', '{"max": 1.5, "per": "1 day"}')$$),
  ('22023', $$SELECT cdp.set_journey_setting('frequency_cap', '{"max": 1, "per": "1 day", "x": 1}')$$),
  ('22007', $$SELECT cdp.set_journey_setting('frequency_cap', '{"max": 1, "per": "soon"}')$$),
  ('22007', $$SELECT cdp.set_journey_setting('frequency_cap', '{"max": 1, "per": "-1 day"}')$$),
  ('22023', $$SELECT cdp.set_journey_setting('quiet_hours', '{"from": "21:00"}')$$),
  ('22007', $$SELECT cdp.set_journey_setting('quiet_hours', '{"from": "25:00", "to": "08:00"}')$$),
  ('22007', $$SELECT cdp.set_journey_setting('quiet_hours', '{"from": "9:00", "to": "08:00"}')$$),
  ('22023', $$SELECT cdp.set_journey_setting('quiet_hours', '{"from": "08:00", "to": "08:00"}')$$),
  ('22023', $$SELECT cdp.set_journey_setting('time_zone_attribute', '1')$$),
  ('22023', $$SELECT cdp.set_journey_setting('address_attribute', 'true')$$),
  ('22023', $$SELECT cdp.set_journey_setting('default_time_zone', '"Mars/Olympus"')$$),
  ('22023', $$SELECT cdp.set_journey_setting('max_attempts', '0')$$),
  ('22023', $$SELECT cdp.set_journey_setting('max_attempts', '2.5')$$),
  ('22023', $$SELECT cdp.set_journey_setting('max_attempts', '"3"')$$),
  ('22023', $$SELECT cdp.set_journey_setting('retry_base', '60')$$),
  ('22007', $$SELECT cdp.set_journey_setting('retry_max', '"forever"')$$),
  ('22023', $$SELECT cdp.set_journey_setting('conversion', '{"activity": "purchase"}')$$),
  ('22023', $$SELECT cdp.set_journey_setting('conversion', '{"activity": "purchase", "window": "7 days", "sum": "x"}')$$),
  ('22007', $$SELECT cdp.set_journey_setting('conversion', '{"activity": "purchase", "window": "a week"}')$$),
  -- channels
  ('42602', $$SELECT cdp.create_channel('Mail', 'smtp://h:25', '{"from": "a@b.test"}')$$),
  ('42710', $$SELECT cdp.create_channel('mail', 'smtp://h:25', '{"from": "a@b.test"}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'smtp://h:25/path', '{"from": "a@b.test"}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'imap://h', '{"from": "a@b.test"}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'smtp://h:25', '[]')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'smtp://h:25', '{}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'smtp://h:25', '{"from": "nobody"}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'smtp://h:25', '{"from": "a@b.test", "tls": "always"}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'smtp://h:25', '{"from": "a@b.test", "verify_peer": "yes"}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'smtp://h:25', '{"from": "a@b.test", "consent_default": 1}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'smtp://h:25', '{"from": "a@b.test", "marketing": null}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'smtp://h:25', '{"from": "a@b.test", "timeout_ms": 0}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'smtp://h:25', '{"from": "a@b.test", "connect_timeout_ms": "5"}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'smtp://h:25', '{"from": "a@b.test", "rate_per_second": -1}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'smtp://h:25', '{"from": "a@b.test", "ca_file": 1}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'smtp://h:25', '{"from": "a@b.test", "consent_attribute": false}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'smtp://h:25', '{"from": "a@b.test", "username": 7, "password": "p"}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'smtp://h:25', '{"from": "a@b.test", "colour": "red"}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'smtp://h:25', '{"from": "a@b.test", "username": "u"}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'https://h/send', '{"from": "a@b.test", "username": "u", "password": "p"}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'https://h/send', '{"from": "a@b.test", "tls": "try"}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'smtp://h:25', '{"from": "a@b.test", "headers": {"X-A": "b"}}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'https://h/send', '{"from": "a@b.test", "headers": {"X A": "b"}}')$$),
  ('22023', $$SELECT cdp.create_channel('c1', 'https://h/send', '{"from": "a@b.test", "headers": {"X-A": "b\r\nBcc: e@v.test"}}')$$),
  ('42704', $$SELECT cdp.drop_channel('nope')$$),
  -- templates
  ('42602', $$SELECT cdp.create_template('Bad name', 's', 'h')$$),
  ('22023', $$SELECT cdp.create_template('t1', ' ', 'h')$$),
  ('22023', $$SELECT cdp.create_template('t1', 's', NULL, NULL)$$),
  ('42601', $$SELECT cdp.create_template('t1', 's', '{{ first_name ')$$),
  ('42703', $$SELECT cdp.create_template('t1', 's', '{{ last_name }}')$$),
  ('42703', $$SELECT cdp.create_template('t1', 's', NULL, '{{ measure.nope }}')$$),
  ('42704', $$SELECT cdp.drop_template('nope')$$),
  ('42704', $$SELECT cdp.render_template('nope', 1)$$),
  ('42704', $$SELECT cdp.render_template('hello', 999999)$$),
  -- e-mail events, unsubscribe, schedules, "since entry" outside journeys
  ('22023', $$SELECT cdp.record_email_event('<x@y>', 'read')$$),
  ('42704', $$SELECT cdp.record_email_event('<x@y>', 'opened')$$),
  ('42602', $$SELECT cdp.schedule_refresh('Nightly', '1 day')$$),
  ('22023', $$SELECT cdp.schedule_refresh('nightly', '30 seconds')$$),
  ('22023', $$SELECT cdp.schedule_refresh('nightly', '1 day', '{}')$$),
  ('22023', $$SELECT cdp.schedule_refresh('nightly', '1 day', ARRAY['segments', 'journeys'])$$),
  ('42704', $$SELECT cdp.unschedule_refresh('nightly')$$),
  ('22023', $$CALL cdp.run_refresh(ARRAY['everything'])$$),
  ('42601', $$SELECT cdp.compile_segment('exists(purchase since entry)', cdp.segment_catalog())$$);
SELECT * FROM pg_temp.run_errors();
TRUNCATE errcase;
-- the hints that tell what to write
SELECT state, message, hint FROM pg_temp.err($$SELECT cdp.create_template('t1', 's', NULL, '{{ measure.nope }}')$$);
SELECT state, message, hint FROM pg_temp.err($$SELECT cdp.set_journey_setting('frequency_cap', '{"max": 3}')$$);
SELECT state, message, hint FROM pg_temp.err($$SELECT cdp.create_channel('c1', 'imap://h', '{"from": "a@b.test"}')$$);
-- nothing was created by the failing calls
SELECT (SELECT count(*) FROM cdp.channel) AS channels, (SELECT count(*) FROM cdp.template) AS templates,
       (SELECT count(*) FROM cdp.refresh_schedule) AS schedules;
SELECT cdp.compile_segment('exists(purchase since entry)', cdp.segment_catalog());

-- journey definitions: every error of _journey_check; B is a valid base
-- with "steps" replaced or keys added
CREATE TEMP TABLE base AS SELECT '{"trigger": {"segment": "core", "members": "all"},
  "steps": [{"id": "a", "type": "email", "template": "hello", "channel": "mail"}, {"id": "b", "type": "end"}]}'::jsonb AS b;
CREATE FUNCTION pg_temp.jc(change jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT format('SELECT cdp.create_journey(%L, %L)', 'bad', (SELECT b FROM base) || change) $$;
CREATE FUNCTION pg_temp.js(steps text) RETURNS text LANGUAGE sql AS $$
  SELECT pg_temp.jc(jsonb_build_object('steps', steps::jsonb)) $$;
INSERT INTO errcase (expected, stmt) VALUES
  ('42602', $$SELECT cdp.create_journey('Bad', '{}')$$),
  ('22023', $$SELECT cdp.create_journey('bad', '[]')$$),
  ('22023', pg_temp.jc('{"colour": "red"}')),
  ('22023', $$SELECT cdp.create_journey('bad', '{"steps": [{"id": "b", "type": "end"}]}')$$),
  ('22023', pg_temp.jc('{"trigger": "core"}')),
  ('22023', pg_temp.jc('{"trigger": {"segment": "core", "members": "all", "when": 1}}')),
  ('22023', pg_temp.jc('{"trigger": {"activity": "purchase", "segment": "core"}}')),
  ('42704', pg_temp.jc('{"trigger": {"activity": "refund"}}')),
  ('22007', pg_temp.jc('{"trigger": {"at": "next tuesday"}}')),
  ('22023', pg_temp.jc('{"trigger": {"at": "2024-12-01 09:00+01", "members": "all"}}')),
  ('22023', pg_temp.jc('{"trigger": {"segment": "core"}}')),
  ('22023', pg_temp.jc('{"trigger": {"segment": "core", "members": "some"}}')),
  ('22023', pg_temp.jc('{"trigger": {}}')),
  ('42704', pg_temp.jc('{"trigger": {"segment": "nope", "members": "new"}}')),
  ('42704', pg_temp.jc('{"trigger": {"at": "2024-12-01 09:00+01", "segment": "nope"}}')),
  ('22023', pg_temp.jc('{"reentry": "sometimes"}')),
  ('22023', pg_temp.jc('{"reentry": 3}')),
  ('22023', pg_temp.jc('{"reentry": {"after": "1 day", "max": 2}}')),
  ('22007', pg_temp.jc('{"reentry": {"after": "a while"}}')),
  ('22023', pg_temp.jc('{"exit": true}')),
  ('22023', pg_temp.jc('{"exit": {"segment": "core"}}')),
  ('22023', pg_temp.jc('{"exit": {"segment_exit": "yes"}}')),
  ('22023', pg_temp.jc('{"trigger": {"activity": "purchase"}, "exit": {"segment_exit": true}}')),
  ('22023', pg_temp.jc('{"exit": {"goal": {"bought": true}}}')),
  ('22023', pg_temp.jc('{"exit": {"goal": {"opened": "a", "clicked": "a"}}}')),
  ('42601', pg_temp.jc('{"exit": {"goal": "exists(purchase since"}}')),
  ('22023', pg_temp.jc('{"steps": {}}')),
  ('22023', pg_temp.js('[]')),
  ('22023', pg_temp.js('["a"]')),
  ('22023', pg_temp.js('[{"type": "end"}]')),
  ('22023', pg_temp.js('[{"id": "Step1", "type": "end"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "end"}, {"id": "a", "type": "end"}]')),
  ('22023', pg_temp.js('[{"id": "a"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "sms"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "end", "template": "hello"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "email", "template": "hello", "channel": "mail", "subject": "x"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "end", "next": "z"}]')),
  ('42704', pg_temp.js('[{"id": "a", "type": "email", "template": "nope", "channel": "mail"}]')),
  ('42704', pg_temp.js('[{"id": "a", "type": "email", "template": "hello"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "email", "template": "hello", "channel": "mail", "marketing": "no"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "wait"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "wait", "duration": "1 day", "until": "2024-12-24 08:00+01"}]')),
  ('22007', pg_temp.js('[{"id": "a", "type": "wait", "duration": "-3 days"}]')),
  ('22007', pg_temp.js('[{"id": "a", "type": "wait", "until": "christmas"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "branch", "if": "true", "then": "b"}, {"id": "b", "type": "end"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "branch", "if": "true", "else": "b"}, {"id": "b", "type": "end"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "branch", "if": "true", "then": "b", "else": "z"}, {"id": "b", "type": "end"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "branch", "then": "b", "else": "b"}, {"id": "b", "type": "end"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "branch", "if": {"opened": 1}, "then": "b", "else": "b"}, {"id": "b", "type": "end"}]')),
  ('42601', pg_temp.js('[{"id": "a", "type": "branch", "if": "exists(purchase since entry", "then": "b", "else": "b"}, {"id": "b", "type": "end"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "split"}, {"id": "b", "type": "end"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "split", "arms": [{"percent": 100, "next": "b"}]}, {"id": "b", "type": "end"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "split", "arms": [{"percent": 0, "next": "b"}, {"percent": 100, "next": "b"}]}, {"id": "b", "type": "end"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "split", "arms": [{"percent": 50, "next": "z"}, {"percent": 50, "next": "b"}]}, {"id": "b", "type": "end"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "split", "arms": [{"percent": 50, "next": "b", "weight": 1}, {"percent": 50, "next": "b"}]}, {"id": "b", "type": "end"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "split", "arms": [{"percent": 50, "next": "b", "holdout": "yes"}, {"percent": 50, "next": "b"}]}, {"id": "b", "type": "end"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "split", "arms": [{"percent": 49.5, "next": "b"}, {"percent": 49.5, "next": "b"}]}, {"id": "b", "type": "end"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "update"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "update", "tag": "x", "set": {"vip": true}}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "update", "tag": ""}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "update", "set": {}}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "webhook"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "webhook", "url": "https://h.test/x", "channel": "api"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "webhook", "url": "ftp://h.test/x"}]')),
  ('42704', pg_temp.js('[{"id": "a", "type": "webhook", "channel": "mail"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "webhook", "url": "https://h.test/x", "payload": [1]}]')),
  ('42601', pg_temp.js('[{"id": "a", "type": "webhook", "url": "https://h.test/x", "payload": {"who": "{{ first_name"}}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "update", "tag": "x", "next": "b"}, {"id": "b", "type": "update", "tag": "y", "next": "a"}]')),
  ('22023', pg_temp.js('[{"id": "a", "type": "branch", "if": "true", "then": "a", "else": "b"}, {"id": "b", "type": "end"}]')),
  -- a loop through a wait is fine
  ('00000', $$SELECT cdp.create_journey('loop_ok', '{"trigger": {"segment": "core", "members": "new"}, "steps": [
      {"id": "a", "type": "update", "tag": "x"}, {"id": "w", "type": "wait", "duration": "1 day", "next": "a"}]}')$$),
  -- publishing and state changes
  ('42704', $$SELECT cdp.publish_journey('nope')$$),
  ('42704', $$SELECT cdp.pause_journey('nope')$$),
  ('55000', $$SELECT cdp.pause_journey('loop_ok')$$),
  ('55000', $$SELECT cdp.resume_journey('loop_ok')$$),
  ('55000', $$SELECT cdp.stop_journey('loop_ok')$$),
  ('42704', $$SELECT cdp.journey_stats('nope')$$),
  ('42704', $$SELECT cdp.journey_funnel('nope')$$);
SELECT * FROM pg_temp.run_errors();
TRUNCATE errcase;
-- a condition with a syntax error shows where
SELECT cdp.create_journey('bad', '{"trigger": {"segment": "core", "members": "all"}, "steps": [
  {"id": "a", "type": "branch", "if": "exists(purchase since entry", "then": "b", "else": "b"}, {"id": "b", "type": "end"}]}');
-- the loop is named, and what a step takes is listed
SELECT state, message, hint FROM pg_temp.err(pg_temp.js('[{"id": "a", "type": "update", "tag": "x", "next": "b"}, {"id": "b", "type": "update", "tag": "y", "next": "a"}]'));
SELECT state, message, hint FROM pg_temp.err(pg_temp.js('[{"id": "a", "type": "wait", "duration": "1 day", "template": "hello"}]'));
-- no journey "bad" was created by any of them
SELECT count(*) AS bad_journeys FROM cdp.journey WHERE name = 'bad';

-- publishing a marketing journey needs the unsubscribe URL (55000, hint)
SELECT cdp.create_journey('vers', '{"trigger": {"segment": "core", "members": "all"},
  "steps": [{"id": "hi", "type": "email", "template": "plain", "channel": "mail"}, {"id": "w", "type": "wait", "duration": "1 day"}, {"id": "fin", "type": "end"}]}') AS vers_draft_id
\gset
SELECT cdp.publish_journey('vers');
SELECT cdp.set_journey_setting('unsubscribe_url', '"https://shop.test/u?t={token}"');

-- ---------------------------------------------------------------- 2. versions
-- editing a draft keeps its id and version; publishing makes it live
SELECT cdp.create_journey('vers', '{"trigger": {"segment": "core", "members": "all"}, "description": "v1",
  "steps": [{"id": "w", "type": "wait", "duration": "1 day"}, {"id": "fin", "type": "end"}]}') = :vers_draft_id AS same_draft;
SELECT version, status, definition ->> 'description' AS description, (SELECT string_agg(step || ':' || type || '>' || coalesce(next_step, '-'), ' ' ORDER BY position)
  FROM cdp.journey_step s WHERE s.journey_id = j.journey_id) AS steps FROM cdp.journey j WHERE name = 'vers';
SELECT cdp.publish_journey('vers') AS published_version;
SELECT state, message FROM pg_temp.err($$SELECT cdp.publish_journey('vers')$$);
-- journeys run at simulated times: the publication time is set in the same
-- simulated past so that "new" members and activity triggers line up
UPDATE cdp.journey SET published_at = '2024-01-09 00:00+00' WHERE name = 'vers';
-- the six core members (in the segment since 2024-01-01) enrol and wait
SELECT cdp.run_journeys('2024-01-10 00:00+00');
-- v2 is a draft until published; then v1 is closed and its members go on
SELECT cdp.create_journey('vers', '{"trigger": {"segment": "core", "members": "all"}, "description": "v2",
  "steps": [{"id": "fin", "type": "end"}]}') <> :vers_draft_id AS new_draft;
SELECT version, status FROM cdp.journey WHERE name = 'vers' ORDER BY version;
SELECT cdp.publish_journey('vers') AS published_version;
SELECT version, status, stopped_at IS NOT NULL AS stopped_at_set FROM cdp.journey WHERE name = 'vers' ORDER BY version;
-- at 01-11 the v1 members' wait (due 01-11 00:00) ends: they complete;
-- v2 enrols nobody (re-entry "never" spans versions)
SELECT cdp.run_journeys('2024-01-11 00:00+00');
SELECT j.version, m.state, count(*) FROM cdp.journey_member m JOIN cdp.journey j USING (journey_id)
 WHERE j.name = 'vers' GROUP BY 1, 2 ORDER BY 1, 2;
-- drop_segment is refused while a journey uses the segment
SELECT cdp.drop_segment('core');
SELECT cdp.stop_journey('vers');
SELECT version, status FROM cdp.journey WHERE name = 'vers' ORDER BY version;
SELECT state, message FROM pg_temp.err($$SELECT cdp.stop_journey('vers')$$);

-- ---------------------------------------------------------------- 3. the engine
-- enrolment "new" vs "all": the six core customers entered "late" on
-- 01-01, before publication (01-15); Gus enters on 01-20, after it
SELECT cdp.create_journey('n_new', '{"trigger": {"segment": "late", "members": "new"}, "steps": [{"id": "fin", "type": "end"}]}') IS NOT NULL AS created;
SELECT cdp.create_journey('n_all', '{"trigger": {"segment": "late", "members": "all"}, "steps": [{"id": "fin", "type": "end"}]}') IS NOT NULL AS created;
SET client_min_messages = error;
SELECT cdp.publish_journey('n_new'), cdp.publish_journey('n_all');
RESET client_min_messages;
UPDATE cdp.journey SET published_at = '2024-01-15 00:00+00' WHERE name IN ('n_new', 'n_all');
INSERT INTO jr.shop VALUES ('c7', 'Gus', 'gus@x.test', true, NULL, 'late');
\o /dev/null
CALL cdp.unify();
\o
SELECT * FROM cdp.refresh_segment('late', '2024-01-20 00:00+00');
SELECT cdp.run_journeys('2024-01-20 12:00+00');
SELECT j.name, string_agg(c.first_name, ',' ORDER BY c.first_name) AS members
  FROM cdp.journey_member m JOIN cdp.journey j USING (journey_id) JOIN cdp.customer c USING (customer_id)
 WHERE j.name IN ('n_new', 'n_all') GROUP BY 1 ORDER BY 1;
SELECT cdp.stop_journey('n_new'), cdp.stop_journey('n_all');

-- re-entry with an activity trigger: Bob buys on 02-01 01:00 and 03:00,
-- 02-04 00:00 and 02-09 00:00; each walk waits a day.
-- 02-01 02:00  all three enrol Bob for order 1
-- 02-01 04:00  order 2 comes while he walks: no second walk
-- 02-03 00:00  the walks end (ended_at 02-03 00:00)
-- 02-04 01:00  order 3: "never" refuses, "always" takes it (order 2 came
--              during the first walk and is spent), "5 days" refuses
--              (ended 1 day ago)
-- 02-09 01:00  order 4: "always" still walks (since 02-04 01:00, due
--              02-05 01:00; enrolment comes before moving), then ends;
--              "5 days" takes it (ended 6 days ago); order 3 came within
--              the 5 days and is spent
SELECT cdp.create_journey('re_' || r, jsonb_build_object('trigger', '{"activity": "purchase"}'::jsonb, 'reentry', x,
         'steps', '[{"id": "w", "type": "wait", "duration": "1 day"}, {"id": "fin", "type": "end"}]'::jsonb)) IS NOT NULL AS created
  FROM (VALUES ('never', '"never"'::jsonb), ('always', '"always"'), ('after', '{"after": "5 days"}')) v(r, x);
SET client_min_messages = error;
SELECT cdp.publish_journey(name) FROM cdp.journey WHERE name LIKE 're\_%' ORDER BY name;
RESET client_min_messages;
UPDATE cdp.journey SET published_at = '2024-02-01 00:00+00' WHERE name LIKE 're\_%';
SELECT t, cdp.run_journeys(t) FROM unnest('{2024-02-01 02:00+00, 2024-02-01 04:00+00, 2024-02-03 00:00+00, 2024-02-04 01:00+00, 2024-02-09 01:00+00}'::timestamptz[]) t;
SELECT j.name, m.trigger_key, m.enrolled_at, m.state, m.ended_at
  FROM cdp.journey_member m JOIN cdp.journey j USING (journey_id) WHERE j.name LIKE 're\_%' ORDER BY 1, 3;
SELECT cdp.stop_journey(name) FROM cdp.journey WHERE name LIKE 're\_%' ORDER BY name;

-- the main journey, from 2024-03-01 10:00 (M0), core customers:
--   hello (e-mail) -> pause (2 days) -> bought: purchase since entry?
--     yes -> vip (set vip) -> fin;  no -> opened_q: opened "hello"?
--     yes -> tagit;  no -> later (until 03-10) -> tagit
--   tagit (tag followed_up) -> hook (webhook) -> fin (end)
-- leaving the segment ends the walk; a second journey "goal_j" waits 5 days
-- with the goal {"purchased": true}.
SELECT cdp.create_journey('main', '{"trigger": {"segment": "core", "members": "all"}, "exit": {"segment_exit": true},
  "steps": [
    {"id": "hello", "type": "email", "template": "hello", "channel": "mail"},
    {"id": "pause", "type": "wait", "duration": "2 days"},
    {"id": "bought", "type": "branch", "if": "exists(purchase since entry)", "then": "vip", "else": "opened_q"},
    {"id": "opened_q", "type": "branch", "if": {"opened": "hello"}, "then": "tagit", "else": "later"},
    {"id": "later", "type": "wait", "until": "2024-03-10 00:00+00"},
    {"id": "tagit", "type": "update", "tag": "followed_up"},
    {"id": "hook", "type": "webhook", "url": "https://hooks.test/crm", "payload": {"who": "{{ first_name }}", "n": 1, "step": "{{ step }}"}},
    {"id": "fin", "type": "end"},
    {"id": "vip", "type": "update", "set": {"vip": true, "tier": "gold"}, "next": "fin"}]}') IS NOT NULL AS created;
SELECT cdp.create_journey('goal_j', '{"trigger": {"segment": "core", "members": "all"}, "exit": {"goal": {"purchased": true}},
  "steps": [{"id": "w", "type": "wait", "duration": "5 days"}, {"id": "fin", "type": "end"}]}') IS NOT NULL AS created;
SET client_min_messages = error;
SELECT cdp.publish_journey('main'), cdp.publish_journey('goal_j');
RESET client_min_messages;
-- a published journey's template and channel cannot go away or change
SELECT state, message FROM pg_temp.err($$SELECT cdp.drop_template('hello')$$);
SELECT state, message FROM pg_temp.err($$SELECT cdp.create_template('hello', 'x', 'y')$$);
SELECT state, message FROM pg_temp.err($$SELECT cdp.drop_channel('mail')$$);
-- M0: six enrol; five e-mails queued, Eve has no address; the six move to
-- pause; goal_j enrols six.  The text part shows the measure "spend"
-- (every purchase: Ann 99, Bob 75, the others none) and the unsubscribe URL
SELECT cdp.run_journeys('2024-03-01 10:00+00');
SELECT c.first_name, m.to_address, m.subject, replace(m.text_body, m.token, '<token>') AS text_body, m.html, m.header_id LIKE '<%.' || m.journey_id || '@shop.test>' AS header_ok
  FROM cdp.message m JOIN cdp.customer c USING (customer_id) ORDER BY c.first_name;
SELECT e.event, count(*) FROM cdp.journey_event e JOIN cdp.journey j USING (journey_id)
 WHERE j.name = 'main' GROUP BY 1 ORDER BY 1;
-- Ann opens her e-mail an hour later (the Message-ID without brackets)
SELECT cdp.record_email_event(trim(both '<>' from header_id), 'opened', '2024-03-01 11:00+00')
  FROM cdp.message m JOIN cdp.customer c USING (customer_id) WHERE c.first_name = 'Ann';
-- Cat leaves the segment on 03-02
UPDATE jr.shop SET grp = 'gone' WHERE id = 'c3';
\o /dev/null
CALL cdp.unify();
\o
SELECT * FROM cdp.refresh_segment('core', '2024-03-02 00:00+00');
-- 03-02 10:00: main: Cat exits (at step pause); goal_j: Bob bought at
-- 09:00 after entry -> goal (Ann's purchase of 02-28 is before entry)
SELECT cdp.run_journeys('2024-03-02 10:00+00');
-- 03-03 10:00: the pause ends: Bob -> vip -> fin; Ann (opened) -> tagit
-- -> hook -> fin; Dan, Eve, Fay -> later (until 03-10): 17 moves
-- (5 + 5 + 4 + Ann 2 + Bob 1), one webhook
SELECT cdp.run_journeys('2024-03-03 10:00+00');
-- 03-10: Dan, Eve, Fay -> tagit -> hook -> fin (9 moves, 3 webhooks);
-- goal_j: the waits (due 03-06 10:00) end for all but Bob (5 moves)
SELECT cdp.run_journeys('2024-03-10 00:00+00');
-- the steps each member entered (in the order of the definition within one
-- pass) and the other events
SELECT j.name, c.first_name, m.state, m.step, m.ended_at,
       (SELECT string_agg(e.step, ' ' ORDER BY e.at, s.position) FROM cdp.journey_event e
          JOIN cdp.journey_step s ON s.journey_id = e.journey_id AND s.step = e.step
         WHERE e.member_id = m.member_id AND e.event = 'entered') AS entered,
       (SELECT string_agg(e.step || ':' || e.event, ' ' ORDER BY e.at, e.step) FROM cdp.journey_event e
         WHERE e.member_id = m.member_id AND e.event <> 'entered') AS events
  FROM cdp.journey_member m JOIN cdp.journey j USING (journey_id) JOIN cdp.customer c USING (customer_id)
 WHERE j.name IN ('main', 'goal_j') ORDER BY 1, 2;
SELECT c.first_name, t.tag, t.added_at FROM cdp.customer_tag t JOIN cdp.customer c USING (customer_id) ORDER BY 1;
SELECT c.first_name, v.name, v.value, v.set_at FROM cdp.customer_value v JOIN cdp.customer c USING (customer_id) ORDER BY 1, 2;
SELECT c.first_name, m.kind, m.url, m.channel, m.marketing, m.payload, m.queued_at
  FROM cdp.message m JOIN cdp.customer c USING (customer_id) WHERE m.kind = 'webhook' ORDER BY m.queued_at, 1;
SELECT cdp.stop_journey('goal_j');

-- ---------------------------------------------------------------- 4. delivery
-- (_claim_messages drops its work table with IF EXISTS: no notices)
SET client_min_messages = warning;
SELECT cdp.set_journey_setting('retry_base', '"1 minute"'), cdp.set_journey_setting('retry_max', '"3 minutes"'),
       cdp.set_journey_setting('max_attempts', '4');
-- the worker's view of a claim, without tokens and ids
CREATE FUNCTION pg_temp.claim(n int) RETURNS TABLE (pos bigint, kind text, channel text, to_address text, from_address text,
    subject text, unsubscribe_ok boolean, url text, payload text)
LANGUAGE sql AS $$
  SELECT row_number() OVER (), c.kind, c.channel, c.to_address, c.from_address, c.subject,
         c.list_unsubscribe = 'https://shop.test/u?t=' || (SELECT m.token FROM cdp.message m WHERE m.message_id = c.message_id),
         c.url, c.payload
    FROM cdp._claim_messages(n) c $$;
CREATE FUNCTION pg_temp.mid(who text, what text) RETURNS bigint LANGUAGE sql AS $$
  SELECT m.message_id FROM cdp.message m JOIN cdp.customer c USING (customer_id)
   WHERE c.first_name = who AND (m.step = what OR m.kind = what) ORDER BY m.message_id DESC LIMIT 1 $$;
CREATE VIEW pg_temp.outbox AS
  SELECT j.name AS journey, c.first_name, m.kind, m.step, m.state, m.attempts, m.reply_code, m.enhanced_code, m.detail, m.possibly_duplicate
    FROM cdp.message m JOIN cdp.customer c USING (customer_id) LEFT JOIN cdp.journey j USING (journey_id);
-- the outbox in order: hello to Ann, Bob, Cat, Dan, Fay (03-01), webhooks
-- for Ann (03-03), Dan, Eve, Fay (03-10).  Claim 4: Cat (consent false)
-- and Dan (consent unknown, no consent_default) are suppressed; Ann and
-- Bob are handed over, with the sender and List-Unsubscribe
SELECT * FROM pg_temp.claim(4);
SELECT * FROM pg_temp.outbox WHERE step = 'hello' ORDER BY first_name;
-- sent: an e-mail event and a journey_email activity
SELECT cdp._record_delivery(pg_temp.mid('Ann', 'hello'), 'sent', 250, '2.0.0', '250 2.0.0 OK', false);
SELECT e.event, e.journey, e.step, e.template FROM cdp.email_event e WHERE e.message_id = pg_temp.mid('Ann', 'hello') ORDER BY e.event_id;
SELECT a.activity, a.type, a.detail FROM cdp.activity a JOIN cdp.customer c USING (customer_id)
 WHERE a.activity = 'journey_email' AND c.first_name = 'Ann' ORDER BY a.occurred_at;
-- a temporary failure: back to the queue, retried after retry_base
BEGIN;
SELECT cdp._record_delivery(pg_temp.mid('Bob', 'hello'), 'tempfail', 451, '4.7.1', '451 4.7.1 try later', false);
SELECT state, attempts, next_attempt_at - now() AS retry_in, reply_code, enhanced_code, detail FROM cdp.message WHERE message_id = pg_temp.mid('Bob', 'hello');
COMMIT;
-- the next claim: Fay's hello and Ann's webhook (Bob's retry is not due)
SELECT * FROM pg_temp.claim(2);
-- a hard bounce: failed, a "bounced" event, the address suppressed (lower case)
SELECT cdp._record_delivery(pg_temp.mid('Fay', 'hello'), 'permfail', 550, '5.1.1', '550 5.1.1 no such user', true);
SELECT address, reason, message_id = pg_temp.mid('Fay', 'hello') AS by_that_message FROM cdp.suppression;
SELECT e.event, e.detail FROM cdp.email_event e WHERE e.message_id = pg_temp.mid('Fay', 'hello');
-- released (the worker stopped before trying): queued again, no attempt charged
SELECT cdp._record_delivery(pg_temp.mid('Ann', 'webhook'), 'released', NULL, NULL, NULL, false);
-- a crash: two batches claimed and never confirmed; recovery requeues
-- them all and flags only the first of each batch
SELECT * FROM pg_temp.claim(2);
SELECT * FROM pg_temp.claim(5);
SELECT first_name, kind, state, attempts FROM pg_temp.outbox WHERE state = 'sending' ORDER BY 1, 2;
SELECT cdp._recover_claims() AS requeued;
SELECT first_name, kind, state, attempts, possibly_duplicate FROM pg_temp.outbox WHERE kind = 'webhook' ORDER BY 1;
SELECT requeued, cardinality(possibly_duplicated) AS flagged FROM cdp.delivery_recovery;
SELECT cdp._recover_claims() AS nothing_left;
-- the webhooks go out; then Bob's retry is made due and succeeds
SELECT count(*) AS claimed, count(*) FILTER (WHERE kind = 'webhook') AS webhooks FROM pg_temp.claim(10);
SELECT cdp._record_delivery(message_id, 'sent', 200, NULL, 'OK', false) FROM cdp.message WHERE state = 'sending';
UPDATE cdp.message SET next_attempt_at = now() - interval '1 second' WHERE message_id = pg_temp.mid('Bob', 'hello');
SELECT pos, to_address FROM pg_temp.claim(10);
SELECT cdp._record_delivery(pg_temp.mid('Bob', 'hello'), 'sent', 250, '2.0.0', '250 OK', false);
SELECT * FROM pg_temp.outbox WHERE journey = 'main' ORDER BY kind, first_name;
-- a late or unknown outcome changes nothing
SELECT cdp._record_delivery(pg_temp.mid('Bob', 'hello'), 'tempfail', 451, NULL, 'late', false);
SELECT cdp._record_delivery(-1, 'sent', 250, NULL, NULL, false);
SELECT state, attempts FROM cdp.message WHERE message_id = pg_temp.mid('Bob', 'hello');

-- quiet hours 21:00-08:00 in each customer's zone; core is now Ann
-- (Paris, UTC+2 in April), Bob, Dan, Eve (no zone: UTC), Fay (invalid
-- zone: UTC).  qh: e1 (e-mail) -> w (10 hours) -> e2 (e-mail) -> fin.
-- 04-01 20:30 UTC: Ann's 22:30 is quiet: e1 waits for 08:00 Paris = 06:00
--   UTC; the others' 20:30 is not: e1 queued (Eve: no address), w until
--   04-02 06:30
-- 04-02 06:30 UTC: Ann's 08:30: e1 queued, w until 16:30; the others'
--   06:30 is quiet: e2 waits for 08:00 UTC
SELECT cdp.set_journey_setting('quiet_hours', '{"from": "21:00", "to": "08:00"}');
SELECT cdp.create_journey('qh', '{"trigger": {"segment": "core", "members": "all"}, "steps": [
  {"id": "e1", "type": "email", "template": "plain", "channel": "mail2"}, {"id": "w", "type": "wait", "duration": "10 hours"},
  {"id": "e2", "type": "email", "template": "plain", "channel": "mail2"}, {"id": "fin", "type": "end"}]}') IS NOT NULL AS created;
SET client_min_messages = error;
SELECT cdp.publish_journey('qh');
SET client_min_messages = warning;
SELECT cdp.run_journeys('2024-04-01 20:30+00');
SELECT c.first_name, m.step, m.next_at FROM cdp.journey_member m JOIN cdp.journey j USING (journey_id) JOIN cdp.customer c USING (customer_id)
 WHERE j.name = 'qh' ORDER BY 1;
SELECT cdp.run_journeys('2024-04-02 06:30+00');
SELECT c.first_name, m.step, m.next_at,
       (SELECT string_agg(e.step || ':' || e.event, ' ' ORDER BY e.at, e.step) FROM cdp.journey_event e
         WHERE e.member_id = m.member_id AND e.event <> 'entered') AS events
  FROM cdp.journey_member m JOIN cdp.journey j USING (journey_id) JOIN cdp.customer c USING (customer_id)
 WHERE j.name = 'qh' ORDER BY 1;
-- delivery of qh's e1: Fay's bounced address is suppressed; Dan (consent
-- unknown) passes on mail2, whose consent_default is true
SELECT pos, to_address, from_address, subject FROM pg_temp.claim(10);
SELECT first_name, state, detail FROM pg_temp.outbox WHERE journey = 'qh' ORDER BY 1;
-- an unknown status is an error
SELECT state, message FROM pg_temp.err($$SELECT cdp._record_delivery(pg_temp.mid('Dan', 'e1'), 'lost', NULL, NULL, NULL, false)$$);
-- Bob: four temporary failures with max_attempts 4: waits of 1, 2, then
-- 3 minutes (4 capped by retry_max), then failed for good
CREATE FUNCTION pg_temp.bob_fails() RETURNS TABLE (state text, attempts int, retry_in interval, detail text)
LANGUAGE sql AS $$
  SELECT cdp._record_delivery(pg_temp.mid('Bob', 'e1'), 'tempfail', 451, '4.7.1', '451 4.7.1 try later', false);
  SELECT m.state, m.attempts, CASE WHEN m.state = 'queued' THEN m.next_attempt_at - now() END, m.detail
    FROM cdp.message m WHERE m.message_id = pg_temp.mid('Bob', 'e1') $$;
CREATE FUNCTION pg_temp.bob_retries() RETURNS bigint LANGUAGE sql AS $$
  UPDATE cdp.message SET next_attempt_at = now() - interval '1 second' WHERE message_id = pg_temp.mid('Bob', 'e1');
  SELECT count(*) FROM pg_temp.claim(1) $$;
SELECT * FROM pg_temp.bob_fails();
SELECT pg_temp.bob_retries() AS claimed;
SELECT * FROM pg_temp.bob_fails();
SELECT pg_temp.bob_retries() AS claimed;
SELECT * FROM pg_temp.bob_fails();
SELECT pg_temp.bob_retries() AS claimed;
SELECT * FROM pg_temp.bob_fails();
SELECT e.event, e.detail FROM cdp.email_event e WHERE e.message_id = pg_temp.mid('Bob', 'e1');
-- Dan: the channel fails (connection refused): the message goes back
-- without an attempt charged, the channel backs off for retry_base
BEGIN;
SELECT cdp._record_delivery(pg_temp.mid('Dan', 'e1'), 'channel_error', NULL, NULL, 'connection refused', false);
SELECT name, errors, retry_at - now() AS retry_in, last_error FROM cdp.channel WHERE name = 'mail2';
COMMIT;
SELECT state, attempts, detail FROM cdp.message WHERE message_id = pg_temp.mid('Dan', 'e1');
SELECT count(*) AS claimed_while_backing_off FROM pg_temp.claim(10);
UPDATE cdp.channel SET retry_at = now() - interval '1 second' WHERE name = 'mail2';
SELECT pos, to_address FROM pg_temp.claim(10);
SELECT cdp._record_delivery(message_id, 'sent', 250, NULL, '250 OK', false) FROM cdp.message WHERE state = 'sending' ORDER BY message_id;
SELECT name, errors, retry_at FROM cdp.channel WHERE name = 'mail2';
SELECT first_name, step, state, attempts, detail FROM pg_temp.outbox WHERE journey = 'qh' ORDER BY 1, 2;
SELECT cdp.stop_journey('qh');
SELECT cdp.set_journey_setting('quiet_hours', 'null');

-- the frequency cap, one marketing e-mail per 7 days across journeys:
-- cap_a queues to Ann, Bob, Dan, Fay (Eve: no address); cap_b, run after
-- it in the same pass, is capped for them (Eve has none, so she is not
-- capped and has no address again); April's e-mails are older than 7 days
SELECT cdp.set_journey_setting('frequency_cap', '{"max": 1, "per": "7 days"}');
SELECT cdp.create_journey(n, '{"trigger": {"segment": "core", "members": "all"}, "steps": [
  {"id": "e", "type": "email", "template": "plain", "channel": "mail2"}, {"id": "fin", "type": "end"}]}') IS NOT NULL AS created
  FROM unnest(ARRAY['cap_a', 'cap_b']) n;
SET client_min_messages = error;
SELECT cdp.publish_journey('cap_a'), cdp.publish_journey('cap_b');
SET client_min_messages = warning;
SELECT cdp.run_journeys('2024-05-01 12:00+00');
SELECT j.name, e.event, string_agg(c.first_name, ',' ORDER BY c.first_name) AS who
  FROM cdp.journey_event e JOIN cdp.journey j USING (journey_id) JOIN cdp.journey_member m USING (member_id) JOIN cdp.customer c USING (customer_id)
 WHERE j.name IN ('cap_a', 'cap_b') AND e.event <> 'entered' GROUP BY 1, 2 ORDER BY 1, 2;
-- stopping cap_a cancels its four queued e-mails
SELECT cdp.stop_journey('cap_a'), cdp.stop_journey('cap_b');
SELECT state, count(*) FROM cdp.message WHERE step = 'e' GROUP BY 1 ORDER BY 1;
SELECT cdp.set_journey_setting('frequency_cap', 'null');

-- pause, resume, stop (channel mail3): pz: e1 -> w (1 day) -> e2 -> w2 -> fin
SELECT cdp.create_channel('mail3', 'smtps://127.0.0.1:9', '{"from": "c@b.test", "consent_default": true}');
SELECT cdp.create_journey('pz', '{"trigger": {"segment": "core", "members": "all"}, "steps": [
  {"id": "e1", "type": "email", "template": "plain", "channel": "mail3"}, {"id": "w", "type": "wait", "duration": "1 day"},
  {"id": "e2", "type": "email", "template": "plain", "channel": "mail3"}, {"id": "w2", "type": "wait", "duration": "1 day"},
  {"id": "fin", "type": "end"}]}') IS NOT NULL AS created;
SET client_min_messages = error;
SELECT cdp.publish_journey('pz');
SET client_min_messages = warning;
SELECT cdp.run_journeys('2024-06-01 00:00+00');
SELECT cdp.pause_journey('pz');
SELECT state, message FROM pg_temp.err($$SELECT cdp.pause_journey('pz')$$);
-- paused: its four e-mails are not claimed, nobody moves
SELECT count(*) AS claimed FROM pg_temp.claim(10);
SELECT cdp.run_journeys('2024-06-03 00:00+00');
SELECT cdp.resume_journey('pz');
SELECT state, message FROM pg_temp.err($$SELECT cdp.resume_journey('pz')$$);
-- resumed: the waits that ended meanwhile are due: e2 queued for four
SELECT cdp.run_journeys('2024-06-03 00:00+00');
SELECT step, state, count(*) FROM cdp.message WHERE journey_id = (SELECT journey_id FROM cdp.journey WHERE name = 'pz') GROUP BY 1, 2 ORDER BY 1, 2;
-- one e-mail is being sent when the journey is stopped: the members stop,
-- the seven queued e-mails are cancelled, that one goes on
SELECT pos, to_address FROM pg_temp.claim(1);
SELECT cdp.stop_journey('pz');
SELECT state, count(*) FROM cdp.journey_member WHERE journey_id = (SELECT journey_id FROM cdp.journey WHERE name = 'pz') GROUP BY 1;
SELECT state, detail, count(*) FROM cdp.message WHERE journey_id = (SELECT journey_id FROM cdp.journey WHERE name = 'pz') GROUP BY 1, 2 ORDER BY 1;
-- the channel cannot be dropped while that message waits; afterwards it can
SELECT state, message FROM pg_temp.err($$SELECT cdp.drop_channel('mail3')$$);
SELECT cdp._record_delivery(message_id, 'sent', 250, NULL, '250 OK', false) FROM cdp.message WHERE state = 'sending';
SELECT cdp.drop_channel('mail3');
SELECT count(*) AS channel_gone_from_history FROM cdp.message WHERE journey_id = (SELECT journey_id FROM cdp.journey WHERE name = 'pz') AND channel IS NULL;

-- a split with a holdout arm: 200 customers, 10 % holdout, 45 % a, 45 % b.
-- The arm comes from a hash of journey, step and customer: the counts are
-- fixed for this data; binomial 3-sigma bounds say they are plausible
SELECT cdp.create_journey('split_j', '{"trigger": {"segment": "splitters", "members": "all"}, "steps": [
  {"id": "s", "type": "split", "arms": [{"percent": 10, "next": "fin", "holdout": true, "name": "holdout"},
                                         {"percent": 45, "next": "a", "name": "a"}, {"percent": 45, "next": "b"}]},
  {"id": "a", "type": "update", "tag": "arm_a", "next": "fin"}, {"id": "b", "type": "update", "tag": "arm_b"},
  {"id": "fin", "type": "end"}]}') IS NOT NULL AS created;
SELECT cdp.publish_journey('split_j');
SELECT cdp.run_journeys('2024-07-01 00:00+00');
SELECT arm, holdout, count(*),
       count(*) BETWEEN CASE WHEN holdout THEN 8 ELSE 69 END AND CASE WHEN holdout THEN 32 ELSE 111 END AS plausible,
       count(*) = (SELECT count(*) FROM cdp.customer_tag t WHERE t.tag = 'arm_' || m.arm) OR holdout AS tagged
  FROM cdp.journey_member m WHERE journey_id = (SELECT journey_id FROM cdp.journey WHERE name = 'split_j') GROUP BY 1, 2 ORDER BY 1;
-- two holdout customers buy within 7 days of entry, a third after 10 days
INSERT INTO jr.orders
SELECT 100 + row_number() OVER (ORDER BY m.customer_id), s.id,
       m.enrolled_at + CASE WHEN row_number() OVER (ORDER BY m.customer_id) <= 2 THEN interval '1 day' ELSE interval '10 days' END, 20
  FROM cdp.journey_member m JOIN cdp.customer c USING (customer_id) JOIN jr.shop s ON s.first_name = c.first_name
 WHERE m.journey_id = (SELECT journey_id FROM cdp.journey WHERE name = 'split_j') AND m.holdout
 ORDER BY m.customer_id LIMIT 3;
\o /dev/null
CALL cdp.refresh_activities();
\o
SELECT f.members, f.treated, f.holdout, f.emailed, f.converted, f.holdout_converted,
       f.holdout_conversion_rate = round(2.0 / f.holdout, 4) AS holdout_rate_ok, f.uplift = -round(2.0 / f.holdout, 4) AS uplift_ok
  FROM cdp.journey_funnel('split_j') f;
SELECT cdp.stop_journey('split_j');

-- ---------------------------------------------------------------- 5. statistics
-- main: the e-mails were accepted an hour (Ann) and two hours (Bob) after
-- M0 in simulated time; Ann clicked, then unsubscribed.  Bob's purchase of
-- 03-02 (30) is within 7 days of his e-mail, his 03-20 one (5) is not;
-- Ann's of 02-28 came before.  Funnel: 6 members, 2 e-mailed, 2 sent,
-- 1 opened, 1 clicked, 1 converted (1/6), revenue 30, no holdout.
UPDATE cdp.message SET sent_at = '2024-03-01 11:00+00' WHERE message_id = pg_temp.mid('Ann', 'hello');
UPDATE cdp.message SET sent_at = '2024-03-01 12:00+00' WHERE message_id = pg_temp.mid('Bob', 'hello');
SELECT cdp.record_email_event(header_id, 'clicked', '2024-03-01 11:05+00', 'https://shop.test/p/1') FROM cdp.message WHERE message_id = pg_temp.mid('Ann', 'hello');
SELECT cdp.unsubscribe(token) FROM cdp.message WHERE message_id = pg_temp.mid('Ann', 'hello');
SELECT cdp.unsubscribe(token) FROM cdp.message WHERE message_id = pg_temp.mid('Ann', 'hello');
SELECT cdp.unsubscribe('no-such-token');
SELECT address, reason FROM cdp.suppression ORDER BY 1;
-- per step: hello entered by 6, 5 queued, 2 sent, 1 failed (bounced),
-- opened and clicked by Ann (1 of 2 sent), her unsubscribe; pause 6;
-- bought 5 (Cat left); opened_q 4; later 3; tagit 4; hook 4 webhooks
-- queued and sent; fin 5; vip 1
SELECT * FROM cdp.journey_stats('main');
SELECT * FROM cdp.journey_funnel('main');

-- preview of a template for a customer (the token is "preview")
SELECT * FROM cdp.render_template('hello', (SELECT customer_id FROM cdp.customer WHERE first_name = 'Ann'));

-- ---------------------------------------------------------------- 6. refresh log
SELECT cdp.schedule_refresh('nightly', '1 day', ARRAY['segments'], '2030-01-01 00:00+00');
SELECT name, every, steps, next_run_at, enabled FROM cdp.refresh_schedule;
SELECT cdp.unschedule_refresh('nightly');
CALL cdp.run_refresh(ARRAY['segments']);
-- a segment that fails when evaluated (division by zero) fails the step;
-- it is logged, and the steps after it are skipped
SELECT cdp.create_segment('broken', 'spend / (spend - spend) > 1');
CALL cdp.run_refresh(ARRAY['segments', 'measures']);
SELECT schedule, step, ok, error, finished_at >= started_at AS timed FROM cdp.refresh_run ORDER BY run_id;
SELECT cdp.drop_segment('broken');
RESET client_min_messages;
