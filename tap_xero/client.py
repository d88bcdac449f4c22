"""The base streams: stream classes declare data; the SDK's hooks are here; the mechanics are in ``sync/``.

Declaring a stream (tap_xero/streams/)
--------------------------------------
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
re-read in full each run). The tap lists child classes among its streams (the SDK wires
``parent_stream_type``, set here from ``child_tables``).

``XeroReportStream`` subclass attributes: ``name``, ``primary_keys``, ``report`` (an ``endpoints.Report``):
one row per report line per calendar month over ``report_history_months`` (sync/report_reader.py; a report
``by_tracking``, one row per line, month and tracking option: sync/report_tracking.py).

How one tenant of one stream is read (every stream is partitioned by tenant; state is per tenant)
-------------------------------------------------------------------------------------------------
``get_records`` reads every tenant at once during a run (``partitions`` is then None, so the SDK asks once;
state stays per tenant): ``sync.outcomes`` says which tenants to read (not one stopped or refused); a tenant
with a webhook baseline reads by event ids (webhooks/targeted.py); the others read their collection
(``sync.collection.CollectionRead``: the query of ``sync.query``, the page-shift repair, an interrupted window
read again) on reader threads of ``sync.fan_in``, whose pages are written as they arrive, each followed by its
safe point (``sync.tenant_sync.TenantWriter``: child rows, state in ``sync.read_state``, progress).
What the tap provides (tap.py): ``tap.xero_client`` (http.XeroClient), ``tap.tenants``, ``tap.run_facts``,
``tap.settings``, ``tap.authenticator``.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast

import singer_sdk.singerlib as singer
from singer_sdk import Tap
from singer_sdk.helpers import types
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_xero import values
from tap_xero.endpoints import Endpoint, Report
from tap_xero.output import direct_record_maps, record_message
from tap_xero.paging import RecordsBudget
from tap_xero.scopes import missing_scopes, stream_scopes
from tap_xero.sdk_compat import CompatStream
from tap_xero.sync import gating
from tap_xero.sync.calls_ahead import FirstCall
from tap_xero.sync.collection import CollectionRead, first_call, page_source
from tap_xero.sync.outcomes import TenantOutcomes
from tap_xero.sync.fan_in import MAX_READERS, RECORDS_BUDGET, Delivery, TenantRead, written_records
from tap_xero.sync.query import CollectionQuery
from tap_xero.sync.read_state import ReadState
from tap_xero.sync.report_reader import ReportReader
from tap_xero.sync.report_tracking import TrackingReportReader
from tap_xero.sync.run_facts import JOURNALS_STREAM
from tap_xero.sync.tenant_sync import TenantWriter
from tap_xero.webhooks import targeted

if TYPE_CHECKING:  # for types only: the HTTP client is built on first use (--about needs none)
    from collections.abc import Mapping

    from tap_xero.auth import XeroAuthenticator
    from tap_xero.http import XeroClient
    from tap_xero.settings import XeroSettings
    from tap_xero.sync.run_facts import RunFacts
    from tap_xero.tenants import Tenant

SCHEMAS_DIR = Path(__file__).parent / "schemas"


@dataclass(slots=True)
class XeroStreamMetadata(singer.StreamMetadata):
    """Stream metadata plus ``required-scopes``: any one of them grants the stream (broad or granular)."""

    required_scopes: list[str] | None = None


class TapServices(Protocol):
    """What a stream is given by the tap (``tap.TapXero``, which implements it; a test there holds it to it)."""

    @property
    def xero_client(self) -> XeroClient: ...
    @property
    def tenants(self) -> list[Tenant]: ...
    @property
    def settings(self) -> XeroSettings: ...
    @property
    def authenticator(self) -> XeroAuthenticator: ...
    @property
    def run_facts(self) -> RunFacts: ...
    @property
    def reads_all_tenants_at_once(self) -> bool: ...
    @property
    def state(self) -> Mapping[str, Any]: ...
    @property
    def streams(self) -> Mapping[str, Any]: ...
    @property
    def config(self) -> Mapping[str, Any]: ...
    def stream_started(self, stream: Any) -> None: ...  # noqa: ANN401 - a stream of the tap


def _remember_refusal(stream: XeroStream | None, tenant_id: str) -> None:
    if stream is not None:
        stream.remember_refusal({"tenant_id": tenant_id})


def _tenant_id(tenant: Tenant | str) -> str:
    return tenant if isinstance(tenant, str) else str(tenant.tenant_id)


class XeroStream(CompatStream):
    """One Xero collection, read per tenant. See the module docstring."""

    endpoint: ClassVar[Endpoint | None] = None
    child_tables: ClassVar[tuple[type[XeroChildStream], ...]] = ()
    # Records already carry JSON types (values.py): skip the SDK's per-record type conformance (hot path).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for child in cls.__dict__.get("child_tables", ()):
            child.parent_stream_type = cls

    def __init__(self, tap: Tap, schema: dict | None = None, name: str | None = None) -> None:
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
        return self.endpoint is not None and self.query.sorted

    @property
    def check_sorted(self) -> bool:
        return False

    def generate_child_contexts(self, record: dict, context: types.Context | None) -> Iterable[dict | None]:
        return ()  # child rows are written inline from the parent's record (no SDK child sync)

    def direct_record_messages(self, record: dict) -> list[dict] | None:
        """The record's messages as the dictionaries the tap's writer encodes (``output.XeroWriter``).

        The SDK (0.54) copies and walks every record to drop deselected properties even when every property
        is selected, then builds a RecordMessage object to turn it back into a dictionary for the encoder;
        per record that costs more than reading it from Xero. When nothing is deselected
        (``output.direct_record_maps``) each stream map's record goes out as the message's dictionary
        directly, and maps that leave records as they are are not called. None: the SDK's own path.
        """
        maps = self._record_maps
        if maps is None:
            maps = self._record_maps = direct_record_maps(self)
        if maps is False:
            return None
        now = dt.datetime.now(dt.timezone.utc)
        version = self.stream_version
        messages = []
        for alias, transform in maps:  # type: ignore[union-attr]
            mapped = record if transform is None else transform(record)
            if mapped is not None:
                messages.append(record_message(alias, mapped, version, now))
        return messages

    # -- what the sync modules are given --------------------------------------------------------------

    @property
    def tap(self) -> TapServices:
        return cast("TapServices", super().tap)

    @property
    def client(self) -> XeroClient:
        return self.tap.xero_client

    @functools.cached_property
    def query(self) -> CollectionQuery:
        assert self.endpoint is not None
        return CollectionQuery.for_stream(self.endpoint, self.replication_key, dict(self.config))

    @functools.cached_property
    def outcomes(self) -> TenantOutcomes:
        source = self.endpoint or getattr(self, "report", None)
        return TenantOutcomes(
            self.name, getattr(source, "path", self.name), retired=bool(self.endpoint and self.endpoint.retired),
            fail_on_refusal=bool(self.config.get("fail_on_missing_scope")), scope_held=self._scope_held,
            facts=self.tap.run_facts, logger=self.logger,
        )

    def _scope_held(self) -> bool | None:
        granted = self.tap.authenticator.granted_scopes()
        return None if granted is None else not missing_scopes(stream_scopes(self), granted)

    def tenant_state(self, context: types.Context) -> dict:
        """This stream's state for one tenant (a partition of the Singer state)."""
        return self.get_context_state(context)

    def base_params(self) -> dict[str, Any]:
        return self.query.base_params()

    def prepare_record(self, record: dict, tenant_id: str) -> dict:
        """A raw Xero record as written: values converted (values.py), ``tenant_id`` added. In place."""
        self._convert(record)
        record["tenant_id"] = tenant_id
        return record

    def write_child_rows(self, record: dict, tenant_id: str) -> None:
        for child in self._selected_children():
            child.write_rows(record, tenant_id)

    def stored_tenant_state(self, tenant_id: str) -> dict:
        """This stream's state for one tenant as the run holds it, without creating it (read-only use)."""
        state = self.tap.state.get("bookmarks", {}).get(self.name, {})
        for partition in state.get("partitions", ()):
            if partition.get("context", {}).get("tenant_id") == tenant_id:
                return partition
        return {}

    def refused_for(self, tenant_id: str) -> bool:
        """Whether Xero refused this stream for the tenant within the last day (reads the state only)."""
        return gating.next_probe(self.stored_tenant_state(tenant_id), dt.datetime.now(dt.timezone.utc)) is not None

    def first_call(self, tenant_id: str) -> FirstCall | None:
        """The first call this stream's read of ``tenant_id`` will make, from the state as it stands (nothing
        changed); None when it will not read the tenant's collection (stopped, refused, by webhook event ids,
        a report). For sync/calls_ahead.py."""
        if self.endpoint is None or self.endpoint.parent is not None:
            return None  # a per-parent read (a project's tasks) starts with its parent's list: not predicted
        state = copy.deepcopy(self.stored_tenant_state(tenant_id))
        if not self.outcomes.may_read(tenant_id, state):
            return None
        if targeted.targeted_start(self, {"tenant_id": tenant_id}, targeted.webhook_sync(self.tap)) is not None:
            return None
        params, headers = first_call(self.query, ReadState(state, self.replication_key, lambda: None))
        return FirstCall(self.name, self.endpoint.path, params, headers, self.query.records_per_call,
                         self.endpoint.envelope_key)

    def remember_refusal(self, context: types.Context) -> None:
        """Remember that Xero refused this stream for the tenant (the next runs skip it for a day)."""
        self.outcomes.remember_refusal(self.tenant_state(context), self.write_state_now)

    # -- records --------------------------------------------------------------------------------------

    @property
    def partitions(self) -> list[dict] | None:
        # During a run every tenant is read at once (get_records(None)); state stays per tenant.
        if self.tap.reads_all_tenants_at_once:
            return None
        return [{"tenant_id": _tenant_id(tenant)} for tenant in self.tap.tenants]

    def get_records(self, context: types.Context | None) -> Iterator[dict]:
        self._write_child_schemas()
        self.tap.stream_started(self)
        tenant_ids = [_tenant_id(t) for t in self.tap.tenants] if context is None else [context["tenant_id"]]
        sync = targeted.webhook_sync(self.tap)
        reads = []
        budget = RecordsBudget(RECORDS_BUDGET)  # what all the tenants' reads hold at once (sync/fan_in.py)
        for tenant_id in tenant_ids:
            context = {"tenant_id": tenant_id}
            state = self.tenant_state(context)
            if not self.outcomes.may_read(tenant_id, state):
                continue
            if targeted.targeted_start(self, context, sync) is not None:
                # By webhook event ids: a few calls, read here, before the collections of the others.
                by_ids = functools.partial(targeted.tenant_records, self, context, self._not_targeted, sync)
                yield from self.outcomes.read(tenant_id, state, self.write_state_now, by_ids)
                self.client.progress.stream_done(self.name, tenant_id)
                continue
            reads.append(self._collection_read(tenant_id, state, sync, budget))
        yield from written_records(reads, self.outcomes, self.write_state_now, self.write_child_rows, MAX_READERS,
                                   self.client.readers)
        if self.batch_mode:
            self.before_batch_written()  # every tenant's child rows are in files, even when the parent is not

    def _collection_read(self, tenant_id: str, state: dict, sync: targeted.WebhookSync | None,
                         budget: RecordsBudget) -> TenantRead:
        """One tenant's read of this collection, set up here (state is read on the writing thread)."""
        query = self.query
        read_state = ReadState(state, self.replication_key, self.write_state_now)
        writer = TenantWriter(
            self.name, tenant_id, query, read_state, save_state=bool(self.replication_key) and self.selected,
            write_children=lambda record: self.write_child_rows(record, tenant_id), facts=self.tap.run_facts,
            progress=self.client.progress, check_stop=self.client.guard.check_stop,
        )
        writer.begin(
            query.offset_bookmark(read_state.bookmark) if query.pages_by_offset else read_state.bookmark,
            query.start(read_state.bookmark),  # before this read moves the bookmark
        )
        read = CollectionRead(
            query, page_source(self.client, tenant_id, query, budget, known=self.tap.run_facts),
            lambda record: self.prepare_record(record, tenant_id),
            start=query.start(read_state.bookmark),
            start_offset=(query.offset_bookmark(read_state.bookmark) or 0) if query.pages_by_offset else 0,
            interrupted=read_state.interrupted() if query.guards_shifts else None,
            logger=self.logger, label=f"Stream '{self.name}', tenant {tenant_id}",
        )

        def deliveries() -> Iterator[Delivery]:
            for page in read.pages():
                yield Delivery(page.records, after=functools.partial(writer.page_written, page), claim=page.claim)

        def finished() -> None:
            writer.finish()
            targeted.normal_read_done(self, {"tenant_id": tenant_id}, sync)

        return TenantRead(tenant_id, state, deliveries, finished,
                          done=lambda: self.client.progress.stream_done(self.name, tenant_id))

    def _not_targeted(self, tenant_id: str, context: types.Context) -> Iterator[dict]:
        raise AssertionError("a tenant that reads by event ids is read by targeted.tenant_records")

    # -- child tables ---------------------------------------------------------------------------------

    def before_batch_written(self) -> None:
        """In batch mode the child tables' rows go to files before the parent's batch (and the STATE after it)."""
        for child in self._selected_children():
            child.flush_batch()

    def _selected_children(self) -> list[XeroChildStream]:
        return [child for child in self.child_streams if isinstance(child, XeroChildStream) and child.selected]

    def _write_child_schemas(self) -> None:
        if self._child_schemas_written:
            return
        self._child_schemas_written = True
        for child in self._selected_children():
            child.write_schema()


