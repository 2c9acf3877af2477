-- Segments: the predicate language over unified attributes, measures and
-- activities (every operator against hand-worked answers), segment
-- references and set operations, entry and exit history over several
-- refreshes, dependency order, static segments, overlap, errors with their
-- messages, and injection attempts that must fail and change nothing.
SET client_min_messages = notice;
SET timezone = 'UTC';
SET extra_float_digits = 0;
\set VERBOSITY default
\set SHOW_CONTEXT never

DELETE FROM cdp.unify_run;
DELETE FROM cdp.customer_id_history;
SELECT setval('cdp.customer_id_seq', 1, false) IS NOT NULL AS ids_reset,
       setval('cdp.unify_run_seq', 1, false) IS NOT NULL AS runs_reset;

CREATE SCHEMA sg;
CREATE TABLE sg.people (id text PRIMARY KEY, email text, first_name text, city text, birth_date date);
INSERT INTO sg.people VALUES
  ('P1', 'ann@mail.net', 'Ann', 'Lyon',   '1990-03-10'),
  ('P2', 'bob@mail.net', 'Bob', 'Paris',  '1985-07-01'),
  ('P3', 'cat@mail.net', 'Cat', 'Lille',  '2000-02-29'),
  ('P4', 'dan@mail.net', 'Dan', NULL,     NULL);
SELECT cdp.add_source('crm', 'sg.people', 'id',
  '{"email": "email", "first_name": "first_name", "city": "city", "birth_date": "birth_date"}');
\o /dev/null
CALL cdp.unify();
\o
SELECT customer_id, first_name, city, birth_date FROM cdp.customer ORDER BY customer_id;

CREATE TABLE sg.orders (order_id int PRIMARY KEY, person text, total numeric, category text, at timestamptz);
INSERT INTO sg.orders VALUES
  (1, 'P1', 120, 'shoes', '2026-06-28 10:00+00'),
  (2, 'P1',  90, 'bags',  '2026-05-01 10:00+00'),
  (3, 'P2',  30, 'shoes', '2025-12-01 10:00+00'),
  (4, 'P3', 250, 'hats',  '2026-06-20 10:00+00');
CREATE TABLE sg.views (hit int PRIMARY KEY, person text, url text, at timestamptz);
INSERT INTO sg.views VALUES
  (1, 'P2', '/product/1', '2026-06-27 10:00+00'),
  (2, 'P2', '/product/2', '2026-06-28 10:00+00'),
  (3, 'P2', '/product/3', '2026-06-29 10:00+00'),
  (4, 'P4', '/product/1', '2026-06-29 10:00+00'),
  (5, 'P4', '/home',      '2026-06-29 10:05+00'),
  (6, 'P1', '/product/9', '2026-04-01 10:00+00');
SELECT cdp.add_activity('purchase', 'sg.orders', 'at', '{"source": "crm", "column": "person"}',
                        '{"amount": "total", "category": "category"}', 'purchase');
SELECT cdp.add_activity('page_view', 'sg.views', 'at', '{"source": "crm", "column": "person"}',
                        '{"url": "url"}', 'page_view');
\o /dev/null
CALL cdp.refresh_activities();
\o
SELECT cdp.create_measure('total_spend', 'sum(purchase.amount)');
SELECT cdp.create_measure('favourite', 'top(purchase.category, 1)');
\o /dev/null
CALL cdp.refresh_measures('2026-07-01 00:00+00');
\o
-- customers: 1 Ann (Lyon, 10 Mar, spent 210: shoes 28 Jun, bags 1 May),
-- 2 Bob (Paris, 1 Jul, spent 30 in Dec 2025, 3 product views 27-29 Jun),
-- 3 Cat (Lille, 29 Feb, spent 250 on 20 Jun), 4 Dan (no city, no birth
-- date, 1 product view and 1 home view on 29 Jun, no purchase)

