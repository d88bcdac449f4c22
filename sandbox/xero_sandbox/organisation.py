"""One generated organisation, and the table of every collection the sandbox serves.

``API_COLLECTIONS`` does the same for the Assets and Projects APIs (``OTHER_API_ENDPOINTS``, by
``collection_key``; their records are built on first use, ``resources/assets.py`` and ``projects.py``).
``RESOURCES`` maps each envelope key of ``tap_xero.endpoints.ENDPOINTS`` to the ``Resource`` its
family module declares (``xero_sandbox/resources/``), in the order of ``ENDPOINTS`` (the order
of ``/_sandbox/counts``). ``Organisation(seed, tenant_index, scale)`` generates one tenant, family by
family, in the order their data depends on each other:

1. settings: the profile and reference data (accounts, tax rates, tracking, items, ...);
2. contacts: contact groups (contacts themselves are built on demand);
3. classic expenses: expense claims and receipts;
4. the walk (journals.lay_out_books): every invoice settled, every journal laid out;
5. payments: batches of three payments;
6. the collections, from each resource's ``collection`` builder.

Every record is a pure function of ``(seed, tenant, collection, index)``: the same arguments give
byte-identical data.
"""

from __future__ import annotations

from tap_xero.endpoints import BY_ENVELOPE, ENDPOINTS, OTHER_API_ENDPOINTS
from xero_sandbox.core.resource import Resource
from xero_sandbox.core.tenant_data import TenantData
from xero_sandbox.core.other_apis import ApiCollection
from xero_sandbox.resources import (
    assets, bank, contacts, expenses, invoices, journals, payments, projects, quotes_and_orders, settings,
)

_DECLARED = {resource.key: resource for resource in (
    *settings.RESOURCES, *contacts.RESOURCES, *invoices.RESOURCES, *payments.RESOURCES, *bank.RESOURCES,
    *journals.RESOURCES, *quotes_and_orders.RESOURCES, *expenses.RESOURCES)}
if set(_DECLARED) != {endpoint.envelope_key for endpoint in ENDPOINTS}:  # pragma: no cover - a wiring bug
    raise RuntimeError(f"every endpoint needs exactly one resource: {sorted(set(_DECLARED) ^ set(BY_ENVELOPE))}")
RESOURCES: dict[str, Resource] = {endpoint.envelope_key: _DECLARED[endpoint.envelope_key] for endpoint in ENDPOINTS}

# The Assets and Projects APIs (core/other_apis.py), by ``Endpoint.collection_key``, in the order of their endpoints.
_API_DECLARED = {collection.key: collection for collection in (*assets.COLLECTIONS, *projects.COLLECTIONS)}
if set(_API_DECLARED) != {endpoint.collection_key for endpoint in OTHER_API_ENDPOINTS}:  # pragma: no cover
    raise RuntimeError("every Assets and Projects endpoint needs exactly one ApiCollection")
API_COLLECTIONS: dict[str, ApiCollection] = {
    endpoint.collection_key: _API_DECLARED[endpoint.collection_key] for endpoint in OTHER_API_ENDPOINTS}


class Organisation(TenantData):
    """All generated data of one tenant; records are built on demand from compact columns."""

    def __init__(self, seed: int, tenant_index: int, scale: int) -> None:
        super().__init__(seed, tenant_index, scale)
        settings.generate(self)
        contacts.generate_groups(self)
        expenses.generate(self)
        journals.lay_out_books(self)
        payments.group_batches(self)
        self.collections = {key: resource.collection(self) for key, resource in RESOURCES.items()}
