"""The ground truth: every injected problem, and which records are the same real thing.

`.truth/expected_findings.jsonl` has one problem a line: its category (the slug of DESIGN's eight),
the kind of problem, the records involved as `{entity, system, source_id}`, the money at stake, the
field or column where there is one, and the root cause (`configuration` or `design`) with a detail.
`.truth/identities.csv` maps every exported record to the real thing it stands for. No trueup step
reads either file: they exist to score what trueup finds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from trueup.demo.handoffs import HANDOFFS, missing_parts
from trueup.ingest.base import literal

CUSTOMER = {
    "crm": "{'entity': 'customer', 'system': 'crm', 'source_id': CAST(crm_id AS VARCHAR)}",
    "dispatch": "{'entity': 'customer', 'system': 'dispatch', 'source_id': CAST(dispatch_id AS VARCHAR)}",
    "accounting": "{'entity': 'customer', 'system': 'accounting', 'source_id': CAST(ledger_id AS VARCHAR)}",
}
JOB = "{'entity': 'job', 'system': 'dispatch', 'source_id': CAST(j.number AS VARCHAR)}"
BILLED = "{'entity': 'invoice', 'system': 'billing', 'source_id': 'INV-' || i.number}"
LEDGER = "{'entity': 'invoice', 'system': 'accounting', 'source_id': CAST(i.ledger_id AS VARCHAR)}"
DEAL = "{'entity': 'deal', 'system': 'crm', 'source_id': CAST(d.crm_id AS VARCHAR)}"


@dataclass(frozen=True)
class Problem:
    """One kind of injected problem, found again in the world by a query."""

    category: str
    kind: str
    entities: str  # SQL list of entity structs
    where: str
    source: str  # FROM clause
    money: str = "NULL"  # SQL, in cents
    field: str | None = None
    cause: str = "design"
    detail: str = ""


INVOICE_JOB = "invoices i JOIN jobs j ON j.id = i.job"

PROBLEMS = (
    *(
        Problem(
            "source_of_truth_conflict",
            "field_conflict",
            f"[{CUSTOMER['crm']}, {CUSTOMER[system]}]",
            f"{system_flag} AND {condition}",
            "people",
            field=field,
            detail=f"{label}: {system} differs from the owner",
        )
        for system, system_flag, field, condition, label in (
            ("dispatch", "in_dispatch", "name", "dispatch_name_variant > 0", "a nickname or a typo"),
            ("accounting", "in_ledger", "name", "ledger_name_variant > 0", "a nickname or a typo"),
            ("dispatch", "in_dispatch", "phone", "dispatch_other_phone >= 0", "another phone number"),
            (
                "dispatch",
                "in_dispatch",
                "email",
                "dispatch_other_email AND NOT crm_no_email",
                "another email",
            ),
        )
    ),
    Problem(
        "source_of_truth_conflict",
        "field_conflict",
        f"[{CUSTOMER['dispatch']}, {CUSTOMER['crm']}]",
        "in_dispatch AND moved",
        "people",
        field="address",
        detail="the customer moved; the CRM still has the old address",
    ),
    Problem(
        "lifecycle_mismatch",
        "job_not_invoiced",
        f"[{JOB}]",
        "j.not_invoiced AND j.exported",
        "jobs j",
        money="j.price + j.tax",
        detail="finished work nobody invoiced",
    ),
    Problem(
        "lifecycle_mismatch",
        "invoice_for_unfinished_job",
        f"[{JOB}, {BILLED}]",
        "i.premature",
        INVOICE_JOB,
        money="i.total",
        detail="invoiced before the work was done",
    ),
    Problem(
        "lifecycle_mismatch",
        "invoice_not_posted",
        f"[{BILLED}]",
        "i.not_posted",
        INVOICE_JOB,
        money="i.total",
        detail="the ledger never received the invoice",
    ),
    Problem(
        "lifecycle_mismatch",
        "amount_mismatch",
        f"[{BILLED}, {LEDGER}]",
        "i.ledger_delta <> 0",
        INVOICE_JOB,
        money="abs(i.ledger_delta)",
        field="amount",
        detail="the total was edited in the ledger",
    ),
    Problem(
        "lifecycle_mismatch",
        "amount_mismatch",
        f"[{BILLED}, {LEDGER}]",
        "i.tax_twice",
        INVOICE_JOB,
        money="i.tax",
        field="amount",
        cause="configuration",
        detail="tax applied twice: a tax code set up wrong in the ledger",
    ),
    Problem(
        "lifecycle_mismatch",
        "amount_mismatch",
        f"[{JOB}, {BILLED}]",
        "j.amount_delta <> 0 AND i.in_billing",
        INVOICE_JOB,
        money="abs(j.amount_delta)",
        field="amount",
        detail="the job's total changed in dispatch after it was invoiced",
    ),
    Problem(
        "lifecycle_mismatch",
        "paid_not_reflected",
        f"[{BILLED}, {LEDGER}]",
        "i.not_reflected",
        INVOICE_JOB,
        money="i.paid",
        detail="paid in the ledger, still open in billing",
    ),
    Problem(
        "lifecycle_mismatch",
        "won_deal_no_job",
        f"[{DEAL}]",
        "d.no_job",
        "deals d",
        money="d.amount",
        detail="the deal was won; no job was created",
    ),
    Problem(
        "silent_sync_failure",
        "duplicated_by_sync",
        f"[{BILLED}, {LEDGER}, {{'entity': 'invoice', 'system': 'accounting', 'source_id': CAST(i.dup_ledger_id AS VARCHAR)}}]",
        "i.duplicated",
        INVOICE_JOB,
        money="i.total",
        detail="one billing invoice became two ledger invoices",
    ),
    Problem(
        "silent_sync_failure",
        "sync_lag",
        f"[{JOB}, {BILLED}]",
        "i.late_issue",
        INVOICE_JOB,
        money="i.total",
        detail="job-to-invoice: invoiced 4 to 10 days after the work (SLA 3d)",
    ),
    Problem(
        "silent_sync_failure",
        "sync_lag",
        f"[{BILLED}, {LEDGER}]",
        "i.late_post",
        INVOICE_JOB,
        money="i.total",
        detail="invoice-to-ledger: posted 2 to 6 days after issue (SLA 1d)",
    ),
    Problem(
        "migration_residue",
        "retired_id_in_use",
        f"[{CUSTOMER['crm']}]",
        "legacy_residue",
        "people",
        field="Salesforce Contact ID",
        detail="the retired CRM's contact id is still on the record",
    ),
    Problem(
        "migration_residue",
        "retired_id_reference",
        f"[{DEAL}]",
        "d.legacy_reference",
        "deals d",
        field="customer",
        detail="the deal still points at a contact by the retired CRM's id",
    ),
)

# Problems about many records at once: one line each, listing them.
GROUPED = (
    Problem(
        "silent_sync_failure",
        "handoff_stalled",
        BILLED,
        "i.stalled",
        INVOICE_JOB,
        money="(SELECT sum(amount) FROM payments WHERE stalled)",
        detail="payment-sync: no payment has reached billing since it stopped",
    ),
    Problem(
        "vendor_setting",
        "unmapped_status",
        JOB,
        "j.unmapped_status AND j.exported",
        "jobs j",
        field="status",
        cause="configuration",
        detail="dispatch status 'Awaiting Parts' is in no vocabulary",
    ),
    Problem(
        "vendor_setting",
        "unmapped_status",
        BILLED,
        "i.unmapped_status",
        INVOICE_JOB,
        field="status",
        cause="configuration",
        detail="billing state 'disputed' is in no vocabulary",
    ),
    Problem(
        "vendor_setting",
        "systematic_offset",
        LEDGER,
        "i.tax_twice",
        INVOICE_JOB,
        money="sum(i.tax)",
        field="amount",
        cause="configuration",
        detail="every ledger invoice of one branch for six weeks carries its tax twice",
    ),
    Problem(
        "unowned_automation",
        "retired_handoff_active",
        BILLED,
        "i.by_zap AND i.in_billing AND i.issued_at >= TIMESTAMP '2026-06-30'",
        INVOICE_JOB,
        detail="legacy-invoice-zap was retired on 2026-06-30 and still creates invoices",
    ),
)


def _select(p: Problem, grouped: bool) -> str:
    entities = f"list({p.entities} ORDER BY 1)" if grouped else p.entities
    head = (
        f"SELECT {literal(p.category)} AS category, {literal(p.kind)} AS kind, {entities} AS entities,"
        f" CAST(dollars({p.money}) AS DOUBLE) AS money, {literal(p.field)} AS field, {literal(p.cause)} AS cause,"
        f" {literal(p.detail)} AS detail FROM {p.source} WHERE {p.where}"
    )
    return head + (" HAVING count(*) > 0" if grouped else "")


def expected_findings(con: duckdb.DuckDBPyConnection, sheet_edits: list[dict[str, Any]],
                      config_gaps: bool, reported: dict[str, Any] | None) -> list[dict[str, Any]]:  # fmt: skip
    lines: list[dict[str, Any]] = []
    for problem, grouped in [*((p, False) for p in PROBLEMS), *((p, True) for p in GROUPED)]:
        cursor = con.execute(_select(problem, grouped))
        names = [d[0] for d in cursor.description]
        lines += [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    shifted = [edit for edit in sheet_edits if edit["kind"] == "timezone_shift"]
    lines += [_sheet_line(edit) for edit in sheet_edits if edit["kind"] != "timezone_shift"]
    if shifted:
        lines.append(_shift_line(shifted))
    for handoff in HANDOFFS:
        gaps = missing_parts(handoff, config_gaps)
        if gaps:
            lines.append(
                {
                    "category": "unowned_automation",
                    "kind": "handoff_gaps",
                    "entities": [{"entity": "handoff", "system": None, "source_id": handoff["id"]}],
                    "money": None,
                    "field": ", ".join(gaps),
                    "cause": "design",
                    "detail": f"{handoff['id']} has no {', '.join(gaps)}",
                }
            )
    if config_gaps:
        lines.append(
            {
                "category": "source_of_truth_conflict",
                "kind": "unowned_fact",
                "entities": [
                    {"entity": "location", "system": s, "source_id": None} for s in ("dispatch", "accounting")
                ],
                "money": None,
                "field": "location.*",
                "cause": "design",
                "detail": "dispatch and the ledger both map locations and ownership names neither",
            }
        )
        lines.append(
            {
                "category": "vendor_setting",
                "kind": "always_empty_column",
                "entities": [{"entity": "invoice", "system": "billing", "source_id": None}],
                "money": None,
                "field": "due_at",
                "cause": "configuration",
                "detail": "billing's due_at is mapped to payment_due, a column that is always empty (the dates are in due)",
            }
        )
    if reported:
        lines.append(reported)
    for line in lines:
        line["money"] = None if line["money"] is None else round(float(line["money"]), 2)
    lines.sort(
        key=lambda d: (d["category"], d["kind"], json.dumps(d["entities"], sort_keys=True), d["field"] or "")
    )
    return lines


def _sheet_line(edit: dict[str, Any]) -> dict[str, Any]:
    job = edit["job"]
    entities = [] if job is None else [{"entity": "job", "system": "friday_sheet", "source_id": job}]
    if edit["kind"] == "sheet_row_dropped":
        entities = [{"entity": "job", "system": "dispatch", "source_id": job}]
    money = edit["sheet"] if edit["kind"] == "sheet_row_added" else None
    if edit["kind"] == "sheet_correction" and isinstance(edit["sheet"], float):
        money = round(abs(edit["sheet"] - edit["upstream"]), 2)
    by_hand = edit["cause"] == "design"  # else a setting made it: a time pasted in UTC moved the day
    return {
        "category": "spreadsheet_middleware",
        "kind": edit["kind"],
        "entities": entities,
        "money": money,
        "field": edit["column"],
        "cause": edit["cause"],
        "detail": {
            "sheet_correction": f"{'corrected by hand' if by_hand else 'pasted in UTC'}: {edit['upstream']}"
            f" -> {edit['sheet']}",
            "sheet_row_dropped": "a finished job deleted from the sheet",
            "sheet_row_added": "a row typed in by hand, in no system",
            "column_without_upstream": "a column no system has",
        }[edit["kind"]],
    }


def _shift_line(shifted: list[dict[str, Any]]) -> dict[str, Any]:
    """One problem for every completion time the sheet holds in UTC: a setting of the paste."""
    return {
        "category": "vendor_setting",
        "kind": "timezone_shift",
        "entities": [
            {"entity": "job", "system": "friday_sheet", "source_id": e["job"]}
            for e in sorted(shifted, key=lambda e: e["job"])
        ],
        "money": None,
        "field": "completed_at",
        "cause": "configuration",
        "detail": "the sheet's completion times are pasted from dispatch's API in UTC and read as New York time",
    }


IDENTITIES = """
SELECT 'customer' AS entity, 'crm' AS system, CAST(crm_id AS VARCHAR) AS source_id, 'customer-' || id AS true_id FROM people
UNION ALL SELECT 'customer', 'dispatch', CAST(dispatch_id AS VARCHAR), 'customer-' || id FROM people WHERE in_dispatch
UNION ALL SELECT 'customer', 'accounting', CAST(ledger_id AS VARCHAR), 'customer-' || id FROM people WHERE in_ledger
UNION ALL SELECT 'location', 'dispatch', CAST(l.property_id AS VARCHAR), 'location-' || l.id
  FROM locations l JOIN people p ON p.id = l.customer WHERE p.in_dispatch
