-- A randomised workout of every kernel, used by test/valgrind.sh: random
-- strings from a pool of ASCII, punctuation, digits, accented letters,
-- combining marks, CJK and emoji, 0 to 120 characters, through every
-- function, in pairs.  The results are only aggregated: what matters is
-- that nothing reads or writes memory it should not.
SELECT setseed(0.4242);
CREATE TEMP TABLE fz AS
SELECT i,
       (SELECT string_agg(substr(pool, 1 + floor(random() * length(pool))::int + 0 * g, 1), '')
          FROM generate_series(1, floor(random() * (CASE WHEN i % 10 = 0 THEN 120 ELSE 24 END))::int) AS g) AS a,
       (SELECT string_agg(substr(pool, 1 + floor(random() * length(pool))::int + 0 * g, 1), '')
          FROM generate_series(1, floor(random() * (CASE WHEN i % 7 = 0 THEN 90 ELSE 20 END))::int) AS g) AS b
  FROM generate_series(1, 1500) AS i,
       (SELECT 'abcdeABCDE  .,-''&#+@()/0123459éüßøÆŁçñ' || U&'\0301\0308' || '中文字😀Я ' AS pool) AS p;
UPDATE fz SET a = coalesce(a, ''), b = coalesce(b, '');

SELECT count(*) AS pairs,
       sum(cdp.levenshtein(a, b)) >= 0 AS lev,
       sum(cdp.levenshtein(a, b, 3)) >= 0 AS lev_k,
       sum(cdp.osa_distance(a, b)) >= 0 AS osa,
       sum(cdp.damerau_levenshtein(a, b)) >= 0 AS dl,
       sum(cdp.jaro(a, b)) >= 0 AS jaro,
       sum(cdp.jaro_winkler(a, b)) >= 0 AS jw,
       sum(cdp.edit_similarity(a, b)) >= 0 AS es,
       sum(cdp.token_similarity(a, b)) >= 0 AS ts,
       sum(cdp.name_similarity(a, b)) >= 0 AS ns,
       count(cdp.names_equivalent(a, b)) >= 0 AS ne
  FROM fz;

SELECT count(cdp.normalize_text(a)) >= 0 AS text_default,
       count(cdp.normalize_text(a, '{numerals}')) >= 0 AS text_numerals,
       count(cdp.normalize_text(a, '{symbols,unicode}')) >= 0 AS text_symbols,
       count(cdp.normalize_email(a || '@' || b || '.com')) >= 0 AS email,
       count(cdp.normalize_email(a, false)) >= 0 AS email_plain,
       count(cdp.normalize_phone(a, 'GB')) >= 0 AS phone,
       count(cdp.normalize_phone('+' || a)) >= 0 AS phone_intl,
       count(cdp.phone_extension(a)) >= 0 AS ext,
       count(cdp.normalize_name(a)) >= 0 AS name,
       count(cdp.name_variants(a)) >= 0 AS variants,
       count(cdp.normalize_address(a)) >= 0 AS address,
       count(cdp.normalize_org(a)) >= 0 AS org,
       count(cdp.double_metaphone(a)) >= 0 AS metaphone
  FROM fz;
