"""Property tests: parsing and checking arbitrary text never fails with anything unexpected."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from sops.dataformat import parse_data
from sops.errors import DataFormatError
from sops.inputs import check_inputs
from sops.types import TaskType
from tests.unit.sops.support import TODAY

KEYS = st.sampled_from(
    [
        "member",
        "DOB",
        "patient",
        "dx",
        "service line",
        "service_line_1_cpt",
        "procedure",
        "charge",
        "NPI",
        "total",
        "clinical notes",
        "diagnosis_2",
        "x",
        "",
    ]
)
LINES = st.builds(
    lambda key, sep, value: f"{key}{sep}{value}",
    KEYS,
    st.sampled_from([":", ": ", "=", " "]),
    st.text(max_size=40),
)
DATA_TEXT = st.one_of(st.text(max_size=300), st.lists(LINES, max_size=12).map("\n".join))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, database=None)
@given(DATA_TEXT)
def test_parse_data_raises_only_data_format_error(text: str) -> None:
    try:
        raw = parse_data(text)
    except DataFormatError:
        return
    json.dumps(raw)  # raw values are JSON-serialisable


@settings(max_examples=150, deadline=None, database=None)
@given(DATA_TEXT, st.sampled_from(list(TaskType)))
def test_check_inputs_never_raises_on_parsed_text(text: str, task_type: TaskType) -> None:
    try:
        raw = parse_data(text)
    except DataFormatError:
        return
    checked = check_inputs(task_type, raw, today=TODAY)
    assert checked.ok or checked.note
    json.dumps(checked.fields)


@settings(max_examples=150, deadline=None, database=None)
@given(st.dictionaries(KEYS | st.text(max_size=15), JSON_VALUES, max_size=8), st.sampled_from(list(TaskType)))
def test_check_inputs_never_raises_on_arbitrary_json(data: dict[str, object], task_type: TaskType) -> None:
    try:
        raw = parse_data(json.dumps(data))
    except DataFormatError:
        return
    checked = check_inputs(task_type, raw, today=TODAY)
    assert checked.ok or checked.note
