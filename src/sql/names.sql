
-- ---------------------------------------------------------------------------
-- names.sql: nickname knowledge and person-name similarity.
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.nickname (
    name        text NOT NULL,
    nickname    text NOT NULL,
    source      text NOT NULL DEFAULT 'user',
    PRIMARY KEY (name, nickname),
    CONSTRAINT nickname_lowercase CHECK (name = lower(name) AND nickname = lower(nickname)),
    CONSTRAINT nickname_not_self CHECK (name <> nickname)
);
COMMENT ON TABLE @extschema@.nickname IS
  'Nickname knowledge used by name matching: "nickname" is a short or familiar form of the given name "name" (Bob of Robert). Seeded with source = ''builtin''; add your own rows with source = ''user''.';
COMMENT ON COLUMN @extschema@.nickname.name IS 'the formal given name, lowercase ASCII';
COMMENT ON COLUMN @extschema@.nickname.nickname IS 'a nickname or short form of it, lowercase ASCII';
COMMENT ON COLUMN @extschema@.nickname.source IS '''builtin'' for the rows shipped with pg_cdp, anything else for rows added by users (those are kept by pg_dump)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.nickname', 'WHERE source <> ''builtin''');
-- every role that matches names reads it; changing it needs a grant from its owner
GRANT SELECT ON @extschema@.nickname TO PUBLIC;

CREATE FUNCTION @extschema@.nickname_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'cdp_nickname_changed'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.nickname_changed() IS
  'Trigger on cdp.nickname: makes every session reload its nickname cache once the change commits';

CREATE TRIGGER nickname_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.nickname
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.nickname_changed();
COMMENT ON TRIGGER nickname_changed ON @extschema@.nickname IS
  'Invalidates the per-session nickname caches used by name_similarity, names_equivalent and name_variants';

CREATE FUNCTION @extschema@.names_equivalent(a text, b text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'cdp_names_equivalent'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.names_equivalent(text, text) IS
  'True when two names have the same number of words and each word equals, or is a nickname equivalent (cdp.nickname) of, the word at the same place';

CREATE FUNCTION @extschema@.name_variants(name text)
RETURNS text[]
AS 'MODULE_PATHNAME', 'cdp_name_variants'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.name_variants(text) IS
  'The normalised given name and every name equivalent to it by cdp.nickname (formal names it stands for and their nicknames), sorted';

CREATE FUNCTION @extschema@.name_similarity(a text, b text)
RETURNS double precision
AS 'MODULE_PATHNAME', 'cdp_name_similarity'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.name_similarity(text, text) IS
  'Similarity of two person names in [0, 1]: normalised, words paired one to one by best score (equal 1, nickname 0.95, initial 0.85, else Jaro-Winkler), order-independent';
