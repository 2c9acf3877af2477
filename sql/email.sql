--
-- email: cdp.normalize_email.
--
-- Valid and invalid shapes (NULL when the text is not an address), the
-- wrappers that are stripped ("Name <addr>", "mailto:"), length limits,
-- internationalised domains and local parts, each mailbox provider rule
-- with provider_rules on and off, NULL / empty / 1 MB inputs, and
-- idempotence.  Every case is (input, expected) with the expected value
-- written by hand; the query prints "ok" or what came back instead.
--
CREATE TEMP TABLE email_cases (
    id serial,
    input text,
    expected text,          -- with provider_rules = true (the default)
    expected_plain text     -- with provider_rules = false
);

-- ---------------------------------------------------------------------------
-- valid shapes: trimmed, lowercased, wrappers stripped
-- ---------------------------------------------------------------------------
INSERT INTO email_cases (input, expected, expected_plain) VALUES
    ('john.doe@example.com', 'john.doe@example.com', 'john.doe@example.com'),
    ('  John.Doe@Example.COM  ', 'john.doe@example.com', 'john.doe@example.com'),
    ('JOHN@EXAMPLE.COM', 'john@example.com', 'john@example.com'),
    ('John Doe <John.Doe@Example.com>', 'john.doe@example.com', 'john.doe@example.com'),
    ('"Doe, John" <john@example.com>', 'john@example.com', 'john@example.com'),
    ('<john@example.com>', 'john@example.com', 'john@example.com'),
    ('< john@example.com >', 'john@example.com', 'john@example.com'),
    ('mailto:john@example.com', 'john@example.com', 'john@example.com'),
    ('MAILTO:John@Example.com?subject=Hello', 'john@example.com', 'john@example.com'),
    ('Jane <mailto:jane@example.com>', 'jane@example.com', 'jane@example.com'),
    ('user+tag@example.com', 'user+tag@example.com', 'user+tag@example.com'),
    ('o''reilly@example.ie', 'o''reilly@example.ie', 'o''reilly@example.ie'),
    ('a_b-c@x-y.io', 'a_b-c@x-y.io', 'a_b-c@x-y.io'),
    ('first.last@sub.domain.co.uk', 'first.last@sub.domain.co.uk', 'first.last@sub.domain.co.uk'),
    ('!#$%&''*+-/=?^_`{|}~@example.org', '!#$%&''*+-/=?^_`{|}~@example.org', '!#$%&''*+-/=?^_`{|}~@example.org'),
    ('1234567890@example.com', '1234567890@example.com', '1234567890@example.com'),
    ('x@xn--80ak6aa92e.com', 'x@xn--80ak6aa92e.com', 'x@xn--80ak6aa92e.com'),
    ('x@example.xn--p1ai', 'x@example.xn--p1ai', 'x@example.xn--p1ai'),
    ('x@a-b--c.museum', 'x@a-b--c.museum', 'x@a-b--c.museum'),
    -- internationalised: letters of any script in the local part and the domain
    ('пользователь@пример.рф', 'пользователь@пример.рф', 'пользователь@пример.рф'),
    ('user@bücher.de', 'user@bücher.de', 'user@bücher.de'),
    ('用户@例子.广告', '用户@例子.广告', '用户@例子.广告'),
    ('a@例え。テスト', 'a@例え.テスト', 'a@例え.テスト');

-- ---------------------------------------------------------------------------
-- not addresses: NULL
-- ---------------------------------------------------------------------------
INSERT INTO email_cases (input, expected, expected_plain) VALUES
    ('plainaddress', NULL, NULL),
    ('@example.com', NULL, NULL),
    ('john@', NULL, NULL),
    ('@', NULL, NULL),
    ('john@@example.com', NULL, NULL),
    ('a@b@example.com', NULL, NULL),
    ('john@example.com, jane@example.com', NULL, NULL),
    ('john doe@example.com', NULL, NULL),
    ('john@example', NULL, NULL),
    ('john@example.c', NULL, NULL),
    ('john@example.c0m', NULL, NULL),
    ('john@example.123', NULL, NULL),
    ('john@192.168.0.1', NULL, NULL),
    ('john@[192.168.0.1]', NULL, NULL),
    ('john..doe@example.com', NULL, NULL),
    ('.john@example.com', NULL, NULL),
    ('john.@example.com', NULL, NULL),
    ('john@-example.com', NULL, NULL),
    ('john@example-.com', NULL, NULL),
    ('john@example..com', NULL, NULL),
    ('john@.example.com', NULL, NULL),
    ('john@example.com.', NULL, NULL),
    ('john@exa_mple.com', NULL, NULL),
    ('"john doe"@example.com', NULL, NULL),
    ('john(comment)@example.com', NULL, NULL),
    ('john\@example.com', NULL, NULL),
    ('John <john@example.com', NULL, NULL),
    ('john@example.com>', NULL, NULL),
    ('mailto:', NULL, NULL),
    ('x@i❤.ws', NULL, NULL),
    ('😀@example.com', NULL, NULL),
    ('', NULL, NULL),
    ('   ', NULL, NULL);

