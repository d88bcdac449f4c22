"""A tiny programmable HTTP server on 127.0.0.1 for the client's unit tests (real sockets, no mocks).

    with StubXero(handler) as stub:      # handler(request: StubRequest) -> (status, headers, body)
        stub.url                          # http://127.0.0.1:<port>
        stub.requests                     # every request served, in arrival order
        stub.max_in_flight                # the most requests it was serving at once
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit


@dataclass
class StubRequest:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float


Reply = tuple[int, dict[str, str], bytes | str | dict]


class StubAuth:
    """Stand-in authenticator: hands out token-1, token-2, ... (a new one after each on_unauthorized)."""

    sends_tenant_header = True

    def __init__(self, refresh_ok: bool = True) -> None:
        self.generation = 1
        self.refreshes = 0
        self.refresh_ok = refresh_ok
        self._lock = threading.Lock()

    def bearer_token(self) -> str:
        return f"token-{self.generation}"

    def on_unauthorized(self, rejected_token: str) -> bool:
        with self._lock:
            if rejected_token == self.bearer_token():
                self.refreshes += 1
                if not self.refresh_ok:
                    return False
                self.generation += 1
            return True


def envelope(key: str, records: list, **pagination) -> dict:
    body = {"Id": "x", "Status": "OK", "DateTimeUTC": "/Date(1700000000000)/", key: records}
    if pagination:
        body["pagination"] = pagination
    return body


class StubXero:
    def __init__(self, handler: Callable[[StubRequest], Reply]) -> None:
        self.handler = handler
        self.requests: list[StubRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                request = StubRequest(
                    path=parts.path.rstrip("/").rsplit("/", 1)[-1],
                    query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    at=time.monotonic(),
                )
                with stub._lock:
                    stub.requests.append(request)
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                try:
                    status, headers, body = stub.handler(request)
                finally:
                    with stub._lock:
                        stub.in_flight -= 1
                if isinstance(body, dict):
                    body = json.dumps(body)
                if isinstance(body, str):
                    body = body.encode()
                if headers.get("X-Stub-Truncate"):
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body) + 100))
                    self.end_headers()
                    self.wfile.write(body)
                    self.close_connection = True
                    return
                if headers.get("X-Stub-Drop"):
                    self.close_connection = True
                    self.connection.close()
                    return
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api.xro/2.0"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> StubXero:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
