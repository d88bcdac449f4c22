"""The sandbox's HTTP side: one host serving Xero's Accounting paths, identity paths and /_sandbox/.

Built on the stdlib ``ThreadingHTTPServer`` (HTTP/1.1, keep-alive). A request
goes through, in order: injected faults, the bearer token, the tenant, the
rate limits, then the route (``/api.xro/2.0/<Endpoint.path>[/<id>]``,
``/api.xro/2.0/Reports/<name>``, ``/connections`` (GET, DELETE /{id}), ``/connect/token``,
``/connect/revocation``, ``/identity/connect/authorize``). Errors come in
Xero's own shapes (see ``docs/sandbox.md``). ``/_sandbox/`` is handed to
``control.py`` and bypasses auth, limits and faults.
"""

from __future__ import annotations

import base64
import gzip
import re
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import Message
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

import simplejson

from tap_xero.endpoints import Endpoint, Paging, Report
from tap_xero.endpoints import FIXED_PAGE_SIZE, MAX_PAGE_SIZE
from tap_xero.sandbox import control, routes, tiers
from tap_xero.sandbox.clock import SandboxClock
from tap_xero.sandbox.faults import AFTER_PAGE_KINDS, BEFORE_KINDS, BODY_KINDS, FaultInjector
from tap_xero.sandbox.limits import LimitsConfig, RateLimiter, Refusal
from tap_xero.sandbox.oauth import (
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, DEMO_SCOPES, AccessGrant, Identity, TokenRejected,
)

API_PREFIX = "api.xro/2.0/"
PROVIDER_NAME = "tap-xero sandbox"
DEFAULT_PAGE_SIZE = 100
JSON = "application/json; charset=utf-8"
PROBLEM_JSON = "application/problem+json; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
GZIP_MIN_BYTES = 1024


@dataclass
class SandboxConfig:
    """Everything a sandbox can be told at start (CLI flags map one to one)."""

    seed: int = 1
    scale: int = 1000  # invoices per tenant
    tenants: int = 2
    host: str = "127.0.0.1"
    port: int = 0  # 0: an ephemeral port
    # Rate limits and latency (see limits.py).
    limits: bool = True
    minute_limit: int = 60
    day_limit: int | None = None  # None: the tier's daily allowance (1,000 on starter, else 5,000)
    concurrent_limit: int = 5
    app_minute_limit: int = 10000
    time_scale: float = 1.0
    latency_ms: float = 0.0
    per_record_ms: float = 0.0
    tier: str = tiers.DEFAULT_TIER  # Xero's app pricing tier: starter | core | plus | advanced
    clock_speed: float = 1.0  # sandbox seconds per real second (token lifetimes, mutation stamps)
    faults: tuple[str | dict, ...] = ()  # fault specs: "kind:key=value,..." strings or dicts (see faults.py)
    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    refresh_token: str = DEMO_REFRESH_TOKEN
    scopes: tuple[str, ...] = DEMO_SCOPES
    webhook_url: str | None = None
    webhook_key: str | None = None
    classic_expenses_tenants: tuple[int, ...] = (0,)  # tenant indexes where ExpenseClaims/Receipts still work
    retired_status: int = 410  # what the other tenants get for ExpenseClaims/Receipts (410 or 401)
    gzip: bool = True
    log_size: int = 10000

    def limits_config(self) -> LimitsConfig:
        return LimitsConfig(
            enabled=self.limits, minute_limit=self.minute_limit, day_limit=self.day_limit,
            concurrent_limit=self.concurrent_limit, app_minute_limit=self.app_minute_limit,
            time_scale=self.time_scale, latency_ms=self.latency_ms, per_record_ms=self.per_record_ms,
            tier=self.tier,
        )


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    records: int = 0  # served records, for the latency model
    reset: bool = False  # fault: drop the connection instead of answering
    truncate: bool = False  # fault: cut the body short


class BadRequest(Exception):
    """A request Xero would answer with 400 ValidationException."""


# -- Xero's shapes -----------------------------------------------------------------------------------


def dumps(obj) -> bytes:
    """JSON with Decimal amounts written as exact numbers."""
    return simplejson.dumps(obj, use_decimal=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_response(status: int, obj, content_type: str = JSON, **kw) -> Response:
    return Response(status, dumps(obj), content_type, **kw)


def text_response(status: int, text: str, **kw) -> Response:
    return Response(status, text.encode("utf-8"), TEXT, **kw)


def ms_date(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)})/"


def validation_error(*messages: str) -> Response:
    return json_response(400, {
        "ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred",
        "Elements": [{"ValidationErrors": [{"Message": message} for message in messages]}],
    })


