"""A member's permits: record, list, change, delete; their verification by the house."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from factoryshare import audit, events, locking
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.db import utcnow
from factoryshare.errors import Forbidden, InvalidTransition
from factoryshare.i18n import N_
from factoryshare.models import Member, Product, Role
from factoryshare.models.permits import (
    Permit,
    PermitLevel,
    PermitStatus,
    PermitType,
    PermitVerification,
)
from factoryshare.services.permits.core import (
    entered_by,
    fail,
    keep_members,
    may_write,
    set_verification,
)
from factoryshare.services.permits.numbers import check_dates, validate_number
from factoryshare.services.permits.state import state

# -- permits ----------------------------------------------------------------------------------

PERMIT_FIELDS = ("number", "issuer", "issued_on", "expires_on", "status")
# What a verifier checks: a change of any of these (or of the document) needs a new check.
CHECKED_FIELDS = ("number", "issued_on", "expires_on")


def _apply(session: Session, permit: Permit, ptype: PermitType, data: dict[str, Any]) -> None:
    for key in PERMIT_FIELDS:
        if key in data:
            value = data[key]
            if key == "status":
                try:
                    value = PermitStatus(value)
                except ValueError:
                    raise fail("status", N_("Choose pending, active or needs_review.")) from None
            setattr(
                permit,
                key,
                value if value is not None or key in ("issued_on", "expires_on") else "",
            )
    if permit.status is not PermitStatus.pending or permit.number:
        permit.number = validate_number(ptype.code, permit.number or "", permit.expires_on)
    check_dates(ptype, permit.status, permit.issued_on, permit.expires_on)
    if not permit.issuer:
        permit.issuer = ptype.issuer


def create_permit(session: Session, actor: Actor, data: dict[str, Any]) -> Permit:
    product: Product | None = None
    if data.get("product_id") is not None:
        product = get_scoped(session, actor, Product, data["product_id"])
        member_id: int | None = product.member_id
    else:
        member_id = data.get("member_id") or (
            actor.member_id if actor.role is Role.member else None
        )
    if member_id is None:
        raise fail("member_id", N_("Say whose permit this is (member_id or product_id)."))
    member = get_scoped(session, actor, Member, member_id)
    may_write(session, actor, member)
    ptype = session.scalars(
        select(PermitType).where(PermitType.code == data.get("permit_type"))
    ).first()
    if ptype is None:
        raise fail(
            "permit_type",
            N_("No permit type is called %(value)s.", value=repr(data.get("permit_type"))),
        )
    if ptype.level is PermitLevel.product and product is None:
        raise fail(
            "product_id", N_("A %(ptype)s belongs to a product: give product_id.", ptype=ptype.name)
        )
    if ptype.level is PermitLevel.business and product is not None:
        raise fail(
            "product_id",
            N_("A %(ptype)s belongs to the business: leave product_id out.", ptype=ptype.name),
        )
    permit = Permit(
        member_id=member.id,
        product_id=product.id if product else None,
        permit_type_id=ptype.id,
        permit_type=ptype,
        number="",
        issuer="",
        status=PermitStatus.active,
        reminders_sent=[],
    )
    _apply(session, permit, ptype, data)
    entered_by(actor, permit, member, utcnow())
    session.add(permit)
    session.flush()
    permit.last_state = state(session, permit)
    audit.record(session, actor, "permit.created", permit, after=audit.snapshot(permit))
    return permit


def list_permits(
    session: Session,
    actor: Actor,
    *,
    member_id: int | None = None,
    product_id: int | None = None,
    permit_type: str | None = None,
    state_filter: str | None = None,
    verification: str | None = None,
) -> list[Permit]:
    stmt = scoped(actor, Permit)
    if verification is not None:
        stmt = stmt.where(Permit.verification == PermitVerification(verification))
    if member_id is not None:
        stmt = stmt.where(Permit.member_id == member_id)
    if product_id is not None:
        stmt = stmt.where(Permit.product_id == product_id)
    if permit_type is not None:
        stmt = stmt.where(
            Permit.permit_type_id.in_(select(PermitType.id).where(PermitType.code == permit_type))
        )
    permits = list(
        session.scalars(
            stmt.order_by(Permit.expires_on, Permit.id).options(
                joinedload(Permit.permit_type), selectinload(Permit.verification_records)
            )
        )
    )
    keep_members(session, (p.member_id for p in permits))
    if state_filter is not None:
        permits = [p for p in permits if state(session, p) == state_filter]
    return permits


def get_permit(session: Session, actor: Actor, permit_id: int) -> Permit:
    return get_scoped(session, actor, Permit, permit_id)


def update_permit(session: Session, actor: Actor, permit_id: int, data: dict[str, Any]) -> Permit:
    permit = get_permit(session, actor, permit_id)
    member = session.get(Member, permit.member_id)
    assert member is not None
    may_write(session, actor, member)
    clears_review = (
        permit.status is PermitStatus.needs_review
        and "status" in data
        and data["status"] != PermitStatus.needs_review.value
    )
    note = (data.get("note") or "").strip()
    if clears_review:
        _check_review_clearance(actor, member, note)
    before = audit.snapshot(permit)
    old_expiry = permit.expires_on
    old_checked = {k: getattr(permit, k) for k in CHECKED_FIELDS}
    was_pending = permit.status is PermitStatus.pending
    _apply(session, permit, permit.permit_type, data)
    if permit.status is not PermitStatus.needs_review:
        permit.review_reason = None
    if permit.expires_on != old_expiry:
        permit.reminders_sent = []  # a renewed permit gets its reminders again
    if any(getattr(permit, k) != v for k, v in old_checked.items()) or (
        was_pending and permit.status is PermitStatus.active
    ):
        entered_by(actor, permit, member, utcnow())
    permit.last_state = state(session, permit)
    session.flush()
    audit.record(
        session, actor, "permit.updated", permit, before=before, after=audit.snapshot(permit)
    )
    if clears_review:
        audit.record(
            session,
            actor,
            "permit.review_cleared",
            permit,
            before=before,
            after=audit.snapshot(permit, extra={"note": note}),
        )
    return permit


# -- verification -----------------------------------------------------------------------------


def _for_verification(session: Session, actor: Actor, permit_id: int) -> Permit:
    """The permit locked for a verification decision: members and aggregators get 403, a
    permit outside the caller's scope 404."""
    actor.require(Role.admin, Role.manager)
    permit = locking.for_update(session, actor, Permit, permit_id)
    member = session.get(Member, permit.member_id)
    assert member is not None
    if not actor.manages(member.house_id):
        raise Forbidden(N_("Only a manager of the member's house or an admin checks its permits."))
    return permit


