--
-- merge: the merge-policy aggregates of unification (cdp.most_recent,
-- least_recent, by_priority, most_filled, longest, most_frequent, collect).
-- Covers each policy with its expected value written next to the inputs,
-- ties (the value whose text form sorts first in byte order wins), NULL
-- values and NULL keys, element types other than text, independence from
-- the row order, a parallel plan (Partial / Finalize Aggregate) giving the
-- serial results, and the text and binary forms of cdp.merge_state with
-- their error cases.
--
SET extra_float_digits = 0;
SET DateStyle = ISO;

-- most_recent / least_recent: the latest / earliest timestamp wins
SELECT cdp.most_recent(v, at) = 'b@new.com' AS most_recent_ok,
       cdp.least_recent(v, at) = 'a@old.com' AS least_recent_ok
  FROM (VALUES ('a@old.com', timestamptz '2020-01-01 00:00+00'),
               ('b@new.com', timestamptz '2024-06-01 00:00+00'),
               ('c@mid.com', timestamptz '2022-03-15 12:00+00')) AS t(v, at);

-- by_priority: the smallest priority number wins (1 beats 100)
SELECT cdp.by_priority(v, p) AS by_priority   -- crm
  FROM (VALUES ('web', 100), ('crm', 1), ('pos', 10)) AS t(v, p);

-- most_filled: the value of the record with the most non-null attributes
SELECT cdp.most_filled(v, f) AS most_filled   -- Ann Lee
  FROM (VALUES ('A. Lee', 3), ('Ann Lee', 7), ('Ann', 5)) AS t(v, f);

-- longest: most characters (not bytes: 'Zoë' has 3 characters, 4 bytes)
SELECT cdp.longest(v) AS longest   -- Robert
  FROM (VALUES ('Bob'), ('Robert'), ('Rob')) AS t(v);
SELECT cdp.longest(v) AS longest   -- abcd
  FROM (VALUES ('Zoë'), ('abcd')) AS t(v);

-- most_frequent
SELECT cdp.most_frequent(v) AS most_frequent   -- Paris
  FROM (VALUES ('Paris'), ('Lyon'), ('Paris'), ('Nice'), ('Paris'), ('Lyon')) AS t(v);

-- collect: distinct values, sorted in byte order (upper case before lower)
SELECT cdp.collect(v) AS collect   -- {Bob,ann,bob}
  FROM (VALUES ('bob'), ('ann'), ('Bob'), ('bob')) AS t(v);

-- ties: the text form first in byte order wins, for every policy
SELECT cdp.most_recent(v, at) AS most_recent,     -- Ann (Ann < Bob)
       cdp.least_recent(v, at) AS least_recent,   -- Ann
       cdp.by_priority(v, p) AS by_priority,      -- Ann
       cdp.most_filled(v, p) AS most_filled,      -- Ann
       cdp.longest(v) AS longest,                 -- Ann
       cdp.most_frequent(v) AS most_frequent      -- Ann
  FROM (VALUES ('Bob', timestamptz '2024-01-01 00:00+00', 1),
               ('Ann', timestamptz '2024-01-01 00:00+00', 1)) AS t(v, at, p);
-- byte order, not collation: 'Zed' (Z = 0x5A) beats 'abe' (a = 0x61);
-- a prefix sorts first: 'ab' beats 'abc' only when the key ties
SELECT cdp.by_priority(v, 5) AS by_priority,   -- Zed
       cdp.most_frequent(v) AS most_frequent   -- Zed
  FROM (VALUES ('abe'), ('Zed')) AS t(v);
SELECT cdp.most_recent(v, timestamptz '2024-01-01 00:00+00') AS prefix_first   -- ab
  FROM (VALUES ('abc'), ('ab')) AS t(v);
-- numbers tie by their text form too: 10 sorts before 9 in byte order
SELECT cdp.most_frequent(v) AS most_frequent   -- 10
  FROM (VALUES (9), (10), (9), (10)) AS t(v);

