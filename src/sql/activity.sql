
-- ---------------------------------------------------------------------------
-- activity.sql: activities (what customers did) from any relation, linked
-- to unified customers by a source key or an attribute value, with web
-- sessions, dwell time, page types and anonymous visitors stitched to the
-- customer they log in as; the timeline of one customer.
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.activity_type (
    name        text PRIMARY KEY,
    description text NOT NULL,
    builtin     boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.activity_type IS 'Kinds of activity; user-defined types are added by cdp.add_activity';
COMMENT ON COLUMN @extschema@.activity_type.name IS 'type name';
COMMENT ON COLUMN @extschema@.activity_type.description IS 'what activities of this type are';
COMMENT ON COLUMN @extschema@.activity_type.builtin IS 'shipped with pg_cdp';
INSERT INTO @extschema@.activity_type VALUES
  ('page_view',     'a web page seen by a visitor; gets session_id, dwell_seconds and page_type', true),
  ('purchase',      'an order or receipt', true),
  ('purchase_line', 'one line of an order or receipt', true),
  ('loyalty',       'points earned or redeemed', true),
  ('email',         'an e-mail event: sent, opened, clicked, bounced, unsubscribed', true),
  ('chat',          'a chat message or transcript', true),
  ('store_visit',   'a visit to a store', true),
  ('note',          'a note written about the customer', true),
  ('custom',        'anything else', true);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.activity_type', 'WHERE NOT builtin');

CREATE TABLE @extschema@.activity_def (
    name                text PRIMARY KEY,
    relation            regclass NOT NULL,
    occurred_at_column  name NOT NULL,
    link                jsonb NOT NULL,
    columns             jsonb NOT NULL,
    type                text NOT NULL REFERENCES @extschema@.activity_type,
    key_column          name,
    created_at          timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE @extschema@.activity_def IS 'Activities: a relation of events, how its rows find their customer, and its interesting columns (cdp.add_activity)';
COMMENT ON COLUMN @extschema@.activity_def.name IS 'activity name, used in measures and cdp.activity';
COMMENT ON COLUMN @extschema@.activity_def.relation IS 'table, view, materialised view or foreign table of events';
COMMENT ON COLUMN @extschema@.activity_def.occurred_at_column IS 'column telling when the event happened';
COMMENT ON COLUMN @extschema@.activity_def.link IS 'how a row finds its customer: {"source": s, "column": c} or {"attribute": a, "column": c}, optionally "visitor" (a cookie column for stitching) and "region" (phones)';
COMMENT ON COLUMN @extschema@.activity_def.columns IS 'detail columns kept in cdp.activity.detail: name → {"column": c, "type": t}';
COMMENT ON COLUMN @extschema@.activity_def.type IS 'activity type (cdp.activity_type)';
COMMENT ON COLUMN @extschema@.activity_def.key_column IS 'column identifying a row (the primary key when not given)';
COMMENT ON COLUMN @extschema@.activity_def.created_at IS 'when the activity was added';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.activity_def', $$WHERE NOT link ? 'journey'$$);

CREATE TABLE @extschema@.url_rule (
    position    integer PRIMARY KEY,
    pattern     text NOT NULL,
    page_type   text NOT NULL
);
COMMENT ON TABLE @extschema@.url_rule IS 'Page types of page views: the first rule (by position) whose regular expression matches the URL names the page type (product, cart, checkout…)';
COMMENT ON COLUMN @extschema@.url_rule.position IS 'order of the rule';
COMMENT ON COLUMN @extschema@.url_rule.pattern IS 'POSIX regular expression matched against the URL';
COMMENT ON COLUMN @extschema@.url_rule.page_type IS 'page type given to matching page views';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.url_rule', '');

CREATE TABLE @extschema@.activity (
    customer_id     bigint NOT NULL,
    activity        text NOT NULL,
    type            text NOT NULL,
    occurred_at     timestamptz NOT NULL,
    source_key      text NOT NULL,
    linked_by       text NOT NULL CHECK (linked_by IN ('source', 'attribute', 'visitor', 'journey')),
    link_value      text,
    detail          jsonb NOT NULL,
    PRIMARY KEY (activity, source_key)
);
CREATE INDEX activity_customer ON @extschema@.activity (customer_id, occurred_at DESC);
COMMENT ON TABLE @extschema@.activity IS 'Activities linked to their unified customer (CALL cdp.refresh_activities()); detail holds the declared columns, and session_id, dwell_seconds, page_type for page views';
COMMENT ON COLUMN @extschema@.activity.customer_id IS 'the customer (cdp.customer)';
COMMENT ON COLUMN @extschema@.activity.activity IS 'activity name (cdp.activity_def)';
COMMENT ON COLUMN @extschema@.activity.type IS 'activity type';
COMMENT ON COLUMN @extschema@.activity.occurred_at IS 'when it happened';
COMMENT ON COLUMN @extschema@.activity.source_key IS 'key of the row in the activity''s relation, as text';
COMMENT ON COLUMN @extschema@.activity.linked_by IS 'how the customer was found: source (key of a source record), attribute (a normalised value), visitor (an anonymous visitor seen logged in), journey (an e-mail event written by pg_cdp''s journeys, for a known customer)';
COMMENT ON COLUMN @extschema@.activity.link_value IS 'the source key or normalised attribute value the row was linked by (NULL when stitched)';
COMMENT ON COLUMN @extschema@.activity.detail IS 'the declared columns, typed, as JSON';

CREATE TABLE @extschema@.unlinked_activity (
    activity        text NOT NULL,
    source_key      text NOT NULL,
    occurred_at     timestamptz,
    reason          text NOT NULL CHECK (reason IN ('no link value', 'no such customer', 'ambiguous', 'no time')),
    link_value      text,
    PRIMARY KEY (activity, source_key)
);
COMMENT ON TABLE @extschema@.unlinked_activity IS 'Activity rows that found no customer at the last refresh, and why: no link value, no such customer, ambiguous (the value belongs to several customers), no time';
COMMENT ON COLUMN @extschema@.unlinked_activity.activity IS 'activity name';
COMMENT ON COLUMN @extschema@.unlinked_activity.source_key IS 'key of the row';
COMMENT ON COLUMN @extschema@.unlinked_activity.occurred_at IS 'when it happened';
COMMENT ON COLUMN @extschema@.unlinked_activity.reason IS 'why it has no customer';
COMMENT ON COLUMN @extschema@.unlinked_activity.link_value IS 'the (normalised) value that was looked up';

CREATE TABLE @extschema@.activity_refresh (
    refresh_id      bigserial PRIMARY KEY,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    per_activity    jsonb NOT NULL,
    rows            bigint NOT NULL,
    linked          bigint NOT NULL,
    stitched        bigint NOT NULL,
    unlinked        bigint NOT NULL
);
COMMENT ON TABLE @extschema@.activity_refresh IS 'One row per CALL cdp.refresh_activities(): rows read, linked, stitched and unlinked, per activity and in all';
COMMENT ON COLUMN @extschema@.activity_refresh.refresh_id IS 'refresh number';
COMMENT ON COLUMN @extschema@.activity_refresh.started_at IS 'start (clock time)';
COMMENT ON COLUMN @extschema@.activity_refresh.finished_at IS 'end (clock time)';
COMMENT ON COLUMN @extschema@.activity_refresh.per_activity IS 'activity → {rows, linked, stitched, unlinked, ms}';
COMMENT ON COLUMN @extschema@.activity_refresh.rows IS 'rows read';
COMMENT ON COLUMN @extschema@.activity_refresh.linked IS 'rows linked by a source key or an attribute';
COMMENT ON COLUMN @extschema@.activity_refresh.stitched IS 'rows linked through their visitor id';
COMMENT ON COLUMN @extschema@.activity_refresh.unlinked IS 'rows without a customer';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.activity_refresh', '');
COMMENT ON SEQUENCE @extschema@.activity_refresh_refresh_id_seq IS 'numbers activity refreshes';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.activity_refresh_refresh_id_seq', '');

GRANT SELECT ON @extschema@.activity_type, @extschema@.activity_def, @extschema@.url_rule,
  @extschema@.activity_refresh TO PUBLIC;

-- A setting in seconds (they accept units: '30min').
CREATE FUNCTION @extschema@._setting_seconds(name text, dflt integer)
RETURNS double precision
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(extract(epoch FROM (nullif(current_setting(name, true), '') ||
                   CASE WHEN current_setting(name, true) ~ '^[0-9]+$' THEN 's' ELSE '' END)::interval),
                  dflt)
$$;
COMMENT ON FUNCTION @extschema@._setting_seconds(text, integer) IS 'Internal: a time setting in seconds, with its default';

CREATE FUNCTION @extschema@.add_activity(name text, relation regclass, occurred_at_column name, link jsonb,
                                         columns jsonb DEFAULT '{}', type text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  relkind char;
  t oid;
  k text;
  spec jsonb;
  cols jsonb := '{}';
  col text;
  ctype text;
  keycol name;
  atype text;
  dups bigint;
  nulls bigint;
BEGIN
  IF name IS NULL OR name !~ '^[a-z][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION 'invalid activity name "%"', name
      USING ERRCODE = '42602', HINT = 'Use lowercase letters, digits and underscores, starting with a letter (measures refer to it).';
  END IF;
  IF EXISTS (SELECT 1 FROM @extschema@.activity_def d WHERE d.name = add_activity.name) THEN
    RAISE EXCEPTION 'activity "%" already exists', name USING ERRCODE = '42710', HINT = 'Drop it first with cdp.drop_activity, or choose another name.';
  END IF;
  SELECT c.relkind INTO relkind FROM pg_class c WHERE c.oid = relation;
  IF relkind IS NULL OR relkind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
    RAISE EXCEPTION '"%" cannot hold activities', relation
      USING ERRCODE = '42809', DETAIL = 'Activities come from a table, view, materialised view or foreign table.';
  END IF;
  SELECT at.atttypid INTO t FROM pg_attribute at
   WHERE at.attrelid = relation AND at.attname = occurred_at_column AND at.attnum > 0 AND NOT at.attisdropped;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'column "%" of relation "%" does not exist', occurred_at_column, relation
      USING ERRCODE = '42703', HINT = 'occurred_at_column names the column telling when the event happened.';
  END IF;
  IF t NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
    RAISE EXCEPTION 'column "%" of relation "%" is of type %, not a date or timestamp', occurred_at_column, relation, t::regtype
      USING ERRCODE = '42804', HINT = 'Map a view that converts it, e.g. to_timestamp(epoch_column).';
  END IF;

  -- the link
  IF link IS NULL OR jsonb_typeof(link) <> 'object' THEN
    RAISE EXCEPTION 'link of activity "%" must be a JSON object', name
      USING ERRCODE = '22023', HINT = 'Write {"source": "shop", "column": "customer_no"} or {"attribute": "email", "column": "email"}.';
  END IF;
  FOR k IN SELECT jsonb_object_keys(link) LOOP
    IF k NOT IN ('source', 'attribute', 'column', 'visitor', 'region', 'key') THEN
      RAISE EXCEPTION 'unknown key "%" in the link of activity "%"', k, name
        USING ERRCODE = '22023', HINT = 'A link has "column" and either "source" or "attribute"; optionally "visitor", "region" and "key".';
    END IF;
  END LOOP;
  IF (link ? 'source') = (link ? 'attribute') THEN
    RAISE EXCEPTION 'the link of activity "%" needs exactly one of "source" and "attribute"', name
      USING ERRCODE = '22023', HINT = 'Link through a source''s key ({"source": "shop", "column": "customer_no"}) or through an attribute value ({"attribute": "email", "column": "email"}).';
  END IF;
  IF link ? 'source' AND NOT EXISTS (SELECT 1 FROM @extschema@.source s WHERE s.name = link ->> 'source') THEN
    RAISE EXCEPTION 'source "%" does not exist', link ->> 'source' USING ERRCODE = '42704', HINT = 'See SELECT name FROM cdp.source.';
  END IF;
  IF link ? 'attribute' AND NOT EXISTS (SELECT 1 FROM @extschema@.attribute a WHERE a.name = link ->> 'attribute') THEN
    RAISE EXCEPTION 'attribute "%" is not mapped by any source', link ->> 'attribute'
      USING ERRCODE = '42703', HINT = 'See SELECT name FROM cdp.attribute.';
  END IF;
  IF link ? 'region' THEN
    IF link ->> 'attribute' IS DISTINCT FROM 'phone' THEN
      RAISE EXCEPTION '"region" applies to links by the phone attribute only' USING ERRCODE = '22023';
    END IF;
    PERFORM @extschema@._check_region(link -> 'region', format('the link of activity "%s"', name));
  END IF;
  FOREACH k IN ARRAY ARRAY['column', 'visitor', 'key'] LOOP
    IF link ? k AND NOT EXISTS (SELECT 1 FROM pg_attribute at WHERE at.attrelid = relation AND at.attname = link ->> k
                                   AND at.attnum > 0 AND NOT at.attisdropped) THEN
      RAISE EXCEPTION 'column "%" of relation "%" does not exist', link ->> k, relation
        USING ERRCODE = '42703', DETAIL = format('The link''s "%s" names it.', k);
    END IF;
  END LOOP;
  IF NOT link ? 'column' THEN
    RAISE EXCEPTION 'the link of activity "%" names no column', name USING ERRCODE = '22023', HINT = 'Add "column": the column holding the source key or attribute value.';
  END IF;

  -- the row key: given, or the single-column primary key
  keycol := link ->> 'key';
  IF keycol IS NULL THEN
    SELECT a.attname INTO keycol FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
     WHERE i.indrelid = relation AND i.indisprimary AND i.indnatts = 1;
    IF keycol IS NULL THEN
      RAISE EXCEPTION 'activity "%" needs a key column', name
        USING ERRCODE = '22023', DETAIL = format('%s has no single-column primary key.', relation),
              HINT = 'Name the column that identifies a row in the link: {"key": "event_id", ...}.';
    END IF;
  END IF;
  EXECUTE format('SELECT count(*) - count(DISTINCT %1$I), count(*) - count(%1$I) FROM %2$s', keycol, relation) INTO dups, nulls;
  IF nulls > 0 OR dups > 0 THEN
    RAISE EXCEPTION 'key column "%" of activity "%" is not a key', keycol, name
      USING ERRCODE = '23505', DETAIL = format('%s NULL value(s); %s row(s) repeat a key.', nulls, dups),
            HINT = 'Name a column that identifies each row ({"key": ...} in the link).';
  END IF;

  -- the detail columns
  IF columns IS NULL OR jsonb_typeof(columns) <> 'object' THEN
    RAISE EXCEPTION 'columns of activity "%" must be a JSON object', name
      USING ERRCODE = '22023', HINT = 'Write {"amount": "total", "product": {"column": "sku", "type": "text"}}.';
  END IF;
  FOR k, spec IN SELECT key, value FROM jsonb_each(columns) ORDER BY key LOOP
    IF k !~ '^[a-z][a-z0-9_]{0,62}$' OR k IN ('occurred_at', 'customer_id', 'session_id', 'dwell_seconds', 'page_type', 'visitor') THEN
      RAISE EXCEPTION 'invalid or reserved column name "%" in activity "%"', k, name
        USING ERRCODE = '42602', HINT = 'Use lowercase letters, digits and underscores; occurred_at, customer_id, visitor, session_id, dwell_seconds and page_type are set by pg_cdp.';
    END IF;
    col := CASE jsonb_typeof(spec) WHEN 'string' THEN spec #>> '{}' WHEN 'object' THEN spec ->> 'column' END;
    IF col IS NULL THEN
      RAISE EXCEPTION 'column "%" of activity "%" names no source column', k, name
        USING ERRCODE = '22023', HINT = 'Write "amount": "total" or "amount": {"column": "total", "type": "numeric"}.';
    END IF;
    SELECT format_type(at.atttypid, NULL) INTO ctype FROM pg_attribute at
     WHERE at.attrelid = relation AND at.attname = col AND at.attnum > 0 AND NOT at.attisdropped;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'column "%" of relation "%" does not exist', col, relation
        USING ERRCODE = '42703', DETAIL = format('Column "%s" of activity "%s" maps to it.', k, name);
    END IF;
    IF jsonb_typeof(spec) = 'object' AND spec ? 'type' THEN
      ctype := spec ->> 'type';
    END IF;
    ctype := CASE ctype WHEN 'character varying' THEN 'text' WHEN 'character' THEN 'text' WHEN 'real' THEN 'double precision'
                        WHEN 'timestamp without time zone' THEN 'timestamp with time zone' ELSE ctype END;
    IF ctype NOT IN ('text', 'numeric', 'integer', 'bigint', 'smallint', 'double precision', 'boolean', 'date',
                     'timestamp with time zone', 'timestamptz') THEN
      RAISE EXCEPTION 'column "%" of activity "%" has type %, which activities cannot keep', k, name, ctype
        USING ERRCODE = '42804', HINT = 'Use text, numeric, integer, bigint, double precision, boolean, date or timestamptz ("type" in its mapping).';
    END IF;
    cols := cols || jsonb_build_object(k, jsonb_build_object('column', col,
              'type', CASE ctype WHEN 'timestamptz' THEN 'timestamp with time zone' WHEN 'smallint' THEN 'integer' ELSE ctype END));
  END LOOP;

  atype := coalesce(type, CASE WHEN EXISTS (SELECT 1 FROM @extschema@.activity_type x WHERE x.name = add_activity.name)
                               THEN name ELSE 'custom' END);
  IF atype !~ '^[a-z][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION 'invalid activity type "%"', atype USING ERRCODE = '42602';
  END IF;
  IF atype = 'page_view' AND NOT cols ? 'url' THEN
    RAISE EXCEPTION 'a page_view activity needs a "url" column' USING ERRCODE = '22023',
      HINT = 'Add "url": "<column>" to columns; page types, sessions and dwell times are derived from it.';
  END IF;
  INSERT INTO @extschema@.activity_type (name, description) VALUES (atype, 'user-defined') ON CONFLICT DO NOTHING;
  INSERT INTO @extschema@.activity_def (name, relation, occurred_at_column, link, columns, type, key_column)
  VALUES (name, relation, occurred_at_column, link, cols, atype, keycol);
END;
$$;
COMMENT ON FUNCTION @extschema@.add_activity(text, regclass, name, jsonb, jsonb, text) IS
  'Adds an activity: a relation of events, its time column, how a row finds its customer (a source key or an attribute value, optionally stitched by a visitor id) and the detail columns to keep';

CREATE FUNCTION @extschema@.drop_activity(name text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM @extschema@.activity_def d WHERE d.name = drop_activity.name AND d.link ? 'journey') THEN
    RAISE EXCEPTION 'activity "%" belongs to pg_cdp''s journeys and cannot be dropped', name USING ERRCODE = '42501';
  END IF;
  DELETE FROM @extschema@.activity_def d WHERE d.name = drop_activity.name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'activity "%" does not exist', name USING ERRCODE = '42704', HINT = 'See SELECT name FROM cdp.activity_def.';
  END IF;
  DELETE FROM @extschema@.activity a WHERE a.activity = drop_activity.name;
  DELETE FROM @extschema@.unlinked_activity a WHERE a.activity = drop_activity.name;
END;
$$;
COMMENT ON FUNCTION @extschema@.drop_activity(text) IS 'Removes an activity and its rows from cdp.activity';

CREATE FUNCTION @extschema@.add_url_rule(pattern text, page_type text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF pattern IS NULL OR page_type IS NULL OR page_type = '' THEN
    RAISE EXCEPTION 'pattern and page_type must not be NULL or empty' USING ERRCODE = '22004';
  END IF;
  BEGIN
    PERFORM '' ~ pattern;
  EXCEPTION WHEN invalid_regular_expression THEN
    RAISE EXCEPTION 'invalid regular expression "%"', pattern
      USING ERRCODE = '2201B', HINT = 'Patterns are POSIX regular expressions matched against the URL, as in ''/product/''.';
  END;
  INSERT INTO @extschema@.url_rule (position, pattern, page_type)
  VALUES (coalesce((SELECT max(position) FROM @extschema@.url_rule), 0) + 1, pattern, page_type);
END;
$$;
COMMENT ON FUNCTION @extschema@.add_url_rule(text, text) IS
  'Adds a URL rule after the existing ones: page views whose URL matches the regular expression get the page type (the first matching rule wins)';

-- Normalised value of an attribute link, as SQL over expression expr.
CREATE FUNCTION @extschema@._link_value_sql(link jsonb, expr text)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF link ? 'source' THEN
    RETURN format('nullif((%s)::text, '''')', expr);
  END IF;
  RETURN @extschema@._exception_sql(link ->> 'attribute',
           @extschema@._norm_sql(@extschema@._attr_norm(link ->> 'attribute'), expr, link -> 'region'));
END;
$$;
COMMENT ON FUNCTION @extschema@._link_value_sql(jsonb, text) IS 'Internal: SQL for the value an activity row is linked by';

-- Reads, links and stores the rows of one activity; returns its counts.
CREATE FUNCTION @extschema@._refresh_activity(d @extschema@.activity_def)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning SET jit = off
AS $$
#variable_conflict use_column
DECLARE
  detail text;
  n_rows bigint;
  n_linked bigint;
  n_stitched bigint;
  n_unlinked bigint;
  t0 timestamptz := clock_timestamp();
  timeout double precision := @extschema@._setting_seconds('cdp.session_timeout', 1800);
  maxdwell double precision := @extschema@._setting_seconds('cdp.max_dwell', 600);
BEGIN
  SELECT coalesce(string_agg(format('%L, (%I)::%s', key, value ->> 'column', value ->> 'type'), ', ' ORDER BY key), '')
    INTO detail FROM jsonb_each(d.columns);
  DROP TABLE IF EXISTS _cdp_act;
  EXECUTE format(
    'CREATE TEMP TABLE _cdp_act AS SELECT (%1$I)::text AS source_key, (%2$I)::timestamptz AS occurred_at, '
    '  %3$s AS link_value, %4$s AS visitor, jsonb_strip_nulls(jsonb_build_object(%5$s)) AS detail, NULL::bigint AS customer_id, '
    '  NULL::text AS linked_by, NULL::text AS reason FROM %6$s',
    d.key_column, d.occurred_at_column, @extschema@._link_value_sql(d.link, quote_ident(d.link ->> 'column')),
    CASE WHEN d.link ? 'visitor' THEN format('nullif((%I)::text, '''')', d.link ->> 'visitor') ELSE 'NULL::text' END,
    detail, d.relation);
  GET DIAGNOSTICS n_rows = ROW_COUNT;

  -- link: a source key is looked up in customer_source; an attribute value
  -- among the normalised values of the staged records (one customer only)
  IF d.link ? 'source' THEN
    UPDATE _cdp_act a SET customer_id = cs.customer_id, linked_by = 'source'
      FROM @extschema@.customer_source cs
     WHERE cs.source = d.link ->> 'source' AND cs.source_key = a.link_value;
  ELSE
    EXECUTE format(
      'UPDATE pg_temp._cdp_act a SET customer_id = m.customer_id, linked_by = ''attribute'', reason = m.reason '
      '  FROM (SELECT u.%1$I AS v, min(cs.customer_id) AS customer_id, '
      '               CASE WHEN count(DISTINCT cs.customer_id) > 1 THEN ''ambiguous'' END AS reason '
      '          FROM @extschema@.unify_record u JOIN @extschema@.source x ON x.source_id = u.source_id '
      '          JOIN @extschema@.customer_source cs ON cs.source = x.name AND cs.source_key = u.source_key '
      '         WHERE u.%1$I IS NOT NULL GROUP BY u.%1$I) m '
      ' WHERE m.v = a.link_value',
      'n_' || (d.link ->> 'attribute'));
    UPDATE _cdp_act SET customer_id = NULL, linked_by = NULL WHERE reason = 'ambiguous';
  END IF;
  -- stitching: an anonymous visitor belongs to the customer its visits were
  -- linked to (the most often; then the latest; then the smallest id)
  IF d.link ? 'visitor' THEN
    UPDATE _cdp_act a SET customer_id = v.customer_id, linked_by = 'visitor', reason = NULL
      FROM (SELECT DISTINCT ON (visitor) visitor, customer_id
              FROM (SELECT visitor, customer_id, count(*) AS n, max(occurred_at) AS latest
                      FROM _cdp_act WHERE customer_id IS NOT NULL AND visitor IS NOT NULL GROUP BY 1, 2) c
             ORDER BY visitor, n DESC, latest DESC, customer_id) v
     WHERE a.customer_id IS NULL AND a.visitor = v.visitor AND a.reason IS DISTINCT FROM 'ambiguous';
  END IF;
  UPDATE _cdp_act SET reason = CASE WHEN occurred_at IS NULL THEN 'no time'
                                    WHEN link_value IS NULL THEN 'no link value'
                                    ELSE 'no such customer' END
   WHERE (customer_id IS NULL AND reason IS NULL) OR occurred_at IS NULL;
  UPDATE _cdp_act SET customer_id = NULL WHERE occurred_at IS NULL;

  -- page views: sessions (a gap over cdp.session_timeout starts a new one),
  -- dwell time (to the next click, at most cdp.max_dwell; the last page of a
  -- session gets the mean of the others), page type from cdp.url_rule
  IF d.type = 'page_view' THEN
    UPDATE _cdp_act a SET detail = a.detail || jsonb_strip_nulls(jsonb_build_object(
             'session_id', s.session_id, 'dwell_seconds', s.dwell, 'page_type', s.page_type))
      FROM (
        SELECT source_key, session_id,
               coalesce(dwell, round((avg(dwell) OVER (PARTITION BY session_id))::numeric, 1)) AS dwell, page_type
          FROM (
            SELECT source_key, session_id,
                   CASE WHEN next_at IS NOT NULL
                        THEN round(least(extract(epoch FROM next_at - occurred_at), maxdwell)::numeric, 1) END AS dwell,
                   page_type
              FROM (
                SELECT *, lead(occurred_at) OVER (PARTITION BY who, session_id ORDER BY occurred_at, source_key) AS next_at
                  FROM (
                    SELECT *, who || ':' || to_char(first_value(occurred_at) OVER (PARTITION BY who, sess ORDER BY occurred_at, source_key)
                                                    AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS') AS session_id
                      FROM (
                        SELECT *, sum(CASE WHEN prev_at IS NULL OR extract(epoch FROM occurred_at - prev_at) > timeout THEN 1 ELSE 0 END)
                                    OVER (PARTITION BY who ORDER BY occurred_at, source_key) AS sess
                          FROM (
                            SELECT source_key, occurred_at, who,
                                   lag(occurred_at) OVER (PARTITION BY who ORDER BY occurred_at, source_key) AS prev_at,
                                   (SELECT r.page_type FROM @extschema@.url_rule r WHERE (x.detail ->> 'url') ~ r.pattern
                                     ORDER BY r.position LIMIT 1) AS page_type
                              FROM (SELECT *, coalesce(visitor, 'customer ' || customer_id::text) AS who FROM _cdp_act
                                     WHERE occurred_at IS NOT NULL AND (visitor IS NOT NULL OR customer_id IS NOT NULL)) x
                          ) s1
                      ) s2
                  ) s3
              ) s4
          ) s5
      ) s
     WHERE s.source_key = a.source_key;
  END IF;

  -- Only rows that are new, changed or gone are written, so that what reads
  -- the changes of cdp.activity (cdp.measure_pending) sees just those.
  CREATE TEMP TABLE _cdp_act_new AS
  SELECT customer_id, d.name AS activity, d.type AS type, occurred_at, source_key, linked_by,
         CASE WHEN linked_by = 'visitor' THEN NULL ELSE link_value END AS link_value,
         detail || CASE WHEN visitor IS NULL THEN '{}' ELSE jsonb_build_object('visitor', visitor) END AS detail
    FROM _cdp_act WHERE customer_id IS NOT NULL;
  GET DIAGNOSTICS n_linked = ROW_COUNT;
  DELETE FROM @extschema@.activity x
   WHERE x.activity = d.name
     AND NOT EXISTS (SELECT 1 FROM _cdp_act_new n
                      WHERE n.source_key = x.source_key AND n.customer_id = x.customer_id AND n.type = x.type
                        AND n.occurred_at = x.occurred_at AND n.linked_by = x.linked_by
                        AND n.link_value IS NOT DISTINCT FROM x.link_value AND n.detail = x.detail);
  INSERT INTO @extschema@.activity (customer_id, activity, type, occurred_at, source_key, linked_by, link_value, detail)
  SELECT customer_id, activity, type, occurred_at, source_key, linked_by, link_value, detail FROM _cdp_act_new
  ON CONFLICT (activity, source_key) DO NOTHING;
  DROP TABLE _cdp_act_new;
  DELETE FROM @extschema@.unlinked_activity x WHERE x.activity = d.name;
  INSERT INTO @extschema@.unlinked_activity (activity, source_key, occurred_at, reason, link_value)
  SELECT d.name, source_key, occurred_at, reason, link_value FROM _cdp_act WHERE customer_id IS NULL;
  GET DIAGNOSTICS n_unlinked = ROW_COUNT;
  n_stitched := (SELECT count(*) FROM _cdp_act WHERE linked_by = 'visitor');
  DROP TABLE _cdp_act;
  RETURN jsonb_build_object('rows', n_rows, 'linked', n_linked - n_stitched, 'stitched', n_stitched,
                            'unlinked', n_unlinked, 'ms', round(extract(epoch FROM clock_timestamp() - t0) * 1000));
END;
$$;
COMMENT ON FUNCTION @extschema@._refresh_activity(@extschema@.activity_def) IS 'Internal: reads, links and stores the rows of one activity';

CREATE PROCEDURE @extschema@.refresh_activities(activities text[] DEFAULT NULL,
    INOUT refresh_id bigint DEFAULT NULL, INOUT rows bigint DEFAULT NULL, INOUT linked bigint DEFAULT NULL,
    INOUT stitched bigint DEFAULT NULL, INOUT unlinked bigint DEFAULT NULL, INOUT per_activity jsonb DEFAULT NULL,
    INOUT seconds numeric DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
  d @extschema@.activity_def%ROWTYPE;
  t0 timestamptz := clock_timestamp();
  res jsonb;
  a text;
BEGIN
  FOREACH a IN ARRAY coalesce(activities, '{}') LOOP
    IF NOT EXISTS (SELECT 1 FROM @extschema@.activity_def x WHERE x.name = a) THEN
      RAISE EXCEPTION 'activity "%" does not exist', a USING ERRCODE = '42704', HINT = 'See SELECT name FROM cdp.activity_def.';
    END IF;
  END LOOP;
  -- one refresh at a time, and not while unification changes the ids
  PERFORM pg_advisory_xact_lock(1667526773, 2);
  PERFORM pg_advisory_xact_lock(1667526773, 1);
  per_activity := '{}';
  FOR d IN SELECT * FROM @extschema@.activity_def x
            WHERE (activities IS NULL OR x.name = ANY (activities)) AND NOT x.link ? 'journey' ORDER BY x.name LOOP
    -- (journey_email rows are written as they happen, not read from a relation)
    IF NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = d.relation) THEN
      RAISE EXCEPTION 'the relation of activity "%" no longer exists', d.name
        USING ERRCODE = '42P01', HINT = 'Drop the activity with cdp.drop_activity and add it again.';
    END IF;
    res := @extschema@._refresh_activity(d);
    per_activity := per_activity || jsonb_build_object(d.name, res);
  END LOOP;
  SELECT coalesce(sum((v ->> 'rows')::bigint), 0), coalesce(sum((v ->> 'linked')::bigint), 0),
         coalesce(sum((v ->> 'stitched')::bigint), 0), coalesce(sum((v ->> 'unlinked')::bigint), 0)
    INTO rows, linked, stitched, unlinked FROM jsonb_each(per_activity) AS e(k, v);
  INSERT INTO @extschema@.activity_refresh (started_at, finished_at, per_activity, rows, linked, stitched, unlinked)
  VALUES (t0, clock_timestamp(), per_activity, rows, linked, stitched, unlinked)
  RETURNING activity_refresh.refresh_id INTO refresh_id;
  seconds := round(extract(epoch FROM clock_timestamp() - t0)::numeric, 3);
END;
$$;
COMMENT ON PROCEDURE @extschema@.refresh_activities(text[], bigint, bigint, bigint, bigint, bigint, jsonb, numeric) IS
  'Reads every activity (or those named), links each row to its customer (source key, attribute value, or stitched by visitor id), derives sessions, dwell times and page types of page views, and rewrites cdp.activity and cdp.unlinked_activity; returns the counts, kept in cdp.activity_refresh';

-- After unification changed ids: activities follow their records.
CREATE FUNCTION @extschema@._relink_activities(run bigint)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
AS $$
#variable_conflict use_column
DECLARE
  n bigint := 0;
  m bigint;
  d @extschema@.activity_def%ROWTYPE;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM @extschema@.activity) THEN
    RETURN 0;
  END IF;
  CREATE TEMP TABLE _cdp_moved AS
    SELECT DISTINCT old_id FROM @extschema@.customer_id_history h WHERE h.run_id = run AND h.old_id IS NOT NULL;
  FOR d IN SELECT * FROM @extschema@.activity_def ORDER BY name LOOP
    IF d.link ? 'journey' THEN
      -- e-mail events follow the customer their id merged into
      UPDATE @extschema@.activity a SET customer_id = h.new_id
        FROM @extschema@.customer_id_history h
       WHERE a.activity = d.name AND a.customer_id IN (SELECT old_id FROM _cdp_moved)
         AND h.run_id = run AND h.old_id = a.customer_id AND h.reason = 'merged' AND h.new_id IS NOT NULL;
    ELSIF d.link ? 'source' THEN
      UPDATE @extschema@.activity a SET customer_id = cs.customer_id
        FROM @extschema@.customer_source cs
       WHERE a.activity = d.name AND a.linked_by = 'source' AND a.customer_id IN (SELECT old_id FROM _cdp_moved)
         AND cs.source = d.link ->> 'source' AND cs.source_key = a.link_value AND cs.customer_id <> a.customer_id;
    ELSE
      EXECUTE format(
        'UPDATE @extschema@.activity a SET customer_id = m.customer_id '
        '  FROM (SELECT u.%1$I AS v, min(cs.customer_id) AS customer_id FROM @extschema@.unify_record u '
        '          JOIN @extschema@.source x ON x.source_id = u.source_id '
        '          JOIN @extschema@.customer_source cs ON cs.source = x.name AND cs.source_key = u.source_key '
        '         WHERE u.%1$I IN (SELECT link_value FROM @extschema@.activity WHERE activity = %2$L '
        '                            AND customer_id IN (SELECT old_id FROM pg_temp._cdp_moved)) '
        '         GROUP BY u.%1$I HAVING count(DISTINCT cs.customer_id) = 1) m '
        ' WHERE a.activity = %2$L AND a.linked_by = ''attribute'' AND a.link_value = m.v '
        '   AND a.customer_id IN (SELECT old_id FROM pg_temp._cdp_moved) AND a.customer_id <> m.customer_id',
        'n_' || (d.link ->> 'attribute'), d.name);
    END IF;
    GET DIAGNOSTICS m = ROW_COUNT;
    n := n + m;
    -- stitched rows follow the visitor's new customer
    UPDATE @extschema@.activity a SET customer_id = v.customer_id
      FROM (SELECT DISTINCT ON (visitor) visitor, customer_id
              FROM (SELECT detail ->> 'visitor' AS visitor, customer_id, count(*) AS k, max(occurred_at) AS latest
                      FROM @extschema@.activity WHERE activity = d.name AND linked_by <> 'visitor' AND detail ? 'visitor'
                     GROUP BY 1, 2) c
             ORDER BY visitor, k DESC, latest DESC, customer_id) v
     WHERE a.activity = d.name AND a.linked_by = 'visitor' AND a.detail ->> 'visitor' = v.visitor
       AND a.customer_id IN (SELECT old_id FROM _cdp_moved) AND a.customer_id <> v.customer_id;
    GET DIAGNOSTICS m = ROW_COUNT;
    n := n + m;
  END LOOP;
  -- activities whose customer is gone altogether wait, unlinked, for a
  -- customer to appear again
  WITH gone AS (
    DELETE FROM @extschema@.activity a
     WHERE a.customer_id IN (SELECT old_id FROM _cdp_moved)
       AND NOT EXISTS (SELECT 1 FROM @extschema@.customer c WHERE c.customer_id = a.customer_id)
    RETURNING a.activity, a.source_key, a.occurred_at, a.link_value)
  INSERT INTO @extschema@.unlinked_activity (activity, source_key, occurred_at, reason, link_value)
  SELECT activity, source_key, occurred_at, 'no such customer', link_value FROM gone
  ON CONFLICT (activity, source_key) DO NOTHING;
  GET DIAGNOSTICS m = ROW_COUNT;
  n := n + m;
  DROP TABLE _cdp_moved;
  RETURN n;
END;
$$;
COMMENT ON FUNCTION @extschema@._relink_activities(bigint) IS
  'Internal: after a unify run, moves the activities of customers whose ids merged or split to the customer their link now finds';

-- A short human summary of an activity row.
CREATE FUNCTION @extschema@._activity_summary(type text, activity text, detail jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE type
    WHEN 'purchase' THEN concat_ws(' ', 'Bought', coalesce(detail ->> 'product', detail ->> 'category', 'items'),
                                   'for ' || (detail ->> 'amount'), 'at ' || (detail ->> 'store'), 'via ' || (detail ->> 'channel'))
    WHEN 'purchase_line' THEN concat_ws(' ', 'Bought', (detail ->> 'quantity') || ' ×',
                                        coalesce(detail ->> 'product', detail ->> 'category', 'an item'), 'for ' || (detail ->> 'amount'))
    WHEN 'page_view' THEN concat_ws(' ', 'Viewed', detail ->> 'url', '(' || (detail ->> 'page_type') || ')',
                                    'for ' || (detail ->> 'dwell_seconds') || ' s')
    WHEN 'email' THEN concat_ws(' ', 'E-mail', coalesce(detail ->> 'status', detail ->> 'event', 'event'),
                                '"' || (detail ->> 'subject') || '"',
                                '(' || (detail ->> 'journey') || coalesce(', ' || (detail ->> 'step'), '') || ')')
    WHEN 'loyalty' THEN concat_ws(' ', 'Loyalty:', '+' || (detail ->> 'points_earned'), '-' || (detail ->> 'points_redeemed'),
                                  (detail ->> 'points') || ' points')
    WHEN 'chat' THEN concat_ws(' ', 'Chat' || coalesce(' (' || (detail ->> 'topic') || ')', '') || ':',
                               coalesce(left(regexp_replace(coalesce(detail ->> 'message', detail ->> 'text', detail ->> 'transcript'),
                                                            '\s+', ' ', 'g'), 80), '…'))
    WHEN 'store_visit' THEN concat_ws(' ', 'Visited store', detail ->> 'store')
    WHEN 'note' THEN 'Note: ' || coalesce(left(detail ->> 'text', 80), left(detail ->> 'note', 80), '…')
    ELSE concat_ws(' ', activity, left((detail - 'visitor')::text, 80))
  END
$$;
COMMENT ON FUNCTION @extschema@._activity_summary(text, text, jsonb) IS 'Internal: the timeline''s one-line summary of an activity';

CREATE FUNCTION @extschema@.timeline(customer_id bigint, "from" timestamptz DEFAULT NULL, "to" timestamptz DEFAULT NULL,
                                     types text[] DEFAULT NULL)
RETURNS TABLE(occurred_at timestamptz, activity text, type text, summary text, detail jsonb, source_key text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT a.occurred_at, a.activity, a.type, @extschema@._activity_summary(a.type, a.activity, a.detail), a.detail, a.source_key
    FROM @extschema@.activity a
   WHERE a.customer_id = timeline.customer_id
     AND (timeline."from" IS NULL OR a.occurred_at >= timeline."from")
     AND (timeline."to" IS NULL OR a.occurred_at < timeline."to")
     AND (timeline.types IS NULL OR a.type = ANY (timeline.types) OR a.activity = ANY (timeline.types))
   ORDER BY a.occurred_at DESC, a.activity, a.source_key
$$;
COMMENT ON FUNCTION @extschema@.timeline(bigint, timestamptz, timestamptz, text[]) IS
  'One customer''s activities, newest first, with a one-line summary each; from (inclusive) and to (exclusive) bound the time, types keeps the given types or activity names';
