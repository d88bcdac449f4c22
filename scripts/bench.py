"""Benchmark this tap against the singer-io tap (PyPI tap-xero==2.6.0) on the local Xero sandbox.

What a user of a Xero tap pays for is API calls (60 a minute, a few thousand a day per
organisation), wall time under those limits, CPU and memory. This script measures each,
for both taps, on the same sandbox data and the same streams, in one run:

1. ``calls``: sandbox with limits off and no latency. Full sync of each tap, then one
   batch of mutations, then an incremental sync of each tap from its own state. API
   calls come from the sandbox's request counters, and are set against the physical
   minimum (see ``minimum_calls``). The same runs give records per CPU-second (tap
   stdout piped into a separate reader process that parses every line, as a target
   would) and peak RSS, both from ``os.wait4`` on the tap process.
2. ``limits``: sandbox with Xero's limits (60 calls a minute, 5 concurrent) and its
   latency model, with time compressed ``--time-scale`` times; the wall time of a full
   sync is reported scaled back to real seconds and set against the minimum number of
   calls at 60 a minute (one call a second).
3. ``rss``: peak RSS of a full sync at growing scales (``--rss-scales``).

Usage (from the repository root)::

    .venv/bin/python scripts/bench.py --scale 10000 --which both --json .bench/results.json
    .venv/bin/python scripts/bench.py --quick                      # tiny smoke run

The singer-io tap is installed on first use in ``.bench/venv-singerio`` (with ``six``,
which it needs but does not declare); ``scripts/bench_singerio_runner.py`` redirects its
hard-coded Xero URLs to the sandbox.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tap_xero.endpoints import BY_PATH, Endpoint, MAX_PAGE_SIZE, Paging  # noqa: E402

BENCH_DIR = REPO / ".bench"
SINGERIO_VENV = BENCH_DIR / "venv-singerio"
SINGERIO_REQUIREMENTS = ("tap-xero==2.6.0", "six>=1.16,<2")
SINGERIO_RUNNER = REPO / "scripts" / "bench_singerio_runner.py"
PLOT_VENV = BENCH_DIR / "venv-plot"
PLOT_SCRIPT = REPO / "scripts" / "bench_plot.py"
OUR_VENV_BIN = Path(sys.executable).parent
START_DATE = "2000-01-01T00:00:00Z"

# Endpoints both taps read, by Xero path. The singer-io tap also has "organisations", but it
# requests /Organisations where Xero's path is /Organisation, so it is left out of the mix.
STANDARD_MIX: tuple[str, ...] = (
    "Accounts", "BankTransactions", "BankTransfers", "BrandingThemes", "ContactGroups", "Contacts",
    "CreditNotes", "Currencies", "Invoices", "Items", "Journals", "LinkedTransactions",
    "ManualJournals", "Overpayments", "Payments", "Prepayments", "PurchaseOrders", "Quotes",
    "RepeatingInvoices", "TaxRates", "TrackingCategories", "Users",
)

# Counts the lines a tap writes, parsing each one as a Singer target would. Runs as its own
# process so that its CPU is not the tap's.
READER_CODE = r"""
import json, sys
records, states, last_state, lines = {}, 0, None, 0
for line in sys.stdin.buffer:
    lines += 1
    message = json.loads(line)
    kind = message.get("type")
    if kind == "RECORD":
        records[message["stream"]] = records.get(message["stream"], 0) + 1
    elif kind == "STATE":
        states += 1
        last_state = message["value"]
json.dump({"records": records, "states": states, "lines": lines, "state": last_state}, sys.stdout)
"""


def snake_case(path: str) -> str:
    """``CreditNotes`` -> ``credit_notes``: the singer-io tap's stream id for a Xero path."""
    return "".join(("_" + c.lower()) if c.isupper() and i else c.lower() for i, c in enumerate(path))


# ---------------------------------------------------------------------------- the sandbox


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sandbox:
    """A ``tap-xero-sandbox serve`` subprocess and its /_sandbox/ control endpoints."""

    def __init__(self, port: int, process: subprocess.Popen, time_scale: float) -> None:
        self.port = port
        self.process = process
        self.time_scale = time_scale
        self.base_url = f"http://127.0.0.1:{port}"

    def call(self, method: str, path: str, body: dict | None = None) -> dict | list:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base_url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            text = response.read()
        return json.loads(text) if text else {}

    def credentials(self) -> dict:
        return self.call("GET", "/_sandbox/credentials")

    def counts(self) -> dict:
        return self.call("GET", "/_sandbox/counts")

    def requests(self) -> dict:
        return self.call("GET", "/_sandbox/requests")

    def reset_counters(self) -> None:
        self.call("POST", "/_sandbox/reset-counters", {})

    def mutate(self, body: dict | None = None) -> dict:
        return self.call("POST", "/_sandbox/mutations", body or {})


