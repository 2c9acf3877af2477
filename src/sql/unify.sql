
-- ---------------------------------------------------------------------------
-- unify.sql: the unification engine.  Set-based SQL generated from the
-- catalog does the staging, blocking and scoring; union-find in C
-- (cdp.cluster_edges) does the clustering; the merge-policy aggregates build
-- cdp.customer.  Everything of one run happens in the caller's transaction:
-- readers see the previous result until it commits, and a failed or
-- cancelled run leaves it untouched.
-- ---------------------------------------------------------------------------

-- Name attributes exchanged when first and last names were entered the
-- wrong way round.
CREATE FUNCTION @extschema@._swap_name(attr text, swapped boolean)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN NOT swapped THEN attr
              WHEN attr = 'first_name' THEN 'last_name'
              WHEN attr = 'last_name' THEN 'first_name'
              ELSE attr END
$$;
COMMENT ON FUNCTION @extschema@._swap_name(text, boolean) IS 'Internal: first_name <-> last_name when swapped';

-- SQL expression normalising the value expression expr as norm says.
CREATE FUNCTION @extschema@._norm_sql(norm jsonb, expr text, region jsonb DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF jsonb_typeof(norm) = 'array' THEN
    RETURN format('@extschema@.normalize_text((%s)::text, %L::text[])', expr,
                  (SELECT array_agg(x) FROM jsonb_array_elements_text(norm) x)::text);
  END IF;
  RETURN CASE norm #>> '{}'
    WHEN 'name'    THEN format('@extschema@.normalize_name((%s)::text)', expr)
    WHEN 'email'   THEN format('@extschema@.normalize_email((%s)::text)', expr)
    WHEN 'phone'   THEN CASE WHEN jsonb_typeof(region) = 'array' AND jsonb_array_length(region) > 1
                             -- several regions: the first under which the number is valid
                             THEN format('coalesce(%s)', (SELECT string_agg(format('@extschema@.normalize_phone((%s)::text, %L)', expr, r), ', ' ORDER BY o)
                                                          FROM jsonb_array_elements_text(region) WITH ORDINALITY AS t(r, o)))
                             ELSE format('@extschema@.normalize_phone((%s)::text, %L)', expr,
                                         coalesce(CASE jsonb_typeof(region) WHEN 'array' THEN region ->> 0 ELSE region #>> '{}' END,
                                                  nullif(current_setting('cdp.default_region', true), ''), 'US')) END
    WHEN 'address' THEN format('@extschema@.normalize_address((%s)::text)', expr)
    WHEN 'org'     THEN format('@extschema@.normalize_org((%s)::text)', expr)
    WHEN 'postal'  THEN format('replace(@extschema@.normalize_text((%s)::text, ''{whitespace,symbols,lowercase,unicode}''), '' '', '''')', expr)
    WHEN 'id'      THEN format('regexp_replace(lower(@extschema@.normalize_text((%s)::text, ''{unicode}'')), ''[^a-z0-9]+'', '''', ''g'')', expr)
    WHEN 'date'    THEN format('to_char((%s)::date, ''YYYY-MM-DD'')', expr)
    WHEN 'text'    THEN format('@extschema@.normalize_text((%s)::text)', expr)
    ELSE format('(%s)::text', expr)
  END;
END;
$$;
COMMENT ON FUNCTION @extschema@._norm_sql(jsonb, text, jsonb) IS 'Internal: SQL expression that normalises a value';

-- SQL expression: x, or NULL when x is a match exception of the attribute.
CREATE FUNCTION @extschema@._exception_sql(attr text, x text)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  vals text[];
  test text := '';
  p text;
BEGIN
  SELECT array_agg(value ORDER BY value) INTO vals FROM @extschema@.match_exception
   WHERE (attribute IS NULL OR attribute = attr) AND NOT is_pattern;
  IF vals IS NOT NULL THEN
    test := format('%s = ANY (%L::text[])', x, vals);
  END IF;
  FOR p IN SELECT value FROM @extschema@.match_exception
            WHERE (attribute IS NULL OR attribute = attr) AND is_pattern ORDER BY value LOOP
    test := test || CASE WHEN test = '' THEN '' ELSE ' OR ' END || format('%s ~ %L', x, p);
  END LOOP;
  IF test = '' THEN
    RETURN format('nullif(%s, '''')', x);
  END IF;
  RETURN format('CASE WHEN %s THEN NULL ELSE nullif(%s, '''') END', test, x);
END;
$$;
COMMENT ON FUNCTION @extschema@._exception_sql(text, text) IS 'Internal: SQL expression that turns match exceptions (and empty strings) into NULL';

-- The default normalisation of an attribute.
CREATE FUNCTION @extschema@._attr_norm(attr text)
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT to_jsonb(coalesce(t.normalize, CASE WHEN a.sql_type = 'text' THEN 'text' ELSE 'none' END))
    FROM @extschema@.attribute a LEFT JOIN @extschema@.attribute_type t ON t.name = a.semantic_type
   WHERE a.name = attr
$$;
COMMENT ON FUNCTION @extschema@._attr_norm(text) IS 'Internal: default normalisation of a unified attribute';

-- Columns of cdp.unify_record for the current configuration, as
-- (column, type) in a fixed order.
CREATE FUNCTION @extschema@._record_columns()
RETURNS TABLE(col text, typ text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT c, t FROM (
    SELECT 'v_' || name AS c, sql_type AS t, name, 1 AS k FROM @extschema@.attribute
    UNION ALL
    SELECT 'n_' || name, 'text', name, 2 FROM @extschema@.attribute
    UNION ALL
    SELECT 'm_' || name, 'text', name, 3 FROM @extschema@.attribute
     WHERE name IN ('first_name', 'last_name', 'full_name')
    UNION ALL
    SELECT 't_' || attribute, 'timestamptz', attribute, 4 FROM @extschema@.merge_policy
     WHERE options ? 'column' AND attribute IN (SELECT name FROM @extschema@.attribute)
  ) x ORDER BY k, name
$$;
COMMENT ON FUNCTION @extschema@._record_columns() IS 'Internal: the per-attribute columns cdp.unify_record needs';

-- Makes the columns of a table match the wanted list (adds, drops, retypes);
-- fixed columns (not starting with one of prefixes) are left alone.
CREATE FUNCTION @extschema@._sync_columns(tbl regclass, wanted jsonb, fixed text[], c_collate boolean DEFAULT false)
RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r record;
  changed boolean := false;
BEGIN
  FOR r IN SELECT a.attname::text AS col, format_type(a.atttypid, a.atttypmod) AS typ
             FROM pg_attribute a
            WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped
              AND a.attname <> ALL (fixed)
              AND (NOT wanted ? a.attname OR wanted ->> a.attname::text <> format_type(a.atttypid, a.atttypmod))
            ORDER BY a.attnum LOOP
    EXECUTE format('ALTER TABLE %s DROP COLUMN %I', tbl, r.col);
    changed := true;
  END LOOP;
  FOR r IN SELECT key AS col, value #>> '{}' AS typ FROM jsonb_each(wanted)
            WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = tbl AND a.attname = key
                                 AND a.attnum > 0 AND NOT a.attisdropped)
            ORDER BY key LOOP
    -- internal text keys compare bytewise: faster sorts and hashes
    EXECUTE format('ALTER TABLE %s ADD COLUMN %I %s%s', tbl, r.col, r.typ,
                   CASE WHEN c_collate AND r.typ = 'text' THEN ' COLLATE "C"' ELSE '' END);
    EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', tbl, r.col,
                   CASE WHEN tbl::text LIKE '%customer_measure' THEN format('measure %s (see cdp.measure)', r.col)
                        WHEN r.col ~ '^v_' THEN format('value of attribute %s', substr(r.col, 3))
                        WHEN r.col ~ '^n_' THEN format('normalised value of attribute %s, as compared', substr(r.col, 3))
                        WHEN r.col ~ '^m_' THEN format('phonetic key (Double Metaphone) of attribute %s, for blocking', substr(r.col, 3))
                        WHEN r.col ~ '^t_' THEN format('time that ranks attribute %s for its merge policy', substr(r.col, 3))
                        ELSE format('unified attribute %s (see cdp.attribute and cdp.merge_policy)', r.col) END);
    changed := true;
  END LOOP;
  RETURN changed;
END;
$$;
COMMENT ON FUNCTION @extschema@._sync_columns(regclass, jsonb, text[], boolean) IS 'Internal: adds, drops and retypes the dynamic columns of a result table';

