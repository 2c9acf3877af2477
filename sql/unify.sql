-- Unification: sources, match rules, exceptions, overrides, merge policies,
-- clustering, stable ids and their history, explain_match / explain_rules,
-- the oversized-cluster guard, and a cancelled run leaving the previous
-- result intact.  Expected groupings are written next to the data (column
-- "truth") and compared with what cdp.unify() produced.
SET extra_float_digits = 0;
SET client_min_messages = notice;
\set VERBOSITY default
\set SHOW_CONTEXT never

CREATE SCHEMA shop;
CREATE TABLE shop.web (
  id integer PRIMARY KEY, email text, first_name text, last_name text,
  phone text, city text, updated timestamptz, truth text);
INSERT INTO shop.web VALUES
  (1, 'John.Smith+shop@gmail.com', 'John', 'Smith', '(415) 555-0134', 'San Francisco', '2024-01-01', 'smith'),
  (2, 'tess.b@mail.net', 'Tess', 'Beckwith', '415-555-0199', 'Oakland', '2024-02-01', 'tess'),
  (3, 'noemail@example.com', 'Mary', 'Jones', NULL, 'Boston', '2024-03-01', 'mary'),
  (4, 'noemail@example.com', 'Peter', 'Parker', NULL, 'New York', '2024-03-02', 'peter'),
  (5, 'ann.lee@mail.net', 'Ann', 'Lee', '212-555-0101', 'New York', '2023-05-05', 'ann'),
  (6, 'bob.lee@mail.net', 'Robert', 'Lee', '212-555-0101', 'New York', '2022-01-01', 'bob'),
  (7, 'ANN.LEE@MAIL.NET', 'Anne', 'Lee', NULL, 'NYC', '2025-01-01', 'ann');
CREATE TABLE shop.loyalty (
  member_no bigint PRIMARY KEY, full_name text, mail text, tel text, dob date,
  changed timestamptz, truth text);
INSERT INTO shop.loyalty VALUES
  (10, 'SMITH, Jon', 'johnsmith@gmail.com', NULL, '1980-01-02', '2025-01-01', 'smith'),
  (11, 'Beckwith Tess', NULL, '+1 415 555 0199', '1990-05-05', '2023-01-01', 'tess'),
  (12, 'Mary Jones', NULL, NULL, NULL, '2023-01-01', 'mary2'),
  (13, 'Bob Lee', NULL, '(212) 555-0101', '1975-07-07', '2024-07-07', 'bob'),
  (14, 'Dr. Ann Lee', NULL, '0000000000', '1980-02-02', '2020-01-01', 'ann');

-- ---------------------------------------------------------------- sources
\set VERBOSITY default
SELECT cdp.add_source('web', 'shop.web', 'id',
  '{"email": "email", "first_name": "first_name", "last_name": "last_name", "phone": "phone", "city": "city"}',
  10, 'updated');
SELECT cdp.add_source('loyalty', 'shop.loyalty', 'member_no',
  '{"full_name": "full_name", "email": "mail", "phone": {"column": "tel", "region": "US"}, "birth_date": "dob"}',
  20, 'changed');
SELECT name, semantic_type, sql_type FROM cdp.attribute ORDER BY name;

