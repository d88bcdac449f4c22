"""The wire: a stdlib ``ThreadingHTTPServer`` (HTTP/1.1, keep-alive) that moves bytes for a ``SandboxApp``.

``SandboxHTTPServer(app)`` listens on ``app.config.host``/``port`` (0: an ephemeral port) and
tells the app its ``base_url``. Each request becomes a ``shapes.Request`` for ``app.handle``;
the answer is written with the X-*Limit-Remaining headers of the tenant, gzipped when the body
is ``GZIP_MIN_BYTES`` or more and the client accepts gzip (``accepts_gzip``: ``gzip``,
``x-gzip`` or ``*`` with a q-value above 0), cut in half for a ``truncate`` fault, or replaced
by a TCP RST for a ``reset`` fault. A sandbox bug answers 500 ``Sandbox error`` (and is kept in
``/_sandbox/errors``) rather than hanging the client. Every request but ``/_sandbox/`` ones is
counted before it is answered. ``close_connections`` hangs up on kept-alive clients at stop.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from xero_sandbox.core.app import SandboxApp
from xero_sandbox.core.shapes import Request, Response, json_response

GZIP_MIN_BYTES = 1024


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header accepts gzip: ``gzip`` (or ``x-gzip``, or ``*`` when gzip is
    not named) with a q-value above 0 (RFC 7231 5.3.4)."""
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        coding, *params = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if coding:
            weights[coding.lower()] = weight
    named = weights.get("gzip", weights.get("x-gzip"))
    return (named if named is not None else weights.get("*", 0.0)) > 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "XeroSandbox/1.0"
    disable_nagle_algorithm = True  # headers and body go out in two writes: Nagle would add ~40 ms to each
    timeout = 120  # an idle keep-alive connection is closed after this
    server: SandboxHTTPServer

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the request log lives in /_sandbox/log."""

    def _dispatch(self) -> None:
        started = time.perf_counter()
        app = self.server.app
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        header_tenant = self.headers.get("xero-tenant-id")
        request = Request(
            method=self.command, route=unquote(url.path).lstrip("/"), raw_query=url.query,
            params=parse_qsl(url.query, keep_blank_values=True), headers=self.headers, body=body,
            tenant=header_tenant if header_tenant in app.tenants else None,
        )
        try:
            response = app.handle(request)
        except Exception as exc:  # a sandbox bug must still answer like a server, not hang the client
            response = json_response(500, {"Title": "Sandbox error", "Status": 500, "Detail": type(exc).__name__})
            app.stats.note_error(exc)
        # Count before answering: a client that reads /_sandbox/requests right after its answer must see it.
        if not request.route.startswith("_sandbox"):
            app.stats.record(request, response.status, (time.perf_counter() - started) * 1000.0)
        if response.reset:
            self._reset()
        else:
            self._write(response, request.tenant)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch  # noqa: N815 (http.server's handler names)

    def _write(self, response: Response, tenant: str | None) -> None:
        app = self.server.app
        body = response.body
        headers = dict(app.limiter.headers(tenant))
        headers.update(response.headers)
        if response.truncate:
            body = body[: max(1, len(body) // 2)]
        elif app.config.gzip and len(body) >= GZIP_MIN_BYTES and accepts_gzip(self.headers.get("Accept-Encoding", "")):
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        self.send_response(response.status)
        if body or response.status not in (204, 302):
            headers.setdefault("Content-Type", response.content_type)
        headers["Content-Length"] = str(len(body))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send a TCP RST: the client sees "connection reset by peer".
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, app: SandboxApp) -> None:
        super().__init__((app.config.host, app.config.port), _Handler)
        self.app = app
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        app.base_url = f"http://{host}:{port}"
        app.identity.issuer = app.base_url
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request, client_address) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on kept-alive clients, so a stopped sandbox stops answering on pooled connections too."""
        with self._open_lock:
            open_now = list(self._open)
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address) -> None:
        """Clients that hang up mid-response (timeouts, resets) are normal here: stay quiet."""
