"""Report flattening (tap_xero/reports.py) on realistic Xero report JSON."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest

from tap_xero import endpoints
from tap_xero.reports import Period, flatten_report, monthly_periods, parse_amount, report_params

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "tap_xero" / "schemas" / "report_balance_sheet.json").read_text()
)
NOV = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
CHECKING = "bd9e85e0-0478-433d-ae9f-0b3c4f04bfe4"
SAVINGS = "6f7594f2-f059-4d56-9e67-47ac9733bfe9"
SALES = "7d05a53d-613d-4eb2-a2fc-dcb6adb80b80"


def cell(value: str, account: str | None = None, attr_id: str = "account") -> dict:
    out: dict = {"Value": value}
    if account:
        out["Attributes"] = [{"Value": account, "Id": attr_id}]
    return out


# Shaped like Xero's BalanceSheet answer: a header, an empty titled section, titled sections with
# account rows and summary rows, an untitled section, and a comparison column.
BALANCE_SHEET = {
    "ReportID": "BalanceSheet",
    "ReportName": "Balance Sheet",
    "ReportType": "BalanceSheet",
    "ReportTitles": ["Balance Sheet", "Demo Company (NZ)", "As at 30 November 2026"],
    "ReportDate": "24 November 2026",
    "UpdatedDateUTC": "/Date(1795507200000)/",
    "Rows": [
        {"RowType": "Header", "Cells": [cell(""), cell("30 Nov 2026"), cell("30 Nov 2025")]},
        {"RowType": "Section", "Title": "Assets", "Rows": []},
        {
            "RowType": "Section",
            "Title": "Bank",
            "Rows": [
                {"RowType": "Row",
                 "Cells": [cell("Checking", CHECKING), cell("1234.56", CHECKING), cell("-20.10", CHECKING)]},
                {"RowType": "Row", "Cells": [cell("Savings", SAVINGS), cell("0.1", SAVINGS), cell("", SAVINGS)]},
                {"RowType": "SummaryRow", "Cells": [cell("Total Bank"), cell("1234.66"), cell("-20.10")]},
            ],
        },
        {
            "RowType": "Section",
            "Title": "",
            "Rows": [
                {"RowType": "Row", "Cells": [cell("Net Assets"), cell("9,876,543.21"), cell("0.00")]},
                {"RowType": "Row", "Cells": [cell("Net Assets"), cell("1"), cell("2")]},
            ],
        },
    ],
}


def test_one_row_per_line_with_exact_numbers_and_stable_keys() -> None:
    rows = flatten_report(BALANCE_SHEET, tenant_id="t1", report_name="BalanceSheet", period=NOV)

    assert [(r["section"], r["line_key"], r["row_type"]) for r in rows] == [
        ("Bank", CHECKING, "Row"),
        ("Bank", SAVINGS, "Row"),
        ("Bank", "Total Bank", "SummaryRow"),
        ("", "Net Assets", "Row"),
        ("", "Net Assets#2", "Row"),
    ]
    checking = rows[0]
    assert checking["account_id"] == CHECKING and checking["row_title"] == "Checking"
    assert checking["value"] == Decimal("1234.56") and isinstance(checking["value"], Decimal)
    assert checking["columns"] == [
        {"index": 0, "title": "30 Nov 2026", "value": Decimal("1234.56"), "text": "1234.56"},
        {"index": 1, "title": "30 Nov 2025", "value": Decimal("-20.10"), "text": "-20.10"},
    ]
    assert rows[1]["columns"][1]["value"] is None  # empty cell
    assert rows[3]["value"] == Decimal("9876543.21")  # thousands separators tolerated
    assert [r["row_index"] for r in rows] == [0, 1, 2, 0, 1]
    assert all(r["period_start"] == "2026-11-01" and r["period_end"] == "2026-11-30" for r in rows)
    assert all(r["tenant_id"] == "t1" and r["report_name"] == "BalanceSheet" for r in rows)
    assert all(r["tracking_option"] == "" for r in rows)
    assert rows[0]["report_titles"][1] == "Demo Company (NZ)"


def test_primary_key_is_unique_and_rows_fit_the_declared_schema() -> None:
    rows = flatten_report(BALANCE_SHEET, tenant_id="t1", report_name="BalanceSheet", period=NOV,
                          tracking_option="North")
    key = ("tenant_id", "report_name", "period_start", "section", "line_key", "tracking_option")
    keys = {tuple(r[k] for k in key) for r in rows}
    assert len(keys) == len(rows)
    as_json = json.loads(json.dumps(rows, default=lambda d: float(d) if isinstance(d, Decimal) else str(d)))
    as_json = [{**r, "report_updated_utc": "2026-11-24T00:00:00Z"} for r in as_json]
    for row in as_json:
        jsonschema.validate(row, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert rows[0]["tracking_option"] == "North"


def test_bank_summary_account_attribute_and_nested_sections() -> None:
    report = {
        "ReportID": "BankSummary",
        "Rows": [
            {"RowType": "Header", "Cells": [cell("Bank Accounts"), cell("Opening Balance"), cell("Closing Balance")]},
            {
                "RowType": "Section",
                "Title": "Accounts",
                "Rows": [
                    {"RowType": "Section", "Title": "", "Rows": [
                        {"RowType": "Row",
                         "Cells": [cell("Big City Bank", CHECKING, "accountID"), cell("10.00"), cell("12%")]},
                    ]},
                    {"RowType": "Section", "Title": "Income", "Rows": [
                        {"RowType": "Row", "Cells": [cell("Sales", SALES), cell("5")]},
                    ]},
                ],
            },
        ],
    }
    rows = flatten_report(report, tenant_id="t", report_name="BankSummary", period=NOV)
    assert [(r["section"], r["account_id"]) for r in rows] == [("Accounts", CHECKING), ("Income", SALES)]
    assert rows[0]["columns"][1] == {"index": 1, "title": "Closing Balance", "value": None, "text": "12%"}


def test_a_report_without_rows_gives_no_rows() -> None:
    empty = {"ReportID": "TrialBalance", "Rows": []}
    assert flatten_report(empty, tenant_id="t", report_name="TrialBalance", period=NOV) == []


def test_monthly_periods_cover_whole_months_from_start_to_now() -> None:
    periods = monthly_periods(dt.date(2025, 11, 17), dt.date(2026, 2, 3))
    assert periods == [
        Period(dt.date(2025, 11, 1), dt.date(2025, 11, 30)),
        Period(dt.date(2025, 12, 1), dt.date(2025, 12, 31)),
        Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
        Period(dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
    ]
    leap = [Period(dt.date(2024, 2, 1), dt.date(2024, 2, 29))]
    assert monthly_periods(dt.date(2024, 2, 29), dt.date(2024, 2, 29)) == leap
    assert monthly_periods(dt.date(2027, 1, 1), dt.date(2026, 12, 31)) == []


def test_report_params_ask_for_a_point_or_a_range() -> None:
    by_name = endpoints.REPORTS_BY_NAME
    assert report_params(by_name["BalanceSheet"], NOV) == {"date": "2026-11-30"}
    assert report_params(by_name["ProfitAndLoss"], NOV) == {"fromDate": "2026-11-01", "toDate": "2026-11-30"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1234.5678", Decimal("1234.5678")), ("-0.01", Decimal("-0.01")), ("", None), (None, None), ("n/a", None),
     ("NaN", None), ("1,000", Decimal("1000"))],
)
def test_parse_amount_is_exact(text, expected) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize("report", endpoints.REPORTS, ids=lambda r: r.name)
def test_the_sandboxs_reports_flatten_to_keyed_numeric_lines(sandbox, xero_session, report) -> None:
    """Xero-shaped reports from the sandbox over HTTP: every line keyed, accounts identified, numbers exact."""
    session = xero_session(sandbox, tenant_index=0)
    response = session.api(report.path, params=report_params(report, Period(dt.date(2025, 6, 1), dt.date(2025, 6, 30))))
    assert response.status_code == 200
    body = json.loads(response.text, parse_float=Decimal)
    rows = flatten_report(body["Reports"][0], tenant_id="t", report_name=report.name, period=NOV)
    assert rows, f"{report.name}: no lines"
    keys = [(r["section"], r["line_key"]) for r in rows]
    assert len(set(keys)) == len(keys)
    if report.name != "ExecutiveSummary":  # its lines are metrics, not accounts
        assert any(r["account_id"] for r in rows), f"{report.name}: no account lines"
    assert any(isinstance(r["value"], Decimal) for r in rows)
    for row in rows:
        assert all(c["title"] is not None for c in row["columns"]), "every value cell has a header"
        for cell in row["columns"]:
            if cell["value"] is not None:
                assert Decimal(str(cell["text"]).replace(",", "")) == cell["value"]


def test_an_answer_by_tracking_category_gives_a_row_per_line_and_option_without_the_total_column():
    from tap_xero.reports import flatten_by_tracking, month_period

    account = [{"Value": "acc-1", "Id": "account"}]
    answer = {"ReportID": "ProfitAndLoss", "Rows": [
        {"RowType": "Header", "Cells": [{"Value": ""}, {"Value": "North"}, {"Value": "South"},
                                        {"Value": "Unassigned"}, {"Value": "Total"}]},
        {"RowType": "Section", "Title": "Income", "Rows": [
            {"RowType": "Row", "Cells": [{"Value": "Sales (200)", "Attributes": account},
                                         {"Value": "10.00", "Attributes": account},
                                         {"Value": "0.00", "Attributes": account},
                                         {"Value": "2.50", "Attributes": account},
                                         {"Value": "12.50", "Attributes": account}]},
            {"RowType": "SummaryRow", "Cells": [{"Value": "Total Income"}, {"Value": "10.00"}, {"Value": "0.00"},
                                                {"Value": "2.50"}, {"Value": "12.50"}]}]}]}
    rows = flatten_by_tracking(answer, tenant_id="t", report_name="ProfitAndLoss",
                               period=month_period(dt.date(2025, 1, 1)), category_id="cat", category="Region")
    got = {(r["tracking_option"], r["line_key"]): r["value"] for r in rows}
    # South has nothing on the account (left out, as a one-option answer leaves it out); Total is not a row.
    assert got == {("North", "acc-1"): Decimal("10.00"), ("North", "Total Income"): Decimal("10.00"),
                   ("South", "Total Income"): Decimal("0.00"), ("Unassigned", "acc-1"): Decimal("2.50"),
                   ("Unassigned", "Total Income"): Decimal("2.50")}
    assert {(r["tracking_category_id"], r["tracking_category"], r["period_start"]) for r in rows} == {
        ("cat", "Region", "2025-01-01")}
    assert rows[0]["columns"] == [{"index": 0, "title": "North", "value": Decimal("10.00"), "text": "10.00"}]
