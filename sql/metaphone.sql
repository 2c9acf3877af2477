--
-- metaphone: cdp.double_metaphone(text), Lawrence Philips' Double Metaphone.
--
-- Covers: NULL, the empty string and text without letters; classic cases
-- of the algorithm with their codes worked out by hand from its rules;
-- accented input, which is folded to ASCII first; multi-word input; 1 MB
-- inputs; and agreement with the contrib module fuzzystrmatch (a port of
-- Philips' original code) on every name of test/data/metaphone_names.txt
-- and on every pair of the letter groups the rules look for.  The function
-- has no error cases: any text has a code.  Needs a UTF-8 database.
--

-- declared pure: immutable, strict, parallel safe
SELECT p.oid::regprocedure AS function, p.provolatile, p.proisstrict,
       p.proparallel, p.prorettype::regtype
  FROM pg_proc p
 WHERE p.oid = 'cdp.double_metaphone(text)'::regprocedure;

-- NULL in, NULL out; no letters gives two empty codes
SELECT cdp.double_metaphone(NULL) IS NULL AS null_is_null;
SELECT t, cdp.double_metaphone(t)
  FROM (VALUES (''), (' '), ('123-45'), ('--- !?'), ('日本')) v(t);

-- classic cases, codes worked out by hand from the rules
SELECT input, expected, cdp.double_metaphone(input) AS actual,
       cdp.double_metaphone(input) = expected AS ok
  FROM (VALUES
    ('Smith',        '{SM0,XMT}'::text[]),  -- initial S before M: S or X; TH: 0 or T
    ('Schmidt',      '{XMT,SMT}'),          -- initial SCH before a consonant: X or S; DT: T
    ('Schneider',    '{XNTR,SNTR}'),
    ('Snider',       '{SNTR,XNTR}'),        -- so Snider meets Schneider on one code
    ('Thompson',     '{TMPS,TMPS}'),        -- TH before OM: T
    ('Thomas',       '{TMS,TMS}'),
    ('Jose',         '{HS,HS}'),            -- Spanish JOSE
    ('San Jacinto',  '{SNHS,SNHS}'),        -- J after "SAN ": H
    ('Xavier',       '{SF,SFR}'),           -- initial X: S; final -IER: R only in the alternate
    ('Caesar',       '{SSR,SSR}'),
    ('Gallegos',     '{KLKS,KKS}'),         -- Spanish LL silent in the alternate
    ('Cabrillo',     '{KPRL,KPR}'),
    ('Womo',         '{AM,FM}'),            -- initial W before a vowel: A or F
    ('Wasserman',    '{ASRM,FSRM}'),
    ('Arnoff',       '{ARNF,ARNF}'),
    ('Arnow',        '{ARN,ARNF}'),         -- final W after a vowel: F in the alternate
    ('Filipowicz',   '{FLPT,FLPF}'),        -- -WICZ: TS or FX, cut at 4
    ('Jankelowicz',  '{JNKL,ANKL}'),        -- initial J: J or A
    ('Tichner',      '{TXNR,TKNR}'),
    ('Michael',      '{MKL,MXL}'),          -- CHAE: K or X
    ('Chianti',      '{KNT,KNT}'),          -- Italian CHIA
    ('Orchestra',    '{ARKS,ARKS}'),        -- Greek ORCHES
    ('McHugh',       '{MK,MK}'),            -- CH after MC: K; GH silent after H
    ('Mac Gregor',   '{MKRK,MKRK}'),        -- C before " G": the G is silent
    ('Bacher',       '{PKR,PKR}'),          -- Germanic -ACH-
    ('Bellocchio',   '{PLX,PLX}'),          -- Italian CCH
    ('Accident',     '{AKST,AKST}'),        -- ACC before I: KS
    ('Czerny',       '{SRN,XRN}'),          -- CZ: S or X
    ('Zhao',         '{J,J}'),              -- pinyin ZH
    ('Knight',       '{NT,NT}'),            -- KN: K silent; GH after I silent
    ('Wright',       '{RT,RT}'),            -- WR: W silent
    ('Laugh',        '{LF,LF}'),            -- GH after U after L: F
    ('Hugh',         '{H,H}'),              -- Parker's rule: GH silent
    ('Ghislane',     '{JLN,JLN}'),          -- initial GHI: J; S of ISL silent
    ('Edge',         '{AJ,AJ}'),            -- DGE: J
    ('Edgar',        '{ATKR,ATKR}'),        -- DGA: TK
    ('Dumb',         '{TM,TM}'),            -- final MB: B silent
    ('Island',       '{ALNT,ALNT}'),
    ('Sugar',        '{XKR,SKR}'),
    ('Tagliaro',     '{TKLR,TLR}'),         -- Italian GLI
    ('Cagney',       '{KKN,KKN}'),
    ('Gerber',       '{KRPR,JRPR}'),        -- initial GER: K or J
    ('Rogier',       '{RJ,RJR}'),           -- French -GIER
    ('Breaux',       '{PR,PR}'),            -- French final -EAUX silent
    ('Artois',       '{ART,ARTS}'),         -- French final -OIS
    ('Schermerhorn', '{XRMR,SKRM}'),        -- Dutch SCHER
    ('School',       '{SKL,SKL}'),          -- Dutch SCHOO
    ('Thumb',        '{0M,TM}')
  ) v(input, expected)
 ORDER BY ok, input COLLATE "C";

-- case does not matter, and a multi-word input is one string with the
-- non-letters skipped
SELECT input, expected, cdp.double_metaphone(input) AS actual,
       cdp.double_metaphone(input) = expected AS ok
  FROM (VALUES
    ('smith',     '{SM0,XMT}'::text[]),
    ('SMITH',     '{SM0,XMT}'),
    ('Mary Ann',  '{MRN,MRN}'),
    ('Maryann',   '{MRN,MRN}'),
    ('O''Brien',  '{APRN,APRN}'),
    ('  smith  ', '{SM0,SMT}'),   -- S no longer first: no X alternate
    ('J. Smith',  '{JSM0,ASMT}')
  ) v(input, expected)
 ORDER BY ok, input COLLATE "C";

-- accented input is folded to ASCII first: the same codes as the plain spelling
SELECT input, plain, expected, cdp.double_metaphone(input) AS actual,
       cdp.double_metaphone(input) = expected
         AND cdp.double_metaphone(plain) = expected AS ok
  FROM (VALUES
    ('Müller',  'Muller', '{MLR,MLR}'::text[]),
    ('Ñúñez',   'Nunez',  '{NNS,NNS}'),
    ('Çelik',   'Celik',  '{SLK,SLK}'),
    ('Łukasz',  'Lukasz', '{LKS,LKX}'),  -- SZ: S or X
    ('Søren',   'Soren',  '{SRN,SRN}'),
    ('Straße',  'Strasse', '{STRS,STRS}'),
    ('José',    'Jose',   '{HS,HS}'),
    ('Dvořák',  'Dvorak', '{TFRK,TFRK}'),
    ('Æsop',    'AEsop',  '{ASP,ASP}'),
    ('ｓｍｉｔｈ', 'smith', '{SM0,XMT}')    -- fullwidth letters
  ) v(input, plain, expected)
 ORDER BY ok, input COLLATE "C";

-- characters with no ASCII spelling are skipped like punctuation
SELECT cdp.double_metaphone('日本 Jose') = '{JS,HS}' AS cjk_skipped,
       cdp.double_metaphone('😀Smith') = '{SM0,SMT}' AS emoji_skipped;

-- 1 MB inputs: scanning stops once both codes are complete, and a text
-- with no letters is scanned to its end
SELECT cdp.double_metaphone(repeat('ab', 500000)) = '{APPP,APPP}' AS ascii_1mb,
       cdp.double_metaphone(repeat('-', 1000000)) = '{"",""}' AS no_letters_1mb,
       cdp.double_metaphone(repeat('é', 500000)) = '{A,A}' AS accented_1mb,
       cdp.double_metaphone(repeat('日', 350000) || 'Smith') = '{SM0,SMT}' AS cjk_1mb;

-- Fuzz: 5000 random strings of ASCII, punctuation, digits, accented letters,
-- CJK and emoji; every result is two codes of at most 4 code characters.
SELECT setseed(0.25);
SELECT count(*) AS strings,
       count(*) FILTER (WHERE array_length(d, 1) <> 2
                          OR d[1] !~ '^[0AFHJKLMNPRSTX]{0,4}$'
                          OR d[2] !~ '^[0AFHJKLMNPRSTX]{0,4}$') AS malformed
  FROM (SELECT cdp.double_metaphone(coalesce(x, '')) AS d
          FROM (SELECT (SELECT string_agg(substr(
                          'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,''-/#éèçñöüßøåæœłđþÉÇÑØŁ你好世界日本語한국어😀🎉ﬁﬀ﷽Ωж',
                          (random() * 110)::int + 1, 1), '')
                    FROM generate_series(1, (random() * 300)::int + g * 0)) AS x
                  FROM generate_series(1, 5000) g) s) r;

-- The oracle: fuzzystrmatch's dmetaphone and dmetaphone_alt, a port of
-- Philips' original code, on real names ...
CREATE EXTENSION fuzzystrmatch;
CREATE TEMP TABLE dm_names (name text);
\copy dm_names FROM 'test/data/metaphone_names.txt'
DELETE FROM dm_names WHERE name LIKE '#%';
SELECT count(*) AS names,
       count(*) FILTER (WHERE cdp.double_metaphone(name)
                              <> ARRAY[dmetaphone(name), dmetaphone_alt(name)]) AS disagreements,
       count(DISTINCT cdp.double_metaphone(name)) > 1000 AS varied
  FROM dm_names;
SELECT name, cdp.double_metaphone(name) AS ours,
       ARRAY[dmetaphone(name), dmetaphone_alt(name)] AS oracle
  FROM dm_names
 WHERE cdp.double_metaphone(name) <> ARRAY[dmetaphone(name), dmetaphone_alt(name)]
 ORDER BY name COLLATE "C";

-- ... and on every pair of the letter groups the rules test for, plus single
-- letters, vowels, a space and a hyphen (so that every rule fires, next to
-- every other).
CREATE TEMP TABLE dm_groups (g text);
INSERT INTO dm_groups
SELECT unnest(string_to_array(
  'ACH,BACHER,MACHER,CAESAR,CHIA,CHAE,HARAC,HARIS,HOR,HYM,HIA,HEM,CHORE,VAN ,VON ,'
  'SCH,ORCHES,ARCHIT,ORCHID,MC,WICZ,CIA,CC,UCCEE,UCCES,HU,CK,CG,CQ,CIO,CIE, C, Q, G,'
  'DG,DT,DD,GH,GN,EY,LI,ES,EP,EB,EL,IB,IL,IN,IE,EI,ER,DANGER,RANGER,MANGER,RGY,OGY,'
  'AGGI,OGGI,ET,IER ,JOSE,SAN ,ILLO,ILLA,ALLE,AS,OS,UMB,ME,MA,ISL,YSL,SUGAR,HEIM,'
  'HOEK,HOLM,HOLZ,SIO,SIA,SIAN,SZ,SC,OO,EN,UY,ED,EM,AI,OI,TION,TIA,TCH,TH,TTH,OM,AM,'
  'WR,WH,EWSKI,EWSKY,OWSKI,OWSKY,WITZ,IAU,EAU,AU,OU,ZH,ZO,ZI,ZA,KN,PN,PS,PH,PB,XC,'
  'BB,FF,KK,NN,QQ,VV,RR,SS,ZZ,JJ,LL,MM,TT,GG,XX,A,B,C,D,E,F,G,H,I,J,K,L,M,N,O,P,Q,'
  'R,S,T,U,V,W,X,Y,Z, ,-', ','));
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE cdp.double_metaphone(w)
                              <> ARRAY[dmetaphone(w), dmetaphone_alt(w)]) AS disagreements
  FROM (SELECT a.g || b.g AS w FROM dm_groups a, dm_groups b) p;
SELECT w, cdp.double_metaphone(w) AS ours,
       ARRAY[dmetaphone(w), dmetaphone_alt(w)] AS oracle
  FROM (SELECT a.g || b.g AS w FROM dm_groups a, dm_groups b) p
 WHERE cdp.double_metaphone(w) <> ARRAY[dmetaphone(w), dmetaphone_alt(w)]
 ORDER BY w COLLATE "C";

DROP EXTENSION fuzzystrmatch;