-- The SELECT that reads one source as staged records (all the columns of
-- cdp.unify_record but rid).  keys_only: only source_id, source_key, row_hash.
CREATE FUNCTION @extschema@._stage_sql(src @extschema@.source, keys_only boolean DEFAULT false, only_keys text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  a record;
  l1 text := '';
  l2 text := '';
  l3 text := '';
  hashcols text := '';
  filled text := '';
  spec jsonb;
  has_full boolean;
  has_first boolean;
  has_last boolean;
  attrs text[];
  pcol text;
  n text;
BEGIN
  SELECT array_agg(name ORDER BY name) INTO attrs FROM @extschema@.attribute;
  has_full := src.attributes ? 'full_name';
  has_first := src.attributes ? 'first_name';
  has_last := src.attributes ? 'last_name';
  hashcols := format('%I', src.key_column);
  FOR a IN SELECT key AS attr, value AS spec FROM jsonb_each(src.attributes) ORDER BY key LOOP
    hashcols := hashcols || format(', %I', a.spec ->> 'column');
    filled := filled || CASE WHEN filled = '' THEN '' ELSE ', ' END || format('%I', a.spec ->> 'column');
  END LOOP;
  IF src.updated_at_column IS NOT NULL THEN
    hashcols := hashcols || format(', %I', src.updated_at_column);
  END IF;
  -- most_recent / least_recent on a column of their own
  FOR a IN SELECT attribute, options ->> 'column' AS c FROM @extschema@.merge_policy
            WHERE options ? 'column' AND attribute = ANY (attrs) ORDER BY attribute LOOP
    IF EXISTS (SELECT 1 FROM pg_attribute at WHERE at.attrelid = src.relation AND at.attname = a.c
                 AND at.attnum > 0 AND NOT at.attisdropped) THEN
      hashcols := hashcols || format(', %I', a.c);
    END IF;
  END LOOP;
  IF keys_only THEN
    RETURN format('SELECT %s AS source_id, (%I)::text AS source_key, hash_record_extended(ROW(%s), 0)::text AS row_hash FROM %s',
                  src.source_id, src.key_column, hashcols, src.relation);
  END IF;

  FOREACH n IN ARRAY attrs LOOP
    spec := src.attributes -> n;
    IF spec IS NULL THEN
      l1 := l1 || format(', NULL::%s AS %I, NULL::text AS %I', (SELECT sql_type FROM @extschema@.attribute WHERE name = n), 'v_' || n, 'n0_' || n);
    ELSE
      l1 := l1 || format(', (%I)::%s AS %I, %s AS %I', spec ->> 'column', spec ->> 'sql_type', 'v_' || n,
                         @extschema@._norm_sql(@extschema@._attr_norm(n), format('%I', spec ->> 'column'), spec -> 'region'),
                         'n0_' || n);
    END IF;
    l2 := l2 || format(', %I, %s AS %I', 'v_' || n, @extschema@._exception_sql(n, quote_ident('n0_' || n)), 'n1_' || n);
    -- derived names: a full name gives first and last names and vice versa
    IF n = 'first_name' AND NOT has_first AND has_full THEN
      l3 := l3 || ', v_first_name, CASE WHEN n1_full_name LIKE ''% %'' THEN split_part(n1_full_name, '' '', 1) END AS n_first_name';
    ELSIF n = 'last_name' AND NOT has_last AND has_full THEN
      l3 := l3 || ', v_last_name, CASE WHEN n1_full_name LIKE ''% %'' THEN substring(n1_full_name from ''([^ ]+)$'') END AS n_last_name';
    ELSIF n = 'full_name' AND NOT has_full AND (has_first OR has_last) THEN
      l3 := l3 || ', v_full_name, nullif(concat_ws('' '', n1_first_name, n1_last_name), '''') AS n_full_name';
    ELSE
      l3 := l3 || format(', %I, %I AS %I', 'v_' || n, 'n1_' || n, 'n_' || n);
    END IF;
  END LOOP;
  -- phonetic keys of the names, over the final normalised names
  pcol := '';
  FOREACH n IN ARRAY attrs LOOP
    pcol := pcol || format(', %I', 'v_' || n) || format(', %I', 'n_' || n);
    IF n IN ('first_name', 'last_name') THEN
      pcol := pcol || format(', nullif((@extschema@.double_metaphone(%I))[1], '''') AS %I', 'n_' || n, 'm_' || n);
    ELSIF n = 'full_name' THEN
      pcol := pcol || format(', nullif((@extschema@.double_metaphone(substring(%I from ''([^ ]+)$'')))[1], '''') AS %I', 'n_' || n, 'm_' || n);
    END IF;
  END LOOP;
  FOR a IN SELECT attribute, options ->> 'column' AS c FROM @extschema@.merge_policy
            WHERE options ? 'column' AND attribute = ANY (attrs) ORDER BY attribute LOOP
    IF EXISTS (SELECT 1 FROM pg_attribute at WHERE at.attrelid = src.relation AND at.attname = a.c
                 AND at.attnum > 0 AND NOT at.attisdropped) THEN
      l1 := l1 || format(', (%I)::timestamptz AS %I', a.c, 't_' || a.attribute);
    ELSE
      l1 := l1 || format(', %s AS %I', CASE WHEN src.updated_at_column IS NULL THEN 'NULL::timestamptz'
                                            ELSE format('(%I)::timestamptz', src.updated_at_column) END,
                         't_' || a.attribute);
    END IF;
    l2 := l2 || format(', %I', 't_' || a.attribute);
    l3 := l3 || format(', %I', 't_' || a.attribute);
    pcol := pcol || format(', %I', 't_' || a.attribute);
  END LOOP;

  RETURN format(
    'SELECT source_id, source_key, row_hash, priority, filled, updated_at%5$s FROM ('
    'SELECT source_id, source_key, row_hash, priority, filled, updated_at%4$s FROM ('
    'SELECT source_id, source_key, row_hash, priority, filled, updated_at%3$s FROM ('
    'SELECT %1$s AS source_id, (%6$I)::text AS source_key, hash_record_extended(ROW(%7$s), 0)::text AS row_hash, '
    '%8$s AS priority, num_nonnulls(%9$s) AS filled, %10$s AS updated_at%2$s FROM %11$s%12$s'
    ' OFFSET 0) q1 OFFSET 0) q2) q3',
    src.source_id, l1, l2, l3, pcol, src.key_column, hashcols, src.priority, filled,
    CASE WHEN src.updated_at_column IS NULL THEN 'NULL::timestamptz' ELSE format('(%I)::timestamptz', src.updated_at_column) END,
    src.relation,
    -- only_keys: a query of the keys to read, pushed down to the source
    CASE WHEN only_keys IS NULL THEN '' ELSE format(' WHERE (%I)::text IN (%s)', src.key_column, only_keys) END);
END;
$$;
COMMENT ON FUNCTION @extschema@._stage_sql(@extschema@.source, boolean, text) IS 'Internal: the SELECT that reads a source as normalised records';

-- The value a condition compares for one side of a pair (alias side), with
-- the first and last names exchanged when swapped.
CREATE FUNCTION @extschema@._cond_value_sql(cond jsonb, side text, swapped boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  attr text := @extschema@._swap_name(cond ->> 'attribute', swapped);
BEGIN
  IF (cond -> 'normalize') = @extschema@._attr_norm(cond ->> 'attribute') THEN
    RETURN format('%s.%I', side, 'n_' || attr);
  END IF;
  RETURN @extschema@._exception_sql(cond ->> 'attribute',
           @extschema@._norm_sql(cond -> 'normalize', format('%s.%I', side, 'v_' || attr)));
END;
$$;
COMMENT ON FUNCTION @extschema@._cond_value_sql(jsonb, text, boolean) IS 'Internal: SQL for the normalised value a condition compares';

-- SQL for the similarity score of a condition between two values (NULL when
-- either is NULL).
CREATE FUNCTION @extschema@._score_sql(cond jsonb, x text, y text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  s text;
BEGIN
  s := CASE cond ->> 'method'
    WHEN 'exact'        THEN format('CASE WHEN %1$s = %2$s THEN 1.0::float8 WHEN %1$s <> %2$s THEN 0.0::float8 END', x, y)
    WHEN 'edit'         THEN format('@extschema@.edit_similarity(%s, %s)', x, y)
    WHEN 'jaro_winkler' THEN format('@extschema@.jaro_winkler(%s, %s)', x, y)
    WHEN 'token'        THEN format('@extschema@.token_similarity(%s, %s)', x, y)
    WHEN 'name'         THEN format('@extschema@.name_similarity(%s, %s)', x, y)
    WHEN 'phonetic'     THEN format('CASE WHEN %1$s IS NULL OR %2$s IS NULL THEN NULL '
                                    'WHEN (@extschema@.double_metaphone(%1$s))[1] <> '''' AND @extschema@.double_metaphone(%1$s) && @extschema@.double_metaphone(%2$s) THEN 1.0::float8 ELSE 0.0::float8 END', x, y)
  END;
  IF (cond ->> 'nicknames')::boolean AND cond ->> 'method' <> 'name' THEN
    s := format('CASE WHEN @extschema@.names_equivalent(%s, %s) THEN 1.0::float8 ELSE %s END', x, y, s);
  END IF;
  -- equal normalised values score 1 under every method: skip the call
  IF cond ->> 'method' NOT IN ('exact', 'phonetic') THEN
    s := format('CASE WHEN %s = %s THEN 1.0::float8 ELSE %s END', x, y, s);
  END IF;
  RETURN s;
END;
$$;
COMMENT ON FUNCTION @extschema@._score_sql(jsonb, text, text) IS 'Internal: SQL for the score of a match condition';

-- SQL that is true when a condition holds between records a and b.
CREATE FUNCTION @extschema@._cond_sql(cond jsonb, swap_a boolean, swap_b boolean)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  x text := @extschema@._cond_value_sql(cond, 'a', swap_a);
  y text := @extschema@._cond_value_sql(cond, 'b', swap_b);
BEGIN
  IF cond ->> 'method' = 'exact' AND NOT (cond ->> 'nicknames')::boolean THEN
    RETURN format('%s = %s', x, y);
  END IF;
  RETURN format('%s >= %s', @extschema@._score_sql(cond, x, y), cond ->> 'threshold');
END;
$$;
COMMENT ON FUNCTION @extschema@._cond_sql(jsonb, boolean, boolean) IS 'Internal: SQL test of a match condition between records a and b';

-- Whether the rule compares both first and last names (and so also accepts
-- them the wrong way round).
CREATE FUNCTION @extschema@._rule_swaps(conditions jsonb)
RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT count(DISTINCT c ->> 'attribute') = 2
    FROM jsonb_array_elements(conditions) c WHERE c ->> 'attribute' IN ('first_name', 'last_name')
$$;
COMMENT ON FUNCTION @extschema@._rule_swaps(jsonb) IS 'Internal: true when a rule has conditions on both first_name and last_name';

-- SQL test of a whole rule between records a and b: all conditions hold,
-- with the names as entered or the wrong way round on either side.
CREATE FUNCTION @extschema@._rule_sql(conditions jsonb)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  direct text;
  sw_b text;
  sw_a text;
BEGIN
  SELECT string_agg(@extschema@._cond_sql(c, false, false), ' AND ' ORDER BY o),
         string_agg(@extschema@._cond_sql(c, false, true), ' AND ' ORDER BY o),
         string_agg(@extschema@._cond_sql(c, true, false), ' AND ' ORDER BY o)
    INTO direct, sw_b, sw_a
    FROM jsonb_array_elements(conditions) WITH ORDINALITY AS t(c, o);
  IF @extschema@._rule_swaps(conditions) THEN
    RETURN format('((%s) OR (%s) OR (%s))', direct, sw_b, sw_a);
  END IF;
  RETURN format('(%s)', direct);
END;
$$;
COMMENT ON FUNCTION @extschema@._rule_sql(jsonb) IS 'Internal: SQL test of a match rule between records a and b';

-- Blocking key expression of a condition for one side: the normalised value
-- for exact conditions, a coarser key for fuzzy ones (the phonetic code of a
-- name, the year of a date, the last four digits of a phone, the first three
-- characters otherwise).  NULL when the condition gives no key.
CREATE FUNCTION @extschema@._block_key_sql(cond jsonb, side text, swapped boolean)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  attr text := cond ->> 'attribute';
  v text := @extschema@._cond_value_sql(cond, side, swapped);
