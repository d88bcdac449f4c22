"""xero-sandbox: a local emulator of Xero's Accounting API, its identity server (OAuth 2.0) and webhooks.

In-process use (tests): ::

    from xero_sandbox import Sandbox, SandboxConfig
    with Sandbox(SandboxConfig(seed=1, scale=200, tenants=2, limits=False)) as sb:
        token = sb.issue_access_token()
        requests.get(sb.api_url + "/Invoices", headers={"Authorization": f"Bearer {token}",
                                                         "xero-tenant-id": sb.tenant_ids[0]})

The data alone, without HTTP: ``Store(seed=1, scale=1000, tenants=2)`` and ``Query`` (docs/sandbox-data.md).
From a shell: ``tap-xero-sandbox serve --port 8765`` (see docs/sandbox.md).

Layout: ``core/`` is what knows no collection by name (the HTTP wire and pipeline, Xero's shapes,
OAuth, limits and tiers, faults, the clock, the control API, routes, the ``where`` evaluator,
generation primitives, the ledger, and the query and mutation engines); ``resources/`` holds one
module per resource family (its records, its query special cases and its mutation rules);
``organisation.py`` and ``store.py`` put the families together, ``sandbox.py`` runs it all.
Imports run one way: ``core`` imports no ``resources`` module, ``resources`` import ``core``
and each other without a cycle, and the top modules import both.

Dependency direction with the tap: this package imports ``tap_xero`` for Xero's facts
(``tap_xero.endpoints``: paths, envelopes, paging, scopes), the webhook signature and payload
(``tap_xero.webhooks``) and ``tap_xero.errors.redact``; ``tap_xero`` never imports this package
and its wheel holds none of it.
"""

from __future__ import annotations

from xero_sandbox.core.config import SandboxConfig
from xero_sandbox.core.faults import Fault, FaultInjector, parse_fault
from xero_sandbox.core.lock_dates import LockedPeriod
from xero_sandbox.core.queries import Page, Query
from xero_sandbox.organisation import Organisation
from xero_sandbox.sandbox import Sandbox
from xero_sandbox.store import Store

__all__ = [
    "Fault", "FaultInjector", "LockedPeriod", "Organisation", "Page", "Query", "Sandbox", "SandboxConfig", "Store",
    "parse_fault",
]
