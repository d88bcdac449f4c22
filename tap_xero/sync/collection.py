"""CollectionRead: every page of one collection to write for one tenant, and the page-shift repair.

Reads only (nothing here writes a message), so it runs on a reader thread (fan_in.py).

**Page shift.** Sorting by UpdatedDateUTC means a record edited while a collection is paged jumps to the
end, and every later record moves up one place: the record at the next page boundary is served on a page
already read, and would be skipped. When a sorted read took more than one call, after the last page:
1. ask again for everything modified since the first page's server time (``DateTimeUTC``) - 1 s, emitting
   only versions not yet emitted (edited records in their new version), up to MAX_TAIL_PASSES times;
2. compare the distinct ids served with Xero's ``itemCount``; if some are missing, read the query again and
   emit only what was not emitted (at most MAX_SHIFT_RECOVERIES times, then a warning).

**An interrupted read** (read_state.READ_MARKER left by a run that stopped before its repair): read on from
the bookmark, then, if any record is newer than the marked start (less SHIFT_MEMORY_MARGIN: something was
edited meanwhile and may have pushed a record behind the bookmark), read the marked window again, only as
far as that read had got, emitting only what this run has not emitted, then repair as above. Each window
page carries ``marker_update`` (how far the window has been read) for the writer to save, so a window
larger than one run's calls still completes over several runs.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Executor
from typing import Any, Protocol

from tap_xero import values
from tap_xero.endpoints import Endpoint, Paging
from tap_xero.paging import Page, RecordsBudget, ShiftGuard, iter_pages, pages_ahead
from tap_xero.progress import Progress
from tap_xero.sync.query import IMS_MARGIN, CollectionQuery
from tap_xero.sync.read_state import ReadState

# The page-shift guard remembers exactly the records edited this long before the first page's server time
# or later (a margin for the first call's latency and clock skew; the rest cost 8 bytes each, paging.py).
SHIFT_MEMORY_MARGIN = dt.timedelta(minutes=5)
MAX_TAIL_PASSES = 3
MAX_SHIFT_RECOVERIES = 2

# One query's pages: (query parameters, If-Modified-Since, start offset) -> pages.
PageSource = Callable[[dict, "dt.datetime | None", int], Iterator[Page]]


class XeroCalls(Protocol):
    """What reading needs of ``http.XeroClient``."""

    @property
    def executor(self) -> Executor: ...
    @property
    def max_concurrent_per_tenant(self) -> int: ...

    def get_json(self, tenant_id: str, path: str, params: dict | None = None,
                 headers: dict | None = None) -> dict: ...


class ParentIds(Protocol):
    """Where a per-parent read finds a parent list read earlier in the run, and leaves its own (RunFacts)."""

    def parent_ids(self, tenant_id: str, path: str) -> list[str] | None: ...

    def remember_parent_ids(self, tenant_id: str, path: str, ids: list[str]) -> None: ...


class ReadingClient(XeroCalls, Protocol):
    """``XeroCalls`` and the run's progress lines: what report and targeted webhook reads need of the client."""

    @property
    def progress(self) -> Progress: ...


def page_source(client: XeroCalls, tenant_id: str, query: CollectionQuery,
                budget: RecordsBudget | None = None, known: ParentIds | None = None) -> PageSource:
    """The pages of ``query`` for one tenant through ``client``, fetched ahead within its allowance (and
    within ``budget``, the records all the stream's reads may hold at once).

    An endpoint with ``split_by`` (Assets: ``status`` is required) is read as one query per value, and one
    with a ``parent`` (a project's tasks or time) as one query per parent record, the parent's ids read
    first (one call per page of parents, none when ``known`` has them from earlier in the run; a complete
    list is left there); their pages come one query after the other, numbered on."""
    endpoint = query.endpoint

    def one_query(target: Endpoint, path: str, params: dict, headers: dict | None, start_offset: int) -> Iterator[Page]:
        def fetch_body(extra: dict) -> dict:
            return client.get_json(tenant_id, path, {**params, **extra} or None, headers)

        page_size = min(query.page_size, target.max_page_size)
        return iter_pages(
            fetch_body, target.paging, target.envelope_key,
            page_size=page_size, executor=client.executor,
            max_ahead=pages_ahead(page_size, client.max_concurrent_per_tenant),
            start_offset=start_offset, budget=budget,
        )

    def parent_ids(parent: Endpoint) -> Iterator[str]:
        listed = known.parent_ids(tenant_id, parent.path) if known is not None else None
        if listed is not None:
            yield from listed
            return
        listed = []
        for page in one_query(parent, parent.path, {}, None, 0):
            ids = [str(record.get(parent.id_field)) for record in page.records]
            page.records = []
            page.claim.release()
            listed += ids
            yield from ids
        if known is not None:
            known.remember_parent_ids(tenant_id, parent.path, listed)

    def pages(params: dict, ims: dt.datetime | None, start_offset: int = 0) -> Iterator[Page]:
        headers = {"If-Modified-Since": values.ims_header(ims)} if ims is not None else None
        if endpoint.split_by is None and endpoint.parent is None:
            return one_query(endpoint, endpoint.path, params, headers, start_offset)
        parent = endpoint.parent
        queries = _queries(endpoint, params, lambda: parent_ids(parent) if parent is not None else iter(()))
        return _numbered_on(endpoint, queries, lambda path, query_params: one_query(
            endpoint, path, query_params, headers, 0))

    return pages