UNION ALL SELECT 'deal', 'crm', CAST(crm_id AS VARCHAR), 'deal-' || id FROM deals
UNION ALL SELECT 'job', 'dispatch', CAST(number AS VARCHAR), 'job-' || id FROM jobs WHERE exported
UNION ALL SELECT 'invoice', 'billing', 'INV-' || number, 'invoice-' || id FROM invoices WHERE in_billing
UNION ALL SELECT 'invoice', 'accounting', CAST(ledger_id AS VARCHAR), 'invoice-' || id FROM invoices WHERE in_ledger
UNION ALL SELECT 'invoice', 'accounting', CAST(dup_ledger_id AS VARCHAR), 'invoice-' || id FROM invoices WHERE duplicated
UNION ALL SELECT 'payment', 'accounting', CAST(ledger_id AS VARCHAR), 'payment-' || id FROM payments WHERE in_ledger
"""


def write(con: duckdb.DuckDBPyConnection, folder: Path, lines: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "expected_findings.jsonl").open("w", encoding="utf-8") as out:
        for line in lines:
            out.write(json.dumps(line, sort_keys=True) + "\n")
    target = literal(str(folder / "identities.csv"))
    con.execute(f"COPY ({IDENTITIES} ORDER BY 1, 2, 4, 3) TO {target} (HEADER, DELIMITER ',')")
