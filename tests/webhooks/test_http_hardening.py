"""The receiver facing the internet: malformed HTTP, slow clients, the connection cap, shutdown."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import time

import pytest

from tap_xero.errors import ConfigError
from tap_xero.webhooks.payload import build_payload
from tap_xero.webhooks.queue import EventQueue
from tap_xero.webhooks.receiver import ServerLimits, WebhookReceiver
from tap_xero.webhooks.signature import SIGNATURE_HEADER, sign

from .helpers import TEST_KEY, make_event, post

# Short deadlines keep these tests quick; the checks below allow generous slack for a busy machine.
FAST = ServerLimits(header_timeout=0.5, body_timeout=0.5, shutdown_timeout=5)


@pytest.fixture
def fast_receiver(queue_path):
    with WebhookReceiver(queue_path, TEST_KEY, limits=FAST) as running:
        yield running


def stored_ids(queue_path) -> list[str]:
    with EventQueue(queue_path) as queue:
        return [event["resourceId"] for _, event in queue.read_after(0, limit=10_000)]


def exchange(receiver: WebhookReceiver, raw: bytes, wait: float = 5.0) -> bytes:
    """Send ``raw`` on a fresh connection; everything the receiver answers before closing (or ``wait``)."""
    with socket.create_connection((receiver.host, receiver.port), timeout=wait) as sock:
        sock.sendall(raw)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    return answer


def seconds_until_closed(sock: socket.socket, limit: float = 10.0, trickle: bytes = b"") -> tuple[float, bytes]:
    """Read (sending ``trickle`` a byte every 0.1 s) until the peer closes; (seconds, what it sent)."""
    started = time.monotonic()
    sock.settimeout(0.1)
    received = b""
    position = 0
    while time.monotonic() - started < limit:
        if position < len(trickle):
            try:
                sock.sendall(trickle[position:position + 1])
            except OSError:
                break
            position += 1
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    return time.monotonic() - started, received


@pytest.mark.parametrize("request_head", [
    b"GET / HTTP/9.9.9\r\nHost: x\r\n\r\n",
    b"GARBAGE\r\n\r\n",
    b"POST /webhooks/xero HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
    b"POST /webhooks/xero HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    b"GET /\x00\x01 HTTP/1.1\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,  # a TLS ClientHello to the plain port
])
def test_malformed_requests_get_a_4xx_and_at_most_one_log_line(fast_receiver, caplog, request_head):
    caplog.set_level(logging.DEBUG)
    for _ in range(20):
        answer = exchange(fast_receiver, request_head)
        assert answer.startswith(b"HTTP/1.1 4"), answer[:60]
    assert len(caplog.records) <= 20
    assert "Traceback" not in caplog.text
    assert post(fast_receiver.url, build_payload([make_event()]))[0] == 200  # still serving


def test_a_request_head_over_128_kib_is_refused_431(fast_receiver):
    # hyper checks its 64 KiB buffer limit between reads, so a head is cut somewhere in 64..128 KiB.
    assert exchange(fast_receiver, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 30_000 + b"\r\n\r\n") \
        .startswith(b"HTTP/1.1 200")
    answer = exchange(fast_receiver, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 300_000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431")
    assert post(fast_receiver.url, build_payload([make_event()]))[0] == 200


def test_a_delivery_near_the_body_cap_is_stored(receiver, queue_path):
    events = [make_event() for _ in range(3000)]
    body = build_payload(events)
    assert 900_000 < len(body) <= receiver.max_body_bytes
    assert post(receiver.url, body) == (200, b"")
    assert len(stored_ids(queue_path)) == 3000


def test_a_silent_connection_is_closed_after_the_header_deadline(fast_receiver):
    with socket.create_connection((fast_receiver.host, fast_receiver.port)) as sock:
        elapsed, received = seconds_until_closed(sock)
    assert received == b""
    assert 0.4 <= elapsed < 3.0


def test_headers_sent_a_byte_at_a_time_are_cut_off_at_the_deadline(fast_receiver, queue_path):
    body = build_payload([make_event("INVOICE", "slow-loris")])
    head = (f"POST /webhooks/xero HTTP/1.1\r\nHost: x\r\n{SIGNATURE_HEADER}: {sign(body, TEST_KEY)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    assert len(head) > 60  # at a byte every 0.1 s it needs more than 6 s: far past the 0.5 s deadline
    with socket.create_connection((fast_receiver.host, fast_receiver.port)) as sock:
        elapsed, received = seconds_until_closed(sock, trickle=head + body)
    assert received == b""
    assert 0.4 <= elapsed < 3.0
    assert stored_ids(queue_path) == []


def test_a_body_that_does_not_arrive_in_time_is_answered_408(fast_receiver, queue_path):
    body = build_payload([make_event("INVOICE", "slow-body")])
    head = (f"POST /webhooks/xero HTTP/1.1\r\nHost: x\r\n{SIGNATURE_HEADER}: {sign(body, TEST_KEY)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection((fast_receiver.host, fast_receiver.port)) as sock:
        sock.sendall(head + body[:10])
        elapsed, received = seconds_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 408")
    assert 0.4 <= elapsed < 3.0
    assert stored_ids(queue_path) == []
    assert fast_receiver.stats["body_timeout"] == 1


def test_an_idle_keep_alive_connection_is_closed_after_the_header_deadline(fast_receiver):
    with socket.create_connection((fast_receiver.host, fast_receiver.port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        elapsed, received = seconds_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 200")
    assert 0.4 <= elapsed < 3.0


def test_connections_over_the_cap_wait_in_the_listen_queue_until_a_slot_frees(queue_path):
    limits = ServerLimits(max_connections=3, header_timeout=1.0, body_timeout=1.0)
    with WebhookReceiver(queue_path, TEST_KEY, limits=limits) as capped:
        assert capped.max_connections == 3
        started = time.monotonic()
        holders = [socket.create_connection((capped.host, capped.port)) for _ in range(3)]
        try:
            time.sleep(0.1)  # the three are accepted and hold every slot
            status, _ = post(capped.url, build_payload([make_event()]))
            waited = time.monotonic() - started
        finally:
            for sock in holders:
                sock.close()
        # Answered, but only once the header deadline had closed one of the silent connections.
        assert status == 200
        assert 0.8 <= waited < 4.0
        began = time.monotonic()
        assert post(capped.url, build_payload([make_event()]))[0] == 200
        assert time.monotonic() - began < 0.8  # with free slots, no wait (a wait would be the 1 s header deadline)


def test_stop_finishes_the_request_in_progress_and_refuses_new_connections(queue_path):
    receiver = WebhookReceiver(queue_path, TEST_KEY, limits=ServerLimits(body_timeout=3.0)).start()
    body = build_payload([make_event("INVOICE", "in-flight")])
    head = (f"POST /webhooks/xero HTTP/1.1\r\nHost: x\r\n{SIGNATURE_HEADER}: {sign(body, TEST_KEY)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    sock = socket.create_connection((receiver.host, receiver.port), timeout=10)
    sock.sendall(head + body[:20])
    time.sleep(0.2)  # the request has started: its body is half there
    stopper = threading.Thread(target=receiver.stop)
    stopper.start()
    assert refuses_connections(receiver.host, receiver.port, within=3.0)  # stop() stopped accepting ...
    sock.sendall(body[20:])  # ... but the request in progress goes on
    answer = sock.recv(4096)
    sock.close()
    stopper.join(10)
    assert not stopper.is_alive()
    assert answer.startswith(b"HTTP/1.1 200")
    with EventQueue(queue_path) as queue:
        assert queue.count() == 1


def refuses_connections(host: str, port: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1).close()
        except OSError:
            return True
        time.sleep(0.05)
    return False


def test_a_port_in_use_is_a_clear_error(queue_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ConfigError, match="in use"):
            WebhookReceiver(queue_path, TEST_KEY, port=taken.getsockname()[1])


@pytest.mark.parametrize("limits, flag", [
    (ServerLimits(header_timeout=5.0), "--header-timeout"),
    (ServerLimits(body_timeout=0), "--body-timeout"),
    (ServerLimits(max_connections=0), "--max-connections"),
    (ServerLimits(backlog=0), "--backlog"),
])
def test_limits_that_make_no_sense_are_refused(queue_path, limits, flag):
    with pytest.raises(ConfigError, match=flag):
        WebhookReceiver(queue_path, TEST_KEY, limits=limits)


def test_the_connection_cap_is_lowered_to_fit_the_open_file_limit():
    code = ("import resource, logging; logging.basicConfig(level=logging.WARNING)\n"
            "resource.setrlimit(resource.RLIMIT_NOFILE, (300, 300))\n"
            "from tap_xero.webhooks.server import connection_cap, FD_RESERVE\n"
            "print(connection_cap(1000), connection_cap(100), 300 - FD_RESERVE)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    lowered, kept, expected = result.stdout.split()
    assert (int(lowered), int(kept)) == (int(expected), 100)
    assert "at most 236 connections, not 1000: the open-file limit is 300" in result.stderr



def test_a_host_name_is_resolved_to_the_address_to_bind(queue_path):
    with WebhookReceiver(queue_path, TEST_KEY, host="localhost") as named:
        assert named.host in ("127.0.0.1", "::1")
        assert post(named.url, build_payload([make_event()]))[0] == 200


def test_serving_is_true_between_start_and_stop(queue_path):
    receiver = WebhookReceiver(queue_path, TEST_KEY)
    assert not receiver.serving
    receiver.start()
    assert receiver.serving
    receiver.stop()
    assert not receiver.serving
