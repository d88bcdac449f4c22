"""Draw the benchmark's figures from the JSON that ``scripts/bench.py --json`` writes.

Needs matplotlib, which this project does not depend on: ``scripts/bench.py --plot DIR``
installs it in ``.bench/venv-plot`` and runs this file with that venv's Python::

    .bench/venv-plot/bin/python scripts/bench_plot.py results.json [more.json ...] docs/img
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {"ours": "tap-xero (this repo)", "singerio": "singer-io tap-xero 2.6.0"}
COLOURS = {"ours": "#1f77b4", "singerio": "#ff7f0e"}


def bar_pair(axis, title: str, values: dict[str, float], unit: str, reference: float | None = None,
             reference_label: str = "") -> None:
    names = list(values)
    bars = axis.bar([LABELS[n] for n in names], [values[n] for n in names], color=[COLOURS[n] for n in names])
    axis.bar_label(bars, labels=[f"{values[n]:,.0f}" for n in names])
    if reference:
        axis.axhline(reference, color="grey", linestyle="--", linewidth=1)
        axis.annotate(reference_label, (0.99, reference), xycoords=("axes fraction", "data"),
                      ha="right", va="bottom", fontsize=8, color="grey")
    axis.set_title(title, fontsize=10)
    axis.set_ylabel(unit)
    axis.tick_params(axis="x", labelsize=8)


def plot_summary(results: dict, out: Path) -> Path | None:
    calls, limits = results.get("calls"), results.get("limits")
    if not calls:
        return None
    panels = 3 + (1 if limits else 0)
    figure, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 4))
    full = calls["full"]
    bar_pair(axes[0], "API calls, full sync", {n: r["api_calls"] for n, r in full.items()}, "calls",
             min(r["minimum_calls"] for r in full.values()), "physical minimum")
    bar_pair(axes[1], "Records per CPU-second, full sync", {n: r["records_per_cpu_s"] for n, r in full.items()},
             "records / CPU-s")
    bar_pair(axes[2], "Peak RSS, full sync", {n: r["peak_rss_mb"] for n, r in full.items()}, "MB", 150, "target 150 MB")
    if limits:
        taps = limits["taps"]
        minimum = next(iter(taps.values()))["minimum_wall_s_real"]
        bar_pair(axes[3], "Wall time under 60 calls/min", {n: r["wall_s_real"] for n, r in taps.items()},
                 "seconds", minimum, "minimum calls at 60/min")
    options = results["options"]
    figure.suptitle(f"scale {options['scale']:,} invoices, {options['tenants']} tenant(s), "
                    f"{len(options['streams'])} streams — {results['machine']['summary']}", fontsize=10)
    figure.tight_layout()
    path = out / "bench_summary.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_rss(results: dict, out: Path) -> Path | None:
    rss = results.get("rss")
    if not rss or not rss["rows"]:
        return None
    figure, axis = plt.subplots(figsize=(6, 4))
    for name in LABELS:
        points = [(row["scale"], row[name]["peak_rss_mb"]) for row in rss["rows"] if name in row]
        if points:
            xs, ys = zip(*points, strict=True)
            axis.plot(xs, ys, marker="o", label=LABELS[name], color=COLOURS[name])
    axis.axhline(150, color="grey", linestyle="--", linewidth=1, label="target 150 MB")
    axis.set_xscale("log")
    axis.set_xlabel(f"records in the sandbox ({', '.join(rss['streams'])})")
    axis.set_ylabel("peak RSS of the tap process, MB")
    axis.set_ylim(bottom=0)
    axis.set_title("Peak memory of a full sync by scale", fontsize=10)
    axis.legend(fontsize=8)
    figure.tight_layout()
    path = out / "bench_rss.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_orgs(results: dict, out: Path) -> Path | None:
    """Wall time against the number of organisations, beside the physical bound and the target."""
    orgs = results.get("orgs")
    if not orgs or not orgs["rows"]:
        return None
    rows = sorted(orgs["rows"], key=lambda row: row["organisations"])
    xs = [row["organisations"] for row in rows]
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(xs, [row["wall_s"] for row in rows], marker="o", color=COLOURS["ours"], label=LABELS["ours"])
    axis.plot(xs, [row["bound_s"] for row in rows], linestyle="--", color="grey",
              label="physical bound (slowest organisation at 60 calls/min, 5 at once)")
    axis.plot(xs, [row["target_s"] for row in rows], linestyle=":", color="#d62728", label="target: 1.5 x bound + 5 s")
    for before in orgs.get("before", []):
        axis.scatter([before["organisations"]], [before["wall_s"]], marker="x", color="#ff7f0e", zorder=3,
                     label=f"before (main {before.get('label', '')})".strip())
    axis.set_xlabel(f"organisations in one process ({orgs['scale']:,} invoices each)")
    axis.set_ylabel("wall time of a first run, s")
    axis.set_ylim(bottom=0)
    axis.set_title(f"Many organisations under Xero's real limits ({orgs['latency_ms']:g} ms a call)", fontsize=10)
    axis.legend(fontsize=7)
    figure.tight_layout()
    path = out / "bench_orgs.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main(argv: list[str]) -> int:
    """``bench_plot.py RESULTS.json [MORE.json ...] OUT_DIR``: phases in later files win."""
    *inputs, out_dir = argv
    results: dict = {}
    for path in inputs:
        results.update(json.loads(Path(path).read_text()))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for path in (plot_summary(results, out), plot_rss(results, out), plot_orgs(results, out)):
        if path:
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
