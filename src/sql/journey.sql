-- Journeys: channels, e-mail templates, journey definitions, the members
-- who walk through them, the outbox of messages the background worker
-- delivers, consent and suppression, e-mail events and statistics.
--
-- The engine (cdp.run_journeys) is set-based SQL run by the worker in its
-- own transactions; delivery is C (src/worker.c, src/mail.c): the worker
-- claims messages with cdp._claim_messages, commits, hands each to the
-- server outside any transaction and records the outcome with
-- cdp._record_delivery in a transaction of its own.

-- cdp_admin: reads channel secrets.  Roles belong to the cluster, not to
-- the database, so it may exist already (another database, a reinstall).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'cdp_admin') THEN
    CREATE ROLE cdp_admin NOLOGIN;
    COMMENT ON ROLE cdp_admin IS 'pg_cdp administrators: may read channel secrets (cdp.channel_secret)';
  END IF;
END
$$;

-- ---------------------------------------------------------------- settings
-- The settings: built-in defaults (a function, so a restore never collides
-- with rows the extension script made) and the values users set (a table,
-- dumped by pg_dump).
CREATE FUNCTION @extschema@._setting_defaults()
RETURNS TABLE (name text, value jsonb, description text)
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$ VALUES
  ('unsubscribe_url', NULL::jsonb, 'URL of the List-Unsubscribe header; {token} stands for the recipient''s token, which the page passes to cdp.unsubscribe(token). Required before a journey with marketing e-mail is published'),
  ('frequency_cap', NULL, 'at most "max" marketing e-mails per customer in "per" across journeys, e.g. {"max": 3, "per": "7 days"}; an e-mail over the cap is skipped (counted as capped) and the journey goes on'),
  ('quiet_hours', NULL, 'no marketing e-mail is queued between "from" and "to" in the customer''s time zone, e.g. {"from": "21:00", "to": "08:00"}; the e-mail waits for the end of the quiet hours'),
  ('time_zone_attribute', '"time_zone"', 'the unified attribute holding a customer''s time zone (IANA name)'),
  ('default_time_zone', '"UTC"', 'the time zone of customers whose own is unknown or invalid'),
  ('address_attribute', '"email"', 'the unified attribute holding a customer''s e-mail address'),
  ('max_attempts', '8', 'delivery attempts of a message before it fails for good (temporary failures)'),
  ('retry_base', '"1 minute"', 'wait before the second attempt; doubled at each further attempt'),
  ('retry_max', '"6 hours"', 'longest wait between two attempts'),
  ('conversion', '{"activity": "purchase", "window": "7 days", "amount": "amount"}',
   'what counts as a conversion in cdp.journey_funnel: an activity within a window after the first e-mail sent (after enrolment for the holdout group), and the column summed as revenue')
$$;
COMMENT ON FUNCTION @extschema@._setting_defaults() IS 'Internal: the journey settings with their defaults and descriptions';

CREATE TABLE @extschema@.journey_setting_value (
    name   text PRIMARY KEY,
    value  jsonb NOT NULL
);
COMMENT ON TABLE @extschema@.journey_setting_value IS 'Journey settings changed with cdp.set_journey_setting (JSON null: turned off); see the view cdp.journey_setting';
COMMENT ON COLUMN @extschema@.journey_setting_value.name IS 'setting name';
COMMENT ON COLUMN @extschema@.journey_setting_value.value IS 'its value (JSON null: off)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.journey_setting_value', '');
GRANT SELECT ON @extschema@.journey_setting_value TO PUBLIC;

CREATE VIEW @extschema@.journey_setting AS
  SELECT d.name, CASE WHEN v.name IS NULL THEN d.value WHEN v.value = 'null' THEN NULL ELSE v.value END AS value,
         d.value AS default_value, d.description
    FROM @extschema@._setting_defaults() d LEFT JOIN @extschema@.journey_setting_value v ON v.name = d.name;
COMMENT ON VIEW @extschema@.journey_setting IS 'Settings of journeys and delivery (change them with cdp.set_journey_setting)';
COMMENT ON COLUMN @extschema@.journey_setting.name IS 'setting name';
COMMENT ON COLUMN @extschema@.journey_setting.value IS 'its value (null: off)';
COMMENT ON COLUMN @extschema@.journey_setting.default_value IS 'its default';
COMMENT ON COLUMN @extschema@.journey_setting.description IS 'what it does';
GRANT SELECT ON @extschema@.journey_setting TO PUBLIC;

CREATE FUNCTION @extschema@._setting_value(name text)
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN v.name IS NULL THEN d.value WHEN v.value = 'null' THEN NULL ELSE v.value END
    FROM @extschema@._setting_defaults() d LEFT JOIN @extschema@.journey_setting_value v ON v.name = d.name
   WHERE d.name = $1
$$;
COMMENT ON FUNCTION @extschema@._setting_value(text) IS 'Internal: the value of a journey setting';

-- An interval written as text, or an error naming the setting or field.
CREATE FUNCTION @extschema@._interval(value text, what text)
RETURNS interval
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  i interval;
BEGIN
  BEGIN
    i := value::interval;
  EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
    RAISE EXCEPTION 'invalid duration "%" in %', value, what
      USING ERRCODE = '22007', HINT = 'Write a duration as PostgreSQL reads an interval: ''3 days'', ''12 hours'', ''30 minutes''.';
  END;
  IF i IS NULL OR i < interval '0' THEN
    RAISE EXCEPTION 'invalid duration "%" in %', value, what
      USING ERRCODE = '22007', HINT = 'A duration is positive, e.g. ''3 days''.';
  END IF;
  RETURN i;
END;
$$;
COMMENT ON FUNCTION @extschema@._interval(text, text) IS 'Internal: a positive interval from text, or an error naming where it was written';

CREATE FUNCTION @extschema@._clock_time(value text, what text)
RETURNS time
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF value IS NULL OR value !~ '^([01][0-9]|2[0-3]):[0-5][0-9]$' THEN
    RAISE EXCEPTION 'invalid time of day "%" in %', value, what
      USING ERRCODE = '22007', HINT = 'Write a time of day as HH:MM, e.g. "21:00".';
  END IF;
  RETURN value::time;
END;
$$;
COMMENT ON FUNCTION @extschema@._clock_time(text, text) IS 'Internal: a time of day written HH:MM, or an error';

