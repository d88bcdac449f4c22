"""``tap-xero-sandbox serve``: run the Xero sandbox in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from xero_sandbox.core import tiers
from xero_sandbox.core.config import SandboxConfig
from xero_sandbox.core.control import credentials
from xero_sandbox.core.faults import parse_fault
from xero_sandbox.core.oauth import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN
from xero_sandbox.sandbox import Sandbox


def _fault_spec(text: str) -> str:
    try:
        parse_fault(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _tier(text: str) -> str:
    try:
        return tiers.tier_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _indexes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("expected tenant indexes like 0,1") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tap-xero-sandbox", description="A local emulator of the Xero API.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the Accounting API, OAuth and /_sandbox/ on one port")
    data = serve.add_argument_group("data")
    data.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    data.add_argument("--port", type=int, default=8765, help="port (0: any free port; see --ready-file)")
    data.add_argument("--seed", type=int, default=1)
    data.add_argument("--scale", type=int, default=1000, help="invoices per tenant")
    data.add_argument("--tenants", type=int, default=2)
    data.add_argument(
        "--classic-expenses", type=_indexes, default=(0,), metavar="I,J",
        help="tenant indexes where ExpenseClaims/Receipts still work (default 0; the others answer 410)",
    )
    limits = serve.add_argument_group("limits and latency")
    limits.add_argument("--no-limits", action="store_true", help="never answer 429 (headers still sent)")
    limits.add_argument("--minute-limit", type=int, default=60)
    limits.add_argument("--day-limit", type=int, default=None,
                        help="calls per tenant per day (default: the tier's, 1000 on starter, else 5000)")
    limits.add_argument("--tier", type=_tier, default=tiers.DEFAULT_TIER,
                        help="Xero's app pricing tier: starter, core, plus or advanced (default); "
                             "below advanced, Journals answer 401")
    limits.add_argument("--concurrent-limit", type=int, default=5)
    limits.add_argument("--app-minute-limit", type=int, default=10000)
    limits.add_argument("--time-scale", type=float, default=1.0, help="60: a limit 'minute' lasts one second")
    limits.add_argument("--clock-speed", type=float, default=1.0, help="sandbox seconds per real second")
    limits.add_argument("--latency-ms", type=float, default=0.0, help="added to every API response")
    limits.add_argument("--per-record-ms", type=float, default=0.0, help="added per record served")
    faults = serve.add_argument_group("faults")
    faults.add_argument(
        "--fault", action="append", default=[], type=_fault_spec, metavar="SPEC",
        help="inject a fault, e.g. error:status=503,count=3,path=Invoices (repeatable; see docs/sandbox.md)",
    )
    auth = serve.add_argument_group("credentials and webhooks")
    auth.add_argument("--client-id", default=DEMO_CLIENT_ID)
    auth.add_argument("--client-secret", default=DEMO_CLIENT_SECRET)
    auth.add_argument("--refresh-token", default=DEMO_REFRESH_TOKEN)
    auth.add_argument("--webhook-url", help="deliver signed webhooks for data changes to this URL")
    auth.add_argument("--webhook-key", help="the webhook signing key (needed with --webhook-url)")
    serve.add_argument("--ready-file", type=Path, help="write {base_url, api_url, ...} as JSON here once listening")
    return parser


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    return SandboxConfig(
        seed=args.seed, scale=args.scale, tenants=args.tenants, host=args.host, port=args.port,
        limits=not args.no_limits, minute_limit=args.minute_limit, day_limit=args.day_limit,
        concurrent_limit=args.concurrent_limit, app_minute_limit=args.app_minute_limit,
        tier=args.tier, time_scale=args.time_scale, clock_speed=args.clock_speed, latency_ms=args.latency_ms,
        per_record_ms=args.per_record_ms, faults=tuple(args.fault), client_id=args.client_id,
        client_secret=args.client_secret, refresh_token=args.refresh_token,
        webhook_url=args.webhook_url, webhook_key=args.webhook_key,
        classic_expenses_tenants=args.classic_expenses,
    )


def _write_ready_file(path: Path, info: dict) -> None:
    # Write then rename, so a script polling for the file never reads half of it.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(info, indent=2))
    os.replace(tmp, path)


def serve(args: argparse.Namespace) -> int:
    if bool(args.webhook_url) != bool(args.webhook_key):
        print("tap-xero-sandbox: --webhook-url and --webhook-key go together", file=sys.stderr)
        return 2
    started = time.monotonic()
    sandbox = Sandbox(config_from_args(args)).start()
    info = credentials(sandbox.app)
    stop = threading.Event()

    def on_signal(signum, _frame) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    # These are the sandbox's demo credentials, not real secrets: printing them is the point.
    print(
        f"Xero sandbox listening on {info['base_url']} (started in {time.monotonic() - started:.1f} s)\n"
        f"  api_url:        {info['api_url']}\n"
        f"  identity_url:   {info['identity_url']}   (token: /connect/token, authorize: /identity/connect/authorize)\n"
        f"  client_id:      {info['client_id']}\n"
        f"  client_secret:  {info['client_secret']}\n"
        f"  refresh_token:  {info['refresh_token']}\n"
        f"  tenant_ids:     {', '.join(info['tenant_ids'])}\n"
        f"  tier:           {info['tier']}\n"
        f"  control:        {info['base_url']}/_sandbox/  (counts, requests, log, faults, mutations, clock)",
        flush=True,
    )
    if args.ready_file:
        _write_ready_file(args.ready_file, {**info, "pid": os.getpid()})
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
        print("Xero sandbox stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
