"""TapXero: settings, authenticator, HTTP client, tenants and the stream list.

Nothing that needs credentials or the network happens while constructing the tap, for ``--about``
or for ``--discover``: the authenticator, ``xero_client`` and ``tenants`` are built on first use.
A sync or ``--test`` first runs ``preflight()``: the config is checked (ConfigError), the token is
checked or fetched (AuthError), streams whose scope is not granted are left out (or ScopeError),
and the tenants are resolved, all before the first record.

However a sync ends (success, a stop at the token deadline or the call budget, Xero's day limit, a
refused request, SIGTERM/SIGINT, a crash), its last line on stdout is a STATE covering exactly the records
written: an integration platform resumes from the last line (``platform_state``). An organisation stopped
early (day limit, ``call_budget``) does not stop the others; the run then ends with exit 75.
SIGTERM/SIGINT ask the run to stop at its next safe point (``run_guard``); a second one stops at once.

Expected errors (``errors.TapXeroError``) end the CLI with one line and their exit status, never a
traceback.
"""

from __future__ import annotations

import copy
import gc
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass
from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, ClassVar, cast

import click
from singer_sdk import Stream
from singer_sdk.helpers.capabilities import CapabilitiesEnum, PluginCapabilities, TapCapabilities
from singer_sdk.plugin_base import SingerCommand
from singer_sdk.singerlib import StateMessage

from tap_xero import errors
from tap_xero.auth import XeroAuthenticator
from tap_xero.client import XeroStream
from tap_xero.memory import limit_malloc_arenas
from tap_xero.output import XeroWriter
from tap_xero.platform_state import echo_input_state, input_state
from tap_xero.run_guard import RunGuard
from tap_xero.scopes import drop_ungranted_streams
from tap_xero.sdk_compat import CompatTap, read_json_file
from tap_xero.streams import STREAM_CLASSES
from tap_xero.sync.calls_ahead import AHEAD_DAY_RESERVE, AHEAD_STREAMS, CallsAhead, PlansAhead
from tap_xero.sync.fan_in import MAX_READERS
from tap_xero.sync.run_facts import RunFacts
from tap_xero.sync.unfinished import STATE_KEY as UNFINISHED_KEY
from tap_xero.sync.unfinished import UnfinishedSyncs
from tap_xero.webhooks import targeted
from tap_xero.webhooks.stream import webhook_streams
from tap_xero.settings import CONFIG_SCHEMA, XeroSettings, merge_sources
from tap_xero.tenants import Tenant, fetch_connections, resolve_tenants

if TYPE_CHECKING:  # imported when first used: --about and --discover need no HTTP client
    from tap_xero.client import TapServices
    from tap_xero.http import XeroClient

    def _implements_tap_services(tap: TapXero) -> TapServices:  # mypy holds TapXero to what streams use
        return tap


def _read_config(config: dict | PurePath | str | list[PurePath | str] | None) -> dict[str, Any]:
    """The config as given: a dict, or one or more JSON files (later files win)."""
    if config is None:
        return {}
    if isinstance(config, dict):
        return dict(config)
    paths = config if isinstance(config, list) else [config]
    merged: dict[str, Any] = {}
    for path in paths:
        merged.update(read_json_file(path))
    return merged


def _new_client(settings: XeroSettings, authenticator: XeroAuthenticator, guard: RunGuard,
                logger: logging.Logger) -> XeroClient:
    """The run's HTTP client, built on first use (--about and --discover need none)."""
    from tap_xero.app_limiter_pg import open_app_limiter
    from tap_xero.http import XeroClient

    return XeroClient(
        settings.api_url,
        authenticator,
        timeout=settings.request_timeout,
        max_concurrent_per_tenant=settings.max_concurrent_requests,
        logger=logger,
        guard=guard,
        call_budget=settings.call_budget,
        reader_threads=MAX_READERS,
        app_per_minute=settings.app_calls_per_minute,
        shared_app=open_app_limiter(settings, logger),
    )


def _calls_ahead(client: XeroClient, facts: RunFacts) -> CallsAhead:
    """Calls ahead for the run, none for an organisation stopped or short of calls today."""
    day_left = client.limits.day_left

    def may_call(tenant_id: str) -> bool:
        left = day_left.get(tenant_id, AHEAD_DAY_RESERVE)
        return facts.stopped(tenant_id) is None and left >= AHEAD_DAY_RESERVE

    return CallsAhead(client.call, may_call=may_call)


