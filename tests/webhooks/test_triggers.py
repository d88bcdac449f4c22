from __future__ import annotations

import json

import pytest

from tap_xero.errors import ConfigError
from tap_xero.webhooks.payload import build_payload
from tap_xero.webhooks.signature import sign
from tap_xero.webhooks.triggers import (
    WebhookTriggerError,
    is_webhook_run,
    verified_trigger_events,
    webhook_run_events,
)

from .helpers import TEST_KEY, make_event, rid


def trigger(events, key=TEST_KEY, as_object=False, header="x-xero-signature"):
    body = build_payload(events)
    payload = json.loads(body) if as_object else body.decode()
    return {"payload": payload, "headers": {header: sign(body, key)}}


def test_run_mode():
    assert is_webhook_run({"PAN_CTX_RUN_MODE": "webhook"})
    assert not is_webhook_run({"PAN_CTX_RUN_MODE": "normal"})
    assert not is_webhook_run({})


def test_verified_events_from_raw_and_parsed_payloads():
    first, second, third = make_event("INVOICE"), make_event("CONTACT"), make_event("CREDITNOTE")
    empty = build_payload([])
    triggers = [
        trigger([first, second]),
        trigger([third], as_object=True, header="X-Xero-Signature"),  # parsed by the platform, any header case
        {"payload": empty.decode(), "headers": [["X-XERO-SIGNATURE", sign(empty, TEST_KEY)]]},  # header pairs
    ]
    assert verified_trigger_events(json.dumps(triggers), TEST_KEY) == [first, second, third]


def test_one_forged_trigger_refuses_the_whole_run():
    triggers = [trigger([make_event()]), trigger([make_event()], key="attacker")]
    with pytest.raises(WebhookTriggerError, match="trigger 2: x-xero-signature does not match") as caught:
        verified_trigger_events(json.dumps(triggers), TEST_KEY)
    assert TEST_KEY not in str(caught.value)
    assert caught.value.exit_code != 0


def test_parsed_payload_that_cannot_be_verified_asks_for_the_raw_body():
    body = b'{"events": [],  "firstEventSequence": 1, "lastEventSequence": 1, "entropy": "X"}'
    broken = {"payload": json.loads(body), "headers": {"x-xero-signature": sign(body, TEST_KEY)}}
    with pytest.raises(WebhookTriggerError, match="pass the raw body"):
        verified_trigger_events(json.dumps([broken]), TEST_KEY)


@pytest.mark.parametrize("triggers, error, text", [
    (None, ConfigError, "without triggers"),
    ("{nope", ConfigError, "not JSON"),
    ('"text"', ConfigError, "not a JSON array"),
    ("[1]", WebhookTriggerError, "not an object"),
    ('[{"headers": {}}]', WebhookTriggerError, "no payload"),
    ('[{"payload": "{}"}]', WebhookTriggerError, "unsigned"),
])
def test_malformed_triggers_are_clear_errors(triggers, error, text):
    with pytest.raises(error, match=text):
        verified_trigger_events(triggers, TEST_KEY)


def test_signed_but_not_a_payload_is_refused():
    body = '{"hello": "world"}'
    bad = {"payload": body, "headers": {"x-xero-signature": sign(body.encode(), TEST_KEY)}}
    with pytest.raises(WebhookTriggerError, match="not a Xero webhook payload"):
        verified_trigger_events(json.dumps([bad]), TEST_KEY)


def test_key_comes_from_the_setting_or_the_platform_secret():
    env = {"PAN_CTX_RUN_TRIGGERS": json.dumps([trigger([make_event("INVOICE", "i-9")])])}
    assert webhook_run_events(TEST_KEY, env)[0]["resourceId"] == rid("i-9")
    assert webhook_run_events(None, {**env, "PAN_SEC_XERO_WEBHOOK_KEY": TEST_KEY})[0]["resourceId"] == rid("i-9")
    with pytest.raises(ConfigError, match="PAN_SEC_XERO_WEBHOOK_KEY"):
        webhook_run_events(None, env)
