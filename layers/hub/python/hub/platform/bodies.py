"""Bounded JSON parsing: nesting depth is checked before the parser runs, and text is made storable.

`json.loads` recurses once per nested array/object, so a deep enough body raises RecursionError
(and so would every later walk of the value: pydantic, json.dumps, the DynamoDB serializer). The
depth is counted first, on the text with its strings blanked out (C-speed regex, then one pass over
the brackets only). JSON also allows `\\ud83d`-style escapes of lone surrogates, which no UTF-8
encoder (DynamoDB, SQS, json.dumps to bytes) accepts: `loads` replaces them with U+FFFD or refuses them.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any, Literal

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


class BodyError(ValueError):
    """The body is not acceptable JSON; `kind` says why: 'json', 'depth' or 'surrogate'."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def depth(text: str) -> int:
    """The deepest nesting of arrays/objects in JSON `text` (strings ignored)."""
    steps = (1 if b in "[{" else -1 for b in _BRACKETS.findall(_STRING.sub('""', text)))
    return max(accumulate(steps, initial=0))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _fix(value: Any, replace: bool) -> Any:
    if isinstance(value, str):
        if not _LONE_SURROGATE.search(value):
            return value
        if not replace:
            raise BodyError(
                "surrogate", "text holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not Unicode text"
            )
        return _LONE_SURROGATE.sub(REPLACEMENT, value)
    if isinstance(value, list):
        return [_fix(v, replace) for v in value]
    if isinstance(value, dict):
        return {_fix(k, replace): _fix(v, replace) for k, v in value.items()}
    return value


def loads(text: str, max_depth: int, lone_surrogates: Literal["replace", "refuse"]) -> Any:
    """Parses JSON `text` nested at most `max_depth` deep; NaN/Infinity are refused. Lone surrogates
    (only reachable through `\\uXXXX` escapes) become U+FFFD or a BodyError. Raises BodyError."""
    found = depth(text)
    if found > max_depth:
        raise BodyError("depth", f"JSON nested {found} levels deep; at most {max_depth} are accepted")
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:  # only with a max_depth above the interpreter's recursion limit
        raise BodyError("depth", f"JSON nested too deeply; at most {max_depth} levels are accepted") from None
    except ValueError as error:
        raise BodyError("json", str(error)) from None
    if _SURROGATE_ESCAPE.search(text):
        value = _fix(value, lone_surrogates == "replace")
    return value
