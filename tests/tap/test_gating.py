"""Endpoints Xero refuses to the app: the memory that saves a call a run (tap_xero/gating.py)."""

from __future__ import annotations

import datetime as dt

from tap_xero.sync import gating

NOW = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.timezone.utc)


def test_a_refusal_is_remembered_for_a_day_then_asked_again() -> None:
    state: dict = {"replication_key_value": 7}
    assert gating.next_probe(state, NOW) is None  # nothing known: ask
    gating.remember(state, NOW, "AuthorizationUnsuccessful")
    assert state["replication_key_value"] == 7  # the bookmark is untouched
    assert gating.next_probe(state, NOW + dt.timedelta(hours=23, minutes=59)) == NOW + gating.PROBE_INTERVAL
    assert gating.next_probe(state, NOW + dt.timedelta(hours=24)) is None  # a day later: ask again
    gating.remember(state, NOW + dt.timedelta(hours=24), "AuthorizationUnsuccessful")
    assert state[gating.STATE_KEY]["since"] == "2026-12-01T15:00:00Z"  # refused since the first time
    assert state[gating.STATE_KEY]["checked_at"] == "2026-12-02T15:00:00Z"
    assert gating.forget(state) and gating.STATE_KEY not in state and not gating.forget(state)


def test_a_malformed_memory_means_ask_now() -> None:
    for value in ("x", {"checked_at": "not a time"}, {}):
        assert gating.next_probe({gating.STATE_KEY: value}, NOW) is None


def test_the_warning_says_which_stream_why_and_when_it_is_asked_again() -> None:
    text = gating.explain("journals", "t-1", "Journals", scope_held=True, retry_at=NOW + gating.PROBE_INTERVAL)
    assert "'journals'" in text and "t-1" in text and "pricing tier" in text and "Advanced" in text
    assert "2026-12-02T15:00:00Z" in text and "fail_on_missing_scope" in text
    unknown = gating.explain("quotes", "t-1", "Quotes", scope_held=None, retry_at=NOW)
    assert "lacks its scope, or" in unknown and "Advanced" not in unknown
    assert "lacks its scope" in gating.explain("quotes", "t", "Quotes", scope_held=False, retry_at=NOW)
