"""CallsAhead: each organisation's next streams' first calls, made while the current stream is read.

The streams of a run are synced one after another (the SDK's order, which targets and the STATE rely on), so
a small organisation would be a chain of one-call streams, each waiting out Xero's latency while four of its
five concurrent calls sit idle. When a stream starts, the tap plans, for each organisation, the first call
of the next AHEAD_STREAMS streams that will read it (``XeroStream.first_call``: the same path, parameters
and headers the stream will send, computed from the state without changing it). They are made in the
background, AHEAD_AT_ONCE at a time per organisation (within its five: the limiter holds the total), kept
until the stream makes that exact call (``XeroClient.get_json`` asks ``take`` first), which then gets the
answer at once, or waits for it if it is still on its way. A call made ahead is an ordinary call
(``XeroClient.call``: limiter, run guard, retries, errors): a failure is kept and raised to the stream as
its own. Nothing here writes a message or touches the state.

What it costs: nothing in a run that reads what it planned; a call made ahead for a stream that never makes
it (the run stopped first) is a call spent, so none is made ahead under a ``call_budget`` (where every call
counts), none for an organisation that has stopped or has fewer than AHEAD_DAY_RESERVE calls left today
(``may_call``), and ``unused`` counts them (tests hold it at zero for complete runs). Memory: every answer waiting
is claimed in a RecordsBudget of AHEAD_RECORDS records (its page size until it arrives, then the records it
holds); when it is full, nothing more is fetched ahead until an answer is taken.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from tap_xero.paging import Claim, RecordsBudget

AHEAD_STREAMS = 6  # the next streams whose first call is made ahead, per organisation
AHEAD_AT_ONCE = 3  # calls ahead on their way at once, per organisation (of its five)
AHEAD_RECORDS = 6_000  # records the answers made ahead may hold, all organisations together
AHEAD_THREADS = 16  # calls ahead on their way at once, all organisations together
AHEAD_DAY_RESERVE = 100  # no call ahead for an organisation with fewer calls left today (a stop would waste it)

Call = Callable[[str, str, "dict | None", "dict | None"], dict]  # (tenant_id, path, params, headers) -> body


@dataclass(frozen=True)
class FirstCall:
    """A stream's first call for one organisation, as the stream will make it."""

    stream: str
    path: str
    params: dict | None
    headers: dict | None
    records: int  # the most records its answer may hold (its claim until it arrives)
    envelope_key: str = ""  # where its answer holds the records (what it keeps claimed once it arrives)


def call_key(tenant_id: str, path: str, params: dict | None, headers: dict | None) -> str:
    return json.dumps([tenant_id, path, params or {}, headers or {}], sort_keys=True, default=str)


@dataclass(eq=False)
class _Ahead:
    key: str
    tenant_id: str
    call: FirstCall
    claim: Claim | None = None
    future: Future | None = field(default=None, repr=False)


class PlansAhead(Protocol):
    """A stream whose first call can be made ahead (``XeroStream.first_call``)."""

    @property
    def name(self) -> str: ...

    def first_call(self, tenant_id: str) -> FirstCall | None: ...


