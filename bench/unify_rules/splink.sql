-- bench/unify_rules/splink.sql: the unification configuration bench/unify
-- uses on Splink's fake_1000 (bench/data/splink_fake_1000.csv, MIT, see
-- bench/data/splink.LICENSE): 1,000 records of 251 people, with first name,
-- surname, date of birth, city and e-mail, heavily corrupted (typos, swapped
-- names, missing values, dates moved by a day, a month or years, e-mails
-- with typos).  The table is splink.person; its "cluster" column is the
-- truth and is not mapped.
--
-- The data has no households and its e-mails are personal, so unlike the
-- retail data an exact e-mail is enough on its own here.  Every other rule
-- pairs two independent attributes.

SELECT cdp.add_source('splink', 'splink.person', 'unique_id',
  '{"first_name": "first_name", "last_name": "surname", "birth_date": "dob", "city": "city", "email": "email"}');

-- 1. The same e-mail: personal addresses, never shared in this data.
SELECT cdp.add_match_rule('email', '[{"attribute": "email"}]');

-- 2, 3. The same date of birth and one similar name (the other one is often
--    missing or mangled).  Exchanged names are not tried: each rule names
--    one name attribute only.
SELECT cdp.add_match_rule('birth date + first name',
  '[{"attribute": "birth_date"}, {"attribute": "first_name"}]');
SELECT cdp.add_match_rule('birth date + last name',
  '[{"attribute": "birth_date"}, {"attribute": "last_name"}]');

-- 4. Both names and a similar city (typos such as "Lonon"): for records
--    whose date of birth is wrong and whose e-mail is missing.
SELECT cdp.add_match_rule('names + city',
  '[{"attribute": "first_name"}, {"attribute": "last_name"}, {"attribute": "city"}]');

-- 5. Both names close (0.9) and a date of birth at most two characters off
--    in YYYY-MM-DD (edit similarity 0.8: "1971-06-24" / "1971-05-24").
--    Blocking on a fuzzy date uses its year, so a changed year is not found.
SELECT cdp.add_match_rule('names + near birth date',
  '[{"attribute": "first_name", "precision": 0.9}, {"attribute": "last_name", "precision": 0.9},
    {"attribute": "birth_date", "method": "edit", "precision": 0.8}]');

-- 6, 7. An e-mail with a typo (edit similarity 0.8) and one name at medium
--    precision (0.6): "evied56@harris-bailey.net" / "evihd56@earris-bailey.net".
SELECT cdp.add_match_rule('similar email + first name',
  '[{"attribute": "email", "method": "edit", "precision": 0.8}, {"attribute": "first_name", "precision": "medium"}]');
SELECT cdp.add_match_rule('similar email + last name',
  '[{"attribute": "email", "method": "edit", "precision": 0.8}, {"attribute": "last_name", "precision": "medium"}]');

-- 8, 9. A date of birth at most two characters off and one name at 0.9.
SELECT cdp.add_match_rule('near birth date + first name',
  '[{"attribute": "birth_date", "method": "edit", "precision": 0.8}, {"attribute": "first_name", "precision": 0.9}]');
SELECT cdp.add_match_rule('near birth date + last name',
  '[{"attribute": "birth_date", "method": "edit", "precision": 0.8}, {"attribute": "last_name", "precision": 0.9}]');
