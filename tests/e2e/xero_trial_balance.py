"""Xero's TrialBalance, as the real API builds it, for the sandbox to serve during the model tests.

The sandbox's own TrialBalance (tap_xero/sandbox/reports.py) departs from Xero's in two ways that the
models' tie-out must not bend to:

- its Debit and Credit columns hold each account's balance since the beginning, where Xero's hold the
  movement in the month of the report date (Xero's help: "the balance just for the month of the report";
  the spec's example: the month columns total 1200.00 / 1200.00 beside YTD totals of 46019.00);
- its Retained Earnings YTD figure lacks the profit of earlier financial years, which Xero closes into
  that account (the spec's example: "Retained Earnings (320)" with a toDate attribute of the previous
  year end), so its YTD columns do not balance once a financial year has ended.

``trial_balance`` below is what the sandbox should serve instead (same signature as the sandbox's
builder); the end-to-end model tests install it with ``xero_trial_balance_installed``. Once the sandbox
serves this itself, both can go.
"""

from __future__ import annotations

import contextlib
from datetime import date

from tap_xero.sandbox import reports
from tap_xero.sandbox.data import Organisation


def trial_balance(org: Organisation, params: dict[str, str], today: date, updated: str) -> dict:
    at = reports._param_date(params, "date", today)
    until = at.toordinal()
    month_start = at.replace(day=1).toordinal()
    year_start = reports._year_start(org, at).toordinal()
    earlier_years_profit = reports.net_profit(org, None, year_start - 1)  # credit-positive
    rows: list[dict] = [{"RowType": "Header", "Cells": [reports._cell(c) for c in
                                                        ("Account", "Debit", "Credit", "YTD Debit", "YTD Credit")]}]
    totals = [0, 0, 0, 0]
    for title, account_class in (("Revenue", "REVENUE"), ("Expenses", "EXPENSE"), ("Assets", "ASSET"),
                                 ("Liabilities", "LIABILITY"), ("Equity", "EQUITY")):
        section_rows = []
        for account in reports._accounts(org, classes=(account_class,)):
            month = org.balance(account["Code"], until_day=until, from_day=month_start)
            if account_class in ("REVENUE", "EXPENSE"):
                ytd = org.balance(account["Code"], until_day=until, from_day=year_start)
            else:
                ytd = org.balance(account["Code"], until_day=until)
            if account.get("SystemAccount") == "RETAINEDEARNINGS":
                ytd -= earlier_years_profit  # debit-positive
            if not month and not ytd:
                continue
            values = [max(month, 0), max(-month, 0), max(ytd, 0), max(-ytd, 0)]
            totals = [t + v for t, v in zip(totals, values)]
            cells = [reports.amount(v) if v else "" for v in values]
            if not month:  # Xero shows a zero month as 0.00 on the side of the year-to-date balance
                cells[0 if ytd > 0 else 1] = "0.00"
            section_rows.append(reports._account_row(account, cells))
        rows.append({"RowType": "Section", "Title": title, "Rows": section_rows})
    rows.append({"RowType": "Section", "Title": "",
                 "Rows": [reports._summary("Total", [reports.amount(v) for v in totals])]})
    return reports._report(org, "TrialBalance", f"As at {reports._long(at)}", at, updated, rows)


@contextlib.contextmanager
def xero_trial_balance_installed():
    """Serve ``trial_balance`` above from every sandbox in this process, then restore the sandbox's own."""
    original = reports.BUILDERS["TrialBalance"]
    reports.BUILDERS["TrialBalance"] = trial_balance
    try:
        yield
    finally:
        reports.BUILDERS["TrialBalance"] = original
