"""What a resource family declares about one of its collections.

The query engine (``queries.py``) and the mutation engine (``mutations.py``, ``tenant_book.py``)
know no collection by name: every way a collection differs from the plain case is a field of its
``Resource``, set by the family module that owns it (``xero_sandbox/resources/``), and
``xero_sandbox/organisation.py`` lists them all. Unset hooks mean "nothing special".

Hooks receive the tenant's ``TenantBook`` (``book``: the generated data plus the overlay of
changes) and plain Xero-shaped dicts:

- ``collection(org)``: the generated records, a ``tenant_data.Collection``;
- reads: ``status_field`` (what ``Statuses`` and hiding read), ``hidden_status`` (hidden unless
  the query's ``shown_by`` flag is set: ARCHIVED contacts, DELETED bank transfers),
  ``list_filters`` (list parameters besides IDs: lower-case name -> field path),
  ``summary_drops`` (fields ``summaryOnly`` leaves out), ``present(book, record, query)``
  (computed fields added to a served record, in place);
- a collection the overlay does not hold (Journals: mutations append to it, nobody edits it)
  gives its own ``current(book, record_id)``, ``list_page(book, query)`` and ``count(book)``;
- mutations: ``read_only`` (no create and no change), ``void_statuses`` (the status a posted
  record and a draft take; None: cannot be voided), ``archive_field`` (None: cannot be archived),
  ``posted_statuses`` (the statuses in which the record posts to the ledger; None: it never
  does), ``posting_of(record, day)`` ((day, source type, postings) of a posted record),
  ``complete(book, record, creating)`` (what Xero fills or refuses on create and update),
  ``check_update(record, fields)`` (refusals of an update), ``on_create``,
  ``before_void``, ``after_void`` ``(book, record, stamp, events)`` (knock-on changes to other
  records, which append their webhook events to ``events``), and ``after_save(book, before,
  after)`` (what follows a stored change without being a change itself: contact balances).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tap_xero import endpoints

Hook = Callable[..., Any]


def endpoint_of(envelope_key: str) -> endpoints.Endpoint:
    """The endpoint serving ``envelope_key``; ``KeyError`` "unknown collection" otherwise."""
    try:
        return endpoints.BY_ENVELOPE[envelope_key]
    except KeyError:
        raise KeyError(f"unknown collection {envelope_key}") from None


@dataclass(frozen=True)
class Resource:
    """One collection's generation and rules, as its family declares them."""

    key: str  # the envelope key (tap_xero.endpoints.Endpoint.envelope_key)
    collection: Callable[[Any], Any]  # TenantData -> Collection
    # Reads.
    status_field: str = "Status"
    hidden_status: str | None = None
    shown_by: str | None = None  # the Query flag that shows ``hidden_status``
    list_filters: Mapping[str, str] = field(default_factory=dict)
    summary_drops: tuple[str, ...] = ()
    present: Hook | None = None
    # A collection outside the overlay.
    current: Hook | None = None
    list_page: Hook | None = None
    count: Hook | None = None
    # Mutations.
    read_only: bool = False
    void_statuses: tuple[str, str] | None = None
    archive_field: str | None = None
    posted_statuses: frozenset[str] | None = None
    posting_of: Hook | None = None
    complete: Hook | None = None
    check_update: Hook | None = None
    on_create: Hook | None = None
    before_void: Hook | None = None
    after_void: Hook | None = None
    after_save: Hook | None = None
