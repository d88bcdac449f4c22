"""Double entry: postings, and the per-account daily totals every report is computed from.

Contract:

- a ``Posting`` is one journal line: signed cents (debit positive), its tax part, its tax type
  and an optional tracking reference; ``document_postings`` turns a document's lines into a
  balanced entry against one counter account (AR, AP or a bank), ``reversed_postings`` undoes one;
- ``Ledger`` holds, per account and per day, the signed cents posted (``daily``), the debits
  alone (``debited``: what the bank summary calls cash received) and, per tracking option, what
  lines tracked to it posted (``tracked``: the profit and loss by tracking category). The generator and every
  mutation add each journal's postings to it, so a report summed from it equals the sum of the
  journal lines (docs/sandbox-data.md, Accounting model);
- the journal source kinds (``J_*``) number what a generated journal posts for, in the compact
  journal columns (``TenantData.journal_kind``).

The system accounts postings use (``AR_CODE``, ``AP_CODE``, ``TAX_CODE``) are rows of the chart
of accounts (``resources/settings.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

AR_CODE, AP_CODE, TAX_CODE = "610", "800", "820"

# Journal source kinds (index into the journal columns).
J_INVOICE, J_CREDIT_NOTE, J_PAYMENT, J_PREPAYMENT, J_OVERPAYMENT, J_BANK_TXN, J_TRANSFER, J_MANUAL = range(8)


class Posting(NamedTuple):
    """One journal line: signed cents (debit positive), its tax part, and optional tracking."""

    account: str
    net: int
    tax: int = 0
    tax_type: str = "NONE"
    tracking: tuple[str, str, str, str] | None = None  # (category id, option id, name, option)


def document_postings(counter_account: str, lines: list[Posting], sign: int) -> list[Posting]:
    """Double entry for a document: ``lines`` (net, tax) against one counter account.

    ``sign`` +1: the counter account is debited (a sale: AR; money in: bank); -1: credited.
    The lines take the opposite side, their tax goes to the tax account; the result balances.
    """
    postings: list[Posting] = []
    total = 0
    tax_total = 0
    for line in lines:
        postings.append(Posting(line.account, -sign * line.net, -sign * line.tax, line.tax_type, line.tracking))
        total += line.net + line.tax
        tax_total += line.tax
    if tax_total:
        postings.append(Posting(TAX_CODE, -sign * tax_total))
    postings.insert(0, Posting(counter_account, sign * total))
    return postings


def reversed_postings(postings: list[Posting]) -> list[Posting]:
    return [p._replace(net=-p.net, tax=-p.tax) for p in postings]


class Ledger:
    """Signed cents per account per day (and the debits alone), as the journals posted them."""

    def __init__(self, accounts: Iterable[str]) -> None:
        # account code -> day -> signed cents: what the reports sum.
        self.daily: dict[str, dict[int, int]] = {code: {} for code in accounts}
        self.debits: dict[str, dict[int, int]] = {}
        # tracking option id -> account code -> day -> signed cents, of the lines tracked to that option.
        self.tracked: dict[str, dict[str, dict[int, int]]] = {}

    def open_account(self, code: str) -> None:
        self.daily.setdefault(code, {})

    def add(self, day: int, postings: list[Posting], sign: int = 1) -> None:
        """Post ``postings`` on ``day`` (``sign`` -1: their reversal)."""
        daily, debits = self.daily, self.debits
        for posting in postings:
            account, net = posting[0], sign * posting[1]
            per_day = daily.get(account)
            if per_day is None:
                per_day = daily[account] = {}
            per_day[day] = per_day.get(day, 0) + net
            if net > 0:  # debits alone: what the bank summary calls cash received
                per_day = debits.get(account)
                if per_day is None:
                    per_day = debits[account] = {}
                per_day[day] = per_day.get(day, 0) + net
            if posting[4] is not None and posting[4][1]:
                per_day = self.tracked.setdefault(posting[4][1], {}).setdefault(account, {})
                per_day[day] = per_day.get(day, 0) + net

    def balance(self, account: str, until_day: int | None = None, from_day: int | None = None) -> int:
        """Signed cents posted to ``account`` on days in [from_day, until_day]."""
        return sum(amount for day, amount in self.daily.get(account, {}).items()
                   if (until_day is None or day <= until_day) and (from_day is None or day >= from_day))

    def tracked_balance(self, account: str, option_id: str, from_day: int, until_day: int) -> int:
        """Signed cents posted to ``account`` by lines tracked to ``option_id``, on days in [from_day, until_day]."""
        per_day = self.tracked.get(option_id, {}).get(account, {})
        return sum(v for d, v in per_day.items() if from_day <= d <= until_day)

    def debited(self, account: str, from_day: int, until_day: int) -> int:
        """Cents debited to ``account`` on days in [from_day, until_day]."""
        return sum(v for d, v in self.debits.get(account, {}).items() if from_day <= d <= until_day)