def _decide(
    session: Session,
    actor: Actor,
    permit: Permit,
    to: PermitVerification,
    note: str | None,
    now: dt.datetime | None,
) -> dict[str, Any]:
    before = audit.snapshot(permit)
    set_verification(permit, actor, to, note, now)
    session.flush()
    return before


def verify_permit(
    session: Session,
    actor: Actor,
    permit_id: int,
    *,
    note: str = "",
    now: dt.datetime | None = None,
) -> Permit:
    """A manager of the member's house or an admin checked the number and document: the
    permit counts at the gate from now on (audited `permit.verified`)."""
    permit = _for_verification(session, actor, permit_id)
    if permit.verification is PermitVerification.verified:
        raise InvalidTransition(
            N_("This permit is verified already."),
            details={"action": "verify", "verification": permit.verification.value},
        )
    before = _decide(session, actor, permit, PermitVerification.verified, (note or "").strip(), now)
    audit.record(
        session,
        actor,
        "permit.verified",
        permit,
        before=before,
        after=audit.snapshot(permit, extra={"note": (note or "").strip()}),
    )
    return permit


def reject_permit(
    session: Session, actor: Actor, permit_id: int, *, reason: str, now: dt.datetime | None = None
) -> Permit:
    """The number or document does not hold up: the permit is `rejected` (never counts) until
    the member corrects it; the member is told (event `permit_verification_rejected`)."""
    permit = _for_verification(session, actor, permit_id)
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise fail(
            "reason", N_("Say what is wrong with the permit, so that the member can fix it.")
        )
    if permit.verification is PermitVerification.rejected:
        raise InvalidTransition(
            N_("This permit is rejected already."),
            details={"action": "reject", "verification": permit.verification.value},
        )
    before = _decide(session, actor, permit, PermitVerification.rejected, reason, now)
    audit.record(
        session,
        actor,
        "permit.verification_rejected",
        permit,
        before=before,
        after=audit.snapshot(permit, extra={"reason": reason}),
    )
    events.publish(
        session, "permit_verification_rejected", permit=permit, reason=reason, actor=actor
    )
    return permit


def _check_review_clearance(actor: Actor, member: Member, note: str) -> None:
    if not (actor.role in (Role.admin, Role.manager) and actor.manages(member.house_id)):
        raise Forbidden(
            N_(
                "Only a manager of the member's house or an admin may mark a halal "
                "certificate in review as valid again."
            )
        )
    if len(note) < 5:
        raise fail("note", N_("Say why the certificate still holds after the change."))


def clear_review(session: Session, actor: Actor, permit_id: int, *, note: str) -> Permit:
    """A manager of the member's house or an admin marks a certificate in `needs_review` as
    active again, with a note (audited `permit.review_cleared`)."""
    permit = get_permit(session, actor, permit_id)
    member = session.get(Member, permit.member_id)
    assert member is not None
    _check_review_clearance(actor, member, (note or "").strip())
    permit = locking.refresh_for_update(session, permit)
    if permit.status is not PermitStatus.needs_review:
        raise InvalidTransition(
            N_("This permit is not waiting for a review."),
            details={"action": "clear_review", "status": permit.status.value},
        )
    return update_permit(
        session, actor, permit.id, {"status": PermitStatus.active.value, "note": note}
    )


def delete_permit(session: Session, actor: Actor, permit_id: int) -> None:
    permit = get_permit(session, actor, permit_id)
    member = session.get(Member, permit.member_id)
    assert member is not None
    may_write(session, actor, member)
    before = audit.snapshot(permit)
    session.delete(permit)
    session.flush()
    audit.record(
        session, actor, "permit.deleted", object_type="permits", object_id=permit_id, before=before
    )
