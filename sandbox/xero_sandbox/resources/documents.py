"""What every document with line items shares: its lines, generated and created.

Documents with line items: invoices and credit notes (invoices.py), bank transactions (bank.py),
prepayments and overpayments (payments.py), quotes, purchase orders and repeating invoices
(quotes_and_orders.py), receipts (expenses.py).

Generated side: ``Core`` is what one generated document is before it becomes a dict (side,
status, contact, day, ``Line`` tuples); ``generate_lines`` draws 1..3 lines (items or free
lines, fractional quantities, exempt tax, Region tracking); ``line_items`` turns them into
Xero's LineItem dicts (UnitAmount with 4 decimals: the query engine rounds it unless
``unitdp=4``; LineAmount always from the 4 decimals); ``line_postings`` into ledger postings.

Created or updated side (a family's ``complete`` hook): ``begin`` sets the document's default
Type and Status and links its contact (which must exist); ``set_date`` reads the date a client
sent; ``finish`` defaults LineAmountTypes and the currency and computes every line and the
totals (Exclusive, Inclusive or NoTax, half-up rounding; an unknown account code or tax type is
refused); ``complete_document`` is the whole hook for a document with nothing else of its own.
``posted_lines`` reads the lines of a stored document back as postings.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from tap_xero import endpoints
from xero_sandbox.core.generation import (
    CENT, COLLECTION_CODES, Draw, as_ms_date, cents, decimal_of, half_up, mix, money, uuid_of,
)
from xero_sandbox.core.ledger import Posting
from xero_sandbox.core.tenant_data import TenantData
from xero_sandbox.resources.settings import (
    EXPENSE_CODES, ITEMS, REGION_OPTIONS, REVENUE_CODES, TAX_BP, account, tracking_ref,
)

ONE = Decimal("1.000000")  # CurrencyRate of documents in the base currency


class Line(NamedTuple):
    """One generated line item, in integer units (net and tax computed once, by ``make_line``)."""

    account: str
    item: int  # index into ITEMS, -1 for none
    qty_e4: int
    unit_e4: int
    tax_type: str
    tracking: int  # Region option index, -1 for none
    description: str
    net: int  # cents: quantity x unit amount, rounded half up
    tax: int  # cents: net x rate, rounded half up


def make_line(account_code: str, item: int, qty_e4: int, unit_e4: int, tax_type: str, tracking: int,
              description: str) -> Line:
    net = half_up(qty_e4 * unit_e4, 1_000_000)
    return Line(account_code, item, qty_e4, unit_e4, tax_type, tracking, description, net,
                half_up(net * TAX_BP.get(tax_type, 0), 10_000))


class Core(NamedTuple):
    """What one generated document is, before it becomes a Xero-shaped dict."""

    receivable: bool  # sales side (ACCREC, RECEIVE, ...)
    status: str
    contact: int
    day: int
    lines: tuple[Line, ...]

    @property
    def subtotal(self) -> int:
        return sum(line.net for line in self.lines)

    @property
    def total_tax(self) -> int:
        return sum(line.tax for line in self.lines)

    @property
    def total(self) -> int:
        return self.subtotal + self.total_tax


# ---------------------------------------------------------------- generated lines

def generate_lines(org: TenantData, draw: Draw, receivable: bool, max_lines: int = 3) -> tuple[Line, ...]:
    # One 64-bit draw per line, sliced into fields: construction time is dominated by this.
    accounts_by_code = org.accounts_by_code
    lines = []
    for _ in range(1 + draw.below(max_lines)):
        bits = draw.next()
        item = (bits & 0xFF) % (len(ITEMS) + 4)
        if item < len(ITEMS) and (receivable or ITEMS[item][3]):
            code, name, sales, purchase, sales_acc, purchase_acc = ITEMS[item]
            unit, account_code, description = (sales, sales_acc, name) if receivable else (purchase, purchase_acc, name)
        else:
            item = -1
            codes = REVENUE_CODES if receivable else EXPENSE_CODES
            account_code = codes[(bits >> 8 & 0xFF) % len(codes)]
            unit = (100 + (bits >> 16 & 0xFFFFF) % 200_000) * 100
            description = f"{'Services' if receivable else 'Purchase'} ref {(bits >> 36 & 0xFFFFF) % 100000:05d}"
        qty = (1 + (bits >> 56 & 0xF) % 12) * 10_000
        if (bits >> 60) % 9 == 0:
            qty += 5_000  # fractional quantities happen
        tax_type = accounts_by_code[account_code]["TaxType"]
        if tax_type in ("OUTPUT", "INPUT"):
            tax_type = "OUTPUT" if receivable else "INPUT"
            if (bits >> 52 & 0xF) % 10 == 0:
                tax_type = "EXEMPTOUTPUT" if receivable else "EXEMPTEXPENSES"
        tracking = (bits >> 48 & 0xF) % (REGION_OPTIONS + 2)
        lines.append(make_line(account_code, item, qty, unit, tax_type, tracking if tracking < REGION_OPTIONS else -1,
                               description))
    return tuple(lines)


def line_items(org: TenantData, owner_key: str, owner_index: int, lines: tuple[Line, ...]) -> list[dict]:
    """Xero LineItem dicts (UnitAmount keeps 4 decimals; the query engine rounds it unless unitdp=4)."""
    out = []
    for k, line in enumerate(lines):
        item = {
            "LineItemID": uuid_of(mix(org.key, COLLECTION_CODES["LineItems"], COLLECTION_CODES[owner_key],
                                      owner_index, k)),
            "Description": line.description,
            "Quantity": Decimal(line.qty_e4).scaleb(-4).normalize() if line.qty_e4 % 10_000 else
            Decimal(line.qty_e4 // 10_000).quantize(Decimal("0.0001")),
            "UnitAmount": Decimal(line.unit_e4).scaleb(-4),
            "AccountCode": line.account,
            "AccountID": org.accounts_by_code[line.account]["AccountID"],
            "TaxType": line.tax_type,
            "TaxAmount": money(line.tax),
            "LineAmount": money(line.net),
            "Tracking": [],
        }
        if line.item >= 0:
            code, name = ITEMS[line.item][:2]
            item["ItemCode"] = code
            item["Item"] = {"ItemID": org.ident("Items", line.item), "Code": code, "Name": name}
        if line.tracking >= 0:
            cat_id, opt_id, name, option = tracking_ref(org, line.tracking)
            item["Tracking"] = [{"TrackingCategoryID": cat_id, "TrackingOptionID": opt_id, "Name": name,
                                 "Option": option}]
        out.append(item)
    return out


def line_postings(org: TenantData, lines: tuple[Line, ...]) -> list[Posting]:
    refs = org.region_refs
    return [Posting(line.account, line.net, line.tax, line.tax_type,
                    refs[line.tracking] if line.tracking >= 0 else None) for line in lines]


# ---------------------------------------------------------------- created and updated documents

def begin(book, record: dict, creating: bool, *, document_type: str | None = None, status: str = "DRAFT",
          contact_required: bool = True) -> None:
    """Default Type and Status, and the contact link (required on create unless told otherwise)."""
    if document_type:
        record.setdefault("Type", document_type)
    record.setdefault("Status", status)
    contact = record.get("Contact")
    if isinstance(contact, dict) and contact.get("ContactID"):
        found = book.current("Contacts", str(contact["ContactID"]))
        if found is None:
            raise ValueError(f"Contact {contact['ContactID']} does not exist")
        record["Contact"] = {"ContactID": found["ContactID"], "Name": found.get("Name")}
    elif creating and contact_required:
        raise ValueError("A Contact with a ContactID is required")


def set_date(record: dict, today: int) -> None:
    record["Date"] = as_ms_date(record.get("Date"), today)


def fill_account(org: TenantData, line: dict) -> None:
    """A line's account, by AccountCode or AccountID; an unknown one is refused."""
    code = line.get("AccountCode") or org.account_code_by_id.get(str(line.get("AccountID", "")))
    if code not in org.accounts_by_code:
        raise ValueError(f"Account code '{code}' is not a valid code for this organisation")
    line["AccountCode"] = code
    line["AccountID"] = account(org, code)["AccountID"]


