"""Xero reports computed from the journals' per-account daily totals.

Every figure comes from ``Organisation.daily`` (signed cents per account per day, debit
positive), which the generator and every mutation keep equal to the sum of journal lines.
So the trial balance at a date equals the sum of the journal lines dated on or before it.
Numbers in cells are strings with two decimals, as Xero sends them.
"""

from __future__ import annotations

import calendar
from datetime import date

from tap_xero.sandbox.data import ACCOUNT_CLASS, BANK_CODES, UNIX_EPOCH_ORDINAL, Organisation, money, parse_ms_date

TITLES = {
    "TrialBalance": "Trial Balance", "ProfitAndLoss": "Profit and Loss", "BalanceSheet": "Balance Sheet",
    "BankSummary": "Bank Summary", "BudgetSummary": "Budget Summary", "ExecutiveSummary": "Executive Summary",
}
INCOME_TYPES = ("REVENUE", "SALES")
OTHER_INCOME_TYPES = ("OTHERINCOME",)
DIRECT_COST_TYPES = ("DIRECTCOSTS",)
EXPENSE_TYPES = ("EXPENSE", "OVERHEADS", "DEPRECIATN")


def amount(cents: int) -> str:
    return str(money(cents))


def _param_date(params: dict[str, str], name: str, default: date) -> date:
    for key, value in params.items():
        if key.lower() == name.lower() and value:
            try:
                return date.fromisoformat(str(value)[:10])
            except ValueError:
                raise ValueError(f"'{value}' is not a valid {name} (expected YYYY-MM-DD)") from None
    return default


def _long(day: date) -> str:
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _year_start(org: Organisation, day: date) -> date:
    """First day of the financial year containing ``day`` (the year ends on 30 June)."""
    end_month = org.organisation["FinancialYearEndMonth"]
    start_month = end_month % 12 + 1
    year = day.year if day.month >= start_month else day.year - 1
    return date(year, start_month, 1)


def _cell(value: str, account_id: str | None = None) -> dict:
    cell: dict = {"Value": value}
    if account_id:
        cell["Attributes"] = [{"Value": account_id, "Id": "account"}]
    return cell


def _account_row(account: dict, values: list[str]) -> dict:
    label = f"{account['Name']} ({account['Code']})"
    return {"RowType": "Row", "Cells": [_cell(label, account["AccountID"])] +
            [_cell(v, account["AccountID"]) for v in values]}


def _summary(title: str, values: list[str]) -> dict:
    return {"RowType": "SummaryRow", "Cells": [_cell(title)] + [_cell(v) for v in values]}


def _accounts(org: Organisation, types: tuple[str, ...] | None = None, classes: tuple[str, ...] | None = None):
    for account in org.accounts_by_code.values():
        if types is not None and account.get("Type") not in types:
            continue
        if classes is not None and ACCOUNT_CLASS.get(account.get("Type"), "") not in classes:
            continue
        yield account


def _report(org: Organisation, name: str, subtitle: str, report_date: date, updated: str, rows: list[dict]) -> dict:
    return {
        "ReportID": name, "ReportName": TITLES[name], "ReportType": name,
        "ReportTitles": [TITLES[name], org.name, subtitle], "ReportDate": _long(report_date),
        "UpdatedDateUTC": updated, "Fields": [], "Rows": rows,
    }


def trial_balance(org: Organisation, params: dict[str, str], today: date, updated: str) -> dict:
    at = _param_date(params, "date", today)
    until = at.toordinal()
    year_start = _year_start(org, at).toordinal()
    rows: list[dict] = [{"RowType": "Header", "Cells": [_cell(c) for c in
                                                        ("Account", "Debit", "Credit", "YTD Debit", "YTD Credit")]}]
    totals = [0, 0, 0, 0]
    for title, classes in (("Revenue", ("REVENUE",)), ("Expenses", ("EXPENSE",)), ("Assets", ("ASSET",)),
                           ("Liabilities", ("LIABILITY",)), ("Equity", ("EQUITY",))):
        section_rows = []
        for account in _accounts(org, classes=classes):
            balance = org.balance(account["Code"], until_day=until)
            profit_and_loss = classes[0] in ("REVENUE", "EXPENSE")
            ytd = org.balance(account["Code"], until_day=until, from_day=year_start) if profit_and_loss else balance
            if not balance and not ytd:
                continue
            values = [max(balance, 0), max(-balance, 0), max(ytd, 0), max(-ytd, 0)]
            totals = [t + v for t, v in zip(totals, values)]
            section_rows.append(_account_row(account, [amount(v) if v else "" for v in values]))
        rows.append({"RowType": "Section", "Title": title, "Rows": section_rows})
    rows.append({"RowType": "Section", "Title": "", "Rows": [_summary("Total", [amount(v) for v in totals])]})
    return _report(org, "TrialBalance", f"As at {_long(at)}", at, updated, rows)


