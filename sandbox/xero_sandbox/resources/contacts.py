"""Contacts and contact groups.

Generated: ``max(20, scale/10)`` contacts, built on demand; index % 3 == 0 are suppliers, the
others customers; every 17th (index % 17 == 5) is ARCHIVED. Edge cases: contact 1 has a unicode
name, contact 2 a 255-character one, contact 3 only the required fields. Four contact groups
(one DELETED), generated with the reference data.

Rules:

- ``ContactStatus`` is the status field; ARCHIVED contacts are hidden without ``includeArchived``;
  ``summaryOnly`` leaves out addresses, phones, persons, groups, terms
  and balances; contacts can be archived; a created contact needs a Name.
- ``Balances`` are computed when served: the outstanding ``AmountDue`` of the contact's posted
  invoices (everything generated is older than today, so Overdue = Outstanding). They follow
  invoice changes (``follow_invoice``, called after an invoice is stored) without bumping the
  contact's ``UpdatedDateUTC``, as in Xero.
"""

from __future__ import annotations

from xero_sandbox.core.generation import COLLECTION_CODES, Draw, cents, mix, money, ms_date, spread_ms
from xero_sandbox.core.resource import Resource
from xero_sandbox.core.tenant_data import TenantData, eager_collection, lazy_collection
from xero_sandbox.resources.settings import PEOPLE

NAME_FIRST = ("Acme", "Bayside", "Cobalt", "Delta", "Evergreen", "Foxglove", "Granite", "Harbour", "Ironbark",
              "Juniper", "Kestrel", "Lighthouse", "Meridian", "Northwind", "Orchard", "Pinnacle", "Quarry",
              "Riverside", "Summit", "Tidewater")
NAME_SECOND = ("Supplies", "Consulting", "Electrical", "Bakery", "Logistics", "Design", "Hardware", "Media",
               "Plumbing", "Traders", "Software", "Catering")
NAME_SUFFIX = ("Ltd", "Pty Ltd", "& Co", "Group", "Limited", "LLC")
UNICODE_CONTACT_NAME = "Zoë Ångström & Søn — 東京支店 🍣"
LONG_CONTACT_NAME = ("The Extraordinarily Long-Named International Holding Company of Widgets, Gadgets, "
                     "Sprockets and Assorted Miscellaneous Engineering Components (Asia-Pacific Region) ") * 2
LONG_CONTACT_NAME = LONG_CONTACT_NAME[:255].rstrip()
SUMMARY_DROPS = ("Addresses", "Phones", "ContactPersons", "ContactGroups", "PaymentTerms", "BatchPayments",
                 "Balances")


def generate_groups(org: TenantData) -> None:
    org.contact_groups = [{
        "ContactGroupID": org.ident("ContactGroups", k), "Name": name, "Status": status, "Contacts": [],
    } for k, (name, status) in enumerate((("Preferred Customers", "ACTIVE"), ("Suppliers", "ACTIVE"),
                                          ("Grüppe Ω", "ACTIVE"), ("Old group", "DELETED")))]


def contact_name(org: TenantData, c: int) -> str:
    if c == 1:
        return UNICODE_CONTACT_NAME
    if c == 2:
        return LONG_CONTACT_NAME
    draw = Draw(org.key, COLLECTION_CODES["Contacts"], c)
    return f"{draw.pick(NAME_FIRST)} {draw.pick(NAME_SECOND)} {draw.pick(NAME_SUFFIX)} {c}"


def contact_status(c: int) -> str:
    return "ARCHIVED" if c % 17 == 5 else "ACTIVE"


def contact_ref(org: TenantData, c: int) -> dict:
    return {"ContactID": org.ident("Contacts", c), "Name": contact_name(org, c)}


