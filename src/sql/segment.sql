
-- ---------------------------------------------------------------------------
-- segment.sql: segments — groups of customers described in the expression
-- language (cdp.compile_segment, in C) over unified attributes, measures,
-- activities and other segments; their members with the time they entered
-- and left, refreshed by cdp.refresh_segment(s).
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.compile_segment(definition text, catalog jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'cdp_compile_segment'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.compile_segment(text, jsonb) IS
  'Compiles a segment definition against a catalog {"attributes", "measures", "activities", "segments"} into {"predicate", "aggregates", "segments", ...}';

-- The next anniversary of d on or after "at": the same month and day, in the
-- year of "at" or the next; 29 February falls on 28 February in other years
-- (date + interval 'n years' does that).  One expression, and not STRICT
-- (NULL in gives NULL out all the same), so that the planner inlines it into
-- the segment query instead of calling a SQL function per customer.
CREATE FUNCTION @extschema@.next_anniversary(d date, at date)
RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN (d + make_interval(years => extract(year FROM at)::int - extract(year FROM d)::int))::date >= at
              THEN (d + make_interval(years => extract(year FROM at)::int - extract(year FROM d)::int))::date
              ELSE (d + make_interval(years => extract(year FROM at)::int - extract(year FROM d)::int + 1))::date END
$$;
COMMENT ON FUNCTION @extschema@.next_anniversary(date, date) IS
  'The next anniversary of a date (birthday…) on or after a day; 29 February falls on 28 February in other years';

CREATE TABLE @extschema@.segment (
    name          text PRIMARY KEY,
    definition    text NOT NULL,
    options       jsonb NOT NULL DEFAULT '{}',
    kind          text NOT NULL DEFAULT 'dynamic' CHECK (kind IN ('dynamic', 'static')),
    schedule      interval,
    compiled      jsonb NOT NULL,
    uses          text[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    refreshed_at  timestamptz,
    members       bigint
);
COMMENT ON TABLE @extschema@.segment IS 'Segments created with cdp.create_segment: definition, options, compiled form, the segments they use, and their last refresh';
COMMENT ON COLUMN @extschema@.segment.name IS 'segment name, also the name of its view cdp_segment.<name>';
COMMENT ON COLUMN @extschema@.segment.definition IS 'the definition as written';
COMMENT ON COLUMN @extschema@.segment.options IS 'options: kind, schedule, description';
COMMENT ON COLUMN @extschema@.segment.kind IS 'dynamic (members follow every refresh) or static (a snapshot taken once, at creation)';
COMMENT ON COLUMN @extschema@.segment.schedule IS 'how often cdp.refresh_segments(due_only => true) refreshes it (null: only when asked)';
COMMENT ON COLUMN @extschema@.segment.compiled IS 'the compiled form (cdp.compile_segment)';
COMMENT ON COLUMN @extschema@.segment.uses IS 'segments its definition refers to (refreshed before it; cannot be dropped while it exists)';
COMMENT ON COLUMN @extschema@.segment.created_at IS 'when the segment was created';
COMMENT ON COLUMN @extschema@.segment.refreshed_at IS 'reference time of the last refresh';
COMMENT ON COLUMN @extschema@.segment.members IS 'members after the last refresh';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.segment', '');
GRANT SELECT ON @extschema@.segment TO PUBLIC;

CREATE TABLE @extschema@.segment_member (
    segment      text NOT NULL,
    customer_id  bigint NOT NULL,
    entered_at   timestamptz NOT NULL,
    exited_at    timestamptz,
    PRIMARY KEY (segment, customer_id, entered_at),
    CHECK (exited_at IS NULL OR exited_at >= entered_at)
);
CREATE UNIQUE INDEX segment_member_current ON @extschema@.segment_member (segment, customer_id) WHERE exited_at IS NULL;
COMMENT ON INDEX @extschema@.segment_member_current IS 'one open membership per segment and customer';
COMMENT ON TABLE @extschema@.segment_member IS 'Segment membership with history: one row per stay of a customer in a segment (exited_at null while it lasts)';
COMMENT ON COLUMN @extschema@.segment_member.segment IS 'segment name';
COMMENT ON COLUMN @extschema@.segment_member.customer_id IS 'the customer (cdp.customer)';
COMMENT ON COLUMN @extschema@.segment_member.entered_at IS 'reference time of the refresh that found the customer in the segment';
COMMENT ON COLUMN @extschema@.segment_member.exited_at IS 'reference time of the refresh that found the customer out of it (null: still a member)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.segment_member', '');
GRANT SELECT ON @extschema@.segment_member TO PUBLIC;

CREATE TABLE @extschema@.segment_refresh (
    refresh_id      bigserial PRIMARY KEY,
    segment         text NOT NULL,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    reference_time  timestamptz NOT NULL,
    entered         bigint NOT NULL,
    exited          bigint NOT NULL,
    members         bigint NOT NULL,
    ms              jsonb NOT NULL
);
COMMENT ON TABLE @extschema@.segment_refresh IS 'One row per segment refresh: customers who entered and left, members after it, milliseconds per step';
COMMENT ON COLUMN @extschema@.segment_refresh.refresh_id IS 'refresh number';
COMMENT ON COLUMN @extschema@.segment_refresh.segment IS 'segment name';
COMMENT ON COLUMN @extschema@.segment_refresh.started_at IS 'start (clock time)';
COMMENT ON COLUMN @extschema@.segment_refresh.finished_at IS 'end (clock time)';
COMMENT ON COLUMN @extschema@.segment_refresh.reference_time IS 'the time windows and now() stand for';
COMMENT ON COLUMN @extschema@.segment_refresh.entered IS 'customers who entered';
COMMENT ON COLUMN @extschema@.segment_refresh.exited IS 'customers who left';
COMMENT ON COLUMN @extschema@.segment_refresh.members IS 'members after the refresh';
COMMENT ON COLUMN @extschema@.segment_refresh.ms IS 'milliseconds per step (evaluate, write)';
COMMENT ON SEQUENCE @extschema@.segment_refresh_refresh_id_seq IS 'numbers segment refreshes';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.segment_refresh', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.segment_refresh_refresh_id_seq', '');
GRANT SELECT ON @extschema@.segment_refresh TO PUBLIC;