-- NULL values are ignored; a NULL key loses to any key; all NULL gives NULL
SELECT cdp.most_recent(v, at) AS most_recent,   -- old (the NULL value is skipped)
       cdp.by_priority(v, p) AS by_priority     -- old (NULL priority loses)
  FROM (VALUES ('old', timestamptz '2020-01-01 00:00+00', 50),
               (NULL, timestamptz '2025-01-01 00:00+00', 1),
               ('new', NULL, NULL)) AS t(v, at, p);
SELECT cdp.most_recent(v, at) AS only_null_keys   -- a (keys all NULL: byte order)
  FROM (VALUES ('b', NULL::timestamptz), ('a', NULL)) AS t(v, at);
SELECT cdp.most_recent(v, now()) IS NULL AS most_recent_null,
       cdp.least_recent(v, now()) IS NULL AS least_recent_null,
       cdp.by_priority(v, 1) IS NULL AS by_priority_null,
       cdp.most_filled(v, 1) IS NULL AS most_filled_null,
       cdp.longest(v) IS NULL AS longest_null,
       cdp.most_frequent(v) IS NULL AS most_frequent_null,
       cdp.collect(v) IS NULL AS collect_null
  FROM (VALUES (NULL::text), (NULL)) AS t(v);
-- no rows at all
SELECT cdp.most_frequent(v) AS no_rows, cdp.collect(v) AS no_rows_collect
  FROM (SELECT 'x'::text WHERE false) AS t(v);
SELECT cdp.collect(v) AS collect   -- {a} (NULL skipped)
  FROM (VALUES (NULL::text), ('a')) AS t(v);

-- types other than text keep their type
SELECT cdp.most_recent(v, at) AS int_value,   -- 42
       pg_typeof(cdp.most_recent(v, at)) AS type
  FROM (VALUES (7, timestamptz '2020-01-01 00:00+00'),
               (42, timestamptz '2021-01-01 00:00+00')) AS t(v, at);
SELECT cdp.least_recent(v, at) AS date_value,   -- 1990-05-17
       pg_typeof(cdp.least_recent(v, at)) AS type
  FROM (VALUES (date '1990-05-17', timestamptz '2019-01-01 00:00+00'),
               (date '1990-07-15', timestamptz '2023-01-01 00:00+00')) AS t(v, at);
SELECT cdp.longest(v) AS numeric_value,   -- 3.14159
       pg_typeof(cdp.longest(v)) AS type
  FROM (VALUES (3.14), (3.14159), (2.5)) AS t(v);
-- numeric values are compared by text form: 1.0 and 1.00 are different
SELECT cdp.collect(v) AS numeric_collect   -- {1.0,1.00,2}
  FROM (VALUES (2.0 - 1.0), (1.00), (2), (1.0)) AS t(v);
SELECT cdp.collect(v) AS int_collect   -- {1,10,2} (byte order of text forms)
  FROM (VALUES (2), (10), (1), (2)) AS t(v);
SELECT cdp.most_frequent(v) AS date_frequent   -- 2020-02-29
  FROM (VALUES (date '2020-02-29'), (date '2021-03-01'), (date '2020-02-29')) AS t(v);
SELECT cdp.by_priority(v, p) AS by_priority_int   -- -5
  FROM (VALUES (100, 3), (-5, 2), (7, NULL)) AS t(v, p);

-- the same rows in two different orders give the same results
CREATE TABLE merge_rows AS
SELECT i,
       (ARRAY['ann','bob','cy','dee','Eve','fay'])[1 + (i * 7) % 6] AS v,
       timestamptz '2024-01-01 00:00+00' + ((i * 37) % 11) * interval '1 day' AS at,
       (i * 13) % 5 AS p
  FROM generate_series(1, 1000) AS i;
