
-- ---------------------------------------------------------------------------
-- measure.sql: measures — numbers that describe customers (or the
-- business) over their activities, written in the expression language
-- (cdp.compile_measure, in C) and computed by CALL cdp.refresh_measures() in
-- one scan of cdp.activity for all of them.
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.measure (
    name        text PRIMARY KEY,
    definition  text NOT NULL,
    options     jsonb NOT NULL DEFAULT '{}',
    level       text NOT NULL CHECK (level IN ('customer', 'business')),
    compiled    jsonb NOT NULL,
    sql_type    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE @extschema@.measure IS 'Measures created with cdp.create_measure: their definition, options and the SQL it compiled to';
COMMENT ON COLUMN @extschema@.measure.name IS 'measure name, also its column in cdp.customer_measure';
COMMENT ON COLUMN @extschema@.measure.definition IS 'the definition as written';
COMMENT ON COLUMN @extschema@.measure.options IS 'options: level, dimensions (business measures), default';
COMMENT ON COLUMN @extschema@.measure.level IS 'customer (one value per customer) or business (one value per dimension values)';
COMMENT ON COLUMN @extschema@.measure.compiled IS 'the compiled form (cdp.compile_measure): SQL, type, activities read, default';
COMMENT ON COLUMN @extschema@.measure.sql_type IS 'SQL type of the value';
COMMENT ON COLUMN @extschema@.measure.created_at IS 'when the measure was created';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.measure', '');
GRANT SELECT ON @extschema@.measure TO PUBLIC;

-- One column per customer measure is added and dropped by refresh_measures.
CREATE TABLE @extschema@.customer_measure (
    customer_id     bigint PRIMARY KEY,
    refreshed_at    timestamptz NOT NULL
);
COMMENT ON TABLE @extschema@.customer_measure IS 'Customer measures: one row per customer, one typed column per measure (CALL cdp.refresh_measures())';
COMMENT ON COLUMN @extschema@.customer_measure.customer_id IS 'the customer (cdp.customer)';
COMMENT ON COLUMN @extschema@.customer_measure.refreshed_at IS 'the reference time (windows end there) of the refresh that last changed the row';

CREATE TABLE @extschema@.business_measure (
    measure         text NOT NULL,
    dimensions      jsonb NOT NULL,
    value           jsonb,
    refreshed_at    timestamptz NOT NULL,
    PRIMARY KEY (measure, dimensions)
);
COMMENT ON TABLE @extschema@.business_measure IS 'Business measures: one row per measure and combination of dimension values (month, channel…)';
COMMENT ON COLUMN @extschema@.business_measure.measure IS 'measure name';
COMMENT ON COLUMN @extschema@.business_measure.dimensions IS 'the dimension values of the row, as {"month": "2026-01-01", "channel": "web"}';
COMMENT ON COLUMN @extschema@.business_measure.value IS 'the value (JSON: a number, a string, an array…)';
COMMENT ON COLUMN @extschema@.business_measure.refreshed_at IS 'reference time of the refresh';

CREATE TABLE @extschema@.measure_refresh (
    refresh_id      bigserial PRIMARY KEY,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    reference_time  timestamptz NOT NULL,
    measures        integer NOT NULL,
    scans           integer NOT NULL,
    customers       bigint NOT NULL,
    changed_rows    bigint NOT NULL,
    ms              jsonb NOT NULL,
    mode            text NOT NULL DEFAULT 'full' CHECK (mode IN ('full', 'incremental')),
    recomputed      bigint,
    why_full        text,
    fingerprint     text
);
COMMENT ON TABLE @extschema@.measure_refresh IS 'One row per CALL cdp.refresh_measures(): how many measures, scans of cdp.activity, customers and changed rows, and where the time went';
COMMENT ON COLUMN @extschema@.measure_refresh.refresh_id IS 'refresh number';
COMMENT ON COLUMN @extschema@.measure_refresh.started_at IS 'start (clock time)';
COMMENT ON COLUMN @extschema@.measure_refresh.finished_at IS 'end (clock time)';
COMMENT ON COLUMN @extschema@.measure_refresh.reference_time IS 'the time windows end at';
COMMENT ON COLUMN @extschema@.measure_refresh.measures IS 'measures computed';
COMMENT ON COLUMN @extschema@.measure_refresh.scans IS 'scans of cdp.activity: for all customer measures one, or in a full refresh with parallel workers one per part of the customers (each row is aggregated in one of them); one per business measure';
COMMENT ON COLUMN @extschema@.measure_refresh.customers IS 'rows of cdp.customer_measure after the refresh';
COMMENT ON COLUMN @extschema@.measure_refresh.changed_rows IS 'rows of cdp.customer_measure written: new customers and customers whose values changed';
COMMENT ON COLUMN @extschema@.measure_refresh.ms IS 'milliseconds per step';
COMMENT ON COLUMN @extschema@.measure_refresh.mode IS 'full (every customer computed) or incremental (only the customers whose values may have changed)';
COMMENT ON COLUMN @extschema@.measure_refresh.recomputed IS 'customers whose customer measures were computed';
COMMENT ON COLUMN @extschema@.measure_refresh.why_full IS 'why a refresh that was not asked to be full was full (null when incremental or asked)';
COMMENT ON COLUMN @extschema@.measure_refresh.fingerprint IS 'MD5 of the customer measures (names, compiled forms, options): an incremental refresh needs the previous one''s';
COMMENT ON SEQUENCE @extschema@.measure_refresh_refresh_id_seq IS 'numbers measure refreshes';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.measure_refresh', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.measure_refresh_refresh_id_seq', '');
GRANT SELECT ON @extschema@.measure_refresh TO PUBLIC;

