"""What the sandbox was asked: counters per tenant and Accounting path, and a bounded request log.

``RequestStats.record(request, status, ms)`` counts one answered request (every request but
``/_sandbox/`` ones: the wire calls it before answering, so a client that reads the counters
right after its answer sees its call): the total, token calls, ``/connections`` calls, and per
tenant the canonical path (``routes.counted_path``: ``Invoices``, ``Invoices/{id}``,
``Reports/ProfitAndLoss``; ``Organisations`` counts as ``Organisation``; an unknown path as
given). The log keeps the last ``log_size`` requests with token-shaped query values redacted
(``tap_xero.errors.redact``). ``note_error`` keeps sandbox bugs met while answering.
"""

from __future__ import annotations

import collections
import threading
from datetime import datetime, timezone

from tap_xero.errors import redact
from xero_sandbox.core import other_apis
from xero_sandbox.core.routes import API_PREFIX, counted_path
from xero_sandbox.core.shapes import Request


class RequestStats:
    """Counters per tenant and path plus a bounded log of recent requests."""

    def __init__(self, log_size: int = 10000) -> None:
        self._lock = threading.Lock()
        self._log: collections.deque[dict] = collections.deque(maxlen=log_size)
        self.errors: list[str] = []
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._total = 0
            self._token = 0
            self._connections = 0
            self._by_tenant: dict[str, collections.Counter] = {}
            self._log.clear()

    def record(self, request: Request, status: int, ms: float) -> None:
        path = _counted_path(request.route)
        with self._lock:
            self._total += 1
            if request.route == "connect/token":
                self._token += 1
            elif request.route == "connections":
                self._connections += 1
            elif request.tenant and path is not None:
                self._by_tenant.setdefault(request.tenant, collections.Counter())[path] += 1
            self._log.append({
                "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                "method": request.method, "path": "/" + request.route, "query": redact(request.raw_query),
                "tenant": request.tenant, "status": status, "ms": round(ms, 2),
            })

    def note_error(self, exc: BaseException) -> None:
        with self._lock:
            self.errors.append(redact(f"{type(exc).__name__}: {exc}"))

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "total": self._total,
                "by_tenant": {tenant: dict(paths) for tenant, paths in self._by_tenant.items()},
                "token": self._token,
                "connections": self._connections,
            }

    def log(self, limit: int | None = None) -> list[dict]:
        with self._lock:
            entries = list(self._log)
        return entries[-limit:] if limit else entries


def _counted_path(route: str) -> str | None:
    """The Accounting path a request is counted under: "Invoices", "Reports/TrialBalance", "Invoices/{id}"; for
    the Assets and Projects APIs their endpoint's path ("projects.xro/2.0/Projects/{projectId}/Time")."""
    if other_apis.served_under(route):
        found = other_apis.resolve(route)
        return found[0].path if found is not None else route
    if not route.startswith(API_PREFIX):
        return None
    return counted_path(route[len(API_PREFIX):].strip("/"))