-- bad sources: each error, and nothing changes
CREATE TABLE shop.dup (k int, e text, d text, n int);
INSERT INTO shop.dup VALUES (1, 'a@b.co', '2020-01-01', 1), (1, 'c@d.co', 'x', 2), (2, NULL, NULL, 3), (2, NULL, NULL, 4), (3, NULL, NULL, NULL);
SELECT cdp.add_source('dup', 'shop.dup', 'k', '{"email": "e"}');
UPDATE shop.dup SET k = n;
SELECT cdp.add_source('dup', 'shop.dup', 'k', '{"email": "e"}');
DELETE FROM shop.dup WHERE k IS NULL;
SELECT cdp.add_source('dup', 'shop.nope', 'k', '{"email": "e"}');
SELECT cdp.add_source('dup', 'shop.dup', 'nope', '{"email": "e"}');
SELECT cdp.add_source('dup', 'shop.dup', 'k', '{"email": "nope"}');
SELECT cdp.add_source('dup', 'shop.dup', 'k', '{"birth_date": "d"}');
SELECT cdp.add_source('dup', 'shop.dup', 'k', '{"email": "n"}');
SELECT cdp.add_source('dup', 'shop.dup', 'k', '{"segment": "d"}');
SELECT cdp.add_source('dup', 'shop.dup', 'k', '{"segment": {"column": "d", "type": "nosuchtype"}}');
SELECT cdp.add_source('dup', 'shop.dup', 'k', '{"Bad-Name": "d"}');
SELECT cdp.add_source('dup', 'shop.dup', 'k', '{"sources": {"column": "d", "type": "text"}}');
SELECT cdp.add_source('dup', 'shop.dup', 'k', '{"email": {"column": "e", "colour": "red"}}');
SELECT cdp.add_source('dup', 'shop.dup', 'k', '{"email": {"column": "e", "region": "GB"}}');
SELECT cdp.add_source('dup', 'shop.dup', 'k', '{"phone": {"column": "e", "region": "XX"}}');
SELECT cdp.add_source('dup', 'shop.dup', 'k', '{"phone": {"column": "e", "region": [44]}}');
SELECT cdp.add_source('dup', 'shop.dup', 'k', '[]');
SELECT cdp.add_source('dup', 'shop.dup', 'k', '{"email": "e"}', updated_at_column => 'd');
SELECT cdp.add_source('web', 'shop.dup', 'k', '{"email": "e"}');
SELECT cdp.add_source('dup', 'pg_class_oid_index', 'k', '{"email": "e"}');
SELECT cdp.drop_source('nope');
SELECT cdp.alter_source('nope', priority => 1);
SELECT count(*) AS sources FROM cdp.source;

-- ---------------------------------------------------------------- rules
SELECT cdp.add_match_rule('email', '[{"attribute": "email"}]');
SELECT cdp.add_match_rule('phone and name',
  '[{"attribute": "phone"}, {"attribute": "last_name"}, {"attribute": "first_name"}]');
SELECT cdp.add_match_rule('name and birth date',
  '[{"attribute": "full_name", "precision": "high"}, {"attribute": "birth_date"}]');
SELECT name, position, conditions, sources FROM cdp.match_rule ORDER BY position;

-- bad rules
SELECT cdp.add_match_rule('email', '[{"attribute": "email"}]');
SELECT cdp.add_match_rule('x', '[]');
SELECT cdp.add_match_rule('x', '{"attribute": "email"}');
SELECT cdp.add_match_rule('x', '[{"attribute": "shoe_size"}]');
SELECT cdp.add_match_rule('x', '[{"column": "email"}]');
SELECT cdp.add_match_rule('x', '[{"attribute": "last_name", "precision": "very high"}]');
SELECT cdp.add_match_rule('x', '[{"attribute": "last_name", "precision": 1.5}]');
SELECT cdp.add_match_rule('x', '[{"attribute": "last_name", "method": "soundex"}]');
SELECT cdp.add_match_rule('x', '[{"attribute": "last_name", "method": "exact", "precision": 0.5}]');
SELECT cdp.add_match_rule('x', '[{"attribute": "last_name", "normalize": "email"}]');
SELECT cdp.add_match_rule('x', '[{"attribute": "city", "normalize": ["lowercase", "shout"]}]');
SELECT cdp.add_match_rule('x', '[{"attribute": "city"}, {"attribute": "city"}]');
SELECT cdp.add_match_rule('x', '[{"attribute": "city"}]', '{nope}');
SELECT cdp.add_match_rule('x', '[{"attribute": "city", "nicknames": "yes"}]');
SELECT cdp.drop_match_rule('x');
SELECT count(*) AS rules FROM cdp.match_rule;

