-- Activities: linking rows to customers by a source key and by an attribute
-- value (normalised; ambiguous and unknown values kept in
-- cdp.unlinked_activity with their reason), stitching anonymous clicks to the
-- visitor's customer before and after the login, sessions, dwell times and
-- page types of page views, the timeline, re-linking after unification
-- merges two customers, and every configuration error.
SET client_min_messages = notice;
\set VERBOSITY default
\set SHOW_CONTEXT never
SET cdp.max_dwell = '5min';
SET timezone = 'UTC';

-- start from a clean slate so that ids and run numbers are known
DELETE FROM cdp.unify_run;
DELETE FROM cdp.customer_id_history;
SELECT setval('cdp.customer_id_seq', 1, false) IS NOT NULL AS ids_reset,
       setval('cdp.unify_run_seq', 1, false) IS NOT NULL AS runs_reset;

CREATE SCHEMA act;
CREATE TABLE act.web (id text PRIMARY KEY, email text, first_name text, last_name text);
INSERT INTO act.web VALUES
  ('W1', 'ann@mail.net', 'Ann', 'Lee'),
  ('W2', 'bob@mail.net', 'Bob', 'Ray'),
  ('W3', 'cat@mail.net', 'Cat', 'Poe'),
  ('W4', 'shared@mail.net', 'Dan', 'Fox'),
  ('W5', 'shared@mail.net', 'Eve', 'Fox');
SELECT cdp.add_source('web', 'act.web', 'id', '{"email": "email", "first_name": "first_name", "last_name": "last_name"}');
SELECT cdp.add_match_rule('email and first name', '[{"attribute": "email"}, {"attribute": "first_name"}]');
\o /dev/null
CALL cdp.unify();
\o
-- five customers; ids 1 to 5 in key order
SELECT source_key, customer_id FROM cdp.customer_source ORDER BY source_key;

CREATE TABLE act.orders (order_id int PRIMARY KEY, web_id text, total numeric, product text, ordered_at timestamptz);
INSERT INTO act.orders VALUES
  (1, 'W1', 10.00, 'shoes', '2026-01-01 10:00+00'),
  (2, 'W2', 20, 'hat', '2026-01-02 10:00+00'),
  (3, NULL, 7, 'gloves', '2026-01-03 10:00+00'),
  (4, 'W99', 8, 'scarf', '2026-01-04 10:00+00'),
  (5, 'W1', 5.5, 'socks', '2026-02-01 10:00+00'),
  (6, 'W3', 3, 'pin', '2026-02-02 10:00+00');
CREATE TABLE act.email_events (id int PRIMARY KEY, addr text, status text, at timestamptz);
INSERT INTO act.email_events VALUES
  (1, ' ANN@MAIL.NET ', 'opened', '2026-01-05 08:00+00'),
  (2, 'shared@mail.net', 'clicked', '2026-01-05 09:00+00'),
  (3, 'zed@nowhere.net', 'opened', '2026-01-05 10:00+00'),
  (4, 'noemail@example.com', 'bounced', '2026-01-05 11:00+00');
CREATE TABLE act.clicks (click_id int PRIMARY KEY, cookie text, user_email text, url text, at timestamptz);
INSERT INTO act.clicks VALUES
  (1, 'c1', NULL,           'https://shop.test/home',      '2026-03-01 09:00+00'),
  (2, 'c1', NULL,           'https://shop.test/product/1', '2026-03-01 09:10+00'),
  (3, 'c1', 'bob@mail.net', 'https://shop.test/login',     '2026-03-01 09:12+00'),
  (4, 'c1', NULL,           'https://shop.test/cart',      '2026-03-01 09:15+00'),
  (5, 'c1', NULL,           'https://shop.test/product/2', '2026-03-01 10:00+00'),
  (6, 'c1', NULL,           'https://shop.test/checkout',  '2026-03-01 10:02+00'),
  (7, 'c2', NULL,           'https://shop.test/home',      '2026-03-01 11:00+00');

SELECT cdp.add_activity('orders', 'act.orders', 'ordered_at', '{"source": "web", "column": "web_id"}',
                        '{"amount": "total", "product": "product"}', 'purchase');
SELECT cdp.add_activity('email', 'act.email_events', 'at', '{"attribute": "email", "column": "addr"}', '{"status": "status"}');
SELECT cdp.add_activity('web', 'act.clicks', 'at', '{"attribute": "email", "column": "user_email", "visitor": "cookie"}',
                        '{"url": "url"}', 'page_view');
