"""How a collection is split into calls, and the ordered look-ahead that fetches pages concurrently.

Paging kinds (``endpoints.Paging``):

- PAGE_SIZE: ``page=N&pageSize=M``; PAGE: ``page=N`` (100 a page). When the first response carries
  ``pagination`` (``pageCount``), the remaining pages are fetched AHEAD, concurrently, by
  ``ordered_lookahead``: at most ``max_ahead`` pages are in flight or waiting at any time (bounded memory:
  ``pages_ahead`` keeps them within RECORDS_AHEAD records), and they are yielded strictly in page order. If
  later responses report more pages (records added while
  paging), those are fetched too. Without ``pagination``, pages are fetched one by one until a short page.
- OFFSET (Journals): ``offset=<last JournalNumber seen>``, one call after another until a short call.
- NONE: one call.

``RecordsBudget`` bounds the decoded records all the reads of one stream hold at once, whatever the number
of organisations read at once (sync/fan_in.py): every call claims its page size before it is made, gives
back what its page did not fill as soon as it arrives, and the rest once its records are written (or when
the page is dropped unread).

``ShiftGuard`` detects the page shift (a record modified while a sorted collection is paged moves to the
end, so every later record moves one place up and one record at a page boundary is never served): it
counts the distinct ids served against Xero's ``itemCount``. See client.py for what is done about it.
"""

from __future__ import annotations

import collections
import functools
import threading
import time
from array import array
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, TypeVar

from tap_xero.endpoints import FIXED_PAGE_SIZE, Paging

T = TypeVar("T")
K = TypeVar("K")  # what identifies one call: a page number, a run of months, a batch of ids

# Fetch one call: extra query parameters in, decoded body out.
FetchBody = Callable[[dict], dict]

# Memory is decoded records, not pages: a 1,000-invoice page decodes to about 6 MB of Python objects.


class Claim:
    """One call's share of a RecordsBudget: its page size until the page arrives, then its records."""

    __slots__ = ("_budget", "_held")

    def __init__(self, budget: RecordsBudget | None, held: int) -> None:
        self._budget = budget
        self._held = held

    def keep(self, records: int) -> None:
        """The page arrived with ``records`` records: give back the rest of the claim now."""
        self._give_back(self._held - records)

    def release(self) -> None:
        """The page's records are written (or dropped): give back all of it. Idempotent."""
        self._give_back(self._held)

    def _give_back(self, n: int) -> None:
        budget = self._budget
        if budget is not None and n > 0:
            self._held -= n
            budget.give_back(n)


NO_CLAIM = Claim(None, 0)


class RecordsBudget:
    """Records the reads of one stream may hold at once, all organisations together (module docstring).

    ``claim(n, wait=False)`` is how look-ahead asks: None when the budget is full or a read is waiting for
    room (look-ahead never jumps that queue). ``claim(n, wait=True)`` is how a read asks for the page it
    needs next: reads waiting are served in the order they asked. A read waits at most ``patience`` seconds,
    then goes over the budget rather than stall the run (every path gives its claims back, so waiting that
    long means something holds records it no longer needs: ``overdrawn`` counts it).
    """

    def __init__(self, limit: int, patience: float = 60.0) -> None:
        self.limit = max(1, limit)
        self.patience = patience
        self.held = 0
        self.peak = 0
        self.overdrawn = 0
        self._lock = threading.Lock()
        self._queue: collections.deque[threading.Condition] = collections.deque()  # reads waiting, in order

    def claim(self, n: int, *, wait: bool) -> Claim | None:
        n = max(1, min(n, self.limit))
        with self._lock:
            if self._queue or self.held + n > self.limit:
                if not wait:
                    return None
                turn = threading.Condition(self._lock)  # woken alone: when it is first in line and room appears
                self._queue.append(turn)
                deadline = time.monotonic() + self.patience
                try:
                    while self._queue[0] is not turn or self.held + n > self.limit:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            self.overdrawn += 1
                            break
                        turn.wait(left)
                finally:
                    self._queue.remove(turn)
                    if self._queue:
                        self._queue[0].notify()  # the next in line may fit too
            self.held += n
            self.peak = max(self.peak, self.held)
        return Claim(self, n)

    def give_back(self, n: int) -> None:
        with self._lock:
            self.held -= n
            if self._queue:
                self._queue[0].notify()


