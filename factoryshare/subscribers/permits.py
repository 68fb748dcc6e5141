"""Permits: a member hears that the house's manager (or an admin) rejected its permit entry,
with the reason, so that it can correct it; the one who rejected it hears nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from factoryshare.access import Actor
from factoryshare.models import Member, Product
from factoryshare.services.notifications import notify
from factoryshare.subscribers import by, member_users, people


def on_permit_verification_rejected(
    session: Session,
    *,
    permit: Any,
    reason: str | None = None,
    actor: Actor | None = None,
    **_: Any,
) -> None:
    user_ids = people(member_users(session, [permit.member_id]), actor)
    if not user_ids:
        return
    product = session.get(Product, permit.product_id) if permit.product_id else None
    member = session.get(Member, permit.member_id)
    subject = product.name if product is not None else (member.business_name if member else "")
    notify(
        session,
        user_ids=user_ids,
        template="permit_rejected",
        context={
            "permit": permit.permit_type.name,
            "number": permit.number or None,
            "product": subject,
            "reason": reason,
            **by(session, actor),
        },
    )
