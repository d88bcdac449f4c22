"""Invoices, credit notes, and how every invoice is settled.

Generated: ``scale`` invoices per tenant (60 % ACCREC, 40 % ACCPAY; DRAFT 6 %, SUBMITTED 4 %,
AUTHORISED 30 %, PAID 48 %, VOIDED 5 %, DELETED 7 %; 1-3 lines), built on demand from
``invoice_core``. The walk over the invoices (``journals.lay_out_books``) asks ``settle_invoice``
what each one posts and how it is settled, and keeps the answers in compact columns
(``TenantData.inv_*``, ``pay_*``, ``cn_*``, ``pre_*``, ``over_*``):

- a posted invoice may get an allocated credit note (a twentieth), or a prepayment or an
  overpayment (a twenty-fifth) with credit sometimes left over; then a payment of what is left
  when PAID, a partial one on a third of the AUTHORISED; the first six eligible invoices take one
  settlement of each kind, so even ``scale=20`` serves every collection;
- a fortieth of all invoices gets an unallocated credit note (some DRAFT);
- each settlement's journal follows its invoice's, so journals are numbered in invoice order.
  This module also holds the generated payments' and prepayments' postings, day and bank, which
  the Payment, Prepayment and Overpayment records (payments.py) and the journals (journals.py) read.

``AmountPaid`` = its payments, ``AmountCredited`` = credit notes + prepayments + overpayments
allocated, ``AmountDue = Total - AmountPaid - AmountCredited`` (0 when VOIDED or DELETED). Edge
cases: invoice 7 is dated 1965-03-14; every 13th has no Reference nor BrandingThemeID.

Rules: Invoices filter by ``ContactIDs`` and ``InvoiceNumbers``, credit notes by ``ContactIDs``;
``summaryOnly`` leaves out an invoice's lines and settlements. AUTHORISED and PAID invoices and
credit notes post (ACCREC: Dr AR, Cr lines and tax; ACCPAY mirrored on AP; a credit note the
other way round). A created invoice gets a number, a due date 30 days on, and its totals; the
lines of an invoice with payments cannot change. Voiding an invoice deletes its payments (with
reversing journals) and releases its allocations first, so any invoice can be voided in one
call (Xero would ask for them to be removed first); a draft becomes DELETED. A credit note with
allocations cannot be voided. Every stored invoice change moves its contact's balance.
"""

from __future__ import annotations

import copy
from array import array
from datetime import date
from decimal import Decimal

from xero_sandbox.core.generation import (
    COLLECTION_CODES, Draw, as_ms_date, cents, day_date, day_of, day_of_ms_date, day_string, mix, money, ms_date,
    spread_ms, uuid_of,
)
from xero_sandbox.core.ledger import (
    AP_CODE, AR_CODE, J_CREDIT_NOTE, J_INVOICE, J_OVERPAYMENT, J_PAYMENT, J_PREPAYMENT, Posting, document_postings,
)
from xero_sandbox.core.resource import Resource
from xero_sandbox.core.tenant_data import TenantData, lazy_collection
from xero_sandbox.resources import contacts
from xero_sandbox.resources.documents import (
    ONE, Core, begin, finish, generate_lines, line_items, line_postings, posted_lines, set_date, set_remaining_credit,
)
from xero_sandbox.resources.settings import BANK_CODES, account

INVOICE_STATUS_WEIGHTS = (("DRAFT", 6), ("SUBMITTED", 4), ("AUTHORISED", 30), ("PAID", 48), ("VOIDED", 5),
                          ("DELETED", 7))
STATUS_CODES = ("DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED")
STATUS_CODE = {s: k for k, s in enumerate(STATUS_CODES)}
_STATUS_TABLE = bytes(STATUS_CODE[s] for s, w in INVOICE_STATUS_WEIGHTS for _ in range(w))
POSTED_INVOICE_STATUSES = frozenset({"AUTHORISED", "PAID"})
FORCED_SETTLEMENTS = ("credit", "prepayment", "overpayment", "prepayment", "overpayment", "credit")
PRE_1970_INVOICE_DAY = date(1965, 3, 14).toordinal()
SUMMARY_DROPS = ("LineItems", "Payments", "CreditNotes", "Prepayments", "Overpayments")