def _as_dict(state: object) -> dict[str, Any]:
    return cast("dict[str, Any]", state)  # the SDK types the state as a TypedDict of the keys it writes


@dataclass(frozen=True)
class _NoCallAhead:
    """A stream with no first call to make ahead (a webhook stream): it keeps its place in the order."""

    name: str

    def first_call(self, tenant_id: str) -> None:
        return None


class XeroCommand(SingerCommand):
    """The SDK's command, plus ``tap-xero auth ...`` (the connect helper), and expected errors as one
    redacted log line and their exit status instead of a traceback."""

    ends_process = False  # True while the console command runs: the process exits after it

    def main(self, args: Sequence[str] | None = None, *more: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        arguments = list(sys.argv[1:] if args is None else args)
        limit_malloc_arenas()  # before any thread starts (memory.py)
        if arguments[:1] == ["auth"]:
            from tap_xero.auth_cli import main as auth_main

            sys.exit(auth_main(arguments[1:]))
        XeroCommand.ends_process = True  # see TapXero.sync_all
        try:
            return super().main(arguments, *more, **kwargs)
        except errors.TapXeroError as exc:
            # Parameter callbacks (--discover, --test) run outside invoke(), so catch here.
            self.logger.error("%s", errors.redact(str(exc)))
            if not TapXero.final_state_written:
                # Stopped before a sync could begin (a bad setting): hand the platform's state on unchanged, so
                # the next run, once the setting is fixed, still resumes where the last one stopped.
                echo_input_state(os.environ)
            sys.exit(exc.exit_code)
        finally:
            XeroCommand.ends_process = False


class TapXero(CompatTap):
    """Singer tap for the Xero Accounting API (every tenant a token reaches, incremental, rate-limit aware)."""

    name = "tap-xero"
    package_name = "tap-xero"
    config_jsonschema = CONFIG_SCHEMA
    # The SDK's msgspec encoding (several times faster than the default writer; Decimal amounts as exact
    # JSON numbers), buffered and without per-message copies: the hot path of every record (output.py).
    message_writer_class = XeroWriter
    # Not ACTIVATE_VERSION: a run writes only what changed (incremental streams, child tables, report months)
    # and may stop an organisation early, so "rows without this version are gone" would delete live rows.
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        TapCapabilities.CATALOG, TapCapabilities.STATE, TapCapabilities.DISCOVER, PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS, PluginCapabilities.FLATTENING, PluginCapabilities.BATCH,
        PluginCapabilities.STRUCTURED_LOGGING,
    ]
    final_state_written = False  # by a sync of this process (XeroCommand hands on the platform's state if not)
    _calls_ahead: CallsAhead | None = None  # for a run (sync/calls_ahead.py)
    reads_all_tenants_at_once = False  # set for a run: each stream reads every tenant at once (sync/fan_in.py)

    def __init__(
        self,
        *,
        config: dict | PurePath | str | list[PurePath | str] | None = None,
        parse_env_config: bool = False,
        validate_config: bool = True,
        environ: Mapping[str, str] | None = None,
        **kwargs: Any,  # noqa: ANN401 - passed on to the SDK's Tap
    ) -> None:
        explicit = _read_config(config)
        if parse_env_config:
            explicit.update(self.env_var_config)  # TAP_XERO_* over the files (SDK convention)
        environ = os.environ if environ is None else environ
        merged, self._setting_origins = merge_sources(explicit, environ)
        self._settings: XeroSettings | None = None
        self._authenticator: XeroAuthenticator | None = None
        self._xero_client: XeroClient | None = None
        self._tenants: list[Tenant] | None = None
        self._lazy_lock = threading.RLock()
        self.run_facts = RunFacts()
        self._run_guard: RunGuard | None = None
        platform_warning = None
        if kwargs.get("state") is None:  # --state wins over the platform's last line
            kwargs["state"], platform_warning = input_state(environ)
        super().__init__(config=merged, parse_env_config=False, validate_config=validate_config, **kwargs)
        if platform_warning:
            self.logger.warning("%s", platform_warning)

    def load_state(self, state: dict[str, Any]) -> None:
        """The SDK's (the streams' bookmarks), and the syncs left unfinished (sync/unfinished.py)."""
        super().load_state(state)
        if UNFINISHED_KEY in state:
            _as_dict(self.state)[UNFINISHED_KEY] = copy.deepcopy(state[UNFINISHED_KEY])

    def check_settings(self) -> None:
        """Our checks before the SDK's, so a bad value gets a message naming the setting and the fix."""
        if self.config.get("emit_activate_version_messages"):
            raise errors.ConfigError(
                "emit_activate_version_messages", "is not supported: tap-xero writes only what changed, so a target "
                "that deletes rows missing from a run's version would delete live rows",
                "unset it; use full-table loads in the target if you need deletions (docs/streams.md)",
            )
        settings = self.settings
        has_store = XeroAuthenticator.store_has_token(settings)
        settings.auth_mode(stored_refresh_token=has_store)

    @classmethod
    def get_singer_command(cls) -> click.Command:
        command = super().get_singer_command()
        xero_command = XeroCommand(
            name=command.name, callback=command.callback, params=command.params,
            help=f"{command.help} To connect your own Xero app first, run `tap-xero auth --help`.",
            context_settings=command.context_settings, logger=cls.logger,
        )
        return xero_command

    # Lazily built parts ------------------------------------------------------------------------

    @property
    def settings(self) -> XeroSettings:
        with self._lazy_lock:
            if self._settings is None:
                self._settings = XeroSettings.from_config(self.config, self._setting_origins)
            return self._settings

    @property
    def authenticator(self) -> XeroAuthenticator:
        with self._lazy_lock:
            if self._authenticator is None:
                self._authenticator = XeroAuthenticator(self.settings, logger=self.logger)
            return self._authenticator

    @property
    def run_guard(self) -> RunGuard:
        """The run-wide reasons to stop (a stop request, the token deadline): checked before every call."""
        with self._lazy_lock:
            if self._run_guard is None:
                self._run_guard = RunGuard(
                    token_expires_at=lambda: self.authenticator.unrenewable_expiry,
                    call_seconds=self.settings.request_timeout,
                )
            return self._run_guard

    @property
    def xero_client(self) -> XeroClient:
        with self._lazy_lock:
            if self._xero_client is None:
                self._xero_client = _new_client(self.settings, self.authenticator, self.run_guard, self.logger)
            return self._xero_client

    @property
    def tenants(self) -> list[Tenant]:
        """The tenants this run syncs (resolved on first use; GET /connections only if needed)."""
        with self._lazy_lock:
            if self._tenants is None:
                settings = self.settings
                auth = self.authenticator
                self._tenants = resolve_tenants(
                    settings,
                    lambda: fetch_connections(
                        settings.connections_url, auth.bearer_token, auth.on_unauthorized,
                        timeout=settings.request_timeout,
                    ),
                )
                self.logger.info(
                    "Syncing %d tenant(s): %s", len(self._tenants),
                    ", ".join(f"{t.tenant_id} ({t.name})" if t.name else t.tenant_id for t in self._tenants),
                )
            return self._tenants

    # Streams -----------------------------------------------------------------------------------

    def discover_streams(self) -> list[Stream]:
        streams: list[Stream] = [stream_class(tap=self) for stream_class in STREAM_CLASSES]
        streams += webhook_streams(self, self.settings)
        return streams

    # Runs --------------------------------------------------------------------------------------

    def preflight(self) -> None:
        """Everything that can fail before the first record: webhook triggers, token, scopes, tenants."""
        targeted.prepare_run(self)  # verifies a webhook run's signatures; no request
        self.authenticator.ensure_usable()
        drop_ungranted_streams(
            self.streams.values(),
            self.authenticator.granted_scopes(),
            fail_on_missing_scope=self.settings.fail_on_missing_scope,
            logger=self.logger,
        )
        webhook_sync = targeted.webhook_sync(self)
        if webhook_sync is None or not webhook_sync.platform_run:  # a platform webhook run reads a few records
            tenant_ids = [tenant.tenant_id for tenant in self.tenants]
            self.run_facts.unfinished = UnfinishedSyncs.resume(_as_dict(self.state), tenant_ids, self.logger)

    def run_sync(self, sdk_sync_all: Callable[[], None]) -> None:
        """``tap-xero`` (sync_all): preflight, the SDK's sync, the stops, and the final STATE however it ends."""
        # Everything alive now (the SDK and its imports, schemas, catalog, streams: about 100,000 objects
        # the collector tracks) lives as long as the run: kept out of the collector's full passes, which
        # would otherwise walk them again and again while pages are decoded (about a tenth of a small
        # sync's CPU). Objects are still freed as usual. Unfrozen at the end for callers that go on (tests,
        # a program running the tap in-process); not when the process exits next (the console command), as
        # the collection at interpreter exit would then walk them all once more.
        completed = False  # the SDK's sync returned: every organisation not stopped early read every stream
        try:
            self.preflight()
            deadline = self.run_guard.describe_deadline()
            if deadline:
                self.logger.info("%s", deadline)
            gc.freeze()
            self.reads_all_tenants_at_once = True
            self._start_calls_ahead()
            sdk_sync_all()
            stops = self.run_facts.stops
            completed = True
            if stops:
                raise stops[0] if len(stops) == 1 else errors.StoppedEarly(stops)
        finally:
            self.reads_all_tenants_at_once = False
            self._stop_calls_ahead()
            # The last line on stdout, however the run ends: the state covering every record written. Written
            # even when it equals the previous STATE (the SDK's state writer would skip it): a platform resumes
            # from the last line.
            stopped = {stop.tenant_id for stop in self.run_facts.stops}
            self.run_facts.unfinished.save(_as_dict(self.state), run_completed=completed, stopped=stopped)
            self.message_writer.write_message(StateMessage(value=copy.deepcopy(self.state)))
            self._flush_output()
            TapXero.final_state_written = True
            if not XeroCommand.ends_process:
                gc.unfreeze()
            if self._xero_client is not None:
                progress = getattr(self._xero_client, "progress", None)
                if progress is not None:
                    progress.write_summary()  # calls, retries and limits of the run, also when it failed
                self._xero_client.close()

    # -- calls ahead (sync/calls_ahead.py) ----------------------------------------------------------------

    def _start_calls_ahead(self) -> None:
        """Each organisation's next streams' first calls are made while a stream is read; not under a
        call_budget (a call made ahead for a stream the budget then stops before is a call spent)."""
        if self.settings.call_budget is None and AHEAD_STREAMS > 0:
            self.xero_client.calls_ahead = self._calls_ahead = _calls_ahead(self.xero_client, self.run_facts)

    def _stop_calls_ahead(self) -> None:
        ahead, self._calls_ahead = self._calls_ahead, None
        if ahead is not None:
            if self._xero_client is not None:
                self._xero_client.calls_ahead = None
            ahead.close()
            summary = ahead.summary(run_stopped=bool(self.run_facts.stops))
            if summary:
                self.logger.info("%s", summary)

    def stream_started(self, stream: Stream) -> None:
        """``stream`` starts reading: calls made ahead move on to the streams after it (sync/calls_ahead.py)."""
        ahead = self._calls_ahead
        if ahead is None:
            return
        order = [s for s in self.streams.values()
                 if (s.selected or s.has_selected_descendents) and s.parent_stream_type is None]
        if stream in order:
            index = order.index(stream)
            planners: list[PlansAhead] = [s if isinstance(s, XeroStream) else _NoCallAhead(s.name) for s in order]
            ahead.stream_started(planners, index, (t if isinstance(t, str) else str(t.tenant_id) for t in self.tenants))

    def on_stop_signal(self, signum: int) -> None:
        """SIGTERM/SIGINT: stop at the next safe point (run_guard); a second signal stops at once."""
        name = signal.Signals(signum).name
        guard = self.run_guard
        if guard.stop_requested:
            raise errors.RunInterrupted(f"Stopped at once by a second {name}; state was emitted.")
        self.logger.warning("%s received: stopping at the next safe point and emitting state.", name)
        guard.request_stop(name)

    def run_connection_check(self, sdk_check: Callable[[], bool]) -> bool:
        """``--test``: the selected streams (by default all but the retired ones), minus those the token may not
        read; forcing an unselected stream on here would send it with the empty SCHEMA the SDK's stream maps
        built for it from the catalog."""
        self.preflight()
        granted = [stream for stream in self.streams.values() if stream.selected]
        try:
            return self.run_sync_dry_run(dry_run_record_limit=1, streams=granted)
        finally:
            self._flush_output()

    def _flush_output(self) -> None:
        """Write what the writer holds (output.XeroWriter buffers records until the next STATE)."""
        flush = getattr(self.message_writer, "flush", None)
        if flush is not None:
            flush()
