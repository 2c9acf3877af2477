-- demo/story/01_setup.sql: step 1 of the retailer's story — load the data.
-- The web shop and the point of sale are tables of this database; the
-- loyalty programme lives in a database of its own, reached through
-- postgres_fdw; the web analytics export is a CSV file read through file_fdw.
-- psql variables: datadir (the files of tools/generate_story.py, readable
-- by the server), loyalty_host, loyalty_port, loyalty_db, loyalty_user.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset footer off
\echo
\echo '== 1. The data: a web shop, a loyalty programme, the stores, web analytics'
\echo
-- the shop's and the stores' own tables (generated; not echoed)
\i :datadir/shop.sql
\i :datadir/pos.sql
\set ECHO queries
CREATE EXTENSION IF NOT EXISTS pg_cdp;
-- the loyalty programme's database, through postgres_fdw
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
CREATE SERVER loyalty_db FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host :'loyalty_host', port :'loyalty_port', dbname :'loyalty_db');
CREATE USER MAPPING FOR CURRENT_USER SERVER loyalty_db OPTIONS (user :'loyalty_user');
CREATE SCHEMA loyalty;
IMPORT FOREIGN SCHEMA loyalty FROM SERVER loyalty_db INTO loyalty;
-- the web analytics export, read in place through file_fdw
CREATE EXTENSION IF NOT EXISTS file_fdw;
CREATE SERVER web_logs FOREIGN DATA WRAPPER file_fdw;
CREATE SCHEMA web;
\set pageviews :datadir '/pageviews.csv'
CREATE FOREIGN TABLE web.pageviews (hit_id bigint, cookie_id text, user_id text, url text,
                                    ts timestamptz, referrer text)
  SERVER web_logs OPTIONS (filename :'pageviews', format 'csv', header 'true');
SELECT 'web shop customers' AS what, count(*) AS rows FROM shop.web_shop_customer
UNION ALL SELECT 'loyalty members (postgres_fdw)', count(*) FROM loyalty.member
UNION ALL SELECT 'loyalty point bookings (postgres_fdw)', count(*) FROM loyalty.points
UNION ALL SELECT 'point-of-sale customers', count(*) FROM pos.pos_customer
UNION ALL SELECT 'orders', count(*) FROM shop.orders
UNION ALL SELECT 'chats with the assistant', count(*) FROM shop.chat
UNION ALL SELECT 'page views (file_fdw)', count(*) FROM web.pageviews;
\unset ECHO
