"""Xero reports computed from the journals' per-account daily totals.

Every figure comes from the tenant's ``Ledger`` (core/ledger.py: signed cents per account per day, debit
positive), which the generator and every mutation keep equal to the sum of journal lines.
So every figure is a sum of journal lines: the trial balance at a date holds, per account, the
movement in that date's month (Debit, Credit) and the year-to-date balance (YTD Debit, YTD Credit:
revenue and expenses since the financial year's start, the other accounts since the beginning, Retained
Earnings with the profit of the years before, which Xero closes into it).
Numbers in cells are strings with two decimals, as Xero sends them. Current Year Earnings on the
balance sheet names the nil UUID as its account, as Xero's does.

Parameters are read by ``report_periods.ReportQuery`` (case-insensitive names, ``ValueError``
for a malformed value, unknown ones ignored). Multi-column layouts (docs/sandbox.md, Reports):

- ProfitAndLoss ``periods=N`` (1..12) + ``timeframe``: N+1 value columns, newest first; column i
  is [fromDate, toDate] shifted back i timeframes (``report_periods.shift_months``).
- BalanceSheet ``periods=N`` + ``timeframe``: N+1 columns, newest first, as at ``date`` shifted back.
- BudgetSummary: ``periods`` (default 12) columns of ``timeframe`` months (1, 3 or 12), oldest
  first, from the month of ``date``.
- ExecutiveSummary: the month of ``date``, the month before, and the variance between them.

A column of a multi-column answer equals the single-column answer for its range: the same
header title and, row for row, the same values (a row the single answer leaves out because it
is zero there shows "0.00"). ``paymentsOnly`` and ``standardLayout`` are accepted and change
nothing (accrual figures, one layout).

- ProfitAndLoss ``trackingCategoryID``: one column per option of that category (archived ones too),
  then Unassigned (lines tracked to none of its options) and Total (the plain report's figure), over
  [fromDate, toDate]; with ``trackingOptionID`` that option's column alone. The spec documents no
  layout for tracking columns across several periods, so with a tracking category ``periods`` and
  ``timeframe`` are read (validated) and ignored: an assumption, docs/sandbox.md. The second pair
  (``trackingCategoryID2``/``trackingOptionID2``) and the BalanceSheet's tracking options are accepted
  and ignored.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from xero_sandbox.core.generation import UNIX_EPOCH_ORDINAL, money, parse_ms_date
from xero_sandbox.core.tenant_data import TenantData
from xero_sandbox.resources.report_periods import ReportQuery, month_end, month_start, shift_months
from xero_sandbox.resources.settings import ACCOUNT_CLASS, BANK_CODES

TITLES = {
    "TrialBalance": "Trial Balance", "ProfitAndLoss": "Profit and Loss", "BalanceSheet": "Balance Sheet",
    "BankSummary": "Bank Summary", "BudgetSummary": "Budget Summary", "ExecutiveSummary": "Executive Summary",
}
INCOME_TYPES = ("REVENUE", "SALES")
OTHER_INCOME_TYPES = ("OTHERINCOME",)
DIRECT_COST_TYPES = ("DIRECTCOSTS",)
EXPENSE_TYPES = ("EXPENSE", "OVERHEADS", "DEPRECIATN")
TENTH = Decimal("0.1")
NIL_ACCOUNT_ID = "00000000-0000-0000-0000-000000000000"  # what Xero's Current Year Earnings line names


def amount(cents: int) -> str:
    return str(money(cents))


def _long(day: date) -> str:
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


def _year_start(org: TenantData, day: date) -> date:
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


def _row(label: str, values: list[int], account_id: str | None = None) -> dict:
    return {"RowType": "Row", "Cells": [_cell(label, account_id)] + [_cell(amount(v), account_id) for v in values]}


def _summary(title: str, values: list[str]) -> dict:
    return {"RowType": "SummaryRow", "Cells": [_cell(title)] + [_cell(v) for v in values]}


def _header(first: str, titles: Iterable[str]) -> dict:
    return {"RowType": "Header", "Cells": [_cell(first)] + [_cell(t) for t in titles]}


def _accounts(org: TenantData, types: tuple[str, ...] | None = None, classes: tuple[str, ...] | None = None):
    for account in org.accounts_by_code.values():
        if types is not None and account.get("Type") not in types:
            continue
        if classes is not None and ACCOUNT_CLASS.get(account.get("Type", ""), "") not in classes:
            continue
        yield account


def _account_section(title: str, accounts: Iterable[dict], values_of: Callable[[dict], list[int]], width: int,
                     total_title: str, extra: Iterable[tuple[str, list[int], str | None]] = ()
                     ) -> tuple[dict, list[int]]:
    """A Section of account rows (those non-zero in some column), extra rows (label, values, the account
    their cells name or None), and a total per column."""
    totals = [0] * width
    rows = []
    for account in accounts:
        values = values_of(account)
        if any(values):
            totals = [t + v for t, v in zip(totals, values, strict=True)]
            rows.append(_account_row(account, [amount(v) for v in values]))
    for label, values, account_id in extra:
        totals = [t + v for t, v in zip(totals, values, strict=True)]
        rows.append(_row(label, values, account_id))
    rows.append(_summary(total_title, [amount(v) for v in totals]))
    return {"RowType": "Section", "Title": title, "Rows": rows}, totals


def _report(org: TenantData, name: str, subtitle: str, report_date: date, updated: str, rows: list[dict],
            titles: list[str] | None = None) -> dict:
    return {
        "ReportID": name, "ReportName": TITLES[name], "ReportType": name,
        "ReportTitles": titles or [TITLES[name], org.name, subtitle], "ReportDate": _long(report_date),
        "UpdatedDateUTC": updated, "Fields": [], "Rows": rows,
    }


def _date_range(query: ReportQuery, today: date) -> tuple[date, date]:
    """fromDate/toDate: by default the current month; toDate defaults to the end of fromDate's month."""
    start = query.date("fromDate", today.replace(day=1))
    end = query.date("toDate", month_end(start))
    if end < start:
        raise ValueError("toDate must not be before fromDate")
    return start, end


