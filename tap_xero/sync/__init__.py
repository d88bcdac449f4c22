"""How the tap reads Xero, below the streams: each mechanism in a module of its own, testable alone.

The stream classes (``tap_xero/client.py``) declare data and implement the SDK's hooks; they call down into
these modules with what the modules need (the Xero client, the partition's state and how to write it,
the record converter), never the reverse: nothing here imports a stream or the SDK.

- ``query``: one stream's query (parameters, If-Modified-Since, order, paging), from its declarations.
- ``read_state``: a tenant's bookmark and the marker of an interrupted read, in the partition's state.
- ``collection``: one tenant's pages of one collection: the forward read, an interrupted window read
  again, the page-shift repair.
- ``tenant_sync``: writing one tenant's pages: records and child rows, state at safe points, progress.
- ``fan_in``: every tenant of a stream read at once on reader threads, within a memory budget; their
  pages written as they arrive, on the one writing thread.
- ``outcomes``: what ends a tenant's read without failing the run (stops, refusals, retired endpoints).
- ``gating``: endpoints Xero refuses to the app's pricing tier, remembered for a day.
- ``report_months``, ``report_reader``: which report months a run reads, in how few calls.
- ``run_facts``: what one run learnt about each organisation that other streams need.
- ``unfinished``: a sync that stopped before its end goes on with the streams it has not read yet.
"""
