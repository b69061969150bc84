"""The demo company as it really is: one set of true records before any system exports them.

Every table is a dict of equal-length numpy arrays, drawn from one seeded generator, so the same
seed and size give the same company. Text (names, addresses) is not built here: the tables hold
indices into :mod:`trueup.demo.words` and the exporters turn them into each vendor's strings in
SQL. Row `i` of a table is the real thing with true id `i`; money is in integer cents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trueup.demo import words

Table = dict[str, np.ndarray]

AS_OF = np.datetime64("2026-11-20T18:00", "s")  # a Friday: the day the reconciliation sheet is built
START = np.datetime64("2025-09-01T00:00", "s")  # fourteen months of history
BOOKED_AHEAD_DAYS = 21  # jobs already scheduled after AS_OF
MIGRATED_ON = np.datetime64("2025-06-30T00:00", "s")  # the old CRM was retired; older customers came from it
DAY = np.timedelta64(86400, "s")
HOUR = np.timedelta64(3600, "s")
MINUTE = np.timedelta64(60, "s")
TAX_BP = np.array([round(float(b.tax_rate) * 1_000_000) for b in words.BRANCHES])  # rate x 1e6


@dataclass
class World:
    customers: Table
    locations: Table
    deals: Table
    jobs: Table
    invoices: Table
    lines: Table
    payments: Table
    engagements: Table
    visits: Table
    technicians: list[tuple[int, str]]  # (branch, name)


def customers_per_jobs(jobs: int) -> int:
    return max(40, round(jobs * 0.22))


def build(rng: np.random.Generator, n_jobs: int) -> World:
    customers = _customers(rng, customers_per_jobs(n_jobs))
    locations = _locations(rng, customers)
    technicians = _technicians(n_jobs)
    jobs = _jobs(rng, n_jobs, customers, locations, technicians)
    deals = _deals(rng, jobs, customers)
    invoices, lines = _invoices(rng, jobs, customers)
    payments = _payments(rng, invoices, customers)
    _first_seen(rng, customers, jobs, deals)
    return World(
        customers=customers,
        locations=locations,
        deals=deals,
        jobs=jobs,
        invoices=invoices,
        lines=lines,
        payments=payments,
        engagements=_engagements(rng, deals, customers),
        visits=_visits(rng, jobs),
        technicians=technicians,
    )


# --- people and places -----------------------------------------------------------------------


def _address(rng: np.random.Generator, n: int, branch: np.ndarray) -> Table:
    towns = np.array([len(b.towns) for b in words.BRANCHES])
    return {
        "branch": branch,
        "town": (rng.random(n) * towns[branch]).astype(np.int64),
        "street_no": rng.integers(100, 9900, n),
        "street": rng.integers(len(words.STREETS), size=n),
        "street_type": rng.integers(len(words.STREET_TYPES), size=n),
        "unit": np.where(rng.random(n) < 0.06, rng.integers(1, 40, n), 0),  # 0: no unit
    }


def _customers(rng: np.random.Generator, n: int) -> Table:
    branch = rng.choice(len(words.BRANCHES), n, p=words.BRANCH_WEIGHTS)
    return {
        "id": np.arange(n),
        "is_company": rng.random(n) < 0.12,
        "first": rng.integers(len(words.FIRST_NAMES), size=n),
        "last": rng.integers(len(words.LAST_NAMES), size=n),
        "company_kind": rng.integers(len(words.COMPANY_KINDS), size=n),
        "company_suffix": rng.integers(len(words.COMPANY_SUFFIXES), size=n),
        "phone": 2_000_000 + rng.choice(8_000_000, n, replace=False),  # 7 digits, one line each
        "has_email": rng.random(n) < 0.88,
        "email_style": rng.integers(0, 4, n),
        "email_num": rng.integers(1, 100, n),
        "email_domain": rng.integers(len(words.EMAIL_DOMAINS), size=n),
        "plan": rng.random(n) < 0.18,  # Comfort Club maintenance plan members
        "owner": rng.integers(len(words.OFFICE_STAFF), size=n),
        "lead_source": rng.integers(len(words.LEAD_SOURCES), size=n),
        # set by _first_seen once their work is known
        "created_at": np.full(n, START, dtype="datetime64[s]"),
        **{f"addr_{k}": v for k, v in _address(rng, n, branch).items()},
    }


def _locations(rng: np.random.Generator, customers: Table) -> Table:
    """Every customer's own address is its first location; companies have up to two more sites."""
    n = len(customers["id"])
    extra = np.where(customers["is_company"], rng.integers(0, 3, n), 0)
    owner = np.concatenate([np.arange(n), np.repeat(np.arange(n), extra)])
    order = np.argsort(owner, kind="stable")
    owner = owner[order]
    branch = customers["addr_branch"][owner]
    fresh = _address(rng, len(owner), branch)
    primary = np.concatenate([np.ones(n, bool), np.zeros(int(extra.sum()), bool)])[order]
    table: Table = {"id": np.arange(len(owner)), "customer": owner, "primary": primary}
    for key, values in fresh.items():
        table[key] = np.where(primary, customers[f"addr_{key}"][owner], values)
    starts = np.searchsorted(owner, np.arange(n))
    customers["loc_start"], customers["loc_count"] = starts, 1 + extra
    return table


