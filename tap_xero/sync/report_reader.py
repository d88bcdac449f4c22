"""ReportReader: one report for one organisation, in the fewest calls Xero allows, resumable.

    reader = ReportReader(report, tenant_id, client=..., facts=..., state=..., save_state=..., ...)
    for row in reader.rows(): ...

Reads only, in ``deliveries`` (so it may run on a reader thread, fan_in.py); what is written (the plan, each
call's months marked read) travels as each delivery's ``after``, run on the writing thread.

1. The plan (``report_months.plan``): which months to read. It needs the organisation's lock date (from the
   Organisation record the ``organisations`` stream read this run, else one ``GET Organisation``) and, for
   reports made of postings, evidence of what changed: the journals the ``journals`` stream read this run
   (no call), else journals read here from the coverage's baseline (``GET Journals?offset=``, shared with the
   run's other reports), else none (a tier without Journals: the re-read window applies). The plan is saved
   in the state before the first call.
2. The calls (``report_months.chunks``): up to twelve months in one call for reports that take ``periods``
   (``reports.multi_period_params``), one a month otherwise, fetched ahead within the tenant's allowance.
   Should Xero answer another number of columns than asked, that report is read one month a call.
3. The rows: ``reports.flatten_report``, the same whichever way the months were fetched; after each call's
   rows are written, its months leave ``pending`` and the state is saved (a stop loses nothing).

No SDK import: the stream hands over what it needs (``client``, ``facts``, its partition ``state`` and the
function that writes it).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from tap_xero import errors, reports
from tap_xero.endpoints import JOURNALS_ENDPOINT, ORGANISATION, Paging, Report
from tap_xero.paging import iter_pages, ordered_lookahead
from tap_xero.sync.collection import ReadingClient
from tap_xero.sync.fan_in import Delivery
from tap_xero.sync.report_months import (
    STATE_KEY, Evidence, MonthsRead, ReportPolicy, add_months, chunks, lock_month, month_of, plan,
)
from tap_xero.sync.run_facts import JournalsSeen, RunFacts, lock_date_of

# Journals read for evidence without a JournalNumber to start from begin this long before the last plan.
EVIDENCE_MARGIN = dt.timedelta(minutes=5)


class ReportReader:
    """See the module docstring."""

    def __init__(
        self,
        report: Report,
        tenant_id: str,
        *,
        stream_name: str,
        client: ReadingClient,
        facts: RunFacts,
        state: MutableMapping[str, Any],
        save_state: Callable[[], None],
        history_months: int,
        reread_months: int,
        journals_allowed: bool,
        on_journals_refused: Callable[[], None],
        convert: Callable[[dict], Any],
        logger: logging.Logger,
        now: dt.datetime,
    ) -> None:
        self.report = report
        self.tenant_id = tenant_id
        self.stream_name = stream_name
        self.client = client
        self.facts = facts
        self.state = state
        self.save_state = save_state
        self.history_months = history_months
        self.reread_months = reread_months
        self.journals_allowed = journals_allowed
        self.on_journals_refused = on_journals_refused
        self.convert = convert
        self.logger = logger
        self.now = now
        self.months_per_call = report.months_per_call
        self._coverage = MonthsRead()  # as written so far (writing thread)
        self._journals_refused = False  # found while planning (reader thread), remembered when the plan is saved

    # -- 1. the plan -----------------------------------------------------------------------------------

    def make_plan(self) -> MonthsRead:
        """This run's coverage (``deliveries`` saves it, on the writing thread, before any report call)."""
        report = self.report
        current = month_of(self.now.date())
        window = (add_months(current, -(self.history_months - 1)), current)
        read = self.months_read()
        policy = ReportPolicy(report.balances, report.from_postings, report.months_per_call)
        locked = lock_month(self._lock_date()) if report.from_postings else None
        return plan(
            read, window=window, policy=policy, locked=locked,
            evidence=self._evidence(read) if report.from_postings else None,
            reread_months=self.reread_months, now_text=self.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )

    def months_read(self) -> MonthsRead:
        """The coverage as the state holds it, which this run's plan starts from."""
        return MonthsRead.from_state(self.state.get(STATE_KEY))

    def _lock_date(self) -> dt.date | None:
        known, organisation = self.facts.organisation(self.tenant_id)
        if not known:
            try:
                body = self.client.get_json(self.tenant_id, ORGANISATION.path)
                organisation = (body.get(ORGANISATION.envelope_key) or [None])[0]
            except errors.XeroApiError as exc:  # no settings scope, say: reports are read without a lock date
                self.logger.info("Tenant %s: no lock date for the reports (%s).", self.tenant_id, exc)
                organisation = None
            self.facts.remember_organisation(self.tenant_id, organisation)
        return lock_date_of(organisation) if organisation else None

    def _evidence(self, read: MonthsRead) -> Evidence | None:
        """Months with postings new since ``read``'s baseline (None: unknown, the re-read window applies)."""
        seen = self.facts.journals(self.tenant_id)
        if read.first is None:  # a first read needs no evidence, only the baseline for the next run
            return Evidence(frozenset(), seen.newest_known) if seen is not None and seen.complete else None
        if read.journal_number is not None and seen is not None:
            changed = seen.changed_since(read.journal_number, self.report.moved_by)
            if changed is not None:
                return Evidence(changed, seen.newest_known)
        if not self.journals_allowed or (read.journal_number is None and read.planned_at is None):
            return None
        try:
            return self._read_journals(read)
        except errors.AuthorizationUnsuccessful:
            self._journals_refused = True  # remembered on the writing thread, with the plan
            return None

    def _read_journals(self, read: MonthsRead) -> Evidence:
        """Journals since the baseline, read here (every report of the run shares them when numbered)."""
        headers = None
        after = read.journal_number
        if after is None:  # only a time: journals created since the last plan, a margin early
            since = dt.datetime.fromisoformat(str(read.planned_at).replace("Z", "+00:00")) - EVIDENCE_MARGIN
            headers = {"If-Modified-Since": since.strftime("%Y-%m-%dT%H:%M:%SZ")}
        seen = JournalsSeen(after=after or 0)

        def fetch(extra: dict) -> dict:
            return self.client.get_json(self.tenant_id, JOURNALS_ENDPOINT.path, extra, headers)

        for page in iter_pages(
            fetch, Paging.OFFSET, JOURNALS_ENDPOINT.envelope_key, page_size=100, executor=self.client.executor,
            max_ahead=1, start_offset=after or 0,
        ):
            seen.add(page.records)
        seen.complete = True
        if after is not None:
            self.facts.remember_journals(self.tenant_id, seen)
            return Evidence(seen.changed_since(after, self.report.moved_by) or frozenset(), seen.newest_known)
        return Evidence(frozenset(seen.months_of(self.report.moved_by)), seen.newest)

    # -- 2. and 3. the calls and the rows --------------------------------------------------------------

    def rows(self) -> Iterator[dict]:
        """Every row of the months this run reads, state saved after each call (one tenant at a time)."""
        for delivery in self.deliveries():
            yield from delivery.records
            if delivery.after is not None:
                delivery.after()

    def deliveries(self) -> Iterator[Delivery]:
        """The plan, then each call's rows, each with what to do once written (on the writing thread): save
        the plan, then mark the call's months read. Reads only: may run on a reader thread (fan_in.py)."""
        self._journals_refused = False
        coverage = self.make_plan()
        refused = self._journals_refused
        yield Delivery([], after=lambda: self._plan_saved(coverage, refused))
        if not coverage.pending:
            return
        assert coverage.last is not None
        calls = chunks(coverage.pending, months_per_call=self.months_per_call, last=coverage.last)
        answers = ordered_lookahead(
            self._fetch, calls, self.client.executor, self.client.max_concurrent_per_tenant
        )
        try:
            for number, (months, body) in enumerate(answers, 1):
                rows = list(self._rows_of(months, body))
                yield Delivery(rows, after=functools.partial(self._call_written, months, len(rows), number, len(calls)))
        finally:
            answers.close()

    def _plan_saved(self, coverage: MonthsRead, journals_refused: bool) -> None:
        if journals_refused:
            self.on_journals_refused()
        self.client.progress.start(self.stream_name, self.tenant_id)
        self._coverage = coverage
        self._save(coverage)

    def _call_written(self, months: list[dt.date], rows: int, number: int, calls: int) -> None:
        self._coverage = self._coverage.read(months)
        self._save(self._coverage)
        self.client.progress.page_done(self.stream_name, self.tenant_id, records=rows, page=number, page_count=calls)

    def _fetch(self, months: list[dt.date]) -> tuple[list[dt.date], Any]:
        report = self.report
        if report.columns is None:
            params = reports.report_params(report, reports.month_period(months[0]))
        else:
            params = reports.multi_period_params(report, months)
        return months, self.client.get_json(self.tenant_id, report.path, params)

    def _rows_of(self, months: list[dt.date], body: Any) -> Iterator[dict]:  # noqa: ANN401 - as _fetch gives it
        report = self.report
        for element in body.get("Reports") or []:
            if report.columns is None:
                rows = reports.flatten_report(
                    element, tenant_id=self.tenant_id, report_name=report.name,
                    period=reports.month_period(months[0]),
                )
            elif len(months) > 1 and reports.value_columns(element) != len(months):
                yield from self._one_month_at_a_time(months, reports.value_columns(element))
                return
            else:  # one column per month (a one-month answer's first column is that month, whatever follows)
                rows = reports.flatten_report(
                    element, tenant_id=self.tenant_id, report_name=report.name,
                    column_periods=reports.column_periods(report, months),
                )
            for row in rows:
                self.convert(row)
                yield row

    def _one_month_at_a_time(self, months: list[dt.date], columns: int) -> Iterator[dict]:
        """Xero answered ``columns`` columns for ``len(months)`` months: read this report a month a call."""
        if self.months_per_call > 1:
            self.logger.warning(
                "Report %s, tenant %s: Xero answered %d column(s) for %d months; reading this report one month "
                "a call from here on.", self.report.name, self.tenant_id, columns, len(months),
            )
            self.months_per_call = 1
        for month in months:
            _, body = self._fetch([month])
            yield from self._rows_of([month], body)

    def _save(self, coverage: MonthsRead) -> None:
        self.state[STATE_KEY] = coverage.to_state()
        self.save_state()
