
-- ---------------------------------------------------------------------------
-- unify_catalog.sql: what unification is configured with (sources and their
-- attribute mappings, match rules, exceptions, overrides, merge policies),
-- what it produces (customers, their source records, id history, runs) and
-- the functions that change the configuration.  Everything is validated on
-- the way in; the engine itself is in unify.sql.
-- ---------------------------------------------------------------------------

-- Semantic attribute types: the name of a unified attribute picks its SQL
-- type, normalisation, comparison method and default precision.
CREATE TABLE @extschema@.attribute_type (
    name            text PRIMARY KEY,
    sql_type        text NOT NULL,
    normalize       text NOT NULL,
    method          text NOT NULL,
    precision       text NOT NULL,
    categories      text NOT NULL,
    description     text NOT NULL
);
COMMENT ON TABLE @extschema@.attribute_type IS
  'Semantic types of unified attributes: an attribute named like one of these gets its SQL type, normalisation, comparison method and default precision';
COMMENT ON COLUMN @extschema@.attribute_type.name IS 'the attribute name that carries this type (first_name, email…)';
COMMENT ON COLUMN @extschema@.attribute_type.sql_type IS 'type of the attribute''s column in cdp.customer';
COMMENT ON COLUMN @extschema@.attribute_type.normalize IS 'default normalisation before comparison (name, email, phone, address, org, postal, id, date, text)';
COMMENT ON COLUMN @extschema@.attribute_type.method IS 'default comparison method of a match condition (exact, edit, jaro_winkler, token, name, phonetic)';
COMMENT ON COLUMN @extschema@.attribute_type.precision IS 'default precision of a match condition (exact, high, medium, low)';
COMMENT ON COLUMN @extschema@.attribute_type.categories IS 'pg_type.typcategory letters of the source column types that can hold the attribute';
COMMENT ON COLUMN @extschema@.attribute_type.description IS 'what the attribute is';

INSERT INTO @extschema@.attribute_type VALUES
  ('first_name',    'text', 'name',    'name',         'high',  'S',   'given name; first and last names entered the wrong way round still match'),
  ('last_name',     'text', 'name',    'name',         'high',  'S',   'family name'),
  ('full_name',     'text', 'name',    'name',         'high',  'S',   'whole name in one field ("Ann Lee", "LEE, Ann"); first_name and last_name are derived from it for matching when a source has no separate fields'),
  ('email',         'text', 'email',   'exact',        'exact', 'S',   'e-mail address (provider rules: Gmail dots and +tags)'),
  ('phone',         'text', 'phone',   'exact',        'exact', 'SN',  'telephone number, compared in E.164 form; the mapping may name a "region", or an array of regions tried in order (default cdp.default_region)'),
  ('address_line1', 'text', 'address', 'token',        'high',  'S',   'first address line (street and number)'),
  ('address_line2', 'text', 'address', 'token',        'high',  'S',   'second address line (apartment, suite)'),
  ('street_number', 'text', 'text',    'exact',        'exact', 'SN',  'house number'),
  ('city',          'text', 'text',    'jaro_winkler', 'high',  'S',   'city or town'),
  ('postal_code',   'text', 'postal',  'exact',        'exact', 'SN',  'postal code or ZIP, compared without spaces and case'),
  ('state',         'text', 'text',    'exact',        'exact', 'S',   'state, county or province'),
  ('country',       'text', 'text',    'exact',        'exact', 'S',   'country name or code'),
  ('birth_date',    'date', 'date',    'exact',        'exact', 'D',   'date of birth'),
  ('company',       'text', 'org',     'token',        'high',  'S',   'organisation name, legal forms removed'),
  ('national_id',   'text', 'id',      'exact',        'exact', 'SN',  'national identifier (SSN, NI number…), compared as letters and digits only'),
  ('loyalty_id',    'text', 'id',      'exact',        'exact', 'SN',  'loyalty card or membership number, compared as letters and digits only'),
  ('customer_number','text','id',      'exact',        'exact', 'SN',  'an account or customer number shared between systems'),
  ('gender',        'text', 'text',    'exact',        'exact', 'S',   'gender as recorded');

CREATE TABLE @extschema@.source (
    name                text PRIMARY KEY,
    relation            regclass NOT NULL,
    key_column          name NOT NULL,
    attributes          jsonb NOT NULL,
    priority            integer NOT NULL DEFAULT 100,
    updated_at_column   name,
    created_at          timestamptz NOT NULL DEFAULT now(),
    source_id           integer NOT NULL UNIQUE
);
COMMENT ON TABLE @extschema@.source IS
  'Sources of customer records (any table, view, materialised view or foreign table), created with cdp.add_source';
COMMENT ON COLUMN @extschema@.source.name IS 'name of the source, as used in cdp.customer_source and match rules';
COMMENT ON COLUMN @extschema@.source.relation IS 'the table, view, materialised view or foreign table read';
COMMENT ON COLUMN @extschema@.source.key_column IS 'column that identifies a record of the source (unique, not null)';
COMMENT ON COLUMN @extschema@.source.attributes IS 'mapping of unified attribute names to columns, as given to add_source (normalised to objects)';
COMMENT ON COLUMN @extschema@.source.priority IS 'merge priority: the smallest number wins under the "priority" policy';
COMMENT ON COLUMN @extschema@.source.updated_at_column IS 'column telling when a record last changed, used by most_recent / least_recent';
COMMENT ON COLUMN @extschema@.source.created_at IS 'when the source was added';
COMMENT ON COLUMN @extschema@.source.source_id IS 'internal number of the source';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.source', '');

CREATE SEQUENCE @extschema@.source_id_seq;
COMMENT ON SEQUENCE @extschema@.source_id_seq IS 'numbers sources';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.source_id_seq', '');

-- The unified attributes: the union of what the sources map, with one type each.
CREATE TABLE @extschema@.attribute (
    name            text PRIMARY KEY,
    semantic_type   text REFERENCES @extschema@.attribute_type,
    sql_type        text NOT NULL
);
COMMENT ON TABLE @extschema@.attribute IS
  'Unified attributes: every attribute some source maps, with its semantic type (NULL for a plain attribute) and the SQL type of its cdp.customer column. Maintained by add_source / alter_source / drop_source';
COMMENT ON COLUMN @extschema@.attribute.name IS 'attribute name, also the column name in cdp.customer';
COMMENT ON COLUMN @extschema@.attribute.semantic_type IS 'the semantic type (cdp.attribute_type) or NULL for a plain attribute';
COMMENT ON COLUMN @extschema@.attribute.sql_type IS 'SQL type of the value';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.attribute', '');