def _technicians(n_jobs: int) -> list[tuple[int, str]]:
    out = []
    for branch, share in enumerate(words.BRANCH_WEIGHTS):
        for k in range(max(3, int(np.ceil(n_jobs * share / 1500)))):
            first = words.TECHNICIAN_FIRST[(k * 7 + branch * 3) % len(words.TECHNICIAN_FIRST)]
            last = words.LAST_NAMES[(k * 13 + branch * 5) % len(words.LAST_NAMES)]
            out.append((branch, f"{first} {last}"))
    return out


# --- work ------------------------------------------------------------------------------------

JOB_TYPES = [(line, k) for line, spec in enumerate(words.SERVICE_LINES) for k in range(len(spec.jobs))]
PRICE = np.array([words.SERVICE_LINES[line].jobs[k][1] for line, k in JOB_TYPES], dtype=np.float64)
BIG = np.array([words.SERVICE_LINES[line].jobs[k][2] for line, k in JOB_TYPES])
LINE_OF = np.array([line for line, _ in JOB_TYPES])
PLAN_TYPE = len(JOB_TYPES)  # one more type: the plan visit


def _days_by_season(line: int) -> np.ndarray:
    days = START + np.arange(int((AS_OF - START) / DAY) + BOOKED_AHEAD_DAYS) * DAY
    months = days.astype("datetime64[M]").astype(int) % 12
    weekday = (days.astype("datetime64[D]").astype(int) + 3) % 7  # 0 = Monday
    weight = np.asarray(words.SERVICE_LINES[line].season)[months] * np.where(
        weekday == 6, 0.15, np.where(weekday == 5, 0.5, 1.0)
    )
    return weight / weight.sum()