def _movement(org: Organisation, account: dict, start: int, end: int) -> int:
    return org.balance(account["Code"], until_day=end, from_day=start)


def profit_and_loss(org: Organisation, params: dict[str, str], today: date, updated: str) -> dict:
    start = _param_date(params, "fromDate", today.replace(day=1))
    end = _param_date(params, "toDate", _month_end(start))
    if end < start:
        raise ValueError("toDate must not be before fromDate")
    s, e = start.toordinal(), end.toordinal()
    period = f"{start.day} {calendar.month_abbr[start.month]} {start.year}-{end.day} {calendar.month_abbr[end.month]} {end.year}"
    rows: list[dict] = [{"RowType": "Header", "Cells": [_cell(""), _cell(period)]}]

    def section(title: str, types: tuple[str, ...], sign: int, total_title: str) -> int:
        total = 0
        section_rows = []
        for account in _accounts(org, types=types):
            value = sign * _movement(org, account, s, e)
            if value:
                total += value
                section_rows.append(_account_row(account, [amount(value)]))
        section_rows.append(_summary(total_title, [amount(total)]))
        rows.append({"RowType": "Section", "Title": title, "Rows": section_rows})
        return total

    income = section("Income", INCOME_TYPES, -1, "Total Income")
    costs = section("Less Cost of Sales", DIRECT_COST_TYPES, 1, "Total Cost of Sales")
    rows.append({"RowType": "Section", "Title": "", "Rows": [
        {"RowType": "Row", "Cells": [_cell("Gross Profit"), _cell(amount(income - costs))]}]})
    other = section("Plus Other Income", OTHER_INCOME_TYPES, -1, "Total Other Income")
    expenses = section("Less Operating Expenses", EXPENSE_TYPES, 1, "Total Operating Expenses")
    rows.append({"RowType": "Section", "Title": "", "Rows": [
        {"RowType": "Row", "Cells": [_cell("Net Profit"), _cell(amount(income - costs + other - expenses))]}]})
    return _report(org, "ProfitAndLoss", f"For the period {_long(start)} to {_long(end)}", end, updated, rows)


def net_profit(org: Organisation, start: int | None, end: int) -> int:
    """Income minus expenses between two days (credit-positive), over every P&L account."""
    total = 0
    for account in _accounts(org, classes=("REVENUE", "EXPENSE")):
        total -= org.balance(account["Code"], until_day=end, from_day=start)
    return total


def balance_sheet(org: Organisation, params: dict[str, str], today: date, updated: str) -> dict:
    at = _param_date(params, "date", today)
    until = at.toordinal()
    year_start = _year_start(org, at).toordinal()
    rows: list[dict] = [{"RowType": "Header", "Cells": [_cell(""), _cell(_long(at))]}]

    def section(title: str, classes: tuple[str, ...], sign: int, extra: list[tuple[str, int]] = ()) -> int:
        total = 0
        section_rows = []
        for account in _accounts(org, classes=classes):
            value = sign * org.balance(account["Code"], until_day=until)
            if account.get("SystemAccount") == "RETAINEDEARNINGS":
                value += net_profit(org, None, year_start - 1)  # earlier years close into retained earnings
            if value:
                total += value
                section_rows.append(_account_row(account, [amount(value)]))
        for label, value in extra:
            total += value
            section_rows.append({"RowType": "Row", "Cells": [_cell(label), _cell(amount(value))]})
        section_rows.append(_summary(f"Total {title}", [amount(total)]))
        rows.append({"RowType": "Section", "Title": title, "Rows": section_rows})
        return total

    assets = section("Assets", ("ASSET",), 1)
    liabilities = section("Liabilities", ("LIABILITY",), -1)
    rows.append({"RowType": "Section", "Title": "", "Rows": [
        {"RowType": "Row", "Cells": [_cell("Net Assets"), _cell(amount(assets - liabilities))]}]})
    section("Equity", ("EQUITY",), -1, [("Current Year Earnings", net_profit(org, year_start, until))])
    return _report(org, "BalanceSheet", f"As at {_long(at)}", at, updated, rows)


def bank_summary(org: Organisation, params: dict[str, str], today: date, updated: str) -> dict:
    start = _param_date(params, "fromDate", today.replace(day=1))
    end = _param_date(params, "toDate", _month_end(start))
    s, e = start.toordinal(), end.toordinal()
    rows: list[dict] = [{"RowType": "Header", "Cells": [_cell(c) for c in (
        "Bank Accounts", "Opening Balance", "Cash Received", "Cash Spent", "Closing Balance")]}]
    section_rows = []
    totals = [0, 0, 0, 0]
    for account in _accounts(org, types=("BANK",)):
        code = account["Code"]
        opening = org.balance(code, until_day=s - 1)
        received = sum(v for d, v in org.daily_debits.get(code, {}).items() if s <= d <= e)
        spent = received - org.balance(code, until_day=e, from_day=s)
        closing = opening + received - spent
        values = [opening, received, spent, closing]
        totals = [t + v for t, v in zip(totals, values)]
        section_rows.append({"RowType": "Row", "Cells": [_cell(account["Name"], account["AccountID"])] +
                             [_cell(amount(v), account["AccountID"]) for v in values]})
    section_rows.append(_summary("Total", [amount(v) for v in totals]))
    rows.append({"RowType": "Section", "Title": "", "Rows": section_rows})
    return _report(org, "BankSummary", f"For the period {_long(start)} to {_long(end)}", end, updated, rows)


