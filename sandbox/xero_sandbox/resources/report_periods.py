"""Report query parameters as Xero reads them, and the calendar arithmetic of report columns.

Contract:

- ``ReportQuery(params)``: parameter names are case-insensitive (as everywhere in the sandbox);
  parameters a report does not take are ignored; a malformed value raises ``ValueError`` naming
  the parameter (the server answers 400 ValidationException). Empty values count as absent.
  ``date`` (YYYY-MM-DD), ``periods`` (an integer 1..12), ``timeframe_months`` (MONTH | QUARTER |
  YEAR, any case: 1, 3 or 12 months), ``budget_timeframe`` (the BudgetSummary's integer 1 | 3 |
  12), ``flag`` (true | false, for standardLayout and paymentsOnly) and ``text`` (as given, e.g.
  trackingCategoryID) each read one parameter.
- ``shift_months(day, months)``: the same day ``months`` calendar months away, month-end aware:
  the last day of a month maps to the last day of the target month (30 Apr -> 31 Mar -> 28/29 Feb,
  as in the spec's BalanceSheet example), any other day is kept, or clamped to the target
  month's last day (31 Mar is a month end; 30 Jan -> 28 Feb). The 1st stays the 1st.
- ``month_end(day)``, ``month_start(day)``.
"""

from __future__ import annotations

import calendar
from datetime import date

MAX_PERIODS = 12
TIMEFRAMES = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}
BUDGET_TIMEFRAMES = (1, 3, 12)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_start(day: date) -> date:
    return day.replace(day=1)


def shift_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months (negative: back), keeping month ends month ends."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    keep = last if day == month_end(day) else min(day.day, last)
    return date(year, month + 1, keep)


class ReportQuery:
    """One report request's parameters, read case-insensitively and validated as Xero would."""

    def __init__(self, params: dict[str, str] | None) -> None:
        self._values = {str(key).lower(): str(value) for key, value in (params or {}).items()
                        if value is not None and str(value).strip() != ""}

    def _get(self, name: str) -> str | None:
        return self._values.get(name.lower())

    def date(self, name: str, default: date) -> date:
        value = self._get(name)
        if value is None:
            return default
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            raise ValueError(f"'{value}' is not a valid {name} (expected YYYY-MM-DD)") from None

    def periods(self, default: int) -> int:
        """``periods`` as an integer in 1..12, or ``default`` when absent."""
        value = self._get("periods")
        if value is None:
            return default
        try:
            number = int(value.strip())
        except ValueError:
            number = 0
        if not 1 <= number <= MAX_PERIODS:
            raise ValueError(f"periods must be an integer between 1 and {MAX_PERIODS}, not '{value}'")
        return number

    def timeframe_months(self) -> int:
        """ProfitAndLoss/BalanceSheet ``timeframe`` (MONTH by default) as a number of months."""
        value = self._get("timeframe")
        if value is None:
            return TIMEFRAMES["MONTH"]
        try:
            return TIMEFRAMES[value.strip().upper()]
        except KeyError:
            raise ValueError(f"timeframe must be MONTH, QUARTER or YEAR, not '{value}'") from None

    def budget_timeframe(self) -> int:
        """BudgetSummary ``timeframe``: 1 (month, the default), 3 (quarter) or 12 (year) months."""
        value = self._get("timeframe")
        if value is None:
            return 1
        try:
            months = int(value.strip())
        except ValueError:
            months = 0
        if months not in BUDGET_TIMEFRAMES:
            raise ValueError(f"timeframe must be 1, 3 or 12 (months), not '{value}'")
        return months

    def text(self, name: str) -> str | None:
        """A parameter as given (None when absent), e.g. ``trackingCategoryID``."""
        value = self._get(name)
        return None if value is None else value.strip()

    def flag(self, name: str) -> bool:
        """A boolean parameter (false when absent); anything but true/false is refused."""
        value = self._get(name)
        if value is None:
            return False
        lowered = value.strip().lower()
        if lowered not in ("true", "false"):
            raise ValueError(f"{name} must be true or false, not '{value}'")
        return lowered == "true"