# -- the reports --------------------------------------------------------------------------------------


TRIAL_BALANCE_SECTIONS = (("Revenue", "REVENUE"), ("Expenses", "EXPENSE"), ("Assets", "ASSET"),
                          ("Liabilities", "LIABILITY"), ("Equity", "EQUITY"))
PROFIT_AND_LOSS_CLASSES = ("REVENUE", "EXPENSE")


def _trial_balance_row(account: dict, month: int, ytd: int) -> tuple[dict, list[int]]:
    """An account's row and its four figures (Debit, Credit, YTD Debit, YTD Credit), each signed figure on
    its side and "" on the other; a month without movement shows "0.00" on the side of the year-to-date
    balance, as Xero does (the spec's example: Unpaid Expense Claims, Retained Earnings)."""
    values = [max(month, 0), max(-month, 0), max(ytd, 0), max(-ytd, 0)]
    cells = [amount(v) if v else "" for v in values]
    if not month:
        cells[0 if ytd > 0 else 1] = "0.00"
    return _account_row(account, cells), values


def trial_balance(org: TenantData, params: dict[str, str], today: date, updated: str) -> dict:
    """Xero's Trial Balance at ``date``: Debit and Credit hold each account's movement in the month of
    ``date`` (from its 1st to ``date``); YTD Debit and YTD Credit its year-to-date balance (revenue and
    expense accounts since the start of the financial year, the others since the beginning, Retained
    Earnings with the profit of every earlier financial year, which Xero closes into it). An account is
    shown when either figure is non-zero; both pairs of columns balance."""
    query = ReportQuery(params)
    at = query.date("date", today)
    query.flag("paymentsOnly")
    until, month_from = at.toordinal(), month_start(at).toordinal()
    year_from = _year_start(org, at).toordinal()
    closed_profit = -net_profit(org, None, year_from - 1)  # debit-signed, as the ledger
    rows: list[dict] = [_header("Account", ("Debit", "Credit", "YTD Debit", "YTD Credit"))]
    totals = [0, 0, 0, 0]
    for title, account_class in TRIAL_BALANCE_SECTIONS:
        section_rows = []
        ytd_from = year_from if account_class in PROFIT_AND_LOSS_CLASSES else None
        for account in _accounts(org, classes=(account_class,)):
            month = org.ledger.balance(account["Code"], until_day=until, from_day=month_from)
            ytd = org.ledger.balance(account["Code"], until_day=until, from_day=ytd_from)
            if account.get("SystemAccount") == "RETAINEDEARNINGS":
                ytd += closed_profit
            if not month and not ytd:
                continue
            row, values = _trial_balance_row(account, month, ytd)
            totals = [t + v for t, v in zip(totals, values, strict=True)]
            section_rows.append(row)
        rows.append({"RowType": "Section", "Title": title, "Rows": section_rows})
    rows.append({"RowType": "Section", "Title": "", "Rows": [_summary("Total", [amount(v) for v in totals])]})
    return _report(org, "TrialBalance", f"As at {_long(at)}", at, updated, rows)