def budget_summary(org: Organisation, params: dict[str, str], today: date, updated: str) -> dict:
    at = _param_date(params, "date", today)
    budget = org.budgets[0]
    periods = [b["Period"] for b in budget["BudgetLines"][0]["BudgetBalances"]]
    labels = []
    for period in periods:
        day = date.fromordinal(UNIX_EPOCH_ORDINAL + parse_ms_date(period) // 86_400_000)
        labels.append(f"{calendar.month_abbr[day.month]}-{str(day.year)[2:]}")
    rows: list[dict] = [{"RowType": "Header", "Cells": [_cell("Account")] + [_cell(v) for v in labels]}]
    for title, classes in (("Income", ("REVENUE",)), ("Expenses", ("EXPENSE",))):
        section_rows = []
        totals = [0] * len(periods)
        for line in budget["BudgetLines"]:
            account = org.accounts_by_code[line["AccountCode"]]
            if ACCOUNT_CLASS[account["Type"]] not in classes:
                continue
            values = [int(b["Amount"] * 100) for b in line["BudgetBalances"]]
            totals = [t + v for t, v in zip(totals, values)]
            section_rows.append(_account_row(account, [amount(v) for v in values]))
        section_rows.append(_summary(f"Total {title}", [amount(v) for v in totals]))
        rows.append({"RowType": "Section", "Title": title, "Rows": section_rows})
    return _report(org, "BudgetSummary", f"{budget['Description']} for 12 months", at, updated, rows)


def executive_summary(org: Organisation, params: dict[str, str], today: date, updated: str) -> dict:
    at = _param_date(params, "date", today)
    s, e = at.replace(day=1).toordinal(), _month_end(at).toordinal()
    month = f"{calendar.month_abbr[at.month]} {at.year}"

    def movement(types: tuple[str, ...], sign: int) -> int:
        return sum(sign * org.balance(a["Code"], until_day=e, from_day=s) for a in _accounts(org, types=types))

    received = sum(v for code in BANK_CODES for d, v in org.daily_debits.get(code, {}).items() if s <= d <= e)
    net_cash = movement(("BANK",), 1)
    closing = sum(org.balance(code, until_day=e) for code in BANK_CODES)
    income = movement(INCOME_TYPES, -1)
    direct = movement(DIRECT_COST_TYPES, 1)
    other = movement(OTHER_INCOME_TYPES, -1)
    expenses = movement(EXPENSE_TYPES, 1)
    debtors = org.balance("610", until_day=e)
    creditors = -org.balance("800", until_day=e)
    net_assets = sum(org.balance(a["Code"], until_day=e) for a in _accounts(org, classes=("ASSET", "LIABILITY")))

    def section(title: str, items: list[tuple[str, int]]) -> dict:
        return {"RowType": "Section", "Title": title, "Rows": [
            {"RowType": "Row", "Cells": [_cell(label), _cell(amount(value))]} for label, value in items]}

    rows = [
        {"RowType": "Header", "Cells": [_cell(""), _cell(month)]},
        section("Cash", [("Cash received", received), ("Cash spent", received - net_cash),
                         ("Cash surplus (deficit)", net_cash), ("Closing bank balance", closing)]),
        section("Profitability", [("Income", income), ("Direct costs", direct), ("Gross profit (loss)", income - direct),
                                  ("Other Income", other), ("Expenses", expenses),
                                  ("Profit (loss)", income - direct + other - expenses)]),
        section("Balance Sheet", [("Debtors", debtors), ("Creditors", creditors),
                                  ("Net assets", net_assets)]),
    ]
    return _report(org, "ExecutiveSummary", f"For the month of {calendar.month_name[at.month]} {at.year}", at,
                   updated, rows)


BUILDERS = {
    "TrialBalance": trial_balance, "ProfitAndLoss": profit_and_loss, "BalanceSheet": balance_sheet,
    "BankSummary": bank_summary, "BudgetSummary": budget_summary, "ExecutiveSummary": executive_summary,
}


def build_report(org: Organisation, name: str, params: dict[str, str], today: date, updated: str) -> dict:
    """One ReportWithRow object; KeyError for a report the sandbox does not serve."""
    try:
        builder = BUILDERS[name]
    except KeyError:
        raise KeyError(f"unknown report {name}") from None
    return builder(org, params or {}, today, updated)

