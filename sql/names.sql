--
-- names: the nickname table and the functions that use it
-- (cdp.names_equivalent, cdp.name_variants) and cdp.name_similarity.
-- name_similarity's expected values are worked by hand from its documented
-- formula: words paired one to one by best score (equal 1, nickname 0.95,
-- initial 0.85, otherwise Jaro-Winkler), sum / (k + 0.25 * (K - k)), and
-- for different word counts the words joined, whichever is higher.
--
SET extra_float_digits = 0;

-- the shipped nickname list (data/nicknames.csv)
SELECT count(*) AS builtin_pairs, count(DISTINCT name) AS formal_names
  FROM cdp.nickname WHERE source = 'builtin';

-- equivalence: equal, nickname and formal name, two nicknames of one name;
-- case and accents do not matter; word by word for several words
SELECT a, b, expected, cdp.names_equivalent(a, b) AS got,
       cdp.names_equivalent(a, b) = expected AS ok,
       cdp.names_equivalent(b, a) = expected AS symmetric
  FROM (VALUES
    ('Bob', 'Robert', true),
    ('Liz', 'Elizabeth', true),
    ('Bill', 'William', true),
    ('Peggy', 'Margaret', true),
    ('Bob', 'Rob', true),                 -- both stand for Robert
    ('BOB', 'robert', true),
    ('Élizabeth', 'Liz', true),
    ('Bob Smith', 'Robert Smith', true),
    ('Bob Smith', 'Robert Jones', false),
    ('Bob', 'Bob Smith', false),          -- word counts differ
    ('Bob', 'Alice', false),
    ('Zyxwv', 'Zyxwv', true),             -- unknown but equal
    ('', '', true)
  ) AS t(a, b, expected)
 ORDER BY a COLLATE "C", b COLLATE "C";

-- variants: the name, the formal names it stands for and their nicknames
SELECT 'robert' = ANY (cdp.name_variants('Bob')) AS bob_has_robert,
       'rob' = ANY (cdp.name_variants('Bob')) AS bob_has_rob,
       'bob' = ANY (cdp.name_variants('Robert')) AS robert_has_bob,
       cdp.name_variants('Zyxwv') AS unknown,
       cdp.name_variants('') AS empty,
       cdp.name_variants('Peggy') = (SELECT array_agg(DISTINCT n ORDER BY n)
                                       FROM (SELECT 'peggy' AS n
                                             UNION SELECT name FROM cdp.nickname WHERE nickname = 'peggy'
                                             UNION SELECT nickname FROM cdp.nickname
                                                    WHERE name IN (SELECT name FROM cdp.nickname WHERE nickname = 'peggy')) s)
         AS peggy_matches_table;

-- users extend the table; the change is seen from the next statement on
BEGIN;
SELECT cdp.names_equivalent('Sasha', 'Alexander') AS before_insert;
INSERT INTO cdp.nickname (name, nickname) VALUES ('alexander', 'sasha');
SELECT cdp.names_equivalent('Sasha', 'Alexander') AS after_insert,
       'sasha' = ANY (cdp.name_variants('Alexander')) AS in_variants;
DELETE FROM cdp.nickname WHERE nickname = 'sasha' AND source = 'user';
SELECT cdp.names_equivalent('Sasha', 'Alexander') AS after_delete;
ROLLBACK;

-- the table keeps its data clean
INSERT INTO cdp.nickname (name, nickname) VALUES ('Robert', 'bob');
INSERT INTO cdp.nickname (name, nickname) VALUES ('ann', 'ann');

-- name_similarity, worked by hand:
--   John Smith / Jane Smith: jaro(john, jane) = (2/4 + 2/4 + 1)/3, no boost
--     below 0.7: (0.666667 + 1) / 2 = 0.833333
--   Mary Smith-Jones / Mary Smith: words 2 / (2 + 0.25) = 0.888889; joined
--     marysmithjones / marysmith: m = 9: jaro = (9/14 + 1 + 1)/3 = 0.880952,
--     prefix 4: 0.880952 + 0.4 * 0.119048 = 0.928571
--   Mary Ann Smith / Maryann Smith: joined words are equal: 1
--   Smith / John Smith: words 1 / 1.25 = 0.8; joined smith / johnsmith
--     scores 0.437: 0.8
SELECT a, b, expected, round(cdp.name_similarity(a, b)::numeric, 6) AS got,
       abs(cdp.name_similarity(a, b) - expected) < 1e-6 AS ok,
       cdp.name_similarity(a, b) = cdp.name_similarity(b, a) AS symmetric
  FROM (VALUES
    ('John Smith', 'John Smith', 1.0),
    ('Smith, John', 'John Smith', 1.0),
    ('Dr. John Smith', 'John Smith', 1.0),
    ('John Smith Jr.', 'Smith, John', 1.0),
    ('José García-López', 'Jose Garcia Lopez', 1.0),
    ('Bob Smith', 'Robert Smith', 0.975),
    ('J. Smith', 'John Smith', 0.925),
    ('John Smith', 'Jane Smith', 0.833333),
    ('Mary Smith-Jones', 'Mary Smith', 0.928571),
    ('Mary Ann Smith', 'Maryann Smith', 1.0),
    ('Smith', 'John Smith', 0.8),
    ('', '', 1.0),
    ('John', '', 0.0)
  ) AS t(a, b, expected)
 ORDER BY a COLLATE "C", b COLLATE "C";

-- an ordinary role can use the kernels and read the nicknames, not change
-- them (in a new session, so that the nickname cache is loaded by that role)
CREATE ROLE regress_cdp_user;
\c
SET ROLE regress_cdp_user;
SELECT cdp.names_equivalent('Bob', 'Robert') AS user_equivalent,
       round(cdp.name_similarity('Bob Smith', 'Robert Smith')::numeric, 3) AS user_similarity,
       cdp.levenshtein('kitten', 'sitting') AS user_levenshtein;
INSERT INTO cdp.nickname (name, nickname) VALUES ('alexander', 'sasha');
RESET ROLE;
DROP ROLE regress_cdp_user;

-- NULL in, NULL out
SELECT cdp.name_similarity(NULL, 'a') IS NULL AS ns, cdp.names_equivalent('a', NULL) IS NULL AS ne,
       cdp.name_variants(NULL) IS NULL AS nv;

-- long inputs: a 1 MB name against a short one works; two huge ones are refused
SELECT round(cdp.name_similarity(repeat('ab ', 333333), 'ab')::numeric, 6) AS ns_1mb;
\set VERBOSITY default
SELECT cdp.name_similarity(repeat('a ', 20000), repeat('b ', 20000));
SELECT sqlstate_of($$SELECT cdp.name_similarity(repeat('a ', 20000), repeat('b ', 20000))$$);

-- the trigger function cannot be called on its own
SELECT cdp.nickname_changed();
SELECT sqlstate_of($$SELECT cdp.nickname_changed()$$);
