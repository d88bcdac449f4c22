"""Xero's rate limits, emulated: per tenant 5 concurrent, 60 a minute, a daily cap; 10,000 a minute per app.

Windows are fixed and start at a tenant's first call, so they reset at a
different moment for each tenant, as Xero's do. They run on the sandbox clock
divided by ``time_scale`` (``time_scale=60`` makes a "minute" one second and
a "day" 24 minutes). Every response carries the three X-*Limit-Remaining
headers; with ``enabled=False`` nothing is refused and the headers always show
the full allowances (a client that paces itself on them must not slow down). The latency model (base + per
record) also lives here, as it is the other knob of "how Xero feels under load".
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass, field, fields

from xero_sandbox.core import tiers
from xero_sandbox.core.clock import SandboxClock

MINUTE = 60.0
DAY = 86400.0


@dataclass
class LimitsConfig:
    enabled: bool = True
    minute_limit: int = 60
    day_limit: int | None = None  # None: the tier's allowance
    concurrent_limit: int = 5
    app_minute_limit: int = 10000
    time_scale: float = 1.0  # >1 shortens the windows: 60 → a minute lasts one (sandbox) second
    latency_ms: float = 0.0  # added to every API response
    per_record_ms: float = 0.0  # added per record served
    tier: str = tiers.DEFAULT_TIER  # Xero's app pricing tier (see tiers.py)

    def __post_init__(self) -> None:
        self.tier = tiers.tier_name(self.tier)

    @property
    def daily_allowance(self) -> int:
        """Calls per tenant per day: the explicit ``day_limit`` if given, else the tier's."""
        return self.day_limit if self.day_limit is not None else tiers.day_limit(self.tier)

    def change(self, name: str, value) -> None:
        """Change one setting while running (POST /_sandbox/limits); ``ValueError`` for an unknown name
        or a bad value. ``tier`` takes a tier name; ``day_limit`` an integer, or None for the tier's."""
        known = {f.name: f.type for f in fields(self)}
        if name not in known:
            raise ValueError(f"unknown limit setting {name}")
        if name == "tier":
            self.tier = tiers.tier_name(value)
            return
        if name == "day_limit" and value is None:
            self.day_limit = None
            return
        kind = known[name]
        try:
            converted = bool(value) if "bool" in kind else float(value) if "float" in kind else int(value)
        except (TypeError, ValueError):
            raise ValueError(f"bad value for {name}") from None
        setattr(self, name, converted)

    def describe(self) -> dict:
        """The settings as GET /_sandbox/limits shows them (``day_limit`` is the allowance in force)."""
        shown = asdict(self)
        shown["day_limit"] = self.daily_allowance
        shown["day_limit_source"] = "explicit" if self.day_limit is not None else "tier"
        return shown


@dataclass
class _Window:
    started: float | None = None
    used: int = 0

    def roll(self, now: float, length: float) -> None:
        if self.started is None or now >= self.started + length:
            self.started, self.used = now, 0

    def seconds_left(self, now: float, length: float) -> float:
        return 0.0 if self.started is None else max(0.0, self.started + length - now)


@dataclass
class Refusal:
    """A 429: which limit, and how long the client should wait (real seconds)."""

    problem: str  # minute | day | concurrent | appminute
    retry_after: int


@dataclass
class _TenantState:
    minute: _Window = field(default_factory=_Window)
    day: _Window = field(default_factory=_Window)
    in_flight: int = 0
    day_spent_by_fault: bool = False  # the day_limit fault applies even with limits switched off


class RateLimiter:
    """Admits or refuses one tenant's call; ``release`` when its response has been written."""

    def __init__(self, config: LimitsConfig, clock: SandboxClock) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._tenants: dict[str, _TenantState] = {}
        self._app_minute = _Window()

    def _lengths(self) -> tuple[float, float]:
        return MINUTE / self.config.time_scale, DAY / self.config.time_scale

    def _retry_after(self, sandbox_seconds: float) -> int:
        return max(1, math.ceil(self._clock.real_seconds(sandbox_seconds)))

    def acquire(self, tenant_id: str) -> Refusal | None:
        """Count one call for ``tenant_id`` (and hold a concurrency slot) or say why not."""
        cfg = self.config
        minute_len, day_len = self._lengths()
        now = self._clock.time()
        with self._lock:
            state = self._tenants.setdefault(tenant_id, _TenantState())
            state.minute.roll(now, minute_len)
            state.day.roll(now, day_len)
            self._app_minute.roll(now, minute_len)
            if state.day_spent_by_fault and state.day.used >= cfg.daily_allowance:
                return Refusal("day", self._retry_after(state.day.seconds_left(now, day_len)))
            if cfg.enabled:
                # Day first: a client told "minute" would retry in a minute and hit the day cap anyway.
                if state.day.used >= cfg.daily_allowance:
                    return Refusal("day", self._retry_after(state.day.seconds_left(now, day_len)))
                if state.in_flight >= cfg.concurrent_limit:
                    return Refusal("concurrent", 1)
                if state.minute.used >= cfg.minute_limit:
                    return Refusal("minute", self._retry_after(state.minute.seconds_left(now, minute_len)))
                if self._app_minute.used >= cfg.app_minute_limit:
                    return Refusal("appminute", self._retry_after(self._app_minute.seconds_left(now, minute_len)))
            state.minute.used += 1
            state.day.used += 1
            self._app_minute.used += 1
            state.in_flight += 1
        return None

    def release(self, tenant_id: str) -> None:
        with self._lock:
            state = self._tenants.get(tenant_id)
            if state is not None and state.in_flight > 0:
                state.in_flight -= 1

    def exhaust_day(self, tenant_id: str) -> None:
        """Fault: the tenant's daily allowance is spent from now on (until its day window ends)."""
        _, day_len = self._lengths()
        now = self._clock.time()
        with self._lock:
            state = self._tenants.setdefault(tenant_id, _TenantState())
            state.day.roll(now, day_len)
            state.day.used = max(state.day.used, self.config.daily_allowance)
            state.day_spent_by_fault = True

    def headers(self, tenant_id: str | None) -> dict[str, str]:
        """The X-*Limit-Remaining headers for a response (full allowances for an unknown tenant)."""
        cfg = self.config
        minute_len, day_len = self._lengths()
        now = self._clock.time()
        with self._lock:
            state = self._tenants.get(tenant_id) if tenant_id else None
            minute_used = day_used = 0
            if state is not None and cfg.enabled:
                minute_used = 0 if state.minute.seconds_left(now, minute_len) == 0 else state.minute.used
            if state is not None and (cfg.enabled or state.day_spent_by_fault):
                day_used = 0 if state.day.seconds_left(now, day_len) == 0 else state.day.used
            app_used = 0
            if cfg.enabled and self._app_minute.seconds_left(now, minute_len) > 0:
                app_used = self._app_minute.used
        return {
            "X-MinLimit-Remaining": str(max(0, cfg.minute_limit - minute_used)),
            "X-DayLimit-Remaining": str(max(0, cfg.daily_allowance - day_used)),
            "X-AppMinLimit-Remaining": str(max(0, cfg.app_minute_limit - app_used)),
        }

    def simulate_latency(self, records: int) -> None:
        """Sleep like Xero would for a response of ``records`` records."""
        delay_ms = self.config.latency_ms + self.config.per_record_ms * records
        if delay_ms > 0:
            time.sleep(delay_ms / 1000.0)
