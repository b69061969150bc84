"""Root cause (debt category 6): is each finding a setting to change or a design to rethink?

Configuration causes are found by the vendor-setting checks (an unmapped status value, a field
mapped to an always-empty column, a systematic offset such as tax applied twice) and by the size
of a difference (a cent or two is rounding). Every other finding that involves a record such a
check names inherits its cause, with that finding's title as the evidence. Everything else is a
matter of design, and the reason names which part: ownership, workflow or reporting.
"""

from __future__ import annotations

import duckdb

from trueup.checks.execute import RESULTS

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


def classify(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _configuration AS
        SELECT DISTINCT ON (e.entity, e.system, e.source_id) e.entity, e.system, e.source_id, r.title, r.fingerprint
        FROM (SELECT fingerprint, title, unnest(entities) AS e FROM {RESULTS}
              WHERE category = 'vendor_setting' AND cause = 'configuration') r
        WHERE e.source_id IS NOT NULL
        ORDER BY e.entity, e.system, e.source_id, r.fingerprint
        """
    )
    con.execute(
        f"""
        UPDATE {RESULTS} r SET cause = 'configuration', cause_reason = x.reason
        FROM (SELECT f.fingerprint, min(c.title) AS reason
              FROM (SELECT fingerprint, unnest(entities) AS e FROM {RESULTS} WHERE category <> 'vendor_setting') f
              JOIN _configuration c ON c.entity = f.e.entity AND c.system = f.e.system AND c.source_id = f.e.source_id
              GROUP BY f.fingerprint) x
        WHERE r.fingerprint = x.fingerprint
        """
    )
    con.execute(
        f"UPDATE {RESULTS} SET cause = 'configuration', cause_reason = 'rounding: the amounts differ by'"
        f" || ' a cent or two' WHERE check_name = 'amount_mismatch' AND money <= {ROUNDING} AND cause_reason IS NULL"
    )
    con.execute(
        f"UPDATE {RESULTS} SET cause_reason = 'configuration: ' || title"
        " WHERE cause = 'configuration' AND cause_reason IS NULL"
    )
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in DESIGN_REASONS.items())
    con.execute(
        f"UPDATE {RESULTS} SET cause_reason = CASE category {cases} ELSE 'design' END WHERE cause_reason IS NULL"
    )
