"""Journals and manual journals, and the walk that lays out every generated journal.

The walk (``lay_out_books``) goes once over the invoices: each invoice's journals and settlements
(``invoices.settle_invoice``), with the bank transactions, transfers and manual journals
interleaved in date order. Each posted document gives one journal, numbered in the order of the
walk, kept as two compact columns (``journal_kind``: source kind and reversal; ``journal_source``:
the index of the source record) and added to the ledger. ``CreatedDateUTC`` grows with
``JournalNumber``; ``JournalDate`` is the document date; a voided or deleted document's journal
is followed by its reversal.

Journals (read-only): ``offset`` (JournalNumber greater than it), 100 a call, ``paymentsOnly``
(payment source types only), If-Modified-Since on CreatedDateUTC; mutations append journals
(``append_journal``: the journal writer of the tenant books), numbered after the generated ones.

ManualJournals: ``max(3, scale/100)``, POSTED, 10 % DRAFT, 5 % VOIDED (posted then reversed);
manual journal 1 is dated 1969-12-31; ``order`` makes every page answer everything (Xero's
quirk, in the query engine: ``Endpoint.order_breaks_paging``). A created one needs a Narration
and balanced lines (an unknown account code is refused); POSTED ones post their lines; they can
be voided (VOIDED; a draft becomes DELETED) and archived.
"""

from __future__ import annotations

import copy
from datetime import date

from tap_xero import endpoints
from xero_sandbox.core.generation import (
    CENT, COLLECTION_CODES, Draw, cents, datetime_to_ms, day_date, day_of, decimal_of, mix, money, ms_date,
    parse_ms_date, spread_ms, uuid_of,
)
from xero_sandbox.core.ledger import (
    J_BANK_TXN, J_CREDIT_NOTE, J_INVOICE, J_MANUAL, J_OVERPAYMENT, J_PAYMENT, J_PREPAYMENT, J_TRANSFER, Posting,
    reversed_postings,
)
from xero_sandbox.core.queries import Page
from xero_sandbox.core.resource import Resource
from xero_sandbox.core.tenant_data import TenantData, lazy_collection
from xero_sandbox.resources import bank, invoices
from xero_sandbox.resources.documents import fill_account, set_date
from xero_sandbox.resources.settings import EXPENSE_CODES, TAX_NAME, account

PRE_1970_JOURNAL_DAY = date(1969, 12, 31).toordinal()
PAYMENT_SOURCE_TYPES = frozenset({"ACCRECPAYMENT", "ACCPAYPAYMENT", "ARCREDITPAYMENT", "APCREDITPAYMENT",
                                  "AROVERPAYMENTPAYMENT", "ARPREPAYMENTPAYMENT", "APPREPAYMENTPAYMENT",
                                  "APOVERPAYMENTPAYMENT"})
SOURCE_TYPES = {
    J_INVOICE: ("ACCREC", "ACCPAY"), J_CREDIT_NOTE: ("ACCRECCREDIT", "ACCPAYCREDIT"),
    J_PAYMENT: ("ACCRECPAYMENT", "ACCPAYPAYMENT"), J_PREPAYMENT: ("ARPREPAYMENT", "APPREPAYMENT"),
    J_OVERPAYMENT: ("AROVERPAYMENT", "APOVERPAYMENT"), J_BANK_TXN: ("CASHREC", "CASHPAID"),
    J_TRANSFER: ("TRANSFER", "TRANSFER"), J_MANUAL: ("MANJOURNAL", "MANJOURNAL"),
}
SOURCE_KEYS = {J_INVOICE: "Invoices", J_CREDIT_NOTE: "CreditNotes", J_PAYMENT: "Payments",
               J_PREPAYMENT: "Prepayments", J_OVERPAYMENT: "Overpayments", J_BANK_TXN: "BankTransactions",
               J_TRANSFER: "BankTransfers", J_MANUAL: "ManualJournals"}


