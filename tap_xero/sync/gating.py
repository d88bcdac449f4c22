"""Endpoints Xero refuses to this app: end that stream for the organisation, remember it, ask again once a day.

Since March 2026 Xero gates endpoints by the app's pricing tier: below the Advanced tier ``GET /Journals``
answers 401 ``AuthorizationUnsuccessful`` although the token holds ``accounting.journals.read``. A missing
scope gets the same answer. Either way it is not a token problem and not a reason to lose the rest of the
run: the stream (with its child tables) ends for that organisation with one warning, and the run goes on.

So that a refused endpoint does not cost a call on every run, the refusal is remembered in the stream's
state for that organisation (``STATE_KEY``: when Xero refused it, and why) and the endpoint is asked again
once ``PROBE_INTERVAL`` has passed: an app that moves to a higher tier gets the stream back within a day.
With ``fail_on_missing_scope`` a refusal is an error instead (``errors.ScopeError``, exit 3).

Pure functions over a partition's state dictionary: no HTTP, no SDK.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import MutableMapping
from typing import Any

from tap_xero import values

STATE_KEY = "refused_by_xero"
PROBE_INTERVAL = dt.timedelta(hours=24)
# Endpoints Xero is known to keep for its higher tiers: said in the warning so the user knows what to buy.
TIER_NOTES = {"Journals": "Journals need Xero's Advanced tier"}


def next_probe(state: MutableMapping[str, Any], now: dt.datetime) -> dt.datetime | None:
    """When to ask Xero again, if a refusal less than PROBE_INTERVAL old is remembered; else None (ask now)."""
    refusal = state.get(STATE_KEY)
    if not isinstance(refusal, dict):
        return None
    try:
        checked = values.parse_datetime(str(refusal.get("checked_at")))
    except ValueError:
        return None
    due = checked + PROBE_INTERVAL
    return due if due > now else None


def remember(state: MutableMapping[str, Any], now: dt.datetime, reason: str) -> None:
    """Xero refused the endpoint at ``now``."""
    remembered = state.get(STATE_KEY)
    previous: dict = remembered if isinstance(remembered, dict) else {}
    state[STATE_KEY] = {
        "since": previous.get("since") or _text(now),
        "checked_at": _text(now),
        "reason": reason,
    }


def forget(state: MutableMapping[str, Any]) -> bool:
    """Xero answered: drop a remembered refusal. True if there was one."""
    return state.pop(STATE_KEY, None) is not None


def explain(stream: str, tenant_id: str, path: str, *, scope_held: bool | None, retry_at: dt.datetime) -> str:
    """The one warning for a refused stream: which, why, what happens next."""
    if scope_held:
        why = "although the token holds its scope: the app's Xero pricing tier does not include it"
    elif scope_held is None:
        why = "the token lacks its scope, or the app's Xero pricing tier does not include it"
    else:
        why = "the token lacks its scope"
    note = TIER_NOTES.get(path)
    return (
        f"Stream '{stream}' (and its child tables) ends for tenant {tenant_id}: Xero refused {path} "
        f"(AuthorizationUnsuccessful): {why}{f' ({note})' if note else ''}. The run goes on without it; the tap "
        f"asks Xero again after {_text(retry_at)}. Set fail_on_missing_scope to make this an error."
    )


def _text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
