"""Quotes, purchase orders, repeating invoices and linked transactions: documents that post nothing.

Generated, built on demand: ``max(3, scale/10)`` purchase orders and quotes (every status of the
spec's enum), ``max(2, scale/100)`` repeating invoices (monthly schedules; a fifth DRAFT; no
timestamp), ``max(2, scale/50)`` linked transactions (billable expenses: a bill's line linked to
a customer's invoice, every status; BILLED ones name their target).

Rules: Quotes and LinkedTransactions page by 100 (``Paging.PAGE``) and take their own list filters
(``ContactID``, ``QuoteNumber``; ``ContactID``, ``SourceTransactionID``, ``TargetTransactionID``,
``Status``), purchase orders ``ContactIDs``. Created quotes, orders and repeating invoices are
documents with line items (a repeating invoice needs no contact and has no Date); none of them
ever posts; quotes, orders and repeating invoices can be voided (DELETED).
"""

from __future__ import annotations

from xero_sandbox.core.generation import (
    COLLECTION_CODES, Draw, day_date, day_of, day_string, mix, money, ms_date, spread_ms, uuid_of,
)
from xero_sandbox.core.resource import Resource
from xero_sandbox.core.tenant_data import TenantData, lazy_collection, unstamped
from xero_sandbox.resources import contacts
from xero_sandbox.resources.documents import ONE, Core, complete_document, generate_lines, line_items
from xero_sandbox.resources.invoices import invoice_core


def _document(org: TenantData, key: str, k: int, count: int, receivable: bool) -> tuple[dict, Core]:
    draw = Draw(org.key, COLLECTION_CODES[key], k)
    contact = contacts.pick_contact(org, draw.next(), receivable)
    lines = generate_lines(org, draw, receivable)
    core = Core(receivable, "", contact, day_of(k, count), lines)
    return {
        "Contact": contacts.contact_ref(org, contact), "Date": day_date(core.day),
        "LineItems": line_items(org, key, k, lines),
        "SubTotal": money(core.subtotal), "TotalTax": money(core.total_tax), "Total": money(core.total),
        "TotalDiscount": money(0), "CurrencyCode": org.base_currency, "CurrencyRate": ONE,
        "BrandingThemeID": org.branding_themes[0]["BrandingThemeID"],
        "UpdatedDateUTC": ms_date(spread_ms(k, count)),
    }, core


def purchase_order(org: TenantData, k: int) -> dict:
    record, core = _document(org, "PurchaseOrders", k, org.n_purchase_orders, False)
    record.update({
        "PurchaseOrderID": org.ident("PurchaseOrders", k), "PurchaseOrderNumber": f"PO-{k + 1:07d}",
        "Reference": f"Order {k + 1}", "LineAmountTypes": "Exclusive",
        "Status": ("DRAFT", "SUBMITTED", "AUTHORISED", "BILLED", "DELETED")[mix(org.key, 23, k) % 5],
        "DeliveryDate": day_date(core.day + 10), "ExpectedArrivalDate": day_date(core.day + 12),
        "DeliveryAddress": "1 Sandbox Way", "AttentionTo": "Receiving", "Telephone": "5550100",
        "DeliveryInstructions": "Leave at door", "SentToContact": k % 2 == 0, "HasAttachments": False,
    })
    return record


def quote(org: TenantData, k: int) -> dict:
    record, core = _document(org, "Quotes", k, org.n_quotes, True)
    record.update({
        "QuoteID": org.ident("Quotes", k), "QuoteNumber": f"QU-{k + 1:07d}", "Reference": f"Quote {k + 1}",
        "Terms": "Valid for 30 days", "DateString": day_string(core.day),
        "ExpiryDate": day_date(core.day + 30), "ExpiryDateString": day_string(core.day + 30),
        "Status": ("DRAFT", "SENT", "DECLINED", "ACCEPTED", "INVOICED", "DELETED")[mix(org.key, 24, k) % 6],
        "Title": f"Quote for {contacts.contact_name(org, core.contact)[:40]}", "Summary": "Sandbox quote",
        "LineAmountTypes": "EXCLUSIVE",
    })
    record.pop("CurrencyRate")
    return record


