"""Console entry ``tap-xero``: ``tap-xero auth ...`` runs the connect helper, anything else the Singer tap.

Also runnable as ``python -m tap_xero.cli``. The dispatch itself lives in ``tap.XeroCommand`` so that
the SDK-style entry point ``tap_xero.tap:TapXero.cli`` behaves the same.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> None:
    from tap_xero.tap import TapXero

    TapXero.cli.main(args=None if argv is None else list(argv), prog_name="tap-xero")


if __name__ == "__main__":
    main()
