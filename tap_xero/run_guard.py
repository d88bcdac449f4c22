"""RunGuard: the run-wide reasons to stop before the next call, checked by ``http.XeroClient`` on every call.

    guard = RunGuard(token_expires_at=auth.unrenewable_expiry, call_seconds=settings.request_timeout)
    guard.check()            # before a call is sent: raises if the run must stop now
    guard.request_stop()     # from a SIGTERM/SIGINT handler: the run stops at its next safe point

Two reasons, both run-wide (every organisation shares them):

- A stop request (SIGTERM, SIGINT): ``errors.RunInterrupted``. The handler only sets a flag, so nothing
  is cut in the middle of writing a message; calls raise at their next check, and streams check between
  pages (``check``), where everything written is covered by the state they save.
- A token that cannot be renewed (a platform's access token) is a deadline: no call starts once a call
  started now might still be running when the token expires (``call_seconds``, the request timeout, plus
  ``DEADLINE_SAFETY_SECONDS``). ``errors.TokenDeadlineReached`` (exit 75): the next run, with a fresh
  token, resumes from the state.

The per-organisation reasons (Xero's day limit, the ``call_budget`` setting) are allowances and live with
the others in ``limits.Limits``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

from tap_xero import errors

DEADLINE_SAFETY_SECONDS = 5.0  # besides one call's timeout: clock skew between us and Xero, a slow TLS handshake


def _utc_text(unix_seconds: float) -> str:
    return dt.datetime.fromtimestamp(unix_seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class RunGuard:
    """See the module docstring. Thread-safe: ``check`` is called from every page thread."""

    def __init__(
        self,
        *,
        token_expires_at: Callable[[], float | None] = lambda: None,
        call_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._token_expires_at = token_expires_at
        self.call_seconds = call_seconds
        self._clock = clock
        self._stop = threading.Event()
        self.stop_reason = ""

    # -- stop requests ---------------------------------------------------------------------------------

    def request_stop(self, reason: str) -> None:
        """Ask the run to stop at its next safe point (safe to call from a signal handler)."""
        if not self._stop.is_set():
            self.stop_reason = reason
            self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    # -- the deadline ----------------------------------------------------------------------------------

    @property
    def deadline(self) -> float | None:
        """The last moment a call may start (Unix seconds), or None when the token can be renewed."""
        expires_at = self._token_expires_at()
        if expires_at is None:
            return None
        return expires_at - self.call_seconds - DEADLINE_SAFETY_SECONDS

    def describe_deadline(self) -> str | None:
        """One line for the start of a run: when it will stop, or None without a deadline."""
        deadline, expires_at = self.deadline, self._token_expires_at()
        if deadline is None or expires_at is None:
            return None
        return (
            f"The access token cannot be renewed and expires at {_utc_text(expires_at)}: this run starts no call "
            f"after {_utc_text(deadline)}, then stops with its state (exit 75) and the next run resumes."
        )

    # -- the check before every call -------------------------------------------------------------------

    def check_stop(self) -> None:
        """Raise ``errors.RunInterrupted`` if a stop was requested (streams call it between pages)."""
        if self._stop.is_set():
            raise errors.RunInterrupted(
                f"Stopped by {self.stop_reason or 'request'}: state covering every record written was emitted; "
                "the next run resumes where this one stopped."
            )

    def check(self) -> None:
        """Raise if the run must stop before another call: a stop request, or the token deadline."""
        self.check_stop()
        deadline = self.deadline
        if deadline is not None and self._clock() >= deadline:
            expires_at = self._token_expires_at() or deadline
            raise errors.TokenDeadlineReached(
                f"Stopping before the access token expires at {_utc_text(expires_at)}: it cannot be renewed (a "
                "platform token), and a call started now could outlive it. State covering every record written was "
                "emitted: run again with a fresh token and it resumes where this one stopped."
            )