def _jobs(
    rng: np.random.Generator,
    n: int,
    customers: Table,
    locations: Table,
    technicians: list[tuple[int, str]],
) -> Table:
    n_c = len(customers["id"])
    weight = (rng.pareto(1.3, n_c) + 1.0) * np.where(customers["plan"], 2.0, 1.0)  # repeat customers
    customer = rng.choice(n_c, n, p=weight / weight.sum())
    location = customers["loc_start"][customer] + (rng.random(n) * customers["loc_count"][customer]).astype(
        int
    )
    plan_visit = customers["plan"][customer] & (rng.random(n) < 0.3)

    line = np.where(plan_visit, 0, rng.choice(len(words.SERVICE_LINES), n, p=words.SHARE_OF_LINES))
    kind = np.full(n, PLAN_TYPE)
    day = np.zeros(n, dtype=np.int64)
    for ln in range(len(words.SERVICE_LINES)):
        members = np.flatnonzero(line == ln)
        day[members] = rng.choice(len(_days_by_season(ln)), len(members), p=_days_by_season(ln))
        types = np.flatnonzero(ln == LINE_OF)
        popularity = 1.0 / np.sqrt(PRICE[types])
        paid = members[~plan_visit[members]]
        kind[paid] = rng.choice(types, len(paid), p=popularity / popularity.sum())
    scheduled = START + day * DAY + rng.integers(8, 17, n) * HOUR + rng.choice([0, 30], n) * MINUTE

    big = np.append(BIG, False)[kind]
    dollars = np.append(PRICE, 0.0)[kind] * np.exp(rng.normal(0.0, 0.3, n))
    step = np.where(big, 50, 5)
    price = (np.round(dollars / step) * step * 100).astype(np.int64)  # cents, before tax
    duration = np.where(big, rng.integers(6, 17, n), rng.integers(1, 4, n)) * HOUR

    past = scheduled < AS_OF
    cancelled = past & (rng.random(n) < 0.03)
    on_hold = past & ~cancelled & (rng.random(n) < 0.006)
    price[cancelled] = 0
    completed = scheduled + duration
    state = np.where(
        ~past,
        "scheduled",
        np.where(on_hold, "on_hold", np.where(completed > AS_OF, "in_progress", "completed")),
    )
    state[cancelled] = "cancelled"

    branch = locations["branch"][location]
    tech_branch = np.array([b for b, _ in technicians])
    per_branch = np.bincount(tech_branch, minlength=len(words.BRANCHES))
    first_tech = np.concatenate([[0], np.cumsum(per_branch)[:-1]])
    technician = first_tech[branch] + (rng.random(n) * per_branch[branch]).astype(int)

    created = scheduled - (rng.random(n) * 10 * DAY.astype(int)).astype("timedelta64[s]")
    booked = big | (created <= AS_OF)  # big jobs are booked when their deal closes (see _deals)
    return {
        key: values[booked]
        for key, values in {
            "id": np.arange(n),
            "customer": customer,
            "location": location,
            "branch": branch,
            "line": line,
            "kind": kind,
            "big": big & ~cancelled,
            "plan_visit": plan_visit,
            "price": price,
            "scheduled_at": scheduled,
            "completed_at": np.where(
                np.isin(state, ["completed", "cancelled"]), completed, np.datetime64("NaT")
            ),
            "state": state,
            "technician": technician,
            "created_at": created,  # deal jobs get theirs from the deal
            "deal": np.full(n, -1),
        }.items()
    } | {"id": np.arange(int(booked.sum()))}


OPEN_STAGES = 5  # HubSpot's open stages, in words of the exporter


def _deals(rng: np.random.Generator, jobs: Table, customers: Table) -> Table:
    """Big-ticket jobs start as won deals; lost and open deals have no job."""
    won_jobs = np.flatnonzero(jobs["big"])
    n_won = len(won_jobs)
    n_lost, n_open = round(n_won * 0.5), max(1, round(n_won * 0.12))
    n = n_won + n_lost + n_open
    big_types = np.flatnonzero(BIG)

    closed = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    lead_days = rng.integers(1, 22, n_won) * DAY
    closed[:n_won] = (
        np.minimum(
            jobs["scheduled_at"][won_jobs] - lead_days, AS_OF - DAY - rng.integers(0, 20, n_won) * HOUR
        )
        - rng.integers(0, 8, n_won) * HOUR
    )
    history = int((AS_OF - START) / DAY)
    closed[n_won : n_won + n_lost] = (
        START + rng.integers(0, history, n_lost) * DAY + rng.integers(9, 18, n_lost) * HOUR
    )
    created = closed - rng.integers(3, 46, n) * DAY
    created[n_won + n_lost :] = AS_OF - rng.integers(2, 60, n_open) * DAY - rng.integers(0, 9, n_open) * HOUR

    kind = rng.choice(big_types, n)
    kind[:n_won] = jobs["kind"][won_jobs]
    amount = (np.round(PRICE[kind] * np.exp(rng.normal(0, 0.25, n)) / 50) * 5000).astype(np.int64)
    amount[:n_won] = jobs["price"][won_jobs]
    customer = rng.integers(0, len(customers["id"]), n)
    customer[:n_won] = jobs["customer"][won_jobs]

    # Zapier creates the job in dispatch within hours of the deal closing.
    jobs["created_at"][won_jobs] = closed[:n_won] + rng.integers(5, 20 * 60, n_won) * MINUTE
    jobs["deal"][won_jobs] = np.arange(n_won)
    return {
        "id": np.arange(n),
        "customer": customer,
        "outcome": np.array(["won"] * n_won + ["lost"] * n_lost + ["open"] * n_open),
        "open_stage": rng.integers(0, OPEN_STAGES, n),
        "job": np.concatenate([won_jobs, np.full(n_lost + n_open, -1)]),
        "kind": kind,
        "amount": amount,
        "created_at": created,
        "closed_at": closed,
        "owner": rng.integers(len(words.OFFICE_STAFF), size=n),
    }