SELECT cdp.add_url_rule('/product/', 'product');
SELECT cdp.add_url_rule('/cart$', 'cart');
SELECT cdp.add_url_rule('/checkout', 'checkout');
SELECT name, type, key_column, columns FROM cdp.activity_def WHERE NOT link ? 'journey' ORDER BY name;

\o /dev/null
CALL cdp.refresh_activities();
\o
-- orders: 4 of 6 linked (3 has no web id, 4 an unknown one); email: Ann's
-- address found after normalisation, the shared address is ambiguous, the
-- unknown one has no customer, the placeholder is no value at all; web: the
-- login click links by e-mail, the five other clicks of cookie c1 are
-- stitched to Bob, cookie c2 never logged in.
SELECT rows, linked, stitched, unlinked, (per_activity -> 'orders') - 'ms'::text AS orders,
       (per_activity -> 'email') - 'ms'::text AS email, (per_activity -> 'web') - 'ms'::text AS web
  FROM cdp.activity_refresh;
SELECT activity, source_key, reason, link_value FROM cdp.unlinked_activity ORDER BY activity, source_key;
SELECT activity, source_key, customer_id, linked_by, link_value, occurred_at
  FROM cdp.activity WHERE activity IN ('orders', 'email') ORDER BY activity, source_key;

-- sessions: 45 minutes between 09:15 and 10:00 start a second session;
-- dwell: the time to the next click capped at 5 minutes (09:00 → 09:10 gives
-- 300), the last page of a session the mean of the others ((300 + 120 +
-- 180) / 3 = 200, and 120 in the second session)
SELECT source_key, customer_id, linked_by, detail ->> 'session_id' AS session_id,
       detail ->> 'dwell_seconds' AS dwell_seconds, detail ->> 'page_type' AS page_type
  FROM cdp.activity WHERE activity = 'web' ORDER BY occurred_at;

-- the timeline of Bob, newest first; types and times filter it
SELECT occurred_at, activity, type, summary FROM cdp.timeline(2);
SELECT occurred_at, summary FROM cdp.timeline(2, '2026-03-01 09:10+00', '2026-03-01 10:00+00');
SELECT activity, summary FROM cdp.timeline(1, types => '{purchase}');
SELECT count(*) AS nothing FROM cdp.timeline(999);
-- summaries of chats (topic, transcript on one line) and journey e-mails
SELECT t.expected, cdp._activity_summary(t.type, t.activity, t.detail) AS actual,
       cdp._activity_summary(t.type, t.activity, t.detail) = t.expected AS ok
  FROM (VALUES
    ('chat', 'chat', '{"topic": "sizing", "transcript": "customer: Which size?\nassistant:  One up."}'::jsonb,
     'Chat (sizing): customer: Which size? assistant: One up.'),
    ('chat', 'chat', '{"text": "hello"}', 'Chat: hello'),
    ('chat', 'chat', '{}', 'Chat: …'),
    ('email', 'journey_email', '{"event": "opened", "journey": "welcome", "step": "offer"}',
     'E-mail opened (welcome, offer)'),
    ('email', 'newsletter', '{"status": "sent", "subject": "News"}', 'E-mail sent "News"')
  ) t(type, activity, detail, expected);

-- a different session timeout gives different sessions
SET cdp.session_timeout = '1h';
\o /dev/null
CALL cdp.refresh_activities('{web}');
\o
SELECT count(DISTINCT detail ->> 'session_id') AS sessions FROM cdp.activity WHERE activity = 'web';
RESET cdp.session_timeout;

-- re-linking: Cat becomes Bob (same e-mail and first name); Bob keeps his id
-- (a tie of one record each goes to the smaller id) and Cat's order moves to
-- him when unification runs, without a refresh of the activities
UPDATE act.web SET email = 'bob@mail.net', first_name = 'Bob' WHERE id = 'W3';
\o /dev/null
CALL cdp.unify();
\o
SELECT reason, old_id, new_id FROM cdp.customer_id_history WHERE run_id = 2;
SELECT source_key, customer_id FROM cdp.activity WHERE activity = 'orders' ORDER BY source_key;

