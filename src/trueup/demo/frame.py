"""The demo world inside DuckDB: its tables, the word lists as macros, and the true text of each
customer (names, addresses, phones, emails), from which every vendor's spelling is derived."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from trueup.demo import words
from trueup.demo.world import LINE_OF, World
from trueup.ingest.base import literal

TABLES = ("customers", "locations", "deals", "jobs", "invoices", "lines", "payments", "engagements", "visits")


def sql_list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"


ZONE = "America/New_York"  # the company's clocks: the world's times are clock times of this zone
MEMORY_LIMIT = "1GB"  # beyond it DuckDB spills to disk, so a large company fits a small machine


def load(world: World, spill_to: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory database holding the world, with the macros the exporters use."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = {literal(str(spill_to))}")
    con.execute(f"SET TimeZone = {literal(ZONE)}")
    for name in TABLES:
        table: dict[str, np.ndarray] = getattr(world, name)
        arrow = pa.table({k: pa.array(v, from_pandas=True) for k, v in table.items()})
        con.register(f"_{name}", arrow)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM _{name}")
        con.unregister(f"_{name}")
    techs = pa.table({"id": list(range(len(world.technicians))), "name": [t for _, t in world.technicians]})
    con.register("_techs", techs)
    con.execute("CREATE TABLE technicians AS SELECT * FROM _techs")
    for statement in MACROS:
        con.execute(statement)
    con.execute(PEOPLE)
    return con


def _macro(name: str, values: tuple[str, ...] | list[str]) -> str:
    return f"CREATE MACRO {name}(i) AS ({sql_list(values)})[i + 1]"


_nick = [words.NICKNAMES.get(f, f) for f in words.FIRST_NAMES]
_towns = [[t for t, _ in b.towns] for b in words.BRANCHES]
_zips = [[z for _, z in b.towns] for b in words.BRANCHES]
_subjects = [[s for s in words.ENGAGEMENT_SUBJECTS[k]] for k in ("CALL", "EMAIL", "MEETING", "NOTE")]
_job_titles = [spec.jobs[k][0] for spec in words.SERVICE_LINES for k in range(len(spec.jobs))]

MACROS = (
    _macro("first_name", words.FIRST_NAMES),
    _macro("nickname", _nick),
    _macro("last_name", words.LAST_NAMES),
    _macro("company_kind", words.COMPANY_KINDS),
    _macro("company_suffix", words.COMPANY_SUFFIXES),
    _macro("street_name", words.STREETS),
    _macro("street_type", [long for long, _ in words.STREET_TYPES]),
    _macro("street_abbr", [short for _, short in words.STREET_TYPES]),
    _macro("email_domain", words.EMAIL_DOMAINS),
    _macro("office_staff", words.OFFICE_STAFF),
    _macro("lead_source", words.LEAD_SOURCES),
    _macro("payment_method", words.PAYMENT_METHODS),
    _macro("branch_name", [b.name for b in words.BRANCHES]),
    _macro("area_code", [b.area_code for b in words.BRANCHES]),
    _macro("service_line", [s.name for s in words.SERVICE_LINES]),
    _macro("job_title", [*_job_titles, words.PLAN_VISIT[0]]),
    _macro("engagement_kind", ["CALL", "EMAIL", "MEETING", "NOTE"]),
    _macro("item_name", ["Labor", "Parts & materials", "Trip charge", words.DISCOUNTS[0]]),
    _macro(
        "open_stage",
        [
            "Appointment Scheduled",
            "Qualified To Buy",
            "Presentation Scheduled",
            "Decision Maker Bought-In",
            "Contract Sent",
        ],
    ),
    "CREATE MACRO kind_line(k) AS (" + str([*LINE_OF.tolist(), 0]) + ")[k + 1]",
    "CREATE MACRO town(b, i) AS (" + str(_towns) + ")[b + 1][i + 1]",
    "CREATE MACRO zip(b, i) AS (" + str(_zips) + ")[b + 1][i + 1]",
    "CREATE MACRO subject(k, i) AS ("
    + str(_subjects)
    + ")[k + 1][i % len(("
    + str(_subjects)
    + ")[k + 1]) + 1]",
    # Dollars from integer cents, exactly, as text.
    "CREATE MACRO dollars(c) AS CAST(CAST(c AS DECIMAL(18, 0)) / 100 AS DECIMAL(18, 2))",
    "CREATE MACRO money_text(c) AS CAST(dollars(c) AS VARCHAR)",
    "CREATE MACRO money_us(c) AS (CASE WHEN c < 0 THEN '-' ELSE '' END) || '$' || "
    "format('{:,}', abs(c) // 100) || '.' || lpad(CAST(abs(c) % 100 AS VARCHAR), 2, '0')",
    # The ten digits of a phone number, written the way one system writes them.
    "CREATE MACRO phone_text(d, f) AS CASE f"
    " WHEN 0 THEN '(' || d[1:3] || ') ' || d[4:6] || '-' || d[7:10]"
    " WHEN 1 THEN d[1:3] || '-' || d[4:6] || '-' || d[7:10]"
    " WHEN 2 THEN d[1:3] || '.' || d[4:6] || '.' || d[7:10]"
    " WHEN 3 THEN '+1 ' || d[1:3] || ' ' || d[4:6] || ' ' || d[7:10]"
    " ELSE d END",
    # Case and spacing as people type them: as is, UPPER, lower, or with stray spaces.
    "CREATE MACRO cased(s, k) AS CASE k WHEN 1 THEN upper(s) WHEN 2 THEN lower(s)"
    " WHEN 3 THEN replace(s, ' ', '  ') || ' ' ELSE s END",
    # A typo that always changes the word: two letters swapped at p, or the last letter doubled.
    "CREATE MACRO swapped(s, p) AS CASE WHEN length(s) > p + 1 AND lower(s[p + 1:p + 1]) <> lower(s[p + 2:p + 2])"
    " THEN s[1:p] || s[p + 2:p + 2] || s[p + 1:p + 1] || s[p + 3:] ELSE s || s[length(s):length(s)] END",
    "CREATE MACRO slug(s) AS regexp_replace(lower(strip_accents(s)), '[^a-z0-9]', '', 'g')",
    "CREATE MACRO base36(x, n) AS list_reduce(list_transform(range(n), lambda k:"
    " '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'[((x // pow(36, k)::BIGINT) % 36) + 1]), lambda a, b: b || a)",
    "CREATE MACRO street_line(no, name, type, unit, short) AS CAST(no AS VARCHAR) || ' ' || street_name(name)"
    " || ' ' || CASE WHEN short THEN street_abbr(type) ELSE street_type(type) END"
    " || CASE WHEN unit = 0 THEN '' WHEN short THEN ' #' || unit ELSE ' Apt ' || unit END",
    # QuickBooks writes times with the offset of the company's zone: 2026-03-14T10:22:05-04:00.
    f"CREATE MACRO qbo_time(t) AS regexp_replace(strftime(timezone({literal(ZONE)}, t),"
    " '%Y-%m-%dT%H:%M:%S%z'), '([+-]\\d{2}):?(\\d{2})?$', '\\1:00')",
)

# One row per customer: the true text, and what each system writes for it.
PEOPLE = """
CREATE TABLE people AS
WITH base AS (
  SELECT c.*,
    first_name(first) AS first_name,
    last_name(last) AS last_name,
    CASE WHEN is_company THEN last_name(last) || ' ' || company_kind(company_kind) || company_suffix(company_suffix) END
      AS company,
    town(addr_branch, addr_town) AS city,
    zip(addr_branch, addr_town) AS postal_code,
    area_code(addr_branch) || lpad(CAST(phone AS VARCHAR), 7, '0') AS phone_digits,
    CASE WHEN dispatch_other_phone >= 0
      THEN area_code(addr_branch) || lpad(CAST(dispatch_other_phone AS VARCHAR), 7, '0') END AS other_phone_digits
  FROM customers c
)
, mailboxes AS (
  SELECT *,
    CASE WHEN is_company THEN 'office'
      ELSE CASE email_style
        WHEN 0 THEN slug(first_name) || '.' || slug(last_name)
        WHEN 1 THEN slug(first_name)[1] || slug(last_name)
        WHEN 2 THEN slug(first_name) || slug(last_name) || email_num
        ELSE slug(first_name) || '_' || slug(last_name) END
    END AS mailbox,
    CASE WHEN is_company THEN slug(company) || '.com' ELSE email_domain(email_domain) END AS domain
  FROM base
)
SELECT * EXCLUDE (mailbox, domain, taken),
  -- an address belongs to one person: the second John Smith at gmail.com is john.smith2
  mailbox || CASE WHEN taken > 1 THEN CAST(taken AS VARCHAR) ELSE '' END || '@' || domain AS email,
  slug(first_name) || '.' || slug(last_name) || CASE WHEN taken > 1 THEN CAST(taken AS VARCHAR) ELSE '' END
    || '@work-mail.example' AS other_email,
  '0035G00000' || base36(legacy_id, 8) AS legacy_sf_id
FROM (SELECT *, row_number() OVER (PARTITION BY mailbox, domain ORDER BY id) AS taken FROM mailboxes)
ORDER BY id
"""
