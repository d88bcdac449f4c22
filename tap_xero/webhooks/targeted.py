"""The tap's webhook side: which events a run processes, and the targeted sync of what they name.

Two sources of events:

- a durable queue (setting ``webhook_queue_path``, filled by ``tap-xero-webhooks serve``). Each
  Invoices/Contacts/CreditNotes partition (tenant) keeps ``webhook_position`` in its Singer state:
  the last queue position whose events it has processed. A run whose partition already has a
  baseline (an incremental bookmark and a position) fetches only the resources named by the events
  after that position, by ``IDs=`` in batches of 50 (CreditNotes, which have no IDs filter, one by
  one), instead of paging the collection. The position is saved only after the records of its
  events were written, so each event is processed at least once and a failed run loses none.
  A run without a baseline (or with ``webhook_targeted_sync: false``, e.g. a nightly catch-up for
  edits that raise no webhook) syncs normally and then records the queue position it started at.
- a platform webhook run (``PAN_CTX_RUN_MODE=webhook``): the events of ``PAN_CTX_RUN_TRIGGERS``,
  each trigger's signature verified first; only those events are synced and no queue position is
  read or written (the platform owns delivery).

Targeted runs never move the incremental bookmark (``replication_key_value``): records fetched by
id are newer than changes not yet announced, and moving it would hide those from the next
incremental run.

Each run reads the queue up to the position it saw first (``end_position``): events that arrive
during the run wait for the next one, so the run ends.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any, Protocol

from singer_sdk import Stream

from tap_xero import errors
from tap_xero.endpoints import WEBHOOK_CATEGORIES, Endpoint, Paging
from tap_xero.paging import ordered_lookahead
from tap_xero.settings import XeroSettings
from tap_xero.sync.collection import ReadingClient
from tap_xero.sync.read_state import READ_MARKER
from tap_xero.webhooks.queue import EventQueue
from tap_xero.webhooks.triggers import is_webhook_run, webhook_run_events

logger = logging.getLogger(__name__)

POSITION_KEY = "webhook_position"
IDS_PER_CALL = 50
READ_WINDOW = 5000  # events read from the queue at a time; their ids are fetched once each
WEBHOOK_EVENTS_STREAM = "webhook_events"
TARGETED_SETTING = "webhook_targeted_sync"


class TargetedStream(Protocol):
    """What a targeted read needs of a stream (``client.XeroStream`` implements it with public methods)."""

    @property
    def name(self) -> str: ...

    @property
    def endpoint(self) -> Endpoint | None: ...

    @property
    def selected(self) -> bool: ...

    @property
    def client(self) -> ReadingClient: ...

    def tenant_state(self, context: Mapping[str, Any]) -> MutableMapping[str, Any]: ...

    def write_state_now(self) -> None: ...

    def base_params(self) -> dict[str, Any]: ...

    def prepare_record(self, record: dict, tenant_id: str) -> dict: ...

    def write_child_rows(self, record: dict, tenant_id: str) -> None: ...


class WebhookTap(Protocol):
    """What the webhook side needs of ``tap.TapXero``."""

    @property
    def config(self) -> Mapping[str, Any]: ...

    @property
    def settings(self) -> XeroSettings: ...

    @property
    def streams(self) -> Mapping[str, Stream]: ...


class WebhookSync:
    """The events one tap run processes: a queue (durable or in memory) up to ``end_position``."""

    def __init__(self, queue: EventQueue, *, platform_run: bool, targeted: bool = True) -> None:
        self.queue = queue
        self.platform_run = platform_run
        self.targeted = targeted or platform_run
        self.end_position = queue.max_position()

    @classmethod
    def for_platform_run(cls, events: list[dict[str, Any]]) -> WebhookSync:
        queue = EventQueue(":memory:")
        queue.append(events)  # also drops the platform's repeated deliveries of one event
        return cls(queue, platform_run=True)

    def entries(self, after: int) -> Iterator[list[tuple[int, str, dict[str, Any]]]]:
        """Windows of ``(position, received_at, event)`` after ``after``, up to ``end_position``."""
        position = after
        while position < self.end_position:
            window = [e for e in self.queue.entries_after(position, READ_WINDOW) if e[0] <= self.end_position]
            if not window:
                return
            yield window
            position = window[-1][0]


_syncs: weakref.WeakKeyDictionary[WebhookTap, WebhookSync | None] = weakref.WeakKeyDictionary()
_syncs_lock = threading.Lock()


def webhook_sync(tap: WebhookTap) -> WebhookSync | None:
    """This run's WebhookSync (built once per tap; None without a queue and outside webhook runs).

    In a platform webhook run this verifies every trigger's signature and raises
    ``triggers.WebhookTriggerError`` (or ``ConfigError`` without a key) when one fails.
    """
    with _syncs_lock:
        if tap in _syncs:
            return _syncs[tap]
        settings = tap.settings
        sync: WebhookSync | None = None
        if is_webhook_run():
            events = webhook_run_events(settings.webhook_key)
            logger.info("Webhook run: %d verified event(s) from the platform's triggers", len(events))
            sync = WebhookSync.for_platform_run(events)
        elif settings.webhook_queue_path:
            targeted = tap.config.get(TARGETED_SETTING)
            sync = WebhookSync(EventQueue(settings.webhook_queue_path), platform_run=False,
                               targeted=True if targeted is None else bool(targeted))
        _syncs[tap] = sync
        return sync


def prepare_run(tap: WebhookTap) -> None:
    """Before any request: verify a webhook run's triggers and keep only the streams webhooks cover."""
    sync = webhook_sync(tap)
    if sync is None or not sync.platform_run:
        return
    for stream in tap.streams.values():
        if not _webhook_covered(stream):
            stream.selected = False


