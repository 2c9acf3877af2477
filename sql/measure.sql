-- Measures over activities: customer measures in one scan into
-- cdp.customer_measure (windows ending at a fixed reference time, filters,
-- distinct, top-k, days since, arithmetic, defaults), business measures by
-- month and channel, columns following the measures, and the errors of
-- create_measure.  Expected values are worked out by hand next to the data.
SET client_min_messages = notice;
SET timezone = 'UTC';
SET extra_float_digits = 0;
\set VERBOSITY default
\set SHOW_CONTEXT never

DELETE FROM cdp.unify_run;
DELETE FROM cdp.customer_id_history;
SELECT setval('cdp.customer_id_seq', 1, false) IS NOT NULL AS ids_reset,
       setval('cdp.unify_run_seq', 1, false) IS NOT NULL AS runs_reset;

CREATE SCHEMA ms;
CREATE TABLE ms.web (id text PRIMARY KEY, email text, first_name text);
INSERT INTO ms.web VALUES ('W1', 'ann@mail.net', 'Ann'), ('W2', 'bob@mail.net', 'Bob'), ('W3', 'cat@mail.net', 'Cat');
SELECT cdp.add_source('web', 'ms.web', 'id', '{"email": "email", "first_name": "first_name"}');
\o /dev/null
CALL cdp.unify();
\o
-- customers 1 (Ann), 2 (Bob), 3 (Cat)
CREATE TABLE ms.orders (order_id int PRIMARY KEY, web_id text, total numeric, product text, channel text, ordered_at timestamptz);
INSERT INTO ms.orders VALUES
  (1, 'W1', 10.00, 'shoes', 'web',   '2026-01-01 10:00+00'),
  (2, 'W2', 20,    'hat',   'store', '2026-01-02 10:00+00'),
  (3, 'W1', 5.50,  'socks', 'web',   '2026-02-01 10:00+00'),
  (4, 'W1', 7,     'shoes', 'store', '2026-02-10 12:00+00'),
  (5, 'W2', 1,     'pin',   'web',   '2025-06-01 10:00+00');
CREATE TABLE ms.points (id int PRIMARY KEY, web_id text, earned int, redeemed int, at timestamptz);
INSERT INTO ms.points VALUES (1, 'W1', 100, 0, '2026-01-01'), (2, 'W1', 0, 30, '2026-02-01'), (3, 'W3', 50, 0, '2026-01-15');
SELECT cdp.add_activity('purchase', 'ms.orders', 'ordered_at', '{"source": "web", "column": "web_id"}',
                        '{"amount": "total", "product": "product", "channel": "channel"}');
SELECT cdp.add_activity('loyalty', 'ms.points', 'at', '{"source": "web", "column": "web_id"}',
                        '{"points_earned": "earned", "points_redeemed": "redeemed"}');
\o /dev/null
CALL cdp.refresh_activities();
\o
SELECT cdp.measure_catalog() -> 'purchase' AS purchase_catalog;

-- Reference time 2026-02-15 12:00 UTC.
--                        Ann (1)              Bob (2)           Cat (3)
-- total_spend            22.50                21                (none) NULL
-- spend_30d (> Jan 16)   12.50 (orders 3, 4)  NULL              NULL
-- orders                 3                    2                 0 (default)
-- web_orders             2                    1                 0
-- products               2 (shoes, socks)     2                 0
-- days_since_last        5 (Feb 10 12:00)     44 (Jan 2 10:00 → 44.08 days)   NULL
-- balance                70                   NULL              50
-- favourite              {shoes}              {hat} (tie hat/pin: byte order)   NULL
SELECT cdp.create_measure('total_spend', 'sum(purchase.amount)');
SELECT cdp.create_measure('spend_30d', 'sum(purchase.amount) within 30 days');
SELECT cdp.create_measure('orders', 'count(purchase)');
SELECT cdp.create_measure('web_orders', 'count(purchase where channel = ''web'')');
SELECT cdp.create_measure('products', 'count(distinct purchase.product)');
SELECT cdp.create_measure('days_since_last', 'days_since(max(purchase.occurred_at))');
SELECT cdp.create_measure('balance', 'sum(loyalty.points_earned) - sum(loyalty.points_redeemed)');
SELECT cdp.create_measure('favourite', 'top(purchase.product, 1)');
SELECT cdp.create_measure('monthly_sales', 'sum(purchase.amount)', '{"level": "business", "dimensions": ["month", "channel"]}');
SELECT name, level, sql_type FROM cdp.measure ORDER BY name;

