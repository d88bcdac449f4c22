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
