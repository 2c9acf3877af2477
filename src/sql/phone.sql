-- ---------------------------------------------------------------------------
-- phone.sql: telephone numbers (src/phone.c, facts in src/phone_regions.h).
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.normalize_phone(phone text, default_region text DEFAULT 'US')
RETURNS text
AS 'MODULE_PATHNAME', 'cdp_normalize_phone'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.normalize_phone(text, text) IS
  'E.164 form of a written phone number (+14155550123), or NULL when the text cannot be one; a number without + or an international prefix is national to default_region (ISO 3166-1 alpha-2, ''UK'' = GB); extensions are dropped';

CREATE FUNCTION @extschema@.phone_extension(phone text)
RETURNS text
AS 'MODULE_PATHNAME', 'cdp_phone_extension'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.phone_extension(text) IS
  'Digits of the extension written after a phone number (x123, ext. 123, #123, ;ext=123, poste 12, Durchwahl 12), or NULL when there is none';