SELECT (SELECT ROW(cdp.most_recent(v, at), cdp.least_recent(v, at), cdp.by_priority(v, p),
                   cdp.most_filled(v, p), cdp.longest(v), cdp.most_frequent(v), cdp.collect(v))
          FROM (SELECT * FROM merge_rows ORDER BY i) s)
     = (SELECT ROW(cdp.most_recent(v, at), cdp.least_recent(v, at), cdp.by_priority(v, p),
                   cdp.most_filled(v, p), cdp.longest(v), cdp.most_frequent(v), cdp.collect(v))
          FROM (SELECT * FROM merge_rows ORDER BY i DESC) s) AS same_in_both_orders,
       (SELECT ROW(cdp.most_recent(v, at), cdp.by_priority(v, p), cdp.most_frequent(v), cdp.collect(v))
          FROM (SELECT * FROM merge_rows ORDER BY md5(i::text)) s)
     = (SELECT ROW(cdp.most_recent(v, at), cdp.by_priority(v, p), cdp.most_frequent(v), cdp.collect(v))
          FROM (SELECT * FROM merge_rows ORDER BY v DESC, i) s) AS same_shuffled;

-- as window aggregates (the state is shared by the frames of a partition)
SELECT g, cdp.most_frequent(v) OVER (PARTITION BY g ORDER BY i) AS running
  FROM (VALUES (1, 1, 'x'), (1, 2, 'y'), (1, 3, 'y'), (2, 4, 'z')) AS t(g, i, v)
 ORDER BY i;

-- grouped, as unification uses them
SELECT id, cdp.most_recent(email, at) AS email, cdp.by_priority(name, prio) AS name,
       cdp.collect(phone) AS phones
  FROM (VALUES (1, 'a@x.com', timestamptz '2021-01-01 00:00+00', 'Ann', 2, '+15550001'),
               (1, 'ann@y.com', timestamptz '2023-01-01 00:00+00', 'Anne', 1, '+15550002'),
               (2, 'b@z.com', timestamptz '2022-01-01 00:00+00', 'Bo', 1, NULL)) AS t(id, email, at, name, prio, phone)
 GROUP BY id ORDER BY id;

-- parallel plan: partial aggregates in the workers, combined in the leader
CREATE TABLE merge_big AS
SELECT i,
       'v' || ((i * 7919) % 1009) AS v,
       timestamptz '2020-01-01 00:00+00' + ((i::bigint * 104729) % 100003) * interval '1 minute' AS at,
       (i * 31) % 997 AS p,
       (i * 17) % 23 AS f
  FROM generate_series(1, 100000) AS i;
ANALYZE merge_big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
SELECT cdp.most_recent(v, at), cdp.least_recent(v, at), cdp.by_priority(v, p),
       cdp.most_filled(v, f), cdp.longest(v), cdp.most_frequent(v), cdp.collect(v)
  FROM merge_big;
CREATE TEMP TABLE merge_parallel AS
SELECT cdp.most_recent(v, at) AS most_recent, cdp.least_recent(v, at) AS least_recent,
       cdp.by_priority(v, p) AS by_priority, cdp.most_filled(v, f) AS most_filled,
       cdp.longest(v) AS longest, cdp.most_frequent(v) AS most_frequent,
       cdp.collect(v) AS collect
  FROM merge_big;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE merge_serial AS
SELECT cdp.most_recent(v, at) AS most_recent, cdp.least_recent(v, at) AS least_recent,
       cdp.by_priority(v, p) AS by_priority, cdp.most_filled(v, f) AS most_filled,
       cdp.longest(v) AS longest, cdp.most_frequent(v) AS most_frequent,
       cdp.collect(v) AS collect
  FROM merge_big;
SELECT p.most_recent = s.most_recent AS most_recent,
       p.least_recent = s.least_recent AS least_recent,
       p.by_priority = s.by_priority AS by_priority,
       p.most_filled = s.most_filled AS most_filled,
       p.longest = s.longest AS longest,
       p.most_frequent = s.most_frequent AS most_frequent,
       p.collect = s.collect AS collect,
       cardinality(s.collect) AS distinct_values   -- 1009
  FROM merge_parallel p, merge_serial s;