class XeroChildStream(XeroStream):
    """Rows of a list inside each parent record (line items, journal lines). See the module docstring."""

    lines_field: ClassVar[str] = "LineItems"
    parent_id_field: ClassVar[str] = ""

    @property
    def partitions(self) -> list[dict] | None:
        return None  # never synced on its own

    def get_records(self, context: types.Context | None) -> Iterator[dict]:
        return iter(())

    def write_rows(self, parent: dict, tenant_id: str) -> None:
        """Write this table's rows for one (already converted) parent record (in batch mode: held for the
        next batch, written at the latest before the parent's next BATCH message)."""
        lines = parent.get(self.lines_field)
        if not lines:
            return
        parent_id = parent.get(self.parent_id_field)
        batching = self.batch_mode
        for number, line in enumerate(lines, 1):
            row = dict(line)
            row["tenant_id"] = tenant_id
            row[self.parent_id_field] = parent_id
            row["line_number"] = number
            if batching:
                self._held.append(row)
            else:
                self.write_record(row)
        self.client.progress.add_records(self.name, tenant_id, len(lines))
        if batching and len(self._held) >= self._batch_size:
            self.flush_batch()

    @functools.cached_property
    def _held(self) -> list[dict]:
        return []

    @functools.cached_property
    def _batch_size(self) -> int:
        batch_config = self.get_batch_config(self.config)
        return batch_config.batch_size if batch_config is not None else 0

    def flush_batch(self) -> None:
        """Write the rows held for a batch (batch mode)."""
        if self._held:
            rows, self._held[:] = list(self._held), []
            self.write_batch(rows)


