"""TenantOutcomes: what ends one tenant's part of a stream without failing the run.

    outcomes.read(tenant_id, state, write_state, lambda: the tenant's records)

- The organisation was stopped earlier in the run (Xero's day limit, the run's ``call_budget``:
  ``errors.TenantStopped``, remembered in ``run_facts.RunFacts``): nothing is read, no call is made.
- Xero refused this endpoint to the app within the last day (``gating``): skipped with one warning.
- An earlier run of a sync that stopped before its end read this stream for the organisation
  (``unfinished.py``): not read again until the sync has read every stream.
- A ``TenantStopped`` now: remembered, one warning, the run goes on with the other organisations.
- A 401 ``AuthorizationUnsuccessful`` (a tier without the endpoint, a scope the token lacks): one warning and
  the refusal remembered for a day (gating.py), or ``errors.ScopeError`` with ``fail_on_missing_scope``.
- A retired endpoint (classic expenses) answering 401/404/410: one warning.
Anything else propagates and ends the run (``on_abort`` runs first: background readers are stopped).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

from tap_xero import errors
from tap_xero.sync import gating
from tap_xero.sync.run_facts import RunFacts

RETIRED_STATUSES = frozenset({401, 404, 410})


@dataclass
class TenantOutcomes:
    """See the module docstring. One per stream."""

    stream: str
    path: str  # the endpoint's or report's path, for messages
    retired: bool  # classic expenses: 401/404/410 mean "not for this organisation"
    fail_on_refusal: bool  # fail_on_missing_scope
    scope_held: Callable[[], bool | None]  # whether the token holds the stream's scope (None: unknown)
    facts: RunFacts
    logger: logging.Logger

    def read(
        self,
        tenant_id: str,
        state: MutableMapping[str, Any],
        write_state: Callable[[], None],
        read: Callable[[], Iterator[dict]],
        on_abort: Callable[[], None] = lambda: None,
    ) -> Iterator[dict]:
        """The tenant's records from ``read()``, or fewer without failing the run (module docstring)."""
        if not self.may_read(tenant_id, state):
            return
        try:
            yield from read()
        except BaseException as exc:
            if not isinstance(exc, Exception) or not self.ended(tenant_id, state, write_state, exc):
                on_abort()
                raise
            return
        self.completed(tenant_id, state, write_state)

    def may_read(self, tenant_id: str, state: MutableMapping[str, Any]) -> bool:
        """False for an organisation stopped earlier in the run, one whose unfinished sync has read this stream, or
        one Xero refused this stream within a day."""
        return (self.facts.stopped(tenant_id) is None and not self.facts.unfinished.read_before(tenant_id, self.stream)
                and not self._skipped(tenant_id, state))

    def ended(self, tenant_id: str, state: MutableMapping[str, Any], write_state: Callable[[], None],
              exc: Exception) -> bool:
        """True when ``exc`` ends only this tenant's read (remembered, warned about); False: it ends the run."""
        if isinstance(exc, errors.TenantStopped):
            self.facts.stop(exc)
            self.logger.warning("%s The run goes on with the other organisations.", exc)
            return True
        if isinstance(exc, (errors.XeroApiError, errors.AuthError)):
            return self._ends_quietly(tenant_id, state, write_state, exc)
        return False

    def completed(self, tenant_id: str, state: MutableMapping[str, Any], write_state: Callable[[], None]) -> None:
        """The tenant's read ended normally: a refusal remembered earlier is forgotten."""
        self.facts.unfinished.finished(tenant_id, self.stream)
        if gating.forget(state):
            self.logger.info("Stream '%s': Xero serves it to tenant %s again.", self.stream, tenant_id)
            write_state()

    def remember_refusal(self, state: MutableMapping[str, Any], write_state: Callable[[], None],
                         now: dt.datetime | None = None) -> None:
        """Remember that Xero refused this stream for a tenant (the next runs skip it for a day)."""
        gating.remember(state, now or dt.datetime.now(dt.timezone.utc), "AuthorizationUnsuccessful")
        write_state()

    def _skipped(self, tenant_id: str, state: MutableMapping[str, Any]) -> bool:
        retry_at = gating.next_probe(state, dt.datetime.now(dt.timezone.utc))
        if retry_at is None:
            return False
        refusal = state[gating.STATE_KEY]
        self.logger.warning(
            "Stream '%s' skipped for tenant %s: Xero refused it to this app at %s (%s); the tap asks again after %s.",
            self.stream, tenant_id, refusal.get("checked_at"), refusal.get("reason"),
            retry_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        return True

    def _ends_quietly(self, tenant_id: str, state: MutableMapping[str, Any], write_state: Callable[[], None],
                      exc: errors.XeroApiError | errors.AuthError) -> bool:
        """True when ``exc`` ends this tenant's read (warned about); False when it must end the run."""
        status = getattr(exc, "status", None)
        if self.retired and status in RETIRED_STATUSES:
            self.logger.warning(
                "Stream '%s' ends for tenant %s: Xero answered %s (classic expenses are retired for most "
                "organisations). Deselect the stream to silence this.", self.stream, tenant_id, status,
            )
            return True
        if not isinstance(exc, errors.AuthorizationUnsuccessful):
            return False
        now = dt.datetime.now(dt.timezone.utc)
        message = gating.explain(self.stream, tenant_id, exc.path or self.path, scope_held=self.scope_held(),
                                 retry_at=now + gating.PROBE_INTERVAL)
        if self.fail_on_refusal:
            raise errors.ScopeError(message.split(". The run goes on")[0] + ".") from None
        self.remember_refusal(state, write_state, now)
        self.logger.warning("%s", message)
        return True
