--
-- template: the e-mail template language of journeys (cdp.render_text,
-- cdp.template_check, cdp.template_paths, cdp.template_coupons,
-- cdp.coupon_code).  Every construct is checked against an expected value
-- written by hand next to it: output of paths and literals, filters,
-- conditions and truthiness, comparisons of mixed types, loops (limit, the
-- 100 cap, forloop, shadowing, else), white-space trimming, comments, HTML
-- escaping of values but not of template text, multibyte values and
-- truncation, coupon codes (reference values computed independently with
-- HMAC-SHA256), the path and coupon lists, every error with its SQLSTATE,
-- message, detail and hint, NULL and empty arguments, 1 MB inputs and the
-- limits, and a seeded fuzz query over random templates.
--
\set VERBOSITY default

CREATE TEMP TABLE tctx AS
SELECT '{"customer_id": 42, "first_name": "Zoë", "last_name": "", "nickname": null,
         "city": "Lyon", "vip": true, "churned": false, "balance": 0, "score": 12.345,
         "bio": "Ünïcödé bîô text", "tags": [], "obj": {},
         "measure": {"loyalty_points": 120, "top_categories": ["shoes", "bags", "hats", "belts"]},
         "pairs": [{"name": "x", "items": [1, 2]}, {"name": "y", "items": [3]}],
         "coupon_seed": "m-1234", "unsubscribe_url": "https://x.example/u?a=1&b=2",
         "html": "<b>\"Tom\" & ''Jerry''</b>", "signup": "2024-03-05T10:11:12Z",
         "birthday": "1990-02-29"}'::jsonb
       || jsonb_build_object('many', (SELECT jsonb_agg(i) FROM generate_series(1, 150) i)) AS c;

