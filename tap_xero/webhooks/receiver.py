"""WebhookReceiver: the endpoint Xero posts webhook deliveries to, as one object to start and stop.

It puts together the queue (``queue.EventQueue``: SQLite, WAL, fsynced before any 200), what each
request gets (``app.WebhookApp``: signature, validation, storage, answers) and the HTTP server that
faces the internet (``server.HttpServer``: Granian, with a connection cap, header and body
deadlines, keep-alive and shutdown limits; ``server.ServerLimits``).

``stop()`` is graceful: no new connection is accepted, requests in progress are answered (each
bounded by the deadlines), deliveries being stored finish, then the queue is closed. A receiver
killed outright loses nothing it acknowledged: a 200 is only sent after the commit.
"""

from __future__ import annotations

from pathlib import Path

from tap_xero.errors import ConfigError
from tap_xero.webhooks.app import (
    DEFAULT_MAX_BODY_BYTES,
    HEALTH_PATH,
    WEBHOOK_PATH,
    Counters,
    DeliveryIntake,
    WebhookApp,
)
from tap_xero.webhooks.queue import EventQueue
from tap_xero.webhooks.server import HttpServer, ServerLimits

__all__ = ["DEFAULT_MAX_BODY_BYTES", "HEALTH_PATH", "WEBHOOK_PATH", "ServerLimits", "WebhookReceiver"]

# Xero gives up after 5 s: a queue locked by another process for longer is answered 503 (Xero
# retries) instead of holding the request.
APPEND_BUSY_TIMEOUT_MS = 3_000


class WebhookReceiver:
    """``WebhookReceiver(queue_path, key, port=0).start()``, ``.url``, ``.stats``, ``.stop()``; a context manager."""

    def __init__(
        self,
        queue_path: str | Path,
        key: str,
        port: int = 0,
        host: str = "127.0.0.1",
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        append_busy_timeout_ms: int = APPEND_BUSY_TIMEOUT_MS,
        limits: ServerLimits | None = None,
    ) -> None:
        if not key:
            raise ConfigError("webhook_key", "the webhook key is empty", "give the key from Xero's developer portal")
        if max_body_bytes < 1:
            raise ConfigError("--max-body-bytes", f"must be at least 1, not {max_body_bytes}", "the default is 1 MiB")
        self.limits = (limits or ServerLimits()).check()
        self.queue = EventQueue(queue_path, busy_timeout_ms=append_busy_timeout_ms)
        self._counters = Counters()
        self._app = WebhookApp(DeliveryIntake(key, self.queue, self._counters),
                               max_body_bytes=max_body_bytes, body_timeout=self.limits.body_timeout)
        try:
            self._server = HttpServer(self._app, host=host, port=port, limits=self.limits)
        except BaseException:
            self.queue.close()
            raise
        self.max_body_bytes = max_body_bytes

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def max_connections(self) -> int:
        """The connection cap in force (``limits.max_connections``, or less under a low open-file limit)."""
        return self._server.max_connections

    @property
    def serving(self) -> bool:
        """True while the HTTP server runs; False after ``stop()`` or if it failed (logged)."""
        return self._server.serving

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The URL to register with Xero (or the sandbox): ``.../webhooks/xero``."""
        return self.base_url + WEBHOOK_PATH

    @property
    def stats(self) -> dict[str, int]:
        """Counts so far: deliveries, events_added, duplicates, bad_signature, malformed, too_large, ..."""
        return self._counters.snapshot()

    def start(self) -> WebhookReceiver:
        """Serve in a background thread; returns self once the socket is listening."""
        try:
            self._server.start()
        except BaseException:
            self._close_app_and_queue()
            raise
        return self

    def stop(self) -> None:
        """Stop gracefully (see the module docstring) and close the queue."""
        self._server.stop()
        self._close_app_and_queue()

    def _close_app_and_queue(self) -> None:
        self._app.close()
        self.queue.close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