-- ---- 1. the language: each definition with its members at 2026-07-01 ----
CREATE TABLE sg.case (id int PRIMARY KEY, definition text, expected bigint[]);
INSERT INTO sg.case VALUES
  (1,  $$city = 'Lyon'$$, '{1}'),
  (2,  $$city <> 'Lyon'$$, '{2,3}'),
  (3,  $$total_spend > 100$$, '{1,3}'),
  (4,  $$total_spend >= 210$$, '{1,3}'),
  (5,  $$total_spend < 100$$, '{2}'),
  (6,  $$total_spend <= 30$$, '{2}'),
  (7,  $$total_spend between 100 and 220$$, '{1}'),
  (8,  $$total_spend not between 100 and 220$$, '{2,3}'),
  (9,  $$city in ('Lyon', 'Lille')$$, '{1,3}'),
  (10, $$city not in ('Lyon', 'Lille')$$, '{2}'),
  (11, $$city is null$$, '{4}'),
  (12, $$city is not null and total_spend is null$$, '{}'),
  (13, $$first_name like 'B%'$$, '{2}'),
  (14, $$first_name ilike 'c%'$$, '{3}'),
  (15, $$city contains 'ill'$$, '{3}'),
  (16, $$city starts with 'Pa'$$, '{2}'),
  (17, $$city ends with 'on'$$, '{1}'),
  (18, $$favourite contains 'hats'$$, '{3}'),
  (19, $$count(page_view where url like '%/product/%') within 7 days >= 3$$, '{2}'),
  (20, $$not exists(purchase within 7 days)$$, '{2,3,4}'),
  (21, $$exists(purchase where category = 'shoes')$$, '{1,2}'),
  (22, $$sum(purchase.amount) within 90 days > 200$$, '{1,3}'),
  (23, $$last(purchase.occurred_at) before now() - interval '180 days'$$, '{2}'),
  (24, $$last(purchase.occurred_at) after now() - interval '7 days'$$, '{1}'),
  (25, $$birth_date within next 14 days$$, '{2}'),
  (26, $$birth_date within next 245 days$$, '{2,3}'),
  (27, $$days_since(last(purchase.occurred_at)) > 100$$, '{2}'),
  -- dwelling but not buying (Dan's product view lasted 300 s: the time to
  -- his next click)
  (28, $$(count(page_view where url like '%/product/%') within 7 days >= 3   -- a comment
          or sum(page_view.dwell_seconds where url like '%/product/%') within 7 days >= 120)
         and not exists(purchase within 7 days)$$, '{2,4}'),
  (29, $$count(page_view) within 7 days >= 1 and not exists(purchase within 7 days)$$, '{2,4}'),
  (30, $$not (city = 'Lyon')$$, '{2,3}'),
  (31, $$total_spend > 100 or city = 'Paris'$$, '{1,2,3}'),
  (32, $$CITY = 'Lyon' AND Total_Spend > 0$$, '{1}'),
  (33, $$last(purchase.occurred_at) >= date '2026-06-01'$$, '{1,3}'),
  (34, $$last(purchase.occurred_at) > timestamp '2026-06-25 00:00:00+00'$$, '{1}'),
  (35, $$true$$, '{1,2,3,4}'),
  (36, $$birth_date within last 20000 days$$, '{1,2,3}'),
  -- exists next to conditions on the profile: probes of each customer's activities
  (37, $$city is not null and not exists(purchase within 7 days)$$, '{2,3}'),
  (38, $$total_spend > 100 and exists(purchase where category = 'hats' and amount > 200 within 30 days)$$, '{3}');
-- the members of a definition at a reference time, through cdp.segment_sql
CREATE FUNCTION sg.eval(def text, at timestamptz) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
  r bigint[];
BEGIN
  EXECUTE format('SELECT coalesce(array_agg(customer_id ORDER BY customer_id), ''{}'') FROM (%s) s', cdp.segment_sql(def))
    INTO r USING at;
  RETURN r;
END $$;
SELECT c.id, c.expected, e.actual, e.actual = c.expected AS ok
  FROM sg.case c, LATERAL (SELECT sg.eval(c.definition, '2026-07-01 00:00+00') AS actual) e
 ORDER BY c.id;
-- estimate_segment counts the same customers
SELECT count(*) AS estimates_differing FROM sg.case c
 WHERE cdp.estimate_segment(c.definition, '2026-07-01 00:00+00') <> cardinality(c.expected);