-- bad policies and overrides
SELECT cdp.set_merge_policy('email', 'newest');
SELECT cdp.set_merge_policy('shoe_size', 'longest');
SELECT cdp.set_merge_policy('email', 'longest', '{"column": "changed"}');
SELECT cdp.set_merge_policy('email', 'most_recent', '{"column": "nope"}');
SELECT cdp.add_match_override('web', '1', 'loyalty', '10', 'sometimes');
SELECT cdp.add_match_override('web', '1', 'web', '1', 'never');
SELECT cdp.add_match_override('web', '1', 'nope', '10', 'never');
SELECT cdp.add_match_exception('(', 'email', true);

-- merge policies for the scenario
SELECT cdp.set_merge_policy('email', 'most_recent');
SELECT cdp.set_merge_policy('phone', 'collect');
SELECT cdp.set_merge_policy('city', 'longest');
SELECT cdp.set_merge_policy('birth_date', 'least_recent');

-- ---------------------------------------------------------------- first run
-- CALL prints timings, so its output goes to /dev/null and the stable part
-- of the summary is read back from cdp.unify_run.
\o /dev/null
CALL cdp.unify();
\o
SELECT run_id, mode, mode_reason, records, records_new, records_changed, records_deleted,
       candidate_pairs, matched_pairs, matches_per_rule, clusters, customers,
       new_ids, merged_ids, split_ids, deleted_ids, oversized_clusters, phase_ms ?& '{read,match,cluster,assign ids,merge}' AS all_phases
  FROM cdp.unify_run;

-- the clusters as the truth column says: records with the same truth are one
-- customer, records with different truths are not
CREATE VIEW shop.truth AS
  SELECT 'web' AS source, id::text AS source_key, truth FROM shop.web
  UNION ALL SELECT 'loyalty', member_no::text, truth FROM shop.loyalty;
CREATE VIEW shop.disagreements AS
  SELECT t1.source || ':' || t1.source_key AS a, t2.source || ':' || t2.source_key AS b,
         t1.truth = t2.truth AS same_truth, c1.customer_id = c2.customer_id AS same_customer
    FROM shop.truth t1 JOIN shop.truth t2 ON (t1.source, t1.source_key) < (t2.source, t2.source_key)
    JOIN cdp.customer_source c1 ON (c1.source, c1.source_key) = (t1.source, t1.source_key)
    JOIN cdp.customer_source c2 ON (c2.source, c2.source_key) = (t2.source, t2.source_key)
   WHERE (t1.truth = t2.truth) <> (c1.customer_id = c2.customer_id);
-- Expected: only loyalty 14 against Ann's two web records.  Why:
--   smith: Gmail dots/+tag (web 1 = loyalty 10 by email);
--   tess: same phone, names swapped in loyalty 11 ("Beckwith Tess");
--   ann: web 5 and web 7 by e-mail case; loyalty 14 "Dr. Ann Lee" has a
--        placeholder phone and no e-mail, so no rule can link it (yet);
--   bob: web 6 "Robert Lee" = loyalty 13 "Bob Lee" by phone + nickname;
--   mary / mary2 and peter: the shared placeholder e-mail links nobody.
SELECT * FROM shop.disagreements ORDER BY a, b;
SELECT (SELECT count(*) FROM cdp.customer) AS customers,
       (SELECT count(*) FROM cdp.customer_source) AS records;

-- merged values: email most_recent (web 7 of 2025 wins over web 5 of 2023),
-- phone collect, city longest, birth_date least_recent, first_name priority
SELECT c.record_count, c.sources, c.email, c.phone, c.city, c.first_name, c.last_name, c.full_name, c.birth_date
  FROM cdp.customer c ORDER BY c.email NULLS LAST, c.full_name;

-- Second run with nothing changed: incremental, same ids, no history.
CREATE TABLE shop.ids1 AS SELECT * FROM cdp.customer_source;
\o /dev/null
CALL cdp.unify();
\o
SELECT count(*) AS changed_ids FROM shop.ids1 a FULL JOIN cdp.customer_source b USING (source, source_key)
 WHERE a.customer_id IS DISTINCT FROM b.customer_id;
SELECT reason, count(*) FROM cdp.customer_id_history GROUP BY reason ORDER BY reason;

