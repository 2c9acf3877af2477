--
-- phone: cdp.normalize_phone and cdp.phone_extension.
--
-- Real numbers of many countries (government switchboards, well-known
-- institutions) and the ranges reserved for fiction (UK 020 7946 0xxx and
-- 07700 900xxx, US 555-01xx, Australian 02 5550 xxxx and 0491 570 xxx,
-- French 06 39 98 xx xx), written the way people in each country write
-- them: international formats (+, 00, 011, 810, 010, 001, 0011...), national
-- formats with trunk prefixes, Italian numbers keeping their 0, a "(0)"
-- after the country code, extensions, vanity letters, other scripts; then
-- the junk that must give NULL, NULL and empty input, a 1 MB input, the
-- error for an unknown region, and invariants over random strings.
-- Each expected value was worked out by hand from the rules and written
-- next to its input; the queries list every case with "ok" or show only
-- the disagreements.
--
CREATE TEMP TABLE phone_case (input text, region text, expected text);

INSERT INTO phone_case VALUES
  -- United Kingdom: the Ofcom drama ranges, 10 Downing Street
  ('020 7946 0018', 'GB', '+442079460018'),
  ('020 7946 0018', 'uk', '+442079460018'),
  ('+44 (0)20 7946 0958', 'US', '+442079460958'),
  ('+44 020 7946 0958', 'US', '+442079460958'),
  ('(020) 7930 4433', 'GB', '+442079304433'),
  ('07700 900123', 'GB', '+447700900123'),
  ('0113 496 0000', 'GB', '+441134960000'),
  ('0800 REVERSE', 'GB', '+448007383773'),
  -- Germany: Bundespresseamt, Auswärtiges Amt, a mobile number
  ('030 18272-0', 'DE', '+4930182720'),
  ('+49 (0)30 1817-0', 'FR', '+493018170'),
  ('0049 30 18170', 'FR', '+493018170'),
  ('0171 / 123 45 67', 'DE', '+491711234567'),
  -- France: Élysée, the fiction range of mobiles
  ('01 42 92 81 00', 'FR', '+33142928100'),
  ('+33 (0)1 42 92 81 00', 'DE', '+33142928100'),
  ('06.39.98.12.34', 'FR', '+33639981234'),
  -- Italy and the Vatican: the leading 0 is part of the number
  ('06 67791', 'IT', '+390667791'),
  ('06 6982', 'VA', '+39066982'),
  ('+39 06 6982', 'US', '+39066982'),
  ('+39 (0)6 6982', 'US', '+39066982'),
  ('0039 02 0202', 'DE', '+39020202'),
  ('347 123 4567', 'IT', '+393471234567'),
  -- Spain, Portugal: no trunk prefix
  ('913 353 535', 'ES', '+34913353535'),
  ('+34 612 34 56 78', 'GB', '+34612345678'),
  ('213 614 600', 'PT', '+351213614600'),
  -- Netherlands, Belgium, Switzerland, Austria
  ('020 - 674 70 00', 'NL', '+31206747000'),
  ('+32 (0)2 475 47 75', 'US', '+3224754775'),
  ('02/475.47.75', 'BE', '+3224754775'),
  ('044 632 11 11', 'CH', '+41446321111'),
  ('01 4000-0', 'AT', '+43140000'),
  -- Nordic countries
  ('08-405 10 00', 'SE', '+4684051000'),
  ('22 24 90 90', 'NO', '+4722249090'),
  ('33 37 55 00', 'DK', '+4533375500'),
  ('0295 16001', 'FI', '+35829516001'),
  -- Poland, Ireland, Greece
  ('22 694 25 00', 'PL', '+48226942500'),
  ('(01) 619 4000', 'IE', '+35316194000'),
  ('210 3707000', 'GR', '+302103707000'),
  -- Russia and Kazakhstan: trunk prefix 8, international prefix 8~10
  ('8 (495) 606-36-02', 'RU', '+74956063602'),
  ('8 800 555-35-35', 'RU', '+78005553535'),
  ('800 555 35 35', 'RU', '+78005553535'),
  ('+7 8 812 123-45-67', 'US', '+78121234567'),
  ('8-10-44-20-7946-0018', 'RU', '+442079460018'),
  ('8 727 123 4567', 'KZ', '+77271234567'),
  -- Turkey, Israel, Egypt, United Arab Emirates
  ('0312 525 55 55', 'TR', '+903125255555'),
  ('03-123-4567', 'IL', '+97231234567'),
  ('050-123-4567', 'IL', '+972501234567'),
  ('02 2795 1234', 'EG', '+20227951234'),
  ('010 1234 5678', 'EG', '+201012345678'),
  ('04 123 4567', 'AE', '+97141234567'),
  ('050 123 4567', 'AE', '+971501234567'),
  -- North America: the White House, 555-01xx, 1-800 vanity numbers
  ('(202) 456-1111', 'US', '+12024561111'),
  ('202.456.1111', 'US', '+12024561111'),
  ('1 (415) 555-0123', 'US', '+14155550123'),
  ('+1-415-555-0123', 'DE', '+14155550123'),
  ('+1 1 415 555 0123', 'DE', '+14155550123'),
  ('1-800-FLOWERS', 'US', '+18003569377'),
  ('1-800-flowers', 'US', '+18003569377'),
  ('1 800 GOT JUNK', 'US', '+18004685865'),
  ('1 800 O-Canada', 'CA', '+18006226232'),
  ('1-800-4-MY-HOME', 'US', '+18004694663'),
  ('462 1234', 'AG', '+12684621234'),
  -- Mexico: the old trunk prefixes 01/044 and the mobile 1 after +52
  ('55 1234 5678', 'MX', '+525512345678'),
  ('01 55 1234 5678', 'MX', '+525512345678'),
  ('044 55 1234 5678', 'MX', '+525512345678'),
  ('+52 1 55 1234 5678', 'US', '+525512345678'),
  -- Brazil, Argentina
  ('(61) 3411-1221', 'BR', '+556134111221'),
  ('0 61 3411-1221', 'BR', '+556134111221'),
  ('(11) 98765-4321', 'BR', '+5511987654321'),
  ('0 21 11 98765-4321', 'BR', '+5511987654321'),
  ('(011) 4344-3600', 'AR', '+541143443600'),
  ('+54 9 11 1234-5678', 'US', '+5491112345678'),
  -- Japan: trunk 0, international prefix 010
  ('03-3581-0101', 'JP', '+81335810101'),
  ('090-1234-5678', 'JP', '+819012345678'),
  ('0120-123-456', 'JP', '+81120123456'),
  ('010-1-202-456-1111', 'JP', '+12024561111'),
  ('+81 (0)3-3581-0101', 'US', '+81335810101'),
  -- China, Korea, India
  ('138 0013 8000', 'CN', '+8613800138000'),
  ('(010) 6512 3456', 'CN', '+861065123456'),
  ('010-1234-5678', 'KR', '+821012345678'),
  ('02-1234-5678', 'KR', '+82212345678'),
  ('001-1-202-456-1111', 'KR', '+12024561111'),
  ('00700-44-20-7946-0018', 'KR', '+442079460018'),
  ('098765 43210', 'IN', '+919876543210'),
  ('+91 98765 43210', 'GB', '+919876543210'),
  ('011-2301 2345', 'IN', '+911123012345'),
  -- Singapore, Hong Kong
  ('6123 4567', 'SG', '+6561234567'),
  ('001 1 202 456 1111', 'SG', '+12024561111'),
  ('2123 4567', 'HK', '+85221234567'),
  -- Australia and New Zealand: fiction ranges, 0011, 1800
  ('(02) 5550 1234', 'AU', '+61255501234'),
  ('0491 570 156', 'AU', '+61491570156'),
  ('0011 44 20 7946 0018', 'AU', '+442079460018'),
  ('1800 020 504', 'AU', '+611800020504'),
  ('04 817 9999', 'NZ', '+6448179999'),
  -- South Africa, Nigeria, Kenya
  ('021 403 2911', 'ZA', '+27214032911'),
  ('0803 123 4567', 'NG', '+2348031234567'),
  ('009 44 20 7946 0018', 'NG', '+442079460018'),
  ('0712 345678', 'KE', '+254712345678'),
  ('000 1 202 456 1111', 'KE', '+12024561111'),
  -- international prefixes given by the region, or 00 anywhere
  ('011 44 20 7946 0018', 'US', '+442079460018'),
  ('0044 20 7946 0018', 'US', '+442079460018'),
  ('00 33 1 42 92 81 00', 'JP', '+33142928100'),
  -- labels and URIs
  ('Tel: 01 42 92 81 00', 'FR', '+33142928100'),
  ('Tél. : 01 42 92 81 00', 'FR', '+33142928100'),
  ('Phone: +1 202-456-1111', 'US', '+12024561111'),
  ('Mobile 07700 900123', 'GB', '+447700900123'),
  ('tel:+1-202-456-1111', 'US', '+12024561111'),
  ('Тел. 8 (495) 606-36-02', 'RU', '+74956063602'),
  ('電話 03-3581-0101', 'JP', '+81335810101'),
  -- multibyte digits and punctuation
  ('＋８１　３－３５８１－０１０１', 'US', '+81335810101'),
  ('03ー3581ー0101', 'JP', '+81335810101'),
  ('٠٥٠ ١٢٣ ٤٥٦٧', 'AE', '+971501234567'),
  ('۰۲۱ ۱۲۳۴ ۵۶۷۸', 'IR', '+982112345678'),
  ('०९८७६ ५४३२१०', 'IN', '+919876543210'),
  (E'+33\u00a01\u00a042\u00a092\u00a081\u00a000', 'US', '+33142928100'),
  (E'202\u2013456\u20131111', 'US', '+12024561111'),
  -- extensions are dropped from the number
  ('+1 202-456-1111 x123', 'US', '+12024561111'),
  ('(202) 456-1111 ext. 123', 'US', '+12024561111'),
  ('202-456-1111 #123', 'US', '+12024561111'),
  ('tel:+1-202-456-1111;ext=123', 'US', '+12024561111'),
  ('01 42 92 81 00 poste 12', 'FR', '+33142928100'),
  ('030 18172 Durchwahl 12', 'DE', '+493018172'),
  ('1-800-FLOWERS ext 7', 'US', '+18003569377'),
  -- junk: text, placeholders, wrong lengths, unassigned codes
  ('call me', 'US', NULL),
  ('n/a', 'US', NULL),
  ('unknown', 'US', NULL),
  ('Phone: none', 'US', NULL),
  ('call me on 202 456 1111', 'US', NULL),
  ('202 456 1111 after 6pm', 'US', NULL),
  ('FLOWERS', 'US', NULL),
  ('12 FLOWERS', 'US', NULL),
  ('202 456 111A', 'US', NULL),
  ('202 456 1A1B', 'US', NULL),
  ('202 456 11ÀÉ', 'US', NULL),
  ('0000000000', 'US', NULL),
  ('000-000-0000', 'US', NULL),
  ('(555) 555-5555', 'US', NULL),
  ('+1 222 222 2222', 'US', NULL),
  ('00000000000', 'GB', NULL),
  ('1234567890', 'US', NULL),
  ('(202) 056-1111', 'US', NULL),
  ('555-0123', 'US', NULL),
  ('123', 'US', NULL),
  ('+', 'US', NULL),
  ('++44 20 7946 0018', 'US', NULL),
  ('44+20 7946 0018', 'US', NULL),
  ('+999 1234 5678', 'US', NULL),
  ('+44 20 7946 00181', 'US', NULL),
  ('+44 20 7946', 'US', NULL),
  ('+44 4 7946 0018', 'US', NULL),
  ('020 7946 0018', 'US', NULL),
  ('+0 20 7946 0018', 'US', NULL),
  ('202-456-1111 ext.', 'US', NULL),
  ('202-456-1111 x12345678901', 'US', NULL),
  ('202*456*1111', 'US', NULL),
  ('🙂 202 456 1111', 'US', NULL),
  ('+1 202 456 1111 +1 202 456 1112', 'US', NULL),
  ('', 'US', NULL);

