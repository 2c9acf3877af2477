
-- ---------------------------------------------------------------------------
-- dsl.sql: the expression language of measures and segments.  The parser
-- (cdp.parse_expression) returns the syntax tree as jsonb; the compiler
-- (cdp.compile_measure) turns a measure into an aggregate expression over
-- the activity table, using the aggregates below where PostgreSQL has none:
-- cdp.argmax / cdp.argmin (first and last are argmin / argmax by
-- occurred_at) and cdp.top.  They share the state type dsl_agg_state, a
-- real type with text and binary forms and a combine function, so they run
-- in parallel.  cdp.fused_measures (at the end) computes the simple
-- aggregates of all measures of one activity in one call per row.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.parse_expression(definition text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'cdp_parse_expression'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.parse_expression(text) IS
  'Syntax tree of an expression of the measure and segment language, as jsonb: one object per node with "kind" and "pos" (1-based character position); syntax errors are 42601, nesting deeper than 200 levels 54001';

CREATE FUNCTION @extschema@.compile_measure(definition text, catalog jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'cdp_compile_measure'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.compile_measure(text, jsonb) IS
  'Compiles a measure definition against an activity catalog into {"sql_type", "activities", "columns", "windows", "reference", "select", "parts", "aggregates", "default"}: "select" is an aggregate expression over rows x of cdp.activity, filtered per activity, windows relative to $1 (timestamptz); "parts" is the same SQL split around its aggregates, described in "aggregates" (kind, value, condition, window) so that a refresh can fuse the simple ones; errors 42601 syntax, 42703 unknown activity or column, 42883 unknown function, 42804 type mismatch, 54001 too deep';

CREATE TYPE @extschema@.dsl_agg_state;

CREATE FUNCTION @extschema@.dsl_agg_state_in(cstring)
RETURNS @extschema@.dsl_agg_state
AS 'MODULE_PATHNAME', 'cdp_dsl_agg_state_in'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.dsl_agg_state_in(cstring) IS
  'Input function of cdp.dsl_agg_state: argmax(keytype,valuetype;"key","value") or top(valuetype,k;"value":count,...) with type OIDs; malformed text is an error (22P02)';

CREATE FUNCTION @extschema@.dsl_agg_state_out(@extschema@.dsl_agg_state)
RETURNS cstring
AS 'MODULE_PATHNAME', 'cdp_dsl_agg_state_out'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.dsl_agg_state_out(@extschema@.dsl_agg_state) IS
  'Output function of cdp.dsl_agg_state: argmax(keytype,valuetype;"key","value") or top(valuetype,k;"value":count,...), values in their text form, top items in value order';

CREATE FUNCTION @extschema@.dsl_agg_state_recv(internal)
RETURNS @extschema@.dsl_agg_state
AS 'MODULE_PATHNAME', 'cdp_dsl_agg_state_recv'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.dsl_agg_state_recv(internal) IS
  'Binary input function of cdp.dsl_agg_state (values in the binary form of their types)';

CREATE FUNCTION @extschema@.dsl_agg_state_send(@extschema@.dsl_agg_state)
RETURNS bytea
AS 'MODULE_PATHNAME', 'cdp_dsl_agg_state_send'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.dsl_agg_state_send(@extschema@.dsl_agg_state) IS
  'Binary output function of cdp.dsl_agg_state (values in the binary form of their types)';

CREATE TYPE @extschema@.dsl_agg_state (
    INPUT = @extschema@.dsl_agg_state_in,
    OUTPUT = @extschema@.dsl_agg_state_out,
    RECEIVE = @extschema@.dsl_agg_state_recv,
    SEND = @extschema@.dsl_agg_state_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE @extschema@.dsl_agg_state IS
  'Transition state of cdp.argmax, cdp.argmin and cdp.top: the best (key, value) so far, or the values with their counts';

-- transition functions: not strict (rows with a NULL value or key are skipped)
CREATE FUNCTION @extschema@.argmax_trans(@extschema@.dsl_agg_state, anyelement, anycompatible)
RETURNS @extschema@.dsl_agg_state
AS 'MODULE_PATHNAME', 'cdp_argmax_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.argmax_trans(@extschema@.dsl_agg_state, anyelement, anycompatible) IS
  'Transition function of cdp.argmax: keeps the value of the row with the largest key';

CREATE FUNCTION @extschema@.argmin_trans(@extschema@.dsl_agg_state, anyelement, anycompatible)
RETURNS @extschema@.dsl_agg_state
AS 'MODULE_PATHNAME', 'cdp_argmin_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.argmin_trans(@extschema@.dsl_agg_state, anyelement, anycompatible) IS
  'Transition function of cdp.argmin: keeps the value of the row with the smallest key';

CREATE FUNCTION @extschema@.top_trans(@extschema@.dsl_agg_state, anyelement, integer)
RETURNS @extschema@.dsl_agg_state
AS 'MODULE_PATHNAME', 'cdp_top_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.top_trans(@extschema@.dsl_agg_state, anyelement, integer) IS
  'Transition function of cdp.top: counts the value (k, 1 to 10000, is read from the first row)';

CREATE FUNCTION @extschema@.dsl_agg_combine(@extschema@.dsl_agg_state, @extschema@.dsl_agg_state)
RETURNS @extschema@.dsl_agg_state
AS 'MODULE_PATHNAME', 'cdp_dsl_agg_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.dsl_agg_combine(@extschema@.dsl_agg_state, @extschema@.dsl_agg_state) IS
  'Combine function of cdp.argmax, cdp.argmin and cdp.top: the better pick, or the counts of both states added';

-- final functions: FINALFUNC_EXTRA gives them the argument types
CREATE FUNCTION @extschema@.pick_final(@extschema@.dsl_agg_state, anyelement, anycompatible)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'cdp_pick_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.pick_final(@extschema@.dsl_agg_state, anyelement, anycompatible) IS
  'Final function of cdp.argmax and cdp.argmin: the chosen value, NULL when no row counted';

CREATE FUNCTION @extschema@.top_final(@extschema@.dsl_agg_state, anyelement, integer)
RETURNS anyarray
AS 'MODULE_PATHNAME', 'cdp_top_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.top_final(@extschema@.dsl_agg_state, anyelement, integer) IS
  'Final function of cdp.top: the k most frequent values, most frequent first, equal counts in ascending value order';

CREATE AGGREGATE @extschema@.argmax(value anyelement, key anycompatible) (
    SFUNC = @extschema@.argmax_trans,
    STYPE = @extschema@.dsl_agg_state,
    FINALFUNC = @extschema@.pick_final,
    FINALFUNC_EXTRA,
    COMBINEFUNC = @extschema@.dsl_agg_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.argmax(anyelement, anycompatible) IS
  'The value of the row with the largest key; rows with a NULL value or key are skipped; ties go to the smallest value (text in byte order)';

CREATE AGGREGATE @extschema@.argmin(value anyelement, key anycompatible) (
    SFUNC = @extschema@.argmin_trans,
    STYPE = @extschema@.dsl_agg_state,
    FINALFUNC = @extschema@.pick_final,
    FINALFUNC_EXTRA,
    COMBINEFUNC = @extschema@.dsl_agg_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.argmin(anyelement, anycompatible) IS
  'The value of the row with the smallest key; rows with a NULL value or key are skipped; ties go to the smallest value (text in byte order)';

CREATE AGGREGATE @extschema@.top(value anyelement, k integer) (
    SFUNC = @extschema@.top_trans,
    STYPE = @extschema@.dsl_agg_state,
    FINALFUNC = @extschema@.top_final,
    FINALFUNC_EXTRA,
    COMBINEFUNC = @extschema@.dsl_agg_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.top(anyelement, integer) IS
  'The k most frequent non-NULL values as an array, most frequent first, equal counts in ascending value order (text in byte order); k from 1 to 10000';

CREATE FUNCTION @extschema@.count_distinct_trans(@extschema@.dsl_agg_state, anyelement)
RETURNS @extschema@.dsl_agg_state
AS 'MODULE_PATHNAME', 'cdp_count_distinct_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.count_distinct_trans(@extschema@.dsl_agg_state, anyelement) IS
  'Transition function of cdp.count_distinct: counts the value in cdp.top''s state';

CREATE FUNCTION @extschema@.count_distinct_final(@extschema@.dsl_agg_state)
RETURNS bigint
AS 'MODULE_PATHNAME', 'cdp_count_distinct_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.count_distinct_final(@extschema@.dsl_agg_state) IS
  'Final function of cdp.count_distinct: the number of distinct values, 0 for none';

CREATE AGGREGATE @extschema@.count_distinct(value anyelement) (
    SFUNC = @extschema@.count_distinct_trans,
    STYPE = @extschema@.dsl_agg_state,
    FINALFUNC = @extschema@.count_distinct_final,
    COMBINEFUNC = @extschema@.dsl_agg_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.count_distinct(anyelement) IS
  'The number of distinct non-NULL values, as count(DISTINCT value) but with a combine function, so it runs in parallel workers; values are equal by the type''s ordering';

-- Fused measures: one aggregate call per activity row updates every simple
-- measure (count, sum, avg, min, max with their conditions and windows) of
-- that activity; cdp.fused_value reads one of them out of the result.
CREATE TYPE @extschema@.fused_state;

CREATE FUNCTION @extschema@.fused_state_in(cstring)
RETURNS @extschema@.fused_state
AS 'MODULE_PATHNAME', 'cdp_fused_state_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fused_state_in(cstring) IS
  'Input function of cdp.fused_state: slots kind:type:n:value separated by ";" (count::5:;sum:numeric:3:123.45); malformed text is an error (22P02)';

CREATE FUNCTION @extschema@.fused_state_out(@extschema@.fused_state)
RETURNS cstring
AS 'MODULE_PATHNAME', 'cdp_fused_state_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fused_state_out(@extschema@.fused_state) IS
  'Output function of cdp.fused_state: per slot its kind, value type, count and exact value (sum, or minimum / maximum; dates and timestamps as their internal integer)';

CREATE FUNCTION @extschema@.fused_state_recv(internal)
RETURNS @extschema@.fused_state
AS 'MODULE_PATHNAME', 'cdp_fused_state_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fused_state_recv(internal) IS
  'Binary input function of cdp.fused_state';

CREATE FUNCTION @extschema@.fused_state_send(@extschema@.fused_state)
RETURNS bytea
AS 'MODULE_PATHNAME', 'cdp_fused_state_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fused_state_send(@extschema@.fused_state) IS
  'Binary output function of cdp.fused_state: per slot kind, type, count and the value as text';

CREATE TYPE @extschema@.fused_state (
    INPUT = @extschema@.fused_state_in,
    OUTPUT = @extschema@.fused_state_out,
    RECEIVE = @extschema@.fused_state_recv,
    SEND = @extschema@.fused_state_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE @extschema@.fused_state IS
  'Transition state and result of cdp.fused_measures: one fixed-size slot per measure (kind, value type, count, exact sum or minimum / maximum), numbers too large for 36 digits kept as numerics after the slots';

-- the transition function is not strict: it counts rows whatever their values
CREATE FUNCTION @extschema@.fused_trans(@extschema@.fused_state, text, timestamptz, timestamptz, VARIADIC "any")
RETURNS @extschema@.fused_state
AS 'MODULE_PATHNAME', 'cdp_fused_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fused_trans(@extschema@.fused_state, text, timestamptz, timestamptz, VARIADIC "any") IS
  'Transition function of cdp.fused_measures: counts the row in every slot whose condition holds and whose window contains occurred_at';

CREATE FUNCTION @extschema@.fused_combine(@extschema@.fused_state, @extschema@.fused_state)
RETURNS @extschema@.fused_state
AS 'MODULE_PATHNAME', 'cdp_fused_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fused_combine(@extschema@.fused_state, @extschema@.fused_state) IS
  'Combine function of cdp.fused_measures: counts and sums added, the smaller minimum and the larger maximum kept';

CREATE AGGREGATE @extschema@.fused_measures(spec text, reference timestamptz, occurred_at timestamptz, VARIADIC "any") (
    SFUNC = @extschema@.fused_trans,
    STYPE = @extschema@.fused_state,
    COMBINEFUNC = @extschema@.fused_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.fused_measures(text, timestamptz, timestamptz, VARIADIC "any") IS
  'Many measures of one activity in one pass: spec lists slots "kind,value,condition,window" separated by ";" (kinds count, sum, avg, min, max; value and condition are 1-based positions among the variadic arguments, 0 for none; window an interval ending at reference); read each with cdp.fused_value';

CREATE FUNCTION @extschema@.fused_value(state @extschema@.fused_state, slot integer, type anyelement)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'cdp_fused_value'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fused_value(@extschema@.fused_state, integer, anyelement) IS
  'The value of slot (1-based) of a cdp.fused_measures result as the type of the third argument (NULL::numeric…), which must be the slot''s: bigint for counts and sums of smallint or integer, numeric for other sums and averages, the value type for min and max; NULL when no value was counted (and for a NULL state)';