def _range_title(start: date, end: date) -> str:
    """A ProfitAndLoss column's header title: "1 Jan 2025-31 Jan 2025"."""
    return (f"{start.day} {calendar.month_abbr[start.month]} {start.year}-"
            f"{end.day} {calendar.month_abbr[end.month]} {end.year}")


def profit_and_loss(org: TenantData, params: dict[str, str], today: date, updated: str) -> dict:
    """Columns: [fromDate, toDate] and ``periods`` earlier ranges; or, with ``trackingCategoryID``, the
    range split by that category's options (``_tracking_columns``)."""
    query = ReportQuery(params)
    start, end = _date_range(query, today)
    comparisons, step = query.periods(default=0), query.timeframe_months()
    query.flag("standardLayout"), query.flag("paymentsOnly")
    category_id = query.text("trackingCategoryID")
    if category_id is not None:
        columns = _tracking_columns(org, category_id, query.text("trackingOptionID"), start, end)
    else:
        ranges = [(shift_months(start, -i * step), shift_months(end, -i * step)) for i in range(comparisons + 1)]
        columns = [(_range_title(s, e), _movement(org, s.toordinal(), e.toordinal())) for s, e in ranges]
    width = len(columns)
    rows: list[dict] = [_header("", (title for title, _ in columns))]

    def section(title: str, types: tuple[str, ...], sign: int, total_title: str) -> list[int]:
        def values_of(account: dict) -> list[int]:
            return [sign * value_of(account["Code"]) for _, value_of in columns]
        built, totals = _account_section(title, _accounts(org, types=types), values_of, width, total_title)
        rows.append(built)
        return totals

    income = section("Income", INCOME_TYPES, -1, "Total Income")
    costs = section("Less Cost of Sales", DIRECT_COST_TYPES, 1, "Total Cost of Sales")
    gross = [i - c for i, c in zip(income, costs, strict=True)]
    rows.append({"RowType": "Section", "Title": "", "Rows": [_row("Gross Profit", gross)]})
    other = section("Plus Other Income", OTHER_INCOME_TYPES, -1, "Total Other Income")
    expenses = section("Less Operating Expenses", EXPENSE_TYPES, 1, "Total Operating Expenses")
    net = [g + o - x for g, o, x in zip(gross, other, expenses, strict=True)]
    rows.append({"RowType": "Section", "Title": "", "Rows": [_row("Net Profit", net)]})
    return _report(org, "ProfitAndLoss", f"For the period {_long(start)} to {_long(end)}", end, updated, rows)


def _movement(org: TenantData, s: int, e: int) -> Callable[[str], int]:
    return lambda code: org.ledger.balance(code, until_day=e, from_day=s)


def _tracking_columns(org: TenantData, category_id: str, option_id: str | None, start: date, end: date
                      ) -> list[tuple[str, Callable[[str], int]]]:
    """The ProfitAndLoss columns of one tracking category over [start, end]: each of its options, then
    Unassigned (the lines tracked to none of them) and Total (the plain report's figure); with
    ``trackingOptionID``, that option alone. ``ValueError`` for an unknown category or option."""
    category = next((c for c in org.tracking_categories if c["TrackingCategoryID"] == category_id), None)
    if category is None:
        raise ValueError(f"TrackingCategory '{category_id}' was not found")
    s, e = start.toordinal(), end.toordinal()
    total = _movement(org, s, e)

    def tracked(option: dict) -> Callable[[str], int]:
        return lambda code: org.ledger.tracked_balance(code, option["TrackingOptionID"], s, e)

    options = [(o["Name"], tracked(o)) for o in category["Options"]
               if option_id is None or o["TrackingOptionID"] == option_id]
    if option_id is not None:
        if not options:
            raise ValueError(f"TrackingOption '{option_id}' was not found in category '{category['Name']}'")
        return options

    def unassigned(code: str) -> int:
        return total(code) - sum(value_of(code) for _, value_of in options)

    return [*options, ("Unassigned", unassigned), ("Total", total)]


def net_profit(org: TenantData, start: int | None, end: int) -> int:
    """Income minus expenses between two days (credit-positive), over every P&L account."""
    total = 0
    for account in _accounts(org, classes=("REVENUE", "EXPENSE")):
        total -= org.ledger.balance(account["Code"], until_day=end, from_day=start)
    return total


