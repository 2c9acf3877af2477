
-- ---------------------------------------------------------------------------
-- merge.sql: merge-policy aggregates of unification.  Each picks one value
-- out of the conflicting values several source records give (or collects
-- them all).  They share the state type merge_state, a real type with text
-- and binary forms, and a combine function, so they run in parallel query
-- and distributed.  Ties on the ranking key go to the value whose text form
-- sorts first in byte order.
-- ---------------------------------------------------------------------------

CREATE TYPE @extschema@.merge_state;

CREATE FUNCTION @extschema@.merge_state_in(cstring)
RETURNS @extschema@.merge_state
AS 'MODULE_PATHNAME', 'cdp_merge_state_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.merge_state_in(cstring) IS
  'Input function of cdp.merge_state: parses policy(key,"value") or policy("value":count,...); malformed text is an error (22P02)';

CREATE FUNCTION @extschema@.merge_state_out(@extschema@.merge_state)
RETURNS cstring
AS 'MODULE_PATHNAME', 'cdp_merge_state_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.merge_state_out(@extschema@.merge_state) IS
  'Output function of cdp.merge_state: policy(key,"value") or policy("value":count,...), timestamps in UTC, list items sorted';

CREATE FUNCTION @extschema@.merge_state_recv(internal)
RETURNS @extschema@.merge_state
AS 'MODULE_PATHNAME', 'cdp_merge_state_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.merge_state_recv(internal) IS
  'Binary input function of cdp.merge_state';

CREATE FUNCTION @extschema@.merge_state_send(@extschema@.merge_state)
RETURNS bytea
AS 'MODULE_PATHNAME', 'cdp_merge_state_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.merge_state_send(@extschema@.merge_state) IS
  'Binary output function of cdp.merge_state';