@contextmanager
def sandbox(scale: int, tenants: int, *, limits: bool, time_scale: float = 1.0, latency: bool = False,
            workdir: Path) -> Iterator[Sandbox]:
    """Start the sandbox and wait for its ready file; stop it on exit."""
    port = free_port()
    ready = workdir / f"sandbox-{port}.ready"
    command = [
        str(OUR_VENV_BIN / "tap-xero-sandbox"), "serve", "--port", str(port), "--seed", "1",
        "--scale", str(scale), "--tenants", str(tenants), "--ready-file", str(ready),
    ]
    if limits:
        command += ["--minute-limit", "60", "--concurrent-limit", "5", "--time-scale", str(time_scale)]
    else:
        command += ["--no-limits"]
    if not latency:
        command += ["--latency-ms", "0", "--per-record-ms", "0"]
    log = open(workdir / f"sandbox-{port}.log", "wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while not ready.exists():
            if process.poll() is not None:
                raise RuntimeError(f"sandbox exited with {process.returncode}: see {log.name}")
            if time.monotonic() > deadline:
                raise RuntimeError("sandbox not ready after 300 s")
            time.sleep(0.05)
        yield Sandbox(port, process, time_scale if limits else 1.0)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


# ------------------------------------------------------------------------ physical minimum


def minimum_calls_for(endpoint: Endpoint, records: int) -> int:
    """Fewest calls that can read ``records`` records of ``endpoint`` in one tenant.

    page/pageSize responses say how many pages there are, so a full last page needs no
    extra call; page-only and offset endpoints (100 a call) can only tell the end by a
    short page, so ``n`` records take ``n // 100 + 1`` calls. Unpaged: one call.
    """
    if endpoint.paging is Paging.PAGE_SIZE:
        return max(1, math.ceil(records / MAX_PAGE_SIZE))
    if endpoint.fixed_page_size:
        return records // endpoint.fixed_page_size + 1
    return 1


def minimum_calls(records_by_path: dict[str, int], token_calls: int = 1) -> int:
    """Sum over streams of the fewest calls, plus the token calls (tenant ids are configured,
    so no /connections call is needed)."""
    return token_calls + sum(minimum_calls_for(BY_PATH[path], n) for path, n in records_by_path.items())


# ---------------------------------------------------------------------------- running taps


@dataclass
class TapRun:
    """What one sync of one tap cost and produced."""

    tap: str
    kind: str  # "full" or "incremental"
    exit_code: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    records: int
    records_by_stream: dict[str, int]
    api_calls: int = 0
    api_calls_by_path: dict[str, int] = field(default_factory=dict)
    token_calls: int = 0
    connection_calls: int = 0
    state: dict | None = None

    @property
    def records_per_cpu_s(self) -> float:
        return self.records / self.cpu_s if self.cpu_s else 0.0


def run_piped(command: list[str], workdir: Path, label: str, env: dict | None = None) -> tuple[dict, float, float, float, int]:
    """Run ``command`` with stdout piped into the reader process.

    Returns (reader summary, wall seconds, CPU seconds, peak RSS MB, exit code). CPU and RSS
    are the tap process's own, from ``os.wait4``.
    """
    stderr = open(workdir / f"{label}.stderr", "wb")
    started = time.perf_counter()
    tap = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, env=env, cwd=workdir)
    reader = subprocess.Popen([sys.executable, "-c", READER_CODE], stdin=tap.stdout, stdout=subprocess.PIPE)
    tap.stdout.close()  # the reader holds the only read end now
    _, status, usage = os.wait4(tap.pid, 0)
    wall = time.perf_counter() - started
    tap.returncode = os.waitstatus_to_exitcode(status)
    summary_text, _ = reader.communicate()
    stderr.close()
    summary = json.loads(summary_text) if summary_text else {"records": {}, "state": None}
    return summary, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, tap.returncode


