"""A tiny company, written out by hand, with every problem a built-in check looks for planted once.

`files(clean=False)` gives trueup.yaml and the exports; `EXPECTED` says, check by check, exactly
which records each finding is about. `files(clean=True)` is the same company with every problem
fixed, which no check may find anything in.

The story, job by job (all in November 2026; the exports were taken on the 20th at 18:00 UTC):
  J1  completed, invoiced INV-1, posted, paid and the payment reached billing: all well
  J2  completed, never invoiced                                  -> job_not_invoiced
  J3  scheduled for the 25th, yet invoiced                        -> invoice_for_unfinished_job
  J4  invoiced, never reached the ledger                          -> invoice_not_posted
  J5  the ledger's copy of INV-5 was edited                       -> amount_mismatch
  J6  the job's total changed after it was invoiced               -> amount_mismatch
  J7  invoiced 8 days after the work (SLA 3d)                     -> sync_lag; left off the sheet
  J8  posted 5 days after issue (SLA 1d)                          -> sync_lag
  J9  the ledger holds INV-9 twice                                -> duplicated_by_sync
  J10 paid in the ledger on the 6th, billing still shows it open  -> paid_not_reflected
  J11, J12 paid on the 15th and 16th, after the last payment that reached billing (J13's, on
      the 10th): the payment sync stalled                         -> handoff_stalled
  J11-J13 the ledger carries their tax twice                      -> systematic_offset, and
      three amount_mismatch findings whose cause is that setting
  J13 created by the retired Zap                                  -> retired_handoff_active
  J14 in a status nobody mapped                                   -> unmapped_status
"""

from __future__ import annotations

from pathlib import Path

