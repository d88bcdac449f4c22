"""The limiter: sliding minute window, Xero's remaining counts, 429 pauses, concurrency with a real server."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.tap.stub_xero import StubAuth, StubXero, envelope

from tap_xero import errors
from tap_xero.http import XeroClient
from tap_xero.limits import COUNTING_LAG, Limits, RateWindow

WINDOW = 0.4  # seconds standing in for Xero's minute


def start_times(window: RateWindow, count: int) -> list[float]:
    times = []
    for _ in range(count):
        window.acquire()
        times.append(time.monotonic())
        window.release()
    return times


def test_sliding_window_keeps_calls_per_window():
    window = RateWindow(3, None, window_seconds=WINDOW)
    times = start_times(window, 6)
    assert times[2] - times[0] < WINDOW * 0.8  # the first three go at once (held back, they would take a window)
    for earlier, later in zip(times, times[3:], strict=False):
        assert later - earlier >= WINDOW * 0.95  # never four in one window


def test_server_remaining_zero_waits_for_a_new_window():
    window = RateWindow(60, None, window_seconds=WINDOW)
    window.acquire()
    window.observe_remaining(0)  # another process spent the allowance
    window.release()
    began = time.monotonic()
    window.acquire()
    assert time.monotonic() - began >= WINDOW * 0.9
    window.release()
    began = time.monotonic()
    window.acquire()  # a new window: no waiting (a wait would be a whole window)
    assert time.monotonic() - began < WINDOW * 0.7


def test_server_remaining_counts_down_with_calls_started_after_it():
    window = RateWindow(60, None, window_seconds=WINDOW)
    window.observe_remaining(2)
    times = start_times(window, 3)
    assert times[1] - times[0] < WINDOW * 0.7
    assert times[2] - times[0] >= WINDOW * 0.8


def test_pause_after_429_applies_to_one_tenant_only():
    limits = Limits(window_seconds=WINDOW)
    limits.pause("a", 0.5)
    began = time.monotonic()
    with limits.slot("b"):
        assert time.monotonic() - began < 0.35  # bounds sit between the two outcomes: a loaded CI machine stalls
    with limits.slot("a"):
        assert time.monotonic() - began >= 0.45


def test_app_window_holds_across_tenants():
    limits = Limits(app_per_minute=4, window_seconds=WINDOW)
    starts = []
    for tenant in ["a", "b", "c", "d", "e", "f"]:
        with limits.slot(tenant):
            starts.append(time.monotonic())
    assert starts[3] - starts[0] < WINDOW * 0.8
    assert starts[4] - starts[0] >= WINDOW * 0.95
    assert limits.calls == {t: 1 for t in "abcdef"}


def test_concurrency_cap_per_tenant_with_a_real_threaded_server():
    per_tenant_in_flight: dict[str, int] = {}
    per_tenant_max: dict[str, int] = {}
    lock = threading.Lock()

    def slow(request):
        tenant = request.headers["xero-tenant-id"]
        with lock:
            per_tenant_in_flight[tenant] = per_tenant_in_flight.get(tenant, 0) + 1
            per_tenant_max[tenant] = max(per_tenant_max.get(tenant, 0), per_tenant_in_flight[tenant])
        time.sleep(0.05)
        with lock:
            per_tenant_in_flight[tenant] -= 1
        return 200, {}, envelope("Invoices", [])

    with StubXero(slow) as stub:
        client = XeroClient(stub.url, StubAuth(), timeout=5, max_concurrent_per_tenant=3,
                            logger=logging.getLogger("test"))
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda i: client.get_json("ab"[i % 2], "Invoices"), range(24)))
    assert per_tenant_max == {"a": 3, "b": 3}  # the cap reached and never passed, per tenant
    assert stub.max_in_flight > 3  # tenants progress in parallel, each within its own cap


def test_minute_remaining_header_is_read_proactively():
    with StubXero(lambda r: (200, {"X-MinLimit-Remaining": "0", "X-DayLimit-Remaining": "4321"},
                             envelope("Invoices", []))) as stub:
        limits = Limits(window_seconds=WINDOW)
        client = XeroClient(stub.url, StubAuth(), timeout=5, limits=limits, logger=logging.getLogger("t"))
        client.get_json("a", "Invoices")
        client.get_json("a", "Invoices")
    first, second = stub.requests
    assert second.at - first.at >= WINDOW * 0.9
    assert limits.day_left == {"a": 4321}


def test_app_minute_remaining_header_holds_every_tenant():
    with StubXero(lambda r: (200, {"X-AppMinLimit-Remaining": "0"}, envelope("Invoices", []))) as stub:
        limits = Limits(window_seconds=WINDOW)
        client = XeroClient(stub.url, StubAuth(), timeout=5, limits=limits, logger=logging.getLogger("t"))
        client.get_json("a", "Invoices")
        client.get_json("b", "Invoices")  # another tenant, same app: it waits too
    first, second = stub.requests
    assert second.at - first.at >= WINDOW * 0.9


class FakeClock:
    """The limiter's injectable clock, moved by hand: no real waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_server_remaining_zero_waits_only_until_our_oldest_call_is_a_minute_old():
    clock = FakeClock()
    window = RateWindow(60, 5, clock=clock, window_seconds=60.0)
    first_call = clock.now
    for _ in range(40):  # a burst: four calls a second
        assert window.acquire() == 0
        window.release()
        clock.now += 0.25
    clock.now = first_call + 11.25  # the last response says Xero's minute is spent
    window.observe_remaining(0)
    # Xero counted our calls since ``first_call``: its minute has room again 60 s after that call,
    # not 60 s after this response (which would lose 11.25 s every minute).
    assert window.wait_seconds() == pytest.approx(60.0 - 11.25 + 60.0 * COUNTING_LAG)
    clock.now = first_call + 60.0 * (1 + COUNTING_LAG)
    assert window.wait_seconds() == 0.0
    assert window.acquire() == 0.0


def test_server_remaining_zero_without_calls_of_ours_waits_a_minute_from_the_response():
    clock = FakeClock()
    window = RateWindow(60, 5, clock=clock, window_seconds=60.0)
    window.acquire()
    window.release()
    clock.now += 120.0  # our call is long gone: another process spent the allowance
    window.observe_remaining(0)
    assert window.wait_seconds() == 60.0
    clock.now += 59.0
    assert window.wait_seconds() == 1.0
    clock.now += 1.0
    assert window.wait_seconds() == 0.0


def test_sliding_window_full_waits_until_the_oldest_call_is_a_minute_old():
    clock = FakeClock()
    window = RateWindow(3, None, clock=clock, window_seconds=60.0)
    for _ in range(3):
        window.acquire()
        window.release()
        clock.now += 1.0
    assert window.wait_seconds() == 57.0


def test_a_call_waiting_for_its_turn_is_not_made_once_the_day_is_spent():
    limits = Limits(max_concurrent_per_tenant=1)
    outcome: list[object] = []

    def waiting_call() -> None:
        try:
            with limits.slot("t1"):
                outcome.append("made")
        except errors.DayLimitReached as exc:
            outcome.append(exc)

    with limits.slot("t1"):  # the call Xero answers with its day limit
        waiter = threading.Thread(target=waiting_call)
        waiter.start()
        time.sleep(0.05)
        limits.day_spent("t1")
    waiter.join(5)
    assert len(outcome) == 1 and isinstance(outcome[0], errors.DayLimitReached)
