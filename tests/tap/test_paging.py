"""Paging: ordered look-ahead (order, concurrency, bounded memory), each paging kind, the shift guard."""

from __future__ import annotations

import random
import tracemalloc
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tap_xero.endpoints import Paging
from tap_xero.paging import (
    RECORDS_AHEAD, Page, RecordsBudget, ShiftGuard, iter_pages, ordered_lookahead, pages_ahead,
)


@pytest.fixture
def pool():
    with ThreadPoolExecutor(8) as executor:
        yield executor


def test_lookahead_yields_in_order_with_bounded_results_alive(pool):
    alive = 0
    most_alive = 0
    lock = threading.Lock()
    rng = random.Random(3)

    def fetch(n):
        nonlocal alive, most_alive
        time.sleep(rng.random() / 100)  # finish out of order
        with lock:
            alive += 1
            most_alive = max(most_alive, alive)
        return n

    seen = []
    for n in ordered_lookahead(fetch, range(1, 41), pool, max_ahead=4):
        seen.append(n)
        time.sleep(0.002)
        with lock:
            alive -= 1  # consumed and dropped
    assert seen == list(range(1, 41))
    assert most_alive <= 5  # max_ahead waiting or in flight, plus the one being consumed


def test_lookahead_runs_concurrently(pool):
    running = 0
    most = 0
    lock = threading.Lock()

    def fetch(n):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.1)  # long enough that a loaded machine's stalls cannot blur four at once with one by one
        with lock:
            running -= 1
        return n

    began = time.monotonic()
    assert list(ordered_lookahead(fetch, range(12), pool, max_ahead=4)) == list(range(12))
    assert most == 4
    assert time.monotonic() - began < 12 * 0.1 * 0.7  # well under one after another (about 0.3 s of 1.2)


def test_lookahead_raises_a_failure_in_its_turn(pool):
    def fetch(n):
        if n == 3:
            raise RuntimeError("page 3 failed")
        return n

    got = []
    with pytest.raises(RuntimeError, match="page 3"):
        for n in ordered_lookahead(fetch, range(1, 10), pool, max_ahead=4):
            got.append(n)
    assert got == [1, 2]


