"""Each system's export files, in the shape and vocabulary of the product it imitates.

An export is data: the file it writes and the SELECT that produces its rows from the world in
DuckDB (see :mod:`trueup.demo.frame`). CSV files are written by DuckDB's COPY; QuickBooks Online
JSON is written the same way and wrapped in the API's `QueryResponse` envelope. Rows are ordered
by their ids so the same seed writes the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from trueup.ingest.base import literal


@dataclass(frozen=True)
class Export:
    path: str  # relative to the workspace
    sql: str
    envelope: str | None = None  # QuickBooks Online entity name: the file is a QueryResponse
    # A large export is written in parts by ranges of this table's ids (the SQL filters on
    # __LO__ <= id < __HI__), so that sorting and nesting never hold the whole file in memory.
    parts_of: str | None = None


PART_ROWS = 100_000


# Tables shared by several exports (built once: the large ones are read in parts): what each
# system calls a customer, each job as dispatch shows it, each invoice as billing and the ledger do.
VIEWS = """
CREATE OR REPLACE TEMP VIEW crm_people AS SELECT p.*,
  cased(first_name, crm_case) AS crm_first, cased(last_name, crm_case) AS crm_last
FROM people p;

CREATE OR REPLACE TEMP VIEW dispatch_people AS SELECT p.*,
  cased(CASE WHEN dispatch_name_variant = 1 THEN nickname(first) ELSE first_name END, dispatch_case) AS d_first,
  cased(CASE WHEN dispatch_name_variant = 2 THEN swapped(last_name, typo_at) ELSE last_name END, dispatch_case) AS d_last
FROM people p WHERE in_dispatch;

CREATE OR REPLACE TEMP TABLE dispatch_clients AS SELECT *,
  coalesce(company, d_first || ' ' || d_last) AS display_name
FROM dispatch_people;

CREATE OR REPLACE TEMP TABLE ledger_people AS SELECT p.*,
  cased(CASE WHEN ledger_name_variant = 1 THEN nickname(first) ELSE first_name END, ledger_case) AS l_first,
  cased(CASE WHEN ledger_name_variant = 2 THEN swapped(last_name, typo_at) ELSE last_name END, ledger_case) AS l_last
FROM people p WHERE in_ledger;

CREATE OR REPLACE TEMP TABLE shown_jobs AS SELECT j.*,
  j.price + j.tax + j.amount_delta AS dispatch_total,
  CASE
    WHEN j.state = 'scheduled' THEN 'Upcoming'
    WHEN j.state = 'in_progress' THEN 'Today'
    WHEN j.state = 'on_hold' THEN CASE WHEN j.unmapped_status THEN 'Awaiting Parts' ELSE 'Action Required' END
    WHEN j.state = 'cancelled' OR j.price = 0 THEN 'Archived'  -- nothing to bill
    WHEN i.in_billing THEN 'Archived'
    ELSE 'Requires Invoicing'
  END AS status
FROM jobs j LEFT JOIN invoices i ON i.id = j.invoice AND i.in_billing AND NOT i.premature
WHERE j.exported;

CREATE OR REPLACE TEMP TABLE billing_invoices AS SELECT i.*,
  j.number AS job_number,
  CASE WHEN i.stalled OR i.not_reflected THEN 0 ELSE i.paid END AS billing_paid
FROM invoices i JOIN jobs j ON j.id = i.job WHERE i.in_billing;

CREATE OR REPLACE TEMP TABLE ledger_invoices AS SELECT i.*,
  j.number AS job_number,
  i.total + i.ledger_delta + CASE WHEN i.tax_twice THEN i.tax ELSE 0 END AS ledger_total
