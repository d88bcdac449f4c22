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
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator

from tap_xero.endpoints import Report

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


def parse_amount(text: Any) -> Decimal | None:
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
    period: Period,
    tracking_option: str = "",
) -> list[dict]:
    """One row per line of ``report`` (one element of Xero's ``Reports`` list) for ``period``."""
    rows = report.get("Rows") or []
    titles = _header_titles(rows)
    common = {
        "tenant_id": tenant_id,
        "report_name": report_name,
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "tracking_option": tracking_option,
        "report_id": report.get("ReportID"),
        "report_title": report.get("ReportTitle"),
        "report_titles": report.get("ReportTitles"),
        "report_date": report.get("ReportDate"),
        "report_updated_utc": report.get("UpdatedDateUTC"),
    }
    out: list[dict] = []
    keys_seen: dict[tuple[str, str], int] = {}
    positions: dict[str, int] = {}
    for section, row in _lines(rows, ""):
        cells = row.get("Cells") or []
        row_title = str(cells[0].get("Value") or "") if cells else ""
        account_id = _account_id(cells)
        base_key = account_id or row_title
        seen = keys_seen.get((section, base_key), 0) + 1
        keys_seen[(section, base_key)] = seen
        columns = [
            {
                "index": index,
                "title": titles[index] if index < len(titles) else None,
                "value": parse_amount(cell.get("Value")),
                "text": cell.get("Value"),
            }
            for index, cell in enumerate(cells[1:])
        ]
        index_in_section = positions.get(section, 0)
        positions[section] = index_in_section + 1
        out.append(
            {
                **common,
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
