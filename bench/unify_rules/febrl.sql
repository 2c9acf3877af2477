-- bench/unify_rules/febrl.sql: the unification configuration bench/unify
-- uses on Febrl "dataset2" (../shared/data/febrl/dataset2.csv, BSD-3, see
-- bench/data/febrl.LICENSE): 5,000 synthetic Australian person records,
-- 4,000 originals and 1,000 duplicates with typos, OCR and phonetic errors,
-- missing and swapped values.  bench/unify loads it into febrl.person with
-- its fields trimmed and date_of_birth (YYYYMMDD) as a date, NULL when it is
-- not a valid date; rec-N-org and rec-N-dup-k are the same person N.
--
-- The social security number is the strong identifier, but Febrl corrupts
-- it too, so it is trusted only with a second attribute; every rule needs
-- two independent attributes to agree.

SELECT cdp.add_source('febrl', 'febrl.person', 'rec_id',
  '{"first_name": "given_name", "last_name": "surname", "street_number": "street_number",
    "address_line1": "address_1", "address_line2": "address_2", "city": "suburb",
    "postal_code": "postcode", "state": "state", "birth_date": "date_of_birth",
    "national_id": "soc_sec_id"}');

-- 1, 2. The same social security number and one name at medium precision
--    (0.6): the other name, or both, may be badly corrupted.
SELECT cdp.add_match_rule('id + first name',
  '[{"attribute": "national_id"}, {"attribute": "first_name", "precision": "medium"}]');
SELECT cdp.add_match_rule('id + last name',
  '[{"attribute": "national_id"}, {"attribute": "last_name", "precision": "medium"}]');

-- 3. The same social security number and date of birth: both names mangled.
SELECT cdp.add_match_rule('id + birth date',
  '[{"attribute": "national_id"}, {"attribute": "birth_date"}]');

-- 4. The same date of birth and both names (also exchanged): a typo in the
--    social security number.
SELECT cdp.add_match_rule('birth date + names',
  '[{"attribute": "birth_date"}, {"attribute": "first_name"}, {"attribute": "last_name"}]');

-- 5. The same postcode and both names: the date of birth is also wrong or
--    missing.
SELECT cdp.add_match_rule('postcode + names',
  '[{"attribute": "postal_code"}, {"attribute": "first_name"}, {"attribute": "last_name"}]');

-- 6. A similar street address (token similarity 0.8) and both names.
SELECT cdp.add_match_rule('address + names',
  '[{"attribute": "address_line1"}, {"attribute": "first_name"}, {"attribute": "last_name"}]');
