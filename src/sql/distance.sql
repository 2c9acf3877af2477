
-- ---------------------------------------------------------------------------
-- distance.sql: edit distances (src/distance.c).
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.levenshtein(a text, b text)
RETURNS integer
AS 'MODULE_PATHNAME', 'cdp_levenshtein'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.levenshtein(text, text) IS
  'Levenshtein distance in characters (insertions, deletions, substitutions); no length limit';

CREATE FUNCTION @extschema@.levenshtein(a text, b text, max_distance integer)
RETURNS integer
AS 'MODULE_PATHNAME', 'cdp_levenshtein_max'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.levenshtein(text, text, integer) IS
  'Levenshtein distance, or max_distance + 1 as soon as it is known to exceed max_distance (faster for small limits)';

CREATE FUNCTION @extschema@.osa_distance(a text, b text)
RETURNS integer
AS 'MODULE_PATHNAME', 'cdp_osa_distance'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.osa_distance(text, text) IS
  'Optimal string alignment distance (restricted Damerau-Levenshtein): edits plus adjacent transpositions, no substring edited twice';

CREATE FUNCTION @extschema@.damerau_levenshtein(a text, b text)
RETURNS integer
AS 'MODULE_PATHNAME', 'cdp_damerau_levenshtein'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.damerau_levenshtein(text, text) IS
  'Unrestricted Damerau-Levenshtein distance (edits and transpositions of adjacent characters, which may be edited again)';
