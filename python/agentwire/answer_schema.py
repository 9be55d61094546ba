"""The JSON Schema subset the gateway checks answers with (docs/protocol.md, "Answer schemas").

A question whose schema leaves the subset would take no answer at all, so ``ask()`` refuses it
before asking, as the TypeScript SDK does (``unsupportedSchema`` in packages/protocol); a test runs
both over the same schemas.
"""

from __future__ import annotations

import math
import re
from typing import Any, Optional, Tuple

_ANNOTATIONS = frozenset(
    [
        "$schema",
        "$id",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
    ]
)
_CHECKED = frozenset(
    """type enum const minLength maxLength pattern minimum maximum exclusiveMinimum exclusiveMaximum
    multipleOf items minItems maxItems uniqueItems properties required additionalProperties
    minProperties maxProperties allOf anyOf oneOf not""".split()
)
_TYPE_NAMES = frozenset(["null", "boolean", "object", "array", "number", "integer", "string"])
_MAX_DEPTH = 32

Issue = Tuple[str, str]


def unsupported_schema(schema: Any, path: str = "", depth: int = 0) -> Optional[Issue]:
    """The first keyword outside the subset (or malformed) as ``(json pointer, message)``, or None."""
    if isinstance(schema, bool):
        return None
    if not isinstance(schema, dict):
        return path, "a schema must be an object or a boolean"
    if depth > _MAX_DEPTH:
        return path, f"schemas nest at most {_MAX_DEPTH} levels"
    for key, value in schema.items():
        at = f"{path}/{_escape(key)}"
        if key in _ANNOTATIONS:
            continue
        if key not in _CHECKED:
            return at, f'the keyword "{key}" is not supported'
        issue = _malformed(key, value, at, depth)
        if issue is not None:
            return issue
    return None


def _malformed(key: str, value: Any, at: str, depth: int) -> Optional[Issue]:
    def bad(what: str) -> Issue:
        return at, f'"{key}" must be {what}'

    if key == "type":
        names = value if isinstance(value, list) else [value]
        ok = len(names) > 0 and all(isinstance(n, str) and n in _TYPE_NAMES for n in names)
        return None if ok else bad("a JSON type name or a list of them")
    if key == "enum":
        return None if isinstance(value, list) else bad("an array")
    if key == "pattern":
        if not isinstance(value, str):
            return bad("a string")
        try:
            re.compile(value)
        except re.error:
            return bad("a valid regular expression")
        return None
    if key in (
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
    ):
        ok = _is_number(value) and float(value).is_integer() and value >= 0
        return None if ok else bad("a non-negative integer")
    if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return None if _is_number(value) else bad("a number")
    if key == "multipleOf":
        return None if _is_number(value) and value > 0 else bad("a positive number")
    if key == "uniqueItems":
        return None if isinstance(value, bool) else bad("a boolean")
    if key == "required":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return None if ok else bad("an array of strings")
    if key in ("items", "additionalProperties", "not"):
        return unsupported_schema(value, at, depth + 1)
    if key == "properties":
        if not isinstance(value, dict):
            return bad("an object")
        for name, sub in value.items():
            issue = unsupported_schema(sub, f"{at}/{_escape(name)}", depth + 1)
            if issue is not None:
                return issue
        return None
    if key in ("allOf", "anyOf", "oneOf"):
        if not isinstance(value, list) or not value:
            return bad("a non-empty array of schemas")
        for i, sub in enumerate(value):
            issue = unsupported_schema(sub, f"{at}/{i}", depth + 1)
            if issue is not None:
                return issue
        return None
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
