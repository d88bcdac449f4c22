"""Payments, prepayments, overpayments and batch payments.

Generated from the settlements the walk decided (invoices.py): one Payment per paid invoice
(``pay_*`` columns: its invoice, amount, day and bank), one Prepayment or Overpayment per
allocated one (``pre_*``, ``over_*``: total, allocated to one invoice, sometimes credit left
over); a BatchPayment groups three consecutive payments (which carry its ``BatchPaymentID``),
``payments/200`` batches. Every generated payment is AUTHORISED; it posts Dr bank, Cr AR
(ACCPAYPAYMENT mirrored); prepayments and overpayments post Dr bank, Cr AR, their allocation
moves no money.

Rules: a created payment (``{"Invoice": {"InvoiceID"}, "Amount", "Account": {"Code"}, "Date"}``)
needs an AUTHORISED invoice and at most its AmountDue; the invoice's AmountPaid, AmountDue and
Status follow (PAID at zero), and the invoice's webhook event goes out. Voiding a payment marks it
DELETED, reverses its journal and reopens the invoice. A created prepayment or overpayment is a
document with line items and RemainingCredit. Batch payments can be voided (DELETED).
"""

from __future__ import annotations

import copy
from decimal import Decimal

from xero_sandbox.core.generation import (
    CENT, as_ms_date, cents, day_date, day_string, decimal_of, mix, money, ms_date, spread_ms, uuid_of,
)
from xero_sandbox.core.ledger import AP_CODE, AR_CODE, Posting
from xero_sandbox.core.resource import Resource
from xero_sandbox.core.tenant_data import TenantData, lazy_collection
from xero_sandbox.resources import contacts
from xero_sandbox.resources.documents import ONE, complete_document
from xero_sandbox.resources.invoices import invoice_core, invoice_number, payment_bank, payment_day
from xero_sandbox.resources.settings import BANK_CODES, account, account_ref


