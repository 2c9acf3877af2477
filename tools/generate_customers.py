#!/usr/bin/python3
# Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
"""
generate_customers.py: a deterministic generator of messy customer records
with their ground truth, to test, demonstrate and benchmark pg_cdp's
unification (matching records within and across sources, clustering, stable
ids, merge).

A retailer knows its customers from three sources: the web shop, the
loyalty-card database and the stores' point of sale.  Every generated customer
appears in one to three of them, sometimes twice in the same one, each record
written with the noise people and systems put into customer data.  The truth
table gives the true customer of every record, so precision, recall and F1 of
a unification can be measured.

    /usr/bin/python3 tools/generate_customers.py --records N [--seed S]
        [--format sql|csv] [--out DIR] [--schema NAME] [--noise FACTOR]
        [--nicknames FILE]

--records N    about N source records in all; the number of customers is
               derived from it (N / 1.79) and the exact counts are printed to
               standard error.
--seed S       the seed of the one random.Random that drives everything
               (default 1).  The same arguments give byte-identical output on
               any machine: nothing depends on str hashing, the clock or the
               locale, and only arithmetic that IEEE 754 rounds exactly is used
               on random numbers.
--format sql   (default) one SQL script for `psql -v ON_ERROR_STOP=1 -f -`,
               on standard output or in DIR/generated.sql: the schema, the four
               tables (dropped first if they exist), COPY blocks, primary keys,
               table comments, ANALYZE.
--format csv   DIR/web_shop.csv, loyalty.csv, pos.csv and truth.csv (RFC 4180,
               CRLF line ends, a header line; NULL is an empty field, an empty
               string is "").  Load with COPY ... (FORMAT csv, HEADER true).
--out DIR      where files go (default: standard output for sql, the current
               directory for csv).  Temporary files are made there too.
--schema NAME  schema of the tables in the SQL script (default sample).
--noise F      multiplies every rate marked (x) below, capped at 1 (default
               1; 0 gives clean records in each source's house style, 2 twice
               the noise).  Rates not marked are facts of the population
               (where people live, who has a landline, who moved) and stay.
--nicknames F  the nickname pairs (default data/nicknames.csv of the project,
               next to this tools/ folder; Apache-2.0).

Tables (in schema sample):
  web_shop_customer(customer_ref text PK 'W0000001', email, first_name,
      last_name, phone, street, city, postal_code, country, created_at,
      updated_at)
  loyalty_member(member_no bigint PK, full_name, email, mobile, birth_date,
      address, zip, city, points, updated_at)
  pos_customer(pos_id text PK 'P-000001', first_name, last_name, phone, email,
      postal_code, store_code, last_visit)
  truth(source 'web_shop'|'loyalty'|'pos', source_key, customer_no,
      PK (source, source_key))
Keys are numbered in a random order (records are shuffled per source), so
neither key order nor row order tells which records belong together.
Timestamps lie between 2019-01-01 and 2026-06-30 (UTC), fixed, never now().

The people are fictional, made from frequent real names.  Their emails use
real mail domains and their phone numbers real area codes: some may exist.
Never send mail or messages to them outside a test server.

NOISE RATES (probabilities; "per record" ones are drawn independently for
every record; (x) = scaled by --noise)

Customers
  country                  85% US, 15% GB
  sources                  45% one source, 35% two, 20% all three; one source:
                           web 40%, loyalty 30%, pos 30%; two: web+loyalty
                           40%, web+pos 25%, loyalty+pos 35%
  duplicate account         4% of customers have a second record in one of
                           their sources (a web duplicate uses another email)
  households               12% of customers live in a household of 2-4
                           customers (60% of households 2, 30% 3, 10% 4):
                           same address, same last name (85% of members),
                           different first names and birth dates; 50% of
                           households have a landline every member may give;
                           17% share a family email that every member uses
                           instead of their own (2% of all customers)
  landline                 20% of customers outside households have one;
                           a record gives it instead of the mobile 30% of the
                           time (loyalty's "mobile" column 10%)
  second phone              5% changed their mobile number at a random date
  old email                 5% changed their email at a random date
  moved                     5% moved at a random date (70% within their
                           city); a household moves together
  married name              1% of women changed their last name at a random
                           date
  double last name          2% have a hyphenated last name (García-López)
  accented spelling        names with a usual accented form (José, García,
                           Zoë) are spelled with it by 35% of their bearers
  given name by origin     a Spanish-language surname takes a Spanish-language
                           given name 50% of the time, a Chinese or
                           Vietnamese one a Chinese or Vietnamese given name
                           60% (otherwise any name, by frequency)
  Chinese script           customers with a Chinese surname and given name:
                           their web records give the name in Chinese
                           characters 15% of the time
  Values that changed (phone, email, address, last name) are written as they
  were at the record's time (updated_at, last_visit): records before the
  change show the old value.

Names, per record
  typo (x)                  8%: one insertion, deletion, substitution (a key
                           next to it on a QWERTY keyboard) or transposition
                           in the first or the last name
  nickname (x)              6%: the first name becomes one of its nicknames
                           (when data/nicknames.csv has any: Bob for Robert)
  swapped (x)               3%: first and last name exchanged
  case (x)                 10%: upper case (6%) or lower case (4%)
  accents dropped (x)      POS 70%, loyalty 20%, web 10% of accented names
                           (José -> Jose, Müller -> Muller, Sørensen ->
                           Sorensen)
  double last name (x)     30% only its first part, 15% a space for the hyphen
  initial only (x)          4% of POS first names ("J" or "J.")
  stray spaces (x)          2%: a leading, trailing or doubled space
  placeholder (x)          0.3% (POS) / 0.1% (others): Unknown, N/A, Customer
  loyalty full_name        "First Last"; "LAST, First" 15% (x); a title
                           (Mr., Mrs., Ms., Miss, Dr.) or a suffix (Jr., Sr.,
                           III) 5% (x)

Emails, per record
  missing                  web 5%, loyalty 15%, POS 60%; a missing web value
                           is an empty string 40% of the time, else NULL
  placeholder (x)           1%: noemail@example.com, none@none.com, na@na.com,
                           no@email.com, x@x.com
  case (x)                 10%: John.Smith@Gmail.com style or all upper case
  Gmail dots (x)           12% of Gmail addresses: dots removed or added
  Gmail +tag (x)            6% of Gmail addresses: +shop, +loyalty, +deals...
  googlemail.com (x)        4% of US Gmail addresses (British customers have
                           googlemail.com addresses of their own too)
  typo (x)                1.5%: gmial.com, hotmial.com, a letter in the name
  trailing space (x)        1%

Phones, per record
  missing                  15% (a missing web value is '' 40% of the time)
  placeholder (x)           1%: 0000000000, 1234567890, 999-999-9999...
  format (x)               US: (415) 555-0134, 415-555-0134, 415.555.0134,
                           +1 415 555 0134, 4155550134, 1-415-555-0134,
                           +14155550134, 415 555 0134; GB: 020 7946 0018,
                           +44 20 7946 0018, (020) 7946 0018, 02079460018,
                           +44 (0)20 7946 0018, 07700 900123, +44 7700 900123,
                           07700900123, +447700900123.  Each source has a house
                           format (web (415) 555-0134, loyalty +1 415 555
                           0134, POS 4155550134); another format is used 60%
                           of the time (web 100%: customers type them)

Addresses, per record
  missing                  10% (all address fields of the record)
  abbreviations (x)        street type 60% (Street/St/St.), direction 70%
                           (North/N/N.), unit 60% (Apartment/Apt/Apt./#/Unit),
                           flats 40% (Flat 3, 12 High Street / 12 High
                           Street, Flat 3)
  spelled ordinals (x)     20% of 1st-10th streets (Second Avenue)
  city (x)                 other spelling 5% (NYC, St Louis, Ft. Worth), upper
                           case 5%, state added 5% (Boston, MA), typo 1%
  ZIP (x)                  ZIP+4 5%; leading zero lost in 30% of loyalty ZIPs
                           that have one (02116 -> 2116)
  postcode (x)             no space 10%, lower case 5%
  country (web) (x)        US / USA / United States / United States of
                           America, GB / UK / United Kingdom / England; 5%
                           missing
  two lines (x)             1% of loyalty addresses with a unit have it on a
                           line of its own (a newline in the value)
  whole address (x)         3% of loyalty addresses carry city and ZIP too
  stray characters (x)    0.3% of web streets end in a tab, a carriage return
                           or a backslash (pasted from elsewhere)

Other columns
  birth_date (loyalty)     missing 20%; day and month swapped 1% (x) when
                           both are <= 12; 1900-01-01 placeholder 0.3% (x)
  points (loyalty)         0-50,000, skewed to small balances; 5% zero
  store_code (POS)         the customer's home store 85%, another store 15%
"""

import argparse
import bisect
import calendar
import datetime
import os
import random
import sys
import tempfile
import unicodedata

# ---------------------------------------------------------------------------
# Rates.  Base values; the ones in NOISY are multiplied by --noise.
# ---------------------------------------------------------------------------