\o /dev/null
CALL cdp.refresh_measures('2026-02-15 12:00+00');
\o
-- scans: one per part of the customers (a full refresh with parallel
-- workers splits them in max_parallel_workers_per_gather parts), one for
-- the business measure
SELECT measures, scans = greatest(least(current_setting('max_parallel_workers_per_gather')::integer, 8), 1) + 1
         AS scans_per_part_and_business_measure, customers, reference_time FROM cdp.measure_refresh;
SELECT customer_id, total_spend, spend_30d, orders, web_orders, products, days_since_last, balance, favourite
  FROM cdp.customer_measure ORDER BY customer_id;
-- January: web 10, store 20; February: web 5.50, store 7; June 2025: web 1
SELECT dimensions ->> 'month' AS month, dimensions ->> 'channel' AS channel, value
  FROM cdp.business_measure ORDER BY 1, 2;

-- one scan: the plan reads cdp.activity once for every customer measure
SELECT count(*) AS activity_scans FROM (
  SELECT regexp_matches(x, 'Scan on activity', 'g') FROM (
    SELECT string_agg(p, E'\n') AS x FROM (SELECT 1) d,
      LATERAL (SELECT * FROM cdp._explain_measures()) e(p)) y) z;

-- a measure dropped loses its column at the next refresh
SELECT cdp.drop_measure('favourite');
\o /dev/null
CALL cdp.refresh_measures('2026-02-15 12:00+00');
\o
SELECT count(*) AS favourite_columns FROM pg_attribute
 WHERE attrelid = 'cdp.customer_measure'::regclass AND attname = 'favourite' AND NOT attisdropped;

-- incremental refreshes: the measures are those of the last refresh, so
-- only customers whose activities changed are computed again
\set last 'SELECT mode, recomputed, changed_rows, why_full FROM cdp.measure_refresh ORDER BY refresh_id DESC LIMIT 1;'
-- the values, for comparing an incremental refresh with a full one
CREATE FUNCTION ms.snapshot() RETURNS SETOF text LANGUAGE sql AS $$
  SELECT format('%s %s %s %s %s %s %s %s', customer_id, total_spend, spend_30d, orders, web_orders, products,
                days_since_last, balance)
    FROM cdp.customer_measure ORDER BY customer_id $$;
\o /dev/null
CALL cdp.refresh_measures('2026-02-15 12:00+00');
\o
:last
-- Cat (3) buys a hat on 14 February: refresh_activities writes that one row,
-- and its customer is pending
INSERT INTO ms.orders VALUES (6, 'W3', 40, 'hat', 'web', '2026-02-14 10:00+00');
\o /dev/null
CALL cdp.refresh_activities();
\o
SELECT customer_id FROM cdp.measure_pending ORDER BY 1;
\o /dev/null
CALL cdp.refresh_measures('2026-02-15 12:00+00');
\o
:last
SELECT count(*) AS pending_after FROM cdp.measure_pending;
SELECT customer_id, total_spend, spend_30d, orders, web_orders, products, days_since_last, balance
  FROM cdp.customer_measure WHERE customer_id = 3;
CREATE TABLE ms.incremental AS SELECT * FROM ms.snapshot() v;
\o /dev/null
CALL cdp.refresh_measures('2026-02-15 12:00+00', "full" => true);
\o
:last
SELECT count(*) AS differences_from_full FROM (
  (SELECT * FROM ms.incremental EXCEPT SELECT * FROM ms.snapshot())
  UNION ALL (SELECT * FROM ms.snapshot() EXCEPT SELECT * FROM ms.incremental)) d;