CUSTOMERS_CRM = """\
id,first,last,email,phone,street,salesforce_id,updated
C1,Ann,Lee,ann@example.com,555-201-0101,1 Oak St,,2026-10-01
C2,Bob,Stone,bob@example.com,555-201-0102,2 Elm St,,2026-10-01
C3,Cara,Diaz,cara@example.com,555-201-0103,3 Pine Rd,,2026-10-01
C4,Dan,Wu,dan@example.com,555-201-0104,{dan_street},{salesforce},2026-10-01
"""
CLIENTS = """\
client_id,name,email,phone,street,updated
D1,Ann Lee,ann@example.com,(555) 201-0101,1 Oak Street,2026-09-01
D2,{bob},bob@example.com,555.201.0102,2 Elm St,{bob_updated}
D3,Cara Diaz,cara@example.com,{cara_phone},3 Pine Road,2026-09-01
D4,Dan Wu,dan@example.com,555-201-0104,9 New St,2026-09-01
"""
LEDGER_CUSTOMERS = """\
Id,DisplayName,Email
A1,{ann},ann@example.com
A2,Bob Stone,bob@example.com
A3,Cara Diaz,cara@example.com
A4,Dan Wu,dan@example.com
"""
DEALS = """\
deal_id,contact,name,amount,stage,closed
DL1,C1,Ann furnace,100.00,Closed Won,2026-10-30
DL2,C2,Bob boiler,2000.00,{dl2_stage},2026-11-05
DL3,{dl3_contact},Dan AC,700.00,Closed Lost,2026-11-02
"""
# job, client, deal, status, scheduled, completed, total
JOBS = [
    ("J1", "D1", "DL1", "Completed", "2026-10-31", "2026-11-01 10:00", "100.00"),
    ("J2", "D1", "", "Completed", "2026-11-05", "2026-11-05 10:00", "200.00"),
    ("J3", "D2", "", "Scheduled", "2026-11-25", "", "50.00"),
    ("J4", "D2", "", "Completed", "2026-11-01", "2026-11-01 10:00", "300.00"),
    ("J5", "D3", "", "Completed", "2026-11-02", "2026-11-02 10:00", "400.00"),
    ("J6", "D3", "", "Completed", "2026-11-03", "2026-11-03 10:00", "{j6_total}"),
    ("J7", "D4", "", "Completed", "2026-11-01", "2026-11-01 10:00", "100.00"),
    ("J8", "D4", "", "Completed", "2026-11-02", "2026-11-02 10:00", "100.00"),
    ("J9", "D1", "", "Completed", "2026-11-03", "2026-11-03 10:00", "150.00"),
    ("J10", "D1", "", "Completed", "2026-11-04", "2026-11-04 10:00", "80.00"),
    ("J11", "D2", "", "Completed", "2026-11-05", "2026-11-05 10:00", "108.00"),
    ("J12", "D2", "", "Completed", "2026-11-06", "2026-11-06 10:00", "108.00"),
    ("J13", "D3", "", "Completed", "2026-11-07", "2026-11-07 10:00", "108.00"),
    ("J14", "D3", "", "{j14_status}", "2026-11-10", "", "90.00"),
]
# invoice, job, client, total, tax, balance, state, issued, created_by
INVOICES = [
    ("INV-1", "J1", "D1", "100.00", "0", "0", "paid", "2026-11-02", "Kelly"),
    ("INV-3", "J3", "D2", "50.00", "0", "50.00", "sent", "2026-11-18", "Kelly"),
    ("INV-4", "J4", "D2", "300.00", "0", "300.00", "sent", "2026-11-02", "Kelly"),
    ("INV-5", "J5", "D3", "400.00", "0", "400.00", "sent", "2026-11-03", "Kelly"),
    ("INV-6", "J6", "D3", "520.00", "0", "520.00", "sent", "2026-11-04", "Kelly"),
    ("INV-7", "J7", "D4", "100.00", "0", "100.00", "sent", "{inv7_issued}", "Kelly"),
    ("INV-8", "J8", "D4", "100.00", "0", "100.00", "sent", "2026-11-03", "Kelly"),
    ("INV-9", "J9", "D1", "150.00", "0", "150.00", "sent", "2026-11-04", "Kelly"),
    ("INV-10", "J10", "D1", "80.00", "0", "{inv10_balance}", "{inv10_state}", "2026-11-05", "Kelly"),
    ("INV-11", "J11", "D2", "108.00", "8.00", "{inv11_balance}", "{inv11_state}", "2026-11-06", "Kelly"),
    ("INV-12", "J12", "D2", "108.00", "8.00", "{inv12_balance}", "{inv12_state}", "2026-11-07", "Kelly"),
    ("INV-13", "J13", "D3", "108.00", "8.00", "0", "paid", "2026-11-08", "{inv13_by}"),
    ("INV-2", "J2", "D1", "200.00", "0", "200.00", "sent", "2026-11-06", "Kelly"),
]
# ledger id, doc number, job memo, customer, total, balance, posted
LEDGER = [
    ("L1", "INV-1", "J1", "A1", "100.00", "0", "2026-11-02"),
    ("L3", "INV-3", "J3", "A2", "50.00", "50.00", "2026-11-18"),
    ("L4", "INV-4", "J4", "A2", "300.00", "300.00", "2026-11-02"),
    ("L5", "INV-5", "J5", "A3", "{l5_total}", "0", "2026-11-03"),
    ("L6", "INV-6", "J6", "A3", "520.00", "520.00", "2026-11-04"),
    ("L7", "INV-7", "J7", "A4", "100.00", "100.00", "{inv7_issued}"),
    ("L8", "INV-8", "J8", "A4", "100.00", "100.00", "{l8_posted}"),
    ("L9", "INV-9", "J9", "A1", "150.00", "150.00", "2026-11-04"),
    ("L9B", "INV-9", "J9", "A1", "150.00", "150.00", "2026-11-04"),
    ("L10", "INV-10", "J10", "A1", "80.00", "0", "2026-11-05"),
    ("L11", "INV-11", "J11", "A2", "{taxed}", "0", "2026-11-06"),
    ("L12", "INV-12", "J12", "A2", "{taxed}", "0", "2026-11-07"),
    ("L13", "INV-13", "J13", "A3", "{taxed}", "0", "2026-11-08"),
    ("L2", "INV-2", "J2", "A1", "200.00", "200.00", "2026-11-06"),
]
PAYMENTS = """\
Id,invoice,customer,amount,paid
P1,L1,A1,100.00,2026-11-03
P10,L10,A1,80.00,2026-11-06
P13,L13,A3,{p13_amount},2026-11-10
P11,L11,A2,{p11_amount},2026-11-15
P12,L12,A2,{p12_amount},2026-11-16
"""
SHEET_JOBS = ["J1", "J2", "J4", "J5", "J6", "J7", "J8", "J9", "J10", "J11", "J12", "J13"]