-- Output, literals, filters, loops, trimming: (template, expected) on the
-- context above; "ok" says whether the rendering agrees.
SELECT n, expected, actual, actual = expected AS ok
  FROM (VALUES
    (1,  'Hello {{ first_name }}!', 'Hello Zoë!'),
    (2,  '{{ customer_id }}|{{ measure.loyalty_points }}|{{ score }}', '42|120|12.345'),
    (3,  '{{ measure.top_categories.0 }}/{{ measure.top_categories.3 }}/[{{ measure.top_categories.4 }}]', 'shoes/belts/[]'),
    (4,  '[{{ missing }}][{{ nickname }}][{{ first_name.x }}][{{ measure.nope.deeper }}][{{ measure.top_categories.x }}]', '[][][][][]'),
    (5,  '{{ vip }} {{ churned }}', 'true false'),
    (6,  '{{ tags }} {{ obj }} {{ measure.top_categories }}', '[] {} ["shoes", "bags", "hats", "belts"]'),
    (7,  '{{ "a" }}{{ ''b'' }}{{ 7 }}{{ -1.50 }}{{ true }}[{{ null }}]', 'ab7-1.50true[]'),
    (8,  '{{ "say \"hi\" \\ \''x\''" }}', 'say "hi" \ ''x'''),
    (9,  E'line1\n\tline2 { } %} }} #} {x}', E'line1\n\tline2 { } %} }} #} {x}'),
    (10, 'a{# hidden {{ x }} {% if %} #}b', 'ab'),
    (11, E'a \n {{- "b" -}} \n c', 'abc'),
    (12, E'<ul>\n  {%- for c in measure.top_categories limit: 2 %}\n  <li>{{ c }}</li>\n  {%- endfor %}\n</ul>',
         E'<ul>\n  <li>shoes</li>\n  <li>bags</li>\n</ul>'),
    (13, '{{ nickname | default: "there" }} {{ missing | default: "there" }} {{ last_name | default: "there" }} {{ first_name | default: "there" }}',
         'there there there Zoë'),
    (14, '{{ churned | default: "x" }} {{ balance | default: 5 }} {{ missing | default: 5 }}', 'false 0 5'),
    (15, '{{ first_name | upcase }} {{ first_name | downcase }} {{ city | upcase }} {{ vip | upcase }}', 'ZOË zoë LYON TRUE'),
    (16, '{{ "éCOLE normale" | capitalize }} {{ "" | capitalize }}|', 'École normale |'),
    (17, '{{ score | round: 2 }} {{ score | round }} {{ score | round: 0 }} {{ 2.5 | round }} {{ "12.345" | round: 1 }}',
         '12.35 12 12 3 12.345'),
    (18, '{{ bio | truncate: 7 }}|{{ bio | truncate: 100 }}|{{ city | truncate: 4 }}|{{ city | truncate: 3 }}|{{ city | truncate: 0 }}',
         'Ünïcödé…|Ünïcödé bîô text|Lyon|Lyo…|…'),
    (19, '{{ "日本語テキスト😀😀" | truncate: 8 }} {{ customer_id | truncate: 1 }}', '日本語テキスト😀… 4…'),
    (20, '{{ nickname | default: "friend" | upcase | truncate: 3 }}', 'FRI…'),
    (21, '{{ signup | date: "DD/MM/YYYY HH24:MI" }} {{ birthday | date: "YYYY" }} {{ "2024-02-29" | date: "DD.MM.YY" }} {{ city | date: "YYYY" }}',
         '05/03/2024 10:11 1990-02-29 29.02.24 Lyon'),
    (22, '{{ "2024-03-05 23:59:59.5+02:00" | date: "HH24:MI:SS.MS" }} {{ customer_id | date: "YYYY" }}', '23:59:59.500 42'),
    (23, '[{{ missing | upcase }}][{{ nickname | truncate: 2 }}]', '[][]'),
    (24, '{% for c in measure.top_categories %}{{ forloop.index }}{{ forloop.index0 }}{{ forloop.rindex }}{{ forloop.length }}{% if forloop.first %}F{% endif %}{% if forloop.last %}L{% endif %}{{ c }};{% endfor %}',
         '1044Fshoes;2134bags;3224hats;4314Lbelts;'),
    (25, '{% for c in measure.top_categories limit: 2 %}{{ c }},{% endfor %}', 'shoes,bags,'),
    (26, '{% for c in measure.top_categories limit: 0 %}{{ c }}{% else %}none{% endfor %}', 'none'),
    (27, '{% for n in many %}{% if forloop.last %}{{ n }}/{{ forloop.length }}{% endif %}{% endfor %}', '100/100'),
    (28, '{% for n in many limit: 150 %}{% if forloop.last %}{{ n }}/{{ forloop.length }}{% endif %}{% endfor %}', '150/150'),
    (29, '{% for t in tags %}x{% else %}none{% endfor %} {% for t in missing %}x{% else %}none{% endfor %} {% for t in city %}x{% else %}none{% endfor %} {% for t in obj %}x{% endfor %}|',
         'none none none |'),
    (30, '{% for city in measure.top_categories limit: 1 %}{{ city }}{% endfor %} {{ city }}', 'shoes Lyon'),
    (31, '{% for a in pairs %}{% for b in a.items %}{{ a.name }}{{ b }}{{ forloop.index }}{% endfor %}{{ forloop.index }};{% endfor %}', 'x11x221;y312;'),
    (32, '{% for p in pairs %}{{ p.name | upcase }}{{ p.items.1 }}{% endfor %}', 'X2Y'),
    (33, '{% if balance %}a{% elsif churned %}b{% elsif city == "Lyon" %}c{% else %}d{% endif %}', 'c'),
    (34, '{% if missing %}a{% else %}b{% endif %}{% if vip %}c{% endif %}{% if churned %}d{% endif %}', 'bc'),
    (35, '{{ coupon "SPRING20" }} {{ coupon "SPRING20" | downcase }} {{ coupon "WELCOME" }}', 'SPRING20-BYY8KC5F spring20-byy8kc5f WELCOME-2D2J4ZY5'),
    (36, '', '')
  ) AS t(n, tpl, expected),
  LATERAL (SELECT cdp.render_text(tpl, (SELECT c FROM tctx)) AS actual) r
 ORDER BY n;

-- Truthiness: missing, null, false, "", 0 and [] are false; {} and every
-- other value true.
SELECT path, expected, actual, actual = expected AS ok
  FROM (VALUES ('missing', 'F'), ('nickname', 'F'), ('churned', 'F'), ('last_name', 'F'),
               ('balance', 'F'), ('tags', 'F'), ('obj', 'T'), ('vip', 'T'), ('city', 'T'),
               ('customer_id', 'T'), ('score', 'T'), ('measure.top_categories', 'T'),
               ('"0"', 'T'), ('0.0', 'F'), ('null', 'F'), ('true', 'T')) AS t(path, expected),
  LATERAL (SELECT cdp.render_text('{% if ' || path || ' %}T{% else %}F{% endif %}',
                                  (SELECT c FROM tctx)) AS actual) r;

-- Comparisons: numbers numerically, strings by code point, other mixes only
-- == (false) and != (true); missing equals null; and binds tighter than or.
SELECT cond, expected, actual, actual = expected AS ok
  FROM (VALUES
    ('measure.loyalty_points > 100', 'T'), ('measure.loyalty_points == 120', 'T'),
    ('measure.loyalty_points == 120.0', 'T'), ('measure.loyalty_points < 100', 'F'),
    ('measure.loyalty_points >= 120', 'T'), ('measure.loyalty_points <= 119.99', 'F'),
    ('score != 12.345', 'F'), ('-1 < 0', 'T'),
    ('city == "Lyon"', 'T'), ('city < "Paris"', 'T'), ('city > "lyon"', 'F'),
    ('first_name > "Zo"', 'T'), ('"é" > "z"', 'T'),
    ('customer_id == "42"', 'F'), ('customer_id != "42"', 'T'), ('customer_id > "4"', 'F'),
    ('customer_id < "4"', 'F'), ('customer_id >= "4"', 'F'), ('vip == 1', 'F'),
    ('nickname == null', 'T'), ('missing == null', 'T'), ('missing != null', 'F'),
    ('last_name == null', 'F'), ('vip == true', 'T'), ('churned != false', 'F'),
    ('tags == obj', 'F'), ('tags != obj', 'T'), ('tags == tags', 'T'), ('"a" == ''a''', 'T'),
    ('measure.top_categories.0 == "shoes"', 'T'), ('pairs.0 == pairs.1', 'F'),
    ('vip and churned', 'F'), ('vip or churned', 'T'), ('not churned', 'T'),
    ('not vip or vip and churned', 'F'), ('churned and vip or city', 'T'),
    ('not (vip and churned)', 'T'), ('(churned or vip) and city == "Lyon"', 'T'),
    ('not not vip', 'T'), ('not missing and not nickname', 'T')
  ) AS t(cond, expected),
  LATERAL (SELECT cdp.render_text('{% if ' || cond || ' %}T{% else %}F{% endif %}',
                                  (SELECT c FROM tctx)) AS actual) r;

-- HTML: values printed by {{ }} are escaped, template text never.
SELECT cdp.render_text('<p class="x">{{ html }} & {{ unsubscribe_url }} {{ "<i>" }} {{ missing | default: "<none>" }}</p>',
                       (SELECT c FROM tctx), true)
       = '<p class="x">&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt; & https://x.example/u?a=1&amp;b=2 &lt;i&gt; &lt;none&gt;</p>' AS html_escaped,
       cdp.render_text('<p>{{ html }}</p>', (SELECT c FROM tctx))
       = '<p><b>"Tom" & ''Jerry''</b></p>' AS text_part_unescaped,
       cdp.render_text('<p>{{ html }}</p>', (SELECT c FROM tctx), html => true) AS html_part;

-- Coupon codes: HMAC-SHA256 keyed with the seed over the prefix, 40 bits as
-- 8 characters of 23456789ABCDEFGHJKLMNPQRSTUVWXYZ (reference values
-- computed with another HMAC implementation).
SELECT prefix, seed, expected, cdp.coupon_code(prefix, seed) = expected AS ok
  FROM (VALUES ('SPRING20', 'm-1234', 'SPRING20-BYY8KC5F'),
               ('SPRING20', 'm-1235', 'SPRING20-Q9Y59JK9'),
               ('WELCOME', 'm-1234', 'WELCOME-2D2J4ZY5'),
               ('X', 'zoë-7', 'X-LX66YHXG')) AS t(prefix, seed, expected);

-- render_text prints what coupon_code returns; 1000 seeds give 1000
-- different codes, all in the alphabet, using all 32 characters; a
-- numeric coupon_seed is used as its text.
WITH codes AS (
  SELECT s, cdp.render_text('{{ coupon "P" }}', jsonb_build_object('coupon_seed', 'seed-' || s)) AS code
    FROM generate_series(1, 1000) s)
SELECT count(*) FILTER (WHERE code <> cdp.coupon_code('P', 'seed-' || s)) AS render_differs,
       count(DISTINCT code) AS distinct_codes,
       count(*) FILTER (WHERE code !~ '^P-[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{8}$') AS outside_alphabet,
       (SELECT count(DISTINCT ch) FROM codes, regexp_split_to_table(substr(code, 3), '') ch) AS characters_used,
       cdp.render_text('{{ coupon "P" }}', '{"coupon_seed": 1234}') = cdp.coupon_code('P', '1234') AS numeric_seed
  FROM codes;

-- The context paths a template reads, in order of first use, without loop
-- variables and forloop inside loops; the coupon prefixes.
SELECT cdp.template_paths('Hi {{ first_name }} {% if measure.loyalty_points > 100 and city %}{{ first_name }}{% endif %}'
                          '{% for c in measure.top_categories %}{{ c }}{{ c.x }}{{ forloop.index }}{{ customer_id | default: 1 }}{% endfor %}'
                          '{% for city in pairs %}{{ city.name }}{% endfor %}{{ city }}{{ coupon "A" }}')
       = '{first_name,measure.loyalty_points,city,measure.top_categories,customer_id,pairs}' AS paths_ok,
       cdp.template_paths('no tags') = '{}' AS no_paths,
       cdp.template_coupons('{{ coupon "B" }}{{ coupon "A" }}{% if x %}{{ coupon "B" }}{% endif %}') = '{B,A}' AS coupons_ok,
       cdp.template_coupons('{{ x }}') = '{}' AS no_coupons;

-- NULL in, NULL out; the empty template.
SELECT cdp.render_text(NULL, '{}') IS NULL AS a, cdp.render_text('x', NULL) IS NULL AS b,
       cdp.render_text('x', '{}', NULL) IS NULL AS c, cdp.template_check(NULL) IS NULL AS d,
       cdp.template_paths(NULL) IS NULL AS e, cdp.template_coupons(NULL) IS NULL AS f,
       cdp.coupon_code(NULL, 's') IS NULL AS g, cdp.coupon_code('P', NULL) IS NULL AS h,
       cdp.render_text('', '{}') = '' AS empty_renders, cdp.template_paths('') = '{}' AS empty_paths;
SELECT cdp.template_check('{% if x %}{{ y | upcase }}{% endif %}');

-- 1 MB inputs: plain text, a template of 65536 tags (exactly 1 MB), a 1 MB
-- value; 32 nested blocks are allowed.
SELECT length(cdp.render_text(repeat('ab', 500000), '{}')) AS plain,
       length(cdp.render_text(repeat('{{ first_name }}', 65536), (SELECT c FROM tctx))) AS tags,
       cdp.template_paths(repeat('{{ first_name }}', 65536)) AS paths,
       cdp.render_text('{{ big | truncate: 5 }}', jsonb_build_object('big', repeat('é', 1000000))) AS truncated,
       length(cdp.render_text('{{ big | upcase }}', jsonb_build_object('big', repeat('é', 1000000)))) AS upcased,
       cdp.render_text(repeat('{% if vip %}', 32) || 'deep' || repeat('{% endif %}', 32), (SELECT c FROM tctx)) AS nested_32;

-- Errors: SQLSTATE, message, detail (the line quoted with a caret) and hint.
CREATE FUNCTION pg_temp.template_error(tpl text, ctx jsonb DEFAULT '{}') RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  st text; msg text; det text; hnt text;
BEGIN
  PERFORM cdp.render_text(tpl, ctx);
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
  RETURN st || ': ' || msg || E'\nDETAIL: ' || coalesce(det, '') || E'\nHINT: ' || coalesce(hnt, '');
END $$;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'Hi {% if x %}yes',
    '{% for c in list %}{{ c }}',
    'Hi {{ name',
    '{% if x',
    'a {# never closed',
    '{{ "abc }}',
    '{{ "a\q" }}',
    '{{ name | bogus }}',
    '{{ x | truncate }}',
    '{{ x | upcase: 1 }}',
    '{{ x | default: y }}',
    '{{ x | round: 50 }}',
    '{{ x | truncate: 1, 2 }}',
    '{{ x | date }}',
    '{{ x | }}',
    '{% for x in y limit: 1001 %}{% endfor %}',
    '{% for x in y limit: 2.5 %}{% endfor %}',
    '{% for x in y limit 5 %}{% endfor %}',
    '{% for in y %}{% endfor %}',
    '{% for x of y %}{% endfor %}',
    '{% for x in "abc" %}{% endfor %}',
    '{% endif %}',
    'a {% else %}',
    '{% if x %}{% endfor %}',
    '{% for x in y %}{% endif %}',
    '{% if x %}{% else %}{% elsif y %}{% endif %}',
    '{% if x %}{% else %}{% else %}{% endif %}',
    '{% if x %}{% endif extra %}',
    '{% unless x %}',
    '{{ }}',
    '{% %}',
    '{% if %}{% endif %}',
    '{{ name; }}',
    '{% if a = 1 %}{% endif %}',
    '{% if a == %}{% endif %}',
    '{% if a and or b %}{% endif %}',
    '{% if (a %}{% endif %}',
    '{{ a. }}',
    '{{ 12abc }}',
    '{{ a b }}',
    '{{ coupon }}',
    '{{ coupon "spring 20" }}',
    '{% for x in y %}{{ forloop.size }}{% endfor %}',
    E'first line\nZoë écrit {{ name | nope }} et la suite de la ligne est très très longue',
    repeat('é', 100) || '{{ x | nope }}',
    repeat('{% if x %}', 33) || repeat('{% endif %}', 33),
    '{% if ' || repeat('(', 40) || 'x' || repeat(')', 40) || ' %}{% endif %}',
    '{% if ' || repeat('not ', 40) || 'x %}{% endif %}',
    '{{ coupon "X" }}'
  ] LOOP
    RAISE NOTICE '%', pg_temp.template_error(t);
  END LOOP;
