"""Progress lines on stderr during long syncs, and the end-of-run summary.

    progress = Progress(limits)                      # XeroClient builds one: client.progress
    progress.start("invoices", tenant_id)
    progress.page_done("invoices", tenant_id, records=1000, page=3, page_count=40)
    progress.write_summary()                         # tap.py calls this at the end of a run (also on errors)

A progress line (at most every ``interval`` seconds per stream and tenant, and only once a sync has
lasted that long, so short syncs stay quiet):

    progress invoices [tenant 5f3c…]: 12000 records, page 12/40, 58 calls/min, 41.2 MB received, ETA 0:00:31

The summary: records per stream and tenant, API calls used per tenant, the calls Xero says are left
today (X-DayLimit-Remaining), and the bytes received per tenant (as they crossed the wire, compressed:
Xero bills egress above a tier's monthly allowance).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from tap_xero.limits import Limits

LOGGER = logging.getLogger("tap-xero.progress")


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB"


@dataclass
class _Run:
    started: float
    last_line: float
    records: int = 0
    pages: int = 0
    page_count: int | None = None


@dataclass
class Progress:
    limits: Limits
    interval: float = 5.0
    out: TextIO | None = None  # None: the tap-xero.progress logger (stderr)
    clock: Callable[[], float] = time.monotonic
    records: collections.Counter = field(default_factory=collections.Counter)  # (stream, tenant) -> records
    received_bytes: collections.Counter = field(default_factory=collections.Counter)  # tenant -> bytes on the wire
    _runs: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _write(self, text: str) -> None:
        if self.out is None:  # a log line like the others (SINGER_SDK_LOG_CONFIG may make them structured)
            LOGGER.info("%s", text)
            return
        self.out.write(text + "\n")
        self.out.flush()

    def start(self, stream: str, tenant_id: str) -> None:
        """A read of ``stream`` for ``tenant_id`` begins (its ETA and quiet interval count from here)."""
        now = self.clock()
        with self._lock:
            self._runs[(stream, tenant_id)] = _Run(started=now, last_line=now)

    def page_done(self, stream: str, tenant_id: str, *, records: int, page: int, page_count: int | None) -> None:
        """One page of ``stream`` for ``tenant_id`` has been emitted (``records`` records from it)."""
        now = self.clock()
        key = (stream, tenant_id)
        with self._lock:
            self.records[key] += records
            run = self._runs.get(key)
            if run is None:
                run = self._runs[key] = _Run(started=now, last_line=now)
            run.records += records
            run.pages = max(run.pages, page)
            if page_count is not None:
                run.page_count = max(run.page_count or 0, page_count)
            if now - run.last_line < self.interval:
                return
            run.last_line = now
            line = self._line(stream, tenant_id, run, now)
        self._write(line)

    def stream_done(self, stream: str, tenant_id: str) -> None:
        with self._lock:
            self._runs.pop((stream, tenant_id), None)

    def add_bytes(self, tenant_id: str, count: int) -> None:
        """Count a response body as received from Xero (its size on the wire)."""
        with self._lock:
            self.received_bytes[tenant_id] += count

    def add_records(self, stream: str, tenant_id: str, count: int) -> None:
        """Count rows emitted outside paging (child tables, report lines)."""
        with self._lock:
            self.records[(stream, tenant_id)] += count

    def _line(self, stream: str, tenant_id: str, run: _Run, now: float) -> str:
        calls = self.limits.calls_last_minute(tenant_id)
        text = f"progress {stream} [tenant {tenant_id}]: {run.records} records, page {run.pages}"
        if run.page_count:
            text += f"/{run.page_count}"
        text += f", {calls} calls/min, {_megabytes(self.received_bytes[tenant_id])} received"
        if run.page_count and run.pages:
            elapsed = now - run.started
            left = max(run.page_count - run.pages, 0) * elapsed / run.pages
            text += f", ETA {time.strftime('%H:%M:%S', time.gmtime(left))}"
        return text

    def summary(self) -> str:
        """Records per stream and tenant, calls used, calls left today."""
        with self._lock:
            lines = ["summary:"]
            for (stream, tenant_id), count in sorted(self.records.items()):
                lines.append(f"  {stream} [tenant {tenant_id}]: {count} records")
            tenants = sorted(set(self.limits.calls) | set(self.limits.day_left))
            for tenant_id in tenants:
                left = self.limits.day_left.get(tenant_id)
                left_text = "unknown" if left is None else str(left)
                lines.append(
                    f"  API calls [tenant {tenant_id}]: {self.limits.calls.get(tenant_id, 0)} used, "
                    f"{left_text} left today, {_megabytes(self.received_bytes[tenant_id])} received"
                )
            lines.append(
                f"  API calls in total: {sum(self.limits.calls.values())}, "
                f"{_megabytes(sum(self.received_bytes.values()))} received"
            )
        return "\n".join(lines)

    def write_summary(self) -> None:
        self._write(self.summary())