# ---------------------------------------------------------------- manual journals

def manual_core(org: TenantData, k: int) -> tuple[str, int, list[Posting]]:
    """(status, day, postings) of manual journal ``k``."""
    draw = Draw(org.key, COLLECTION_CODES["ManualJournals"], k)
    roll = draw.below(20)
    status = "DRAFT" if roll < 2 else "VOIDED" if roll == 2 else "POSTED"
    day = PRE_1970_JOURNAL_DAY if k == 1 else day_of(k, org.n_manual)
    debit_a = draw.pick(EXPENSE_CODES)
    debit_b = draw.pick(("620", "710", "720", "404"))
    a, b = 100 + draw.below(500_000), 100 + draw.below(90_000)
    credit = draw.pick(("900", "970", "090"))
    return status, day, [Posting(debit_a, a), Posting(debit_b, b), Posting(credit, -(a + b))]


def manual_postings(org: TenantData, k: int) -> list[tuple[int, list[Posting], bool]]:
    status, day, postings = manual_core(org, k)
    if status == "DRAFT":
        return []
    entries = [(day, postings, False)]
    if status == "VOIDED":
        entries.append((day, postings, True))
    return entries


def manual_journal(org: TenantData, k: int) -> dict:
    status, day, postings = manual_core(org, k)
    return {
        "ManualJournalID": org.ident("ManualJournals", k),
        "Narration": "Accrual adjustment — période close" if k % 5 == 0 else f"Manual journal {k + 1}",
        "Date": day_date(day), "Status": status, "LineAmountTypes": "NoTax", "ShowOnCashBasisReports": k % 2 == 0,
        "HasAttachments": False, "UpdatedDateUTC": ms_date(spread_ms(k, org.n_manual)),
        "JournalLines": [{"LineAmount": money(p.net), "AccountCode": p.account,
                          "AccountID": account(org, p.account)["AccountID"], "Description": "Adjustment",
                          "TaxType": "NONE", "TaxAmount": money(0), "IsBlank": False, "Tracking": []}
                         for p in postings],
    }


def complete_manual_journal(book, record: dict, creating: bool) -> None:
    today = book.today()
    if not record.get("Narration"):
        raise ValueError("Narration is required")
    record.setdefault("Status", "DRAFT")
    set_date(record, today)
    record.setdefault("LineAmountTypes", "NoTax")
    total = 0
    for line in record.get("JournalLines") or []:
        line["LineAmount"] = decimal_of(line.get("LineAmount")).quantize(CENT)
        total += cents(line["LineAmount"])
        fill_account(book.org, line)
    if total:
        raise ValueError("The total debits must equal the total credits of a manual journal")


def manual_journal_posting(record: dict, day: int):
    return day, "MANJOURNAL", [Posting(line.get("AccountCode"), cents(line.get("LineAmount")))
                               for line in record.get("JournalLines") or []]


# ---------------------------------------------------------------- the walk

def lay_out_books(org: TenantData) -> None:
    """Settle every invoice and lay out every generated journal, in one pass (see the module doc).

    Keeps compact columns only. The same functions later build the records lazily, so the
    totals kept here are the totals served.
    """
    n = org.scale
    invoices.start_settlements(org)
    kinds, sources, add = org.journal_kind, org.journal_source, org.ledger.add

    def journal(kind: int, index: int, day: int, postings: list[Posting], reversal: bool = False) -> None:
        kinds.append(kind * 2 + int(reversal))
        sources.append(index)
        add(day, postings, -1 if reversal else 1)

    others = (
        (org.n_bank_txns, J_BANK_TXN, bank.bank_transaction_postings),
        (org.n_transfers, J_TRANSFER, bank.transfer_postings),
        (org.n_manual, J_MANUAL, manual_postings),
    )
    next_other = [0, 0, 0]
    eligible = 0
    for i in range(n):
        eligible = invoices.settle_invoice(org, i, eligible, journal)
        for slot, (count, kind, postings_of) in enumerate(others):
            while next_other[slot] < count and next_other[slot] * n // count <= i:
                k = next_other[slot]
                next_other[slot] += 1
                for day, postings, reversal in postings_of(org, k):
                    journal(kind, k, day, postings, reversal)
    invoices.close_settlements(org)
    org.n_journals = len(org.journal_source)