def balance_sheet(org: TenantData, params: dict[str, str], today: date, updated: str) -> dict:
    query = ReportQuery(params)
    at = query.date("date", today)
    comparisons, step = query.periods(default=0), query.timeframe_months()
    query.flag("standardLayout"), query.flag("paymentsOnly")
    dates = [shift_months(at, -i * step) for i in range(comparisons + 1)]
    # (last day, first day of its financial year) per column: earlier years close into retained earnings.
    columns = [(d.toordinal(), _year_start(org, d).toordinal()) for d in dates]
    retained = [net_profit(org, None, year_start - 1) for _, year_start in columns]
    rows: list[dict] = [_header("", (_long(d) for d in dates))]

    def section(title: str, classes: tuple[str, ...], sign: int, extra=()) -> list[int]:
        def values_of(account: dict) -> list[int]:
            values = [sign * org.ledger.balance(account["Code"], until_day=until) for until, _ in columns]
            if account.get("SystemAccount") == "RETAINEDEARNINGS":
                values = [v + r for v, r in zip(values, retained, strict=True)]
            return values
        built, totals = _account_section(title, _accounts(org, classes=classes), values_of, len(columns),
                                         f"Total {title}", extra)
        rows.append(built)
        return totals

    assets = section("Assets", ("ASSET",), 1)
    liabilities = section("Liabilities", ("LIABILITY",), -1)
    rows.append({"RowType": "Section", "Title": "", "Rows": [
        _row("Net Assets", [a - b for a, b in zip(assets, liabilities, strict=True)])]})
    current_year = [net_profit(org, year_start, until) for until, year_start in columns]
    # Xero names no account on Current Year Earnings but the nil UUID (the spec's example).
    section("Equity", ("EQUITY",), -1, [("Current Year Earnings", current_year, NIL_ACCOUNT_ID)])
    return _report(org, "BalanceSheet", f"As at {_long(at)}", at, updated, rows)


def bank_summary(org: TenantData, params: dict[str, str], today: date, updated: str) -> dict:
    start, end = _date_range(ReportQuery(params), today)
    s, e = start.toordinal(), end.toordinal()
    rows: list[dict] = [_header("Bank Accounts", ("Opening Balance", "Cash Received", "Cash Spent", "Closing Balance"))]
    section_rows = []
    totals = [0, 0, 0, 0]
    for account in _accounts(org, types=("BANK",)):
        code = account["Code"]
        opening = org.ledger.balance(code, until_day=s - 1)
        received = org.ledger.debited(code, s, e)
        spent = received - org.ledger.balance(code, until_day=e, from_day=s)
        closing = opening + received - spent
        values = [opening, received, spent, closing]
        totals = [t + v for t, v in zip(totals, values, strict=True)]
        section_rows.append({"RowType": "Row", "Cells": [_cell(account["Name"], account["AccountID"])] +
                             [_cell(amount(v), account["AccountID"]) for v in values]})
    section_rows.append(_summary("Total", [amount(v) for v in totals]))
    rows.append({"RowType": "Section", "Title": "", "Rows": section_rows})
    return _report(org, "BankSummary", f"For the period {_long(start)} to {_long(end)}", end, updated, rows)


