"""Invitations into a cluster and the member's answer: the only way a member joins one.

The aggregator invites (through the cluster's `member_ids`, see `clusters`). The member's own
user accepts or declines; a manager of the house the member is registered with (or an admin)
may answer on the member's behalf, with a reason, and the answer is audited as given on its
behalf. Only a waiting invitation can be answered; answering twice is a 409.

Scope (factoryshare.access): a member reads its own invitations, a manager those of its
houses' members, an aggregator those of its clusters.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from factoryshare import audit, i18n
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.db import utcnow
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import Cluster, Role
from factoryshare.models.members import ClusterInvitation, InvitationStatus

MAX_REASON = 500


def list_invitations(
    session: Session, actor: Actor, *, status: str | None = None, cluster_id: int | None = None
) -> Select[tuple[ClusterInvitation]]:
    stmt = scoped(actor, ClusterInvitation)
    if status is not None:
        stmt = stmt.where(ClusterInvitation.status == InvitationStatus(status))
    if cluster_id is not None:
        stmt = stmt.where(ClusterInvitation.cluster_id == cluster_id)
    # Each invitation names its cluster, aggregator and member: read with the page.
    return stmt.order_by(ClusterInvitation.invited_at.desc(), ClusterInvitation.id.desc()).options(
        selectinload(ClusterInvitation.cluster).selectinload(Cluster.aggregator),
        selectinload(ClusterInvitation.member),
    )


def get_invitation(session: Session, actor: Actor, invitation_id: int) -> ClusterInvitation:
    return get_scoped(session, actor, ClusterInvitation, invitation_id)


def _reason(actor: Actor, reason: Any) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if len(text) > MAX_REASON:
        raise ValidationFailed(
            N_("The reason is too long."),
            errors={"reason": [N_("At most %(max_reason)s characters.", max_reason=MAX_REASON)]},
        )
    if actor.role is not Role.member and not text:
        message = N_("Say why you answer on the member's behalf.")
        raise ValidationFailed(message, errors={"reason": [message]})
    return text


def _answer(
    session: Session, actor: Actor, invitation_id: int, reason: Any, target: InvitationStatus
) -> ClusterInvitation:
    actor.require(Role.admin, Role.manager, Role.member)
    invitation = get_invitation(session, actor, invitation_id)
    text = _reason(actor, reason)
    # One answer per invitation, even when two arrive at once.
    session.execute(
        select(ClusterInvitation.id).where(ClusterInvitation.id == invitation.id).with_for_update()
    )
    session.refresh(invitation)
    if invitation.status is not InvitationStatus.invited:
        raise Conflict(
            N_("This invitation is already %(status)s.", status=i18n.status(invitation.status)),
            code="invalid_transition",
            details={"status": invitation.status.value},
        )
    before = audit.snapshot(invitation)
    cluster = invitation.cluster
    invitation.status = target
    invitation.decided_at = utcnow()
    invitation.decided_by_id = actor.user_id
    invitation.on_behalf = actor.role is not Role.member
    invitation.reason = text
    if target is InvitationStatus.accepted:
        if invitation.member_id not in {m.id for m in cluster.members}:
            cluster.members.append(invitation.member)
    elif cluster.chair_member_id == invitation.member_id:
        cluster.chair_member_id = None
    session.flush()
    audit.record(
        session,
        actor,
        f"cluster_invitation.{target.value}",
        invitation,
        before=before,
        after=audit.snapshot(invitation),
        house_id=invitation.member.house_id,
    )
    return invitation


def accept_invitation(
    session: Session, actor: Actor, invitation_id: int, reason: str | None = None
) -> ClusterInvitation:
    """The member joins the cluster (a manager of its house may accept for it, with a reason)."""
    return _answer(session, actor, invitation_id, reason, InvitationStatus.accepted)


def decline_invitation(
    session: Session, actor: Actor, invitation_id: int, reason: str | None = None
) -> ClusterInvitation:
    """The member stays out of the cluster (a manager of its house may decline for it)."""
    return _answer(session, actor, invitation_id, reason, InvitationStatus.declined)
