--
-- normalize: cdp.normalize_text, cdp.normalize_name, cdp.normalize_address
-- and cdp.normalize_org (cdp.normalize_email has its own file, email.sql).
--
-- Every case is written as (input, expected) with the expected value worked
-- out by hand from the documented rules; the queries print "ok" or what the
-- function returned instead.  Then: each option of normalize_text alone and
-- together, the errors, NULL / empty / multibyte / 1 MB inputs, and
-- idempotence (f(f(x)) = f(x)) over several hundred inputs and a seeded
-- fuzz of random strings, printed as counts of violations.
--
\set VERBOSITY default

CREATE TEMP TABLE cases (
    id serial,
    fn text,            -- which normaliser
    input text,
    expected text
);

-- ---------------------------------------------------------------------------
-- normalize_text with the default options
-- (order: unicode, numerals, symbols, lowercase, whitespace)
-- ---------------------------------------------------------------------------
INSERT INTO cases (fn, input, expected) VALUES
    ('text', 'Hello,   World!', 'hello world'),
    ('text', '  Smith-Jones  ', 'smith jones'),
    ('text', 'O''Brien', 'obrien'),
    ('text', 'rock ''n'' roll', 'rock n roll'),
    ('text', 'a&b', 'a b'),
    ('text', 'a - b', 'a b'),
    ('text', 'e-mail', 'e mail'),
    ('text', '3.5', '3 5'),
    ('text', '1,000', '1 000'),
    ('text', '“Quoted” text…', 'quoted text'),
    ('text', 'Café Crème', 'cafe creme'),
    ('text', 'Straße', 'strasse'),
    ('text', 'Øresund', 'oresund'),
    ('text', 'ﬁne ﬂour', 'fine flour'),
    ('text', 'ÀÉÎÕÜ', 'aeiou'),
    ('text', 'ＦＵＬＬ　ＷＩＤＴＨ', 'full width'),
    ('text', 'Acme™ Widgets®', 'acme widgets'),
    ('text', 'x²', 'x2'),
    ('text', '½ price', '1 2 price'),
    ('text', 'I ♥ NY 😀', 'i ny'),
    ('text', 'soft' || U&'\00AD' || 'hyphen', 'softhyphen'),
    ('text', 'non' || U&'\00A0' || 'breaking', 'non breaking'),
    ('text', '北京市 東京', '北京市 東京'),
    -- numerals: Roman numerals, uppercase I/V/X, two letters or more, canonical
    ('text', 'Henry VIII', 'henry 8'),
    ('text', 'Apollo XIII', 'apollo 13'),
    ('text', 'Louis XIV.', 'louis 14'),
    ('text', 'Super Bowl XXXIX', 'super bowl 39'),
    ('text', 'Rocky II', 'rocky 2'),
    ('text', 'Ⅻ', '12'),
    ('text', 'I, Claudius', 'i claudius'),
    ('text', 'Chapter V', 'chapter v'),
    ('text', 'XL Sizes', 'xl sizes'),
    ('text', 'MD DC CD MIX', 'md dc cd mix'),
    ('text', 'ii and vi', 'ii and vi'),
    ('text', 'IIII VX XXXX IC', 'iiii vx xxxx ic'),
    -- numerals: ordinals written with digits (the right suffix only)
    ('text', '3rd street', '3 street'),
    ('text', 'Third Street', '3 street'),
    ('text', '3 street', '3 street'),
    ('text', '1st 2nd 3rd 4th 11th 12th 13th 21st 22nd 101st 111th', '1 2 3 4 11 12 13 21 22 101 111'),
    ('text', '2th 12nd', '2th 12nd'),
    -- numerals: number words
    ('text', 'twenty-one', '21'),
    ('text', 'Twenty One', '21'),
    ('text', 'twenty first', '21'),
    ('text', 'Twenty-First Century', '21 century'),
    ('text', 'seventy-seven', '77'),
    ('text', 'forty-two and fourty two', '42 and 42'),
    ('text', 'one hundred and five', '105'),
    ('text', 'two thousand twenty-two', '2022'),
    ('text', 'nineteen hundred', '1900'),
    ('text', 'one hundred thousand', '100000'),
    ('text', 'hundred', '100'),
    ('text', 'a thousand', 'a 1000'),
    ('text', 'zero', '0'),
    ('text', 'zero one', '0 1'),
    ('text', 'one two three', '1 2 3'),
    ('text', 'nineteen eighty-four', '19 84'),
    ('text', 'twenty twenty', '20 20'),
    ('text', 'eleventh hour', '11 hour'),
    ('text', 'the second', 'the 2'),
    ('text', 'twenty.one', '20 1'),
    ('text', 'someone', 'someone'),
    ('text', 'o''ne', '1'),
    ('text', '', ''),
    ('text', '   ', ''),
    ('text', '-*-', '');

