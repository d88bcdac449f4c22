"""RunFacts: what one run has learnt about each organisation that other streams need. Thread-safe; no HTTP.

- Organisations stopped early (Xero's day limit, the run's call budget): the streams after skip them.
- Each organisation's lock date, from the Organisation record the ``organisations`` stream read (or that
  the report streams fetched themselves when it is not selected).
- The journals the ``journals`` stream read: which months hold journals and the newest JournalNumber per
  month, so that a report can tell which of its months changed since it last read them without a call.
- The ids of a parent collection a per-parent read listed (the projects whose tasks were read), so that the
  next per-parent stream of the run (their time entries) lists them at no call.
- The streams an unfinished sync already read for each organisation in earlier runs (``unfinished``:
  unfinished.py), which this run does not read again.

Streams feed it as they read (``observe_page``, ``read_started``, ``read_complete``) and ask it questions;
it never calls Xero.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field

from tap_xero import errors, values
from tap_xero.endpoints import REPORTS
from tap_xero.sync.report_months import month_of
from tap_xero.sync.unfinished import UnfinishedSyncs

JOURNALS_STREAM = "journals"
ORGANISATIONS_STREAM = "organisations"
LOCK_DATE_FIELDS = ("PeriodLockDate", "EndOfYearLockDate")
MOVING_ACCOUNT_TYPES = frozenset(report.moved_by for report in REPORTS if report.moved_by)


@dataclass
class JournalsSeen:
    """The journals of one organisation read in this run: every one numbered above ``after`` if ``complete``."""

    after: int  # the offset the read started from
    complete: bool = False
    newest: int | None = None
    newest_by_month: dict[dt.date, int] = field(default_factory=dict)
    # The same for the journals with a line on an account of each type some report moves with only (BANK).
    newest_by_month_of: dict[str, dict[dt.date, int]] = field(default_factory=dict)

    def add(self, journals: list[dict]) -> None:
        for journal in journals:
            number = journal.get("JournalNumber")
            day = journal_day(journal)
            if not isinstance(number, int) or day is None:
                continue
            month = month_of(day)
            if number > self.newest_by_month.get(month, -1):
                self.newest_by_month[month] = number
            for account_type in _account_types(journal) & MOVING_ACCOUNT_TYPES:
                by_month = self.newest_by_month_of.setdefault(account_type, {})
                if number > by_month.get(month, -1):
                    by_month[month] = number
            if self.newest is None or number > self.newest:
                self.newest = number

    @property
    def newest_known(self) -> int:
        """The newest JournalNumber this read knows of (the offset it started from when it found none)."""
        return max(self.newest or 0, self.after)

    def changed_since(self, number: int, account_type: str | None = None) -> frozenset[dt.date] | None:
        """Months holding a journal numbered above ``number`` (with a line on an ``account_type`` account if
        given); None if this read does not cover them all."""
        if not self.complete or self.after > number:
            return None
        return frozenset(month for month, newest in self.months_of(account_type).items() if newest > number)

    def months_of(self, account_type: str | None = None) -> dict[dt.date, int]:
        """The newest JournalNumber per month (of the journals touching ``account_type`` accounts if given)."""
        return self.newest_by_month if account_type is None else self.newest_by_month_of.get(account_type, {})


def _account_types(journal: dict) -> set[str]:
    lines = journal.get("JournalLines")
    if not isinstance(lines, list):
        return set()
    return {str(line.get("AccountType")) for line in lines if isinstance(line, dict)}


def journal_day(journal: dict) -> dt.date | None:
    """A journal's JournalDate, whether converted (``2025-01-31``) or as Xero sends it (``/Date(...)/``)."""
    return parse_day(journal.get("JournalDate"))


def parse_day(value: object) -> dt.date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return values.parse_datetime(value).date()
    except ValueError:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None


def lock_date_of(organisation: dict) -> dt.date | None:
    """The later of the Organisation's PeriodLockDate and EndOfYearLockDate (None without either)."""
    dates = [parse_day(organisation.get(name)) for name in LOCK_DATE_FIELDS]
    known = [day for day in dates if day is not None]
    return max(known) if known else None


class RunFacts:
    """See the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopped: dict[str, errors.TenantStopped] = {}
        self._organisations: dict[str, dict | None] = {}
        self._journals: dict[str, JournalsSeen] = {}
        self._parent_ids: dict[tuple[str, str], list[str]] = {}
        self.unfinished = UnfinishedSyncs()  # inactive until the run resumes it from the state (TapXero.preflight)

    # -- organisations stopped early ---------------------------------------------------------------

    def stop(self, stop: errors.TenantStopped) -> None:
        with self._lock:
            self._stopped.setdefault(stop.tenant_id, stop)

    def stopped(self, tenant_id: str) -> errors.TenantStopped | None:
        with self._lock:
            return self._stopped.get(tenant_id)

    @property
    def stops(self) -> list[errors.TenantStopped]:
        with self._lock:
            return list(self._stopped.values())

    # -- what streams read -------------------------------------------------------------------------

    def read_started(self, stream: str, tenant_id: str, after: int) -> None:
        if stream == JOURNALS_STREAM:
            with self._lock:
                self._journals[tenant_id] = JournalsSeen(after=after)

    def observe_page(self, stream: str, tenant_id: str, records: list[dict]) -> None:
        if stream == JOURNALS_STREAM:
            with self._lock:
                seen = self._journals.get(tenant_id)
                if seen is not None:
                    seen.add(records)
        elif stream == ORGANISATIONS_STREAM and records:
            self.remember_organisation(tenant_id, records[0])

    def read_complete(self, stream: str, tenant_id: str) -> None:
        if stream == JOURNALS_STREAM:
            with self._lock:
                seen = self._journals.get(tenant_id)
                if seen is not None:
                    seen.complete = True

    # -- questions ---------------------------------------------------------------------------------

    def remember_organisation(self, tenant_id: str, organisation: dict | None) -> None:
        with self._lock:
            self._organisations[tenant_id] = organisation

    def organisation(self, tenant_id: str) -> tuple[bool, dict | None]:
        """(known, record): known is False until the record was read (or found unreadable) in this run."""
        with self._lock:
            return tenant_id in self._organisations, self._organisations.get(tenant_id)

    def remember_parent_ids(self, tenant_id: str, path: str, ids: list[str]) -> None:
        """Every id of the collection at ``path`` (a complete list, read in this run)."""
        with self._lock:
            self._parent_ids[(tenant_id, path)] = list(ids)

    def parent_ids(self, tenant_id: str, path: str) -> list[str] | None:
        with self._lock:
            ids = self._parent_ids.get((tenant_id, path))
            return None if ids is None else list(ids)

    def journals(self, tenant_id: str) -> JournalsSeen | None:
        with self._lock:
            return self._journals.get(tenant_id)

    def remember_journals(self, tenant_id: str, seen: JournalsSeen) -> None:
        """Journals a report read itself, for the other reports of the run."""
        with self._lock:
            current = self._journals.get(tenant_id)
            if current is None or not current.complete or seen.after < current.after:
                self._journals[tenant_id] = seen
