"""Injected failures: the ways Xero goes wrong in the middle of a sync.

A fault is a kind plus targeting: ``path`` (an API path below /api.xro/2.0,
e.g. ``Invoices`` or ``Reports/TrialBalance``, or ``connect/token`` /
``connections``; unset means every Accounting API call), ``tenant``,
``after`` (let that many matching requests through first), ``count`` (how
many times it fires; 0 = forever) and ``probability`` (drawn from an RNG
seeded by the sandbox seed, so a run is reproducible).

Kinds:
  error          answer ``status`` (default 500) in Xero's JSON shape
  refuse         refuse the request as Xero refuses one: ``status`` 400 (ValidationException), 403 (the
                 organisation disconnected from the app) or 404 (not found)
  maintenance    503 plain text "offline for maintenance"
  reset          close the connection without answering (TCP RST)
  slow           wait ``delay`` seconds (default 5) before answering
  truncate       cut the JSON body short (Content-Length matches the cut body)
  expire_tokens  every access token issued so far answers 401 TokenExpired
  day_limit      the tenant's daily allowance is spent: 429 day from now on
  shift_page     after page ``page`` (default 1) of a collection is served, touch a
                 record of that page so it moves to the end and later pages shift

The same fault is written as a CLI spec ``kind:key=value,key=value`` (e.g.
``error:status=503,count=3,path=Invoices``) or a JSON object
``{"kind": "error", "status": 503, ...}`` for ``POST /_sandbox/faults``.
"""

from __future__ import annotations

import builtins
import random
import threading
from dataclasses import asdict, dataclass, fields

KINDS = ("error", "refuse", "maintenance", "reset", "slow", "truncate", "expire_tokens", "day_limit", "shift_page")
# When in a request's life each kind is decided.
BEFORE_KINDS = ("reset", "slow", "error", "refuse", "maintenance", "expire_tokens", "day_limit")
BODY_KINDS = ("truncate",)
AFTER_PAGE_KINDS = ("shift_page",)
REFUSALS = (400, 403, 404)  # the refusals a ``refuse`` fault answers


@dataclass
class Fault:
    kind: str
    path: str | None = None
    tenant: str | None = None
    after: int = 0
    count: int = 1
    probability: float = 1.0
    status: int = 500
    delay: float = 5.0
    page: int = 1
    seen: int = 0  # matching requests so far
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("fault probability must be between 0 and 1")
        if self.kind == "error" and not 500 <= self.status <= 599:
            raise ValueError("an error fault needs a 5xx status")
        if self.kind == "refuse" and self.status == 500:
            self.status = 400  # the default status is the error kind's
        if self.kind == "refuse" and self.status not in REFUSALS:
            raise ValueError(f"a refuse fault needs status {', '.join(map(str, REFUSALS))}")
        if self.after < 0 or self.count < 0 or self.page < 1 or self.delay < 0:
            raise ValueError("after, count and delay must be >= 0 and page >= 1")

    @property
    def exhausted(self) -> bool:
        return self.count != 0 and self.fired >= self.count

    def targets(self, route: str, tenant: str | None) -> bool:
        if self.tenant is not None and self.tenant != tenant:
            return False
        if self.path is None:
            return route.startswith("api.xro/")
        wanted = self.path.strip("/").lower()  # Xero's paths are case-insensitive (routes.py)
        api_route = route.removeprefix("api.xro/2.0/")
        return any(r == wanted or r.startswith(wanted + "/") for r in (route.lower(), api_route.lower()))


_SETTABLE = {f.name: f.type for f in fields(Fault) if f.name not in ("seen", "fired")}


def parse_fault(spec: str | dict) -> Fault:
    """A Fault from a CLI spec string or a JSON object; ValueError says what is wrong."""
    if isinstance(spec, dict):
        items = dict(spec)
    else:
        kind, _, rest = spec.strip().partition(":")
        items = {"kind": kind}
        for pair in filter(None, rest.split(",")):
            key, sep, value = pair.partition("=")
            if not sep:
                raise ValueError(f"fault option {pair!r} is not key=value")
            items[key.strip()] = value.strip()
    unknown = set(items) - set(_SETTABLE)
    if unknown:
        raise ValueError(f"unknown fault option(s): {', '.join(sorted(unknown))}")
    converted: dict = {}
    for key, value in items.items():
        kind_of = _SETTABLE[key]
        try:
            if "int" in kind_of:
                converted[key] = int(value)
            elif "float" in kind_of:
                converted[key] = float(value)
            else:
                converted[key] = None if value is None else str(value)
        except (TypeError, ValueError):
            raise ValueError(f"fault option {key} has a bad value {value!r}") from None
    return Fault(**converted)


class FaultInjector:
    """The active faults; the server asks it, at each stage of a request, which ones fire."""

    def __init__(self, seed: int = 1) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, spec: str | dict | Fault | None = None, **options) -> Fault:
        """Add one fault: ``add("error:count=2")``, ``add({"kind": ...})`` or ``add(kind="slow", delay=3)``."""
        fault = spec if isinstance(spec, Fault) else parse_fault(spec if spec is not None else options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict]:
        with self._lock:
            return [asdict(f) for f in self._faults]

    def fire(self, kinds: tuple[str, ...], route: str, tenant: str | None,
             page: int | None = None) -> builtins.list[Fault]:  # builtins: ``list`` here is the method above
        """Faults of ``kinds`` that fire for this request (counting it against each one's ``after``)."""
        fired = []
        with self._lock:
            for fault in self._faults:
                if fault.kind not in kinds or fault.exhausted or not fault.targets(route, tenant):
                    continue
                if fault.kind in AFTER_PAGE_KINDS and page != fault.page:
                    continue
                fault.seen += 1
                if fault.seen <= fault.after:
                    continue
                if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                    continue
                fault.fired += 1
                fired.append(fault)
        return fired
