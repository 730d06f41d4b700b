"""Reading a batch: a CSV file or a JSON list into numbered rows, or one clear error for the file.

A file-level error (not UTF-8, a UTF-16 file, no header, an unknown or repeated column, a wrong
delimiter, too many rows) refuses the whole batch before anything is stored, and names the row
or column. Row-level problems (a row with more values than the header has columns) are returned
with the row, to be refused alone while the other rows go on.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is row 2.
A UTF-8 byte-order mark (Excel's "CSV UTF-8") is accepted and dropped. The `type` and
`priority` columns are the batch's own (a row's task type and lane); every other column must name
a task field or one of its aliases (`DOB`, `Member ID`, ...), as the keys of `data` do.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from runner.core.errors import InvalidRequest, TooLarge
from sops.dataformat import known_key

BATCH_COLUMNS = ("type", "priority")  # columns of the batch itself, not task fields
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "pipes"}


class BatchFileError(InvalidRequest):
    """The file as a whole cannot be read; nothing of it was stored. `row`/`column` say where."""

    code = "invalid_batch_file"


@dataclass(frozen=True)
class Row:
    number: int  # as a spreadsheet shows it: the header is row 1
    values: dict[str, Any]  # the row's non-empty values under their original column names
    problem: str | None = None  # a reason to refuse this row alone
    text: str | None = None  # a JSON row given as free text (`key: value` lines)


@dataclass
class Rows:
    rows: list[Row] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)


def read_csv(content: bytes, *, max_rows: int) -> Rows:
    """The data rows of a CSV file, or BatchFileError naming what is wrong and where."""
    if content.startswith(_UTF16_BOMS):
        raise BatchFileError(
            "The file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as CSV UTF-8.",
            row=1,
        )
    if content.startswith(_UTF8_BOM):
        content = content[len(_UTF8_BOM) :]
    text = _decode(content)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise BatchFileError(
            f"Line {line} contains a NUL byte: this is not a text CSV file; save it as CSV UTF-8.", line=line
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records = _records(reader)
    header_number, header = next(records, (1, []))
    if not any(cell.strip() for cell in header):
        raise BatchFileError(
            "The file is empty or its first row is blank: the first row must name the columns "
            "(e.g. member_id, patient, date_of_birth, payer).",
            row=1,
        )
    columns = _check_header(header)
    result = Rows(columns=columns)
    for number, record in records:
        if not any(cell.strip() for cell in record):
            continue  # blank lines between rows are common in hand-edited files
        if len(result.rows) == max_rows:
            raise BatchFileError(
                f"The file has more than {max_rows:,} data rows (row {number:,} is past the limit): "
                "split it into several batches.",
                row=number,
                max_rows=max_rows,
            )
        result.rows.append(_row(number, columns, record))
    if not result.rows:
        raise BatchFileError("The file has a header row but no data rows.", row=header_number + 1)
    return result


def read_json_rows(items: Sequence[Any], *, max_rows: int) -> Rows:
    """A JSON list of rows: each an object of fields (checked like CSV columns) or `data` text."""
    if len(items) > max_rows:
        raise BatchFileError(
            f"The list has {len(items):,} rows; at most {max_rows:,} per batch: split it.", max_rows=max_rows
        )
    if not items:
        raise BatchFileError("`rows` is empty: send at least one row.")
    result = Rows()
    for index, item in enumerate(items):
        number = index + 1  # JSON rows are numbered from 1 (there is no header row)
        if isinstance(item, str):
            result.rows.append(Row(number, {}, text=item))
        elif isinstance(item, dict):
            result.rows.append(_json_row(number, item))
        else:
            result.rows.append(Row(number, {}, problem="each row must be a JSON object or a string"))
    return result


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        raise BatchFileError(
            f"The file is not UTF-8: line {line} has the byte {content[exc.start]:#04x}, which UTF-8 "
            "does not allow (the file was probably saved as Windows-1252 or Latin-1). Save it as CSV "
            "UTF-8 and send it again.",
            line=line,
        ) from None


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for every record; a record that cannot be parsed is a file error."""
    number = 0
    while True:
        number += 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise BatchFileError(
                f"Row {number} cannot be read as CSV ({exc}); check its quotes.", row=number
            ) from None
        yield number, record


def _check_header(header: list[str]) -> list[str]:
    columns = [cell.strip() for cell in header]
    if len(columns) == 1:
        only = columns[0]
        for delimiter, name in _DELIMITERS.items():
            if delimiter in only:
                raise BatchFileError(
                    f"The header row is one column, {_short(only)!r}: the file seems to be separated by "
                    f"{name}. Separate the columns with commas (save as CSV, comma-delimited).",
                    row=1,
                    delimiter=delimiter,
                )
    seen: dict[str, tuple[int, str]] = {}
    for position, name in enumerate(columns, start=1):
        if not name:
            raise BatchFileError(f"Column {position} of the header row has no name.", row=1, column=position)
        lowered = name.lower()
        key = lowered if lowered in BATCH_COLUMNS else known_key(name)
        if key is None:
            raise BatchFileError(
                f"Unknown column {_short(name)!r} (column {position}): name task fields such as "
                "member_id, patient, date_of_birth, payer, provider_npi, or their aliases (DOB, Member ID).",
                row=1,
                column=name,
            )
        if key in seen:
            first_position, first = seen[key]
            same = (
                "is repeated"
                if first == name
                else f"and {_short(first)!r} (column {first_position}) both mean {key}"
            )
            raise BatchFileError(
                f"Column {_short(name)!r} (column {position}) {same}: keep one of them.",
                row=1,
                column=name,
            )
        seen[key] = (position, name)
    return columns


def _row(number: int, columns: list[str], record: list[str]) -> Row:
    values = {column: cell.strip() for column, cell in zip(columns, record, strict=False) if cell.strip()}
    extra = [cell for cell in record[len(columns) :] if cell.strip()]
    if extra:
        return Row(
            number,
            values,
            problem=f"the row has {len(record)} values but the header names {len(columns)} columns",
        )
    return Row(number, values)


def _json_row(number: int, item: dict[Any, Any]) -> Row:
    values: dict[str, Any] = {}
    for key, value in item.items():
        name = str(key)
        if name.lower() not in BATCH_COLUMNS and known_key(name) is None:
            return Row(number, {}, problem=f"unknown field {_short(name)!r}")
        if value is not None and value != "":
            values[name] = value  # service lines may come as a list of objects, as in `data`
    return Row(number, values)


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def check_size(size: int, limit: int) -> None:
    if size > limit:
        raise TooLarge(
            f"The batch file is {size / 1_048_576:.1f} MB; at most {limit / 1_048_576:.0f} MB per batch: "
            "split it.",
            max_bytes=limit,
        )
