"""WebhookReceiver: the HTTP endpoint Xero posts webhook deliveries to.

``POST /webhooks/xero``: refuse bodies over the size cap (413) or without a length (411), check
``x-xero-signature`` (401 when wrong, which is also how Xero's intent-to-receive probe is
passed), parse (400 when malformed), append the events to the EventQueue (committed and fsynced,
retries deduplicated), and only then answer an empty 200. ``GET /healthz`` reports liveness.

Pure stdlib (ThreadingHTTPServer): nothing to install next to the tap. Nothing here logs
headers or bodies, so the key and the signature never reach a log.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections import Counter
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from tap_xero.errors import ConfigError
from tap_xero.webhooks.payload import PayloadError, parse_payload
from tap_xero.webhooks.queue import EventQueue
from tap_xero.webhooks.signature import SIGNATURE_HEADER, verify

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/xero"
HEALTH_PATH = "/healthz"
# Xero's deliveries are a few KB; 1 MiB leaves room for large batches and stops memory abuse.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# Xero gives up after 5 s: a queue locked by another process for longer is answered 503 (Xero
# retries) instead of holding the request.
APPEND_BUSY_TIMEOUT_MS = 3_000
# A client that stops sending mid-body must not hold a thread for long.
SOCKET_TIMEOUT_SECONDS = 10


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Bursts of concurrent deliveries must not overflow the listen backlog (SYN retries cost 1 s+).
    request_queue_size = 256

    receiver: WebhookReceiver


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Xero's sender uses
    timeout = SOCKET_TIMEOUT_SECONDS
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        receiver = self.server.receiver
        if urlsplit(self.path).path != WEBHOOK_PATH:
            self._answer(HTTPStatus.NOT_FOUND, close=True)
            return
        if self.headers.get("Transfer-Encoding"):
            self._refuse("length_required", HTTPStatus.LENGTH_REQUIRED, "send a Content-Length body")
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
            if length < 0:
                raise ValueError
        except ValueError:
            self._refuse("length_required", HTTPStatus.LENGTH_REQUIRED, "send a Content-Length body")
            return
        if length > receiver.max_body_bytes:
            # Not read: closing is cheaper than draining an oversized body.
            self._refuse("too_large", HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large")
            return
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True  # the client went away mid-body
            return
        if not verify(body, self.headers.get(SIGNATURE_HEADER), receiver.key):
            receiver.count("bad_signature")
            self._answer(HTTPStatus.UNAUTHORIZED)
            return
        try:
            events = parse_payload(body)
        except PayloadError as exc:
            self._refuse("malformed", HTTPStatus.BAD_REQUEST, str(exc), close=False)
            return
        try:
            added = receiver.queue.append(events)
        except sqlite3.Error as exc:
            # Not acknowledged, so Xero retries; the events are not lost.
            logger.error("Could not store %d webhook event(s): %s", len(events), exc)
            self._refuse("store_failed", HTTPStatus.SERVICE_UNAVAILABLE, "queue unavailable", close=False)
            return
        receiver.count("deliveries")
        receiver.count("events_added", added)
        receiver.count("duplicates", len(events) - added)
        self._answer(HTTPStatus.OK)

    def do_GET(self) -> None:  # noqa: N802
        if urlsplit(self.path).path != HEALTH_PATH:
            self._answer(HTTPStatus.NOT_FOUND)
            return
        receiver = self.server.receiver
        try:
            document = {"status": "ok", "max_position": receiver.queue.max_position(), **receiver.stats}
            status = HTTPStatus.OK
        except sqlite3.Error as exc:
            document = {"status": "error", "error": f"queue unavailable: {exc.__class__.__name__}"}
            status = HTTPStatus.SERVICE_UNAVAILABLE
        self._answer(status, json.dumps(document).encode("utf-8"), "application/json")

    def _refuse(self, reason: str, status: HTTPStatus, message: str, close: bool = True) -> None:
        self.server.receiver.count(reason)
        self._answer(status, message.encode("utf-8"), "text/plain; charset=utf-8", close=close)

    def _answer(self, status: HTTPStatus, body: bytes = b"", content_type: str | None = None,
                close: bool = False) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Method, path and status only: never headers (the signature) nor bodies.
        logger.debug("%s %s -> %s", self.command, urlsplit(self.path).path, code)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        logger.info("%s: %s", self.address_string(), format % args)


class WebhookReceiver:
    """The receiver as an object: ``WebhookReceiver(queue_path, key, port=0).start()``, ``.url``, ``.stop()``."""

    def __init__(
        self,
        queue_path: str | Path,
        key: str,
        port: int = 0,
        host: str = "127.0.0.1",
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        append_busy_timeout_ms: int = APPEND_BUSY_TIMEOUT_MS,
    ) -> None:
        if not key:
            raise ConfigError("webhook_key", "the webhook key is empty", "give the key from Xero's developer portal")
        self.key = key
        self.max_body_bytes = max_body_bytes
        self.queue = EventQueue(queue_path, busy_timeout_ms=append_busy_timeout_ms)
        self._server = _Server((host, port), _Handler)
        self._server.receiver = self
        self._thread: threading.Thread | None = None
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The URL to register with Xero (or the sandbox): ``.../webhooks/xero``."""
        return self.base_url + WEBHOOK_PATH

    @property
    def stats(self) -> dict[str, int]:
        """Counts so far: deliveries, events_added, duplicates, bad_signature, malformed, too_large, ..."""
        with self._counts_lock:
            return dict(self._counts)

    def count(self, name: str, amount: int = 1) -> None:
        with self._counts_lock:
            self._counts[name] += amount

    def start(self) -> WebhookReceiver:
        """Serve in a background thread; returns self once the socket is listening."""
        # A short poll interval makes stop() prompt; it costs one select() wake-up per 50 ms.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="webhook-receiver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wait for the serving thread and close the queue."""
        if self._thread:
            self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self.queue.close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