def _queries(endpoint: Endpoint, params: dict,
             parent_ids: Callable[[], Iterator[str]]) -> Iterator[tuple[str, dict, str | None]]:
    """(path, params, parent id) of each query an endpoint with ``split_by`` or a ``parent`` is read as."""
    if endpoint.parent is not None:
        key = endpoint.parent_key
        for parent_id in parent_ids():
            yield endpoint.path.replace("{" + key + "}", parent_id), params, parent_id
    elif endpoint.split_by is not None:
        name, choices = endpoint.split_by
        for choice in choices:
            yield endpoint.path, {**params, name: choice}, None


def _numbered_on(endpoint: Endpoint, queries: Iterator[tuple[str, dict, str | None]],
                 read: Callable[[str, dict], Iterator[Page]]) -> Iterator[Page]:
    """The pages of several queries one after the other, numbered on; a per-parent record gets its parent's id
    when Xero leaves it out."""
    number = 0
    for path, params, parent_id in queries:
        for page in read(path, params):
            if parent_id is not None:
                for record in page.records:
                    record.setdefault(endpoint.parent_key, parent_id)
            number += 1
            page.number, page.page_count = number, None
            yield page


def first_call(query: CollectionQuery, read_state: ReadState) -> tuple[dict | None, dict | None]:
    """(params, headers) of the first call a read of this state makes, as ``page_source`` sends it (for
    sync/calls_ahead.py; tests/tap/test_calls_ahead.py proves every stream's prediction is the call made)."""
    bookmark = read_state.bookmark
    ims, _ = query.window(query.start(bookmark))
    paging = query.endpoint.paging
    if paging is Paging.PAGE_SIZE:
        extra: dict[str, Any] = {"page": 1, "pageSize": query.page_size}
    elif paging is Paging.PAGE:
        extra = {"page": 1}
    elif paging is Paging.OFFSET:
        extra = {"offset": query.offset_bookmark(bookmark) or 0}
    else:
        extra = {}
    if query.endpoint.split_by is not None:
        name, choices = query.endpoint.split_by
        extra[name] = choices[0]
    headers = {"If-Modified-Since": values.ims_header(ims)} if ims is not None else None
    return {**query.base_params(), **extra} or None, headers


def server_moment(server_time: str | None) -> dt.datetime:
    """Xero's clock at the first page (its DateTimeUTC); our own clock minus a minute if absent."""
    if server_time:
        try:
            return values.parse_datetime(server_time)
        except ValueError:
            pass
    return dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)


def changed_since(interrupted: dict, newest: object) -> bool:
    """Whether a record may have been edited after the interrupted read began (the newest version known is
    at or after its start, less SHIFT_MEMORY_MARGIN for the time a query takes)."""
    if newest is None:
        return False
    started = interrupted.get("started")
    if not isinstance(started, str):
        return True  # a marker without its start: assume the worst
    moment = server_moment(started) - SHIFT_MEMORY_MARGIN
    return str(newest) >= (values.to_datetime_string(moment.isoformat()) or "")