-- activity aggregates are one grouped scan; with windows only, old rows are skipped
SELECT cdp.segment_sql($$count(page_view) within 7 days >= 1 and not exists(purchase within 30 days)$$);
SELECT cdp.segment_sql($$city = 'Lyon' and total_spend > 100$$);
SELECT cdp.segment_sql($$city = 'Lyon' and not exists(purchase where amount > 5 within 7 days)$$);
SELECT cdp.segment_sql($$segment 'a' except segment 'b'$$) IS NULL AS unknown_segments_fail;

-- ---- 2. segments: members, history, references, set operations ----
SELECT cdp.create_segment('big_spenders', 'total_spend > 100');
SELECT cdp.create_segment('browsers', $$count(page_view) within 7 days >= 1$$, '{"schedule": "1 hour", "description": "seen on the site this week"}');
SELECT cdp.create_segment('big_or_browsing', $$segment 'big_spenders' union segment 'browsers'$$);
SELECT cdp.create_segment('big_and_browsing', $$segment 'big_spenders' intersect segment 'browsers'$$);
SELECT cdp.create_segment('browsing_only', $$segment 'browsers' except segment 'big_spenders'$$);
SELECT cdp.create_segment('lyon_vip', $$in segment 'big_spenders' and city = 'Lyon'$$);
SELECT name, kind, schedule, uses, refreshed_at FROM cdp.segment ORDER BY name;
-- refreshed in dependency order: the set operations after what they use
SELECT * FROM cdp.refresh_segments('2026-07-01 00:00+00');
SELECT segment, array_agg(customer_id ORDER BY customer_id) AS members
  FROM cdp.segment_member WHERE exited_at IS NULL GROUP BY segment ORDER BY segment;
SELECT * FROM cdp_segment.browsers ORDER BY customer_id;
SELECT * FROM cdp.segment_members('lyon_vip');
SELECT * FROM cdp.segment_overlap('{big_spenders,browsers}');
SELECT * FROM cdp.segment_overlap('{big_spenders,browsers,lyon_vip}');

-- a week later nobody has browsed since 1 July: Bob and Dan leave browsers;
-- Bob buys a coat for 500: he enters big_spenders
INSERT INTO sg.orders VALUES (5, 'P2', 500, 'coats', '2026-07-05 10:00+00');
\o /dev/null
CALL cdp.refresh_activities();
CALL cdp.refresh_measures('2026-07-08 00:00+00');
\o
SELECT * FROM cdp.refresh_segments('2026-07-08 00:00+00');
SELECT segment, customer_id, entered_at, exited_at FROM cdp.segment_member
 WHERE segment IN ('big_spenders', 'browsers') ORDER BY segment, customer_id, entered_at;
-- Dan browses again on 9 July: he enters browsers a second time, history kept
INSERT INTO sg.views VALUES (7, 'P4', '/home', '2026-07-09 10:00+00');
\o /dev/null
CALL cdp.refresh_activities();
\o
SELECT * FROM cdp.refresh_segment('browsers', '2026-07-10 00:00+00');
SELECT customer_id, entered_at, exited_at FROM cdp.segment_member WHERE segment = 'browsers' ORDER BY customer_id, entered_at;
-- a refresh that changes nothing writes nothing
SELECT * FROM cdp.refresh_segment('browsers', '2026-07-10 00:00+00');
SELECT segment, entered, exited, members FROM cdp.segment_refresh ORDER BY refresh_id DESC LIMIT 2;
-- due_only: only segments with a schedule whose time has come
SELECT * FROM cdp.refresh_segments('2026-07-10 00:30+00', due_only => true);
SELECT * FROM cdp.refresh_segments('2026-07-10 01:00+00', due_only => true);

-- a static segment is a snapshot taken at creation
SELECT cdp.create_segment('launch_day', 'total_spend > 0', '{"kind": "static"}');
SELECT count(*) AS launch_day_members FROM cdp_segment.launch_day;
UPDATE sg.people SET city = city;  -- nothing that matters
SELECT * FROM cdp.refresh_segment('launch_day');

-- alter: a new definition, members follow at the next refresh
SELECT cdp.alter_segment('lyon_vip', $$in segment 'big_spenders' and city in ('Lyon', 'Paris')$$);
SELECT * FROM cdp.refresh_segment('lyon_vip', '2026-07-10 00:00+00');
SELECT * FROM cdp.segment_members('lyon_vip');