def repeating_invoice(org: TenantData, k: int) -> dict:
    receivable = k % 3 != 0
    record, core = _document(org, "RepeatingInvoices", k, org.n_repeating, receivable)
    start = core.day
    record.update({
        "Type": "ACCREC" if receivable else "ACCPAY", "RepeatingInvoiceID": org.ident("RepeatingInvoices", k),
        "ID": org.ident("RepeatingInvoices", k), "LineAmountTypes": "Exclusive", "Reference": f"Monthly {k + 1}",
        "Status": "DRAFT" if k % 5 == 4 else "AUTHORISED", "HasAttachments": False,
        "Schedule": {"Period": 1, "Unit": "MONTHLY", "DueDate": 20, "DueDateType": "OFFOLLOWINGMONTH",
                     "StartDate": day_date(start), "NextScheduledDate": day_date(start + 30)},
        "ApprovedForSending": False, "SendCopy": False, "MarkAsSent": False, "IncludePDF": False,
    })
    for key in ("Date", "UpdatedDateUTC", "TotalDiscount", "CurrencyRate"):
        record.pop(key)
    return record


def linked_transaction(org: TenantData, k: int) -> dict:
    # Billable expenses: a line of a bill (ACCPAY) linked to a sales invoice of a customer.
    source = k * max(1, org.n_invoices // max(org.n_linked, 1)) % org.n_invoices
    core = invoice_core(org, source)
    target = (source + 1) % org.n_invoices
    status = ("APPROVED", "DRAFT", "BILLED", "ONDRAFT", "VOIDED")[k % 5]
    record = {
        "LinkedTransactionID": org.ident("LinkedTransactions", k),
        "SourceTransactionID": org.ident("Invoices", source),
        "SourceLineItemID": uuid_of(
            mix(org.key, COLLECTION_CODES["LineItems"], COLLECTION_CODES["Invoices"], source, 0)),
        "ContactID": org.ident("Contacts", invoice_core(org, target).contact), "Status": status,
        "Type": "BILLABLEEXPENSE", "UpdatedDateUTC": ms_date(spread_ms(k, org.n_linked)),
        "SourceTransactionTypeCode": "ACCPAY" if not core.receivable else "SPEND",
    }
    if status == "BILLED":
        record["TargetTransactionID"] = org.ident("Invoices", target)
        record["TargetLineItemID"] = uuid_of(mix(org.key, COLLECTION_CODES["LineItems"], COLLECTION_CODES["Invoices"],
                                                 target, 0))
    return record


RESOURCES = (
    Resource("LinkedTransactions", lambda org: lazy_collection(org, "LinkedTransactions", org.n_linked,
                                                               linked_transaction, "LinkedTransactionID"),
             list_filters={"contactid": "ContactID", "sourcetransactionid": "SourceTransactionID",
                           "targettransactionid": "TargetTransactionID", "status": "Status"}),
    Resource("PurchaseOrders", lambda org: lazy_collection(org, "PurchaseOrders", org.n_purchase_orders,
                                                           purchase_order, "PurchaseOrderID"),
             list_filters={"contactids": "Contact.ContactID"}, void_statuses=("DELETED", "DELETED"),
             complete=complete_document("PurchaseOrders")),
    Resource("Quotes", lambda org: lazy_collection(org, "Quotes", org.n_quotes, quote, "QuoteID"),
             list_filters={"contactid": "Contact.ContactID", "quotenumber": "QuoteNumber"},
             void_statuses=("DELETED", "DELETED"), complete=complete_document("Quotes", line_amount_types="EXCLUSIVE")),
    Resource("RepeatingInvoices", lambda org: lazy_collection(org, "RepeatingInvoices", org.n_repeating,
                                                              repeating_invoice, "RepeatingInvoiceID",
                                                              stamp=unstamped),
             void_statuses=("DELETED", "DELETED"),
             complete=complete_document("RepeatingInvoices", document_type="ACCREC", contact_required=False,
                                        dated=False)),
)
