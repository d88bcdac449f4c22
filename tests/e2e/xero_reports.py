"""Xero's reports where the sandbox's depart from them, for the sandbox to serve during the model tests.

The sandbox's TrialBalance (sandbox/xero_sandbox/resources/reports.py) departs from Xero's in two ways that the
models' tie-out must not bend to:

- its Debit and Credit columns hold each account's balance since the beginning, where Xero's hold the
  movement in the month of the report date (Xero's help: "the balance just for the month of the report";
  the spec's example: the month columns total 1200.00 / 1200.00 beside YTD totals of 46019.00);
- its Retained Earnings YTD figure lacks the profit of earlier financial years, which Xero closes into
  that account (the spec's example: "Retained Earnings (320)" with a toDate attribute of the previous
  year end), so its YTD columns do not balance once a financial year has ended.

Its BalanceSheet's Current Year Earnings line has no account attribute, where Xero's carries the nil
UUID as its account (the spec's example), which a model must not take for an account.

``trial_balance`` and ``balance_sheet`` below are what the sandbox should serve instead (same signature
as its builders); the end-to-end model tests install them with ``xero_reports_installed``. Once the
sandbox serves these itself, this module can go.

The sandbox has one currency per organisation, so it never shows what Xero does for foreign-currency
balances: revalue them at the report date's rate when it runs the report, with the difference on an
"Unrealised Currency Gains" line that no journal holds. ``revalue`` makes ``balance_sheet`` show such a
revaluation of one bank account for one organisation.
"""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal

from xero_sandbox.resources import reports
from xero_sandbox.organisation import Organisation


def trial_balance(org: Organisation, params: dict[str, str], today: date, updated: str) -> dict:
    at = reports.ReportQuery(params).date("date", today)
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
            totals = [t + v for t, v in zip(totals, values, strict=True)]
            cells = [reports.amount(v) if v else "" for v in values]
            if not month:  # Xero shows a zero month as 0.00 on the side of the year-to-date balance
                cells[0 if ytd > 0 else 1] = "0.00"
            section_rows.append(reports._account_row(account, cells))
        rows.append({"RowType": "Section", "Title": title, "Rows": section_rows})
    rows.append({"RowType": "Section", "Title": "",
                 "Rows": [reports._summary("Total", [reports.amount(v) for v in totals])]})
    return reports._report(org, "TrialBalance", f"As at {reports._long(at)}", at, updated, rows)


NIL_ACCOUNT = "00000000-0000-0000-0000-000000000000"


# {tenant id: (bank account code, AccountID of the unrealised-gains account, revaluation)}
_REVALUATIONS: dict[str, tuple[str, str, Decimal]] = {}


def revalue(tenant_id: str, bank_code: str, unrealised_account_id: str, amount: Decimal) -> None:
    """From now on, the balance sheet of ``tenant_id`` shows the bank account ``bank_code`` revalued by
    ``amount`` and an Unrealised Currency Gains line of ``amount`` in Equity (so it still balances)."""
    _REVALUATIONS[tenant_id] = (bank_code, unrealised_account_id, amount)


def _account_of(row: dict) -> str | None:
    return next((a["Value"] for a in row["Cells"][0].get("Attributes", ()) if a["Id"] == "account"), None)


def _add(row: dict, amount: Decimal) -> None:
    cell = row["Cells"][1]
    cell["Value"] = str(Decimal(cell["Value"]) + amount)


def balance_sheet(org: Organisation, params: dict[str, str], today: date, updated: str) -> dict:
    report = reports.balance_sheet(org, params, today, updated)
    revaluation = _REVALUATIONS.get(org.tenant_id)
    for section in report["Rows"]:
        rows = section.get("Rows", [])
        for row in rows:
            title = row["Cells"][0]["Value"]
            if title == "Current Year Earnings":
                for cell in row["Cells"]:
                    cell["Attributes"] = [{"Value": NIL_ACCOUNT, "Id": "account"}]
            if revaluation and (_account_of(row) == org.accounts_by_code[revaluation[0]]["AccountID"]
                                or title in ("Total Assets", "Net Assets", "Total Equity")):
                _add(row, revaluation[2])
        if revaluation and section.get("Title") == "Equity":
            unrealised = [{"Value": revaluation[1], "Id": "account"}]
            rows.insert(len(rows) - 1, {"RowType": "Row", "Cells": [
                {"Value": "Unrealised Currency Gains", "Attributes": unrealised},
                {"Value": str(revaluation[2]), "Attributes": unrealised}]})
    return report


@contextlib.contextmanager
def xero_reports_installed():
    """Serve the builders above from every sandbox in this process, then restore the sandbox's own."""
    replaced = {"TrialBalance": trial_balance, "BalanceSheet": balance_sheet}
    originals = {name: reports.BUILDERS[name] for name in replaced}
    reports.BUILDERS.update(replaced)
    try:
        yield
    finally:
        reports.BUILDERS.update(originals)
        _REVALUATIONS.clear()
