
-- ---------------------------------------------------------------------------
-- metaphone.sql: Double Metaphone phonetic codes (src/metaphone.c).
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.double_metaphone(t text)
RETURNS text[]
AS 'MODULE_PATHNAME', 'cdp_double_metaphone'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.double_metaphone(text) IS
  'Double Metaphone codes of a name as ARRAY[primary, alternate], at most 4 characters each (alternate = primary when there is no second pronunciation); accents are folded to ASCII first, non-letters are skipped, no letters gives {"",""}';
