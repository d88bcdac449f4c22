from __future__ import annotations

import json
import socket
import threading
import time

from xero_sandbox.core.webhooks import WebhookSender
from tap_xero.webhooks.queue import EventQueue
from tap_xero.webhooks.receiver import WebhookReceiver

from .helpers import TEST_KEY, make_event


class PublishingStore:
    """The one thing the sender needs from the sandbox Store: subscribe(callback) -> unsubscribe."""

    def __init__(self) -> None:
        self.callbacks: list = []

    def subscribe(self, callback):
        self.callbacks.append(callback)
        return lambda: self.callbacks.remove(callback)

    def publish(self, event: dict) -> None:
        for callback in list(self.callbacks):
            callback(event)


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_store_changes_are_delivered_in_signed_batches(receiver, queue_path):
    store = PublishingStore()
    sender = WebhookSender(store, url=receiver.url, key=TEST_KEY, batch_size=25).start()
    try:
        events = [make_event("INVOICE", f"inv-{i}") for i in range(120)]
        for event in events:
            store.publish(event)
        wait_for(lambda: sender.stats.get("events_delivered", 0) == 120)
    finally:
        sender.stop()
    stats = sender.stats
    assert stats["events_queued"] == 120
    assert 5 <= stats["deliveries_ok"] < 120  # batched: at most 25 a payload
    assert stats.get("failed_attempts", 0) == 0
    assert store.callbacks == []  # stop() unsubscribed
    with EventQueue(queue_path) as queue:
        assert [e for _, e in queue.read_after(0, 1000)] == events  # order kept


def test_failed_deliveries_are_retried_with_the_same_body_until_they_succeed(tmp_path):
    port = free_port()
    store = PublishingStore()
    sender = WebhookSender(store, url=f"http://127.0.0.1:{port}/webhooks/xero", key=TEST_KEY,
                           retry_delays=(0.1, 0.2, 0.4, 0.8, 1.6)).start()
    try:
        store.publish(make_event("CONTACT", "c-1"))
        wait_for(lambda: sender.stats.get("failed_attempts", 0) >= 1)  # receiver not up yet
        with WebhookReceiver(tmp_path / "q.sqlite", TEST_KEY, port=port) as receiver:
            wait_for(lambda: sender.stats.get("deliveries_ok", 0) == 1)
            assert receiver.stats["events_added"] == 1
    finally:
        sender.stop()
    assert sender.stats["retries"] >= 1 and sender.stats.get("gave_up", 0) == 0


def test_retries_are_bounded(tmp_path):
    store = PublishingStore()
    attempts: list[float] = []
    sender = WebhookSender(store, url=f"http://127.0.0.1:{free_port()}/webhooks/xero", key=TEST_KEY,
                           retry_delays=(0.05, 0.1, 0.2))
    original_post = sender._post
    sender._post = lambda body, signature: (attempts.append(time.monotonic()), original_post(body, signature))[1]
    sender.start()
    try:
        store.publish(make_event())
        wait_for(lambda: sender.stats.get("gave_up", 0) == 1)
        time.sleep(0.3)
    finally:
        sender.stop()
    assert len(attempts) == 4  # one delivery and three retries, then it gives up
    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    assert gaps == sorted(gaps)  # decreasing frequency


def test_stop_sends_what_is_already_queued(receiver):
    store = PublishingStore()
    sender = WebhookSender(store, url=receiver.url, key=TEST_KEY, batch_window_seconds=0.5).start()
    for i in range(10):
        store.publish(make_event("CREDITNOTE", f"cn-{i}"))
    sender.stop()
    assert sender.stats["events_delivered"] == 10
    assert receiver.stats["events_added"] == 10


def test_payload_sequences_increase(receiver):
    seen: list[dict] = []
    lock = threading.Lock()
    sender = WebhookSender(None, url=receiver.url, key=TEST_KEY)
    original_post = sender._post

    def recording_post(body: bytes, signature: str) -> int:
        with lock:
            seen.append(json.loads(body))
        return original_post(body, signature)

    sender._post = recording_post
    sender.send([make_event(), make_event()])
    sender.send([make_event()])
    assert [(p["firstEventSequence"], p["lastEventSequence"]) for p in seen] == [(1, 2), (3, 3)]


def test_a_stopped_sender_ignores_a_store_it_cannot_unsubscribe_from(receiver):
    class NoUnsubscribeStore(PublishingStore):
        def subscribe(self, callback):  # like the sandbox Store: no handle to unsubscribe with
            self.callbacks.append(callback)

    store = NoUnsubscribeStore()
    sender = WebhookSender(store, url=receiver.url, key=TEST_KEY).start()
    store.publish(make_event())
    sender.stop()
    store.publish(make_event())
    assert sender.stats["events_queued"] == 1 and sender.stats["pending"] == 0
    assert receiver.stats["events_added"] == 1
