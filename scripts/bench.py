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
2. ``limits``: sandbox with Xero's limits (60 calls a minute, 5 concurrent) and a
   latency model, optionally with time compressed ``--time-scale`` times; the wall time
   of a full sync is reported in real seconds (scaled back, and said so, when compressed)
   and set against the minimum number of calls at 60 a minute (one call a second).
3. ``rss``: peak RSS of a full sync at growing scales (``--rss-scales``).
4. ``profile``: py-spy samples of our tap during a full sync (where its CPU goes).
5. ``cost``: what a run of our tap costs in API calls as a new user runs it: one organisation
   (``--cost-scale`` invoices), the default stream selection, ``start_date`` ten years back; the
   first run, then an incremental run after 1% of the invoices changed; each beside the physical
   minimum, with the reports apart (the minimum Xero allows for the report window); then another 1%
   changed in amount (new journals in their months, so those report months are read again).
6. ``orgs``: many organisations in one process under Xero's real limits (60 calls a minute and 5 at once
   per organisation, 10,000 a minute for the app) and ``--orgs-latency-ms`` a call: a new user's first run
   (default selection, as ``cost``) of 1..N organisations of ``--orgs-scale`` invoices each
   (``--orgs-counts``); wall time against the physical bound (the slowest organisation's own calls at 60 a
   minute and 5 at once, or the app-wide limit if it binds), peak RSS and records per CPU-second.

Usage (from the repository root, with the venv ``scripts/test.sh`` sets up: the tap and the sandbox
(``pip install -e '.[test]' -e ./sandbox``), whose ``tap-xero-sandbox`` it starts)::

    .venv/bin/python scripts/bench.py --scale 10000 --which both --json .bench/results.json
    .venv/bin/python scripts/bench.py --quick                      # tiny smoke run

The singer-io tap is installed on first use in ``.bench/venv-singerio`` (with ``six``,
which it needs but does not declare); ``scripts/bench_singerio_runner.py`` redirects its
hard-coded Xero URLs to the sandbox. Our tap runs through ``scripts/bench_ours_runner.py``,
which matches its own 60-a-minute pacing to the sandbox's clock. BENCHMARKS.md has the figures.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import copy
import json
import math
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from collections.abc import Iterator

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tap_xero.endpoints import (  # noqa: E402
    BY_COLLECTION, BY_ENVELOPE, BY_PATH, MAX_PAGE_SIZE, OTHER_API_ENDPOINTS, Endpoint, Paging,
)

# Every endpoint a default run may read, by path: the Accounting API's and the Assets and Projects APIs'.
ENDPOINT_AT: dict[str, Endpoint] = {**BY_PATH, **{e.path: e for e in OTHER_API_ENDPOINTS}}

BENCH_DIR = REPO / ".bench"
SINGERIO_VENV = BENCH_DIR / "venv-singerio"
SINGERIO_REQUIREMENTS = ("tap-xero==2.6.0", "six>=1.16,<2")
SINGERIO_RUNNER = REPO / "scripts" / "bench_singerio_runner.py"
OURS_RUNNER = REPO / "scripts" / "bench_ours_runner.py"
PLOT_VENV = BENCH_DIR / "venv-plot"
TOOLS_VENV = BENCH_DIR / "venv-tools"  # py-spy, for the profile phase
PLOT_SCRIPT = REPO / "scripts" / "bench_plot.py"
OUR_VENV_BIN = Path(sys.executable).parent
START_DATE = "2000-01-01T00:00:00Z"
# The latency model for the limits phase: an assumption, about what Xero shows for small pages
# and for 1,000-invoice pages with line items (about 1.25 s).
LATENCY_MS = 250.0
PER_RECORD_MS = 1.0
APP_CALLS_PER_MINUTE = 10_000  # Xero's app-wide limit, all organisations together

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
records, states, last_state, lines, invoice_ids = {}, 0, None, 0, set()
for line in sys.stdin.buffer:
    lines += 1
    message = json.loads(line)
    kind = message.get("type")
    if kind == "RECORD":
        records[message["stream"]] = records.get(message["stream"], 0) + 1
        if message["stream"] == "invoices":
            invoice_ids.add(message["record"].get("InvoiceID"))
    elif kind == "STATE":
        states += 1
        last_state = message["value"]
json.dump({"records": records, "states": states, "lines": lines, "state": last_state,
           "invoice_ids": sorted(i for i in invoice_ids if i)}, sys.stdout)
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

    def __init__(self, info: dict, process: subprocess.Popen) -> None:
        self.info = info  # the ready file: base_url, api_url, token_url, tenant_ids, demo credentials
        self.process = process
        self.base_url = info["base_url"]

    def call(self, method: str, path: str, body: dict | None = None) -> dict | list:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base_url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            text = response.read()
        return json.loads(text) if text else {}

    def counts(self) -> dict:
        return self.call("GET", "/_sandbox/counts")

    def requests(self) -> dict:
        return self.call("GET", "/_sandbox/requests")

    def reset_counters(self) -> None:
        self.call("POST", "/_sandbox/reset-counters", {})

    def new_refresh_token(self) -> str:
        """A refresh token of its own grant, so one tap's rotations never touch another's."""
        return self.call("POST", "/_sandbox/tokens", {"refresh": True})["refresh_token"]

    def clock(self) -> float:
        return float(self.call("GET", "/_sandbox/clock")["time"])

    def api_get(self, tenant_id: str, path: str, params: dict | None = None, since: str | None = None) -> dict:
        """One Accounting API call, as the bench's own oracle (not counted against any tap)."""
        if not hasattr(self, "_access_token"):
            self._access_token = self.call("POST", "/_sandbox/tokens", {"expires_in": 86400})["access_token"]
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        headers = {"Authorization": f"Bearer {self._access_token}", "xero-tenant-id": tenant_id,
                   "Accept": "application/json"}
        if since:
            headers["If-Modified-Since"] = since
        request = urllib.request.Request(f"{self.info['api_url']}/{path}{query}", headers=headers)
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read())

    def read_all(self, tenant_id: str, endpoint: Endpoint, since: str | None = None) -> list[dict]:
        """Every record of ``endpoint`` (changed since ``since``), paging as the endpoint requires."""
        records: list[dict] = []
        page, offset = 1, 0
        while True:
            params: dict = {}
            if endpoint.paging is Paging.PAGE_SIZE:
                params = {"page": page, "pageSize": MAX_PAGE_SIZE}
            elif endpoint.paging is Paging.PAGE:
                params = {"page": page}
            elif endpoint.paging is Paging.OFFSET:
                params = {"offset": offset}
            batch = self.api_get(tenant_id, endpoint.path, params, since).get(endpoint.envelope_key) or []
            records += batch
            size = MAX_PAGE_SIZE if endpoint.paging is Paging.PAGE_SIZE else endpoint.fixed_page_size
            if not size or len(batch) < size:
                return records
            page += 1
            if endpoint.paging is Paging.OFFSET:
                offset = max(int(r.get("JournalNumber", 0)) for r in batch)


