-- demo/story/08_clienteling.sql: step 8 of the retailer's story — a store
-- associate's client book and one customer card.  The associate is a
-- PostgreSQL role (ann); row-level security shows her only her legal
-- entity's clienteling rows.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset footer off
\echo
\echo '== 8. In the store: an associate''s client book and a customer card'
\echo
\set ECHO queries
-- the measures again, with the orders of the last hours
CALL cdp.refresh_measures() \g /dev/null
-- the organisation, once, by an administrator
SELECT cdp.create_legal_entity('OUT', 'Outfitters') \g /dev/null
SELECT cdp.create_store('LDN01', 'OUT', 'uk', 'Outfitters London') \g /dev/null
CREATE ROLE ann IN ROLE cdp_associate;
SELECT cdp.create_associate('ann', 'ann', 'Ann Baker'), cdp.assign_store('ann', 'LDN01') \g /dev/null
SELECT cdp.create_client_attribute('preferred_contact', 'text', 1, true, 'Preferred contact') \g /dev/null
SELECT cdp.create_client_activity_type('styling', 'Styling appointment') \g /dev/null
SELECT cdp.set_card_measures('{spend,points_balance,product_views_7d}',
                             '{Total spend,Loyalty points,Product views (7 days)}') \g /dev/null
-- Ann adds the five latest customers who came back with the coupon
SET ROLE ann;
SELECT count(*) FILTER (WHERE cdp.client_book_add('ann', customer_id)) AS added
  FROM (SELECT customer_id, max(occurred_at) AS last_order FROM cdp.activity
         WHERE activity = 'purchase' AND detail ->> 'coupon' LIKE 'DWELL20-%'
         GROUP BY customer_id ORDER BY last_order DESC, customer_id LIMIT 5) x;
SELECT min(customer_id) AS customer_id, min(customer_id) IS NOT NULL AS found FROM cdp.client_book('ann') \gset
\if :found
SELECT cdp.set_client_attribute(:customer_id, 'preferred_contact', 'e-mail') \g /dev/null
SELECT cdp.record_client_activity(:customer_id, 'styling', 'Booked a fitting for Saturday', store => 'LDN01') \g /dev/null
SELECT cdp.add_client_note(:customer_id, 'Used the 20% coupon; interested in the autumn collection') \g /dev/null
SELECT b.customer_id, c.first_name, c.last_name, m.orders, m.spend, m.points_balance, b.attributes
  FROM cdp.client_book('ann') b JOIN cdp.customer c USING (customer_id)
  JOIN cdp.customer_measure m USING (customer_id)
 ORDER BY b.customer_id;
SELECT jsonb_pretty(cdp.customer_card(:customer_id)) AS customer_card;
\else
\echo '(no customer came back with the coupon in this sample)'
\endif
RESET ROLE;
\unset ECHO