CONFIG = """\
name: Fixture Co
timezone: UTC
as_of: '2026-11-20T18:00'
systems:
  crm: {{source: {{type: files, path: crm, tables: {{contacts: contacts.csv, deals: deals.csv}}}}}}
  dispatch: {{source: {{type: files, path: dispatch, tables: {{clients: clients.csv, jobs: jobs.csv}}}}}}
  billing: {{source: {{type: files, path: billing, tables: {{invoices: invoices.csv}}}}}}
  accounting: {{source: {{type: files, path: ledger, tables: {{customers: customers.csv, invoices: invoices.csv,
               payments: payments.csv}}}}}}
  sheet: {{kind: spreadsheet, derived_from: [dispatch, accounting],
          source: {{type: files, path: ., tables: {{rows: sheet.csv}}}}}}
entities:
  customer:
    crm: {{from: contacts, id: id, fields: {{name: "first || ' ' || last", email: email, phone: phone,
          address: street, updated_at: updated}}, extra: {{salesforce_id: salesforce_id}}}}
    dispatch: {{from: clients, id: client_id, fields: {{name: name, email: email, phone: phone, address: street,
               updated_at: updated}}}}
    accounting: {{from: customers, id: Id, fields: {{name: DisplayName, email: Email}}}}
  deal:
    crm: {{from: deals, id: deal_id, fields: {{customer: contact, name: name, amount: amount, status: stage,
          closed_at: closed}}}}
  job:
    dispatch: {{from: jobs, id: job, fields: {{number: job, customer: client, deal: {{expr: deal, system: crm}},
               status: status, scheduled_at: scheduled, completed_at: completed, amount: total}}}}
    sheet: {{from: rows, id: '"Job #"', fields: {{number: '"Job #"', amount: '"Job Total"'}}{sheet_extra}}}
  invoice:
    billing: {{from: invoices, id: invoice, fields: {{number: invoice, job: job,
              customer: {{expr: client, system: dispatch}}, amount: total, tax: tax, balance: balance,
              status: state, issued_at: issued, due_at: {due_column}}}, extra: {{created_by: created_by}}}}
    accounting: {{from: invoices, id: Id, fields: {{number: DocNumber, job: {{expr: memo, system: dispatch}},
                 customer: customer, amount: total, balance: balance, posted_at: posted}}}}
  payment:
    accounting: {{from: payments, id: Id, fields: {{invoice: invoice, customer: customer, amount: amount,
                 paid_at: paid}}}}
statuses:
  deal: {{crm: {{Closed Won: won, Closed Lost: lost, Open: open}}}}
  job: {{dispatch: {{Scheduled: scheduled, Completed: completed, On Hold: on_hold}}}}
  invoice: {{billing: {{sent: invoiced, paid: paid, partial: partially_paid}}}}
ownership:
  customer.*: crm
  customer.address: dispatch
  deal.*: crm
  job.*: dispatch
  invoice.*: billing
  payment.*: accounting
handoffs:
  - {{id: deal-to-job, from: crm, to: dispatch, carries: deal->job, owner: ops, trigger: deal won,
     expected: a job, sla: 1d, exceptions: email, monitoring: {monitoring}, rollback: archive}}
  - {{id: job-to-invoice, from: dispatch, to: billing, carries: job->invoice, owner: billing-team,
     trigger: job done, expected: an invoice, sla: 3d, exceptions: sheet, monitoring: sheet, rollback: void}}
  - {{id: invoice-to-ledger, from: billing, to: accounting, carries: invoice, owner: controller,
     trigger: issued, expected: a copy, sla: 1d, exceptions: email, monitoring: count, rollback: void}}
  - {{id: payment-sync, from: accounting, to: billing, carries: payment, owner: controller,
     trigger: paid, expected: marked paid, sla: 1d, exceptions: email, monitoring: aging, rollback: unapply}}
  - {{id: sheet-build, from: dispatch, to: sheet, carries: job, owner: controller, trigger: Friday,
     expected: every job, sla: 7d, exceptions: notes, monitoring: review, rollback: copy}}
  - {{id: old-zap, from: dispatch, to: billing, carries: job->invoice, mechanism: Zapier, sla: 1d,
     retired: 2026-06-30}}
retired:
  - {{system: legacy_crm, id_pattern: '^003[A-Za-z0-9]{{15}}$', retired_on: 2025-06-30, fields: [customer.salesforce_id]}}
reported:
  - {{metric: revenue, period: '2026-11', value: {reported}, source: sheet}}
"""

