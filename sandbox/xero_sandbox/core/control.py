"""The sandbox's control and introspection API under /_sandbox/ (no auth: it is a test double).

  GET    /_sandbox/counts             {"<tenantId>": {"<EnvelopeKey>": n}}: what the API serves each tenant
  GET    /_sandbox/requests           {"total", "by_tenant": {"<tenantId>": {"<path>": n}}, "token", "connections"}
  GET    /_sandbox/log?limit=N        recent requests, newest last: method, path, query, tenant, status, ms
  GET    /_sandbox/errors             sandbox bugs met while answering (each also answered 500)
  POST   /_sandbox/reset-counters     zero the counters and the log
  GET    /_sandbox/faults             active faults;  POST adds one (JSON, see faults.py);  DELETE clears
  POST   /_sandbox/mutations          {"tenant_id","envelope_key","action","record_id","fields"} → {"record"}
                                      (what Xero refuses, a locked period say: 400 ValidationException)
  GET    /_sandbox/lock-dates         {"<tenantId>": {"period_lock_date","end_of_year_lock_date"}}
  POST   /_sandbox/lock-dates         {"tenant_id","period_lock_date","end_of_year_lock_date"}: a date sets,
                                      null clears, absent keeps (what GET Organisation serves)
  GET    /_sandbox/clock              {"now","time","speed"};  POST {"advance_seconds"} and/or {"speed"}
  GET    /_sandbox/limits             the limit settings and tier;  POST changes some of them ({"tier": "core"})
  GET    /_sandbox/credentials        demo client id/secret, refresh token, URLs, tenant ids
  POST   /_sandbox/tokens             {"scopes","expires_in","tenant_id","refresh"} → a fresh token
  GET    /_sandbox/webhooks           delivery stats;  POST {"url","key"} configures and starts delivery
  POST   /_sandbox/webhooks/intent-to-receive   run Xero's intent-to-receive probe
  POST   /_sandbox/webhooks/send      {"events","forge_signature","repeat"} → {"statuses"}
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING

from xero_sandbox.core.shapes import BadRequest, Request, Response, json_response, validation_error

if TYPE_CHECKING:  # for the annotation only: configure() imports the module when webhooks are first set up
    from xero_sandbox.core.webhooks import WebhookSender

MUTATIONS = ("create", "update", "void", "archive", "touch")
LOCK_DATE_FIELDS = ("period_lock_date", "end_of_year_lock_date")


class WebhookControl:
    """Holds the WebhookSender (webhooks.py, imported when first configured) of one sandbox."""

    def __init__(self, store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self.sender: WebhookSender | None = None

    def configure(self, url: str, key: str) -> None:
        # Not a cycle (webhooks.py imports no sandbox module): a
        # deferred import, so that a sandbox without webhooks never loads the payload format's jsonschema.
        from xero_sandbox.core.webhooks import WebhookSender

        with self._lock:
            if self.sender is not None:
                self.sender.stop()
            self.sender = WebhookSender(self._store, url=url, key=key)
            self.sender.start()

    def stop(self) -> None:
        with self._lock:
            if self.sender is not None:
                self.sender.stop()
                self.sender = None


def handle(app, request: Request) -> Response:
    """Route one /_sandbox/ request for ``app`` (the ``app.SandboxApp``)."""
    route = request.route.removeprefix("_sandbox").strip("/")
    method = request.method
    exact = _BY_METHOD_AND_ROUTE.get((method, route))
    if exact is not None:
        return exact(app, request)
    any_method = _BY_ROUTE.get(route)
    if any_method is not None:
        return any_method(app, method, request)
    if route.startswith("webhooks"):
        return _webhooks(app, method, route, request)
    return json_response(404, {"error": f"no control endpoint {method} /_sandbox/{route}"})


def _log(app, request: Request) -> Response:
    limit = dict(request.params).get("limit")
    try:
        return json_response(200, app.stats.log(int(limit) if limit else None))
    except ValueError:
        raise BadRequest("limit must be an integer") from None


def _reset_counters(app, request: Request) -> Response:
    app.stats.reset()
    return json_response(200, {"ok": True})


def _index(app, request: Request) -> Response:
    return json_response(200, {"endpoints": [line.strip() for line in __doc__.splitlines()[2:] if line.strip()]})


def credentials(app) -> dict:
    """The demo credentials and where to use them (sandbox values, fine to print)."""
    base = app.base_url
    return {
        "client_id": app.identity.client_id,
        "client_secret": app.identity.client_secret,
        "refresh_token": app.identity.refresh_token,
        "scopes": list(app.identity.scopes),
        "base_url": base,
        "identity_url": base,
        "api_url": f"{base}/api.xro/2.0",
        "token_url": f"{base}/connect/token",
        "authorize_url": f"{base}/identity/connect/authorize",
        "revocation_url": f"{base}/connect/revocation",
        "connections_url": f"{base}/connections",
        "tenant_ids": list(app.tenants),
        "tier": app.limiter.config.tier,
    }


def _faults(app, method: str, request: Request) -> Response:
    if method == "GET":
        return json_response(200, app.faults.list())
    if method == "DELETE":
        app.faults.clear()
        return json_response(200, {"ok": True})
    if method == "POST":
        try:
            fault = app.faults.add(request.json())
        except (TypeError, ValueError) as exc:
            raise BadRequest(str(exc)) from None
        return json_response(201, asdict(fault))
    raise BadRequest(f"{method} is not allowed on /_sandbox/faults")


def _mutation(app, body: dict) -> Response:
    action = body.get("action")
    tenant_id, envelope_key = body.get("tenant_id"), body.get("envelope_key")
    if action not in MUTATIONS:
        raise BadRequest(f"action must be one of {', '.join(MUTATIONS)}")
    if tenant_id not in app.tenants:
        return json_response(404, {"error": "unknown tenant_id"})
    if not isinstance(envelope_key, str):
        raise BadRequest("envelope_key is required")
    record_id = body.get("record_id")
    if action != "create" and not record_id:
        raise BadRequest("record_id is required")
    fields_ = body.get("fields") or {}
    try:
        if action == "create":
            record = app.store.create(tenant_id, envelope_key, fields_)
        elif action == "update":
            record = app.store.update(tenant_id, envelope_key, record_id, fields_)
        else:
            record = getattr(app.store, action)(tenant_id, envelope_key, record_id)
    except LookupError as exc:  # unknown collection or record
        return json_response(404, {"error": f"not found: {exc}"})
    except ValueError as exc:  # what Xero would refuse: its 400 ValidationException
        return validation_error(*getattr(exc, "messages", [str(exc)]))
    return json_response(200, {"record": record})


def _lock_dates(app, method: str, request: Request) -> Response:
    if method == "GET":
        return json_response(200, {tenant: _shown(app.store.lock_dates(tenant)) for tenant in app.tenants})
    if method != "POST":
        raise BadRequest(f"{method} is not allowed on /_sandbox/lock-dates")
    body = request.json()
    tenant_id = body.pop("tenant_id", None)
    if tenant_id not in app.tenants:
        return json_response(404, {"error": "unknown tenant_id"})
    unknown = set(body) - set(LOCK_DATE_FIELDS)
    if unknown:
        raise BadRequest(f"unknown field(s) {', '.join(sorted(unknown))}; expected {', '.join(LOCK_DATE_FIELDS)}")
    try:
        dates = app.store.set_lock_dates(tenant_id, **body)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return json_response(200, {"tenant_id": tenant_id, **_shown(dates)})


def _shown(dates: dict) -> dict:
    return {name: day.isoformat() if day else None for name, day in dates.items()}


def _clock(app, method: str, request: Request) -> Response:
    if method == "POST":
        body = request.json()
        try:
            if "speed" in body:
                app.clock.set_speed(float(body["speed"]))
            if "advance_seconds" in body:
                app.clock.advance(float(body["advance_seconds"]))
        except (TypeError, ValueError) as exc:
            raise BadRequest(str(exc)) from None
    elif method != "GET":
        raise BadRequest(f"{method} is not allowed on /_sandbox/clock")
    now = app.clock.now()
    return json_response(200, {"now": now.isoformat(), "time": app.clock.time(), "speed": app.clock.speed})


def _limits(app, method: str, request: Request) -> Response:
    config = app.limiter.config
    if method == "POST":
        changes = request.json()
        try:
            for name, value in changes.items():
                config.change(name, value)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
    elif method != "GET":
        raise BadRequest(f"{method} is not allowed on /_sandbox/limits")
    return json_response(200, config.describe())


def _token(app, body: dict) -> Response:
    scopes = body.get("scopes")
    if scopes is not None and not (isinstance(scopes, list) and all(isinstance(s, str) for s in scopes)):
        raise BadRequest("scopes must be a list of strings")
    tenant_id = body.get("tenant_id")
    if tenant_id is not None and tenant_id not in app.tenants:
        return json_response(404, {"error": "unknown tenant_id"})
    try:
        expires_in = int(body.get("expires_in", 1800))
    except (TypeError, ValueError):
        raise BadRequest("expires_in must be an integer") from None
    out = {
        "access_token": app.identity.issue_access_token(scopes, expires_in, tenant_id=tenant_id),
        "expires_in": expires_in, "token_type": "Bearer",
    }
    if body.get("refresh"):
        out["refresh_token"] = app.identity.issue_refresh_token(scopes)
    return json_response(200, out)


def _webhooks(app, method: str, route: str, request: Request) -> Response:
    control = app.webhooks
    if (method, route) == ("POST", "webhooks"):
        body = request.json()
        if not body.get("url") or not body.get("key"):
            raise BadRequest("url and key are required")
        control.configure(str(body["url"]), str(body["key"]))
        return json_response(200, {"ok": True, "url": body["url"]})
    if (method, route) == ("DELETE", "webhooks"):
        control.stop()
        return json_response(200, {"ok": True})
    if control.sender is None:
        return json_response(409, {"error": "configure webhooks first: POST /_sandbox/webhooks {url, key}"})
    if (method, route) == ("GET", "webhooks"):
        return json_response(200, control.sender.stats)
    if (method, route) == ("POST", "webhooks/intent-to-receive"):
        return json_response(200, control.sender.intent_to_receive())
    if (method, route) == ("POST", "webhooks/send"):
        body = request.json()
        events = body.get("events")
        if not isinstance(events, list):
            raise BadRequest("events must be a list of Xero webhook events")
        statuses = control.sender.send(
            events, forge_signature=bool(body.get("forge_signature")), repeat=int(body.get("repeat", 1)),
        )
        return json_response(200, {"statuses": statuses})
    return json_response(404, {"error": f"no control endpoint {method} /_sandbox/{route}"})


# (method, path below /_sandbox/) -> handler(app, request); paths any method reaches -> handler(app, method, request).
_BY_METHOD_AND_ROUTE: dict[tuple[str, str], Callable[..., Response]] = {
    ("GET", "counts"): lambda app, request: json_response(200, app.served_counts()),
    ("GET", "requests"): lambda app, request: json_response(200, app.stats.snapshot()),
    ("GET", "log"): _log,
    ("GET", "errors"): lambda app, request: json_response(200, list(app.stats.errors)),
    ("POST", "reset-counters"): _reset_counters,
    ("POST", "mutations"): lambda app, request: _mutation(app, request.json()),
    ("GET", "credentials"): lambda app, request: json_response(200, credentials(app)),
    ("POST", "tokens"): lambda app, request: _token(app, request.json()),
    ("GET", ""): _index,
}
_BY_ROUTE: dict[str, Callable[..., Response]] = {
    "faults": _faults, "lock-dates": _lock_dates, "clock": _clock, "limits": _limits,
}
