--
-- distance: cdp.levenshtein (with and without max_distance),
-- cdp.osa_distance and cdp.damerau_levenshtein.
-- Reference values: the jellyfish project's test data (MIT licence, see
-- test/data/jellyfish/LICENSE) and hand-worked cases.  Each query lists
-- the cases with the expected value and flags any disagreement.
--
CREATE TEMP TABLE ref (a text, b text, expected int);
-- long strings are shown as their first characters and their length
CREATE FUNCTION pg_temp.short(s text) RETURNS text LANGUAGE sql IMMUTABLE AS
  $$SELECT CASE WHEN length(s) > 16 THEN left(s, 8) || '...(' || length(s) || ')' ELSE s END$$;

-- published reference values
\copy ref FROM 'test/data/jellyfish/levenshtein.csv' WITH (FORMAT csv, FORCE_NOT_NULL (a, b))
SELECT a, b, expected, cdp.levenshtein(a, b) AS got,
       cdp.levenshtein(a, b) = expected AS ok,
       cdp.levenshtein(b, a) = expected AS symmetric
  FROM ref ORDER BY a COLLATE "C", b COLLATE "C";
TRUNCATE ref;

\copy ref FROM 'test/data/jellyfish/damerau_levenshtein.csv' WITH (FORMAT csv, FORCE_NOT_NULL (a, b))
SELECT a, b, expected, cdp.damerau_levenshtein(a, b) AS got,
       cdp.damerau_levenshtein(a, b) = expected AS ok
  FROM ref ORDER BY a COLLATE "C", b COLLATE "C";
TRUNCATE ref;

-- hand-worked cases: levenshtein, osa, unrestricted damerau
SELECT pg_temp.short(a) AS a, pg_temp.short(b) AS b, lev, osa, dl,
       cdp.levenshtein(a, b) = lev AND cdp.osa_distance(a, b) = osa
       AND cdp.damerau_levenshtein(a, b) = dl AS ok
  FROM (VALUES
    ('CA', 'ABC', 3, 3, 2),           -- the textbook difference between OSA and DL
    ('ab', 'ba', 2, 1, 1),            -- one adjacent transposition
    ('abc', 'ca', 3, 3, 2),
    ('a cat', 'an act', 3, 2, 2),
    ('martha', 'marhta', 2, 1, 1),
    ('smith', 'smyth', 1, 1, 1),
    ('', '', 0, 0, 0),
    ('x', '', 1, 1, 1),
    ('café', 'cafe', 1, 1, 1),        -- characters, not bytes
    ('naïve', 'naive', 1, 1, 1),
    ('東京都', '京東都', 2, 1, 1),      -- multibyte transposition
    ('😀😃', '😃😀', 2, 1, 1),          -- four-byte characters
    ('straße', 'strasse', 2, 2, 2),
    (repeat('ab', 40), repeat('ba', 40), 2, 2, 2),   -- 80 chars: delete one, add one
    (repeat('x', 70) || 'ab', repeat('x', 70) || 'ba', 2, 1, 1)
  ) AS t(a, b, lev, osa, dl)
 ORDER BY a COLLATE "C", b COLLATE "C";

-- max_distance: the distance, or max_distance + 1 once it is exceeded
SELECT pg_temp.short(a) AS a, pg_temp.short(b) AS b, k, expected, cdp.levenshtein(a, b, k) AS got,
       cdp.levenshtein(a, b, k) = expected AS ok
  FROM (VALUES
    ('kitten', 'sitting', 5, 3),
    ('kitten', 'sitting', 3, 3),
    ('kitten', 'sitting', 2, 3),
    ('kitten', 'sitting', 0, 1),
    ('same', 'same', 0, 0),
    ('', 'abcdef', 2, 3),              -- length difference alone exceeds the limit
    ('abc', 'xyz', 2147483647, 3),     -- the largest limit is no limit
    (repeat('a', 100), repeat('a', 98) || 'bb', 1, 2),
    (repeat('a', 100), repeat('a', 98) || 'bb', 2, 2),
    (repeat('é', 100), repeat('e', 100), 50, 51)
  ) AS t(a, b, k, expected)
 ORDER BY a COLLATE "C", b COLLATE "C", k;

-- NULL in, NULL out
SELECT cdp.levenshtein(NULL, 'a') IS NULL AS lev_null,
       cdp.levenshtein('a', 'b', NULL) IS NULL AS levk_null,
       cdp.osa_distance('a', NULL) IS NULL AS osa_null,
       cdp.damerau_levenshtein(NULL, NULL) IS NULL AS dl_null;

-- 1 MB strings: linear memory, and fast when the answer is easy
SELECT cdp.levenshtein(repeat('ab', 500000), 'b') AS lev_1mb_vs_short,
       cdp.levenshtein(repeat('ab', 500000), repeat('ba', 500000), 2) AS lev_1mb_bounded,
       cdp.levenshtein(repeat('ab', 500000), repeat('ab', 500000) || 'c') AS lev_1mb_suffix,
       cdp.osa_distance(repeat('ab', 500000), 'ba') AS osa_1mb_vs_short,
       cdp.damerau_levenshtein(repeat('ab', 500000), 'ba') AS dl_1mb_vs_short;

-- errors
\set VERBOSITY default
SELECT cdp.levenshtein('a', 'b', -1);
SELECT sqlstate_of($$SELECT cdp.levenshtein('a', 'b', -1)$$);
SELECT cdp.damerau_levenshtein(repeat('a', 5000), repeat('b', 5000));
SELECT sqlstate_of($$SELECT cdp.damerau_levenshtein(repeat('a', 5000), repeat('b', 5000))$$);