CREATE TABLE @extschema@.match_rule (
    name        text PRIMARY KEY,
    position    integer NOT NULL UNIQUE,
    conditions  jsonb NOT NULL,
    sources     text[],
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE @extschema@.match_rule IS
  'Match rules, tried in position order: two records match when all conditions of at least one rule hold';
COMMENT ON COLUMN @extschema@.match_rule.name IS 'rule name';
COMMENT ON COLUMN @extschema@.match_rule.position IS 'order of the rule (1 first); reported per rule in unify summaries';
COMMENT ON COLUMN @extschema@.match_rule.conditions IS 'the conditions, completed with their defaults (attribute, precision, threshold, normalize, method, nicknames)';
COMMENT ON COLUMN @extschema@.match_rule.sources IS 'sources the rule applies to (both records must come from one of them); NULL for all';
COMMENT ON COLUMN @extschema@.match_rule.created_at IS 'when the rule was added';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.match_rule', '');

CREATE TABLE @extschema@.match_exception (
    attribute   text,
    value       text NOT NULL,
    is_pattern  boolean NOT NULL DEFAULT false,
    builtin     boolean NOT NULL DEFAULT false,
    note        text,
    UNIQUE NULLS NOT DISTINCT (attribute, value, is_pattern)
);
COMMENT ON TABLE @extschema@.match_exception IS
  'Values that never match (placeholders such as noemail@example.com or 0000000000): compared with the normalised value of the attribute (any attribute when attribute is NULL), exactly or as a regular expression';
COMMENT ON COLUMN @extschema@.match_exception.attribute IS 'the unified attribute, or NULL for every attribute';
COMMENT ON COLUMN @extschema@.match_exception.value IS 'the normalised value, or a POSIX regular expression when is_pattern';
COMMENT ON COLUMN @extschema@.match_exception.is_pattern IS 'value is a regular expression matched against the normalised value';
COMMENT ON COLUMN @extschema@.match_exception.builtin IS 'shipped with pg_cdp (not dumped; delete it to let such values match)';
COMMENT ON COLUMN @extschema@.match_exception.note IS 'why the value is an exception';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.match_exception', 'WHERE NOT builtin');

INSERT INTO @extschema@.match_exception (attribute, value, is_pattern, builtin, note) VALUES
  ('email', '^(no|no-?e?mail|no-?reply|do-?not-?reply|none|null|nil|na|n-a|unknown|noone|nobody|test|asdf|x+|abc)@', true, true, 'placeholder local part'),
  ('email', '@(example\.(com|net|org)|([^@]*\.)?(test|invalid|localhost|example))$', true, true, 'reserved domain (RFC 2606): example.com, .net, .org and the .test, .invalid, .localhost, .example names'),
  ('email', '@(none|nomail|noemail|no-email|na|unknown)\.[a-z]+$', true, true, 'placeholder domain'),
  ('phone', '^\+[0-9]{1,3}?([0-9])\1{6,}$', true, true, 'a country code followed by one digit repeated (0000000000, 999-999-9999)'),
  ('phone', '^\+?[0-9]?[0-9]?(0123456789|123456789|1234567890|9876543210)$', true, true, 'counting digits'),
  (NULL, 'unknown', false, true, 'placeholder'),
  (NULL, 'n a', false, true, 'placeholder ("N/A")'),
  (NULL, 'none', false, true, 'placeholder'),
  (NULL, 'null', false, true, 'placeholder'),
  (NULL, 'xxx', false, true, 'placeholder'),
  (NULL, 'tbd', false, true, 'placeholder'),
  (NULL, 'anonymous', false, true, 'placeholder'),
  (NULL, 'not provided', false, true, 'placeholder'),
  (NULL, 'refused', false, true, 'placeholder'),
  (NULL, 'unknown unknown', false, true, 'placeholder');

CREATE TABLE @extschema@.match_override (
    source_a    text NOT NULL,
    key_a       text NOT NULL,
    source_b    text NOT NULL,
    key_b       text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('always', 'never')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_a, key_a, source_b, key_b),
    CHECK ((source_a, key_a) < (source_b, key_b))
);
COMMENT ON TABLE @extschema@.match_override IS
  'Pairs of records that always or never belong to the same customer, whatever the rules say (stored with the smaller (source, key) first)';
COMMENT ON COLUMN @extschema@.match_override.source_a IS 'source of the first record';
COMMENT ON COLUMN @extschema@.match_override.key_a IS 'key of the first record, as text';
COMMENT ON COLUMN @extschema@.match_override.source_b IS 'source of the second record';
COMMENT ON COLUMN @extschema@.match_override.key_b IS 'key of the second record, as text';
COMMENT ON COLUMN @extschema@.match_override.kind IS '''always'': the records are one customer; ''never'': they are never put in one customer, even through other records';
COMMENT ON COLUMN @extschema@.match_override.created_at IS 'when the override was added';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.match_override', '');

CREATE TABLE @extschema@.merge_policy (
    attribute   text PRIMARY KEY,
    policy      text NOT NULL CHECK (policy IN ('priority', 'most_recent', 'least_recent', 'most_frequent', 'longest', 'most_filled', 'collect', 'exclude')),
    options     jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE @extschema@.merge_policy IS
  'How each attribute of cdp.customer is chosen among a customer''s source records; attributes without a row use ''priority''';
COMMENT ON COLUMN @extschema@.merge_policy.attribute IS 'unified attribute';
COMMENT ON COLUMN @extschema@.merge_policy.policy IS 'priority, most_recent, least_recent, most_frequent, longest, most_filled, collect or exclude';
COMMENT ON COLUMN @extschema@.merge_policy.options IS 'policy options: {"column": c} for most_recent / least_recent ranks by column c of each source that has it';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.merge_policy', '');

-- ---------------------------------------------------------------------------
-- Results.
-- ---------------------------------------------------------------------------

CREATE SEQUENCE @extschema@.customer_id_seq;
COMMENT ON SEQUENCE @extschema@.customer_id_seq IS 'new customer ids';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.customer_id_seq', '');

-- One column per unified attribute is added and dropped by cdp.unify().
CREATE TABLE @extschema@.customer (
    customer_id     bigint PRIMARY KEY,
    record_count    integer NOT NULL,
    sources         text[] NOT NULL,
    updated_run     bigint NOT NULL
);
COMMENT ON TABLE @extschema@.customer IS
  'Unified customer profiles, one row per customer, one typed column per unified attribute (columns follow the configured attributes at each cdp.unify())';
COMMENT ON COLUMN @extschema@.customer.customer_id IS 'stable customer id (see cdp.customer_id_history)';
COMMENT ON COLUMN @extschema@.customer.record_count IS 'number of source records unified into the customer';
COMMENT ON COLUMN @extschema@.customer.sources IS 'sources the customer''s records come from, sorted';
COMMENT ON COLUMN @extschema@.customer.updated_run IS 'the unify run that last changed this row';

CREATE TABLE @extschema@.customer_source (
    customer_id     bigint NOT NULL,
    source          text NOT NULL,
    source_key      text NOT NULL,
    PRIMARY KEY (source, source_key)
);
CREATE INDEX ON @extschema@.customer_source (customer_id);
COMMENT ON TABLE @extschema@.customer_source IS
  'Which source records make up each customer';
COMMENT ON COLUMN @extschema@.customer_source.customer_id IS 'the customer';
COMMENT ON COLUMN @extschema@.customer_source.source IS 'source name (cdp.source)';
COMMENT ON COLUMN @extschema@.customer_source.source_key IS 'the record''s key in the source, as text';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.customer_source', '');