def _invoices(rng: np.random.Generator, jobs: Table, customers: Table) -> tuple[Table, Table]:
    """One invoice per finished job with a price, issued within the three-day handoff."""
    done = np.flatnonzero((jobs["state"] == "completed") & (jobs["price"] > 0))
    lag = rng.choice(4, len(done), p=[0.45, 0.3, 0.15, 0.1])
    finished = jobs["completed_at"][done]
    issued = np.where(
        lag == 0,
        finished + rng.integers(20, 180, len(done)) * MINUTE,
        finished.astype("datetime64[D]") + lag * DAY + rng.integers(8 * 60, 17 * 60, len(done)) * MINUTE,
    ).astype("datetime64[s]")
    keep = issued <= AS_OF  # the rest are not due yet: their jobs wait for invoicing
    done, issued = done[keep], issued[keep]
    order = np.argsort(issued, kind="stable")  # invoice numbers follow issue order
    done, issued = done[order], issued[order]
    n = len(done)

    price = jobs["price"][done]
    big = jobs["big"][done]
    labour = np.round(price * rng.uniform(0.35, 0.75, n) / 100).astype(np.int64) * 100
    parts = price - labour
    trip = np.where(~big & (rng.random(n) < 0.4), 8900, 0)
    member = customers["plan"][jobs["customer"][done]] & ~jobs["plan_visit"][done]
    discount = -np.where(member, np.round(labour * 0.10).astype(np.int64), 0)
    rate = TAX_BP[jobs["branch"][done]]
    tax = (parts * rate + 500_000) // 1_000_000  # half up, on the invoice's taxable total
    subtotal = labour + parts + trip + discount
    company = customers["is_company"][jobs["customer"][done]]
    invoices = {
        "id": np.arange(n),
        "job": done,
        "customer": jobs["customer"][done],
        "branch": jobs["branch"][done],
        "issued_at": issued,
        "due_days": np.where(company, 30, 15),
        "subtotal": subtotal,
        "tax": tax,
        "total": subtotal + tax,
        "posted_at": issued + rng.integers(2, 18 * 60, n) * MINUTE,  # the native sync, within a day
        "clerk": rng.integers(len(words.OFFICE_STAFF), size=n),
    }
    jobs["price"][done] = subtotal  # the job's total in dispatch is what was billed, before tax...
    jobs["tax"] = np.zeros(len(jobs["id"]), dtype=np.int64)
    jobs["tax"][done] = tax  # ...and its tax, so dispatch shows the same total
    jobs["invoice"] = np.full(len(jobs["id"]), -1)
    jobs["invoice"][done] = np.arange(n)

    # Lines: labour, parts, a trip charge and a discount where there is one.
    item = np.concatenate([np.zeros(n), np.ones(n), np.full(n, 2), np.full(n, 3)]).astype(np.int64)
    amount = np.concatenate([labour, parts, trip, discount])
    invoice = np.tile(np.arange(n), 4)
    present = (amount != 0) | (item == 0)
    order = np.lexsort((item[present], invoice[present]))
    lines = {
        "invoice": invoice[present][order],
        "item": item[present][order],
        "amount": amount[present][order],
        "rate": np.tile(rate, 4)[present][order],
    }
    first = np.searchsorted(lines["invoice"], lines["invoice"], side="left")
    lines["line_no"] = np.arange(len(first)) - first + 1
    return invoices, lines