def paged_source(total: int, per_page: int, with_pagination: bool = True, grow_after: int | None = None):
    """fetch_body for a collection of ``total`` ids; ``grow_after``: one record is added after that call."""
    calls = []
    state = {"total": total}

    def fetch_body(extra):
        calls.append(dict(extra))
        if grow_after is not None and len(calls) == grow_after:
            state["total"] += per_page
        n = state["total"]
        page = extra.get("page", 1)
        ids = list(range(n))[(page - 1) * per_page: page * per_page]
        body = {"Things": [{"ID": i} for i in ids], "DateTimeUTC": "/Date(0)/"}
        if with_pagination:
            body["pagination"] = {"page": page, "pageSize": per_page, "pageCount": -(-n // per_page), "itemCount": n}
        return body

    return fetch_body, calls


def ids(pages):
    return [r["ID"] for p in pages for r in p.records]


def test_page_size_paging_fetches_every_page_once(pool):
    fetch_body, calls = paged_source(2500, 1000)
    pages = list(iter_pages(fetch_body, Paging.PAGE_SIZE, "Things", page_size=1000, executor=pool, max_ahead=5))
    assert ids(pages) == list(range(2500))
    assert sorted(c["page"] for c in calls) == [1, 2, 3]
    assert all(c["pageSize"] == 1000 for c in calls)
    assert pages[0].page_count == 3 and pages[0].item_count == 2500


def test_pages_added_while_paging_are_fetched_too(pool):
    fetch_body, calls = paged_source(300, 100, grow_after=2)
    pages = list(iter_pages(fetch_body, Paging.PAGE, "Things", page_size=1000, executor=pool, max_ahead=1))
    assert ids(pages) == list(range(400))
    assert "pageSize" not in calls[0]


def test_without_pagination_pages_until_a_short_one(pool):
    fetch_body, calls = paged_source(250, 100, with_pagination=False)
    pages = list(iter_pages(fetch_body, Paging.PAGE, "Things", page_size=1000, executor=pool, max_ahead=5))
    assert ids(pages) == list(range(250))
    assert [c["page"] for c in calls] == [1, 2, 3]


@pytest.mark.parametrize("paging", [Paging.PAGE, Paging.OFFSET, Paging.PAGE_SIZE])
def test_a_reader_that_takes_each_pages_records_away_still_gets_every_page(pool, paging):
    """sync/collection.py empties each page it is handed (its records live on in what it writes): whether there
    is a next page must be known before a page is handed over (Quotes, LinkedTransactions, Journals)."""
    if paging is Paging.OFFSET:
        journals = [{"JournalNumber": n} for n in range(1, 251)]

        def fetch_body(extra):
            return {"Things": [j for j in journals if j["JournalNumber"] > extra["offset"]][:100]}
        expected = 250
    else:
        fetch_body, _ = paged_source(250, 100, with_pagination=paging is Paging.PAGE_SIZE)
        expected = 250
    seen = 0
    for page in iter_pages(fetch_body, paging, "Things", page_size=100, executor=pool, max_ahead=5):
        seen += len(page.records)
        page.records = []  # what CollectionRead._prepared does
    assert seen == expected


def test_exact_multiple_without_pagination_ends_on_an_empty_page(pool):
    fetch_body, calls = paged_source(200, 100, with_pagination=False)
    pages = list(iter_pages(fetch_body, Paging.PAGE, "Things", page_size=1000, executor=pool, max_ahead=5))
    assert ids(pages) == list(range(200)) and len(calls) == 3


def test_offset_paging_follows_the_last_journal_number(pool):
    journals = [{"JournalNumber": n} for n in range(1, 251)]
    calls = []

    def fetch_body(extra):
        calls.append(extra["offset"])
        return {"Journals": [j for j in journals if j["JournalNumber"] > extra["offset"]][:100]}

    pages = list(iter_pages(fetch_body, Paging.OFFSET, "Journals", page_size=1000, executor=pool, max_ahead=5,
                            start_offset=0))
    assert [j["JournalNumber"] for p in pages for j in p.records] == list(range(1, 251))
    assert calls == [0, 100, 200]


def test_no_paging_is_one_call(pool):
    calls = []
    pages = list(iter_pages(lambda extra: calls.append(extra) or {"Things": [{"ID": 1}]}, Paging.NONE, "Things",
                            page_size=1000, executor=pool, max_ahead=5))
    assert ids(pages) == [1] and calls == [{}]


def test_shift_guard_counts_distinct_ids_against_item_count():
    guard = ShiftGuard("ID", "V")
    guard.observe_page(Page(1, [], item_count=3))
    for record in [{"ID": "a", "V": 1}, {"ID": "b", "V": 1}, {"ID": "a", "V": 2}]:
        guard.observe_record(record)
    assert guard.missing == 1
    assert not guard.is_new({"ID": "a"}, 2) and guard.is_new({"ID": "a"}, 3) and guard.is_new({"ID": "c"}, 1)
    guard.observe_record({"ID": "c", "V": 1})
    assert guard.missing == 0
    assert ShiftGuard(None, None).missing == 0


def page_of(number, records, item_count):
    return Page(number, records, page_count=3, item_count=item_count)


def test_shift_guard_counts_edited_and_repeated_records_once():
    guard = ShiftGuard("ID", "V", changed_since="2025")
    first = [{"ID": f"r{n}", "V": "2024-01"} for n in range(4)]
    second = [{"ID": "r3", "V": "2024-01"}, {"ID": "r4", "V": "2024-02"}, {"ID": "r0", "V": "2025-06"}]
    for number, page in enumerate([first, second], 1):
        guard.observe_page(page_of(number, page, item_count=6))  # r5 exists but was never served
        for record in page:
            guard.observe_record(record)
    # r3 served twice across the boundary, r0 in its old and its edited version: 5 distinct ids.
    assert guard.distinct == 5 and guard.missing == 1
    assert guard.changed == {"r0": "2025-06"}  # only what may have been edited while paging is kept whole
    # The whole query read again: only what was never served, in that version, is new.
    assert not guard.is_new({"ID": "r1"}, "2024-01") and not guard.is_new({"ID": "r0"}, "2025-06")
    assert guard.is_new({"ID": "r5"}, "2024-03") and guard.is_new({"ID": "r0"}, "2025-07")
    guard.observe_record({"ID": "r5", "V": "2024-03"})
    guard.observe_record({"ID": "r5", "V": "2024-03"})
    assert guard.distinct == 6 and guard.missing == 0


def test_shift_guard_memory_is_flat_for_unedited_records():
    guard = ShiftGuard("ID", "V", changed_since="2025")
    tracemalloc.start()
    try:
        for number in range(1, 51):
            guard.observe_page(page_of(number, [], item_count=50_000))
            for n in range(1000):
                guard.observe_record({"ID": f"{number:04d}-{n:04d}-0000-0000-000000000000", "V": "2024-05-06"})
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert guard.distinct == 50_000 and guard.missing == 0
    # 8 bytes a record plus a few pages of recent ids; keeping every id and version took ~10 MB here.
    assert held < 50_000 * 8 * 2 + 1_000_000


def test_look_ahead_is_bounded_by_records_not_pages():
    assert (pages_ahead(1000, 5), pages_ahead(100, 5), pages_ahead(100, 3), pages_ahead(5000, 5)) == (2, 5, 3, 1)
    for per_page in (1, 10, 100, 250, 500, 1000):
        assert pages_ahead(per_page, 5) * per_page <= max(RECORDS_AHEAD, per_page)


# -- RecordsBudget: what all the reads of one stream hold at once -------------------------------------------


def paged_body(total: int, per_page: int, pause: float = 0.0):
    """A fetch_body for a PAGE_SIZE collection of ``total`` records."""

    def fetch_body(params: dict) -> dict:
        if pause:
            time.sleep(pause)
        page = params["page"]
        first = (page - 1) * per_page
        rows = [{"n": n} for n in range(first, min(first + per_page, total))]
        return {"pagination": {"page": page, "pageSize": per_page, "pageCount": -(-total // per_page),
                               "itemCount": total}, "Invoices": rows}

    return fetch_body


def test_a_short_page_gives_back_what_it_did_not_fill_and_the_rest_once_released(pool):
    budget = RecordsBudget(1000)
    (page,) = list(iter_pages(paged_body(30, 100), Paging.PAGE_SIZE, "Invoices", page_size=100, executor=pool,
                              max_ahead=3, budget=budget))
    assert budget.held == 30
    page.claim.release()
    page.claim.release()  # idempotent
    assert budget.held == 0


def test_look_ahead_waits_for_room_in_the_budget_and_never_goes_over_it(pool):
    budget = RecordsBudget(250)
    pages = iter_pages(paged_body(2000, 100, pause=0.002), Paging.PAGE_SIZE, "Invoices", page_size=100,
                       executor=pool, max_ahead=5, budget=budget)
    seen = []
    for page in pages:
        seen += [r["n"] for r in page.records]
        time.sleep(0.003)  # a slow writer: the look-ahead would run ahead without the budget
        assert budget.held <= 250
        page.claim.release()
    assert seen == list(range(2000))
    assert budget.peak == 200 and budget.held == 0  # two 100-record pages fit, a third never did


def test_pages_never_handed_over_give_their_claims_back(pool):
    budget = RecordsBudget(10_000)
    pages = iter_pages(paged_body(2000, 100, pause=0.01), Paging.PAGE_SIZE, "Invoices", page_size=100,
                       executor=pool, max_ahead=5, budget=budget)
    first, second = next(pages), next(pages)
    pages.close()  # abandoned with pages in flight
    first.claim.release()
    second.claim.release()
    deadline = time.monotonic() + 5
    while budget.held and time.monotonic() < deadline:
        time.sleep(0.01)
    assert budget.held == 0


def test_a_failed_call_gives_its_claim_back(pool):
    budget = RecordsBudget(1000)

    def failing(params: dict) -> dict:
        raise ConnectionError("reset")

    with pytest.raises(ConnectionError):
        list(iter_pages(failing, Paging.PAGE_SIZE, "Invoices", page_size=100, executor=pool, max_ahead=3,
                        budget=budget))
    assert budget.held == 0


def test_a_claim_that_waits_too_long_goes_over_the_budget_rather_than_stall_the_run():
    budget = RecordsBudget(100, patience=0.2)
    held = budget.claim(100, wait=True)
    assert budget.claim(1, wait=False) is None  # look-ahead never goes over
    started = time.monotonic()
    late = budget.claim(50, wait=True)
    assert 0.15 < time.monotonic() - started < 2 and budget.held == 150
    held.release()
    late.release()
    assert budget.held == 0


def test_look_ahead_never_jumps_a_read_waiting_for_room_and_waiting_reads_are_served_in_order():
    budget = RecordsBudget(100)
    held = budget.claim(60, wait=True)
    order: list[str] = []

    def read(name: str, n: int) -> None:
        claim = budget.claim(n, wait=True)
        order.append(name)
        claim.release()

    first = threading.Thread(target=read, args=("first", 50))
    first.start()
    while not budget._queue:
        time.sleep(0.001)
    second = threading.Thread(target=read, args=("second", 10))
    second.start()
    while len(budget._queue) < 2:
        time.sleep(0.001)
    assert budget.claim(30, wait=False) is None  # it would fit, but reads are waiting
    held.release()
    first.join(5)
    second.join(5)
    assert order == ["first", "second"] and budget.held == 0 and budget.overdrawn == 0
