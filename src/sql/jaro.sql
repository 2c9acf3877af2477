
-- ---------------------------------------------------------------------------
-- jaro.sql: similarity scores in [0, 1] (src/jaro.c).
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.jaro(a text, b text)
RETURNS double precision
AS 'MODULE_PATHNAME', 'cdp_jaro'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.jaro(text, text) IS
  'Jaro similarity in [0, 1] (Winkler''s conventions: window max(len)/2 - 1, transpositions halved by integer division)';

CREATE FUNCTION @extschema@.jaro_winkler(a text, b text, prefix_scale double precision DEFAULT 0.1)
RETURNS double precision
AS 'MODULE_PATHNAME', 'cdp_jaro_winkler'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.jaro_winkler(text, text, double precision) IS
  'Jaro-Winkler similarity in [0, 1]: Jaro boosted by the common prefix (up to 4 characters, times prefix_scale) when Jaro > 0.7';

CREATE FUNCTION @extschema@.edit_similarity(a text, b text)
RETURNS double precision
AS 'MODULE_PATHNAME', 'cdp_edit_similarity'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.edit_similarity(text, text) IS
  '1 - levenshtein(a, b) / max(length(a), length(b)), in [0, 1]; 1 for two empty strings';

CREATE FUNCTION @extschema@.token_similarity(a text, b text)
RETURNS double precision
AS 'MODULE_PATHNAME', 'cdp_token_similarity'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.token_similarity(text, text) IS
  'Order-independent similarity of multi-word values: each token paired with its best Jaro-Winkler match in the other value, averaged over both directions';