# ---------------------------------------------------------------- journal records

def base_journal_entry(org: TenantData, n: int) -> tuple[int, str, str, str, list[Posting]]:
    """(day, source id, source type, reference, postings) of base journal ``n`` (0-based)."""
    code = org.journal_kind[n]
    kind, reversal = divmod(code, 2)
    k = org.journal_source[n]
    if kind == J_INVOICE:
        core = invoices.invoice_core(org, k)
        day, receivable, postings = core.day, core.receivable, invoices.invoice_postings(org, k, core)
        reference = invoices.invoice_number(core, k)
    elif kind == J_CREDIT_NOTE:
        receivable = invoices.credit_note_side(org, k)[0]
        day = invoices.invoice_core(org, org.cn_invoice[k]).day
        postings, reference = invoices.credit_note_postings(org, k), f"CN-{k + 1:07d}"
    elif kind == J_PAYMENT:
        receivable = invoices.invoice_core(org, org.pay_invoice[k]).receivable
        day, postings, reference = invoices.payment_day(org, k), invoices.payment_postings(org, k), f"Payment {k + 1}"
    elif kind in (J_PREPAYMENT, J_OVERPAYMENT):
        overpayment = kind == J_OVERPAYMENT
        receivable = invoices.prepayment_receivable(org, overpayment, k)
        invoice_index = (org.over_invoice if overpayment else org.pre_invoice)[k]
        day, postings = invoices.invoice_core(org, invoice_index).day, invoices.prepayment_postings(org, overpayment, k)
        reference = f"{'Overpayment' if overpayment else 'Prepayment'} {k + 1}"
    elif kind == J_BANK_TXN:
        core, _ = bank.bank_transaction_core(org, k)
        receivable = core.receivable
        day, postings, _rev = bank.bank_transaction_postings(org, k)[0]
        reference = f"BT {k + 1}"
    elif kind == J_TRANSFER:
        receivable = True
        day, postings, _rev = bank.transfer_postings(org, k)[0]
        reference = f"Transfer {k + 1}"
    else:
        receivable = True
        day, postings, _rev = manual_postings(org, k)[0]
        reference = f"Manual journal {k + 1}"
    if reversal:
        postings = reversed_postings(postings)
    source_type = SOURCE_TYPES[kind][0 if receivable else 1]
    return day, org.ident(SOURCE_KEYS[kind], k), source_type, reference, postings