-- ---------------------------------------------------------------------------
-- normalize_name
-- ---------------------------------------------------------------------------
INSERT INTO cases (fn, input, expected) VALUES
    ('name', 'John Smith', 'john smith'),
    ('name', '  JOHN   SMITH  ', 'john smith'),
    ('name', 'Smith, John', 'john smith'),
    ('name', 'Smith, John Jr.', 'john smith'),
    ('name', 'John Smith, Jr.', 'john smith'),
    ('name', 'John Smith Jr.', 'john smith'),
    ('name', 'Smith Jr., John', 'john smith'),
    ('name', 'Jr, John', 'john'),
    ('name', 'John Smith III', 'john smith'),
    ('name', 'John Paul II', 'john paul'),
    ('name', 'John Smith M.D.', 'john smith'),
    ('name', 'Jane Doe, M.D., Ph.D.', 'jane doe'),
    ('name', 'SMITH, JOHN, JR., PHD', 'john smith'),
    ('name', 'Dr. Jane van der Berg-Smith, PhD', 'jane van der berg smith'),
    ('name', 'Prof. Dr. Hans Müller', 'hans muller'),
    ('name', 'Frau Dr. Angela Merkel', 'angela merkel'),
    ('name', 'Mme Marie Curie', 'marie curie'),
    ('name', 'Mr. & Mrs. John Smith', 'john smith'),
    ('name', 'Mr and Mrs John Smith', 'john smith'),
    ('name', 'Rev. Martin Luther King Jr.', 'martin luther king'),
    ('name', 'Capt. Jack Sparrow', 'jack sparrow'),
    ('name', 'Mr. Don Draper', 'don draper'),
    ('name', 'Sr. Juan García Sr.', 'juan garcia'),
    ('name', 'Sra. María José López', 'maria jose lopez'),
    ('name', 'Smith, Dr. John', 'john smith'),
    ('name', 'Dr. Smith, John', 'john smith'),
    ('name', 'Dr Smith, Mr', 'smith'),
    ('name', 'Herr, Trude', 'trude herr'),
    ('name', 'Trude Herr', 'trude herr'),
    ('name', 'O''Brien', 'obrien'),
    ('name', 'D’Angelo, Mary', 'mary dangelo'),
    ('name', 'Jean-Luc Picard', 'jean luc picard'),
    ('name', 'Mary-Kate Olsen', 'mary kate olsen'),
    ('name', 'van Gogh, Vincent', 'vincent van gogh'),
    ('name', 'Ludwig van Beethoven', 'ludwig van beethoven'),
    ('name', 'Leonardo da Vinci', 'leonardo da vinci'),
    ('name', 'Juan de la Cruz del Río', 'juan de la cruz del rio'),
    ('name', 'J.R.R. Tolkien', 'j r r tolkien'),
    ('name', 'J. R. R. Tolkien', 'j r r tolkien'),
    ('name', 'Smith, J.R.', 'j r smith'),
    ('name', 'William (Bill) Smith', 'william bill smith'),
    ('name', 'Smith, John, Paul', 'smith john paul'),
    ('name', 'Ms. Zoë Ångström-Łukasiewicz', 'zoe angstrom lukasiewicz'),
    ('name', 'José María Aznar-López', 'jose maria aznar lopez'),
    ('name', 'Søren Kierkegaard', 'soren kierkegaard'),
    ('name', '李小龍', '李小龍'),
    -- nothing but titles and suffixes: kept
    ('name', 'Dr', 'dr'),
    ('name', 'Mr Jr', 'mr jr'),
    ('name', 'Sir', 'sir'),
    ('name', '', ''),
    ('name', ' - ', '');