-- ---------------------------------------------------------------- merge of two customers
-- Loyalty 14 gets Ann's e-mail: it joins Ann's customer (2 records), whose id
-- survives; loyalty 14's own id disappears as merged.
UPDATE shop.loyalty SET mail = 'Ann.Lee@mail.net' WHERE member_no = 14;
\o /dev/null
CALL cdp.unify();
\o
SELECT * FROM shop.disagreements ORDER BY a, b;
SELECT h.reason, h.records,
       h.new_id = (SELECT customer_id FROM shop.ids1 WHERE source = 'web' AND source_key = '5') AS into_ann,
       h.old_id = (SELECT customer_id FROM shop.ids1 WHERE source = 'loyalty' AND source_key = '14') AS from_14
  FROM cdp.customer_id_history h WHERE h.run_id = (SELECT max(run_id) FROM cdp.unify_run);
SELECT mode, records_changed, merged_ids, new_ids, split_ids FROM cdp.unify_run ORDER BY run_id DESC LIMIT 1;

-- ---------------------------------------------------------------- split
-- Web 7 changes its e-mail: Ann's customer splits; the larger part (web 5 and
-- loyalty 14) keeps the id, web 7 gets a new one.
UPDATE shop.web SET email = 'anne@other.net', truth = 'anne' WHERE id = 7;
\o /dev/null
CALL cdp.unify();
\o
SELECT * FROM shop.disagreements ORDER BY a, b;
SELECT h.reason, h.records, h.old_id = (SELECT customer_id FROM shop.ids1 WHERE source = 'web' AND source_key = '5') AS from_ann,
       h.new_id = (SELECT customer_id FROM cdp.customer_source WHERE source = 'web' AND source_key = '7') AS to_web7
  FROM cdp.customer_id_history h WHERE h.run_id = (SELECT max(run_id) FROM cdp.unify_run) ORDER BY reason;
SELECT (SELECT customer_id FROM cdp.customer_source WHERE source = 'web' AND source_key = '5')
     = (SELECT customer_id FROM shop.ids1 WHERE source = 'web' AND source_key = '5') AS ann_kept_id;

-- ---------------------------------------------------------------- delete
DELETE FROM shop.web WHERE id = 4;
\o /dev/null
CALL cdp.unify();
\o
SELECT h.reason, h.new_id, h.old_id = (SELECT customer_id FROM shop.ids1 WHERE source = 'web' AND source_key = '4') AS was_peter
  FROM cdp.customer_id_history h WHERE h.run_id = (SELECT max(run_id) FROM cdp.unify_run);
SELECT count(*) AS peter_rows FROM cdp.customer_source WHERE source = 'web' AND source_key = '4';

-- ---------------------------------------------------------------- overrides
-- never: Robert Lee (web 6) and Bob Lee (loyalty 13) are kept apart
SELECT cdp.add_match_override('web', '6', 'loyalty', '13', 'never');
\o /dev/null
CALL cdp.unify();
\o
SELECT mode, mode_reason FROM cdp.unify_run ORDER BY run_id DESC LIMIT 1;
SELECT count(DISTINCT customer_id) AS bob_customers FROM cdp.customer_source
 WHERE (source, source_key) IN (('web', '6'), ('loyalty', '13'));
-- always: Mary Jones of web 3 and loyalty 12 are one customer
SELECT cdp.add_match_override('loyalty', '12', 'web', '3', 'always');
SELECT cdp.drop_match_override('web', '6', 'loyalty', '13');
\o /dev/null
CALL cdp.unify();
\o
SELECT count(DISTINCT customer_id) AS mary_customers FROM cdp.customer_source
 WHERE (source, source_key) IN (('web', '3'), ('loyalty', '12'));
SELECT count(DISTINCT customer_id) AS bob_customers FROM cdp.customer_source
 WHERE (source, source_key) IN (('web', '6'), ('loyalty', '13'));

-- ---------------------------------------------------------------- explain
SELECT rule, condition, attribute, value_a, value_b, normalized_a, normalized_b, method,
       round(score::numeric, 3) AS score, threshold, passed, rule_passed, note
  FROM cdp.explain_match('web', '2', 'loyalty', '11');