class CallsAhead:
    """See the module docstring."""

    def __init__(self, call: Call, *, may_call: Callable[[str], bool] = lambda tenant_id: True,
                 records: int = AHEAD_RECORDS, threads: int = AHEAD_THREADS) -> None:
        self._call = call
        self._may_call = may_call  # False: not for this tenant now (stopped, its day nearly spent)
        self._budget = RecordsBudget(records)
        self._lock = threading.RLock()  # a done-callback may run at once, in the thread holding it
        self._by_key: dict[str, _Ahead] = {}
        self._waiting: dict[str, deque[_Ahead]] = {}  # per tenant, not started yet, in stream order
        self._busy: dict[str, int] = {}  # calls ahead on their way, per tenant
        self._starved: deque[str] = deque()  # tenants whose next call waits for room in the budget
        self._executor = ThreadPoolExecutor(max(1, threads), thread_name_prefix="xero-ahead")
        self._closed = False
        self.made = 0  # calls made ahead
        self.used = 0  # of which a stream took the answer
        self.unused = 0  # of which no stream asked (dropped when their stream had started, or at the end)

    def plan(self, tenant_id: str, calls: list[FirstCall]) -> None:
        """Make these calls ahead for ``tenant_id``, one after another (a call already planned is kept)."""
        with self._lock:
            if self._closed:
                return
            waiting = self._waiting.setdefault(tenant_id, deque())
            for call in calls:
                key = call_key(tenant_id, call.path, call.params, call.headers)
                if key not in self._by_key:
                    self._by_key[key] = ahead = _Ahead(key, tenant_id, call)
                    waiting.append(ahead)
            self._start_next(tenant_id)

    def take(self, tenant_id: str, path: str, params: dict | None, headers: dict | None) -> dict | None:
        """This exact call's answer if it was made ahead (waiting while it is on its way); None: make it."""
        if not self._by_key:
            return None
        with self._lock:
            ahead = self._by_key.pop(call_key(tenant_id, path, params, headers), None)
            if ahead is None:
                return None
            if ahead.future is None:  # planned, not started: the stream makes it itself
                self._waiting[tenant_id].remove(ahead)
                return None
            self.used += 1
        try:
            return ahead.future.result()
        finally:
            self._release(ahead)

    def forget(self, stream: str) -> None:
        """``stream`` has been read: what was planned for it and never asked for is dropped."""
        with self._lock:
            stale = [ahead for ahead in self._by_key.values() if ahead.call.stream == stream]
            for ahead in stale:
                del self._by_key[ahead.key]
                if ahead.future is None:
                    self._waiting[ahead.tenant_id].remove(ahead)
                else:
                    self.unused += 1
        for ahead in stale:
            if ahead.future is not None:
                ahead.future.add_done_callback(functools.partial(self._release_when_done, ahead))

    def close(self) -> None:
        """The run has ended: nothing more is made ahead; answers never asked for are dropped."""
        with self._lock:
            self._closed = True
            left = list(self._by_key.values())
            self._by_key.clear()
            self._waiting.clear()
            self.unused += sum(1 for ahead in left if ahead.future is not None)
        self._executor.shutdown(wait=False, cancel_futures=True)
        for ahead in left:
            self._release(ahead)

    def stream_started(self, order: Sequence[PlansAhead], index: int, tenant_ids: Iterable[str]) -> None:
        """``order[index]`` starts reading: the calls made ahead for it are its own now (the previous stream's
        unasked ones are dropped), and each tenant's next AHEAD_STREAMS streams' first calls are planned."""
        if index:
            self.forget(order[index - 1].name)
        upcoming = order[index + 1:]
        for tenant_id in tenant_ids:
            calls = []
            for later in upcoming:
                call = later.first_call(tenant_id)
                if call is not None:
                    calls.append(call)
                    if len(calls) == AHEAD_STREAMS:
                        break
            self.plan(tenant_id, calls)

    def summary(self, *, run_stopped: bool) -> str | None:
        """One line for the end of the run: calls made ahead and how many no stream took (None: none made)."""
        if not self.made:
            return None
        why = "none wasted" if not self.unused else (
            "the run stopped before their streams" if run_stopped else "a stream asked differently")
        return f"Calls made ahead for the next streams: {self.made}, of which unused: {self.unused} ({why})."

    # -- inside ----------------------------------------------------------------------------------------

    def _start_next(self, tenant_id: str) -> None:
        """Start the tenant's next call ahead if it has none on its way and the budget has room (lock held)."""
        waiting = self._waiting.get(tenant_id)
        if waiting and not self._may_call(tenant_id):
            for ahead in waiting:  # its streams make their calls themselves, if they still read it
                self._by_key.pop(ahead.key, None)
            waiting.clear()
            return
        while not self._closed and waiting and self._busy.get(tenant_id, 0) < AHEAD_AT_ONCE:
            ahead = waiting[0]
            claim = self._budget.claim(ahead.call.records, wait=False)
            if claim is None:
                if tenant_id not in self._starved:
                    self._starved.append(tenant_id)  # started once an answer is taken and gives records back
                return
            waiting.popleft()
            ahead.claim = claim
            self._busy[tenant_id] = self._busy.get(tenant_id, 0) + 1
            self.made += 1
            ahead.future = self._executor.submit(self._answer, ahead)
            ahead.future.add_done_callback(functools.partial(self._finished, tenant_id))

    def _answer(self, ahead: _Ahead) -> dict:
        call = ahead.call
        body = self._call(ahead.tenant_id, call.path, call.params, call.headers)
        if ahead.claim is not None and call.envelope_key:
            records = body.get(call.envelope_key) if isinstance(body, dict) else None
            ahead.claim.keep(len(records) if isinstance(records, list) else 0)
            self._kick_starved()
        return body

    def _finished(self, tenant_id: str, _done: Future) -> None:
        with self._lock:
            self._busy[tenant_id] -= 1
            self._start_next(tenant_id)

    def _release_when_done(self, ahead: _Ahead, _done: Future) -> None:
        self._release(ahead)

    def _release(self, ahead: _Ahead) -> None:
        if ahead.claim is None:
            return
        ahead.claim.release()
        self._kick_starved()

    def _kick_starved(self) -> None:
        with self._lock:  # room in the budget: organisations that waited for it may call ahead again
            for _ in range(len(self._starved)):
                tenant_id = self._starved.popleft()
                self._start_next(tenant_id)
                if self._starved and self._starved[-1] == tenant_id:
                    break  # still no room: the others wait too