-- ---------------------------------------------------------------------------
-- normalize_address
-- ---------------------------------------------------------------------------
INSERT INTO cases (fn, input, expected) VALUES
    ('address', '123 N. Main Street, Apt 4', '123 n main st apt 4'),
    ('address', '123 north main st #4', '123 n main st apt 4'),
    ('address', '123 North Main St., Apt. #4', '123 n main st apt 4'),
    ('address', '456 Elm Avenue', '456 elm ave'),
    ('address', '456 ELM AV', '456 elm ave'),
    ('address', '789 Sunset Boulevard', '789 sunset blvd'),
    ('address', '10 Downing Road', '10 downing rd'),
    ('address', '12 Oak Lane', '12 oak ln'),
    ('address', '9 Elm Drive', '9 elm dr'),
    ('address', '5 Court Square', '5 ct sq'),
    ('address', '3 Rose Terrace', '3 rose ter'),
    ('address', '4 Pacific Highway', '4 pacific hwy'),
    ('address', '8 Bronx River Parkway', '8 bronx riv pkwy'),
    ('address', '2 Columbus Circle', '2 columbus cir'),
    ('address', '6 Maple Place', '6 maple pl'),
    ('address', '1 Centre Court', '1 ctr ct'),
    ('address', '1 Infinite Loop', '1 infinite loop'),
    ('address', 'Route 66', 'rte 66'),
    ('address', '77 Park Avenue South, Floor 3', '77 park ave s fl 3'),
    ('address', '123 North-East 5th Ave Suite #200', '123 ne 5th ave ste 200'),
    ('address', '1600 Pennsylvania Ave. N.W.', '1600 pennsylvania ave nw'),
    ('address', '1 Southwest Highway', '1 sw hwy'),
    ('address', 'North Avenue', 'n ave'),
    ('address', '100 East Main Street', '100 e main st'),
    ('address', '100 E. Main St.', '100 e main st'),
    ('address', '500 Twenty-First St NW', '500 21st st nw'),
    ('address', '1 Fifth Avenue', '1 5th ave'),
    ('address', '350 Fifth Ave, 34th Fl', '350 5th ave 34th fl'),
    ('address', '5TH ST', '5th st'),
    ('address', '2th Street', '2nd st'),
    ('address', '11st Street', '11th st'),
    ('address', 'Bldg 7, Room 12', 'bldg 7 rm 12'),
    ('address', 'Apartment 9, Building C', 'apt 9 bldg c'),
    ('address', 'Apt#4B', 'apt 4b'),
    ('address', 'Suite #4', 'ste 4'),
    ('address', '# 5', 'apt 5'),
    ('address', 'P.O. Box 123', 'po box 123'),
    ('address', 'Post Office Box 123', 'po box 123'),
    ('address', 'PO Box 123', 'po box 123'),
    ('address', 'P O Box 123', 'po box 123'),
    ('address', '42 St. Mary''s Road', '42 st marys rd'),
    ('address', '42 Saint Mary''s Rd.', '42 st marys rd'),
    ('address', '10 Mount Vernon Pkwy', '10 mt vernon pkwy'),
    ('address', 'Hauptstraße 5', 'hauptstr 5'),
    ('address', 'Hauptstrasse 5', 'hauptstr 5'),
    ('address', 'Hauptstr. 5', 'hauptstr 5'),
    ('address', 'Berliner Straße 12', 'berliner st 12'),
    ('address', 'Berliner Str. 12', 'berliner st 12'),
    ('address', 'Konrad-Adenauer-Str. 3', 'konrad adenauer st 3'),
    ('address', '12-34 56th Road', '12 34 56th rd'),
    ('address', '221B Baker St.', '221b baker st'),
    ('address', 'Rue de la Paix', 'rue de la paix'),
    ('address', 'Street Lane', 'st ln'),
    ('address', '東京都千代田区 1-1', '東京都千代田区 1 1'),
    ('address', '', '');