LEGACY = "003ABCDEFGHIJKLMNO"
REVENUE = "2274.00"  # the invoices issued in November, in billing's own amounts


def _rows(rows: list[tuple[str, ...]], values: dict[str, str]) -> str:
    return "".join(",".join(cell.format(**values) for cell in row) + "\n" for row in rows)


def files(clean: bool = False) -> dict[str, str]:
    """trueup.yaml and the exports, with every planted problem (or, with `clean`, none)."""
    v = {
        "dan_street": "9 New St" if clean else "4 Ash Ave",
        "salesforce": "" if clean else LEGACY,
        "bob": "Bob Stone" if clean else "Bobby Stone",
        "bob_updated": "2026-09-01" if clean else "2026-11-01",
        "cara_phone": "555-201-0103" if clean else "555-201-0199",
        "ann": "Ann Lee" if clean else "Anne Lee",
        "dl2_stage": "Closed Lost" if clean else "Closed Won",
        "dl3_contact": "C4" if clean else LEGACY,
        "j6_total": "520.00" if clean else "500.00",
        "j14_status": "On Hold" if clean else "Awaiting Parts",
        "inv7_issued": "2026-11-02" if clean else "2026-11-09",
        "inv10_balance": "0" if clean else "80.00",
        "inv10_state": "paid" if clean else "sent",
        "inv11_balance": "0" if clean else "108.00",
        "inv11_state": "paid" if clean else "sent",
        "inv12_balance": "0" if clean else "108.00",
        "inv12_state": "paid" if clean else "sent",
        "inv13_by": "Kelly" if clean else "Zapier",
        "l5_total": "400.00" if clean else "450.00",
        "l8_posted": "2026-11-03" if clean else "2026-11-08",
        "taxed": "108.00" if clean else "116.00",
        "p11_amount": "108.00" if clean else "116.00",
        "p12_amount": "108.00" if clean else "116.00",
        "p13_amount": "108.00" if clean else "116.00",
    }
    jobs = [j for j in JOBS if not (clean and j[0] == "J3")]
    invoices = [i for i in INVOICES if not (clean and i[0] == "INV-3")]
    ledger = [row for row in LEDGER if not (clean and row[0] == "L9B")]
    if not clean:
        invoices = [i for i in invoices if i[0] != "INV-2"]  # nobody invoiced J2
        ledger = [row for row in ledger if row[0] not in ("L4", "L2")]  # INV-4 never reached the ledger
    else:
        ledger = [row for row in ledger if row[0] != "L3"]
    sheet = [j for j in SHEET_JOBS if clean or j != "J7"]
    totals = {j[0]: j[6].format(**v) for j in jobs}
    sheet_rows = [(j, "110.00" if (j == "J1" and not clean) else totals[j], "") for j in sheet]
    if not clean:
        sheet_rows += [("W-1", "95.00", "walk-in paid cash")]
    sheet_rows = [(j, total, "called" if j == "J5" and not clean else note) for j, total, note in sheet_rows]
    reported = REVENUE if clean else "2400.00"
    return {
        "trueup.yaml": CONFIG.format(
            due_column="issued" if clean else "payment_due",
            monitoring="zap history" if clean else "none",
            reported=reported,
            sheet_extra="" if clean else ", extra: {notes: Notes}",
        ),
        "crm/contacts.csv": CUSTOMERS_CRM.format(**v),
        "crm/deals.csv": DEALS.format(**v),
        "dispatch/clients.csv": CLIENTS.format(**v),
        "dispatch/jobs.csv": "job,client,deal,status,scheduled,completed,total\n" + _rows(jobs, v),
        "billing/invoices.csv": "invoice,job,client,total,tax,balance,state,issued,created_by,payment_due\n"
        + "".join(line.rstrip("\n") + ",\n" for line in _rows(invoices, v).splitlines(keepends=True)),
        "ledger/customers.csv": LEDGER_CUSTOMERS.format(**v),
        "ledger/invoices.csv": "Id,DocNumber,memo,customer,total,balance,posted\n" + _rows(ledger, v),
        "ledger/payments.csv": PAYMENTS.format(**v),
        "sheet.csv": '"Job #","Job Total"'
        + ("" if clean else ",Notes")
        + "\n"
        + "".join(f"{j},{t}" + ("" if clean else f",{n}") + "\n" for j, t, n in sheet_rows),
    }


