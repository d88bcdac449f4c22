"""SharedAppWindow: Xero's app-wide allowance (10,000 calls a minute per app) kept by every process of the app
together, in PostgreSQL (setting ``app_limiter_url``; ``open_app_limiter(settings)`` builds it, or None).

Why: each process already keeps its own sliding window and believes ``X-AppMinLimit-Remaining``
(``limits.RateWindow``), but a header only says what was left when *that* response was counted. N processes
reading it at once all see room, all start calls, and the calls in flight when Xero's window fills are refused:
measured with 4 processes and 16 organisations against an app limit of 60 a minute, 30 of 206 calls (15%) were
429s. A shared count before each call removes that race.

Contract: ``try_start(limit, window_seconds) -> float``: 0.0 when a call may start now (it is counted), else the
seconds to wait before asking again (nothing counted). ``limits.Limits`` asks it after the tenant's and the
process's own windows, for every call.

- **Sliding, like the per-process window.** Calls are counted in buckets of 1/60 of the window
  (``tap_xero_app_calls``: app, bucket, calls). A call starts only when fewer than ``limit`` started in the
  current bucket and the 61 before it: any span of one window, wherever Xero's fixed window begins, lies in at
  most 61 such buckets and so holds at most ``limit`` calls, with one bucket to spare for the moment between our
  count and Xero's (``LAG_BUCKETS``).
- **Atomic across machines.** The check and the count are one statement in a transaction that first takes an
  advisory lock on the app (held for that one statement); bucket times come from the server's clock, so machines
  whose clocks differ still agree. Buckets older than two windows are deleted as time passes.
- **Never the reason a run fails.** When the database cannot be reached during a run, one warning, and for a
  minute the process relies on its own limits and the header again (Xero's 429s are waited out); then it asks
  the database again. A database that cannot be reached at start is a configuration error (exit 2), before any
  call. The app is named by a hash of ``client_id``, never the id itself.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from tap_xero import pg
from tap_xero.errors import ConfigError, redact
from tap_xero.pg import advisory_key, psycopg, reason
from tap_xero.settings import XeroSettings, app_store_name

SETTING = "app_limiter_url"
TABLE = "tap_xero_app_calls"
BUCKETS = 60  # buckets per window
# Xero counts a call a moment after we do (the request still has to travel and queue): the window counted here is
# one bucket longer than the exact bound needs, so a call that reaches Xero up to a bucket late (1 s of a minute)
# still lands in a window with room. 62 buckets are counted.
LAG_BUCKETS = 1
SPAN = BUCKETS + LAG_BUCKETS  # buckets before the current one that count
RETRY_AFTER_FAILURE_SECONDS = 60.0
_CREATE = (
    "CREATE TABLE IF NOT EXISTS tap_xero_app_calls ("
    "app_key text NOT NULL, bucket bigint NOT NULL, calls integer NOT NULL, PRIMARY KEY (app_key, bucket))"
)
# One statement: the server's clock, what the last 62 buckets hold, and the count of this call if there is room.
_TRY_START = """
WITH clock AS (
    SELECT floor(extract(epoch FROM clock_timestamp()) / %(width)s)::bigint AS bucket,
           extract(epoch FROM clock_timestamp())::float8 AS now
), used AS (
    SELECT coalesce(sum(calls), 0) AS calls, min(tap_xero_app_calls.bucket) AS oldest
    FROM tap_xero_app_calls, clock
    WHERE app_key = %(app)s AND tap_xero_app_calls.bucket >= clock.bucket - %(span)s
), counted AS (
    INSERT INTO tap_xero_app_calls (app_key, bucket, calls)
    SELECT %(app)s, clock.bucket, 1 FROM clock, used WHERE used.calls < %(limit)s
    ON CONFLICT (app_key, bucket) DO UPDATE SET calls = tap_xero_app_calls.calls + 1
    RETURNING 1
)
SELECT clock.bucket, clock.now, used.calls, used.oldest, (SELECT count(*) FROM counted) FROM clock, used
"""
_FORGET = "DELETE FROM tap_xero_app_calls WHERE app_key = %s AND bucket < %s"


def open_app_limiter(settings: XeroSettings, logger: logging.Logger | None = None) -> SharedAppWindow | None:
    """The shared window when ``app_limiter_url`` is set (checked now: a ConfigError before any call), else None."""
    if not settings.app_limiter_url:
        return None
    return SharedAppWindow(settings.app_limiter_url, app_store_name(settings.client_id), logger=logger)


class SharedAppWindow:
    """See the module docstring. Thread-safe: one connection per process, one question at a time."""

    fix = f"check app_limiter_url (the server must be reachable, and its user able to create and write {TABLE})"

    def __init__(self, url: str, app_key: str, *, logger: logging.Logger | None = None) -> None:
        pg.require_driver(SETTING)
        self.url = url
        self.app_key = app_key
        self.logger = logger or logging.getLogger("tap-xero.limits")
        self._lock = threading.Lock()
        self._lock_key = advisory_key(f"app calls:{app_key}")
        self._connection: Any = None
        self._down_until = 0.0
        self._forgotten_before = 0
        self.asked = 0  # questions asked, for tests and the curious
        self._connection = self._connect()  # a bad URL or a server that is down stops the run now

    def try_start(self, limit: int, window_seconds: float) -> float:
        """0.0: the call is counted and may start; else seconds to wait before asking again."""
        with self._lock:
            if time.monotonic() < self._down_until:
                return 0.0  # the database is away: the process's own limits and Xero's header only
            try:
                if self._connection is None or self._connection.closed:
                    self._connection = self._connect()
                return self._ask(limit, window_seconds)
            except (psycopg.Error, ConfigError) as exc:
                self._give_up_for_a_while(exc)
                return 0.0

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _connect(self) -> Any:  # noqa: ANN401 - psycopg.Connection
        connection = pg.connect(self.url, SETTING, "app-wide limiter", self.fix, autocommit=False)
        try:
            pg.ensure_table(connection, TABLE, _CREATE)
        except psycopg.Error as exc:
            connection.close()
            raise ConfigError(SETTING, f"cannot create or read the table {TABLE} ({reason(exc)})", self.fix) from None
        return connection

    def _ask(self, limit: int, window_seconds: float) -> float:
        width = window_seconds / BUCKETS
        connection = self._connection
        self.asked += 1
        with connection.transaction(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            cursor.execute(_TRY_START, {"width": width, "app": self.app_key, "span": SPAN, "limit": limit})
            bucket, now, _, oldest, counted = cursor.fetchone()
            if bucket - 2 * BUCKETS > self._forgotten_before:
                cursor.execute(_FORGET, (self.app_key, bucket - 2 * BUCKETS))
                self._forgotten_before = bucket - 2 * BUCKETS
        if counted:
            return 0.0
        if oldest is None:  # a limit of 0: nothing may ever start; ask again in a bucket
            return width
        return max((oldest + SPAN + 1) * width - now, width / 10)

    def _give_up_for_a_while(self, exc: BaseException) -> None:
        self._down_until = time.monotonic() + RETRY_AFTER_FAILURE_SECONDS
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None
        self.logger.warning(
            "The app-wide limiter at %s cannot be reached (%s): for %d s this process keeps to its own limits and "
            "X-AppMinLimit-Remaining only.", redact(self.url),
            reason(exc) if isinstance(exc, psycopg.Error) else str(exc), RETRY_AFTER_FAILURE_SECONDS,
        )
