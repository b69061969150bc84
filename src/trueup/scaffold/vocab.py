"""What `trueup init` knows about exports, as data: vendors, words for entities, fields and states.

Every guess in :mod:`trueup.scaffold.guess` is a lookup in one of these tables. Names are compared
in their normalised form (lower snake case, `#` read as `number`, camelCase split), so
`PrimaryEmailAddr.Address` is `primary_email_addr_address` and `WO #` is `wo_number`.
Word lists are written as one string each (names split on spaces, phrases on `|`) to stay readable.
"""

from __future__ import annotations

from dataclasses import dataclass


def _w(text: str) -> tuple[str, ...]:
    """Names separated by spaces."""
    return tuple(text.split())


def _p(text: str) -> tuple[str, ...]:
    """Phrases separated by `|`."""
    return tuple(part.strip() for part in text.split("|"))


@dataclass(frozen=True)
class Signature:
    """How to recognise a vendor's export: all of `columns` in one table, a JSON envelope, or a name."""

    label: str
    role: str  # crm, dispatch, billing, accounting
    columns: frozenset[str] = frozenset()
    records: str | None = None  # a JSON records path starting with this
    names: tuple[str, ...] = ()  # words in the folder (system) name

    def evidence(self) -> str:
        if self.columns:
            return "columns " + ", ".join(sorted(self.columns))
        if self.records:
            return f"a JSON `{self.records}` envelope"
        return "the folder name"


# First match wins: columns and envelopes before folder names.
VENDORS: tuple[Signature, ...] = (
    Signature("HubSpot", "crm", columns=frozenset({"hs_object_id"})),
    Signature("HubSpot", "crm", columns=frozenset({"hubspot_owner_id"})),
    Signature("Jobber", "dispatch", columns=frozenset({"job_number", "client_id"})),
    Signature("Jobber", "dispatch", columns=frozenset({"visit_id", "client_id"})),
    Signature("QuickBooks Online", "accounting", records="QueryResponse"),
    Signature("QuickBooks Online", "accounting", columns=frozenset({"doc_number", "txn_date"})),
    Signature("Salesforce", "crm", columns=frozenset({"system_modstamp"})),
    Signature("HubSpot", "crm", names=_w("hubspot")),
    Signature("Jobber", "dispatch", names=_w("jobber")),
    Signature("QuickBooks Online", "accounting", names=_w("qbo quickbooks")),
    Signature("Salesforce", "crm", names=_w("salesforce sfdc")),
    Signature("ServiceTitan", "dispatch", names=_w("servicetitan")),
    Signature("Housecall Pro", "dispatch", names=_w("housecall hcp")),
    Signature("Xero", "accounting", names=_w("xero")),
    Signature("Stripe", "billing", names=_w("stripe")),
)

# Words in a system (folder) name that tell its role when no vendor is recognised.
ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "crm": _w("crm sales marketing pipedrive zoho"),
    "dispatch": _w("dispatch fsm field service scheduling ops operations"),
    "billing": _w("billing invoicing invoices chargebee recurly"),
    "accounting": _w("accounting ledger gl finance books sage netsuite"),
}

# Folder names written in capitals as a label.
ACRONYMS = frozenset(_w("crm erp fsm gl ar ap pos cpq"))

# Which role owns each entity by default, best first (see ownership in the design).
OWNER_ROLES: dict[str, tuple[str, ...]] = {
    "customer": _w("crm dispatch billing accounting"),
    "location": _w("dispatch crm"),
    "deal": _w("crm"),
    "job": _w("dispatch"),
    "invoice": _w("billing accounting"),
    "payment": _w("accounting billing"),
    "interaction": _w("crm dispatch"),
}

# Table names (normalised) that name an entity; the longest match wins.
TABLE_WORDS: dict[str, tuple[str, ...]] = {
    "customer": _w("contacts contact clients client customers customer companies company"),
    "location": _w("service_locations properties property locations location sites site addresses"),
    "deal": _w("deals deal opportunities opportunity"),
    "job": _w("work_orders work_order workorders service_orders jobs job"),
    "invoice": _w("invoices invoice"),
    "payment": _w("payments payment receipts"),
    "interaction": _w(
        "engagements engagement activities activity calls call emails meetings notes tickets visits visit"
    ),
}