class Tap:
    """One tap under test: how to configure, discover, select streams and sync."""

    name = ""

    def __init__(self, sandbox: Sandbox, streams: tuple[str, ...], workdir: Path) -> None:
        self.sandbox = sandbox
        self.paths = streams
        self.workdir = workdir / self.name
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.workdir / "config.json"
        self.catalog_path = self.workdir / "catalog.json"
        self.state: dict | None = None
        self.credentials = sandbox.credentials()

    def command(self, *args: str) -> list[str]:
        raise NotImplementedError

    def write_config(self) -> None:
        raise NotImplementedError

    def stream_ids(self, catalog: dict) -> dict[str, str]:
        """tap_stream_id -> Xero path, for the catalog entries in the mix."""
        wanted = {snake_case(path): path for path in self.paths}
        return {e["tap_stream_id"]: wanted[e["tap_stream_id"]] for e in catalog["streams"]
                if e["tap_stream_id"] in wanted}

    def prepare(self) -> None:
        """Write the config, discover once (not measured) and select the mix."""
        self.write_config()
        result = subprocess.run(self.command("--config", str(self.config_path), "--discover"),
                                capture_output=True, cwd=self.workdir, check=False)
        if result.returncode:
            raise RuntimeError(f"{self.name} --discover failed: {result.stderr.decode()[-2000:]}")
        catalog = json.loads(result.stdout)
        selected = self.stream_ids(catalog)
        missing = set(self.paths) - set(selected.values())
        if missing:
            raise RuntimeError(f"{self.name} has no stream for {sorted(missing)}")
        for entry in catalog["streams"]:
            chosen = entry["tap_stream_id"] in selected
            entry.setdefault("metadata", [])
            for item in entry["metadata"]:
                if item.get("breadcrumb") in ([], ()):
                    item["metadata"]["selected"] = chosen
                    break
            else:
                entry["metadata"].append({"breadcrumb": [], "metadata": {"selected": chosen}})
        self.catalog_path.write_text(json.dumps(catalog))

    def sync(self, kind: str) -> TapRun:
        """One sync: full the first time, incremental from the last state after that."""
        args = ["--config", str(self.config_path), "--catalog", str(self.catalog_path)]
        if kind == "incremental" and self.state:
            state_path = self.workdir / "state.json"
            state_path.write_text(json.dumps(self.state))
            args += ["--state", str(state_path)]
        self.sandbox.reset_counters()
        summary, wall, cpu, rss, code = run_piped(self.command(*args), self.workdir, f"{self.name}-{kind}")
        if code:
            tail = (self.workdir / f"{self.name}-{kind}.stderr").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} {kind} sync exited {code}:\n{tail}")
        self.state = summary.get("state") or self.state
        counters = self.sandbox.requests()
        by_path: dict[str, int] = {}
        for paths in counters.get("by_tenant", {}).values():
            for path, n in paths.items():
                by_path[path] = by_path.get(path, 0) + n
        return TapRun(
            tap=self.name, kind=kind, exit_code=code, wall_s=wall, cpu_s=cpu, peak_rss_mb=rss,
            records=sum(summary["records"].values()), records_by_stream=summary["records"],
            api_calls=int(counters.get("total", 0)), api_calls_by_path=by_path,
            token_calls=int(counters.get("token", 0)), connection_calls=int(counters.get("connections", 0)),
            state=self.state,
        )


class OurTap(Tap):
    name = "ours"

    def command(self, *args: str) -> list[str]:
        return [str(OUR_VENV_BIN / "tap-xero"), *args]

    def stream_ids(self, catalog: dict) -> dict[str, str]:
        # Our streams name their endpoint; match on it rather than on the stream name.
        from tap_xero.tap import TapXero

        by_name = {}
        for stream_class in getattr(TapXero, "stream_classes", ()):
            endpoint = getattr(stream_class, "endpoint", None)
            if endpoint is not None and endpoint.path in self.paths:
                by_name[stream_class.name] = endpoint.path
        if not by_name:
            return super().stream_ids(catalog)
        return {e["tap_stream_id"]: by_name[e["tap_stream_id"]] for e in catalog["streams"]
                if e["tap_stream_id"] in by_name}

    def write_config(self) -> None:
        c = self.credentials
        config = {
            "client_id": c["client_id"], "client_secret": c["client_secret"], "refresh_token": c["refresh_token"],
            "api_url": c.get("api_url", self.sandbox.base_url + "/api.xro/2.0"),
            "identity_url": c.get("identity_url", self.sandbox.base_url),
            "start_date": START_DATE, "tenant_ids": c.get("tenant_ids") or [c["tenant_id"]],
            "token_store_path": str(self.workdir / "token.json"), "page_size": MAX_PAGE_SIZE,
        }
        self.config_path.write_text(json.dumps(config))


