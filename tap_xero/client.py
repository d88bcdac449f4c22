"""XeroStream: the one base stream. Stream classes declare data; the mechanics live here.

What the tap must provide (FOUNDATION, tap.py)
----------------------------------------------
- ``tap.xero_client``: ``http.XeroClient(api_url, authenticator, timeout=settings.request_timeout,
  max_concurrent_per_tenant=5, logger=tap.logger)`` where ``api_url`` is the Accounting base
  (``https://api.xero.com/api.xro/2.0`` or the sandbox's) and ``authenticator`` the XeroAuthenticator.
  At the end of ``sync_all`` (also when it raises) call ``tap.xero_client.progress.write_summary()``.
- ``tap.tenants``: the resolved tenants (``tenants.Tenant`` objects or plain tenant id strings).
- Config keys read here: ``page_size`` (default 1000), ``include_archived`` (default true),
  ``lookback_days`` (default 0), ``start_date`` (optional).

Declaring a stream (STREAMS, tap_xero/streams/)
-----------------------------------------------
``XeroStream`` subclass attributes:
- ``name``, ``primary_keys`` (starting with ``tenant_id``), ``replication_key`` (None: full table),
  ``selected_by_default``;
- ``endpoint``: an ``endpoints.Endpoint`` (path, envelope key, paging kind, filters it honours);
- ``child_tables``: ``XeroChildStream`` classes whose rows come from each parent record at no API cost.

``XeroChildStream`` subclass attributes: ``name``, ``primary_keys``, ``lines_field`` (the parent's list,
e.g. "LineItems"), ``parent_id_field`` (the parent's id, copied onto each row, e.g. "InvoiceID"). Each row
is the line plus ``tenant_id``, the parent id and ``line_number`` (1-based position in the parent's list).
The child's SCHEMA is emitted once; its rows are written right before their parent record. When only the
child is selected the parent is fetched but not emitted (and its bookmark is not saved: the child is then
re-read in full each run). The tap must list child classes among its streams (the SDK wires
``parent_stream_type``, set here from ``child_tables``).

``XeroReportStream`` subclass attributes: ``name``, ``primary_keys``, ``report`` (an ``endpoints.Report``):
one row per report line per calendar month over ``report_history_months``, read by
``report_reader.ReportReader`` (only the months that are new or may have changed, up to twelve a call).

How records are read (one partition per tenant, state per tenant)
-----------------------------------------------------------------
- Query: If-Modified-Since = bookmark - ``lookback_days`` - 1 s (or ``start_date``) where the endpoint
  honours it; ``order=<replication key> ASC`` where the endpoint accepts ``order`` (never ManualJournals,
  whose paging breaks with it); ``includeArchived``, ``unitdp=4``, ``includeDeleted`` where accepted.
  Endpoints that ignore If-Modified-Since (LinkedTransactions, ...) are filtered client-side, page after
  page, without ending paging early. Journals page by ``offset`` = bookmark (JournalNumber).
- Pages (paging.py): fetched ahead concurrently within the tenant's allowance, yielded in order.
- Values (values.py): dates to RFC 3339 UTC, amounts Decimal, ``tenant_id`` added.
- State at safe points: for sorted streams (``order`` sent, or Journals' offset), the bookmark is
  advanced and a STATE message written after every page, so a kill -9 resumes at the last whole page.
  Other incremental streams save their bookmark when the tenant's query is complete.
- Page shift: when a sorted query took more than one call, a record modified meanwhile has moved to the
  end and may have pushed another past a page boundary. After the last page the base (1) re-asks for
  everything modified since the first page's server time, emitting what it had not emitted in that
  version, and (2) compares the distinct ids served with Xero's ``itemCount``; if any is missing, it runs
  the query again and emits only what it had not seen (at most twice, then a warning).
- Kill -9 before that repair: the per-page STATE of a shift-guarded read also carries READ_MARKER (the
  read's If-Modified-Since and Xero's clock at its first page) until the read is complete. A run resuming
  from such a state reads on from the bookmark, then, if any record is newer than the marked start (less
  a margin, i.e. something was edited meanwhile and may have pushed a record behind the bookmark), reads
  the marked window again, emitting only what it has not emitted itself. With nothing changed it costs
  nothing; reads by webhook event IDs wait until no marker is left.
- Retired endpoints (``endpoint.retired``): a 401/404/410 ends the stream for that tenant with a warning.
- Refused endpoints (401 AuthorizationUnsuccessful: a tier without Journals, a missing scope): the stream ends
  for that tenant with one warning and is skipped for a day (gating.py); ScopeError with fail_on_missing_scope.
- Organisations stopped early (the day limit, ``call_budget``): ``errors.TenantStopped`` ends that tenant's
  part of the run (``run_facts.RunFacts``); the run goes on with the others and exits 75 at the end (tap.py).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, fields
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import singer_sdk.singerlib as singer
from singer_sdk import Stream
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_xero import errors, gating, values
from tap_xero.endpoints import FIXED_PAGE_SIZE, MAX_PAGE_SIZE, Endpoint, Paging, Report
from tap_xero.output import direct_record_maps, record_message
from tap_xero.report_reader import ReportReader
from tap_xero.run_facts import JOURNALS_STREAM
from tap_xero.scopes import missing_scopes, stream_scopes
from tap_xero.settings import parse_datetime as parse_setting_datetime
from tap_xero.paging import (
    Page, Prefetch, ShiftGuard, background_readers, iter_pages, pages_ahead,
)
from tap_xero.webhooks import targeted

SCHEMAS_DIR = Path(__file__).parent / "schemas"
RETIRED_STATUSES = frozenset({401, 404, 410})
IMS_MARGIN = dt.timedelta(seconds=1)  # If-Modified-Since has second precision: never skip the boundary second
MAX_SHIFT_RECOVERIES = 2
# The page-shift guard remembers exactly the records edited this long before the first page's server time
# or later (a margin for the first call's latency and clock skew; the rest cost 8 bytes each, paging.py).
SHIFT_MEMORY_MARGIN = dt.timedelta(minutes=5)
MAX_TAIL_PASSES = 3
# State key of a sorted read that has written per-page bookmarks but not finished its page-shift repair:
# {"since": the read's If-Modified-Since (or null), "started": Xero's clock at its first page, and, once a
# resumed run has begun reading that window again, "until": the bookmark the window ends at, with "since"
# moved to how far the re-read has got}. See _tenant_pages: a resumed run reads that window again if records
# changed after it started.
READ_MARKER = "interrupted_read"
# Tenants read at once by one stream: the one being written and up to three more, fewer when pages are
# large (paging.background_readers keeps what they hold within paging.BACKGROUND_RECORDS).
PARALLEL_TENANTS = 4
PREFETCH_PAGES = 1  # finished pages a background tenant may hold ready, besides its look-ahead


@dataclass(slots=True)
class XeroStreamMetadata(singer.StreamMetadata):
    """Stream metadata plus ``required-scopes``: any one of them grants the stream (broad or granular)."""

    required_scopes: list[str] | None = None


def _tenant_id(tenant: Any) -> str:
    return tenant if isinstance(tenant, str) else str(tenant.tenant_id)


class XeroStream(Stream):
    """One Xero collection, read per tenant. See the module docstring."""

    endpoint: ClassVar[Endpoint | None] = None
    child_tables: ClassVar[tuple[type[XeroChildStream], ...]] = ()
    # Records already carry JSON types (values.py): skip the SDK's per-record type conformance (hot path).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for child in cls.__dict__.get("child_tables", ()):
            child.parent_stream_type = cls

    def __init__(self, tap: Any, schema: dict | None = None, name: str | None = None) -> None:
        super().__init__(tap, schema=schema if schema is not None else self.load_schema(name or self.name), name=name)
        self._convert = values.build_converter(self.schema)
        self._child_schemas_written = False
        self._record_maps: list[tuple[str, Any]] | bool | None = None  # output.direct_record_maps, on first use

    # -- declarations read by the SDK ---------------------------------------------------------------

    @staticmethod
    @functools.cache
    def _schema_text(name: str) -> str:
        return (SCHEMAS_DIR / f"{name}.json").read_text(encoding="utf-8")

    @classmethod
    def load_schema(cls, name: str) -> dict:
        """The generated schema of stream ``name`` (a fresh copy: the SDK may edit it)."""
        return json.loads(cls._schema_text(name))

    @property
    def partitions(self) -> list[dict] | None:
        return [{"tenant_id": _tenant_id(tenant)} for tenant in self._tap.tenants]

    @property
    def metadata(self) -> singer.MetadataMapping:
        """The SDK's metadata, with the stream's required scopes on the root entry of a discovered catalog."""
        mapping = super().metadata
        root = mapping.root
        if type(root) is singer.StreamMetadata:  # not already extended, and not from an input catalog
            values_by_field = {f.name: getattr(root, f.name) for f in fields(root)}
            mapping[()] = XeroStreamMetadata(**values_by_field, required_scopes=list(stream_scopes(self)))
        return mapping

    @property
    def is_sorted(self) -> bool:
        return self._sends_order or self._pages_by_offset

    @property
    def check_sorted(self) -> bool:
        return False

    def generate_child_contexts(self, record: dict, context: dict | None) -> Iterable[dict | None]:
        return ()  # child rows are written inline from the parent's record (no SDK child sync)

    def _increment_stream_state(self, latest_record: dict, *, context: dict | None = None) -> None:
        pass  # bookmarks are saved per page by get_records, at safe points only

    def _generate_record_messages(self, record: dict) -> Iterable[singer.RecordMessage | dict]:
        """The record's messages as the dictionaries the tap's writer encodes (``output.XeroWriter``).

        The SDK (0.54) copies and walks every record to drop deselected properties even when every
        property is selected, then builds a RecordMessage object to turn it back into a dictionary for
        the encoder; per record that costs more than reading it from Xero. When nothing is deselected
        (``output.direct_record_maps``) each stream map's record goes out as the message's dictionary
        directly (same keys, ``version`` when set, ``time_extracted``), and maps that leave records as
        they are are not called. Otherwise, the SDK's own path. Type conformance is off (see
        TYPE_CONFORMANCE_LEVEL).
        """
        maps = self._record_maps
        if maps is None:
            maps = self._record_maps = direct_record_maps(self)
        if maps is False:
            return super()._generate_record_messages(record)
        now = dt.datetime.now(dt.timezone.utc)
        version = self._stream_version
        messages = []
        for alias, transform in maps:  # type: ignore[union-attr]
            mapped = record if transform is None else transform(record)
            if mapped is None:
                continue
            messages.append(record_message(alias, mapped, version, now))
        return messages

    # -- query ----------------------------------------------------------------------------------------

    @property
    def client(self):  # noqa: ANN201 - http.XeroClient, kept untyped to avoid importing requests here
        return self._tap.xero_client

    @property
    def _timestamp_key(self) -> bool:
        endpoint = self.endpoint
        return bool(self.replication_key and endpoint and self.replication_key == endpoint.timestamp_field)

    @property
    def _pages_by_offset(self) -> bool:
        return bool(self.endpoint and self.endpoint.paging is Paging.OFFSET and self.replication_key
                    and not self._timestamp_key)

    @property
    def _guards_shifts(self) -> bool:
        """A query paged by page number in UpdatedDateUTC order: the one a page shift can skip records of."""
        return self._sends_order and self.endpoint.paging in (Paging.PAGE_SIZE, Paging.PAGE)

    @property
    def _sends_order(self) -> bool:
        endpoint = self.endpoint
        return bool(
            endpoint and self._timestamp_key and endpoint.order and not endpoint.order_breaks_paging
            and endpoint.paging is not Paging.OFFSET
        )

    def _setting(self, name: str, default: Any) -> Any:
        value = self.config.get(name)
        return default if value is None else value

    def _start(self, context: dict) -> dt.datetime | None:
        """Where this tenant's read starts: the bookmark minus the look-back, else start_date (minus 1 s)."""
        bookmark = self.get_context_state(context).get("replication_key_value")
        if self._timestamp_key and bookmark is not None:
            start = values.parse_datetime(str(bookmark))
            start -= dt.timedelta(days=int(self._setting("lookback_days", 0)))
        elif bookmark is None and self.config.get("start_date"):
            start = parse_setting_datetime(self.config.get("start_date"))
        else:
            return None
        if start is None:
            return None
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.timezone.utc)
        return start - IMS_MARGIN

    def _base_params(self) -> dict[str, Any]:
        endpoint = self.endpoint
        assert endpoint is not None
        params: dict[str, Any] = {}
        if self._sends_order:
            params["order"] = f"{self.replication_key} ASC"
        if endpoint.include_archived and self._setting("include_archived", True):
            params["includeArchived"] = "true"
        if endpoint.unitdp:
            params["unitdp"] = 4
        if endpoint.include_deleted:
            params["includeDeleted"] = "true"
        return params

    def _page_size(self) -> int:
        return max(1, min(int(self._setting("page_size", MAX_PAGE_SIZE)), MAX_PAGE_SIZE))

    def _records_per_call(self) -> int:
        """The most records one call of this stream returns (unpaged collections: settings, counted as 100)."""
        endpoint = self.endpoint
        return self._page_size() if endpoint is not None and endpoint.paging is Paging.PAGE_SIZE else FIXED_PAGE_SIZE

    def _query_pages(
        self, tenant_id: str, params: dict, ims: dt.datetime | None, start_offset: int = 0
    ) -> Iterator[Page]:
        endpoint = self.endpoint
        assert endpoint is not None
        headers = {"If-Modified-Since": values.ims_header(ims)} if ims is not None else None
        client = self.client

        def fetch_body(extra: dict) -> dict:
            return client.get_json(tenant_id, endpoint.path, {**params, **extra} or None, headers)

        return iter_pages(
            fetch_body, endpoint.paging, endpoint.envelope_key,
            page_size=self._page_size(), executor=client.executor,
            max_ahead=pages_ahead(self._records_per_call(), client.max_concurrent_per_tenant),
            start_offset=start_offset,
        )

    # -- records --------------------------------------------------------------------------------------

    def get_records(self, context: dict | None) -> Iterator[dict]:
        assert context is not None, "XeroStream is partitioned by tenant"
        self._write_child_schemas()
        # With a webhook queue and a baseline, only the records named by queued events are fetched.
        yield from self._guarded(context, lambda: targeted.tenant_records(self, context, self._tenant_records))

    def _guarded(self, context: dict, read: Callable[[], Iterator[dict]]) -> Iterator[dict]:
        """The tenant's records from ``read()``, or fewer without failing the run: for an organisation stopped
        earlier in the run (day limit, call budget), one Xero refuses this endpoint to (gating.py), and a retired
        endpoint. A stop of this organisation ends only its part of the run; anything else propagates."""
        tenant_id = context["tenant_id"]
        facts = self._tap.run_facts
        if facts.stopped(tenant_id) is not None:
            return
        state = self.get_context_state(context)
        retry_at = gating.next_probe(state, dt.datetime.now(dt.timezone.utc))
        if retry_at is not None:
            self.logger.warning(
                "Stream '%s' skipped for tenant %s: Xero refused it to this app at %s (%s); the tap asks again "
                "after %s.", self.name, tenant_id, state[gating.STATE_KEY].get("checked_at"),
                state[gating.STATE_KEY].get("reason"), retry_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            return
        try:
            yield from read()
        except errors.TenantStopped as stop:
            facts.stop(stop)
            self.logger.warning("%s The run goes on with the other organisations.", stop)
            return
        except (errors.XeroApiError, errors.AuthError) as exc:
            status = getattr(exc, "status", None)
            if self.endpoint is not None and self.endpoint.retired and status in RETIRED_STATUSES:
                self.logger.warning(
                    "Stream '%s' ends for tenant %s: Xero answered %s (classic expenses are retired for "
                    "most organisations). Deselect the stream to silence this.", self.name, tenant_id, status,
                )
                return
            if not isinstance(exc, errors.AuthorizationUnsuccessful):
                raise
            self._refused(context, exc)
            return
        except BaseException:
            self._stop_prefetch()  # the run stops here: no tenant keeps reading in the background
            raise
        finally:
            self.client.progress.stream_done(self.name, tenant_id)
        if gating.forget(state):
            self.logger.info("Stream '%s': Xero serves it to tenant %s again.", self.name, tenant_id)
            self._write_state_now()

    def _refused(self, context: dict, exc: errors.AuthorizationUnsuccessful) -> None:
        """Xero refused this endpoint to the app (gating.py): one warning and a memory, or ScopeError."""
        now = dt.datetime.now(dt.timezone.utc)
        granted = self._tap.authenticator.granted_scopes()
        scope_held = None if granted is None else not missing_scopes(stream_scopes(self), granted)
        path = exc.path or getattr(self.endpoint or getattr(self, "report", None), "path", self.name)
        message = gating.explain(
            self.name, context["tenant_id"], path, scope_held=scope_held, retry_at=now + gating.PROBE_INTERVAL
        )
        if self.config.get("fail_on_missing_scope"):
            raise errors.ScopeError(message.split(". The run goes on")[0] + ".") from None
        self.remember_refusal(context, now)
        self.logger.warning("%s", message)

    def remember_refusal(self, context: dict, now: dt.datetime | None = None) -> None:
        """Remember that Xero refused this stream for the tenant (so the next runs skip it for a day)."""
        gating.remember(self.get_context_state(context), now or dt.datetime.now(dt.timezone.utc),
                        "AuthorizationUnsuccessful")
        self._write_state_now()

    def refused_for(self, tenant_id: str) -> bool:
        """Whether Xero refused this stream for the tenant within the last day (read-only)."""
        state = self._tap.state.get("bookmarks", {}).get(self.name, {})
        for partition in state.get("partitions", ()):
            if partition.get("context", {}).get("tenant_id") == tenant_id:
                return gating.next_probe(partition, dt.datetime.now(dt.timezone.utc)) is not None
        return False

    def _write_state_now(self) -> None:
        self.state_manager.is_flushed = False
        self._write_state_message()

    def _prepare(self, record: dict, tenant_id: str) -> dict:
        self._convert(record)
        record["tenant_id"] = tenant_id
        return record

    # Tenants in parallel: while one tenant's records are written, the next few tenants' pages are read
    # by background producers into bounded queues; records are still written one tenant after another.

    def _pages_for(self, tenant_id: str, context: dict) -> Iterator[Page]:
        """This tenant's pages: prefetched if a producer was started, and start producers for the next tenants."""
        if not hasattr(self, "_prefetch"):
            self._prefetch: dict[str, Prefetch] = {}
        pages = self._prefetch.pop(tenant_id, None) or self._tenant_pages(tenant_id, *self._query_start(context))
        ids = [partition["tenant_id"] for partition in self.partitions or []]
        if tenant_id in ids:
            readers = background_readers(
                self._records_per_call(), self.client.max_concurrent_per_tenant, PREFETCH_PAGES,
                PARALLEL_TENANTS - 1,
            )
            following = ids[ids.index(tenant_id) + 1: ids.index(tenant_id) + 1 + readers]
            for other in following:
                # A tenant that reads by webhook event IDs gets no collection pages fetched ahead, nor one that
                # is stopped or refused this stream.
                if other in self._prefetch or self._tap.run_facts.stopped(other) is not None:
                    continue
                if self.refused_for(other):
                    continue
                if targeted.targeted_start(self, {"tenant_id": other}) is None:
                    # State is read here, on the writing thread; the producer only reads Xero.
                    start = self._query_start({"tenant_id": other})
                    self._prefetch[other] = Prefetch(self._tenant_pages(other, *start), PREFETCH_PAGES)
        return pages

    def _stop_prefetch(self) -> None:
        for pending in getattr(self, "_prefetch", {}).values():
            pending.close()
        self._prefetch = {}

    def _query_start(self, context: dict) -> tuple[dt.datetime | None, int, dict | None]:
        """(start moment, start offset, interrupted read) of a tenant's read, from its state and the settings.

        The interrupted read is the state's READ_MARKER plus the bookmark it left, when a previous run
        stopped in the middle of a shift-guarded read (see _tenant_pages).
        """
        start_offset = 0
        if self._pages_by_offset:
            start_offset = self._bookmark(context) or 0
        state = self.get_context_state(context)
        marker = state.get(READ_MARKER)
        interrupted = None
        if self._guards_shifts and isinstance(marker, dict):
            interrupted = {**marker, "bookmark": marker.get("until") or state.get("replication_key_value")}
        return self._start(context), start_offset, interrupted

    def _bookmark(self, context: dict) -> Any:
        """The tenant's saved replication value. For an offset stream (Journals) it must be a JournalNumber:
        anything else (e.g. a start date an orchestrator put there) means "from the first journal"."""
        if not self.replication_key:
            return None
        value = self.get_context_state(context).get("replication_key_value")
        if self._pages_by_offset:
            return int(value) if str(value).isdigit() else None
        return value

    def _tenant_records(self, tenant_id: str, context: dict) -> Iterator[dict]:
        rk = self.replication_key
        bookmark = self._bookmark(context)
        save_state = bool(rk) and self.selected
        sorted_pages = self.is_sorted
        children = self._selected_children()
        progress = self.client.progress
        progress.start(self.name, tenant_id)
        # A shift-guarded read marks its state until its repair is done (see _tenant_pages); a resumed
        # read keeps the marker of the read it resumes, whose window may still hide a skipped record.
        marker = self.get_context_state(context).get(READ_MARKER) if save_state and self._guards_shifts else None
        since = self._start(context)  # before this read moves the bookmark
        facts, guard = self._tap.run_facts, self.client.guard
        facts.read_started(self.name, tenant_id, bookmark if isinstance(bookmark, int) else 0)
        pages = self._pages_for(tenant_id, context)
        try:
            for page in pages:
                for record in page.records:
                    for child in children:
                        child.write_rows(record, tenant_id)
                    yield record
                # Every record of the page is written: a safe point for sorted streams.
                facts.observe_page(self.name, tenant_id, page.records)
                bookmark = self._advance(bookmark, page.records)
                if page.marker_update and marker is not None:
                    marker = {**marker, **page.marker_update}
                if save_state and sorted_pages:
                    if marker is None and self._guards_shifts:
                        marker = {
                            "since": values.to_datetime_string(since.isoformat()) if since else None,
                            "started": values.to_datetime_string(self._server_moment(page.server_time).isoformat()),
                        }
                    self._save_bookmark(context, bookmark, marker)
                progress.page_done(
                    self.name, tenant_id, records=len(page.records), page=page.number, page_count=page.page_count
                )
                guard.check_stop()  # a SIGTERM stops here, with this page's state saved
        finally:
            if isinstance(pages, Prefetch):
                pages.close()
        if save_state:
            self._save_bookmark(context, bookmark)
        facts.read_complete(self.name, tenant_id)

    def _window(self, start: dt.datetime | None) -> tuple[dt.datetime | None, str | None]:
        """(If-Modified-Since, client-side floor) of a read from ``start``: endpoints that ignore the header
        are filtered here, without ending paging early."""
        endpoint = self.endpoint
        assert endpoint is not None
        ims = start if (start is not None and self.replication_key and endpoint.if_modified_since) else None
        floor = None
        if start is not None and ims is None and self._timestamp_key:
            floor = values.to_datetime_string(start.isoformat())
        return ims, floor

    def _tenant_pages(
        self, tenant_id: str, start: dt.datetime | None, start_offset: int, interrupted: dict | None = None
    ) -> Iterator[Page]:
        """Every page to write for one tenant, records prepared (converted, tenant_id) and filtered.

        Reads only: nothing here writes a message, so it may run on a producer thread.
        """
        endpoint = self.endpoint
        assert endpoint is not None
        rk = self.replication_key
        params = self._base_params()
        ims, floor = self._window(start)
        guard = ShiftGuard(endpoint.id_field, rk) if self._guards_shifts else None
        newest = interrupted.get("bookmark") if interrupted else None  # the newest version known to exist

        def prepared(page: Page, only_unseen: bool, keep_floor: str | None) -> Page:
            nonlocal newest
            kept = []
            for record in page.records:
                if only_unseen and guard is not None and not guard.is_new(record, self._version(record)):
                    continue
                record = self._prepare(record, tenant_id)
                version = record.get(rk) if rk else None
                if keep_floor is not None and (version or "") < keep_floor:
                    continue
                if guard is not None:
                    guard.observe_record(record)
                if version is not None and (newest is None or version > newest):
                    newest = version
                kept.append(record)
            return Page(page.number, kept, page.page_count, page.item_count, page.server_time)

        server_start: str | None = None
        pages_read = 0
        for page in self._query_pages(tenant_id, params, ims, start_offset):
            pages_read += 1
            server_start = server_start or page.server_time
            if guard is not None:
                if pages_read == 1:  # only records edited after this can move: the guard remembers those
                    moment = self._server_moment(page.server_time) - SHIFT_MEMORY_MARGIN
                    guard.changed_since = values.to_datetime_string(moment.isoformat())
                guard.observe_page(page)
            yield prepared(page, False, floor)

        if guard is None:
            return
        if interrupted is not None and self._changed_since(interrupted, newest):
            # A previous run was killed mid-read, and records changed after that read began: one of them
            # may have pushed a record onto a page it had already read, behind the bookmark it saved. The
            # window of that read is read again (what this run already emitted is not emitted twice).
            self.logger.info(
                "Stream '%s', tenant %s: the previous run stopped in the middle of a read and records have "
                "changed since; reading its window again so that no record is lost.", self.name, tenant_id,
            )
            since, reached = interrupted.get("since"), interrupted.get("bookmark")
            ims, floor = self._window(values.parse_datetime(since) if since else None)
            window = self._query_pages(tenant_id, params, ims)
            try:
                for page in window:
                    pages_read += 1
                    guard.observe_page(page)
                    fresh = prepared(page, True, floor)
                    if page.records:
                        # Once this page is written, a run stopped from here on resumes the window here (sorted,
                        # so nothing before it can hide a record any more) up to the same end: each run progresses.
                        fresh.marker_update = {"since": str(self._version(page.records[-1])), "until": reached}
                    yield fresh
                    # Past the bookmark that read reached, this run has read everything already.
                    if reached is not None and page.records and str(self._version(page.records[-1])) > str(reached):
                        break
            finally:
                window.close()  # pages fetched ahead and not started are cancelled
        if pages_read < 2:
            return  # one call is atomic: nothing can have shifted
        # Page shift: see the module docstring.
        for _ in range(MAX_TAIL_PASSES):
            tail_since = self._server_moment(server_start) - IMS_MARGIN
            server_start = None
            new = 0
            for page in self._query_pages(tenant_id, params, tail_since):
                server_start = server_start or page.server_time
                fresh = prepared(page, True, None)
                new += len(fresh.records)
                yield fresh
            if not new:
                break
        for attempt in range(MAX_SHIFT_RECOVERIES):
            if not guard.missing:
                break
            self.logger.warning(
                "Stream '%s', tenant %s: %d record(s) moved while paging (page shift); reading the query "
                "again for them (attempt %d).", self.name, tenant_id, guard.missing, attempt + 1,
            )
            for page in self._query_pages(tenant_id, params, ims):
                guard.observe_page(page)
                yield prepared(page, True, floor)
        if guard.missing:
            self.logger.warning(
                "Stream '%s', tenant %s: Xero counted %d more record(s) than it served; they will be read "
                "by the next run's look-back (lookback_days).", self.name, tenant_id, guard.missing,
            )

    @staticmethod
    def _changed_since(interrupted: dict, newest: Any) -> bool:
        """Whether a record may have been edited after the interrupted read began (the newest version
        known is at or after its start, less SHIFT_MEMORY_MARGIN for the time a query takes)."""
        if newest is None:
            return False
        started = interrupted.get("started")
        if not isinstance(started, str):
            return True  # a marker without its start: assume the worst
        moment = XeroStream._server_moment(started) - SHIFT_MEMORY_MARGIN
        return str(newest) >= values.to_datetime_string(moment.isoformat())

    def _version(self, raw_record: dict) -> object:
        """The replication value of a record not yet converted, as it will be once converted."""
        version = raw_record.get(self.replication_key) if self.replication_key else None
        return values.to_datetime_string(version) if isinstance(version, str) else version

    def _advance(self, bookmark: Any, records: list[dict]) -> Any:
        rk = self.replication_key
        if not rk:
            return bookmark
        for record in records:
            value = record.get(rk)
            if value is not None and (bookmark is None or value > bookmark):
                bookmark = value
        return bookmark

    def _save_bookmark(self, context: dict, bookmark: Any, marker: dict | None = None) -> None:
        """Save the tenant's bookmark and READ_MARKER (None: the read is complete) in one STATE message."""
        state = self.get_context_state(context)
        changed = False
        if bookmark is not None and state.get("replication_key_value") != bookmark:
            state["replication_key"] = self.replication_key
            state["replication_key_value"] = bookmark
            changed = True
        if state.get(READ_MARKER) != marker:
            if marker is None:
                state.pop(READ_MARKER, None)
            else:
                state[READ_MARKER] = marker
            changed = True
        if changed:
            self.state_manager.is_flushed = False
            self._write_state_message()

    @staticmethod
    def _server_moment(server_time: str | None) -> dt.datetime:
        """Xero's clock at the first page (its DateTimeUTC); our own clock minus a minute if absent."""
        if server_time:
            try:
                return values.parse_datetime(server_time)
            except ValueError:
                pass
        return dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)

    # -- child tables ---------------------------------------------------------------------------------

    def _selected_children(self) -> list[XeroChildStream]:
        return [child for child in self.child_streams if isinstance(child, XeroChildStream) and child.selected]

    def _write_child_schemas(self) -> None:
        if self._child_schemas_written:
            return
        self._child_schemas_written = True
        for child in self._selected_children():
            child._write_schema_message()