-- every case: input, region, expected, actual, whether they agree
SELECT input, region, expected, cdp.normalize_phone(input, region) AS actual,
       cdp.normalize_phone(input, region) IS NOT DISTINCT FROM expected AS ok
  FROM phone_case;

-- the default region is the United States
SELECT cdp.normalize_phone('(202) 456-1111') AS us_default,
       cdp.normalize_phone('020 7946 0018') AS gb_number_read_as_us;

-- extensions: input, expected, actual, whether they agree
SELECT input, expected, cdp.phone_extension(input) AS actual,
       cdp.phone_extension(input) IS NOT DISTINCT FROM expected AS ok
  FROM (VALUES
    ('+1 202-456-1111 x123', '123'),
    ('+1 202-456-1111 X 123', '123'),
    ('202-456-1111x9', '9'),
    ('(202) 456-1111 ext. 123', '123'),
    ('(202) 456-1111 Ext 123', '123'),
    ('(202) 456-1111, ext. 45', '45'),
    ('(202) 456-1111 extn 45', '45'),
    ('(202) 456-1111 extension 123', '123'),
    ('(202) 456-1111 (ext. 123)', '123'),
    ('202-456-1111 #123', '123'),
    ('tel:+1-202-456-1111;ext=123', '123'),
    ('01 42 92 81 00 poste 12', '12'),
    ('030 18172 Durchwahl 12', '12'),
    ('030 18172 Dw. 12', '12'),
    ('(011) 4344-3600 int. 5', NULL),
    ('(011) 4344-3600 interno 5', '5'),
    ('(011) 4344-3600 extensión 5', '5'),
    ('(02) 2345 6789 anexo 201', '201'),
    ('(11) 3411-1221 ramal 44', '44'),
    ('1-800-FLOWERS ext 7', '7'),
    ('+1 202-456-1111', NULL),
    ('202-456-1111 ext.', NULL),
    ('202-456-1111 x12345678901', NULL),
    ('x123', NULL),
    ('ext 123', NULL),
    ('call me x123', NULL),
    ('', NULL)
  ) AS v(input, expected);

