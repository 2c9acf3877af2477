
-- ---------------------------------------------------------------------------
-- normalize.sql: normalisers for free text, e-mail addresses, person names,
-- postal addresses and organisation names (src/normalize.c).
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.normalize_text(
    t text,
    options text[] DEFAULT '{whitespace,symbols,lowercase,unicode,numerals}')
RETURNS text
AS 'MODULE_PATHNAME', 'cdp_normalize_text'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.normalize_text(text, text[]) IS
  'Normalises free text for matching. Options, applied in this order whatever their order in the array: unicode (fold accented letters, ligatures and compatibility forms to ASCII), numerals (number words, ordinals such as "3rd"/"third" and uppercase Roman numerals II..XXXIX become digits), symbols (drop punctuation and symbols; apostrophes inside words join, other symbols between two words leave a space), lowercase, whitespace (trim, collapse white space to one space). Default: all five. An empty array returns the text unchanged; an unknown option is an error (22023), a NULL option too (22004).';

CREATE FUNCTION @extschema@.normalize_email(
    email text,
    provider_rules boolean DEFAULT true)
RETURNS text
AS 'MODULE_PATHNAME', 'cdp_normalize_email'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.normalize_email(text, boolean) IS
  'Normalises an e-mail address: trimmed and lowercased, "Name <addr>" and "mailto:" stripped, NULL when the text is not an address (one @, a dot-atom local part of at most 64 characters, a domain of two or more labels of letters of any script, digits and inner hyphens, a top-level domain of two letters or more or xn--, at most 254 characters). With provider_rules: Gmail drops dots and +tags and googlemail.com becomes gmail.com; Outlook/Hotmail/Live/MSN, iCloud, Fastmail, Proton and Yandex drop +tags; Fastmail subdomain addresses and Yandex domains are unified.';

CREATE FUNCTION @extschema@.normalize_name(name text)
RETURNS text
AS 'MODULE_PATHNAME', 'cdp_normalize_name'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.normalize_name(text) IS
  'Normalises a person''s name: lowercase ASCII, leading titles (mr, mrs, dr, prof, sir, herr, mme, sr/sra...) and trailing suffixes (jr, sr, ii, iii, phd, md, esq...) removed as whole tokens, "Last, First" reordered to "first last", apostrophes joined (O''Brien -> obrien), hyphens and other punctuation turned into spaces, name particles kept. A name made only of titles and suffixes is kept whole.';

CREATE FUNCTION @extschema@.normalize_address(address text)
RETURNS text
AS 'MODULE_PATHNAME', 'cdp_normalize_address'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.normalize_address(text) IS
  'Normalises a postal address: lowercase ASCII tokens, punctuation dropped, street types, directionals and unit designators abbreviated as in USPS Publication 28 (street -> st, avenue -> ave, north -> n, suite -> ste, "#4" -> apt 4), ordinals as digits with their suffix (fifth -> 5th), German -strasse/-straße -> -str. Words are replaced only as whole tokens, wherever they occur.';

CREATE FUNCTION @extschema@.normalize_org(name text)
RETURNS text
AS 'MODULE_PATHNAME', 'cdp_normalize_org'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.normalize_org(text) IS
  'Normalises an organisation name: lowercase ASCII tokens, punctuation dropped ("&" read as "and"), a leading "the" and legal forms at the end removed (inc, ltd, llc, plc, corp, co, gmbh, ag, gmbh & co kg, sa, sarl, srl, spa, bv, nv, ab, a/s, oy, kk, pty ltd, sdn bhd...). A name that is nothing but such words is kept whole.';
