from __future__ import annotations

import http.client
import json
import logging
import socket
import sqlite3
import time
import urllib.error
import urllib.request

from tap_xero.webhooks.payload import build_payload
from tap_xero.webhooks.queue import EventQueue
from tap_xero.webhooks.receiver import WebhookReceiver
from tap_xero.webhooks.signature import sign

from .helpers import TEST_KEY, make_event, post, rid


def stored(queue_path) -> list[dict]:
    with EventQueue(queue_path) as queue:
        return [event for _, event in queue.read_after(0, limit=100_000)]


def test_signed_delivery_is_stored_then_answered_with_an_empty_200(receiver, queue_path):
    events = [make_event("INVOICE"), make_event("CONTACT"), make_event("CREDITNOTE")]
    started = time.monotonic()
    status, body = post(receiver.url, build_payload(events))
    assert (status, body) == (200, b"")
    assert time.monotonic() - started < 5  # Xero's deadline for an answer
    assert stored(queue_path) == events


def test_forged_or_missing_signature_is_refused_and_nothing_stored(receiver, queue_path):
    body = build_payload([make_event()])
    assert post(receiver.url, body, key="not-the-key")[0] == 401
    assert post(receiver.url, body, key=None)[0] == 401
    assert post(receiver.url, body, signature=sign(body, TEST_KEY)[:-4] + "AAA=")[0] == 401
    assert stored(queue_path) == []
    assert receiver.stats["bad_signature"] == 3


def test_intent_to_receive_probe(receiver, sender):
    report = sender.intent_to_receive()
    assert report["passed"], report
    assert {p["status"] for p in report["probes"]} == {200, 401}


def test_intent_to_receive_reports_a_receiver_with_the_wrong_key(queue_path):
    from xero_sandbox.core.webhooks import WebhookSender

    with WebhookReceiver(queue_path, "some-other-key") as wrong:
        report = WebhookSender(None, url=wrong.url, key=TEST_KEY).intent_to_receive()
    assert not report["passed"]
    assert [p["ok"] for p in report["probes"] if p["signature"] == "valid"] == [False, False]


def test_retries_of_the_same_events_are_stored_once(receiver, sender, queue_path):
    events = [make_event("INVOICE", "inv-1"), make_event("CONTACT", "con-1")]
    assert sender.send(events, repeat=3) == [200, 200, 200]
    # A retry arrives in a new payload (new entropy and sequence) with the same events.
    assert sender.send(events[:1]) == [200]
    assert stored(queue_path) == events
    assert receiver.stats["duplicates"] == 5


def test_forged_delivery_from_the_sender_is_refused(receiver, sender, queue_path):
    assert sender.send([make_event()], forge_signature=True, repeat=2) == [401, 401]
    assert stored(queue_path) == []


def test_oversized_body_is_refused_unread(queue_path):
    with WebhookReceiver(queue_path, TEST_KEY, max_body_bytes=2048) as small:
        many = [make_event() for _ in range(40)]
        body = build_payload(many)
        assert len(body) > 2048
        status, _ = post(small.url, body)
        assert status == 413
        assert post(small.url, build_payload(many[:2]))[0] == 200
    assert len(stored(queue_path)) == 2


def test_oversized_claim_is_refused_before_the_body_is_sent(receiver):
    # A client announcing 1 GB gets its 413 without the receiver waiting for (or buffering) it.
    with socket.create_connection((receiver.host, receiver.port), timeout=5) as sock:
        sock.sendall(b"POST /webhooks/xero HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n{")
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")


def test_body_without_length_is_refused(receiver):
    with socket.create_connection((receiver.host, receiver.port), timeout=5) as sock:
        sock.sendall(b"POST /webhooks/xero HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 411")


def test_malformed_body_is_refused_after_the_signature_check(receiver, queue_path):
    for body in (b"{not json", b'{"events": [{"resourceId": "x"}]}', b'["events"]'):
        assert post(receiver.url, body)[0] == 400
        assert post(receiver.url, body, key="wrong")[0] == 401  # unsigned junk learns nothing
    assert stored(queue_path) == []
    assert receiver.stats["malformed"] == 3


def test_keep_alive_connection_serves_many_deliveries(receiver, queue_path):
    connection = http.client.HTTPConnection(receiver.host, receiver.port, timeout=5)
    try:
        for i in range(5):
            assert post(receiver.url, build_payload([make_event("INVOICE", f"k{i}")]), connection=connection)[0] == 200
        # A 400 keeps the connection usable too.
        assert post(receiver.url, b"{", connection=connection)[0] == 400
        assert post(receiver.url, build_payload([make_event()]), connection=connection)[0] == 200
    finally:
        connection.close()
    assert len(stored(queue_path)) == 6


def test_healthz_and_unknown_paths(receiver):
    post(receiver.url, build_payload([make_event()]))
    with urllib.request.urlopen(receiver.base_url + "/healthz", timeout=5) as response:
        health = json.loads(response.read())
    assert health["status"] == "ok" and health["max_position"] >= 1 and health["events_added"] == 1
    assert post(receiver.base_url + "/elsewhere", build_payload([]))[0] == 404
    try:
        urllib.request.urlopen(receiver.base_url + "/webhooks/xero", timeout=5)
        raise AssertionError("GET on the webhook path must not succeed")
    except urllib.error.HTTPError as exc:
        assert exc.code == 405 and exc.headers["Allow"] == "POST"


def test_key_and_signature_never_logged(queue_path, caplog):
    caplog.set_level(logging.DEBUG)
    with WebhookReceiver(queue_path, TEST_KEY) as running:
        body = build_payload([make_event()])
        post(running.url, body)
        post(running.url, body, key="wrong")
        post(running.url, b"{")
    assert "/webhooks/xero" in caplog.text  # requests are logged (at DEBUG) ...
    assert TEST_KEY not in caplog.text  # ... but never the key
    assert sign(body, TEST_KEY) not in caplog.text


def test_a_locked_queue_is_answered_503_in_time_and_nothing_is_lost(queue_path):
    with WebhookReceiver(queue_path, TEST_KEY, append_busy_timeout_ms=300) as running:
        blocker = sqlite3.connect(queue_path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        body = build_payload([make_event("INVOICE", "locked-1")])
        started = time.monotonic()
        status, _ = post(running.url, body)
        assert status == 503 and time.monotonic() - started < 2  # not acknowledged: Xero will retry
        blocker.execute("ROLLBACK")
        blocker.close()
        assert post(running.url, body)[0] == 200  # Xero's retry
    assert [e["resourceId"] for e in stored(queue_path)] == [rid("locked-1")]