class SingerIoTap(Tap):
    name = "singerio"

    def command(self, *args: str) -> list[str]:
        base = self.sandbox.base_url
        return [
            str(SINGERIO_VENV / "bin" / "python"), str(SINGERIO_RUNNER),
            "--api-url", self.credentials.get("api_url", base + "/api.xro/2.0"),
            "--token-url", self.credentials.get("token_url", base + "/connect/token"),
            "--", *args,
        ]

    def write_config(self) -> None:
        c = self.credentials
        tenant = (c.get("tenant_ids") or [c.get("tenant_id")])[0]
        config = {"client_id": c["client_id"], "client_secret": c["client_secret"],
                  "refresh_token": c["refresh_token"], "tenant_id": tenant, "start_date": START_DATE}
        self.config_path.write_text(json.dumps(config))


def ensure_venv(venv: Path, imports: str, requirements: tuple[str, ...]) -> Path:
    """A venv at ``venv`` where ``import <imports>`` works, made on first use; its Python."""
    python = venv / "bin" / "python"
    if python.exists() and subprocess.run([str(python), "-c", f"import {imports}"],
                                          capture_output=True).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *requirements], check=True)
    return python


def ensure_singerio_venv() -> None:
    ensure_venv(SINGERIO_VENV, "tap_xero, six", SINGERIO_REQUIREMENTS)


def plot(json_path: Path, out_dir: Path) -> None:
    """Draw the figures with matplotlib from its own venv (not a dependency of the project)."""
    python = ensure_venv(PLOT_VENV, "matplotlib", ("matplotlib>=3.8,<4",))
    subprocess.run([str(python), str(PLOT_SCRIPT), str(json_path), str(out_dir)], check=True)


TAPS = {"ours": OurTap, "singerio": SingerIoTap}

# ----------------------------------------------------------------------------- the phases


def records_in_sandbox(sandbox: Sandbox, paths: tuple[str, ...]) -> dict[str, int]:
    """Records per Xero path, summed over tenants, from /_sandbox/counts."""
    counts = sandbox.counts()
    tenants = counts.get("by_tenant", counts)
    totals = {path: 0 for path in paths}
    for per_path in tenants.values():
        if not isinstance(per_path, dict):
            continue
        for path in paths:
            totals[path] += int(per_path.get(path, 0))
    return totals


def phase_calls(options, taps: list[str], workdir: Path) -> dict:
    """Full + incremental syncs with limits off: calls, records/CPU-s, peak RSS."""
    with sandbox(options.scale, options.tenants, limits=False, workdir=workdir) as box:
        tap_objects = [TAPS[name](box, options.streams, workdir / "calls") for name in taps]
        for tap in tap_objects:
            tap.prepare()
        records = records_in_sandbox(box, options.streams)
        full = {tap.name: tap.sync("full") for tap in tap_objects}
        mutation = box.mutate()
        after = records_in_sandbox(box, options.streams)
        incremental = {tap.name: tap.sync("incremental") for tap in tap_objects}
    full_minimum = minimum_calls(records) * options.tenants // max(options.tenants, 1)
    changed = {path: int(n) for path, n in (mutation.get("changed_by_path") or {}).items() if path in records}
    incremental_minimum = incremental_minimum_calls(after, changed)
    return {
        "records_in_sandbox": records, "mutation": mutation,
        "full": {name: asdict(run) | {"records_per_cpu_s": run.records_per_cpu_s} for name, run in full.items()},
        "incremental": {name: asdict(run) | {"records_per_cpu_s": run.records_per_cpu_s}
                        for name, run in incremental.items()},
        "full_minimum_calls": full_minimum, "incremental_minimum_calls": incremental_minimum,
    }


def incremental_minimum_calls(records: dict[str, int], changed: dict[str, int]) -> int:
    """Endpoints that honour If-Modified-Since need only the changed records; the rest
    (no timestamp filter, or LinkedTransactions) must be read whole again."""
    total = 1
    for path, n in records.items():
        endpoint = BY_PATH[path]
        total += minimum_calls_for(endpoint, changed.get(path, 0) if endpoint.if_modified_since else n)
    return total