-- NULL in, NULL out; the empty string is not a number
SELECT cdp.normalize_phone(NULL) IS NULL AS null_phone,
       cdp.normalize_phone('(202) 456-1111', NULL) IS NULL AS null_region,
       cdp.normalize_phone('') IS NULL AS empty_phone,
       cdp.phone_extension(NULL) IS NULL AS null_extension,
       cdp.phone_extension('') IS NULL AS empty_extension;

-- a 1 MB input neither crashes nor takes long: it is not a phone number
SELECT length(cdp.normalize_phone(repeat('ab', 500000))) AS one_mb_text,
       length(cdp.normalize_phone(repeat('1', 1000000))) AS one_mb_digits,
       length(cdp.normalize_phone(repeat('é', 500000), 'FR')) AS one_mb_multibyte,
       length(cdp.phone_extension('1 202 456 1111 x' || repeat('1', 1000000))) AS one_mb_extension;

-- the default region is case-insensitive, and UK is GB
SELECT r, cdp.normalize_phone('020 7946 0018', r)
  FROM (VALUES ('GB'), ('gb'), ('Gb'), ('UK'), ('uk')) AS v(r);

-- an unknown region is an error, whatever the number
\set VERBOSITY default
SELECT cdp.normalize_phone('(202) 456-1111', 'XX');
SELECT cdp.normalize_phone('+44 20 7946 0018', 'USA');
SELECT cdp.normalize_phone('(202) 456-1111', '');
SELECT cdp.normalize_phone('(202) 456-1111', repeat('Z', 100));
DO $$
BEGIN
  PERFORM cdp.normalize_phone('(202) 456-1111', 'EU');
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE '%: %', SQLSTATE, SQLERRM;
END
$$;

