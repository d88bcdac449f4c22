"""WebhookApp: the receiver's ASGI application, every request answered, nothing acknowledged lost.

``POST /webhooks/xero``, in this order:

1. ``Transfer-Encoding`` or no ``Content-Length``: 411. A length over ``max_body_bytes``: 413 and
   the connection closed, the body never read.
2. The body must arrive within ``body_timeout`` of the headers' end, or 408 and the connection closed.
3. ``DeliveryIntake.take`` (in a worker thread: HMAC, JSON, validation and the fsync of SQLite all
   block): a wrong or missing ``x-xero-signature`` is 401 (Xero's intent-to-receive check counts on
   it); a signed body that is not a valid delivery (``payload.parse_payload``) is 400 naming the first
   problem, and nothing from it is stored; then the events are appended to the queue (committed and
   fsynced) and only then answered with an empty 200. A queue locked for longer than its busy
   timeout is 503 (not acknowledged: Xero retries).

``GET /healthz``: 200 ``{"status": "ok", "max_position", ...counters}``, or 503 if the queue fails.
Other paths: 404; other methods: 405 with ``Allow``. Anything unexpected: 500, one log line, and
nothing acknowledged. Malformed HTTP never reaches this app: the server answers it (``server``).

Logs: one DEBUG line per request (method, path, status; the path escaped and cut, as it is the
client's), one WARNING per refused *signed* delivery (only Xero, or whoever holds the key, can cause
it). Never a header, a body, the key or a signature.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from tap_xero.webhooks.payload import PayloadError, parse_payload
from tap_xero.webhooks.queue import EventQueue
from tap_xero.webhooks.signature import SIGNATURE_HEADER, verify

T = TypeVar("T")

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/xero"
HEALTH_PATH = "/healthz"
# Xero's deliveries are a few KB; 1 MiB leaves room for large batches and stops memory abuse.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# Parsing, validating and fsyncing run here; appends are serialised by the queue anyway.
WORKER_THREADS = 4

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class Counters:
    """Thread-safe named counts: deliveries, events_added, duplicates, bad_signature, malformed, ..."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


@dataclass(frozen=True)
class Answer:
    status: int
    message: str = ""  # a plain-text body for refusals; a 200 is always empty


class DeliveryIntake:
    """Verify, validate and store one delivery; blocking, so the app runs it in a worker thread."""

    def __init__(self, key: str, queue: EventQueue, counters: Counters) -> None:
        self.key = key
        self.queue = queue
        self.counters = counters

    def take(self, body: bytes, signature: str | None) -> Answer:
        if not verify(body, signature, self.key):
            self.counters.add("bad_signature")
            return Answer(401)
        try:
            events = parse_payload(body)
        except PayloadError as exc:
            self.counters.add("malformed")
            logger.warning("Refused a signed webhook delivery (400, nothing stored): %s", exc)
            return Answer(400, str(exc))
        try:
            added = self.queue.append(events)
        except sqlite3.Error as exc:
            # Not acknowledged, so Xero retries; the events are not lost.
            self.counters.add("store_failed")
            logger.error("Could not store %d webhook event(s): %s", len(events), exc.__class__.__name__)
            return Answer(503, "queue unavailable")
        self.counters.add("deliveries")
        self.counters.add("events_added", added)
        self.counters.add("duplicates", len(events) - added)
        return Answer(200)

    def health(self) -> tuple[int, dict[str, Any]]:
        try:
            return 200, {"status": "ok", "max_position": self.queue.max_position(), **self.counters.snapshot()}
        except sqlite3.Error as exc:
            return 503, {"status": "error", "error": f"queue unavailable: {exc.__class__.__name__}"}


class WebhookApp:
    """The ASGI callable (HTTP only); see the module docstring for what each request gets."""

    def __init__(self, intake: DeliveryIntake, *, max_body_bytes: int, body_timeout: float) -> None:
        self.intake = intake
        self.counters = intake.counters
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.executor = ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="webhook-intake")

    def close(self) -> None:
        """Wait for deliveries being stored, then refuse more work."""
        self.executor.shutdown(wait=True)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            return
        method, path = scope["method"], scope["path"]
        try:
            status = await self._route(method, path, scope, receive, send)
        except Exception as exc:  # a bug: answer (if still possible) rather than hang
            self.counters.add("errors")
            logger.error("Webhook request failed (500, nothing acknowledged): %s", exc.__class__.__name__)
            status = 500
            with contextlib.suppress(Exception):  # the answer may have started already
                await _respond(send, 500, b"internal error", close=True)
        logger.debug("%s %s -> %s", method, _loggable(path), status)

    async def _route(self, method: str, path: str, scope: dict[str, Any], receive: Receive, send: Send) -> int:
        if path == WEBHOOK_PATH and method == "POST":
            return await self._delivery(scope, receive, send)
        if path == HEALTH_PATH and method == "GET":
            status, document = await self._in_thread(self.intake.health)
            await _respond(send, status, json.dumps(document).encode("utf-8"), "application/json")
            return status
        if path in (WEBHOOK_PATH, HEALTH_PATH):
            self.counters.add("method_not_allowed")
            allow = "POST" if path == WEBHOOK_PATH else "GET"
            await _respond(send, 405, b"", extra=[(b"allow", allow.encode())], close=True)
            return 405
        self.counters.add("not_found")
        await _respond(send, 404, b"", close=True)
        return 404

    async def _delivery(self, scope: dict[str, Any], receive: Receive, send: Send) -> int:
        headers = _headers(scope)
        length = headers.get("content-length")
        if "transfer-encoding" in headers or length is None or not length.isdigit():
            return await self._refuse(send, "length_required", 411, "send a Content-Length body")
        if int(length) > self.max_body_bytes:
            # Not read: closing is cheaper than draining an oversized body.
            return await self._refuse(send, "too_large", 413, "body too large")
        try:
            body = await asyncio.wait_for(_read_body(receive), self.body_timeout)
        except asyncio.TimeoutError:
            return await self._refuse(send, "body_timeout", 408, "body not received in time")
        if body is None:
            self.counters.add("disconnected")
            return 499  # the client left mid-body: nobody to answer
        answer = await self._in_thread(self.intake.take, body, headers.get(SIGNATURE_HEADER))
        await _respond(send, answer.status, answer.message.encode("utf-8"),
                       "text/plain; charset=utf-8" if answer.message else None)
        return answer.status

    async def _refuse(self, send: Send, reason: str, status: int, message: str) -> int:
        self.counters.add(reason)
        await _respond(send, status, message.encode("utf-8"), "text/plain; charset=utf-8", close=True)
        return status

    async def _in_thread(self, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body, or None if the client disconnected first."""
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


async def _respond(send: Send, status: int, body: bytes = b"", content_type: str | None = None,
                   extra: list[tuple[bytes, bytes]] | None = None, close: bool = False) -> None:
    headers = [(b"content-length", str(len(body)).encode("ascii"))]
    if content_type:
        headers.append((b"content-type", content_type.encode("ascii")))
    if close:
        headers.append((b"connection", b"close"))
    headers.extend(extra or [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    """Header names lowercased; of a repeated header, the first."""
    found: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        found.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return found


def _loggable(path: str) -> str:
    """The client's path on one line, escaped and at most 100 characters."""
    escaped = path.encode("unicode_escape", "backslashreplace").decode("ascii")
    return escaped if len(escaped) <= 100 else escaped[:97] + "..."