def phase_limits(options, taps: list[str], workdir: Path) -> dict:
    """Full sync wall time under Xero's limits and the latency model, scaled back to real time."""
    results = {}
    for name in taps:
        # One sandbox per tap: each starts with fresh minute windows.
        with sandbox(options.scale, options.tenants, limits=True, time_scale=options.time_scale,
                     latency=True, workdir=workdir) as box:
            tap = TAPS[name](box, options.streams, workdir / "limits")
            tap.prepare()
            time.sleep(60 / options.time_scale + 0.1)  # let discovery's calls leave the minute window
            records = records_in_sandbox(box, options.streams)
            run = tap.sync("full")
            minimum = minimum_calls(records)
            real_wall = run.wall_s * options.time_scale
            results[name] = {
                "wall_s_measured": run.wall_s, "wall_s_real": real_wall, "api_calls": run.api_calls,
                "minimum_calls": minimum, "minimum_wall_s_real": minimum * 60 / 60,
                "wall_vs_minimum": real_wall / minimum if minimum else None, "records": run.records,
            }
    return {"time_scale": options.time_scale, "taps": results}


def phase_rss(options, taps: list[str], workdir: Path) -> dict:
    """Peak RSS of a full sync at each scale in ``--rss-scales``."""
    rows = []
    for scale in options.rss_scales:
        with sandbox(scale, 1, limits=False, workdir=workdir) as box:
            row: dict = {"scale": scale}
            for name in taps:
                if name == "singerio" and scale > options.singerio_max_scale:
                    continue
                tap = TAPS[name](box, options.rss_streams, workdir / f"rss-{scale}")
                tap.prepare()
                run = tap.sync("full")
                row[name] = {"peak_rss_mb": run.peak_rss_mb, "records": run.records, "cpu_s": run.cpu_s,
                             "wall_s": run.wall_s, "records_per_cpu_s": run.records_per_cpu_s}
            rows.append(row)
    return {"streams": list(options.rss_streams), "rows": rows}


# ----------------------------------------------------------------------------- reporting


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def format_report(results: dict) -> str:
    lines = [f"# tap-xero benchmark ({results['machine']['summary']})", ""]
    calls = results.get("calls")
    if calls:
        lines.append(f"## Full and incremental sync, limits off (scale {results['options']['scale']}, "
                     f"{results['options']['tenants']} tenant(s), {len(results['options']['streams'])} streams)")
        header = f"{'':28}" + "".join(f"{name:>14}" for name in calls["full"]) + f"{'minimum':>14}"
        lines.append(header)
        for kind, minimum in (("full", calls["full_minimum_calls"]), ("incremental", calls["incremental_minimum_calls"])):
            runs = calls[kind]
            lines.append(f"{kind + ' API calls':28}" + "".join(f"{r['api_calls']:>14}" for r in runs.values())
                         + f"{minimum:>14}")
            lines.append(f"{kind + ' calls / minimum':28}" + "".join(
                f"{r['api_calls'] / minimum:>13.2f}x" for r in runs.values()))
            lines.append(f"{kind + ' records':28}" + "".join(f"{r['records']:>14}" for r in runs.values()))
            lines.append(f"{kind + ' CPU s':28}" + "".join(f"{r['cpu_s']:>14.2f}" for r in runs.values()))
            lines.append(f"{kind + ' records / CPU-s':28}" + "".join(
                f"{r['records_per_cpu_s']:>14.0f}" for r in runs.values()))
            lines.append(f"{kind + ' peak RSS MB':28}" + "".join(f"{r['peak_rss_mb']:>14.1f}" for r in runs.values()))
            lines.append(f"{kind + ' wall s':28}" + "".join(f"{r['wall_s']:>14.2f}" for r in runs.values()))
        full = calls["full"]
        if "ours" in full and "singerio" in full:
            o, s = full["ours"], full["singerio"]
            lines.append(f"ratios ours/singer-io (full): calls {ratio(o['api_calls'], s['api_calls'])}, "
                         f"records/CPU-s {ratio(o['records_per_cpu_s'], s['records_per_cpu_s'])}, "
                         f"peak RSS {ratio(o['peak_rss_mb'], s['peak_rss_mb'])}")
        lines.append("")
    limits = results.get("limits")
    if limits:
        lines.append(f"## Full sync under Xero's limits (60/min, 5 concurrent, latency model; time compressed "
                     f"{limits['time_scale']:g}x, figures scaled back to real seconds)")
        for name, r in limits["taps"].items():
            lines.append(f"{name:10} wall {r['wall_s_real']:9.0f} s real ({r['wall_s_measured']:.1f} s measured), "
                         f"{r['api_calls']} calls; minimum {r['minimum_calls']} calls = "
                         f"{r['minimum_wall_s_real']:.0f} s at 60/min; wall / minimum "
                         f"{r['wall_vs_minimum']:.2f}x")
        lines.append("")
    rss = results.get("rss")
    if rss:
        lines.append(f"## Peak RSS (MB) by scale, streams {','.join(rss['streams'])}")
        for row in rss["rows"]:
            cells = ", ".join(f"{name} {row[name]['peak_rss_mb']:.1f} MB ({row[name]['records']} records, "
                              f"{row[name]['records_per_cpu_s']:.0f}/CPU-s)" for name in TAPS if name in row)
            lines.append(f"{row['scale']:>9}: {cells}")
        lines.append("")
    return "\n".join(lines)


