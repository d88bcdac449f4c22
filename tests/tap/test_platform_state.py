"""The state an integration platform hands back: PAN_CTX_LAST_RUN_STD_OUT (tap_xero/platform_state.py)."""

from __future__ import annotations

import json

import pytest

from tap_xero.platform_state import LAST_RUN_STDOUT, input_state
from tap_xero.tap import TapXero

STATE = {"bookmarks": {"invoices": {"partitions": [{"context": {"tenant_id": "t"}, "replication_key_value": "x"}]}}}


@pytest.mark.parametrize("text", [
    json.dumps({"type": "STATE", "value": STATE}),
    json.dumps({"type": "STATE", "value": STATE}) + "\n",
    "a log line\n" + json.dumps({"type": "STATE", "value": STATE}),  # only the last line counts
    json.dumps(STATE),  # a bare state object
])
def test_a_state_message_or_a_bare_state_is_the_input_state(text) -> None:
    assert input_state({LAST_RUN_STDOUT: text}) == (STATE, None)


@pytest.mark.parametrize("text, why", [
    ('{"type": "RECORD", "stream": "invoices", "record": {}}', "RECORD message"),
    ('{"type": "STATE", "value": 3}', "without a state object"),
    ('{"type": "STATE", "value": {"bookm', "not JSON"),
    ("[1, 2]", "not a JSON object"),
    ('{"hello": "world"}', "neither"),
    ("garbage \x00\x01", "not JSON"),
])
def test_anything_else_is_ignored_with_a_reason(text, why) -> None:
    state, warning = input_state({LAST_RUN_STDOUT: text})
    assert state is None and why in warning and LAST_RUN_STDOUT in warning


def test_nothing_there_is_a_first_run_without_a_warning() -> None:
    assert input_state({}) == (None, None)
    assert input_state({LAST_RUN_STDOUT: "  \n"}) == (None, None)


def test_the_tap_starts_from_the_platforms_state_and_state_given_explicitly_wins(caplog) -> None:
    environ = {LAST_RUN_STDOUT: json.dumps({"type": "STATE", "value": STATE})}
    from_platform = TapXero(config={"access_token": "t"}, environ=environ)
    assert from_platform.state["bookmarks"]["invoices"] == STATE["bookmarks"]["invoices"]
    explicit = {"bookmarks": {"contacts": {"partitions": []}}}
    given = TapXero(config={"access_token": "t"}, environ=environ, state=explicit)
    assert "invoices" not in given.state.get("bookmarks", {})
    TapXero(config={"access_token": "t"}, environ={LAST_RUN_STDOUT: "not json"})
    assert sum(LAST_RUN_STDOUT in record.getMessage() for record in caplog.records) == 1