CREATE TYPE @extschema@.merge_state (
    INPUT = @extschema@.merge_state_in,
    OUTPUT = @extschema@.merge_state_out,
    RECEIVE = @extschema@.merge_state_recv,
    SEND = @extschema@.merge_state_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE @extschema@.merge_state IS
  'Transition state of the merge-policy aggregates (cdp.most_recent and the others): the policy, the ranking key and the chosen value as text, or the values with their counts';

-- transition functions: not strict (NULL values are skipped, NULL keys rank last)
CREATE FUNCTION @extschema@.merge_most_recent_trans(@extschema@.merge_state, anyelement, timestamptz)
RETURNS @extschema@.merge_state
AS 'MODULE_PATHNAME', 'cdp_merge_most_recent_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.merge_most_recent_trans(@extschema@.merge_state, anyelement, timestamptz) IS
  'Transition function of cdp.most_recent: keeps the value with the latest timestamp';

CREATE FUNCTION @extschema@.merge_least_recent_trans(@extschema@.merge_state, anyelement, timestamptz)
RETURNS @extschema@.merge_state
AS 'MODULE_PATHNAME', 'cdp_merge_least_recent_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.merge_least_recent_trans(@extschema@.merge_state, anyelement, timestamptz) IS
  'Transition function of cdp.least_recent: keeps the value with the earliest timestamp';

CREATE FUNCTION @extschema@.merge_by_priority_trans(@extschema@.merge_state, anyelement, integer)
RETURNS @extschema@.merge_state
AS 'MODULE_PATHNAME', 'cdp_merge_by_priority_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.merge_by_priority_trans(@extschema@.merge_state, anyelement, integer) IS
  'Transition function of cdp.by_priority: keeps the value with the smallest priority number';

CREATE FUNCTION @extschema@.merge_most_filled_trans(@extschema@.merge_state, anyelement, integer)
RETURNS @extschema@.merge_state
AS 'MODULE_PATHNAME', 'cdp_merge_most_filled_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.merge_most_filled_trans(@extschema@.merge_state, anyelement, integer) IS
  'Transition function of cdp.most_filled: keeps the value of the record with the most non-null attributes';

CREATE FUNCTION @extschema@.merge_longest_trans(@extschema@.merge_state, anyelement)
RETURNS @extschema@.merge_state
AS 'MODULE_PATHNAME', 'cdp_merge_longest_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.merge_longest_trans(@extschema@.merge_state, anyelement) IS
  'Transition function of cdp.longest: keeps the value whose text form has the most characters';

CREATE FUNCTION @extschema@.merge_most_frequent_trans(@extschema@.merge_state, anyelement)
RETURNS @extschema@.merge_state
AS 'MODULE_PATHNAME', 'cdp_merge_most_frequent_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.merge_most_frequent_trans(@extschema@.merge_state, anyelement) IS
  'Transition function of cdp.most_frequent: counts each distinct value (by its text form)';

CREATE FUNCTION @extschema@.merge_collect_trans(@extschema@.merge_state, anyelement)
RETURNS @extschema@.merge_state
AS 'MODULE_PATHNAME', 'cdp_merge_collect_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.merge_collect_trans(@extschema@.merge_state, anyelement) IS
  'Transition function of cdp.collect: gathers the distinct values (by their text form)';

CREATE FUNCTION @extschema@.merge_combine(@extschema@.merge_state, @extschema@.merge_state)
RETURNS @extschema@.merge_state
AS 'MODULE_PATHNAME', 'cdp_merge_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.merge_combine(@extschema@.merge_state, @extschema@.merge_state) IS
  'Combine function of the merge-policy aggregates: the better of two chosen values, or the union of two value lists with counts added (associative and commutative)';

-- final functions: FINALFUNC_EXTRA gives them the element type; not strict
-- because the extra arguments are always NULL
CREATE FUNCTION @extschema@.merge_final(@extschema@.merge_state, anyelement)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'cdp_merge_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.merge_final(@extschema@.merge_state, anyelement) IS
  'Final function of cdp.longest and cdp.most_frequent: the chosen value, converted back to the element type';

CREATE FUNCTION @extschema@.merge_final(@extschema@.merge_state, anyelement, timestamptz)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'cdp_merge_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.merge_final(@extschema@.merge_state, anyelement, timestamptz) IS
  'Final function of cdp.most_recent and cdp.least_recent: the chosen value, converted back to the element type';

CREATE FUNCTION @extschema@.merge_final(@extschema@.merge_state, anyelement, integer)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'cdp_merge_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.merge_final(@extschema@.merge_state, anyelement, integer) IS
  'Final function of cdp.by_priority and cdp.most_filled: the chosen value, converted back to the element type';

CREATE FUNCTION @extschema@.merge_final_array(@extschema@.merge_state, anyelement)
RETURNS anyarray
AS 'MODULE_PATHNAME', 'cdp_merge_final_array'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.merge_final_array(@extschema@.merge_state, anyelement) IS
  'Final function of cdp.collect: the distinct values sorted by the byte order of their text forms, as an array';

CREATE AGGREGATE @extschema@.most_recent(value anyelement, at timestamptz) (
    SFUNC = @extschema@.merge_most_recent_trans,
    STYPE = @extschema@.merge_state,
    FINALFUNC = @extschema@.merge_final,
    FINALFUNC_EXTRA,
    COMBINEFUNC = @extschema@.merge_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.most_recent(anyelement, timestamptz) IS
  'The value with the latest timestamp; NULL values are ignored, a NULL timestamp loses to any other; ties go to the text form first in byte order';

CREATE AGGREGATE @extschema@.least_recent(value anyelement, at timestamptz) (
    SFUNC = @extschema@.merge_least_recent_trans,
    STYPE = @extschema@.merge_state,
    FINALFUNC = @extschema@.merge_final,
    FINALFUNC_EXTRA,
    COMBINEFUNC = @extschema@.merge_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.least_recent(anyelement, timestamptz) IS
  'The value with the earliest timestamp; NULL values are ignored, a NULL timestamp loses to any other; ties go to the text form first in byte order';

CREATE AGGREGATE @extschema@.by_priority(value anyelement, priority integer) (
    SFUNC = @extschema@.merge_by_priority_trans,
    STYPE = @extschema@.merge_state,
    FINALFUNC = @extschema@.merge_final,
    FINALFUNC_EXTRA,
    COMBINEFUNC = @extschema@.merge_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.by_priority(anyelement, integer) IS
  'The value from the source with the smallest priority number (1 beats 100); NULL values are ignored, a NULL priority loses to any other; ties go to the text form first in byte order';

CREATE AGGREGATE @extschema@.most_filled(value anyelement, filled integer) (
    SFUNC = @extschema@.merge_most_filled_trans,
    STYPE = @extschema@.merge_state,
    FINALFUNC = @extschema@.merge_final,
    FINALFUNC_EXTRA,
    COMBINEFUNC = @extschema@.merge_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.most_filled(anyelement, integer) IS
  'The value from the record with the most non-null attributes (the count is passed as "filled"); NULL values are ignored, a NULL count loses to any other; ties go to the text form first in byte order';

CREATE AGGREGATE @extschema@.longest(value anyelement) (
    SFUNC = @extschema@.merge_longest_trans,
    STYPE = @extschema@.merge_state,
    FINALFUNC = @extschema@.merge_final,
    FINALFUNC_EXTRA,
    COMBINEFUNC = @extschema@.merge_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.longest(anyelement) IS
  'The value whose text form has the most characters; NULL values are ignored; ties go to the text form first in byte order';

CREATE AGGREGATE @extschema@.most_frequent(value anyelement) (
    SFUNC = @extschema@.merge_most_frequent_trans,
    STYPE = @extschema@.merge_state,
    FINALFUNC = @extschema@.merge_final,
    FINALFUNC_EXTRA,
    COMBINEFUNC = @extschema@.merge_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.most_frequent(anyelement) IS
  'The most frequent value (values are equal when their text forms are); NULL values are ignored; ties go to the text form first in byte order';

CREATE AGGREGATE @extschema@.collect(value anyelement) (
    SFUNC = @extschema@.merge_collect_trans,
    STYPE = @extschema@.merge_state,
    FINALFUNC = @extschema@.merge_final_array,
    FINALFUNC_EXTRA,
    COMBINEFUNC = @extschema@.merge_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.collect(anyelement) IS
  'All distinct values (by their text form), sorted by the byte order of their text forms, as an array; NULL values are ignored; NULL when there is none';
