"""What goes wrong between the demo company's systems, and how the same thing looks in each.

Two kinds of difference are drawn here. **Variation** is how systems always differ about the same
customer (case, spacing, phone formats, St or Street, an email one system lacks): trueup must see
through it and never call it a finding. **Debt** is a real disagreement or gap of one of the eight
categories: each is a flag on the row it affects, and :mod:`trueup.demo.truth` turns every flag into
a line of the ground truth. Rates are per eligible row; `Rates.none()` makes the clean company.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from trueup.demo import words
from trueup.demo.world import AS_OF, DAY, MINUTE, TAX_BP, Table, World

RETIRED_ZAP_ON = np.datetime64("2026-06-30T00:00", "s")  # the old invoice Zap was switched off... on paper
TAX_TWICE_BRANCH = 1  # Springfield: a tax code set up wrong in the ledger...
TAX_TWICE_FROM = np.datetime64("2026-08-03T00:00", "s")  # ...for six weeks in late summer
TAX_TWICE_TO = np.datetime64("2026-09-14T00:00", "s")
STALL_DAYS = 8  # the payment sync from the ledger back to billing stopped this long ago


@dataclass(frozen=True)
class Rates:
    """How often each problem is injected, as a share of the rows it can happen to."""

    name_conflict: float = 0.03  # dispatch or the ledger spells a customer's name differently
    phone_conflict: float = 0.02  # dispatch has another phone number
    email_conflict: float = 0.02  # dispatch has another email address
    moved_address: float = 0.03  # the customer moved; the CRM still has the old address
    job_not_invoiced: float = 0.02  # a finished job nobody invoiced
    invoice_for_unfinished_job: float = 0.04  # of jobs not yet done
    invoice_not_posted: float = 0.012  # a billing invoice the ledger never received
    ledger_amount_mismatch: float = 0.01  # somebody edited the total in the ledger
    job_amount_mismatch: float = 0.01  # the job's total in dispatch changed after invoicing
    tax_applied_twice: float = 1.0  # of the ledger invoices in the misconfigured branch and weeks
    paid_not_reflected: float = 0.01  # paid in the ledger, still open in billing
    payment_sync_stalled: float = 1.0  # of payments since the sync stopped (0 = it never stopped)
    won_deal_no_job: float = 0.03  # the Zap did not create the job
    duplicated_by_sync: float = 0.005  # one billing invoice, two ledger invoices
    late_invoice: float = 0.04  # invoiced 4-10 days after the work, past the 3-day handoff
    late_posting: float = 0.03  # reached the ledger 2-6 days after issue, past the 1-day handoff
    unmapped_job_status: float = 0.5  # of jobs on hold: a status value nobody mapped
    unmapped_invoice_status: float = 0.004  # invoices marked with a status value nobody mapped
    retired_id_residue: float = 0.12  # of customers migrated from the old CRM who still carry its id
    retired_id_reference: float = 0.004  # deals still associated by the old CRM's id
    retired_zap_still_running: float = 0.03  # of invoices since the Zap was retired
    sheet_correction: float = 0.05  # of the reconciliation sheet's rows, one cell corrected by hand
    sheet_row_added: float = 0.01
    sheet_row_dropped: float = 0.01
    sheet_times_in_utc: float = 0.0  # opt-in; above 0: the sheet's completion times are pasted in UTC
    config_gaps: float = 1.0  # 1: the workspace has ownership gaps, an always-empty mapped column

    @classmethod
    def none(cls) -> Rates:
        return cls(**{f.name: 0.0 for f in fields(cls)})

    def with_overrides(self, overrides: dict[str, float]) -> Rates:
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown rate {', '.join(unknown)}; the rates are: {', '.join(sorted(known))}")
        return replace(self, **overrides)

    @property
    def clean(self) -> bool:
        return all(getattr(self, f.name) == 0 for f in fields(self))


def take(rng: np.random.Generator, eligible: np.ndarray, rate: float) -> np.ndarray:
    """A mask of rows chosen at `rate` among the eligible ones; at least one when the rate is not
    zero and any row is eligible, so that a small company still shows every kind of problem."""
    chosen = eligible & (rng.random(len(eligible)) < rate)
    if rate > 0 and not chosen.any() and eligible.any():
        chosen[rng.choice(np.flatnonzero(eligible))] = True
    return chosen


def vary(rng: np.random.Generator, world: World) -> None:
    """Differences that are not debt: each system's spelling of the same customer."""
    c = world.customers
    n = len(c["id"])
    for system in ("crm", "dispatch", "ledger"):
        c[f"{system}_case"] = rng.choice(
            4, n, p=[0.85, 0.06, 0.05, 0.04]
        )  # as is, UPPER, lower, extra spaces
        c[f"{system}_phone_format"] = rng.integers(0, 5, n)
        c[f"{system}_abbreviate"] = rng.random(n) < (0.7 if system != "crm" else 0.3)
        c[f"{system}_no_email"] = ~c["has_email"] | (rng.random(n) < 0.06)
        c[f"{system}_email_case"] = rng.random(n) < 0.05
    c["ledger_no_phone"] = rng.random(n) < 0.25


