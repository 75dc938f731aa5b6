"""Bounded JSON: depth counted before parsing, strings ignored, lone surrogates replaced or refused."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.platform import bodies

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\u00e9', max_size=6),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\a', max_size=4), children, max_size=3)
    ),
    max_leaves=20,
)


def nesting(value) -> int:
    if isinstance(value, list):
        return 1 + max(map(nesting, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(nesting, value.values()), default=0)
    return 0


@given(value=json_values)
def test_depth_is_the_nesting_of_the_parsed_value_whatever_the_strings_hold(value):
    assert bodies.depth(json.dumps(value)) == nesting(value)


def test_deeper_than_the_limit_is_refused_before_parsing():
    with pytest.raises(bodies.BodyError) as refused:
        bodies.loads("[" * 10_000 + "]" * 10_000, 64, "refuse")
    assert refused.value.kind == "depth" and "10000" in str(refused.value)
    assert bodies.loads("[" * 64 + "]" * 64, 64, "refuse") is not None


def test_a_limit_above_the_interpreters_recursion_limit_still_gives_a_body_error():
    with pytest.raises(bodies.BodyError) as refused:
        bodies.loads("[" * 100_000 + "]" * 100_000, 1_000_000, "refuse")
    assert refused.value.kind == "depth"


def test_lone_surrogates_are_replaced_or_refused_and_pairs_kept():
    text = '{"a\\udc00": ["x\\ud83d", "\\ud83d\\ude00"]}'
    assert bodies.loads(text, 8, "replace") == {"a\ufffd": ["x\ufffd", "\U0001f600"]}
    with pytest.raises(bodies.BodyError) as refused:
        bodies.loads(text, 8, "refuse")
    assert refused.value.kind == "surrogate"


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", "{", '"\\ud83d'])
def test_invalid_json_is_a_body_error(text):
    with pytest.raises(bodies.BodyError) as refused:
        bodies.loads(text, 8, "replace")
    assert refused.value.kind == "json"