class XeroChildStream(XeroStream):
    """Rows of a list inside each parent record (line items, journal lines). See the module docstring."""

    lines_field: ClassVar[str] = "LineItems"
    parent_id_field: ClassVar[str] = ""

    @property
    def partitions(self) -> list[dict] | None:
        return None  # never synced on its own

    def get_records(self, context: dict | None) -> Iterator[dict]:
        return iter(())

    def write_rows(self, parent: dict, tenant_id: str) -> None:
        """Write this table's rows for one (already converted) parent record."""
        lines = parent.get(self.lines_field)
        if not lines:
            return
        parent_id = parent.get(self.parent_id_field)
        for number, line in enumerate(lines, 1):
            row = dict(line)
            row["tenant_id"] = tenant_id
            row[self.parent_id_field] = parent_id
            row["line_number"] = number
            self._write_record_message(row)
        self.client.progress.add_records(self.name, tenant_id, len(lines))


class XeroReportStream(XeroStream):
    """One Xero report, one row per report line per calendar month. See the module docstring."""

    report: ClassVar[Report | None] = None

    def get_records(self, context: dict | None) -> Iterator[dict]:
        assert context is not None and self.report is not None
        yield from self._guarded(context, lambda: self._report_rows(context))

    def _report_rows(self, context: dict) -> Iterator[dict]:
        assert self.report is not None
        tenant_id = context["tenant_id"]
        settings = self._tap.settings
        journals = self._tap.streams.get(JOURNALS_STREAM)
        granted = self._tap.authenticator.granted_scopes()
        journals_allowed = (
            isinstance(journals, XeroStream) and not journals.refused_for(tenant_id)
            and not missing_scopes(stream_scopes(journals), granted)
        )
        reader = ReportReader(
            self.report, tenant_id, stream_name=self.name, client=self.client, facts=self._tap.run_facts,
            state=self.get_context_state(context), save_state=self._write_state_now,
            history_months=settings.report_history_months, reread_months=settings.report_reread_months,
            journals_allowed=journals_allowed,
            on_journals_refused=lambda: journals.remember_refusal({"tenant_id": tenant_id}),  # type: ignore[union-attr]
            convert=self._convert, logger=self.logger, now=dt.datetime.now(dt.timezone.utc),
        )
        self.client.progress.start(self.name, tenant_id)
        yield from reader.rows()
