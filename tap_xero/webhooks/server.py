"""HttpServer: serve an ASGI app on the open internet with bounded connections and deadlines.

The HTTP server is Granian's (a Rust server built on hyper and tokio), run in-process through its
embedded API on an asyncio loop in one background thread. It was chosen, measured against the
alternatives (docs/webhooks.md, "Why Granian"), because it alone of the well-kept Python servers
both caps connections before accepting them and bounds the time to read a request's headers:

- ``max_connections``: a semaphore taken *before* ``accept()`` and held for the connection's life,
  so at most that many sockets are open; further clients wait in the kernel's listen queue
  (``backlog``) instead of using file descriptors. It is lowered, with one warning, to what the
  process's open-file limit allows (``FD_RESERVE`` kept for SQLite, logs and the runtime); the soft
  limit is first raised towards the hard one when that helps.
- ``header_timeout``: hyper's header-read timer, which starts when a connection is accepted (and
  again when a keep-alive connection waits for its next request) and closes a connection whose
  headers are not complete in time, however slowly they trickle in. It is also the keep-alive idle
  limit. Malformed request lines and headers are answered 400 (431 over ``MAX_HEAD_BYTES``) by
  hyper, before the app, and logged by nobody.
- ``body_timeout`` is the app's (``app.WebhookApp``): hyper has no body deadline.
- HTTP/1.1 only (Xero's), no WebSockets; TLS belongs to a proxy in front (docs/webhooks.md).
- ``stop()``: stop accepting, let requests in progress finish (each is bounded by the deadlines),
  close idle connections; after ``shutdown_timeout`` stop waiting.

``port=0`` picks a free port: it is reserved with a socket of our own before Granian binds it
(Granian binds with ``SO_REUSEPORT`` and does not report the port it got), then released.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import resource
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels
from granian.server.embed import Server as EmbeddedGranian

from tap_xero.errors import ConfigError

logger = logging.getLogger(__name__)

# File descriptors kept free beside the connections: SQLite (database, WAL, shared memory), the
# listening socket, stdio, the tokio runtime's epoll/eventfds, and room to spare.
FD_RESERVE = 64
READY_TIMEOUT_SECONDS = 15.0
# hyper's read buffer limit, which bounds a request head (431 beyond it; checked between reads, so a
# head is cut somewhere in 64..128 KiB): Xero's are well under 2 KB. Granian's default (~400 KB) would
# let 1,000 connections hold 400 MB or more of headers.
MAX_HEAD_BYTES = 64 * 1024
# Xero gives up on a delivery after 5 s: a deadline at or above it protects nothing.
XERO_DEADLINE_SECONDS = 5.0


@dataclass(frozen=True)
class ServerLimits:
    """What the server allows a client; the CLI's flags of the same names (docs/webhooks.md)."""

    max_connections: int = 1000
    header_timeout: float = 2.0
    body_timeout: float = 2.0
    backlog: int = 2048
    shutdown_timeout: float = 5.0

    def check(self) -> ServerLimits:
        """Self, or ConfigError naming the limit that makes no sense."""
        for name in ("header_timeout", "body_timeout"):
            value = getattr(self, name)
            if not 0 < value < XERO_DEADLINE_SECONDS:
                raise ConfigError(_flag(name), f"must be above 0 and under Xero's {XERO_DEADLINE_SECONDS:g} s, "
                                  f"not {value:g}", "a client slower than that is not Xero; 2 s is the default")
        for name in ("max_connections", "backlog"):
            if getattr(self, name) < 1:
                raise ConfigError(_flag(name), f"must be at least 1, not {getattr(self, name)}", "the default is fine")
        if self.shutdown_timeout < 0:
            raise ConfigError("--shutdown-timeout", "must not be negative", "the default is 5 s")
        return self


def _flag(limit: str) -> str:
    return "--" + limit.replace("_", "-")


def connection_cap(requested: int) -> int:
    """``requested``, or less when the open-file limit cannot hold that many connections."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = requested + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return requested
    cap = soft - FD_RESERVE
    if cap < 1:
        raise ConfigError("--max-connections", f"the open-file limit ({soft}) leaves no room for connections",
                          f"raise it (ulimit -n) above {FD_RESERVE}")
    logger.warning("Serving at most %d connections, not %d: the open-file limit is %d", cap, requested, soft)
    return cap


def numeric_host(host: str) -> str:
    """``host`` as an IP address (Granian binds addresses only): ``localhost`` -> ``127.0.0.1``."""
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        return str(socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][4][0])
    except socket.gaierror:
        raise ConfigError("--host", f"cannot resolve {host!r}", "give an IP address or a resolvable name") from None


def _reserve_port(host: str, port: int) -> socket.socket:
    """A bound socket holding ``host:port`` (a free port when 0) that Granian can bind beside."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if port:  # a plain bind fails, with a clear error, when anyone already holds the port
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            _bind(probe, host, port)
    holder = socket.socket(family, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        _bind(holder, host, port)
    except BaseException:
        holder.close()
        raise
    return holder


def _bind(sock: socket.socket, host: str, port: int) -> None:
    try:
        sock.bind((host, port))
    except OSError as exc:
        reason = "the port is in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise ConfigError("--port", f"cannot listen on {host}:{port}: {reason}",
                          "pick another --port or --host") from None