# An interaction table named after one kind of interaction: the kind is a constant.
INTERACTION_TABLE_KINDS: dict[str, str] = {
    "calls": "call", "call": "call", "emails": "email", "meetings": "meeting", "notes": "note",
    "tickets": "ticket", "visits": "visit", "visit": "visit",
}  # fmt: skip

# Columns that only one entity's tables tend to have: used when the table name says nothing.
TELLING_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer": _w("first_name firstname last_name lastname display_name"),
    "deal": _w("dealname deal_name dealstage deal_stage opportunity_name"),
    "job": _w(
        "job_number job_no wo_number work_order_number technician assigned_to scheduled_start "
        "completed_at completed"
    ),
    "invoice": _w("invoice_no invoice_number doc_number due_date balance_due amount_due"),
    "payment": _w("payment_method payment_date amount_paid paid_at"),
    "interaction": _w("engagement_type activity_type subject occurred_at"),
}

# Canonical field -> column names (normalised). A column matches a name exactly, or ends in
# `_<name>` when the name has several parts or is not in GENERIC_WORDS.
_ADDRESS = {
    "address": _w(
        "address street street_address address_line_1 address_line1 address1 line1 "
        "bill_addr_line1 ship_addr_line1"
    ),
    "city": _w("city town bill_addr_city"),
    "region": _w("state province region state_province bill_addr_country_sub_division_code"),
    "postal_code": _w("zip zip_code zipcode postal_code postcode postal bill_addr_postal_code"),
    "country": _w("country country_code bill_addr_country"),
}
_CUSTOMER_REF = _w(
    "client_id customer_id cust_id contact_id associated_contact_id customer_ref_value "
    "client_number customer_number account_id company_id"
)

SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "customer": {
        "name": _w("name full_name display_name customer_name client_name contact_name fully_qualified_name"),
        "company": _w("company company_name organization organisation business_name"),
        "email": _w("email email_address e_mail primary_email primary_email_addr_address"),
        "phone": _w(
            "phone phone_number mobile mobilephone mobile_phone telephone cell primary_phone "
            "primary_phone_free_form_number"
        ),
        **_ADDRESS,
        "account_owner": _w("owner account_owner hubspot_owner_id sales_rep owner_name"),
        "created_at": _w(
            "created createdate created_at create_date date_created created_date create_time "
            "meta_data_create_time"
        ),
        "updated_at": _w(
            "updated_at lastmodifieddate last_modified modified updated last_updated_time "
            "meta_data_last_updated_time"
        ),
    },
    "location": {"customer": _CUSTOMER_REF, **_ADDRESS},
    "deal": {
        "customer": _CUSTOMER_REF,
        "name": _w("dealname deal_name opportunity_name name title"),
        "amount": _w("amount deal_amount value deal_value total"),
        "status": _w("dealstage deal_stage stage stage_name status pipeline_stage"),
        "closed_at": _w("closedate close_date closed_at closed_date closed"),
    },
    "job": {
        "number": _w("job_number job_no job_num wo_number work_order_number number"),
        "customer": _CUSTOMER_REF,
        "location": _w("property_id location_id site_id service_location_id"),
        "deal": _w("deal_id opportunity_id associated_deal_id"),
        "status": _w("status job_status state stage"),
        "title": _w("title job_title description summary job_name"),
        "service_line": _w("service_line service_type trade category job_type business_unit"),
        "branch": _w("branch office location_name"),
        "technician": _w("technician tech assigned_to assignee crew team_member visits_assigned_to"),
        "scheduled_at": _w(
            "scheduled_start scheduled_at scheduled scheduled_date start start_date start_time "
            "start_at appointment"
        ),
        "completed_at": _w(
            "completed_at completed completed_date completion_date completed_on finished_at end_date"
        ),
        "amount": _w("total amount job_total total_amount price total_price"),
    },
    "invoice": {
        "number": _w("invoice_number invoice_no invoice_num doc_number number"),
        "job": _w("job_ref job_number job_id job_no work_order_number wo_number"),
        "customer": _CUSTOMER_REF,
        "customer_name": _w("customer_name client_name customer_ref_name bill_to customer"),
        "amount": _w("total amount total_amt invoice_total grand_total total_amount"),
        "tax": _w("tax tax_amount total_tax sales_tax txn_tax_detail_total_tax"),
        "balance": _w("balance balance_due amount_due open_balance outstanding"),
        "status": _w("status state invoice_status payment_status"),
        "issued_at": _w("issued issued_at issue_date issued_date invoice_date date created"),
        "posted_at": _w("txn_date posted_at posted posting_date posted_date"),
        "due_at": _w("due_date due due_at due_on"),
    },
    "payment": {
        "invoice": _w("invoice_id invoice_number invoice_no invoice_ref line_linked_txn_txn_id"),
        "customer": _CUSTOMER_REF,
        "amount": _w("amount total total_amt amount_paid payment_amount paid_amount"),
        "method": _w("method payment_method payment_method_ref_name payment_type tender"),
        "paid_at": _w("paid_at payment_date paid_on paid txn_date date received"),
    },
    "interaction": {
        "customer": _CUSTOMER_REF,
        "kind": _w("type kind engagement_type activity_type channel"),
        "subject": _w("subject title summary hs_email_subject hs_call_title"),
        "actor": _w("actor owner user created_by assigned_to hubspot_owner_id rep"),
        "occurred_at": _w(
            "occurred_at timestamp hs_timestamp activity_date date created_at createdate start start_time"
        ),
    },
}