def _problem(status: int, title: str, detail: str, **kw) -> Response:
    return json_response(status, {
        "Type": None, "Title": title, "Status": status, "Detail": detail,
        "Instance": str(uuid.uuid4()), "Extensions": {},
    }, PROBLEM_JSON, **kw)


def unauthorized(detail: str) -> Response:
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if detail.startswith("TokenExpired") else {}
    return _problem(401, "Unauthorized", detail, headers=headers)


def forbidden() -> Response:
    return _problem(403, "Forbidden", "AuthenticationUnsuccessful")


def not_found(what: str = "The resource you're looking for cannot be found") -> Response:
    return text_response(404, what)


def too_many_requests(refusal: Refusal) -> Response:
    return text_response(
        429, f"Rate limit exceeded: {refusal.problem}. Retry after {refusal.retry_after} seconds.",
        headers={"X-Rate-Limit-Problem": refusal.problem, "Retry-After": str(refusal.retry_after)},
    )


def server_error(status: int) -> Response:
    if status == 503:
        return maintenance()
    return json_response(status, {
        "Title": "An error occurred", "Status": status,
        "Detail": "An error occurred in Xero. Check the API Status page http://status.developer.xero.com "
                  "for current service status.",
    })


def maintenance() -> Response:
    return text_response(503, "The Xero API is currently offline for maintenance")


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


# -- query parsing -----------------------------------------------------------------------------------

_KNOWN_PARAMS = {
    "page", "pagesize", "offset", "where", "order", "ids", "statuses", "includearchived", "summaryonly",
    "unitdp", "includedeleted", "paymentsonly",
}


_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))?")
# HTTP-date (RFC 7231 7.1.1.1: IMF-fixdate, RFC 850, asctime) and RFC 1123 with a numeric zone.
_HTTP_DATES = (
    re.compile(rf"(?:{_DAY}, )?\d{{1,2}} {_MONTH} \d{{4}} \d{{2}}:\d{{2}}:\d{{2}} (?:GMT|UTC?|[+-]\d{{4}})"),
    re.compile(rf"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d{{2}}-{_MONTH}-\d{{2}} "
               rf"\d{{2}}:\d{{2}}:\d{{2}} GMT"),
    re.compile(rf"{_DAY} {_MONTH} [ \d]\d \d{{2}}:\d{{2}}:\d{{2}} \d{{4}}"),
)


