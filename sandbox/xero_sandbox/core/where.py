"""A small evaluator for Xero's ``where`` filter syntax (the subset clients use).

Supported: ``Field op value`` with op in ``== != > >= < <=``; values ``"text"``, numbers,
``true``/``false``/``null``, ``DateTime(2020,1,1[,h,m,s])``, ``DateTimeOffset(...)`` and
``Guid("...")``; dotted paths (``Contact.ContactID``); ``Field.Contains("x")``,
``.StartsWith("x")``, ``.EndsWith("x")``; ``AND``/``OR`` (also ``&&``/``||``), ``NOT``/``!``,
parentheses. Anything else raises ``ValueError`` with a message the server returns as Xero's
400 ValidationException.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from xero_sandbox.core.generation import datetime_to_ms, parse_ms_date

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<op>==|!=|>=|<=|>|<|&&|\|\||!)
    | (?P<punct>[(),])
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    )""", re.VERBOSE)

Predicate = Callable[[dict], bool]
WhereValue = str | Decimal | bool | datetime | None  # what a clause compares a field with
_Ordered = TypeVar("_Ordered", int, Decimal, str)
_METHODS = {"contains", "startswith", "endswith"}


def resolve(record: dict, path: str) -> object:
    """The value at a dotted path (``Contact.Name``), case-insensitive on each step; None if absent."""
    value: object = record
    for step in path.split("."):
        if not isinstance(value, dict):
            return None
        if step in value:
            value = value[step]
            continue
        lowered = step.lower()
        value = next((v for k, v in value.items() if k.lower() == lowered), None)
    return value


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ValueError(f"Unsupported where clause near '{text[pos:pos + 20]}'")
        kind = match.lastgroup
        assert kind is not None  # every alternative of _TOKEN is a named group
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ValueError(f"Unexpected end of where clause '{self.text}'")
        self.pos += 1
        return token

    def expect(self, value: str) -> None:
        token = self.take()
        if token[1] != value:
            raise ValueError(f"Expected '{value}' in where clause, found '{token[1]}'")

    def is_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token[1].upper() in words and token[0] in ("name", "op")

    def parse(self) -> Predicate:
        predicate = self.or_expr()
        token = self.peek()
        if token is not None:
            raise ValueError(f"Unexpected '{token[1]}' in where clause")
        return predicate

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.is_word("OR", "||"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def and_expr(self) -> Predicate:
        parts = [self.unary()]
        while self.is_word("AND", "&&"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def unary(self) -> Predicate:
        if self.is_word("NOT", "!"):
            self.take()
            inner = self.unary()
            return lambda r: not inner(r)
        token = self.peek()
        if token and token[1] == "(":
            self.take()
            inner = self.or_expr()
            self.expect(")")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        kind, path = self.take()
        if kind != "name":
            raise ValueError(f"Expected a field name in where clause, found '{path}'")
        head, _, last = path.rpartition(".")
        if head and last.lower() in _METHODS:
            self.expect("(")
            argument = self.value()
            self.expect(")")
            if not isinstance(argument, str):
                raise ValueError(f"{last} needs a string argument")
            method = last.lower()
            needle = argument.lower()

            def text_test(record: dict) -> bool:
                value = resolve(record, head)
                if not isinstance(value, str):
                    return False
                value = value.lower()
                return (needle in value if method == "contains" else
                        value.startswith(needle) if method == "startswith" else value.endswith(needle))
            return text_test
        if path.lower() in ("true", "false"):
            raise ValueError("A where clause must compare a field")
        op_token = self.take()
        if op_token[0] != "op" or op_token[1] in ("&&", "||", "!"):
            raise ValueError(f"Expected a comparison operator after '{path}'")
        op = op_token[1]
        expected = self.value()
        return lambda record: _compare(resolve(record, path), op, expected)

    def value(self) -> WhereValue:
        kind, text = self.take()
        if kind == "string":
            return bytes(text[1:-1], "utf-8").decode("unicode_escape") if "\\" in text else text[1:-1]
        if kind == "number":
            return Decimal(text)
        word = text.lower() if kind == "name" else ""
        if word in ("true", "false"):
            return word == "true"
        if word == "null":
            return None
        if word in ("datetime", "datetimeoffset"):
            return self._datetime()
        if word == "guid":
            return self._guid()
        raise ValueError(f"Unsupported value '{text}' in where clause")

    def _datetime(self) -> datetime:
        """The rest of ``DateTime(year, month, day[, hour, minute, second])``, after its name."""
        self.expect("(")
        numbers = [int(self._number())]
        while (token := self.peek()) is not None and token[1] == ",":
            self.take()
            numbers.append(int(self._number()))
        self.expect(")")
        if len(numbers) < 3:
            raise ValueError("DateTime needs at least year, month and day")
        year, month, day = numbers[:3]
        hour, minute, second = (numbers[3:6] + [0, 0, 0])[:3]
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
        except ValueError as exc:
            raise ValueError(f"Invalid DateTime in where clause: {exc}") from None

    def _guid(self) -> str:
        """The rest of ``Guid("...")``, after its name: the GUID in lower case."""
        self.expect("(")
        kind, text = self.take()
        if kind != "string":
            raise ValueError("Guid needs a quoted value")
        self.expect(")")
        return text[1:-1].lower()

    def _number(self) -> Decimal:
        kind, text = self.take()
        if kind != "number":
            raise ValueError(f"Expected a number in where clause, found '{text}'")
        return Decimal(text)


def _compare(actual: object, op: str, expected: WhereValue) -> bool:
    if isinstance(expected, datetime):
        actual_ms = _ms_of(actual)
        if actual_ms is None:  # not a date: neither equal nor unequal to one
            return False
        return _order(op, actual_ms, datetime_to_ms(expected))
    if isinstance(expected, bool) or expected is None:
        if op not in ("==", "!="):
            raise ValueError("Only == and != compare with true, false or null")
        return actual == expected if op == "==" else actual != expected
    if isinstance(expected, Decimal):
        try:
            number = Decimal(str(actual))
        except (InvalidOperation, ValueError):
            return op == "!="
        return _order(op, number, expected)
    if actual is None:
        return op == "!="
    return _order(op, str(actual).lower(), str(expected).lower())


def _ms_of(value: object) -> int | None:
    """Unix milliseconds of a /Date(...)/ or ISO 8601 string; None for anything else."""
    if not isinstance(value, str):
        return None
    if value.startswith("/Date("):
        return parse_ms_date(value)
    try:
        return datetime_to_ms(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _order(op: str, left: _Ordered, right: _Ordered) -> bool:
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]


def compile_where(text: str) -> Predicate:
    """A predicate over Xero-shaped records; ValueError for what is not understood."""
    if not text or not text.strip():
        return lambda record: True
    return _Parser(text).parse()
