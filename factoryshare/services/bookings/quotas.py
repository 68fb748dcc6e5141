"""A house's weekly booking quotas per capability: read and replaced by its manager (the
check against them is checks.check_slot's).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from factoryshare import audit
from factoryshare.access import Actor, get_scoped
from factoryshare.errors import Forbidden, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import Capability, ProductionHouse, Role
from factoryshare.models.bookings import BookingQuota


def house_quotas(session: Session, actor: Actor, house_id: int) -> list[BookingQuota]:
    house = get_scoped(session, actor, ProductionHouse, house_id)
    return list(
        session.scalars(
            select(BookingQuota)
            .where(BookingQuota.house_id == house.id)
            .order_by(BookingQuota.id)
            .options(selectinload(BookingQuota.capability))
        )
    )


def replace_quotas(
    session: Session, actor: Actor, house_id: int, quotas: list[dict[str, Any]]
) -> list[BookingQuota]:
    """Replace a house's weekly quotas: [{"capability": code, "hours_per_week": n}, ...]."""
    actor.require(Role.manager, Role.admin)
    house = get_scoped(session, actor, ProductionHouse, house_id)
    if not actor.manages(house.id):
        raise Forbidden(N_("Only the house's managers may set its quotas."))
    wanted: dict[int, int] = {}
    for i, item in enumerate(quotas):
        cap = session.scalars(
            select(Capability).where(Capability.code == item["capability"])
        ).first()
        if cap is None:
            raise ValidationFailed(
                N_("Unknown capability."),
                errors={f"quotas[{i}].capability": [N_("Unknown capability.")]},
            )
        if cap.id in wanted:
            raise ValidationFailed(
                N_("Each capability at most once."),
                errors={f"quotas[{i}].capability": [N_("Given twice.")]},
            )
        wanted[cap.id] = item["hours_per_week"]
    before = [
        {"capability_id": q.capability_id, "hours_per_week": q.hours_per_week}
        for q in house_quotas(session, actor, house.id)
    ]
    for q in house_quotas(session, actor, house.id):
        session.delete(q)
    session.flush()
    for cap_id, hours in wanted.items():
        session.add(BookingQuota(house_id=house.id, capability_id=cap_id, hours_per_week=hours))
    session.flush()
    audit.record(
        session,
        actor,
        "booking_quotas.replaced",
        object_type="production_houses",
        object_id=house.id,
        before={"quotas": before},
        after={"quotas": [{"capability_id": c, "hours_per_week": h} for c, h in wanted.items()]},
    )
    return house_quotas(session, actor, house.id)
