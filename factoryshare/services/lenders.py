"""Lenders: the banks and cooperatives that decide KUR credit, kept by admins.

An admin creates a lender institution (name, kind bank/cooperative) and its credit officers'
accounts (users with role `lender` and the institution's `lender_id`). Aggregators and
cluster chairs read the list to choose the lender an application is put to; a lender's
officer reads its own institution only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from factoryshare import audit
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import Role, User
from factoryshare.models.financing import Lender, LenderKind, LoanApplication


def _clean_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed(
            N_("The lender needs a name."), errors={"name": [N_("Give a name.")]}
        )
    return name.strip()


def _kind(kind: Any) -> LenderKind:
    try:
        return LenderKind(kind)
    except ValueError:
        raise ValidationFailed(
            N_("Unknown kind of lender."), errors={"kind": [N_("Must be bank or cooperative.")]}
        ) from None


def _name_taken(session: Session, name: str, but: int | None = None) -> None:
    stmt = select(Lender.id).where(func.lower(Lender.name) == name.lower())
    if but is not None:
        stmt = stmt.where(Lender.id != but)
    if session.scalar(stmt) is not None:
        message = N_("A lender named %(name)s already exists.", name=name)
        raise Conflict(message, code="lender_name_taken", errors={"name": [message]})


def create_lender(session: Session, actor: Actor, *, name: str, kind: str | LenderKind) -> Lender:
    actor.require(Role.admin)
    name = _clean_name(name)
    lender = Lender(name=name, kind=_kind(kind))
    _name_taken(session, name)
    session.add(lender)
    session.flush()
    audit.record(session, actor, "lender.created", lender, after=audit.snapshot(lender))
    return lender


def list_lenders(session: Session, actor: Actor) -> Select[tuple[Lender]]:
    """The lenders in scope, by name (a statement: the API pages through it)."""
    return scoped(actor, Lender).order_by(Lender.name, Lender.id)


def get_lender(session: Session, actor: Actor, lender_id: int) -> Lender:
    return get_scoped(session, actor, Lender, lender_id)


def update_lender(
    session: Session, actor: Actor, lender_id: int, changes: dict[str, Any]
) -> Lender:
    actor.require(Role.admin)
    lender = get_scoped(session, actor, Lender, lender_id)
    before = audit.snapshot(lender)
    if "name" in changes:
        name = _clean_name(changes["name"])
        _name_taken(session, name, but=lender.id)
        lender.name = name
    if "kind" in changes:
        lender.kind = _kind(changes["kind"])
    session.flush()
    audit.record(
        session, actor, "lender.updated", lender, before=before, after=audit.snapshot(lender)
    )
    return lender


def delete_lender(session: Session, actor: Actor, lender_id: int) -> None:
    """Only a lender no account and no application refers to can go (409 lender_in_use)."""
    actor.require(Role.admin)
    lender = get_scoped(session, actor, Lender, lender_id)
    users = session.scalar(
        select(func.count()).select_from(User).where(User.lender_id == lender.id)
    )
    apps = session.scalar(
        select(func.count())
        .select_from(LoanApplication)
        .where(LoanApplication.lender_id == lender.id)
    )
    if users or apps:
        raise Conflict(
            N_(
                "%(lender)s still has %(users)s account(s) and %(apps)s application(s).",
                lender=lender.name,
                users=users,
                apps=apps,
            ),
            code="lender_in_use",
            details={"users": users, "applications": apps},
        )
    before = audit.snapshot(lender)
    session.delete(lender)
    session.flush()
    audit.record(session, actor, "lender.deleted", lender, before=before)


def require_lender(session: Session, lender_id: Any, field: str = "lender_id") -> Lender:
    """The lender with this id (any caller may name one), or 422 naming `field`."""
    lender = session.get(Lender, lender_id) if isinstance(lender_id, int) else None
    if lender is None:
        raise ValidationFailed(
            N_("No such lender."),
            errors={field: [N_("No lender with id %(lender_id)s.", lender_id=lender_id)]},
        )
    return lender