-- Customers whose activities changed since the last measure refresh: filled
-- by statement triggers on cdp.activity (refresh_activities writes only the
-- rows that changed, re-linking moves rows between customers), emptied by
-- refresh_measures.  Logged, so that a crash loses no change.
CREATE TABLE @extschema@.measure_pending (
    customer_id     bigint PRIMARY KEY
);
COMMENT ON TABLE @extschema@.measure_pending IS 'Customers whose activities changed since the last CALL cdp.refresh_measures() (what an incremental refresh recomputes)';
COMMENT ON COLUMN @extschema@.measure_pending.customer_id IS 'the customer (old and new ids of moved activities)';

CREATE FUNCTION @extschema@._activity_changed()
RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO @extschema@.measure_pending (customer_id)
    SELECT DISTINCT customer_id FROM new_rows ON CONFLICT DO NOTHING;
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    INSERT INTO @extschema@.measure_pending (customer_id)
    SELECT DISTINCT customer_id FROM old_rows ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END;
$$;
COMMENT ON FUNCTION @extschema@._activity_changed() IS 'Internal: statement trigger of cdp.activity recording the customers whose activities changed in cdp.measure_pending';
CREATE TRIGGER activity_inserted AFTER INSERT ON @extschema@.activity
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._activity_changed();
CREATE TRIGGER activity_updated AFTER UPDATE ON @extschema@.activity
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._activity_changed();
CREATE TRIGGER activity_deleted AFTER DELETE ON @extschema@.activity
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._activity_changed();
COMMENT ON TRIGGER activity_inserted ON @extschema@.activity IS 'records the customers of new activities in cdp.measure_pending';
COMMENT ON TRIGGER activity_updated ON @extschema@.activity IS 'records the old and new customers of changed activities in cdp.measure_pending';
COMMENT ON TRIGGER activity_deleted ON @extschema@.activity IS 'records the customers of removed activities in cdp.measure_pending';

-- Customers removed by unification lose their row of cdp.customer_measure
-- at once (segments over measures read that table alone).
CREATE FUNCTION @extschema@._customer_removed_from_measures()
RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  DELETE FROM @extschema@.customer_measure m WHERE m.customer_id IN (SELECT customer_id FROM old_rows);
  RETURN NULL;
END;
$$;
COMMENT ON FUNCTION @extschema@._customer_removed_from_measures() IS 'Internal: deletes the measures of customers removed by unification';
CREATE TRIGGER customer_removed_from_measures AFTER DELETE ON @extschema@.customer
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._customer_removed_from_measures();
COMMENT ON TRIGGER customer_removed_from_measures ON @extschema@.customer IS 'deletes the cdp.customer_measure rows of removed customers';

-- What the measure language may read: every activity with its columns.
CREATE FUNCTION @extschema@.measure_catalog()
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(jsonb_object_agg(d.name, jsonb_build_object('type', d.type, 'columns',
           (SELECT coalesce(jsonb_object_agg(key, value ->> 'type'), '{}') FROM jsonb_each(d.columns))
           || jsonb_build_object('occurred_at', 'timestamp with time zone')
           || CASE WHEN d.link ? 'visitor' THEN '{"visitor": "text"}'::jsonb ELSE '{}'::jsonb END
           || CASE WHEN d.type = 'page_view'
                   THEN '{"session_id": "text", "dwell_seconds": "numeric", "page_type": "text"}'::jsonb ELSE '{}'::jsonb END)),
         '{}')
    FROM @extschema@.activity_def d
$$;
COMMENT ON FUNCTION @extschema@.measure_catalog() IS
  'The activities and their typed columns, as the measure language sees them (the catalog passed to cdp.compile_measure)';

