"""Normalised forms for matching: E.164 phones, address, email and name keys.

Phones are computed once per distinct value in Python (libphonenumber's rules are not worth
rewriting in SQL) and joined back; the keys are SQL macros.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

# USPS Publication 28 standard abbreviations for the words that vary most between systems.
ADDRESS_WORDS = {
    "street": "st",
    "str": "st",
    "avenue": "ave",
    "av": "ave",
    "road": "rd",
    "drive": "dr",
    "lane": "ln",
    "boulevard": "blvd",
    "court": "ct",
    "place": "pl",
    "terrace": "ter",
    "parkway": "pkwy",
    "highway": "hwy",
    "circle": "cir",
    "square": "sq",
    "trail": "trl",
    "crossing": "xing",
    "expressway": "expy",
    "freeway": "fwy",
    "heights": "hts",
    "junction": "jct",
    "mount": "mt",
    "mountain": "mtn",
    "point": "pt",
    "ridge": "rdg",
    "route": "rte",
    "center": "ctr",
    "centre": "ctr",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
    "suite": "ste",
    "apartment": "apt",
    "unit": "unit",
    "building": "bldg",
    "floor": "fl",
    "room": "rm",
    "first": "1st",
    "second": "2nd",
    "third": "3rd",
}

ABBREVIATIONS = "MAP {" + ", ".join(f"'{word}': '{short}'" for word, short in ADDRESS_WORDS.items()) + "}"

SQL_MACROS = (
    "CREATE OR REPLACE TEMP MACRO trueup_email(v) AS nullif(lower(trim(CAST(v AS VARCHAR))), '')",
    # Order-free: "Smith, John" and "john smith" have the same key.
    "CREATE OR REPLACE TEMP MACRO trueup_name_key(v) AS nullif(array_to_string(list_sort(list_filter("
    "string_split(regexp_replace(lower(strip_accents(CAST(v AS VARCHAR))), '[^a-z0-9]+', ' ', 'g'), ' '),"
    " lambda w: w <> '')), ' '), '')",
    "CREATE OR REPLACE TEMP MACRO trueup_text(v) AS nullif(trim(regexp_replace(CAST(v AS VARCHAR), '\\s+', ' ', 'g')), '')",
    # The words of an address in lower case without accents, each in its standard abbreviation; "#" is an
    # apartment.
    "CREATE OR REPLACE TEMP MACRO trueup_address_key(v) AS nullif(array_to_string(list_transform(list_filter("
    "regexp_split_to_array(replace(lower(strip_accents(CAST(v AS VARCHAR))), '#', ' apt '), '[^a-z0-9]+'), lambda w: w <> ''),"
    f" lambda w: coalesce({ABBREVIATIONS}[w], w)),"
    " ' '), '')",
)


@functools.cache
def number_symbols(country: str) -> tuple[str, str]:
    """The decimal mark and the digit group separator of the country's numbers, from CLDR (Babel):
    `('.', ',')` in the US, `(',', '.')` in Germany, `(',', '\u202f')` in France, `('.', "'")` in
    Switzerland. A country CLDR does not know writes numbers as the US does."""
    from babel import Locale, UnknownLocaleError
    from babel.numbers import get_decimal_symbol, get_group_symbol

    try:
        locale = Locale.parse(f"und_{country}")
    except (UnknownLocaleError, ValueError):
        return ".", ","
    return get_decimal_symbol(locale), get_group_symbol(locale)


# A North American number as people write it: (937) 456-7732, 937.456.7732, +1 937 456 7732, 19374567732.
# libphonenumber reads each of these as +1 and the ten digits; parsing one takes it about 40 us, and
# a company has hundreds of thousands (445k distinct on the `large` demo: 16 s of the map step).
NANP_NUMBER = re.compile(r" *(?:\+?1[ .-]?)?\(?([2-9][0-9]{2})\)?[ .-]?([0-9]{3})[ .-]?([0-9]{4}) *")


def phone_e164(value: str | None, region: str) -> str | None:
    if not value or not value.strip():
        return None
    if _dials_one(region) and (nanp := NANP_NUMBER.fullmatch(value)):
        return "+1" + "".join(nanp.groups())
    import phonenumbers  # its metadata takes a twentieth of a second to import; only phones need it

    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.cache
def _dials_one(region: str) -> bool:
    """Whether the region's numbers are North American (country code 1: US, Canada, the Caribbean)."""
    import phonenumbers

    return bool(phonenumbers.country_code_for_region(region) == 1)


def phone_table(values: Iterable[str], region: str) -> dict[str, list]:
    raw = list(values)
    return {"raw": raw, "norm": [phone_e164(v, region) for v in raw]}


MONTH_FIRST = ("US", "PH", "FM", "MH", "PW", "CA")  # the countries where 03/11/2026 is March 11


def date_formats(country: str) -> list[str]:
    """strptime formats tried for naive date texts, day-first outside month-first countries."""
    dm = (
        ["%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y"]
        if country in MONTH_FIRST
        else ["%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y"]
    )
    out = []
    for base in dm:
        out += [f"{base} %H:%M:%S", f"{base} %H:%M", f"{base} %I:%M:%S %p", f"{base} %I:%M %p", base]
    out += [
        "%b %d, %Y %I:%M %p",
        "%b %d, %Y",
        "%B %d, %Y",
        "%d %b %Y",
        "%d %B %Y",
        "%Y/%m/%d",
        "%Y%m%d",
        "%Y-%m-%d %I:%M %p",
    ]
    return out