def _webhook_covered(stream: Stream) -> bool:
    if stream.name == WEBHOOK_EVENTS_STREAM:
        return True
    endpoint = getattr(stream, "endpoint", None)
    parent = getattr(stream, "parent_stream_type", None)
    if parent is not None:
        endpoint = getattr(parent, "endpoint", None)
    return bool(endpoint and endpoint.webhook_category in WEBHOOK_CATEGORIES)


def targeted_start(stream: TargetedStream, context: Mapping[str, Any], sync: WebhookSync | None) -> int | None:
    """The queue position a targeted read of this tenant starts after; None when it reads normally.

    Read-only (no request, no state change), so a stream may call it to decide, for example, not to
    read a tenant's collection in the background.
    """
    endpoint = stream.endpoint
    if endpoint is None or endpoint.webhook_category not in WEBHOOK_CATEGORIES or sync is None:
        return None
    if sync.platform_run:
        return 0
    state = stream.tenant_state(context)
    position = state.get(POSITION_KEY)
    if not sync.targeted or position is None or state.get("replication_key_value") is None:
        return None
    if state.get(READ_MARKER) is not None:
        return None  # a collection read was interrupted: it must finish before reads by event IDs
    if int(position) > sync.end_position:
        logger.warning(
            "Stream '%s', tenant %s: saved webhook position %s is beyond the queue's last (%d): the queue file "
            "was replaced. Syncing incrementally instead.", stream.name, context["tenant_id"], position,
            sync.end_position,
        )
        return None
    return int(position)


def tenant_records(stream: TargetedStream, context: Mapping[str, Any], normal: Callable[[str, Any], Iterator[dict]],
                   sync: WebhookSync | None) -> Iterator[dict]:
    """A stream's records for one tenant: targeted when webhooks allow, else ``normal(tenant_id, context)``."""
    start = targeted_start(stream, context, sync)
    if start is not None and sync is not None:
        yield from _targeted_records(stream, context, sync, after=start, save=stream.selected and not sync.platform_run)
        return
    yield from normal(context["tenant_id"], context)
    normal_read_done(stream, context, sync)


