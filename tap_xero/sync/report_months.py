"""Which months of a report a run reads, and in how few calls. Pure: no HTTP, no SDK.

A report is read as calendar months (``reports.Period``), one row per line per month. Its coverage for one
organisation is kept in that report's state (``STATE_KEY``, a ``MonthsRead``) and a run reads only:

- months never read: the window (``report_history_months`` back from the current month) grew, a new month
  began, or an earlier run stopped before reading them (they stay ``pending`` in the state, so a first sync
  of any length completes over as many runs as its calls need);
- months that may have changed since they were read, unless they were on or before the organisation's lock
  date when read (Xero refuses postings there: ``PeriodLockDate``/``EndOfYearLockDate``, the later one):
  * with evidence (``Evidence``: the months of the journals Xero created since the last plan, on tiers that
    may read Journals), exactly the months those postings touch; for a report of balances (a balance sheet,
    a trial balance, opening and closing bank balances) every month from the earliest of them on;
  * without evidence, the latest ``reread_months`` months, and every month once more when it becomes locked
    (so a locked month is final in the warehouse, as it is in Xero).

The plan is written to the state before the first call, and each call removes the months it read from
``pending``; the baselines of the evidence (``journal_number``, ``planned_at``) only move when the plan
accounted for every posting, so nothing is missed when a run stops early or runs without evidence.

Calls: ``chunks`` groups the months to read into calls of up to ``months_per_call`` consecutive months
(twelve for reports that take ``periods``, one otherwise), the fewest calls Xero allows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

STATE_KEY = "report_months"


def month_of(day: dt.date) -> dt.date:
    """The month holding ``day``, as the date of its first day."""
    return day.replace(day=1)


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every month from ``first`` to ``last``, both included (empty when ``last`` is earlier)."""
    months = []
    month = month_of(first)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def lock_month(lock_date: dt.date | None) -> dt.date | None:
    """The latest month wholly on or before ``lock_date`` (None without a lock date)."""
    if lock_date is None:
        return None
    if add_months(month_of(lock_date), 1) - dt.timedelta(days=1) == lock_date:
        return month_of(lock_date)
    return add_months(month_of(lock_date), -1)


def _month_text(month: dt.date | None) -> str | None:
    return None if month is None else month.strftime("%Y-%m")


def _parse_month(text: object) -> dt.date | None:
    if not isinstance(text, str) or len(text) != 7:
        return None
    try:
        return dt.date(int(text[:4]), int(text[5:]), 1)
    except ValueError:
        return None


@dataclass(frozen=True)
class MonthsRead:
    """A report's coverage for one organisation (its state, ``STATE_KEY``)."""

    first: dt.date | None = None  # the earliest month of the coverage
    last: dt.date | None = None  # the latest month of the coverage
    pending: frozenset[dt.date] = frozenset()  # months of the coverage still to read (or read again)
    locked_through: dt.date | None = None  # the latest month that was locked when the coverage was planned
    journal_number: int | None = None  # the newest JournalNumber whose postings the coverage accounts for
    planned_at: str | None = None  # when the coverage last accounted for every posting (UTC, RFC 3339)

    @classmethod
    def from_state(cls, value: object) -> MonthsRead:
        """Read the state's entry; anything malformed counts as nothing read (the window is read again)."""
        if not isinstance(value, Mapping):
            return cls()
        first, last = _parse_month(value.get("first")), _parse_month(value.get("last"))
        if first is None or last is None or last < first:
            return cls()
        pending = value.get("pending")
        months = [_parse_month(item) for item in pending] if isinstance(pending, list) else []
        number = value.get("journal_number")
        planned_at = value.get("planned_at")
        return cls(
            first=first,
            last=last,
            pending=frozenset(month for month in months if month is not None and first <= month <= last),
            locked_through=_parse_month(value.get("locked_through")),
            journal_number=number if isinstance(number, int) and not isinstance(number, bool) else None,
            planned_at=planned_at if isinstance(planned_at, str) else None,
        )

    def to_state(self) -> dict:
        return {
            "first": _month_text(self.first),
            "last": _month_text(self.last),
            "pending": [_month_text(month) for month in sorted(self.pending)],
            "locked_through": _month_text(self.locked_through),
            "journal_number": self.journal_number,
            "planned_at": self.planned_at,
        }

    def read(self, months: Iterable[dt.date]) -> MonthsRead:
        """The coverage once ``months`` have been read."""
        done = set(months)
        return MonthsRead(
            self.first, self.last, frozenset(m for m in self.pending if m not in done), self.locked_through,
            self.journal_number, self.planned_at,
        )


