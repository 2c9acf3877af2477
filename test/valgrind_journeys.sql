-- A journey scenario for test/valgrind.sh: the worker (preloaded, serving
-- this database) renders, claims and sends e-mails to test/smtp_server.py
-- (port in :smtp_port), records outcomes (sent, bounce, no consent), runs
-- a webhook to a dead port (channel error, back-off) and a refresh schedule.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION pg_cdp;
CREATE TABLE shop (id int PRIMARY KEY, first_name text, email text, consent boolean);
INSERT INTO shop SELECT i, CASE WHEN i % 7 = 0 THEN 'Zoë & <Co>' ELSE 'N' || i END,
       CASE WHEN i % 10 = 0 THEN 'bounce' || i || '@example.test' ELSE 'c' || i || '@example.test' END,
       CASE WHEN i % 9 = 0 THEN NULL ELSE true END
  FROM generate_series(1, 60) i;
SELECT cdp.add_source('shop', 'shop', 'id', '{"first_name": "first_name", "email": "email", "email_consent": {"column": "consent", "type": "boolean"}}');
SELECT cdp.add_match_rule('email', '[{"attribute": "email"}]');
CALL cdp.unify();
CREATE TABLE orders (order_id int PRIMARY KEY, customer int, at timestamptz, amount numeric);
SELECT cdp.add_activity('purchase', 'orders', 'at', '{"source": "shop", "column": "customer"}', '{"amount": "amount"}', 'purchase');
SELECT cdp.create_segment('everyone', 'true');
SELECT cdp.create_channel('mail', 'smtp://127.0.0.1:' || :'smtp_port', '{"from": "Shop <news@shop.test>", "tls": "none"}');
SELECT cdp.create_template('offer', 'Hello {{ first_name }}', '<p>{{ first_name }}: {{ coupon "SPRING20" }}</p>', 'code {{ coupon "SPRING20" }}');
SELECT cdp.set_journey_setting('unsubscribe_url', '"https://shop.test/u?t={token}"');
SELECT cdp.set_journey_setting('retry_base', '"1 second"');
SELECT cdp.create_journey('vg', $${"trigger": {"segment": "everyone", "members": "new"},
  "steps": [{"id": "offer", "type": "email", "template": "offer", "channel": "mail"},
            {"id": "check", "type": "branch", "if": "exists(purchase since entry)", "then": "done", "else": "hook"},
            {"id": "hook", "type": "webhook", "url": "http://127.0.0.1:9/x", "payload": {"who": "{{ first_name }}"}},
            {"id": "done", "type": "end"}]}$$);
SELECT cdp.publish_journey('vg');
SELECT * FROM cdp.refresh_segment('everyone');
SELECT cdp.schedule_refresh('vg', '1 hour', ARRAY['activities', 'segments']);