-- One plain view per segment (its current members) for BI tools.
CREATE SCHEMA cdp_segment;
COMMENT ON SCHEMA cdp_segment IS 'pg_cdp: one view per segment, cdp_segment.<name>, listing its current members';
GRANT USAGE ON SCHEMA cdp_segment TO PUBLIC;

-- What a segment definition can name: unified attributes (columns of
-- cdp.customer of a type the language knows, or arrays), customer measures
-- that have their column, activities with their columns, segments.
CREATE FUNCTION @extschema@.segment_catalog()
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT jsonb_build_object(
    'attributes', (SELECT coalesce(jsonb_object_agg(a.attname, format_type(a.atttypid, NULL)), '{}')
                     FROM pg_attribute a
                    WHERE a.attrelid = '@extschema@.customer'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                      AND (format_type(a.atttypid, NULL) IN ('smallint', 'integer', 'bigint', 'numeric', 'real',
                             'double precision', 'text', 'boolean', 'timestamp with time zone',
                             'timestamp without time zone', 'date', 'character varying')
                           OR a.atttypid = 'text[]'::regtype)),
    'measures', (SELECT coalesce(jsonb_object_agg(m.name, m.sql_type), '{}')
                   FROM @extschema@.measure m
                   JOIN pg_attribute a ON a.attrelid = '@extschema@.customer_measure'::regclass
                                      AND a.attname = m.name AND NOT a.attisdropped
                  WHERE m.level = 'customer'),
    'activities', @extschema@.measure_catalog(),
    'segments', (SELECT coalesce(jsonb_object_agg(s.name, s.kind), '{}') FROM @extschema@.segment s))
$$;
COMMENT ON FUNCTION @extschema@.segment_catalog() IS
  'What segment definitions can name: unified attributes, customer measures (once refreshed), activities and their columns, segments';

