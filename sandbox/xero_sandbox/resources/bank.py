"""Bank transactions and bank transfers.

Generated: ``max(5, scale/5)`` bank transactions (RECEIVE 40 % / SPEND, 1-2 lines, 2 % DELETED:
posted then reversed) on one of the three bank accounts; ``max(3, scale/50)`` transfers between
two of them, every 37th DELETED. Both are built on demand; the walk (journals.py) interleaves
their journals with the invoices' in date order: CASHREC / CASHPAID (bank against the lines and
tax) and TRANSFER (Cr from-account, Dr to-account).

Rules: BankTransfers hide DELETED without ``includeDeleted``; an AUTHORISED bank transaction
posts; a created one needs a bank account (``BankAccount`` by Code or AccountID) and a contact;
voiding either marks it DELETED (a posted transaction gets its reversing journal).
"""

from __future__ import annotations

from xero_sandbox.core.generation import (
    COLLECTION_CODES, Draw, day_date, day_of, mix, money, ms_date, spread_ms, uuid_of,
)
from xero_sandbox.core.ledger import Posting, document_postings
from xero_sandbox.core.resource import Resource
from xero_sandbox.core.tenant_data import TenantData, lazy_collection
from xero_sandbox.resources import contacts
from xero_sandbox.resources.documents import (
    ONE, Core, begin, finish, generate_lines, line_items, line_postings, posted_lines, set_date,
)
from xero_sandbox.resources.settings import BANK_CODES, account, account_ref


def bank_transaction_core(org: TenantData, k: int) -> tuple[Core, str]:
    """Bank transaction ``k`` as a Core, and its bank account code."""
    draw = Draw(org.key, COLLECTION_CODES["BankTransactions"], k)
    receivable = draw.below(10) < 4
    status = "DELETED" if draw.below(50) == 0 else "AUTHORISED"
    bank = BANK_CODES[draw.below(3)]
    core = Core(receivable, status, contacts.pick_contact(org, draw.next(), receivable),
                day_of(k, org.n_bank_txns), generate_lines(org, draw, receivable, max_lines=2))
    return core, bank


def transfer_core(org: TenantData, k: int) -> tuple[str, str, int, int]:
    """(from account, to account, cents, day) of transfer ``k``."""
    draw = Draw(org.key, COLLECTION_CODES["BankTransfers"], k)
    source = draw.below(3)
    target = (source + 1 + draw.below(2)) % 3
    return BANK_CODES[source], BANK_CODES[target], 1000 + draw.below(5_000_000), day_of(k, org.n_transfers)


def transfer_deleted(k: int) -> bool:
    return k % 37 == 36


def bank_transaction_postings(org: TenantData, k: int) -> list[tuple[int, list[Posting], bool]]:
    """(day, postings, reversal) of each journal bank transaction ``k`` makes."""
    core, bank = bank_transaction_core(org, k)
    postings = document_postings(bank, line_postings(org, core.lines), 1 if core.receivable else -1)
    entries = [(core.day, postings, False)]
    if core.status == "DELETED":
        entries.append((core.day, postings, True))
    return entries


def transfer_postings(org: TenantData, k: int) -> list[tuple[int, list[Posting], bool]]:
    source, target, amount, day = transfer_core(org, k)
    return [(day, [Posting(source, -amount), Posting(target, amount)], False)]


# ---------------------------------------------------------------- records

def bank_transaction(org: TenantData, k: int) -> dict:
    core, bank = bank_transaction_core(org, k)
    acc = account(org, bank)
    return {
        "Type": "RECEIVE" if core.receivable else "SPEND",
        "BankTransactionID": org.ident("BankTransactions", k),
        "Contact": contacts.contact_ref(org, core.contact),
        "BankAccount": {"AccountID": acc["AccountID"], "Code": bank, "Name": acc["Name"]},
        "LineItems": line_items(org, "BankTransactions", k, core.lines),
        "IsReconciled": k % 4 != 0, "Date": day_date(core.day), "Reference": f"BT {k + 1}",
        "CurrencyCode": org.base_currency, "CurrencyRate": ONE, "Status": core.status,
        "LineAmountTypes": "Exclusive",
        "SubTotal": money(core.subtotal), "TotalTax": money(core.total_tax), "Total": money(core.total),
        "UpdatedDateUTC": ms_date(spread_ms(k, org.n_bank_txns)), "HasAttachments": False,
    }


def bank_transfer(org: TenantData, k: int) -> dict:
    source, target, amount, day = transfer_core(org, k)
    return {
        "BankTransferID": org.ident("BankTransfers", k),
        "FromBankAccount": account_ref(org, source), "ToBankAccount": account_ref(org, target),
        "Amount": money(amount), "Date": day_date(day), "CurrencyRate": ONE,
        "FromBankTransactionID": uuid_of(mix(org.key, 3, k, 1)), "ToBankTransactionID": uuid_of(mix(org.key, 3, k, 2)),
        "FromIsReconciled": k % 2 == 0, "ToIsReconciled": k % 3 == 0, "Reference": f"Transfer {k + 1}",
        "HasAttachments": False, "CreatedDateUTC": ms_date(spread_ms(k, org.n_transfers)),
        "Status": "DELETED" if transfer_deleted(k) else "AUTHORISED",
    }


# ---------------------------------------------------------------- rules

def complete_bank_transaction(book, record: dict, creating: bool) -> None:
    org = book.org
    today = book.today()
    begin(book, record, creating, document_type="SPEND", status="AUTHORISED")
    bank = record.get("BankAccount") or {}
    code = bank.get("Code") or org.account_code_by_id.get(str(bank.get("AccountID", "")))
    if code not in org.accounts_by_code or account(org, code)["Type"] != "BANK":
        raise ValueError("BankAccount must be a bank account (Code or AccountID)")
    record["BankAccount"] = account_ref(org, code)
    set_date(record, today)
    finish(book, "BankTransactions", record)


def bank_transaction_posting(record: dict, day: int):
    receivable = record.get("Type", "").startswith("RECEIVE")
    bank = (record.get("BankAccount") or {}).get("Code") or "090"
    return day, "CASHREC" if receivable else "CASHPAID", document_postings(bank, posted_lines(record),
                                                                          1 if receivable else -1)


RESOURCES = (
    Resource("BankTransactions", lambda org: lazy_collection(org, "BankTransactions", org.n_bank_txns,
                                                             bank_transaction, "BankTransactionID"),
             void_statuses=("DELETED", "DELETED"), posted_statuses=frozenset({"AUTHORISED"}),
             posting_of=bank_transaction_posting, complete=complete_bank_transaction),
    Resource("BankTransfers", lambda org: lazy_collection(
        org, "BankTransfers", org.n_transfers, bank_transfer, "BankTransferID",
        status_of=lambda k: "DELETED" if transfer_deleted(k) else "AUTHORISED"),
        hidden_status="DELETED", shown_by="include_deleted", void_statuses=("DELETED", "DELETED")),
)
