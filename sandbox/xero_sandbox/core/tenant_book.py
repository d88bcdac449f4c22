"""One tenant's books as served: the generated data plus everything mutations changed since.

``TenantBook`` is what the query engine reads and what mutation rules act on:

- the overlay: per collection, changed and created records in mutation order (a changed record
  leaves its generated position, recorded in ``replaced``, and moves to the end), the stamp
  each one is ordered by, and how many were ``created``; ``current(key, record_id)`` is a
  record as it is now (the overlay's own dict, not a copy);
- ``journals``: journals appended by mutations, after the generated ones;
- ``save`` stores a changed record: it bumps ``UpdatedDateUTC`` (or sets ``CreatedDateUTC`` on
  create) to the mutation's stamp and runs the resource's ``after_save`` rule;
- ``post_changes`` journals what a change does to the ledger: the posting before is reversed and
  the posting after is posted, as new journals (``write_journal``, given by the store: the
  Journals resource writes them), unless either is dated in a locked period
  (``lock_dates.LockedPeriod``, raised before anything is written); ``refuse_locked`` checks
  records without changing anything;
- ``event`` queues the webhook event of a change to a collection Xero sends webhooks for
  (``Endpoint.webhook_category``: Invoices, Contacts, CreditNotes): ``{"resourceUrl":
  "https://api.xero.com/api.xro/2.0/Invoices/<id>", "resourceId", "eventDateUtc":
  "2026-06-01T12:00:00.000", "eventType": "CREATE"|"UPDATE", "eventCategory", "tenantId",
  "tenantType"}``; the store hands the events to its subscribers once the change is complete
  (``webhooks.WebhookSender`` is one).

Which records post, and how, is each resource's ``posted_statuses`` and ``posting_of``.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping

from tap_xero import endpoints
from xero_sandbox.core import lock_dates
from xero_sandbox.core.generation import day_of_ms_date, iso_ms, ms_date, parse_ms_date
from xero_sandbox.core.ledger import reversed_postings
from xero_sandbox.core.resource import Resource
from xero_sandbox.core.tenant_data import TenantData

# (book, stamp, day, source id, source type, reference, postings) -> None
JournalWriter = Callable[..., None]
WEBHOOK_CATEGORY = {e.envelope_key: e.webhook_category for e in endpoints.ENDPOINTS if e.webhook_category}


class TenantBook:
    """The overlay of one tenant: records changed or created since generation, and their journals."""

    def __init__(self, org: TenantData, resources: Mapping[str, Resource], today: Callable[[], int],
                 write_journal: JournalWriter) -> None:
        self.org = org
        self.resources = resources
        self.today = today  # the clock's date as an ordinal: the default date of new documents
        self._write_journal = write_journal
        self.overlay: dict[str, dict[str, dict]] = {key: {} for key in org.collections}  # insertion = mutation order
        self.overlay_ms: dict[str, dict[str, int | None]] = {key: {} for key in org.collections}
        self.replaced: dict[str, list[int]] = {key: [] for key in org.collections}  # sorted base indices
        self.created: dict[str, int] = {key: 0 for key in org.collections}
        self.journals: list[dict] = []

    def current(self, key: str, record_id: str) -> dict | None:
        """The record as it is now (overlay first); the overlay's own dict, not a copy."""
        resource = self.resources[key]
        if resource.current is not None:
            return resource.current(self, record_id)
        overlay = self.overlay[key]
        for candidate in (record_id, record_id.lower()):
            if candidate in overlay:
                return overlay[candidate]
        coll = self.org.collections[key]
        index = coll.index_of(record_id)
        if index is None or index >= coll.count:
            return None
        return coll.record(index)

    def count(self, key: str) -> int:
        resource = self.resources[key]
        if resource.count is not None:
            return resource.count(self)
        return self.org.collections[key].count + self.created[key]

    def save(self, key: str, record_id: str, record: dict, stamp: int, before: dict | None) -> None:
        """Store ``record`` (changed from ``before``; None: created) as of ``stamp``."""
        ep = endpoints.BY_ENVELOPE[key]
        if ep.timestamp_field == "UpdatedDateUTC":
            record["UpdatedDateUTC"] = ms_date(stamp)
            if "UpdatedDateUTCString" in record:
                record["UpdatedDateUTCString"] = iso_ms(stamp)
        elif ep.timestamp_field == "CreatedDateUTC" and before is None:
            record["CreatedDateUTC"] = ms_date(stamp)
        overlay = self.overlay[key]
        existing = record_id if record_id in overlay else None
        if existing is not None:
            del overlay[existing]  # re-inserting moves it to the end: the newest mutation
            self.overlay_ms[key].pop(existing, None)
        else:
            coll = self.org.collections[key]
            index = coll.index_of(record_id)
            if index is not None and index < coll.count:
                bisect.insort(self.replaced[key], index)
        overlay[record_id] = record
        moved = ep.timestamp_field == "UpdatedDateUTC" or before is None
        self.overlay_ms[key][record_id] = stamp if moved else _stamp_of(record, ep.timestamp_field)
        after_save = self.resources[key].after_save
        if after_save is not None:
            after_save(self, before, record)

    def posting_of(self, key: str, record: dict | None):
        """(day, source type, postings) of a record as the ledger sees it, or None if not posted."""
        resource = self.resources[key]
        statuses, posting_of = resource.posted_statuses, resource.posting_of  # both set, or neither
        if record is None or statuses is None or posting_of is None or record.get("Status") not in statuses:
            return None
        return posting_of(record, day_of_ms_date(record.get("Date"), self.today()))

    def post_changes(self, key: str, before: dict | None, after: dict, stamp: int) -> None:
        """Journal what changed in the ledger: reverse the old posting, post the new one."""
        old = self.posting_of(key, before)
        new = self.posting_of(key, after)
        if old == new:
            return
        lock_dates.refuse(self.org.organisation, [posting[0] for posting in (old, new) if posting is not None])
        source_id = str(after.get(endpoints.BY_ENVELOPE[key].id_field))
        reference = str(after.get("InvoiceNumber") or after.get("CreditNoteNumber") or after.get("Reference")
                        or after.get("Narration") or "")
        if old is not None:
            self._write_journal(self, stamp, old[0], source_id, old[1], reference, reversed_postings(old[2]))
        if new is not None:
            self._write_journal(self, stamp, new[0], source_id, new[1], reference, new[2])

    def refuse_locked(self, key: str, *records: dict) -> None:
        """``LockedPeriod`` if any of ``records`` posts on or before the tenant's lock date."""
        postings = (self.posting_of(key, record) for record in records)
        lock_dates.refuse(self.org.organisation, [posting[0] for posting in postings if posting is not None])

    def event(self, key: str, record_id: str, event_type: str, stamp: int, events: list[dict]) -> None:
        """Queue the webhook event of a change to ``events`` (collections Xero sends webhooks for)."""
        category = WEBHOOK_CATEGORY.get(key)
        if category:
            events.append({
                "resourceUrl": f"https://api.xero.com/api.xro/2.0/{endpoints.BY_ENVELOPE[key].path}/{record_id}",
                "resourceId": record_id, "eventDateUtc": iso_ms(stamp), "eventType": event_type,
                "eventCategory": category, "tenantId": self.org.tenant_id, "tenantType": "ORGANISATION",
            })


def _stamp_of(record: dict, field_name: str | None) -> int | None:
    value = record.get(field_name) if field_name else None
    return parse_ms_date(value) if value else None