CREATE FUNCTION @extschema@.set_journey_setting(name text, value jsonb)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  k text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM @extschema@._setting_defaults() s WHERE s.name = name) THEN
    RAISE EXCEPTION 'unknown journey setting "%"', name
      USING ERRCODE = '42704', HINT = 'See SELECT name, value, description FROM cdp.journey_setting.';
  END IF;
  IF value = 'null'::jsonb THEN
    value := NULL;
  END IF;
  IF value IS NOT NULL THEN
    CASE name
    WHEN 'unsubscribe_url' THEN
      IF jsonb_typeof(value) <> 'string' OR value #>> '{}' !~ '^https?://[^[:space:]]+$' OR strpos(value #>> '{}', '{token}') = 0 THEN
        RAISE EXCEPTION 'unsubscribe_url must be an http(s) URL containing {token}'
          USING ERRCODE = '22023', HINT = 'For example "https://shop.example/unsubscribe?token={token}".';
      END IF;
    WHEN 'frequency_cap' THEN
      IF jsonb_typeof(value) <> 'object' OR NOT value ?& ARRAY['max', 'per']
         OR (SELECT count(*) FROM jsonb_object_keys(value)) <> 2
         OR jsonb_typeof(value -> 'max') <> 'number' OR (value ->> 'max')::numeric < 0
         OR (value ->> 'max')::numeric <> floor((value ->> 'max')::numeric) THEN
        RAISE EXCEPTION 'frequency_cap must be {"max": n, "per": "duration"}'
          USING ERRCODE = '22023', HINT = 'For example {"max": 3, "per": "7 days"}: at most 3 marketing e-mails per customer in 7 days.';
      END IF;
      PERFORM @extschema@._interval(value ->> 'per', 'frequency_cap');
    WHEN 'quiet_hours' THEN
      IF jsonb_typeof(value) <> 'object' OR NOT value ?& ARRAY['from', 'to'] OR (SELECT count(*) FROM jsonb_object_keys(value)) <> 2 THEN
        RAISE EXCEPTION 'quiet_hours must be {"from": "HH:MM", "to": "HH:MM"}'
          USING ERRCODE = '22023', HINT = 'For example {"from": "21:00", "to": "08:00"} (in each customer''s time zone).';
      END IF;
      IF @extschema@._clock_time(value ->> 'from', 'quiet_hours') = @extschema@._clock_time(value ->> 'to', 'quiet_hours') THEN
        RAISE EXCEPTION 'quiet_hours must not start and end at the same time' USING ERRCODE = '22023';
      END IF;
    WHEN 'time_zone_attribute', 'address_attribute' THEN
      IF jsonb_typeof(value) <> 'string' THEN
        RAISE EXCEPTION '% must be an attribute name', name USING ERRCODE = '22023';
      END IF;
    WHEN 'default_time_zone' THEN
      IF jsonb_typeof(value) <> 'string' OR @extschema@._valid_time_zone(value #>> '{}') IS NULL THEN
        RAISE EXCEPTION 'default_time_zone must be a time zone name such as "Europe/Paris"' USING ERRCODE = '22023';
      END IF;
    WHEN 'max_attempts' THEN
      IF jsonb_typeof(value) <> 'number' OR (value #>> '{}')::numeric NOT BETWEEN 1 AND 100
         OR (value #>> '{}')::numeric <> floor((value #>> '{}')::numeric) THEN
        RAISE EXCEPTION 'max_attempts must be an integer between 1 and 100' USING ERRCODE = '22023';
      END IF;
    WHEN 'retry_base', 'retry_max' THEN
      IF jsonb_typeof(value) <> 'string' THEN
        RAISE EXCEPTION '% must be a duration such as "1 minute"', name USING ERRCODE = '22023';
      END IF;
      PERFORM @extschema@._interval(value #>> '{}', name);
    WHEN 'conversion' THEN
      IF jsonb_typeof(value) <> 'object' OR NOT value ? 'activity' OR NOT value ? 'window' THEN
        RAISE EXCEPTION 'conversion must be {"activity": name, "window": "duration", "amount": column}'
          USING ERRCODE = '22023', HINT = 'For example {"activity": "purchase", "window": "7 days", "amount": "amount"}.';
      END IF;
      FOR k IN SELECT jsonb_object_keys(value) LOOP
        IF k NOT IN ('activity', 'window', 'amount') THEN
          RAISE EXCEPTION 'unknown key "%" in conversion', k USING ERRCODE = '22023', HINT = 'The keys are activity, window and amount.';
        END IF;
      END LOOP;
      PERFORM @extschema@._interval(value ->> 'window', 'conversion');
    END CASE;
  END IF;
  INSERT INTO @extschema@.journey_setting_value AS v (name, value) VALUES (name, coalesce(value, 'null'))
  ON CONFLICT ON CONSTRAINT journey_setting_value_pkey DO UPDATE SET value = excluded.value;
END;
$$;
COMMENT ON FUNCTION @extschema@.set_journey_setting(text, jsonb) IS
  'Changes a journey setting (see cdp.journey_setting); null turns an optional one off';

-- A time zone name PostgreSQL knows, or NULL.
CREATE FUNCTION @extschema@._valid_time_zone(tz text)
RETURNS text
LANGUAGE plpgsql STABLE STRICT SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM now() AT TIME ZONE tz;
  RETURN tz;
EXCEPTION WHEN invalid_parameter_value THEN
  RETURN NULL;
END;
$$;
COMMENT ON FUNCTION @extschema@._valid_time_zone(text) IS 'Internal: the name when PostgreSQL knows the time zone, else null';

-- The end of the quiet hours a local wall-clock time falls in, or NULL when
-- it is outside them; both in the customer's time zone.
CREATE FUNCTION @extschema@._quiet_until(at timestamptz, tz text, quiet jsonb)
RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE
           WHEN quiet IS NULL THEN NULL
           WHEN f < t AND lt >= f AND lt < t THEN ((ld + t) AT TIME ZONE tz)
           WHEN f > t AND lt >= f THEN ((ld + 1 + t) AT TIME ZONE tz)
           WHEN f > t AND lt < t THEN ((ld + t) AT TIME ZONE tz)
         END
    FROM (SELECT (quiet ->> 'from')::time AS f, (quiet ->> 'to')::time AS t,
                 (at AT TIME ZONE tz)::time AS lt, (at AT TIME ZONE tz)::date AS ld) x
$$;
COMMENT ON FUNCTION @extschema@._quiet_until(timestamptz, text, jsonb) IS
  'Internal: when the quiet hours around a moment end in a time zone (null when the moment is outside them)';

-- ---------------------------------------------------------------- channels
CREATE TABLE @extschema@.channel (
    name         text PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('smtp', 'http')),
    url          text NOT NULL,
    options      jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    retry_at     timestamptz,
    errors       integer NOT NULL DEFAULT 0,
    last_error   text,
    last_error_at timestamptz
);
COMMENT ON TABLE @extschema@.channel IS 'Delivery channels: an SMTP server or an HTTP e-mail API (secrets are in cdp.channel_secret)';
COMMENT ON COLUMN @extschema@.channel.name IS 'channel name, used by e-mail steps';
COMMENT ON COLUMN @extschema@.channel.kind IS 'smtp (smtp://, smtps://) or http (an API taking JSON, http:// or https://)';
COMMENT ON COLUMN @extschema@.channel.url IS 'server URL, e.g. smtp://mail.example:587 or https://api.example/v1/send';
COMMENT ON COLUMN @extschema@.channel.options IS 'options other than secrets: from, tls, verify_peer, ca_file, timeouts, rate_per_second, consent_attribute, consent_default, marketing';
COMMENT ON COLUMN @extschema@.channel.created_at IS 'when it was created';
COMMENT ON COLUMN @extschema@.channel.retry_at IS 'after a connection, TLS or authentication failure: no delivery before this time';
COMMENT ON COLUMN @extschema@.channel.errors IS 'channel failures in a row (sets the back-off)';
COMMENT ON COLUMN @extschema@.channel.last_error IS 'the last channel failure';
COMMENT ON COLUMN @extschema@.channel.last_error_at IS 'when it happened';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.channel', '');
GRANT SELECT ON @extschema@.channel TO PUBLIC;

CREATE TABLE @extschema@.channel_secret (
    channel   text PRIMARY KEY REFERENCES @extschema@.channel ON DELETE CASCADE,
    username  text,
    password  text,
    headers   jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE @extschema@.channel_secret IS 'Channel credentials: readable by cdp_admin (and superusers) only';
COMMENT ON COLUMN @extschema@.channel_secret.channel IS 'the channel';
COMMENT ON COLUMN @extschema@.channel_secret.username IS 'SMTP user name';
COMMENT ON COLUMN @extschema@.channel_secret.password IS 'SMTP password';
COMMENT ON COLUMN @extschema@.channel_secret.headers IS 'HTTP request headers such as Authorization (HTTP channels)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.channel_secret', '');
REVOKE ALL ON @extschema@.channel_secret FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.channel_secret TO cdp_admin;

CREATE FUNCTION @extschema@.create_channel(name text, url text, options jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  k text;
  kind text;
  secret jsonb := '{}';
  plain jsonb := '{}';
BEGIN
  IF name IS NULL OR name !~ '^[a-z][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION 'invalid channel name "%"', name
      USING ERRCODE = '42602', HINT = 'Use lowercase letters, digits and underscores, starting with a letter.';
  END IF;
  IF EXISTS (SELECT 1 FROM @extschema@.channel c WHERE c.name = name) THEN
    RAISE EXCEPTION 'channel "%" already exists', name USING ERRCODE = '42710', HINT = 'Drop it first with cdp.drop_channel.';
  END IF;
  kind := CASE WHEN url ~* '^smtps?://[^/[:space:]]+/?$' THEN 'smtp'
               WHEN url ~* '^https?://[^[:space:]]+$' THEN 'http' END;
  IF kind IS NULL THEN
    RAISE EXCEPTION 'invalid channel URL "%"', url
      USING ERRCODE = '22023', HINT = 'Use smtp://host:port (STARTTLS when offered), smtps://host:port (TLS) or https://… for an e-mail API taking JSON.';
  END IF;
  options := coalesce(options, '{}');
  IF jsonb_typeof(options) <> 'object' THEN
    RAISE EXCEPTION 'options must be a JSON object' USING ERRCODE = '22023';
  END IF;
  FOR k IN SELECT jsonb_object_keys(options) LOOP
    CASE
    WHEN k IN ('username', 'password') THEN
      IF jsonb_typeof(options -> k) <> 'string' THEN
        RAISE EXCEPTION 'channel option "%" must be a string', k USING ERRCODE = '22023';
      END IF;
      secret := secret || jsonb_build_object(k, options -> k);
    WHEN k = 'headers' THEN
      IF jsonb_typeof(options -> k) <> 'object'
         OR EXISTS (SELECT 1 FROM jsonb_each(options -> k) e WHERE jsonb_typeof(e.value) <> 'string'
                      OR e.key !~ '^[A-Za-z0-9-]+$' OR e.value #>> '{}' ~ '[\r\n]') THEN
        RAISE EXCEPTION 'channel option "headers" must be an object of header names and string values'
          USING ERRCODE = '22023', HINT = 'For example {"headers": {"Authorization": "Bearer …"}}; values cannot contain line breaks.';
      END IF;
      secret := secret || jsonb_build_object(k, options -> k);
    WHEN k = 'from' THEN
      IF jsonb_typeof(options -> k) <> 'string' OR options ->> k !~ '[^@<>[:space:]]+@[^@<>[:space:]]+\.[^@<>[:space:]]+' OR options ->> k ~ '[\r\n]' THEN
        RAISE EXCEPTION 'channel option "from" must be an address, optionally with a name: "Shop <news@shop.example>"' USING ERRCODE = '22023';
      END IF;
      plain := plain || jsonb_build_object(k, options -> k);
    WHEN k = 'tls' THEN
      IF options ->> k NOT IN ('none', 'try', 'required') OR jsonb_typeof(options -> k) <> 'string' THEN
        RAISE EXCEPTION 'channel option "tls" must be "none", "try" or "required"' USING ERRCODE = '22023',
          HINT = 'smtp:// uses STARTTLS: "try" (default) when the server offers it, "required" to refuse plain text; smtps:// is always TLS.';
      END IF;
      plain := plain || jsonb_build_object(k, options -> k);
    WHEN k IN ('verify_peer', 'consent_default', 'marketing') THEN
      IF jsonb_typeof(options -> k) <> 'boolean' THEN
        RAISE EXCEPTION 'channel option "%" must be true or false', k USING ERRCODE = '22023';
      END IF;
      plain := plain || jsonb_build_object(k, options -> k);
    WHEN k IN ('connect_timeout_ms', 'timeout_ms', 'rate_per_second') THEN
      IF jsonb_typeof(options -> k) <> 'number' OR (options ->> k)::numeric <= 0 THEN
        RAISE EXCEPTION 'channel option "%" must be a positive number', k USING ERRCODE = '22023';
      END IF;
      plain := plain || jsonb_build_object(k, options -> k);
    WHEN k IN ('ca_file', 'consent_attribute') THEN
      IF jsonb_typeof(options -> k) <> 'string' THEN
        RAISE EXCEPTION 'channel option "%" must be a string', k USING ERRCODE = '22023';
      END IF;
      plain := plain || jsonb_build_object(k, options -> k);
    ELSE
      RAISE EXCEPTION 'unknown channel option "%"', k USING ERRCODE = '22023',
        HINT = 'Options: from, username, password, headers, tls, verify_peer, ca_file, connect_timeout_ms, timeout_ms, rate_per_second, consent_attribute, consent_default, marketing.';
    END CASE;
  END LOOP;
  IF NOT plain ? 'from' THEN
    RAISE EXCEPTION 'channel option "from" is required' USING ERRCODE = '22023',
      HINT = 'For example {"from": "Shop <news@shop.example>"}.';
  END IF;
  IF kind = 'http' AND (secret ? 'username' OR plain ? 'tls') THEN
    RAISE EXCEPTION 'options username and tls are for SMTP channels' USING ERRCODE = '22023',
      HINT = 'An HTTP API takes its credentials in "headers", e.g. {"headers": {"Authorization": "Bearer …"}}.';
  END IF;
  IF kind = 'smtp' AND secret ? 'headers' THEN
    RAISE EXCEPTION 'option headers is for HTTP channels' USING ERRCODE = '22023';
  END IF;
  IF (secret ? 'username') <> (secret ? 'password') THEN
    RAISE EXCEPTION 'username and password go together' USING ERRCODE = '22023';
  END IF;
  INSERT INTO @extschema@.channel (name, kind, url, options) VALUES (name, kind, url, plain);
  INSERT INTO @extschema@.channel_secret (channel, username, password, headers)
  VALUES (name, secret ->> 'username', secret ->> 'password', coalesce(secret -> 'headers', '{}'));
END;
$$;
COMMENT ON FUNCTION @extschema@.create_channel(text, text, jsonb) IS
  'Creates a delivery channel: smtp:// (STARTTLS), smtps:// or an https:// e-mail API; username, password and headers are kept in cdp.channel_secret';

-- The journeys (names, comma-separated) whose steps name a channel or a
-- template, among versions in the given states; NULL when none.
CREATE FUNCTION @extschema@._journeys_using(step_key text, used text, states text[])
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT string_agg(DISTINCT j.name, ', ')
    FROM @extschema@.journey j, jsonb_array_elements(j.definition -> 'steps') s
   WHERE j.status = ANY (states) AND s ->> step_key = used
$$;
COMMENT ON FUNCTION @extschema@._journeys_using(text, text, text[]) IS 'Internal: the journeys whose steps use a channel or a template';

CREATE FUNCTION @extschema@.drop_channel(name text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  users text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM @extschema@.channel c WHERE c.name = name) THEN
    RAISE EXCEPTION 'channel "%" does not exist', name USING ERRCODE = '42704';
  END IF;
  users := @extschema@._journeys_using('channel', name, ARRAY['draft', 'live', 'paused', 'closed']);
  IF users IS NOT NULL THEN
    RAISE EXCEPTION 'channel "%" is used by journey %', name, users
      USING ERRCODE = '2BP01', HINT = 'Stop or change those journeys first.';
  END IF;
  IF EXISTS (SELECT 1 FROM @extschema@.message m WHERE m.channel = name AND m.state IN ('queued', 'sending')) THEN
    RAISE EXCEPTION 'channel "%" has messages waiting to be sent', name
      USING ERRCODE = '55006', HINT = 'Wait for them, or cancel them: UPDATE cdp.message SET state = ''cancelled'' WHERE channel = … AND state = ''queued''.';
  END IF;
  DELETE FROM @extschema@.channel c WHERE c.name = name;
END;
$$;
COMMENT ON FUNCTION @extschema@.drop_channel(text) IS 'Drops a channel; refused while a journey uses it or messages wait on it';

-- The configuration of a channel as the mailer reads it (with secrets):
-- for the worker, which runs as a superuser (and for tests of cdp._mail_send).
CREATE FUNCTION @extschema@._channel_config(name text)
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT jsonb_strip_nulls(jsonb_build_object(
           'url', c.url, 'username', s.username, 'password', s.password,
           'tls', c.options -> 'tls', 'verify_peer', c.options -> 'verify_peer', 'ca_file', c.options -> 'ca_file',
           'connect_timeout_ms', c.options -> 'connect_timeout_ms', 'timeout_ms', c.options -> 'timeout_ms',
           'headers', CASE WHEN s.headers = '{}' THEN NULL ELSE s.headers END))
    FROM @extschema@.channel c LEFT JOIN @extschema@.channel_secret s ON s.channel = c.name
   WHERE c.name = $1
$$;
COMMENT ON FUNCTION @extschema@._channel_config(text) IS 'Internal: a channel''s URL, options and secrets as the mailer reads them';
REVOKE EXECUTE ON FUNCTION @extschema@._channel_config(text) FROM PUBLIC;

-- ---------------------------------------------------------------- templates
CREATE TABLE @extschema@.template (
    name        text PRIMARY KEY,
    subject     text NOT NULL,
    html        text,
    text_body   text,
    paths       text[] NOT NULL,
    coupons     text[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (html IS NOT NULL OR text_body IS NOT NULL)
);
COMMENT ON TABLE @extschema@.template IS 'E-mail templates: subject, HTML and text parts in the template language (see README, Templates)';
COMMENT ON COLUMN @extschema@.template.name IS 'template name, used by e-mail steps';
COMMENT ON COLUMN @extschema@.template.subject IS 'subject template';
COMMENT ON COLUMN @extschema@.template.html IS 'HTML part template (values are HTML-escaped)';
COMMENT ON COLUMN @extschema@.template.text_body IS 'plain-text part template';
COMMENT ON COLUMN @extschema@.template.paths IS 'profile values the template reads';
COMMENT ON COLUMN @extschema@.template.coupons IS 'coupon prefixes it prints ({{ coupon "PREFIX" }})';
COMMENT ON COLUMN @extschema@.template.created_at IS 'when it was created';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.template', '');
GRANT SELECT ON @extschema@.template TO PUBLIC;

-- What a template can read besides the customer's attributes and measures.
CREATE FUNCTION @extschema@._template_extras()
RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT ARRAY['customer_id', 'unsubscribe_url', 'journey', 'step', 'message_id', 'coupon_seed', 'measure', 'now'] $$;
COMMENT ON FUNCTION @extschema@._template_extras() IS 'Internal: the context names a template may use besides attributes and measures';

CREATE FUNCTION @extschema@.create_template(name text, subject text, html text, text_body text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  p text;
  known jsonb := @extschema@.segment_catalog();
  paths text[] := '{}';
  coupons text[] := '{}';
  part text;
  users text;
BEGIN
  IF name IS NULL OR name !~ '^[a-z][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION 'invalid template name "%"', name
      USING ERRCODE = '42602', HINT = 'Use lowercase letters, digits and underscores, starting with a letter.';
  END IF;
  IF subject IS NULL OR btrim(subject) = '' THEN
    RAISE EXCEPTION 'a template needs a subject' USING ERRCODE = '22023';
  END IF;
  IF html IS NULL AND text_body IS NULL THEN
    RAISE EXCEPTION 'a template needs an HTML part, a text part or both' USING ERRCODE = '22023';
  END IF;
  users := @extschema@._journeys_using('template', name, ARRAY['live', 'paused', 'closed']);
  IF users IS NOT NULL THEN
    RAISE EXCEPTION 'template "%" is used by published journey %', name, users
      USING ERRCODE = '55006', HINT = 'Create a template under a new name and a new version of the journey that uses it.';
  END IF;
  FOREACH part IN ARRAY ARRAY[subject, html, text_body] LOOP
    CONTINUE WHEN part IS NULL;
    PERFORM @extschema@.template_check(part);
    paths := paths || @extschema@.template_paths(part);
    coupons := coupons || @extschema@.template_coupons(part);
  END LOOP;
  FOREACH p IN ARRAY paths LOOP
    IF NOT (known -> 'attributes' ? split_part(p, '.', 1)
            OR split_part(p, '.', 1) = ANY (@extschema@._template_extras()) AND split_part(p, '.', 1) <> 'measure'
            OR (split_part(p, '.', 1) = 'measure' AND known -> 'measures' ? split_part(p, '.', 2))) THEN
      RAISE EXCEPTION 'template "%" reads "%", which is neither an attribute nor a measure', name, p
        USING ERRCODE = '42703',
              HINT = format('Attributes: %s. Measures (as measure.<name>): %s. Also: customer_id, unsubscribe_url, journey, step, message_id.',
                            coalesce((SELECT string_agg(k, ', ' ORDER BY k) FROM jsonb_object_keys(known -> 'attributes') k), 'none'),
                            coalesce((SELECT string_agg(k, ', ' ORDER BY k) FROM jsonb_object_keys(known -> 'measures') k), 'none'));
    END IF;
  END LOOP;
  INSERT INTO @extschema@.template AS t (name, subject, html, text_body, paths, coupons)
  VALUES (name, subject, html, text_body,
          ARRAY(SELECT DISTINCT unnest(paths) ORDER BY 1), ARRAY(SELECT DISTINCT unnest(coupons) ORDER BY 1))
  ON CONFLICT ON CONSTRAINT template_pkey DO UPDATE
     SET subject = excluded.subject, html = excluded.html, text_body = excluded.text_body,
         paths = excluded.paths, coupons = excluded.coupons, created_at = now();
END;
$$;
COMMENT ON FUNCTION @extschema@.create_template(text, text, text, text) IS
  'Creates (or replaces, when no published journey uses it) an e-mail template; checks its syntax and that every value it reads exists';

CREATE FUNCTION @extschema@.drop_template(name text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  users text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM @extschema@.template t WHERE t.name = name) THEN
    RAISE EXCEPTION 'template "%" does not exist', name USING ERRCODE = '42704';
  END IF;
  users := @extschema@._journeys_using('template', name, ARRAY['draft', 'live', 'paused', 'closed']);
  IF users IS NOT NULL THEN
    RAISE EXCEPTION 'template "%" is used by journey %', name, users USING ERRCODE = '2BP01';
  END IF;
  DELETE FROM @extschema@.template t WHERE t.name = name;
END;
$$;
COMMENT ON FUNCTION @extschema@.drop_template(text) IS 'Drops a template; refused while a journey uses it';

-- The context a template is rendered with: the customer's attributes, its
-- measures under "measure", and what the journey adds.
CREATE FUNCTION @extschema@._customer_context(customer_id bigint)
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT to_jsonb(c) - 'record_count' - 'sources' - 'updated_run'
         || jsonb_build_object('measure', coalesce((SELECT to_jsonb(m) - 'customer_id' - 'refreshed_at'
                                                      FROM @extschema@.customer_measure m WHERE m.customer_id = c.customer_id), '{}'))
    FROM @extschema@.customer c WHERE c.customer_id = $1
$$;
COMMENT ON FUNCTION @extschema@._customer_context(bigint) IS 'Internal: a customer''s attributes and measures as a template context';

CREATE FUNCTION @extschema@.render_template(name text, customer_id bigint,
    OUT subject text, OUT html text, OUT text_body text)
LANGUAGE plpgsql STABLE STRICT SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  t @extschema@.template%ROWTYPE;
  ctx jsonb;
BEGIN
  SELECT * INTO t FROM @extschema@.template x WHERE x.name = name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'template "%" does not exist', name USING ERRCODE = '42704';
  END IF;
  ctx := @extschema@._customer_context(customer_id);
  IF ctx IS NULL THEN
    RAISE EXCEPTION 'customer % does not exist', customer_id USING ERRCODE = '42704';
  END IF;
  ctx := ctx || jsonb_build_object('coupon_seed', 'preview-' || customer_id, 'journey', 'preview', 'step', 'preview',
                                   'unsubscribe_url', replace(coalesce(@extschema@._setting_value('unsubscribe_url') #>> '{}', ''), '{token}', 'preview'),
                                   'now', now());
  subject := @extschema@.render_text(t.subject, ctx, false);
  html := @extschema@.render_text(t.html, ctx, true);
  text_body := @extschema@.render_text(t.text_body, ctx, false);
END;
$$;
COMMENT ON FUNCTION @extschema@.render_template(text, bigint) IS
  'Previews an e-mail for a customer: subject, HTML and text parts rendered from the profile and measures (coupon codes of the preview are not recorded)';

-- ---------------------------------------------------------------- journeys
CREATE TABLE @extschema@.journey (
    journey_id    serial PRIMARY KEY,
    name          text NOT NULL,
    version       integer NOT NULL,
    definition    jsonb NOT NULL,
    status        text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'live', 'paused', 'closed', 'stopped')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    stopped_at    timestamptz,
    trigger_done  boolean NOT NULL DEFAULT false,
    UNIQUE (name, version)
);
CREATE UNIQUE INDEX journey_one_draft ON @extschema@.journey (name) WHERE status = 'draft';
COMMENT ON INDEX @extschema@.journey_one_draft IS 'at most one draft per journey name';
COMMENT ON TABLE @extschema@.journey IS 'Journeys, one row per version: definition and status (draft, live, paused, closed = replaced by a newer version, members finish; stopped)';
COMMENT ON COLUMN @extschema@.journey.journey_id IS 'version id';
COMMENT ON COLUMN @extschema@.journey.name IS 'journey name';
COMMENT ON COLUMN @extschema@.journey.version IS 'version number (1, 2, …); a published version is never edited';
COMMENT ON COLUMN @extschema@.journey.definition IS 'the definition (trigger, steps, reentry, exit)';
COMMENT ON COLUMN @extschema@.journey.status IS 'draft, live, paused, closed (a newer version is live; members already in go on) or stopped';
COMMENT ON COLUMN @extschema@.journey.created_at IS 'when this version was created';
COMMENT ON COLUMN @extschema@.journey.published_at IS 'when it went live';
COMMENT ON COLUMN @extschema@.journey.stopped_at IS 'when it was stopped or closed';
COMMENT ON COLUMN @extschema@.journey.trigger_done IS 'a one-time trigger has enrolled its members';
COMMENT ON SEQUENCE @extschema@.journey_journey_id_seq IS 'numbers journey versions';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.journey', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.journey_journey_id_seq', '');
GRANT SELECT ON @extschema@.journey TO PUBLIC;

CREATE TABLE @extschema@.journey_step (
    journey_id  integer NOT NULL REFERENCES @extschema@.journey ON DELETE CASCADE,
    step        text NOT NULL,
    position    integer NOT NULL,
    type        text NOT NULL CHECK (type IN ('email', 'wait', 'branch', 'split', 'update', 'webhook', 'end')),
    spec        jsonb NOT NULL,
    next_step   text,
    PRIMARY KEY (journey_id, step)
);
COMMENT ON TABLE @extschema@.journey_step IS 'The steps of each journey version, as the engine reads them';
COMMENT ON COLUMN @extschema@.journey_step.journey_id IS 'journey version';
COMMENT ON COLUMN @extschema@.journey_step.step IS 'step id';
COMMENT ON COLUMN @extschema@.journey_step.position IS 'order in the definition (1 = first)';
COMMENT ON COLUMN @extschema@.journey_step.type IS 'email, wait, branch, split, update, webhook or end';
COMMENT ON COLUMN @extschema@.journey_step.spec IS 'the step as written';
COMMENT ON COLUMN @extschema@.journey_step.next_step IS 'the step that follows (its "next", else the next in order; null after the last: the member completes)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.journey_step', '');
GRANT SELECT ON @extschema@.journey_step TO PUBLIC;

CREATE TABLE @extschema@.journey_member (
    member_id    bigserial PRIMARY KEY,
    journey_id   integer NOT NULL REFERENCES @extschema@.journey,
    customer_id  bigint NOT NULL,
    trigger_key  text NOT NULL,
    enrolled_at  timestamptz NOT NULL,
    step         text,
    step_at      timestamptz,
    next_at      timestamptz,
    state        text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'completed', 'exited', 'goal', 'stopped')),
    arm          text,
    holdout      boolean NOT NULL DEFAULT false,
    ended_at     timestamptz,
    UNIQUE (journey_id, trigger_key)
);
CREATE UNIQUE INDEX journey_member_active ON @extschema@.journey_member (journey_id, customer_id) WHERE state = 'active';
CREATE INDEX journey_member_due ON @extschema@.journey_member (journey_id, step, next_at) WHERE state = 'active';
CREATE INDEX journey_member_customer ON @extschema@.journey_member (customer_id);
COMMENT ON INDEX @extschema@.journey_member_active IS 'a customer walks a journey version at most once at a time';
COMMENT ON INDEX @extschema@.journey_member_due IS 'the members due at a step';
COMMENT ON INDEX @extschema@.journey_member_customer IS 'a customer''s journeys';
COMMENT ON TABLE @extschema@.journey_member IS 'Customers enrolled in journeys: where each is, when it moves next, how it ended';
COMMENT ON COLUMN @extschema@.journey_member.member_id IS 'enrolment number';
COMMENT ON COLUMN @extschema@.journey_member.journey_id IS 'journey version';
COMMENT ON COLUMN @extschema@.journey_member.customer_id IS 'the customer';
COMMENT ON COLUMN @extschema@.journey_member.trigger_key IS 'what enrolled it: segment entry time, activity row key, or the one-time send';
COMMENT ON COLUMN @extschema@.journey_member.enrolled_at IS 'when it entered the journey ("since entry" in conditions)';
COMMENT ON COLUMN @extschema@.journey_member.step IS 'current step (null once ended)';
COMMENT ON COLUMN @extschema@.journey_member.step_at IS 'when it reached the current step';
COMMENT ON COLUMN @extschema@.journey_member.next_at IS 'when the current step is due (end of a wait, end of quiet hours)';
COMMENT ON COLUMN @extschema@.journey_member.state IS 'active, completed (reached an end), exited (left the trigger segment), goal (reached the goal), stopped (journey stopped)';
COMMENT ON COLUMN @extschema@.journey_member.arm IS 'the split arm it took (last split)';
COMMENT ON COLUMN @extschema@.journey_member.holdout IS 'it took a holdout arm (receives nothing; compared in cdp.journey_stats)';
COMMENT ON COLUMN @extschema@.journey_member.ended_at IS 'when it left the journey';
COMMENT ON SEQUENCE @extschema@.journey_member_member_id_seq IS 'numbers enrolments';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.journey_member', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.journey_member_member_id_seq', '');
GRANT SELECT ON @extschema@.journey_member TO PUBLIC;

CREATE TABLE @extschema@.journey_event (
    journey_id   integer NOT NULL,
    member_id    bigint NOT NULL,
    step         text NOT NULL,
    event        text NOT NULL CHECK (event IN ('entered', 'queued', 'capped', 'no_address', 'quiet', 'tagged', 'exited', 'goal', 'completed', 'stopped')),
    at           timestamptz NOT NULL
);
CREATE INDEX journey_event_journey ON @extschema@.journey_event (journey_id, step, event);
COMMENT ON INDEX @extschema@.journey_event_journey IS 'the events of a journey, per step';
COMMENT ON TABLE @extschema@.journey_event IS 'What happened to members at each step: entered, queued (an e-mail or webhook), capped (frequency cap), no_address, quiet (postponed), tagged, exited, goal, completed, stopped';
COMMENT ON COLUMN @extschema@.journey_event.journey_id IS 'journey version';
COMMENT ON COLUMN @extschema@.journey_event.member_id IS 'enrolment';
COMMENT ON COLUMN @extschema@.journey_event.step IS 'step id';
COMMENT ON COLUMN @extschema@.journey_event.event IS 'what happened';
COMMENT ON COLUMN @extschema@.journey_event.at IS 'journey time it happened';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.journey_event', '');
GRANT SELECT ON @extschema@.journey_event TO PUBLIC;

-- ---------------------------------------------------------------- outbox
CREATE TABLE @extschema@.message (
    message_id      bigserial PRIMARY KEY,
    header_id       text NOT NULL UNIQUE,
    kind            text NOT NULL CHECK (kind IN ('email', 'webhook')),
    channel         text REFERENCES @extschema@.channel ON DELETE SET NULL,
    journey_id      integer REFERENCES @extschema@.journey,
    member_id       bigint,
    step            text,
    customer_id     bigint,
    template        text,
    marketing       boolean NOT NULL DEFAULT true,
    to_address      text,
    url             text,
    subject         text,
    html            text,
    text_body       text,
    payload         jsonb,
    token           text UNIQUE,
    state           text NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'suppressed', 'cancelled')),
    attempts        integer NOT NULL DEFAULT 0,
    queued_at       timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claim_batch     bigint,
    claim_pos       integer,
    claimed_at      timestamptz,
    sent_at         timestamptz,
    reply_code      integer,
    enhanced_code   text,
    detail          text,
    possibly_duplicate boolean NOT NULL DEFAULT false
);
CREATE INDEX message_due ON @extschema@.message (next_attempt_at, message_id) WHERE state = 'queued';
CREATE INDEX message_claimed ON @extschema@.message (claim_batch, claim_pos) WHERE state = 'sending';
CREATE INDEX message_customer ON @extschema@.message (customer_id, queued_at);
CREATE INDEX message_journey ON @extschema@.message (journey_id, step);
COMMENT ON INDEX @extschema@.message_due IS 'messages waiting for delivery, oldest first';
COMMENT ON INDEX @extschema@.message_claimed IS 'messages handed to the worker and not yet confirmed';
COMMENT ON INDEX @extschema@.message_customer IS 'a customer''s messages (frequency cap)';
COMMENT ON INDEX @extschema@.message_journey IS 'a journey''s messages (statistics)';
COMMENT ON TABLE @extschema@.message IS
  'The outbox: every e-mail and webhook, rendered when queued, and its delivery state: queued, sending (claimed by the worker), sent, failed, suppressed (no consent, unsubscribed or suppressed address, checked right before sending), cancelled';
COMMENT ON COLUMN @extschema@.message.message_id IS 'message number';
COMMENT ON COLUMN @extschema@.message.header_id IS 'the Message-ID header (e-mail) or the X-Message-Id header (webhook), for cdp.record_email_event';
COMMENT ON COLUMN @extschema@.message.kind IS 'email or webhook';
COMMENT ON COLUMN @extschema@.message.channel IS 'the channel it goes through (webhooks without a channel go to url)';
COMMENT ON COLUMN @extschema@.message.journey_id IS 'journey version that sent it';
COMMENT ON COLUMN @extschema@.message.member_id IS 'enrolment that sent it';
COMMENT ON COLUMN @extschema@.message.step IS 'step that sent it';
COMMENT ON COLUMN @extschema@.message.customer_id IS 'recipient customer';
COMMENT ON COLUMN @extschema@.message.template IS 'template it was rendered from';
COMMENT ON COLUMN @extschema@.message.marketing IS 'a marketing message: subject to consent, unsubscribes, the frequency cap and quiet hours';
COMMENT ON COLUMN @extschema@.message.to_address IS 'recipient address (one per message)';
COMMENT ON COLUMN @extschema@.message.url IS 'webhook URL';
COMMENT ON COLUMN @extschema@.message.subject IS 'rendered subject';
COMMENT ON COLUMN @extschema@.message.html IS 'rendered HTML part';
COMMENT ON COLUMN @extschema@.message.text_body IS 'rendered text part';
COMMENT ON COLUMN @extschema@.message.payload IS 'webhook body';
COMMENT ON COLUMN @extschema@.message.token IS 'the recipient''s unsubscribe token (List-Unsubscribe URL, cdp.unsubscribe)';
COMMENT ON COLUMN @extschema@.message.state IS 'queued, sending, sent, failed, suppressed or cancelled';
COMMENT ON COLUMN @extschema@.message.attempts IS 'delivery attempts so far';
COMMENT ON COLUMN @extschema@.message.queued_at IS 'when the journey queued it';
COMMENT ON COLUMN @extschema@.message.next_attempt_at IS 'not delivered before this time (retries back off)';
COMMENT ON COLUMN @extschema@.message.claim_batch IS 'the worker''s batch while sending';
COMMENT ON COLUMN @extschema@.message.claim_pos IS 'its place in that batch (the worker sends in this order)';
COMMENT ON COLUMN @extschema@.message.claimed_at IS 'when the worker claimed it';
COMMENT ON COLUMN @extschema@.message.sent_at IS 'when the server accepted it';
COMMENT ON COLUMN @extschema@.message.reply_code IS 'last SMTP reply code or HTTP status';
COMMENT ON COLUMN @extschema@.message.enhanced_code IS 'last enhanced status code (RFC 3463), e.g. 5.1.1';
COMMENT ON COLUMN @extschema@.message.detail IS 'last server reply or error, or why it was suppressed';
COMMENT ON COLUMN @extschema@.message.possibly_duplicate IS 'it was being handed to the server when the worker or server crashed, so it may arrive twice';
COMMENT ON SEQUENCE @extschema@.message_message_id_seq IS 'numbers messages';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.message', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.message_message_id_seq', '');
GRANT SELECT (message_id, header_id, kind, channel, journey_id, member_id, step, customer_id, template, marketing,
              state, attempts, queued_at, next_attempt_at, sent_at, reply_code, enhanced_code, detail, possibly_duplicate)
   ON @extschema@.message TO PUBLIC;
