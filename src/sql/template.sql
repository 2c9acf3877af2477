
-- ---------------------------------------------------------------------------
-- template.sql: the e-mail template language of journeys (src/template.c):
-- rendering a template for one recipient's jsonb context, checking a
-- template and listing the context paths and coupon prefixes it uses when a
-- journey's template is created, and the per-recipient coupon codes.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.render_text(template text, context jsonb, html boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'cdp_render_text'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.render_text(text, jsonb, boolean) IS
  'Renders an e-mail template ({{ path | filter }}, {% if %}, {% for %}, {{ coupon "P" }}) for a jsonb context object; with html => true every printed value is HTML-escaped';

CREATE FUNCTION @extschema@.template_check(template text)
RETURNS void
AS 'MODULE_PATHNAME', 'cdp_template_check'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.template_check(text) IS
  'Parses an e-mail template and raises its syntax error (line, column, the line quoted with a caret), if any';

CREATE FUNCTION @extschema@.template_paths(template text)
RETURNS text[]
AS 'MODULE_PATHNAME', 'cdp_template_paths'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.template_paths(text) IS
  'The distinct context paths an e-mail template reads (not loop variables nor forloop), in order of first use';

CREATE FUNCTION @extschema@.template_coupons(template text)
RETURNS text[]
AS 'MODULE_PATHNAME', 'cdp_template_coupons'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.template_coupons(text) IS
  'The distinct coupon prefixes an e-mail template prints ({{ coupon "PREFIX" }}), in order of first use';

CREATE FUNCTION @extschema@.coupon_code(prefix text, seed text)
RETURNS text
AS 'MODULE_PATHNAME', 'cdp_coupon_code'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.coupon_code(text, text) IS
  'The coupon code {{ coupon "prefix" }} prints for a recipient whose coupon_seed is seed: prefix, a dash, 8 characters of 23456789ABCDEFGHJKLMNPQRSTUVWXYZ from HMAC-SHA256(seed, prefix)';
