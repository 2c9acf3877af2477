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