RATES = {
    # customers
    'gb': 0.15,
    'household_customers': 0.12,
    'family_email': 0.17,           # of households
    'household_landline': 0.50,     # of households
    'landline': 0.20,               # of customers outside households
    'landline_used': 0.30,          # of records of customers with one
    'landline_in_mobile': 0.10,     # loyalty's mobile column
    'duplicate': 0.04,
    'phone_change': 0.05,
    'email_change': 0.05,
    'move': 0.05,
    'married_name': 0.01,           # of women
    'double_last': 0.02,
    'accented_spelling': 0.35,
    'es_given': 0.50,               # Spanish-language surname, given name
    'same_origin_given': 0.60,      # Chinese, Vietnamese
    'zh_script_web': 0.15,
    'same_last_in_household': 0.85,
    # missing values
    'email_missing_web': 0.05,
    'email_missing_loyalty': 0.15,
    'email_missing_pos': 0.60,
    'empty_not_null_web': 0.40,
    'phone_missing': 0.15,
    'address_missing': 0.10,
    'birth_missing': 0.20,
    # names (x)
    'typo': 0.08,
    'nickname': 0.06,
    'swap': 0.03,
    'case': 0.10,
    'strip_accents_pos': 0.70,
    'strip_accents_loyalty': 0.20,
    'strip_accents_web': 0.10,
    'double_last_first_part': 0.30,
    'double_last_space': 0.15,
    'initial_pos': 0.04,
    'spaces': 0.02,
    'placeholder_name_pos': 0.003,
    'placeholder_name': 0.001,
    'last_comma_first': 0.15,
    'title': 0.05,
    # emails (x)
    'email_placeholder': 0.01,
    'email_case': 0.10,
    'gmail_dots': 0.12,
    'gmail_tag': 0.06,
    'googlemail': 0.04,
    'email_typo': 0.015,
    'email_space': 0.01,
    # phones (x)
    'phone_placeholder': 0.01,
    'phone_other_format': 0.60,
    'phone_other_format_web': 1.00,
    # addresses (x)
    'abbr_suffix': 0.60,
    'abbr_direction': 0.70,
    'abbr_unit': 0.60,
    'flat_style': 0.40,
    'ordinal_words': 0.20,
    'city_variant': 0.05,
    'city_upper': 0.05,
    'city_state': 0.05,
    'city_typo': 0.01,
    'zip4': 0.05,
    'zip_lost_zero': 0.30,
    'postcode_nospace': 0.10,
    'postcode_lower': 0.05,
    'country_variant': 1.00,
    'country_missing': 0.05,
    'two_lines': 0.01,
    'whole_address': 0.03,
    'stray_chars': 0.003,
    # other columns
    'birth_swap': 0.01,
    'birth_placeholder': 0.003,
    'points_zero': 0.05,
    'home_store': 0.85,
}

NOISY = {
    'typo', 'nickname', 'swap', 'case', 'strip_accents_pos',
    'strip_accents_loyalty', 'strip_accents_web', 'double_last_first_part',
    'double_last_space', 'initial_pos', 'spaces', 'placeholder_name_pos',
    'placeholder_name', 'last_comma_first', 'title', 'email_placeholder',
    'email_case', 'gmail_dots', 'gmail_tag', 'googlemail', 'email_typo',
    'email_space', 'phone_placeholder', 'phone_other_format',
    'phone_other_format_web', 'abbr_suffix', 'abbr_direction', 'abbr_unit',
    'flat_style', 'ordinal_words', 'city_variant', 'city_upper', 'city_state',
    'city_typo', 'zip4', 'zip_lost_zero', 'postcode_nospace', 'postcode_lower',
    'country_variant', 'country_missing', 'two_lines', 'whole_address',
    'stray_chars', 'birth_swap', 'birth_placeholder',
}

# How many records a customer has on average: sources (0.45 * 1 + 0.35 * 2 +
# 0.20 * 3 = 1.75) plus duplicate accounts (0.04).
RECORDS_PER_CUSTOMER = 1.79

SOURCE_SETS = [
    (0.45 * 0.40, ('web',)),
    (0.45 * 0.30, ('loyalty',)),
    (0.45 * 0.30, ('pos',)),
    (0.35 * 0.40, ('web', 'loyalty')),
    (0.35 * 0.25, ('web', 'pos')),
    (0.35 * 0.35, ('loyalty', 'pos')),
    (0.20, ('web', 'loyalty', 'pos')),
]
HOUSEHOLD_SIZES = [(0.6, 2), (0.3, 3), (0.1, 4)]

# Time window, in seconds since 1970 (UTC).
START = calendar.timegm((2019, 1, 1, 0, 0, 0))
SINCE_END = calendar.timegm((2025, 12, 31, 0, 0, 0))
END = calendar.timegm((2026, 6, 30, 23, 59, 59))
EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
REF_ORDINAL = datetime.date(2026, 1, 1).toordinal()

# Rows of one temporary bucket file (records are shuffled a bucket at a time).
BUCKET_ROWS = 100000

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES_DIR = os.path.join(HERE, 'names')
DEFAULT_NICKNAMES = os.path.join(os.path.dirname(HERE), 'data', 'nicknames.csv')

# ---------------------------------------------------------------------------
# Fixed vocabularies (rules and spellings, not data files)
# ---------------------------------------------------------------------------

US_SUFFIXES = [
    # full, abbreviation, weight
    ('Street', 'St', 28), ('Avenue', 'Ave', 18), ('Road', 'Rd', 12),
    ('Drive', 'Dr', 12), ('Lane', 'Ln', 8), ('Court', 'Ct', 5),
    ('Boulevard', 'Blvd', 4), ('Place', 'Pl', 4), ('Way', 'Way', 4),
    ('Circle', 'Cir', 2), ('Terrace', 'Ter', 2), ('Parkway', 'Pkwy', 1),
]
GB_SUFFIXES = [
    ('Road', 'Rd', 40), ('Street', 'St', 20), ('Lane', 'Ln', 10),
    ('Avenue', 'Ave', 8), ('Close', 'Cl', 6), ('Drive', 'Dr', 5),
    ('Way', 'Way', 3), ('Gardens', 'Gdns', 3), ('Crescent', 'Cres', 2),
    ('Grove', 'Gr', 2), ('Terrace', 'Terr', 1),
]
NO_SUFFIX = {'Broadway', 'Kingsway', 'The Avenue'}
DIRECTIONS = [('North', 'N'), ('South', 'S'), ('East', 'E'), ('West', 'W')]
ORDINAL_WORDS = {
    '1st': 'First', '2nd': 'Second', '3rd': 'Third', '4th': 'Fourth',
    '5th': 'Fifth', '6th': 'Sixth', '7th': 'Seventh', '8th': 'Eighth',
    '9th': 'Ninth', '10th': 'Tenth',
}
US_UNIT_STYLES = ['Apt {}', 'Apt. {}', '#{}', 'Unit {}', 'Apt #{}']
POSTCODE_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ'

EMAIL_DOMAINS = {
    'US': [('gmail.com', 40), ('yahoo.com', 14), ('hotmail.com', 8),
           ('outlook.com', 7), ('icloud.com', 6), ('aol.com', 5),
           ('comcast.net', 4), ('att.net', 2), ('verizon.net', 2),
           ('msn.com', 2), ('live.com', 2), ('sbcglobal.net', 2),
           ('me.com', 2), ('protonmail.com', 1)],
    'GB': [('gmail.com', 30), ('hotmail.co.uk', 15), ('yahoo.co.uk', 10),
           ('outlook.com', 8), ('btinternet.com', 8), ('googlemail.com', 6),
           ('icloud.com', 6), ('sky.com', 5), ('live.co.uk', 5),
           ('aol.co.uk', 2)],
}
EMAIL_DOMAIN_TYPOS = {
    'gmail.com': ['gmial.com', 'gmai.com', 'gmail.co', 'gmal.com', 'gnail.com'],
    'yahoo.com': ['yaho.com', 'yahooo.com', 'yahoo.co'],
    'hotmail.com': ['hotmial.com', 'hotmal.com', 'hotmail.co'],
    'outlook.com': ['outlok.com', 'outloo.com'],
    'hotmail.co.uk': ['hotmail.co', 'hotmial.co.uk'],
    'yahoo.co.uk': ['yahoo.co', 'yaho.co.uk'],
}
GMAIL_TAGS = ['shop', 'loyalty', 'deals', 'promo', 'news', 'store', 'orders']
EMAIL_PLACEHOLDERS = ['noemail@example.com', 'none@none.com', 'na@na.com',
                      'no@email.com', 'x@x.com']
EMAIL_WORDS = ['sunny', 'happy', 'blue', 'star', 'tiger', 'rocket', 'coffee',
               'lucky', 'music', 'angel', 'ocean', 'dragon', 'pixel', 'honey',
               'shadow', 'maple', 'river', 'summer', 'wolf', 'cookie']
PHONE_PLACEHOLDERS = {
    'US': ['0000000000', '1234567890', '999-999-9999', '000-000-0000',
           '555-555-5555'],
    'GB': ['00000 000000', '07000000000', '01234 567890'],
}
# Each source's own phone format for US numbers, British mobiles and British
# landlines (styles of format_phone): the web shop shows what customers type
# ((415) 555-0134), the loyalty system stores international numbers, the
# point of sale digits only.
PHONE_HOUSE_STYLES = {'web': (0, 0, 0), 'loyalty': (3, 1, 1), 'pos': (4, 2, 3)}
NAME_PLACEHOLDERS = ['Unknown', 'N/A', 'Customer', 'NA', 'unknown']
TITLES = {'M': ['Mr.', 'Mr', 'Dr.'], 'F': ['Mrs.', 'Ms.', 'Miss', 'Mrs', 'Dr.']}
SUFFIXES = ['Jr.', 'Sr.', 'III', 'Jr', 'II']

