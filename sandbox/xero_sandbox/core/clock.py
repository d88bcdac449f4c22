"""The sandbox's clock: wall time that tests can speed up or jump forward.

Token lifetimes, refresh-token grace periods, rate-limit windows and the
UpdatedDateUTC stamped by mutations all read this one clock, so a test can
expire a 30-minute token with ``advance(1801)`` instead of waiting.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone


class SandboxClock:
    """Seconds since the epoch that run ``speed`` times faster than real time, plus jumps."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self._lock = threading.Lock()
        self._speed = speed
        self._real_anchor = time.time()
        self._sandbox_anchor = self._real_anchor
        self._last = 0.0

    @property
    def speed(self) -> float:
        return self._speed

    def time(self) -> float:
        """Sandbox seconds since the epoch; never goes backwards."""
        with self._lock:
            now = self._sandbox_anchor + (time.time() - self._real_anchor) * self._speed
            # Real time can step back (NTP); the sandbox promises monotonic stamps.
            self._last = max(self._last, now)
            return self._last

    def now(self) -> datetime:
        """The sandbox time as an aware UTC datetime (what the Store's clock callable returns)."""
        return datetime.fromtimestamp(self.time(), tz=timezone.utc)

    def advance(self, seconds: float) -> float:
        """Jump forward by ``seconds`` sandbox seconds; returns the new time."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._sandbox_anchor += seconds
        return self.time()

    def set_speed(self, speed: float) -> None:
        """Change the rate from now on, without a jump."""
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        current = self.time()
        with self._lock:
            self._real_anchor = time.time()
            self._sandbox_anchor = current
            self._speed = speed

    def real_seconds(self, sandbox_seconds: float) -> float:
        """How long a client really waits for ``sandbox_seconds`` to pass (for Retry-After)."""
        return sandbox_seconds / self._speed