CREATE SEQUENCE @extschema@.claim_batch_seq;
COMMENT ON SEQUENCE @extschema@.claim_batch_seq IS 'numbers the worker''s claimed batches';

CREATE TABLE @extschema@.delivery_recovery (
    recovered_at  timestamptz NOT NULL DEFAULT now(),
    requeued      integer NOT NULL,
    possibly_duplicated bigint[] NOT NULL
);
COMMENT ON TABLE @extschema@.delivery_recovery IS
  'Each time the worker started and found messages claimed by a worker that died: how many went back to the queue and which may have reached the server already';
COMMENT ON COLUMN @extschema@.delivery_recovery.recovered_at IS 'when';
COMMENT ON COLUMN @extschema@.delivery_recovery.requeued IS 'claimed messages put back in the queue';
COMMENT ON COLUMN @extschema@.delivery_recovery.possibly_duplicated IS 'message_id of the first unconfirmed message of each batch: the one that may have been in flight';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.delivery_recovery', '');
GRANT SELECT ON @extschema@.delivery_recovery TO PUBLIC;

CREATE TABLE @extschema@.suppression (
    address     text PRIMARY KEY,
    reason      text NOT NULL CHECK (reason IN ('bounce', 'complaint', 'unsubscribe', 'manual')),
    at          timestamptz NOT NULL DEFAULT now(),
    message_id  bigint
);
COMMENT ON TABLE @extschema@.suppression IS 'Addresses that get no marketing e-mail: hard bounces (5.1.x), complaints, unsubscribes, manual entries';
COMMENT ON COLUMN @extschema@.suppression.address IS 'e-mail address (lower case)';
COMMENT ON COLUMN @extschema@.suppression.reason IS 'bounce, complaint, unsubscribe or manual';
COMMENT ON COLUMN @extschema@.suppression.at IS 'when';
COMMENT ON COLUMN @extschema@.suppression.message_id IS 'the message that caused it';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.suppression', '');
GRANT SELECT ON @extschema@.suppression TO PUBLIC;

CREATE TABLE @extschema@.email_event (
    event_id     bigserial PRIMARY KEY,
    message_id   bigint NOT NULL REFERENCES @extschema@.message,
    customer_id  bigint,
    journey      text,
    step         text,
    template     text,
    event        text NOT NULL CHECK (event IN ('sent', 'failed', 'delivered', 'opened', 'clicked', 'bounced', 'complained', 'unsubscribed')),
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    detail       text
);
CREATE INDEX email_event_message ON @extschema@.email_event (message_id, event);
COMMENT ON INDEX @extschema@.email_event_message IS 'the events of a message';
COMMENT ON TABLE @extschema@.email_event IS 'E-mail events: sent and failed (the worker), delivered, opened, clicked, bounced, complained, unsubscribed (cdp.record_email_event, cdp.unsubscribe); each is also an activity "journey_email" of the customer';
COMMENT ON COLUMN @extschema@.email_event.event_id IS 'event number';
COMMENT ON COLUMN @extschema@.email_event.message_id IS 'the message';
COMMENT ON COLUMN @extschema@.email_event.customer_id IS 'the customer';
COMMENT ON COLUMN @extschema@.email_event.journey IS 'journey name';
COMMENT ON COLUMN @extschema@.email_event.step IS 'step id';
COMMENT ON COLUMN @extschema@.email_event.template IS 'template';
COMMENT ON COLUMN @extschema@.email_event.event IS 'sent, failed, delivered, opened, clicked, bounced, complained or unsubscribed';
COMMENT ON COLUMN @extschema@.email_event.occurred_at IS 'when it happened';
COMMENT ON COLUMN @extschema@.email_event.recorded_at IS 'when it was recorded';
COMMENT ON COLUMN @extschema@.email_event.detail IS 'the clicked URL, the bounce reply…';
COMMENT ON SEQUENCE @extschema@.email_event_event_id_seq IS 'numbers e-mail events';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.email_event', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.email_event_event_id_seq', '');
GRANT SELECT ON @extschema@.email_event TO PUBLIC;

-- E-mail events are activities of the customer: segments, measures and
-- branch conditions read them as journey_email (event, journey, step, template).
INSERT INTO @extschema@.activity_def (name, relation, occurred_at_column, link, columns, type, key_column)
VALUES ('journey_email', '@extschema@.email_event'::regclass, 'occurred_at', '{"journey": true}',
        '{"event": {"column": "event", "type": "text"}, "journey": {"column": "journey", "type": "text"},
          "step": {"column": "step", "type": "text"}, "template": {"column": "template", "type": "text"},
          "detail": {"column": "detail", "type": "text"}}', 'email', 'event_id');

