--
-- dsl: the expression language of measures and segments.
--   1. every example of the language parses (root node kinds checked), the
--      syntax tree of a few, positions counted in characters;
--   2. every measure example compiles against a fixed catalog (the SQL shown);
--   3. the compiled SQL run on a small hand-made activity table, at a fixed
--      reference time, against values computed by hand (windows, filters,
--      distinct, top-k ties, argmax ties, first/last ties, arithmetic), and
--      the "default" checked against a customer without matching activity;
--   4. the aggregates cdp.argmax / cdp.argmin / cdp.top: text form of the
--      state, a parallel plan (Partial Aggregate) giving the same results as
--      a reference query;
--   5. every error kind with its message, detail (caret) and hint, and its
--      SQLSTATE;
--   6. NULL, the empty string, multibyte input, 1 MB inputs, deep nesting,
--      and a seeded fuzz that may only raise the documented SQLSTATEs.
--
SET extra_float_digits = 0;
SET DateStyle = 'ISO, YMD';
SET TimeZone = 'UTC';
\set VERBOSITY default

-- ---- 1. parsing ----
SELECT d AS definition, expected, cdp.parse_expression(d) ->> 'kind' AS actual,
       expected = cdp.parse_expression(d) ->> 'kind' AS ok
  FROM (VALUES
    ($$sum(purchase.amount) within 365 days$$, 'call'),
    ($$count(page_view where url like '%/product/%') within 7 days$$, 'call'),
    ($$days_since(max(purchase.occurred_at))$$, 'call'),
    ($$sum(loyalty.points_earned) - sum(loyalty.points_redeemed)$$, 'binary'),
    ($$sum(page_view.dwell_seconds where category = 'shoes') within 30 days$$, 'call'),
    ($$top(purchase.category, 3)$$, 'call'),
    ($$count(distinct purchase.product) between '2026-01-01' and '2026-06-30'$$, 'call'),
    ($$avg(purchase.amount where channel in ('web', 'app')) within 90 days$$, 'call'),
    ($$argmax(purchase.product, purchase.amount)$$, 'call'),
    ($$coalesce(sum(purchase.amount), 0) / nullif(count(purchase), 0)$$, 'binary'),
    ($$last(email.status)$$, 'call'),
    ($$first(store_visit.store)$$, 'call'),
    ($$min(purchase.amount)$$, 'call'),
    ($$max(purchase.occurred_at)$$, 'call'),
    ($$total_spend > 100 and days_since_last_purchase <= 30$$, 'logical'),
    ($$not (city = 'Paris' or city ilike 'lyon%') and email is not null$$, 'logical'),
    ($$count(purchase where category = 'shoes') within 90 days >= 2$$, 'compare'),
    ($$a not like 'x%' or b not in (1, 2) or c not between 1 and 2 or d is null$$, 'logical'),
    ($$- - 3 * (2 + 1) % 4 / 2$$, 'binary'),
    ($$"Odd Name" != 'it''s' and "x""y" = true and z <> false and w = null$$, 'logical'),
    ($$COUNT(Purchase) WITHIN 1 Week > 1.5e2$$, 'compare')
  ) AS t(d, expected);

-- the trees of a few (pos: 1-based character positions)
SELECT jsonb_pretty(cdp.parse_expression($$count(page_view where url like '%/product/%') within 7 days$$));
SELECT jsonb_pretty(cdp.parse_expression($$not (city = 'Paris' or city ilike 'lyon%') and email is not null$$));
SELECT jsonb_pretty(cdp.parse_expression($$count(distinct purchase.product) between '2026-01-01' and '2026-06-30'$$));
SELECT jsonb_pretty(cdp.parse_expression($$-x.y * 2 + 1.50 not in ('a', null)$$));