COUNTRY_SPELLINGS = {
    'US': [('US', 55), ('USA', 20), ('United States', 15),
           ('United States of America', 5), ('U.S.', 5)],
    'GB': [('GB', 35), ('UK', 35), ('United Kingdom', 20), ('England', 8),
           ('Great Britain', 2)],
}

KEYBOARD = {
    'q': 'wa', 'w': 'qeas', 'e': 'wrds', 'r': 'etdf', 't': 'ryfg',
    'y': 'tugh', 'u': 'yihj', 'i': 'uojk', 'o': 'ipkl', 'p': 'ol',
    'a': 'qwsz', 's': 'awedxz', 'd': 'serfcx', 'f': 'drtgvc', 'g': 'ftyhbv',
    'h': 'gyujnb', 'j': 'huikmn', 'k': 'jiolm', 'l': 'kop', 'z': 'asx',
    'x': 'zsdc', 'c': 'xdfv', 'v': 'cfgb', 'b': 'vghn', 'n': 'bhjm',
    'm': 'njk',
}

# Letters that Unicode decomposition does not reduce to ASCII.
FOLD_EXTRA = {
    'ß': 'ss', 'ø': 'o', 'Ø': 'O', 'æ': 'ae', 'Æ': 'AE', 'œ': 'oe',
    'Œ': 'OE', 'ł': 'l', 'Ł': 'L', 'đ': 'd', 'Đ': 'D', 'ı': 'i', 'þ': 'th',
    'Þ': 'Th', 'ð': 'd', 'Ð': 'D',
}

# COPY text format escapes.
COPY_ESCAPES = str.maketrans({'\\': '\\\\', '\t': '\\t', '\n': '\\n',
                              '\r': '\\r'})

# PostgreSQL's reserved key words: a schema with one of these names is quoted.
RESERVED = set('''all analyse analyze and any array as asc asymmetric
authorization binary both case cast check collate collation column
concurrently constraint create cross current_catalog current_date
current_role current_schema current_time current_timestamp current_user
default deferrable desc distinct do else end except false fetch for foreign
freeze from full grant group having ilike in initially inner intersect into
is isnull join lateral leading left like limit localtime localtimestamp
natural not notnull null offset on only or order outer overlaps placing
primary references returning right select session_user similar some
symmetric table tablesample then to trailing true union unique user using
variadic verbose when where window with'''.split())


class Failure(Exception):
    """An error to report to the user: a message, no traceback."""


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

class Pool:
    """Items with weights, drawn in proportion to their weight.

    items: a list of items; weights: a list of positive numbers, as long.
    pick(rng) returns one item; the cumulative weights are summed once.
    """

    __slots__ = ('items', 'cum', 'total')

    def __init__(self, items, weights):
        """items: the items; weights: their weights, as many."""
        if not items:
            raise Failure('internal: an empty pool')
        self.items = list(items)
        self.cum = []
        total = 0.0
        for w in weights:
            total += w
            self.cum.append(total)
        self.total = total

    def pick(self, rng):
        """One item, chosen with probability weight / total weight."""
        i = bisect.bisect_right(self.cum, rng.random() * self.total)
        if i >= len(self.items):
            i = len(self.items) - 1
        return self.items[i]


def weighted(pairs):
    """A Pool from a list of (item, weight) pairs."""
    return Pool([p[0] for p in pairs], [p[1] for p in pairs])


_fold_memo = {}


def fold(s):
    """s with its diacritics removed (José -> Jose, Sørensen -> Sorensen).

    Letters with no ASCII spelling (Chinese characters) are kept.  Results are
    remembered: the pool of names is small.
    """
    r = _fold_memo.get(s)
    if r is not None:
        return r
    if s.isascii():
        r = s
    else:
        out = []
        for ch in unicodedata.normalize('NFKD', s):
            if unicodedata.combining(ch):
                continue
            out.append(FOLD_EXTRA.get(ch, ch))
        r = unicodedata.normalize('NFC', ''.join(out))
    if len(_fold_memo) < 100000:
        _fold_memo[s] = r
    return r


def slug(s):
    """s folded to lower-case ASCII letters and digits only, for emails."""
    return ''.join(ch for ch in fold(s).lower() if ch.isascii() and ch.isalnum())


def typo(rng, s):
    """s with one typing error: a neighbouring key instead of a letter, a
    letter dropped, a letter added (a neighbour or the same again) or two
    neighbours exchanged.  Strings under 3 characters come back unchanged.
    The first letter is left alone 80% of the time, as people get it right.
    """
    n = len(s)
    if n < 3:
        return s
    lo = 1 if rng.random() < 0.8 else 0
    i = rng.randrange(lo, n)
    op = rng.random()
    ch = s[i]
    low = ch.lower()
    if op < 0.35:
        near = KEYBOARD.get(low)
        if near is None:
            return s[:i] + s[i + 1:]
        sub = near[rng.randrange(len(near))]
        if ch != low:
            sub = sub.upper()
        return s[:i] + sub + s[i + 1:]
    if op < 0.60:
        return s[:i] + s[i + 1:]
    if op < 0.80:
        near = KEYBOARD.get(low)
        if near is None or rng.random() < 0.5:
            add = low
        else:
            add = near[rng.randrange(len(near))]
        return s[:i] + add + s[i:]
    if i == n - 1:
        i -= 1
    if s[i] == s[i + 1]:
        return s[:i] + s[i + 1:]
    return s[:i] + s[i + 1] + s[i] + s[i + 2:]


def day_string(ordinal, memo={}):
    """The ISO date (YYYY-MM-DD) of a proleptic Gregorian ordinal day."""
    r = memo.get(ordinal)
    if r is None:
        r = datetime.date.fromordinal(ordinal).isoformat()
        memo[ordinal] = r
    return r


def ts_string(t):
    """The timestamptz text of t seconds since 1970, in UTC."""
    days, secs = divmod(t, 86400)
    h, rest = divmod(secs, 3600)
    m, s = divmod(rest, 60)
    return '%s %02d:%02d:%02d+00' % (day_string(EPOCH_ORDINAL + days), h, m, s)


def quote_ident(name):
    """name as an SQL identifier, double-quoted when it needs to be."""
    simple = (name and (name[0].isascii() and (name[0].islower() or name[0] == '_'))
              and all(c.isascii() and (c.islower() or c.isdigit() or c == '_')
                      for c in name))
    if simple and name not in RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------------------
# Data files
# ---------------------------------------------------------------------------

def read_tsv(path, ncols):
    """The rows of a tab-separated file, comments and blank lines skipped.

    path: the file; ncols: how many columns each row must have.  Returns a
    list of lists of strings.  A malformed file is a Failure naming the line.
    """
    rows = []
    try:
        with open(path, encoding='utf-8') as f:
            for lineno, line in enumerate(f, 1):
                line = line.rstrip('\n')
                if not line or line.startswith('#'):
                    continue
                cols = line.split('\t')
                if len(cols) != ncols:
                    raise Failure('%s:%d: %d columns, expected %d'
                                  % (path, lineno, len(cols), ncols))
                rows.append(cols)
    except OSError as e:
        raise Failure('cannot read %s: %s' % (path, e.strerror))
    return rows


class Name:
    """A given name or surname of the pool and what goes with it."""

    __slots__ = ('name', 'variant', 'native', 'group', 'nicks')

    def __init__(self, name, variant, native, group):
        self.name = name
        self.variant = variant or None
        self.native = native or None
        self.group = group or None
        self.nicks = None


def load_nicknames(path):
    """The nickname lists of data/nicknames.csv, keyed by lower-case name.

    Returns a dict name -> list of nicknames in file order (the file is read
    in order, so the lists do not depend on hashing).
    """
    nick = {}
    try:
        with open(path, encoding='utf-8') as f:
            header = f.readline().strip()
            if header != 'name1,relationship,name2':
                raise Failure('%s: unexpected header %r' % (path, header))
            for line in f:
                parts = line.strip().split(',')
                if len(parts) != 3 or parts[1] != 'has_nickname':
                    continue
                nick.setdefault(parts[0], []).append(parts[2])
    except OSError as e:
        raise Failure('cannot read the nickname pairs %s: %s (use --nicknames)'
                      % (path, e.strerror))
    return nick


def capitalize_nick(n):
    """A nickname of the file (lower case) written as a name: Bob, Mary-Ann."""
    return '-'.join(p[:1].upper() + p[1:] for p in n.split('-'))


