"""Reference data: permit types, the requirements that name them, managers' overrides."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from factoryshare import audit
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.db import utcnow
from factoryshare.errors import Conflict, Forbidden, NotFound
from factoryshare.i18n import N_
from factoryshare.models import Member, Product, Role
from factoryshare.models.permits import (
    Expiry,
    PermitLevel,
    PermitOverride,
    PermitRequirement,
    PermitType,
)
from factoryshare.services.permits.core import fail, house_of

# -- permit types and requirements (reference data) -------------------------------------------

TYPE_FIELDS = (
    "code",
    "name",
    "level",
    "expiry",
    "validity_years",
    "renewal_window_days",
    "grace_days",
    "issuer",
    "note",
)
REQUIREMENT_FIELDS = ("sector", "kind", "product_id", "unless_family", "one_of", "note")


def list_types(session: Session, actor: Actor) -> Select[PermitType]:
    return select(PermitType).order_by(PermitType.code, PermitType.id)


def _type_values(data: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in data.items() if k in TYPE_FIELDS}
    for field, enum in (("level", PermitLevel), ("expiry", Expiry)):
        if field in values:
            try:
                values[field] = enum(values[field])
            except ValueError:
                raise fail(
                    field, N_("Choose one of: %(value)s.", value=", ".join(e.value for e in enum))
                ) from None
    if "code" in values and not re.fullmatch(r"[a-z][a-z0-9_]{1,19}", str(values["code"])):
        raise fail("code", N_("A code is 2 to 20 lower-case letters, digits or underscores."))
    return values


def create_type(session: Session, actor: Actor, data: dict[str, Any]) -> PermitType:
    actor.require(Role.admin)
    values = _type_values(data)
    if session.scalar(select(PermitType.id).where(PermitType.code == values["code"])) is not None:
        raise Conflict(
            N_("A permit type with this code exists."),
            code="duplicate_permit_type",
            errors={"code": [N_("Already used.")]},
        )
    ptype = PermitType(**values)
    session.add(ptype)
    session.flush()
    audit.record(session, actor, "permit_type.created", ptype, after=audit.snapshot(ptype))
    return ptype


def get_type(session: Session, actor: Actor, type_id: int) -> PermitType:
    ptype = session.get(PermitType, type_id) if 0 < type_id <= 2**63 - 1 else None
    if ptype is None:
        raise NotFound(N_("Permit type %(type_id)s was not found.", type_id=type_id))
    return ptype


def update_type(session: Session, actor: Actor, type_id: int, data: dict[str, Any]) -> PermitType:
    actor.require(Role.admin)
    ptype = get_type(session, actor, type_id)
    values = _type_values(data)
    values.pop("code", None)  # codes are what rules and numbers refer to
    before = audit.snapshot(ptype)
    for key, value in values.items():
        setattr(ptype, key, value)
    session.flush()
    audit.record(
        session, actor, "permit_type.updated", ptype, before=before, after=audit.snapshot(ptype)
    )
    return ptype


def list_requirements(session: Session, actor: Actor) -> Select[PermitRequirement]:
    return (
        select(PermitRequirement)
        .options(joinedload(PermitRequirement.permit_type))
        .order_by(PermitRequirement.one_of, PermitRequirement.id)
    )


def _requirement_values(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in data.items() if k in REQUIREMENT_FIELDS}
    if "permit_type" in data:
        ptype = session.scalars(
            select(PermitType).where(PermitType.code == data["permit_type"])
        ).first()
        if ptype is None:
            raise fail(
                "permit_type",
                N_(
                    "No permit type is called %(permit_type)s.",
                    permit_type=repr(data["permit_type"]),
                ),
            )
        values["permit_type_id"] = ptype.id
    if values.get("product_id") is not None and session.get(Product, values["product_id"]) is None:
        raise fail("product_id", N_("Unknown product."))
    return values


def create_requirement(session: Session, actor: Actor, data: dict[str, Any]) -> PermitRequirement:
    actor.require(Role.admin)
    values = _requirement_values(session, data)
    if "permit_type_id" not in values:
        raise fail("permit_type", N_("Required."))
    values.setdefault("one_of", data["permit_type"])
    row = PermitRequirement(**values)
    session.add(row)
    session.flush()
    audit.record(session, actor, "permit_requirement.created", row, after=audit.snapshot(row))
    return row


def get_requirement(session: Session, actor: Actor, requirement_id: int) -> PermitRequirement:
    row = (
        session.get(PermitRequirement, requirement_id) if 0 < requirement_id <= 2**63 - 1 else None
    )
    if row is None:
        raise NotFound(
            N_(
                "Permit requirement %(requirement_id)s was not found.",
                requirement_id=requirement_id,
            )
        )
    return row


def update_requirement(
    session: Session, actor: Actor, requirement_id: int, data: dict[str, Any]
) -> PermitRequirement:
    actor.require(Role.admin)
    row = get_requirement(session, actor, requirement_id)
    values = _requirement_values(session, data)
    before = audit.snapshot(row)
    for key, value in values.items():
        setattr(row, key, value)
    session.flush()
    audit.record(
        session, actor, "permit_requirement.updated", row, before=before, after=audit.snapshot(row)
    )
    return row


def delete_requirement(session: Session, actor: Actor, requirement_id: int) -> None:
    actor.require(Role.admin)
    row = get_requirement(session, actor, requirement_id)
    before = audit.snapshot(row)
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor,
        "permit_requirement.deleted",
        object_type="permit_requirements",
        object_id=requirement_id,
        before=before,
    )


# -- overrides --------------------------------------------------------------------------------


def create_override(
    session: Session, actor: Actor, data: dict[str, Any], now: dt.datetime | None = None
) -> PermitOverride:
    actor.require(Role.admin, Role.manager)
    product = get_scoped(session, actor, Product, data["product_id"])
    member = session.get(Member, product.member_id)
    assert member is not None
    if not actor.manages(member.house_id):
        raise Forbidden(N_("Only a manager of the member's house may override its permits."))
    reason = (data.get("reason") or "").strip()
    if len(reason) < 5:
        raise fail("reason", N_("Say why production may go ahead without the permit."))
    now = now or utcnow()
    valid_from = data.get("valid_from") or now
    until = data["until"]
    for field, value in (("valid_from", valid_from), ("until", until)):
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise fail(field, N_("Give a date and time with a time zone."))
    if until <= valid_from:
        raise fail("until", N_("Must be after the start of the override."))
    override = PermitOverride(
        product_id=product.id,
        manager_id=actor.user_id,
        reason=reason,
        valid_from=valid_from,
        valid_until=until,
        revoked=False,
    )
    session.add(override)
    session.flush()
    audit.record(
        session, actor, "permit_override.created", override, after=audit.snapshot(override)
    )
    return override


def list_overrides(
    session: Session, actor: Actor, *, product_id: int | None = None
) -> Select[tuple[PermitOverride]]:
    """Overrides in scope (of one product if given), by id."""
    stmt = scoped(actor, PermitOverride)
    if product_id is not None:
        stmt = stmt.where(PermitOverride.product_id == product_id)
    return stmt.order_by(PermitOverride.id)


def revoke_override(session: Session, actor: Actor, override_id: int) -> PermitOverride:
    actor.require(Role.admin, Role.manager)
    override = get_scoped(session, actor, PermitOverride, override_id)
    product = session.get(Product, override.product_id)
    assert product is not None
    if not actor.manages(house_of(session, product.member_id).id):
        raise Forbidden(N_("Only a manager of the member's house may revoke this override."))
    before = audit.snapshot(override)
    override.revoked = True
    session.flush()
    audit.record(
        session,
        actor,
        "permit_override.revoked",
        override,
        before=before,
        after=audit.snapshot(override),
    )
    return override
