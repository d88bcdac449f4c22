"""Every stream of the tap, one short module per API area.

Stream classes only declare data: name, endpoint (or report), primary keys (always
starting with ``tenant_id``), replication key, default selection and child tables.
The mechanics (paging, If-Modified-Since, client-side filtering, values, child rows,
report periods) live once in ``tap_xero.client``. Schemas are generated into
``tap_xero/schemas/<name>.json`` by ``scripts/generate_schemas.py``; docs/streams.md
lists every stream.
"""

from __future__ import annotations

from tap_xero.streams import assets, contacts, expenses, journals, organisation, projects, reports, transactions

STREAM_CLASSES: tuple[type, ...] = (
    *organisation.STREAMS,
    *contacts.STREAMS,
    *transactions.STREAMS,
    *journals.STREAMS,
    *expenses.STREAMS,
    *reports.STREAMS,
    *assets.STREAMS,
    *projects.STREAMS,
)

__all__ = ["STREAM_CLASSES"]