class Data:
    """Everything read from tools/names/ and data/nicknames.csv."""

    def __init__(self, nickname_path):
        """Read the files; nickname_path: the nickname pairs (CSV)."""
        nick = load_nicknames(nickname_path)
        # given names by sex, and by sex and group
        given = {'F': ([], []), 'M': ([], [])}
        given_group = {}
        for path in ('us_census_1990_given.tsv', 'supplement_given.tsv'):
            for name, sex, weight, variant, native, group in read_tsv(
                    os.path.join(NAMES_DIR, path), 6):
                if sex not in given:
                    raise Failure('%s: bad sex %r for %s' % (path, sex, name))
                n = Name(name, variant, native, group)
                nl = nick.get(fold(name).lower())
                if nl:
                    n.nicks = [capitalize_nick(x) for x in nl]
                given[sex][0].append(n)
                given[sex][1].append(float(weight))
                if group:
                    g = given_group.setdefault((sex, group), ([], []))
                    g[0].append(n)
                    g[1].append(float(weight))
        self.given = {sex: Pool(*given[sex]) for sex in ('F', 'M')}
        self.given_group = {k: Pool(*v) for k, v in given_group.items()}
        sur = ([], [])
        for path in ('us_census_1990_surnames.tsv', 'supplement_surnames.tsv'):
            for name, weight, variant, native, group in read_tsv(
                    os.path.join(NAMES_DIR, path), 5):
                sur[0].append(Name(name, variant, native, group))
                sur[1].append(float(weight))
        self.surnames = Pool(*sur)

        us = []
        for city, state, zip3, areas, pop, store, variants in read_tsv(
                os.path.join(NAMES_DIR, 'us_places.tsv'), 7):
            us.append(Place('US', city, state, zip3.split(','),
                            areas.split(','), None, None, store,
                            [v for v in variants.split(',') if v], int(pop)))
        gb = []
        for town, area, districts, code, prefixes, pop, store, variants in read_tsv(
                os.path.join(NAMES_DIR, 'gb_places.tsv'), 8):
            lo, hi = districts.split('-')
            gb.append(Place('GB', town, None, [area], [code],
                            (int(lo), int(hi)),
                            prefixes.split(',') if prefixes else None, store,
                            [v for v in variants.split(',') if v], int(pop)))
        self.places = {'US': Pool(us, [p.pop for p in us]),
                       'GB': Pool(gb, [p.pop for p in gb])}
        # stores: 1 to 5 per place (by population), numbered per store code
        self.stores = {'US': [], 'GB': []}
        count = {}
        for p in us + gb:
            p.stores = []
            for _ in range(min(5, 1 + p.pop // 500)):
                count[p.store] = count.get(p.store, 0) + 1
                code = '%s%02d' % (p.store, count[p.store])
                p.stores.append(code)
                self.stores[p.country].append(code)
        streets = {'US': [], 'GB': []}
        for country, name in read_tsv(os.path.join(NAMES_DIR, 'street_names.tsv'), 2):
            streets[country].append(name)
        self.streets = streets
        self.suffixes = {'US': weighted([((f, a), w) for f, a, w in US_SUFFIXES]),
                         'GB': weighted([((f, a), w) for f, a, w in GB_SUFFIXES])}
        self.domains = {c: weighted(v) for c, v in EMAIL_DOMAINS.items()}
        self.country_spellings = {c: weighted(v) for c, v in COUNTRY_SPELLINGS.items()}


class Place:
    """A city or town: country (US/GB), city, state (US), zip3 (US ZIP
    prefixes; GB: the postcode area), areas (US area codes; GB: the dialling
    code), districts (GB: the range of postcode districts), prefixes (GB:
    the first digits local numbers may have, or None), store (the store code
    prefix), variants (other spellings), pop (thousands), stores (codes)."""

    __slots__ = ('country', 'city', 'state', 'zip3', 'areas', 'districts',
                 'prefixes', 'store', 'variants', 'pop', 'stores')

    def __init__(self, country, city, state, zip3, areas, districts,
                 prefixes, store, variants, pop):
        self.country = country
        self.city = city
        self.state = state
        self.zip3 = zip3
        self.areas = areas
        self.districts = districts
        self.prefixes = prefixes
        self.store = store
        self.variants = variants
        self.pop = pop
        self.stores = []


# ---------------------------------------------------------------------------
# The population
# ---------------------------------------------------------------------------

class Address:
    """A postal address as its parts, rendered differently by each record:
    house number, direction (US: ('North', 'N') or None), street name,
    suffix (('Street', 'St') or None), unit (apartment or flat, or None),
    place (a Place) and the postal code (ZIP or postcode)."""

    __slots__ = ('country', 'house', 'direction', 'street', 'suffix', 'unit',
                 'place', 'postal')

    def __init__(self, country, house, direction, street, suffix, unit,
                 place, postal):
        self.country = country
        self.house = house
        self.direction = direction
        self.street = street
        self.suffix = suffix
        self.unit = unit
        self.place = place
        self.postal = postal


class Customer:
    """One real person, with the true values and their history."""

    __slots__ = ('no', 'country', 'sex', 'first', 'first_native', 'nicks',
                 'last', 'last_native', 'old_last', 't_last', 'birth', 'email',
                 'old_email', 't_email', 'mobile', 'old_mobile', 't_mobile',
                 'landline', 'address', 'old_address', 't_move', 'since',
                 'store', 'suffix')


class Population:
    """Makes customers and households, keeping emails and phones unique."""

    def __init__(self, rng, data, rates):
        """rng: the random.Random; data: a Data; rates: the scaled RATES."""
        self.rng = rng
        self.data = data
        self.r = rates
        # only looked up, never iterated: their order cannot matter
        self.used_emails = set()
        self.used_phones = set()

    # -- names --

    def spelled(self, n):
        """The spelling of name n this person uses: its accented variant for
        35% of bearers when it has one, else the usual spelling."""
        if n.variant is not None and self.rng.random() < self.r['accented_spelling']:
            return n.variant
        return n.name

    def pick_given(self, sex, group, avoid=()):
        """A given name of sex (F/M), of the surname's group (es, zh) for
        some, different from every name in avoid (a household's)."""
        rng = self.rng
        for _ in range(50):
            pool = self.data.given[sex]
            if group is not None:
                gp = self.data.given_group.get((sex, group))
                share = self.r['es_given'] if group == 'es' else self.r['same_origin_given']
                if gp is not None and rng.random() < share:
                    pool = gp
            n = pool.pick(rng)
            if n.name not in avoid and n.variant not in avoid:
                return n
        return n

    def pick_surname(self):
        """A surname, by frequency; 2% of people have a double one."""
        rng = self.rng
        n = self.data.surnames.pick(rng)
        if rng.random() < self.r['double_last']:
            m = self.data.surnames.pick(rng)
            if m is not n:
                joined = Name(n.name + '-' + m.name, None, None, n.group)
                if n.variant or m.variant:
                    joined.variant = (n.variant or n.name) + '-' + (m.variant or m.name)
                return joined
        return n

    # -- contact data --

    def new_phone(self, country, place, mobile):
        """A phone number nobody else has: national digits (US: 10; GB: 10
        without the trunk 0) tagged with the country, as (country, digits,
        kind) with kind 'mobile' or the GB dialling code of a landline."""
        rng = self.rng
        while True:
            if country == 'US':
                area = place.areas[rng.randrange(len(place.areas))]
                ex = rng.randrange(200, 1000)
                if ex % 100 == 11 or ex == 555 or ex == 950 or ex == 958 or ex == 959:
                    continue
                digits = '%s%03d%04d' % (area, ex, rng.randrange(10000))
                kind = 'nanp'
            elif mobile:
                digits = '7%s%08d' % ('45789'[rng.randrange(5)],
                                      rng.randrange(100000000))
                kind = 'mobile'
            else:
                code = place.areas[0]
                local_len = 10 - len(code)
                if place.prefixes:
                    pre = place.prefixes[rng.randrange(len(place.prefixes))]
                else:
                    pre = str(rng.randrange(2, 10))
                rest = local_len - len(pre)
                digits = code + pre + '%0*d' % (rest, rng.randrange(10 ** rest))
                kind = code
            # an integer takes less memory than the text
            key = int(digits) + (0 if country == 'US' else 10 ** 10)
            if key not in self.used_phones:
                self.used_phones.add(key)
                return (country, digits, kind)

    def email_key(self, email):
        """The mailbox an address reaches: Gmail ignores dots, +tags and the
        googlemail.com spelling; others are compared in lower case."""
        local, _, domain = email.lower().partition('@')
        if domain in ('gmail.com', 'googlemail.com'):
            local = local.split('+', 1)[0].replace('.', '')
            domain = 'gmail.com'
        return local + '@' + domain

    def unique_email(self, local, domain):
        """local@domain, or with digits added until nobody else has it."""
        rng = self.rng
        email = local + '@' + domain
        tries = 0
        while self.email_key(email) in self.used_emails:
            tries += 1
            if tries < 5:
                suffix = str(rng.randrange(1, 100))
            else:
                suffix = str(rng.randrange(100, 100000))
            email = local + suffix + '@' + domain
        self.used_emails.add(self.email_key(email))
        return email

    def new_email(self, first, last, birth_ordinal, country):
        """A personal email made the ways people make them, from the name and
        birth year: john.smith, jsmith, smithj, john.smith87, sunny77..."""
        rng = self.rng
        f = slug(first) or 'x'
        l = slug(last) or 'x'
        year = datetime.date.fromordinal(birth_ordinal).year
        yy = '%02d' % (year % 100)
        u = rng.random()
        if u < 0.30:
            local = f + '.' + l
        elif u < 0.45:
            local = f + l
        elif u < 0.50:
            local = f + '_' + l
        elif u < 0.62:
            local = f[0] + l
        elif u < 0.67:
            local = f[0] + '.' + l
        elif u < 0.70:
            local = l + '.' + f
        elif u < 0.78:
            local = f + l + yy
        elif u < 0.85:
            local = f + '.' + l + str(rng.randrange(1, 100))
        elif u < 0.90:
            local = f + str(rng.randrange(1, 1000))
        elif u < 0.93:
            local = l + f[0]
        else:
            local = EMAIL_WORDS[rng.randrange(len(EMAIL_WORDS))] + str(rng.randrange(1, 1000))
        domain = self.data.domains[country].pick(rng)
        return self.unique_email(local, domain)

    def family_email(self, last, firsts, country):
        """A household's shared email: thesmiths@, smithfamily@, john.and.mary@."""
        rng = self.rng
        l = slug(last) or 'family'
        u = rng.random()
        if u < 0.4:
            local = 'the' + l + 's'
        elif u < 0.7:
            local = l + 'family'
        elif u < 0.85:
            local = l + 'house'
        else:
            local = slug(firsts[0]) + 'and' + slug(firsts[1] if len(firsts) > 1 else 'family')
        return self.unique_email(local, self.data.domains[country].pick(rng))

    def new_address(self, country, place=None):
        """A plausible address in a city of country (or in place)."""
        rng = self.rng
        data = self.data
        if place is None:
            place = data.places[country].pick(rng)
        streets = data.streets[country]
        street = streets[rng.randrange(len(streets))]
        u = rng.random()
        if country == 'US':
            # house numbers: many small, some large
            house = 1 + int(9999 * u * u)
            direction = DIRECTIONS[rng.randrange(4)] if rng.random() < 0.12 else None
            suffix = None if street in NO_SUFFIX else data.suffixes['US'].pick(rng)
            unit = None
            if rng.random() < 0.18:
                unit = str(rng.randrange(1, 40))
                if rng.random() < 0.3:
                    unit += 'ABCDEF'[rng.randrange(6)]
            zip3 = place.zip3[rng.randrange(len(place.zip3))]
            postal = '%s%02d' % (zip3, rng.randrange(1, 60))
        else:
            house = 1 + int(250 * u * u)
            direction = None
            suffix = None if street in NO_SUFFIX else data.suffixes['GB'].pick(rng)
            unit = str(rng.randrange(1, 25)) if rng.random() < 0.15 else None
            lo, hi = place.districts
            outward = place.zip3[0] + str(rng.randrange(lo, hi + 1))
            inward = '%d%s%s' % (rng.randrange(10),
                                 POSTCODE_LETTERS[rng.randrange(20)],
                                 POSTCODE_LETTERS[rng.randrange(20)])
            postal = outward + ' ' + inward
        return Address(country, house, direction, street, suffix, unit, place, postal)

    # -- people --

    def new_customer(self, country, sex=None, last=None, birth=None,
                     address=None, avoid=()):
        """A customer with true values and history.  country: US or GB;
        sex, last (a Name), birth (an ordinal day), address: given for
        household members; avoid: first names already in the household."""
        rng = self.rng
        r = self.r
        c = Customer()
        c.country = country
        c.sex = sex or ('F' if rng.random() < 0.5 else 'M')
        ln = last or self.pick_surname()
        gn = self.pick_given(c.sex, ln.group, avoid)
        c.first = self.spelled(gn)
        c.nicks = gn.nicks
        c.last = self.spelled(ln)
        # Chinese script only with a Chinese given name too
        c.first_native = gn.native if ln.native else None
        c.last_native = ln.native if gn.native else None
        if birth is None:
            # ages 18-90 at the start of 2026, most of them 25-65
            u = rng.random()
            age = 18 + int(72 * (0.5 * u + 0.5 * u * u))
            birth = REF_ORDINAL - age * 365 - rng.randrange(365)
        c.birth = birth
        c.since = START + int(rng.random() * (SINCE_END - START))
        c.suffix = None
        if c.sex == 'M' and rng.random() < 0.015:
            c.suffix = SUFFIXES[rng.randrange(len(SUFFIXES))]
        # last name changed by marriage (not for members given the
        # household's name)
        c.old_last = None
        c.t_last = None
        if c.sex == 'F' and last is None and rng.random() < r['married_name']:
            c.old_last = c.last
            c.last = self.spelled(self.pick_surname())
            c.t_last = self.change_time(c)
        c.address = address or self.new_address(country)
        c.old_address = None
        c.t_move = None
        if rng.random() < r['move']:
            c.old_address = c.address
            # most moves stay in the same city
            same = c.address.place if rng.random() < 0.7 else None
            c.address = self.new_address(country, same)
            c.t_move = self.change_time(c)
        c.mobile = self.new_phone(country, c.address.place, True)
        c.old_mobile = None
        c.t_mobile = None
        if rng.random() < r['phone_change']:
            c.old_mobile = c.mobile
            c.mobile = self.new_phone(country, c.address.place, True)
            c.t_mobile = self.change_time(c)
        c.landline = None
        c.email = self.new_email(c.first, c.last, c.birth, country)
        c.old_email = None
        c.t_email = None
        if rng.random() < r['email_change']:
            c.old_email = c.email
            c.email = self.new_email(c.first, c.last, c.birth, country)
            c.t_email = self.change_time(c)
        home = c.address.place.stores
        c.store = home[rng.randrange(len(home))]
        return c

    def change_time(self, c):
        """A moment between the customer's first record and the end."""
        return c.since + int(self.rng.random() * (END - c.since))

    def household(self, size):
        """size customers living together: same address, mostly the same
        last name, different first names and birth dates."""
        rng = self.rng
        r = self.r
        country = 'GB' if rng.random() < r['gb'] else 'US'
        head = self.new_customer(country)
        members = [head]
        firsts = [head.first]
        ln = Name(head.last, None, None, None)
        births = {head.birth}
        for k in range(1, size):
            if k == 1:
                # a partner of about the same age
                birth = head.birth + rng.randrange(-6 * 365, 6 * 365 + 1)
            else:
                # a grown-up child
                birth = head.birth + rng.randrange(22 * 365, 38 * 365)
            birth = min(birth, REF_ORDINAL - 18 * 365 - rng.randrange(365))
            while birth in births:
                birth -= 1
            births.add(birth)
            last = ln if rng.random() < r['same_last_in_household'] else None
            sex = None
            if k == 1:
                sex = 'M' if head.sex == 'F' else 'F'
                if rng.random() < 0.05:
                    sex = head.sex
            m = self.new_customer(country, sex, last, birth, head.address,
                                  tuple(firsts))
            if head.t_move is not None and m.t_move is None:
                # the household moved together
                m.old_address = head.old_address
                m.t_move = head.t_move
            # (a member who moved on their own has left the household)
            firsts.append(m.first)
            members.append(m)
        if rng.random() < r['household_landline']:
            landline = self.new_phone(country, head.address.place, False)
            for m in members:
                m.landline = landline
        if rng.random() < r['family_email']:
            fam = self.family_email(head.last, firsts, country)
            for m in members:
                m.email = fam
                m.old_email = None
                m.t_email = None
        return members

    def single(self):
        """A customer who lives alone (as far as the retailer knows)."""
        rng = self.rng
        country = 'GB' if rng.random() < self.r['gb'] else 'US'
        c = self.new_customer(country)
        if rng.random() < self.r['landline']:
            c.landline = self.new_phone(country, c.address.place, False)
        return c


# ---------------------------------------------------------------------------
# Rendering records
# ---------------------------------------------------------------------------

class Renderer:
    """Writes one customer's record for a source, with that source's noise."""

    def __init__(self, rng, data, rates):
        """rng: the random.Random; data: a Data; rates: the scaled RATES."""
        self.rng = rng
        self.data = data
        self.r = rates

    # -- as-of values --

    @staticmethod
    def last_at(c, t):
        """The customer's last name at time t."""
        if c.t_last is not None and t < c.t_last:
            return c.old_last
        return c.last

    @staticmethod
    def email_at(c, t):
        """The customer's email at time t."""
        if c.t_email is not None and t < c.t_email:
            return c.old_email
        return c.email

    @staticmethod
    def mobile_at(c, t):
        """The customer's mobile number at time t."""
        if c.t_mobile is not None and t < c.t_mobile:
            return c.old_mobile
        return c.mobile

    @staticmethod
    def address_at(c, t):
        """The customer's address at time t."""
        if c.t_move is not None and t < c.t_move:
            return c.old_address
        return c.address

    # -- names --

    def names(self, c, t, source):
        """(first, last) as this record gives them, with name noise."""
        rng = self.rng
        r = self.r
        if source == 'web' and c.first_native is not None and rng.random() < r['zh_script_web']:
            return c.first_native, c.last_native
        first = c.first
        last = self.last_at(c, t)
        if c.nicks is not None and rng.random() < r['nickname']:
            first = c.nicks[rng.randrange(len(c.nicks))]
        if '-' in last:
            u = rng.random()
            if u < r['double_last_first_part']:
                last = last.split('-', 1)[0]
            elif u < r['double_last_first_part'] + r['double_last_space']:
                last = last.replace('-', ' ')
        strip = r['strip_accents_' + source]
        if strip > 0 and not (first.isascii() and last.isascii()) and rng.random() < strip:
            first = fold(first)
            last = fold(last)
        if rng.random() < r['typo']:
            if rng.random() < 0.5:
                first = typo(rng, first)
            else:
                last = typo(rng, last)
        if source == 'pos' and rng.random() < r['initial_pos']:
            first = first[:1] + ('.' if rng.random() < 0.5 else '')
        if rng.random() < r['swap']:
            first, last = last, first
        u = rng.random()
        if u < r['case']:
            if u < r['case'] * 0.6:
                first = first.upper()
                last = last.upper()
            else:
                first = first.lower()
                last = last.lower()
        if rng.random() < r['spaces']:
            u = rng.random()
            if u < 0.4:
                last = last + ' '
            elif u < 0.7:
                first = ' ' + first
            else:
                first = first + '  '
        p = r['placeholder_name_pos'] if source == 'pos' else r['placeholder_name']
        if rng.random() < p:
            ph = NAME_PLACEHOLDERS[rng.randrange(len(NAME_PLACEHOLDERS))]
            u = rng.random()
            if u < 0.4:
                first = ph
            elif u < 0.8:
                last = ph
            else:
                first = last = ph
        return first, last

    def full_name(self, c, t):
        """loyalty's full_name: "First Last", sometimes "LAST, First", with a
        title or suffix now and then."""
        rng = self.rng
        r = self.r
        first, last = self.names(c, t, 'loyalty')
        if rng.random() < r['last_comma_first']:
            if rng.random() < 0.7:
                last = last.upper()
            s = last + ', ' + first
        else:
            s = first + ' ' + last
        if rng.random() < r['title']:
            if rng.random() < 0.8 or c.sex == 'F':
                titles = TITLES[c.sex]
                s = titles[rng.randrange(len(titles))] + ' ' + s
            else:
                s = s + ' ' + (c.suffix or SUFFIXES[rng.randrange(len(SUFFIXES))])
        elif c.suffix is not None and rng.random() < 0.5:
            s = s + ' ' + c.suffix
        return s

    # -- emails --

    def email(self, c, t, source, missing, alt=None):
        """The email this record gives, or None; alt replaces the customer's
        own (a duplicate account)."""
        rng = self.rng
        r = self.r
        if rng.random() < missing:
            return None
        if rng.random() < r['email_placeholder']:
            return EMAIL_PLACEHOLDERS[rng.randrange(len(EMAIL_PLACEHOLDERS))]
        e = alt or self.email_at(c, t)
        local, _, domain = e.partition('@')
        if domain in ('gmail.com', 'googlemail.com'):
            if rng.random() < r['gmail_dots']:
                if '.' in local and rng.random() < 0.6:
                    local = local.replace('.', '')
                elif len(local) > 2:
                    # mostly between first and last name (jsmith ->
                    # j.smith, johnsmith -> john.smith), else anywhere
                    f = slug(c.first)
                    if 0 < len(f) < len(local) - 1 and local.startswith(f) \
                            and rng.random() < 0.7:
                        i = len(f)
                    elif local[0] == f[:1] and rng.random() < 0.5:
                        i = 1
                    else:
                        i = rng.randrange(1, len(local) - 1)
                    if local[i - 1] != '.' and local[i] != '.':
                        local = local[:i] + '.' + local[i:]
            if rng.random() < r['gmail_tag']:
                local = local + '+' + GMAIL_TAGS[rng.randrange(len(GMAIL_TAGS))]
            if domain == 'gmail.com' and c.country == 'US' and rng.random() < r['googlemail']:
                domain = 'googlemail.com'
        if rng.random() < r['email_typo']:
            typos = EMAIL_DOMAIN_TYPOS.get(domain)
            if typos is not None and rng.random() < 0.6:
                domain = typos[rng.randrange(len(typos))]
            else:
                local = typo(rng, local)
        u = rng.random()
        if u < r['email_case']:
            if u < r['email_case'] * 0.6:
                local = '.'.join(p[:1].upper() + p[1:] for p in local.split('.'))
                domain = domain[:1].upper() + domain[1:]
            else:
                local = local.upper()
                domain = domain.upper()
        e = local + '@' + domain
        if rng.random() < r['email_space']:
            e = e + ' '
        return e

    # -- phones --

    def phone(self, c, t, source):
        """The phone number this record gives, or None: in the source's house
        format, or in another one."""
        rng = self.rng
        r = self.r
        if rng.random() < r['phone_missing']:
            return None
        if rng.random() < r['phone_placeholder']:
            ph = PHONE_PLACEHOLDERS[c.country]
            return ph[rng.randrange(len(ph))]
        num = self.mobile_at(c, t)
        if c.landline is not None:
            p = r['landline_in_mobile'] if source == 'loyalty' else r['landline_used']
            if rng.random() < p:
                num = c.landline
        other = r['phone_other_format_web'] if source == 'web' else r['phone_other_format']
        if rng.random() < other:
            style = rng.randrange(8 if num[0] == 'US' else 6)
        elif num[0] == 'US':
            style = PHONE_HOUSE_STYLES[source][0]
        elif num[2] == 'mobile':
            style = PHONE_HOUSE_STYLES[source][1]
        else:
            style = PHONE_HOUSE_STYLES[source][2]
        return format_phone(num, style)

    # -- addresses --

    def street(self, a, source):
        """The street line of address a, in a random style (abbreviations,
        unit written several ways)."""
        rng = self.rng
        r = self.r
        name = a.street
        if name in ORDINAL_WORDS and rng.random() < r['ordinal_words']:
            name = ORDINAL_WORDS[name]
        parts = [str(a.house)]
        if a.direction is not None:
            u = rng.random()
            if u < r['abbr_direction']:
                parts.append(a.direction[1] + ('.' if u < r['abbr_direction'] * 0.3 else ''))
            else:
                parts.append(a.direction[0])
        parts.append(name)
        if a.suffix is not None:
            u = rng.random()
            if u < r['abbr_suffix']:
                ab = a.suffix[1]
                if u < r['abbr_suffix'] * 0.35 and ab != a.suffix[0]:
                    ab += '.'
                parts.append(ab)
            else:
                parts.append(a.suffix[0])
        line = ' '.join(parts)
        if a.unit is None:
            return line
        newline = source == 'loyalty' and rng.random() < r['two_lines']
        if a.country == 'US':
            if rng.random() < r['abbr_unit']:
                unit = US_UNIT_STYLES[rng.randrange(len(US_UNIT_STYLES))].format(a.unit)
            else:
                unit = 'Apartment ' + a.unit
            if newline:
                return line + '\n' + unit
            return line + (', ' if rng.random() < 0.6 else ' ') + unit
        flat = 'Flat ' + a.unit
        if newline:
            return flat + '\n' + line
        if rng.random() < r['flat_style']:
            return line + ', ' + flat
        return flat + ', ' + line

    def city(self, a):
        """The city as written: other spellings, case, state, typos."""
        rng = self.rng
        r = self.r
        p = a.place
        city = p.city
        if p.variants and rng.random() < r['city_variant']:
            city = p.variants[rng.randrange(len(p.variants))]
        if rng.random() < r['city_typo']:
            city = typo(rng, city)
        if p.state is not None and rng.random() < r['city_state']:
            city = city + ', ' + p.state
        if rng.random() < r['city_upper']:
            city = city.upper()
        return city

    def postal(self, a, source):
        """The ZIP code or postcode as written."""
        rng = self.rng
        r = self.r
        z = a.postal
        if a.country == 'US':
            if rng.random() < r['zip4']:
                z = z + '-%04d' % rng.randrange(1, 10000)
            if source == 'loyalty' and z[0] == '0' and rng.random() < r['zip_lost_zero']:
                z = z.lstrip('0')
            return z
        if rng.random() < r['postcode_nospace']:
            z = z.replace(' ', '')
        if rng.random() < r['postcode_lower']:
            z = z.lower()
        return z


def format_phone(num, style):
    """The text of phone number num ((country, digits, kind)) in one of the
    formats people write: style 0-7 for US numbers, 0-5 for British ones
    (0 is the usual national form, 1 the international one with spaces, 2
    and 3 the digits alone nationally and internationally for British
    mobiles...); see the branches."""
    country, d, kind = num
    if country == 'US':
        a, e, l = d[:3], d[3:6], d[6:]
        if style == 0:
            return '(%s) %s-%s' % (a, e, l)
        if style == 1:
            return '%s-%s-%s' % (a, e, l)
        if style == 2:
            return '%s.%s.%s' % (a, e, l)
        if style == 3:
            return '+1 %s %s %s' % (a, e, l)
        if style == 4:
            return d
        if style == 5:
            return '1-%s-%s-%s' % (a, e, l)
        if style == 6:
            return '+1' + d
        return '%s %s %s' % (a, e, l)
    if kind == 'mobile':
        a, b = d[:4], d[4:]
        if style == 0:
            return '0%s %s' % (a, b)
        if style == 1:
            return '+44 %s %s' % (a, b)
        if style == 2:
            return '0' + d
        if style == 3:
            return '+44' + d
        if style == 4:
            return '0%s %s %s' % (a, b[:3], b[3:])
        return '+44 (0)%s %s' % (a, b)
    code = kind
    local = d[len(code):]
    if len(code) == 2:
        groups = [local[:4], local[4:]]
    elif len(code) == 3:
        groups = [local[:3], local[3:]]
    else:
        groups = [local]
    rest = ' '.join(groups)
    if style == 0:
        return '0%s %s' % (code, rest)
    if style == 1:
        return '+44 %s %s' % (code, rest)
    if style == 2:
        return '(0%s) %s' % (code, rest)
    if style == 3:
        return '0' + d
    if style == 4:
        return '+44 (0)%s %s' % (code, rest)
    return '+44' + d


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------

TABLES = [
    # source, table, csv file, key column, columns with types
    ('web_shop', 'web_shop_customer', 'web_shop.csv', 'customer_ref', [
        ('customer_ref', 'text NOT NULL'), ('email', 'text'),
        ('first_name', 'text'), ('last_name', 'text'), ('phone', 'text'),
        ('street', 'text'), ('city', 'text'), ('postal_code', 'text'),
        ('country', 'text'), ('created_at', 'timestamptz'),
        ('updated_at', 'timestamptz')]),
    ('loyalty', 'loyalty_member', 'loyalty.csv', 'member_no', [
        ('member_no', 'bigint NOT NULL'), ('full_name', 'text'),
        ('email', 'text'), ('mobile', 'text'), ('birth_date', 'date'),
        ('address', 'text'), ('zip', 'text'), ('city', 'text'),
        ('points', 'integer'), ('updated_at', 'timestamptz')]),
    ('pos', 'pos_customer', 'pos.csv', 'pos_id', [
        ('pos_id', 'text NOT NULL'), ('first_name', 'text'),
        ('last_name', 'text'), ('phone', 'text'), ('email', 'text'),
        ('postal_code', 'text'), ('store_code', 'text'),
        ('last_visit', 'timestamptz')]),
]
TRUTH_COLUMNS = [('source', 'text NOT NULL'), ('source_key', 'text NOT NULL'),
                 ('customer_no', 'integer NOT NULL')]

TABLE_COMMENTS = {
    'web_shop_customer': 'Generated sample: customer accounts of the web shop.',
    'loyalty_member': 'Generated sample: members of the loyalty-card programme.',
    'pos_customer': 'Generated sample: customers known to the stores\' point of sale.',
    'truth': 'Generated sample: the true customer (customer_no) of every source '
             'record, to measure the precision and recall of unification.',
}

LOYALTY_BASE = 700000000000


def copy_field(v):
    """A value in PostgreSQL's COPY text format (\\N for NULL)."""
    if v is None:
        return '\\N'
    return v.translate(COPY_ESCAPES)


def uncopy_field(s):
    """The value of a COPY text field (None for \\N): undoes copy_field."""
    if s == '\\N':
        return None
    if '\\' not in s:
        return s
    out = []
    i = 0
    n = len(s)
    while i < n:
        ch = s[i]
        if ch == '\\' and i + 1 < n:
            nx = s[i + 1]
            out.append({'t': '\t', 'n': '\n', 'r': '\r'}.get(nx, nx))
            i += 2
        else:
            out.append(ch)
            i += 1
    return ''.join(out)


def csv_field(v):
    """A value as an RFC 4180 field: NULL is empty, an empty string is "",
    a value with a comma, quote, CR or LF (or spaces at either end) quoted."""
    if v is None:
        return ''
    if v == '' or any(c in v for c in ',"\r\n') or v != v.strip(' '):
        return '"' + v.replace('"', '""') + '"'
    return v


class Buckets:
    """Temporary files that hold a source's records until they are shuffled.

    Each record goes to a random bucket; at the end each bucket is read,
    shuffled and numbered in turn, which shuffles the whole source while only
    one bucket is ever in memory.
    """

    def __init__(self, tmpdir, name, nbuckets, rng):
        """Open nbuckets files named name.N in tmpdir; rng picks buckets."""
        self.rng = rng
        self.paths = [os.path.join(tmpdir, '%s.%d' % (name, i)) for i in range(nbuckets)]
        self.files = [open(p, 'w', encoding='utf-8', newline='\n') for p in self.paths]
        self.count = 0

    def add(self, customer_no, fields):
        """Store one record: the customer number and its fields (str/None)."""
        files = self.files
        f = files[self.rng.randrange(len(files))] if len(files) > 1 else files[0]
        f.write('%d\t%s\n' % (customer_no, '\t'.join(map(copy_field, fields))))
        self.count += 1

    def close(self):
        """Close the files after the last record."""
        for f in self.files:
            f.close()

    def shuffled(self):
        """Every record as (customer_no, escaped fields line), in random order."""
        for p in self.paths:
            with open(p, encoding='utf-8', newline='\n') as f:
                lines = f.read().split('\n')
            os.unlink(p)
            if lines and lines[-1] == '':
                lines.pop()
            self.rng.shuffle(lines)
            for line in lines:
                no, _, rest = line.partition('\t')
                yield no, rest


class Generator:
    """Runs the population through the three sources into the buckets."""

    def __init__(self, args, data):
        """args: the parsed command line; data: a Data."""
        self.args = args
        self.rng = random.Random(args.seed)
        self.data = data
        rates = {}
        for k, v in RATES.items():
            rates[k] = min(1.0, v * args.noise) if k in NOISY else v
        self.r = rates
        self.pop = Population(self.rng, data, rates)
        self.render = Renderer(self.rng, data, rates)
        self.source_sets = weighted([(s, w) for w, s in SOURCE_SETS])
        self.household_sizes = weighted([(s, w) for w, s in HOUSEHOLD_SIZES])
        # chance that a new unit is a household, so that 12% of customers
        # live in one: p * 2.5 / (p * 2.5 + 1 - p) = 0.12
        mean = sum(w * s for w, s in HOUSEHOLD_SIZES)
        h = rates['household_customers']
        self.p_household = h / (mean - h * (mean - 1))
        self.stats = {'customers': 0, 'household_customers': 0, 'households': 0,
                      'three_sources': 0, 'duplicates': 0}

    def run(self, tmpdir):
        """Make every customer and their records; returns the Buckets."""
        args = self.args
        n_customers = int(round(args.records / RECORDS_PER_CUSTOMER))
        self.n_customers = n_customers
        buckets = {}
        for source, share in (('web_shop', 0.55), ('loyalty', 0.55), ('pos', 0.50)):
            nb = max(1, -(-int(args.records * share) // BUCKET_ROWS))
            buckets[source] = Buckets(tmpdir, source, nb, self.rng)
        self.buckets = buckets
        rng = self.rng
        no = 0
        while no < n_customers:
            left = n_customers - no
            if left >= 2 and rng.random() < self.p_household:
                size = min(left, self.household_sizes.pick(rng))
                members = self.pop.household(size)
                self.stats['households'] += 1
                self.stats['household_customers'] += size
            else:
                members = [self.pop.single()]
            for c in members:
                no += 1
                c.no = no
                self.emit(c)
        self.stats['customers'] = no
        for b in buckets.values():
            b.close()
        return buckets

    def emit(self, c):
        """Write the records of customer c to the sources it appears in."""
        rng = self.rng
        sources = self.source_sets.pick(rng)
        if len(sources) == 3:
            self.stats['three_sources'] += 1
        for s in sources:
            self.record(c, s, False)
        if rng.random() < self.r['duplicate']:
            self.stats['duplicates'] += 1
            self.record(c, sources[rng.randrange(len(sources))], True)

    def when(self, c):
        """A moment between the customer's start and the end of the window."""
        return c.since + int(self.rng.random() * (END - c.since))

    def record(self, c, source, duplicate):
        """Render one record of customer c for source and store it."""
        rng = self.rng
        r = self.r
        rd = self.render
        if source == 'web':
            created = self.when(c)
            if rng.random() < 0.25:
                updated = created
            else:
                updated = created + int(rng.random() * (END - created))
            t = updated
            alt = None
            if duplicate:
                # a second account needs another email
                alt = None
                if c.old_email is not None and c.old_email != rd.email_at(c, t):
                    alt = c.old_email
                if alt is None:
                    alt = self.pop.new_email(c.first, c.last, c.birth, c.country)
            email = rd.email(c, t, 'web', r['email_missing_web'], alt)
            if email is None and rng.random() < r['empty_not_null_web']:
                email = ''
            first, last = rd.names(c, t, 'web')
            phone = rd.phone(c, t, 'web')
            if phone is None and rng.random() < r['empty_not_null_web']:
                phone = ''
            a = rd.address_at(c, t)
            if rng.random() < r['address_missing']:
                if rng.random() < r['empty_not_null_web']:
                    street = city = postal = ''
                else:
                    street = city = postal = None
            else:
                street = rd.street(a, 'web')
                if rng.random() < r['stray_chars']:
                    street += '\t\r\\'[rng.randrange(3)]
                city = rd.city(a)
                postal = rd.postal(a, 'web')
            u = rng.random()
            if u < r['country_missing']:
                country = None
            elif rng.random() < r['country_variant']:
                country = self.data.country_spellings[c.country].pick(rng)
            else:
                country = c.country
            self.buckets['web_shop'].add(c.no, [
                email, first, last, phone, street, city, postal, country,
                ts_string(created), ts_string(updated)])
        elif source == 'loyalty':
            t = self.when(c)
            full = rd.full_name(c, t)
            email = rd.email(c, t, 'loyalty', r['email_missing_loyalty'])
            mobile = rd.phone(c, t, 'loyalty')
            birth = None
            if rng.random() >= r['birth_missing']:
                if rng.random() < r['birth_placeholder']:
                    birth = '1900-01-01'
                else:
                    d = datetime.date.fromordinal(c.birth)
                    if d.day <= 12 and d.day != d.month and rng.random() < r['birth_swap']:
                        d = datetime.date(d.year, d.day, d.month)
                        birth = d.isoformat()
                    else:
                        birth = day_string(c.birth)
            a = rd.address_at(c, t)
            if rng.random() < r['address_missing']:
                address = zipc = city = None
            else:
                address = rd.street(a, 'loyalty')
                zipc = rd.postal(a, 'loyalty')
                city = rd.city(a)
                if rng.random() < r['whole_address']:
                    if a.country == 'US':
                        address = '%s, %s, %s %s' % (address, a.place.city,
                                                     a.place.state, a.postal)
                    else:
                        address = '%s, %s %s' % (address, a.place.city, a.postal)
            if rng.random() < r['points_zero']:
                points = '0'
            else:
                u = rng.random()
                points = str(int(50000 * u * u * u))
            self.buckets['loyalty'].add(c.no, [
                full, email, mobile, birth, address, zipc, city, points,
                ts_string(t)])
        else:
            t = self.when(c)
            first, last = rd.names(c, t, 'pos')
            phone = rd.phone(c, t, 'pos')
            email = rd.email(c, t, 'pos', r['email_missing_pos'])
            a = rd.address_at(c, t)
            postal = None if rng.random() < r['address_missing'] else rd.postal(a, 'pos')
            if rng.random() < r['home_store']:
                store = c.store
            else:
                stores = self.data.stores[c.country]
                store = stores[rng.randrange(len(stores))]
            self.buckets['pos'].add(c.no, [
                first, last, phone, email, postal, store, ts_string(t)])


def key_text(source, seq, width):
    """The key of the seq-th record (1-based) of a source, as text."""
    if source == 'web_shop':
        return 'W%0*d' % (width, seq)
    if source == 'loyalty':
        return str(LOYALTY_BASE + seq)
    return 'P-%0*d' % (width, seq)


def write_sql(out, gen, buckets, tmpdir, args):
    """The SQL script: schema, tables, COPY blocks, keys, comments, ANALYZE."""
    schema = quote_ident(args.schema)
    counts = {s: buckets[s].count for s, _, _, _, _ in TABLES}
    total = sum(counts.values())
    w = out.write
    w('-- Sample customer data for pg_cdp, made by tools/generate_customers.py\n')
    w('--   --records %d --seed %d --noise %s\n' % (args.records, args.seed, fmt_num(args.noise)))
    w('-- %d customers; %s; truth %d.\n' % (
        gen.stats['customers'],
        ', '.join('%s %d' % (t, counts[s]) for s, t, _, _, _ in TABLES), total))
    w('-- Fictional people: their emails and phone numbers look real and some may\n'
      '-- exist.  Never send anything to them outside a test server.\n')
    w('SET client_encoding = \'UTF8\';\n')
    w('SET standard_conforming_strings = on;\n')
    w('SET client_min_messages = warning;\n')
    w('BEGIN;\n')
    w('CREATE SCHEMA IF NOT EXISTS %s;\n' % schema)
    for _, table, _, _, _ in TABLES:
        w('DROP TABLE IF EXISTS %s.%s;\n' % (schema, table))
    w('DROP TABLE IF EXISTS %s.truth;\n' % schema)
    for _, table, _, _, cols in TABLES + [('truth', 'truth', None, None, TRUTH_COLUMNS)]:
        w('CREATE TABLE %s.%s (\n%s\n);\n' % (
            schema, table, ',\n'.join('    %s %s' % c for c in cols)))
    truth_path = os.path.join(tmpdir, 'truth')
    with open(truth_path, 'w', encoding='utf-8', newline='\n') as truth:
        for source, table, _, _, cols in TABLES:
            width = max(7 if source == 'web_shop' else 6, len(str(counts[source])))
            w('COPY %s.%s (%s) FROM stdin;\n' % (
                schema, table, ', '.join(c[0] for c in cols)))
            seq = 0
            for no, rest in buckets[source].shuffled():
                seq += 1
                k = key_text(source, seq, width)
                w(k + '\t' + rest + '\n')
                truth.write('%s\t%s\t%s\n' % (source, k, no))
            w('\\.\n')
    w('COPY %s.truth (source, source_key, customer_no) FROM stdin;\n' % schema)
    with open(truth_path, encoding='utf-8', newline='\n') as truth:
        for line in truth:
            w(line)
    os.unlink(truth_path)
    w('\\.\n')
    for _, table, _, key, _ in TABLES:
        w('ALTER TABLE %s.%s ADD PRIMARY KEY (%s);\n' % (schema, table, key))
    w('ALTER TABLE %s.truth ADD PRIMARY KEY (source, source_key);\n' % schema)
    for table, text in TABLE_COMMENTS.items():
        w('COMMENT ON TABLE %s.%s IS \'%s\';\n' % (schema, table, text.replace("'", "''")))
    w('COMMIT;\n')
    for _, table, _, _, _ in TABLES:
        w('ANALYZE %s.%s;\n' % (schema, table))
    w('ANALYZE %s.truth;\n' % schema)
    return counts


def write_csv(outdir, gen, buckets, tmpdir):
    """The four CSV files in outdir."""
    counts = {s: buckets[s].count for s, _, _, _, _ in TABLES}
    truth_path = os.path.join(outdir, 'truth.csv')
    with open(truth_path, 'w', encoding='utf-8', newline='') as truth:
        truth.write('source,source_key,customer_no\r\n')
        for source, _, filename, _, cols in TABLES:
            width = max(7 if source == 'web_shop' else 6, len(str(counts[source])))
            with open(os.path.join(outdir, filename), 'w', encoding='utf-8',
                      newline='') as f:
                f.write(','.join(c[0] for c in cols) + '\r\n')
                seq = 0
                for no, rest in buckets[source].shuffled():
                    seq += 1
                    k = key_text(source, seq, width)
                    fields = [csv_field(uncopy_field(x)) for x in rest.split('\t')]
                    f.write(k + ',' + ','.join(fields) + '\r\n')
                    truth.write('%s,%s,%s\r\n' % (source, k, no))
    return counts


def fmt_num(x):
    """A float without a needless .0 (1 rather than 1.0)."""
    return ('%d' % x) if x == int(x) else repr(x)


def parse_args(argv):
    """The command line, checked."""
    p = argparse.ArgumentParser(
        description='Deterministic generator of messy customer records of a '
                    'retailer (web shop, loyalty programme, point of sale) '
                    'with the true customer of every record.',
        epilog='The noise rates are listed at the top of this script and in '
               'tools/README.md.')
    p.add_argument('--records', type=int, required=True,
                   help='about how many source records to make in all')
    p.add_argument('--seed', type=int, default=1, help='random seed (default 1)')
    p.add_argument('--format', choices=('sql', 'csv'), default='sql',
                   help='one SQL script (default) or four CSV files')
    p.add_argument('--out', metavar='DIR',
                   help='output directory (default: standard output for sql, '
                        'the current directory for csv)')
    p.add_argument('--schema', default='sample',
                   help='schema of the tables in the SQL script (default sample)')
    p.add_argument('--noise', type=float, default=1.0,
                   help='multiplies the noise rates (default 1; 0 = clean)')
    p.add_argument('--nicknames', default=DEFAULT_NICKNAMES,
                   help='the nickname pairs (default: data/nicknames.csv)')
    args = p.parse_args(argv)
    if args.records < 0:
        p.error('--records must be 0 or more')
    if args.records > 100000000:
        p.error('--records must be at most 100000000')
    if not (0 <= args.noise <= 100):
        p.error('--noise must be between 0 and 100')
    if not args.schema or '\0' in args.schema or len(args.schema.encode()) > 63:
        p.error('--schema must be a name of 1 to 63 bytes')
    return args


def main(argv):
    """Generate, write, report the counts on standard error."""
    args = parse_args(argv)
    try:
        try:
            data = Data(args.nicknames)
        except ValueError as e:
            raise Failure('a malformed number in tools/names/: %s' % e)
        outdir = args.out
        if args.format == 'csv' and outdir is None:
            outdir = '.'
        if outdir is not None and not os.path.isdir(outdir):
            raise Failure('output directory %s does not exist' % outdir)
        gen = Generator(args, data)
        with tempfile.TemporaryDirectory(prefix='gen_customers.', dir=outdir) as tmpdir:
            buckets = gen.run(tmpdir)
            if args.format == 'csv':
                counts = write_csv(outdir, gen, buckets, tmpdir)
            elif outdir is None:
                out = open(sys.stdout.fileno(), 'w', encoding='utf-8', newline='\n',
                           buffering=1 << 20, closefd=False)
                counts = write_sql(out, gen, buckets, tmpdir, args)
                out.flush()
            else:
                with open(os.path.join(outdir, 'generated.sql'), 'w', encoding='utf-8',
                          newline='\n', buffering=1 << 20) as out:
                    counts = write_sql(out, gen, buckets, tmpdir, args)
    except Failure as e:
        sys.stderr.write('generate_customers: %s\n' % e)
        return 1
    except BrokenPipeError:
        return 1
    st = gen.stats
    total = sum(counts.values())
    sys.stderr.write(
        'generate_customers: seed %d, noise %s: %d customers '
        '(%d in %d households, %d in all three sources, %d with a duplicate '
        'record)\n' % (args.seed, fmt_num(args.noise), st['customers'],
                       st['household_customers'], st['households'],
                       st['three_sources'], st['duplicates']))
    for source, table, _, _, _ in TABLES:
        sys.stderr.write('  %s: %d rows\n' % (table, counts[source]))
    sys.stderr.write('  truth: %d rows\n' % total)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
