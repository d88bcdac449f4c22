"""ReadState: one tenant's part of a stream's Singer state, for a collection read.

- ``replication_key_value``: the bookmark. Sorted reads move it after every page; others when the tenant's
  read is complete.
- ``READ_MARKER`` (``interrupted_read``): a sorted read paged by page number has written per-page
  bookmarks but not finished its page-shift repair: ``{"since": the read's If-Modified-Since (or null),
  "started": Xero's clock at its first page}``, and, once a resumed run has begun reading that window
  again, ``"until"``: the bookmark the window ends at, with ``since`` moved to how far the re-read got.
  A run resuming from it reads that window again if records changed after the read began (collection.py).

Every change is written at once as one STATE message (``write``), only when something changed.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

READ_MARKER = "interrupted_read"


class ReadState:
    """See the module docstring."""

    def __init__(self, state: MutableMapping[str, Any], replication_key: str | None,
                 write: Callable[[], None]) -> None:
        self.state = state
        self.replication_key = replication_key
        self.write = write

    @property
    def bookmark(self) -> Any:  # noqa: ANN401
        return self.state.get("replication_key_value")

    @property
    def marker(self) -> dict | None:
        marker = self.state.get(READ_MARKER)
        return marker if isinstance(marker, dict) else None

    def interrupted(self) -> dict | None:
        """The marker plus the bookmark its window ends at, when a previous read was interrupted."""
        marker = self.marker
        if marker is None:
            return None
        return {**marker, "bookmark": marker.get("until") or self.bookmark}

    def save(self, bookmark: Any, marker: dict | None = None) -> None:  # noqa: ANN401
        """Save the bookmark and the marker (None: the read is complete) in one STATE message."""
        state = self.state
        changed = False
        if bookmark is not None and state.get("replication_key_value") != bookmark:
            state["replication_key"] = self.replication_key
            state["replication_key_value"] = bookmark
            changed = True
        if state.get(READ_MARKER) != marker:
            if marker is None:
                state.pop(READ_MARKER, None)
            else:
                state[READ_MARKER] = marker
            changed = True
        if changed:
            self.write()