END $$;

-- errors raised at render time: a missing or empty coupon_seed, a context
-- that is not an object, the output and iteration limits; and the same
-- parse errors from template_check, template_paths, template_coupons
SELECT pg_temp.template_error('{{ coupon "X" }}', '{"coupon_seed": ""}');
SELECT pg_temp.template_error('{{ coupon "X" }}', '{"coupon_seed": null}');
SELECT pg_temp.template_error('x', '[1]');
SELECT pg_temp.template_error('x', '"a"');
SELECT pg_temp.template_error('{% for a in many limit: 100 %}{{ big }}{% endfor %}',
         jsonb_build_object('big', repeat('x', 200000), 'many', (SELECT c->'many' FROM tctx)));
SELECT pg_temp.template_error('{% for a in many limit: 150 %}{% for b in many limit: 150 %}{% for c in many limit: 150 %}{% endfor %}{% endfor %}{% endfor %}',
         (SELECT c FROM tctx));
SELECT pg_temp.template_error(repeat('a', 1048577));
SELECT cdp.template_check('{% if x %}');
SELECT cdp.template_paths('{{ x | nope }}');
SELECT cdp.template_coupons('{{ coupon "" }}');
SELECT cdp.coupon_code('bad prefix!', 's');
SELECT cdp.coupon_code('P', '');
SELECT sqlstate_of($$SELECT cdp.coupon_code('', 's')$$) AS empty_prefix,
       sqlstate_of($$SELECT cdp.template_check('{% if x %}')$$) AS check_state,
       length(cdp.render_text(repeat('a', 1048576), '{}')) AS one_mb_ok;