CREATE TABLE @extschema@.unify_run (
    run_id              bigint PRIMARY KEY,
    started_at          timestamptz NOT NULL,
    finished_at         timestamptz NOT NULL,
    mode                text NOT NULL,
    mode_reason         text,
    records             bigint NOT NULL,
    records_new         bigint NOT NULL,
    records_changed     bigint NOT NULL,
    records_deleted     bigint NOT NULL,
    candidate_pairs     bigint NOT NULL,
    matched_pairs       bigint NOT NULL,
    matches_per_rule    jsonb NOT NULL,
    skipped_blocks      jsonb NOT NULL,
    clusters            bigint NOT NULL,
    customers           bigint NOT NULL,
    new_ids             bigint NOT NULL,
    merged_ids          bigint NOT NULL,
    split_ids           bigint NOT NULL,
    deleted_ids         bigint NOT NULL,
    oversized_clusters  jsonb NOT NULL,
    phase_ms            jsonb NOT NULL,
    config_hash         text NOT NULL
);
COMMENT ON TABLE @extschema@.unify_run IS 'One row per completed cdp.unify() run: what it read, matched, clustered and changed, and how long each phase took';
COMMENT ON COLUMN @extschema@.unify_run.run_id IS 'run number';
COMMENT ON COLUMN @extschema@.unify_run.started_at IS 'start (clock time)';
COMMENT ON COLUMN @extschema@.unify_run.finished_at IS 'end (clock time)';
COMMENT ON COLUMN @extschema@.unify_run.mode IS '''full'' or ''incremental''';
COMMENT ON COLUMN @extschema@.unify_run.mode_reason IS 'why a full run was done';
COMMENT ON COLUMN @extschema@.unify_run.records IS 'source records after the run';
COMMENT ON COLUMN @extschema@.unify_run.records_new IS 'records new since the previous run (all of them in a full run)';
COMMENT ON COLUMN @extschema@.unify_run.records_changed IS 'records changed since the previous run';
COMMENT ON COLUMN @extschema@.unify_run.records_deleted IS 'records gone since the previous run';
COMMENT ON COLUMN @extschema@.unify_run.candidate_pairs IS 'record pairs produced by blocking, summed over rules';
COMMENT ON COLUMN @extschema@.unify_run.matched_pairs IS 'distinct record pairs that satisfied a rule or an always-override';
COMMENT ON COLUMN @extschema@.unify_run.matches_per_rule IS 'rule name → pairs that satisfied it (a pair can satisfy several rules)';
COMMENT ON COLUMN @extschema@.unify_run.skipped_blocks IS 'rule name → blocking key values left out because more than cdp.max_block_size records share them';
COMMENT ON COLUMN @extschema@.unify_run.clusters IS 'clusters (re)computed by the run';
COMMENT ON COLUMN @extschema@.unify_run.customers IS 'customers after the run';
COMMENT ON COLUMN @extschema@.unify_run.new_ids IS 'customer ids created (new customers and parts split off existing ones)';
COMMENT ON COLUMN @extschema@.unify_run.merged_ids IS 'customer ids that disappeared because their records joined another customer';
COMMENT ON COLUMN @extschema@.unify_run.split_ids IS 'customer ids that kept their id but lost records to another customer';
COMMENT ON COLUMN @extschema@.unify_run.deleted_ids IS 'customer ids whose records all disappeared';
COMMENT ON COLUMN @extschema@.unify_run.oversized_clusters IS 'clusters larger than cdp.max_cluster_size, left unmerged: their size and some of their records';
COMMENT ON COLUMN @extschema@.unify_run.phase_ms IS 'milliseconds per phase';
COMMENT ON COLUMN @extschema@.unify_run.config_hash IS 'digest of the configuration the run used; a change forces a full run';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.unify_run', '');

CREATE SEQUENCE @extschema@.unify_run_seq;
COMMENT ON SEQUENCE @extschema@.unify_run_seq IS 'unify run numbers';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.unify_run_seq', '');

CREATE TABLE @extschema@.customer_id_history (
    old_id      bigint,
    new_id      bigint,
    reason      text NOT NULL CHECK (reason IN ('created', 'merged', 'split', 'deleted')),
    run_id      bigint NOT NULL,
    records     integer NOT NULL
);
CREATE INDEX ON @extschema@.customer_id_history (old_id);
CREATE INDEX ON @extschema@.customer_id_history (new_id);
COMMENT ON TABLE @extschema@.customer_id_history IS
  'Every change of customer ids: created (old_id NULL), merged (old_id''s records went to the surviving new_id), split (records of old_id went to the new id new_id), deleted (new_id NULL)';
COMMENT ON COLUMN @extschema@.customer_id_history.old_id IS 'the id before the run (NULL when created)';
COMMENT ON COLUMN @extschema@.customer_id_history.new_id IS 'the id after the run (NULL when deleted)';
COMMENT ON COLUMN @extschema@.customer_id_history.reason IS 'created, merged, split or deleted';
COMMENT ON COLUMN @extschema@.customer_id_history.run_id IS 'the unify run (cdp.unify_run)';
COMMENT ON COLUMN @extschema@.customer_id_history.records IS 'how many source records moved from old_id to new_id';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.customer_id_history', '');

-- Internal state of the engine: the staged, normalised records and the
-- matched pairs.  Unlogged: after a crash they are empty and the next run is
-- a full one, which gives the same ids because ids follow cdp.customer_source.
CREATE UNLOGGED TABLE @extschema@.unify_record (
    rid             bigint PRIMARY KEY,
    source_id       integer NOT NULL,
    source_key      text NOT NULL,
    row_hash        text NOT NULL,
    priority        integer NOT NULL,
    filled          integer NOT NULL,
    updated_at      timestamptz,
    UNIQUE (source_id, source_key)
);
COMMENT ON TABLE @extschema@.unify_record IS
  'Internal: the source records as the last run saw them, with their attribute values (v_*), normalised values (n_*) and phonetic keys (m_*)';
COMMENT ON COLUMN @extschema@.unify_record.rid IS 'internal record number';
COMMENT ON COLUMN @extschema@.unify_record.source_id IS 'cdp.source.source_id';
COMMENT ON COLUMN @extschema@.unify_record.source_key IS 'key in the source, as text';
COMMENT ON COLUMN @extschema@.unify_record.row_hash IS 'digest of the mapped columns, to detect changes';
COMMENT ON COLUMN @extschema@.unify_record.priority IS 'the source''s priority';
COMMENT ON COLUMN @extschema@.unify_record.filled IS 'number of non-null mapped attributes';
COMMENT ON COLUMN @extschema@.unify_record.updated_at IS 'the source''s updated_at_column';

CREATE SEQUENCE @extschema@.unify_record_seq;
COMMENT ON SEQUENCE @extschema@.unify_record_seq IS 'internal record numbers';

CREATE UNLOGGED TABLE @extschema@.unify_delta (
    rid     bigint PRIMARY KEY
);
COMMENT ON TABLE @extschema@.unify_delta IS
  'Internal: the records new or changed since the last run, during an incremental run (a plain table, so that parallel workers can read it)';
COMMENT ON COLUMN @extschema@.unify_delta.rid IS 'internal record number';

CREATE UNLOGGED TABLE @extschema@.unify_pair (
    a       bigint NOT NULL,
    b       bigint NOT NULL,
    rule    integer NOT NULL,
    PRIMARY KEY (a, b)
);
CREATE INDEX ON @extschema@.unify_pair (b);
COMMENT ON TABLE @extschema@.unify_pair IS
  'Internal: matched record pairs (a < b) of the last run, with the position of the first rule they satisfied (0 for an always-override)';
COMMENT ON COLUMN @extschema@.unify_pair.a IS 'the smaller record number';
COMMENT ON COLUMN @extschema@.unify_pair.b IS 'the larger record number';
COMMENT ON COLUMN @extschema@.unify_pair.rule IS 'position of the first rule satisfied, 0 for an always-override';

