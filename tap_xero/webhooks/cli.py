"""``tap-xero-webhooks serve``: run the webhook receiver until SIGINT/SIGTERM.

    tap-xero-webhooks serve --port 8090 --queue ./webhooks.sqlite [--webhook-key KEY]
        [--host 127.0.0.1] [--ready-file PATH] [--max-body-bytes N] [--log-level INFO]

The key comes from --webhook-key, else TAP_XERO_WEBHOOK_KEY, else PAN_SEC_XERO_WEBHOOK_KEY
(prefer the environment: a command line is visible to other local users).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from tap_xero.errors import TapXeroError
from tap_xero.webhooks.receiver import DEFAULT_MAX_BODY_BYTES, HEALTH_PATH, WebhookReceiver
from tap_xero.webhooks.signature import resolve_key

logger = logging.getLogger("tap_xero.webhooks")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tap-xero-webhooks", description="Receive Xero webhooks into a durable queue."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the receiver (POST /webhooks/xero, GET /healthz)")
    serve.add_argument("--port", type=int, required=True, help="port to listen on (0: any free port)")
    serve.add_argument("--queue", required=True, help="SQLite file of the event queue (created if missing)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--webhook-key", default=None, help="Xero webhook key (default: from the environment)")
    serve.add_argument("--ready-file", default=None,
                       help="write {base_url, webhook_url, healthz_url, queue, pid} as JSON here once listening")
    serve.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES, help="larger bodies get 413")
    serve.add_argument("--log-level", default="INFO", help="DEBUG logs each request (method, path, status)")
    return parser


def write_ready_file(path: str, receiver: WebhookReceiver) -> None:
    """Like the sandbox's: JSON, written then renamed so a watcher never reads half of it."""
    info = {
        "base_url": receiver.base_url,
        "webhook_url": receiver.url,
        "healthz_url": receiver.base_url + HEALTH_PATH,
        "queue": str(Path(receiver.queue.path).resolve()),
        "pid": os.getpid(),
    }
    target = Path(path)
    partial = target.with_name(target.name + ".tmp")
    partial.write_text(json.dumps(info, indent=2), encoding="utf-8")
    os.replace(partial, target)


def serve(args: argparse.Namespace) -> int:
    key = resolve_key(args.webhook_key)
    receiver = WebhookReceiver(args.queue, key, port=args.port, host=args.host, max_body_bytes=args.max_body_bytes)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    receiver.start()
    logger.info("Receiving Xero webhooks at %s (queue %s)", receiver.url, args.queue)
    if args.ready_file:
        write_ready_file(args.ready_file, receiver)
    stopping.wait()
    logger.info("Stopping; %s", receiver.stats)
    receiver.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return serve(args)
    except TapXeroError as exc:
        print(f"tap-xero-webhooks: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