# ---------------------------------------------------------------- generated invoices

def invoice_core(org: TenantData, i: int) -> Core:
    cached = org.last_invoice_core  # one entry: the walk asks for the same invoice several times in a row
    if cached[0] == i:
        return cached[1]
    draw = Draw(org.key, COLLECTION_CODES["Invoices"], i)
    bits = draw.next()  # one draw sliced into type, status and contact: construction time matters
    receivable = (bits & 0xFF) % 10 < 6
    status = STATUS_CODES[_STATUS_TABLE[((bits >> 8) & 0xFFFF) % len(_STATUS_TABLE)]]
    contact = contacts.pick_contact(org, bits >> 24, receivable)
    day = PRE_1970_INVOICE_DAY if i == 7 else day_of(i, org.scale)
    core = Core(receivable, status, contact, day, generate_lines(org, draw, receivable))
    org.last_invoice_core = (i, core)
    return core


def invoice_number(core: Core, i: int) -> str:
    return f"INV-{i + 1:07d}" if core.receivable else f"BILL-{i + 1:07d}"


# ---------------------------------------------------------------- settlements (the walk)

def start_settlements(org: TenantData) -> None:
    """Columns for ``scale`` invoices, before the walk settles them one by one (``settle_invoice``)."""
    n = org.scale
    org.inv_status = bytearray(n)
    org.inv_total = array("q", bytes(8 * n))
    org.inv_payment = array("l", [-1]) * n
    org.inv_credit_note = array("l", [-1]) * n
    org.inv_prepay = array("l", [-1]) * n


def settle_invoice(org: TenantData, i: int, eligible: int, journal) -> int:
    """Decide invoice ``i``'s postings and settlements; ``journal(kind, index, day, postings,
    reversal=False)`` lays out each journal in turn. ``eligible``: how many invoices could take a
    settlement before this one; returns the count after it."""
    core = invoice_core(org, i)
    total = core.total
    org.inv_status[i] = STATUS_CODE[core.status]
    org.inv_total[i] = total
    # One hash sliced into every settlement decision of this invoice (bit fields below).
    bits = mix(org.key, COLLECTION_CODES["Invoices"], i, 99)
    if core.status in POSTED_INVOICE_STATUSES or core.status == "VOIDED":
        journal(J_INVOICE, i, core.day, invoice_postings(org, i, core))
    if core.status == "VOIDED":
        journal(J_INVOICE, i, core.day, invoice_postings(org, i, core), True)
    if core.status in POSTED_INVOICE_STATUSES and total > 1:
        # The first eligible invoices take one of each settlement kind, so even a tiny
        # organisation has credit notes, prepayments and overpayments to serve.
        forced = FORCED_SETTLEMENTS[eligible] if eligible < len(FORCED_SETTLEMENTS) else None
        _settle_posted(org, i, core, total, bits, forced, journal)
        eligible += 1
    if ((bits >> 47) & 0x3F) % 40 == 0:  # an unallocated credit note for this invoice's contact
        k = len(org.cn_total)
        org.cn_invoice.append(i)
        org.cn_total.append(100 * (5 + ((bits >> 53) & 0x7FF) % 2000))
        org.cn_allocated.append(0)
        status = "DRAFT" if (bits >> 25) & 3 == 0 else "AUTHORISED"
        org.cn_status.append(STATUS_CODE[status])
        if status == "AUTHORISED":
            journal(J_CREDIT_NOTE, k, core.day, credit_note_postings(org, k))
    return eligible


