"""JSON a client sent, read within limits: nesting depth, integer length, finite numbers.

Python's `json` recurses once per nesting level (a few kilobytes of `[` exhaust the stack), a
structure a few hundred levels deep parses but cannot be serialised again (pydantic stops at
about 255 levels), an integer literal past 4,300 digits is a ValueError, and NaN or Infinity
parse although no database JSON column stores them. `loads` refuses each with a `JsonRefused`
that names the limit and how to fix the input. Depth is checked on the text before parsing, in
one linear pass, so a refused text costs no recursion. `pruned` bounds the depth of a value
read back from storage, for rendering rows stored before these limits existed.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from sops.errors import JsonRefused

MAX_DEPTH = 32  # task data needs 3 levels (an object of service lines of modifier lists)
MAX_INT_DIGITS = 100  # identifiers longer than this are text, and must be sent as strings
TOO_DEEP = "…"  # what `pruned` shows in place of a value nested deeper than it keeps

# A string literal (escapes included, so a quoted bracket is not counted) or a bracket.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads` within the limits above; JsonRefused past one, JSONDecodeError if not JSON.

    A refusal's message is a predicate ("is nested more than 32 levels deep; ...") for the caller
    to put its subject in front of ("The request body ", "Its JSON object ").
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if depth_exceeds(text, max_depth):
        raise JsonRefused(
            f"is nested more than {max_depth} levels deep; send flatter JSON "
            "(task data needs at most a few levels)",
            limit="depth",
        )
    return json.loads(text, parse_int=_integer, parse_float=_real, parse_constant=_constant)


def depth_exceeds(text: str, limit: int) -> bool:
    """Whether the brackets of the JSON text nest deeper than `limit` (strings are skipped)."""
    depth = 0
    for match in _TOKENS.finditer(text):
        char = text[match.start()]
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def pruned(value: Any, max_depth: int = MAX_DEPTH) -> Any:
    """`value` with whatever lies deeper than `max_depth` levels replaced by `TOO_DEEP`."""
    if not isinstance(value, dict | list):
        return value
    if max_depth <= 0:
        return TOO_DEEP
    if isinstance(value, dict):
        return {key: pruned(item, max_depth - 1) for key, item in value.items()}
    return [pruned(item, max_depth - 1) for item in value]


def _integer(literal: str) -> int:
    digits = len(literal.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise JsonRefused(
            f"holds an integer of {digits:,} digits; at most {MAX_INT_DIGITS} are accepted "
            "(send long identifiers as strings)",
            limit="integer digits",
        )
    return int(literal)


def _real(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise JsonRefused(
            "holds a number too large to store as a number; send it as a string",
            limit="number size",
        )
    return value


def _constant(name: str) -> Any:
    raise JsonRefused(f"holds {name}, which is not a JSON number; send a number or a string", limit="number")
