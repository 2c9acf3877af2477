
-- ---------------------------------------------------------------------------
-- schema.sql: the cdp schema itself.
-- ---------------------------------------------------------------------------

COMMENT ON SCHEMA @extschema@ IS
  'pg_cdp: customer data platform (matching kernels, unification, activities, measures, segments, journeys)';

-- The matching kernels are pure functions anyone may call; what needs
-- protecting (channels, secrets, profile data) gets its own privileges.
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;
