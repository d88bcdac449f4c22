"""The ``webhook_events`` stream: the verified webhook events themselves, one record per event.

Present when a queue is configured (``webhook_queue_path``) or in a platform webhook run. Not
partitioned by tenant: the queue position is one sequence for all tenants, and it is the
replication key (the bookmark is the last position emitted). Events of tenants this run does not
sync are skipped; application-level SUBSCRIPTION events are kept.

In a platform webhook run the events are the run's triggers and positions are per run, so the
bookmark is neither read nor written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.helpers import types

from tap_xero import values
from tap_xero.sdk_compat import CompatStream
from tap_xero.settings import XeroSettings
from tap_xero.webhooks.payload import event_identity
from tap_xero.webhooks.targeted import WEBHOOK_EVENTS_STREAM, webhook_sync
from tap_xero.webhooks.triggers import is_webhook_run

# A fixed namespace: event_id is the same for one Xero event in every queue and every run.
EVENT_ID_NAMESPACE = uuid.UUID("6f1d3a52-8c1e-4b5e-9a57-3c2f5e0b7d11")


class WebhookEventsStream(CompatStream):
    """Xero webhook events from the queue (or a platform run's triggers), in queue order."""

    name = WEBHOOK_EVENTS_STREAM
    primary_keys = ("tenant_id", "event_id")
    replication_key = "queue_position"
    is_sorted = True
    schema = th.PropertiesList(
        th.Property("tenant_id", th.StringType, required=True, description="Xero tenant (or application) id"),
        th.Property("event_id", th.StringType, required=True,
                    description="UUID5 of tenantId|eventCategory|resourceId|eventDateUtc|eventType"),
        th.Property("queue_position", th.IntegerType, required=True, description="position in the event queue"),
        th.Property("event_category", th.StringType, description="INVOICE, CONTACT, CREDITNOTE or SUBSCRIPTION"),
        th.Property("event_type", th.StringType, description="CREATE or UPDATE"),
        th.Property("resource_id", th.StringType),
        th.Property("resource_url", th.StringType),
        th.Property("event_date_utc", th.DateTimeType),
        th.Property("tenant_type", th.StringType, description="ORGANISATION or APPLICATION"),
        th.Property("received_at", th.DateTimeType, description="when the receiver stored the event"),
        th.Property("data", th.ObjectType(additional_properties=True), description="extra event data (credit notes)"),
    ).to_dict()

    def get_records(self, context: types.Context | None) -> Iterator[dict[str, Any]]:
        sync = webhook_sync(self.tap)
        if sync is None:
            return
        after = 0 if sync.platform_run else int(self.get_starting_replication_key_value(context) or 0)
        tenants = {str(getattr(t, "tenant_id", t)) for t in self.tap.tenants}
        for window in sync.entries(after):
            for position, received_at, event in window:
                if event["tenantId"] in tenants or event.get("tenantType") == "APPLICATION":
                    yield to_record(position, received_at, event)

    def keeps_sdk_bookmarks(self) -> bool:
        return not is_webhook_run()  # per-run positions in a platform webhook run: see the module docstring


def to_record(position: int, received_at: str, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "tenant_id": event["tenantId"],
        "event_id": str(uuid.uuid5(EVENT_ID_NAMESPACE, event_identity(event))),
        "queue_position": position,
        "event_category": event["eventCategory"],
        "event_type": event["eventType"],
        "resource_id": event["resourceId"],
        "resource_url": event.get("resourceUrl"),
        "event_date_utc": values.to_datetime_string(event["eventDateUtc"]),
        "tenant_type": event.get("tenantType"),
        "received_at": received_at,
        "data": event.get("data") if isinstance(event.get("data"), dict) else None,
    }


def webhook_streams(tap: Tap, settings: XeroSettings) -> list[Stream]:
    """The streams to add to ``tap.discover_streams()``: ``webhook_events`` when webhooks are configured."""
    if settings.webhook_queue_path or is_webhook_run():
        return [WebhookEventsStream(tap=tap)]
    return []