def inject(rng: np.random.Generator, world: World, rates: Rates) -> None:
    """Flag every injected problem on the rows it affects (and change their values)."""
    vary(rng, world)
    _customers(rng, world.customers, world.deals, rates)
    _jobs_and_deals(rng, world, rates)
    _invoices(rng, world, rates)


def _customers(rng: np.random.Generator, c: Table, deals: Table, r: Rates) -> None:
    n = len(c["id"])
    everyone = np.ones(n, bool)
    for system in ("dispatch", "ledger"):
        conflict = take(rng, everyone, r.name_conflict)
        nickname = np.isin(np.asarray(words.FIRST_NAMES)[c["first"]], list(words.NICKNAMES))
        # 1: the nickname, 2: a typo in the last name (two letters swapped)
        c[f"{system}_name_variant"] = np.where(conflict, np.where(nickname & (rng.random(n) < 0.6), 1, 2), 0)
        c[f"{system}_name_variant"][c["is_company"] & conflict] = 2
    c["typo_at"] = rng.integers(1, 4, n)
    c["dispatch_other_phone"] = np.where(
        take(rng, everyone, r.phone_conflict),
        rng.integers(200, 1000, n) * 10_000 + rng.integers(0, 10_000, n),
        -1,
    )
    c["dispatch_other_email"] = take(rng, c["has_email"], r.email_conflict)
    moved = take(rng, everyone, r.moved_address)
    c["moved"] = moved
    c["old_street_no"] = rng.integers(100, 9900, n)
    c["old_street"] = rng.integers(len(words.STREETS), size=n)
    c["legacy_id"] = rng.integers(0, 36**12, n, dtype=np.int64)  # the old CRM's id, in base 36
    c["legacy_residue"] = take(rng, c["from_old_crm"], r.retired_id_residue)
    deals["legacy_reference"] = take(rng, deals["outcome"] != "open", r.retired_id_reference)


def _jobs_and_deals(rng: np.random.Generator, world: World, r: Rates) -> None:
    jobs, deals = world.jobs, world.deals
    n = len(jobs["id"])
    won = deals["outcome"] == "won"
    no_job = take(rng, won, r.won_deal_no_job)
    deals["no_job"] = no_job
    jobs["dropped"] = np.zeros(n, bool)
    jobs["dropped"][deals["job"][no_job]] = True

    invoiced = (jobs["invoice"] >= 0) & ~jobs["dropped"]
    due = invoiced & (jobs["completed_at"] + 3 * DAY < AS_OF)
    jobs["not_invoiced"] = take(rng, due, r.job_not_invoiced)
    upcoming = (jobs["state"] == "scheduled") & ~jobs["dropped"] & (jobs["scheduled_at"] < AS_OF + 10 * DAY)
    jobs["premature_invoice"] = take(rng, upcoming, r.invoice_for_unfinished_job)
    jobs["unmapped_status"] = take(rng, jobs["state"] == "on_hold", r.unmapped_job_status)
    still_billed = invoiced & ~jobs["not_invoiced"]
    jobs["amount_delta"] = np.where(take(rng, still_billed, r.job_amount_mismatch), _delta(rng, n), 0)


def _delta(rng: np.random.Generator, n: int) -> np.ndarray:
    """A random edit of a total, in cents: -250.00 to +250.00, never zero or a rounding cent."""
    size = rng.integers(5, 250, n) * 100 + rng.choice([0, 0, 50, 99], n)
    return np.where(rng.random(n) < 0.5, -size, size)