-- a new reference time with days_since among the measures: every customer
\o /dev/null
CALL cdp.refresh_measures('2026-02-16 12:00+00');
\o
:last
-- measures changed: full
SELECT cdp.drop_measure('days_since_last');
\o /dev/null
CALL cdp.refresh_measures('2026-02-15 12:00+00');
\o
:last
-- the reference time moves to 5 March: spend_30d's window becomes (3 Feb,
-- 5 Mar], so only Ann's order of 1 February leaves it; Ann is computed again
-- (12.50 -> 7), nobody else
\o /dev/null
CALL cdp.refresh_measures('2026-03-05 12:00+00');
\o
:last
SELECT customer_id, spend_30d FROM cdp.customer_measure ORDER BY customer_id;
DROP TABLE ms.incremental;
CREATE TABLE ms.incremental AS
  SELECT format('%s %s %s %s %s', customer_id, total_spend, spend_30d, orders, balance) AS v
    FROM cdp.customer_measure;
\o /dev/null
CALL cdp.refresh_measures('2026-03-05 12:00+00', "full" => true);
\o
:last
SELECT count(*) AS differences_from_full FROM (
  (SELECT v FROM ms.incremental EXCEPT SELECT format('%s %s %s %s %s', customer_id, total_spend, spend_30d, orders, balance) FROM cdp.customer_measure)
  UNION ALL
  (SELECT format('%s %s %s %s %s', customer_id, total_spend, spend_30d, orders, balance) FROM cdp.customer_measure EXCEPT SELECT v FROM ms.incremental)) d;
-- the order is cancelled: Cat goes back to the defaults
DELETE FROM ms.orders WHERE order_id = 6;
\o /dev/null
CALL cdp.refresh_activities();
\o
\o /dev/null
CALL cdp.refresh_measures('2026-03-05 12:00+00');
\o
:last
SELECT customer_id, total_spend, spend_30d, orders, web_orders, products, balance
  FROM cdp.customer_measure WHERE customer_id = 3;
-- refresh_activities with nothing new writes nothing
\o /dev/null
CALL cdp.refresh_activities();
\o
SELECT count(*) AS pending_after_noop FROM cdp.measure_pending;

-- an activity read only through windows: its rows outside the widest
-- window are left out before grouping.  Loyalty (reference 15 February
-- 12:00, 30 days: after 16 January 12:00): Ann's 100 points of 1 January
-- and Cat's 50 of 15 January are out, Ann's redemption of 30 on 1 February
-- is in.  Ann: 0 points earned, 1 redemption; Bob: no loyalty rows (NULL,
-- 0); Cat: only an old row, so no row read at all (NULL, 0).
SELECT cdp.drop_measure('balance');
SELECT cdp.create_measure('points_30d', 'sum(loyalty.points_earned) within 30 days');
SELECT cdp.create_measure('redemptions_30d', 'count(loyalty where points_redeemed > 0) within 30 days');
SELECT sql LIKE '%(x.k <> 1 OR (x.occurred_at > %' AS loyalty_rows_bounded,
       sql LIKE '%(x.k <> 2 OR%' AS purchase_rows_bounded
  FROM cdp._customer_measure_sql(NULL, 1, '2026-02-15 12:00+00');
\o /dev/null
CALL cdp.refresh_measures('2026-02-15 12:00+00', "full" => true);
\o
SELECT customer_id, points_30d, redemptions_30d, total_spend, orders FROM cdp.customer_measure ORDER BY customer_id;

-- errors
SELECT cdp.create_measure('Total', 'sum(purchase.amount)');
SELECT cdp.create_measure('orders', 'count(purchase)');
SELECT cdp.create_measure('x', 'sum(purchase.amount');
SELECT cdp.create_measure('x', 'sum(nosuch.amount)');
SELECT cdp.create_measure('x', 'sum(purchase.nosuch)');
SELECT cdp.create_measure('x', 'sum(purchase.product)');
SELECT cdp.create_measure('x', 'median(purchase.amount)');
SELECT cdp.create_measure('x', 'sum(purchase.amount)', '{"colour": "red"}');
SELECT cdp.create_measure('x', 'sum(purchase.amount)', '{"level": "galaxy"}');
SELECT cdp.create_measure('x', 'sum(purchase.amount)', '{"dimensions": ["month"]}');
SELECT cdp.create_measure('x', 'sum(purchase.amount)', '{"level": "business", "dimensions": ["store"]}');
SELECT cdp.drop_measure('nope');
SELECT count(*) AS measures FROM cdp.measure;

