"""TenantPrefetcher: while one tenant's pages are written, the next tenants' pages are read in the background.

The SDK syncs one partition (tenant) after another. When a stream starts writing tenant *i*, background
producers (``paging.Prefetch``, one thread each) start reading the next tenants with their own look-ahead,
each holding PREFETCH_PAGES ready; all of them together hold at most ``paging.BACKGROUND_RECORDS`` records
(``paging.background_readers``), and PARALLEL_TENANTS tenants are read at once at most. Records are still
written one tenant after another by the SDK's thread; a producer only reads Xero and prepares records (its
read is set up, state included, on the writing thread). A failure in a producer is raised when its tenant's
turn comes; ``stop`` ends every producer (a stream that fails stops them all).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from tap_xero.paging import Page, Prefetch, background_readers

# Tenants read at once by one stream: the one being written and up to three more, fewer when pages are large.
PARALLEL_TENANTS = 4
PREFETCH_PAGES = 1  # finished pages a background tenant may hold ready, besides its look-ahead


class TenantPrefetcher:
    """See the module docstring. One per stream."""

    def __init__(self, records_per_call: int, max_concurrent: int) -> None:
        self.readers = background_readers(records_per_call, max_concurrent, PREFETCH_PAGES, PARALLEL_TENANTS - 1)
        self._ready: dict[str, Prefetch] = {}

    def pages_for(
        self,
        tenant_id: str,
        tenant_ids: list[str],
        read: Callable[[str], Iterator[Page]],
        may_prefetch: Callable[[str], bool],
    ) -> Iterator[Page]:
        """``tenant_id``'s pages (read ahead if a producer was started), and producers for the next tenants.

        ``read(tenant)`` sets a tenant's read up (on this thread) and returns its pages; ``may_prefetch``
        says whether a tenant's collection may be read ahead (not one stopped, refused, or read by ids).
        """
        pages = self._ready.pop(tenant_id, None) or read(tenant_id)
        if tenant_id in tenant_ids:
            position = tenant_ids.index(tenant_id) + 1
            for other in tenant_ids[position: position + self.readers]:
                if other not in self._ready and may_prefetch(other):
                    self._ready[other] = Prefetch(read(other), PREFETCH_PAGES)
        return pages

    def stop(self) -> None:
        for pending in self._ready.values():
            pending.close()
        self._ready = {}


def close_pages(pages: Iterator[Page]) -> None:
    """Stop a background producer whose pages are no longer wanted (a no-op for a plain generator)."""
    if isinstance(pages, Prefetch):
        pages.close()
