"""The sandbox's request pipeline: one host serving Xero's Accounting paths, identity paths and /_sandbox/.

``SandboxApp(config, store, clock)`` answers one ``Request`` with one ``Response`` (``wire.py``
moves the bytes). A request goes through, in order: injected faults, the bearer token, the
tenant, the rate limits, then the route (``/api.xro/2.0/<Endpoint.path>[/<id>]``,
``/api.xro/2.0/Reports/<name>``, the Assets and Projects APIs (``/assets.xro/1.0/...``,
``/projects.xro/2.0/...``: ``other_apis.py``), ``/connections`` (GET, DELETE /{id}), ``/connect/token``,
``/connect/revocation``, ``/identity/connect/authorize``). Errors come in Xero's own shapes
(``shapes.py``; docs/sandbox.md). ``/_sandbox/`` is handed to ``control.py`` and bypasses auth,
limits and faults.

What the API serves a tenant (``serves``): an endpoint is refused below the tier that may read
it (``tiers.allows``: Journals below Advanced answer 401 AuthorizationUnsuccessful, like a
missing scope), and classic expenses (``Endpoint.retired``) answer 410 (or 401 with
``retired_status``) except for the ``classic_expenses_tenants``. ``served_counts`` is the store's
counts restricted to what it serves: ``/_sandbox/counts`` reconciles with what a client can read.
"""

from __future__ import annotations

import contextlib
import time

from tap_xero.endpoints import BY_COLLECTION, BY_ENVELOPE, Endpoint, Report
from xero_sandbox.core import control, other_apis, routes, tiers
from xero_sandbox.core.clock import SandboxClock
from xero_sandbox.core.config import SandboxConfig
from xero_sandbox.core.faults import AFTER_PAGE_KINDS, BEFORE_KINDS, BODY_KINDS, FaultInjector
from xero_sandbox.core.limits import RateLimiter
from xero_sandbox.core.oauth import AccessGrant, Identity, TokenRejected
from xero_sandbox.core.params import parse_query
from xero_sandbox.core.request_stats import RequestStats
from xero_sandbox.core.routes import API_PREFIX
from xero_sandbox.core.shapes import (
    BadRequest, Request, Response, envelope, forbidden, json_response, maintenance, not_found, problem, refusal,
    server_error, text_response, too_many_requests, unauthorized, validation_error,
)