def machine() -> dict:
    memory_kb = 0
    try:
        memory_kb = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration, ValueError):
        pass
    cpu = platform.processor() or ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info = {"cores": os.cpu_count(), "memory_gb": round(memory_kb / 1024 / 1024, 1), "cpu": cpu,
            "python": platform.python_version(), "platform": platform.platform()}
    info["summary"] = f"{info['cores']} cores, {info['memory_gb']} GB, Python {info['python']}"
    return info


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10000, help="invoices per tenant in the sandbox")
    parser.add_argument("--tenants", type=int, default=1)
    parser.add_argument("--streams", default=",".join(STANDARD_MIX),
                        help="Xero paths to sync, comma-separated (default: the standard mix)")
    parser.add_argument("--which", choices=("ours", "singerio", "both"), default="both")
    parser.add_argument("--phases", default="calls,limits", help="calls,limits,rss (comma-separated)")
    parser.add_argument("--time-scale", type=float, default=60.0,
                        help="limits phase: how many times faster than real time the sandbox's clock runs")
    parser.add_argument("--rss-scales", default="10000,100000,1000000")
    parser.add_argument("--rss-streams", default="Invoices")
    parser.add_argument("--singerio-max-scale", type=int, default=100000,
                        help="rss phase: largest scale the (slow) singer-io tap is run at")
    parser.add_argument("--quick", action="store_true", help="tiny scale, all phases, for a smoke test")
    parser.add_argument("--json", type=Path, help="write all figures to this JSON file")
    parser.add_argument("--plot", type=Path, metavar="DIR", help="draw PNG figures into DIR (needs --json)")
    parser.add_argument("--workdir", type=Path, help="keep configs, catalogs and logs here")
    options = parser.parse_args(argv)
    if options.quick:
        options.scale = min(options.scale, 200)
        options.phases = "calls,limits,rss"
        options.rss_scales = "100,200"
        options.time_scale = max(options.time_scale, 600.0)
    options.streams = tuple(p.strip() for p in options.streams.split(",") if p.strip())
    options.rss_streams = tuple(p.strip() for p in options.rss_streams.split(",") if p.strip())
    options.rss_scales = [int(s) for s in str(options.rss_scales).split(",") if s.strip()]
    options.phases = tuple(p.strip() for p in options.phases.split(","))
    unknown = [p for p in options.streams + options.rss_streams if p not in BY_PATH]
    if unknown:
        parser.error(f"unknown Xero paths: {unknown}")
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    taps = ["ours", "singerio"] if options.which == "both" else [options.which]
    if "singerio" in taps:
        ensure_singerio_venv()
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="tap-xero-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "machine": machine(), "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
        "options": {"scale": options.scale, "tenants": options.tenants, "streams": list(options.streams),
                    "which": options.which, "phases": list(options.phases), "time_scale": options.time_scale},
    }
    if "calls" in options.phases:
        results["calls"] = phase_calls(options, taps, workdir)
    if "limits" in options.phases:
        results["limits"] = phase_limits(options, taps, workdir)
    if "rss" in options.phases:
        results["rss"] = phase_rss(options, taps, workdir)
    print(format_report(results))
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(results, indent=2, default=str))
        if options.plot:
            plot(options.json, options.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
