"""sops.jsonlimits: JSON a client sent, read within limits (depth, integer length, finite numbers)."""

from __future__ import annotations

import json

import pytest

from sops import jsonlimits
from sops.errors import JsonRefused


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def test_json_within_the_limits_reads_as_json_does() -> None:
    text = json.dumps({"service_lines": [{"cpt": "99213", "modifiers": ["25"], "units": 1, "charge": 12.5}]})
    assert jsonlimits.loads(text) == json.loads(text)
    assert jsonlimits.loads(nested(jsonlimits.MAX_DEPTH)) == json.loads(nested(jsonlimits.MAX_DEPTH))


@pytest.mark.parametrize(
    ("text", "limit", "words"),
    [
        (nested(jsonlimits.MAX_DEPTH + 1), "depth", "nested more than 32 levels"),
        ('{"member_id": ' + nested(300, "[]") + "}", "depth", "nested more than 32 levels"),
        ("[" * 100_000, "depth", "nested more than 32 levels"),  # refused before any recursion
        ('{"a": ' + "7" * 5_000 + "}", "integer digits", "5,000 digits"),
        ('{"a": -' + "7" * 101 + "}", "integer digits", "101 digits"),
        ('{"a": 1e999}', "number size", "too large"),
        ('{"a": NaN}', "number", "NaN"),
        ('{"a": -Infinity}', "number", "-Infinity"),
    ],
)
def test_json_past_a_limit_is_refused_naming_the_limit(text: str, limit: str, words: str) -> None:
    with pytest.raises(JsonRefused) as caught:
        jsonlimits.loads(text)
    assert caught.value.limit == limit
    assert words in caught.value.message


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"note": "[" * 1000, "quote": 'a \\" [[[[ " {{{{', "end": "]]]]"})
    assert jsonlimits.loads(text)["note"] == "[" * 1000


def test_malformed_json_is_still_a_decode_error() -> None:
    with pytest.raises(json.JSONDecodeError):
        jsonlimits.loads('{"a": 1,')


def test_pruned_cuts_what_lies_deeper_than_the_limit() -> None:
    value = {"a": [[["deep"]]], "b": 1}
    assert jsonlimits.pruned(value, 2) == {"a": [jsonlimits.TOO_DEEP], "b": 1}
    assert jsonlimits.pruned(value, 4) == value
    assert jsonlimits.pruned(json.loads(nested(300)), 32) == json.loads(
        nested(32, f'"{jsonlimits.TOO_DEEP}"')
    )