def pick_contact(org: TenantData, value: int, receivable: bool) -> int:
    """A contact for a document: a customer on the sales side, a supplier (index % 3 == 0) otherwise."""
    c = value % org.n_contacts
    if receivable:
        return c if c % 3 else (c + 1) % org.n_contacts or 1
    return (c // 3) * 3


def contact(org: TenantData, c: int) -> dict:
    draw = Draw(org.key, COLLECTION_CODES["Contacts"], c, 1)
    first, last = draw.pick(PEOPLE)
    supplier = c % 3 == 0
    record = {
        "ContactID": org.ident("Contacts", c), "ContactNumber": f"C{c:07d}",
        "ContactStatus": contact_status(c), "Name": contact_name(org, c),
        "IsSupplier": supplier, "IsCustomer": not supplier,
        "UpdatedDateUTC": ms_date(spread_ms(c, org.n_contacts)), "HasAttachments": False,
        "HasValidationErrors": False, "ContactGroups": [], "ContactPersons": [], "Addresses": [], "Phones": [],
    }
    if c == 3:  # a contact with every optional field absent
        return record
    record.update({
        "AccountNumber": f"ACC-{c:06d}", "FirstName": first, "LastName": last,
        "EmailAddress": f"{last.lower()}.{c}@example.com",
        "Addresses": [{"AddressType": "POBOX", "AddressLine1": f"PO Box {c}", "City": "Auckland",
                       "PostalCode": f"{1000 + c % 9000}", "Country": org.country},
                      {"AddressType": "STREET"}],
        "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": f"555{c % 10000:04d}", "PhoneAreaCode": "09",
                    "PhoneCountryCode": "64"}, {"PhoneType": "MOBILE"}],
        "DefaultCurrency": org.base_currency,
        "ContactGroups": [{k: g[k] for k in ("ContactGroupID", "Name", "Status")}
                          for g in org.contact_groups[(1 if supplier else 0):(2 if supplier else 1)]],
        "PaymentTerms": {"Sales": {"Day": 14, "Type": "DAYSAFTERBILLDATE"}} if c % 4 == 1 else {},
    })
    if c % 5 == 0:
        record["ContactPersons"] = [{"FirstName": "Chris", "LastName": f"Contact{c}",
                                     "EmailAddress": f"chris.{c}@example.com", "IncludeInEmails": True}]
    if c % 7 == 0:
        record["TaxNumber"] = f"{mix(org.key, c) % 10**9:09d}"
    if supplier:
        record["PurchasesDefaultAccountCode"] = "429"
        record["BatchPayments"] = {"BankAccountNumber": f"12-3456-{c:07d}-00", "BankAccountName": "Payee",
                                   "Details": "Sandbox"}
    else:
        record["SalesDefaultAccountCode"] = "200"
    return record


# ---------------------------------------------------------------- balances

def balances(org: TenantData, contact_id: str) -> dict:
    index = org.collections["Contacts"].index_of(contact_id)
    if index is not None and index < org.n_contacts:
        receivable, payable = org.contact_receivable[index], org.contact_payable[index]
    else:
        receivable, payable = org.extra_balances.get(contact_id.lower(), [0, 0])
    # Everything generated is dated before the anchor, so all that is outstanding is overdue.
    return {"AccountsReceivable": {"Outstanding": money(receivable), "Overdue": money(receivable)},
            "AccountsPayable": {"Outstanding": money(payable), "Overdue": money(payable)}}


def show_balances(book, record: dict, query) -> None:
    if not query.summary_only:
        record["Balances"] = balances(book.org, record.get("ContactID", ""))


def follow_invoice(book, before: dict | None, after: dict) -> None:
    """An invoice changed: its contact's outstanding balance follows (the contact is not bumped)."""
    def outstanding(record: dict | None) -> int:
        if not record or record.get("Status") not in ("AUTHORISED", "PAID"):
            return 0
        return cents(record.get("AmountDue"))
    delta = outstanding(after) - outstanding(before)
    if not delta:
        return
    contact_id = str((after.get("Contact") or {}).get("ContactID", "")).lower()
    slot = 0 if after.get("Type") == "ACCREC" else 1
    org = book.org
    index = org.collections["Contacts"].index_of(contact_id)
    if index is not None and index < org.n_contacts:
        (org.contact_receivable if slot == 0 else org.contact_payable)[index] += delta
    else:
        org.extra_balances.setdefault(contact_id, [0, 0])[slot] += delta


def complete_contact(book, record: dict, creating: bool) -> None:
    if not record.get("Name"):
        raise ValueError("Contact name is required")
    record.setdefault("ContactStatus", "ACTIVE")
    record.setdefault("IsSupplier", False)
    record.setdefault("IsCustomer", False)
    for list_field in ("Addresses", "Phones", "ContactPersons", "ContactGroups"):
        record.setdefault(list_field, [])
    record.setdefault("HasAttachments", False)


RESOURCES = (
    Resource("ContactGroups", lambda org: eager_collection(org, "ContactGroups", org.contact_groups,
                                                           "ContactGroupID", None)),
    Resource("Contacts", lambda org: lazy_collection(org, "Contacts", org.n_contacts, contact, "ContactID",
                                                     status_of=contact_status),
             status_field="ContactStatus", hidden_status="ARCHIVED", shown_by="include_archived",
             summary_drops=SUMMARY_DROPS, present=show_balances, archive_field="ContactStatus",
             complete=complete_contact),
)
