"""scripts/demo_profit_and_loss.py: the demo's profit and loss table and chart, from given months."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "demo_profit_and_loss.py"
spec = importlib.util.spec_from_file_location("demo_profit_and_loss", SCRIPT)
demo = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = demo  # dataclasses look their module up there
spec.loader.exec_module(demo)


def _month(year: int, month: int, income: float, costs: float, other: float, expenses: float):
    return demo.Month(date(year, month, 1), {"Income": income, "Less Cost of Sales": costs,
                                             "Plus Other Income": other, "Less Operating Expenses": expenses})


ORGANISATIONS = {
    "Trading Ltd": [_month(2025, m, 1000.0 * m, 100.0, 10.0, 500.0) for m in range(1, 6)],
    "株式会社 Starter": [],  # no journals: its app is below Xero's Advanced tier
}


def test_the_table_shows_the_last_three_months_in_xeros_layout_and_says_why_one_has_none():
    table = demo.render_table(ORGANISATIONS).splitlines()
    header = next(line for line in table if line.startswith("  Trading Ltd"))
    assert header.split()[-6:] == ["Mar", "2025", "Apr", "2025", "May", "2025"]
    figures = {line.split()[0] + (" " + line.split()[1] if not line.split()[1][0].isdigit() else ""): line
               for line in table if line.startswith("    ")}
    assert "3,000.00" in figures["Income"] and "2,900.00" in figures["Gross Profit"]
    assert figures["Net Profit"].split()[-3:] == ["2,410.00", "3,410.00", "4,410.00"]
    assert any("株式会社 Starter: no journals in the warehouse" in line for line in table)


def test_a_wide_name_keeps_the_month_columns_aligned():
    months = ORGANISATIONS["Trading Ltd"]
    table = demo.render_table({"Trading Ltd": months, "株式会社 Trading": months}).splitlines()
    headers = [line for line in table if "Mar 2025" in line]
    widths = [sum(2 if demo.unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in headers]
    assert len(headers) == 2 and widths[0] == widths[1]


def test_the_chart_has_a_panel_for_each_organisation_with_postings():
    svg = ElementTree.fromstring(demo.render_chart(ORGANISATIONS))
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert [t for t in texts if t.endswith("net profit") and ":" in t] == [
        "Trading Ltd: monthly revenue, expenses and net profit"]
    bars = [r for r in svg.iter("{http://www.w3.org/2000/svg}rect") if r.get("fill") in ("#2e7d32", "#c62828")]
    assert len(bars) == 2 * 5 + 2  # revenue and expenses for five months, plus the legend's two
    assert len(svg.find("{http://www.w3.org/2000/svg}polyline").get("points").split()) == 5
