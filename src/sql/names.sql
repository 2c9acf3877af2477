
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
