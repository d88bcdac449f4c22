"""The sandbox's side of Xero webhooks: signed deliveries to a registered URL, like Xero sends.

``WebhookSender(store, url=..., key=...)``:

- ``start()`` subscribes to the store's change events and delivers them from a background thread,
  batched into Xero's payload, signed with the key. A delivery that fails (no answer, or not 200)
  is retried with the identical body after growing delays (decreasing frequency), a bounded
  number of times, without holding up newer batches.
- ``send(events, forge_signature=False, repeat=1)`` delivers one payload now, ``repeat`` times
  (as Xero's retries would), and returns the statuses (0: no answer).
- ``intent_to_receive()`` probes the receiver the way Xero does before enabling a webhook.
- ``stats`` counts what happened.

Signing is ``tap_xero.webhooks.signature.sign``: the one HMAC implementation in the project;
the payload is ``tap_xero.webhooks.payload.build_payload``. The events come from the store
(``TenantBook.event`` makes them). ``control.WebhookControl`` imports this module when webhooks
are first configured: the payload format loads jsonschema, which a sandbox without webhooks
never needs.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from tap_xero.webhooks.payload import build_payload
from tap_xero.webhooks.signature import SIGNATURE_HEADER, sign

logger = logging.getLogger(__name__)

# Xero retries with decreasing frequency for 24 hours; the sandbox compresses that to seconds.
DEFAULT_RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)
DEFAULT_BATCH_SIZE = 50
DEFAULT_BATCH_WINDOW_SECONDS = 0.05  # wait this long for more events before sending a batch
REQUEST_TIMEOUT_SECONDS = 10.0  # longer than Xero's 5 s, so slow answers show up as slow, not lost


class EventSource(Protocol):
    """What the sender needs of the store: ``subscribe(callback)``, which may return the function that
    unsubscribes (the sandbox's ``Store`` does); a source without one may offer ``unsubscribe(callback)``."""

    def subscribe(self, callback: Callable[[dict], None]) -> Callable[[], None] | None: ...


class WebhookSender:
    """Deliver store events to ``url``, signed with ``key``, the way Xero does."""

    def __init__(
        self,
        store: EventSource | None = None,
        url: str = "",
        key: str = "",
        batch_size: int = DEFAULT_BATCH_SIZE,
        batch_window_seconds: float = DEFAULT_BATCH_WINDOW_SECONDS,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
    ) -> None:
        self.store = store
        self.url = url
        self.key = key
        self.batch_size = batch_size
        self.batch_window_seconds = batch_window_seconds
        self.retry_delays = tuple(retry_delays)
        self._incoming: queue.Queue[dict[str, Any]] = queue.Queue()
        # (due time, tiebreak, attempt number already made, body) of deliveries waiting for a retry
        self._retries: list[tuple[float, int, int, bytes, int]] = []
        self._tiebreak = itertools.count()
        self._sequence = 1
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], Any] | None = None

    # -- public interface -------------------------------------------------------------------

    def start(self) -> WebhookSender:
        """Subscribe to the store and start delivering in the background."""
        if self._thread:
            return self
        self._stopping.clear()
        if self.store is not None:
            handle = self.store.subscribe(self._on_event)
            if callable(handle):
                self._unsubscribe = handle
            elif hasattr(self.store, "unsubscribe"):
                self._unsubscribe = lambda: self.store.unsubscribe(self._on_event)
        self._thread = threading.Thread(target=self._run, name="sandbox-webhook-sender", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Unsubscribe, send what is already queued (one attempt each), and stop the thread."""
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        self._stopping.set()
        if self._thread:
            self._thread.join(timeout)
            self._thread = None

    def send(self, events: Sequence[dict[str, Any]], forge_signature: bool = False, repeat: int = 1) -> list[int]:
        """Deliver ``events`` as one payload, ``repeat`` times with the identical body.

        ``forge_signature`` signs with a wrong key, as an attacker without the key would.
        Returns each attempt's HTTP status (0 when the receiver did not answer).
        """
        body = build_payload(events, self._take_sequences(len(events)))
        signature = sign(body, self._forged_key() if forge_signature else self.key)
        statuses = [self._post(body, signature) for _ in range(max(1, repeat))]
        self._count("forged_sent" if forge_signature else "manual_sent", len(statuses))
        return statuses

    def intent_to_receive(self) -> dict[str, Any]:
        """Probe like Xero: empty payloads, some signed right (expect 200), some wrong (expect 401)."""
        probes = []
        for valid in (True, False, False, True, False):
            body = build_payload([], self._take_sequences(0))
            status = self._post(body, sign(body, self.key if valid else self._forged_key()))
            expected = 200 if valid else 401
            probes.append({"signature": "valid" if valid else "invalid", "status": status,
                           "expected": expected, "ok": status == expected})
        return {"passed": all(p["ok"] for p in probes), "url": self.url, "probes": probes}

    @property
    def stats(self) -> dict[str, int]:
        """Counts: events_queued, deliveries_ok, events_delivered, failed_attempts, retries, gave_up, pending."""
        with self._lock:
            counts = dict(self._counts)
            counts["retry_waiting"] = len(self._retries)
        counts["pending"] = self._incoming.qsize()
        return counts

    # -- internals --------------------------------------------------------------------------

    def _on_event(self, event: dict[str, Any]) -> None:
        # Called by the store, maybe under its lock: only enqueue here. A stopped sender that could
        # not unsubscribe (the store offers no way) drops events instead of hoarding them.
        if self._stopping.is_set():
            return
        self._incoming.put(dict(event))
        self._count("events_queued")

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch:
                body = build_payload(batch, self._take_sequences(len(batch)))
                self._deliver(body, attempt=0, events=len(batch))
            if self._stopping.is_set():
                if self._incoming.empty():
                    with self._lock:
                        self._count_locked("gave_up", len(self._retries))
                        self._retries.clear()
                    return
                continue
            self._run_due_retries()

    def _next_batch(self) -> list[dict[str, Any]]:
        """Wait for a first event (no longer than the next retry is due), then gather a batch."""
        with self._lock:
            next_due = self._retries[0][0] if self._retries else None
        wait = 0.1 if next_due is None else max(0.0, min(0.1, next_due - time.monotonic()))
        try:
            batch = [self._incoming.get(timeout=wait)]
        except queue.Empty:
            return []
        window_ends = time.monotonic() + self.batch_window_seconds
        while len(batch) < self.batch_size:
            remaining = window_ends - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._incoming.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _run_due_retries(self) -> None:
        now = time.monotonic()
        due = []
        with self._lock:
            while self._retries and self._retries[0][0] <= now:
                due.append(heapq.heappop(self._retries))
        for _, _, attempt, body, events in due:
            self._count("retries")
            self._deliver(body, attempt, events)

    def _deliver(self, body: bytes, attempt: int, events: int) -> None:
        status = self._post(body, sign(body, self.key))
        if status == 200:
            self._count("deliveries_ok")
            self._count("events_delivered", events)
            return
        self._count("failed_attempts")
        if attempt < len(self.retry_delays) and not self._stopping.is_set():
            due = time.monotonic() + self.retry_delays[attempt]
            with self._lock:
                heapq.heappush(self._retries, (due, next(self._tiebreak), attempt + 1, body, events))
        else:
            self._count("gave_up")
            logger.warning("Sandbox webhook delivery of %d event(s) to %s given up (last status %s)",
                           events, self.url, status)

    def _post(self, body: bytes, signature: str) -> int:
        if not self.url.lower().startswith(("http://", "https://")):
            return 0  # no URL registered, or none a webhook can be delivered to
        request = urllib.request.Request(  # noqa: S310 (http or https: checked above)
            self.url, data=body, method="POST",
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:  # noqa: S310 (as above)
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as exc:
            exc.read()
            return int(exc.code)
        except (OSError, ValueError):
            return 0  # refused, reset, timed out, or no URL registered

    def _take_sequences(self, count: int) -> int:
        with self._lock:
            first = self._sequence
            self._sequence += max(1, count)
        return first

    def _forged_key(self) -> str:
        return "forged-" + self.key

    def _count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._count_locked(name, amount)

    def _count_locked(self, name: str, amount: int = 1) -> None:
        self._counts[name] += amount