CREATE TABLE @extschema@.coupon (
    code         text PRIMARY KEY,
    prefix       text NOT NULL,
    message_id   bigint NOT NULL REFERENCES @extschema@.message,
    customer_id  bigint,
    journey_id   integer,
    issued_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE @extschema@.coupon IS 'Per-recipient coupon codes printed by {{ coupon "PREFIX" }}, to attribute redemptions';
COMMENT ON COLUMN @extschema@.coupon.code IS 'the code';
COMMENT ON COLUMN @extschema@.coupon.prefix IS 'its prefix';
COMMENT ON COLUMN @extschema@.coupon.message_id IS 'the message that carried it';
COMMENT ON COLUMN @extschema@.coupon.customer_id IS 'the customer it was issued to';
COMMENT ON COLUMN @extschema@.coupon.journey_id IS 'journey version';
COMMENT ON COLUMN @extschema@.coupon.issued_at IS 'when';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.coupon', '');
GRANT SELECT ON @extschema@.coupon TO PUBLIC;

CREATE TABLE @extschema@.customer_tag (
    customer_id  bigint NOT NULL,
    tag          text NOT NULL,
    added_at     timestamptz NOT NULL DEFAULT now(),
    journey_id   integer,
    PRIMARY KEY (customer_id, tag)
);
COMMENT ON TABLE @extschema@.customer_tag IS 'Tags added to customers by journey update steps';
COMMENT ON COLUMN @extschema@.customer_tag.customer_id IS 'the customer';
COMMENT ON COLUMN @extschema@.customer_tag.tag IS 'the tag';
COMMENT ON COLUMN @extschema@.customer_tag.added_at IS 'when';
COMMENT ON COLUMN @extschema@.customer_tag.journey_id IS 'journey version that added it';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.customer_tag', '');
GRANT SELECT ON @extschema@.customer_tag TO PUBLIC;

CREATE TABLE @extschema@.customer_value (
    customer_id  bigint NOT NULL,
    name         text NOT NULL,
    value        jsonb,
    set_at       timestamptz NOT NULL DEFAULT now(),
    journey_id   integer,
    PRIMARY KEY (customer_id, name)
);
COMMENT ON TABLE @extschema@.customer_value IS 'Values set on customers by journey update steps (not overwritten by unification)';
COMMENT ON COLUMN @extschema@.customer_value.customer_id IS 'the customer';
COMMENT ON COLUMN @extschema@.customer_value.name IS 'value name';
COMMENT ON COLUMN @extschema@.customer_value.value IS 'the value';
COMMENT ON COLUMN @extschema@.customer_value.set_at IS 'when';
COMMENT ON COLUMN @extschema@.customer_value.journey_id IS 'journey version that set it';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.customer_value', '');
GRANT SELECT ON @extschema@.customer_value TO PUBLIC;

-- ---------------------------------------------------------------- definitions
-- A branch or exit condition in the segment language: conditions about
-- e-mails of this journey are written with journey_email, and "since
-- entry" stands for the member's enrolment time (jm.enrolled_at).
CREATE FUNCTION @extschema@._journey_condition(journey text, cond jsonb, what text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF jsonb_typeof(cond) = 'string' THEN
    RETURN cond #>> '{}';
  END IF;
  IF jsonb_typeof(cond) = 'object' AND (SELECT count(*) FROM jsonb_object_keys(cond)) = 1 THEN
    IF jsonb_typeof(cond -> 'opened') = 'string' OR jsonb_typeof(cond -> 'clicked') = 'string' THEN
      RETURN format('exists(journey_email where event = %L and journey = %L and step = %L since entry)',
                    CASE WHEN cond ? 'opened' THEN 'opened' ELSE 'clicked' END, journey,
                    coalesce(cond ->> 'opened', cond ->> 'clicked'));
    END IF;
    IF jsonb_typeof(cond -> 'purchased') = 'boolean' THEN
      RETURN CASE WHEN (cond ->> 'purchased')::boolean THEN '' ELSE 'not ' END || 'exists(purchase since entry)';
    END IF;
  END IF;
  RAISE EXCEPTION 'invalid condition in %', what
    USING ERRCODE = '22023',
          HINT = 'A condition is a segment-language expression such as "exists(purchase since entry)", or {"opened": "<email step>"}, {"clicked": "<email step>"}, {"purchased": true}.';
END;
$$;
COMMENT ON FUNCTION @extschema@._journey_condition(text, jsonb, text) IS 'Internal: a branch or exit condition as a segment-language expression';

-- The catalog conditions compile against: the segment catalog, and the
-- member's enrolment time for "since entry".
CREATE FUNCTION @extschema@._journey_catalog()
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT @extschema@.segment_catalog() || '{"entry": "jm.enrolled_at"}' $$;
COMMENT ON FUNCTION @extschema@._journey_catalog() IS 'Internal: the catalog of journey conditions (segment catalog plus "since entry")';

-- Checks a definition; returns its steps as rows for cdp.journey_step.
CREATE FUNCTION @extschema@._journey_check(name text, definition jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  k text;
  trig jsonb;
  s jsonb;
  i integer := 0;
  ids text[] := '{}';
  steps jsonb := '[]';
  nxt text;
  typ text;
  total numeric;
  arm jsonb;
  cycle text;
  allowed text[];
BEGIN
  IF definition IS NULL OR jsonb_typeof(definition) <> 'object' THEN
    RAISE EXCEPTION 'a journey definition must be a JSON object' USING ERRCODE = '22023',
      HINT = 'For example {"trigger": {"segment": "dwellers", "members": "new"}, "steps": [{"id": "offer", "type": "email", "template": "coupon20", "channel": "mail"}, {"id": "done", "type": "end"}]}.';
  END IF;
  FOR k IN SELECT jsonb_object_keys(definition) LOOP
    IF k NOT IN ('trigger', 'steps', 'reentry', 'exit', 'description') THEN
      RAISE EXCEPTION 'unknown key "%" in journey definition', k
        USING ERRCODE = '22023', HINT = 'The keys are trigger, steps, reentry, exit and description.';
    END IF;
  END LOOP;
  -- trigger
  trig := definition -> 'trigger';
  IF trig IS NULL OR jsonb_typeof(trig) <> 'object' THEN
    RAISE EXCEPTION 'a journey needs a trigger' USING ERRCODE = '22023',
      HINT = 'Entry into a segment {"segment": "s", "members": "new" or "all"}, an activity {"activity": "purchase"}, or a one-time send {"at": "2026-12-01 09:00+01", "segment": "s"}.';
  END IF;
  FOR k IN SELECT jsonb_object_keys(trig) LOOP
    IF k NOT IN ('segment', 'members', 'activity', 'at') THEN
      RAISE EXCEPTION 'unknown key "%" in trigger', k USING ERRCODE = '22023', HINT = 'The keys are segment, members, activity and at.';
    END IF;
  END LOOP;
  IF trig ? 'activity' THEN
    IF trig ? 'segment' OR trig ? 'at' OR trig ? 'members' THEN
      RAISE EXCEPTION 'an activity trigger takes only "activity"' USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.activity_def d WHERE d.name = trig ->> 'activity') THEN
      RAISE EXCEPTION 'activity "%" does not exist', trig ->> 'activity' USING ERRCODE = '42704', HINT = 'See SELECT name FROM cdp.activity_def.';
    END IF;
  ELSIF trig ? 'at' THEN
    BEGIN
      PERFORM (trig ->> 'at')::timestamptz;
    EXCEPTION WHEN others THEN
      RAISE EXCEPTION 'invalid time "%" in trigger', trig ->> 'at' USING ERRCODE = '22007', HINT = 'Write a timestamp with its zone, e.g. "2026-12-01 09:00+01".';
    END;
    IF trig ? 'members' THEN
      RAISE EXCEPTION 'a one-time trigger sends to the members of its segment at that time: "members" does not apply' USING ERRCODE = '22023';
    END IF;
  ELSIF trig ? 'segment' THEN
    IF NOT trig ? 'members' OR trig ->> 'members' NOT IN ('new', 'all') THEN
      RAISE EXCEPTION 'a segment trigger must say which members it takes: "members": "new" or "all"' USING ERRCODE = '22023',
        HINT = '"new": customers who enter the segment after the journey is published; "all": also those already in it.';
    END IF;
  ELSE
    RAISE EXCEPTION 'a trigger needs "segment", "activity" or "at"' USING ERRCODE = '22023';
  END IF;
  IF trig ? 'segment' AND NOT EXISTS (SELECT 1 FROM @extschema@.segment x WHERE x.name = trig ->> 'segment') THEN
    RAISE EXCEPTION 'segment "%" does not exist', trig ->> 'segment' USING ERRCODE = '42704', HINT = 'See SELECT name FROM cdp.segment.';
  END IF;
  -- re-entry and exit
  IF definition ? 'reentry' THEN
    IF jsonb_typeof(definition -> 'reentry') = 'string' AND definition ->> 'reentry' IN ('never', 'always') THEN
      NULL;
    ELSIF jsonb_typeof(definition -> 'reentry') = 'object' AND definition -> 'reentry' ? 'after'
          AND (SELECT count(*) FROM jsonb_object_keys(definition -> 'reentry')) = 1 THEN
      PERFORM @extschema@._interval(definition -> 'reentry' ->> 'after', 'reentry');
    ELSE
      RAISE EXCEPTION 'reentry must be "never", "always" or {"after": "duration"}' USING ERRCODE = '22023',
        HINT = '{"after": "30 days"}: a customer may walk the journey again 30 days after leaving it.';
    END IF;
  END IF;
  IF definition ? 'exit' THEN
    IF jsonb_typeof(definition -> 'exit') <> 'object' THEN
      RAISE EXCEPTION 'exit must be an object' USING ERRCODE = '22023', HINT = 'For example {"segment_exit": true, "goal": "exists(purchase since entry)"}.';
    END IF;
    FOR k IN SELECT jsonb_object_keys(definition -> 'exit') LOOP
      IF k NOT IN ('segment_exit', 'goal') THEN
        RAISE EXCEPTION 'unknown key "%" in exit', k USING ERRCODE = '22023', HINT = 'The keys are segment_exit and goal.';
      END IF;
    END LOOP;
    IF definition -> 'exit' ? 'segment_exit' THEN
      IF jsonb_typeof(definition -> 'exit' -> 'segment_exit') <> 'boolean' THEN
        RAISE EXCEPTION 'exit.segment_exit must be true or false' USING ERRCODE = '22023';
      END IF;
      IF (definition -> 'exit' ->> 'segment_exit')::boolean AND NOT trig ? 'segment' THEN
        RAISE EXCEPTION 'exit.segment_exit needs a segment trigger' USING ERRCODE = '22023';
      END IF;
    END IF;
    IF definition -> 'exit' ? 'goal' THEN
      PERFORM @extschema@.compile_segment(@extschema@._journey_condition(name, definition -> 'exit' -> 'goal', 'exit.goal'),
                                          @extschema@._journey_catalog());
    END IF;
  END IF;
  -- steps
  IF jsonb_typeof(definition -> 'steps') IS DISTINCT FROM 'array' OR jsonb_array_length(definition -> 'steps') = 0 THEN
    RAISE EXCEPTION 'a journey needs a non-empty array of steps' USING ERRCODE = '22023';
  END IF;
  FOR s IN SELECT value FROM jsonb_array_elements(definition -> 'steps') LOOP
    i := i + 1;
    IF jsonb_typeof(s) <> 'object' OR jsonb_typeof(s -> 'id') IS DISTINCT FROM 'string' OR s ->> 'id' !~ '^[a-z][a-z0-9_]{0,62}$' THEN
      RAISE EXCEPTION 'step % needs an "id" of lowercase letters, digits and underscores', i USING ERRCODE = '22023';
    END IF;
    IF s ->> 'id' = ANY (ids) THEN
      RAISE EXCEPTION 'step id "%" is used twice', s ->> 'id' USING ERRCODE = '22023';
    END IF;
    ids := ids || (s ->> 'id');
  END LOOP;
  i := 0;
  FOR s IN SELECT value FROM jsonb_array_elements(definition -> 'steps') LOOP
    i := i + 1;
    typ := s ->> 'type';
    allowed := CASE typ
      WHEN 'email' THEN ARRAY['template', 'channel', 'marketing']
      WHEN 'wait' THEN ARRAY['duration', 'until']
      WHEN 'branch' THEN ARRAY['if', 'then', 'else']
      WHEN 'split' THEN ARRAY['arms']
      WHEN 'update' THEN ARRAY['tag', 'set']
      WHEN 'webhook' THEN ARRAY['url', 'channel', 'payload']
      WHEN 'end' THEN ARRAY[]::text[] END;
    IF allowed IS NULL THEN
      RAISE EXCEPTION 'step "%" has no valid type', s ->> 'id' USING ERRCODE = '22023',
        HINT = 'Types: email, wait, branch, split, update, webhook, end.';
    END IF;
    FOR k IN SELECT jsonb_object_keys(s) LOOP
      IF NOT (k = ANY (allowed || ARRAY['id', 'type', 'next'])) THEN
        RAISE EXCEPTION 'unknown key "%" in % step "%"', k, typ, s ->> 'id' USING ERRCODE = '22023',
          HINT = format('A %s step takes: %s (and next).', typ, coalesce(array_to_string(allowed, ', '), 'nothing'));
      END IF;
    END LOOP;
    IF s ? 'next' AND (jsonb_typeof(s -> 'next') <> 'string' OR NOT (s ->> 'next' = ANY (ids))) THEN
      RAISE EXCEPTION 'step "%" goes next to unknown step "%"', s ->> 'id', s ->> 'next' USING ERRCODE = '22023';
    END IF;
    nxt := coalesce(s ->> 'next', CASE WHEN i < array_length(ids, 1) THEN ids[i + 1] END);
    CASE typ
    WHEN 'email' THEN
      IF NOT EXISTS (SELECT 1 FROM @extschema@.template t WHERE t.name = s ->> 'template') THEN
        RAISE EXCEPTION 'template "%" of step "%" does not exist', s ->> 'template', s ->> 'id' USING ERRCODE = '42704',
          HINT = 'Create it with cdp.create_template.';
      END IF;
      IF NOT EXISTS (SELECT 1 FROM @extschema@.channel c WHERE c.name = s ->> 'channel') THEN
        RAISE EXCEPTION 'channel "%" of step "%" does not exist', s ->> 'channel', s ->> 'id' USING ERRCODE = '42704',
          HINT = 'Create it with cdp.create_channel.';
      END IF;
      IF s ? 'marketing' AND jsonb_typeof(s -> 'marketing') <> 'boolean' THEN
        RAISE EXCEPTION 'marketing of step "%" must be true or false', s ->> 'id' USING ERRCODE = '22023';
      END IF;
    WHEN 'wait' THEN
      IF (s ? 'duration') = (s ? 'until') THEN
        RAISE EXCEPTION 'wait step "%" needs either "duration" or "until"', s ->> 'id' USING ERRCODE = '22023',
          HINT = '{"type": "wait", "duration": "3 days"} or {"type": "wait", "until": "2026-12-24 08:00+01"}.';
      END IF;
      IF s ? 'duration' THEN
        PERFORM @extschema@._interval(s ->> 'duration', format('step "%s"', s ->> 'id'));
      ELSE
        BEGIN
          PERFORM (s ->> 'until')::timestamptz;
        EXCEPTION WHEN others THEN
          RAISE EXCEPTION 'invalid time "%" in step "%"', s ->> 'until', s ->> 'id' USING ERRCODE = '22007';
        END;
      END IF;
    WHEN 'branch' THEN
      IF NOT coalesce(s ->> 'then' = ANY (ids) AND s ->> 'else' = ANY (ids), false) THEN
        RAISE EXCEPTION 'branch "%" needs "then" and "else" naming steps of the journey', s ->> 'id' USING ERRCODE = '22023';
      END IF;
      IF NOT s ? 'if' THEN
        RAISE EXCEPTION 'branch "%" needs a condition "if"', s ->> 'id' USING ERRCODE = '22023';
      END IF;
      PERFORM @extschema@.compile_segment(@extschema@._journey_condition(name, s -> 'if', format('step "%s"', s ->> 'id')),
                                          @extschema@._journey_catalog());
      nxt := NULL;
    WHEN 'split' THEN
      IF jsonb_typeof(s -> 'arms') IS DISTINCT FROM 'array' OR jsonb_array_length(s -> 'arms') < 2 THEN
        RAISE EXCEPTION 'split "%" needs at least two arms', s ->> 'id' USING ERRCODE = '22023',
          HINT = '"arms": [{"percent": 10, "next": "done", "holdout": true}, {"percent": 90, "next": "offer"}].';
      END IF;
      total := 0;
      FOR arm IN SELECT value FROM jsonb_array_elements(s -> 'arms') LOOP
        IF jsonb_typeof(arm) <> 'object' OR jsonb_typeof(arm -> 'percent') IS DISTINCT FROM 'number'
           OR (arm ->> 'percent')::numeric <= 0 OR NOT (arm ->> 'next' = ANY (ids))
           OR EXISTS (SELECT 1 FROM jsonb_object_keys(arm) x WHERE x NOT IN ('percent', 'next', 'holdout', 'name'))
           OR (arm ? 'holdout' AND jsonb_typeof(arm -> 'holdout') <> 'boolean') THEN
          RAISE EXCEPTION 'invalid arm in split "%"', s ->> 'id' USING ERRCODE = '22023',
            HINT = 'An arm is {"percent": p, "next": "<step>"}, optionally with "holdout": true and a "name".';
        END IF;
        total := total + (arm ->> 'percent')::numeric;
      END LOOP;
      IF total <> 100 THEN
        RAISE EXCEPTION 'the arms of split "%" add up to % percent, not 100', s ->> 'id', total USING ERRCODE = '22023';
      END IF;
      nxt := NULL;
    WHEN 'update' THEN
      IF (s ? 'tag') = (s ? 'set') THEN
        RAISE EXCEPTION 'update step "%" needs either "tag" or "set"', s ->> 'id' USING ERRCODE = '22023',
          HINT = '{"type": "update", "tag": "coupon_sent"} or {"type": "update", "set": {"vip": true}}.';
      END IF;
      IF s ? 'tag' AND (jsonb_typeof(s -> 'tag') <> 'string' OR s ->> 'tag' = '') THEN
        RAISE EXCEPTION 'tag of step "%" must be a non-empty string', s ->> 'id' USING ERRCODE = '22023';
      END IF;
      IF s ? 'set' AND (jsonb_typeof(s -> 'set') <> 'object' OR s -> 'set' = '{}') THEN
        RAISE EXCEPTION 'set of step "%" must be an object of names and values', s ->> 'id' USING ERRCODE = '22023';
      END IF;
    WHEN 'webhook' THEN
      IF (s ? 'url') = (s ? 'channel') THEN
        RAISE EXCEPTION 'webhook "%" needs either "url" or an HTTP "channel"', s ->> 'id' USING ERRCODE = '22023';
      END IF;
      IF s ? 'url' AND s ->> 'url' !~ '^https?://[^[:space:]]+$' THEN
        RAISE EXCEPTION 'invalid webhook URL "%"', s ->> 'url' USING ERRCODE = '22023';
      END IF;
      IF s ? 'channel' AND NOT EXISTS (SELECT 1 FROM @extschema@.channel c WHERE c.name = s ->> 'channel' AND c.kind = 'http') THEN
        RAISE EXCEPTION 'channel "%" of webhook "%" is not an HTTP channel', s ->> 'channel', s ->> 'id' USING ERRCODE = '42704';
      END IF;
      IF s ? 'payload' AND jsonb_typeof(s -> 'payload') <> 'object' THEN
        RAISE EXCEPTION 'payload of webhook "%" must be a JSON object', s ->> 'id' USING ERRCODE = '22023';
      END IF;
      IF s ? 'payload' THEN
        PERFORM @extschema@.template_check(v #>> '{}') FROM jsonb_each(s -> 'payload') e(k, v) WHERE jsonb_typeof(v) = 'string';
      END IF;
    WHEN 'end' THEN
      nxt := NULL;
    END CASE;
    steps := steps || jsonb_build_object('step', s ->> 'id', 'position', i, 'type', typ, 'spec', s, 'next_step', nxt);
  END LOOP;
  -- a cycle must pass a wait step, or a member could loop for ever
  WITH RECURSIVE e AS (
    SELECT x ->> 'step' AS src, t AS dst
      FROM jsonb_array_elements(steps) x,
           LATERAL (SELECT x ->> 'next_step' AS t
                    UNION ALL SELECT x -> 'spec' ->> 'then' UNION ALL SELECT x -> 'spec' ->> 'else'
                    UNION ALL SELECT a ->> 'next' FROM jsonb_array_elements(coalesce(x -> 'spec' -> 'arms', '[]')) a) n
     WHERE t IS NOT NULL AND x ->> 'type' <> 'wait'),
  walk(start, at, path, looped) AS (
    SELECT src, dst, ARRAY[src], src = dst FROM e
    UNION ALL
    SELECT w.start, e.dst, w.path || e.src, e.dst = ANY (w.path || e.src)
      FROM walk w JOIN e ON e.src = w.at WHERE NOT w.looped)
  SELECT array_to_string(path || at, ' -> ') INTO cycle FROM walk WHERE looped LIMIT 1;
  IF cycle IS NOT NULL THEN
    RAISE EXCEPTION 'the steps % form a loop without a wait step', cycle USING ERRCODE = '22023',
      HINT = 'Put a wait step in every loop.';
  END IF;
  RETURN steps;
END;
$$;
COMMENT ON FUNCTION @extschema@._journey_check(text, jsonb) IS 'Internal: checks a journey definition and returns its steps';

CREATE FUNCTION @extschema@._journey_latest(name text)
RETURNS @extschema@.journey
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM @extschema@.journey j WHERE j.name = $1 ORDER BY j.version DESC LIMIT 1 $$;
COMMENT ON FUNCTION @extschema@._journey_latest(text) IS 'Internal: the newest version of a journey';

CREATE FUNCTION @extschema@.create_journey(name text, definition jsonb)
RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  latest @extschema@.journey;
  steps jsonb;
  id integer;
BEGIN
  IF name IS NULL OR name !~ '^[a-z][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION 'invalid journey name "%"', name
      USING ERRCODE = '42602', HINT = 'Use lowercase letters, digits and underscores, starting with a letter.';
  END IF;
  steps := @extschema@._journey_check(name, definition);
  latest := @extschema@._journey_latest(name);
  IF latest.status = 'draft' THEN
    -- a draft is edited in place
    id := latest.journey_id;
    UPDATE @extschema@.journey j SET definition = create_journey.definition, created_at = now() WHERE j.journey_id = id;
    DELETE FROM @extschema@.journey_step s WHERE s.journey_id = id;
  ELSE
    -- a published journey is never edited: this is its next version
    INSERT INTO @extschema@.journey (name, version, definition)
    VALUES (name, coalesce(latest.version, 0) + 1, definition) RETURNING journey_id INTO id;
  END IF;
  INSERT INTO @extschema@.journey_step (journey_id, step, position, type, spec, next_step)
  SELECT id, x ->> 'step', (x ->> 'position')::int, x ->> 'type', x -> 'spec', x ->> 'next_step'
    FROM jsonb_array_elements(steps) x;
  RETURN id;
END;
$$;
COMMENT ON FUNCTION @extschema@.create_journey(text, jsonb) IS
  'Creates a journey as a draft, edits its draft, or, once published, creates its next version as a draft; returns the version''s journey_id';

CREATE FUNCTION @extschema@._worker_warning()
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF NOT (SELECT running FROM @extschema@.worker_status()) THEN
    RAISE WARNING 'the pg_cdp background worker is not running in this database'
      USING DETAIL = 'Journeys advance and messages are sent only while it runs; until then they wait in cdp.journey_member and cdp.message.',
            HINT = format('Set shared_preload_libraries = ''pg_cdp'' and cdp.database = ''%s'' in postgresql.conf and restart the server.', current_database());
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@._worker_warning() IS 'Internal: warns when the background worker does not serve this database';

CREATE FUNCTION @extschema@.publish_journey(name text)
RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  j @extschema@.journey;
  s record;
  attr text;
BEGIN
  j := @extschema@._journey_latest(name);
  IF j.journey_id IS NULL THEN
    RAISE EXCEPTION 'journey "%" does not exist', name USING ERRCODE = '42704';
  END IF;
  IF j.status <> 'draft' THEN
    RAISE EXCEPTION 'journey "%" has no draft to publish (version % is %)', name, j.version, j.status
      USING ERRCODE = '55000', HINT = 'cdp.create_journey with the same name makes the next version as a draft.';
  END IF;
  -- check again: templates, channels and segments may have changed
  PERFORM @extschema@._journey_check(name, j.definition);
  FOR s IN SELECT st.spec FROM @extschema@.journey_step st WHERE st.journey_id = j.journey_id AND st.type = 'email' LOOP
    IF coalesce((s.spec ->> 'marketing')::boolean, true) AND @extschema@._setting_value('unsubscribe_url') IS NULL THEN
      RAISE EXCEPTION 'journey "%" sends marketing e-mail but no unsubscribe URL is set', name
        USING ERRCODE = '55000',
              HINT = 'SELECT cdp.set_journey_setting(''unsubscribe_url'', ''"https://shop.example/unsubscribe?token={token}"''); the page calls cdp.unsubscribe(token).';
    END IF;
    SELECT coalesce(c.options ->> 'consent_attribute', 'email_consent') INTO attr FROM @extschema@.channel c WHERE c.name = s.spec ->> 'channel';
    IF coalesce((s.spec ->> 'marketing')::boolean, true)
       AND NOT coalesce((SELECT (c.options ->> 'consent_default')::boolean FROM @extschema@.channel c WHERE c.name = s.spec ->> 'channel'), false)
       AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = '@extschema@.customer'::regclass AND a.attname = attr
                          AND NOT a.attisdropped AND a.atttypid = 'boolean'::regtype) THEN
      RAISE WARNING 'no customer has e-mail consent: cdp.customer has no boolean attribute "%"', attr
        USING HINT = 'Map a consent column to that attribute in a source (cdp.add_source), or set the channel''s consent_attribute or consent_default.';
    END IF;
  END LOOP;
  -- the previous live version stops enrolling; its members go on
  UPDATE @extschema@.journey x SET status = 'closed', stopped_at = now()
   WHERE x.name = name AND x.status IN ('live', 'paused');
  UPDATE @extschema@.journey x SET status = 'live', published_at = now() WHERE x.journey_id = j.journey_id;
  PERFORM @extschema@._worker_warning();
  RETURN j.version;
END;
$$;
COMMENT ON FUNCTION @extschema@.publish_journey(text) IS
  'Publishes the draft of a journey: it starts enrolling; an older live version stops enrolling and its members finish it';

CREATE FUNCTION @extschema@._journey_set_status(name text, from_status text[], to_status text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  j @extschema@.journey;
BEGIN
  SELECT * INTO j FROM @extschema@.journey x WHERE x.name = name AND x.status IN ('live', 'paused', 'closed')
   ORDER BY x.version DESC LIMIT 1;
  IF NOT FOUND THEN
    IF NOT EXISTS (SELECT 1 FROM @extschema@.journey x WHERE x.name = name) THEN
      RAISE EXCEPTION 'journey "%" does not exist', name USING ERRCODE = '42704';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.journey x WHERE x.name = name AND x.status = 'stopped') THEN
      RAISE EXCEPTION 'journey "%" is stopped', name USING ERRCODE = '55000',
        HINT = 'A stopped journey stays stopped; cdp.create_journey with the same name makes a new version to publish.';
    END IF;
    RAISE EXCEPTION 'journey "%" is not published', name USING ERRCODE = '55000', HINT = 'Publish it with cdp.publish_journey.';
  END IF;
  IF NOT (j.status = ANY (from_status)) THEN
    RAISE EXCEPTION 'journey "%" is %', name, j.status USING ERRCODE = '55000';
  END IF;
  IF to_status = 'stopped' THEN
    UPDATE @extschema@.journey x SET status = 'stopped', stopped_at = now()
     WHERE x.name = name AND x.status IN ('live', 'paused', 'closed');
    INSERT INTO @extschema@.journey_event (journey_id, member_id, step, event, at)
    SELECT m.journey_id, m.member_id, m.step, 'stopped', now() FROM @extschema@.journey_member m
      JOIN @extschema@.journey x ON x.journey_id = m.journey_id WHERE x.name = name AND m.state = 'active';
    UPDATE @extschema@.journey_member m SET state = 'stopped', ended_at = now(), step = NULL, next_at = NULL
      FROM @extschema@.journey x WHERE x.journey_id = m.journey_id AND x.name = name AND m.state = 'active';
    UPDATE @extschema@.message m SET state = 'cancelled', detail = 'journey stopped'
      FROM @extschema@.journey x WHERE x.journey_id = m.journey_id AND x.name = name AND m.state = 'queued';
  ELSE
    UPDATE @extschema@.journey x SET status = to_status WHERE x.journey_id = j.journey_id;
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@._journey_set_status(text, text[], text) IS 'Internal: pauses, resumes or stops a published journey';

CREATE FUNCTION @extschema@.pause_journey(name text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $$ SELECT @extschema@._journey_set_status($1, ARRAY['live'], 'paused') $$;
COMMENT ON FUNCTION @extschema@.pause_journey(text) IS
  'Pauses a live journey: no enrolment, no step and no delivery of its queued messages until it is resumed';
CREATE FUNCTION @extschema@.resume_journey(name text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $$ SELECT @extschema@._journey_set_status($1, ARRAY['paused'], 'live') $$;
COMMENT ON FUNCTION @extschema@.resume_journey(text) IS 'Resumes a paused journey; waits that ended meanwhile are due at once';
CREATE FUNCTION @extschema@.stop_journey(name text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $$ SELECT @extschema@._journey_set_status($1, ARRAY['live', 'paused', 'closed'], 'stopped') $$;
COMMENT ON FUNCTION @extschema@.stop_journey(text) IS
  'Stops a journey for good (every version): its members leave it and its queued messages are cancelled';

-- ---------------------------------------------------------------- the engine
-- Moves the members listed in pg_temp._cdp_moves (member_id, target) to
-- their target step (null: the journey is over for them) at time "at".
CREATE FUNCTION @extschema@._journey_move(journey_id integer, at timestamptz)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  n bigint;
BEGIN
  INSERT INTO @extschema@.journey_event (journey_id, member_id, step, event, at)
  SELECT journey_id, mv.member_id, coalesce(mv.target, m.step),
         CASE WHEN mv.target IS NULL THEN 'completed' ELSE 'entered' END, at
    FROM pg_temp._cdp_moves mv JOIN @extschema@.journey_member m ON m.member_id = mv.member_id;
  UPDATE @extschema@.journey_member m
     SET step = mv.target, step_at = at,
         next_at = CASE WHEN t.type = 'wait' AND t.spec ? 'duration' THEN at + (t.spec ->> 'duration')::interval
                        WHEN t.type = 'wait' THEN greatest((t.spec ->> 'until')::timestamptz, at)
                        WHEN t.type IS NULL THEN NULL ELSE at END,
         state = CASE WHEN mv.target IS NULL OR t.type = 'end' THEN 'completed' ELSE 'active' END,
         ended_at = CASE WHEN mv.target IS NULL OR t.type = 'end' THEN at END
    FROM pg_temp._cdp_moves mv
    LEFT JOIN @extschema@.journey_step t ON t.journey_id = _journey_move.journey_id AND t.step = mv.target
   WHERE m.member_id = mv.member_id;
  GET DIAGNOSTICS n = ROW_COUNT;
  DELETE FROM pg_temp._cdp_moves;
  RETURN n;
END;
$$;
COMMENT ON FUNCTION @extschema@._journey_move(integer, timestamptz) IS 'Internal: moves members to their next step and logs it';

-- The member_id of the due members at a step for whom a condition holds.
CREATE FUNCTION @extschema@._journey_condition_sql(journey text, cond jsonb, what text)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT @extschema@._segment_sql(@extschema@.compile_segment(@extschema@._journey_condition(journey, cond, what),
                                                               @extschema@._journey_catalog()))
$$;
COMMENT ON FUNCTION @extschema@._journey_condition_sql(text, jsonb, text) IS
  'Internal: the customers for whom a journey condition holds, as SQL correlated with the member jm ($1: the journey time)';

-- Enrols, exits and advances the members of one journey version.
CREATE FUNCTION @extschema@._run_journey(j @extschema@.journey, at timestamptz)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  trig jsonb := j.definition -> 'trigger';
  reentry jsonb := coalesce(j.definition -> 'reentry', '"never"');
  first_step text;
  enrolled bigint := 0;
  exited bigint := 0;
  goals bigint := 0;
  moved bigint := 0;
  queued bigint := 0;
  n bigint;
  k bigint;
  r integer;
  s @extschema@.journey_step;
  cond_sql text;
  addr_attr text := @extschema@._setting_value('address_attribute') #>> '{}';
  tz_attr text := @extschema@._setting_value('time_zone_attribute') #>> '{}';
  default_tz text := coalesce(@extschema@._setting_value('default_time_zone') #>> '{}', 'UTC');
  cap jsonb := @extschema@._setting_value('frequency_cap');
  quiet jsonb := @extschema@._setting_value('quiet_hours');
  unsub text := @extschema@._setting_value('unsubscribe_url') #>> '{}';
  has_addr boolean;
  has_tz boolean;
  addr_is_array boolean;
  domain text;
BEGIN
  SELECT st.step INTO first_step FROM @extschema@.journey_step st WHERE st.journey_id = j.journey_id ORDER BY st.position LIMIT 1;
  -- The work tables live for the session and are emptied, not dropped: the
  -- worker runs this every naptime, and creating tables that often would
  -- churn the system catalogs.
  CREATE TEMP TABLE IF NOT EXISTS _cdp_enrol (customer_id bigint, trigger_key text);
  CREATE TEMP TABLE IF NOT EXISTS _cdp_moves (member_id bigint, target text);
  DELETE FROM pg_temp._cdp_enrol;
  DELETE FROM pg_temp._cdp_moves;
  -- enrolment
  IF j.status = 'live' THEN
    IF trig ? 'activity' THEN
      INSERT INTO pg_temp._cdp_enrol
      SELECT a.customer_id, 'activity:' || a.source_key AS trigger_key
        FROM @extschema@.activity a
       WHERE a.activity = trig ->> 'activity' AND a.occurred_at >= j.published_at AND a.occurred_at <= at
         -- an activity during an earlier walk, or before it ended plus the
         -- re-entry delay, is spent: it does not start a walk later
         AND NOT EXISTS (SELECT 1 FROM @extschema@.journey_member m JOIN @extschema@.journey x ON x.journey_id = m.journey_id
                          WHERE x.name = j.name AND m.customer_id = a.customer_id
                            AND a.occurred_at <= coalesce(m.ended_at + CASE WHEN reentry ? 'after' THEN (reentry ->> 'after')::interval
                                                                            ELSE interval '0' END, 'infinity'));
    ELSIF trig ? 'at' THEN
      IF j.trigger_done OR at < (trig ->> 'at')::timestamptz THEN
        NULL;
      ELSIF trig ? 'segment' THEN
        INSERT INTO pg_temp._cdp_enrol
        SELECT sm.customer_id, 'once:' || sm.customer_id AS trigger_key
          FROM @extschema@.segment_member sm WHERE sm.segment = trig ->> 'segment' AND sm.exited_at IS NULL;
      ELSE
        INSERT INTO pg_temp._cdp_enrol SELECT c.customer_id, 'once:' || c.customer_id AS trigger_key FROM @extschema@.customer c;
      END IF;
      IF NOT j.trigger_done AND at >= (trig ->> 'at')::timestamptz THEN
        UPDATE @extschema@.journey x SET trigger_done = true WHERE x.journey_id = j.journey_id;
      END IF;
    ELSE
      INSERT INTO pg_temp._cdp_enrol
      SELECT sm.customer_id, 'segment:' || sm.customer_id || ':' || sm.entered_at AS trigger_key
        FROM @extschema@.segment_member sm
       WHERE sm.segment = trig ->> 'segment' AND sm.exited_at IS NULL
         AND (trig ->> 'members' = 'all' OR sm.entered_at >= j.published_at);
    END IF;
    -- one walk at a time per customer and journey (any version), and the
    -- re-entry policy against earlier walks
    INSERT INTO @extschema@.journey_member (journey_id, customer_id, trigger_key, enrolled_at, step, step_at, next_at)
    SELECT DISTINCT ON (e.customer_id) j.journey_id, e.customer_id, e.trigger_key, at, NULL, at, at
      FROM pg_temp._cdp_enrol e
     WHERE EXISTS (SELECT 1 FROM @extschema@.customer c WHERE c.customer_id = e.customer_id)
       AND NOT EXISTS (SELECT 1 FROM @extschema@.journey_member m JOIN @extschema@.journey x ON x.journey_id = m.journey_id
                        WHERE x.name = j.name AND m.customer_id = e.customer_id
                          AND (m.state = 'active' OR m.trigger_key = e.trigger_key AND m.journey_id = j.journey_id
                               OR reentry = '"never"'
                               OR (reentry ? 'after' AND coalesce(m.ended_at, m.enrolled_at) > at - (reentry ->> 'after')::interval)))
     ORDER BY e.customer_id, e.trigger_key
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS enrolled = ROW_COUNT;
    DELETE FROM pg_temp._cdp_enrol;
    IF enrolled > 0 THEN
      INSERT INTO pg_temp._cdp_moves
        SELECT m.member_id, first_step AS target FROM @extschema@.journey_member m
         WHERE m.journey_id = j.journey_id AND m.state = 'active' AND m.step IS NULL;
      PERFORM @extschema@._journey_move(j.journey_id, at);
    END IF;
  END IF;

  -- exit rules
  IF coalesce((j.definition -> 'exit' ->> 'segment_exit')::boolean, false) THEN
    WITH gone AS (
      UPDATE @extschema@.journey_member m SET state = 'exited', ended_at = at, step = NULL, next_at = NULL
        FROM @extschema@.journey_member old
       WHERE old.member_id = m.member_id AND m.journey_id = j.journey_id AND m.state = 'active'
         AND NOT EXISTS (SELECT 1 FROM @extschema@.segment_member sm
                          WHERE sm.segment = trig ->> 'segment' AND sm.customer_id = m.customer_id AND sm.exited_at IS NULL)
      RETURNING m.member_id, old.step)
    INSERT INTO @extschema@.journey_event (journey_id, member_id, step, event, at)
    SELECT j.journey_id, member_id, coalesce(step, '?'), 'exited', at FROM gone;
    GET DIAGNOSTICS exited = ROW_COUNT;
  END IF;
  IF j.definition -> 'exit' ? 'goal' THEN
    cond_sql := @extschema@._journey_condition_sql(j.name, j.definition -> 'exit' -> 'goal', 'exit.goal');
    EXECUTE format(
      'WITH g AS (UPDATE @extschema@.journey_member jm SET state = ''goal'', ended_at = $1, next_at = NULL
                   WHERE jm.journey_id = $2 AND jm.state = ''active''
                     AND EXISTS (SELECT 1 FROM (%s) q WHERE q.customer_id = jm.customer_id)
                  RETURNING jm.member_id, jm.step)
       INSERT INTO @extschema@.journey_event (journey_id, member_id, step, event, at)
       SELECT $2, member_id, step, ''goal'', $1 FROM g', cond_sql) USING at, j.journey_id;
    GET DIAGNOSTICS goals = ROW_COUNT;
    UPDATE @extschema@.journey_member m SET step = NULL WHERE m.journey_id = j.journey_id AND m.state = 'goal' AND m.step IS NOT NULL;
  END IF;

  IF j.status = 'paused' THEN
    RETURN jsonb_build_object('enrolled', enrolled, 'exited', exited, 'goal', goals, 'moved', 0, 'queued', 0);
  END IF;

  SELECT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = '@extschema@.customer'::regclass AND a.attname = addr_attr AND NOT a.attisdropped),
         EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = '@extschema@.customer'::regclass AND a.attname = addr_attr AND NOT a.attisdropped
                    AND a.atttypid = 'text[]'::regtype),
         EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = '@extschema@.customer'::regclass AND a.attname = tz_attr AND NOT a.attisdropped)
    INTO has_addr, addr_is_array, has_tz;

  -- advance: every due member moves as far as it can; a loop always passes
  -- a wait (checked when the journey was created), so this ends
  FOR r IN 1..1000 LOOP
    n := 0;
    FOR s IN SELECT * FROM @extschema@.journey_step st WHERE st.journey_id = j.journey_id ORDER BY st.position LOOP
      CONTINUE WHEN NOT EXISTS (SELECT 1 FROM @extschema@.journey_member m
                                 WHERE m.journey_id = j.journey_id AND m.state = 'active' AND m.step = s.step AND m.next_at <= at);
      CASE s.type
      WHEN 'wait', 'update' THEN
        IF s.type = 'update' AND s.spec ? 'tag' THEN
          INSERT INTO @extschema@.customer_tag (customer_id, tag, added_at, journey_id)
          SELECT m.customer_id, s.spec ->> 'tag', at, j.journey_id FROM @extschema@.journey_member m
           WHERE m.journey_id = j.journey_id AND m.state = 'active' AND m.step = s.step AND m.next_at <= at
          ON CONFLICT (customer_id, tag) DO NOTHING;
        ELSIF s.type = 'update' THEN
          INSERT INTO @extschema@.customer_value (customer_id, name, value, set_at, journey_id)
          SELECT m.customer_id, kv.key, kv.value, at, j.journey_id
            FROM @extschema@.journey_member m, jsonb_each(s.spec -> 'set') kv
           WHERE m.journey_id = j.journey_id AND m.state = 'active' AND m.step = s.step AND m.next_at <= at
          ON CONFLICT (customer_id, name) DO UPDATE SET value = excluded.value, set_at = excluded.set_at, journey_id = excluded.journey_id;
        END IF;
        INSERT INTO pg_temp._cdp_moves
        SELECT m.member_id, s.next_step FROM @extschema@.journey_member m
         WHERE m.journey_id = j.journey_id AND m.state = 'active' AND m.step = s.step AND m.next_at <= at;
      WHEN 'end' THEN
        INSERT INTO pg_temp._cdp_moves
        SELECT m.member_id, NULL FROM @extschema@.journey_member m
         WHERE m.journey_id = j.journey_id AND m.state = 'active' AND m.step = s.step AND m.next_at <= at;
      WHEN 'branch' THEN
        cond_sql := @extschema@._journey_condition_sql(j.name, s.spec -> 'if', format('step "%s"', s.step));
        EXECUTE format(
          'INSERT INTO pg_temp._cdp_moves
           SELECT jm.member_id, CASE WHEN EXISTS (SELECT 1 FROM (%s) q WHERE q.customer_id = jm.customer_id) THEN $3 ELSE $4 END
             FROM @extschema@.journey_member jm
            WHERE jm.journey_id = $2 AND jm.state = ''active'' AND jm.step = $5 AND jm.next_at <= $1', cond_sql)
          USING at, j.journey_id, s.spec ->> 'then', s.spec ->> 'else', s.step;
      WHEN 'split' THEN
        WITH arms AS (
          SELECT a.value AS arm, sum((a.value ->> 'percent')::numeric) OVER (ORDER BY a.ordinality) AS upto
            FROM jsonb_array_elements(s.spec -> 'arms') WITH ORDINALITY a),
        pick AS (
          SELECT m.member_id,
                 (SELECT arm FROM arms WHERE upto > (abs(hashtext(j.name || ':' || s.step || ':' || m.customer_id)) % 10000) / 100.0
                   ORDER BY upto LIMIT 1) AS arm
            FROM @extschema@.journey_member m
           WHERE m.journey_id = j.journey_id AND m.state = 'active' AND m.step = s.step AND m.next_at <= at),
        upd AS (
          UPDATE @extschema@.journey_member m
             SET arm = coalesce(p.arm ->> 'name', p.arm ->> 'next'),
                 holdout = m.holdout OR coalesce((p.arm ->> 'holdout')::boolean, false)
            FROM pick p WHERE m.member_id = p.member_id
          RETURNING m.member_id, p.arm ->> 'next' AS target)
        INSERT INTO pg_temp._cdp_moves SELECT member_id, target FROM upd;
      WHEN 'email', 'webhook' THEN
        -- the context of each due member's message
        DROP TABLE IF EXISTS pg_temp._cdp_out;
        EXECUTE format(
          'CREATE TEMP TABLE _cdp_out AS
           SELECT m.member_id, m.customer_id, %1$s AS address, %2$s AS tz,
                  replace(gen_random_uuid()::text, ''-'', '''') AS token,
                  to_jsonb(c) - ''record_count'' - ''sources'' - ''updated_run''
                  || jsonb_build_object(''measure'', coalesce(to_jsonb(cm) - ''customer_id'' - ''refreshed_at'', ''{}'')) AS ctx,
                  NULL::timestamptz AS quiet_until, false AS capped
             FROM @extschema@.journey_member m
             JOIN @extschema@.customer c ON c.customer_id = m.customer_id
             LEFT JOIN @extschema@.customer_measure cm ON cm.customer_id = m.customer_id
            WHERE m.journey_id = $1 AND m.state = ''active'' AND m.step = $2 AND m.next_at <= $3',
          CASE WHEN NOT has_addr THEN 'NULL::text' WHEN addr_is_array THEN format('c.%I[1]', addr_attr) ELSE format('c.%I::text', addr_attr) END,
          CASE WHEN has_tz THEN format('c.%I::text', tz_attr) ELSE 'NULL::text' END)
          USING j.journey_id, s.step, at;
        IF s.type = 'email' AND coalesce((s.spec ->> 'marketing')::boolean, true) THEN
          -- quiet hours in the customer's time zone: the e-mail waits
          IF quiet IS NOT NULL THEN
            UPDATE pg_temp._cdp_out o SET quiet_until = @extschema@._quiet_until(at, z.tz, quiet)
              FROM (SELECT DISTINCT tz AS raw, coalesce(@extschema@._valid_time_zone(tz), default_tz) AS tz FROM pg_temp._cdp_out) z
             WHERE o.tz IS NOT DISTINCT FROM z.raw;
            INSERT INTO @extschema@.journey_event (journey_id, member_id, step, event, at)
            SELECT j.journey_id, o.member_id, s.step, 'quiet', at FROM pg_temp._cdp_out o WHERE o.quiet_until IS NOT NULL;
            UPDATE @extschema@.journey_member m SET next_at = o.quiet_until
              FROM pg_temp._cdp_out o WHERE m.member_id = o.member_id AND o.quiet_until IS NOT NULL;
            DELETE FROM pg_temp._cdp_out o WHERE o.quiet_until IS NOT NULL;
          END IF;
          -- the frequency cap, across journeys
          IF cap IS NOT NULL THEN
            UPDATE pg_temp._cdp_out o SET capped = true
              FROM (SELECT o2.member_id,
                           row_number() OVER (PARTITION BY o2.customer_id ORDER BY o2.member_id)
                           + (SELECT count(*) FROM @extschema@.message x
                               WHERE x.customer_id = o2.customer_id AND x.kind = 'email' AND x.marketing
                                 AND x.queued_at > at - (cap ->> 'per')::interval
                                 AND x.state IN ('queued', 'sending', 'sent')) AS nth
                      FROM pg_temp._cdp_out o2) k
             WHERE k.member_id = o.member_id AND k.nth > (cap ->> 'max')::int;
            INSERT INTO @extschema@.journey_event (journey_id, member_id, step, event, at)
            SELECT j.journey_id, o.member_id, s.step, 'capped', at FROM pg_temp._cdp_out o WHERE o.capped;
          END IF;
        END IF;
        IF s.type = 'email' THEN
          INSERT INTO @extschema@.journey_event (journey_id, member_id, step, event, at)
          SELECT j.journey_id, o.member_id, s.step, 'no_address', at FROM pg_temp._cdp_out o
           WHERE NOT o.capped AND (o.address IS NULL OR btrim(o.address) = '');
          SELECT substring(c.options ->> 'from' FROM '@([^@>[:space:]]+)>?\s*$') INTO domain
            FROM @extschema@.channel c WHERE c.name = s.spec ->> 'channel';
          WITH t AS (SELECT * FROM @extschema@.template x WHERE x.name = s.spec ->> 'template'),
          ins AS (
            INSERT INTO @extschema@.message (header_id, kind, channel, journey_id, member_id, step, customer_id, template, marketing,
                                             to_address, subject, html, text_body, token, queued_at, next_attempt_at)
            SELECT '<' || o.token || '.' || j.journey_id || '@' || coalesce(domain, 'pg-cdp.invalid') || '>', 'email', s.spec ->> 'channel',
                   j.journey_id, o.member_id, s.step, o.customer_id, t.name, coalesce((s.spec ->> 'marketing')::boolean, true),
                   btrim(o.address),
                   @extschema@.render_text(t.subject, o.ctx || x.extra, false),
                   @extschema@.render_text(t.html, o.ctx || x.extra, true),
                   @extschema@.render_text(t.text_body, o.ctx || x.extra, false),
                   o.token, at, at
              FROM pg_temp._cdp_out o CROSS JOIN t,
                   LATERAL (SELECT jsonb_build_object('coupon_seed', o.token, 'journey', j.name, 'step', s.step,
                                                      'unsubscribe_url', replace(coalesce(unsub, ''), '{token}', o.token),
                                                      'now', at) AS extra) x
             WHERE NOT o.capped AND o.address IS NOT NULL AND btrim(o.address) <> ''
            RETURNING message_id, member_id, customer_id, token, template)
          INSERT INTO @extschema@.coupon (code, prefix, message_id, customer_id, journey_id, issued_at)
          SELECT @extschema@.coupon_code(p, ins.token), p, ins.message_id, ins.customer_id, j.journey_id, at
            FROM ins, t, unnest(t.coupons) p;
          INSERT INTO @extschema@.journey_event (journey_id, member_id, step, event, at)
          SELECT j.journey_id, x.member_id, s.step, 'queued', at FROM @extschema@.message x
           WHERE x.journey_id = j.journey_id AND x.step = s.step
             AND x.member_id IN (SELECT o.member_id FROM pg_temp._cdp_out o) AND x.queued_at = at;
          GET DIAGNOSTICS k = ROW_COUNT;
          queued := queued + k;
        ELSE
          INSERT INTO @extschema@.message (header_id, kind, channel, url, journey_id, member_id, step, customer_id, marketing, payload,
                                           queued_at, next_attempt_at)
          SELECT '<' || o.token || '.' || j.journey_id || '@webhook.pg-cdp.invalid>', 'webhook', s.spec ->> 'channel', s.spec ->> 'url',
                 j.journey_id, o.member_id, s.step, o.customer_id, false,
                 coalesce((SELECT jsonb_object_agg(kv.key, CASE WHEN jsonb_typeof(kv.value) = 'string'
                                                                 THEN to_jsonb(@extschema@.render_text(kv.value #>> '{}', o.ctx || x.extra, false))
                                                                 ELSE kv.value END)
                             FROM jsonb_each(s.spec -> 'payload') kv),
                          jsonb_build_object('customer_id', o.customer_id, 'journey', j.name, 'version', j.version, 'step', s.step, 'at', at)),
                 at, at
            FROM pg_temp._cdp_out o,
                 LATERAL (SELECT jsonb_build_object('journey', j.name, 'step', s.step, 'now', at, 'coupon_seed', o.token) AS extra) x;
          INSERT INTO @extschema@.journey_event (journey_id, member_id, step, event, at)
          SELECT j.journey_id, o.member_id, s.step, 'queued', at FROM pg_temp._cdp_out o;
          GET DIAGNOSTICS k = ROW_COUNT;
          queued := queued + k;
        END IF;
        INSERT INTO pg_temp._cdp_moves SELECT o.member_id, s.next_step FROM pg_temp._cdp_out o;
        DROP TABLE pg_temp._cdp_out;
      END CASE;
      n := n + @extschema@._journey_move(j.journey_id, at);
    END LOOP;
    moved := moved + n;
    EXIT WHEN n = 0;
  END LOOP;
  RETURN jsonb_build_object('enrolled', enrolled, 'exited', exited, 'goal', goals, 'moved', moved, 'queued', queued);
END;
$$;
COMMENT ON FUNCTION @extschema@._run_journey(@extschema@.journey, timestamptz) IS 'Internal: one pass of the engine over one journey version';

CREATE FUNCTION @extschema@.run_journeys(at timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning SET jit = off
AS $$
DECLARE
  j @extschema@.journey;
  res jsonb := '{}';
BEGIN
  at := coalesce(at, now());
  -- one engine pass at a time (the worker, a manual call)
  PERFORM pg_advisory_xact_lock(1667526775, 1);
  FOR j IN SELECT * FROM @extschema@.journey x WHERE x.status IN ('live', 'paused', 'closed') ORDER BY x.journey_id LOOP
    res := res || jsonb_build_object(j.name || ' v' || j.version, @extschema@._run_journey(j, at));
  END LOOP;
  RETURN res;
END;
$$;
COMMENT ON FUNCTION @extschema@.run_journeys(timestamptz) IS
  'One pass of the journey engine at a time (default now): enrols new members, applies exit rules, moves every due member as far as it can and queues its messages; the worker calls it every cdp.worker_naptime, and it can be called by hand (e.g. with a simulated time)';

-- ---------------------------------------------------------------- delivery
-- Records an e-mail event: in cdp.email_event and, for a customer, as a
-- journey_email activity.
CREATE FUNCTION @extschema@._email_event(message_id bigint, event text, at timestamptz, detail text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  e @extschema@.email_event;
BEGIN
  INSERT INTO @extschema@.email_event (message_id, customer_id, journey, step, template, event, occurred_at, detail)
  SELECT m.message_id, m.customer_id, j.name, m.step, m.template, event, at, detail
    FROM @extschema@.message m LEFT JOIN @extschema@.journey j ON j.journey_id = m.journey_id
   WHERE m.message_id = _email_event.message_id
  RETURNING * INTO e;
  IF e.customer_id IS NOT NULL AND EXISTS (SELECT 1 FROM @extschema@.customer c WHERE c.customer_id = e.customer_id) THEN
    INSERT INTO @extschema@.activity (customer_id, activity, type, occurred_at, source_key, linked_by, link_value, detail)
    VALUES (e.customer_id, 'journey_email', 'email', e.occurred_at, e.event_id::text, 'journey', NULL,
            jsonb_strip_nulls(jsonb_build_object('event', e.event, 'journey', e.journey, 'step', e.step,
                                                 'template', e.template, 'detail', e.detail)));
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@._email_event(bigint, text, timestamptz, text) IS 'Internal: records an e-mail event and its activity';

-- The worker's claim: up to batch_size due messages, locked with SKIP
-- LOCKED; consent, unsubscribes and suppressed addresses are checked here,
-- right before sending (such messages become "suppressed" and are not
-- returned); the rest become "sending", numbered in the order the worker
-- must send them.  The worker commits this before any network call.
CREATE FUNCTION @extschema@._claim_messages(batch_size integer)
RETURNS TABLE (message_id bigint, kind text, channel text, to_address text, from_address text, subject text,
               html text, text_body text, header_id text, list_unsubscribe text, url text, payload text,
               rate_per_second double precision)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
AS $$
DECLARE
  batch bigint;
  unsub text := @extschema@._setting_value('unsubscribe_url') #>> '{}';
  attr text;
  ch record;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM @extschema@.message x WHERE x.state = 'queued' AND x.next_attempt_at <= now()) THEN
    RETURN;    -- the worker asks every naptime: no work table when idle
  END IF;
  batch := nextval('@extschema@.claim_batch_seq');
  DROP TABLE IF EXISTS pg_temp._cdp_claim;
  CREATE TEMP TABLE _cdp_claim AS
  SELECT m.message_id, m.kind, m.channel, m.customer_id, m.marketing, lower(m.to_address) AS address,
         NULL::text AS reason,
         row_number() OVER (ORDER BY m.next_attempt_at, m.message_id)::int AS pos
    FROM @extschema@.message m
   WHERE m.message_id IN (
         SELECT x.message_id FROM @extschema@.message x
          WHERE x.state = 'queued' AND x.next_attempt_at <= now()
            AND NOT EXISTS (SELECT 1 FROM @extschema@.journey j WHERE j.journey_id = x.journey_id AND j.status = 'paused')
            AND NOT EXISTS (SELECT 1 FROM @extschema@.channel c WHERE c.name = x.channel AND c.retry_at > now())
          ORDER BY x.next_attempt_at, x.message_id
          LIMIT batch_size
          FOR UPDATE SKIP LOCKED);
  -- consent, right before sending
  UPDATE pg_temp._cdp_claim c SET reason = 'address suppressed (' || s.reason || ')'
    FROM @extschema@.suppression s WHERE c.kind = 'email' AND c.marketing AND s.address = c.address;
  FOR ch IN SELECT DISTINCT c.channel FROM pg_temp._cdp_claim c WHERE c.kind = 'email' AND c.marketing AND c.reason IS NULL LOOP
    SELECT coalesce(x.options ->> 'consent_attribute', 'email_consent') INTO attr FROM @extschema@.channel x WHERE x.name = ch.channel;
    IF EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = '@extschema@.customer'::regclass AND a.attname = attr
                  AND NOT a.attisdropped AND a.atttypid = 'boolean'::regtype) THEN
      EXECUTE format(
        'UPDATE pg_temp._cdp_claim c SET reason = ''no e-mail consent''
           FROM @extschema@.channel x
          WHERE x.name = $1 AND c.channel = $1 AND c.kind = ''email'' AND c.marketing AND c.reason IS NULL
            AND NOT coalesce((SELECT k.%I FROM @extschema@.customer k WHERE k.customer_id = c.customer_id),
                             (x.options ->> ''consent_default'')::boolean, false)', attr) USING ch.channel;
    ELSE
      UPDATE pg_temp._cdp_claim c SET reason = 'no e-mail consent'
        FROM @extschema@.channel x
       WHERE x.name = ch.channel AND c.channel = ch.channel AND c.kind = 'email' AND c.marketing AND c.reason IS NULL
         AND NOT coalesce((x.options ->> 'consent_default')::boolean, false);
    END IF;
  END LOOP;
  UPDATE @extschema@.message m SET state = 'suppressed', detail = c.reason
    FROM pg_temp._cdp_claim c WHERE m.message_id = c.message_id AND c.reason IS NOT NULL;
  UPDATE @extschema@.message m SET state = 'sending', claim_batch = batch, claim_pos = c.pos, claimed_at = now(),
         attempts = m.attempts + 1
    FROM pg_temp._cdp_claim c WHERE m.message_id = c.message_id AND c.reason IS NULL;
  RETURN QUERY
  SELECT m.message_id, m.kind, m.channel, m.to_address, ch2.options ->> 'from', m.subject, m.html, m.text_body, m.header_id,
         CASE WHEN m.kind = 'email' AND m.marketing AND unsub IS NOT NULL THEN replace(unsub, '{token}', m.token) END,
         m.url, m.payload::text, (ch2.options ->> 'rate_per_second')::double precision
    FROM pg_temp._cdp_claim c
    JOIN @extschema@.message m ON m.message_id = c.message_id
    LEFT JOIN @extschema@.channel ch2 ON ch2.name = m.channel
   WHERE c.reason IS NULL
   ORDER BY c.pos;
  DROP TABLE pg_temp._cdp_claim;
END;
$$;
COMMENT ON FUNCTION @extschema@._claim_messages(integer) IS
  'Internal (worker): claims due messages for delivery, after the consent and suppression check';
REVOKE EXECUTE ON FUNCTION @extschema@._claim_messages(integer) FROM PUBLIC;

-- The outcome of one delivery attempt, recorded by the worker in a
-- transaction of its own: status sent, tempfail, permfail, channel_error
-- (the channel backs off; the message is not charged an attempt) or
-- released (not attempted: the worker stopped or the channel failed).
-- The wait before the next try after n failures in a row: retry_base
-- doubled n times, at most retry_max.  Read only when something failed:
-- recording a sent message, the common case, reads no setting.
CREATE FUNCTION @extschema@._retry_delay(n integer)
RETURNS interval
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT least((@extschema@._setting_value('retry_base') #>> '{}')::interval * power(2, n),
               (@extschema@._setting_value('retry_max') #>> '{}')::interval)
$$;
COMMENT ON FUNCTION @extschema@._retry_delay(integer) IS 'Internal: the back-off after n failures in a row (retry_base doubled n times, at most retry_max)';

CREATE FUNCTION @extschema@._record_delivery(message_id bigint, status text, reply_code integer, enhanced text,
                                             detail text, bad_address boolean)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  m @extschema@.message;
BEGIN
  SELECT * INTO m FROM @extschema@.message x WHERE x.message_id = _record_delivery.message_id FOR UPDATE;
  IF NOT FOUND OR m.state <> 'sending' THEN
    RETURN;
  END IF;
  IF status = 'channel_error' AND m.channel IS NULL THEN
    -- a webhook to its own URL: no channel to back off, the message does
    status := 'tempfail';
  END IF;
  CASE status
  WHEN 'sent' THEN
    UPDATE @extschema@.message x SET state = 'sent', sent_at = now(), reply_code = _record_delivery.reply_code,
           enhanced_code = nullif(enhanced, ''), detail = _record_delivery.detail
     WHERE x.message_id = m.message_id;
    IF m.kind = 'email' THEN
      PERFORM @extschema@._email_event(m.message_id, 'sent', now(), NULL);
    END IF;
    UPDATE @extschema@.channel c SET errors = 0, retry_at = NULL WHERE c.name = m.channel AND (c.errors > 0 OR c.retry_at IS NOT NULL);
  WHEN 'tempfail' THEN
    IF m.attempts >= (@extschema@._setting_value('max_attempts') #>> '{}')::int THEN
      UPDATE @extschema@.message x SET state = 'failed', reply_code = _record_delivery.reply_code,
             enhanced_code = nullif(enhanced, ''), detail = 'gave up after ' || m.attempts || ' attempts: ' || _record_delivery.detail
       WHERE x.message_id = m.message_id;
      IF m.kind = 'email' THEN
        PERFORM @extschema@._email_event(m.message_id, 'failed', now(), _record_delivery.detail);
      END IF;
    ELSE
      UPDATE @extschema@.message x SET state = 'queued', reply_code = _record_delivery.reply_code,
             enhanced_code = nullif(enhanced, ''), detail = _record_delivery.detail,
             next_attempt_at = now() + @extschema@._retry_delay(m.attempts - 1)
       WHERE x.message_id = m.message_id;
    END IF;
  WHEN 'permfail' THEN
    UPDATE @extschema@.message x SET state = 'failed', reply_code = _record_delivery.reply_code,
           enhanced_code = nullif(enhanced, ''), detail = _record_delivery.detail
     WHERE x.message_id = m.message_id;
    IF m.kind = 'email' THEN
      PERFORM @extschema@._email_event(m.message_id, CASE WHEN bad_address THEN 'bounced' ELSE 'failed' END, now(), _record_delivery.detail);
      IF bad_address THEN
        INSERT INTO @extschema@.suppression (address, reason, message_id) VALUES (lower(m.to_address), 'bounce', m.message_id)
        ON CONFLICT (address) DO NOTHING;
      END IF;
    END IF;
  WHEN 'channel_error' THEN
    UPDATE @extschema@.message x SET state = 'queued', attempts = m.attempts - 1, detail = _record_delivery.detail
     WHERE x.message_id = m.message_id;
    UPDATE @extschema@.channel c SET errors = c.errors + 1, last_error = _record_delivery.detail, last_error_at = now(),
           retry_at = now() + @extschema@._retry_delay(c.errors)
     WHERE c.name = m.channel;
  WHEN 'released' THEN
    UPDATE @extschema@.message x SET state = 'queued', attempts = m.attempts - 1 WHERE x.message_id = m.message_id;
  ELSE
    RAISE EXCEPTION 'unknown delivery status "%"', status USING ERRCODE = '22023';
  END CASE;
  -- a message put back in the queue after its journey was stopped is not sent
  IF status IN ('released', 'channel_error', 'tempfail')
     AND EXISTS (SELECT 1 FROM @extschema@.journey j WHERE j.journey_id = m.journey_id AND j.status = 'stopped') THEN
    UPDATE @extschema@.message x SET state = 'cancelled', detail = 'journey stopped'
     WHERE x.message_id = m.message_id AND x.state = 'queued';
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@._record_delivery(bigint, text, integer, text, text, boolean) IS
  'Internal (worker): records the outcome of one delivery attempt: retries with exponential back-off, permanent failures, bounces to the suppression list';
REVOKE EXECUTE ON FUNCTION @extschema@._record_delivery(bigint, text, integer, text, text, boolean) FROM PUBLIC;

-- After a crash: messages still "sending" were claimed by a worker that is
-- gone.  The worker sends a batch in claim_pos order and records each
-- outcome before the next send, so in each batch only the first
-- unconfirmed message can have been in flight; it is requeued and flagged
-- possibly_duplicate, the others were never handed over and are requeued.
CREATE FUNCTION @extschema@._recover_claims()
RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n integer;
  dup bigint[];
BEGIN
  WITH s AS (
    SELECT m.message_id, row_number() OVER (PARTITION BY m.claim_batch ORDER BY m.claim_pos) = 1 AS first
      FROM @extschema@.message m WHERE m.state = 'sending'),
  u AS (
    UPDATE @extschema@.message m SET state = 'queued', possibly_duplicate = m.possibly_duplicate OR s.first,
           attempts = CASE WHEN s.first THEN m.attempts ELSE m.attempts - 1 END, next_attempt_at = now()
      FROM s WHERE m.message_id = s.message_id
    RETURNING m.message_id, s.first)
  SELECT count(*), coalesce(array_agg(message_id ORDER BY message_id) FILTER (WHERE first), '{}') INTO n, dup FROM u;
  IF n > 0 THEN
    INSERT INTO @extschema@.delivery_recovery (requeued, possibly_duplicated) VALUES (n, dup);
  END IF;
  RETURN n;
END;
$$;
COMMENT ON FUNCTION @extschema@._recover_claims() IS
  'Internal (worker, at start): requeues messages claimed by a worker that died; flags the one per batch that may have been in flight';
REVOKE EXECUTE ON FUNCTION @extschema@._recover_claims() FROM PUBLIC;

CREATE FUNCTION @extschema@.unsubscribe(token text)
RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  m @extschema@.message;
BEGIN
  SELECT * INTO m FROM @extschema@.message x WHERE x.token = unsubscribe.token;
  IF NOT FOUND THEN
    RETURN 'unknown';
  END IF;
  INSERT INTO @extschema@.suppression (address, reason, message_id) VALUES (lower(m.to_address), 'unsubscribe', m.message_id)
  ON CONFLICT (address) DO NOTHING;
  IF NOT FOUND THEN
    RETURN 'already';
  END IF;
  PERFORM @extschema@._email_event(m.message_id, 'unsubscribed', now(), NULL);
  RETURN 'unsubscribed';
END;
$$;
COMMENT ON FUNCTION @extschema@.unsubscribe(text) IS
  'Records an unsubscribe from the token of a List-Unsubscribe URL: the address gets no more marketing e-mail; returns unsubscribed, already or unknown';

CREATE FUNCTION @extschema@.record_email_event(message_id text, event text, occurred_at timestamptz DEFAULT NULL,
                                               detail text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  m @extschema@.message;
BEGIN
  IF event IS NULL OR event NOT IN ('delivered', 'opened', 'clicked', 'bounced', 'complained', 'unsubscribed') THEN
    RAISE EXCEPTION 'unknown e-mail event "%"', event
      USING ERRCODE = '22023', HINT = 'Events: delivered, opened, clicked, bounced, complained, unsubscribed.';
  END IF;
  SELECT * INTO m FROM @extschema@.message x
   WHERE x.header_id = CASE WHEN message_id LIKE '<%>' THEN message_id ELSE '<' || message_id || '>' END AND x.kind = 'email';
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no e-mail has Message-ID %', message_id
      USING ERRCODE = '42704', HINT = 'Pass the Message-ID header of a message pg_cdp sent (cdp.message.header_id), with or without angle brackets.';
  END IF;
  PERFORM @extschema@._email_event(m.message_id, event, coalesce(occurred_at, now()), detail);
  IF event IN ('bounced', 'complained', 'unsubscribed') THEN
    INSERT INTO @extschema@.suppression (address, reason, message_id)
    VALUES (lower(m.to_address), CASE event WHEN 'bounced' THEN 'bounce' WHEN 'complained' THEN 'complaint' ELSE 'unsubscribe' END, m.message_id)
    ON CONFLICT (address) DO NOTHING;
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@.record_email_event(text, text, timestamptz, text) IS
  'Records an e-mail event reported by a provider or a tracking endpoint (delivered, opened, clicked, bounced, complained, unsubscribed) as an activity of the customer; bounces, complaints and unsubscribes suppress the address';

-- ---------------------------------------------------------------- statistics
CREATE FUNCTION @extschema@.journey_stats(name text)
RETURNS TABLE (version integer, step text, type text, entered bigint, queued bigint, capped bigint, sent bigint,
               failed bigint, bounced bigint, opened bigint, clicked bigint, unsubscribed bigint,
               open_rate numeric, click_rate numeric)
LANGUAGE plpgsql STABLE STRICT SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  IF NOT EXISTS (SELECT 1 FROM @extschema@.journey j WHERE j.name = journey_stats.name) THEN
    RAISE EXCEPTION 'journey "%" does not exist', journey_stats.name USING ERRCODE = '42704';
  END IF;
  RETURN QUERY
  SELECT j.version, s.step, s.type,
         (SELECT count(DISTINCT e.member_id) FROM @extschema@.journey_event e WHERE e.journey_id = j.journey_id AND e.step = s.step AND e.event = 'entered'),
         (SELECT count(*) FROM @extschema@.journey_event e WHERE e.journey_id = j.journey_id AND e.step = s.step AND e.event = 'queued'),
         (SELECT count(*) FROM @extschema@.journey_event e WHERE e.journey_id = j.journey_id AND e.step = s.step AND e.event = 'capped'),
         ev.sent, ev.failed, ev.bounced, ev.opened, ev.clicked, ev.unsubscribed,
         round(ev.opened::numeric / nullif(ev.sent, 0), 4), round(ev.clicked::numeric / nullif(ev.sent, 0), 4)
    FROM @extschema@.journey j
    JOIN @extschema@.journey_step s ON s.journey_id = j.journey_id
    CROSS JOIN LATERAL (
      SELECT count(DISTINCT m.message_id) FILTER (WHERE m.state = 'sent') AS sent,
             count(DISTINCT m.message_id) FILTER (WHERE m.state = 'failed') AS failed,
             count(DISTINCT x.message_id) FILTER (WHERE x.event = 'bounced') AS bounced,
             count(DISTINCT x.message_id) FILTER (WHERE x.event IN ('opened', 'clicked')) AS opened,
             count(DISTINCT x.message_id) FILTER (WHERE x.event = 'clicked') AS clicked,
             count(DISTINCT x.message_id) FILTER (WHERE x.event = 'unsubscribed') AS unsubscribed
        FROM @extschema@.message m LEFT JOIN @extschema@.email_event x ON x.message_id = m.message_id
       WHERE m.journey_id = j.journey_id AND m.step = s.step) ev
   WHERE j.name = journey_stats.name
   ORDER BY j.version, s.position;
END;
$$;
COMMENT ON FUNCTION @extschema@.journey_stats(text) IS
  'Per version and step of a journey: members who entered, messages queued, capped, sent, failed, bounced, opened (opened or clicked), clicked, unsubscribed, open and click rates over sent';

CREATE FUNCTION @extschema@.journey_funnel(name text)
RETURNS TABLE (members bigint, treated bigint, holdout bigint, emailed bigint, sent bigint, opened bigint, clicked bigint,
               converted bigint, conversion_rate numeric, revenue numeric,
               holdout_converted bigint, holdout_conversion_rate numeric, uplift numeric)
LANGUAGE plpgsql STABLE STRICT SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  conv jsonb := @extschema@._setting_value('conversion');
BEGIN
  IF NOT EXISTS (SELECT 1 FROM @extschema@.journey j WHERE j.name = journey_funnel.name) THEN
    RAISE EXCEPTION 'journey "%" does not exist', journey_funnel.name USING ERRCODE = '42704';
  END IF;
  RETURN QUERY
  WITH mem AS (
    SELECT m.member_id, m.customer_id, m.holdout, m.enrolled_at,
           (SELECT min(x.sent_at) FROM @extschema@.message x WHERE x.member_id = m.member_id AND x.kind = 'email' AND x.state = 'sent') AS first_sent,
           EXISTS (SELECT 1 FROM @extschema@.message x JOIN @extschema@.email_event e ON e.message_id = x.message_id
                    WHERE x.member_id = m.member_id AND e.event IN ('opened', 'clicked')) AS opened,
           EXISTS (SELECT 1 FROM @extschema@.message x JOIN @extschema@.email_event e ON e.message_id = x.message_id
                    WHERE x.member_id = m.member_id AND e.event = 'clicked') AS clicked
      FROM @extschema@.journey_member m JOIN @extschema@.journey j ON j.journey_id = m.journey_id
     WHERE j.name = journey_funnel.name),
  c AS (
    SELECT mem.*, k.n > 0 AS converted, k.revenue
      FROM mem,
           LATERAL (SELECT count(*) AS n, sum(nullif(a.detail ->> (conv ->> 'amount'), '')::numeric) AS revenue
                      FROM @extschema@.activity a
                     WHERE a.customer_id = mem.customer_id AND a.activity = conv ->> 'activity'
                       AND a.occurred_at >= CASE WHEN mem.holdout THEN mem.enrolled_at ELSE mem.first_sent END
                       AND a.occurred_at < CASE WHEN mem.holdout THEN mem.enrolled_at ELSE mem.first_sent END
                                           + (conv ->> 'window')::interval) k)
  SELECT count(*), count(*) FILTER (WHERE NOT c.holdout), count(*) FILTER (WHERE c.holdout),
         count(*) FILTER (WHERE c.first_sent IS NOT NULL),
         (SELECT count(*) FROM @extschema@.message x JOIN @extschema@.journey j ON j.journey_id = x.journey_id
           WHERE j.name = journey_funnel.name AND x.kind = 'email' AND x.state = 'sent'),
         count(*) FILTER (WHERE c.opened), count(*) FILTER (WHERE c.clicked),
         count(*) FILTER (WHERE NOT c.holdout AND c.converted),
         round((count(*) FILTER (WHERE NOT c.holdout AND c.converted))::numeric / nullif(count(*) FILTER (WHERE NOT c.holdout), 0), 4),
         coalesce(sum(c.revenue) FILTER (WHERE NOT c.holdout AND c.converted), 0),
         count(*) FILTER (WHERE c.holdout AND c.converted),
         round((count(*) FILTER (WHERE c.holdout AND c.converted))::numeric / nullif(count(*) FILTER (WHERE c.holdout), 0), 4),
         round((count(*) FILTER (WHERE NOT c.holdout AND c.converted))::numeric / nullif(count(*) FILTER (WHERE NOT c.holdout), 0)
               - (count(*) FILTER (WHERE c.holdout AND c.converted))::numeric / nullif(count(*) FILTER (WHERE c.holdout), 0), 4)
    FROM c;
END;
$$;
COMMENT ON FUNCTION @extschema@.journey_funnel(text) IS
  'A journey''s funnel over all versions: members, treated and holdout groups, members e-mailed, e-mails sent, members who opened and clicked, conversions (setting "conversion": an activity within a window after the first e-mail sent, after enrolment for the holdout group), revenue, the holdout''s conversion and the uplift';

-- ---------------------------------------------------------------- schedules
CREATE TABLE @extschema@.refresh_schedule (
    name         text PRIMARY KEY,
    every        interval NOT NULL CHECK (every >= interval '1 minute'),
    steps        text[] NOT NULL,
    next_run_at  timestamptz NOT NULL,
    enabled      boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE @extschema@.refresh_schedule IS 'Refreshes the worker runs on a schedule (cdp.schedule_refresh)';
COMMENT ON COLUMN @extschema@.refresh_schedule.name IS 'schedule name';
COMMENT ON COLUMN @extschema@.refresh_schedule.every IS 'how often';
COMMENT ON COLUMN @extschema@.refresh_schedule.steps IS 'what it runs, in order: unify, activities, measures, segments';
COMMENT ON COLUMN @extschema@.refresh_schedule.next_run_at IS 'next run';
COMMENT ON COLUMN @extschema@.refresh_schedule.enabled IS 'false: paused';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.refresh_schedule', '');
GRANT SELECT ON @extschema@.refresh_schedule TO PUBLIC;

CREATE TABLE @extschema@.refresh_run (
    run_id       bigserial PRIMARY KEY,
    schedule     text,
    step         text NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    ok           boolean,
    error        text
);
COMMENT ON TABLE @extschema@.refresh_run IS 'The run log of scheduled and manual refreshes (cdp.run_refresh and the worker): one row per step';
COMMENT ON COLUMN @extschema@.refresh_run.run_id IS 'run number';
COMMENT ON COLUMN @extschema@.refresh_run.schedule IS 'schedule name (null: cdp.run_refresh called by hand or by pg_cron)';
COMMENT ON COLUMN @extschema@.refresh_run.step IS 'unify, activities, measures or segments';
COMMENT ON COLUMN @extschema@.refresh_run.started_at IS 'start';
COMMENT ON COLUMN @extschema@.refresh_run.finished_at IS 'end';
COMMENT ON COLUMN @extschema@.refresh_run.ok IS 'true: done; false: failed (see error)';
COMMENT ON COLUMN @extschema@.refresh_run.error IS 'the error message';
COMMENT ON SEQUENCE @extschema@.refresh_run_run_id_seq IS 'numbers refresh runs';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.refresh_run', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.refresh_run_run_id_seq', '');
GRANT SELECT ON @extschema@.refresh_run TO PUBLIC;

CREATE FUNCTION @extschema@._refresh_steps(steps text[])
RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  s text;
BEGIN
  IF steps IS NULL OR cardinality(steps) = 0 THEN
    RAISE EXCEPTION 'a refresh needs at least one step' USING ERRCODE = '22023', HINT = 'Steps: unify, activities, measures, segments.';
  END IF;
  FOREACH s IN ARRAY steps LOOP
    IF s IS NULL OR s NOT IN ('unify', 'activities', 'measures', 'segments') THEN
      RAISE EXCEPTION 'unknown refresh step "%"', s USING ERRCODE = '22023', HINT = 'Steps: unify, activities, measures, segments.';
    END IF;
  END LOOP;
  RETURN steps;
END;
$$;
COMMENT ON FUNCTION @extschema@._refresh_steps(text[]) IS 'Internal: checks a list of refresh steps';

CREATE FUNCTION @extschema@.schedule_refresh(name text, every interval,
    steps text[] DEFAULT ARRAY['unify', 'activities', 'measures', 'segments'], start_at timestamptz DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF name IS NULL OR name !~ '^[a-z][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION 'invalid schedule name "%"', name USING ERRCODE = '42602';
  END IF;
  IF every IS NULL OR every < interval '1 minute' THEN
    RAISE EXCEPTION 'a schedule runs at most once a minute' USING ERRCODE = '22023';
  END IF;
  INSERT INTO @extschema@.refresh_schedule AS r (name, every, steps, next_run_at)
  VALUES (name, every, @extschema@._refresh_steps(steps), coalesce(start_at, now()))
  ON CONFLICT ON CONSTRAINT refresh_schedule_pkey DO UPDATE
     SET every = excluded.every, steps = excluded.steps, next_run_at = excluded.next_run_at, enabled = true;
  PERFORM @extschema@._worker_warning();
END;
$$;
COMMENT ON FUNCTION @extschema@.schedule_refresh(text, interval, text[], timestamptz) IS
  'Has the background worker run refresh steps (unify, activities, measures, segments, in that order) every interval, starting at start_at (default now); replaces a schedule of the same name';

CREATE FUNCTION @extschema@.unschedule_refresh(name text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  DELETE FROM @extschema@.refresh_schedule r WHERE r.name = unschedule_refresh.name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'schedule "%" does not exist', name USING ERRCODE = '42704';
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@.unschedule_refresh(text) IS 'Removes a refresh schedule';

-- One refresh step, logged in cdp.refresh_run (the failure, too, through
-- an exception block: the step's changes are undone, the log row stays).
CREATE FUNCTION @extschema@._run_refresh_step(schedule text, step text)
RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  id bigint;
  succeeded boolean := true;
  err text;
BEGIN
  INSERT INTO @extschema@.refresh_run (schedule, step, started_at) VALUES (schedule, step, clock_timestamp()) RETURNING run_id INTO id;
  BEGIN
    CASE step
    WHEN 'unify' THEN EXECUTE 'CALL @extschema@.unify()';
    WHEN 'activities' THEN EXECUTE 'CALL @extschema@.refresh_activities()';
    WHEN 'measures' THEN EXECUTE 'CALL @extschema@.refresh_measures()';
    WHEN 'segments' THEN PERFORM @extschema@.refresh_segments();
    END CASE;
  EXCEPTION WHEN others THEN
    succeeded := false;
    GET STACKED DIAGNOSTICS err = MESSAGE_TEXT;
  END;
  UPDATE @extschema@.refresh_run r SET finished_at = clock_timestamp(), ok = succeeded, error = err WHERE r.run_id = id;
  RETURN succeeded;
END;
$$;
COMMENT ON FUNCTION @extschema@._run_refresh_step(text, text) IS 'Internal: runs and logs one refresh step';

CREATE PROCEDURE @extschema@.run_refresh(steps text[] DEFAULT ARRAY['unify', 'activities', 'measures', 'segments'])
LANGUAGE plpgsql
AS $$
DECLARE
  s text;
BEGIN
  FOREACH s IN ARRAY @extschema@._refresh_steps(steps) LOOP
    IF NOT @extschema@._run_refresh_step(NULL, s) THEN
      RAISE WARNING 'refresh step % failed; the following steps are skipped', s
        USING HINT = 'See SELECT * FROM cdp.refresh_run ORDER BY run_id DESC.';
      RETURN;
    END IF;
    COMMIT;
  END LOOP;
END;
$$;
COMMENT ON PROCEDURE @extschema@.run_refresh(text[]) IS
  'Runs refresh steps in order (unify, activities, measures, segments), each committed on its own and logged in cdp.refresh_run; for pg_cron or a shell script';

-- The schedules due now, moved to their next time (the worker commits this
-- before it runs their steps, so a crash skips a run rather than repeating it).
CREATE FUNCTION @extschema@._due_schedules()
RETURNS TABLE (name text, steps text[])
LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $$
  UPDATE @extschema@.refresh_schedule r
     SET next_run_at = r.next_run_at + r.every * (floor(extract(epoch FROM now() - r.next_run_at) / extract(epoch FROM r.every)) + 1)
   WHERE r.enabled AND r.next_run_at <= now()
  RETURNING r.name, r.steps
$$;
COMMENT ON FUNCTION @extschema@._due_schedules() IS 'Internal (worker): the schedules due now, moved to their next run time';
REVOKE EXECUTE ON FUNCTION @extschema@._due_schedules() FROM PUBLIC;

-- drop_segment refuses while a journey uses the segment
CREATE FUNCTION @extschema@._segment_journeys(segment text)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT string_agg(DISTINCT j.name, ', ') FROM @extschema@.journey j
   WHERE j.status IN ('draft', 'live', 'paused', 'closed')
     AND (j.definition -> 'trigger' ->> 'segment' = $1 OR j.definition::text LIKE '%segment ''' || replace($1, '''', '''''') || '''%')
$$;
COMMENT ON FUNCTION @extschema@._segment_journeys(text) IS 'Internal: the journeys that use a segment (trigger or conditions)';

CREATE FUNCTION @extschema@.worker_status(OUT running boolean, OUT pid integer, OUT started_at timestamptz,
    OUT last_tick timestamptz, OUT doing text, OUT sent bigint, OUT failed bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'cdp_worker_status'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.worker_status() IS
  'Whether the background worker serves this database, its process id, when it started, its last pass, what it is doing and the messages it sent and failed since it started';