class _QuietExperimentalNotice(logging.Filter):
    """Granian says "Embedded server is experimental!" at each start; docs/webhooks.md says why we use it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "experimental" not in record.getMessage()


_QUIET_EXPERIMENTAL_NOTICE = _QuietExperimentalNotice()  # one instance: addFilter() then adds it once


# Granian's own records (its Rust side's too) go through the application's logging, warnings and up.
_GRANIAN_LOGGING = {
    "handlers": {},
    "loggers": {
        "_granian": {"handlers": [], "level": "WARNING", "propagate": True},
        "granian.access": {"handlers": [], "level": "WARNING", "propagate": True},
    },
}


class HttpServer:
    """``HttpServer(app, host, port, limits).start()``, ``.port``, ``.stop()``: see the module docstring."""

    def __init__(self, app: Callable[..., Any], host: str = "127.0.0.1", port: int = 0,
                 limits: ServerLimits | None = None) -> None:
        self.app = app
        self.host = numeric_host(host)
        self.limits = (limits or ServerLimits()).check()
        self.max_connections = connection_cap(self.limits.max_connections)
        self._holder = _reserve_port(self.host, port)
        self.port = int(self._holder.getsockname()[1])
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._failure: BaseException | None = None

    def start(self) -> HttpServer:
        """Serve in a background thread; returns once the port accepts connections."""
        self._thread = threading.Thread(target=self._run, name="webhook-http-server", daemon=True)
        self._thread.start()
        try:
            self._wait_until_listening()
        except BaseException:
            self.stop()
            raise
        finally:
            self._holder.close()
        return self

    @property
    def serving(self) -> bool:
        """False once the server has ended (stopped, or failed: the log says why)."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Stop accepting, finish requests in progress (up to ``shutdown_timeout``), end the thread."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop has ended already
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(self.limits.shutdown_timeout + 5)
            if self._thread.is_alive():
                logger.warning("The HTTP server did not stop within %g s; leaving it", self.limits.shutdown_timeout)
        self._holder.close()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported by start(), or logged once if it happens later
            self._failure = exc
            logger.error("The HTTP server stopped: %s: %s", exc.__class__.__name__, exc)

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        logging.getLogger("_granian").addFilter(_QUIET_EXPERIMENTAL_NOTICE)
        granian = EmbeddedGranian(
            self.app, address=self.host, port=self.port, interface=Interfaces.ASGINL, http=HTTPModes.http1,
            websockets=False, backlog=self.limits.backlog, backpressure=self.max_connections,
            http1_settings=HTTP1Settings(header_read_timeout=int(self.limits.header_timeout * 1000), keep_alive=True,
                                         max_buffer_size=MAX_HEAD_BYTES),
            log_enabled=True, log_level=LogLevels.warning, log_dictconfig=_GRANIAN_LOGGING,
        )
        serving = asyncio.ensure_future(granian.serve())
        stop_requested = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({serving, stop_requested}, return_when=asyncio.FIRST_COMPLETED)
        stop_requested.cancel()
        if serving.done():
            serving.result()  # an unexpected end: raise what ended it
            raise RuntimeError("the HTTP server ended by itself")
        granian.stop()
        try:
            await asyncio.wait_for(serving, self.limits.shutdown_timeout)
        except asyncio.TimeoutError:
            logger.warning("Requests still open after %g s of shutdown; closing them", self.limits.shutdown_timeout)

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        address = (self.host, self.port)
        while True:
            if self._failure is not None or (self._thread is not None and not self._thread.is_alive()):
                raise ConfigError("--port", f"the HTTP server could not start on {self.host}:{self.port}",
                                  "see the log line before this one") from self._failure
            try:
                with socket.create_connection(address, timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise ConfigError("--port", f"nothing listens on {self.host}:{self.port} after "
                                      f"{READY_TIMEOUT_SECONDS:g} s", "see the log for why") from None
                time.sleep(0.01)
