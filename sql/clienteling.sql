--
-- clienteling (issue 7): legal entities, stores and address books,
-- associates mapped to roles; client books (add, remove, reassign all and
-- some, who may, the one-book rule and its setting, enforced by a unique
-- index); store client books; client book attributes and filters by
-- refinable attributes and segments; activity types, activities and notes
-- in the timeline (only for who may read them); the notes setting; the
-- customer card's slot order with 0, 1, 2 and 3 measures; ids that merge in
-- unification; errors with their messages; a fuzz of the text inputs.
-- The roles act with SET ROLE (the TAP test 022_clienteling_rls.pl logs
-- them in for real).  Expected values are worked out by hand next to the
-- data and compared in the queries.
--
SET client_min_messages = notice;
SET timezone = 'UTC';
SET extra_float_digits = 0;
\set VERBOSITY default
\set SHOW_CONTEXT never

DELETE FROM cdp.unify_run;
DELETE FROM cdp.customer_id_history;
SELECT setval('cdp.customer_id_seq', 1, false) IS NOT NULL AS ids_reset,
       setval('cdp.unify_run_seq', 1, false) IS NOT NULL AS runs_reset;

-- ---- customers, purchases, measures, segments ----
CREATE SCHEMA cl;
GRANT USAGE ON SCHEMA cl TO PUBLIC;
CREATE TABLE cl.people (id text PRIMARY KEY, first_name text, last_name text, email text, city text, birth_date date);
INSERT INTO cl.people VALUES
  ('P1', 'Ann', 'Lee', 'ann@mail.net', 'Lyon',  '1990-07-05'),
  ('P2', 'Bob', 'Ray', 'bob@mail.net', 'Paris', '1985-12-01'),
  ('P3', 'Cat', 'Poe', 'cat@mail.net', 'Lille', '2000-08-10'),
  ('P4', 'Dan', 'Fox', 'dan@mail.net', NULL,    NULL),
  ('P5', 'Eve', 'Fox', 'eve@mail.net', 'Nice',  '1970-07-20'),
  ('P6', 'Fay', 'Kim', 'fay@mail.net', 'Metz',  '1999-06-30');
SELECT cdp.add_source('crm', 'cl.people', 'id',
  '{"first_name": "first_name", "last_name": "last_name", "email": "email", "city": "city", "birth_date": "birth_date"}');
SELECT cdp.add_match_rule('same email', '[{"attribute": "email"}]');
\o /dev/null
CALL cdp.unify();
\o
-- six customers, ids 1 to 6 in key order
SELECT source_key, customer_id FROM cdp.customer_source ORDER BY source_key;

CREATE TABLE cl.orders (order_id int PRIMARY KEY, person text, total numeric, at timestamptz);
INSERT INTO cl.orders VALUES
  (1, 'P1', 120, '2026-06-01 10:00+00'),
  (2, 'P1',  90, '2026-06-15 10:00+00'),
  (3, 'P2',  30, '2026-05-01 10:00+00'),
  (4, 'P3', 250, '2026-06-20 10:00+00');
SELECT cdp.add_activity('purchase', 'cl.orders', 'at', '{"source": "crm", "column": "person"}', '{"amount": "total"}', 'purchase');
\o /dev/null
CALL cdp.refresh_activities();
\o
SELECT cdp.create_measure('total_spend', 'sum(purchase.amount)');
SELECT cdp.create_measure('orders', 'count(purchase)');
SELECT cdp.create_measure('biggest', 'max(purchase.amount)');
\o /dev/null
CALL cdp.refresh_measures('2026-07-01 00:00+00');
\o
-- birthdays within 14 days of 1 July 2026: Ann (5 July) only; Eve (20 July)
-- is 19 days away, Fay's (30 June) has passed.  Spent over 200: Ann (210), Cat (250).
SELECT cdp.create_segment('birthday_next_14_days', 'birth_date within next 14 days');
SELECT cdp.create_segment('big_spenders', 'total_spend > 200');
SELECT entered, members FROM cdp.refresh_segment('birthday_next_14_days', '2026-07-01 00:00+00');
SELECT entered, members FROM cdp.refresh_segment('big_spenders', '2026-07-01 00:00+00');

-- ---- roles ----
-- ann, abe, amy (manager of A1), al: entity A; bea: entity B; max: A and B.
CREATE ROLE regress_cl_ann IN ROLE cdp_associate;
CREATE ROLE regress_cl_abe IN ROLE cdp_associate;
CREATE ROLE regress_cl_amy IN ROLE cdp_associate;
CREATE ROLE regress_cl_al IN ROLE cdp_associate;
CREATE ROLE regress_cl_bea IN ROLE cdp_associate;
CREATE ROLE regress_cl_max IN ROLE cdp_associate;
CREATE ROLE regress_cl_admin IN ROLE cdp_admin;
CREATE ROLE regress_cl_stranger IN ROLE cdp_associate;   -- not mapped to an associate
CREATE ROLE regress_cl_analyst IN ROLE cdp_analyst;
CREATE ROLE regress_cl_outsider;                          -- no pg_cdp role

