
-- ---------------------------------------------------------------------------
-- schema.sql: the cdp schema itself.
-- ---------------------------------------------------------------------------

COMMENT ON SCHEMA @extschema@ IS
  'pg_cdp: customer data platform (matching kernels, unification, activities, measures, segments, journeys)';
