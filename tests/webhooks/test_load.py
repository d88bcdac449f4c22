"""Bounded load on loopback against the receiver running as its own process (marked ``load``)."""

from __future__ import annotations

import http.client
import signal
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from tap_xero.webhooks.payload import build_payload, event_identity
from tap_xero.webhooks.queue import EventQueue

from .helpers import make_event, post, start_receiver_process

pytestmark = pytest.mark.load

EVENTS = 3000
CONCURRENCY = 20
CATEGORIES = ("INVOICE", "CONTACT", "CREDITNOTE")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def test_thousands_of_concurrent_deliveries_lose_nothing_and_answer_fast(tmp_path):
    queue_path = tmp_path / "events.sqlite"
    process, base_url = start_receiver_process(queue_path, tmp_path / "ready")
    url = base_url + "/webhooks/xero"
    parts = urlsplit(url)
    events = [make_event(CATEGORIES[i % 3], f"load-{i}") for i in range(EVENTS)]
    # Every tenth delivery is sent twice, as Xero's retries would be.
    deliveries = [events[i:i + 1] for i in range(EVENTS)]
    work = [(d, 2 if i % 10 == 0 else 1) for i, d in enumerate(deliveries)]
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    local = threading.local()

    def deliver(item) -> None:
        batch, times = item
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        body = build_payload(batch)
        for _ in range(times):
            started = time.perf_counter()
            status, _ = post(url, body, connection=local.connection)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses.append(status)

    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(deliver, work))
        wall = time.perf_counter() - started
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)

    with EventQueue(queue_path) as queue:
        stored = queue.read_after(0, limit=EVENTS * 2)
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    print(
        f"\nwebhook load: {len(latencies)} deliveries ({EVENTS} events, {EVENTS // 10} retries) at concurrency "
        f"{CONCURRENCY} in {wall:.2f} s ({len(latencies) / wall:.0f}/s); answer time p50 {p50 * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms, "
        f"mean {statistics.mean(latencies) * 1000:.1f} ms; stored {len(stored)}"
    )
    assert statuses.count(200) == len(statuses) == EVENTS + EVENTS // 10
    assert len(stored) == EVENTS  # zero loss, retries stored once
    assert {event_identity(e) for _, e in stored} == {event_identity(e) for e in events}
    assert p99 < 1.0  # Xero allows 5 s
    assert wall < 60


def test_receiver_killed_mid_load_keeps_everything_it_acknowledged(tmp_path):
    queue_path = tmp_path / "events.sqlite"
    process, base_url = start_receiver_process(queue_path, tmp_path / "ready")
    url = base_url + "/webhooks/xero"
    parts = urlsplit(url)
    acknowledged: set[str] = set()
    lock = threading.Lock()
    kill_after = 800

    def sender(worker: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        for i in range(10_000):
            batch = [make_event(CATEGORIES[i % 3], f"kill-{worker}-{i}-{j}") for j in range(1 + i % 3)]
            try:
                status, _ = post(url, build_payload(batch), connection=connection)
            except (OSError, http.client.HTTPException):
                return  # the receiver is gone: nothing more is acknowledged
            if status == 200:
                with lock:
                    acknowledged.update(event_identity(e) for e in batch)

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < kill_after and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)  # no chance to flush or close anything
    process.wait(timeout=10)
    for thread in threads:
        thread.join(30)
    assert len(acknowledged) >= kill_after

    # Restart on the same queue: everything acknowledged is there, and the receiver works on.
    process, base_url = start_receiver_process(queue_path, tmp_path / "ready")
    try:
        late = make_event("INVOICE", "after-restart")
        assert post(base_url + "/webhooks/xero", build_payload([late]))[0] == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
    with EventQueue(queue_path) as queue:
        stored = {event_identity(e) for _, e in queue.read_after(0, limit=1_000_000)}
    missing = acknowledged - stored
    print(f"\nkilled mid-load: {len(acknowledged)} events acknowledged, {len(stored)} stored, {len(missing)} missing")
    assert not missing
    assert event_identity(late) in stored
