"""``SandboxConfig``: everything a sandbox can be told at start; the CLI's flags map one to one.

Data (``seed``, ``scale`` invoices per tenant, ``tenants``), where to listen, Xero's limits and
the latency model (``limits_config()``: what ``limits.RateLimiter`` runs on), the pricing tier,
the clock's speed, faults to inject from the start (``faults.py`` specs), the demo app's
credentials and scopes, webhook delivery, which tenants still serve classic expenses (and what
the others answer), gzip and the size of the request log.
"""

from __future__ import annotations

from dataclasses import dataclass

from xero_sandbox.core import tiers
from xero_sandbox.core.limits import LimitsConfig
from xero_sandbox.core.oauth import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, DEMO_SCOPES


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
