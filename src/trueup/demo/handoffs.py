"""The demo company's integration inventory: every handoff between its systems, as declared.

In the company with debt some handoffs lack an owner, monitoring, an exception path or a way to
roll back (marked `gap`); in the clean company each of those has a real answer (`clean`).
"""

from __future__ import annotations

from typing import Any

from trueup.config.models import HANDOFF_PARTS as PARTS

# A value {"gap": True, "clean": "..."} is missing in the company with debt.
HANDOFFS: list[dict[str, Any]] = [
    {"id": "deal-to-job", "from": "crm", "to": "dispatch", "carries": "deal->job", "mechanism": "Zapier",
     "owner": "ops@cedarvalley.example", "trigger": "deal stage = Closed Won",
     "expected": "a job in Jobber with the HubSpot deal id", "sla": "1d",
     "exceptions": {"gap": True, "clean": "failed Zap runs emailed to ops"},
     "monitoring": {"gap": True, "clean": "Zap history reviewed every morning"},
     "rollback": {"gap": True, "clean": "archive the job and reopen the deal"}},
    {"id": "job-to-invoice", "from": "dispatch", "to": "billing", "carries": "job->invoice", "mechanism": "manual",
     "owner": "billing@cedarvalley.example", "trigger": "job status = Requires Invoicing",
     "expected": "an invoice with the job number", "sla": "3d", "exceptions": "the Friday reconciliation sheet",
     "monitoring": "the Friday reconciliation sheet", "rollback": "void the invoice"},
    {"id": "invoice-to-ledger", "from": "billing", "to": "accounting", "carries": "invoice",
     "mechanism": "native sync", "owner": {"gap": True, "clean": "controller@cedarvalley.example"},
     "trigger": "invoice issued", "expected": "a QuickBooks invoice with the same number", "sla": "1d",
     "exceptions": {"gap": True, "clean": "sync errors emailed to the controller"},
     "monitoring": {"gap": True, "clean": "daily count of unsynced invoices"},
     "rollback": {"gap": True, "clean": "void in QuickBooks"}},
    {"id": "payment-sync", "from": "accounting", "to": "billing", "carries": "payment", "mechanism": "native sync",
     "owner": "controller@cedarvalley.example", "trigger": "payment received in QuickBooks",
     "expected": "the billing invoice marked paid", "sla": "1d", "exceptions": "sync errors emailed to the controller",
     "monitoring": {"gap": True, "clean": "weekly aged-receivables comparison"}, "rollback": "unapply the payment"},
    {"id": "sheet-build", "from": "dispatch", "to": "friday_sheet", "carries": "job", "mechanism": "manual export and paste",
     "owner": {"gap": True, "clean": "controller@cedarvalley.example"}, "trigger": "every Friday",
     "expected": "every finished job beside its invoice", "sla": "7d",
     "exceptions": {"gap": True, "clean": "differences listed in the Notes column and fixed upstream"},
     "monitoring": {"gap": True, "clean": "the controller reviews the sheet"},
     "rollback": {"gap": True, "clean": "last week's copy is kept"}},
    {"id": "legacy-invoice-zap", "from": "dispatch", "to": "billing", "carries": "job->invoice", "mechanism": "Zapier",
     "owner": {"gap": True, "clean": "ops@cedarvalley.example"}, "trigger": "job closed in Jobber",
     "expected": "a draft invoice", "sla": "1d", "exceptions": {"gap": True, "clean": "failed Zap runs emailed to ops"},
     "monitoring": {"gap": True, "clean": "Zap switched off, history checked"},
     "rollback": {"gap": True, "clean": "void the draft"}, "retired": "2026-06-30"},
]  # fmt: skip


def resolved(handoff: dict[str, Any], with_gaps: bool) -> dict[str, Any]:
    """The handoff as the workspace declares it: gaps left empty, or filled in the clean company."""
    out = {}
    for key, value in handoff.items():
        if isinstance(value, dict):
            value = None if with_gaps else value["clean"]
        out[key] = value
    return out


def missing_parts(handoff: dict[str, Any], with_gaps: bool) -> list[str]:
    """What a live handoff lacks (a retired one is judged by whether it still moves records)."""
    declared = resolved(handoff, with_gaps)
    if declared.get("retired"):
        return []
    return [p for p in PARTS if declared.get(p) in (None, "none")]
