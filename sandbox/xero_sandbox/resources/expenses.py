"""Classic expenses: expense claims and receipts (endpoints Xero has retired for most organisations).

Generated eagerly: 3 expense claims and 5 receipts per tenant, never posted. Which tenants still
serve them is the app's business (``SandboxConfig.classic_expenses_tenants``; the others answer
410, or 401 with ``retired_status``; core/app.py, which also keeps them out of
``/_sandbox/counts`` there). A created receipt is a document with line items.
"""

from __future__ import annotations

from xero_sandbox.core.generation import COLLECTION_CODES, Draw, day_date, day_of, money, ms_date, spread_ms
from xero_sandbox.core.resource import Resource
from xero_sandbox.core.tenant_data import TenantData, eager_collection
from xero_sandbox.resources import contacts
from xero_sandbox.resources.documents import Core, complete_document, generate_lines, line_items
from xero_sandbox.resources.settings import user_ref


def generate(org: TenantData) -> None:
    org.expense_claims = [_expense_claim(org, k) for k in range(3)]
    org.receipts = [_receipt(org, k) for k in range(5)]


def _receipt(org: TenantData, k: int) -> dict:
    draw = Draw(org.key, COLLECTION_CODES["Receipts"], k)
    lines = generate_lines(org, draw, receivable=False, max_lines=2)
    core = Core(False, "DRAFT", contacts.pick_contact(org, draw.next(), False), day_of(k, 5), lines)
    return {
        "ReceiptID": org.ident("Receipts", k), "ReceiptNumber": str(k + 1), "Reference": f"Receipt {k + 1}",
        "Status": ("DRAFT", "SUBMITTED", "DECLINED")[k % 3], "User": user_ref(org, k),
        "Contact": contacts.contact_ref(org, core.contact), "Date": day_date(core.day), "LineAmountTypes": "Exclusive",
        "LineItems": line_items(org, "Receipts", k, lines), "SubTotal": money(core.subtotal),
        "TotalTax": money(core.total_tax), "Total": money(core.total),
        "UpdatedDateUTC": ms_date(spread_ms(k, 5)), "HasAttachments": False,
    }


def _expense_claim(org: TenantData, k: int) -> dict:
    receipt = _receipt(org, k)
    status = ("SUBMITTED", "DELETED", "SUBMITTED")[k]
    return {
        "ExpenseClaimID": org.ident("ExpenseClaims", k), "Status": status, "User": user_ref(org, k),
        "Receipts": [{"ReceiptID": receipt["ReceiptID"]}], "Payments": [],
        "UpdatedDateUTC": ms_date(spread_ms(k, 3)), "Total": receipt["Total"],
        "AmountDue": receipt["Total"] if status == "SUBMITTED" else money(0), "AmountPaid": money(0),
    }


RESOURCES = (
    Resource("ExpenseClaims", lambda org: eager_collection(org, "ExpenseClaims", org.expense_claims,
                                                           "ExpenseClaimID", "UpdatedDateUTC")),
    Resource("Receipts", lambda org: eager_collection(org, "Receipts", org.receipts, "ReceiptID", "UpdatedDateUTC"),
             complete=complete_document("Receipts")),
)
