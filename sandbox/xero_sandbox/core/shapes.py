"""Requests and responses as the app sees them, and Xero's shapes: envelopes and error bodies.

- ``Request``: method, route (the path without its leading "/", percent-decoded), parameters,
  headers, body; ``form()``, ``json()`` (``BadRequest`` unless a JSON object), ``basic_auth()``.
- ``Response``: status, body, content type, headers, plus what the wire must do with it (the
  number of records served, for the latency model; a reset or a truncated body, for faults).
- ``BadRequest``: a request Xero answers with 400 ValidationException.
- Bodies: JSON with ``Decimal`` amounts as exact numbers (``dumps``); ``envelope`` is Xero's
  ``{"Id","Status":"OK","ProviderName","DateTimeUTC","<EnvelopeKey>":[...]}`` (plus
  ``pagination``); errors are Xero's: ValidationException (400), problem+json (401, 403, 410),
  plain text (404, 429, 503), JSON (other 5xx). The full table is in docs/sandbox.md.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from urllib.parse import parse_qsl

import simplejson

PROVIDER_NAME = "tap-xero sandbox"
JSON = "application/json; charset=utf-8"
PROBLEM_JSON = "application/problem+json; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


class BadRequest(Exception):
    """A request Xero would answer with 400 ValidationException."""


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    records: int = 0  # served records, for the latency model
    reset: bool = False  # fault: drop the connection instead of answering
    truncate: bool = False  # fault: cut the body short


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


def dumps(obj) -> bytes:
    """JSON with Decimal amounts written as exact numbers."""
    return simplejson.dumps(obj, use_decimal=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_response(status: int, obj, content_type: str = JSON, **kw) -> Response:
    return Response(status, dumps(obj), content_type, **kw)


def text_response(status: int, text: str, **kw) -> Response:
    return Response(status, text.encode("utf-8"), TEXT, **kw)


def envelope(key: str, records: list[dict], pagination: dict | None, now: datetime) -> Response:
    """Xero's answer to a GET: the records under their envelope key."""
    body: dict = {
        "Id": str(uuid.uuid4()), "Status": "OK", "ProviderName": PROVIDER_NAME,
        "DateTimeUTC": f"/Date({int(now.timestamp() * 1000)})/",
    }
    if pagination is not None:
        body["pagination"] = pagination
    body[key] = records
    return json_response(200, body, records=len(records))


def validation_error(*messages: str) -> Response:
    return json_response(400, {
        "ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred",
        "Elements": [{"ValidationErrors": [{"Message": message} for message in messages]}],
    })


def problem(status: int, title: str, detail: str, **kw) -> Response:
    return json_response(status, {
        "Type": None, "Title": title, "Status": status, "Detail": detail,
        "Instance": str(uuid.uuid4()), "Extensions": {},
    }, PROBLEM_JSON, **kw)


def unauthorized(detail: str) -> Response:
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if detail.startswith("TokenExpired") else {}
    return problem(401, "Unauthorized", detail, headers=headers)


def forbidden() -> Response:
    return problem(403, "Forbidden", "AuthenticationUnsuccessful")


def refusal(status: int) -> Response:
    """A request Xero refuses (the ``refuse`` fault): 400 ValidationException, 403 Forbidden or 404."""
    if status == 400:
        return validation_error("The request was refused (an injected fault)")
    return forbidden() if status == 403 else not_found()


def not_found(what: str = "The resource you're looking for cannot be found") -> Response:
    return text_response(404, what)


def too_many_requests(problem_name: str, retry_after: int) -> Response:
    return text_response(
        429, f"Rate limit exceeded: {problem_name}. Retry after {retry_after} seconds.",
        headers={"X-Rate-Limit-Problem": problem_name, "Retry-After": str(retry_after)},
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
