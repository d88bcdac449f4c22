"""The mutation engine: create, update, void, archive and touch, for every collection.

``Mutations(clock, lock, book_of, resources)`` applies a change to a private copy of the record,
lets the resource's rules complete or refuse it (``Resource.complete``, ``check_update``, the
void and create hooks), journals what it changes in the ledger (``TenantBook.post_changes``),
stores it with a new stamp and queues its webhook events; subscribers get the events once the
store's lock is released. A change is all or nothing: every refusal is raised before anything
is stored.

- Stamps: the clock, but never before generated data (``GENERATED_MAX_MS`` + 1 s) nor before the
  previous mutation: stamps never decrease.
- Errors: an unknown collection or tenant raises ``KeyError``; what Xero would refuse raises
  ``ValueError`` (``lock_dates.LockedPeriod`` for a locked period); ``update``, ``void``,
  ``archive`` and ``touch`` of an unknown record raise ``LookupError``.
- ``create`` refuses read-only collections; a collection keyed by ``Code`` or ``TaxType`` takes
  the key from the fields, every other record gets the next generated-style ID. ``update`` keeps
  the ID and the amounts Xero computes; a voided or deleted posting document cannot be edited.
  ``void`` sets the resource's ``void_statuses`` (a posted record takes the first, a draft the
  second). ``archive`` sets its ``archive_field``. ``touch`` only bumps ``UpdatedDateUTC`` and is
  never refused by a lock date.
- A record that posts on or before the lock date cannot change at all: checked before the change
  runs. A change that would post into a locked period is refused by ``post_changes``.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime

from tap_xero import endpoints
from xero_sandbox.core.generation import GENERATED_MAX_MS, datetime_to_ms
from xero_sandbox.core.queries import Query, present
from xero_sandbox.core.resource import Resource, endpoint_of
from xero_sandbox.core.tenant_book import TenantBook

LOGGER = logging.getLogger(__name__)
PROTECTED_FIELDS = ("AmountPaid", "AmountDue", "AmountCredited", "Payments")  # Xero computes them
# What a void counts as posted in a collection that never posts (None posted_statuses).
_POSTED_FOR_VOID = frozenset({"AUTHORISED", "POSTED", "SUBMITTED", "BILLED"})


class Mutations:
    """Changes to one store's tenant books, serialised by the store's lock."""

    def __init__(self, clock: Callable[[], datetime], lock: threading.RLock,
                 book_of: Callable[[str], TenantBook], resources: Mapping[str, Resource]) -> None:
        self._clock = clock
        self._lock = lock
        self._book_of = book_of
        self._resources = resources
        self._subscribers: list[Callable[[dict], None]] = []
        self._last_stamp_ms = GENERATED_MAX_MS

    # ------------------------------------------------------------ stamps and subscribers
    def subscribe(self, callback: Callable[[dict], None]) -> Callable[[], None]:
        """Call ``callback`` with a webhook event for every change; returns the function that unsubscribes."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def stamp_peek(self) -> int:
        """What the next stamp would be at least (a report's UpdatedDateUTC)."""
        return max(datetime_to_ms(self._clock()), self._last_stamp_ms)

    def _next_stamp(self) -> int:
        ms = max(datetime_to_ms(self._clock()), GENERATED_MAX_MS + 1000, self._last_stamp_ms)
        self._last_stamp_ms = ms
        return ms

    def _notify(self, events: list[dict]) -> None:
        # Outside the lock: a subscriber may call back into the store. A failing subscriber
        # (a webhook receiver that is down, say) must not undo or fail the mutation itself.
        for event in events:
            for callback in list(self._subscribers):
                try:
                    callback(dict(event))
                except Exception:
                    LOGGER.exception("webhook subscriber failed for %s %s", event["eventCategory"],
                                     event["resourceId"])

    # ------------------------------------------------------------ the five mutations
    def create(self, tenant_id: str, envelope_key: str, fields: dict) -> dict:
        ep = endpoint_of(envelope_key)
        resource = self._resources[envelope_key]
        if resource.read_only:
            raise ValueError(f"{envelope_key} cannot be created")
        events: list[dict] = []
        with self._lock:
            book = self._book_of(tenant_id)
            coll = book.org.collections[envelope_key]
            record = copy.deepcopy(fields)
            stamp = self._next_stamp()
            if ep.id_field in ("Code", "TaxType"):
                record_id = str(record.get(ep.id_field) or "")
                if not record_id:
                    raise ValueError(f"{ep.id_field} is required")
                if book.current(envelope_key, record_id) is not None:
                    raise ValueError(f"{envelope_key} {record_id} already exists")
            else:
                record_id = coll.id_of(coll.count + book.created[envelope_key])
                record[ep.id_field] = record_id
            book.created[envelope_key] += 1
            if resource.complete is not None:
                resource.complete(book, record, True)
            book.refuse_locked(envelope_key, record)
            if resource.on_create is not None:
                resource.on_create(book, record, stamp, events)
            book.post_changes(envelope_key, None, record, stamp)
            book.save(envelope_key, record_id, record, stamp, None)
            book.event(envelope_key, record_id, "CREATE", stamp, events)
            result = present(book, resource, ep, record, Query(unitdp=4), fresh=False)
        self._notify(events)
        return result

    def update(self, tenant_id: str, envelope_key: str, record_id: str, fields: dict) -> dict:
        def change(book: TenantBook, resource: Resource, record: dict, stamp: int, events: list) -> None:
            protected = {endpoints.BY_ENVELOPE[envelope_key].id_field, *PROTECTED_FIELDS}
            status = record.get("Status")
            if resource.posted_statuses is not None and status in ("VOIDED", "DELETED"):
                raise ValueError(f"A {status.lower()} document cannot be edited")
            if resource.check_update is not None:
                resource.check_update(record, fields)
            for name, value in fields.items():
                if name not in protected:
                    record[name] = copy.deepcopy(value)
            if resource.complete is not None:
                resource.complete(book, record, False)
        return self._mutate(tenant_id, envelope_key, record_id, change)

    def void(self, tenant_id: str, envelope_key: str, record_id: str) -> dict:
        resource = self._resources.get(envelope_key)
        if resource is None or resource.void_statuses is None:
            raise ValueError(f"{envelope_key} cannot be voided")
        posted_status, draft_status = resource.void_statuses

        def change(book: TenantBook, resource: Resource, record: dict, stamp: int, events: list) -> None:
            status = record.get("Status")
            if status in ("VOIDED", "DELETED"):
                raise ValueError(f"{envelope_key[:-1]} is already {status}")
            if resource.before_void is not None:
                resource.before_void(book, record, stamp, events)
            posted = status in (resource.posted_statuses or _POSTED_FOR_VOID)
            record["Status"] = posted_status if posted or resource.posted_statuses is None else draft_status
            if resource.after_void is not None:
                resource.after_void(book, record, stamp, events)
        return self._mutate(tenant_id, envelope_key, record_id, change)

    def archive(self, tenant_id: str, envelope_key: str, record_id: str) -> dict:
        resource = self._resources.get(envelope_key)
        if resource is None or resource.archive_field is None:
            raise ValueError(f"{envelope_key} cannot be archived")

        def change(book: TenantBook, resource: Resource, record: dict, stamp: int, events: list) -> None:
            record[resource.archive_field] = "ARCHIVED"
        return self._mutate(tenant_id, envelope_key, record_id, change)

    def touch(self, tenant_id: str, envelope_key: str, record_id: str) -> dict:
        ep = endpoint_of(envelope_key)
        if ep.timestamp_field != "UpdatedDateUTC":
            raise ValueError(f"{envelope_key} has no UpdatedDateUTC to bump")
        return self._mutate(tenant_id, envelope_key, record_id, lambda *change: None, locked_ok=True)

    def _mutate(self, tenant_id: str, envelope_key: str, record_id: str, change, locked_ok: bool = False) -> dict:
        """Apply ``change`` to a copy of the record, journal what it changes in the ledger, store it.

        A record that posts on or before the lock date cannot change at all (``LockedPeriod``),
        checked before ``change`` runs so nothing is half done; ``touch`` (``locked_ok``) only bumps
        UpdatedDateUTC and is never refused. A change that would post into a locked period is
        refused by ``post_changes``.
        """
        ep = endpoint_of(envelope_key)
        resource = self._resources[envelope_key]
        if resource.read_only:
            raise ValueError(f"{envelope_key} cannot be changed")
        events: list[dict] = []
        with self._lock:
            book = self._book_of(tenant_id)
            current = book.current(envelope_key, str(record_id))
            if current is None:
                raise LookupError(f"{envelope_key} {record_id} not found")
            if not locked_ok:
                book.refuse_locked(envelope_key, current)
            before = copy.deepcopy(current)
            record = copy.deepcopy(current)
            stamp = self._next_stamp()
            change(book, resource, record, stamp, events)
            book.post_changes(envelope_key, before, record, stamp)
            canonical_id = str(record.get(ep.id_field))
            book.save(envelope_key, canonical_id, record, stamp, before)
            book.event(envelope_key, canonical_id, "UPDATE", stamp, events)
            result = present(book, resource, ep, record, Query(unitdp=4), fresh=False)
        self._notify(events)
        return result