class XeroReportStream(XeroStream):
    """One Xero report, one row per report line per calendar month. See the module docstring."""

    report: ClassVar[Report | None] = None

    def get_records(self, context: types.Context | None) -> Iterator[dict]:
        assert self.report is not None
        self.tap.stream_started(self)
        tenant_ids = [_tenant_id(t) for t in self.tap.tenants] if context is None else [context["tenant_id"]]
        reads = []
        for tenant_id in tenant_ids:
            state = self.tenant_state({"tenant_id": tenant_id})
            if self.outcomes.may_read(tenant_id, state):
                reader = self._reader(tenant_id, state)
                reads.append(TenantRead(tenant_id, state, reader.deliveries,
                                        done=functools.partial(self.client.progress.stream_done, self.name, tenant_id)))
        yield from written_records(reads, self.outcomes, self.write_state_now, self.write_child_rows, MAX_READERS,
                                   self.client.readers)

    def _reader(self, tenant_id: str, state: dict) -> ReportReader:
        assert self.report is not None
        settings = self.tap.settings
        found = self.tap.streams.get(JOURNALS_STREAM)
        journals = found if isinstance(found, XeroStream) else None
        granted = self.tap.authenticator.granted_scopes()
        journals_allowed = journals is not None and not journals.refused_for(tenant_id) and not missing_scopes(
            stream_scopes(journals), granted)
        reader = TrackingReportReader if self.report.by_tracking else ReportReader
        return reader(
            self.report, tenant_id, stream_name=self.name, client=self.client, facts=self.tap.run_facts,
            state=state, save_state=self.write_state_now,
            history_months=settings.report_history_months, reread_months=settings.report_reread_months,
            journals_allowed=journals_allowed,
            on_journals_refused=functools.partial(_remember_refusal, journals, tenant_id),
            convert=self._convert, logger=self.logger, now=dt.datetime.now(dt.timezone.utc),
        )