-- ---------------------------------------------------------------------------
-- length limits: local part 64, domain label 63, whole address 254
-- ---------------------------------------------------------------------------
INSERT INTO email_cases (input, expected, expected_plain) VALUES
    (repeat('a', 64) || '@example.com', repeat('a', 64) || '@example.com', repeat('a', 64) || '@example.com'),
    (repeat('a', 65) || '@example.com', NULL, NULL),
    (repeat('é', 64) || '@example.com', repeat('é', 64) || '@example.com', repeat('é', 64) || '@example.com'),
    (repeat('é', 65) || '@example.com', NULL, NULL),
    ('a@' || repeat('b', 63) || '.com', 'a@' || repeat('b', 63) || '.com', 'a@' || repeat('b', 63) || '.com'),
    ('a@' || repeat('b', 64) || '.com', NULL, NULL),
    ('a@' || repeat('b.', 125) || 'co', 'a@' || repeat('b.', 125) || 'co', 'a@' || repeat('b.', 125) || 'co'),
    ('a@' || repeat('b.', 125) || 'com', NULL, NULL);

-- ---------------------------------------------------------------------------
-- mailbox provider rules
-- ---------------------------------------------------------------------------
INSERT INTO email_cases (input, expected, expected_plain) VALUES
    -- Gmail: dots and +tags do not count; googlemail.com is gmail.com
    ('John.Doe+News@Gmail.com', 'johndoe@gmail.com', 'john.doe+news@gmail.com'),
    ('j.o.h.n.d.o.e@googlemail.com', 'johndoe@gmail.com', 'j.o.h.n.d.o.e@googlemail.com'),
    ('johndoe@googlemail.com', 'johndoe@gmail.com', 'johndoe@googlemail.com'),
    ('+tag@gmail.com', '+tag@gmail.com', '+tag@gmail.com'),
    ('john.doe@gmail.co.uk', 'john.doe@gmail.co.uk', 'john.doe@gmail.co.uk'),
    -- Microsoft: +tags only, dots count
    ('first.last+tag@outlook.com', 'first.last@outlook.com', 'first.last+tag@outlook.com'),
    ('user+tag@outlook.de', 'user@outlook.de', 'user+tag@outlook.de'),
    ('user+tag@hotmail.com', 'user@hotmail.com', 'user+tag@hotmail.com'),
    ('user+tag@hotmail.co.uk', 'user@hotmail.co.uk', 'user+tag@hotmail.co.uk'),
    ('user+tag@hotmail.fr', 'user@hotmail.fr', 'user+tag@hotmail.fr'),
    ('user+tag@live.com', 'user@live.com', 'user+tag@live.com'),
    ('user+tag@live.com.au', 'user@live.com.au', 'user+tag@live.com.au'),
    ('user+tag@msn.com', 'user@msn.com', 'user+tag@msn.com'),
    ('user+tag@hotmail.example.com', 'user+tag@hotmail.example.com', 'user+tag@hotmail.example.com'),
    -- Apple iCloud
    ('user+tag@icloud.com', 'user@icloud.com', 'user+tag@icloud.com'),
    ('user+tag@me.com', 'user@me.com', 'user+tag@me.com'),
    ('user+tag@mac.com', 'user@mac.com', 'user+tag@mac.com'),
    -- Fastmail: +tags and subdomain addressing
    ('user+tag@fastmail.com', 'user@fastmail.com', 'user+tag@fastmail.com'),
    ('user+tag@fastmail.fm', 'user@fastmail.fm', 'user+tag@fastmail.fm'),
    ('shop@user.fastmail.com', 'user@fastmail.com', 'shop@user.fastmail.com'),
    -- Proton
    ('user+tag@proton.me', 'user@proton.me', 'user+tag@proton.me'),
    ('user+tag@protonmail.com', 'user@protonmail.com', 'user+tag@protonmail.com'),
    ('user+tag@protonmail.ch', 'user@protonmail.ch', 'user+tag@protonmail.ch'),
    ('user+tag@pm.me', 'user@pm.me', 'user+tag@pm.me'),
    -- Yandex: +tags, and all Yandex domains are one mailbox
    ('user+tag@yandex.ru', 'user@yandex.ru', 'user+tag@yandex.ru'),
    ('user@ya.ru', 'user@yandex.ru', 'user@ya.ru'),
    ('user+tag@yandex.com', 'user@yandex.ru', 'user+tag@yandex.com'),
    ('user@yandex.by', 'user@yandex.ru', 'user@yandex.by'),
    ('user@yandex.kz', 'user@yandex.ru', 'user@yandex.kz'),
    ('user@yandex.ua', 'user@yandex.ru', 'user@yandex.ua'),
    -- Yahoo and everyone else: no rule
    ('user-tag@yahoo.com', 'user-tag@yahoo.com', 'user-tag@yahoo.com'),
    ('user+tag@yahoo.com', 'user+tag@yahoo.com', 'user+tag@yahoo.com');