SELECT rule, condition, attribute, normalized_a, normalized_b, round(score::numeric, 3) AS score, passed, rule_passed, note
  FROM cdp.explain_match('web', '3', 'loyalty', '12') WHERE rule IN ('email', 'override', 'result');
SELECT rule, conditions, blocking_keys, name_swap, candidate_pairs, matched_pairs FROM cdp.explain_rules();
SELECT * FROM cdp.explain_match('web', '999', 'loyalty', '11');
SELECT * FROM cdp.explain_match('nope', '1', 'loyalty', '11');

-- ---------------------------------------------------------------- exceptions
-- a user exception: the shared phone 212-555-0101 of the Lees never matches
SELECT cdp.add_match_exception('+12125550101', 'phone', note => 'shop front number');
\o /dev/null
CALL cdp.unify();
\o
SELECT count(DISTINCT customer_id) AS bob_customers FROM cdp.customer_source
 WHERE (source, source_key) IN (('web', '6'), ('loyalty', '13'));
SELECT cdp.drop_match_exception('+12125550101', 'phone');

-- ---------------------------------------------------------------- oversized clusters
-- Eight records share one phone and a last name; with cdp.max_cluster_size =
-- 5 the cluster is reported and left unmerged.
CREATE TABLE shop.pos (pos_id text PRIMARY KEY, first_name text, last_name text, phone text);
INSERT INTO shop.pos SELECT 'P' || i, 'Kim', 'Park', '646-555-0150' FROM generate_series(1, 8) i;
SELECT cdp.add_source('pos', 'shop.pos', 'pos_id', '{"first_name": "first_name", "last_name": "last_name", "phone": "phone"}', 30);
SET cdp.max_cluster_size = 5;
\o /dev/null
CALL cdp.unify();
\o
SELECT oversized_clusters FROM cdp.unify_run ORDER BY run_id DESC LIMIT 1;
SELECT count(DISTINCT customer_id) AS pos_customers FROM cdp.customer_source WHERE source = 'pos';
RESET cdp.max_cluster_size;
\o /dev/null
CALL cdp.unify();
\o
SELECT count(DISTINCT customer_id) AS pos_customers FROM cdp.customer_source WHERE source = 'pos';

-- ---------------------------------------------------------------- cancelled run
-- A run cancelled by statement_timeout leaves the previous result intact.
CREATE TABLE shop.before AS SELECT * FROM cdp.customer_source;
INSERT INTO shop.pos SELECT 'Q' || i, 'First' || i, 'Last' || (i % 500), NULL FROM generate_series(1, 20000) i;
SET statement_timeout = '20ms';
\set VERBOSITY terse
CALL cdp.unify();
\set VERBOSITY default
RESET statement_timeout;
SELECT count(*) AS differences FROM shop.before a FULL JOIN cdp.customer_source b USING (source, source_key)
 WHERE a.customer_id IS DISTINCT FROM b.customer_id;
SELECT count(*) AS runs FROM cdp.unify_run;
SELECT * FROM cdp.unify_progress();

-- ---------------------------------------------------------------- configuration changes
-- a new attribute becomes a column; dropping a source removes its records
SELECT cdp.alter_source('pos', attributes => '{"first_name": "first_name", "last_name": "last_name", "phone": "phone", "store": {"column": "pos_id", "type": "text"}}');
\o /dev/null
CALL cdp.unify();
\o
SELECT mode, mode_reason FROM cdp.unify_run ORDER BY run_id DESC LIMIT 1;
SELECT attname FROM pg_attribute WHERE attrelid = 'cdp.customer'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT cdp.drop_source('pos');
\o /dev/null
CALL cdp.unify();
\o
SELECT count(*) AS pos_records FROM cdp.customer_source WHERE source = 'pos';
SELECT attname FROM pg_attribute WHERE attrelid = 'cdp.customer'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT cdp.set_merge_policy('city', 'exclude');
\o /dev/null
CALL cdp.unify();
\o
SELECT count(*) AS city_columns FROM pg_attribute WHERE attrelid = 'cdp.customer'::regclass AND attname = 'city' AND NOT attisdropped;