def group_batches(org: TenantData) -> None:
    """Three payments a batch, ``payments/200`` batches (at least one once there are three payments)."""
    org.n_batches = max(1, org.n_payments // 200) if org.n_payments >= 3 else 0


# ---------------------------------------------------------------- records

def payment(org: TenantData, k: int) -> dict:
    i = org.pay_invoice[k]
    core = invoice_core(org, i)
    amount = money(org.pay_amount[k])
    bank = payment_bank(org, k)
    record = {
        "PaymentID": org.ident("Payments", k),
        "Date": day_date(payment_day(org, k)),
        "Amount": amount, "BankAmount": amount, "CurrencyRate": ONE,
        "Reference": f"Payment {k + 1}",
        "IsReconciled": k % 3 != 0,
        "Status": "AUTHORISED",
        "PaymentType": "ACCRECPAYMENT" if core.receivable else "ACCPAYPAYMENT",
        "UpdatedDateUTC": ms_date(spread_ms(k, org.n_payments)),
        "HasAccount": False, "HasValidationErrors": False,
        "Account": {"AccountID": account(org, bank)["AccountID"], "Code": bank},
        "Invoice": {
            "InvoiceID": org.ident("Invoices", i), "InvoiceNumber": invoice_number(core, i),
            "Type": "ACCREC" if core.receivable else "ACCPAY", "Contact": contacts.contact_ref(org, core.contact),
            "CurrencyCode": org.base_currency, "IsDiscounted": False, "HasErrors": False,
        },
    }
    batch = k // 3
    if batch < org.n_batches:
        record["BatchPaymentID"] = org.ident("BatchPayments", batch)
    return record


def prepayment_like(org: TenantData, key: str, k: int) -> dict:
    """A Prepayment or an Overpayment (``key``) record: the same shape, allocated to one invoice."""
    over = key == "Overpayments"
    invoices, totals, allocated_col = ((org.over_invoice, org.over_total, org.over_allocated) if over else
                                       (org.pre_invoice, org.pre_total, org.pre_allocated))
    i = invoices[k]
    core = invoice_core(org, i)
    total, allocated = totals[k], allocated_col[k]
    side = "RECEIVE" if core.receivable else "SPEND"
    kind = "OVERPAYMENT" if over else "PREPAYMENT"
    counter = AR_CODE if core.receivable else AP_CODE
    record = {
        "Type": f"{side}-{kind}", f"{key[:-1]}ID": org.ident(key, k),
        "Contact": contacts.contact_ref(org, core.contact), "Date": day_date(core.day),
        "Status": "PAID" if allocated == total else "AUTHORISED", "LineAmountTypes": "NoTax",
        "LineItems": [{"Description": kind.title(), "Quantity": Decimal("1.0000"),
                       "UnitAmount": Decimal(total).scaleb(-2), "AccountCode": counter,
                       "AccountID": account(org, counter)["AccountID"], "TaxType": "NONE", "TaxAmount": money(0),
                       "LineAmount": money(total), "Tracking": []}],
        "SubTotal": money(total), "TotalTax": money(0), "Total": money(total),
        "UpdatedDateUTC": ms_date(spread_ms(k, len(totals))),
        "CurrencyCode": org.base_currency, "CurrencyRate": ONE,
        "RemainingCredit": money(total - allocated), "AppliedAmount": money(allocated),
        "Allocations": [{
            "AllocationID": uuid_of(mix(org.key, 19 if over else 22, k, 1)), "Amount": money(allocated),
            "Date": day_date(core.day),
            "Invoice": {"InvoiceID": org.ident("Invoices", i), "InvoiceNumber": invoice_number(core, i)},
        }],
        "Payments": [], "HasAttachments": False,
    }
    if not over:
        record["Reference"] = f"Prepayment {k + 1}"
    return record


def batch_payment(org: TenantData, b: int) -> dict:
    payments = [payment(org, k) for k in range(3 * b, min(3 * b + 3, org.n_payments))]
    total = sum((p["Amount"] for p in payments), Decimal("0.00"))
    receivable = payments[0]["PaymentType"] == "ACCRECPAYMENT"
    day = payment_day(org, 3 * b)
    return {
        "BatchPaymentID": org.ident("BatchPayments", b), "Account": account_ref(org, BANK_CODES[0]),
        "Reference": f"Batch {b + 1}", "Particulars": "Sandbox", "Code": f"B{b:05d}", "Details": "Batch payment",
        "Narrative": "Sandbox batch", "Date": day_date(day), "DateString": day_string(day), "Amount": total,
        "TotalAmount": total, "Type": "RECBATCH" if receivable else "PAYBATCH", "Status": "AUTHORISED",
        "IsReconciled": b % 2 == 0, "UpdatedDateUTC": ms_date(spread_ms(b, org.n_batches)),
        "Payments": [{"PaymentID": p["PaymentID"], "Amount": p["Amount"],
                      "Invoice": {"InvoiceID": p["Invoice"]["InvoiceID"]}} for p in payments],
    }


# ---------------------------------------------------------------- rules

def complete_payment(book, record: dict, creating: bool) -> None:
    if not creating:
        return
    org = book.org
    record["Date"] = as_ms_date(record.get("Date"), book.today())
    given = record.get("Account") or {}
    code = given.get("Code") or org.account_code_by_id.get(str(given.get("AccountID", ""))) or "090"
    record["Account"] = {"AccountID": account(org, code)["AccountID"], "Code": code}
    record["Amount"] = decimal_of(record.get("Amount")).quantize(CENT)
    record.setdefault("Status", "AUTHORISED")
    record.setdefault("CurrencyRate", Decimal("1.000000"))
    record.setdefault("IsReconciled", False)
    record.setdefault("Reference", "")


def payment_posting(record: dict, day: int):
    receivable = record.get("PaymentType", "ACCRECPAYMENT") == "ACCRECPAYMENT"
    bank = (record.get("Account") or {}).get("Code") or "090"
    amount = cents(record.get("Amount"))
    sign = 1 if receivable else -1
    return day, record.get("PaymentType", "ACCRECPAYMENT"), [
        Posting(bank, sign * amount), Posting(AR_CODE if receivable else AP_CODE, -sign * amount)]


def apply_payment(book, payment_record: dict, stamp: int, events: list[dict], sign: int) -> None:
    """A payment created (sign 1) or deleted (-1): the invoice's AmountPaid/AmountDue/Status follow."""
    invoice_ref = payment_record.get("Invoice") or {}
    invoice = book.current("Invoices", str(invoice_ref.get("InvoiceID", "")))
    if invoice is None:
        raise ValueError("Payment must reference an existing invoice by InvoiceID")
    invoice = copy.deepcopy(invoice)
    before = copy.deepcopy(invoice)
    amount = cents(payment_record.get("Amount"))
    if sign > 0:
        if invoice.get("Status") != "AUTHORISED":
            raise ValueError("Payments can only be made against AUTHORISED invoices")
        if amount <= 0 or amount > cents(invoice.get("AmountDue")):
            raise ValueError("Payment amount must be positive and not exceed the invoice's AmountDue")
        invoice.setdefault("Payments", []).append({
            "PaymentID": payment_record["PaymentID"], "Date": payment_record["Date"], "Amount": money(amount),
            "Reference": payment_record.get("Reference", ""), "CurrencyRate": Decimal("1.000000"),
            "HasAccount": False, "HasValidationErrors": False})
    else:
        invoice["Payments"] = [p for p in invoice.get("Payments", [])
                               if p.get("PaymentID") != payment_record["PaymentID"]]
    paid = cents(invoice.get("AmountPaid")) + sign * amount
    due = cents(invoice.get("Total")) - paid - cents(invoice.get("AmountCredited"))
    invoice["AmountPaid"], invoice["AmountDue"] = money(paid), money(due)
    if due == 0:
        invoice["Status"] = "PAID"
        invoice["FullyPaidOnDate"] = payment_record["Date"]
    else:
        invoice["Status"] = "AUTHORISED"
        invoice.pop("FullyPaidOnDate", None)
    receivable = invoice.get("Type") == "ACCREC"
    payment_record["PaymentType"] = "ACCRECPAYMENT" if receivable else "ACCPAYPAYMENT"
    invoice_id = str(invoice["InvoiceID"])
    book.save("Invoices", invoice_id, invoice, stamp, before)
    book.event("Invoices", invoice_id, "UPDATE", stamp, events)


def pay_invoice(book, record: dict, stamp: int, events: list[dict]) -> None:
    apply_payment(book, record, stamp, events, sign=1)


def reopen_invoice(book, record: dict, stamp: int, events: list[dict]) -> None:
    apply_payment(book, record, stamp, events, sign=-1)


RESOURCES = (
    Resource("BatchPayments", lambda org: lazy_collection(org, "BatchPayments", org.n_batches, batch_payment,
                                                          "BatchPaymentID"),
             void_statuses=("DELETED", "DELETED")),
    Resource("Overpayments", lambda org: lazy_collection(
        org, "Overpayments", org.n_overpayments, lambda o, k: prepayment_like(o, "Overpayments", k), "OverpaymentID"),
        complete=complete_document("Overpayments", credit=True)),
    Resource("Payments", lambda org: lazy_collection(org, "Payments", org.n_payments, payment, "PaymentID",
                                                     status_of=lambda k: "AUTHORISED"),
             void_statuses=("DELETED", "DELETED"), posted_statuses=frozenset({"AUTHORISED"}),
             posting_of=payment_posting, complete=complete_payment, on_create=pay_invoice,
             after_void=reopen_invoice),
    Resource("Prepayments", lambda org: lazy_collection(
        org, "Prepayments", org.n_prepayments, lambda o, k: prepayment_like(o, "Prepayments", k), "PrepaymentID"),
        complete=complete_document("Prepayments", credit=True)),
)