def journal_record(org: TenantData, number: int, journal_id: str, created_ms: int, day: int, source_id: str,
                   source_type: str, reference: str, postings: list[Posting]) -> dict:
    """One Journal dict; ``number`` is the 1-based JournalNumber."""
    lines = []
    for j, p in enumerate(postings):
        acc = org.accounts_by_code.get(p.account) or {"AccountID": None, "Name": p.account, "Type": "EXPENSE"}
        line = {
            "JournalLineID": uuid_of(mix(org.key, COLLECTION_CODES["JournalLines"], number, j)),
            "AccountID": acc["AccountID"], "AccountCode": p.account, "AccountType": acc["Type"],
            "AccountName": acc["Name"], "Description": reference,
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


def journal(org: TenantData, n: int) -> dict:
    day, source_id, source_type, reference, postings = base_journal_entry(org, n)
    return journal_record(org, n + 1, org.ident("Journals", n), spread_ms(n, org.n_journals), day, source_id,
                          source_type, reference, postings)


def journal_source_type(org: TenantData, n: int) -> str:
    """Cheap SourceType of base journal ``n`` (for paymentsOnly) without building postings."""
    kind = org.journal_kind[n] // 2
    if kind in (J_PAYMENT,):
        receivable = invoices.invoice_core(org, org.pay_invoice[org.journal_source[n]]).receivable
        return SOURCE_TYPES[kind][0 if receivable else 1]
    return SOURCE_TYPES[kind][0]


# ---------------------------------------------------------------- journals appended by mutations

def append_journal(book, stamp: int, day: int, source_id: str, source_type: str, reference: str,
                   postings: list[Posting]) -> None:
    """A mutation's journal: numbered after every journal so far, stamped ``stamp``, added to the ledger."""
    org = book.org
    coll = org.collections["Journals"]
    number = coll.count + len(book.journals) + 1
    for posting in postings:
        if posting.account not in org.accounts_by_code:
            raise ValueError(f"Account code '{posting.account}' is not a valid code for this organisation")
    book.journals.append(journal_record(org, number, coll.id_of(number - 1), stamp, day, source_id,
                                        source_type, reference, postings))
    org.ledger.add(day, postings)


def current_journal(book, record_id: str) -> dict | None:
    coll = book.org.collections["Journals"]
    index = coll.index_of(record_id)
    if index is None:
        return None
    if index < coll.count:
        return coll.record(index)
    extra = index - coll.count
    return book.journals[extra] if extra < len(book.journals) else None


def count_journals(book) -> int:
    return book.org.collections["Journals"].count + book.created["Journals"] + len(book.journals)


def cash_journal_counts(book) -> dict[str, int]:
    """What ``Journals?paymentsOnly=true`` serves (the cash-basis journals: every journal of a payment), and
    their lines: ``CashJournals`` and ``CashJournalLines`` in ``/_sandbox/counts``."""
    org = book.org
    generated = sum(1 for code in org.journal_kind if code // 2 == J_PAYMENT)  # a payment journal has 2 lines
    appended = [entry for entry in book.journals if entry["SourceType"] in PAYMENT_SOURCE_TYPES]
    return {"CashJournals": generated + len(appended),
            "CashJournalLines": 2 * generated + sum(len(entry["JournalLines"]) for entry in appended)}


def list_journals(book, query) -> Page:
    """One Journals call: JournalNumber > offset, 100 at most, generated ones then appended ones."""
    org = book.org
    coll = org.collections["Journals"]
    offset = max(0, query.offset or 0)
    since_ms = datetime_to_ms(query.modified_since.replace(microsecond=0)) if query.modified_since else None
    start = max(offset, coll.first_at_or_after(since_ms) if since_ms is not None else 0)
    limit = endpoints.FIXED_PAGE_SIZE
    records: list[dict] = []
    n = start
    while n < coll.count and len(records) < limit:
        if not query.payments_only or journal_source_type(org, n) in PAYMENT_SOURCE_TYPES:
            records.append(coll.record(n))
        n += 1
    for entry in book.journals:
        if len(records) >= limit:
            break
        if entry["JournalNumber"] <= offset:
            continue
        if since_ms is not None and parse_ms_date(entry["CreatedDateUTC"]) < since_ms:
            continue
        if query.payments_only and entry["SourceType"] not in PAYMENT_SOURCE_TYPES:
            continue
        records.append(copy.deepcopy(entry))
    return Page(records, None)


RESOURCES = (
    Resource("Journals", lambda org: lazy_collection(org, "Journals", org.n_journals, journal, "JournalID"),
             current=current_journal, list_page=list_journals, count=count_journals, read_only=True),
    Resource("ManualJournals", lambda org: lazy_collection(org, "ManualJournals", org.n_manual, manual_journal,
                                                           "ManualJournalID",
                                                           status_of=lambda k: manual_core(org, k)[0]),
             void_statuses=("VOIDED", "DELETED"), archive_field="Status", posted_statuses=frozenset({"POSTED"}),
             posting_of=manual_journal_posting, complete=complete_manual_journal),
)