-- clean up
SELECT cdp.drop_measure(name) FROM cdp.measure ORDER BY name;
\o /dev/null
CALL cdp.refresh_measures('2026-02-15 12:00+00');
\o
SELECT cdp.drop_activity(name) FROM cdp.activity_def WHERE NOT link ? 'journey' ORDER BY name;
SELECT cdp.drop_source('web');
\o /dev/null
CALL cdp.unify();
\o
DROP SCHEMA ms CASCADE;

-- ---- cdp.fused_measures: many simple measures in one aggregate call ----
-- Every kind of slot (count of rows and of values, sum, avg, min, max over
-- numeric, integer, smallint, bigint, date and timestamptz), with and
-- without a condition and a window, against the plain aggregate it stands
-- for; the reference time is 2026-03-01 00:00 UTC, so "30 days" holds rows
-- after 2026-01-30 00:00 up to and including 2026-03-01 00:00.
CREATE SCHEMA fm;
CREATE TABLE fm.r (cid int, at timestamptz, amount numeric, qty int, big bigint, d date, flag boolean);
INSERT INTO fm.r VALUES
  (1, '2026-02-28 12:00+00', 10.50, 2, 5000000000, '2026-02-28', true),
  (1, '2026-02-01 00:00+00', 3, 1, -1, '2026-02-01', false),
  (1, '2025-12-01 00:00+00', NULL, NULL, NULL, NULL, true),
  (1, '2026-03-01 00:00+00', 0.125, 7, 2, '2026-03-01', NULL),   -- at the reference: in the window
  (1, '2026-03-02 00:00+00', 100, 100, 100, '2026-03-02', true),  -- after it: outside
  (2, '2026-01-30 00:00+00', 1.0, 3, 7, '2026-01-30', true),      -- 30 days before: outside
  (2, '2026-01-30 00:00:01+00', -2.50, -4, -7, '2026-01-31', true),
  (3, '2026-02-15 00:00+00', NULL, NULL, NULL, NULL, NULL);
-- the slots, their value and condition arguments, and the SQL aggregate
-- each one replaces
CREATE TABLE fm.slot (slot int, spec text, sql text);
INSERT INTO fm.slot VALUES
  (1, 'count,0,0,', 'count(*)'),
  (2, 'count,1,0,', 'count(amount)'),
  (3, 'count,0,6,30 days', $$count(*) FILTER (WHERE flag AND at > '2026-01-30 00:00+00' AND at <= '2026-03-01 00:00+00')$$),
  (4, 'sum,1,0,', 'sum(amount)'),
  (5, 'sum,2,0,30 days', $$sum(qty) FILTER (WHERE at > '2026-01-30 00:00+00' AND at <= '2026-03-01 00:00+00')$$),
  (6, 'sum,3,6,', 'sum(big) FILTER (WHERE flag)'),
  (7, 'avg,1,0,', 'avg(amount)'),
  (8, 'avg,2,6,', 'avg(qty) FILTER (WHERE flag)'),
  (9, 'min,1,0,', 'min(amount)'),
  (10, 'max,1,0,30 days', $$max(amount) FILTER (WHERE at > '2026-01-30 00:00+00' AND at <= '2026-03-01 00:00+00')$$),
  (11, 'min,4,0,', 'min(d)'),
  (12, 'max,5,0,', 'max(at)'),
  (13, 'min,3,0,', 'min(big)'),
  (14, 'max,7,0,', 'max(q16)'),
  (15, 'avg,3,0,', 'avg(big)'),
  (16, 'sum,7,6,', 'sum(q16) FILTER (WHERE flag)');