class CollectionRead:
    """One tenant's pages of one collection; iterate ``pages()``. See the module docstring."""

    def __init__(
        self,
        query: CollectionQuery,
        source: PageSource,
        prepare: Callable[[dict], dict],
        *,
        start: dt.datetime | None,
        start_offset: int = 0,
        interrupted: dict | None = None,
        logger: logging.Logger,
        label: str,
    ) -> None:
        self.query = query
        self.source = source
        self.prepare = prepare  # converts a raw record in place (values, tenant_id); returns it
        self.start_offset = start_offset
        self.interrupted = interrupted
        self.logger = logger
        self.label = label  # "Stream 'invoices', tenant ...", for log lines
        self.params = query.base_params()
        self.ims, self.floor = query.window(start)
        endpoint = query.endpoint
        self.guard = ShiftGuard(endpoint.id_field, query.replication_key) if query.guards_shifts else None
        self.newest = interrupted.get("bookmark") if interrupted else None  # the newest version known to exist
        self.pages_read = 0

    def pages(self) -> Iterator[Page]:
        server_start = yield from self._forward()
        if self.guard is None:
            return
        if self.interrupted is not None and changed_since(self.interrupted, self.newest):
            yield from self._interrupted_window()
        if self.pages_read < 2:
            return  # one call is atomic: nothing can have shifted
        yield from self._tail_passes(server_start)
        yield from self._recoveries()

    # -- the reads -------------------------------------------------------------------------------------

    def _forward(self) -> Generator[Page, None, str | None]:
        """The query itself; returns Xero's clock at its first page."""
        server_start: str | None = None
        guard = self.guard
        for page in self.source(self.params, self.ims, self.start_offset):
            self.pages_read += 1
            server_start = server_start or page.server_time
            if guard is not None:
                if self.pages_read == 1:  # only records edited after this can move: the guard remembers those
                    moment = server_moment(page.server_time) - SHIFT_MEMORY_MARGIN
                    guard.changed_since = values.to_datetime_string(moment.isoformat())
                guard.observe_page(page)
            yield self._prepared(page, only_unseen=False, keep_floor=self.floor)
        return server_start

    def _interrupted_window(self) -> Iterator[Page]:
        """A previous run stopped mid-read and records changed since it began: read its window again."""
        assert self.interrupted is not None and self.guard is not None
        self.logger.info(
            "%s: the previous run stopped in the middle of a read and records have changed since; reading its "
            "window again so that no record is lost.", self.label,
        )
        since, reached = self.interrupted.get("since"), self.interrupted.get("bookmark")
        ims, floor = self.query.window(values.parse_datetime(since) if since else None)
        window = self.source(self.params, ims, 0)
        try:
            for page in window:
                self.pages_read += 1
                self.guard.observe_page(page)
                last = str(self.query.version(page.records[-1])) if page.records else None
                fresh = self._prepared(page, only_unseen=True, keep_floor=floor)
                if last is not None:
                    # Once this page is written, a run stopped from here resumes the window here (sorted, so
                    # nothing before it can hide a record any more) up to the same end: each run progresses.
                    fresh.marker_update = {"since": last, "until": reached}
                yield fresh
                # Past the bookmark that read reached, this run has read everything already.
                if reached is not None and last is not None and last > str(reached):
                    break
        finally:
            close = getattr(window, "close", None)
            if close is not None:
                close()  # pages fetched ahead and not started are cancelled

    def _tail_passes(self, server_start: str | None) -> Iterator[Page]:
        """Everything edited since the read began, in its new version (repair step 1)."""
        for _ in range(MAX_TAIL_PASSES):
            tail_since = server_moment(server_start) - IMS_MARGIN
            server_start = None
            new = 0
            for page in self.source(self.params, tail_since, 0):
                server_start = server_start or page.server_time
                fresh = self._prepared(page, only_unseen=True, keep_floor=None)
                new += len(fresh.records)
                yield fresh
            if not new:
                break

    def _recoveries(self) -> Iterator[Page]:
        """Records Xero counted but never served: read the query again (repair step 2)."""
        guard = self.guard
        assert guard is not None
        for attempt in range(MAX_SHIFT_RECOVERIES):
            if not guard.missing:
                break
            self.logger.warning(
                "%s: %d record(s) moved while paging (page shift); reading the query again for them (attempt %d).",
                self.label, guard.missing, attempt + 1,
            )
            for page in self.source(self.params, self.ims, 0):
                guard.observe_page(page)
                yield self._prepared(page, only_unseen=True, keep_floor=self.floor)
        if guard.missing:
            self.logger.warning(
                "%s: Xero counted %d more record(s) than it served; they will be read by the next run's look-back "
                "(lookback_days).", self.label, guard.missing,
            )

    # -- one page's records ----------------------------------------------------------------------------

    def _prepared(self, page: Page, *, only_unseen: bool, keep_floor: str | None) -> Page:
        """The page's records to write: prepared, below the floor dropped, already-written versions dropped
        when ``only_unseen``; observed by the shift guard."""
        guard, rk = self.guard, self.query.replication_key
        kept = []
        for record in page.records:
            if only_unseen and guard is not None and not guard.is_new(record, self.query.version(record)):
                continue
            record = self.prepare(record)
            version = record.get(rk) if rk else None
            if keep_floor is not None and (version or "") < keep_floor:
                continue
            if guard is not None:
                guard.observe_record(record)
            if version is not None and (self.newest is None or version > self.newest):
                self.newest = version
            kept.append(record)
        # The records now live in ``kept`` only: the page a caller still holds (a loop variable while it waits
        # for the next page) must not keep them alive once they are written (its claim is given back then).
        page.records = []
        return Page(page.number, kept, page.page_count, page.item_count, page.server_time, claim=page.claim)