BEGIN
  IF cond ->> 'method' = 'exact' AND NOT (cond ->> 'nicknames')::boolean THEN
    RETURN v;
  END IF;
  IF attr IN ('first_name', 'last_name', 'full_name') AND (cond -> 'normalize') = @extschema@._attr_norm(attr) THEN
    RETURN format('%s.%I', side, 'm_' || @extschema@._swap_name(attr, swapped));
  END IF;
  RETURN CASE cond #>> '{normalize}'
    WHEN 'date' THEN format('left(%s, 4)', v)
    WHEN 'phone' THEN format('right(%s, 4)', v)
    ELSE format('left(%s, 3)', v) END;
END;
$$;
COMMENT ON FUNCTION @extschema@._block_key_sql(jsonb, text, boolean) IS 'Internal: SQL for the blocking key a condition gives';

-- The blocking passes of a rule: each pass is a list of conditions whose keys
-- must be equal.  Exact conditions join on their values; when they leave too
-- many candidates (refine) or there are none, fuzzy name conditions add one
-- pass each; a rule with only fuzzy conditions joins on all their keys.
CREATE FUNCTION @extschema@._rule_passes(conditions jsonb, refine boolean)
RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  exact jsonb;
  fuzzy jsonb;
  c jsonb;
  n int := 0;
BEGIN
  SELECT coalesce(jsonb_agg(x ORDER BY o) FILTER (WHERE x ->> 'method' = 'exact' AND NOT (x ->> 'nicknames')::boolean), '[]'),
         coalesce(jsonb_agg(x ORDER BY o) FILTER (WHERE NOT (x ->> 'method' = 'exact' AND NOT (x ->> 'nicknames')::boolean)), '[]')
    INTO exact, fuzzy
    FROM jsonb_array_elements(conditions) WITH ORDINALITY AS t(x, o);
  IF jsonb_array_length(exact) > 0 AND NOT refine THEN
    RETURN NEXT exact;
    RETURN;
  END IF;
  IF jsonb_array_length(exact) = 0 THEN
    RETURN NEXT fuzzy;
    RETURN;
  END IF;
  FOR c IN SELECT x FROM jsonb_array_elements(fuzzy) x LOOP
    IF c ->> 'attribute' IN ('first_name', 'last_name', 'full_name') THEN
      RETURN NEXT exact || jsonb_build_array(c);
      n := n + 1;
    END IF;
  END LOOP;
  IF n = 0 THEN
    RETURN NEXT exact;
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@._rule_passes(jsonb, boolean) IS 'Internal: the blocking passes of a rule';

