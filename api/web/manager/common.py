"""The house in view and the small helpers every manager page shares."""

from __future__ import annotations

import datetime as dt

from flask import request

from api.database import db
from api.web import actor
from factoryshare.access import scoped
from factoryshare.db import utcnow
from factoryshare.errors import NotFound
from factoryshare.i18n import N_
from factoryshare.models import Member, ProductionHouse
from factoryshare.services import (
    calendar,
    houses,
)

# --- the house in view ---------------------------------------------------------------------


def managed_houses() -> list[ProductionHouse]:
    me = actor()
    return [h for h in db().scalars(houses.list_houses(db(), me)) if me.manages(h.id)]


def house_in_view() -> tuple[ProductionHouse, list[ProductionHouse]]:
    """The house chosen with ?house= (the first managed one when none is asked for).

    Houses are readable by everyone through the services, so the page itself refuses one the
    manager does not manage, with the same 404 the API gives for objects out of scope."""
    managed = managed_houses()
    wanted = request.values.get("house")
    if wanted:
        try:
            house_id = int(wanted)
        except ValueError:
            raise NotFound(N_("No such house.")) from None
        for house in managed:
            if house.id == house_id:
                return house, managed
        raise NotFound(N_("No such house."))
    if not managed:
        raise NotFound(N_("Your account manages no house yet."))
    return managed[0], managed


def today(house: ProductionHouse) -> dt.date:
    return utcnow().astimezone(calendar.house_zone(house)).date()


def parse_day(value: str | None, house: ProductionHouse) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else today(house)
    except ValueError:
        return today(house)


def local_midnight(house: ProductionHouse, day: dt.date) -> dt.datetime:
    zone = calendar.house_zone(house)
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


def members_by_id(ids: set[int]) -> dict[int, Member]:
    if not ids:
        return {}
    return {m.id: m for m in db().scalars(scoped(actor(), Member).where(Member.id.in_(ids)))}
