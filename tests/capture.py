"""Capturing a tap's Singer output in-process.

The tap writes with the SDK's msgspec writer, which writes bytes to ``sys.stdout.buffer``; a plain
``io.StringIO`` has no ``.buffer``. ``CapturedStdout`` is a StringIO that also accepts those bytes.
"""

from __future__ import annotations

import io


class _BytesIntoText:
    def __init__(self, text: io.StringIO) -> None:
        self._text = text

    def write(self, data: bytes | bytearray) -> int:
        self._text.write(bytes(data).decode("utf-8"))
        return len(data)

    def flush(self) -> None:
        pass


class CapturedStdout(io.StringIO):
    """Use with ``contextlib.redirect_stdout``; read with ``getvalue()`` as usual."""

    def __init__(self) -> None:
        super().__init__()
        self.buffer = _BytesIntoText(self)


def sync_selected(tap, streams) -> tuple[list[dict], Exception | None]:
    """Run ``tap.sync_all()`` in-process with exactly ``streams`` selected.

    Returns the Singer messages it wrote (numbers as Decimal) and the TapXeroError it stopped with, if any.
    """
    import contextlib
    import json
    from decimal import Decimal

    from tap_xero import errors

    for stream in tap.streams.values():
        stream.selected = stream.name in streams
    out = CapturedStdout()
    error = None
    with contextlib.redirect_stdout(out):
        try:
            tap.sync_all()
        except errors.TapXeroError as exc:
            error = exc
    return [json.loads(line, parse_float=Decimal) for line in out.getvalue().splitlines()], error