SELECT most_recent, least_recent, by_priority, most_filled, longest, most_frequent
  FROM merge_serial;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- the state's text form, and its round trip through input and output
SELECT cdp.merge_most_recent_trans(NULL, 'Ann'::text, timestamptz '2024-05-01 10:00+02') AS state;
SELECT cdp.merge_by_priority_trans(NULL, 'say "hi" \o/'::text, NULL) AS state;
SELECT cdp.merge_most_frequent_trans(cdp.merge_most_frequent_trans(
         cdp.merge_most_frequent_trans(NULL, 'b'::text), 'a'::text), 'b'::text) AS state;
SELECT s::cdp.merge_state AS round_trip, s::cdp.merge_state::text = s AS same
  FROM (VALUES ('most_recent(2024-05-01 08:00:00+00,"Ann")'),
               ('least_recent(null,"x")'),
               ('least_recent(infinity,"x")'),
               ('by_priority(1,"Ann")'),
               ('most_filled(-3,"a\\b\"c")'),
               ('longest("Zoë")'),
               ('most_frequent("a":1,"b":2)'),
               ('collect("A","a","b")')) AS t(s);
-- list items in any order, duplicates added up
SELECT 'most_frequent("b":2,"a":1,"b":3)'::cdp.merge_state AS normalised;
-- a state can be finished by the final function
SELECT cdp.merge_final('most_frequent("x":1,"y":5)'::cdp.merge_state, NULL::text) AS final;   -- y
SELECT cdp.merge_final_array('collect("3","1")'::cdp.merge_state, NULL::int) AS final;   -- {1,3}
SELECT cdp.merge_combine('by_priority(5,"a")', 'by_priority(2,"b")') AS combined;
SELECT cdp.merge_combine('collect("b","c")', 'collect("a","b")') AS combined;
-- the binary form round trip (send, then receive), through COPY BINARY
CREATE TABLE merge_states (s cdp.merge_state);
INSERT INTO merge_states VALUES
  ('most_recent(2024-05-01 08:00:00+00,"Ann")'), ('least_recent(null,"x")'),
  ('by_priority(-7,"Zoë")'), ('most_filled(3,"a\\b")'), ('longest("abc")'),
  ('most_frequent("a":1,"b":2)'), ('collect("A","a","b")');
DO $$
BEGIN
  EXECUTE format('COPY merge_states TO %L (FORMAT binary)',
                 current_setting('data_directory') || '/merge_states.bin');
  EXECUTE format('COPY merge_states FROM %L (FORMAT binary)',
                 current_setting('data_directory') || '/merge_states.bin');
END $$;
SELECT s::text AS state, count(*) AS copies   -- each twice, unchanged
  FROM merge_states GROUP BY 1 ORDER BY 1;
DROP TABLE merge_states;

-- malformed text forms: 22P02
SELECT 'no_such(1,"a")'::cdp.merge_state;
SELECT 'by_priority(x,"a")'::cdp.merge_state;
SELECT 'by_priority(1,a)'::cdp.merge_state;
SELECT 'by_priority(1,"a"'::cdp.merge_state;
SELECT 'collect("a":0)'::cdp.merge_state;
SELECT 'collect()'::cdp.merge_state;
SELECT 'longest("a") x'::cdp.merge_state;
SELECT s, sqlstate_of(format('SELECT %L::cdp.merge_state', s)) AS sqlstate
  FROM (VALUES ('no_such(1,"a")'), ('by_priority(x,"a")'), ('by_priority(99999999999,"a")'),
               ('by_priority(1,a)'), ('by_priority(1,"a'), ('most_recent("a")'),
               ('collect("a":0)'), ('collect("a" "b")'), ('collect()'),
               ('longest("a") x'), (''), ('most_recent(not a time,"a")')) AS t(s);
SELECT 'most_recent(not a time,"a")'::cdp.merge_state;

DROP TABLE merge_rows, merge_big;
