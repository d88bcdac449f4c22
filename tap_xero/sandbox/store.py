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

Records are generated lazily by ``data.Organisation`` (nothing is held as JSON). Mutated and
created records live in a per-tenant overlay; a mutated record leaves its generated position
and moves to the end, so the natural order of a collection stays its timestamp order.

Errors: an unknown tenant or collection raises ``KeyError``; a bad query or a mutation Xero
would refuse raises ``ValueError`` (the server answers 400 ValidationException); ``update``,
``void``, ``archive`` and ``touch`` of an unknown record raise ``LookupError`` (404).
"""

from __future__ import annotations

import bisect
import copy
import logging
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable

from tap_xero import endpoints
from tap_xero.endpoints import Paging
from tap_xero.sandbox import data_records, lock_dates as locks, reports, where as where_module
from tap_xero.sandbox.data import (
    ACCOUNT_CLASS, AP_CODE, AR_CODE, PAYMENT_SOURCE_TYPES, CENT, COLLECTION_CODES, DAY_MS, GENERATED_MAX_MS, TAX_BP, UNIX_EPOCH_ORDINAL, Organisation,
    Posting, datetime_to_ms, day_date, day_string, document_postings, mix, money, ms_date, parse_ms_date,
    reversed_postings, uuid_of,
)


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str
    tenant_type: str = "ORGANISATION"
    created: datetime = datetime(2023, 1, 1, tzinfo=timezone.utc)


@dataclass
class Query:
    """One list request, parsed by the server."""

    modified_since: datetime | None = None  # If-Modified-Since (UTC, second precision)
    page: int | None = None
    page_size: int | None = None  # already defaulted/clamped by the server (max 1000)
    offset: int | None = None  # Journals: return JournalNumber > offset, 100 at most
    where: str | None = None
    order: str | None = None
    ids: list[str] | None = None
    statuses: list[str] | None = None
    include_archived: bool = False
    summary_only: bool = False
    unitdp: int | None = None  # 4 -> unit amounts with 4 decimals; else 2
    include_deleted: bool = False
    payments_only: bool = False
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Page:
    records: list[dict]
    pagination: dict | None = None  # {"page","pageSize","pageCount","itemCount"} for page+pageSize endpoints


# What void means per collection: the status a posted record takes, and the one a draft takes.
VOID_STATUS = {
    "Invoices": ("VOIDED", "DELETED"), "CreditNotes": ("VOIDED", "DELETED"),
    "BankTransactions": ("DELETED", "DELETED"), "Payments": ("DELETED", "DELETED"),
    "ManualJournals": ("VOIDED", "DELETED"), "PurchaseOrders": ("DELETED", "DELETED"),
    "Quotes": ("DELETED", "DELETED"), "BankTransfers": ("DELETED", "DELETED"),
    "BatchPayments": ("DELETED", "DELETED"), "RepeatingInvoices": ("DELETED", "DELETED"),
}
ARCHIVE_FIELD = {"Contacts": "ContactStatus", "Accounts": "Status", "TrackingCategories": "Status",
                 "ManualJournals": "Status", "TaxRates": "Status"}
STATUS_FIELD = {"Contacts": "ContactStatus"}
POSTED = {"Invoices": {"AUTHORISED", "PAID"}, "CreditNotes": {"AUTHORISED", "PAID"},
          "BankTransactions": {"AUTHORISED"}, "ManualJournals": {"POSTED"}, "Payments": {"AUTHORISED"}}
SUMMARY_DROPS = {
    "Invoices": ("LineItems", "Payments", "CreditNotes", "Prepayments", "Overpayments"),
    "Contacts": ("Addresses", "Phones", "ContactPersons", "ContactGroups", "PaymentTerms", "BatchPayments",
                 "Balances"),
}
LINE_ITEM_KEYS = ("LineItems",)
UNIT_PRICE_PARENTS = ("SalesDetails", "PurchaseDetails")
NO_CREATE = {"Organisations", "InvoiceReminders", "Journals"}
# Comma-separated list parameters some endpoints accept besides IDs (case-insensitive name -> field).
EXTRA_LIST_FILTERS = {
    "Invoices": {"contactids": "Contact.ContactID", "invoicenumbers": "InvoiceNumber"},
    "CreditNotes": {"contactids": "Contact.ContactID"},
    "PurchaseOrders": {"contactids": "Contact.ContactID"},
    "Quotes": {"contactid": "Contact.ContactID", "quotenumber": "QuoteNumber"},
    "LinkedTransactions": {"contactid": "ContactID", "sourcetransactionid": "SourceTransactionID",
                           "targettransactionid": "TargetTransactionID", "status": "Status"},
}
LOGGER = logging.getLogger(__name__)
WEBHOOK_CATEGORY = {e.envelope_key: e.webhook_category for e in endpoints.ENDPOINTS if e.webhook_category}


class _TenantState:
    """The overlay of one tenant: records changed or created since generation."""

    def __init__(self, org: Organisation) -> None:
        self.org = org
        self.overlay: dict[str, dict[str, dict]] = {key: {} for key in org.collections}  # insertion = mutation order
        self.overlay_ms: dict[str, dict[str, int | None]] = {key: {} for key in org.collections}
        self.replaced: dict[str, list[int]] = {key: [] for key in org.collections}  # sorted base indices
        self.created: dict[str, int] = {key: 0 for key in org.collections}
        self.journals: list[dict] = []
        self.extra_balances: dict[str, list[int]] = {}  # created contacts: [receivable, payable]


class _BaseRun:
    """Base indices [start, count) without the replaced ones, as a sequence (no list is built)."""

    def __init__(self, start: int, count: int, replaced: list[int]) -> None:
        self.start = start
        self.count = max(start, count)
        self.skips = replaced[bisect.bisect_left(replaced, start):]

    def __len__(self) -> int:
        return self.count - self.start - len(self.skips)

    def __getitem__(self, position: int) -> int:
        # The smallest index with ``position`` kept indices before it: a fixed point over the skips.
        index = self.start + position
        while True:
            moved = self.start + position + bisect.bisect_right(self.skips, index)
            if moved == index:
                return index
            index = moved

    def slice(self, start: int, stop: int) -> list[int]:
        stop = min(stop, len(self))
        if start >= stop:
            return []
        skipped = set(self.skips)
        out, index = [], self[start]
        while len(out) < stop - start:
            if index not in skipped:
                out.append(index)
            index += 1
        return out


class _Chain:
    """A sequence over a base run then a list of overlay records; optionally reversed."""

    def __init__(self, base, tail: list, reverse: bool = False) -> None:
        self.base, self.tail, self.reverse = base, tail, reverse

    def __len__(self) -> int:
        return len(self.base) + len(self.tail)

    def __getitem__(self, position: int):
        if self.reverse:
            position = len(self) - 1 - position
        n = len(self.base)
        return self.base[position] if position < n else self.tail[position - n]

    def slice(self, start: int, stop: int) -> list:
        start, stop = max(start, 0), min(stop, len(self))
        if start >= stop:
            return []
        if self.reverse:
            return [self[p] for p in range(start, stop)]
        n = len(self.base)
        head = (self.base.slice(start, min(stop, n)) if isinstance(self.base, _BaseRun)
                else list(self.base[start:min(stop, n)])) if start < n else []
        return head + self.tail[max(start - n, 0):max(stop - n, 0)]


def _round_units(record: dict, keep_four: bool) -> None:
    if keep_four:
        return
    for key in LINE_ITEM_KEYS:
        for line in record.get(key) or ():
            if isinstance(line.get("UnitAmount"), Decimal):
                line["UnitAmount"] = line["UnitAmount"].quantize(CENT, rounding=ROUND_HALF_UP)
    for key in UNIT_PRICE_PARENTS:
        details = record.get(key)
        if isinstance(details, dict) and isinstance(details.get("UnitPrice"), Decimal):
            details["UnitPrice"] = details["UnitPrice"].quantize(CENT, rounding=ROUND_HALF_UP)


def _dec(value, default: str = "0") -> Decimal:
    if value is None or value == "":
        return Decimal(default)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _cents(value) -> int:
    return int((_dec(value) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _day_of_msdate(value: str | None, fallback: int) -> int:
    if not value:
        return fallback
    return UNIX_EPOCH_ORDINAL + parse_ms_date(value) // DAY_MS


def _as_msdate(value, fallback_day: int) -> str:
    """Accept /Date()/, ISO dates or datetimes for a date field; return the /Date()/ form."""
    if value is None or value == "":
        return day_date(fallback_day)
    if isinstance(value, datetime):
        return ms_date(datetime_to_ms(value))
    if isinstance(value, date):
        return day_date(value.toordinal())
    text = str(value)
    if text.startswith("/Date("):
        return text
    try:
        return day_date(date.fromisoformat(text[:10]).toordinal())
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a valid date") from exc


class Store:
    """Deterministic organisations for ``tenants`` tenants, ``scale`` invoices each."""

    def __init__(self, seed: int = 1, scale: int = 1000, tenants: int = 2,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.seed = seed
        self.scale = scale
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._lock = threading.RLock()
        self._subscribers: list[Callable[[dict], None]] = []
        self._last_stamp_ms = GENERATED_MAX_MS
        self._states: dict[str, _TenantState] = {}
        self.tenants: list[Tenant] = []
        for index in range(tenants):
            org = Organisation(seed, index, scale)
            self._states[org.tenant_id] = _TenantState(org)
            self.tenants.append(Tenant(org.tenant_id, org.name, "ORGANISATION",
                                       datetime.fromtimestamp(org.created_ms / 1000, tz=timezone.utc)))

    # ------------------------------------------------------------ lookups
    def organisation(self, tenant_id: str) -> Organisation:
        return self._state(tenant_id).org

    def _state(self, tenant_id: str) -> _TenantState:
        try:
            return self._states[tenant_id]
        except KeyError:
            raise KeyError(f"unknown tenant {tenant_id}") from None

    @staticmethod
    def _endpoint(envelope_key: str) -> endpoints.Endpoint:
        try:
            return endpoints.BY_ENVELOPE[envelope_key]
        except KeyError:
            raise KeyError(f"unknown collection {envelope_key}") from None

    def counts(self) -> dict[str, dict[str, int]]:
        with self._lock:
            out = {}
            for tenant_id, st in self._states.items():
                out[tenant_id] = {
                    key: coll.count + st.created[key] + (len(st.journals) if key == "Journals" else 0)
                    for key, coll in st.org.collections.items()
                }
            return out

    def get(self, tenant_id: str, envelope_key: str, record_id: str) -> dict | None:
        self._endpoint(envelope_key)
        with self._lock:
            st = self._state(tenant_id)
            record = self._current(st, envelope_key, str(record_id))
            if record is None:
                return None
            return self._present(st, envelope_key, record, Query(), fresh=False)

    def _current(self, st: _TenantState, key: str, record_id: str) -> dict | None:
        """The record as it is now (overlay first); the overlay's own dict, not a copy."""
        coll = st.org.collections[key]
        if key == "Journals":
            index = coll.index_of(record_id)
            if index is None:
                return None
            if index < coll.count:
                return coll.record(index)
            extra = index - coll.count
            return st.journals[extra] if extra < len(st.journals) else None
        overlay = st.overlay[key]
        for candidate in (record_id, record_id.lower()):
            if candidate in overlay:
                return overlay[candidate]
        index = coll.index_of(record_id)
        if index is None or index >= coll.count:
            return None
        return coll.record(index)

    # ------------------------------------------------------------ list
    def list(self, tenant_id: str, envelope_key: str, query: Query) -> Page:
        ep = self._endpoint(envelope_key)
        with self._lock:
            st = self._state(tenant_id)
            if ep.paging is Paging.OFFSET:
                return self._journals(st, query)
            items = self._select(st, ep, query)
            return self._page(st, ep, items, query)

    def _select(self, st: _TenantState, ep: endpoints.Endpoint, query: Query):
        key = ep.envelope_key
        coll = st.org.collections[key]
        since_ms = None
        if query.modified_since is not None and ep.if_modified_since and ep.timestamp_field:
            since_ms = datetime_to_ms(query.modified_since.replace(microsecond=0))
        start = coll.first_at_or_after(since_ms) if since_ms is not None else 0
        tail = [rec for rid, rec in st.overlay[key].items()
                if since_ms is None or (st.overlay_ms[key].get(rid) or 0) >= since_ms]

        status_field = STATUS_FIELD.get(key, "Status")
        hide_archived = key in ("Contacts", "TrackingCategories") and not query.include_archived
        hide_deleted = key == "BankTransfers" and not query.include_deleted
        statuses = {s.strip().upper() for s in query.statuses} if query.statuses and ep.statuses_filter else None
        wanted_ids = None
        if query.ids and ep.ids_filter:
            wanted_ids = {str(i).strip().lower() for i in query.ids if str(i).strip()}
        predicate = where_module.compile_where(query.where) if query.where else None
        for param, value in (query.extra or {}).items():
            path = EXTRA_LIST_FILTERS.get(key, {}).get(param.lower())
            if path and value:
                predicate = _and(predicate, _member_of(path, value))
        cheap_status = coll.status_of

        def status_ok(status: str | None) -> bool:
            if hide_archived and status == "ARCHIVED":
                return False
            if hide_deleted and status == "DELETED":
                return False
            return statuses is None or status in statuses

        filtered = hide_archived or hide_deleted or statuses is not None or predicate is not None \
            or wanted_ids is not None
        if not filtered:
            base = _BaseRun(start, coll.count, st.replaced[key])
        else:
            if wanted_ids is not None:
                candidates = sorted(i for i in (coll.index_of(x) for x in wanted_ids)
                                    if i is not None and start <= i < coll.count)
                replaced = set(st.replaced[key])
                candidates = [i for i in candidates if i not in replaced]
            else:
                skips = set(st.replaced[key])
                candidates = (i for i in range(start, coll.count) if i not in skips)
            base = []
            for i in candidates:
                if cheap_status is not None and not status_ok(cheap_status(i)):
                    continue
                if predicate is not None or cheap_status is None:
                    record = coll.record(i)
                    if cheap_status is None and not status_ok(record.get(status_field)):
                        continue
                    if predicate is not None and not predicate(record):
                        continue
                base.append(i)
            tail = [rec for rec in tail
                    if status_ok(rec.get(status_field))
                    and (wanted_ids is None or str(rec.get(ep.id_field, "")).lower() in wanted_ids)
                    and (predicate is None or predicate(rec))]
        return self._ordered(st, ep, base, tail, query.order)

    def _ordered(self, st: _TenantState, ep: endpoints.Endpoint, base, tail: list, order: str | None):
        if not order or not ep.order:
            return _Chain(base, tail)
        terms = []
        for term in order.split(","):
            parts = term.strip().split()
            if not parts:
                continue
            direction = parts[1].upper() if len(parts) > 1 else "ASC"
            if direction not in ("ASC", "DESC") or len(parts) > 2:
                raise ValueError(f"The order '{order}' is not valid")
            terms.append((parts[0], direction == "DESC"))
        if not terms:
            return _Chain(base, tail)
        if len(terms) == 1 and terms[0][0] == ep.timestamp_field:
            return _Chain(base, tail, reverse=terms[0][1])
        coll = st.org.collections[ep.envelope_key]
        records = [coll.record(i) for i in (base[p] for p in range(len(base)))] + tail
        for field_path, descending in reversed(terms):
            records.sort(key=lambda r: _sort_key(where_module.resolve(r, field_path)), reverse=descending)
        return _Chain([], records)

    def _page(self, st: _TenantState, ep: endpoints.Endpoint, items: _Chain, query: Query) -> Page:
        total = len(items)
        pagination = None
        if ep.paging is Paging.PAGE_SIZE:
            page = max(1, query.page or 1)
            size = max(1, min(query.page_size or 100, endpoints.MAX_PAGE_SIZE))
            pagination = {"page": page, "pageSize": size, "pageCount": -(-total // size), "itemCount": total}
            if ep.order_breaks_paging and query.order:
                chosen = items.slice(0, total)  # Xero's quirk: every page returns everything
            else:
                chosen = items.slice((page - 1) * size, page * size)
        elif ep.paging is Paging.PAGE:
            page = max(1, query.page or 1)
            size = endpoints.FIXED_PAGE_SIZE
            chosen = items.slice((page - 1) * size, page * size)
        else:
            chosen = items.slice(0, total)
        coll = st.org.collections[ep.envelope_key]
        records = []
        for item in chosen:
            if isinstance(item, int):
                records.append(self._present(st, ep.envelope_key, coll.record(item), query, fresh=True))
            else:
                records.append(self._present(st, ep.envelope_key, item, query, fresh=False))
        return Page(records, pagination)

    def _present(self, st: _TenantState, key: str, record: dict, query: Query, fresh: bool) -> dict:
        """The record as served: a private copy with unitdp, summaryOnly and computed fields applied."""
        ep = endpoints.BY_ENVELOPE[key]
        record = record if fresh else copy.deepcopy(record)
        _round_units(record, keep_four=bool(ep.unitdp and query.unitdp == 4))
        if key == "Contacts" and not query.summary_only:
            record["Balances"] = self._balances(st, record.get("ContactID", ""))
        if key == "TrackingCategories" and not query.include_archived:
            record["Options"] = [o for o in record.get("Options", []) if o.get("Status") != "ARCHIVED"]
        if query.summary_only and ep.summary_only:
            for drop in SUMMARY_DROPS.get(key, ()):
                record.pop(drop, None)
        return record

    def _balances(self, st: _TenantState, contact_id: str) -> dict:
        org = st.org
        index = org.collections["Contacts"].index_of(contact_id)
        if index is not None and index < org.n_contacts:
            receivable, payable = org.contact_receivable[index], org.contact_payable[index]
        else:
            receivable, payable = st.extra_balances.get(contact_id.lower(), [0, 0])
        # Everything generated is dated before the anchor, so all that is outstanding is overdue.
        return {"AccountsReceivable": {"Outstanding": money(receivable), "Overdue": money(receivable)},
                "AccountsPayable": {"Outstanding": money(payable), "Overdue": money(payable)}}

    def _journals(self, st: _TenantState, query: Query) -> Page:
        org = st.org
        coll = org.collections["Journals"]
        offset = max(0, query.offset or 0)
        since_ms = datetime_to_ms(query.modified_since.replace(microsecond=0)) if query.modified_since else None
        start = max(offset, coll.first_at_or_after(since_ms) if since_ms is not None else 0)
        limit = endpoints.FIXED_PAGE_SIZE
        records: list[dict] = []
        n = start
        while n < coll.count and len(records) < limit:
            if not query.payments_only or data_records.journal_source_type(org, n) in PAYMENT_SOURCE_TYPES:
                records.append(coll.record(n))
            n += 1
        for journal in st.journals:
            if len(records) >= limit:
                break
            if journal["JournalNumber"] <= offset:
                continue
            if since_ms is not None and parse_ms_date(journal["CreatedDateUTC"]) < since_ms:
                continue
            if query.payments_only and journal["SourceType"] not in PAYMENT_SOURCE_TYPES:
                continue
            records.append(copy.deepcopy(journal))
        return Page(records, None)

    # ------------------------------------------------------------ reports
    def report(self, tenant_id: str, report_name: str, params: dict[str, str]) -> dict:
        with self._lock:
            st = self._state(tenant_id)
            today = self._clock().date()
            return reports.build_report(st.org, report_name, params, today, ms_date(self._stamp_peek()))

    # ------------------------------------------------------------ lock dates
    def lock_dates(self, tenant_id: str) -> dict:
        """{"period_lock_date": date | None, "end_of_year_lock_date": date | None} of one tenant."""
        with self._lock:
            return locks.read(self._state(tenant_id).org.organisation)

    def set_lock_dates(self, tenant_id: str, period_lock_date=locks.KEEP,
                       end_of_year_lock_date=locks.KEEP) -> dict:
        """Set (date or YYYY-MM-DD) or clear (None) a tenant's lock dates; what GET Organisation serves.

        Nothing is stamped or journalled: Xero's Organisation has no UpdatedDateUTC to bump.
        """
        with self._lock:
            return locks.write(self._state(tenant_id).org.organisation, period_lock_date,
                                    end_of_year_lock_date)

    def _refuse_locked(self, st: _TenantState, key: str, *records: dict) -> None:
        """``LockedPeriod`` if any of ``records`` posts on or before the tenant's lock date."""
        postings = (self._posting_of(st, key, record) for record in records)
        locks.refuse(st.org.organisation, [posting[0] for posting in postings if posting is not None])

    def _stamp_peek(self) -> int:
        return max(datetime_to_ms(self._clock()), self._last_stamp_ms)

    # ------------------------------------------------------------ mutations
    def subscribe(self, callback: Callable[[dict], None]) -> Callable[[], None]:
        """Call ``callback`` with a webhook event for every change; returns the function that unsubscribes."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def _today(self) -> int:
        """The clock's date as an ordinal: the default date of documents created without one."""
        return self._clock().date().toordinal()

    def _next_stamp(self) -> int:
        """Mutation time: the clock, but never before generated data nor before the last mutation."""
        ms = max(datetime_to_ms(self._clock()), GENERATED_MAX_MS + 1000, self._last_stamp_ms)
        self._last_stamp_ms = ms
        return ms

    def create(self, tenant_id: str, envelope_key: str, fields: dict) -> dict:
        ep = self._endpoint(envelope_key)
        if envelope_key in NO_CREATE:
            raise ValueError(f"{envelope_key} cannot be created")
        events: list[dict] = []
        with self._lock:
            st = self._state(tenant_id)
            coll = st.org.collections[envelope_key]
            record = copy.deepcopy(fields)
            stamp = self._next_stamp()
            if ep.id_field in ("Code", "TaxType"):
                record_id = str(record.get(ep.id_field) or "")
                if not record_id:
                    raise ValueError(f"{ep.id_field} is required")
                if self._current(st, envelope_key, record_id) is not None:
                    raise ValueError(f"{envelope_key} {record_id} already exists")
            else:
                record_id = coll.id_of(coll.count + st.created[envelope_key])
                record[ep.id_field] = record_id
            st.created[envelope_key] += 1
            self._complete(st, envelope_key, record, stamp)
            self._refuse_locked(st, envelope_key, record)
            if envelope_key == "Payments":
                self._apply_payment(st, record, stamp, events, sign=1)
            self._post_changes(st, envelope_key, None, record, stamp)
            self._store(st, envelope_key, record_id, record, stamp, None)
            self._event(st, envelope_key, record_id, "CREATE", stamp, events)
            result = self._present(st, envelope_key, record, Query(unitdp=4), fresh=False)
        self._notify(events)
        return result

    def update(self, tenant_id: str, envelope_key: str, record_id: str, fields: dict) -> dict:
        def change(st: _TenantState, record: dict, stamp: int, events: list) -> None:
            ep = endpoints.BY_ENVELOPE[envelope_key]
            protected = {ep.id_field, "AmountPaid", "AmountDue", "AmountCredited", "Payments"}
            if envelope_key in POSTED and record.get("Status") in ("VOIDED", "DELETED"):
                raise ValueError(f"A {record.get('Status').lower()} document cannot be edited")
            if "LineItems" in fields and _cents(record.get("AmountPaid")) and envelope_key == "Invoices":
                raise ValueError("Invoice has payments: its line items cannot be changed")
            for name, value in fields.items():
                if name not in protected:
                    record[name] = copy.deepcopy(value)
            self._complete(st, envelope_key, record, stamp, creating=False)
        return self._mutate(tenant_id, envelope_key, record_id, change)

    def void(self, tenant_id: str, envelope_key: str, record_id: str) -> dict:
        if envelope_key not in VOID_STATUS:
            raise ValueError(f"{envelope_key} cannot be voided")

        def change(st: _TenantState, record: dict, stamp: int, events: list) -> None:
            posted_status, draft_status = VOID_STATUS[envelope_key]
            status = record.get("Status")
            if status in ("VOIDED", "DELETED"):
                raise ValueError(f"{envelope_key[:-1]} is already {status}")
            if envelope_key == "Invoices":
                self._release_settlements(st, record, stamp, events)
            if envelope_key == "CreditNotes" and (record.get("Allocations") or _cents(record.get("AppliedAmount"))):
                raise ValueError("Allocations must be removed before voiding a credit note")
            posted = status in POSTED.get(envelope_key, {"AUTHORISED", "POSTED", "SUBMITTED", "BILLED"})
            record["Status"] = posted_status if posted or envelope_key not in POSTED else draft_status
            if envelope_key == "Invoices":
                record["AmountDue"] = money(0)
            if envelope_key == "Payments":
                self._apply_payment(st, record, stamp, events, sign=-1)
        return self._mutate(tenant_id, envelope_key, record_id, change)

    def archive(self, tenant_id: str, envelope_key: str, record_id: str) -> dict:
        if envelope_key not in ARCHIVE_FIELD:
            raise ValueError(f"{envelope_key} cannot be archived")

        def change(st: _TenantState, record: dict, stamp: int, events: list) -> None:
            record[ARCHIVE_FIELD[envelope_key]] = "ARCHIVED"
        return self._mutate(tenant_id, envelope_key, record_id, change)

    def touch(self, tenant_id: str, envelope_key: str, record_id: str) -> dict:
        ep = self._endpoint(envelope_key)
        if ep.timestamp_field != "UpdatedDateUTC":
            raise ValueError(f"{envelope_key} has no UpdatedDateUTC to bump")
        return self._mutate(tenant_id, envelope_key, record_id, lambda st, record, stamp, events: None,
                            locked_ok=True)

    def _mutate(self, tenant_id: str, envelope_key: str, record_id: str, change, locked_ok: bool = False) -> dict:
        """Apply ``change`` to a copy of the record, journal what it changes in the ledger, store it.

        A record that posts on or before the lock date cannot change at all (``LockedPeriod``),
        checked before ``change`` runs so nothing is half done; ``touch`` (``locked_ok``) only bumps
        UpdatedDateUTC and is never refused. A change that would post into a locked period is
        refused by ``_post_changes``.
        """
        ep = self._endpoint(envelope_key)
        if envelope_key in NO_CREATE:
            raise ValueError(f"{envelope_key} cannot be changed")
        events: list[dict] = []
        with self._lock:
            st = self._state(tenant_id)
            current = self._current(st, envelope_key, str(record_id))
            if current is None:
                raise LookupError(f"{envelope_key} {record_id} not found")
            if not locked_ok:
                self._refuse_locked(st, envelope_key, current)
            before = copy.deepcopy(current)
            record = copy.deepcopy(current)
            stamp = self._next_stamp()
            change(st, record, stamp, events)
            self._post_changes(st, envelope_key, before, record, stamp)
            canonical_id = str(record.get(ep.id_field))
            self._store(st, envelope_key, canonical_id, record, stamp, before)
            self._event(st, envelope_key, canonical_id, "UPDATE", stamp, events)
            result = self._present(st, envelope_key, record, Query(unitdp=4), fresh=False)
        self._notify(events)
        return result

    def _store(self, st: _TenantState, key: str, record_id: str, record: dict, stamp: int,
               before: dict | None) -> None:
        ep = endpoints.BY_ENVELOPE[key]
        if ep.timestamp_field == "UpdatedDateUTC":
            record["UpdatedDateUTC"] = ms_date(stamp)
            if "UpdatedDateUTCString" in record:
                record["UpdatedDateUTCString"] = _iso(stamp)
        elif ep.timestamp_field == "CreatedDateUTC" and before is None:
            record["CreatedDateUTC"] = ms_date(stamp)
        overlay = st.overlay[key]
        existing = record_id if record_id in overlay else None
        if existing is not None:
            del overlay[existing]  # re-inserting moves it to the end: the newest mutation
            st.overlay_ms[key].pop(existing, None)
        else:
            index = st.org.collections[key].index_of(record_id)
            if index is not None and index < st.org.collections[key].count:
                bisect.insort(st.replaced[key], index)
        overlay[record_id] = record
        moved = ep.timestamp_field == "UpdatedDateUTC" or before is None
        st.overlay_ms[key][record_id] = stamp if moved else _ts_of(record, ep.timestamp_field)
        if key == "Invoices":
            self._track_balance(st, before, record)

    def _event(self, st: _TenantState, key: str, record_id: str, event_type: str, stamp: int,
               events: list[dict]) -> None:
        category = WEBHOOK_CATEGORY.get(key)
        if category:
            ep = endpoints.BY_ENVELOPE[key]
            events.append({
                "resourceUrl": f"https://api.xero.com/api.xro/2.0/{ep.path}/{record_id}",
                "resourceId": record_id, "eventDateUtc": _iso(stamp), "eventType": event_type,
                "eventCategory": category, "tenantId": st.org.tenant_id, "tenantType": "ORGANISATION",
            })

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

    # ------------------------------------------------------------ accounting consistency
    def _posting_of(self, st: _TenantState, key: str, record: dict | None):
        """(day, source type, postings) of a record as the ledger sees it, or None if not posted."""
        if record is None or key not in POSTED or record.get("Status") not in POSTED[key]:
            return None
        day = _day_of_msdate(record.get("Date"), self._today())
        if key == "ManualJournals":
            return day, "MANJOURNAL", [Posting(line.get("AccountCode"), _cents(line.get("LineAmount")))
                                        for line in record.get("JournalLines") or []]
        if key == "Payments":
            receivable = record.get("PaymentType", "ACCRECPAYMENT") == "ACCRECPAYMENT"
            bank = (record.get("Account") or {}).get("Code") or "090"
            amount = _cents(record.get("Amount"))
            sign = 1 if receivable else -1
            return day, record.get("PaymentType", "ACCRECPAYMENT"), [
                Posting(bank, sign * amount), Posting(AR_CODE if receivable else AP_CODE, -sign * amount)]
        lines = []
        inclusive = record.get("LineAmountTypes") == "Inclusive"
        for line in record.get("LineItems") or []:
            tax = _cents(line.get("TaxAmount"))
            net = _cents(line.get("LineAmount")) - (tax if inclusive else 0)
            tracking = None
            if line.get("Tracking"):
                t = line["Tracking"][0]
                tracking = (t.get("TrackingCategoryID"), t.get("TrackingOptionID"), t.get("Name"), t.get("Option"))
            lines.append(Posting(line.get("AccountCode"), net, tax, line.get("TaxType") or "NONE", tracking))
        typ = record.get("Type", "")
        if key == "Invoices":
            receivable = typ == "ACCREC"
            return day, typ, document_postings(AR_CODE if receivable else AP_CODE, lines, 1 if receivable else -1)
        if key == "CreditNotes":
            receivable = typ == "ACCRECCREDIT"
            return day, typ, document_postings(AR_CODE if receivable else AP_CODE, lines, -1 if receivable else 1)
        receivable = typ.startswith("RECEIVE")
        bank = (record.get("BankAccount") or {}).get("Code") or "090"
        return day, "CASHREC" if receivable else "CASHPAID", document_postings(bank, lines, 1 if receivable else -1)

    def _post_changes(self, st: _TenantState, key: str, before: dict | None, after: dict, stamp: int) -> None:
        """Journal what changed in the ledger: reverse the old posting, post the new one."""
        old = self._posting_of(st, key, before)
        new = self._posting_of(st, key, after)
        if old == new:
            return
        locks.refuse(st.org.organisation, [posting[0] for posting in (old, new) if posting is not None])
        ep = endpoints.BY_ENVELOPE[key]
        source_id = str(after.get(ep.id_field))
        reference = str(after.get("InvoiceNumber") or after.get("CreditNoteNumber") or after.get("Reference")
                        or after.get("Narration") or "")
        if old is not None:
            self._append_journal(st, stamp, old[0], source_id, old[1], reference, reversed_postings(old[2]))
        if new is not None:
            self._append_journal(st, stamp, new[0], source_id, new[1], reference, new[2])

    def _append_journal(self, st: _TenantState, stamp: int, day: int, source_id: str, source_type: str,
                        reference: str, postings: list[Posting]) -> None:
        org = st.org
        coll = org.collections["Journals"]
        number = coll.count + len(st.journals) + 1
        for posting in postings:
            if posting.account not in org.accounts_by_code:
                raise ValueError(f"Account code '{posting.account}' is not a valid code for this organisation")
        st.journals.append(data_records.journal_record(org, number, coll.id_of(number - 1), stamp, day, source_id,
                                                       source_type, reference, postings))
        org.add_to_ledger(day, postings)

    def _apply_payment(self, st: _TenantState, payment: dict, stamp: int, events: list[dict], sign: int) -> None:
        """A payment created (sign 1) or deleted (-1): the invoice's AmountPaid/AmountDue/Status follow."""
        invoice_ref = payment.get("Invoice") or {}
        invoice = self._current(st, "Invoices", str(invoice_ref.get("InvoiceID", "")))
        if invoice is None:
            raise ValueError("Payment must reference an existing invoice by InvoiceID")
        invoice = copy.deepcopy(invoice)
        before = copy.deepcopy(invoice)
        amount = _cents(payment.get("Amount"))
        if sign > 0:
            if invoice.get("Status") != "AUTHORISED":
                raise ValueError("Payments can only be made against AUTHORISED invoices")
            if amount <= 0 or amount > _cents(invoice.get("AmountDue")):
                raise ValueError("Payment amount must be positive and not exceed the invoice's AmountDue")
            invoice.setdefault("Payments", []).append({
                "PaymentID": payment["PaymentID"], "Date": payment["Date"], "Amount": money(amount),
                "Reference": payment.get("Reference", ""), "CurrencyRate": Decimal("1.000000"),
                "HasAccount": False, "HasValidationErrors": False})
        else:
            invoice["Payments"] = [p for p in invoice.get("Payments", []) if p.get("PaymentID") != payment["PaymentID"]]
        paid = _cents(invoice.get("AmountPaid")) + sign * amount
        due = _cents(invoice.get("Total")) - paid - _cents(invoice.get("AmountCredited"))
        invoice["AmountPaid"], invoice["AmountDue"] = money(paid), money(due)
        if due == 0:
            invoice["Status"] = "PAID"
            invoice["FullyPaidOnDate"] = payment["Date"]
        else:
            invoice["Status"] = "AUTHORISED"
            invoice.pop("FullyPaidOnDate", None)
        receivable = invoice.get("Type") == "ACCREC"
        payment["PaymentType"] = "ACCRECPAYMENT" if receivable else "ACCPAYPAYMENT"
        invoice_id = str(invoice["InvoiceID"])
        self._store(st, "Invoices", invoice_id, invoice, stamp, before)
        self._event(st, "Invoices", invoice_id, "UPDATE", stamp, events)

    def _release_settlements(self, st: _TenantState, invoice: dict, stamp: int, events: list[dict]) -> None:
        """Before an invoice is voided: delete its payments and undo its allocations.

        Xero refuses to void an invoice that has payments until they are removed; the sandbox
        removes them itself (each deleted payment gets its reversing journal) so that any
        invoice can be voided in one call. Allocations carry no journal of their own here.
        """
        invoice_id = str(invoice.get("InvoiceID"))
        payments = [self._current(st, "Payments", str(summary.get("PaymentID")))
                    for summary in invoice.get("Payments") or []]
        payments = [p for p in payments if p is not None and p.get("Status") != "DELETED"]
        self._refuse_locked(st, "Payments", *payments)  # before anything changes: all or nothing
        for current in payments:
            before, payment = copy.deepcopy(current), copy.deepcopy(current)
            payment["Status"] = "DELETED"
            self._post_changes(st, "Payments", before, payment, stamp)
            self._store(st, "Payments", str(payment["PaymentID"]), payment, stamp, before)
        for key, list_field, id_field in (("CreditNotes", "CreditNotes", "CreditNoteID"),
                                          ("Prepayments", "Prepayments", "PrepaymentID"),
                                          ("Overpayments", "Overpayments", "OverpaymentID")):
            for summary in invoice.get(list_field) or []:
                current = self._current(st, key, str(summary.get(id_field)))
                if current is None:
                    continue
                before, credit = copy.deepcopy(current), copy.deepcopy(current)
                released = sum(_cents(a.get("Amount")) for a in credit.get("Allocations") or []
                               if (a.get("Invoice") or {}).get("InvoiceID") == invoice_id)
                credit["Allocations"] = [a for a in credit.get("Allocations") or []
                                         if (a.get("Invoice") or {}).get("InvoiceID") != invoice_id]
                credit["AppliedAmount"] = money(_cents(credit.get("AppliedAmount")) - released)
                credit["RemainingCredit"] = money(_cents(credit.get("RemainingCredit")) + released)
                if credit.get("Status") == "PAID":
                    credit["Status"] = "AUTHORISED"
                    credit.pop("FullyPaidOnDate", None)
                self._post_changes(st, key, before, credit, stamp)
                self._store(st, key, str(credit[id_field]), credit, stamp, before)
                self._event(st, key, str(credit[id_field]), "UPDATE", stamp, events)
        for list_field in ("Payments", "CreditNotes", "Prepayments", "Overpayments"):
            invoice[list_field] = []
        invoice["AmountPaid"] = invoice["AmountCredited"] = money(0)
        invoice.pop("FullyPaidOnDate", None)

    def _track_balance(self, st: _TenantState, before: dict | None, after: dict) -> None:
        """Contact balances follow invoices (without bumping the contact: Xero does not either)."""
        def outstanding(record: dict | None) -> int:
            if not record or record.get("Status") not in ("AUTHORISED", "PAID"):
                return 0
            return _cents(record.get("AmountDue"))
        delta = outstanding(after) - outstanding(before)
        if not delta:
            return
        contact_id = str((after.get("Contact") or {}).get("ContactID", "")).lower()
        slot = 0 if after.get("Type") == "ACCREC" else 1
        org = st.org
        index = org.collections["Contacts"].index_of(contact_id)
        if index is not None and index < org.n_contacts:
            (org.contact_receivable if slot == 0 else org.contact_payable)[index] += delta
        else:
            st.extra_balances.setdefault(contact_id, [0, 0])[slot] += delta

    # ------------------------------------------------------------ completing created/updated records
    def _complete(self, st: _TenantState, key: str, record: dict, stamp: int, creating: bool = True) -> None:
        """Fill what Xero computes: defaults on create, references, totals, AmountDue."""
        org = st.org
        today = self._today()
        if key == "Contacts":
            if not record.get("Name"):
                raise ValueError("Contact name is required")
            record.setdefault("ContactStatus", "ACTIVE")
            record.setdefault("IsSupplier", False)
            record.setdefault("IsCustomer", False)
            for list_field in ("Addresses", "Phones", "ContactPersons", "ContactGroups"):
                record.setdefault(list_field, [])
            record.setdefault("HasAttachments", False)
            return
        if key == "Accounts":
            if creating:
                if not record.get("Code") or not record.get("Type"):
                    raise ValueError("Account Code and Type are required")
                if record["Code"] in org.accounts_by_code:
                    raise ValueError(f"Account code '{record['Code']}' is already in use")
                org.accounts_by_code[record["Code"]] = record
                org.daily.setdefault(record["Code"], {})
            record.setdefault("Status", "ACTIVE")
            record.setdefault("TaxType", "NONE")
            record["Class"] = ACCOUNT_CLASS.get(str(record.get("Type")), "EXPENSE")
            org.accounts_by_code[record["Code"]] = record
            org.account_code_by_id[str(record["AccountID"])] = record["Code"]
            return
        if key == "Items":
            if not record.get("Code"):
                raise ValueError("Item Code is required")
            record.setdefault("IsSold", True)
            record.setdefault("IsPurchased", False)
            return
        if key == "ManualJournals":
            if not record.get("Narration"):
                raise ValueError("Narration is required")
            record.setdefault("Status", "DRAFT")
            record["Date"] = _as_msdate(record.get("Date"), today)
            record.setdefault("LineAmountTypes", "NoTax")
            total = 0
            for line in record.get("JournalLines") or []:
                line["LineAmount"] = _dec(line.get("LineAmount")).quantize(CENT)
                total += _cents(line["LineAmount"])
                self._fill_account(org, line)
            if total:
                raise ValueError("The total debits must equal the total credits of a manual journal")
            return
        if key == "Payments":
            if creating:
                record["Date"] = _as_msdate(record.get("Date"), today)
                account = record.get("Account") or {}
                code = account.get("Code") or org.account_code_by_id.get(str(account.get("AccountID", ""))) or "090"
                record["Account"] = {"AccountID": org.account(code)["AccountID"], "Code": code}
                record["Amount"] = _dec(record.get("Amount")).quantize(CENT)
                record.setdefault("Status", "AUTHORISED")
                record.setdefault("CurrencyRate", Decimal("1.000000"))
                record.setdefault("IsReconciled", False)
                record.setdefault("Reference", "")
            return
        if key not in ("Invoices", "CreditNotes", "BankTransactions", "PurchaseOrders", "Quotes",
                       "RepeatingInvoices", "Overpayments", "Prepayments", "Receipts"):
            return
        # Documents with line items.
        defaults = {"Invoices": ("ACCREC", "DRAFT"), "CreditNotes": ("ACCRECCREDIT", "DRAFT"),
                    "BankTransactions": ("SPEND", "AUTHORISED"), "PurchaseOrders": (None, "DRAFT"),
                    "Quotes": (None, "DRAFT"), "RepeatingInvoices": ("ACCREC", "DRAFT")}.get(key, (None, "DRAFT"))
        if defaults[0]:
            record.setdefault("Type", defaults[0])
        record.setdefault("Status", defaults[1])
        contact = record.get("Contact")
        if isinstance(contact, dict) and contact.get("ContactID"):
            found = self._current(st, "Contacts", str(contact["ContactID"]))
            if found is None:
                raise ValueError(f"Contact {contact['ContactID']} does not exist")
            record["Contact"] = {"ContactID": found["ContactID"], "Name": found.get("Name")}
        elif creating and key != "RepeatingInvoices":
            raise ValueError("A Contact with a ContactID is required")
        if key == "BankTransactions":
            bank = record.get("BankAccount") or {}
            code = bank.get("Code") or org.account_code_by_id.get(str(bank.get("AccountID", "")))
            if code not in org.accounts_by_code or org.account(code)["Type"] != "BANK":
                raise ValueError("BankAccount must be a bank account (Code or AccountID)")
            record["BankAccount"] = org.account_ref(code)
        if key != "RepeatingInvoices":
            record["Date"] = _as_msdate(record.get("Date"), today)
        if key == "Invoices":
            record["DateString"] = day_string(_day_of_msdate(record["Date"], today))
            if creating or record.get("DueDate"):
                record["DueDate"] = _as_msdate(record.get("DueDate"), _day_of_msdate(record["Date"], today) + 30)
                record["DueDateString"] = day_string(_day_of_msdate(record["DueDate"], today))
            if creating:
                prefix = "INV" if record.get("Type") == "ACCREC" else "BILL"
                record.setdefault("InvoiceNumber", f"{prefix}-N{st.created['Invoices']:06d}")
                for list_field in ("Payments", "CreditNotes", "Prepayments", "Overpayments"):
                    record.setdefault(list_field, [])
        if key == "CreditNotes" and creating:
            record.setdefault("CreditNoteNumber", f"CN-N{st.created['CreditNotes']:06d}")
            record.setdefault("Allocations", [])
        record.setdefault("LineAmountTypes", "Exclusive" if key != "Quotes" else "EXCLUSIVE")
        record.setdefault("CurrencyCode", org.base_currency)
        self._totals(org, key, record)

    def _fill_account(self, org: Organisation, line: dict) -> None:
        code = line.get("AccountCode") or org.account_code_by_id.get(str(line.get("AccountID", "")))
        if code not in org.accounts_by_code:
            raise ValueError(f"Account code '{code}' is not a valid code for this organisation")
        line["AccountCode"] = code
        line["AccountID"] = org.account(code)["AccountID"]

    def _totals(self, org: Organisation, key: str, record: dict) -> None:
        mode = str(record.get("LineAmountTypes", "Exclusive")).upper()
        subtotal = tax_total = 0
        for n, line in enumerate(record.get("LineItems") or []):
            self._fill_account(org, line)
            quantity = _dec(line.get("Quantity"), "1")
            unit = _dec(line.get("UnitAmount"))
            line["Quantity"], line["UnitAmount"] = quantity, unit
            amount = (quantity * unit).quantize(CENT, rounding=ROUND_HALF_UP)
            tax_type = line.get("TaxType") or org.account(line["AccountCode"]).get("TaxType") or "NONE"
            if tax_type not in TAX_BP:
                raise ValueError(f"TaxType '{tax_type}' is not valid")
            line["TaxType"] = tax_type
            rate = Decimal(TAX_BP[tax_type]) / 10000
            if mode == "NOTAX":
                tax = Decimal("0.00")
            elif mode == "INCLUSIVE":
                tax = (amount - amount / (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
            else:
                tax = (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)
            line["LineAmount"], line["TaxAmount"] = amount, tax
            line.setdefault("LineItemID", uuid_of(mix(org.key, COLLECTION_CODES["LineItems"], hash(
                str(record.get(endpoints.BY_ENVELOPE[key].id_field))) & 0xFFFFFFFF, n)))
            line.setdefault("Tracking", [])
            net = _cents(amount) - (_cents(tax) if mode == "INCLUSIVE" else 0)
            subtotal += net
            tax_total += _cents(tax)
        record["SubTotal"], record["TotalTax"], record["Total"] = money(subtotal), money(tax_total), \
            money(subtotal + tax_total)
        if key == "Invoices":
            paid, credited = _cents(record.get("AmountPaid")), _cents(record.get("AmountCredited"))
            record["AmountPaid"], record["AmountCredited"] = money(paid), money(credited)
            due = subtotal + tax_total - paid - credited
            if due < 0:
                raise ValueError("The invoice total cannot be less than what was paid and credited")
            record["AmountDue"] = money(0 if record.get("Status") in ("VOIDED", "DELETED") else due)
        if key in ("CreditNotes", "Overpayments", "Prepayments"):
            applied = _cents(record.get("AppliedAmount"))
            record["RemainingCredit"] = money(subtotal + tax_total - applied)


def _member_of(path: str, csv: str) -> Callable[[dict], bool]:
    wanted = {part.strip().lower() for part in str(csv).split(",") if part.strip()}
    return lambda record: str(where_module.resolve(record, path) or "").lower() in wanted


def _and(first: Callable[[dict], bool] | None, second: Callable[[dict], bool]) -> Callable[[dict], bool]:
    return second if first is None else (lambda record: first(record) and second(record))


def _iso(ms: int) -> str:
    moment = datetime(1970, 1, 1) + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}"


def _ts_of(record: dict, field_name: str | None) -> int | None:
    value = record.get(field_name) if field_name else None
    return parse_ms_date(value) if value else None


def _sort_key(value):
    """Sortable form of a field: /Date()/ strings by time; None first; mixed types by text."""
    if value is None:
        return (0, 0, "")
    if isinstance(value, str) and value.startswith("/Date("):
        return (1, parse_ms_date(value), "")
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return (1, value, "")
    return (2, 0, str(value).lower())
