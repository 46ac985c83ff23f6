"""Fault injection: make the acquirer misbehave on purpose, for the terminal's tests.

A :class:`FaultPlan` holds faults in the order they were added. Each request
that decodes takes the first fault that matches it (by MTI and/or
processing code), and that fault's count goes down by one; at zero it is
gone. At most one fault applies to a message.

What each kind does to the request it hits:

=========== ========================= =========================================
kind        applied to the ledger?    what the terminal sees
=========== ========================= =========================================
``delay``   yes                       the answer, ``seconds`` late
``drop``    no (a lost request)       no answer; the connection stays open
``close``   yes (a lost response)     the connection closes, no answer
``garbage`` yes                       a frame whose payload is not a message
``code``    no                        a well-MACed answer with DE 39 = ``code``
``badmac``  yes                       the answer with a wrong DE 64
``nocode``  yes                       a well-MACed answer without DE 39
=========== ========================= =========================================

The text form (``micropos acquirer --fault SPEC``) is
``KIND[:ARG][,mti=MTI][,pc=DE3][,count=N|all]``, e.g. ``delay:5``,
``code:05,mti=0200,pc=200000``, ``drop,count=2``, ``close,mti=0400``.
Without ``count`` a fault hits the next matching message only, unless it
names an MTI or processing code, in which case it hits every match.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from micropos.errors import MicroposError

#: What ``garbage`` sends instead of an answer: framed, so it reaches the parser.
GARBAGE = b"\xde\xad\xbe\xef not an ISO 8583 message \xff\x00"


class FaultKind(StrEnum):
    DELAY = "delay"
    DROP = "drop"
    CLOSE = "close"
    GARBAGE = "garbage"
    CODE = "code"
    BAD_MAC = "badmac"
    NO_CODE = "nocode"


class FaultSpecError(MicroposError, ValueError):
    """A fault given in text that does not parse.

    Attributes:
        spec: the text as given.
    """

    def __init__(self, spec: str, message: str) -> None:
        super().__init__(f"fault {spec!r}: {message}")
        self.spec = spec


@dataclass
class Fault:
    """One injected misbehaviour.

    Attributes:
        kind: what to do.
        seconds: for ``delay``, how long to hold the answer.
        code: for ``code``, the DE 39 to answer.
        mti: only requests with this MTI (None: any).
        processing_code: only requests with this DE 3 (None: any).
        count: how many more messages it hits; None for every match, forever.
    """

    kind: FaultKind
    seconds: float = 0.0
    code: str | None = None
    mti: str | None = None
    processing_code: str | None = None
    count: int | None = 1

    def __post_init__(self) -> None:
        self.kind = FaultKind(self.kind)
        if self.kind is FaultKind.DELAY and self.seconds <= 0:
            raise ValueError("a delay fault needs seconds > 0")
        if self.kind is FaultKind.CODE and (
            self.code is None or len(self.code) != 2 or not self.code.isascii() or not self.code.isalnum()
        ):
            raise ValueError(f"a code fault needs a 2-character response code, not {self.code!r}")
        if self.count is not None and self.count < 1:
            raise ValueError(f"fault count {self.count} < 1")

    def matches(self, request: Mapping[str, str]) -> bool:
        return (self.mti is None or request.get("t") == self.mti) and (
            self.processing_code is None or request.get("3") == self.processing_code
        )


def parse_fault(spec: str) -> Fault:
    """Parses ``KIND[:ARG][,mti=MTI][,pc=DE3][,count=N|all]`` into a Fault."""
    head, *options = [part.strip() for part in spec.split(",")]
    name, _, arg = head.partition(":")
    try:
        kind = FaultKind(name.strip().lower())
    except ValueError:
        kinds = ", ".join(k.value for k in FaultKind)
        raise FaultSpecError(spec, f"unknown kind {name!r} (one of {kinds})") from None
    fields: dict[str, str] = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or key not in ("mti", "pc", "count") or key in fields:
            raise FaultSpecError(spec, f"bad option {option!r} (mti=, pc=, count= once each)")
        fields[key] = value
    count: int | None
    if "count" in fields:
        if fields["count"] == "all":
            count = None
        elif fields["count"].isdigit():
            count = int(fields["count"])
        else:
            raise FaultSpecError(spec, f"count {fields['count']!r} is not a number or 'all'")
    else:
        count = None if ("mti" in fields or "pc" in fields) else 1
    seconds = 0.0
    code: str | None = None
    if kind is FaultKind.DELAY:
        try:
            seconds = float(arg)
        except ValueError:
            raise FaultSpecError(spec, f"delay needs seconds, e.g. delay:5, not {arg!r}") from None
    elif kind is FaultKind.CODE:
        code = arg
    elif arg:
        raise FaultSpecError(spec, f"{kind.value} takes no argument")
    try:
        return Fault(kind, seconds=seconds, code=code, mti=fields.get("mti"), processing_code=fields.get("pc"),
                     count=count)
    except ValueError as exc:
        raise FaultSpecError(spec, str(exc)) from None


class FaultPlan:
    """The faults waiting for messages; safe to change from another thread while serving."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault | str) -> Fault:
        """Adds a fault (or its text form) after those already waiting."""
        item = parse_fault(fault) if isinstance(fault, str) else fault
        with self._lock:
            self._faults.append(item)
        return item

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, request: Mapping[str, str]) -> Fault | None:
        """The fault this request hits, counting it down; None when none matches."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(request):
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count == 0:
                            del self._faults[index]
                    return fault
        return None
