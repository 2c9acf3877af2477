--
-- jaro: cdp.jaro, cdp.jaro_winkler, cdp.edit_similarity and
-- cdp.token_similarity.  Reference values: the jellyfish project's test
-- data (MIT licence, test/data/jellyfish/LICENSE), given to three decimals,
-- and cases worked by hand from the definitions (Winkler's conventions).
--
SET extra_float_digits = 0;
CREATE TEMP TABLE ref (a text, b text, expected numeric);

\copy ref FROM 'test/data/jellyfish/jaro_distance.csv' WITH (FORMAT csv, FORCE_NOT_NULL (a, b))
SELECT a, b, expected, round(cdp.jaro(a, b)::numeric, 3) AS got,
       round(cdp.jaro(a, b)::numeric, 3) = expected AS ok
  FROM ref ORDER BY a COLLATE "C", b COLLATE "C";
TRUNCATE ref;

\copy ref FROM 'test/data/jellyfish/jaro_winkler.csv' WITH (FORMAT csv, FORCE_NOT_NULL (a, b))
SELECT a, b, expected, round(cdp.jaro_winkler(a, b)::numeric, 3) AS got,
       round(cdp.jaro_winkler(a, b)::numeric, 3) = expected AS ok
  FROM ref ORDER BY a COLLATE "C", b COLLATE "C";

-- worked by hand:
--   martha/marhta: m = 6, t = 2/2 = 1: jaro = (1 + 1 + 5/6)/3 = 17/18;
--     jw = 17/18 + 3 * 0.1 * (1/18) = 0.961111...
--   dixon/dicksonx: window 3, m = 4, t = 0: jaro = (4/5 + 4/8 + 1)/3 = 0.766667;
--     jw (prefix "di", 2) = 0.766667 + 0.2 * 0.233333 = 0.813333
--   abc/xyz: no match: 0.  a/ab: window 0, m = 1: jaro = (1 + 1/2 + 1)/3
--   crate/trace: window 1, m = 3 (r, a, e), t = 0: jaro = (3/5 + 3/5 + 1)/3 = 0.733333,
--     no common prefix: jw = jaro
--   dwayne/duane with prefix_scale 0.2: jaro = 0.822222, jw = 0.822222 + 0.2 * 0.177778 = 0.857778
--   'ab'/'ba': window 0, no match: 0
SELECT a, b, p, jaro, jw,
       abs(cdp.jaro(a, b) - jaro) < 1e-6 AS jaro_ok,
       abs(cdp.jaro_winkler(a, b, p) - jw) < 1e-6 AS jw_ok,
       abs(cdp.jaro(b, a) - jaro) < 1e-6 AS symmetric
  FROM (VALUES
    ('martha', 'marhta', 0.1, 0.944444, 0.961111),
    ('dixon', 'dicksonx', 0.1, 0.766667, 0.813333),
    ('abc', 'xyz', 0.1, 0.0, 0.0),
    ('a', 'ab', 0.1, 0.833333, 0.85),
    ('crate', 'trace', 0.1, 0.733333, 0.733333),
    ('dwayne', 'duane', 0.2, 0.822222, 0.857778),
    ('ab', 'ba', 0.1, 0.0, 0.0),
    ('', '', 0.1, 1.0, 1.0),
    ('', 'a', 0.1, 0.0, 0.0),
    ('Müller', 'Muller', 0.1, 0.888889, 0.9),       -- one substitution of six; prefix 'M'
    ('東京都', '東京', 0.1, 0.888889, 0.911111),      -- characters, not bytes
    ('jaz', 'jal', 0.25, 0.777778, 0.888889)
  ) AS t(a, b, p, jaro, jw)
 ORDER BY a COLLATE "C", b COLLATE "C";

-- the prefix boost applies only above 0.7 and counts at most 4 characters
SELECT cdp.jaro_winkler('abcdefgh', 'abcdefxy') > cdp.jaro('abcdefgh', 'abcdefxy') AS boosted,
       abs(cdp.jaro_winkler('abcdefgh', 'abcdefxy')
           - (cdp.jaro('abcdefgh', 'abcdefxy') + 4 * 0.1 * (1 - cdp.jaro('abcdefgh', 'abcdefxy')))) < 1e-12 AS prefix_of_4,
       cdp.jaro_winkler('abxxxxxx', 'abyyyyyy') = cdp.jaro('abxxxxxx', 'abyyyyyy') AS no_boost_below_07,
       cdp.jaro_winkler('abcd', 'abcd', 0) = 1 AS scale_zero;

-- long strings use the linear algorithm; it agrees with the definition:
-- a string against its reverse-rotated self
SELECT round(cdp.jaro(repeat('abcdefghij', 20), repeat('bcdefghija', 20))::numeric, 6) AS jaro_200,
       round(cdp.jaro(repeat('ab', 500000), repeat('ab', 500000))::numeric, 6) AS jaro_1mb_equal,
       round(cdp.jaro(repeat('ab', 500000), 'ab')::numeric, 6) AS jaro_1mb_vs_short;

-- edit_similarity = 1 - levenshtein / max(length)
SELECT a, b, expected, cdp.edit_similarity(a, b) AS got,
       abs(cdp.edit_similarity(a, b) - expected) < 1e-12 AS ok
  FROM (VALUES
    ('kitten', 'sitting', 1 - 3/7.0),
    ('', '', 1.0),
    ('abc', '', 0.0),
    ('café', 'cafe', 0.75),
    ('Jon', 'John', 0.75)
  ) AS t(a, b, expected)
 ORDER BY a COLLATE "C", b COLLATE "C";

-- token_similarity: symmetric Monge-Elkan over Jaro-Winkler.
--   'Smith, John' / 'John Smith': every token has an exact partner: 1
--   'ACME Corp Ltd' / 'Acme Corporation': a->b: acme 1, corp~corporation
--     jw = (1 + 4/11 + 1)/3 + 4 * 0.1 * (1 - that) = 0.872727, ltd 0;
--     b->a: 1 and 0.872727.  (1.872727/3 + 1.872727/2) / 2 = 0.780303
--   'john' / 'John A': a->b 1; b->a (1 + 0)/2: (1 + 0.5)/2 = 0.75
SELECT a, b, expected, round(cdp.token_similarity(a, b)::numeric, 6) AS got,
       abs(cdp.token_similarity(a, b) - expected) < 1e-6 AS ok,
       cdp.token_similarity(a, b) = cdp.token_similarity(b, a) AS symmetric
  FROM (VALUES
    ('Smith, John', 'John Smith', 1.0),
    ('ACME Corp Ltd', 'Acme Corporation', 0.780303),
    ('john', 'John A', 0.75),
    ('Crème Brûlée', 'creme brulee', 1.0),
    ('', '', 1.0),
    ('!!!', '', 1.0),
    ('abc', '', 0.0)
  ) AS t(a, b, expected)
 ORDER BY a COLLATE "C", b COLLATE "C";

-- NULL in, NULL out
SELECT cdp.jaro(NULL, 'a') IS NULL AS jaro, cdp.jaro_winkler('a', NULL) IS NULL AS jw,
       cdp.jaro_winkler('a', 'a', NULL) IS NULL AS jw_scale,
       cdp.edit_similarity(NULL, 'a') IS NULL AS es, cdp.token_similarity('a', NULL) IS NULL AS ts;

-- 1 MB inputs
SELECT round(cdp.token_similarity(repeat('word ', 200000), 'word')::numeric, 6) AS ts_1mb,
       cdp.edit_similarity(repeat('ab', 500000), repeat('ab', 500000)) AS es_1mb;

-- errors
\set VERBOSITY default
SELECT cdp.jaro_winkler('a', 'b', 0.3);
SELECT cdp.jaro_winkler('a', 'b', -0.1);
SELECT cdp.jaro_winkler('a', 'b', 'NaN');
SELECT sqlstate_of($$SELECT cdp.jaro_winkler('a', 'b', 0.3)$$);
SELECT cdp.token_similarity(repeat('ab ', 5000), repeat('cd ', 5000));
SELECT sqlstate_of($$SELECT cdp.token_similarity(repeat('ab ', 5000), repeat('cd ', 5000))$$);