FROM invoices i JOIN jobs j ON j.id = i.job WHERE i.in_ledger ORDER BY i.id;
"""

HUBSPOT = (
    Export(
        "exports/hubspot/contacts.csv",
        """
        SELECT crm_id AS "Record ID", crm_first AS "First Name", crm_last AS "Last Name",
          CASE WHEN NOT crm_no_email THEN CASE WHEN crm_email_case THEN upper(email[1]) || email[2:] ELSE email END END
            AS "Email",
          phone_text(phone_digits, crm_phone_format) AS "Phone Number",
          CASE WHEN moved THEN street_line(old_street_no, old_street, addr_street_type, 0, crm_abbreviate)
            ELSE street_line(addr_street_no, addr_street, addr_street_type, addr_unit, crm_abbreviate) END
            AS "Street Address",
          city AS "City", 'OH' AS "State/Region", postal_code AS "Postal Code", company AS "Company Name",
          CASE WHEN company_id >= 0 THEN company_id END AS "Associated Company ID",
          CASE WHEN in_dispatch THEN 'Customer' ELSE 'Lead' END AS "Lifecycle Stage",
          office_staff(owner) AS "Contact owner", lead_source(lead_source) AS "Original Source",
          strftime(created_at, '%Y-%m-%d %H:%M') AS "Create Date",
          CASE WHEN legacy_residue THEN legacy_sf_id END AS "Salesforce Contact ID"
        FROM crm_people ORDER BY crm_id
        """,
    ),
    Export(
        "exports/hubspot/companies.csv",
        """
        SELECT company_id AS "Record ID", company AS "Company name", slug(company) || '.com' AS "Company Domain Name",
          phone_text(phone_digits, crm_phone_format) AS "Phone Number",
          street_line(addr_street_no, addr_street, addr_street_type, addr_unit, crm_abbreviate) AS "Street Address",
          city AS "City", 'OH' AS "State/Region", postal_code AS "Postal Code",
          strftime(created_at, '%Y-%m-%d %H:%M') AS "Create Date"
        FROM people WHERE company_id >= 0 ORDER BY company_id
        """,
    ),
    Export(
        "exports/hubspot/deals.csv",
        """
        SELECT d.crm_id AS "Record ID", p.last_name || ' - ' || job_title(d.kind) AS "Deal Name",
          CASE WHEN p.is_company THEN 'Commercial' ELSE 'Residential' END AS "Pipeline",
          CASE d.outcome WHEN 'won' THEN 'Closed Won' WHEN 'lost' THEN 'Closed Lost' ELSE open_stage(d.open_stage) END
            AS "Deal Stage",
          money_text(d.amount) AS "Amount",
          strftime(d.closed_at, '%Y-%m-%d %H:%M') AS "Close Date",
          strftime(d.created_at, '%Y-%m-%d %H:%M') AS "Create Date",
          office_staff(d.owner) AS "Deal owner",
          CASE WHEN d.legacy_reference THEN p.legacy_sf_id ELSE CAST(p.crm_id AS VARCHAR) END AS "Associated Contact IDs",
          service_line(kind_line(d.kind)) AS "Service Line"
        FROM deals d JOIN people p ON p.id = d.customer ORDER BY d.crm_id
        """,
    ),
    Export(
        "exports/hubspot/engagements.csv",
        """
        SELECT e.crm_id AS "Record ID", engagement_kind(e.kind) AS "Activity Type",
          strftime(e.occurred_at, '%Y-%m-%d %H:%M') AS "Activity Date",
          replace(subject(e.kind, e.subject), '{job}', coalesce(job_title(d.kind), 'service')) AS "Subject",
          office_staff(e.actor) AS "Activity assigned to",
          p.crm_id AS "Associated Contact IDs", d.crm_id AS "Associated Deal IDs"
        FROM engagements e JOIN people p ON p.id = e.customer LEFT JOIN deals d ON d.id = e.deal
        ORDER BY e.crm_id
        """,
    ),
)

JOBBER = (
    Export(
        "exports/jobber/clients.csv",
        """
        SELECT c.dispatch_id AS "Client ID", c.display_name AS "Display Name", c.company AS "Company Name",
          c.d_first AS "First Name", c.d_last AS "Last Name",
          CASE WHEN c.dispatch_other_email THEN c.other_email
            WHEN NOT c.dispatch_no_email THEN CASE WHEN c.dispatch_email_case THEN upper(c.email) ELSE c.email END END
            AS "E-mails",
          phone_text(coalesce(c.other_phone_digits, c.phone_digits), c.dispatch_phone_format) AS "Main Phone #s",
          street_line(c.addr_street_no, c.addr_street, c.addr_street_type, c.addr_unit, c.dispatch_abbreviate)
            AS "Billing Street 1",
          c.city AS "Billing City", 'OH' AS "Billing State", c.postal_code AS "Billing Zip code",
          strftime(f.first_job - INTERVAL 2 HOUR, '%b %-d, %Y') AS "Created Date",
          lead_source(c.lead_source) AS "Lead Source", CASE WHEN c.plan THEN 'Comfort Club' END AS "Tags"
        FROM dispatch_clients c
        JOIN (SELECT customer, min(created_at) AS first_job FROM jobs WHERE exported GROUP BY customer) f
          ON f.customer = c.id
        ORDER BY c.dispatch_id
        """,
    ),
    Export(
        "exports/jobber/properties.csv",
        """
        SELECT l.property_id AS "Property ID", c.dispatch_id AS "Client ID",
          street_line(l.street_no, l.street, l.street_type, 0, c.dispatch_abbreviate) AS "Street 1",
          CASE WHEN l.unit > 0 THEN 'Apt ' || l.unit END AS "Street 2",
          town(l.branch, l.town) AS "City", 'OH' AS "State", zip(l.branch, l.town) AS "Zip code",
          'United States' AS "Country"
        FROM locations l JOIN dispatch_clients c ON c.id = l.customer ORDER BY l.property_id
        """,
    ),
    Export(
        "exports/jobber/jobs.csv",
        """
        SELECT j.number AS "Job #", c.dispatch_id AS "Client ID", c.display_name AS "Client name",
          l.property_id AS "Property ID", job_title(j.kind) AS "Title", j.status AS "Job Status",
          service_line(j.line) AS "Service Line", branch_name(j.branch) AS "Branch", t.name AS "Assigned to",
          strftime(j.created_at, '%b %-d, %Y') AS "Created date",
          strftime(j.scheduled_at, '%b %-d, %Y %-I:%M %p') AS "Scheduled start date",
          strftime(j.completed_at, '%b %-d, %Y %-I:%M %p') AS "Closed date",
          money_us(j.dispatch_total) AS "Total $",
          d.crm_id AS "HubSpot Deal ID"
        FROM shown_jobs j JOIN dispatch_clients c ON c.id = j.customer JOIN locations l ON l.id = j.location
        JOIN technicians t ON t.id = j.technician LEFT JOIN deals d ON d.id = j.deal
        ORDER BY j.number
        """,
    ),
    Export(
        "exports/jobber/visits.csv",
        """
        SELECT j.number AS "Job #", v.number AS "Visit #", c.dispatch_id AS "Client ID", c.display_name AS "Client name",
          job_title(j.kind) AS "Visit title", t.name AS "Assigned to",
          strftime(v.start, '%b %-d, %Y %-I:%M %p') AS "Start", strftime(v."end", '%b %-d, %Y %-I:%M %p') AS "End",
          CASE WHEN v.done THEN 'Yes' ELSE 'No' END AS "Completed"
        FROM visits v JOIN jobs j ON j.id = v.job AND j.exported JOIN dispatch_clients c ON c.id = j.customer
        JOIN technicians t ON t.id = j.technician
        ORDER BY j.number, v.number
        """,
    ),
    Export(
        "exports/jobber/quotes.csv",
        """
        SELECT row_number() OVER (ORDER BY d.created_at, d.id) + 300 AS "Quote #", c.dispatch_id AS "Client ID",
          c.display_name AS "Client name", job_title(d.kind) AS "Title",
          CASE WHEN j.exported THEN 'Converted' ELSE 'Approved' END AS "Status",
          money_us(d.amount) AS "Total $", strftime(d.created_at + INTERVAL 1 DAY, '%b %-d, %Y') AS "Drafted date",
          strftime(d.closed_at, '%b %-d, %Y') AS "Approved date",
          CASE WHEN j.exported THEN j.number END AS "Job #"
        FROM deals d JOIN jobs j ON j.id = d.job JOIN dispatch_clients c ON c.id = d.customer
        WHERE d.outcome = 'won'
        ORDER BY 1
        """,
    ),
)

BILLING = (
    Export(
        "exports/billing/invoices.csv",
        """
        SELECT 'INV-' || i.number AS invoice_no, i.job_number AS job_ref, c.dispatch_id AS client_id,
          c.display_name AS customer_name,
          strftime(i.issued_at, '%m/%d/%Y') AS issued,
          strftime(i.issued_at + to_days(CAST(i.due_days AS INTEGER)), '%m/%d/%Y') AS due,
          NULL::VARCHAR AS payment_due,
          money_text(i.subtotal) AS subtotal, money_text(i.tax) AS tax, money_text(i.total) AS total,
          money_text(i.billing_paid) AS amount_paid, money_text(i.total - i.billing_paid) AS balance,
          CASE WHEN i.unmapped_status THEN 'disputed' WHEN i.billing_paid >= i.total THEN 'paid'
            WHEN i.billing_paid > 0 THEN 'partial' ELSE 'sent' END AS state,
          CASE WHEN i.by_zap THEN 'Zapier' ELSE office_staff(i.clerk) END AS created_by
        FROM billing_invoices i JOIN dispatch_clients c ON c.id = i.customer
        ORDER BY i.number
        """,
    ),
    Export(
        "exports/billing/invoice_lines.csv",
        """
        SELECT 'INV-' || i.number AS invoice_no, l.line_no AS line, item_name(l.item) AS item,
          CASE l.item WHEN 0 THEN 'Labor: ' || job_title(j.kind) WHEN 1 THEN 'Parts for ' || lower(job_title(j.kind))
            WHEN 2 THEN 'Trip charge' ELSE 'Member discount (10% of labor)' END AS description,
          1 AS qty, money_text(l.amount) AS unit_price, money_text(l.amount) AS amount,
          CASE WHEN l.item = 1 THEN 'Y' ELSE 'N' END AS taxable,
          CAST(CAST(l.rate AS DECIMAL(18, 0)) / 1000000 AS DECIMAL(8, 6)) AS tax_rate
        FROM lines l JOIN billing_invoices i ON i.id = l.invoice JOIN jobs j ON j.id = i.job
        ORDER BY i.number, l.line_no
        """,
    ),
)

QUICKBOOKS = (
    Export(
        "exports/qbo/customers.json",
        """
        SELECT CAST(c.ledger_id AS VARCHAR) AS "Id", '0' AS "SyncToken",
          coalesce(c.company, c.l_first || ' ' || c.l_last) AS "DisplayName",
          c.l_first AS "GivenName", c.l_last AS "FamilyName", c.company AS "CompanyName",
          CASE WHEN NOT c.ledger_no_email THEN {'Address': c.email} END AS "PrimaryEmailAddr",
          CASE WHEN NOT c.ledger_no_phone THEN {'FreeFormNumber': phone_text(c.phone_digits, c.ledger_phone_format)} END
            AS "PrimaryPhone",
          {'Id': CAST(c.ledger_id + 1000 AS VARCHAR),
           'Line1': street_line(c.addr_street_no, c.addr_street, c.addr_street_type, c.addr_unit, c.ledger_abbreviate),
           'City': c.city, 'CountrySubDivisionCode': 'OH', 'PostalCode': c.postal_code} AS "BillAddr",
          true AS "Active",
          {'CreateTime': qbo_time(c.ledger_created_at), 'LastUpdatedTime': qbo_time(c.ledger_created_at)} AS "MetaData"
        FROM ledger_people c ORDER BY c.ledger_id
        """,
        envelope="Customer",
    ),
    Export(
        "exports/qbo/invoices.json",
        """
        WITH l AS (
          SELECT invoice, list({'Id': CAST(line_no AS VARCHAR), 'LineNum': line_no, 'Amount': dollars(amount),
              'DetailType': 'SalesItemLineDetail',
              'SalesItemLineDetail': {'ItemRef': {'value': CAST(item + 1 AS VARCHAR), 'name': item_name(item)},
                'Qty': 1, 'UnitPrice': dollars(amount),
                'TaxCodeRef': {'value': CASE WHEN item = 1 THEN 'TAX' ELSE 'NON' END}}} ORDER BY line_no) AS lines
          FROM lines WHERE invoice >= __LO__ AND invoice < __HI__ GROUP BY invoice
        ),
        part AS (SELECT * FROM ledger_invoices WHERE id >= __LO__ AND id < __HI__),
        copies AS (
          SELECT *, ledger_id AS txn_id, paid AS ledger_paid FROM part
          UNION ALL
          SELECT *, dup_ledger_id AS txn_id, 0 AS ledger_paid FROM part WHERE duplicated
        )
        SELECT CAST(i.txn_id AS VARCHAR) AS "Id", '0' AS "SyncToken", 'INV-' || i.number AS "DocNumber",
          strftime(i.issued_at, '%Y-%m-%d') AS "TxnDate",
          strftime(i.issued_at + to_days(CAST(i.due_days AS INTEGER)), '%Y-%m-%d') AS "DueDate",
          {'value': CAST(c.ledger_id AS VARCHAR), 'name': coalesce(c.company, c.l_first || ' ' || c.l_last)}
            AS "CustomerRef",
          {'value': 'Job #' || i.job_number} AS "CustomerMemo",
          l.lines AS "Line",
          {'TotalTax': dollars(i.tax * CASE WHEN i.tax_twice THEN 2 ELSE 1 END)} AS "TxnTaxDetail",
          dollars(i.ledger_total) AS "TotalAmt", dollars(i.ledger_total - i.ledger_paid) AS "Balance",
          {'CreateTime': qbo_time(i.posted_at + to_minutes(CASE WHEN i.txn_id = i.ledger_id THEN 0 ELSE 3 END)),
           'LastUpdatedTime': qbo_time(i.posted_at)} AS "MetaData"
        FROM copies i JOIN l ON l.invoice = i.id JOIN ledger_people c ON c.id = i.customer
        ORDER BY i.id, i.txn_id
        """,
        envelope="Invoice",
        parts_of="invoices",
    ),
    Export(
        "exports/qbo/payments.json",
        """
        SELECT CAST(p.ledger_id AS VARCHAR) AS "Id", '0' AS "SyncToken", strftime(p.paid_at, '%Y-%m-%d') AS "TxnDate",
          {'value': CAST(c.ledger_id AS VARCHAR), 'name': coalesce(c.company, c.l_first || ' ' || c.l_last)}
            AS "CustomerRef",
          dollars(p.amount) AS "TotalAmt", dollars(0) AS "UnappliedAmt",
          {'value': CAST(p.method + 1 AS VARCHAR), 'name': payment_method(p.method)} AS "PaymentMethodRef",
          [{'Amount': dollars(p.amount), 'LinkedTxn': [{'TxnId': CAST(i.ledger_id AS VARCHAR), 'TxnType': 'Invoice'}]}]
            AS "Line",
          {'CreateTime': qbo_time(p.paid_at), 'LastUpdatedTime': qbo_time(p.paid_at)} AS "MetaData"
        FROM payments p JOIN invoices i ON i.id = p.invoice JOIN ledger_people c ON c.id = p.customer
        WHERE p.in_ledger AND p.id >= __LO__ AND p.id < __HI__ ORDER BY p.ledger_id
        """,
        envelope="Payment",
        parts_of="payments",
    ),
)

EXPORTS = (*HUBSPOT, *JOBBER, *BILLING, *QUICKBOOKS)


def write_all(con: duckdb.DuckDBPyConnection, root: Path, response_time: str) -> Iterator[tuple[str, int]]:
    """Write every export under `root`, yielding each file's path and rows as it is written."""
    con.execute(VIEWS)
    for export in EXPORTS:
        target = root / export.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if export.envelope:
            yield export.path, _write_envelope(con, export, target, response_time)
        else:
            yield export.path, _copy(con, export.sql, target, "HEADER, DELIMITER ','")


