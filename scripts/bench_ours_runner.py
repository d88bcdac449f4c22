"""Run this repository's tap for the benchmark, with its rate-limit clock matched to the sandbox's.

The tap paces itself to Xero's 60 calls a minute on its own (``tap_xero.limits.Limits``),
whatever the server says. The benchmark runs the sandbox with limits off (to measure CPU)
or with time compressed (``--time-scale``, to measure wall time under the limits in less
time); the tap's pacing must follow, or it would wait out real minutes. This runner sets
the allowances every ``Limits`` is built with, without editing the tap, then calls the
tap's own entry point::

    .venv/bin/python scripts/bench_ours_runner.py --window-seconds 1 -- --config c.json --catalog cat.json
    .venv/bin/python scripts/bench_ours_runner.py --unpaced -- ...      # no per-minute pacing at all

Everything after ``--`` goes to ``tap-xero`` unchanged. Concurrency (5 per tenant) is never changed.
"""

from __future__ import annotations

import argparse
import sys

from bench_runner_args import split_tap_args  # beside this script (sys.path[0])

UNPACED = 10**9  # calls "a minute": never the constraint


def pace_limits(window_seconds: float | None, unpaced: bool) -> None:
    """Make every ``tap_xero.limits.Limits`` use ``window_seconds`` windows, or no per-minute cap."""
    from tap_xero import limits

    original_init = limits.Limits.__init__

    def init(self, **kwargs):
        if window_seconds is not None:
            kwargs["window_seconds"] = window_seconds
        if unpaced:
            kwargs["per_minute_per_tenant"] = UNPACED
            kwargs["app_per_minute"] = UNPACED
        original_init(self, **kwargs)

    limits.Limits.__init__ = init


def main(argv: list[str] | None = None) -> None:
    argv, tap_args = split_tap_args(argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window-seconds", type=float, help="length of the tap's rate-limit 'minute'")
    parser.add_argument("--unpaced", action="store_true", help="no per-minute pacing (sandbox limits off)")
    options = parser.parse_args(argv)

    pace_limits(options.window_seconds, options.unpaced)
    from tap_xero.tap import TapXero

    sys.argv = ["tap-xero", *tap_args]
    TapXero.cli()


if __name__ == "__main__":
    main()
