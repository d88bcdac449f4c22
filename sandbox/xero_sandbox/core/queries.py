"""The query engine: one list request over one tenant's collection, as Xero answers it.

``Query`` is a parsed list request (``params.parse_query`` builds it from HTTP; Python callers
build it directly); ``Page`` is the answer. ``list_page(book, resource, endpoint, query)``:

- natural order is timestamp order: the generated records (stamps grow with the index) without
  the ones changed since, then the overlay (changed and created records, in mutation order);
- If-Modified-Since keeps records stamped **at or after** the given second, where the endpoint
  honours it (a binary search on the generated part);
- filters: ``Statuses``, ``IDs``, the resource's hidden status (ARCHIVED without
  ``includeArchived``...), its extra list filters and ``where`` (``where.py``); without a
  filter nothing is built but the page served (``_BaseRun`` skips changed records by bisection);
- ``order``: ``Field [ASC|DESC]``, comma-separated, dotted paths; an invalid direction is a
  ``ValueError``; ordering by the timestamp field alone only reverses the natural order;
- paging per ``Endpoint.paging``: page + pageSize with the pagination object (pageSize clamped
  to 1000 by the caller; ``order_breaks_paging``: with ``order`` every page answers everything),
  100 a page for ``Paging.PAGE``, everything otherwise; a collection outside the overlay
  (Journals) pages itself (``Resource.list_page``);
- ``present``: each served record is a private copy, unit amounts rounded to 2 decimals unless
  ``unitdp=4``, the resource's computed fields added and ``summaryOnly`` fields dropped.
"""

from __future__ import annotations

import bisect
import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from tap_xero import endpoints
from tap_xero.endpoints import Endpoint, Paging
from xero_sandbox.core import where as where_module
from xero_sandbox.core.generation import CENT, datetime_to_ms, parse_ms_date
from xero_sandbox.core.resource import Resource

LINE_ITEM_KEYS = ("LineItems",)
UNIT_PRICE_PARENTS = ("SalesDetails", "PurchaseDetails")


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
        out: list[int] = []
        index = self[start]
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


# ---------------------------------------------------------------- the engine

def list_page(book, resource: Resource, ep: Endpoint, query: Query) -> Page:
    """One page of ``resource`` for ``query`` (the caller holds the store's lock)."""
    if resource.list_page is not None:
        return resource.list_page(book, query)
    return _page(book, resource, ep, _select(book, resource, ep, query), query)


def _select(book, resource: Resource, ep: Endpoint, query: Query) -> _Chain:
    key = ep.envelope_key
    coll = book.org.collections[key]
    since_ms = None
    if query.modified_since is not None and ep.if_modified_since and ep.timestamp_field:
        since_ms = datetime_to_ms(query.modified_since.replace(microsecond=0))
    start = coll.first_at_or_after(since_ms) if since_ms is not None else 0
    tail = [rec for rid, rec in book.overlay[key].items()
            if since_ms is None or (book.overlay_ms[key].get(rid) or 0) >= since_ms]

    status_field = resource.status_field
    hidden = resource.hidden_status if resource.shown_by and not getattr(query, resource.shown_by) else None
    statuses = {s.strip().upper() for s in query.statuses} if query.statuses and ep.statuses_filter else None
    wanted_ids = None
    if query.ids and ep.ids_filter:
        wanted_ids = {str(i).strip().lower() for i in query.ids if str(i).strip()}
    predicate = _predicate(resource, query)

    def status_ok(status: str | None) -> bool:
        if hidden is not None and status == hidden:
            return False
        return statuses is None or status in statuses

    filtered = hidden is not None or statuses is not None or predicate is not None or wanted_ids is not None
    base: _BaseRun | list[int]
    if not filtered:
        base = _BaseRun(start, coll.count, book.replaced[key])
    else:
        base = _matching_indices(coll, start, book.replaced[key], wanted_ids, status_ok, predicate, status_field)
        tail = [rec for rec in tail
                if status_ok(rec.get(status_field))
                and (wanted_ids is None or str(rec.get(ep.id_field, "")).lower() in wanted_ids)
                and (predicate is None or predicate(rec))]
    return _ordered(book, ep, base, tail, query.order)


def _predicate(resource: Resource, query: Query) -> Callable[[dict], bool] | None:
    """``where`` and the resource's extra list filters, together; None when there are none."""
    predicate = where_module.compile_where(query.where) if query.where else None
    for param, value in (query.extra or {}).items():
        path = resource.list_filters.get(param.lower())
        if path and value:
            predicate = _and(predicate, _member_of(path, value))
    return predicate


def _matching_indices(coll, start: int, replaced: list[int], wanted_ids: set[str] | None,
                      status_ok: Callable[[str | None], bool], predicate: Callable[[dict], bool] | None,
                      status_field: str) -> list[int]:
    """Generated indices from ``start`` (not replaced by the overlay) that pass the filters: by the
    cheap status column when the collection has one, by building the record otherwise or for ``where``."""
    candidates: Iterable[int]
    if wanted_ids is not None:
        candidates = sorted(i for i in (coll.index_of(x) for x in wanted_ids)
                            if i is not None and start <= i < coll.count)
        skipped = set(replaced)
        candidates = [i for i in candidates if i not in skipped]
    else:
        skips = set(replaced)
        candidates = (i for i in range(start, coll.count) if i not in skips)
    cheap_status = coll.status_of
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
    return base


def _ordered(book, ep: Endpoint, base, tail: list, order: str | None) -> _Chain:
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
    coll = book.org.collections[ep.envelope_key]
    records = [coll.record(i) for i in (base[p] for p in range(len(base)))] + tail
    for field_path, descending in reversed(terms):
        records.sort(key=lambda r: _sort_key(where_module.resolve(r, field_path)), reverse=descending)
    return _Chain([], records)


def _page(book, resource: Resource, ep: Endpoint, items: _Chain, query: Query) -> Page:
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
    coll = book.org.collections[ep.envelope_key]
    records = []
    for item in chosen:
        if isinstance(item, int):
            records.append(present(book, resource, ep, coll.record(item), query, fresh=True))
        else:
            records.append(present(book, resource, ep, item, query, fresh=False))
    return Page(records, pagination)


def present(book, resource: Resource, ep: Endpoint, record: dict, query: Query, fresh: bool) -> dict:
    """The record as served: a private copy with unitdp, summaryOnly and computed fields applied."""
    record = record if fresh else copy.deepcopy(record)
    _round_units(record, keep_four=bool(ep.unitdp and query.unitdp == 4))
    if resource.present is not None:
        resource.present(book, record, query)
    if query.summary_only and ep.summary_only:
        for drop in resource.summary_drops:
            record.pop(drop, None)
    return record


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


def _member_of(path: str, csv: str) -> Callable[[dict], bool]:
    wanted = {part.strip().lower() for part in str(csv).split(",") if part.strip()}
    return lambda record: str(where_module.resolve(record, path) or "").lower() in wanted


def _and(first: Callable[[dict], bool] | None, second: Callable[[dict], bool]) -> Callable[[dict], bool]:
    return second if first is None else (lambda record: first(record) and second(record))


def _sort_key(value):
    """Sortable form of a field: /Date()/ strings by time; None first; mixed types by text."""
    if value is None:
        return (0, 0, "")
    if isinstance(value, str) and value.startswith("/Date("):
        return (1, parse_ms_date(value), "")
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return (1, value, "")
    return (2, 0, str(value).lower())