def _copy(con: duckdb.DuckDBPyConnection, sql: str, target: Path, options: str) -> int:
    row = con.execute(f"COPY ({sql}) TO {literal(str(target))} ({options})").fetchone()
    return int(row[0]) if row else 0


def _parts(con: duckdb.DuckDBPyConnection, export: Export) -> list[tuple[int, int]]:
    if not export.parts_of:
        return [(0, 0)]
    row = con.execute(f"SELECT coalesce(max(id), -1) + 1 FROM {export.parts_of}").fetchone()
    top = int(row[0]) if row else 0
    return [(lo, lo + PART_ROWS) for lo in range(0, max(top, 1), PART_ROWS)]


def _write_envelope(con: duckdb.DuckDBPyConnection, export: Export, target: Path, response_time: str) -> int:
    """A QuickBooks Online query response: {"QueryResponse": {"<Entity>": [...], ...}, "time": ...}.

    Each part is written by DuckDB as one JSON record a line; records hold no raw line breaks, so
    joining the lines with commas makes the array."""
    part_file = target.with_suffix(".part")
    rows = 0
    with target.open("wb") as out:
        out.write(f'{{"QueryResponse": {{"{export.envelope}": [\n'.encode())
        for lo, hi in _parts(con, export):
            sql = export.sql.replace("__LO__", str(lo)).replace("__HI__", str(hi))
            written = _copy(con, sql, part_file, "FORMAT json")
            if written:
                out.write(b",\n" if rows else b"")
                out.write(part_file.read_bytes().rstrip(b"\n").replace(b"\n", b",\n"))
            rows += written
        out.write(f'\n], "startPosition": 1, "maxResults": {rows}}}, "time": "{response_time}"}}\n'.encode())
    part_file.unlink(missing_ok=True)
    return rows