@contextmanager
def sandbox(scale: int, tenants: int, *, limits: bool, time_scale: float = 1.0,
            latency: tuple[float, float] = (0.0, 0.0), workdir: Path) -> Iterator[Sandbox]:
    """Start the sandbox on a free port and wait for its ready file; stop it on exit.

    ``latency`` is (ms per response, ms per record) in real time; with ``time_scale`` it is
    divided by the same factor, so the whole model runs that much faster.
    """
    executable = OUR_VENV_BIN / "tap-xero-sandbox"
    if not executable.exists():
        raise RuntimeError(f"{executable} is missing: install the sandbox beside the tap (pip install -e ./sandbox)")
    port = free_port()
    ready = workdir / f"sandbox-{port}.ready"
    command = [
        str(executable), "serve", "--port", str(port), "--seed", "1",
        "--scale", str(scale), "--tenants", str(tenants), "--ready-file", str(ready),
    ]
    if limits:
        command += ["--minute-limit", "60", "--concurrent-limit", "5", "--time-scale", str(time_scale),
                    "--latency-ms", f"{latency[0] / time_scale:g}", "--per-record-ms", f"{latency[1] / time_scale:g}"]
    else:
        # Never refuse, and say so in the X-*Limit-Remaining headers too: a tap that honours
        # them (as ours does) would otherwise wait out windows that the bench's own calls used.
        command += ["--no-limits", "--minute-limit", "100000000", "--day-limit", "100000000",
                    "--app-minute-limit", "100000000"]
    log = open(workdir / f"sandbox-{port}.log", "wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        while not ready.exists():
            if process.poll() is not None:
                raise RuntimeError(f"sandbox exited with {process.returncode}: see {log.name}")
            if time.monotonic() > deadline:
                raise RuntimeError("sandbox not ready after 600 s")
            time.sleep(0.05)
        yield Sandbox(json.loads(ready.read_text()), process)
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
    short page, so ``n`` records take ``n // 100 + 1`` calls. Unpaged: one call. An endpoint read once per
    value of a required filter (Assets: one query per status) takes at least one call per value. (A
    per-project endpoint's minimum needs the projects' count: not in the default selection, not counted here.)
    """
    if endpoint.paging is Paging.PAGE_SIZE:
        queries = len(endpoint.split_by[1]) if endpoint.split_by else 1
        return max(queries, math.ceil(records / endpoint.max_page_size))
    if endpoint.fixed_page_size:
        return records // endpoint.fixed_page_size + 1
    return 1


def minimum_calls(records_by_tenant: list[dict[str, int]], token_calls: int = 1) -> int:
    """Sum over tenants and streams of the fewest calls, plus the token calls. Tenant ids are
    configured, so no /connections call is needed."""
    return token_calls + sum(minimum_calls_for(ENDPOINT_AT[path], n)
                             for records in records_by_tenant for path, n in records.items())


def incremental_minimum_calls(records_by_tenant: list[dict[str, int]], changed_by_tenant: list[dict[str, int]],
                              token_calls: int = 0) -> int:
    """Endpoints that honour If-Modified-Since need only the changed records; the rest
    (no timestamp filter, or LinkedTransactions) must be read whole again. No token call:
    an access token (30 minutes) saved by the previous run can still be valid."""
    total = token_calls
    for records, changed in zip(records_by_tenant, changed_by_tenant, strict=True):
        for path, n in records.items():
            endpoint = ENDPOINT_AT[path]
            total += minimum_calls_for(endpoint, changed.get(path, 0) if endpoint.if_modified_since else n)
    return total


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
    invoice_ids: list[str] = field(default_factory=list)

    @property
    def records_per_cpu_s(self) -> float:
        return self.records / self.cpu_s if self.cpu_s else 0.0


def run_piped(command: list[str], workdir: Path, label: str,
              profile_to: Path | None = None, env: dict | None = None) -> tuple[dict, float, float, float, int]:
    """Run ``command`` with stdout piped into the reader process.

    Returns (reader summary, wall seconds, CPU seconds, peak RSS MB, exit code). CPU and RSS
    are the tap process's own, from ``os.wait4``. With ``profile_to``, py-spy samples the
    tap from outside (whichever thread holds the GIL) into that file, in its raw format.
    """
    stderr = open(workdir / f"{label}.stderr", "wb")
    started = time.perf_counter()
    tap = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, cwd=workdir, env=env)
    reader = subprocess.Popen([sys.executable, "-c", READER_CODE], stdin=tap.stdout, stdout=subprocess.PIPE)
    tap.stdout.close()  # the reader holds the only read end now
    sampler = None
    if profile_to:
        sampler = subprocess.Popen(
            [str(ensure_venv(TOOLS_VENV, "sys", ("py-spy>=0.3.14,<1",)).parent / "py-spy"), "record",
             "--pid", str(tap.pid), "--gil", "--rate", "250", "--format", "raw", "--output", str(profile_to)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(tap.pid, 0)
    wall = time.perf_counter() - started
    tap.returncode = os.waitstatus_to_exitcode(status)
    summary_text, _ = reader.communicate()
    if sampler:
        sampler.wait(timeout=60)
    stderr.close()
    summary = json.loads(summary_text) if summary_text else {"records": {}, "state": None}
    return summary, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, tap.returncode


class Tap:
    """One tap under test: how to configure, discover, select streams and sync."""

    name = ""
    env: dict[str, str] | None = None  # the environment of its processes (None: the bench's own)

    def __init__(self, sandbox: Sandbox, streams: tuple[str, ...], workdir: Path,
                 window_seconds: float | None = None) -> None:
        self.sandbox = sandbox
        self.window_seconds = window_seconds  # the sandbox's limit "minute"; None: limits off
        self.paths = streams
        self.workdir = workdir / self.name
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.workdir / "config.json"
        self.catalog_path: Path | None = self.workdir / "catalog.json"
        self.state: dict | None = None
        self.profile_path: Path | None = None  # set to sample the next sync with py-spy
        self.credentials = {**sandbox.info, "refresh_token": sandbox.new_refresh_token()}

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
                                capture_output=True, cwd=self.workdir, check=False, env=self.env)
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

    def sync(self, kind: str, *, allowed_exits: tuple[int, ...] = (0,)) -> TapRun:
        """One sync: full the first time, incremental from the last state after that."""
        args = ["--config", str(self.config_path)]
        if self.catalog_path is not None:  # None: the tap's default selection
            args += ["--catalog", str(self.catalog_path)]
        if kind.startswith("incremental") and self.state:
            state_path = self.workdir / "state.json"
            state_path.write_text(json.dumps(self.state))
            args += ["--state", str(state_path)]
        self.sandbox.reset_counters()
        summary, wall, cpu, rss, code = run_piped(self.command(*args), self.workdir, f"{self.name}-{kind}",
                                                  self.profile_path, self.env)
        if code not in allowed_exits:
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
            state=self.state, invoice_ids=summary.get("invoice_ids", []),
        )


class OurTap(Tap):
    name = "ours"
    other_checkout: Path | None = None  # --ours-from: run the tap of another checkout (before/after a change)

    @property
    def env(self) -> dict[str, str] | None:
        if self.other_checkout is None:
            return None
        return {**os.environ, "PYTHONPATH": str(self.other_checkout)}

    tenants_read = 10**6  # all the sandbox's tenants
    start_date = START_DATE
    max_concurrent = 5  # --ours-concurrency 1: one call at a time, as the SDK's RESTStream pages
    default_selection = False  # True: the streams a new user gets, as discovered (``paths`` ignored)
    extra_config: dict | None = None  # more settings (the budget phase: call_budget)

    def prepare(self) -> None:
        if not self.default_selection:
            super().prepare()
            return
        self.write_config()  # and no catalog: the tap's default selection
        self.catalog_path = None

    def command(self, *args: str) -> list[str]:
        # The runner matches the tap's own pacing (60 calls a minute) to the sandbox's clock.
        pacing = ["--unpaced"] if self.window_seconds is None else ["--window-seconds", f"{self.window_seconds:g}"]
        return [sys.executable, str(OURS_RUNNER), *pacing, "--", *args]

    def stream_ids(self, catalog: dict) -> dict[str, str]:
        # Our streams name their endpoint; match on it. Child tables (line items) are left
        # unselected, so both taps emit the same records: one per Xero record.
        from tap_xero.streams import STREAM_CLASSES

        # A variant of an endpoint on the same path (cash_journals: Journals?paymentsOnly=true) is another
        # stream than the path's: not selected by naming the path.
        by_name = {cls.name: cls.endpoint.path for cls in STREAM_CLASSES
                   if getattr(cls, "endpoint", None) is not None and cls.endpoint.path in self.paths
                   and BY_PATH.get(cls.endpoint.path) is cls.endpoint}
        return {e["tap_stream_id"]: by_name[e["tap_stream_id"]] for e in catalog["streams"]
                if e["tap_stream_id"] in by_name}

    def write_config(self) -> None:
        c = self.credentials
        config = {
            "client_id": c["client_id"], "client_secret": c["client_secret"], "refresh_token": c["refresh_token"],
            "api_url": c["api_url"], "identity_url": c["identity_url"],
            "start_date": self.start_date, "tenant_ids": c["tenant_ids"],
            "token_store_path": str(self.workdir / "token.json"), "page_size": MAX_PAGE_SIZE,
            "max_concurrent_requests": self.max_concurrent, **(self.extra_config or {}),
        }
        self.config_path.write_text(json.dumps(config))


class SingerIoTap(Tap):
    name = "singerio"
    tenants_read = 1  # its config takes one tenant_id

    @property
    def env(self) -> dict[str, str]:
        """Ours may run from another checkout through PYTHONPATH; that must not shadow its tap_xero."""
        return foreign_env()

    def command(self, *args: str) -> list[str]:
        return [
            str(SINGERIO_VENV / "bin" / "python"), str(SINGERIO_RUNNER),
            "--api-url", self.credentials["api_url"], "--token-url", self.credentials["token_url"],
            "--", *args,
        ]

    def write_config(self) -> None:
        c = self.credentials
        # That tap reads one tenant per run; the bench gives it the first.
        config = {"client_id": c["client_id"], "client_secret": c["client_secret"],
                  "refresh_token": c["refresh_token"], "tenant_id": c["tenant_ids"][0], "start_date": START_DATE}
        self.config_path.write_text(json.dumps(config))


def foreign_env() -> dict[str, str]:
    """The environment for another venv's Python: ours, without PYTHONPATH."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}


def ensure_venv(venv: Path, imports: str, requirements: tuple[str, ...]) -> Path:
    """A venv at ``venv`` where ``import <imports>`` works, made on first use; its Python."""
    python = venv / "bin" / "python"
    if python.exists() and subprocess.run([str(python), "-c", f"import {imports}"],
                                          capture_output=True, env=foreign_env()).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *requirements], check=True)
    return python


