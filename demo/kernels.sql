-- A first look at the matching kernels: what they make of a handful of
-- messy customer records (demo/sample.sql).  Run it from the top of the
-- source tree in a database where pg_cdp can be created:
--     psql -X -f demo/kernels.sql
-- (make demo plays the whole retailer's story instead: demo/run.sh).
\pset footer off
\pset null '∅'
\set ECHO queries

CREATE EXTENSION pg_cdp;
\set ECHO none
\i demo/sample.sql
\set ECHO queries
\echo '-- loaded demo/sample.sql: 8 web-shop customers, 8 loyalty members, 5 point-of-sale customers'

\echo
\echo '== 1. One view over the three sources, as raw as they come'
CREATE VIEW customer_record AS
  SELECT 'web' AS source, id::text AS source_key, full_name AS name, email, phone,
         address, country
    FROM web_customer
  UNION ALL
  SELECT 'loyalty', card_no, first_name || ' ' || last_name, email, mobile, NULL, country
    FROM loyalty_member
  UNION ALL
  SELECT 'pos', customer_ref, name, NULL, phone, street, store_country
    FROM pos_customer;

\echo
\echo '== 2. Normalised: names, emails (provider rules), phones (E.164), addresses'
SELECT source, source_key,
       cdp.normalize_name(name)            AS name,
       cdp.normalize_email(email)          AS email,
       cdp.normalize_phone(phone, country) AS phone,
       cdp.phone_extension(phone)          AS ext,
       cdp.normalize_address(address)      AS address
  FROM customer_record
 ORDER BY source, source_key;

\echo
\echo '== 3. The closest name pairs across sources (name_similarity >= 0.85)'
SELECT a.source || ':' || a.source_key AS record_a, a.name AS name_a,
       b.source || ':' || b.source_key AS record_b, b.name AS name_b,
       round(cdp.name_similarity(a.name, b.name)::numeric, 3)  AS name_sim,
       round(cdp.jaro_winkler(lower(a.name), lower(b.name))::numeric, 3) AS jaro_winkler,
       cdp.normalize_phone(a.phone, a.country) = cdp.normalize_phone(b.phone, b.country) AS same_phone
  FROM customer_record a
  JOIN customer_record b ON a.source < b.source
 WHERE cdp.name_similarity(a.name, b.name) >= 0.85
 ORDER BY name_sim DESC, record_a, record_b;

\echo
\echo '== 4. Phonetic blocking keys: records that sound alike share a Double Metaphone code'
SELECT (cdp.double_metaphone(split_part(cdp.normalize_name(name), ' ', -1)))[1] AS last_name_key,
       string_agg(source || ':' || source_key || ' ' || name, ', ' ORDER BY source, source_key) AS records
  FROM customer_record
 GROUP BY 1
HAVING count(*) > 1
 ORDER BY 1;

\echo
\echo '== 5. Nickname knowledge (cdp.nickname, 2,691 pairs shipped; add your own)'
SELECT a, b, cdp.names_equivalent(a, b) AS equivalent
  FROM (VALUES ('Bob', 'Robert'), ('Peggy', 'Margaret'), ('Liz', 'Elizabeth'),
               ('Bill', 'William'), ('Olivia', 'Oliver')) AS t(a, b);

\echo
\echo '== 6. The similarity kernels side by side'
SELECT a, b,
       cdp.levenshtein(a, b)         AS lev,
       cdp.damerau_levenshtein(a, b) AS damerau,
       round(cdp.jaro_winkler(a, b)::numeric, 3)     AS jaro_winkler,
       round(cdp.edit_similarity(a, b)::numeric, 3)  AS edit_sim,
       round(cdp.token_similarity(a, b)::numeric, 3) AS token_sim
  FROM (VALUES ('Tayler', 'Taylor'), ('Mueller', 'Müller'), ('Smith, John', 'John Smith'),
               ('ACME Corp Ltd', 'Acme Corporation'), ('Jon', 'John')) AS t(a, b);

\echo
\echo '== 7. Unification: the three sources become one profile per customer'
SELECT cdp.add_source('web', 'web_customer', 'id',
  '{"full_name": "full_name", "email": "email", "address_line1": "address", "country": "country",
    "phone": {"column": "phone", "region": ["US", "GB", "FR", "ES", "DE", "CN"]}}', priority => 10);
SELECT cdp.add_source('loyalty', 'loyalty_member', 'card_no',
  '{"first_name": "first_name", "last_name": "last_name", "email": "email", "country": "country",
    "phone": {"column": "mobile", "region": ["US", "GB", "ES", "DE", "FR", "AU"]}}', priority => 20);
SELECT cdp.add_source('pos', 'pos_customer', 'customer_ref',
  '{"full_name": "name", "address_line1": "street",
    "phone": {"column": "phone", "region": ["US", "GB", "AU", "CN"]}}', priority => 30);
-- the same mailbox; or the same phone and a similar last name; or a similar
-- name at a similar address
SELECT cdp.add_match_rule('email', '[{"attribute": "email"}]');
SELECT cdp.add_match_rule('phone and last name', '[{"attribute": "phone"}, {"attribute": "last_name"}]');
SELECT cdp.add_match_rule('name and address',
  '[{"attribute": "full_name"}, {"attribute": "address_line1", "precision": "medium"}]');
SELECT cdp.set_merge_policy('email', 'collect');
SELECT cdp.set_merge_policy('full_name', 'longest');
\o /dev/null
CALL cdp.unify();
\o
SELECT records, matches_per_rule, customers FROM cdp.unify_run;
SELECT customer_id, sources, full_name, email, phone, address_line1
  FROM cdp.customer ORDER BY customer_id;

\echo
\echo '== 8. Why web 2 and point-of-sale P-78 are one customer'
SELECT rule, attribute, normalized_a, normalized_b, round(score::numeric, 3) AS score, passed, rule_passed
  FROM cdp.explain_match('web', '2', 'pos', 'P-78');
