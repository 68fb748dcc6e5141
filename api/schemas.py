"""Schemas and helpers shared by every resource: the strict base, pagination, times.

Marshmallow's own messages ("Missing data for required field.", "Longer than maximum length
200.") are English; each is listed below with `N_` so that the catalogue holds its Indonesian,
and `api/errors.py` translates them on the way out, fixed ones by their text and those with a
number in them by the template they were made from (`i18n.recognise`). A validator's message
added here later only needs its line below and `make translations`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import marshmallow as ma
from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from marshmallow import validate
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from factoryshare import i18n
from factoryshare.db import MAX_ID
from factoryshare.i18n import N_
from factoryshare.paging import MAX_PAGE_DEPTH, TOTAL_CAP, Page
from factoryshare.validation import text_problem

MAX_PAGE_SIZE = 100


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# Marshmallow's and webargs' default messages (fields, validators, schema), as templates.
MARSHMALLOW_MESSAGES = [
    N_("Missing data for required field."),
    N_("Field may not be null."),
    N_("Invalid input."),
    N_("Invalid input type."),
    N_("Invalid type."),
    N_("Invalid value."),
    N_("Unknown field."),
    N_("Invalid JSON body."),
    N_("Not a valid string."),
    N_("Not a valid utf-8 string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Number too large."),
    N_("Not a valid boolean."),
    N_("Not a valid list."),
    N_("Not a valid tuple."),
    N_("Not a valid mapping type."),
    N_("Not a valid email address."),
    N_("Not a valid URL."),
    N_("Not a valid UUID."),
    N_("Not a valid date."),
    N_("Not a valid time."),
    N_("Not a valid datetime."),
    N_("Not a valid aware datetime."),
    N_("Not a valid naive datetime."),
    N_("Not a valid period of time."),
    N_("Not a valid IP address."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_("String does not match expected pattern."),
    N_("Date is out of the supported range."),
    N_('"%(input)s" cannot be formatted as a date.'),
    N_('"%(input)s" cannot be formatted as a datetime.'),
    N_('"%(input)s" cannot be formatted as a time.'),
    N_("Length must be between %(min)s and %(max)s."),
    N_("Length must be %(equal)s."),
    N_("Longer than maximum length %(max)s."),
    N_("Shorter than minimum length %(min)s."),
    N_("Must be equal to %(other)s."),
    N_("Must be one of: %(choices)s."),
    N_("One or more of the choices you made was not in: %(choices)s."),
    N_("One or more of the choices you made was in: %(values)s."),
    N_("Must be greater than or equal to %(min)s and less than or equal to %(max)s."),
    N_("Must be greater than or equal to %(min)s and less than %(max)s."),
    N_("Must be greater than %(min)s and less than or equal to %(max)s."),
    N_("Must be greater than %(min)s and less than %(max)s."),
    N_("Must be greater than or equal to %(min)s."),
    N_("Must be greater than %(min)s."),
    N_("Must be less than or equal to %(max)s."),
    N_("Must be less than %(max)s."),
]
for _message in MARSHMALLOW_MESSAGES:
    i18n.recognise(_message)


def _storable_text(value: Any) -> None:
    """No NUL byte (PostgreSQL refuses it) and no lone surrogate (not encodable as UTF-8)."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise ma.ValidationError(problem)


def _within_64_bits(field: ma.fields.Field) -> bool:
    return any(
        isinstance(v, validate.Range)
        and v.min is not None
        and v.max is not None
        and v.min >= INT64_MIN
        and v.max <= INT64_MAX
        for v in field.validators
    )


def _bound(field: ma.fields.Field) -> None:
    """Give every text field the storable-text rule and every integer a 64-bit range,
    inside lists, tuples and dicts too (nested schemas bind their own fields)."""
    if isinstance(field, ma.fields.String):
        if _storable_text not in field.validators:
            field.validators.append(_storable_text)
    elif isinstance(field, ma.fields.Integer):
        if not _within_64_bits(field):
            field.validators.append(validate.Range(min=INT64_MIN, max=INT64_MAX))
    elif isinstance(field, ma.fields.List):
        _bound(field.inner)
    elif isinstance(field, ma.fields.Tuple):
        for inner in field.tuple_fields:
            _bound(inner)
    elif isinstance(field, ma.fields.Mapping):
        for inner in (field.key_field, field.value_field):
            if inner is not None:
                _bound(inner)


class Schema(ma.Schema):
    """Unknown fields are rejected, never ignored (no silent mass assignment). Every text
    field refuses NUL bytes and lone surrogates, every integer stays within 64 bits, whatever
    the resource declares, so that no value reaches the database only to be refused there."""

    class Meta:
        unknown = ma.RAISE

    def on_bind_field(self, field_name: str, field_obj: ma.fields.Field) -> None:
        if not field_obj.dump_only:
            _bound(field_obj)


def Id(**kwargs: Any) -> ma.fields.Integer:
    kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ID))
    kwargs.setdefault("strict", True)
    return ma.fields.Integer(**kwargs)


