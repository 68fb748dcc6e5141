"""Schemas and helpers shared by every resource: the strict base, pagination, times."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from marshmallow import validate
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from factoryshare.db import MAX_ID

MAX_PAGE_SIZE = 100


class Schema(ma.Schema):
    """Unknown fields are rejected, never ignored (no silent mass assignment)."""

    class Meta:
        unknown = ma.RAISE


def Id(**kwargs: Any) -> ma.fields.Integer:  # noqa: N802  (a field factory reads like a field)
    kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ID))
    kwargs.setdefault("strict", True)
    return ma.fields.Integer(**kwargs)


def Text(max_length: int, *, min_length: int = 0, **kwargs: Any) -> ma.fields.String:  # noqa: N802
    return ma.fields.String(validate=validate.Length(min=min_length, max=max_length), **kwargs)


def Rupiah(**kwargs: Any) -> ma.fields.Integer:  # noqa: N802
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
        if not dt.datetime(1970, 1, 2, tzinfo=dt.timezone.utc) <= result <= dt.datetime(9998, 12, 31, tzinfo=dt.timezone.utc):
            raise ma.ValidationError("Date is out of the supported range.")
        return result


class PageArgs(Schema):
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


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


def paginate(session: Session, stmt: Select[Any], args: dict[str, Any]) -> dict[str, Any]:
    page = args.get("page", 1)
    size = args.get("page_size", 20)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(session.scalars(stmt.limit(size).offset((page - 1) * size)))
    return {"items": items, "page": page, "page_size": size, "total": total}


def strip_page(args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split query args into (filters, pagination)."""
    paging = {k: args[k] for k in ("page", "page_size") if k in args}
    filters = {k: v for k, v in args.items() if k not in ("page", "page_size")}
    return filters, paging