-- Fuzz: 3000 random templates (seeded) made of pieces of the language,
-- multibyte text and punctuation either render or fail with one of the
-- documented SQLSTATEs; a template that template_check accepts renders
-- (given a coupon_seed) and one it refuses does not.
CREATE FUNCTION pg_temp.outcome(tpl text, ctx jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM cdp.render_text(tpl, ctx, true);
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;
CREATE FUNCTION pg_temp.check_outcome(tpl text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM cdp.template_check(tpl);
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;
SELECT setseed(0.42);
CREATE TEMP TABLE fuzz AS
SELECT g, string_agg(piece, '' ORDER BY k) AS tpl
  FROM generate_series(1, 3000) g,
       LATERAL generate_series(1, (random() * 30)::int + g * 0) k,
       LATERAL (SELECT (ARRAY['{{', '}}', '{%', '%}', '{#', '#}', '{{-', '-%}', ' if ', ' elsif ',
                              ' else ', ' endif ', ' for x in ', ' endfor ', ' limit: ', '3', '1001',
                              '|', ' upcase ', ' truncate: 2', ' default: "d"', ' date: "YYYY"', ' round',
                              '"', '''', 'first_name', 'measure.top_categories', 'x', 'forloop.index',
                              '==', '!=', '<', '>=', ' and ', ' or ', ' not ', '(', ')', ' coupon "C" ',
                              'é', '日本', '😀', ' ', E'\n', '.', ':', ',', '-', '\', '}', '{', 'abc',
                              '{% if x %}', '{% endif %}', '{{ first_name }}', '{% for x in many %}',
                              '{% endfor %}'])[1 + floor(random() * 57)::int + k * 0] AS piece) p
 GROUP BY g;
SELECT count(*) AS templates,
       count(*) FILTER (WHERE o NOT IN ('ok', '42601', '54000', '54001', '22023')) AS unexpected_states,
       count(*) FILTER (WHERE (o = 'ok') <> (chk = 'ok')) AS check_disagrees,
       count(*) FILTER (WHERE o = 'ok') > 100 AS some_render,
       count(*) FILTER (WHERE o = '42601') > 100 AS some_fail
  FROM fuzz,
       LATERAL (SELECT pg_temp.outcome(tpl, (SELECT c FROM tctx)) AS o,
                       pg_temp.check_outcome(tpl) AS chk) r;