def parse_if_modified_since(value: str) -> datetime:
    """If-Modified-Since as the UTC second it names; ``BadRequest`` for any other form.

    Accepted: RFC 3339 date-times with ``Z`` or a numeric offset, with or without fractional
    seconds (what the spec types the header as, and the official SDKs send); Xero's documented
    ``YYYY-MM-DDTHH:MM:SS`` (no offset: UTC); an HTTP-date (RFC 7231's three forms, and RFC 1123
    with a numeric zone). Fractions are truncated: Xero compares whole seconds.
    """
    text = value.strip()
    try:
        match = _RFC3339.fullmatch(text)
        if match:
            year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
            sign, off_h, off_m = match.group(8), match.group(9), match.group(10)
            offset = timedelta(0) if sign is None else (1 if sign == "+" else -1) * timedelta(
                hours=int(off_h), minutes=int(off_m))
            moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone(offset))
        elif any(form.fullmatch(text) for form in _HTTP_DATES):
            moment = parsedate_to_datetime(text)
        else:
            raise ValueError(text)
    except (TypeError, ValueError):
        raise BadRequest(f"If-Modified-Since is not a date: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def _int_param(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"The parameter {name} must be an integer") from None


def _bool_param(value: str) -> bool:
    return value.strip().lower() == "true"


def _list_param(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_query(endpoint: Endpoint, params: list[tuple[str, str]], if_modified_since: str | None):
    """Turn a request's params and If-Modified-Since header into a store.Query for ``endpoint``."""
    from tap_xero.sandbox.store import Query

    given = {key.lower(): value for key, value in params}
    query = Query(extra={key: value for key, value in params if key.lower() not in _KNOWN_PARAMS})
    if if_modified_since and endpoint.if_modified_since:
        query.modified_since = parse_if_modified_since(if_modified_since)
    if endpoint.paging in (Paging.PAGE_SIZE, Paging.PAGE) and "page" in given:
        query.page = max(1, _int_param("page", given["page"]))
    if endpoint.paging is Paging.PAGE_SIZE:
        size = _int_param("pageSize", given["pagesize"]) if "pagesize" in given else DEFAULT_PAGE_SIZE
        query.page_size = min(MAX_PAGE_SIZE, max(1, size))
    elif endpoint.paging is Paging.PAGE:
        query.page_size = FIXED_PAGE_SIZE
    elif endpoint.paging is Paging.OFFSET:
        query.offset = max(0, _int_param("offset", given["offset"])) if "offset" in given else 0
        query.page_size = FIXED_PAGE_SIZE
        query.payments_only = _bool_param(given.get("paymentsonly", "false"))
    query.where = given.get("where") or None
    if endpoint.order:
        query.order = given.get("order") or None
    if endpoint.ids_filter and given.get("ids"):
        query.ids = _list_param(given["ids"])
    if endpoint.statuses_filter and given.get("statuses"):
        query.statuses = _list_param(given["statuses"])
    if endpoint.include_archived:
        query.include_archived = _bool_param(given.get("includearchived", "false"))
    if endpoint.summary_only:
        query.summary_only = _bool_param(given.get("summaryonly", "false"))
    if endpoint.unitdp and "unitdp" in given:
        query.unitdp = _int_param("unitdp", given["unitdp"])
    if endpoint.include_deleted:
        query.include_deleted = _bool_param(given.get("includedeleted", "false"))
    return query


# -- the application -----------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    route: str  # the path without its leading "/", percent-decoded
    raw_query: str
    params: list[tuple[str, str]]
    headers: Message  # case-insensitive .get, as http.server parses them
    body: bytes
    tenant: str | None = None  # as known so far (header, then the token's binding)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def json(self) -> dict:
        if not self.body.strip():
            return {}
        try:
            data = simplejson.loads(self.body)
        except ValueError:
            raise BadRequest("the body is not JSON") from None
        if not isinstance(data, dict):
            raise BadRequest("the body must be a JSON object")
        return data

    def basic_auth(self) -> tuple[str, str] | None:
        value = self.headers.get("Authorization", "")
        if not value.lower().startswith("basic "):
            return None
        try:
            client_id, _, secret = base64.b64decode(value[6:].strip()).decode("utf-8").partition(":")
        except ValueError:
            return None
        return client_id, secret


class SandboxApp:
    """State and request handling of one sandbox; the HTTP server only moves bytes for it."""

    def __init__(self, config: SandboxConfig, store=None, clock: SandboxClock | None = None) -> None:
        self.config = config
        self.clock = clock or SandboxClock(config.clock_speed)
        if store is None:
            from tap_xero.sandbox.store import Store

            store = Store(seed=config.seed, scale=config.scale, tenants=config.tenants, clock=self.clock.now)
        self.store = store
        self.tenants = {t.tenant_id: index for index, t in enumerate(store.tenants)}
        self.identity = Identity(
            clock=self.clock, tenant_ids=list(self.tenants), client_id=config.client_id,
            client_secret=config.client_secret, refresh_token=config.refresh_token, scopes=tuple(config.scopes),
        )
        self.limiter = RateLimiter(config.limits_config(), self.clock)
        self.faults = FaultInjector(config.seed)
        for spec in config.faults:
            self.faults.add(spec)
        self.stats = control.RequestStats(config.log_size)
        self.webhooks = control.WebhookControl(self)
        self.base_url = ""

    # -- entry point -------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.route == "_sandbox" or request.route.startswith("_sandbox/"):
            try:
                return control.handle(self, request)
            except BadRequest as exc:
                return json_response(400, {"error": str(exc)})
        try:
            return self._serve(request)
        except BadRequest as exc:
            return validation_error(str(exc))

    def _serve(self, request: Request) -> Response:
        route = request.route
        for fault in self.faults.fire(BEFORE_KINDS, route, request.tenant):
            if fault.kind == "reset":
                return Response(0, reset=True)
            if fault.kind == "slow":
                time.sleep(fault.delay)
            elif fault.kind == "error":
                return server_error(fault.status)
            elif fault.kind == "maintenance":
                return maintenance()
            elif fault.kind == "expire_tokens":
                self.identity.expire_all_access_tokens()
            elif fault.kind == "day_limit":
                target = fault.tenant or request.tenant or next(iter(self.tenants), "")
                self.limiter.exhaust_day(target)
        if route == "connect/token":
            if request.method != "POST":
                return text_response(405, "Method not allowed")
            status, body = self.identity.token(request.form(), request.basic_auth())
            return json_response(status, body, headers={"Cache-Control": "no-store"})
        if route == "connect/revocation":
            if request.method != "POST":
                return text_response(405, "Method not allowed")
            status, body = self.identity.revoke(request.form(), request.basic_auth())
            return json_response(status, body) if body else Response(status)
        if route == "identity/connect/authorize":
            status, where = self.identity.authorize(dict(request.params))
            if status == 302:
                return Response(302, headers={"Location": where})
            return json_response(status, {"error": where})
        if route == "connections" or route.startswith("connections/"):
            grant = self._grant(request)
            if isinstance(grant, Response):
                return grant
            if route == "connections":
                return json_response(200, self.identity.connections(grant, self.store.tenants))
            if request.method == "DELETE" and self.identity.disconnect(grant, route.removeprefix("connections/")):
                return Response(204)
            return not_found()
        if route.startswith(API_PREFIX):
            return self._api(request, route[len(API_PREFIX):].strip("/"))
        return not_found()

    def _grant(self, request: Request) -> AccessGrant | Response:
        value = request.headers.get("Authorization", "")
        if not value.lower().startswith("bearer "):
            return unauthorized("AuthenticationUnsuccessful")
        try:
            return self.identity.verify(value[7:].strip())
        except TokenRejected as exc:
            return unauthorized(exc.detail)

    def _api(self, request: Request, rel: str) -> Response:
        grant = self._grant(request)
        if isinstance(grant, Response):
            return grant
        header_tenant = request.headers.get("xero-tenant-id")
        if grant.tenant_id:  # client_credentials: bound to one tenant, header optional
            if header_tenant and header_tenant != grant.tenant_id:
                return forbidden()
            request.tenant = grant.tenant_id
        elif not header_tenant or not self.identity.is_connected(grant, header_tenant):
            return forbidden()
        else:
            request.tenant = header_tenant
        tenant = request.tenant
        refusal = self.limiter.acquire(tenant)
        if refusal is not None:
            return too_many_requests(refusal)
        try:
            response = self._accounting(request, rel, tenant, grant)
            self.limiter.simulate_latency(response.records)
            return response
        finally:
            self.limiter.release(tenant)

    def _accounting(self, request: Request, rel: str, tenant: str, grant: AccessGrant) -> Response:
        if request.method != "GET":
            return validation_error("The sandbox serves reads only; use /_sandbox/mutations to change data")
        route = routes.resolve(rel)
        if route is None:
            return not_found()
        if route.report is not None:
            return self._report(request, route.report, tenant, grant)
        endpoint, record_id = route.endpoint, route.record_id
        if not grant.scopes & set(endpoint.scopes) or not tiers.allows(self.limiter.config.tier, endpoint.path):
            return unauthorized("AuthorizationUnsuccessful")
        if endpoint.retired and self.tenants[tenant] not in self.config.classic_expenses_tenants:
            if self.config.retired_status == 401:
                return unauthorized("AuthorizationUnsuccessful")
            return _problem(410, "Gone", f"{endpoint.path} (classic expenses) is retired for this organisation")
        if record_id is not None:
            record = self.store.get(tenant, endpoint.envelope_key, record_id)
            if record is None:
                return not_found()
            return self._envelope(endpoint.envelope_key, [record], None)
        query = parse_query(endpoint, request.params, request.headers.get("If-Modified-Since"))
        try:
            page = self.store.list(tenant, endpoint.envelope_key, query)
        except ValueError as exc:
            return validation_error(str(exc))
        response = self._envelope(endpoint.envelope_key, page.records, page.pagination)
        if query.page is not None and page.records and endpoint.id_field:
            if self.faults.fire(AFTER_PAGE_KINDS, request.route, tenant, page=query.page):
                try:
                    self.store.touch(tenant, endpoint.envelope_key, str(page.records[0][endpoint.id_field]))
                except ValueError:  # a collection without UpdatedDateUTC cannot shift
                    pass
        if self.faults.fire(BODY_KINDS, request.route, tenant):
            response.truncate = True
        return response

    def _report(self, request: Request, report: Report, tenant: str, grant: AccessGrant) -> Response:
        if not grant.scopes & set(report.scopes):
            return unauthorized("AuthorizationUnsuccessful")
        try:
            body = self.store.report(tenant, report.name, dict(request.params))
        except ValueError as exc:
            return validation_error(str(exc))
        response = self._envelope("Reports", [body], None)
        if self.faults.fire(BODY_KINDS, request.route, tenant):
            response.truncate = True
        return response

    def _envelope(self, key: str, records: list[dict], pagination: dict | None) -> Response:
        body: dict = {
            "Id": str(uuid.uuid4()), "Status": "OK", "ProviderName": PROVIDER_NAME,
            "DateTimeUTC": ms_date(self.clock.now()),
        }
        if pagination is not None:
            body["pagination"] = pagination
        body[key] = records
        return json_response(200, body, records=len(records))


# -- the wire ----------------------------------------------------------------------------------------


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

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

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
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address) -> None:
        """Clients that hang up mid-response (timeouts, resets) are normal here: stay quiet."""
