"""Each system's ids for the demo's records, in the shapes those products use.

The same real customer has unrelated ids in every system (the permutations make sure no id lines
up with another system's by accident), and numbers that a product hands out in sequence (job
numbers, invoice numbers, QuickBooks transaction ids) follow the order the records were created.
"""

from __future__ import annotations

import numpy as np

from trueup.demo.world import World

NONE = -1


def rank(times: np.ndarray, present: np.ndarray, start: int) -> np.ndarray:
    """Sequential numbers from `start` in time order for the present rows, NONE for the others."""
    out = np.full(len(times), NONE, dtype=np.int64)
    rows = np.flatnonzero(present)
    order = rows[np.argsort(times[rows], kind="stable")]
    out[order] = start + np.arange(len(order))
    return out


def assign(rng: np.random.Generator, world: World) -> None:
    c, jobs, inv, pays = world.customers, world.jobs, world.invoices, world.payments
    n_c = len(c["id"])
    c["crm_id"] = 1_051_000 + rng.permutation(n_c) * 7  # HubSpot record ids
    c["company_id"] = np.where(c["is_company"], 8_800_000_000 + rng.permutation(n_c) * 3, NONE)
    world.locations["property_id"] = 70_300_000 + rng.permutation(len(world.locations["id"])) * 3
    world.deals["crm_id"] = 9_120_000_000 + rng.permutation(len(world.deals["id"])) * 11
    world.engagements["crm_id"] = 40_210_000_000 + np.arange(len(world.engagements["id"])) * 13

    jobs["exported"] = ~jobs["dropped"]
    jobs["number"] = rank(jobs["created_at"], jobs["exported"], 1001)  # Jobber's job numbers

    in_dispatch = np.zeros(n_c, bool)
    in_dispatch[jobs["customer"][jobs["exported"]]] = True
    c["in_dispatch"] = in_dispatch
    c["dispatch_id"] = np.where(in_dispatch, 60_410_000 + rng.permutation(n_c) * 3, NONE)

    inv["number"] = rank(inv["issued_at"], inv["in_billing"], 10_001)  # INV-10001, ...
    # QuickBooks numbers invoices and payments from one sequence of transactions.
    n_i = len(inv["id"])
    dup_at = inv["posted_at"] + np.timedelta64(3, "m")
    times = np.concatenate([inv["posted_at"], dup_at, pays["paid_at"]])
    present = np.concatenate([inv["in_ledger"], inv["duplicated"], pays["in_ledger"]])
    txn = rank(times, present, 148)
    inv["ledger_id"], inv["dup_ledger_id"], pays["ledger_id"] = txn[:n_i], txn[n_i : 2 * n_i], txn[2 * n_i :]

    # A customer appears in the ledger with their first posted invoice.
    never = np.datetime64("2100-01-01T00:00", "s")
    first_posted = np.full(n_c, never)
    posted = np.flatnonzero(inv["in_ledger"])
    np.minimum.at(first_posted, inv["customer"][posted], inv["posted_at"][posted])
    c["in_ledger"] = first_posted < never
    c["ledger_created_at"] = first_posted - np.timedelta64(40, "s")
    c["ledger_id"] = rank(first_posted, c["in_ledger"], 1)