@dataclass(frozen=True)
class Evidence:
    """What Xero's journals say changed since the coverage's baseline (``MonthsRead.journal_number``)."""

    changed: frozenset[dt.date] = field(default_factory=frozenset)  # months holding new postings
    journal_number: int | None = None  # the newest JournalNumber known now


@dataclass(frozen=True)
class ReportPolicy:
    """How a report's figures depend on postings (facts of the report, ``endpoints.Report``)."""

    balances: bool  # a month's figures depend on every earlier posting, not only on the month's own
    from_postings: bool  # figures are sums of journal lines: journals say which months changed, locks settle
    months_per_call: int  # consecutive months one call can ask for


def plan(
    read: MonthsRead,
    *,
    window: tuple[dt.date, dt.date],
    policy: ReportPolicy,
    locked: dt.date | None,
    evidence: Evidence | None,
    reread_months: int,
    now_text: str,
) -> MonthsRead:
    """This run's coverage: ``read`` with every month to read now in ``pending`` (see the module docstring).

    ``window``: (first, current) months asked for. ``locked``: ``lock_month`` of the organisation's lock date.
    ``evidence``: None when the journals cannot say what changed.
    """
    first, current = window
    pending = {month for month in read.pending if first <= month <= current}
    if read.first is None or read.last is None:
        pending.update(months_between(first, current))
        return MonthsRead(
            first, current, frozenset(pending), locked if policy.from_postings else None,
            evidence.journal_number if evidence else None, now_text,
        )
    pending.update(months_between(first, add_months(read.first, -1)))
    pending.update(months_between(add_months(read.last, 1), current))
    covered = months_between(max(first, read.first), min(current, read.last))

    settled = None
    if policy.from_postings and locked is not None and read.locked_through is not None:
        settled = min(locked, read.locked_through)  # read while locked, and still locked
    open_months = [month for month in covered if settled is None or month > settled]

    if policy.from_postings and evidence is not None:
        changed = sorted(month for month in evidence.changed if month <= current)
        if changed and policy.balances:
            pending.update(month for month in open_months if month >= changed[0])
        else:
            pending.update(month for month in open_months if month in evidence.changed)
        baseline: tuple[int | None, str | None] = (evidence.journal_number, now_text)
    else:
        recent = add_months(current, -reread_months + 1) if reread_months > 0 else add_months(current, 1)
        pending.update(month for month in open_months if month >= recent)
        if policy.from_postings and locked is not None:
            # Read while open and locked since: read once more, now that it is final.
            pending.update(month for month in open_months if month <= locked)
        baseline = (read.journal_number, read.planned_at)  # postings since then are not accounted for yet

    return MonthsRead(
        min(first, read.first), max(current, read.last), frozenset(pending),
        locked if policy.from_postings else None, *baseline,
    )


def chunks(pending: Iterable[dt.date], *, months_per_call: int, last: dt.date) -> list[list[dt.date]]:
    """The calls that read every month of ``pending``: runs of up to ``months_per_call`` consecutive months,
    oldest first, never past ``last``. Greedy from the oldest month, which is the fewest calls."""
    ordered = sorted(set(pending))
    calls: list[list[dt.date]] = []
    index = 0
    while index < len(ordered):
        start = ordered[index]
        end = min(add_months(start, max(1, months_per_call) - 1), last)
        calls.append(months_between(start, end))
        while index < len(ordered) and ordered[index] <= end:
            index += 1
    return calls
