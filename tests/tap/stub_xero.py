"""The unit fake of Xero: a tiny programmable HTTP server on 127.0.0.1 (real sockets, no mocks).

    with StubXero(handler) as stub:      # handler(request: StubRequest) -> (status, headers, body)
        stub.url                          # http://127.0.0.1:<port>
        stub.requests                     # every request served, in arrival order
        stub.max_in_flight                # the most requests it was serving at once

Every test that can runs against the sandbox (the fake of Xero for everything else). This one is for what the
sandbox cannot serve: a byte-exact answer at an exact call (a body cut short, a connection dropped, a 429 with
given headers, a 401 detail, a slow answer) for http.py's tests, and hand-made collections
(``CollectionsHandler``) for the stream mechanics' tests.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import simplejson


@dataclass
class StubRequest:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float


Reply = tuple[int, dict[str, str], bytes | str | dict]
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def ms(moment: datetime) -> str:
    """A moment as Xero's ``/Date(ms+0000)/``."""
    return f"/Date({int((moment - EPOCH) / timedelta(milliseconds=1))}+0000)/"


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


class CollectionsHandler:
    """A StubXero handler serving hand-made collections per tenant with Xero's paging, order and If-Modified-Since.

    The one unit fake of Xero's data (besides the sandbox, which every other test uses). Tests use it where the
    sandbox cannot reproduce the case: records whose values they write themselves (timestamps to the
    millisecond, many records in one second), an edit made between two given page reads of one query
    (``on_page_served``), a status for one path (``status_for``), or an answer replaced at an exact call.
    """

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], list[dict]] = {}
        self.on_page_served = None  # callback(request, page) after a page is built
        self.status_for: dict[str, int] = {}
        self.lock = threading.Lock()

    def put(self, tenant: str, key: str, records: list[dict]) -> None:
        self.data[(tenant, key)] = records

    def touch(self, tenant: str, key: str, record_id_field: str, record_id: str, when: datetime) -> None:
        with self.lock:
            for record in self.data[(tenant, key)]:
                if record[record_id_field] == record_id:
                    record["UpdatedDateUTC"] = ms(when)

    def __call__(self, request: StubRequest):
        key = request.path
        if key in self.status_for:
            return self.status_for[key], {}, {"Title": "Gone"}
        tenant = request.headers.get("xero-tenant-id")
        with self.lock:
            records = [dict(r) for r in self.data.get((tenant, key), [])]
        ims = request.headers.get("if-modified-since")
        if ims:
            since = datetime.fromisoformat(ims.replace("Z", "+00:00")).astimezone(timezone.utc)
            records = [r for r in records if _moment(r["UpdatedDateUTC"]) >= since]
        if "order" in request.query:
            field = request.query["order"].split()[0]
            records.sort(key=lambda r: (_moment(r[field]), r.get("InvoiceID", "")))
        if "offset" in request.query:
            offset = int(request.query["offset"])
            records = [r for r in records if r["JournalNumber"] > offset][:100]
            return 200, {}, {key: records}
        body = {"Id": "x", "Status": "OK", "DateTimeUTC": ms(datetime.now(timezone.utc))}
        if "page" in request.query:
            page = int(request.query["page"])
            size = int(request.query.get("pageSize", 100))
            body["pagination"] = {"page": page, "pageSize": size, "pageCount": -(-len(records) // size),
                                  "itemCount": len(records)}
            records = records[(page - 1) * size: page * size]
        body[key] = records
        if self.on_page_served:
            self.on_page_served(request, records)
        limits = {"X-DayLimit-Remaining": "4000", "X-MinLimit-Remaining": "59"}
        return 200, limits, simplejson.dumps(body, use_decimal=True)


def _moment(value: str) -> datetime:
    return EPOCH + timedelta(milliseconds=int(value[6:].split("+")[0].split(")")[0]))
