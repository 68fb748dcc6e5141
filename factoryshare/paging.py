"""Bounded pages of the lists that grow without end (bookings, the audit trail).

A list is read either by page number or after a position (keyset): the position is the sort
key of the last item a caller saw, and the next page is the index range right after it, so a
page a million items deep costs what the first one costs. Reading by page number stays, for
the first pages, but bounded so that no request walks or counts a whole table:

- `total` counts at most TOTAL_CAP items (`total_capped` says there are more), and only on a
  page read by number; a page read after a position does not count at all;
- a page by number reaches at most MAX_PAGE_DEPTH items deep (OFFSET reads every item it
  skips); further on, a caller follows the position every page hands out (`next`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session

from factoryshare.errors import ValidationFailed
from factoryshare.i18n import N_

T = TypeVar("T")

TOTAL_CAP = 10_000
MAX_PAGE_DEPTH = 100_000


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    # How many items the list holds, at most TOTAL_CAP; None on a page read after a position.
    total: int | None
    total_capped: bool
    # The position after the last item when more items follow, else None.
    next: tuple[Any, ...] | None


def check_depth(page: int, page_size: int) -> int:
    """The OFFSET of a page by number, refused beyond MAX_PAGE_DEPTH items."""
    offset = (page - 1) * page_size
    if offset + page_size > MAX_PAGE_DEPTH:
        raise ValidationFailed(
            N_("A page by number reaches at most %(depth)s items deep.", depth=MAX_PAGE_DEPTH),
            errors={
                "page": [
                    N_(
                        "Too deep for a page number: follow the cursor in `next` instead.",
                    )
                ]
            },
        )
    return offset


def capped_count(key: Any, stmt: Select[Any], cap: int | None = None) -> Any:
    """A scalar subquery: how many rows `stmt` selects, counting at most cap + 1 of them
    (TOTAL_CAP + 1 unless told; reading `key` only, in no order)."""
    cap = TOTAL_CAP if cap is None else cap
    limited = stmt.with_only_columns(key).order_by(None).limit(cap + 1).subquery()
    return select(func.count()).select_from(limited).scalar_subquery()


def capped_total(counted: int) -> tuple[int, bool]:
    """`total` and `total_capped` from a capped_count."""
    return min(counted, TOTAL_CAP), counted > TOTAL_CAP


def keyset_page(
    session: Session,
    stmt: Select[Any],
    keys: tuple[Any, ...],
    *,
    descending: bool,
    page: int = 1,
    page_size: int = 20,
    after: tuple[Any, ...] | None = None,
) -> Page[Any]:
    """One page of `stmt` ordered by `keys` (all one way, the last one unique), by page number
    or after a position. A page after a position is one statement reading page_size + 1 rows
    of the index on `keys`; a page by number adds the capped count."""
    order = [k.desc() if descending else k.asc() for k in keys]
    stmt = stmt.order_by(None).order_by(*order)
    total: int | None = None
    capped = False
    if after is not None:
        row = tuple_(*keys)
        stmt = stmt.where(row < tuple_(*after) if descending else row > tuple_(*after))
    else:
        offset = check_depth(page, page_size)
        counted = int(session.scalar(select(capped_count(keys[-1], stmt))) or 0)
        total, capped = capped_total(counted)
        stmt = stmt.offset(offset)
    rows = list(session.scalars(stmt.limit(page_size + 1)))
    items = rows[:page_size]
    more = len(rows) > page_size
    last = items[-1] if items else None
    position = tuple(getattr(last, k.key) for k in keys) if more and last is not None else None
    return Page(items, total, capped, position)
