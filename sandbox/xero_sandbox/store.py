"""The sandbox's Store: Xero-shaped records, queries, mutations and reports for every tenant.

What works: every envelope key of ``tap_xero.endpoints.ENDPOINTS`` (29) and every report of
``REPORTS``; paging per ``Endpoint.paging`` (page+pageSize with the pagination object, fixed
100-record pages, Journals offset + paymentsOnly, the ManualJournals order quirk);
If-Modified-Since on the endpoint's timestamp field (inclusive, second precision);
includeArchived, includeDeleted, summaryOnly, IDs, Statuses, unitdp, where, order;
create/update/void/archive/touch with journals, reports, AmountDue and contact balances kept
consistent; webhook events to subscribers for Invoices, Contacts and CreditNotes; lock dates
(``lock_dates``/``set_lock_dates``): a mutation whose posting (before or after it) is dated on or
before the tenant's lock date raises ``lock_dates.LockedPeriod`` (a ``ValueError``), ``touch`` never.

The Store puts the parts together and holds the one re-entrant lock that serialises mutations and
reads (the server is multi-threaded): an ``organisation.Organisation`` per tenant (records built on
demand, nothing held as JSON), a ``TenantBook`` per tenant (the overlay of changes), the query
engine (``core/queries.py``), the mutation engine (``core/mutations.py``) and the reports
(``resources/reports.py``). How a collection behaves is its family's module (docs/sandbox-data.md).

The Assets and Projects APIs' collections (``api_records``, ``api_list``: ``core/other_apis.py``) are
read-only: no mutation reaches them. ``counts()`` is what the store holds, every collection of every tenant
(those under their ``Endpoint.collection_key``: ``Assets``, ``ProjectTasks``, ...); what the API serves (no
classic expenses where they are retired, no Journals below the Advanced tier) is the app's
``served_counts`` (``/_sandbox/counts``), with what ``derived_counts`` says beside them (the cash-basis journals).

Errors: an unknown tenant or collection raises ``KeyError``; a bad query or a mutation Xero
would refuse raises ``ValueError`` (the server answers 400 ValidationException); ``update``,
``void``, ``archive`` and ``touch`` of an unknown record raise ``LookupError`` (404).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from tap_xero.endpoints import CASH_JOURNALS_ENDPOINT, Endpoint
from xero_sandbox.core import lock_dates as locks
from xero_sandbox.core.generation import ms_date
from xero_sandbox.core.mutations import Mutations
from xero_sandbox.core.queries import Page, Query, list_page, present
from xero_sandbox.core.resource import endpoint_of
from xero_sandbox.core.tenant_book import TenantBook
from xero_sandbox.core.tenant_data import TenantData
from xero_sandbox.core import other_apis
from xero_sandbox.organisation import API_COLLECTIONS, RESOURCES, Organisation
from xero_sandbox.resources import journals, reports


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str
    tenant_type: str = "ORGANISATION"
    created: datetime = datetime(2023, 1, 1, tzinfo=timezone.utc)


class Store:
    """Deterministic organisations for ``tenants`` tenants, ``scale`` invoices each."""

    def __init__(self, seed: int = 1, scale: int = 1000, tenants: int = 2,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.seed = seed
        self.scale = scale
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._lock = threading.RLock()
        self._books: dict[str, TenantBook] = {}
        self.tenants: list[Tenant] = []
        for index in range(tenants):
            org = Organisation(seed, index, scale)
            self._books[org.tenant_id] = TenantBook(org, RESOURCES, self._today, journals.append_journal)
            self.tenants.append(Tenant(org.tenant_id, org.name, "ORGANISATION",
                                       datetime.fromtimestamp(org.created_ms / 1000, tz=timezone.utc)))
        self._mutations = Mutations(self._clock, self._lock, self._book, RESOURCES)

    # ------------------------------------------------------------ lookups
    def organisation(self, tenant_id: str) -> TenantData:
        """The tenant's generated data (the ``Organisation`` built for it); KeyError for an unknown tenant."""
        return self._book(tenant_id).org

    def _book(self, tenant_id: str) -> TenantBook:
        try:
            return self._books[tenant_id]
        except KeyError:
            raise KeyError(f"unknown tenant {tenant_id}") from None

    def _today(self) -> int:
        """The clock's date as an ordinal: the default date of documents created without one."""
        return self._clock().date().toordinal()

    def counts(self) -> dict[str, dict[str, int]]:
        """Records per tenant and envelope key: everything the store holds."""
        with self._lock:
            return {tenant_id: {**{key: book.count(key) for key in book.org.collections},
                                **{key: len(self.api_records(tenant_id, key)) for key in API_COLLECTIONS}}
                    for tenant_id, book in self._books.items()}

    def derived_counts(self) -> dict[str, dict[str, tuple[Endpoint, int]]]:
        """Per tenant, what a variant of an endpoint serves, named after the streams that read it, with the
        endpoint that serves it: the cash-basis journals (``Journals?paymentsOnly=true``) and their lines."""
        with self._lock:
            return {tenant_id: {key: (CASH_JOURNALS_ENDPOINT, n)
                                for key, n in journals.cash_journal_counts(book).items()}
                    for tenant_id, book in self._books.items()}

    # ------------------------------------------------------------ the Assets and Projects APIs
    def api_records(self, tenant_id: str, key: str) -> list[dict]:
        """Every record of an Assets or Projects collection (``Endpoint.collection_key``), built on first use."""
        with self._lock:
            org = self._book(tenant_id).org
            records = org.api_records.get(key)
            if records is None:
                records = org.api_records[key] = API_COLLECTIONS[key].build(org)
            return records

    def api_list(self, tenant_id: str, endpoint: Endpoint, parent_id: str | None, params: dict[str, str]):
        """The body of a list call of the Assets or Projects API (``core/other_apis.py``; raises its ApiError).
        ``params`` keys are lower-case; ``parent_id``: the project of a per-project path."""
        key = endpoint.collection_key
        with self._lock:
            records = self.api_records(tenant_id, key)
            parent = endpoint.parent
            if parent is not None:
                wanted = str(parent_id).lower()
                parents = self.api_records(tenant_id, parent.collection_key)
                if not any(str(r[parent.id_field]).lower() == wanted for r in parents):
                    raise other_apis.ApiError(404, f"{parent.record_schema} {parent_id} was not found")
                records = [r for r in records if str(r[endpoint.parent_key]).lower() == wanted]
            return other_apis.list_body(endpoint, API_COLLECTIONS[key], records, params)

    def get(self, tenant_id: str, envelope_key: str, record_id: str) -> dict | None:
        ep = endpoint_of(envelope_key)
        with self._lock:
            book = self._book(tenant_id)
            record = book.current(envelope_key, str(record_id))
            if record is None:
                return None
            return present(book, RESOURCES[envelope_key], ep, record, Query(), fresh=False)

    def list(self, tenant_id: str, envelope_key: str, query: Query) -> Page:
        ep = endpoint_of(envelope_key)
        with self._lock:
            return list_page(self._book(tenant_id), RESOURCES[envelope_key], ep, query)

    # ------------------------------------------------------------ reports
    def report(self, tenant_id: str, report_name: str, params: dict[str, str]) -> dict:
        with self._lock:
            org = self._book(tenant_id).org
            today = self._clock().date()
            return reports.build_report(org, report_name, params, today, ms_date(self._mutations.stamp_peek()))

    # ------------------------------------------------------------ lock dates
    def lock_dates(self, tenant_id: str) -> dict:
        """{"period_lock_date": date | None, "end_of_year_lock_date": date | None} of one tenant."""
        with self._lock:
            return locks.read(self._book(tenant_id).org.organisation)

    def set_lock_dates(self, tenant_id: str, period_lock_date=locks.KEEP,
                       end_of_year_lock_date=locks.KEEP) -> dict:
        """Set (date or YYYY-MM-DD) or clear (None) a tenant's lock dates; what GET Organisation serves.

        Nothing is stamped or journalled: Xero's Organisation has no UpdatedDateUTC to bump.
        """
        with self._lock:
            return locks.write(self._book(tenant_id).org.organisation, period_lock_date, end_of_year_lock_date)

    # ------------------------------------------------------------ mutations (core/mutations.py)
    def subscribe(self, callback: Callable[[dict], None]) -> Callable[[], None]:
        """Call ``callback`` with a webhook event for every change; returns the function that unsubscribes."""
        return self._mutations.subscribe(callback)

    def create(self, tenant_id: str, envelope_key: str, fields: dict) -> dict:
        return self._mutations.create(tenant_id, envelope_key, fields)

    def update(self, tenant_id: str, envelope_key: str, record_id: str, fields: dict) -> dict:
        return self._mutations.update(tenant_id, envelope_key, record_id, fields)

    def void(self, tenant_id: str, envelope_key: str, record_id: str) -> dict:
        return self._mutations.void(tenant_id, envelope_key, record_id)

    def archive(self, tenant_id: str, envelope_key: str, record_id: str) -> dict:
        return self._mutations.archive(tenant_id, envelope_key, record_id)

    def touch(self, tenant_id: str, envelope_key: str, record_id: str) -> dict:
        return self._mutations.touch(tenant_id, envelope_key, record_id)

