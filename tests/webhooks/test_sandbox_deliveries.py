"""The sandbox drives WebhookSender over its control API; deliveries land in a real receiver."""

from __future__ import annotations

import time

import pytest
import requests

from xero_sandbox import Sandbox, SandboxConfig
from tap_xero.webhooks.queue import EventQueue
from tap_xero.webhooks.receiver import WebhookReceiver

from .helpers import TEST_KEY, make_event


@pytest.fixture
def receiver(tmp_path):
    with WebhookReceiver(tmp_path / "events.sqlite", TEST_KEY) as running:
        yield running


@pytest.fixture
def sb():
    with Sandbox(SandboxConfig(seed=5, scale=20, tenants=1, limits=False)) as running:
        yield running


def stored(receiver: WebhookReceiver) -> list[dict]:
    with EventQueue(receiver.queue.path) as queue:
        return [event for _, event in queue.read_after(0, 10_000)]


def test_control_api_probes_sends_retries_and_forges(sb, receiver):
    control = sb.base_url + "/_sandbox/webhooks"
    assert requests.post(control, json={"url": receiver.url, "key": TEST_KEY}, timeout=10).status_code == 200

    probe = requests.post(control + "/intent-to-receive", timeout=30).json()
    assert probe["passed"] is True

    event = make_event("INVOICE", tenant_id=sb.tenant_ids[0])
    sent = requests.post(control + "/send", json={"events": [event], "repeat": 3}, timeout=30).json()
    assert sent["statuses"] == [200, 200, 200]
    forged = requests.post(control + "/send", json={"events": [make_event()], "forge_signature": True}, timeout=30)
    assert forged.json()["statuses"] == [401]
    assert stored(receiver) == [event]  # the retries stored once, the forgery not at all

    # A change in the sandbox's data is delivered by itself, signed.
    tenant_id = sb.tenant_ids[0]
    created = sb.mutate(tenant_id, "Contacts", "create", None, {"Name": "Webhook Test Ltd"})
    deadline = time.monotonic() + 10
    while not any(e["resourceId"] == created["ContactID"] for e in stored(receiver)):
        assert time.monotonic() < deadline, "the sandbox did not deliver the change"
        time.sleep(0.02)
    delivered = next(e for e in stored(receiver) if e["resourceId"] == created["ContactID"])
    kind = (delivered["eventCategory"], delivered["eventType"], delivered["tenantId"])
    assert kind == ("CONTACT", "CREATE", tenant_id)
    stats = requests.get(control, timeout=10).json()
    assert stats["deliveries_ok"] >= 1 and stats["events_delivered"] >= 1


def test_intent_to_receive_fails_against_a_receiver_with_another_key(sb, tmp_path):
    with WebhookReceiver(tmp_path / "other.sqlite", "another-key") as other:
        requests.post(sb.base_url + "/_sandbox/webhooks", json={"url": other.url, "key": TEST_KEY}, timeout=10)
        probe = requests.post(sb.base_url + "/_sandbox/webhooks/intent-to-receive", timeout=30).json()
    assert probe["passed"] is False