-- one query: the fused state per customer and every plain aggregate, as
-- text (q16 is qty as a smallint, NULL when it does not fit)
CREATE FUNCTION fm.compare(rel text, OUT slot int, OUT cid int, OUT fused text, OUT plain text)
RETURNS SETOF record LANGUAGE plpgsql AS $$
DECLARE
  q text;
BEGIN
  SELECT format('SELECT s.slot, g.cid, g.fused[s.slot], g.plain[s.slot] FROM (SELECT cid, ARRAY[%s] AS fused, ARRAY[%s] AS plain FROM ('
                'SELECT cid, cdp.fused_measures(%L, ''2026-03-01 00:00+00'', at, amount, qty, big, d, at, flag, q16) AS st, %s '
                'FROM (SELECT *, (CASE WHEN qty BETWEEN -32768 AND 32767 THEN qty END)::smallint AS q16 FROM %s) x GROUP BY cid) a) g, fm.slot s',
                string_agg(format('cdp.fused_value(st, %s, NULL::%s)::text', s.slot, s.type), ', ' ORDER BY s.slot),
                string_agg(format('p%s::text', s.slot), ', ' ORDER BY s.slot),
                string_agg(s.spec, ';' ORDER BY s.slot),
                string_agg(format('%s AS p%s', s.sql, s.slot), ', ' ORDER BY s.slot), rel)
    INTO q
    FROM (SELECT s.*, CASE WHEN s.slot IN (1, 2, 3, 5, 13, 16) THEN 'bigint' WHEN s.slot = 11 THEN 'date'
                           WHEN s.slot = 12 THEN 'timestamptz' WHEN s.slot = 14 THEN 'smallint' ELSE 'numeric' END AS type
            FROM fm.slot s) s;
  RETURN QUERY EXECUTE q || ' ORDER BY 1, 2';
END $$;
-- by hand, customer 1: 5 rows, 4 amounts (10.50 + 3 + 0.125 + 100 = 113.625,
-- avg 28.40625), flagged rows in the window: only 28 Feb (1); qty in the
-- window 2 + 1 + 7 = 10; flagged big 5000000000 + 100; min amount 0.125,
-- max in the window 10.50; min date 2026-02-01, last time 2 March, min big
-- -1, max qty 100.  Customer 2: its 30 January 00:00 row is outside the
-- window, its 00:00:01 row inside (qty -4, amount -2.50); avg 1.0 and -2.50
-- is -0.75.  Customer 3: one row, every value NULL: counts 1 and 0, the rest
-- NULL.
SELECT slot, cid, fused, plain, fused IS NOT DISTINCT FROM plain AS same FROM fm.compare('fm.r');
SELECT count(*) AS disagreements FROM fm.compare('fm.r') WHERE fused IS DISTINCT FROM plain;

