"""Xero's rate limits, kept proactively: per tenant and app-wide.

Xero allows each tenant of an app 5 concurrent calls, 60 calls a minute and a
daily cap, and each app 10,000 calls a minute across tenants. Its windows are
fixed and reset at a moment we do not know, so the limiter keeps a SLIDING
window of the calls it started (at most N in any 60 s also means at most N in
any fixed minute) and, in addition, trusts what Xero says is left
(``X-MinLimit-Remaining``, ``X-AppMinLimit-Remaining``): another process of the
same app may be spending the same allowance.

- ``RateWindow``: one allowance (concurrency, calls a minute, what the server
  says is left, a pause after a 429). Thread-safe; ``acquire`` blocks.
- ``Limits``: one ``RateWindow`` per tenant plus one for the app;
  ``Limits.slot(tenant_id)`` is the context manager around every call, and
  ``Limits.observe(tenant_id, headers)`` reads the X-*Limit-Remaining headers.
  It also counts calls and remembers ``X-DayLimit-Remaining`` for the progress
  summary, and raises ``errors.DayLimitReached`` before a call that Xero has
  already said cannot succeed today, and ``errors.CallBudgetReached`` before a
  call beyond the run's own allowance per tenant (setting ``call_budget``).
  ``before_call`` (``run_guard.RunGuard.check``) is called while a call waits for
  an allowance (at least once a second) and right before it is counted: a stop
  request or a token deadline ends the wait at once and nothing is counted.
- ``SharedAllowance`` (optional, ``Limits(shared_app=...)``): the app's allowance
  counted by every process of the app together (``app_limiter_pg.SharedAppWindow``,
  setting ``app_limiter_url``); asked last, once the tenant's and the process's own
  windows let a call start, so a call waiting on it holds no shared count.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Protocol

from tap_xero import errors

WINDOW_SECONDS = 60.0
TENANT_CONCURRENCY = 5
TENANT_PER_MINUTE = 60
APP_PER_MINUTE = 10_000
COUNTING_LAG = 0.01  # of a window (0.6 s a minute): between our starting a call and Xero counting it
CHECK_EVERY_SECONDS = 1.0  # a waiting call looks at ``before_call`` this often


class SharedAllowance(Protocol):
    """An allowance several processes spend together: ``try_start`` counts a call (0.0) or says how long to wait."""

    def try_start(self, limit: int, window_seconds: float) -> float: ...


class RateWindow:
    """One allowance: at most ``max_concurrent`` calls at once and ``per_minute`` in any 60 s."""

    def __init__(
        self,
        per_minute: int,
        max_concurrent: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        window_seconds: float = WINDOW_SECONDS,
    ) -> None:
        self.per_minute = per_minute
        self.window_seconds = window_seconds
        self.max_concurrent = max_concurrent
        self._clock = clock
        self._cond = threading.Condition()
        self._started: collections.deque[float] = collections.deque()  # start times within the window
        self._in_flight = 0
        self._server_left: int | None = None  # what Xero last said is left, minus calls since
        self._server_reset_at = 0.0  # when Xero's window, as of its last response, must have room again
        self._paused_until = 0.0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def _drop_expired(self, now: float) -> None:
        while self._started and now - self._started[0] >= self.window_seconds:
            self._started.popleft()

    def _wait_seconds(self, now: float) -> float:
        """0 when a call may start now, else how long to wait before checking again."""
        self._drop_expired(now)
        waits = [0.0]
        if self._paused_until > now:
            waits.append(self._paused_until - now)
        if len(self._started) >= self.per_minute:
            waits.append(self._started[0] + self.window_seconds - now)
        if self._server_left is not None and self._server_left <= 0:
            reset_at = self._server_reset_at
            if reset_at <= now:
                self._server_left = None  # a new window: nothing known until the next response
            else:
                waits.append(reset_at - now)
        wait = max(waits)
        if wait == 0 and self.max_concurrent is not None and self._in_flight >= self.max_concurrent:
            return -1.0  # wait for a release, not for time
        return wait

    def wait_seconds(self) -> float:
        """How long until the window lets a call start, as far as time goes (0: now; concurrency aside)."""
        with self._cond:
            return max(self._wait_seconds(self._clock()), 0.0)

    def acquire(self, check: Callable[[], None] | None = None) -> float:
        """Block until a call may start; returns the seconds spent waiting. ``check`` may end the wait (raise)."""
        begun = self._clock()
        with self._cond:
            while True:
                now = self._clock()
                wait = self._wait_seconds(now)
                if wait == 0:
                    break
                if check is not None:
                    check()
                    wait = CHECK_EVERY_SECONDS if wait < 0 else min(wait, CHECK_EVERY_SECONDS)
                self._cond.wait(None if wait < 0 else wait)
            self._in_flight += 1
            self._started.append(self._clock())
            if self._server_left is not None:
                self._server_left -= 1
        return self._clock() - begun

    def release(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()

    def observe_remaining(self, remaining: int) -> None:
        """Xero said ``remaining`` calls are left in its current window (as of that response)."""
        with self._cond:
            # Calls still in flight were started after Xero counted: they spend from what is left.
            self._server_left = remaining - max(self._in_flight - 1, 0)
            now = self._clock()
            self._drop_expired(now)
            # Xero's window resets within one window length of this response. When only this process
            # spends the allowance, the calls Xero counted are the ones in our own window, so it has room
            # again once the oldest of them is a window old (waiting a window from the response instead
            # lost a burst's duration every minute). If another process of the app spent the allowance
            # and Xero still refuses, its 429 is waited out (Retry-After).
            self._server_reset_at = now + self.window_seconds
            if self._started:
                # Plus a little: Xero counts a call a moment after we stamp it (sending, network); calling at
                # the exact instant drew an occasional 429 (Retry-After 1 s) in the benchmark.
                oldest_gone = self._started[0] + self.window_seconds * (1 + COUNTING_LAG)
                self._server_reset_at = min(self._server_reset_at, oldest_gone)
            self._cond.notify_all()

    def pause(self, seconds: float) -> None:
        """No call starts for ``seconds`` (after a 429's Retry-After)."""
        with self._cond:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            self._cond.notify_all()


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class Limits:
    """Every allowance the tap must stay within, and the call counts it reports."""

    def __init__(
        self,
        *,
        max_concurrent_per_tenant: int = TENANT_CONCURRENCY,
        per_minute_per_tenant: int = TENANT_PER_MINUTE,
        app_per_minute: int = APP_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
        window_seconds: float = WINDOW_SECONDS,
        call_budget: int | None = None,
        before_call: Callable[[], None] | None = None,
        shared_app: SharedAllowance | None = None,
    ) -> None:
        self.max_concurrent_per_tenant = max_concurrent_per_tenant
        self.shared_app = shared_app
        self.call_budget = call_budget
        self.before_call = before_call
        self.window_seconds = window_seconds
        self.per_minute_per_tenant = per_minute_per_tenant
        self._clock = clock
        self.app = RateWindow(app_per_minute, None, clock=clock, window_seconds=window_seconds)
        self._tenants: dict[str, RateWindow] = {}
        self._lock = threading.Lock()
        self.calls: collections.Counter[str] = collections.Counter()  # calls made, per tenant
        self._claimed: collections.Counter[str] = collections.Counter()  # calls made or about to be, per tenant
        self.day_left: dict[str, int] = {}  # X-DayLimit-Remaining, per tenant
        self.waited_seconds = 0.0  # total time calls waited for an allowance

    def tenant(self, tenant_id: str) -> RateWindow:
        with self._lock:
            window = self._tenants.get(tenant_id)
            if window is None:
                window = RateWindow(
                    self.per_minute_per_tenant, self.max_concurrent_per_tenant,
                    clock=self._clock, window_seconds=self.window_seconds,
                )
                self._tenants[tenant_id] = window
            return window

    @contextmanager
    def slot(self, tenant_id: str) -> Iterator[None]:
        """Hold one call's allowance for ``tenant_id`` (and the app) for the duration of the block."""
        if self.day_left.get(tenant_id, 1) <= 0:
            raise errors.DayLimitReached(tenant_id, None)
        self._claim(tenant_id)
        try:
            waited = self._acquire(tenant_id)
            if self.day_left.get(tenant_id, 1) <= 0:  # spent while this call waited for its turn
                self.app.release()
                self.tenant(tenant_id).release()
                raise errors.DayLimitReached(tenant_id, None)
        except BaseException:
            with self._lock:
                self._claimed[tenant_id] -= 1
            raise
        with self._lock:
            self.calls[tenant_id] += 1
            self.waited_seconds += waited
        try:
            yield
        finally:
            self.app.release()
            self.tenant(tenant_id).release()

    def _acquire(self, tenant_id: str) -> float:
        """Wait for the tenant's and the app's allowances (the tenant first: never hold app allowance while
        waiting on one tenant's window); then ``before_call`` has the last word. Seconds waited."""
        window = self.tenant(tenant_id)
        check = self.before_call
        waited = window.acquire(check)
        try:
            waited += self.app.acquire(check)
        except BaseException:
            window.release()
            raise
        try:
            waited += self._acquire_shared(check)
            if check is not None:
                check()
        except BaseException:
            self.app.release()
            window.release()
            raise
        return waited

    def _acquire_shared(self, check: Callable[[], None] | None) -> float:
        """Wait until the app's shared allowance counts this call (no shared allowance: at once)."""
        shared = self.shared_app
        if shared is None:
            return 0.0
        begun = self._clock()
        while True:
            wait = shared.try_start(self.app.per_minute, self.window_seconds)
            if wait <= 0:
                return self._clock() - begun
            if check is not None:
                check()
            time.sleep(min(wait, CHECK_EVERY_SECONDS))

    def _claim(self, tenant_id: str) -> None:
        """Count a call against the run's budget for ``tenant_id`` before it waits (atomic across threads)."""
        with self._lock:
            if self.call_budget is not None and self._claimed[tenant_id] >= self.call_budget:
                raise errors.CallBudgetReached(tenant_id, self.call_budget)
            self._claimed[tenant_id] += 1

    def observe(self, tenant_id: str, headers: Mapping[str, str]) -> None:
        """Read Xero's X-*Limit-Remaining headers from a response for ``tenant_id``."""
        minute = _int_header(headers, "X-MinLimit-Remaining")
        if minute is not None:
            self.tenant(tenant_id).observe_remaining(minute)
        app = _int_header(headers, "X-AppMinLimit-Remaining")
        if app is not None:
            self.app.observe_remaining(app)
        day = _int_header(headers, "X-DayLimit-Remaining")
        if day is not None:
            with self._lock:
                self.day_left[tenant_id] = day

    def day_spent(self, tenant_id: str) -> None:
        """Xero refused a call for the day: no other call for ``tenant_id`` is made in this run."""
        with self._lock:
            self.day_left[tenant_id] = 0

    def pause(self, tenant_id: str, seconds: float, *, app_wide: bool = False) -> None:
        """After a minute 429: no call for this tenant (or the whole app) for ``seconds``."""
        (self.app if app_wide else self.tenant(tenant_id)).pause(seconds)

    def calls_last_minute(self, tenant_id: str) -> int:
        window = self.tenant(tenant_id)
        with window._cond:
            now = self._clock()
            return sum(1 for started in window._started if now - started < self.window_seconds)
