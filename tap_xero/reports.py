"""Xero reports as rows: monthly periods, request parameters, and flattening.

Xero answers ``GET /Reports/{name}`` with a table: ``Rows`` of ``RowType`` Header,
Section (with nested ``Rows``), Row and SummaryRow, each holding ``Cells`` whose
``Value`` is text and whose ``Attributes`` may name the account
(``{"Id": "account", "Value": <AccountID>}``). The tap turns one report for one
period into one row per report line, keyed by
``(tenant_id, report_name, period_start, section, line_key, tracking_option)``
(the schema is declared in ``scripts/generate_schemas.py``; docs/streams.md
explains the key). Numbers are parsed as ``Decimal`` so they reach the target
exactly. Pure functions: no HTTP, no SDK.

Reports that take ``periods`` (``endpoints.Report.columns``) answer up to twelve
months in one call, one value column per month. ``flatten_report`` with
``column_periods`` gives the rows of each column's month exactly as a one-month
answer gives them: the column's own value and cell, and account lines with no
value in that month left out (Xero leaves them out of a one-month answer), so the
rows do not depend on how the months were fetched. ``multi_period_params`` and
``column_periods`` say how to ask for a run of months and which column is which.

A ProfitAndLoss asked by tracking category has a value column per option instead: ``flatten_by_tracking``
gives one row per line per option (and "Unassigned"), each as a one-option answer gives it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from collections.abc import Iterator

from tap_xero.endpoints import TRACKING_TOTAL_COLUMN, PeriodColumns, Report

# Cell attribute ids that carry the line's AccountID (BankSummary says "accountID").
ACCOUNT_ATTRIBUTE_IDS = frozenset({"account", "accountid"})
LINE_ROW_TYPES = ("Row", "SummaryRow")


@dataclass(frozen=True)
class Period:
    """One calendar month: ``start`` is its first day, ``end`` its last."""

    start: dt.date
    end: dt.date


def monthly_periods(start: dt.date, today: dt.date) -> list[Period]:
    """Every calendar month from the month of ``start`` to the month of ``today``, oldest first.

    Periods are whole months (even when ``start`` is mid-month) so that a line's key is
    the same on every run; the current month is re-read until it has ended.
    """
    periods: list[Period] = []
    year, month = start.year, start.month
    while (year, month) <= (today.year, today.month):
        last_day = calendar.monthrange(year, month)[1]
        periods.append(Period(dt.date(year, month, 1), dt.date(year, month, last_day)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return periods


def report_params(report: Report, period: Period) -> dict[str, str]:
    """Query parameters asking ``report`` for ``period``: a point in time or a date range."""
    if len(report.date_params) == 1:
        return {report.date_params[0]: period.end.isoformat()}
    from_param, to_param = report.date_params
    return {from_param: period.start.isoformat(), to_param: period.end.isoformat()}


def month_period(month: dt.date) -> Period:
    """The calendar month starting at ``month`` (its first day)."""
    return Period(month, dt.date(month.year, month.month, calendar.monthrange(month.year, month.month)[1]))


def multi_period_params(report: Report, months: list[dt.date]) -> dict[str, Any]:
    """Query parameters asking ``report`` for the consecutive ``months`` (oldest first) in one call."""
    first, last = month_period(months[0]), month_period(months[-1])
    if report.columns is PeriodColumns.COUNT:  # BudgetSummary: columns from ``date`` on, oldest first
        return {report.date_params[0]: first.end.isoformat(), "periods": len(months), "timeframe": 1}
    params: dict[str, Any] = dict(report_params(report, last))  # the newest month, then earlier ones
    if len(months) > 1:
        params.update({"periods": len(months) - 1, "timeframe": "MONTH"})
    return params


def column_periods(report: Report, months: list[dt.date]) -> list[Period]:
    """The month of each value column of the answer to ``multi_period_params(report, months)``."""
    ordered = months if report.columns is PeriodColumns.COUNT else list(reversed(months))
    return [month_period(month) for month in ordered]


def value_columns(report: dict) -> int:
    """How many value columns an answer has (its header's cells after the first)."""
    return len(_header_titles(report.get("Rows") or []))


def parse_amount(text: object) -> Decimal | None:
    """A report cell's text as an exact number; None when empty or not a number (e.g. '12%')."""
    if text is None:
        return None
    cleaned = str(text).strip().replace(",", "")
    if not cleaned:
        return None
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _account_id(cells: list[dict]) -> str | None:
    for cell in cells:
        for attribute in cell.get("Attributes") or ():
            if str(attribute.get("Id", "")).lower() in ACCOUNT_ATTRIBUTE_IDS and attribute.get("Value"):
                return str(attribute["Value"])
    return None


def _header_titles(rows: list[dict]) -> list[str]:
    for row in rows:
        if row.get("RowType") == "Header":
            return [str(cell.get("Value") or "") for cell in (row.get("Cells") or [])[1:]]
    return []


def _lines(rows: list[dict], section: str) -> Iterator[tuple[str, dict]]:
    """(section title, row) for every Row/SummaryRow, depth first; a nested untitled section keeps its parent's."""
    for row in rows:
        row_type = row.get("RowType")
        if row_type == "Section":
            title = str(row.get("Title") or "") or section
            yield from _lines(row.get("Rows") or [], title)
        elif row_type in LINE_ROW_TYPES:
            yield section, row


def flatten_report(
    report: dict,
    *,
    tenant_id: str,
    report_name: str,
    period: Period | None = None,
    column_periods: list[Period] | None = None,
    tracking_option: str = "",
) -> list[dict]:
    """One row per line of ``report`` (one element of Xero's ``Reports`` list).

    Either for one ``period``, every cell of a line in its ``columns``; or, with ``column_periods``, one
    row per line per value column, the column's month taken from ``column_periods`` (module docstring).
    """
    rows = report.get("Rows") or []
    titles = _header_titles(rows)
    common = _common(report, tenant_id, report_name, tracking_option)
    lines = list(_lines(rows, ""))
    if column_periods is None:
        assert period is not None, "flatten_report needs a period or column_periods"
        return _rows(lines, common, period, titles, column=None)
    out: list[dict] = []
    for index, column_period in enumerate(column_periods):
        out += _rows(lines, common, column_period, titles, column=index)
    return out


def flatten_by_tracking(
    report: dict, *, tenant_id: str, report_name: str, period: Period, category_id: str, category: str
) -> list[dict]:
    """One row per line per tracking option of an answer by tracking category (``trackingCategoryID``): each
    value column is an option (or "Unassigned"), its rows those of a one-option answer (account lines with
    nothing tracked to it left out); the last column, "Total", is the plain report (``report_profit_and_loss``)
    and is left out."""
    rows = report.get("Rows") or []
    titles = _header_titles(rows)
    lines = list(_lines(rows, ""))
    out: list[dict] = []
    for index, title in enumerate(titles):
        if title == TRACKING_TOTAL_COLUMN and index == len(titles) - 1:
            continue
        common = {**_common(report, tenant_id, report_name, title),
                  "tracking_category_id": category_id, "tracking_category": category}
        out += _rows(lines, common, period, titles, column=index)
    return out


def _common(report: dict, tenant_id: str, report_name: str, tracking_option: str) -> dict:
    """The fields every row of one answer shares (its period keys filled in by ``_rows``)."""
    return {
        "tenant_id": tenant_id,
        "report_name": report_name,
        "period_start": None,
        "period_end": None,
        "tracking_option": tracking_option,
        "report_id": report.get("ReportID"),
        "report_title": report.get("ReportTitle"),
        "report_titles": report.get("ReportTitles"),
        "report_date": report.get("ReportDate"),
        "report_updated_utc": report.get("UpdatedDateUTC"),
    }


def _rows(
    lines: list[tuple[str, dict]], common: dict, period: Period, titles: list[str], column: int | None
) -> list[dict]:
    """The rows of one period: every cell of each line (``column`` None), or only value column ``column``,
    leaving out account lines with no value there."""
    out: list[dict] = []
    keys_seen: dict[tuple[str, str], int] = {}
    positions: dict[str, int] = {}
    for section, row in lines:
        cells = row.get("Cells") or []
        row_title = str(cells[0].get("Value") or "") if cells else ""
        account_id = _account_id(cells)
        indexes = range(len(cells) - 1) if column is None else [column]
        columns = [
            {
                "index": position,
                "title": titles[index] if index < len(titles) else None,
                "value": parse_amount(cells[index + 1].get("Value")) if index + 1 < len(cells) else None,
                "text": cells[index + 1].get("Value") if index + 1 < len(cells) else None,
            }
            for position, index in enumerate(indexes)
        ]
        if column is not None and account_id and not (columns[0]["value"] or 0):
            continue  # an account with nothing in this month: absent from a one-month answer
        base_key = account_id or row_title
        seen = keys_seen.get((section, base_key), 0) + 1
        keys_seen[(section, base_key)] = seen
        index_in_section = positions.get(section, 0)
        positions[section] = index_in_section + 1
        out.append(
            {
                **common,  # its period keys keep their place in the row, filled in here
                "period_start": period.start.isoformat(),
                "period_end": period.end.isoformat(),
                "section": section,
                "line_key": base_key if seen == 1 else f"{base_key}#{seen}",
                "row_type": row.get("RowType"),
                "row_index": index_in_section,
                "row_title": row_title,
                "account_id": account_id,
                "value": columns[0]["value"] if columns else None,
                "columns": columns,
            }
        )
    return out
