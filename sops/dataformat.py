"""Reading a task's free-text `data` into a raw mapping keyed by canonical field names.

Two forms are accepted (the full description with examples is in `sops/README.md`):

* `key: value` lines. Keys are case-insensitive, spaces/underscores/hyphens are equivalent and
  aliases apply (`DOB`, `member`, `NPI`, ...). Diagnoses may be comma-separated and/or repeated;
  each `service line:` (or `procedure:`) line holds comma-separated `key=value` pairs; indexed keys
  (`service_line_2_cpt`, `diagnosis_3`) work too. List bullets (`-`, `*`, `1.`) are ignored and
  lines starting with `#` are comments; a line that is not `key: value` continues the clinical
  notes / appeal reason above it, or is kept under `unparsed`.
* A JSON object (text starting with `{`), whose keys go through the same aliases, read within
  the limits of `sops.jsonlimits` (nesting depth, integer length, finite numbers).

Values stay raw (strings, lists, dicts): typing and validation are `sops.inputs`' job. Unknown
keys are kept under their normalised name so nothing the client sent is lost. Work is linear in the
length of the text, which is capped at `MAX_DATA_CHARS`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from sops import jsonlimits
from sops.aliases import KNOWN_KEYS, LINE_ALIASES, PATIENT_NAME, canonical_key, normalise_key
from sops.errors import DataFormatError, JsonRefused
from sops.fields import FIELDS, Kind

MAX_DATA_CHARS = 500_000
UNPARSED = "unparsed"  # lines that are neither `key: value` nor a continuation
LONG_TEXT = frozenset({"clinical_notes", "reason_text"})  # fields that may run over several lines

_FORBIDDEN = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff]")
_KEY_LINE = re.compile(r"^\s*([^\W\d_][\w .#()'/-]{0,62}?)\s*:(.*)$")
_PAIR = re.compile(r"^\s*([^\W\d_][\w .#/-]{0,40}?)\s*[=:](.*)$")
_INDEXED_LINE = re.compile(r"^(service_lines?|lines?|line_item|procedures?|procedure_line)_?(\d{1,2})_(.+)$")
_INDEXED_DX = re.compile(
    r"^(?:diagnos[ie]s(?:_codes?)?|diagnosis_codes?|dx|icd(?:_?10)?(?:_codes?)?)_?(\d{1,2})$"
)
_CODE_SPLIT = re.compile(r"[,;\s]+")
_BULLET = re.compile(r"^(?:[-*\u2022]|\d{1,2}[.)])\s+")  # "- member: ...", "2) DOB: ..."
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})


def parse_data(text: str) -> dict[str, Any]:
    """Free-text `key: value` lines or a JSON object -> canonical raw mapping (see module doc)."""
    if not isinstance(text, str):
        raise DataFormatError("data must be text")
    if len(text) > MAX_DATA_CHARS:
        raise DataFormatError(f"data is too long ({len(text):,} characters; at most {MAX_DATA_CHARS:,})")
    bad = _FORBIDDEN.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise DataFormatError(
            f"data contains a non-printable character (code {ord(bad.group()):#06x}) on line {line}; "
            "send plain text or a JSON object"
        )
    text = _INVISIBLE.sub("", _SPACES.sub(" ", text))
    collector = _Collector()
    if text.lstrip().startswith("{"):
        for key, value in _json_object(text).items():
            collector.add(str(key), value)
    else:
        _read_lines(text, collector)
    return collector.result()


def merge_raw(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """`new` replaces `old` field by field (a list field is replaced whole); `None`/"" clears one."""
    merged = dict(old)
    for key, value in new.items():
        if value is None or value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _json_object(text: str) -> dict[Any, Any]:
    try:
        value = jsonlimits.loads(text)
    except JsonRefused as exc:
        raise DataFormatError(f"its JSON object {exc.message}") from None
    except json.JSONDecodeError as exc:
        raise DataFormatError(
            f"data starts with '{{' but is not a valid JSON object ({exc.msg} at line {exc.lineno}, "
            f"column {exc.colno})"
        ) from None
    except (RecursionError, ValueError):
        raise DataFormatError("data starts with '{' but is not a JSON object this service can read") from None
    if not isinstance(value, dict):
        raise DataFormatError("data starts with '{' but is not a JSON object")
    return value


def _read_lines(text: str, collector: _Collector) -> None:
    long_key: str | None = None  # a LONG_TEXT field that plain lines continue
    for raw_line in text.splitlines():
        line = _BULLET.sub("", raw_line.strip(), count=1)
        if not line or line.startswith("#"):
            continue
        match = _KEY_LINE.match(line)
        key = canonical_key(match.group(1)) if match else ""
        # Inside clinical notes, "Patient reports: pain" is prose; only a known key ends the notes.
        if match and (long_key is None or _is_known(key)):
            collector.add(key, match.group(2).strip())
            long_key = key if key in LONG_TEXT else None
        elif long_key is not None:
            collector.continue_text(long_key, line)
        else:
            collector.add(UNPARSED, line)


def _is_known(key: str) -> bool:
    return key in KNOWN_KEYS or bool(_INDEXED_LINE.match(key) or _INDEXED_DX.match(key))


def known_key(key: str) -> str | None:
    """The canonical field a client's key (a CSV column) names, or None if it names none."""
    canonical = canonical_key(key)
    return canonical if _is_known(canonical) else None


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip()
    return value


