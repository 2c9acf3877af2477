-- demo/story/02_unify.sql: step 2 of the retailer's story — one profile per
-- customer from the three sources (cdp.add_source, match rules, cdp.unify),
-- with two examples explained by cdp.explain_match.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset footer off
\echo
\echo '== 2. Unification: who is who across the web shop, the loyalty card and the stores'
\echo
\set ECHO queries
SELECT cdp.add_source('web', 'shop.web_shop_customer', 'customer_ref',
  '{"email": "email", "first_name": "first_name", "last_name": "last_name",
    "phone": {"column": "phone", "region": ["US", "GB"]},
    "address_line1": "street", "city": "city", "postal_code": "postal_code", "country": "country",
    "email_consent": {"column": "newsletter", "type": "boolean"}}',
  priority => 10, updated_at_column => 'updated_at') \g /dev/null
SELECT cdp.add_source('loyalty', 'loyalty.member', 'member_no',
  '{"full_name": "full_name", "email": "email", "phone": {"column": "mobile", "region": ["US", "GB"]},
    "birth_date": "birth_date", "address_line1": "address", "postal_code": "zip", "city": "city"}',
  priority => 20, updated_at_column => 'updated_at') \g /dev/null
SELECT cdp.add_source('pos', 'pos.pos_customer', 'pos_id',
  '{"first_name": "first_name", "last_name": "last_name", "phone": {"column": "phone", "region": ["US", "GB"]},
    "email": "email", "postal_code": "postal_code"}',
  priority => 30, updated_at_column => 'last_visit') \g /dev/null
-- a placeholder address customers type that the built-in exceptions miss
SELECT cdp.add_match_exception('no@email.com', 'email', note => 'placeholder address typed by customers') \g /dev/null
-- a strong identifier counts only together with a name: households share
-- family e-mails and landlines
SELECT cdp.add_match_rule('email + first name', '[{"attribute": "email"}, {"attribute": "first_name"}]') \g /dev/null
SELECT cdp.add_match_rule('email + names',
  '[{"attribute": "email"}, {"attribute": "first_name"}, {"attribute": "last_name"}]') \g /dev/null
SELECT cdp.add_match_rule('phone + names',
  '[{"attribute": "phone"}, {"attribute": "first_name"}, {"attribute": "last_name"}]') \g /dev/null
SELECT cdp.add_match_rule('phone + first name', '[{"attribute": "phone"}, {"attribute": "first_name"}]') \g /dev/null
SELECT cdp.add_match_rule('postal code + names',
  '[{"attribute": "postal_code"}, {"attribute": "first_name", "precision": 0.85},
    {"attribute": "last_name", "precision": 0.9}]') \g /dev/null
SELECT cdp.add_match_rule('address + names',
  '[{"attribute": "address_line1", "precision": 0.9}, {"attribute": "first_name"},
    {"attribute": "last_name"}]') \g /dev/null
SELECT cdp.set_merge_policy('email', 'most_recent') \g /dev/null
CALL cdp.unify() \g /dev/null
SELECT records || ' records became ' || customers || ' profiles' AS unification,
       matched_pairs, round(extract(epoch FROM finished_at - started_at)::numeric, 2) AS seconds
  FROM cdp.unify_run ORDER BY run_id DESC LIMIT 1;
SELECT record_count AS records_per_profile, count(*) AS profiles
  FROM cdp.customer GROUP BY 1 ORDER BY 1;
\unset ECHO
\echo
\echo 'Two examples. A customer found in all three sources (the first such profile):'
\set ECHO queries
SELECT customer_id, sources, first_name, last_name, email FROM cdp.customer
 WHERE cardinality(sources) = 3 ORDER BY customer_id LIMIT 1 \gset ex_
SELECT s.source, s.source_key FROM cdp.customer_source s WHERE s.customer_id = :ex_customer_id ORDER BY 1, 2;
\unset ECHO
\echo 'why the web record and the loyalty record are one customer:'
\set ECHO queries
SELECT (SELECT source_key FROM cdp.customer_source WHERE customer_id = :ex_customer_id AND source = 'web' ORDER BY 1 LIMIT 1) AS web_key,
       (SELECT source_key FROM cdp.customer_source WHERE customer_id = :ex_customer_id AND source = 'loyalty' ORDER BY 1 LIMIT 1) AS loyalty_key \gset
SELECT rule, attribute, normalized_a, normalized_b, round(score::numeric, 2) AS score, passed, rule_passed
  FROM cdp.explain_match('web', :'web_key', 'loyalty', :'loyalty_key')
 WHERE rule_passed AND passed OR rule = 'result';
\unset ECHO
\echo 'And two records of one household that stay two customers (same postal code and last name):'
\set ECHO queries
SELECT (array_agg(key_a))[1] AS key_a, (array_agg(key_b))[1] AS key_b, count(*) > 0 AS found
  FROM (SELECT a.source_key AS key_a, b.source_key AS key_b
          FROM cdp.customer_source a JOIN shop.web_shop_customer wa ON wa.customer_ref = a.source_key
          JOIN shop.web_shop_customer wb ON wb.postal_code = wa.postal_code AND lower(wb.last_name) = lower(wa.last_name)
                                         AND wb.customer_ref > wa.customer_ref
          JOIN cdp.customer_source b ON b.source = 'web' AND b.source_key = wb.customer_ref AND b.customer_id <> a.customer_id
         WHERE a.source = 'web' AND wa.street = wb.street AND wa.street <> '' AND wa.postal_code <> ''
         ORDER BY 1, 2 LIMIT 1) x \gset
\if :found
SELECT customer_ref, first_name, last_name, email, street, postal_code
  FROM shop.web_shop_customer WHERE customer_ref IN (:'key_a', :'key_b') ORDER BY 1;
SELECT rule, attribute, normalized_a, normalized_b, round(score::numeric, 2) AS score, passed, note
  FROM cdp.explain_match('web', :'key_a', 'web', :'key_b')
 WHERE attribute IN ('first_name', 'last_name') AND rule = 'postal code + names' OR rule = 'result';
\else
\echo '(no such pair of records in this sample)'
\endif
\unset ECHO