SELECT input, expected,
       CASE WHEN cdp.normalize_email(input) IS NOT DISTINCT FROM expected THEN 'ok'
            ELSE 'GOT: ' || coalesce(cdp.normalize_email(input), 'NULL') END AS rules,
       CASE WHEN cdp.normalize_email(input, false) IS NOT DISTINCT FROM expected_plain THEN 'ok'
            ELSE 'GOT: ' || coalesce(cdp.normalize_email(input, false), 'NULL') END AS no_rules
  FROM email_cases
 WHERE length(input) < 80
 ORDER BY id;

-- the long cases, shown by length
SELECT length(input) AS input_length, length(expected) AS expected_length,
       CASE WHEN cdp.normalize_email(input) IS NOT DISTINCT FROM expected
             AND cdp.normalize_email(input, false) IS NOT DISTINCT FROM expected_plain
            THEN 'ok' ELSE 'GOT: ' || coalesce(cdp.normalize_email(input), 'NULL') END AS result
  FROM email_cases
 WHERE length(input) >= 80
 ORDER BY id;

-- uppercase letters outside ASCII are lowercased as lower() does
SELECT cdp.normalize_email('ÜSER@BÜCHER.DE') = lower('ÜSER@BÜCHER.DE') AS like_lower;

-- ---------------------------------------------------------------------------
-- NULL in, NULL out; 1 MB inputs
-- ---------------------------------------------------------------------------
SELECT cdp.normalize_email(NULL) IS NULL AS email_null,
       cdp.normalize_email('a@example.com', NULL) IS NULL AS rules_null;

SELECT cdp.normalize_email(repeat('ab', 500000)) IS NULL AS no_at_1mb,
       cdp.normalize_email(repeat('a', 1000000) || '@example.com') IS NULL AS long_local_1mb,
       cdp.normalize_email('a@' || repeat('b.', 500000) || 'com') IS NULL AS long_domain_1mb,
       cdp.normalize_email(repeat(' ', 1000000) || 'A@Example.com' || repeat(' ', 1000000)) AS padded_1mb;

-- ---------------------------------------------------------------------------
-- idempotence over every input above and generated variations
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE email_inputs AS
    SELECT input AS x FROM email_cases
    UNION
    SELECT u || s || '@' || d
      FROM unnest(ARRAY['John', 'j.o.h.n', 'John.Doe', 'jane_doe', 'élodie', 'x']) u,
           unnest(ARRAY['', '+tag', '+a+b', '-news', '.']) s,
           unnest(ARRAY['Gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.co.uk', 'live.fr',
                        'icloud.com', 'fastmail.com', 'me.fastmail.fm', 'proton.me', 'pm.me', 'ya.ru',
                        'yandex.com', 'yahoo.com', 'example.com', 'bücher.de', 'xn--p1ai.xn--p1ai']) d;

SELECT count(*) > 400 AS several_hundred_inputs, count(cdp.normalize_email(x)) > 300 AS mostly_valid
  FROM email_inputs;

SELECT count(*) FILTER (WHERE cdp.normalize_email(cdp.normalize_email(x)) IS DISTINCT FROM cdp.normalize_email(x)) AS rules,
       count(*) FILTER (WHERE cdp.normalize_email(cdp.normalize_email(x, false), false) IS DISTINCT FROM cdp.normalize_email(x, false)) AS no_rules,
       count(*) FILTER (WHERE cdp.normalize_email(cdp.normalize_email(x, false)) IS DISTINCT FROM cdp.normalize_email(x)) AS rules_after_plain
  FROM email_inputs;
