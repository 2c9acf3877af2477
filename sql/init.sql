--
-- init: create the extension the rest of the suite uses, and check what
-- CREATE EXTENSION promises: the cdp schema, not relocatable, settings
-- prefix reserved.
--
SET client_min_messages = warning;
CREATE EXTENSION pg_cdp;
RESET client_min_messages;

SELECT extname, extversion, extrelocatable, nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'pg_cdp';

-- not relocatable: moving it is refused
CREATE SCHEMA elsewhere;
ALTER EXTENSION pg_cdp SET SCHEMA elsewhere;
DROP SCHEMA elsewhere;

-- the cdp.* settings namespace is reserved
SET cdp.no_such_setting = 'x';

-- A helper for the rest of the suite: the SQLSTATE a statement fails with
-- ('00000' when it succeeds), so each error case can show its code.
CREATE FUNCTION sqlstate_of(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN '00000';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;
