"""CollectionQuery: one stream's query against one Xero collection, from the stream's declarations.

What Xero does is ``endpoints.Endpoint``; what the tap chooses is the stream's replication key and the
settings. This module combines them (pure, no HTTP):

- If-Modified-Since = bookmark - ``lookback_days`` - 1 s (or ``start_date`` on a first run) where the
  endpoint honours it; endpoints that ignore it but carry the timestamp are filtered here, client-side
  (``window``), without ending paging early;
- ``order=<replication key> ASC`` where the endpoint accepts ``order`` (never ManualJournals, whose paging
  breaks with it): a *sorted* read, bookmarked after every page; Journals are sorted too, paged by
  ``offset`` = the bookmark (a JournalNumber);
- ``includeArchived``, ``unitdp=4``, ``includeDeleted`` where accepted; ``pageSize`` = ``page_size``, at most
  the endpoint's own largest (Assets 200, Projects 500);
- the endpoint's ``fixed_params`` (``paymentsOnly=true`` for the cash journals) on every call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tap_xero import values
from tap_xero.endpoints import FIXED_PAGE_SIZE, MAX_PAGE_SIZE, Endpoint, Paging
from tap_xero.settings import parse_datetime as parse_setting_datetime

IMS_MARGIN = dt.timedelta(seconds=1)  # If-Modified-Since has second precision: never skip the boundary second


@dataclass(frozen=True)
class CollectionQuery:
    """See the module docstring. Build with ``for_stream``."""

    endpoint: Endpoint
    replication_key: str | None
    page_size: int = MAX_PAGE_SIZE
    include_archived: bool = True
    lookback_days: int = 0
    start_date: str | None = None

    @classmethod
    def for_stream(cls, endpoint: Endpoint, replication_key: str | None, config: dict) -> CollectionQuery:
        def setting(name: str, default: Any) -> Any:  # noqa: ANN401
            value = config.get(name)
            return default if value is None else value

        return cls(
            endpoint, replication_key,
            page_size=max(1, min(int(setting("page_size", MAX_PAGE_SIZE)), endpoint.max_page_size)),
            include_archived=bool(setting("include_archived", True)),
            lookback_days=int(setting("lookback_days", 0)),
            start_date=config.get("start_date") or None,
        )

    # -- what kind of read ----------------------------------------------------------------------------

    @property
    def timestamp_key(self) -> bool:
        """The replication key is the endpoint's own timestamp (UpdatedDateUTC or CreatedDateUTC)."""
        return bool(self.replication_key and self.replication_key == self.endpoint.timestamp_field)

    @property
    def pages_by_offset(self) -> bool:
        return bool(self.endpoint.paging is Paging.OFFSET and self.replication_key and not self.timestamp_key)

    @property
    def sends_order(self) -> bool:
        endpoint = self.endpoint
        return bool(
            self.timestamp_key and endpoint.order and not endpoint.order_breaks_paging
            and endpoint.paging is not Paging.OFFSET
        )

    @property
    def sorted(self) -> bool:
        """Records come in replication-key order: the bookmark may move after every page."""
        return self.sends_order or self.pages_by_offset

    @property
    def guards_shifts(self) -> bool:
        """Paged by page number in UpdatedDateUTC order: the read a page shift can skip records of."""
        return self.sends_order and self.endpoint.paging in (Paging.PAGE_SIZE, Paging.PAGE)

    @property
    def records_per_call(self) -> int:
        """The most records one call returns (unpaged collections: settings, counted as 100)."""
        return self.page_size if self.endpoint.paging is Paging.PAGE_SIZE else FIXED_PAGE_SIZE

    # -- the query ------------------------------------------------------------------------------------

    def base_params(self) -> dict[str, Any]:
        endpoint = self.endpoint
        params: dict[str, Any] = {}
        if self.sends_order:
            params["order"] = f"{self.replication_key} ASC"
        if endpoint.include_archived and self.include_archived:
            params["includeArchived"] = "true"
        if endpoint.unitdp:
            params["unitdp"] = 4
        if endpoint.include_deleted:
            params["includeDeleted"] = "true"
        params.update(endpoint.fixed_params)
        return params

    def start(self, bookmark: object) -> dt.datetime | None:
        """Where a read starts: the bookmark minus the look-back, else start_date (minus IMS_MARGIN)."""
        start: dt.datetime | None
        if self.timestamp_key and bookmark is not None:
            start = values.parse_datetime(str(bookmark)) - dt.timedelta(days=self.lookback_days)
        elif bookmark is None and self.start_date:
            start = parse_setting_datetime(self.start_date)
        else:
            return None
        if start is None:
            return None
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.timezone.utc)
        return start - IMS_MARGIN

    def window(self, start: dt.datetime | None) -> tuple[dt.datetime | None, str | None]:
        """(If-Modified-Since, client-side floor) of a read from ``start``."""
        ims = start if (start is not None and self.replication_key and self.endpoint.if_modified_since) else None
        floor = None
        if start is not None and ims is None and self.timestamp_key:
            floor = values.to_datetime_string(start.isoformat())
        return ims, floor

    def offset_bookmark(self, value: object) -> int | None:
        """A saved replication value as Journals' offset: a JournalNumber, else None (from the first)."""
        text = str(value)
        return int(text) if text.isdigit() else None

    def version(self, raw_record: dict) -> object:
        """The replication value of a record not yet converted, as it will be once converted."""
        version = raw_record.get(self.replication_key) if self.replication_key else None
        return values.to_datetime_string(version) if isinstance(version, str) else version

    def advance(self, bookmark: Any, records: list[dict]) -> Any:  # noqa: ANN401
        """The bookmark after ``records`` (converted) were written: the largest replication value."""
        key = self.replication_key
        if not key:
            return bookmark
        for record in records:
            value = record.get(key)
            if value is not None and (bookmark is None or value > bookmark):
                bookmark = value
        return bookmark
