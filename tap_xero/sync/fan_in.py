"""TenantFanIn: every organisation of a stream read at once, their deliveries written as they arrive.

    fan_in = TenantFanIn(max_readers=16)
    fan_in.add(tenant_id, deliveries)          # deliveries: Iterator[Delivery], run on a reader thread
    for tenant_id, item in fan_in: ...         # item: a Delivery, DONE, or the exception that ended the read
    fan_in.close()

Each organisation has its own allowance (5 calls at once, 60 a minute), so reading one organisation after
another leaves the others' allowances unused. Here each organisation's read runs on its own reader thread and
hands over ``Delivery`` objects (records already prepared, and what to do once they are written) through one
bounded queue; the caller, on the one thread that writes Singer messages, writes them in the order they
arrive. Nothing a reader does writes a message: state changes travel as ``Delivery.after`` and run on the
writing thread after the records they cover are written, so a STATE never precedes its records.

Memory does not grow with the number of organisations: every call of every read claims its page size
in one ``paging.RecordsBudget`` of RECORDS_BUDGET records before it is made, and a delivery's claim is
given back once its records are written, so the records held in flight, fetched ahead, queued and being
written are within the budget however many reads run; at most ``max_readers`` run at once (threads; the
others wait their turn) and the queue holds at most ``queued`` deliveries. ``close`` stops every reader
at its next delivery (a failed run leaves no thread reading).

``written_records`` is the writing side: it runs the tenants' reads through a fan-in and yields their records
to the SDK (which writes them), running each delivery's ``after`` once its records are written.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator, MutableMapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Protocol

from tap_xero.paging import NO_CLAIM, Claim

DONE = object()  # a tenant's read finished normally
# Decoded records the reads of one stream may hold at once (in flight, fetched ahead, queued, being written),
# all tenants together: a 1,000-invoice page decodes to about 6 MB, so this is about 75 MB of records.
RECORDS_BUDGET = 12_000
MAX_READERS = 48  # tenants read at once at most (threads; Xero allows each 5 calls at once)
QUEUED_DELIVERIES = 8


class Outcomes(Protocol):
    """What the writing loop needs of ``outcomes.TenantOutcomes``."""

    def ended(self, tenant_id: str, state: MutableMapping[str, Any], write_state: Callable[[], None],
              exc: Exception) -> bool: ...

    def completed(self, tenant_id: str, state: MutableMapping[str, Any], write_state: Callable[[], None]) -> None: ...


@dataclass
class Delivery:
    """Records to write (prepared: values converted, tenant_id set), then ``after`` on the writing thread."""

    records: list[dict] = field(default_factory=list)
    after: Callable[[], None] | None = None
    claim: Claim = NO_CLAIM  # the records' share of the stream's RecordsBudget, given back once written


class TenantFanIn:
    """See the module docstring."""

    def __init__(self, max_readers: int, queued: int = QUEUED_DELIVERIES, executor: Executor | None = None) -> None:
        self.max_readers = max(1, max_readers)
        # Long-lived reader threads keep their HTTP connections from one stream to the next (a thread per read
        # would open a new connection, a TLS handshake with Xero, per organisation per stream).
        self._executor = executor
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, queued))
        self._waiting: deque[tuple[str, Callable[[], Iterator[Delivery]]]] = deque()
        self._running = 0
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []

    def add(self, tenant_id: str, deliveries: Callable[[], Iterator[Delivery]]) -> None:
        """Read ``deliveries()`` (set up lazily, on the reader's thread) when a reader is free."""
        self._waiting.append((tenant_id, deliveries))

    def __iter__(self) -> Iterator[tuple[str, object]]:
        self._start_readers()
        while self._running:
            tenant_id, item = self._queue.get()
            if item is DONE or isinstance(item, BaseException):
                self._running -= 1
                self._start_readers()
            yield tenant_id, item

    def close(self) -> None:
        """Stop every reader at its next delivery and drop what they queued."""
        self._stopped.set()
        self._waiting.clear()
        while True:
            try:
                _, item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, Delivery):
                item.claim.release()

    def _start_readers(self) -> None:
        while self._waiting and self._running < self.max_readers and not self._stopped.is_set():
            tenant_id, deliveries = self._waiting.popleft()
            self._running += 1
            if self._executor is not None:
                self._executor.submit(self._read, tenant_id, deliveries)
                continue
            thread = threading.Thread(target=self._read, args=(tenant_id, deliveries), daemon=True,
                                      name=f"xero-tenant-{tenant_id[:8]}")
            self._threads.append(thread)
            thread.start()

    def _put(self, item: tuple[str, object]) -> bool:
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=1.0)  # a full queue: wake once a second to see a stop
                return True
            except queue.Full:
                continue
        if isinstance(item[1], Delivery):
            item[1].claim.release()  # never written: its records are dropped
        return False

    def _read(self, tenant_id: str, deliveries: Callable[[], Iterator[Delivery]]) -> None:
        source = None
        try:
            source = deliveries()
            for delivery in source:
                if not self._put((tenant_id, delivery)):
                    return
        except BaseException as exc:  # handed to the writer, which decides what it means for this tenant
            self._put((tenant_id, exc))
            return
        finally:
            close = getattr(source, "close", None)
            if close is not None and self._stopped.is_set():
                close()  # a generator abandoned by a stopped run: its look-ahead is cancelled
        self._put((tenant_id, DONE))


@dataclass
class TenantRead:
    """One organisation's read for ``written_records``: its deliveries, and what ends it on the writing thread."""

    tenant_id: str
    state: MutableMapping[str, Any]  # the stream's partition state for this tenant
    deliveries: Callable[[], Iterator[Delivery]]  # run on a reader thread
    finished: Callable[[], None] = lambda: None  # the read ended normally (writing thread)
    done: Callable[[], None] = lambda: None  # the read ended, whatever the reason (writing thread)


def written_records(
    reads: list[TenantRead],
    outcomes: Outcomes,
    write_state: Callable[[], None],
    write_children: Callable[[dict, str], None],
    max_readers: int,
    executor: Executor | None = None,
) -> Iterator[dict]:
    """Every tenant's records, in the order their deliveries arrive: the records (each after its child rows),
    then the delivery's ``after``. A tenant whose read fails in a way ``outcomes`` says ends only that tenant
    (day limit, call budget, a refusal); anything else stops every reader and ends the run."""
    fan_in = TenantFanIn(max_readers, executor=executor)
    by_tenant = {read.tenant_id: read for read in reads}
    for read in reads:
        fan_in.add(read.tenant_id, read.deliveries)
    try:
        for tenant_id, item in fan_in:
            read = by_tenant[tenant_id]
            if isinstance(item, Delivery):
                for record in item.records:
                    write_children(record, tenant_id)
                    yield record
                if item.after is not None:
                    item.after()
                # Written: the records go (whoever still holds the list, e.g. a reader's loop variable while it
                # waits for room in the budget), and so does their claim.
                item.records.clear()
                item.claim.release()
                continue
            read.done()
            if item is DONE:
                read.finished()
                outcomes.completed(tenant_id, read.state, write_state)
            elif not isinstance(item, Exception) or not outcomes.ended(tenant_id, read.state, write_state, item):
                raise item  # type: ignore[misc]
    finally:
        fan_in.close()