-- precedence: or < and < not < comparison < + - < * / % < unary minus;
-- each row: the definition and the tree with every node reduced to its op
CREATE FUNCTION dsl_shape(n jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE n ->> 'kind'
    WHEN 'number' THEN n ->> 'value'
    WHEN 'string' THEN quote_literal(n ->> 'value')
    WHEN 'column' THEN coalesce((n ->> 'qualifier') || '.', '') || (n ->> 'name')
    WHEN 'bool' THEN n ->> 'value'
    WHEN 'null' THEN 'null'
    WHEN 'unary' THEN '(' || (n ->> 'op') || dsl_shape(n -> 'arg') || ')'
    WHEN 'not' THEN '(not ' || dsl_shape(n -> 'arg') || ')'
    WHEN 'isnull' THEN '(' || dsl_shape(n -> 'arg') || CASE WHEN (n ->> 'negated')::boolean THEN ' is not null)' ELSE ' is null)' END
    WHEN 'call' THEN (n ->> 'name') || '(...)'
    WHEN 'like' THEN '(' || dsl_shape(n -> 'arg') || ' ' || (n ->> 'op') || ' ' || dsl_shape(n -> 'pattern') || ')'
    WHEN 'in' THEN '(' || dsl_shape(n -> 'arg') || ' in ...)'
    WHEN 'between' THEN '(' || dsl_shape(n -> 'arg') || ' between ' || dsl_shape(n -> 'low') || ' and ' || dsl_shape(n -> 'high') || ')'
    ELSE '(' || dsl_shape(n -> 'left') || ' ' || (n ->> 'op') || ' ' || dsl_shape(n -> 'right') || ')'
  END $$;
SELECT d, expected, dsl_shape(cdp.parse_expression(d)) = expected AS ok
  FROM (VALUES
    ('a or b and c', '(a or (b and c))'),
    ('not a = 1 and b', '((not (a = 1)) and b)'),
    ('a + b * c - d', '((a + (b * c)) - d)'),
    ('a - b - c', '((a - b) - c)'),
    ('-a * b', '((-a) * b)'),
    ('a + 1 between 2 and 3 + 4', '((a + 1) between 2 and (3 + 4))'),
    ('a between 1 and 2 and b', '((a between 1 and 2) and b)'),
    ('a = 1 or b is not null', '((a = 1) or (b is not null))'),
    ('sum(p.a) within 3 days * 2', '(sum(...) * 2)'),
    ('(a or b) and c', '((a or b) and c)')
  ) AS t(d, expected);

-- positions count characters, not bytes
SELECT (cdp.parse_expression($$x = 'éé€' and yy = 1$$) #>> '{right,pos}')::int AS pos_of_yy,
       15 AS expected;
SELECT (cdp.parse_expression($$sum(p.a where b = '日本') within 3 days$$) #>> '{window,pos}')::int AS window_pos,
       25 AS expected;

-- ---- 2. compiling ----
CREATE TABLE dsl_catalog AS SELECT $${
  "purchase": {"type": "purchase", "columns": {"amount": "numeric", "product": "text",
               "category": "text", "channel": "text", "occurred_at": "timestamptz"}},
  "page_view": {"type": "web", "columns": {"url": "text", "dwell_seconds": "integer", "category": "text"}},
  "loyalty": {"type": "loyalty", "columns": {"points_earned": "integer", "points_redeemed": "int4"}},
  "email": {"type": "email", "columns": {"status": "text"}},
  "store_visit": {"type": "store", "columns": {"store": "text"}}
}$$::jsonb AS catalog;

CREATE TABLE dsl_measure (id int PRIMARY KEY, definition text);
INSERT INTO dsl_measure VALUES
  (1, $$sum(purchase.amount) within 365 days$$),
  (2, $$count(page_view where url like '%/product/%') within 7 days$$),
  (3, $$days_since(max(purchase.occurred_at))$$),
  (4, $$sum(loyalty.points_earned) - sum(loyalty.points_redeemed)$$),
  (5, $$sum(page_view.dwell_seconds where category = 'shoes') within 30 days$$),
  (6, $$top(purchase.category, 3)$$),
  (7, $$count(distinct purchase.product) between '2026-01-01' and '2026-06-30'$$),
  (8, $$avg(purchase.amount where channel in ('web', 'app')) within 90 days$$),
  (9, $$argmax(purchase.product, purchase.amount)$$),
  (10, $$coalesce(sum(purchase.amount), 0) / nullif(count(purchase), 0)$$),
  (11, $$last(email.status)$$),
  (12, $$first(store_visit.store)$$),
  (13, $$min(purchase.amount)$$),
  (14, $$max(purchase.occurred_at)$$),
  (15, $$count(purchase where category = 'shoes') within 90 days >= 2$$),
  (16, $$count(purchase where category = 'shoes') within 180 days >= 2$$),
  (17, $$top(purchase.category, 1)$$),
  (18, $$argmin(purchase.product, purchase.amount)$$),
  (19, $$count(purchase.amount)$$),
  (20, $$round(avg(purchase.amount), 2) + count(page_view) * 2$$);

SELECT m.id, r ->> 'sql_type' AS sql_type, r -> 'activities' AS activities,
       r ->> 'default' AS "default", r ->> 'select' AS "select"
  FROM dsl_measure m, dsl_catalog c, cdp.compile_measure(m.definition, c.catalog) r
 ORDER BY m.id \gx

-- ---- 3. running the compiled SQL ----
-- A table of the shape of cdp.activity; the compiled expressions only name
-- the row alias x, so any table of that shape works.
CREATE TABLE dsl_activity (customer_id bigint, activity text, type text,
                           occurred_at timestamptz, source_key text, detail jsonb);
INSERT INTO dsl_activity (customer_id, activity, occurred_at, detail) VALUES
  -- customer 1
  (1, 'purchase', '2026-06-20 10:00+00', '{"amount": 100, "product": "A", "category": "shoes", "channel": "web"}'),
  (1, 'purchase', '2026-03-01 10:00+00', '{"amount": 50, "product": "B", "category": "shoes", "channel": "app"}'),
  (1, 'purchase', '2025-01-01 10:00+00', '{"amount": 30, "product": "A", "category": "hats", "channel": "store"}'),
  (1, 'purchase', '2026-06-30 23:00+00', '{"amount": 100, "product": "C", "category": "bags", "channel": "web"}'),
  (1, 'purchase', '2026-08-01 00:00+00', '{"amount": 7, "product": "D", "category": "hats", "channel": "web"}'),
  (1, 'page_view', '2026-06-28 00:00+00', '{"url": "/product/1", "dwell_seconds": 30, "category": "shoes"}'),
  (1, 'page_view', '2026-06-25 00:00+00', '{"url": "/home", "dwell_seconds": 5, "category": "shoes"}'),
  (1, 'page_view', '2026-05-01 00:00+00', '{"url": "/product/2", "dwell_seconds": 100, "category": "shoes"}'),
  (1, 'loyalty', '2026-01-01 00:00+00', '{"points_earned": 100, "points_redeemed": 0}'),
  (1, 'loyalty', '2026-02-01 00:00+00', '{"points_earned": 50, "points_redeemed": 30}'),
  (1, 'email', '2026-06-01 00:00+00', '{"status": "sent"}'),
  (1, 'email', '2026-06-02 00:00+00', '{"status": "opened"}'),
  (1, 'email', '2026-06-02 00:00+00', '{"status": "bounced"}'),
  (1, 'store_visit', '2026-01-05 00:00+00', '{"store": "Paris"}'),
  (1, 'store_visit', '2026-01-05 00:00+00', '{"store": "Lyon"}'),
  (1, 'store_visit', '2026-02-01 00:00+00', '{"store": "Nice"}'),
  -- customer 2: one page view
  (2, 'page_view', '2026-06-30 00:00+00', '{"url": "/product/9", "dwell_seconds": 10, "category": "hats"}'),
  -- customer 3: a purchase without an amount
  (3, 'purchase', '2026-06-01 12:00+00', '{"product": "X", "category": "toys", "channel": "web"}'),
  -- customer 4: only an activity no measure reads
  (4, 'newsletter', '2026-06-01 00:00+00', '{}');

-- the value of measure "id" for every customer, at reference time $1
CREATE FUNCTION dsl_run(def text, at timestamptz)
RETURNS TABLE (customer_id bigint, value text) LANGUAGE plpgsql AS $$
DECLARE
  c jsonb := cdp.compile_measure(def, (SELECT catalog FROM dsl_catalog));
BEGIN
  -- the rows of every activity, so that customer 4 is there too
  RETURN QUERY EXECUTE format(
    'SELECT x.customer_id, (%s)::text FROM %s x GROUP BY x.customer_id', c ->> 'select',
    cdp._activity_rows_sql(c -> 'columns', ARRAY(SELECT DISTINCT activity FROM dsl_activity), 'dsl_activity'))
    USING at;
END $$;

-- expected values, worked out by hand at 2026-07-01 00:00 UTC (see the
-- rows above): windows are (T - n, T]; between-windows include both days;
-- ties: argmax/argmin/first/last take the smallest value, top lists equal
-- counts in value order.
CREATE TABLE dsl_expected (id int, customer_id bigint, expected text);
INSERT INTO dsl_expected VALUES
  (1, 1, '250'), (1, 2, NULL), (1, 3, NULL), (1, 4, NULL),
  (2, 1, '1'), (2, 2, '1'), (2, 3, '0'), (2, 4, '0'),
  (3, 1, '-31'), (3, 2, NULL), (3, 3, '29'), (3, 4, NULL),
  (4, 1, '120'), (4, 2, NULL), (4, 3, NULL), (4, 4, NULL),
  (5, 1, '35'), (5, 2, NULL), (5, 3, NULL), (5, 4, NULL),
  (6, 1, '{hats,shoes,bags}'), (6, 2, NULL), (6, 3, '{toys}'), (6, 4, NULL),
  (7, 1, '3'), (7, 2, '0'), (7, 3, '1'), (7, 4, '0'),
  (8, 1, '100'), (8, 2, NULL), (8, 3, NULL), (8, 4, NULL),
  (9, 1, 'A'), (9, 2, NULL), (9, 3, NULL), (9, 4, NULL),
  (10, 1, '57.4'), (10, 2, NULL), (10, 3, '0'), (10, 4, NULL),
  (11, 1, 'bounced'), (11, 2, NULL), (11, 3, NULL), (11, 4, NULL),
  (12, 1, 'Lyon'), (12, 2, NULL), (12, 3, NULL), (12, 4, NULL),
  (13, 1, '7'), (13, 2, NULL), (13, 3, NULL), (13, 4, NULL),
  (14, 1, '2026-08-01 00:00:00+00'), (14, 2, NULL), (14, 3, '2026-06-01 12:00:00+00'), (14, 4, NULL),
  (15, 1, 'false'), (15, 2, 'false'), (15, 3, 'false'), (15, 4, 'false'),
  (16, 1, 'true'), (16, 2, 'false'), (16, 3, 'false'), (16, 4, 'false'),
  (17, 1, '{hats}'), (17, 2, NULL), (17, 3, '{toys}'), (17, 4, NULL),
  (18, 1, 'D'), (18, 2, NULL), (18, 3, NULL), (18, 4, NULL),
  (19, 1, '5'), (19, 2, '0'), (19, 3, '0'), (19, 4, '0'),
  (20, 1, '63.40'), (20, 2, NULL), (20, 3, NULL), (20, 4, NULL);

-- numbers compare as numbers (57.4 = 57.4000...), the rest as text
SELECT e.id, e.customer_id, e.expected, r.value AS actual,
       CASE WHEN e.expected ~ '^-?[0-9.]+$' AND r.value ~ '^-?[0-9.]+$'
            THEN e.expected::numeric = r.value::numeric
            ELSE e.expected IS NOT DISTINCT FROM r.value END AS ok
  FROM dsl_expected e
  JOIN dsl_measure m ON m.id = e.id
  LEFT JOIN LATERAL dsl_run(m.definition, '2026-07-01 00:00+00') r ON r.customer_id = e.customer_id
 ORDER BY e.id, e.customer_id;

-- every measure has its expected values (expect none listed)
SELECT m.id FROM dsl_measure m WHERE m.id NOT IN (SELECT id FROM dsl_expected);

-- "default" is the value of a customer none of whose rows the measure reads
-- (customer 4): evaluated on its own, it must give the same value
CREATE FUNCTION dsl_default(def text, at timestamptz) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  d text := cdp.compile_measure(def, (SELECT catalog FROM dsl_catalog)) ->> 'default';
  v text;
BEGIN
  IF d IS NULL THEN
    RETURN NULL;
  END IF;
  EXECUTE format('SELECT (%s)::text', d) INTO v USING at;
  RETURN v;
END $$;
SELECT m.id, dsl_default(m.definition, '2026-07-01') AS "default", e.expected AS customer_4,
       dsl_default(m.definition, '2026-07-01') IS NOT DISTINCT FROM e.expected AS ok
  FROM dsl_measure m JOIN dsl_expected e ON e.id = m.id AND e.customer_id = 4
 ORDER BY m.id;

-- the columns a measure reads, each extracted once per row whatever the
-- number of aggregates reading it; a name too long for an identifier
SELECT cdp.compile_measure('sum(purchase.amount) / count(purchase) + max(purchase.amount where channel = ''web'')',
                           catalog) -> 'columns' AS columns FROM dsl_catalog;
SELECT cdp._activity_rows_sql(cdp.compile_measure('sum(purchase.amount where channel = ''web'')', catalog) -> 'columns',
                              '{purchase}', 'dsl_activity') AS rows_sql FROM dsl_catalog;
SELECT c.key, c.value
  FROM jsonb_each(cdp.compile_measure('sum(' || repeat('a', 40) || '.' || repeat('b', 30) || ')',
         jsonb_build_object(repeat('a', 40), jsonb_build_object('columns', jsonb_build_object(repeat('b', 30), 'numeric'))))
         -> 'columns') c;

-- ---- 4. the aggregates ----
-- the state in text form (OIDs of text, integer and numeric)
SELECT cdp.top_trans(cdp.top_trans(cdp.top_trans(NULL, 'b'::text, 2), 'a'::text, 2), 'b'::text, 2)::text AS top_state;
SELECT cdp.argmax_trans(cdp.argmax_trans(NULL, 'x'::text, 2.0), 'y'::text, 1.5)::text AS argmax_state;
SELECT cdp.argmax_trans(cdp.argmax_trans(NULL, 'x'::text, 2), 'y'::text, 1.5)::text AS mixed_types;
SELECT 'top(25,2;"a\"b":3,"c":1)'::cdp.dsl_agg_state::text AS round_trip;
SELECT 'argmin(1700,25;"1.5","y")'::cdp.dsl_agg_state::text AS round_trip;
SELECT 'top(25,0;)'::cdp.dsl_agg_state;
-- directly: keys of another type than the value, NULLs skipped, ties
SELECT cdp.argmax(v, k) AS argmax, cdp.argmin(v, k) AS argmin, cdp.top(v, 2) AS top2
  FROM (VALUES ('b', 2), ('a', 2), ('c', 1), (NULL, 9), ('z', NULL), ('c', 0)) t(v, k);
SELECT cdp.argmax(v, k) IS NULL AS empty_argmax, cdp.top(v, 1) IS NULL AS empty_top
  FROM (VALUES (NULL::text, 1)) t(v, k);
-- numeric equality, not text; of equal values the one with the smallest bytes
SELECT cdp.top(v, 3) FROM (VALUES (3.0), (3), (2.5), (2.50)) t(v);
SELECT cdp.top(v, 3) FROM (VALUES (2.50), (3), (2.5), (3.0)) t(v);
SELECT cdp.top(v, 0) FROM (VALUES (1)) t(v);

-- parallel: Partial Aggregate, same results as a reference query
CREATE TABLE dsl_big AS
  SELECT (i % 50) AS g, (i * 7919 % 13)::text AS v, (i::bigint * 104729 % 97)::int AS k
    FROM generate_series(1, 60000) i;
ANALYZE dsl_big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
SELECT g, cdp.argmax(v, k), cdp.argmin(v, k), cdp.top(v, 3), cdp.count_distinct(k) FROM dsl_big GROUP BY g;
CREATE TABLE dsl_par AS
SELECT g, cdp.argmax(v, k) AS amax, cdp.argmin(v, k) AS amin, cdp.top(v, 3) AS top3,
       cdp.count_distinct(k) AS nk, cdp.count_distinct(v) FILTER (WHERE k < 0) AS none
  FROM dsl_big GROUP BY g;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
-- reference: DISTINCT ON for argmax/argmin, counts for top
SELECT count(*) AS groups,
       count(*) FILTER (WHERE p.amax IS DISTINCT FROM ra.v) AS argmax_wrong,
       count(*) FILTER (WHERE p.amin IS DISTINCT FROM ri.v) AS argmin_wrong,
       count(*) FILTER (WHERE p.top3 IS DISTINCT FROM rt.top3) AS top_wrong,
       count(*) FILTER (WHERE p.nk IS DISTINCT FROM rd.nk) AS count_distinct_wrong,
       count(*) FILTER (WHERE p.none <> 0) AS count_distinct_empty_wrong
  FROM dsl_par p
  JOIN (SELECT g, count(DISTINCT k) AS nk FROM dsl_big GROUP BY g) rd USING (g)
  JOIN (SELECT DISTINCT ON (g) g, v FROM dsl_big ORDER BY g, k DESC, v COLLATE "C") ra USING (g)
  JOIN (SELECT DISTINCT ON (g) g, v FROM dsl_big ORDER BY g, k, v COLLATE "C") ri USING (g)
  JOIN (SELECT g, (array_agg(v ORDER BY n DESC, v COLLATE "C"))[1:3] AS top3
          FROM (SELECT g, v, count(*) AS n FROM dsl_big GROUP BY g, v) c GROUP BY g) rt USING (g);

-- ---- 5. errors ----
-- syntax (42601)
SELECT cdp.compile_measure('sum(purchase.amount) within 365 dayz', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('sum(purchase.amount) within 2.5 days', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('sum(purchase.amount) within 0 days', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('count(purchase) between 1 and 5', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure($$count(purchase) between '2026-02-30' and '2026-03-01'$$, catalog) FROM dsl_catalog;
SELECT cdp.compile_measure($$count(purchase) between '2026-03-01' and '2026-01-01'$$, catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('sum(purchase.amount', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('sum(purchase.amount) +', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure($$count(purchase where category = 'shoes)$$, catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('count(purchase) = = 2', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('count(purchase) @ 2', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('count(purchase) > 1e', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('count(purchase) > 12abc', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('count("")', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('count(where)', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('x is 5', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('   ', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('sum(max(purchase.amount))', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('sum(distinct purchase.amount)', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('count(distinct purchase)', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('sum(1)', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('top(purchase.category, 0)', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('1 + 2', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure($$abs(count(purchase where channel = 'web') where channel = 'app')$$, catalog) FROM dsl_catalog;
-- unknown activity or column (42703)
SELECT cdp.compile_measure('sum(purchases.amount)', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('count(refund) within 30 days', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('sum(purchase.amout)', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure($$count(purchase where colour = 'red')$$, catalog) FROM dsl_catalog;
SELECT cdp.compile_measure($$count(purchase where email.status = 'sent')$$, catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('total_spend > 100 and days_since_last_purchase <= 30', catalog) FROM dsl_catalog;
-- unknown function or aggregate, wrong arguments (42883)
SELECT cdp.compile_measure('median(purchase.amount)', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('summ(purchase.amount) within 30 days', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('argmax(purchase.product)', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('nullif(count(purchase))', catalog) FROM dsl_catalog;
-- type mismatch (42804)
SELECT cdp.compile_measure('sum(purchase.product)', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('count(purchase) + last(email.status)', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('count(purchase where amount like 5)', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('count(purchase where amount)', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('days_since(sum(purchase.amount))', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure('top(purchase.category, 2) = 1', catalog) FROM dsl_catalog;
SELECT cdp.compile_measure($$count(purchase where amount > 'x' and product = 5)$$, catalog) FROM dsl_catalog;
SELECT cdp.compile_measure($$count(purchase where amount in (1, 'a'))$$, catalog) FROM dsl_catalog;
SELECT cdp.compile_measure($$count(purchase where occurred_at > '2026-13-01')$$, catalog) FROM dsl_catalog;
-- string literals that spell a value of the other side are fine, and an
-- untyped literal gets a type where SQL would find the call ambiguous
SELECT cdp.compile_measure($$count(purchase where amount in (1, '2.5') and occurred_at > '2026-01-31 14:30:00+00') + abs(null) + abs('3')$$, catalog) ->> 'select' AS "select"
  FROM dsl_catalog;
-- too deep (54001)
SELECT cdp.parse_expression(repeat('(', 250) || 'x' || repeat(')', 250));
SELECT cdp.parse_expression(repeat('not ', 250) || 'x');
SELECT cdp.parse_expression(repeat('x + ', 250) || 'x');
-- a malformed catalog (22023)
SELECT cdp.compile_measure('count(purchase)', '[]');
SELECT cdp.compile_measure('count(purchase)', '{"purchase": 1}');
SELECT cdp.compile_measure('sum(purchase.amount)', '{"purchase": {"columns": {"amount": "money"}}}');
-- the SQLSTATEs
SELECT label, sqlstate_of(format('SELECT cdp.compile_measure(%L, %L)', d, (SELECT catalog FROM dsl_catalog))) AS sqlstate
  FROM (VALUES ('sum(purchase.amount) within 365 dayz', 'sum(purchase.amount) within 365 dayz'),
               ('sum(purchase.amout)', 'sum(purchase.amout)'),
               ('summ(purchase.amount)', 'summ(purchase.amount)'),
               ('sum(purchase.product)', 'sum(purchase.product)'),
               ('300 unary minus', repeat('- ', 300) || '1'),
               ('a malformed catalog', NULL),
               ('count(purchase)', 'count(purchase)')) t(label, d)
 WHERE d IS NOT NULL;
SELECT sqlstate_of($$SELECT cdp.compile_measure('count(purchase)', '{"purchase": []}')$$) AS malformed_catalog;
-- the syntax segments add: comments, typed literals, segment references,
-- set operations, date windows, text operators, before/after, exists
SELECT cdp.parse_expression($$a = 1 -- a comment
  -- a whole line
  and b = 2 --$$) AS comments;
SELECT cdp.parse_expression($$date '2026-01-31' < timestamp '2026-02-01 10:00+00' - interval '1 day'$$) AS typed;
SELECT cdp.parse_expression($$in segment 'vip' or segment 'a' union segment 'b' intersect segment 'c' except segment 'd'$$) AS sets;
SELECT cdp.parse_expression($$birth_date within next 14 days and signup within last 2 weeks$$) AS date_windows;
SELECT cdp.parse_expression($$city contains 'ill' and city starts with 'L' and city ends with 'e'$$) AS text_ops;
SELECT cdp.parse_expression($$last(purchase.occurred_at) before now() and not exists(purchase where amount > 5 within 7 days)$$) AS exists_before;
-- the words are keywords only in their place: elsewhere they are names
SELECT cdp.parse_expression($$segment + union * date - next$$) AS plain_names;
-- "--" always starts a comment, as in SQL: write "- -1" for a double minus
SELECT cdp.parse_expression('1 --1') AS minus_minus;
SELECT cdp.parse_expression($$segment ''$$);
SELECT cdp.parse_expression($$in city 'x'$$);
SELECT cdp.parse_expression($$x within 3$$);
-- in a measure, segments do not exist and names outside aggregates are errors
SELECT cdp.compile_measure($$count(purchase) > 1 and segment 'vip'$$, catalog) FROM dsl_catalog;
SELECT cdp.compile_measure($$count(purchase) + city$$, catalog) FROM dsl_catalog;
-- now() is the reference time; a time moved by an interval is a time
SELECT r ->> 'select' AS "select", r ->> 'reference' AS reference
  FROM dsl_catalog, cdp.compile_measure($$count(purchase where occurred_at > now() - interval '2 weeks')$$, catalog) r;
-- an error far into a long definition shows an excerpt around it
SELECT cdp.parse_expression(repeat('a + ', 30) || 'b c' || repeat(' + d', 30));

-- ---- 6. edge inputs ----
SELECT cdp.parse_expression(NULL) IS NULL AS parse_null,
       cdp.compile_measure(NULL, '{}') IS NULL AS compile_null,
       cdp.compile_measure('count(x)', NULL) IS NULL AS catalog_null;
-- multibyte strings, quoted identifiers, and a column name that needs quoting
SELECT cdp.parse_expression($$"Größe" = 'naïve 日本 😀'$$);
SELECT cdp.compile_measure($$count(purchase where "it's" = 'l''été')$$,
                           '{"purchase": {"columns": {"it''s": "text"}}}') ->> 'select' AS "select";
-- 1 MB: a string literal, a long identifier, a long sum of strings in a list
SELECT length(cdp.parse_expression('''' || repeat('ab', 500000) || '''') ->> 'value') AS string_1mb;
SELECT length(cdp.parse_expression(repeat('a', 1000000)) ->> 'name') AS ident_1mb;
SELECT jsonb_array_length(cdp.parse_expression('x in (' || repeat('1, ', 200000) || '1)') -> 'list') AS list_200k;
SELECT sqlstate_of(format('SELECT cdp.parse_expression(%L)', repeat('ab ', 333333))) AS junk_1mb;

-- fuzz: a seeded mix of token soups and random characters may only give
-- syntax (42601), nesting (54001), name (42703), function (42883) or type
-- (42804) errors; count the others (expect none)
SELECT setseed(0.4242);
CREATE TABLE dsl_fuzz AS
SELECT i, CASE WHEN i % 2 = 0 THEN
         (SELECT string_agg((ARRAY['sum(', 'count(', 'top(', 'argmax(', 'purchase', '.amount', '.category',
                                    ')', '(', ',', 'where', 'within', '3', 'days', 'between', '''2026-01-01''',
                                    'and', 'or', 'not', '=', '<>', '+', '-', '*', '/', '%', 'in', 'is', 'null',
                                    'like', '''x''', 'distinct', 'coalesce(', 'days_since(', 'email', '.status',
                                    '"q"', 'true', '1.5', 'é', '日'])[1 + floor(random() * 41)::int], ' ')
            FROM generate_series(1, 1 + (random() * 20)::int) WHERE i > 0)
       ELSE
         (SELECT string_agg(chr((ARRAY[32, 39, 40, 41, 44, 46, 61, 60, 62, 45, 34, 97, 101, 49, 233, 26085, 128512])
                                 [1 + floor(random() * 17)::int]), '')
            FROM generate_series(1, (random() * 60)::int) WHERE i > 0)
       END AS d
  FROM generate_series(1, 3000) i;
SELECT count(*) AS inputs,
       count(*) FILTER (WHERE s NOT IN ('00000', '42601', '54001', '42703', '42883', '42804')) AS unexpected
  FROM (SELECT sqlstate_of(format('SELECT cdp.compile_measure(%L, %L)', coalesce(d, ''),
                                  (SELECT catalog FROM dsl_catalog))) AS s
          FROM dsl_fuzz) f;
SELECT count(*) AS parse_unexpected
  FROM dsl_fuzz
 WHERE sqlstate_of(format('SELECT cdp.parse_expression(%L)', coalesce(d, ''))) NOT IN ('00000', '42601', '54001');

DROP TABLE dsl_catalog, dsl_measure, dsl_activity, dsl_expected, dsl_big, dsl_par, dsl_fuzz;
DROP FUNCTION dsl_run(text, timestamptz), dsl_default(text, timestamptz), dsl_shape(jsonb);