-- ---------------------------------------------------------------- other relations, more policies
-- A foreign table (file_fdw, the file in the server's data directory) and a
-- materialised view are sources like any other.
CREATE EXTENSION file_fdw;
CREATE SERVER shop_files FOREIGN DATA WRAPPER file_fdw;
DO $$
DECLARE
  f text := current_setting('data_directory') || '/pg_cdp_unify_kiosk.csv';
BEGIN
  EXECUTE format($c$COPY (VALUES ('K1', 'bob.lee@mail.net', 'Lee'), ('K2', 'someone@else.net', 'Kim')) TO %L (FORMAT csv)$c$, f);
  EXECUTE format('CREATE FOREIGN TABLE shop.kiosk (kiosk_id text, email text, surname text) SERVER shop_files OPTIONS (filename %L, format %L)', f, 'csv');
END $$;
CREATE MATERIALIZED VIEW shop.crm AS
  SELECT * FROM (VALUES (100, 'tess.b@mail.net', 'Theresa', 'BECKWITH')) AS v(crm_id, email, first_name, last_name);
SELECT cdp.add_source('kiosk', 'shop.kiosk', 'kiosk_id', '{"email": "email", "last_name": "surname"}', 40);
SELECT cdp.add_source('crm', 'shop.crm', 'crm_id', '{"email": "email", "first_name": "first_name", "last_name": "last_name"}', 5);
-- last name: the most frequent value (a tie goes to the first in byte
-- order); first name: from the record with the most attributes filled;
-- e-mail: the latest by a column named in the options (web's "updated"; the
-- loyalty source has none and uses its updated_at_column)
SELECT cdp.set_merge_policy('last_name', 'most_frequent');
SELECT cdp.set_merge_policy('first_name', 'most_filled');
SELECT cdp.set_merge_policy('email', 'most_recent', '{"column": "updated"}');
\o /dev/null
CALL cdp.unify();
\o
-- Expected: K1 joins Robert/Bob Lee by e-mail (3 records; "Lee"; "Robert"
-- from web 6 with five attributes); K2 stays alone; CRM 100 joins Tess by
-- e-mail (3 records; "Tess" from web 2 with five attributes against CRM's
-- three; "Beckwith" and "BECKWITH" once each, and 'B','E' sorts before
-- 'B','e', so "BECKWITH").
SELECT cs.source, cs.source_key, c.record_count, c.sources, c.first_name, c.last_name, c.email
  FROM cdp.customer_source cs JOIN cdp.customer c USING (customer_id)
 WHERE cs.source IN ('kiosk', 'crm') ORDER BY 1, 2;
SELECT count(*) AS ranked_by_column FROM pg_attribute
 WHERE attrelid = 'cdp.unify_record'::regclass AND attname = 't_email' AND NOT attisdropped;
SELECT cdp.drop_source('kiosk'), cdp.drop_source('crm');

-- ---------------------------------------------------------------- nothing configured
-- without sources every customer goes, and so do the attribute columns
SELECT cdp.drop_source('web'), cdp.drop_source('loyalty');
CALL cdp.unify();
SELECT cdp.drop_match_rule(name) FROM cdp.match_rule ORDER BY position DESC;
\o /dev/null
CALL cdp.unify();
\o
SELECT records, customers, deleted_ids > 0 AS deleted FROM cdp.unify_run ORDER BY run_id DESC LIMIT 1;
SELECT (SELECT count(*) FROM cdp.customer) AS customers, (SELECT count(*) FROM cdp.customer_source) AS records,
       (SELECT count(*) FROM cdp.attribute) AS attributes;
SELECT attname FROM pg_attribute WHERE attrelid = 'cdp.customer'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
DELETE FROM cdp.merge_policy;

DROP SCHEMA shop CASCADE;
DROP SERVER shop_files;
DROP EXTENSION file_fdw;
