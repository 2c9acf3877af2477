-- demo/story/03_activities.sql: step 3 of the retailer's story — page views
-- (anonymous cookies stitched to the customer they logged in as), orders and
-- chats become activities; measures are computed at the story's reference
-- time (psql variable ref, default 2026-07-01 00:00 UTC).
\set ON_ERROR_STOP 1
\set QUIET 1
\pset footer off
\if :{?ref}
\else
\set ref '2026-07-01 00:00:00+00'
\endif
\echo
\echo '== 3. Activities and measures: what customers did'
\echo
\set ECHO queries
SELECT cdp.add_activity('page_view', 'web.pageviews', 'ts',
  '{"source": "web", "column": "user_id", "visitor": "cookie_id", "key": "hit_id"}',
  '{"url": "url", "referrer": "referrer"}', 'page_view') \g /dev/null
SELECT cdp.add_url_rule('^/product/', 'product') \g /dev/null
SELECT cdp.add_url_rule('^/cart', 'cart') \g /dev/null
SELECT cdp.add_url_rule('^/checkout/done', 'purchase') \g /dev/null
SELECT cdp.add_activity('purchase', 'shop.orders', 'ordered_at',
  '{"source": "web", "column": "customer_ref"}',
  '{"amount": "total", "product": "product", "channel": "channel", "coupon": "coupon"}', 'purchase') \g /dev/null
SELECT cdp.add_activity('chat', 'shop.chat', 'started_at',
  '{"attribute": "email", "column": "email"}',
  '{"topic": "topic", "transcript": "transcript"}', 'chat') \g /dev/null
-- loyalty points, read from the loyalty database through postgres_fdw
SELECT cdp.add_activity('loyalty', 'loyalty.points', 'booked_at',
  '{"source": "loyalty", "column": "member_no", "key": "txn_id"}',
  '{"points": "points", "reason": "reason"}', 'loyalty') \g /dev/null
CALL cdp.refresh_activities() \g /dev/null
SELECT a.key AS activity, (a.value ->> 'rows')::bigint AS rows, (a.value ->> 'linked')::bigint AS linked,
       (a.value ->> 'stitched')::bigint AS stitched, (a.value ->> 'unlinked')::bigint AS unlinked
  FROM (SELECT per_activity FROM cdp.activity_refresh ORDER BY refresh_id DESC LIMIT 1) r,
       jsonb_each(r.per_activity) a
 ORDER BY 1;
SELECT cdp.create_measure('product_views_7d', $$count(page_view where url like '%/product/%') within 7 days$$) \g /dev/null
SELECT cdp.create_measure('product_dwell_7d', $$sum(page_view.dwell_seconds where url like '%/product/%') within 7 days$$) \g /dev/null
SELECT cdp.create_measure('orders', 'count(purchase)') \g /dev/null
SELECT cdp.create_measure('spend', 'sum(purchase.amount)') \g /dev/null
SELECT cdp.create_measure('orders_7d', 'count(purchase) within 7 days') \g /dev/null
SELECT cdp.create_measure('days_since_purchase', 'days_since(max(purchase.occurred_at))') \g /dev/null
SELECT cdp.create_measure('points_balance', 'sum(loyalty.points)', '{"default": 0}') \g /dev/null
-- and one for the business: revenue per month
SELECT cdp.create_measure('revenue', 'sum(purchase.amount)',
  '{"level": "business", "dimensions": ["month"]}') \g /dev/null
CALL cdp.refresh_measures(:'ref') \g /dev/null
SELECT count(*) FILTER (WHERE product_views_7d > 0) AS viewed_products_7d,
       round(avg(product_dwell_7d) FILTER (WHERE product_views_7d > 0), 1) AS mean_product_dwell_s,
       count(*) FILTER (WHERE orders > 0) AS customers_who_ordered,
       round(avg(days_since_purchase)) AS mean_days_since_purchase,
       sum(points_balance) AS loyalty_points_outstanding
  FROM cdp.customer_measure;
SELECT left(dimensions ->> 'month', 7) AS month, value AS revenue
  FROM cdp.business_measure WHERE measure = 'revenue'
 ORDER BY dimensions ->> 'month' DESC LIMIT 4;
\unset ECHO