-- ---------------------------------------------------------------------------
-- normalize_org
-- ---------------------------------------------------------------------------
INSERT INTO cases (fn, input, expected) VALUES
    ('org', 'ACME Corp.', 'acme'),
    ('org', 'Acme Corporation', 'acme'),
    ('org', 'ACME, Inc.', 'acme'),
    ('org', 'Acme Incorporated', 'acme'),
    ('org', 'The Coca-Cola Company', 'coca cola'),
    ('org', 'Siemens AG', 'siemens'),
    ('org', 'Volkswagen Aktiengesellschaft', 'volkswagen'),
    ('org', 'Foo GmbH & Co. KG', 'foo'),
    ('org', 'Banco Santander, S.A.', 'banco santander'),
    ('org', 'Société Générale S.A.', 'societe generale'),
    ('org', 'Maersk A/S', 'maersk'),
    ('org', 'Skoda Auto a.s.', 'skoda auto'),
    ('org', 'Philips N.V.', 'philips'),
    ('org', 'Fiat S.p.A.', 'fiat'),
    ('org', 'Nokia Oyj', 'nokia'),
    ('org', 'Spotify AB', 'spotify'),
    ('org', 'Sony K.K.', 'sony'),
    ('org', 'Tata Consultancy Services Private Limited', 'tata consultancy services'),
    ('org', 'Infosys Pvt. Ltd.', 'infosys'),
    ('org', 'Petronas Sdn. Bhd.', 'petronas'),
    ('org', 'BHP Pty Ltd', 'bhp'),
    ('org', 'Cemex S.A. de C.V.', 'cemex'),
    ('org', 'Grupo Bimbo, S.A.B. de C.V.', 'grupo bimbo'),
    ('org', 'Deloitte LLP', 'deloitte'),
    ('org', 'Acme Holdings Co., Ltd.', 'acme holdings'),
    ('org', 'Goldman Sachs Group, Inc.', 'goldman sachs group'),
    ('org', 'Smith & Co.', 'smith'),
    ('org', 'Procter & Gamble Co.', 'procter and gamble'),
    ('org', 'Procter and Gamble Company', 'procter and gamble'),
    ('org', 'Johnson & Johnson', 'johnson and johnson'),
    ('org', 'McDonald''s Corp', 'mcdonalds'),
    ('org', 'A.B.C. Ltd', 'abc'),
    ('org', '3M Company', '3m'),
    ('org', 'Co-operative Bank', 'co operative bank'),
    ('org', 'Theatre Co', 'theatre'),
    -- nothing but noise words: kept
    ('org', 'The Company', 'the company'),
    ('org', 'Inc.', 'inc'),
    ('org', 'Company Limited', 'company limited'),
    ('org', 'The The', 'the the'),
    ('org', '', '');

SELECT fn, input, expected,
       CASE WHEN actual IS NOT DISTINCT FROM expected THEN 'ok'
            ELSE 'GOT: ' || coalesce(actual, 'NULL') END AS result
  FROM (SELECT id, fn, input, expected,
               CASE fn WHEN 'text' THEN cdp.normalize_text(input)
                       WHEN 'name' THEN cdp.normalize_name(input)
                       WHEN 'address' THEN cdp.normalize_address(input)
                       WHEN 'org' THEN cdp.normalize_org(input) END AS actual
          FROM cases) c
 ORDER BY id;

-- every abbreviation the address normaliser produces maps to itself
SELECT a AS abbreviation, cdp.normalize_address(a) AS normalized
  FROM unnest(ARRAY['aly','anx','arc','ave','byu','bch','bnd','blf','btm','blvd','br',
                    'brg','brk','byp','cyn','cswy','ctr','cir','clf','clb','cor','crse',
                    'ct','cv','crk','cres','xing','dr','est','expy','ext','fls','fry',
                    'fld','flds','frk','ft','fwy','gdn','gdns','gtwy','gln','grn','grv',
                    'hbr','hts','hwy','hl','hls','holw','is','jct','lk','lks','lndg','ln',
                    'mnr','mdw','mdws','mtwy','mt','mtn','orch','pkwy','pl','plz','pt',
                    'prt','rnch','rdg','riv','rd','rte','shr','spg','spgs','sq','sta',
                    'strm','st','smt','ter','trce','trl','tunl','tpke','vly','vw','vlg',
                    'vis','n','s','e','w','ne','nw','se','sw','apt','bsmt','bldg','dept',
                    'fl','ofc','ph','rm','ste','unit']) a
 WHERE cdp.normalize_address(a) <> a;