-- Everyone may read the configuration and the run log; profile data
-- (customer, customer_source, customer_id_history) stays with the owner
-- until roles are granted it.
GRANT SELECT ON @extschema@.attribute_type, @extschema@.attribute, @extschema@.source,
  @extschema@.match_rule, @extschema@.match_exception, @extschema@.merge_policy,
  @extschema@.unify_run TO PUBLIC;

-- ---------------------------------------------------------------------------
-- Configuration functions.
-- ---------------------------------------------------------------------------

-- Reserved names: the fixed columns of cdp.customer.
CREATE FUNCTION @extschema@._check_attribute_name(attr text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF attr !~ '^[a-z][a-z0-9_]{0,39}$' THEN
    RAISE EXCEPTION 'invalid attribute name "%"', attr
      USING ERRCODE = '42602',
            DETAIL = 'Attribute names become column names of cdp.customer.',
            HINT = 'Use 1 to 40 lowercase letters, digits and underscores, starting with a letter.';
  END IF;
  IF attr IN ('customer_id', 'record_count', 'sources', 'updated_run') THEN
    RAISE EXCEPTION 'attribute name "%" is reserved', attr
      USING ERRCODE = '42602',
            DETAIL = 'cdp.customer has a column of that name already.',
            HINT = 'Choose another name for the attribute.';
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@._check_attribute_name(text) IS 'Internal: raises an error unless the text can be a unified attribute name';

-- Checks the "region" of a phone mapping or link: a region code, or a
-- non-empty array of them tried in order; what names its owner in errors.
CREATE FUNCTION @extschema@._check_region(region jsonb, what text)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF jsonb_typeof(region) = 'string' THEN
    PERFORM @extschema@.normalize_phone('+1 212 555 0100', region #>> '{}');
  ELSIF jsonb_typeof(region) = 'array' AND jsonb_array_length(region) > 0
        AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(region) x WHERE jsonb_typeof(x) <> 'string') THEN
    PERFORM @extschema@.normalize_phone('+1 212 555 0100', x) FROM jsonb_array_elements_text(region) x;
  ELSE
    RAISE EXCEPTION '"region" of % must be a region code or an array of them', what
      USING ERRCODE = '22023', HINT = 'Write "GB", or ["US", "GB"] to try regions in order.';
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@._check_region(jsonb, text) IS 'Internal: raises an error unless a phone region (or array of regions) is valid';

-- Validates a source definition and returns its attribute mapping in the
-- stored form: {attr: {"column": c, "type": t[, "region": r]}}.
CREATE FUNCTION @extschema@._validate_source(src_name text, rel regclass, key_col name,
                                             attrs jsonb, upd_col name)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  relkind char;
  a record;
  spec jsonb;
  col text;
  coltype oid;
  cat char;
  atype @extschema@.attribute_type%ROWTYPE;
  sqltype text;
  known_type text;
  result jsonb := '{}';
  dups bigint;
  nulls bigint;
  k text;
BEGIN
  IF src_name IS NULL OR src_name !~ '^[A-Za-z0-9_][A-Za-z0-9_ .-]{0,62}$' THEN
    RAISE EXCEPTION 'invalid source name "%"', src_name
      USING ERRCODE = '22023',
            HINT = 'Use up to 63 letters, digits, spaces, dots, dashes and underscores.';
  END IF;
  IF rel IS NULL THEN
    RAISE EXCEPTION 'the relation of source "%" must not be NULL', src_name USING ERRCODE = '22004';
  END IF;
  SELECT c.relkind INTO relkind FROM pg_class c WHERE c.oid = rel;
  IF relkind IS NULL THEN
    RAISE EXCEPTION 'relation with OID % does not exist', rel::oid USING ERRCODE = '42P01';
  END IF;
  IF relkind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
    RAISE EXCEPTION '"%" cannot be a source', rel
      USING ERRCODE = '42809',
            DETAIL = 'A source is a table, view, materialised view or foreign table.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = rel AND attname = key_col
                   AND attnum > 0 AND NOT attisdropped) THEN
    RAISE EXCEPTION 'column "%" of relation "%" does not exist', key_col, rel
      USING ERRCODE = '42703', HINT = 'The key column identifies each record of the source.';
  END IF;
  IF upd_col IS NOT NULL THEN
    SELECT t.typcategory, t.oid INTO cat, coltype
      FROM pg_attribute at JOIN pg_type t ON t.oid = at.atttypid
     WHERE at.attrelid = rel AND at.attname = upd_col AND at.attnum > 0 AND NOT at.attisdropped;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'column "%" of relation "%" does not exist', upd_col, rel
        USING ERRCODE = '42703', HINT = 'updated_at_column names the column telling when a record last changed.';
    END IF;
    IF coltype NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
      RAISE EXCEPTION 'column "%" of relation "%" is of type %, not a date or timestamp', upd_col, rel, coltype::regtype
        USING ERRCODE = '42804', HINT = 'Name a column of type timestamptz, timestamp or date, or map a view that casts it.';
    END IF;
  END IF;
  IF attrs IS NULL OR jsonb_typeof(attrs) <> 'object' OR attrs = '{}' THEN
    RAISE EXCEPTION 'attributes of source "%" must be a non-empty JSON object', src_name
      USING ERRCODE = '22023',
            HINT = 'Map unified attribute names to columns, as in {"email": "email_addr", "phone": {"column": "tel", "region": "GB"}}.';
  END IF;

  FOR a IN SELECT key, value FROM jsonb_each(attrs) ORDER BY key LOOP
    PERFORM @extschema@._check_attribute_name(a.key);
    IF jsonb_typeof(a.value) = 'string' THEN
      spec := jsonb_build_object('column', a.value #>> '{}');
    ELSIF jsonb_typeof(a.value) = 'object' THEN
      spec := a.value;
      FOR k IN SELECT jsonb_object_keys(spec) LOOP
        IF k NOT IN ('column', 'region', 'type') THEN
          RAISE EXCEPTION 'unknown key "%" in the mapping of attribute "%"', k, a.key
            USING ERRCODE = '22023', HINT = 'An attribute maps to a column name or to {"column": ..., "type": ..., "region": ...}.';
        END IF;
      END LOOP;
      IF jsonb_typeof(spec -> 'column') IS DISTINCT FROM 'string' THEN
        RAISE EXCEPTION 'attribute "%" of source "%" names no column', a.key, src_name
          USING ERRCODE = '22023', HINT = 'Write {"column": "column_name"}.';
      END IF;
    ELSE
      RAISE EXCEPTION 'attribute "%" of source "%" must map to a column name or an object', a.key, src_name
        USING ERRCODE = '22023', HINT = 'Write "column_name" or {"column": "column_name"}.';
    END IF;
    col := spec ->> 'column';
    SELECT at.atttypid, t.typcategory INTO coltype, cat
      FROM pg_attribute at JOIN pg_type t ON t.oid = at.atttypid
     WHERE at.attrelid = rel AND at.attname = col AND at.attnum > 0 AND NOT at.attisdropped;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'column "%" of relation "%" does not exist', col, rel
        USING ERRCODE = '42703',
              DETAIL = format('Attribute "%s" of source "%s" maps to it.', a.key, src_name);
    END IF;

    SELECT * INTO atype FROM @extschema@.attribute_type WHERE name = a.key;
    IF FOUND THEN
      sqltype := atype.sql_type;
      IF spec ? 'type' AND (spec ->> 'type')::regtype::text IS DISTINCT FROM sqltype::regtype::text THEN
        RAISE EXCEPTION 'attribute "%" is of type %, not %', a.key, sqltype, spec ->> 'type'
          USING ERRCODE = '42804', DETAIL = 'Its semantic type fixes the type.', HINT = 'Leave "type" out, or use another attribute name.';
      END IF;
      IF position(cat IN atype.categories) = 0 THEN
        RAISE EXCEPTION 'column "%" of relation "%" (type %) cannot hold attribute "%"', col, rel, coltype::regtype, a.key
          USING ERRCODE = '42804',
                DETAIL = format('Attribute "%s" is a %s and needs a %s column.', a.key, atype.description,
                                CASE atype.categories WHEN 'S' THEN 'text' WHEN 'SN' THEN 'text or numeric'
                                                      WHEN 'D' THEN 'date or timestamp' ELSE atype.categories END),
                HINT = 'Map a view that converts the column, or map another column.';
      END IF;
      IF spec ? 'region' THEN
        IF a.key <> 'phone' THEN
          RAISE EXCEPTION '"region" applies to the phone attribute only, not to "%"', a.key USING ERRCODE = '22023';
        END IF;
        PERFORM @extschema@._check_region(spec -> 'region', format('attribute "%s"', a.key));
      END IF;
    ELSE
      IF NOT spec ? 'type' THEN
        RAISE EXCEPTION 'attribute "%" has no semantic type and no "type"', a.key
          USING ERRCODE = '22023',
                DETAIL = 'Attributes named like a semantic type (first_name, email, phone, birth_date… see cdp.attribute_type) have a type; others need one.',
                HINT = format('Write {"column": "%s", "type": "text"}.', col);
      END IF;
      BEGIN
        sqltype := format_type((spec ->> 'type')::regtype, NULL);
      EXCEPTION WHEN undefined_object OR syntax_error OR invalid_text_representation THEN
        RAISE EXCEPTION 'type "%" of attribute "%" does not exist', spec ->> 'type', a.key
          USING ERRCODE = '42704';
      END;
      IF coltype <> sqltype::regtype AND NOT EXISTS (
           SELECT 1 FROM pg_cast WHERE castsource = coltype AND casttarget = sqltype::regtype)
         AND sqltype::regtype NOT IN ('text'::regtype, 'varchar'::regtype) THEN
        RAISE EXCEPTION 'column "%" of relation "%" (type %) cannot hold attribute "%" of type %', col, rel, coltype::regtype, a.key, sqltype
          USING ERRCODE = '42804', HINT = 'Map a view that converts the column, or declare another "type".';
      END IF;
      spec := spec || jsonb_build_object('type', sqltype);
    END IF;
    SELECT t.sql_type INTO known_type FROM @extschema@.attribute t
     WHERE t.name = a.key
       AND EXISTS (SELECT 1 FROM @extschema@.source s WHERE s.name <> src_name AND s.attributes ? a.key);
    IF known_type IS NOT NULL AND known_type <> sqltype THEN
      RAISE EXCEPTION 'attribute "%" is of type % in other sources, not %', a.key, known_type, sqltype
        USING ERRCODE = '42804', HINT = 'Use the same type in every source, or another attribute name.';
    END IF;
    result := result || jsonb_build_object(a.key, spec || jsonb_build_object('sql_type', sqltype));
  END LOOP;

  -- The key must identify records: not null, unique.
  EXECUTE format('SELECT count(*) - count(DISTINCT %1$I), count(*) - count(%1$I) FROM %2$s', key_col, rel)
    INTO dups, nulls;
  IF nulls > 0 THEN
    RAISE EXCEPTION 'key column "%" of source "%" has % NULL value(s)', key_col, src_name, nulls
      USING ERRCODE = '23502', HINT = 'Every record needs a key; map a view that leaves such records out or gives them one.';
  END IF;
  IF dups > 0 THEN
    RAISE EXCEPTION 'key column "%" of source "%" is not unique', key_col, src_name
      USING ERRCODE = '23505',
            DETAIL = format('%s record(s) repeat a key that an earlier record has.', dups),
            HINT = 'Choose a column (or a view''s column) that identifies each record.';
  END IF;
  RETURN result;
END;
$$;
COMMENT ON FUNCTION @extschema@._validate_source(text, regclass, name, jsonb, name) IS
  'Internal: checks a source definition (relation kind, columns, types, unique non-null key) and returns its normalised attribute mapping';

-- Recomputes cdp.attribute from the sources.
CREATE FUNCTION @extschema@._refresh_attributes()
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $$
  DELETE FROM @extschema@.attribute a
   WHERE NOT EXISTS (SELECT 1 FROM @extschema@.source s WHERE s.attributes ? a.name);
  INSERT INTO @extschema@.attribute (name, semantic_type, sql_type)
  SELECT DISTINCT ON (e.key) e.key, t.name, e.value ->> 'sql_type'
    FROM @extschema@.source s, jsonb_each(s.attributes) e
    LEFT JOIN @extschema@.attribute_type t ON t.name = e.key
   ORDER BY e.key
  ON CONFLICT (name) DO UPDATE SET semantic_type = excluded.semantic_type, sql_type = excluded.sql_type;
$$;
COMMENT ON FUNCTION @extschema@._refresh_attributes() IS 'Internal: recomputes cdp.attribute from the sources';

CREATE FUNCTION @extschema@.add_source(name text, relation regclass, key_column name, attributes jsonb,
                                       priority integer DEFAULT 100, updated_at_column name DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  mapping jsonb;
BEGIN
  IF EXISTS (SELECT 1 FROM @extschema@.source s WHERE s.name = add_source.name) THEN
    RAISE EXCEPTION 'source "%" already exists', add_source.name
      USING ERRCODE = '42710', HINT = 'Use cdp.alter_source to change it, or choose another name.';
  END IF;
  IF priority IS NULL THEN
    RAISE EXCEPTION 'priority must not be NULL' USING ERRCODE = '22004';
  END IF;
  mapping := @extschema@._validate_source(add_source.name, relation, key_column, attributes, updated_at_column);
  INSERT INTO @extschema@.source (name, relation, key_column, attributes, priority, updated_at_column, source_id)
  VALUES (add_source.name, relation, key_column, mapping, priority, updated_at_column,
          nextval('@extschema@.source_id_seq'));
  PERFORM @extschema@._refresh_attributes();
END;
$$;
COMMENT ON FUNCTION @extschema@.add_source(text, regclass, name, jsonb, integer, name) IS
  'Adds a source of customer records: a relation, its key column, the mapping of unified attributes to its columns, its merge priority (smaller wins) and optionally the column telling when a record changed';

CREATE FUNCTION @extschema@.alter_source(name text, relation regclass DEFAULT NULL, key_column name DEFAULT NULL,
                                         attributes jsonb DEFAULT NULL, priority integer DEFAULT NULL,
                                         updated_at_column name DEFAULT NULL, new_name text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  s @extschema@.source%ROWTYPE;
  mapping jsonb;
  plain jsonb := '{}';
  e record;
BEGIN
  SELECT * INTO s FROM @extschema@.source WHERE source.name = alter_source.name FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'source "%" does not exist', alter_source.name
      USING ERRCODE = '42704', HINT = 'See SELECT name FROM cdp.source.';
  END IF;
  IF new_name IS NOT NULL AND new_name <> s.name
     AND EXISTS (SELECT 1 FROM @extschema@.source x WHERE x.name = new_name) THEN
    RAISE EXCEPTION 'source "%" already exists', new_name USING ERRCODE = '42710';
  END IF;
  -- the stored mapping, back in the form add_source takes
  IF attributes IS NULL THEN
    FOR e IN SELECT key, value FROM jsonb_each(s.attributes) LOOP
      plain := plain || jsonb_build_object(e.key, e.value - 'sql_type'
                 - CASE WHEN EXISTS (SELECT 1 FROM @extschema@.attribute_type t WHERE t.name = e.key) THEN 'type' ELSE '' END);
    END LOOP;
  END IF;
  mapping := @extschema@._validate_source(coalesce(new_name, s.name), coalesce(relation, s.relation),
                                          coalesce(key_column, s.key_column), coalesce(attributes, plain),
                                          coalesce(updated_at_column, s.updated_at_column));
  UPDATE @extschema@.source
     SET name = coalesce(new_name, s.name),
         relation = coalesce(alter_source.relation, s.relation),
         key_column = coalesce(alter_source.key_column, s.key_column),
         attributes = mapping,
         priority = coalesce(alter_source.priority, s.priority),
         updated_at_column = coalesce(alter_source.updated_at_column, s.updated_at_column)
   WHERE source.name = s.name;
  IF new_name IS NOT NULL AND new_name <> s.name THEN
    UPDATE @extschema@.customer_source SET source = new_name WHERE source = s.name;
    UPDATE @extschema@.match_override SET source_a = new_name WHERE source_a = s.name;
    UPDATE @extschema@.match_override SET source_b = new_name WHERE source_b = s.name;
    UPDATE @extschema@.match_rule SET sources = array_replace(sources, s.name, new_name)
     WHERE s.name = ANY (sources);
  END IF;
  PERFORM @extschema@._refresh_attributes();
END;
$$;
COMMENT ON FUNCTION @extschema@.alter_source(text, regclass, name, jsonb, integer, name, text) IS
  'Changes a source: arguments left NULL keep their value; new_name renames it (customer_source, overrides and rules follow)';

CREATE FUNCTION @extschema@.drop_source(name text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  DELETE FROM @extschema@.source WHERE source.name = drop_source.name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'source "%" does not exist', drop_source.name
      USING ERRCODE = '42704', HINT = 'See SELECT name FROM cdp.source.';
  END IF;
  DELETE FROM @extschema@.match_override o WHERE drop_source.name IN (o.source_a, o.source_b);
  UPDATE @extschema@.match_rule SET sources = array_remove(sources, drop_source.name)
   WHERE drop_source.name = ANY (sources);
  PERFORM @extschema@._refresh_attributes();
END;
$$;
COMMENT ON FUNCTION @extschema@.drop_source(text) IS
  'Removes a source; its records leave their customers at the next cdp.unify()';

-- Completes and checks one match condition.
CREATE FUNCTION @extschema@._complete_condition(cond jsonb, rule_name text)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  attr text;
  atype @extschema@.attribute_type%ROWTYPE;
  prec text;
  thr float8;
  norm jsonb;
  meth text;
  k text;
  opt text;
BEGIN
  IF jsonb_typeof(cond) IS DISTINCT FROM 'object' THEN
    RAISE EXCEPTION 'a condition of rule "%" is not a JSON object', rule_name
      USING ERRCODE = '22023', HINT = 'Write conditions as {"attribute": "last_name", "precision": "high"}.';
  END IF;
  FOR k IN SELECT jsonb_object_keys(cond) LOOP
    IF k NOT IN ('attribute', 'precision', 'normalize', 'method', 'nicknames') THEN
      RAISE EXCEPTION 'unknown key "%" in a condition of rule "%"', k, rule_name
        USING ERRCODE = '22023', HINT = 'A condition has attribute, and optionally precision, normalize, method and nicknames.';
    END IF;
  END LOOP;
  attr := cond ->> 'attribute';
  IF attr IS NULL THEN
    RAISE EXCEPTION 'a condition of rule "%" names no attribute', rule_name
      USING ERRCODE = '22023', HINT = 'Write {"attribute": "email"}.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM @extschema@.attribute a WHERE a.name = attr) THEN
    RAISE EXCEPTION 'attribute "%" in rule "%" is not mapped by any source', attr, rule_name
      USING ERRCODE = '42703', HINT = 'See SELECT name FROM cdp.attribute, or map it with cdp.add_source / cdp.alter_source.';
  END IF;
  SELECT * INTO atype FROM @extschema@.attribute_type t
   WHERE t.name = (SELECT a.semantic_type FROM @extschema@.attribute a WHERE a.name = attr);
  IF NOT FOUND THEN
    atype.normalize := CASE WHEN (SELECT sql_type FROM @extschema@.attribute a WHERE a.name = attr) = 'text' THEN 'text' ELSE 'none' END;
    atype.method := 'exact';
    atype.precision := 'exact';
  END IF;

  -- precision
  IF jsonb_typeof(cond -> 'precision') = 'number' THEN
    thr := (cond ->> 'precision')::float8;
    IF thr <= 0 OR thr > 1 THEN
      RAISE EXCEPTION 'precision % in rule "%" is out of range', thr, rule_name
        USING ERRCODE = '22003', HINT = 'A numeric precision is a similarity threshold greater than 0 and at most 1.';
    END IF;
    prec := cond ->> 'precision';
  ELSIF cond ? 'precision' THEN
    prec := cond ->> 'precision';
    thr := CASE prec WHEN 'exact' THEN 1.0 WHEN 'high' THEN 0.8 WHEN 'medium' THEN 0.6 WHEN 'low' THEN 0.3 END;
    IF thr IS NULL OR jsonb_typeof(cond -> 'precision') <> 'string' THEN
      RAISE EXCEPTION 'unknown precision % in rule "%"', cond -> 'precision', rule_name
        USING ERRCODE = '22023', HINT = 'Use exact, high, medium, low or a number in (0, 1].';
    END IF;
  ELSE
    prec := atype.precision;
    thr := CASE prec WHEN 'exact' THEN 1.0 WHEN 'high' THEN 0.8 WHEN 'medium' THEN 0.6 WHEN 'low' THEN 0.3 END;
  END IF;

  -- normalisation: a keyword or an array of normalize_text options
  IF NOT cond ? 'normalize' THEN
    norm := to_jsonb(atype.normalize);
  ELSIF jsonb_typeof(cond -> 'normalize') = 'string' THEN
    norm := cond -> 'normalize';
    IF norm #>> '{}' NOT IN ('email', 'phone', 'name', 'address', 'org', 'postal', 'id', 'text', 'none') THEN
      IF norm #>> '{}' IN ('whitespace', 'symbols', 'lowercase', 'unicode', 'numerals') THEN
        norm := jsonb_build_array(norm);
      ELSE
        RAISE EXCEPTION 'unknown normalisation % in rule "%"', cond -> 'normalize', rule_name
          USING ERRCODE = '22023',
                HINT = 'Use email, phone, name, address, org, postal, id, text, none, or an array of cdp.normalize_text options (whitespace, symbols, lowercase, unicode, numerals).';
      END IF;
    END IF;
  ELSIF jsonb_typeof(cond -> 'normalize') = 'array' THEN
    norm := cond -> 'normalize';
    FOR opt IN SELECT jsonb_array_elements_text(norm) LOOP
      IF opt NOT IN ('whitespace', 'symbols', 'lowercase', 'unicode', 'numerals') THEN
        RAISE EXCEPTION 'unknown normalisation option "%" in rule "%"', opt, rule_name
          USING ERRCODE = '22023', HINT = 'cdp.normalize_text options are whitespace, symbols, lowercase, unicode and numerals.';
      END IF;
    END LOOP;
  ELSE
    RAISE EXCEPTION 'normalize in rule "%" must be a string or an array', rule_name USING ERRCODE = '22023';
  END IF;
  -- e-mail, phone and date normalisation belong to their attributes, which
  -- take no other
  IF (norm #>> '{}' IN ('email', 'phone', 'date') OR atype.normalize IN ('email', 'phone', 'date', 'none'))
     AND norm IS DISTINCT FROM to_jsonb(atype.normalize) THEN
    RAISE EXCEPTION 'normalisation % does not apply to attribute "%"', norm, attr
      USING ERRCODE = '22023', HINT = 'Leave "normalize" out to use the attribute''s own.';
  END IF;

  meth := coalesce(cond ->> 'method', CASE WHEN thr = 1.0 THEN 'exact' ELSE atype.method END);
  IF meth NOT IN ('exact', 'edit', 'jaro_winkler', 'token', 'name', 'phonetic') THEN
    RAISE EXCEPTION 'unknown method "%" in rule "%"', meth, rule_name
      USING ERRCODE = '22023', HINT = 'Use exact, edit, jaro_winkler, token, name or phonetic.';
  END IF;
  IF meth = 'exact' AND cond ? 'precision' AND thr < 1.0 THEN
    RAISE EXCEPTION 'method exact cannot have precision %', thr
      USING ERRCODE = '22023', HINT = 'Leave out the method to use the attribute''s fuzzy method, or name one (edit, jaro_winkler, token, name, phonetic).';
  END IF;
  IF meth = 'exact' THEN
    thr := 1.0;
    prec := 'exact';
  ELSIF meth = 'phonetic' AND thr < 1.0 THEN
    -- phonetic comparison is yes or no
    thr := 1.0;
  ELSIF meth <> 'exact' AND thr = 1.0 AND cond ? 'method' THEN
    NULL;  -- a fuzzy method at precision 1.0 is allowed (same as exact after normalisation, plus nicknames)
  END IF;
  IF (SELECT sql_type FROM @extschema@.attribute a WHERE a.name = attr) NOT IN ('text', 'date') AND meth <> 'exact' THEN
    RAISE EXCEPTION 'method "%" needs a text attribute; "%" is of type %', meth, attr,
                    (SELECT sql_type FROM @extschema@.attribute a WHERE a.name = attr)
      USING ERRCODE = '42804';
  END IF;
  IF cond ? 'nicknames' AND jsonb_typeof(cond -> 'nicknames') <> 'boolean' THEN
    RAISE EXCEPTION 'nicknames in rule "%" must be true or false', rule_name USING ERRCODE = '22023';
  END IF;
  IF meth = 'name' AND (cond ->> 'nicknames') = 'false' THEN
    RAISE EXCEPTION 'method name always uses nicknames' USING ERRCODE = '22023',
      HINT = 'Use method jaro_winkler or edit for a name comparison without nicknames.';
  END IF;
  IF meth = 'phonetic' THEN
    prec := 'exact';
  END IF;
  RETURN jsonb_build_object('attribute', attr,
                            'precision', CASE WHEN jsonb_typeof(cond -> 'precision') = 'number' THEN to_jsonb(thr) ELSE to_jsonb(prec) END,
                            'threshold', thr,
                            'normalize', norm, 'method', meth,
                            'nicknames', coalesce((cond ->> 'nicknames')::boolean, meth = 'name'));
END;
$$;
COMMENT ON FUNCTION @extschema@._complete_condition(jsonb, text) IS
  'Internal: checks a match condition and fills in its defaults from the attribute''s semantic type';

CREATE FUNCTION @extschema@.add_match_rule(name text, conditions jsonb, sources text[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  done jsonb := '[]';
  c jsonb;
  s text;
BEGIN
  IF name IS NULL OR length(name) NOT BETWEEN 1 AND 63 OR name LIKE '\_%' THEN
    RAISE EXCEPTION 'invalid match rule name "%"', name
      USING ERRCODE = '22023', HINT = 'Use 1 to 63 characters, not starting with an underscore.';
  END IF;
  IF EXISTS (SELECT 1 FROM @extschema@.match_rule r WHERE r.name = add_match_rule.name) THEN
    RAISE EXCEPTION 'match rule "%" already exists', name
      USING ERRCODE = '42710', HINT = 'Drop it first with cdp.drop_match_rule, or choose another name.';
  END IF;
  IF conditions IS NULL OR jsonb_typeof(conditions) <> 'array' OR jsonb_array_length(conditions) = 0 THEN
    RAISE EXCEPTION 'conditions of rule "%" must be a non-empty JSON array', name
      USING ERRCODE = '22023', HINT = 'Write ''[{"attribute": "email"}, {"attribute": "last_name", "precision": "high"}]''.';
  END IF;
  FOR c IN SELECT jsonb_array_elements(conditions) LOOP
    done := done || jsonb_build_array(@extschema@._complete_condition(c, name));
  END LOOP;
  IF (SELECT count(DISTINCT e ->> 'attribute') FROM jsonb_array_elements(done) e) < jsonb_array_length(done) THEN
    RAISE EXCEPTION 'rule "%" has two conditions on one attribute', name USING ERRCODE = '22023';
  END IF;
  IF sources IS NOT NULL THEN
    IF cardinality(sources) = 0 THEN
      RAISE EXCEPTION 'sources of rule "%" is empty', name USING ERRCODE = '22023', HINT = 'Pass NULL for all sources.';
    END IF;
    FOREACH s IN ARRAY sources LOOP
      IF s IS NULL OR NOT EXISTS (SELECT 1 FROM @extschema@.source x WHERE x.name = s) THEN
        RAISE EXCEPTION 'source "%" does not exist', s USING ERRCODE = '42704', HINT = 'See SELECT name FROM cdp.source.';
      END IF;
    END LOOP;
  END IF;
  INSERT INTO @extschema@.match_rule (name, position, conditions, sources)
  VALUES (name, coalesce((SELECT max(position) FROM @extschema@.match_rule), 0) + 1, done,
          (SELECT array_agg(DISTINCT x ORDER BY x) FROM unnest(sources) x));
END;
$$;
COMMENT ON FUNCTION @extschema@.add_match_rule(text, jsonb, text[]) IS
  'Adds a match rule after the existing ones: its conditions are ANDed; rules are ORed. sources limits it to records of those sources';

CREATE FUNCTION @extschema@.drop_match_rule(name text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  pos integer;
BEGIN
  DELETE FROM @extschema@.match_rule r WHERE r.name = drop_match_rule.name RETURNING position INTO pos;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'match rule "%" does not exist', name USING ERRCODE = '42704', HINT = 'See SELECT name FROM cdp.match_rule ORDER BY position.';
  END IF;
  -- keep positions dense (two steps: position is unique)
  UPDATE @extschema@.match_rule SET position = -position WHERE position > pos;
  UPDATE @extschema@.match_rule SET position = -position - 1 WHERE position < 0;
END;
$$;
COMMENT ON FUNCTION @extschema@.drop_match_rule(text) IS 'Removes a match rule; the later rules move up';

CREATE FUNCTION @extschema@.add_match_exception(value text, attribute text DEFAULT NULL, is_pattern boolean DEFAULT false, note text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  IF value IS NULL OR value = '' THEN
    RAISE EXCEPTION 'an exception needs a value' USING ERRCODE = '22004';
  END IF;
  IF attribute IS NOT NULL THEN
    PERFORM @extschema@._check_attribute_name(attribute);
  END IF;
  IF is_pattern THEN
    BEGIN
      PERFORM '' ~ value;
    EXCEPTION WHEN invalid_regular_expression THEN
      RAISE EXCEPTION 'invalid regular expression "%"', value
        USING ERRCODE = '2201B', HINT = 'Patterns are POSIX regular expressions matched against the normalised value.';
    END;
  END IF;
  INSERT INTO @extschema@.match_exception AS m (attribute, value, is_pattern, builtin, note)
  VALUES (attribute, value, coalesce(is_pattern, false), false, note)
  ON CONFLICT (attribute, value, is_pattern) DO UPDATE SET builtin = false, note = coalesce(excluded.note, m.note);
END;
$$;
COMMENT ON FUNCTION @extschema@.add_match_exception(text, text, boolean, text) IS
  'Adds a value that never matches: a normalised value (or a regular expression when is_pattern) of one attribute, or of every attribute when attribute is NULL';

CREATE FUNCTION @extschema@.drop_match_exception(value text, attribute text DEFAULT NULL, is_pattern boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  DELETE FROM @extschema@.match_exception m
   WHERE m.value = drop_match_exception.value
     AND m.attribute IS NOT DISTINCT FROM drop_match_exception.attribute
     AND m.is_pattern = coalesce(drop_match_exception.is_pattern, false);
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such match exception' USING ERRCODE = '42704', HINT = 'See SELECT * FROM cdp.match_exception.';
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@.drop_match_exception(text, text, boolean) IS 'Removes a match exception (built-in ones too)';

CREATE FUNCTION @extschema@.add_match_override(source_a text, key_a text, source_b text, key_b text, kind text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  s text;
BEGIN
  IF source_a IS NULL OR key_a IS NULL OR source_b IS NULL OR key_b IS NULL OR kind IS NULL THEN
    RAISE EXCEPTION 'arguments of add_match_override must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF kind NOT IN ('always', 'never') THEN
    RAISE EXCEPTION 'unknown override kind "%"', kind USING ERRCODE = '22023', HINT = 'Use ''always'' or ''never''.';
  END IF;
  FOREACH s IN ARRAY ARRAY[source_a, source_b] LOOP
    IF NOT EXISTS (SELECT 1 FROM @extschema@.source x WHERE x.name = s) THEN
      RAISE EXCEPTION 'source "%" does not exist', s USING ERRCODE = '42704', HINT = 'See SELECT name FROM cdp.source.';
    END IF;
  END LOOP;
  IF (source_a, key_a) = (source_b, key_b) THEN
    RAISE EXCEPTION 'an override needs two different records' USING ERRCODE = '22023';
  END IF;
  IF (source_a, key_a) > (source_b, key_b) THEN
    SELECT source_b, key_b, source_a, key_a INTO source_a, key_a, source_b, key_b;
  END IF;
  INSERT INTO @extschema@.match_override AS o (source_a, key_a, source_b, key_b, kind)
  VALUES (source_a, key_a, source_b, key_b, kind)
  ON CONFLICT (source_a, key_a, source_b, key_b) DO UPDATE SET kind = excluded.kind, created_at = now();
END;
$$;
COMMENT ON FUNCTION @extschema@.add_match_override(text, text, text, text, text) IS
  'Declares that two records are always one customer (''always'') or never (''never''), whatever the rules say; replaces an earlier override of the same pair';

CREATE FUNCTION @extschema@.drop_match_override(source_a text, key_a text, source_b text, key_b text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF (source_a, key_a) > (source_b, key_b) THEN
    SELECT source_b, key_b, source_a, key_a INTO source_a, key_a, source_b, key_b;
  END IF;
  DELETE FROM @extschema@.match_override o
   WHERE (o.source_a, o.key_a, o.source_b, o.key_b) = (drop_match_override.source_a, drop_match_override.key_a,
                                                       drop_match_override.source_b, drop_match_override.key_b);
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no override for these records' USING ERRCODE = '42704';
  END IF;
END;
$$;
COMMENT ON FUNCTION @extschema@.drop_match_override(text, text, text, text) IS 'Removes the override of a pair of records';

CREATE FUNCTION @extschema@.set_merge_policy(attribute text, policy text, options jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  k text;
  col text;
BEGIN
  IF attribute IS NULL OR policy IS NULL THEN
    RAISE EXCEPTION 'attribute and policy must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM @extschema@.attribute a WHERE a.name = set_merge_policy.attribute) THEN
    RAISE EXCEPTION 'attribute "%" is not mapped by any source', attribute
      USING ERRCODE = '42703', HINT = 'See SELECT name FROM cdp.attribute.';
  END IF;
  IF policy NOT IN ('priority', 'most_recent', 'least_recent', 'most_frequent', 'longest', 'most_filled', 'collect', 'exclude') THEN
    RAISE EXCEPTION 'unknown merge policy "%"', policy
      USING ERRCODE = '22023', HINT = 'Use priority, most_recent, least_recent, most_frequent, longest, most_filled, collect or exclude.';
  END IF;
  options := coalesce(options, '{}');
  IF jsonb_typeof(options) <> 'object' THEN
    RAISE EXCEPTION 'options must be a JSON object' USING ERRCODE = '22023';
  END IF;
  FOR k IN SELECT jsonb_object_keys(options) LOOP
    IF k <> 'column' OR policy NOT IN ('most_recent', 'least_recent') THEN
      RAISE EXCEPTION 'policy "%" has no option "%"', policy, k
        USING ERRCODE = '22023', HINT = 'Only most_recent and least_recent take an option: {"column": "a timestamp column of the sources"}.';
    END IF;
  END LOOP;
  col := options ->> 'column';
  IF col IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM @extschema@.source s JOIN pg_attribute at ON at.attrelid = s.relation
        WHERE at.attname = col AND at.attnum > 0 AND NOT at.attisdropped
          AND at.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)) THEN
    RAISE EXCEPTION 'no source has a date or timestamp column "%"', col
      USING ERRCODE = '42703', HINT = 'Name a column that at least one source relation has; sources without it use their updated_at_column.';
  END IF;
  INSERT INTO @extschema@.merge_policy AS m (attribute, policy, options)
  VALUES (attribute, policy, options)
  ON CONFLICT ON CONSTRAINT merge_policy_pkey DO UPDATE SET policy = excluded.policy, options = excluded.options;
END;
$$;
COMMENT ON FUNCTION @extschema@.set_merge_policy(text, text, jsonb) IS
  'Chooses how an attribute of cdp.customer is picked among a customer''s records: priority (default), most_recent, least_recent, most_frequent, longest, most_filled, collect or exclude';
