-- bench/unify_rules/generated.sql: the unification configuration bench/unify
-- uses on the data of tools/generate_customers.py (schema "sample": a web
-- shop, a loyalty-card database and point-of-sale records; tools/README.md
-- describes their noise).  Run in a database where pg_cdp exists and the
-- sample tables are loaded.
--
-- The rules follow what a careful user would do: a strong identifier
-- (e-mail, phone) is trusted only together with a name, because households
-- share family e-mails and landlines; names alone are never enough and are
-- always paired with something that pins the place (postal code, street).
-- Measured on --records 100000 --seed 1: see bench/README.md.

-- Sources.  Phone numbers without a country code are US or British: try US
-- first, then GB (a British "07700 900123" is not a valid US number).
SELECT cdp.add_source('web_shop', 'sample.web_shop_customer', 'customer_ref',
  '{"email": "email", "first_name": "first_name", "last_name": "last_name",
    "phone": {"column": "phone", "region": ["US", "GB"]},
    "address_line1": "street", "city": "city", "postal_code": "postal_code", "country": "country"}',
  priority => 10, updated_at_column => 'updated_at');
SELECT cdp.add_source('loyalty', 'sample.loyalty_member', 'member_no',
  '{"full_name": "full_name", "email": "email", "phone": {"column": "mobile", "region": ["US", "GB"]},
    "birth_date": "birth_date", "address_line1": "address", "postal_code": "zip", "city": "city"}',
  priority => 20, updated_at_column => 'updated_at');
SELECT cdp.add_source('pos', 'sample.pos_customer', 'pos_id',
  '{"first_name": "first_name", "last_name": "last_name", "phone": {"column": "phone", "region": ["US", "GB"]},
    "email": "email", "postal_code": "postal_code"}',
  priority => 30, updated_at_column => 'last_visit');

-- A placeholder the built-in exceptions miss (its local part "no" and
-- domain "email.com" are both real-looking): 143 records of 100,000 carry it,
-- and without this line they chain into one cluster of 310 records.
SELECT cdp.add_match_exception('no@email.com', 'email', note => 'placeholder address typed by customers');

-- 1. The same mailbox and a similar first name.  Not e-mail alone: 2% of
--    customers share a family address (thesmiths@...) with the other members
--    of their household, who have other first names.  Not e-mail and last
--    name: household members share the last name.  The default precision of
--    a name (0.8, nicknames and initials count) keeps typos, "Bob"/"Robert"
--    and "J"/"John" together.
SELECT cdp.add_match_rule('email + first name',
  '[{"attribute": "email"}, {"attribute": "first_name"}]');

-- 2. The same mailbox and both names: adds the records whose first and last
--    names were entered the wrong way round (a rule on both names also tries
--    them exchanged; rule 1 alone does not).
SELECT cdp.add_match_rule('email + names',
  '[{"attribute": "email"}, {"attribute": "first_name"}, {"attribute": "last_name"}]');

-- 3. The same phone number and both names (also exchanged).  A household
--    landline is shared by people with other first names.
SELECT cdp.add_match_rule('phone + names',
  '[{"attribute": "phone"}, {"attribute": "first_name"}, {"attribute": "last_name"}]');

-- 4. The same phone number and first name: the last name changed (marriage)
--    or was shortened ("Miller-Campbell" / "Miller").
SELECT cdp.add_match_rule('phone + first name',
  '[{"attribute": "phone"}, {"attribute": "first_name"}]');

-- 5. The same postal code and both names, for records without a shared
--    e-mail or phone (changed numbers, missing values).  The last name at
--    0.9: at the default 0.8 an initial ("B Bailey" / "B Bartlett", names
--    exchanged) and near surnames of neighbours (Carroll / Carrillo) pass.
--    The first name at 0.85 still lets an initial ("J" / "John") through.
SELECT cdp.add_match_rule('postal code + names',
  '[{"attribute": "postal_code"}, {"attribute": "first_name", "precision": 0.85},
    {"attribute": "last_name", "precision": 0.9}]');

-- 6. A near-identical street address and both names: catches records whose
--    postal code differs in form (ZIP+4, a lost leading zero) or is missing.
--    The address at 0.9: token similarity gives 0.84 to "76 Evergreen Rd" /
--    "76 Queens Rd", so the default 0.8 joins neighbours.
SELECT cdp.add_match_rule('address + names',
  '[{"attribute": "address_line1", "precision": 0.9}, {"attribute": "first_name"},
    {"attribute": "last_name"}]');

-- Left out on purpose:
--  - e-mail + phone (both exact, no name): a family e-mail together with a
--    household landline joins different people (23 of its 146 extra pairs
--    were wrong on 100,000 records);
--  - street address + first name only (for married names): token similarity
--    of addresses with the same house number is high enough that 486 of its
--    536 pairs joined different people.