class SandboxApp:
    """State and request handling of one sandbox; the HTTP server only moves bytes for it."""

    def __init__(self, config: SandboxConfig, store, clock: SandboxClock) -> None:
        self.config = config
        self.clock = clock
        self.store = store  # xero_sandbox.store.Store, or anything with its methods
        self.tenants = {t.tenant_id: index for index, t in enumerate(store.tenants)}
        self.identity = Identity(
            clock=self.clock, tenant_ids=list(self.tenants), client_id=config.client_id,
            client_secret=config.client_secret, refresh_token=config.refresh_token, scopes=tuple(config.scopes),
        )
        self.limiter = RateLimiter(config.limits_config(), self.clock)
        self.faults = FaultInjector(config.seed)
        for spec in config.faults:
            self.faults.add(spec)
        self.stats = RequestStats(config.log_size)
        self.webhooks = control.WebhookControl(store)
        self.base_url = ""

    # -- what the API serves -----------------------------------------------------------------------

    def tier_allows(self, endpoint: Endpoint) -> bool:
        """Whether the app's pricing tier may read ``endpoint`` at all (tiers.py)."""
        return tiers.allows(self.limiter.config.tier, endpoint.path)

    def retired_for(self, tenant_id: str, endpoint: Endpoint) -> bool:
        """Classic expenses are gone for every tenant but the configured ones."""
        return endpoint.retired and self.tenants[tenant_id] not in self.config.classic_expenses_tenants

    def serves(self, tenant_id: str, endpoint: Endpoint) -> bool:
        """Whether the API answers ``endpoint`` for ``tenant_id`` now (tier and classic expenses)."""
        return self.tier_allows(endpoint) and not self.retired_for(tenant_id, endpoint)

    def served_counts(self) -> dict[str, dict[str, int]]:
        """The store's counts of what the API serves: ``GET /_sandbox/counts``."""
        counts = {tenant_id: {key: n for key, n in per_tenant.items()
                              if self.serves(tenant_id, BY_ENVELOPE.get(key) or BY_COLLECTION[key])}
                  for tenant_id, per_tenant in self.store.counts().items()}
        for tenant_id, derived in self.store.derived_counts().items():  # e.g. CashJournals: Journals?paymentsOnly
            counts[tenant_id].update({key: n for key, (endpoint, n) in derived.items()
                                      if self.serves(tenant_id, endpoint)})
        return counts

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
        faulted = self._before_faults(request)
        if faulted is not None:
            return faulted
        route = request.route
        if route in ("connect/token", "connect/revocation", "identity/connect/authorize"):
            return self._identity_paths(request)
        if route == "connections" or route.startswith("connections/"):
            return self._connections(request)
        if route.startswith(API_PREFIX) or other_apis.served_under(route):
            return self._api(request, route[len(API_PREFIX):].strip("/"))
        return not_found()

    def _before_faults(self, request: Request) -> Response | None:
        """Apply the faults that fire before a request is served; the answer one of them gives instead, if any."""
        for fault in self.faults.fire(BEFORE_KINDS, request.route, request.tenant):
            if fault.kind == "reset":
                return Response(0, reset=True)
            if fault.kind == "slow":
                time.sleep(fault.delay)
            elif fault.kind == "error":
                return server_error(fault.status)
            elif fault.kind == "refuse":
                return refusal(fault.status)
            elif fault.kind == "maintenance":
                return maintenance()
            elif fault.kind == "expire_tokens":
                self.identity.expire_all_access_tokens()
            elif fault.kind == "day_limit":
                target = fault.tenant or request.tenant or next(iter(self.tenants), "")
                self.limiter.exhaust_day(target)
        return None

    def _identity_paths(self, request: Request) -> Response:
        """/identity/connect/authorize, and POST /connect/token and /connect/revocation."""
        if request.route == "identity/connect/authorize":
            status, where = self.identity.authorize(dict(request.params))
            if status == 302:
                return Response(302, headers={"Location": where})
            return json_response(status, {"error": where})
        if request.method != "POST":
            return text_response(405, "Method not allowed")
        if request.route == "connect/token":
            status, body = self.identity.token(request.form(), request.basic_auth())
            return json_response(status, body, headers={"Cache-Control": "no-store"})
        status, body = self.identity.revoke(request.form(), request.basic_auth())
        return json_response(status, body) if body else Response(status)

    def _connections(self, request: Request) -> Response:
        grant = self._grant(request)
        if isinstance(grant, Response):
            return grant
        if request.route == "connections":
            return json_response(200, self.identity.connections.listing(grant, self.store.tenants))
        connection_id = request.route.removeprefix("connections/")
        if request.method == "DELETE" and self.identity.connections.disconnect(grant, connection_id):
            return Response(204)
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
        elif not header_tenant or not self.identity.connections.is_connected(grant, header_tenant):
            return forbidden()
        else:
            request.tenant = header_tenant
        tenant = request.tenant
        refusal = self.limiter.acquire(tenant)
        if refusal is not None:
            return too_many_requests(refusal.problem, refusal.retry_after)
        try:
            if other_apis.served_under(request.route):
                response = self._other_api(request, tenant, grant)
            else:
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
        endpoint = route.endpoint
        assert endpoint is not None  # a route names a report or an endpoint
        if not grant.scopes & set(endpoint.scopes) or not self.tier_allows(endpoint):
            return unauthorized("AuthorizationUnsuccessful")
        if self.retired_for(tenant, endpoint):
            if self.config.retired_status == 401:
                return unauthorized("AuthorizationUnsuccessful")
            return problem(410, "Gone", f"{endpoint.path} (classic expenses) is retired for this organisation")
        if route.record_id is not None:
            record = self.store.get(tenant, endpoint.envelope_key, route.record_id)
            if record is None:
                return not_found()
            return envelope(endpoint.envelope_key, [record], None, self.clock.now())
        return self._list(request, endpoint, tenant)

    def _list(self, request: Request, endpoint: Endpoint, tenant: str) -> Response:
        query = parse_query(endpoint, request.params, request.headers.get("If-Modified-Since"))
        try:
            page = self.store.list(tenant, endpoint.envelope_key, query)
        except ValueError as exc:
            return validation_error(str(exc))
        response = envelope(endpoint.envelope_key, page.records, page.pagination, self.clock.now())
        if (query.page is not None and page.records and endpoint.id_field
                and self.faults.fire(AFTER_PAGE_KINDS, request.route, tenant, page=query.page)):
            with contextlib.suppress(ValueError):  # a collection without UpdatedDateUTC cannot shift
                self.store.touch(tenant, endpoint.envelope_key, str(page.records[0][endpoint.id_field]))
        if self.faults.fire(BODY_KINDS, request.route, tenant):
            response.truncate = True
        return response

    def _other_api(self, request: Request, tenant: str, grant: AccessGrant) -> Response:
        """The Assets and Projects APIs (core/other_apis.py): lists only, in their own shapes."""
        if request.method != "GET":
            return validation_error("The sandbox serves reads only")
        found = other_apis.resolve(request.route)
        if found is None:
            return not_found()
        endpoint, parent_id = found
        if not grant.scopes & set(endpoint.scopes):
            return unauthorized("AuthorizationUnsuccessful")
        params = {name.lower(): value for name, value in request.params}
        try:
            body = self.store.api_list(tenant, endpoint, parent_id, params)
        except other_apis.ApiError as exc:
            return other_apis.answer(endpoint, exc)
        response = json_response(200, body, records=len(body) if isinstance(body, list) else len(body["items"]))
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
        response = envelope("Reports", [body], None, self.clock.now())
        if self.faults.fire(BODY_KINDS, request.route, tenant):
            response.truncate = True
        return response
