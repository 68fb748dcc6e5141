"""Clusters: an aggregator's groups of members producing in a house (KUR Klaster groups).

An aggregator creates its clusters and names the members it wants (`member_ids`): each one
not yet in the cluster gets an invitation, and joins only by accepting it (see
`cluster_invitations`). Until then the aggregator sees the invitee's name and business only.
`member_ids` is the whole wished-for membership: a member left out is taken out (refused
while the cluster has an open application or a live loan), an invitation left out is
withdrawn. The chair must be a member or an invitee. Members read the clusters they belong
to, managers the clusters producing in their houses.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from factoryshare import audit, i18n
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.db import utcnow
from factoryshare.errors import Conflict, Forbidden, NotFound, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import Aggregator, Cluster, Member, ProductionHouse, Role, Sector
from factoryshare.models.financing import LoanApplication, LoanShare, LoanStatus
from factoryshare.models.members import ClusterInvitation, InvitationStatus

# An application on its way (to the aggregator or the lender) and a loan being paid out or
# repaid hold the cluster together: nobody leaves it meanwhile.
OPEN_APPLICATION = (
    LoanStatus.submitted,
    LoanStatus.changes_requested,
    LoanStatus.approved,
    LoanStatus.lender_approved,
)
LIVE_LOAN = (LoanStatus.disbursing, LoanStatus.repaying)


def _snapshot(cluster: Cluster) -> dict[str, Any]:
    return audit.snapshot(
        cluster,
        extra={
            "member_ids": [m.id for m in cluster.members],
            "invited_member_ids": [i.member_id for i in cluster.pending_invitations],
        },
    )


def accepted_member_ids(cluster: Cluster) -> set[int]:
    return {m.id for m in cluster.members}


def _members_and_invitees(cluster: Cluster) -> set[int]:
    return accepted_member_ids(cluster) | {i.member_id for i in cluster.pending_invitations}


def pending_member_names(session: Session, cluster_id: int) -> dict[int, str]:
    """The members invited into the cluster who have not accepted: id -> business name."""
    rows = session.execute(
        select(Member.id, Member.business_name)
        .join(ClusterInvitation, ClusterInvitation.member_id == Member.id)
        .where(
            ClusterInvitation.cluster_id == cluster_id,
            ClusterInvitation.status == InvitationStatus.invited,
        )
    )
    return {mid: name for mid, name in rows}


def not_accepted_message(member_id: int, pending: dict[int, str]) -> str | None:
    """Why a member invited but not yet in the cluster cannot be part of its plan."""
    if member_id not in pending:
        return None
    return N_(
        "%(name)s (member %(id)s) has not accepted the cluster's invitation; only "
        "members who accepted can be in its plan or loan.",
        name=pending[member_id],
        id=member_id,
    )


def _members(session: Session, ids: list[int]) -> list[Member]:
    wanted = list(dict.fromkeys(ids))
    found = (
        {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(wanted)))}
        if wanted
        else {}
    )
    unknown = [i for i in wanted if i not in found]
    if unknown:
        message = N_(
            "No member business is registered with id %(ids)s.", ids=", ".join(map(str, unknown))
        )
        raise ValidationFailed(message, errors={"member_ids": [message]})
    return [found[i] for i in wanted]


def loan_holding(session: Session, cluster: Cluster, member_id: int) -> LoanApplication | None:
    """The application or loan that keeps `member_id` in the cluster, if any."""
    app = session.scalars(
        select(LoanApplication)
        .where(
            LoanApplication.cluster_id == cluster.id,
            LoanApplication.status.in_(OPEN_APPLICATION + LIVE_LOAN),
        )
        .order_by(LoanApplication.id)
    ).first()
    if app is not None:
        return app
    # A draft binds only the members whose share its plan already holds.
    return session.scalars(
        select(LoanApplication)
        .join(LoanShare, LoanShare.loan_application_id == LoanApplication.id)
        .where(
            LoanApplication.cluster_id == cluster.id,
            LoanApplication.status == LoanStatus.draft,
            LoanShare.member_id == member_id,
        )
        .order_by(LoanApplication.id)
    ).first()


def _refuse_leaving(session: Session, cluster: Cluster, member: Member) -> None:
    app = loan_holding(session, cluster, member.id)
    if app is None:
        return
    if app.status in LIVE_LOAN:
        why = N_(
            "its loan %(id)s is %(status)s: it is repaid by the whole cluster",
            id=app.id,
            status=i18n.status(app.status),
        )
    elif app.status in OPEN_APPLICATION:
        why = N_(
            "its loan application %(id)s is %(status)s", id=app.id, status=i18n.status(app.status)
        )
    else:
        why = N_(
            "the plan of its draft application %(id)s holds this member's share; take "
            "the member's requests and bookings out of the plan first",
            id=app.id,
        )
    message = N_(
        "%(business_name)s cannot leave %(cluster)s while %(why)s.",
        business_name=member.business_name,
        cluster=cluster.name,
        why=why,
    )
    raise Conflict(
        message,
        code="cluster_loan_open",
        errors={"member_ids": [message]},
        details={"loan_application_id": app.id, "status": app.status.value, "member_id": member.id},
    )


def _latest(cluster: Cluster, member_id: int, status: InvitationStatus) -> ClusterInvitation | None:
    found = [i for i in cluster.invitations if i.member_id == member_id and i.status is status]
    return found[-1] if found else None


def _take_out(session: Session, cluster: Cluster, member: Member) -> None:
    """Take an accepted member out of the cluster (refused while a loan holds it)."""
    _refuse_leaving(session, cluster, member)
    cluster.members = [m for m in cluster.members if m.id != member.id]
    invitation = _latest(cluster, member.id, InvitationStatus.accepted)
    if invitation is not None:
        invitation.status = InvitationStatus.left
        invitation.left_at = utcnow()
    if cluster.chair_member_id == member.id:
        cluster.chair_member_id = None


def _withdraw(cluster: Cluster, invitation: ClusterInvitation, actor: Actor) -> None:
    invitation.status = InvitationStatus.withdrawn
    invitation.decided_at = utcnow()
    invitation.decided_by_id = actor.user_id
    if cluster.chair_member_id == invitation.member_id:
        cluster.chair_member_id = None


def _set_membership(session: Session, actor: Actor, cluster: Cluster, wanted: list[Member]) -> None:
    """Invite the wanted members not yet in, take out or un-invite those left out."""
    wanted_ids = {m.id for m in wanted}
    for member in list(cluster.members):
        if member.id not in wanted_ids:
            _take_out(session, cluster, member)
    for invitation in cluster.pending_invitations:
        if invitation.member_id not in wanted_ids:
            _withdraw(cluster, invitation, actor)
    have = _members_and_invitees(cluster)
    for member in wanted:
        if member.id not in have:
            cluster.invitations.append(
                ClusterInvitation(
                    member=member,
                    member_id=member.id,
                    status=InvitationStatus.invited,
                    invited_by_id=actor.user_id,
                    invited_at=utcnow(),
                    on_behalf=False,
                    reason="",
                )
            )


def _record_new_invitations(
    session: Session, actor: Actor, cluster: Cluster, known: set[int]
) -> None:
    session.flush()
    for invitation in cluster.invitations:
        if invitation.id not in known:
            audit.record(
                session,
                actor,
                "cluster_invitation.created",
                invitation,
                after=audit.snapshot(invitation),
                house_id=invitation.member.house_id,
            )


def _apply(session: Session, actor: Actor, cluster: Cluster, data: dict[str, Any]) -> None:
    if "name" in data:
        name = data["name"].strip()
        if not name:
            raise ValidationFailed(
                N_("A cluster needs a name."), errors={"name": [N_("May not be blank.")]}
            )
        cluster.name = name
    if "sector" in data:
        cluster.sector = Sector(data["sector"])
    if "house_id" in data:
        house_id = data["house_id"]
        if house_id is not None and session.get(ProductionHouse, house_id) is None:
            raise ValidationFailed(
                N_("This production house does not exist."),
                errors={"house_id": [N_("This production house does not exist.")]},
            )
        cluster.house_id = house_id
    if "member_ids" in data:
        _set_membership(session, actor, cluster, _members(session, data["member_ids"]))
    if "chair_member_id" in data:
        cluster.chair_member_id = data["chair_member_id"]
    if cluster.chair_member_id is not None and cluster.chair_member_id not in _members_and_invitees(
        cluster
    ):
        message = N_("The chair must be one of the cluster's members or invitees.")
        raise ValidationFailed(message, errors={"chair_member_id": [message]})


def _check_name_free(
    session: Session, aggregator_id: int, name: str, cluster_id: int | None
) -> None:
    stmt = select(Cluster.id).where(Cluster.aggregator_id == aggregator_id, Cluster.name == name)
    if cluster_id is not None:
        stmt = stmt.where(Cluster.id != cluster_id)
    if session.scalar(stmt) is not None:
        message = N_("You already have a cluster with this name.")
        raise Conflict(message, code="duplicate_cluster", errors={"name": [message]})


def create_cluster(session: Session, actor: Actor, data: dict[str, Any]) -> Cluster:
    actor.require(Role.admin, Role.aggregator)
    if actor.role is Role.aggregator:
        aggregator_id = actor.aggregator_id
    else:
        aggregator_id = data.get("aggregator_id")
        if aggregator_id is None or session.get(Aggregator, aggregator_id) is None:
            raise ValidationFailed(
                N_("Say which aggregator the cluster belongs to."),
                errors={"aggregator_id": [N_("Give an existing aggregator.")]},
            )
    cluster = Cluster(aggregator_id=aggregator_id, members=[], invitations=[])
    with session.no_autoflush:
        _apply(session, actor, cluster, {"member_ids": [], **data})
        _check_name_free(session, cluster.aggregator_id, cluster.name, None)
    session.add(cluster)
    session.flush()
    audit.record(session, actor, "cluster.created", cluster, after=_snapshot(cluster))
    _record_new_invitations(session, actor, cluster, set())
    return cluster


def update_cluster(
    session: Session, actor: Actor, cluster_id: int, data: dict[str, Any]
) -> Cluster:
    actor.require(Role.admin, Role.aggregator)
    cluster = get_scoped(session, actor, Cluster, cluster_id)
    before = _snapshot(cluster)
    known = {i.id for i in cluster.invitations}
    with session.no_autoflush:
        _apply(session, actor, cluster, data)
        _check_name_free(session, cluster.aggregator_id, cluster.name, cluster.id)
    session.flush()
    audit.record(
        session, actor, "cluster.updated", cluster, before=before, after=_snapshot(cluster)
    )
    _record_new_invitations(session, actor, cluster, known)
    return cluster


def list_clusters(
    session: Session, actor: Actor, *, house_id: int | None = None, sector: str | None = None
) -> Select[tuple[Cluster]]:
    stmt = scoped(actor, Cluster)
    if house_id is not None:
        stmt = stmt.where(Cluster.house_id == house_id)
    if sector is not None:
        stmt = stmt.where(Cluster.sector == Sector(sector))
    # Each cluster lists its members and its pending invitees by name: read with the page.
    return stmt.order_by(Cluster.name, Cluster.id).options(
        selectinload(Cluster.members),
        selectinload(Cluster.invitations).selectinload(ClusterInvitation.member),
    )


def get_cluster(session: Session, actor: Actor, cluster_id: int) -> Cluster:
    return get_scoped(session, actor, Cluster, cluster_id)


def delete_cluster(session: Session, actor: Actor, cluster_id: int) -> None:
    actor.require(Role.admin, Role.aggregator)
    cluster = get_scoped(session, actor, Cluster, cluster_id)
    before = _snapshot(cluster)
    try:
        with session.begin_nested():
            session.delete(cluster)
            session.flush()
    except IntegrityError:
        raise Conflict(
            N_("This cluster still has agreements or loans; it stays."), code="cluster_in_use"
        ) from None
    audit.record(
        session,
        actor,
        "cluster.deleted",
        object_type="clusters",
        object_id=cluster_id,
        before=before,
    )


def remove_member(session: Session, actor: Actor, cluster_id: int, member_id: int) -> Cluster:
    """A member leaves the cluster, or its aggregator takes the member out (or withdraws the
    member's invitation). Refused while the cluster has an open application or a live loan."""
    actor.require(Role.admin, Role.aggregator, Role.member)
    cluster = get_scoped(session, actor, Cluster, cluster_id)
    if actor.role is Role.member and member_id != actor.member_id:
        raise Forbidden(N_("A member can only take itself out of a cluster."))
    before = _snapshot(cluster)
    member = next((m for m in cluster.members if m.id == member_id), None)
    if member is not None:
        _take_out(session, cluster, member)
        action = "cluster.member_left" if actor.role is Role.member else "cluster.member_removed"
    else:
        invitation = next(
            (i for i in cluster.pending_invitations if i.member_id == member_id), None
        )
        if invitation is None:
            raise NotFound(N_("Member %(member_id)s is not in this cluster.", member_id=member_id))
        _withdraw(cluster, invitation, actor)
        action = "cluster.invitation_withdrawn"
    session.flush()
    audit.record(
        session,
        actor,
        action,
        cluster,
        before=before,
        after={**_snapshot(cluster), "member_id": member_id},
    )
    return cluster
