"""Reading JSON bodies safely: every body is parsed once, here, before any view sees it.

What Python's `json` lets through or trips over is answered in the one error shape:
- not JSON at all, not UTF-8, `NaN`/`Infinity`, or nested deeper than `MAX_DEPTH`
  (100,000 brackets would raise RecursionError): 400 `invalid_json`;
- a number of more than `MAX_DIGITS` digits (Python refuses to parse 4,300 or more; no field
  of this API holds more than 64 bits), a NUL byte or a lone surrogate anywhere in the body:
  422 `validation_failed`, naming the field the way marshmallow does
  (`{"routing": {"0": {"minutes_per_unit": ["..."]}}}`).

`SafeJSONProvider` makes `request.get_json()` use the same rules; `check_json_body` is the
`before_request` hook that applies them to every request with a JSON content type.
`IdConverter` bounds the `<int:...>` ids of paths the same way.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Response, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter, ValidationError

from api.errors import error_response
from factoryshare.db import MAX_ID
from factoryshare.i18n import N_
from factoryshare.validation import text_problem

MAX_DEPTH = 64
MAX_DIGITS = 40  # 2**63 has 19 digits; 40 leaves room for any honest number
TOO_MANY_DIGITS = N_("This number has too many digits.")
NOT_FINITE = N_("This number is too large.")


class InvalidJSON(ValueError):
    """The body cannot be read as JSON; `reason` says why, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Refused:
    """A number read from the body that no field can take; reported with its field."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def _parse_int(text: str) -> int | _Refused:
    if len(text) > MAX_DIGITS:
        return _Refused(TOO_MANY_DIGITS)
    return int(text)


def _parse_float(text: str) -> float | _Refused:
    if len(text) > 2 * MAX_DIGITS:
        return _Refused(TOO_MANY_DIGITS)
    value = float(text)
    return value if math.isfinite(value) else _Refused(NOT_FINITE)


def _parse_constant(name: str) -> Any:
    raise InvalidJSON(N_("%(name)s is not a JSON value.", name=name))


def _decode(data: str | bytes | bytearray) -> str:
    if isinstance(data, str):
        return data
    try:
        return bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidJSON(N_("The body is not UTF-8 (byte %(start)s).", start=exc.start)) from None


def _raw_loads(text: str) -> Any:
    try:
        return json.loads(
            text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
        )
    except RecursionError:
        raise InvalidJSON(
            N_("The body is nested deeper than %(max_depth)s levels.", max_depth=MAX_DEPTH)
        ) from None
    except json.JSONDecodeError as exc:
        raise InvalidJSON(
            N_(
                "The body is not valid JSON: %(msg)s at line %(lineno)s, column %(colno)s.",
                msg=exc.msg,
                lineno=exc.lineno,
                colno=exc.colno,
            )
        ) from None


def _key_label(key: str) -> str:
    """A key fit to be echoed back (its NUL bytes and lone surrogates escaped)."""
    return key.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")


def problems(value: Any) -> dict[str, Any]:
    """Refused numbers, NUL bytes and lone surrogates in a parsed body, by field path.

    Raises InvalidJSON when the value nests deeper than MAX_DEPTH. Iterative, so that no
    body can exhaust the stack.
    """
    found: dict[str, Any] = {}
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if len(path) > MAX_DEPTH:
            raise InvalidJSON(
                N_("The body is nested deeper than %(max_depth)s levels.", max_depth=MAX_DEPTH)
            )
        message: str | None = None
        if isinstance(item, _Refused):
            message = item.message
        elif isinstance(item, str):
            message = text_problem(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                key_problem = text_problem(key)
                if key_problem is not None:
                    _put(found, (*path, _key_label(key)), key_problem)
                else:
                    stack.append((child, (*path, key)))
        elif isinstance(item, list):
            stack.extend((child, (*path, str(index))) for index, child in enumerate(item))
        if message is not None:
            _put(found, path or ("_schema",), message)
    return found


def _put(errors: dict[str, Any], path: tuple[str, ...], message: str) -> None:
    node = errors
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    messages = node.setdefault(path[-1], [])
    if isinstance(messages, list) and message not in messages:
        messages.append(message)


def loads(data: str | bytes | bytearray) -> Any:
    """Parse a body by the rules above; raises InvalidJSON or BodyRefused."""
    value = _raw_loads(_decode(data))
    found = problems(value)
    if found:
        raise BodyRefused(found)
    return value


class BodyRefused(ValueError):
    """The body is JSON, but some field holds what no field may hold."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__("Some fields are invalid.")
        self.errors = errors


class SafeJSONProvider(DefaultJSONProvider):
    """`request.get_json()` and `flask.json.loads` by the rules of this module."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if kwargs:
            return super().loads(s, **kwargs)
        return loads(s)


def check_json_body() -> Response | None:
    """before_request: refuse a JSON body that breaks the rules, before auth or any view."""
    if not request.is_json:
        return None
    data = request.get_data(cache=True)
    if not data.strip():
        return None
    try:
        loads(data)
    except InvalidJSON as exc:
        return error_response(400, "invalid_json", exc.reason)
    except BodyRefused as exc:
        return error_response(422, "validation_failed", N_("Some fields are invalid."), exc.errors)
    return None


class IdConverter(IntegerConverter):
    """`<int:...>` in a path: 0 to 2**63 - 1 (a BIGINT), else the route does not match (404).
    More digits than a BIGINT has are refused before Python parses them."""

    def __init__(
        self,
        map: Any,
        fixed_digits: int = 0,
        min: int | None = 0,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> Any:
        if len(value.lstrip("-")) > len(str(MAX_ID)):
            raise ValidationError()
        return super().to_python(value)
