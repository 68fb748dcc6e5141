"""Member businesses (UMKM): registration by a house's manager, reading, updating.

Managers (and admins) register and edit members of their houses; a member user edits its
own contact fields only. The owner's NIK is personal data: only admins and the managers of
the member's house see it in full, everyone else a masked form.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from factoryshare import audit, validation
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.db import contains_pattern
from factoryshare.errors import Conflict, Forbidden, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import Member, ProductionHouse, Role, Sector

CONTACT_FIELDS = ("phone", "email", "address")
BUSINESS_FIELDS = (
    "business_name",
    "nib",
    "owner_name",
    "owner_nik",
    "npwp",
    "sector",
    "annual_turnover",
)


def mask_nik(nik: str) -> str:
    """`3205101205850001` -> `3205**********01`."""
    if len(nik) < 6:
        return "*" * len(nik)
    return nik[:4] + "*" * (len(nik) - 6) + nik[-2:]


def sees_full_nik(actor: Actor, member: Member) -> bool:
    return actor.is_admin or actor.manages(member.house_id)


def displayed_nik(actor: Actor, member: Member) -> str:
    return member.owner_nik if sees_full_nik(actor, member) else mask_nik(member.owner_nik)


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    """Validate identity numbers and the phone; collect every problem at once."""
    out = dict(data)
    errors: dict[str, list[str]] = {}
    checks = {
        "nib": validation.nib,
        "owner_nik": validation.nik,
        "npwp": validation.npwp,
        "phone": validation.phone,
    }
    for field, check in checks.items():
        value = out.get(field)
        if value is None or (field in ("npwp", "phone") and value == ""):
            if field == "npwp" and field in out:
                out[field] = None
            continue
        try:
            out[field] = check(value, field)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if "sector" in out and not isinstance(out["sector"], Sector):
        try:
            out["sector"] = Sector(out["sector"])
        except ValueError:
            errors["sector"] = [
                N_("Choose one of: %(value)s.", value=", ".join(s.value for s in Sector))
            ]
    for field in ("business_name", "owner_name"):
        if field in out and not str(out[field]).strip():
            errors[field] = [N_("This may not be blank.")]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, errors=errors)
    return out


def _check_nib_free(session: Session, nib: str, member_id: int | None = None) -> None:
    stmt = select(Member.id).where(Member.nib == nib)
    if member_id is not None:
        stmt = stmt.where(Member.id != member_id)
    if session.scalar(stmt) is not None:
        raise Conflict(
            N_("A business with this NIB is already registered."),
            code="duplicate_nib",
            errors={"nib": [N_("A business with this NIB is already registered.")]},
        )


def register_member(session: Session, actor: Actor, data: dict[str, Any]) -> Member:
    actor.require(Role.admin, Role.manager)
    house_id = data.get("house_id")
    if session.get(ProductionHouse, house_id) is None:
        raise ValidationFailed(
            N_("This production house does not exist."),
            errors={"house_id": [N_("This production house does not exist.")]},
        )
    if not actor.manages(house_id):
        raise Forbidden(N_("You may register members only in the houses you manage."))
    values = _normalise(data)
    _check_nib_free(session, values["nib"])
    member = Member(**values)
    session.add(member)
    session.flush()
    audit.record(session, actor, "member.registered", member, after=audit.snapshot(member))
    return member


def list_members(
    session: Session,
    actor: Actor,
    *,
    house_id: int | None = None,
    sector: str | None = None,
    search: str | None = None,
) -> Select[tuple[Member]]:
    stmt = scoped(actor, Member)
    if house_id is not None:
        stmt = stmt.where(Member.house_id == house_id)
    if sector is not None:
        stmt = stmt.where(Member.sector == Sector(sector))
    if search:
        pattern = contains_pattern(search)
        stmt = stmt.where(func.lower(Member.business_name).like(pattern, escape="\\"))
    return stmt.order_by(Member.business_name, Member.id)


def get_member(session: Session, actor: Actor, member_id: int) -> Member:
    return get_scoped(session, actor, Member, member_id)


def update_member(session: Session, actor: Actor, member_id: int, data: dict[str, Any]) -> Member:
    member = get_scoped(session, actor, Member, member_id)
    if actor.role is Role.member:
        refused = sorted(k for k in data if k not in CONTACT_FIELDS)
        if refused:
            raise Forbidden(
                N_("A member may change only its contact details."),
                errors={k: ["Only the house's manager may change this."] for k in refused},
            )
    elif not actor.manages(member.house_id):
        raise Forbidden(N_("Your role may not change this member."))
    values = _normalise(data)
    if "nib" in values:
        _check_nib_free(session, values["nib"], member.id)
    before = audit.snapshot(member)
    for key, value in values.items():
        setattr(member, key, value)
    session.flush()
    audit.record(
        session, actor, "member.updated", member, before=before, after=audit.snapshot(member)
    )
    return member
