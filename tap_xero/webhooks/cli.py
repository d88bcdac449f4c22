"""``tap-xero-webhooks serve``: run the webhook receiver until SIGINT/SIGTERM.

    tap-xero-webhooks serve --port 8090 --queue ./webhooks.sqlite [--webhook-key KEY]
        [--host 127.0.0.1] [--ready-file PATH] [--max-body-bytes N] [--log-level INFO]
        [--max-connections 1000] [--header-timeout 2] [--body-timeout 2] [--backlog 2048]
        [--shutdown-timeout 5]

The limits (docs/webhooks.md says what each protects) are ``server.ServerLimits``; a bad value
exits with status 2 and one line naming the flag.

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
from tap_xero.webhooks.receiver import DEFAULT_MAX_BODY_BYTES, HEALTH_PATH, ServerLimits, WebhookReceiver
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
    limits = serve.add_argument_group("limits (what an internet-facing server allows a client)")
    defaults = ServerLimits()
    limits.add_argument("--max-connections", type=int, default=defaults.max_connections,
                        help="open connections at most; more wait in the listen queue "
                             f"(default {defaults.max_connections}, lowered to fit the open-file limit)")
    limits.add_argument("--header-timeout", type=float, default=defaults.header_timeout,
                        help="seconds from connecting (or from the last answer on a kept-alive connection) "
                             f"to a complete request head, else closed (default {defaults.header_timeout:g})")
    limits.add_argument("--body-timeout", type=float, default=defaults.body_timeout,
                        help=f"seconds from the head to the whole body, else 408 (default {defaults.body_timeout:g})")
    limits.add_argument("--backlog", type=int, default=defaults.backlog,
                        help=f"connections the kernel queues while all are busy (default {defaults.backlog})")
    limits.add_argument("--shutdown-timeout", type=float, default=defaults.shutdown_timeout,
                        help="seconds SIGTERM waits for requests in progress "
                             f"(default {defaults.shutdown_timeout:g})")
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
    limits = ServerLimits(max_connections=args.max_connections, header_timeout=args.header_timeout,
                          body_timeout=args.body_timeout, backlog=args.backlog,
                          shutdown_timeout=args.shutdown_timeout)
    receiver = WebhookReceiver(args.queue, key, port=args.port, host=args.host, max_body_bytes=args.max_body_bytes,
                               limits=limits)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    receiver.start()
    logger.info("Receiving Xero webhooks at %s (queue %s; at most %d connections, header and body deadlines "
                "%g s and %g s)", receiver.url, args.queue, receiver.max_connections, limits.header_timeout,
                limits.body_timeout)
    if args.ready_file:
        write_ready_file(args.ready_file, receiver)
    while not stopping.wait(0.5):
        if not receiver.serving:  # the server failed (logged): exit, so a supervisor restarts us
            receiver.stop()
            return 1
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
