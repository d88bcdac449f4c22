"""Print each organisation's profit and loss for its last three months, and chart its last twelve.

Usage: .meltano/loaders/target-duckdb/venv/bin/python scripts/demo_profit_and_loss.py output/xero.duckdb [schema]

Reads the model xero__profit_and_loss_report that `dbt-duckdb:build` wrote into the demo's DuckDB file
(schema ``analytics`` unless given), with the target-duckdb plugin's Python (it has duckdb). The table
follows Xero's layout (Income, Less Cost of Sales, Gross Profit, Plus Other Income, Less Operating
Expenses, Net Profit); the chart (an SVG file beside the database, written without any plotting library)
shows monthly revenue, expenses and net profit.
"""

from __future__ import annotations

import calendar
import sys
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from html import escape
from pathlib import Path

TABLE_MONTHS = 3
CHART_MONTHS = 12


@dataclass
class Month:
    """One month of one organisation's profit and loss: each section's total as Xero shows it, keyed by
    the model's report_section (Income, Less Cost of Sales, Plus Other Income, Less Operating Expenses)."""

    start: date
    sections: dict[str, float] = field(default_factory=dict)

    @property
    def revenue(self) -> float:
        return self.sections.get("Income", 0.0) + self.sections.get("Plus Other Income", 0.0)

    @property
    def expenses(self) -> float:
        return self.sections.get("Less Cost of Sales", 0.0) + self.sections.get("Less Operating Expenses", 0.0)

    @property
    def gross_profit(self) -> float:
        return self.sections.get("Income", 0.0) - self.sections.get("Less Cost of Sales", 0.0)

    @property
    def net_profit(self) -> float:
        return self.revenue - self.expenses


def monthly_profit_and_loss(connection, schema: str = "analytics") -> dict[str, list[Month]]:
    """{organisation name: its months with postings, oldest first}; an organisation without journals
    maps to an empty list."""
    (catalog,) = connection.execute("select current_database()").fetchone()
    models = f'"{catalog}"."{schema}"'
    rows = connection.execute(  # the schema names are the dbt project's own, not input
        f"select o.organisation_name, p.date_month, p.report_section, sum(p.report_amount) "  # noqa: S608
        f"from {models}.stg_xero__organisations o "
        f"left join {models}.xero__profit_and_loss_report p on p.tenant_id = o.tenant_id "
        f"group by 1, 2, 3 order by 1, 2"
    ).fetchall()
    organisations: dict[str, dict[date, Month]] = {}
    for name, month_start, section, total in rows:
        months = organisations.setdefault(name, {})
        if month_start is not None:
            months.setdefault(month_start, Month(month_start)).sections[section] = float(total)
    return {name: [months[start] for start in sorted(months)] for name, months in organisations.items()}


def _padded(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal columns (East Asian wide characters take two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def _month_label(start: date) -> str:
    return f"{calendar.month_abbr[start.month]} {start.year}"


def render_table(organisations: dict[str, list[Month]]) -> str:
    lines = ["Profit and loss, each organisation's last three months with postings "
             "(model xero__profit_and_loss_report, tied out against Xero's ProfitAndLoss):"]
    for name, months in organisations.items():
        lines.append("")
        recent = months[-TABLE_MONTHS:]
        if not recent:
            lines.append(f"  {name}: no journals in the warehouse (its Xero app is below the Advanced tier), "
                         "so no ledger-based statements")
            continue
        lines.append(f"  {_padded(name, 26)}" + "".join(f"{_month_label(m.start):>14}" for m in recent))
        figures = [
            ("Income", lambda m: m.sections.get("Income", 0.0)),
            ("Less Cost of Sales", lambda m: m.sections.get("Less Cost of Sales", 0.0)),
            ("Gross Profit", lambda m: m.gross_profit),
            ("Plus Other Income", lambda m: m.sections.get("Plus Other Income", 0.0)),
            ("Less Operating Expenses", lambda m: m.sections.get("Less Operating Expenses", 0.0)),
            ("Net Profit", lambda m: m.net_profit),
        ]
        for label, figure in figures:
            lines.append(f"    {label:<24}" + "".join(f"{figure(m):>14,.2f}" for m in recent))
    return "\n".join(lines)


def render_chart(organisations: dict[str, list[Month]]) -> str:
    """An SVG with one panel per organisation: revenue and expense bars, net profit as a line."""
    width, panel_height, left, top, plot_height = 760, 280, 90, 50, 170
    charted = {name: months[-CHART_MONTHS:] for name, months in organisations.items() if months}
    height = max(1, len(charted)) * panel_height
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/>']
    for index, (name, months) in enumerate(charted.items()):
        y0 = index * panel_height
        values = [v for m in months for v in (m.revenue, m.expenses, m.net_profit)]
        high, low = max(0.0, *values), min(0.0, *values)
        span = (high - low) or 1.0

        def y(value: float, y0: float = y0, high: float = high, span: float = span) -> float:
            return y0 + top + (high - value) / span * plot_height

        slot = (width - left - 20) / len(months)
        parts.append(f'<text x="{left}" y="{y0 + 20}" font-size="14" font-weight="bold">'
                     f'{escape(name)}: monthly revenue, expenses and net profit</text>')
        for value in (high, 0.0, low):
            parts.append(f'<line x1="{left}" x2="{width - 20}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                         f'stroke="{"#444" if value == 0 else "#ddd"}"/>'
                         f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:,.0f}</text>')
        points = []
        for k, month in enumerate(months):
            x = left + k * slot
            for offset, value, colour in ((0.15, month.revenue, "#2e7d32"), (0.5, month.expenses, "#c62828")):
                top_y, bottom_y = sorted((y(value), y(0.0)))
                parts.append(f'<rect x="{x + offset * slot:.1f}" y="{top_y:.1f}" width="{slot * 0.33:.1f}" '
                             f'height="{bottom_y - top_y:.1f}" fill="{colour}"/>')
            points.append(f"{x + slot / 2:.1f},{y(month.net_profit):.1f}")
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{y0 + top + plot_height + 16}" text-anchor="middle">'
                         f'{calendar.month_abbr[month.start.month]} {str(month.start.year)[2:]}</text>')
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#1a237e" stroke-width="2"/>')
        legend_y = y0 + top + plot_height + 36
        for k, (label, colour) in enumerate((("revenue", "#2e7d32"), ("expenses", "#c62828"),
                                             ("net profit", "#1a237e"))):
            parts.append(f'<rect x="{left + k * 110}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>'
                         f'<text x="{left + k * 110 + 14}" y="{legend_y}">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    import duckdb  # the target-duckdb plugin venv has it

    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    db_path = Path(argv[1]).resolve()
    schema = argv[2] if len(argv) == 3 else "analytics"
    if not db_path.exists():
        print(f"error: {db_path} does not exist: the pipeline loaded nothing", file=sys.stderr)
        return 1
    with duckdb.connect(str(db_path), read_only=True) as connection:
        organisations = monthly_profit_and_loss(connection, schema)
    if not organisations:
        print(f"error: {db_path} has no organisations in schema {schema!r}: did dbt-duckdb:build run?",
              file=sys.stderr)
        return 1
    print(render_table(organisations))
    chart = db_path.with_name("profit_and_loss.svg")
    chart.write_text(render_chart(organisations))
    print(f"\nChart of monthly revenue, expenses and net profit: {chart}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