-- invariants over random strings of ASCII, punctuation, digits, accented
-- letters, CJK, emoji and phone-like pieces (lengths 0..300): nothing
-- errors; a result is E.164 (+, 6 to 15 digits, no leading 0); normalising
-- a result again gives it back, whatever the region; an extension is 1 to
-- 10 digits.  Each query prints the number of violations.
SELECT setseed(0.4242);
CREATE TEMP TABLE phone_fuzz AS
SELECT g AS id,
       (SELECT string_agg(
                 CASE floor(random() * 12)::int
                   WHEN 0 THEN chr(32 + floor(random() * 95)::int)
                   WHEN 1 THEN substr('()-./ +#;,:x', 1 + floor(random() * 12)::int, 1)
                   WHEN 2 THEN substr('éüßøÅçñ', 1 + floor(random() * 7)::int, 1)
                   WHEN 3 THEN chr(19968 + floor(random() * 20000)::int)
                   WHEN 4 THEN chr(128512 + floor(random() * 80)::int)
                   WHEN 5 THEN (ARRAY['+44 ', '+1 ', '00', '011 ', '0', '(0)', 'ext ',
                                      'Tel: ', '1-800-', '８', '٣', ' x'])[1 + floor(random() * 12)::int]
                   ELSE chr(48 + floor(random() * 10)::int)
                 END, '')
          FROM generate_series(1, g * 0 + floor(random() * 301)::int) AS k) AS s,
       (ARRAY['US', 'GB', 'DE', 'FR', 'IT', 'JP', 'RU', 'KR', 'AU', 'BR'])[1 + floor(random() * 10)::int] AS region
  FROM generate_series(1, 2000) AS g;
