"""TenantWriter: one tenant's pages of one collection, handed to the SDK record by record, state at safe points.

For each page, in order: every record (its child-table rows written right before it, no extra call), then,
the page being written, a safe point: the run's facts observe the page (run_facts.py), the bookmark moves to
the page's last value and, for sorted reads, a STATE is written at once (with the interrupted-read marker
while a shift-guarded read is not complete, read_state.py); the progress line; and a SIGTERM stops the run
here (run_guard.py). When every page is written, the final bookmark is saved and the marker dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from tap_xero import values
from tap_xero.paging import Page
from tap_xero.sync.collection import server_moment
from tap_xero.sync.query import CollectionQuery
from tap_xero.sync.read_state import ReadState
from tap_xero.sync.run_facts import RunFacts


class Progress(Protocol):
    def start(self, stream: str, tenant_id: str) -> None: ...

    def page_done(self, stream: str, tenant_id: str, *, records: int, page: int, page_count: int | None) -> None: ...


@dataclass
class TenantWriter:
    """See the module docstring."""

    stream: str
    tenant_id: str
    query: CollectionQuery
    state: ReadState
    save_state: bool  # the stream is selected and incremental (a child-only read saves no bookmark)
    write_children: Callable[[dict], None]  # a parent record's child rows, written before it
    facts: RunFacts
    progress: Progress
    check_stop: Callable[[], None]

    def records(self, pages: Iterator[Page], bookmark: Any, since: dt.datetime | None) -> Iterator[dict]:  # noqa: ANN401
        """The records of ``pages`` written in turn (one tenant at a time); ``bookmark`` is where the read
        started, ``since`` its If-Modified-Since."""
        self.begin(bookmark, since)
        for page in pages:
            for record in page.records:
                self.write_children(record)
                yield record
            self.page_written(page)
        self.finish()

    def begin(self, bookmark: Any, since: dt.datetime | None) -> None:  # noqa: ANN401
        """The read starts from ``bookmark`` with If-Modified-Since ``since`` (on the writing thread)."""
        self._bookmark, self._since = bookmark, since
        self.progress.start(self.stream, self.tenant_id)
        # A shift-guarded read marks its state until its repair is done; a resumed read keeps the marker of the
        # read it resumes, whose window may still hide a skipped record.
        self._marker = self.state.marker if self.save_state and self.query.guards_shifts else None
        self.facts.read_started(self.stream, self.tenant_id, bookmark if isinstance(bookmark, int) else 0)

    def page_written(self, page: Page) -> None:
        """Every record of ``page`` (and its child rows) is written: a safe point."""
        query, tenant_id = self.query, self.tenant_id
        self.facts.observe_page(self.stream, tenant_id, page.records)
        self._bookmark = query.advance(self._bookmark, page.records)
        if page.marker_update and self._marker is not None:
            self._marker = {**self._marker, **page.marker_update}
        if self.save_state and query.sorted:
            if self._marker is None and query.guards_shifts:
                self._marker = new_marker(self._since, page.server_time)
            self.state.save(self._bookmark, self._marker)
        self.progress.page_done(
            self.stream, tenant_id, records=len(page.records), page=page.number, page_count=page.page_count
        )
        self.check_stop()  # a SIGTERM stops here, with this page's state saved

    def finish(self) -> None:
        """The read is complete: the final bookmark, the marker dropped."""
        if self.save_state:
            self.state.save(self._bookmark)
        self.facts.read_complete(self.stream, self.tenant_id)


def new_marker(since: dt.datetime | None, server_time: str | None) -> dict:
    """The interrupted-read marker of a read from ``since`` whose first page Xero served at ``server_time``."""
    return {
        "since": values.to_datetime_string(since.isoformat()) if since else None,
        "started": values.to_datetime_string(server_moment(server_time).isoformat()),
    }
