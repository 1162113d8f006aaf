"""The strict JSON reader of request bodies: quick for ordinary bodies, exact for the rest."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.api.bodies import MAX_DEPTH, StrictJSONError, loads

# what a body may hold: finite numbers, 64-bit integers, text without NUL or lone surrogates
texts = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
                max_size=20)
documents = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(documents, st.booleans())
def test_every_usable_document_reads_as_the_standard_library_reads_it(
        document: Any, ascii_only: bool) -> None:
    text = json.dumps(document, ensure_ascii=ascii_only)
    assert loads(text.encode()) == json.loads(text)


@pytest.mark.parametrize("body", [
    '{"x": 9223372036854775808}',
    '{"x": -9223372036854775809}',
    '{"x": 18446744073709551616}',
    '{"x": 1e400}',
    '{"x": -Infinity}',
    '{"x": "\\u0000"}',
    '{"x\\ud800": 1}',
    "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2),
])
def test_what_cannot_be_stored_is_refused(body: str) -> None:
    with pytest.raises(StrictJSONError):
        loads(body.encode())


def test_long_runs_of_digits_in_text_are_fine() -> None:
    body = '{"account": "6222020200112233445566", "n": 9223372036854775807}'
    assert loads(body.encode()) == {"account": "6222020200112233445566",
                                    "n": 9223372036854775807}


def test_answers_are_compact_utf8_in_the_order_given(app: Flask) -> None:
    with app.app_context():
        answer = app.json.response({"名称": "补贴", "b": 1, "a": [1.5, None, Decimal("2.50")]})

    assert answer.get_data() == '{"名称":"补贴","b":1,"a":[1.5,null,"2.50"]}\n'.encode()


def test_answers_beyond_what_orjson_writes_are_compact_too(app: Flask) -> None:
    with app.app_context():
        answer = app.json.response({"a": [1, 2], "n": 2**70})

    assert answer.get_data() == b'{"a":[1,2],"n":1180591620717411303424}\n'
