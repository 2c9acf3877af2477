-- bench/lib/activity_data.sql: the deterministic retail data of the
-- benchmarks (bench/measures, bench/segments), as a psql script.
--
-- It expects the extension and the schema "bench" to exist, and three psql
-- variables: customers (how many), activities (how many), ref (the reference
-- time, a timestamptz literal).  It registers one source and three
-- activities over empty tables of the right shape (the measure and segment
-- compilers read their declared columns), writes the customers 1..customers
-- straight into cdp.customer and the activities straight into cdp.activity
-- (what CALL cdp.unify() and CALL cdp.refresh_activities() would write; no
-- unification is run here), and leaves the generator bench.add_activities
-- behind for scripts that add more rows later.
--
-- Every value comes from hashes of the row number, so every run builds the
-- same data.
--
-- Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.

-- the catalog: one source (activities link through its key) and three
-- activities whose relations have the columns the measures read
CREATE TABLE bench.member (member_id text PRIMARY KEY, email text);
SELECT cdp.add_source('shop', 'bench.member', 'member_id', '{"email": "email"}');
CREATE TABLE bench.orders (order_id bigint PRIMARY KEY, member_id text, ordered_at timestamptz,
  amount numeric, product text, category text, channel text);
CREATE TABLE bench.page_views (hit_id bigint PRIMARY KEY, member_id text, hit_at timestamptz, url text);
CREATE TABLE bench.points (txn_id bigint PRIMARY KEY, member_id text, at timestamptz,
  points_earned integer, points_redeemed integer);
SELECT cdp.add_activity('purchase', 'bench.orders', 'ordered_at', '{"source": "shop", "column": "member_id"}',
  '{"amount": "amount", "product": "product", "category": "category", "channel": "channel"}', 'purchase');
SELECT cdp.add_activity('page_view', 'bench.page_views', 'hit_at', '{"source": "shop", "column": "member_id"}',
  '{"url": "url"}', 'page_view');
SELECT cdp.add_activity('loyalty', 'bench.points', 'at', '{"source": "shop", "column": "member_id"}',
  '{"points_earned": "points_earned", "points_redeemed": "points_redeemed"}', 'loyalty');

INSERT INTO cdp.customer (customer_id, record_count, sources, updated_run)
SELECT c, 1, '{shop}', 1 FROM generate_series(1, :customers) c;

-- Activity g (1..N): g % 10 in 0-2 purchase, 3-8 page view, 9 loyalty; the
-- customer, the time (uniform over the two years before the reference time)
-- and every detail value come from hashes of g, so the data is the same in
-- every run.  Page views get session_id, dwell_seconds and page_type as
-- refresh_activities would write them (a session per customer and day); the
-- url of a product page contains '/product/'.
CREATE PROCEDURE bench.add_activities(p_first bigint, p_last bigint, p_customers bigint, p_ref timestamptz)
LANGUAGE sql AS $gen$
INSERT INTO cdp.activity (customer_id, activity, type, occurred_at, source_key, linked_by, link_value, detail)
SELECT h.customer_id, k.kind, k.kind, h.at, g::text, 'source', 'M' || h.customer_id,
       CASE k.kind
         WHEN 'purchase' THEN jsonb_build_object(
           'amount', round(2 + (h.h1 % 40000) / 100.0 * (1 + (h.h2 % 3)), 2),
           'product', 'P' || lpad((h.h2 % 800)::text, 4, '0'),
           'category', (ARRAY['shoes', 'shirts', 'trousers', 'dresses', 'jackets', 'bags', 'hats',
                              'socks', 'beauty', 'home', 'toys', 'sports'])[1 + ((h.h3 % 1000) * (h.h3 % 1000) / 83334)::int],
           'channel', (ARRAY['web', 'web', 'store', 'store', 'store', 'app'])[1 + (h.h4 % 6)::int])
         WHEN 'page_view' THEN jsonb_build_object(
           'url', 'https://shop.test/' || pt.page_type || '/' || (h.h2 % 1000),
           'page_type', pt.page_type,
           'dwell_seconds', round((h.h1 % 6000) / 10.0, 1),
           'session_id', 'c' || h.customer_id || ':' || to_char(h.at, 'YYYYMMDD'))
         ELSE jsonb_build_object(
           'points_earned', CASE WHEN h.h2 % 4 = 0 THEN 0 ELSE h.h1 % 500 END,
           'points_redeemed', CASE WHEN h.h2 % 4 = 0 THEN 100 * (1 + h.h3 % 5) ELSE 0 END)
       END
  FROM generate_series(p_first, p_last) g,
       LATERAL (SELECT 1 + abs(hashint8extended(g, 1)) % p_customers AS customer_id,
                       p_ref - make_interval(secs => abs(hashint8extended(g, 2)) % (730 * 86400)) AS at,
                       abs(hashint8extended(g, 3)) AS h1, abs(hashint8extended(g, 4)) AS h2,
                       abs(hashint8extended(g, 5)) AS h3, abs(hashint8extended(g, 6)) AS h4) h,
       LATERAL (SELECT CASE WHEN g % 10 < 3 THEN 'purchase' WHEN g % 10 < 9 THEN 'page_view' ELSE 'loyalty' END AS kind) k,
       LATERAL (SELECT (ARRAY['home', 'search', 'category', 'category', 'product', 'product', 'product',
                              'product', 'cart', 'checkout'])[1 + (h.h3 % 10)::int] AS page_type) pt;
$gen$;
CALL bench.add_activities(1, :activities, :customers, :'ref');