def normal_read_done(stream: TargetedStream, context: Mapping[str, Any], sync: WebhookSync | None) -> None:
    """A tenant's collection was read in full: the events queued before this run are covered by it."""
    if sync is not None and stream.selected and stream.endpoint is not None \
            and stream.endpoint.webhook_category in WEBHOOK_CATEGORIES:
        # Events up to end_position describe changes made before this sync started: it covered them.
        _save_position(stream, context, sync.end_position)


def _targeted_records(stream: TargetedStream, context: Mapping[str, Any], sync: WebhookSync, *, after: int,
                      save: bool) -> Iterator[dict]:
    """Fetch what the events after ``after`` name; records go through the stream's own per-record steps
    (``prepare_record``: values and tenant_id; ``write_child_rows``: line-item rows written before the parent)."""
    tenant_id = context["tenant_id"]
    endpoint = stream.endpoint
    assert endpoint is not None
    progress = stream.client.progress
    fetched = calls = 0
    for window in sync.entries(after):
        ids = list(dict.fromkeys(
            event["resourceId"] for _, _, event in window
            if event["tenantId"] == tenant_id and event["eventCategory"] == endpoint.webhook_category
        ))
        for records in fetch_changed(stream.client, tenant_id, endpoint, ids, _targeted_params(stream)):
            calls += 1
            for record in records:
                record = stream.prepare_record(record, tenant_id)
                stream.write_child_rows(record, tenant_id)
                yield record
            fetched += len(records)
            progress.page_done(stream.name, tenant_id, records=len(records), page=calls, page_count=None)
        if save:
            _save_position(stream, context, window[-1][0])
    logger.info("Stream '%s', tenant %s: targeted sync fetched %d changed record(s) in %d call(s)",
                stream.name, tenant_id, fetched, calls)


def _targeted_params(stream: TargetedStream) -> dict[str, Any]:
    params = dict(stream.base_params())
    params.pop("order", None)  # one small answer: nothing to order
    return params


def fetch_changed(client: ReadingClient, tenant_id: str, endpoint: Endpoint, ids: list[str],
                  params: dict[str, Any]) -> Iterator[list[dict]]:
    """The current version of each of ``ids``, as lists of raw records (one list per call).

    ``IDs=`` in batches of IDS_PER_CALL where the endpoint accepts it (with ``page=1``, since Xero
    returns line items only on paged reads), else ``GET {path}/{id}`` one by one (a 404 means gone).
    Calls run ahead within the tenant's concurrency allowance, results in order.
    """
    if not ids:
        return
    if endpoint.ids_filter:
        batches = [ids[i:i + IDS_PER_CALL] for i in range(0, len(ids), IDS_PER_CALL)]

        def fetch(number: int) -> list[dict]:
            query = {**params, "IDs": ",".join(batches[number])}
            if endpoint.paging is Paging.PAGE_SIZE:
                query.update(page=1, pageSize=max(IDS_PER_CALL, len(batches[number])))
            return client.get_json(tenant_id, endpoint.path, query).get(endpoint.envelope_key) or []

        count = len(batches)
    else:
        def fetch(number: int) -> list[dict]:
            try:
                body = client.get_json(tenant_id, f"{endpoint.path}/{ids[number]}", params or None)
            except errors.XeroApiError as exc:
                if exc.status == 404:
                    return []
                raise
            return body.get(endpoint.envelope_key) or []

        count = len(ids)
    yield from ordered_lookahead(fetch, range(count), client.executor, client.max_concurrent_per_tenant)


def _save_position(stream: TargetedStream, context: Mapping[str, Any], position: int) -> None:
    state = stream.tenant_state(context)
    if state.get(POSITION_KEY) == position:
        return
    state[POSITION_KEY] = position
    stream.write_state_now()