-- ---------------------------------------------------------------------------
-- normalize_text options: each alone, combined, empty; order and case of the
-- array do not matter
-- ---------------------------------------------------------------------------
SELECT o AS options, '[' || cdp.normalize_text('  Henry  VIII''s  Café-Bar!  twenty-one ', o::text[]) || ']' AS result
  FROM unnest(ARRAY['{}', '{whitespace}', '{symbols}', '{lowercase}', '{unicode}',
                    '{numerals}', '{symbols,whitespace}', '{whitespace,symbols}',
                    '{WHITESPACE,Symbols}', '{lowercase,symbols,whitespace}',
                    '{numerals,lowercase}', '{unicode,numerals,symbols,lowercase,whitespace}',
                    '{whitespace,whitespace}']) o;

SELECT replace(replace(input, E'\t', '\t'), E'\n', '\n') AS input, o AS options, expected,
       CASE WHEN cdp.normalize_text(input, o::text[]) = expected THEN 'ok'
            ELSE 'GOT: ' || cdp.normalize_text(input, o::text[]) END AS result
  FROM (VALUES
    -- whitespace: trim and collapse every kind of white space
    (E'  a \t b\n\nc  ', '{whitespace}', 'a b c'),
    ('a' || U&'\3000\2003' || 'b', '{whitespace}', 'a b'),
    -- symbols without whitespace: a dropped symbol between two words leaves one space
    ('a-b', '{symbols}', 'a b'),
    ('a - b', '{symbols}', 'a  b'),
    ('(a)', '{symbols}', 'a'),
    -- unicode runs before lowercase, whatever the database's locale
    ('ÉCOLE', '{lowercase,unicode}', 'ecole'),
    -- numerals sees the original case even when lowercase is on
    ('Henry VIII', '{lowercase,numerals}', 'henry 8'),
    ('Henry viii', '{lowercase,numerals}', 'henry viii'),
    -- numerals alone keeps the separators it does not consume
    ('twenty-one, III.', '{numerals}', '21, 3.'),
    -- without unicode, accented letters stay
    ('Café', '{lowercase}', 'café')
  ) AS v(input, o, expected);

-- lowercasing letters outside ASCII follows lower() of the database
SELECT cdp.normalize_text('МОСКВА Ελλάδα', '{lowercase}') = lower('МОСКВА Ελλάδα') AS like_lower,
       cdp.normalize_text(' МОСКВА,  Ελλάδα! ') = lower('МОСКВА Ελλάδα') AS default_options,
       cdp.normalize_name('ИВАН ПЕТРОВ') = lower('ИВАН ПЕТРОВ') AS name;

-- ---------------------------------------------------------------------------
-- errors
-- ---------------------------------------------------------------------------
SELECT cdp.normalize_text('x', '{whitespace,xyz}');
SELECT cdp.normalize_text('x', ARRAY['whitespace', NULL]);
SELECT cdp.normalize_text('x', '{{whitespace},{symbols}}');
DO $$
DECLARE
    opts text[];
BEGIN
    FOREACH opts SLICE 1 IN ARRAY ARRAY[['xyz'], ['']] LOOP
        BEGIN
            PERFORM cdp.normalize_text('x', opts);
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE '%: %', SQLSTATE, SQLERRM;
        END;
    END LOOP;
    BEGIN
        PERFORM cdp.normalize_text('x', ARRAY[NULL::text]);
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE '%: %', SQLSTATE, SQLERRM;
    END;
    BEGIN
        PERFORM cdp.normalize_text('x', '{{a}}');
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE '%: %', SQLSTATE, SQLERRM;
    END;
END
$$;

-- ---------------------------------------------------------------------------
-- NULL in, NULL out; empty; 1 MB inputs (linear time and memory)
-- ---------------------------------------------------------------------------
SELECT cdp.normalize_text(NULL) IS NULL AS text_null,
       cdp.normalize_text('x', NULL) IS NULL AS options_null,
       cdp.normalize_name(NULL) IS NULL AS name_null,
       cdp.normalize_address(NULL) IS NULL AS address_null,
       cdp.normalize_org(NULL) IS NULL AS org_null,
       cdp.normalize_text('', '{}') = '' AS empty_no_options;