-- the three book functions: add and remove for associates, reassign for nobody
-- (cdp_admin may add and remove too; create_store is cdp_admin's)
SELECT f, has_function_privilege('cdp_associate', f, 'EXECUTE') AS associate,
       has_function_privilege('cdp_admin', f, 'EXECUTE') AS admin,
       has_function_privilege('regress_cl_outsider', f, 'EXECUTE') AS public
  FROM unnest(ARRAY['cdp.client_book_add(text, bigint, text)', 'cdp.client_book_remove(text, bigint, text)',
                    'cdp.client_book_reassign(text, text, bigint[], text)', 'cdp.create_store(text, text, text, text)',
                    'cdp.add_client_note(bigint, text, text)']) f;

-- ---- 1. organisation (cdp_admin) ----
SET ROLE regress_cl_admin;
SELECT cdp.create_legal_entity('A', 'Alpha Retail'), cdp.create_legal_entity('B', 'Beta Retail');
SELECT cdp.create_store('A1', 'A', 'north', 'Lyon'), cdp.create_store('A2', 'A', 'north', 'Villeurbanne'),
       cdp.create_store('A3', 'A', NULL, 'Marseille'), cdp.create_store('B1', 'B');
SELECT cdp.create_associate('ann', 'regress_cl_ann', 'Ann Martin'), cdp.create_associate('abe', 'regress_cl_abe'),
       cdp.create_associate('amy', 'regress_cl_amy'), cdp.create_associate('al', 'regress_cl_al'),
       cdp.create_associate('bea', 'regress_cl_bea'), cdp.create_associate('max', 'regress_cl_max');
SELECT cdp.assign_store('ann', 'A1'), cdp.assign_store('abe', 'A2'), cdp.assign_store('amy', 'A1', true),
       cdp.assign_store('al', 'A3'), cdp.assign_store('bea', 'B1'), cdp.assign_store('max', 'A3'), cdp.assign_store('max', 'B1');
SELECT * FROM cdp.store ORDER BY store;
SELECT * FROM cdp.associate_store ORDER BY associate, store;
-- errors
SELECT cdp.create_legal_entity('A');
SELECT cdp.create_legal_entity('has space');
SELECT cdp.create_store('B2', 'Z');
SELECT cdp.create_store('B2', 'B', 'north');
SELECT cdp.create_store('A1', 'A');
SELECT cdp.create_associate('zed', 'regress_cl_no_such_role');
SELECT cdp.create_associate('ann2', 'regress_cl_ann');
SELECT cdp.create_associate('ann', 'regress_cl_stranger');
SELECT cdp.assign_store('ann', 'Z9');
SELECT cdp.assign_store('zed', 'A1');
SELECT cdp.alter_legal_entity('A', notes_visible_to => 'everyone');
SELECT cdp.alter_legal_entity('Z', several_books => true);
RESET ROLE;
-- an associate may not configure
SET ROLE regress_cl_ann;
SELECT cdp.create_store('A9', 'A');
RESET ROLE;

-- ---- 2. adding to client books ----
SET ROLE regress_cl_ann;
SELECT cdp.client_book_add('ann', 1) AS added, cdp.client_book_add('ann', 2) AS added_2;
SELECT cdp.client_book_add('ann', 1) AS added_again;                 -- false: already there
SELECT cdp.client_book_add('abe', 4);                                -- not ann's book, ann manages nothing
SELECT cdp.client_book_add('ann', 999);
SELECT cdp.client_book_add('nobody', 1);
SELECT cdp.client_book_add('ann', NULL);
RESET ROLE;
SET ROLE regress_cl_amy;
SELECT cdp.client_book_add('ann', 3) AS manager_adds;                -- amy manages A1, where ann works
SELECT cdp.client_book_add('abe', 4);                                -- abe works in A2, amy does not manage it
RESET ROLE;
SET ROLE regress_cl_bea;
SELECT cdp.client_book_add('ann', 4);                                -- bea works for B only: ann is not visible to her
SELECT cdp.client_book_add('bea', 1) AS other_entity;                -- B has its own books
RESET ROLE;
SET ROLE regress_cl_abe;
SELECT cdp.client_book_add('abe', 1);                                -- one book per customer in A
SELECT cdp.client_book_add('abe', 4) AS added;
RESET ROLE;
SET ROLE regress_cl_max;
SELECT cdp.client_book_add('max', 5);                                -- max works for A and B
SELECT cdp.client_book_add('max', 5, 'B') AS added;
RESET ROLE;
SET ROLE regress_cl_al;
SELECT cdp.client_book_add('al', 5) AS added;
RESET ROLE;
SET ROLE regress_cl_stranger;
SELECT cdp.client_book_add('ann', 4);
RESET ROLE;
SET ROLE regress_cl_outsider;
SELECT cdp.client_book_add('ann', 4);
RESET ROLE;

-- ---- 3. removing ----
SET ROLE regress_cl_ann;
SELECT cdp.client_book_remove('ann', 2) AS removed, cdp.client_book_remove('ann', 2) AS removed_again;
RESET ROLE;
SET ROLE regress_cl_al;
SELECT cdp.client_book_remove('ann', 1);
RESET ROLE;
SET ROLE regress_cl_amy;
SELECT cdp.client_book_remove('ann', 3) AS manager_removes;
RESET ROLE;
SET ROLE regress_cl_ann;
SELECT cdp.client_book_add('ann', 3) AS added_back;
RESET ROLE;
-- books now: A: ann {1,3}, abe {4}, al {5}; B: bea {1}, max {5}
SELECT entity, associate, array_agg(customer_id ORDER BY customer_id) AS customers,
       CASE entity || associate WHEN 'Aann' THEN '{1,3}' WHEN 'Aabe' THEN '{4}' WHEN 'Aal' THEN '{5}'
                                WHEN 'Bbea' THEN '{1}' WHEN 'Bmax' THEN '{5}' END AS expected
  FROM cdp.client_book_entry GROUP BY 1, 2 ORDER BY 1, 2;

-- ---- 4. the one-book rule and its setting ----
SET ROLE regress_cl_admin;
SELECT cdp.alter_legal_entity('A', several_books => true);
RESET ROLE;
SET ROLE regress_cl_abe;
SELECT cdp.client_book_add('abe', 1) AS second_book;                 -- allowed now
RESET ROLE;
SELECT entity, associate, customer_id, exclusive FROM cdp.client_book_entry WHERE customer_id = 1 ORDER BY 1, 2;
SET ROLE regress_cl_admin;
SELECT cdp.alter_legal_entity('A', several_books => false);          -- customer 1 is in two books
RESET ROLE;
SET ROLE regress_cl_abe;
SELECT cdp.client_book_remove('abe', 1) AS removed;
RESET ROLE;
SET ROLE regress_cl_admin;
SELECT cdp.alter_legal_entity('A', several_books => false);
-- the database enforces it, not only the function: a direct insert fails,
-- even with exclusive forced to false (the trigger sets it)
INSERT INTO cdp.client_book_entry (entity, associate, customer_id) VALUES ('A', 'al', 3);
INSERT INTO cdp.client_book_entry (entity, associate, customer_id, exclusive) VALUES ('A', 'al', 3, false);
UPDATE cdp.client_book_entry SET exclusive = false WHERE associate = 'ann' RETURNING associate, customer_id, exclusive;
RESET ROLE;
SELECT entity, several_books, notes_visible_to FROM cdp.legal_entity ORDER BY entity;

-- ---- 5. reassigning ----
SET ROLE regress_cl_amy;
SELECT cdp.client_book_reassign('ann', 'amy', '{3}');                -- granted to nobody by default
RESET ROLE;
-- an administrator lets store managers and cdp_admin reassign
GRANT EXECUTE ON FUNCTION cdp.client_book_reassign(text, text, bigint[], text) TO cdp_associate, cdp_admin;
SET ROLE regress_cl_abe;
SELECT cdp.client_book_reassign('ann', 'abe');                       -- abe manages no store
RESET ROLE;
SET ROLE regress_cl_amy;
SELECT cdp.client_book_reassign('ann', 'abe');                       -- amy does not manage A2
SELECT cdp.client_book_reassign('ann', 'amy', '{3,4}');              -- 4 is not in ann's book: nothing moves
SELECT cdp.client_book_reassign('ann', 'amy', '{3}') AS moved_some;  -- 1
SELECT cdp.client_book_reassign('ann', 'amy') AS moved_all;          -- 1 (customer 1)
SELECT cdp.client_book_reassign('ann', 'ghost');
SELECT cdp.client_book_reassign('amy', 'amy');
RESET ROLE;
SELECT associate, array_agg(customer_id ORDER BY customer_id) AS customers FROM cdp.client_book_entry
 WHERE entity = 'A' GROUP BY 1 ORDER BY 1;                           -- abe {4}, al {5}, amy {1,3}
SET ROLE regress_cl_admin;
SELECT cdp.client_book_reassign('amy', 'ann') AS admin_moved;        -- 2
-- ann leaves the entity: her manager may take her book over
SELECT cdp.unassign_store('ann', 'A1') AS left_store;
RESET ROLE;
SET ROLE regress_cl_amy;
SELECT cdp.client_book_reassign('ann', 'amy') AS taken_over;         -- 2 (ann works in no store of A now)
RESET ROLE;
SET ROLE regress_cl_admin;
SELECT cdp.assign_store('ann', 'A1');
SELECT cdp.client_book_reassign('amy', 'ann') AS given_back;         -- 2
RESET ROLE;
REVOKE EXECUTE ON FUNCTION cdp.client_book_reassign(text, text, bigint[], text) FROM cdp_associate, cdp_admin;
-- EXECUTE is checked for the calling role too: a role that holds it cannot
-- lend it, through a SECURITY DEFINER function, to a manager who lacks it
CREATE ROLE regress_cl_lender;
GRANT EXECUTE ON FUNCTION cdp.client_book_reassign(text, text, bigint[], text) TO regress_cl_lender;
CREATE FUNCTION cl.lend() RETURNS bigint LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
  AS $$ SELECT cdp.client_book_reassign('ann', 'amy') $$;
ALTER FUNCTION cl.lend() OWNER TO regress_cl_lender;
SET ROLE regress_cl_amy;
SELECT cl.lend();                                                    -- amy may not reassign
RESET ROLE;
DROP FUNCTION cl.lend();
REVOKE EXECUTE ON FUNCTION cdp.client_book_reassign(text, text, bigint[], text) FROM regress_cl_lender;
DROP ROLE regress_cl_lender;
SELECT entity, associate, array_agg(customer_id ORDER BY customer_id) AS customers FROM cdp.client_book_entry
 GROUP BY 1, 2 ORDER BY 1, 2;                                        -- A: abe {4}, al {5}, ann {1,3}; B: bea {1}, max {5}

-- ---- 6. store client books ----
-- A1 and A2 share the address book "north": ann and amy (A1) and abe (A2)
-- fill both; A3 has its own (al; max's A book is empty); B1: bea and max.
CREATE TABLE cl.expected_store_book (store text, entity text, customer_id bigint, associate text);
INSERT INTO cl.expected_store_book VALUES
  ('A1', 'A', 1, 'ann'), ('A1', 'A', 3, 'ann'), ('A1', 'A', 4, 'abe'),
  ('A2', 'A', 1, 'ann'), ('A2', 'A', 3, 'ann'), ('A2', 'A', 4, 'abe'),
  ('A3', 'A', 5, 'al'), ('B1', 'B', 1, 'bea'), ('B1', 'B', 5, 'max');
GRANT SELECT ON cl.expected_store_book TO PUBLIC;
SELECT 'missing' AS problem, * FROM (SELECT * FROM cl.expected_store_book
                                     EXCEPT SELECT store, entity, customer_id, associate FROM cdp.store_client_book) m
UNION ALL
SELECT 'unexpected', * FROM (SELECT store, entity, customer_id, associate FROM cdp.store_client_book
                             EXCEPT SELECT * FROM cl.expected_store_book) u;
SELECT count(*) AS rows, 9 AS expected FROM cdp.store_client_book;
SET ROLE regress_cl_al;
SELECT store, count(*) AS customers FROM cdp.store_client_book GROUP BY 1 ORDER BY 1;   -- A1 3, A2 3, A3 1
RESET ROLE;
SET ROLE regress_cl_bea;
SELECT store, count(*) AS customers FROM cdp.store_client_book GROUP BY 1 ORDER BY 1;   -- B1 2
RESET ROLE;
SET ROLE regress_cl_analyst;
SELECT count(*) FROM cdp.store_client_book;
RESET ROLE;

-- ---- 7. client book attributes and filters ----
SET ROLE regress_cl_admin;
SELECT cdp.create_client_attribute('preferred_brand', 'text', 2, true, 'Preferred brand'),
       cdp.create_client_attribute('shoe_size', 'number', 1, true),
       cdp.create_client_attribute('anniversary', 'date', 3, false),
       cdp.create_client_attribute('vip', 'boolean', 4, true);
SELECT cdp.create_client_attribute('Bad Name');
SELECT cdp.create_client_attribute('colour', 'colour');
SELECT cdp.create_client_attribute('vip', 'boolean');
RESET ROLE;
SELECT name, type, display_order, refinable, label FROM cdp.client_attribute ORDER BY display_order;
SET ROLE regress_cl_ann;
SELECT cdp.set_client_attribute(1, 'shoe_size', '38.0'), cdp.set_client_attribute(1, 'preferred_brand', 'Acme'),
       cdp.set_client_attribute(1, 'anniversary', '2010-06-12'), cdp.set_client_attribute(1, 'vip', 'yes'),
       cdp.set_client_attribute(3, 'preferred_brand', 'Acme'), cdp.set_client_attribute(3, 'shoe_size', '41'),
       cdp.set_client_attribute(3, 'vip', 'true'), cdp.set_client_attribute(3, 'vip', NULL);
SELECT cdp.set_client_attribute(1, 'shoe_size', 'big');
SELECT cdp.set_client_attribute(1, 'anniversary', '2010-13-45');
SELECT cdp.set_client_attribute(1, 'vip', 'maybe');
SELECT cdp.set_client_attribute(1, 'colour', 'red');
SELECT cdp.set_client_attribute(999, 'vip', 'true');
SELECT cdp.set_client_attribute(1, 'preferred_brand', repeat('ab', 500000));
RESET ROLE;
SET ROLE regress_cl_abe;
SELECT cdp.set_client_attribute(4, 'preferred_brand', 'Zénith 日本');
RESET ROLE;
SET ROLE regress_cl_al;
SELECT cdp.set_client_attribute(5, 'preferred_brand', 'Acme');
RESET ROLE;
SET ROLE regress_cl_bea;
SELECT cdp.set_client_attribute(1, 'preferred_brand', 'Beta brand');
RESET ROLE;
SET ROLE regress_cl_stranger;
SELECT cdp.set_client_attribute(1, 'vip', 'true');
RESET ROLE;
-- canonical forms: 38.0 → 38, yes → true; vip of 3 cleared
SELECT entity, customer_id, attribute, value FROM cdp.client_attribute_value ORDER BY 1, 2, 3;

CREATE TABLE cl.filter_case (id int, filters jsonb, expected bigint[]);
INSERT INTO cl.filter_case VALUES
  (1, '{}', '{1,3}'),
  (2, '{"attributes": {"preferred_brand": "Acme"}}', '{1,3}'),
  (3, '{"attributes": {"shoe_size": 38}}', '{1}'),
  (4, '{"attributes": {"shoe_size": "38.00"}}', '{1}'),
  (5, '{"attributes": {"shoe_size": [38, 41]}}', '{1,3}'),
  (6, '{"attributes": {"shoe_size": 41, "preferred_brand": "Acme"}}', '{3}'),
  (7, '{"attributes": {"vip": true}}', '{1}'),
  (8, '{"attributes": {"preferred_brand": "acme"}}', '{}'),
  (9, '{"segment": "birthday_next_14_days"}', '{1}'),
  (10, '{"segment": "big_spenders"}', '{1,3}'),
  (11, '{"segment": ["big_spenders", "birthday_next_14_days"]}', '{1}'),
  (12, '{"attributes": {"preferred_brand": "Acme"}, "segment": "birthday_next_14_days"}', '{1}'),
  (13, '{"attributes": {"shoe_size": 41}, "segment": "birthday_next_14_days"}', '{}');
GRANT SELECT ON cl.filter_case TO PUBLIC;
SET ROLE regress_cl_ann;
SELECT c.id, c.filters, c.expected, r.got, r.got = c.expected AS ok
  FROM cl.filter_case c,
       LATERAL (SELECT coalesce(array_agg(b.customer_id ORDER BY b.customer_id), '{}') AS got
                  FROM cdp.client_book('ann', c.filters) b) r
 ORDER BY c.id;
SELECT customer_id, entity, attributes FROM cdp.client_book('ann');
-- bea works for entity B only: for ann she does not exist
SELECT count(*) AS rows_of_bea FROM cdp.client_book('bea');
SELECT * FROM cdp.client_book('ann', '{"attributes": {"anniversary": "2010-06-12"}}');
SELECT * FROM cdp.client_book('ann', '{"attributes": {"colour": "red"}}');
SELECT * FROM cdp.client_book('ann', '{"store": "A1"}');
SELECT * FROM cdp.client_book('ann', '{"segment": "no_such_segment"}');
SELECT * FROM cdp.client_book('ann', '{"segment": 7}');
SELECT * FROM cdp.client_book('ann', '[]');
SELECT * FROM cdp.client_book('ann', '{"attributes": {"shoe_size": {"min": 38}}}');
SELECT * FROM cdp.client_book('ann', '{"attributes": {"shoe_size": "big"}}');
SELECT * FROM cdp.client_book('ann', '{"attributes": {"shoe_size": []}}');
SELECT * FROM cdp.client_book('ghost');
SELECT count(*) AS null_in FROM cdp.client_book(NULL);
SELECT count(*) AS one_mb_value FROM cdp.client_book('ann', jsonb_build_object('attributes', jsonb_build_object('preferred_brand', repeat('ab', 500000))));
RESET ROLE;

-- ---- 8. activity types, activities, notes, the timeline ----
SET ROLE regress_cl_admin;
SELECT cdp.create_client_activity_type('store_visit', 'Store visit'), cdp.create_client_activity_type('phone_call', 'Phone call'),
       cdp.create_client_activity_type('appointment', 'Appointment');
SELECT cdp.create_client_activity_type('Phone Call', 'x');
SELECT cdp.create_client_activity_type('phone_call', 'again');
RESET ROLE;
SET ROLE regress_cl_ann;
SELECT cdp.record_client_activity(1, 'phone_call', 'Called about the new Acme bags', '2026-06-25 10:00+00') AS activity_id;
SELECT cdp.record_client_activity(1, 'fax', 'x');
SELECT cdp.record_client_activity(1, 'phone_call', 'x', now(), '[]');
SELECT cdp.record_client_activity(1, 'phone_call', 'x', now(), '{}', 'B1');
SELECT cdp.record_client_activity(1, 'phone_call', 'x', now(), '{}', 'A2');
SELECT cdp.record_client_activity(1, 'phone_call', 'x', NULL);
SELECT cdp.add_client_note(1, 'Prefers evening appointments') AS note_id;
SELECT cdp.add_client_note(1, ' ');
SELECT cdp.add_client_note(1, repeat('ab', 500000));
SELECT cdp.add_client_note(999, 'x');
RESET ROLE;
SET ROLE regress_cl_abe;
SELECT cdp.add_client_note(1, 'Asked about size 39 in the Zénith boot') AS note_id;
RESET ROLE;
SET ROLE regress_cl_bea;
SELECT cdp.record_client_activity(1, 'store_visit', 'Tried the Beta coat', '2026-06-26 11:00+00') AS activity_id;
SELECT cdp.add_client_note(1, 'B only: loves Beta coats') AS note_id;
RESET ROLE;
SET ROLE regress_cl_amy;
SELECT cdp.add_client_note(3, 'Anniversary gift ideas: watches') AS note_id;
RESET ROLE;
SET ROLE regress_cl_stranger;
SELECT cdp.add_client_note(1, 'x');
RESET ROLE;
SET ROLE regress_cl_max;
SELECT cdp.add_client_note(5, 'x');
RESET ROLE;
-- nothing is copied into cdp.activity
SELECT count(*) AS copied FROM cdp.activity WHERE activity <> 'purchase';

-- the timeline of customer 1 (notes are newest: written now); ann sees A's
-- activity and notes, bea B's, the analyst neither, the superuser all
SET ROLE regress_cl_ann;
SELECT activity, type, summary, source_key FROM cdp.timeline(1);
SELECT source_key FROM cdp.timeline(1, types => '{note}');
SELECT source_key FROM cdp.timeline(1, types => '{clienteling}');
SELECT source_key FROM cdp.timeline(1, types => '{phone_call}');
SELECT source_key FROM cdp.timeline(1, types => '{purchase}');
SELECT source_key FROM cdp.timeline(1, '2026-06-20', '2026-06-30');
RESET ROLE;
SET ROLE regress_cl_bea;
SELECT activity, type, summary, source_key FROM cdp.timeline(1);
RESET ROLE;
SET ROLE regress_cl_analyst;
SELECT activity, type, source_key FROM cdp.timeline(1);
RESET ROLE;
SELECT activity, type, source_key FROM cdp.timeline(1);

-- ---- 9. who reads notes: the entity's setting ----
-- notes of A: 1 (ann on customer 1), 2 (abe on 1), 4 (amy on 3); customers
-- 1 and 3 are in ann's book; amy manages A1, where ann works.  B: note 3.
CREATE FUNCTION cl.notes_seen(r text) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
  seen bigint[];
BEGIN
  EXECUTE format('SET LOCAL ROLE %I', r);
  SELECT coalesce(array_agg(note_id ORDER BY note_id), '{}') INTO seen FROM cdp.client_note;
  RESET ROLE;
  RETURN seen;
END $$;
CREATE TABLE cl.note_case (setting text, who text, expected bigint[]);
INSERT INTO cl.note_case VALUES
  ('entity', 'regress_cl_ann', '{1,2,4}'), ('entity', 'regress_cl_abe', '{1,2,4}'), ('entity', 'regress_cl_amy', '{1,2,4}'),
  ('entity', 'regress_cl_al', '{1,2,4}'), ('entity', 'regress_cl_bea', '{3}'), ('entity', 'regress_cl_max', '{1,2,3,4}'),
  ('entity', 'regress_cl_admin', '{1,2,3,4}'), ('entity', 'regress_cl_stranger', '{}'),
  ('owner_and_managers', 'regress_cl_ann', '{1,2,4}'), ('owner_and_managers', 'regress_cl_abe', '{2}'),
  ('owner_and_managers', 'regress_cl_amy', '{1,2,4}'), ('owner_and_managers', 'regress_cl_al', '{}'),
  ('owner_and_managers', 'regress_cl_bea', '{3}'), ('owner_and_managers', 'regress_cl_max', '{3}'),
  ('owner_and_managers', 'regress_cl_admin', '{1,2,3,4}'), ('owner_and_managers', 'regress_cl_stranger', '{}');
SELECT who, expected, cl.notes_seen(who) AS seen, cl.notes_seen(who) = expected AS ok
  FROM cl.note_case WHERE setting = 'entity' ORDER BY who;
SELECT cdp.alter_legal_entity('A', notes_visible_to => 'owner_and_managers');
SELECT who, expected, cl.notes_seen(who) AS seen, cl.notes_seen(who) = expected AS ok
  FROM cl.note_case WHERE setting = 'owner_and_managers' ORDER BY who;
-- the timeline follows: abe sees his own note only
SET ROLE regress_cl_abe;
SELECT source_key FROM cdp.timeline(1, types => '{note}');
RESET ROLE;
SELECT cdp.alter_legal_entity('A', notes_visible_to => 'entity');

-- ---- 10. the customer card ----
-- slots: measures first (in position order), then attributes in display
-- order (shoe_size 1, preferred_brand 2, anniversary 3, vip 4) until three
CREATE FUNCTION cl.slots(card jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg((s ->> 'kind') || ':' || (s ->> 'name') || '=' || coalesce(s ->> 'value', 'null'), ', ' ORDER BY o)
    FROM jsonb_array_elements(card -> 'slots') WITH ORDINALITY AS x(s, o)
$$;
CREATE TABLE cl.card_case (measures text[], customer_id bigint, who text, expected text);
INSERT INTO cl.card_case VALUES
  ('{}', 1, 'regress_cl_ann', 'attribute:shoe_size=38, attribute:preferred_brand=Acme, attribute:anniversary=2010-06-12'),
  ('{}', 4, 'regress_cl_abe', 'attribute:shoe_size=null, attribute:preferred_brand=Zénith 日本, attribute:anniversary=null'),
  ('{}', 1, 'regress_cl_bea', 'attribute:shoe_size=null, attribute:preferred_brand=Beta brand, attribute:anniversary=null'),
  ('{total_spend}', 1, 'regress_cl_ann', 'measure:total_spend=210, attribute:shoe_size=38, attribute:preferred_brand=Acme'),
  ('{total_spend}', 4, 'regress_cl_abe', 'measure:total_spend=null, attribute:shoe_size=null, attribute:preferred_brand=Zénith 日本'),
  ('{total_spend,orders}', 1, 'regress_cl_ann', 'measure:total_spend=210, measure:orders=2, attribute:shoe_size=38'),
  ('{total_spend,orders}', 3, 'regress_cl_amy', 'measure:total_spend=250, measure:orders=1, attribute:shoe_size=41'),
  ('{biggest,total_spend,orders}', 1, 'regress_cl_ann', 'measure:biggest=120, measure:total_spend=210, measure:orders=2'),
  ('{biggest,total_spend,orders}', 1, 'regress_cl_bea', 'measure:biggest=120, measure:total_spend=210, measure:orders=2');
CREATE FUNCTION cl.card_as(r text, c bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  card jsonb;
BEGIN
  EXECUTE format('SET LOCAL ROLE %I', r);
  card := cdp.customer_card(c);
  RESET ROLE;
  RETURN card;
END $$;
CREATE TABLE cl.card_result (measures text[], customer_id bigint, who text, expected text, got text);
DO $$
DECLARE
  m text[];
BEGIN
  FOR m IN SELECT DISTINCT measures FROM cl.card_case ORDER BY 1 LOOP
    PERFORM cdp.set_card_measures(m);
    INSERT INTO cl.card_result
    SELECT c.measures, c.customer_id, c.who, c.expected, cl.slots(cl.card_as(c.who, c.customer_id))
      FROM cl.card_case c WHERE c.measures = m;
  END LOOP;
END $$;
SELECT cardinality(measures) AS measures, customer_id, who, got, got = expected AS ok
  FROM cl.card_result ORDER BY 1, 3, 2;
-- the whole card (written_at of the notes left out: they were written now)
SELECT cdp.set_card_measures('{total_spend}', '{Total spend}');
SET ROLE regress_cl_ann;
SELECT jsonb_pretty(card #- '{notes,0,written_at}' #- '{notes,1,written_at}') FROM cdp.customer_card(1) card;
SELECT jsonb_array_length(cdp.customer_card(1, notes => 1) -> 'notes') AS one_note,
       jsonb_array_length(cdp.customer_card(1, notes => 0) -> 'notes') AS no_note;
SELECT cdp.customer_card(999);
SELECT cdp.customer_card(1, 'Z');
SELECT cdp.customer_card(1, notes => -1);
SELECT cdp.customer_card(NULL) IS NULL AS null_in;
RESET ROLE;
SET ROLE regress_cl_max;
SELECT cdp.customer_card(1);                                         -- works for two entities
SELECT cdp.customer_card(1, 'B') -> 'notes' -> 0 ->> 'note' AS latest_b_note;
RESET ROLE;
-- bea cannot see entity A at all
SET ROLE regress_cl_bea;
SELECT cdp.customer_card(1, 'A');
RESET ROLE;
SET ROLE regress_cl_analyst;
SELECT cdp.customer_card(1, 'A');
RESET ROLE;
SET ROLE regress_cl_ann;
SELECT cdp.set_card_measures('{orders}');
RESET ROLE;
SELECT cdp.set_card_measures('{nope}');
SELECT cdp.set_card_measures('{orders,biggest,total_spend,orders}');
SELECT cdp.set_card_measures('{orders,orders}');
-- a dropped measure leaves the card
SELECT cdp.set_card_measures('{biggest,total_spend}');
SELECT cdp.drop_measure('biggest');
SELECT position, measure, label FROM cdp.card_measure ORDER BY position;
-- dropped measures leave gaps: the measures still come first
SELECT cdp.create_measure('cl_tmp1', 'count(purchase)'), cdp.create_measure('cl_tmp2', 'count(purchase)');
SELECT cdp.set_card_measures('{cl_tmp1,cl_tmp2,total_spend}');
SELECT cdp.drop_measure('cl_tmp1'), cdp.drop_measure('cl_tmp2');
SELECT position, measure FROM cdp.card_measure ORDER BY position;  -- 3 total_spend
SELECT jsonb_path_query_array(cdp.customer_card(1, 'A'), '$.slots[*].kind') AS slots;  -- measure, attribute, attribute
DELETE FROM cdp.card_measure;
INSERT INTO cdp.card_measure VALUES (2, 'total_spend', 'total spend');

-- ---- 11. row-level security at a glance (the TAP test checks every relation as real logins) ----
CREATE FUNCTION cl.rows_as(r text) RETURNS TABLE(relation text, rows bigint, foreign_rows bigint) LANGUAGE plpgsql AS $$
DECLARE
  t text;
  own text[];
BEGIN
  own := CASE r WHEN 'regress_cl_ann' THEN '{A}' WHEN 'regress_cl_bea' THEN '{B}' END;
  EXECUTE format('SET LOCAL ROLE %I', r);
  FOREACH t IN ARRAY ARRAY['legal_entity', 'address_book', 'store', 'associate_store', 'client_book_entry',
                           'client_attribute_value', 'client_activity', 'client_note'] LOOP
    relation := t;
    EXECUTE format('SELECT count(*), count(*) FILTER (WHERE NOT entity = ANY (%L)) FROM cdp.%I', own, t) INTO rows, foreign_rows;
    RETURN NEXT;
  END LOOP;
  relation := 'store_client_book';
  EXECUTE format('SELECT count(*), count(*) FILTER (WHERE NOT entity = ANY (%L)) FROM cdp.store_client_book', own) INTO rows, foreign_rows;
  RETURN NEXT;
  relation := 'associate';
  SELECT count(*), count(*) FILTER (WHERE a.associate NOT IN (SELECT w.associate FROM cdp.associate_store w))
    INTO rows, foreign_rows FROM cdp.associate a;
  RETURN NEXT;
  RESET ROLE;
END $$;
SELECT * FROM cl.rows_as('regress_cl_ann');
SELECT * FROM cl.rows_as('regress_cl_bea');

-- ---- 12. merged customer ids: books, values, activities and notes follow ----
-- Fay (6) takes Eve's (5) address: they merge, 5 survives (tie: smaller id).
-- 6 in abe's book, 5 in al's: the one-book rule keeps al's.  shoe_size: 5 has
-- 39 (kept), 6 has 37 (dropped); vip: only 6 has it (moves).
SET ROLE regress_cl_admin;
SELECT cdp.client_book_add('abe', 6);
RESET ROLE;
SET ROLE regress_cl_abe;
SELECT cdp.set_client_attribute(6, 'shoe_size', '37'), cdp.set_client_attribute(6, 'vip', 'false');
SELECT cdp.add_client_note(6, 'Fay: call back on Monday') AS note_id;
SELECT cdp.record_client_activity(6, 'appointment', 'Fitting', '2026-06-28 15:00+00') AS activity_id;
RESET ROLE;
SET ROLE regress_cl_al;
SELECT cdp.set_client_attribute(5, 'shoe_size', '39');
RESET ROLE;
UPDATE cl.people SET email = 'eve@mail.net' WHERE id = 'P6';
\o /dev/null
CALL cdp.unify();
\o
SELECT old_id, new_id, reason FROM cdp.customer_id_history WHERE reason <> 'created' ORDER BY 1;
SELECT entity, associate, array_agg(customer_id ORDER BY customer_id) AS customers FROM cdp.client_book_entry
 GROUP BY 1, 2 ORDER BY 1, 2;                                        -- abe {4}, al {5}: 6 is gone with its id
SELECT entity, customer_id, attribute, value FROM cdp.client_attribute_value WHERE customer_id IN (5, 6) ORDER BY 1, 2, 3;
SELECT customer_id, note FROM cdp.client_note WHERE note LIKE 'Fay%';
SELECT customer_id, type FROM cdp.client_activity WHERE type = 'appointment';

-- ---- 13. fuzz: random text through the inputs; only the documented errors ----
CREATE TABLE cl.fuzz AS
SELECT g, string_agg((ARRAY['a', 'Z', '7', '0', '.', '-', '+', 'e', ' ', '''', '"', '\', '{', '}', '[', ']', ':', ',',
                            'é', 'ß', 'Ø', '日本', '😀', E'\t', '2026-', '12', '/', 'true', 'NaN', 'Infinity'])[1 + floor(random() * 30)::int + k * 0],
                  '') AS s
  FROM generate_series(1, 2000) g, LATERAL generate_series(0, floor(random() * 100)::int) k
 GROUP BY g;
GRANT SELECT ON cl.fuzz TO PUBLIC;
CREATE FUNCTION cl.state(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN '00000';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;
-- text values come back exactly as set
CREATE FUNCTION cl.round_trips() RETURNS TABLE(text_values bigint, changed bigint) LANGUAGE plpgsql AS $$
DECLARE
  f record;
  got text;
BEGIN
  text_values := 0;
  changed := 0;
  FOR f IN SELECT s FROM cl.fuzz ORDER BY g LOOP
    PERFORM cdp.set_client_attribute(3, 'preferred_brand', f.s);
    SELECT v.value INTO got FROM cdp.client_attribute_value v
     WHERE v.entity = 'A' AND v.customer_id = 3 AND v.attribute = 'preferred_brand';
    text_values := text_values + 1;
    IF got IS DISTINCT FROM f.s THEN
      changed := changed + 1;
    END IF;
  END LOOP;
  RETURN NEXT;
END $$;
SET ROLE regress_cl_ann;
SELECT count(*) AS inputs,
       count(*) FILTER (WHERE cl.state(format('SELECT cdp.set_client_attribute(3, %L, %L)', a, s)) NOT IN ('00000', '22P02')) AS bad_attribute,
       count(*) FILTER (WHERE cl.state(format('SELECT cdp.add_client_note(3, %L)', s)) NOT IN ('00000', '22023')) AS bad_note,
       count(*) FILTER (WHERE cl.state(format('SELECT count(*) FROM cdp.client_book(%L, %L)', 'ann',
                                              jsonb_build_object('attributes', jsonb_build_object(r, s))))
                        NOT IN ('00000', '22P02')) AS bad_filter,
       count(*) FILTER (WHERE cl.state(format('SELECT count(*) FROM cdp.client_book(%L)', s)) NOT IN ('42704')) AS bad_associate,
       count(*) FILTER (WHERE cl.state(format('SELECT cdp.customer_card(3, %L)', s)) NOT IN ('42704')) AS bad_entity
  FROM (SELECT s, (ARRAY['preferred_brand', 'shoe_size', 'anniversary', 'vip'])[1 + g % 4] AS a,
               (ARRAY['preferred_brand', 'shoe_size', 'vip'])[1 + g % 3] AS r FROM cl.fuzz) f;
SELECT * FROM cl.round_trips();
RESET ROLE;

-- ---- clean up ----
DELETE FROM cdp.client_note;
DELETE FROM cdp.client_activity;
DELETE FROM cdp.client_attribute_value;
DELETE FROM cdp.client_book_entry;
DELETE FROM cdp.client_activity_type;
DELETE FROM cdp.client_attribute;
DELETE FROM cdp.card_measure;
DELETE FROM cdp.associate_store;
DELETE FROM cdp.associate;
DELETE FROM cdp.store;
DELETE FROM cdp.address_book;
DELETE FROM cdp.legal_entity;
SELECT cdp.drop_segment(name) FROM cdp.segment ORDER BY name;
SELECT cdp.drop_measure(name) FROM cdp.measure ORDER BY name;
\o /dev/null
CALL cdp.refresh_measures('2026-07-10 00:00+00');
\o
SELECT cdp.drop_activity(name) FROM cdp.activity_def WHERE NOT link ? 'journey' ORDER BY name;
SELECT cdp.drop_match_rule('same email');
SELECT cdp.drop_source('crm');
\o /dev/null
CALL cdp.unify();
\o
DROP SCHEMA cl CASCADE;
DROP ROLE regress_cl_ann, regress_cl_abe, regress_cl_amy, regress_cl_al, regress_cl_bea, regress_cl_max,
          regress_cl_admin, regress_cl_stranger, regress_cl_analyst, regress_cl_outsider;
