"""UnfinishedSyncs: a sync that stopped before reading every selected stream of an organisation goes on, in the
next runs, with the streams it has not read yet; the streams it finished are read again once all of them are.

Why: a run may end early by design (the run's ``call_budget``, Xero's day limit, the platform token's deadline,
SIGTERM) or by a failure. Every stream resumes from its own state, but a stream with nothing left to resume still
costs calls when it is read again: a full-table stream its whole collection (Assets: one call per status), an
incremental one at least a call to learn that nothing changed. Under a call budget below those calls each run
would spend its budget on the same first streams (they go in name order) and the sync would never finish:
measured before this module, 120 runs of a 6-call budget on one organisation, none of them past ``contacts``.

State: ``state["unfinished_syncs"] = {tenant_id: {"since": <UTC time that sync began>, "read": [stream, ...]}}``,
updated in the run's last STATE (however it ends): an organisation the run did not finish has the streams it
finished in this run added; one the run finished is dropped. A run killed before its last STATE leaves the entry
it was given, which is still true. Nothing is lost by a skip: a skipped stream keeps its bookmark, and the first
run after the sync completes reads what changed meanwhile. The platform's webhook-triggered runs (which read
only the records their events name) neither use nor change it (``UnfinishedSyncs()`` is inactive).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Collection, Iterable, MutableMapping
from typing import Any

STATE_KEY = "unfinished_syncs"


class UnfinishedSyncs:
    """See the module docstring. Thread-safe: streams finish on reader threads."""

    def __init__(self, saved: object = None, *, tenant_ids: Iterable[str] = (), active: bool = False,
                 now: dt.datetime | None = None) -> None:
        self.active = active
        self._tenant_ids = list(tenant_ids)  # the run's organisations: the ones ``save`` judges
        self._lock = threading.Lock()
        self._began = _text(now or dt.datetime.now(dt.timezone.utc))
        self._read_before: dict[str, frozenset[str]] = {}
        self._since: dict[str, str] = {}
        self._read_now: dict[str, set[str]] = {}
        if active and isinstance(saved, dict):
            for tenant_id, entry in saved.items():
                if isinstance(entry, dict) and isinstance(entry.get("read"), list):
                    self._read_before[str(tenant_id)] = frozenset(str(name) for name in entry["read"])
                    self._since[str(tenant_id)] = str(entry.get("since") or self._began)

    @classmethod
    def resume(cls, state: MutableMapping[str, Any], tenant_ids: Iterable[str],
               logger: logging.Logger) -> UnfinishedSyncs:
        """The syncs the state says are unfinished; one line per organisation of the run that has one."""
        unfinished = cls(state.get(STATE_KEY), tenant_ids=tenant_ids, active=True)
        for tenant_id in unfinished._tenant_ids:
            read = unfinished._read_before.get(tenant_id)
            if read:
                logger.info(
                    "Tenant %s: the sync that began %s stopped before it read every stream; this run reads the "
                    "others and skips the %d stream(s) it finished (%s): the next sync reads them again.",
                    tenant_id, unfinished._since[tenant_id], len(read), ", ".join(sorted(read)),
                )
        return unfinished

    def read_before(self, tenant_id: str, stream: str) -> bool:
        """Whether an earlier run of the unfinished sync finished ``stream`` for the organisation."""
        return stream in self._read_before.get(tenant_id, ())

    def finished(self, tenant_id: str, stream: str) -> None:
        """This run read the whole of ``stream`` for the organisation."""
        if self.active:
            with self._lock:
                self._read_now.setdefault(tenant_id, set()).add(stream)

    def save(self, state: MutableMapping[str, Any], *, run_completed: bool, stopped: Collection[str]) -> None:
        """Into ``state``: the organisations of the run that it did not finish (all of them when the run did not
        complete, else those ``stopped`` early), with every stream read so far; the others are dropped."""
        if not self.active:
            return
        saved = state.get(STATE_KEY)
        entries = dict(saved) if isinstance(saved, dict) else {}  # organisations not in this run are kept
        with self._lock:
            for tenant_id in self._tenant_ids:
                read = self._read_before.get(tenant_id, frozenset()) | self._read_now.get(tenant_id, set())
                if (run_completed and tenant_id not in stopped) or not read:
                    entries.pop(tenant_id, None)
                else:
                    entries[tenant_id] = {"since": self._since.get(tenant_id, self._began), "read": sorted(read)}
        if entries:
            state[STATE_KEY] = entries
        else:
            state.pop(STATE_KEY, None)


def _text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