-- ---- 3. errors ----
SELECT cdp.create_segment('x', $$citty = 'Lyon'$$);
SELECT cdp.create_segment('x', $$total_spnd > 1$$);
SELECT cdp.create_segment('x', $$city = 'Lyon' and$$);
SELECT cdp.create_segment('x', $$city = 'Lyon' or segment 'nosuch'$$);
SELECT cdp.create_segment('x', $$purchase > 1$$);
SELECT cdp.create_segment('x', $$purchase.amount > 1$$);
SELECT cdp.create_segment('x', $$total_spend$$);
SELECT cdp.create_segment('x', $$city > 5$$);
SELECT cdp.create_segment('x', $$birth_date within 14 days$$);
SELECT cdp.create_segment('x', $$last(purchase.occurred_at) before now() - interval '3 fortnights'$$);
SELECT cdp.create_segment('x', $$last(purchase.occurred_at) > date '2026-02-30'$$);
SELECT cdp.create_segment('x', $$exists(purchase within 7 days$$);
SELECT cdp.create_segment('x', $$city starts 'L'$$);
SELECT cdp.create_segment('x', $$count(purchase where segment 'browsers') > 0$$);
SELECT cdp.create_segment('Bad Name', 'true');
SELECT cdp.create_segment('big_spenders', 'true');
SELECT cdp.create_segment('x', 'true', '{"kind": "frozen"}');
SELECT cdp.create_segment('x', 'true', '{"schedule": "soon"}');
SELECT cdp.create_segment('x', 'true', '{"colour": "red"}');
SELECT cdp.alter_segment('big_spenders', $$segment 'lyon_vip'$$);
SELECT cdp.alter_segment('nosuch', 'true');
SELECT cdp.alter_segment('launch_day', NULL, '{"kind": "dynamic"}');
SELECT cdp.drop_segment('big_spenders');
SELECT cdp.drop_segment('nosuch');
SELECT * FROM cdp.segment_overlap('{big_spenders,nosuch}');
SELECT * FROM cdp.segment_members('nosuch');

-- ---- 4. injection attempts: errors, nothing changed ----
CREATE TABLE sg.canary (x int);
INSERT INTO sg.canary VALUES (1);
SELECT count(*) AS segments_before FROM cdp.segment \gset
SELECT cdp.create_segment('x', $$city = ''; drop table sg.canary; --'$$);
SELECT cdp.create_segment('x', $$city = 'a'; drop table sg.canary; --$$);
SELECT cdp.create_segment('x', $$city = 'a' or 1 = 1); drop table sg.canary; --$$);
SELECT cdp.create_segment('x', $$pg_authid.rolpassword is not null$$);
SELECT cdp.create_segment('x', $$rolpassword = 'x'$$);
SELECT cdp.create_segment('x', $$pg_sleep(10) is null$$);
SELECT cdp.create_segment('x', $$"city""; drop table sg.canary; --" = 'a'$$);
SELECT cdp.create_segment('x', $$segment 'a''; drop table sg.canary; --'$$);
SELECT cdp.create_segment('x', $$city = $$ || chr(0) || $$'a'$$);
-- a quote inside a string is data, not SQL
SELECT cdp.estimate_segment($$city = 'O''Brien; drop table sg.canary; --'$$);
SELECT count(*) AS canary_rows FROM sg.canary;
SELECT count(*) = :segments_before AS no_segment_added FROM cdp.segment;

-- clean up
SELECT cdp.drop_segment(name) FROM cdp.segment WHERE name IN ('lyon_vip', 'big_or_browsing', 'big_and_browsing', 'browsing_only');
SELECT cdp.drop_segment(name) FROM cdp.segment ORDER BY name;
SELECT count(*) AS members_left FROM cdp.segment_member;
SELECT count(*) AS views_left FROM pg_class WHERE relnamespace = 'cdp_segment'::regnamespace;
SELECT cdp.drop_measure(name) FROM cdp.measure ORDER BY name;
\o /dev/null
CALL cdp.refresh_measures('2026-07-10 00:00+00');
\o
SELECT cdp.drop_activity(name) FROM cdp.activity_def WHERE NOT link ? 'journey' ORDER BY name;
SELECT cdp.drop_source('crm');
\o /dev/null
CALL cdp.unify();
\o
DROP SCHEMA sg CASCADE;
