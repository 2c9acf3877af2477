-- demo/story/05_journey.sql: step 5 of the retailer's story — a journey
-- e-mails the segment's members a 20%-off coupon, waits, and reminds those
-- who have not bought.  The worker (cdp.database includes this database)
-- enrols, renders and sends to the SMTP server on 127.0.0.1:smtp_port (psql
-- variable); the demo's "3 days" wait is compressed to the psql variable
-- wait (default '30 seconds').
\set ON_ERROR_STOP 1
\set QUIET 1
\pset footer off
\if :{?wait}
\else
\set wait '30 seconds'
\endif
\echo
\echo '== 5. The journey: a 20%-off coupon, and a reminder for those who do not buy'
\echo
-- the demo waits for the worker with this helper (not part of pg_cdp): it
-- polls a condition every 0.2 s and gives up after a timeout
CREATE SCHEMA IF NOT EXISTS story;
CREATE OR REPLACE FUNCTION story.wait_for(what text, done text, timeout_s integer DEFAULT 120)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  ok boolean;
  t0 timestamptz := clock_timestamp();
BEGIN
  LOOP
    EXECUTE done INTO ok;
    EXIT WHEN ok;
    IF clock_timestamp() > t0 + make_interval(secs => timeout_s) THEN
      RAISE EXCEPTION 'gave up waiting for %', what
        USING HINT = 'Is the pg_cdp worker running? SELECT * FROM cdp.worker_status()';
    END IF;
    PERFORM pg_sleep(0.2);
  END LOOP;
  RETURN what;
END $$;
\set ECHO queries
-- where e-mail goes out: here the demo's local SMTP server
SELECT cdp.create_channel('mail', format('smtp://127.0.0.1:%s', :'smtp_port'),
  '{"from": "Outfitters <hello@outfitters.test>", "tls": "none"}') \g /dev/null
SELECT cdp.set_journey_setting('unsubscribe_url', '"https://outfitters.test/unsubscribe?token={token}"') \g /dev/null
SELECT cdp.create_template('coupon20',
  '{{ first_name | default: "Hello" }}, 20% off what you were looking at',
  '<p>Hi {{ first_name | default: "there" }},</p>
<p>{% if measure.product_views_7d > 1 %}You looked at {{ measure.product_views_7d }} of our products this week.
{% else %}You spent some time with us this week.{% endif %}
Here is 20% off your next order: <b>{{ coupon "DWELL20" }}</b>, valid for 7 days.</p>
<p><a href="https://outfitters.test/?utm_campaign=dwellers">Back to the shop</a>
 - questions? Our chat assistant is there day and night.</p>
<p><small><a href="{{ unsubscribe_url }}">Unsubscribe</a></small></p>',
  'Hi {{ first_name | default: "there" }},

{% if measure.product_views_7d > 1 %}You looked at {{ measure.product_views_7d }} of our products this week.
{% else %}You spent some time with us this week.
{% endif %}Here is 20% off your next order: {{ coupon "DWELL20" }}, valid for 7 days.

Back to the shop: https://outfitters.test/?utm_campaign=dwellers
Questions? Our chat assistant is there day and night.

Unsubscribe: {{ unsubscribe_url }}') \g /dev/null
SELECT cdp.create_template('reminder',
  'Still thinking it over, {{ first_name | default: "friend" }}?', NULL,
  'Hi {{ first_name | default: "there" }},

your 20% are still waiting: {{ coupon "DWELL20" }}, for a few more days.

Unsubscribe: {{ unsubscribe_url }}') \g /dev/null
-- one customer in five is held out (no e-mail) to measure what the e-mails change
SELECT cdp.create_journey('dwellers_coupon', format($${
  "trigger": {"segment": "dwelling_not_buying", "members": "all"},
  "steps": [
    {"id": "split",    "type": "split",  "arms": [{"percent": 20, "next": "done", "holdout": true},
                                                  {"percent": 80, "next": "offer"}]},
    {"id": "offer",    "type": "email",  "template": "coupon20", "channel": "mail"},
    {"id": "pause",    "type": "wait",   "duration": %s},
    {"id": "check",    "type": "branch", "if": "exists(purchase since entry)", "then": "done", "else": "reminder"},
    {"id": "reminder", "type": "email",  "template": "reminder", "channel": "mail"},
    {"id": "done",     "type": "end"}],
  "exit": {"goal": "exists(purchase since entry)"}}$$, to_json(:'wait'::text))::jsonb) \g /dev/null
SELECT cdp.publish_journey('dwellers_coupon') \g /dev/null
-- the worker enrols the members, renders and queues the e-mails, and sends them
SELECT story.wait_for('the first e-mails', $$
  SELECT (SELECT count(*) FROM cdp.journey_member m JOIN cdp.journey j USING (journey_id)
           WHERE j.name = 'dwellers_coupon') = (SELECT count(*) FROM cdp_segment.dwelling_not_buying)
     AND NOT EXISTS (SELECT FROM cdp.journey_member m JOIN cdp.journey j USING (journey_id)
                      WHERE j.name = 'dwellers_coupon' AND m.state = 'active' AND m.step IN ('split', 'offer'))
     AND NOT EXISTS (SELECT FROM cdp.message x JOIN cdp.journey j USING (journey_id)
                      WHERE j.name = 'dwellers_coupon' AND x.state IN ('queued', 'sending'))$$) AS waited_for;
SELECT count(*) AS members, count(*) FILTER (WHERE holdout) AS holdout,
       count(*) FILTER (WHERE NOT holdout) AS treated
  FROM cdp.journey_member m JOIN cdp.journey j USING (journey_id) WHERE j.name = 'dwellers_coupon';
SELECT x.state, x.detail, count(*) AS messages
  FROM cdp.message x JOIN cdp.journey j USING (journey_id)
 WHERE j.name = 'dwellers_coupon' GROUP BY 1, 2 ORDER BY 1, 2;
\unset ECHO
\echo
\echo 'One of the e-mails as it was rendered and sent:'
\set ECHO queries
SELECT x.to_address, x.subject, x.text_body
  FROM cdp.message x JOIN cdp.journey j USING (journey_id)
 WHERE j.name = 'dwellers_coupon' AND x.state = 'sent'
 ORDER BY x.message_id LIMIT 1 \gx
\unset ECHO