def ensure_singerio_venv() -> None:
    ensure_venv(SINGERIO_VENV, "tap_xero, six", SINGERIO_REQUIREMENTS)


def compile_our_bytecode() -> None:
    """Write our package's bytecode before timing it, as ``pip install`` does for both taps.

    With ``PYTHONDONTWRITEBYTECODE`` set (or a source newer than its cache) every run of the tap would
    compile its edited modules again, tens of CPU-milliseconds that no installed copy pays.
    """
    compileall.compile_dir(str(REPO / "tap_xero"), quiet=1)


def plot(json_path: Path, out_dir: Path) -> None:
    """Draw the figures with matplotlib from its own venv (not a dependency of the project)."""
    python = ensure_venv(PLOT_VENV, "matplotlib", ("matplotlib>=3.8,<4",))
    subprocess.run([str(python), str(PLOT_SCRIPT), str(json_path), str(out_dir)], check=True)


TAPS = {"ours": OurTap, "singerio": SingerIoTap}

# ----------------------------------------------------------------------------- the phases


def records_by_tenant(sandbox: Sandbox, paths: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """Records per tenant and Xero path, from /_sandbox/counts."""
    counts = sandbox.counts()
    result = {}
    for tenant_id in sandbox.info["tenant_ids"]:
        totals = {path: 0 for path in paths}
        for envelope, n in counts.get(tenant_id, {}).items():
            endpoint = BY_ENVELOPE.get(envelope) or BY_COLLECTION.get(envelope)
            if endpoint is not None and endpoint.path in totals:
                totals[endpoint.path] += int(n)
        result[tenant_id] = totals
    return result


# Share of the records of these paths that the incremental benchmark changes between syncs.
MUTATED_PATHS = ("Invoices", "Contacts", "Payments", "BankTransactions", "CreditNotes", "Accounts", "Items")
MUTATED_SHARE = 0.01
COST_CHANGED_SHARE = 0.01  # the cost phase's incremental run: 1% of the invoices changed


def apply_mutations(sandbox: Sandbox, paths: tuple[str, ...]) -> dict:
    """Touch ``MUTATED_SHARE`` of the records of each mutated path in every tenant (at least one),
    then count what each endpoint now returns as changed (If-Modified-Since the moment before),
    which also catches knock-on changes such as new journals."""
    # If-Modified-Since has second precision: start a second early so nothing is missed.
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sandbox.clock() - 1))
    records = records_by_tenant(sandbox, paths)
    touched: dict[str, dict[str, int]] = {}
    changed: dict[str, dict[str, int]] = {}
    for tenant_id in sandbox.info["tenant_ids"]:
        touched[tenant_id] = {}
        for path in (p for p in MUTATED_PATHS if p in paths):
            endpoint = BY_PATH[path]
            first_page = sandbox.api_get(tenant_id, path, {"page": 1, "pageSize": MAX_PAGE_SIZE}
                                         if endpoint.paging is Paging.PAGE_SIZE else None)
            ids = [r[endpoint.id_field] for r in first_page.get(endpoint.envelope_key) or []]
            wanted = min(len(ids), max(1, round(records[tenant_id][path] * MUTATED_SHARE)))
            for record_id in ids[::max(1, len(ids) // wanted)][:wanted] if wanted else ():
                sandbox.call("POST", "/_sandbox/mutations", {
                    "tenant_id": tenant_id, "envelope_key": endpoint.envelope_key,
                    "action": "touch", "record_id": record_id})
                touched[tenant_id][path] = touched[tenant_id].get(path, 0) + 1
        changed[tenant_id] = {path: len(sandbox.read_all(tenant_id, BY_PATH[path], since))
                              for path in paths if BY_PATH[path].if_modified_since}
    return {"since": since, "touched": touched, "changed": changed}


def phase_calls(options, taps: list[str], workdir: Path) -> dict:
    """Full sync, mutations, incremental sync, limits off: calls, records/CPU-s, peak RSS.

    Both taps read the same data: every full sync runs before the mutations and every
    incremental sync after them. The singer-io tap reads one tenant per run (its config
    has one ``tenant_id``), so its minimum counts that tenant only.
    """
    with sandbox(options.scale, options.tenants, limits=False, workdir=workdir) as box:
        tap_objects = [TAPS[name](box, options.streams, workdir / "calls") for name in taps]
        for tap in tap_objects:
            tap.prepare()
        records = records_by_tenant(box, options.streams)
        full = {tap.name: tap.sync("full") for tap in tap_objects}
        mutation = apply_mutations(box, options.streams)
        after = records_by_tenant(box, options.streams)
        incremental = {tap.name: tap.sync("incremental") for tap in tap_objects}
    result: dict = {"records_in_sandbox": records, "mutation": mutation, "full": {}, "incremental": {}}
    for tap in tap_objects:
        tenants = box.info["tenant_ids"][:tap.tenants_read]
        for kind, run, minimum in (
            ("full", full[tap.name], minimum_calls([records[t] for t in tenants])),
            ("incremental", incremental[tap.name],
             incremental_minimum_calls([after[t] for t in tenants], [mutation["changed"][t] for t in tenants])),
        ):
            result[kind][tap.name] = asdict(run) | {
                "records_per_cpu_s": run.records_per_cpu_s, "minimum_calls": minimum,
                "calls_vs_minimum": run.api_calls / minimum, "tenants": len(tenants)}
    return result


COST_HISTORY_YEARS = 10  # start_date ten years back: what a new user asking for "everything" sets


def default_stream_paths() -> tuple[str, ...]:
    """The Xero paths of the streams a new user's run reads (selected by default)."""
    from tap_xero.streams import STREAM_CLASSES

    return tuple(dict.fromkeys(cls.endpoint.path for cls in STREAM_CLASSES
                               if getattr(cls, "endpoint", None) is not None and cls.selected_by_default))


def default_reports() -> list:
    from tap_xero.streams import STREAM_CLASSES

    return [cls.report for cls in STREAM_CLASSES
            if getattr(cls, "report", None) is not None and cls.selected_by_default]


def minimum_report_calls(months: int, tracking_categories: int = 0) -> int:
    """The fewest calls Xero allows for ``months`` months of the default reports: twelve months a call where a
    report takes ``periods``, one a month otherwise; a report by tracking category once per active category
    (the categories themselves are read by the ``tracking_categories`` stream anyway)."""
    return sum(math.ceil(months / report.months_per_call) * (tracking_categories if report.by_tracking else 1)
               for report in default_reports())


def default_variants() -> dict[str, Endpoint]:
    """The endpoint variants the default selection reads (``Journals?paymentsOnly=true``), by their key in
    ``/_sandbox/counts``: not in ``default_stream_paths``, whose paths they share."""
    from tap_xero.endpoints import CASH_JOURNALS_ENDPOINT
    from tap_xero.streams import STREAM_CLASSES

    selected = {cls.endpoint for cls in STREAM_CLASSES if getattr(cls, "endpoint", None) and cls.selected_by_default}
    return {"CashJournals": CASH_JOURNALS_ENDPOINT} if CASH_JOURNALS_ENDPOINT in selected else {}


def variant_minimum_calls(counts: dict[str, int], since: dict[str, int] | None = None) -> int:
    """Fewest calls for the default variants' records (``since``: the counts a previous run read up to; only
    the new ones are read: offset paging)."""
    return sum(minimum_calls_for(endpoint, counts.get(key, 0) - (since or {}).get(key, 0))
               for key, endpoint in default_variants().items())


def active_tracking_categories(sandbox: Sandbox, tenant_id: str) -> int:
    return sum(1 for c in sandbox.read_all(tenant_id, BY_PATH["TrackingCategories"]) if c.get("Status") == "ACTIVE")


UNLOCKED_FROM_MS = 1704067200000  # 2024-01-01: after every lock date the sandbox generates


def ms_of(value: str | None) -> int:
    """Milliseconds of a ``/Date(ms+0000)/`` value (0 when absent)."""
    if not value:
        return 0
    return int(value[6:].split(")")[0].split("+")[0])


def change_invoices(sandbox: Sandbox, share: float, *, post: bool = False, skip: int = 0) -> list[str]:
    """Edit ``share`` of each tenant's invoices; their ids. Their Reference (no posting, so no new journal), or
    with ``post`` their first line's amount (Xero journals the change, dated on the invoice's date, so the report
    months it falls in change). ``skip``: start further along, to edit other invoices than an earlier call."""
    changed = []
    for tenant_id in sandbox.info["tenant_ids"]:
        # Voided and deleted invoices cannot be edited, nor those in a locked period, as in Xero.
        invoices = sandbox.read_all(tenant_id, BY_PATH["Invoices"])
        ids = [r["InvoiceID"] for r in invoices
               if r.get("Status") not in ("VOIDED", "DELETED") and ms_of(r.get("Date")) >= UNLOCKED_FROM_MS
               and (not post or (r.get("Status") == "AUTHORISED" and not float(r.get("AmountPaid") or 0)
                                 and not float(r.get("AmountCredited") or 0)))]  # as Xero: paid lines are fixed
        wanted = max(1, round(len(invoices) * share))
        by_id = {r["InvoiceID"]: r for r in invoices}
        for record_id in ids[skip::max(1, len(ids) // wanted)][:wanted]:
            fields: dict = {"Reference": f"changed {record_id[-6:]}"}
            if post:
                lines = copy.deepcopy(by_id[record_id].get("LineItems") or [])
                if not lines:
                    continue
                lines[0]["UnitAmount"] = round(float(lines[0].get("UnitAmount") or 0) + 1.0, 2)
                lines[0].pop("LineAmount", None)
                fields = {"LineItems": lines}
            sandbox.call("POST", "/_sandbox/mutations", {
                "tenant_id": tenant_id, "envelope_key": "Invoices", "action": "update", "record_id": record_id,
                "fields": fields})
            changed.append(record_id)
    return changed


def phase_cost(options, workdir: Path) -> dict:
    """A new user's runs and what they cost: the default selection, start_date ten years back, one tenant.

    First run, then 1% of the invoices changed, then an incremental run; each against the physical minimum
    (records over the most a call can hold; reports at the fewest calls for the report window; an unchanged
    month of a report costs nothing).
    """
    from tap_xero.settings import DEFAULT_REPORT_HISTORY_MONTHS

    start = time.gmtime(time.time() - COST_HISTORY_YEARS * 365.25 * 86400)
    with sandbox(options.cost_scale, 1, limits=False, workdir=workdir) as box:
        tap = OurTap(box, default_stream_paths(), workdir / "cost")
        tap.default_selection = True
        tap.start_date = time.strftime("%Y-%m-%dT00:00:00Z", start)
        tap.prepare()
        paths = default_stream_paths()
        records = records_by_tenant(box, paths)
        variants = box.counts()
        categories = {t: active_tracking_categories(box, t) for t in box.info["tenant_ids"]}
        since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(box.clock() - 1))
        full = tap.sync("full")
        changed_ids = change_invoices(box, COST_CHANGED_SHARE)
        after = records_by_tenant(box, paths)
        variants_after = box.counts()
        changed = {t: {path: len(box.read_all(t, ENDPOINT_AT[path], since)) for path in paths
                       if ENDPOINT_AT[path].if_modified_since} for t in box.info["tenant_ids"]}
        incremental = tap.sync("incremental")
        # Then 1% more, other invoices, edited in amount: each change is journalled in its invoice's month.
        posted_ids = change_invoices(box, COST_CHANGED_SHARE, post=True, skip=1)
        posted_set = set(posted_ids)
        posted_months = sorted({time.strftime("%Y-%m", time.gmtime(ms_of(r.get("Date")) / 1000))
                                for t in box.info["tenant_ids"] for r in box.read_all(t, BY_PATH["Invoices"])
                                if r["InvoiceID"] in posted_set})
        posted = tap.sync("incremental-posted")
    tenants = box.info["tenant_ids"]
    months = DEFAULT_REPORT_HISTORY_MONTHS

    def report_calls(run: TapRun) -> int:
        return sum(n for path, n in run.api_calls_by_path.items() if path.startswith("Reports/"))

    report_min = sum(minimum_report_calls(months, categories[t]) for t in tenants)
    first_min = (minimum_calls([records[t] for t in tenants]) + report_min
                 + sum(variant_minimum_calls(variants[t]) for t in tenants))
    incremental_min = (incremental_minimum_calls([after[t] for t in tenants], [changed[t] for t in tenants])
                       + sum(variant_minimum_calls(variants_after[t], variants[t]) for t in tenants))
    return {
        "scale": options.cost_scale, "start_date": tap.start_date, "report_months": months,
        "streams": len(paths) + len(default_variants()), "changed_invoices": len(changed_ids),
        "tracking_categories": categories,
        "first": {"api_calls": full.api_calls, "minimum_calls": first_min, "report_calls": report_calls(full),
                  "minimum_report_calls": report_min, "records": full.records,
                  "wall_s": full.wall_s, "calls_by_path": full.api_calls_by_path},
        "incremental": {"api_calls": incremental.api_calls, "minimum_calls": incremental_min,
                        "report_calls": report_calls(incremental), "minimum_report_calls": 0,
                        "records": incremental.records, "wall_s": incremental.wall_s,
                        "changed_invoices_emitted": len(set(changed_ids) & set(incremental.invoice_ids)),
                        "calls_by_path": incremental.api_calls_by_path},
        "incremental_posted": {"api_calls": posted.api_calls, "report_calls": report_calls(posted),
                               "changed_invoices": len(posted_ids), "months_posted_in": posted_months,
                               "records": posted.records, "wall_s": posted.wall_s,
                               "changed_invoices_emitted": len(posted_set & set(posted.invoice_ids)),
                               "calls_by_path": posted.api_calls_by_path},
    }


def phase_budget(options, workdir: Path) -> dict:
    """A first sync under a ``call_budget``: the runs and calls it takes to complete (each run resumes from the
    last one's state and exits 75 until the sync is complete), against one run without a budget, on the same
    data (one organisation, default selection). Runs that never complete stop at ``--budget-max-runs``."""
    def first_sync(budget: int | None, label: str) -> dict:
        with sandbox(options.budget_scale, 1, limits=False, workdir=workdir) as box:
            tap = OurTap(box, default_stream_paths(), workdir / label)
            tap.default_selection = True
            tap.extra_config = {} if budget is None else {"call_budget": budget}
            tap.prepare()
            calls = runs = 0
            while runs < options.budget_max_runs:
                run = tap.sync(f"incremental-{runs}", allowed_exits=(0, 75))
                calls, runs = calls + run.api_calls, runs + 1
                if run.exit_code == 0:
                    return {"budget": budget, "runs": runs, "api_calls": calls, "complete": True}
            return {"budget": budget, "runs": runs, "api_calls": calls, "complete": False}

    return {"scale": options.budget_scale, "from": str(OurTap.other_checkout or "this checkout"),
            "unbounded": first_sync(None, "budget-none"),
            "rows": [first_sync(budget, f"budget-{budget}") for budget in options.budgets]}


def organisation_bound_s(calls: int, latency_s: float, per_minute: int = 60, at_once: int = 5) -> float:
    """Fewest seconds one organisation's ``calls`` can take: ``per_minute`` in any minute (a call may start a
    minute after the call ``per_minute`` places before it), ``at_once`` at a time, each ``latency_s`` long."""
    if calls <= 0:
        return 0.0
    full_minutes = (calls - 1) // per_minute
    last_batch = calls - full_minutes * per_minute
    return full_minutes * 60.0 + math.ceil(last_batch / at_once) * latency_s


def phase_orgs(options, workdir: Path) -> dict:
    """Many organisations in one process: a new user's first run under Xero's real limits, 1..N organisations.

    The bound is physical: each organisation's own calls (counted by the sandbox) at 60 a minute and 5 at
    once, each ``--orgs-latency-ms`` long; the app-wide 10,000 a minute if that binds. Real time by default
    (``--orgs-time-scale`` 1: the wall time is what a user waits); a faster clock (the smoke test) divides
    the bound by the same factor, and the wall time is then the measured one.
    """
    start = time.gmtime(time.time() - COST_HISTORY_YEARS * 365.25 * 86400)
    scale = options.orgs_time_scale
    latency_s = options.orgs_latency_ms / 1000
    rows = []
    for count in options.orgs_counts:
        with sandbox(options.orgs_scale, count, limits=True, time_scale=scale,
                     latency=(options.orgs_latency_ms, 0.0), workdir=workdir) as box:
            tap = OurTap(box, default_stream_paths(), workdir / f"orgs-{count}", window_seconds=60.0 / scale)
            tap.default_selection = True
            tap.start_date = time.strftime("%Y-%m-%dT00:00:00Z", start)
            tap.prepare()
            run = tap.sync("full")
            by_tenant = box.requests().get("by_tenant", {})
        calls = {t: sum(paths.values()) for t, paths in by_tenant.items()}
        organisation_bound = max((organisation_bound_s(n, latency_s) for n in calls.values()), default=0.0)
        app_bound = 60.0 * sum(calls.values()) / APP_CALLS_PER_MINUTE
        bound = max(organisation_bound, app_bound) / scale
        rows.append({
            "organisations": count, "wall_s": run.wall_s, "bound_s": bound, "wall_vs_bound": run.wall_s / bound,
            "target_s": 1.5 * bound + 5, "api_calls": run.api_calls,
            "calls_per_organisation": {"min": min(calls.values()), "max": max(calls.values())},
            "records": run.records, "cpu_s": run.cpu_s, "records_per_cpu_s": run.records_per_cpu_s,
            "peak_rss_mb": run.peak_rss_mb,
        })
        print(f"orgs {count}: wall {run.wall_s:.0f} s, bound {bound:.0f} s, rss {run.peak_rss_mb:.0f} MB", flush=True)
    return {"scale": options.orgs_scale, "latency_ms": options.orgs_latency_ms, "time_scale": scale, "rows": rows,
            "from": str(OurTap.other_checkout) if OurTap.other_checkout else "this checkout"}


def phase_limits(options, taps: list[str], workdir: Path) -> dict:
    """Full sync of one tenant under Xero's limits and the latency model, scaled back to real time.

    The sandbox's limit windows run ``time_scale`` times faster, and the latency model is
    divided by the same factor, so measured wall time x ``time_scale`` estimates real wall
    time. The taps' own CPU time is not compressed, so the estimate errs on the slow side.
    """
    results = {}
    for name in taps:
        # One sandbox per tap: each starts with fresh minute windows.
        with sandbox(options.scale, 1, limits=True, time_scale=options.time_scale,
                     latency=(options.latency_ms, options.per_record_ms), workdir=workdir) as box:
            tap = TAPS[name](box, options.streams, workdir / "limits", window_seconds=60 / options.time_scale)
            tap.prepare()
            time.sleep(60 / options.time_scale + 0.1)  # let discovery's calls leave the minute window
            records = records_by_tenant(box, options.streams)
            run = tap.sync("full")
            minimum = minimum_calls(list(records.values()))
            scale = options.time_scale
            # Waiting shrinks with the clock, the tap's CPU does not: the plain product overstates
            # real time by up to cpu x (scale - 1); the estimate scales only the rest.
            upper = run.wall_s * scale
            estimate = max(run.wall_s - run.cpu_s, 0.0) * scale + run.cpu_s if scale > 1 else run.wall_s
            results[name] = {
                "wall_s_measured": run.wall_s, "wall_s_real_upper": upper, "wall_s_real": estimate,
                "api_calls": run.api_calls, "minimum_calls": minimum,
                "minimum_wall_s_real": float(minimum),  # 60 a minute: one call a second
                "wall_vs_minimum": estimate / minimum, "records": run.records, "cpu_s": run.cpu_s,
            }
    return {"time_scale": options.time_scale, "latency_ms": options.latency_ms,
            "per_record_ms": options.per_record_ms, "taps": results}


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


def profile_owner(filename: str) -> str:
    """Where a sampled function lives: the tap's module, else the package or stdlib module.

    py-spy names files relative to their sys.path entry: ``json/decoder.py``,
    ``singer_sdk/streams/core.py``, ``tap_xero/values.py``.
    """
    if filename.startswith("<frozen"):
        return "imports"
    parts = Path(filename).parts
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1:]
    if parts and parts[0] == "tap_xero":
        return "/".join(parts)
    return Path(parts[0]).stem if parts else filename


def summarise_samples(raw: str, top: int) -> dict:
    """Shares of py-spy's raw samples: by the leaf's owner, by leaf function, and inclusive."""
    own_owner: dict[str, int] = {}
    own_function: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = []
        for frame in stack.split(";"):
            name, _, location = frame.rpartition(" (")
            filename = location.rstrip(")").rsplit(":", 1)[0]
            frames.append(f"{name} [{profile_owner(filename)}]")
        leaf = frames[-1]
        owner = leaf[leaf.rindex("[") + 1:-1]
        own_owner[owner] = own_owner.get(owner, 0) + count
        own_function[leaf] = own_function.get(leaf, 0) + count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
    total = total or 1

    def ranked(counts: dict[str, int], n: int) -> list[dict]:
        return [{"name": k, "share": v / total} for k, v in sorted(counts.items(), key=lambda kv: -kv[1])[:n]]

    return {"samples": total, "by_owner": ranked(own_owner, 12), "own": ranked(own_function, top),
            "inclusive": ranked(inclusive, top * 2)}


def phase_profile(options, workdir: Path) -> dict:
    """Sample one full sync of our tap with py-spy, limits off: where its CPU goes."""
    with sandbox(options.scale, 1, limits=False, workdir=workdir) as box:
        tap = OurTap(box, options.profile_streams, workdir / "profile")
        tap.prepare()
        tap.profile_path = tap.workdir / "ours.pyspy.txt"
        run = tap.sync("full")
    return {"streams": list(options.profile_streams), "records": run.records, "cpu_s": run.cpu_s,
            "records_per_cpu_s": run.records_per_cpu_s, "samples_file": str(tap.profile_path),
            **summarise_samples(tap.profile_path.read_text(), options.profile_top)}


# ----------------------------------------------------------------------------- reporting


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def format_report(results: dict) -> str:
    lines = [f"# tap-xero benchmark ({results['machine']['summary']})", ""]
    calls = results.get("calls")
    if calls:
        options = results["options"]
        lines.append(f"## Full and incremental sync, limits off, no latency (scale {options['scale']} invoices, "
                     f"{options['tenants']} tenant(s), {len(options['streams'])} streams)")
        names = list(calls["full"])
        lines.append(f"{'':30}" + "".join(f"{name:>14}" for name in names))
        rows = (
            ("API calls", "api_calls", "d"), ("physical minimum", "minimum_calls", "d"),
            ("calls / minimum", "calls_vs_minimum", ".2f"), ("records", "records", "d"),
            ("CPU s (tap process)", "cpu_s", ".2f"), ("records / CPU-s", "records_per_cpu_s", ".0f"),
            ("peak RSS MB", "peak_rss_mb", ".1f"), ("wall s", "wall_s", ".2f"),
        )
        for kind in ("full", "incremental"):
            for label, key, spec in rows:
                lines.append(f"{kind + ' ' + label:30}" + "".join(
                    f"{format(calls[kind][name][key], spec):>14}" for name in names))
        full = calls["full"]
        if "ours" in full and "singerio" in full:
            o, s = full["ours"], full["singerio"]
            calls_ratio = ratio(o["calls_vs_minimum"], s["calls_vs_minimum"])
            lines.append(f"ratios ours/singer-io (full sync): calls / minimum {calls_ratio}, "
                         f"records / CPU-s {ratio(o['records_per_cpu_s'], s['records_per_cpu_s'])}, "
                         f"peak RSS {ratio(o['peak_rss_mb'], s['peak_rss_mb'])}")
        lines.append("")
    cost = results.get("cost")
    if cost:
        lines.append(f"## Run cost: one organisation of {cost['scale']} invoices, default selection ({cost['streams']} "
                     f"endpoints and the reports), start_date {cost['start_date'][:10]}, reports "
                     f"{cost['report_months']} months")
        lines.append(f"{'':34}{'calls':>8}{'minimum':>10}{'calls/min':>11}")
        for kind, label in (("first", "first run"), ("incremental", "incremental, 1% of invoices changed")):
            row = cost[kind]
            lines.append(f"{label:34}{row['api_calls']:>8}{row['minimum_calls']:>10}"
                         f"{row['api_calls'] / row['minimum_calls']:>11.2f}")
            lines.append(f"{'  of which reports':34}{row['report_calls']:>8}{row['minimum_report_calls']:>10}")
        lines.append(f"changed invoices re-emitted by the incremental run: "
                     f"{cost['incremental']['changed_invoices_emitted']} of {cost['changed_invoices']}")
        posted = cost.get("incremental_posted")
        if posted:
            lines.append(f"{'incremental, 1% changed in amount':34}{posted['api_calls']:>8}  (reports "
                         f"{posted['report_calls']}; postings in {len(posted['months_posted_in'])} months; "
                         f"re-emitted {posted['changed_invoices_emitted']} of {posted['changed_invoices']})")
        lines.append("")
    limits = results.get("limits")
    if limits:
        scale = limits["time_scale"]
        compressed = (f"time compressed {scale:g}x, figures scaled back to real seconds: (measured - tap CPU) x "
                      f"{scale:g} + tap CPU, at most measured x {scale:g}") if scale > 1 else "real time"
        lines.append(f"## Full sync of one tenant under Xero's limits (60/min, 5 concurrent, latency "
                     f"{limits['latency_ms']:g} ms + {limits['per_record_ms']:g} ms/record); {compressed}")
        for name, r in limits["taps"].items():
            lines.append(f"{name:10} wall {r['wall_s_real']:7.0f} s real (at most {r['wall_s_real_upper']:.0f}; "
                         f"{r['wall_s_measured']:.1f} s measured, {r['cpu_s']:.1f} CPU-s), {r['api_calls']} calls; "
                         f"minimum {r['minimum_calls']} calls = {r['minimum_wall_s_real']:.0f} s at 60/min; "
                         f"wall / minimum {r['wall_vs_minimum']:.2f}x")
        lines.append("")
    profile = results.get("profile")
    if profile:
        lines.append(f"## Where our tap's CPU goes (py-spy, samples of the thread holding the GIL; full sync of "
                     f"{','.join(profile['streams'])}, {profile['records']} records, {profile['cpu_s']:.1f} CPU-s, "
                     f"{profile['records_per_cpu_s']:.0f} records / CPU-s while sampled)")
        lines.append("by owner of the running function:")
        lines += [f"  {row['share']:6.1%}  {row['name']}" for row in profile["by_owner"][:10]]
        lines.append("by function (own time):")
        lines += [f"  {row['share']:6.1%}  {row['name']}" for row in profile["own"]]
        lines.append("by function (inclusive):")
        lines += [f"  {row['share']:6.1%}  {row['name']}" for row in profile["inclusive"]]
        lines.append("")
    budget = results.get("budget")
    if budget:
        whole = budget["unbounded"]
        lines.append(f"## A first sync under call_budget: one organisation of {budget['scale']} invoices, default "
                     f"selection ({budget['from']}); without a budget: {whole['api_calls']} calls in one run")
        lines.append(f"{'call_budget':>12}{'runs':>7}{'calls':>8}{'calls/one run':>15}  complete")
        for row in budget["rows"]:
            lines.append(f"{row['budget']:>12}{row['runs']:>7}{row['api_calls']:>8}"
                         f"{row['api_calls'] / whole['api_calls']:>15.2f}  {'yes' if row['complete'] else 'NO'}")
        lines.append("")
    orgs = results.get("orgs")
    if orgs:
        clock = "real time" if orgs["time_scale"] == 1 else f"clock {orgs['time_scale']:g}x faster"
        lines.append(f"## Many organisations in one process: first run (default selection), {orgs['scale']} invoices "
                     f"each, Xero's real limits, {orgs['latency_ms']:g} ms a call, {clock} ({orgs['from']})")
        lines.append(f"{'organisations':>14}{'wall s':>9}{'bound s':>9}{'wall/bound':>12}{'target s':>10}"
                     f"{'calls/org':>11}{'records':>9}{'rec/CPU-s':>11}{'peak RSS MB':>13}")
        for row in orgs["rows"]:
            per_org = row["calls_per_organisation"]
            lines.append(f"{row['organisations']:>14}{row['wall_s']:>9.0f}{row['bound_s']:>9.0f}"
                         f"{row['wall_vs_bound']:>11.2f}x{row['target_s']:>10.0f}"
                         f"{str(per_org['min']) + '-' + str(per_org['max']):>11}{row['records']:>9}"
                         f"{row['records_per_cpu_s']:>11.0f}{row['peak_rss_mb']:>13.0f}")
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
    with contextlib.suppress(OSError, StopIteration, ValueError):
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        memory_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError, StopIteration):
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
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
    parser.add_argument("--phases", default="calls,limits",
                        help="calls,limits,rss,profile,cost,orgs,budget (comma-separated)")
    parser.add_argument("--time-scale", type=float, default=60.0,
                        help="limits phase: how many times faster than real time the sandbox's clock runs")
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS,
                        help="limits phase: real ms Xero takes per response (the latency model)")
    parser.add_argument("--per-record-ms", type=float, default=PER_RECORD_MS,
                        help="limits phase: real ms Xero takes per record served")
    parser.add_argument("--rss-scales", default="10000,100000,1000000")
    parser.add_argument("--rss-streams", default="Invoices")
    parser.add_argument("--singerio-max-scale", type=int, default=100000,
                        help="rss phase: largest scale the (slow) singer-io tap is run at")
    parser.add_argument("--profile-streams", default="Invoices", help="profile phase: Xero paths to sync")
    parser.add_argument("--profile-top", type=int, default=15, help="profile phase: functions to list")
    parser.add_argument("--cost-scale", type=int, default=2000, help="cost phase: invoices in the organisation")
    parser.add_argument("--orgs-counts", default="1,10,20,40", help="orgs phase: organisations per run")
    parser.add_argument("--orgs-scale", type=int, default=1500, help="orgs phase: invoices per organisation")
    parser.add_argument("--orgs-time-scale", type=float, default=1.0,
                        help="orgs phase: how many times faster the sandbox's clock runs (1: real time)")
    parser.add_argument("--orgs-latency-ms", type=float, default=200.0, help="orgs phase: ms Xero takes a call")
    parser.add_argument("--budget-scale", type=int, default=300, help="budget phase: invoices in the organisation")
    parser.add_argument("--budgets", default="30,60,100", help="budget phase: call_budget values")
    parser.add_argument("--budget-max-runs", type=int, default=30, help="budget phase: runs before giving up")
    parser.add_argument("--ours-concurrency", type=int, default=5, metavar="N",
                        help="our tap's concurrent calls per organisation (1: one at a time, as RESTStream pages)")
    parser.add_argument("--ours-from", type=Path, metavar="CHECKOUT",
                        help="run our tap from another checkout of this repository (e.g. before a change)")
    parser.add_argument("--quick", action="store_true", help="tiny scale, all phases, for a smoke test")
    parser.add_argument("--json", type=Path, help="write all figures to this JSON file")
    parser.add_argument("--plot", type=Path, metavar="DIR", help="draw PNG figures into DIR (needs --json)")
    parser.add_argument("--workdir", type=Path, help="keep configs, catalogs and logs here")
    options = parser.parse_args(argv)
    if options.quick:
        options.scale = min(options.scale, 200)
        options.phases = "calls,limits,rss,cost,orgs,budget"
        options.budget_scale, options.budgets, options.budget_max_runs = min(options.budget_scale, 100), "40", 10
        options.cost_scale = min(options.cost_scale, 200)
        options.rss_scales = "100,200"
        options.orgs_counts, options.orgs_scale = "1,3", min(options.orgs_scale, 100)
        options.orgs_time_scale = max(options.orgs_time_scale, 60.0)
        options.time_scale = max(options.time_scale, 600.0)
    options.streams = tuple(p.strip() for p in options.streams.split(",") if p.strip())
    options.rss_streams = tuple(p.strip() for p in options.rss_streams.split(",") if p.strip())
    options.profile_streams = tuple(p.strip() for p in options.profile_streams.split(",") if p.strip())
    options.rss_scales = [int(s) for s in str(options.rss_scales).split(",") if s.strip()]
    options.orgs_counts = [int(s) for s in str(options.orgs_counts).split(",") if s.strip()]
    options.budgets = [int(s) for s in str(options.budgets).split(",") if s.strip()]
    options.phases = tuple(p.strip() for p in options.phases.split(","))
    unknown = [p for p in options.streams + options.rss_streams + options.profile_streams if p not in BY_PATH]
    if unknown:
        parser.error(f"unknown Xero paths: {unknown}")
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    taps = ["ours", "singerio"] if options.which == "both" else [options.which]
    if "singerio" in taps:
        ensure_singerio_venv()
    if "ours" in taps or {"profile", "cost", "orgs", "budget"} & set(options.phases):
        compile_our_bytecode()
    if options.ours_from:
        OurTap.other_checkout = options.ours_from.resolve()
    OurTap.max_concurrent = options.ours_concurrency
    workdir = (options.workdir or Path(tempfile.mkdtemp(prefix="tap-xero-bench-"))).resolve()
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
    if "profile" in options.phases:
        results["profile"] = phase_profile(options, workdir)
    if "cost" in options.phases:
        results["cost"] = phase_cost(options, workdir)
    if "orgs" in options.phases:
        results["orgs"] = phase_orgs(options, workdir)
    if "budget" in options.phases:
        results["budget"] = phase_budget(options, workdir)
    print(format_report(results))
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(results, indent=2, default=str))
        if options.plot:
            plot(options.json, options.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