-- and phone-like strings: mostly digits and separators, a few pieces
INSERT INTO phone_fuzz
SELECT g,
       (SELECT string_agg(
                 CASE floor(random() * 24)::int
                   WHEN 0 THEN chr(32 + floor(random() * 95)::int)
                   WHEN 1 THEN substr('éüßøÅçñ電話８٣', 1 + floor(random() * 11)::int, 1)
                   WHEN 2 THEN (ARRAY['+', '+44 ', '+1 ', '+39 ', '+7 ', '00', '011 ', '(0)',
                                      ' ext ', ' x', '#', ';ext=', 'Tel: ', '1-800-', 'FLOWERS',
                                      ' poste '])[1 + floor(random() * 16)::int]
                   WHEN 3 THEN substr(' ()-./', 1 + floor(random() * 6)::int, 1)
                   WHEN 4 THEN substr(' ()-./', 1 + floor(random() * 6)::int, 1)
                   ELSE chr(48 + floor(random() * 10)::int)
                 END, '')
          FROM generate_series(1, g * 0 + 5 + floor(random() * 16)::int) AS k) AS s,
       (ARRAY['US', 'GB', 'DE', 'FR', 'IT', 'JP', 'RU', 'KR', 'AU', 'BR'])[1 + floor(random() * 10)::int]
  FROM generate_series(2001, 3000) AS g;

SELECT count(*) AS fuzz_inputs,
       count(*) FILTER (WHERE length(s) > 100) > 100 AS many_long,
       count(*) FILTER (WHERE cdp.normalize_phone(s, region) IS NOT NULL) > 50 AS many_normalise,
       count(*) FILTER (WHERE cdp.phone_extension(s) IS NOT NULL) > 10 AS some_extensions
  FROM phone_fuzz;

SELECT count(*) AS not_e164
  FROM phone_fuzz
 WHERE cdp.normalize_phone(s, region) !~ '^\+[1-9][0-9]{5,14}$';

SELECT count(*) AS not_idempotent
  FROM phone_fuzz, (VALUES ('US'), ('GB'), ('JP')) AS r(other)
 WHERE cdp.normalize_phone(cdp.normalize_phone(s, region), other)
       IS DISTINCT FROM cdp.normalize_phone(s, region);

SELECT count(*) AS bad_extension
  FROM phone_fuzz
 WHERE cdp.phone_extension(s) !~ '^[0-9]{1,10}$';

-- the same invariants over phone-like strings that do normalise
SELECT count(*) AS normalised,
       count(*) FILTER (WHERE cdp.normalize_phone(cdp.normalize_phone(input, region), 'US')
                        IS DISTINCT FROM cdp.normalize_phone(input, region)) AS not_idempotent
  FROM phone_case
 WHERE cdp.normalize_phone(input, region) IS NOT NULL;