def _invoices(rng: np.random.Generator, world: World, r: Rates) -> None:
    inv, jobs = world.invoices, world.jobs
    n = len(inv["id"])
    job = inv["job"]
    inv["in_billing"] = ~jobs["dropped"][job] & ~jobs["not_invoiced"][job]
    free = inv["in_billing"].copy()  # at most one ledger problem per invoice keeps the truth exact

    def claim(eligible: np.ndarray, rate: float) -> np.ndarray:
        chosen = take(rng, eligible & free, rate)
        free[chosen] = False
        return chosen

    posted_due = np.asarray(inv["issued_at"] + DAY < AS_OF)
    inv["not_posted"] = claim(posted_due, r.invoice_not_posted)
    # the export was taken at AS_OF: an invoice the sync would post after that is not there yet
    inv["in_ledger"] = inv["in_billing"] & ~inv["not_posted"] & (inv["posted_at"] <= AS_OF)
    inv["tax_twice"] = claim(
        (inv["branch"] == TAX_TWICE_BRANCH)
        & (inv["tax"] > 0)
        & (inv["posted_at"] >= TAX_TWICE_FROM)
        & (inv["posted_at"] < TAX_TWICE_TO),
        r.tax_applied_twice,
    )
    inv["ledger_delta"] = np.where(claim(inv["in_ledger"], r.ledger_amount_mismatch), _delta(rng, n), 0)
    inv["duplicated"] = claim(inv["in_ledger"], r.duplicated_by_sync)

    # Timing: invoiced late after the work, or posted late after the invoice.
    late = take(rng, inv["in_billing"] & ~jobs["premature_invoice"][job], r.late_invoice)
    finished = jobs["completed_at"][job].astype("datetime64[D]").astype("datetime64[s]")
    late_issue = finished + rng.integers(4, 11, n) * DAY + rng.integers(8 * 60, 17 * 60, n) * MINUTE
    late &= late_issue < AS_OF - DAY
    inv["late_issue"] = late
    inv["posted_at"] = np.where(late, late_issue + (inv["posted_at"] - inv["issued_at"]), inv["posted_at"])
    inv["issued_at"] = np.where(late, late_issue, inv["issued_at"])
    late_post = take(rng, inv["in_ledger"] & ~late & free, r.late_posting)
    lagged = inv["issued_at"] + rng.integers(2, 7, n) * DAY + rng.integers(0, 8 * 60, n) * MINUTE
    inv["late_post"] = late_post & (lagged < AS_OF)
    inv["posted_at"] = np.where(inv["late_post"], lagged, inv["posted_at"])

    # Payments can only be taken against an invoice the ledger has.
    inv["paid"] = np.where(inv["in_ledger"], inv["paid"], 0)
    pays = world.payments
    # A payment taken before the invoice reached the ledger is recorded once it is there.
    pays["paid_at"] = np.maximum(pays["paid_at"], inv["posted_at"][pays["invoice"]] + 5 * MINUTE)
    pays["in_ledger"] = inv["in_ledger"][pays["invoice"]] & (pays["paid_at"] <= AS_OF)
    inv["paid"] = np.where(_paid_in_ledger(inv, pays), inv["paid"], 0)
    stall_from = AS_OF - STALL_DAYS * DAY
    paid = inv["paid"] > 0
    # billing learns of a payment through the sync; stalled since stall_from, and it misses a few
    pays["stalled"] = (
        pays["in_ledger"]
        & (pays["paid_at"] >= stall_from)
        & (rng.random(len(pays["id"])) < r.payment_sync_stalled)
    )
    inv["stalled"] = np.zeros(n, bool)
    inv["stalled"][pays["invoice"][pays["stalled"]]] = True
    inv["not_reflected"] = claim(paid & ~inv["stalled"] & (inv["paid"] == inv["total"]), r.paid_not_reflected)

    inv["unmapped_status"] = claim(inv["in_billing"], r.unmapped_invoice_status)
    after = inv["issued_at"] >= RETIRED_ZAP_ON
    inv["by_zap"] = np.where(
        after, take(rng, inv["in_billing"], r.retired_zap_still_running), rng.random(n) < 0.5
    )
    _premature(rng, world)


def _paid_in_ledger(inv: Table, pays: Table) -> np.ndarray:
    out = np.zeros(len(inv["id"]), bool)
    out[pays["invoice"][pays["in_ledger"]]] = True
    return out


def _premature(rng: np.random.Generator, world: World) -> None:
    """Invoices for work not done yet: appended rows, issued in the last days, still unpaid."""
    jobs, inv = world.jobs, world.invoices
    early = np.flatnonzero(jobs["premature_invoice"])
    k = len(early)
    if not k:
        inv["premature"] = np.zeros(len(inv["id"]), bool)
        return
    price = jobs["price"][early]
    rate = TAX_BP[jobs["branch"][early]]
    tax = (price // 2 * rate + 500_000) // 1_000_000
    issued = np.minimum(AS_OF - rng.integers(1, 6, k) * DAY, jobs["scheduled_at"][early] - DAY)
    issued = np.maximum(issued, jobs["created_at"][early] + 10 * MINUTE)
    added: Table = {
        "id": len(inv["id"]) + np.arange(k),
        "job": early,
        "customer": jobs["customer"][early],
        "branch": jobs["branch"][early],
        "issued_at": issued,
        "due_days": np.full(k, 15),
        "subtotal": price,
        "tax": tax,
        "total": price + tax,
        "posted_at": np.minimum(issued + rng.integers(2, 18 * 60, k) * MINUTE, AS_OF),
        "clerk": rng.integers(len(words.OFFICE_STAFF), size=k),
        "paid": np.zeros(k, dtype=np.int64),
    }
    for key, values in inv.items():
        if key not in added:
            added[key] = np.zeros(k, dtype=values.dtype)
    added["in_billing"][:] = True
    added["in_ledger"][:] = True
    added["premature"] = np.ones(k, bool)
    inv["premature"] = np.zeros(len(inv["id"]), bool)
    for key in inv:
        inv[key] = np.concatenate([inv[key], added[key]])
    jobs["tax"][early] = tax
    jobs["invoice"][early] = added["id"]
    labour, parts = price - price // 2, price // 2
    lines = world.lines
    more = {
        "invoice": np.repeat(added["id"], 2),
        "item": np.tile([0, 1], k),
        "amount": np.column_stack([labour, parts]).ravel(),
        "rate": np.repeat(rate, 2),
        "line_no": np.tile([1, 2], k),
    }
    for key in lines:
        lines[key] = np.concatenate([lines[key], more[key]])