def _line_record(value: Any) -> Any:
    """`cpt=99213, units=1, charge=$1,250.00` -> {"procedure_code": "99213", ...}; dicts are re-keyed."""
    if isinstance(value, dict):
        return {LINE_ALIASES.get(normalise_key(str(k)), normalise_key(str(k))): v for k, v in value.items()}
    if not isinstance(value, str):
        return value
    record: dict[str, str] = {}
    last: str | None = None
    for piece in value.split(","):
        match = _PAIR.match(piece)
        if match:
            last = LINE_ALIASES.get(normalise_key(match.group(1)), normalise_key(match.group(1)))
            given = _unquote(match.group(2))
            record[last] = f"{record[last]},{given}" if last in record else given
        elif last is not None:
            record[last] = f"{record[last]},{piece.strip()}"
        elif piece.strip():
            last = "procedure_code"
            record[last] = piece.strip()
    return record


def _split_name(full: str) -> tuple[str | None, str | None]:
    if "," in full:
        last, _, first = full.partition(",")
        return first.strip() or None, last.strip() or None
    words = full.split()
    if not words:
        return None, None
    if len(words) >= 3 and words[-1].lower() in _SUFFIXES:
        words = [*words[:-2], f"{words[-2]} {words[-1]}"]
    if len(words) == 1:
        return None, words[0]
    return " ".join(words[:-1]), words[-1]


def _name_parts(value: dict[Any, Any]) -> tuple[Any, Any]:
    """JSON `{"first": "Jane", "last": "Doe"}` (any first/last name alias) -> (first, last)."""
    parts = {canonical_key(str(key)).removeprefix("patient_"): part for key, part in value.items()}
    return parts.get("first_name", parts.get("first")), parts.get("last_name", parts.get("last"))


class _Collector:
    """Accumulates values per canonical key: lists grow, repeated different scalars become a list."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.indexed_lines: dict[tuple[str, int], dict[str, Any]] = {}
        self.indexed_dx: dict[int, Any] = {}

    def add(self, key: str, value: Any) -> None:
        key = canonical_key(key)
        if isinstance(value, str):
            value = _unquote(value)
            if not value and key not in FIELDS:
                return
        if value is None or value == "":
            if key in LONG_TEXT:
                self.values.setdefault(key, "")
            return
        kind = FIELDS[key].kind if key in FIELDS else None
        if kind is Kind.LINES:
            items = value if isinstance(value, list) else [value]
            self.values.setdefault(key, []).extend(_line_record(item) for item in items)
        elif kind is Kind.CODES:
            items = value if isinstance(value, list) else [value]
            codes = self.values.setdefault(key, [])
            for item in items:
                codes.extend(_CODE_SPLIT.split(item.strip()) if isinstance(item, str) else [item])
            codes[:] = [code for code in codes if code != ""]
        elif key == PATIENT_NAME and isinstance(value, str | dict):
            first, last = _split_name(value) if isinstance(value, str) else _name_parts(value)
            self.values.setdefault("_name_first", first)
            self.values.setdefault("_name_last", last)
        elif key == UNPARSED:
            self.values.setdefault(UNPARSED, []).append(value)
        elif (line := _INDEXED_LINE.match(key)) is not None:
            target = "procedures" if line.group(1).startswith("procedure") else "service_lines"
            sub = LINE_ALIASES.get(line.group(3), line.group(3))
            self.indexed_lines.setdefault((target, int(line.group(2))), {})[sub] = value
        elif (dx := _INDEXED_DX.match(key)) is not None:
            self.indexed_dx[int(dx.group(1))] = value
        elif key in self.values:
            previous = self.values[key]
            given = previous if isinstance(previous, list) else [previous]
            if value not in given:
                self.values[key] = [*given, value]
        else:
            self.values[key] = value

    def continue_text(self, key: str, line: str) -> None:
        current = self.values.get(key)
        self.values[key] = f"{current}\n{line}" if isinstance(current, str) and current else line

    def result(self) -> dict[str, Any]:
        values = self.values
        first, last = values.pop("_name_first", None), values.pop("_name_last", None)
        if first and "patient_first_name" not in values:
            values["patient_first_name"] = first
        if last and "patient_last_name" not in values:
            values["patient_last_name"] = last
        for (target, _), record in sorted(self.indexed_lines.items()):
            values.setdefault(target, []).append(record)
        if self.indexed_dx:
            self.add("diagnosis_codes", [code for _, code in sorted(self.indexed_dx.items())])
        return {key: value for key, value in values.items() if value != ""}
