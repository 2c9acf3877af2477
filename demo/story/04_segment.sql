-- demo/story/04_segment.sql: step 4 of the retailer's story — the segment of
-- visitors "dwelling but not buying" at the reference time (psql variable
-- ref, default 2026-07-01 00:00 UTC) and its size.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset footer off
\if :{?ref}
\else
\set ref '2026-07-01 00:00:00+00'
\endif
\echo
\echo '== 4. The segment: dwelling on product pages this week, but not buying'
\echo
\set ECHO queries
SELECT cdp.create_segment('dwelling_not_buying', $$
    (count(page_view where url like '%/product/%') within 7 days >= 3   -- browsing products
     or sum(page_view.dwell_seconds where url like '%/product/%') within 7 days >= 120)
    and not exists(purchase within 7 days)$$) \g /dev/null
-- evaluated at the end of each of the last seven days, then now: who entered
-- and who left is kept in cdp.segment_member, the sizes in cdp.segment_refresh
SELECT to_char(at, 'Dy DD Mon HH24:MI') AS evaluated_at, r.entered, r.exited, r.members
  FROM generate_series(:'ref'::timestamptz - interval '6 days', :'ref', interval '1 day') at,
       LATERAL cdp.refresh_segment('dwelling_not_buying', at) r;
SELECT count(*) AS dwelling_not_buying FROM cdp_segment.dwelling_not_buying;
SELECT m.customer_id, c.first_name, c.last_name, m.product_views_7d, m.product_dwell_7d, m.orders
  FROM cdp_segment.dwelling_not_buying s JOIN cdp.customer c USING (customer_id)
  JOIN cdp.customer_measure m USING (customer_id)
 ORDER BY m.product_dwell_7d DESC NULLS LAST, m.customer_id LIMIT 5;
\unset ECHO
