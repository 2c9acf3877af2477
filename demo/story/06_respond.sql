-- demo/story/06_respond.sql: step 6 of the retailer's story — what the
-- customers then do.  tools/generate_story.py decided in advance, in
-- behaviour.csv (psql variable datadir), what each customer who dwelt
-- without buying does if e-mailed and if not; this step plays the future
-- that applies: e-mail opens and clicks (reported with
-- cdp.record_email_event, as a tracking endpoint would), questions to the
-- chat assistant, orders with the coupon — first after the offer, then,
-- once the worker has sent the reminders, after the reminder — and orders
-- of customers who got no e-mail.  Then it prints the journey's funnel.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset footer off
\echo
\echo '== 6. What the customers do next, and the funnel against the holdout group'
\echo
\set behaviour :datadir '/behaviour.csv'
CREATE TABLE story.behaviour (customer_no integer, web_key text PRIMARY KEY, opens_offer boolean,
  clicks_offer boolean, buys text, opens_reminder boolean, chats_first boolean,
  buys_without_email boolean, product text, price numeric, items integer);
COPY story.behaviour FROM :'behaviour' (FORMAT csv, HEADER true);
-- each member with the web account its activity uses and its first e-mail
CREATE VIEW story.member AS
SELECT m.member_id, m.customer_id, m.holdout, b.*, x.message_id, x.header_id, x.to_address,
       (SELECT c.code FROM cdp.coupon c WHERE c.message_id = x.message_id) AS coupon
  FROM cdp.journey_member m JOIN cdp.journey j USING (journey_id)
  JOIN cdp.customer_source s ON s.customer_id = m.customer_id AND s.source = 'web'
  JOIN story.behaviour b ON b.web_key = s.source_key
  LEFT JOIN cdp.message x ON x.member_id = m.member_id AND x.step = 'offer' AND x.state = 'sent'
 WHERE j.name = 'dwellers_coupon';
\echo 'The next hours: opens, clicks, chats and orders (the behaviour the generator decided):'
\set ECHO queries
SELECT count(cdp.record_email_event(header_id, 'opened', now()))
         AS opened_offer
  FROM story.member WHERE message_id IS NOT NULL AND opens_offer;
SELECT count(cdp.record_email_event(header_id, 'clicked', now()))
         AS clicked_offer
  FROM story.member WHERE message_id IS NOT NULL AND clicks_offer;
\unset QUIET
-- a question to the chat assistant before buying (from the address the e-mail went to)
INSERT INTO shop.chat (email, started_at, topic, transcript)
SELECT to_address, now(), 'coupon',
       format(E'customer: Does the code %s work on the %s?\nassistant: Yes, 20%% off at checkout.',
              coupon, replace(product, '-', ' '))
  FROM story.member WHERE message_id IS NOT NULL AND chats_first;
-- orders with the coupon after the offer, and orders of members without an e-mail
INSERT INTO shop.orders (customer_ref, ordered_at, product, total, items, channel, coupon)
SELECT web_key, now(), product,
       CASE WHEN message_id IS NOT NULL THEN round(price * items * 0.8, 2) ELSE price * items END,
       items, 'web', CASE WHEN message_id IS NOT NULL THEN coupon END
  FROM story.member
 WHERE CASE WHEN message_id IS NOT NULL THEN buys = 'offer' ELSE buys_without_email END;
\set QUIET 1
-- the new orders and chats become activities of their customers
CALL cdp.refresh_activities() \g /dev/null
\unset ECHO
\echo
\echo 'The reminders go out when the wait is over to those who have not bought:'
\set ECHO queries
SELECT story.wait_for('the reminders', $$
  SELECT NOT EXISTS (SELECT FROM cdp.journey_member m JOIN cdp.journey j USING (journey_id)
                      WHERE j.name = 'dwellers_coupon' AND m.state = 'active')
     AND NOT EXISTS (SELECT FROM cdp.message x JOIN cdp.journey j USING (journey_id)
                      WHERE j.name = 'dwellers_coupon' AND x.state IN ('queued', 'sending'))$$,
  300) AS waited_for;
SELECT m.state AS member_state, count(*) AS members,
       count(x.message_id) FILTER (WHERE x.state = 'sent') AS reminders_sent
  FROM cdp.journey_member m JOIN cdp.journey j USING (journey_id)
  LEFT JOIN cdp.message x ON x.member_id = m.member_id AND x.step = 'reminder'
 WHERE j.name = 'dwellers_coupon' GROUP BY 1 ORDER BY 1;
-- some of the reminded open it and buy with the reminder's code
SELECT count(cdp.record_email_event(r.header_id, 'opened', now()))
         AS opened_reminder
  FROM story.member s JOIN cdp.message r ON r.member_id = s.member_id AND r.step = 'reminder' AND r.state = 'sent'
 WHERE s.opens_reminder;
\unset QUIET
INSERT INTO shop.orders (customer_ref, ordered_at, product, total, items, channel, coupon)
SELECT s.web_key, now(), s.product, round(s.price * s.items * 0.8, 2), s.items, 'web', c.code
  FROM story.member s JOIN cdp.message r ON r.member_id = s.member_id AND r.step = 'reminder' AND r.state = 'sent'
  JOIN cdp.coupon c ON c.message_id = r.message_id
 WHERE s.buys = 'reminder';
\set QUIET 1
CALL cdp.refresh_activities() \g /dev/null
\unset ECHO
\echo
\echo 'The funnel: the e-mailed against the holdout group (conversion: an order within 7 days):'
\set ECHO queries
SELECT members, treated, holdout, emailed, sent, opened, clicked, converted,
       round(100 * conversion_rate, 1) AS conversion_pct, revenue,
       holdout_converted, round(100 * holdout_conversion_rate, 1) AS holdout_conversion_pct,
       round(100 * uplift, 1) AS uplift_points
  FROM cdp.journey_funnel('dwellers_coupon') \gx
SELECT step, entered, queued, sent, opened, clicked FROM cdp.journey_stats('dwellers_coupon')
 WHERE step IN ('offer', 'reminder') ORDER BY step DESC;
-- the coupons that came back
SELECT count(*) AS orders_with_coupon, sum(o.total) AS revenue_with_coupon
  FROM shop.orders o JOIN cdp.coupon c ON c.code = o.coupon;
\unset ECHO
