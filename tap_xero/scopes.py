"""Which streams the granted OAuth scopes allow, in both of Xero's scope models.

Apps created before 2 March 2026 hold broad scopes (``accounting.transactions.read``), newer ones
granular scopes (``accounting.invoices.read``). ``tap_xero/endpoints.py`` lists, for each endpoint
and report, every scope of either model that grants read access; holding ANY one is enough.

A selected stream whose scope is missing is left out with one warning naming the scope, instead of
failing mid-run with a 401 ``AuthorizationUnsuccessful``; ``fail_on_missing_scope`` makes it an error.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from tap_xero.errors import ScopeError

_SEPARATORS = re.compile(r"[\s,]+")


def parse_scopes(value: object) -> frozenset[str] | None:
    """A scope setting or JWT claim (space/comma-separated string or list) as a set; None when absent."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        items = _SEPARATORS.split(value)
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = []
        for item in value:
            if not isinstance(item, str):
                raise ValueError(f"scope {item!r} is not a string")
            items += _SEPARATORS.split(item)
    else:
        raise ValueError("scopes must be a string or a list of strings")
    scopes = frozenset(item.strip() for item in items if item.strip())
    return scopes or None


def missing_scopes(required: tuple[str, ...], granted: frozenset[str] | None) -> tuple[str, ...]:
    """The scopes of ``required`` to ask for, or () when access is granted.

    Granted when ``required`` is empty, when the granted set is unknown (``None``: no scopes
    setting and no scope claim, so let Xero decide), or when any scope of ``required`` is held.
    """
    if not required or granted is None or granted.intersection(required):
        return ()
    return required


def describe_scopes(scopes: tuple[str, ...]) -> str:
    """'accounting.transactions.read' or 'accounting.transactions.read (or one of: ...)'."""
    reads = [scope for scope in scopes if scope.endswith(".read")] or list(scopes)
    first, others = reads[0], [scope for scope in scopes if scope != reads[0]]
    return f"{first} (or one of: {', '.join(others)})" if others else first


def stream_scopes(stream: object) -> tuple[str, ...]:
    """The scopes a stream needs: its own ``required_scopes`` if it declares some, else those of its
    endpoint, of its report, or (a child table) of its parent stream."""
    declared = getattr(stream, "required_scopes", None)
    if declared is None:
        source = getattr(stream, "endpoint", None) or getattr(stream, "report", None)
        declared = getattr(source, "scopes", None)
    parent = getattr(stream, "parent_stream_type", None)
    if declared is None and parent is not None:
        return stream_scopes(parent)
    return tuple(declared or ())


def drop_ungranted_streams(
    streams: Iterable[Any],
    granted: frozenset[str] | None,
    *,
    fail_on_missing_scope: bool,
    logger: logging.Logger,
) -> list[str]:
    """Deselect each selected stream whose scope is not granted; return the names left out.

    Logs one warning per stream (naming the missing scope), or raises ``ScopeError`` listing every
    such stream when ``fail_on_missing_scope`` is set.
    """
    ungranted: list[tuple[Any, tuple[str, ...]]] = []
    for stream in streams:
        if not stream.selected:
            continue
        missing = missing_scopes(stream_scopes(stream), granted)
        if missing:
            ungranted.append((stream, missing))
    if ungranted and fail_on_missing_scope:
        listing = "; ".join(f"{stream.name} needs {describe_scopes(missing)}" for stream, missing in ungranted)
        raise ScopeError(
            f"The access token lacks scopes for selected streams: {listing}. Reconnect with those scopes, "
            "deselect the streams, or unset fail_on_missing_scope to skip them with a warning."
        )
    for stream, missing in ungranted:
        logger.warning(
            "Skipping stream '%s': the token lacks scope %s. Reconnect with that scope to sync it.",
            stream.name, describe_scopes(missing),
        )
        stream.selected = False
    return [stream.name for stream, _ in ungranted]
