"""Root cause (debt category 6): is each finding a setting to change or a design to rethink?

Configuration causes are found by the vendor-setting checks (an unmapped status value, a field
mapped to an always-empty column, a systematic offset such as tax applied twice, times shifted by
a time zone), each of which states the setting as its reason (its title, when it states none), and
by the size of a difference (a cent or two is rounding). Every other finding that involves a record
such a check names, about the same field, inherits its cause and its reason (from a check that names
no field, every finding about its records does). The reason names the setting, not how many records it touches: a count that moves from one
run to the next changes the vendor-setting finding alone, not the thousands that inherit from it.
Everything else is a matter of design, and the reason names which part: ownership, workflow or
reporting.
"""

from __future__ import annotations

import duckdb

from trueup.ingest.base import literal

DESIGN_REASONS = {
    "source_of_truth_conflict": "ownership: two systems keep the same fact and only one is declared its owner",
    "lifecycle_mismatch": "workflow: a step of job to cash did not happen, or happened differently in each system",
    "spreadsheet_middleware": "workflow: a spreadsheet carries state that no system holds",
    "silent_sync_failure": "workflow: a handoff between systems failed without telling anyone",
    "corrected_reporting": "reporting: the figure was built on a corrected export, not on the systems",
    "migration_residue": "design: a migration was left unfinished",
    "unowned_automation": "design: an automation nobody owns or watches",
}
ROUNDING = 0.02  # a difference of at most this is a rounding rule, not a disagreement

ROUNDED = f"check_name = 'amount_mismatch' AND money <= {ROUNDING} AND cause_reason IS NULL"


def own_cause() -> str:
    """A finding's cause as far as its own row tells (SQL over its columns): a difference of a cent
    or two is rounding, a configuration; otherwise what its check says."""
    return f"CASE WHEN {ROUNDED} THEN 'configuration' ELSE cause END"


def own_reason() -> str:
    """The reason for that cause, when the check gave none: rounding, the configuration the
    finding itself is (a vendor setting's title, when its check states no setting), or the part of
    the design its category names."""
    cases = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in DESIGN_REASONS.items())
    return (
        f"CASE WHEN cause_reason IS NOT NULL THEN cause_reason"
        f" WHEN {ROUNDED} THEN 'rounding: the amounts differ by a cent or two'"
        f" WHEN cause = 'configuration' THEN title"
        f" ELSE CASE category {cases} ELSE 'design' END END"
    )


def inherit(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Every other finding about a record a vendor-setting finding names takes that finding's cause
    and reason (the first in order, when several name it) when it is about the same field: a time
    zone that shifts a sheet's completion times explains a correction of its `Completed` column (a
    column the field is mapped from), not a hand edit of the amount on the same row; an invoice
    status no vocabulary maps does not explain a late posting of that invoice or a stalled payment
    sync (a finding about no field in particular). A vendor-setting finding that names no field
    gives its cause to every finding about its records. The rows changed lose their digest, to be
    computed again."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _configuration AS
        SELECT e.entity, e.system, e.source_id, r.field, m.columns, r.reason
        FROM (SELECT field, cause_reason AS reason, unnest(entities) AS e FROM {table}
              WHERE category = 'vendor_setting' AND cause = 'configuration') r
        LEFT JOIN (SELECT entity, system, field, list(column_name) AS columns FROM config.mappings GROUP BY ALL) m
          ON m.entity = e.entity AND m.system = e.system AND m.field = r.field
        WHERE e.source_id IS NOT NULL
        """
    )
    con.execute(
        f"""
        UPDATE {table} r SET cause = 'configuration', cause_reason = x.reason, digest = NULL
        FROM (SELECT f.rid, min(c.reason) AS reason
              FROM (SELECT rowid AS rid, field, unnest(entities) AS e FROM {table}
                    WHERE category <> 'vendor_setting') f
              JOIN _configuration c ON c.entity = f.e.entity AND c.system = f.e.system AND c.source_id = f.e.source_id
                AND (c.field IS NULL OR f.field = c.field OR list_contains(c.columns, f.field))
              GROUP BY f.rid) x
        WHERE r.rowid = x.rid
        """
    )