def Text(max_length: int, *, min_length: int = 0, **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(validate=validate.Length(min=min_length, max=max_length), **kwargs)


def Rupiah(**kwargs: Any) -> ma.fields.Integer:
    """Integer rupiah, never a float."""
    kwargs.setdefault("validate", validate.Range(min=0, max=10**15))
    kwargs.setdefault("strict", True)
    return ma.fields.Integer(**kwargs)


class AwareDateTime(ma.fields.AwareDateTime):
    """ISO 8601 with a UTC offset required on input; output carries the offset too."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", "iso")
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dt.datetime:
        result = super()._deserialize(value, attr, data, **kwargs)
        if (
            not dt.datetime(1970, 1, 2, tzinfo=dt.UTC)
            <= result
            <= dt.datetime(9998, 12, 31, tzinfo=dt.UTC)
        ):
            raise ma.ValidationError(N_("Date is out of the supported range."))
        return result


class Words(ma.fields.String):
    """A text for people (a holiday's name, a cancel reason, a note the system wrote), said
    in the reader's language when dumped (factoryshare.i18n.translate); what a person typed
    is shown as typed."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        from api.errors import request_language

        return super()._serialize(i18n.translate(value, request_language()), attr, obj, **kwargs)


class PageArgs(Schema):
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = ma.fields.Integer(
        load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE)
    )


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A list envelope: {"items": [...], "page", "page_size", "total"}."""
    return type(
        name,
        (Schema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema)),
            "page": ma.fields.Integer(),
            "page_size": ma.fields.Integer(),
            "total": ma.fields.Integer(),
        },
    )


class CursorCodec:
    """The opaque `cursor` of one list: a position (factoryshare.paging) as JSON, signed with
    the app's secret under the list's name, so a caller can only hand back a position this
    list gave out; anything else is a 422 naming `cursor`. The position is re-read in the
    caller's scope, so a cursor someone else was given shows nothing of theirs."""

    def __init__(
        self,
        name: str,
        dump: Callable[[tuple[Any, ...]], list[Any]],
        load: Callable[[list[Any]], tuple[Any, ...]],
    ) -> None:
        self.salt = f"factoryshare.cursor.{name}"
        self.dump, self.load = dump, load

    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(current_app.secret_key, salt=self.salt)

    def encode(self, position: tuple[Any, ...] | None) -> str | None:
        return None if position is None else str(self._serializer().dumps(self.dump(position)))

    def decode(self, value: str) -> tuple[Any, ...]:
        try:
            return self.load(self._serializer().loads(value))
        except (BadData, TypeError, ValueError, IndexError):
            raise ma.ValidationError(NOT_A_CURSOR) from None

    def field(self) -> ma.fields.Field:
        return _CursorField(
            self,
            metadata={
                "description": "the `next` of the page before: the page after it, in the "
                "same order (`page` is then ignored)"
            },
        )


NOT_A_CURSOR = N_("Not a cursor this list handed out.")


class _CursorField(ma.fields.String):
    def __init__(self, codec: CursorCodec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.codec = codec

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 500:
            raise ma.ValidationError(NOT_A_CURSOR)
        return self.codec.decode(text)


def aware(value: str) -> dt.datetime:
    """A time a cursor carries (ISO 8601 with its offset)."""
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("naive time in a cursor")
    return moment


def cursor_page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The envelope of a list read by cursor (factoryshare.paging): the page envelope with
    `total` bounded and the cursor of the page after."""
    return type(
        name,
        (Schema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema)),
            "page": ma.fields.Integer(
                allow_none=True, metadata={"description": "null on a page read by cursor"}
            ),
            "page_size": ma.fields.Integer(),
            "total": ma.fields.Integer(
                allow_none=True,
                metadata={
                    "description": f"how many items the list holds, counted up to {TOTAL_CAP:,} "
                    "(see total_capped); counted on a page by number only, null on a page "
                    "read by cursor"
                },
            ),
            "total_capped": ma.fields.Boolean(
                metadata={"description": f"true: more than {TOTAL_CAP:,} items, total is the cap"}
            ),
            "next": ma.fields.String(
                allow_none=True,
                metadata={
                    "description": "pass as `cursor` for the page after this one; null on the "
                    f"last page. A page by number reaches {MAX_PAGE_DEPTH:,} items deep at "
                    "most; a walk by cursor reaches any depth at the cost of the first page"
                },
            ),
        },
    )


def cursor_args(args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split query args into (filters, paging) for a list read by cursor: paging is the
    `page`, `page_size` and `after` (the decoded cursor, or None) its service takes."""
    filters, paging = strip_page(args)
    return filters, {
        "page": paging.get("page", 1),
        "page_size": paging.get("page_size", 20),
        "after": paging.get("cursor"),
    }


def cursor_envelope(page: Page[Any], codec: CursorCodec, paging: dict[str, Any]) -> dict[str, Any]:
    """The envelope of a page read as cursor_args says (`page` null on a page by cursor)."""
    return {
        "items": page.items,
        "page": None if paging["after"] is not None else paging["page"],
        "page_size": paging["page_size"],
        "total": page.total,
        "total_capped": page.total_capped,
        "next": codec.encode(page.next),
    }


def paginate(session: Session, stmt: Select[Any], args: dict[str, Any]) -> dict[str, Any]:
    page = args.get("page", 1)
    size = args.get("page_size", 20)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(session.scalars(stmt.limit(size).offset((page - 1) * size)))
    return {"items": items, "page": page, "page_size": size, "total": total}


def paginate_list(items: Sequence[Any], args: dict[str, Any]) -> dict[str, Any]:
    """The envelope of a list already read whole (a loan's installments, the views a service
    computes): sliced and counted here, the order the service's."""
    page = args.get("page", 1)
    size = args.get("page_size", 20)
    return {
        "items": list(items[(page - 1) * size : page * size]),
        "page": page,
        "page_size": size,
        "total": len(items),
    }


def strip_page(args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split query args into (filters, pagination)."""
    paging = {k: args[k] for k in ("page", "page_size", "cursor") if k in args}
    filters = {k: v for k, v in args.items() if k not in ("page", "page_size", "cursor")}
    return filters, paging
