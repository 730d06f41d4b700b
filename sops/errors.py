"""Errors raised by the sops package.

    SopsError                 base: anything this package refuses
     +-- DataFormatError      task `data` cannot be read at all (malformed JSON object, binary junk)
     +-- JsonRefused          JSON past a limit of `sops.jsonlimits` (too deep, a 5,000-digit number)
     +-- SopError             a SOP is invalid or cannot be rendered (names source and field)

Input problems that a client can fix (a missing member id, a bad NPI) are not exceptions: they are
reported as `FieldProblem`s by `sops.inputs.check_inputs`. Each error carries its context as
attributes so that the one boundary translating it (HTTP body, CLI message, task note) needs no
string parsing.
"""

from __future__ import annotations


class SopsError(Exception):
    """Base class of every error raised by `sops`."""


class DataFormatError(SopsError):
    """The task's data text cannot be read at all; `message` says why in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class JsonRefused(SopsError):
    """JSON a client sent is past a limit; `message` says which and how to fix it, `limit` names it."""

    def __init__(self, message: str, *, limit: str) -> None:
        super().__init__(message)
        self.message = message
        self.limit = limit


class SopError(SopsError):
    """A SOP is invalid (or fails to render): `source` is a file path or label, `field` a dotted path."""

    def __init__(self, message: str, *, source: str, field: str = "") -> None:
        self.message = message
        self.source = source
        self.field = field
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {message}")