def _payments(rng: np.random.Generator, invoices: Table, customers: Table) -> Table:
    n = len(invoices["id"])
    company = customers["is_company"][invoices["customer"]]
    lag = np.where(
        company,
        10 + rng.geometric(1 / 15, n),
        np.where(rng.random(n) < 0.45, 0, rng.geometric(1 / 10, n)),
    )
    paid_at = invoices["issued_at"] + lag * DAY + rng.integers(0, 8 * 60, n) * MINUTE
    pays = (paid_at <= AS_OF) & (rng.random(n) < 0.985)
    partial = pays & (rng.random(n) < 0.03)
    amount = np.where(partial, (invoices["total"] // 200) * 100, invoices["total"])
    method = np.where(
        company,
        rng.choice([2, 3], n),
        rng.choice(len(words.PAYMENT_METHODS), n, p=[0.35, 0.2, 0.15, 0.1, 0.1, 0.1]),
    )
    idx = np.flatnonzero(pays)
    invoices["paid"] = np.zeros(n, dtype=np.int64)
    invoices["paid"][idx] = amount[idx]
    return {
        "id": np.arange(len(idx)),
        "invoice": idx,
        "customer": invoices["customer"][idx],
        "amount": amount[idx],
        "method": method[idx],
        "paid_at": paid_at[idx],
    }


def _first_seen(rng: np.random.Generator, customers: Table, jobs: Table, deals: Table) -> None:
    """A customer was created before their first deal or job; some came over from the old CRM."""
    n = len(customers["id"])
    first = np.full(n, AS_OF)
    np.minimum.at(first, jobs["customer"], jobs["created_at"])
    np.minimum.at(first, deals["customer"], deals["created_at"])
    veteran = rng.random(n) < 0.4
    back = np.where(veteran, rng.integers(400, 2500, n), rng.integers(1, 60, n)) * DAY
    customers["created_at"] = first - back - rng.integers(0, 10 * 60, n) * MINUTE
    customers["from_old_crm"] = customers["created_at"] < MIGRATED_ON


def _engagements(rng: np.random.Generator, deals: Table, customers: Table) -> Table:
    """Calls, emails, meetings and notes: a few around each deal, and the odd note on any customer."""
    per_deal = rng.integers(1, 5, len(deals["id"]))
    deal = np.repeat(deals["id"], per_deal)
    start = deals["created_at"][deal]
    end = np.where(np.isnat(deals["closed_at"][deal]), AS_OF, deals["closed_at"][deal])
    span = (end - start).astype(np.int64)
    at_deal = start + (rng.random(len(deal)) * span).astype("timedelta64[s]")
    noted = np.flatnonzero(rng.random(len(customers["id"])) < 0.4)
    history = int((AS_OF - START) / np.timedelta64(1, "s"))
    at_note = START + rng.integers(0, history, len(noted)).astype("timedelta64[s]")
    n_deal = len(deal)
    kind = np.concatenate([rng.choice(3, n_deal, p=[0.4, 0.4, 0.2]), np.full(len(noted), 3)])
    occurred = np.concatenate([at_deal, at_note])
    order = np.argsort(occurred, kind="stable")
    return {
        "id": np.arange(len(order)),
        "customer": np.concatenate([deals["customer"][deal], noted])[order],
        "deal": np.concatenate([deal, np.full(len(noted), -1)])[order],
        "kind": kind[order],  # CALL, EMAIL, MEETING, NOTE
        "subject": rng.integers(0, 3, len(order)),
        "occurred_at": occurred[order],
        "actor": rng.integers(len(words.OFFICE_STAFF), size=len(order)),
    }


def _visits(rng: np.random.Generator, jobs: Table) -> Table:
    """One visit per job that has a date; a second one for some big jobs."""
    visited = np.flatnonzero(jobs["state"] != "on_hold")
    twice = jobs["big"][visited] & (rng.random(len(visited)) < 0.3)
    job = np.concatenate([visited, visited[twice]])
    number = np.concatenate([np.ones(len(visited), int), np.full(int(twice.sum()), 2)])
    order = np.lexsort((number, job))
    job, number = job[order], number[order]
    start = jobs["scheduled_at"][job] + (number - 1) * DAY
    hours = np.where(jobs["big"][job], 6, 2) * HOUR
    return {
        "job": job,
        "number": number,
        "start": start,
        "end": start + hours,
        "done": (start + hours) <= AS_OF,
    }