GENERIC_WORDS = frozenset(
    _w(
        "number name id value date type total ref no state status start created due paid "
        "closed completed owner"
    )
)

# A column named like this is an id, best group first. `{e}` is the entity, `{t}` the table's
# singular name, `{a}` another word for the entity (client for customer, wo for job).
ID_PATTERNS: tuple[tuple[str, ...], ...] = (
    _w("hs_object_id id object_id record_id uuid guid"),
    _w("{e}_id {t}_id {a}_id"),
    _w("{e}_number {e}_no {e}_num {t}_number {t}_no {a}_number {a}_no doc_number number no key code"),
)
ENTITY_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "customer": _w("client contact cust company account"),
    "location": _w("property site"),
    "deal": _w("opportunity opp"),
    "job": _w("wo work_order order"),
    "invoice": _w("inv"),
    "payment": _w("pmt receipt"),
    "interaction": _w("engagement activity call email meeting note ticket visit"),
}

# Words in a column name that make it worth testing as a reference to another table's ids.
REFERENCE_HINTS = _w("id ref number no num key value code memo txn")

# Phrases per canonical state. A value equal to a phrase (ignoring case, spaces and punctuation)
# is placed with confidence; a value containing one is a guess to check.
STATE_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "deal": {
        "won": _p("closedwon | closed won | won"),
        "lost": _p("closedlost | closed lost | lost"),
        "open": _p(
            "appointmentscheduled | qualifiedtobuy | presentationscheduled | decisionmakerboughtin | "
            "contractsent | open | new | qualified | proposal | negotiation | prospecting | prospect"
        ),
    },
    "job": {
        "scheduled": _p("scheduled | booked | upcoming | assigned | dispatched"),
        "in_progress": _p("in progress | on site | onsite | started | en route | working | active"),
        "completed": _p("completed | complete | done | finished"),
        "invoice_ready": _p(
            "requires invoicing | ready to invoice | to invoice | needs invoicing | "
            "invoice ready | awaiting invoice | ready for invoicing"
        ),
        "closed": _p("archived | closed"),
        "cancelled": _p("cancelled | canceled | void | voided | deleted"),
        "on_hold": _p("on hold | hold | paused | waiting | postponed"),
    },
    "invoice": {
        "draft": _p("draft"),
        "invoiced": _p(
            "sent | open | issued | awaiting payment | unpaid | due | overdue | outstanding | "
            "posted | approved | viewed"
        ),
        "partially_paid": _p("partial | partially paid | part paid"),
        "paid": _p("paid | settled | paid in full"),
        "cancelled": _p("void | voided | cancelled | canceled | written off | deleted | bad debt"),
    },
}

NEGATIONS = frozenset(_w("not no non never un"))