CREATE FUNCTION @extschema@.create_measure(name text, definition text, options jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  k text;
  c jsonb;
  catalog jsonb;
  lvl text;
BEGIN
  IF name IS NULL OR name !~ '^[a-z][a-z0-9_]{0,62}$' OR name IN ('customer_id', 'refreshed_at') THEN
    RAISE EXCEPTION 'invalid measure name "%"', name
      USING ERRCODE = '42602', HINT = 'Use lowercase letters, digits and underscores, starting with a letter; customer_id and refreshed_at are taken.';
  END IF;
  IF EXISTS (SELECT 1 FROM @extschema@.measure m WHERE m.name = create_measure.name) THEN
    RAISE EXCEPTION 'measure "%" already exists', name USING ERRCODE = '42710', HINT = 'Drop it first with cdp.drop_measure.';
  END IF;
  IF definition IS NULL THEN
    RAISE EXCEPTION 'a measure needs a definition' USING ERRCODE = '22004';
  END IF;
  options := coalesce(options, '{}');
  IF jsonb_typeof(options) <> 'object' THEN
    RAISE EXCEPTION 'options must be a JSON object' USING ERRCODE = '22023';
  END IF;
  FOR k IN SELECT jsonb_object_keys(options) LOOP
    IF k NOT IN ('level', 'dimensions', 'default', 'description') THEN
      RAISE EXCEPTION 'unknown measure option "%"', k
        USING ERRCODE = '22023', HINT = 'Options are level ("customer" or "business"), dimensions, default and description.';
    END IF;
  END LOOP;
  lvl := coalesce(options ->> 'level', 'customer');
  IF lvl NOT IN ('customer', 'business') THEN
    RAISE EXCEPTION 'unknown measure level "%"', lvl USING ERRCODE = '22023', HINT = 'Use "customer" or "business".';
  END IF;
  IF options ? 'dimensions' THEN
    IF lvl <> 'business' THEN
      RAISE EXCEPTION 'only business measures have dimensions' USING ERRCODE = '22023',
        HINT = 'Add "level": "business", or leave out "dimensions".';
    END IF;
    IF jsonb_typeof(options -> 'dimensions') <> 'array' OR EXISTS (
         SELECT 1 FROM jsonb_array_elements(options -> 'dimensions') x
          WHERE jsonb_typeof(x) <> 'string' OR x #>> '{}' !~ '^[a-z][a-z0-9_]*$') THEN
      RAISE EXCEPTION 'dimensions must be an array of names' USING ERRCODE = '22023',
        HINT = 'Use time grains (hour, day, week, month, quarter, year), activity, type, or a detail column of the activities read: ["month", "channel"].';
    END IF;
  END IF;
  catalog := @extschema@.measure_catalog();
  c := @extschema@.compile_measure(definition, catalog);
  -- a business dimension other than a time grain must be a column of every activity read
  IF options ? 'dimensions' THEN
    FOR k IN SELECT jsonb_array_elements_text(options -> 'dimensions') LOOP
      IF k NOT IN ('hour', 'day', 'week', 'month', 'quarter', 'year', 'activity', 'type') AND EXISTS (
           SELECT 1 FROM jsonb_array_elements_text(c -> 'activities') a
            WHERE NOT (catalog -> a -> 'columns') ? k) THEN
        RAISE EXCEPTION 'dimension "%" is not a column of every activity the measure reads', k
          USING ERRCODE = '42703', HINT = 'Use a time grain (day, week, month…), activity, type, or a column all of them have.';
      END IF;
    END LOOP;
  END IF;
  INSERT INTO @extschema@.measure (name, definition, options, level, compiled, sql_type)
  VALUES (name, definition, options, lvl, c, c ->> 'sql_type');
END;
$$;
COMMENT ON FUNCTION @extschema@.create_measure(text, text, jsonb) IS
  'Creates a measure from a definition in the expression language (sum(purchase.amount) within 365 days); options: level (customer or business), dimensions (business), default (value for customers without activity)';

CREATE FUNCTION @extschema@.drop_measure(name text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  DELETE FROM @extschema@.measure m WHERE m.name = drop_measure.name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'measure "%" does not exist', name USING ERRCODE = '42704', HINT = 'See SELECT name FROM cdp.measure.';
  END IF;
  DELETE FROM @extschema@.business_measure b WHERE b.measure = drop_measure.name;
END;
$$;
COMMENT ON FUNCTION @extschema@.drop_measure(text) IS 'Removes a measure (its column of cdp.customer_measure goes at the next refresh)';

-- SQL of a dimension over activity rows x.
CREATE FUNCTION @extschema@._dimension_sql(dim text)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE
    WHEN dim IN ('hour', 'day', 'week', 'month', 'quarter', 'year')
      THEN format('to_char(date_trunc(%L, x.occurred_at), ''YYYY-MM-DD HH24:MI'')', dim)
    WHEN dim = 'activity' THEN 'x.activity'
    WHEN dim = 'type' THEN 'x.type'
    ELSE format('(x.detail ->> %L)', dim)
  END
$$;
COMMENT ON FUNCTION @extschema@._dimension_sql(text) IS 'Internal: SQL of a business measure dimension';

-- The rows measures read: cdp.activity (or a relation of the same shape)
-- with every detail column the compiled measures name extracted once per row
-- and typed, as the column "activity.column" (null on rows of other
-- activities).  OFFSET NULL keeps the subquery from being flattened into the
-- aggregates, which would extract a column again for every aggregate reading
-- it; being a constant (unlike OFFSET 0, which is parsed as a cast), it
-- still lets the scan run in parallel workers.
-- customers, when given, names a relation of customer_id that the rows are
-- restricted to (an incremental refresh); condition, when given, is a
-- further condition on the rows x (segments: not older than their windows).
CREATE FUNCTION @extschema@._activity_rows_sql(columns jsonb, activities text[],
                                               relation text DEFAULT '@extschema@.activity',
                                               customers text DEFAULT NULL, condition text DEFAULT NULL)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT format('(SELECT x.customer_id, x.activity, x.type, x.occurred_at, x.detail%s FROM %s x '
                'WHERE x.activity = ANY (%L::text[])%s OFFSET NULL)',
                coalesce(string_agg(format(', CASE WHEN x.activity = %L THEN %s END AS %I',
                                           c.value ->> 'activity',
                                           CASE WHEN c.value ->> 'type' = 'text'
                                                THEN format('x.detail ->> %L', c.value ->> 'column')
                                                ELSE format('(x.detail ->> %L)::%s', c.value ->> 'column', c.value ->> 'type') END,
                                           c.key), '' ORDER BY c.key), ''),
                relation, (SELECT coalesce(array_agg(DISTINCT a ORDER BY a), '{}') FROM unnest(activities) a),
                CASE WHEN customers IS NOT NULL
                     THEN format(' AND x.customer_id IN (SELECT customer_id FROM %s)', customers) ELSE '' END
                || CASE WHEN condition IS NOT NULL THEN format(' AND (%s)', condition) ELSE '' END)
    FROM jsonb_each(coalesce(columns, '{}')) c
$$;
COMMENT ON FUNCTION @extschema@._activity_rows_sql(jsonb, text[], text, text, text) IS
  'Internal: the subquery of the activity rows measures read, with their detail columns extracted once per row';

-- The simple aggregates of the customer measures (count, sum, avg, min,
-- max: "kind" in their compiled "aggregates"), grouped by activity for
-- cdp.fused_measures: per activity its variadic arguments (the values and
-- conditions the slots read, each once), its slots ("kind,value,
-- condition,window", each once) and slot_of, the slot of each aggregate
-- ({"<measure>/<index in aggregates>": slot}).  Measures compiled before
-- the compiler described its aggregates (no "parts") are not fused.
CREATE FUNCTION @extschema@._fused_slots()
RETURNS TABLE (activity text, args text[], slots text[], slot_of jsonb)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r record;
  g jsonb := '{}';
  e jsonb;
  key text;
  pos integer;
  k text;
BEGIN
  FOR r IN SELECT m.name, x.ordinality - 1 AS idx, x.value AS a
             FROM @extschema@.measure m, jsonb_array_elements(m.compiled -> 'aggregates') WITH ORDINALITY x
            WHERE m.level = 'customer' AND m.compiled ? 'parts' AND x.value ->> 'kind' IS NOT NULL
            ORDER BY m.name, x.ordinality LOOP
    e := coalesce(g -> (r.a ->> 'activity'), '{"args": [], "slots": [], "slot_of": {}}');
    -- kind, the positions of its value and condition among the arguments
    -- (0: none; an argument is added the first time it is read), window
    k := r.a ->> 'kind';
    FOREACH key IN ARRAY ARRAY['value', 'condition'] LOOP
      pos := 0;
      IF r.a ->> key IS NOT NULL THEN
        pos := array_position(ARRAY(SELECT jsonb_array_elements_text(e -> 'args')), r.a ->> key);
        IF pos IS NULL THEN
          e := jsonb_set(e, '{args}', (e -> 'args') || to_jsonb(r.a ->> key));
          pos := jsonb_array_length(e -> 'args');
        END IF;
      END IF;
      k := k || ',' || pos;
    END LOOP;
    k := k || ',' || coalesce(r.a ->> 'window', '');
    pos := array_position(ARRAY(SELECT jsonb_array_elements_text(e -> 'slots')), k);
    IF pos IS NULL THEN
      e := jsonb_set(e, '{slots}', (e -> 'slots') || to_jsonb(k));
      pos := jsonb_array_length(e -> 'slots');
    END IF;
    e := jsonb_set(e, '{slot_of}', (e -> 'slot_of') || jsonb_build_object(r.name || '/' || r.idx, pos));
    g := jsonb_set(g, ARRAY[r.a ->> 'activity'], e);
  END LOOP;
  RETURN QUERY
    SELECT x.key, ARRAY(SELECT jsonb_array_elements_text(x.value -> 'args')),
           ARRAY(SELECT jsonb_array_elements_text(x.value -> 'slots')), x.value -> 'slot_of'
      FROM jsonb_each(g) x ORDER BY x.key;
END;
$$;
COMMENT ON FUNCTION @extschema@._fused_slots() IS 'Internal: the simple aggregates of the customer measures grouped by activity, as the arguments and slots of one cdp.fused_measures call per activity and the slot of each aggregate';

-- The query computing every customer measure in one scan of cdp.activity
-- ($1 is the reference time), restricted to the customers of the relation
-- "customers" when given; the measures' wanted column types, the activities
-- they read, the windows relative to the reference time, whether a value
-- depends on the reference time otherwise, and a fingerprint of the whole.
--
-- The rows are read once: each row gets the number k of its activity (in
-- the order of "activities") and every detail column the measures name,
-- extracted once and typed (null on rows of other activities).  The simple
-- aggregates of each activity are one cdp.fused_measures call
-- (_fused_slots), read with cdp.fused_value; the others stay SQL aggregates
-- over the rows with x.k = k.  When reference_time is given, the windows
-- of those are constant bounds (computed here, as $1 - interval would be);
-- else they are written with $1.  When reference_time is given and every
-- aggregate over an activity has a window ("within N days"), the rows of
-- that activity outside the widest window are left out at once (page views
-- read only by measures of the last 90 days: most rows).
--
-- With changed_only, only the customers whose row of cdp.customer_measure
-- is missing or differs are returned (the comparison runs where the values
-- are computed, so that the refresh writes only what changed).
--
-- With parts > 1 the customers are split by abs(customer_id % parts) and
-- the query is one UNION ALL branch per part, each joining its customers to
-- their grouped rows: run as a Parallel Append, each process computes its
-- customers completely and no partial states are combined (the refresh
-- keeps each branch's own scans from going parallel for that).
CREATE FUNCTION @extschema@._customer_measure_sql(customers text DEFAULT NULL, parts integer DEFAULT 1,
    reference_time timestamptz DEFAULT NULL, changed_only boolean DEFAULT false,
    OUT sql text, OUT wanted jsonb, OUT n integer, OUT activities text[], OUT windows text[],
    OUT reference boolean, OUT fingerprint text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  m @extschema@.measure%ROWTYPE;
  f record;
  sel text := '';
  outer_sel text := '';
  acts text[] := '{}';
  cols jsonb := '{}';
  fp text := '';
  calls jsonb := '{}';
  expr text;
  p jsonb;
  a jsonb;
  si integer;
  legacy boolean := false;
  bounds jsonb := '{}';
  cmp_old text := '';
  cmp_new text := '';
  filt text;
  rows_sql text;
  skip text;
  branches text[] := '{}';
BEGIN
  wanted := '{}';
  n := 0;
  windows := '{}';
  reference := false;
  parts := greatest(coalesce(parts, 1), 1);
  FOR m IN SELECT * FROM @extschema@.measure WHERE level = 'customer' ORDER BY name LOOP
    acts := acts || ARRAY(SELECT jsonb_array_elements_text(m.compiled -> 'activities'));
    legacy := legacy OR NOT m.compiled ? 'parts';
    -- the earliest start of the windows of each activity; 'none' when an
    -- aggregate reads it without a window (or is not described)
    IF NOT m.compiled ? 'parts' THEN
      SELECT coalesce(jsonb_object_agg(v, 'none'), '{}') INTO a FROM jsonb_array_elements_text(m.compiled -> 'activities') v;
      bounds := bounds || a;
    ELSE
      FOR a IN SELECT x FROM jsonb_array_elements(m.compiled -> 'aggregates') x LOOP
        IF reference_time IS NULL OR a ->> 'window' IS NULL OR bounds ->> (a ->> 'activity') = 'none' THEN
          bounds := bounds || jsonb_build_object(a ->> 'activity', 'none');
        ELSE
          bounds := bounds || jsonb_build_object(a ->> 'activity',
            least((bounds ->> (a ->> 'activity'))::timestamptz, reference_time - (a ->> 'window')::interval));
        END IF;
      END LOOP;
    END IF;
  END LOOP;
  activities := ARRAY(SELECT DISTINCT v FROM unnest(acts) v ORDER BY v);

  -- one cdp.fused_measures call per activity
  FOR f IN SELECT * FROM @extschema@._fused_slots() LOOP
    calls := calls || jsonb_build_object(f.activity, jsonb_build_object(
      'call', format('@extschema@.fused_measures(%L, $1, x.occurred_at, %s) FILTER (WHERE x.k = %s)',
                     array_to_string(f.slots, ';'),
                     CASE WHEN cardinality(f.args) = 0 THEN 'NULL::boolean' ELSE array_to_string(f.args, ', ') END,
                     array_position(activities, f.activity)),
      'slot_of', f.slot_of));
  END LOOP;

  FOR m IN SELECT * FROM @extschema@.measure WHERE level = 'customer' ORDER BY name LOOP
    IF m.compiled ? 'parts' THEN
      expr := '';
      FOR p IN SELECT x FROM jsonb_array_elements(m.compiled -> 'parts') x LOOP
        IF jsonb_typeof(p) = 'string' THEN
          expr := expr || (p #>> '{}');
          CONTINUE;
        END IF;
        a := m.compiled -> 'aggregates' -> (p::text::integer);
        IF a ->> 'kind' IS NULL THEN
          -- an SQL aggregate over the rows of its activity, its condition and window
          filt := format('x.k = %s', array_position(activities, a ->> 'activity'));
          IF a ->> 'condition' IS NOT NULL THEN
            filt := filt || ' AND ' || (a ->> 'condition');
          END IF;
          IF a ->> 'window' IS NOT NULL THEN
            filt := filt || CASE WHEN reference_time IS NULL
                                 THEN format(' AND x.occurred_at > $1 - interval %L AND x.occurred_at <= $1', a ->> 'window')
                                 ELSE format(' AND x.occurred_at > %L::timestamptz AND x.occurred_at <= %L::timestamptz',
                                             reference_time - (a ->> 'window')::interval, reference_time) END;
          END IF;
          expr := expr || format('%s FILTER (WHERE %s)', a ->> 'call', filt);
          CONTINUE;
        END IF;
        -- the slot _fused_slots gave the aggregate
        si := (calls -> (a ->> 'activity') -> 'slot_of' ->> (m.name || '/' || p::text))::integer;
        IF si IS NULL THEN
          RAISE EXCEPTION 'measure "%": aggregate % has no fused slot', m.name, p;
        END IF;
        expr := expr || format(CASE WHEN a ->> 'kind' = 'count' THEN 'coalesce(%s, 0)' ELSE '%s' END,
                               format('@extschema@.fused_value(%s, %s, NULL::%s)',
                                      calls -> (a ->> 'activity') ->> 'call', si, a ->> 'result'));
      END LOOP;
    ELSE
      expr := m.compiled ->> 'select';
    END IF;
    sel := sel || format(', %s AS %I', expr, m.name);
    expr := format('coalesce(a.%1$I, %2$s)', m.name,
                   coalesce(CASE WHEN m.options ? 'default' THEN
                                   CASE WHEN m.options -> 'default' = 'null' THEN format('NULL::%s', m.sql_type)
                                        ELSE format('%L::%s', m.options ->> 'default', m.sql_type) END END,
                            m.compiled ->> 'default', format('NULL::%s', m.sql_type)));
    outer_sel := outer_sel || format(', %s AS %I', expr, m.name);
    cmp_old := cmp_old || format(', cm.%I', m.name);
    cmp_new := cmp_new || ', ' || expr;
    cols := cols || coalesce(m.compiled -> 'columns', '{}');
    windows := windows || ARRAY(SELECT jsonb_array_elements_text(coalesce(m.compiled -> 'windows', '[]')));
    reference := reference OR coalesce((m.compiled ->> 'reference')::boolean, false);
    wanted := wanted || jsonb_build_object(m.name, m.sql_type);
    fp := fp || format('%s|%s|%s|', m.name, m.compiled, m.options);
    n := n + 1;
  END LOOP;
  windows := ARRAY(SELECT DISTINCT v FROM unnest(windows) v ORDER BY v);
  fingerprint := md5(fp);

  -- the rows: k first (a subquery of its own, so that the columns can test
  -- it, and rows of other activities are left out by k IS NULL, without
  -- comparing their activity again), then the detail columns; OFFSET NULL
  -- keeps each level from being
  -- flattened into the aggregates (which would extract a column again for
  -- every aggregate reading it) and, being a constant, still lets a scan
  -- run in parallel workers
  rows_sql := format(
    '(SELECT x.customer_id, x.k, x.occurred_at%s%s FROM (SELECT x.customer_id, x.occurred_at, x.detail%s, '
    'CASE x.activity%s END AS k FROM @extschema@.activity x WHERE true%s',
    CASE WHEN legacy THEN ', x.activity, x.type, x.detail' ELSE '' END,
    coalesce((SELECT string_agg(format(', CASE WHEN x.k = %s THEN %s END AS %I',
                                       array_position(activities, c.value ->> 'activity'),
                                       CASE WHEN c.value ->> 'type' = 'text'
                                            THEN format('x.detail ->> %L', c.value ->> 'column')
                                            ELSE format('(x.detail ->> %L)::%s', c.value ->> 'column', c.value ->> 'type') END,
                                       c.key), '' ORDER BY c.key)
                FROM jsonb_each(cols) c), ''),
    CASE WHEN legacy THEN ', x.activity, x.type' ELSE '' END,
    coalesce((SELECT string_agg(format(' WHEN %L THEN %s', v, i), '' ORDER BY i)
                FROM unnest(activities) WITH ORDINALITY t(v, i)), ' WHEN NULL THEN 0'),
    CASE WHEN customers IS NOT NULL THEN format(' AND x.customer_id IN (SELECT customer_id FROM %s)', customers) ELSE '' END);
  -- an activity read only through windows: its rows outside all of them
  -- can count for no measure and are left out before sorting
  skip := coalesce((SELECT string_agg(format(' AND (x.k <> %s OR (x.occurred_at > %L::timestamptz AND x.occurred_at <= %L::timestamptz))',
                                             array_position(activities, b.key), b.value #>> '{}', reference_time), '' ORDER BY b.key)
                      FROM jsonb_each(bounds) b WHERE b.value #>> '{}' <> 'none'), '');
  FOR i IN 0 .. parts - 1 LOOP
    branches := branches || format(
      'SELECT c.customer_id, $1::timestamptz AS refreshed_at%s FROM @extschema@.customer c '
      'LEFT JOIN (SELECT x.customer_id%s FROM %s x GROUP BY x.customer_id OFFSET NULL) a ON a.customer_id = c.customer_id%s%s',
      outer_sel, sel,
      rows_sql || CASE WHEN parts > 1 THEN format(' AND abs(x.customer_id %% %s) = %s', parts, i) ELSE '' END
      || ' OFFSET NULL) x WHERE x.k IS NOT NULL' || skip || ' OFFSET NULL)',
      CASE WHEN changed_only THEN ' LEFT JOIN @extschema@.customer_measure cm ON cm.customer_id = c.customer_id'
                                  || CASE WHEN parts > 1 THEN format(' AND abs(cm.customer_id %% %s) = %s', parts, i) ELSE '' END
           ELSE '' END,
      CASE WHEN customers IS NOT NULL THEN format(' WHERE c.customer_id IN (SELECT customer_id FROM %s)', customers) ELSE ' WHERE true' END
      || CASE WHEN parts > 1 THEN format(' AND abs(c.customer_id %% %s) = %s', parts, i) ELSE '' END
      || CASE WHEN changed_only THEN format(' AND (cm.customer_id IS NULL OR (NULL::text%s) IS DISTINCT FROM (NULL::text%s))',
                                             cmp_old, cmp_new) ELSE '' END);
  END LOOP;
  sql := array_to_string(branches, ' UNION ALL ');
END;
$$;
COMMENT ON FUNCTION @extschema@._customer_measure_sql(text, integer, timestamptz, boolean) IS 'Internal: the one query that computes every customer measure (of every customer, or of the customers of a relation; with parts > 1, one branch per part of the customers; windows of SQL aggregates as constants when reference_time is given; with changed_only, only the rows that differ from cdp.customer_measure)';

CREATE FUNCTION @extschema@._explain_measures()
RETURNS SETOF text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET enable_indexscan = off
AS $$
DECLARE
  q record;
BEGIN
  q := @extschema@._customer_measure_sql();
  RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || q.sql USING now();
END;
$$;
COMMENT ON FUNCTION @extschema@._explain_measures() IS 'Internal: the plan of the customer measures'' query (tests)';

CREATE PROCEDURE @extschema@.refresh_measures(reference_time timestamptz DEFAULT NULL, "full" boolean DEFAULT false,
    INOUT refresh_id bigint DEFAULT NULL, INOUT measures integer DEFAULT NULL, INOUT scans integer DEFAULT NULL,
    INOUT customers bigint DEFAULT NULL, INOUT changed_rows bigint DEFAULT NULL, INOUT mode text DEFAULT NULL,
    INOUT recomputed bigint DEFAULT NULL, INOUT seconds numeric DEFAULT NULL)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning SET jit = off
AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
  t1 timestamptz;
  at timestamptz := coalesce(reference_time, now());
  m @extschema@.measure%ROWTYPE;
  prev @extschema@.measure_refresh%ROWTYPE;
  q record;
  wanted jsonb;
  ms jsonb := '{}';
  cols text;
  dims text;
  dimobj text;
  why text;
  old_indexscan text := current_setting('enable_indexscan');
  old_scan_size text := current_setting('min_parallel_table_scan_size');
  old_hashjoin text := current_setting('enable_hashjoin');
  old_nestloop text := current_setting('enable_nestloop');
  parts integer;
BEGIN
  PERFORM pg_advisory_xact_lock(1667526773, 3);
  scans := 0;
  q := @extschema@._customer_measure_sql(NULL, 1, at);
  measures := q.n;
  wanted := q.wanted;

  -- Incremental when the customer measures are those of the last refresh and
  -- the reference time moved only windows: then only customers whose
  -- activities changed (cdp.measure_pending), customers without a row yet,
  -- and customers with an activity crossing the edge of a window between the
  -- two reference times can have new values.
  SELECT * INTO prev FROM @extschema@.measure_refresh r ORDER BY r.refresh_id DESC LIMIT 1;
  why := CASE WHEN "full" THEN NULL
              WHEN prev.refresh_id IS NULL THEN 'first refresh'
              WHEN prev.fingerprint IS DISTINCT FROM q.fingerprint THEN 'customer measures changed'
              WHEN at <> prev.reference_time AND q.reference THEN 'reference time moved and a measure uses days_since'
         END;
  mode := CASE WHEN "full" OR why IS NOT NULL THEN 'full' ELSE 'incremental' END;
  PERFORM @extschema@._sync_columns('@extschema@.customer_measure', wanted, ARRAY['customer_id', 'refreshed_at']);

  t1 := clock_timestamp();
  DROP TABLE IF EXISTS pg_temp._cdp_todo;
  CREATE TEMP TABLE _cdp_todo (customer_id bigint PRIMARY KEY);
  IF mode = 'incremental' THEN
    WITH p AS (DELETE FROM @extschema@.measure_pending RETURNING customer_id)
    INSERT INTO _cdp_todo SELECT DISTINCT customer_id FROM p;
    INSERT INTO _cdp_todo
    SELECT c.customer_id FROM @extschema@.customer c
     WHERE NOT EXISTS (SELECT 1 FROM @extschema@.customer_measure cm WHERE cm.customer_id = c.customer_id)
    ON CONFLICT DO NOTHING;
    IF at <> prev.reference_time AND cardinality(q.windows) > 0 THEN
      -- a row enters or leaves window w when it lies in (lo - w, hi - w];
      -- it enters or leaves the time before the reference in (lo, hi]
      EXECUTE format(
        'INSERT INTO pg_temp._cdp_todo SELECT DISTINCT x.customer_id FROM @extschema@.activity x '
        ' WHERE x.activity = ANY ($3) AND ((x.occurred_at > $1 AND x.occurred_at <= $2)%s) ON CONFLICT DO NOTHING',
        (SELECT string_agg(format(' OR (x.occurred_at > $1 - interval %1$L AND x.occurred_at <= $2 - interval %1$L)', w), '')
           FROM unnest(q.windows) w))
        USING least(at, prev.reference_time), greatest(at, prev.reference_time), q.activities;
    END IF;
    ANALYZE pg_temp._cdp_todo;
    q := @extschema@._customer_measure_sql('pg_temp._cdp_todo', 1, at, true);
    recomputed := (SELECT count(*) FROM pg_temp._cdp_todo);
  ELSE
    DELETE FROM @extschema@.measure_pending;
    -- the whole of cdp.activity is read sequentially, not in customer order
    -- through its index; with parallel workers, as one grouped query per
    -- part of the customers, each run whole by one process (a Parallel
    -- Append: the parts' own scans are kept from going parallel), so that
    -- no partial states need combining
    PERFORM set_config('enable_indexscan', 'off', true);
    parts := greatest(least(current_setting('max_parallel_workers_per_gather')::integer, 8), 1);
    q := @extschema@._customer_measure_sql(NULL, parts, at, true);
    IF parts > 1 THEN
      PERFORM set_config('min_parallel_table_scan_size', '715827882', true);
    END IF;
    -- the grouped rows come out in customer order: merge them with the
    -- customers and their current rows (hashing half a million wide rows,
    -- or probing the current row of each customer, costs more)
    PERFORM set_config('enable_hashjoin', 'off', true);
    PERFORM set_config('enable_nestloop', 'off', true);
  END IF;
  ms := ms || jsonb_build_object('changes', round(extract(epoch FROM clock_timestamp() - t1) * 1000));

  t1 := clock_timestamp();
  DROP TABLE IF EXISTS pg_temp._cdp_measure;
  EXECUTE 'CREATE TEMP TABLE _cdp_measure AS ' || q.sql USING at;
  PERFORM set_config('enable_indexscan', old_indexscan, true);
  PERFORM set_config('min_parallel_table_scan_size', old_scan_size, true);
  PERFORM set_config('enable_hashjoin', old_hashjoin, true);
  PERFORM set_config('enable_nestloop', old_nestloop, true);
  IF mode = 'full' THEN
    recomputed := (SELECT count(*) FROM @extschema@.customer);
  END IF;
  IF measures > 0 THEN
    scans := scans + coalesce(parts, 1);
  END IF;
  ms := ms || jsonb_build_object('customer measures', round(extract(epoch FROM clock_timestamp() - t1) * 1000));
  -- _cdp_measure holds the new and the changed rows only
  t1 := clock_timestamp();
  SELECT coalesce(string_agg(format('%I', key), ', ' ORDER BY key), '') INTO cols FROM jsonb_object_keys(wanted) key;
  EXECUTE format(
    'INSERT INTO @extschema@.customer_measure AS cm (customer_id, refreshed_at%1$s) '
    'SELECT customer_id, refreshed_at%1$s FROM pg_temp._cdp_measure '
    'ON CONFLICT (customer_id) DO UPDATE SET refreshed_at = excluded.refreshed_at%2$s '
    'WHERE (NULL::text%3$s) IS DISTINCT FROM (NULL::text%4$s)',
    CASE WHEN cols = '' THEN '' ELSE ', ' || cols END,
    coalesce((SELECT string_agg(format(', %1$I = excluded.%1$I', key), '' ORDER BY key) FROM jsonb_object_keys(wanted) key), ''),
    coalesce((SELECT string_agg(format(', cm.%I', key), '' ORDER BY key) FROM jsonb_object_keys(wanted) key), ''),
    coalesce((SELECT string_agg(format(', excluded.%I', key), '' ORDER BY key) FROM jsonb_object_keys(wanted) key), ''));
  GET DIAGNOSTICS changed_rows = ROW_COUNT;
  -- every customer has a row now; rows of customers that no longer exist
  -- (the trigger on cdp.customer removes them; this is the safety net) are
  -- looked for only when there are more rows than customers
  customers := (SELECT count(*) FROM @extschema@.customer_measure);
  IF customers > (SELECT count(*) FROM @extschema@.customer) THEN
    DELETE FROM @extschema@.customer_measure cm
     WHERE NOT EXISTS (SELECT 1 FROM @extschema@.customer c WHERE c.customer_id = cm.customer_id);
    customers := (SELECT count(*) FROM @extschema@.customer_measure);
  END IF;
  DROP TABLE pg_temp._cdp_measure;
  DROP TABLE pg_temp._cdp_todo;
  ms := ms || jsonb_build_object('write', round(extract(epoch FROM clock_timestamp() - t1) * 1000));

  -- business measures: one grouped scan each
  t1 := clock_timestamp();
  DELETE FROM @extschema@.business_measure b WHERE NOT EXISTS (SELECT 1 FROM @extschema@.measure x WHERE x.name = b.measure AND x.level = 'business');
  FOR m IN SELECT * FROM @extschema@.measure WHERE level = 'business' ORDER BY name LOOP
    SELECT coalesce(string_agg(@extschema@._dimension_sql(d), ', ' ORDER BY o), ''),
           coalesce(string_agg(format('%L, %s', d, @extschema@._dimension_sql(d)), ', ' ORDER BY o), '')
      INTO dims, dimobj
      FROM jsonb_array_elements_text(coalesce(m.options -> 'dimensions', '[]')) WITH ORDINALITY AS t(d, o);
    DELETE FROM @extschema@.business_measure b WHERE b.measure = m.name;
    EXECUTE format(
      'INSERT INTO @extschema@.business_measure (measure, dimensions, value, refreshed_at) '
      'SELECT %1$L, jsonb_build_object(%2$s), to_jsonb(%3$s), $1 FROM %4$s x%5$s',
      m.name, dimobj, m.compiled ->> 'select',
      @extschema@._activity_rows_sql(m.compiled -> 'columns', ARRAY(SELECT jsonb_array_elements_text(m.compiled -> 'activities'))),
      CASE WHEN dims = '' THEN '' ELSE ' GROUP BY ' || dims END) USING at;
    scans := scans + 1;
    measures := measures + 1;
  END LOOP;
  ms := ms || jsonb_build_object('business measures', round(extract(epoch FROM clock_timestamp() - t1) * 1000));
  INSERT INTO @extschema@.measure_refresh (started_at, finished_at, reference_time, measures, scans, customers, changed_rows, ms,
                                           mode, recomputed, why_full, fingerprint)
  VALUES (t0, clock_timestamp(), at, measures, scans, customers, changed_rows, ms, mode, recomputed, why, q.fingerprint)
  RETURNING measure_refresh.refresh_id INTO refresh_id;
  seconds := round(extract(epoch FROM clock_timestamp() - t0)::numeric, 3);
END;
$$;
COMMENT ON PROCEDURE @extschema@.refresh_measures(timestamptz, boolean, bigint, integer, integer, bigint, bigint, text, bigint, numeric) IS
  'Computes the customer measures (windows end at reference_time, default now()) into cdp.customer_measure: incrementally, for the customers whose values may have changed since the last refresh, when the measures are the same and no days_since measure meets a new reference time, else (or with full => true) for every customer in one scan of cdp.activity; and each business measure into cdp.business_measure; returns what it did, kept in cdp.measure_refresh';
