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
SELECT measures, scans, customers, reference_time FROM cdp.measure_refresh;
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
