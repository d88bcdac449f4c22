"""What both bench runners share: their own options before ``--``, the tap's arguments after it.

Kept to the standard library: the singer-io runner imports it under singer-io's own virtual environment.
"""

from __future__ import annotations

import sys


def split_tap_args(argv: list[str] | None = None) -> tuple[list[str], list[str]]:
    """(runner options, tap arguments) of ``argv`` (default: this process's), split at the first ``--``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        return argv, []
    split = argv.index("--")
    return argv[:split], argv[split + 1:]