def _settle_posted(org: TenantData, i: int, core: Core, total: int, bits: int, forced: str | None,
                   journal) -> None:
    """A posted invoice of ``total`` cents: maybe an allocated credit note, prepayment or overpayment,
    then a payment; what stays unpaid is its contact's outstanding balance."""
    remaining = total
    cap = 100 if core.status == "PAID" else 90
    percent = 10 + ((bits >> 8) & 0xFF) % (cap - 9)
    if forced == "credit" or (forced is None and (bits & 0xFF) % 20 == 0):
        amount = max(1, total * percent // 100)
        k = len(org.cn_total)
        org.cn_invoice.append(i)
        org.cn_total.append(amount)
        org.cn_allocated.append(amount)
        org.cn_status.append(STATUS_CODE["PAID"])
        org.inv_credit_note[i] = k
        remaining -= amount
        journal(J_CREDIT_NOTE, k, core.day, credit_note_postings(org, k))
    elif forced is not None or ((bits >> 16) & 0xFF) % 25 == 0:
        amount = max(1, total * percent // 100)
        leftover = 0 if (bits >> 24) & 1 else 100 * (1 + ((bits >> 25) & 0x1FF) % 500)
        overpayment = forced == "overpayment" if forced else bool((bits >> 34) & 1)
        invoices, totals, allocated = ((org.over_invoice, org.over_total, org.over_allocated)
                                       if overpayment else
                                       (org.pre_invoice, org.pre_total, org.pre_allocated))
        k = len(totals)
        invoices.append(i)
        totals.append(amount + leftover)
        allocated.append(amount)
        org.inv_prepay[i] = -(k + 2) if overpayment else k
        remaining -= amount
        journal(J_OVERPAYMENT if overpayment else J_PREPAYMENT, k, core.day,
                prepayment_postings(org, overpayment, k))
    paid = 0
    if core.status == "PAID":
        paid = remaining
    elif ((bits >> 35) & 0x1F) % 3 == 0:
        paid = remaining * (20 + ((bits >> 40) & 0x7F) % 60) // 100
    if paid > 0:
        k = len(org.pay_amount)
        org.pay_invoice.append(i)
        org.pay_amount.append(paid)
        org.inv_payment[i] = k
        journal(J_PAYMENT, k, payment_day(org, k), payment_postings(org, k))
        remaining -= paid
    if remaining:
        (org.contact_receivable if core.receivable else org.contact_payable)[core.contact] += remaining


def close_settlements(org: TenantData) -> None:
    """The settlement counts, once the walk has settled every invoice."""
    org.n_payments = len(org.pay_amount)
    org.n_credit_notes = len(org.cn_total)
    org.n_prepayments = len(org.pre_total)
    org.n_overpayments = len(org.over_total)


# postings of each generated source: one function each, used by the walk and by the journal records
def invoice_postings(org: TenantData, i: int, core: Core | None = None) -> list[Posting]:
    core = core or invoice_core(org, i)
    counter = AR_CODE if core.receivable else AP_CODE
    return document_postings(counter, line_postings(org, core.lines), 1 if core.receivable else -1)


def credit_note_postings(org: TenantData, k: int) -> list[Posting]:
    receivable, account_code = credit_note_side(org, k)
    return document_postings(AR_CODE if receivable else AP_CODE,
                             [Posting(account_code, org.cn_total[k])], -1 if receivable else 1)


def prepayment_postings(org: TenantData, overpayment: bool, k: int) -> list[Posting]:
    receivable = prepayment_receivable(org, overpayment, k)
    total = (org.over_total if overpayment else org.pre_total)[k]
    sign = 1 if receivable else -1
    return [Posting(BANK_CODES[0], sign * total), Posting(AR_CODE if receivable else AP_CODE, -sign * total)]


def payment_postings(org: TenantData, k: int) -> list[Posting]:
    receivable = invoice_core(org, org.pay_invoice[k]).receivable
    amount = org.pay_amount[k]
    sign = 1 if receivable else -1
    return [Posting(payment_bank(org, k), sign * amount), Posting(AR_CODE if receivable else AP_CODE, -sign * amount)]


def credit_note_side(org: TenantData, k: int) -> tuple[bool, str]:
    """(sales side, account of the invoice's first line) of generated credit note ``k``."""
    core = invoice_core(org, org.cn_invoice[k])
    return core.receivable, core.lines[0].account


def prepayment_receivable(org: TenantData, overpayment: bool, k: int) -> bool:
    invoice_index = (org.over_invoice if overpayment else org.pre_invoice)[k]
    return invoice_core(org, invoice_index).receivable


def payment_day(org: TenantData, k: int) -> int:
    core_day = invoice_core(org, org.pay_invoice[k]).day
    return core_day + mix(org.key, 21, k) % 30


def payment_bank(org: TenantData, k: int) -> str:
    return BANK_CODES[mix(org.key, 22, k) % 2]


# ---------------------------------------------------------------- records

def invoice(org: TenantData, i: int) -> dict:
    core = invoice_core(org, i)
    total = org.inv_total[i]
    due_day = core.day + 14 + (i % 3) * 8
    record = {
        "Type": "ACCREC" if core.receivable else "ACCPAY",
        "InvoiceID": org.ident("Invoices", i),
        "InvoiceNumber": invoice_number(core, i),
        "Reference": f"PO-{mix(org.key, 12, i) % 100000:05d}" if i % 4 else "",
        "Contact": contacts.contact_ref(org, core.contact),
        "Date": day_date(core.day), "DateString": day_string(core.day),
        "DueDate": day_date(due_day), "DueDateString": day_string(due_day),
        "Status": core.status,
        "LineAmountTypes": "Exclusive",
        "LineItems": line_items(org, "Invoices", i, core.lines),
        "SubTotal": money(core.subtotal), "TotalTax": money(core.total_tax), "Total": money(total),
        "TotalDiscount": money(0),
        "UpdatedDateUTC": ms_date(spread_ms(i, org.n_invoices)),
        "CurrencyCode": org.base_currency, "CurrencyRate": ONE,
        "BrandingThemeID": org.branding_themes[i % 2]["BrandingThemeID"],
        "SentToContact": core.receivable and core.status in ("AUTHORISED", "PAID"),
        "IsDiscounted": False, "HasAttachments": False, "HasErrors": False,
        "Payments": [], "Prepayments": [], "Overpayments": [], "CreditNotes": [],
    }
    paid, credited = _add_settlements(org, i, core, record)
    record["AmountPaid"] = money(paid)
    record["AmountCredited"] = money(credited)
    # Voided and deleted invoices owe nothing; otherwise Due = Total - paid - credited.
    record["AmountDue"] = money(0 if core.status in ("VOIDED", "DELETED") else total - paid - credited)
    if core.status == "PAID":
        last = payment_day(org, org.inv_payment[i]) if org.inv_payment[i] >= 0 else core.day
        record["FullyPaidOnDate"] = day_date(last)
    if i % 11 == 3:
        record["ExpectedPaymentDate"] = day_date(due_day + 7)
    if i % 13 == 5:  # null/absent optional fields: no Reference, no branding
        del record["Reference"], record["BrandingThemeID"]
    return record


def _add_settlements(org: TenantData, i: int, core: Core, record: dict) -> tuple[int, int]:
    """Invoice ``i``'s payment, credit note, prepayment or overpayment summaries; (paid, credited) cents."""
    paid = credited = 0
    k = org.inv_payment[i]
    if k >= 0:
        paid = org.pay_amount[k]
        record["Payments"] = [{
            "PaymentID": org.ident("Payments", k), "Date": day_date(payment_day(org, k)), "Amount": money(paid),
            "Reference": f"Payment {k + 1}", "CurrencyRate": ONE, "HasAccount": False, "HasValidationErrors": False,
        }]
    k = org.inv_credit_note[i]
    if k >= 0:
        credited += org.cn_allocated[k]
        record["CreditNotes"] = [{
            "CreditNoteID": org.ident("CreditNotes", k), "CreditNoteNumber": f"CN-{k + 1:07d}",
            "AppliedAmount": money(org.cn_allocated[k]), "Date": day_date(core.day), "Total": money(org.cn_total[k]),
            "HasErrors": False,
        }]
    k = org.inv_prepay[i]
    if k != -1:
        over = k <= -2
        k = -(k + 2) if over else k
        amount = (org.over_allocated if over else org.pre_allocated)[k]
        credited += amount
        key = "Overpayments" if over else "Prepayments"
        record[key] = [{f"{key[:-1]}ID": org.ident(key, k), "AppliedAmount": money(amount),
                        "Date": day_date(core.day), "Total": money((org.over_total if over else org.pre_total)[k])}]
    return paid, credited


def credit_note(org: TenantData, k: int) -> dict:
    i = org.cn_invoice[k]
    core = invoice_core(org, i)
    receivable, account_code = credit_note_side(org, k)
    status = STATUS_CODES[org.cn_status[k]]
    total = org.cn_total[k]
    allocated = org.cn_allocated[k]
    acc = account(org, account_code)
    record = {
        "Type": "ACCRECCREDIT" if receivable else "ACCPAYCREDIT",
        "CreditNoteID": org.ident("CreditNotes", k), "CreditNoteNumber": f"CN-{k + 1:07d}",
        "Reference": f"Credit for {invoice_number(core, i)}",
        "Contact": contacts.contact_ref(org, core.contact),
        "Date": day_date(core.day), "DueDate": day_date(core.day + 30), "Status": status,
        "LineAmountTypes": "Exclusive",
        "LineItems": [{
            "LineItemID": uuid_of(mix(org.key, COLLECTION_CODES["LineItems"], COLLECTION_CODES["CreditNotes"], k)),
            "Description": "Credit", "Quantity": Decimal("1.0000"), "UnitAmount": Decimal(total).scaleb(-2),
            "AccountCode": account_code, "AccountID": acc["AccountID"], "TaxType": "NONE", "TaxAmount": money(0),
            "LineAmount": money(total), "Tracking": [],
        }],
        "SubTotal": money(total), "TotalTax": money(0), "Total": money(total),
        "UpdatedDateUTC": ms_date(spread_ms(k, org.n_credit_notes)),
        "CurrencyCode": org.base_currency, "CurrencyRate": ONE,
        "RemainingCredit": money(total - allocated), "AppliedAmount": money(allocated),
        "Allocations": [], "Payments": [], "SentToContact": False, "HasAttachments": False, "HasErrors": False,
    }
    if allocated:
        record["Allocations"] = [{
            "AllocationID": uuid_of(mix(org.key, 9, k, 1)), "Amount": money(allocated), "Date": day_date(core.day),
            "Invoice": {"InvoiceID": org.ident("Invoices", i), "InvoiceNumber": invoice_number(core, i)},
        }]
        record["FullyPaidOnDate"] = day_date(core.day)
    return record


# ---------------------------------------------------------------- rules

def complete_invoice(book, record: dict, creating: bool) -> None:
    today = book.today()
    begin(book, record, creating, document_type="ACCREC")
    set_date(record, today)
    record["DateString"] = day_string(day_of_ms_date(record["Date"], today))
    if creating or record.get("DueDate"):
        record["DueDate"] = as_ms_date(record.get("DueDate"), day_of_ms_date(record["Date"], today) + 30)
        record["DueDateString"] = day_string(day_of_ms_date(record["DueDate"], today))
    if creating:
        prefix = "INV" if record.get("Type") == "ACCREC" else "BILL"
        record.setdefault("InvoiceNumber", f"{prefix}-N{book.created['Invoices']:06d}")
        for list_field in ("Payments", "CreditNotes", "Prepayments", "Overpayments"):
            record.setdefault(list_field, [])
    total = finish(book, "Invoices", record)
    paid, credited = cents(record.get("AmountPaid")), cents(record.get("AmountCredited"))
    record["AmountPaid"], record["AmountCredited"] = money(paid), money(credited)
    due = total - paid - credited
    if due < 0:
        raise ValueError("The invoice total cannot be less than what was paid and credited")
    record["AmountDue"] = money(0 if record.get("Status") in ("VOIDED", "DELETED") else due)


def complete_credit_note(book, record: dict, creating: bool) -> None:
    today = book.today()
    begin(book, record, creating, document_type="ACCRECCREDIT")
    set_date(record, today)
    if creating:
        record.setdefault("CreditNoteNumber", f"CN-N{book.created['CreditNotes']:06d}")
        record.setdefault("Allocations", [])
    set_remaining_credit(record, finish(book, "CreditNotes", record))


def invoice_posting(record: dict, day: int):
    typ = record.get("Type", "")
    receivable = typ == "ACCREC"
    return day, typ, document_postings(AR_CODE if receivable else AP_CODE, posted_lines(record),
                                       1 if receivable else -1)


def credit_note_posting(record: dict, day: int):
    typ = record.get("Type", "")
    receivable = typ == "ACCRECCREDIT"
    return day, typ, document_postings(AR_CODE if receivable else AP_CODE, posted_lines(record),
                                       -1 if receivable else 1)


def refuse_line_changes_when_paid(record: dict, fields: dict) -> None:
    if "LineItems" in fields and cents(record.get("AmountPaid")):
        raise ValueError("Invoice has payments: its line items cannot be changed")


def release_settlements(book, invoice_record: dict, stamp: int, events: list[dict]) -> None:
    """Before an invoice is voided: delete its payments and undo its allocations.

    Xero refuses to void an invoice that has payments until they are removed; the sandbox
    removes them itself (each deleted payment gets its reversing journal) so that any
    invoice can be voided in one call. Allocations carry no journal of their own here.
    """
    invoice_id = str(invoice_record.get("InvoiceID"))
    payments = [book.current("Payments", str(summary.get("PaymentID")))
                for summary in invoice_record.get("Payments") or []]
    payments = [p for p in payments if p is not None and p.get("Status") != "DELETED"]
    book.refuse_locked("Payments", *payments)  # before anything changes: all or nothing
    for current in payments:
        before, payment = copy.deepcopy(current), copy.deepcopy(current)
        payment["Status"] = "DELETED"
        book.post_changes("Payments", before, payment, stamp)
        book.save("Payments", str(payment["PaymentID"]), payment, stamp, before)
    for key, list_field, id_field in (("CreditNotes", "CreditNotes", "CreditNoteID"),
                                      ("Prepayments", "Prepayments", "PrepaymentID"),
                                      ("Overpayments", "Overpayments", "OverpaymentID")):
        for summary in invoice_record.get(list_field) or []:
            current = book.current(key, str(summary.get(id_field)))
            if current is None:
                continue
            before, credit = copy.deepcopy(current), copy.deepcopy(current)
            released = sum(cents(a.get("Amount")) for a in credit.get("Allocations") or []
                           if (a.get("Invoice") or {}).get("InvoiceID") == invoice_id)
            credit["Allocations"] = [a for a in credit.get("Allocations") or []
                                     if (a.get("Invoice") or {}).get("InvoiceID") != invoice_id]
            credit["AppliedAmount"] = money(cents(credit.get("AppliedAmount")) - released)
            credit["RemainingCredit"] = money(cents(credit.get("RemainingCredit")) + released)
            if credit.get("Status") == "PAID":
                credit["Status"] = "AUTHORISED"
                credit.pop("FullyPaidOnDate", None)
            book.post_changes(key, before, credit, stamp)
            book.save(key, str(credit[id_field]), credit, stamp, before)
            book.event(key, str(credit[id_field]), "UPDATE", stamp, events)
    for list_field in ("Payments", "CreditNotes", "Prepayments", "Overpayments"):
        invoice_record[list_field] = []
    invoice_record["AmountPaid"] = invoice_record["AmountCredited"] = money(0)
    invoice_record.pop("FullyPaidOnDate", None)


def owe_nothing(book, record: dict, stamp: int, events: list[dict]) -> None:
    """A voided invoice owes nothing."""
    record["AmountDue"] = money(0)


def refuse_allocated(book, record: dict, stamp: int, events: list[dict]) -> None:
    if record.get("Allocations") or cents(record.get("AppliedAmount")):
        raise ValueError("Allocations must be removed before voiding a credit note")


POSTED = frozenset({"AUTHORISED", "PAID"})

RESOURCES = (
    Resource("CreditNotes", lambda org: lazy_collection(org, "CreditNotes", org.n_credit_notes, credit_note,
                                                        "CreditNoteID",
                                                        status_of=lambda k: STATUS_CODES[org.cn_status[k]]),
             list_filters={"contactids": "Contact.ContactID"}, void_statuses=("VOIDED", "DELETED"),
             posted_statuses=POSTED, posting_of=credit_note_posting, complete=complete_credit_note,
             before_void=refuse_allocated),
    Resource("Invoices", lambda org: lazy_collection(org, "Invoices", org.n_invoices, invoice, "InvoiceID",
                                                     status_of=lambda i: STATUS_CODES[org.inv_status[i]]),
             list_filters={"contactids": "Contact.ContactID", "invoicenumbers": "InvoiceNumber"},
             summary_drops=SUMMARY_DROPS, void_statuses=("VOIDED", "DELETED"), posted_statuses=POSTED,
             posting_of=invoice_posting, complete=complete_invoice, check_update=refuse_line_changes_when_paid,
             before_void=release_settlements, after_void=owe_nothing, after_save=contacts.follow_invoice),
)
