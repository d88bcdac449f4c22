"""Console entry ``tap-xero``: ``tap-xero auth ...`` runs the connect helper, anything else the Singer tap."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["auth"]:
        from tap_xero.auth_cli import main as auth_main

        sys.exit(auth_main(args[1:]))
    from tap_xero.tap import TapXero

    TapXero.cli.main(args=args, prog_name="tap-xero")


if __name__ == "__main__":
    main()
