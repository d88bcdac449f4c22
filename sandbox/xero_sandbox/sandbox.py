"""``Sandbox``: one running sandbox, in-process: its HTTP server on a background thread plus Python
handles on its state (the store, the clock, faults, limits, credentials, counters).

``Sandbox(SandboxConfig(...))`` or ``Sandbox(seed=..., ...)``; ``start()``/``stop()`` or a ``with``
block. ``store=`` serves a ready ``Store`` instead of generating one. docs/sandbox.md lists every
handle.
"""

from __future__ import annotations

import threading

from xero_sandbox.core.app import SandboxApp
from xero_sandbox.core.clock import SandboxClock
from xero_sandbox.core.config import SandboxConfig
from xero_sandbox.core.faults import FaultInjector
from xero_sandbox.core.wire import SandboxHTTPServer
from xero_sandbox.store import Store


class Sandbox:
    """One running sandbox: its HTTP server on a background thread plus Python handles on its state."""

    def __init__(self, config: SandboxConfig | None = None, *, store=None, **overrides) -> None:
        if config is None:
            config = SandboxConfig(**overrides)
        elif overrides:
            raise TypeError("pass either a SandboxConfig or keyword settings, not both")
        self.config = config
        self._store_override = store
        self.app: SandboxApp | None = None
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ----------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        clock = SandboxClock(self.config.clock_speed)
        store = self._store_override
        if store is None:
            store = Store(seed=self.config.seed, scale=self.config.scale, tenants=self.config.tenants, clock=clock.now)
        self.app = SandboxApp(self.config, store, clock)
        self._server = SandboxHTTPServer(self.app)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
            name=f"xero-sandbox-{self._server.server_address[1]}", daemon=True,
        )
        self._thread.start()
        if self.config.webhook_url and self.config.webhook_key:
            self.app.webhooks.configure(self.config.webhook_url, self.config.webhook_key)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._running().webhooks.stop()
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- what clients need ---------------------------------------------------------------------------

    def _running(self) -> SandboxApp:
        if self.app is None:
            raise RuntimeError("the sandbox is not started: use `with Sandbox(...) as sb` or sb.start()")
        return self.app

    @property
    def base_url(self) -> str:
        """Where everything is served; also the tap's identity_url."""
        return self._running().base_url

    @property
    def api_url(self) -> str:
        return self.base_url + "/api.xro/2.0"

    @property
    def client_id(self) -> str:
        return self._running().identity.client_id

    @property
    def client_secret(self) -> str:
        return self._running().identity.client_secret

    @property
    def refresh_token(self) -> str:
        """The demo refresh token (it rotates like Xero's; see ``issue_refresh_token`` for a private one)."""
        return self._running().identity.refresh_token

    @property
    def tenant_ids(self) -> list[str]:
        return list(self._running().tenants)

    @property
    def store(self):
        return self._running().store

    @property
    def clock(self):
        return self._running().clock

    @property
    def faults(self) -> FaultInjector:
        return self._running().faults

    @property
    def limiter(self):
        return self._running().limiter

    def set_tier(self, tier: str) -> None:
        """Switch Xero's pricing tier while running (starter | core | plus | advanced), like
        ``POST /_sandbox/limits {"tier": ...}``: it changes the day allowance (unless one was set
        explicitly) and whether Journals answer."""
        self._running().limiter.config.change("tier", tier)

    def issue_access_token(
        self, scopes: list[str] | None = None, expires_in: int = 1800, tenant_id: str | None = None
    ) -> str:
        """A JWT-shaped access token; ``tenant_id`` binds it like a client_credentials token."""
        return self._running().identity.issue_access_token(scopes, expires_in, tenant_id=tenant_id)

    def issue_refresh_token(self, scopes: list[str] | None = None) -> str:
        """A refresh token with its own grant, so a test's rotations do not touch the demo token."""
        return self._running().identity.issue_refresh_token(scopes)

    def counts(self) -> dict[str, dict[str, int]]:
        """Records per tenant and envelope key that the API serves now (``GET /_sandbox/counts``)."""
        return self._running().served_counts()

    def requests(self) -> dict:
        return self._running().stats.snapshot()

    def request_log(self, limit: int | None = None) -> list[dict]:
        return self._running().stats.log(limit)

    def reset_counters(self) -> None:
        self._running().stats.reset()

    def lock_dates(self, tenant_id: str) -> dict:
        """{"period_lock_date": date | None, "end_of_year_lock_date": date | None} of one tenant."""
        return self._running().store.lock_dates(tenant_id)

    def set_lock_dates(self, tenant_id: str, **dates) -> dict:
        """The Python form of POST /_sandbox/lock-dates: ``period_lock_date`` and/or
        ``end_of_year_lock_date``, each a date (or YYYY-MM-DD) to set or None to clear."""
        return self._running().store.set_lock_dates(tenant_id, **dates)

    def mutate(self, tenant_id: str, envelope_key: str, action: str, record_id: str | None = None,
               fields: dict | None = None) -> dict:
        """The Python form of POST /_sandbox/mutations; returns the changed record."""
        store = self._running().store
        if action == "create":
            return store.create(tenant_id, envelope_key, fields or {})
        if action == "update":
            return store.update(tenant_id, envelope_key, record_id, fields or {})
        return getattr(store, action)(tenant_id, envelope_key, record_id)