-- Join condition of a pass between a and b (b's names exchanged when swapped).
CREATE FUNCTION @extschema@._pass_join_sql(pass jsonb, swapped boolean)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT string_agg(format('%s = %s', @extschema@._block_key_sql(c, 'a', false),
                                      @extschema@._block_key_sql(c, 'b', swapped)), ' AND ' ORDER BY o)
    FROM jsonb_array_elements(pass) WITH ORDINALITY AS t(c, o)
$$;
COMMENT ON FUNCTION @extschema@._pass_join_sql(jsonb, boolean) IS 'Internal: SQL join condition of a blocking pass';

-- Human-readable description of a pass, for explain_rules.
CREATE FUNCTION @extschema@._pass_text(pass jsonb)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT string_agg(CASE WHEN c ->> 'method' = 'exact' AND NOT (c ->> 'nicknames')::boolean
                         THEN c ->> 'attribute'
                         ELSE regexp_replace(@extschema@._block_key_sql(c, 'a', false), '\ma\.', '', 'g') END,
                    ' + ' ORDER BY o)
    FROM jsonb_array_elements(pass) WITH ORDINALITY AS t(c, o)
$$;
COMMENT ON FUNCTION @extschema@._pass_text(jsonb) IS 'Internal: describes the keys of a blocking pass';

-- The staged columns, in the order _stage_sql produces them.
CREATE FUNCTION @extschema@._stage_columns()
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(string_agg(c, ', ' ORDER BY k1, k2, k3), '') FROM (
    SELECT format('%I, %I', 'v_' || name, 'n_' || name) || CASE WHEN name IN ('first_name', 'last_name', 'full_name')
             THEN format(', %I', 'm_' || name) ELSE '' END AS c, 1 AS k1, name AS k2, 0 AS k3
      FROM @extschema@.attribute
    UNION ALL
    SELECT format('%I', 't_' || attribute), 2, attribute, 0 FROM @extschema@.merge_policy
     WHERE options ? 'column' AND attribute IN (SELECT name FROM @extschema@.attribute)
  ) x
$$;
COMMENT ON FUNCTION @extschema@._stage_columns() IS 'Internal: the dynamic columns of a staged record, in order';

-- Per-run settings with their defaults (the library may not be loaded yet
-- when a plain SQL function reads them).
CREATE FUNCTION @extschema@._setting(name text, dflt integer)
RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(nullif(current_setting(name, true), '')::integer, dflt)
$$;
COMMENT ON FUNCTION @extschema@._setting(text, integer) IS 'Internal: an integer setting with its default';

-- Digest of everything a run's result depends on besides the source data.
CREATE FUNCTION @extschema@._config_hash()
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT md5(concat_ws('|',
    (SELECT string_agg(concat_ws(',', name, relation::regclass::text, key_column, attributes, priority, updated_at_column, source_id), ';' ORDER BY name) FROM @extschema@.source),
    (SELECT string_agg(concat_ws(',', name, position, conditions, sources), ';' ORDER BY position) FROM @extschema@.match_rule),
    (SELECT string_agg(concat_ws(',', attribute, value, is_pattern), ';' ORDER BY attribute, value, is_pattern) FROM @extschema@.match_exception),
    (SELECT string_agg(concat_ws(',', source_a, key_a, source_b, key_b, kind), ';' ORDER BY source_a, key_a, source_b, key_b) FROM @extschema@.match_override),
    (SELECT string_agg(concat_ws(',', attribute, policy, options), ';' ORDER BY attribute) FROM @extschema@.merge_policy),
    (SELECT string_agg(concat_ws(',', name, sql_type), ';' ORDER BY name) FROM @extschema@.attribute),
    @extschema@._setting('cdp.max_block_size', 1000),
    @extschema@._setting('cdp.max_cluster_size', 100),
    coalesce(nullif(current_setting('cdp.default_region', true), ''), 'US'),
    (SELECT string_agg(concat_ws(',', name, nickname), ';' ORDER BY name, nickname) FROM @extschema@.nickname WHERE source <> 'builtin')
  ))
$$;
COMMENT ON FUNCTION @extschema@._config_hash() IS 'Internal: digest of the unification configuration; a change makes the next run a full one';

-- Phase bookkeeping: ends the current phase (recording its time) and starts the next.
CREATE FUNCTION @extschema@._phase(INOUT phases jsonb, INOUT t0 timestamptz, done_phase text, next_phase text, total bigint DEFAULT NULL)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  t1 timestamptz := clock_timestamp();
BEGIN
  IF done_phase IS NOT NULL THEN
    phases := phases || jsonb_build_object(done_phase,
                round(extract(epoch FROM t1 - t0) * 1000)::bigint + coalesce((phases ->> done_phase)::bigint, 0));
  END IF;
  t0 := t1;
  IF next_phase IS NOT NULL THEN
    PERFORM @extschema@._progress_phase(next_phase, total);
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@._phase(jsonb, timestamptz, text, text, bigint) IS 'Internal: records the time of a unify phase and announces the next';

-- Candidate pairs of one rule into pg_temp._cdp_rule_pairs; returns the
-- number of candidates (pairs produced by blocking) and of matches.
-- delta: only pairs with at least one record in pg_temp._cdp_delta.
CREATE FUNCTION @extschema@._match_rule(r @extschema@.match_rule, refine boolean, delta boolean,
                                        known_big jsonb,
                                        OUT candidates bigint, OUT matches bigint, OUT skipped bigint, OUT big_keys jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
  -- blocking joins are equi-joins of a table with itself or with the few
  -- changed records: hashing beats sorting a million rows
  SET enable_mergejoin = off
AS $$
DECLARE
  pass jsonb;
  test text := @extschema@._rule_sql(r.conditions);
  swaps boolean := @extschema@._rule_swaps(r.conditions);
  srcfilter text := '';
  passes text := '';
  keyexpr text;
  nn_test text;
  big text[];
  bigtest text;
  sw boolean;
  cap integer := @extschema@._setting('cdp.max_block_size', 1000);
  passno integer := 0;
  source_ids integer[];
BEGIN
  skipped := 0;
  big_keys := '[]';
  IF r.sources IS NOT NULL THEN
    source_ids := ARRAY(SELECT source_id FROM @extschema@.source WHERE name = ANY (r.sources));
    srcfilter := format(' AND a.source_id = ANY (%1$L::int[]) AND b.source_id = ANY (%1$L::int[])', source_ids);
  END IF;
  FOR pass IN SELECT * FROM @extschema@._rule_passes(r.conditions, refine) LOOP
    -- key values shared by more than cdp.max_block_size records are left
    -- out; they are few, so they go into the query as a (hashed) array
    SELECT string_agg(format('coalesce((%s)::text, '''')', @extschema@._block_key_sql(c, 'a', false)), ', ' ORDER BY o),
           string_agg(format('(%s) IS NOT NULL', @extschema@._block_key_sql(c, 'a', false)), ' AND ' ORDER BY o)
      INTO keyexpr, nn_test
      FROM jsonb_array_elements(pass) WITH ORDINALITY AS t(c, o);
    keyexpr := format('concat_ws(E''\x1f'', %s)', keyexpr);
    passno := passno + 1;
    IF known_big IS NOT NULL AND jsonb_array_length(known_big) >= passno THEN
      -- an incremental run keeps the full run's decision
      big := (SELECT array_agg(x ORDER BY x) FROM jsonb_array_elements_text(known_big -> (passno - 1)) x);
    ELSE
    EXECUTE format('SELECT array_agg(k ORDER BY k) FROM (SELECT %s AS k FROM @extschema@.unify_record a WHERE %s%s GROUP BY 1 HAVING count(*) > %s) g',
                   keyexpr, nn_test,
                   CASE WHEN r.sources IS NULL THEN '' ELSE format(' AND a.source_id = ANY (%L::int[])', source_ids) END,
                   cap) INTO big;
    END IF;
    big_keys := big_keys || jsonb_build_array(coalesce(to_jsonb(big), '[]'));
    skipped := skipped + coalesce(cardinality(big), 0);
    bigtest := CASE WHEN big IS NULL THEN '' ELSE format(' AND NOT (%s = ANY (%L::text[]))', keyexpr, big) END;
    FOR sw IN SELECT unnest(CASE WHEN swaps AND pass::text ~ '"(first|last)_name"' THEN ARRAY[false, true] ELSE ARRAY[false] END) LOOP
      passes := passes || CASE WHEN passes = '' THEN '' ELSE ' UNION ' END;
      -- each pass scores its own candidates (in parallel workers when the
      -- plan has them); a pair found by several passes gets the same score
      IF delta THEN
        passes := passes || format(
          'SELECT least(a.rid, b.rid) AS x, greatest(a.rid, b.rid) AS y, coalesce(%4$s, false) AS ok '
          '  FROM @extschema@.unify_delta d JOIN @extschema@.unify_record a ON a.rid = d.rid '
          '  JOIN @extschema@.unify_record b ON %1$s '
          '  LEFT JOIN @extschema@.unify_delta d2 ON d2.rid = b.rid '
          ' WHERE b.rid <> a.rid AND (a.rid < b.rid OR d2.rid IS NULL)%2$s%3$s',
          @extschema@._pass_join_sql(pass, sw), srcfilter, bigtest, test);
      ELSE
        passes := passes || format(
          'SELECT a.rid AS x, b.rid AS y, coalesce(%4$s, false) AS ok '
          '  FROM @extschema@.unify_record a JOIN @extschema@.unify_record b ON %1$s AND a.rid < b.rid WHERE true%2$s%3$s',
          @extschema@._pass_join_sql(pass, sw), srcfilter, bigtest, test);
      END IF;
    END LOOP;
  END LOOP;
  -- each candidate pair once (UNION); CREATE TABLE AS may run in parallel
  DROP TABLE IF EXISTS pg_temp._cdp_cand;
  EXECUTE format('CREATE TEMP TABLE _cdp_cand AS %s', passes);
  GET DIAGNOSTICS candidates = ROW_COUNT;
  INSERT INTO pg_temp._cdp_rule_pairs SELECT x, y, r.position FROM pg_temp._cdp_cand WHERE ok;
  GET DIAGNOSTICS matches = ROW_COUNT;
  DROP TABLE pg_temp._cdp_cand;
END;
$$;
COMMENT ON FUNCTION @extschema@._match_rule(@extschema@.match_rule, boolean, boolean, jsonb) IS
  'Internal: blocks and scores one match rule, adding the matching pairs to a temporary table';

-- Whether a rule's exact conditions alone give too many candidates (more
-- than 20 per record), so that name keys should refine them.
CREATE FUNCTION @extschema@._needs_refine(r @extschema@.match_rule, nrecords bigint)
RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  exact jsonb;
  keys text;
  est numeric;
BEGIN
  SELECT jsonb_agg(x) INTO exact FROM jsonb_array_elements(r.conditions) x
   WHERE x ->> 'method' = 'exact' AND NOT (x ->> 'nicknames')::boolean;
  IF exact IS NULL OR NOT EXISTS (SELECT 1 FROM jsonb_array_elements(r.conditions) x
                                  WHERE x ->> 'attribute' IN ('first_name', 'last_name', 'full_name')
                                    AND NOT (x ->> 'method' = 'exact' AND NOT (x ->> 'nicknames')::boolean)) THEN
    RETURN false;
  END IF;
  SELECT string_agg(@extschema@._block_key_sql(c, 'a', false), ', ') INTO keys FROM jsonb_array_elements(exact) c;
  EXECUTE format('SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*)::numeric AS n FROM @extschema@.unify_record a WHERE (%s) IS NOT NULL GROUP BY %s) g',
                 (SELECT string_agg(format('(%s)', @extschema@._block_key_sql(c, 'a', false)), ' IS NOT NULL AND ') FROM jsonb_array_elements(exact) c),
                 keys) INTO est;
  RETURN est > 20 * greatest(nrecords, 1);
END;
$$;
COMMENT ON FUNCTION @extschema@._needs_refine(@extschema@.match_rule, bigint) IS
  'Internal: true when the exact conditions of a rule leave more than 20 candidate pairs per record';

-- Rebuilds the indexes of cdp.unify_record on the blocking keys of the
-- rules (one per distinct key list), given each rule's refinement decision.
CREATE FUNCTION @extschema@._index_blocking_keys(refine jsonb)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
AS $$
DECLARE
  ix record;
  keys text;
  r @extschema@.match_rule%ROWTYPE;
  pass jsonb;
  sw boolean;
  wanted text[] := '{}';
BEGIN
  FOR r IN SELECT * FROM @extschema@.match_rule ORDER BY position LOOP
    FOR pass IN SELECT * FROM @extschema@._rule_passes(r.conditions, coalesce((refine ->> r.name)::boolean, false)) LOOP
      FOR sw IN SELECT unnest(CASE WHEN @extschema@._rule_swaps(r.conditions) AND pass::text ~ '"(first|last)_name"'
                                   THEN ARRAY[false, true] ELSE ARRAY[false] END) LOOP
        -- the side looked up is b (the unchanged records)
        SELECT string_agg(format('(%s)', @extschema@._block_key_sql(c, 'unify_record', sw)), ', ' ORDER BY o)
          INTO keys FROM jsonb_array_elements(pass) WITH ORDINALITY AS t(c, o);
        IF NOT keys = ANY (wanted) THEN
          wanted := wanted || keys;
        END IF;
      END LOOP;
    END LOOP;
  END LOOP;
  FOR ix IN SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE i.indrelid = '@extschema@.unify_record'::regclass AND c.relname LIKE 'unify_record_key%' LOOP
    EXECUTE format('DROP INDEX @extschema@.%I', ix.relname);
  END LOOP;
  FOR i IN 1 .. coalesce(cardinality(wanted), 0) LOOP
    EXECUTE format('CREATE INDEX %I ON @extschema@.unify_record (%s)', 'unify_record_key' || i, wanted[i]);
  END LOOP;
END;
$$;
COMMENT ON FUNCTION @extschema@._index_blocking_keys(jsonb) IS
  'Internal: indexes cdp.unify_record on the blocking keys of the rules, for incremental runs';

-- The wanted dynamic columns of cdp.customer: one per attribute not
-- excluded, an array for collect.
CREATE FUNCTION @extschema@._customer_columns()
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(jsonb_object_agg(a.name, CASE WHEN p.policy = 'collect' THEN format_type(t.typarray, NULL)
                                               ELSE format_type(t.oid, NULL) END), '{}')
    FROM @extschema@.attribute a
    JOIN pg_type t ON t.oid = a.sql_type::regtype
    LEFT JOIN @extschema@.merge_policy p ON p.attribute = a.name
   WHERE p.policy IS DISTINCT FROM 'exclude'
$$;
COMMENT ON FUNCTION @extschema@._customer_columns() IS 'Internal: the attribute columns cdp.customer should have';

-- The aggregate expression that merges one attribute over records r.
CREATE FUNCTION @extschema@._merge_sql(attr text)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE coalesce(p.policy, 'priority')
    WHEN 'priority'      THEN format('@extschema@.by_priority(r.%I, r.priority)', 'v_' || attr)
    WHEN 'most_recent'   THEN format('@extschema@.most_recent(r.%I, %s)', 'v_' || attr,
                                     CASE WHEN p.options ? 'column' THEN format('r.%I', 't_' || attr) ELSE 'r.updated_at' END)
    WHEN 'least_recent'  THEN format('@extschema@.least_recent(r.%I, %s)', 'v_' || attr,
                                     CASE WHEN p.options ? 'column' THEN format('r.%I', 't_' || attr) ELSE 'r.updated_at' END)
    WHEN 'most_frequent' THEN format('@extschema@.most_frequent(r.%I)', 'v_' || attr)
    WHEN 'longest'       THEN format('@extschema@.longest(r.%I)', 'v_' || attr)
    WHEN 'most_filled'   THEN format('@extschema@.most_filled(r.%I, r.filled)', 'v_' || attr)
    WHEN 'collect'       THEN format('@extschema@.collect(r.%I)', 'v_' || attr)
  END
    FROM (SELECT attr) x LEFT JOIN @extschema@.merge_policy p ON p.attribute = attr
$$;
COMMENT ON FUNCTION @extschema@._merge_sql(text) IS 'Internal: the merge aggregate of an attribute';

-- One unification run; see cdp.unify.
CREATE FUNCTION @extschema@._unify(full_run boolean, nowait boolean)
RETURNS @extschema@.unify_run
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
  -- the generated statements are run once each: compiling them costs more
  -- than it saves
  SET jit = off
AS $$
#variable_conflict use_column
DECLARE
  run @extschema@.unify_run%ROWTYPE;
  phases jsonb := '{}';
  t0 timestamptz := clock_timestamp();
  cfg text;
  last @extschema@.unify_run%ROWTYPE;
  srow @extschema@.source%ROWTYPE;
  rrow @extschema@.match_rule%ROWTYPE;
  incremental boolean;
  reason text;
  cols text;
  n bigint;
  mcount bigint;
  res record;
  rules_matched jsonb := '{}';
  rules_skipped jsonb := '{}';
  cand bigint := 0;
  refine boolean;
  blocking jsonb := '{}';
  bigs jsonb;
  has_never boolean;
  maxc integer := @extschema@._setting('cdp.max_cluster_size', 100);
  custcols jsonb;
  setlist text;
  round_no integer;
  bad_rule text;
  bad_attr text;
BEGIN
  -- one run at a time
  IF nowait THEN
    IF NOT pg_try_advisory_xact_lock(1667526773, 1) THEN
      RAISE EXCEPTION 'another cdp.unify() is running'
        USING ERRCODE = '55P03',
              HINT = 'Wait for it to finish (SELECT * FROM cdp.unify_progress() shows it), or call cdp.unify() without nowait to wait for it.';
    END IF;
  ELSE
    PERFORM pg_advisory_xact_lock(1667526773, 1);
  END IF;
  run.run_id := nextval('@extschema@.unify_run_seq');
  run.started_at := t0;
  PERFORM @extschema@._progress_begin(run.run_id);
  cfg := @extschema@._config_hash();

  FOR srow IN SELECT * FROM @extschema@.source ORDER BY source_id LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = srow.relation) THEN
      RAISE EXCEPTION 'the relation of source "%" no longer exists', srow.name
        USING ERRCODE = '42P01', HINT = 'Point it at another relation with cdp.alter_source, or remove it with cdp.drop_source.';
    END IF;
  END LOOP;

  SELECT r2.name, c ->> 'attribute' INTO bad_rule, bad_attr
    FROM @extschema@.match_rule r2, jsonb_array_elements(r2.conditions) c
   WHERE NOT EXISTS (SELECT 1 FROM @extschema@.attribute a WHERE a.name = c ->> 'attribute')
   ORDER BY r2.position LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'match rule "%" compares attribute "%", which no source maps any more', bad_rule, bad_attr
      USING ERRCODE = '42703', HINT = 'Drop the rule with cdp.drop_match_rule, or map the attribute in a source.';
  END IF;

  SELECT * INTO last FROM @extschema@.unify_run ORDER BY run_id DESC LIMIT 1;
  incremental := NOT coalesce(full_run, false);
  IF coalesce(full_run, false) THEN
    reason := 'requested';
  ELSIF last.run_id IS NULL THEN
    reason := 'first run';
  ELSIF last.config_hash <> cfg THEN
    reason := 'configuration changed';
  ELSIF NOT EXISTS (SELECT 1 FROM @extschema@.unify_record) AND EXISTS (SELECT 1 FROM @extschema@.customer_source) THEN
    reason := 'internal state lost (crash or restore)';
  END IF;
  IF reason IS NOT NULL THEN
    incremental := false;
  END IF;
  run.mode := CASE WHEN incremental THEN 'incremental' ELSE 'full' END;
  -- blocking decisions of the last full run, kept by incremental runs
  bigs := CASE WHEN incremental THEN coalesce(last.skipped_blocks -> '_big', '{}') ELSE '{}' END;
  run.mode_reason := reason;
  run.config_hash := cfg;

  -- ---------------------------------------------------------------- read
  SELECT * INTO phases, t0 FROM @extschema@._phase(phases, t0, NULL, 'read', (SELECT count(*) FROM @extschema@.source));
  DROP TABLE IF EXISTS pg_temp._cdp_delta, pg_temp._cdp_gone, pg_temp._cdp_rule_pairs, pg_temp._cdp_scope,
                       pg_temp._cdp_cl, pg_temp._cdp_map, pg_temp._cdp_assign, pg_temp._cdp_cust,
                       pg_temp._cdp_touched, pg_temp._cdp_changed;
  CREATE TEMP TABLE _cdp_delta (rid bigint PRIMARY KEY);
  CREATE TEMP TABLE _cdp_gone (rid bigint PRIMARY KEY, source_id integer, source_key text);
  CREATE TEMP TABLE _cdp_rule_pairs (a bigint, b bigint, rule integer);
  cols := @extschema@._stage_columns();

  IF NOT incremental THEN
    TRUNCATE @extschema@.unify_record, @extschema@.unify_pair;
    PERFORM @extschema@._sync_columns('@extschema@.unify_record',
              (SELECT coalesce(jsonb_object_agg(col, typ), '{}') FROM @extschema@._record_columns()),
              ARRAY['rid', 'source_id', 'source_key', 'row_hash', 'priority', 'filled', 'updated_at'], true);
    n := 0;
    FOR srow IN SELECT * FROM @extschema@.source ORDER BY source_id LOOP
      EXECUTE format('INSERT INTO @extschema@.unify_record (rid, source_id, source_key, row_hash, priority, filled, updated_at%s%s) '
                     'SELECT nextval(''@extschema@.unify_record_seq''), * FROM (%s) s',
                     CASE WHEN cols = '' THEN '' ELSE ', ' END, cols, @extschema@._stage_sql(srow));
      GET DIAGNOSTICS mcount = ROW_COUNT;
      n := n + 1;
      PERFORM @extschema@._progress_done(n);
    END LOOP;
    INSERT INTO _cdp_delta SELECT rid FROM @extschema@.unify_record;
    -- records of the last result that the sources no longer have
    INSERT INTO _cdp_gone SELECT -row_number() OVER (ORDER BY source, source_key), x.source_id, cs.source_key
      FROM @extschema@.customer_source cs LEFT JOIN @extschema@.source x ON x.name = cs.source
     WHERE NOT EXISTS (SELECT 1 FROM @extschema@.unify_record u WHERE u.source_id = x.source_id AND u.source_key = cs.source_key);
    run.records_new := (SELECT count(*) FROM @extschema@.unify_record u WHERE NOT EXISTS (
                          SELECT 1 FROM @extschema@.customer_source cs JOIN @extschema@.source x ON x.name = cs.source
                           WHERE x.source_id = u.source_id AND cs.source_key = u.source_key));
    run.records_changed := 0;
    run.records_deleted := (SELECT count(*) FROM _cdp_gone);
  ELSE
    -- one hash full join per source between its keys and digests and the
    -- records of the last run: new, changed and gone records
    CREATE TEMP TABLE _cdp_changed (source_id integer, source_key text, rid bigint, gone boolean);
    n := 0;
    FOR srow IN SELECT * FROM @extschema@.source ORDER BY source_id LOOP
      EXECUTE format('INSERT INTO pg_temp._cdp_changed '
                     'SELECT %1$s, coalesce(c.source_key, u.source_key), u.rid, c.source_key IS NULL '
                     '  FROM (%2$s) c FULL JOIN (SELECT rid, source_key, row_hash FROM @extschema@.unify_record WHERE source_id = %1$s) u '
                     '    ON u.source_key = c.source_key '
                     ' WHERE c.source_key IS NULL OR u.rid IS NULL OR u.row_hash <> c.row_hash',
                     srow.source_id, @extschema@._stage_sql(srow, true));
      n := n + 1;
      PERFORM @extschema@._progress_done(n);
    END LOOP;
    -- records of sources that are gone altogether
    INSERT INTO _cdp_changed SELECT u.source_id, u.source_key, u.rid, true FROM @extschema@.unify_record u
     WHERE NOT EXISTS (SELECT 1 FROM @extschema@.source x WHERE x.source_id = u.source_id);
    INSERT INTO _cdp_gone SELECT rid, source_id, source_key FROM _cdp_changed WHERE gone;
    DELETE FROM _cdp_changed WHERE gone;
    ANALYZE pg_temp._cdp_changed;
    run.records_new := (SELECT count(*) FROM _cdp_changed WHERE rid IS NULL);
    run.records_changed := (SELECT count(*) FROM _cdp_changed WHERE rid IS NOT NULL);
    run.records_deleted := (SELECT count(*) FROM _cdp_gone);
    -- changed records get their old number back, after the old row is gone
    DELETE FROM @extschema@.unify_record u USING _cdp_changed c WHERE u.rid = c.rid;
    DELETE FROM @extschema@.unify_record u USING _cdp_gone g WHERE u.rid = g.rid;
    UPDATE _cdp_changed SET rid = nextval('@extschema@.unify_record_seq') WHERE rid IS NULL;
    FOR srow IN SELECT * FROM @extschema@.source ORDER BY source_id LOOP
      IF EXISTS (SELECT 1 FROM _cdp_changed WHERE source_id = srow.source_id) THEN
        EXECUTE format('INSERT INTO @extschema@.unify_record (rid, source_id, source_key, row_hash, priority, filled, updated_at%s%s) '
                       'SELECT c.rid, s.* FROM (%s) s JOIN pg_temp._cdp_changed c ON c.source_id = s.source_id AND c.source_key = s.source_key',
                       CASE WHEN cols = '' THEN '' ELSE ', ' END, cols,
                       @extschema@._stage_sql(srow, false,
                         format('SELECT source_key FROM pg_temp._cdp_changed WHERE source_id = %s', srow.source_id)));
      END IF;
    END LOOP;
    INSERT INTO _cdp_delta SELECT rid FROM _cdp_changed;
    DROP TABLE _cdp_changed;
  END IF;
  ANALYZE pg_temp._cdp_delta;
  IF incremental THEN
    TRUNCATE @extschema@.unify_delta;
    INSERT INTO @extschema@.unify_delta SELECT rid FROM _cdp_delta;
    ANALYZE @extschema@.unify_delta;
  END IF;
  run.records := (SELECT count(*) FROM @extschema@.unify_record);

  -- ---------------------------------------------------------------- match
  SELECT * INTO phases, t0 FROM @extschema@._phase(phases, t0, 'read', 'match', (SELECT count(*) FROM @extschema@.match_rule));
  IF incremental THEN
    DELETE FROM @extschema@.unify_pair p
     WHERE p.a IN (SELECT rid FROM _cdp_delta UNION ALL SELECT rid FROM _cdp_gone)
        OR p.b IN (SELECT rid FROM _cdp_delta UNION ALL SELECT rid FROM _cdp_gone);
  END IF;
  IF NOT incremental THEN
    ANALYZE @extschema@.unify_record;
  END IF;
  n := 0;
  FOR rrow IN SELECT * FROM @extschema@.match_rule ORDER BY position LOOP
    IF incremental AND last.skipped_blocks -> '_refine' ? rrow.name THEN
      refine := (last.skipped_blocks -> '_refine' ->> rrow.name)::boolean;
    ELSE
      refine := @extschema@._needs_refine(rrow, run.records);
    END IF;
    blocking := blocking || jsonb_build_object(rrow.name, refine);
    IF EXISTS (SELECT 1 FROM _cdp_delta) THEN
      SELECT * INTO res FROM @extschema@._match_rule(rrow, refine, incremental,
                                                     CASE WHEN incremental THEN last.skipped_blocks -> '_big' -> rrow.name END);
      cand := cand + res.candidates;
      rules_skipped := rules_skipped || jsonb_build_object(rrow.name, res.skipped);
      bigs := bigs || jsonb_build_object(rrow.name, res.big_keys);
    END IF;
    n := n + 1;
    PERFORM @extschema@._progress_done(n);
  END LOOP;
  SELECT coalesce(jsonb_object_agg(name, coalesce(k, 0)), '{}') INTO rules_matched
    FROM @extschema@.match_rule mr
    LEFT JOIN (SELECT rule, count(*) AS k FROM (SELECT DISTINCT a, b, rule FROM _cdp_rule_pairs) d GROUP BY rule) c
      ON c.rule = mr.position;
  INSERT INTO @extschema@.unify_pair (a, b, rule)
  SELECT DISTINCT ON (a, b) a, b, rule FROM _cdp_rule_pairs ORDER BY a, b, rule
  ON CONFLICT (a, b) DO UPDATE SET rule = least(unify_pair.rule, excluded.rule);
  -- always-overrides are edges of their own (rule 0)
  DELETE FROM @extschema@.unify_pair WHERE rule = 0;
  INSERT INTO @extschema@.unify_pair (a, b, rule)
  SELECT least(ra.rid, rb.rid), greatest(ra.rid, rb.rid), 0
    FROM @extschema@.match_override o
    JOIN @extschema@.source sa ON sa.name = o.source_a JOIN @extschema@.source sb ON sb.name = o.source_b
    JOIN @extschema@.unify_record ra ON ra.source_id = sa.source_id AND ra.source_key = o.key_a
    JOIN @extschema@.unify_record rb ON rb.source_id = sb.source_id AND rb.source_key = o.key_b
   WHERE o.kind = 'always'
  ON CONFLICT (a, b) DO UPDATE SET rule = 0;
  run.candidate_pairs := cand;
  run.matches_per_rule := rules_matched;
  run.skipped_blocks := rules_skipped || jsonb_build_object('_refine', blocking, '_big', bigs);
  IF NOT incremental THEN
    -- indexes on the blocking keys, for the incremental runs that follow:
    -- they look up the few changed records' partners instead of scanning
    PERFORM @extschema@._index_blocking_keys(blocking);
  END IF;

  -- ---------------------------------------------------------------- cluster
  SELECT * INTO phases, t0 FROM @extschema@._phase(phases, t0, 'match', 'cluster', (SELECT count(*) FROM @extschema@.unify_pair));
  CREATE TEMP TABLE _cdp_touched (old_id bigint PRIMARY KEY, iter integer);
  IF incremental THEN
    -- the records to recluster: the changed ones, every record of an old
    -- customer any of them belonged to, and their partners, until closed;
    -- found through the indexes, without reading all records
    CREATE TEMP TABLE _cdp_scope (rid bigint PRIMARY KEY);
    INSERT INTO _cdp_scope SELECT rid FROM _cdp_delta;
    INSERT INTO _cdp_touched
    SELECT cs.customer_id, 0 FROM _cdp_gone g JOIN @extschema@.source x ON x.source_id = g.source_id
      JOIN @extschema@.customer_source cs ON cs.source = x.name AND cs.source_key = g.source_key
    UNION
    SELECT old_id, 0 FROM (
      SELECT (SELECT cs.customer_id FROM @extschema@.customer_source cs
               WHERE cs.source = x.name AND cs.source_key = u.source_key) AS old_id
        FROM _cdp_delta d JOIN @extschema@.unify_record u ON u.rid = d.rid
        JOIN @extschema@.source x ON x.source_id = u.source_id) m
     WHERE old_id IS NOT NULL;
    round_no := 0;
    LOOP
      INSERT INTO _cdp_scope
      SELECT u.rid FROM _cdp_touched t JOIN @extschema@.customer_source cs ON cs.customer_id = t.old_id
        JOIN @extschema@.source x ON x.name = cs.source
        JOIN @extschema@.unify_record u ON u.source_id = x.source_id AND u.source_key = cs.source_key
       WHERE t.iter = round_no
      ON CONFLICT DO NOTHING;
      ANALYZE _cdp_scope;
      round_no := round_no + 1;
      DROP TABLE IF EXISTS _cdp_partners;
      CREATE TEMP TABLE _cdp_partners AS
        SELECT DISTINCT pr.rid FROM (
          SELECT p.b AS rid FROM @extschema@.unify_pair p JOIN _cdp_scope s ON s.rid = p.a
          UNION ALL SELECT p.a FROM @extschema@.unify_pair p JOIN _cdp_scope s ON s.rid = p.b) pr
         WHERE NOT EXISTS (SELECT 1 FROM _cdp_scope s WHERE s.rid = pr.rid);
      EXIT WHEN NOT EXISTS (SELECT 1 FROM _cdp_partners);
      INSERT INTO _cdp_scope SELECT rid FROM _cdp_partners;
      INSERT INTO _cdp_touched
      SELECT DISTINCT old_id, round_no FROM (
        SELECT (SELECT cs.customer_id FROM @extschema@.customer_source cs
                 WHERE cs.source = x.name AND cs.source_key = u.source_key) AS old_id
          FROM _cdp_partners pr JOIN @extschema@.unify_record u ON u.rid = pr.rid
          JOIN @extschema@.source x ON x.source_id = u.source_id) m
       WHERE old_id IS NOT NULL
      ON CONFLICT DO NOTHING;
    END LOOP;
    DROP TABLE IF EXISTS _cdp_partners;
    -- old customer of every record in scope (one index lookup each)
    CREATE TEMP TABLE _cdp_map AS
      SELECT rid, old_id FROM (
        SELECT u.rid, (SELECT cs.customer_id FROM @extschema@.customer_source cs
                        WHERE cs.source = x.name AND cs.source_key = u.source_key) AS old_id
          FROM _cdp_scope s JOIN @extschema@.unify_record u ON u.rid = s.rid
          JOIN @extschema@.source x ON x.source_id = u.source_id) m
       WHERE old_id IS NOT NULL;
  ELSE
    INSERT INTO _cdp_touched SELECT DISTINCT customer_id, 0 FROM @extschema@.customer_source;
    CREATE TEMP TABLE _cdp_scope AS SELECT rid FROM @extschema@.unify_record;
    ALTER TABLE _cdp_scope ADD PRIMARY KEY (rid);
    -- old customer of every record
    CREATE TEMP TABLE _cdp_map AS
      SELECT u.rid, cs.customer_id AS old_id FROM @extschema@.unify_record u
        JOIN @extschema@.source x ON x.source_id = u.source_id
        JOIN @extschema@.customer_source cs ON cs.source = x.name AND cs.source_key = u.source_key;
  END IF;
  CREATE INDEX ON _cdp_map (rid);
  CREATE INDEX ON _cdp_map (old_id);
  ANALYZE _cdp_map;
  ANALYZE pg_temp._cdp_scope;

  has_never := EXISTS (SELECT 1 FROM @extschema@.match_override WHERE kind = 'never');
  CREATE TEMP TABLE _cdp_cl AS
    SELECT node AS rid, cluster FROM @extschema@.cluster_edges(
      CASE WHEN incremental
           THEN 'SELECT p.a, p.b FROM @extschema@.unify_pair p JOIN pg_temp._cdp_scope s ON s.rid = p.a'
                || CASE WHEN has_never THEN ' ORDER BY p.rule, p.a, p.b' ELSE '' END
           ELSE 'SELECT a, b FROM @extschema@.unify_pair' || CASE WHEN has_never THEN ' ORDER BY rule, a, b' ELSE '' END END,
      CASE WHEN has_never THEN
        'SELECT ra.rid, rb.rid FROM @extschema@.match_override o
           JOIN @extschema@.source sa ON sa.name = o.source_a JOIN @extschema@.source sb ON sb.name = o.source_b
           JOIN @extschema@.unify_record ra ON ra.source_id = sa.source_id AND ra.source_key = o.key_a
           JOIN @extschema@.unify_record rb ON rb.source_id = sb.source_id AND rb.source_key = o.key_b
           JOIN pg_temp._cdp_scope s ON s.rid = ra.rid
          WHERE o.kind = ''never''' END);
  INSERT INTO _cdp_cl SELECT s.rid, s.rid FROM _cdp_scope s WHERE NOT EXISTS (SELECT 1 FROM _cdp_cl c WHERE c.rid = s.rid);
  DELETE FROM _cdp_cl c WHERE NOT EXISTS (SELECT 1 FROM _cdp_scope s WHERE s.rid = c.rid);
  CREATE INDEX ON _cdp_cl (cluster);
  ANALYZE pg_temp._cdp_cl;

  -- chained over-merging: clusters above cdp.max_cluster_size stay unmerged
  SELECT coalesce(jsonb_agg(jsonb_build_object('records', k, 'sample', sample) ORDER BY k DESC, cluster), '[]')
    INTO run.oversized_clusters
    FROM (SELECT c.cluster, count(*) AS k,
                 (SELECT jsonb_agg(x.name || ':' || u.source_key ORDER BY x.name, u.source_key)
                    FROM (SELECT * FROM _cdp_cl c2 WHERE c2.cluster = c.cluster ORDER BY c2.rid LIMIT 5) c2
                    JOIN @extschema@.unify_record u ON u.rid = c2.rid JOIN @extschema@.source x ON x.source_id = u.source_id) AS sample
            FROM _cdp_cl c GROUP BY c.cluster HAVING count(*) > maxc) big;
  IF jsonb_array_length(run.oversized_clusters) > 0 THEN
    UPDATE _cdp_cl SET cluster = rid WHERE cluster IN (SELECT cluster FROM _cdp_cl GROUP BY cluster HAVING count(*) > maxc);
    RAISE WARNING '% cluster(s) have more than cdp.max_cluster_size (%) records and were left unmerged', jsonb_array_length(run.oversized_clusters), maxc
      USING DETAIL = format('The largest has %s records; see cdp.unify_run.oversized_clusters.', run.oversized_clusters -> 0 ->> 'records'),
            HINT = 'Usually a placeholder value links unrelated records: add it with cdp.add_match_exception, or make the rule stricter; raise cdp.max_cluster_size if the clusters are real.';
  END IF;
  run.clusters := (SELECT count(DISTINCT cluster) FROM _cdp_cl);

  -- ---------------------------------------------------------------- ids
  SELECT * INTO phases, t0 FROM @extschema@._phase(phases, t0, 'cluster', 'assign ids', run.clusters);
  -- each cluster's anchor: its smallest (source, key), for deterministic ties
  CREATE TEMP TABLE _cdp_assign AS
    SELECT DISTINCT ON (c.cluster) c.cluster, u.source_id AS anchor_source, u.source_key AS anchor_key, NULL::bigint AS customer_id, false AS is_new
      FROM _cdp_cl c JOIN @extschema@.unify_record u ON u.rid = c.rid
     ORDER BY c.cluster, u.source_id, u.source_key;
  ALTER TABLE _cdp_assign ADD PRIMARY KEY (cluster);
  ANALYZE _cdp_assign;
  -- overlap of new clusters and old ids; an old id survives in the cluster
  -- holding most of its records, which keeps the old id holding most of it
  WITH overlap AS (
    SELECT c.cluster, m.old_id, count(*) AS k
      FROM _cdp_cl c JOIN _cdp_map m ON m.rid = c.rid GROUP BY c.cluster, m.old_id),
  best_cluster AS (
    SELECT DISTINCT ON (o.old_id) o.old_id, o.cluster, o.k
      FROM overlap o JOIN _cdp_assign a ON a.cluster = o.cluster
     ORDER BY o.old_id, o.k DESC, a.anchor_source, a.anchor_key),
  survivor AS (
    SELECT DISTINCT ON (cluster) cluster, old_id FROM best_cluster ORDER BY cluster, k DESC, old_id)
  UPDATE _cdp_assign a SET customer_id = s.old_id FROM survivor s WHERE s.cluster = a.cluster;
  UPDATE _cdp_assign a SET customer_id = x.id, is_new = true
    FROM (SELECT cluster, nextval('@extschema@.customer_id_seq') AS id
            FROM (SELECT cluster FROM _cdp_assign WHERE customer_id IS NULL ORDER BY anchor_source, anchor_key) o) x
   WHERE x.cluster = a.cluster;

  -- history: created, merged, split, deleted
  WITH moved AS (
    SELECT m.old_id, a.customer_id AS new_id, count(*) AS k
      FROM _cdp_cl c JOIN _cdp_map m ON m.rid = c.rid JOIN _cdp_assign a ON a.cluster = c.cluster
     WHERE a.customer_id <> m.old_id GROUP BY 1, 2),
  ins AS (
    INSERT INTO @extschema@.customer_id_history (old_id, new_id, reason, run_id, records)
    SELECT mv.old_id, mv.new_id,
           CASE WHEN EXISTS (SELECT 1 FROM _cdp_assign a WHERE a.customer_id = mv.old_id) THEN 'split' ELSE 'merged' END,
           run.run_id, mv.k
      FROM moved mv
    UNION ALL
    SELECT NULL, a.customer_id, 'created', run.run_id, (SELECT count(*) FROM _cdp_cl c WHERE c.cluster = a.cluster)
      FROM _cdp_assign a
     WHERE a.is_new AND NOT EXISTS (SELECT 1 FROM _cdp_cl c JOIN _cdp_map m ON m.rid = c.rid WHERE c.cluster = a.cluster)
    UNION ALL
    SELECT t.old_id, NULL, 'deleted', run.run_id, 0
      FROM _cdp_touched t
     WHERE NOT EXISTS (SELECT 1 FROM _cdp_map m WHERE m.old_id = t.old_id)
    RETURNING reason, old_id, new_id)
  SELECT count(DISTINCT old_id) FILTER (WHERE reason = 'merged'),
         count(DISTINCT old_id) FILTER (WHERE reason = 'split'),
         count(*) FILTER (WHERE reason = 'deleted')
    INTO run.merged_ids, run.split_ids, run.deleted_ids
    FROM ins;
  run.new_ids := (SELECT count(*) FROM _cdp_assign WHERE is_new);

  -- ---------------------------------------------------------------- write
  SELECT * INTO phases, t0 FROM @extschema@._phase(phases, t0, 'assign ids', 'merge', run.clusters);
  -- customer_source: the scope's records and the gone ones
  DELETE FROM @extschema@.customer_source cs USING _cdp_gone g JOIN @extschema@.source x ON x.source_id = g.source_id
   WHERE cs.source = x.name AND cs.source_key = g.source_key;
  DELETE FROM @extschema@.customer_source cs
   WHERE NOT EXISTS (SELECT 1 FROM @extschema@.source x WHERE x.name = cs.source);
  -- only the records whose customer changed are written: new ones are
  -- inserted, moved ones updated (a hash join against the old mapping)
  INSERT INTO @extschema@.customer_source AS cs (customer_id, source, source_key)
  SELECT a.customer_id, x.name, u.source_key
    FROM _cdp_cl c JOIN _cdp_assign a ON a.cluster = c.cluster
    JOIN @extschema@.unify_record u ON u.rid = c.rid JOIN @extschema@.source x ON x.source_id = u.source_id
    LEFT JOIN _cdp_map m ON m.rid = c.rid
   WHERE m.old_id IS DISTINCT FROM a.customer_id
  ON CONFLICT (source, source_key) DO UPDATE SET customer_id = excluded.customer_id
   WHERE cs.customer_id <> excluded.customer_id;

  -- cdp.customer: columns follow the attributes, rows follow the scope
  custcols := @extschema@._customer_columns();
  PERFORM @extschema@._sync_columns('@extschema@.customer', custcols,
                                    ARRAY['customer_id', 'record_count', 'sources', 'updated_run']);
  SELECT string_agg(format('%s AS %I', @extschema@._merge_sql(key), key), ', ' ORDER BY key),
         string_agg(format('%I', key), ', ' ORDER BY key)
    INTO setlist, cols FROM jsonb_object_keys(custcols) key;
  EXECUTE format(
    'CREATE TEMP TABLE _cdp_cust AS SELECT a.customer_id, count(*)::integer AS record_count, '
    '  array_agg(DISTINCT x.name ORDER BY x.name) AS sources, %s::bigint AS updated_run%s '
    '  FROM _cdp_cl c JOIN _cdp_assign a ON a.cluster = c.cluster JOIN @extschema@.unify_record r ON r.rid = c.rid '
    '  JOIN @extschema@.source x ON x.source_id = r.source_id GROUP BY a.customer_id',
    run.run_id, CASE WHEN setlist IS NULL THEN '' ELSE ', ' || setlist END);
  DELETE FROM @extschema@.customer c
   WHERE c.customer_id IN (SELECT old_id FROM _cdp_touched)
     AND NOT EXISTS (SELECT 1 FROM _cdp_cust n WHERE n.customer_id = c.customer_id);
  IF NOT incremental THEN
    DELETE FROM @extschema@.customer c WHERE NOT EXISTS (SELECT 1 FROM _cdp_cust n WHERE n.customer_id = c.customer_id);
  END IF;
  EXECUTE format(
    'INSERT INTO @extschema@.customer AS c (customer_id, record_count, sources, updated_run%1$s) '
    'SELECT customer_id, record_count, sources, updated_run%1$s FROM pg_temp._cdp_cust '
    'ON CONFLICT (customer_id) DO UPDATE SET record_count = excluded.record_count, sources = excluded.sources, '
    '  updated_run = excluded.updated_run%2$s '
    'WHERE (c.record_count, c.sources%3$s) IS DISTINCT FROM (excluded.record_count, excluded.sources%4$s)',
    CASE WHEN cols IS NULL THEN '' ELSE ', ' || cols END,
    coalesce((SELECT string_agg(format(', %1$I = excluded.%1$I', key), '' ORDER BY key) FROM jsonb_object_keys(custcols) key), ''),
    coalesce((SELECT string_agg(format(', c.%I', key), '' ORDER BY key) FROM jsonb_object_keys(custcols) key), ''),
    coalesce((SELECT string_agg(format(', excluded.%I', key), '' ORDER BY key) FROM jsonb_object_keys(custcols) key), ''));

  IF NOT incremental THEN
    -- fresh statistics, so that the next incremental run uses the indexes
    ANALYZE @extschema@.customer_source;
    ANALYZE @extschema@.unify_pair;
  END IF;
  SELECT * INTO phases, t0 FROM @extschema@._phase(phases, t0, 'merge', NULL);
  -- activities of customers whose ids changed follow their records
  PERFORM @extschema@._relink_activities(run.run_id);
  run.matched_pairs := (SELECT count(*) FROM @extschema@.unify_pair);
  run.customers := (SELECT count(*) FROM @extschema@.customer);
  run.phase_ms := phases;
  run.finished_at := clock_timestamp();
  INSERT INTO @extschema@.unify_run SELECT run.*;
  DROP TABLE IF EXISTS pg_temp._cdp_delta, pg_temp._cdp_gone, pg_temp._cdp_rule_pairs, pg_temp._cdp_scope,
                       pg_temp._cdp_cl, pg_temp._cdp_map, pg_temp._cdp_assign, pg_temp._cdp_cust,
                       pg_temp._cdp_touched;
  PERFORM @extschema@._progress_end();
  RETURN run;
END;
$$;
COMMENT ON FUNCTION @extschema@._unify(boolean, boolean) IS 'Internal: one unification run (called by the procedure cdp.unify)';

CREATE PROCEDURE @extschema@.unify(full boolean DEFAULT false, nowait boolean DEFAULT false,
    INOUT run_id bigint DEFAULT NULL, INOUT mode text DEFAULT NULL, INOUT records bigint DEFAULT NULL,
    INOUT records_new bigint DEFAULT NULL, INOUT records_changed bigint DEFAULT NULL, INOUT records_deleted bigint DEFAULT NULL,
    INOUT candidate_pairs bigint DEFAULT NULL, INOUT matched_pairs bigint DEFAULT NULL, INOUT matches_per_rule jsonb DEFAULT NULL,
    INOUT clusters bigint DEFAULT NULL, INOUT customers bigint DEFAULT NULL, INOUT new_ids bigint DEFAULT NULL,
    INOUT merged_ids bigint DEFAULT NULL, INOUT split_ids bigint DEFAULT NULL, INOUT deleted_ids bigint DEFAULT NULL,
    INOUT oversized_clusters integer DEFAULT NULL, INOUT phase_ms jsonb DEFAULT NULL, INOUT seconds numeric DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
  r @extschema@.unify_run%ROWTYPE;
BEGIN
  r := @extschema@._unify(unify.full, unify.nowait);
  run_id := r.run_id; mode := r.mode; records := r.records; records_new := r.records_new;
  records_changed := r.records_changed; records_deleted := r.records_deleted;
  candidate_pairs := r.candidate_pairs; matched_pairs := r.matched_pairs; matches_per_rule := r.matches_per_rule;
  clusters := r.clusters; customers := r.customers; new_ids := r.new_ids; merged_ids := r.merged_ids;
  split_ids := r.split_ids; deleted_ids := r.deleted_ids;
  oversized_clusters := jsonb_array_length(r.oversized_clusters); phase_ms := r.phase_ms;
  seconds := round(extract(epoch FROM r.finished_at - r.started_at)::numeric, 3);
END;
$$;
COMMENT ON PROCEDURE @extschema@.unify(boolean, boolean, bigint, text, bigint, bigint, bigint, bigint, bigint, bigint, jsonb, bigint, bigint, bigint, bigint, bigint, bigint, integer, jsonb, numeric) IS
  'Unifies the sources: reads new, changed and gone records (all of them when full or the configuration changed), matches, clusters, assigns stable customer ids and merges cdp.customer; returns a summary also kept in cdp.unify_run';

-- ---------------------------------------------------------------------------
-- Explaining.
-- ---------------------------------------------------------------------------

-- Stages one record of a source into a temporary table (alias name).
CREATE FUNCTION @extschema@._stage_one(source_name text, source_key text, tbl text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
AS $$
DECLARE
  srow @extschema@.source%ROWTYPE;
  n bigint;
BEGIN
  SELECT * INTO srow FROM @extschema@.source WHERE name = source_name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'source "%" does not exist', source_name USING ERRCODE = '42704', HINT = 'See SELECT name FROM cdp.source.';
  END IF;
  EXECUTE format('DROP TABLE IF EXISTS pg_temp.%I', tbl);
  EXECUTE format('CREATE TEMP TABLE %I AS %s', tbl, @extschema@._stage_sql(srow, false, format('SELECT %L', source_key)));
  EXECUTE format('SELECT count(*) FROM pg_temp.%I', tbl) INTO n;
  IF n = 0 THEN
    RAISE EXCEPTION 'source "%" has no record with key "%"', source_name, source_key
      USING ERRCODE = 'P0002', HINT = format('The key is compared as text with column %I of %s.', srow.key_column, srow.relation);
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@._stage_one(text, text, text) IS 'Internal: one record of a source, normalised, in a temporary table';

CREATE FUNCTION @extschema@.explain_match(source_a text, key_a text, source_b text, key_b text)
RETURNS TABLE(rule text, rule_position integer, condition integer, attribute text,
              value_a text, value_b text, normalized_a text, normalized_b text,
              method text, score double precision, threshold double precision,
              passed boolean, rule_passed boolean, note text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
AS $$
#variable_conflict use_column
DECLARE
  r @extschema@.match_rule%ROWTYPE;
  c jsonb;
  i integer;
  sw boolean;
  ok boolean;
  ok_cand boolean;
  cand boolean;
  pass jsonb;
  refine boolean;
  ov text;
  last_refine jsonb;
  ida bigint;
  idb bigint;
  sid_a integer;
  sid_b integer;
BEGIN
  IF source_a IS NULL OR key_a IS NULL OR source_b IS NULL OR key_b IS NULL THEN
    RAISE EXCEPTION 'arguments of explain_match must not be NULL' USING ERRCODE = '22004';
  END IF;
  PERFORM @extschema@._stage_one(source_a, key_a, '_cdp_xa');
  PERFORM @extschema@._stage_one(source_b, key_b, '_cdp_xb');
  SELECT source_id INTO sid_a FROM @extschema@.source WHERE name = source_a;
  SELECT source_id INTO sid_b FROM @extschema@.source WHERE name = source_b;
  SELECT skipped_blocks -> '_refine' INTO last_refine FROM @extschema@.unify_run ORDER BY run_id DESC LIMIT 1;

  SELECT kind INTO ov FROM @extschema@.match_override o
   WHERE (o.source_a, o.key_a, o.source_b, o.key_b) IN
         ((explain_match.source_a, explain_match.key_a, explain_match.source_b, explain_match.key_b),
          (explain_match.source_b, explain_match.key_b, explain_match.source_a, explain_match.key_a));
  IF ov IS NOT NULL THEN
    rule := 'override'; rule_position := 0; rule_passed := (ov = 'always'); passed := rule_passed;
    note := format('cdp.add_match_override(…, ''%s''): the records are %s one customer, whatever the rules say',
                   ov, CASE ov WHEN 'always' THEN 'always' ELSE 'never' END);
    RETURN NEXT;
    rule_passed := NULL; passed := NULL;
  END IF;

  FOR r IN SELECT * FROM @extschema@.match_rule ORDER BY position LOOP
    EXECUTE format('SELECT %s FROM pg_temp._cdp_xa a, pg_temp._cdp_xb b', @extschema@._rule_sql(r.conditions)) INTO ok;
    ok := coalesce(ok, false);
    -- would blocking have produced the pair?
    refine := coalesce((last_refine ->> r.name)::boolean, false);
    cand := false;
    FOR pass IN SELECT * FROM @extschema@._rule_passes(r.conditions, refine) LOOP
      FOR sw IN SELECT unnest(ARRAY[false, true]) LOOP
        IF NOT sw OR @extschema@._rule_swaps(r.conditions) THEN
          -- either record may be the one blocking reads first
          EXECUTE format('SELECT coalesce((SELECT %1$s FROM pg_temp._cdp_xa a, pg_temp._cdp_xb b), false) '
                         '    OR coalesce((SELECT %1$s FROM pg_temp._cdp_xb a, pg_temp._cdp_xa b), false)',
                         @extschema@._pass_join_sql(pass, sw))
            INTO ok_cand;
          cand := cand OR coalesce(ok_cand, false);
        END IF;
      END LOOP;
    END LOOP;
    FOR sw IN SELECT unnest(CASE WHEN @extschema@._rule_swaps(r.conditions) THEN ARRAY[false, true] ELSE ARRAY[false] END) LOOP
      i := 0;
      FOR c IN SELECT x FROM jsonb_array_elements(r.conditions) x LOOP
        i := i + 1;
        rule := r.name;
        rule_position := r.position;
        condition := i;
        attribute := c ->> 'attribute';
        method := c ->> 'method';
        threshold := (c ->> 'threshold')::float8;
        EXECUTE format('SELECT a.%I::text, b.%I::text, %s, %s, %s FROM pg_temp._cdp_xa a, pg_temp._cdp_xb b',
                       'v_' || attribute, 'v_' || @extschema@._swap_name(attribute, sw),
                       @extschema@._cond_value_sql(c, 'a', false), @extschema@._cond_value_sql(c, 'b', sw),
                       @extschema@._score_sql(c, @extschema@._cond_value_sql(c, 'a', false), @extschema@._cond_value_sql(c, 'b', sw)))
          INTO value_a, value_b, normalized_a, normalized_b, score;
        passed := coalesce(score >= threshold, false);
        rule_passed := ok;
        note := concat_ws('; ',
          CASE WHEN sw THEN 'first and last name of record b exchanged' END,
          CASE WHEN normalized_a IS NULL AND value_a IS NOT NULL THEN 'value a is not usable (invalid, empty or a match exception)' END,
          CASE WHEN normalized_b IS NULL AND value_b IS NOT NULL THEN 'value b is not usable (invalid, empty or a match exception)' END,
          CASE WHEN normalized_a IS NOT NULL AND value_a IS NULL THEN 'name a derived from its other name fields' END,
          CASE WHEN normalized_b IS NOT NULL AND value_b IS NULL THEN 'name b derived from its other name fields' END,
          CASE WHEN r.sources IS NOT NULL AND NOT (source_a = ANY (r.sources) AND source_b = ANY (r.sources))
               THEN 'the rule does not apply to these sources' END,
          CASE WHEN ok AND NOT cand THEN 'not a candidate pair: the records share no blocking key of this rule' END);
        IF r.sources IS NOT NULL AND NOT (source_a = ANY (r.sources) AND source_b = ANY (r.sources)) THEN
          rule_passed := false;
        ELSIF NOT cand THEN
          rule_passed := false;
        END IF;
        RETURN NEXT;
      END LOOP;
    END LOOP;
  END LOOP;

  SELECT customer_id INTO ida FROM @extschema@.customer_source cs WHERE cs.source = source_a AND cs.source_key = key_a;
  SELECT customer_id INTO idb FROM @extschema@.customer_source cs WHERE cs.source = source_b AND cs.source_key = key_b;
  rule := 'result'; rule_position := NULL; condition := NULL; attribute := NULL; value_a := ida::text; value_b := idb::text;
  normalized_a := NULL; normalized_b := NULL; method := NULL; score := NULL; threshold := NULL;
  passed := NULL; rule_passed := (ida = idb);
  note := CASE WHEN ida IS NULL OR idb IS NULL THEN 'not unified yet: run CALL cdp.unify()'
               WHEN ida = idb THEN format('one customer (%s) after the last run', ida)
               ELSE format('two customers (%s and %s) after the last run; other records can still link them', ida, idb) END;
  RETURN NEXT;
  DROP TABLE IF EXISTS pg_temp._cdp_xa, pg_temp._cdp_xb;
END;
$$;
COMMENT ON FUNCTION @extschema@.explain_match(text, text, text, text) IS
  'Why two records do or do not match: one row per rule and condition with the values, normalised values, method, score, threshold and outcome, then a row with the customers they belong to';

CREATE FUNCTION @extschema@.explain_rules()
RETURNS TABLE(rule text, rule_position integer, conditions text, sources text[], blocking_keys text[],
              name_swap boolean, candidate_pairs bigint, skipped_keys bigint, matched_pairs bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
AS $$
#variable_conflict use_column
DECLARE
  r @extschema@.match_rule%ROWTYPE;
  res record;
  last_refine jsonb;
  staged boolean := EXISTS (SELECT 1 FROM @extschema@.unify_record);
  refine boolean;
BEGIN
  SELECT skipped_blocks -> '_refine' INTO last_refine FROM @extschema@.unify_run ORDER BY run_id DESC LIMIT 1;
  IF staged THEN
    DROP TABLE IF EXISTS pg_temp._cdp_rule_pairs;
    CREATE TEMP TABLE _cdp_rule_pairs (a bigint, b bigint, rule integer);
  END IF;
  FOR r IN SELECT * FROM @extschema@.match_rule ORDER BY position LOOP
    rule := r.name;
    rule_position := r.position;
    sources := r.sources;
    conditions := (SELECT string_agg(format('%s %s%s%s', c ->> 'attribute', c ->> 'method',
                                             CASE WHEN c ->> 'method' = 'exact' THEN '' ELSE ' >= ' || (c ->> 'threshold') END,
                                             CASE WHEN (c ->> 'nicknames')::boolean AND c ->> 'method' <> 'name' THEN ' +nicknames' ELSE '' END),
                                      ', ' ORDER BY o)
                     FROM jsonb_array_elements(r.conditions) WITH ORDINALITY AS t(c, o));
    refine := coalesce((last_refine ->> r.name)::boolean,
                       CASE WHEN staged THEN @extschema@._needs_refine(r, (SELECT count(*) FROM @extschema@.unify_record)) ELSE false END);
    blocking_keys := ARRAY(SELECT @extschema@._pass_text(p) FROM @extschema@._rule_passes(r.conditions, refine) p);
    name_swap := @extschema@._rule_swaps(r.conditions);
    IF staged THEN
      TRUNCATE pg_temp._cdp_rule_pairs;
      SELECT * INTO res FROM @extschema@._match_rule(r, refine, false, NULL);
      candidate_pairs := res.candidates;
      skipped_keys := res.skipped;
      matched_pairs := (SELECT count(*) FROM (SELECT DISTINCT a, b FROM pg_temp._cdp_rule_pairs) d);
    ELSE
      candidate_pairs := NULL; skipped_keys := NULL; matched_pairs := NULL;
    END IF;
    RETURN NEXT;
  END LOOP;
  IF NOT staged THEN
    RAISE NOTICE 'no records staged yet: candidate and matched pair counts need a first CALL cdp.unify()';
  END IF;
  DROP TABLE IF EXISTS pg_temp._cdp_rule_pairs;
END;
$$;
COMMENT ON FUNCTION @extschema@.explain_rules()  IS
  'The match rules with their blocking keys and, over the records staged by the last cdp.unify(), the candidate pairs each produces, the key values skipped as too common and the pairs that match';