def _budget_months(budget: dict) -> list[tuple[int, int]]:
    """(year, month) of each BudgetBalance period, in the order of every line's balances."""
    out = []
    for balance in budget["BudgetLines"][0]["BudgetBalances"]:
        day = date.fromordinal(UNIX_EPOCH_ORDINAL + parse_ms_date(balance["Period"]) // 86_400_000)
        out.append((day.year, day.month))
    return out


def budget_summary(org: TenantData, params: dict[str, str], today: date, updated: str) -> dict:
    query = ReportQuery(params)
    at = query.date("date", today)
    count, months = query.periods(default=12), query.budget_timeframe()
    # Column j: the ``months`` calendar months starting j * months after the month of ``date``.
    spans = [[shift_months(month_start(at), j * months + k) for k in range(months)] for j in range(count)]
    budget = org.budgets[0]
    budget_months = _budget_months(budget)
    rows: list[dict] = [_header("Account", (f"{calendar.month_abbr[span[-1].month]}-{span[-1].year % 100:02d}"
                                            for span in spans))]
    for title, classes in (("Income", ("REVENUE",)), ("Expenses", ("EXPENSE",))):
        section_rows, totals = [], [0] * count
        for line in budget["BudgetLines"]:
            account = org.accounts_by_code[line["AccountCode"]]
            if ACCOUNT_CLASS[account["Type"]] not in classes:
                continue
            by_month = {ym: int(b["Amount"] * 100)
                        for ym, b in zip(budget_months, line["BudgetBalances"], strict=True)}
            values = [sum(by_month.get((m.year, m.month), 0) for m in span) for span in spans]
            totals = [t + v for t, v in zip(totals, values, strict=True)]
            section_rows.append(_account_row(account, [amount(v) for v in values]))
        section_rows.append(_summary(f"Total {title}", [amount(v) for v in totals]))
        rows.append({"RowType": "Section", "Title": title, "Rows": section_rows})
    first, last = spans[0][0], spans[-1][-1]
    span_title = (f"{calendar.month_name[first.month]} {first.year} to "
                  f"{calendar.month_name[last.month]} {last.year}")
    return _report(org, "BudgetSummary", span_title, at, updated, rows,
                   titles=[budget["Description"], TITLES["BudgetSummary"], org.name, span_title])


def _executive_figures(org: TenantData, month: date) -> list[tuple[str, list[tuple[str, int]]]]:
    """The Executive Summary's sections for one calendar month: [(section, [(label, cents)])]."""
    s, e = month.toordinal(), month_end(month).toordinal()

    def movement(types: tuple[str, ...], sign: int) -> int:
        return sum(sign * org.ledger.balance(a["Code"], until_day=e, from_day=s) for a in _accounts(org, types=types))

    received = sum(org.ledger.debited(code, s, e) for code in BANK_CODES)
    net_cash = movement(("BANK",), 1)
    income, direct = movement(INCOME_TYPES, -1), movement(DIRECT_COST_TYPES, 1)
    other, expenses = movement(OTHER_INCOME_TYPES, -1), movement(EXPENSE_TYPES, 1)
    net_assets = sum(org.ledger.balance(a["Code"], until_day=e) for a in _accounts(org, classes=("ASSET", "LIABILITY")))
    return [
        ("Cash", [("Cash received", received), ("Cash spent", received - net_cash),
                  ("Cash surplus (deficit)", net_cash),
                  ("Closing bank balance", sum(org.ledger.balance(code, until_day=e) for code in BANK_CODES))]),
        ("Profitability", [("Income", income), ("Direct costs", direct), ("Gross profit (loss)", income - direct),
                           ("Other Income", other), ("Expenses", expenses),
                           ("Profit (loss)", income - direct + other - expenses)]),
        ("Balance Sheet", [("Debtors", org.ledger.balance("610", until_day=e)),
                           ("Creditors", -org.ledger.balance("800", until_day=e)), ("Net assets", net_assets)]),
    ]


def variance(current: int, previous: int) -> str:
    """Xero's Variance cell: the change as a percentage of the previous value's size, one decimal
    rounded half up ("7.3%", "-21.8%"); "0.0%" when the previous value is zero (as the spec's example)."""
    if previous == 0:
        return "0.0%"
    percent = (Decimal(current - previous) * 100 / abs(previous)).quantize(TENTH, rounding=ROUND_HALF_UP)
    return f"{percent if percent else Decimal('0.0')}%"


def executive_summary(org: TenantData, params: dict[str, str], today: date, updated: str) -> dict:
    at = ReportQuery(params).date("date", today)
    months = [month_start(at), shift_months(month_start(at), -1)]
    current, previous = (_executive_figures(org, m) for m in months)
    rows = [_header("", [f"{calendar.month_abbr[m.month]} {m.year}" for m in months] + ["Variance"])]
    for (title, now), (_, before) in zip(current, previous, strict=True):
        rows.append({"RowType": "Section", "Title": title, "Rows": [
            {"RowType": "Row", "Cells": [_cell(label), _cell(amount(value)), _cell(amount(earlier)),
                                         _cell(variance(value, earlier))]}
            for (label, value), (_, earlier) in zip(now, before, strict=True)]})
    return _report(org, "ExecutiveSummary", f"For the month of {calendar.month_name[at.month]} {at.year}", at,
                   updated, rows)


BUILDERS = {
    "TrialBalance": trial_balance, "ProfitAndLoss": profit_and_loss, "BalanceSheet": balance_sheet,
    "BankSummary": bank_summary, "BudgetSummary": budget_summary, "ExecutiveSummary": executive_summary,
}


def build_report(org: TenantData, name: str, params: dict[str, str], today: date, updated: str) -> dict:
    """One ReportWithRow object; KeyError for a report the sandbox does not serve."""
    try:
        builder = BUILDERS[name]
    except KeyError:
        raise KeyError(f"unknown report {name}") from None
    return builder(org, params or {}, today, updated)
