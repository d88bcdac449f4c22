"""Bounded load on loopback against the receiver running as its own process (marked ``load``)."""

from __future__ import annotations

import asyncio
import http.client
import os
import resource
import signal
import socket
import statistics
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from tap_xero.webhooks.payload import build_payload, event_identity
from tap_xero.webhooks.queue import EventQueue

from .helpers import make_event, post, receiver_log, start_receiver_process

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
    assert p99 < 5.0  # Xero's deadline; the figures are printed above (pytest -s), a measure, not a test
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


SLOW_CLIENTS = 1100
OPEN_FILE_LIMIT = 1024
ATTACK_SECONDS = 15


class SlowLoris:
    """``count`` clients on loopback that send a request head a byte a second, reconnecting when cut off."""

    HEAD = b"POST /webhooks/xero HTTP/1.1\r\nHost: receiver\r\nX-Padding: " + b"z" * 200 + b"\r\n\r\n"

    def __init__(self, host: str, port: int, count: int) -> None:
        self.host, self.port, self.count = host, port, count
        self.open = 0  # connections established and not yet closed
        self.connects = self.cut_off = self.refused = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def start(self) -> SlowLoris:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    async def _main(self) -> None:
        await asyncio.gather(*(self._client(i) for i in range(self.count)))

    async def _client(self, number: int) -> None:
        await asyncio.sleep(number * 0.002)  # ramp up over ~2 s
        while not self._stop.is_set():
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), 10)
            except (OSError, asyncio.TimeoutError):
                self.refused += 1
                await asyncio.sleep(0.2)
                continue
            self.connects += 1
            self.open += 1
            try:
                for index in range(len(self.HEAD)):
                    if self._stop.is_set():
                        break
                    writer.write(self.HEAD[index:index + 1])
                    await writer.drain()
                    try:
                        if not await asyncio.wait_for(reader.read(1024), 1.0):
                            self.cut_off += 1  # the receiver closed it
                            break
                    except asyncio.TimeoutError:
                        continue
            except OSError:
                self.cut_off += 1
            finally:
                self.open -= 1
                writer.close()


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_1100_slow_clients_under_an_open_file_limit_of_1024_do_not_stop_deliveries(tmp_path):
    # This process holds the 1,100 client sockets (and the checks' own): give it room.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4096), max(hard, 4096)))
    queue_path = tmp_path / "events.sqlite"
    process, base_url = start_receiver_process(queue_path, tmp_path / "ready", open_file_limit=OPEN_FILE_LIMIT,
                                               log_level="INFO")
    parts = urlsplit(base_url)
    attack = SlowLoris(parts.hostname, parts.port, SLOW_CLIENTS).start()
    delivered: list[str] = []
    latencies: list[float] = []
    health_latencies: list[float] = []
    failures: list[str] = []
    peak_files = 0
    try:
        deadline = time.monotonic() + 30
        while attack.open < OPEN_FILE_LIMIT - 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert attack.open >= OPEN_FILE_LIMIT - 200, f"the attack did not build up: {attack.open} open"
        ends = time.monotonic() + ATTACK_SECONDS
        number = 0
        while time.monotonic() < ends:
            number += 1
            event = make_event(CATEGORIES[number % 3], f"under-attack-{number}")
            started = time.monotonic()
            try:
                status, _ = post(base_url + "/webhooks/xero", build_payload([event]))
            except (OSError, http.client.HTTPException) as exc:
                status = repr(exc)
            latencies.append(time.monotonic() - started)
            if status == 200:
                delivered.append(event_identity(event))
            else:
                failures.append(f"delivery {number}: {status}")
            if number % 4 == 0:
                started = time.monotonic()
                try:
                    with urllib.request.urlopen(base_url + "/healthz", timeout=10) as response:
                        health_status = response.status
                except OSError as exc:
                    health_status = repr(exc)
                health_latencies.append(time.monotonic() - started)
                if health_status != 200:
                    failures.append(f"healthz: {health_status}")
            peak_files = max(peak_files, open_files(process.pid))
            time.sleep(0.1)
        open_during_attack = attack.open
    finally:
        attack.stop()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    log = receiver_log(tmp_path / "ready")
    with EventQueue(queue_path) as queue:
        stored = {event_identity(e) for _, e in queue.read_after(0, limit=100_000)}
    print(
        f"\n{SLOW_CLIENTS} slow clients, receiver RLIMIT_NOFILE {OPEN_FILE_LIMIT}: {len(latencies)} signed deliveries "
        f"in {ATTACK_SECONDS} s, answer time p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms; /healthz max "
        f"{max(health_latencies) * 1000:.0f} ms; attacker connections {attack.connects} (cut off {attack.cut_off}, "
        f"{open_during_attack} open at the end); receiver's open files peak {peak_files}; "
        f"log {len(log.splitlines())} lines"
    )
    assert process.returncode == 0
    assert not failures, failures[:5]
    assert max(latencies) < 5.0 and max(health_latencies) < 5.0  # Xero's deadline
    assert peak_files < OPEN_FILE_LIMIT
    assert attack.cut_off > SLOW_CLIENTS  # the header deadline cut slow clients off, again and again
    assert set(delivered) <= stored and len(delivered) == len(latencies)
    assert "Traceback" not in log and "Too many open files" not in log
    assert len(log.splitlines()) < 20  # nothing per connection


def test_a_flood_of_malformed_requests_is_answered_and_barely_logged(tmp_path):
    process, base_url = start_receiver_process(tmp_path / "events.sqlite", tmp_path / "ready", log_level="INFO")
    parts = urlsplit(base_url)
    log_before = len(receiver_log(tmp_path / "ready").splitlines())
    statuses: list[bytes] = []
    lock = threading.Lock()

    def send(number: int) -> None:
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/9.9.9\r\nHost: x\r\n\r\n" if number % 2 else b"\x00\xff garbage\r\n\r\n")
            answer = sock.recv(64)
        with lock:
            statuses.append(answer[:12])

    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(send, range(2000)))
        wall = time.perf_counter() - started
        assert post(base_url + "/webhooks/xero", build_payload([make_event()]))[0] == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    added = receiver_log(tmp_path / "ready").splitlines()[log_before:]
    print(f"\n2000 malformed requests in {wall:.2f} s: {statuses.count(b'HTTP/1.1 400')} answered 400; "
          f"{len(added)} log lines added ({sum(len(line) + 1 for line in added)} bytes)")
    assert statuses.count(b"HTTP/1.1 400") == 2000
    assert len(added) <= 5  # start-up aside, at most one line per request; in fact none