RECORDS_AHEAD = 2000  # records one query's look-ahead may hold (in flight or waiting), besides the page in use


def pages_ahead(per_page: int, max_concurrent: int) -> int:
    """Pages a query may fetch ahead: its concurrency, within RECORDS_AHEAD (at least 1).

    Two pages of 1,000 in flight still outpace Xero's 60 calls a minute (a page takes about a second).
    """
    return max(1, min(max_concurrent, RECORDS_AHEAD // max(1, per_page)))


@dataclass
class Page:
    """One call's records and what its pagination said."""

    number: int  # page number (or call number for OFFSET/NONE), from 1
    records: list[dict]
    page_count: int | None = None
    item_count: int | None = None
    server_time: str | None = None  # the envelope's DateTimeUTC
    marker_update: dict | None = None  # how far a re-read of an interrupted read has got, once this page is written
    claim: Claim = NO_CLAIM  # its share of the stream's RecordsBudget; given back once its records are written


_NONE_LEFT = object()


def ordered_lookahead(
    fetch: Callable[[K], T], numbers: Iterable[K], executor: Executor, max_ahead: int,
    *, budget: RecordsBudget | None = None, per_call: int = 0,
) -> Generator[T, None, None]:
    """``fetch(n)`` for each of ``numbers``, up to ``max_ahead`` at once, yielded in the order of ``numbers``.

    At most ``max_ahead`` results exist at any time besides the one being consumed. A failure is raised
    when its turn comes (the earlier results are yielded first). Abandoning the iterator cancels what has
    not started. With ``budget`` (results are Pages), each call first claims ``per_call`` records: calls
    ahead only when the budget has room, the next one needed waiting for room once the earlier results are
    handed over; a result never handed over gives its claim back when its call ends.
    """
    pending: collections.deque[tuple[Future[T], Claim]] = collections.deque()
    remaining = iter(numbers)
    held_back: Any = _NONE_LEFT  # a number whose call the budget had no room for yet
    max_ahead = max(1, max_ahead)

    def fill(wait: bool) -> None:
        nonlocal held_back
        while len(pending) < max_ahead:
            number = next(remaining, _NONE_LEFT) if held_back is _NONE_LEFT else held_back
            held_back = _NONE_LEFT
            if number is _NONE_LEFT:
                return
            claim = NO_CLAIM if budget is None else budget.claim(per_call, wait=wait and not pending)
            if claim is None:
                held_back = number
                return
            pending.append((executor.submit(_claimed_call, fetch, number, claim), claim))

    try:
        while True:
            fill(wait=True)  # the previous result is handed over: the next call may wait for room
            if not pending:
                return
            future, _ = pending.popleft()
            result = future.result()
            fill(wait=False)  # keep the pipe full while the consumer works on this result
            yield result
            del result
    finally:
        for future, claim in pending:
            future.cancel()
            future.add_done_callback(_give_back(claim))  # never handed over: its page is dropped


def _give_back(claim: Claim) -> Callable[[Future], None]:
    return lambda _done: claim.release()


def _claimed_call(fetch: Callable[[K], T], number: K, claim: Claim) -> T:
    try:
        result = fetch(number)
    except BaseException:
        claim.release()
        raise
    if claim is not NO_CLAIM:
        page: Any = result
        claim.keep(len(page.records))
        page.claim = claim
    return result


def claimed_fetch(fetch: Callable[[], Page], budget: RecordsBudget | None, per_call: int) -> Page:
    """One call made when the budget has room for ``per_call`` records (waiting for it if need be)."""
    claim = NO_CLAIM if budget is None else budget.claim(per_call, wait=True)
    return _claimed_call(lambda _: fetch(), None, claim or NO_CLAIM)


def page_from_body(number: int, body: dict | list, envelope_key: str) -> Page:
    """One answer as a Page; an empty ``envelope_key`` (endpoints.BARE_LIST) means the answer is the list."""
    if not isinstance(body, dict):
        return Page(number=number, records=list(body) if isinstance(body, list) and not envelope_key else [])
    pagination = body.get("pagination") or {}
    return Page(
        number=number,
        records=body.get(envelope_key) or [],
        page_count=pagination.get("pageCount"),
        item_count=pagination.get("itemCount"),
        server_time=body.get("DateTimeUTC"),
    )


def iter_pages(
    fetch_body: FetchBody,
    paging: Paging,
    envelope_key: str,
    *,
    page_size: int,
    executor: Executor,
    max_ahead: int,
    offset_field: str = "JournalNumber",
    start_offset: int = 0,
    budget: RecordsBudget | None = None,
) -> Iterator[Page]:
    """Every page of one query, in order. ``fetch_body(extra_params)`` makes one call; with ``budget``
    each call first claims its page size there (see RecordsBudget)."""
    per_page = page_size if paging is Paging.PAGE_SIZE else FIXED_PAGE_SIZE
    if paging is Paging.NONE:
        yield claimed_fetch(lambda: page_from_body(1, fetch_body({}), envelope_key), budget, per_page)
    elif paging is Paging.OFFSET:
        yield from _offset_pages(fetch_body, envelope_key, offset_field, start_offset, budget)
    else:
        yield from _numbered_pages(fetch_body, paging, envelope_key, per_page, executor, max_ahead, budget)


def _offset_pages(
    fetch_body: FetchBody, envelope_key: str, offset_field: str, offset: int, budget: RecordsBudget | None
) -> Iterator[Page]:
    """Journals: ``offset`` = the last number seen, one call after another until a short call."""

    def fetch_at(number: int, offset: int) -> Page:
        return page_from_body(number, fetch_body({"offset": offset}), envelope_key)

    number = 1
    while True:
        page = claimed_fetch(functools.partial(fetch_at, number, offset), budget, FIXED_PAGE_SIZE)
        # Read before the page is handed over: the reader takes its records away (sync/collection.py).
        full = len(page.records) >= FIXED_PAGE_SIZE
        last = page.records[-1].get(offset_field) if page.records else None
        yield page
        if not full:
            return
        if last is None or last <= offset:
            return  # no progress possible: stop rather than loop
        offset = last
        number += 1


def _numbered_pages(
    fetch_body: FetchBody, paging: Paging, envelope_key: str, per_page: int, executor: Executor, max_ahead: int,
    budget: RecordsBudget | None,
) -> Iterator[Page]:
    """``page`` (and ``pageSize``): the first page, then the others fetched ahead when Xero says how many."""

    def fetch_page(number: int) -> Page:
        params = {"page": number, "pageSize": per_page} if paging is Paging.PAGE_SIZE else {"page": number}
        return page_from_body(number, fetch_body(params), envelope_key)

    first = claimed_fetch(lambda: fetch_page(1), budget, per_page)
    # Read before the page is handed over: the reader takes its records away (sync/collection.py).
    page_count, number = first.page_count, first.number
    last_full = len(first.records) >= per_page
    yield first
    del first  # what is written is given back to the budget; hold nothing here
    if page_count is None:
        # No pagination element: one page after another until a short one.
        while last_full:
            number += 1
            page = claimed_fetch(functools.partial(fetch_page, number), budget, per_page)
            last_full = len(page.records) >= per_page
            yield page
        return
    known = page_count
    next_number = 2
    while next_number <= known:
        for page in ordered_lookahead(fetch_page, range(next_number, known + 1), executor, max_ahead,
                                      budget=budget, per_call=per_page):
            if page.page_count is not None and page.page_count > known:
                known = page.page_count  # records were added while paging: fetch the new pages too
            next_number = page.number + 1
            yield page


class ShiftGuard:
    """One sorted query's served records, against the largest ``itemCount`` Xero reported; memory flat.

    ``version_field`` is the replication key: a record served again with a newer value is a new version
    (edited while paging); one served again with the same value is a duplicate.

    Only records that may have been edited while paging can move in the sort order: those whose version
    is at or after ``changed_since`` (set by the caller from the first page's server time, less a margin;
    None remembers every record exactly). They are remembered exactly (id -> version). Every other record
    is stored as one 64-bit hash of its id in an array (8 bytes a record, no Python object), so memory
    does not grow with the collection by more than that. An unedited record is served twice only when a
    shift pushes it across a page boundary, so repeats among them are looked for in the last few pages.
    Membership of the unedited ids is only needed when the whole query is read again (a shift was
    detected): a set of their hashes is built then.
    """

    RECENT_PAGES = 3  # pages whose unedited ids are checked for repeats (a shift moves records by a few places)

    def __init__(self, id_field: str | None, version_field: str | None, changed_since: object = None) -> None:
        self.id_field = id_field
        self.version_field = version_field
        self.changed_since = changed_since
        self.changed: dict = {}  # id -> version, for versions that may have been written while paging
        self.item_count: int | None = None
        self._unedited = array("q")  # hash of each distinct id served in a version older than changed_since
        self._recent: collections.deque[set[int]] = collections.deque([set()], maxlen=self.RECENT_PAGES)
        self._unedited_set: set[int] | None = None
        self._overlap: tuple[int, int, int] = (0, 0, 0)  # (len unedited, len changed, ids in both)

    def observe_page(self, page: Page) -> None:
        if page.item_count is not None:
            self.item_count = max(self.item_count or 0, page.item_count)
        self._recent.appendleft(set())

    def _may_be_edited(self, version: Any) -> bool:  # noqa: ANN401 - a replication value: text or a number
        return self.changed_since is None or version is None or version >= self.changed_since

    def observe_record(self, record: dict) -> None:
        """A (converted) record was served."""
        if self.id_field is None:
            return
        key = record.get(self.id_field)
        version = record.get(self.version_field) if self.version_field else None
        if self._may_be_edited(version):
            self.changed[key] = version
            return
        hashed = hash(key)
        if any(hashed in page_ids for page_ids in self._recent):
            return  # served again across a page boundary: the same record
        if self._unedited_set is not None:
            if hashed in self._unedited_set:
                return
            self._unedited_set.add(hashed)
        self._recent[0].add(hashed)
        self._unedited.append(hashed)

    def is_new(self, record: dict, version: object) -> bool:
        """Not served yet in this ``version`` (the record's converted replication value)."""
        if self.id_field is None:
            return True
        key = record.get(self.id_field)
        if self._may_be_edited(version):
            return key not in self.changed or self.changed[key] != version
        if self._unedited_set is None:
            self._unedited_set = set(self._unedited)  # a re-read of the whole query: rare, see above
        return hash(key) not in self._unedited_set

    def _ids_in_both(self) -> int:
        """Edited records whose older version was served too (counted once)."""
        unedited, changed, both = self._overlap
        if (unedited, changed) != (len(self._unedited), len(self.changed)):  # ids are only ever added
            changed_hashes = {hash(key) for key in self.changed}
            if self._unedited_set is not None:
                both = len(changed_hashes & self._unedited_set)
            else:
                both = sum(1 for hashed in self._unedited if hashed in changed_hashes) if changed_hashes else 0
            self._overlap = (len(self._unedited), len(self.changed), both)
        return self._overlap[2]

    @property
    def distinct(self) -> int:
        """How many distinct ids were served."""
        return len(self._unedited) + len(self.changed) - self._ids_in_both()

    @property
    def missing(self) -> int:
        """How many records Xero counted that were never served (0 when unknown)."""
        if self.item_count is None or self.id_field is None:
            return 0
        return max(self.item_count - self.distinct, 0)