def finish(book, key: str, record: dict, line_amount_types: str = "Exclusive") -> int:
    """Default LineAmountTypes and currency, compute lines and totals; returns the Total in cents."""
    record.setdefault("LineAmountTypes", line_amount_types)
    record.setdefault("CurrencyCode", book.org.base_currency)
    return _totals(book.org, key, record)


def _totals(org: TenantData, key: str, record: dict) -> int:
    mode = str(record.get("LineAmountTypes", "Exclusive")).upper()
    subtotal = tax_total = 0
    for n, line in enumerate(record.get("LineItems") or []):
        fill_account(org, line)
        quantity = decimal_of(line.get("Quantity"), "1")
        unit = decimal_of(line.get("UnitAmount"))
        line["Quantity"], line["UnitAmount"] = quantity, unit
        amount = (quantity * unit).quantize(CENT, rounding=ROUND_HALF_UP)
        tax_type = line.get("TaxType") or account(org, line["AccountCode"]).get("TaxType") or "NONE"
        if tax_type not in TAX_BP:
            raise ValueError(f"TaxType '{tax_type}' is not valid")
        line["TaxType"] = tax_type
        rate = Decimal(TAX_BP[tax_type]) / 10000
        if mode == "NOTAX":
            tax = Decimal("0.00")
        elif mode == "INCLUSIVE":
            tax = (amount - amount / (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
        else:
            tax = (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        line["LineAmount"], line["TaxAmount"] = amount, tax
        # hash() of a str varies per process (PYTHONHASHSEED): created line IDs are not reproducible.
        line.setdefault("LineItemID", uuid_of(mix(org.key, COLLECTION_CODES["LineItems"], hash(
            str(record.get(endpoints.BY_ENVELOPE[key].id_field))) & 0xFFFFFFFF, n)))
        line.setdefault("Tracking", [])
        net = cents(amount) - (cents(tax) if mode == "INCLUSIVE" else 0)
        subtotal += net
        tax_total += cents(tax)
    record["SubTotal"], record["TotalTax"], record["Total"] = money(subtotal), money(tax_total), \
        money(subtotal + tax_total)
    return subtotal + tax_total


def set_remaining_credit(record: dict, total: int) -> None:
    """Credit notes, prepayments, overpayments: what is not yet applied."""
    record["RemainingCredit"] = money(total - cents(record.get("AppliedAmount")))


def complete_document(key: str, *, document_type: str | None = None, contact_required: bool = True,
                      dated: bool = True, line_amount_types: str = "Exclusive", credit: bool = False):
    """The ``complete`` hook of a document with nothing of its own beyond the shared steps."""
    def complete(book, record: dict, creating: bool) -> None:
        today = book.today()
        begin(book, record, creating, document_type=document_type, contact_required=contact_required)
        if dated:
            set_date(record, today)
        total = finish(book, key, record, line_amount_types)
        if credit:
            set_remaining_credit(record, total)
    return complete


def posted_lines(record: dict) -> list[Posting]:
    """A stored document's line items as postings (net of tax when amounts include it)."""
    lines = []
    inclusive = record.get("LineAmountTypes") == "Inclusive"
    for line in record.get("LineItems") or []:
        tax = cents(line.get("TaxAmount"))
        net = cents(line.get("LineAmount")) - (tax if inclusive else 0)
        tracking = None
        if line.get("Tracking"):
            t = line["Tracking"][0]
            tracking = (t.get("TrackingCategoryID"), t.get("TrackingOptionID"), t.get("Name"), t.get("Option"))
        lines.append(Posting(line.get("AccountCode"), net, tax, line.get("TaxType") or "NONE", tracking))
    return lines
