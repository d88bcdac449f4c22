"""Record builders: one Xero-shaped dict from an Organisation and an index.

Each builder reads the compact columns laid out by ``Organisation._walk`` and the
pure Core functions, so what is served agrees with the journals and reports.
Unit amounts keep 4 decimals here; the store rounds them unless ``unitdp=4``.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

from tap_xero.sandbox.data import (
    AP_CODE, AR_CODE, BANK_CODES, COLLECTION_CODES, J_BANK_TXN, J_CREDIT_NOTE, J_INVOICE, J_MANUAL, J_OVERPAYMENT,
    J_PAYMENT, J_PREPAYMENT, J_TRANSFER, STATUS_CODES, TAX_NAME, Collection, Core, Draw, Organisation, Posting,
    day_date, day_of, day_string, mix, money, ms_date, parse_ms_date, reversed_postings, spread_ms, uuid_of,
)

ONE = Decimal("1.000000")


def _invoice_number(core: Core, i: int) -> str:
    return f"INV-{i + 1:07d}" if core.receivable else f"BILL-{i + 1:07d}"


def invoice(org: Organisation, i: int) -> dict:
    core = org.invoice_core(i)
    total = org.inv_total[i]
    due_day = core.day + 14 + (i % 3) * 8
    record = {
        "Type": "ACCREC" if core.receivable else "ACCPAY",
        "InvoiceID": org.ident("Invoices", i),
        "InvoiceNumber": _invoice_number(core, i),
        "Reference": f"PO-{mix(org.key, 12, i) % 100000:05d}" if i % 4 else "",
        "Contact": org.contact_ref(core.contact),
        "Date": day_date(core.day), "DateString": day_string(core.day),
        "DueDate": day_date(due_day), "DueDateString": day_string(due_day),
        "Status": core.status,
        "LineAmountTypes": "Exclusive",
        "LineItems": org.line_items("Invoices", i, core.lines),
        "SubTotal": money(core.subtotal), "TotalTax": money(core.total_tax), "Total": money(total),
        "TotalDiscount": money(0),
        "UpdatedDateUTC": ms_date(spread_ms(i, org.n_invoices)),
        "CurrencyCode": org.base_currency, "CurrencyRate": ONE,
        "BrandingThemeID": org.branding_themes[i % 2]["BrandingThemeID"],
        "SentToContact": core.receivable and core.status in ("AUTHORISED", "PAID"),
        "IsDiscounted": False, "HasAttachments": False, "HasErrors": False,
        "Payments": [], "Prepayments": [], "Overpayments": [], "CreditNotes": [],
    }
    paid = credited = 0
    k = org.inv_payment[i]
    if k >= 0:
        paid = org.pay_amount[k]
        record["Payments"] = [{
            "PaymentID": org.ident("Payments", k), "Date": day_date(org.payment_day(k)), "Amount": money(paid),
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
    record["AmountPaid"] = money(paid)
    record["AmountCredited"] = money(credited)
    # Voided and deleted invoices owe nothing; otherwise Due = Total - paid - credited.
    record["AmountDue"] = money(0 if core.status in ("VOIDED", "DELETED") else total - paid - credited)
    if core.status == "PAID":
        last = org.payment_day(org.inv_payment[i]) if org.inv_payment[i] >= 0 else core.day
        record["FullyPaidOnDate"] = day_date(last)
    if i % 11 == 3:
        record["ExpectedPaymentDate"] = day_date(due_day + 7)
    if i % 13 == 5:  # null/absent optional fields: no Reference, no branding
        del record["Reference"], record["BrandingThemeID"]
    return record


def payment(org: Organisation, k: int) -> dict:
    i = org.pay_invoice[k]
    core = org.invoice_core(i)
    amount = money(org.pay_amount[k])
    bank = org.payment_bank(k)
    record = {
        "PaymentID": org.ident("Payments", k),
        "Date": day_date(org.payment_day(k)),
        "Amount": amount, "BankAmount": amount, "CurrencyRate": ONE,
        "Reference": f"Payment {k + 1}",
        "IsReconciled": k % 3 != 0,
        "Status": "AUTHORISED",
        "PaymentType": "ACCRECPAYMENT" if core.receivable else "ACCPAYPAYMENT",
        "UpdatedDateUTC": ms_date(spread_ms(k, org.n_payments)),
        "HasAccount": False, "HasValidationErrors": False,
        "Account": {"AccountID": org.account(bank)["AccountID"], "Code": bank},
        "Invoice": {
            "InvoiceID": org.ident("Invoices", i), "InvoiceNumber": _invoice_number(core, i),
            "Type": "ACCREC" if core.receivable else "ACCPAY", "Contact": org.contact_ref(core.contact),
            "CurrencyCode": org.base_currency, "IsDiscounted": False, "HasErrors": False,
        },
    }
    batch = k // 3
    if batch < org.n_batches:
        record["BatchPaymentID"] = org.ident("BatchPayments", batch)
    return record


def credit_note(org: Organisation, k: int) -> dict:
    i = org.cn_invoice[k]
    core = org.invoice_core(i)
    receivable, account = org.credit_note_side(k)
    status = STATUS_CODES[org.cn_status[k]]
    total = org.cn_total[k]
    allocated = org.cn_allocated[k]
    acc = org.account(account)
    record = {
        "Type": "ACCRECCREDIT" if receivable else "ACCPAYCREDIT",
        "CreditNoteID": org.ident("CreditNotes", k), "CreditNoteNumber": f"CN-{k + 1:07d}",
        "Reference": f"Credit for {_invoice_number(core, i)}",
        "Contact": org.contact_ref(core.contact),
        "Date": day_date(core.day), "DueDate": day_date(core.day + 30), "Status": status,
        "LineAmountTypes": "Exclusive",
        "LineItems": [{
            "LineItemID": uuid_of(mix(org.key, COLLECTION_CODES["LineItems"], COLLECTION_CODES["CreditNotes"], k)),
            "Description": "Credit", "Quantity": Decimal("1.0000"), "UnitAmount": Decimal(total).scaleb(-2),
            "AccountCode": account, "AccountID": acc["AccountID"], "TaxType": "NONE", "TaxAmount": money(0),
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
            "Invoice": {"InvoiceID": org.ident("Invoices", i), "InvoiceNumber": _invoice_number(core, i)},
        }]
        record["FullyPaidOnDate"] = day_date(core.day)
    return record


def _prepayment_like(org: Organisation, key: str, k: int) -> dict:
    over = key == "Overpayments"
    invoices, totals, allocated_col = ((org.over_invoice, org.over_total, org.over_allocated) if over else
                                       (org.pre_invoice, org.pre_total, org.pre_allocated))
    i = invoices[k]
    core = org.invoice_core(i)
    total, allocated = totals[k], allocated_col[k]
    side = "RECEIVE" if core.receivable else "SPEND"
    kind = "OVERPAYMENT" if over else "PREPAYMENT"
    counter = AR_CODE if core.receivable else AP_CODE
    record = {
        "Type": f"{side}-{kind}", f"{key[:-1]}ID": org.ident(key, k),
        "Contact": org.contact_ref(core.contact), "Date": day_date(core.day),
        "Status": "PAID" if allocated == total else "AUTHORISED", "LineAmountTypes": "NoTax",
        "LineItems": [{"Description": kind.title(), "Quantity": Decimal("1.0000"),
                       "UnitAmount": Decimal(total).scaleb(-2), "AccountCode": counter,
                       "AccountID": org.account(counter)["AccountID"], "TaxType": "NONE", "TaxAmount": money(0),
                       "LineAmount": money(total), "Tracking": []}],
        "SubTotal": money(total), "TotalTax": money(0), "Total": money(total),
        "UpdatedDateUTC": ms_date(spread_ms(k, len(totals))),
        "CurrencyCode": org.base_currency, "CurrencyRate": ONE,
        "RemainingCredit": money(total - allocated), "AppliedAmount": money(allocated),
        "Allocations": [{
            "AllocationID": uuid_of(mix(org.key, 19 if over else 22, k, 1)), "Amount": money(allocated),
            "Date": day_date(core.day),
            "Invoice": {"InvoiceID": org.ident("Invoices", i), "InvoiceNumber": _invoice_number(core, i)},
        }],
        "Payments": [], "HasAttachments": False,
    }
    if not over:
        record["Reference"] = f"Prepayment {k + 1}"
    return record


def bank_transaction(org: Organisation, k: int) -> dict:
    core, bank = org.bank_txn_core(k)
    acc = org.account(bank)
    return {
        "Type": "RECEIVE" if core.receivable else "SPEND",
        "BankTransactionID": org.ident("BankTransactions", k),
        "Contact": org.contact_ref(core.contact),
        "BankAccount": {"AccountID": acc["AccountID"], "Code": bank, "Name": acc["Name"]},
        "LineItems": org.line_items("BankTransactions", k, core.lines),
        "IsReconciled": k % 4 != 0, "Date": day_date(core.day), "Reference": f"BT {k + 1}",
        "CurrencyCode": org.base_currency, "CurrencyRate": ONE, "Status": core.status,
        "LineAmountTypes": "Exclusive",
        "SubTotal": money(core.subtotal), "TotalTax": money(core.total_tax), "Total": money(core.total),
        "UpdatedDateUTC": ms_date(spread_ms(k, org.n_bank_txns)), "HasAttachments": False,
    }


def bank_transfer(org: Organisation, k: int) -> dict:
    source, target, amount, day = org.transfer_core(k)
    deleted = k % 37 == 36
    return {
        "BankTransferID": org.ident("BankTransfers", k),
        "FromBankAccount": org.account_ref(source), "ToBankAccount": org.account_ref(target),
        "Amount": money(amount), "Date": day_date(day), "CurrencyRate": ONE,
        "FromBankTransactionID": uuid_of(mix(org.key, 3, k, 1)), "ToBankTransactionID": uuid_of(mix(org.key, 3, k, 2)),
        "FromIsReconciled": k % 2 == 0, "ToIsReconciled": k % 3 == 0, "Reference": f"Transfer {k + 1}",
        "HasAttachments": False, "CreatedDateUTC": ms_date(spread_ms(k, org.n_transfers)),
        "Status": "DELETED" if deleted else "AUTHORISED",
    }


def batch_payment(org: Organisation, b: int) -> dict:
    payments = [payment(org, k) for k in range(3 * b, min(3 * b + 3, org.n_payments))]
    total = sum((p["Amount"] for p in payments), Decimal("0.00"))
    receivable = payments[0]["PaymentType"] == "ACCRECPAYMENT"
    day = org.payment_day(3 * b)
    return {
        "BatchPaymentID": org.ident("BatchPayments", b), "Account": org.account_ref(BANK_CODES[0]),
        "Reference": f"Batch {b + 1}", "Particulars": "Sandbox", "Code": f"B{b:05d}", "Details": "Batch payment",
        "Narrative": "Sandbox batch", "Date": day_date(day), "DateString": day_string(day), "Amount": total,
        "TotalAmount": total, "Type": "RECBATCH" if receivable else "PAYBATCH", "Status": "AUTHORISED",
        "IsReconciled": b % 2 == 0, "UpdatedDateUTC": ms_date(spread_ms(b, org.n_batches)),
        "Payments": [{"PaymentID": p["PaymentID"], "Amount": p["Amount"],
                      "Invoice": {"InvoiceID": p["Invoice"]["InvoiceID"]}} for p in payments],
    }


def manual_journal(org: Organisation, k: int) -> dict:
    status, day, postings = org.manual_core(k)
    return {
        "ManualJournalID": org.ident("ManualJournals", k),
        "Narration": "Accrual adjustment — période close" if k % 5 == 0 else f"Manual journal {k + 1}",
        "Date": day_date(day), "Status": status, "LineAmountTypes": "NoTax", "ShowOnCashBasisReports": k % 2 == 0,
        "HasAttachments": False, "UpdatedDateUTC": ms_date(spread_ms(k, org.n_manual)),
        "JournalLines": [{"LineAmount": money(p.net), "AccountCode": p.account,
                          "AccountID": org.account(p.account)["AccountID"], "Description": "Adjustment",
                          "TaxType": "NONE", "TaxAmount": money(0), "IsBlank": False, "Tracking": []}
                         for p in postings],
    }


def _document(org: Organisation, key: str, k: int, count: int, receivable: bool) -> tuple[dict, Core]:
    draw = Draw(org.key, COLLECTION_CODES[key], k)
    contact = org._pick_contact(draw.next(), receivable)
    lines = org._lines(draw, receivable)
    core = Core(receivable, "", contact, day_of(k, count), lines)
    return {
        "Contact": org.contact_ref(contact), "Date": day_date(core.day),
        "LineItems": org.line_items(key, k, lines),
        "SubTotal": money(core.subtotal), "TotalTax": money(core.total_tax), "Total": money(core.total),
        "TotalDiscount": money(0), "CurrencyCode": org.base_currency, "CurrencyRate": ONE,
        "BrandingThemeID": org.branding_themes[0]["BrandingThemeID"],
        "UpdatedDateUTC": ms_date(spread_ms(k, count)),
    }, core


def purchase_order(org: Organisation, k: int) -> dict:
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


def quote(org: Organisation, k: int) -> dict:
    record, core = _document(org, "Quotes", k, org.n_quotes, True)
    record.update({
        "QuoteID": org.ident("Quotes", k), "QuoteNumber": f"QU-{k + 1:07d}", "Reference": f"Quote {k + 1}",
        "Terms": "Valid for 30 days", "DateString": day_string(core.day),
        "ExpiryDate": day_date(core.day + 30), "ExpiryDateString": day_string(core.day + 30),
        "Status": ("DRAFT", "SENT", "DECLINED", "ACCEPTED", "INVOICED", "DELETED")[mix(org.key, 24, k) % 6],
        "Title": f"Quote for {org.contact_name(core.contact)[:40]}", "Summary": "Sandbox quote",
        "LineAmountTypes": "EXCLUSIVE",
    })
    record.pop("CurrencyRate")
    return record


def repeating_invoice(org: Organisation, k: int) -> dict:
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


def linked_transaction(org: Organisation, k: int) -> dict:
    # Billable expenses: a line of a bill (ACCPAY) linked to a sales invoice of a customer.
    source = k * max(1, org.n_invoices // max(org.n_linked, 1)) % org.n_invoices
    core = org.invoice_core(source)
    target = (source + 1) % org.n_invoices
    status = ("APPROVED", "DRAFT", "BILLED", "ONDRAFT", "VOIDED")[k % 5]
    record = {
        "LinkedTransactionID": org.ident("LinkedTransactions", k),
        "SourceTransactionID": org.ident("Invoices", source),
        "SourceLineItemID": uuid_of(mix(org.key, COLLECTION_CODES["LineItems"], COLLECTION_CODES["Invoices"], source, 0)),
        "ContactID": org.ident("Contacts", org.invoice_core(target).contact), "Status": status,
        "Type": "BILLABLEEXPENSE", "UpdatedDateUTC": ms_date(spread_ms(k, org.n_linked)),
        "SourceTransactionTypeCode": "ACCPAY" if not core.receivable else "SPEND",
    }
    if status == "BILLED":
        record["TargetTransactionID"] = org.ident("Invoices", target)
        record["TargetLineItemID"] = uuid_of(mix(org.key, COLLECTION_CODES["LineItems"], COLLECTION_CODES["Invoices"],
                                                 target, 0))
    return record


def budgets(org: Organisation) -> list[dict]:
    months = [date(2025, m, 1).toordinal() for m in range(1, 13)]
    out = []
    for k, (typ, description) in enumerate((("OVERALL", "Overall Budget"), ("TRACKING", "North region budget"))):
        lines = []
        for j, code in enumerate(("200", "260", "400", "429", "453", "469")):
            account = org.account(code)
            base = 100 * (500 + mix(org.key, 6, k, j) % 20000)
            lines.append({"AccountID": account["AccountID"], "AccountCode": code, "BudgetBalances": [
                {"Period": day_date(m), "Amount": money(base + 100 * n), "Notes": "Plan" if n == 0 else ""}
                for n, m in enumerate(months)]})
        record = {"BudgetID": org.ident("Budgets", k), "Type": typ, "Description": description,
                  "UpdatedDateUTC": ms_date(spread_ms(k, 2)), "BudgetLines": lines, "Tracking": []}
        if typ == "TRACKING":
            cat = org.tracking_categories[0]
            opt = cat["Options"][0]
            record["Tracking"] = [{"TrackingCategoryID": cat["TrackingCategoryID"], "Name": cat["Name"],
                                   "Option": opt["Name"], "TrackingOptionID": opt["TrackingOptionID"]}]
        out.append(record)
    return out


# ------------------------------------------------------------------ journals

SOURCE_TYPES = {
    J_INVOICE: ("ACCREC", "ACCPAY"), J_CREDIT_NOTE: ("ACCRECCREDIT", "ACCPAYCREDIT"),
    J_PAYMENT: ("ACCRECPAYMENT", "ACCPAYPAYMENT"), J_PREPAYMENT: ("ARPREPAYMENT", "APPREPAYMENT"),
    J_OVERPAYMENT: ("AROVERPAYMENT", "APOVERPAYMENT"), J_BANK_TXN: ("CASHREC", "CASHPAID"),
    J_TRANSFER: ("TRANSFER", "TRANSFER"), J_MANUAL: ("MANJOURNAL", "MANJOURNAL"),
}
SOURCE_KEYS = {J_INVOICE: "Invoices", J_CREDIT_NOTE: "CreditNotes", J_PAYMENT: "Payments",
               J_PREPAYMENT: "Prepayments", J_OVERPAYMENT: "Overpayments", J_BANK_TXN: "BankTransactions",
               J_TRANSFER: "BankTransfers", J_MANUAL: "ManualJournals"}


def base_journal_entry(org: Organisation, n: int) -> tuple[int, str, str, str, list[Posting]]:
    """(day, source id, source type, reference, postings) of base journal ``n`` (0-based)."""
    code = org.journal_kind[n]
    kind, reversal = divmod(code, 2)
    k = org.journal_source[n]
    if kind == J_INVOICE:
        core = org.invoice_core(k)
        day, receivable, postings = core.day, core.receivable, org._invoice_postings(k, core)
        reference = _invoice_number(core, k)
    elif kind == J_CREDIT_NOTE:
        receivable = org.credit_note_side(k)[0]
        day, postings, reference = org.invoice_core(org.cn_invoice[k]).day, org._credit_note_postings(k), f"CN-{k + 1:07d}"
    elif kind == J_PAYMENT:
        receivable = org.invoice_core(org.pay_invoice[k]).receivable
        day, postings, reference = org.payment_day(k), org._payment_postings(k), f"Payment {k + 1}"
    elif kind in (J_PREPAYMENT, J_OVERPAYMENT):
        receivable = org.prepayment_receivable(kind, k)
        invoice_index = (org.over_invoice if kind == J_OVERPAYMENT else org.pre_invoice)[k]
        day, postings = org.invoice_core(invoice_index).day, org._prepayment_postings(kind, k)
        reference = f"{'Overpayment' if kind == J_OVERPAYMENT else 'Prepayment'} {k + 1}"
    elif kind == J_BANK_TXN:
        core, _ = org.bank_txn_core(k)
        receivable = core.receivable
        day, postings, _rev = org._bank_txn_postings(k)[0]
        reference = f"BT {k + 1}"
    elif kind == J_TRANSFER:
        receivable = True
        day, postings, _rev = org._transfer_postings(k)[0]
        reference = f"Transfer {k + 1}"
    else:
        receivable = True
        day, postings, _rev = org._manual_postings(k)[0]
        reference = f"Manual journal {k + 1}"
    if reversal:
        postings = reversed_postings(postings)
    source_type = SOURCE_TYPES[kind][0 if receivable else 1]
    return day, org.ident(SOURCE_KEYS[kind], k), source_type, reference, postings


def journal_record(org: Organisation, number: int, journal_id: str, created_ms: int, day: int, source_id: str,
                   source_type: str, reference: str, postings: list[Posting]) -> dict:
    """One Journal dict; ``number`` is the 1-based JournalNumber."""
    lines = []
    for j, p in enumerate(postings):
        account = org.accounts_by_code.get(p.account) or {"AccountID": None, "Name": p.account, "Type": "EXPENSE"}
        line = {
            "JournalLineID": uuid_of(mix(org.key, COLLECTION_CODES["JournalLines"], number, j)),
            "AccountID": account["AccountID"], "AccountCode": p.account, "AccountType": account["Type"],
            "AccountName": account["Name"], "Description": reference,
            "NetAmount": money(p.net), "GrossAmount": money(p.net + p.tax), "TaxAmount": money(p.tax),
            "TrackingCategories": [],
        }
        if p.tax_type != "NONE" or p.tax:
            line["TaxType"] = p.tax_type
            line["TaxName"] = TAX_NAME.get(p.tax_type, p.tax_type)
        if p.tracking:
            cat_id, opt_id, name, option = p.tracking
            line["TrackingCategories"] = [{"TrackingCategoryID": cat_id, "TrackingOptionID": opt_id,
                                           "Name": name, "Option": option}]
        lines.append(line)
    return {
        "JournalID": journal_id, "JournalDate": day_date(day), "JournalNumber": number,
        "CreatedDateUTC": ms_date(created_ms), "Reference": reference, "SourceID": source_id,
        "SourceType": source_type, "JournalLines": lines,
    }


def journal(org: Organisation, n: int) -> dict:
    day, source_id, source_type, reference, postings = base_journal_entry(org, n)
    return journal_record(org, n + 1, org.ident("Journals", n), spread_ms(n, org.n_journals), day, source_id,
                          source_type, reference, postings)


def journal_source_type(org: Organisation, n: int) -> str:
    """Cheap SourceType of base journal ``n`` (for paymentsOnly) without building postings."""
    kind = org.journal_kind[n] // 2
    if kind in (J_PAYMENT,):
        return SOURCE_TYPES[kind][0 if org.invoice_core(org.pay_invoice[org.journal_source[n]]).receivable else 1]
    return SOURCE_TYPES[kind][0]


# ------------------------------------------------------------------ the table of collections

def build_collections(org: Organisation) -> dict[str, Collection]:
    def eager(key: str, records: list[dict], id_field: str | None, stamp_field: str | None) -> Collection:
        def stamp(i: int) -> int | None:
            value = records[i].get(stamp_field) if stamp_field else None
            return parse_ms_date(value) if value else None
        # A copy per call: the store hands records out and they must not write back into these lists.
        return Collection(org, key, len(records), lambda i: copy.deepcopy(records[i]), id_field,
                          stamp if stamp_field else None)

    def lazy(key: str, count: int, build, id_field: str, status_of=None) -> Collection:
        return Collection(org, key, count, lambda i: build(org, i), id_field, status_of=status_of)

    budget_records = org.budgets = budgets(org)
    collections = [
        eager("Accounts", org.accounts, "AccountID", "UpdatedDateUTC"),
        lazy("BankTransactions", org.n_bank_txns, bank_transaction, "BankTransactionID"),
        lazy("BankTransfers", org.n_transfers, bank_transfer, "BankTransferID",
             status_of=lambda k: "DELETED" if k % 37 == 36 else "AUTHORISED"),
        lazy("BatchPayments", org.n_batches, batch_payment, "BatchPaymentID"),
        eager("BrandingThemes", org.branding_themes, "BrandingThemeID", "CreatedDateUTC"),
        eager("Budgets", budget_records, "BudgetID", "UpdatedDateUTC"),
        eager("ContactGroups", org.contact_groups, "ContactGroupID", None),
        lazy("Contacts", org.n_contacts, lambda o, c: o._contact(c), "ContactID", status_of=org.contact_status),
        lazy("CreditNotes", org.n_credit_notes, credit_note, "CreditNoteID",
             status_of=lambda k: STATUS_CODES[org.cn_status[k]]),
        eager("Currencies", org.currencies, "Code", None),
        eager("ExpenseClaims", org.expense_claims, "ExpenseClaimID", "UpdatedDateUTC"),
        lazy("Invoices", org.n_invoices, invoice, "InvoiceID", status_of=lambda i: STATUS_CODES[org.inv_status[i]]),
        eager("InvoiceReminders", org.invoice_reminders, None, None),
        eager("Items", org.items, "ItemID", "UpdatedDateUTC"),
        lazy("Journals", org.n_journals, journal, "JournalID"),
        lazy("LinkedTransactions", org.n_linked, linked_transaction, "LinkedTransactionID"),
        lazy("ManualJournals", org.n_manual, manual_journal, "ManualJournalID",
             status_of=lambda k: org.manual_core(k)[0]),
        eager("Organisations", [org.organisation], "OrganisationID", None),
        lazy("Overpayments", org.n_overpayments, lambda o, k: _prepayment_like(o, "Overpayments", k), "OverpaymentID"),
        eager("PaymentServices", org.payment_services, "PaymentServiceID", None),
        lazy("Payments", org.n_payments, payment, "PaymentID", status_of=lambda k: "AUTHORISED"),
        lazy("Prepayments", org.n_prepayments, lambda o, k: _prepayment_like(o, "Prepayments", k), "PrepaymentID"),
        lazy("PurchaseOrders", org.n_purchase_orders, purchase_order, "PurchaseOrderID"),
        lazy("Quotes", org.n_quotes, quote, "QuoteID"),
        eager("Receipts", org.receipts, "ReceiptID", "UpdatedDateUTC"),
        lazy("RepeatingInvoices", org.n_repeating, repeating_invoice, "RepeatingInvoiceID"),
        eager("TaxRates", org.tax_rates, "TaxType", None),
        eager("TrackingCategories", org.tracking_categories, "TrackingCategoryID", None),
        eager("Users", org.users, "UserID", "UpdatedDateUTC"),
    ]
    by_key = {c.key: c for c in collections}
    # Journals are stamped with CreatedDateUTC on the same spread as their numbers.
    by_key["Journals"].stamp = lambda n: spread_ms(n, org.n_journals)
    by_key["BankTransfers"].stamp = lambda k: spread_ms(k, org.n_transfers)
    for key in ("ContactGroups", "Currencies", "InvoiceReminders", "Organisations", "PaymentServices", "TaxRates",
                "TrackingCategories", "RepeatingInvoices"):
        by_key[key].stamp = lambda i: None
    return by_key