SELECT length(cdp.normalize_text(repeat('ab', 500000))) AS text_1mb,
       length(cdp.normalize_name(repeat('ab', 500000))) AS name_1mb,
       length(cdp.normalize_address(repeat('ab', 500000))) AS address_1mb,
       length(cdp.normalize_org(repeat('ab', 500000))) AS org_1mb;

-- worked out by hand:
--   text:    each 'Twenty-One é, ' gives '21 e': 80000 * 4 + 79999 spaces = 399999
--   name:    240000 tokens mr, jr, mr, jr...; the first "mr" (title) and the
--            last "jr" (suffix) go: 239998 * 2 + 239997 spaces = 719993
--   address: each '#4 N.E. ' gives 'apt 4 ne': 130000 * 8 + 129999 = 1169999
--   org:     nothing but "and ltd" pairs, all noise, so all kept:
--            340000 * 3 + 339999 spaces = 1359999
--   invisible: 300000 soft hyphens vanish, leaving 'x'
SELECT length(cdp.normalize_text(repeat('Twenty-One é, ', 80000))) AS text_words,
       length(cdp.normalize_name(repeat('Mr. Jr., ', 120000))) AS name_titles,
       length(cdp.normalize_address(repeat('#4 N.E. ', 130000))) AS address_marks,
       length(cdp.normalize_org(repeat('& Ltd ', 170000))) AS org_forms,
       length(cdp.normalize_text(repeat(U&'\00AD', 300000) || 'x')) AS invisible;

-- ---------------------------------------------------------------------------
-- idempotence: f(f(x)) = f(x), over every input above, their pairwise
-- combinations, and a seeded fuzz of random strings
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE inputs AS
    SELECT input AS x FROM cases
    UNION
    SELECT a.input || ', ' || b.input FROM cases a JOIN cases b ON (a.id * 7 + b.id) % 13 = 0
    UNION
    SELECT a.input || ' ' || b.input FROM cases a JOIN cases b ON (a.id * 5 + b.id) % 17 = 0;

SELECT count(*) > 500 AS several_hundred_inputs FROM inputs;

SELECT count(*) FILTER (WHERE cdp.normalize_text(cdp.normalize_text(x)) <> cdp.normalize_text(x)) AS text,
       count(*) FILTER (WHERE cdp.normalize_name(cdp.normalize_name(x)) <> cdp.normalize_name(x)) AS name,
       count(*) FILTER (WHERE cdp.normalize_address(cdp.normalize_address(x)) <> cdp.normalize_address(x)) AS address,
       count(*) FILTER (WHERE cdp.normalize_org(cdp.normalize_org(x)) <> cdp.normalize_org(x)) AS org
  FROM inputs;

SELECT setseed(0.25);
CREATE TEMP TABLE fuzz AS
    SELECT i, (SELECT coalesce(string_agg(chr(CASE WHEN r < 0.35 THEN 32 + (r * 270)::int
                                                   WHEN r < 0.55 THEN 160 + ((r - 0.35) * 2000)::int
                                                   WHEN r < 0.70 THEN 8192 + ((r - 0.55) * 30000)::int
                                                   WHEN r < 0.85 THEN 12288 + ((r - 0.70) * 280000)::int
                                                   WHEN r < 0.95 THEN 65280 + ((r - 0.85) * 2000)::int
                                                   ELSE 127744 + ((r - 0.95) * 20000)::int END), ''), '')
                 FROM (SELECT random() AS r FROM generate_series(1, (random() * 120)::int) WHERE i > 0) g) AS x
      FROM generate_series(1, 1000) i;

SELECT count(*) FILTER (WHERE cdp.normalize_text(cdp.normalize_text(x)) <> cdp.normalize_text(x)) AS text,
       count(*) FILTER (WHERE cdp.normalize_text(cdp.normalize_text(x, '{whitespace,symbols}'), '{whitespace,symbols}')
                              <> cdp.normalize_text(x, '{whitespace,symbols}')) AS text_ws_symbols,
       count(*) FILTER (WHERE cdp.normalize_name(cdp.normalize_name(x)) <> cdp.normalize_name(x)) AS name,
       count(*) FILTER (WHERE cdp.normalize_address(cdp.normalize_address(x)) <> cdp.normalize_address(x)) AS address,
       count(*) FILTER (WHERE cdp.normalize_org(cdp.normalize_org(x)) <> cdp.normalize_org(x)) AS org
  FROM fuzz;
