-- demo/story/07_question.sql: step 7 of the retailer's story — the
-- scenario's question, answered from the activities: among the customers
-- who bought after the journey's first e-mail, what share asked the chat
-- assistant first (between the e-mail and the order)?
\set ON_ERROR_STOP 1
\set QUIET 1
\pset footer off
\echo
\echo '== 7. Among those who bought after the e-mail, who asked the chat assistant first?'
\echo
\set ECHO queries
CREATE VIEW story.bought_after_email AS
WITH emailed AS (    -- the journey's first e-mail sent to each customer (an activity too)
  SELECT customer_id, min(occurred_at) AS emailed_at
    FROM cdp.activity
   WHERE activity = 'journey_email' AND detail ->> 'event' = 'sent'
     AND detail ->> 'journey' = 'dwellers_coupon'
   GROUP BY customer_id),
bought AS (          -- their first order after it
  SELECT e.customer_id, e.emailed_at, min(p.occurred_at) AS bought_at
    FROM emailed e JOIN cdp.activity p
      ON p.customer_id = e.customer_id AND p.activity = 'purchase' AND p.occurred_at >= e.emailed_at
   GROUP BY e.customer_id, e.emailed_at)
SELECT b.*, EXISTS (SELECT FROM cdp.activity c    -- a chat in between
                     WHERE c.customer_id = b.customer_id AND c.activity = 'chat'
                       AND c.occurred_at >= b.emailed_at AND c.occurred_at < b.bought_at) AS chatted_first
  FROM bought b;
SELECT count(*) AS bought_after_email,
       count(*) FILTER (WHERE chatted_first) AS chatted_first,
       round(100.0 * count(*) FILTER (WHERE chatted_first) / nullif(count(*), 0), 1) AS share_pct
  FROM story.bought_after_email;
\unset ECHO
\echo
\echo 'One of them, on the timeline (newest first):'
\set ECHO queries
SELECT min(customer_id) AS customer_id, min(customer_id) IS NOT NULL AS found
  FROM story.bought_after_email WHERE chatted_first \gset
\if :found
SELECT to_char(occurred_at, 'YYYY-MM-DD HH24:MI:SS') AS at, activity, summary
  FROM cdp.timeline(:customer_id, now() - interval '2 days')
 LIMIT 12;
\else
\echo '(none in this sample)'
\endif
\unset ECHO
