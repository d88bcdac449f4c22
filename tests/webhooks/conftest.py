from __future__ import annotations

import pytest

from xero_sandbox.core.webhooks import WebhookSender
from tap_xero.webhooks.receiver import WebhookReceiver

from .helpers import TEST_KEY


@pytest.fixture
def queue_path(tmp_path):
    return tmp_path / "queue" / "events.sqlite"


@pytest.fixture
def receiver(queue_path):
    with WebhookReceiver(queue_path, TEST_KEY, port=0) as running:
        yield running


@pytest.fixture
def sender(receiver):
    return WebhookSender(None, url=receiver.url, key=TEST_KEY, retry_delays=(0.05, 0.1))