-- ---------------------------------------------------------------- errors
CREATE TABLE act.nokey (a int, at timestamptz, e text);
INSERT INTO act.nokey VALUES (1, now(), 'x'), (1, now(), 'y');
SELECT cdp.add_activity('Orders', 'act.orders', 'ordered_at', '{"source": "web", "column": "web_id"}');
SELECT cdp.add_activity('orders', 'act.orders', 'ordered_at', '{"source": "web", "column": "web_id"}');
SELECT cdp.add_activity('x', 'act.orders_pkey', 'ordered_at', '{"source": "web", "column": "web_id"}');
SELECT cdp.add_activity('x', 'act.orders', 'nope', '{"source": "web", "column": "web_id"}');
SELECT cdp.add_activity('x', 'act.orders', 'product', '{"source": "web", "column": "web_id"}');
SELECT cdp.add_activity('x', 'act.orders', 'ordered_at', '{"column": "web_id"}');
SELECT cdp.add_activity('x', 'act.orders', 'ordered_at', '{"source": "web", "attribute": "email", "column": "web_id"}');
SELECT cdp.add_activity('x', 'act.orders', 'ordered_at', '{"source": "nope", "column": "web_id"}');
SELECT cdp.add_activity('x', 'act.orders', 'ordered_at', '{"attribute": "shoe_size", "column": "web_id"}');
SELECT cdp.add_activity('x', 'act.orders', 'ordered_at', '{"source": "web", "column": "web_id", "via": "x"}');
SELECT cdp.add_activity('x', 'act.orders', 'ordered_at', '{"source": "web"}');
SELECT cdp.add_activity('x', 'act.orders', 'ordered_at', '{"attribute": "email", "column": "web_id", "region": "GB"}');
SELECT cdp.add_activity('x', 'act.orders', 'ordered_at', '{"source": "web", "column": "nope"}');
SELECT cdp.add_activity('x', 'act.nokey', 'at', '{"source": "web", "column": "e"}');
SELECT cdp.add_activity('x', 'act.nokey', 'at', '{"source": "web", "column": "e", "key": "a"}');
SELECT cdp.add_activity('x', 'act.orders', 'ordered_at', '{"source": "web", "column": "web_id"}', '{"customer_id": "total"}');
SELECT cdp.add_activity('x', 'act.orders', 'ordered_at', '{"source": "web", "column": "web_id"}', '{"amount": "nope"}');
SELECT cdp.add_activity('x', 'act.orders', 'ordered_at', '{"source": "web", "column": "web_id"}', '{"amount": {"column": "total", "type": "point"}}');
SELECT cdp.add_activity('x', 'act.orders', 'ordered_at', '{"source": "web", "column": "web_id"}', '{}', 'page_view');
SELECT cdp.add_activity('x', 'act.orders', 'ordered_at', '{"source": "web", "column": "web_id"}', '{}', 'Bad Type');
SELECT cdp.add_url_rule('(', 'x');
SELECT cdp.drop_activity('nope');
CALL cdp.refresh_activities('{nope}');
SELECT count(*) AS activities FROM cdp.activity_def WHERE NOT link ? 'journey';

-- a user-defined type is registered
SELECT cdp.add_activity('returns', 'act.orders', 'ordered_at', '{"source": "web", "column": "web_id"}', '{}', 'product_return');
SELECT name, description, builtin FROM cdp.activity_type WHERE name = 'product_return';

-- a customer whose records all go takes no activities with it: they wait,
-- unlinked, for the customer to come back (Ann's orders and e-mail here)
DELETE FROM act.web WHERE id = 'W1';
\o /dev/null
CALL cdp.unify();
\o
SELECT activity, source_key, reason, link_value FROM cdp.unlinked_activity WHERE source_key IN ('1', '5') ORDER BY 1, 2;
SELECT count(*) AS ann_activities FROM cdp.activity WHERE customer_id = 1;

-- clean up
SELECT cdp.drop_activity(name) FROM cdp.activity_def WHERE NOT link ? 'journey' ORDER BY name;
DELETE FROM cdp.url_rule;
DELETE FROM cdp.activity_type WHERE NOT builtin;
SELECT cdp.drop_match_rule('email and first name');
SELECT cdp.drop_source('web');
\o /dev/null
CALL cdp.unify();
\o
SELECT (SELECT count(*) FROM cdp.activity) AS activities, (SELECT count(*) FROM cdp.unlinked_activity) AS unlinked;
DROP SCHEMA act CASCADE;
