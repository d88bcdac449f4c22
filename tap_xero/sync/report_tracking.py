"""TrackingReportReader: the profit and loss split by tracking category, for one organisation.

Xero answers ``GET /Reports/ProfitAndLoss?trackingCategoryID=<id>`` with a value column per option of the
category, then "Unassigned" and "Total" (``reports.flatten_by_tracking`` makes one row per line per option).
Its spec documents no layout for those columns over several ``periods``, so each month is asked on its own,
once per category: a month read costs one call per category. Everything else is ``ReportReader``'s: the
months read are those of ``report_months.plan`` (new months; months with new journals, or without Journals
the latest ``report_reread_months``; never a month locked when read), resumable, the plan saved first.

The categories: the ACTIVE ones (archived categories take no new postings; their history stays in the
journal lines' tracking), from one ``GET TrackingCategories`` when the run has months to read (the
``tracking_categories`` stream is synced after the reports: streams go in name order). Their ids are kept
in the state beside the coverage (``CATEGORIES_KEY``): when they differ (a category added, archived or
restored), every month of the window is read again, so every month holds every category. Calls a run: months
to read x active categories, +1 when there are months to read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from tap_xero import reports
from tap_xero.endpoints import TRACKING_CATEGORIES
from tap_xero.sync.report_months import MonthsRead
from tap_xero.sync.report_reader import ReportReader

CATEGORIES_KEY = "tracking_categories"  # the ids of the categories the coverage holds, in the report's state


class TrackingReportReader(ReportReader):
    """See the module docstring."""

    _categories: list[tuple[str, str]] | None = None  # (id, name) of the active categories, once read
    _from_scratch = False  # the categories changed: the plan starts from nothing read

    def categories(self) -> list[tuple[str, str]]:
        """(TrackingCategoryID, Name) of the organisation's active tracking categories (one call, once)."""
        if self._categories is None:
            body = self.client.get_json(self.tenant_id, TRACKING_CATEGORIES.path)
            self._categories = sorted(
                (str(c["TrackingCategoryID"]), str(c.get("Name") or ""))
                for c in body.get(TRACKING_CATEGORIES.envelope_key) or []
                if c.get("Status", "ACTIVE") == "ACTIVE" and c.get("TrackingCategoryID")
            )
        return self._categories

    def make_plan(self) -> MonthsRead:
        """The plan; with months to read, the categories are read here (before the calls made ahead and the
        state saved on the writing thread), and when they changed, the plan of a first read."""
        coverage = super().make_plan()
        held = self.state.get(CATEGORIES_KEY)
        if not coverage.pending and held is not None:
            return coverage  # nothing to read: no call (a change is found when a month is next read)
        if held is not None and held != [category_id for category_id, _ in self.categories()]:
            self.logger.info("Report %s, tenant %s: the tracking categories changed; every month is read again.",
                             self.stream_name, self.tenant_id)
            self._from_scratch = True
            coverage = super().make_plan()
        self.categories()
        return coverage

    def months_read(self) -> MonthsRead:
        return MonthsRead() if self._from_scratch else super().months_read()

    def _save(self, coverage: MonthsRead) -> None:
        if self._categories is not None:
            self.state[CATEGORIES_KEY] = [category_id for category_id, _ in self._categories]
        super()._save(coverage)

    def _fetch(self, months: list[dt.date]) -> tuple[list[dt.date], list[tuple[str, str, dict]]]:
        """One month (the report is asked a month a call), once per category."""
        params = reports.report_params(self.report, reports.month_period(months[0]))
        return months, [
            (category_id, name, self.client.get_json(
                self.tenant_id, self.report.path, {**params, "trackingCategoryID": category_id}))
            for category_id, name in self.categories()
        ]

    def _rows_of(self, months: list[dt.date], body: Any) -> Iterator[dict]:  # noqa: ANN401 - as _fetch gives it
        period = reports.month_period(months[0])
        for category_id, name, answer in body:
            for element in answer.get("Reports") or []:
                for row in reports.flatten_by_tracking(
                    element, tenant_id=self.tenant_id, report_name=self.report.name, period=period,
                    category_id=category_id, category=name,
                ):
                    self.convert(row)
                    yield row
