--
-- comments: every object of the extension carries a COMMENT, so that
-- \df+ cdp.* and \dx+ pg_cdp read like a reference; every pure kernel has
-- its true volatility; the catalog tables are dumped by pg_dump.
--
-- the objects that belong to the extension, by kind
SELECT (pg_identify_object(d.classid, d.objid, d.objsubid)).type AS kind, count(*)
  FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_cdp')
   AND d.deptype = 'e'
 GROUP BY 1 ORDER BY 1;

-- objects that belong to the extension without a description (expect none)
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS undocumented
  FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_cdp')
   AND d.deptype = 'e'
   AND obj_description(d.objid, (SELECT relname FROM pg_class WHERE oid = d.classid)) IS NULL
 ORDER BY 1;

-- columns of the extension's tables without a description (expect none)
SELECT c.relname, a.attname
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE c.relnamespace = 'cdp'::regnamespace AND c.relkind = 'r'
   AND a.attnum > 0 AND NOT a.attisdropped
   AND col_description(c.oid, a.attnum) IS NULL
 ORDER BY 1, 2;

-- functions by volatility and parallel safety: the kernels are immutable and
-- parallel safe; the nickname functions read a table and are stable
SELECT p.proname, CASE WHEN length(pg_get_function_identity_arguments(p.oid)) > 60 THEN left(pg_get_function_identity_arguments(p.oid), 57) || '...' ELSE pg_get_function_identity_arguments(p.oid) END AS args,
       p.provolatile, p.proparallel, p.proisstrict
  FROM pg_proc p
 WHERE p.pronamespace = 'cdp'::regnamespace
 ORDER BY 1, 2;

-- catalog tables kept by pg_dump
SELECT unnest(extconfig)::regclass AS dumped, unnest(extcondition) AS condition
  FROM pg_extension WHERE extname = 'pg_cdp';