-- The query listing the customer_id of every member of a compiled segment
-- ($1 is the reference time).  Aggregates over activities are computed in
-- one grouped scan of the activity rows they read: only rows that some
-- aggregate's condition accepts, and, when each has a "within" window, none
-- older than the longest window.  When the definition reads only activities
-- and is not true for a customer without any (count(...) >= 3, but not
-- "not exists(...)"), members are found among the grouped customers alone,
-- without reading cdp.customer (every customer_id of cdp.activity is a
-- customer: unification re-links or unlinks the activities of ids it ends).
CREATE FUNCTION @extschema@._segment_sql(compiled jsonb)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  aggs text := '';
  since text;
  filters text;
  grouped text;
  empty_member boolean := true;
  measure_join text := CASE WHEN (compiled ->> 'measures')::boolean
                            THEN ' LEFT JOIN @extschema@.customer_measure m ON m.customer_id = c.customer_id' ELSE '' END;
BEGIN
  IF compiled ->> 'set_query' IS NOT NULL THEN
    -- segments only: a set operation over their current members
    RETURN compiled ->> 'set_query';
  END IF;
  IF NOT coalesce((compiled ->> 'attributes')::boolean, true) AND jsonb_array_length(compiled -> 'segments') = 0 THEN
    -- the definition reads only measures and activities: is a customer
    -- without a row of cdp.customer_measure (NULL measures) and without
    -- activity a member?
    IF compiled ->> 'default' IS NULL THEN
      empty_member := false;
    ELSE
      EXECUTE format('SELECT coalesce((%s)::boolean, false)', compiled ->> 'default') INTO empty_member USING now();
    END IF;
  END IF;
  IF jsonb_array_length(compiled -> 'aggregates') = 0 THEN
    IF NOT empty_member THEN
      -- measures only, and such a customer is not a member: the rows of
      -- cdp.customer_measure suffice (rows of removed customers are deleted
      -- with them)
      RETURN format('SELECT m.customer_id FROM @extschema@.customer_measure m WHERE %s', compiled ->> 'predicate');
    END IF;
    RETURN format('SELECT c.customer_id FROM @extschema@.customer c%s WHERE %s', measure_join, compiled ->> 'predicate');
  END IF;
  SELECT string_agg(format(', %s AS agg_%s', a, i), '' ORDER BY i) INTO aggs
    FROM jsonb_array_elements_text(compiled -> 'aggregates') WITH ORDINALITY AS t(a, i);
  SELECT string_agg(format('(%s)', f), ' OR ' ORDER BY i) INTO filters
    FROM jsonb_array_elements_text(compiled -> 'filters') WITH ORDINALITY AS t(f, i);
  IF (compiled ->> 'all_windowed')::boolean THEN
    SELECT format('x.occurred_at > $1::timestamptz - greatest(%s)',
                  string_agg(format('interval %L', w), ', ' ORDER BY w))
      INTO since FROM jsonb_array_elements_text(compiled -> 'windows') w;
  END IF;
  grouped := format('SELECT x.customer_id%s FROM %s x%s GROUP BY x.customer_id',
    aggs,
    @extschema@._activity_rows_sql(compiled -> 'columns',
      ARRAY(SELECT jsonb_array_elements_text(compiled -> 'activities')),
      '@extschema@.activity', NULL, since),
    CASE WHEN filters IS NOT NULL THEN ' WHERE ' || filters ELSE '' END);
  IF NOT empty_member AND NOT (compiled ->> 'measures')::boolean THEN
    -- activities only, and a customer without activity is not a member
    RETURN format('SELECT a.customer_id FROM (%s) a WHERE %s', grouped, compiled ->> 'predicate');
  END IF;
  RETURN format('SELECT c.customer_id FROM @extschema@.customer c%s LEFT JOIN (%s) a ON a.customer_id = c.customer_id WHERE %s',
    measure_join, grouped, compiled ->> 'predicate');
END;
$$;
COMMENT ON FUNCTION @extschema@._segment_sql(jsonb) IS 'Internal: the query of the members of a compiled segment';

-- Compile a definition against the current catalog.
CREATE FUNCTION @extschema@._compile_segment(definition text)
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT @extschema@.compile_segment(definition, @extschema@.segment_catalog()) $$;
COMMENT ON FUNCTION @extschema@._compile_segment(text) IS 'Internal: a definition compiled against cdp.segment_catalog()';

CREATE FUNCTION @extschema@.segment_sql(definition text)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT @extschema@._segment_sql(@extschema@._compile_segment(definition)) $$;
COMMENT ON FUNCTION @extschema@.segment_sql(text) IS
  'The SQL a segment definition compiles to: the customer_id of its members; $1 is the reference time (timestamptz)';

