"""The state an integration platform carries between runs: the previous run's last line of standard output.

The platform this connector serves keeps no state of its own: it hands each run the last line the previous
run wrote to stdout in ``PAN_CTX_LAST_RUN_STD_OUT`` (``../shared/XERO_FACTS.md``, "The connector-secret
convention"). The tap always ends on a STATE message (tap.py), so that line is the state to resume from.

``input_state`` reads it: a Singer STATE message (``{"type": "STATE", "value": {...}}``) or a bare state
object (``{"bookmarks": {...}}``) is the run's input state; anything else (a RECORD cut short, a log line,
garbage) is ignored with one warning, and the run starts from nothing. ``--state`` wins when both are given.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping

LAST_RUN_STDOUT = "PAN_CTX_LAST_RUN_STD_OUT"
STATE_KEYS = frozenset({"bookmarks", "currently_syncing"})


def input_state(environ: Mapping[str, str]) -> tuple[dict | None, str | None]:
    """(state, warning): the state in ``PAN_CTX_LAST_RUN_STD_OUT``, or None and why it was not used."""
    text = environ.get(LAST_RUN_STDOUT, "").strip()
    if not text:
        return None, None  # a first run
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        message = json.loads(lines[-1])
    except ValueError:
        return None, _ignored("is not JSON")
    if not isinstance(message, dict):
        return None, _ignored("is not a JSON object")
    if message.get("type") == "STATE":
        value = message.get("value")
        if isinstance(value, dict):
            return value, None
        return None, _ignored("is a STATE message without a state object")
    if "type" in message:
        return None, _ignored(f"is a {str(message.get('type'))[:20]} message, not a STATE")
    if message and set(message) <= STATE_KEYS and isinstance(message.get("bookmarks", {}), dict):
        return message, None
    return None, _ignored("is neither a Singer STATE message nor a state object")


def _ignored(why: str) -> str:
    return (
        f"{LAST_RUN_STDOUT} {why}: it is ignored and this run starts without a state (a full sync). The previous "
        "run may have been cut off before its final STATE."
    )


def echo_input_state(environ: Mapping[str, str]) -> None:
    """Write the platform's state back as this run's last line (a run that stopped before it could sync)."""
    state, _ = input_state(environ)
    if state is not None:
        sys.stdout.write(json.dumps({"type": "STATE", "value": state}) + "\n")
        sys.stdout.flush()