def ref(entity: str, system: str | None, source_id: str | None) -> tuple[str, str | None, str | None]:
    return (entity, system, source_id)


def inv(system: str, number: str) -> tuple[str, str | None, str | None]:
    return ref("invoice", system, number)


def job(number: str, system: str = "dispatch") -> tuple[str, str | None, str | None]:
    return ref("job", system, number)


def customer(system: str, source_id: str) -> tuple[str, str | None, str | None]:
    return ref("customer", system, source_id)


# check -> the findings it must make, each as the set of records it is about
EXPECTED: dict[str, list[set[tuple[str, str | None, str | None]]]] = {
    "field_conflict": [
        {customer("crm", "C1"), customer("accounting", "A1")},  # Anne Lee
        {customer("crm", "C2"), customer("dispatch", "D2")},  # Bobby Stone
        {customer("crm", "C3"), customer("dispatch", "D3")},  # another phone
        {customer("dispatch", "D4"), customer("crm", "C4")},  # moved: the CRM has the old street
    ],
    "two_writers": [{customer("crm", "C2"), customer("dispatch", "D2")}],
    "unowned_fact": [],
    "job_not_invoiced": [{job("J2")}],
    "invoice_for_unfinished_job": [{job("J3"), inv("billing", "INV-3")}],
    "invoice_not_posted": [{inv("billing", "INV-4")}],
    "amount_mismatch": [
        {inv("billing", "INV-5"), inv("accounting", "L5")},
        {job("J6"), inv("billing", "INV-6")},
        {inv("billing", "INV-11"), inv("accounting", "L11")},
        {inv("billing", "INV-12"), inv("accounting", "L12")},
        {inv("billing", "INV-13"), inv("accounting", "L13")},
    ],
    "paid_not_reflected": [{inv("billing", "INV-10"), inv("accounting", "L10")}],
    "won_deal_no_job": [{ref("deal", "crm", "DL2")}],
    "duplicated_by_sync": [{inv("billing", "INV-9"), inv("accounting", "L9"), inv("accounting", "L9B")}],
    "sync_lag": [{job("J7"), inv("billing", "INV-7")}, {inv("billing", "INV-8"), inv("accounting", "L8")}],
    "handoff_stalled": [{inv("billing", "INV-11"), inv("billing", "INV-12")}],
    "handoff_idle": [],
    "record_not_synced": [],
    "load_volume_drop": [],
    "load_stalled": [],
    "sheet_correction": [{job("J1", "sheet")}],
    "sheet_row_added": [{job("W-1", "sheet")}],
    "sheet_row_dropped": [{job("J7")}],
    "column_without_upstream": [set()],
    "reported_differs": [{ref("reported", "sheet", "revenue:2026-11")}],
    "unmapped_status": [{job("J14")}],
    "always_empty_column": [{ref("invoice", "billing", None)}],
    "field_never_agrees": [],  # needs twenty linked records: tests/checks/test_builtin.py plants it
    "timezone_shift": [],  # planted in a variant (tests/checks/test_builtin.py)
    "systematic_offset": [{inv("accounting", "L11"), inv("accounting", "L12"), inv("accounting", "L13")}],
    "retired_id_in_use": [{customer("crm", "C4")}],
    "retired_id_reference": [{ref("deal", "crm", "DL3")}],
    "handoff_gaps": [{ref("handoff", None, "deal-to-job")}],
    "retired_handoff_active": [{inv("billing", "INV-13")}],
}


def write(root: Path, content: dict[str, str]) -> None:
    """Write `files()` (or any such mapping of relative paths to text) into a workspace folder."""
    for name, text in content.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