CREATE FUNCTION @extschema@.estimate_segment(definition text, reference_time timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (%s) s', @extschema@.segment_sql(definition))
    INTO n USING coalesce(reference_time, now());
  RETURN n;
END;
$$;
COMMENT ON FUNCTION @extschema@.estimate_segment(text, timestamptz) IS
  'How many customers a segment definition selects now (or at reference_time), without saving anything';

-- Check options; returns them with "kind" filled in.
CREATE FUNCTION @extschema@._segment_options(options jsonb)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  k text;
BEGIN
  options := coalesce(options, '{}');
  IF jsonb_typeof(options) <> 'object' THEN
    RAISE EXCEPTION 'segment options must be a JSON object' USING ERRCODE = '22023';
  END IF;
  FOR k IN SELECT jsonb_object_keys(options) LOOP
    IF k NOT IN ('kind', 'schedule', 'description') THEN
      RAISE EXCEPTION 'unknown segment option "%"', k
        USING ERRCODE = '22023', HINT = 'Options are kind (dynamic or static), schedule (an interval such as ''1 hour'') and description.';
    END IF;
  END LOOP;
  IF NOT coalesce(options ->> 'kind', 'dynamic') IN ('dynamic', 'static') THEN
    RAISE EXCEPTION 'invalid segment kind "%"', options ->> 'kind'
      USING ERRCODE = '22023', HINT = 'A segment is dynamic (the default) or static (a snapshot taken at creation).';
  END IF;
  IF options ? 'schedule' THEN
    BEGIN
      IF (options ->> 'schedule')::interval <= interval '0' THEN
        RAISE EXCEPTION 'not positive';
      END IF;
    EXCEPTION WHEN OTHERS THEN
      RAISE EXCEPTION 'invalid schedule "%"', options ->> 'schedule'
        USING ERRCODE = '22023', HINT = 'A schedule is a positive interval such as ''15 minutes'' or ''1 day''.';
    END;
  END IF;
  RETURN options || jsonb_build_object('kind', coalesce(options ->> 'kind', 'dynamic'));
END;
$$;
COMMENT ON FUNCTION @extschema@._segment_options(jsonb) IS 'Internal: checks segment options';

-- Refuse a definition that would make segments refer to each other in a
-- cycle (name using "uses").
CREATE FUNCTION @extschema@._segment_check_cycle(name text, uses text[])
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  path text;
BEGIN
  WITH RECURSIVE r(seg, path) AS (
    SELECT u, ARRAY[name, u] FROM unnest(uses) u
    UNION ALL
    SELECT d, r.path || d FROM r JOIN @extschema@.segment s ON s.name = r.seg, unnest(s.uses) d
     WHERE NOT d = ANY (r.path[2:]) AND r.seg <> name
  )
  SELECT array_to_string(r.path, ' -> ') INTO path FROM r WHERE r.seg = name LIMIT 1;
  IF path IS NOT NULL THEN
    RAISE EXCEPTION 'segment "%" would refer to itself: %', name, path
      USING ERRCODE = '42P17', HINT = 'A segment can use other segments, but not one that uses it.';
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@._segment_check_cycle(text, text[]) IS 'Internal: refuses segment references that form a cycle';

CREATE FUNCTION @extschema@.create_segment(name text, definition text, options jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  c jsonb;
BEGIN
  IF name IS NULL OR name !~ '^[a-z][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION 'invalid segment name "%"', name
      USING ERRCODE = '42602', HINT = 'Use lowercase letters, digits and underscores, starting with a letter (it names the view cdp_segment.<name>).';
  END IF;
  IF EXISTS (SELECT 1 FROM @extschema@.segment s WHERE s.name = name) THEN
    RAISE EXCEPTION 'segment "%" already exists', name USING ERRCODE = '42710', HINT = 'Change it with cdp.alter_segment or drop it with cdp.drop_segment.';
  END IF;
  IF definition IS NULL THEN
    RAISE EXCEPTION 'a segment needs a definition' USING ERRCODE = '22004';
  END IF;
  options := @extschema@._segment_options(options);
  c := @extschema@._compile_segment(definition);
  INSERT INTO @extschema@.segment (name, definition, options, kind, schedule, compiled, uses)
  VALUES (name, definition, options, options ->> 'kind', (options ->> 'schedule')::interval, c,
          ARRAY(SELECT jsonb_array_elements_text(c -> 'segments')));
  EXECUTE format('CREATE VIEW cdp_segment.%I AS SELECT customer_id, entered_at FROM @extschema@.segment_member '
                 'WHERE segment = %L AND exited_at IS NULL', name, name);
  EXECUTE format('COMMENT ON VIEW cdp_segment.%I IS %L', name,
                 format('Current members of segment %s: %s', name, coalesce(options ->> 'description', definition)));
  IF options ->> 'kind' = 'static' THEN
    PERFORM @extschema@.refresh_segment(name);
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@.create_segment(text, text, jsonb) IS
  'Creates a segment from a definition in the expression language (options: kind dynamic|static, schedule, description) and its view cdp_segment.<name>; a static segment takes its snapshot at once';

CREATE FUNCTION @extschema@.alter_segment(name text, definition text DEFAULT NULL, options jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  s @extschema@.segment%ROWTYPE;
  c jsonb;
  uses text[];
BEGIN
  SELECT * INTO s FROM @extschema@.segment x WHERE x.name = name FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'segment "%" does not exist', name USING ERRCODE = '42704';
  END IF;
  options := @extschema@._segment_options(coalesce(options, s.options));
  IF options ->> 'kind' <> s.kind THEN
    RAISE EXCEPTION 'a segment cannot change kind' USING ERRCODE = '22023',
      HINT = 'Drop the segment and create it again with the other kind.';
  END IF;
  definition := coalesce(definition, s.definition);
  c := @extschema@._compile_segment(definition);
  uses := ARRAY(SELECT jsonb_array_elements_text(c -> 'segments'));
  PERFORM @extschema@._segment_check_cycle(name, uses);
  UPDATE @extschema@.segment x SET definition = definition, options = options,
         schedule = (options ->> 'schedule')::interval, compiled = c, uses = uses
   WHERE x.name = name;
  EXECUTE format('COMMENT ON VIEW cdp_segment.%I IS %L', name,
                 format('Current members of segment %s: %s', name, coalesce(options ->> 'description', definition)));
END;
$$;
COMMENT ON FUNCTION @extschema@.alter_segment(text, text, jsonb) IS
  'Changes the definition or options of a segment (members follow at its next refresh); refuses cycles between segments';

CREATE FUNCTION @extschema@.drop_segment(name text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  users text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM @extschema@.segment x WHERE x.name = name) THEN
    RAISE EXCEPTION 'segment "%" does not exist', name USING ERRCODE = '42704';
  END IF;
  SELECT string_agg(x.name, ', ' ORDER BY x.name) INTO users FROM @extschema@.segment x WHERE name = ANY (x.uses);
  IF users IS NOT NULL THEN
    RAISE EXCEPTION 'segment "%" is used by segment %', name, users
      USING ERRCODE = '2BP01', HINT = 'Change or drop the segments that use it first.';
  END IF;
  users := @extschema@._segment_journeys(name);
  IF users IS NOT NULL THEN
    RAISE EXCEPTION 'segment "%" is used by journey %', name, users
      USING ERRCODE = '2BP01', HINT = 'Stop those journeys (cdp.stop_journey) or give them another segment first.';
  END IF;
  EXECUTE format('DROP VIEW IF EXISTS cdp_segment.%I', name);
  DELETE FROM @extschema@.segment_member m WHERE m.segment = name;
  DELETE FROM @extschema@.segment x WHERE x.name = name;
END;
$$;
COMMENT ON FUNCTION @extschema@.drop_segment(text) IS
  'Drops a segment, its members and its view; refused while another segment uses it';

CREATE FUNCTION @extschema@.refresh_segment(name text, reference_time timestamptz DEFAULT NULL,
    OUT entered bigint, OUT exited bigint, OUT members bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning SET jit = off
AS $$
#variable_conflict use_variable
DECLARE
  s @extschema@.segment%ROWTYPE;
  at timestamptz := coalesce(reference_time, now());
  t0 timestamptz := clock_timestamp();
  t1 timestamptz;
  ms jsonb := '{}';
BEGIN
  SELECT * INTO s FROM @extschema@.segment x WHERE x.name = name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'segment "%" does not exist', name USING ERRCODE = '42704';
  END IF;
  -- one refresh of a segment at a time; readers are never blocked
  PERFORM pg_advisory_xact_lock(1667526774, hashtext(name));
  IF s.kind = 'static' AND s.refreshed_at IS NOT NULL THEN
    entered := 0;
    exited := 0;
    members := s.members;
    RETURN;
  END IF;
  DROP TABLE IF EXISTS pg_temp._cdp_segment;
  EXECUTE 'CREATE TEMP TABLE _cdp_segment AS ' || @extschema@._segment_sql(s.compiled) USING at;
  ms := ms || jsonb_build_object('evaluate', round(extract(epoch FROM clock_timestamp() - t0) * 1000));
  t1 := clock_timestamp();
  -- The changes, from one full join of the current members with the new
  -- ones: a full join is a hash or merge join whatever the statistics say
  -- (a segment just refreshed for the first time has none), so this costs
  -- one pass over both sets; the writes then touch only the changes.
  DROP TABLE IF EXISTS pg_temp._cdp_segment_change;
  CREATE TEMP TABLE _cdp_segment_change AS
  SELECT coalesce(n.customer_id, o.customer_id) AS customer_id, n.customer_id IS NOT NULL AS entered
    FROM (SELECT m.customer_id FROM @extschema@.segment_member m
           WHERE m.segment = name AND m.exited_at IS NULL) o
    FULL JOIN pg_temp._cdp_segment n ON n.customer_id = o.customer_id
   WHERE o.customer_id IS NULL OR n.customer_id IS NULL;
  ANALYZE pg_temp._cdp_segment_change;
  UPDATE @extschema@.segment_member m SET exited_at = greatest(at, m.entered_at)
    FROM pg_temp._cdp_segment_change d
   WHERE NOT d.entered AND m.segment = name AND m.customer_id = d.customer_id AND m.exited_at IS NULL;
  GET DIAGNOSTICS exited = ROW_COUNT;
  INSERT INTO @extschema@.segment_member AS m (segment, customer_id, entered_at)
  SELECT name, d.customer_id, at FROM pg_temp._cdp_segment_change d WHERE d.entered
  ON CONFLICT (segment, customer_id, entered_at) DO UPDATE SET exited_at = NULL;
  GET DIAGNOSTICS entered = ROW_COUNT;
  members := (SELECT count(*) FROM pg_temp._cdp_segment);
  DROP TABLE pg_temp._cdp_segment;
  DROP TABLE pg_temp._cdp_segment_change;
  ms := ms || jsonb_build_object('write', round(extract(epoch FROM clock_timestamp() - t1) * 1000));
  UPDATE @extschema@.segment x SET refreshed_at = at, members = refresh_segment.members WHERE x.name = name;
  INSERT INTO @extschema@.segment_refresh (segment, started_at, finished_at, reference_time, entered, exited, members, ms)
  VALUES (name, t0, clock_timestamp(), at, entered, exited, members, ms);
END;
$$;
COMMENT ON FUNCTION @extschema@.refresh_segment(text, timestamptz) IS
  'Evaluates a segment now (or at reference_time) and records who entered and who left in cdp.segment_member; a static segment keeps its snapshot';

CREATE FUNCTION @extschema@.refresh_segments(reference_time timestamptz DEFAULT NULL, due_only boolean DEFAULT false)
RETURNS TABLE (segment text, entered bigint, exited bigint, members bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  s record;
  r record;
  at timestamptz := coalesce(reference_time, now());
BEGIN
  -- segments after the segments they use (depth in the graph of uses)
  FOR s IN
    WITH RECURSIVE d(name, depth) AS (
      SELECT x.name, 0 FROM @extschema@.segment x
      UNION ALL
      SELECT x.name, d.depth + 1 FROM d JOIN @extschema@.segment x ON d.name = ANY (x.uses) WHERE d.depth < 1000
    )
    SELECT d.name, max(d.depth) AS depth FROM d GROUP BY d.name ORDER BY max(d.depth), d.name
  LOOP
    IF due_only AND NOT EXISTS (
         SELECT 1 FROM @extschema@.segment x
          WHERE x.name = s.name AND x.schedule IS NOT NULL
            AND (x.refreshed_at IS NULL OR x.refreshed_at + x.schedule <= at)) THEN
      CONTINUE;
    END IF;
    r := @extschema@.refresh_segment(s.name, at);
    segment := s.name;
    entered := r.entered;
    exited := r.exited;
    members := r.members;
    RETURN NEXT;
  END LOOP;
END;
$$;
COMMENT ON FUNCTION @extschema@.refresh_segments(timestamptz, boolean) IS
  'Refreshes every segment (or, with due_only, those whose schedule is due), each after the segments it uses';

CREATE FUNCTION @extschema@.segment_members(name text)
RETURNS TABLE (customer_id bigint, entered_at timestamptz)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
  IF NOT EXISTS (SELECT 1 FROM @extschema@.segment x WHERE x.name = name) THEN
    RAISE EXCEPTION 'segment "%" does not exist', name USING ERRCODE = '42704';
  END IF;
  RETURN QUERY SELECT m.customer_id, m.entered_at FROM @extschema@.segment_member m
                WHERE m.segment = name AND m.exited_at IS NULL ORDER BY m.customer_id;
END;
$$;
COMMENT ON FUNCTION @extschema@.segment_members(text) IS 'The current members of a segment, with the time they entered';

CREATE FUNCTION @extschema@.segment_overlap(names text[])
RETURNS TABLE (segments text[], customers bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n integer := cardinality(names);
  missing text;
BEGIN
  IF n IS NULL OR n = 0 OR n > 10 THEN
    RAISE EXCEPTION 'segment_overlap takes 1 to 10 segment names' USING ERRCODE = '22023';
  END IF;
  IF (SELECT count(DISTINCT v) FROM unnest(names) v) <> n THEN
    RAISE EXCEPTION 'a segment is named twice' USING ERRCODE = '22023';
  END IF;
  SELECT string_agg(v, ', ') INTO missing FROM unnest(names) v
   WHERE NOT EXISTS (SELECT 1 FROM @extschema@.segment x WHERE x.name = v);
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'segment % does not exist', missing USING ERRCODE = '42704';
  END IF;
  -- each customer's memberships as a bit mask, counted per mask; a
  -- combination's size is the number of customers whose mask has its bits
  RETURN QUERY
  WITH masks AS (
    SELECT cm.mask, count(*) AS k FROM (
      SELECT m.customer_id, bit_or(1 << (array_position(names, m.segment) - 1)) AS mask
        FROM @extschema@.segment_member m
       WHERE m.segment = ANY (names) AND m.exited_at IS NULL
       GROUP BY m.customer_id) cm
     GROUP BY cm.mask)
  SELECT ARRAY(SELECT names[i] FROM generate_series(1, n) i WHERE (combo & (1 << (i - 1))) <> 0 ORDER BY i),
         coalesce((SELECT sum(k) FROM masks WHERE (masks.mask & combo) = combo), 0)::bigint
    FROM generate_series(1, (1 << n) - 1) combo
   ORDER BY bit_count(combo::bit(10)), combo;
END;
$$;
COMMENT ON FUNCTION @extschema@.segment_overlap(text[]) IS
  'Sizes of every intersection of up to 10 segments (current members): one row per combination';

-- Customers removed by unification (merged into another id, or without
-- records) leave their segments at once, so that cdp.segment_member only
-- holds open memberships of existing customers.
CREATE FUNCTION @extschema@._customer_removed_from_segments()
RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  UPDATE @extschema@.segment_member m SET exited_at = greatest(now(), m.entered_at)
   WHERE m.exited_at IS NULL AND m.customer_id IN (SELECT customer_id FROM old_rows);
  RETURN NULL;
END;
$$;
COMMENT ON FUNCTION @extschema@._customer_removed_from_segments() IS 'Internal: closes the segment memberships of customers removed by unification';
CREATE TRIGGER customer_removed_from_segments AFTER DELETE ON @extschema@.customer
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._customer_removed_from_segments();
COMMENT ON TRIGGER customer_removed_from_segments ON @extschema@.customer IS 'closes the segment memberships of removed customers (exited_at = the time of the unification)';
