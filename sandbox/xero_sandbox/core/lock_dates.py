"""Xero's lock dates: where they live, and which postings they refuse.

Contract:

- An organisation's lock dates live in its Organisation record, as Xero serves them:
  ``PeriodLockDate`` and ``EndOfYearLockDate``, ``/Date(ms+0000)/`` dates, absent when not set
  (the spec: "Shown if set"). ``read(organisation)`` gives them as dates; ``write`` sets or
  clears them in place (what GET Organisation serves; nothing else changes).
- ``refuse(organisation, days)``: raises ``LockedPeriod`` when a posting dated on any of
  ``days`` (proleptic ordinals) falls on or before a lock date, so on or before the later of
  the two. Its ``messages`` are Xero's, one per lock the date falls under, e.g.
  "The document date cannot be before the period lock date, currently set at 31-Dec-2023" and
  "The document date cannot be before the end of year lock date, currently set at 30-Jun-2023"
  (Xero's wording as integrators quote it: Emersion's and Chargebee's knowledge bases, Pleo's and
  Dext's help centres, xeroizer issue #92; "before" although "on" the date is locked too).

Which records post, and so meet this check, is each resource's ``posted_statuses`` and ``posting_of``;
``tenant_book.py`` applies the check to every change.
"""

from __future__ import annotations

import calendar
from datetime import date

from xero_sandbox.core.generation import DAY_MS, UNIX_EPOCH_ORDINAL, day_date, parse_ms_date

FIELDS = {"period_lock_date": "PeriodLockDate", "end_of_year_lock_date": "EndOfYearLockDate"}
_WORDING = {"PeriodLockDate": "period lock date", "EndOfYearLockDate": "end of year lock date"}
KEEP = object()  # ``write``: leave this lock date as it is


class LockedPeriod(ValueError):
    """A change Xero refuses because it posts into a locked period; ``messages`` are Xero's words."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def _xero_date(day: date) -> str:
    return f"{day.day:02d}-{calendar.month_abbr[day.month]}-{day.year}"


def _day(value: str | None) -> date | None:
    return date.fromordinal(UNIX_EPOCH_ORDINAL + parse_ms_date(value) // DAY_MS) if value else None


def read(organisation: dict) -> dict[str, date | None]:
    """{"period_lock_date": date | None, "end_of_year_lock_date": date | None}."""
    return {name: _day(organisation.get(field)) for name, field in FIELDS.items()}


def write(organisation: dict, period_lock_date=KEEP, end_of_year_lock_date=KEEP) -> dict[str, date | None]:
    """Set (a date or YYYY-MM-DD text) or clear (None) each lock date; ``KEEP`` leaves it. Returns ``read``."""
    wanted = {"period_lock_date": period_lock_date, "end_of_year_lock_date": end_of_year_lock_date}
    parsed = {name: _as_date(name, value) for name, value in wanted.items() if value is not KEEP}
    for name, day in parsed.items():  # all parsed first: a bad value changes nothing
        if day is None:
            organisation.pop(FIELDS[name], None)
        else:
            organisation[FIELDS[name]] = day_date(day.toordinal())
    return read(organisation)


def _as_date(name: str, value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{name} must be a YYYY-MM-DD date or null, not {value!r}") from None


def refuse(organisation: dict, days) -> None:
    """Raise ``LockedPeriod`` if any posting day is on or before one of the organisation's lock dates."""
    if not days:
        return
    earliest = min(days)
    messages = []
    for field in FIELDS.values():
        locked = _day(organisation.get(field))
        if locked is not None and earliest <= locked.toordinal():
            messages.append(f"The document date cannot be before the {_WORDING[field]}, "
                            f"currently set at {_xero_date(locked)}")
    if messages:
        raise LockedPeriod(messages)