-- no row at all: the aggregate is NULL, and so is every value read from it
-- (a measure's SQL wraps counts in coalesce(..., 0))
SELECT cdp.fused_measures('count,0,0,', now(), at, amount) IS NULL AS null_state FROM fm.r WHERE false;
SELECT cdp.fused_value(NULL::cdp.fused_state, 1, NULL::bigint) AS null_value;

-- exact numbers however large: more than 36 digits, NaN and infinities
-- leave the 128-bit path for numerics (sum, avg, min, max as numeric does)
CREATE TABLE fm.big (cid int, at timestamptz, amount numeric, qty int, big bigint, d date, flag boolean);
INSERT INTO fm.big VALUES
  (1, '2026-02-01', 123456789012345678901234567890.123456789, 1, 9223372036854775807, NULL, true),
  (1, '2026-02-02', 1e40, 1, 9223372036854775807, NULL, true),
  (1, '2026-02-03', -0.000000000000000000000000000000000001, 1, 9223372036854775807, NULL, true),
  (2, '2026-02-01', 'NaN', 1, 1, NULL, true),
  (2, '2026-02-02', 5, 1, 1, NULL, true),
  (3, '2026-02-01', 'Infinity', 1, 1, NULL, true),
  (3, '2026-02-02', 7.25, 1, 1, NULL, true),
  (4, '2026-02-01', 99999999999999999999999999999999.9999, 2147483647, -9223372036854775808, NULL, true),
  (4, '2026-02-02', 99999999999999999999999999999999.9999, 2147483647, -9223372036854775808, NULL, true),
  (4, '2026-02-03', 0.00001, 2147483647, -9223372036854775808, NULL, true);
SELECT slot, cid, fused, plain FROM fm.compare('fm.big') WHERE slot IN (4, 7, 9, 10, 6, 15) ORDER BY cid, slot;
SELECT count(*) AS disagreements FROM fm.compare('fm.big') WHERE fused IS DISTINCT FROM plain;

-- parallel: 30,000 rows of 500 customers aggregated by two workers, the
-- partial states combined; the same as the plain aggregates and as a serial
-- plan
CREATE TABLE fm.many AS
SELECT 1 + i % 500 AS cid, timestamptz '2026-03-01 00:00+00' - make_interval(hours => i % 2000) AS at,
       CASE WHEN i % 7 = 0 THEN NULL ELSE round((i % 1000) / 8.0, 3) END AS amount,
       (i % 50) - 10 AS qty, (i::bigint * 1000003) % 10000000000 AS big,
       date '2026-01-01' + i % 90 AS d, i % 3 = 0 AS flag
  FROM generate_series(1, 30000) i;
ANALYZE fm.many;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
SELECT cid, cdp.fused_measures('sum,1,0,30 days;min,5,0,', '2026-03-01 00:00+00', at, amount, qty, big, d, at, flag)
  FROM fm.many GROUP BY cid;
CREATE TABLE fm.parallel AS SELECT * FROM fm.compare('fm.many');
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SET max_parallel_workers_per_gather = 0;
CREATE TABLE fm.serial AS SELECT * FROM fm.compare('fm.many');
RESET max_parallel_workers_per_gather;
SELECT (SELECT count(*) FROM fm.parallel) AS values_compared,
       (SELECT count(*) FROM fm.parallel WHERE fused IS DISTINCT FROM plain) AS disagreements_with_plain,
       (SELECT count(*) FROM ((TABLE fm.parallel EXCEPT TABLE fm.serial) UNION ALL (TABLE fm.serial EXCEPT TABLE fm.parallel)) d)
         AS differences_from_serial;

-- the text and binary forms round trip
CREATE TABLE fm.states AS
SELECT cid, cdp.fused_measures((SELECT string_agg(spec, ';' ORDER BY slot) FROM fm.slot), '2026-03-01 00:00+00',
                               at, amount, qty, big, d, at, flag, (CASE WHEN qty BETWEEN -32768 AND 32767 THEN qty END)::smallint) AS st
  FROM (TABLE fm.r UNION ALL SELECT cid + 10, at, amount, qty, big, d, flag FROM fm.big) x GROUP BY cid;
SELECT cid, st FROM fm.states WHERE cid IN (1, 3, 11) ORDER BY cid;
SELECT count(*) AS states, count(*) FILTER (WHERE st::text::cdp.fused_state::text = st::text) AS text_round_trips
  FROM fm.states;
CREATE TABLE fm.states2 (LIKE fm.states);
DO $$
DECLARE
  f text := format('/tmp/pg_cdp_fused_%s.bin', pg_backend_pid());
BEGIN
  EXECUTE format('COPY fm.states TO %L WITH (FORMAT binary)', f);
  EXECUTE format('COPY fm.states2 FROM %L WITH (FORMAT binary)', f);
  EXECUTE format('COPY (SELECT 1 WHERE false) TO %L', f);
END $$;
SELECT count(*) AS binary_round_trips FROM fm.states a JOIN fm.states2 b USING (cid) WHERE a.st::text = b.st::text;
SELECT cdp.fused_value(st, 4, NULL::numeric) AS sum_after_text_round_trip
  FROM (SELECT st::text::cdp.fused_state AS st FROM fm.states WHERE cid = 11) s;

-- errors: bad specifications, bad slots, bad text
CREATE FUNCTION fm.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text; msg text; det text; hint text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  RETURN format('%s: %s | %s | %s', st, msg, det, hint);
END $$;
SELECT q, fm.try(q) FROM (VALUES
  ($$SELECT cdp.fused_measures('median,1,0,', now(), at, amount) FROM fm.r$$),
  ($$SELECT cdp.fused_measures('sum,0,0,', now(), at, amount) FROM fm.r$$),
  ($$SELECT cdp.fused_measures('count,3,0,', now(), at, amount) FROM fm.r$$),
  ($$SELECT cdp.fused_measures('count,0,1,', now(), at, amount) FROM fm.r$$),
  ($$SELECT cdp.fused_measures('sum,1,0,', now(), at, 'x'::text) FROM fm.r$$),
  ($$SELECT cdp.fused_measures('min,1,0,', now(), at, flag) FROM fm.r$$),
  ($$SELECT cdp.fused_measures('count,0', now(), at, amount) FROM fm.r$$),
  ($$SELECT cdp.fused_measures('', now(), at, amount) FROM fm.r$$),
  ($$SELECT cdp.fused_measures('count,0,0,3 parsecs', now(), at, amount) FROM fm.r$$),
  ($$SELECT cdp.fused_measures(NULL, now(), at, amount) FROM fm.r$$),
  ($$SELECT cdp.fused_value(st, 0, NULL::numeric) FROM fm.states$$),
  ($$SELECT cdp.fused_value(st, 17, NULL::numeric) FROM fm.states$$),
  ($$SELECT cdp.fused_value(st, 1, NULL::numeric) FROM fm.states$$),
  ($$SELECT cdp.fused_trans(NULL, 'count,0,0,', now(), now(), 1)$$),
  ($$SELECT ''::cdp.fused_state$$),
  ($$SELECT 'count::5'::cdp.fused_state$$),
  ($$SELECT 'median:numeric:1:2'::cdp.fused_state$$),
  ($$SELECT 'sum:text:1:2'::cdp.fused_state$$),
  ($$SELECT 'count::-1:'::cdp.fused_state$$),
  ($$SELECT 'count::5:7'::cdp.fused_state$$),
  ($$SELECT 'sum:numeric:2:'::cdp.fused_state$$),
  ($$SELECT 'sum:numeric:0:3'::cdp.fused_state$$),
  ($$SELECT 'sum:numeric:2:1e5'::cdp.fused_state$$),
  ($$SELECT 'min:integer:1:1.5'::cdp.fused_state$$),
  ($$SELECT 'max:smallint:1:40000'::cdp.fused_state$$),
  ($$SELECT 'count::5:;sum:bigint:x:1'::cdp.fused_state$$)) v(q);

-- a NULL value, an empty string and a 1 MB specification
SELECT cdp.fused_value(st, 2, NULL::bigint) FROM (SELECT cdp.fused_measures('count,0,0,;count,1,0,', now(), now(), NULL::text) AS st) s;
SELECT cdp.fused_value(st, 2, NULL::bigint) FROM (SELECT cdp.fused_measures('count,0,0,;count,1,0,', now(), now(), ''::text) AS st) s;
SELECT fm.try($$SELECT cdp.fused_measures(repeat('count,0,0,;', 100000) || 'count,0,0,', now(), now(), 1)$$) AS one_mb_spec;
SELECT fm.try($$SELECT repeat('count::1:;', 100000)::cdp.fused_state$$) AS one_mb_state;
-- a numeric of 100,000 digits and a 1 MB text counted
SELECT cdp.fused_value(st, 1, NULL::numeric) = repeat('9', 100000)::numeric * 2 AS huge_sum,
       cdp.fused_value(st, 2, NULL::bigint) AS texts
  FROM (SELECT cdp.fused_measures('sum,1,0,;count,2,0,', now(), now(), v, repeat('ab', 500000)) AS st
          FROM (VALUES (repeat('9', 100000)::numeric), (repeat('9', 100000)::numeric)) x(v)) s;
DROP SCHEMA fm CASCADE;
