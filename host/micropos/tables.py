"""The tables the firmware and the host share, read from the firmware's own source.

Each fact is written once, in the firmware (where a board needs it, as text
that stays in flash), and the host reads it from there instead of keeping a
copy: the message kinds (``firmware/domain/kinds.py`` ``TABLE``), the field
layout of the wire profile (``firmware/protocol/iso8583.py`` ``_PROFILE``), the
currencies (``firmware/domain/money.py`` ``CURRENCIES``) and the names of
the keypad's keys (``firmware/domain/keys.py`` ``NAMES``). The source
is parsed, never run: it is MicroPython.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from micropos import paths
from micropos.errors import SetupError

KINDS_SOURCE = paths.FIRMWARE / "domain" / "kinds.py"
PROFILE_SOURCE = paths.FIRMWARE / "protocol" / "iso8583.py"
CURRENCY_SOURCE = paths.FIRMWARE / "domain" / "money.py"
KEYS_SOURCE = paths.FIRMWARE / "domain" / "keys.py"


def constant(path: Path, name: str) -> Any:
    """The module-level constant ``name`` (a literal) in the source file ``path``; bytes are read as text.

    Raises:
        SetupError: the file or the constant is missing (a checkout without its firmware).
    """
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise SetupError(f"cannot read {path}: {exc.strerror}") from exc
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            value = ast.literal_eval(node.value)
            return value.decode("ascii") if isinstance(value, bytes) else value
    raise SetupError(f"{path} has no constant {name}")


@dataclass(frozen=True)
class MessageKind:
    """One line of the message-kind table.

    Attributes:
        number: what a journal record stores for the kind.
        name: SALE, REFUND, ...
        mti: the request's MTI.
        processing_code: its DE 3, or None for a reversal (the reversed request's).
        fields: every field the request carries, in order.
        optional: those of ``fields`` sent only when they have a value.
    """

    number: int
    name: str
    mti: str
    processing_code: str | None
    fields: tuple[int, ...]
    optional: frozenset[int]

    @property
    def mandatory(self) -> tuple[int, ...]:
        return tuple(de for de in self.fields if de not in self.optional)


@cache
def message_kinds() -> tuple[MessageKind, ...]:
    """The message kinds, in the table's order."""
    kinds = []
    for line in constant(KINDS_SOURCE, "TABLE").strip().splitlines():
        number, name, mti, code, *fields = line.split()
        kinds.append(MessageKind(
            number=int(number), name=name, mti=mti, processing_code=None if code.startswith("-") else code,
            fields=tuple(int(f.rstrip("?")) for f in fields),
            optional=frozenset(int(f.rstrip("?")) for f in fields if f.endswith("?"))))
    return tuple(kinds)


def kind_names() -> dict[int, str]:
    """Journal type number -> kind name (1 -> SALE)."""
    return {kind.number: kind.name for kind in message_kinds()}


def status_names() -> dict[int, str]:
    """Journal status number -> its name (1 -> APPROVED)."""
    return dict(enumerate(constant(KINDS_SOURCE, "STATUS_NAMES")))


@dataclass(frozen=True)
class ProfileField:
    """One line of the wire profile: ``length_digits`` 0 for a fixed field, 2 for LLVAR, 3 for LLLVAR."""

    number: int
    length_digits: int
    max_length: int
    content: str  # N, AN, ANS or B
    name: str


@cache
def profile() -> tuple[ProfileField, ...]:
    """The wire profile's fields (0 is the MTI), as the firmware codec reads them."""
    fields = []
    for line in constant(PROFILE_SOURCE, "_PROFILE").splitlines():
        number, layout, length, content, name = line.split(None, 4)
        fields.append(ProfileField(int(number), 0 if layout == "FIXED" else layout.count("L"), int(length),
                                   content, name))
    return tuple(fields)


@dataclass(frozen=True)
class Currency:
    code: int
    letters: str
    exponent: int


@cache
def currencies() -> dict[int, Currency]:
    """ISO 4217 numeric code -> its letters and minor-unit exponent."""
    table = {}
    for line in constant(CURRENCY_SOURCE, "CURRENCIES").strip().splitlines():
        code, letters, exponent = line.split()
        table[int(code)] = Currency(int(code), letters, int(exponent))
    return table


def exponent(currency: int | str) -> int:
    """Digits after the decimal point of ``currency`` (numeric), 2 when the table lacks it, as on the terminal."""
    found = currencies().get(int(currency))
    return 2 if found is None else found.exponent
